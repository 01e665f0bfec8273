//! Reading QR codes the way a phone would: rqrr on the PNG, or on the
//! SVG's module squares rasterised.

/// The text of the one QR code in a PNG (grey or colour), read by an
/// ordinary QR reader (rqrr).
pub fn decode_png(png_bytes: &[u8]) -> String {
    let mut decoder = png::Decoder::new(std::io::Cursor::new(png_bytes));
    decoder.set_transformations(png::Transformations::EXPAND);
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).unwrap();
    let (w, h, line) = (info.width as usize, info.height as usize, info.line_size);
    let bytes_per_pixel = line / w;
    let mut img = rqrr::PreparedImage::prepare_from_greyscale(w, h, |x, y| {
        if buf[y * line + x * bytes_per_pixel] == 0 {
            0
        } else {
            255
        }
    });
    let grids = img.detect_grids();
    assert_eq!(grids.len(), 1, "one QR code");
    grids[0].decode().unwrap().1
}

/// Rasterises the SVG's module squares (8 px each) and decodes them.
pub fn decode_svg(svg: &str) -> String {
    let view: Vec<usize> = svg
        .split("viewBox=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .split(' ')
        .map(|n| n.parse().unwrap())
        .collect();
    let modules = view[2];
    let path = svg
        .split(" d=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap();
    let dark: std::collections::HashSet<(usize, usize)> = path
        .split('M')
        .filter(|s| !s.is_empty())
        .map(|cmd| {
            let xy = cmd.split('h').next().unwrap();
            let (x, y) = xy.split_once(',').unwrap();
            (x.parse().unwrap(), y.parse().unwrap())
        })
        .collect();
    let px = 8;
    let size = modules * px;
    let mut image = rqrr::PreparedImage::prepare_from_greyscale(size, size, |x, y| {
        if dark.contains(&(x / px, y / px)) {
            0
        } else {
            255
        }
    });
    let grids = image.detect_grids();
    assert_eq!(grids.len(), 1);
    grids[0].decode().unwrap().1
}

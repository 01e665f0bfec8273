//! QR codes for otpauth URIs, as PNG and SVG: error correction M and a
//! quiet zone of four modules, as ISO/IEC 18004 asks for reliable scanning.
//! The symbol of a text is encoded once and kept while recent (see
//! `symbols`); each image is then drawn from it.

mod symbols;

use qrcodegen::QrCode;

pub const QUIET_ZONE: i32 = 4;
pub const DEFAULT_SIZE: u32 = 320;
pub const MIN_SIZE: u32 = 120;
pub const MAX_SIZE: u32 = 1200;

/// The image formats a QR code is served in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Png,
    Svg,
}

impl Format {
    pub fn content_type(self) -> &'static str {
        match self {
            Self::Png => "image/png",
            Self::Svg => "image/svg+xml",
        }
    }

    /// The file extension, as in the `qr.png` and `qr.svg` paths.
    pub fn extension(self) -> &'static str {
        match self {
            Self::Png => "png",
            Self::Svg => "svg",
        }
    }
}

/// `size` (or the default) when it is within bounds: smaller is hard to
/// scan, larger only costs work on a request anyone holding a token can make.
pub fn checked_size(size: Option<u32>) -> Option<u32> {
    Some(size.unwrap_or(DEFAULT_SIZE)).filter(|size| (MIN_SIZE..=MAX_SIZE).contains(size))
}

/// `text` as a QR image in `format`, about `size` pixels wide.
pub fn render(text: &str, format: Format, size: u32) -> Result<Vec<u8>, String> {
    let qr = symbols::shared().get(text)?;
    match format {
        Format::Png => png_of(&qr, size),
        Format::Svg => Ok(svg_of(&qr, size).into_bytes()),
    }
}

/// A 1-bit greyscale PNG about `size` pixels wide (whole pixels per module).
pub fn png(text: &str, size: u32) -> Result<Vec<u8>, String> {
    png_of(&*symbols::shared().get(text)?, size)
}

fn png_of(qr: &QrCode, size: u32) -> Result<Vec<u8>, String> {
    let modules = qr.size() + 2 * QUIET_ZONE;
    let scale = (size / modules.unsigned_abs()).max(1);
    let width = modules.unsigned_abs() * scale;
    let row_bytes = width.div_ceil(8) as usize;
    let mut pixels = vec![0u8; row_bytes * width as usize];
    // Each row of modules is one row of pixels drawn once, then copied.
    for (my, band) in pixels
        .chunks_exact_mut(row_bytes * scale as usize)
        .enumerate()
    {
        let (row, copies) = band.split_at_mut(row_bytes);
        let my = my as i32 - QUIET_ZONE;
        for (mx, left) in (0..modules).zip((0..width).step_by(scale as usize)) {
            // 1 = white; get_module is false outside the symbol (quiet zone).
            if !qr.get_module(mx - QUIET_ZONE, my) {
                for x in left..left + scale {
                    row[(x / 8) as usize] |= 0x80 >> (x % 8);
                }
            }
        }
        for copy in copies.chunks_exact_mut(row_bytes) {
            copy.copy_from_slice(row);
        }
    }
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, width, width);
    encoder.set_color(png::ColorType::Grayscale);
    encoder.set_depth(png::BitDepth::One);
    // Up turns every copied row into zeros, which the fast compressor
    // shrinks to almost nothing: a third of the bytes of Sub at 320 px, a
    // ninth at 1200, in less time.
    encoder.set_filter(png::FilterType::Up);
    encoder.set_compression(png::Compression::Fast);
    let mut writer = encoder.write_header().map_err(|e| e.to_string())?;
    writer
        .write_image_data(&pixels)
        .map_err(|e| e.to_string())?;
    writer.finish().map_err(|e| e.to_string())?;
    Ok(out)
}

/// An SVG with one path of dark modules on a white background.
pub fn svg(text: &str, size: u32) -> Result<String, String> {
    Ok(svg_of(&*symbols::shared().get(text)?, size))
}

fn svg_of(qr: &QrCode, size: u32) -> String {
    use std::fmt::Write as _;

    let modules = qr.size() + 2 * QUIET_ZONE;
    // About half the modules are dark, each about 16 bytes of path.
    let dark_guess = (qr.size() * qr.size()).unsigned_abs() as usize / 2;
    let mut out = String::with_capacity(400 + 16 * dark_guess);
    // Writing into a String cannot fail.
    let _ = write!(
        out,
        concat!(
            r#"<?xml version="1.0" encoding="UTF-8"?>"#,
            r#"<svg xmlns="http://www.w3.org/2000/svg" version="1.1" width="{size}" height="{size}" viewBox="0 0 {m} {m}" shape-rendering="crispEdges">"#,
            r##"<rect width="100%" height="100%" fill="#ffffff"/>"##,
            r#"<path d=""#,
        ),
        size = size,
        m = modules,
    );
    for y in 0..qr.size() {
        for x in 0..qr.size() {
            if qr.get_module(x, y) {
                let _ = write!(out, "M{},{}h1v1h-1z", x + QUIET_ZONE, y + QUIET_ZONE);
            }
        }
    }
    out.push_str(concat!(r##"" fill="#000000"/>"##, "</svg>\n"));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn png_has_a_quiet_zone_and_the_requested_scale() {
        let bytes = png("otpauth://totp/x:y?secret=AAAA", 320).unwrap();
        let decoder = png::Decoder::new(bytes.as_slice());
        let reader = decoder.read_info().unwrap();
        let info = reader.info();
        assert!(info.width <= 320 && info.width >= 200, "{}", info.width);
        assert_eq!(info.width, info.height);
    }

    #[test]
    fn every_png_pixel_is_its_module() {
        let text = "otpauth://totp/x:y?secret=JBSWY3DPEHPK3PXP&issuer=x";
        let qr = symbols::shared().get(text).unwrap();
        let bytes = png(text, 1000).unwrap();
        let mut reader = png::Decoder::new(bytes.as_slice()).read_info().unwrap();
        let mut buf = vec![0; reader.output_buffer_size()];
        let frame = reader.next_frame(&mut buf).unwrap();
        let scale = frame.width / (qr.size() + 2 * QUIET_ZONE).unsigned_abs();
        for y in 0..frame.height {
            for x in 0..frame.width {
                let white =
                    buf[(y as usize) * frame.line_size + (x / 8) as usize] & (0x80 >> (x % 8));
                let (mx, my) = (
                    (x / scale) as i32 - QUIET_ZONE,
                    (y / scale) as i32 - QUIET_ZONE,
                );
                assert_eq!(white == 0, qr.get_module(mx, my), "pixel {x},{y}");
            }
        }
    }

    #[test]
    fn svg_is_a_self_contained_document() {
        let svg = svg("otpauth://totp/x:y?secret=AAAA", 256).unwrap();
        assert!(svg.starts_with("<?xml"));
        assert!(svg.contains(r#"width="256""#));
        assert!(svg.contains("<path d=\"M"));
    }

    #[test]
    fn sizes_outside_the_bounds_are_refused() {
        assert_eq!(checked_size(None), Some(DEFAULT_SIZE));
        assert_eq!(checked_size(Some(MIN_SIZE)), Some(MIN_SIZE));
        assert_eq!(checked_size(Some(MAX_SIZE)), Some(MAX_SIZE));
        assert_eq!(checked_size(Some(MIN_SIZE - 1)), None);
        assert_eq!(checked_size(Some(MAX_SIZE + 1)), None);
    }
}

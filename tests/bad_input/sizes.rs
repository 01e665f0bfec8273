//! Bodies too large for the limit, streamed or honest, and bodies that are not JSON: 413 and 415 before any parsing.

use super::*;

/// A hand-made HTTP/1.1 response: status, lower-cased headers, body.
struct RawAnswer {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl RawAnswer {
    fn header(&self, name: &str) -> &str {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map_or("", |(_, v)| v.as_str())
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }
}

/// POSTs `chunks` with `Transfer-Encoding: chunked` and no `Content-Length`
/// over a raw socket (reqwest is built without its `stream` feature, so it
/// cannot send a chunked body). The body is written from another thread
/// while this one reads, so an early answer is read before the server
/// closes the connection on the rest of the upload.
async fn post_chunked(addr: SocketAddr, path: &str, chunks: Vec<Vec<u8>>) -> RawAnswer {
    let path = path.to_owned();
    actix_web::rt::task::spawn_blocking(move || {
        let mut stream = TcpStream::connect(addr).expect("connect");
        stream
            .set_read_timeout(Some(Duration::from_secs(20)))
            .expect("timeout");
        let mut writer = stream.try_clone().expect("clone socket");
        let upload = std::thread::spawn(move || {
            let head = format!(
                "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n\
                 Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
            );
            writer.write_all(head.as_bytes())?;
            for chunk in chunks {
                writer.write_all(format!("{:x}\r\n", chunk.len()).as_bytes())?;
                writer.write_all(&chunk)?;
                writer.write_all(b"\r\n")?;
                writer.flush()?;
            }
            writer.write_all(b"0\r\n\r\n")?;
            writer.flush()
        });
        let mut raw = Vec::new();
        let mut buf = [0u8; 8192];
        loop {
            match stream.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => raw.extend_from_slice(&buf[..n]),
                // A reset after the answer arrived: keep what was read.
                Err(_) if !raw.is_empty() => break,
                Err(e) => panic!("reading the answer: {e}"),
            }
            if complete(&raw) {
                break;
            }
        }
        // The upload may fail once the server hung up; that is allowed.
        let _ = stream.shutdown(std::net::Shutdown::Both);
        let _ = upload.join();
        parse_raw(&raw)
    })
    .await
    .expect("chunked request")
}

fn split_head(raw: &[u8]) -> Option<(&[u8], &[u8])> {
    raw.windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|i| (&raw[..i], &raw[i + 4..]))
}

fn content_length(head: &[u8]) -> Option<usize> {
    String::from_utf8_lossy(head).lines().find_map(|line| {
        let (name, value) = line.split_once(':')?;
        name.trim()
            .eq_ignore_ascii_case("content-length")
            .then(|| value.trim().parse().ok())?
    })
}

/// Whether `raw` holds a whole response with a `Content-Length`.
fn complete(raw: &[u8]) -> bool {
    split_head(raw)
        .is_some_and(|(head, body)| content_length(head).is_some_and(|n| body.len() >= n))
}

fn parse_raw(raw: &[u8]) -> RawAnswer {
    let (head, body) = split_head(raw)
        .unwrap_or_else(|| panic!("no HTTP answer: {:?}", String::from_utf8_lossy(raw)));
    let head = String::from_utf8_lossy(head);
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("bad status line: {head}"));
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let body = match content_length(head.as_bytes()) {
        Some(n) => body[..n.min(body.len())].to_vec(),
        None => body.to_vec(),
    };
    RawAnswer {
        status,
        headers,
        body,
    }
}

#[actix_web::test]
async fn a_body_over_64_kib_with_an_honest_content_length_is_413() {
    let t = TestApp::spawn().await;
    assert_eq!(JSON_LIMIT, 64 * 1024);

    // Exactly at the limit the body is read and judged on its content.
    let a = post_bytes(&t, "/v1/auth/login", login_body_of(JSON_LIMIT)).await;
    assert_invalid_field(&a, "email");

    for len in [JSON_LIMIT + 1, 70 * 1024, 1024 * 1024] {
        let a = post_bytes(&t, "/v1/auth/login", login_body_of(len)).await;
        a.problem(413, "payload_too_large");
    }
    let admin = t.account("Acme").await;
    let access = t.access_token(&admin).await;
    for path in JSON_ROUTES {
        let a = send(
            &t,
            Method::POST,
            path,
            Some(&access),
            Some("application/json"),
            login_body_of(JSON_LIMIT + 100),
        )
        .await;
        a.problem(413, "payload_too_large");
    }
    t.get("/v1/me", Some(&access)).await.ok();
}

#[actix_web::test]
async fn a_chunked_body_over_64_kib_without_content_length_is_413() {
    let t = TestApp::spawn().await;

    // A small chunked body is read like any other.
    let small = br#"{"email": "ada@example.com"}"#;
    let chunks = small.chunks(5).map(<[u8]>::to_vec).collect();
    let a = post_chunked(t.addr, "/v1/auth/login", chunks).await;
    assert_eq!(a.status, 200, "{:?}", String::from_utf8_lossy(&a.body));
    assert_eq!(a.json()["status"], "password_required");

    // One byte over the limit, in 4 KiB chunks.
    let body = login_body_of(JSON_LIMIT + 1);
    let a = post_chunked(
        t.addr,
        "/v1/auth/login",
        body.chunks(4096).map(<[u8]>::to_vec).collect(),
    )
    .await;
    assert_eq!(a.status, 413, "{:?}", String::from_utf8_lossy(&a.body));
    assert_eq!(a.header("content-type"), "application/problem+json");
    assert_eq!(a.json()["code"], "payload_too_large");

    // Far over the limit, in 64 KiB chunks: refused without reading it all.
    let body = login_body_of(4 * 1024 * 1024);
    let a = post_chunked(
        t.addr,
        "/v1/auth/login/password",
        body.chunks(64 * 1024).map(<[u8]>::to_vec).collect(),
    )
    .await;
    assert_eq!(a.status, 413, "{:?}", String::from_utf8_lossy(&a.body));
    assert_eq!(a.json()["code"], "payload_too_large");

    // The server still answers afterwards.
    assert_eq!(t.get("/healthz", None).await.status, 200);
}

#[actix_web::test]
async fn a_body_that_is_not_labelled_json_is_415() {
    let t = TestApp::spawn().await;
    let body = br#"{"email": "ada@example.com"}"#.to_vec();
    for path in JSON_ROUTES.iter().take(3) {
        for ct in [
            Some("text/plain"),
            Some("text/plain; charset=utf-8"),
            Some("application/x-www-form-urlencoded"),
            Some("multipart/form-data; boundary=x"),
            Some("application/xml"),
            Some("application/octet-stream"),
            Some("application/jsonp"),
            Some("json"),
            Some(""),
            None,
        ] {
            let a = send(&t, Method::POST, path, None, ct, body.clone()).await;
            assert_eq!(a.status, 415, "{path} {ct:?}: {}", a.text);
            a.problem(415, "unsupported_media_type");
        }
    }
    // A form post of the same data.
    let a = send(
        &t,
        Method::POST,
        "/v1/auth/login",
        None,
        Some("application/x-www-form-urlencoded"),
        b"email=ada%40example.com".to_vec(),
    )
    .await;
    a.problem(415, "unsupported_media_type");
}

#[actix_web::test]
async fn json_with_parameters_or_a_plus_json_suffix_is_accepted() {
    let t = TestApp::spawn().await;
    let body = br#"{"email": "ada@example.com"}"#.to_vec();
    for ct in [
        "application/json",
        "application/json; charset=utf-8",
        "application/json;charset=UTF-8",
        "application/merge-patch+json",
        "application/vnd.twofold.v1+json",
        "application/problem+json",
    ] {
        let a = t
            .raw(Method::POST, "/v1/auth/login", ct, body.clone())
            .await;
        assert_eq!(a.status, 200, "{ct}: {}", a.text);
        assert_eq!(a.json["status"], "password_required", "{ct}");
    }
    // A `+json` body is still parsed strictly.
    let a = t
        .raw(
            Method::POST,
            "/v1/auth/login",
            "application/merge-patch+json",
            b"{\"email\":".to_vec(),
        )
        .await;
    a.problem(400, "malformed_json");
}

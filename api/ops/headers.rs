//! Security headers on every answer, set in one place so that no handler,
//! error path or fallback can forget them.
//!
//! - `X-Content-Type-Options: nosniff` everywhere: a browser must never
//!   guess that a JSON error or an uploaded-looking body is HTML or script.
//! - `Cache-Control: no-store` on every `/v1/...` answer (login steps carry
//!   tokens; the rest carries personal data), whatever a handler set, and on
//!   any other answer that did not choose its own caching (the JWKS does).
//!   Only Swagger UI's static files stay cacheable.
//! - A `Content-Security-Policy`: Swagger UI at `/docs` may load its own
//!   assets and the same-origin contract, nothing else; every other answer
//!   is data and may load nothing. No answer may be framed (clickjacking).
//!
//! Requests the HTTP layer refuses before routing (a malformed request line,
//! oversized headers) never reach the app and carry none of this.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderMap, HeaderValue};
use actix_web::middleware::Next;

/// Swagger UI loads its scripts, styles and the contract from this server;
/// its stylesheet draws icons from `data:` SVGs, and its logo (an inline
/// SVG) carries one `<style>` element, allowed by its hash alone (Swagger UI
/// 5.17.14 as vendored by utoipa-swagger-ui). The online validator badge is
/// switched off in `lib.rs`, so no third-party image is needed. Checked in
/// headless Chromium by `e2e/browser/run.mjs`: no CSP violation.
pub const DOCS_POLICY: &str = "default-src 'self'; img-src 'self' data:; \
     style-src 'self' 'sha256-RL3ie0nH+Lzz2YNqQN83mnU0J1ot4QL7b99vMdIX99w='; \
     object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// Everything else is JSON, an image or text: nothing in it may run or load.
pub const DATA_POLICY: &str = "default-src 'none'; frame-ancestors 'none'";

/// The route templates of Swagger UI (see `lib.rs`).
fn is_docs(pattern: Option<&str>) -> bool {
    matches!(pattern, Some("/docs" | "/docs/{_:.*}"))
}

/// `/v1` answers by template or by the path as sent: a percent-encoded
/// path (`/%761/me`) is routed like its decoded form, so either counts.
fn is_v1(pattern: Option<&str>, path: &str) -> bool {
    let v1 = |p: &str| p == "/v1" || p.starts_with("/v1/");
    pattern.is_some_and(v1) || v1(path)
}

/// Sets the headers on one answer.
pub fn apply(headers: &mut HeaderMap, pattern: Option<&str>, path: &str) {
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    let docs = is_docs(pattern);
    let policy = if docs { DOCS_POLICY } else { DATA_POLICY };
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(policy),
    );
    if is_v1(pattern, path) || (!docs && !headers.contains_key(header::CACHE_CONTROL)) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    }
}

pub async fn security_headers(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let mut response = next.call(req).await?;
    let pattern = response.request().match_pattern();
    let path = response.request().path().to_owned();
    apply(response.headers_mut(), pattern.as_deref(), &path);
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::http::header::HeaderName;

    fn headers_for(pattern: Option<&str>, path: &str, preset: Option<&'static str>) -> HeaderMap {
        let mut headers = HeaderMap::new();
        if let Some(value) = preset {
            headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(value));
        }
        apply(&mut headers, pattern, path);
        headers
    }

    fn get<'a>(headers: &'a HeaderMap, name: &HeaderName) -> &'a str {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    #[test]
    fn v1_is_never_cached_whatever_the_handler_said() {
        let h = headers_for(Some("/v1/me"), "/v1/me", Some("public, max-age=60"));
        assert_eq!(get(&h, &header::CACHE_CONTROL), "no-store");
        let h = headers_for(None, "/v1/nothing", None);
        assert_eq!(get(&h, &header::CACHE_CONTROL), "no-store");
        let h = headers_for(Some("/v1/me"), "/%761/me", None);
        assert_eq!(get(&h, &header::CACHE_CONTROL), "no-store");
    }

    #[test]
    fn jwks_keeps_its_caching_and_docs_assets_stay_cacheable() {
        let jwks = "/.well-known/jwks.json";
        let h = headers_for(Some(jwks), jwks, Some("public, max-age=300"));
        assert_eq!(get(&h, &header::CACHE_CONTROL), "public, max-age=300");
        let h = headers_for(Some("/docs/{_:.*}"), "/docs/swagger-ui.css", None);
        assert_eq!(get(&h, &header::CACHE_CONTROL), "");
        assert_eq!(get(&h, &header::CONTENT_SECURITY_POLICY), DOCS_POLICY);
    }

    #[test]
    fn every_answer_is_nosniff_and_unframeable() {
        for (pattern, path) in [(None, "/x"), (Some("/healthz"), "/healthz")] {
            let h = headers_for(pattern, path, None);
            assert_eq!(get(&h, &header::X_CONTENT_TYPE_OPTIONS), "nosniff");
            assert_eq!(get(&h, &header::CONTENT_SECURITY_POLICY), DATA_POLICY);
            assert_eq!(get(&h, &header::X_FRAME_OPTIONS), "DENY");
        }
    }
}

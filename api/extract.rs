//! Request extractors that turn every malformed input into a precise 4xx.
//!
//! [`ApiJson`] replaces actix's `Json` so that a wrong content type is 415,
//! an oversized body 413, broken JSON or bad UTF-8 400 `malformed_json`, and
//! a wrong type, missing or unknown field 400 `validation_failed` naming the
//! field. [`ClientIp`] gives the resolved client address, [`UserAgent`] the
//! client's self-description for session lists.

use std::net::{IpAddr, Ipv4Addr};

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{web, FromRequest, HttpMessage, HttpRequest};
use futures_util::future::{ready, LocalBoxFuture, Ready};
use futures_util::StreamExt as _;
use serde::de::DeserializeOwned;
use utoipa::ToSchema;

use crate::error::{ApiError, FieldError};

/// Largest accepted JSON body. Every request of this API is small; a larger
/// one is a mistake or an attack.
pub const JSON_LIMIT: usize = 64 * 1024;

pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned + ToSchema + 'static> FromRequest for ApiJson<T> {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let json = req.mime_type().ok().flatten().is_some_and(|mime| {
            mime.type_() == "application"
                && (mime.subtype() == "json" || mime.suffix().is_some_and(|s| s == "json"))
        });
        if !json {
            return Box::pin(ready(Err(ApiError::UnsupportedMediaType)));
        }
        let declared = req
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<usize>().ok());
        if declared.is_some_and(|n| n > JSON_LIMIT) {
            return Box::pin(ready(Err(ApiError::PayloadTooLarge(JSON_LIMIT))));
        }
        let mut payload = payload.take();
        Box::pin(async move {
            let mut body = web::BytesMut::new();
            while let Some(chunk) = payload.next().await {
                let chunk = chunk
                    .map_err(|_| ApiError::MalformedJson("the body could not be read".into()))?;
                if body.len() + chunk.len() > JSON_LIMIT {
                    return Err(ApiError::PayloadTooLarge(JSON_LIMIT));
                }
                body.extend_from_slice(&chunk);
            }
            let body = integral_numbers_as_integers(body.to_vec());
            checked::<T>(&body)?;
            parse(&body).map(ApiJson)
        })
    }
}

/// JSON Schema counts `50.0` as an integer, and so does the contract; serde
/// does not. A body holding a number with a zero fraction is rewritten with
/// that number as an integer before it is checked and read. Other bodies
/// are left byte for byte as they came.
fn integral_numbers_as_integers(body: Vec<u8>) -> Vec<u8> {
    fn rewrite(value: &mut serde_json::Value) -> bool {
        match value {
            serde_json::Value::Number(n) if n.is_f64() => {
                let Some(f) = n.as_f64() else { return false };
                // Exactly representable integers only (|f| < 2^53).
                if f.fract() == 0.0 && f.abs() < 9_007_199_254_740_992.0 {
                    #[expect(
                        clippy::cast_possible_truncation,
                        reason = "a whole number below 2^53 converts exactly"
                    )]
                    let whole = f as i64;
                    *value = serde_json::Value::from(whole);
                    return true;
                }
                false
            }
            serde_json::Value::Array(items) => items.iter_mut().fold(false, |c, v| rewrite(v) | c),
            serde_json::Value::Object(fields) => {
                fields.values_mut().fold(false, |c, v| rewrite(v) | c)
            }
            _ => false,
        }
    }
    // Only a body with a fraction or exponent can hold such a number.
    if !body.iter().any(|b| matches!(b, b'.' | b'e' | b'E')) {
        return body;
    }
    let Ok(mut value) = serde_json::from_slice::<serde_json::Value>(&body) else {
        return body;
    };
    if !rewrite(&mut value) {
        return body;
    }
    serde_json::to_vec(&value).unwrap_or(body)
}

/// Checks a JSON body against the documented schema of `T` and refuses it
/// with every field that breaks it, so a client fixes them all at once.
/// Runs before [`parse`], which refuses what the schema cannot express.
fn checked<T: ToSchema>(body: &[u8]) -> Result<(), ApiError> {
    // Syntax and non-object bodies are `parse`'s to refuse.
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(body) else {
        return Ok(());
    };
    if !value.is_object() {
        return Ok(());
    }
    let violations = crate::openapi::validate::component(&T::name(), &value, true);
    if violations.is_empty() {
        return Ok(());
    }
    Err(ApiError::Validation(
        violations
            .into_iter()
            .map(|v| FieldError::new(v.path, v.message))
            .collect(),
    ))
}

/// Parses a JSON body, classifying failures by what the client must fix.
pub fn parse<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    let Some(first) = body.iter().find(|b| !b.is_ascii_whitespace()) else {
        return Err(ApiError::MalformedJson("the body is empty".into()));
    };
    // serde lets a JSON array stand in for a struct, filling fields by
    // position; every body of this API is an object, so refuse anything else
    // before it can be read that way.
    if *first != b'{' {
        // Still tell syntax errors apart from a well-formed non-object.
        serde_json::from_slice::<serde::de::IgnoredAny>(body).map_err(|e| classify(&e, "."))?;
        return Err(ApiError::field("body", "must be a JSON object"));
    }
    let mut deserializer = serde_json::Deserializer::from_slice(body);
    let value = serde_path_to_error::deserialize(&mut deserializer).map_err(|e| {
        let path = e.path().to_string();
        classify(e.inner(), &path)
    })?;
    deserializer.end().map_err(|e| classify(&e, "."))?;
    Ok(value)
}

fn classify(e: &serde_json::Error, path: &str) -> ApiError {
    let message = e.to_string();
    // serde_json appends " at line L column C"; the client needs the field.
    let message = message
        .rfind(" at line ")
        .map_or(message.as_str(), |i| &message[..i])
        .to_owned();
    match e.classify() {
        serde_json::error::Category::Data => {
            let field = if path == "." || path.is_empty() {
                // A missing field is reported at its parent; name it instead.
                message
                    .split('`')
                    .nth(1)
                    .filter(|_| message.starts_with("missing field"))
                    .unwrap_or("body")
                    .to_owned()
            } else {
                path.to_owned()
            };
            ApiError::Validation(vec![FieldError::new(field, message)])
        }
        _ => ApiError::MalformedJson(message),
    }
}

/// The client address resolved by [`crate::net::client_ip`] in the
/// request middleware.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientIp(pub IpAddr);

impl FromRequest for ClientIp {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let ip = req
            .extensions()
            .get::<ClientIp>()
            .copied()
            .unwrap_or_else(|| {
                ClientIp(
                    req.peer_addr()
                        .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |a| a.ip()),
                )
            });
        ready(Ok(ip))
    }
}

/// Longest user agent kept, in characters.
pub const USER_AGENT_MAX: usize = 200;

/// The `User-Agent` header, cleaned for display: invalid UTF-8 replaced,
/// control, bidirectional and invisible characters dropped, trimmed and cut
/// to [`USER_AGENT_MAX`] characters; `None` when nothing is left. Shown to
/// the user next to their sessions and never trusted for anything: any
/// client can send any value.
#[derive(Debug, Clone)]
pub struct UserAgent(pub Option<String>);

impl UserAgent {
    pub fn clean(raw: &[u8]) -> Option<String> {
        let text = String::from_utf8_lossy(raw);
        let kept: String = text
            .chars()
            .filter(|c| !crate::text::is_forbidden(*c))
            .collect();
        let kept: String = kept.trim().chars().take(USER_AGENT_MAX).collect();
        let kept = kept.trim_end().to_owned();
        (!kept.is_empty()).then_some(kept)
    }
}

impl FromRequest for UserAgent {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let agent = req
            .headers()
            .get(header::USER_AGENT)
            .and_then(|value| Self::clean(value.as_bytes()));
        ready(Ok(UserAgent(agent)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_numbers_written_with_a_fraction_are_integers() {
        let fixed =
            integral_numbers_as_integers(br#"{"a": 50.0, "b": [1e2, 2.5], "c": "1.0"}"#.to_vec());
        let value: serde_json::Value = serde_json::from_slice(&fixed).unwrap();
        assert_eq!(
            value,
            serde_json::json!({"a": 50, "b": [100, 2.5], "c": "1.0"})
        );
        let untouched = br#"{"email": "a@example.com", "n": 3}"#.to_vec();
        assert_eq!(integral_numbers_as_integers(untouched.clone()), untouched);
        let broken = b"{\"a\": 1.0".to_vec();
        assert_eq!(integral_numbers_as_integers(broken.clone()), broken);
    }

    #[test]
    fn user_agents_are_cleaned_and_cut() {
        assert_eq!(
            UserAgent::clean(b"  Mozilla/5.0 (X11; Linux x86_64)  ").as_deref(),
            Some("Mozilla/5.0 (X11; Linux x86_64)")
        );
        assert_eq!(
            UserAgent::clean(b"a\x1b[31mb\xe2\x80\xaec\xff").as_deref(),
            Some("a[31mbc\u{fffd}")
        );
        assert_eq!(UserAgent::clean(b" \t "), None);
        let long = "x".repeat(500);
        assert_eq!(
            UserAgent::clean(long.as_bytes()).unwrap().chars().count(),
            USER_AGENT_MAX
        );
    }

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[expect(
        dead_code,
        reason = "the fields are only deserialised: the tests look at the errors"
    )]
    struct Login {
        email: String,
        count: Option<u32>,
    }

    fn code(body: &[u8]) -> (String, Option<String>) {
        let err = parse::<Login>(body).unwrap_err();
        let field = match &err {
            ApiError::Validation(f) => Some(f[0].field.clone()),
            _ => None,
        };
        (err.code().as_str().to_owned(), field)
    }

    #[test]
    fn classifies_each_kind_of_bad_body() {
        assert_eq!(code(b"{\"email\":"), ("malformed_json".into(), None));
        assert_eq!(code(b""), ("malformed_json".into(), None));
        assert_eq!(
            code(b"{\"email\":\"\xff\"}"),
            ("malformed_json".into(), None)
        );
        assert_eq!(
            code(b"{\"email\":\"a\"} x"),
            ("malformed_json".into(), None)
        );
        assert_eq!(
            code(b"{}"),
            ("validation_failed".into(), Some("email".into()))
        );
        assert_eq!(
            code(b"{\"email\":1}"),
            ("validation_failed".into(), Some("email".into()))
        );
        assert_eq!(
            code(b"{\"email\":\"a\",\"count\":-1}"),
            ("validation_failed".into(), Some("count".into()))
        );
        assert_eq!(
            code(b"{\"email\":\"a\",\"admin\":true}"),
            ("validation_failed".into(), Some("admin".into()))
        );
        assert_eq!(
            code(b"[]"),
            ("validation_failed".into(), Some("body".into()))
        );
        assert!(parse::<Login>(b" {\"email\":\"a\"} ").is_ok());
    }
}

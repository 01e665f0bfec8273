//! Each variant answers its status, code and headers; every code is
//! spelled the same in Rust, in JSON and in `openapi.yaml`.

use std::collections::HashSet;

use actix_web::body::to_bytes;

use super::*;

/// Every variant (and each code a bare `Http` status maps to), with the
/// status and code a client sees.
fn cases() -> Vec<(ApiError, u16, &'static str)> {
    let conflict = |code| ApiError::Conflict {
        code,
        detail: "x".into(),
    };
    vec![
        (ApiError::MalformedJson("x".into()), 400, "malformed_json"),
        (ApiError::field("email", "bad"), 400, "validation_failed"),
        (
            ApiError::BadRequest {
                code: ErrorCode::RegistrationFailed,
                detail: "x".into(),
            },
            400,
            "registration_failed",
        ),
        (ApiError::Unauthorized, 401, "unauthorized"),
        (ApiError::InvalidToken, 401, "invalid_token"),
        (ApiError::InvalidCredentials, 401, "invalid_credentials"),
        (ApiError::FlowExpired, 401, "flow_expired"),
        (ApiError::InvalidCode, 401, "invalid_code"),
        (ApiError::WebauthnFailed, 401, "webauthn_failed"),
        (ApiError::CodeAlreadyUsed, 401, "code_already_used"),
        (ApiError::Forbidden("no"), 403, "forbidden"),
        (
            ApiError::ReauthenticationRequired,
            403,
            "reauthentication_required",
        ),
        (
            ApiError::SecondFactorRequired,
            403,
            "second_factor_required",
        ),
        (ApiError::EnrollmentRequired, 403, "enrollment_required"),
        (ApiError::IpNotAllowed, 403, "ip_not_allowed"),
        (ApiError::NotFound, 404, "not_found"),
        (
            ApiError::MethodNotAllowed(vec![Method::GET]),
            405,
            "method_not_allowed",
        ),
        (conflict(ErrorCode::EmailTaken), 409, "email_taken"),
        (conflict(ErrorCode::LastAdmin), 409, "last_admin"),
        (
            conflict(ErrorCode::CannotActOnSelf),
            409,
            "cannot_act_on_self",
        ),
        (ApiError::PayloadTooLarge(10), 413, "payload_too_large"),
        (
            ApiError::UnsupportedMediaType,
            415,
            "unsupported_media_type",
        ),
        (
            ApiError::TooManyAttempts { retry_after: 30 },
            429,
            "too_many_attempts",
        ),
        (ApiError::FlowAttemptsExhausted, 429, "too_many_attempts"),
        (
            ApiError::Unavailable {
                detail: "x",
                retry_after: 1,
            },
            503,
            "service_unavailable",
        ),
        (ApiError::internal("boom"), 500, "internal_error"),
        (ApiError::Http(StatusCode::BAD_REQUEST), 400, "bad_request"),
        (ApiError::Http(StatusCode::FORBIDDEN), 403, "forbidden"),
        (
            ApiError::Http(StatusCode::METHOD_NOT_ALLOWED),
            405,
            "method_not_allowed",
        ),
        (
            ApiError::Http(StatusCode::REQUEST_TIMEOUT),
            408,
            "request_timeout",
        ),
        (
            ApiError::Http(StatusCode::URI_TOO_LONG),
            414,
            "uri_too_long",
        ),
        (
            ApiError::Http(StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE),
            431,
            "headers_too_large",
        ),
        (
            ApiError::Http(StatusCode::SERVICE_UNAVAILABLE),
            503,
            "service_unavailable",
        ),
        (
            ApiError::Http(StatusCode::BAD_GATEWAY),
            502,
            "internal_error",
        ),
        (ApiError::Http(StatusCode::IM_A_TEAPOT), 418, "http_error"),
    ]
}

#[actix_web::test]
async fn each_variant_has_its_status_and_code() {
    for (error, status, code) in cases() {
        assert_eq!(error.code(), code);
        let response = error.error_response();
        assert_eq!(response.status().as_u16(), status, "{code}");
        assert_eq!(
            response.headers().get(header::CONTENT_TYPE).unwrap(),
            PROBLEM_JSON
        );
        assert_eq!(
            response.headers().get(header::CACHE_CONTROL).unwrap(),
            "no-store"
        );
        let body = to_bytes(response.into_body()).await.unwrap();
        let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(json["code"], code);
        assert_eq!(json["status"], status);
        assert_eq!(json["type"], format!("urn:twofold:problem:{code}"));
        // An internal cause is logged, never answered.
        assert!(!json["detail"].as_str().unwrap().contains("boom"));
    }
}

#[test]
fn bare_statuses_become_the_problem_of_their_meaning() {
    for (status, code) in [
        (StatusCode::UNAUTHORIZED, "unauthorized"),
        (StatusCode::NOT_FOUND, "not_found"),
        (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large"),
        (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type"),
        (StatusCode::INTERNAL_SERVER_ERROR, "internal_error"),
        (StatusCode::REQUEST_TIMEOUT, "request_timeout"),
    ] {
        let error = ApiError::from_status(status);
        assert_eq!(error.status(), status);
        assert_eq!(error.code(), code);
    }
}

#[test]
fn every_code_is_spelled_alike_in_rust_and_json_and_once() {
    let mut seen = HashSet::new();
    for code in ErrorCode::ALL {
        assert_eq!(serde_json::to_value(code).unwrap(), code.as_str());
        assert!(seen.insert(code.as_str()), "{code} listed twice");
    }
}

#[test]
fn headers_that_clients_need() {
    let r = ApiError::TooManyAttempts { retry_after: 30 }.error_response();
    assert_eq!(r.headers().get(header::RETRY_AFTER).unwrap(), "30");
    let r = ApiError::Unavailable {
        detail: "x",
        retry_after: 2,
    }
    .error_response();
    assert_eq!(r.headers().get(header::RETRY_AFTER).unwrap(), "2");
    let r = ApiError::MethodNotAllowed(vec![Method::GET, Method::POST]).error_response();
    assert_eq!(r.headers().get(header::ALLOW).unwrap(), "GET, POST");
    for error in [ApiError::Unauthorized, ApiError::InvalidToken] {
        let r = error.error_response();
        assert_eq!(r.headers().get(header::WWW_AUTHENTICATE).unwrap(), "Bearer");
    }
}

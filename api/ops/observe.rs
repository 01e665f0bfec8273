//! The outermost middleware: request id, client address, metrics, one JSON
//! log line per request, and a safety net that turns any error response not
//! already in problem+json (from actix itself or a middleware) into one.
//!
//! Logged: method, path (never the query), route template, status, latency,
//! client address, request id. Never logged: headers, bodies, tokens.

use std::time::Instant;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{web, HttpMessage, ResponseError};

use crate::error::{ApiError, ErrorCode, PROBLEM_JSON};
use crate::extract::ClientIp;
use crate::net::client_ip;
use crate::state::AppState;

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The id of the current request, echoed in `X-Request-Id`.
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

/// An incoming id is kept when it is short and plain, so ids can be traced
/// across a proxy; anything else is replaced (it would end up in logs).
fn request_id(req: &ServiceRequest) -> String {
    req.headers()
        .get(&REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| {
            !v.is_empty()
                && v.len() <= 64
                && v.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
        })
        .map_or_else(|| uuid::Uuid::new_v4().to_string(), str::to_owned)
}

pub async fn observe(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let started = Instant::now();
    let id = request_id(&req);
    let state = req.app_data::<web::Data<AppState>>().cloned();
    if let (Some(peer), Some(state)) = (req.peer_addr(), state.as_ref()) {
        let config = &state.config;
        match client_ip(
            peer.ip(),
            req.headers(),
            &config.trusted_proxies,
            config.forwarded_header,
        ) {
            Ok(ip) => {
                req.extensions_mut().insert(ClientIp(ip));
            }
            Err(malformed) => {
                // The client is unknown: refuse rather than guess (the
                // proxy's address would pool every client's limits; another
                // header would be the client's own word).
                tracing::warn!(request_id = %id, peer = %peer.ip(), error = %malformed, "unreadable forwarding header");
                let error = ApiError::BadRequest {
                    code: ErrorCode::InvalidForwarding,
                    detail: format!(
                        "The client address cannot be determined: {malformed}. The reverse proxy must set {} correctly.",
                        malformed.header
                    ),
                };
                let mut response = req.error_response(error).map_into_boxed_body();
                if let Ok(value) = HeaderValue::from_str(&id) {
                    response.headers_mut().insert(REQUEST_ID, value);
                }
                return Ok(response);
            }
        }
    }
    req.extensions_mut().insert(RequestId(id.clone()));
    let method = req.method().clone();
    let path = req.path().to_owned();

    let response = next.call(req).await?;
    let mut response = problem_json_safety_net(response);

    let status = response.status().as_u16();
    let route = response
        .request()
        .match_pattern()
        .unwrap_or_else(|| "unmatched".to_owned());
    let client = response
        .request()
        .extensions()
        .get::<ClientIp>()
        .map(|c| c.0.to_string())
        .unwrap_or_default();
    let elapsed = started.elapsed().as_secs_f64();
    if let Some(state) = &state {
        state.metrics.request(&method, &route, status, elapsed);
    }
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(REQUEST_ID, value);
    }
    tracing::info!(
        request_id = %id,
        method = %method,
        path = %path,
        route = %route,
        status,
        latency_ms = elapsed * 1000.0,
        client = %client,
        "request"
    );
    Ok(response)
}

fn problem_json_safety_net(
    response: ServiceResponse<impl MessageBody + 'static>,
) -> ServiceResponse<BoxBody> {
    let status = response.status();
    let is_problem = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(PROBLEM_JSON.as_bytes()));
    if !(status.is_client_error() || status.is_server_error()) || is_problem {
        return response.map_into_boxed_body();
    }
    let (req, original) = response.into_parts();
    let mut replacement = ApiError::from_status(status).error_response();
    // Keep headers the original set for the client (Allow, CORS, Retry-After).
    for (name, value) in original.headers() {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            replacement
                .headers_mut()
                .insert(name.clone(), value.clone());
        }
    }
    ServiceResponse::new(req, replacement)
}

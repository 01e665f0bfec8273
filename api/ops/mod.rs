//! Operations: the process's CPU weight, health, readiness, metrics, JWKS, request observation,
//! security headers and the answers for unknown routes and methods.

pub mod autogroup;
pub mod fallback;
pub mod handlers;
pub mod headers;
pub mod janitor;
pub mod metrics;
pub mod observe;

use actix_web::http::header;
use actix_web::HttpResponseBuilder;

/// Marks a response that carries a secret or a token as not cacheable.
pub fn no_store(mut builder: HttpResponseBuilder) -> HttpResponseBuilder {
    builder.insert_header((header::CACHE_CONTROL, "no-store"));
    builder.insert_header((header::PRAGMA, "no-cache"));
    builder
}

//! HTTP for liveness, readiness, metrics and the JWKS.

use actix_web::http::header;
use actix_web::{get, web, HttpResponse};
use serde::Serialize;
use utoipa::ToSchema;

use crate::error::{ApiError, Problem};
use crate::state::AppState;

crate::constant_string!(
    /// `ok`.
    OkStatus = "ok"
);
crate::constant_string!(
    /// `ready`.
    ReadyStatus = "ready"
);

#[derive(Serialize, ToSchema)]
#[schema(example = json!({"status": "ok"}))]
pub struct Health {
    #[schema(inline)]
    pub status: OkStatus,
}

/// The backends [`crate::db::Db::backend`] names.
fn database_schema() -> utoipa::openapi::schema::Object {
    utoipa::openapi::schema::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::String)
        .enum_values(Some(["sqlite", "postgres"]))
        .build()
}

#[derive(Serialize, ToSchema)]
#[schema(example = json!({"status": "ready", "database": "sqlite"}))]
pub struct Ready {
    #[schema(inline)]
    pub status: ReadyStatus,
    /// `sqlite` or `postgres`.
    #[schema(schema_with = database_schema)]
    pub database: &'static str,
}

/// Liveness: the process answers.
///
/// Answers 200 while the process runs, without touching the database; use it
/// as a liveness probe.
#[utoipa::path(
    operation_id = "get_health",  tag = "operations", responses((status = 200, description = "Alive", body = Health)))]
#[get("/healthz")]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(Health { status: OkStatus })
}

/// Readiness: the database answers. 503 while it does not; recovers by
/// itself when it comes back.
///
/// Use it as a readiness probe: a load balancer should send no traffic while
/// it answers 503.
#[utoipa::path(
    operation_id = "get_readiness",
    tag = "operations",
    responses(
        (status = 200, description = "Ready", body = Ready),
        (status = 503, description = "Database unreachable (`service_unavailable`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/readyz")]
pub async fn readyz(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    state.db.ping().await.map_err(|_| ApiError::Unavailable {
        detail: "The database is not reachable right now.",
        retry_after: 2,
    })?;
    Ok(HttpResponse::Ok().json(Ready {
        status: ReadyStatus,
        database: state.db.backend(),
    }))
}

/// Prometheus metrics in the text exposition format.
///
/// Request counts and latencies by route and status, login outcomes by step,
/// and database pool figures, in the Prometheus text format 0.0.4. Public
/// like the health checks: it carries no user data; restrict it at the proxy
/// if the figures are sensitive.
#[utoipa::path(
    operation_id = "get_metrics",
    tag = "operations",
    responses((status = 200, description = "Metrics", body = String, content_type = "text/plain; version=0.0.4"))
)]
#[get("/metrics")]
pub async fn metrics(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let text = state.metrics.render().map_err(ApiError::internal)?;
    Ok(HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(text))
}

/// The public keys that verify access tokens (RFC 7517).
///
/// The Ed25519 keys (JWK, `OKP`/`Ed25519`) that verify access tokens: the
/// active signing key and every retired key whose tokens may still be
/// valid (16 minutes after its retirement). Match a token's `kid` header to
/// a key's `kid`, and fetch the set again when a token names a `kid` it
/// lacks: a rotation adds a key at once. Public; cacheable for 30 seconds.
#[utoipa::path(
    operation_id = "get_jwks",
    tag = "sessions",
    responses((status = 200, description = "JSON Web Key Set", body = crate::sessions::dto::Jwks))
)]
#[get("/.well-known/jwks.json")]
pub async fn jwks(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((
            header::CACHE_CONTROL,
            format!("public, max-age={}", crate::keys::signing::RELOAD_SECS),
        ))
        .content_type(header::ContentType::json())
        .body(state.tokens.keys().jwks(state.now()))
}

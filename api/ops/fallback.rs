//! Answers for requests no route took: 405 with `Allow` when the path
//! exists under other methods, otherwise 404. The table of paths and
//! methods is read from the generated OpenAPI document, the same one the
//! router was built with, so the two cannot disagree.

use actix_web::guard::GuardContext;
use actix_web::http::Method;
use actix_web::{web, HttpRequest, HttpResponse};
use utoipa::openapi::path::HttpMethod;
use utoipa::openapi::OpenApi;

use crate::error::ApiError;

pub struct RouteTable {
    routes: Vec<(Vec<Segment>, Vec<Method>)>,
}

enum Segment {
    Literal(String),
    Param,
}

impl RouteTable {
    pub fn from_openapi(doc: &OpenApi) -> Self {
        let routes = doc
            .paths
            .paths
            .iter()
            .map(|(path, item)| {
                let segments = path
                    .trim_start_matches('/')
                    .split('/')
                    .map(|s| {
                        if s.starts_with('{') && s.ends_with('}') {
                            Segment::Param
                        } else {
                            Segment::Literal(s.to_owned())
                        }
                    })
                    .collect();
                let mut methods: Vec<Method> = Vec::new();
                for (method, present) in [
                    (HttpMethod::Get, item.get.is_some()),
                    (HttpMethod::Post, item.post.is_some()),
                    (HttpMethod::Put, item.put.is_some()),
                    (HttpMethod::Patch, item.patch.is_some()),
                    (HttpMethod::Delete, item.delete.is_some()),
                ] {
                    if present {
                        methods.push(to_method(&method));
                    }
                }
                (segments, methods)
            })
            .collect();
        Self { routes }
    }

    /// The methods a concrete path allows, if the path exists at all.
    pub fn allowed(&self, path: &str) -> Option<Vec<Method>> {
        let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
        self.routes
            .iter()
            .find(|(segments, _)| {
                segments.len() == parts.len()
                    && segments.iter().zip(&parts).all(|(s, p)| match s {
                        Segment::Param => !p.is_empty(),
                        Segment::Literal(l) => l == p,
                    })
            })
            .map(|(_, methods)| methods.clone())
    }
}

impl RouteTable {
    /// Whether the contract lists `path` itself, with no parameter.
    pub fn is_literal(&self, path: &str) -> bool {
        let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
        self.routes.iter().any(|(segments, _)| {
            segments.len() == parts.len()
                && segments
                    .iter()
                    .zip(&parts)
                    .all(|(s, p)| matches!(s, Segment::Literal(l) if l == p))
        })
    }
}

/// Guard of a route with a parameter at a place where the contract also
/// has literal paths (`/v1/admin/users/{id}` beside
/// `/v1/admin/users/deactivate`): such a path is never read as an id, so a
/// method it does not allow falls through to [`not_routed`]'s 405.
pub fn not_a_literal_path(ctx: &GuardContext<'_>) -> bool {
    ctx.app_data::<web::Data<RouteTable>>()
        .is_none_or(|table| !table.is_literal(ctx.head().uri.path()))
}

fn to_method(method: &HttpMethod) -> Method {
    match method {
        HttpMethod::Get => Method::GET,
        HttpMethod::Post => Method::POST,
        HttpMethod::Put => Method::PUT,
        HttpMethod::Patch => Method::PATCH,
        HttpMethod::Delete => Method::DELETE,
        HttpMethod::Head => Method::HEAD,
        HttpMethod::Options => Method::OPTIONS,
        HttpMethod::Trace => Method::TRACE,
    }
}

pub async fn not_routed(
    req: HttpRequest,
    table: web::Data<RouteTable>,
    state: web::Data<crate::state::AppState>,
) -> Result<HttpResponse, ApiError> {
    // With no operator key the operator API does not exist, whatever the method.
    if req.path().starts_with("/v1/operator/") && state.config.operator_key.is_none() {
        return Err(ApiError::NotFound);
    }
    Err(match table.allowed(req.path()) {
        Some(methods) if !methods.is_empty() => ApiError::MethodNotAllowed(methods),
        _ => ApiError::NotFound,
    })
}

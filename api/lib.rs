//! twofold: a headless JSON REST API for two-factor authentication in a
//! multi-tenant SaaS platform.
//!
//! [`app`] builds the whole HTTP application from an [`AppState`]; the
//! binary and the integration tests both call it, so tests drive exactly
//! what production serves.

pub mod accounts;
pub mod admin;
pub mod attempts;
pub mod audit;
pub mod cli;
pub mod clock;
pub mod config;
pub mod crypto;
pub mod db;
pub mod devices;
pub mod error;
pub mod extract;
pub mod ids;
pub mod ip_allowlist;
pub mod keys;
pub mod login;
pub mod me;
pub mod net;
pub mod openapi;
pub mod operator;
pub mod ops;
pub mod sessions;
pub mod state;
pub mod text;
pub mod twofa;
pub mod users;
pub mod webauthn;

use actix_cors::Cors;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::http::{header, Method};
use actix_web::middleware::{from_fn, Condition};
use actix_web::{web, App, HttpResponse};
use utoipa_actix_web::service_config::ServiceConfig;
use utoipa_actix_web::AppExt as _;
use utoipa_swagger_ui::SwaggerUi;

pub use state::AppState;

use crate::error::ApiError;
use crate::ops::fallback::RouteTable;

/// Every documented route. The router and `openapi.yaml` both come from here.
pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(login::handlers::start)
        .service(login::handlers::password)
        .service(login::handlers::totp)
        .service(login::handlers::recovery_code)
        .service(webauthn::login_handlers::second_factor_options)
        .service(webauthn::login_handlers::second_factor)
        .service(webauthn::login_handlers::passkey_options)
        .service(webauthn::login_handlers::passkey)
        .service(twofa::handlers::start)
        .service(twofa::handlers::qr_png)
        .service(twofa::handlers::qr_svg)
        .service(twofa::handlers::verify)
        .service(webauthn::enrollment_handlers::options)
        .service(webauthn::enrollment_handlers::register)
        .service(twofa::handlers::confirm)
        .service(sessions::handlers::refresh)
        .service(sessions::handlers::logout)
        .service(ops::handlers::jwks)
        .service(me::handlers::me)
        .service(me::handlers::change_password)
        .service(devices::handlers::list)
        .service(devices::handlers::forget)
        .service(sessions::me_handlers::list)
        .service(sessions::me_handlers::revoke_others)
        .service(sessions::me_handlers::end)
        .service(twofa::me_handlers::overview)
        .service(twofa::me_handlers::start)
        .service(twofa::me_handlers::qr_png)
        .service(twofa::me_handlers::qr_svg)
        .service(twofa::me_handlers::verify)
        .service(twofa::me_handlers::regenerate)
        .service(twofa::me_handlers::confirm)
        .service(webauthn::handlers::registration_options)
        .service(webauthn::handlers::register)
        .service(webauthn::handlers::list)
        .service(webauthn::handlers::remove)
        .service(admin::users_handlers::list)
        .service(admin::users_handlers::create)
        .service(admin::users_handlers::enable_many)
        .service(admin::users_handlers::reset_many)
        // The static bulk paths before `/v1/admin/users/{id}`: each route
        // guards its method, but a static path listed first can never be
        // taken for an id.
        .service(admin::lifecycle_handlers::deactivate_many)
        .service(admin::lifecycle_handlers::reactivate_many)
        .service(admin::lifecycle_handlers::delete_many)
        .service(admin::users_handlers::get)
        .service(admin::users_handlers::update)
        .service(admin::lifecycle_handlers::delete_one)
        .service(admin::users_handlers::enable_one)
        .service(admin::users_handlers::reset_one)
        .service(admin::sessions_handlers::list)
        .service(admin::sessions_handlers::revoke)
        .service(admin::lifecycle_handlers::deactivate_one)
        .service(admin::lifecycle_handlers::reactivate_one)
        .service(admin::security::get)
        .service(ip_allowlist::handlers::update_security)
        .service(ip_allowlist::handlers::list)
        .service(ip_allowlist::handlers::add)
        .service(ip_allowlist::handlers::remove)
        .service(admin::audit_handlers::list)
        .service(operator::handlers::get)
        .service(operator::handlers::update)
        .service(ops::handlers::healthz)
        .service(ops::handlers::readyz)
        .service(ops::handlers::metrics);
}

/// The HTTP application.
pub fn app(
    state: AppState,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    let (app, mut doc) = App::new()
        .into_utoipa_app()
        .openapi(openapi::base())
        .configure(routes)
        .split_for_parts();
    openapi::complete(&mut doc);
    openapi::serve_at(&mut doc, &state.config.audience());
    let routes = RouteTable::from_openapi(&doc);
    // The committed `openapi.yaml`, byte for byte, beside `/openapi.json`.
    let yaml = doc.to_yaml().unwrap_or_default();
    let cors = cors(&state.config.cors_origins);
    let cors_enabled = !state.config.cors_origins.is_empty();
    app.app_data(web::Data::new(state))
        .app_data(web::Data::new(routes))
        .app_data(
            web::PathConfig::default()
                .error_handler(|e, _| ApiError::field("path", e.to_string()).into()),
        )
        .app_data(
            web::QueryConfig::default()
                .error_handler(|e, _| ApiError::field("query", e.to_string()).into()),
        )
        .route(
            "/openapi.yaml",
            web::get().to(move || {
                let yaml = yaml.clone();
                async move {
                    HttpResponse::Ok()
                        .content_type("application/yaml")
                        .body(yaml)
                }
            }),
        )
        .service(web::redirect("/docs", "/docs/"))
        .service(
            SwaggerUi::new("/docs/{_:.*}")
                .url("/openapi.json", doc)
                // The online validator badge would send the contract's URL
                // to a third party (and the CSP refuses its image anyway).
                .config(utoipa_swagger_ui::Config::default().validator_url("none")),
        )
        .default_service(web::to(ops::fallback::not_routed))
        .wrap(Condition::new(cors_enabled, cors))
        // Inside `observe`, so the problem+json safety net keeps them.
        .wrap(from_fn(ops::headers::security_headers))
        .wrap(from_fn(ops::observe::observe))
}

fn cors(origins: &[String]) -> Cors {
    origins
        .iter()
        .fold(Cors::default(), |cors, origin| cors.allowed_origin(origin))
        .allowed_methods([Method::GET, Method::POST, Method::PATCH, Method::DELETE])
        .allowed_headers([header::AUTHORIZATION, header::CONTENT_TYPE, header::ACCEPT])
        .expose_headers([
            header::HeaderName::from_static("x-request-id"),
            header::RETRY_AFTER,
            header::WWW_AUTHENTICATE,
        ])
        .max_age(3600)
}

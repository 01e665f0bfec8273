//! The OpenAPI document: generated from the same route registration the
//! server uses ([`crate::routes`]), printed by `twofold openapi`, committed
//! as `openapi.yaml`, and served at `/openapi.json` for the Swagger UI at
//! `/docs`.

use actix_web::App;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::openapi::server::Server;
use utoipa::openapi::OpenApi as Document;
use utoipa::{Modify, OpenApi};
use utoipa_actix_web::AppExt as _;

use crate::error::{FieldError, Problem};

mod constant;
mod responses;
pub mod validate;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "twofold",
        description = "Two-factor authentication for multi-tenant SaaS platforms: \
identifier-first login, authenticator-app (TOTP) enrollment by QR code, one-time \
codes, recovery codes, sessions with EdDSA-signed access tokens, and the \
operations endpoints. Every error is `application/problem+json` (RFC 9457) \
with a stable `code`.",
    ),
    tags(
        (name = "login", description = "Identifier-first login steps and the second factor"),
        (name = "enrollment", description = "Authenticator enrollment inside the login flow (Bearer flow token)"),
        (name = "sessions", description = "Tokens: refresh, logout, verification keys"),
        (name = "me", description = "The signed-in user"),
        (name = "webauthn", description = "The signed-in user's passkeys, security keys and biometrics"),
        (name = "admin", description = "Security and Authentication: the admin's own account"),
        (name = "operator", description = "Billing state, for the operator's systems (operator key)"),
        (name = "operations", description = "Health, readiness and metrics"),
    ),
    components(schemas(Problem, FieldError)),
    modifiers(&BearerAuth)
)]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, doc: &mut Document) {
        let components = doc.components.get_or_insert_with(Default::default);
        let mut scheme = Http::new(HttpAuthScheme::Bearer);
        scheme.bearer_format = Some("JWT".to_owned());
        scheme.description = Some(
            "An access token from an `authenticated` answer (15 minutes; refresh with the refresh token)."
                .to_owned(),
        );
        components.add_security_scheme("accessToken", SecurityScheme::Http(scheme));
        let mut flow = Http::new(HttpAuthScheme::Bearer);
        flow.description = Some(
            "The latest `flow_token` of the login flow (enrollment steps only; never a session)."
                .to_owned(),
        );
        components.add_security_scheme("flowToken", SecurityScheme::Http(flow));
        let mut operator = Http::new(HttpAuthScheme::Bearer);
        operator.description = Some("The configured `TWOFOLD_OPERATOR_KEY`.".to_owned());
        components.add_security_scheme("operatorKey", SecurityScheme::Http(operator));
        // The committed document names an instance on its defaults.
        serve_at(doc, crate::config::DEFAULT_PUBLIC_URL);
    }
}

/// Names `public_url` as the document's one server: absolute, so generated
/// clients and Postman get a usable base URL, and the Swagger UI at `/docs`
/// of an instance calls that instance (its `TWOFOLD_PUBLIC_URL`).
pub fn serve_at(doc: &mut Document, public_url: &str) {
    let base = public_url.trim_end_matches('/');
    let docs = format!("{base}/docs");
    let mut contact = utoipa::openapi::info::Contact::new();
    contact.name = Some("twofold maintainers".to_owned());
    contact.url = Some(docs.clone());
    doc.info.contact = Some(contact);
    let mut external = utoipa::openapi::external_docs::ExternalDocs::new(docs);
    external.description = Some(
        "The interactive reference (Swagger UI) of this instance; the README's \"For integrators\" section shows generated Python and TypeScript clients and the Postman collection"
            .to_owned(),
    );
    doc.external_docs = Some(external);
    let mut this = Server::new(base);
    this.description = Some(
        "This instance (its TWOFOLD_PUBLIC_URL); the committed document names an instance on its defaults"
            .to_owned(),
    );
    doc.servers = Some(vec![this]);
}

/// Info, tags and security schemes; the paths are added by registration.
pub fn base() -> Document {
    ApiDoc::openapi()
}

/// The whole document, built by registering the routes on a throwaway app.
pub fn document() -> Document {
    let (_, mut doc) = App::new()
        .into_utoipa_app()
        .openapi(base())
        .configure(crate::routes)
        .split_for_parts();
    complete(&mut doc);
    doc
}

/// What every documented answer shares (see [`responses`]); applied to the
/// document the server serves and to the one `twofold openapi` prints.
pub fn complete(doc: &mut Document) {
    responses::complete(doc);
}

/// The document as YAML, exactly as committed in `openapi.yaml`.
pub fn yaml() -> Result<String, String> {
    document().to_yaml().map_err(|e| e.to_string())
}

/// The same document as pretty-printed JSON (`twofold openapi --json`).
pub fn json() -> Result<String, String> {
    document()
        .to_pretty_json()
        .map(|text| text + "\n")
        .map_err(|e| e.to_string())
}

/// Schema of an email address in a request: what `normalize_email` accepts.
pub fn email_schema() -> utoipa::openapi::schema::Object {
    utoipa::openapi::schema::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::String)
        .format(Some(utoipa::openapi::SchemaFormat::Custom(
            "email".to_owned(),
        )))
        .min_length(Some(3))
        .max_length(Some(254))
        .examples(["ada@example.com"])
        .build()
}

/// Schema of the email of a new user: what the identity profile accepts
/// (`api/users/identity.rs`). Described rather than given as a `pattern`:
/// no regular expression says what IDNA accepts, and one that promised more
/// than the server takes would mislead clients and fuzzers alike.
pub fn new_email_schema() -> utoipa::openapi::schema::Object {
    let mut schema = email_schema();
    schema.description = Some(
        "An ASCII local part (RFC 5321 dot-atom: letters, digits, !#$%&'*+-/=?^_`{|}~ and single dots, \
         at most 64) and a domain of at least two labels of letters, digits and hyphens; an \
         internationalised domain is accepted when IDNA converts it to its ASCII (xn--) form and back \
         unchanged, and is stored in that ASCII form. Quoted local parts, control, bidirectional and \
         invisible characters are refused."
            .to_owned(),
    );
    schema
}

/// Schema of a field that must be `true` (a confirmation).
pub fn must_be_true() -> utoipa::openapi::schema::Object {
    utoipa::openapi::schema::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::Boolean)
        .enum_values(Some([true]))
        .description(Some(
            "Must be `true`: the user has stored the recovery code.",
        ))
        .build()
}

/// Canonical base64url without padding, as WebAuthn JSON encodes bytes: a
/// 2- or 3-character tail must leave its unused low bits zero.
pub fn base64url() -> utoipa::openapi::schema::Object {
    utoipa::openapi::schema::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::String)
        .pattern(Some(
            "^(?:[A-Za-z0-9_-]{4})*(?:[A-Za-z0-9_-][AQgw]|[A-Za-z0-9_-]{2}[AEIMQUYcgkosw048])?$",
        ))
        .build()
}

fn credential_schema(
    response_fields: &[&str],
    optional_response_fields: &[&str],
    description: &str,
) -> utoipa::openapi::schema::Object {
    use utoipa::openapi::schema::{ObjectBuilder, Type};
    // Browsers add fields (`transports`, `authenticatorAttachment`,
    // `clientExtensionResults`, ...) that the server ignores: open objects.
    let mut response = ObjectBuilder::new()
        .schema_type(Type::Object)
        .additional_properties(Some(
            utoipa::openapi::schema::AdditionalProperties::FreeForm(true),
        ));
    for field in response_fields {
        response = response.property(*field, base64url()).required(*field);
    }
    for field in optional_response_fields {
        // `userHandle` is null for a credential that is not discoverable.
        let mut nullable = base64url();
        nullable.schema_type =
            utoipa::openapi::schema::SchemaType::from_iter([Type::String, Type::Null]);
        response = response.property(*field, nullable);
    }
    ObjectBuilder::new()
        .schema_type(Type::Object)
        .additional_properties(Some(
            utoipa::openapi::schema::AdditionalProperties::FreeForm(true),
        ))
        .description(Some(description))
        .property("id", ObjectBuilder::new().schema_type(Type::String))
        .required("id")
        .property("rawId", base64url())
        .required("rawId")
        .property(
            "type",
            ObjectBuilder::new()
                .schema_type(Type::String)
                .examples(["public-key"]),
        )
        .required("type")
        .property("response", response)
        .required("response")
        .build()
}

/// The browser's answer to `navigator.credentials.create`, bytes as base64url.
pub fn registration_credential() -> utoipa::openapi::schema::Object {
    credential_schema(
        &["clientDataJSON", "attestationObject"],
        &[],
        "The PublicKeyCredential from navigator.credentials.create(), binary fields base64url-encoded.",
    )
}

/// The browser's answer to `navigator.credentials.get`, bytes as base64url.
pub fn assertion_credential() -> utoipa::openapi::schema::Object {
    credential_schema(
        &["clientDataJSON", "authenticatorData", "signature"],
        &["userHandle"],
        "The PublicKeyCredential from navigator.credentials.get(), binary fields base64url-encoded.",
    )
}

/// A PNG image answered as raw bytes: `type: string` with its media type
/// (OpenAPI 3.1) and `format: binary` (what 3.0 tools look for), so
/// generated clients return the bytes instead of parsing them as JSON.
pub struct PngImage;

impl utoipa::PartialSchema for PngImage {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::schema::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .format(Some(utoipa::openapi::SchemaFormat::KnownFormat(
                utoipa::openapi::KnownFormat::Binary,
            )))
            .content_media_type("image/png")
            .description(Some("The PNG image."))
            .into()
    }
}

impl utoipa::ToSchema for PngImage {}

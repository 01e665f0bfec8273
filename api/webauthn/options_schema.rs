//! The documented shape of the WebAuthn options twofold answers: what
//! webauthn-rs serializes for `navigator.credentials.create` and `.get`
//! (binary fields base64url). These types only describe; the answers are
//! webauthn-rs's own values, and `tests/webauthn.rs` checks that every
//! answer matches this description.

use utoipa::ToSchema;

/// Options for `navigator.credentials.create`: decode `publicKey.challenge`,
/// `publicKey.user.id` and each `excludeCredentials[].id` from base64url
/// before passing `publicKey`.
#[derive(ToSchema)]
pub struct CreationOptions {
    #[schema(rename = "publicKey")]
    pub public_key: PublicKeyCreationOptions,
}

/// `PublicKeyCredentialCreationOptions` (WebAuthn Level 3).
#[derive(ToSchema)]
pub struct PublicKeyCreationOptions {
    pub rp: RelyingParty,
    pub user: WebauthnUser,
    #[schema(schema_with = crate::openapi::base64url)]
    pub challenge: String,
    #[schema(rename = "pubKeyCredParams")]
    pub pub_key_cred_params: Vec<CredentialParameters>,
    /// Milliseconds the browser should wait.
    pub timeout: Option<u32>,
    /// Credentials the user already has, so the authenticator does not
    /// register twice.
    #[schema(rename = "excludeCredentials")]
    pub exclude_credentials: Option<Vec<CredentialDescriptor>>,
    #[schema(rename = "authenticatorSelection")]
    pub authenticator_selection: Option<AuthenticatorSelection>,
    #[schema(inline)]
    pub hints: Option<Vec<Hint>>,
    #[schema(inline)]
    pub attestation: Option<Attestation>,
    #[schema(rename = "attestationFormats")]
    pub attestation_formats: Option<Vec<String>>,
    /// Client extension inputs, passed on unchanged.
    #[schema(value_type = Option<Object>)]
    pub extensions: Option<()>,
}

/// The relying party: this service.
#[derive(ToSchema)]
pub struct RelyingParty {
    pub name: String,
    /// `TWOFOLD_RP_ID`.
    pub id: String,
}

/// The user the credential is for.
#[derive(ToSchema)]
pub struct WebauthnUser {
    /// The user handle.
    #[schema(schema_with = crate::openapi::base64url)]
    pub id: String,
    pub name: String,
    #[schema(rename = "displayName")]
    pub display_name: String,
}

/// An accepted public-key algorithm (COSE identifier, e.g. -7 for ES256,
/// -8 for EdDSA, -257 for RS256).
#[derive(ToSchema)]
pub struct CredentialParameters {
    #[schema(rename = "type", inline)]
    pub kind: PublicKeyType,
    pub alg: i64,
}

/// A credential named in `allowCredentials` or `excludeCredentials`.
#[derive(ToSchema)]
pub struct CredentialDescriptor {
    #[schema(rename = "type", inline)]
    pub kind: PublicKeyType,
    #[schema(schema_with = crate::openapi::base64url)]
    pub id: String,
    /// How the browser may reach the authenticator (`usb`, `nfc`, `ble`,
    /// `internal`, `hybrid`).
    pub transports: Option<Vec<String>>,
}

/// Which authenticators may take part.
#[derive(ToSchema)]
pub struct AuthenticatorSelection {
    #[schema(rename = "authenticatorAttachment", inline)]
    pub authenticator_attachment: Option<Attachment>,
    #[schema(rename = "residentKey", inline)]
    pub resident_key: Option<Requirement>,
    #[schema(rename = "requireResidentKey")]
    pub require_resident_key: bool,
    #[schema(rename = "userVerification", inline)]
    pub user_verification: Requirement,
}

/// Options for `navigator.credentials.get`: decode `publicKey.challenge`
/// and each `allowCredentials[].id` from base64url before passing
/// `publicKey`.
#[derive(ToSchema)]
pub struct RequestOptions {
    #[schema(rename = "publicKey")]
    pub public_key: PublicKeyRequestOptions,
    /// `conditional` asks the browser for its autofill UI.
    #[schema(inline)]
    pub mediation: Option<Mediation>,
}

/// `PublicKeyCredentialRequestOptions` (WebAuthn Level 3).
#[derive(ToSchema)]
pub struct PublicKeyRequestOptions {
    #[schema(schema_with = crate::openapi::base64url)]
    pub challenge: String,
    /// Milliseconds the browser should wait.
    pub timeout: Option<u32>,
    #[schema(rename = "rpId")]
    pub rp_id: String,
    /// The credentials that may answer; empty for a passkey login, where
    /// the user picks one.
    #[schema(rename = "allowCredentials")]
    pub allow_credentials: Vec<CredentialDescriptor>,
    #[schema(rename = "userVerification", inline)]
    pub user_verification: Requirement,
    #[schema(inline)]
    pub hints: Option<Vec<Hint>>,
    /// Client extension inputs, passed on unchanged.
    #[schema(value_type = Option<Object>)]
    pub extensions: Option<()>,
}

/// Always `public-key`.
#[derive(ToSchema)]
pub enum PublicKeyType {
    #[schema(rename = "public-key")]
    PublicKey,
}

#[derive(ToSchema)]
pub enum Attachment {
    #[schema(rename = "platform")]
    Platform,
    #[schema(rename = "cross-platform")]
    CrossPlatform,
}

/// `required`, `preferred` or `discouraged`.
#[derive(ToSchema)]
pub enum Requirement {
    #[schema(rename = "required")]
    Required,
    #[schema(rename = "preferred")]
    Preferred,
    #[schema(rename = "discouraged")]
    Discouraged,
}

#[derive(ToSchema)]
pub enum Hint {
    #[schema(rename = "security-key")]
    SecurityKey,
    #[schema(rename = "client-device")]
    ClientDevice,
    #[schema(rename = "hybrid")]
    Hybrid,
}

#[derive(ToSchema)]
pub enum Attestation {
    #[schema(rename = "none")]
    None,
    #[schema(rename = "indirect")]
    Indirect,
    #[schema(rename = "direct")]
    Direct,
}

#[derive(ToSchema)]
pub enum Mediation {
    #[schema(rename = "conditional")]
    Conditional,
}

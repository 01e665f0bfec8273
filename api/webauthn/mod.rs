//! WebAuthn: passkeys, security keys and platform biometrics (fingerprint,
//! face), as a second factor after the password and as passwordless
//! passkey login.
//!
//! Ceremony state is kept in the database (`webauthn_challenges`) with an
//! expiry and deleted when used, so any instance can finish a ceremony
//! another started and no assertion can be replayed. User verification is
//! required in every ceremony. Sign counters may only move forward.

pub mod ceremony;
pub mod dto;
pub mod enrollment_handlers;
pub mod handlers;
pub mod login_handlers;
pub mod options_schema;
pub mod repo;
pub mod service;

use webauthn_rs::{Webauthn, WebauthnBuilder};

use crate::config::Config;

/// The relying party from `TWOFOLD_RP_ID`, the public URL and
/// `TWOFOLD_WEBAUTHN_ORIGINS`. `None` (WebAuthn unavailable, the rest of
/// the service unaffected) when the public URL is an IP address and no RP
/// id was set; an RP id that was set but does not fit is a start-up error.
pub fn relying_party(config: &Config) -> Result<Option<Webauthn>, String> {
    let Some(rp_id) = &config.rp_id else {
        tracing::warn!(
            "WebAuthn is unavailable: TWOFOLD_PUBLIC_URL has an IP address for host; \
             set a host name (and TWOFOLD_RP_ID) to enable passkeys"
        );
        return Ok(None);
    };
    let mut builder = WebauthnBuilder::new(rp_id, &config.public_url)
        .map_err(|e| format!("TWOFOLD_RP_ID / TWOFOLD_PUBLIC_URL: {e}"))?
        .rp_name(&config.issuer);
    for origin in &config.webauthn_origins {
        builder = builder.append_allowed_origin(origin);
    }
    builder
        .build()
        .map(Some)
        .map_err(|e| format!("TWOFOLD_WEBAUTHN_ORIGINS: {e}"))
}

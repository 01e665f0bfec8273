//! The second factor: authenticator apps (TOTP), recovery codes, the
//! enrollments that create them and resets (attempt limits: [`crate::attempts`]).
//!
//! Invariants kept here:
//! - a TOTP step is accepted at most once per secret, by one conditional
//!   UPDATE that raises the `last_step` of the authenticator (or of the
//!   enrollment in progress, whose record the authenticator inherits);
//! - a recovery code is spent by one conditional DELETE;
//! - nothing of an enrollment is active until its recovery code is
//!   confirmed: the secret and code wait in `pending_enrollments`;
//! - secrets are sealed with AES-256-GCM; recovery codes exist only as
//!   argon2id hashes.

pub mod dto;
pub mod handlers;
pub mod me_handlers;
pub mod repo;
pub mod service;

/// Who owns an enrollment in progress.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Owner {
    /// The login flow of a user who must enroll before signing in.
    Flow(crate::ids::FlowId),
    /// The session of a signed-in user enrolling or re-enrolling.
    Session(crate::ids::SessionId),
}

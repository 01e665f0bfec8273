//! Second-factor rules shared by the login flow and signed-in users, one
//! file per use case: [`policy`] (pure: who must have 2FA, status, methods),
//! [`enrollment`] (start, verify and activate an authenticator and its
//! recovery code), [`flow`] and [`me`] (the same for a login flow and for a
//! signed-in session), [`verify`] (checking a factor at login, failures)
//! and [`reset`] (admin and support resets). Services never build SQL (that
//! is [`super::repo`]) nor know routes or response bodies (the handlers).
//!
//! Other domains use the paths re-exported here.

pub mod enrollment;
pub mod flow;
pub mod me;
pub mod policy;
pub mod reset;
pub mod verify;

pub use enrollment::{
    activate, code_not_verified, new_pending, new_recovery_code, not_started, open, pending_uri,
    require_confirmed, seal, start_totp, verify_pending, StartedTotp, Waiting,
};
pub use me::overview;
pub use policy::{
    login_methods, methods, pending_expires_at, required_by, status, FRESH_MFA_SECS,
    PENDING_TTL_SECS,
};
pub use reset::{reset, reset_by_email, ResetDone};
pub use verify::{check_recovery_code, check_totp, failed, reserve, verified};

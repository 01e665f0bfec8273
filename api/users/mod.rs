//! Users: identity, role, password hash and the 2FA requirement.

pub mod model;
pub mod repo;

pub use model::{normalize_email, Role, TwofaStatus, User};

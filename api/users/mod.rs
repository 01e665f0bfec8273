//! Users: identity, role, password hash and the 2FA requirement.

pub mod addresses;
pub mod identity;
pub mod model;
pub mod profile_check;
pub mod repo;

pub use identity::normalize_email;
pub use model::{Role, TwofaStatus, User, UserStatus};

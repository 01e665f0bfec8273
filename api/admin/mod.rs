//! The admin "Security and Authentication" surface: users of the admin's
//! own account (and taking them off it), their 2FA, the account's security settings and its audit
//! trail. Anything of another account answers 404, never 403.

pub mod audit_handlers;
pub mod audit_service;
pub mod cursor;
pub mod dto;
pub mod guard;
pub mod lifecycle_handlers;
pub mod security;
pub mod sessions_handlers;
pub mod users_handlers;
pub mod users_repo;
pub mod users_service;

pub use guard::Admin;

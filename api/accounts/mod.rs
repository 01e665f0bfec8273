//! Accounts (tenants): billing state and the 2FA enforcement it implies.

pub mod billing;
pub mod model;
pub mod repo;
pub mod service;

pub use model::Account;

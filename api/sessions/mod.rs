//! Sessions: one database row per login, EdDSA access tokens that name it,
//! and opaque refresh tokens rotated on every use.
//!
//! A valid signature never suffices alone: every authenticated request
//! checks that its session row is live, so logout, a password change or an
//! admin reset revokes access at once rather than after 15 minutes.

pub mod amr;
pub mod dto;
pub mod extract;
pub mod handlers;
pub mod jwt;
pub mod keys;
pub mod manage;
pub mod me_handlers;
pub mod repo;
pub mod service;

pub use extract::{Authenticated, Enrolling};

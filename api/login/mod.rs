//! Identifier-first login: email, then password, then (for users who need
//! it) a second factor.
//!
//! Each step is bound to a server-side flow row addressed by the SHA-256 of
//! a short-lived, single-purpose flow token. A step consumes its row with
//! one conditional write, so a flow token cannot be replayed or used for
//! another step, and two racing requests cannot both advance one flow.

pub mod dto;
pub mod extract;
pub mod flow;
pub mod flow_state;
pub mod handlers;
pub mod password;
mod password_next;
pub mod repo;
pub mod second_factor;
pub mod service;
mod totp;

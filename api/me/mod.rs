//! The signed-in user's own profile and password.

pub mod dto;
pub mod handlers;
pub mod service;

//! Remembered devices ("trust this device for N days"), under the account
//! admin's `remember_device_days`. See [`service`] for the rules.

pub mod dto;
pub mod handlers;
pub mod repo;
pub mod service;
pub mod settings;

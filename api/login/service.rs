//! The login rules, by use case: [`super::flow`] (a flow's life and its
//! tokens), [`super::flow_state`] (the step a flow is at),
//! [`super::password`] (the email and password steps) and
//! [`super::second_factor`] (the app code, the recovery code, and what
//! every proven second factor shares).
//!
//! This module only names them in one place, so handlers and the other
//! domains (`twofa`, `webauthn`, `me`) reach every login rule as
//! `login::service::…`; it must hold no rule of its own.

pub use super::flow::{
    advance, allowed, complete, load, load_user, open_flow, owner,
    recovery_code_confirmation_required, step_expires_at, Known, FLOW_MAX_SECS, FLOW_TTL_SECS,
};
pub use super::flow_state::{state, FlowState};
pub use super::password::{
    after_password, password, second_factor_methods, start, wrong_password, AfterPassword,
};
pub use super::second_factor::{assurance, finish_second_factor, recovery_code, CodeStep};
pub use super::totp::totp;
pub use crate::sessions::amr::Factor;

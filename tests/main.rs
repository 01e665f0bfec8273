//! One integration-test binary: every module drives the real HTTP app.
//! Run on PostgreSQL with `TWOFOLD_TEST_DATABASE_URL=postgres://...`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

mod common;

mod bad_input;
mod cli;
mod contract;
mod login;
mod me_twofa;
mod ops;
mod support_reset;
mod tokens;
mod twofa;

//! One integration-test binary: every module drives the real HTTP app.
//! Run on PostgreSQL with `TWOFOLD_TEST_DATABASE_URL=postgres://...`.

#![expect(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "tests fail loudly by design"
)]

mod common;

mod admin_users;
mod audit_trail;
mod autogroup;
mod bad_input;
mod cli;
mod commits;
mod contract;
mod db_outage;
mod enrollment_flow;
mod forwarding;
mod full_limits;
mod guessing;
mod hardening_small;
mod hot_account;
mod identities;
mod ip_allowlist;
mod keys;
mod login;
mod me_twofa;
mod operator;
mod ops;
mod passkey_attacks;
mod remembered_devices;
mod session_attacks;
mod session_cap;
mod sessions_listing;
mod shutdown;
mod statement_budget;
mod support_reset;
mod tenant_probing;
mod tokens;
mod twofa;
mod webauthn;

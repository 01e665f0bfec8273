//! The `twofold` command line: serve, migrate, print the contract, and the
//! operator's account commands. Every command takes `--json` for output a
//! script can read.
//!
//! This file holds what clap parses; [`run`] (in `cli/dispatch.rs`) carries
//! a parsed command out, `cli/accounts.rs` the account commands,
//! `cli/backup.rs` the SQLite backup, `cli/keys.rs` the key commands and `cli/serve.rs` the server. None of them holds a rule of its own: each
//! calls the service the API uses.

mod accounts;
mod backup;
mod dispatch;
mod keys;
mod serve;

pub use dispatch::run;

use std::path::PathBuf;

use chrono::DateTime;
use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "twofold",
    version,
    about = "Two-factor authentication API for multi-tenant SaaS"
)]
pub struct Cli {
    /// Machine-readable JSON output.
    #[arg(long, global = true)]
    pub json: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the HTTP service (migrates the database and creates keys first).
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Print the OpenAPI contract as YAML.
    Openapi {
        /// Write to this file instead of standard output.
        #[arg(long)]
        output: Option<PathBuf>,
    },
    /// Customer accounts.
    #[command(subcommand)]
    Accounts(AccountsCommand),
    /// Users (support actions).
    #[command(subcommand)]
    Users(UsersCommand),
    /// Token-signing and master keys.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Copy the SQLite database to FILE while the service runs; for
    /// PostgreSQL use pg_dump.
    Backup {
        /// The copy to write: a new file in a directory that exists.
        #[arg(long, value_name = "FILE")]
        output: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Make a new token-signing key active on every instance; tokens signed
    /// before stay valid until they expire. Prints {"kid"}.
    RotateSigning,
    /// Replace the generated master key (TWOFOLD_DATA_DIR/master.key),
    /// keeping the old one to open older values, then reseal.
    RotateMaster,
    /// Re-encrypt every sealed secret under the current master key, in
    /// batches, while the service runs. Prints {"resealed","remaining"}.
    Reseal,
    /// How many secrets each master key seals, and the signing keys.
    Status,
}

#[derive(Debug, Subcommand)]
pub enum UsersCommand {
    /// Remove a user's second factors and sign them out everywhere; their
    /// next login enrolls a new authenticator. For a lone admin locked out
    /// of a single-license account. Audited.
    #[command(name = "reset-2fa")]
    ResetTwofa {
        #[arg(long)]
        email: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum AccountsCommand {
    /// Create an account and its first admin; prints a one-time password.
    Create {
        #[arg(long)]
        name: String,
        #[arg(long)]
        admin_email: String,
        #[arg(long)]
        admin_name: Option<String>,
        #[arg(long, default_value_t = 1)]
        licenses: i32,
    },
    /// Record that an account pays; 2FA is enforced 24 hours later.
    SetPaying {
        #[arg(long)]
        account: String,
        /// RFC 3339 time the account started paying (default: now). A time
        /// more than 24 hours ago makes enforcement due at once.
        #[arg(long, value_parser = parse_rfc3339)]
        since: Option<i64>,
        #[arg(long)]
        licenses: Option<i32>,
    },
    /// Turn an account's IP allow-list off: the support path for admins who
    /// locked themselves out. Audited.
    DisableIpAllowlist {
        #[arg(long)]
        account: String,
    },
}

fn parse_rfc3339(s: &str) -> Result<i64, String> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.timestamp())
        .map_err(|e| format!("expected RFC 3339, e.g. 2026-11-28T09:00:00Z: {e}"))
}

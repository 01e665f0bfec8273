//! Runs a parsed command line: prints the contract, applies migrations,
//! resets a user's 2FA, or hands over to [`super::accounts`],
//! [`super::backup`], [`super::keys`] and [`super::serve`]. Every command prints one human line or, with `--json`,
//! one JSON document; failures come back as a message for `main` to print.

use super::{Cli, Command, UsersCommand};
use crate::clock::{Clock, SystemClock};
use crate::config::Config;
use crate::db::Db;
use crate::error::ApiError;
use crate::users::profile_check;

/// Runs `cli`; `Err` holds the message to show, without the `twofold:` prefix.
pub fn run(cli: Cli) -> Result<(), String> {
    if let Command::Openapi { output } = &cli.command {
        // The contract needs no configuration: CI generates it bare.
        let text = if cli.json {
            crate::openapi::json()?
        } else {
            crate::openapi::yaml()?
        };
        return match output {
            Some(path) => {
                std::fs::write(path, text).map_err(|e| format!("{}: {e}", path.display()))
            }
            None => write_stdout(&text),
        };
    }
    let config = Config::from_env().map_err(|e| e.to_string())?;
    match cli.command {
        Command::Openapi { .. } => Ok(()),
        Command::Serve => super::serve::serve(config),
        Command::Migrate => migrate(cli.json, &config),
        Command::Accounts(command) => super::accounts::run(cli.json, &config, command),
        Command::Users(UsersCommand::ResetTwofa { email }) => reset_twofa(cli.json, &config, email),
        Command::Keys(command) => super::keys::run(cli.json, &config, command),
        Command::Backup { output } => super::backup::run(cli.json, &config, &output),
    }
}

fn migrate(json: bool, config: &Config) -> Result<(), String> {
    let db = open_db(config)?;
    let applied = db.migrate().map_err(|e| e.to_string())?;
    let outside = users_outside_profile(&db)?;
    let value = serde_json::json!({
        "applied": applied,
        "database": db.backend(),
        "users_outside_profile": outside,
    });
    print(json, &value, || {
        format!(
            "{applied} migration(s) applied to {}\n{}",
            db.backend(),
            profile_check::describe(&outside)
        )
    })
}

fn reset_twofa(json: bool, config: &Config, email: String) -> Result<(), String> {
    let db = open_db(config)?;
    db.migrate().map_err(|e| e.to_string())?;
    let mut conn = db.conn().map_err(|e| e.to_string())?;
    let reset = crate::twofa::service::reset_by_email(&mut conn, &email, SystemClock.unix())
        .map_err(|e| match e {
            ApiError::NotFound => format!("no user with email {email}"),
            ApiError::Validation(_) => format!("--email: {email} is not an email address"),
            other => other.to_string(),
        })?;
    let value = serde_json::to_value(&reset).map_err(|e| e.to_string())?;
    print(json, &value, || {
        format!(
            "2FA reset for {} ({}); {} session(s) revoked; the next login enrolls a new authenticator",
            reset.email, reset.user_id, reset.sessions_revoked
        )
    })
}

pub(super) fn open_db(config: &Config) -> Result<Db, String> {
    Db::connect(&config.database_url).map_err(|e| e.to_string())
}

/// Users created before the identity profile who fall outside it: reported
/// by `migrate` and at `serve` start, never changed.
pub(super) fn users_outside_profile(db: &Db) -> Result<Vec<profile_check::Finding>, String> {
    let mut conn = db.conn().map_err(|e| e.to_string())?;
    profile_check::users_outside_profile(&mut conn).map_err(|e| e.to_string())
}

/// Prints `value` as one line of JSON, or the human text.
pub(super) fn print(
    json: bool,
    value: &serde_json::Value,
    human: impl FnOnce() -> String,
) -> Result<(), String> {
    if json {
        println!("{value}");
    } else {
        println!("{}", human());
    }
    Ok(())
}

/// Writes `text` to standard output; a reader that stops early (`| head`)
/// ends the command quietly instead of a panic on the broken pipe.
fn write_stdout(text: &str) -> Result<(), String> {
    use std::io::Write as _;
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(format!("stdout: {e}")),
        _ => Ok(()),
    }
}

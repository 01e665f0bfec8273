//! `twofold accounts ...`: the operator's account commands. Each opens the
//! database, migrates it, calls one service function and prints its answer;
//! the rules (limits, audit) live in [`crate::accounts`] and
//! [`crate::ip_allowlist`], shared with the API.

use super::dispatch::{open_db, print};
use super::AccountsCommand;
use crate::accounts::service::{self as accounts, NewAccount};
use crate::clock::{Clock, SystemClock};
use crate::config::Config;
use crate::crypto::password::PasswordHasher;
use crate::error::ApiError;
use crate::ids::AccountId;

/// An API error as the command line says it: a field is named as its option.
fn describe(e: ApiError) -> String {
    match e {
        ApiError::Validation(fields) => fields
            .iter()
            .map(|f| format!("--{}: {}", f.field.replace('_', "-"), f.message))
            .collect::<Vec<_>>()
            .join("; "),
        ApiError::NotFound => "no such account".to_owned(),
        ApiError::Conflict { detail, .. } => detail,
        other => other.to_string(),
    }
}

pub fn run(json: bool, config: &Config, command: AccountsCommand) -> Result<(), String> {
    let db = open_db(config)?;
    db.migrate().map_err(|e| e.to_string())?;
    let mut conn = db.conn().map_err(|e| e.to_string())?;
    let now = SystemClock.unix();
    match command {
        AccountsCommand::Create {
            name,
            admin_email,
            admin_name,
            licenses,
        } => {
            let hasher = PasswordHasher::new(config.password)?;
            let input = NewAccount {
                name: &name,
                admin_email: &admin_email,
                admin_name: admin_name.as_deref(),
                licenses,
            };
            let created = accounts::create(&mut conn, &hasher, &input, now).map_err(describe)?;
            let value = serde_json::to_value(&created).map_err(|e| e.to_string())?;
            print(json, &value, || {
                format!(
                    "account {}\nadmin   {} ({})\npassword {}\n(shown once: change it with POST /v1/me/password)",
                    created.account_id,
                    created.email,
                    created.user_id,
                    created.password.expose()
                )
            })
        }
        AccountsCommand::DisableIpAllowlist { account } => {
            let changed = crate::ip_allowlist::disable_by_support(
                &mut conn,
                &AccountId::from(account.as_str()),
                now,
            )
            .map_err(describe)?;
            let value = serde_json::json!({ "account_id": account, "ip_allowlist_enabled": false, "changed": changed });
            print(json, &value, || {
                format!(
                    "IP allow-list of account {account} is off{}",
                    if changed { "" } else { " (it was already)" }
                )
            })
        }
        AccountsCommand::SetPaying {
            account,
            since,
            licenses,
        } => {
            let state = accounts::set_paying(
                &mut conn,
                &AccountId::from(account),
                since.unwrap_or(now),
                licenses,
                now,
            )
            .map_err(describe)?;
            let value = serde_json::to_value(&state).map_err(|e| e.to_string())?;
            print(json, &value, || {
                format!(
                    "account {} paying since {} ({} licenses); 2FA enforced from {}",
                    state.account_id, state.paying_since, state.licenses, state.twofa_enforced_from
                )
            })
        }
    }
}

//! Creating accounts with their first admin. Used by the operator CLI; no
//! HTTP here. Billing changes have their own home, [`super::billing`]; its
//! CLI entry stays reachable here.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde::Serialize;

use super::model::Account;
use super::repo;
use crate::crypto::password::PasswordHasher;
use crate::crypto::{random_bytes, Secret};
use crate::db::DbConn;
use crate::error::ApiError;
use crate::ids::{AccountId, UserId};
use crate::users::identity::{normalize_email, validate_name};
use crate::users::{Role, User};

pub use super::billing::{set_paying, PayingState};

/// What `accounts create` prints; the password is shown this once.
#[derive(Debug, Serialize)]
pub struct CreatedAccount {
    pub account_id: AccountId,
    pub user_id: UserId,
    pub email: String,
    pub password: Secret,
}

pub struct NewAccount<'a> {
    pub name: &'a str,
    pub admin_email: &'a str,
    pub admin_name: Option<&'a str>,
    pub licenses: i32,
}

/// A random initial password: 144 bits, 24 URL-safe characters.
pub fn generate_password() -> Secret {
    Secret::new(URL_SAFE_NO_PAD.encode(random_bytes::<18>()))
}

pub fn create(
    conn: &mut DbConn,
    hasher: &PasswordHasher,
    input: &NewAccount<'_>,
    now: i64,
) -> Result<CreatedAccount, ApiError> {
    let name = validate_name("name", input.name)?;
    let email = normalize_email("admin_email", input.admin_email)?;
    let admin_name = match input.admin_name {
        Some(n) => validate_name("admin_name", n)?,
        None => email.0.split('@').next().unwrap_or_default().to_owned(),
    };
    if input.licenses < 1 {
        return Err(ApiError::field("licenses", "must be at least 1"));
    }
    let password = generate_password();
    let password_hash = hasher
        .hash_blocking(&password)
        .map_err(ApiError::internal)?;
    let account = Account {
        id: AccountId::new(),
        name,
        paying_since: None,
        licenses: input.licenses,
        ip_allowlist_enabled: false,
        created_at: now,
        remember_device_days: 0,
    };
    let user = User::new(
        &account.id,
        email,
        admin_name,
        Role::Admin,
        password_hash,
        now,
    );
    crate::db::write_tx(conn, |conn| {
        repo::insert(conn, &account)?;
        crate::users::addresses::add_owner(conn, &user)
    })?;
    Ok(CreatedAccount {
        account_id: account.id,
        user_id: user.id,
        email: user.email,
        password,
    })
}

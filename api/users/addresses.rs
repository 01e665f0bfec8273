//! Who an email signs in as. An email is unique within an account, and
//! signs in as exactly one user across all accounts: its owner. Every new
//! user is stored through here, so "email taken" has one answer.

use super::repo::{self, Insert};
use super::User;
use crate::db::DbConn;
use crate::error::{ApiError, ErrorCode};

/// The 409 for an email already used where it must be unique.
pub fn email_taken() -> ApiError {
    ApiError::Conflict {
        code: ErrorCode::EmailTaken,
        detail: "A user with this email already exists.".to_owned(),
    }
}

/// Stores a new account's first user as the owner of its email: an email
/// some user already signs in as is a 409 `email_taken`.
pub fn add_owner(conn: &mut DbConn, user: &User) -> Result<(), ApiError> {
    match repo::insert(conn, user)? {
        Insert::Stored => Ok(()),
        Insert::EmailTaken => Err(email_taken()),
    }
}

/// Stores a user an admin adds. An email is unique within an account (409
/// `email_taken`, the admin sees their own users anyway), and signs in as
/// one user across accounts. An address that already signs in as another
/// account's user must not be revealed by the answer: the user is added
/// all the same, as not the email's owner, so it never signs in. Both
/// cases run the same statements, so the timing does not tell them apart.
pub fn add(conn: &mut DbConn, user: &mut User) -> Result<(), ApiError> {
    let (in_account, owned) = repo::email_holders(conn, &user.account_id, &user.email_normalized)?;
    if in_account {
        return Err(email_taken());
    }
    user.email_owner = !owned;
    if !repo::insert_unless_taken(conn, user)? {
        // PostgreSQL: another account's new user took the address between
        // the read and the insert (the account lock serialises this one's).
        user.email_owner = false;
        if repo::insert(conn, user)? == Insert::EmailTaken {
            return Err(email_taken());
        }
    }
    if !user.email_owner {
        tracing::info!(
            user_id = %user.id,
            account_id = %user.account_id,
            "added user's email signs in as another account's user: this user cannot sign in"
        );
    }
    Ok(())
}

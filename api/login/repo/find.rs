//! Reading a flow by its token, with what the step it waits for needs, in
//! one query each.

use diesel::prelude::*;

use super::{Flow, FlowRow, FlowState};
use crate::accounts::Account;
use crate::db::schema::{
    accounts, known_addresses, login_flows, recovery_codes, totp_authenticators, users,
    webauthn_credentials,
};
use crate::db::DbConn;
use crate::error::ApiError;
use crate::ids::UserId;
use crate::twofa::repo::Authenticator;
use crate::users::User;

/// The flow a token addresses, if it is unexpired and at `state`.
pub fn find_at(
    conn: &mut DbConn,
    token_hash: &str,
    state: FlowState,
    now: i64,
) -> Result<Option<Flow>, ApiError> {
    Ok(login_flows::table
        .filter(login_flows::token_hash.eq(token_hash))
        .filter(login_flows::state.eq(state.as_str()))
        .filter(login_flows::expires_at.gt(now))
        .select(FlowRow::as_select())
        .get_result(conn)
        .optional()?
        .and_then(FlowRow::into_flow))
}

/// Like [`find_at`], with the flow's user (if it names one), in one query.
pub fn find_at_with_user(
    conn: &mut DbConn,
    token_hash: &str,
    state: FlowState,
    now: i64,
) -> Result<Option<(Flow, Option<User>)>, ApiError> {
    let found: Option<(FlowRow, Option<User>)> = login_flows::table
        .left_join(users::table)
        .filter(login_flows::token_hash.eq(token_hash))
        .filter(login_flows::state.eq(state.as_str()))
        .filter(login_flows::expires_at.gt(now))
        .select((FlowRow::as_select(), Option::<User>::as_select()))
        .get_result(conn)
        .optional()?;
    Ok(found.and_then(|(row, user)| row.into_flow().map(|flow| (flow, user))))
}

/// A flow waiting for the password, with its user (if it names one) and
/// when the client address was last recorded as one the user completed a
/// login from (see [`crate::attempts::address_known`]).
pub struct AtPassword {
    pub flow: Flow,
    pub user: Option<User>,
    pub address_seen_at: Option<i64>,
}

/// The [`AtPassword`] a token addresses, in one query; `address` is the
/// client's bucket (see [`crate::net::address_bucket`]).
pub fn find_at_password(
    conn: &mut DbConn,
    token_hash: &str,
    address: &str,
    now: i64,
) -> Result<Option<AtPassword>, ApiError> {
    let at_address = known_addresses::user_id
        .nullable()
        .eq(login_flows::user_id)
        .and(known_addresses::address.eq(address));
    let found: Option<(FlowRow, Option<User>, Option<i64>)> = login_flows::table
        .left_join(users::table)
        .left_join(known_addresses::table.on(at_address))
        .filter(login_flows::token_hash.eq(token_hash))
        .filter(login_flows::state.eq(FlowState::Password.as_str()))
        .filter(login_flows::expires_at.gt(now))
        .select((
            FlowRow::as_select(),
            Option::<User>::as_select(),
            known_addresses::last_success_at.nullable(),
        ))
        .get_result(conn)
        .optional()?;
    Ok(found.and_then(|(row, user, seen)| {
        row.into_flow().map(|flow| AtPassword {
            flow,
            user,
            address_seen_at: seen,
        })
    }))
}

/// A flow waiting for a second factor, with what the code step needs: the
/// user, their authenticator, whether a recovery code is left, whether
/// they have a passkey (for the "Log In Faster" offer), and when the client
/// address was last recorded as theirs.
pub struct AtCode {
    pub flow: Flow,
    pub user: User,
    pub authenticator: Option<Authenticator>,
    pub has_recovery_code: bool,
    pub has_passkey: bool,
    pub address_seen_at: Option<i64>,
}

/// The flow a token addresses if it waits for a second factor, with its
/// user and what they hold, in one query; `address` is the client's bucket
/// (see [`crate::net::address_bucket`]). A flow without a user (an unknown
/// email's) is not found.
pub fn find_at_code(
    conn: &mut DbConn,
    token_hash: &str,
    address: &str,
    now: i64,
) -> Result<Option<AtCode>, ApiError> {
    type Found = (
        FlowRow,
        User,
        Option<Authenticator>,
        Option<UserId>,
        Option<UserId>,
        Option<i64>,
    );
    // Owned: a nested join's condition may not borrow.
    let at_address = known_addresses::user_id
        .eq(users::id)
        .and(known_addresses::address.eq(address.to_owned()));
    let found: Option<Found> = login_flows::table
        .inner_join(
            users::table
                .left_join(totp_authenticators::table)
                .left_join(recovery_codes::table)
                // One row per passkey; the first says whether there is any.
                .left_join(webauthn_credentials::table)
                .left_join(known_addresses::table.on(at_address)),
        )
        .filter(login_flows::token_hash.eq(token_hash))
        .filter(login_flows::state.eq(FlowState::Mfa.as_str()))
        .filter(login_flows::expires_at.gt(now))
        .select((
            FlowRow::as_select(),
            User::as_select(),
            Option::<Authenticator>::as_select(),
            recovery_codes::user_id.nullable(),
            webauthn_credentials::user_id.nullable(),
            known_addresses::last_success_at.nullable(),
        ))
        .get_result(conn)
        .optional()?;
    Ok(
        found.and_then(|(row, user, authenticator, code, passkey, seen)| {
            row.into_flow().map(|flow| AtCode {
                flow,
                user,
                authenticator,
                has_recovery_code: code.is_some(),
                has_passkey: passkey.is_some(),
                address_seen_at: seen,
            })
        }),
    )
}

/// What decides the step after a right password: the user's account, and
/// which second factors they hold.
pub struct Standing {
    pub account: Account,
    pub has_app: bool,
    pub has_recovery_code: bool,
    pub has_passkey: bool,
}

/// The [`Standing`] of a user, in one query; `None` if the user or their
/// account is gone.
pub fn standing(conn: &mut DbConn, user_id: &UserId) -> Result<Option<Standing>, ApiError> {
    // The account, then the user id found in each factor's table.
    type Found = (Account, Option<UserId>, Option<UserId>, Option<UserId>);
    let found: Option<Found> = users::table
        .inner_join(accounts::table)
        .left_join(totp_authenticators::table)
        .left_join(recovery_codes::table)
        // One row per passkey; the first says whether there is any.
        .left_join(webauthn_credentials::table)
        .filter(users::id.eq(user_id))
        .select((
            Account::as_select(),
            totp_authenticators::user_id.nullable(),
            recovery_codes::user_id.nullable(),
            webauthn_credentials::user_id.nullable(),
        ))
        .get_result(conn)
        .optional()?;
    Ok(found.map(|(account, app, code, passkey)| Standing {
        account,
        has_app: app.is_some(),
        has_recovery_code: code.is_some(),
        has_passkey: passkey.is_some(),
    }))
}

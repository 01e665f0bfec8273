//! The pure rules of the second factor: who must have one and why, what a
//! user's 2FA status is, which factors they can answer with, and how long
//! an enrollment or a proven factor stays good. No I/O and no clock: every
//! input is a value, so unit tests reach these rules without a database or
//! HTTP, and the services that do the I/O all ask the same questions here.

use crate::accounts::Account;
use crate::error::ApiError;
use crate::login::dto::Method;
use crate::twofa::dto::RequiredBy;
use crate::users::{TwofaStatus, User};

/// How long an enrollment in progress stays open.
pub const PENDING_TTL_SECS: i64 = 15 * 60;
/// A second factor counts as fresh (for re-enrolling or regenerating the
/// recovery code) this long after it was proven.
pub const FRESH_MFA_SECS: i64 = 15 * 60;

/// Why 2FA is required for `user`, if it is.
pub fn required_by(user: &User, account: &Account, now: i64) -> Vec<RequiredBy> {
    let mut why = Vec::new();
    if user.twofa_required {
        why.push(RequiredBy::Admin);
    }
    if account.enforces_twofa(now) {
        why.push(RequiredBy::Account);
    }
    why
}

/// The second factors a user can answer with at login, in the order the
/// login flow and the reports list them.
pub fn login_methods(totp: bool, recovery_code: bool, webauthn: bool) -> Vec<Method> {
    [
        (totp, Method::Totp),
        (recovery_code, Method::RecoveryCode),
        (webauthn, Method::Webauthn),
    ]
    .into_iter()
    .filter(|(has, _)| *has)
    .map(|(_, method)| method)
    .collect()
}

/// The second factors a user has, as reported in `methods`: the same list
/// as the login flow's.
pub fn methods(totp: bool, recovery_code: bool, webauthn: bool) -> Vec<Method> {
    login_methods(totp, recovery_code, webauthn)
}

/// The 2FA status reported everywhere: an enrolled authenticator wins over
/// a requirement not yet met.
pub fn status(enrolled: bool, required: bool) -> TwofaStatus {
    match (enrolled, required) {
        (true, _) => TwofaStatus::Enabled,
        (false, true) => TwofaStatus::Pending,
        (false, false) => TwofaStatus::Disabled,
    }
}

/// When an enrollment started at `now` closes. Inside a login it cannot
/// outlive the flow that owns it: `expires_in` says when the flow token
/// dies, not a longer promise.
pub fn pending_expires_at(now: i64, flow_expires_at: Option<i64>) -> i64 {
    let ttl = now + PENDING_TTL_SECS;
    flow_expires_at.map_or(ttl, |flow| flow.min(ttl))
}

/// Replacing a factor the user has needs one proven recently, so a stolen
/// session cannot swap in the thief's authenticator; a user with nothing to
/// prove may enroll from any session.
pub fn may_replace(enrolled: bool, fresh: bool) -> Result<(), ApiError> {
    if enrolled && !fresh {
        return Err(ApiError::ReauthenticationRequired);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::accounts::model::ENFORCEMENT_GRACE_SECS;

    const PAID_AT: i64 = 1_000_000;

    fn user(twofa_required: bool) -> User {
        User {
            id: "u".into(),
            account_id: "a".into(),
            email: "ada@example.com".into(),
            email_normalized: "ada@example.com".into(),
            name: "Ada".into(),
            role: "read_only".into(),
            password_hash: String::new(),
            twofa_required,
            created_at: 0,
            password_changed_at: 0,
            last_login_at: None,
            name_lower: "ada".into(),
            twofa_enrolled: false,
            email_owner: true,
            deactivated_at: None,
        }
    }

    fn account(paying_since: Option<i64>) -> Account {
        Account {
            id: "a".into(),
            name: "Acme".into(),
            paying_since,
            licenses: 1,
            ip_allowlist_enabled: false,
            created_at: 0,
            remember_device_days: 0,
        }
    }

    #[test]
    fn nothing_requires_2fa_on_a_trial_account() {
        assert!(required_by(&user(false), &account(None), PAID_AT).is_empty());
    }

    #[test]
    fn an_admin_requirement_counts_at_once() {
        let why = required_by(&user(true), &account(None), PAID_AT);
        assert_eq!(why, vec![RequiredBy::Admin]);
    }

    #[test]
    fn the_account_requires_2fa_from_a_day_after_paying() {
        let paying = account(Some(PAID_AT));
        let due = PAID_AT + ENFORCEMENT_GRACE_SECS;
        assert!(required_by(&user(false), &paying, due - 1).is_empty());
        assert_eq!(
            required_by(&user(false), &paying, due),
            vec![RequiredBy::Account]
        );
        assert_eq!(
            required_by(&user(true), &paying, due),
            vec![RequiredBy::Admin, RequiredBy::Account]
        );
    }

    #[test]
    fn status_prefers_enrolled_then_required() {
        assert_eq!(status(true, true), TwofaStatus::Enabled);
        assert_eq!(status(true, false), TwofaStatus::Enabled);
        assert_eq!(status(false, true), TwofaStatus::Pending);
        assert_eq!(status(false, false), TwofaStatus::Disabled);
    }

    #[test]
    fn methods_list_what_the_user_has_in_a_fixed_order() {
        assert!(methods(false, false, false).is_empty());
        assert_eq!(methods(true, false, false), [Method::Totp]);
        assert_eq!(
            methods(false, true, true),
            [Method::RecoveryCode, Method::Webauthn]
        );
        let wire = serde_json::to_value(methods(true, true, true)).unwrap();
        assert_eq!(
            wire,
            serde_json::json!(["totp", "recovery_code", "webauthn"])
        );
    }

    #[test]
    fn an_enrollment_never_outlives_its_flow() {
        assert_eq!(pending_expires_at(100, None), 100 + PENDING_TTL_SECS);
        assert_eq!(pending_expires_at(100, Some(160)), 160);
        let later = 100 + PENDING_TTL_SECS + 60;
        assert_eq!(pending_expires_at(100, Some(later)), 100 + PENDING_TTL_SECS);
    }

    #[test]
    fn replacing_a_factor_needs_a_fresh_one() {
        assert!(may_replace(false, false).is_ok());
        assert!(may_replace(true, true).is_ok());
        assert!(matches!(
            may_replace(true, false),
            Err(ApiError::ReauthenticationRequired)
        ));
    }
}

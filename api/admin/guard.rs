//! Who may use the admin surface: role `admin`, inside its own account,
//! with a second factor when the account enforces 2FA or the admin has one.

use actix_web::dev::Payload;
use actix_web::{web, FromRequest, HttpRequest};
use futures_util::future::LocalBoxFuture;

use crate::accounts::Account;
use crate::error::ApiError;
use crate::ids::{AccountId, UserId};
use crate::sessions::service::Caller;
use crate::sessions::Authenticated;
use crate::state::AppState;
use crate::users::Role;

/// An admin's authenticated request, with its account.
pub struct Admin {
    pub caller: Caller,
    pub account: Account,
}

impl Admin {
    pub fn account_id(&self) -> &AccountId {
        &self.account.id
    }

    pub fn user_id(&self) -> &UserId {
        &self.caller.user.id
    }

    /// True when the session proved a second factor in the last 15 minutes.
    pub fn fresh_second_factor(&self, now: i64) -> bool {
        self.caller.fresh_second_factor(now)
    }
}

/// The admin rule, apart from HTTP.
pub fn authorize(caller: &Caller, account: &Account, now: i64) -> Result<(), ApiError> {
    if caller.user.role() != Role::Admin {
        return Err(ApiError::Forbidden("This needs the admin role."));
    }
    let needs_second_factor =
        account.enforces_twofa(now) || caller.user.twofa_required || caller.user.twofa_enrolled;
    if needs_second_factor && caller.session.aal < 2 {
        return Err(if caller.user.twofa_enrolled {
            ApiError::SecondFactorRequired
        } else {
            ApiError::EnrollmentRequired
        });
    }
    Ok(())
}

impl FromRequest for Admin {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let authenticated = Authenticated::from_request(req, payload);
        let state = req.app_data::<web::Data<AppState>>().cloned();
        Box::pin(async move {
            let Authenticated(caller) = authenticated.await?;
            let state = state.ok_or_else(|| ApiError::internal("state missing"))?;
            let account_id = caller.user.account_id.clone();
            let account = state
                .db
                .run(move |conn| crate::accounts::repo::find(conn, &account_id))
                .await?
                .ok_or(ApiError::InvalidToken)?;
            authorize(&caller, &account, state.now())?;
            Ok(Admin { caller, account })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::accounts::model::ENFORCEMENT_GRACE_SECS;
    use crate::sessions::repo::Session;
    use crate::twofa::service::FRESH_MFA_SECS;
    use crate::users::User;

    const NOW: i64 = 1_800_000_000;

    /// A trial account (not paying, so no enforcement).
    fn account() -> Account {
        Account {
            id: "acc".into(),
            name: "Acme".into(),
            paying_since: None,
            licenses: 5,
            ip_allowlist_enabled: false,
            created_at: 0,
            remember_device_days: 0,
        }
    }

    /// A caller of `role` whose session proved `aal`, opened `age` ago.
    fn caller(role: Role, aal: i32, age: i64) -> Caller {
        let email = ("ada@example.com".to_owned(), "ada@example.com".to_owned());
        let user = User::new(&"acc".into(), email, "Ada".into(), role, "hash".into(), 0);
        let session = Session {
            id: "s".into(),
            user_id: user.id.clone(),
            account_id: "acc".into(),
            aal,
            amr: if aal >= 2 { "pwd otp" } else { "pwd" }.into(),
            created_at: NOW - age,
            expires_at: NOW + 3600,
            revoked_at: None,
            revoked_reason: None,
            last_used_at: NOW - age,
            client_address: None,
            user_agent: None,
        };
        Caller { session, user }
    }

    fn code(result: Result<(), ApiError>) -> &'static str {
        result.err().map_or("ok", |e| e.code().as_str())
    }

    #[test]
    fn only_the_admin_role_passes() {
        for role in [Role::Technician, Role::ReadOnly] {
            assert_eq!(
                code(authorize(&caller(role, 2, 0), &account(), NOW)),
                "forbidden"
            );
        }
        assert_eq!(
            code(authorize(&caller(Role::Admin, 1, 0), &account(), NOW)),
            "ok"
        );
    }

    #[test]
    fn an_enforcing_account_needs_aal_2_once_the_grace_day_is_over() {
        let mut paying = account();
        paying.paying_since = Some(NOW - ENFORCEMENT_GRACE_SECS + 60);
        let password_only = caller(Role::Admin, 1, 0);
        assert_eq!(
            code(authorize(&password_only, &paying, NOW)),
            "ok",
            "grace day"
        );
        paying.paying_since = Some(NOW - ENFORCEMENT_GRACE_SECS);
        assert_eq!(
            code(authorize(&password_only, &paying, NOW)),
            "enrollment_required"
        );
        assert_eq!(
            code(authorize(&caller(Role::Admin, 2, 0), &paying, NOW)),
            "ok"
        );
    }

    #[test]
    fn an_admin_required_or_enrolled_needs_aal_2() {
        let mut required = caller(Role::Admin, 1, 0);
        required.user.twofa_required = true;
        assert_eq!(
            code(authorize(&required, &account(), NOW)),
            "enrollment_required"
        );
        let mut enrolled = caller(Role::Admin, 1, 0);
        enrolled.user.twofa_enrolled = true;
        assert_eq!(
            code(authorize(&enrolled, &account(), NOW)),
            "second_factor_required"
        );
        enrolled.session.aal = 2;
        assert_eq!(code(authorize(&enrolled, &account(), NOW)), "ok");
    }

    #[test]
    fn a_second_factor_is_fresh_for_fifteen_minutes_from_sign_in() {
        let admin = |aal, age| Admin {
            caller: caller(Role::Admin, aal, age),
            account: account(),
        };
        assert!(admin(2, FRESH_MFA_SECS).fresh_second_factor(NOW));
        assert!(!admin(2, FRESH_MFA_SECS + 1).fresh_second_factor(NOW));
        assert!(
            !admin(1, 0).fresh_second_factor(NOW),
            "a password is no factor"
        );
    }
}

//! SQL for the signing keys, and the sealed values of every table, for
//! `keys reseal` and `keys status`.

use diesel::prelude::*;

use crate::db::schema::{pending_enrollments, signing_keys, totp_authenticators};
use crate::db::{is_unique_violation, write_tx, DbConn};
use crate::error::ApiError;

const ACTIVE: &str = "active";

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = signing_keys)]
pub struct KeyRow {
    pub kid: String,
    pub public_key: String,
    pub private_sealed: String,
    pub slot: Option<String>,
    pub created_at: i64,
    pub retired_at: Option<i64>,
}

impl KeyRow {
    /// A new key that is to sign from now on.
    pub fn active(kid: String, public_key: String, private_sealed: String, now: i64) -> Self {
        Self {
            kid,
            public_key,
            private_sealed,
            slot: Some(ACTIVE.to_owned()),
            created_at: now,
            retired_at: None,
        }
    }

    pub fn is_active(&self) -> bool {
        self.slot.is_some()
    }
}

/// The active key and every key retired after `retired_after`, newest first.
pub fn live(conn: &mut DbConn, retired_after: i64) -> Result<Vec<KeyRow>, ApiError> {
    Ok(signing_keys::table
        .filter(
            signing_keys::retired_at
                .is_null()
                .or(signing_keys::retired_at.gt(retired_after)),
        )
        .order((signing_keys::created_at.desc(), signing_keys::kid.desc()))
        .select(KeyRow::as_select())
        .load(conn)?)
}

/// Every key, newest first.
pub fn all(conn: &mut DbConn) -> Result<Vec<KeyRow>, ApiError> {
    Ok(signing_keys::table
        .order((signing_keys::created_at.desc(), signing_keys::kid.desc()))
        .select(KeyRow::as_select())
        .load(conn)?)
}

/// Inserts the first active key unless some key is active already (another
/// instance starting at the same moment won): `false` then. Must not run
/// inside a transaction (PostgreSQL aborts one on the violation).
pub fn insert_first(conn: &mut DbConn, row: &KeyRow) -> Result<bool, ApiError> {
    match diesel::insert_into(signing_keys::table)
        .values(row)
        .execute(conn)
    {
        Ok(_) => Ok(true),
        Err(e) if is_unique_violation(&e) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// Retires the active key `expected` and makes `new` active, in one
/// transaction. `false` when `expected` is no longer the active key (a
/// concurrent rotation won); nothing changes then.
pub fn rotate(conn: &mut DbConn, expected: &str, new: &KeyRow, now: i64) -> Result<bool, ApiError> {
    write_tx(conn, |conn| {
        let retired = crate::db::update(
            signing_keys::table
                .filter(signing_keys::kid.eq(expected))
                .filter(signing_keys::slot.eq(ACTIVE)),
        )
        .set((
            signing_keys::slot.eq(None::<String>),
            signing_keys::retired_at.eq(now),
        ))
        .execute(conn)?;
        if retired == 0 {
            return Ok(false);
        }
        diesel::insert_into(signing_keys::table)
            .values(new)
            .execute(conn)?;
        Ok(true)
    })
}

/// Deletes keys retired at or before `before`: no token they signed can
/// still be valid, and their sealed private halves should not linger.
pub fn purge_retired(conn: &mut DbConn, before: i64) -> Result<usize, ApiError> {
    Ok(
        diesel::delete(signing_keys::table.filter(signing_keys::retired_at.le(before)))
            .execute(conn)?,
    )
}

/// Which table a sealed value lives in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sealed {
    TotpSecrets,
    PendingEnrollments,
    SigningKeys,
}

impl Sealed {
    pub const ALL: [Self; 3] = [
        Self::TotpSecrets,
        Self::PendingEnrollments,
        Self::SigningKeys,
    ];
}

/// One sealed value: its row's key, the owner it is bound to, the value.
#[derive(Debug, Clone)]
pub struct SealedValue {
    pub row: String,
    pub owner: String,
    pub sealed: String,
}

/// The owner a signing key's private half is bound to.
pub fn signing_key_owner(kid: &str) -> String {
    format!("signing-key:{kid}")
}

/// Up to `limit` values of `table` not sealed under `current`, after row
/// `after` in row order (keyset paging, so a run moves forward even past
/// values it cannot open).
pub fn not_under(
    conn: &mut DbConn,
    table: Sealed,
    current: &str,
    after: &str,
    limit: i64,
) -> Result<Vec<SealedValue>, ApiError> {
    let prefix = format!("v1.{current}.%");
    let rows: Vec<(String, String, String)> = match table {
        Sealed::TotpSecrets => totp_authenticators::table
            .filter(totp_authenticators::secret_sealed.not_like(&prefix))
            .filter(totp_authenticators::user_id.gt(after))
            .order(totp_authenticators::user_id)
            .limit(limit)
            .select((
                totp_authenticators::user_id,
                totp_authenticators::user_id,
                totp_authenticators::secret_sealed,
            ))
            .load(conn)?,
        Sealed::PendingEnrollments => pending_enrollments::table
            .filter(pending_enrollments::secret_sealed.not_like(&prefix))
            .filter(pending_enrollments::id.gt(after))
            .order(pending_enrollments::id)
            .limit(limit)
            .select((
                pending_enrollments::id,
                pending_enrollments::user_id,
                pending_enrollments::secret_sealed.assume_not_null(),
            ))
            .load(conn)?,
        Sealed::SigningKeys => signing_keys::table
            .filter(signing_keys::private_sealed.not_like(&prefix))
            .filter(signing_keys::kid.gt(after))
            .order(signing_keys::kid)
            .limit(limit)
            .select((
                signing_keys::kid,
                signing_keys::kid,
                signing_keys::private_sealed,
            ))
            .load(conn)?,
    };
    Ok(rows
        .into_iter()
        .map(|(row, owner, sealed)| SealedValue {
            owner: match table {
                Sealed::SigningKeys => signing_key_owner(&owner),
                _ => owner,
            },
            row,
            sealed,
        })
        .collect())
}

/// Replaces one sealed value if it is still `old`: a value the service
/// changed meanwhile (a new enrollment) is left alone. `true` if replaced.
pub fn replace(
    conn: &mut DbConn,
    table: Sealed,
    row: &str,
    old: &str,
    new: &str,
) -> Result<bool, ApiError> {
    let changed = match table {
        Sealed::TotpSecrets => crate::db::update(
            totp_authenticators::table
                .filter(totp_authenticators::user_id.eq(row))
                .filter(totp_authenticators::secret_sealed.eq(old)),
        )
        .set(totp_authenticators::secret_sealed.eq(new))
        .execute(conn)?,
        Sealed::PendingEnrollments => crate::db::update(
            pending_enrollments::table
                .filter(pending_enrollments::id.eq(row))
                .filter(pending_enrollments::secret_sealed.eq(old)),
        )
        .set(pending_enrollments::secret_sealed.eq(new))
        .execute(conn)?,
        Sealed::SigningKeys => crate::db::update(
            signing_keys::table
                .filter(signing_keys::kid.eq(row))
                .filter(signing_keys::private_sealed.eq(old)),
        )
        .set(signing_keys::private_sealed.eq(new))
        .execute(conn)?,
    };
    Ok(changed == 1)
}

#[derive(QueryableByName)]
struct KeyCount {
    #[diesel(sql_type = diesel::sql_types::Text)]
    key_id: String,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

/// How many values each master key id seals, over every table. A sealed
/// value is `v1.<8-hex key id>.<blob>`, so the id is characters 4 to 11.
pub fn count_by_key(conn: &mut DbConn) -> Result<Vec<(String, i64)>, ApiError> {
    let rows: Vec<KeyCount> = diesel::sql_query(
        "SELECT key_id, CAST(SUM(n) AS BIGINT) AS n FROM ( \
           SELECT substr(secret_sealed, 4, 8) AS key_id, COUNT(*) AS n \
             FROM totp_authenticators GROUP BY 1 \
           UNION ALL SELECT substr(secret_sealed, 4, 8), COUNT(*) \
             FROM pending_enrollments WHERE secret_sealed IS NOT NULL GROUP BY 1 \
           UNION ALL SELECT substr(private_sealed, 4, 8), COUNT(*) \
             FROM signing_keys GROUP BY 1 \
         ) AS sealed GROUP BY key_id ORDER BY key_id",
    )
    .load(conn)?;
    Ok(rows.into_iter().map(|r| (r.key_id, r.n)).collect())
}

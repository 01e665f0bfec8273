//! Typed identifiers: one newtype per kind of row id.
//!
//! Row ids are UUID strings in the database and on the wire, so a bare
//! `String` would let a user id slip where an account id belongs and the
//! compiler would not notice. These wrappers make that a type error while
//! staying plain text everywhere else: `serde(transparent)` keeps the JSON
//! shape, and the diesel impls bind and read them as `Text` on both
//! backends (including the `MultiConnection` one). They implement no
//! `ToSchema`: a DTO field says `#[schema(value_type = String)]`, so the
//! OpenAPI document shows the same plain string as before.
//!
//! `From<String>`/`From<&str>` exist for the edges (path parameters, CLI
//! arguments, rows read as text) and should not appear in the middle of a
//! service. This module owns only the types; it never decides whether an id
//! exists — that is the repos' job, and an unknown id stays a 404 there.

use std::fmt;

use diesel::backend::Backend;
use diesel::deserialize::{self, FromSql};
use diesel::serialize::{self, Output, ToSql};
use diesel::sql_types::Text;
use serde::{Deserialize, Serialize};

macro_rules! text_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(
            Debug,
            Clone,
            PartialEq,
            Eq,
            Hash,
            PartialOrd,
            Ord,
            Serialize,
            Deserialize,
            diesel::expression::AsExpression,
            diesel::deserialize::FromSqlRow,
        )]
        #[serde(transparent)]
        #[diesel(sql_type = Text)]
        pub struct $name(String);

        impl $name {
            /// A fresh random id (UUID v4), the form every row id has.
            #[expect(clippy::new_without_default, reason = "a default id would be a random one; say so at the call site")]
            pub fn new() -> Self {
                Self(uuid::Uuid::new_v4().to_string())
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        /// Text from a path, a token claim or a row: whether such a row
        /// exists is for the repo to say.
        impl From<String> for $name {
            fn from(s: String) -> Self {
                Self(s)
            }
        }

        impl From<&str> for $name {
            fn from(s: &str) -> Self {
                Self(s.to_owned())
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> Self {
                id.0
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.0 == other
            }
        }

        impl PartialEq<String> for $name {
            fn eq(&self, other: &String) -> bool {
                &self.0 == other
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.0 == *other
            }
        }

        // Generic over the backend, so the same impl serves SQLite,
        // PostgreSQL and the `DbConn` multi-backend (which implements text
        // for `str` and `String` itself).
        impl<DB: Backend> ToSql<Text, DB> for $name
        where
            str: ToSql<Text, DB>,
        {
            fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, DB>) -> serialize::Result {
                <str as ToSql<Text, DB>>::to_sql(self.0.as_str(), out)
            }
        }

        impl<DB: Backend> FromSql<Text, DB> for $name
        where
            String: FromSql<Text, DB>,
        {
            fn from_sql(bytes: DB::RawValue<'_>) -> deserialize::Result<Self> {
                String::from_sql(bytes).map(Self)
            }
        }
    };
}

text_id! {
    /// A user (`users.id`).
    UserId
}

text_id! {
    /// An account, the tenant a user belongs to (`accounts.id`).
    AccountId
}

text_id! {
    /// A login session (`sessions.id`), the `sid` claim of an access token.
    SessionId
}

text_id! {
    /// A login in progress (`login_flows.id`); never shown to the client,
    /// which holds the flow's token instead.
    FlowId
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serde_keeps_the_plain_string() {
        let id = UserId::from("5f0c1a2e-0000-4000-8000-000000000001");
        let json = serde_json::to_string(&id).unwrap();
        assert_eq!(json, "\"5f0c1a2e-0000-4000-8000-000000000001\"");
        let back: UserId = serde_json::from_str(&json).unwrap();
        assert_eq!(back, id);

        let account: AccountId = serde_json::from_str("\"acme\"").unwrap();
        assert_eq!(account.as_str(), "acme");
        assert_eq!(account.to_string(), "acme");
    }

    #[test]
    fn binds_and_reads_back_as_text_through_the_multi_backend() {
        use diesel::prelude::*;
        use diesel::IntoSql;

        let sqlite = diesel::SqliteConnection::establish(":memory:").unwrap();
        let mut conn = crate::db::DbConn::Sqlite(sqlite);
        let id = AccountId::from("acc-1");
        let back: AccountId = diesel::select(id.clone().into_sql::<Text>())
            .get_result(&mut conn)
            .unwrap();
        assert_eq!(back, id);
    }

    #[test]
    fn fresh_ids_are_distinct_uuids() {
        let (a, b) = (SessionId::new(), SessionId::new());
        assert_ne!(a, b);
        assert!(uuid::Uuid::parse_str(a.as_str()).is_ok());
    }
}

//! Case-insensitive substring search over a user's name and email: the
//! one query whose SQL differs by dialect.
//!
//! PostgreSQL: `LIKE '%term%'` on the lower-cased columns, served by the
//! pg_trgm GIN indexes. SQLite: a phrase query on the trigram FTS5 table
//! `users_search` (kept by triggers), which needs at least three
//! characters; shorter terms fall back to `LIKE`, which then matches so many
//! rows that the ordered index walk stops early anyway.

use diesel::dsl::sql;
use diesel::expression::BoxableExpression;
use diesel::prelude::*;
use diesel::sql_types::{Bool, Text};

use super::schema::users;
use super::{DbConn, MultiBackend};

pub type Filter = Box<dyn BoxableExpression<users::table, MultiBackend, SqlType = Bool>>;

/// A filter matching users whose name or email contains `term`
/// (already lower-cased).
pub fn name_or_email_contains(conn: &DbConn, term: &str) -> Filter {
    match conn {
        DbConn::Sqlite(_) if term.chars().count() >= 3 => {
            // An FTS5 string in double quotes is a phrase; `"` is doubled.
            let phrase = format!("\"{}\"", term.replace('"', "\"\""));
            Box::new(
                sql::<Bool>(
                    "users.id IN (SELECT user_id FROM users_search WHERE users_search MATCH ",
                )
                .bind::<Text, _>(phrase)
                .sql(")"),
            )
        }
        _ => {
            let pattern = like_pattern(term);
            Box::new(
                users::name_lower
                    .like(pattern.clone())
                    .escape('\\')
                    .or(users::email_normalized.like(pattern).escape('\\')),
            )
        }
    }
}

/// A LIKE pattern matching `term` anywhere, with `%`, `_` and `\` escaped.
pub fn like_pattern(term: &str) -> String {
    let mut pattern = String::with_capacity(term.len() + 2);
    pattern.push('%');
    for c in term.chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards_in_terms_are_literal() {
        assert_eq!(like_pattern("50%_a\\b"), "%50\\%\\_a\\\\b%");
    }
}

//! Case-insensitive substring search over a user's name and email: the
//! one query whose SQL differs by dialect.
//!
//! PostgreSQL: `LIKE '%term%'` on the lower-cased columns, served by the
//! pg_trgm GIN indexes. SQLite: a phrase query on the trigram FTS5 table
//! `users_search` (kept by triggers) when the term is selective. When it
//! matches more than [`SELECTIVE`] rows, or is shorter than three characters
//! (which trigrams cannot serve), `LIKE` on the ordered index walk finds a
//! page of matches after a few rows and stops; `users_list_by_name` holds
//! both columns, so the walk tests them without reading table rows. FTS answers "how many, up to
//! N" in a few milliseconds, so the choice is cheap.

use diesel::dsl::sql;
use diesel::expression::BoxableExpression;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool, Text};

use super::schema::users;
use super::{DbConn, MultiBackend};

pub type Filter = Box<dyn BoxableExpression<users::table, MultiBackend, SqlType = Bool>>;

/// Above this many FTS matches a term counts as common. Sorting the FTS
/// matches costs about 5 µs each; the ordered walk costs about 1 µs a row
/// and reads 50 ÷ selectivity rows for a page: they cross near √(10·N)
/// matches, 1,000 to 3,000 for 100,000 to 1,000,000 users.
pub const SELECTIVE: i64 = 2_000;

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// A filter matching users whose name or email contains `term`
/// (already lower-cased).
pub fn name_or_email_contains(conn: &mut DbConn, term: &str) -> QueryResult<Filter> {
    if matches!(conn, DbConn::Sqlite(_)) && term.chars().count() >= 3 {
        // An FTS5 string in double quotes is a phrase; `"` is doubled.
        let phrase = format!("\"{}\"", term.replace('"', "\"\""));
        let matches = diesel::sql_query(
            "SELECT count(*) AS n FROM \
             (SELECT rowid FROM users_search WHERE users_search MATCH ? LIMIT ?)",
        )
        .bind::<Text, _>(phrase.clone())
        .bind::<BigInt, _>(SELECTIVE + 1)
        .get_result::<Count>(conn)?
        .n;
        if matches <= SELECTIVE {
            return Ok(Box::new(
                sql::<Bool>(
                    "users.id IN (SELECT user_id FROM users_search WHERE users_search MATCH ",
                )
                .bind::<Text, _>(phrase)
                .sql(")"),
            ));
        }
    }
    let pattern = like_pattern(term);
    Ok(Box::new(
        users::name_lower
            .like(pattern.clone())
            .escape('\\')
            .or(users::email_normalized.like(pattern).escape('\\')),
    ))
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

//! A consistent copy of a SQLite database taken while the service reads and
//! writes it. `VACUUM INTO` copies inside one read transaction: writers go on
//! (WAL), and the copy is the database as of that transaction's start, with
//! every committed write before it and none after.
//!
//! PostgreSQL has its own tool for this (`pg_dump`); nothing here talks to it.
//! This module never chooses, creates or renames files: the caller owns the
//! target's name and what becomes of it.

use std::path::Path;

use diesel::prelude::*;
use diesel::sql_types::Text;

use super::DbConn;

#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("twofold backup copies SQLite databases; for PostgreSQL use pg_dump")]
    NotSqlite,
    #[error("{0}: the path is not valid UTF-8")]
    NotUtf8(String),
    #[error("copying the database failed: {0}")]
    Copy(#[from] diesel::result::Error),
}

/// Writes a consistent copy of the SQLite database behind `conn` to `target`,
/// which must not exist or be an empty file (SQLite refuses anything else, so
/// a copy never lands on top of data).
pub fn vacuum_into(conn: &mut DbConn, target: &Path) -> Result<(), BackupError> {
    let DbConn::Sqlite(conn) = conn else {
        return Err(BackupError::NotSqlite);
    };
    let target = target
        .to_str()
        .ok_or_else(|| BackupError::NotUtf8(target.display().to_string()))?;
    // Bound, not spliced: a quote in a directory name cannot change the SQL.
    diesel::sql_query("VACUUM INTO ?")
        .bind::<Text, _>(target)
        .execute(conn)?;
    Ok(())
}

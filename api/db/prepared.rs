//! Prepared once per connection: the hot path's UPDATEs.
//!
//! diesel keeps a prepared statement per connection for SELECTs and plain
//! INSERTs, but never for an UPDATE: a changeset with optional fields can
//! render many SQL texts, so diesel has each UPDATE parsed and planned again
//! on every call. On PostgreSQL that is a parse and a fresh plan in the
//! backend for every counter a login bumps (measured with
//! `log_min_duration_statement = 0`: a third of the backend's time on a
//! code step); on SQLite a `sqlite3_prepare` each time.
//!
//! [`update`] builds the same statement as `diesel::update` (same target,
//! same changeset, same SQL) but lets the connection keep it prepared,
//! keyed by its SQL text. A changeset with optional fields renders one text
//! per combination set, each prepared once: bounded, and small for the
//! fixed changesets this is for.
//!
//! [`upsert`] does the same for `INSERT … ON CONFLICT (…) DO UPDATE`,
//! which diesel never keeps either, and which it cannot send through a
//! `MultiConnection` at all.

use std::marker::PhantomData;

use diesel::backend::Backend;
use diesel::query_builder::{
    AsChangeset, AstPass, IntoUpdateTarget, QueryFragment, QueryId, UpdateTarget,
};
use diesel::query_source::{Column, Table};
use diesel::result::Error::QueryBuilderError;
use diesel::{QueryResult, RunQueryDsl};

/// `diesel::update`, kept prepared: `update(target).set(changes)`.
pub fn update<S: IntoUpdateTarget>(source: S) -> Target<S::Table, S::WhereClause> {
    Target(source.into_update_target())
}

/// What an [`update`] changes; `.set(changes)` makes the statement.
pub struct Target<T, W>(UpdateTarget<T, W>);

impl<T: Table, W> Target<T, W> {
    pub fn set<V: AsChangeset<Target = T>>(
        self,
        values: V,
    ) -> Update<T::FromClause, V::Changeset, W> {
        Update {
            from: self.0.table.from_clause(),
            values: values.as_changeset(),
            filter: self.0.where_clause,
        }
    }
}

/// An UPDATE the connection prepares once and keeps (see the module).
pub struct Update<F, V, W> {
    from: F,
    values: V,
    filter: W,
}

impl<F, V, W> QueryId for Update<F, V, W> {
    type QueryId = ();
    /// Keyed by its SQL text, as its changeset may render more than one.
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<F, V, W, DB> QueryFragment<DB> for Update<F, V, W>
where
    DB: Backend,
    F: QueryFragment<DB>,
    V: QueryFragment<DB>,
    W: QueryFragment<DB>,
{
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        if self.values.is_noop(out.backend())? {
            return Err(QueryBuilderError("an UPDATE with nothing to set".into()));
        }
        // diesel's own UpdateStatement, but for its `unsafe_to_cache_prepared`.
        out.push_sql("UPDATE ");
        self.from.walk_ast(out.reborrow())?;
        out.push_sql(" SET ");
        self.values.walk_ast(out.reborrow())?;
        self.filter.walk_ast(out.reborrow())?;
        Ok(())
    }
}

impl<F, V, W, C> RunQueryDsl<C> for Update<F, V, W> {}

/// The columns of a conflict target, by name: a tuple of columns.
pub trait ConflictColumns {
    const NAMES: &'static [&'static str];
}

impl<A: Column> ConflictColumns for (A,) {
    const NAMES: &'static [&'static str] = &[A::NAME];
}

impl<A: Column, B: Column> ConflictColumns for (A, B) {
    const NAMES: &'static [&'static str] = &[A::NAME, B::NAME];
}

/// `insert … ON CONFLICT (keys) DO UPDATE SET changes`, kept prepared:
/// `insert` is a plain `diesel::insert_into(…).values(…)` of one row.
pub fn upsert<I, K: ConflictColumns, V: AsChangeset>(
    insert: I,
    _keys: K,
    changes: V,
) -> Upsert<I, K, V::Changeset> {
    Upsert {
        insert,
        keys: PhantomData,
        changes: changes.as_changeset(),
    }
}

/// An upsert the connection prepares once and keeps (see the module).
pub struct Upsert<I, K, V> {
    insert: I,
    keys: PhantomData<K>,
    changes: V,
}

impl<I, K, V> QueryId for Upsert<I, K, V> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<I, K, V, DB> QueryFragment<DB> for Upsert<I, K, V>
where
    DB: Backend,
    I: QueryFragment<DB>,
    K: ConflictColumns,
    V: QueryFragment<DB>,
{
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        if self.changes.is_noop(out.backend())? {
            return Err(QueryBuilderError("an upsert with nothing to set".into()));
        }
        self.insert.walk_ast(out.reborrow())?;
        out.push_sql(" ON CONFLICT (");
        for (n, name) in K::NAMES.iter().enumerate() {
            if n > 0 {
                out.push_sql(", ");
            }
            out.push_identifier(name)?;
        }
        out.push_sql(") DO UPDATE SET ");
        self.changes.walk_ast(out.reborrow())
    }
}

impl<I, K, V, C> RunQueryDsl<C> for Upsert<I, K, V> {}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    use diesel::connection::{InstrumentationEvent, SimpleConnection};
    use diesel::prelude::*;

    use super::{update, upsert};

    diesel::table! {
        counters (id) {
            id -> Integer,
            n -> Integer,
        }
    }

    /// A connection that counts the statements it prepares to keep.
    fn counting() -> (SqliteConnection, Arc<AtomicUsize>) {
        let mut conn = SqliteConnection::establish(":memory:").unwrap();
        conn.batch_execute("CREATE TABLE counters (id INTEGER PRIMARY KEY, n INTEGER NOT NULL); INSERT INTO counters VALUES (1, 0);")
            .unwrap();
        let kept = Arc::new(AtomicUsize::new(0));
        let seen = Arc::clone(&kept);
        conn.set_instrumentation(move |event: InstrumentationEvent<'_>| {
            if let InstrumentationEvent::CacheQuery { .. } = event {
                seen.fetch_add(1, Ordering::Relaxed);
            }
        });
        (conn, kept)
    }

    fn bump(conn: &mut SqliteConnection, prepared: bool) -> usize {
        let target = counters::table.find(1);
        let bumped = counters::n.eq(counters::n + 1);
        if prepared {
            update(target).set(bumped).execute(conn).unwrap()
        } else {
            diesel::update(target).set(bumped).execute(conn).unwrap()
        }
    }

    #[test]
    fn a_prepared_update_is_prepared_once_and_still_runs_every_time() {
        let (mut conn, kept) = counting();
        for _ in 0..3 {
            assert_eq!(bump(&mut conn, true), 1);
        }
        assert_eq!(kept.load(Ordering::Relaxed), 1);
        let n: i32 = counters::table
            .find(1)
            .select(counters::n)
            .get_result(&mut conn)
            .unwrap();
        assert_eq!(n, 3);
    }

    #[test]
    fn the_sql_is_diesels_own() {
        use diesel::debug_query;
        use diesel::pg::Pg;
        use diesel::sqlite::Sqlite;
        let target = || {
            counters::table
                .filter(counters::id.eq(1))
                .filter(counters::n.lt(5))
        };
        let bumped = || {
            (
                counters::n.eq(counters::n + 1),
                counters::id.eq(counters::id),
            )
        };
        let ours = update(target()).set(bumped());
        let diesels = diesel::update(target()).set(bumped());
        assert_eq!(
            debug_query::<Pg, _>(&ours).to_string(),
            debug_query::<Pg, _>(&diesels).to_string()
        );
        assert_eq!(
            debug_query::<Sqlite, _>(&ours).to_string(),
            debug_query::<Sqlite, _>(&diesels).to_string()
        );
    }

    #[test]
    fn an_upsert_inserts_then_updates_and_is_prepared_once() {
        use diesel::debug_query;
        use diesel::sqlite::Sqlite;
        let (mut conn, kept) = counting();
        let put = |id: i32, n: i32| {
            upsert(
                diesel::insert_into(counters::table)
                    .values((counters::id.eq(id), counters::n.eq(n))),
                (counters::id,),
                counters::n.eq(n),
            )
        };
        assert_eq!(
            debug_query::<Sqlite, _>(&put(2, 4)).to_string(),
            "INSERT INTO `counters` (`id`, `n`) VALUES (?, ?) ON CONFLICT (`id`) DO UPDATE SET `n` = ? -- binds: [2, 4, 4]"
        );
        for n in [4, 5] {
            assert_eq!(put(2, n).execute(&mut conn).unwrap(), 1);
        }
        assert_eq!(kept.load(Ordering::Relaxed), 1);
        let rows: Vec<(i32, i32)> = counters::table.order(counters::id).load(&mut conn).unwrap();
        assert_eq!(rows, [(1, 0), (2, 5)]);
    }

    #[test]
    fn diesel_alone_prepares_an_update_on_every_call() {
        let (mut conn, kept) = counting();
        for _ in 0..3 {
            assert_eq!(bump(&mut conn, false), 1);
        }
        assert_eq!(kept.load(Ordering::Relaxed), 0);
    }

    #[test]
    fn statements_of_different_shapes_are_kept_apart() {
        let (mut conn, kept) = counting();
        let set_n = |n: i32| update(counters::table.find(1)).set(counters::n.eq(n));
        set_n(7).execute(&mut conn).unwrap();
        bump(&mut conn, true);
        set_n(9).execute(&mut conn).unwrap();
        assert_eq!(kept.load(Ordering::Relaxed), 2);
        let n: i32 = counters::table
            .find(1)
            .select(counters::n)
            .get_result(&mut conn)
            .unwrap();
        assert_eq!(n, 9);
    }
}

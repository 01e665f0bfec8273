//! What PostgreSQL counted for the bench database (`pg_stat_database`):
//! transactions and rows, so a run can say how many of each a login costs.
//! Backends report their counters when they go idle (at most a second
//! late), which over a window of many seconds is noise.

use diesel::sql_types::{BigInt, Text};
use diesel::{Connection, PgConnection, QueryableByName, RunQueryDsl};

#[derive(Debug, Clone, Copy, Default, QueryableByName)]
pub struct Counters {
    #[diesel(sql_type = BigInt)]
    pub commits: i64,
    #[diesel(sql_type = BigInt)]
    pub rollbacks: i64,
    #[diesel(sql_type = BigInt)]
    pub returned: i64,
    #[diesel(sql_type = BigInt)]
    pub fetched: i64,
    #[diesel(sql_type = BigInt)]
    pub inserted: i64,
    #[diesel(sql_type = BigInt)]
    pub updated: i64,
    #[diesel(sql_type = BigInt)]
    pub deleted: i64,
}

impl std::ops::Sub for Counters {
    type Output = Counters;
    fn sub(self, o: Counters) -> Counters {
        Counters {
            commits: self.commits - o.commits,
            rollbacks: self.rollbacks - o.rollbacks,
            returned: self.returned - o.returned,
            fetched: self.fetched - o.fetched,
            inserted: self.inserted - o.inserted,
            updated: self.updated - o.updated,
            deleted: self.deleted - o.deleted,
        }
    }
}

/// One table's scans and updates so far (`pg_stat_user_tables`); a HOT
/// update writes no index entry.
#[derive(Debug, Clone, Default, QueryableByName)]
pub struct Table {
    #[diesel(sql_type = Text)]
    pub name: String,
    #[diesel(sql_type = BigInt)]
    pub seq_scans: i64,
    #[diesel(sql_type = BigInt)]
    pub seq_rows: i64,
    #[diesel(sql_type = BigInt)]
    pub idx_scans: i64,
    #[diesel(sql_type = BigInt)]
    pub idx_rows: i64,
    #[diesel(sql_type = BigInt)]
    pub updated: i64,
    #[diesel(sql_type = BigInt)]
    pub hot_updated: i64,
}

/// Per table, what happened between `before` and `after`, busiest first
/// (rows read by sequential and index scans).
pub fn table_deltas(before: &[Table], after: &[Table]) -> Vec<Table> {
    let mut deltas: Vec<Table> = after
        .iter()
        .map(|now| {
            let then = before.iter().find(|t| t.name == now.name);
            let then = then.cloned().unwrap_or_default();
            Table {
                name: now.name.clone(),
                seq_scans: now.seq_scans - then.seq_scans,
                seq_rows: now.seq_rows - then.seq_rows,
                idx_scans: now.idx_scans - then.idx_scans,
                idx_rows: now.idx_rows - then.idx_rows,
                updated: now.updated - then.updated,
                hot_updated: now.hot_updated - then.hot_updated,
            }
        })
        .collect();
    deltas.sort_by_key(|t| -(t.seq_rows + t.idx_rows));
    deltas
}

pub struct Stats {
    conn: PgConnection,
    database: String,
}

impl Stats {
    pub fn connect(url: &str, database: &str) -> Self {
        Self {
            conn: PgConnection::establish(url).expect("connect for pg_stat_database"),
            database: database.to_owned(),
        }
    }

    pub fn read(&mut self) -> Counters {
        diesel::sql_query(
            "SELECT xact_commit AS commits, xact_rollback AS rollbacks, \
             tup_returned AS returned, tup_fetched AS fetched, tup_inserted AS inserted, \
             tup_updated AS updated, tup_deleted AS deleted \
             FROM pg_stat_database WHERE datname = $1",
        )
        .bind::<Text, _>(&self.database)
        .get_result(&mut self.conn)
        .expect("read pg_stat_database")
    }

    pub fn tables(&mut self) -> Vec<Table> {
        diesel::sql_query(
            "SELECT relname::text AS name, seq_scan AS seq_scans, seq_tup_read AS seq_rows, \
             COALESCE(idx_scan, 0) AS idx_scans, COALESCE(idx_tup_fetch, 0) AS idx_rows, \
             n_tup_upd AS updated, n_tup_hot_upd AS hot_updated \
             FROM pg_stat_user_tables",
        )
        .load(&mut self.conn)
        .expect("read pg_stat_user_tables")
    }
}

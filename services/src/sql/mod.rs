//! A SQL-like store: the twin of PostgreSQL 15 (and of MariaDB's named locks) that the
//! tutorial's chapter 9.2 database locks run against.
//!
//! Statements are typed values ([`Stmt`], built with [`Insert`], [`Select`], [`Update`],
//! [`Delete`], [`TableDef`] and the predicate helpers [`col`], [`now`], …): nothing is
//! parsed. Each `Display`s as the SQL a client would send, and each reply as `psql` prints
//! it (`INSERT 0 1`, `t`, `ERROR:  23505: duplicate key value violates unique constraint
//! "lock_table_pkey"`). [`Db`] applies one statement per call, atomically, at the server's
//! [`ServerClock`](crate::time::ServerClock). DISTRIBUTED.md §2 is the specification; §9
//! checks 33–56 are its conformance tests (`services/tests/sql_conformance.rs`).
//!
//! Modelled (tags as in DISTRIBUTED.md: [R] reproduced, [D] documented):
//! - tables with a primary key and unique keys; generic rows keyed by column name; defaults and `serial`;
//! - `INSERT` with `23505` and PostgreSQL's message; waiting on another transaction's uncommitted duplicate, then `23505` (it committed) or success (it rolled back) [R];
//! - `ON CONFLICT DO NOTHING` and `ON CONFLICT (key) DO UPDATE SET … WHERE …` with `excluded.*`; the conflicting row is locked even when the `WHERE` fails [D];
//! - `SELECT` (`*`, columns, `count(*)`, `ORDER BY`, `LIMIT`), `UPDATE`, `DELETE` with typed `WHERE` predicates (three-valued logic) and `RETURNING`, replying row counts;
//! - row versions: READ COMMITTED statement snapshots, REPEATABLE READ transaction snapshots with `40001 … concurrent update/delete`;
//! - SERIALIZABLE as repeatable read plus a commit-time check of two-transaction read/write dependency cycles (`40001 … read/write dependencies …`);
//! - `now()` frozen at the transaction's first statement (server wall clock), `statement_timestamp()`, `clock_timestamp()`, `pg_sleep`;
//! - row locks: `FOR UPDATE`, `NOWAIT` (`55P03`), `SKIP LOCKED`; writers lock their rows; plain reads never wait;
//! - advisory locks: `bigint` and `(int, int)` keys, exclusive and shared, session level (stacking, surviving `ROLLBACK`) and transaction level (one statement long in autocommit), try/blocking/unlock with the `01000` warning, `unlock_all`, `pg_locks`;
//! - a FIFO wait queue per advisory key with direct grant on release (no barging past waiters);
//! - `lock_timeout` (`55P03`), `statement_timeout` (`57014`), `SET LOCAL`, cancel requests;
//! - deadlock detection on the wait-for graph when a wait has lasted `deadlock_timeout` (`40P01`; the waiter whose check runs first is the victim);
//! - an error inside a transaction aborts it at once (locks released) and further statements get `25P02` until `ROLLBACK`; `COMMIT` of an aborted block answers `ROLLBACK`;
//! - `idle_in_transaction_session_timeout` ending a session, client close (crash), `pg_terminate_backend`, and a server crash/restart (committed rows survive; sessions and locks do not);
//! - MariaDB `GET_LOCK`/`RELEASE_LOCK`/`IS_FREE_LOCK`/`IS_USED_LOCK`/`RELEASE_ALL_LOCKS` in [`mariadb`].
//!
//! Not modelled:
//! - SQL text, types beyond boolean/bigint/text/timestamptz/interval, joins, subqueries, `FOR SHARE`/`FOR NO KEY UPDATE`;
//! - a statement that must wait takes no row lock before waiting (PostgreSQL locks rows one by one in scan order), and after the wait re-runs with a fresh snapshot, so rows inserted meanwhile can match;
//! - several waiters on one row are not ordered by a tuple lock: after the holder ends, the first to resume goes first;
//! - DDL is applied at once and is not transactional; `SET` (not `LOCAL`) is kept when its transaction rolls back;
//! - SSI is approximate: only two-transaction cycles, predicates re-evaluated on written rows (no index-range or page granularity);
//! - `idle_session_timeout`, TCP keepalive and `client_connection_check_interval` (the caller closes a half-open session when its detection delay has passed);
//! - databases: every session is in the same database (advisory keys never differ by database OID).
//!
//! Blocking: a statement that would wait returns [`Exec::Blocked`] and has no effect; the
//! session is marked waiting. When what it waits for ends (a transaction commits or rolls
//! back, an advisory lock is granted to it) the session is put in an outbox drained by
//! [`Db::take_woken`]; the caller then calls [`Db::resume`], which re-runs the statement.
//! Time-driven outcomes (timeouts, the deadlock check, the end of `pg_sleep`) happen when
//! the caller resumes at or after [`Blocked::retry_at`].

#![warn(missing_docs)]

mod db;
pub mod mariadb;
mod reply;
mod stmt;
mod value;

use std::fmt;

pub use db::Db;
pub use reply::{Blocked, Exec, Notice, Reply, SqlError, Tag, WaitOn};
pub use stmt::{
    Delete, Func, Insert, Isolation, LockWait, OnConflict, Proj, Select, Setting, Stmt, TableDef,
    Update,
};
pub use value::{col, excluded, lit, millis, now, secs, CmpOp, Expr, Pred, Row, Value};

/// A session (one client connection); its number plays the backend pid.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SessionId(pub u32);

impl fmt::Display for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// A transaction id.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Xid(pub u64);

/// An advisory lock key: one `bigint`, or two `int4`s (a separate key space).
///
/// # Examples
///
/// ```
/// use lockproof_services::sql::AdvisoryKey;
///
/// assert_eq!(AdvisoryKey::from(42).to_string(), "42");
/// assert_eq!(AdvisoryKey::from((1, 2)).to_string(), "1, 2");
/// assert_ne!(AdvisoryKey::from(1), AdvisoryKey::from((0, 1)));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum AdvisoryKey {
    /// `pg_advisory_lock(bigint)`.
    Big(i64),
    /// `pg_advisory_lock(int, int)`.
    Pair(i32, i32),
}

impl From<i64> for AdvisoryKey {
    fn from(k: i64) -> Self {
        AdvisoryKey::Big(k)
    }
}

impl From<(i32, i32)> for AdvisoryKey {
    fn from((a, b): (i32, i32)) -> Self {
        AdvisoryKey::Pair(a, b)
    }
}

impl fmt::Display for AdvisoryKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AdvisoryKey::Big(k) => write!(f, "{k}"),
            AdvisoryKey::Pair(a, b) => write!(f, "{a}, {b}"),
        }
    }
}

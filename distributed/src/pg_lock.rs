//! Locks on PostgreSQL (DISTRIBUTED.md §2.1, §2.3), each handing out a fencing token from a
//! sequence:
//!
//! - [`AdvisoryLock`]: a session advisory lock (`pg_try_advisory_lock`, or `pg_advisory_lock`
//!   bounded by `lock_timeout`); the server frees it when it sees the session end;
//! - [`TableLock`]: a row in a lock table with a unique name, taken by `INSERT … ON CONFLICT
//!   DO UPDATE … WHERE expires_at < now()`, released and extended only by its owner; expiry
//!   is judged by the server's `now()`, never by the client's clock.

use crate::{owner_id, LockError};
use postgres::{Client, NoTls, Statement};
use std::time::Duration;

fn err(e: &postgres::Error) -> LockError {
    if let Some(db) = e.as_db_error() {
        return LockError::Server(format!(
            "PostgreSQL error {}: {}",
            db.code().code(),
            db.message().replace('\n', " ")
        ));
    }
    LockError::Unreachable(format!(
        "PostgreSQL unreachable: {}",
        e.to_string().replace('\n', " ")
    ))
}

fn connect(params: &str) -> Result<Client, LockError> {
    Client::connect(params, NoTls).map_err(|e| err(&e))
}

fn ensure_sequence(client: &mut Client, seq: &str) -> Result<(), LockError> {
    client
        .batch_execute(&format!("CREATE SEQUENCE IF NOT EXISTS {seq}"))
        .map_err(|e| err(&e))
}

fn next_token(client: &mut Client, seq: &str) -> Result<i64, LockError> {
    client
        .query_one(&format!("SELECT nextval('{seq}')"), &[])
        .map(|r| r.get(0))
        .map_err(|e| err(&e))
}

/// A session advisory lock on key `key`, on its own connection (the session is the holder).
///
/// # Examples
///
/// Against the PostgreSQL that runs on 127.0.0.1:5432 on this project's machines and in CI:
///
/// ```
/// use lockproof_distributed::pg_lock::AdvisoryLock;
/// use lockproof_distributed::LockError;
///
/// let pg = "host=127.0.0.1 port=5432 user=postgres dbname=test connect_timeout=5";
/// let key = 910_000 + i64::from(std::process::id());
/// let seq = format!("lp_doc_tokens_{}", std::process::id());
/// let mut a = AdvisoryLock::connect(pg, key, &seq)?;
/// let mut b = AdvisoryLock::connect(pg, key, &seq)?;
/// let ta = a.try_acquire()?.expect("free");
/// assert_eq!(b.try_acquire()?, None);
/// assert_eq!(b.release(), Err(LockError::NotOwner));
/// a.release()?;
/// let tb = b.try_acquire()?.expect("free again");
/// assert!(tb > ta);
/// b.release()?;
/// # let mut admin = postgres::Client::connect(pg, postgres::NoTls).unwrap();
/// # admin.batch_execute(&format!("DROP SEQUENCE {seq}")).unwrap();
/// # Ok::<(), LockError>(())
/// ```
pub struct AdvisoryLock {
    client: Client,
    key: i64,
    seq: String,
    /// The try and its token in one statement, prepared once: one round trip per attempt.
    try_stmt: Statement,
    unlock_stmt: Statement,
}

impl std::fmt::Debug for AdvisoryLock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AdvisoryLock")
            .field("key", &self.key)
            .field("seq", &self.seq)
            .finish()
    }
}

impl AdvisoryLock {
    /// Connects with `params`; tokens come from sequence `seq` (created if missing).
    pub fn connect(params: &str, key: i64, seq: &str) -> Result<AdvisoryLock, LockError> {
        let mut client = connect(params)?;
        ensure_sequence(&mut client, seq)?;
        // CASE evaluates `nextval` only when the lock was granted.
        let try_stmt = client
            .prepare(&format!(
                "SELECT CASE WHEN pg_try_advisory_lock($1::bigint) THEN nextval('{seq}') END"
            ))
            .map_err(|e| err(&e))?;
        let unlock_stmt = client
            .prepare("SELECT pg_advisory_unlock($1::bigint)")
            .map_err(|e| err(&e))?;
        Ok(AdvisoryLock {
            client,
            key,
            seq: seq.to_string(),
            try_stmt,
            unlock_stmt,
        })
    }

    /// One attempt: the fencing token, or `Ok(None)` when another session holds the key.
    pub fn try_acquire(&mut self) -> Result<Option<i64>, LockError> {
        self.client
            .query_one(&self.try_stmt, &[&self.key])
            .map(|row| row.get::<_, Option<i64>>(0))
            .map_err(|e| err(&e))
    }

    /// Waits at most `timeout` (the server's `lock_timeout`): the token, or `Ok(None)`.
    pub fn acquire(&mut self, timeout: Duration) -> Result<Option<i64>, LockError> {
        let ms = timeout.as_millis().max(1);
        self.client
            .batch_execute(&format!("SET lock_timeout = '{ms}ms'"))
            .map_err(|e| err(&e))?;
        let r = self
            .client
            .execute("SELECT pg_advisory_lock($1)", &[&self.key]);
        let reset = self.client.batch_execute("SET lock_timeout = 0");
        match r {
            Ok(_) => {}
            Err(e) if e.code() == Some(&postgres::error::SqlState::LOCK_NOT_AVAILABLE) => {
                return Ok(None)
            }
            Err(e) => return Err(err(&e)),
        }
        reset.map_err(|e| err(&e))?;
        next_token(&mut self.client, &self.seq).map(Some)
    }

    /// Releases one hold; [`LockError::NotOwner`] when this session does not hold it.
    pub fn release(&mut self) -> Result<(), LockError> {
        let released: bool = self
            .client
            .query_one(&self.unlock_stmt, &[&self.key])
            .map_err(|e| err(&e))?
            .get(0);
        if released {
            Ok(())
        } else {
            Err(LockError::NotOwner)
        }
    }
}

/// A lock table `table (name text PRIMARY KEY, owner text, expires_at timestamptz, token
/// bigint)` with lease `ttl`.
pub struct TableLock {
    client: Client,
    table: String,
    seq: String,
    name: String,
    ttl: Duration,
}

impl std::fmt::Debug for TableLock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TableLock")
            .field("table", &self.table)
            .field("name", &self.name)
            .field("ttl", &self.ttl)
            .finish()
    }
}

/// A lock-table lock held: the owner id in the row and the fencing token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableGuard {
    /// The row's owner.
    pub owner: String,
    /// The fencing token.
    pub token: i64,
}

impl TableLock {
    /// Connects; creates `table` and the sequence `table`_token if missing.
    pub fn connect(
        params: &str,
        table: &str,
        name: &str,
        ttl: Duration,
    ) -> Result<TableLock, LockError> {
        let mut client = connect(params)?;
        let seq = format!("{table}_token");
        client
            .batch_execute(&format!(
                "CREATE TABLE IF NOT EXISTS {table} (name text PRIMARY KEY, owner text NOT NULL, \
                 expires_at timestamptz NOT NULL, token bigint NOT NULL)"
            ))
            .map_err(|e| err(&e))?;
        ensure_sequence(&mut client, &seq)?;
        Ok(TableLock {
            client,
            table: table.to_string(),
            seq,
            name: name.to_string(),
            ttl,
        })
    }

    fn interval(&self) -> String {
        format!("{} milliseconds", self.ttl.as_millis().max(1))
    }

    /// One attempt: the guard, or `Ok(None)` while another owner's row has not expired.
    ///
    /// The token is drawn only once the row is ours, in the transaction that took it: a
    /// `nextval` evaluated in the `INSERT` itself is drawn *before* the conflict is settled, so
    /// an attempt that waited on another session's uncommitted row could win after that
    /// session had drawn a newer token, held the lock and let go — a grant with an older token
    /// than the one before it, which a fenced store rightly rejects (seen in
    /// `tests/pg_lock.rs::table_lock_mutual_exclusion_with_threads_at_a_fenced_storage`).
    pub fn try_acquire(&mut self) -> Result<Option<TableGuard>, LockError> {
        let owner = owner_id();
        let interval = self.interval();
        let t = &self.table;
        let mut tx = self.client.transaction().map_err(|e| err(&e))?;
        let row = tx
            .query_opt(
                &format!(
                    "INSERT INTO {t} (name, owner, expires_at, token) \
                     VALUES ($1, $2, now() + $3::text::interval, 0) \
                     ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, \
                     expires_at = excluded.expires_at, token = 0 \
                     WHERE {t}.expires_at < now() RETURNING 1"
                ),
                &[&self.name, &owner, &interval],
            )
            .map_err(|e| err(&e))?;
        if row.is_none() {
            tx.rollback().map_err(|e| err(&e))?;
            return Ok(None);
        }
        let token: i64 = tx
            .query_one(
                &format!(
                    "UPDATE {t} SET token = nextval('{}') WHERE name = $1 RETURNING token",
                    self.seq
                ),
                &[&self.name],
            )
            .map_err(|e| err(&e))?
            .get(0);
        tx.commit().map_err(|e| err(&e))?;
        Ok(Some(TableGuard { owner, token }))
    }

    fn owned_or_why(&mut self, n: u64, g: &TableGuard) -> Result<(), LockError> {
        if n == 1 {
            return Ok(());
        }
        let other = self
            .client
            .query_opt(
                &format!(
                    "SELECT owner FROM {} WHERE name = $1 AND owner <> $2 AND expires_at >= now()",
                    self.table
                ),
                &[&self.name, &g.owner],
            )
            .map_err(|e| err(&e))?;
        Err(if other.is_some() {
            LockError::NotOwner
        } else {
            LockError::Lost
        })
    }

    /// Deletes the row only if `g` still owns it and it has not expired.
    pub fn release(&mut self, g: &TableGuard) -> Result<(), LockError> {
        let n = self
            .client
            .execute(
                &format!(
                    "DELETE FROM {} WHERE name = $1 AND owner = $2 AND expires_at >= now()",
                    self.table
                ),
                &[&self.name, &g.owner],
            )
            .map_err(|e| err(&e))?;
        self.owned_or_why(n, g)
    }

    /// Renews the lease to `now() + ttl` only if `g` still owns it and it has not expired.
    pub fn extend(&mut self, g: &TableGuard) -> Result<(), LockError> {
        let n = self
            .client
            .execute(
                &format!(
                    "UPDATE {} SET expires_at = now() + $3::text::interval \
                     WHERE name = $1 AND owner = $2 AND expires_at >= now()",
                    self.table
                ),
                &[&self.name, &g.owner, &self.interval()],
            )
            .map_err(|e| err(&e))?;
        self.owned_or_why(n, g)
    }

    /// Drops the table and its sequence.
    pub fn drop_table(&mut self) -> Result<(), LockError> {
        self.client
            .batch_execute(&format!(
                "DROP TABLE IF EXISTS {}; DROP SEQUENCE IF EXISTS {}",
                self.table, self.seq
            ))
            .map_err(|e| err(&e))
    }
}

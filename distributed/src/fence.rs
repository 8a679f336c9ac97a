//! A fenced storage on PostgreSQL (DISTRIBUTED.md §1.9): one row per resource holding the
//! largest fencing token that wrote it; a write with a smaller token is rejected by the
//! `UPDATE`'s own condition, atomically on the server.

use crate::LockError;
use postgres::{Client, NoTls};

/// A table of fenced cells `(name, token, value)` in one PostgreSQL database.
pub struct FencedStore {
    client: Client,
    table: String,
}

impl std::fmt::Debug for FencedStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FencedStore")
            .field("table", &self.table)
            .finish()
    }
}

/// The outcome of a fenced write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Write {
    /// The token was at least the stored one: the value is written and the token stored.
    Accepted,
    /// A larger token wrote before: nothing changed.
    Rejected {
        /// The token stored in the cell.
        stored: i64,
    },
}

fn unreachable(e: &postgres::Error) -> LockError {
    if let Some(db) = e.as_db_error() {
        return LockError::Server(format!(
            "PostgreSQL error {}: {}",
            db.code().code(),
            db.message().replace('\n', " ")
        ));
    }
    let line = e.to_string().replace('\n', " ");
    LockError::Unreachable(format!("PostgreSQL unreachable: {line}"))
}

impl FencedStore {
    /// Connects (`params` as for `postgres::Client::connect`) and uses `table`, creating it.
    pub fn open(params: &str, table: &str) -> Result<FencedStore, LockError> {
        let mut client = Client::connect(params, NoTls).map_err(|e| unreachable(&e))?;
        client
            .batch_execute(&format!(
                "CREATE TABLE IF NOT EXISTS {table} (name text PRIMARY KEY, \
                 token bigint NOT NULL, value text NOT NULL)"
            ))
            .map_err(|e| unreachable(&e))?;
        Ok(FencedStore {
            client,
            table: table.to_string(),
        })
    }

    /// Writes `value` to `name` with `token` if no larger token wrote it before.
    pub fn write(&mut self, name: &str, token: i64, value: &str) -> Result<Write, LockError> {
        let t = &self.table;
        let n = self
            .client
            .execute(
                &format!(
                    "INSERT INTO {t} (name, token, value) VALUES ($1, $2, $3) \
                     ON CONFLICT (name) DO UPDATE SET token = excluded.token, value = excluded.value \
                     WHERE {t}.token <= excluded.token"
                ),
                &[&name, &token, &value],
            )
            .map_err(|e| unreachable(&e))?;
        if n == 1 {
            return Ok(Write::Accepted);
        }
        let (stored, _) = self.read(name)?.unwrap_or((i64::MIN, String::new()));
        Ok(Write::Rejected { stored })
    }

    /// The stored (token, value) of `name`.
    pub fn read(&mut self, name: &str) -> Result<Option<(i64, String)>, LockError> {
        let row = self
            .client
            .query_opt(
                &format!("SELECT token, value FROM {} WHERE name = $1", self.table),
                &[&name],
            )
            .map_err(|e| unreachable(&e))?;
        Ok(row.map(|r| (r.get(0), r.get(1))))
    }

    /// Drops the table.
    pub fn drop_table(&mut self) -> Result<(), LockError> {
        self.client
            .batch_execute(&format!("DROP TABLE IF EXISTS {}", self.table))
            .map_err(|e| unreachable(&e))
    }
}

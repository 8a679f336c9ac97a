//! Replies, errors, notices and the "blocked" outcome of the SQL twin.

use std::fmt;

use super::value::{Row, Value};
use super::{AdvisoryKey, SessionId, Xid};

/// An error as PostgreSQL reports it: severity, SQLSTATE and the exact message text.
///
/// `Display` is `psql`'s verbose form: `ERROR:  23505: duplicate key value violates unique
/// constraint "lock_table_pkey"`.
///
/// # Examples
///
/// ```
/// use lockproof_services::sql::SqlError;
///
/// let e = SqlError::aborted();
/// assert_eq!(e.code, "25P02");
/// assert_eq!(
///     e.to_string(),
///     "ERROR:  25P02: current transaction is aborted, commands ignored until end of transaction block"
/// );
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SqlError {
    /// `ERROR` or `FATAL` (the session ends after a `FATAL`).
    pub severity: &'static str,
    /// The SQLSTATE (`23505`, `55P03`, `40001`, …).
    pub code: &'static str,
    /// The primary message, exactly as the server words it.
    pub message: String,
    /// The `DETAIL` line, when the server sends one.
    pub detail: Option<String>,
}

impl SqlError {
    fn new(code: &'static str, message: impl Into<String>) -> Self {
        SqlError {
            severity: "ERROR",
            code,
            message: message.into(),
            detail: None,
        }
    }

    fn with_detail(mut self, d: String) -> Self {
        self.detail = Some(d);
        self
    }

    /// `23505` unique_violation, with PostgreSQL's `Key (…)=(…) already exists.` detail.
    pub fn unique_violation(constraint: &str, cols: &[String], vals: &[Value]) -> Self {
        let vals: Vec<String> = vals.iter().map(ToString::to_string).collect();
        SqlError::new(
            "23505",
            format!("duplicate key value violates unique constraint \"{constraint}\""),
        )
        .with_detail(format!(
            "Key ({})=({}) already exists.",
            cols.join(", "),
            vals.join(", ")
        ))
    }

    /// `23502` not_null_violation on a key column.
    pub fn not_null(column: &str, table: &str) -> Self {
        SqlError::new(
            "23502",
            format!("null value in column \"{column}\" of relation \"{table}\" violates not-null constraint"),
        )
    }

    /// `25P02` in_failed_sql_transaction.
    pub fn aborted() -> Self {
        SqlError::new(
            "25P02",
            "current transaction is aborted, commands ignored until end of transaction block",
        )
    }

    /// `55P03` lock_not_available from `FOR UPDATE NOWAIT`.
    pub fn row_nowait(table: &str) -> Self {
        SqlError::new(
            "55P03",
            format!("could not obtain lock on row in relation \"{table}\""),
        )
    }

    /// `55P03` lock_not_available when `lock_timeout` expires.
    pub fn lock_timeout() -> Self {
        SqlError::new("55P03", "canceling statement due to lock timeout")
    }

    /// `57014` query_canceled when `statement_timeout` expires.
    pub fn statement_timeout() -> Self {
        SqlError::new("57014", "canceling statement due to statement timeout")
    }

    /// `57014` query_canceled by `pg_cancel_backend` (a client's cancel request).
    pub fn user_cancel() -> Self {
        SqlError::new("57014", "canceling statement due to user request")
    }

    /// `40P01` deadlock_detected.
    pub fn deadlock(detail: String) -> Self {
        SqlError::new("40P01", "deadlock detected").with_detail(detail)
    }

    /// `40001` serialization_failure of REPEATABLE READ: a row changed since the snapshot.
    pub fn concurrent_update(deleted: bool) -> Self {
        SqlError::new(
            "40001",
            if deleted {
                "could not serialize access due to concurrent delete"
            } else {
                "could not serialize access due to concurrent update"
            },
        )
    }

    /// `40001` serialization_failure of SERIALIZABLE: a dangerous structure of read/write
    /// dependencies.
    pub fn rw_dependencies() -> Self {
        SqlError::new(
            "40001",
            "could not serialize access due to read/write dependencies among transactions",
        )
    }

    /// `0A000` feature_not_supported: `FOR UPDATE` with `count(*)`.
    pub fn for_update_aggregate() -> Self {
        SqlError::new(
            "0A000",
            "FOR UPDATE is not allowed with aggregate functions",
        )
    }

    /// `42P01` undefined_table.
    pub fn undefined_table(t: &str) -> Self {
        SqlError::new("42P01", format!("relation \"{t}\" does not exist"))
    }

    /// `42P07` duplicate_table.
    pub fn duplicate_table(t: &str) -> Self {
        SqlError::new("42P07", format!("relation \"{t}\" already exists"))
    }

    /// `42703` undefined_column.
    pub fn undefined_column(c: &str) -> Self {
        SqlError::new("42703", format!("column \"{c}\" does not exist"))
    }

    /// `42P10` invalid_column_reference: an `ON CONFLICT` target that is no unique key.
    pub fn no_conflict_target() -> Self {
        SqlError::new(
            "42P10",
            "there is no unique or exclusion constraint matching the ON CONFLICT specification",
        )
    }

    /// `21000` cardinality_violation: one `ON CONFLICT DO UPDATE` hitting a row twice.
    pub fn affect_twice() -> Self {
        SqlError::new(
            "21000",
            "ON CONFLICT DO UPDATE command cannot affect row a second time",
        )
    }

    /// `42883` undefined_function: no operator for these types.
    pub fn no_operator(l: &str, op: &str, r: &str) -> Self {
        SqlError::new("42883", format!("operator does not exist: {l} {op} {r}"))
    }

    /// `FATAL 25P03`: the session was ended by `idle_in_transaction_session_timeout`.
    pub fn idle_in_transaction_timeout() -> Self {
        SqlError {
            severity: "FATAL",
            ..SqlError::new(
                "25P03",
                "terminating connection due to idle-in-transaction timeout",
            )
        }
    }

    /// `FATAL 57P01`: the server shut down or was restarted under the session.
    pub fn admin_shutdown() -> Self {
        SqlError {
            severity: "FATAL",
            ..SqlError::new(
                "57P01",
                "terminating connection due to administrator command",
            )
        }
    }

    /// The connection is gone (libpq's own message; libpq reports SQLSTATE `08006`).
    pub fn connection_closed() -> Self {
        SqlError {
            severity: "FATAL",
            ..SqlError::new("08006", "server closed the connection unexpectedly")
        }
    }

    /// A request on a connection that already has one in flight (libpq: `another command is
    /// already in progress`), or a resume without a waiting statement.
    pub fn busy(message: &str) -> Self {
        SqlError::new("08P01", message)
    }
}

impl fmt::Display for SqlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:  {}: {}", self.severity, self.code, self.message)?;
        if let Some(d) = &self.detail {
            write!(f, "\nDETAIL:  {d}")?;
        }
        Ok(())
    }
}

/// A `WARNING` or `NOTICE` sent with a successful reply.
///
/// # Examples
///
/// ```
/// use lockproof_services::sql::Notice;
///
/// let w = Notice::not_owner(false);
/// assert_eq!(w.to_string(), "WARNING:  01000: you don't own a lock of type ExclusiveLock");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Notice {
    /// `WARNING` or `NOTICE`.
    pub severity: &'static str,
    /// The SQLSTATE.
    pub code: &'static str,
    /// The message.
    pub message: String,
}

impl Notice {
    /// `pg_advisory_unlock` of a lock this session does not hold (session level).
    pub fn not_owner(shared: bool) -> Self {
        Notice {
            severity: "WARNING",
            code: "01000",
            message: format!(
                "you don't own a lock of type {}",
                if shared { "ShareLock" } else { "ExclusiveLock" }
            ),
        }
    }

    /// `COMMIT`/`ROLLBACK` outside a transaction block.
    pub fn no_transaction() -> Self {
        Notice {
            severity: "WARNING",
            code: "25P01",
            message: "there is no transaction in progress".to_owned(),
        }
    }

    /// `BEGIN` inside a transaction block.
    pub fn already_in_transaction() -> Self {
        Notice {
            severity: "WARNING",
            code: "25001",
            message: "there is already a transaction in progress".to_owned(),
        }
    }

    /// `SET LOCAL` outside a transaction block.
    pub fn set_local_outside() -> Self {
        Notice {
            severity: "WARNING",
            code: "25P01",
            message: "SET LOCAL can only be used in transaction blocks".to_owned(),
        }
    }

    /// `CREATE TABLE IF NOT EXISTS` of an existing table.
    pub fn table_exists(t: &str) -> Self {
        Notice {
            severity: "NOTICE",
            code: "42P07",
            message: format!("relation \"{t}\" already exists, skipping"),
        }
    }
}

impl fmt::Display for Notice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:  {}: {}", self.severity, self.code, self.message)
    }
}

/// The command tag the server sends when a statement completes (what `psql` prints).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Tag {
    /// `BEGIN`
    Begin,
    /// `COMMIT`
    Commit,
    /// `ROLLBACK` (also the reply to `COMMIT` of an aborted transaction)
    Rollback,
    /// `SET`
    Set,
    /// `CREATE TABLE`
    CreateTable,
    /// `INSERT 0 n`
    Insert(u64),
    /// `UPDATE n`
    Update(u64),
    /// `DELETE n`
    Delete(u64),
    /// `SELECT n`
    Select(u64),
}

impl fmt::Display for Tag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Tag::Begin => f.write_str("BEGIN"),
            Tag::Commit => f.write_str("COMMIT"),
            Tag::Rollback => f.write_str("ROLLBACK"),
            Tag::Set => f.write_str("SET"),
            Tag::CreateTable => f.write_str("CREATE TABLE"),
            Tag::Insert(n) => write!(f, "INSERT 0 {n}"),
            Tag::Update(n) => write!(f, "UPDATE {n}"),
            Tag::Delete(n) => write!(f, "DELETE {n}"),
            Tag::Select(n) => write!(f, "SELECT {n}"),
        }
    }
}

/// A successful statement's reply: its tag, the rows it returned (a `SELECT`, `RETURNING`,
/// or a function call's one row), and any warnings.
///
/// `Display` prints the warnings, then the rows in `psql`'s unaligned form (`job|A`), then
/// the tag.
///
/// # Examples
///
/// ```
/// use lockproof_services::sql::{Reply, Row, Tag, Value};
///
/// let r = Reply::rows(Tag::Select(1), vec![Row::new(vec![("pg_try_advisory_lock", Value::Bool(true))])]);
/// assert_eq!(r.bool(), Some(true));
/// assert_eq!(r.to_string(), "t\nSELECT 1");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reply {
    /// The command tag.
    pub tag: Tag,
    /// Rows returned.
    pub rows: Vec<Row>,
    /// Warnings and notices sent before completion.
    pub notices: Vec<Notice>,
}

impl Reply {
    /// A reply with only a tag.
    pub fn tag(tag: Tag) -> Self {
        Reply {
            tag,
            rows: Vec::new(),
            notices: Vec::new(),
        }
    }

    /// A reply with rows.
    pub fn rows(tag: Tag, rows: Vec<Row>) -> Self {
        Reply {
            tag,
            rows,
            notices: Vec::new(),
        }
    }

    /// The number of rows the statement affected or returned (the tag's count).
    pub fn count(&self) -> u64 {
        match self.tag {
            Tag::Insert(n) | Tag::Update(n) | Tag::Delete(n) | Tag::Select(n) => n,
            _ => 0,
        }
    }

    /// The first column of the first row.
    pub fn scalar(&self) -> Option<&Value> {
        self.rows.first().and_then(|r| r.0.first()).map(|(_, v)| v)
    }

    /// The first column of the first row as a boolean.
    pub fn bool(&self) -> Option<bool> {
        self.scalar().and_then(Value::as_bool)
    }
}

impl fmt::Display for Reply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for n in &self.notices {
            writeln!(f, "{n}")?;
        }
        for r in &self.rows {
            writeln!(f, "{r}")?;
        }
        write!(f, "{}", self.tag)
    }
}

/// What a blocked statement waits for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WaitOn {
    /// The end of another transaction (a row lock it holds, a row it inserted, updated or
    /// deleted, or an uncommitted duplicate key); `session` runs it.
    Transaction {
        /// The transaction waited for.
        xid: Xid,
        /// The session running it.
        session: SessionId,
    },
    /// An advisory lock held (or first requested) by other sessions.
    Advisory(AdvisoryKey),
    /// `pg_sleep` until this monotonic server time (ns).
    Sleep(u64),
}

impl fmt::Display for WaitOn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WaitOn::Transaction { xid, session } => {
                write!(
                    f,
                    "waiting for transaction {} of session {}",
                    xid.0, session.0
                )
            }
            WaitOn::Advisory(k) => write!(f, "waiting for advisory lock {k}"),
            WaitOn::Sleep(t) => write!(f, "sleeping until {t} ns"),
        }
    }
}

/// A statement that would block on the real server: it has not taken effect; the session
/// waits. The caller calls [`super::Db::resume`] after the session appears in
/// [`super::Db::take_woken`] (what it waited for ended or was granted to it), or at
/// `retry_at` (a timeout, the deadlock check or the end of a sleep falls due then).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Blocked {
    /// What it waits for.
    pub on: WaitOn,
    /// The monotonic server time (ns) at which something time-driven happens to this wait,
    /// if anything does.
    pub retry_at: Option<u64>,
}

impl fmt::Display for Blocked {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "(blocked: {})", self.on)
    }
}

/// The outcome of one request to the twin.
///
/// # Examples
///
/// ```
/// use lockproof_services::sql::{Db, Exec, Stmt};
/// use lockproof_services::time::ServerClock;
///
/// let mut db = Db::new();
/// let a = db.connect();
/// let t = ServerClock::at(0);
/// assert!(matches!(db.execute(a, Stmt::Begin(Default::default()), t), Exec::Done(_)));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Exec {
    /// The statement completed.
    Done(Reply),
    /// The statement failed.
    Error(SqlError),
    /// The statement waits (see [`Blocked`]).
    Blocked(Blocked),
}

impl Exec {
    /// The reply, if the statement completed.
    pub fn reply(&self) -> Option<&Reply> {
        match self {
            Exec::Done(r) => Some(r),
            _ => None,
        }
    }

    /// The error, if it failed.
    pub fn error(&self) -> Option<&SqlError> {
        match self {
            Exec::Error(e) => Some(e),
            _ => None,
        }
    }

    /// The SQLSTATE of the error, if it failed.
    pub fn code(&self) -> Option<&'static str> {
        self.error().map(|e| e.code)
    }

    /// True when the statement is waiting.
    pub fn is_blocked(&self) -> bool {
        matches!(self, Exec::Blocked(_))
    }

    /// The affected/returned row count, if it completed.
    pub fn count(&self) -> Option<u64> {
        self.reply().map(Reply::count)
    }

    /// The first column of the first row as a boolean, if it completed with one.
    pub fn bool(&self) -> Option<bool> {
        self.reply().and_then(Reply::bool)
    }
}

impl fmt::Display for Exec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Exec::Done(r) => write!(f, "{r}"),
            Exec::Error(e) => write!(f, "{e}"),
            Exec::Blocked(b) => write!(f, "{b}"),
        }
    }
}

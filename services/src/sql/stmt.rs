//! Typed statements of the SQL twin. `Display` writes each as the SQL a client would send.

use std::fmt;

use super::value::{Expr, Pred};
use super::AdvisoryKey;

/// A transaction isolation level.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum Isolation {
    /// PostgreSQL's default: each statement sees what was committed when it started.
    #[default]
    ReadCommitted,
    /// One snapshot for the whole transaction; a write to a row changed since then fails
    /// with `40001`.
    RepeatableRead,
    /// Repeatable read plus a check of read/write dependencies at commit (`40001`).
    Serializable,
}

impl fmt::Display for Isolation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Isolation::ReadCommitted => "READ COMMITTED",
            Isolation::RepeatableRead => "REPEATABLE READ",
            Isolation::Serializable => "SERIALIZABLE",
        })
    }
}

/// A per-session setting (milliseconds; 0 disables, the default for all but
/// `deadlock_timeout`, which defaults to 1000).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Setting {
    /// `lock_timeout`: bounds each wait for a lock (`55P03`).
    LockTimeout,
    /// `statement_timeout`: bounds a whole statement (`57014`).
    StatementTimeout,
    /// `idle_in_transaction_session_timeout`: ends a session idle inside a transaction.
    IdleInTransactionSessionTimeout,
    /// `deadlock_timeout`: how long a wait lasts before the deadlock check runs.
    DeadlockTimeout,
}

impl fmt::Display for Setting {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Setting::LockTimeout => "lock_timeout",
            Setting::StatementTimeout => "statement_timeout",
            Setting::IdleInTransactionSessionTimeout => "idle_in_transaction_session_timeout",
            Setting::DeadlockTimeout => "deadlock_timeout",
        })
    }
}

/// `CREATE TABLE`: columns, an optional primary key, further unique keys, defaults and an
/// optional `serial` column.
///
/// # Examples
///
/// ```
/// use lockproof_services::sql::TableDef;
///
/// let t = TableDef::new("lock_table", &["lock_name", "identifier", "expires_at"]).primary_key(&["lock_name"]);
/// assert_eq!(
///     t.to_string(),
///     "CREATE TABLE lock_table (lock_name, identifier, expires_at, PRIMARY KEY (lock_name))"
/// );
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct TableDef {
    /// The table's name.
    pub name: String,
    /// Its columns, in order.
    pub columns: Vec<String>,
    /// The primary key's columns (empty: none). Its constraint is `<name>_pkey`.
    pub primary_key: Vec<String>,
    /// Further unique keys; each constraint is `<name>_<col>_key`.
    pub unique: Vec<Vec<String>>,
    /// Column defaults (`DEFAULT now()`, `DEFAULT 1`).
    pub defaults: Vec<(String, Expr)>,
    /// A `serial` column filled from the table's sequence when not given.
    pub serial: Option<String>,
    /// `IF NOT EXISTS`.
    pub if_not_exists: bool,
}

impl TableDef {
    /// A table with these columns and no keys.
    pub fn new(name: &str, columns: &[&str]) -> Self {
        TableDef {
            name: name.to_owned(),
            columns: columns.iter().map(|c| (*c).to_owned()).collect(),
            primary_key: Vec::new(),
            unique: Vec::new(),
            defaults: Vec::new(),
            serial: None,
            if_not_exists: false,
        }
    }

    /// Sets the primary key.
    pub fn primary_key(mut self, cols: &[&str]) -> Self {
        self.primary_key = cols.iter().map(|c| (*c).to_owned()).collect();
        self
    }

    /// Adds a unique key.
    pub fn unique(mut self, cols: &[&str]) -> Self {
        self.unique
            .push(cols.iter().map(|c| (*c).to_owned()).collect());
        self
    }

    /// Adds a column default.
    pub fn default(mut self, col: &str, e: impl Into<Expr>) -> Self {
        self.defaults.push((col.to_owned(), e.into()));
        self
    }

    /// Makes `col` a `serial` column (it must be one of the columns).
    pub fn serial(mut self, col: &str) -> Self {
        self.serial = Some(col.to_owned());
        self
    }

    /// `IF NOT EXISTS`.
    pub fn if_not_exists(mut self) -> Self {
        self.if_not_exists = true;
        self
    }

    /// The unique constraints as (name, columns), primary key first.
    pub fn constraints(&self) -> Vec<(String, Vec<String>)> {
        let mut out = Vec::new();
        if !self.primary_key.is_empty() {
            out.push((format!("{}_pkey", self.name), self.primary_key.clone()));
        }
        for u in &self.unique {
            out.push((format!("{}_{}_key", self.name, u.join("_")), u.clone()));
        }
        out
    }
}

impl fmt::Display for TableDef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "CREATE TABLE {}{} (",
            if self.if_not_exists {
                "IF NOT EXISTS "
            } else {
                ""
            },
            self.name
        )?;
        for (i, c) in self.columns.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            f.write_str(c)?;
            if self.serial.as_deref() == Some(c) {
                f.write_str(" serial")?;
            }
            if let Some((_, d)) = self.defaults.iter().find(|(n, _)| n == c) {
                write!(f, " DEFAULT {d}")?;
            }
        }
        if !self.primary_key.is_empty() {
            write!(f, ", PRIMARY KEY ({})", self.primary_key.join(", "))?;
        }
        for u in &self.unique {
            write!(f, ", UNIQUE ({})", u.join(", "))?;
        }
        f.write_str(")")
    }
}

/// What a `SELECT` or `RETURNING` produces.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Proj {
    /// `*`
    All,
    /// These columns.
    Cols(Vec<String>),
    /// `count(*)` (SELECT only).
    Count,
}

impl Proj {
    /// These columns.
    pub fn cols(cols: &[&str]) -> Self {
        Proj::Cols(cols.iter().map(|c| (*c).to_owned()).collect())
    }
}

impl fmt::Display for Proj {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Proj::All => f.write_str("*"),
            Proj::Cols(c) => f.write_str(&c.join(", ")),
            Proj::Count => f.write_str("count(*)"),
        }
    }
}

/// The `ON CONFLICT` clause of an `INSERT`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum OnConflict {
    /// `ON CONFLICT [(target)] DO NOTHING`.
    DoNothing {
        /// The conflict target's columns (empty: any unique key).
        target: Vec<String>,
    },
    /// `ON CONFLICT (target) DO UPDATE SET … [WHERE …]`: the existing row is locked, then
    /// updated if `filter` holds on it (with `excluded.*` the proposed row).
    DoUpdate {
        /// The conflict target's columns.
        target: Vec<String>,
        /// The assignments.
        set: Vec<(String, Expr)>,
        /// The `WHERE` on the existing row.
        filter: Pred,
    },
}

/// `INSERT INTO table (cols) VALUES (…) [ON CONFLICT …] [RETURNING …]` of one row.
///
/// # Examples
///
/// ```
/// use lockproof_services::sql::{now, secs, Insert};
///
/// let s = Insert::into("lock_table")
///     .value("lock_name", "job")
///     .value("expires_at", now().plus(secs(30)))
///     .on_conflict_do_nothing(&[])
///     .returning(&["lock_name"]);
/// assert_eq!(
///     s.to_string(),
///     "INSERT INTO lock_table (lock_name, expires_at) VALUES ('job', now() + interval '30 s') ON CONFLICT DO NOTHING RETURNING lock_name"
/// );
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Insert {
    /// The table.
    pub table: String,
    /// The given columns and their values.
    pub values: Vec<(String, Expr)>,
    /// The `ON CONFLICT` clause.
    pub on_conflict: Option<OnConflict>,
    /// `RETURNING`.
    pub returning: Option<Proj>,
}

impl Insert {
    /// `INSERT INTO table`.
    pub fn into(table: &str) -> Self {
        Insert {
            table: table.to_owned(),
            values: Vec::new(),
            on_conflict: None,
            returning: None,
        }
    }

    /// Adds a column value.
    pub fn value(mut self, col: &str, e: impl Into<Expr>) -> Self {
        self.values.push((col.to_owned(), e.into()));
        self
    }

    /// `ON CONFLICT [(target)] DO NOTHING`.
    pub fn on_conflict_do_nothing(mut self, target: &[&str]) -> Self {
        self.on_conflict = Some(OnConflict::DoNothing {
            target: target.iter().map(|c| (*c).to_owned()).collect(),
        });
        self
    }

    /// `ON CONFLICT (target) DO UPDATE SET … WHERE filter`.
    pub fn on_conflict_do_update(
        mut self,
        target: &[&str],
        set: Vec<(&str, Expr)>,
        filter: Pred,
    ) -> Self {
        self.on_conflict = Some(OnConflict::DoUpdate {
            target: target.iter().map(|c| (*c).to_owned()).collect(),
            set: set.into_iter().map(|(c, e)| (c.to_owned(), e)).collect(),
            filter,
        });
        self
    }

    /// `RETURNING cols` (`&["*"]` for all).
    pub fn returning(mut self, cols: &[&str]) -> Self {
        self.returning = Some(returning(cols));
        self
    }
}

fn returning(cols: &[&str]) -> Proj {
    if cols == ["*"] {
        Proj::All
    } else {
        Proj::cols(cols)
    }
}

/// How a locking `SELECT` treats rows other transactions have locked.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LockWait {
    /// `FOR UPDATE`: wait.
    Wait,
    /// `FOR UPDATE NOWAIT`: fail with `55P03`.
    NoWait,
    /// `FOR UPDATE SKIP LOCKED`: leave those rows out.
    SkipLocked,
}

/// `SELECT proj FROM table [WHERE …] [ORDER BY …] [LIMIT n] [FOR UPDATE …]`.
///
/// # Examples
///
/// ```
/// use lockproof_services::sql::{col, Select};
///
/// let s = Select::from("t").filter(col("id").eq(1)).for_update_nowait();
/// assert_eq!(s.to_string(), "SELECT * FROM t WHERE id = 1 FOR UPDATE NOWAIT");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Select {
    /// The table.
    pub table: String,
    /// What to return.
    pub proj: Proj,
    /// The `WHERE` predicate.
    pub filter: Pred,
    /// `ORDER BY col [DESC]` (true = descending).
    pub order_by: Option<(String, bool)>,
    /// `LIMIT n`.
    pub limit: Option<usize>,
    /// `FOR UPDATE` and its wait policy.
    pub lock: Option<LockWait>,
}

impl Select {
    /// `SELECT * FROM table`.
    pub fn from(table: &str) -> Self {
        Select {
            table: table.to_owned(),
            proj: Proj::All,
            filter: Pred::True,
            order_by: None,
            limit: None,
            lock: None,
        }
    }

    /// `SELECT count(*) FROM table`.
    pub fn count(table: &str) -> Self {
        Select {
            proj: Proj::Count,
            ..Select::from(table)
        }
    }

    /// Returns only these columns.
    pub fn columns(mut self, cols: &[&str]) -> Self {
        self.proj = Proj::cols(cols);
        self
    }

    /// Adds (ANDs) a `WHERE` predicate.
    pub fn filter(mut self, p: Pred) -> Self {
        self.filter = std::mem::replace(&mut self.filter, Pred::True).and(p);
        self
    }

    /// `ORDER BY col` ascending.
    pub fn order_by(mut self, col: &str) -> Self {
        self.order_by = Some((col.to_owned(), false));
        self
    }

    /// `ORDER BY col DESC`.
    pub fn order_by_desc(mut self, col: &str) -> Self {
        self.order_by = Some((col.to_owned(), true));
        self
    }

    /// `LIMIT n`.
    pub fn limit(mut self, n: usize) -> Self {
        self.limit = Some(n);
        self
    }

    /// `FOR UPDATE`.
    pub fn for_update(mut self) -> Self {
        self.lock = Some(LockWait::Wait);
        self
    }

    /// `FOR UPDATE NOWAIT`.
    pub fn for_update_nowait(mut self) -> Self {
        self.lock = Some(LockWait::NoWait);
        self
    }

    /// `FOR UPDATE SKIP LOCKED`.
    pub fn for_update_skip_locked(mut self) -> Self {
        self.lock = Some(LockWait::SkipLocked);
        self
    }
}

/// `UPDATE table SET … [WHERE …] [RETURNING …]`.
///
/// # Examples
///
/// ```
/// use lockproof_services::sql::{col, now, secs, Update};
///
/// let s = Update::table("lock_table")
///     .set("expires_at", now().plus(secs(30)))
///     .filter(col("identifier").eq("X"));
/// assert_eq!(
///     s.to_string(),
///     "UPDATE lock_table SET expires_at = now() + interval '30 s' WHERE identifier = 'X'"
/// );
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Update {
    /// The table.
    pub table: String,
    /// The assignments.
    pub set: Vec<(String, Expr)>,
    /// The `WHERE` predicate.
    pub filter: Pred,
    /// `RETURNING`.
    pub returning: Option<Proj>,
}

impl Update {
    /// `UPDATE table`.
    pub fn table(table: &str) -> Self {
        Update {
            table: table.to_owned(),
            set: Vec::new(),
            filter: Pred::True,
            returning: None,
        }
    }

    /// Adds an assignment.
    pub fn set(mut self, col: &str, e: impl Into<Expr>) -> Self {
        self.set.push((col.to_owned(), e.into()));
        self
    }

    /// Adds (ANDs) a `WHERE` predicate.
    pub fn filter(mut self, p: Pred) -> Self {
        self.filter = std::mem::replace(&mut self.filter, Pred::True).and(p);
        self
    }

    /// `RETURNING cols` (`&["*"]` for all).
    pub fn returning(mut self, cols: &[&str]) -> Self {
        self.returning = Some(returning(cols));
        self
    }
}

/// `DELETE FROM table [WHERE …] [RETURNING …]`.
///
/// # Examples
///
/// ```
/// use lockproof_services::sql::{col, Delete};
///
/// let s = Delete::from("lock_table").filter(col("lock_name").eq("job").and(col("identifier").eq("B")));
/// assert_eq!(s.to_string(), "DELETE FROM lock_table WHERE lock_name = 'job' AND identifier = 'B'");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Delete {
    /// The table.
    pub table: String,
    /// The `WHERE` predicate.
    pub filter: Pred,
    /// `RETURNING`.
    pub returning: Option<Proj>,
}

impl Delete {
    /// `DELETE FROM table`.
    pub fn from(table: &str) -> Self {
        Delete {
            table: table.to_owned(),
            filter: Pred::True,
            returning: None,
        }
    }

    /// Adds (ANDs) a `WHERE` predicate.
    pub fn filter(mut self, p: Pred) -> Self {
        self.filter = std::mem::replace(&mut self.filter, Pred::True).and(p);
        self
    }

    /// `RETURNING cols` (`&["*"]` for all).
    pub fn returning(mut self, cols: &[&str]) -> Self {
        self.returning = Some(returning(cols));
        self
    }
}

/// A server function called as `SELECT f(…)`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Func {
    /// `pg_[try_]advisory_[xact_]lock[_shared](key)`.
    AdvisoryLock {
        /// The key.
        key: AdvisoryKey,
        /// `_shared` mode.
        shared: bool,
        /// `_xact_`: held until the transaction ends.
        xact: bool,
        /// `_try_`: answer `t`/`f` at once instead of waiting.
        try_: bool,
    },
    /// `pg_advisory_unlock[_shared](key)`: `t`, or `f` with a warning.
    AdvisoryUnlock {
        /// The key.
        key: AdvisoryKey,
        /// `_shared` mode.
        shared: bool,
    },
    /// `pg_advisory_unlock_all()`.
    AdvisoryUnlockAll,
    /// `now()`: the transaction's start.
    Now,
    /// `statement_timestamp()`: the statement's start.
    StatementTimestamp,
    /// `clock_timestamp()`: the server's wall clock now.
    ClockTimestamp,
    /// `pg_sleep(ms / 1000.0)`.
    Sleep {
        /// Milliseconds.
        ms: u64,
    },
    /// `SELECT locktype, objid, pid, mode, granted FROM pg_locks WHERE locktype = 'advisory'`.
    PgLocksAdvisory,
    /// `pg_backend_pid()`.
    BackendPid,
}

impl fmt::Display for Func {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Func::AdvisoryLock {
                key,
                shared,
                xact,
                try_,
            } => write!(
                f,
                "SELECT pg_{}advisory_{}lock{}({key})",
                if *try_ { "try_" } else { "" },
                if *xact { "xact_" } else { "" },
                if *shared { "_shared" } else { "" }
            ),
            Func::AdvisoryUnlock { key, shared } => write!(
                f,
                "SELECT pg_advisory_unlock{}({key})",
                if *shared { "_shared" } else { "" }
            ),
            Func::AdvisoryUnlockAll => f.write_str("SELECT pg_advisory_unlock_all()"),
            Func::Now => f.write_str("SELECT now()"),
            Func::StatementTimestamp => f.write_str("SELECT statement_timestamp()"),
            Func::ClockTimestamp => f.write_str("SELECT clock_timestamp()"),
            Func::Sleep { ms } => {
                if ms % 1000 == 0 {
                    write!(f, "SELECT pg_sleep({})", ms / 1000)
                } else {
                    write!(f, "SELECT pg_sleep({})", *ms as f64 / 1000.0)
                }
            }
            Func::PgLocksAdvisory => f.write_str(
                "SELECT locktype, objid, pid, mode, granted FROM pg_locks WHERE locktype = 'advisory'",
            ),
            Func::BackendPid => f.write_str("SELECT pg_backend_pid()"),
        }
    }
}

/// One statement sent by a session.
///
/// # Examples
///
/// ```
/// use lockproof_services::sql::{AdvisoryKey, Func, Isolation, Setting, Stmt};
///
/// assert_eq!(Stmt::Begin(Isolation::RepeatableRead).to_string(), "BEGIN ISOLATION LEVEL REPEATABLE READ");
/// assert_eq!(Stmt::try_advisory_lock(42).to_string(), "SELECT pg_try_advisory_lock(42)");
/// assert_eq!(
///     Stmt::Set { setting: Setting::LockTimeout, ms: 200, local: true }.to_string(),
///     "SET LOCAL lock_timeout = '200ms'"
/// );
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Stmt {
    /// `BEGIN [ISOLATION LEVEL …]`.
    Begin(Isolation),
    /// `COMMIT`.
    Commit,
    /// `ROLLBACK`.
    Rollback,
    /// `SET [LOCAL] setting = 'ms'`.
    Set {
        /// Which setting.
        setting: Setting,
        /// Its value in milliseconds (0 disables).
        ms: u64,
        /// `SET LOCAL`: only until the transaction ends.
        local: bool,
    },
    /// `CREATE TABLE` (applied at once, not transactional in the twin).
    CreateTable(TableDef),
    /// `INSERT`.
    Insert(Insert),
    /// `SELECT`.
    Select(Select),
    /// `UPDATE`.
    Update(Update),
    /// `DELETE`.
    Delete(Delete),
    /// `SELECT f(…)`.
    Call(Func),
}

impl Stmt {
    /// `SELECT pg_try_advisory_lock(key)`.
    pub fn try_advisory_lock(key: impl Into<AdvisoryKey>) -> Stmt {
        Stmt::Call(Func::AdvisoryLock {
            key: key.into(),
            shared: false,
            xact: false,
            try_: true,
        })
    }

    /// `SELECT pg_advisory_lock(key)` (waits).
    pub fn advisory_lock(key: impl Into<AdvisoryKey>) -> Stmt {
        Stmt::Call(Func::AdvisoryLock {
            key: key.into(),
            shared: false,
            xact: false,
            try_: false,
        })
    }

    /// `SELECT pg_advisory_xact_lock(key)` (waits; held until the transaction ends).
    pub fn advisory_xact_lock(key: impl Into<AdvisoryKey>) -> Stmt {
        Stmt::Call(Func::AdvisoryLock {
            key: key.into(),
            shared: false,
            xact: true,
            try_: false,
        })
    }

    /// `SELECT pg_advisory_unlock(key)`.
    pub fn advisory_unlock(key: impl Into<AdvisoryKey>) -> Stmt {
        Stmt::Call(Func::AdvisoryUnlock {
            key: key.into(),
            shared: false,
        })
    }

    /// `SELECT pg_sleep(ms / 1000)`.
    pub fn sleep_ms(ms: u64) -> Stmt {
        Stmt::Call(Func::Sleep { ms })
    }

    /// `SET setting = 'ms'` (session scope).
    pub fn set(setting: Setting, ms: u64) -> Stmt {
        Stmt::Set {
            setting,
            ms,
            local: false,
        }
    }

    /// `SET LOCAL setting = 'ms'` (until the transaction ends).
    pub fn set_local(setting: Setting, ms: u64) -> Stmt {
        Stmt::Set {
            setting,
            ms,
            local: true,
        }
    }
}

impl fmt::Display for Stmt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Stmt::Begin(Isolation::ReadCommitted) => f.write_str("BEGIN"),
            Stmt::Begin(i) => write!(f, "BEGIN ISOLATION LEVEL {i}"),
            Stmt::Commit => f.write_str("COMMIT"),
            Stmt::Rollback => f.write_str("ROLLBACK"),
            Stmt::Set { setting, ms, local } => write!(
                f,
                "SET {}{setting} = '{ms}ms'",
                if *local { "LOCAL " } else { "" }
            ),
            Stmt::CreateTable(t) => write!(f, "{t}"),
            Stmt::Insert(i) => write!(f, "{i}"),
            Stmt::Select(s) => write!(f, "{s}"),
            Stmt::Update(u) => write!(f, "{u}"),
            Stmt::Delete(d) => write!(f, "{d}"),
            Stmt::Call(c) => write!(f, "{c}"),
        }
    }
}

fn write_assignments(f: &mut fmt::Formatter<'_>, set: &[(String, Expr)]) -> fmt::Result {
    for (i, (c, e)) in set.iter().enumerate() {
        if i > 0 {
            f.write_str(", ")?;
        }
        write!(f, "{c} = {e}")?;
    }
    Ok(())
}

fn write_where(f: &mut fmt::Formatter<'_>, p: &Pred) -> fmt::Result {
    if *p != Pred::True {
        write!(f, " WHERE {p}")?;
    }
    Ok(())
}

fn write_returning(f: &mut fmt::Formatter<'_>, r: &Option<Proj>) -> fmt::Result {
    if let Some(p) = r {
        write!(f, " RETURNING {p}")?;
    }
    Ok(())
}

impl fmt::Display for Insert {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let cols: Vec<&str> = self.values.iter().map(|(c, _)| c.as_str()).collect();
        let vals: Vec<String> = self.values.iter().map(|(_, e)| e.to_string()).collect();
        write!(
            f,
            "INSERT INTO {} ({}) VALUES ({})",
            self.table,
            cols.join(", "),
            vals.join(", ")
        )?;
        match &self.on_conflict {
            None => {}
            Some(OnConflict::DoNothing { target }) => {
                f.write_str(" ON CONFLICT")?;
                if !target.is_empty() {
                    write!(f, " ({})", target.join(", "))?;
                }
                f.write_str(" DO NOTHING")?;
            }
            Some(OnConflict::DoUpdate {
                target,
                set,
                filter,
            }) => {
                // The existing row's columns are written `table.column`: PostgreSQL rejects
                // an unqualified one there as ambiguous with `excluded` (42702) [R].
                write!(f, " ON CONFLICT ({}) DO UPDATE SET ", target.join(", "))?;
                let set: Vec<(String, Expr)> = set
                    .iter()
                    .map(|(c, e)| (c.clone(), e.qualified(&self.table)))
                    .collect();
                write_assignments(f, &set)?;
                write_where(f, &filter.qualified(&self.table))?;
            }
        }
        write_returning(f, &self.returning)
    }
}

impl fmt::Display for Select {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SELECT {} FROM {}", self.proj, self.table)?;
        write_where(f, &self.filter)?;
        if let Some((c, desc)) = &self.order_by {
            write!(f, " ORDER BY {c}{}", if *desc { " DESC" } else { "" })?;
        }
        if let Some(n) = self.limit {
            write!(f, " LIMIT {n}")?;
        }
        match self.lock {
            None => Ok(()),
            Some(LockWait::Wait) => f.write_str(" FOR UPDATE"),
            Some(LockWait::NoWait) => f.write_str(" FOR UPDATE NOWAIT"),
            Some(LockWait::SkipLocked) => f.write_str(" FOR UPDATE SKIP LOCKED"),
        }
    }
}

impl fmt::Display for Update {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "UPDATE {} SET ", self.table)?;
        write_assignments(f, &self.set)?;
        write_where(f, &self.filter)?;
        write_returning(f, &self.returning)
    }
}

impl fmt::Display for Delete {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DELETE FROM {}", self.table)?;
        write_where(f, &self.filter)?;
        write_returning(f, &self.returning)
    }
}

impl From<Insert> for Stmt {
    fn from(s: Insert) -> Self {
        Stmt::Insert(s)
    }
}

impl From<Select> for Stmt {
    fn from(s: Select) -> Self {
        Stmt::Select(s)
    }
}

impl From<Update> for Stmt {
    fn from(s: Update) -> Self {
        Stmt::Update(s)
    }
}

impl From<Delete> for Stmt {
    fn from(s: Delete) -> Self {
        Stmt::Delete(s)
    }
}

impl From<TableDef> for Stmt {
    fn from(s: TableDef) -> Self {
        Stmt::CreateTable(s)
    }
}

impl From<Func> for Stmt {
    fn from(s: Func) -> Self {
        Stmt::Call(s)
    }
}

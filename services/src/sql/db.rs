//! The PostgreSQL-like engine: sessions, transactions, row versions, the lock manager.

use std::collections::{BTreeMap, BTreeSet};

use super::reply::{Blocked, Exec, Notice, Reply, SqlError, Tag, WaitOn};
use super::stmt::{
    Delete, Func, Insert, Isolation, LockWait, OnConflict, Proj, Select, Setting, Stmt, TableDef,
    Update,
};
use super::value::{EvalCtx, Pred, Row, Value};
use super::{AdvisoryKey, SessionId, Xid};
use crate::time::ServerClock;

const MS: u64 = 1_000_000;

/// The state of a transaction id.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum XStatus {
    Running(SessionId),
    Committed(u64),
    Aborted,
}

/// One version of a row: created by `xmin`, deleted or superseded by `xmax`.
#[derive(Clone, Debug)]
struct Version {
    xmin: Xid,
    xmax: Option<Xid>,
    row: Row,
}

/// A logical row: its versions, oldest first, and the transaction holding its row lock
/// (`FOR UPDATE`, or a writer).
#[derive(Clone, Debug)]
struct Chain {
    versions: Vec<Version>,
    locker: Option<Xid>,
}

#[derive(Clone, Debug)]
struct Table {
    def: TableDef,
    chains: BTreeMap<u64, Chain>,
    next_row: u64,
    seq: i64,
}

/// Advisory lock modes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
enum Mode {
    Exclusive,
    Share,
}

impl Mode {
    fn conflicts(self, other: Mode) -> bool {
        self == Mode::Exclusive || other == Mode::Exclusive
    }

    fn name(self) -> &'static str {
        match self {
            Mode::Exclusive => "ExclusiveLock",
            Mode::Share => "ShareLock",
        }
    }
}

/// Who an advisory hold belongs to: the session, or its current transaction.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
enum Scope {
    Session,
    Xact,
}

#[derive(Clone, Debug)]
struct Request {
    session: SessionId,
    mode: Mode,
    scope: Scope,
}

#[derive(Clone, Debug, Default)]
struct Advisory {
    holds: BTreeMap<(SessionId, Mode, Scope), u32>,
    queue: Vec<Request>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Settings {
    lock_timeout: u64,
    statement_timeout: u64,
    idle_in_transaction: u64,
    deadlock_timeout: u64,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            lock_timeout: 0,
            statement_timeout: 0,
            idle_in_transaction: 0,
            deadlock_timeout: 1000,
        }
    }
}

impl Settings {
    fn slot(&mut self, s: Setting) -> &mut u64 {
        match s {
            Setting::LockTimeout => &mut self.lock_timeout,
            Setting::StatementTimeout => &mut self.statement_timeout,
            Setting::IdleInTransactionSessionTimeout => &mut self.idle_in_transaction,
            Setting::DeadlockTimeout => &mut self.deadlock_timeout,
        }
    }
}

#[derive(Clone, Debug)]
struct Txn {
    xid: Xid,
    iso: Isolation,
    start_wall: i64,
    snapshot: Option<u64>,
    explicit: bool,
    aborted: bool,
}

#[derive(Clone, Debug)]
struct Waiting {
    stmt: Stmt,
    on: WaitOn,
    stmt_wall: i64,
    stmt_mono: u64,
    since: u64,
    woken_at: Option<u64>,
    granted: bool,
    deadlock_checked: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum SessState {
    Open,
    /// Ended by the server; the error is delivered on the next request.
    Terminated(SqlError),
    Closed,
}

#[derive(Clone, Debug)]
struct Session {
    state: SessState,
    txn: Option<Txn>,
    settings: Settings,
    local: Option<Settings>,
    waiting: Option<Waiting>,
    idle_since: u64,
}

impl Session {
    fn effective(&self) -> Settings {
        self.local.unwrap_or(self.settings)
    }
}

/// What serializable transactions read and wrote, for the commit-time check.
#[derive(Clone, Debug)]
struct SsiRec {
    snap: u64,
    commit: Option<u64>,
    reads: Vec<(String, Pred, i64)>,
    writes: Vec<(String, Row)>,
}

/// Why a statement stopped.
enum Stop {
    Blocked(WaitOn),
    Error(SqlError),
}

impl From<SqlError> for Stop {
    fn from(e: SqlError) -> Self {
        Stop::Error(e)
    }
}

#[derive(Clone, Copy, Debug)]
struct Snap {
    me: Xid,
    csn: u64,
}

/// One statement's context.
#[derive(Clone, Copy, Debug)]
struct Ctx {
    s: SessionId,
    xid: Xid,
    iso: Isolation,
    now: i64,
    stmt_wall: i64,
    stmt_mono: u64,
    clock: ServerClock,
}

enum RowCheck {
    Free,
    Locked(Xid),
    Changed { deleted: bool },
}

enum Conflict {
    Running(Xid),
    Row(u64),
}

fn micros(wall: i64) -> i64 {
    wall.div_euclid(1_000) * 1_000
}

fn key_of(row: &Row, cols: &[String]) -> Vec<Value> {
    cols.iter()
        .map(|c| row.get(c).cloned().unwrap_or(Value::Null))
        .collect()
}

fn func_column(f: &Func) -> String {
    match f {
        Func::AdvisoryLock {
            shared, xact, try_, ..
        } => format!(
            "pg_{}advisory_{}lock{}",
            if *try_ { "try_" } else { "" },
            if *xact { "xact_" } else { "" },
            if *shared { "_shared" } else { "" }
        ),
        Func::AdvisoryUnlock { shared, .. } => {
            format!("pg_advisory_unlock{}", if *shared { "_shared" } else { "" })
        }
        Func::AdvisoryUnlockAll => "pg_advisory_unlock_all".to_owned(),
        Func::Now => "now".to_owned(),
        Func::StatementTimestamp => "statement_timestamp".to_owned(),
        Func::ClockTimestamp => "clock_timestamp".to_owned(),
        Func::Sleep { .. } => "pg_sleep".to_owned(),
        Func::PgLocksAdvisory => "pg_locks".to_owned(),
        Func::BackendPid => "pg_backend_pid".to_owned(),
    }
}

fn one(f: &Func, v: Value) -> Reply {
    Reply::rows(Tag::Select(1), vec![Row(vec![(func_column(f), v)])])
}

/// A PostgreSQL-like server (15, READ COMMITTED by default): tables with unique keys and
/// row versions, sessions with transactions, row locks, advisory locks, timeouts.
///
/// Every request is one atomic step applied at the server's [`ServerClock`]: `now()` is the
/// server's wall clock (microseconds) at the transaction's first statement; timeouts count
/// on its monotonic clock. A statement that would wait on the real server returns
/// [`Exec::Blocked`] without any effect; the session then waits, and the caller calls
/// [`Db::resume`] when [`Db::take_woken`] names the session (the transaction, lock or sleep
/// it waited for ended or was granted to it) or at [`Blocked::retry_at`] (a timeout, the
/// deadlock check or a sleep's end falls due). A resumed statement runs again from scratch
/// with a fresh READ COMMITTED snapshot, which is PostgreSQL's "wait, then re-evaluate the
/// `WHERE` on the newest committed version".
///
/// # Examples
///
/// ```
/// use lockproof_services::sql::{col, Db, Exec, Insert, TableDef};
/// use lockproof_services::time::ServerClock;
///
/// let mut db = Db::new();
/// let (a, b) = (db.connect(), db.connect());
/// let t = ServerClock::at(1_000_000_000);
/// db.execute(a, TableDef::new("lock_table", &["lock_name", "identifier"]).primary_key(&["lock_name"]), t);
/// let ins = |who: &str| Insert::into("lock_table").value("lock_name", "job").value("identifier", who);
/// assert_eq!(db.execute(a, ins("A"), t).count(), Some(1));
/// let e = db.execute(b, ins("B"), t);
/// assert_eq!(e.code(), Some("23505"));
/// assert_eq!(
///     e.error().unwrap().message,
///     "duplicate key value violates unique constraint \"lock_table_pkey\""
/// );
/// ```
#[derive(Debug, Clone)]
pub struct Db {
    tables: BTreeMap<String, Table>,
    sessions: BTreeMap<SessionId, Session>,
    xacts: BTreeMap<Xid, XStatus>,
    next_xid: u64,
    csn: u64,
    next_session: u32,
    advisory: BTreeMap<AdvisoryKey, Advisory>,
    ssi: BTreeMap<Xid, SsiRec>,
    woken: Vec<SessionId>,
}

impl Default for Db {
    fn default() -> Self {
        Db::new()
    }
}

impl Db {
    /// An empty server with no tables and no sessions.
    pub fn new() -> Self {
        Db {
            tables: BTreeMap::new(),
            sessions: BTreeMap::new(),
            xacts: BTreeMap::new(),
            next_xid: 700,
            csn: 0,
            next_session: 1000,
            advisory: BTreeMap::new(),
            ssi: BTreeMap::new(),
            woken: Vec::new(),
        }
    }

    /// Opens a session (a connection); its id plays the role of the backend pid.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof_services::sql::Db;
    ///
    /// let mut db = Db::new();
    /// assert_ne!(db.connect(), db.connect());
    /// ```
    pub fn connect(&mut self) -> SessionId {
        let id = SessionId(self.next_session);
        self.next_session += 1;
        self.sessions.insert(
            id,
            Session {
                state: SessState::Open,
                txn: None,
                settings: Settings::default(),
                local: None,
                waiting: None,
                idle_since: 0,
            },
        );
        id
    }

    /// Sessions whose waiting statement can now proceed or must be re-tried (what they
    /// waited for ended, or an advisory lock was granted to them), in wake order; drains.
    pub fn take_woken(&mut self) -> Vec<SessionId> {
        std::mem::take(&mut self.woken)
    }

    /// True while the session has a statement waiting.
    pub fn is_waiting(&self, s: SessionId) -> bool {
        self.sessions.get(&s).is_some_and(|x| x.waiting.is_some())
    }

    /// True while the session is inside an explicit transaction block (also an aborted one).
    pub fn in_transaction(&self, s: SessionId) -> bool {
        self.sessions
            .get(&s)
            .and_then(|x| x.txn.as_ref())
            .is_some_and(|t| t.explicit)
    }

    /// True while the session is open (not closed, not ended by the server).
    pub fn is_open(&self, s: SessionId) -> bool {
        self.sessions
            .get(&s)
            .is_some_and(|x| x.state == SessState::Open)
    }

    /// The rows of `table` as the latest committed state shows them (no session's view;
    /// for checks and traces). Empty for an unknown table.
    pub fn committed_rows(&self, table: &str) -> Vec<Row> {
        let snap = Snap {
            me: Xid(0),
            csn: self.csn,
        };
        self.tables
            .get(table)
            .map(|t| {
                t.chains
                    .values()
                    .filter_map(|ch| {
                        ch.versions
                            .iter()
                            .find(|v| self.visible(v, snap))
                            .map(|v| v.row.clone())
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The monotonic time (ns) of the next idle-in-transaction timeout, if any session has
    /// one armed; [`Db::tick`] at that time ends the session.
    pub fn next_deadline(&self) -> Option<u64> {
        self.sessions
            .values()
            .filter(|x| x.state == SessState::Open && x.waiting.is_none())
            .filter(|x| x.txn.as_ref().is_some_and(|t| t.explicit))
            .filter_map(|x| {
                let t = x.effective().idle_in_transaction;
                (t > 0).then(|| x.idle_since.saturating_add(t * MS))
            })
            .min()
    }

    /// Applies server-side timers due at `clock`: ends every session that has been idle
    /// inside a transaction for its `idle_in_transaction_session_timeout` (its transaction
    /// rolls back and all its locks are released; its next request gets `FATAL 25P03`).
    /// Every request calls this first. Returns the sessions ended.
    pub fn tick(&mut self, clock: ServerClock) -> Vec<SessionId> {
        let due: Vec<SessionId> = self
            .sessions
            .iter()
            .filter(|(_, x)| x.state == SessState::Open && x.waiting.is_none())
            .filter(|(_, x)| x.txn.as_ref().is_some_and(|t| t.explicit))
            .filter(|(_, x)| {
                let t = x.effective().idle_in_transaction;
                t > 0 && clock.mono >= x.idle_since.saturating_add(t * MS)
            })
            .map(|(s, _)| *s)
            .collect();
        for s in &due {
            self.end_session(*s, clock);
            if let Some(x) = self.sessions.get_mut(s) {
                x.state = SessState::Terminated(SqlError::idle_in_transaction_timeout());
            }
        }
        due
    }

    /// The client closes its connection (or its process dies and the kernel closes the
    /// socket): an open transaction rolls back, a waiting statement is abandoned, and every
    /// advisory and row lock of the session is released at once. A half-open connection is
    /// modelled by the caller not calling this until its detection delay has passed.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof_services::sql::{Db, Stmt};
    /// use lockproof_services::time::ServerClock;
    ///
    /// let mut db = Db::new();
    /// let (a, b) = (db.connect(), db.connect());
    /// let t = ServerClock::at(0);
    /// db.execute(a, Stmt::try_advisory_lock(4242), t);
    /// assert_eq!(db.execute(b, Stmt::try_advisory_lock(4242), t).bool(), Some(false));
    /// db.close(a, t);
    /// assert_eq!(db.execute(b, Stmt::try_advisory_lock(4242), t).bool(), Some(true));
    /// ```
    pub fn close(&mut self, s: SessionId, clock: ServerClock) {
        self.end_session(s, clock);
        if let Some(x) = self.sessions.get_mut(&s) {
            x.state = SessState::Closed;
        }
    }

    /// `pg_terminate_backend(s)`: the server ends the session as [`Db::close`] does; its
    /// next request gets `FATAL 57P01`.
    pub fn terminate(&mut self, s: SessionId, clock: ServerClock) {
        self.end_session(s, clock);
        if let Some(x) = self.sessions.get_mut(&s) {
            if x.state == SessState::Open {
                x.state = SessState::Terminated(SqlError::admin_shutdown());
            }
        }
    }

    /// The server crashes and restarts: committed rows survive (WAL), uncommitted changes
    /// vanish, every session ends (its next request gets "server closed the connection
    /// unexpectedly") and with them every advisory and row lock.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof_services::sql::{Db, Insert, Stmt, TableDef};
    /// use lockproof_services::time::ServerClock;
    ///
    /// let mut db = Db::new();
    /// let a = db.connect();
    /// let t = ServerClock::at(0);
    /// db.execute(a, TableDef::new("t", &["k"]).primary_key(&["k"]), t);
    /// db.execute(a, Insert::into("t").value("k", 1), t);
    /// db.execute(a, Stmt::try_advisory_lock(1), t);
    /// db.restart();
    /// assert_eq!(db.committed_rows("t").len(), 1);
    /// assert_eq!(db.execute(a, Stmt::Commit, t).code(), Some("08006"));
    /// let b = db.connect();
    /// assert_eq!(db.execute(b, Stmt::try_advisory_lock(1), t).bool(), Some(true));
    /// ```
    pub fn restart(&mut self) {
        let running: Vec<Xid> = self
            .xacts
            .iter()
            .filter(|(_, st)| matches!(st, XStatus::Running(_)))
            .map(|(x, _)| *x)
            .collect();
        for x in running {
            self.xacts.insert(x, XStatus::Aborted);
            self.undo(x);
        }
        for t in self.tables.values_mut() {
            for ch in t.chains.values_mut() {
                ch.locker = None;
            }
        }
        self.advisory.clear();
        self.ssi.clear();
        self.woken.clear();
        for x in self.sessions.values_mut() {
            x.state = SessState::Closed;
            x.txn = None;
            x.waiting = None;
            x.local = None;
        }
    }

    /// `pg_cancel_backend`: the session's waiting statement fails with `57014`
    /// (`canceling statement due to user request`), as when a client sends a cancel
    /// request. `None` when nothing waits.
    pub fn cancel(&mut self, s: SessionId, clock: ServerClock) -> Option<Exec> {
        let w = self.sessions.get_mut(&s)?.waiting.take()?;
        self.drop_request(s, &w, clock);
        Some(self.fail(s, SqlError::user_cancel(), clock))
    }

    /// Sends one statement on session `s`, applied at `clock` (the server's clocks now).
    ///
    /// In autocommit (no `BEGIN`) the statement is its own transaction. A statement that
    /// must wait returns [`Exec::Blocked`] with no effect; see [`Db::resume`].
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof_services::sql::{Db, Stmt};
    /// use lockproof_services::time::ServerClock;
    ///
    /// let mut db = Db::new();
    /// let a = db.connect();
    /// let t = ServerClock::at(0);
    /// assert_eq!(db.execute(a, Stmt::try_advisory_lock(42), t).bool(), Some(true));
    /// assert_eq!(db.execute(a, Stmt::advisory_unlock(42), t).bool(), Some(true));
    /// let r = db.execute(a, Stmt::advisory_unlock(42), t);
    /// assert_eq!(r.bool(), Some(false));
    /// assert_eq!(r.reply().unwrap().notices[0].message, "you don't own a lock of type ExclusiveLock");
    /// ```
    pub fn execute(&mut self, s: SessionId, stmt: impl Into<Stmt>, clock: ServerClock) -> Exec {
        let stmt = stmt.into();
        self.tick(clock);
        if let Err(e) = self.check_session(s) {
            return Exec::Error(e);
        }
        if self.is_waiting(s) {
            return Exec::Error(SqlError::busy("another command is already in progress"));
        }
        match stmt {
            Stmt::Begin(iso) => self.begin(s, iso, clock),
            Stmt::Commit => self.commit(s, clock),
            Stmt::Rollback => self.rollback(s, clock),
            stmt => {
                if self.txn(s).is_some_and(|t| t.aborted) {
                    self.touch(s, clock);
                    return Exec::Error(SqlError::aborted());
                }
                self.run(s, stmt, micros(clock.wall), clock.mono, None, clock)
            }
        }
    }

    /// Retries the session's waiting statement at `clock`: it completes, fails (a timeout
    /// that fell due first, a deadlock found by the check at `deadlock_timeout`, or the
    /// error the retry meets, e.g. `23505` after the other inserter committed), or blocks
    /// again.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof_services::sql::{Db, Exec, Stmt};
    /// use lockproof_services::time::ServerClock;
    ///
    /// let mut db = Db::new();
    /// let (a, b) = (db.connect(), db.connect());
    /// let t = ServerClock::at(0);
    /// db.execute(a, Stmt::advisory_lock(1), t);
    /// assert!(db.execute(b, Stmt::advisory_lock(1), t).is_blocked());
    /// db.execute(a, Stmt::advisory_unlock(1), t);
    /// assert_eq!(db.take_woken(), vec![b]);
    /// assert!(matches!(db.resume(b, t), Exec::Done(_)));
    /// ```
    pub fn resume(&mut self, s: SessionId, clock: ServerClock) -> Exec {
        self.tick(clock);
        if let Err(e) = self.check_session(s) {
            return Exec::Error(e);
        }
        let Some(w) = self.sessions.get_mut(&s).and_then(|x| x.waiting.take()) else {
            return Exec::Error(SqlError::busy("no statement is waiting"));
        };
        let set = self.sessions[&s].effective();
        // Time-driven outcomes that fell due before any wake-up.
        let mut timers: Vec<(u64, SqlError)> = Vec::new();
        if set.statement_timeout > 0 {
            timers.push((
                w.stmt_mono.saturating_add(set.statement_timeout * MS),
                SqlError::statement_timeout(),
            ));
        }
        if set.lock_timeout > 0 && !matches!(w.on, WaitOn::Sleep(_)) {
            timers.push((
                w.since.saturating_add(set.lock_timeout * MS),
                SqlError::lock_timeout(),
            ));
        }
        timers.sort_by_key(|(t, _)| *t);
        let settled = match w.on {
            WaitOn::Sleep(until) => Some(until),
            _ => w.woken_at,
        };
        if let Some((due, err)) = timers.into_iter().next() {
            if due <= clock.mono && settled.is_none_or(|t| t > due) {
                self.drop_request(s, &w, clock);
                return self.fail(s, err, clock);
            }
        }
        if let WaitOn::Sleep(until) = w.on {
            if until <= clock.mono {
                let ctx = self.ctx(s, w.stmt_wall, w.stmt_mono, clock);
                return self.complete(ctx, Ok(one(&Func::Sleep { ms: 0 }, Value::Null)));
            }
            if let Some(x) = self.sessions.get_mut(&s) {
                x.waiting = Some(w.clone());
            }
            return Exec::Blocked(Blocked {
                on: w.on,
                retry_at: Some(until),
            });
        }
        if w.granted {
            let ctx = self.ctx(s, w.stmt_wall, w.stmt_mono, clock);
            let Stmt::Call(f) = &w.stmt else {
                return Exec::Error(SqlError::busy("no statement is waiting"));
            };
            let v = if matches!(f, Func::AdvisoryLock { try_: true, .. }) {
                Value::Bool(true)
            } else {
                Value::Null
            };
            return self.complete(ctx, Ok(one(f, v)));
        }
        self.run(s, w.stmt.clone(), w.stmt_wall, w.stmt_mono, Some(w), clock)
    }

    fn check_session(&mut self, s: SessionId) -> Result<(), SqlError> {
        let Some(x) = self.sessions.get_mut(&s) else {
            return Err(SqlError::connection_closed());
        };
        match std::mem::replace(&mut x.state, SessState::Open) {
            SessState::Open => Ok(()),
            SessState::Terminated(e) => {
                x.state = SessState::Closed;
                Err(e)
            }
            SessState::Closed => {
                x.state = SessState::Closed;
                Err(SqlError::connection_closed())
            }
        }
    }

    fn txn(&self, s: SessionId) -> Option<&Txn> {
        self.sessions.get(&s).and_then(|x| x.txn.as_ref())
    }

    fn touch(&mut self, s: SessionId, clock: ServerClock) {
        if let Some(x) = self.sessions.get_mut(&s) {
            x.idle_since = clock.mono;
        }
    }

    fn new_txn(&mut self, s: SessionId, iso: Isolation, explicit: bool, wall: i64) -> Txn {
        let xid = Xid(self.next_xid);
        self.next_xid += 1;
        self.xacts.insert(xid, XStatus::Running(s));
        Txn {
            xid,
            iso,
            start_wall: micros(wall),
            snapshot: None,
            explicit,
            aborted: false,
        }
    }

    fn begin(&mut self, s: SessionId, iso: Isolation, clock: ServerClock) -> Exec {
        self.touch(s, clock);
        if let Some(t) = self.txn(s) {
            if t.aborted {
                return Exec::Error(SqlError::aborted());
            }
            let mut r = Reply::tag(Tag::Begin);
            r.notices.push(Notice::already_in_transaction());
            return Exec::Done(r);
        }
        let t = self.new_txn(s, iso, true, clock.wall);
        if iso == Isolation::Serializable {
            self.ssi.insert(
                t.xid,
                SsiRec {
                    snap: u64::MAX,
                    commit: None,
                    reads: Vec::new(),
                    writes: Vec::new(),
                },
            );
        }
        if let Some(x) = self.sessions.get_mut(&s) {
            x.txn = Some(t);
        }
        Exec::Done(Reply::tag(Tag::Begin))
    }

    fn commit(&mut self, s: SessionId, clock: ServerClock) -> Exec {
        self.touch(s, clock);
        let Some(t) = self.txn(s).cloned() else {
            let mut r = Reply::tag(Tag::Commit);
            r.notices.push(Notice::no_transaction());
            return Exec::Done(r);
        };
        if t.aborted {
            self.end_txn(s, false, clock);
            return Exec::Done(Reply::tag(Tag::Rollback));
        }
        if t.iso == Isolation::Serializable && self.ssi_conflict(t.xid) {
            self.end_txn(s, false, clock);
            return Exec::Error(SqlError::rw_dependencies());
        }
        self.end_txn(s, true, clock);
        Exec::Done(Reply::tag(Tag::Commit))
    }

    fn rollback(&mut self, s: SessionId, clock: ServerClock) -> Exec {
        self.touch(s, clock);
        if self.txn(s).is_none() {
            let mut r = Reply::tag(Tag::Rollback);
            r.notices.push(Notice::no_transaction());
            return Exec::Done(r);
        }
        self.end_txn(s, false, clock);
        Exec::Done(Reply::tag(Tag::Rollback))
    }

    /// Ends the session's transaction (commit or abort) and removes it.
    fn end_txn(&mut self, s: SessionId, commit: bool, clock: ServerClock) {
        let Some(t) = self.sessions.get_mut(&s).and_then(|x| x.txn.take()) else {
            return;
        };
        if let Some(x) = self.sessions.get_mut(&s) {
            x.local = None;
        }
        if t.aborted {
            return; // effects already undone by `abort_effects`
        }
        if commit {
            self.csn += 1;
            self.xacts.insert(t.xid, XStatus::Committed(self.csn));
            if let Some(r) = self.ssi.get_mut(&t.xid) {
                r.commit = Some(self.csn);
            }
            self.release_xact(s, t.xid, clock);
        } else {
            self.abort_effects(s, t.xid, clock);
        }
    }

    /// Rolls back a transaction's effects and releases its locks (an error inside a
    /// transaction does this at once; the block then stays aborted until `ROLLBACK`).
    fn abort_effects(&mut self, s: SessionId, xid: Xid, clock: ServerClock) {
        self.xacts.insert(xid, XStatus::Aborted);
        self.ssi.remove(&xid);
        self.undo(xid);
        self.release_xact(s, xid, clock);
    }

    fn undo(&mut self, xid: Xid) {
        for t in self.tables.values_mut() {
            for ch in t.chains.values_mut() {
                ch.versions.retain(|v| v.xmin != xid);
                for v in &mut ch.versions {
                    if v.xmax == Some(xid) {
                        v.xmax = None;
                    }
                }
            }
            t.chains.retain(|_, ch| !ch.versions.is_empty());
        }
    }

    /// Releases what ends with a transaction: row locks, transaction-level advisory locks;
    /// wakes the sessions that waited for it.
    fn release_xact(&mut self, s: SessionId, xid: Xid, clock: ServerClock) {
        for t in self.tables.values_mut() {
            for ch in t.chains.values_mut() {
                if ch.locker == Some(xid) {
                    ch.locker = None;
                }
            }
        }
        let keys: Vec<AdvisoryKey> = self
            .advisory
            .iter()
            .filter(|(_, a)| {
                a.holds
                    .keys()
                    .any(|(o, _, sc)| *o == s && *sc == Scope::Xact)
            })
            .map(|(k, _)| *k)
            .collect();
        for k in keys {
            if let Some(a) = self.advisory.get_mut(&k) {
                a.holds
                    .retain(|(o, _, sc), _| !(*o == s && *sc == Scope::Xact));
            }
            self.grant_waiters(k, clock);
        }
        let waiters: Vec<SessionId> = self
            .sessions
            .iter()
            .filter(|(_, x)| {
                x.waiting.as_ref().is_some_and(|w| {
                    w.woken_at.is_none()
                        && matches!(w.on, WaitOn::Transaction { xid: x2, .. } if x2 == xid)
                })
            })
            .map(|(id, _)| *id)
            .collect();
        for id in waiters {
            if let Some(w) = self.sessions.get_mut(&id).and_then(|x| x.waiting.as_mut()) {
                w.woken_at = Some(clock.mono);
            }
            self.woken.push(id);
        }
    }

    /// Everything a session holds goes: its transaction, its waiting request, its
    /// session-level advisory locks.
    fn end_session(&mut self, s: SessionId, clock: ServerClock) {
        let Some(x) = self.sessions.get_mut(&s) else {
            return;
        };
        if x.state != SessState::Open {
            return;
        }
        if let Some(w) = x.waiting.take() {
            self.drop_request(s, &w, clock);
        }
        self.end_txn(s, false, clock);
        let keys: Vec<AdvisoryKey> = self
            .advisory
            .iter()
            .filter(|(_, a)| a.holds.keys().any(|(o, _, _)| *o == s))
            .map(|(k, _)| *k)
            .collect();
        for k in keys {
            if let Some(a) = self.advisory.get_mut(&k) {
                a.holds.retain(|(o, _, _), _| *o != s);
            }
            self.grant_waiters(k, clock);
        }
    }

    /// Withdraws an abandoned wait. A grant that came too late to be used (the waiter's
    /// timeout fell due first, and the caller resumed it only afterwards) is taken back and
    /// passed on to the next waiters.
    fn drop_request(&mut self, s: SessionId, w: &Waiting, clock: ServerClock) {
        let WaitOn::Advisory(k) = w.on else {
            return;
        };
        let Some(a) = self.advisory.get_mut(&k) else {
            return;
        };
        a.queue.retain(|r| r.session != s);
        if w.granted {
            if let Stmt::Call(Func::AdvisoryLock { shared, xact, .. }) = &w.stmt {
                let key = (
                    s,
                    if *shared {
                        Mode::Share
                    } else {
                        Mode::Exclusive
                    },
                    if *xact { Scope::Xact } else { Scope::Session },
                );
                if let Some(c) = a.holds.get_mut(&key) {
                    *c -= 1;
                    if *c == 0 {
                        a.holds.remove(&key);
                    }
                }
            }
        }
        self.grant_waiters(k, clock);
    }

    fn ctx(&mut self, s: SessionId, stmt_wall: i64, stmt_mono: u64, clock: ServerClock) -> Ctx {
        if self.txn(s).is_none() {
            let t = self.new_txn(s, Isolation::ReadCommitted, false, stmt_wall);
            if let Some(x) = self.sessions.get_mut(&s) {
                x.txn = Some(t);
            }
        }
        let csn = self.csn;
        let t = self
            .sessions
            .get_mut(&s)
            .and_then(|x| x.txn.as_mut())
            .expect("the transaction was just ensured");
        if t.iso != Isolation::ReadCommitted && t.snapshot.is_none() {
            t.snapshot = Some(csn);
        }
        let (xid, iso, now) = (t.xid, t.iso, t.start_wall);
        if let Some(r) = self.ssi.get_mut(&xid) {
            if r.snap == u64::MAX {
                r.snap = csn;
            }
        }
        Ctx {
            s,
            xid,
            iso,
            now,
            stmt_wall,
            stmt_mono,
            clock,
        }
    }

    fn snap(&self, cx: &Ctx) -> Snap {
        let csn = self.txn(cx.s).and_then(|t| t.snapshot).unwrap_or(self.csn);
        Snap { me: cx.xid, csn }
    }

    fn run(
        &mut self,
        s: SessionId,
        stmt: Stmt,
        stmt_wall: i64,
        stmt_mono: u64,
        prev: Option<Waiting>,
        clock: ServerClock,
    ) -> Exec {
        let cx = self.ctx(s, stmt_wall, stmt_mono, clock);
        let res = match &stmt {
            Stmt::Set { setting, ms, local } => Ok(self.set(cx, *setting, *ms, *local)),
            Stmt::CreateTable(def) => self.create_table(def),
            Stmt::Insert(i) => self.insert(cx, i),
            Stmt::Select(q) => self.select(cx, q),
            Stmt::Update(u) => self.update(cx, u),
            Stmt::Delete(d) => self.delete(cx, d),
            Stmt::Call(f) => self.call(cx, f, prev.as_ref()),
            Stmt::Begin(_) | Stmt::Commit | Stmt::Rollback => {
                Err(Stop::Error(SqlError::busy("no statement is waiting")))
            }
        };
        match res {
            Ok(r) => self.complete(cx, Ok(r)),
            Err(Stop::Error(e)) => self.complete(cx, Err(e)),
            Err(Stop::Blocked(on)) => self.block(cx, stmt, on, prev),
        }
    }

    fn block(&mut self, cx: Ctx, stmt: Stmt, on: WaitOn, prev: Option<Waiting>) -> Exec {
        let now = cx.clock.mono;
        let (since, checked) = match &prev {
            Some(p) if p.on == on => (p.since, p.deadlock_checked),
            _ => (now, false),
        };
        let mut w = Waiting {
            stmt,
            on: on.clone(),
            stmt_wall: cx.stmt_wall,
            stmt_mono: cx.stmt_mono,
            since,
            woken_at: None,
            granted: false,
            deadlock_checked: checked,
        };
        let set = self.sessions[&cx.s].effective();
        let dl_at = since.saturating_add(set.deadlock_timeout * MS);
        if !w.deadlock_checked && !matches!(on, WaitOn::Sleep(_)) && now >= dl_at {
            w.deadlock_checked = true;
            if let Some(detail) = self.deadlock_cycle(cx.s, &on) {
                self.drop_request(cx.s, &w, cx.clock);
                return self.fail(cx.s, SqlError::deadlock(detail), cx.clock);
            }
        }
        let mut retry: Vec<u64> = Vec::new();
        if let WaitOn::Sleep(t) = on {
            retry.push(t);
        } else {
            if !w.deadlock_checked {
                retry.push(dl_at);
            }
            if set.lock_timeout > 0 {
                retry.push(since.saturating_add(set.lock_timeout * MS));
            }
        }
        if set.statement_timeout > 0 {
            retry.push(cx.stmt_mono.saturating_add(set.statement_timeout * MS));
        }
        if let Some(x) = self.sessions.get_mut(&cx.s) {
            x.waiting = Some(w);
        }
        Exec::Blocked(Blocked {
            on,
            retry_at: retry.into_iter().min(),
        })
    }

    /// Finishes a statement: success commits an implicit transaction; an error aborts the
    /// transaction (an explicit block stays, aborted, until `ROLLBACK`).
    fn complete(&mut self, cx: Ctx, res: Result<Reply, SqlError>) -> Exec {
        match res {
            Ok(r) => {
                if self.txn(cx.s).is_some_and(|t| !t.explicit) {
                    self.end_txn(cx.s, true, cx.clock);
                }
                self.touch(cx.s, cx.clock);
                Exec::Done(r)
            }
            Err(e) => self.fail(cx.s, e, cx.clock),
        }
    }

    fn fail(&mut self, s: SessionId, e: SqlError, clock: ServerClock) -> Exec {
        match self.txn(s).cloned() {
            Some(t) if t.explicit && !t.aborted => {
                self.abort_effects(s, t.xid, clock);
                if let Some(tx) = self.sessions.get_mut(&s).and_then(|x| x.txn.as_mut()) {
                    tx.aborted = true;
                }
            }
            Some(t) if t.explicit => {}
            Some(_) => self.end_txn(s, false, clock),
            None => {}
        }
        self.touch(s, clock);
        Exec::Error(e)
    }

    fn set(&mut self, cx: Ctx, setting: Setting, ms: u64, local: bool) -> Reply {
        let explicit = self.txn(cx.s).is_some_and(|t| t.explicit);
        let Some(x) = self.sessions.get_mut(&cx.s) else {
            return Reply::tag(Tag::Set);
        };
        let mut r = Reply::tag(Tag::Set);
        if local {
            if explicit {
                let mut l = x.effective();
                *l.slot(setting) = ms;
                x.local = Some(l);
            } else {
                r.notices.push(Notice::set_local_outside());
            }
        } else {
            *x.settings.slot(setting) = ms;
            if let Some(l) = x.local.as_mut() {
                *l.slot(setting) = ms;
            }
        }
        r
    }

    fn create_table(&mut self, def: &TableDef) -> Result<Reply, Stop> {
        if self.tables.contains_key(&def.name) {
            if def.if_not_exists {
                let mut r = Reply::tag(Tag::CreateTable);
                r.notices.push(Notice::table_exists(&def.name));
                return Ok(r);
            }
            return Err(SqlError::duplicate_table(&def.name).into());
        }
        let cols: Vec<&String> = def
            .primary_key
            .iter()
            .chain(def.unique.iter().flatten())
            .chain(def.defaults.iter().map(|(c, _)| c))
            .chain(def.serial.iter())
            .collect();
        if let Some(c) = cols.into_iter().find(|c| !def.columns.contains(c)) {
            return Err(SqlError::undefined_column(c).into());
        }
        self.tables.insert(
            def.name.clone(),
            Table {
                def: def.clone(),
                chains: BTreeMap::new(),
                next_row: 0,
                seq: 0,
            },
        );
        Ok(Reply::tag(Tag::CreateTable))
    }

    fn table(&self, name: &str) -> Result<&Table, SqlError> {
        self.tables
            .get(name)
            .ok_or_else(|| SqlError::undefined_table(name))
    }

    fn check_columns(t: &Table, cols: &[String]) -> Result<(), SqlError> {
        match cols.iter().find(|c| !t.def.columns.contains(c)) {
            Some(c) => Err(SqlError::undefined_column(c)),
            None => Ok(()),
        }
    }

    fn committed_at(&self, x: Xid) -> Option<u64> {
        match self.xacts.get(&x) {
            Some(XStatus::Committed(c)) => Some(*c),
            _ => None,
        }
    }

    fn running_other(&self, x: Xid, me: Xid) -> bool {
        x != me && matches!(self.xacts.get(&x), Some(XStatus::Running(_)))
    }

    fn visible(&self, v: &Version, sn: Snap) -> bool {
        let made = v.xmin == sn.me || self.committed_at(v.xmin).is_some_and(|c| c <= sn.csn);
        let gone = v
            .xmax
            .is_some_and(|x| x == sn.me || self.committed_at(x).is_some_and(|c| c <= sn.csn));
        made && !gone
    }

    fn row_check(&self, ch: &Chain, i: usize, me: Xid) -> RowCheck {
        if let Some(l) = ch.locker {
            if self.running_other(l, me) {
                return RowCheck::Locked(l);
            }
        }
        if let Some(x) = ch.versions[i].xmax {
            if self.running_other(x, me) {
                return RowCheck::Locked(x);
            }
            if x != me && self.committed_at(x).is_some() {
                return RowCheck::Changed {
                    deleted: i + 1 == ch.versions.len(),
                };
            }
        }
        RowCheck::Free
    }

    fn wait_on(&self, x: Xid) -> Stop {
        let session = match self.xacts.get(&x) {
            Some(XStatus::Running(s)) => *s,
            _ => SessionId(0),
        };
        Stop::Blocked(WaitOn::Transaction { xid: x, session })
    }

    /// Rows visible to the statement that satisfy `filter`: (row id, version index, row).
    fn scan(&self, cx: &Ctx, t: &Table, filter: &Pred) -> Result<Vec<(u64, usize, Row)>, SqlError> {
        let mut used = Vec::new();
        filter.columns(&mut used);
        Self::check_columns(t, &used)?;
        let sn = self.snap(cx);
        let mut out = Vec::new();
        for (rid, ch) in &t.chains {
            if let Some(i) = ch.versions.iter().position(|v| self.visible(v, sn)) {
                let row = &ch.versions[i].row;
                let cxe = EvalCtx {
                    row: Some(row),
                    excluded: None,
                    now: cx.now,
                };
                if filter.eval(cxe)? == Some(true) {
                    out.push((*rid, i, row.clone()));
                }
            }
        }
        Ok(out)
    }

    fn record_read(&mut self, cx: &Ctx, table: &str, filter: &Pred) {
        if let Some(r) = self.ssi.get_mut(&cx.xid) {
            r.reads.push((table.to_owned(), filter.clone(), cx.now));
        }
    }

    fn record_write(&mut self, cx: &Ctx, table: &str, row: &Row) {
        if let Some(r) = self.ssi.get_mut(&cx.xid) {
            r.writes.push((table.to_owned(), row.clone()));
        }
    }

    fn project(t: &Table, rows: Vec<Row>, proj: &Option<Proj>) -> Result<Vec<Row>, SqlError> {
        match proj {
            None => Ok(Vec::new()),
            Some(Proj::All) | Some(Proj::Count) => Ok(rows),
            Some(Proj::Cols(c)) => {
                Self::check_columns(t, c)?;
                Ok(rows.iter().map(|r| r.project(c)).collect())
            }
        }
    }

    fn select(&mut self, cx: Ctx, q: &Select) -> Result<Reply, Stop> {
        let t = self.table(&q.table)?;
        if q.lock.is_some() && q.proj == Proj::Count {
            return Err(SqlError::for_update_aggregate().into());
        }
        if let Some((c, _)) = &q.order_by {
            Self::check_columns(t, std::slice::from_ref(c))?;
        }
        let mut rows = self.scan(&cx, t, &q.filter)?;
        if let Some((c, desc)) = &q.order_by {
            rows.sort_by(|a, b| {
                let (x, y) = (a.2.get(c), b.2.get(c));
                let o = match (x, y) {
                    (Some(Value::Null), Some(Value::Null)) => std::cmp::Ordering::Equal,
                    (Some(Value::Null), _) => std::cmp::Ordering::Greater,
                    (_, Some(Value::Null)) => std::cmp::Ordering::Less,
                    (Some(x), Some(y)) => x
                        .compare(y, "<")
                        .ok()
                        .flatten()
                        .unwrap_or(std::cmp::Ordering::Equal),
                    _ => std::cmp::Ordering::Equal,
                };
                if *desc {
                    o.reverse()
                } else {
                    o
                }
            });
        }
        let limit = q.limit.unwrap_or(usize::MAX);
        let mut out = Vec::new();
        let mut to_lock = Vec::new();
        for (rid, i, row) in rows {
            if out.len() >= limit {
                break;
            }
            if let Some(wait) = q.lock {
                match self.row_check(&t.chains[&rid], i, cx.xid) {
                    RowCheck::Locked(x) => match wait {
                        LockWait::NoWait => return Err(SqlError::row_nowait(&q.table).into()),
                        LockWait::SkipLocked => continue,
                        LockWait::Wait => return Err(self.wait_on(x)),
                    },
                    RowCheck::Changed { deleted } => {
                        if cx.iso != Isolation::ReadCommitted {
                            return Err(SqlError::concurrent_update(deleted).into());
                        }
                        continue;
                    }
                    RowCheck::Free => to_lock.push(rid),
                }
            }
            out.push(row);
        }
        let out = match &q.proj {
            Proj::Count => vec![Row(vec![(
                "count".to_owned(),
                Value::Int(i64::try_from(out.len()).unwrap_or(i64::MAX)),
            )])],
            p => Self::project(t, out, &Some(p.clone()))?,
        };
        self.record_read(&cx, &q.table, &q.filter);
        if let Some(t) = self.tables.get_mut(&q.table) {
            for rid in to_lock {
                if let Some(ch) = t.chains.get_mut(&rid) {
                    ch.locker = Some(cx.xid);
                }
            }
        }
        let n = out.len() as u64;
        Ok(Reply::rows(Tag::Select(n), out))
    }

    /// A conflict of `row`'s key `cols` with another row (not `skip`): an uncommitted
    /// one (wait for its transaction) or a live one.
    fn unique_conflict(
        &self,
        t: &Table,
        cols: &[String],
        row: &Row,
        me: Xid,
        skip: Option<u64>,
    ) -> Option<Conflict> {
        let key = key_of(row, cols);
        if key.contains(&Value::Null) {
            return None;
        }
        for (rid, ch) in &t.chains {
            if Some(*rid) == skip {
                continue;
            }
            for v in &ch.versions {
                if key_of(&v.row, cols) != key {
                    continue;
                }
                if let Some(x) = v.xmax {
                    if x == me || self.committed_at(x).is_some() {
                        continue;
                    }
                    if self.running_other(x, me) {
                        return Some(Conflict::Running(x));
                    }
                }
                if v.xmin == me || self.committed_at(v.xmin).is_some() {
                    return Some(Conflict::Row(*rid));
                }
                if self.running_other(v.xmin, me) {
                    return Some(Conflict::Running(v.xmin));
                }
            }
        }
        None
    }

    fn eval_assign(
        cx: &Ctx,
        base: &Row,
        excluded: Option<&Row>,
        set: &[(String, super::value::Expr)],
    ) -> Result<Row, SqlError> {
        let mut new = base.clone();
        let e = EvalCtx {
            row: Some(base),
            excluded,
            now: cx.now,
        };
        for (c, ex) in set {
            new.set(c, ex.eval(e)?);
        }
        Ok(new)
    }

    fn insert(&mut self, cx: Ctx, ins: &Insert) -> Result<Reply, Stop> {
        let t = self.table(&ins.table)?;
        for (c, _) in &ins.values {
            if !t.def.columns.contains(c) {
                return Err(SqlError::undefined_column(c).into());
            }
        }
        let e = EvalCtx {
            row: None,
            excluded: None,
            now: cx.now,
        };
        let mut row = Row::default();
        let mut seq = t.seq;
        for c in &t.def.columns {
            let v = if let Some((_, ex)) = ins.values.iter().find(|(n, _)| n == c) {
                ex.eval(e)?
            } else if let Some((_, d)) = t.def.defaults.iter().find(|(n, _)| n == c) {
                d.eval(e)?
            } else if t.def.serial.as_deref() == Some(c) {
                seq += 1;
                Value::Int(seq)
            } else {
                Value::Null
            };
            row.0.push((c.clone(), v));
        }
        for c in &t.def.primary_key {
            if row.get(c) == Some(&Value::Null) {
                return Err(SqlError::not_null(c, &t.def.name).into());
            }
        }
        let constraints = t.def.constraints();
        let target = match &ins.on_conflict {
            Some(OnConflict::DoNothing { target }) | Some(OnConflict::DoUpdate { target, .. }) => {
                target.clone()
            }
            None => Vec::new(),
        };
        let is_target = |cols: &[String]| {
            let mut a = cols.to_vec();
            let mut b = target.clone();
            a.sort();
            b.sort();
            a == b
        };
        if matches!(ins.on_conflict, Some(OnConflict::DoUpdate { .. }))
            && !constraints.iter().any(|(_, c)| is_target(c))
        {
            return Err(SqlError::no_conflict_target().into());
        }
        let sn = self.snap(&cx);
        for (name, cols) in &constraints {
            let Some(conf) = self.unique_conflict(t, cols, &row, cx.xid, None) else {
                continue;
            };
            let rid = match conf {
                Conflict::Running(x) => return Err(self.wait_on(x)),
                Conflict::Row(rid) => rid,
            };
            let arbiter = match &ins.on_conflict {
                Some(OnConflict::DoNothing { target }) => target.is_empty() || is_target(cols),
                Some(OnConflict::DoUpdate { .. }) => is_target(cols),
                None => false,
            };
            if !arbiter {
                return Err(SqlError::unique_violation(name, cols, &key_of(&row, cols)).into());
            }
            let ch = &t.chains[&rid];
            let i = ch
                .versions
                .iter()
                .rposition(|v| v.xmin == cx.xid || self.committed_at(v.xmin).is_some())
                .unwrap_or(ch.versions.len() - 1);
            let seen = ch.versions.iter().any(|v| self.visible(v, sn));
            if cx.iso != Isolation::ReadCommitted && !seen {
                return Err(SqlError::concurrent_update(false).into());
            }
            let Some(OnConflict::DoUpdate { set, filter, .. }) = &ins.on_conflict else {
                return Ok(Self::insert_reply(t, Vec::new(), &ins.returning)?);
            };
            match self.row_check(ch, i, cx.xid) {
                RowCheck::Locked(x) => return Err(self.wait_on(x)),
                RowCheck::Changed { deleted } => {
                    return Err(SqlError::concurrent_update(deleted).into())
                }
                RowCheck::Free => {}
            }
            let old = ch.versions[i].row.clone();
            let ok = filter.eval(EvalCtx {
                row: Some(&old),
                excluded: Some(&row),
                now: cx.now,
            })? == Some(true);
            let new = if ok {
                let new = Self::eval_assign(&cx, &old, Some(&row), set)?;
                for (n2, c2) in &constraints {
                    match self.unique_conflict(t, c2, &new, cx.xid, Some(rid)) {
                        Some(Conflict::Running(x)) => return Err(self.wait_on(x)),
                        Some(Conflict::Row(_)) => {
                            return Err(SqlError::unique_violation(n2, c2, &key_of(&new, c2)).into())
                        }
                        None => {}
                    }
                }
                Some(new)
            } else {
                None
            };
            self.record_read(&cx, &ins.table, filter);
            let rows = match new {
                Some(new) => {
                    self.record_write(&cx, &ins.table, &old);
                    self.record_write(&cx, &ins.table, &new);
                    self.write_version(&ins.table, rid, i, cx.xid, Some(new.clone()));
                    vec![new]
                }
                None => {
                    self.lock_row(&ins.table, rid, cx.xid);
                    Vec::new()
                }
            };
            let t = self.table(&ins.table)?;
            return Ok(Self::insert_reply(t, rows, &ins.returning)?);
        }
        self.record_write(&cx, &ins.table, &row);
        let t = self
            .tables
            .get_mut(&ins.table)
            .ok_or_else(|| SqlError::undefined_table(&ins.table))?;
        t.seq = seq;
        let rid = t.next_row;
        t.next_row += 1;
        t.chains.insert(
            rid,
            Chain {
                versions: vec![Version {
                    xmin: cx.xid,
                    xmax: None,
                    row: row.clone(),
                }],
                locker: None,
            },
        );
        let t = self.table(&ins.table)?;
        Ok(Self::insert_reply(t, vec![row], &ins.returning)?)
    }

    fn insert_reply(t: &Table, rows: Vec<Row>, ret: &Option<Proj>) -> Result<Reply, SqlError> {
        let n = rows.len() as u64;
        Ok(Reply::rows(Tag::Insert(n), Self::project(t, rows, ret)?))
    }

    fn lock_row(&mut self, table: &str, rid: u64, xid: Xid) {
        if let Some(ch) = self
            .tables
            .get_mut(table)
            .and_then(|t| t.chains.get_mut(&rid))
        {
            ch.locker = Some(xid);
        }
    }

    /// Supersedes version `i` of row `rid`: by `new` (an update) or by nothing (a delete).
    fn write_version(&mut self, table: &str, rid: u64, i: usize, xid: Xid, new: Option<Row>) {
        if let Some(ch) = self
            .tables
            .get_mut(table)
            .and_then(|t| t.chains.get_mut(&rid))
        {
            ch.versions[i].xmax = Some(xid);
            ch.locker = Some(xid);
            if let Some(row) = new {
                ch.versions.push(Version {
                    xmin: xid,
                    xmax: None,
                    row,
                });
            }
        }
    }

    /// The rows an UPDATE or DELETE will write: waits and serialization failures first.
    fn targets(
        &self,
        cx: &Ctx,
        table: &str,
        filter: &Pred,
    ) -> Result<Vec<(u64, usize, Row)>, Stop> {
        let t = self.table(table)?;
        let mut out = Vec::new();
        for (rid, i, row) in self.scan(cx, t, filter)? {
            match self.row_check(&t.chains[&rid], i, cx.xid) {
                RowCheck::Locked(x) => return Err(self.wait_on(x)),
                RowCheck::Changed { deleted } => {
                    if cx.iso != Isolation::ReadCommitted {
                        return Err(SqlError::concurrent_update(deleted).into());
                    }
                }
                RowCheck::Free => out.push((rid, i, row)),
            }
        }
        Ok(out)
    }

    fn update(&mut self, cx: Ctx, u: &Update) -> Result<Reply, Stop> {
        let t = self.table(&u.table)?;
        let set_cols: Vec<String> = u.set.iter().map(|(c, _)| c.clone()).collect();
        Self::check_columns(t, &set_cols)?;
        let mut used = Vec::new();
        u.set.iter().for_each(|(_, e)| e.columns(&mut used));
        Self::check_columns(t, &used)?;
        let targets = self.targets(&cx, &u.table, &u.filter)?;
        let t = self.table(&u.table)?;
        let constraints = t.def.constraints();
        let mut news: Vec<(u64, usize, Row, Row)> = Vec::new();
        for (rid, i, old) in targets {
            let new = Self::eval_assign(&cx, &old, None, &u.set)?;
            for (name, cols) in &constraints {
                if key_of(&new, cols) == key_of(&old, cols) {
                    continue;
                }
                match self.unique_conflict(t, cols, &new, cx.xid, Some(rid)) {
                    Some(Conflict::Running(x)) => return Err(self.wait_on(x)),
                    Some(Conflict::Row(_)) => {
                        return Err(
                            SqlError::unique_violation(name, cols, &key_of(&new, cols)).into()
                        )
                    }
                    None => {}
                }
                let dup = news.iter().any(|(_, _, _, n)| {
                    let k = key_of(n, cols);
                    !k.contains(&Value::Null) && k == key_of(&new, cols)
                });
                if dup {
                    return Err(SqlError::unique_violation(name, cols, &key_of(&new, cols)).into());
                }
            }
            news.push((rid, i, old, new));
        }
        self.record_read(&cx, &u.table, &u.filter);
        let mut rows = Vec::new();
        for (rid, i, old, new) in news {
            self.record_write(&cx, &u.table, &old);
            self.record_write(&cx, &u.table, &new);
            self.write_version(&u.table, rid, i, cx.xid, Some(new.clone()));
            rows.push(new);
        }
        let n = rows.len() as u64;
        let t = self.table(&u.table)?;
        Ok(Reply::rows(
            Tag::Update(n),
            Self::project(t, rows, &u.returning)?,
        ))
    }

    fn delete(&mut self, cx: Ctx, d: &Delete) -> Result<Reply, Stop> {
        let targets = self.targets(&cx, &d.table, &d.filter)?;
        self.record_read(&cx, &d.table, &d.filter);
        let mut rows = Vec::new();
        for (rid, i, old) in targets {
            self.record_write(&cx, &d.table, &old);
            self.write_version(&d.table, rid, i, cx.xid, None);
            rows.push(old);
        }
        let n = rows.len() as u64;
        let t = self.table(&d.table)?;
        Ok(Reply::rows(
            Tag::Delete(n),
            Self::project(t, rows, &d.returning)?,
        ))
    }

    /// A request conflicts with other sessions' holds, and (unless the session already
    /// holds this key) with other sessions' queued requests: no barging past waiters.
    fn adv_conflict(&self, key: AdvisoryKey, s: SessionId, mode: Mode) -> bool {
        let Some(a) = self.advisory.get(&key) else {
            return false;
        };
        let held = a.holds.keys().any(|(o, _, _)| *o == s);
        a.holds.keys().any(|(o, m, _)| *o != s && m.conflicts(mode))
            || (!held
                && a.queue
                    .iter()
                    .any(|r| r.session != s && r.mode.conflicts(mode)))
    }

    fn add_hold(&mut self, key: AdvisoryKey, s: SessionId, mode: Mode, scope: Scope) {
        *self
            .advisory
            .entry(key)
            .or_default()
            .holds
            .entry((s, mode, scope))
            .or_insert(0) += 1;
    }

    /// Grants queued requests on `key` in order while they fit.
    fn grant_waiters(&mut self, key: AdvisoryKey, clock: ServerClock) {
        let Some(a) = self.advisory.get(&key) else {
            return;
        };
        let queue = a.queue.clone();
        let mut still: Vec<Request> = Vec::new();
        let mut granted = Vec::new();
        for r in queue {
            let a = &self.advisory[&key];
            let blocked = a
                .holds
                .keys()
                .any(|(o, m, _)| *o != r.session && m.conflicts(r.mode))
                || still
                    .iter()
                    .any(|q| q.session != r.session && q.mode.conflicts(r.mode));
            if blocked {
                still.push(r);
            } else {
                self.add_hold(key, r.session, r.mode, r.scope);
                granted.push(r.session);
            }
        }
        if let Some(a) = self.advisory.get_mut(&key) {
            a.queue = still;
        }
        for s in granted {
            if let Some(w) = self.sessions.get_mut(&s).and_then(|x| x.waiting.as_mut()) {
                w.granted = true;
                w.woken_at = Some(clock.mono);
            }
            self.woken.push(s);
        }
        if self
            .advisory
            .get(&key)
            .is_some_and(|a| a.holds.is_empty() && a.queue.is_empty())
        {
            self.advisory.remove(&key);
        }
    }

    fn call(&mut self, cx: Ctx, f: &Func, prev: Option<&Waiting>) -> Result<Reply, Stop> {
        match f {
            Func::AdvisoryLock {
                key,
                shared,
                xact,
                try_,
            } => {
                let mode = if *shared {
                    Mode::Share
                } else {
                    Mode::Exclusive
                };
                let scope = if *xact { Scope::Xact } else { Scope::Session };
                if prev.is_some() {
                    // Still queued: the grant, when it comes, completes the call.
                    return Err(Stop::Blocked(WaitOn::Advisory(*key)));
                }
                if !self.adv_conflict(*key, cx.s, mode) {
                    self.add_hold(*key, cx.s, mode, scope);
                    return Ok(one(
                        f,
                        if *try_ {
                            Value::Bool(true)
                        } else {
                            Value::Null
                        },
                    ));
                }
                if *try_ {
                    return Ok(one(f, Value::Bool(false)));
                }
                self.advisory.entry(*key).or_default().queue.push(Request {
                    session: cx.s,
                    mode,
                    scope,
                });
                Err(Stop::Blocked(WaitOn::Advisory(*key)))
            }
            Func::AdvisoryUnlock { key, shared } => {
                let mode = if *shared {
                    Mode::Share
                } else {
                    Mode::Exclusive
                };
                let hk = (cx.s, mode, Scope::Session);
                let had = match self
                    .advisory
                    .get_mut(key)
                    .and_then(|a| a.holds.get_mut(&hk))
                {
                    Some(c) => {
                        *c -= 1;
                        true
                    }
                    None => false,
                };
                if had {
                    if let Some(a) = self.advisory.get_mut(key) {
                        a.holds.retain(|_, c| *c > 0);
                    }
                    self.grant_waiters(*key, cx.clock);
                    Ok(one(f, Value::Bool(true)))
                } else {
                    let mut r = one(f, Value::Bool(false));
                    r.notices.push(Notice::not_owner(*shared));
                    Ok(r)
                }
            }
            Func::AdvisoryUnlockAll => {
                let keys: Vec<AdvisoryKey> = self.advisory.keys().copied().collect();
                for k in keys {
                    let mut changed = false;
                    if let Some(a) = self.advisory.get_mut(&k) {
                        let before = a.holds.len();
                        a.holds
                            .retain(|(o, _, sc), _| !(*o == cx.s && *sc == Scope::Session));
                        changed = a.holds.len() != before;
                    }
                    if changed {
                        self.grant_waiters(k, cx.clock);
                    }
                }
                Ok(one(f, Value::Null))
            }
            Func::Now => Ok(one(f, Value::Timestamp(cx.now))),
            Func::StatementTimestamp => Ok(one(f, Value::Timestamp(cx.stmt_wall))),
            Func::ClockTimestamp => Ok(one(f, Value::Timestamp(micros(cx.clock.wall)))),
            Func::Sleep { ms } => {
                let until = cx.stmt_mono.saturating_add(ms * MS);
                if until <= cx.clock.mono {
                    Ok(one(f, Value::Null))
                } else {
                    Err(Stop::Blocked(WaitOn::Sleep(until)))
                }
            }
            Func::BackendPid => Ok(one(f, Value::Int(i64::from(cx.s.0)))),
            Func::PgLocksAdvisory => {
                let mut rows = Vec::new();
                for (k, a) in &self.advisory {
                    let held: BTreeSet<(SessionId, Mode)> =
                        a.holds.keys().map(|(s, m, _)| (*s, *m)).collect();
                    for (s, m) in held {
                        rows.push(Self::lock_row_out(*k, s, m, true));
                    }
                    for r in &a.queue {
                        rows.push(Self::lock_row_out(*k, r.session, r.mode, false));
                    }
                }
                let n = rows.len() as u64;
                Ok(Reply::rows(Tag::Select(n), rows))
            }
        }
    }

    fn lock_row_out(k: AdvisoryKey, s: SessionId, m: Mode, granted: bool) -> Row {
        Row::new(vec![
            ("locktype", Value::from("advisory")),
            ("objid", Value::Text(k.to_string())),
            ("pid", Value::Int(i64::from(s.0))),
            ("mode", Value::from(m.name())),
            ("granted", Value::Bool(granted)),
        ])
    }

    /// The sessions `s` waits for.
    fn waits_for(&self, s: SessionId, on: &WaitOn) -> Vec<SessionId> {
        match on {
            WaitOn::Transaction { xid, .. } => match self.xacts.get(xid) {
                Some(XStatus::Running(o)) => vec![*o],
                _ => Vec::new(),
            },
            WaitOn::Advisory(k) => {
                let Some(a) = self.advisory.get(k) else {
                    return Vec::new();
                };
                let mine = a.queue.iter().find(|r| r.session == s).map(|r| r.mode);
                let Some(mode) = mine else {
                    return Vec::new();
                };
                let mut out: Vec<SessionId> = a
                    .holds
                    .keys()
                    .filter(|(o, m, _)| *o != s && m.conflicts(mode))
                    .map(|(o, _, _)| *o)
                    .collect();
                for r in &a.queue {
                    if r.session == s {
                        break;
                    }
                    if r.mode.conflicts(mode) {
                        out.push(r.session);
                    }
                }
                out
            }
            WaitOn::Sleep(_) => Vec::new(),
        }
    }

    /// A cycle of waits through `s`, described as PostgreSQL's DETAIL does (one line per
    /// waiter), or `None`.
    fn deadlock_cycle(&self, s: SessionId, on: &WaitOn) -> Option<String> {
        let mut stack: Vec<(SessionId, Vec<SessionId>)> = vec![(s, vec![s])];
        let mut seen = BTreeSet::new();
        while let Some((cur, path)) = stack.pop() {
            let next = if cur == s {
                self.waits_for(s, on)
            } else {
                match self.sessions.get(&cur).and_then(|x| x.waiting.as_ref()) {
                    Some(w) if w.woken_at.is_none() => self.waits_for(cur, &w.on),
                    _ => Vec::new(),
                }
            };
            for n in next {
                if n == s {
                    let mut lines = Vec::new();
                    for (i, p) in path.iter().enumerate() {
                        let by = path.get(i + 1).copied().unwrap_or(s);
                        lines.push(format!("Process {} is blocked by process {}.", p.0, by.0));
                    }
                    return Some(lines.join("\n"));
                }
                if seen.insert(n) {
                    let mut p = path.clone();
                    p.push(n);
                    stack.push((n, p));
                }
            }
        }
        None
    }

    /// Serializable commit check: a two-transaction cycle of read/write dependencies with a
    /// concurrent serializable transaction that has already committed.
    fn ssi_conflict(&self, me: Xid) -> bool {
        let Some(mine) = self.ssi.get(&me) else {
            return false;
        };
        let hit = |reads: &[(String, Pred, i64)], writes: &[(String, Row)]| {
            reads.iter().any(|(t, p, now)| {
                writes.iter().any(|(t2, row)| {
                    t == t2
                        && p.eval(EvalCtx {
                            row: Some(row),
                            excluded: None,
                            now: *now,
                        }) == Ok(Some(true))
                })
            })
        };
        self.ssi.iter().any(|(x, other)| {
            *x != me
                && other.commit.is_some_and(|c| c > mine.snap)
                && hit(&mine.reads, &other.writes)
                && hit(&other.reads, &mine.writes)
        })
    }
}

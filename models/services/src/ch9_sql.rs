//! Section 9.2 of the tutorial (database lock tables): its examples as scenarios, against
//! the SQL twin ([`lockproof_services::sql::Db`], a PostgreSQL 15 stand-in) behind the
//! simulated network.
//!
//! | scenario | example | expected |
//! |---|---|---|
//! | `ex-9.2-01` | DatabaseLock demo: acquire (TTL 10 s), work 2 s, `is_locked`, `extend(5)`, release; one client | holds |
//! | `ex-9.2-01-pause` | two clients run the demo (TTL 1 s); the holder may be paused 1.5 s | mutual-exclusion |
//! | `ex-9.2-01-renewal` | the holder renews late (after its row expired) while a second client takes the expired row over | mutual-exclusion |
//! | `ex-9.2-01-clock-skew` | the second client's clock runs 2 s ahead: a live row looks expired to it | mutual-exclusion |
//! | `ex-9.2-01-clock-skew-fixed` | the same clocks; takeover in one statement judged by the server's `now()` | holds |
//! | `ex-9.2-02` | AdvancedDatabaseLock as written (`def _process_wait_queue(self(self):`) | no-uncaught-exception |
//! | `ex-9.2-02-reentrant` | the syntax fixed; 2 workers, each `with lock:` nested twice on its own resource | holds |
//! | `ex-9.2-02-fair` | the syntax fixed; 3 "fair" workers on one resource, a maintenance thread granting the oldest waiter | fifo-grant |
//! | `ex-9.2-03` | DistributedTaskScheduler as written (`_ensure_tables_exist` undefined) | no-uncaught-exception |
//! | `ex-9.2-03-pause` | the helpers supplied; 2 nodes run `execute_task` in a loop; a node may pause 6 s (lease 5 s) between picking a task and marking it running | no-double-execution |
//! | `ex-9.2-03-crash` | the helpers supplied; a node may crash after marking its task running | crashed-task-recovered |
//! | `ex-9.2-04` | DatabaseMigrationManager as written (`_ensure_tables_exist` undefined) | no-uncaught-exception |
//! | `ex-9.2-04-pause` | the helpers supplied; 2 nodes, 3 scripts, lease 10 s, a node may pause 12 s mid-run | migration-applied-once |
//! | `ex-9.2-05` | DistributedCacheManager as written (`_ensure_tables_exist` undefined) | no-uncaught-exception |
//! | `ex-9.2-05-invalidate` | the helpers supplied; a refill (read source, `update_cache`) races an invalidation under the other lock | no-stale-cache |
//!
//! Scale: the TTLs and waits keep their ratios (`ex-9.2-01`'s 10 s TTL, 5 s wait and 2 s
//! work become 1 s, 0.5 s and 0.2 s in the variants; the 0.1 s poll stays). The tutorial's
//! `MockDatabaseConnection` is replaced by the SQL twin: `execute_insert` is an `INSERT`
//! that answers `False` on `23505`, `execute_update`/`execute_delete` reply their row
//! counts, `query_one` is a `SELECT … LIMIT 1`; values of `datetime.now()` are the
//! client node's wall clock, written into the rows as the tutorial does. Each client
//! process has its own connection (session); every statement is autocommit, as the
//! examples issue them.
//!
//! Two defects of the mock are not reproduced because a real database has neither: its
//! cleanup condition `{"expires_at": ["<", now]}` compares for equality with a list and
//! so never deletes anything (the cleanup threads are therefore left out: they change no
//! row), and its uniqueness check on `lock_name` applies to every table (so only one
//! waiter per lock could be queued; `rule_9_2_13` in `services/tests/rules_ch9_2.rs`
//! shows that effect on the twin).

use lockproof::backend::spawn::ProcessHandle;
use lockproof::backend::System;
use lockproof_scenario::prelude::*;
use lockproof_services::sim::{Cluster, Faults, NetError, Node, NodeClock, Server};
use lockproof_services::sql::{
    col, excluded, now, Db, Delete, Exec, Expr, Insert, Pred, Row, Select, SessionId, Stmt,
    TableDef, Update, Value,
};
use std::sync::atomic::{AtomicU64, Ordering};

/// The database server of a scenario.
type Pg<B> = Server<Db, B>;

/// A Python exception a call raised: its message.
type PyErr = String;

/// `datetime.now() + timedelta(seconds=add)` on `node`'s wall clock, as a timestamp value.
fn dt_now<B: Backend>(node: &Node<B>, add: f64) -> Value {
    Value::Timestamp(((node.time() + add) * 1e9) as i64)
}

/// One client's connection: its node, the server, its session.
struct Conn<B: Backend> {
    node: Node<B>,
    db: Pg<B>,
    sid: SessionId,
    ids: Arc<AtomicU64>,
}

impl<B: Backend> Clone for Conn<B> {
    fn clone(&self) -> Self {
        Conn {
            node: self.node.clone(),
            db: self.db.clone(),
            sid: self.sid,
            ids: Arc::clone(&self.ids),
        }
    }
}

impl<B: Backend> Conn<B> {
    /// `psycopg2.connect()` from `node`.
    fn open(db: &Pg<B>, node: Node<B>) -> Self {
        let sid = db.tick("connect", |d, _| d.connect());
        Conn {
            node,
            db: db.clone(),
            sid,
            ids: Arc::new(AtomicU64::new(0)),
        }
    }

    /// `str(uuid.uuid4())`: unique per call, deterministic.
    fn uuid(&self) -> String {
        let n = self.ids.fetch_add(1, Ordering::Relaxed);
        format!("{}-{n}", self.node.name())
    }

    /// One statement; a statement that waits on the server is resumed until it finishes.
    fn exec(&self, stmt: impl Into<Stmt>) -> Result<Exec, NetError> {
        let stmt = stmt.into();
        let sid = self.sid;
        let text = stmt.to_string();
        let mut r = self
            .db
            .call(&self.node, text, move |d, c| d.execute(sid, stmt, c))?;
        while r.is_blocked() {
            B::sleep(Duration::from_millis(10));
            r = self
                .db
                .call(&self.node, "(still waiting)", move |d, c| d.resume(sid, c))?;
        }
        Ok(r)
    }

    /// A statement whose error is a Python exception.
    fn run(&self, stmt: impl Into<Stmt>) -> Result<Vec<Row>, PyErr> {
        match self.exec(stmt) {
            Ok(Exec::Done(r)) => Ok(r.rows),
            Ok(e) => Err(format!("psycopg2.Error: {e}")),
            Err(e) => Err(e.to_string()),
        }
    }

    /// A statement's row count (`cursor.rowcount`).
    fn count(&self, stmt: impl Into<Stmt>) -> Result<u64, PyErr> {
        match self.exec(stmt) {
            Ok(Exec::Done(r)) => Ok(r.count()),
            Ok(e) => Err(format!("psycopg2.Error: {e}")),
            Err(e) => Err(e.to_string()),
        }
    }

    /// `execute_insert`: `True`, or `False` on a duplicate key (the mock's contract).
    fn insert(&self, ins: Insert) -> Result<bool, PyErr> {
        match self.exec(ins) {
            Ok(Exec::Done(_)) => Ok(true),
            Ok(Exec::Error(e)) if e.code == "23505" => Ok(false),
            Ok(e) => Err(format!("psycopg2.Error: {e}")),
            Err(e) => Err(e.to_string()),
        }
    }

    /// `query_one(table, condition)`.
    fn query_one(&self, q: Select) -> Result<Option<Row>, PyErr> {
        Ok(self.run(q.limit(1))?.into_iter().next())
    }
}

/// Runs statements on the server as its own step (the scenario's setup, by main).
fn setup<B: Backend>(db: &Pg<B>, stmts: Vec<Stmt>) {
    db.tick("setup", move |d, c| {
        let s = d.connect();
        let n = stmts.len();
        for st in stmts {
            let r = d.execute(s, st, c);
            assert!(matches!(r, Exec::Done(_)), "setup: {r}");
        }
        d.close(s, c);
        n
    });
}

/// The tutorial's `distributed_locks` table.
const LOCKS: &str = "distributed_locks";

fn locks_table() -> Stmt {
    TableDef::new(
        LOCKS,
        &[
            "lock_name",
            "identifier",
            "thread_id",
            "acquire_count",
            "expires_at",
            "created_at",
        ],
    )
    .primary_key(&["lock_name"])
    .into()
}

fn expires(row: &Row) -> i64 {
    row.get("expires_at")
        .and_then(Value::as_timestamp)
        .unwrap_or(i64::MIN)
}

/// How a [`DatabaseLock`] takes over an expired row.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Takeover {
    /// As written: read the row, judge it by the client's clock, delete by its old
    /// identifier, insert.
    ClientClock,
    /// One `INSERT … ON CONFLICT DO UPDATE … WHERE expires_at < now()` judged by the
    /// server's clock.
    ServerNow,
}

/// ex-9.2-01's `DatabaseLock`.
struct DatabaseLock<B: Backend> {
    conn: Conn<B>,
    lock_name: String,
    timeout: f64,
    identifier: String,
    acquired: bool,
    takeover: Takeover,
}

impl<B: Backend> DatabaseLock<B> {
    fn new(conn: &Conn<B>, lock_name: &str, timeout: f64) -> Self {
        DatabaseLock {
            identifier: conn.uuid(),
            conn: conn.clone(),
            lock_name: lock_name.to_owned(),
            timeout,
            acquired: false,
            takeover: Takeover::ClientClock,
        }
    }

    fn mine(&self, who: &str) -> Pred {
        col("lock_name")
            .eq(self.lock_name.as_str())
            .and(col("identifier").eq(who))
    }

    fn row(&self, expires_at: Expr, created_at: Expr) -> Insert {
        Insert::into(LOCKS)
            .value("lock_name", self.lock_name.as_str())
            .value("identifier", self.identifier.as_str())
            .value("expires_at", expires_at)
            .value("created_at", created_at)
    }

    fn try_acquire(&self) -> Result<bool, PyErr> {
        if self.takeover == Takeover::ServerNow {
            let up = self
                .row(
                    now().plus(Value::Interval((self.timeout * 1e9) as i64)),
                    now(),
                )
                .on_conflict_do_update(
                    &["lock_name"],
                    vec![
                        ("identifier", excluded("identifier")),
                        ("expires_at", excluded("expires_at")),
                    ],
                    col("expires_at").lt(now()),
                )
                .returning(&["identifier"]);
            return Ok(!self.conn.run(up)?.is_empty());
        }
        let node = &self.conn.node;
        let lock_data = self.row(
            Expr::Lit(dt_now(node, self.timeout)),
            Expr::Lit(dt_now(node, 0.0)),
        );
        if self.conn.insert(lock_data.clone())? {
            return Ok(true);
        }
        let existing = self
            .conn
            .query_one(Select::from(LOCKS).filter(col("lock_name").eq(self.lock_name.as_str())))?;
        if let Some(ex) = existing {
            let now_ns = dt_now(node, 0.0).as_timestamp().unwrap_or(0);
            if expires(&ex) < now_ns {
                let old = ex
                    .get("identifier")
                    .map(ToString::to_string)
                    .unwrap_or_default();
                let deleted = self
                    .conn
                    .count(Delete::from(LOCKS).filter(self.mine(&old)))?;
                if deleted > 0 {
                    return self.conn.insert(lock_data);
                }
            }
        }
        Ok(false)
    }

    /// `acquire(blocking, timeout)`: polls every 0.1 s; an exception returns `False`.
    fn acquire(&mut self, blocking: bool, timeout: Option<f64>) -> bool {
        let start = self.conn.node.time();
        loop {
            match self.try_acquire() {
                Ok(true) => {
                    self.acquired = true;
                    return true;
                }
                Ok(false) => {}
                Err(_) => return false,
            }
            if !blocking {
                return false;
            }
            if let Some(t) = timeout {
                if self.conn.node.time() - start >= t {
                    return false;
                }
            }
            B::sleep(Duration::from_millis(100));
        }
    }

    fn release(&mut self) -> bool {
        if !self.acquired {
            return false;
        }
        match self
            .conn
            .count(Delete::from(LOCKS).filter(self.mine(&self.identifier)))
        {
            Ok(n) => {
                self.acquired = false;
                n > 0
            }
            Err(_) => false,
        }
    }

    fn extend(&mut self, additional: f64) -> bool {
        if !self.acquired {
            return false;
        }
        let new_expires = dt_now(&self.conn.node, additional);
        let upd = Update::table(LOCKS)
            .set("expires_at", new_expires)
            .filter(self.mine(&self.identifier));
        matches!(self.conn.count(upd), Ok(n) if n > 0)
    }

    fn is_locked(&self) -> bool {
        let q = Select::from(LOCKS).filter(col("lock_name").eq(self.lock_name.as_str()));
        match self.conn.query_one(q) {
            Ok(Some(row)) => {
                expires(&row) > dt_now(&self.conn.node, 0.0).as_timestamp().unwrap_or(0)
            }
            _ => false,
        }
    }
}

/// A cluster with one database holding the lock table.
fn lock_world<B: Backend>() -> (Cluster<B>, Pg<B>) {
    let cluster = Cluster::<B>::new(Faults::none());
    let db = cluster.server("postgres", Db::new());
    setup(&db, vec![locks_table()]);
    (cluster, db)
}

// ---- ex-9.2-01 -------------------------------------------------------------------------

/// The demo: `DatabaseLock(db, "resource_lock", timeout=10)`, `acquire(blocking=True,
/// timeout=5)`, 2 s of work, `is_locked()`, `extend(5)`, `release()`.
fn ex_9_2_01<B: System>() {
    let (cluster, db) = lock_world::<B>();
    let node = cluster.node("demo");
    let p = B::spawn_process("demo", move || {
        let conn = Conn::open(&db, node);
        let mut lock = DatabaseLock::new(&conn, "resource_lock", 10.0);
        let got = lock.acquire(true, Some(5.0));
        ensure(got, "claims", || {
            "获取锁失败 (the lock was not acquired)".into()
        });
        B::sleep(Duration::from_secs(2));
        let locked = lock.is_locked();
        ensure(locked, "claims", || {
            "锁状态: 未锁定 after 2 s of a 10 s lock".into()
        });
        let extended = lock.extend(5.0);
        ensure(extended, "claims", || "extend(5) updated no row".into());
        let released = lock.acquired && lock.release();
        ensure(released, "claims", || "release() deleted no row".into());
        ensure(
            db.inspect(|d, _| d.committed_rows(LOCKS).is_empty()),
            "claims",
            || "a lock row is left after release".into(),
        );
    });
    p.join();
}

/// One client of the two-client variants: the demo scaled ×0.1 (TTL 1 s, wait 0.5 s,
/// work 0.2 s, extend 0.5 s) inside a critical region.
fn demo_client<B: System>(conn: Conn<B>, critical: Arc<Region<B>>, takeover: Takeover, delay: f64) {
    if delay > 0.0 {
        B::sleep(Duration::from_secs_f64(delay));
    }
    let mut lock = DatabaseLock::new(&conn, "resource_lock", 1.0);
    lock.takeover = takeover;
    if lock.acquire(true, Some(0.5)) {
        let inside = critical.enter();
        B::sleep(Duration::from_millis(200));
        let _ = lock.is_locked();
        lock.extend(0.5);
        drop(inside);
        lock.release();
    }
}

fn two_demo_clients<B: System>(skew: Duration, takeover: Takeover, delay: f64) {
    let (cluster, db) = lock_world::<B>();
    let critical = Arc::new(Region::<B>::new("critical", 1));
    let a = cluster.node("client-a");
    let b = cluster.node_with("client-b", NodeClock::default().ahead(skew));
    let procs: Vec<_> = [(a, 0.0), (b, delay)]
        .into_iter()
        .map(|(node, d)| {
            let (db, critical) = (db.clone(), critical.clone());
            let name = node.name().to_owned();
            B::spawn_process(&name, move || {
                let conn = Conn::open(&db, node);
                demo_client(conn, critical, takeover, d);
            })
        })
        .collect();
    for p in procs {
        p.join();
    }
}

fn ex_9_2_01_pause<B: System>() {
    two_demo_clients::<B>(Duration::ZERO, Takeover::ClientClock, 0.8);
}

fn ex_9_2_01_clock_skew<B: System>() {
    two_demo_clients::<B>(Duration::from_secs(2), Takeover::ClientClock, 0.1);
}

fn ex_9_2_01_clock_skew_fixed<B: System>() {
    two_demo_clients::<B>(Duration::from_secs(2), Takeover::ServerNow, 0.1);
}

/// The holder X (TTL 1 s) works 1.05 s, then renews with `extend(1)` and, only if that
/// updated its row, works on; client B tries once at 1.05 s and takes the expired row.
fn ex_9_2_01_renewal<B: System>() {
    let (cluster, db) = lock_world::<B>();
    let critical = Arc::new(Region::<B>::new("critical", 1));
    let x = {
        let (db, critical, node) = (db.clone(), critical.clone(), cluster.node("client-x"));
        B::spawn_process("client-x", move || {
            let conn = Conn::open(&db, node);
            let mut lock = DatabaseLock::new(&conn, "resource_lock", 1.0);
            if lock.acquire(true, Some(0.5)) {
                let inside = critical.enter();
                B::sleep(Duration::from_millis(1050));
                if lock.extend(1.0) {
                    B::sleep(Duration::from_millis(200));
                }
                drop(inside);
                lock.release();
            }
        })
    };
    let b = {
        let (db, node) = (db.clone(), cluster.node("client-b"));
        B::spawn_process("client-b", move || {
            let conn = Conn::open(&db, node);
            B::sleep(Duration::from_millis(1050));
            let mut lock = DatabaseLock::new(&conn, "resource_lock", 1.0);
            if lock.acquire(false, None) {
                let inside = critical.enter();
                B::sleep(Duration::from_millis(100));
                drop(inside);
                lock.release();
            }
        })
    };
    x.join();
    b.join();
}

// ---- ex-9.2-02 -------------------------------------------------------------------------

const WAITS: &str = "lock_wait_queue";

/// The module as written does not compile: nothing runs.
fn ex_9_2_02<B: System>() {
    // The interpreter starts the program: one step, then the exception.
    B::yield_now();
    ensure(false, "no-uncaught-exception", || {
        "  File \"advanced_database_lock.py\", line 84\n    def _process_wait_queue(self(self):\n                                ^\nSyntaxError: invalid syntax".into()
    });
}

/// ex-9.2-02's `AdvancedDatabaseLock` with its syntax fixed, `with` as `acquire()` /
/// `release()` (DatabaseLock's `__enter__`/`__exit__`, which ignore acquire's result), and
/// the wait-queue helpers a real database provides (`ORDER BY created_at`, a serial id).
struct AdvancedLock<B: Backend> {
    conn: Conn<B>,
    lock_name: String,
    timeout: f64,
    fair: bool,
    reentrant: bool,
    identifier: String,
    thread_id: i64,
    acquired: bool,
    acquire_count: i64,
}

impl<B: Backend> AdvancedLock<B> {
    fn new(conn: &Conn<B>, lock_name: &str, timeout: f64, fair: bool, reentrant: bool) -> Self {
        let identifier = conn.uuid();
        AdvancedLock {
            thread_id: i64::try_from(identifier.len()).unwrap_or(0),
            identifier,
            conn: conn.clone(),
            lock_name: lock_name.to_owned(),
            timeout,
            fair,
            reentrant,
            acquired: false,
            acquire_count: 0,
        }
    }

    fn mine(&self, who: &str) -> Pred {
        col("lock_name")
            .eq(self.lock_name.as_str())
            .and(col("identifier").eq(who))
    }

    fn current(&self) -> Result<Option<Row>, PyErr> {
        self.conn
            .query_one(Select::from(LOCKS).filter(col("lock_name").eq(self.lock_name.as_str())))
    }

    fn try_acquire(&self) -> Result<bool, PyErr> {
        let node = &self.conn.node;
        let expires_at = dt_now(node, self.timeout);
        let mut data = Insert::into(LOCKS)
            .value("lock_name", self.lock_name.as_str())
            .value("identifier", self.identifier.as_str())
            .value("expires_at", expires_at.clone());
        if self.reentrant {
            data = data
                .value("thread_id", self.thread_id)
                .value("acquire_count", 1);
        }
        if self.conn.insert(data.clone())? {
            return Ok(true);
        }
        let Some(ex) = self.current()? else {
            return Ok(false);
        };
        if expires(&ex) < dt_now(node, 0.0).as_timestamp().unwrap_or(0) {
            let old = ex
                .get("identifier")
                .map(ToString::to_string)
                .unwrap_or_default();
            if self
                .conn
                .count(Delete::from(LOCKS).filter(self.mine(&old)))?
                > 0
            {
                return self.conn.insert(data);
            }
        }
        if self.reentrant
            && ex.get("thread_id") == Some(&Value::Int(self.thread_id))
            && ex.get("identifier") == Some(&Value::from(self.identifier.as_str()))
        {
            let n = ex.get("acquire_count").and_then(Value::as_int).unwrap_or(0) + 1;
            let upd = Update::table(LOCKS)
                .set("acquire_count", n)
                .set("expires_at", expires_at)
                .filter(self.mine(&self.identifier));
            return Ok(self.conn.count(upd)? > 0);
        }
        Ok(false)
    }

    fn acquire(&mut self, blocking: bool, timeout: Option<f64>) -> bool {
        if self.reentrant && self.acquired {
            let cur = self.current().ok().flatten();
            let same = cur.and_then(|r| r.get("identifier").cloned())
                == Some(Value::from(self.identifier.as_str()));
            if same {
                let upd = Update::table(LOCKS)
                    .set("acquire_count", self.acquire_count + 1)
                    .set("expires_at", dt_now(&self.conn.node, self.timeout))
                    .filter(self.mine(&self.identifier));
                let _ = self.conn.count(upd);
                self.acquire_count += 1;
                return true;
            }
        }
        let start = self.conn.node.time();
        let effective = timeout.unwrap_or(self.timeout);
        if self.fair && blocking {
            let wait = Insert::into(WAITS)
                .value("lock_name", self.lock_name.as_str())
                .value("identifier", self.identifier.as_str())
                .value("thread_id", self.thread_id)
                .value("created_at", dt_now(&self.conn.node, 0.0))
                .value("expires_at", dt_now(&self.conn.node, effective));
            let _ = self.conn.insert(wait);
        }
        loop {
            match self.try_acquire() {
                Ok(true) => {
                    self.acquired = true;
                    self.acquire_count = 1;
                    if self.fair {
                        self.leave_queue();
                    }
                    return true;
                }
                Ok(false) => {}
                Err(_) => {
                    if self.fair {
                        self.leave_queue();
                    }
                    return false;
                }
            }
            if !blocking {
                return false;
            }
            if self.conn.node.time() - start >= effective {
                if self.fair {
                    self.leave_queue();
                }
                return false;
            }
            B::sleep(Duration::from_millis(100));
        }
    }

    fn leave_queue(&self) {
        let _ = self
            .conn
            .count(Delete::from(WAITS).filter(self.mine(&self.identifier)));
    }

    fn release(&mut self) -> bool {
        if !self.acquired {
            return false;
        }
        if self.reentrant && self.acquire_count > 1 {
            self.acquire_count -= 1;
            let upd = Update::table(LOCKS)
                .set("acquire_count", self.acquire_count)
                .set("expires_at", dt_now(&self.conn.node, self.timeout))
                .filter(self.mine(&self.identifier));
            if matches!(self.conn.count(upd), Ok(n) if n > 0) {
                return true;
            }
        }
        let deleted = self
            .conn
            .count(Delete::from(LOCKS).filter(self.mine(&self.identifier)));
        self.acquired = false;
        self.acquire_count = 0;
        matches!(deleted, Ok(n) if n > 0)
    }

    /// The maintenance thread's `_process_wait_queue` (its cleanup deletes nothing: see
    /// the module doc): grant the oldest waiter when nobody holds the lock.
    fn process_wait_queue(conn: &Conn<B>, lock_name: &str, timeout: f64) {
        let held = conn.query_one(Select::from(LOCKS).filter(col("lock_name").eq(lock_name)));
        if !matches!(held, Ok(None)) {
            return;
        }
        let Ok(waiters) = conn.run(
            Select::from(WAITS)
                .filter(col("lock_name").eq(lock_name))
                .order_by("created_at"),
        ) else {
            return;
        };
        let Some(first) = waiters.into_iter().next() else {
            return;
        };
        let who = first.get("identifier").cloned().unwrap_or(Value::Null);
        let grant = Insert::into(LOCKS)
            .value("lock_name", lock_name)
            .value("identifier", who)
            .value(
                "thread_id",
                first.get("thread_id").cloned().unwrap_or(Value::Null),
            )
            .value("acquire_count", 1)
            .value("expires_at", dt_now(&conn.node, timeout))
            .value("created_at", dt_now(&conn.node, 0.0));
        if matches!(conn.insert(grant), Ok(true)) {
            let id = first.get("id").cloned().unwrap_or(Value::Null);
            let _ = conn.count(Delete::from(WAITS).filter(col("id").eq(id)));
        }
    }
}

fn queue_world<B: Backend>() -> (Cluster<B>, Pg<B>) {
    let (cluster, db) = lock_world::<B>();
    let waits = TableDef::new(
        WAITS,
        &[
            "id",
            "lock_name",
            "identifier",
            "thread_id",
            "created_at",
            "expires_at",
        ],
    )
    .primary_key(&["id"])
    .serial("id");
    setup(&db, vec![waits.into()]);
    (cluster, db)
}

/// Two reentrant workers, each on its own resource: `with lock:` around a nested
/// `with lock:` (TTL 10 s, work 1 s scaled to 0.1 s).
fn ex_9_2_02_reentrant<B: System>() {
    let (cluster, db) = queue_world::<B>();
    let node = cluster.node("app");
    let p = B::spawn_process("app", move || {
        let conn = Conn::open(&db, node);
        let ws: Vec<_> = (0..2)
            .map(|i| {
                let conn = conn.clone();
                B::spawn(&format!("Worker-{i}"), move || {
                    let mut lock =
                        AdvancedLock::new(&conn, &format!("resource_{i}"), 10.0, false, true);
                    let outer = lock.acquire(true, None);
                    let inner = lock.acquire(true, None);
                    B::sleep(Duration::from_millis(100));
                    let r1 = lock.release();
                    let r2 = lock.release();
                    ensure(outer && inner && r1 && r2, "claims", || {
                        format!("Worker-{i}: acquire {outer}/{inner}, release {r1}/{r2}")
                    });
                })
            })
            .collect();
        for w in ws {
            w.join();
        }
        let left = db.inspect(|d, _| d.committed_rows(LOCKS).len());
        ensure(left == 0, "claims", || {
            format!("{left} lock rows left after every nested release")
        });
    });
    p.join();
}

/// Three fair workers on `shared_resource` (TTL 5 s → 3 s, hold 2 s → 1 s) and one
/// maintenance thread every second; the order in which they enqueued must be the order
/// in which they got the lock, and each must get it.
fn ex_9_2_02_fair<B: System>() {
    let (cluster, db) = queue_world::<B>();
    let node = cluster.node("app");
    let p = B::spawn_process("app", move || {
        let conn = Conn::open(&db, node);
        let order: Arc<Shared<Vec<usize>, B>> =
            Arc::new(Shared::new(Vec::new()).with_name("grant order"));
        let critical = Arc::new(Region::<B>::new("critical", 1));
        let done = Arc::new(Event::<B>::new().with_name("workers done"));
        let maint = {
            let (conn, done) = (conn.clone(), done.clone());
            B::spawn("maintenance", move || loop {
                AdvancedLock::process_wait_queue(&conn, "shared_resource", 3.0);
                if done.wait(Some(1.0)).unwrap_or(true) {
                    break;
                }
            })
        };
        let ws: Vec<_> = (3..6)
            .map(|i| {
                let (conn, order, critical) = (conn.clone(), order.clone(), critical.clone());
                B::spawn(&format!("Worker-{i}"), move || {
                    B::sleep(Duration::from_millis(10 * (i as u64 - 3)));
                    let mut lock = AdvancedLock::new(&conn, "shared_resource", 3.0, true, false);
                    let got = lock.acquire(true, None);
                    ensure(got, "no-starvation", || {
                        format!("Worker-{i} timed out waiting for the fair lock")
                    });
                    order.update(|o| o.push(i));
                    let inside = critical.enter();
                    B::sleep(Duration::from_secs(1));
                    drop(inside);
                    lock.release();
                })
            })
            .collect();
        for w in ws {
            w.join();
        }
        done.set();
        maint.join();
        let got = order.get();
        ensure(got == vec![3, 4, 5], "fifo-grant", || {
            format!("workers enqueued as 3, 4, 5 and got the lock as {got:?}")
        });
    });
    p.join();
}

// ---- ex-9.2-03 -------------------------------------------------------------------------

fn missing_ensure_tables(class: &str) -> String {
    format!(
        "Traceback (most recent call last):\n  File \"{class}.py\", in __init__\n    self._ensure_tables_exist()\nAttributeError: '{class}' object has no attribute '_ensure_tables_exist'"
    )
}

/// As written, the constructor calls a method the class does not define.
fn ex_9_2_03<B: System>() {
    // The interpreter starts the program: one step, then the exception.
    B::yield_now();
    ensure(false, "no-uncaught-exception", || {
        missing_ensure_tables("DistributedTaskScheduler")
    });
}

const TASKS: &str = "scheduled_tasks";

/// The scheduler with `_ensure_tables_exist` (the tasks table, a serial id) and
/// `_handle_task_failure` (mark failed) supplied. `runs` counts each task id's executions.
struct Scheduler<B: Backend> {
    conn: Conn<B>,
    runs: Arc<Shared<Vec<i64>, B>>,
}

impl<B: Backend> Scheduler<B> {
    fn schedule_task(&self, task_name: &str) -> bool {
        let now = dt_now(&self.conn.node, 0.0);
        matches!(
            self.conn.insert(
                Insert::into(TASKS)
                    .value("task_name", task_name)
                    .value("status", "scheduled")
                    .value("created_at", now.clone())
                    .value("execute_after", now)
            ),
            Ok(true)
        )
    }

    fn set_status(&self, id: &Value, status: &str) {
        let upd = Update::table(TASKS)
            .set("status", status)
            .set("updated_at", dt_now(&self.conn.node, 0.0))
            .filter(col("id").eq(id.clone()));
        let _ = self.conn.count(upd);
    }

    /// `execute_task`: a non-blocking 300 s lock (5 s here), the oldest due task, mark it
    /// running, run it (`data_backup`: 10 s → 2 s), mark it completed, release.
    fn execute_task(&self, task_name: &str, pause_point: &dyn Fn()) -> bool {
        let mut task_lock = DatabaseLock::new(&self.conn, &format!("task_{task_name}"), 5.0);
        if !task_lock.acquire(false, None) {
            return false;
        }
        let q = Select::from(TASKS)
            .filter(
                col("task_name")
                    .eq(task_name)
                    .and(col("status").eq("scheduled"))
                    .and(col("execute_after").le(dt_now(&self.conn.node, 0.0))),
            )
            .order_by("created_at");
        let task = self.conn.query_one(q);
        let ok = match task {
            Ok(Some(task)) => {
                let id = task.get("id").cloned().unwrap_or(Value::Null);
                pause_point();
                self.set_status(&id, "running");
                self.runs.update(|r| r.push(id.as_int().unwrap_or(-1)));
                B::sleep(Duration::from_secs(2));
                self.set_status(&id, "completed");
                true
            }
            _ => true,
        };
        task_lock.release();
        ok
    }
}

fn task_world<B: Backend>() -> (Cluster<B>, Pg<B>) {
    let (cluster, db) = lock_world::<B>();
    let tasks = TableDef::new(
        TASKS,
        &[
            "id",
            "task_name",
            "status",
            "created_at",
            "execute_after",
            "updated_at",
        ],
    )
    .primary_key(&["id"])
    .serial("id");
    setup(&db, vec![tasks.into()]);
    (cluster, db)
}

/// Two nodes call `execute_task("data_backup")` every second, three times; three tasks
/// are scheduled first. `crash_after_running`: judge recovery instead of duplicates.
fn scheduler_nodes<B: System>(crash_judge: bool) {
    let (cluster, db) = task_world::<B>();
    let runs: Arc<Shared<Vec<i64>, B>> = Arc::new(Shared::new(Vec::new()).with_name("runs"));
    {
        let conn = Conn::open(&db, cluster.node("admin"));
        let s = Scheduler {
            conn,
            runs: runs.clone(),
        };
        for _ in 0..3 {
            s.schedule_task("data_backup");
        }
    }
    let procs: Vec<_> = ["node-1", "node-2"]
        .into_iter()
        .map(|name| {
            let (db, runs, node) = (db.clone(), runs.clone(), cluster.node(name));
            B::spawn_process(name, move || {
                let s = Scheduler {
                    conn: Conn::open(&db, node),
                    runs,
                };
                for _ in 0..3 {
                    s.execute_task("data_backup", &|| B::yield_now());
                    B::sleep(Duration::from_secs(1));
                }
            })
        })
        .collect();
    let codes: Vec<i32> = procs.into_iter().map(|p| p.join()).collect();
    let ran = runs.get();
    if crash_judge {
        // After every lease has expired, a surviving node's further rounds must still
        // run a task a crashed node left in `running`.
        B::sleep(Duration::from_secs(6));
        let s = Scheduler {
            conn: Conn::open(&db, cluster.node("node-3")),
            runs: runs.clone(),
        };
        for _ in 0..3 {
            s.execute_task("data_backup", &|| {});
        }
        let stuck = db.inspect(|d, _| {
            d.committed_rows(TASKS)
                .iter()
                .filter(|r| r.get("status") == Some(&Value::from("running")))
                .count()
        });
        ensure(stuck == 0, "crashed-task-recovered", || {
            format!("exit codes {codes:?}: {stuck} task(s) stay 'running' forever after the lease expired")
        });
    } else {
        let mut seen = ran.clone();
        seen.sort_unstable();
        seen.dedup();
        ensure(seen.len() == ran.len(), "no-double-execution", || {
            format!("task ids run: {ran:?}")
        });
    }
}

fn ex_9_2_03_pause<B: System>() {
    scheduler_nodes::<B>(false);
}

fn ex_9_2_03_crash<B: System>() {
    scheduler_nodes::<B>(true);
}

// ---- ex-9.2-04 -------------------------------------------------------------------------

fn ex_9_2_04<B: System>() {
    // The interpreter starts the program: one step, then the exception.
    B::yield_now();
    ensure(false, "no-uncaught-exception", || {
        missing_ensure_tables("DatabaseMigrationManager")
    });
}

const MIGRATIONS: &str = "schema_migrations";

/// `run_migrations` with the record helpers supplied (a `schema_migrations` row per
/// script: started, then success) and each script's DDL as a counter of applications.
fn run_migrations<B: Backend>(conn: &Conn<B>, applied: &Shared<Vec<String>, B>) -> bool {
    let mut lock = DatabaseLock::new(conn, "database_migration", 10.0);
    if !lock.acquire(true, Some(3.0)) {
        return false;
    }
    for script in ["001_init", "002_index", "003_backfill"] {
        let done = conn.query_one(
            Select::from(MIGRATIONS).filter(
                col("script_name")
                    .eq(script)
                    .and(col("status").eq("success")),
            ),
        );
        if matches!(done, Ok(Some(_))) {
            continue;
        }
        let _ = conn.insert(
            Insert::into(MIGRATIONS)
                .value("script_name", script)
                .value("status", "started"),
        );
        applied.update(|a| a.push(script.to_owned()));
        B::sleep(Duration::from_secs(2));
        let _ = conn.count(
            Update::table(MIGRATIONS)
                .set("status", "success")
                .filter(col("script_name").eq(script)),
        );
    }
    lock.release();
    true
}

fn ex_9_2_04_pause<B: System>() {
    let (cluster, db) = lock_world::<B>();
    setup(
        &db,
        vec![TableDef::new(MIGRATIONS, &["script_name", "status"])
            .primary_key(&["script_name"])
            .into()],
    );
    let applied: Arc<Shared<Vec<String>, B>> =
        Arc::new(Shared::new(Vec::new()).with_name("applied"));
    let procs: Vec<_> = [("node-1", 0u64), ("node-2", 1)]
        .into_iter()
        .map(|(name, delay)| {
            let (db, applied, node) = (db.clone(), applied.clone(), cluster.node(name));
            B::spawn_process(name, move || {
                B::sleep(Duration::from_secs(delay));
                let conn = Conn::open(&db, node);
                // A node that could not get the lock tries again later (a deploy retry).
                for _ in 0..4 {
                    if run_migrations(&conn, &applied) {
                        break;
                    }
                    B::sleep(Duration::from_secs(3));
                }
            })
        })
        .collect();
    for p in procs {
        p.join();
    }
    let got = applied.get();
    let mut once = got.clone();
    once.sort();
    once.dedup();
    ensure(once.len() == got.len(), "migration-applied-once", || {
        format!("scripts applied: {got:?}")
    });
}

// ---- ex-9.2-05 -------------------------------------------------------------------------

fn ex_9_2_05<B: System>() {
    // The interpreter starts the program: one step, then the exception.
    B::yield_now();
    ensure(false, "no-uncaught-exception", || {
        missing_ensure_tables("DistributedCacheManager")
    });
}

const CACHE: &str = "cache_entries";

/// `update_cache(key, value)` under lock `cache_update_<key>` (30 s, wait 5 s): query,
/// then update or insert.
fn update_cache<B: Backend>(conn: &Conn<B>, key: &str, value: &str) -> bool {
    let mut lock = DatabaseLock::new(conn, &format!("cache_update_{key}"), 30.0);
    if !lock.acquire(true, Some(5.0)) {
        return false;
    }
    let exists = conn.query_one(Select::from(CACHE).filter(col("cache_key").eq(key)));
    let expires = dt_now(&conn.node, 3600.0);
    match exists {
        Ok(Some(_)) => {
            let _ = conn.count(
                Update::table(CACHE)
                    .set("cache_value", value)
                    .set("expires_at", expires)
                    .filter(col("cache_key").eq(key)),
            );
        }
        _ => {
            let _ = conn.insert(
                Insert::into(CACHE)
                    .value("cache_key", key)
                    .value("cache_value", value)
                    .value("expires_at", expires),
            );
        }
    }
    lock.release();
    true
}

/// `invalidate_cache(key)` under the *other* lock `cache_invalidate_<key>`.
fn invalidate_cache<B: Backend>(conn: &Conn<B>, key: &str) -> bool {
    let mut lock = DatabaseLock::new(conn, &format!("cache_invalidate_{key}"), 10.0);
    if !lock.acquire(true, Some(5.0)) {
        return false;
    }
    let _ = conn.count(Delete::from(CACHE).filter(col("cache_key").eq(key)));
    lock.release();
    true
}

/// A refiller reads the source (`v1`) and calls `update_cache`; a writer changes the
/// source to `v2` and calls `invalidate_cache`. Afterwards the cache may miss, or hold
/// the source's current value, never the old one.
fn ex_9_2_05_invalidate<B: System>() {
    let (cluster, db) = lock_world::<B>();
    setup(
        &db,
        vec![
            TableDef::new(CACHE, &["cache_key", "cache_value", "expires_at"])
                .primary_key(&["cache_key"])
                .into(),
            TableDef::new("source", &["k", "v"])
                .primary_key(&["k"])
                .into(),
            Insert::into("source")
                .value("k", "user:1")
                .value("v", "v1")
                .into(),
        ],
    );
    let refill = {
        let (db, node) = (db.clone(), cluster.node("refiller"));
        B::spawn_process("refiller", move || {
            let conn = Conn::open(&db, node);
            let v = conn
                .query_one(Select::from("source").filter(col("k").eq("user:1")))
                .ok()
                .flatten()
                .and_then(|r| r.get("v").map(ToString::to_string))
                .unwrap_or_default();
            update_cache(&conn, "user:1", &v);
        })
    };
    let writer = {
        let (db, node) = (db.clone(), cluster.node("writer"));
        B::spawn_process("writer", move || {
            let conn = Conn::open(&db, node);
            let _ = conn.count(
                Update::table("source")
                    .set("v", "v2")
                    .filter(col("k").eq("user:1")),
            );
            invalidate_cache(&conn, "user:1");
        })
    };
    refill.join();
    writer.join();
    let cached = db.inspect(|d, _| {
        d.committed_rows(CACHE)
            .first()
            .and_then(|r| r.get("cache_value").map(ToString::to_string))
    });
    ensure(
        cached.as_deref().is_none_or(|v| v == "v2"),
        "no-stale-cache",
        || {
            format!(
                "after the invalidation completed the cache holds {cached:?}; the source holds v2"
            )
        },
    );
}

/// The section's scenarios, in tutorial order.
pub fn scenarios() -> Vec<Scenario> {
    vec![
        Scenario::new(
            "ex-9.2-01",
            "DatabaseLock demo: INSERT a lock_table row (TTL 10 s), work 2 s, is_locked, extend(5), owner-checked DELETE; one client",
            bodies!(ex_9_2_01),
        )
        .holds("alone, the insert succeeds, the row is live after 2 s, extend updates 1 row, release deletes it")
        .source("ex-9.2-01")
        .threads(1),
        Scenario::new(
            "ex-9.2-01-pause",
            "two clients run the demo scaled ×0.1 (TTL 1 s, wait 0.5 s, work 0.2 s); the second starts 0.8 s later; a client may be paused 1.5 s",
            bodies!(ex_9_2_01_pause),
        )
        .violates("mutual-exclusion", "a holder paused past its 1 s TTL keeps believing; the other client reads the row, judges it expired, deletes it by the old identifier and inserts its own: two clients inside")
        .pauses(1, Duration::from_millis(1500))
        .source("ex-9.2-01")
        .threads(2),
        Scenario::new(
            "ex-9.2-01-renewal",
            "the holder (TTL 1 s) renews 1.05 s in and works on only if extend updated its row; a second client tries once at 1.05 s",
            bodies!(ex_9_2_01_renewal),
        )
        .violates("mutual-exclusion", "the takeover deletes by the old identifier without re-checking expires_at: the holder's renewal lands between the taker's read and its DELETE, extend() returns True, the DELETE removes the renewed row and the taker inserts its own (DISTRIBUTED.md §2.3, reproduced on PostgreSQL)")
        .source("ex-9.2-01")
        .threads(2),
        Scenario::new(
            "ex-9.2-01-clock-skew",
            "two demo clients (TTL 1 s); the second's wall clock runs 2 s ahead and it arrives 0.1 s after the first acquired",
            bodies!(ex_9_2_01_clock_skew),
        )
        .violates("mutual-exclusion", "expiry is judged by each client's datetime.now(): to the fast client the live row's expires_at is already past, so it deletes the holder's row and inserts its own while the holder works")
        .source("ex-9.2-01")
        .threads(2),
        Scenario::new(
            "ex-9.2-01-clock-skew-fixed",
            "the same skewed clients; acquire is one INSERT … ON CONFLICT (lock_name) DO UPDATE … WHERE expires_at < now(), expires_at = now() + TTL",
            bodies!(ex_9_2_01_clock_skew_fixed),
        )
        .holds("expiry is written and judged by the server's clock in one atomic statement, so the clients' clocks no longer matter")
        .source("ex-9.2-01")
        .threads(2),
        Scenario::new(
            "ex-9.2-02",
            "AdvancedDatabaseLock as written: the module is imported",
            bodies!(ex_9_2_02),
        )
        .violates("no-uncaught-exception", "`def _process_wait_queue(self(self):` is a SyntaxError: nothing of the example runs")
        .source("ex-9.2-02")
        .threads(0),
        Scenario::new(
            "ex-9.2-02-reentrant",
            "AdvancedDatabaseLock, syntax fixed: 2 threads, each `with lock:` nested twice on its own resource (reentrant, not fair)",
            bodies!(ex_9_2_02_reentrant),
        )
        .holds("the nested acquire sees its own identifier and increments acquire_count; two releases decrement then delete the row")
        .source("ex-9.2-02")
        .threads(3),
        Scenario::new(
            "ex-9.2-02-fair",
            "AdvancedDatabaseLock, syntax fixed: 3 fair workers on one resource (TTL 3 s, hold 1 s) enqueue 10 ms apart; a maintenance thread grants the oldest waiter every second",
            bodies!(ex_9_2_02_fair),
        )
        .violates("fifo-grant", "acquire keeps polling _try_acquire whatever its queue position (barging), so after a release whichever worker polls first wins; a row the maintenance thread grants to a waiter is not recognised by that non-reentrant waiter, which times out while the row blocks everyone until it expires")
        .or_violates("no-starvation")
        .or_violates("mutual-exclusion")
        .source("ex-9.2-02")
        .threads(5),
        Scenario::new(
            "ex-9.2-03",
            "DistributedTaskScheduler as written: the scheduler is constructed",
            bodies!(ex_9_2_03),
        )
        .violates("no-uncaught-exception", "__init__ calls self._ensure_tables_exist(), which the class does not define")
        .source("ex-9.2-03")
        .threads(0),
        Scenario::new(
            "ex-9.2-03-pause",
            "the scheduler with its helpers supplied: 3 data_backup tasks, 2 nodes each calling execute_task 3 times 1 s apart (lease 5 s, backup 2 s); a node may pause 6 s",
            bodies!(ex_9_2_03_pause),
        )
        .violates("no-double-execution", "a node paused past the 5 s lease between picking the oldest scheduled task and marking it running: the other node takes the expired lock over, picks the same still-scheduled task and runs it; the paused node resumes and runs it again (the status UPDATE is unconditional, no fencing)")
        .pauses(1, Duration::from_secs(6))
        .not_for("loom", "measured: loom finds it only at preemption bound 2 after 20 090 executions (29 s); random, pct and dfs find it within 2 s")
        .source("ex-9.2-03")
        .threads(2)
        .max_steps(60_000),
        Scenario::new(
            "ex-9.2-03-crash",
            "the scheduler with its helpers supplied; a node may crash; afterwards a third node runs execute_task 3 more times",
            bodies!(ex_9_2_03_crash),
        )
        .violates("crashed-task-recovered", "a node that crashes after marking its task 'running' leaves it so for ever: _get_next_pending_task selects only 'scheduled' tasks and nothing recovers stale running ones (retry_count/max_retries are never used)")
        .crashes(1)
        .source("ex-9.2-03")
        .threads(2)
        .max_steps(60_000),
        Scenario::new(
            "ex-9.2-04",
            "DatabaseMigrationManager as written: the manager is constructed",
            bodies!(ex_9_2_04),
        )
        .violates("no-uncaught-exception", "__init__ calls self._ensure_tables_exist(), which the class does not define (nor _record_migration_*, _get_migration_sql, execute_sql)")
        .source("ex-9.2-04")
        .threads(0),
        Scenario::new(
            "ex-9.2-04-pause",
            "the manager with its helpers supplied: 2 nodes (1 s apart) run 3 scripts of 2 s each under a 10 s lease (1 h scaled), waiting up to 3 s, retrying 3 s later; a node may pause 12 s",
            bodies!(ex_9_2_04_pause),
        )
        .violates("migration-applied-once", "a node paused past the lease mid-script: the other takes the expired migration lock over, finds the script recorded as started but not successful, and applies it again; no renewal, no fencing")
        .pauses(1, Duration::from_secs(12))
        .not_for("loom", "measured: loom (which pauses processes from an environment thread, having no choice operator) exhausts this space in 662 executions without the violation, while random, pct and dfs each find it within 18 executions")
        .source("ex-9.2-04")
        .threads(2)
        .max_steps(60_000),
        Scenario::new(
            "ex-9.2-05",
            "DistributedCacheManager as written: the manager is constructed",
            bodies!(ex_9_2_05),
        )
        .violates("no-uncaught-exception", "__init__ calls self._ensure_tables_exist(), which the class does not define")
        .source("ex-9.2-05")
        .threads(0),
        Scenario::new(
            "ex-9.2-05-invalidate",
            "the manager with its helpers supplied: a refiller reads the source then update_cache; a writer changes the source then invalidate_cache",
            bodies!(ex_9_2_05_invalidate),
        )
        .violates("no-stale-cache", "update and invalidation take different locks (cache_update_<key>, cache_invalidate_<key>), and the refill's value was read before it locked: the old value is written after the invalidation completed")
        .source("ex-9.2-05")
        .threads(2),
    ]
}

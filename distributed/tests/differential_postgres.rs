//! DISTRIBUTED.md §9 PostgreSQL checks, each run against the real server (127.0.0.1:5432,
//! user postgres, in a scratch database `lp_diff_<check>_<pid>` created and dropped by the
//! check, so advisory keys and tables of parallel checks never meet) AND the SQL twin
//! (`lockproof_services::sql`), replies compared field by field: row count, rows (column
//! names and text values), warnings (SQLSTATE and message), errors (SQLSTATE and message).
//!
//! The statement sent to the real server is the twin statement's own SQL (`Display`), except
//! `CREATE TABLE`, whose twin form has no column types. The twin's clock is this machine's
//! wall clock when the statement is sent.
//!
//! Run here: all PostgreSQL checks, 33–52. A statement that blocks on the real server runs on
//! its own thread (the session's client is shared behind a mutex); the test waits for the
//! backend to block by polling `pg_stat_activity` (`wait_event_type = 'Lock'`, bounded), and
//! the twin's `Exec::Blocked` statement is retried with `Db::resume` at the instant the real
//! reply arrived. Where a check prescribes time passing (timeouts, `pg_sleep`), that real wait
//! is the check. 39 kills a real client process (`psql`) with SIGKILL.

use lockproof_services::sql::{
    col, excluded, now, secs, Db, Delete, Exec, Func, Insert, Isolation, Select, SessionId,
    Setting, Stmt, TableDef, Update,
};
use lockproof_services::time::ServerClock;
use postgres::{Client, Config, NoTls, SimpleQueryMessage};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// A reply as compared: `Ok` with (count, rows of (column, text), warnings) or `Err`.
#[derive(Debug, Clone, PartialEq)]
enum P {
    Ok {
        count: u64,
        rows: Vec<Vec<(String, String)>>,
        notices: Vec<(String, String)>,
    },
    Err {
        code: String,
        message: String,
    },
}

impl P {
    fn bool(&self) -> Option<bool> {
        match self {
            P::Ok { rows, .. } => rows.first().and_then(|r| r.first()).map(|(_, v)| v == "t"),
            P::Err { .. } => None,
        }
    }
    fn count(&self) -> Option<u64> {
        match self {
            P::Ok { count, .. } => Some(*count),
            P::Err { .. } => None,
        }
    }
    fn code(&self) -> Option<&str> {
        match self {
            P::Err { code, .. } => Some(code),
            P::Ok { .. } => None,
        }
    }
}

fn from_twin(e: Exec) -> P {
    match e {
        Exec::Done(r) => P::Ok {
            count: r.count(),
            rows: r
                .rows
                .iter()
                .map(|row| {
                    row.0
                        .iter()
                        .map(|(c, v)| (c.clone(), v.to_string()))
                        .collect()
                })
                .collect(),
            notices: r
                .notices
                .iter()
                .map(|n| (n.code.to_string(), n.message.clone()))
                .collect(),
        },
        Exec::Error(e) => P::Err {
            code: e.code.to_string(),
            message: e.message,
        },
        Exec::Blocked(b) => panic!("the twin blocked ({b}) where these checks never wait"),
    }
}

fn now_clock() -> ServerClock {
    let ns = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_nanos() as u64;
    ServerClock::at(ns)
}

/// One statement on a real session: rows, count, notices, or the error.
fn run_real(real: &Mutex<Client>, notices: &Mutex<Vec<(String, String)>>, sql: &str) -> P {
    let r = real.lock().expect("session").simple_query(sql);
    let notices = std::mem::take(&mut *notices.lock().expect("notices"));
    match r {
        Ok(msgs) => {
            let mut rows = Vec::new();
            let mut count = 0;
            for m in msgs {
                match m {
                    SimpleQueryMessage::Row(row) => rows.push(
                        (0..row.len())
                            .map(|i| {
                                (
                                    row.columns()[i].name().to_string(),
                                    row.get(i).unwrap_or("").to_string(),
                                )
                            })
                            .collect(),
                    ),
                    SimpleQueryMessage::CommandComplete(n) => count = n,
                    _ => {}
                }
            }
            P::Ok {
                count,
                rows,
                notices,
            }
        }
        Err(e) => match e.as_db_error() {
            Some(db) => P::Err {
                code: db.code().code().to_string(),
                message: db.message().to_string(),
            },
            None if e.is_closed() => P::Err {
                code: "08006".into(),
                message: "connection closed".into(),
            },
            None => panic!("PostgreSQL at 127.0.0.1:5432 unreachable: {e}"),
        },
    }
}

/// Polls `cond` every 10 ms until it holds or `limit` passes; whether it held.
fn poll(limit: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let end = Instant::now() + limit;
    loop {
        if cond() {
            return true;
        }
        if Instant::now() >= end {
            return false;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

const ADMIN: &str = "host=127.0.0.1 port=5432 user=postgres dbname=test connect_timeout=5";

struct Session {
    /// Shared with a thread while one of its statements blocks on the real server.
    real: Arc<Mutex<Client>>,
    notices: Arc<Mutex<Vec<(String, String)>>>,
    twin: SessionId,
    /// The real backend's pid, to watch it in `pg_stat_activity`.
    pid: i32,
}

/// A scratch database on the real server and a twin, with sessions on both.
struct Pair {
    db: String,
    twin: Db,
    sessions: Vec<Session>,
}

impl Pair {
    fn new(check: &str) -> Pair {
        let db = format!("lp_diff_{check}_{}", std::process::id());
        let mut admin = Client::connect(ADMIN, NoTls)
            .unwrap_or_else(|e| panic!("PostgreSQL at 127.0.0.1:5432 unreachable: {e}"));
        admin
            .batch_execute(&format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)"))
            .expect("drop stale scratch database");
        admin
            .batch_execute(&format!("CREATE DATABASE {db}"))
            .expect("create scratch database");
        Pair {
            db,
            twin: Db::new(),
            sessions: Vec::new(),
        }
    }

    /// A new session on both sides; its index.
    fn connect(&mut self) -> usize {
        let notices = Arc::new(Mutex::new(Vec::new()));
        let sink = notices.clone();
        let mut config: Config = format!(
            "host=127.0.0.1 port=5432 user=postgres dbname={} connect_timeout=5",
            self.db
        )
        .parse()
        .expect("config");
        config.notice_callback(move |n| {
            sink.lock()
                .expect("notices")
                .push((n.code().code().to_string(), n.message().to_string()))
        });
        let mut real = config
            .connect(NoTls)
            .unwrap_or_else(|e| panic!("PostgreSQL at 127.0.0.1:5432 unreachable: {e}"));
        let pid: i32 = real
            .query_one("SELECT pg_backend_pid()", &[])
            .expect("pg_backend_pid")
            .get(0);
        real.batch_execute("SET TimeZone = 'UTC'")
            .expect("UTC session");
        let twin = self.twin.connect();
        self.sessions.push(Session {
            real: Arc::new(Mutex::new(real)),
            notices,
            twin,
            pid,
        });
        self.sessions.len() - 1
    }

    fn real(&mut self, s: usize, sql: &str) -> P {
        let sess = &self.sessions[s];
        run_real(&sess.real, &sess.notices, sql)
    }

    /// Sends `sql` on session `s` from a new thread (the statement blocks on the real
    /// server); the thread returns the reply and when it arrived.
    fn spawn_real(&self, s: usize, sql: String) -> std::thread::JoinHandle<(P, Instant)> {
        let (real, notices) = (
            self.sessions[s].real.clone(),
            self.sessions[s].notices.clone(),
        );
        std::thread::spawn(move || {
            let r = run_real(&real, &notices, &sql);
            (r, Instant::now())
        })
    }

    /// Waits (at most 5 s) until session `s`'s backend waits for a lock
    /// (`pg_stat_activity.wait_event_type = 'Lock'`).
    fn wait_blocked(&self, s: usize) {
        let pid = self.sessions[s].pid;
        let mut mon = Client::connect(ADMIN, NoTls)
            .unwrap_or_else(|e| panic!("PostgreSQL at 127.0.0.1:5432 unreachable: {e}"));
        let blocked = poll(Duration::from_secs(5), || {
            mon.query_opt(
                "SELECT 1 FROM pg_stat_activity WHERE pid = $1 AND wait_event_type = 'Lock'",
                &[&pid],
            )
            .expect("pg_stat_activity")
            .is_some()
        });
        assert!(blocked, "backend {pid} did not block on a lock within 5 s");
    }

    /// The twin's raw outcome of `stmt` on session `s` at `clock`.
    fn twin(&mut self, s: usize, stmt: impl Into<Stmt>, clock: ServerClock) -> Exec {
        let sid = self.sessions[s].twin;
        self.twin.execute(sid, stmt, clock)
    }

    /// The twin's waiting statement of session `s` retried at `clock`.
    fn twin_resume(&mut self, s: usize, clock: ServerClock) -> Exec {
        let sid = self.sessions[s].twin;
        self.twin.resume(sid, clock)
    }

    /// Both replies of session `s`: (real, twin).
    fn both(&mut self, s: usize, stmt: impl Into<Stmt>) -> (P, P) {
        let stmt = stmt.into();
        let sql = stmt.to_string();
        let sent = now_clock();
        let real = self.real(s, &sql);
        let twin = from_twin(self.twin.execute(self.sessions[s].twin, stmt, sent));
        (real, twin)
    }

    /// Both replies, which must be equal; the reply.
    fn same(&mut self, s: usize, stmt: impl Into<Stmt>) -> P {
        let stmt = stmt.into();
        let sql = stmt.to_string();
        let (real, twin) = self.both(s, stmt);
        assert_eq!(real, twin, "{sql}: real (left) vs twin (right)");
        real
    }

    /// The lock table of §2.3 on both (the twin's `CREATE TABLE` carries no types).
    fn lock_table(&mut self, s: usize) {
        let r = self.real(
            s,
            "CREATE TABLE lock_table (lock_name text PRIMARY KEY, identifier text, \
             expires_at timestamptz, acquire_count bigint)",
        );
        assert!(r.count().is_some(), "{r:?}");
        let def = TableDef::new(
            "lock_table",
            &["lock_name", "identifier", "expires_at", "acquire_count"],
        )
        .primary_key(&["lock_name"]);
        let t = from_twin(self.twin.execute(self.sessions[s].twin, def, now_clock()));
        assert!(t.count().is_some(), "{t:?}");
    }

    /// This session's advisory locks as (objid, mode, granted), on both.
    fn my_advisory(&mut self, s: usize) -> (Vec<String>, Vec<String>) {
        let real = self.real(
            s,
            "SELECT objid, mode, granted FROM pg_locks WHERE locktype = 'advisory' \
             AND database = (SELECT oid FROM pg_database WHERE datname = current_database()) \
             ORDER BY objid, mode",
        );
        let P::Ok { rows, .. } = real else {
            panic!("{real:?}")
        };
        let real = rows
            .iter()
            .map(|r| format!("{}|{}|{}", r[0].1, r[1].1, r[2].1))
            .collect();
        let twin = from_twin(self.twin.execute(
            self.sessions[s].twin,
            Func::PgLocksAdvisory,
            now_clock(),
        ));
        let P::Ok { rows, .. } = twin else {
            panic!("{twin:?}")
        };
        let get = |r: &Vec<(String, String)>, c: &str| {
            r.iter()
                .find(|(n, _)| n == c)
                .map(|(_, v)| v.clone())
                .unwrap_or_else(|| panic!("twin pg_locks has no {c}: {r:?}"))
        };
        let mut twin: Vec<String> = rows
            .iter()
            .map(|r| {
                format!(
                    "{}|{}|{}",
                    get(r, "objid"),
                    get(r, "mode"),
                    get(r, "granted")
                )
            })
            .collect();
        twin.sort();
        (real, twin)
    }

    fn advisory_same(&mut self, s: usize, expected: &[&str]) {
        let (real, twin) = self.my_advisory(s);
        assert_eq!(
            (&real, &twin),
            (&expected_v(expected), &expected_v(expected))
        );
    }
}

fn expected_v(xs: &[&str]) -> Vec<String> {
    xs.iter().map(|s| s.to_string()).collect()
}

impl Drop for Pair {
    fn drop(&mut self) {
        self.sessions.clear();
        if let Ok(mut admin) = Client::connect(ADMIN, NoTls) {
            let _ =
                admin.batch_execute(&format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.db));
        }
    }
}

fn not_owner() -> Vec<(String, String)> {
    vec![(
        "01000".into(),
        "you don't own a lock of type ExclusiveLock".into(),
    )]
}

#[test]
fn check_33_advisory_locks_stack_and_unlock_warns() {
    let mut p = Pair::new("c33");
    let a = p.connect();
    assert_eq!(p.same(a, Stmt::try_advisory_lock(42)).bool(), Some(true));
    assert_eq!(p.same(a, Stmt::try_advisory_lock(42)).bool(), Some(true));
    assert_eq!(p.same(a, Stmt::advisory_unlock(42)).bool(), Some(true));
    assert_eq!(p.same(a, Stmt::advisory_unlock(42)).bool(), Some(true));
    let r = p.same(a, Stmt::advisory_unlock(42));
    assert_eq!(r.bool(), Some(false));
    let P::Ok { notices, .. } = r else {
        panic!("{r:?}")
    };
    assert_eq!(notices, not_owner());
}

#[test]
fn check_34_advisory_lock_excludes_other_session() {
    let mut p = Pair::new("c34");
    let (a, b) = (p.connect(), p.connect());
    assert_eq!(p.same(a, Stmt::try_advisory_lock(42)).bool(), Some(true));
    assert_eq!(p.same(b, Stmt::try_advisory_lock(42)).bool(), Some(false));
    assert_eq!(p.same(a, Stmt::advisory_unlock(42)).bool(), Some(true));
    assert_eq!(p.same(b, Stmt::try_advisory_lock(42)).bool(), Some(true));
}

#[test]
fn check_35_exclusive_and_shared_in_one_session_then_unlock_all() {
    let mut p = Pair::new("c35");
    let a = p.connect();
    p.same(a, Stmt::advisory_lock(9));
    p.same(
        a,
        Stmt::Call(Func::AdvisoryLock {
            key: 9.into(),
            shared: true,
            xact: false,
            try_: false,
        }),
    );
    p.advisory_same(a, &["9|ExclusiveLock|t", "9|ShareLock|t"]);
    p.same(a, Func::AdvisoryUnlockAll);
    p.advisory_same(a, &[]);
}

#[test]
fn check_36_xact_lock_cannot_be_unlocked_early() {
    let mut p = Pair::new("c36");
    let (a, b) = (p.connect(), p.connect());
    p.same(a, Stmt::Begin(Isolation::ReadCommitted));
    p.same(a, Stmt::advisory_xact_lock(7));
    let r = p.same(a, Stmt::advisory_unlock(7));
    assert_eq!(r.bool(), Some(false));
    assert!(matches!(&r, P::Ok { notices, .. } if *notices == not_owner()));
    p.advisory_same(b, &["7|ExclusiveLock|t"]);
    assert_eq!(p.same(b, Stmt::try_advisory_lock(7)).bool(), Some(false));
    p.same(a, Stmt::Commit);
    p.advisory_same(b, &[]);
}

#[test]
fn check_37_xact_lock_in_autocommit_lasts_one_statement() {
    let mut p = Pair::new("c37");
    let (a, b) = (p.connect(), p.connect());
    p.same(a, Stmt::advisory_xact_lock(5));
    p.advisory_same(a, &[]);
    assert_eq!(p.same(b, Stmt::try_advisory_lock(5)).bool(), Some(true));
}

#[test]
fn check_38_session_lock_survives_rollback() {
    let mut p = Pair::new("c38");
    let (a, b) = (p.connect(), p.connect());
    p.same(a, Stmt::Begin(Isolation::ReadCommitted));
    p.same(a, Stmt::advisory_lock(6));
    p.same(a, Stmt::Rollback);
    assert_eq!(p.same(b, Stmt::try_advisory_lock(6)).bool(), Some(false));
    assert_eq!(p.same(a, Stmt::advisory_unlock(6)).bool(), Some(true));
    assert_eq!(p.same(b, Stmt::try_advisory_lock(6)).bool(), Some(true));
}

#[test]
fn check_41_nowait_skip_locked_and_plain_read() {
    let mut p = Pair::new("c41");
    let (a, b) = (p.connect(), p.connect());
    let r = p.real(a, "CREATE TABLE t (id bigint PRIMARY KEY, v bigint)");
    assert!(r.count().is_some(), "{r:?}");
    let sa = p.sessions[a].twin;
    let t = from_twin(p.twin.execute(
        sa,
        TableDef::new("t", &["id", "v"]).primary_key(&["id"]),
        now_clock(),
    ));
    assert!(t.count().is_some(), "{t:?}");
    for i in 1..=3 {
        p.same(a, Insert::into("t").value("id", i).value("v", 0));
    }
    p.same(a, Stmt::Begin(Isolation::ReadCommitted));
    let row1 = || Select::from("t").filter(col("id").eq(1));
    p.same(a, row1().for_update());
    let r = p.same(b, row1().for_update_nowait());
    assert_eq!(r.code(), Some("55P03"));
    let r = p.same(b, Select::from("t").order_by("id").for_update_skip_locked());
    assert_eq!(r.count(), Some(2));
    assert_eq!(p.same(b, row1()).count(), Some(1));
    p.same(a, Stmt::Rollback);
}

fn ins(who: &str, expires: lockproof_services::sql::Expr) -> Insert {
    Insert::into("lock_table")
        .value("lock_name", "job")
        .value("identifier", who)
        .value("expires_at", expires)
        .value("acquire_count", 1)
}

#[test]
fn check_45_lock_table_insert_and_non_owner_statements() {
    let mut p = Pair::new("c45");
    let (a, b) = (p.connect(), p.connect());
    p.lock_table(a);
    assert_eq!(p.same(a, ins("A", now().plus(secs(30)))).count(), Some(1));
    let r = p.same(b, ins("B", now().plus(secs(30))));
    assert_eq!(r.code(), Some("23505"));
    let r = p.same(
        b,
        ins("B", now().plus(secs(30)))
            .on_conflict_do_nothing(&[])
            .returning(&["lock_name"]),
    );
    assert_eq!(r.count(), Some(0));
    let mine = col("lock_name").eq("job").and(col("identifier").eq("B"));
    assert_eq!(
        p.same(b, Delete::from("lock_table").filter(mine.clone()))
            .count(),
        Some(0)
    );
    assert_eq!(
        p.same(
            b,
            Update::table("lock_table")
                .set("expires_at", now().plus(secs(30)))
                .filter(mine)
        )
        .count(),
        Some(0)
    );
}

#[test]
fn check_47_takeover_by_old_identifier_steals_a_renewed_lock() {
    for guarded in [false, true] {
        let mut p = Pair::new(if guarded { "c47g" } else { "c47" });
        let (x, b) = (p.connect(), p.connect());
        p.lock_table(x);
        p.same(x, ins("X", now().minus(secs(1))));
        let (real, twin) = p.both(
            b,
            Select::from("lock_table")
                .columns(&["lock_name", "identifier"])
                .filter(col("lock_name").eq("job").and(col("expires_at").lt(now()))),
        );
        assert_eq!(real, twin, "B sees the row expired");
        assert_eq!(real.count(), Some(1));
        let renew = Update::table("lock_table")
            .set("expires_at", now().plus(secs(30)))
            .filter(col("lock_name").eq("job").and(col("identifier").eq("X")));
        assert_eq!(p.same(x, renew.clone()).count(), Some(1));
        let mut take = col("lock_name").eq("job").and(col("identifier").eq("X"));
        if guarded {
            take = take.and(col("expires_at").lt(now()));
        }
        let d = p.same(b, Delete::from("lock_table").filter(take));
        if guarded {
            assert_eq!(d.count(), Some(0));
            continue;
        }
        assert_eq!(d.count(), Some(1));
        assert_eq!(p.same(b, ins("B", now().plus(secs(30)))).count(), Some(1));
        assert_eq!(p.same(x, renew).count(), Some(0));
    }
}

#[test]
fn check_48_one_statement_takeover_only_when_expired() {
    let upsert = |who: &str| {
        ins(who, now().plus(secs(30)))
            .on_conflict_do_update(
                &["lock_name"],
                vec![
                    ("identifier", excluded("identifier")),
                    ("expires_at", excluded("expires_at")),
                ],
                col("expires_at").lt(now()),
            )
            .returning(&["identifier"])
    };
    let mut p = Pair::new("c48");
    let (a, b) = (p.connect(), p.connect());
    p.lock_table(a);
    p.same(a, ins("A", now().plus(secs(30))));
    assert_eq!(p.same(b, upsert("B")).count(), Some(0));
    p.same(
        a,
        Update::table("lock_table")
            .set("expires_at", now().minus(secs(1)))
            .filter(col("lock_name").eq("job")),
    );
    let r = p.same(b, upsert("B"));
    assert_eq!(r.count(), Some(1));
    assert!(
        matches!(&r, P::Ok { rows, .. } if rows[0][0].1 == "B"),
        "{r:?}"
    );
}

#[test]
fn check_52_error_aborts_the_transaction_block() {
    let mut p = Pair::new("c52");
    let (a, b) = (p.connect(), p.connect());
    p.lock_table(a);
    p.same(a, ins("A", now().plus(secs(30))));
    p.same(b, Stmt::Begin(Isolation::ReadCommitted));
    p.same(b, Stmt::try_advisory_lock(3));
    p.same(b, Stmt::advisory_xact_lock(8));
    assert_eq!(
        p.same(b, ins("B", now().plus(secs(30)))).code(),
        Some("23505")
    );
    for stmt in [
        Stmt::from(Select::from("lock_table")),
        Stmt::advisory_unlock(3),
    ] {
        assert_eq!(p.same(b, stmt).code(), Some("25P02"));
    }
    p.same(b, Stmt::Rollback);
    // The session lock taken before the error survives the rollback; the xact one does not.
    p.advisory_same(a, &["3|ExclusiveLock|t"]);
}

/// A `timestamptz` in the UTC text form both sides print (`2026-12-06 04:05:01.5+00`) as ns
/// since the epoch.
fn ts_ns(s: &str) -> i64 {
    let (date, rest) = s.split_once(' ').unwrap_or_else(|| panic!("timestamp {s}"));
    let time = rest.trim_end_matches("+00");
    let d: Vec<i64> = date.split('-').map(|x| x.parse().expect("date")).collect();
    let (y, m, day) = (d[0] - i64::from(d[1] <= 2), d[1], d[2]);
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (m + if m > 2 { -3 } else { 9 }) + 2) / 5 + day - 1;
    let days = era * 146_097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719_468;
    let mut t = time.split(':');
    let h: i64 = t.next().expect("h").parse().expect("h");
    let mi: i64 = t.next().expect("m").parse().expect("m");
    let sec: f64 = t.next().expect("s").parse().expect("s");
    (days * 86_400 + h * 3600 + mi * 60) * 1_000_000_000 + (sec * 1e9).round() as i64
}

fn scalar(r: &P) -> String {
    match r {
        P::Ok { rows, .. } => rows[0][0].1.clone(),
        P::Err { .. } => panic!("{r:?}"),
    }
}

/// A table `t (id, v)` with rows 1..=n, v = 0, on both.
fn rows_table(p: &mut Pair, s: usize, n: i64) {
    let r = p.real(s, "CREATE TABLE t (id bigint PRIMARY KEY, v bigint)");
    assert!(r.count().is_some(), "{r:?}");
    let t = from_twin(p.twin(
        s,
        TableDef::new("t", &["id", "v"]).primary_key(&["id"]),
        now_clock(),
    ));
    assert!(t.count().is_some(), "{t:?}");
    for i in 1..=n {
        p.same(s, Insert::into("t").value("id", i).value("v", 0));
    }
}

fn set_v(id: i64, v: i64) -> Update {
    Update::table("t").set("v", v).filter(col("id").eq(id))
}

/// Runs `stmt` on session `s`: on the real server it returns by itself after a wait (a
/// timeout, `pg_sleep`); the twin blocks and is resumed when the real reply arrived. Both
/// replies and the real elapsed time.
fn timed(p: &mut Pair, s: usize, stmt: impl Into<Stmt>) -> (P, P, Duration) {
    let stmt = stmt.into();
    let sent = now_clock();
    let t0 = Instant::now();
    let real = p.real(s, &stmt.to_string());
    let took = t0.elapsed();
    let first = p.twin(s, stmt, sent);
    let twin = if first.is_blocked() {
        from_twin(p.twin_resume(s, now_clock()))
    } else {
        from_twin(first)
    };
    (real, twin, took)
}

#[test]
fn check_39_sigkill_of_the_client_process_frees_its_advisory_lock() {
    let mut p = Pair::new("c39");
    let b = p.connect();
    let a_twin = p.twin.connect();
    // A is a real client process: psql holding 4242 and then idle, reading its stdin.
    let mut psql = std::process::Command::new("psql")
        .args(["-X", "-q", "-h", "127.0.0.1", "-U", "postgres", "-d", &p.db])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("psql could not be started: {e}"));
    {
        use std::io::Write as _;
        let stdin = psql.stdin.as_mut().expect("psql stdin");
        writeln!(stdin, "SELECT pg_advisory_lock(4242);").expect("write to psql");
        stdin.flush().expect("flush psql");
    }
    assert_eq!(
        p.twin
            .execute(a_twin, Stmt::try_advisory_lock(4242), now_clock())
            .bool(),
        Some(true)
    );
    let held = poll(Duration::from_secs(10), || {
        p.real(
            b,
            "SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND objid = 4242 AND granted",
        )
        .count()
            == Some(1)
    });
    assert!(held, "psql did not take advisory lock 4242 within 10 s");
    assert_eq!(p.same(b, Stmt::try_advisory_lock(4242)).bool(), Some(false));
    psql.kill().expect("SIGKILL psql");
    psql.wait().expect("reap psql");
    let killed = Instant::now();
    p.twin.close(a_twin, now_clock());
    // Within 0.2 s, polled: the backend sees EOF on its socket and releases the lock.
    let mut real = false;
    let freed = poll(Duration::from_millis(200), || {
        real = p.real(b, "SELECT pg_try_advisory_lock(4242)").bool() == Some(true);
        real
    });
    assert!(freed, "4242 still held 0.2 s after SIGKILL of its client");
    let twin = from_twin(p.twin(b, Stmt::try_advisory_lock(4242), now_clock()));
    assert_eq!(
        twin.bool(),
        Some(true),
        "twin: free once the connection closed"
    );
    assert!(killed.elapsed() < Duration::from_secs(1));
}

#[test]
fn check_40_idle_in_transaction_timeout_ends_the_session_and_frees_its_locks() {
    let mut p = Pair::new("c40");
    let (a, b) = (p.connect(), p.connect());
    p.same(a, Stmt::set(Setting::IdleInTransactionSessionTimeout, 300));
    p.same(a, Stmt::Begin(Isolation::ReadCommitted));
    p.same(a, Stmt::advisory_xact_lock(77));
    // The check's idle time: 0.8 s of real time.
    std::thread::sleep(Duration::from_millis(800));
    assert_eq!(p.same(b, Stmt::try_advisory_lock(77)).bool(), Some(true));
    let (real, twin) = p.both(a, Select::from("pg_class").columns(&["relname"]).limit(1));
    // The server sent FATAL 25P03 when it ended the session; the client reads it with
    // its next statement's reply.
    assert_eq!(
        real, twin,
        "A's next statement: real (left) vs twin (right)"
    );
    assert_eq!(real.code(), Some("25P03"), "{real:?}");
}

#[test]
fn check_42_lock_timeout_cancels_a_row_lock_wait() {
    let mut p = Pair::new("c42");
    let (a, b) = (p.connect(), p.connect());
    rows_table(&mut p, a, 1);
    p.same(a, Stmt::Begin(Isolation::ReadCommitted));
    p.same(a, Select::from("t").filter(col("id").eq(1)).for_update());
    p.same(b, Stmt::Begin(Isolation::ReadCommitted));
    p.same(b, Stmt::set_local(Setting::LockTimeout, 200));
    let (real, twin, took) = timed(&mut p, b, set_v(1, 1));
    assert_eq!(real, twin, "real (left) vs twin (right)");
    assert_eq!(real.code(), Some("55P03"));
    assert!(
        matches!(&real, P::Err { message, .. } if message == "canceling statement due to lock timeout")
    );
    assert!(
        took >= Duration::from_millis(190) && took < Duration::from_millis(700),
        "{took:?}"
    );
    p.same(b, Stmt::Rollback);
    p.same(a, Stmt::Rollback);
}

#[test]
fn check_43_statement_timeout_cancels_pg_sleep() {
    let mut p = Pair::new("c43");
    let a = p.connect();
    p.same(a, Stmt::set(Setting::StatementTimeout, 100));
    let (real, twin, took) = timed(&mut p, a, Stmt::sleep_ms(1000));
    assert_eq!(real, twin, "real (left) vs twin (right)");
    assert_eq!(real.code(), Some("57014"));
    assert!(
        took >= Duration::from_millis(95) && took < Duration::from_millis(600),
        "{took:?}"
    );
}

#[test]
fn check_44_deadlock_the_first_waiter_is_the_victim() {
    let mut p = Pair::new("c44");
    let (a, b) = (p.connect(), p.connect());
    rows_table(&mut p, a, 2);
    p.same(a, Stmt::Begin(Isolation::ReadCommitted));
    p.same(a, set_v(1, 1));
    p.same(b, Stmt::Begin(Isolation::ReadCommitted));
    p.same(b, set_v(2, 2));
    // A updates row 2 and waits for B.
    let a_sent = now_clock();
    let a_thread = p.spawn_real(a, set_v(2, 1).to_string());
    p.wait_blocked(a);
    assert!(p.twin(a, set_v(2, 1), a_sent).is_blocked());
    // B updates row 1: a cycle. A's deadlock check runs first (1 s after A began to wait).
    let b_sent = now_clock();
    let b_thread = p.spawn_real(b, set_v(1, 2).to_string());
    assert!(p.twin(b, set_v(1, 2), b_sent).is_blocked());
    let (a_real, a_at) = a_thread.join().expect("A's thread");
    let (b_real, _) = b_thread.join().expect("B's thread");
    let _ = a_at;
    assert_eq!(a_real.code(), Some("40P01"), "A: {a_real:?}");
    assert_eq!(b_real.count(), Some(1), "B: {b_real:?}");
    let at = ServerClock::at(a_sent.wall as u64 + 1_050_000_000);
    let a_twin = from_twin(p.twin_resume(a, at));
    assert_eq!(a_twin.code(), Some("40P01"), "twin A: {a_twin:?}");
    assert_eq!(p.twin.take_woken(), vec![p.sessions[b].twin]);
    let b_twin = from_twin(p.twin_resume(b, at));
    assert_eq!(b_twin.count(), Some(1), "twin B: {b_twin:?}");
    // The messages carry backend pids and transaction ids, which differ: compare codes.
    p.same(a, Stmt::Rollback);
    p.same(b, Stmt::Commit);
}

/// 46: an insert waits for an uncommitted insert of the same key.
fn insert_waits(variant: &str, commit: bool, do_nothing: bool) {
    let mut p = Pair::new(variant);
    let (a, b) = (p.connect(), p.connect());
    p.lock_table(a);
    p.same(a, Stmt::Begin(Isolation::ReadCommitted));
    p.same(a, ins("A", now().plus(secs(30))));
    let mut bi = ins("B", now().plus(secs(30)));
    if do_nothing {
        bi = bi.on_conflict_do_nothing(&[]).returning(&["lock_name"]);
    }
    let b_sent = now_clock();
    let b_thread = p.spawn_real(b, bi.to_string());
    p.wait_blocked(b);
    assert!(p.twin(b, bi, b_sent).is_blocked());
    // Still blocked after 0.5 s of real time (the check's wait).
    std::thread::sleep(Duration::from_millis(500));
    assert!(
        !b_thread.is_finished(),
        "B's insert returned while A's was open"
    );
    p.same(a, if commit { Stmt::Commit } else { Stmt::Rollback });
    let (real, _) = b_thread.join().expect("B's thread");
    assert_eq!(p.twin.take_woken(), vec![p.sessions[b].twin]);
    let twin = from_twin(p.twin_resume(b, now_clock()));
    assert_eq!(real, twin, "real (left) vs twin (right)");
    match (commit, do_nothing) {
        (false, _) => assert_eq!(real.count(), Some(1)),
        (true, false) => assert_eq!(real.code(), Some("23505")),
        (true, true) => assert_eq!(real.count(), Some(0)),
    }
}

#[test]
fn check_46_insert_waits_for_an_uncommitted_insert_then_rollback() {
    insert_waits("c46r", false, false);
}

#[test]
fn check_46_insert_waits_then_commit_gives_23505() {
    insert_waits("c46c", true, false);
}

#[test]
fn check_46_insert_on_conflict_do_nothing_waits_then_returns_nothing() {
    insert_waits("c46n", true, true);
}

#[test]
fn check_49_now_is_the_transaction_start_clock_timestamp_moves() {
    let mut p = Pair::new("c49");
    let a = p.connect();
    p.same(a, Stmt::Begin(Isolation::ReadCommitted));
    let (r1, t1) = p.both(a, Func::Now);
    let (rs, ts, took) = timed(&mut p, a, Stmt::sleep_ms(300));
    assert_eq!(rs, ts, "pg_sleep: real (left) vs twin (right)");
    assert!(took >= Duration::from_millis(300), "{took:?}");
    let (r2, t2) = p.both(a, Func::Now);
    let (rc, tc) = p.both(a, Func::ClockTimestamp);
    let (rst, tst) = p.both(a, Func::StatementTimestamp);
    for (side, n1, n2, c, st) in [("real", &r1, &r2, &rc, &rst), ("twin", &t1, &t2, &tc, &tst)] {
        let n1 = ts_ns(&scalar(n1));
        assert_eq!(
            n1,
            ts_ns(&scalar(n2)),
            "{side}: now() moved inside a transaction"
        );
        for (what, t) in [("clock_timestamp", c), ("statement_timestamp", st)] {
            let d = ts_ns(&scalar(t)) - n1;
            assert!(
                (300_000_000..800_000_000).contains(&d),
                "{side}: {what} - now() = {d} ns, expected ≈0.3 s"
            );
        }
    }
    p.same(a, Stmt::Commit);
}

fn lost_update(iso: Isolation, check: &str) -> (P, P) {
    let mut p = Pair::new(check);
    let (a, b) = (p.connect(), p.connect());
    rows_table(&mut p, a, 1);
    p.same(a, Stmt::Begin(iso));
    p.same(b, Stmt::Begin(iso));
    let read = || Select::from("t").columns(&["v"]).filter(col("id").eq(1));
    assert_eq!(scalar(&p.same(a, read())), "0");
    assert_eq!(scalar(&p.same(b, read())), "0");
    p.same(a, set_v(1, 1));
    p.same(a, Stmt::Commit);
    let (real, twin) = p.both(b, set_v(1, 1));
    let end = p.same(b, Stmt::Commit);
    let v = p.same(a, read());
    assert_eq!(scalar(&v), "1");
    assert!(end.count().is_some() || end.code().is_some());
    (real, twin)
}

#[test]
fn check_50_lost_update_in_read_committed_40001_in_repeatable_read() {
    let (real, twin) = lost_update(Isolation::ReadCommitted, "c50rc");
    assert_eq!(real, twin);
    assert_eq!(real.count(), Some(1), "READ COMMITTED: B's update applies");
    let (real, twin) = lost_update(Isolation::RepeatableRead, "c50rr");
    assert_eq!(real, twin);
    assert_eq!(real.code(), Some("40001"));
    assert!(matches!(&real, P::Err { message, .. }
        if message == "could not serialize access due to concurrent update"));
}

fn write_skew(iso: Isolation, check: &str) -> (P, P, usize) {
    let mut p = Pair::new(check);
    let (a, b) = (p.connect(), p.connect());
    let r = p.real(a, "CREATE TABLE j (name text, who text)");
    assert!(r.count().is_some(), "{r:?}");
    let t = from_twin(p.twin(a, TableDef::new("j", &["name", "who"]), now_clock()));
    assert!(t.count().is_some(), "{t:?}");
    p.same(a, Stmt::Begin(iso));
    p.same(b, Stmt::Begin(iso));
    let count = || Select::count("j").filter(col("name").eq("job"));
    assert_eq!(scalar(&p.same(a, count())), "0");
    assert_eq!(scalar(&p.same(b, count())), "0");
    p.same(a, Insert::into("j").value("name", "job").value("who", "A"));
    p.same(b, Insert::into("j").value("name", "job").value("who", "B"));
    let ca = p.same(a, Stmt::Commit);
    let (real, twin) = p.both(b, Stmt::Commit);
    let n = scalar(&p.same(a, count())).parse().expect("count");
    assert!(ca.code().is_none(), "A's commit: {ca:?}");
    (real, twin, n)
}

#[test]
fn check_51_write_skew_two_rows_in_read_committed_40001_in_serializable() {
    let (real, twin, n) = write_skew(Isolation::ReadCommitted, "c51rc");
    assert_eq!(real, twin);
    assert!(real.code().is_none(), "{real:?}");
    assert_eq!(n, 2);
    let (real, twin, n) = write_skew(Isolation::Serializable, "c51s");
    assert_eq!(real, twin);
    assert_eq!(real.code(), Some("40001"));
    assert!(matches!(&real, P::Err { message, .. }
        if message == "could not serialize access due to read/write dependencies among transactions"));
    assert_eq!(n, 1);
}

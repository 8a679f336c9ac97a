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
//! Run here: 33, 34, 35, 36, 37, 38, 41 (the statements that do not wait), 45, 47, 48, 52.
//! Not run here: the checks whose statements block or time out on the real server (39, 40,
//! 42–44, 46, 49–51) need a second thread per session and a resume protocol for the twin.

use lockproof_services::sql::{
    col, excluded, now, secs, Db, Delete, Exec, Func, Insert, Isolation, Select, SessionId, Stmt,
    TableDef, Update,
};
use lockproof_services::time::ServerClock;
use postgres::{Client, Config, NoTls, SimpleQueryMessage};
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

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

const ADMIN: &str = "host=127.0.0.1 port=5432 user=postgres dbname=test connect_timeout=5";

struct Session {
    real: Client,
    notices: Arc<Mutex<Vec<(String, String)>>>,
    twin: SessionId,
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
        let real = config
            .connect(NoTls)
            .unwrap_or_else(|e| panic!("PostgreSQL at 127.0.0.1:5432 unreachable: {e}"));
        let twin = self.twin.connect();
        self.sessions.push(Session {
            real,
            notices,
            twin,
        });
        self.sessions.len() - 1
    }

    fn real(&mut self, s: usize, sql: &str) -> P {
        let sess = &mut self.sessions[s];
        let r = sess.real.simple_query(sql);
        let notices = std::mem::take(&mut *sess.notices.lock().expect("notices"));
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
                None => panic!("PostgreSQL at 127.0.0.1:5432 unreachable: {e}"),
            },
        }
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

//! DISTRIBUTED.md §9 checks 33–56 (PostgreSQL and MariaDB) against the SQL twin.
//!
//! Times are explicit: "wait 100 ms" is a later `ServerClock`. A statement that would wait
//! on the real server is `Exec::Blocked`; it is resumed after `take_woken` names its
//! session or at its `retry_at`.

use lockproof_services::sql::mariadb::{Call, NamedLocks, Outcome};
use lockproof_services::sql::{
    col, excluded, now, secs, Db, Delete, Exec, Func, Insert, Isolation, Proj, Row, Select,
    SessionId, Setting, Stmt, TableDef, Update, Value,
};
use lockproof_services::time::ServerClock;

/// The server's clocks `ms` milliseconds after the start (a wall clock far from 0).
#[path = "support/sql.rs"]
mod support;

use support::{at, done};

fn pg_locks(db: &mut Db, s: SessionId, t: ServerClock) -> Vec<Row> {
    done(db.execute(s, Func::PgLocksAdvisory, t)).rows
}

fn advisory_rows_for(rows: &[Row], key: &str) -> usize {
    rows.iter()
        .filter(|r| r.get("objid") == Some(&Value::from(key)))
        .count()
}

fn lock_table(db: &mut Db, s: SessionId) {
    let def = TableDef::new(
        "lock_table",
        &["lock_name", "identifier", "expires_at", "acquire_count"],
    )
    .primary_key(&["lock_name"]);
    done(db.execute(s, def, at(0)));
}

fn ins(who: &str, expires: lockproof_services::sql::Expr) -> Insert {
    Insert::into("lock_table")
        .value("lock_name", "job")
        .value("identifier", who)
        .value("expires_at", expires)
        .value("acquire_count", 1)
}

fn items(db: &mut Db, s: SessionId) {
    done(db.execute(
        s,
        TableDef::new("t", &["id", "v"]).primary_key(&["id"]),
        at(0),
    ));
    for i in 1..=3 {
        done(db.execute(s, Insert::into("t").value("id", i).value("v", 0), at(0)));
    }
}

#[test]
fn check_33_advisory_locks_stack_and_unlock_warns() {
    let mut db = Db::new();
    let a = db.connect();
    assert_eq!(
        db.execute(a, Stmt::try_advisory_lock(42), at(0)).bool(),
        Some(true)
    );
    assert_eq!(
        db.execute(a, Stmt::try_advisory_lock(42), at(0)).bool(),
        Some(true)
    );
    assert_eq!(
        db.execute(a, Stmt::advisory_unlock(42), at(0)).bool(),
        Some(true)
    );
    assert_eq!(
        db.execute(a, Stmt::advisory_unlock(42), at(0)).bool(),
        Some(true)
    );
    let r = done(db.execute(a, Stmt::advisory_unlock(42), at(0)));
    assert_eq!(r.bool(), Some(false));
    assert_eq!(r.notices.len(), 1);
    assert_eq!(r.notices[0].code, "01000");
    assert_eq!(
        r.notices[0].to_string(),
        "WARNING:  01000: you don't own a lock of type ExclusiveLock"
    );
}

#[test]
fn check_34_advisory_lock_excludes_other_session() {
    let mut db = Db::new();
    let (a, b) = (db.connect(), db.connect());
    assert_eq!(
        db.execute(a, Stmt::try_advisory_lock(42), at(0)).bool(),
        Some(true)
    );
    assert_eq!(
        db.execute(b, Stmt::try_advisory_lock(42), at(1)).bool(),
        Some(false)
    );
    assert_eq!(
        db.execute(a, Stmt::advisory_unlock(42), at(2)).bool(),
        Some(true)
    );
    assert_eq!(
        db.execute(b, Stmt::try_advisory_lock(42), at(3)).bool(),
        Some(true)
    );
}

#[test]
fn check_35_exclusive_and_shared_in_one_session_then_unlock_all() {
    let mut db = Db::new();
    let a = db.connect();
    let shared = Stmt::Call(Func::AdvisoryLock {
        key: 9.into(),
        shared: true,
        xact: false,
        try_: false,
    });
    assert!(matches!(
        db.execute(a, Stmt::advisory_lock(9), at(0)),
        Exec::Done(_)
    ));
    assert!(matches!(db.execute(a, shared, at(0)), Exec::Done(_)));
    let rows = pg_locks(&mut db, a, at(0));
    let modes: Vec<String> = rows
        .iter()
        .filter(|r| r.get("pid") == Some(&Value::Int(i64::from(a.0))))
        .map(|r| r.get("mode").unwrap().to_string())
        .collect();
    assert_eq!(modes, vec!["ExclusiveLock", "ShareLock"]);
    assert!(rows
        .iter()
        .all(|r| r.get("granted") == Some(&Value::Bool(true))));
    done(db.execute(a, Func::AdvisoryUnlockAll, at(1)));
    assert_eq!(pg_locks(&mut db, a, at(1)).len(), 0);
}

#[test]
fn check_36_xact_lock_cannot_be_unlocked_early() {
    let mut db = Db::new();
    let (a, b) = (db.connect(), db.connect());
    done(db.execute(a, Stmt::Begin(Isolation::ReadCommitted), at(0)));
    done(db.execute(a, Stmt::advisory_xact_lock(7), at(0)));
    let r = done(db.execute(a, Stmt::advisory_unlock(7), at(1)));
    assert_eq!(r.bool(), Some(false));
    assert_eq!(
        r.notices[0].message,
        "you don't own a lock of type ExclusiveLock"
    );
    assert_eq!(advisory_rows_for(&pg_locks(&mut db, b, at(2)), "7"), 1);
    assert_eq!(
        db.execute(b, Stmt::try_advisory_lock(7), at(2)).bool(),
        Some(false)
    );
    assert_eq!(
        done(db.execute(a, Stmt::Commit, at(3))).to_string(),
        "COMMIT"
    );
    assert_eq!(advisory_rows_for(&pg_locks(&mut db, b, at(4)), "7"), 0);
}

#[test]
fn check_37_xact_lock_in_autocommit_lasts_one_statement() {
    let mut db = Db::new();
    let (a, b) = (db.connect(), db.connect());
    assert!(matches!(
        db.execute(a, Stmt::advisory_xact_lock(5), at(0)),
        Exec::Done(_)
    ));
    assert_eq!(advisory_rows_for(&pg_locks(&mut db, a, at(1)), "5"), 0);
    assert_eq!(
        db.execute(b, Stmt::try_advisory_lock(5), at(1)).bool(),
        Some(true)
    );
}

#[test]
fn check_38_session_lock_survives_rollback() {
    let mut db = Db::new();
    let (a, b) = (db.connect(), db.connect());
    done(db.execute(a, Stmt::Begin(Isolation::ReadCommitted), at(0)));
    done(db.execute(a, Stmt::advisory_lock(6), at(0)));
    assert_eq!(
        done(db.execute(a, Stmt::Rollback, at(1))).to_string(),
        "ROLLBACK"
    );
    assert_eq!(
        db.execute(b, Stmt::try_advisory_lock(6), at(2)).bool(),
        Some(false)
    );
    assert_eq!(
        db.execute(a, Stmt::advisory_unlock(6), at(3)).bool(),
        Some(true)
    );
    assert_eq!(
        db.execute(b, Stmt::try_advisory_lock(6), at(4)).bool(),
        Some(true)
    );
}

#[test]
fn check_39_killed_client_releases_its_lock() {
    let mut db = Db::new();
    let (a, b) = (db.connect(), db.connect());
    assert_eq!(
        db.execute(a, Stmt::try_advisory_lock(4242), at(0)).bool(),
        Some(true)
    );
    db.close(a, at(10));
    assert_eq!(
        db.execute(b, Stmt::try_advisory_lock(4242), at(200)).bool(),
        Some(true)
    );
    assert_eq!(
        db.execute(a, Stmt::try_advisory_lock(1), at(300)).code(),
        Some("08006")
    );
}

#[test]
fn check_40_idle_in_transaction_timeout_ends_the_session() {
    let mut db = Db::new();
    let (a, b) = (db.connect(), db.connect());
    done(db.execute(
        a,
        Stmt::set(Setting::IdleInTransactionSessionTimeout, 300),
        at(0),
    ));
    done(db.execute(a, Stmt::Begin(Isolation::ReadCommitted), at(0)));
    done(db.execute(a, Stmt::advisory_xact_lock(77), at(0)));
    assert_eq!(db.next_deadline(), Some(300 * 1_000_000));
    assert_eq!(
        db.execute(b, Stmt::try_advisory_lock(77), at(200)).bool(),
        Some(false)
    );
    assert_eq!(
        db.execute(b, Stmt::try_advisory_lock(77), at(800)).bool(),
        Some(true)
    );
    let e = db.execute(a, Func::Now, at(900));
    let err = e.error().expect("the session was ended");
    assert_eq!(err.severity, "FATAL");
    assert_eq!(err.code, "25P03");
    assert_eq!(
        err.message,
        "terminating connection due to idle-in-transaction timeout"
    );
    assert_eq!(db.execute(a, Func::Now, at(901)).code(), Some("08006"));
}

#[test]
fn check_41_nowait_skip_locked_and_plain_read() {
    let mut db = Db::new();
    let (a, b) = (db.connect(), db.connect());
    items(&mut db, a);
    done(db.execute(a, Stmt::Begin(Isolation::ReadCommitted), at(0)));
    let r = done(db.execute(
        a,
        Select::from("t").filter(col("id").eq(1)).for_update(),
        at(1),
    ));
    assert_eq!(r.count(), 1);
    let e = db.execute(
        b,
        Select::from("t")
            .filter(col("id").eq(1))
            .for_update_nowait(),
        at(2),
    );
    let err = e.error().unwrap();
    assert_eq!(err.code, "55P03");
    assert_eq!(
        err.message,
        "could not obtain lock on row in relation \"t\""
    );
    let r = done(db.execute(
        b,
        Select::from("t").columns(&["id"]).for_update_skip_locked(),
        at(3),
    ));
    let ids: Vec<String> = r.rows.iter().map(ToString::to_string).collect();
    assert_eq!(ids, vec!["2", "3"]);
    let r = done(db.execute(b, Select::from("t").filter(col("id").eq(1)), at(4)));
    assert_eq!(r.count(), 1);
}

#[test]
fn check_42_lock_timeout_cancels_the_update() {
    let mut db = Db::new();
    let (a, b) = (db.connect(), db.connect());
    items(&mut db, a);
    done(db.execute(a, Stmt::Begin(Isolation::ReadCommitted), at(0)));
    done(db.execute(
        a,
        Select::from("t").filter(col("id").eq(1)).for_update(),
        at(0),
    ));
    done(db.execute(b, Stmt::Begin(Isolation::ReadCommitted), at(10)));
    done(db.execute(b, Stmt::set_local(Setting::LockTimeout, 200), at(10)));
    let upd = Update::table("t").set("v", 1).filter(col("id").eq(1));
    let Exec::Blocked(bl) = db.execute(b, upd, at(20)) else {
        panic!("the update must wait for A's row lock");
    };
    assert_eq!(bl.retry_at, Some(220 * 1_000_000));
    assert!(db.resume(b, at(120)).is_blocked());
    let e = db.resume(b, at(220));
    let err = e.error().unwrap();
    assert_eq!(err.code, "55P03");
    assert_eq!(err.message, "canceling statement due to lock timeout");
    assert_eq!(db.execute(b, Func::Now, at(230)).code(), Some("25P02"));
}

#[test]
fn check_43_statement_timeout_cancels_pg_sleep() {
    let mut db = Db::new();
    let a = db.connect();
    done(db.execute(a, Stmt::set(Setting::StatementTimeout, 100), at(0)));
    let Exec::Blocked(bl) = db.execute(a, Stmt::sleep_ms(1000), at(0)) else {
        panic!("pg_sleep waits");
    };
    assert_eq!(bl.retry_at, Some(100 * 1_000_000));
    let e = db.resume(a, at(100));
    let err = e.error().unwrap();
    assert_eq!(err.code, "57014");
    assert_eq!(err.message, "canceling statement due to statement timeout");
}

#[test]
fn check_44_deadlock_detected_after_deadlock_timeout() {
    let mut db = Db::new();
    let (a, b) = (db.connect(), db.connect());
    items(&mut db, a);
    let upd = |id: i64| {
        Update::table("t")
            .set("v", id * 10)
            .filter(col("id").eq(id))
    };
    done(db.execute(a, Stmt::Begin(Isolation::ReadCommitted), at(0)));
    done(db.execute(a, upd(1), at(0)));
    done(db.execute(b, Stmt::Begin(Isolation::ReadCommitted), at(10)));
    done(db.execute(b, upd(2), at(10)));
    let Exec::Blocked(ba) = db.execute(a, upd(2), at(20)) else {
        panic!("A waits for B");
    };
    assert_eq!(ba.retry_at, Some(1020 * 1_000_000));
    let Exec::Blocked(bb) = db.execute(b, upd(1), at(120)) else {
        panic!("B waits for A");
    };
    assert_eq!(bb.retry_at, Some(1120 * 1_000_000));
    assert!(db.resume(a, at(500)).is_blocked());
    let e = db.resume(a, at(1020));
    let err = e.error().unwrap();
    assert_eq!(err.code, "40P01");
    assert_eq!(err.message, "deadlock detected");
    assert_eq!(db.take_woken(), vec![b]);
    assert_eq!(db.resume(b, at(1020)).count(), Some(1));
    done(db.execute(b, Stmt::Commit, at(1030)));
    assert_eq!(
        done(db.execute(a, Stmt::Rollback, at(1040))).to_string(),
        "ROLLBACK"
    );
    let r = done(db.execute(
        a,
        Select::from("t").columns(&["v"]).order_by("id"),
        at(1050),
    ));
    let vs: Vec<String> = r.rows.iter().map(ToString::to_string).collect();
    assert_eq!(vs, vec!["10", "20", "0"]);
}

#[test]
fn check_45_lock_table_insert_and_non_owner_statements() {
    let mut db = Db::new();
    let (a, b) = (db.connect(), db.connect());
    lock_table(&mut db, a);
    let r = done(db.execute(a, ins("A", now().plus(secs(30))), at(0)));
    assert_eq!(r.to_string(), "INSERT 0 1");
    let e = db.execute(b, ins("B", now().plus(secs(30))), at(1));
    let err = e.error().unwrap();
    assert_eq!(err.code, "23505");
    assert_eq!(
        err.to_string(),
        "ERROR:  23505: duplicate key value violates unique constraint \"lock_table_pkey\"\nDETAIL:  Key (lock_name)=(job) already exists."
    );
    let r = done(
        db.execute(
            b,
            ins("B", now().plus(secs(30)))
                .on_conflict_do_nothing(&[])
                .returning(&["lock_name"]),
            at(2),
        ),
    );
    assert_eq!(r.count(), 0);
    assert!(r.rows.is_empty());
    let mine = col("lock_name").eq("job").and(col("identifier").eq("B"));
    let d = db.execute(b, Delete::from("lock_table").filter(mine.clone()), at(3));
    assert_eq!(d.reply().unwrap().to_string(), "DELETE 0");
    let u = db.execute(
        b,
        Update::table("lock_table")
            .set("expires_at", now().plus(secs(30)))
            .filter(mine),
        at(4),
    );
    assert_eq!(u.reply().unwrap().to_string(), "UPDATE 0");
    assert_eq!(
        db.committed_rows("lock_table")[0].get("identifier"),
        Some(&Value::from("A"))
    );
}

/// Check 46's three runs: A's uncommitted insert, B's insert waiting for it.
fn concurrent_insert(commit: bool, do_nothing: bool) -> Exec {
    let mut db = Db::new();
    let (a, b) = (db.connect(), db.connect());
    lock_table(&mut db, a);
    done(db.execute(a, Stmt::Begin(Isolation::ReadCommitted), at(0)));
    done(db.execute(a, ins("A", now().plus(secs(30))), at(0)));
    let mut mine = ins("B", now().plus(secs(30)));
    if do_nothing {
        mine = mine.on_conflict_do_nothing(&[]).returning(&["lock_name"]);
    }
    assert!(db.execute(b, mine, at(10)).is_blocked());
    assert!(db.take_woken().is_empty());
    assert!(
        db.resume(b, at(510)).is_blocked(),
        "still blocked after 0.5 s"
    );
    done(db.execute(
        a,
        if commit { Stmt::Commit } else { Stmt::Rollback },
        at(600),
    ));
    assert_eq!(db.take_woken(), vec![b]);
    db.resume(b, at(600))
}

#[test]
fn check_46_insert_waits_for_uncommitted_duplicate() {
    let after_rollback = concurrent_insert(false, false);
    assert_eq!(after_rollback.reply().unwrap().to_string(), "INSERT 0 1");
    let after_commit = concurrent_insert(true, false);
    assert_eq!(after_commit.code(), Some("23505"));
    let do_nothing = concurrent_insert(true, true);
    let r = do_nothing.reply().unwrap();
    assert_eq!(r.count(), 0);
    assert!(r.rows.is_empty());
}

#[test]
fn check_47_takeover_by_old_identifier_steals_a_renewed_lock() {
    for guarded in [false, true] {
        let mut db = Db::new();
        let (x, b) = (db.connect(), db.connect());
        lock_table(&mut db, x);
        done(db.execute(x, ins("X", now().minus(secs(1))), at(0)));
        let r = done(db.execute(
            b,
            Select::from("lock_table").filter(col("lock_name").eq("job")),
            at(10),
        ));
        let expires = r.rows[0].get("expires_at").unwrap().as_timestamp().unwrap();
        assert!(expires < at(10).wall, "B sees the row expired");
        let renew = Update::table("lock_table")
            .set("expires_at", now().plus(secs(30)))
            .filter(col("lock_name").eq("job").and(col("identifier").eq("X")));
        assert_eq!(db.execute(x, renew.clone(), at(20)).count(), Some(1));
        let mut take = col("lock_name").eq("job").and(col("identifier").eq("X"));
        if guarded {
            take = take.and(col("expires_at").lt(now()));
        }
        let d = db.execute(b, Delete::from("lock_table").filter(take), at(30));
        if guarded {
            assert_eq!(d.count(), Some(0));
            continue;
        }
        assert_eq!(d.count(), Some(1));
        assert_eq!(
            db.execute(b, ins("B", now().plus(secs(30))), at(40))
                .count(),
            Some(1)
        );
        assert_eq!(db.execute(x, renew, at(50)).count(), Some(0));
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
    let mut db = Db::new();
    let (a, b) = (db.connect(), db.connect());
    lock_table(&mut db, a);
    done(db.execute(a, ins("A", now().plus(secs(1))), at(0)));
    let r = done(db.execute(b, upsert("B"), at(500)));
    assert_eq!(r.count(), 0);
    assert!(r.rows.is_empty());
    let r = done(db.execute(b, upsert("B"), at(1500)));
    assert_eq!(r.count(), 1);
    assert_eq!(r.rows[0].to_string(), "B");
}

#[test]
fn check_49_now_is_frozen_at_transaction_start() {
    let mut db = Db::new();
    let a = db.connect();
    let ts = |e: Exec| done(e).scalar().unwrap().as_timestamp().unwrap();
    done(db.execute(a, Stmt::Begin(Isolation::ReadCommitted), at(0)));
    let n1 = ts(db.execute(a, Func::Now, at(0)));
    assert_eq!(n1, at(0).wall);
    assert!(db.execute(a, Stmt::sleep_ms(300), at(0)).is_blocked());
    assert!(db.resume(a, at(300)).reply().is_some());
    assert_eq!(ts(db.execute(a, Func::Now, at(300))), n1);
    assert_eq!(
        ts(db.execute(a, Func::ClockTimestamp, at(301))),
        n1 + 301_000_000
    );
    assert_eq!(
        ts(db.execute(a, Func::StatementTimestamp, at(302))),
        n1 + 302_000_000
    );
}

/// Check 50's two sessions: each reads v, then writes the value it computed.
fn read_modify_write(iso: Isolation) -> (Exec, Vec<Row>) {
    let mut db = Db::new();
    let (a, b) = (db.connect(), db.connect());
    done(db.execute(
        a,
        TableDef::new("c", &["id", "v"]).primary_key(&["id"]),
        at(0),
    ));
    done(db.execute(a, Insert::into("c").value("id", 1).value("v", 0), at(0)));
    let read = Select::from("c").columns(&["v"]).filter(col("id").eq(1));
    let write = |v: i64| Update::table("c").set("v", v).filter(col("id").eq(1));
    done(db.execute(a, Stmt::Begin(iso), at(1)));
    done(db.execute(b, Stmt::Begin(iso), at(1)));
    let va = done(db.execute(a, read.clone(), at(2)))
        .scalar()
        .unwrap()
        .as_int()
        .unwrap();
    let vb = done(db.execute(b, read, at(2)))
        .scalar()
        .unwrap()
        .as_int()
        .unwrap();
    assert_eq!((va, vb), (0, 0));
    done(db.execute(a, write(va + 1), at(3)));
    done(db.execute(a, Stmt::Commit, at(4)));
    let eb = db.execute(b, write(vb + 1), at(5));
    db.execute(b, Stmt::Commit, at(6));
    (eb, db.committed_rows("c"))
}

#[test]
fn check_50_lost_update_and_repeatable_read_failure() {
    let (e, rows) = read_modify_write(Isolation::ReadCommitted);
    assert_eq!(e.count(), Some(1));
    assert_eq!(rows[0].get("v"), Some(&Value::Int(1)), "one increment lost");
    let (e, rows) = read_modify_write(Isolation::RepeatableRead);
    let err = e.error().unwrap();
    assert_eq!(err.code, "40001");
    assert_eq!(
        err.message,
        "could not serialize access due to concurrent update"
    );
    assert_eq!(rows[0].get("v"), Some(&Value::Int(1)));
}

/// Check 51: check-then-insert into a table without a unique key.
fn check_then_insert(iso: Isolation) -> (Exec, Exec, usize) {
    let mut db = Db::new();
    let (a, b) = (db.connect(), db.connect());
    done(db.execute(a, TableDef::new("owners", &["name", "who"]), at(0)));
    let count = Select::count("owners").filter(col("name").eq("job"));
    done(db.execute(a, Stmt::Begin(iso), at(1)));
    done(db.execute(b, Stmt::Begin(iso), at(1)));
    for s in [a, b] {
        let r = done(db.execute(s, count.clone(), at(2)));
        assert_eq!(r.scalar(), Some(&Value::Int(0)));
        assert_eq!(r.rows[0].columns().collect::<Vec<_>>(), vec!["count"]);
    }
    done(
        db.execute(
            a,
            Insert::into("owners")
                .value("name", "job")
                .value("who", "A"),
            at(3),
        ),
    );
    done(
        db.execute(
            b,
            Insert::into("owners")
                .value("name", "job")
                .value("who", "B"),
            at(3),
        ),
    );
    let ca = db.execute(a, Stmt::Commit, at(4));
    let cb = db.execute(b, Stmt::Commit, at(5));
    (ca, cb, db.committed_rows("owners").len())
}

#[test]
fn check_51_check_then_insert_read_committed_vs_serializable() {
    let (ca, cb, n) = check_then_insert(Isolation::ReadCommitted);
    assert_eq!(ca.reply().unwrap().to_string(), "COMMIT");
    assert_eq!(cb.reply().unwrap().to_string(), "COMMIT");
    assert_eq!(n, 2);
    let (ca, cb, n) = check_then_insert(Isolation::Serializable);
    assert_eq!(ca.reply().unwrap().to_string(), "COMMIT");
    let err = cb.error().unwrap();
    assert_eq!(err.code, "40001");
    assert_eq!(
        err.message,
        "could not serialize access due to read/write dependencies among transactions"
    );
    assert_eq!(n, 1);
}

#[test]
fn check_52_error_aborts_the_transaction_block() {
    let mut db = Db::new();
    let (a, b) = (db.connect(), db.connect());
    lock_table(&mut db, a);
    done(db.execute(a, ins("A", now().plus(secs(30))), at(0)));
    done(db.execute(b, Stmt::Begin(Isolation::ReadCommitted), at(1)));
    done(db.execute(b, Stmt::try_advisory_lock(3), at(1)));
    done(db.execute(b, Stmt::advisory_xact_lock(8), at(1)));
    assert_eq!(
        db.execute(b, ins("B", now().plus(secs(30))), at(2)).code(),
        Some("23505")
    );
    for stmt in [
        Stmt::from(Select::from("lock_table")),
        Stmt::advisory_unlock(3),
        Stmt::Begin(Isolation::ReadCommitted),
    ] {
        let e = db.execute(b, stmt, at(3));
        assert_eq!(e.code(), Some("25P02"));
        assert_eq!(
            e.error().unwrap().message,
            "current transaction is aborted, commands ignored until end of transaction block"
        );
    }
    // The aborted transaction's locks are gone already; session-level ones stay.
    let c = db.connect();
    assert_eq!(
        db.execute(c, Stmt::try_advisory_lock(8), at(4)).bool(),
        Some(true)
    );
    assert_eq!(
        db.execute(c, Stmt::try_advisory_lock(3), at(4)).bool(),
        Some(false)
    );
    assert_eq!(
        done(db.execute(b, Stmt::Commit, at(5))).to_string(),
        "ROLLBACK"
    );
    assert_eq!(
        db.execute(b, Select::from("lock_table"), at(6)).count(),
        Some(1)
    );
}

#[test]
fn check_53_get_lock_is_reentrant_and_counted() {
    let mut m = NamedLocks::new();
    let a = m.connect();
    let t = at(0);
    assert_eq!(m.call(a, Call::get_lock("n", 0), t), Outcome::Int(1));
    assert_eq!(m.call(a, Call::get_lock("n", 0), t), Outcome::Int(1));
    assert_eq!(m.call(a, Call::is_free_lock("n"), t), Outcome::Int(0));
    let id = m.call(a, Call::ConnectionId, t);
    assert_eq!(m.call(a, Call::is_used_lock("n"), t), id);
    assert_eq!(m.call(a, Call::release_lock("n"), t), Outcome::Int(1));
    assert_eq!(m.call(a, Call::release_lock("n"), t), Outcome::Int(1));
    assert_eq!(m.call(a, Call::release_lock("n"), t), Outcome::Null);
    assert_eq!(Outcome::Null.to_string(), "NULL");
}

#[test]
fn check_54_get_lock_times_out_and_others_cannot_release() {
    let mut m = NamedLocks::new();
    let (a, b) = (m.connect(), m.connect());
    assert_eq!(m.call(a, Call::get_lock("n", 0), at(0)), Outcome::Int(1));
    assert_eq!(
        m.call(b, Call::get_lock("n", 200), at(0)),
        Outcome::Blocked {
            deadline: Some(200 * 1_000_000)
        }
    );
    assert!(matches!(m.resume(b, at(100)), Outcome::Blocked { .. }));
    assert_eq!(m.resume(b, at(200)), Outcome::Int(0));
    assert_eq!(m.call(b, Call::release_lock("n"), at(201)), Outcome::Int(0));
    let a_id = m.call(a, Call::ConnectionId, at(202));
    assert_eq!(m.call(b, Call::is_used_lock("n"), at(202)), a_id);
}

#[test]
fn check_55_null_names_and_release_all() {
    let mut m = NamedLocks::new();
    let a = m.connect();
    let t = at(0);
    assert_eq!(m.call(a, Call::release_lock("never"), t), Outcome::Null);
    assert_eq!(
        m.call(
            a,
            Call::GetLock {
                name: None,
                timeout_ms: 0
            },
            t
        ),
        Outcome::Null
    );
    assert_eq!(m.call(a, Call::get_lock("a", 0), t), Outcome::Int(1));
    assert_eq!(m.call(a, Call::get_lock("b", 0), t), Outcome::Int(1));
    assert_eq!(m.call(a, Call::ReleaseAllLocks, t), Outcome::Int(2));
    assert_eq!(m.call(a, Call::is_free_lock("a"), t), Outcome::Int(1));
}

#[test]
fn check_56_session_end_releases_named_locks() {
    let mut m = NamedLocks::new();
    let (a, b) = (m.connect(), m.connect());
    assert_eq!(m.call(a, Call::get_lock("n", 0), at(0)), Outcome::Int(1));
    m.close(a, at(10));
    assert_eq!(m.call(b, Call::is_free_lock("n"), at(20)), Outcome::Int(1));
    assert_eq!(m.call(b, Call::get_lock("n", 0), at(20)), Outcome::Int(1));
}

#[test]
fn check_35_shared_holders_block_an_exclusive_waiter_fifo() {
    // Beyond check 35: a waiter is granted directly on release, and a later try does not
    // barge past it.
    let mut db = Db::new();
    let (a, b, c) = (db.connect(), db.connect(), db.connect());
    done(db.execute(a, Stmt::advisory_lock(1), at(0)));
    assert!(db.execute(b, Stmt::advisory_lock(1), at(1)).is_blocked());
    assert_eq!(
        db.execute(c, Stmt::try_advisory_lock(1), at(2)).bool(),
        Some(false)
    );
    done(db.execute(a, Stmt::advisory_unlock(1), at(3)));
    assert_eq!(db.take_woken(), vec![b]);
    assert_eq!(
        db.execute(c, Stmt::try_advisory_lock(1), at(4)).bool(),
        Some(false)
    );
    assert!(matches!(db.resume(b, at(5)), Exec::Done(_)));
    let rows = pg_locks(&mut db, c, at(6));
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].get("pid"), Some(&Value::Int(i64::from(b.0))));
    assert_eq!(Proj::Count.to_string(), "count(*)");
}

//! The SQL twin beyond §9's checks: DISTRIBUTED.md §2's statements about waits and
//! re-evaluation, isolation, error codes, session and server ends, and the trace forms.

use lockproof_services::sql::mariadb::{Call, NamedLocks, Outcome};
use lockproof_services::sql::{
    col, excluded, now, secs, AdvisoryKey, Db, Delete, Exec, Func, Insert, Isolation, Select,
    SessionId, Setting, Stmt, TableDef, Update, Value, WaitOn,
};
use lockproof_services::time::ServerClock;

#[path = "support/sql.rs"]
mod support;

use support::{at, done};

fn setup() -> (Db, SessionId, SessionId) {
    let mut db = Db::new();
    let (a, b) = (db.connect(), db.connect());
    let def = TableDef::new(
        "lock_table",
        &["lock_name", "identifier", "expires_at", "acquire_count"],
    )
    .primary_key(&["lock_name"])
    .default("acquire_count", 1);
    done(db.execute(a, def, at(0)));
    (db, a, b)
}

fn ins(who: &str, expires: lockproof_services::sql::Expr) -> Insert {
    Insert::into("lock_table")
        .value("lock_name", "job")
        .value("identifier", who)
        .value("expires_at", expires)
}

fn begin(db: &mut Db, s: SessionId, t: ServerClock) {
    done(db.execute(s, Stmt::Begin(Isolation::ReadCommitted), t));
}

#[test]
fn two_takers_of_an_expired_row_are_serialised_by_row_lock_and_key() {
    let (mut db, a, b) = setup();
    done(db.execute(a, ins("X", now().minus(secs(1))), at(0)));
    let take = Delete::from("lock_table")
        .filter(col("lock_name").eq("job").and(col("identifier").eq("X")));
    begin(&mut db, a, at(10));
    begin(&mut db, b, at(10));
    assert_eq!(db.execute(a, take.clone(), at(20)).count(), Some(1));
    let Exec::Blocked(bl) = db.execute(b, take, at(21)) else {
        panic!("B's delete waits for A's row lock");
    };
    assert!(matches!(bl.on, WaitOn::Transaction { session, .. } if session == a));
    assert_eq!(
        db.execute(a, ins("A", now().plus(secs(30))), at(22))
            .count(),
        Some(1)
    );
    done(db.execute(a, Stmt::Commit, at(23)));
    assert_eq!(db.take_woken(), vec![b]);
    assert_eq!(
        db.resume(b, at(24)).count(),
        Some(0),
        "re-evaluated: X's row is gone"
    );
    assert_eq!(
        db.execute(b, ins("B", now().plus(secs(30))), at(25)).code(),
        Some("23505")
    );
}

#[test]
fn increment_in_one_update_is_atomic_under_read_committed() {
    let (mut db, a, b) = setup();
    done(db.execute(a, ins("A", now().plus(secs(30))), at(0)));
    let inc = Update::table("lock_table")
        .set("acquire_count", col("acquire_count").plus(1))
        .filter(col("lock_name").eq("job"))
        .returning(&["acquire_count"]);
    begin(&mut db, a, at(1));
    assert_eq!(
        done(db.execute(a, inc.clone(), at(2))).rows[0].to_string(),
        "2"
    );
    assert!(db.execute(b, inc, at(3)).is_blocked());
    done(db.execute(a, Stmt::Commit, at(4)));
    assert_eq!(db.take_woken(), vec![b]);
    let r = done(db.resume(b, at(5)));
    assert_eq!(
        r.rows[0].to_string(),
        "3",
        "the waiter re-read the committed 2"
    );
}

#[test]
fn on_conflict_do_update_locks_the_row_even_when_where_fails() {
    let (mut db, a, b) = setup();
    done(db.execute(a, ins("A", now().plus(secs(30))), at(0)));
    let upsert = ins("B", now().plus(secs(30)))
        .on_conflict_do_update(
            &["lock_name"],
            vec![("identifier", excluded("identifier"))],
            col("expires_at").lt(now()),
        )
        .returning(&["identifier"]);
    begin(&mut db, b, at(1));
    assert_eq!(db.execute(b, upsert, at(2)).count(), Some(0));
    let e = db.execute(a, Select::from("lock_table").for_update_nowait(), at(3));
    assert_eq!(e.code(), Some("55P03"));
    done(db.execute(b, Stmt::Commit, at(4)));
    assert_eq!(
        db.execute(a, Select::from("lock_table").for_update_nowait(), at(5))
            .count(),
        Some(1)
    );
}

#[test]
fn repeatable_read_sees_its_snapshot_and_fails_on_changed_rows() {
    let (mut db, a, b) = setup();
    done(db.execute(a, ins("A", now().plus(secs(30))), at(0)));
    done(db.execute(b, Stmt::Begin(Isolation::RepeatableRead), at(1)));
    assert_eq!(
        db.execute(b, Select::from("lock_table"), at(2)).count(),
        Some(1)
    );
    done(db.execute(a, Delete::from("lock_table"), at(3)));
    assert_eq!(
        db.execute(b, Select::from("lock_table"), at(4)).count(),
        Some(1),
        "the snapshot still holds the deleted row"
    );
    let e = db.execute(b, Update::table("lock_table").set("identifier", "B"), at(5));
    assert_eq!(
        e.error().unwrap().message,
        "could not serialize access due to concurrent delete"
    );
    done(db.execute(b, Stmt::Rollback, at(6)));
    // A row committed after the snapshot: DO NOTHING cannot decide and fails.
    done(db.execute(b, Stmt::Begin(Isolation::RepeatableRead), at(7)));
    assert_eq!(
        db.execute(b, Select::from("lock_table"), at(8)).count(),
        Some(0)
    );
    done(db.execute(a, ins("A", now().plus(secs(30))), at(9)));
    let e = db.execute(b, ins("B", now()).on_conflict_do_nothing(&[]), at(10));
    assert_eq!(e.code(), Some("40001"));
}

#[test]
fn serializable_transactions_without_overlap_both_commit() {
    let mut db = Db::new();
    let (a, b) = (db.connect(), db.connect());
    done(db.execute(a, TableDef::new("owners", &["name", "who"]), at(0)));
    for (s, name) in [(a, "x"), (b, "y")] {
        done(db.execute(s, Stmt::Begin(Isolation::Serializable), at(1)));
        let r = done(db.execute(
            s,
            Select::count("owners").filter(col("name").eq(name)),
            at(2),
        ));
        assert_eq!(r.scalar(), Some(&Value::Int(0)));
        done(db.execute(s, Insert::into("owners").value("name", name), at(3)));
    }
    assert_eq!(
        done(db.execute(a, Stmt::Commit, at(4))).to_string(),
        "COMMIT"
    );
    assert_eq!(
        done(db.execute(b, Stmt::Commit, at(5))).to_string(),
        "COMMIT"
    );
    assert_eq!(db.committed_rows("owners").len(), 2);
}

#[test]
fn cancel_fails_the_waiting_statement_and_aborts_the_block() {
    let mut db = Db::new();
    let (a, b) = (db.connect(), db.connect());
    done(db.execute(a, Stmt::advisory_lock(1), at(0)));
    begin(&mut db, b, at(1));
    assert!(db.execute(b, Stmt::advisory_lock(1), at(2)).is_blocked());
    assert_eq!(
        db.execute(b, Func::Now, at(3)).error().unwrap().message,
        "another command is already in progress"
    );
    let e = db.cancel(b, at(4)).expect("B was waiting");
    assert_eq!(
        e.error().unwrap().to_string(),
        "ERROR:  57014: canceling statement due to user request"
    );
    assert!(db.cancel(b, at(5)).is_none());
    assert_eq!(db.execute(b, Func::Now, at(6)).code(), Some("25P02"));
    done(db.execute(a, Stmt::advisory_unlock(1), at(7)));
    assert!(
        db.take_woken().is_empty(),
        "the cancelled request left the queue"
    );
    assert_eq!(db.resume(b, at(8)).code(), Some("08P01"));
}

#[test]
fn restart_keeps_committed_rows_and_drops_sessions_and_locks() {
    let (mut db, a, b) = setup();
    done(db.execute(a, ins("A", now().plus(secs(30))), at(0)));
    begin(&mut db, b, at(1));
    done(db.execute(b, Delete::from("lock_table"), at(2)));
    done(db.execute(
        b,
        Insert::into("lock_table").value("lock_name", "other"),
        at(3),
    ));
    done(db.execute(a, Stmt::try_advisory_lock(5), at(4)));
    db.restart();
    let rows = db.committed_rows("lock_table");
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].get("identifier"), Some(&Value::from("A")));
    assert_eq!(db.execute(a, Func::Now, at(5)).code(), Some("08006"));
    assert!(!db.is_open(b));
    let c = db.connect();
    assert_eq!(
        db.execute(c, Stmt::try_advisory_lock(5), at(6)).bool(),
        Some(true)
    );
    assert_eq!(
        db.execute(c, Select::from("lock_table").for_update_nowait(), at(6))
            .count(),
        Some(1)
    );
}

#[test]
fn terminate_backend_releases_locks_and_reports_fatal() {
    let mut db = Db::new();
    let (a, b) = (db.connect(), db.connect());
    done(db.execute(a, Stmt::advisory_lock(1), at(0)));
    assert!(db.execute(b, Stmt::advisory_lock(1), at(1)).is_blocked());
    db.terminate(a, at(2));
    assert_eq!(db.take_woken(), vec![b]);
    assert!(matches!(db.resume(b, at(3)), Exec::Done(_)));
    let e = db.execute(a, Func::Now, at(4));
    assert_eq!(
        e.error().unwrap().to_string(),
        "FATAL:  57P01: terminating connection due to administrator command"
    );
}

#[test]
fn transaction_control_warnings_and_set_local_scope() {
    let mut db = Db::new();
    let (a, b) = (db.connect(), db.connect());
    let r = done(db.execute(a, Stmt::Commit, at(0)));
    assert_eq!(
        r.to_string(),
        "WARNING:  25P01: there is no transaction in progress\nCOMMIT"
    );
    assert_eq!(
        done(db.execute(a, Stmt::Rollback, at(0))).notices[0].code,
        "25P01"
    );
    let r = done(db.execute(a, Stmt::set_local(Setting::LockTimeout, 50), at(0)));
    assert_eq!(
        r.notices[0].message,
        "SET LOCAL can only be used in transaction blocks"
    );
    begin(&mut db, a, at(0));
    assert_eq!(
        done(db.execute(a, Stmt::Begin(Isolation::ReadCommitted), at(0))).notices[0].message,
        "there is already a transaction in progress"
    );
    done(db.execute(a, Stmt::set_local(Setting::LockTimeout, 50), at(0)));
    done(db.execute(a, Stmt::Commit, at(0)));
    done(db.execute(b, Stmt::advisory_lock(1), at(0)));
    let Exec::Blocked(bl) = db.execute(a, Stmt::advisory_lock(1), at(10)) else {
        panic!("A waits for B");
    };
    assert_eq!(
        bl.retry_at,
        Some(1010 * 1_000_000),
        "only the deadlock check: SET LOCAL ended with its transaction"
    );
    assert_eq!(bl.to_string(), "(blocked: waiting for advisory lock 1)");
}

#[test]
fn analysis_errors_carry_postgresql_codes() {
    let (mut db, a, _) = setup();
    let cases: Vec<(Stmt, &str, &str)> = vec![
        (
            Select::from("nope").into(),
            "42P01",
            "relation \"nope\" does not exist",
        ),
        (
            Select::from("lock_table").filter(col("owner").eq("x")).into(),
            "42703",
            "column \"owner\" does not exist",
        ),
        (
            Select::count("lock_table").for_update().into(),
            "0A000",
            "FOR UPDATE is not allowed with aggregate functions",
        ),
        (
            Insert::into("lock_table").value("identifier", "x").into(),
            "23502",
            "null value in column \"lock_name\" of relation \"lock_table\" violates not-null constraint",
        ),
        (
            ins("x", now())
                .on_conflict_do_update(&["identifier"], vec![], lockproof_services::sql::Pred::True)
                .into(),
            "42P10",
            "there is no unique or exclusion constraint matching the ON CONFLICT specification",
        ),
        (
            Select::from("lock_table")
                .filter(col("lock_name").eq(1))
                .into(),
            "42883",
            "operator does not exist: text = bigint",
        ),
        (
            TableDef::new("lock_table", &["x"]).into(),
            "42P07",
            "relation \"lock_table\" already exists",
        ),
    ];
    done(db.execute(a, ins("A", now()), at(0)));
    for (stmt, code, msg) in cases {
        let e = db.execute(a, stmt.clone(), at(1));
        let err = e.error().unwrap_or_else(|| panic!("{stmt} must fail"));
        assert_eq!((err.code, err.message.as_str()), (code, msg), "{stmt}");
    }
    let r = done(db.execute(
        a,
        TableDef::new("lock_table", &["x"]).if_not_exists(),
        at(2),
    ));
    assert_eq!(
        r.notices[0].message,
        "relation \"lock_table\" already exists, skipping"
    );
}

#[test]
fn locking_select_waits_then_sees_the_committed_change() {
    let (mut db, a, b) = setup();
    done(db.execute(a, ins("A", now().plus(secs(30))), at(0)));
    begin(&mut db, a, at(1));
    done(db.execute(
        a,
        Update::table("lock_table").set("identifier", "A2"),
        at(2),
    ));
    begin(&mut db, b, at(3));
    let q = Select::from("lock_table")
        .columns(&["identifier"])
        .for_update();
    assert!(db.execute(b, q, at(4)).is_blocked());
    let plain = db.connect();
    assert_eq!(
        done(db.execute(
            plain,
            Select::from("lock_table").columns(&["identifier"]),
            at(5)
        ))
        .rows[0]
            .to_string(),
        "A",
        "a plain read does not wait and sees the committed version"
    );
    done(db.execute(a, Stmt::Commit, at(6)));
    assert_eq!(db.take_woken(), vec![b]);
    assert_eq!(done(db.resume(b, at(7))).rows[0].to_string(), "A2");
}

#[test]
fn shared_advisory_locks_coexist_and_pair_keys_are_separate() {
    let mut db = Db::new();
    let (a, b) = (db.connect(), db.connect());
    let shared = |k: i64| {
        Stmt::Call(Func::AdvisoryLock {
            key: k.into(),
            shared: true,
            xact: false,
            try_: true,
        })
    };
    assert_eq!(db.execute(a, shared(3), at(0)).bool(), Some(true));
    assert_eq!(db.execute(b, shared(3), at(0)).bool(), Some(true));
    assert_eq!(
        db.execute(b, Stmt::try_advisory_lock(3), at(0)).bool(),
        Some(false)
    );
    assert_eq!(
        db.execute(a, Stmt::try_advisory_lock(AdvisoryKey::Pair(0, 3)), at(0))
            .bool(),
        Some(true)
    );
    let r = done(db.execute(
        a,
        Func::AdvisoryUnlock {
            key: 3.into(),
            shared: false,
        },
        at(1),
    ));
    assert_eq!(r.bool(), Some(false), "A holds 3 only in share mode");
    let r = done(db.execute(
        a,
        Func::AdvisoryUnlock {
            key: 3.into(),
            shared: true,
        },
        at(1),
    ));
    assert_eq!(r.bool(), Some(true));
}

#[test]
fn advisory_deadlock_victim_is_the_first_waiter_checked() {
    let mut db = Db::new();
    let (a, b) = (db.connect(), db.connect());
    done(db.execute(a, Stmt::advisory_lock(1), at(0)));
    done(db.execute(b, Stmt::advisory_lock(2), at(0)));
    assert!(db.execute(a, Stmt::advisory_lock(2), at(10)).is_blocked());
    assert!(db.execute(b, Stmt::advisory_lock(1), at(20)).is_blocked());
    let e = db.resume(a, at(1010));
    assert_eq!(e.code(), Some("40P01"));
    assert!(e.error().unwrap().detail.is_some());
    // In autocommit A's session lock on 1 is not released by the failed statement.
    assert!(db.take_woken().is_empty());
    done(db.execute(a, Stmt::advisory_unlock(1), at(1020)));
    assert_eq!(db.take_woken(), vec![b]);
    assert!(matches!(db.resume(b, at(1030)), Exec::Done(_)));
}

#[test]
fn now_in_a_waiting_autocommit_statement_is_its_start_and_follows_server_wall_clock() {
    let (mut db, a, b) = setup();
    begin(&mut db, a, at(0));
    done(db.execute(a, ins("A", now().plus(secs(30))), at(0)));
    let Exec::Blocked(_) = db.execute(
        b,
        ins("B", now())
            .on_conflict_do_nothing(&[])
            .returning(&["expires_at"]),
        at(100),
    ) else {
        panic!("B waits for A's uncommitted duplicate");
    };
    done(db.execute(a, Stmt::Rollback, at(500)));
    let r = done(db.resume(b, at(600)));
    assert_eq!(
        r.rows[0].get("expires_at"),
        Some(&Value::Timestamp(at(100).wall))
    );
    // The server's wall clock stepped back 60 s: now() follows it.
    let back = ServerClock {
        wall: at(700).wall - 60_000_000_000,
        mono: at(700).mono,
    };
    let t = done(db.execute(b, Func::Now, back))
        .scalar()
        .unwrap()
        .as_timestamp();
    assert_eq!(t, Some(back.wall));
}

#[test]
fn pg_sleep_completes_at_its_end() {
    let mut db = Db::new();
    let a = db.connect();
    let Exec::Blocked(bl) = db.execute(a, Stmt::sleep_ms(300), at(0)) else {
        panic!("pg_sleep waits");
    };
    assert_eq!(bl.retry_at, Some(300 * 1_000_000));
    assert!(db.resume(a, at(299)).is_blocked());
    assert_eq!(done(db.resume(a, at(300))).to_string(), "\nSELECT 1");
}

#[test]
fn statements_and_replies_display_as_sql_and_psql() {
    let s: Stmt = ins("A", now().plus(secs(30)))
        .on_conflict_do_update(
            &["lock_name"],
            vec![("identifier", excluded("identifier"))],
            col("expires_at").lt(now()),
        )
        .returning(&["identifier"])
        .into();
    assert_eq!(
        s.to_string(),
        "INSERT INTO lock_table (lock_name, identifier, expires_at) VALUES ('job', 'A', now() + interval '30 s') \
         ON CONFLICT (lock_name) DO UPDATE SET identifier = excluded.identifier WHERE lock_table.expires_at < now() RETURNING identifier"
    );
    assert_eq!(
        Stmt::from(
            Select::from("waits")
                .filter(col("lock_name").eq("job"))
                .order_by("created_at")
                .limit(1)
                .for_update_skip_locked()
        )
        .to_string(),
        "SELECT * FROM waits WHERE lock_name = 'job' ORDER BY created_at LIMIT 1 FOR UPDATE SKIP LOCKED"
    );
    assert_eq!(Stmt::sleep_ms(300).to_string(), "SELECT pg_sleep(0.3)");
    let (mut db, a, _) = setup();
    let r = done(db.execute(
        a,
        ins("A", now()).returning(&["lock_name", "identifier"]),
        at(0),
    ));
    assert_eq!(r.to_string(), "job|A\nINSERT 0 1");
}

#[test]
fn fifo_wait_queue_table_with_serial_and_default_now() {
    let mut db = Db::new();
    let a = db.connect();
    let def = TableDef::new("waits", &["id", "lock_name", "who", "created_at"])
        .primary_key(&["id"])
        .serial("id")
        .default("created_at", now());
    done(db.execute(a, def, at(0)));
    for (i, who) in ["w1", "w2", "w3"].iter().enumerate() {
        let r = done(
            db.execute(
                a,
                Insert::into("waits")
                    .value("lock_name", "job")
                    .value("who", *who)
                    .returning(&["id"]),
                at(i as u64 * 10),
            ),
        );
        assert_eq!(r.rows[0].to_string(), (i + 1).to_string());
    }
    let oldest = Select::from("waits")
        .columns(&["who"])
        .filter(col("lock_name").eq("job"))
        .order_by("created_at")
        .limit(1);
    assert_eq!(
        done(db.execute(a, oldest.clone(), at(40))).rows[0].to_string(),
        "w1"
    );
    let newest = Select::from("waits")
        .columns(&["who"])
        .order_by_desc("id")
        .limit(1);
    assert_eq!(
        done(db.execute(a, newest, at(40))).rows[0].to_string(),
        "w3"
    );
}

#[test]
fn mariadb_waiter_granted_in_order_and_forever_waits_have_no_deadline() {
    let mut m = NamedLocks::new();
    let (a, b, c) = (m.connect(), m.connect(), m.connect());
    assert_eq!(m.call(a, Call::get_lock("n", 0), at(0)), Outcome::Int(1));
    assert_eq!(
        m.call(b, Call::get_lock("n", -1), at(1)),
        Outcome::Blocked { deadline: None }
    );
    assert!(matches!(
        m.call(c, Call::get_lock("n", 10_000), at(2)),
        Outcome::Blocked { .. }
    ));
    assert_eq!(m.call(a, Call::release_lock("n"), at(3)), Outcome::Int(1));
    assert_eq!(m.take_woken(), vec![b]);
    assert_eq!(m.resume(b, at(4)), Outcome::Int(1));
    assert!(matches!(m.resume(c, at(5)), Outcome::Blocked { .. }));
    m.close(b, at(6));
    assert_eq!(m.take_woken(), vec![c]);
    assert_eq!(m.resume(c, at(7)), Outcome::Int(1));
    assert_eq!(
        Call::GetLock {
            name: None,
            timeout_ms: 0
        }
        .to_string(),
        "SELECT GET_LOCK(NULL, 0)"
    );
}

#[test]
fn a_grant_after_the_waiters_timeout_passes_to_the_next_waiter() {
    let mut db = Db::new();
    let (a, b, c) = (db.connect(), db.connect(), db.connect());
    done(db.execute(a, Stmt::advisory_lock(1), at(0)));
    done(db.execute(b, Stmt::set(Setting::LockTimeout, 100), at(0)));
    assert!(db.execute(b, Stmt::advisory_lock(1), at(0)).is_blocked());
    assert!(db.execute(c, Stmt::advisory_lock(1), at(10)).is_blocked());
    // A unlocks after B's timeout fell due, before anyone resumed B.
    done(db.execute(a, Stmt::advisory_unlock(1), at(200)));
    assert_eq!(db.take_woken(), vec![b]);
    assert_eq!(db.resume(b, at(200)).code(), Some("55P03"));
    assert_eq!(db.take_woken(), vec![c], "B's late grant went on to C");
    assert!(matches!(db.resume(c, at(201)), Exec::Done(_)));
    assert_eq!(
        db.execute(b, Stmt::try_advisory_lock(1), at(202)).bool(),
        Some(false)
    );
}

#[test]
fn mariadb_release_skips_a_waiter_whose_timeout_passed() {
    let mut m = NamedLocks::new();
    let (a, b, c) = (m.connect(), m.connect(), m.connect());
    assert_eq!(m.call(a, Call::get_lock("n", 0), at(0)), Outcome::Int(1));
    assert!(matches!(
        m.call(b, Call::get_lock("n", 100), at(0)),
        Outcome::Blocked { .. }
    ));
    assert!(matches!(
        m.call(c, Call::get_lock("n", 10_000), at(1)),
        Outcome::Blocked { .. }
    ));
    assert_eq!(m.call(a, Call::release_lock("n"), at(200)), Outcome::Int(1));
    assert_eq!(m.take_woken(), vec![c]);
    assert_eq!(m.resume(b, at(200)), Outcome::Int(0));
    assert_eq!(m.resume(c, at(201)), Outcome::Int(1));
    let c_id = m.call(c, Call::ConnectionId, at(202));
    assert_eq!(m.call(b, Call::is_used_lock("n"), at(202)), c_id);
}

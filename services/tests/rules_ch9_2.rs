//! Chapter 9.2's rules (rule-9.2-NN) checked against the SQL twin where they are about what
//! the database does. Each test asserts the server behaviour the rule relies on, or the one
//! that shows the rule wrong.

use lockproof_services::sql::{
    col, now, secs, Db, Delete, Expr, Insert, Isolation, Select, SessionId, Setting, Stmt,
    TableDef, Update, Value,
};
use lockproof_services::time::ServerClock;

#[path = "support/sql.rs"]
mod support;

use support::{at, done};

/// The tutorial's `distributed_locks` table: lock_name unique, holder, times, a count.
fn setup() -> (Db, SessionId, SessionId) {
    let mut db = Db::new();
    let (a, b) = (db.connect(), db.connect());
    let def = TableDef::new(
        "distributed_locks",
        &[
            "lock_name",
            "identifier",
            "created_at",
            "expires_at",
            "acquire_count",
        ],
    )
    .primary_key(&["lock_name"])
    .default("created_at", now())
    .default("acquire_count", 1);
    done(db.execute(a, def, at(0)));
    (db, a, b)
}

fn acquire(who: &str, ttl_s: i64) -> Insert {
    Insert::into("distributed_locks")
        .value("lock_name", "job")
        .value("identifier", who)
        .value("expires_at", now().plus(secs(ttl_s)))
}

fn mine(who: &str) -> lockproof_services::sql::Pred {
    col("lock_name").eq("job").and(col("identifier").eq(who))
}

fn begin(db: &mut Db, s: SessionId, t: ServerClock) {
    done(db.execute(s, Stmt::Begin(Isolation::ReadCommitted), t));
}

fn holder(db: &Db) -> Option<Value> {
    db.committed_rows("distributed_locks")
        .first()
        .and_then(|r| r.get("identifier").cloned())
}

#[test]
fn rule_9_2_01_concurrent_inserts_admit_exactly_one() {
    let (mut db, a, b) = setup();
    begin(&mut db, a, at(0));
    begin(&mut db, b, at(0));
    assert_eq!(db.execute(a, acquire("A", 30), at(1)).count(), Some(1));
    assert!(db.execute(b, acquire("B", 30), at(2)).is_blocked());
    done(db.execute(a, Stmt::Commit, at(3)));
    assert_eq!(db.take_woken(), vec![b]);
    assert_eq!(db.resume(b, at(4)).code(), Some("23505"));
    assert_eq!(holder(&db), Some(Value::from("A")));
}

#[test]
fn rule_9_2_02_committed_lock_row_survives_a_server_restart() {
    let (mut db, a, b) = setup();
    done(db.execute(a, acquire("A", 30), at(0)));
    begin(&mut db, b, at(1));
    done(db.execute(
        b,
        Insert::into("distributed_locks").value("lock_name", "other"),
        at(1),
    ));
    db.restart();
    let rows = db.committed_rows("distributed_locks");
    assert_eq!(rows.len(), 1, "only the committed row survives");
    assert_eq!(holder(&db), Some(Value::from("A")));
    let c = db.connect();
    assert_eq!(db.execute(c, acquire("C", 30), at(2)).code(), Some("23505"));
}

#[test]
fn rule_9_2_03_a_failed_transaction_leaves_no_half_done_takeover() {
    let (mut db, a, b) = setup();
    done(db.execute(a, acquire("A", 30), at(0)));
    begin(&mut db, b, at(1));
    assert_eq!(
        db.execute(
            b,
            Delete::from("distributed_locks").filter(mine("A")),
            at(2)
        )
        .count(),
        Some(1)
    );
    // The insert of the takeover fails (a bad value), and the whole transaction with it.
    let bad = Insert::into("distributed_locks")
        .value("lock_name", "job")
        .value("expires_at", Expr::from("soon").plus(secs(1)));
    assert_eq!(db.execute(b, bad, at(3)).code(), Some("42883"));
    assert_eq!(
        done(db.execute(b, Stmt::Commit, at(4))).to_string(),
        "ROLLBACK"
    );
    assert_eq!(holder(&db), Some(Value::from("A")), "A's row is back");
}

#[test]
fn rule_9_2_04_read_committed_is_not_full_isolation() {
    // A client-side read-modify-write of acquire_count under the default isolation.
    let (mut db, a, b) = setup();
    done(db.execute(a, acquire("A", 30), at(0)));
    let read = Select::from("distributed_locks")
        .columns(&["acquire_count"])
        .filter(col("lock_name").eq("job"));
    begin(&mut db, a, at(1));
    begin(&mut db, b, at(1));
    let ca = done(db.execute(a, read.clone(), at(2)))
        .scalar()
        .unwrap()
        .as_int()
        .unwrap();
    let cb = done(db.execute(b, read, at(2)))
        .scalar()
        .unwrap()
        .as_int()
        .unwrap();
    let write = |n: i64| {
        Update::table("distributed_locks")
            .set("acquire_count", n)
            .filter(col("lock_name").eq("job"))
    };
    done(db.execute(a, write(ca + 1), at(3)));
    assert!(db.execute(b, write(cb + 1), at(4)).is_blocked());
    done(db.execute(a, Stmt::Commit, at(5)));
    assert_eq!(db.resume(b, at(6)).count(), Some(1));
    done(db.execute(b, Stmt::Commit, at(7)));
    let n = db.committed_rows("distributed_locks")[0]
        .get("acquire_count")
        .cloned();
    assert_eq!(n, Some(Value::Int(2)), "two increments, one lost: 1 -> 2");
}

#[test]
fn rule_9_2_05_holder_and_expiry_columns_make_release_and_takeover_checkable() {
    let (mut db, a, b) = setup();
    done(db.execute(a, acquire("A", 1), at(0)));
    assert_eq!(
        db.execute(
            b,
            Delete::from("distributed_locks").filter(mine("B")),
            at(10)
        )
        .count(),
        Some(0),
        "the holder column keeps B from releasing A's lock"
    );
    let takeover = acquire("B", 30).on_conflict_do_update(
        &["lock_name"],
        vec![
            (
                "identifier",
                lockproof_services::sql::excluded("identifier"),
            ),
            (
                "expires_at",
                lockproof_services::sql::excluded("expires_at"),
            ),
        ],
        col("expires_at").lt(now()),
    );
    assert_eq!(db.execute(b, takeover.clone(), at(500)).count(), Some(0));
    assert_eq!(db.execute(b, takeover, at(1500)).count(), Some(1));
    assert_eq!(holder(&db), Some(Value::from("B")));
}

#[test]
fn rule_9_2_06_unique_key_allows_one_row_and_its_absence_two() {
    let (mut db, a, b) = setup();
    done(db.execute(a, acquire("A", 30), at(0)));
    let e = db.execute(b, acquire("B", 30), at(1));
    assert_eq!(
        e.error().unwrap().message,
        "duplicate key value violates unique constraint \"distributed_locks_pkey\""
    );
    done(db.execute(
        a,
        TableDef::new("no_key", &["lock_name", "identifier"]),
        at(2),
    ));
    for (s, who) in [(a, "A"), (b, "B")] {
        let ins = Insert::into("no_key")
            .value("lock_name", "job")
            .value("identifier", who);
        assert_eq!(db.execute(s, ins, at(3)).count(), Some(1));
    }
    assert_eq!(db.committed_rows("no_key").len(), 2);
}

#[test]
fn rule_9_2_07_purge_by_server_time_removes_only_expired_rows() {
    let (mut db, a, b) = setup();
    done(db.execute(a, acquire("A", 1), at(0)));
    done(
        db.execute(
            a,
            Insert::into("distributed_locks")
                .value("lock_name", "live")
                .value("identifier", "A")
                .value("expires_at", now().plus(secs(60))),
            at(0),
        ),
    );
    let purge = Delete::from("distributed_locks").filter(col("expires_at").lt(now()));
    assert_eq!(db.execute(b, purge.clone(), at(500)).count(), Some(0));
    assert_eq!(db.execute(b, purge, at(1500)).count(), Some(1));
    let left = db.committed_rows("distributed_locks");
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].get("lock_name"), Some(&Value::from("live")));
}

#[test]
fn rule_9_2_08_conditional_update_acquires_for_exactly_one_racer() {
    let (mut db, a, b) = setup();
    done(db.execute(a, acquire("X", 0), at(0)));
    let grab = |who: &str| {
        Update::table("distributed_locks")
            .set("identifier", who)
            .set("expires_at", now().plus(secs(30)))
            .filter(col("lock_name").eq("job").and(col("expires_at").lt(now())))
    };
    begin(&mut db, a, at(10));
    begin(&mut db, b, at(10));
    assert_eq!(db.execute(a, grab("A"), at(11)).count(), Some(1));
    assert!(db.execute(b, grab("B"), at(12)).is_blocked());
    done(db.execute(a, Stmt::Commit, at(13)));
    assert_eq!(
        db.resume(b, at(14)).count(),
        Some(0),
        "B re-evaluates on A's row"
    );
    assert_eq!(holder(&db), Some(Value::from("A")));
}

#[test]
fn rule_9_2_09_release_must_name_the_holder() {
    let (mut db, a, b) = setup();
    done(db.execute(a, acquire("A", 30), at(0)));
    assert_eq!(
        db.execute(
            b,
            Delete::from("distributed_locks").filter(mine("B")),
            at(1)
        )
        .count(),
        Some(0)
    );
    assert_eq!(holder(&db), Some(Value::from("A")));
    // Without the holder condition, B deletes A's lock.
    assert_eq!(
        db.execute(
            b,
            Delete::from("distributed_locks").filter(col("lock_name").eq("job")),
            at(2)
        )
        .count(),
        Some(1)
    );
    assert_eq!(holder(&db), None);
}

#[test]
fn rule_9_2_10_renewal_updates_only_while_still_the_holder() {
    let (mut db, a, b) = setup();
    done(db.execute(a, acquire("A", 1), at(0)));
    let renew = Update::table("distributed_locks")
        .set("expires_at", now().plus(secs(30)))
        .filter(mine("A"));
    assert_eq!(db.execute(a, renew.clone(), at(500)).count(), Some(1));
    let exp = db.committed_rows("distributed_locks")[0]
        .get("expires_at")
        .and_then(Value::as_timestamp);
    assert_eq!(exp, Some(at(500).wall + 30_000_000_000));
    done(db.execute(
        b,
        Delete::from("distributed_locks").filter(mine("A")),
        at(600),
    ));
    done(db.execute(b, acquire("B", 30), at(601)));
    assert_eq!(db.execute(a, renew, at(700)).count(), Some(0));
}

#[test]
fn rule_9_2_11_acquire_count_increments_atomically_in_one_update() {
    let (mut db, a, b) = setup();
    done(db.execute(a, acquire("A", 30), at(0)));
    let again = Update::table("distributed_locks")
        .set("acquire_count", col("acquire_count").plus(1))
        .filter(mine("A"))
        .returning(&["acquire_count"]);
    begin(&mut db, a, at(1));
    begin(&mut db, b, at(1));
    assert_eq!(
        done(db.execute(a, again.clone(), at(2))).rows[0].to_string(),
        "2"
    );
    assert!(db.execute(b, again, at(3)).is_blocked());
    done(db.execute(a, Stmt::Commit, at(4)));
    assert_eq!(done(db.resume(b, at(5))).rows[0].to_string(), "3");
}

#[test]
fn rule_9_2_12_row_stays_until_the_count_reaches_zero() {
    let (mut db, a, b) = setup();
    done(db.execute(a, acquire("A", 30), at(0)));
    let step = |d: i64| {
        Update::table("distributed_locks")
            .set("acquire_count", col("acquire_count").plus(d))
            .filter(mine("A"))
            .returning(&["acquire_count"])
    };
    let drop_at_zero =
        Delete::from("distributed_locks").filter(mine("A").and(col("acquire_count").le(0)));
    done(db.execute(a, step(1), at(1)));
    assert_eq!(
        done(db.execute(a, step(-1), at(2))).rows[0].to_string(),
        "1"
    );
    assert_eq!(db.execute(a, drop_at_zero.clone(), at(3)).count(), Some(0));
    assert_eq!(db.execute(b, acquire("B", 30), at(4)).code(), Some("23505"));
    assert_eq!(
        done(db.execute(a, step(-1), at(5))).rows[0].to_string(),
        "0"
    );
    assert_eq!(db.execute(a, drop_at_zero, at(6)).count(), Some(1));
    assert_eq!(db.execute(b, acquire("B", 30), at(7)).count(), Some(1));
}

fn wait_queue(db: &mut Db, s: SessionId, unique_lock_name: bool) {
    let mut def = TableDef::new(
        "lock_wait_queue",
        &["id", "lock_name", "identifier", "created_at"],
    )
    .primary_key(&["id"])
    .serial("id")
    .default("created_at", now());
    if unique_lock_name {
        def = def.unique(&["lock_name"]);
    }
    done(db.execute(s, def, at(0)));
}

fn enqueue(who: &str) -> Insert {
    Insert::into("lock_wait_queue")
        .value("lock_name", "job")
        .value("identifier", who)
}

#[test]
fn rule_9_2_13_a_wait_queue_table_needs_no_unique_lock_name() {
    let mut db = Db::new();
    let a = db.connect();
    wait_queue(&mut db, a, false);
    for who in ["w1", "w2", "w3"] {
        assert_eq!(db.execute(a, enqueue(who), at(1)).count(), Some(1));
    }
    // The tutorial's mock applies its lock_name uniqueness to every table: one waiter only.
    let mut db = Db::new();
    let a = db.connect();
    wait_queue(&mut db, a, true);
    assert_eq!(db.execute(a, enqueue("w1"), at(1)).count(), Some(1));
    assert_eq!(db.execute(a, enqueue("w2"), at(2)).code(), Some("23505"));
}

#[test]
fn rule_9_2_14_now_orders_by_transaction_start_not_by_enqueue() {
    let mut db = Db::new();
    let (a, b) = (db.connect(), db.connect());
    wait_queue(&mut db, a, false);
    begin(&mut db, a, at(10));
    done(db.execute(a, Select::from("lock_wait_queue"), at(10)));
    // B enqueues first (at 20), A's transaction began earlier (10) and enqueues at 30.
    done(db.execute(b, enqueue("B"), at(20)));
    done(db.execute(a, enqueue("A"), at(30)));
    done(db.execute(a, Stmt::Commit, at(31)));
    let by_created = done(
        db.execute(
            b,
            Select::from("lock_wait_queue")
                .columns(&["identifier"])
                .order_by("created_at")
                .limit(1),
            at(40),
        ),
    );
    assert_eq!(by_created.rows[0].to_string(), "A");
    let by_id = done(
        db.execute(
            b,
            Select::from("lock_wait_queue")
                .columns(&["identifier"])
                .order_by("id")
                .limit(1),
            at(40),
        ),
    );
    assert_eq!(by_id.rows[0].to_string(), "B");
}

#[test]
fn rule_9_2_20_row_locks_are_per_row() {
    let (mut db, a, b) = setup();
    for name in ["r1", "r2"] {
        done(db.execute(
            a,
            Insert::into("distributed_locks").value("lock_name", name),
            at(0),
        ));
    }
    let lock = |n: &str| {
        Select::from("distributed_locks")
            .filter(col("lock_name").eq(n))
            .for_update()
    };
    begin(&mut db, a, at(1));
    begin(&mut db, b, at(1));
    assert_eq!(db.execute(a, lock("r1"), at(2)).count(), Some(1));
    assert_eq!(db.execute(b, lock("r2"), at(3)).count(), Some(1), "no wait");
    done(db.execute(b, Stmt::Rollback, at(4)));
    begin(&mut db, b, at(5));
    assert!(
        db.execute(b, Select::from("distributed_locks").for_update(), at(6))
            .is_blocked(),
        "locking the whole table waits for A's one row"
    );
}

#[test]
fn rule_9_2_21_a_waiter_waits_for_the_whole_hold() {
    let (mut db, a, b) = setup();
    done(db.execute(a, acquire("A", 30), at(0)));
    begin(&mut db, a, at(1));
    done(db.execute(a, Select::from("distributed_locks").for_update(), at(1)));
    done(db.execute(b, Stmt::set(Setting::LockTimeout, 1000), at(2)));
    assert!(db
        .execute(b, Select::from("distributed_locks").for_update(), at(2))
        .is_blocked());
    assert!(db.resume(b, at(900)).is_blocked(), "A still holds");
    assert_eq!(db.resume(b, at(1002)).code(), Some("55P03"));
}

#[test]
fn rule_9_2_22_release_inside_a_failed_transaction_is_ignored() {
    let (mut db, a, b) = setup();
    done(db.execute(a, acquire("A", 30), at(0)));
    begin(&mut db, a, at(1));
    assert_eq!(db.execute(a, acquire("A", 30), at(2)).code(), Some("23505"));
    let release = Delete::from("distributed_locks").filter(mine("A"));
    assert_eq!(db.execute(a, release.clone(), at(3)).code(), Some("25P02"));
    done(db.execute(a, Stmt::Rollback, at(4)));
    assert_eq!(
        holder(&db),
        Some(Value::from("A")),
        "still locked after ROLLBACK"
    );
    assert_eq!(db.execute(b, acquire("B", 30), at(5)).code(), Some("23505"));
    assert_eq!(db.execute(a, release, at(6)).count(), Some(1));
}

#[test]
fn rule_9_2_23_lock_timeout_bounds_a_wait_and_deadlocks_are_broken() {
    let (mut db, a, b) = setup();
    done(db.execute(a, Stmt::advisory_lock(1), at(0)));
    done(db.execute(b, Stmt::set(Setting::LockTimeout, 200), at(0)));
    assert!(db.execute(b, Stmt::advisory_lock(1), at(10)).is_blocked());
    assert_eq!(db.resume(b, at(210)).code(), Some("55P03"));
    // Without a timeout, a cycle of waits still ends: the deadlock check breaks it.
    done(db.execute(b, Stmt::set(Setting::LockTimeout, 0), at(300)));
    done(db.execute(b, Stmt::advisory_lock(2), at(300)));
    assert!(db.execute(b, Stmt::advisory_lock(1), at(310)).is_blocked());
    assert!(db.execute(a, Stmt::advisory_lock(2), at(320)).is_blocked());
    assert_eq!(db.resume(b, at(1310)).code(), Some("40P01"));
}

#[test]
fn rule_9_2_24_same_order_waits_opposite_order_deadlocks() {
    for opposite in [false, true] {
        let (mut db, a, b) = setup();
        for name in ["r1", "r2"] {
            done(db.execute(
                a,
                Insert::into("distributed_locks").value("lock_name", name),
                at(0),
            ));
        }
        let lock = |n: &str| {
            Select::from("distributed_locks")
                .filter(col("lock_name").eq(n))
                .for_update()
        };
        begin(&mut db, a, at(1));
        begin(&mut db, b, at(1));
        let (b1, b2) = if opposite { ("r2", "r1") } else { ("r1", "r2") };
        done(db.execute(a, lock("r1"), at(2)));
        let first_b = db.execute(b, lock(b1), at(3));
        assert!(db.execute(a, lock("r2"), at(4)).is_blocked() == opposite);
        if opposite {
            assert_eq!(first_b.count(), Some(1));
            assert!(db.execute(b, lock(b2), at(5)).is_blocked());
            assert_eq!(db.resume(a, at(1004)).code(), Some("40P01"));
        } else {
            assert!(
                first_b.is_blocked(),
                "B waits at its first lock, holding nothing"
            );
            done(db.execute(a, Stmt::Commit, at(5)));
            assert_eq!(db.resume(b, at(6)).count(), Some(1));
            assert_eq!(db.execute(b, lock(b2), at(7)).count(), Some(1));
        }
    }
}

#[test]
fn rule_9_2_25_crashed_holders_lock_row_stays_until_expiry_advisory_goes_at_once() {
    let (mut db, a, b) = setup();
    done(db.execute(a, acquire("A", 2), at(0)));
    done(db.execute(a, Stmt::try_advisory_lock(9), at(0)));
    db.close(a, at(100));
    assert_eq!(
        db.execute(b, Stmt::try_advisory_lock(9), at(101)).bool(),
        Some(true)
    );
    let purge = Delete::from("distributed_locks").filter(col("expires_at").lt(now()));
    assert_eq!(db.execute(b, purge.clone(), at(1000)).count(), Some(0));
    assert_eq!(
        db.execute(b, acquire("B", 2), at(1001)).code(),
        Some("23505")
    );
    assert_eq!(db.execute(b, purge, at(2001)).count(), Some(1));
    assert_eq!(db.execute(b, acquire("B", 2), at(2002)).count(), Some(1));
}

#[test]
fn rule_9_2_26_a_restart_silently_drops_advisory_locks() {
    let (mut db, a, _) = setup();
    assert_eq!(
        db.execute(a, Stmt::try_advisory_lock(1), at(0)).bool(),
        Some(true)
    );
    db.restart();
    let b = db.connect();
    assert_eq!(
        db.execute(b, Stmt::try_advisory_lock(1), at(10)).bool(),
        Some(true),
        "B gets the lock A still believes it holds"
    );
    assert_eq!(
        db.execute(a, Stmt::advisory_unlock(1), at(20)).code(),
        Some("08006")
    );
}

//! Chapter 9's classic defects, found by the checker on the twins (`corpus/schedules/ex-9.*`,
//! scenarios in `models/services/src/ch9_redis.rs` and `ch9_sql.rs`), shown on the real
//! servers: Redis at 127.0.0.1:6379 (database 15, keys `ref:ch9:<test>:<pid>:…`) and
//! PostgreSQL at 127.0.0.1:5432 (database `test`, tables `lp_ch9_<test>_<pid>`).
//!
//! Each test runs the tutorial's flawed pattern as the tutorial writes it (the commands and
//! statements are its own; TTLs are scaled down with their ratios kept) and injects the fault
//! the checker's counterexample needs. The faults are made of real time: a holder that
//! sleeps past its TTL IS the process pause of the counterexample (a GC pause, a SIGSTOP: the
//! server cannot tell them apart), a watchdog thread that sleeps past the TTL is the paused
//! watchdog, and a client clock read with an offset is a skewed client clock. Where the
//! interleaving is forced by those waits the failure shows on the first try (one try, said
//! per test); where it depends on where a wall-clock second falls, a bounded number of tries
//! is allowed and the test asserts that at least one showed the failure.

use postgres::{Client, NoTls};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

const REDIS: &str = "redis://127.0.0.1:6379/15";
const PG: &str = "host=127.0.0.1 port=5432 user=postgres dbname=test connect_timeout=5";

fn redis_con() -> redis::Connection {
    let c = redis::Client::open(REDIS)
        .expect("url")
        .get_connection_with_timeout(Duration::from_secs(2))
        .unwrap_or_else(|e| panic!("Redis at 127.0.0.1:6379 unreachable: {e}"));
    c.set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    c
}

fn pg() -> Client {
    Client::connect(PG, NoTls)
        .unwrap_or_else(|e| panic!("PostgreSQL at 127.0.0.1:5432 unreachable: {e}"))
}

fn key(test: &str, name: &str) -> String {
    format!("ref:ch9:{test}:{}:{name}", std::process::id())
}

fn del(con: &mut redis::Connection, keys: &[&str]) {
    let _: i64 = redis::cmd("DEL").arg(keys).query(con).expect("DEL");
}

/// `SET k v NX PX ms`: whether it was granted.
fn set_nx_px(con: &mut redis::Connection, k: &str, v: &str, ms: u64) -> bool {
    let r: Option<String> = redis::cmd("SET")
        .arg(k)
        .arg(v)
        .arg("NX")
        .arg("PX")
        .arg(ms)
        .query(con)
        .expect("SET NX PX");
    r.is_some()
}

fn get(con: &mut redis::Connection, k: &str) -> Option<String> {
    redis::cmd("GET").arg(k).query(con).expect("GET")
}

/// ex-9.1-01-plain-del (only-owner-releases): the lock is `SET NX` with a TTL and released by
/// a plain `DEL`. A holds it (TTL 200 ms), is paused 400 ms — the pause is the fault — while
/// B's `SET NX` is granted once A's key expired; A resumes and releases with `DEL`, which
/// deletes B's lock; C is then granted the lock B still believes it holds.
/// One try: the pause exceeds the TTL by construction, so the interleaving is forced.
#[test]
fn plain_del_after_a_pause_deletes_the_next_holders_lock() {
    let k = key("plain-del", "lock");
    let (mut a, mut b, mut c) = (redis_con(), redis_con(), redis_con());
    del(&mut a, &[&k]);
    assert!(set_nx_px(&mut a, &k, "A", 200), "A acquires");
    std::thread::sleep(Duration::from_millis(400)); // A is paused past its TTL.
    let t_b = Instant::now();
    assert!(
        set_nx_px(&mut b, &k, "B", 10_000),
        "B acquires once A's key expired"
    );
    let deleted: i64 = redis::cmd("DEL").arg(&k).query(&mut a).expect("A's DEL");
    assert_eq!(deleted, 1, "A's plain DEL deleted a key: B's");
    assert!(set_nx_px(&mut c, &k, "C", 10_000), "C acquires B's lock");
    assert!(
        t_b.elapsed() < Duration::from_secs(10),
        "B's 10 s lease is still running: B and C both hold the lock"
    );
    assert_eq!(get(&mut b, &k).as_deref(), Some("C"));
    del(&mut a, &[&k]);
}

/// `RedisReentrantLock._try_acquire`'s script (ex-9.1-02), KEYS = lock, count, expire keys;
/// ARGV = identifier, timeout (s), current_time (whole seconds, `int(time.time())`).
const REENTRANT_ACQUIRE: &str = "local existing_identifier = redis.call('GET', KEYS[1]) \
    if existing_identifier == ARGV[1] then redis.call('HINCRBY', KEYS[2], ARGV[1], 1) \
    redis.call('EXPIRE', KEYS[1], ARGV[2]) redis.call('EXPIRE', KEYS[2], ARGV[2]) return 1 \
    elseif not existing_identifier then redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2]) \
    redis.call('HSET', KEYS[2], ARGV[1], 1) redis.call('EXPIRE', KEYS[2], ARGV[2]) \
    redis.call('SET', KEYS[3], tonumber(ARGV[3]) + tonumber(ARGV[2]), 'EX', ARGV[2]) return 1 \
    else return 0 end";

/// `_renewal_worker`'s script: the identifier is passed and never compared. KEYS = lock,
/// expire keys; ARGV = identifier, timeout, current_time.
const REENTRANT_RENEW: &str = "local expire_time = tonumber(redis.call('GET', KEYS[2])) \
    local timeout = tonumber(ARGV[2]) local current_time = tonumber(ARGV[3]) \
    if expire_time and expire_time - current_time < timeout / 2 then \
    redis.call('EXPIRE', KEYS[1], timeout) redis.call('EXPIRE', KEYS[1] .. ':count', timeout) \
    redis.call('SET', KEYS[2], current_time + timeout, 'EX', timeout) return 1 end return 0";

fn unix_now() -> Duration {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
}

/// ex-9.1-02-watchdog (only-owner-renews): `RedisReentrantLock` with its renewal watchdog
/// (timeout 2 s, the watchdog checking every 0.1 s; the tutorial's 30 s and 10 s scaled).
/// A acquires; A's watchdog is paused 2.5 s — the fault; B acquires after A's key expired,
/// without a watchdog of its own, so its lock must be gone 2 s later. A's watchdog resumes
/// and its renewal script, which never compares the identifier, extends B's lock: 2.6 s
/// after B's grant B's key is still there.
///
/// The renewal fires only once `int(time.time())` has reached B's recorded expiry second
/// while B's key still lives, a window of (B's grant time mod 1 s); A acquires at a half
/// second so the window is ≈0.5 s wide against the watchdog's 0.1 s period. Up to 3 tries
/// (≈5 s each); the test asserts that at least one showed B's lock extended by A.
#[test]
fn watchdog_renewal_without_owner_check_extends_another_clients_lock() {
    const TRIES: u32 = 3;
    let mut shown = 0;
    for t in 0..TRIES {
        let lock = key("watchdog", &format!("{t}"));
        let (count, expire) = (format!("{lock}:count"), format!("{lock}:expire"));
        let mut a = redis_con();
        del(&mut a, &[&lock, &count, &expire]);
        // Align A's grant to a half second of the wall clock (the scripts use whole seconds).
        let frac = unix_now().subsec_millis();
        std::thread::sleep(Duration::from_millis(u64::from((1500 - frac) % 1000)));
        let acquire = |con: &mut redis::Connection, who: &str| -> i64 {
            redis::cmd("EVAL")
                .arg(REENTRANT_ACQUIRE)
                .arg(3)
                .arg(&lock)
                .arg(&count)
                .arg(&expire)
                .arg(who)
                .arg(2)
                .arg(unix_now().as_secs())
                .query(con)
                .expect("acquire script")
        };
        assert_eq!(acquire(&mut a, "A"), 1, "A acquires");
        let stop = Arc::new(AtomicBool::new(false));
        let renewed = Arc::new(AtomicU32::new(0));
        let watchdog = {
            let (stop, renewed) = (stop.clone(), renewed.clone());
            let (lock, expire) = (lock.clone(), expire.clone());
            std::thread::spawn(move || {
                let mut con = redis_con();
                std::thread::sleep(Duration::from_millis(2500)); // The watchdog is paused.
                while !stop.load(Ordering::Relaxed) {
                    let r: i64 = redis::cmd("EVAL")
                        .arg(REENTRANT_RENEW)
                        .arg(2)
                        .arg(&lock)
                        .arg(&expire)
                        .arg("A")
                        .arg(2)
                        .arg(unix_now().as_secs())
                        .query(&mut con)
                        .expect("renewal script");
                    if r == 1 {
                        renewed.fetch_add(1, Ordering::Relaxed);
                    }
                    std::thread::sleep(Duration::from_millis(100));
                }
            })
        };
        let mut b = redis_con();
        let start = Instant::now();
        let granted = loop {
            if acquire(&mut b, "B") == 1 {
                break Some(Instant::now());
            }
            if start.elapsed() > Duration::from_secs(5) {
                break None;
            }
            std::thread::sleep(Duration::from_millis(10));
        };
        let granted = granted.expect("B acquires within 5 s, once A's 2 s key expired");
        // B's own lock must be gone 2 s after its grant: wait 2.6 s of real time (the check).
        std::thread::sleep(Duration::from_millis(2600).saturating_sub(granted.elapsed()));
        let holder = get(&mut b, &lock);
        stop.store(true, Ordering::Relaxed);
        watchdog.join().expect("watchdog");
        del(&mut b, &[&lock, &count, &expire]);
        if holder.as_deref() == Some("B") && renewed.load(Ordering::Relaxed) > 0 {
            println!(
                "B's lock extended by A's watchdog on try {} of {TRIES}",
                t + 1
            );
            shown += 1;
            break;
        }
    }
    assert!(
        shown > 0,
        "A's watchdog never extended B's lock in {TRIES} tries"
    );
}

/// The tutorial's `distributed_locks` table (ex-9.2-01) and an unfenced ledger of writes.
struct LockTable {
    db: Client,
    locks: String,
    ledger: String,
}

impl LockTable {
    fn new(test: &str) -> LockTable {
        let mut db = pg();
        let locks = format!("lp_ch9_{test}_{}_locks", std::process::id());
        let ledger = format!("lp_ch9_{test}_{}_ledger", std::process::id());
        db.batch_execute(&format!(
            "DROP TABLE IF EXISTS {locks}, {ledger}; \
             CREATE TABLE {locks} (lock_name text PRIMARY KEY, identifier text, \
             thread_id text, acquire_count int, expires_at timestamptz, created_at timestamptz); \
             CREATE TABLE {ledger} (n serial, writer text, at timestamptz DEFAULT clock_timestamp())"
        ))
        .expect("tables");
        LockTable { db, locks, ledger }
    }

    /// `DatabaseLock._try_acquire` as written, with `datetime.now()` the client's clock
    /// (`skew` ahead of this machine's).
    fn try_acquire(&mut self, con: &mut Client, who: &str, ttl: Duration, skew: Duration) -> bool {
        let now = SystemTime::now() + skew;
        let ins = format!(
            "INSERT INTO {} (lock_name, identifier, expires_at, created_at) VALUES ('job', $1, $2, $3)",
            self.locks
        );
        match con.execute(&ins, &[&who, &(now + ttl), &now]) {
            Ok(_) => return true,
            Err(e) if e.code() == Some(&postgres::error::SqlState::UNIQUE_VIOLATION) => {}
            Err(e) => panic!("insert: {e}"),
        }
        let row = con
            .query_opt(
                &format!(
                    "SELECT identifier, expires_at FROM {} WHERE lock_name = 'job' LIMIT 1",
                    self.locks
                ),
                &[],
            )
            .expect("select");
        let Some(row) = row else { return false };
        let (old, expires): (String, SystemTime) = (row.get(0), row.get(1));
        if expires < now {
            let n = con
                .execute(
                    &format!(
                        "DELETE FROM {} WHERE lock_name = 'job' AND identifier = $1",
                        self.locks
                    ),
                    &[&old],
                )
                .expect("delete");
            if n > 0 {
                return con.execute(&ins, &[&who, &(now + ttl), &now]).is_ok();
            }
        }
        false
    }

    fn extend(&mut self, con: &mut Client, who: &str, add: Duration) -> u64 {
        con.execute(
            &format!(
                "UPDATE {} SET expires_at = $2 WHERE lock_name = 'job' AND identifier = $1",
                self.locks
            ),
            &[&who, &(SystemTime::now() + add)],
        )
        .expect("extend")
    }

    fn write(&mut self, con: &mut Client, who: &str) {
        con.execute(
            &format!("INSERT INTO {} (writer) VALUES ($1)", self.ledger),
            &[&who],
        )
        .expect("ledger write");
    }

    fn ledger(&mut self) -> Vec<String> {
        self.db
            .query(
                &format!("SELECT writer FROM {} ORDER BY n", self.ledger),
                &[],
            )
            .expect("ledger")
            .iter()
            .map(|r| r.get(0))
            .collect()
    }

    fn holder(&mut self) -> Option<String> {
        self.db
            .query_opt(
                &format!(
                    "SELECT identifier FROM {} WHERE lock_name = 'job'",
                    self.locks
                ),
                &[],
            )
            .expect("holder")
            .map(|r| r.get(0))
    }
}

impl Drop for LockTable {
    fn drop(&mut self) {
        let _ = self.db.batch_execute(&format!(
            "DROP TABLE IF EXISTS {}, {}",
            self.locks, self.ledger
        ));
    }
}

/// ex-9.2-01-pause (mutual-exclusion): the lock table without fencing. X holds the row
/// (TTL 300 ms) and writes; X is paused 500 ms — the fault; B finds the row expired, deletes
/// it by X's identifier and inserts its own; B writes; X resumes, still believing it holds the
/// lock, and writes: the unfenced ledger accepts both holders' writes in the same lease of B.
/// One try: the pause exceeds the TTL by construction.
#[test]
fn lock_table_without_fencing_two_writers_after_a_pause() {
    let mut t = LockTable::new("pause");
    let (mut x, mut b) = (pg(), pg());
    let ttl = Duration::from_millis(300);
    assert!(
        t.try_acquire(&mut x, "X", ttl, Duration::ZERO),
        "X acquires"
    );
    t.write(&mut x, "X");
    std::thread::sleep(Duration::from_millis(500)); // X is paused past its TTL.
    assert!(
        t.try_acquire(&mut b, "B", Duration::from_secs(30), Duration::ZERO),
        "B takes the expired row over"
    );
    t.write(&mut b, "B");
    t.write(&mut x, "X"); // X's write inside B's lease: nothing stops it.
    assert_eq!(
        t.ledger(),
        ["X", "B", "X"],
        "two writers while B held the lock"
    );
    assert_eq!(t.holder().as_deref(), Some("B"));
    assert_eq!(
        t.extend(&mut x, "X", ttl),
        0,
        "X learns it lost the lock only now"
    );
}

/// ex-9.2-01-clock-skew (mutual-exclusion): B's clock runs 2 s ahead. X's row (TTL 1 s by
/// X's clock) is live, but B judges `expires_at < datetime.now()` by its own clock, deletes it
/// by X's identifier and inserts its own: B takes over a live lock at once, and X's next
/// `extend` finds no row. One try: the skew exceeds the TTL by construction.
#[test]
fn lock_table_clock_skew_takes_over_a_live_lock() {
    let mut t = LockTable::new("skew");
    let (mut x, mut b) = (pg(), pg());
    let ttl = Duration::from_secs(1);
    let t0 = Instant::now();
    assert!(
        t.try_acquire(&mut x, "X", ttl, Duration::ZERO),
        "X acquires"
    );
    assert!(
        t.try_acquire(&mut b, "B", ttl, Duration::from_secs(2)),
        "B, its clock 2 s ahead, takes X's row over"
    );
    assert!(t0.elapsed() < ttl, "X's lease had not expired in true time");
    t.write(&mut x, "X");
    t.write(&mut b, "B");
    assert_eq!(t.ledger(), ["X", "B"]);
    assert_eq!(t.holder().as_deref(), Some("B"));
    assert_eq!(t.extend(&mut x, "X", ttl), 0, "X's renewal finds B's row");
}

/// ex-9.1-04 (no-double-execution): `schedule_task("cleanup_task", interval, max_executions=2)`
/// on two nodes, each looping `with lock:` → read `task_count` → run the task → `INCR` →
/// release → sleep the interval. The lock (`SET NX EX` with the node's identifier, a polling
/// `__enter__`, a compare-and-delete release) serialises the two nodes but does not
/// deduplicate: the second node, waiting in `__enter__` while the first runs, gets the lock as
/// soon as it is released, reads a count below the maximum and runs the task again, well
/// inside the interval. Scaled: task 100 ms, interval 1 s. One try: the second node starts
/// waiting once the first holds the lock, so the interleaving is forced (the test would miss
/// the double run only if the machine stalled the second node for a whole interval).
#[test]
fn a_lock_serialises_a_scheduled_task_but_does_not_deduplicate_it() {
    const TASK: Duration = Duration::from_millis(100);
    const INTERVAL: Duration = Duration::from_secs(1);
    let (lock, count) = (key("task", "lock"), key("task", "count"));
    del(&mut redis_con(), &[&lock, &count]);
    let runs = Arc::new(std::sync::Mutex::new(Vec::<(u32, Instant)>::new()));
    let first_holds = Arc::new(std::sync::Barrier::new(2));
    let node = |id: u32| {
        let (lock, count, runs, first_holds) = (
            lock.clone(),
            count.clone(),
            runs.clone(),
            first_holds.clone(),
        );
        std::thread::spawn(move || {
            let mut con = redis_con();
            let me = format!("node-{id}");
            let mut first_round = true;
            loop {
                if id == 2 && first_round {
                    first_holds.wait(); // node 1 holds the lock: now wait in __enter__.
                }
                // __enter__: acquire(blocking) polls SET NX until granted (bounded here).
                let end = Instant::now() + Duration::from_secs(5);
                while !set_nx_px(&mut con, &lock, &me, 5_000) {
                    assert!(Instant::now() < end, "{me} waited 5 s for the lock");
                    std::thread::sleep(Duration::from_millis(1));
                }
                if id == 1 && first_round {
                    first_holds.wait();
                }
                first_round = false;
                let n: Option<u32> = redis::cmd("GET").arg(&count).query(&mut con).expect("GET");
                if n.unwrap_or(0) >= 2 {
                    release(&mut con, &lock, &me);
                    return;
                }
                runs.lock().unwrap().push((id, Instant::now()));
                std::thread::sleep(TASK); // task_func runs
                let _: i64 = redis::cmd("INCR")
                    .arg(&count)
                    .query(&mut con)
                    .expect("INCR");
                release(&mut con, &lock, &me);
                std::thread::sleep(INTERVAL);
            }
        })
    };
    let (n1, n2) = (node(1), node(2));
    n1.join().expect("node 1");
    n2.join().expect("node 2");
    del(&mut redis_con(), &[&lock, &count]);
    let runs = runs.lock().unwrap().clone();
    assert_eq!(
        runs.iter().map(|r| r.0).collect::<Vec<_>>(),
        [1, 2],
        "each node ran the task once"
    );
    let gap = runs[1].1 - runs[0].1;
    assert!(
        gap < INTERVAL,
        "the second run came {gap:?} after the first, inside the {INTERVAL:?} interval: the \
         task ran twice in one interval"
    );
}

/// The tutorial's release: delete the key only if it still holds our identifier.
fn release(con: &mut redis::Connection, lock: &str, me: &str) {
    let _: i64 = redis::Script::new(
        "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end",
    )
    .key(lock)
    .arg(me)
    .invoke(con)
    .expect("release script");
}

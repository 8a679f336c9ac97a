//! Lock+unlock round trips of this crate's real clients against the tutorial's Python
//! libraries, on the same servers in one run: [`RedisLock`] vs redis-py's `Lock`, and
//! [`AdvisoryLock`] vs psycopg 3 calling `pg_try_advisory_lock` / `pg_advisory_unlock`.
//!
//! Run by `ci/bench_clients.sh`, which makes the Python venv (`redis`, `psycopg[binary]`) and
//! passes its interpreter in `LOCKPROOF_CLIENTS_PYTHON`. Servers: Redis 127.0.0.1:6379
//! (database 15) and PostgreSQL 127.0.0.1:5432 (database `test`). Each side does the same
//! number of warm-up and timed uncontended acquire + release pairs; Python times itself with
//! `time.perf_counter`, the Rust side with `Instant`.

use lockproof_distributed::pg_lock::AdvisoryLock;
use lockproof_distributed::redis_lock::RedisLock;
use std::process::Command;
use std::time::{Duration, Instant};

const WARMUP: u32 = 200;
const ROUNDS: u32 = 2000;
const REDIS: &str = "redis://127.0.0.1:6379/15";
const PG: &str = "host=127.0.0.1 port=5432 user=postgres dbname=test connect_timeout=5";

const PYTHON: &str = r#"
import sys, time
import redis, psycopg
warmup, rounds = int(sys.argv[1]), int(sys.argv[2])
def timed(one):
    for _ in range(warmup):
        one()
    t0 = time.perf_counter()
    for _ in range(rounds):
        one()
    return (time.perf_counter() - t0) / rounds * 1e6
r = redis.Redis(host="127.0.0.1", port=6379, db=15)
lock = r.lock("ref:bench:redis-py", timeout=10)
def redis_round():
    assert lock.acquire(blocking=False)
    lock.release()
print("redis_py_us %.1f" % timed(redis_round))
con = psycopg.connect("host=127.0.0.1 port=5432 user=postgres dbname=test", autocommit=True)
cur = con.cursor()
def pg_round():
    cur.execute("SELECT pg_try_advisory_lock(%s)", (917_002,))
    assert cur.fetchone()[0]
    cur.execute("SELECT pg_advisory_unlock(%s)", (917_002,))
    assert cur.fetchone()[0]
print("psycopg_us %.1f" % timed(pg_round))
"#;

/// Mean µs per call of `one` after the warm-up.
fn timed(mut one: impl FnMut()) -> f64 {
    for _ in 0..WARMUP {
        one();
    }
    let t0 = Instant::now();
    for _ in 0..ROUNDS {
        one();
    }
    t0.elapsed().as_secs_f64() / f64::from(ROUNDS) * 1e6
}

fn main() {
    let mut redis_lock = RedisLock::connect(REDIS, "ref:bench:rust", Duration::from_secs(10))
        .unwrap_or_else(|e| panic!("{e}"));
    let redis_us = timed(|| {
        let g = redis_lock
            .try_acquire()
            .expect("acquire")
            .expect("uncontended");
        redis_lock.release(&g).expect("release");
    });
    let mut advisory =
        AdvisoryLock::connect(PG, 917_001, "lp_bench_tokens").unwrap_or_else(|e| panic!("{e}"));
    let advisory_us = timed(|| {
        advisory
            .try_acquire()
            .expect("acquire")
            .expect("uncontended");
        advisory.release().expect("release");
    });
    // The same two statements psycopg sends, on the `postgres` crate, without the token.
    let mut bare = postgres::Client::connect(PG, postgres::NoTls).unwrap_or_else(|e| panic!("{e}"));
    let bare_us = timed(|| {
        let got: bool = bare
            .query_one("SELECT pg_try_advisory_lock($1)", &[&917_003_i64])
            .expect("try")
            .get(0);
        assert!(got);
        let released: bool = bare
            .query_one("SELECT pg_advisory_unlock($1)", &[&917_003_i64])
            .expect("unlock")
            .get(0);
        assert!(released);
    });

    // Leave nothing behind: the token sequence and counter made by the runs above.
    bare.batch_execute("DROP SEQUENCE IF EXISTS lp_bench_tokens")
        .expect("drop the token sequence");
    let mut con = redis::Client::open(REDIS)
        .and_then(|c| c.get_connection())
        .unwrap_or_else(|e| panic!("{e}"));
    let _: i64 = redis::cmd("DEL")
        .arg(&["ref:bench:rust", "ref:bench:rust:token"])
        .query(&mut con)
        .expect("DEL");

    let python = std::env::var("LOCKPROOF_CLIENTS_PYTHON")
        .unwrap_or_else(|_| "/tmp/lockproof-clients-venv/bin/python".to_string());
    let out = Command::new(&python)
        .args(["-c", PYTHON, &WARMUP.to_string(), &ROUNDS.to_string()])
        .output()
        .unwrap_or_else(|e| panic!("{python} could not be run ({e}): run ci/bench_clients.sh"));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let value = |tag: &str| -> f64 {
        stdout
            .lines()
            .find_map(|l| l.strip_prefix(tag))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or_else(|| {
                panic!(
                    "the Python run failed: {} {}",
                    stdout.trim(),
                    String::from_utf8_lossy(&out.stderr).trim()
                )
            })
    };
    let (redis_py_us, psycopg_us) = (value("redis_py_us "), value("psycopg_us "));
    println!("{ROUNDS} timed rounds after {WARMUP} warm-up rounds, each side");
    println!("RedisLock lock+unlock: {redis_us:.1} µs");
    println!("redis-py Lock lock+unlock: {redis_py_us:.1} µs");
    println!("ratio redis-py / RedisLock: {:.2}", redis_py_us / redis_us);
    println!("AdvisoryLock lock+unlock (with its token): {advisory_us:.1} µs");
    println!("postgres crate try+unlock, no token: {bare_us:.1} µs");
    println!("psycopg try+unlock: {psycopg_us:.1} µs");
    println!(
        "ratio psycopg / AdvisoryLock: {:.2}",
        psycopg_us / advisory_us
    );
    println!("ratio psycopg / bare postgres: {:.2}", psycopg_us / bare_us);
}

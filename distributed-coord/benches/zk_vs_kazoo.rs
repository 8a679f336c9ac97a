//! Lock+unlock round trips of [`ZkLock`] against kazoo's `Lock` (the tutorial's Python
//! client), on one private ZooKeeper server (`testing::ZkServer`), in one run: the ratio.
//!
//! Run: `python3 -m venv /tmp/lockproof-kazoo-venv && /tmp/lockproof-kazoo-venv/bin/pip
//! install kazoo`, then `cargo bench -p lockproof-distributed-coord --bench zk_vs_kazoo`
//! (`LOCKPROOF_KAZOO_PYTHON` names another interpreter). kazoo is timed by Python itself with
//! `time.perf_counter`, the Rust side with `Instant`; both do the same number of uncontended
//! `acquire()` + `release()` pairs after the same warm-up.

use lockproof_distributed_coord::testing::ZkServer;
use lockproof_distributed_coord::zk_lock::ZkLock;
use std::process::Command;
use std::time::{Duration, Instant};

const WARMUP: u32 = 50;
const ROUNDS: u32 = 500;

const KAZOO: &str = r#"
import sys, time
from kazoo.client import KazooClient
hosts, warmup, rounds = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
zk = KazooClient(hosts=hosts, timeout=10.0)
zk.start(timeout=10)
lock = zk.Lock("/bench/kazoo", "bench")
for _ in range(warmup):
    lock.acquire(); lock.release()
t0 = time.perf_counter()
for _ in range(rounds):
    lock.acquire(); lock.release()
t1 = time.perf_counter()
zk.stop(); zk.close()
print("per_op_us %.1f" % ((t1 - t0) / rounds * 1e6))
"#;

fn main() {
    let zk = ZkServer::start().unwrap_or_else(|e| panic!("{e}"));
    let mut lock = ZkLock::connect(&zk.connect_string(), "/bench/rust", Duration::from_secs(10))
        .unwrap_or_else(|e| panic!("{e}"));
    let round = |lock: &mut ZkLock| {
        let g = lock
            .acquire(Duration::from_secs(5))
            .expect("acquire")
            .expect("uncontended");
        lock.release(&g).expect("release");
    };
    for _ in 0..WARMUP {
        round(&mut lock);
    }
    let t0 = Instant::now();
    for _ in 0..ROUNDS {
        round(&mut lock);
    }
    let rust_us = t0.elapsed().as_secs_f64() / f64::from(ROUNDS) * 1e6;

    let python = std::env::var("LOCKPROOF_KAZOO_PYTHON")
        .unwrap_or_else(|_| "/tmp/lockproof-kazoo-venv/bin/python".to_string());
    let out = Command::new(&python)
        .args(["-c", KAZOO, &zk.connect_string()])
        .args([WARMUP.to_string(), ROUNDS.to_string()])
        .output()
        .unwrap_or_else(|e| panic!("{python} could not be run ({e}): install kazoo in a venv"));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let kazoo_us: f64 = stdout
        .lines()
        .find_map(|l| l.strip_prefix("per_op_us "))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| {
            panic!(
                "kazoo run failed: {} {}",
                stdout.trim(),
                String::from_utf8_lossy(&out.stderr).trim()
            )
        });
    println!("ZkLock lock+unlock: {rust_us:.1} µs per round trip ({ROUNDS} rounds)");
    println!("kazoo Lock lock+unlock: {kazoo_us:.1} µs per round trip ({ROUNDS} rounds)");
    println!("ratio kazoo / ZkLock: {:.2}", kazoo_us / rust_us);
}

//! A lock holder in its own process, for the real-fault tests (`tests/redis_lock.rs`).
//!
//! Arguments: redis-url postgres-params key ttl-ms fence-table. It takes the Redis lock,
//! prints `token N`, waits for a line on stdin, then tries to extend the lock and to write
//! the fenced cell `cell` with its token, printing `extend …` and `write …`.

use lockproof_distributed::fence::FencedStore;
use lockproof_distributed::redis_lock::RedisLock;
use std::io::Write;
use std::time::Duration;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [redis, pg, key, ttl, table] = args.as_slice() else {
        eprintln!("usage: lock-child redis-url postgres-params key ttl-ms fence-table");
        std::process::exit(2);
    };
    let ttl = Duration::from_millis(ttl.parse().expect("ttl-ms"));
    let mut lock = RedisLock::connect(redis, key, ttl).unwrap_or_else(|e| fail(&e));
    let mut store = FencedStore::open(pg, table).unwrap_or_else(|e| fail(&e));
    let g = match lock.try_acquire() {
        Ok(Some(g)) => g,
        Ok(None) => fail(&"the lock is held"),
        Err(e) => fail(&e),
    };
    println!("token {}", g.token);
    std::io::stdout().flush().expect("stdout");
    let mut line = String::new();
    std::io::stdin().read_line(&mut line).expect("stdin");
    println!("extend {:?}", lock.extend(&g));
    let w = store
        .write("cell", g.token as i64, "from the child")
        .unwrap_or_else(|e| fail(&e));
    println!("write {w:?}");
}

fn fail(e: &dyn std::fmt::Display) -> ! {
    eprintln!("lock-child: {e}");
    std::process::exit(1);
}

//! A lock holder in its own process, for the real-fault tests (`tests/zk_lock.rs`,
//! `tests/etcd_lock.rs`): SIGSTOP past the session timeout or lease TTL, SIGKILL.
//!
//! Arguments: `zk|etcd server lock-path ttl-ms postgres-params fence-table`. It takes the lock
//! (waiting at most 30 s), prints `token N` and `owner ID` (session id or lease id), waits for
//! a line on stdin, then — believing it still holds the lock — writes the fenced cell `cell`
//! with its token and prints `write …`, checks the lock and prints `check …`, and exits.

use lockproof_distributed::fence::FencedStore;
use lockproof_distributed::LockError;
use lockproof_distributed_coord::etcd_lock::EtcdLock;
use lockproof_distributed_coord::zk_lock::ZkLock;
use std::io::Write;
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(30);

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [kind, server, path, ttl, pg, table] = args.as_slice() else {
        fail(&"usage: coord-child zk|etcd server lock-path ttl-ms postgres-params fence-table");
    };
    let ttl = Duration::from_millis(ttl.parse().unwrap_or_else(|_| fail(&"ttl-ms")));
    let mut store = FencedStore::open(pg, table).unwrap_or_else(|e| fail(&e));
    match kind.as_str() {
        "zk" => {
            let mut lock = ZkLock::connect(server, path, ttl).unwrap_or_else(|e| fail(&e));
            let g = held(lock.acquire(WAIT));
            say(&format!("token {}", g.token));
            say(&format!("owner {}", g.session));
            pause();
            write(&mut store, g.token);
            say(&format!("check {:?}", lock.check(&g)));
            say(&format!("ended {}", lock.session_ended()));
        }
        "etcd" => {
            let mut lock = EtcdLock::connect(server, path, ttl).unwrap_or_else(|e| fail(&e));
            let g = held(lock.acquire(WAIT));
            say(&format!("token {}", g.token));
            say(&format!("owner {}", g.lease));
            pause();
            write(&mut store, g.token);
            say(&format!("check {:?}", lock.check(&g)));
        }
        other => fail(&format!("unknown lock kind {other:?}")),
    }
}

fn held<G>(r: Result<Option<G>, LockError>) -> G {
    match r {
        Ok(Some(g)) => g,
        Ok(None) => fail(&format!("the lock was not free within {WAIT:?}")),
        Err(e) => fail(&e),
    }
}

fn say(line: &str) {
    println!("{line}");
    std::io::stdout().flush().unwrap_or_else(|e| fail(&e));
}

/// Waits for the parent's go-ahead (a line, or the end of stdin).
fn pause() {
    let mut line = String::new();
    std::io::stdin()
        .read_line(&mut line)
        .unwrap_or_else(|e| fail(&e));
}

fn write(store: &mut FencedStore, token: i64) {
    let w = store
        .write("cell", token, "from the child")
        .unwrap_or_else(|e| fail(&e));
    say(&format!("write {w:?}"));
}

fn fail(e: &dyn std::fmt::Display) -> ! {
    eprintln!("coord-child: {e}");
    std::process::exit(1);
}

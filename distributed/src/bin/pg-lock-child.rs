//! A PostgreSQL lock holder in its own process, for the SIGSTOP tests (`tests/pg_sigstop.rs`).
//!
//! Arguments: `table` postgres-params lock-table name ttl-ms fence-table, or `advisory`
//! postgres-params key token-sequence fence-table. It takes the lock, prints `token N`, waits
//! for a line on stdin, then (table lock) tries to extend it, printing `extend …`, and writes
//! the fenced cell `cell` with its token, printing `write …`.

use lockproof_distributed::fence::FencedStore;
use lockproof_distributed::pg_lock::{AdvisoryLock, TableLock};
use std::io::Write;
use std::time::Duration;

const USAGE: &str = "usage: pg-lock-child table PARAMS LOCK-TABLE NAME TTL-MS FENCE-TABLE | \
                     advisory PARAMS KEY SEQUENCE FENCE-TABLE";

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["table", pg, table, name, ttl, fence] => {
            let ttl = Duration::from_millis(ttl.parse().unwrap_or_else(|_| fail(&USAGE)));
            let mut lock = TableLock::connect(pg, table, name, ttl).unwrap_or_else(|e| fail(&e));
            let mut store = FencedStore::open(pg, fence).unwrap_or_else(|e| fail(&e));
            let g = match lock.try_acquire() {
                Ok(Some(g)) => g,
                Ok(None) => fail(&"the lock is held"),
                Err(e) => fail(&e),
            };
            announce(g.token);
            println!("extend {:?}", lock.extend(&g));
            write(&mut store, g.token);
        }
        ["advisory", pg, key, seq, fence] => {
            let key = key.parse().unwrap_or_else(|_| fail(&USAGE));
            let mut lock = AdvisoryLock::connect(pg, key, seq).unwrap_or_else(|e| fail(&e));
            let mut store = FencedStore::open(pg, fence).unwrap_or_else(|e| fail(&e));
            let token = match lock.try_acquire() {
                Ok(Some(t)) => t,
                Ok(None) => fail(&"the lock is held"),
                Err(e) => fail(&e),
            };
            announce(token);
            write(&mut store, token);
            lock.release().unwrap_or_else(|e| fail(&e));
            println!("released");
        }
        _ => {
            eprintln!("{USAGE}");
            std::process::exit(2);
        }
    }
}

/// Print the token, then wait for the parent's go.
fn announce(token: i64) {
    println!("token {token}");
    std::io::stdout().flush().expect("stdout");
    let mut line = String::new();
    std::io::stdin().read_line(&mut line).expect("stdin");
}

fn write(store: &mut FencedStore, token: i64) {
    let w = store
        .write("cell", token, "from the child")
        .unwrap_or_else(|e| fail(&e));
    println!("write {w:?}");
    std::io::stdout().flush().expect("stdout");
}

fn fail(e: &dyn std::fmt::Display) -> ! {
    eprintln!("pg-lock-child: {e}");
    std::process::exit(1);
}

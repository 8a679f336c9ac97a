//! A PostgreSQL lock holder stopped with SIGSTOP (a long pause: GC, swap, a stopped VM), on the
//! real server (127.0.0.1:5432, database `test`): the lock-table lock expires by the server's
//! clock, another client takes it with a newer token, and the resumed holder's write is
//! refused by the fenced store; an advisory lock never expires, so a stopped holder is never
//! overtaken (and everyone else waits for it).

use lockproof_distributed::fence::{FencedStore, Write};
use lockproof_distributed::pg_lock::{AdvisoryLock, TableLock};
use lockproof_distributed::LockError;
use std::time::Duration;

#[path = "support/child.rs"]
mod child;
mod support;

use child::ChildGuard;
use support::{poll, Cleanup};

const PG: &str = "host=127.0.0.1 port=5432 user=postgres dbname=test connect_timeout=5";
const CHILD: &str = env!("CARGO_BIN_EXE_pg-lock-child");

#[test]
fn table_lock_holder_stopped_past_its_ttl_is_overtaken_and_its_stale_write_fenced_off() {
    let pid = std::process::id();
    let (table, fence) = (
        format!("lp_locks_stop_{pid}"),
        format!("lp_fence_stop_{pid}"),
    );
    let _c = Cleanup {
        pg: PG,
        sql: vec![
            format!("DROP TABLE IF EXISTS {table}"),
            format!("DROP SEQUENCE IF EXISTS {table}_token"),
            format!("DROP TABLE IF EXISTS {fence}"),
        ],
    };
    let mut child = ChildGuard::spawn(CHILD, &["table", PG, &table, "job", "400", &fence]);
    let t1: i64 = child.expect("token").parse().unwrap();
    child.signal(libc::SIGSTOP);
    // The row expires by the server's now(); B takes it over once it has.
    let mut b = TableLock::connect(PG, &table, "job", Duration::from_secs(10)).unwrap();
    let mut gb = None;
    assert!(
        poll(Duration::from_secs(5), || {
            gb = b.try_acquire().unwrap();
            gb.is_some()
        }),
        "the stopped holder's row expired within 5 s"
    );
    let gb = gb.unwrap();
    assert!(gb.token > t1, "B's token {} after {t1}", gb.token);
    let mut store = FencedStore::open(PG, &fence).unwrap();
    assert_eq!(
        store.write("cell", gb.token, "from B").unwrap(),
        Write::Accepted
    );
    child.signal(libc::SIGCONT);
    child.say("go");
    assert_eq!(
        child.expect("extend"),
        format!("{:?}", Err::<(), _>(LockError::NotOwner)),
        "the resumed holder learns it lost the lock only when it asks"
    );
    assert_eq!(
        child.expect("write"),
        format!("{:?}", Write::Rejected { stored: gb.token }),
        "the stale holder's write is rejected by fencing"
    );
    assert_eq!(
        store.read("cell").unwrap(),
        Some((gb.token, "from B".to_string()))
    );
    b.release(&gb).unwrap();
}

#[test]
fn advisory_lock_holder_stopped_is_never_overtaken() {
    let pid = std::process::id();
    let (seq, fence) = (
        format!("lp_adv_stop_seq_{pid}"),
        format!("lp_fence_advstop_{pid}"),
    );
    let _c = Cleanup {
        pg: PG,
        sql: vec![
            format!("DROP SEQUENCE IF EXISTS {seq}"),
            format!("DROP TABLE IF EXISTS {fence}"),
        ],
    };
    let key = (0x4c51_0000_0000 + i64::from(pid)).to_string();
    let mut child = ChildGuard::spawn(CHILD, &["advisory", PG, &key, &seq, &fence]);
    let t1: i64 = child.expect("token").parse().unwrap();
    child.signal(libc::SIGSTOP);
    let mut b = AdvisoryLock::connect(PG, key.parse().unwrap(), &seq).unwrap();
    // A stopped process keeps its session, and an advisory lock lives as long as the session:
    // a bounded wait (the server's lock_timeout) still finds it held.
    assert_eq!(
        b.acquire(Duration::from_millis(800)).unwrap(),
        None,
        "held by the stopped process"
    );
    child.signal(libc::SIGCONT);
    child.say("go");
    assert_eq!(
        child.expect("write"),
        format!("{:?}", Write::Accepted),
        "nobody overtook it: its write is not stale"
    );
    let t2 = b
        .acquire(Duration::from_secs(5))
        .unwrap()
        .expect("free once the resumed holder releases");
    assert!(t2 > t1);
    b.release().unwrap();
}

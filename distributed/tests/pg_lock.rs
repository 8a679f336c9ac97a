//! The real PostgreSQL locks (127.0.0.1:5432, database `test`): advisory and lock-table,
//! with fencing tokens, under threads and a killed holder process. Names and advisory keys
//! carry this process's pid so that parallel runs never meet.

use lockproof_distributed::fence::{FencedStore, Write};
use lockproof_distributed::pg_lock::{AdvisoryLock, TableLock};
use lockproof_distributed::LockError;
use postgres::{Client, NoTls};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

mod support;

use support::{poll, Cleanup};

const PG: &str = "host=127.0.0.1 port=5432 user=postgres dbname=test connect_timeout=5";

fn pid() -> u32 {
    std::process::id()
}

/// An advisory key unique to this process and test.
fn adv_key(n: i64) -> i64 {
    0x4c50_0000_0000 + i64::from(pid()) * 16 + n
}

#[test]
fn advisory_lock_excludes_times_out_and_is_owner_only() {
    let seq = format!("lp_adv_seq_{}", pid());
    let _c = Cleanup {
        pg: PG,
        sql: vec![format!("DROP SEQUENCE IF EXISTS {seq}")],
    };
    let key = adv_key(1);
    let mut a = AdvisoryLock::connect(PG, key, &seq).unwrap();
    let mut b = AdvisoryLock::connect(PG, key, &seq).unwrap();
    let ta = a.try_acquire().unwrap().expect("free");
    assert_eq!(b.try_acquire().unwrap(), None);
    let t0 = Instant::now();
    assert_eq!(b.acquire(Duration::from_millis(200)).unwrap(), None);
    assert!(
        t0.elapsed() >= Duration::from_millis(150),
        "{:?}",
        t0.elapsed()
    );
    assert_eq!(b.release(), Err(LockError::NotOwner));
    a.release().unwrap();
    let tb = b
        .acquire(Duration::from_secs(2))
        .unwrap()
        .expect("free after A");
    assert!(tb > ta);
    b.release().unwrap();
}

/// `psql` holding an advisory lock in its session, killed on drop.
struct Psql(Child);

impl Drop for Psql {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn sigkill_of_an_advisory_holder_frees_the_lock_when_the_server_sees_the_session_end() {
    let seq = format!("lp_adv_kill_seq_{}", pid());
    let _c = Cleanup {
        pg: PG,
        sql: vec![format!("DROP SEQUENCE IF EXISTS {seq}")],
    };
    let key = adv_key(2);
    // psql takes the lock, then sits idle reading its stdin (kept open): the session is idle
    // on the server, as a client between statements is (a backend inside pg_sleep would not
    // notice the closed socket until the sleep ends).
    let mut holder = Psql(
        Command::new("psql")
            .args(["-h", "127.0.0.1", "-U", "postgres", "-d", "test", "-q"])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("psql could not be started: {e}")),
    );
    {
        use std::io::Write as _;
        let stdin = holder.0.stdin.as_mut().unwrap();
        writeln!(stdin, "SELECT pg_advisory_lock({key});").unwrap();
        stdin.flush().unwrap();
    }
    // Observed in pg_locks (a try from B could win the race and would then stack).
    let mut observer = Client::connect(PG, NoTls).unwrap();
    let held = format!(
        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted \
         AND objsubid = 1 AND classid::bigint = {} AND objid::bigint = {}",
        key >> 32,
        key & 0xffff_ffff
    );
    assert!(
        poll(Duration::from_secs(5), || observer
            .query_one(&held, &[])
            .unwrap()
            .get::<_, i64>(0)
            == 1),
        "psql took the lock"
    );
    let mut b = AdvisoryLock::connect(PG, key, &seq).unwrap();
    assert_eq!(b.try_acquire().unwrap(), None, "held by psql");
    // SAFETY: kill(2) on the pid of our own unreaped child.
    assert_eq!(
        unsafe { libc::kill(holder.0.id() as libc::pid_t, libc::SIGKILL) },
        0
    );
    let killed = Instant::now();
    let mut token = None;
    assert!(
        poll(Duration::from_secs(5), || {
            token = b.try_acquire().unwrap();
            token.is_some()
        }),
        "free once the server saw the connection close"
    );
    assert!(
        killed.elapsed() < Duration::from_secs(2),
        "{:?}",
        killed.elapsed()
    );
    b.release().unwrap();
    drop(holder);
}

#[test]
fn table_lock_expires_by_server_time_and_is_owner_only() {
    let table = format!("lp_locks_{}", pid());
    let _c = Cleanup {
        pg: PG,
        sql: vec![
            format!("DROP TABLE IF EXISTS {table}"),
            format!("DROP SEQUENCE IF EXISTS {table}_token"),
        ],
    };
    let mut a = TableLock::connect(PG, &table, "job", Duration::from_millis(300)).unwrap();
    let mut b = TableLock::connect(PG, &table, "job", Duration::from_secs(10)).unwrap();
    let ga = a.try_acquire().unwrap().expect("free");
    assert_eq!(b.try_acquire().unwrap(), None);
    a.extend(&ga).unwrap();
    let mut gb = None;
    assert!(
        poll(Duration::from_secs(3), || {
            gb = b.try_acquire().unwrap();
            gb.is_some()
        }),
        "free once the row expired by the server's now()"
    );
    let gb = gb.unwrap();
    assert!(gb.token > ga.token);
    assert_eq!(a.extend(&ga), Err(LockError::NotOwner));
    assert_eq!(a.release(&ga), Err(LockError::NotOwner));
    b.release(&gb).unwrap();
    assert_eq!(b.extend(&gb), Err(LockError::Lost));
}

#[test]
fn table_lock_mutual_exclusion_with_threads_at_a_fenced_storage() {
    let table = format!("lp_locks_mx_{}", pid());
    let fence = format!("lp_fence_pgmx_{}", pid());
    let _c = Cleanup {
        pg: PG,
        sql: vec![
            format!("DROP TABLE IF EXISTS {table}"),
            format!("DROP SEQUENCE IF EXISTS {table}_token"),
            format!("DROP TABLE IF EXISTS {fence}"),
        ],
    };
    let inside = Arc::new(AtomicBool::new(false));
    let entries = Arc::new(AtomicU64::new(0));
    let until = Instant::now() + Duration::from_millis(1000);
    let threads: Vec<_> = (0..3)
        .map(|_| {
            let (inside, entries) = (inside.clone(), entries.clone());
            // Opened one after the other: CREATE … IF NOT EXISTS races with itself.
            let mut lock = TableLock::connect(PG, &table, "job", Duration::from_secs(5)).unwrap();
            let mut store = FencedStore::open(PG, &fence).unwrap();
            std::thread::spawn(move || {
                while Instant::now() < until {
                    let Some(g) = lock.try_acquire().unwrap() else {
                        std::thread::yield_now();
                        continue;
                    };
                    assert!(!inside.swap(true, Ordering::SeqCst), "two holders at once");
                    let n = store
                        .read("counter")
                        .unwrap()
                        .map(|(_, v)| v.parse::<u64>().unwrap())
                        .unwrap_or(0);
                    let w = store
                        .write("counter", g.token, &(n + 1).to_string())
                        .unwrap();
                    assert_eq!(w, Write::Accepted);
                    entries.fetch_add(1, Ordering::SeqCst);
                    inside.store(false, Ordering::SeqCst);
                    lock.release(&g).unwrap();
                }
            })
        })
        .collect();
    for t in threads {
        t.join().expect("a worker failed");
    }
    let mut store = FencedStore::open(PG, &fence).unwrap();
    let n: u64 = store.read("counter").unwrap().unwrap().1.parse().unwrap();
    assert!(n > 0);
    assert_eq!(n, entries.load(Ordering::SeqCst), "no lost update");
}

//! The real Redis lock (127.0.0.1:6379, database 15) judged by a fenced PostgreSQL table
//! (127.0.0.1:5432, database `test`), under real threads and real processes.
//!
//! Child processes run `src/bin/lock-child.rs`, driven over stdin/stdout; the parent kills
//! them on drop. Servers a test needs for itself (the `CLIENT PAUSE` one) are started on a free
//! port and killed on drop.

use lockproof_distributed::fence::{FencedStore, Write};
use lockproof_distributed::redis_lock::RedisLock;
use lockproof_distributed::LockError;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[path = "support/child.rs"]
mod child;
mod support;

use child::ChildGuard;
use support::{poll, RedisServer};

const REDIS: &str = "redis://127.0.0.1:6379/15";
const PG: &str = "host=127.0.0.1 port=5432 user=postgres dbname=test connect_timeout=5";

fn key(test: &str) -> String {
    format!("ref:lock:{test}:{}", std::process::id())
}

fn clean(key: &str) {
    let client = redis::Client::open(REDIS).expect("url");
    let mut con = client
        .get_connection_with_timeout(Duration::from_secs(2))
        .unwrap_or_else(|e| panic!("Redis at 127.0.0.1:6379 unreachable: {e}"));
    let _: i64 = redis::cmd("DEL")
        .arg(key)
        .arg(format!("{key}:token"))
        .query(&mut con)
        .expect("DEL");
}

/// A fenced table for one test, dropped at the end.
struct Fence(FencedStore);

impl Fence {
    fn new(test: &str) -> Fence {
        let table = format!("lp_fence_{test}_{}", std::process::id());
        let mut s = FencedStore::open(PG, &table).unwrap_or_else(|e| panic!("{e}"));
        s.drop_table().expect("drop stale");
        Fence(FencedStore::open(PG, &table).unwrap_or_else(|e| panic!("{e}")))
    }
}

impl Drop for Fence {
    fn drop(&mut self) {
        let _ = self.0.drop_table();
    }
}

#[test]
fn mutual_exclusion_with_threads_at_a_fenced_storage() {
    let k = key("mutex");
    clean(&k);
    let _fence = Fence::new("mutex");
    let table = format!("lp_fence_mutex_{}", std::process::id());
    let inside = Arc::new(AtomicBool::new(false));
    let entries = Arc::new(AtomicU64::new(0));
    let until = Instant::now() + Duration::from_millis(1500);
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let (k, inside, entries) = (k.clone(), inside.clone(), entries.clone());
            // Opened here, one after the other: CREATE TABLE IF NOT EXISTS races with itself.
            let mut store = FencedStore::open(PG, &table).unwrap();
            std::thread::spawn(move || {
                let mut lock = RedisLock::connect(REDIS, &k, Duration::from_secs(5)).unwrap();
                let mut last_token = 0;
                while Instant::now() < until {
                    let Some(g) = lock.try_acquire().unwrap() else {
                        std::thread::yield_now();
                        continue;
                    };
                    assert!(g.token > last_token, "tokens grow");
                    last_token = g.token;
                    assert!(!inside.swap(true, Ordering::SeqCst), "two holders at once");
                    let n = store
                        .read("counter")
                        .unwrap()
                        .map(|(_, v)| v.parse::<u64>().unwrap())
                        .unwrap_or(0);
                    let w = store
                        .write("counter", g.token as i64, &(n + 1).to_string())
                        .unwrap();
                    assert_eq!(w, Write::Accepted, "a holder's write is never fenced off");
                    entries.fetch_add(1, Ordering::SeqCst);
                    inside.store(false, Ordering::SeqCst);
                    lock.release(&g).unwrap();
                    // Released: gone, or already another thread's.
                    assert!(matches!(
                        lock.release(&g),
                        Err(LockError::Lost | LockError::NotOwner)
                    ));
                }
            })
        })
        .collect();
    for t in threads {
        t.join().expect("a worker failed");
    }
    let mut store = FencedStore::open(PG, &table).unwrap();
    let n: u64 = store.read("counter").unwrap().unwrap().1.parse().unwrap();
    assert!(n > 0, "some thread got the lock");
    assert_eq!(n, entries.load(Ordering::SeqCst), "no lost update");
    clean(&k);
}

#[test]
fn owner_only_release_and_extend() {
    let k = key("owner");
    clean(&k);
    let mut a = RedisLock::connect(REDIS, &k, Duration::from_millis(300)).unwrap();
    let mut b = RedisLock::connect(REDIS, &k, Duration::from_secs(5)).unwrap();
    let ga = a.try_acquire().unwrap().expect("free");
    assert_eq!(b.try_acquire().unwrap(), None);
    let gb = b
        .acquire_within(Duration::from_secs(3), Duration::from_millis(20))
        .unwrap()
        .expect("free after A's TTL");
    assert!(gb.token > ga.token);
    assert_eq!(a.release(&ga), Err(LockError::NotOwner));
    assert_eq!(a.extend(&ga), Err(LockError::NotOwner));
    b.extend(&gb).unwrap();
    b.release(&gb).unwrap();
    assert_eq!(b.extend(&gb), Err(LockError::Lost));
    clean(&k);
}

#[test]
fn unreachable_is_a_one_line_error() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let url = format!("redis://127.0.0.1:{port}/0");
    match RedisLock::connect(&url, "k", Duration::from_secs(1)) {
        Err(LockError::Unreachable(m)) => {
            assert!(
                m.starts_with(&format!("Redis at {url} unreachable: ")),
                "{m}"
            );
            assert!(!m.contains('\n'), "{m}");
        }
        other => panic!("{other:?}"),
    }
}

/// `lock-child` holding the Redis lock `key` with `ttl_ms`, writing to fence table `table`.
fn lock_child(key: &str, ttl_ms: u64, table: &str) -> ChildGuard {
    let ttl = ttl_ms.to_string();
    ChildGuard::spawn(
        env!("CARGO_BIN_EXE_lock-child"),
        &[REDIS, PG, key, &ttl, table],
    )
}

fn key_exists(key: &str) -> bool {
    let client = redis::Client::open(REDIS).unwrap();
    let mut con = client.get_connection().unwrap();
    redis::cmd("EXISTS")
        .arg(key)
        .query::<i64>(&mut con)
        .unwrap()
        == 1
}

#[test]
fn sigstop_past_the_ttl_then_sigcont_the_stale_write_is_fenced_off() {
    let k = key("sigstop");
    clean(&k);
    let _fence = Fence::new("sigstop");
    let table = format!("lp_fence_sigstop_{}", std::process::id());
    let mut child = lock_child(&k, 400, &table);
    let t1: u64 = child.expect("token").parse().unwrap();
    child.signal(libc::SIGSTOP);
    // The child is stopped; its lease runs out on the server.
    assert!(
        poll(Duration::from_secs(3), || !key_exists(&k)),
        "the stopped child's lock expired"
    );
    let mut b = RedisLock::connect(REDIS, &k, Duration::from_secs(10)).unwrap();
    let gb = b.try_acquire().unwrap().expect("free after the TTL");
    assert!(gb.token > t1);
    let mut store = FencedStore::open(PG, &table).unwrap();
    assert_eq!(
        store.write("cell", gb.token as i64, "from B").unwrap(),
        Write::Accepted
    );
    child.signal(libc::SIGCONT);
    child.say("go");
    assert_eq!(
        child.expect("extend"),
        format!("{:?}", Err::<(), _>(LockError::NotOwner))
    );
    assert_eq!(
        child.expect("write"),
        format!(
            "{:?}",
            Write::Rejected {
                stored: gb.token as i64
            }
        ),
        "the stale holder's write is rejected by fencing"
    );
    assert_eq!(
        store.read("cell").unwrap(),
        Some((gb.token as i64, "from B".to_string()))
    );
    b.release(&gb).unwrap();
    clean(&k);
}

#[test]
fn sigkill_of_the_holder_frees_the_lock_after_its_ttl() {
    let k = key("sigkill");
    clean(&k);
    let _fence = Fence::new("sigkill");
    let table = format!("lp_fence_sigkill_{}", std::process::id());
    let mut child = lock_child(&k, 500, &table);
    let t1: u64 = child.expect("token").parse().unwrap();
    let killed = Instant::now();
    child.signal(libc::SIGKILL);
    let mut b = RedisLock::connect(REDIS, &k, Duration::from_secs(10)).unwrap();
    assert_eq!(
        b.try_acquire().unwrap(),
        None,
        "still held right after the kill"
    );
    let g = b
        .acquire_within(Duration::from_secs(3), Duration::from_millis(10))
        .unwrap()
        .expect("free after the dead holder's TTL");
    assert!(g.token > t1);
    assert!(killed.elapsed() < Duration::from_millis(1500));
    b.release(&g).unwrap();
    clean(&k);
}

#[test]
fn client_pause_delays_but_does_not_break_the_lock() {
    let server = RedisServer::start();
    let url = server.url();
    let k = "lock:pause";
    let mut a = RedisLock::connect(&url, k, Duration::from_secs(5)).unwrap();
    let g = a.try_acquire().unwrap().expect("free");
    let mut admin = redis::Client::open(url.as_str())
        .unwrap()
        .get_connection()
        .unwrap();
    let _: () = redis::cmd("CLIENT")
        .arg("PAUSE")
        .arg(300)
        .arg("WRITE")
        .query(&mut admin)
        .unwrap();
    let t0 = Instant::now();
    let mut b = RedisLock::connect(&url, k, Duration::from_secs(5)).unwrap();
    // B's acquire script may write: the server holds it until the pause ends, then answers.
    assert_eq!(b.try_acquire().unwrap(), None);
    assert!(
        t0.elapsed() >= Duration::from_millis(200),
        "{:?}",
        t0.elapsed()
    );
    a.release(&g).unwrap();
    let gb = b.try_acquire().unwrap().expect("free after A's release");
    assert!(gb.token > g.token);
}

/// A's extend right after the restart met the connection the restart broke
/// (`Unreachable`); the lock reconnects on the next call, which is the answer that counts.
fn extend_after_restart(
    a: &mut RedisLock,
    g: &lockproof_distributed::redis_lock::RedisGuard,
) -> Result<(), LockError> {
    match a.extend(g) {
        Err(LockError::Unreachable(_)) => a.extend(g),
        other => other,
    }
}

/// A Redis without persistence restarted while A holds the lock: the key is gone, B acquires
/// at once and A's owner-comparing extend reports `NotOwner`. But the token counter is gone
/// too: `INCR` starts again at 1, so B's token is SMALLER than A's. The fence then does the
/// opposite of its job: it rejects the new holder B and accepts the stale holder A. Fencing
/// tokens issued by a non-persistent Redis are only as durable as that Redis: keep the
/// counter where the restart cannot lose it (AOF always, or the fenced store itself).
#[test]
fn restart_without_persistence_loses_the_lock_and_the_token_counter() {
    let mut server = RedisServer::start();
    let url = server.url();
    let mut fence = Fence::new("restart");
    let k = "lock:restart";
    let ttl = Duration::from_secs(30);
    let mut a = RedisLock::connect(&url, k, ttl).unwrap();
    // Earlier holders: A's token is 5.
    for _ in 0..4 {
        let g = a.try_acquire().unwrap().expect("free");
        a.release(&g).unwrap();
    }
    let ga = a.try_acquire().unwrap().expect("free");
    assert_eq!(ga.token, 5);
    assert_eq!(
        fence.0.write("cell", ga.token as i64, "A").unwrap(),
        Write::Accepted
    );
    server.shutdown_nosave();
    server.start_again();
    let mut b = RedisLock::connect(&url, k, ttl).unwrap();
    let gb = b
        .try_acquire()
        .unwrap()
        .expect("the restart freed the lock");
    assert_eq!(gb.token, 1, "the token counter restarted with the server");
    assert_eq!(extend_after_restart(&mut a, &ga), Err(LockError::NotOwner));
    // The finding: the NEW holder is fenced off, the stale holder is let through.
    assert_eq!(
        fence.0.write("cell", gb.token as i64, "B").unwrap(),
        Write::Rejected { stored: 5 }
    );
    assert_eq!(
        fence.0.write("cell", ga.token as i64, "A-stale").unwrap(),
        Write::Accepted
    );
    assert_eq!(
        fence.0.read("cell").unwrap(),
        Some((5, "A-stale".to_string()))
    );
    // After B's release (or its expiry) nobody holds it: A's release finds it absent.
    b.release(&gb).unwrap();
    assert_eq!(a.release(&ga), Err(LockError::Lost));
}

/// The same restart, of a Redis with `appendonly yes` and `appendfsync always`, killed with
/// SIGKILL: the lock and the token counter survive. B cannot acquire, A's extend succeeds,
/// and after A's release B's token is larger than A's, so the fence orders them right.
#[test]
fn restart_with_aof_always_keeps_the_lock_and_the_tokens() {
    let mut server = RedisServer::start_aof_always();
    let url = server.url();
    let mut fence = Fence::new("restart_aof");
    let k = "lock:restart-aof";
    let ttl = Duration::from_secs(30);
    let mut a = RedisLock::connect(&url, k, ttl).unwrap();
    let ga = a.try_acquire().unwrap().expect("free");
    assert_eq!(
        fence.0.write("cell", ga.token as i64, "A").unwrap(),
        Write::Accepted
    );
    server.kill9();
    server.start_again();
    let mut b = RedisLock::connect(&url, k, ttl).unwrap();
    assert_eq!(
        b.try_acquire().unwrap(),
        None,
        "the lock survived the restart"
    );
    assert_eq!(extend_after_restart(&mut a, &ga), Ok(()));
    a.release(&ga).unwrap();
    let gb = b.try_acquire().unwrap().expect("free after A's release");
    assert!(gb.token > ga.token, "B {} after A {}", gb.token, ga.token);
    assert_eq!(
        fence.0.write("cell", gb.token as i64, "B").unwrap(),
        Write::Accepted
    );
    assert_eq!(
        fence.0.write("cell", ga.token as i64, "A-stale").unwrap(),
        Write::Rejected {
            stored: gb.token as i64
        }
    );
}

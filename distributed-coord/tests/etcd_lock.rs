//! The real etcd lock on a private etcd 3.4 member per test, judged by a fenced PostgreSQL
//! table (127.0.0.1:5432, database `test`), under real threads and real processes
//! (`src/bin/coord-child.rs`, killed on drop).

use lockproof_distributed::fence::Write;
use lockproof_distributed::LockError;
use lockproof_distributed_coord::etcd_lock::EtcdLock;
use lockproof_distributed_coord::testing::EtcdServer;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

mod support;

use support::{poll, ChildGuard, Fence};

fn server() -> EtcdServer {
    EtcdServer::start().unwrap_or_else(|e| panic!("{e}"))
}

fn connect(etcd: &EtcdServer, prefix: &str, ttl_s: u64) -> EtcdLock {
    EtcdLock::connect(&etcd.endpoint(), prefix, Duration::from_secs(ttl_s))
        .unwrap_or_else(|e| panic!("{e}"))
}

/// A plain etcd client on its own runtime, for what the test does besides locking.
struct Raw {
    rt: tokio::runtime::Runtime,
    client: etcd_client::Client,
}

impl Raw {
    fn new(etcd: &EtcdServer) -> Raw {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let client = rt
            .block_on(etcd_client::Client::connect([etcd.endpoint()], None))
            .unwrap();
        Raw { rt, client }
    }

    fn keys(&self, prefix: &str) -> Vec<(String, i64)> {
        let mut c = self.client.clone();
        let r = self
            .rt
            .block_on(c.get(prefix, Some(etcd_client::GetOptions::new().with_prefix())))
            .unwrap();
        r.kvs()
            .iter()
            .map(|kv| (kv.key_str().unwrap().to_string(), kv.create_revision()))
            .collect()
    }

    fn revoke(&self, lease: i64) {
        let mut c = self.client.clone();
        self.rt.block_on(c.lease_revoke(lease)).unwrap();
    }
}

#[test]
fn mutual_exclusion_with_threads_at_a_fenced_storage() {
    let etcd = server();
    let fence = Fence::new("etcd_mutex");
    let inside = Arc::new(AtomicBool::new(false));
    let entries = Arc::new(AtomicU64::new(0));
    let until = Instant::now() + Duration::from_millis(2000);
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let (inside, entries) = (inside.clone(), entries.clone());
            let mut store = fence.open();
            let mut lock = connect(&etcd, "mutex", 10);
            std::thread::spawn(move || {
                let mut last_token = 0;
                while Instant::now() < until {
                    let g = lock
                        .acquire(Duration::from_secs(10))
                        .unwrap()
                        .expect("the lock within 10 s");
                    assert!(g.token > last_token, "tokens grow");
                    last_token = g.token;
                    assert!(!inside.swap(true, Ordering::SeqCst), "two holders at once");
                    let n = store
                        .read("counter")
                        .unwrap()
                        .map(|(_, v)| v.parse::<u64>().unwrap())
                        .unwrap_or(0);
                    let w = store
                        .write("counter", g.token, &(n + 1).to_string())
                        .unwrap();
                    assert_eq!(w, Write::Accepted, "a holder's write is never fenced off");
                    entries.fetch_add(1, Ordering::SeqCst);
                    inside.store(false, Ordering::SeqCst);
                    lock.release(&g).unwrap();
                    assert_eq!(lock.release(&g), Err(LockError::Lost), "released twice");
                }
            })
        })
        .collect();
    for t in threads {
        t.join().expect("a worker failed");
    }
    let mut store = fence.open();
    let n: u64 = store.read("counter").unwrap().unwrap().1.parse().unwrap();
    assert!(n >= 4, "every thread got the lock at least once: {n}");
    assert_eq!(n, entries.load(Ordering::SeqCst), "no lost update");
    assert!(Raw::new(&etcd).keys("mutex/").is_empty());
}

#[test]
fn owner_only_release_and_handover_check_77() {
    let etcd = server();
    let raw = Raw::new(&etcd);
    let mut a = connect(&etcd, "m", 10);
    let mut b = connect(&etcd, "m", 10);
    let ga = a.try_acquire().unwrap().expect("free");
    assert_eq!(ga.key, format!("m/{:x}", ga.lease));
    assert_eq!(b.try_acquire().unwrap(), None);
    assert_eq!(raw.keys("m/").len(), 1, "B's key was removed again");
    assert_eq!(b.release(&ga), Err(LockError::NotOwner));
    assert_eq!(b.check(&ga), Err(LockError::NotOwner));
    a.check(&ga).unwrap();
    let waiter = std::thread::spawn(move || {
        let g = b.acquire(Duration::from_secs(10)).unwrap();
        (b, g)
    });
    assert!(
        poll(Duration::from_secs(5), || raw.keys("m/").len() == 2),
        "B queued"
    );
    let keys = raw.keys("m/");
    let revs: Vec<i64> = keys.iter().map(|(_, r)| *r).collect();
    assert!(revs.contains(&ga.token));
    // Check 77: the second contender's key has a later create revision and waits.
    assert!(revs.iter().any(|&r| r > ga.token));
    assert!(!waiter.is_finished(), "B waits while A holds");
    a.release(&ga).unwrap();
    let (mut b, gb) = waiter.join().unwrap();
    let gb = gb.expect("B got the lock after A's release");
    assert!(gb.token > ga.token);
    assert_eq!(a.check(&ga), Err(LockError::Lost), "A's key is gone");
    b.release(&gb).unwrap();
    assert!(raw.keys("m/").is_empty(), "no keys remain (check 77)");
}

#[test]
fn unreachable_is_a_one_line_error() {
    let port = lockproof_distributed_coord::testing::free_port().unwrap();
    let endpoint = format!("127.0.0.1:{port}");
    match EtcdLock::connect(&endpoint, "x", Duration::from_secs(2)) {
        Err(LockError::Unreachable(m)) => {
            assert!(
                m.starts_with(&format!("etcd at {endpoint} unreachable: ")),
                "{m}"
            );
            assert!(!m.contains('\n'), "{m}");
        }
        other => panic!("{other:?}"),
    }
}

/// A revoked lease deletes the key at once (check 74): the holder's next operation reports
/// the lock lost, and its renewal stops.
#[test]
fn a_revoked_lease_is_a_lost_lock() {
    let etcd = server();
    let raw = Raw::new(&etcd);
    let mut a = connect(&etcd, "rev", 10);
    let ga = a.try_acquire().unwrap().expect("free");
    assert!(a.renewing());
    raw.revoke(ga.lease);
    assert_eq!(a.check(&ga), Err(LockError::Lost));
    assert!(
        poll(Duration::from_secs(10), || !a.renewing()),
        "the keep-alive finds the lease gone"
    );
    assert_eq!(a.release(&ga), Err(LockError::Lost));
    let mut b = connect(&etcd, "rev", 10);
    let gb = b.try_acquire().unwrap().expect("free again at once");
    assert!(gb.token > ga.token);
    b.release(&gb).unwrap();
}

/// The SIGSTOP scenario on etcd (checks 78 and 80 with a lease): the holder (lease TTL 2 s) is
/// stopped; its keep-alives stop and the lease expires; another client acquires and writes;
/// the holder resumes and writes with its older create revision: rejected by the fence.
#[test]
fn sigstop_past_lease_ttl_stale_write_is_fenced() {
    let etcd = server();
    let mut fence = Fence::new("etcd_stop");
    let mut child = ChildGuard::spawn("etcd", &etcd.endpoint(), "stop", 2000, &fence.table);
    let old: i64 = child
        .expect("token", Duration::from_secs(30))
        .parse()
        .unwrap();
    let mut b = connect(&etcd, "stop", 10);
    child.signal(libc::SIGSTOP);
    assert!(poll(Duration::from_secs(2), || child.stopped()), "stopped");
    let paused = Instant::now();
    let gb = b
        .acquire(Duration::from_secs(15))
        .unwrap()
        .expect("the lock after the holder's lease expired");
    let after = paused.elapsed();
    // The lease was last renewed at most TTL/3 before the pause; expiry runs every 500 ms.
    assert!(
        after >= Duration::from_millis(1000) && after < Duration::from_secs(5),
        "free {after:?} after the pause (lease TTL 2 s)"
    );
    assert!(gb.token > old);
    assert_eq!(
        fence.store.write("cell", gb.token, "from B").unwrap(),
        Write::Accepted
    );
    child.signal(libc::SIGCONT);
    child.go();
    assert_eq!(
        child.expect("write", Duration::from_secs(20)),
        format!("Rejected {{ stored: {} }}", gb.token)
    );
    assert_eq!(child.expect("check", Duration::from_secs(20)), "Err(Lost)");
    assert_eq!(child.wait_exit(Duration::from_secs(10)), Some(0));
    assert_eq!(
        fence.store.read("cell").unwrap(),
        Some((gb.token, "from B".to_string()))
    );
    b.release(&gb).unwrap();
}

/// Check 78 on the real server: a holder killed with SIGKILL (lease TTL 2 s) blocks the lock
/// until its lease expires; a holder that ends normally revokes its lease and the key
/// vanishes at once.
#[test]
fn sigkill_holder_blocks_until_lease_expiry_check_78() {
    let etcd = server();
    let fence = Fence::new("etcd_kill");
    let raw = Raw::new(&etcd);
    let mut child = ChildGuard::spawn("etcd", &etcd.endpoint(), "kill", 2000, &fence.table);
    let old: i64 = child
        .expect("token", Duration::from_secs(30))
        .parse()
        .unwrap();
    let mut b = connect(&etcd, "kill", 10);
    assert_eq!(b.try_acquire().unwrap(), None, "held by the child");
    child.kill();
    let killed = Instant::now();
    let gb = b
        .acquire(Duration::from_secs(15))
        .unwrap()
        .expect("free after the lease TTL");
    let after = killed.elapsed();
    assert!(
        after >= Duration::from_millis(1000) && after < Duration::from_secs(5),
        "free {after:?} after the kill (lease TTL 2 s, renewed every ≈0.67 s)"
    );
    assert!(gb.token > old);
    b.release(&gb).unwrap();
    // A holder that ends normally (its lock dropped) revokes its lease: the key goes at once.
    let mut c = connect(&etcd, "kill", 10);
    let gc = c.try_acquire().unwrap().expect("free");
    assert_eq!(raw.keys("kill/").len(), 1);
    let started = Instant::now();
    drop(c);
    assert!(raw.keys("kill/").is_empty(), "revoked on drop");
    assert!(started.elapsed() < Duration::from_secs(1));
    let mut d = connect(&etcd, "kill", 10);
    let gd = d.try_acquire().unwrap().expect("free at once");
    assert!(gd.token > gc.token);
    d.release(&gd).unwrap();
}

/// Renewal: the keep-alive (every third of the TTL) keeps a live holder's lease, so the lock
/// stays held well past its 2 s TTL; no other client gets it meanwhile.
#[test]
fn renewal_keeps_the_lock_past_its_ttl() {
    let etcd = server();
    let mut a = connect(&etcd, "renew", 2);
    let mut b = connect(&etcd, "renew", 2);
    let ga = a.try_acquire().unwrap().expect("free");
    let until = Instant::now() + Duration::from_millis(3500);
    let mut tries = 0;
    // The time passing is what is checked: B tries for 1.75 × the TTL.
    while Instant::now() < until {
        assert_eq!(
            b.try_acquire().unwrap(),
            None,
            "A's renewed lease still holds"
        );
        tries += 1;
    }
    assert!(tries > 1);
    assert!(a.renewing());
    a.check(&ga).unwrap();
    a.release(&ga).unwrap();
    let gb = b.try_acquire().unwrap().expect("free after the release");
    b.release(&gb).unwrap();
}

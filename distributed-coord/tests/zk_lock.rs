//! The real ZooKeeper lock on a private ZooKeeper 3.8 server per test (tickTime 500 ms,
//! maxSessionTimeout 10 s), judged by a fenced PostgreSQL table (127.0.0.1:5432, database
//! `test`), under real threads and real processes (`src/bin/coord-child.rs`, killed on drop).

use lockproof_distributed::fence::Write;
use lockproof_distributed::LockError;
use lockproof_distributed_coord::testing::ZkServer;
use lockproof_distributed_coord::zk_lock::ZkLock;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

mod support;

use support::{poll, ChildGuard, Fence};

fn server() -> ZkServer {
    ZkServer::start().unwrap_or_else(|e| panic!("{e}"))
}

fn connect(zk: &ZkServer, path: &str, timeout_ms: u64) -> ZkLock {
    ZkLock::connect(
        &zk.connect_string(),
        path,
        Duration::from_millis(timeout_ms),
    )
    .unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn mutual_exclusion_with_threads_at_a_fenced_storage() {
    let zk = server();
    let fence = Fence::new("zk_mutex");
    let inside = Arc::new(AtomicBool::new(false));
    let entries = Arc::new(AtomicU64::new(0));
    let until = Instant::now() + Duration::from_millis(2000);
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let (inside, entries) = (inside.clone(), entries.clone());
            let mut store = fence.open();
            let mut lock = connect(&zk, "/mutex", 10_000);
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
    let lock = connect(&zk, "/mutex", 10_000);
    assert_eq!(lock.contenders().unwrap(), Vec::<String>::new());
}

#[test]
fn owner_only_release_and_fifo_handover() {
    let zk = server();
    let mut a = connect(&zk, "/owner", 10_000);
    let mut b = connect(&zk, "/owner", 10_000);
    let ga = a.try_acquire().unwrap().expect("free");
    assert_eq!(b.try_acquire().unwrap(), None);
    assert_eq!(
        b.contenders().unwrap().len(),
        1,
        "B's node was removed again"
    );
    assert_eq!(b.acquire(Duration::from_millis(300)).unwrap(), None);
    assert_eq!(
        b.contenders().unwrap().len(),
        1,
        "B's node was removed again"
    );
    // Another client's guard is not B's to release or to check.
    assert_eq!(b.release(&ga), Err(LockError::NotOwner));
    assert_eq!(b.check(&ga), Err(LockError::NotOwner));
    a.check(&ga).unwrap();
    // B waits on A's node; A releases; B gets it.
    let waiter = std::thread::spawn(move || {
        let g = b.acquire(Duration::from_secs(10)).unwrap();
        (b, g)
    });
    assert!(
        poll(Duration::from_secs(5), || a.contenders().unwrap().len()
            == 2),
        "B queued"
    );
    a.release(&ga).unwrap();
    let (mut b, gb) = waiter.join().unwrap();
    let gb = gb.expect("B got the lock after A's release");
    assert!(
        gb.token > ga.token,
        "czxid grows: {} > {}",
        gb.token,
        ga.token
    );
    assert_eq!(a.release(&ga), Err(LockError::Lost), "A's node is gone");
    b.release(&gb).unwrap();
    assert!(a.contenders().unwrap().is_empty());
}

#[test]
fn unreachable_is_a_one_line_error() {
    let port = lockproof_distributed_coord::testing::free_port().unwrap();
    let servers = format!("127.0.0.1:{port}");
    match ZkLock::connect(&servers, "/x", Duration::from_secs(2)) {
        Err(LockError::Unreachable(m)) => {
            assert!(
                m.starts_with(&format!("ZooKeeper at {servers} unreachable: ")),
                "{m}"
            );
            assert!(!m.contains('\n'), "{m}");
        }
        other => panic!("{other:?}"),
    }
}

/// Checks 66 and 80 on the real server: the holder (negotiated timeout 1 s) is stopped past
/// its session timeout; the server expires it and deletes its node; another client acquires
/// and writes with its larger czxid; the holder resumes, still believing, and writes with its
/// older czxid: the fenced store rejects it; then the holder's client reports the lock lost.
#[test]
fn sigstop_past_session_timeout_stale_write_is_fenced_check_66_80() {
    let zk = server();
    let mut fence = Fence::new("zk_stop");
    let mut child = ChildGuard::spawn("zk", &zk.connect_string(), "/stop", 500, &fence.table);
    let old: i64 = child
        .expect("token", Duration::from_secs(30))
        .parse()
        .unwrap();
    let session: i64 = child
        .expect("owner", Duration::from_secs(5))
        .parse()
        .unwrap();
    let cons = zk.four_letter("cons").unwrap();
    let sid = format!("sid=0x{session:x}");
    assert!(
        cons.lines()
            .any(|l| l.contains(&sid) && l.contains("to=1000")),
        "negotiated 1000 ms for a requested 500 ms (check 57): {cons}"
    );
    let mut b = connect(&zk, "/stop", 10_000);
    let node = b.contenders().unwrap();
    assert_eq!(node.len(), 1);
    child.signal(libc::SIGSTOP);
    assert!(poll(Duration::from_secs(2), || child.stopped()), "stopped");
    let paused = Instant::now();
    // B waits for the lock: it is granted when the server expires the paused session.
    let gb = b
        .acquire(Duration::from_secs(10))
        .unwrap()
        .expect("the lock after the holder's session expired");
    let expired_after = paused.elapsed();
    assert!(
        expired_after >= Duration::from_millis(500) && expired_after < Duration::from_secs(4),
        "expired {expired_after:?} after the pause began (≈1–1.5 s, check 66)"
    );
    assert!(gb.token > old, "the new holder's czxid is larger");
    assert_eq!(
        fence.store.write("cell", gb.token, "from B").unwrap(),
        Write::Accepted
    );
    child.signal(libc::SIGCONT);
    child.go();
    let write = child.expect("write", Duration::from_secs(20));
    assert_eq!(write, format!("Rejected {{ stored: {} }}", gb.token));
    assert_eq!(child.expect("check", Duration::from_secs(20)), "Err(Lost)");
    assert_eq!(child.expect("ended", Duration::from_secs(5)), "true");
    assert_eq!(child.wait_exit(Duration::from_secs(10)), Some(0));
    assert_eq!(
        fence.store.read("cell").unwrap(),
        Some((gb.token, "from B".to_string()))
    );
    // The stale holder's node is gone; B's is the only one.
    assert_eq!(
        b.contenders().unwrap(),
        [gb.node.rsplit('/').next().unwrap()]
    );
    b.release(&gb).unwrap();
}

/// Check 78's ZooKeeper analogue: a holder killed with SIGKILL cannot close its session; the
/// lock is free again once the server expires it (negotiated 1 s).
#[test]
fn sigkill_of_the_holder_frees_the_lock_after_the_session_timeout() {
    let zk = server();
    let fence = Fence::new("zk_kill");
    let mut child = ChildGuard::spawn("zk", &zk.connect_string(), "/kill", 1000, &fence.table);
    let old: i64 = child
        .expect("token", Duration::from_secs(30))
        .parse()
        .unwrap();
    let mut b = connect(&zk, "/kill", 10_000);
    assert_eq!(b.try_acquire().unwrap(), None, "held by the child");
    child.kill();
    let killed = Instant::now();
    let gb = b
        .acquire(Duration::from_secs(10))
        .unwrap()
        .expect("free after the session timeout");
    let after = killed.elapsed();
    assert!(
        after >= Duration::from_millis(500) && after < Duration::from_secs(4),
        "free {after:?} after the kill (session timeout 1 s)"
    );
    assert!(gb.token > old);
    b.release(&gb).unwrap();
}

/// A session closed by its client deletes its nodes at once (check 65): a holder that drops
/// its lock frees it for the next contender well before any session timeout.
#[test]
fn a_closed_session_frees_the_lock_at_once() {
    let zk = server();
    let mut a = connect(&zk, "/close", 10_000);
    let mut b = connect(&zk, "/close", 10_000);
    let ga = a.try_acquire().unwrap().expect("free");
    let started = Instant::now();
    drop(a);
    let gb = b
        .acquire(Duration::from_secs(5))
        .unwrap()
        .expect("free after A's session closed");
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}: the close, not the 10 s timeout",
        started.elapsed()
    );
    assert!(gb.token > ga.token);
    b.release(&gb).unwrap();
}

/// The paths the server holds watches on (`wchp`), each with its number of watching sessions.
fn watched_paths(zk: &ZkServer) -> Vec<(String, usize)> {
    let mut out: Vec<(String, usize)> = Vec::new();
    for line in zk.four_letter("wchp").unwrap().lines() {
        if line.starts_with('/') {
            out.push((line.trim().to_string(), 0));
        } else if let (Some(last), false) = (out.last_mut(), line.trim().is_empty()) {
            last.1 += 1;
        }
    }
    out.sort();
    out
}

/// No herd (§3.4, check 69 on the real lock): with one holder and three waiters, the server
/// holds exactly one watch per waiter, each on the node just ahead of it, and none on the lock
/// path; each release hands the lock to the next waiter only.
#[test]
fn waiters_watch_only_their_predecessor() {
    let zk = server();
    let mut a = connect(&zk, "/herd", 10_000);
    let ga = a.try_acquire().unwrap().expect("free");
    let (tx, rx) = std::sync::mpsc::channel();
    let mut gos = Vec::new();
    let mut waiters = Vec::new();
    for i in 0..3 {
        let mut lock = connect(&zk, "/herd", 10_000);
        // Enter one after the other, so that the queue order is known.
        assert!(
            poll(Duration::from_secs(5), || a.contenders().unwrap().len()
                == i + 1),
            "waiter {i} queued"
        );
        let (go_tx, go_rx) = std::sync::mpsc::channel::<()>();
        gos.push(go_tx);
        let tx = tx.clone();
        waiters.push(std::thread::spawn(move || {
            let g = lock
                .acquire(Duration::from_secs(20))
                .unwrap()
                .expect("turn");
            tx.send(i).unwrap();
            go_rx.recv().unwrap();
            lock.release(&g).unwrap();
        }));
    }
    assert!(
        poll(Duration::from_secs(5), || a.contenders().unwrap().len()
            == 4
            && watched_paths(&zk).len() == 3),
        "three waiters, three watches: {:?}",
        watched_paths(&zk)
    );
    let mut queue: Vec<String> = a.contenders().unwrap();
    queue.sort_by_key(|k| k[k.len() - 10..].to_string());
    let expected: Vec<(String, usize)> = queue[..3]
        .iter()
        .map(|k| (format!("/herd/{k}"), 1))
        .collect();
    assert_eq!(
        watched_paths(&zk),
        expected,
        "each waiter watches its predecessor only"
    );
    a.release(&ga).unwrap();
    for (turn, go) in gos.iter().enumerate() {
        let who = rx
            .recv_timeout(Duration::from_secs(10))
            .expect("a waiter's turn");
        assert_eq!(who, turn, "the next in the queue, and only it");
        assert!(
            rx.try_recv().is_err(),
            "one release wakes one waiter into the lock"
        );
        go.send(()).unwrap();
    }
    for w in waiters {
        w.join().expect("a waiter failed");
    }
    assert!(a.contenders().unwrap().is_empty());
}

/// Session handling: the client's pings keep a live holder's session (negotiated 1 s), so the
/// lock stays held well past the session timeout; no other client gets it meanwhile.
#[test]
fn pings_keep_the_lock_past_the_session_timeout() {
    let zk = server();
    let mut a = connect(&zk, "/renew", 500);
    assert_eq!(a.negotiated_timeout(), Duration::from_millis(1000));
    let mut b = connect(&zk, "/renew", 10_000);
    let ga = a.try_acquire().unwrap().expect("free");
    let until = Instant::now() + Duration::from_millis(2500);
    let mut tries = 0;
    // The time passing is what is checked: B tries for 2.5 × the session timeout.
    while Instant::now() < until {
        assert_eq!(
            b.try_acquire().unwrap(),
            None,
            "A's session still holds the lock"
        );
        tries += 1;
    }
    assert!(tries > 1);
    assert!(!a.session_ended());
    a.check(&ga).unwrap();
    a.release(&ga).unwrap();
    let gb = b.try_acquire().unwrap().expect("free after the release");
    b.release(&gb).unwrap();
}

//! Chapter 1 of the tutorial (threading.Lock): its prose rules (`rule-1.S-NN`) and its
//! single-thread demos (`ex-1.S-NN`), as tests named after the catalogue record they cover
//! (`corpus/catalogue/ch1.jsonl`).
//!
//! Real threads where the rule is about what threads see of one lock; loom (through
//! `support`) where it is about deadlock, which a real test could only show by hanging. No
//! test sleeps to let another thread get somewhere: threads line up on flags and counters,
//! and a thread that must still be blocked proves it by finding a flag set only just before
//! it is unblocked.

mod support;

use lockproof::backend::checked::{ExecutionReport, Failure, ThreadId, TimeMode, WorldConfig};
use lockproof::backend::{Backend, JoinHandle, Loom, Shuttle, Std};
use lockproof::{Error, Lock, PyException, Shared};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};
use support::{loom_check, quiet_panics, shuttle_check, shuttle_with, spin_until};

/// Assert `r` is `RuntimeError('release unlocked lock')`.
fn assert_release_unlocked(r: lockproof::Result<()>) {
    let e = r.expect_err("expected RuntimeError('release unlocked lock')");
    assert_eq!(e, Error::ReleaseUnlocked);
    assert_eq!(e.exception(), PyException::RuntimeError);
    assert_eq!(e.to_string(), "release unlocked lock");
}

/// The checked deadlock of a failed run: its waits-for cycle, as thread ids.
fn deadlock_cycle(r: Result<usize, Box<ExecutionReport>>) -> Vec<ThreadId> {
    let report = r.expect_err("the checker should find a deadlock");
    match report.failure {
        Some(Failure::Deadlock(d)) => d.cycle.expect("a lock deadlock has a waits-for cycle"),
        other => panic!("expected a deadlock, got {other:?}"),
    }
}

// ---- single-thread demos -------------------------------------------------------------------

/// ex-1.1-02: `locked()` prints False, then True after `acquire()`, then False after
/// `release()`.
#[test]
fn ex_1_1_02_locked_reports_state() {
    let lock: Lock = Lock::new();
    assert!(!lock.locked(), "初始状态: False");
    assert!(lock.acquire());
    assert!(lock.locked(), "获取锁后: True");
    lock.release().unwrap();
    assert!(!lock.locked(), "释放锁后: False");
}

/// ex-1.2-02: acquire then release succeed; the second `release()` raises
/// `RuntimeError`, printed as "错误: release unlocked lock".
#[test]
fn ex_1_2_02_double_release_raises_runtime_error() {
    let lock: Lock = Lock::new();
    assert!(lock.acquire());
    assert_eq!(lock.release(), Ok(()));
    let r = lock.release();
    assert_eq!(
        format!("错误: {}", r.clone().unwrap_err()),
        "错误: release unlocked lock"
    );
    assert_release_unlocked(r);
    assert!(!lock.locked());
}

/// ex-1.3-02: `context_way(10)` appends; `context_way(-5)` raises `ValueError('负数')`
/// inside `with lock:`, which still releases; `context_way(20)` then succeeds: [10, 20].
#[test]
fn ex_1_3_02_with_releases_when_body_raises() {
    let lock: Lock = Lock::new();
    let mut data = Vec::new();
    // A Python exception leaving the with block is an `Err` returned through it: the guard
    // (`__exit__`) runs on the way out.
    let context_way = |data: &mut Vec<i64>, value: i64| -> Result<(), &'static str> {
        let _with = lock.lock();
        if value < 0 {
            return Err("负数");
        }
        data.push(value);
        Ok(())
    };
    let r = (|| {
        context_way(&mut data, 10)?;
        assert_eq!(data, [10], "添加成功: [10]");
        context_way(&mut data, -5)
    })();
    assert_eq!(r, Err("负数"), "捕获异常: 负数");
    assert!(!lock.locked(), "the with block released the lock");
    assert_eq!(context_way(&mut data, 20), Ok(()));
    assert_eq!(data, [10, 20], "最终数据: [10, 20]");
    assert!(!lock.locked());
}

// ---- 1.1 ------------------------------------------------------------------------------------

/// rule-1.1-01: at most one thread holds a Lock at any time. Four threads increment a
/// plain (racy) variable under the lock and check nobody else is inside.
#[test]
fn rule_1_1_01_one_holder_at_a_time() {
    const THREADS: usize = 4;
    const ROUNDS: i64 = 500;
    let lock: Lock = Lock::new();
    let n = Shared::<i64, Std>::new(0);
    let inside = AtomicUsize::new(0);
    thread::scope(|s| {
        for _ in 0..THREADS {
            s.spawn(|| {
                for _ in 0..ROUNDS {
                    let _with = lock.lock();
                    assert_eq!(inside.fetch_add(1, SeqCst), 0, "two holders at once");
                    n.set(n.get() + 1);
                    thread::yield_now();
                    inside.fetch_sub(1, SeqCst);
                }
            });
        }
    });
    assert_eq!(n.get(), THREADS as i64 * ROUNDS, "an update was lost");
}

/// rule-1.1-02: `acquire()` takes a free lock; on a held lock it blocks; `release()`
/// unlocks, and one of the waiting threads is woken and takes it.
#[test]
fn rule_1_1_02_release_hands_the_lock_to_one_waiter() {
    let lock: Lock = Lock::new();
    assert!(lock.acquire(), "a free lock is taken at once");
    assert!(lock.locked());
    let started = AtomicUsize::new(0);
    let acquired = AtomicUsize::new(0);
    let released = AtomicBool::new(false);
    let let_go = AtomicBool::new(false);
    let inside = AtomicUsize::new(0);
    thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| {
                started.fetch_add(1, SeqCst);
                assert!(lock.acquire());
                assert!(released.load(SeqCst), "acquired a lock main still held");
                assert_eq!(inside.fetch_add(1, SeqCst), 0, "two waiters got the lock");
                acquired.fetch_add(1, SeqCst);
                // The first holder keeps it until main has looked.
                spin_until("main let the holder go", || let_go.load(SeqCst));
                inside.fetch_sub(1, SeqCst);
                lock.release().unwrap();
            });
        }
        spin_until("both waiters started", || started.load(SeqCst) == 2);
        assert_eq!(acquired.load(SeqCst), 0, "a waiter got past a held lock");
        released.store(true, SeqCst);
        lock.release().unwrap();
        spin_until("one waiter took the lock", || acquired.load(SeqCst) >= 1);
        assert!(lock.locked(), "the woken waiter holds the lock");
        assert_eq!(acquired.load(SeqCst), 1, "one release let two waiters in");
        // Let the first holder go; the second waiter then gets it.
        let_go.store(true, SeqCst);
    });
    assert_eq!(acquired.load(SeqCst), 2);
    assert!(!lock.locked());
}

/// rule-1.1-03: `threading.Lock()` takes no arguments and returns a new, unlocked lock.
/// The arity is the type: `Lock::new` is a `fn() -> Lock`.
#[test]
fn rule_1_1_03_lock_takes_no_arguments() {
    let make: fn() -> Lock<Std> = Lock::new;
    let (a, b) = (make(), make());
    assert!(!a.locked() && !b.locked());
    // Each call makes a new lock: taking one leaves the other free.
    assert!(a.acquire());
    assert!(!b.locked());
    assert!(b.try_acquire());
    assert!(!Lock::<Std>::default().locked());
}

/// rule-1.1-04: `locked()` is True while the lock is held (by anyone), False otherwise, and
/// never blocks: it answers while another thread holds the lock.
#[test]
fn rule_1_1_04_locked_reports_and_never_blocks() {
    let lock: Lock = Lock::new();
    assert!(!lock.locked());
    let held = AtomicBool::new(false);
    let done = AtomicBool::new(false);
    thread::scope(|s| {
        s.spawn(|| {
            assert!(lock.acquire());
            held.store(true, SeqCst);
            spin_until("main asked locked()", || done.load(SeqCst));
            lock.release().unwrap();
        });
        spin_until("the other thread holds the lock", || held.load(SeqCst));
        // Returns (does not wait for the holder, which waits for us).
        assert!(lock.locked());
        done.store(true, SeqCst);
    });
    assert!(!lock.locked());
}

// ---- 1.2 ------------------------------------------------------------------------------------

/// rule-1.2-01: `acquire()` returns True at once on a free lock; on a lock another thread
/// holds it blocks until that thread releases it.
#[test]
fn rule_1_2_01_acquire_blocks_until_release() {
    let lock: Lock = Lock::new();
    assert!(lock.acquire());
    let released = AtomicBool::new(false);
    let started = AtomicBool::new(false);
    thread::scope(|s| {
        let h = s.spawn(|| {
            started.store(true, SeqCst);
            let got = lock.acquire();
            assert!(released.load(SeqCst), "acquire returned before the release");
            got
        });
        spin_until("the waiter started", || started.load(SeqCst));
        released.store(true, SeqCst);
        lock.release().unwrap();
        assert!(h.join().unwrap(), "acquire() returns True");
    });
    assert!(lock.locked());
}

/// rule-1.2-02: `acquire(blocking=True)` waits; `acquire(blocking=False)` tries once and
/// returns False at once when the lock is held.
#[test]
fn rule_1_2_02_non_blocking_acquire_fails_at_once() {
    let lock: Lock = Lock::new();
    assert_eq!(lock.acquire_with(true, -1.0), Ok(true));
    thread::scope(|s| {
        s.spawn(|| {
            assert_eq!(lock.acquire_with(false, -1.0), Ok(false));
            assert!(!lock.try_acquire());
        });
    });
    lock.release().unwrap();
    assert!(lock.try_acquire(), "a free lock is taken without blocking");
}

/// rule-1.2-03: `acquire(timeout=t)` returns False when the lock is not obtained within `t`
/// seconds; `timeout=-1` waits forever, like `blocking=True`.
#[test]
fn rule_1_2_03_timeout_gives_up_minus_one_waits_forever() {
    let lock: Lock = Lock::new();
    assert!(lock.acquire());
    let released = AtomicBool::new(false);
    let started = AtomicBool::new(false);
    thread::scope(|s| {
        let start = Instant::now();
        assert_eq!(
            s.spawn(|| lock.acquire_timeout(0.05)).join().unwrap(),
            Ok(false)
        );
        assert!(
            start.elapsed() >= Duration::from_millis(50),
            "gave up early"
        );
        let h = s.spawn(|| {
            started.store(true, SeqCst);
            let r = lock.acquire_timeout(-1.0);
            assert!(
                released.load(SeqCst),
                "timeout=-1 returned before the release"
            );
            r
        });
        spin_until("the timeout=-1 waiter started", || started.load(SeqCst));
        released.store(true, SeqCst);
        lock.release().unwrap();
        assert_eq!(h.join().unwrap(), Ok(true));
    });
    assert!(lock.locked());
}

/// rule-1.2-04 (the tutorial is wrong): it says only the holding thread may call
/// `release()`, otherwise RuntimeError. A Lock has no owner: any thread may release it, and
/// RuntimeError('release unlocked lock') comes only when it is not locked.
#[test]
fn rule_1_2_04_any_thread_may_release() {
    let lock: Lock = Lock::new();
    let holding = AtomicBool::new(false);
    let freed = AtomicBool::new(false);
    thread::scope(|s| {
        // The holder takes the lock and waits; another thread, which never acquired it,
        // releases it.
        s.spawn(|| {
            assert!(lock.acquire());
            holding.store(true, SeqCst);
            spin_until("someone else released it", || freed.load(SeqCst));
            // It is no longer locked, so the holder's own release is the error.
            assert_release_unlocked(lock.release());
        });
        spin_until("the holder has the lock", || holding.load(SeqCst));
        s.spawn(|| assert_eq!(lock.release(), Ok(()), "a non-holder released it"))
            .join()
            .unwrap();
        assert!(!lock.locked());
        freed.store(true, SeqCst);
    });
    // And a release by a non-holder wakes a waiter, like any release.
    assert!(lock.acquire());
    thread::scope(|s| {
        let waiter = s.spawn(|| lock.acquire());
        s.spawn(|| lock.release().unwrap()).join().unwrap();
        assert!(waiter.join().unwrap());
    });
    assert!(lock.locked());
}

/// rule-1.2-05: `release()` on a lock that is not held raises RuntimeError: on a new lock,
/// and on a double release.
#[test]
fn rule_1_2_05_release_of_unheld_lock_raises() {
    let lock: Lock = Lock::new();
    assert_release_unlocked(lock.release());
    assert!(lock.acquire());
    assert_eq!(lock.release(), Ok(()));
    assert_release_unlocked(lock.release());
    assert!(!lock.locked());
}

/// rule-1.2-06: `try`/`finally` releases the lock even when the critical section raises;
/// without it the lock stays taken and every later `acquire()` would block.
#[test]
fn rule_1_2_06_finally_releases_after_an_exception() {
    let lock: Lock = Lock::new();
    // try: raise ... finally: lock.release()
    assert!(lock.acquire());
    let raised = std::panic::catch_unwind(|| std::panic::panic_any("ValueError"));
    lock.release().unwrap();
    assert!(raised.is_err());
    thread::scope(|s| {
        assert!(
            s.spawn(|| lock.try_acquire()).join().unwrap(),
            "lock leaked"
        );
    });
    lock.release().unwrap();
    // Without finally: the exception skips the release and the lock stays taken.
    let leaked = std::panic::catch_unwind(|| {
        assert!(lock.acquire());
        std::panic::panic_any("ValueError");
    });
    assert!(leaked.is_err());
    thread::scope(|s| {
        assert!(!s.spawn(|| lock.try_acquire()).join().unwrap());
    });
    assert!(lock.locked());
}

// ---- 1.3 and 1.4: lock order and deadlock (checked) -----------------------------------------

/// Two threads take locks `a` and `b` with nested `with`: in opposite orders, or
/// (`SAME_ORDER`) both `a` then `b`.
fn two_locks<B: Backend, const SAME_ORDER: bool>() {
    let a = Arc::new(Lock::<B>::new().with_name("a"));
    let b = Arc::new(Lock::<B>::new().with_name("b"));
    let (a1, b1) = (a.clone(), b.clone());
    let t1 = B::spawn("t1", move || {
        let _a = a1.lock();
        let _b = b1.lock();
    });
    let (a2, b2) = (a, b);
    let t2 = B::spawn("t2", move || {
        if SAME_ORDER {
            let _a = a2.lock();
            let _b = b2.lock();
        } else {
            let _b = b2.lock();
            let _a = a2.lock();
        }
    });
    t1.join();
    t2.join();
}

/// Three threads, every one taking `a`, `b`, `c` in that one order.
fn three_locks_one_order<B: Backend>() {
    let locks: Arc<[Lock<B>; 3]> = Arc::new([
        Lock::new().with_name("a"),
        Lock::new().with_name("b"),
        Lock::new().with_name("c"),
    ]);
    let ts: Vec<_> = (0..3)
        .map(|i| {
            let locks = locks.clone();
            B::spawn(&format!("t{i}"), move || {
                // Each thread uses two of the three, in the global order.
                let (x, y) = [(0, 1), (1, 2), (0, 2)][i];
                let _x = locks[x].lock();
                let _y = locks[y].lock();
            })
        })
        .collect();
    for t in ts {
        t.join();
    }
}

/// rule-1.3-03: nested `with` statements can manage several locks, but the order must be
/// the same everywhere: opposite orders deadlock, one order does not.
#[test]
fn rule_1_3_03_nested_with_needs_one_order() {
    quiet_panics();
    assert_eq!(
        deadlock_cycle(loom_check(two_locks::<Loom, false>)).len(),
        2
    );
    assert!(loom_check(two_locks::<Loom, true>).is_ok());
}

/// rule-1.4-01: a deadlock is threads each waiting for a lock another holds, none able to
/// go on. The checker finds it in the opposite-order program and names the cycle.
#[test]
fn rule_1_4_01_deadlock_is_a_cycle_of_waits() {
    quiet_panics();
    let report = loom_check(two_locks::<Loom, false>).expect_err("a deadlock");
    let Some(Failure::Deadlock(d)) = report.failure else {
        panic!("expected a deadlock, got {:?}", report.failure);
    };
    let cycle = d.cycle.expect("a waits-for cycle");
    assert_eq!(cycle.len(), 2);
    // Every thread of the cycle waits for a lock held by the next one.
    for (i, t) in cycle.iter().enumerate() {
        let next = cycle[(i + 1) % cycle.len()];
        let b = d
            .threads
            .iter()
            .find(|b| b.thread == *t)
            .expect("a blocked thread");
        assert_eq!(b.op, "acquire");
        assert_eq!(b.held_by, [next]);
    }
}

/// rule-1.4-02 (the tutorial is wrong about Lock): "no preemption — a lock can only be
/// released by the thread holding it". Any thread may release a Lock, so a third thread can
/// break a deadlock of two; the deadlocked holder's own release then fails.
#[test]
fn rule_1_4_02_any_thread_can_release_a_deadlocked_lock() {
    let a: Lock = Lock::new();
    let b: Lock = Lock::new();
    let holding = AtomicUsize::new(0);
    thread::scope(|s| {
        let t1 = s.spawn(|| {
            assert!(a.acquire());
            holding.fetch_add(1, SeqCst);
            spin_until("t2 holds b", || holding.load(SeqCst) == 2);
            assert!(b.acquire()); // waits for t2
            b.release().unwrap();
            // main released `a` for us, and t2 took and released it since.
            a.release()
        });
        let t2 = s.spawn(|| {
            assert!(b.acquire());
            holding.fetch_add(1, SeqCst);
            spin_until("t1 holds a", || holding.load(SeqCst) == 2);
            assert!(a.acquire()); // waits for t1 — or for whoever releases `a`
            a.release().unwrap();
            b.release().unwrap();
        });
        spin_until("both hold their first lock", || holding.load(SeqCst) == 2);
        // Main never acquired `a`; it releases it anyway and the cycle is broken.
        assert_eq!(a.release(), Ok(()));
        t2.join().unwrap();
        assert_release_unlocked(t1.join().unwrap());
    });
    assert!(!a.locked() && !b.locked());
}

/// rule-1.4-03: two threads taking the same two locks in opposite orders can deadlock.
#[test]
fn rule_1_4_03_opposite_orders_can_deadlock() {
    quiet_panics();
    assert_eq!(
        deadlock_cycle(loom_check(two_locks::<Loom, false>)).len(),
        2
    );
    assert_eq!(
        deadlock_cycle(shuttle_check(two_locks::<Shuttle, false>, 500)).len(),
        2
    );
}

/// rule-1.4-04: when every thread takes its locks in one global order there is no cycle,
/// so no deadlock: loom explores every interleaving of three threads over three locks.
#[test]
fn rule_1_4_04_one_global_order_never_deadlocks() {
    assert!(loom_check(three_locks_one_order::<Loom>).is_ok());
    assert!(loom_check(two_locks::<Loom, true>).is_ok());
    assert!(shuttle_check(three_locks_one_order::<Shuttle>, 500).is_ok());
}

/// Two threads, opposite orders, each giving up on a timeout (`acquire(timeout=0.5)`) and
/// releasing what it holds before retrying (twice at most).
fn opposite_orders_with_timeouts<B: Backend>() {
    let a = Arc::new(Lock::<B>::new().with_name("a"));
    let b = Arc::new(Lock::<B>::new().with_name("b"));
    let worker = |first: Arc<Lock<B>>, second: Arc<Lock<B>>| {
        move || {
            for _ in 0..2 {
                if first.acquire_timeout(0.5).unwrap() {
                    let got = second.acquire_timeout(0.5).unwrap();
                    if got {
                        second.release().unwrap();
                    }
                    first.release().unwrap();
                    if got {
                        return;
                    }
                }
                B::sleep(Duration::from_millis(100));
            }
        }
    };
    let t1 = B::spawn("t1", worker(a.clone(), b.clone()));
    let t2 = B::spawn("t2", worker(b, a));
    t1.join();
    t2.join();
}

/// rule-1.4-05: with `acquire(timeout=...)`, giving up and releasing the locks already held
/// on a timeout, no wait is endless: no execution deadlocks, in timed or adversarial time.
#[test]
fn rule_1_4_05_timeouts_end_every_wait() {
    assert!(loom_check(opposite_orders_with_timeouts::<Loom>).is_ok());
    let adversarial = WorldConfig {
        time: TimeMode::Adversarial,
        ..WorldConfig::default()
    };
    assert!(shuttle_with(adversarial, 500, opposite_orders_with_timeouts::<Shuttle>).is_ok());
}

/// Two threads, opposite orders, `acquire(blocking=False)` on both, releasing the first on
/// failure and retrying (three attempts at most).
fn opposite_orders_try_lock<B: Backend>() {
    let a = Arc::new(Lock::<B>::new().with_name("a"));
    let b = Arc::new(Lock::<B>::new().with_name("b"));
    let worker = |first: Arc<Lock<B>>, second: Arc<Lock<B>>| {
        move || {
            for _ in 0..3 {
                if first.try_acquire() {
                    let got = second.try_acquire();
                    if got {
                        second.release().unwrap();
                    }
                    first.release().unwrap();
                    if got {
                        return;
                    }
                }
                B::sleep(Duration::from_millis(5));
            }
        }
    };
    let t1 = B::spawn("t1", worker(a.clone(), b.clone()));
    let t2 = B::spawn("t2", worker(b, a));
    t1.join();
    t2.join();
}

/// rule-1.4-06: with `acquire(blocking=False)`, releasing the held lock on failure and
/// retrying, no thread ever waits for a lock: no execution deadlocks.
#[test]
fn rule_1_4_06_try_lock_never_deadlocks() {
    assert!(loom_check(opposite_orders_try_lock::<Loom>).is_ok());
    assert!(shuttle_check(opposite_orders_try_lock::<Shuttle>, 500).is_ok());
}

//! Chapter 2 of the tutorial (threading.RLock): its prose rules (`rule-2.S-NN`) and its
//! single-thread demos (`ex-2.S-NN`), as tests named after the catalogue record they cover
//! (`corpus/catalogue/ch2.jsonl`).
//!
//! Real threads where the rule is about what one thread sees; loom and shuttle (through
//! `support`) where it is about what can happen between threads, or about a thread that
//! blocks forever (a checked world reports the deadlock instead of hanging). No test sleeps
//! to let another thread get somewhere: threads hand over through channels.

mod support;

use lockproof::backend::checked::{violate, Failure, ThreadId};
use lockproof::backend::{Backend, JoinHandle, Loom, Shuttle, Std};
use lockproof::{Error, Lock, PyException, RLock, Shared};
use std::cell::{Cell, RefCell};
use std::sync::mpsc;
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};
use support::{loom_check, quiet_panics, shuttle_check};

/// Run `f` on another (real) thread and return what it returns.
fn elsewhere<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    thread::scope(|s| s.spawn(f).join().expect("the other thread panicked"))
}

/// `RLock.acquire(timeout=0.05)` from another thread: `false`, after waiting the timeout.
fn times_out_elsewhere(r: &RLock) {
    elsewhere(|| {
        let start = Instant::now();
        assert_eq!(r.acquire_timeout(0.05), Ok(false));
        assert!(start.elapsed() >= Duration::from_millis(50));
    });
}

/// Assert a checked run failed with a deadlock, and return the report's text.
fn expect_deadlock(r: Result<usize, Box<lockproof::backend::checked::ExecutionReport>>) -> String {
    let report = r.expect_err("the checker should find the deadlock");
    match report.failure {
        Some(f @ Failure::Deadlock(_)) => format!("{f:?}"),
        other => panic!("expected a deadlock, got {other:?}"),
    }
}

// ---- single-thread demos -------------------------------------------------------------------

/// ex-2.1-01: `recursive_function(3)` takes the RLock at every level on the main thread,
/// prints levels 3, 2, 1, then "递归完成"; nothing blocks and the lock ends free.
#[test]
fn ex_2_1_01_recursive_function_reenters_three_levels() {
    fn recursive_function(r: &RLock, n: usize, printed: &mut Vec<(usize, usize)>) {
        if n == 0 {
            return;
        }
        assert!(r.acquire());
        printed.push((n, r.recursion_count()));
        recursive_function(r, n - 1, printed);
        r.release().unwrap();
    }
    let rlock = RLock::<Std>::new();
    let mut printed = Vec::new();
    recursive_function(&rlock, 3, &mut printed);
    // (level printed, RLock depth at that point)
    assert_eq!(printed, [(3, 1), (2, 2), (1, 3)]);
    assert_eq!(rlock.recursion_count(), 0);
    assert!(elsewhere(|| rlock.try_acquire() && rlock.release().is_ok()));
}

/// ex-2.1-02: `good_recursive(3)` on an RLock prints levels 3, 2, 1 and "RLock递归完成".
/// (Its commented-out `bad_recursive(2)` on a Lock deadlocks: scenario `ex-2.1-02-lock`.)
#[test]
fn ex_2_1_02_good_recursive_reenters_rlock() {
    fn good_recursive(r: &RLock, n: usize, printed: &mut Vec<usize>) {
        if n == 0 {
            return;
        }
        r.acquire();
        printed.push(n);
        assert_eq!(r.recursion_count(), printed.len());
        good_recursive(r, n - 1, printed);
        r.release().unwrap();
    }
    let rlock = RLock::<Std>::new();
    let mut printed = Vec::new();
    good_recursive(&rlock, 3, &mut printed);
    assert_eq!(printed, [3, 2, 1]);
    assert!(elsewhere(|| rlock.try_acquire() && rlock.release().is_ok()));
}

/// ex-2.1-03: `level1 → level2 → level3` each enter `with self.rlock`; the prints say the
/// lock's count is 1, 2, 3 (the RLock's recursion count, which the code never reads: here
/// it is read), the user counter ends at 3, and every level is released afterwards.
#[test]
fn ex_2_1_03_rlock_demo_counts_levels() {
    struct RLockDemo {
        rlock: RLock,
        counter: Cell<usize>,
        seen: RefCell<Vec<usize>>,
    }
    impl RLockDemo {
        // level1, level2 and level3 differ only in their prints.
        fn level(&self, n: usize) {
            let _with = self.rlock.lock();
            self.seen.borrow_mut().push(self.rlock.recursion_count()); // "计数器应为n"
            self.counter.set(self.counter.get() + 1);
            if n < 3 {
                self.level(n + 1);
            }
        }
    }
    let demo = RLockDemo {
        rlock: RLock::<Std>::new(),
        counter: Cell::new(0),
        seen: RefCell::new(Vec::new()),
    };
    demo.level(1);
    assert_eq!(*demo.seen.borrow(), [1, 2, 3]);
    assert_eq!(demo.counter.get(), 3); // 最终计数: 3 / 总计数: 3
    assert_eq!(demo.rlock.recursion_count(), 0); // 所有锁已释放
    assert!(elsewhere(|| demo.rlock.try_acquire()));
}

/// ex-2.3-01: `nested_operation(4)` logs a shadow acquire count 1, 2, 3, 4 on the way down
/// and 3, 2, 1, 0 on the way up; the shadow count equals the RLock's own recursion count
/// at every step, and the lock ends free.
#[test]
fn ex_2_3_01_rlock_monitor_shadow_count_matches() {
    struct RLockMonitor {
        rlock: RLock,
        acquire_count: usize,
        log: Vec<(&'static str, usize)>,
    }
    impl RLockMonitor {
        fn acquire_with_log(&mut self) {
            self.rlock.acquire();
            self.acquire_count += 1;
            assert_eq!(self.rlock.recursion_count(), self.acquire_count);
            self.log.push(("acquire", self.acquire_count));
        }
        fn release_with_log(&mut self) {
            self.acquire_count -= 1;
            self.log.push(("release", self.acquire_count));
            self.rlock.release().unwrap();
            assert_eq!(self.rlock.recursion_count(), self.acquire_count);
        }
        fn nested_operation(&mut self, depth: usize) {
            if depth == 0 {
                return;
            }
            self.acquire_with_log();
            self.nested_operation(depth - 1);
            self.release_with_log();
        }
    }
    let mut m = RLockMonitor {
        rlock: RLock::<Std>::new(),
        acquire_count: 0,
        log: Vec::new(),
    };
    m.nested_operation(4);
    let want: Vec<(&str, usize)> = [1, 2, 3, 4]
        .map(|n| ("acquire", n))
        .into_iter()
        .chain([3, 2, 1, 0].map(|n| ("release", n)))
        .collect();
    assert_eq!(m.log, want);
    assert!(elsewhere(|| m.rlock.try_acquire())); // 最终状态: 所有锁已释放
}

/// ex-2.3-02 as written: `good_practice()` releases both levels, so the check that follows
/// (`acquire(blocking=False)` in the same thread) prints "锁可用" and is right. The check
/// cannot tell a leak, though: after the commented-out `bad_practice()` it prints the same
/// (here, and scenario `ex-2.3-02-leak` in the checker), while another thread sees the
/// lock held.
#[test]
fn ex_2_3_02_check_after_good_practice_and_after_a_leak() {
    let rlock = RLock::<Std>::new();
    // good_practice()
    rlock.acquire();
    rlock.acquire();
    rlock.release().unwrap();
    rlock.release().unwrap();
    assert!(rlock.try_acquire(), "锁可用");
    rlock.release().unwrap();
    assert!(elsewhere(|| rlock.try_acquire() && rlock.release().is_ok()));

    // bad_practice(): one level leaks; the same-thread check still says 锁可用.
    rlock.acquire();
    rlock.acquire();
    rlock.release().unwrap();
    assert!(rlock.try_acquire(), "the owner re-enters");
    rlock.release().unwrap();
    assert_eq!(rlock.recursion_count(), 1);
    assert!(
        !elsewhere(|| rlock.try_acquire()),
        "another thread sees the leak"
    );
    rlock.release().unwrap();
}

/// ex-2.3-03: `test_max_depth(0)` re-acquires the RLock at depths 0..=500 (501 levels)
/// and prints "成功测试深度: 500"; the RecursionError branch is not reached.
#[test]
fn ex_2_3_03_recursion_depth_500() {
    fn test_max_depth(r: &RLock, depth: usize, max_depth: &mut usize) {
        *max_depth = (*max_depth).max(depth);
        r.acquire();
        if depth < 500 {
            test_max_depth(r, depth + 1, max_depth);
        } else {
            assert_eq!(r.recursion_count(), 501);
        }
        r.release().unwrap();
    }
    let rlock = RLock::<Std>::new();
    let mut max_depth = 0;
    test_max_depth(&rlock, 0, &mut max_depth);
    assert_eq!(max_depth, 500);
    assert_eq!(rlock.recursion_count(), 0);
}

/// ex-2.4-01: the Lock is acquired once and released (a second acquire, commented out,
/// would never return: shown here with a timeout); the RLock is acquired twice by the same
/// thread and two releases free it.
#[test]
fn ex_2_4_01_lock_once_rlock_twice() {
    let lock = Lock::<Std>::new();
    assert!(lock.acquire()); // "Lock: 第一次获取成功"
    let start = Instant::now();
    assert_eq!(lock.acquire_timeout(0.05), Ok(false)); // lock.acquire() would block forever
    assert!(start.elapsed() >= Duration::from_millis(50));
    lock.release().unwrap();
    assert!(!lock.locked());

    let rlock = RLock::<Std>::new();
    assert!(rlock.acquire()); // "RLock: 第一次获取成功"
    assert!(rlock.acquire()); // "RLock: 第二次获取成功(重入)"
    assert_eq!(rlock.recursion_count(), 2);
    rlock.release().unwrap();
    rlock.release().unwrap(); // "RLock: 全部释放"
    assert!(elsewhere(|| rlock.try_acquire() && rlock.release().is_ok()));
}

// ---- rules ---------------------------------------------------------------------------------

/// rule-2.1-01: the owner may acquire an RLock repeatedly; each acquire adds one level,
/// each release takes one away, and the lock is free only at 0.
#[test]
fn rule_2_1_01_owner_reenters_and_count_reaches_zero() {
    let r = RLock::<Std>::new();
    for level in 1..=3 {
        assert!(r.acquire());
        assert_eq!(r.recursion_count(), level);
    }
    for level in (1..=2).rev() {
        r.release().unwrap();
        assert_eq!(r.recursion_count(), level);
        assert!(!elsewhere(|| r.try_acquire()), "held at level {level}");
    }
    r.release().unwrap();
    assert_eq!(r.recursion_count(), 0);
    assert!(elsewhere(|| r.try_acquire() && r.release().is_ok()));
}

/// The holder of a Lock acquires it again: a deadlock (no other thread can release it).
fn lock_reacquired_by_holder<B: Backend>() {
    let lock = Lock::<B>::new().with_name("lock");
    lock.acquire();
    lock.acquire();
}

/// The same with an RLock: the second acquire re-enters.
fn rlock_reacquired_by_owner<B: Backend>() {
    let r = Arc::new(RLock::<B>::new().with_name("rlock"));
    let r2 = r.clone();
    // A second thread so that shuttle's PCT has something to schedule.
    let t = B::spawn("t", move || {
        r2.acquire();
        r2.acquire();
        r2.release().unwrap();
        r2.release().unwrap();
    });
    r.acquire();
    r.acquire();
    if r.recursion_count() != 2 {
        violate("reentrancy", "recursion_count() != 2");
    }
    r.release().unwrap();
    r.release().unwrap();
    t.join();
}

/// rule-2.1-02: a Lock re-acquired by its holder deadlocks (the checker reports the
/// waits-for cycle main → main); an RLock re-acquired by its owner does not. On real
/// threads the Lock's second acquire never succeeds (a timeout shows it without hanging).
#[test]
fn rule_2_1_02_lock_not_reentrant_rlock_is() {
    let report = expect_deadlock(loom_check(lock_reacquired_by_holder::<Loom>));
    assert!(report.contains("cycle"), "{report}");
    loom_check(rlock_reacquired_by_owner::<Loom>).unwrap_or_else(|r| panic!("{:?}", r.failure));
    shuttle_check(rlock_reacquired_by_owner::<Shuttle>, 200)
        .unwrap_or_else(|r| panic!("{:?}", r.failure));

    let lock = Lock::<Std>::new();
    lock.acquire();
    assert!(!lock.try_acquire());
    assert_eq!(lock.acquire_timeout(0.05), Ok(false));
    lock.release().unwrap();
}

/// rule-2.1-03: `acquire()` by the owner increments the count at once (even a non-blocking
/// one or a zero timeout); by anyone else it waits (a poll fails, a timeout expires);
/// `release()` decrements, and at 0 the lock is freed for the waiting thread.
#[test]
fn rule_2_1_03_acquire_checks_the_owner() {
    let r = RLock::<Std>::new();
    r.acquire();
    assert!(r.try_acquire()); // the owner: never blocks
    assert_eq!(r.acquire_timeout(0.0), Ok(true));
    assert_eq!(r.recursion_count(), 3);
    assert!(!elsewhere(|| r.try_acquire())); // anyone else: would block
    times_out_elsewhere(&r);
    let (tx, rx) = mpsc::channel();
    thread::scope(|s| {
        let waiter = s.spawn(|| {
            tx.send(()).unwrap();
            r.acquire(); // blocks until the owner is down to 0
            let count = r.recursion_count();
            r.release().unwrap();
            count
        });
        rx.recv().unwrap();
        for _ in 0..3 {
            r.release().unwrap();
        }
        assert_eq!(waiter.join().unwrap(), 1);
    });
}

/// Thread 1 holds the RLock two levels deep and lets go one level at a time; thread 2
/// must not get it before both are released.
fn other_thread_waits_for_full_release<B: Backend>() {
    let r = Arc::new(RLock::<B>::new().with_name("rlock"));
    let levels = Arc::new(Shared::<usize, B>::new(0).with_name("t1_levels"));
    let (r1, l1) = (r.clone(), levels.clone());
    let t1 = B::spawn("t1", move || {
        r1.acquire();
        r1.acquire();
        l1.set(2);
        l1.set(1);
        r1.release().unwrap();
        l1.set(0);
        r1.release().unwrap();
    });
    let (r2, l2) = (r.clone(), levels.clone());
    let t2 = B::spawn("t2", move || {
        let _with = r2.lock();
        let held = l2.get();
        if held != 0 {
            violate(
                "waits-for-full-release",
                &format!("t2 got the RLock while t1 held {held} level(s)"),
            );
        }
    });
    t1.join();
    t2.join();
}

/// rule-2.1-04: reentrancy is the owner's only: another thread gets the lock only once the
/// owner released every level (every interleaving, loom; random and PCT, shuttle). On real
/// threads: after one of two releases another thread still cannot take it.
#[test]
fn rule_2_1_04_other_threads_wait_for_the_full_release() {
    let n = loom_check(other_thread_waits_for_full_release::<Loom>)
        .unwrap_or_else(|r| panic!("{:?}", r.failure));
    assert!(n > 1, "loom explored {n} executions");
    shuttle_check(other_thread_waits_for_full_release::<Shuttle>, 300)
        .unwrap_or_else(|r| panic!("{:?}", r.failure));

    let r = RLock::<Std>::new();
    r.acquire();
    r.acquire();
    r.release().unwrap();
    assert!(!elsewhere(|| r.try_acquire()), "one level still held");
    times_out_elsewhere(&r);
    r.release().unwrap();
    assert!(elsewhere(|| r.try_acquire() && r.release().is_ok()));
}

/// rule-2.3-01: the RLock records its owner and a count: the first acquire sets owner =
/// the caller and count = 1, re-acquires increment, releases decrement, and at 0 the owner
/// is cleared (repr `owner=0 count=0`) and the lock released.
#[test]
fn rule_2_3_01_owner_id_and_recursion_count() {
    let r = RLock::<Std>::new();
    assert_eq!(
        format!("{r:?}"),
        "<unlocked _thread.RLock object owner=0 count=0>"
    );
    r.acquire();
    let shown = format!("{r:?}");
    assert!(
        shown.starts_with("<locked _thread.RLock object owner="),
        "{shown}"
    );
    assert!(shown.ends_with(" count=1>"), "{shown}");
    assert!(!shown.contains("owner=0 "), "{shown}");
    assert!(r.is_owned());
    assert!(!elsewhere(|| r.is_owned()));
    r.acquire();
    assert!(format!("{r:?}").ends_with(" count=2>"));
    r.release().unwrap();
    assert!(format!("{r:?}").ends_with(" count=1>"));
    r.release().unwrap();
    assert_eq!(
        format!("{r:?}"),
        "<unlocked _thread.RLock object owner=0 count=0>"
    );
    assert!(!r.is_owned());
}

/// A thread acquires twice and releases once, then finishes; another thread's acquire
/// never returns.
fn unmatched_acquire<B: Backend>() {
    let r = Arc::new(RLock::<B>::new().with_name("rlock"));
    let r1 = r.clone();
    B::spawn("t1", move || {
        r1.acquire();
        r1.acquire();
        r1.release().unwrap();
    })
    .join();
    r.acquire();
}

/// rule-2.3-02: an acquire without its release leaves the count above 0: the lock stays
/// held, even after the owner is gone, and every other thread blocks forever (the checker
/// reports the deadlock; on real threads a timeout shows it). The owner itself still
/// re-enters (which is why ex-2.3-02's same-thread check cannot see the leak).
#[test]
fn rule_2_3_02_unmatched_acquire_blocks_others_forever() {
    let report = loom_check(unmatched_acquire::<Loom>).expect_err("a deadlock");
    match report.failure {
        // main (0) waits in acquire for the lock that t1 (1), finished, still holds.
        Some(Failure::Deadlock(d)) => {
            assert_eq!(d.threads.len(), 1, "{d:?}");
            assert_eq!(
                (d.threads[0].thread, d.threads[0].op),
                (ThreadId::MAIN, "acquire")
            );
            assert_eq!(d.threads[0].held_by, [ThreadId::from_index(1)]);
        }
        other => panic!("expected a deadlock, got {other:?}"),
    }

    let r = RLock::<Std>::new();
    r.acquire();
    r.acquire();
    r.release().unwrap();
    assert_eq!(r.recursion_count(), 1);
    assert!(!elsewhere(|| r.try_acquire()));
    times_out_elsewhere(&r);
    assert!(r.try_acquire(), "the owner re-enters");
    r.release().unwrap();
    r.release().unwrap();
}

/// rule-2.3-03: the RLock itself puts no practical bound on the depth (CPython's count is
/// a C unsigned long; lockproof's a usize): 100,000 levels taken and given back in a loop,
/// no recursion involved.
#[test]
fn rule_2_3_03_depth_is_not_limited_by_the_lock() {
    let r = RLock::<Std>::new();
    const DEPTH: usize = 100_000;
    for _ in 0..DEPTH {
        assert!(r.acquire());
    }
    assert_eq!(r.recursion_count(), DEPTH);
    for _ in 0..DEPTH {
        r.release().unwrap();
    }
    assert_eq!(r.recursion_count(), 0);
    let e = r.release().unwrap_err();
    assert_eq!(e, Error::ReleaseUnacquired);
    assert_eq!(e.exception(), PyException::RuntimeError);
}

/// rule-2.4-01: Lock: the same thread's second acquire deadlocks; RLock: the same thread
/// acquires it as often as it likes (nested calls).
#[test]
fn rule_2_4_01_lock_deadlocks_rlock_reenters() {
    quiet_panics();
    expect_deadlock(loom_check(lock_reacquired_by_holder::<Loom>));
    let report =
        shuttle_check(lock_reacquired_by_holder::<Shuttle>, 10).expect_err("shuttle finds it too");
    assert!(matches!(report.failure, Some(Failure::Deadlock(_))));

    let r = RLock::<Std>::new();
    fn nested(r: &RLock, n: usize) -> usize {
        let _with = r.lock();
        if n == 0 {
            r.recursion_count()
        } else {
            nested(r, n - 1)
        }
    }
    assert_eq!(nested(&r, 9), 10);
    assert_eq!(r.recursion_count(), 0);
}

//! The prose rules of the tutorial's chapter 3 (threading.Condition), each checked against
//! lockproof's Condition (CPython 3.11's algorithm) on real threads; one test per catalogue
//! record, named after it (`rule-3.1-02` → `rule_3_1_02_*`). Where the tutorial states a
//! rule wrongly, the test asserts what CPython actually does (`corpus/catalogue/ch3.jsonl`
//! says which, in `cpython`).
//!
//! No test sleeps to let another thread block: a waiter is known to be queued when
//! [`Condition::n_waiters`] counts it (it has released the lock by then), and waiters are
//! queued in a known order by starting each one only once the previous one is counted.
//!
//! One rule (rule-3.3-02, notify vs notify_all with several producers and consumers) is a
//! statement about every interleaving; it is checked under shuttle (random and PCT).

mod support;

use lockproof::backend::checked::Failure;
use lockproof::backend::{Backend, JoinHandle, Shuttle};
use lockproof::{Condition, ConditionLock, Error, Lock, RLock, Shared};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};
use support::{
    assert_waited, for_a_while, quiet_panics, raises, shuttle_check, spin_until, A_WHILE,
};

// ---- 3.1 threading.Condition ------------------------------------------------------------

/// rule-3.1-01: a Condition is associated with a lock and provides `wait()`, `notify()`
/// and `notify_all()` (Python's `notifyAll()` is a deprecated alias of `notify_all()`).
#[test]
fn rule_3_1_01_condition_has_a_lock_and_wait_notify_notify_all() {
    let lock = Arc::new(Lock::new());
    let cond: Condition = Condition::with_lock(lock.clone());
    // Associated with the lock: taking the condition takes the lock, and back.
    assert!(cond.acquire());
    assert!(lock.locked());
    cond.release().unwrap();
    assert!(!lock.locked());
    // wait / notify / notify_all coordinate threads over it.
    let ready = AtomicUsize::new(0);
    thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| {
                let _g = cond.lock();
                while ready.load(SeqCst) == 0 {
                    assert_eq!(cond.wait(None), Ok(true));
                }
            });
        }
        spin_until("two waiters", || cond.n_waiters() == 2);
        let _g = cond.lock();
        ready.store(1, SeqCst);
        assert_eq!(cond.notify_one(), Ok(()));
        assert_eq!(cond.n_waiters(), 1);
        assert_eq!(cond.notify_all(), Ok(()));
        assert_eq!(cond.n_waiters(), 0);
    });
}

/// rule-3.1-02: `wait()` releases the lock and sleeps; after a notify the woken thread
/// re-acquires the lock and re-checks the condition.
#[test]
fn rule_3_1_02_wait_releases_the_lock_woken_thread_reacquires_and_rechecks() {
    let lock = Arc::new(Lock::new());
    let cond: Condition = Condition::with_lock(lock.clone());
    let flag = AtomicBool::new(false);
    let checks = AtomicUsize::new(0);
    thread::scope(|s| {
        s.spawn(|| {
            let _g = cond.lock();
            loop {
                checks.fetch_add(1, SeqCst);
                if flag.load(SeqCst) {
                    break;
                }
                assert_eq!(cond.wait(None), Ok(true));
                // Back from wait: the lock is held again, by this thread.
                assert!(lock.locked());
            }
        });
        spin_until("the waiter waits", || cond.n_waiters() == 1);
        // The waiter released the lock: another thread can take it.
        assert!(lock.try_acquire());
        flag.store(true, SeqCst);
        cond.notify_one().unwrap();
        lock.release().unwrap();
    });
    // It checked the condition once before waiting and once after the wakeup.
    assert_eq!(checks.load(SeqCst), 2);
}

/// rule-3.1-03: `Condition(lock=None)` takes a Lock or an RLock; without one it makes an
/// RLock.
#[test]
fn rule_3_1_03_condition_takes_a_lock_or_rlock_default_rlock() {
    let cond: Condition = Condition::new();
    assert!(matches!(cond.underlying_lock(), ConditionLock::RLock(_)));
    // An RLock: the same thread can take it twice.
    assert!(cond.acquire());
    assert!(cond.try_acquire());
    cond.release().unwrap();
    cond.release().unwrap();

    let lock = Arc::new(Lock::new());
    let cond: Condition = Condition::with_lock(lock.clone());
    assert!(matches!(cond.underlying_lock(), ConditionLock::Lock(l) if Arc::ptr_eq(l, &lock)));
    assert!(cond.acquire());
    // A plain Lock: not reentrant.
    assert!(!cond.try_acquire());
    cond.release().unwrap();

    let rlock = Arc::new(RLock::new());
    let cond: Condition = Condition::with_rlock(rlock.clone());
    assert!(matches!(cond.underlying_lock(), ConditionLock::RLock(r) if Arc::ptr_eq(r, &rlock)));
    assert!(cond.acquire());
    assert!(cond.acquire());
    assert_eq!(rlock.recursion_count(), 2);
    cond.release().unwrap();
    cond.release().unwrap();
}

/// rule-3.1-04: `wait()` releases the lock, blocks until notified or timed out, and has
/// the lock again before it returns — also when notified while the notifier still holds
/// it.
#[test]
fn rule_3_1_04_wait_blocks_until_notify_or_timeout_and_reacquires_before_returning() {
    let lock = Arc::new(Lock::new());
    let cond: Condition = Condition::with_lock(lock.clone());
    // Timed out: back after the timeout, holding the lock.
    {
        let _g = cond.lock();
        let t = Instant::now();
        assert_eq!(cond.wait(Some(0.05)), Ok(false));
        assert_waited(t, 0.05);
        assert!(lock.locked());
    }
    assert!(!lock.locked());
    // Notified: it returns only once it has the lock back, so it sees everything the
    // notifier did before releasing.
    let after_notify = AtomicUsize::new(0);
    let returned = AtomicBool::new(false);
    thread::scope(|s| {
        s.spawn(|| {
            let _g = cond.lock();
            assert_eq!(cond.wait(None), Ok(true));
            returned.store(true, SeqCst);
            assert!(lock.locked());
            assert_eq!(after_notify.load(SeqCst), 1);
        });
        spin_until("the waiter waits", || cond.n_waiters() == 1);
        let g = cond.lock();
        cond.notify_one().unwrap();
        // Notified, but the lock is ours: the waiter cannot return yet.
        assert!(for_a_while(A_WHILE, || !returned.load(SeqCst)));
        after_notify.store(1, SeqCst);
        drop(g);
    });
    assert!(returned.load(SeqCst));
}

/// rule-3.1-05: `wait(timeout)` returns `False` when the timeout elapsed, `True` when it was
/// notified.
#[test]
fn rule_3_1_05_wait_timeout_returns_false_on_timeout_true_if_notified() {
    let cond: Condition = Condition::new();
    {
        let _g = cond.lock();
        let t = Instant::now();
        assert_eq!(cond.wait(Some(0.05)), Ok(false));
        assert_waited(t, 0.05);
    }
    thread::scope(|s| {
        let h = s.spawn(|| {
            let _g = cond.lock();
            cond.wait(Some(30.0))
        });
        spin_until("the waiter waits", || cond.n_waiters() == 1);
        let _g = cond.lock();
        cond.notify_one().unwrap();
        drop(_g);
        assert_eq!(h.join().unwrap(), Ok(true));
    });
}

/// rule-3.1-06 (stated wrongly): `notify()` wakes one waiter, but which one is not "up to
/// the system": CPython queues waiters FIFO and `notify()` wakes the one that has waited
/// longest.
#[test]
fn rule_3_1_06_notify_wakes_exactly_one_the_longest_waiting() {
    const N: usize = 3;
    let cond: Condition = Condition::new();
    let woken = Mutex::new(Vec::new());
    thread::scope(|s| {
        for i in 0..N {
            let (cond, woken) = (&cond, &woken);
            s.spawn(move || {
                let _g = cond.lock();
                assert_eq!(cond.wait(None), Ok(true));
                woken.lock().unwrap().push(i);
            });
            spin_until("waiter queued", || cond.n_waiters() == i + 1);
        }
        for k in 1..=N {
            let g = cond.lock();
            cond.notify_one().unwrap();
            // Exactly one left the queue.
            assert_eq!(cond.n_waiters(), N - k);
            drop(g);
            spin_until("the notified waiter returns", || {
                woken.lock().unwrap().len() == k
            });
        }
    });
    // Woken in the order they started waiting.
    assert_eq!(*woken.lock().unwrap(), vec![0, 1, 2]);
}

/// rule-3.1-07: `notify_all()` wakes every waiter; they compete for the lock and go on
/// one at a time.
#[test]
fn rule_3_1_07_notify_all_wakes_all_and_they_proceed_one_at_a_time() {
    const N: usize = 3;
    let cond: Condition = Condition::new();
    let inside = AtomicUsize::new(0);
    let most_inside = AtomicUsize::new(0);
    let returned = AtomicUsize::new(0);
    thread::scope(|s| {
        for _ in 0..N {
            s.spawn(|| {
                let _g = cond.lock();
                assert_eq!(cond.wait(None), Ok(true));
                let n = inside.fetch_add(1, SeqCst) + 1;
                most_inside.fetch_max(n, SeqCst);
                // Stay a little, so that an overlap would show.
                for _ in 0..1000 {
                    thread::yield_now();
                }
                inside.fetch_sub(1, SeqCst);
                returned.fetch_add(1, SeqCst);
            });
        }
        spin_until("all wait", || cond.n_waiters() == N);
        let _g = cond.lock();
        cond.notify_all().unwrap();
        assert_eq!(cond.n_waiters(), 0);
    });
    assert_eq!(returned.load(SeqCst), N);
    assert_eq!(most_inside.load(SeqCst), 1);
}

// ---- 3.2 wait与notify --------------------------------------------------------------------

/// rule-3.2-01 (reason stated wrongly): wait in a `while` loop, yes — but not because
/// CPython's `wait()` wakes spuriously (it never returns `True` without a notify). It is
/// because a notified thread may find the condition false again: here `notify_all()`
/// wakes two consumers for one item, and the one that comes second must wait again.
#[test]
fn rule_3_2_01_while_loop_needed_for_shared_wakeups_not_spurious_ones() {
    let cond: Condition = Condition::new();
    // No spurious wakeups: an un-notified wait only ever times out.
    {
        let _g = cond.lock();
        for _ in 0..20 {
            assert_eq!(cond.wait(Some(0.005)), Ok(false));
        }
    }
    let items = AtomicUsize::new(0);
    let found_nothing = AtomicUsize::new(0);
    let taken = AtomicUsize::new(0);
    thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| {
                let _g = cond.lock();
                while items.load(SeqCst) == 0 {
                    assert_eq!(cond.wait(None), Ok(true));
                    if items.load(SeqCst) == 0 {
                        found_nothing.fetch_add(1, SeqCst);
                    }
                }
                items.fetch_sub(1, SeqCst);
                taken.fetch_add(1, SeqCst);
            });
        }
        spin_until("both consumers wait", || cond.n_waiters() == 2);
        {
            let _g = cond.lock();
            items.store(1, SeqCst);
            cond.notify_all().unwrap();
        }
        // One took the item; the other woke to an empty buffer and waits again.
        spin_until("one item taken, one consumer back in wait", || {
            taken.load(SeqCst) == 1 && cond.n_waiters() == 1
        });
        assert_eq!(found_nothing.load(SeqCst), 1);
        let _g = cond.lock();
        items.store(1, SeqCst);
        cond.notify_one().unwrap();
    });
    assert_eq!(taken.load(SeqCst), 2);
    assert_eq!(found_nothing.load(SeqCst), 1);
}

/// rule-3.2-02: notify after changing the shared state, holding the lock; without it
/// `notify()` and `notify_all()` raise `RuntimeError('cannot notify on un-acquired lock')`.
#[test]
fn rule_3_2_02_notify_must_hold_the_lock() {
    let cond: Condition = Condition::new();
    // RuntimeError('cannot notify on un-acquired lock'), each.
    for r in [cond.notify_one(), cond.notify(2), cond.notify_all()] {
        raises(r, Error::NotifyUnacquired);
    }
    // Holding the lock (another thread's lock does not count for an RLock).
    let cond = Arc::new(cond);
    assert!(cond.acquire());
    let c2 = cond.clone();
    let other = thread::spawn(move || c2.notify_one()).join().unwrap();
    assert_eq!(other, Err(Error::NotifyUnacquired));
    assert_eq!(cond.notify_one(), Ok(()));
    assert_eq!(cond.notify_all(), Ok(()));
    cond.release().unwrap();
}

/// rule-3.2-03 (half wrong): CPython's waiter is never woken without a `notify()` (the
/// "spurious" half is false), but a notified waiter may find the condition already changed
/// by another thread before it gets the lock back (the "stolen" half is true).
#[test]
fn rule_3_2_03_no_wakeup_without_notify_but_stolen_wakeups_happen() {
    let cond: Condition = Condition::new();
    let items = AtomicUsize::new(0);
    let returned = AtomicUsize::new(0);
    let found_nothing = AtomicUsize::new(0);
    thread::scope(|s| {
        s.spawn(|| {
            let _g = cond.lock();
            while items.load(SeqCst) == 0 {
                let r = cond.wait(None);
                returned.fetch_add(1, SeqCst);
                // Every return is a notified one.
                assert_eq!(r, Ok(true));
                if items.load(SeqCst) == 0 {
                    found_nothing.fetch_add(1, SeqCst);
                }
            }
            items.fetch_sub(1, SeqCst);
        });
        spin_until("the waiter waits", || cond.n_waiters() == 1);
        // Not woken without a notify.
        assert!(for_a_while(Duration::from_millis(100), || {
            returned.load(SeqCst) == 0
        }));
        // Produce, notify, and take the item back before the waiter has the lock.
        {
            let _g = cond.lock();
            items.store(1, SeqCst);
            cond.notify_one().unwrap();
            items.store(0, SeqCst);
        }
        spin_until("the waiter waits again", || cond.n_waiters() == 1);
        assert_eq!(found_nothing.load(SeqCst), 1);
        let _g = cond.lock();
        items.store(1, SeqCst);
        cond.notify_one().unwrap();
    });
    assert_eq!(returned.load(SeqCst), 2);
    assert_eq!(found_nothing.load(SeqCst), 1);
    assert_eq!(items.load(SeqCst), 0);
}

// ---- 3.3 生产者消费者模式 ----------------------------------------------------------------

/// rule-3.3-01: producer-consumer on a Condition: producers wait while the buffer is full,
/// consumers while it is empty. A one-slot buffer, 200 items: never over capacity, in
/// order, nothing lost.
#[test]
fn rule_3_3_01_producers_wait_while_full_consumers_while_empty() {
    const CAPACITY: usize = 1;
    const ITEMS: usize = 200;
    let cond: Condition = Condition::new();
    let buffer = Mutex::new(Vec::new());
    let most = AtomicUsize::new(0);
    let got = Mutex::new(Vec::new());
    thread::scope(|s| {
        s.spawn(|| {
            for i in 0..ITEMS {
                let _g = cond.lock();
                while buffer.lock().unwrap().len() >= CAPACITY {
                    cond.wait(None).unwrap();
                }
                let mut b = buffer.lock().unwrap();
                b.push(i);
                most.fetch_max(b.len(), SeqCst);
                drop(b);
                cond.notify_one().unwrap();
            }
        });
        s.spawn(|| {
            for _ in 0..ITEMS {
                let _g = cond.lock();
                while buffer.lock().unwrap().is_empty() {
                    cond.wait(None).unwrap();
                }
                let item = buffer.lock().unwrap().remove(0);
                got.lock().unwrap().push(item);
                cond.notify_one().unwrap();
            }
        });
    });
    assert_eq!(most.load(SeqCst), CAPACITY);
    assert_eq!(*got.lock().unwrap(), (0..ITEMS).collect::<Vec<_>>());
}

/// Two producers and two consumers on a one-slot buffer and one Condition, each producer
/// putting 2 items and each consumer taking 2; `ALL` chooses `notify_all()` over
/// `notify()`.
fn many_producers_consumers<B: Backend, const ALL: bool>() {
    let cond = Arc::new(Condition::<B>::new().with_name("condition"));
    let buffer = Arc::new(Shared::<usize, B>::new(0).with_name("buffer"));
    let notify = |c: &Condition<B>| {
        if ALL {
            c.notify_all().unwrap();
        } else {
            c.notify_one().unwrap();
        }
    };
    let mut threads = Vec::new();
    for p in 0..2 {
        let (c, b) = (cond.clone(), buffer.clone());
        threads.push(B::spawn(&format!("producer{p}"), move || {
            for _ in 0..2 {
                let _g = c.lock();
                while b.get() >= 1 {
                    c.wait(None).unwrap();
                }
                b.set(b.get() + 1);
                notify(&c);
            }
        }));
    }
    for k in 0..2 {
        let (c, b) = (cond.clone(), buffer.clone());
        threads.push(B::spawn(&format!("consumer{k}"), move || {
            for _ in 0..2 {
                let _g = c.lock();
                while b.get() == 0 {
                    c.wait(None).unwrap();
                }
                b.set(b.get() - 1);
                notify(&c);
            }
        }));
    }
    for t in threads {
        t.join();
    }
}

/// rule-3.3-02: with several producers and consumers on one Condition, `notify()` can wake
/// a thread of the wrong side, and every thread ends up waiting (a lost wakeup); with
/// `notify_all()` every waiter re-checks and the same program always finishes.
#[test]
fn rule_3_3_02_notify_one_can_stall_many_producers_consumers_notify_all_cannot() {
    quiet_panics();
    let r = shuttle_check(many_producers_consumers::<Shuttle, false>, 2000);
    let report = r.expect_err("notify() with 2 producers and 2 consumers never stalled");
    match report.failure {
        Some(Failure::Deadlock(d)) => assert!(d.lost_wakeup, "not a lost wakeup: {d:?}"),
        other => panic!("expected a lost wakeup, got {other:?}"),
    }
    let n = shuttle_check(many_producers_consumers::<Shuttle, true>, 500)
        .unwrap_or_else(|rep| panic!("notify_all() failed: {:?}", rep.failure));
    assert!(n > 0);
}

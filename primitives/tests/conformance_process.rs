//! The `multiprocessing` conformance checks of SEMANTICS.md (123–156) against
//! `lockproof::process`, on real threads of one process where the check needs no second
//! process. The checks that need one (129, 134, 150, 151) are in `process_real.rs`, with
//! real child processes; the ones Rust's types rule out (126–128, 137, 149, 153, 154 and
//! the `isinstance` half of 148) are accounted for in `primitives/CONFORMANCE.md`.
//!
//! Errors are asserted by variant, Python class and exact message. No test sleeps to let a
//! thread block: a waiter is known to wait when the condition's sleeper count says so.

mod support;

use lockproof::multiprocessing::{
    Array, Barrier, BoundedSemaphore, Condition, Event, Lock, RLock, RawValue, Semaphore, Value,
};
use lockproof::{Error, PyException};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};
use std::thread;
use std::time::{Duration, Instant};
use support::{assert_err, spin_until};

const TOO_MANY: &str = "semaphore or lock released too many times";
const NOT_OWNED: &str = "attempt to release recursive lock not owned by thread";

/// Run `f` on a thread named `main`, as the process's main thread (the reprs name another
/// thread as `MainProcess|<thread>`).
fn on_main_thread<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    thread::Builder::new()
        .name("main".into())
        .spawn(f)
        .unwrap()
        .join()
        .unwrap()
}

#[test]
fn check_123_lock_release_unlocked_is_value_error() {
    assert_err(
        Lock::new().release(),
        Error::SemLockReleasedTooManyTimes,
        PyException::ValueError,
        TOO_MANY,
    );
}

#[test]
fn check_124_held_lock_nonblocking_ignores_timeout() {
    let l = Lock::new();
    assert!(l.acquire());
    assert!(!l.try_acquire());
    let start = Instant::now();
    assert_eq!(l.acquire_with(false, Some(5.0)), Ok(false));
    // "immediately": far from the ignored 5 s.
    assert!(start.elapsed() < Duration::from_secs(4));
}

#[test]
fn check_125_held_lock_negative_timeout_is_zero() {
    let l = Lock::new();
    assert!(l.acquire());
    let start = Instant::now();
    assert_eq!(l.acquire_timeout(-5.0), Ok(false));
    assert!(start.elapsed() < Duration::from_secs(4));
}

#[test]
fn check_130_another_thread_releases_a_lock() {
    let l = Arc::new(Lock::new());
    assert!(l.acquire());
    let l2 = l.clone();
    thread::spawn(move || l2.release()).join().unwrap().unwrap();
    assert_eq!(format!("{l:?}"), "<Lock(owner=None)>");
    assert!(l.try_acquire());
}

#[test]
fn check_131_rlock_release_unowned_is_assertion_error() {
    assert_err(
        RLock::new().release(),
        Error::RecursiveLockNotOwned,
        PyException::AssertionError,
        NOT_OWNED,
    );
}

#[test]
fn check_132_rlock_release_by_another_thread() {
    let r = Arc::new(RLock::new());
    assert!(r.acquire());
    let r2 = r.clone();
    let (release, again) = thread::spawn(move || (r2.release(), r2.try_acquire()))
        .join()
        .unwrap();
    assert_err(
        release,
        Error::RecursiveLockNotOwned,
        PyException::AssertionError,
        NOT_OWNED,
    );
    assert!(!again);
    r.release().unwrap();
}

#[test]
fn check_133_rlock_repr_names_the_main_process_and_depth() {
    let repr = on_main_thread(|| {
        let r = RLock::new();
        for _ in 0..3 {
            assert!(r.acquire());
        }
        format!("{r:?}")
    });
    assert_eq!(repr, "<RLock(MainProcess, 3)>");
}

#[test]
fn check_134_rlock_other_process_cannot_release_in_process() {
    // The in-process half: a reopened handle is what another process holds (fresh
    // per-process state). The real child process is `process_real::check_134_…`.
    let r = RLock::new();
    assert!(r.acquire());
    let other = r.reopen();
    assert_err(
        other.release(),
        Error::RecursiveLockNotOwned,
        PyException::AssertionError,
        NOT_OWNED,
    );
    assert!(!other.try_acquire());
    assert!(r.is_mine());
    r.release().unwrap();
    assert!(other.try_acquire());
    other.release().unwrap();
}

#[test]
fn check_135_negative_semaphore_is_os_error_einval() {
    for r in [
        Semaphore::new(-1).map(|_| ()),
        BoundedSemaphore::new(-1).map(|_| ()),
    ] {
        assert_err(
            r,
            Error::os(22),
            PyException::OSError,
            "[Errno 22] Invalid argument",
        );
    }
}

#[test]
fn check_136_semaphore_beyond_c_int_is_overflow_error() {
    assert_err(
        Semaphore::new(1 << 31),
        Error::CIntOverflow,
        PyException::OverflowError,
        "Python int too large to convert to C int",
    );
    assert!(Semaphore::new(i32::MAX as i64).is_ok());
}

#[test]
fn check_138_semaphore_negative_timeout_returns_false() {
    let s = Semaphore::new(0).unwrap();
    assert_eq!(s.acquire_timeout(-1.0), Ok(false));
    assert_eq!(s.acquire_timeout(f64::NEG_INFINITY), Ok(false));
}

#[test]
fn check_139_semaphore_get_value_unbounded() {
    let s = Semaphore::new(2).unwrap();
    assert_eq!(s.get_value(), 2);
    s.release().unwrap();
    assert_eq!(s.get_value(), 3);
}

#[test]
fn check_140_bounded_semaphore_over_release() {
    let s = BoundedSemaphore::new(2).unwrap();
    assert_err(
        s.release(),
        Error::SemLockReleasedTooManyTimes,
        PyException::ValueError,
        TOO_MANY,
    );
    // BoundedSemaphore(0) is allowed, and raises at once.
    let z = BoundedSemaphore::new(0).unwrap();
    assert_eq!(z.release(), Err(Error::SemLockReleasedTooManyTimes));
}

#[test]
fn check_141_condition_wait_unowned() {
    assert_err(
        Condition::new().wait(Some(0.0)),
        Error::ConditionWaitNotOwned,
        PyException::AssertionError,
        "must acquire() condition before using wait()",
    );
}

#[test]
fn check_142_condition_notify_unowned() {
    let c = Condition::new();
    for r in [c.notify(1), c.notify_all()] {
        assert_err(
            r,
            Error::ConditionLockNotOwned,
            PyException::AssertionError,
            "lock is not owned",
        );
    }
}

#[test]
fn check_143_condition_zero_and_negative_wait_keep_rlock_depth() {
    let r = Arc::new(RLock::new());
    let c = Condition::with_lock(r.clone());
    assert!(c.acquire());
    assert!(c.acquire());
    assert_eq!(c.wait(Some(0.0)), Ok(false));
    assert_eq!(c.wait(Some(-1.0)), Ok(false));
    assert_eq!(r.count(), 2);
    assert!(r.is_mine());
    c.release().unwrap();
    c.release().unwrap();
    assert_eq!(format!("{c:?}"), "<Condition(<RLock(None, 0)>, 0)>");
}

#[test]
fn check_144_wait_for_zero_timeout_calls_predicate_once() {
    let c = Condition::new();
    let _g = c.lock();
    let calls = AtomicUsize::new(0);
    let r = c.wait_for(
        || {
            calls.fetch_add(1, Ordering::Relaxed);
            false
        },
        Some(0.0),
    );
    assert_eq!(r, Ok(false));
    assert_eq!(calls.load(Ordering::Relaxed), 1);
}

#[test]
fn check_145_wait_for_zero_timeout_unowned_is_no_error() {
    assert_eq!(Condition::new().wait_for(|| 0, Some(0.0)), Ok(0));
}

#[test]
fn check_146_event_set_then_clear_waiters_return_false() {
    // CPython's setter runs `clear()` before a woken waiter re-takes the lock (the GIL
    // favours it); on real threads the setter wins that race unless it is preempted in the
    // few instructions between `set()` and `clear()`, so a round where a waiter re-took
    // the lock first (and rightly read True) is run again.
    for _round in 0..5 {
        let e = Arc::new(Event::new());
        let (tx, rx) = mpsc::channel();
        let waiters: Vec<_> = (0..3)
            .map(|_| {
                let (e, tx) = (e.clone(), tx.clone());
                thread::spawn(move || tx.send(e.wait(Some(5.0))).unwrap())
            })
            .collect();
        spin_until("three waiters asleep", || e.n_waiters() == 3);
        e.set();
        e.clear();
        for w in waiters {
            w.join().unwrap();
        }
        let results: Vec<_> = rx.try_iter().collect();
        assert_eq!(results.len(), 3);
        if results.iter().all(|r| *r == Ok(false)) {
            return;
        }
        assert!(results.iter().all(|r| r.is_ok()), "{results:?}");
    }
    panic!("in 5 rounds, a waiter always re-took the lock before clear()");
}

#[test]
fn check_147_event_wait_and_is_set() {
    let e = Event::new();
    assert_eq!(e.wait(Some(0.0)), Ok(false));
    e.set();
    assert_eq!(e.wait(None), Ok(true));
    assert!(e.is_set());
    e.set(); // idempotent
    assert!(e.is_set());
    e.clear();
    assert!(!e.is_set());
}

#[test]
fn check_148_barrier_alone_with_timeout_breaks() {
    let b = Barrier::new(2, None, None);
    let start = Instant::now();
    assert_err(
        b.wait_timeout(Some(0.05)),
        Error::BrokenBarrier,
        PyException::BrokenBarrierError,
        "",
    );
    assert!(start.elapsed() >= Duration::from_millis(50));
    assert!(b.broken());
}

#[test]
fn check_152_infinite_timeout_is_os_error_when_it_must_wait() {
    let s = Semaphore::new(0).unwrap();
    for t in [f64::INFINITY, f64::NAN, 1e300, 9.3e18] {
        assert_err(
            s.acquire_timeout(t),
            Error::os(22),
            PyException::OSError,
            "[Errno 22] Invalid argument",
        );
    }
    // Only when it must wait: with a unit available, or non-blocking, no error.
    s.release().unwrap();
    assert_eq!(s.acquire_timeout(f64::INFINITY), Ok(true));
    assert_eq!(s.acquire_with(false, Some(f64::INFINITY)), Ok(false));
    // A deadline that wraps time_t is in the past: False at once (as glibc says ETIMEDOUT).
    assert_eq!(s.acquire_timeout(9.223372036e18), Ok(false));
}

#[test]
fn check_155_semaphore_reprs() {
    assert_eq!(
        format!("{:?}", BoundedSemaphore::new(2).unwrap()),
        "<BoundedSemaphore(value=2, maxvalue=2)>"
    );
    assert_eq!(
        format!("{:?}", Semaphore::new(0).unwrap()),
        "<Semaphore(value=0)>"
    );
}

#[test]
fn check_156_event_repr_has_no_colon() {
    let e = Event::new();
    let r = format!("{e:?}");
    assert!(r.starts_with("<Event at 0x"), "{r}");
    assert!(r.ends_with(" unset>"), "{r}");
    assert!(!r.contains(':'), "{r}");
    e.set();
    assert!(format!("{e:?}").ends_with(" set>"));
}

// ---- SEMANTICS.md §10 details no numbered check states --------------------------------

#[test]
fn semantics_10_4_lock_reprs_by_owner() {
    let l = Arc::new(Lock::new());
    let mine = {
        let l = l.clone();
        on_main_thread(move || {
            assert!(l.acquire());
            format!("{l:?}")
        })
    };
    assert_eq!(mine, "<Lock(owner=MainProcess)>");
    // Held by another thread of this process (count > 0 here, last_tid not us).
    assert_eq!(format!("{l:?}"), "<Lock(owner=SomeOtherThread)>");
    // Held by another process: a reopened handle has count 0.
    assert_eq!(
        format!("{:?}", l.reopen()),
        "<Lock(owner=SomeOtherProcess)>"
    );
    let named = thread::Builder::new()
        .name("Worker".into())
        .spawn(|| {
            let l = Lock::new();
            l.acquire();
            format!("{l:?}")
        })
        .unwrap()
        .join()
        .unwrap();
    assert_eq!(named, "<Lock(owner=MainProcess|Worker)>");
}

#[test]
fn semantics_10_5_rlock_owner_reenters_before_timeout_is_examined() {
    let r = RLock::new();
    assert!(r.acquire());
    // The owner's fast path comes before the timeout: even an invalid one.
    assert_eq!(r.acquire_with(false, Some(f64::NAN)), Ok(true));
    assert_eq!(r.acquire_timeout(f64::INFINITY), Ok(true));
    assert_eq!(r.count(), 3);
    let r2 = Arc::new(r);
    let r3 = r2.clone();
    let start = Instant::now();
    let other = thread::spawn(move || r3.acquire_timeout(0.05))
        .join()
        .unwrap();
    assert_eq!(other, Ok(false));
    assert!(start.elapsed() >= Duration::from_millis(50));
    let r4 = r2.clone();
    let seen = thread::spawn(move || format!("{r4:?}")).join().unwrap();
    assert_eq!(seen, "<RLock(SomeOtherThread, nonzero)>");
}

#[test]
fn semantics_10_7_notify_blocks_until_woken_waiters_acknowledge() {
    let c = Arc::new(Condition::new());
    let woke = Arc::new(AtomicUsize::new(0));
    let waiters: Vec<_> = (0..2)
        .map(|_| {
            let (c, woke) = (c.clone(), woke.clone());
            thread::spawn(move || {
                let _g = c.lock();
                let r = c.wait(Some(10.0));
                woke.fetch_add(1, Ordering::SeqCst);
                r
            })
        })
        .collect();
    spin_until("two waiters asleep", || c.n_waiters() == 2);
    {
        let _g = c.lock();
        c.notify_all().unwrap();
        // notify_all returned: both waiters have acknowledged (woken was posted twice),
        // yet neither has the lock back, since we hold it.
        assert_eq!(c.n_waiters(), 0);
        assert_eq!(woke.load(Ordering::SeqCst), 0);
    }
    for w in waiters {
        assert_eq!(w.join().unwrap(), Ok(true));
    }
}

#[test]
fn semantics_10_7_condition_over_a_lock_releases_it_in_wait() {
    let l = Arc::new(Lock::new());
    let c = Arc::new(Condition::with_lock(l.clone()));
    let c2 = c.clone();
    let t = thread::spawn(move || {
        let _g = c2.lock();
        c2.wait(Some(10.0))
    });
    spin_until("the waiter asleep", || c.n_waiters() == 1);
    assert!(l.acquire_timeout(10.0).unwrap());
    c.notify(1).unwrap();
    l.release().unwrap();
    assert_eq!(t.join().unwrap(), Ok(true));
}

#[test]
fn semantics_10_9_barrier_trips_and_accepts_zero_parties() {
    let b = Arc::new(Barrier::new(3, None, None));
    let hs: Vec<_> = (0..3)
        .map(|_| {
            let b = b.clone();
            thread::spawn(move || b.wait())
        })
        .collect();
    let mut idx: Vec<usize> = hs.into_iter().map(|h| h.join().unwrap().unwrap()).collect();
    idx.sort();
    assert_eq!(idx, vec![0, 1, 2]);
    // mp.Barrier(0) is accepted in 3.11; its wait times out and breaks it.
    let z = Barrier::new(0, None, None);
    assert_eq!(z.wait_timeout(Some(0.01)), Err(Error::BrokenBarrier));
}

/// `reset()` with parties waiting (threading's check 111, on the process barrier): they get
/// `BrokenBarrierError` at once, the barrier is not left broken, and a full set passes again.
/// Their 10 s timeout is the failure's shape, not a wait: a `reset` that left the state
/// filling would let them time out, which breaks the barrier (cargo-mutants found that no
/// test told the two apart: MUTANTS.md).
#[test]
fn semantics_10_9_barrier_reset_with_waiters_breaks_them_once() {
    let b = Arc::new(Barrier::new(3, None, None));
    let arrive = |b: &Arc<Barrier>| {
        let b = b.clone();
        thread::spawn(move || b.wait_timeout(Some(10.0)))
    };
    let hs = [arrive(&b), arrive(&b)];
    spin_until("two parties waiting", || b.n_waiting() == 2);
    b.reset();
    for h in hs {
        assert_eq!(h.join().unwrap(), Err(Error::BrokenBarrier));
    }
    assert!(!b.broken());
    assert_eq!(b.n_waiting(), 0);
    let hs = [arrive(&b), arrive(&b)];
    spin_until("two parties waiting again", || b.n_waiting() == 2);
    assert_eq!(b.wait(), Ok(2));
    let mut idx: Vec<usize> = hs.into_iter().map(|h| h.join().unwrap().unwrap()).collect();
    idx.sort();
    assert_eq!(idx, vec![0, 1]);
}

#[test]
fn semantics_value_and_array_take_their_lock() {
    let v = Value::<i32>::new(5);
    {
        let _g = v.get_lock().lock();
        v.set_value(v.value() + 1); // RLock: the inner accesses re-enter it
    }
    assert_eq!(v.value(), 6);
    assert_eq!(format!("{v:?}"), "<Synchronized wrapper for c_int(6)>");
    let a = Array::<i64>::new(&[1, 2]);
    assert_eq!(a.get(2), Err(Error::InvalidIndex));
    assert_eq!(a.get(2).unwrap_err().exception(), PyException::IndexError);
    a.set(1, 7).unwrap();
    assert_eq!(a.to_vec(), vec![1, 7]);
    let raw = RawValue::<f64>::new(0.5);
    assert_eq!(format!("{raw:?}"), "c_double(0.5)");
}

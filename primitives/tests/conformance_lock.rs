//! Conformance of `lockproof::Lock` with CPython 3.11's `threading.Lock`, on real threads.
//!
//! Two sources: `Lib/test/lock_tests.py` (`BaseLockTests` + `LockTests`, tests named
//! `lock_tests_*`) and SEMANTICS.md's conformance checks 1–31 (tests named `check_NN_*`).
//! `primitives/CONFORMANCE.md` maps every Python test and every check to its Rust test, or
//! says why it has none.
//!
//! No test sleeps to let another thread block: threads line up on counters and flags they
//! publish, and a thread that must still be blocked proves it by finding a flag the main
//! thread sets only just before it unblocks it.

use lockproof::{Error, Lock, TIMEOUT_MAX};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::thread;
use std::time::Instant;

mod support;
use support::{assert_waited, raises, spin_until};

// ---- lock_tests.py: BaseLockTests ---------------------------------------------------------

// The tests BaseLockTests runs on both lock types (acquire_destroy, acquire_release,
// try_acquire, try_acquire_contended, acquire_contended, with, thread_leak, timeout).
support::base_lock_tests!(Lock, |l: &Lock| usize::from(l.locked()));

#[test]
fn lock_tests_constructor() {
    let lock: Lock = Lock::new();
    assert!(!lock.locked());
    assert!(!Lock::<lockproof::backend::Std>::default().locked());
}

#[test]
fn lock_tests_repr() {
    let lock: Lock = Lock::new();
    assert_eq!(format!("{lock:?}"), "<unlocked _thread.lock object>");
}

#[test]
fn lock_tests_locked_repr() {
    let lock: Lock = Lock::new();
    assert!(lock.acquire());
    assert_eq!(format!("{lock:?}"), "<locked _thread.lock object>");
}

// ---- lock_tests.py: LockTests -------------------------------------------------------------

#[test]
fn lock_tests_reacquire() {
    // The lock must be released before it can be taken again, even by the same thread.
    let lock: Lock = Lock::new();
    let phase = AtomicUsize::new(0);
    let released = AtomicBool::new(false);
    thread::scope(|s| {
        s.spawn(|| {
            assert!(lock.acquire());
            phase.store(1, SeqCst);
            assert!(lock.acquire());
            assert!(released.load(SeqCst), "re-acquired a held lock");
            phase.store(2, SeqCst);
        });
        spin_until("first acquire", || phase.load(SeqCst) == 1);
        assert_eq!(phase.load(SeqCst), 1);
        released.store(true, SeqCst);
        lock.release().unwrap();
        spin_until("second acquire", || phase.load(SeqCst) == 2);
    });
    assert!(lock.locked());
}

#[test]
fn lock_tests_different_thread() {
    // A lock can be released from a different thread.
    let lock: Lock = Lock::new();
    assert!(lock.acquire());
    thread::scope(|s| {
        s.spawn(|| assert_eq!(lock.release(), Ok(())));
    });
    assert!(lock.acquire());
    lock.release().unwrap();
}

#[test]
fn lock_tests_state_after_timeout() {
    // bpo-11618: the lock is in a proper state after a (non-zero) timeout.
    let lock: Lock = Lock::new();
    assert!(lock.acquire());
    assert_eq!(lock.acquire_timeout(0.01), Ok(false));
    lock.release().unwrap();
    assert!(!lock.locked());
    assert!(lock.try_acquire());
}

// ---- SEMANTICS.md conformance checks 1–31 -------------------------------------------------

#[test]
fn check_01_new_lock_is_unlocked() {
    assert!(!<Lock>::new().locked());
}

#[test]
fn check_02_acquire_free_lock() {
    let lock: Lock = Lock::new();
    assert!(lock.acquire());
    assert!(lock.locked());
}

#[test]
fn check_03_try_acquire_held() {
    let lock: Lock = Lock::new();
    assert!(lock.acquire());
    assert!(!lock.try_acquire());
    assert_eq!(lock.acquire_with(false, -1.0), Ok(false));
    // Held by another thread, too.
    thread::scope(|s| {
        s.spawn(|| assert!(!lock.try_acquire()));
    });
    assert!(lock.locked());
}

#[test]
fn check_04_timeout_zero_held() {
    let lock: Lock = Lock::new();
    assert!(lock.acquire());
    assert_eq!(lock.acquire_timeout(0.0), Ok(false));
    assert_eq!(lock.acquire_with(true, 0.0), Ok(false));
    assert!(lock.locked());
}

#[test]
fn check_05_timeout_held() {
    let lock: Lock = Lock::new();
    assert!(lock.acquire());
    let t = Instant::now();
    assert_eq!(lock.acquire_timeout(0.05), Ok(false));
    assert_waited(t, 0.05);
    assert!(lock.locked());
}

#[test]
fn check_06_release_unlocked() {
    raises(<Lock>::new().release(), Error::ReleaseUnlocked);
}

#[test]
fn check_07_nonblocking_with_timeout() {
    let lock: Lock = Lock::new();
    raises(lock.acquire_with(false, 1.0), Error::NonBlockingTimeout);
    assert!(!lock.locked());
}

#[test]
fn check_08_nonblocking_with_timeout_zero() {
    let lock: Lock = Lock::new();
    raises(lock.acquire_with(false, 0.0), Error::NonBlockingTimeout);
    assert!(!lock.locked());
}

#[test]
fn check_09_nonblocking_check_precedes_negative_check() {
    raises(
        <Lock>::new().acquire_with(false, -5.0),
        Error::NonBlockingTimeout,
    );
}

#[test]
fn check_10_nonblocking_with_minus_one() {
    let lock: Lock = Lock::new();
    assert_eq!(lock.acquire_with(false, -1.0), Ok(true));
    assert!(lock.locked());
}

#[test]
fn check_11_negative_timeout() {
    let lock: Lock = Lock::new();
    raises(lock.acquire_timeout(-100.0), Error::NegativeTimeout);
    assert!(!lock.locked());
}

#[test]
fn check_12_tiny_negative_timeout() {
    raises(
        <Lock>::new().acquire_timeout(-1e-10),
        Error::NegativeTimeout,
    );
    // §1.3 step 5: just below −1 s is an error too.
    raises(
        <Lock>::new().acquire_timeout(-1.0000000001),
        Error::NegativeTimeout,
    );
}

#[test]
fn check_13_timeout_rounding_to_minus_one_is_infinite() {
    let lock: Lock = Lock::new();
    assert_eq!(lock.acquire_timeout(-0.9999999999), Ok(true));
    assert!(lock.locked());
    // It really is "forever": a holder's release, whenever it comes, lets it through.
    thread::scope(|s| {
        let h = s.spawn(|| lock.acquire_timeout(-0.9999999999));
        lock.release().unwrap();
        assert_eq!(h.join().unwrap(), Ok(true));
    });
    assert!(lock.locked());
}

#[test]
fn check_14_timeout_minus_one() {
    let lock: Lock = Lock::new();
    assert_eq!(lock.acquire_timeout(-1.0), Ok(true));
    assert!(lock.locked());
}

#[test]
fn check_15_timeout_max_accepted() {
    let lock: Lock = Lock::new();
    assert_eq!(lock.acquire_timeout(TIMEOUT_MAX), Ok(true));
    assert!(lock.locked());
}

#[test]
fn check_16_timeout_max_plus_one() {
    let lock: Lock = Lock::new();
    raises(
        lock.acquire_timeout(TIMEOUT_MAX + 1.0),
        Error::TimeoutOverflow,
    );
    assert!(!lock.locked());
}

#[test]
fn check_17_infinite_timeout() {
    let lock: Lock = Lock::new();
    for t in [f64::INFINITY, f64::NEG_INFINITY] {
        raises(lock.acquire_timeout(t), Error::TimeoutOverflow);
    }
    assert!(!lock.locked());
}

#[test]
fn check_18_nan_timeout() {
    let lock: Lock = Lock::new();
    raises(lock.acquire_timeout(f64::NAN), Error::NanTimeout);
    assert!(!lock.locked());
}

/// §1.3: converting the timeout (NaN, overflow) comes before the non-blocking check.
#[test]
fn semantics_1_3_conversion_errors_precede_nonblocking_check() {
    let lock: Lock = Lock::new();
    raises(lock.acquire_with(false, f64::NAN), Error::NanTimeout);
    raises(
        lock.acquire_with(false, f64::INFINITY),
        Error::TimeoutOverflow,
    );
    assert!(!lock.locked());
}

#[test]
fn check_24_release_from_another_thread() {
    let lock: Lock = Lock::new();
    thread::scope(|s| {
        s.spawn(|| assert!(lock.acquire())).join().unwrap();
        s.spawn(|| assert_eq!(lock.release(), Ok(())))
            .join()
            .unwrap();
    });
    assert!(!lock.locked());
}

#[test]
fn check_25_not_reentrant() {
    let lock: Lock = Lock::new();
    assert!(lock.acquire());
    let t = Instant::now();
    assert_eq!(lock.acquire_timeout(0.1), Ok(false));
    assert_waited(t, 0.1);
    assert!(lock.locked());
}

#[test]
fn check_26_with_block() {
    let lock: Lock = Lock::new();
    {
        let g = lock.lock();
        assert!(lock.locked());
        drop(g);
    }
    assert!(!lock.locked());
    let g = lock.lock();
    assert!(lock.locked());
    assert_eq!(g.exit(), Ok(()));
    assert!(!lock.locked());
}

#[test]
fn check_27_panic_in_with_block_releases() {
    let lock: Lock = Lock::new();
    let r = std::panic::catch_unwind(|| {
        let _g = lock.lock();
        assert!(lock.locked());
        std::panic::panic_any("boom");
    });
    // The payload comes back unchanged and the lock is free.
    assert_eq!(r.unwrap_err().downcast_ref::<&str>(), Some(&"boom"));
    assert!(!lock.locked());
}

#[test]
fn check_28_exit_on_free_lock() {
    let lock: Lock = Lock::new();
    let g = lock.lock();
    // Someone else releases it inside the block (any thread may).
    thread::scope(|s| {
        s.spawn(|| lock.release().unwrap());
    });
    raises(g.exit(), Error::ReleaseUnlocked);
    assert!(!lock.locked());
    // Dropping a guard whose lock was released elsewhere does not panic either.
    let g = lock.lock();
    lock.release().unwrap();
    drop(g);
    assert!(!lock.locked());
}

#[test]
fn check_30_timeout_max_value() {
    assert_eq!(TIMEOUT_MAX, 9223372036.0);
}

#[test]
fn check_31_debug_repr() {
    let lock: Lock = Lock::new();
    assert_eq!(format!("{lock:?}"), "<unlocked _thread.lock object>");
    lock.acquire();
    assert_eq!(format!("{lock:?}"), "<locked _thread.lock object>");
    lock.release().unwrap();
    assert_eq!(format!("{lock:?}"), "<unlocked _thread.lock object>");
}

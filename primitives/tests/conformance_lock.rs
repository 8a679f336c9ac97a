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

use lockproof::{Error, Lock, PyException, TIMEOUT_MAX};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::thread;
use std::time::Instant;

mod support;
use support::{assert_err, assert_waited, spin_until};

// ---- lock_tests.py: BaseLockTests ---------------------------------------------------------

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

#[test]
fn lock_tests_acquire_destroy() {
    {
        let lock: Lock = Lock::new();
        assert!(lock.acquire());
        assert!(lock.locked());
    } // dropped while held: fine
}

#[test]
fn lock_tests_acquire_release() {
    let lock: Lock = Lock::new();
    assert!(lock.acquire());
    assert_eq!(lock.release(), Ok(()));
    assert!(!lock.locked());
}

#[test]
fn lock_tests_try_acquire() {
    let lock: Lock = Lock::new();
    assert!(lock.try_acquire());
    assert!(lock.locked());
    lock.release().unwrap();
}

#[test]
fn lock_tests_try_acquire_contended() {
    let lock: Lock = Lock::new();
    assert!(lock.acquire());
    let got = thread::scope(|s| s.spawn(|| lock.try_acquire()).join().unwrap());
    assert!(!got);
    lock.release().unwrap();
}

#[test]
fn lock_tests_acquire_contended() {
    const N: usize = 5;
    let lock: Lock = Lock::new();
    assert!(lock.acquire());
    let started = AtomicUsize::new(0);
    let finished = AtomicUsize::new(0);
    let released = AtomicBool::new(false);
    thread::scope(|s| {
        for _ in 0..N {
            s.spawn(|| {
                started.fetch_add(1, SeqCst);
                assert!(lock.acquire());
                assert!(
                    released.load(SeqCst),
                    "acquired a lock the main thread held"
                );
                lock.release().unwrap();
                finished.fetch_add(1, SeqCst);
            });
        }
        spin_until("all threads started", || started.load(SeqCst) == N);
        assert_eq!(finished.load(SeqCst), 0);
        released.store(true, SeqCst);
        lock.release().unwrap();
    });
    assert_eq!(finished.load(SeqCst), N);
    assert!(!lock.locked());
}

#[test]
fn lock_tests_with() {
    let lock: Lock = Lock::new();
    {
        let _g = lock.lock();
        assert!(lock.locked());
    }
    // The lock is unacquired: another thread can take it.
    thread::scope(|s| {
        s.spawn(|| {
            assert!(lock.try_acquire());
            lock.release().unwrap();
        });
    });
    // A panic (Python: an exception) inside the block propagates and releases the lock.
    let r = std::panic::catch_unwind(|| {
        let _g = lock.lock();
        std::panic::panic_any(42_u32);
    });
    assert_eq!(r.unwrap_err().downcast_ref::<u32>(), Some(&42));
    thread::scope(|s| {
        s.spawn(|| {
            assert!(lock.try_acquire());
            lock.release().unwrap();
        });
    });
}

/// Python checks no `Thread` object leaks for foreign threads; Rust has no thread registry,
/// so what remains is that many short-lived threads using the lock all finish and leave it
/// free.
#[test]
fn lock_tests_thread_leak() {
    let lock: Lock = Lock::new();
    let finished = AtomicUsize::new(0);
    thread::scope(|s| {
        for _ in 0..15 {
            s.spawn(|| {
                assert!(lock.acquire());
                lock.release().unwrap();
                finished.fetch_add(1, SeqCst);
            });
        }
    });
    assert_eq!(finished.load(SeqCst), 15);
    assert!(!lock.locked());
}

#[test]
fn lock_tests_timeout() {
    let lock: Lock = Lock::new();
    // Can't set a timeout if not blocking.
    assert_err(
        lock.acquire_with(false, 1.0),
        Error::NonBlockingTimeout,
        PyException::ValueError,
        "can't specify a timeout for a non-blocking call",
    );
    // Invalid timeout values.
    assert_err(
        lock.acquire_timeout(-100.0),
        Error::NegativeTimeout,
        PyException::ValueError,
        "timeout value must be positive",
    );
    assert_err(
        lock.acquire_timeout(1e100),
        Error::TimeoutOverflow,
        PyException::OverflowError,
        "timestamp out of range for platform time_t",
    );
    assert_err(
        lock.acquire_timeout(TIMEOUT_MAX + 1.0),
        Error::TimeoutOverflow,
        PyException::OverflowError,
        "timestamp out of range for platform time_t",
    );
    assert!(!lock.locked());
    // TIMEOUT_MAX is ok.
    assert_eq!(lock.acquire_timeout(TIMEOUT_MAX), Ok(true));
    lock.release().unwrap();
    assert_eq!(lock.acquire_timeout(5.0), Ok(true));
    // Another thread times out on the held lock.
    thread::scope(|s| {
        s.spawn(|| {
            let t = Instant::now();
            assert_eq!(lock.acquire_timeout(0.05), Ok(false));
            assert_waited(t, 0.05);
        });
    });
    assert!(lock.locked());
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
    assert_err(
        <Lock>::new().release(),
        Error::ReleaseUnlocked,
        PyException::RuntimeError,
        "release unlocked lock",
    );
}

#[test]
fn check_07_nonblocking_with_timeout() {
    let lock: Lock = Lock::new();
    assert_err(
        lock.acquire_with(false, 1.0),
        Error::NonBlockingTimeout,
        PyException::ValueError,
        "can't specify a timeout for a non-blocking call",
    );
    assert!(!lock.locked());
}

#[test]
fn check_08_nonblocking_with_timeout_zero() {
    let lock: Lock = Lock::new();
    assert_err(
        lock.acquire_with(false, 0.0),
        Error::NonBlockingTimeout,
        PyException::ValueError,
        "can't specify a timeout for a non-blocking call",
    );
    assert!(!lock.locked());
}

#[test]
fn check_09_nonblocking_check_precedes_negative_check() {
    assert_err(
        <Lock>::new().acquire_with(false, -5.0),
        Error::NonBlockingTimeout,
        PyException::ValueError,
        "can't specify a timeout for a non-blocking call",
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
    assert_err(
        lock.acquire_timeout(-100.0),
        Error::NegativeTimeout,
        PyException::ValueError,
        "timeout value must be positive",
    );
    assert!(!lock.locked());
}

#[test]
fn check_12_tiny_negative_timeout() {
    assert_err(
        <Lock>::new().acquire_timeout(-1e-10),
        Error::NegativeTimeout,
        PyException::ValueError,
        "timeout value must be positive",
    );
    // §1.3 step 5: just below −1 s is an error too.
    assert_err(
        <Lock>::new().acquire_timeout(-1.0000000001),
        Error::NegativeTimeout,
        PyException::ValueError,
        "timeout value must be positive",
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
    assert_err(
        lock.acquire_timeout(TIMEOUT_MAX + 1.0),
        Error::TimeoutOverflow,
        PyException::OverflowError,
        "timestamp out of range for platform time_t",
    );
    assert!(!lock.locked());
}

#[test]
fn check_17_infinite_timeout() {
    let lock: Lock = Lock::new();
    for t in [f64::INFINITY, f64::NEG_INFINITY] {
        assert_err(
            lock.acquire_timeout(t),
            Error::TimeoutOverflow,
            PyException::OverflowError,
            "timestamp out of range for platform time_t",
        );
    }
    assert!(!lock.locked());
}

#[test]
fn check_18_nan_timeout() {
    let lock: Lock = Lock::new();
    assert_err(
        lock.acquire_timeout(f64::NAN),
        Error::NanTimeout,
        PyException::ValueError,
        "Invalid value NaN (not a number)",
    );
    assert!(!lock.locked());
}

/// §1.3: converting the timeout (NaN, overflow) comes before the non-blocking check.
#[test]
fn semantics_1_3_conversion_errors_precede_nonblocking_check() {
    let lock: Lock = Lock::new();
    assert_err(
        lock.acquire_with(false, f64::NAN),
        Error::NanTimeout,
        PyException::ValueError,
        "Invalid value NaN (not a number)",
    );
    assert_err(
        lock.acquire_with(false, f64::INFINITY),
        Error::TimeoutOverflow,
        PyException::OverflowError,
        "timestamp out of range for platform time_t",
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
    assert_err(
        g.exit(),
        Error::ReleaseUnlocked,
        PyException::RuntimeError,
        "release unlocked lock",
    );
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

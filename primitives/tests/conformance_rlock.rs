//! Conformance of `lockproof::RLock` with CPython 3.11's `threading.RLock` (the C
//! `_thread.RLock`), on real threads.
//!
//! Two sources: `Lib/test/lock_tests.py` (`BaseLockTests` + `RLockTests`, tests named
//! `lock_tests_*`) and SEMANTICS.md's conformance checks 32–44 (tests named `check_NN_*`).
//! `primitives/CONFORMANCE.md` maps every Python test and every check to its Rust test, or
//! says why it has none.
//!
//! No test sleeps to let another thread block: threads line up on counters and flags they
//! publish.

use lockproof::{Error, RLock};
use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
use std::thread;
use std::time::Instant;

mod support;
use support::{assert_waited, raises, spin_until};

/// The owner ident the lock's repr shows (`threading.get_ident()` of its owner).
fn owner_in_repr(lock: &RLock) -> u64 {
    let repr = format!("{lock:?}");
    let owner = repr
        .strip_prefix("<locked _thread.RLock object owner=")
        .and_then(|r| r.split(' ').next())
        .unwrap_or_else(|| panic!("unexpected repr {repr:?}"));
    owner.parse().unwrap()
}

fn release_unacquired<T: std::fmt::Debug>(r: lockproof::Result<T>) {
    raises(r, Error::ReleaseUnacquired);
}

/// Run `body` on the main thread while another thread owns `lock` (`depth` levels deep);
/// the owner releases it once `body` returns.
fn while_owned_elsewhere(lock: &RLock, depth: usize, body: impl FnOnce()) {
    let owned = AtomicBool::new(false);
    let done = AtomicBool::new(false);
    thread::scope(|s| {
        s.spawn(|| {
            for _ in 0..depth {
                assert!(lock.acquire());
            }
            owned.store(true, SeqCst);
            spin_until("the main thread is done", || done.load(SeqCst));
            // The owner's hold survived whatever the main thread tried.
            assert!(lock.is_owned());
            assert_eq!(lock.recursion_count(), depth);
            for _ in 0..depth {
                lock.release().unwrap();
            }
        });
        spin_until("the other thread owns the lock", || owned.load(SeqCst));
        body();
        done.store(true, SeqCst);
    });
}

// ---- lock_tests.py: BaseLockTests ---------------------------------------------------------

// The tests BaseLockTests runs on both lock types (acquire_destroy, acquire_release,
// try_acquire, try_acquire_contended, acquire_contended, with, thread_leak, timeout).
support::base_lock_tests!(RLock, |l: &RLock| l.recursion_count());

#[test]
fn lock_tests_constructor() {
    let lock: RLock = RLock::new();
    assert!(!lock.is_owned());
    assert_eq!(lock.recursion_count(), 0);
}

#[test]
fn lock_tests_repr() {
    let lock: RLock = RLock::new();
    assert_eq!(
        format!("{lock:?}"),
        "<unlocked _thread.RLock object owner=0 count=0>"
    );
}

#[test]
fn lock_tests_locked_repr() {
    let lock: RLock = RLock::new();
    assert!(lock.acquire());
    assert!(lock.acquire());
    let repr = format!("{lock:?}");
    let owner = repr
        .strip_prefix("<locked _thread.RLock object owner=")
        .and_then(|r| r.strip_suffix(" count=2>"))
        .unwrap_or_else(|| panic!("unexpected repr {repr:?}"));
    assert!(
        !owner.is_empty() && owner.bytes().all(|b| b.is_ascii_digit()) && owner != "0",
        "owner should be a nonzero thread ident, got {owner:?}"
    );
}

// ---- lock_tests.py: RLockTests ------------------------------------------------------------

#[test]
fn lock_tests_reacquire() {
    let lock: RLock = RLock::new();
    assert!(lock.acquire());
    assert!(lock.acquire());
    lock.release().unwrap();
    assert!(lock.acquire());
    lock.release().unwrap();
    lock.release().unwrap();
    assert!(!lock.is_owned());
}

/// `call` (release or `_release_save`) fails on a fresh lock, and again once the lock was
/// taken, re-entered and given back.
fn fails_unless_acquired<T: std::fmt::Debug>(call: fn(&RLock) -> lockproof::Result<T>) {
    let lock: RLock = RLock::new();
    release_unacquired(call(&lock));
    assert!(lock.acquire());
    assert!(lock.acquire());
    lock.release().unwrap();
    assert!(lock.acquire());
    lock.release().unwrap();
    lock.release().unwrap();
    release_unacquired(call(&lock));
}

#[test]
fn lock_tests_release_unacquired() {
    fails_unless_acquired(RLock::release);
}

#[test]
fn lock_tests_release_save_unacquired() {
    fails_unless_acquired(RLock::release_save);
}

#[test]
fn lock_tests_recursion_count() {
    let lock: RLock = RLock::new();
    assert_eq!(lock.recursion_count(), 0);
    assert!(lock.acquire());
    assert_eq!(lock.recursion_count(), 1);
    assert!(lock.acquire());
    assert!(lock.acquire());
    assert_eq!(lock.recursion_count(), 3);
    lock.release().unwrap();
    assert_eq!(lock.recursion_count(), 2);
    lock.release().unwrap();
    lock.release().unwrap();
    assert_eq!(lock.recursion_count(), 0);
    // Another thread's hold counts 0 here.
    while_owned_elsewhere(&lock, 1, || assert_eq!(lock.recursion_count(), 0));
    assert_eq!(lock.recursion_count(), 0);
}

#[test]
fn lock_tests_different_thread() {
    // Cannot release from a different thread.
    let lock: RLock = RLock::new();
    while_owned_elsewhere(&lock, 1, || release_unacquired(lock.release()));
}

#[test]
fn lock_tests_is_owned() {
    let lock: RLock = RLock::new();
    assert!(!lock.is_owned());
    assert!(lock.acquire());
    assert!(lock.is_owned());
    assert!(lock.acquire());
    assert!(lock.is_owned());
    let elsewhere = thread::scope(|s| s.spawn(|| lock.is_owned()).join().unwrap());
    assert!(!elsewhere);
    lock.release().unwrap();
    assert!(lock.is_owned());
    lock.release().unwrap();
    assert!(!lock.is_owned());
}

// ---- SEMANTICS.md conformance checks 32–44 ------------------------------------------------

#[test]
fn check_32_reentrant_acquire() {
    let lock: RLock = RLock::new();
    for _ in 0..3 {
        assert!(lock.acquire());
    }
    assert_eq!(lock.recursion_count(), 3);
}

#[test]
fn check_33_release_past_zero() {
    let lock: RLock = RLock::new();
    for _ in 0..3 {
        assert!(lock.acquire());
    }
    for _ in 0..3 {
        assert_eq!(lock.release(), Ok(()));
    }
    release_unacquired(lock.release());
    assert_eq!(lock.recursion_count(), 0);
}

#[test]
fn check_34_release_fresh() {
    release_unacquired(<RLock>::new().release());
}

#[test]
fn check_35_release_by_non_owner() {
    let lock: RLock = RLock::new();
    // The owner asserts it still owns the lock, 2 levels deep, afterwards.
    while_owned_elsewhere(&lock, 2, || {
        release_unacquired(lock.release());
        assert!(!lock.is_owned());
    });
}

#[test]
fn check_36_try_acquire_owned_elsewhere() {
    let lock: RLock = RLock::new();
    while_owned_elsewhere(&lock, 1, || {
        assert!(!lock.try_acquire());
        assert_eq!(lock.acquire_timeout(0.0), Ok(false));
    });
}

#[test]
fn check_37_timeout_owned_elsewhere() {
    let lock: RLock = RLock::new();
    while_owned_elsewhere(&lock, 1, || {
        let t = Instant::now();
        assert_eq!(lock.acquire_timeout(0.05), Ok(false));
        assert_waited(t, 0.05);
        assert!(!lock.is_owned());
    });
}

#[test]
fn check_38_owner_nonblocking_reentry() {
    let lock: RLock = RLock::new();
    assert!(lock.acquire());
    assert!(lock.try_acquire());
    assert_eq!(lock.recursion_count(), 2);
    assert_eq!(lock.acquire_with(false, -1.0), Ok(true));
    assert_eq!(lock.acquire_timeout(0.0), Ok(true));
    assert_eq!(lock.recursion_count(), 4);
}

#[test]
fn check_39_owner_nonblocking_with_timeout() {
    // Arguments are checked before the reentrancy shortcut (the C RLock).
    let lock: RLock = RLock::new();
    assert!(lock.acquire());
    raises(lock.acquire_with(false, 1.0), Error::NonBlockingTimeout);
    raises(lock.acquire_timeout(-5.0), Error::NegativeTimeout);
    raises(lock.acquire_timeout(f64::NAN), Error::NanTimeout);
    raises(lock.acquire_timeout(f64::INFINITY), Error::TimeoutOverflow);
    assert_eq!(lock.recursion_count(), 1);
}

#[test]
fn check_40_is_owned() {
    let lock: RLock = RLock::new();
    assert!(!lock.is_owned());
    assert!(lock.acquire());
    assert!(lock.is_owned());
    let elsewhere = thread::scope(|s| s.spawn(|| lock.is_owned()).join().unwrap());
    assert!(!elsewhere);
}

#[test]
fn check_41_release_save_free() {
    let lock: RLock = RLock::new();
    release_unacquired(lock.release_save());
    assert_eq!(lock.recursion_count(), 0);
}

#[test]
fn check_42_release_save_and_acquire_restore() {
    let lock: RLock = RLock::new();
    assert!(lock.acquire());
    assert!(lock.acquire());
    let me = owner_in_repr(&lock);
    let state = lock.release_save().unwrap();
    // Python: `(2, threading.get_ident())`.
    assert_eq!(state.count(), 2);
    assert_eq!(state.owner(), me);
    assert!(!lock.is_owned());
    assert_eq!(lock.recursion_count(), 0);
    // Fully released: another thread can take it now.
    let elsewhere = thread::scope(|s| {
        s.spawn(|| {
            let got = lock.try_acquire();
            if got {
                lock.release().unwrap();
            }
            got
        })
        .join()
        .unwrap()
    });
    assert!(elsewhere);
    lock.acquire_restore(state);
    assert!(lock.is_owned());
    assert_eq!(lock.recursion_count(), 2);
    lock.release().unwrap();
    lock.release().unwrap();
    release_unacquired(lock.release());
}

#[test]
fn check_44_nested_with_then_free() {
    let lock: RLock = RLock::new();
    {
        let _a = lock.lock();
        {
            let _b = lock.lock();
            assert_eq!(lock.recursion_count(), 2);
        }
        assert_eq!(lock.recursion_count(), 1);
    }
    let got = thread::scope(|s| s.spawn(|| lock.try_acquire()).join().unwrap());
    assert!(got);
}

/// §3.3: −1 is forever, other negatives are errors, as for Lock.
#[test]
fn semantics_3_3_timeout_conventions_match_lock() {
    let lock: RLock = RLock::new();
    assert_eq!(lock.acquire_timeout(-1.0), Ok(true));
    assert_eq!(lock.acquire_with(false, -1.0), Ok(true));
    assert_eq!(lock.acquire_timeout(-0.9999999999), Ok(true));
    raises(lock.acquire_timeout(-1e-10), Error::NegativeTimeout);
    assert_eq!(lock.recursion_count(), 3);
}

/// §3.5: `_release_save` does not check the caller is the owner: a non-owner unlocks the
/// owner's lock and gets the owner's `(count, owner)`; restoring that state gives the lock
/// back to the owner, at its depth.
#[test]
fn semantics_3_5_release_save_does_not_check_owner() {
    let lock: RLock = RLock::new();
    while_owned_elsewhere(&lock, 2, || {
        let owner = owner_in_repr(&lock);
        let state = lock.release_save().unwrap();
        assert_eq!(state.count(), 2);
        assert_eq!(state.owner(), owner);
        assert_eq!(
            format!("{lock:?}"),
            "<unlocked _thread.RLock object owner=0 count=0>"
        );
        assert!(lock.try_acquire());
        lock.release().unwrap();
        lock.acquire_restore(state);
        assert!(!lock.is_owned());
        assert_eq!(
            format!("{lock:?}"),
            format!("<locked _thread.RLock object owner={owner} count=2>")
        );
    });
}

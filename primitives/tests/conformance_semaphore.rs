//! Conformance of `lockproof::Semaphore` and `lockproof::BoundedSemaphore` with CPython
//! 3.11's `threading.Semaphore` and `threading.BoundedSemaphore`, on real threads.
//!
//! Two sources: `Lib/test/lock_tests.py` (`BaseSemaphoreTests`, run once per type as in
//! Python, plus `SemaphoreTests` and `BoundedSemaphoreTests`; tests named `lock_tests_*` in
//! the modules `semaphore` and `bounded_semaphore`) and SEMANTICS.md's conformance checks
//! 67–91 (tests named `check_NN_*`). `primitives/CONFORMANCE.md` maps every Python test and
//! every check to its Rust test, or says why it has none.
//!
//! No test sleeps to let another thread block: acquirers publish what they got, and the main
//! thread waits for those counts.

use lockproof::{BoundedSemaphore, Error, Semaphore};
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::Mutex;
use std::thread;
use std::time::Instant;

mod support;
use support::{assert_waited, raises, spin_until};

fn negative_initial<T: std::fmt::Debug>(r: lockproof::Result<T>) {
    raises(r, Error::SemaphoreNegative);
}

fn bad_count<T: std::fmt::Debug>(r: lockproof::Result<T>) {
    raises(r, Error::ReleaseCount);
}

fn too_many<T: std::fmt::Debug>(r: lockproof::Result<T>) {
    raises(r, Error::ReleasedTooManyTimes);
}

/// `BaseSemaphoreTests`, for one semaphore type.
macro_rules! base_semaphore_tests {
    ($ty:ident) => {
        use super::*;

        fn sem(value: isize) -> $ty {
            $ty::new(value).unwrap()
        }

        #[test]
        fn lock_tests_constructor() {
            negative_initial(<$ty>::new(-1));
            negative_initial(<$ty>::new(-isize::MAX));
        }

        #[test]
        fn lock_tests_acquire() {
            let s = sem(1);
            assert!(s.acquire());
            s.release().unwrap();
            let s = sem(2);
            assert!(s.acquire());
            assert!(s.acquire());
            s.release().unwrap();
            s.release().unwrap();
            assert_eq!(s.value(), 2);
        }

        #[test]
        fn lock_tests_acquire_destroy() {
            {
                let s = sem(1);
                assert!(s.acquire());
                assert_eq!(s.value(), 0);
            } // dropped with a permit out: fine
        }

        /// Ten threads take two permits each from a semaphore of 7 (one already taken);
        /// every acquisition records the phase in which it happened.
        fn contended(release: impl Fn(&$ty, usize)) {
            const N: usize = 10;
            let s = sem(7);
            assert!(s.acquire());
            let phase = AtomicUsize::new(0);
            let results = Mutex::new(Vec::new());
            let count = || results.lock().unwrap().len();
            let sorted = || {
                let mut v = results.lock().unwrap().clone();
                v.sort();
                v
            };
            thread::scope(|sc| {
                for _ in 0..N {
                    sc.spawn(|| {
                        for _ in 0..2 {
                            assert!(s.acquire());
                            results.lock().unwrap().push(phase.load(SeqCst));
                        }
                    });
                }
                spin_until("6 acquisitions", || count() == 6);
                assert_eq!(sorted(), vec![0; 6]);
                assert_eq!(s.value(), 0);
                phase.store(1, SeqCst);
                release(&s, 7);
                spin_until("13 acquisitions", || count() == 13);
                let mut want = vec![0; 6];
                want.extend([1; 7]);
                assert_eq!(sorted(), want);
                phase.store(2, SeqCst);
                release(&s, 6);
                spin_until("19 acquisitions", || count() == 19);
                want.extend([2; 6]);
                assert_eq!(sorted(), want);
                // The semaphore is still locked.
                assert!(!s.try_acquire());
                // A final release lets the last thread finish.
                phase.store(3, SeqCst);
                s.release().unwrap();
            });
            assert_eq!(count(), 20);
            assert_eq!(s.value(), 0);
        }

        #[test]
        fn lock_tests_acquire_contended() {
            contended(|s, n| {
                for _ in 0..n {
                    s.release().unwrap();
                }
            });
        }

        #[test]
        fn lock_tests_multirelease() {
            contended(|s, n| s.release_n(n as isize).unwrap());
        }

        #[test]
        fn lock_tests_try_acquire() {
            let s = sem(2);
            assert!(s.try_acquire());
            assert!(s.try_acquire());
            assert!(!s.try_acquire());
            s.release().unwrap();
            assert!(s.try_acquire());
        }

        #[test]
        fn lock_tests_try_acquire_contended() {
            let s = sem(4);
            assert!(s.acquire());
            let results = Mutex::new(Vec::new());
            thread::scope(|sc| {
                for _ in 0..5 {
                    sc.spawn(|| {
                        let a = s.try_acquire();
                        let b = s.try_acquire();
                        results.lock().unwrap().extend([a, b]);
                    });
                }
            });
            let mut results = results.into_inner().unwrap();
            results.sort();
            let mut want = vec![false; 7];
            want.extend([true; 3]);
            assert_eq!(results, want);
        }

        #[test]
        fn lock_tests_acquire_timeout() {
            let s = sem(2);
            raises(
                s.acquire_with(false, Some(1.0)),
                Error::SemaphoreNonBlockingTimeout,
            );
            assert_eq!(s.acquire_timeout(0.005), Ok(true));
            assert_eq!(s.acquire_timeout(0.005), Ok(true));
            assert_eq!(s.acquire_timeout(0.005), Ok(false));
            s.release().unwrap();
            assert_eq!(s.acquire_timeout(0.005), Ok(true));
            let t = Instant::now();
            assert_eq!(s.acquire_timeout(0.05), Ok(false));
            assert_waited(t, 0.05);
        }

        #[test]
        fn lock_tests_default_value() {
            // Python's default initial value is 1; Rust spells it out.
            let s = sem(1);
            assert!(s.acquire());
            let started = AtomicUsize::new(0);
            let finished = AtomicUsize::new(0);
            thread::scope(|sc| {
                sc.spawn(|| {
                    started.store(1, SeqCst);
                    assert!(s.acquire());
                    s.release().unwrap();
                    finished.store(1, SeqCst);
                });
                spin_until("started", || started.load(SeqCst) == 1);
                assert_eq!(finished.load(SeqCst), 0);
                // The single permit is out: the other thread cannot have it.
                assert_eq!(s.value(), 0);
                s.release().unwrap();
            });
            assert_eq!(finished.load(SeqCst), 1);
            assert_eq!(s.value(), 1);
        }

        #[test]
        fn lock_tests_with() {
            let s = sem(2);
            let with = |fail: bool| {
                let _a = s.lock();
                assert!(s.try_acquire());
                s.release().unwrap();
                let _b = s.lock();
                assert!(!s.try_acquire());
                if fail {
                    std::panic::panic_any(7_u8);
                }
            };
            with(false);
            assert!(s.try_acquire());
            s.release().unwrap();
            let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| with(true)));
            assert_eq!(r.unwrap_err().downcast_ref::<u8>(), Some(&7));
            assert!(s.try_acquire());
            s.release().unwrap();
            assert_eq!(s.value(), 2);
        }
    };
}

/// `SemaphoreTests`: `BaseSemaphoreTests` for `Semaphore`, plus its own tests.
mod semaphore {
    base_semaphore_tests!(Semaphore);

    #[test]
    fn lock_tests_release_unacquired() {
        // Unbounded releases are allowed and increment the value.
        let s = sem(1);
        s.release().unwrap();
        assert!(s.acquire());
        assert!(s.acquire());
        s.release().unwrap();
        assert_eq!(s.value(), 1);
    }

    #[test]
    fn lock_tests_repr() {
        let s = sem(3);
        assert_eq!(format!("{s:?}"), "<threading.Semaphore: value=3>");
        assert!(s.acquire());
        assert_eq!(format!("{s:?}"), "<threading.Semaphore: value=2>");
        s.release().unwrap();
        s.release().unwrap();
        assert_eq!(format!("{s:?}"), "<threading.Semaphore: value=4>");
    }
}

/// `BoundedSemaphoreTests`: `BaseSemaphoreTests` for `BoundedSemaphore`, plus its own tests.
mod bounded_semaphore {
    base_semaphore_tests!(BoundedSemaphore);

    #[test]
    fn lock_tests_release_unacquired() {
        // Cannot go past the initial value.
        let s = sem(1);
        too_many(s.release());
        assert!(s.acquire());
        s.release().unwrap();
        too_many(s.release());
        assert_eq!(s.value(), 1);
    }

    #[test]
    fn lock_tests_repr() {
        let s = sem(3);
        assert_eq!(format!("{s:?}"), "<threading.BoundedSemaphore: value=3/3>");
        assert!(s.acquire());
        assert_eq!(format!("{s:?}"), "<threading.BoundedSemaphore: value=2/3>");
    }
}

// ---- SEMANTICS.md conformance checks 67–91: Semaphore -------------------------------------

fn sem(value: isize) -> Semaphore {
    Semaphore::new(value).unwrap()
}

fn bsem(value: isize) -> BoundedSemaphore {
    BoundedSemaphore::new(value).unwrap()
}

#[test]
fn check_67_negative_initial_value() {
    negative_initial(<Semaphore>::new(-1));
}

#[test]
fn check_68_zero_try_acquire() {
    assert!(!sem(0).try_acquire());
}

#[test]
fn check_69_two_permits() {
    let s = sem(2);
    assert!(s.try_acquire());
    assert!(s.try_acquire());
    assert!(!s.try_acquire());
}

#[test]
fn check_70_nonblocking_with_timeout() {
    let s = sem(1);
    for t in [1.0, 0.0, -1.0, f64::NAN] {
        raises(
            s.acquire_with(false, Some(t)),
            Error::SemaphoreNonBlockingTimeout,
        );
    }
    assert_eq!(s.value(), 1);
}

#[test]
fn check_71_nonblocking_without_timeout() {
    assert_eq!(sem(0).acquire_with(false, None), Ok(false));
    assert_eq!(sem(1).acquire_with(false, None), Ok(true));
}

#[test]
fn check_72_minus_one_polls() {
    let s = sem(0);
    assert_eq!(s.acquire_timeout(-1.0), Ok(false));
    assert_eq!(s.acquire_timeout(0.0), Ok(false));
    assert_eq!(s.acquire_with(true, Some(-5.0)), Ok(false));
    let s = sem(1);
    assert_eq!(s.acquire_timeout(-1.0), Ok(true));
}

#[test]
fn check_73_timeout() {
    let s = sem(0);
    let t = Instant::now();
    assert_eq!(s.acquire_timeout(0.05), Ok(false));
    assert_waited(t, 0.05);
    assert_eq!(s.value(), 0);
}

#[test]
fn check_74_huge_timeout_unexamined_when_permit_free() {
    assert_eq!(sem(1).acquire_timeout(1e100), Ok(true));
    assert_eq!(sem(1).acquire_timeout(f64::INFINITY), Ok(true));
}

#[test]
fn check_75_huge_timeout_when_waiting() {
    for t in [1e100, f64::INFINITY] {
        let s = sem(0);
        raises(s.acquire_timeout(t), Error::TimeoutOverflow);
        assert_eq!(s.value(), 0);
    }
}

#[test]
fn check_76_unbounded_release() {
    let s = sem(1);
    s.release().unwrap();
    assert_eq!(s.value(), 2);
    assert!(s.try_acquire());
    assert!(s.try_acquire());
}

#[test]
fn check_77_release_count_must_be_positive() {
    let s = sem(1);
    bad_count(s.release_n(0));
    bad_count(s.release_n(-1));
    assert_eq!(s.value(), 1);
    s.release_n(3).unwrap();
    assert_eq!(s.value(), 4);
}

#[test]
fn check_78_release_n_wakes_n() {
    let s = sem(0);
    let got = AtomicUsize::new(0);
    let started = AtomicUsize::new(0);
    thread::scope(|sc| {
        for _ in 0..5 {
            sc.spawn(|| {
                started.fetch_add(1, SeqCst);
                assert!(s.acquire());
                got.fetch_add(1, SeqCst);
            });
        }
        spin_until("5 acquirers started", || started.load(SeqCst) == 5);
        s.release_n(3).unwrap();
        spin_until("3 acquisitions", || got.load(SeqCst) == 3);
        assert_eq!(s.value(), 0);
        assert_eq!(got.load(SeqCst), 3);
        s.release_n(2).unwrap();
    });
    assert_eq!(got.load(SeqCst), 5);
    assert_eq!(s.value(), 0);
}

#[test]
fn check_79_with_block() {
    let s = sem(2);
    {
        let _g = s.lock();
        assert_eq!(s.value(), 1);
    }
    assert_eq!(s.value(), 2);
}

/// A releaser that re-acquires at once may beat the waiter it just notified (barging). In
/// CPython the GIL makes the releaser win in practice (SEMANTICS.md observed it: [R]), but no
/// order is promised; lockproof allows both outcomes on real threads, and
/// `semaphore_checked.rs::releaser_may_take_the_permit_back` shows under the checker that
/// both happen. What must hold either way: the one permit goes to exactly one of them.
#[test]
fn check_82_releaser_barges_ahead_of_notified_waiter() {
    let s = sem(0);
    let started = AtomicUsize::new(0);
    thread::scope(|sc| {
        let waiter = sc.spawn(|| {
            started.store(1, SeqCst);
            s.acquire_timeout(0.2)
        });
        spin_until("the waiter started", || started.load(SeqCst) == 1);
        s.release().unwrap();
        let releaser_got_it = s.try_acquire();
        let waiter_got_it = waiter.join().unwrap().expect("a valid timeout");
        assert!(
            releaser_got_it != waiter_got_it,
            "one permit, two takers: releaser {releaser_got_it}, waiter {waiter_got_it}"
        );
    });
    assert_eq!(s.value(), 0);
}

#[test]
fn check_81_debug_repr() {
    assert_eq!(format!("{:?}", sem(3)), "<threading.Semaphore: value=3>");
    assert_eq!(format!("{:?}", sem(0)), "<threading.Semaphore: value=0>");
}

// ---- SEMANTICS.md conformance checks 85–91: BoundedSemaphore ------------------------------

#[test]
fn check_85_bounded_negative_initial_value() {
    negative_initial(<BoundedSemaphore>::new(-1));
}

#[test]
fn check_86_bounded_release_past_bound() {
    let b = bsem(2);
    too_many(b.release());
    assert_eq!(b.value(), 2);
}

#[test]
fn check_87_bounded_release_n_is_all_or_nothing() {
    let b = bsem(3);
    assert!(b.acquire());
    assert!(b.acquire());
    assert_eq!(b.value(), 1);
    too_many(b.release_n(3));
    assert_eq!(b.value(), 1);
    assert_eq!(b.release_n(2), Ok(()));
    assert_eq!(b.value(), 3);
}

#[test]
fn check_88_bounded_zero() {
    let b = bsem(0);
    too_many(b.release());
    assert_eq!(b.value(), 0);
    assert!(!b.try_acquire());
}

#[test]
fn check_89_bounded_count_checked_first() {
    let b = bsem(1);
    bad_count(b.release_n(0));
    bad_count(b.release_n(-1));
    assert_eq!(b.value(), 1);
}

/// Python: `isinstance(BoundedSemaphore(), Semaphore)`. Rust has no subclasses; a
/// `BoundedSemaphore` is usable wherever a `&Semaphore` is (it derefs to one), and stays
/// bounded when used that way.
#[test]
fn check_90_bounded_is_a_semaphore() {
    fn take_one(s: &Semaphore) -> bool {
        s.try_acquire()
    }
    let b = bsem(1);
    assert!(take_one(&b));
    let s: &Semaphore = b.as_semaphore();
    assert_eq!(s.value(), 0);
    s.release().unwrap();
    too_many(s.release());
    assert_eq!(format!("{s:?}"), "<threading.BoundedSemaphore: value=1/1>");
}

#[test]
fn check_91_bounded_debug_repr() {
    let b = bsem(3);
    assert!(b.acquire());
    assert_eq!(format!("{b:?}"), "<threading.BoundedSemaphore: value=2/3>");
}

/// §5.2: a NaN timeout waits until a permit comes (CPython busy-polls; lockproof waits;
/// the result is the same).
#[test]
fn semantics_5_2_nan_timeout_waits_for_permit() {
    let s = sem(0);
    let started = AtomicUsize::new(0);
    thread::scope(|sc| {
        let h = sc.spawn(|| {
            started.store(1, SeqCst);
            s.acquire_timeout(f64::NAN)
        });
        spin_until("the acquirer started", || started.load(SeqCst) == 1);
        s.release().unwrap();
        assert_eq!(h.join().unwrap(), Ok(true));
    });
    assert_eq!(s.value(), 0);
}

/// §6: `acquire` is Semaphore's, timeout conventions included.
#[test]
fn semantics_6_bounded_acquire_is_semaphores() {
    let b = bsem(1);
    raises(
        b.acquire_with(false, Some(1.0)),
        Error::SemaphoreNonBlockingTimeout,
    );
    assert_eq!(b.acquire_timeout(1e100), Ok(true));
    assert_eq!(b.acquire_timeout(-1.0), Ok(false));
    raises(b.acquire_timeout(1e100), Error::TimeoutOverflow);
    let t = Instant::now();
    assert_eq!(b.acquire_timeout(0.05), Ok(false));
    assert_waited(t, 0.05);
}

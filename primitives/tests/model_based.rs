//! Model-based tests: random call sequences on each primitive, checked against a plain
//! sequential reference model (same return values, same errors, same final state), and
//! small multi-thread programs of random calls under shuttle.
//!
//! proptest drives the state machines (its strategies and shrinking give the smallest
//! failing call sequence); quickcheck drives the timeout-convention property, where its
//! `f64` generator's special values (NaN, ±∞, ±0, huge) are what matters.

mod support;

use lockproof::backend::checked::violate;
use lockproof::backend::{Backend, JoinHandle, Shuttle};
use lockproof::threading::{
    Barrier, BoundedSemaphore, Error, Event, Lock, RLock, Semaphore, TIMEOUT_MAX,
};
use proptest::prelude::*;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

// ---- timeout conventions (quickcheck) -----------------------------------------------------

/// CPython's `Lock.acquire(blocking, timeout)` checks, written independently from
/// SEMANTICS.md §1.3 as the reference: Ok(Some(poll?)) or the error.
fn lock_reference(blocking: bool, t: f64) -> Result<bool, Error> {
    if t.is_nan() {
        return Err(Error::NanTimeout);
    }
    let ns = t * 1e9;
    let ns = if ns >= 0.0 { ns.ceil() } else { ns.floor() };
    if !(-9.223_372_036_854_776e18..9.223_372_036_854_776e18).contains(&ns) {
        return Err(Error::TimeoutOverflow);
    }
    let forever = ns == -1e9;
    if !blocking && !forever {
        return Err(Error::NonBlockingTimeout);
    }
    if ns < 0.0 && !forever {
        return Err(Error::NegativeTimeout);
    }
    Ok(true)
}

#[test]
fn lock_timeout_checks_match_cpython_reference() {
    fn prop(blocking: bool, t: f64) -> bool {
        // On a free lock every valid call acquires (a poll or a wait that succeeds at once).
        let lock = Lock::new();
        let got = lock.acquire_with(blocking, t);
        let want = lock_reference(blocking, t);
        got == want
    }
    quickcheck::QuickCheck::new()
        .tests(2_000)
        .quickcheck(prop as fn(bool, f64) -> bool);
    // The edges quickcheck may not draw.
    for t in [
        -1.0,
        -0.999_999_999_9,
        -1e-10,
        -1.000_000_000_1,
        0.0,
        -0.0,
        TIMEOUT_MAX,
        TIMEOUT_MAX + 1.0,
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::NAN,
        1e100,
    ] {
        for blocking in [true, false] {
            assert!(prop(blocking, t), "blocking={blocking} timeout={t}");
        }
    }
}

// ---- Lock ------------------------------------------------------------------------------------

#[derive(Clone, Debug)]
enum LockOp {
    TryAcquire,
    Poll,
    Release,
    Locked,
    NonBlockingWithTimeout(f64),
}

fn lock_op() -> impl Strategy<Value = LockOp> {
    prop_oneof![
        Just(LockOp::TryAcquire),
        Just(LockOp::Poll),
        Just(LockOp::Release),
        Just(LockOp::Locked),
        (-5.0f64..5.0).prop_map(LockOp::NonBlockingWithTimeout),
    ]
}

proptest! {
    #[test]
    fn lock_matches_model(ops in prop::collection::vec(lock_op(), 1..40)) {
        let lock = Lock::new();
        let mut held = false;
        for op in ops {
            match op {
                LockOp::TryAcquire => {
                    prop_assert_eq!(lock.try_acquire(), !held);
                    held = true;
                }
                LockOp::Poll => {
                    prop_assert_eq!(lock.acquire_timeout(0.0), Ok(!held));
                    held = true;
                }
                LockOp::Release => {
                    let want = if held { Ok(()) } else { Err(Error::ReleaseUnlocked) };
                    prop_assert_eq!(lock.release(), want);
                    held = false;
                }
                LockOp::Locked => prop_assert_eq!(lock.locked(), held),
                LockOp::NonBlockingWithTimeout(t) => {
                    let want = if (t * 1e9).floor() == -1e9 && t < 0.0 {
                        let r = !held;
                        held = true;
                        Ok(r)
                    } else {
                        Err(Error::NonBlockingTimeout)
                    };
                    prop_assert_eq!(lock.acquire_with(false, t), want);
                }
            }
        }
        prop_assert_eq!(lock.locked(), held);
    }
}

// ---- RLock ----------------------------------------------------------------------------------

#[derive(Clone, Debug)]
enum RLockOp {
    TryAcquire,
    AcquireTimeout(f64),
    Release,
    Count,
    SaveRestore,
}

fn rlock_op() -> impl Strategy<Value = RLockOp> {
    prop_oneof![
        Just(RLockOp::TryAcquire),
        (0.0f64..2.0).prop_map(RLockOp::AcquireTimeout),
        Just(RLockOp::Release),
        Just(RLockOp::Count),
        Just(RLockOp::SaveRestore),
    ]
}

proptest! {
    #[test]
    fn rlock_matches_model(ops in prop::collection::vec(rlock_op(), 1..40)) {
        let r = RLock::new();
        let mut count = 0usize;
        for op in ops {
            match op {
                RLockOp::TryAcquire => {
                    prop_assert!(r.try_acquire());
                    count += 1;
                }
                RLockOp::AcquireTimeout(t) => {
                    // The owner (or a free lock) never waits, whatever the timeout.
                    prop_assert_eq!(r.acquire_timeout(t), Ok(true));
                    count += 1;
                }
                RLockOp::Release => {
                    let want = if count > 0 { Ok(()) } else { Err(Error::ReleaseUnacquired) };
                    prop_assert_eq!(r.release(), want);
                    count = count.saturating_sub(1);
                }
                RLockOp::Count => {
                    prop_assert_eq!(r.recursion_count(), count);
                    prop_assert_eq!(r.is_owned(), count > 0);
                }
                RLockOp::SaveRestore => match r.release_save() {
                    Ok(state) => {
                        prop_assert!(count > 0);
                        prop_assert!(!r.is_owned());
                        r.acquire_restore(state);
                        prop_assert_eq!(r.recursion_count(), count);
                    }
                    Err(e) => {
                        prop_assert_eq!(count, 0);
                        prop_assert_eq!(e, Error::ReleaseUnacquired);
                    }
                },
            }
        }
    }
}

// ---- Semaphore / BoundedSemaphore -------------------------------------------------------------

#[derive(Clone, Debug)]
enum SemOp {
    TryAcquire,
    AcquireTimeout(f64),
    ReleaseN(isize),
    Value,
}

fn sem_op() -> impl Strategy<Value = SemOp> {
    prop_oneof![
        Just(SemOp::TryAcquire),
        (-1.0f64..0.0).prop_map(SemOp::AcquireTimeout),
        (-1isize..4).prop_map(SemOp::ReleaseN),
        Just(SemOp::Value),
    ]
}

proptest! {
    #[test]
    fn semaphore_matches_model(init in -1isize..4, bounded: bool, ops in prop::collection::vec(sem_op(), 1..40)) {
        if init < 0 {
            prop_assert_eq!(Semaphore::new(init).err(), Some(Error::SemaphoreNegative));
            prop_assert_eq!(BoundedSemaphore::new(init).err(), Some(Error::SemaphoreNegative));
            return Ok(());
        }
        let bs = BoundedSemaphore::new(init).expect("valid");
        let us = Semaphore::new(init).expect("valid");
        let s: &Semaphore = if bounded { bs.as_semaphore() } else { &us };
        let mut value = init as usize;
        for op in ops {
            match op {
                SemOp::TryAcquire => {
                    let ok = if bounded { bs.try_acquire() } else { us.try_acquire() };
                    prop_assert_eq!(ok, value > 0);
                    value = value.saturating_sub(1);
                }
                SemOp::AcquireTimeout(t) => {
                    // A zero or negative timeout polls once: no wait.
                    let ok = if bounded { bs.acquire_timeout(t) } else { us.acquire_timeout(t) };
                    prop_assert_eq!(ok, Ok(value > 0));
                    value = value.saturating_sub(1);
                }
                SemOp::ReleaseN(n) => {
                    let got = if bounded { bs.release_n(n) } else { us.release_n(n) };
                    let want = if n < 1 {
                        Err(Error::ReleaseCount)
                    } else if bounded && value + n as usize > init as usize {
                        Err(Error::ReleasedTooManyTimes)
                    } else {
                        value += n as usize;
                        Ok(())
                    };
                    prop_assert_eq!(got, want);
                }
                SemOp::Value => prop_assert_eq!(s.value(), value),
            }
        }
        prop_assert_eq!(s.value(), value);
    }
}

// ---- Event ---------------------------------------------------------------------------------

#[derive(Clone, Debug)]
enum EventOp {
    Set,
    Clear,
    IsSet,
    Poll(f64),
}

fn event_op() -> impl Strategy<Value = EventOp> {
    prop_oneof![
        Just(EventOp::Set),
        Just(EventOp::Clear),
        Just(EventOp::IsSet),
        prop_oneof![Just(0.0), Just(-1.0), Just(f64::NAN), (-3.0f64..0.0)].prop_map(EventOp::Poll),
    ]
}

proptest! {
    #[test]
    fn event_matches_model(ops in prop::collection::vec(event_op(), 1..40)) {
        let e = Event::new();
        let mut flag = false;
        for op in ops {
            match op {
                EventOp::Set => { e.set(); flag = true; }
                EventOp::Clear => { e.clear(); flag = false; }
                EventOp::IsSet => prop_assert_eq!(e.is_set(), flag),
                EventOp::Poll(t) => prop_assert_eq!(e.wait(Some(t)), Ok(flag)),
            }
        }
        if flag {
            // A set event returns at once, even with a timeout too large to wait on.
            prop_assert_eq!(e.wait(Some(1e100)), Ok(true));
        } else {
            prop_assert_eq!(e.wait(Some(1e100)), Err(Error::TimeoutOverflow));
        }
    }
}

// ---- Barrier(1) ----------------------------------------------------------------------------

#[derive(Clone, Debug)]
enum BarrierOp {
    Wait,
    Abort,
    Reset,
    Broken,
}

proptest! {
    #[test]
    fn single_party_barrier_matches_model(ops in prop::collection::vec(prop_oneof![
        Just(BarrierOp::Wait), Just(BarrierOp::Abort), Just(BarrierOp::Reset), Just(BarrierOp::Broken)
    ], 1..40)) {
        let runs = Arc::new(AtomicUsize::new(0));
        let r2 = runs.clone();
        let b = Barrier::new(1, Some(Box::new(move || { r2.fetch_add(1, Ordering::SeqCst); Ok(()) })), None)
            .expect("valid");
        let mut broken = false;
        let mut actions = 0;
        for op in ops {
            match op {
                BarrierOp::Wait => {
                    let want = if broken { Err(Error::BrokenBarrier) } else { actions += 1; Ok(0) };
                    prop_assert_eq!(b.wait(), want);
                }
                BarrierOp::Abort => { b.abort(); broken = true; }
                BarrierOp::Reset => { b.reset(); broken = false; }
                BarrierOp::Broken => prop_assert_eq!(b.broken(), broken),
            }
            prop_assert_eq!(runs.load(Ordering::SeqCst), actions);
            prop_assert_eq!(b.n_waiting(), 0);
        }
    }
}

// ---- random multi-thread programs under shuttle -------------------------------------------

/// One thread's program: a list of steps on a shared Semaphore(2) and Lock.
#[derive(Clone, Copy, Debug)]
enum Step {
    /// acquire the semaphore, spend a step inside, release it
    Sem,
    /// take the lock, bump the counter, release it
    Locked,
    /// try the lock without blocking; if taken, bump and release
    TryLock,
}

type Program = Vec<Vec<Step>>;

thread_local! {
    static PROGRAM: std::cell::RefCell<Program> = const { std::cell::RefCell::new(Vec::new()) };
}

fn run_program<B: Backend>() {
    let program = PROGRAM.with(|p| p.borrow().clone());
    let sem = Arc::new(lockproof::Semaphore::<B>::new(2).expect("valid"));
    let lock = Arc::new(lockproof::Lock::<B>::new());
    let inside = Arc::new(lockproof::Shared::<usize, B>::new(0));
    let counter = Arc::new(lockproof::Shared::<usize, B>::new(0));
    let expected: usize = program
        .iter()
        .flatten()
        .filter(|s| matches!(s, Step::Locked))
        .count();
    let handles: Vec<_> = program
        .into_iter()
        .enumerate()
        .map(|(i, steps)| {
            let (sem, lock, inside, counter) =
                (sem.clone(), lock.clone(), inside.clone(), counter.clone());
            B::spawn(&format!("t{i}"), move || {
                let mut tried = 0;
                for step in steps {
                    match step {
                        Step::Sem => {
                            sem.acquire();
                            let n = inside.update(|v| {
                                *v += 1;
                                *v
                            });
                            if n > 2 {
                                violate("mutual-exclusion", "3 threads inside Semaphore(2)");
                            }
                            inside.update(|v| *v -= 1);
                            sem.release().expect("held");
                        }
                        Step::Locked => {
                            let _with = lock.lock();
                            counter.set(counter.get() + 1);
                        }
                        Step::TryLock => {
                            if lock.try_acquire() {
                                tried += 1;
                                counter.set(counter.get() + 1);
                                lock.release().expect("held");
                            }
                        }
                    }
                }
                tried
            })
        })
        .collect();
    let tried: usize = handles.into_iter().map(|h| h.join()).sum();
    let got = counter.get();
    if got != expected + tried {
        violate(
            "no-lost-update",
            &format!("counter {got}, expected {}", expected + tried),
        );
    }
    if sem.value() != 2 {
        violate(
            "semaphore-balance",
            &format!("value {} after balanced use", sem.value()),
        );
    }
}

fn program() -> impl Strategy<Value = Program> {
    let step = prop_oneof![Just(Step::Sem), Just(Step::Locked), Just(Step::TryLock)];
    prop::collection::vec(prop::collection::vec(step, 1..4), 2..4)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]
    #[test]
    fn random_programs_hold_under_shuttle(p in program()) {
        PROGRAM.with(|cell| *cell.borrow_mut() = p.clone());
        let r = support::shuttle_check(run_program::<Shuttle>, 100);
        prop_assert!(r.is_ok(), "program {:?} failed: {:?}", p, r.err().and_then(|r| r.failure));
    }
}

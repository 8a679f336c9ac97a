//! Chapter 4 of the tutorial (threading.Semaphore, BoundedSemaphore, resource pools, rate
//! limiting): its prose rules (`rule-4.S-NN`; the chapter has no code), as tests named
//! after the catalogue record they cover (`corpus/catalogue/ch4.jsonl`).
//!
//! Real threads where the rule is about what one call returns; loom and shuttle (through
//! `support`) in virtual time where it is about what can happen between threads, when a
//! blocked thread wakes, or a thread that blocks forever (the checked world reports the
//! deadlock instead of hanging). Rules the tutorial states wrongly have a test of what
//! CPython 3.11 actually does; where that is "some interleaving breaks the rule's promise",
//! the test asserts the checker finds that interleaving. No test sleeps on real threads.
//!
//! The chapter's resource-pool and rate-limiting sections describe designs without code;
//! their tests build the smallest version the rule describes (a pool is a semaphore plus a
//! Lock-guarded list of resources) and check the rule's claim about it.

mod support;

use lockproof::backend::checked::WorldConfig;
use lockproof::backend::checked::{violate, ExecutionReport, Failure};
use lockproof::backend::{Backend, JoinHandle, Loom, Shuttle, Std};
use lockproof::{BoundedSemaphore, Error, Lock, PyException, Semaphore, Shared};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};
use support::{quiet_panics, shuttle_check};

const SECOND: u64 = 1_000_000_000;
const SHUTTLE_RUNS: usize = 300;

/// Fail the checked execution with a violation of `property` unless `ok`.
fn check(ok: bool, property: &str, message: impl FnOnce() -> String) {
    if !ok {
        violate(property, &message());
    }
}

/// `time.sleep(secs)` (virtual time under a checker).
fn sleep<B: Backend>(secs: f64) {
    B::sleep(Duration::from_secs_f64(secs));
}

/// Virtual time now, in nanoseconds.
fn now<B: Backend>() -> u64 {
    B::now().0
}

/// Every interleaving of `body` with at most two preemptions (the harness's bound).
#[allow(clippy::result_large_err)] // the report `support::loom_with` returns, unboxed
fn loom_check(body: fn()) -> Result<usize, Box<ExecutionReport>> {
    support::loom_with(WorldConfig::default(), Some(2), body)
}

/// The body holds in every execution loom and shuttle explore.
fn holds(loom: fn(), shuttle: fn()) {
    loom_check(loom).unwrap_or_else(|r| panic!("loom: {:?}", r.failure));
    shuttle_check(shuttle, SHUTTLE_RUNS).unwrap_or_else(|r| panic!("shuttle: {:?}", r.failure));
}

/// The checker finds an execution violating `property`.
fn found(r: Result<usize, Box<ExecutionReport>>, property: &str) {
    let Err(report) = r else {
        eprintln!("expected a {property} violation, every execution passed");
        panic!("expected a {property} violation, every execution passed");
    };
    match report.failure {
        Some(Failure::Violation { property: p, .. }) if p == property => {}
        other => {
            // Printed: `quiet_panics` silences the panic message.
            eprintln!("expected a {property} violation, got {other:?}");
            panic!("expected a {property} violation, got {other:?}");
        }
    }
}

/// The checker finds a violation of one of `properties`.
fn found_any(r: Result<usize, Box<ExecutionReport>>, properties: &[&str]) {
    let failure = r.map_err(|r| r.failure);
    match failure {
        Err(Some(Failure::Violation { property, .. })) if properties.contains(&&*property) => {}
        other => {
            eprintln!("expected one of {properties:?}, got {other:?}");
            panic!("expected one of {properties:?}, got {other:?}");
        }
    }
}

/// The checker finds a deadlock.
fn found_deadlock(r: Result<usize, Box<ExecutionReport>>) {
    let report = r.expect_err("the checker should find the deadlock");
    if !matches!(report.failure, Some(Failure::Deadlock(_))) {
        eprintln!("expected a deadlock, got {:?}", report.failure);
        panic!("expected a deadlock, got {:?}", report.failure);
    }
}

/// Run `f` on another real thread and return what it returns.
fn elsewhere<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    thread::scope(|s| s.spawn(f).join().expect("the other thread panicked"))
}

fn assert_value_error<T: std::fmt::Debug>(r: lockproof::Result<T>, msg: &str) {
    let e = r.expect_err("expected a ValueError");
    assert_eq!(e.exception(), PyException::ValueError, "{e:?}");
    assert_eq!(e.to_string(), msg);
}

// ---- 4.1 Semaphore ---------------------------------------------------------------------

/// `threads` threads each pass once through a semaphore of `permits`, staying inside
/// across a scheduling point; fails if more than `limit` are ever inside together.
fn occupancy<B: Backend>(permits: isize, threads: usize, limit: usize) {
    let sem = Arc::new(Semaphore::<B>::new(permits).unwrap().with_name("sem"));
    let inside = Arc::new(Shared::<usize, B>::new(0).with_name("inside"));
    let hs: Vec<_> = (0..threads)
        .map(|i| {
            let (sem, inside) = (sem.clone(), inside.clone());
            B::spawn(&format!("t{i}"), move || {
                let _with = sem.lock();
                let n = inside.update(|n| {
                    *n += 1;
                    *n
                });
                check(n <= limit, "bounded-occupancy", || {
                    format!("{n} threads inside, at most {limit} allowed")
                });
                inside.update(|n| *n -= 1);
            })
        })
        .collect();
    for h in hs {
        h.join();
    }
    check(sem.value() == permits as usize, "permits-back", || {
        format!("value {} after every permit came back", sem.value())
    });
}

fn two_permits_three_threads<B: Backend>() {
    occupancy::<B>(2, 3, 2)
}

fn two_permits_claimed_one<B: Backend>() {
    occupancy::<B>(2, 3, 1)
}

/// Two real threads hold permits of a Semaphore(2) at the same time (they meet while both
/// hold one), and a third cannot get one meanwhile.
fn two_holders_at_once(sem: &Semaphore) {
    let met = std::sync::Barrier::new(3);
    let done = std::sync::Barrier::new(3);
    thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| {
                let _with = sem.lock();
                met.wait();
                done.wait();
            });
        }
        met.wait(); // both hold a permit now
        assert_eq!(sem.value(), 0);
        assert!(!sem.try_acquire(), "a third thread gets no permit");
        done.wait();
    });
    assert_eq!(sem.value(), 2);
}

/// rule-4.1-01: a semaphore lets several threads use the resource at once, up to its
/// permits and never more.
#[test]
fn rule_4_1_01_several_threads_up_to_the_limit() {
    holds(
        two_permits_three_threads::<Loom>,
        two_permits_three_threads::<Shuttle>,
    );
    // Not vacuous: two of them are inside together in some interleaving.
    quiet_panics();
    found(
        loom_check(two_permits_claimed_one::<Loom>),
        "bounded-occupancy",
    );
    two_holders_at_once(&Semaphore::<Std>::new(2).unwrap());
}

/// rule-4.1-02: the counter is the number of permits available.
#[test]
fn rule_4_1_02_counter_is_permits_available() {
    let sem = Semaphore::<Std>::new(3).unwrap();
    assert_eq!(sem.value(), 3);
    for left in (0..3).rev() {
        assert!(sem.try_acquire());
        assert_eq!(sem.value(), left);
    }
    assert!(!sem.try_acquire(), "no permit at 0");
}

/// rule-4.1-03: `acquire()` takes a permit, `release()` gives one back.
#[test]
fn rule_4_1_03_acquire_takes_release_gives_back() {
    let sem = Semaphore::<Std>::new(2).unwrap();
    assert!(sem.acquire());
    assert_eq!(sem.value(), 1);
    sem.release().unwrap();
    assert_eq!(sem.value(), 2);
    // Any thread may give it back (a semaphore has no owner).
    assert!(sem.acquire());
    elsewhere(|| sem.release().unwrap());
    assert_eq!(sem.value(), 2);
}

/// A waiter on Semaphore(0) blocks until main releases at 1 s (virtual), then gets the
/// permit at that very time.
fn blocks_until_release<B: Backend>() {
    let sem = Arc::new(Semaphore::<B>::new(0).unwrap().with_name("sem"));
    let s = sem.clone();
    let waiter = B::spawn("waiter", move || (s.acquire(), now::<B>()));
    sleep::<B>(1.0); // passes only once the waiter is blocked
    sem.release().unwrap();
    let (got, at) = waiter.join();
    check(got && at == SECOND, "blocks-until-release", || {
        format!("acquire() returned {got} at {at} ns; the permit came at 1 s")
    });
    check(sem.value() == 0, "permit-taken", || {
        format!("value {}", sem.value())
    });
}

/// rule-4.1-04: at 0, `acquire()` blocks until some thread releases a permit.
#[test]
fn rule_4_1_04_blocks_at_zero_until_a_release() {
    holds(
        blocks_until_release::<Loom>,
        blocks_until_release::<Shuttle>,
    );
}

/// rule-4.1-05: `Semaphore(value)`: `value` initial permits, never negative. Python's
/// default `value=1` has no Rust counterpart (no default arguments): `Semaphore::<Std>::new(1)`
/// is `Semaphore()`.
#[test]
fn rule_4_1_05_initial_value_non_negative() {
    assert_value_error(
        Semaphore::<Std>::new(-1),
        "semaphore initial value must be >= 0",
    );
    assert_eq!(
        Semaphore::<Std>::new(-1).unwrap_err(),
        Error::SemaphoreNegative
    );
    let zero = Semaphore::<Std>::new(0).unwrap();
    assert_eq!(zero.value(), 0);
    assert!(!zero.try_acquire());
    let one = Semaphore::<Std>::new(1).unwrap();
    assert_eq!(one.value(), 1);
    assert_eq!(format!("{one:?}"), "<threading.Semaphore: value=1>");
}

/// Semaphore(1): the first acquire returns at once; the next waits for a release at 0.2 s
/// and gets it then; a third with nobody releasing times out after its 0.5 s.
fn acquire_immediate_or_wait<B: Backend>() {
    let sem = Arc::new(Semaphore::<B>::new(1).unwrap().with_name("sem"));
    check(sem.acquire() && now::<B>() == 0, "immediate", || {
        format!("the free permit came at {} ns", now::<B>())
    });
    check(sem.value() == 0, "decremented", || {
        format!("value {}", sem.value())
    });
    let s = sem.clone();
    let releaser = B::spawn("releaser", move || {
        sleep::<B>(0.2);
        s.release().unwrap();
    });
    let got = sem.acquire_timeout(0.5).unwrap();
    let at = now::<B>();
    check(got && at == SECOND / 5, "waits-for-permit", || {
        format!("acquire(timeout=0.5) -> {got} at {at} ns; the permit came at 0.2 s")
    });
    releaser.join();
    let got = sem.acquire_timeout(0.5).unwrap();
    let at = now::<B>();
    check(!got && at == SECOND * 7 / 10, "times-out", || {
        format!("acquire(timeout=0.5) with no release -> {got} at {at} ns")
    });
}

/// rule-4.1-06: with a permit free, `acquire()` takes it at once; at 0 it blocks until a
/// permit comes or the timeout expires.
#[test]
fn rule_4_1_06_acquire_immediate_or_blocks() {
    holds(
        acquire_immediate_or_wait::<Loom>,
        acquire_immediate_or_wait::<Shuttle>,
    );
}

fn acquire_forever<B: Backend>() {
    let sem = Semaphore::<B>::new(0).unwrap().with_name("sem");
    sem.acquire();
}

fn acquire_with_timeout<B: Backend>() {
    let sem = Arc::new(Semaphore::<B>::new(0).unwrap().with_name("sem"));
    let s = sem.clone();
    let t = B::spawn("t", move || (s.acquire_timeout(2.0), now::<B>()));
    let (r, at) = t.join();
    check(
        r == Ok(false) && at == 2 * SECOND,
        "timeout-bounds-wait",
        || format!("acquire(timeout=2) -> {r:?} at {at} ns"),
    );
}

/// rule-4.1-07: `acquire()` waits forever by default (with nobody to release, the checker
/// reports a deadlock); a timeout bounds the wait.
#[test]
fn rule_4_1_07_blocks_forever_by_default_timeout_bounds() {
    quiet_panics();
    found_deadlock(loom_check(acquire_forever::<Loom>));
    holds(
        acquire_with_timeout::<Loom>,
        acquire_with_timeout::<Shuttle>,
    );
}

/// rule-4.1-08: `acquire` returns `True` when it got a permit, `False` on timeout.
#[test]
fn rule_4_1_08_true_when_acquired_false_on_timeout() {
    let sem = Semaphore::<Std>::new(1).unwrap();
    assert_eq!(sem.acquire_timeout(0.05), Ok(true));
    let start = Instant::now();
    assert_eq!(sem.acquire_timeout(0.05), Ok(false));
    assert!(start.elapsed() >= Duration::from_millis(50));
    sem.release().unwrap();
    assert_eq!(sem.acquire_with(true, None), Ok(true));
}

/// A release with nobody waiting adds a permit; a release with a waiter wakes it, and the
/// waiter takes the permit at the release's time.
fn release_wakes_waiter<B: Backend>() {
    let sem = Arc::new(Semaphore::<B>::new(0).unwrap().with_name("sem"));
    sem.release().unwrap();
    check(sem.value() == 1, "increments", || {
        format!("value {}", sem.value())
    });
    check(sem.try_acquire(), "permit", || "no permit".to_owned());
    let s = sem.clone();
    let waiter = B::spawn("waiter", move || (s.acquire(), now::<B>()));
    sleep::<B>(1.0);
    sem.release().unwrap();
    let (got, at) = waiter.join();
    check(got && at == SECOND, "wakes-waiter", || {
        format!("the waiter returned {got} at {at} ns; released at 1 s")
    });
}

/// rule-4.1-09: `release()` increments the counter and wakes a waiting thread.
#[test]
fn rule_4_1_09_release_increments_and_wakes() {
    holds(
        release_wakes_waiter::<Loom>,
        release_wakes_waiter::<Shuttle>,
    );
}

/// rule-4.1-10: a plain Semaphore has no upper bound: its value may exceed the initial one.
#[test]
fn rule_4_1_10_no_upper_bound() {
    let sem = Semaphore::<Std>::new(1).unwrap();
    sem.release().unwrap();
    assert_eq!(sem.value(), 2);
    sem.release_n(5).unwrap();
    assert_eq!(sem.value(), 7);
    assert_eq!(format!("{sem:?}"), "<threading.Semaphore: value=7>");
}

/// rule-4.1-11: releasing more often than acquiring raises nothing; the value grows.
#[test]
fn rule_4_1_11_over_release_is_no_error() {
    let sem = Semaphore::<Std>::new(1).unwrap();
    assert!(sem.acquire());
    for expected in 1..=4 {
        assert_eq!(sem.release(), Ok(()));
        assert_eq!(sem.value(), expected);
    }
}

/// rule-4.1-12: `with sem:` takes a permit on entry and gives it back on exit, also when
/// the block raises (a panic here).
#[test]
fn rule_4_1_12_with_releases_even_on_exception() {
    let sem = Semaphore::<Std>::new(1).unwrap();
    {
        let _with = sem.lock();
        assert_eq!(sem.value(), 0);
    }
    assert_eq!(sem.value(), 1);
    let r = catch_unwind(AssertUnwindSafe(|| {
        let _with = sem.lock();
        assert_eq!(sem.value(), 0);
        panic!("raised inside the with block");
    }));
    assert!(r.is_err());
    assert_eq!(sem.value(), 1);
}

/// Concurrent releases lose no increment; concurrent polls take no permit twice.
fn counter_is_atomic<B: Backend>() {
    let sem = Arc::new(Semaphore::<B>::new(0).unwrap().with_name("sem"));
    let rs: Vec<_> = (0..2)
        .map(|i| {
            let s = sem.clone();
            B::spawn(&format!("r{i}"), move || s.release().unwrap())
        })
        .collect();
    for r in rs {
        r.join();
    }
    check(sem.value() == 2, "no-lost-release", || {
        format!("value {} after two releases", sem.value())
    });
    check(sem.try_acquire(), "permit", || "no permit".to_owned());
    let ps: Vec<_> = (0..2)
        .map(|i| {
            let s = sem.clone();
            B::spawn(&format!("p{i}"), move || s.try_acquire())
        })
        .collect();
    let got = ps.into_iter().map(|p| p.join()).filter(|g| *g).count();
    check(got == 1 && sem.value() == 0, "no-double-take", || {
        format!(
            "{got} of 2 polls got the 1 permit left; value {}",
            sem.value()
        )
    });
}

/// rule-4.1-13: the counter's increments and decrements are atomic.
#[test]
fn rule_4_1_13_counter_updates_are_atomic() {
    holds(counter_is_atomic::<Loom>, counter_is_atomic::<Shuttle>);
}

/// `w1` waits on Semaphore(0) first; `w2` arrives later; main releases one permit, then
/// (a second later) another. A FIFO semaphore would serve w1 first.
fn arrival_order<B: Backend>() {
    let sem = Arc::new(Semaphore::<B>::new(0).unwrap().with_name("sem"));
    let order = Arc::new(Shared::<Vec<&'static str>, B>::new(Vec::new()).with_name("order"));
    let waiter = |name: &'static str| {
        let (s, o) = (sem.clone(), order.clone());
        B::spawn(name, move || {
            s.acquire();
            o.update(|v| v.push(name));
        })
    };
    let w1 = waiter("w1");
    sleep::<B>(1.0); // w1 is queued
    let w2 = waiter("w2");
    sem.release().unwrap();
    sleep::<B>(1.0);
    sem.release().unwrap();
    w1.join();
    w2.join();
    let order = order.get();
    check(order == ["w1", "w2"], "fifo", || {
        format!("permits went to {order:?}; w1 had been waiting since 0 s")
    });
}

/// rule-4.1-14 (wrong): waiters are not served FIFO. CPython's release notifies the
/// longest waiter, but a thread that arrives then (here w2, which came a second after w1
/// queued) can take the permit before the woken one gets to it; the woken one waits again.
#[test]
fn rule_4_1_14_no_fifo_a_late_arrival_takes_the_permit() {
    quiet_panics();
    found(loom_check(arrival_order::<Loom>), "fifo");
    found(shuttle_check(arrival_order::<Shuttle>, 2000), "fifo");
}

/// A waiter is woken by main's release, but main polls at once and may take the permit
/// back; the woken waiter then waits on (until its 5 s timeout).
fn woken_waiter_may_lose<B: Backend>() {
    let sem = Arc::new(Semaphore::<B>::new(0).unwrap().with_name("sem"));
    let s = sem.clone();
    let waiter = B::spawn("waiter", move || s.acquire_timeout(5.0).unwrap());
    sleep::<B>(1.0);
    sem.release().unwrap();
    let main_got = sem.try_acquire();
    let waiter_got = waiter.join();
    check(main_got != waiter_got, "one-permit", || {
        format!("main {main_got}, waiter {waiter_got}")
    });
    check(waiter_got, "woken-in-order-gets-permit", || {
        format!(
            "the release woke the only waiter, but main's acquire(False) took the permit; \
             the waiter timed out at {} ns",
            now::<B>()
        )
    });
}

/// rule-4.1-15 (wrong): waking in queue order does not give permits in queue order. The
/// release wakes the waiter, yet the releaser's own `acquire(False)` right after can take
/// the permit (conformance check 82); and CPython's docs say the wake order should not be
/// relied on at all.
#[test]
fn rule_4_1_15_woken_waiter_can_lose_the_permit() {
    quiet_panics();
    found(
        loom_check(woken_waiter_may_lose::<Loom>),
        "woken-in-order-gets-permit",
    );
    found(
        shuttle_check(woken_waiter_may_lose::<Shuttle>, 2000),
        "woken-in-order-gets-permit",
    );
}

fn reacquire_held_semaphore<B: Backend, const PERMITS: isize>() {
    let sem = Arc::new(Semaphore::<B>::new(PERMITS).unwrap().with_name("sem"));
    let s = sem.clone();
    let t = B::spawn("t", move || {
        let _outer = s.lock();
        let _inner = s.lock(); // the same thread, the same semaphore
    });
    t.join();
}

/// rule-4.1-16: a thread re-acquiring a semaphore it holds deadlocks once the permits run
/// out (Semaphore(1): at once); it merely uses up permits while some are left.
#[test]
fn rule_4_1_16_reacquiring_a_held_semaphore_self_deadlocks() {
    quiet_panics();
    found_deadlock(loom_check(reacquire_held_semaphore::<Loom, 1>));
    found_deadlock(shuttle_check(reacquire_held_semaphore::<Shuttle, 1>, 10));
    holds(
        reacquire_held_semaphore::<Loom, 2>,
        reacquire_held_semaphore::<Shuttle, 2>,
    );
}

fn two_semaphores<B: Backend, const SAME_ORDER: bool>() {
    let a = Arc::new(Semaphore::<B>::new(1).unwrap().with_name("a"));
    let b = Arc::new(Semaphore::<B>::new(1).unwrap().with_name("b"));
    let (a1, b1) = (a.clone(), b.clone());
    let t1 = B::spawn("t1", move || {
        let _a = a1.lock();
        let _b = b1.lock();
    });
    let t2 = B::spawn("t2", move || {
        if SAME_ORDER {
            let _a = a.lock();
            let _b = b.lock();
        } else {
            let _b = b.lock();
            let _a = a.lock();
        }
    });
    t1.join();
    t2.join();
}

/// rule-4.1-17: two threads taking two semaphores in opposite orders can deadlock; in one
/// consistent order they cannot.
#[test]
fn rule_4_1_17_consistent_order_avoids_circular_wait() {
    quiet_panics();
    found_deadlock(loom_check(two_semaphores::<Loom, false>));
    found_deadlock(shuttle_check(two_semaphores::<Shuttle, false>, 2000));
    holds(
        two_semaphores::<Loom, true>,
        two_semaphores::<Shuttle, true>,
    );
}

/// rule-4.1-18: with `with` (or try/finally) the permit comes back when the work raises;
/// a bare acquire/release pair leaks it.
#[test]
fn rule_4_1_18_with_or_finally_always_releases() {
    let sem = Semaphore::<Std>::new(1).unwrap();
    let work = || -> Result<(), &'static str> { Err("the work failed") };
    let guarded = catch_unwind(AssertUnwindSafe(|| {
        let _with = sem.lock();
        work().expect("raise");
    }));
    assert!(guarded.is_err());
    assert_eq!(sem.value(), 1, "with: the permit came back");
    let bare = catch_unwind(AssertUnwindSafe(|| {
        sem.acquire();
        work().expect("raise");
        sem.release().unwrap(); // never reached
    }));
    assert!(bare.is_err());
    assert_eq!(sem.value(), 0, "bare acquire: the permit leaked");
    assert!(!elsewhere(|| sem.try_acquire()));
}

/// A plain Semaphore or a BoundedSemaphore, used as a Semaphore.
enum AnySemaphore<B: Backend> {
    Plain(Semaphore<B>),
    Bounded(BoundedSemaphore<B>),
}

impl<B: Backend> std::ops::Deref for AnySemaphore<B> {
    type Target = Semaphore<B>;

    fn deref(&self) -> &Semaphore<B> {
        match self {
            AnySemaphore::Plain(s) => s,
            AnySemaphore::Bounded(b) => b,
        }
    }
}

/// A semaphore of 1 guards a one-thread section; t0 releases twice (the bug). The extra
/// permit lets t1 and t2 in together. A BoundedSemaphore refuses the extra release only
/// if it would pass the bound, that is when nobody else holds the permit at that moment.
fn over_release<B: Backend, const BOUNDED: bool>() {
    let sem = Arc::new(if BOUNDED {
        AnySemaphore::Bounded(BoundedSemaphore::<B>::new(1).unwrap().with_name("sem"))
    } else {
        AnySemaphore::Plain(Semaphore::<B>::new(1).unwrap().with_name("sem"))
    });
    let inside = Arc::new(Shared::<usize, B>::new(0).with_name("inside"));
    let hs: Vec<_> = (0..3)
        .map(|i| {
            let (sem, inside) = (sem.clone(), inside.clone());
            B::spawn(&format!("t{i}"), move || {
                sem.acquire();
                let n = inside.update(|n| {
                    *n += 1;
                    *n
                });
                check(n <= 1, "bounded-occupancy", || {
                    format!("{n} threads inside a section guarded by a semaphore of 1")
                });
                inside.update(|n| *n -= 1);
                // A BoundedSemaphore may refuse this release when the bug's extra one
                // came first (the ValueError hits an innocent thread).
                let _ = sem.release();
                if i == 0 {
                    let _ = sem.release(); // the bug: one release too many
                }
            })
        })
        .collect();
    for h in hs {
        h.join();
    }
}

/// rule-4.1-19: a plain Semaphore accepts an over-release, and the extra permit lets more
/// threads in than intended. A BoundedSemaphore raises ValueError for the extra release
/// only when it would pass the bound: an extra release made while another thread holds
/// the permit is accepted, and the over-admission happens all the same.
#[test]
fn rule_4_1_19_over_release_admits_too_many() {
    quiet_panics();
    found(loom_check(over_release::<Loom, false>), "bounded-occupancy");
    // The bounded case needs t1 to get in between t0's release and its extra one, and t2
    // to come in while t1 is inside: loom finds it with four preemptions (random and PCT
    // schedules rarely hit it).
    found(
        support::loom_with(WorldConfig::default(), Some(4), over_release::<Loom, true>),
        "bounded-occupancy",
    );
    // The same on one thread, step by step (CPython 3.11.7 gives the same results):
    let b = BoundedSemaphore::<Std>::new(1).unwrap();
    assert!(b.acquire()); // t1 holds the permit
    assert_eq!(b.release(), Ok(())); // t0's extra release: accepted
    assert!(b.try_acquire()); // t2 gets in beside t1
    b.release().unwrap(); // t2 leaves
    assert_eq!(b.release(), Err(Error::ReleasedTooManyTimes)); // t1's own release

    // Alone, the bounded one does refuse the extra release, in the thread that made it.
    let b = BoundedSemaphore::<Std>::new(1).unwrap();
    assert!(b.acquire());
    b.release().unwrap();
    assert_eq!(b.release(), Err(Error::ReleasedTooManyTimes));
    let plain = Semaphore::<Std>::new(1).unwrap();
    assert!(plain.acquire());
    plain.release().unwrap();
    assert_eq!(plain.release(), Ok(()));
    assert!(
        plain.try_acquire() && plain.try_acquire(),
        "two holders of a semaphore of 1"
    );
}

// ---- 4.2 BoundedSemaphore --------------------------------------------------------------

/// rule-4.2-01: a BoundedSemaphore's counter never exceeds its initial value.
#[test]
fn rule_4_2_01_never_above_initial_value() {
    let sem = BoundedSemaphore::<Std>::new(2).unwrap();
    assert!(sem.release().is_err());
    assert_eq!(sem.value(), 2);
    assert!(sem.acquire());
    sem.release().unwrap();
    assert_eq!(sem.value(), 2);
    assert!(sem.release_n(1).is_err());
    assert_eq!(sem.value(), 2);
}

/// rule-4.2-02: releasing past the initial value raises ValueError.
#[test]
fn rule_4_2_02_release_past_bound_is_value_error() {
    let sem = BoundedSemaphore::<Std>::new(1).unwrap();
    assert_value_error(sem.release(), "Semaphore released too many times");
    assert_eq!(sem.release(), Err(Error::ReleasedTooManyTimes));
}

/// rule-4.2-03: `BoundedSemaphore(value)`: `value` is the initial count and the bound
/// (Python's default 1 is `BoundedSemaphore::<Std>::new(1)`), never negative.
#[test]
fn rule_4_2_03_value_is_initial_and_maximum() {
    let sem = BoundedSemaphore::<Std>::new(3).unwrap();
    assert_eq!((sem.value(), sem.initial_value()), (3, 3));
    assert!(sem.acquire() && sem.acquire());
    assert_eq!(
        format!("{sem:?}"),
        "<threading.BoundedSemaphore: value=1/3>"
    );
    sem.release_n(2).unwrap();
    assert_eq!(sem.release(), Err(Error::ReleasedTooManyTimes));
    assert_eq!(BoundedSemaphore::<Std>::new(1).unwrap().initial_value(), 1);
    assert_value_error(
        BoundedSemaphore::<Std>::new(-1),
        "semaphore initial value must be >= 0",
    );
}

/// rule-4.2-04 (overstated): the constructor rejects only a negative value. CPython does
/// not check that it is an integer (`BoundedSemaphore(1.5)` is accepted); in Rust the type
/// is an integer, so what remains is exactly the sign check, and 0 is accepted.
#[test]
fn rule_4_2_04_only_negative_values_are_rejected() {
    assert_value_error(
        BoundedSemaphore::<Std>::new(-1),
        "semaphore initial value must be >= 0",
    );
    assert_value_error(
        BoundedSemaphore::<Std>::new(isize::MIN),
        "semaphore initial value must be >= 0",
    );
    let zero = BoundedSemaphore::<Std>::new(0).unwrap();
    assert_eq!((zero.value(), zero.initial_value()), (0, 0));
    assert_eq!(zero.release(), Err(Error::ReleasedTooManyTimes));
}

/// rule-4.2-05: `BoundedSemaphore.acquire` is Semaphore's: at once with a permit, blocks
/// at 0, honours a timeout (with Semaphore's convention: −1 polls, it is not "forever").
#[test]
fn rule_4_2_05_acquire_is_semaphores() {
    let sem = BoundedSemaphore::<Std>::new(1).unwrap();
    assert!(sem.try_acquire());
    assert!(!sem.try_acquire());
    let start = Instant::now();
    assert_eq!(sem.acquire_timeout(0.05), Ok(false));
    assert!(start.elapsed() >= Duration::from_millis(50));
    assert_eq!(sem.acquire_timeout(-1.0), Ok(false));
    assert_eq!(
        sem.acquire_with(false, Some(1.0)),
        Err(Error::SemaphoreNonBlockingTimeout)
    );
    thread::scope(|s| {
        let waiter = s.spawn(|| sem.acquire());
        sem.release().unwrap();
        assert!(waiter.join().unwrap());
    });
    assert_eq!(sem.value(), 0);
}

/// rule-4.2-06: a release is allowed while the counter is below the initial value; at the
/// initial value it is a ValueError and changes nothing.
#[test]
fn rule_4_2_06_release_only_below_the_bound() {
    let sem = BoundedSemaphore::<Std>::new(2).unwrap();
    assert!(sem.acquire() && sem.acquire());
    assert_eq!(sem.release(), Ok(())); // 0 < 2
    assert_eq!(sem.release(), Ok(())); // 1 < 2
    assert_eq!(sem.release(), Err(Error::ReleasedTooManyTimes)); // 2 == 2
    assert_eq!(sem.value(), 2);
}

/// rule-4.2-07: the message says the semaphore was released too many times.
#[test]
fn rule_4_2_07_message() {
    let e = BoundedSemaphore::<Std>::new(1)
        .unwrap()
        .release()
        .unwrap_err();
    assert_eq!(e.to_string(), "Semaphore released too many times");
    assert_eq!(e.exception(), PyException::ValueError);
}

/// Two threads use a BoundedSemaphore(2) and each also tries a stray release; every
/// value anyone sees is within [0, 2].
fn stays_in_range<B: Backend>() {
    let sem = Arc::new(BoundedSemaphore::<B>::new(2).unwrap().with_name("sem"));
    let hs: Vec<_> = (0..2)
        .map(|i| {
            let sem = sem.clone();
            B::spawn(&format!("t{i}"), move || {
                let mut seen = Vec::new();
                sem.acquire();
                seen.push(sem.value());
                // Refused if the other thread's stray release already filled it up.
                let _ = sem.release();
                seen.push(sem.value());
                let _ = sem.release(); // stray: refused when it would pass 2
                seen.push(sem.value());
                check(seen.iter().all(|&v| v <= 2), "in-range", || {
                    format!("values seen {seen:?}, bound 2")
                });
            })
        })
        .collect();
    for h in hs {
        h.join();
    }
    check(sem.value() == 2, "in-range", || {
        format!("value {} at the end", sem.value())
    });
}

/// rule-4.2-08: the counter stays within [0, initial value].
#[test]
fn rule_4_2_08_counter_within_zero_and_bound() {
    holds(stays_in_range::<Loom>, stays_in_range::<Shuttle>);
}

/// BoundedSemaphore(2) with one permit out; two threads release at once.
fn racing_releases<B: Backend>() {
    let sem = Arc::new(BoundedSemaphore::<B>::new(2).unwrap().with_name("sem"));
    sem.acquire();
    let hs: Vec<_> = (0..2)
        .map(|i| {
            let sem = sem.clone();
            B::spawn(&format!("t{i}"), move || sem.release())
        })
        .collect();
    let results: Vec<_> = hs.into_iter().map(|h| h.join()).collect();
    let ok = results.iter().filter(|r| r.is_ok()).count();
    check(ok == 1 && sem.value() == 2, "atomic-bound-check", || {
        format!("releases {results:?}, value {}", sem.value())
    });
}

/// rule-4.2-09: the bound check and the increment are one atomic step: of two racing
/// releases with room for one, exactly one succeeds.
#[test]
fn rule_4_2_09_bound_check_is_atomic_with_the_update() {
    holds(racing_releases::<Loom>, racing_releases::<Shuttle>);
}

// ---- 4.3 resource pools ----------------------------------------------------------------

/// The smallest pool the section describes: a semaphore counting the free resources, and
/// a list of them guarded by a Lock (or, for rule-4.3-04, by nothing).
struct Pool<B: Backend> {
    sem: Semaphore<B>,
    lock: Lock<B>,
    free: Shared<Vec<&'static str>, B>,
    locked: bool,
    /// Who holds each resource now (for the exclusivity check).
    holders: Shared<Vec<&'static str>, B>,
}

impl<B: Backend> Pool<B> {
    fn new(resources: &[&'static str], permits: usize, locked: bool) -> Self {
        Pool {
            sem: Semaphore::new(permits as isize)
                .unwrap()
                .with_name("pool.sem"),
            lock: Lock::new().with_name("pool.lock"),
            free: Shared::new(resources.to_vec()).with_name("pool.free"),
            locked,
            holders: Shared::new(Vec::new()).with_name("pool.in_use"),
        }
    }

    /// Take a resource from the list (`None` if it was empty).
    fn take(&self) -> Option<&'static str> {
        let r = if self.locked {
            let _with = self.lock.lock();
            self.free.update(|v| v.pop())
        } else {
            // An unguarded list: read, then write back (two steps).
            let mut v = self.free.get();
            let r = v.pop();
            self.free.set(v);
            r
        };
        if let Some(r) = r {
            let twice = self.holders.update(|h| {
                let twice = h.contains(&r);
                h.push(r);
                twice
            });
            check(!twice, "resource-exclusive", || {
                format!("{r} handed to two threads at once")
            });
        }
        r
    }

    /// Put a resource back on the list.
    fn put_back(&self, r: &'static str) {
        self.holders.update(|h| {
            let i = h.iter().position(|x| *x == r).expect("held");
            h.remove(i);
        });
        let _with = self.lock.lock();
        self.free.update(|v| v.push(r));
    }

    /// Permit first, then a resource (rule-4.3-06).
    fn get(&self) -> &'static str {
        self.sem.acquire();
        let r = self.take();
        check(r.is_some(), "pool-nonempty", || {
            "a thread with a permit found no resource".to_owned()
        });
        r.unwrap_or("none")
    }

    /// Resource back, then the permit.
    fn put(&self, r: &'static str) {
        self.put_back(r);
        self.sem.release().unwrap();
    }
}

/// `threads` threads each get a resource, hold it across a step, and put it back; at most
/// `limit` hold one at once. At the end the pool is full again and (if `at_rest`) the
/// counter matches the free resources.
fn pool_run<B: Backend>(pool: Arc<Pool<B>>, threads: usize, limit: usize, at_rest: bool) {
    let inside = Arc::new(Shared::<usize, B>::new(0).with_name("holding"));
    let hs: Vec<_> = (0..threads)
        .map(|i| {
            let (pool, inside) = (pool.clone(), inside.clone());
            B::spawn(&format!("t{i}"), move || {
                let r = pool.get();
                let n = inside.update(|n| {
                    *n += 1;
                    *n
                });
                check(n <= limit, "bounded-occupancy", || {
                    format!("{n} threads hold pool resources, capacity {limit}")
                });
                inside.update(|n| *n -= 1);
                pool.put(r);
            })
        })
        .collect();
    for h in hs {
        h.join();
    }
    let (v, n) = (pool.sem.value(), pool.free.get().len());
    check(!at_rest || v == n, "counter-matches-pool", || {
        format!("at rest: counter {v}, {n} free resources")
    });
}

fn pool_of_two<B: Backend>() {
    pool_run(Arc::new(Pool::<B>::new(&["c1", "c2"], 2, true)), 3, 2, true)
}

fn pool_claimed_one<B: Backend>() {
    pool_run(Arc::new(Pool::<B>::new(&["c1", "c2"], 2, true)), 3, 1, true)
}

/// rule-4.3-01: the pool's semaphore caps how many threads hold its resources at once
/// (at the capacity, reached in some interleaving, never above).
#[test]
fn rule_4_3_01_semaphore_caps_concurrent_holders() {
    holds(pool_of_two::<Loom>, pool_of_two::<Shuttle>);
    quiet_panics();
    found(loom_check(pool_claimed_one::<Loom>), "bounded-occupancy");
}

/// rule-4.3-02: the counter stands for the free resources: at rest they are equal (here
/// at the start, and after three threads got and returned resources, in every
/// interleaving; between steps see rule-4.3-07).
#[test]
fn rule_4_3_02_counter_stands_for_free_resources() {
    let pool = Pool::<Std>::new(&["c1", "c2"], 2, true);
    assert_eq!(pool.sem.value(), pool.free.get().len());
    let r = pool.get();
    assert_eq!((pool.sem.value(), pool.free.get().len()), (1, 1));
    pool.put(r);
    assert_eq!((pool.sem.value(), pool.free.get().len()), (2, 2));
    holds(pool_of_two::<Loom>, pool_of_two::<Shuttle>);
}

/// A pool of one: t1 holds the resource for 1 s; t2 asks at once and gets it when t1
/// returns it, at 1 s.
fn pool_blocks_and_wakes<B: Backend>() {
    let pool = Arc::new(Pool::<B>::new(&["c1"], 1, true));
    let p = pool.clone();
    let r = p.get();
    let t2 = B::spawn("t2", move || (pool.get(), now::<B>()));
    sleep::<B>(1.0);
    p.put(r);
    let (got, at) = t2.join();
    check(got == "c1" && at == SECOND, "blocks-until-returned", || {
        format!("t2 got {got} at {at} ns; it was returned at 1 s")
    });
}

/// rule-4.3-03: with no resource free, a requesting thread blocks.
#[test]
fn rule_4_3_03_empty_pool_blocks() {
    holds(
        pool_blocks_and_wakes::<Loom>,
        pool_blocks_and_wakes::<Shuttle>,
    );
}

fn unguarded_pool<B: Backend>() {
    pool_run(
        Arc::new(Pool::<B>::new(&["c1", "c2"], 2, false)),
        2,
        2,
        false,
    )
}

/// rule-4.3-04: the resource list must be thread-safe: unguarded (a read, then a write
/// back), two threads can pop the same resource, or a push is lost and a thread with a
/// permit later finds the list empty; guarded by the Lock, neither.
#[test]
fn rule_4_3_04_container_must_be_thread_safe() {
    quiet_panics();
    found_any(
        loom_check(unguarded_pool::<Loom>),
        &["resource-exclusive", "pool-nonempty"],
    );
    holds(pool_of_two::<Loom>, pool_of_two::<Shuttle>);
}

fn pool_sem_too_big<B: Backend>() {
    pool_run(
        Arc::new(Pool::<B>::new(&["c1", "c2"], 3, true)),
        3,
        3,
        false,
    )
}

/// rule-4.3-05: the semaphore starts at the pool's capacity; one more permit than
/// resources lets a thread past the semaphore into an empty list.
#[test]
fn rule_4_3_05_semaphore_starts_at_capacity() {
    holds(pool_of_two::<Loom>, pool_of_two::<Shuttle>);
    quiet_panics();
    found(loom_check(pool_sem_too_big::<Loom>), "pool-nonempty");
}

/// Resource first, permit second: the wrong order.
fn resource_then_permit<B: Backend>() {
    let pool = Arc::new(Pool::<B>::new(&["c1", "c2"], 2, true));
    let hs: Vec<_> = (0..3)
        .map(|i| {
            let pool = pool.clone();
            B::spawn(&format!("t{i}"), move || {
                let r = pool.take();
                check(r.is_some(), "pool-nonempty", || {
                    "took from an empty list: no permit was waited for".to_owned()
                });
                pool.sem.acquire();
                if let Some(r) = r {
                    pool.put(r);
                }
            })
        })
        .collect();
    for h in hs {
        h.join();
    }
}

/// rule-4.3-06: a permit first, then a resource: the permit guarantees a resource is
/// there (in every interleaving); the other way round a thread can find the list empty.
#[test]
fn rule_4_3_06_permit_before_resource() {
    holds(pool_of_two::<Loom>, pool_of_two::<Shuttle>);
    quiet_panics();
    found(loom_check(resource_then_permit::<Loom>), "pool-nonempty");
}

/// Two threads use a pool of two while a monitor, holding the pool's lock (so the list
/// cannot change), compares the counter with the list.
fn pool_counter_vs_list<B: Backend, const EQUAL: bool>() {
    let pool = Arc::new(Pool::<B>::new(&["c1", "c2"], 2, true));
    let hs: Vec<_> = (0..2)
        .map(|i| {
            let pool = pool.clone();
            B::spawn(&format!("t{i}"), move || {
                let r = pool.get();
                pool.put(r);
            })
        })
        .collect();
    let p = pool.clone();
    let monitor = B::spawn("monitor", move || {
        for _ in 0..2 {
            let _with = p.lock.lock();
            let n = p.free.get().len();
            let v = p.sem.value();
            if EQUAL {
                check(v == n, "counter-equals-free", || {
                    format!("counter {v}, {n} free resources")
                });
            } else {
                check(v <= n, "counter-at-most-free", || {
                    format!("counter {v} above the {n} free resources")
                });
            }
        }
    });
    for h in hs {
        h.join();
    }
    monitor.join();
}

/// rule-4.3-07 (wrong): the counter equals the free resources only at rest. Between a
/// thread's acquire and its pop, or its push and its release, the counter is lower: the
/// checker finds a monitor seeing `counter < free`. What does hold at every step is
/// `counter <= free` (no thread can pass the semaphore without a resource there).
#[test]
fn rule_4_3_07_counter_equals_free_only_at_rest() {
    quiet_panics();
    found(
        loom_check(pool_counter_vs_list::<Loom, true>),
        "counter-equals-free",
    );
    holds(
        pool_counter_vs_list::<Loom, false>,
        pool_counter_vs_list::<Shuttle, false>,
    );
}

/// rule-4.3-08: returning a resource wakes a thread waiting on the semaphore (it gets
/// the resource at the moment it is returned).
#[test]
fn rule_4_3_08_return_wakes_a_waiter() {
    holds(
        pool_blocks_and_wakes::<Loom>,
        pool_blocks_and_wakes::<Shuttle>,
    );
}

/// A pool of one: main holds the resource; w1 asks first and waits; w2 asks a second
/// later; main returns it. A FIFO pool would give it to w1.
fn pool_arrival_order<B: Backend>() {
    let pool = Arc::new(Pool::<B>::new(&["c1"], 1, true));
    let order = Arc::new(Shared::<Vec<&'static str>, B>::new(Vec::new()).with_name("order"));
    let r = pool.get();
    let waiter = |name: &'static str| {
        let (p, o) = (pool.clone(), order.clone());
        B::spawn(name, move || {
            let r = p.get();
            o.update(|v| v.push(name));
            p.put(r);
        })
    };
    let w1 = waiter("w1");
    sleep::<B>(1.0); // w1 is waiting
    let w2 = waiter("w2");
    pool.put(r);
    w1.join();
    w2.join();
    let order = order.get();
    check(order == ["w1", "w2"], "fifo", || {
        format!("the resource went to {order:?}; w1 had asked first")
    });
}

/// rule-4.3-09 (wrong): a semaphore-based pool is not FIFO: a thread arriving when the
/// resource comes back can take it before the one that waited longest.
#[test]
fn rule_4_3_09_pool_is_not_fifo() {
    quiet_panics();
    found(loom_check(pool_arrival_order::<Loom>), "fifo");
}

/// rule-4.3-10: when getting the resource fails after the permit was taken, the permit
/// must be given back; otherwise it leaks and the pool shrinks for good.
#[test]
fn rule_4_3_10_release_the_permit_when_getting_fails() {
    let pool = Pool::<Std>::new(&["c1"], 1, true);
    let validate = |_r: &str| -> Result<(), &'static str> { Err("stale connection") };
    // With the rollback.
    pool.sem.acquire();
    let r = pool.take().unwrap();
    if validate(r).is_err() {
        pool.put_back(r);
        pool.sem.release().unwrap();
    }
    assert_eq!((pool.sem.value(), pool.free.get().len()), (1, 1));
    assert!(elsewhere(|| pool.sem.try_acquire()));
    pool.sem.release().unwrap();
    // Without it: the resource goes back, the permit does not.
    pool.sem.acquire();
    let r = pool.take().unwrap();
    if validate(r).is_err() {
        pool.put_back(r);
    }
    assert_eq!((pool.sem.value(), pool.free.get().len()), (0, 1));
    assert!(!elsewhere(|| pool.sem.try_acquire()), "the permit leaked");
}

// ---- 4.4 rate limiting -----------------------------------------------------------------

fn two_in_flight<B: Backend>() {
    occupancy::<B>(2, 3, 2)
}

/// rule-4.4-01: a semaphore caps the requests processed at once (three requests, two
/// permits: never three in flight, two in some interleaving).
#[test]
fn rule_4_4_01_semaphore_caps_concurrent_requests() {
    holds(two_in_flight::<Loom>, two_in_flight::<Shuttle>);
    quiet_panics();
    found(
        loom_check(two_permits_claimed_one::<Loom>),
        "bounded-occupancy",
    );
}

/// Three requests through Semaphore(1), each holding its permit `hold` seconds: when do
/// they finish?
fn finish_times<B: Backend, const HOLD_MS: u64>() {
    let sem = Arc::new(Semaphore::<B>::new(1).unwrap().with_name("sem"));
    let hs: Vec<_> = (0..3)
        .map(|i| {
            let sem = sem.clone();
            B::spawn(&format!("req{i}"), move || {
                let _with = sem.lock();
                if HOLD_MS > 0 {
                    B::sleep(Duration::from_millis(HOLD_MS));
                }
                now::<B>()
            })
        })
        .collect();
    let mut done: Vec<u64> = hs.into_iter().map(|h| h.join()).collect();
    done.sort_unstable();
    let step = HOLD_MS * 1_000_000;
    let want = [step, 2 * step, 3 * step];
    check(done == want, "finish-times", || {
        format!("requests finished at {done:?} ns, expected {want:?}")
    });
}

/// rule-4.4-02 (wrong): a semaphore bounds concurrency, not rate. With one permit and
/// requests that hold it 0 s, all three pass at virtual time 0 (no rate limit at all);
/// holding it 1 s they pass one per second: throughput is permits / hold time, set by the
/// work, not by the semaphore.
#[test]
fn rule_4_4_02_semaphore_limits_concurrency_not_rate() {
    holds(finish_times::<Loom, 0>, finish_times::<Shuttle, 0>);
    holds(finish_times::<Loom, 1000>, finish_times::<Shuttle, 1000>);
}

/// Main holds the only permit for 1 s; a blocking request waits for it, a non-blocking one
/// is turned away at once.
fn wait_or_reject<B: Backend>() {
    let sem = Arc::new(Semaphore::<B>::new(1).unwrap().with_name("sem"));
    sem.acquire();
    let s = sem.clone();
    let waits = B::spawn("waits", move || {
        let got = s.acquire();
        s.release().unwrap();
        (got, now::<B>())
    });
    let s = sem.clone();
    let rejected = B::spawn("rejected", move || (s.try_acquire(), now::<B>()));
    sleep::<B>(1.0);
    sem.release().unwrap();
    let (got, at) = waits.join();
    check(got && at == SECOND, "queued-request-waits", || {
        format!("the blocking request got {got} at {at} ns")
    });
    let (got, at) = rejected.join();
    check(!got && at == 0, "excess-request-rejected", || {
        format!("the non-blocking request got {got} at {at} ns")
    });
}

/// rule-4.4-03: a request beyond the limit either waits (blocking acquire) or is rejected
/// (non-blocking acquire returns False).
#[test]
fn rule_4_4_03_excess_requests_wait_or_are_rejected() {
    holds(wait_or_reject::<Loom>, wait_or_reject::<Shuttle>);
}

/// A fixed-window limiter as rule-4.4-04 describes it: at most `limit` per window of
/// `window` time units; the count resets when a new window starts. (The tutorial gives no
/// code for 4.4-04..08; these limiters are the rules' descriptions, single-threaded, with
/// explicit timestamps.)
struct FixedWindow {
    start: u64,
    count: u32,
    limit: u32,
    window: u64,
}

impl FixedWindow {
    fn new(limit: u32, window: u64) -> Self {
        FixedWindow {
            start: 0,
            count: 0,
            limit,
            window,
        }
    }

    fn allow(&mut self, t: u64) -> bool {
        if t >= self.start + self.window {
            self.start = t - t % self.window;
            self.count = 0;
        }
        let ok = self.count < self.limit;
        if ok {
            self.count += 1;
        }
        ok
    }
}

/// rule-4.4-04: at most N requests per fixed window; the count starts again in the next.
#[test]
fn rule_4_4_04_fixed_window() {
    let mut fw = FixedWindow::new(3, 1000);
    let first: Vec<bool> = (0..5).map(|i| fw.allow(100 + i)).collect();
    assert_eq!(first, [true, true, true, false, false]);
    let next: Vec<bool> = (0..5).map(|i| fw.allow(1100 + i)).collect();
    assert_eq!(next, [true, true, true, false, false]);
}

/// rule-4.4-05: around a window boundary a fixed window lets up to 2N through in a span
/// much shorter than a window.
#[test]
fn rule_4_4_05_fixed_window_boundary_burst() {
    let mut fw = FixedWindow::new(3, 1000);
    let times: Vec<u64> = (990..993).chain(1000..1003).collect();
    let passed = times.iter().filter(|&&t| fw.allow(t)).count();
    assert_eq!(
        passed, 6,
        "2N requests within 13 time units of a 1000-unit window"
    );
}

/// A sliding-window log limiter (rule-4.4-06): at most `limit` requests in any window of
/// `window` time units ending now.
struct SlidingLog {
    log: std::collections::VecDeque<u64>,
    limit: usize,
    window: u64,
}

impl SlidingLog {
    fn allow(&mut self, t: u64) -> bool {
        while self.log.front().is_some_and(|&x| x + self.window <= t) {
            self.log.pop_front();
        }
        let ok = self.log.len() < self.limit;
        if ok {
            self.log.push_back(t);
        }
        ok
    }
}

/// rule-4.4-06: a sliding window (a log of timestamps) keeps the limit in every window,
/// so the boundary burst of rule-4.4-05 does not pass; it pays with one entry per request.
#[test]
fn rule_4_4_06_sliding_window_has_no_boundary_burst() {
    let mut sw = SlidingLog {
        log: Default::default(),
        limit: 3,
        window: 1000,
    };
    let times: Vec<u64> = (990..993).chain(1000..1003).collect();
    let passed: Vec<u64> = times.iter().copied().filter(|&t| sw.allow(t)).collect();
    assert_eq!(passed, [990, 991, 992]);
    assert_eq!(sw.log.len(), 3, "memory: one entry per request");
    // A window later, the old entries have slid out.
    assert!(sw.allow(1990) && sw.allow(1991) && sw.allow(1992));
    assert!(!sw.allow(1993));
}

/// A token bucket (rule-4.4-07): `rate` tokens per second, at most `capacity` stored.
struct TokenBucket {
    tokens: f64,
    last: f64,
    rate: f64,
    capacity: f64,
}

impl TokenBucket {
    fn allow(&mut self, t: f64) -> bool {
        self.tokens = (self.tokens + (t - self.last) * self.rate).min(self.capacity);
        self.last = t;
        let ok = self.tokens >= 1.0;
        if ok {
            self.tokens -= 1.0;
        }
        ok
    }
}

/// rule-4.4-07: tokens come at a fixed rate, each request spends one, and the capacity
/// bounds the largest burst.
#[test]
fn rule_4_4_07_token_bucket() {
    let mut tb = TokenBucket {
        tokens: 5.0,
        last: 0.0,
        rate: 2.0,
        capacity: 5.0,
    };
    let burst = (0..10).filter(|_| tb.allow(0.0)).count();
    assert_eq!(burst, 5, "a burst is capped by the capacity");
    let later = (0..10).filter(|_| tb.allow(1.0)).count();
    assert_eq!(later, 2, "one second refills rate = 2 tokens");
    let after_idle = (0..10).filter(|_| tb.allow(100.0)).count();
    assert_eq!(
        after_idle, 5,
        "idle time never stores more than the capacity"
    );
}

/// A leaky bucket (rule-4.4-08): requests queue up to `capacity` and leave at one per
/// `interval`; beyond the capacity they are dropped.
struct LeakyBucket {
    queued: u64,
    last_leak: u64,
    capacity: u64,
    interval: u64,
}

impl LeakyBucket {
    /// Offer a request at `t`: `Some(time it leaves)` or `None` (dropped).
    fn offer(&mut self, t: u64) -> Option<u64> {
        let leaked = t.saturating_sub(self.last_leak) / self.interval;
        if leaked > 0 {
            self.queued = self.queued.saturating_sub(leaked);
            self.last_leak += leaked * self.interval;
        }
        if self.queued >= self.capacity {
            return None;
        }
        self.queued += 1;
        Some(self.last_leak + self.queued * self.interval)
    }
}

/// rule-4.4-08: requests leave at a fixed rate whatever the input; past the capacity
/// they are dropped.
#[test]
fn rule_4_4_08_leaky_bucket() {
    let mut lb = LeakyBucket {
        queued: 0,
        last_leak: 0,
        capacity: 3,
        interval: 10,
    };
    let burst: Vec<Option<u64>> = (0..5).map(|_| lb.offer(0)).collect();
    assert_eq!(burst, [Some(10), Some(20), Some(30), None, None]);
    assert_eq!(lb.offer(10), Some(40), "one left at 10: room for one more");
    assert_eq!(lb.offer(10), None);
}

/// Three requests poll a Semaphore(2) (`acquire(blocking=False)`): the ones that get a
/// permit are processed, never more than two at once; the others are rejected.
fn poll_or_reject<B: Backend>() {
    let sem = Arc::new(Semaphore::<B>::new(2).unwrap().with_name("sem"));
    let inside = Arc::new(Shared::<usize, B>::new(0).with_name("processing"));
    let hs: Vec<_> = (0..3)
        .map(|i| {
            let (sem, inside) = (sem.clone(), inside.clone());
            B::spawn(&format!("req{i}"), move || {
                if !sem.try_acquire() {
                    return false; // rejected
                }
                let n = inside.update(|n| {
                    *n += 1;
                    *n
                });
                check(n <= 2, "bounded-occupancy", || {
                    format!("{n} requests processed at once")
                });
                inside.update(|n| *n -= 1);
                sem.release().unwrap();
                true
            })
        })
        .collect();
    let served = hs.into_iter().map(|h| h.join()).filter(|x| *x).count();
    check(served >= 2, "served", || format!("only {served} served"));
}

/// rule-4.4-09: the semaphore starts at the maximum concurrency; each request acquires
/// first; excess requests block (rule-4.4-03) or, with a non-blocking acquire, are
/// rejected.
#[test]
fn rule_4_4_09_semaphore_concurrency_limit() {
    holds(poll_or_reject::<Loom>, poll_or_reject::<Shuttle>);
    let sem = Semaphore::<Std>::new(2).unwrap();
    two_holders_at_once(&sem);
}

/// A limiter with one permit and a waiting queue of one slot: a request that finds the
/// permit taken queues (if the slot is free) and waits at most 1 s; if the queue is full it
/// is rejected at once.
fn bounded_queue<B: Backend>() {
    let permits = Arc::new(Semaphore::<B>::new(1).unwrap().with_name("permits"));
    let slots = Arc::new(Semaphore::<B>::new(1).unwrap().with_name("queue_slots"));
    let request = |name: &str, arrive: f64, work: f64| {
        let (permits, slots) = (permits.clone(), slots.clone());
        B::spawn(name, move || {
            sleep::<B>(arrive);
            let outcome = if permits.try_acquire() {
                "served"
            } else if slots.try_acquire() {
                let got = permits.acquire_timeout(1.0).unwrap();
                slots.release().unwrap();
                if got {
                    "served"
                } else {
                    "timed-out"
                }
            } else {
                "rejected"
            };
            if outcome == "served" {
                sleep::<B>(work);
                permits.release().unwrap();
            }
            (outcome, now::<B>())
        })
    };
    let r1 = request("r1", 0.0, 2.0);
    let r2 = request("r2", 0.1, 0.0);
    let r3 = request("r3", 0.2, 0.0);
    let got = [r1.join(), r2.join(), r3.join()];
    let want = [
        ("served", 2 * SECOND),
        ("timed-out", SECOND + SECOND / 10),
        ("rejected", SECOND / 5),
    ];
    check(got == want, "bounded-queue", || {
        format!("(outcome, time) per request {got:?}, expected {want:?}")
    });
}

/// rule-4.4-10: waiting requests take a slot in a bounded queue and wait with a timeout;
/// when the queue is full a new request is rejected at once.
#[test]
fn rule_4_4_10_bounded_queue_timeout_and_rejection() {
    holds(bounded_queue::<Loom>, bounded_queue::<Shuttle>);
}

//! Barrier under loom (every interleaving up to the preemption bound) and shuttle (random
//! and PCT schedules), in virtual time.

mod support;

use lockproof::backend::checked::{violate, Failure};
use lockproof::backend::{Backend, JoinHandle, Loom, Shuttle};
use lockproof::{Barrier, BarrierAction, Error, Shared};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock, Weak};
use std::time::Duration;
use support::{check, holds, loom_bound, loom_check, passes, shuttle_check};

const SECOND: u64 = 1_000_000_000;
const ROUNDS: usize = 2;

/// What the generation monitor sees: per round, how many parties arrived (called `wait`)
/// and which indices were returned; and how many times the action ran.
#[derive(Clone, Debug, Default)]
struct Generations {
    arrived: [usize; ROUNDS],
    returned: [Vec<usize>; ROUNDS],
    actions: usize,
}

/// Barrier(3) with an action, three threads, two rounds. Checked at every step:
/// - the action runs once per generation, when all three parties of that generation have
///   arrived and before any of them returns;
/// - a party returning from round r sees the action of round r done, and not yet the one
///   of round r+1 (so no generation overtakes another), and every party of round r
///   arrived;
/// - each generation returns the indices {0, 1, 2}, each once.
fn generations<B: Backend>() {
    let seen = Arc::new(Shared::<Generations, B>::new(Generations::default()).with_name("gens"));
    let s = seen.clone();
    let action: BarrierAction = Box::new(move || {
        s.update(|g| {
            let gen = g.actions;
            check(gen < ROUNDS, "action-once", || {
                format!("action ran {} times", gen + 1)
            });
            check(g.arrived[gen] == 3, "action-after-arrivals", || {
                format!(
                    "action of generation {gen} ran with {} arrivals",
                    g.arrived[gen]
                )
            });
            check(g.returned[gen].is_empty(), "action-before-release", || {
                format!("a party of generation {gen} returned before its action")
            });
            g.actions += 1;
        });
        Ok(())
    });
    let barrier = Arc::new(
        Barrier::<B>::new(3, Some(action), None)
            .unwrap()
            .with_name("b"),
    );
    let threads: Vec<_> = (0..3)
        .map(|i| {
            let (barrier, seen) = (barrier.clone(), seen.clone());
            B::spawn(&format!("t{i}"), move || {
                for round in 0..ROUNDS {
                    seen.update(|g| g.arrived[round] += 1);
                    let index = match barrier.wait() {
                        Ok(i) => i,
                        Err(e) => violate("no-error", &format!("wait() -> {e:?}")),
                    };
                    seen.update(|g| {
                        check(g.actions == round + 1, "generation-order", || {
                            format!(
                                "a party returned from generation {round} after {} actions",
                                g.actions
                            )
                        });
                        check(g.arrived[round] == 3, "all-arrived", || {
                            format!(
                                "generation {round} released with {} arrivals",
                                g.arrived[round]
                            )
                        });
                        g.returned[round].push(index);
                    });
                }
            })
        })
        .collect();
    for t in threads {
        t.join();
    }
    let g = seen.get();
    for (round, returned) in g.returned.iter().enumerate() {
        let mut sorted = returned.clone();
        sorted.sort_unstable();
        check(sorted == [0, 1, 2], "indices", || {
            format!("generation {round} returned {returned:?}")
        });
    }
    check(g.actions == ROUNDS, "action-count", || {
        format!("{} actions", g.actions)
    });
    check(
        !barrier.broken() && barrier.n_waiting() == 0,
        "reusable",
        || format!("{barrier:?}"),
    );
}

#[test]
fn barrier_generations_are_correct() {
    let n = passes(loom_bound(2, generations::<Loom>));
    eprintln!("generations: loom explored {n} executions");
    assert!(n > 1, "loom explored {n} executions");
    passes(shuttle_check(generations::<Shuttle>, 300));
}

static MAIN_FIRST: AtomicUsize = AtomicUsize::new(0);
static MAIN_SECOND: AtomicUsize = AtomicUsize::new(0);

/// Check 103: the index is the arrival order. Barrier(2) with main and one thread: the
/// indices are {0, 1} in every schedule, and schedules where either arrives first exist.
fn arrival_order<B: Backend>() {
    let barrier = Arc::new(Barrier::<B>::new(2, None, None).unwrap());
    let b = barrier.clone();
    let t = B::spawn("t", move || b.wait());
    let mine = barrier.wait();
    let theirs = t.join();
    match (mine, theirs) {
        (Ok(0), Ok(1)) => MAIN_FIRST.fetch_add(1, Ordering::Relaxed),
        (Ok(1), Ok(0)) => MAIN_SECOND.fetch_add(1, Ordering::Relaxed),
        other => violate("indices", &format!("{other:?}")),
    };
}

#[test]
fn the_index_is_the_arrival_order() {
    for loom in [true, false] {
        MAIN_FIRST.store(0, Ordering::Relaxed);
        MAIN_SECOND.store(0, Ordering::Relaxed);
        let r = if loom {
            loom_check(arrival_order::<Loom>)
        } else {
            shuttle_check(arrival_order::<Shuttle>, 100)
        };
        passes(r);
        assert!(
            MAIN_FIRST.load(Ordering::Relaxed) > 0,
            "loom={loom}: main never first"
        );
        assert!(
            MAIN_SECOND.load(Ordering::Relaxed) > 0,
            "loom={loom}: main never second"
        );
    }
}

/// `abort()` while two of three parties wait (or before they arrive): both get
/// BrokenBarrierError, the barrier is broken, and a later wait fails at once until
/// `reset()`.
fn abort_breaks_waiters<B: Backend>() {
    let barrier = Arc::new(Barrier::<B>::new(3, None, None).unwrap());
    let threads: Vec<_> = (0..2)
        .map(|i| {
            let b = barrier.clone();
            B::spawn(&format!("t{i}"), move || b.wait())
        })
        .collect();
    barrier.abort();
    for t in threads {
        let r = t.join();
        check(r == Err(Error::BrokenBarrier), "broken-waiter", || {
            format!("{r:?}")
        });
    }
    check(barrier.broken(), "broken", || format!("{barrier:?}"));
    check(barrier.n_waiting() == 0, "empty", || format!("{barrier:?}"));
    let r = barrier.wait_timeout(Some(1.0));
    check(
        r == Err(Error::BrokenBarrier) && B::now().0 == 0,
        "stays-broken",
        || format!("{r:?} at {} ns", B::now().0),
    );
    barrier.reset();
    check(!barrier.broken(), "repaired", || format!("{barrier:?}"));
}

#[test]
fn abort_breaks_the_barrier_for_every_waiter() {
    holds!(2, 300; abort_breaks_waiters);
}

/// Barrier(3): one party waits at most 1 s, another without a timeout, the third never
/// comes. At virtual time 1 s the first times out and breaks the barrier: both get
/// BrokenBarrierError.
fn timeout_breaks_barrier<B: Backend>() {
    let barrier = Arc::new(Barrier::<B>::new(3, None, None).unwrap());
    let b = barrier.clone();
    let patient = B::spawn("patient", move || (b.wait(), B::now().0));
    let r = barrier.wait_timeout(Some(1.0));
    check(
        r == Err(Error::BrokenBarrier) && B::now().0 == SECOND,
        "timeout",
        || format!("wait(1.0) -> {r:?} at {} ns", B::now().0),
    );
    let (r, at) = patient.join();
    check(
        r == Err(Error::BrokenBarrier) && at == SECOND,
        "broken-by-timeout",
        || format!("the other waiter got {r:?} at {at} ns"),
    );
    check(
        barrier.broken() && barrier.n_waiting() == 0,
        "broken",
        || format!("{barrier:?}"),
    );
}

/// Check 107: the constructor's timeout applies to `wait()`. Barrier(3, timeout=0.25) with
/// two parties: both get BrokenBarrierError at 0.25 s.
fn default_timeout<B: Backend>() {
    let barrier = Arc::new(Barrier::<B>::new(3, None, Some(0.25)).unwrap());
    let b = barrier.clone();
    let other = B::spawn("t", move || (b.wait(), B::now().0));
    let r = barrier.wait();
    let at = B::now().0;
    check(
        r == Err(Error::BrokenBarrier) && at == SECOND / 4,
        "default",
        || format!("wait() -> {r:?} at {at} ns"),
    );
    let (r, at) = other.join();
    check(
        r == Err(Error::BrokenBarrier) && at == SECOND / 4,
        "default",
        || format!("the other wait() -> {r:?} at {at} ns"),
    );
}

#[test]
fn a_timeout_breaks_the_barrier_for_the_other_waiter() {
    holds!(3, 300; timeout_breaks_barrier, default_timeout);
}

/// Check 111: `reset()` while two of three parties wait (main sleeps 1 s of virtual time,
/// which passes only once both are blocked): both get BrokenBarrierError, then the barrier
/// is unbroken and empty, and a full set of three passes again.
fn reset_releases_waiters<B: Backend>() {
    let barrier = Arc::new(Barrier::<B>::new(3, None, None).unwrap());
    let spawn_waiters = |n: usize| -> Vec<_> {
        (0..n)
            .map(|i| {
                let b = barrier.clone();
                B::spawn(&format!("t{i}"), move || b.wait())
            })
            .collect()
    };
    let first = spawn_waiters(2);
    B::sleep(Duration::from_secs(1));
    check(barrier.n_waiting() == 2, "two-waiting", || {
        format!("{barrier:?}")
    });
    barrier.reset();
    for t in first {
        let r = t.join();
        check(r == Err(Error::BrokenBarrier), "reset-breaks", || {
            format!("{r:?}")
        });
    }
    check(
        !barrier.broken() && barrier.n_waiting() == 0,
        "reset",
        || format!("{barrier:?}"),
    );
    let second = spawn_waiters(2);
    let mut indices = vec![barrier.wait().unwrap_or(99)];
    indices.extend(second.into_iter().map(|t| t.join().unwrap_or(99)));
    indices.sort_unstable();
    check(indices == [0, 1, 2], "passes-again", || {
        format!("{indices:?}")
    });
}

#[test]
fn reset_breaks_waiters_then_the_barrier_works_again() {
    holds!(2, 300; reset_releases_waiters);
}

/// A failing action (check 110): the last arrival gets the action's error, the other
/// BrokenBarrierError, and the barrier is broken.
fn failing_action<B: Backend>() {
    let action: BarrierAction = Box::new(|| Err("boom".to_owned()));
    let barrier = Arc::new(Barrier::<B>::new(2, Some(action), None).unwrap());
    let b = barrier.clone();
    let t = B::spawn("t", move || b.wait());
    let mut results = vec![barrier.wait(), t.join()];
    results.sort_by_key(|r| format!("{r:?}"));
    check(
        results
            == [
                Err(Error::BarrierAction("boom".into())),
                Err(Error::BrokenBarrier),
            ],
        "action-error",
        || format!("{results:?}"),
    );
    check(barrier.broken(), "broken", || format!("{barrier:?}"));
}

/// Check 115: `n_waiting` read inside the action is `parties`.
fn n_waiting_in_action<B: Backend>() {
    let me: Arc<OnceLock<Weak<Barrier<B>>>> = Arc::new(OnceLock::new());
    let seen = Arc::new(Shared::<usize, B>::new(0));
    let (m, s) = (me.clone(), seen.clone());
    let action: BarrierAction = Box::new(move || {
        if let Some(b) = m.get().and_then(Weak::upgrade) {
            s.set(b.n_waiting());
        }
        Ok(())
    });
    let barrier = Arc::new(Barrier::<B>::new(2, Some(action), None).unwrap());
    let _ = me.set(Arc::downgrade(&barrier));
    let b = barrier.clone();
    let t = B::spawn("t", move || b.wait());
    let _ = barrier.wait();
    let _ = t.join();
    check(seen.get() == 2, "n-waiting-in-action", || {
        format!("{}", seen.get())
    });
}

#[test]
fn the_action_sees_every_party_and_may_fail() {
    holds!(3, 300; failing_action, n_waiting_in_action);
}

/// Check 119: an action that calls `abort()` on its own barrier deadlocks, as in CPython
/// (the inner lock is not reentrant). The checker reports the deadlock.
fn action_aborts_own_barrier<B: Backend>() {
    let me: Arc<OnceLock<Weak<Barrier<B>>>> = Arc::new(OnceLock::new());
    let m = me.clone();
    let action: BarrierAction = Box::new(move || {
        if let Some(b) = m.get().and_then(Weak::upgrade) {
            b.abort();
        }
        Ok(())
    });
    let barrier = Arc::new(Barrier::<B>::new(1, Some(action), None).unwrap());
    let _ = me.set(Arc::downgrade(&barrier));
    let _ = barrier.wait();
}

#[test]
fn an_action_that_aborts_its_barrier_deadlocks() {
    // (no quiet_panics: it silences every test of the binary)
    for r in [
        loom_check(action_aborts_own_barrier::<Loom>).expect_err("loom: deadlock"),
        shuttle_check(action_aborts_own_barrier::<Shuttle>, 10).expect_err("shuttle: deadlock"),
    ] {
        assert!(
            matches!(r.failure, Some(Failure::Deadlock(_))),
            "{:?}",
            r.failure
        );
    }
}

/// Check 121: an overflowing timeout fails with OverflowError and leaves the barrier
/// unbroken and empty; `wait(0)` and `wait(-1)` alone break it at once (check 108). The
/// sequence runs in a second thread (shuttle's PCT needs one) while main watches:
/// `n_waiting` never exceeds 1.
fn overflow_and_polls<B: Backend>() {
    let barrier = Arc::new(Barrier::<B>::new(2, None, None).unwrap());
    let b = barrier.clone();
    let worker = B::spawn("t", move || {
        let r = b.wait_timeout(Some(1e100));
        check(r == Err(Error::TimeoutOverflow), "overflow", || {
            format!("{r:?}")
        });
        check(!b.broken() && b.n_waiting() == 0, "untouched", || {
            format!("{b:?}")
        });
        for t in [0.0, -1.0] {
            b.reset();
            let r = b.wait_timeout(Some(t));
            check(
                r == Err(Error::BrokenBarrier) && b.broken(),
                "poll-breaks",
                || format!("wait({t}) -> {r:?}, {b:?}"),
            );
        }
    });
    let n = barrier.n_waiting();
    check(n <= 1, "n-waiting", || format!("{n} waiting"));
    worker.join();
    check(B::now().0 == 0, "no-wait", || format!("{} ns", B::now().0));
}

#[test]
fn overflowing_and_polling_timeouts() {
    holds!(3, 10; overflow_and_polls);
}

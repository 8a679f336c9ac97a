//! Semaphore and BoundedSemaphore under loom (every interleaving up to the preemption
//! bound) and shuttle (random and PCT schedules), in virtual time.

mod support;

use lockproof::backend::checked::Failure;
use lockproof::backend::{Backend, JoinHandle, Loom, Shuttle};
use lockproof::{BoundedSemaphore, Error, Semaphore, Shared};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use support::{check, holds, loom_bound, loom_check, passes, shuttle_check};

const SECOND: u64 = 1_000_000_000;

/// Three threads pass through a semaphore of `permits`; a monitor counts the threads
/// inside and fails the execution if it ever exceeds `limit`.
fn occupancy<B: Backend>(permits: isize, limit: usize) {
    let sem = Arc::new(Semaphore::<B>::new(permits).unwrap().with_name("sem"));
    let inside = Arc::new(Shared::<usize, B>::new(0).with_name("inside"));
    let threads: Vec<_> = (0..3)
        .map(|i| {
            let (sem, inside) = (sem.clone(), inside.clone());
            B::spawn(&format!("t{i}"), move || {
                let _permit = sem.lock();
                let n = inside.update(|n| {
                    *n += 1;
                    *n
                });
                check(n <= limit, "bounded-occupancy", || {
                    format!("{n} threads inside a semaphore that admits {limit}")
                });
                inside.update(|n| *n -= 1);
            })
        })
        .collect();
    for t in threads {
        t.join();
    }
    check(sem.value() == permits as usize, "value-restored", || {
        format!("value {} after every permit came back", sem.value())
    });
}

fn two_permits<B: Backend>() {
    occupancy::<B>(2, 2)
}

fn three_permits_claimed_two<B: Backend>() {
    occupancy::<B>(3, 2)
}

#[test]
fn semaphore_of_two_never_admits_three() {
    let loom = passes(loom_bound(2, two_permits::<Loom>));
    assert!(loom > 1, "loom explored {loom} executions");
    passes(shuttle_check(two_permits::<Shuttle>, 300));
}

#[test]
fn occupancy_monitor_catches_a_third_holder() {
    // The monitor is not vacuous: with three permits, three threads do get in together.
    // (no quiet_panics: it silences every test of the binary)
    for report in [
        loom_bound(2, three_permits_claimed_two::<Loom>).expect_err("loom finds it"),
        shuttle_check(three_permits_claimed_two::<Shuttle>, 300).expect_err("shuttle finds it"),
    ] {
        match report.failure {
            Some(Failure::Violation { property, .. }) => assert_eq!(property, "bounded-occupancy"),
            other => panic!("expected a bounded-occupancy violation, got {other:?}"),
        }
    }
}

/// `release_n(3)` on a semaphore with three blocked acquirers lets all three through: a
/// release that woke fewer would leave one blocked forever (a lost wakeup the checker
/// reports).
fn release_n_wakes_all<B: Backend>() {
    let sem = Arc::new(Semaphore::<B>::new(0).unwrap());
    let threads: Vec<_> = (0..3)
        .map(|i| {
            let sem = sem.clone();
            B::spawn(&format!("t{i}"), move || sem.acquire())
        })
        .collect();
    sem.release_n(3).unwrap();
    for t in threads {
        check(t.join(), "acquired", || "acquire() returned false".into());
    }
    check(sem.value() == 0, "value", || {
        format!("value {}", sem.value())
    });
}

/// `release_n(2)` with three acquirers waiting at most 1 s: exactly two get a permit, at
/// once (virtual time 0), and the third times out at 1 s.
fn release_n_wakes_n<B: Backend>() {
    let sem = Arc::new(Semaphore::<B>::new(0).unwrap());
    let threads: Vec<_> = (0..3)
        .map(|i| {
            let sem = sem.clone();
            B::spawn(&format!("t{i}"), move || {
                let got = sem.acquire_timeout(1.0).unwrap();
                (got, B::now().0)
            })
        })
        .collect();
    sem.release_n(2).unwrap();
    let results: Vec<(bool, u64)> = threads.into_iter().map(|t| t.join()).collect();
    let winners: Vec<_> = results.iter().filter(|r| r.0).collect();
    check(winners.len() == 2, "release-n", || {
        format!(
            "release_n(2) let {} acquirers through: {results:?}",
            winners.len()
        )
    });
    check(winners.iter().all(|r| r.1 == 0), "woken-by-release", || {
        format!("a permit was taken late: {results:?}")
    });
    check(
        results.iter().any(|r| !r.0 && r.1 == SECOND),
        "timed-out",
        || format!("the third acquirer did not time out at 1 s: {results:?}"),
    );
    check(sem.value() == 0, "value", || {
        format!("value {}", sem.value())
    });
}

#[test]
fn release_n_wakes_n_blocked_acquirers() {
    holds!(2, 300; release_n_wakes_all, release_n_wakes_n);
}

/// Two threads release a BoundedSemaphore(2) holding one permit out: exactly one release
/// succeeds, the other is `ValueError('Semaphore released too many times')`, and the value
/// never passes the bound.
fn bounded_over_release<B: Backend>() {
    let sem = Arc::new(BoundedSemaphore::<B>::new(2).unwrap());
    check(sem.try_acquire(), "acquired", || {
        "try_acquire failed".into()
    });
    let threads: Vec<_> = (0..2)
        .map(|i| {
            let sem = sem.clone();
            B::spawn(&format!("t{i}"), move || {
                let r = sem.release();
                check(sem.value() <= 2, "bound", || {
                    format!("value {}", sem.value())
                });
                r
            })
        })
        .collect();
    let results: Vec<_> = threads.into_iter().map(|t| t.join()).collect();
    let ok = results.iter().filter(|r| r.is_ok()).count();
    let too_many = results
        .iter()
        .filter(|r| **r == Err(Error::ReleasedTooManyTimes))
        .count();
    check(ok == 1 && too_many == 1, "bounded-release", || {
        format!("{results:?}")
    });
    check(sem.value() == 2, "value", || {
        format!("value {}", sem.value())
    });
    // All or nothing (check 87): a release that would pass the bound changes nothing.
    check(sem.try_acquire() && sem.try_acquire(), "acquired", || {
        "try_acquire".into()
    });
    let r = sem.release_n(3);
    check(
        r == Err(Error::ReleasedTooManyTimes) && sem.value() == 0,
        "all-or-nothing",
        || format!("release_n(3) -> {r:?}, value {}", sem.value()),
    );
}

#[test]
fn bounded_semaphore_rejects_over_release() {
    holds!(3, 300; bounded_over_release);
}

/// `acquire_timeout(0.5)` on an empty semaphore returns false at virtual time 0.5 s; a
/// permit released later (at 1 s) is still there afterwards.
fn acquire_times_out<B: Backend>() {
    let sem = Arc::new(Semaphore::<B>::new(0).unwrap());
    let s = sem.clone();
    let releaser = B::spawn("releaser", move || {
        B::sleep(Duration::from_secs(1));
        s.release().unwrap();
    });
    let got = sem.acquire_timeout(0.5).unwrap();
    let at = B::now().0;
    check(!got && at == SECOND / 2, "timeout", || {
        format!("acquire_timeout(0.5) -> {got} at {at} ns")
    });
    releaser.join();
    check(sem.value() == 1, "value", || {
        format!("value {}", sem.value())
    });
    check(sem.acquire_timeout(0.5) == Ok(true), "acquired", || {
        "no permit".into()
    });
}

#[test]
fn acquire_timeout_expires_in_virtual_time() {
    holds!(3, 100; acquire_times_out);
}

static BARGED: AtomicUsize = AtomicUsize::new(0);
static HANDED_OVER: AtomicUsize = AtomicUsize::new(0);

/// Check 82: a waiter is parked on Semaphore(0) (main sleeps 1 s of virtual time, which
/// passes only once every other thread is blocked); main releases and at once polls. In
/// every schedule exactly one of them gets the permit; the schedules where main takes it
/// back (barging, as CPython allows) and those where the waiter gets it both exist.
fn release_then_poll<B: Backend>() {
    let sem = Arc::new(Semaphore::<B>::new(0).unwrap());
    let s = sem.clone();
    let waiter = B::spawn("waiter", move || s.acquire_timeout(5.0).unwrap());
    B::sleep(Duration::from_secs(1));
    sem.release().unwrap();
    let main_got = sem.try_acquire();
    let waiter_got = waiter.join();
    check(main_got != waiter_got, "one-permit", || {
        format!("main {main_got}, waiter {waiter_got}")
    });
    if main_got {
        check(B::now().0 == 5 * SECOND, "waiter-waits-on", || {
            format!("the waiter returned at {} ns", B::now().0)
        });
        BARGED.fetch_add(1, Ordering::Relaxed);
    } else {
        HANDED_OVER.fetch_add(1, Ordering::Relaxed);
    }
}

#[test]
fn releaser_may_take_the_permit_back() {
    for loom in [true, false] {
        BARGED.store(0, Ordering::Relaxed);
        HANDED_OVER.store(0, Ordering::Relaxed);
        let r = if loom {
            loom_check(release_then_poll::<Loom>)
        } else {
            shuttle_check(release_then_poll::<Shuttle>, 300)
        };
        passes(r);
        let (barged, handed) = (
            BARGED.load(Ordering::Relaxed),
            HANDED_OVER.load(Ordering::Relaxed),
        );
        assert!(
            barged > 0,
            "loom={loom}: the releaser never took the permit back"
        );
        assert!(handed > 0, "loom={loom}: the waiter never got the permit");
    }
}

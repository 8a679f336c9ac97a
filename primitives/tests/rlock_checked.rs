//! RLock under loom and shuttle: mutual exclusion of reentrant holders, ownership of
//! release, and the `_release_save`/`_acquire_restore` pair Condition relies on.

mod support;

use lockproof::backend::checked::violate;
use lockproof::backend::{Backend, JoinHandle, Loom, Shuttle};
use lockproof::{Error, RLock, Shared};
use std::sync::Arc;
use support::{holds, loom_check, quiet_panics, shuttle_check};

const SHUTTLE_RUNS: usize = 300;

/// Enter a critical section: fail the execution if someone else is inside.
fn enter<B: Backend>(inside: &Shared<i64, B>) {
    let n = inside.update(|x| {
        *x += 1;
        *x
    });
    if n > 1 {
        violate("mutual-exclusion", &format!("{n} threads inside"));
    }
}

fn leave<B: Backend>(inside: &Shared<i64, B>) {
    inside.update(|x| *x -= 1);
}

/// Two threads each take the RLock twice (reentrantly) around a critical section.
fn two_deep_exclusion<B: Backend>(locked: bool) {
    let r = Arc::new(RLock::<B>::new().with_name("r"));
    let inside = Arc::new(Shared::<i64, B>::new(0).with_name("inside"));
    let hs: Vec<_> = (0..2)
        .map(|i| {
            let (r, inside) = (r.clone(), inside.clone());
            B::spawn(&format!("t{i}"), move || {
                if locked {
                    assert!(r.acquire());
                    let _g = r.lock();
                    if r.recursion_count() != 2 {
                        violate("reentrancy", "recursion_count() != 2 inside");
                    }
                    enter(&inside);
                    leave(&inside);
                    drop(_g);
                    r.release().unwrap();
                } else {
                    enter(&inside);
                    leave(&inside);
                }
            })
        })
        .collect();
    for h in hs {
        h.join();
    }
    if r.is_owned() || !r.try_acquire() || r.recursion_count() != 1 {
        violate("released", "the RLock is not free after both threads left");
    }
    r.release().unwrap();
}

fn exclusion_locked<B: Backend>() {
    two_deep_exclusion::<B>(true)
}

fn exclusion_unlocked<B: Backend>() {
    two_deep_exclusion::<B>(false)
}

#[test]
fn reentrant_holders_exclude_each_other() {
    holds!(3, SHUTTLE_RUNS; exclusion_locked);
}

#[test]
fn occupancy_monitor_catches_no_lock() {
    // The control: the same monitor fails when the lock is left out.
    quiet_panics();
    let l = loom_check(exclusion_unlocked::<Loom>).expect_err("loom finds two inside");
    assert!(
        format!("{:?}", l.failure).contains("mutual-exclusion"),
        "{:?}",
        l.failure
    );
    let s = shuttle_check(exclusion_unlocked::<Shuttle>, SHUTTLE_RUNS)
        .expect_err("shuttle finds two inside");
    assert!(
        format!("{:?}", s.failure).contains("mutual-exclusion"),
        "{:?}",
        s.failure
    );
}

/// A non-owner's release fails and the owner keeps the lock (check 35); a non-owner's
/// non-blocking acquire fails (check 36), and a timed one times out in virtual time
/// (check 37).
fn non_owner_release<B: Backend>() {
    let r = Arc::new(RLock::<B>::new().with_name("r"));
    assert!(r.acquire());
    let r2 = r.clone();
    let other = B::spawn("other", move || {
        let released = r2.release();
        let polled = r2.try_acquire();
        let start = B::now();
        let timed = r2.acquire_timeout(0.5);
        let waited = B::now().0 - start.0;
        (released, polled, timed, waited, r2.is_owned())
    });
    let (released, polled, timed, waited, owned_there) = other.join();
    if released != Err(Error::ReleaseUnacquired) {
        violate("ownership", &format!("non-owner release gave {released:?}"));
    }
    if polled || timed != Ok(false) || waited != 500_000_000 || owned_there {
        violate(
            "ownership",
            &format!("non-owner got polled={polled} timed={timed:?} after {waited} ns"),
        );
    }
    if !r.is_owned() || r.recursion_count() != 1 {
        violate(
            "ownership",
            "the owner lost the lock to a non-owner release",
        );
    }
    r.release().unwrap();
    if r.release() != Err(Error::ReleaseUnacquired) {
        violate("ownership", "a second release did not fail");
    }
}

#[test]
fn non_owner_cannot_release() {
    holds!(3, SHUTTLE_RUNS; non_owner_release);
}

/// `_release_save` frees the lock completely (another thread takes and returns it) and
/// `_acquire_restore` brings the owner and recursion level back (check 42).
fn save_restore<B: Backend>() {
    let r = Arc::new(RLock::<B>::new().with_name("r"));
    if r.release_save() != Err(Error::ReleaseUnacquired) {
        violate("release_save", "release_save on a free RLock did not fail");
    }
    assert!(r.acquire());
    assert!(r.acquire());
    let state = r.release_save().unwrap();
    if state.count() != 2 || state.owner() != B::current_thread() {
        violate("release_save", &format!("saved {state:?}"));
    }
    if r.is_owned() || r.recursion_count() != 0 {
        violate("release_save", "still owned after release_save");
    }
    let r2 = r.clone();
    let other = B::spawn("other", move || {
        let g = r2.lock();
        let depth = r2.recursion_count();
        drop(g);
        depth
    });
    r.acquire_restore(state);
    if !r.is_owned() || r.recursion_count() != 2 {
        violate(
            "acquire_restore",
            &format!("recursion_count() == {} after restore", r.recursion_count()),
        );
    }
    r.release().unwrap();
    r.release().unwrap();
    if other.join() != 1 {
        violate("release_save", "the other thread's hold was not depth 1");
    }
    if r.release() != Err(Error::ReleaseUnacquired) {
        violate("acquire_restore", "restored more levels than saved");
    }
}

#[test]
fn release_save_acquire_restore_round_trip() {
    holds!(3, SHUTTLE_RUNS; save_restore);
}

//! `lockproof::process` under loom and shuttle: the same process-shared types run in the
//! checked worlds through the one seam (`ProcessBackend` for `Checked<E>`). A "process" is
//! a checked thread holding its own reopened handles (fresh per-process state, shared
//! memory), as a child process holds what it received.

mod support;

use lockproof::backend::checked::violate;
use lockproof::backend::process::ProcessBackend;
use lockproof::backend::{JoinHandle, Loom, Shuttle};
use lockproof::process::{Condition, Event, Lock, RLock, RawValue, Semaphore, Value};
use lockproof::Error;
use std::sync::Arc;
use support::{loom_check, passes, quiet_panics, shuttle_check};

/// Two processes increment a shared Value under its lock; no update is lost.
fn locked_counter<B: ProcessBackend>() {
    let v = Value::<i64, B>::new(0).with_name("counter");
    let other = v.reopen();
    let t = B::spawn("child", move || {
        let _g = other.get_lock().lock();
        other.set_value(other.value() + 1);
    });
    {
        let _g = v.get_lock().lock();
        v.set_value(v.value() + 1);
    }
    t.join();
    if v.value() != 2 {
        violate("lost-update", "an update under the lock was lost");
    }
}

/// The same without holding the lock around `+=`: a lost update exists.
fn plus_equals<B: ProcessBackend>() {
    let v = RawValue::<i64, B>::new(0).with_name("counter");
    let other = v.reopen();
    let t = B::spawn("child", move || other.set_value(other.value() + 1));
    v.set_value(v.value() + 1);
    t.join();
    if v.value() != 2 {
        violate("lost-update", "counter.value += 1 lost an update");
    }
}

/// A Lock one process holds is released by the other (CPython allows it); an RLock is not.
fn release_across<B: ProcessBackend>() {
    let l = Lock::<B>::new();
    let r = RLock::<B>::new();
    assert!(l.acquire());
    assert!(r.acquire());
    let (l2, r2) = (l.reopen(), r.reopen());
    let t = B::spawn("child", move || {
        l2.release().unwrap();
        assert_eq!(r2.release(), Err(Error::RecursiveLockNotOwned));
    });
    t.join();
    assert!(l.try_acquire());
    r.release().unwrap();
}

/// A consumer waits on a Condition until the producer's flag is set; the notify handshake
/// completes in every interleaving.
fn condition_handshake<B: ProcessBackend>() {
    let c = Arc::new(Condition::<B>::new().with_name("cond"));
    let flag = Arc::new(RawValue::<i32, B>::new(0).with_name("flag"));
    let (c2, flag2) = (c.clone(), flag.clone());
    let t = B::spawn("consumer", move || {
        let _g = c2.lock();
        let got = c2.wait_for(|| flag2.value() == 1, None).unwrap();
        assert!(got);
    });
    {
        let _g = c.lock();
        flag.set_value(1);
        c.notify(1).unwrap();
    }
    t.join();
}

/// Event: a waiter sees a set that happens before or after it starts waiting.
fn event_set_wait<B: ProcessBackend>() {
    let e = Arc::new(Event::<B>::new().with_name("e"));
    let e2 = e.clone();
    let t = B::spawn("waiter", move || assert_eq!(e2.wait(None), Ok(true)));
    e.set();
    t.join();
}

/// A semaphore's units move between processes.
fn semaphore_units<B: ProcessBackend>() {
    let s = Semaphore::<B>::new(0).unwrap();
    let s2 = s.reopen();
    let t = B::spawn("poster", move || s2.release().unwrap());
    assert!(s.acquire());
    t.join();
    assert_eq!(s.get_value(), 0);
}

#[test]
fn process_types_hold_under_loom() {
    for body in [
        locked_counter::<Loom> as fn(),
        release_across::<Loom>,
        event_set_wait::<Loom>,
        semaphore_units::<Loom>,
    ] {
        passes(loom_check(body));
    }
}

#[test]
fn process_types_hold_under_shuttle() {
    for body in [
        locked_counter::<Shuttle> as fn(),
        release_across::<Shuttle>,
        condition_handshake::<Shuttle>,
        event_set_wait::<Shuttle>,
        semaphore_units::<Shuttle>,
    ] {
        passes(shuttle_check(body, 200));
    }
}

#[test]
fn condition_handshake_holds_under_loom_bound_1() {
    passes(support::loom_with(
        lockproof::backend::checked::WorldConfig::default(),
        Some(1),
        condition_handshake::<Loom>,
    ));
}

#[test]
fn unguarded_plus_equals_loses_an_update_under_loom_and_shuttle() {
    quiet_panics();
    let loom = loom_check(plus_equals::<Loom>).expect_err("loom found no lost update");
    assert!(
        format!("{:?}", loom.failure).contains("lost-update"),
        "{:?}",
        loom.failure
    );
    let shuttle =
        shuttle_check(plus_equals::<Shuttle>, 500).expect_err("shuttle found no lost update");
    assert!(
        format!("{:?}", shuttle.failure).contains("lost-update"),
        "{:?}",
        shuttle.failure
    );
}

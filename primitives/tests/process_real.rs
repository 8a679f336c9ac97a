//! Real-process tests of `lockproof::process`: the claims that depend on the kernel or on a
//! process dying, with real child processes.
//!
//! How: the test binary re-executes itself for the one test (`<name> --exact`, as
//! rusty-fork does) with `LOCKPROOF_TEST_ROLE` naming the child's part and each shared
//! object's [`Handle`] in an environment variable ([`Handle::pass_to`]); the test function
//! sees the role, plays the child's part and returns. A child is killed and reaped when
//! its guard drops; every wait is bounded (10 s for anything expected to happen); no test
//! sleeps to let another process block: the parent waits for an observable state (a
//! shared stage word, a semaphore's value, a condition's sleeper count, the child's exit).

use lockproof::multiprocessing::{
    Array, Barrier, Condition, Event, Handle, Lock, RLock, RawValue, RobustAcquire, RobustLock,
    Semaphore, Value,
};
use lockproof::Error;
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

mod support;

use support::children::{handle, park_until_killed, role, spawn, until, BOUND};

// ---- mutual exclusion ----------------------------------------------------------------

#[test]
fn mutual_exclusion_across_processes() {
    const N: usize = 3;
    const K: i64 = 3000;
    if role().is_some() {
        let counter = Value::<i64>::open(&handle("COUNTER")).unwrap();
        let inside = RawValue::<i64>::open(&handle("INSIDE")).unwrap();
        for _ in 0..K {
            let _g = counter.get_lock().lock(); // with counter.get_lock():
            let n = inside.value() + 1;
            inside.set_value(n);
            assert_eq!(n, 1, "two processes inside the lock");
            counter.set_value(counter.value() + 1); //     counter.value += 1
            inside.set_value(n - 1);
        }
        return;
    }
    let counter = Value::<i64>::new(0);
    let inside = RawValue::<i64>::new(0);
    let mut children: Vec<_> = (0..N)
        .map(|_| {
            spawn(
                "mutual_exclusion_across_processes",
                "worker",
                &[("COUNTER", counter.handle()), ("INSIDE", inside.handle())],
            )
        })
        .collect();
    for c in &mut children {
        c.wait_success();
    }
    assert_eq!(counter.value(), N as i64 * K, "lost updates under the lock");
}

// ---- a holder that dies ----------------------------------------------------------------

#[test]
fn check_150_holder_exits_and_the_lock_stays_held() {
    if role().is_some() {
        let lock = Lock::open(&handle("LOCK")).unwrap();
        assert!(lock.acquire());
        std::process::exit(1); // os._exit(1) while holding it
    }
    let lock = Lock::new();
    let mut child = spawn(
        "check_150_holder_exits_and_the_lock_stays_held",
        "holder",
        &[("LOCK", lock.handle())],
    );
    assert_eq!(child.wait().code(), Some(1));
    let start = Instant::now();
    assert_eq!(lock.acquire_timeout(0.2), Ok(false), "no recovery");
    assert!(start.elapsed() >= Duration::from_millis(200));
    assert_eq!(lock.value(), 0);
}

#[test]
fn lock_held_forever_after_holder_is_sigkilled() {
    if role().is_some() {
        let lock = Lock::open(&handle("LOCK")).unwrap();
        let stage = RawValue::<i32>::open(&handle("STAGE")).unwrap();
        assert!(lock.acquire());
        stage.set_value(1);
        park_until_killed();
    }
    let lock = Lock::new();
    let stage = RawValue::<i32>::new(0);
    let mut child = spawn(
        "lock_held_forever_after_holder_is_sigkilled",
        "holder",
        &[("LOCK", lock.handle()), ("STAGE", stage.handle())],
    );
    until("the child holds the lock", || stage.value() == 1);
    child.kill();
    let _ = child.wait();
    assert_eq!(lock.acquire_timeout(0.2), Ok(false));
    assert_eq!(format!("{lock:?}"), "<Lock(owner=SomeOtherProcess)>");
}

#[test]
fn robust_lock_reports_owner_death() {
    if role().is_some() {
        let lock = RobustLock::open(&handle("LOCK")).unwrap();
        let stage = RawValue::<i32>::open(&handle("STAGE")).unwrap();
        assert_eq!(lock.acquire(), RobustAcquire::Acquired);
        stage.set_value(1);
        park_until_killed();
    }
    let lock = RobustLock::new();
    let stage = RawValue::<i32>::new(0);
    let mut child = spawn(
        "robust_lock_reports_owner_death",
        "holder",
        &[("LOCK", lock.handle()), ("STAGE", stage.handle())],
    );
    until("the child holds the lock", || stage.value() == 1);
    assert_eq!(lock.owner(), Some(child.pid()));
    // Alive: an ordinary timeout.
    assert_eq!(lock.acquire_timeout(0.05), Ok(RobustAcquire::TimedOut));
    // Killed, not yet reaped (a zombie): the next acquirer is told.
    child.kill();
    let got = lock.acquire_timeout(BOUND.as_secs_f64()).unwrap();
    assert_eq!(got, RobustAcquire::OwnerDied { pid: child.pid() });
    assert_eq!(lock.owner(), Some(std::process::id()));
    lock.release().unwrap();
    assert_eq!(lock.try_acquire(), RobustAcquire::Acquired);
    lock.release().unwrap();
}

// ---- lost updates ----------------------------------------------------------------------

/// Start two children of `test` that each, once released together, run `k` racy
/// increments; return the final count, after `tries` attempts at most, the first that loses
/// an update (or the last).
fn race_two(
    test: &str,
    shared: &[(&str, Handle)],
    read: impl Fn() -> i64,
    reset: impl Fn(),
    k: i64,
) -> (usize, i64) {
    let ready = Semaphore::new(0).unwrap();
    let go = Semaphore::new(0).unwrap();
    let mut last = 0;
    for attempt in 1..=20 {
        reset();
        let mut handles: Vec<(&str, Handle)> = shared.to_vec();
        handles.push(("READY", ready.handle()));
        handles.push(("GO", go.handle()));
        let mut children: Vec<_> = (0..2)
            .map(|_| spawn(test, "incrementer", &handles))
            .collect();
        // Both children started and wait at the gate: release them together.
        for _ in 0..2 {
            assert_eq!(ready.acquire_timeout(BOUND.as_secs_f64()), Ok(true));
        }
        go.release().unwrap();
        go.release().unwrap();
        for c in &mut children {
            c.wait_success();
        }
        last = read();
        if last < 2 * k {
            return (attempt, last);
        }
    }
    (20, last)
}

/// The child side of [`race_two`]: announce, wait for the gate, run `body`.
fn at_the_gate(body: impl FnOnce()) {
    let ready = Semaphore::open(&handle("READY")).unwrap();
    let go = Semaphore::open(&handle("GO")).unwrap();
    ready.release().unwrap();
    assert_eq!(go.acquire_timeout(BOUND.as_secs_f64()), Ok(true));
    body();
}

#[test]
fn unguarded_counter_loses_updates_across_processes() {
    const K: i64 = 200_000;
    if role().is_some() {
        let counter = RawValue::<i64>::open(&handle("COUNTER")).unwrap();
        at_the_gate(|| {
            for _ in 0..K {
                counter.set_value(counter.value() + 1); // counter.value += 1, no lock
            }
        });
        return;
    }
    let counter = RawValue::<i64>::new(0);
    let start = Instant::now();
    let (tries, total) = race_two(
        "unguarded_counter_loses_updates_across_processes",
        &[("COUNTER", counter.handle())],
        || counter.value(),
        || counter.set_value(0),
        K,
    );
    eprintln!(
        "unguarded counter: {} of {} updates lost, on try {tries}, in {:?}",
        2 * K - total,
        2 * K,
        start.elapsed()
    );
    assert!(total < 2 * K, "no update lost in {tries} tries");
}

#[test]
fn synchronized_value_plus_equals_loses_updates() {
    // mp.Value takes its lock for each read and each write, not for `value += 1`.
    const K: i64 = 20_000;
    if role().is_some() {
        let counter = Value::<i64>::open(&handle("COUNTER")).unwrap();
        at_the_gate(|| {
            for _ in 0..K {
                counter.set_value(counter.value() + 1);
            }
        });
        return;
    }
    let counter = Value::<i64>::new(0);
    let start = Instant::now();
    let (tries, total) = race_two(
        "synchronized_value_plus_equals_loses_updates",
        &[("COUNTER", counter.handle())],
        || counter.value(),
        || counter.set_value(0),
        K,
    );
    eprintln!(
        "Value with its lock, +=: {} of {} updates lost, on try {tries}, in {:?}",
        2 * K - total,
        2 * K,
        start.elapsed()
    );
    assert!(total < 2 * K, "no update lost in {tries} tries");
}

// ---- ownership across processes ----------------------------------------------------------

#[test]
fn check_134_child_cannot_release_parents_rlock() {
    if role().is_some() {
        let r = RLock::open(&handle("RLOCK")).unwrap();
        let err = r.release().unwrap_err();
        assert_eq!(err, Error::RecursiveLockNotOwned);
        assert_eq!(
            err.to_string(),
            "attempt to release recursive lock not owned by thread"
        );
        assert!(!r.try_acquire());
        assert_eq!(format!("{r:?}"), "<RLock(SomeOtherProcess, nonzero)>");
        return;
    }
    let r = RLock::new();
    assert!(r.acquire());
    let mut child = spawn(
        "check_134_child_cannot_release_parents_rlock",
        "other",
        &[("RLOCK", r.handle())],
    );
    child.wait_success();
    assert!(r.is_mine());
    r.release().unwrap();
}

#[test]
fn check_129_child_releases_parents_lock() {
    if role().is_some() {
        let lock = Lock::open(&handle("LOCK")).unwrap();
        lock.release().unwrap();
        return;
    }
    let lock = Lock::new();
    assert!(lock.acquire());
    let mut child = spawn(
        "check_129_child_releases_parents_lock",
        "releaser",
        &[("LOCK", lock.handle())],
    );
    child.wait_success();
    assert_eq!(lock.acquire_timeout(1.0), Ok(true));
    lock.release().unwrap();
}

// ---- the notify handshake ----------------------------------------------------------------

#[test]
fn check_151_notify_hangs_after_a_waiter_is_killed() {
    if role().is_some() {
        let c = Condition::open(&handle("COND")).unwrap();
        let _g = c.lock();
        let _ = c.wait(Some(30.0));
        panic!("the waiter was not killed");
    }
    let c = Arc::new(Condition::new());
    let mut child = spawn(
        "check_151_notify_hangs_after_a_waiter_is_killed",
        "waiter",
        &[("COND", c.handle())],
    );
    // The child counted itself a sleeper, then released the lock inside wait().
    until("the child sleeps in wait()", || c.n_waiters() == 1);
    assert_eq!(c.acquire_with(true, Some(BOUND.as_secs_f64())), Ok(true));
    child.kill();
    let _ = child.wait();
    c.release().unwrap();
    let (tx, rx) = mpsc::channel();
    let c2 = c.clone();
    // This thread stays blocked in notify() for the rest of the test process.
    std::thread::spawn(move || {
        let _g = c2.lock();
        let r = c2.notify(1);
        let _ = tx.send(r);
    });
    // A bounded witness of the hang: notify waits for the dead waiter's acknowledgement.
    assert_eq!(
        rx.recv_timeout(Duration::from_secs(1)),
        Err(mpsc::RecvTimeoutError::Timeout),
        "notify() returned although its woken waiter is dead"
    );
}

// ---- Event and Barrier across processes ----------------------------------------------------

#[test]
fn event_and_barrier_across_processes() {
    if let Some(role) = role() {
        let event = Event::open(&handle("EVENT")).unwrap();
        let barrier = Barrier::open(&handle("BARRIER")).unwrap();
        let out = Array::<i64>::open(&handle("OUT")).unwrap();
        let slot: usize = role.parse().unwrap();
        let set = event.wait(Some(BOUND.as_secs_f64())).unwrap();
        out.set(slot, i64::from(set)).unwrap();
        let index = barrier.wait_timeout(Some(BOUND.as_secs_f64())).unwrap();
        out.set(2 + slot, index as i64).unwrap();
        return;
    }
    let event = Event::new();
    let barrier = Barrier::new(3, None, None);
    let out = Array::<i64>::zeroed(4);
    let handles = [
        ("EVENT", event.handle()),
        ("BARRIER", barrier.handle()),
        ("OUT", out.handle()),
    ];
    let mut children: Vec<_> = (0..2)
        .map(|i| {
            spawn(
                "event_and_barrier_across_processes",
                &i.to_string(),
                &handles,
            )
        })
        .collect();
    until("both children wait on the event", || event.n_waiters() == 2);
    event.set(); // returns once both have woken (the notify handshake)
    let mine = barrier.wait_timeout(Some(BOUND.as_secs_f64())).unwrap();
    for c in &mut children {
        c.wait_success();
    }
    let got = out.to_vec();
    assert_eq!(&got[..2], &[1, 1], "both waiters saw the event set");
    let mut indices = vec![got[2], got[3], mine as i64];
    indices.sort();
    assert_eq!(indices, vec![0, 1, 2]);
}

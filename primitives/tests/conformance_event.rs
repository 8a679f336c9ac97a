//! Conformance of `lockproof::Event` with CPython 3.11's `threading.Event`, on real threads.
//!
//! Two sources: `Lib/test/lock_tests.py` (`EventTests`, tests named `lock_tests_*`) and
//! SEMANTICS.md's conformance checks 92–102 (tests named `check_NN_*`).
//! `primitives/CONFORMANCE.md` maps every Python test and every check to its Rust test, or
//! says why it has none.
//!
//! No test sleeps to let another thread block. An `Event` does not say how many threads
//! wait on it, so where a test needs waiters to be woken *while blocked*, the main thread
//! keeps repeating the waking step until every waiter has returned; each repetition is as
//! good as the first, so the result does not depend on when the waiters got to block.

use lockproof::{Error, Event};
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

mod support;
use support::{assert_waited, raises, spin_until, Waiters, EVENT_TIMEOUTS, POLL_TIMEOUTS};

// ---- lock_tests.py: EventTests ------------------------------------------------------------

#[test]
fn lock_tests_is_set() {
    let evt: Event = Event::new();
    assert!(!evt.is_set());
    evt.set();
    assert!(evt.is_set());
    evt.set();
    assert!(evt.is_set());
    evt.clear();
    assert!(!evt.is_set());
    evt.clear();
    assert!(!evt.is_set());
}

/// `EventTests._check_notify`: every waiter gets woken, and waits again at once.
fn check_notify(evt: &Event) {
    const N: usize = 5;
    let started = AtomicUsize::new(0);
    let results1 = Mutex::new(Vec::new());
    let results2 = Mutex::new(Vec::new());
    thread::scope(|s| {
        for _ in 0..N {
            s.spawn(|| {
                started.fetch_add(1, SeqCst);
                let r = evt.wait(None).unwrap();
                results1.lock().unwrap().push(r);
                let r = evt.wait(None).unwrap();
                results2.lock().unwrap().push(r);
            });
        }
        spin_until("all started", || started.load(SeqCst) == N);
        // The event is clear: nobody can have returned.
        assert_eq!(results1.lock().unwrap().len(), 0);
        evt.set();
    });
    assert_eq!(results1.into_inner().unwrap(), vec![true; N]);
    assert_eq!(results2.into_inner().unwrap(), vec![true; N]);
}

#[test]
fn lock_tests_notify() {
    let evt: Event = Event::new();
    check_notify(&evt);
    // Another time, after an explicit clear().
    evt.set();
    evt.clear();
    check_notify(&evt);
}

#[test]
fn lock_tests_timeout() {
    const N: usize = 5;
    let evt: Event = Event::new();
    let run = |evt: &Event| {
        let results1 = Mutex::new(Vec::new());
        let results2 = Mutex::new(Vec::new());
        thread::scope(|s| {
            for _ in 0..N {
                s.spawn(|| {
                    let r = evt.wait(Some(0.0)).unwrap();
                    results1.lock().unwrap().push(r);
                    let t = Instant::now();
                    let r = evt.wait(Some(0.05)).unwrap();
                    results2.lock().unwrap().push((r, t.elapsed()));
                });
            }
        });
        (
            results1.into_inner().unwrap(),
            results2.into_inner().unwrap(),
        )
    };
    let (r1, r2) = run(&evt);
    assert_eq!(r1, vec![false; N]);
    for (r, dt) in r2 {
        assert!(!r);
        assert!(dt >= Duration::from_secs_f64(0.05), "returned after {dt:?}");
    }
    // The event is set.
    evt.set();
    let (r1, r2) = run(&evt);
    assert_eq!(r1, vec![true; N]);
    assert!(r2.iter().all(|&(r, _)| r));
}

/// bpo-13502: `wait()` returns true even when the event is cleared before the waiter
/// wakes up.
#[test]
fn lock_tests_set_and_clear() {
    set_then_clear(5);
}

/// Waiters each `wait(5)`; the main thread runs `set(); clear()` until all have returned.
/// Every one must return `True` (its wait ended through a `set`, even though the flag was
/// cleared again before it ran), and the event ends clear.
fn set_then_clear(n: usize) {
    let evt = Arc::new(Event::new());
    let w = Waiters::start(&evt, n, Some(5.0));
    w.set_clear_until_returned(&evt);
    assert_eq!(w.join(), vec![Ok(true); n]);
    assert!(!evt.is_set());
}

#[test]
fn lock_tests_repr() {
    let evt: Event = Event::new();
    assert_eq!(format!("{evt:?}"), "<threading.Event: unset>");
    evt.set();
    assert_eq!(format!("{evt:?}"), "<threading.Event: set>");
}

// ---- SEMANTICS.md conformance checks 92–102 -----------------------------------------------

#[test]
fn check_92_new_event_is_clear() {
    assert!(!<Event>::new().is_set());
    assert!(!<Event>::default().is_set());
}

#[test]
fn check_93_set_and_clear_are_idempotent() {
    let evt: Event = Event::new();
    evt.set();
    evt.set();
    assert!(evt.is_set());
    evt.clear();
    evt.clear();
    assert!(!evt.is_set());
}

#[test]
fn check_94_wait_on_clear_event() {
    let evt: Event = Event::new();
    for t in POLL_TIMEOUTS {
        assert_eq!(evt.wait(Some(t)), Ok(false), "timeout {t}");
    }
    let t = Instant::now();
    assert_eq!(evt.wait(Some(0.05)), Ok(false));
    assert_waited(t, 0.05);
}

#[test]
fn check_95_wait_on_set_event() {
    let evt: Event = Event::new();
    evt.set();
    // The timeout is not even looked at.
    for t in EVENT_TIMEOUTS {
        assert_eq!(evt.wait(t), Ok(true), "timeout {t:?}");
    }
}

#[test]
fn check_96_huge_timeout_on_clear_event() {
    let evt: Event = Event::new();
    for t in [1e100, f64::INFINITY] {
        raises(evt.wait(Some(t)), Error::TimeoutOverflow);
    }
    assert!(!evt.is_set());
}

#[test]
fn check_97_set_wakes_every_waiter() {
    const N: usize = 5;
    let evt = Arc::new(Event::new());
    let w = Waiters::start(&evt, N, None);
    evt.set();
    assert_eq!(w.join(), vec![Ok(true); N]);
    assert!(evt.is_set());
}

#[test]
fn check_98_set_then_clear_still_wakes_with_true() {
    set_then_clear(3);
}

#[test]
fn check_101_debug_repr() {
    let evt: Event = Event::new();
    assert_eq!(format!("{evt:?}"), "<threading.Event: unset>");
    evt.set();
    assert_eq!(format!("{evt:?}"), "<threading.Event: set>");
    evt.clear();
    assert_eq!(format!("{evt:?}"), "<threading.Event: unset>");
}

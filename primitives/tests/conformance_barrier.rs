//! Conformance of `lockproof::Barrier` with CPython 3.11's `threading.Barrier`, on real
//! threads.
//!
//! Two sources: `Lib/test/lock_tests.py` (`BarrierTests`, tests named `lock_tests_*`) and
//! SEMANTICS.md's conformance checks 103–122 (tests named `check_NN_*`).
//! `primitives/CONFORMANCE.md` maps every Python test and every check to its Rust test, or
//! says why it has none.
//!
//! No test sleeps to let another thread block: a party is known to wait when
//! [`Barrier::n_waiting`] counts it. Python's `BarrierTests` make one thread "late" with
//! `time.sleep(1.0)`; here the late thread instead waits until the others have broken the
//! barrier, which is what the sleep was standing in for.

use lockproof::{Barrier, BarrierAction, Error, PyException};
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::thread;
use std::time::Instant;

mod support;
use support::{assert_err, assert_waited, barrier, broken, counting, raises, spin_until};

/// `BarrierTests.N`: the number of parties.
const N: usize = 5;

/// `BarrierTests.run_threads`: run `f` in `N - 1` new threads and in this one.
fn run_threads(f: impl Fn() + Sync) {
    thread::scope(|s| {
        for _ in 0..N - 1 {
            s.spawn(&f);
        }
        f();
    });
}

/// `BarrierTests.setUp`: the shared barrier, N parties, default timeout 2 s.
fn setup() -> Barrier {
    Barrier::new(N, None, Some(2.0)).unwrap()
}

// ---- lock_tests.py: BarrierTests ----------------------------------------------------------

/// `BarrierTests.multipass`: the parties pass in lockstep, `passes` times.
fn multipass(passes: usize) {
    let b = setup();
    let before = AtomicUsize::new(0);
    let after = AtomicUsize::new(0);
    run_threads(|| {
        assert_eq!(b.parties(), N);
        for i in 0..passes {
            before.fetch_add(1, SeqCst);
            assert_eq!(after.load(SeqCst), i * N);
            b.wait().unwrap();
            after.fetch_add(1, SeqCst);
            assert_eq!(before.load(SeqCst), (i + 1) * N);
            b.wait().unwrap();
        }
        assert_eq!(b.n_waiting(), 0);
        assert!(!b.broken());
    });
}

#[test]
fn lock_tests_barrier() {
    multipass(1);
}

#[test]
fn lock_tests_barrier_10() {
    multipass(10);
}

#[test]
fn lock_tests_wait_return() {
    let b = setup();
    let results = Mutex::new(Vec::new());
    run_threads(|| {
        let i = b.wait().unwrap();
        results.lock().unwrap().push(i);
    });
    let mut results = results.into_inner().unwrap();
    assert_eq!(results.iter().sum::<usize>(), (0..N).sum::<usize>());
    results.sort();
    assert_eq!(results, (0..N).collect::<Vec<_>>());
}

#[test]
fn lock_tests_action() {
    let runs = Arc::new(AtomicUsize::new(0));
    let b: Barrier = Barrier::new(N, counting(&runs), None).unwrap();
    run_threads(|| {
        b.wait().unwrap();
        assert_eq!(runs.load(SeqCst), 1);
    });
}

#[test]
fn lock_tests_abort() {
    let b = setup();
    let t = Tally::default();
    run_threads(|| {
        if two_waits_or_abort(&b, &t) {
            b.abort();
        }
    });
    t.assert_one_round_broken(0);
    assert!(b.broken());
}

/// What the parties of `test_reset`, `test_abort` and `test_abort_and_reset` count: how
/// many passed the round that breaks, how many got `BrokenBarrierError` in it, and how
/// many passed the round after.
#[derive(Default)]
struct Tally {
    passed: AtomicUsize,
    broke: AtomicUsize,
    again: AtomicUsize,
}

impl Tally {
    /// Count a wait of the round that breaks: passed, or `BrokenBarrierError` (any other
    /// error fails the test).
    fn count(&self, r: lockproof::Result<()>) {
        match r {
            Ok(()) => self.passed.fetch_add(1, SeqCst),
            Err(e) => {
                broken::<()>(Err(e));
                self.broke.fetch_add(1, SeqCst)
            }
        };
    }

    /// Nobody passed the round that broke, every party but the one that broke it got
    /// `BrokenBarrierError`, and `again` parties passed the round after.
    fn assert_one_round_broken(&self, again: usize) {
        assert_eq!(self.passed.load(SeqCst), 0);
        assert_eq!(self.broke.load(SeqCst), N - 1);
        assert_eq!(self.again.load(SeqCst), again);
    }
}

/// The `try` block of `test_abort` and `test_abort_and_reset`: wait; the party with index
/// `N / 2` returns `true` (Python raises `RuntimeError` there and aborts in its handler);
/// the others wait again and count whether they passed or got `BrokenBarrierError` (in
/// either wait: a party released by the first wait that has not left it yet when the
/// abort comes gets `BrokenBarrierError` too, in CPython as here).
fn two_waits_or_abort(b: &Barrier, t: &Tally) -> bool {
    let r = b.wait().and_then(|i| {
        if i == N / 2 {
            return Ok(true);
        }
        b.wait().map(|_| false)
    });
    match r {
        Ok(true) => true,
        other => {
            t.count(other.map(drop));
            false
        }
    }
}

#[test]
fn lock_tests_reset() {
    let b = setup();
    let t = Tally::default();
    run_threads(|| {
        let i = b.wait().unwrap();
        if i == N / 2 {
            // Wait until the other threads are all in the barrier.
            spin_until("the others wait", || b.n_waiting() == N - 1);
            b.reset();
        } else {
            t.count(b.wait().map(drop));
        }
        // Now pass the barrier again.
        b.wait().unwrap();
        t.again.fetch_add(1, SeqCst);
    });
    t.assert_one_round_broken(N);
}

#[test]
fn lock_tests_abort_and_reset() {
    let b = setup();
    let b2 = barrier(N);
    let t = Tally::default();
    run_threads(|| {
        if two_waits_or_abort(&b, &t) {
            b.abort();
        }
        // Synchronize and reset the barrier: first so that everyone has left it when it
        // is reset, then so that no one enters it before the reset.
        if b2.wait().unwrap() == N / 2 {
            b.reset();
        }
        b2.wait().unwrap();
        b.wait().unwrap();
        t.again.fetch_add(1, SeqCst);
    });
    t.assert_one_round_broken(N);
}

#[test]
fn lock_tests_timeout() {
    let b = setup();
    run_threads(|| {
        let i = b.wait().unwrap();
        if i == N / 2 {
            // One thread is late: it comes only once the others gave up.
            spin_until("the barrier breaks", || b.broken());
        }
        // Shorter than the default timeout of 2 s.
        broken(b.wait_timeout(Some(0.05)));
    });
    assert!(b.broken());
}

#[test]
fn lock_tests_default_timeout() {
    // A barrier with a low default timeout.
    let b: Barrier = Barrier::new(N, None, Some(0.05)).unwrap();
    run_threads(|| {
        let i = b.wait().unwrap();
        if i == N / 2 {
            // One thread is later than the default timeout.
            spin_until("the barrier breaks", || b.broken());
        }
        broken(b.wait());
    });
    assert!(b.broken());
}

#[test]
fn lock_tests_single_thread() {
    let b = barrier(1);
    assert_eq!(b.wait(), Ok(0));
    assert_eq!(b.wait(), Ok(0));
}

#[test]
fn lock_tests_repr() {
    let b = barrier(3);
    assert_eq!(format!("{b:?}"), "<threading.Barrier: waiters=0/3>");
    thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| b.wait_timeout(Some(3.0)).unwrap());
        }
        spin_until("2 parties wait", || b.n_waiting() == 2);
        assert_eq!(format!("{b:?}"), "<threading.Barrier: waiters=2/3>");
        b.wait_timeout(Some(3.0)).unwrap();
    });
    assert_eq!(format!("{b:?}"), "<threading.Barrier: waiters=0/3>");
    b.abort();
    assert_eq!(format!("{b:?}"), "<threading.Barrier: broken>");
}

// ---- SEMANTICS.md conformance checks 103–122 ----------------------------------------------

/// Start `k` parties one after the other (each counted as waiting before the next starts),
/// each running `f`; returns their handles in arrival order.
fn arrive_in_order<'s, T: Send + 's>(
    s: &'s thread::Scope<'s, '_>,
    b: &'s Barrier,
    k: usize,
    f: impl Fn() -> T + Send + Sync + Copy + 's,
) -> Vec<thread::ScopedJoinHandle<'s, T>> {
    (0..k)
        .map(|i| {
            let h = s.spawn(f);
            spin_until("the party waits", || b.n_waiting() == i + 1);
            h
        })
        .collect()
}

#[test]
fn check_103_index_is_arrival_order() {
    let b = barrier(3);
    thread::scope(|s| {
        let hs = arrive_in_order(s, &b, 2, || b.wait());
        assert_eq!(b.wait(), Ok(2));
        let got: Vec<_> = hs.into_iter().map(|h| h.join().unwrap()).collect();
        assert_eq!(got, vec![Ok(0), Ok(1)]);
    });
}

#[test]
fn check_104_action_runs_once_in_last_arrival_before_release() {
    let runs = Arc::new(AtomicUsize::new(0));
    let ran_in = Arc::new(Mutex::new(None));
    let action: BarrierAction = {
        let (runs, ran_in) = (runs.clone(), ran_in.clone());
        Box::new(move || {
            runs.fetch_add(1, SeqCst);
            *ran_in.lock().unwrap() = Some(thread::current().id());
            Ok(())
        })
    };
    let b: Barrier = Barrier::new(3, Some(action), None).unwrap();
    thread::scope(|s| {
        let hs = arrive_in_order(s, &b, 2, || {
            let i = b.wait().unwrap();
            // The action ran before this party was released.
            assert_eq!(runs.load(SeqCst), 1);
            i
        });
        assert_eq!(b.wait(), Ok(2));
        assert_eq!(*ran_in.lock().unwrap(), Some(thread::current().id()));
        for h in hs {
            h.join().unwrap();
        }
    });
    assert_eq!(runs.load(SeqCst), 1);
}

#[test]
fn check_105_single_party() {
    let runs = Arc::new(AtomicUsize::new(0));
    let b: Barrier = Barrier::new(1, counting(&runs), None).unwrap();
    for k in 1..=3 {
        assert_eq!(b.wait(), Ok(0));
        assert_eq!(runs.load(SeqCst), k);
    }
    assert!(!b.broken());
}

#[test]
fn check_106_timeout_breaks() {
    let b = barrier(2);
    let t = Instant::now();
    broken(b.wait_timeout(Some(0.05)));
    assert_waited(t, 0.05);
    assert!(b.broken());
    assert_eq!(b.n_waiting(), 0);
}

#[test]
fn check_107_default_timeout() {
    let b: Barrier = Barrier::new(2, None, Some(0.05)).unwrap();
    let t = Instant::now();
    broken(b.wait());
    assert_waited(t, 0.05);
    assert!(b.broken());
    // An explicit None cannot override the default.
    b.reset();
    assert!(!b.broken());
    let t = Instant::now();
    broken(b.wait_timeout(None));
    assert_waited(t, 0.05);
    assert!(b.broken());
}

#[test]
fn check_108_zero_and_negative_timeout_break_at_once() {
    for t in [0.0, -1.0] {
        let b = barrier(2);
        broken(b.wait_timeout(Some(t)));
        assert!(b.broken());
        assert_eq!(b.n_waiting(), 0);
    }
}

#[test]
fn check_109_wait_on_broken_barrier() {
    let b = barrier(2);
    b.abort();
    broken(b.wait());
    broken(b.wait_timeout(Some(5.0)));
    assert_eq!(b.n_waiting(), 0);
    // Even a single-party barrier, which would otherwise trip at once.
    let b = barrier(1);
    b.abort();
    broken(b.wait());
}

#[test]
fn check_110_failing_action() {
    let action: BarrierAction = Box::new(|| Err("KeyError('boom')".to_owned()));
    let b: Barrier = Barrier::new(2, Some(action), None).unwrap();
    thread::scope(|s| {
        let first = arrive_in_order(s, &b, 1, || b.wait()).pop().unwrap();
        assert_err(
            b.wait(),
            Error::BarrierAction("KeyError('boom')".to_owned()),
            PyException::RuntimeError,
            "KeyError('boom')",
        );
        broken(first.join().unwrap());
    });
    assert!(b.broken());
}

/// Check 110 with a panicking action: the panic (Python: the exception) resumes unchanged
/// in the last arrival; the other party gets `BrokenBarrierError`.
#[test]
fn check_110_panicking_action() {
    let action: BarrierAction = Box::new(|| std::panic::panic_any(1234_i32));
    let b: Barrier = Barrier::new(2, Some(action), None).unwrap();
    thread::scope(|s| {
        let first = arrive_in_order(s, &b, 1, || b.wait()).pop().unwrap();
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| b.wait()));
        assert_eq!(r.unwrap_err().downcast_ref::<i32>(), Some(&1234));
        broken(first.join().unwrap());
    });
    assert!(b.broken());
}

#[test]
fn check_111_reset_with_waiters() {
    let b = barrier(3);
    thread::scope(|s| {
        let hs = arrive_in_order(s, &b, 2, || b.wait());
        b.reset();
        for h in hs {
            broken(h.join().unwrap());
        }
        assert!(!b.broken());
        assert_eq!(b.n_waiting(), 0);
        // A full set of parties passes again.
        let hs = arrive_in_order(s, &b, 2, || b.wait());
        assert_eq!(b.wait(), Ok(2));
        for h in hs {
            assert!(h.join().unwrap().is_ok());
        }
    });
    assert!(!b.broken());
}

#[test]
fn check_112_abort_with_waiters() {
    let b = barrier(3);
    thread::scope(|s| {
        let hs = arrive_in_order(s, &b, 2, || b.wait());
        b.abort();
        for h in hs {
            broken(h.join().unwrap());
        }
    });
    assert!(b.broken());
    broken(b.wait());
    broken(b.wait_timeout(Some(0.0)));
    b.reset();
    assert!(!b.broken());
}

#[test]
fn check_113_abort_then_reset_without_waiters() {
    let b = barrier(2);
    b.abort();
    b.abort(); // twice is harmless
    assert!(b.broken());
    b.reset();
    assert!(!b.broken());
    thread::scope(|s| {
        let h = arrive_in_order(s, &b, 1, || b.wait()).pop().unwrap();
        assert_eq!(b.wait(), Ok(1));
        assert_eq!(h.join().unwrap(), Ok(0));
    });
}

#[test]
fn check_114_n_waiting_and_repr() {
    let b = barrier(3);
    assert_eq!(b.parties(), 3);
    thread::scope(|s| {
        let hs = arrive_in_order(s, &b, 2, || b.wait());
        assert_eq!(b.n_waiting(), 2);
        assert_eq!(format!("{b:?}"), "<threading.Barrier: waiters=2/3>");
        assert_eq!(b.wait(), Ok(2));
        for h in hs {
            h.join().unwrap().unwrap();
        }
    });
    assert_eq!(b.n_waiting(), 0);
}

#[test]
fn check_115_n_waiting_inside_action_is_parties() {
    let slot: Arc<OnceLock<Weak<Barrier>>> = Arc::new(OnceLock::new());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let action: BarrierAction = {
        let (slot, seen) = (slot.clone(), seen.clone());
        Box::new(move || {
            let b = slot.get().and_then(Weak::upgrade).expect("the barrier");
            seen.lock()
                .unwrap()
                .push((b.n_waiting(), b.broken(), b.parties()));
            Ok(())
        })
    };
    let b = Arc::new(Barrier::new(3, Some(action), None).unwrap());
    slot.set(Arc::downgrade(&b)).unwrap();
    thread::scope(|s| {
        let hs = arrive_in_order(s, &b, 2, || b.wait());
        assert_eq!(b.wait(), Ok(2));
        for h in hs {
            h.join().unwrap().unwrap();
        }
    });
    assert_eq!(*seen.lock().unwrap(), vec![(3, false, 3)]);
}

#[test]
fn check_117_broken_barrier_error() {
    let e = Error::BrokenBarrier;
    assert_eq!(e.exception(), PyException::BrokenBarrierError);
    assert_eq!(e.to_string(), "");
    assert_eq!(e.python_repr(), "BrokenBarrierError()");
    let b = barrier(2);
    broken(b.wait_timeout(Some(0.0)));
}

#[test]
fn check_118_zero_parties_rejected() {
    raises(
        Barrier::<lockproof::backend::Std>::new(0, None, None),
        Error::BarrierParties,
    );
}

#[test]
fn check_120_broken_repr() {
    let b = barrier(2);
    b.abort();
    assert_eq!(format!("{b:?}"), "<threading.Barrier: broken>");
    b.reset();
    assert_eq!(format!("{b:?}"), "<threading.Barrier: waiters=0/2>");
}

#[test]
fn check_121_huge_timeout_overflows_without_breaking() {
    for t in [1e100, f64::INFINITY] {
        let b = barrier(2);
        raises(b.wait_timeout(Some(t)), Error::TimeoutOverflow);
        assert!(!b.broken());
        assert_eq!(b.n_waiting(), 0);
    }
    // As a default timeout, too; the last arrival never looks at it.
    let b: Barrier = Barrier::new(1, None, Some(1e100)).unwrap();
    assert_eq!(b.wait(), Ok(0));
}

#[test]
fn check_122_nan_timeout_waits_for_partner() {
    let b = barrier(2);
    thread::scope(|s| {
        let h = arrive_in_order(s, &b, 1, || b.wait_timeout(Some(f64::NAN)))
            .pop()
            .unwrap();
        assert_eq!(b.wait(), Ok(1));
        assert_eq!(h.join().unwrap(), Ok(0));
    });
    assert!(!b.broken());
}

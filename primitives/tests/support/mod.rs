//! Shared test helpers: run a body as one checked execution under loom or shuttle.
//!
//! `loom_check(body)` explores every interleaving loom reaches (preemption bound 3 unless
//! `bound` says otherwise); `shuttle_check(body, n)` runs `n` random schedules and `n` PCT
//! (depth 2) schedules. Both return `Ok(executions)` or `Err(failure)` with the checked
//! world's report of the failing execution, so a test can assert a failure as well as a
//! pass. Bodies are generic over the backend, so one body runs in every world:
//!
//! ```text
//! fn body<B: Backend>() { ... }
//! assert!(loom_check(body::<Loom>).is_ok());
//! assert!(shuttle_check(body::<Shuttle>, 500).is_ok());
//! ```
#![allow(dead_code)] // each test file uses a different subset

#[cfg(target_os = "linux")]
pub mod children;

use lockproof::backend::checked::{execute, take_last_report, ExecutionReport, WorldConfig};
use lockproof::backend::{LoomEngine, ShuttleEngine};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

/// Run `body` under loom with `config`; `bound` is loom's preemption bound.
pub fn loom_with(
    config: WorldConfig,
    bound: Option<usize>,
    body: fn(),
) -> Result<usize, Box<ExecutionReport>> {
    let count = Arc::new(AtomicUsize::new(0));
    let c = count.clone();
    let r = std::panic::catch_unwind(move || {
        let mut b = loom::model::Builder::new();
        b.preemption_bound = bound;
        b.check(move || {
            c.fetch_add(1, Ordering::Relaxed);
            execute::<LoomEngine>(config.clone(), None, body);
        })
    });
    match r {
        Ok(()) => Ok(count.load(Ordering::Relaxed)),
        Err(p) => Err(Box::new(take_last_report().unwrap_or_else(|| {
            panic!(
                "loom failed outside a checked execution: {:?}",
                p.downcast_ref::<String>()
            )
        }))),
    }
}

/// `loom_with` with timed virtual time and preemption bound 3.
pub fn loom_check(body: fn()) -> Result<usize, Box<ExecutionReport>> {
    loom_with(WorldConfig::default(), Some(3), body)
}

/// `loom_with` with timed virtual time and preemption bound `bound` (2 keeps scenarios with
/// three threads besides main in seconds).
pub fn loom_bound(bound: usize, body: fn()) -> Result<usize, Box<ExecutionReport>> {
    loom_with(WorldConfig::default(), Some(bound), body)
}

/// Run `body` under shuttle: `iterations` random schedules, then as many PCT (depth 2).
pub fn shuttle_with(
    config: WorldConfig,
    iterations: usize,
    body: fn(),
) -> Result<usize, Box<ExecutionReport>> {
    for pct in [false, true] {
        let cfg = config.clone();
        let r = std::panic::catch_unwind(move || {
            let f = move || {
                execute::<ShuttleEngine>(cfg.clone(), None, body);
            };
            if pct {
                shuttle::check_pct(f, iterations, 2)
            } else {
                shuttle::check_random(f, iterations)
            }
        });
        if let Err(p) = r {
            // PCT refuses a body whose schedules never offer a choice: it has one
            // interleaving, which the random run has already run.
            if pct && panic_text(p.as_ref()).contains("did not exercise any concurrency") {
                let _ = take_last_report();
                continue;
            }
            return Err(Box::new(take_last_report().unwrap_or_else(|| {
                panic!(
                    "shuttle failed outside a checked execution: {:?}",
                    p.downcast_ref::<String>()
                )
            })));
        }
    }
    Ok(2 * iterations)
}

/// Like [`shuttle_with`], with fixed seeds (deterministic): `iterations` random schedules
/// from `seed`, then `iterations` PCT schedules at depth 2 and at depth 3.
pub fn shuttle_seeded(
    config: WorldConfig,
    iterations: usize,
    seed: u64,
    body: fn(),
) -> Result<usize, Box<ExecutionReport>> {
    use shuttle::scheduler::{PctScheduler, RandomScheduler, Scheduler};
    let schedulers: Vec<Box<dyn Scheduler + Send>> = vec![
        Box::new(RandomScheduler::new_from_seed(seed, iterations)),
        Box::new(PctScheduler::new_from_seed(seed, 2, iterations)),
        Box::new(PctScheduler::new_from_seed(seed, 3, iterations)),
    ];
    for scheduler in schedulers {
        let cfg = config.clone();
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || {
            let mut c = shuttle::Config::new();
            c.failure_persistence = shuttle::FailurePersistence::None;
            shuttle::Runner::new(scheduler, c).run(move || {
                execute::<ShuttleEngine>(cfg.clone(), None, body);
            })
        }));
        if let Err(p) = r {
            let report = take_last_report();
            // PCT refuses a body whose schedules never offer a choice: its one
            // interleaving was already run by the random scheduler.
            let failed = report.as_ref().is_some_and(|r| r.failure.is_some());
            if !failed && panic_text(p.as_ref()).contains("did not exercise any concurrency") {
                continue;
            }
            return Err(Box::new(report.unwrap_or_default()));
        }
    }
    Ok(3 * iterations)
}

fn panic_text(p: &(dyn std::any::Any + Send)) -> String {
    p.downcast_ref::<String>()
        .cloned()
        .or_else(|| p.downcast_ref::<&str>().map(|s| (*s).to_owned()))
        .unwrap_or_default()
}

/// `shuttle_with` with timed virtual time.
pub fn shuttle_check(body: fn(), iterations: usize) -> Result<usize, Box<ExecutionReport>> {
    shuttle_with(WorldConfig::default(), iterations, body)
}

/// The number of executions of a run that must pass (at least one); on a failure, panic
/// with it and the end of its trace.
pub fn passes(r: Result<usize, Box<ExecutionReport>>) -> usize {
    match r {
        Ok(n) => {
            assert!(n > 0, "no execution ran");
            n
        }
        Err(rep) => {
            let tail = rep.trace.len().saturating_sub(30);
            panic!(
                "failed: {:?}\nlast steps: {:#?}",
                rep.failure,
                &rep.trace[tail..]
            )
        }
    }
}

/// Inside a checked execution: fail it with `property` (and `message`) unless `ok`.
pub fn check(ok: bool, property: &str, message: impl Fn() -> String) {
    if !ok {
        lockproof::backend::checked::violate(property, &message());
    }
}

/// `holds!(bound, runs; f, g, …)`: every execution of each generic body `f::<B>()` passes
/// under loom (preemption bound `bound`) and under `runs` random and `runs` PCT shuttle
/// schedules; a failure panics with its report ([`passes`]).
#[allow(unused_macros)] // each test file uses a different subset
macro_rules! holds {
    ($bound:expr, $runs:expr; $($body:ident),+ $(,)?) => {{
        $(
            $crate::support::passes($crate::support::loom_with(
                ::lockproof::backend::checked::WorldConfig::default(),
                Some($bound),
                $body::<::lockproof::backend::Loom>,
            ));
        )+
        $(
            $crate::support::passes($crate::support::shuttle_check(
                $body::<::lockproof::backend::Shuttle>,
                $runs,
            ));
        )+
    }};
}
#[allow(unused_imports)]
pub(crate) use holds;

/// Silence the default panic hook's output for the panics checked executions raise on
/// purpose (a failing model); call once at the start of a test that expects failures.
pub fn quiet_panics() {
    std::panic::set_hook(Box::new(|_| {}));
}

// ---- real-thread helpers for the conformance suites -----------------------------------

use lockproof::{Error, PyException};
use std::time::{Duration, Instant};

/// Spin (yielding) until `cond` holds. The watchdog is not a timing assertion: it turns a
/// hang into a failure that names what never happened.
pub fn spin_until(what: &str, cond: impl Fn() -> bool) {
    let start = Instant::now();
    while !cond() {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "never happened: {what}"
        );
        std::thread::yield_now();
    }
}

/// Keep running (yielding) for `d`, checking `still` every turn: how a test shows that
/// something does *not* happen for a while, without sleeping.
pub fn for_a_while(d: Duration, still: impl Fn() -> bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < d {
        if !still() {
            return false;
        }
        std::thread::yield_now();
    }
    still()
}

/// How long [`for_a_while`] watches for something that must not happen.
pub const A_WHILE: Duration = Duration::from_millis(50);

/// Assert `r` is exactly `want`, that it is the Python class `exc`, with message `msg`.
pub fn assert_err<T: std::fmt::Debug>(
    r: lockproof::Result<T>,
    want: Error,
    exc: PyException,
    msg: &str,
) {
    let e = r.expect_err("expected an error");
    assert_eq!(e, want);
    assert_eq!(e.exception(), exc);
    assert_eq!(e.to_string(), msg);
}

/// CPython's exception class and message for `e`: what `raises` compares an error with.
pub fn python(e: &Error) -> (PyException, String) {
    use PyException::*;
    let (class, msg) = match e {
        Error::NonBlockingTimeout => (
            ValueError,
            "can't specify a timeout for a non-blocking call",
        ),
        Error::SemaphoreNonBlockingTimeout => {
            (ValueError, "can't specify timeout for non-blocking acquire")
        }
        Error::NegativeTimeout => (ValueError, "timeout value must be positive"),
        Error::NanTimeout => (ValueError, "Invalid value NaN (not a number)"),
        Error::TimeoutOverflow => (OverflowError, "timestamp out of range for platform time_t"),
        Error::ReleaseUnlocked => (RuntimeError, "release unlocked lock"),
        Error::ReleaseUnacquired => (RuntimeError, "cannot release un-acquired lock"),
        Error::WaitUnacquired => (RuntimeError, "cannot wait on un-acquired lock"),
        Error::NotifyUnacquired => (RuntimeError, "cannot notify on un-acquired lock"),
        Error::SemaphoreNegative => (ValueError, "semaphore initial value must be >= 0"),
        Error::ReleaseCount => (ValueError, "n must be one or more"),
        Error::SemaphoreOverflow => (OverflowError, "semaphore value too large"),
        Error::ReleasedTooManyTimes => (ValueError, "Semaphore released too many times"),
        Error::BarrierParties => (ValueError, "parties must be > 0"),
        Error::BrokenBarrier => (BrokenBarrierError, ""),
        Error::BarrierAction(text) => return (RuntimeError, text.clone()),
        other => panic!("no CPython message known for {other:?}"),
    };
    (class, msg.to_owned())
}

/// Assert `r` is exactly the error `want`, with CPython's class and message for it
/// ([`python`]).
pub fn raises<T: std::fmt::Debug>(r: lockproof::Result<T>, want: Error) {
    let (exc, msg) = python(&want);
    assert_err(r, want, exc, &msg);
}

/// Assert a timed call lasted at least `secs` (the point of a timeout test: it waited).
pub fn assert_waited(start: Instant, secs: f64) {
    let dt = start.elapsed();
    assert!(
        dt >= Duration::from_secs_f64(secs),
        "returned after {dt:?}, before its {secs} s timeout"
    );
}

/// The tests `Lib/test/lock_tests.py`'s `BaseLockTests` runs on both `Lock` and `RLock`,
/// written once: `base_lock_tests!(Lock, |l: &Lock| l.locked() as usize)` defines the
/// `lock_tests_*` tests below for that type. `depth(&lock)` is how deep the calling thread
/// holds it (Lock: 1 if locked; RLock: its recursion count here, 0 for another thread).
#[allow(unused_macros)]
macro_rules! base_lock_tests {
    ($T:ty, $depth:expr) => {
        fn depth(lock: &$T) -> usize {
            let f: fn(&$T) -> usize = $depth;
            f(lock)
        }

        /// Another thread can take `lock` at once (and gives it back).
        fn free_elsewhere(lock: &$T) {
            ::std::thread::scope(|s| {
                s.spawn(|| {
                    assert!(lock.try_acquire(), "the lock is not free");
                    lock.release().unwrap();
                });
            });
        }

        #[test]
        fn lock_tests_acquire_destroy() {
            {
                let lock = <$T>::new();
                assert!(lock.acquire());
                assert_eq!(depth(&lock), 1);
            } // dropped while held: fine
        }

        #[test]
        fn lock_tests_acquire_release() {
            let lock = <$T>::new();
            assert!(lock.acquire());
            assert_eq!(lock.release(), Ok(()));
            assert_eq!(depth(&lock), 0);
        }

        #[test]
        fn lock_tests_try_acquire() {
            let lock = <$T>::new();
            assert!(lock.try_acquire());
            assert_eq!(depth(&lock), 1);
            lock.release().unwrap();
        }

        #[test]
        fn lock_tests_try_acquire_contended() {
            let lock = <$T>::new();
            assert!(lock.acquire());
            let got = ::std::thread::scope(|s| s.spawn(|| lock.try_acquire()).join().unwrap());
            assert!(!got);
            lock.release().unwrap();
        }

        #[test]
        fn lock_tests_acquire_contended() {
            use ::std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
            const N: usize = 5;
            let lock = <$T>::new();
            assert!(lock.acquire());
            let started = AtomicUsize::new(0);
            let finished = AtomicUsize::new(0);
            let released = AtomicBool::new(false);
            ::std::thread::scope(|s| {
                for _ in 0..N {
                    s.spawn(|| {
                        started.fetch_add(1, SeqCst);
                        assert!(lock.acquire());
                        assert!(
                            released.load(SeqCst),
                            "acquired a lock the main thread held"
                        );
                        lock.release().unwrap();
                        finished.fetch_add(1, SeqCst);
                    });
                }
                $crate::support::spin_until("all threads started", || started.load(SeqCst) == N);
                assert_eq!(finished.load(SeqCst), 0);
                released.store(true, SeqCst);
                lock.release().unwrap();
            });
            assert_eq!(finished.load(SeqCst), N);
            assert_eq!(depth(&lock), 0);
            free_elsewhere(&lock);
        }

        #[test]
        fn lock_tests_with() {
            let lock = <$T>::new();
            {
                let _g = lock.lock();
                assert_eq!(depth(&lock), 1);
            }
            // The lock is unacquired: another thread can take it.
            free_elsewhere(&lock);
            // A panic (Python: an exception) inside the block propagates and releases it.
            let r = ::std::panic::catch_unwind(|| {
                let _g = lock.lock();
                ::std::panic::panic_any(42_u32);
            });
            assert_eq!(r.unwrap_err().downcast_ref::<u32>(), Some(&42));
            free_elsewhere(&lock);
        }

        /// Python checks no `Thread` object leaks for foreign threads; Rust has no thread
        /// registry, so what remains is that many short-lived threads using the lock all
        /// finish and leave it free.
        #[test]
        fn lock_tests_thread_leak() {
            use ::std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
            let lock = <$T>::new();
            let finished = AtomicUsize::new(0);
            ::std::thread::scope(|s| {
                for _ in 0..15 {
                    s.spawn(|| {
                        assert!(lock.acquire());
                        lock.release().unwrap();
                        finished.fetch_add(1, SeqCst);
                    });
                }
            });
            assert_eq!(finished.load(SeqCst), 15);
            assert_eq!(depth(&lock), 0);
            assert!(lock.try_acquire());
        }

        #[test]
        fn lock_tests_timeout() {
            use ::lockproof::{Error, TIMEOUT_MAX};
            use $crate::support::raises;
            let lock = <$T>::new();
            // Can't set a timeout if not blocking.
            raises(lock.acquire_with(false, 1.0), Error::NonBlockingTimeout);
            // Invalid timeout values.
            raises(lock.acquire_timeout(-100.0), Error::NegativeTimeout);
            raises(lock.acquire_timeout(1e100), Error::TimeoutOverflow);
            raises(
                lock.acquire_timeout(TIMEOUT_MAX + 1.0),
                Error::TimeoutOverflow,
            );
            assert_eq!(depth(&lock), 0);
            // TIMEOUT_MAX is ok.
            assert_eq!(lock.acquire_timeout(TIMEOUT_MAX), Ok(true));
            lock.release().unwrap();
            assert_eq!(lock.acquire_timeout(5.0), Ok(true));
            // Another thread times out on the held lock.
            ::std::thread::scope(|s| {
                s.spawn(|| {
                    let t = ::std::time::Instant::now();
                    assert_eq!(lock.acquire_timeout(0.05), Ok(false));
                    $crate::support::assert_waited(t, 0.05);
                });
            });
            assert_eq!(depth(&lock), 1);
        }
    };
}
#[allow(unused_imports)]
pub(crate) use base_lock_tests;

// ---- Event waiters on real threads (rules_ch5, conformance_event) ------------------------

use lockproof::Event;
use std::sync::Mutex;

/// `n` threads each call `evt.wait(timeout)` once; their results, in the order they
/// returned. [`Waiters::start`] returns once every thread has started (not necessarily
/// blocked: an `Event` does not count its waiters).
pub struct Waiters {
    started: Arc<AtomicUsize>,
    results: Arc<Mutex<Vec<lockproof::Result<bool>>>>,
    handles: Vec<std::thread::JoinHandle<()>>,
}

impl Waiters {
    /// Start `n` threads, each calling `evt.wait(timeout)` once.
    pub fn start(evt: &Arc<Event>, n: usize, timeout: Option<f64>) -> Self {
        let started = Arc::new(AtomicUsize::new(0));
        let results = Arc::new(Mutex::new(Vec::new()));
        let handles = (0..n)
            .map(|_| {
                let (evt, started, results) = (evt.clone(), started.clone(), results.clone());
                std::thread::spawn(move || {
                    started.fetch_add(1, Ordering::SeqCst);
                    let r = evt.wait(timeout);
                    results.lock().unwrap().push(r);
                })
            })
            .collect();
        let w = Waiters {
            started,
            results,
            handles,
        };
        spin_until("all waiters started", || {
            w.started.load(Ordering::SeqCst) == n
        });
        w
    }

    /// How many have returned so far.
    pub fn returned(&self) -> usize {
        self.results.lock().unwrap().len()
    }

    /// Run `set(); clear()` on `evt` until every waiter has returned (bpo-13502: each wait
    /// ended by a `set()` returns True although the flag is clear again when it runs). The
    /// repetition makes the outcome independent of when the waiters got to block.
    pub fn set_clear_until_returned(&self, evt: &Event) {
        while self.returned() < self.handles.len() {
            evt.set();
            evt.clear();
            std::thread::yield_now();
        }
    }

    /// Join every waiter; the results in the order they returned.
    pub fn join(self) -> Vec<lockproof::Result<bool>> {
        for h in self.handles {
            h.join().unwrap();
        }
        Arc::try_unwrap(self.results)
            .expect("all joined")
            .into_inner()
            .unwrap()
    }
}

/// Every kind of timeout `Event.wait` takes: none, zero, negative, too large to wait on,
/// infinite and NaN. A wait on a set event returns True for each, at once, without
/// looking at it.
pub const EVENT_TIMEOUTS: [Option<f64>; 6] = [
    None,
    Some(0.0),
    Some(-1.0),
    Some(1e100),
    Some(f64::INFINITY),
    Some(f64::NAN),
];

/// The timeouts with which `Event.wait` only polls: zero, negative and NaN (unlike
/// `Lock.acquire`, where -1 waits forever). A wait on a clear event returns False at once
/// for each.
pub const POLL_TIMEOUTS: [f64; 4] = [0.0, -1.0, f64::NAN, f64::NEG_INFINITY];

// ---- Barrier helpers on real threads (rules_ch6, conformance_barrier) ---------------------

use lockproof::{Barrier, BarrierAction};

/// `Barrier(parties)`: no action, no default timeout.
pub fn barrier(parties: usize) -> Barrier {
    Barrier::new(parties, None, None).unwrap()
}

/// Assert `r` is `BrokenBarrierError()`, with CPython's class and (empty) message.
pub fn broken<T: std::fmt::Debug>(r: lockproof::Result<T>) {
    raises(r, Error::BrokenBarrier);
}

/// A barrier action that counts its runs in `runs`.
pub fn counting(runs: &Arc<AtomicUsize>) -> Option<BarrierAction> {
    let runs = runs.clone();
    Some(Box::new(move || {
        runs.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }))
}

/// `n` threads each run `f(i)` for `i` in `0..n`; their results in `i` order.
pub fn parties<T: Send>(n: usize, f: impl Fn(usize) -> T + Sync) -> Vec<T> {
    std::thread::scope(|s| {
        let f = &f;
        let hs: Vec<_> = (0..n).map(|i| s.spawn(move || f(i))).collect();
        hs.into_iter().map(|h| h.join().unwrap()).collect()
    })
}

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

/// Assert a timed call lasted at least `secs` (the point of a timeout test: it waited).
pub fn assert_waited(start: Instant, secs: f64) {
    let dt = start.elapsed();
    assert!(
        dt >= Duration::from_secs_f64(secs),
        "returned after {dt:?}, before its {secs} s timeout"
    );
}

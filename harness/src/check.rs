//! Checking one scenario under several engines, shortest counterexample first.
//!
//! - dfs: preemption bound 0, then 1, … up to the budget's bound, each bound enumerated to
//!   its end; the first bound that fails gives a counterexample with the fewest
//!   preemptions. When every bound was covered and nothing failed, a run without a bound
//!   tries to cover every schedule ("exhausted" then means every schedule was run).
//! - loom: preemption bound 0, then 1, … up to the budget's bound — loom's bounded search
//!   finds most shallow bugs fast but is not complete within its bound (see `engine`), so
//!   no bound is reported exhausted; when nothing failed, loom runs without a bound, which
//!   is complete, and says "exhausted" if it ends within the budget.
//! - pct: depth 1, then 2, then 3.
//! - random: the budget's executions (the search: its seed, and the execution that failed
//!   first); when one fails, a few more seeds are tried and the failure with the fewest
//!   preemptions (then the shortest trace) is kept (the shortening, counted apart).
//!
//! A failing run is saved as a schedule file unless one with the same trace is already
//! saved for that scenario and engine (the same counterexample is not written twice; a new
//! one never overwrites an old one).

use crate::child::Runner;
use crate::engine::{EngineKind, Found, RunOutcome, RunSettings, Shortening};
use crate::schedule::ScheduleFile;
use crate::trace;
use lockproof_scenario::{Expect, Scenario, Spurious};
use std::path::{Path, PathBuf};
use std::time::Duration;

pub use crate::engine::Family;

/// How much work a check may do per scenario and engine.
///
/// # Examples
///
/// ```
/// # use lockproof::backend::{Backend, JoinHandle};
/// # use std::sync::Arc;
/// # struct Ordered;
/// # impl lockproof_harness::Model for Ordered {
/// #     fn run<B: Backend>(&self) {
/// #         let (a, b) = (Arc::new(lockproof::Lock::<B>::new()), Arc::new(lockproof::Lock::<B>::new()));
/// #         let (a2, b2) = (a.clone(), b.clone());
/// #         let t = B::spawn("t", move || { let _a = a2.lock(); let _b = b2.lock(); });
/// #         { let _a = a.lock(); let _b = b.lock(); }
/// #         t.join();
/// #     }
/// # }
/// use lockproof_harness::{Budget, Check, Family};
///
/// let budget = Budget { shuttle_executions: 100, ..Budget::ci() };
/// Check::new(Ordered).engines([Family::Random]).budget(budget).no_save().assert_holds();
/// ```
#[derive(Clone, Debug)]
pub struct Budget {
    /// loom executions per bound.
    pub loom_executions: usize,
    /// The highest preemption bound tried by loom and dfs.
    pub max_bound: usize,
    /// shuttle executions per run (random, each PCT depth, each dfs bound).
    pub shuttle_executions: usize,
    /// The highest PCT depth tried.
    pub pct_max_depth: usize,
    /// Extra random runs to look for a shorter counterexample.
    pub shorten_runs: usize,
    /// Seed of the first shuttle run.
    pub seed: u64,
}

impl Budget {
    /// The CI budget: every self-test and corpus verdict, in a few minutes on 2 cores.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof_harness::Budget;
    ///
    /// let b = Budget::ci();
    /// assert!(b.max_bound >= 1 && b.shuttle_executions > 0);
    /// ```
    pub fn ci() -> Budget {
        Budget {
            loom_executions: 20_000,
            max_bound: 2,
            shuttle_executions: 2_000,
            pct_max_depth: 3,
            shorten_runs: 8,
            seed: 1,
        }
    }
}

/// What a check asks for besides the budget.
///
/// # Examples
///
/// ```
/// # use lockproof::backend::{Backend, JoinHandle};
/// # use std::sync::Arc;
/// # struct Abba;
/// # impl lockproof_harness::Model for Abba {
/// #     fn run<B: Backend>(&self) {
/// #         let (a, b) = (Arc::new(lockproof::Lock::<B>::new()), Arc::new(lockproof::Lock::<B>::new()));
/// #         let (a2, b2) = (a.clone(), b.clone());
/// #         let t = B::spawn("t", move || { let _b = b2.lock(); let _a = a2.lock(); });
/// #         { let _a = a.lock(); let _b = b.lock(); }
/// #         t.join();
/// #     }
/// # }
/// # fn request() -> lockproof_harness::check::Request {
/// #     lockproof_harness::check::Request {
/// #         families: vec![lockproof_harness::Family::Dfs],
/// #         budget: lockproof_harness::Budget::ci(),
/// #         save_root: None,
/// #         runner: lockproof_harness::child::Runner::InProcess,
/// #     }
/// # }
/// use lockproof_harness::check::{check_scenario, Request, Verdict};
/// use lockproof_harness::child::Runner;
/// use lockproof_harness::{Budget, Check, Expect, Family};
///
/// let mut s = Check::new(Abba).as_scenario();
/// s.expect = Expect::Violates("deadlock");
/// let req = Request {
///     families: vec![Family::Dfs],
///     budget: Budget::ci(),
///     save_root: None, // save nothing
///     runner: Runner::InProcess,
/// };
/// assert_eq!(check_scenario(&s, &req)[0].verdict, Verdict::Met);
/// ```
#[derive(Clone, Debug)]
pub struct Request {
    /// The engines to run.
    pub families: Vec<Family>,
    /// The budget.
    pub budget: Budget,
    /// Where to save schedules (`<root>/schedules/…`); `None` saves nothing.
    pub save_root: Option<PathBuf>,
    /// Where engine runs execute (a child process protects the caller from loom's
    /// aborts and keeps shuttle's notes off the terminal).
    pub runner: Runner,
}

/// Whether a run met the scenario's expected verdict.
///
/// # Examples
///
/// ```
/// # use lockproof::backend::{Backend, JoinHandle};
/// # use std::sync::Arc;
/// # struct Abba;
/// # impl lockproof_harness::Model for Abba {
/// #     fn run<B: Backend>(&self) {
/// #         let (a, b) = (Arc::new(lockproof::Lock::<B>::new()), Arc::new(lockproof::Lock::<B>::new()));
/// #         let (a2, b2) = (a.clone(), b.clone());
/// #         let t = B::spawn("t", move || { let _b = b2.lock(); let _a = a2.lock(); });
/// #         { let _a = a.lock(); let _b = b.lock(); }
/// #         t.join();
/// #     }
/// # }
/// # fn request() -> lockproof_harness::check::Request {
/// #     lockproof_harness::check::Request {
/// #         families: vec![lockproof_harness::Family::Dfs],
/// #         budget: lockproof_harness::Budget::ci(),
/// #         save_root: None,
/// #         runner: lockproof_harness::child::Runner::InProcess,
/// #     }
/// # }
/// use lockproof_harness::check::{check_scenario, Verdict};
/// use lockproof_harness::Check;
///
/// // The scenario of a `Check` expects to hold; the ABBA model deadlocks.
/// let s = Check::new(Abba).as_scenario();
/// match &check_scenario(&s, &request())[0].verdict {
///     Verdict::Unmet(why) => assert!(why.starts_with("expected to hold, found deadlock")),
///     other => panic!("{other:?}"),
/// }
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// As expected.
    Met,
    /// Not as expected: what was seen.
    Unmet(String),
    /// The engine cannot run this scenario: why.
    Unsupported(String),
}

/// One engine's result for one scenario.
///
/// # Examples
///
/// ```
/// # use lockproof::backend::{Backend, JoinHandle};
/// # use std::sync::Arc;
/// # struct Abba;
/// # impl lockproof_harness::Model for Abba {
/// #     fn run<B: Backend>(&self) {
/// #         let (a, b) = (Arc::new(lockproof::Lock::<B>::new()), Arc::new(lockproof::Lock::<B>::new()));
/// #         let (a2, b2) = (a.clone(), b.clone());
/// #         let t = B::spawn("t", move || { let _b = b2.lock(); let _a = a2.lock(); });
/// #         { let _a = a.lock(); let _b = b.lock(); }
/// #         t.join();
/// #     }
/// # }
/// # fn request() -> lockproof_harness::check::Request {
/// #     lockproof_harness::check::Request {
/// #         families: vec![lockproof_harness::Family::Dfs],
/// #         budget: lockproof_harness::Budget::ci(),
/// #         save_root: None,
/// #         runner: lockproof_harness::child::Runner::InProcess,
/// #     }
/// # }
/// use lockproof_harness::check::check_scenario;
/// use lockproof_harness::Check;
///
/// let results = check_scenario(&Check::new(Abba).as_scenario(), &request());
/// let r = &results[0];
/// assert_eq!(r.family, lockproof_harness::Family::Dfs);
/// assert!(r.outcome.found.is_some());
/// assert_eq!(r.saved, None); // `request()` has no save root
/// ```
#[derive(Clone, Debug)]
pub struct EngineResult {
    /// The engine family.
    pub family: Family,
    /// The (last) run's outcome; `executions` counts every run of the family.
    pub outcome: RunOutcome,
    /// The verdict.
    pub verdict: Verdict,
    /// The schedule file written, if any.
    pub saved: Option<PathBuf>,
    /// An existing schedule file with the same counterexample, if one was found.
    pub already_saved: Option<PathBuf>,
}

/// Why an engine cannot run a scenario at all, if it cannot.
///
/// # Examples
///
/// ```
/// # use lockproof::backend::{Backend, JoinHandle};
/// # use std::sync::Arc;
/// # struct Abba;
/// # impl lockproof_harness::Model for Abba {
/// #     fn run<B: Backend>(&self) {
/// #         let (a, b) = (Arc::new(lockproof::Lock::<B>::new()), Arc::new(lockproof::Lock::<B>::new()));
/// #         let (a2, b2) = (a.clone(), b.clone());
/// #         let t = B::spawn("t", move || { let _b = b2.lock(); let _a = a2.lock(); });
/// #         { let _a = a.lock(); let _b = b.lock(); }
/// #         t.join();
/// #     }
/// # }
/// # fn request() -> lockproof_harness::check::Request {
/// #     lockproof_harness::check::Request {
/// #         families: vec![lockproof_harness::Family::Dfs],
/// #         budget: lockproof_harness::Budget::ci(),
/// #         save_root: None,
/// #         runner: lockproof_harness::child::Runner::InProcess,
/// #     }
/// # }
/// use lockproof_harness::check::unsupported;
/// use lockproof_harness::{Check, Family};
///
/// let s = Check::new(Abba).as_scenario();
/// assert_eq!(unsupported(&s, Family::Loom), None); // two threads: loom runs it
/// let mut many = s.clone();
/// many.threads = 10;
/// assert!(unsupported(&many, Family::Loom).unwrap().contains("at most"));
/// assert_eq!(unsupported(&many, Family::Random), None);
/// ```
pub fn unsupported(s: &Scenario, family: Family) -> Option<String> {
    if let Some((_, why)) = s.not_for.iter().find(|(f, _)| *f == family.as_str()) {
        return Some((*why).to_owned());
    }
    if family != Family::Loom {
        return None;
    }
    if s.needs_choice {
        return Some(
            "loom has no choice operator; this scenario needs one (a random value, or which of \
             several pending timeouts fires)"
                .into(),
        );
    }
    // Without a choice operator, loom injects through one more thread (the checker's
    // environment thread), which counts toward its limit.
    let injects = s.spurious == Spurious::On
        || s.time == lockproof::backend::checked::TimeMode::Adversarial
        || s.crashes > 0
        || s.pauses > 0;
    let limit = loom::MAX_THREADS - 1 - usize::from(injects);
    if s.threads > limit {
        return Some(if injects {
            format!(
                "loom runs at most {limit} threads besides main when it injects timeouts, \
                 spurious wakeups, crashes or pauses (one more thread does it); this scenario \
                 starts {}",
                s.threads
            )
        } else {
            format!(
                "loom runs at most {limit} threads besides main; this scenario starts {}",
                s.threads
            )
        });
    }
    None
}

/// A duration in nanoseconds, saturating.
///
/// # Examples
///
/// ```
/// # use lockproof::backend::{Backend, JoinHandle};
/// # use std::sync::Arc;
/// # struct Abba;
/// # impl lockproof_harness::Model for Abba {
/// #     fn run<B: Backend>(&self) {
/// #         let (a, b) = (Arc::new(lockproof::Lock::<B>::new()), Arc::new(lockproof::Lock::<B>::new()));
/// #         let (a2, b2) = (a.clone(), b.clone());
/// #         let t = B::spawn("t", move || { let _b = b2.lock(); let _a = a2.lock(); });
/// #         { let _a = a.lock(); let _b = b.lock(); }
/// #         t.join();
/// #     }
/// # }
/// # fn request() -> lockproof_harness::check::Request {
/// #     lockproof_harness::check::Request {
/// #         families: vec![lockproof_harness::Family::Dfs],
/// #         budget: lockproof_harness::Budget::ci(),
/// #         save_root: None,
/// #         runner: lockproof_harness::child::Runner::InProcess,
/// #     }
/// # }
/// use lockproof_harness::check::nanos;
/// use std::time::Duration;
///
/// assert_eq!(nanos(Duration::from_millis(3)), 3_000_000);
/// assert_eq!(nanos(Duration::MAX), u64::MAX); // saturates
/// ```
pub fn nanos(d: std::time::Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

fn settings(s: &Scenario, engine: EngineKind, executions: usize, seed: u64) -> RunSettings {
    RunSettings {
        engine,
        time: s.time,
        spurious: s.spurious == Spurious::On,
        crashes: s.crashes,
        pauses: s.pauses,
        pause_span: nanos(s.pause_span),
        liveness: s.liveness,
        max_steps: s.max_steps,
        executions,
        seed,
    }
}

/// The property an engine's own limit is reported under (loom's thread limit, a model that
/// needs a choice operator loom lacks).
///
/// # Examples
///
/// ```
/// # use lockproof::backend::{Backend, JoinHandle};
/// # use std::sync::Arc;
/// # struct Abba;
/// # impl lockproof_harness::Model for Abba {
/// #     fn run<B: Backend>(&self) {
/// #         let (a, b) = (Arc::new(lockproof::Lock::<B>::new()), Arc::new(lockproof::Lock::<B>::new()));
/// #         let (a2, b2) = (a.clone(), b.clone());
/// #         let t = B::spawn("t", move || { let _b = b2.lock(); let _a = a2.lock(); });
/// #         { let _a = a.lock(); let _b = b.lock(); }
/// #         t.join();
/// #     }
/// # }
/// # fn request() -> lockproof_harness::check::Request {
/// #     lockproof_harness::check::Request {
/// #         families: vec![lockproof_harness::Family::Dfs],
/// #         budget: lockproof_harness::Budget::ci(),
/// #         save_root: None,
/// #         runner: lockproof_harness::child::Runner::InProcess,
/// #     }
/// # }
/// use lockproof_harness::check::ENGINE_LIMIT;
///
/// assert_eq!(ENGINE_LIMIT, "engine-limit");
/// ```
pub const ENGINE_LIMIT: &str = "engine-limit";

fn run_one(s: &Scenario, st: &RunSettings, req: &Request) -> RunOutcome {
    let mut out = req.runner.run(s, st);
    // The model outgrew what the engine can run (it spawned more threads than the engine
    // allows, or asked for a choice): the engine cannot run it, which is not a verdict on
    // the model. The thread count is thus checked against what the model really spawns.
    if let Some(f) = out.found.take_if(|f| f.property == ENGINE_LIMIT) {
        let why = f
            .message
            .strip_prefix(&format!("{ENGINE_LIMIT} violated: "))
            .unwrap_or(&f.message)
            .to_owned();
        out.unsupported = Some(why);
    }
    out
}

/// The engine runs of a family, in order (the unbounded run of loom and dfs comes last and
/// runs only when no bounded run failed).
fn family_steps(family: Family, b: &Budget) -> Vec<EngineKind> {
    match family {
        Family::Loom => (0..=b.max_bound)
            .map(|bound| EngineKind::Loom { bound: Some(bound) })
            .chain([EngineKind::Loom { bound: None }])
            .collect(),
        Family::Dfs => (0..=b.max_bound)
            .map(|bound| EngineKind::Dfs { bound: Some(bound) })
            .chain([EngineKind::Dfs { bound: None }])
            .collect(),
        Family::Pct => (1..=b.pct_max_depth)
            .map(|depth| EngineKind::Pct { depth })
            .collect(),
        Family::Random => vec![EngineKind::Random],
    }
}

fn better(a: &Found, b: &Found) -> bool {
    let len = |f: &Found| f.report.as_ref().map_or(usize::MAX, |r| r.trace.len());
    (a.preemptions, len(a)) < (b.preemptions, len(b))
}

/// Run `s` under one engine family, shortest counterexample first.
///
/// # Examples
///
/// ```
/// # use lockproof::backend::{Backend, JoinHandle};
/// # use std::sync::Arc;
/// # struct Abba;
/// # impl lockproof_harness::Model for Abba {
/// #     fn run<B: Backend>(&self) {
/// #         let (a, b) = (Arc::new(lockproof::Lock::<B>::new()), Arc::new(lockproof::Lock::<B>::new()));
/// #         let (a2, b2) = (a.clone(), b.clone());
/// #         let t = B::spawn("t", move || { let _b = b2.lock(); let _a = a2.lock(); });
/// #         { let _a = a.lock(); let _b = b.lock(); }
/// #         t.join();
/// #     }
/// # }
/// # fn request() -> lockproof_harness::check::Request {
/// #     lockproof_harness::check::Request {
/// #         families: vec![lockproof_harness::Family::Dfs],
/// #         budget: lockproof_harness::Budget::ci(),
/// #         save_root: None,
/// #         runner: lockproof_harness::child::Runner::InProcess,
/// #     }
/// # }
/// use lockproof_harness::check::run_family;
/// use lockproof_harness::engine::{EngineKind, FailureKind};
/// use lockproof_harness::{Check, Family};
///
/// let out = run_family(&Check::new(Abba).as_scenario(), Family::Dfs, &request());
/// let found = out.found.expect("ABBA deadlocks");
/// assert_eq!(found.kind, FailureKind::Deadlock);
/// // Bounds are tried from 0 up: the counterexample has the fewest preemptions.
/// assert_eq!(out.settings.engine, EngineKind::Dfs { bound: Some(found.preemptions) });
/// ```
pub fn run_family(s: &Scenario, family: Family, req: &Request) -> RunOutcome {
    let b = &req.budget;
    let mut total = 0;
    let mut elapsed = Duration::ZERO;
    let mut last = None;
    let mut shortening = None;
    for kind in family_steps(family, b) {
        let n = if family == Family::Loom {
            b.loom_executions
        } else {
            b.shuttle_executions
        };
        let st = settings(s, kind, n, b.seed);
        let mut out = run_one(s, &st, req);
        total += out.executions;
        elapsed += out.elapsed;
        if family == Family::Random && out.found.is_some() {
            // Look for a failure with fewer preemptions among a few more seeds; the search
            // (this seed, the execution that failed) is reported apart from this.
            let first_at = out.found.as_ref().map_or(0, |f| f.execution);
            let mut sh = Shortening {
                search_seed: b.seed,
                search_found_at: first_at,
                runs: 0,
                executions: 0,
            };
            for extra in 1..=b.shorten_runs as u64 {
                let st2 = settings(s, kind, n, b.seed.wrapping_add(extra * 7919));
                let o2 = run_one(s, &st2, req);
                sh.runs += 1;
                sh.executions += o2.executions;
                elapsed += o2.elapsed;
                if let (Some(f2), Some(f1)) = (&o2.found, &out.found) {
                    if f2.kind.family() == f1.kind.family()
                        && f2.property == f1.property
                        && better(f2, f1)
                    {
                        out = RunOutcome {
                            executions: out.executions,
                            ..o2
                        };
                    }
                }
            }
            shortening = Some(sh);
        }
        // A bounded dfs run that ran out of budget: a higher bound would only be larger.
        let budget_out = family == Family::Dfs && !out.exhausted && kind.bound().is_some();
        let stop = out.found.is_some() || out.unsupported.is_some() || budget_out;
        last = Some(out);
        if stop {
            break;
        }
    }
    let mut out = last.expect("at least one engine step");
    out.executions = total;
    out.elapsed = elapsed;
    out.shortening = shortening;
    out
}

/// The verdict of `outcome` against what `s` expects.
///
/// # Examples
///
/// ```
/// # use lockproof::backend::{Backend, JoinHandle};
/// # use std::sync::Arc;
/// # struct Abba;
/// # impl lockproof_harness::Model for Abba {
/// #     fn run<B: Backend>(&self) {
/// #         let (a, b) = (Arc::new(lockproof::Lock::<B>::new()), Arc::new(lockproof::Lock::<B>::new()));
/// #         let (a2, b2) = (a.clone(), b.clone());
/// #         let t = B::spawn("t", move || { let _b = b2.lock(); let _a = a2.lock(); });
/// #         { let _a = a.lock(); let _b = b.lock(); }
/// #         t.join();
/// #     }
/// # }
/// # fn request() -> lockproof_harness::check::Request {
/// #     lockproof_harness::check::Request {
/// #         families: vec![lockproof_harness::Family::Dfs],
/// #         budget: lockproof_harness::Budget::ci(),
/// #         save_root: None,
/// #         runner: lockproof_harness::child::Runner::InProcess,
/// #     }
/// # }
/// use lockproof_harness::check::{judge, run_family, Verdict};
/// use lockproof_harness::{Check, Expect, Family};
///
/// let mut s = Check::new(Abba).as_scenario();
/// let out = run_family(&s, Family::Dfs, &request());
/// s.expect = Expect::Violates("deadlock");
/// assert_eq!(judge(&s, &out), Verdict::Met);
/// s.expect = Expect::Violates("mutual-exclusion");
/// assert!(matches!(judge(&s, &out), Verdict::Unmet(_)));
/// ```
pub fn judge(s: &Scenario, outcome: &RunOutcome) -> Verdict {
    if let Some(why) = &outcome.unsupported {
        return Verdict::Unsupported(why.clone());
    }
    match (&s.expect, &outcome.found) {
        (Expect::Holds, None) => Verdict::Met,
        (Expect::Holds, Some(f)) => {
            Verdict::Unmet(format!("expected to hold, found {}", f.message))
        }
        (Expect::Violates(p), Some(f))
            if f.property == *p || f.kind.as_str() == *p || f.kind.family() == *p =>
        {
            Verdict::Met
        }
        (Expect::Violates(_), Some(f))
            if s.also_violates.contains(&f.property.as_str())
                || s.also_violates.contains(&f.kind.as_str())
                || s.also_violates.contains(&f.kind.family()) =>
        {
            Verdict::Met
        }
        (Expect::Violates(p), Some(f)) => {
            Verdict::Unmet(format!("expected {p}, found {}: {}", f.property, f.message))
        }
        (Expect::Violates(p), None) => Verdict::Unmet(format!(
            "expected {p}, but {} executions found nothing{}",
            outcome.executions,
            if outcome.exhausted {
                " (space exhausted)"
            } else {
                ""
            }
        )),
    }
}

/// Check `s` under every requested engine.
///
/// # Examples
///
/// ```
/// # use lockproof::backend::{Backend, JoinHandle};
/// # use std::sync::Arc;
/// # struct Abba;
/// # impl lockproof_harness::Model for Abba {
/// #     fn run<B: Backend>(&self) {
/// #         let (a, b) = (Arc::new(lockproof::Lock::<B>::new()), Arc::new(lockproof::Lock::<B>::new()));
/// #         let (a2, b2) = (a.clone(), b.clone());
/// #         let t = B::spawn("t", move || { let _b = b2.lock(); let _a = a2.lock(); });
/// #         { let _a = a.lock(); let _b = b.lock(); }
/// #         t.join();
/// #     }
/// # }
/// # fn request() -> lockproof_harness::check::Request {
/// #     lockproof_harness::check::Request {
/// #         families: vec![lockproof_harness::Family::Dfs],
/// #         budget: lockproof_harness::Budget::ci(),
/// #         save_root: None,
/// #         runner: lockproof_harness::child::Runner::InProcess,
/// #     }
/// # }
/// use lockproof_harness::check::{check_scenario, Verdict};
/// use lockproof_harness::{Check, Expect, Family};
///
/// let mut s = Check::new(Abba).as_scenario();
/// s.expect = Expect::Violates("deadlock");
/// let mut req = request();
/// req.families = vec![Family::Dfs, Family::Random];
/// let results = check_scenario(&s, &req);
/// assert_eq!(results.len(), 2);
/// assert!(results.iter().all(|r| r.verdict == Verdict::Met));
/// ```
pub fn check_scenario(s: &Scenario, req: &Request) -> Vec<EngineResult> {
    req.families
        .iter()
        .map(|&family| {
            if let Some(why) = unsupported(s, family) {
                let first = family_steps(family, &req.budget)[0];
                let outcome = RunOutcome {
                    unsupported: Some(why.clone()),
                    ..RunOutcome::nothing(settings(s, first, 0, req.budget.seed))
                };
                return EngineResult {
                    family,
                    outcome,
                    verdict: Verdict::Unsupported(why),
                    saved: None,
                    already_saved: None,
                };
            }
            let outcome = run_family(s, family, req);
            let verdict = judge(s, &outcome);
            let (saved, already_saved) = match (&req.save_root, &outcome.found) {
                (Some(root), Some(found)) => save(s, &outcome, found, root),
                _ => (None, None),
            };
            EngineResult {
                family,
                outcome,
                verdict,
                saved,
                already_saved,
            }
        })
        .collect()
}

/// The schedule file of a failing run.
///
/// # Examples
///
/// ```
/// # use lockproof::backend::{Backend, JoinHandle};
/// # use std::sync::Arc;
/// # struct Abba;
/// # impl lockproof_harness::Model for Abba {
/// #     fn run<B: Backend>(&self) {
/// #         let (a, b) = (Arc::new(lockproof::Lock::<B>::new()), Arc::new(lockproof::Lock::<B>::new()));
/// #         let (a2, b2) = (a.clone(), b.clone());
/// #         let t = B::spawn("t", move || { let _b = b2.lock(); let _a = a2.lock(); });
/// #         { let _a = a.lock(); let _b = b.lock(); }
/// #         t.join();
/// #     }
/// # }
/// # fn request() -> lockproof_harness::check::Request {
/// #     lockproof_harness::check::Request {
/// #         families: vec![lockproof_harness::Family::Dfs],
/// #         budget: lockproof_harness::Budget::ci(),
/// #         save_root: None,
/// #         runner: lockproof_harness::child::Runner::InProcess,
/// #     }
/// # }
/// use lockproof_harness::check::{run_family, schedule_file};
/// use lockproof_harness::{Check, Family};
///
/// let s = Check::new(Abba).as_scenario();
/// let out = run_family(&s, Family::Dfs, &request());
/// let file = schedule_file(&s, &out, out.found.as_ref().unwrap()).unwrap();
/// assert_eq!((file.scenario.as_str(), file.property.as_str()), ("Abba", "deadlock"));
/// assert_eq!(file.settings.executions, 1); // a replay runs one execution
/// ```
pub fn schedule_file(s: &Scenario, outcome: &RunOutcome, found: &Found) -> Option<ScheduleFile> {
    let schedule = found.schedule.clone()?;
    let mut settings = outcome.settings.clone();
    settings.executions = 1;
    Some(ScheduleFile {
        scenario: s.id.to_owned(),
        settings,
        kind: found.kind,
        property: found.property.clone(),
        message: found.message.clone(),
        preemptions: found.preemptions,
        found_after: found.execution,
        trace_digest: trace::digest(found.trace.as_deref().unwrap_or("")),
        schedule,
    })
}

fn save(
    s: &Scenario,
    outcome: &RunOutcome,
    found: &Found,
    root: &Path,
) -> (Option<PathBuf>, Option<PathBuf>) {
    let Some(file) = schedule_file(s, outcome, found) else {
        return (None, None);
    };
    if let Some(existing) = existing_same(root, &file) {
        return (None, Some(existing));
    }
    match file.save_new(root) {
        Ok(p) => (Some(p), None),
        Err(e) => {
            eprintln!("lockproof: cannot save the schedule of {}: {e}", s.id);
            (None, None)
        }
    }
}

/// A saved schedule of the same scenario and engine settings with the same trace.
fn existing_same(root: &Path, file: &ScheduleFile) -> Option<PathBuf> {
    let dir = root.join("schedules").join(&file.scenario);
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    entries.sort();
    entries.into_iter().find(|p| {
        ScheduleFile::load(p).is_ok_and(|f| {
            f.trace_digest == file.trace_digest && f.settings.engine == file.settings.engine
        })
    })
}

/// The outcome of replaying a schedule file.
///
/// # Examples
///
/// ```
/// # use lockproof::backend::{Backend, JoinHandle};
/// # use std::sync::Arc;
/// # struct Abba;
/// # impl lockproof_harness::Model for Abba {
/// #     fn run<B: Backend>(&self) {
/// #         let (a, b) = (Arc::new(lockproof::Lock::<B>::new()), Arc::new(lockproof::Lock::<B>::new()));
/// #         let (a2, b2) = (a.clone(), b.clone());
/// #         let t = B::spawn("t", move || { let _b = b2.lock(); let _a = a2.lock(); });
/// #         { let _a = a.lock(); let _b = b.lock(); }
/// #         t.join();
/// #     }
/// # }
/// # fn request() -> lockproof_harness::check::Request {
/// #     lockproof_harness::check::Request {
/// #         families: vec![lockproof_harness::Family::Dfs],
/// #         budget: lockproof_harness::Budget::ci(),
/// #         save_root: None,
/// #         runner: lockproof_harness::child::Runner::InProcess,
/// #     }
/// # }
/// use lockproof_harness::check::{replay, run_family, schedule_file};
/// use lockproof_harness::child::Runner;
/// use lockproof_harness::{Check, Family};
///
/// let s = Check::new(Abba).as_scenario();
/// let out = run_family(&s, Family::Dfs, &request());
/// let file = schedule_file(&s, &out, out.found.as_ref().unwrap()).unwrap();
/// let r = replay(file, &[s], &Runner::InProcess).unwrap();
/// assert_eq!(r.found.unwrap().property, "deadlock");
/// assert!(r.same_trace);
/// ```
#[derive(Clone, Debug)]
pub struct Replay {
    /// The schedule file.
    pub file: ScheduleFile,
    /// The failure the replay reproduced, if it did.
    pub found: Option<Found>,
    /// True when the replayed trace has the saved digest.
    pub same_trace: bool,
}

/// What one schedule did on a scenario it may not have been saved from.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct ReplayedOn {
    /// The failure the execution reached, if any.
    pub found: Option<Found>,
    /// The rendered trace of the execution, failing or not.
    pub trace: String,
}

/// Replay `file`'s schedule on scenario `s` in this process, whether or not `s` is the
/// scenario it was saved from, and return the trace whether the execution fails or passes.
/// This is how a fix is shown on its bug's counterexample: the same interleaving and the
/// same fault choices, on the fixed program (as long as the two take the same steps up to
/// where they differ in effect: a schedule that no longer fits is an error).
///
/// # Errors
///
/// The schedule does not fit `s`'s steps, or names another engine than its settings.
///
/// # Examples
///
/// ```
/// # use lockproof::backend::{Backend, JoinHandle};
/// # use std::sync::Arc;
/// use lockproof_harness::check::{replay_on, run_family, schedule_file, Request};
/// use lockproof_harness::child::Runner;
/// use lockproof_harness::{Budget, Check, Family, Model};
///
/// /// Two threads increment a counter, with or without the lock.
/// struct Counter(bool);
/// impl Model for Counter {
///     fn run<B: Backend>(&self) {
///         let lock = Arc::new(lockproof::Lock::<B>::new());
///         let n = Arc::new(lockproof::Shared::<i64, B>::new(0));
///         let (l, m, locked) = (lock.clone(), n.clone(), self.0);
///         let t = B::spawn("t", move || {
///             let _g = l.lock();
///             m.set(m.get() + 1);
///         });
///         {
///             let _g = locked.then(|| lock.lock());
///             n.set(n.get() + 1);
///         }
///         t.join();
///         lockproof_harness::ensure(n.get() == 2, "no-lost-update", || "lost".into());
///     }
/// }
/// let request = Request { families: vec![Family::Dfs], budget: Budget::ci(), save_root: None, runner: Runner::InProcess };
/// let racy = Check::new(Counter(false)).name("racy").as_scenario();
/// let out = run_family(&racy, Family::Dfs, &request);
/// let file = schedule_file(&racy, &out, out.found.as_ref().unwrap()).unwrap();
/// let fixed = Check::new(Counter(true)).name("fixed").as_scenario();
/// let again = replay_on(&racy, &file).unwrap();
/// assert_eq!(again.found.unwrap().property, "no-lost-update");
/// assert!(again.trace.contains("set"));
/// // The fixed program takes the lock where the racy one did not: another step, so the
/// // racy schedule does not fit it, and that is said rather than guessed.
/// assert!(replay_on(&fixed, &file).unwrap_err().contains("does not replay"));
/// ```
pub fn replay_on(s: &Scenario, file: &ScheduleFile) -> Result<ReplayedOn, String> {
    let _ = lockproof::backend::checked::take_last_report();
    let found = match &file.schedule {
        // A depth-first schedule goes on past its end: the fix may run longer than the bug.
        crate::engine::EngineSchedule::Steps(steps) => {
            crate::engine::shuttle::replay_steps_going_on(&s.body.shuttle, &file.settings, steps)?
        }
        _ => crate::child::replay_here(s, &file.settings, &file.schedule)?,
    };
    let trace = match &found {
        Some(f) => f.trace.clone().unwrap_or_default(),
        None => lockproof::backend::checked::take_last_report()
            .map(|r| trace::render(&r))
            .ok_or_else(|| {
                "the schedule ended before the execution did (a random or PCT schedule stops \
                 at its end; a dfs schedule goes on)"
                    .to_owned()
            })?,
    };
    Ok(ReplayedOn { found, trace })
}

/// Replay a schedule file against the scenario it names.
///
/// # Examples
///
/// ```
/// # use lockproof::backend::{Backend, JoinHandle};
/// # use std::sync::Arc;
/// # struct Abba;
/// # impl lockproof_harness::Model for Abba {
/// #     fn run<B: Backend>(&self) {
/// #         let (a, b) = (Arc::new(lockproof::Lock::<B>::new()), Arc::new(lockproof::Lock::<B>::new()));
/// #         let (a2, b2) = (a.clone(), b.clone());
/// #         let t = B::spawn("t", move || { let _b = b2.lock(); let _a = a2.lock(); });
/// #         { let _a = a.lock(); let _b = b.lock(); }
/// #         t.join();
/// #     }
/// # }
/// # fn request() -> lockproof_harness::check::Request {
/// #     lockproof_harness::check::Request {
/// #         families: vec![lockproof_harness::Family::Dfs],
/// #         budget: lockproof_harness::Budget::ci(),
/// #         save_root: None,
/// #         runner: lockproof_harness::child::Runner::InProcess,
/// #     }
/// # }
/// use lockproof_harness::check::{replay, run_family, schedule_file};
/// use lockproof_harness::child::Runner;
/// use lockproof_harness::{Check, Family};
///
/// let s = Check::new(Abba).as_scenario();
/// let out = run_family(&s, Family::Dfs, &request());
/// let file = schedule_file(&s, &out, out.found.as_ref().unwrap()).unwrap();
/// // A schedule of a scenario that is not in the list cannot be replayed.
/// assert!(replay(file.clone(), &[], &Runner::InProcess).unwrap_err().contains("not registered"));
/// assert!(replay(file, &[s], &Runner::InProcess).unwrap().same_trace);
/// ```
pub fn replay(
    file: ScheduleFile,
    scenarios: &[Scenario],
    runner: &Runner,
) -> Result<Replay, String> {
    let s = scenarios
        .iter()
        .find(|s| s.id == file.scenario)
        .ok_or_else(|| {
            format!(
                "the schedule names scenario {:?}, which is not registered",
                file.scenario
            )
        })?;
    let found = runner.replay(s, &file.settings, &file.schedule)?;
    let same_trace = found
        .as_ref()
        .and_then(|f| f.trace.as_deref())
        .is_some_and(|t| trace::digest(t) == file.trace_digest);
    Ok(Replay {
        file,
        found,
        same_trace,
    })
}

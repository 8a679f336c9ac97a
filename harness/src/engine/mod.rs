//! The engines a scenario runs under, and what one run returns.
//!
//! | engine | explores | "exhausted" means | time modes | spurious wakeups | choices |
//! |---|---|---|---|---|---|
//! | `loom`, no bound | every interleaving, up to loom's partial-order reduction (DPOR) | every execution was covered | timed (adversarial and spurious through the checker thread) | through the checker thread | none |
//! | `loom`, bound k | loom's preemption-bounded DPOR: a search, not a proof (below) | never said | as above | as above | none |
//! | `random` | shuttle's uniformly random schedules | never said | timed, adversarial | injected | recorded |
//! | `pct` | shuttle's PCT schedules, depth 1–3 | never said | timed, adversarial | injected | recorded |
//! | `dfs`, bound k | every schedule with at most k preemptions and every checker choice, no reduction ([`dfs`]) | every such schedule was run | timed, adversarial | injected | enumerated |
//! | `dfs`, no bound | every schedule and every checker choice | every schedule was run | timed, adversarial | injected | enumerated |
//!
//! Why loom's bound is a search and not a proof: at a scheduling point where the bound is
//! already used up, loom 0.7.3 adds no backtracking point at all (`Schedule::backtrack` in
//! its `rt/path.rs` returns when `preemptions == bound`), not even for a switch that is no
//! preemption (the running thread blocked or finished, and another runnable thread could
//! go next). So loom at bound 0 runs exactly one execution, and bound k can miss an
//! execution with k preemptions. The depth-first engine has no such gap.

pub mod dfs;
pub mod execution;
pub mod loom;
pub mod shuttle;

use lockproof::backend::checked::{ExecutionReport, TimeMode};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::time::Duration;

/// A closed set of names: `as_str`, `Display`, `FromStr` and `ALL` from one list, so that
/// the CLI, schedule files and JSON spell each name the same way.
macro_rules! words {
    ($(#[$m:meta])* $vis:vis enum $name:ident { $($(#[$vm:meta])* $variant:ident = $word:literal,)* }) => {
        $(#[$m])*
        $vis enum $name { $($(#[$vm])* $variant,)* }

        impl $name {
            /// Every value, in order.
            pub const ALL: &'static [$name] = &[$($name::$variant,)*];

            /// The name as the CLI and schedule files spell it.
            pub fn as_str(&self) -> &'static str {
                match self { $($name::$variant => $word,)* }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl std::str::FromStr for $name {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, String> {
                match s {
                    $($word => Ok($name::$variant),)*
                    other => Err(format!(
                        "{other:?} is not one of: {}",
                        [$($word),*].join(", ")
                    )),
                }
            }
        }
    };
}

words! {
    /// An engine family, as the CLI names it.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof_harness::Family;
    ///
    /// assert_eq!(Family::Pct.as_str(), "pct");
    /// assert_eq!("dfs".parse::<Family>(), Ok(Family::Dfs));
    /// assert!("bfs".parse::<Family>().unwrap_err().contains("loom, random, pct, dfs"));
    /// assert_eq!(Family::ALL.len(), 4);
    /// ```
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
    pub enum Family {
        /// loom, preemption bounds 0..=max, then no bound.
        Loom = "loom",
        /// shuttle random.
        Random = "random",
        /// shuttle PCT, depths 1..=max.
        Pct = "pct",
        /// The depth-first engine, bounds 0..=max, then no bound.
        Dfs = "dfs",
    }
}

/// Which engine, with its own setting.
///
/// # Examples
///
/// ```
/// use lockproof_harness::engine::EngineKind;
/// use lockproof_harness::Family;
///
/// let k = EngineKind::Loom { bound: Some(1) };
/// assert_eq!((k.family(), k.bound()), (Family::Loom, Some(1)));
/// assert_eq!(k.describe(), "loom bound 1");
/// assert_eq!(EngineKind::Pct { depth: 2 }.describe(), "pct depth 2");
/// assert_eq!(EngineKind::Random.bound(), None);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum EngineKind {
    /// loom, with this preemption bound (`None`: loom's full search).
    Loom {
        /// loom's preemption bound.
        bound: Option<usize>,
    },
    /// shuttle, random scheduling.
    Random,
    /// shuttle, PCT with this depth.
    Pct {
        /// PCT's bug depth (1 to 3).
        depth: usize,
    },
    /// Depth-first enumeration of every schedule on shuttle's runtime, with at most this
    /// many preemptions (`None`: no bound). See [`dfs`].
    Dfs {
        /// The preemption bound.
        bound: Option<usize>,
    },
}

impl EngineKind {
    /// The engine's family.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof_harness::engine::EngineKind;
    /// use lockproof_harness::Family;
    ///
    /// assert_eq!(EngineKind::Pct { depth: 3 }.family(), Family::Pct);
    /// ```
    pub fn family(&self) -> Family {
        match self {
            EngineKind::Loom { .. } => Family::Loom,
            EngineKind::Random => Family::Random,
            EngineKind::Pct { .. } => Family::Pct,
            EngineKind::Dfs { .. } => Family::Dfs,
        }
    }

    /// The preemption bound of a loom or dfs run (`None` for no bound or another engine).
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof_harness::engine::EngineKind;
    ///
    /// assert_eq!(EngineKind::Dfs { bound: Some(2) }.bound(), Some(2));
    /// assert_eq!(EngineKind::Loom { bound: None }.bound(), None); // loom's full search
    /// ```
    pub fn bound(&self) -> Option<usize> {
        match self {
            EngineKind::Loom { bound } | EngineKind::Dfs { bound } => *bound,
            _ => None,
        }
    }

    /// `loom bound 1`, `loom`, `pct depth 2`, `random`, `dfs bound 0`, `dfs`.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof_harness::engine::EngineKind;
    ///
    /// assert_eq!(EngineKind::Dfs { bound: None }.describe(), "dfs");
    /// assert_eq!(EngineKind::Random.describe(), "random");
    /// ```
    pub fn describe(&self) -> String {
        match self {
            EngineKind::Loom { bound: Some(b) } => format!("loom bound {b}"),
            EngineKind::Loom { bound: None } => "loom".into(),
            EngineKind::Pct { depth } => format!("pct depth {depth}"),
            EngineKind::Random => "random".into(),
            EngineKind::Dfs { bound: Some(b) } => format!("dfs bound {b}"),
            EngineKind::Dfs { bound: None } => "dfs".into(),
        }
    }
}

/// Everything one run depends on: with the scenario id, enough to reproduce it.
///
/// # Examples
///
/// ```
/// use lockproof::backend::checked::TimeMode;
/// use lockproof_harness::engine::{EngineKind, RunSettings};
///
/// // What a saved schedule records besides the engine's own schedule.
/// let settings = RunSettings {
///     engine: EngineKind::Random,
///     time: TimeMode::Timed,
///     spurious: false,
///     crashes: 0,
///     pauses: 0,
///     pause_span: 0,
///     liveness: 0,
///     max_steps: 10_000,
///     executions: 100,
///     seed: 7,
/// };
/// let rerun = RunSettings { executions: 1, ..settings.clone() };
/// assert_ne!(rerun, settings);
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunSettings {
    /// The engine.
    pub engine: EngineKind,
    /// How virtual time moves.
    pub time: TimeMode,
    /// Whether spurious wakeups are injected.
    pub spurious: bool,
    /// At most this many process crashes per execution.
    #[serde(default)]
    pub crashes: u32,
    /// At most this many process pauses per execution.
    #[serde(default)]
    pub pauses: u32,
    /// How long a pause lasts, in virtual nanoseconds.
    #[serde(default)]
    pub pause_span: u64,
    /// Copies of a repeating cycle that make a livelock or starvation verdict (0: off).
    #[serde(default)]
    pub liveness: u32,
    /// Step budget of one execution.
    pub max_steps: u64,
    /// Budget: at most this many executions.
    pub executions: usize,
    /// Seed of shuttle's random and PCT schedulers.
    pub seed: u64,
}

/// An engine's own record of a schedule, enough to replay it.
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
/// use lockproof_harness::engine::EngineSchedule;
/// use lockproof_harness::{Check, Family};
///
/// let out = run_family(&Check::new(Abba).as_scenario(), Family::Dfs, &request());
/// // The depth-first engine's schedule is its list of decisions.
/// assert!(matches!(out.found.unwrap().schedule, Some(EngineSchedule::Steps(_))));
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum EngineSchedule {
    /// loom's checkpoint: the JSON of the execution path.
    Loom(String),
    /// shuttle's encoded schedule.
    Shuttle(String),
    /// The depth-first engine's decisions (see [`dfs::encode`]).
    Steps(String),
}

words! {
    /// The closed set of ways a run can fail.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof_harness::engine::{FailureKind, DEADLOCK};
    ///
    /// assert_eq!("lost-wakeup".parse::<FailureKind>(), Ok(FailureKind::LostWakeup));
    /// // Every hang but a dead holder is in the deadlock family.
    /// assert_eq!(FailureKind::LostWakeup.family(), DEADLOCK);
    /// assert_eq!(FailureKind::DeadHolder.family(), "dead-holder");
    /// assert_eq!(FailureKind::Panic.to_string(), "panic");
    /// ```
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
    pub enum FailureKind {
        /// A monitor or the model found a property false.
        Violation = "violation",
        /// Every live thread blocked forever, not all of them waiting for a notification: a
        /// waits-for cycle of locks, a join of a thread that never ends, a semaphore nobody
        /// releases. One of the [`DEADLOCK`] family.
        Deadlock = "deadlock",
        /// Every live thread blocked forever, each waiting for a notification (a Condition,
        /// an Event, a Barrier) that nobody left can send. One of the [`DEADLOCK`] family.
        LostWakeup = "lost-wakeup",
        /// Every live thread blocked forever, and what some of them wait for is held by a
        /// thread whose process crashed: it will never be released. A family of its own.
        DeadHolder = "dead-holder",
        /// A thread panicked.
        Panic = "panic",
        /// An execution exceeded its step budget (livelock, or the budget is too small).
        StepBudget = "step-budget",
        /// Every thread kept stepping in a cycle that repeats with the world in the same
        /// state, none finishing (with liveness checking on): a lasso counterexample.
        Livelock = "livelock",
        /// A thread stepped in every copy of a repeating cycle and never acquired anything
        /// while another did (with liveness checking on): a lasso counterexample.
        Starvation = "starvation",
        /// The engine saw the program behave differently on the same schedule.
        Nondeterminism = "nondeterminism",
    }
}

/// The family of every "every thread is blocked" verdict: an expected `"deadlock"` is met by
/// any of them, and the message still says which.
///
/// # Examples
///
/// ```
/// use lockproof_harness::engine::{FailureKind, DEADLOCK};
///
/// assert_eq!(FailureKind::Deadlock.family(), DEADLOCK);
/// ```
pub const DEADLOCK: &str = "deadlock";

impl FailureKind {
    /// The family: `"deadlock"` for every hang, else the kind's own name.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof_harness::engine::FailureKind;
    ///
    /// assert_eq!(FailureKind::LostWakeup.family(), "deadlock");
    /// assert_eq!(FailureKind::Violation.family(), "violation");
    /// ```
    pub fn family(&self) -> &'static str {
        match self {
            FailureKind::Deadlock | FailureKind::LostWakeup => DEADLOCK,
            other => other.as_str(),
        }
    }
}

/// A failing execution, with its evidence.
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
/// use lockproof_harness::engine::FailureKind;
/// use lockproof_harness::{Check, Family};
///
/// let out = run_family(&Check::new(Abba).as_scenario(), Family::Dfs, &request());
/// let found = out.found.unwrap();
/// assert_eq!((found.kind, found.property.as_str()), (FailureKind::Deadlock, "deadlock"));
/// assert!(found.message.contains("lock cycle"));
/// assert!(found.trace.unwrap().contains("acquire() … blocked"));
/// ```
#[derive(Clone, Debug)]
pub struct Found {
    /// What failed.
    pub kind: FailureKind,
    /// The property (for a violation) or the kind's name: what an expected verdict names.
    pub property: String,
    /// One line saying what was seen.
    pub message: String,
    /// The failing execution's report (trace included), when the checked world made one.
    pub report: Option<ExecutionReport>,
    /// The engine's schedule of the failing execution.
    pub schedule: Option<EngineSchedule>,
    /// Which execution of the run failed (1-based).
    pub execution: usize,
    /// The failing execution's trace, rendered (what snapshots hold).
    pub trace: Option<String>,
    /// Preemptions in the failing execution.
    pub preemptions: usize,
}

impl Found {
    /// Fill `trace` and `preemptions` from the report.
    pub(crate) fn render(mut self) -> Self {
        if let Some(r) = &self.report {
            self.trace = Some(crate::trace::render(r));
            self.preemptions = crate::trace::preemptions(r);
        }
        self
    }
}

/// What one run of a scenario under one engine returns.
///
/// # Examples
///
/// ```
/// use lockproof::backend::checked::TimeMode;
/// use lockproof_harness::engine::{EngineKind, RunOutcome, RunSettings};
///
/// let settings = RunSettings {
///     engine: EngineKind::Dfs { bound: Some(0) },
///     time: TimeMode::Timed,
///     spurious: false,
///     crashes: 0,
///     pauses: 0,
///     pause_span: 0,
///     liveness: 0,
///     max_steps: 1_000,
///     executions: 10,
///     seed: 1,
/// };
/// let out = RunOutcome::nothing(settings);
/// assert_eq!((out.executions, out.exhausted), (0, false));
/// assert!(out.found.is_none() && out.limitations.is_empty());
/// ```
#[derive(Clone, Debug)]
pub struct RunOutcome {
    /// The settings the run used.
    pub settings: RunSettings,
    /// Executions explored.
    pub executions: usize,
    /// True when the engine explored its whole space (loom, dfs) within the budget.
    pub exhausted: bool,
    /// Wall time of the run.
    pub elapsed: Duration,
    /// The failure, if one was found.
    pub found: Option<Found>,
    /// Why the engine could not run the scenario at all, if it could not.
    pub unsupported: Option<String>,
    /// What the engine could not explore (said, never silently skipped).
    pub limitations: Vec<String>,
    /// For a random run that failed: the search apart from the extra seeds run to find a
    /// shorter counterexample (`executions` counts the search only).
    pub shortening: Option<Shortening>,
    /// The engine's own count of preemptions in the failing execution, where the engine
    /// keeps one (the depth-first engine): equal to the trace's by construction, and
    /// checked so by the engine conformance tests.
    pub engine_preemptions: Option<usize>,
}

impl RunOutcome {
    /// A run of `settings` that explored nothing and found nothing: the base the other
    /// outcomes (not run, an engine process that died, a replay) are built on.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::backend::checked::TimeMode;
    /// use lockproof_harness::engine::{EngineKind, RunOutcome, RunSettings};
    ///
    /// let settings = RunSettings {
    ///     engine: EngineKind::Random,
    ///     time: TimeMode::Timed,
    ///     spurious: false,
    ///     crashes: 0,
    ///     pauses: 0,
    ///     pause_span: 0,
    ///     liveness: 0,
    ///     max_steps: 1_000,
    ///     executions: 10,
    ///     seed: 1,
    /// };
    /// // An engine that could not run still reports its settings and why.
    /// let out = RunOutcome { unsupported: Some("too many threads".into()), ..RunOutcome::nothing(settings) };
    /// assert_eq!((out.executions, out.settings.seed), (0, 1));
    /// ```
    pub fn nothing(settings: RunSettings) -> RunOutcome {
        RunOutcome {
            settings,
            executions: 0,
            exhausted: false,
            elapsed: Duration::ZERO,
            found: None,
            unsupported: None,
            limitations: Vec::new(),
            shortening: None,
            engine_preemptions: None,
        }
    }
}

/// How a random run's counterexample was shortened.
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
/// use lockproof_harness::{Check, Family};
///
/// let mut req = request();
/// req.budget.shorten_runs = 2;
/// let out = run_family(&Check::new(Abba).as_scenario(), Family::Random, &req);
/// assert!(out.found.is_some());
/// let sh = out.shortening.expect("a failing random run looks for a shorter one");
/// assert_eq!((sh.search_seed, sh.runs), (req.budget.seed, 2));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Shortening {
    /// The seed of the search.
    pub search_seed: u64,
    /// The execution (1-based) of the search that failed first.
    pub search_found_at: usize,
    /// Extra seeds run.
    pub runs: usize,
    /// Executions of those runs.
    pub executions: usize,
}

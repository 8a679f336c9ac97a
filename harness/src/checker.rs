//! Checking a [`Model`] from a `#[test]`: one call, or a builder for the rest.
//!
//! ```text
//! #[test]
//! fn transfer_does_not_deadlock() {
//!     lockproof_harness::check(Transfer { amount: 10 });
//! }
//! ```
//!
//! On a failure the test panics with the verdict, the rendered trace of the shortest
//! counterexample found, the path of its saved schedule and the command that replays it.
//!
//! Environment variables scale a check without changing code (as loom's `LOOM_*`):
//!
//! | variable | effect |
//! |---|---|
//! | `LOCKPROOF_ENGINES` | engines, comma-separated: `loom,random,pct,dfs` |
//! | `LOCKPROOF_BUDGET_SCALE` | multiply every execution budget (a whole number ≥ 1) |
//! | `LOCKPROOF_BOUND` | the highest preemption bound of loom and dfs |
//! | `LOCKPROOF_SEED` | the first shuttle seed |
//! | `LOCKPROOF_DIR` | where failing schedules are saved (default `target/lockproof`) |
//! | `LOCKPROOF_REPLAY` | a schedule file: the model it names is replayed from it instead of searched |

use crate::check::{self, Budget, EngineResult, Family, Request, Verdict};
use crate::child::Runner;
use crate::engine::{EngineKind, FailureKind, Found};
use crate::model::{bodies, Model};
use crate::schedule::ScheduleFile;
use lockproof::backend::checked::TimeMode;
use lockproof_scenario::{Expect, Scenario, Spurious};
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Check `model` under the default engines (loom, shuttle random, PCT) with the default
/// budget; panic with the counterexample if any execution fails.
///
/// # Examples
///
/// ```
/// use lockproof::backend::{Backend, JoinHandle};
/// use lockproof::{Lock, Shared};
/// use std::sync::Arc;
///
/// struct Counter;
///
/// impl lockproof_harness::Model for Counter {
///     fn run<B: Backend>(&self) {
///         let (lock, n) = (Arc::new(Lock::<B>::new()), Arc::new(Shared::<u32, B>::new(0)));
///         let (l2, n2) = (lock.clone(), n.clone());
///         let t = B::spawn("t", move || {
///             let _g = l2.lock();
///             n2.set(n2.get() + 1);
///         });
///         {
///             let _g = lock.lock();
///             n.set(n.get() + 1);
///         }
///         t.join();
///         assert_eq!(n.get(), 2);
///     }
/// }
///
/// lockproof_harness::check(Counter);
/// ```
#[track_caller]
pub fn check<M: Model>(model: M) {
    Check::new(model).assert_holds();
}

/// How a [`Check`] runs. Every field has a default; environment variables (see the module
/// documentation) override them when the check runs.
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
/// use lockproof_harness::{Check, Config, Family};
///
/// let mut config = Config::default();
/// config.engines = vec![Family::Dfs];
/// config.save = false;
/// Check::new(Ordered).config(config).assert_holds();
/// ```
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Config {
    /// The engines, in order.
    pub engines: Vec<Family>,
    /// Executions per engine run, bounds and depths.
    pub budget: Budget,
    /// How virtual time moves.
    pub time: TimeMode,
    /// Whether `Condition.wait` may wake spuriously.
    pub spurious: bool,
    /// At most this many processes crash per execution (0: no crash faults).
    pub crashes: u32,
    /// At most this many process pauses per execution (0: no pause faults).
    pub pauses: u32,
    /// How long a pause lasts.
    pub pause_span: Duration,
    /// Copies of a repeating cycle that make a livelock or starvation verdict (0: off; see
    /// [`Check::liveness`]).
    pub liveness: u32,
    /// Traced steps one execution may take before it is called a livelock.
    pub max_steps: u64,
    /// Where failing schedules are saved (`<dir>/schedules/<model>/…`); `None`: the
    /// `lockproof` folder of the cargo target directory.
    pub save_dir: Option<PathBuf>,
    /// Save failing schedules at all.
    pub save: bool,
    /// Run each engine run in a child process (the test binary itself, re-run with a
    /// filter for the current test, as rusty-fork does), so that a loom abort cannot end
    /// the test process.
    pub isolate: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            engines: vec![Family::Loom, Family::Random, Family::Pct],
            budget: Budget::ci(),
            time: TimeMode::Timed,
            spurious: false,
            crashes: 0,
            pauses: 0,
            pause_span: Duration::from_secs(1),
            liveness: 0,
            max_steps: 20_000,
            save_dir: None,
            save: true,
            isolate: false,
        }
    }
}

/// Why a check could not run.
///
/// # Examples
///
/// ```
/// use lockproof_harness::{Check, CheckError, Model};
/// # struct Nothing;
/// # impl Model for Nothing { fn run<B: lockproof::backend::Backend>(&self) {} }
///
/// let err = Check::new(Nothing).replay("/no/such.schedule").unwrap_err();
/// assert!(matches!(err, CheckError::Replay(_)));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum CheckError {
    /// An environment variable has a value the checker cannot use.
    Env {
        /// The variable.
        name: &'static str,
        /// Its value.
        value: String,
        /// What it takes.
        takes: &'static str,
    },
    /// A schedule file could not be read or replayed.
    Replay(String),
}

impl fmt::Display for CheckError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CheckError::Env { name, value, takes } => {
                write!(f, "{name}={value:?} is not usable: {name} takes {takes}")
            }
            CheckError::Replay(e) => write!(f, "cannot replay: {e}"),
        }
    }
}

impl std::error::Error for CheckError {}

/// A check of one model: the builder and its run.
///
/// # Examples
///
/// ```
/// use lockproof::backend::{Backend, JoinHandle};
/// use lockproof::Lock;
/// use lockproof_harness::{Check, Family, Model};
/// use std::sync::Arc;
///
/// /// Two threads take two locks in opposite orders.
/// struct Abba;
///
/// impl Model for Abba {
///     fn run<B: Backend>(&self) {
///         let (a, b) = (Arc::new(Lock::<B>::new()), Arc::new(Lock::<B>::new()));
///         let (a2, b2) = (a.clone(), b.clone());
///         let t = B::spawn("t", move || {
///             let _b = b2.lock();
///             let _a = a2.lock();
///         });
///         {
///             let _a = a.lock();
///             let _b = b.lock();
///         }
///         t.join();
///     }
/// }
///
/// let report = Check::new(Abba)
///     .engines([Family::Dfs])
///     .no_save()
///     .assert_violates("deadlock");
/// let failure = report.failure().expect("a counterexample");
/// assert!(failure.trace.as_deref().unwrap_or("").contains("deadlock (lock cycle)"));
/// ```
#[derive(Clone)]
pub struct Check {
    scenario: Scenario,
    config: Config,
}

impl fmt::Debug for Check {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Check")
            .field("name", &self.scenario.id)
            .field("config", &self.config)
            .finish()
    }
}

impl Check {
    /// A check of `model` with the default [`Config`]; it is named after the model's type.
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
    /// use lockproof_harness::{Check, Family};
    ///
    /// let report = Check::new(Ordered).engines([Family::Dfs]).no_save().assert_holds();
    /// assert_eq!(report.name, "Ordered");
    /// ```
    pub fn new<M: Model>(model: M) -> Check {
        let full = std::any::type_name::<M>();
        let short = full.rsplit("::").next().unwrap_or(full);
        let mut scenario = Scenario::new(leak(short), "", bodies(model));
        // The checker counts what the model spawns: an engine that cannot run that many
        // threads says so instead of a verdict.
        scenario.threads = 0;
        Check {
            scenario,
            config: Config::default(),
        }
    }

    /// A check of a scenario (a registered model of the corpus, say).
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
    /// use lockproof_harness::{Check, Family};
    ///
    /// let scenario = Check::new(Ordered).as_scenario();
    /// Check::scenario(scenario).engines([Family::Dfs]).no_save().assert_holds();
    /// ```
    pub fn scenario(scenario: Scenario) -> Check {
        let config = Config {
            time: scenario.time,
            spurious: scenario.spurious == Spurious::On,
            crashes: scenario.crashes,
            pauses: scenario.pauses,
            pause_span: scenario.pause_span,
            liveness: scenario.liveness,
            max_steps: scenario.max_steps,
            ..Config::default()
        };
        Check { scenario, config }
    }

    /// The name saved schedules carry (`schedules/<name>/…`), and that `LOCKPROOF_REPLAY`
    /// matches.
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
    /// use lockproof_harness::{Check, Family};
    ///
    /// let report = Check::new(Ordered).name("two-locks").engines([Family::Dfs]).no_save().assert_holds();
    /// assert_eq!(report.name, "two-locks");
    /// ```
    pub fn name(mut self, name: &str) -> Check {
        self.scenario.id = leak(name);
        self
    }

    /// The whole configuration at once.
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
    /// use lockproof_harness::{Check, Config, Family};
    ///
    /// let mut config = Config::default();
    /// config.engines = vec![Family::Dfs];
    /// config.save = false;
    /// Check::new(Ordered).config(config).assert_holds();
    /// ```
    pub fn config(mut self, config: Config) -> Check {
        self.config = config;
        self
    }

    /// The engines to run, in order.
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
    /// use lockproof_harness::{Check, Family};
    ///
    /// let report = Check::new(Abba).engines([Family::Dfs, Family::Random]).no_save().assert_violates("deadlock");
    /// assert_eq!(report.results.len(), 2);
    /// ```
    pub fn engines(mut self, engines: impl IntoIterator<Item = Family>) -> Check {
        self.config.engines = engines.into_iter().collect();
        self
    }

    /// The budget.
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
    /// let mut budget = Budget::ci();
    /// budget.max_bound = 1;
    /// Check::new(Ordered).engines([Family::Dfs]).budget(budget).no_save().assert_holds();
    /// ```
    pub fn budget(mut self, budget: Budget) -> Check {
        self.config.budget = budget;
        self
    }

    /// Adversarial time: any pending timeout may fire at any step.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::backend::Backend;
    /// use lockproof_harness::{Check, Family, Model};
    ///
    /// /// Waits at most 1 s for an event nobody sets: false, in either time mode.
    /// struct Timeout;
    /// impl Model for Timeout {
    ///     fn run<B: Backend>(&self) {
    ///         assert_eq!(lockproof::Event::<B>::new().wait(Some(1.0)), Ok(false));
    ///     }
    /// }
    /// Check::new(Timeout).engines([Family::Dfs]).adversarial().no_save().assert_holds();
    /// ```
    pub fn adversarial(mut self) -> Check {
        self.config.time = TimeMode::Adversarial;
        self
    }

    /// Inject spurious wakeups into `Condition.wait`.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::backend::{Backend, JoinHandle};
    /// use lockproof::{Condition, Shared};
    /// use lockproof_harness::{Check, Family, Model};
    /// use std::sync::Arc;
    ///
    /// /// `wait` with `if` instead of `while`: a spurious wakeup gets past it.
    /// struct IfWait;
    /// impl Model for IfWait {
    ///     fn run<B: Backend>(&self) {
    ///         let (cv, ready) = (Arc::new(Condition::<B>::new()), Arc::new(Shared::<bool, B>::new(false)));
    ///         let (cv2, ready2) = (cv.clone(), ready.clone());
    ///         let t = B::spawn("t", move || {
    ///             let _g = cv2.lock();
    ///             if !ready2.get() {
    ///                 cv2.wait(None).unwrap();
    ///             }
    ///             assert!(ready2.get(), "woke without the flag");
    ///         });
    ///         {
    ///             let _g = cv.lock();
    ///             ready.set(true);
    ///             cv.notify_one().unwrap();
    ///         }
    ///         t.join();
    ///     }
    /// }
    /// Check::new(IfWait).engines([Family::Random]).spurious().no_save().assert_violates("panic");
    /// ```
    pub fn spurious(mut self) -> Check {
        self.config.spurious = true;
        self
    }

    /// Let the checker crash up to `n` processes per execution (any process but the main
    /// one, at any of its steps; see `lockproof::backend::spawn`).
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::backend::spawn::ProcessHandle;
    /// use lockproof::backend::{Backend, JoinHandle};
    /// use lockproof_harness::{Check, Family};
    /// use std::sync::Arc;
    ///
    /// // A child process and its parent each take a lock for a critical section.
    /// struct HolderMayCrash;
    /// impl lockproof_harness::Model for HolderMayCrash {
    ///     fn run<B: Backend>(&self) {
    ///         let lock = Arc::new(lockproof::Lock::<B>::new());
    ///         let l = lock.clone();
    ///         let child = B::spawn_process("child", move || drop(l.lock()));
    ///         drop(lock.lock());
    ///         child.join();
    ///     }
    /// }
    /// Check::new(HolderMayCrash).engines([Family::Dfs]).no_save().assert_holds();
    /// // The child may die inside its critical section: the parent then waits forever.
    /// let report = Check::new(HolderMayCrash)
    ///     .crashes(1)
    ///     .engines([Family::Dfs])
    ///     .no_save()
    ///     .assert_violates("dead-holder");
    /// assert!(report.failure().unwrap().message.contains("held by a crashed process"));
    /// ```
    pub fn crashes(mut self, n: u32) -> Check {
        self.config.crashes = n;
        self
    }

    /// Check liveness: an execution whose last steps are `repeats` copies of one cycle (the
    /// world in the same state at the start of each, no thread finishing) fails with a
    /// lasso counterexample — the prefix, then the cycle —, as `livelock` when every thread
    /// keeps stepping, as `starvation` when one steps in every copy but never acquires while
    /// another does. A cycle in which a thread that could run never runs is not reported
    /// (the checker assumes a fair scheduler). The checker sees the world, not the model's
    /// local variables: use it on models that retry forever, or with `repeats` above the
    /// model's own retry bounds.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::backend::{Backend, JoinHandle};
    /// use lockproof_harness::{Check, Family};
    /// use std::sync::Arc;
    /// use std::time::Duration;
    ///
    /// /// Two polite threads: take your first lock, try the other, give way if it is taken.
    /// struct Polite;
    /// impl lockproof_harness::Model for Polite {
    ///     fn run<B: Backend>(&self) {
    ///         let (a, b) = (Arc::new(lockproof::Lock::<B>::new()), Arc::new(lockproof::Lock::<B>::new()));
    ///         let worker = |first: Arc<lockproof::Lock<B>>, second: Arc<lockproof::Lock<B>>| {
    ///             move || loop {
    ///                 first.acquire();
    ///                 B::sleep(Duration::from_millis(10));
    ///                 let done = second.try_acquire();
    ///                 if done {
    ///                     second.release().unwrap();
    ///                 }
    ///                 first.release().unwrap();
    ///                 if done {
    ///                     return;
    ///                 }
    ///                 B::sleep(Duration::from_millis(10));
    ///             }
    ///         };
    ///         let t = B::spawn("t", worker(a.clone(), b.clone()));
    ///         let u = B::spawn("u", worker(b, a));
    ///         t.join();
    ///         u.join();
    ///     }
    /// }
    /// // Both take their first lock, both find the other's taken, both give way, forever.
    /// let report = Check::new(Polite).liveness(3).engines([Family::Dfs]).no_save().assert_violates("livelock");
    /// assert!(report.to_string().contains("repeat 3 times"));
    /// ```
    pub fn liveness(mut self, repeats: u32) -> Check {
        self.config.liveness = repeats.max(2);
        self
    }

    /// Let the checker pause a process up to `n` times per execution (any process but the
    /// main one, at any of its steps), each time for `span` of virtual time.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::backend::spawn::ProcessHandle;
    /// use lockproof::backend::{Backend, JoinHandle};
    /// use lockproof_harness::{Check, Family};
    /// use std::sync::Arc;
    /// use std::time::Duration;
    ///
    /// // A parent waits at most half a second for a lock its child holds only for an instant.
    /// struct BriefHolder;
    /// impl lockproof_harness::Model for BriefHolder {
    ///     fn run<B: Backend>(&self) {
    ///         let lock = Arc::new(lockproof::Lock::<B>::new());
    ///         let l = lock.clone();
    ///         let child = B::spawn_process("child", move || drop(l.lock()));
    ///         let got = lock.acquire_timeout(0.5).unwrap();
    ///         lockproof_scenario::ensure(got, "acquired-in-time", || "timed out".into());
    ///         lock.release().unwrap();
    ///         child.join();
    ///     }
    /// }
    /// Check::new(BriefHolder).engines([Family::Dfs]).no_save().assert_holds();
    /// // Paused for a second inside its critical section, the child makes the parent time out.
    /// Check::new(BriefHolder)
    ///     .pauses(1, Duration::from_secs(1))
    ///     .engines([Family::Dfs])
    ///     .no_save()
    ///     .assert_violates("acquired-in-time");
    /// ```
    pub fn pauses(mut self, n: u32, span: Duration) -> Check {
        self.config.pauses = n;
        self.config.pause_span = span;
        self
    }

    /// The seed of the first shuttle run.
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
    /// use lockproof_harness::{Check, Family};
    ///
    /// Check::new(Ordered).engines([Family::Random]).seed(7).no_save().assert_holds();
    /// ```
    pub fn seed(mut self, seed: u64) -> Check {
        self.config.budget.seed = seed;
        self
    }

    /// Save failing schedules under `dir` (`dir/schedules/<name>/`).
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
    /// use lockproof_harness::{Check, Family};
    ///
    /// let dir = tempfile::tempdir().unwrap();
    /// let report = Check::new(Abba).engines([Family::Dfs]).save_to(dir.path()).assert_violates("deadlock");
    /// assert!(report.saved().unwrap().starts_with(dir.path()));
    /// ```
    pub fn save_to(mut self, dir: impl Into<PathBuf>) -> Check {
        self.config.save_dir = Some(dir.into());
        self.config.save = true;
        self
    }

    /// Save nothing.
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
    /// use lockproof_harness::{Check, Family};
    ///
    /// let report = Check::new(Abba).engines([Family::Dfs]).no_save().assert_violates("deadlock");
    /// assert!(report.saved().is_none());
    /// ```
    pub fn no_save(mut self) -> Check {
        self.config.save = false;
        self
    }

    /// Run each engine run in a child process of the test binary (see [`Config::isolate`]).
    ///
    /// # Examples
    ///
    /// an isolated check re-runs the current test binary with a filter, and a doctest is not one
    ///
    /// ```no_run
    /// # use lockproof::backend::Backend;
    /// # struct Ordered;
    /// # impl lockproof_harness::Model for Ordered { fn run<B: Backend>(&self) {} }
    /// use lockproof_harness::Check;
    ///
    /// #[test]
    /// fn ordered_in_a_child_process() {
    ///     Check::new(Ordered).isolate().assert_holds();
    /// }
    /// ```
    pub fn isolate(mut self) -> Check {
        self.config.isolate = true;
        self
    }

    /// The scenario this check runs (its bodies, settings and name).
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
    /// use lockproof_harness::Check;
    ///
    /// let scenario = Check::new(Ordered).as_scenario();
    /// assert_eq!(scenario.id, "Ordered");
    /// ```
    pub fn as_scenario(&self) -> Scenario {
        let mut s = self.scenario.clone();
        s.time = self.config.time;
        s.spurious = if self.config.spurious {
            Spurious::On
        } else {
            Spurious::Off
        };
        s.max_steps = self.config.max_steps;
        s.crashes = self.config.crashes;
        s.pauses = self.config.pauses;
        s.pause_span = self.config.pause_span;
        s.liveness = self.config.liveness;
        s
    }

    /// Replay the saved schedule at `path` (a schedule of this model): the report holds the
    /// failure it reproduces, or none if the execution now passes.
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
    /// use lockproof_harness::{Check, Family};
    ///
    /// let dir = tempfile::tempdir().unwrap();
    /// let check = Check::new(Abba).engines([Family::Dfs]).save_to(dir.path());
    /// let found = check.run().unwrap();
    /// let again = check.replay(found.saved().unwrap()).unwrap();
    /// assert_eq!(again.failure().unwrap().trace, found.failure().unwrap().trace);
    /// ```
    pub fn replay(&self, path: impl AsRef<Path>) -> Result<Report, CheckError> {
        let path = path.as_ref().to_path_buf();
        let file = ScheduleFile::load(&path).map_err(CheckError::Replay)?;
        let mut scenario = self.as_scenario();
        scenario.expect = Expect::Holds;
        if file.scenario != scenario.id {
            return Err(CheckError::Replay(format!(
                "{} is a schedule of {:?}, not of {:?}",
                path.display(),
                file.scenario,
                scenario.id
            )));
        }
        replay_report(&scenario, file, path)
    }

    /// Run the check (or, when `LOCKPROOF_REPLAY` names a schedule of this model, replay
    /// it). Never panics; an unusable environment variable or schedule is an error.
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
    /// use lockproof_harness::{Check, Family};
    ///
    /// let report = Check::new(Abba).engines([Family::Dfs]).no_save().run().unwrap();
    /// assert!(report.failure().is_some()); // no panic: the caller decides
    /// ```
    pub fn run(&self) -> Result<Report, CheckError> {
        let config = with_env(self.config.clone())?;
        let mut scenario = self.as_scenario();
        scenario.expect = Expect::Holds;
        if let Some(path) = std::env::var_os("LOCKPROOF_REPLAY") {
            let path = PathBuf::from(path);
            let file = ScheduleFile::load(&path).map_err(CheckError::Replay)?;
            if file.scenario == scenario.id {
                return replay_report(&scenario, file, path);
            }
        }
        let save_root = config
            .save
            .then(|| config.save_dir.clone().unwrap_or_else(default_dir));
        if let Some(code) = crate::isolate::serve_if_child(&scenario) {
            // This process is a child run by an isolated check: it has answered.
            std::process::exit(code);
        }
        let runner = if config.isolate {
            crate::isolate::runner()
        } else {
            Runner::InProcess
        };
        let req = Request {
            families: config.engines.clone(),
            budget: config.budget.clone(),
            save_root: save_root.clone(),
            runner,
        };
        let results = check::check_scenario(&scenario, &req);
        Ok(Report {
            name: scenario.id,
            results,
            replayed: None,
            schedules: save_root.map(|r| r.join("schedules").join(scenario.id)),
        })
    }

    /// Run the check and panic, with the counterexample, if any execution fails.
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
    /// use lockproof_harness::{Check, Family};
    ///
    /// let report = Check::new(Ordered).engines([Family::Dfs]).no_save().assert_holds();
    /// assert!(report.failure().is_none());
    /// ```
    #[track_caller]
    pub fn assert_holds(&self) -> Report {
        let report = self.run().unwrap_or_else(|e| panic!("lockproof: {e}"));
        if report.failure().is_some() {
            panic!("{report}");
        }
        report
    }

    /// Run the check and panic unless every engine that could run the model found a
    /// violation of `property` (a property a model names, or a failure kind such as
    /// `"deadlock"`). Returns the report, with each counterexample.
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
    /// use lockproof_harness::{Check, Family};
    ///
    /// let report = Check::new(Abba).engines([Family::Dfs]).no_save().assert_violates("deadlock");
    /// assert!(report.to_string().contains("deadlock"));
    /// ```
    #[track_caller]
    pub fn assert_violates(&self, property: &str) -> Report {
        let report = self.run().unwrap_or_else(|e| panic!("lockproof: {e}"));
        let mut s = self.as_scenario();
        s.expect = Expect::Violates(leak(property));
        let unmet: Vec<String> = report
            .results
            .iter()
            .filter_map(|r| match check::judge(&s, &r.outcome) {
                Verdict::Unmet(why) => Some(format!("{}: {why}", r.family.as_str())),
                _ => None,
            })
            .collect();
        if !unmet.is_empty() {
            panic!(
                "lockproof: {} was expected to violate {property}:\n  {}\n{report}",
                report.name,
                unmet.join("\n  ")
            );
        }
        report
    }
}

/// What a check found, per engine; its `Display` is what a failing test prints.
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
/// use lockproof_harness::{Check, Family};
///
/// let report = Check::new(Abba).engines([Family::Dfs]).no_save().run().unwrap();
/// assert_eq!(report.results.len(), 1);
/// assert!(report.to_string().contains("Abba"));
/// ```
#[derive(Clone, Debug)]
pub struct Report {
    /// The model's name.
    pub name: &'static str,
    /// One result per engine.
    pub results: Vec<EngineResult>,
    /// The schedule file replayed instead of a search (`LOCKPROOF_REPLAY`).
    pub replayed: Option<PathBuf>,
    /// The folder failing schedules of this model are saved in, if saving is on.
    pub schedules: Option<PathBuf>,
}

impl Report {
    /// The first engine's failure, if any engine found one.
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
    /// use lockproof_harness::{Check, Family};
    ///
    /// let report = Check::new(Abba).engines([Family::Dfs]).no_save().run().unwrap();
    /// assert!(report.failure().unwrap().trace.is_some());
    /// ```
    pub fn failure(&self) -> Option<&Found> {
        self.results.iter().find_map(|r| r.outcome.found.as_ref())
    }

    /// The engine result that failed first, if any.
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
    /// use lockproof_harness::{Check, Family};
    ///
    /// let report = Check::new(Abba).engines([Family::Dfs]).no_save().run().unwrap();
    /// assert_eq!(report.failing().unwrap().family, Family::Dfs);
    /// ```
    pub fn failing(&self) -> Option<&EngineResult> {
        self.results.iter().find(|r| r.outcome.found.is_some())
    }

    /// The schedule file saved (or already saved) for the first failure.
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
    /// use lockproof_harness::{Check, Family};
    ///
    /// let dir = tempfile::tempdir().unwrap();
    /// let report = Check::new(Abba).engines([Family::Dfs]).save_to(dir.path()).run().unwrap();
    /// assert!(report.saved().unwrap().exists());
    /// ```
    pub fn saved(&self) -> Option<&Path> {
        self.failing()
            .and_then(|r| r.saved.as_deref().or(r.already_saved.as_deref()))
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Some(r) = self.failing() else {
            writeln!(f, "lockproof: {} holds", self.name)?;
            for r in &self.results {
                let o = &r.outcome;
                match &o.unsupported {
                    Some(why) => writeln!(f, "  {:<7} not run: {why}", r.family.as_str())?,
                    None => writeln!(
                        f,
                        "  {:<7} {} executions{}",
                        r.family.as_str(),
                        o.executions,
                        if o.exhausted { ", space exhausted" } else { "" }
                    )?,
                }
            }
            return Ok(());
        };
        let found = r.outcome.found.as_ref().expect("failing");
        let engine = r.outcome.settings.engine.describe();
        match &self.replayed {
            Some(p) => writeln!(
                f,
                "lockproof: {} fails on replay of {}: {}",
                self.name,
                p.display(),
                found.message
            )?,
            None => writeln!(
                f,
                "lockproof: {} fails under {engine} (execution {}): {}",
                self.name, found.execution, found.message
            )?,
        }
        if let Some(t) = &found.trace {
            writeln!(f)?;
            write!(f, "{t}")?;
        }
        if let Some(p) = self.saved() {
            let test = std::thread::current()
                .name()
                .filter(|n| *n != "main")
                .unwrap_or("<test name>")
                .to_owned();
            writeln!(f)?;
            writeln!(f, "saved:  {}", p.display())?;
            writeln!(
                f,
                "replay: LOCKPROOF_REPLAY={} cargo test {test} -- --exact",
                p.display()
            )?;
        }
        let kind = if found.kind == FailureKind::Violation {
            format!("violates {}", found.property)
        } else {
            found.kind.family().to_owned()
        };
        write!(f, "verdict: {kind}")
    }
}

fn replay_report(s: &Scenario, file: ScheduleFile, path: PathBuf) -> Result<Report, CheckError> {
    let family = match file.settings.engine {
        EngineKind::Loom { .. } => Family::Loom,
        EngineKind::Random => Family::Random,
        EngineKind::Pct { .. } => Family::Pct,
        EngineKind::Dfs { .. } => Family::Dfs,
    };
    let settings = file.settings.clone();
    let r = check::replay(file, std::slice::from_ref(s), &Runner::InProcess)
        .map_err(CheckError::Replay)?;
    let outcome = crate::engine::RunOutcome {
        executions: 1,
        found: r.found,
        ..crate::engine::RunOutcome::nothing(settings)
    };
    Ok(Report {
        name: s.id,
        results: vec![EngineResult {
            family,
            outcome,
            verdict: Verdict::Met,
            saved: None,
            already_saved: Some(path.clone()),
        }],
        replayed: Some(path),
        schedules: None,
    })
}

fn env_parse<T: std::str::FromStr>(
    var: &impl Fn(&str) -> Option<String>,
    name: &'static str,
    takes: &'static str,
) -> Result<Option<T>, CheckError> {
    match var(name) {
        None => Ok(None),
        Some(v) => v.trim().parse().map(Some).map_err(|_| CheckError::Env {
            name,
            value: v,
            takes,
        }),
    }
}

/// `config` with the process environment's overrides.
///
/// # Examples
///
/// ```
/// use lockproof_harness::checker::with_env;
/// use lockproof_harness::{Config, Family};
///
/// std::env::set_var("LOCKPROOF_ENGINES", "random,dfs"); // as CI would
/// let c = with_env(Config::default()).unwrap();
/// assert_eq!(c.engines, vec![Family::Random, Family::Dfs]);
/// ```
pub fn with_env(config: Config) -> Result<Config, CheckError> {
    with_vars(config, |name| std::env::var(name).ok())
}

/// `config` with the overrides `var` answers (a variable's value, or `None` when unset).
///
/// # Examples
///
/// ```
/// use lockproof_harness::checker::{with_vars, CheckError};
/// use lockproof_harness::{Config, Family};
///
/// let c = with_vars(Config::default(), |v| (v == "LOCKPROOF_ENGINES").then(|| "dfs".into()));
/// assert_eq!(c.unwrap().engines, vec![Family::Dfs]);
/// let e = with_vars(Config::default(), |v| (v == "LOCKPROOF_SEED").then(|| "x".into()));
/// assert!(matches!(e, Err(CheckError::Env { name: "LOCKPROOF_SEED", .. })));
/// ```
pub fn with_vars(
    mut config: Config,
    var: impl Fn(&str) -> Option<String>,
) -> Result<Config, CheckError> {
    if let Some(v) = var("LOCKPROOF_ENGINES") {
        let engines: Option<Vec<Family>> = v.split(',').map(|e| e.trim().parse().ok()).collect();
        match engines {
            Some(e) if !e.is_empty() => config.engines = e,
            _ => {
                return Err(CheckError::Env {
                    name: "LOCKPROOF_ENGINES",
                    value: v,
                    takes: "a comma-separated list of loom, random, pct, dfs",
                })
            }
        }
    }
    if let Some(k) = env_parse::<usize>(&var, "LOCKPROOF_BUDGET_SCALE", "a whole number from 1 up")?
    {
        if k == 0 {
            return Err(CheckError::Env {
                name: "LOCKPROOF_BUDGET_SCALE",
                value: "0".into(),
                takes: "a whole number from 1 up",
            });
        }
        config.budget.loom_executions = config.budget.loom_executions.saturating_mul(k);
        config.budget.shuttle_executions = config.budget.shuttle_executions.saturating_mul(k);
    }
    if let Some(b) = env_parse::<usize>(&var, "LOCKPROOF_BOUND", "a whole number")? {
        config.budget.max_bound = b;
    }
    if let Some(s) = env_parse::<u64>(&var, "LOCKPROOF_SEED", "a whole number")? {
        config.budget.seed = s;
    }
    if let Some(d) = var("LOCKPROOF_DIR") {
        config.save_dir = Some(PathBuf::from(d));
    }
    Ok(config)
}

/// `<cargo target dir>/lockproof`: the target directory is found from the test binary's
/// path (`target/<profile>/deps/<binary>`), or `CARGO_TARGET_DIR`, or `./target`.
///
/// # Examples
///
/// ```
/// let dir = lockproof_harness::checker::default_dir();
/// assert!(dir.ends_with("lockproof"));
/// ```
pub fn default_dir() -> PathBuf {
    if let Some(t) = std::env::var_os("CARGO_TARGET_DIR") {
        return PathBuf::from(t).join("lockproof");
    }
    let from_exe = std::env::current_exe().ok().and_then(|exe| {
        let deps = exe.parent()?;
        let profile = if deps.file_name()? == "deps" {
            deps.parent()?
        } else {
            deps
        };
        Some(profile.parent()?.to_path_buf())
    });
    from_exe
        .unwrap_or_else(|| PathBuf::from("target"))
        .join("lockproof")
}

fn leak(s: &str) -> &'static str {
    Box::leak(s.to_owned().into_boxed_str())
}

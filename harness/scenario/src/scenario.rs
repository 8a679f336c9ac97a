//! The scenario: id, title, body, settings, expected verdict.

use lockproof::backend::checked::TimeMode;
use std::time::Duration;

/// One execution of a model on one engine: called once per execution.
pub type Body = std::sync::Arc<dyn Fn() + Send + Sync>;

/// The body of a scenario, instantiated for each engine by [`bodies!`](crate::bodies) (a
/// generic function) or from a model value (`lockproof_harness::Model`).
///
/// # Examples
///
/// ```
/// # use lockproof_scenario::prelude::*;
/// # fn counter<B: Backend>() {}
/// use lockproof_scenario::{bodies, Bodies};
///
/// let b: Bodies = bodies!(counter);
/// assert_eq!(format!("{b:?}"), "Bodies { .. }"); // one body per engine
/// ```
#[derive(Clone)]
pub struct Bodies {
    /// The body on the loom backend.
    pub loom: Body,
    /// The body on the shuttle backend (random, PCT and the depth-first engine).
    pub shuttle: Body,
}

impl std::fmt::Debug for Bodies {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Bodies").finish_non_exhaustive()
    }
}

/// The verdict a scenario expects.
///
/// # Examples
///
/// ```
/// use lockproof_scenario::Expect;
///
/// assert_eq!(Expect::Violates("deadlock").describe(), "violates deadlock");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Expect {
    /// No execution fails.
    Holds,
    /// Some execution fails with this property or failure kind: a property a model or
    /// monitor names (`"no-lost-update"`, `"mutual-exclusion"`, `"barrier-generation"`),
    /// or `"deadlock"`, `"lost-wakeup"`, `"panic"`, `"step-budget"`.
    Violates(&'static str),
}

impl Expect {
    /// `"holds"` or `"violates <property>"`.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof_scenario::Expect;
    ///
    /// assert_eq!(Expect::Holds.describe(), "holds");
    /// ```
    pub fn describe(&self) -> String {
        match self {
            Expect::Holds => "holds".to_owned(),
            Expect::Violates(p) => format!("violates {p}"),
        }
    }
}

/// Whether `Condition.wait` may wake spuriously in the scenario's checks.
///
/// # Examples
///
/// ```
/// # use lockproof_scenario::prelude::*;
/// # fn counter<B: Backend>() {}
/// use lockproof_scenario::{bodies, Scenario, Spurious};
///
/// let s = Scenario::new("c", "counter", bodies!(counter)).spurious();
/// assert_eq!(s.spurious, Spurious::On);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Spurious {
    /// Never (CPython's own Condition never wakes spuriously).
    Off,
    /// The checker may wake a waiter without a notify.
    On,
}

/// A concurrent program to check, and what the check should find.
///
/// # Examples
///
/// ```
/// # use lockproof_scenario::prelude::*;
/// # fn counter<B: Backend>() {}
/// use lockproof_scenario::{bodies, Expect, Scenario};
///
/// let s = Scenario::new("demo-counter", "two threads add under a lock", bodies!(counter))
///     .holds("the lock makes the increment atomic");
/// assert_eq!(s.expect, Expect::Holds);
/// ```
#[derive(Clone, Debug)]
pub struct Scenario {
    /// A stable id (`"ex-1.3-03"`, `"self-counter-locked"`).
    pub id: &'static str,
    /// One line saying what the program does.
    pub title: &'static str,
    /// The body, per engine.
    pub body: Bodies,
    /// The verdict the project expects, and why.
    pub expect: Expect,
    /// One line saying why this verdict is expected.
    pub reason: &'static str,
    /// How virtual time moves.
    pub time: TimeMode,
    /// Whether spurious wakeups are injected.
    pub spurious: Spurious,
    /// At most this many processes the checker may crash per execution (0: none).
    pub crashes: u32,
    /// At most this many times per execution the checker may pause a process, each time
    /// for `pause_span` (0: none).
    pub pauses: u32,
    /// How long a pause lasts.
    pub pause_span: Duration,
    /// Livelock and starvation checking: this many copies of a cycle repeating with the
    /// world in the same state make a verdict (0: off). See [`Scenario::liveness`].
    pub liveness: u32,
    /// How many threads the body starts (besides main): loom runs at most 4.
    pub threads: usize,
    /// Whether the body calls `Backend::choose` (loom has no choice operator).
    pub needs_choice: bool,
    /// The step budget of one execution.
    pub max_steps: u64,
    /// The catalogue entry this scenario models, if any (`"ex-1.3-03"`).
    pub source: Option<&'static str>,
    /// Other properties the program is known to violate besides the expected one: an engine
    /// that finds one of these first has found a real failure of the same program too.
    pub also_violates: Vec<&'static str>,
    /// Engine families (`"loom"`, `"pct"`, …) that cannot run or cannot be expected to meet
    /// this scenario's verdict, each with the reason; the check reports them as not run.
    pub not_for: Vec<(&'static str, &'static str)>,
}

impl Scenario {
    /// A scenario expected to hold, in timed mode, without injection, with 2 threads.
    ///
    /// # Examples
    ///
    /// ```
    /// # use lockproof_scenario::prelude::*;
    /// # fn counter<B: Backend>() {}
    /// use lockproof_scenario::{bodies, Expect, Scenario};
    ///
    /// let s = Scenario::new("c", "counter", bodies!(counter));
    /// assert_eq!((s.expect, s.threads), (Expect::Holds, 2));
    /// ```
    pub fn new(id: &'static str, title: &'static str, body: Bodies) -> Self {
        Scenario {
            id,
            title,
            body,
            expect: Expect::Holds,
            reason: "",
            time: TimeMode::Timed,
            spurious: Spurious::Off,
            crashes: 0,
            pauses: 0,
            pause_span: Duration::from_secs(1),
            liveness: 0,
            threads: 2,
            needs_choice: false,
            max_steps: 20_000,
            source: None,
            also_violates: Vec::new(),
            not_for: Vec::new(),
        }
    }

    /// The engine family `family` (`"loom"`, `"random"`, `"pct"`, `"dfs"`) is not run on this
    /// scenario, for `reason` (said in every check, never silently skipped).
    ///
    /// # Examples
    ///
    /// ```
    /// # use lockproof_scenario::prelude::*;
    /// # fn counter<B: Backend>() {}
    /// use lockproof_scenario::{bodies, Scenario};
    ///
    /// let s = Scenario::new("c", "counter", bodies!(counter)).not_for("loom", "five threads");
    /// assert_eq!(s.not_for, [("loom", "five threads")]);
    /// ```
    pub fn not_for(mut self, family: &'static str, reason: &'static str) -> Self {
        self.not_for.push((family, reason));
        self
    }

    /// Expect a violation of `property` (or a failure kind), for `reason`.
    ///
    /// # Examples
    ///
    /// ```
    /// # use lockproof_scenario::prelude::*;
    /// # fn counter<B: Backend>() {}
    /// use lockproof_scenario::{bodies, Expect, Scenario};
    ///
    /// let s = Scenario::new("c", "counter", bodies!(counter)).violates("no-lost-update", "no lock");
    /// assert_eq!(s.expect, Expect::Violates("no-lost-update"));
    /// ```
    pub fn violates(mut self, property: &'static str, reason: &'static str) -> Self {
        self.expect = Expect::Violates(property);
        self.reason = reason;
        self
    }

    /// The program also violates `property`: finding that one first meets the verdict too
    /// (an engine reports the first failure it reaches, and a buggy example often has two).
    ///
    /// # Examples
    ///
    /// ```
    /// # use lockproof_scenario::prelude::*;
    /// # fn counter<B: Backend>() {}
    /// use lockproof_scenario::{bodies, Scenario};
    ///
    /// let s = Scenario::new("c", "counter", bodies!(counter))
    ///     .violates("deadlock", "opposite orders")
    ///     .or_violates("lost-wakeup");
    /// assert_eq!(s.also_violates, ["lost-wakeup"]);
    /// ```
    pub fn or_violates(mut self, property: &'static str) -> Self {
        self.also_violates.push(property);
        self
    }

    /// Expect the scenario to hold, for `reason`.
    ///
    /// # Examples
    ///
    /// ```
    /// # use lockproof_scenario::prelude::*;
    /// # fn counter<B: Backend>() {}
    /// use lockproof_scenario::{bodies, Scenario};
    ///
    /// let s = Scenario::new("c", "counter", bodies!(counter)).holds("one lock order");
    /// assert_eq!(s.reason, "one lock order");
    /// ```
    pub fn holds(mut self, reason: &'static str) -> Self {
        self.expect = Expect::Holds;
        self.reason = reason;
        self
    }

    /// Check in adversarial time: any pending timeout may fire at any step.
    ///
    /// # Examples
    ///
    /// ```
    /// # use lockproof_scenario::prelude::*;
    /// # fn counter<B: Backend>() {}
    /// use lockproof::backend::checked::TimeMode;
    /// use lockproof_scenario::{bodies, Scenario};
    ///
    /// let s = Scenario::new("c", "counter", bodies!(counter)).adversarial();
    /// assert_eq!(s.time, TimeMode::Adversarial);
    /// ```
    pub fn adversarial(mut self) -> Self {
        self.time = TimeMode::Adversarial;
        self
    }

    /// Check liveness: an execution whose last steps are `repeats` copies of one cycle, the
    /// world in the same state at the start of each copy and no thread finishing, fails with
    /// a lasso counterexample (the prefix, then the cycle): `livelock` when every thread
    /// keeps stepping, `starvation` when one steps but never acquires while another does.
    /// Cycles in which a thread that could run never does are not reported (the checker
    /// assumes a fair scheduler).
    ///
    /// The checker sees the world, not the model's local variables: a loop whose iterations
    /// look alike but count down is reported once it repeated `repeats` times. Use it on
    /// models that retry forever, or with `repeats` above the model's own bounds.
    ///
    /// # Examples
    ///
    /// ```
    /// # use lockproof_scenario::prelude::*;
    /// # fn spin<B: Backend>() {}
    /// use lockproof_scenario::{bodies, Scenario};
    ///
    /// let s = Scenario::new("spin", "retries forever", bodies!(spin)).liveness(3);
    /// assert_eq!(s.liveness, 3);
    /// ```
    pub fn liveness(mut self, repeats: u32) -> Self {
        self.liveness = repeats.max(2);
        self
    }

    /// Let the checker pause a process (other than the main one) up to `n` times per
    /// execution, at any of its steps, each time for `span` of virtual time (`SIGSTOP`
    /// then `SIGCONT`, or a long garbage-collection pause), as a recorded choice.
    pub fn pauses(mut self, n: u32, span: Duration) -> Self {
        self.pauses = n;
        self.pause_span = span;
        self
    }

    /// Let the checker crash up to `n` processes (other than the main one) per execution,
    /// at any of their steps, as a recorded choice.
    pub fn crashes(mut self, n: u32) -> Self {
        self.crashes = n;
        self
    }

    /// Inject spurious wakeups into `Condition.wait`.
    ///
    /// # Examples
    ///
    /// ```
    /// # use lockproof_scenario::prelude::*;
    /// # fn counter<B: Backend>() {}
    /// use lockproof_scenario::{bodies, Scenario, Spurious};
    ///
    /// let s = Scenario::new("c", "counter", bodies!(counter)).spurious();
    /// assert_eq!(s.spurious, Spurious::On);
    /// ```
    pub fn spurious(mut self) -> Self {
        self.spurious = Spurious::On;
        self
    }

    /// The number of threads the body starts besides main.
    ///
    /// # Examples
    ///
    /// ```
    /// # use lockproof_scenario::prelude::*;
    /// # fn counter<B: Backend>() {}
    /// use lockproof_scenario::{bodies, Scenario};
    ///
    /// assert_eq!(Scenario::new("c", "counter", bodies!(counter)).threads(3).threads, 3);
    /// ```
    pub fn threads(mut self, n: usize) -> Self {
        self.threads = n;
        self
    }

    /// The body makes nondeterministic choices (`Backend::choose`).
    ///
    /// # Examples
    ///
    /// ```
    /// # use lockproof_scenario::prelude::*;
    /// # fn counter<B: Backend>() {}
    /// use lockproof_scenario::{bodies, Scenario};
    ///
    /// assert!(Scenario::new("c", "counter", bodies!(counter)).needs_choice().needs_choice);
    /// ```
    pub fn needs_choice(mut self) -> Self {
        self.needs_choice = true;
        self
    }

    /// The step budget of one execution.
    ///
    /// # Examples
    ///
    /// ```
    /// # use lockproof_scenario::prelude::*;
    /// # fn counter<B: Backend>() {}
    /// use lockproof_scenario::{bodies, Scenario};
    ///
    /// assert_eq!(Scenario::new("c", "counter", bodies!(counter)).max_steps(500).max_steps, 500);
    /// ```
    pub fn max_steps(mut self, n: u64) -> Self {
        self.max_steps = n;
        self
    }

    /// The catalogue entry this scenario models.
    ///
    /// # Examples
    ///
    /// ```
    /// # use lockproof_scenario::prelude::*;
    /// # fn counter<B: Backend>() {}
    /// use lockproof_scenario::{bodies, Scenario};
    ///
    /// assert_eq!(Scenario::new("c", "counter", bodies!(counter)).source("ex-1.3-03").source, Some("ex-1.3-03"));
    /// ```
    pub fn source(mut self, id: &'static str) -> Self {
        self.source = Some(id);
        self
    }
}

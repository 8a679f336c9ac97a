//! A world's settings, and what watches it: time modes, limits, observers.

use super::super::report::{ExecutionReport, ObjectInfo, TraceEvent};
use super::holders::Holders;

/// How virtual time moves. Written `timed` / `adversarial` (its `Display` and `FromStr`,
/// and its serde form with the `serde` feature).
///
/// # Examples
///
/// ```
/// use lockproof::backend::checked::TimeMode;
///
/// assert_eq!("adversarial".parse::<TimeMode>(), Ok(TimeMode::Adversarial));
/// assert_eq!(TimeMode::Timed.to_string(), "timed");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "lowercase"))]
pub enum TimeMode {
    /// Time moves only when every live thread is blocked, to the earliest deadline: the
    /// tutorial's sleep and timeout demos become deterministic.
    Timed,
    /// As `Timed`, and besides, any pending timeout may fire at any step: code that works
    /// only because a timeout fires late enough is caught.
    Adversarial,
}

impl TimeMode {
    /// `"timed"` or `"adversarial"`.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::backend::checked::TimeMode;
    ///
    /// assert_eq!(TimeMode::Adversarial.as_str(), "adversarial");
    /// assert_eq!(TimeMode::Timed.as_str(), TimeMode::Timed.to_string());
    /// ```
    pub fn as_str(&self) -> &'static str {
        match self {
            TimeMode::Timed => "timed",
            TimeMode::Adversarial => "adversarial",
        }
    }
}

impl std::fmt::Display for TimeMode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for TimeMode {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "timed" => Ok(TimeMode::Timed),
            "adversarial" => Ok(TimeMode::Adversarial),
            other => Err(format!("time mode {other:?} (timed or adversarial)")),
        }
    }
}

/// The settings of a checked world.
///
/// # Examples
///
/// ```
/// use lockproof::backend::checked::{TimeMode, WorldConfig};
///
/// let config = WorldConfig { spurious: true, ..WorldConfig::default() };
/// assert_eq!(config.time, TimeMode::Timed);
/// assert_eq!(config.max_spurious, 1);
/// ```
#[derive(Clone, Debug)]
pub struct WorldConfig {
    /// How time moves.
    pub time: TimeMode,
    /// Whether `Condition.wait` may wake spuriously.
    pub spurious: bool,
    /// At most this many spurious wakeups per execution (keeps executions finite).
    pub max_spurious: u32,
    /// At most this many traced steps per execution.
    pub max_steps: u64,
    /// At most this many processes crash per execution (0: no crash faults). See
    /// `Backend::spawn_process`.
    pub crashes: u32,
    /// At most this many times per execution a process is paused (0: no pause faults).
    pub pauses: u32,
    /// How long a pause lasts, in virtual nanoseconds.
    pub pause_span: u64,
    /// Livelock and starvation detection: fail once the last steps are this many copies of
    /// one cycle with the world in the same state (0: off; at least 2 when on). The checker
    /// sees the world, not the program's local variables, so a bounded retry loop whose
    /// iterations look alike is reported after this many copies: choose a number above the
    /// program's own bounds, or check programs that retry forever.
    pub liveness: u32,
}

impl Default for WorldConfig {
    fn default() -> Self {
        WorldConfig {
            time: TimeMode::Timed,
            spurious: false,
            max_spurious: 1,
            max_steps: 20_000,
            crashes: 0,
            pauses: 0,
            pause_span: 1_000_000_000,
            liveness: 0,
        }
    }
}

/// What an [`Observer`] sees of the world besides the step itself, as of just after it.
///
/// # Examples
///
/// ```
/// use lockproof::backend::checked::{execute, Observer, StepContext, TraceEvent, Violation, WorldConfig};
/// use lockproof::backend::{Hold, Shuttle, ShuttleEngine};
///
/// /// Checks, at every step, that the context names what the step names.
/// struct Consistent;
///
/// impl Observer for Consistent {
///     fn on_event(&mut self, event: &TraceEvent, cx: StepContext<'_>) -> Result<(), Violation> {
///         assert_eq!(cx.thread_names[event.thread.index()], "main");
///         if let Some(object) = event.object {
///             assert_eq!(cx.objects[object.index()].kind, "Lock");
///             if event.hold == Hold::Acquired {
///                 assert_eq!(cx.holders.of(object), [event.thread]); // as of just after the step
///             }
///         }
///         Ok(())
///     }
/// }
///
/// shuttle::check_random(
///     || {
///         execute::<ShuttleEngine>(WorldConfig::default(), Some(Box::new(Consistent)), || {
///             drop(lockproof::Lock::<Shuttle>::new().lock());
///         })
///     },
///     1,
/// );
/// ```
#[derive(Clone, Copy, Debug)]
pub struct StepContext<'a> {
    /// Every object created so far, by [`ObjectId`](super::ObjectId) index.
    pub objects: &'a [ObjectInfo],
    /// Who holds what, computed once by the world from the steps' typed
    /// [`Hold`](crate::backend::Hold) effects.
    pub holders: &'a Holders,
    /// Every thread's name so far, by [`ThreadId`](super::ThreadId) index.
    pub thread_names: &'a [String],
}

/// Something that watches every step of an execution (the harness's monitors).
///
/// # Examples
///
/// ```
/// use lockproof::backend::checked::{
///     execute, take_last_report, Failure, Observer, StepContext, TraceEvent, Violation, WorldConfig,
/// };
/// use lockproof::backend::{Backend, Shuttle, ShuttleEngine};
/// use std::time::Duration;
///
/// /// A monitor: no thread may sleep.
/// struct NoSleep;
///
/// impl Observer for NoSleep {
///     fn on_event(&mut self, event: &TraceEvent, _: StepContext<'_>) -> Result<(), Violation> {
///         if event.op != "sleep" {
///             return Ok(());
///         }
///         let message = format!("thread {} sleeps", event.thread);
///         Err(Violation { property: "no-sleep".to_owned(), message })
///     }
/// }
///
/// let failed = std::panic::catch_unwind(|| {
///     shuttle::check_random(
///         || {
///             execute::<ShuttleEngine>(WorldConfig::default(), Some(Box::new(NoSleep)), || {
///                 Shuttle::sleep(Duration::from_millis(1))
///             })
///         },
///         1,
///     )
/// });
/// assert!(failed.is_err());
/// match take_last_report().unwrap().failure {
///     Some(Failure::Violation { property, message }) => {
///         assert_eq!((property.as_str(), message.as_str()), ("no-sleep", "thread 0 sleeps"))
///     }
///     other => panic!("{other:?}"),
/// }
/// ```
pub trait Observer: Send {
    /// Called after each traced step; an `Err` fails the execution as a violation of the
    /// named property.
    fn on_event(&mut self, event: &TraceEvent, context: StepContext<'_>) -> Result<(), Violation>;
    /// Called once when the execution ends without another failure.
    fn on_finish(&mut self, _report: &ExecutionReport) -> Result<(), Violation> {
        Ok(())
    }
}

/// A property found false.
///
/// # Examples
///
/// ```
/// use lockproof::backend::checked::{
///     execute, take_last_report, ExecutionReport, Failure, Observer, StepContext, TraceEvent,
///     Violation, WorldConfig,
/// };
/// use lockproof::backend::ShuttleEngine;
///
/// /// A check at the end: the execution must have taken some lock.
/// struct LocksSomething;
///
/// impl Observer for LocksSomething {
///     fn on_event(&mut self, _: &TraceEvent, _: StepContext<'_>) -> Result<(), Violation> {
///         Ok(())
///     }
///     fn on_finish(&mut self, report: &ExecutionReport) -> Result<(), Violation> {
///         if report.trace.iter().any(|e| e.op == "acquire") {
///             return Ok(());
///         }
///         Err(Violation { property: "locks-something".to_owned(), message: "no acquire".to_owned() })
///     }
/// }
///
/// let failed = std::panic::catch_unwind(|| {
///     shuttle::check_random(
///         || execute::<ShuttleEngine>(WorldConfig::default(), Some(Box::new(LocksSomething)), || {}),
///         1,
///     )
/// });
/// assert!(failed.is_err());
/// // The violation becomes the execution's failure, property and message unchanged.
/// assert_eq!(
///     take_last_report().unwrap().failure,
///     Some(Failure::Violation {
///         property: "locks-something".to_owned(),
///         message: "no acquire".to_owned(),
///     })
/// );
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    /// The property's name.
    pub property: String,
    /// What was seen.
    pub message: String,
}

/// The panic payload that unwinds a thread whose process crashed: the thread vanishes
/// (nothing is reported; its process's join sees exit code -9).
///
/// # Examples
///
/// ```
/// use lockproof::backend::checked::{execute, WorldConfig};
/// use lockproof::backend::spawn::ProcessHandle;
/// use lockproof::backend::{Backend, Shuttle, ShuttleEngine};
/// use std::time::Duration;
///
/// // With crash faults on, the child may crash at any of its steps: its threads unwind with
/// // `Crashed` (a model must not catch it) and vanish, and its join sees -9.
/// let config = WorldConfig { crashes: 1, ..WorldConfig::default() };
/// shuttle::check_random(
///     move || {
///         execute::<ShuttleEngine>(config.clone(), None, || {
///             let child = Shuttle::spawn_process("child", || Shuttle::sleep(Duration::from_millis(1)));
///             let code = child.join();
///             assert!(code == 0 || code == -9, "{code}");
///         })
///     },
///     20,
/// );
/// ```
#[derive(Debug)]
pub struct Crashed;

/// The panic payload that unwinds every thread of a failed execution. It is raised with
/// `resume_unwind`, so no panic hook prints it.
///
/// # Examples
///
/// ```
/// use lockproof::backend::checked::{execute, violate, Aborted, WorldConfig};
/// use lockproof::backend::ShuttleEngine;
///
/// shuttle::check_random(
///     || {
///         // A failed execution stores its report, then unwinds `execute` with `Aborted`.
///         let run = std::panic::catch_unwind(|| {
///             execute::<ShuttleEngine>(WorldConfig::default(), None, || violate("p", "seen"))
///         });
///         assert!(run.unwrap_err().is::<Aborted>());
///     },
///     1,
/// );
/// ```
#[derive(Debug)]
pub struct Aborted;

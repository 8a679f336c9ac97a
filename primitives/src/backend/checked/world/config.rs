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
        }
    }
}

/// What an [`Observer`] sees of the world besides the step itself, as of just after it.
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
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    /// The property's name.
    pub property: String,
    /// What was seen.
    pub message: String,
}

/// The panic payload that unwinds a thread whose process crashed: the thread vanishes
/// (nothing is reported; its process's join sees exit code -9).
#[derive(Debug)]
pub struct Crashed;

/// The panic payload that unwinds every thread of a failed execution. It is raised with
/// `resume_unwind`, so no panic hook prints it.
#[derive(Debug)]
pub struct Aborted;

//! The engines a scenario runs under, and what one run returns.
//!
//! | engine | explores | time modes | spurious wakeups | choices |
//! |---|---|---|---|---|
//! | `loom` | every interleaving up to a preemption bound (DPOR) | timed | not explored (said in the result) | none |
//! | `random` | shuttle's uniformly random schedules | timed, adversarial | injected | recorded |
//! | `pct` | shuttle's PCT schedules, depth 1–3 | timed, adversarial | injected | recorded |
//! | `dfs` | shuttle's bounded depth-first search (no reduction) | timed, adversarial | injected | recorded |

pub mod execution;
pub mod loom;
pub mod shuttle;

use lockproof::backend::checked::{ExecutionReport, TimeMode};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::time::Duration;

/// Which engine, with its own setting.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum EngineKind {
    /// loom with this preemption bound.
    Loom {
        /// loom's preemption bound.
        bound: usize,
    },
    /// shuttle, random scheduling.
    Random,
    /// shuttle, PCT with this depth.
    Pct {
        /// PCT's bug depth (1 to 3).
        depth: usize,
    },
    /// shuttle, bounded depth-first search.
    Dfs,
}

impl EngineKind {
    /// The engine's family name as the CLI spells it: `loom`, `random`, `pct`, `dfs`.
    pub fn family(&self) -> &'static str {
        match self {
            EngineKind::Loom { .. } => "loom",
            EngineKind::Random => "random",
            EngineKind::Pct { .. } => "pct",
            EngineKind::Dfs => "dfs",
        }
    }

    /// `loom bound 1`, `pct depth 2`, `random`, `dfs`.
    pub fn describe(&self) -> String {
        match self {
            EngineKind::Loom { bound } => format!("loom bound {bound}"),
            EngineKind::Pct { depth } => format!("pct depth {depth}"),
            EngineKind::Random => "random".into(),
            EngineKind::Dfs => "dfs".into(),
        }
    }
}

/// Everything one run depends on: with the scenario id, enough to reproduce it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunSettings {
    /// The engine.
    pub engine: EngineKind,
    /// How virtual time moves.
    pub time: TimeModeName,
    /// Whether spurious wakeups are injected.
    pub spurious: bool,
    /// Step budget of one execution.
    pub max_steps: u64,
    /// Budget: at most this many executions.
    pub executions: usize,
    /// Seed of shuttle's random and PCT schedulers.
    pub seed: u64,
}

/// [`TimeMode`] as it is written in schedule files and JSON.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum TimeModeName {
    /// See [`TimeMode::Timed`].
    Timed,
    /// See [`TimeMode::Adversarial`].
    Adversarial,
}

impl From<TimeMode> for TimeModeName {
    fn from(t: TimeMode) -> Self {
        match t {
            TimeMode::Timed => TimeModeName::Timed,
            TimeMode::Adversarial => TimeModeName::Adversarial,
        }
    }
}

impl From<TimeModeName> for TimeMode {
    fn from(t: TimeModeName) -> Self {
        match t {
            TimeModeName::Timed => TimeMode::Timed,
            TimeModeName::Adversarial => TimeMode::Adversarial,
        }
    }
}

impl fmt::Display for TimeModeName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TimeModeName::Timed => "timed",
            TimeModeName::Adversarial => "adversarial",
        })
    }
}

/// An engine's own record of a schedule, enough to replay it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum EngineSchedule {
    /// loom's checkpoint: the JSON of the execution path.
    Loom(String),
    /// shuttle's encoded schedule.
    Shuttle(String),
}

/// The closed set of ways a run can fail.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum FailureKind {
    /// A monitor or the model found a property false.
    Violation,
    /// Every live thread blocked forever on locks (a waits-for cycle, usually).
    Deadlock,
    /// Every live thread blocked forever waiting for a notification.
    LostWakeup,
    /// A thread panicked.
    Panic,
    /// An execution exceeded its step budget (livelock, or the budget is too small).
    StepBudget,
    /// The engine saw the program behave differently on the same schedule.
    Nondeterminism,
}

impl FailureKind {
    /// The kind as one word.
    pub fn name(&self) -> &'static str {
        match self {
            FailureKind::Violation => "violation",
            FailureKind::Deadlock => "deadlock",
            FailureKind::LostWakeup => "lost-wakeup",
            FailureKind::Panic => "panic",
            FailureKind::StepBudget => "step-budget",
            FailureKind::Nondeterminism => "nondeterminism",
        }
    }
}

/// A failing execution, with its evidence.
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
}

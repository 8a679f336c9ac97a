//! What one checked execution leaves behind: its trace and, if it failed, why.

use super::world::{ObjectId, ThreadId};
use crate::backend::Outcome;
use std::fmt;

/// An object of the execution (a primitive, a shared variable), by creation order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ObjectInfo {
    /// `"Lock"`, `"Condition"`, …
    pub kind: &'static str,
    /// The name the model gave it, or `kind` in lower case plus a number (`lock1`).
    pub name: String,
}

/// Why the scheduler ran this thread rather than the one that ran the step before.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Switch {
    /// The previous thread could have gone on: the checker preempted it.
    Preempted(ThreadId),
    /// The previous thread blocked.
    Blocked(ThreadId),
    /// The previous thread finished.
    Finished(ThreadId),
    /// The previous thread could have gone on but gave way without a preemption: it
    /// yielded, or it had blocked and was woken again before the switch.
    Resumed(ThreadId),
}

/// What a traced step did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StepKind {
    /// An operation returned.
    Returned(Outcome),
    /// An operation blocked (the thread waits).
    Blocked,
    /// A blocked operation was ended by the checker: `"timeout"` or `"spurious wakeup"`.
    Woken(&'static str),
    /// Thread lifecycle: `"start"`, `"finish"`.
    Thread(&'static str),
}

/// One step of a trace.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TraceEvent {
    /// The thread (0 is the scenario's main thread).
    pub thread: ThreadId,
    /// The object, as an index into [`ExecutionReport::objects`]; `None` for thread events.
    pub object: Option<ObjectId>,
    /// The operation (`"acquire"`), as Python spells it.
    pub op: &'static str,
    /// Its arguments, as Python would spell them.
    pub args: crate::backend::Args,
    /// What happened.
    pub kind: StepKind,
    /// What it did to who holds the object.
    pub hold: crate::backend::Hold,
    /// Virtual time, in nanoseconds.
    pub time: u64,
    /// Why the scheduler switched to this thread, when it did.
    pub switch: Option<Switch>,
}

/// A thread that cannot make progress, in a deadlock report.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BlockedThread {
    /// The blocked thread.
    pub thread: ThreadId,
    /// The object it waits on (index into the objects), if any.
    pub object: Option<ObjectId>,
    /// The operation that blocks (`"acquire"`, `"wait"`, `"join"`).
    pub op: &'static str,
    /// The threads holding that object, as far as the trace shows (the thread joined, for
    /// a join).
    pub held_by: Vec<ThreadId>,
}

/// Every live thread blocked with no deadline left to fire.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeadlockReport {
    /// Every live thread, what it waits on and who holds that.
    pub threads: Vec<BlockedThread>,
    /// A waits-for cycle, when there is one (thread ids, each waiting for the next).
    pub cycle: Option<Vec<ThreadId>>,
    /// True when no lock is part of the problem: every thread waits for a notification
    /// (Condition, Event) or a thread that never comes. The classic lost wakeup.
    pub lost_wakeup: bool,
    /// Holders of what the blocked threads wait on whose process crashed: they will never
    /// release it. Non-empty makes the verdict `dead-holder`.
    pub dead_holders: Vec<ThreadId>,
}

/// Why an execution failed. The closed set of failures the checked world detects itself;
/// the harness adds the engines' own (nondeterminism, engine limits).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Failure {
    /// A monitor or a model's check found a property false.
    Violation {
        /// The property's name (`"mutual-exclusion"`, `"no-lost-update"`, …).
        property: String,
        /// What was seen.
        message: String,
    },
    /// Every live thread blocked forever.
    Deadlock(DeadlockReport),
    /// A thread panicked.
    Panic {
        /// The thread.
        thread: ThreadId,
        /// The panic message.
        message: String,
    },
    /// The execution took more steps than its budget (a livelock, or a budget too small).
    StepBudget {
        /// The budget.
        steps: u64,
    },
}

impl Failure {
    /// The failure's kind as one word, as verdicts name it.
    pub fn kind(&self) -> &'static str {
        match self {
            Failure::Violation { .. } => "violation",
            Failure::Deadlock(d) if !d.dead_holders.is_empty() => "dead-holder",
            Failure::Deadlock(d) if d.lost_wakeup => "lost-wakeup",
            Failure::Deadlock(_) => "deadlock",
            Failure::Panic { .. } => "panic",
            Failure::StepBudget { .. } => "step-budget",
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Violation { property, message } => write!(f, "{property} violated: {message}"),
            Failure::Deadlock(d) if !d.dead_holders.is_empty() => write!(
                f,
                "dead holder: {} thread(s) wait forever for what a crashed process holds",
                d.threads.len()
            ),
            Failure::Deadlock(d) if d.lost_wakeup => {
                write!(f, "lost wakeup: {} thread(s) wait forever", d.threads.len())
            }
            Failure::Deadlock(d) => write!(f, "deadlock: {} thread(s) blocked", d.threads.len()),
            Failure::Panic { thread, message } => write!(f, "thread {thread} panicked: {message}"),
            Failure::StepBudget { steps } => write!(f, "step budget of {steps} exceeded"),
        }
    }
}

/// The record of one execution.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ExecutionReport {
    /// Thread names by id (0 is `main`).
    pub threads: Vec<String>,
    /// Objects by id.
    pub objects: Vec<ObjectInfo>,
    /// Every traced step, in order.
    pub trace: Vec<TraceEvent>,
    /// The failure, if the execution failed.
    pub failure: Option<Failure>,
    /// Virtual time at the end, in nanoseconds.
    pub time: u64,
    /// What this engine could not explore in this execution (said, never silently skipped).
    pub limitations: Vec<String>,
    /// Timeouts the checker fired, and spurious wakeups it injected.
    pub timeouts_fired: u32,
    /// Spurious wakeups injected.
    pub spurious_injected: u32,
    /// Preemptions: switches, at the engine's scheduling points, away from a thread that
    /// could have gone on (as loom's preemption bound counts them).
    pub preemptions: u32,
}

impl ExecutionReport {
    /// The name of thread `t`, if it ran in this execution.
    pub fn thread_name(&self, t: ThreadId) -> Option<&str> {
        self.threads.get(t.index()).map(String::as_str)
    }

    /// Object `o`, if it was created in this execution.
    pub fn object(&self, o: ObjectId) -> Option<&ObjectInfo> {
        self.objects.get(o.index())
    }
}

//! What one checked execution leaves behind: its trace and, if it failed, why.

use super::world::{ObjectId, ThreadId};
use crate::backend::Outcome;
use std::fmt;

/// An object of the execution (a primitive, a shared variable), by creation order.
///
/// # Examples
///
/// ```
/// use lockproof::backend::checked::{execute, take_last_report, ObjectInfo, WorldConfig};
/// use lockproof::backend::{Shuttle, ShuttleEngine};
///
/// shuttle::check_random(
///     || {
///         execute::<ShuttleEngine>(WorldConfig::default(), None, || {
///             let _unnamed = lockproof::Lock::<Shuttle>::new();
///             let _named = lockproof::Lock::<Shuttle>::new().with_name("account");
///         })
///     },
///     1,
/// );
/// let report = take_last_report().unwrap();
/// assert_eq!(report.objects[0], ObjectInfo { kind: "Lock", name: "lock1".to_owned() });
/// assert_eq!(report.objects[1].name, "account");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ObjectInfo {
    /// `"Lock"`, `"Condition"`, …
    pub kind: &'static str,
    /// The name the model gave it, or `kind` in lower case plus a number (`lock1`).
    pub name: String,
}

/// Why the scheduler ran this thread rather than the one that ran the step before.
///
/// # Examples
///
/// ```
/// use lockproof::backend::checked::{execute, take_last_report, Switch, ThreadId, WorldConfig};
/// use lockproof::backend::{Backend, JoinHandle, Shuttle, ShuttleEngine};
///
/// shuttle::check_random(
///     || {
///         execute::<ShuttleEngine>(WorldConfig::default(), None, || {
///             Shuttle::spawn("t", || {}).join();
///         })
///     },
///     1,
/// );
/// let report = take_last_report().unwrap();
/// // Thread 1's first step comes after a step of main: main was preempted, or blocked in join.
/// let first = report.trace.iter().find(|e| e.thread == ThreadId::from_index(1)).unwrap();
/// assert!(matches!(
///     first.switch,
///     Some(Switch::Preempted(ThreadId::MAIN) | Switch::Blocked(ThreadId::MAIN))
/// ));
/// ```
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
///
/// # Examples
///
/// ```
/// use lockproof::backend::checked::{execute, take_last_report, StepKind, WorldConfig};
/// use lockproof::backend::{Outcome, Shuttle, ShuttleEngine};
///
/// shuttle::check_random(
///     || {
///         execute::<ShuttleEngine>(WorldConfig::default(), None, || {
///             let lock = lockproof::Lock::<Shuttle>::new();
///             assert!(lock.acquire());
///             assert_eq!(lock.acquire_timeout(0.5), Ok(false)); // held by itself: times out
///         })
///     },
///     1,
/// );
/// let kinds: Vec<StepKind> = take_last_report().unwrap().trace.into_iter().map(|e| e.kind).collect();
/// assert_eq!(
///     kinds,
///     [
///         StepKind::Thread("start"),
///         StepKind::Returned(Outcome::Bool(true)),
///         StepKind::Blocked,
///         StepKind::Woken("timeout"),
///         StepKind::Returned(Outcome::Bool(false)),
///         StepKind::Thread("finish"),
///     ]
/// );
/// ```
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
///
/// # Examples
///
/// ```
/// use lockproof::backend::checked::{execute, take_last_report, ObjectId, ThreadId, WorldConfig};
/// use lockproof::backend::{Hold, Shuttle, ShuttleEngine};
///
/// shuttle::check_random(
///     || {
///         execute::<ShuttleEngine>(WorldConfig::default(), None, || {
///             assert!(lockproof::Lock::<Shuttle>::new().acquire());
///         })
///     },
///     1,
/// );
/// let report = take_last_report().unwrap();
/// let acquire = report.trace.iter().find(|e| e.op == "acquire").unwrap();
/// assert_eq!(acquire.thread, ThreadId::MAIN);
/// assert_eq!(acquire.object, Some(ObjectId::from_index(0)));
/// assert_eq!(acquire.hold, Hold::Acquired);
/// assert_eq!((acquire.time, acquire.switch), (0, None));
/// ```
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
///
/// # Examples
///
/// ```
/// use lockproof::backend::checked::{
///     execute, take_last_report, BlockedThread, Failure, ObjectId, ThreadId, WorldConfig,
/// };
/// use lockproof::backend::{Shuttle, ShuttleEngine};
///
/// // An Event nobody sets: main waits forever.
/// let failed = std::panic::catch_unwind(|| {
///     shuttle::check_random(
///         || {
///             execute::<ShuttleEngine>(WorldConfig::default(), None, || {
///                 let _ = lockproof::Event::<Shuttle>::new().wait(None);
///             })
///         },
///         1,
///     )
/// });
/// assert!(failed.is_err());
/// let Some(Failure::Deadlock(deadlock)) = take_last_report().unwrap().failure else {
///     panic!("expected a deadlock")
/// };
/// assert_eq!(
///     deadlock.threads,
///     [BlockedThread {
///         thread: ThreadId::MAIN,
///         object: Some(ObjectId::from_index(0)),
///         op: "wait",
///         held_by: vec![],
///     }]
/// );
/// ```
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
///
/// # Examples
///
/// ```
/// use lockproof::backend::checked::{execute, take_last_report, Failure, ThreadId, WorldConfig};
/// use lockproof::backend::{Backend, JoinHandle, Shuttle, ShuttleEngine};
/// use std::sync::Arc;
///
/// // Main holds the lock and joins t; t waits for the lock.
/// let failed = std::panic::catch_unwind(|| {
///     shuttle::check_random(
///         || {
///             execute::<ShuttleEngine>(WorldConfig::default(), None, || {
///                 let lock = Arc::new(lockproof::Lock::<Shuttle>::new());
///                 let l2 = lock.clone();
///                 let _held = lock.lock();
///                 Shuttle::spawn("t", move || drop(l2.lock())).join();
///             })
///         },
///         1,
///     )
/// });
/// assert!(failed.is_err());
/// let Some(Failure::Deadlock(deadlock)) = take_last_report().unwrap().failure else {
///     panic!("expected a deadlock")
/// };
/// let t = ThreadId::from_index(1);
/// assert_eq!(deadlock.cycle, Some(vec![ThreadId::MAIN, t]));
/// assert_eq!(deadlock.threads[1].held_by, [ThreadId::MAIN]); // t waits for main's lock
/// assert!(!deadlock.lost_wakeup && deadlock.dead_holders.is_empty());
/// ```
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
///
/// # Examples
///
/// ```
/// use lockproof::backend::checked::{execute, take_last_report, violate, Failure, WorldConfig};
/// use lockproof::backend::ShuttleEngine;
///
/// let failed = std::panic::catch_unwind(|| {
///     shuttle::check_random(
///         || {
///             execute::<ShuttleEngine>(WorldConfig::default(), None, || {
///                 violate("no-lost-update", "counter is 1, expected 2")
///             })
///         },
///         1,
///     )
/// });
/// assert!(failed.is_err());
/// let failure = take_last_report().unwrap().failure.unwrap();
/// assert_eq!(
///     failure,
///     Failure::Violation {
///         property: "no-lost-update".to_owned(),
///         message: "counter is 1, expected 2".to_owned(),
///     }
/// );
/// assert_eq!(failure.to_string(), "no-lost-update violated: counter is 1, expected 2");
/// ```
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
    /// Every thread keeps stepping and none finishes: the trace ends in copies of one cycle
    /// with the world in the same state (see `WorldConfig::liveness`).
    Livelock(Lasso),
    /// A thread steps in every copy of a repeating cycle but never acquires anything, while
    /// another does: it is let in infinitely often and never gets what it waits for.
    Starvation {
        /// The cycle.
        lasso: Lasso,
        /// The starved thread.
        thread: ThreadId,
    },
}

/// A lasso-shaped counterexample: the trace's events before `start` are the prefix, then a
/// cycle of `len` events repeats `repeats` times (to the end of the trace), the world in the
/// same state at the start of every copy.
///
/// # Examples
///
/// ```
/// use lockproof::backend::checked::{Failure, Lasso};
///
/// let lasso = Lasso { start: 4, len: 6, repeats: 3 };
/// assert_eq!(lasso.copies().collect::<Vec<_>>(), [4..10, 10..16, 16..22]);
/// assert_eq!(Failure::Livelock(lasso).kind(), "livelock");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Lasso {
    /// Index of the first event of the cycle's first copy (the prefix is `..start`).
    pub start: usize,
    /// Events in one copy of the cycle.
    pub len: usize,
    /// Copies seen.
    pub repeats: u32,
}

impl Lasso {
    /// The event ranges of the copies, in order.
    pub fn copies(&self) -> impl Iterator<Item = std::ops::Range<usize>> + '_ {
        (0..self.repeats as usize).map(|k| {
            let from = self.start + k * self.len;
            from..from + self.len
        })
    }
}

impl Failure {
    /// The failure's kind as one word, as verdicts name it.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::backend::checked::{DeadlockReport, Failure};
    ///
    /// assert_eq!(Failure::StepBudget { steps: 20_000 }.kind(), "step-budget");
    /// let lost = DeadlockReport { threads: vec![], cycle: None, lost_wakeup: true, dead_holders: vec![] };
    /// assert_eq!(Failure::Deadlock(lost).kind(), "lost-wakeup");
    /// ```
    pub fn kind(&self) -> &'static str {
        match self {
            Failure::Violation { .. } => "violation",
            Failure::Deadlock(d) if !d.dead_holders.is_empty() => "dead-holder",
            Failure::Deadlock(d) if d.lost_wakeup => "lost-wakeup",
            Failure::Deadlock(_) => "deadlock",
            Failure::Panic { .. } => "panic",
            Failure::StepBudget { .. } => "step-budget",
            Failure::Livelock(_) => "livelock",
            Failure::Starvation { .. } => "starvation",
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
            Failure::Livelock(l) => write!(
                f,
                "livelock: a cycle of {} steps repeated {} times, no thread finishing",
                l.len, l.repeats
            ),
            Failure::Starvation { lasso, thread } => write!(
                f,
                "starvation: thread {thread} steps in a cycle of {} steps repeated {} times \
                 and never acquires",
                lasso.len, lasso.repeats
            ),
        }
    }
}

/// The record of one execution.
///
/// # Examples
///
/// ```
/// use lockproof::backend::checked::{execute, take_last_report, WorldConfig};
/// use lockproof::backend::{Backend, JoinHandle, Shuttle, ShuttleEngine};
/// use std::time::Duration;
///
/// shuttle::check_random(
///     || {
///         execute::<ShuttleEngine>(WorldConfig::default(), None, || {
///             let t = Shuttle::spawn("sleeper", || Shuttle::sleep(Duration::from_millis(500)));
///             t.join();
///         })
///     },
///     1,
/// );
/// let report = take_last_report().unwrap();
/// assert!(report.failure.is_none());
/// assert_eq!(report.threads, ["main", "sleeper"]);
/// assert_eq!(report.time, 500_000_000); // virtual: the test took no half second
/// ```
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
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::backend::checked::{ExecutionReport, ThreadId};
    ///
    /// let report = ExecutionReport { threads: vec!["main".into(), "worker".into()], ..Default::default() };
    /// assert_eq!(report.thread_name(ThreadId::MAIN), Some("main"));
    /// assert_eq!(report.thread_name(ThreadId::from_index(1)), Some("worker"));
    /// assert_eq!(report.thread_name(ThreadId::from_index(2)), None);
    /// ```
    pub fn thread_name(&self, t: ThreadId) -> Option<&str> {
        self.threads.get(t.index()).map(String::as_str)
    }

    /// Object `o`, if it was created in this execution.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::backend::checked::{ExecutionReport, ObjectId, ObjectInfo};
    ///
    /// let lock = ObjectInfo { kind: "Lock", name: "lock1".into() };
    /// let report = ExecutionReport { objects: vec![lock.clone()], ..Default::default() };
    /// assert_eq!(report.object(ObjectId::from_index(0)), Some(&lock));
    /// assert_eq!(report.object(ObjectId::from_index(1)), None);
    /// ```
    pub fn object(&self, o: ObjectId) -> Option<&ObjectInfo> {
        self.objects.get(o.index())
    }
}

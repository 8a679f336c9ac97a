//! The depth-first engine: every schedule of a scenario, optionally up to a preemption
//! bound, enumerated without reduction on shuttle's runtime.
//!
//! shuttle's own `DfsScheduler` cannot serve: it answers every random value from a fixed
//! sequence (so timeouts, spurious wakeups and `choose` are never enumerated, and "every
//! schedule" would be false for any scenario that uses them), it has no preemption bound,
//! and a schedule it found replays only through values it does not record. This one
//!
//! - branches at every scheduling point over the runnable threads, the running thread
//!   first (so the first execution has no preemption), and at every checker choice over
//!   each of its options (the checked world names how many: see
//!   `lockproof::backend::shuttle_choice`);
//! - is fair to yields as loom is: a thread that yields is not scheduled next while
//!   another can run (a spin loop is otherwise an infinite schedule);
//! - counts a preemption exactly where the checked world does (a switch away from a thread
//!   that could have gone on: it neither blocked, yielded nor finished), and with a bound
//!   `k` offers no switch that would make it `k + 1`. A bounded run therefore covers every
//!   execution with at most `k` preemptions, and the first bound that fails gives a
//!   counterexample with the fewest preemptions;
//! - records each decision (`t<task>` or `c<value>`), which is the schedule a failure is
//!   saved with, and replays it decision by decision.
//!
//! "Exhausted" is said only when the tree was enumerated to its end within the budget.

use lockproof::backend::checked::engine_ops;
use lockproof::backend::shuttle_choice;
use shuttle::scheduler::{Schedule, Scheduler, Task, TaskId};
use std::fmt::Write;
use std::sync::{Arc, Mutex};

/// One recorded decision.
///
/// # Examples
///
/// ```
/// use lockproof_harness::engine::dfs::{decode, Decision};
///
/// // A schedule file's `schedule t0 t1 c2` line: two scheduling decisions and a choice.
/// assert_eq!(decode("t0 t1 c2"), Ok(vec![Decision::Task(0), Decision::Task(1), Decision::Choice(2)]));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    /// The task (shuttle's thread index) that ran at a scheduling point.
    Task(usize),
    /// The value of a checker choice.
    Choice(u64),
}

/// Encode decisions on one line: `t0 t1 c2 t0 …`.
///
/// # Examples
///
/// ```
/// use lockproof_harness::engine::dfs::{encode, Decision};
///
/// assert_eq!(encode(&[Decision::Task(0), Decision::Choice(1), Decision::Task(2)]), "t0 c1 t2");
/// assert_eq!(encode(&[]), "");
/// ```
pub fn encode(steps: &[Decision]) -> String {
    let mut out = String::with_capacity(steps.len() * 3);
    for (i, d) in steps.iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        let _ = match d {
            Decision::Task(t) => write!(out, "t{t}"),
            Decision::Choice(c) => write!(out, "c{c}"),
        };
    }
    out
}

/// Decode [`encode`]'s text; a clear error for anything else.
///
/// # Examples
///
/// ```
/// use lockproof_harness::engine::dfs::{decode, encode, Decision};
///
/// let steps = vec![Decision::Task(1), Decision::Choice(7)];
/// assert_eq!(decode(&encode(&steps)), Ok(steps));
/// assert!(decode("t0 x9").unwrap_err().contains("bad decision \"x9\""));
/// ```
pub fn decode(text: &str) -> Result<Vec<Decision>, String> {
    text.split_ascii_whitespace()
        .map(|w| {
            // The tag is the first character, not byte: a word may start with any
            // character (`split_ascii_whitespace` leaves U+3000 inside a word).
            let mut chars = w.chars();
            let tag = chars.next();
            let n = chars.as_str().parse::<u64>().ok();
            match (tag, n) {
                (Some('t'), Some(n)) => usize::try_from(n)
                    .map(Decision::Task)
                    .map_err(|_| format!("bad decision {w:?}")),
                (Some('c'), Some(n)) => Ok(Decision::Choice(n)),
                _ => Err(format!(
                    "the depth-first schedule has a bad decision {:?} (expected t<N> or c<N>)",
                    w.chars().take(20).collect::<String>()
                )),
            }
        })
        .collect()
}

#[derive(Debug)]
struct Level {
    /// The options at this point, in the order they are tried.
    options: Vec<Decision>,
    /// The option taken in the current execution.
    index: usize,
    /// Preemptions before this point.
    preemptions_before: usize,
}

/// What the search has done so far, readable after the run.
#[derive(Debug, Default)]
pub struct Progress {
    /// Executions started.
    pub executions: usize,
    /// True once every schedule within the bound was run.
    pub exhausted: bool,
    /// The decisions of the execution running (or last run).
    pub current: Vec<Decision>,
    /// Preemptions the scheduler made in that execution.
    pub preemptions: usize,
    /// A value was asked for that is not a checker choice (a model's own `shuttle::rand`):
    /// it is answered with one fixed value, so the search is not complete.
    pub unenumerated_random: bool,
}

/// The depth-first scheduler.
#[derive(Debug)]
pub struct DfsScheduler {
    bound: Option<usize>,
    max_executions: usize,
    levels: Vec<Level>,
    pos: usize,
    preemptions: usize,
    started: bool,
    /// `engine_ops()` at the last scheduling point, and the task that ran from it.
    last_point: Option<(u64, usize, Vec<usize>)>,
    progress: Arc<Mutex<Progress>>,
}

impl DfsScheduler {
    /// A search with `bound` preemptions at most (`None`: unbounded), for at most
    /// `max_executions` executions.
    pub fn new(bound: Option<usize>, max_executions: usize) -> (Self, Arc<Mutex<Progress>>) {
        let progress = Arc::new(Mutex::new(Progress::default()));
        (
            DfsScheduler {
                bound,
                max_executions,
                levels: Vec::new(),
                pos: 0,
                preemptions: 0,
                started: false,
                last_point: None,
                progress: progress.clone(),
            },
            progress,
        )
    }

    fn progress(&self) -> std::sync::MutexGuard<'_, Progress> {
        self.progress.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Move to the next unexplored branch; false when there is none.
    fn advance(&mut self) -> bool {
        while let Some(level) = self.levels.last_mut() {
            if level.index + 1 < level.options.len() {
                level.index += 1;
                return true;
            }
            self.levels.pop();
        }
        false
    }

    /// Take the decision at the current position: the recorded one on the current path, or
    /// the first option of a new level.
    fn decide(&mut self, options: impl FnOnce(usize) -> Vec<Decision>) -> Decision {
        let d = if self.pos < self.levels.len() {
            let l = &self.levels[self.pos];
            l.options[l.index]
        } else {
            let opts = options(self.preemptions);
            let first = opts[0];
            self.levels.push(Level {
                options: opts,
                index: 0,
                preemptions_before: self.preemptions,
            });
            first
        };
        debug_assert_eq!(self.levels[self.pos].preemptions_before, self.preemptions);
        self.pos += 1;
        self.progress().current.push(d);
        d
    }
}

impl Scheduler for DfsScheduler {
    fn new_execution(&mut self) -> Option<Schedule> {
        if self.started && !self.advance() {
            self.progress().exhausted = true;
            return None;
        }
        if self.progress().executions >= self.max_executions {
            return None;
        }
        self.started = true;
        self.pos = 0;
        self.preemptions = 0;
        self.last_point = None;
        let mut p = self.progress();
        p.executions += 1;
        p.current.clear();
        p.preemptions = 0;
        Some(Schedule::new(0))
    }

    fn next_task(
        &mut self,
        runnable: &[&Task],
        current: Option<TaskId>,
        is_yielding: bool,
    ) -> Option<TaskId> {
        let ids: Vec<usize> = runnable
            .iter()
            .filter(|t| t.runnable())
            .map(|t| usize::from(t.id()))
            .collect();
        let mut ids = if ids.is_empty() {
            runnable.iter().map(|t| usize::from(t.id())).collect()
        } else {
            ids
        };
        // A thread that yields (a spin or retry loop's `sleep(0)`) runs again only when no
        // other thread can: the fairness loom applies too (a yielded thread waits until
        // another has run). Without it the first schedule spins forever.
        if let (true, Some(c)) = (is_yielding, current.map(usize::from)) {
            if ids.len() > 1 {
                ids.retain(|&t| t != c);
            }
        }
        // The running thread could go on: switching away from it is a preemption.
        let cur = current
            .map(usize::from)
            .filter(|c| !is_yielding && ids.contains(c));
        // No operation since the last scheduling point, the same thread may go on, and no
        // thread became runnable since: a switch here is the same schedule as a switch
        // there (already enumerated), so this point is not a branch. (shuttle has a point
        // inside a spawn, before the new thread is runnable, and another before the
        // spawner's next operation: that second one is a branch, or the new thread could
        // never run first.)
        let ops = engine_ops();
        if let (Some(c), Some((last_ops, last_task, last_ids))) = (cur, &self.last_point) {
            if *last_ops == ops && *last_task == c && *last_ids == ids {
                // Recorded all the same: a replay answers every scheduling point.
                self.progress().current.push(Decision::Task(c));
                return Some(TaskId::from(c));
            }
        }
        let bound = self.bound;
        let d = self.decide(|preemptions| {
            let mut opts = Vec::with_capacity(ids.len());
            if let Some(c) = cur {
                opts.push(Decision::Task(c));
                if bound.is_some_and(|b| preemptions >= b) {
                    return opts;
                }
            }
            opts.extend(
                ids.iter()
                    .filter(|&&t| Some(t) != cur)
                    .map(|&t| Decision::Task(t)),
            );
            opts
        });
        let Decision::Task(t) = d else {
            unreachable!("a scheduling point on the path holds a task")
        };
        if cur.is_some_and(|c| c != t) {
            self.preemptions += 1;
            self.progress().preemptions = self.preemptions;
        }
        self.last_point = Some((ops, t, ids));
        Some(TaskId::from(t))
    }

    fn next_u64(&mut self) -> u64 {
        let (arity, weighted) = shuttle_choice::pending_arity();
        if arity == 0 {
            self.progress().unenumerated_random = true;
            return 0;
        }
        let arity = arity as u64;
        // A weighted coin's usual outcome (its last value: nothing fires) first, so the
        // first execution is the undisturbed one.
        let order: Vec<u64> = if weighted {
            std::iter::once(arity - 1).chain(0..arity - 1).collect()
        } else {
            (0..arity).collect()
        };
        match self.decide(|_| order.into_iter().map(Decision::Choice).collect()) {
            Decision::Choice(c) => c,
            Decision::Task(_) => unreachable!("a choice point on the path holds a value"),
        }
    }
}

/// Replays recorded decisions one by one.
#[derive(Debug)]
pub struct StepReplay {
    steps: Vec<Decision>,
    pos: usize,
    ran: bool,
    diverged: Arc<Mutex<Option<String>>>,
    /// Past the recording, go on (the running thread first, no fault) instead of stopping.
    go_on: bool,
}

impl StepReplay {
    /// A replay of `steps`; the handle says where the program left the recorded path.
    pub fn new(steps: Vec<Decision>) -> (Self, Arc<Mutex<Option<String>>>) {
        let diverged = Arc::new(Mutex::new(None));
        (
            StepReplay {
                steps,
                pos: 0,
                ran: false,
                diverged: diverged.clone(),
                go_on: false,
            },
            diverged,
        )
    }

    /// The same replay, which past the end of the recording goes on to the end of the
    /// execution as the first execution of a depth-first search would: the running thread
    /// while it can run (else the first runnable one), and at every checker choice the
    /// usual outcome (no fault, no early timeout). For showing what a fixed program does on
    /// its bug's counterexample, which ended where the bug struck.
    #[must_use]
    pub fn going_on(mut self) -> Self {
        self.go_on = true;
        self
    }

    fn diverge(&self, what: String) {
        let mut d = self.diverged.lock().unwrap_or_else(|e| e.into_inner());
        if d.is_none() {
            *d = Some(what);
        }
    }

    fn next(&mut self) -> Option<Decision> {
        let d = self.steps.get(self.pos).copied();
        self.pos += 1;
        d
    }
}

impl Scheduler for StepReplay {
    fn new_execution(&mut self) -> Option<Schedule> {
        if self.ran {
            return None;
        }
        self.ran = true;
        Some(Schedule::new(0))
    }

    fn next_task(
        &mut self,
        runnable: &[&Task],
        current: Option<TaskId>,
        _is_yielding: bool,
    ) -> Option<TaskId> {
        let at = self.pos;
        if self.go_on && at >= self.steps.len() {
            return current
                .filter(|c| runnable.iter().any(|r| r.id() == *c))
                .or_else(|| runnable.first().map(|r| r.id()));
        }
        match self.next() {
            Some(Decision::Task(t)) if runnable.iter().any(|r| usize::from(r.id()) == t) => {
                Some(TaskId::from(t))
            }
            // Past the recording: the execution goes on no further (a failing one has
            // failed by then; one that has not is reported as not reproducing).
            None => None,
            other => {
                self.diverge(format!(
                    "the program left the recorded schedule at decision {at} ({other:?} recorded)"
                ));
                None
            }
        }
    }

    fn next_u64(&mut self) -> u64 {
        let at = self.pos;
        if self.go_on && at >= self.steps.len() {
            // A weighted coin's usual outcome is its last distinct option; a plain choice's
            // first.
            return match shuttle_choice::pending_arity() {
                (distinct, true) => distinct.saturating_sub(1) as u64,
                _ => 0,
            };
        }
        match self.next() {
            Some(Decision::Choice(c)) => c,
            other => {
                self.diverge(format!(
                    "the program left the recorded schedule at decision {at} ({other:?} recorded)"
                ));
                0
            }
        }
    }
}

//! One execution of a scenario inside an engine, and how a failed one is classified.

use super::{FailureKind, Found, RunSettings};
use crate::monitor::Monitors;
use crate::panics::take_last_panic;
use lockproof::backend::checked::{
    execute, take_last_report, Engine, ExecutionReport, Failure, Lasso, ObjectId, StepKind,
    ThreadId, WorldConfig,
};
use lockproof_scenario::Body;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

/// The world configuration of a run.
pub fn world_config(s: &RunSettings) -> WorldConfig {
    WorldConfig {
        time: s.time,
        spurious: s.spurious,
        max_spurious: 1,
        max_steps: s.max_steps,
        crashes: s.crashes,
        pauses: s.pauses,
        pause_span: s.pause_span,
        liveness: s.liveness,
    }
}

/// The closure an engine runs once per execution: a checked world with every monitor.
pub fn execution<E: Engine>(
    body: &Body,
    config: WorldConfig,
    count: Arc<AtomicUsize>,
) -> impl Fn() + Send + Sync + 'static {
    let body = body.clone();
    move || {
        count.fetch_add(1, Ordering::Relaxed);
        execute::<E>(config.clone(), Some(Monitors::boxed()), || body());
    }
}

/// Turn a failed execution (the engine unwound) into a [`Found`].
pub fn classify(execution: usize) -> Found {
    let panic = take_last_panic();
    let report = take_last_report().filter(|r| r.failure.is_some());
    match report.as_ref().and_then(|r| r.failure.clone()) {
        Some(failure) => {
            let (kind, property) = match &failure {
                Failure::Violation { property, .. } => (FailureKind::Violation, property.clone()),
                Failure::Deadlock(d) if !d.dead_holders.is_empty() => {
                    (FailureKind::DeadHolder, "dead-holder".to_owned())
                }
                Failure::Deadlock(d) if d.lost_wakeup => {
                    (FailureKind::LostWakeup, "lost-wakeup".to_owned())
                }
                Failure::Deadlock(_) => (FailureKind::Deadlock, "deadlock".to_owned()),
                Failure::Panic { .. } => (FailureKind::Panic, "panic".to_owned()),
                Failure::StepBudget { .. } => (FailureKind::StepBudget, "step-budget".to_owned()),
                Failure::Livelock(_) => (FailureKind::Livelock, "livelock".to_owned()),
                Failure::Starvation { .. } => (FailureKind::Starvation, "starvation".to_owned()),
            };
            Found {
                kind,
                property,
                message: failure_message(&failure, report.as_ref()),
                report,
                schedule: None,
                execution,
                trace: None,
                preemptions: 0,
            }
            .render()
        }
        None => {
            let msg = panic.unwrap_or_else(|| "the engine failed without a message".to_owned());
            let lower = msg.to_lowercase();
            let (kind, property) =
                if lower.contains("nondetermini") || lower.contains("non-determini") {
                    (FailureKind::Nondeterminism, "nondeterminism")
                } else if lower.contains("max_steps")
                    || lower.contains("maximum number of branches")
                    || lower.contains("max branches")
                {
                    (FailureKind::StepBudget, "step-budget")
                } else {
                    (FailureKind::Panic, "panic")
                };
            Found {
                kind,
                property: property.to_owned(),
                message: msg,
                report: None,
                schedule: None,
                execution,
                trace: None,
                preemptions: 0,
            }
        }
    }
}

/// One line for a failure, naming objects and threads.
pub fn failure_message(failure: &Failure, report: Option<&ExecutionReport>) -> String {
    let thread = |t: ThreadId| {
        report
            .and_then(|r| r.thread_name(t).map(str::to_owned))
            .unwrap_or_else(|| format!("thread {t}"))
    };
    let object = |o: Option<ObjectId>| {
        o.and_then(|o| report.and_then(|r| r.object(o)).map(|i| i.name.clone()))
    };
    match failure {
        Failure::Deadlock(d) => {
            let parts: Vec<String> = d
                .threads
                .iter()
                .map(|b| {
                    let what = match (b.op, object(b.object)) {
                        ("join", _) => format!("waits to join {}", names(&b.held_by, &thread)),
                        (op, Some(name)) if b.held_by.is_empty() => {
                            format!("waits in {name}.{op}() (nobody holds it)")
                        }
                        (op, Some(name)) => {
                            format!(
                                "waits in {name}.{op}() (held by {})",
                                names(&b.held_by, &thread)
                            )
                        }
                        (op, None) => format!("waits in {op}()"),
                    };
                    format!("{} {what}", thread(b.thread))
                })
                .collect();
            // One family, "every thread is blocked", named with its sub-kind.
            let all_joins = d.threads.iter().all(|b| b.op == "join");
            let head = if !d.dead_holders.is_empty() {
                "dead holder (held by a crashed process: never released)"
            } else if d.lost_wakeup {
                "deadlock (lost wakeup: waiting for a notification nobody can send)"
            } else if d.cycle.is_some() {
                "deadlock (lock cycle)"
            } else if all_joins {
                "deadlock (join)"
            } else {
                "deadlock (blocked, no cycle)"
            };
            let cycle = match &d.cycle {
                Some(c) => {
                    let mut names: Vec<String> = c.iter().map(|&t| thread(t)).collect();
                    names.push(thread(c[0]));
                    format!(" [cycle {}]", names.join(" → "))
                }
                None => String::new(),
            };
            format!("{head}: {}{cycle}", parts.join(" · "))
        }
        Failure::Violation { property, message } => format!("{property} violated: {message}"),
        Failure::Panic { thread: t, message } => format!("{} panicked: {message}", thread(*t)),
        Failure::StepBudget { steps } => {
            format!("an execution ran past its budget of {steps} steps (livelock?)")
        }
        Failure::Livelock(lasso) => {
            let (from, to) = rows(lasso, report);
            format!(
                "livelock: steps {from}–{to} repeat {} times with the world in the same state, \
                 and no thread finishes ({} keep stepping)",
                lasso.repeats,
                names(&steppers(lasso, report), &thread)
            )
        }
        Failure::Starvation { lasso, thread: t } => {
            let (from, to) = rows(lasso, report);
            format!(
                "starvation: {} steps in every copy of steps {from}–{to}, repeated {} times, \
                 and never acquires anything, while {} does",
                thread(*t),
                lasso.repeats,
                names(
                    &steppers(lasso, report)
                        .into_iter()
                        .filter(|s| s != t)
                        .collect::<Vec<_>>(),
                    &thread
                )
            )
        }
    }
}

/// The rendered trace's step numbers (thread starts are not rows) of a lasso's first copy.
fn rows(lasso: &Lasso, report: Option<&ExecutionReport>) -> (usize, usize) {
    let row = |i: usize| {
        report.map_or(i + 1, |r| {
            r.trace[..=i.min(r.trace.len().saturating_sub(1))]
                .iter()
                .filter(|e| !matches!(e.kind, StepKind::Thread("start")))
                .count()
        })
    };
    (row(lasso.start), row(lasso.start + lasso.len - 1))
}

/// The threads with a step in a lasso's cycle, in thread order.
fn steppers(lasso: &Lasso, report: Option<&ExecutionReport>) -> Vec<ThreadId> {
    let mut ts: Vec<ThreadId> = report
        .map(|r| {
            r.trace
                .iter()
                .skip(lasso.start)
                .take(lasso.len)
                .map(|e| e.thread)
                .collect()
        })
        .unwrap_or_default();
    ts.sort();
    ts.dedup();
    ts
}

fn names(ts: &[ThreadId], thread: &dyn Fn(ThreadId) -> String) -> String {
    ts.iter().map(|&t| thread(t)).collect::<Vec<_>>().join(", ")
}

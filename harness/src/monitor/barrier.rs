//! Barrier generation correctness.

use super::arg;
use lockproof::backend::checked::{
    ExecutionReport, ObjectId, Observer, StepContext, StepKind, TraceEvent, Violation,
};
use lockproof::backend::Outcome;
use rustc_hash::FxHashMap as HashMap;
use std::collections::BTreeSet;

/// Watches rendezvous rounds:
///
/// - `Rounds`: a thread may depart round r only after all parties arrived at round r
///   (a hand-written barrier reused across rounds without a generation count fails this);
/// - `Barrier`: per generation, `wait()` returns each index 0..parties-1 exactly once; the
///   action runs exactly once per generation and before any party of it returns; no party
///   returns from generation g+1 before generation g is complete (which shows as an index
///   repeated within g).
///
/// # Examples
///
/// ```
/// use lockproof::backend::{Backend, JoinHandle};
/// use lockproof_harness::{Check, Family};
/// use lockproof_scenario::Rounds;
/// use std::sync::Arc;
///
/// // A "rendezvous" of two threads that waits for nobody.
/// struct NoBarrier;
/// impl lockproof_harness::Model for NoBarrier {
///     fn run<B: Backend>(&self) {
///         let rounds = Arc::new(Rounds::<B>::new("phase", 2));
///         let r2 = rounds.clone();
///         let t = B::spawn("t", move || {
///             r2.arrive(0);
///             r2.depart(0);
///         });
///         rounds.arrive(0);
///         rounds.depart(0); // may come before `t` arrived
///         t.join();
///     }
/// }
/// Check::new(NoBarrier).engines([Family::Dfs]).no_save().assert_violates("barrier-generation");
/// ```
#[derive(Debug, Default)]
pub struct BarrierGeneration {
    arrivals: HashMap<(ObjectId, usize), usize>,
    generations: HashMap<ObjectId, Generation>,
}

#[derive(Debug, Default)]
struct Generation {
    number: usize,
    returned: BTreeSet<i64>,
    actions: usize,
}

fn violation(message: String) -> Violation {
    Violation {
        property: "barrier-generation".into(),
        message,
    }
}

impl Observer for BarrierGeneration {
    fn on_event(&mut self, e: &TraceEvent, cx: StepContext<'_>) -> Result<(), Violation> {
        let Some(obj) = e.object else {
            return Ok(());
        };
        let info = &cx.objects[obj.index()];
        if !matches!(info.kind, "Rounds" | "Barrier") {
            return Ok(());
        }
        match (info.kind, e.op, &e.kind) {
            ("Rounds", "arrive", _) => {
                let round = arg(&e.args, "round").unwrap_or(0);
                *self.arrivals.entry((obj, round)).or_default() += 1;
            }
            ("Rounds", "depart", _) => {
                let round = arg(&e.args, "round").unwrap_or(0);
                let parties = arg(&e.args, "parties").unwrap_or(0);
                let arrived = self.arrivals.get(&(obj, round)).copied().unwrap_or(0);
                if arrived < parties {
                    return Err(violation(format!(
                        "thread {} left round {round} of {} when {arrived} of {parties} parties had arrived",
                        e.thread, info.name
                    )));
                }
            }
            ("Barrier", "action", StepKind::Returned(_)) => {
                let g = self.generations.entry(obj).or_default();
                g.actions += 1;
                if g.actions > 1 {
                    return Err(violation(format!(
                        "the action of {} ran twice in generation {}",
                        info.name, g.number
                    )));
                }
            }
            ("Barrier", "wait", StepKind::Returned(Outcome::Int(i))) => {
                let parties = arg(&e.args, "parties").unwrap_or(0);
                let has_action = arg(&e.args, "action").unwrap_or(0) == 1;
                let g = self.generations.entry(obj).or_default();
                if has_action && g.actions == 0 {
                    return Err(violation(format!(
                        "a party of {} returned from generation {} before its action ran",
                        info.name, g.number
                    )));
                }
                if !g.returned.insert(*i) {
                    return Err(violation(format!(
                        "{}.wait() returned index {i} twice in generation {}",
                        info.name, g.number
                    )));
                }
                if *i < 0 || (parties > 0 && *i as usize >= parties) {
                    return Err(violation(format!(
                        "{}.wait() returned index {i} outside 0..{parties}",
                        info.name
                    )));
                }
                if parties > 0 && g.returned.len() == parties {
                    g.number += 1;
                    g.returned.clear();
                    g.actions = 0;
                }
            }
            ("Barrier", "reset" | "abort", StepKind::Returned(_)) => {
                let g = self.generations.entry(obj).or_default();
                g.returned.clear();
                g.actions = 0;
            }
            _ => {}
        }
        Ok(())
    }

    fn on_finish(&mut self, _report: &ExecutionReport) -> Result<(), Violation> {
        Ok(())
    }
}

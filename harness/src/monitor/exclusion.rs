//! Mutual exclusion: never more holders than a region or lock admits.

use super::arg;
use lockproof::backend::checked::{
    ExecutionReport, Observer, StepContext, StepKind, ThreadId, TraceEvent, Violation,
};
use lockproof::backend::Hold;

/// Checks the holders the checked world keeps (from each step's typed [`Hold`] effect)
/// after every step that takes a hold:
///
/// - a `Region` of capacity N never has more than N threads inside;
/// - a `Lock` (threading's or multiprocessing's) is never acquired while held (it has no
///   owner: any thread, of any process, may release);
/// - an `RLock` (threading's, or multiprocessing's, owned per process and thread) is never
///   acquired, or restored after `Condition.wait`, by one thread while another owns it.
///
/// # Examples
///
/// ```
/// use lockproof::backend::{Backend, JoinHandle};
/// use lockproof_harness::{Check, Family};
/// use lockproof_scenario::Region;
/// use std::sync::Arc;
///
/// // Two threads enter a one-at-a-time region with no lock around it.
/// struct Unguarded;
/// impl lockproof_harness::Model for Unguarded {
///     fn run<B: Backend>(&self) {
///         let region = Arc::new(Region::<B>::new("critical", 1));
///         let r2 = region.clone();
///         let t = B::spawn("t", move || drop(r2.enter()));
///         drop(region.enter());
///         t.join();
///     }
/// }
/// // The harness installs the monitor in every execution.
/// Check::new(Unguarded).engines([Family::Dfs]).no_save().assert_violates("mutual-exclusion");
/// ```
#[derive(Debug, Default)]
pub struct MutualExclusion;

fn violation(message: String) -> Violation {
    Violation {
        property: "mutual-exclusion".into(),
        message,
    }
}

impl Observer for MutualExclusion {
    fn on_event(&mut self, e: &TraceEvent, cx: StepContext<'_>) -> Result<(), Violation> {
        let (Some(obj), StepKind::Returned(_), Hold::Acquired | Hold::Restored(_)) =
            (e.object, &e.kind, e.hold)
        else {
            // Only a step that takes an object can break its exclusion.
            return Ok(());
        };
        let info = &cx.objects[obj.index()];
        let holders = cx.holders.of(obj);
        let others = |me: ThreadId| holders.iter().any(|&t| t != me);
        match (info.kind, e.hold) {
            ("Region", Hold::Acquired) => {
                let cap = arg(&e.args, "capacity").unwrap_or(1);
                // A thread of a crashed process never leaves (its guard's exit is never
                // traced), but it is no longer inside: only the living count.
                let inside = holders.iter().filter(|&&t| !cx.holders.is_dead(t)).count();
                if inside > cap {
                    return Err(violation(format!(
                        "{inside} threads inside {} (capacity {cap})",
                        info.name
                    )));
                }
            }
            ("Lock" | "mp.Lock", Hold::Acquired) if holders.len() > 1 => Err(violation(format!(
                "{} acquired while already held",
                info.name
            )))?,
            ("RLock" | "mp.RLock", Hold::Acquired) if others(e.thread) => Err(violation(format!(
                "{} acquired by one thread while another owns it",
                info.name
            )))?,
            ("RLock", Hold::Restored(_)) if others(e.thread) => Err(violation(format!(
                "{} restored by one thread while another owns it",
                info.name
            )))?,
            _ => {}
        }
        Ok(())
    }

    fn on_finish(&mut self, _report: &ExecutionReport) -> Result<(), Violation> {
        Ok(())
    }
}

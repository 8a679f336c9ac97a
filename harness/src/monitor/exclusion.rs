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
/// use lockproof_harness::monitor::MutualExclusion;
/// use lockproof::backend::checked::Observer;
///
/// // The harness installs it in every execution; it is an ordinary observer.
/// let monitor: Box<dyn Observer> = Box::new(MutualExclusion::default());
/// # drop(monitor);
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
        let (Some(obj), StepKind::Returned(_)) = (e.object, &e.kind) else {
            return Ok(());
        };
        let info = &cx.objects[obj.index()];
        let holders = cx.holders.of(obj);
        let others = |me: ThreadId| holders.iter().any(|&t| t != me);
        match (info.kind, e.hold) {
            ("Region", Hold::Acquired) => {
                let cap = arg(&e.args, "capacity").unwrap_or(1);
                if holders.len() > cap {
                    return Err(violation(format!(
                        "{} threads inside {} (capacity {cap})",
                        holders.len(),
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

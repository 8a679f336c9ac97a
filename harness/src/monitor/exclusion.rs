//! Mutual exclusion: never more holders than a region or lock admits.

use super::arg;
use lockproof::backend::checked::{
    ExecutionReport, ObjectInfo, Observer, StepKind, TraceEvent, Violation,
};
use lockproof::backend::Outcome;
use rustc_hash::FxHashMap as HashMap;

/// Counts who is inside each `Region` and who holds each Lock/RLock.
///
/// - A `Region` of capacity N never has more than N threads inside.
/// - A `Lock` is never acquired while held (it has no owner: any thread may release).
/// - An `RLock` is never acquired by one thread while another owns it.
#[derive(Debug, Default)]
pub struct MutualExclusion {
    inside: HashMap<usize, Vec<usize>>,
}

fn violation(message: String) -> Violation {
    Violation {
        property: "mutual-exclusion".into(),
        message,
    }
}

impl Observer for MutualExclusion {
    fn on_event(&mut self, e: &TraceEvent, objects: &[ObjectInfo]) -> Result<(), Violation> {
        let (Some(obj), StepKind::Returned(outcome)) = (e.object, &e.kind) else {
            return Ok(());
        };
        let info = &objects[obj];
        let inside = self.inside.entry(obj).or_default();
        match (info.kind, e.op, outcome) {
            ("Region", "enter", _) => {
                inside.push(e.thread);
                let cap = arg(&e.args, "capacity").unwrap_or(1);
                if inside.len() > cap {
                    return Err(violation(format!(
                        "{} threads inside {} (capacity {cap})",
                        inside.len(),
                        info.name
                    )));
                }
            }
            ("Region", "exit", _) => remove(inside, e.thread),
            ("Lock", "acquire", Outcome::Bool(true)) => {
                if !inside.is_empty() {
                    return Err(violation(format!(
                        "{} acquired while already held",
                        info.name
                    )));
                }
                inside.push(e.thread);
            }
            ("Lock", "release", Outcome::Done) => {
                inside.pop();
            }
            ("RLock", "acquire", Outcome::Bool(true)) => {
                if inside.iter().any(|&t| t != e.thread) {
                    return Err(violation(format!(
                        "{} acquired by one thread while another owns it",
                        info.name
                    )));
                }
                inside.push(e.thread);
            }
            ("RLock", "release", Outcome::Done) => remove(inside, e.thread),
            // Condition.wait releases an RLock completely and restores it afterwards.
            ("RLock", "_release_save", Outcome::Value(_)) => inside.retain(|&t| t != e.thread),
            ("RLock", "_acquire_restore", _) => {
                if inside.iter().any(|&t| t != e.thread) {
                    return Err(violation(format!(
                        "{} restored by one thread while another owns it",
                        info.name
                    )));
                }
                let count = e.args.get_state().map_or(1, |(count, _)| count as usize);
                inside.extend(std::iter::repeat_n(e.thread, count));
            }
            _ => {}
        }
        Ok(())
    }

    fn on_finish(&mut self, _report: &ExecutionReport) -> Result<(), Violation> {
        Ok(())
    }
}

fn remove(v: &mut Vec<usize>, t: usize) {
    if let Some(i) = v.iter().position(|&x| x == t) {
        v.remove(i);
    }
}

//! Lost updates on process-shared values: a write that overwrites another's write unseen.

use lockproof::backend::checked::{
    ExecutionReport, ObjectId, Observer, StepContext, StepKind, ThreadId, TraceEvent, Violation,
};
use rustc_hash::FxHashMap as HashMap;

/// The object kinds watched: multiprocessing's shared `Value` (its `get`/`set` steps).
const WATCHED: &[&str] = &["mp.Value"];

/// Watches every read (`get`) and write (`set`) of a shared value. A thread's write is a
/// lost update when the thread read the value, another thread then wrote it, and the first
/// thread writes without having read it again: the other write is overwritten unseen — the
/// classic `v.value += 1` across processes without `get_lock()`. A write by a thread that
/// never read the value (a blind store) is not judged.
///
/// # Examples
///
/// ```
/// use lockproof::backend::checked::Observer;
/// use lockproof_harness::monitor::LostUpdate;
///
/// // The harness installs it in every execution; it is an ordinary observer.
/// let monitor: Box<dyn Observer> = Box::new(LostUpdate::default());
/// # drop(monitor);
/// ```
#[derive(Debug, Default)]
pub struct LostUpdate {
    /// Per object: writes so far, and the last writer.
    versions: HashMap<ObjectId, (u64, Option<ThreadId>)>,
    /// Per (object, thread): the version the thread last read or wrote.
    seen: HashMap<(ObjectId, ThreadId), u64>,
}

impl Observer for LostUpdate {
    fn on_event(&mut self, e: &TraceEvent, cx: StepContext<'_>) -> Result<(), Violation> {
        let (Some(obj), StepKind::Returned(_)) = (e.object, &e.kind) else {
            return Ok(());
        };
        let info = &cx.objects[obj.index()];
        if !WATCHED.contains(&info.kind) {
            return Ok(());
        }
        let (version, last_writer) = *self.versions.entry(obj).or_default();
        let name = |t: ThreadId| {
            cx.thread_names
                .get(t.index())
                .cloned()
                .unwrap_or_else(|| format!("thread {t}"))
        };
        match e.op {
            "get" => {
                self.seen.insert((obj, e.thread), version);
            }
            "set" => {
                if let (Some(&read), Some(writer)) = (self.seen.get(&(obj, e.thread)), last_writer)
                {
                    if read < version && writer != e.thread {
                        return Err(Violation {
                            property: "no-lost-update".into(),
                            message: format!(
                                "{} wrote {} over {}'s write, which it had not seen (its read \
                                 came before)",
                                name(e.thread),
                                info.name,
                                name(writer)
                            ),
                        });
                    }
                }
                self.versions.insert(obj, (version + 1, Some(e.thread)));
                self.seen.insert((obj, e.thread), version + 1);
            }
            _ => {}
        }
        Ok(())
    }

    fn on_finish(&mut self, _report: &ExecutionReport) -> Result<(), Violation> {
        Ok(())
    }
}

//! Preemptions, counted at the engine's own scheduling points.

use super::ids::ThreadId;
use super::{count_engine_op, State, World};

#[derive(Default)]
pub(super) struct Preemptions {
    /// The thread that took the last engine step, and whether it could have gone on (it did
    /// not block, yield or finish there): a switch away from such a thread is a preemption.
    last: Option<(ThreadId, bool)>,
    /// Preemptions so far.
    pub count: u32,
    /// (thread, the thread it preempted): shown on that thread's next traced step.
    notes: Vec<(ThreadId, ThreadId)>,
}

impl Preemptions {
    /// The note for `thread`'s next traced step, taken: the thread it preempted.
    pub fn take_note(&mut self, thread: ThreadId) -> Option<ThreadId> {
        let i = self.notes.iter().position(|(t, _)| *t == thread)?;
        Some(self.notes.swap_remove(i).1)
    }

    /// `thread` takes an engine step; `goes_on`: it could keep running after it.
    fn step(&mut self, thread: ThreadId, goes_on: bool) {
        if let Some((last, true)) = self.last {
            if last != thread {
                self.count += 1;
                // A newer preemption by the same thread replaces an older one not yet shown.
                match self.notes.iter_mut().find(|(t, _)| *t == thread) {
                    Some(n) => n.1 = last,
                    None => self.notes.push((thread, last)),
                }
            }
        }
        self.last = Some((thread, goes_on));
    }
}

impl World {
    /// The current thread is about to take an engine step (a scheduling point of both
    /// engines: an atomic operation). If the thread that took the last engine step could
    /// have gone on, the engine preempted it: that is the preemption loom's bound counts
    /// and the depth-first search bounds, so the trace and the engine count the same thing.
    pub(super) fn engine_step(&self, st: &mut State) {
        let me = self.me(st);
        st.preemptions.step(me, true);
    }

    /// The current thread stops at its next engine step (it blocks, yields or finishes): a
    /// switch away from it there is not a preemption.
    pub(super) fn engine_stop(&self, st: &mut State) {
        count_engine_op();
        let me = self.me(st);
        st.preemptions.step(me, false);
    }

    /// The current thread yields (`time.sleep(0)`, `yield_now`).
    pub(crate) fn yield_step(&self) {
        let mut st = self.lock();
        if st.failure.is_none() {
            self.engine_stop(&mut st);
        }
    }
}

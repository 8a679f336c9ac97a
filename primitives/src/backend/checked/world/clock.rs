//! Virtual time: it moves only when every live thread is blocked (or, in adversarial time,
//! when the checker fires a timeout early), to a pending deadline.

use super::deadlock::deadlock_report;
use super::ids::ThreadId;
use super::threads::Wake;
use super::{count_engine_op, State, TimeMode, World};
use crate::backend::checked::report::{Failure, StepKind};
use crate::backend::{Args, WaitKind};
use std::sync::MutexGuard;

/// The virtual clock of one execution.
#[derive(Default)]
pub(super) struct Clock {
    /// Now, in nanoseconds since the execution started.
    pub now: u64,
    /// Timeouts fired so far.
    pub timeouts_fired: u32,
}

impl Clock {
    /// Move to `deadline` if it lies ahead (never back).
    pub fn reach(&mut self, deadline: u64) {
        self.now = self.now.max(deadline);
    }
}

impl World {
    pub(crate) fn now(&self) -> u64 {
        self.lock().clock.now
    }

    /// If every live thread is blocked, move virtual time to the earliest deadline and time
    /// that waiter out, or, with none, declare a deadlock. Returns the state for the caller
    /// to release (the woken thread is unparked by then).
    pub(super) fn make_progress<'a>(
        &'a self,
        mut st: MutexGuard<'a, State>,
    ) -> MutexGuard<'a, State> {
        if !st.threads.all_stopped_some_blocked() {
            return st;
        }
        let mut pending: Vec<(u64, ThreadId)> = st
            .threads
            .iter()
            .filter_map(|(i, t)| t.blocked().and_then(|b| b.deadline).map(|d| (d, i)))
            .collect();
        pending.sort_unstable();
        // With injection on, a Condition waiter may also wake spuriously now, instead of
        // time moving on or a deadlock being declared: the engine chooses.
        match self.spurious_when_stopped(st) {
            Ok(st_back) => st = st_back,
            Err(woken) => return woken,
        }
        if pending.is_empty() {
            let report = deadlock_report(&st);
            self.fail(st, Failure::Deadlock(report))
        }
        // Timed: the earliest deadline fires. Adversarial: any pending one may (a thread
        // may be delayed past another's deadline): the engine chooses.
        let mut pick = 0;
        if self.config.time == TimeMode::Adversarial && pending.len() > 1 {
            drop(st);
            // Every live thread is blocked, so nothing changes while the state is released.
            pick = {
                count_engine_op();
                (self.ops.choose)(pending.len())
            }
            .unwrap_or(0)
            .min(pending.len() - 1);
            st = self.lock();
        }
        let (deadline, _) = pending[pick];
        st.clock.reach(deadline);
        // Every waiter due at that instant wakes at once, so that threads whose sleeps or
        // timeouts end together race as they would on a real clock, in any order the engine
        // picks (not one after the other in thread order).
        let due: Vec<ThreadId> = pending
            .iter()
            .filter(|(d, _)| *d == deadline)
            .map(|(_, t)| *t)
            .collect();
        for &t in &due {
            self.time_out(&mut st, t);
        }
        let unparkers = st.threads.unparkers(&due);
        drop(st);
        for u in unparkers {
            u();
        }
        self.lock()
    }

    /// End thread `t`'s wait with a timeout (state only; the caller unparks).
    pub(super) fn time_out(&self, st: &mut State, t: ThreadId) {
        let Some(b) = st.threads[t].blocked().cloned() else {
            return;
        };
        st.queues.remove(b.key, t);
        st.threads[t].resume(Wake::TimedOut);
        st.clock.timeouts_fired += 1;
        if b.kind != WaitKind::Sleep {
            self.push(
                st,
                t,
                b.object,
                b.op,
                Args::new(),
                StepKind::Woken("timeout"),
            );
        }
    }
}

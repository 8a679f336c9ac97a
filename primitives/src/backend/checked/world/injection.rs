//! Fault injection: timeouts fired early (adversarial time) and spurious wakeups of
//! `Condition.wait`, each a choice of the engine, recorded in the schedule.
//!
//! An engine without a choice operator (loom) gets the same faults from the environment
//! thread instead (see `environment`).

use super::ids::ThreadId;
use super::threads::Wake;
use super::{count_engine_op, State, TimeMode, World};
use crate::backend::checked::report::StepKind;
use crate::backend::{Args, WaitKind};
use std::sync::MutexGuard;

/// What the injector has spent of its budget, and what it could not do.
#[derive(Default)]
pub(super) struct Injection {
    /// Spurious wakeups injected so far.
    pub spurious_used: u32,
}

impl World {
    /// At a step of any thread, possibly fire a pending timeout early (adversarial time)
    /// or wake a Condition waiter spuriously, as the engine chooses.
    pub(super) fn inject(&self) {
        let adversarial = self.config.time == TimeMode::Adversarial;
        let spurious = self.config.spurious;
        if !adversarial && !spurious {
            return;
        }
        let (timed, spur) = {
            let st = self.lock();
            if st.failure.is_some() || st.env.thread.is_some() {
                // With an environment thread, firing is its job (see `environment`).
                return;
            }
            let timed = if adversarial {
                st.threads
                    .blocked_where(|b| b.deadline.is_some() && b.kind != WaitKind::Sleep)
            } else {
                Vec::new()
            };
            let spur = if spurious && st.injection.spurious_used < self.config.max_spurious {
                st.threads.blocked_where(|b| b.kind == WaitKind::Condition)
            } else {
                Vec::new()
            };
            (timed, spur)
        };
        if timed.is_empty() && spur.is_empty() {
            return;
        }
        // One coin per step: fire nothing (most of the time), or one pending event.
        let options = timed.len() + spur.len();
        count_engine_op();
        let Some(c) = (self.ops.choose_weighted)(options + 3, options + 1) else {
            let what = match (adversarial, spurious) {
                (true, true) => "adversarial timeouts and spurious wakeups",
                (true, false) => "adversarial timeouts",
                _ => "spurious wakeups",
            };
            self.limitation(format!(
                "{} has no choice operator: {} were not explored",
                self.ops.name, what
            ));
            return;
        };
        if c >= options {
            return;
        }
        let mut st = self.lock();
        let (t, wake) = if c < timed.len() {
            (timed[c], Wake::TimedOut)
        } else {
            (spur[c - timed.len()], Wake::Spurious)
        };
        let Some(b) = st.threads[t].blocked().cloned() else {
            return;
        };
        match wake {
            Wake::TimedOut => {
                if let Some(d) = b.deadline {
                    st.clock.reach(d);
                }
                self.time_out(&mut st, t);
            }
            _ => self.wake_spuriously(&mut st, t),
        }
        self.wake_later(st, vec![t]);
    }

    /// When every live thread is blocked and injection is on, the engine may wake a
    /// Condition waiter spuriously instead of moving time or declaring a deadlock. `Err`
    /// holds the state after such a wakeup (the waiter is unparked); `Ok`, the state
    /// unchanged.
    pub(super) fn spurious_when_stopped<'a>(
        &'a self,
        st: MutexGuard<'a, State>,
    ) -> Result<MutexGuard<'a, State>, MutexGuard<'a, State>> {
        if !self.config.spurious
            || st.injection.spurious_used >= self.config.max_spurious
            || st.env.thread.is_some()
        {
            return Ok(st);
        }
        let waiters = st.threads.blocked_where(|b| b.kind == WaitKind::Condition);
        if waiters.is_empty() {
            return Ok(st);
        }
        drop(st);
        // Every live thread is blocked, so nothing changes while the state is released.
        let c = {
            count_engine_op();
            (self.ops.choose)(waiters.len() + 1)
        }
        .unwrap_or(0);
        let mut st = self.lock();
        if c == 0 {
            return Ok(st);
        }
        let t = waiters[c - 1];
        self.wake_spuriously(&mut st, t);
        let unparkers = st.threads.unparkers(&[t]);
        drop(st);
        for u in unparkers {
            u();
        }
        Err(self.lock())
    }

    /// End thread `t`'s Condition wait with a spurious wakeup (state only; the caller
    /// unparks).
    pub(super) fn wake_spuriously(&self, st: &mut State, t: ThreadId) {
        let Some(b) = st.threads[t].blocked().cloned() else {
            return;
        };
        st.queues.remove(b.key, t);
        st.threads[t].resume(Wake::Spurious);
        st.injection.spurious_used += 1;
        self.push(
            st,
            t,
            b.object,
            b.op,
            Args::new(),
            StepKind::Woken("spurious wakeup"),
        );
    }
}

//! The environment thread: fault injection for an engine without a choice operator.
//!
//! loom explores every interleaving of the threads it runs, but cannot make a
//! nondeterministic choice. So under loom, when a scenario asks for adversarial timeouts or
//! spurious wakeups, the checked world runs one more thread, the environment, whose only
//! steps are "fire the first pending timeout" or "wake the first Condition waiter
//! spuriously". loom then explores *when* it fires relative to every step of the model's
//! threads; *which* waiter it picks is the first eligible one in thread order. It fires at
//! most `max_spurious` spurious wakeups and [`MAX_EARLY_TIMEOUTS`] early timeouts per
//! execution, and costs one of loom's threads.

use super::ids::{ProcessId, QueueKey, ThreadId};
use super::threads::{Blocked, Unparker, Wake};
use super::{State, TimeMode, World};
use crate::backend::WaitKind;

/// At most this many timeouts fired early per execution by the environment thread.
pub(crate) const MAX_EARLY_TIMEOUTS: u32 = 2;

/// The environment thread's part of the world.
#[derive(Default)]
pub(super) struct Environment {
    /// The environment thread, when the engine has no choice operator.
    pub thread: Option<ThreadId>,
    /// Timeouts it fired early.
    fired: u32,
    /// The model's threads are done: the environment thread ends.
    shutdown: bool,
}

/// What one step of the environment thread did.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum EnvStep {
    /// Fired a timeout or a spurious wakeup.
    Fired,
    /// Nothing to fire yet: wait until something is.
    Wait,
    /// Budget spent or the execution is ending: the thread ends.
    Done,
}

impl World {
    /// Make thread `id` the environment thread.
    pub(crate) fn make_env(&self, id: ThreadId) {
        let mut st = self.lock();
        st.threads[id].env = true;
        st.env.thread = Some(id);
    }

    fn env_target(&self, st: &State) -> Option<(ThreadId, Wake, Blocked)> {
        let adversarial = self.config.time == TimeMode::Adversarial;
        for (i, t) in st.threads.iter() {
            if t.env {
                continue;
            }
            let Some(b) = t.blocked() else {
                continue;
            };
            if adversarial
                && st.env.fired < MAX_EARLY_TIMEOUTS
                && b.deadline.is_some()
                && b.kind != WaitKind::Sleep
            {
                return Some((i, Wake::TimedOut, b.clone()));
            }
            if self.config.spurious
                && st.injection.spurious_used < self.config.max_spurious
                && b.kind == WaitKind::Condition
            {
                return Some((i, Wake::Spurious, b.clone()));
            }
        }
        None
    }

    /// A process the environment thread may crash now: the first one, other than the main
    /// process, with a live thread.
    fn crash_target(&self, st: &State) -> Option<(ProcessId, ThreadId)> {
        if !self.crash_possible(st) {
            return None;
        }
        Self::live_process(st, |_| true)
    }

    /// A process the environment thread may pause now: the first one with a live thread
    /// that is not paused already.
    fn pause_target(&self, st: &State) -> Option<(ProcessId, ThreadId)> {
        if !self.pause_possible(st) {
            return None;
        }
        let now = st.clock.now;
        Self::live_process(st, |p| {
            st.processes
                .get(p)
                .paused_until
                .is_none_or(|until| until <= now)
        })
    }

    fn live_process(st: &State, pred: impl Fn(ProcessId) -> bool) -> Option<(ProcessId, ThreadId)> {
        st.threads
            .iter()
            .find(|(_, t)| {
                t.process != ProcessId::MAIN
                    && !t.dead
                    && !matches!(t.status, super::threads::Status::Finished)
                    && pred(t.process)
            })
            .map(|(i, t)| (t.process, i))
    }

    fn env_has_work(&self, st: &State) -> bool {
        self.env_target(st).is_some()
            || self.crash_target(st).is_some()
            || self.pause_target(st).is_some()
    }

    /// Whether the environment thread should go on waiting.
    pub(crate) fn env_should_wait(&self) -> bool {
        let st = self.lock();
        !st.env.shutdown && st.failure.is_none() && !self.env_has_work(&st)
    }

    /// Called when a thread has just blocked: if the environment thread waits and now has
    /// something to fire, mark it runnable and return its unparker.
    pub(super) fn env_target_appeared(&self, st: &mut State) -> Option<Unparker> {
        let env = st.env.thread?;
        if st.threads[env].blocked().is_none() || st.env.shutdown || !self.env_has_work(st) {
            return None;
        }
        st.queues.remove(QueueKey::Environment, env);
        st.threads[env].resume(Wake::Unparked);
        st.threads[env].unpark.clone()
    }

    /// One step of the environment thread.
    pub(crate) fn env_step(&self) -> EnvStep {
        let mut st = self.lock();
        if st.failure.is_some() || st.env.shutdown {
            return EnvStep::Done;
        }
        let Some((t, wake, b)) = self.env_target(&st) else {
            if let Some((process, by)) = self.crash_target(&st) {
                self.crash(st, process, by);
                return EnvStep::Fired;
            }
            if let Some((process, by)) = self.pause_target(&st) {
                self.pause(st, process, by);
                return EnvStep::Fired;
            }
            let spent_timeouts =
                self.config.time != TimeMode::Adversarial || st.env.fired >= MAX_EARLY_TIMEOUTS;
            let spent_spurious =
                !self.config.spurious || st.injection.spurious_used >= self.config.max_spurious;
            let spent_faults = st.processes.crashes >= self.config.crashes
                && st.processes.pauses >= self.config.pauses;
            return if spent_timeouts && spent_spurious && spent_faults {
                EnvStep::Done
            } else {
                EnvStep::Wait
            };
        };
        if wake == Wake::TimedOut {
            if let Some(d) = b.deadline {
                st.clock.reach(d);
            }
            st.env.fired += 1;
            self.time_out(&mut st, t);
        } else {
            self.wake_spuriously(&mut st, t);
        }
        let unparkers = st.threads.unparkers(&[t]);
        drop(st);
        for u in unparkers {
            u();
        }
        EnvStep::Fired
    }

    /// End the environment thread: the model's threads are done.
    pub(crate) fn env_shutdown(&self) {
        let mut st = self.lock();
        st.env.shutdown = true;
        let Some(env) = st.env.thread else { return };
        if st.threads[env].blocked().is_some() {
            st.queues.remove(QueueKey::Environment, env);
            st.threads[env].resume(Wake::Unparked);
            let u = st.threads[env].unpark.clone();
            drop(st);
            if let Some(u) = u {
                u();
            }
        }
    }

    /// The environment thread, if there is one.
    pub(crate) fn env_thread(&self) -> Option<ThreadId> {
        self.lock().env.thread
    }
}

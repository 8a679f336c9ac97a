//! The trace: every step, why the scheduler switched to it, and the observer that judges it.

use super::config::{Observer, StepContext};
use super::ids::{ObjectId, ThreadId};
use super::liveness::Liveness;
use super::threads::Status;
use super::{take_spare_events, State, World};
use crate::backend::checked::report::{Failure, StepKind, Switch, TraceEvent};
use crate::backend::{Args, Hold};

pub(super) struct Trace {
    pub events: Vec<TraceEvent>,
    /// The thread of the last traced step.
    last_thread: Option<ThreadId>,
    /// Steps traced so far (the step budget counts these).
    pub steps: u64,
    pub observer: Option<Box<dyn Observer>>,
}

impl Trace {
    pub fn new(observer: Option<Box<dyn Observer>>) -> Self {
        Trace {
            // Most executions trace a few dozen steps: no regrowth for those.
            events: take_spare_events(64),
            last_thread: None,
            steps: 0,
            observer,
        }
    }
}

impl World {
    /// Append a trace step; keeps the holders, runs the observer and the step budget.
    /// Returns a failure to raise, if the step caused one.
    pub(super) fn push(
        &self,
        st: &mut State,
        thread: ThreadId,
        object: Option<ObjectId>,
        op: &'static str,
        args: Args,
        kind: StepKind,
    ) -> Option<Failure> {
        self.push_holding(st, thread, object, op, args, kind, Hold::Nothing)
    }

    #[allow(clippy::too_many_arguments)] // reason: one step's fields, passed through once
    pub(super) fn push_holding(
        &self,
        st: &mut State,
        thread: ThreadId,
        object: Option<ObjectId>,
        op: &'static str,
        args: Args,
        kind: StepKind,
        hold: Hold,
    ) -> Option<Failure> {
        let switch = match (st.preemptions.take_note(thread), st.trace.last_thread) {
            (Some(preempted), _) => Some(Switch::Preempted(preempted)),
            (None, Some(prev)) if prev != thread => Some(match st.threads[prev].status {
                Status::Running => Switch::Resumed(prev),
                Status::Blocked(_) => Switch::Blocked(prev),
                Status::Finished => Switch::Finished(prev),
            }),
            _ => None,
        };
        st.trace.last_thread = Some(thread);
        st.trace.steps += 1;
        let event = TraceEvent {
            thread,
            object,
            op,
            args,
            kind,
            hold,
            time: st.clock.now,
            switch,
        };
        if let Some(obj) = object {
            st.holders.apply(obj, thread, hold);
        }
        let State {
            trace,
            objects,
            holders,
            threads,
            ..
        } = st;
        let verdict = match trace.observer.as_mut() {
            Some(obs) => obs.on_event(
                &event,
                StepContext {
                    objects: objects.infos(),
                    holders,
                    thread_names: threads.name_list(),
                },
            ),
            None => Ok(()),
        };
        trace.events.push(event);
        if let Err(v) = verdict {
            return Some(Failure::Violation {
                property: v.property,
                message: v.message,
            });
        }
        if trace.steps > self.config.max_steps {
            return Some(Failure::StepBudget {
                steps: self.config.max_steps,
            });
        }
        if self.config.liveness > 0 {
            return Liveness::after_step(st, self.config.liveness);
        }
        None
    }
}

//! Processes: groups of checked threads with their own pid, and the crash and pause faults.
//!
//! A process is started by `ProcessSpawn::spawn_process` and is its first thread plus every
//! thread that thread (or its threads) start. When crash faults are on
//! ([`WorldConfig::crashes`](super::WorldConfig)), the engine may crash a process other
//! than the main one at any traced step of one of its threads, blocking steps included, as
//! a recorded choice like a timeout (under an engine without a choice operator, the
//! environment thread does it, at every point the engine interleaves it). A crash is
//! `SIGKILL`: the process's threads vanish where they stand, nothing they hold is released
//! (CPython's multiprocessing locks stay held forever), and its exit code is `-9`.
//!
//! A pause ([`WorldConfig::pauses`](super::WorldConfig)) is `SIGSTOP` then `SIGCONT` after
//! [`pause_span`](super::WorldConfig) of virtual time (or a garbage-collection pause): the
//! process's threads take no step until the clock reaches the pause's end, while the other
//! processes go on (in timed mode the clock moves there once they are all blocked).

use super::ids::{ProcessId, ThreadId};
use super::threads::{Status, Wake};
use super::{count_engine_op, State, World};
use crate::backend::checked::report::StepKind;
use crate::backend::Args;
use std::sync::MutexGuard;

/// The engine's odds of crashing a crashable process at one of its steps: `1` in this
/// many (a random schedule crashes early, but not always; an enumerating engine tries both).
const CRASH_ODDS: usize = 8;

pub(super) struct ProcessSlot {
    pub crashed: bool,
    /// Paused until this virtual time.
    pub paused_until: Option<u64>,
}

/// Every process of the execution; index 0 is the main process (pid 1).
pub(super) struct Processes {
    slots: Vec<ProcessSlot>,
    /// Crashes so far.
    pub crashes: u32,
    /// Pauses so far.
    pub pauses: u32,
}

impl Default for Processes {
    fn default() -> Self {
        Processes {
            slots: vec![ProcessSlot {
                crashed: false,
                paused_until: None,
            }],
            crashes: 0,
            pauses: 0,
        }
    }
}

impl Processes {
    fn add(&mut self) -> ProcessId {
        self.slots.push(ProcessSlot {
            crashed: false,
            paused_until: None,
        });
        ProcessId::from_index(self.slots.len() - 1)
    }

    pub fn get(&self, p: ProcessId) -> &ProcessSlot {
        &self.slots[p.index()]
    }
}

impl World {
    /// Register a new process and its first thread (named after the process).
    pub(crate) fn new_process(&self, name: &str) -> Result<(ProcessId, ThreadId), String> {
        let thread = self.new_thread(name)?;
        let mut st = self.lock();
        let pid = st.processes.add();
        st.threads[thread].process = pid;
        // A fork: the child starts with copies of the spawner's descriptors.
        let me = self.me(&st);
        let parent = st.threads[me].process;
        st.files.fork(parent, pid);
        // An environment thread waiting for something to do has a process to crash now.
        let env = self.env_target_appeared(&mut st);
        drop(st);
        if let Some(u) = env {
            u();
        }
        Ok((pid, thread))
    }

    /// The process of the calling thread.
    pub(crate) fn current_process(&self) -> ProcessId {
        let st = self.lock();
        let me = self.me(&st);
        st.threads[me].process
    }

    /// Whether process `p` crashed.
    pub(crate) fn process_crashed(&self, p: ProcessId) -> bool {
        self.lock().processes.get(p).crashed
    }

    /// Whether the calling thread belongs to a crashed process.
    pub(crate) fn my_process_crashed_now(&self) -> bool {
        let st = self.lock();
        self.my_process_crashed(&st)
    }

    /// Whether the calling thread belongs to a crashed process (its next visible operation
    /// unwinds it).
    pub(super) fn my_process_crashed(&self, st: &State) -> bool {
        let me = self.me(st);
        st.threads[me].dead
    }

    /// After a traced step of the current thread (`blocked`: the step blocked it): the engine
    /// may crash or pause its process here. A thread paused while blocked sits the pause
    /// out when it wakes, at its next operation.
    pub(super) fn maybe_crash(&self, blocked: bool) {
        // No fault configured: nothing below can happen (every way on returns before a
        // choice), so the state is not even looked at.
        if self.config.crashes == 0 && self.config.pauses == 0 {
            return;
        }
        let st = self.lock();
        if st.env.thread.is_some() {
            return;
        }
        let me = self.me(&st);
        let process = st.threads[me].process;
        if process == ProcessId::MAIN || st.processes.get(process).crashed {
            return;
        }
        let crash = self.crash_possible(&st);
        let pause = self.pause_possible(&st);
        if !crash && !pause {
            return;
        }
        drop(st);
        count_engine_op();
        let faults = usize::from(crash) + usize::from(pause);
        let Some(c) = (self.ops.choose_weighted)(CRASH_ODDS, faults + 1) else {
            return;
        };
        let st = self.lock();
        match (c, crash, pause) {
            (0, true, _) => self.crash(st, process, me),
            (0, false, true) | (1, true, true) => {
                self.pause(st, process, me);
                if !blocked {
                    self.sit_out_pause();
                }
            }
            _ => {}
        }
    }

    pub(super) fn crash_possible(&self, st: &State) -> bool {
        st.failure.is_none() && st.processes.crashes < self.config.crashes
    }

    pub(super) fn pause_possible(&self, st: &State) -> bool {
        st.failure.is_none() && st.processes.pauses < self.config.pauses
    }

    /// Pause `process` from now for the configured span, observed at thread `by`'s step.
    pub(super) fn pause(&self, mut st: MutexGuard<'_, State>, process: ProcessId, by: ThreadId) {
        st.processes.pauses += 1;
        let until = st.clock.now.saturating_add(self.config.pause_span);
        st.processes.slots[process.index()].paused_until = Some(until);
        if let Some(f) = self.push(
            &mut st,
            by,
            None,
            "pause",
            Args::new().until(until),
            StepKind::Thread("paused"),
        ) {
            self.fail(st, f);
        }
    }

    /// If the current thread's process is paused, wait (a sleep) until the pause ends.
    pub(super) fn sit_out_pause(&self) {
        let until = {
            let st = self.lock();
            let me = self.me(&st);
            let p = st.threads[me].process;
            match st.processes.get(p).paused_until {
                Some(u) if u > st.clock.now && !st.threads[me].dead => u,
                _ => return,
            }
        };
        self.park(
            super::QueueKey::Sleep,
            None,
            "paused",
            crate::backend::WaitKind::Sleep,
            Some(crate::backend::Moment(until)),
            true,
        );
    }

    /// Crash `process`, observed by thread `by` (whose step the trace shows it at). If the
    /// current thread is one of the process's, it unwinds; the process's blocked threads
    /// are woken to unwind; its running ones unwind at their next visible operation.
    pub(super) fn crash(&self, mut st: MutexGuard<'_, State>, process: ProcessId, by: ThreadId) {
        st.processes.crashes += 1;
        st.processes.slots[process.index()].crashed = true;
        let members: Vec<ThreadId> = st
            .threads
            .iter()
            .filter(|(_, t)| t.process == process && !matches!(t.status, Status::Finished))
            .map(|(i, _)| i)
            .collect();
        let shown = if members.contains(&by) {
            by
        } else {
            members.first().copied().unwrap_or(by)
        };
        if let Some(f) = self.push(
            &mut st,
            shown,
            None,
            "crash",
            Args::new().int("exitcode", -9),
            StepKind::Thread("crashed"),
        ) {
            self.fail(st, f);
        }
        let me = self.me(&st);
        let mut woken = Vec::new();
        for &t in &members {
            st.threads[t].dead = true;
            st.holders.mark_dead(t);
            // A blocked thread runs once more, to unwind; a running one unwinds at its next
            // visible operation. Each is gone when its engine thread has unwound
            // ([`vanish`](World::vanish)), so that nothing ends the execution under it.
            if let Some(b) = st.threads[t].blocked().cloned() {
                st.queues.remove(b.key, t);
                st.threads[t].resume(Wake::Crashed);
                if t != me {
                    woken.push(t);
                }
            }
        }
        // Its descriptors close as at SIGKILL: kernel file locks drop, names and bytes stay.
        woken.extend(self.close_process_files(&mut st, process));
        // The current thread, if it is one of them, finishes the operation it is in (its
        // wake, if any) and dies at the start of its next one.
        self.wake_later(st, woken);
        self.flush();
    }

    /// The current thread of a crashed process has unwound: it is gone, and whoever joins
    /// it sees it end.
    pub(crate) fn vanish(&self) {
        let mut st = self.lock();
        let me = self.me(&st);
        st.threads[me].status = Status::Finished;
        if st.failure.is_some() {
            return;
        }
        self.engine_stop(&mut st);
        let joiners: Vec<ThreadId> = st.queues.take(super::QueueKey::Join(me)).into();
        for &j in &joiners {
            st.threads[j].resume(Wake::Unparked);
        }
        let st = self.make_progress(st);
        self.wake_later(st, joiners);
        self.flush();
    }
}

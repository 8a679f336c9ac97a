//! The thread registry: each checked thread's name, status and how to wake it.

use super::ids::{ProcessId, QueueKey, ThreadId};
use super::ObjectId;
use crate::backend::WaitKind;
use std::sync::Arc;

/// How to wake a thread that sleeps in the engine.
pub(crate) type Unparker = Arc<dyn Fn() + Send + Sync>;

/// Engine unparkers to call once the state lock is released: most steps wake one thread,
/// so a couple fit without allocating.
pub(crate) type Unparkers = smallvec::SmallVec<[Unparker; 2]>;

/// Why a blocked thread resumes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Wake {
    Unparked,
    TimedOut,
    Spurious,
    Abort,
    /// Its process crashed: the thread unwinds and vanishes.
    Crashed,
}

/// What a blocked thread waits for.
#[derive(Clone, Debug)]
pub(super) struct Blocked {
    pub key: QueueKey,
    pub object: Option<ObjectId>,
    pub op: &'static str,
    pub kind: WaitKind,
    pub deadline: Option<u64>,
}

#[derive(Clone, Debug)]
pub(super) enum Status {
    Running,
    Blocked(Blocked),
    Finished,
}

pub(super) struct ThreadSlot {
    pub status: Status,
    pub wake: Option<Wake>,
    pub unpark: Option<Unparker>,
    /// The checker's own environment thread (see `environment`), not the model's.
    pub env: bool,
    /// The process it belongs to.
    pub process: ProcessId,
    /// Its process crashed: it takes no more steps (see `processes`).
    pub dead: bool,
    /// It has taken a visible step of an operation it has not yet traced: a crash lets it
    /// finish that operation (a crash never splits one).
    pub mid_op: bool,
}

impl ThreadSlot {
    pub fn blocked(&self) -> Option<&Blocked> {
        match &self.status {
            Status::Blocked(b) => Some(b),
            _ => None,
        }
    }

    /// Mark the thread runnable, to resume with `wake` (the caller unparks it).
    pub fn resume(&mut self, wake: Wake) {
        self.status = Status::Running;
        self.wake = Some(wake);
    }
}

/// Every thread of the execution, and which engine thread runs which.
#[derive(Default)]
pub(super) struct Threads {
    slots: Vec<ThreadSlot>,
    /// The names again, in one slice (for observers).
    names: Vec<String>,
    /// Engine thread key → thread (a handful of threads: a scan beats hashing).
    keys: Vec<(u64, ThreadId)>,
    /// Name buffers of earlier executions' reports, reused by [`add`](Self::add).
    recycled: Vec<String>,
}

impl std::ops::Index<ThreadId> for Threads {
    type Output = ThreadSlot;
    fn index(&self, t: ThreadId) -> &ThreadSlot {
        &self.slots[t.index()]
    }
}

impl std::ops::IndexMut<ThreadId> for Threads {
    fn index_mut(&mut self, t: ThreadId) -> &mut ThreadSlot {
        &mut self.slots[t.index()]
    }
}

impl Threads {
    pub fn len(&self) -> usize {
        self.slots.len()
    }

    /// The thread run by engine thread `key`, if one is bound to it.
    pub fn try_of_key(&self, key: u64) -> Option<ThreadId> {
        self.keys.iter().find(|(k, _)| *k == key).map(|(_, id)| *id)
    }

    pub fn add(&mut self, name: &str, process: ProcessId) -> ThreadId {
        let id = ThreadId::from_index(self.slots.len());
        let mut buf = self.recycled.pop().unwrap_or_default();
        buf.clear();
        buf.push_str(name);
        self.names.push(buf);
        self.slots.push(ThreadSlot {
            status: Status::Running,
            wake: None,
            unpark: None,
            env: false,
            process,
            dead: false,
            mid_op: false,
        });
        id
    }

    /// The engine thread `key` runs thread `id` from now on.
    pub fn bind(&mut self, key: u64, id: ThreadId, unpark: Unparker) {
        self.keys.retain(|(k, _)| *k != key);
        self.keys.push((key, id));
        self[id].unpark = Some(unpark);
    }

    /// The thread the engine thread `key` runs.
    pub fn of_key(&self, key: u64) -> ThreadId {
        self.keys
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, id)| *id)
            .expect("lockproof: thread not started through Backend::spawn")
    }

    pub fn iter(&self) -> impl Iterator<Item = (ThreadId, &ThreadSlot)> {
        self.slots
            .iter()
            .enumerate()
            .map(|(i, t)| (ThreadId::from_index(i), t))
    }

    pub fn iter_mut(&mut self) -> impl Iterator<Item = (ThreadId, &mut ThreadSlot)> {
        self.slots
            .iter_mut()
            .enumerate()
            .map(|(i, t)| (ThreadId::from_index(i), t))
    }

    pub fn names(&self) -> Vec<String> {
        self.names.clone()
    }

    /// Keep `names` (a finished report's) as buffers for the next names.
    pub fn recycle(&mut self, names: impl IntoIterator<Item = String>) {
        super::recycle(&mut self.recycled, names);
    }

    /// Empty, keeping the allocations, for the next execution on this OS thread.
    pub fn reset(&mut self) {
        self.slots.clear();
        self.names.clear();
        self.keys.clear();
    }

    /// The names, moved out (the execution is over: nothing looks them up again).
    pub fn take_names(&mut self) -> Vec<String> {
        std::mem::take(&mut self.names)
    }

    pub fn name_list(&self) -> &[String] {
        &self.names
    }

    /// The blocked threads whose wait satisfies `pred`, in thread order.
    pub fn blocked_where(&self, pred: impl Fn(&Blocked) -> bool) -> Vec<ThreadId> {
        self.iter()
            .filter_map(|(i, t)| t.blocked().filter(|b| pred(b)).map(|_| i))
            .collect()
    }

    /// Whether no thread can run and at least one waits (the clock or a checker must act).
    pub fn all_stopped_some_blocked(&self) -> bool {
        self.slots
            .iter()
            .all(|t| !matches!(t.status, Status::Running))
            && self.slots.iter().any(|t| t.blocked().is_some())
    }

    /// The engine unparkers of `threads`.
    pub fn unparkers(&self, threads: &[ThreadId]) -> Unparkers {
        threads
            .iter()
            .filter_map(|&t| self[t].unpark.clone())
            .collect()
    }
}

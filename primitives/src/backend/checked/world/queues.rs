//! Wait queues: who is parked on which key, oldest first.

use super::super::fxhash::FxHashMap as HashMap;
use super::ids::{QueueKey, ThreadId};
use std::collections::VecDeque;

#[derive(Default)]
pub(super) struct Queues(HashMap<QueueKey, VecDeque<ThreadId>>);

impl Queues {
    /// Queue `thread` on `key` (a sleep has no queue).
    pub fn enqueue(&mut self, key: QueueKey, thread: ThreadId) {
        if key != QueueKey::Sleep {
            self.0.entry(key).or_default().push_back(thread);
        }
    }

    /// The longest waiter on `key`, dequeued.
    /// Empty, keeping the table's allocation, for the next execution on this OS thread
    /// (the keys are addresses, which change: the entries go).
    pub fn reset(&mut self) {
        self.0.clear();
    }

    pub fn pop(&mut self, key: QueueKey) -> Option<ThreadId> {
        self.0.get_mut(&key).and_then(VecDeque::pop_front)
    }

    /// Every waiter on `key`, dequeued, oldest first.
    pub fn take(&mut self, key: QueueKey) -> VecDeque<ThreadId> {
        self.0.remove(&key).unwrap_or_default()
    }

    /// Take `thread` out of `key`'s queue (its wait ended another way).
    pub fn remove(&mut self, key: QueueKey, thread: ThreadId) {
        if let Some(q) = self.0.get_mut(&key) {
            q.retain(|&x| x != thread);
        }
    }
}

//! A bounded buffer on one `Condition`: producers wait while it is full, the consumer
//! while it is empty, and both `notify_all` after a change.

use lockproof::backend::Backend;
use lockproof::Condition;
use std::collections::VecDeque;
use std::sync::Mutex;

/// A buffer of at most `capacity` items.
#[derive(Debug)]
pub struct BoundedBuffer<T, B: Backend> {
    cond: Condition<B>,
    items: Mutex<VecDeque<T>>,
    capacity: usize,
    /// The bug: `if` instead of `while` around the producer's `wait()`.
    if_wait: bool,
}

impl<T, B: Backend> BoundedBuffer<T, B> {
    /// A correct buffer of `capacity` items.
    pub fn new(capacity: usize) -> Self {
        Self::build(capacity, false)
    }

    /// The buggy buffer: a producer checks "full" with `if`, so after a wakeup it puts
    /// without checking again.
    pub fn with_if_wait(capacity: usize) -> Self {
        Self::build(capacity, true)
    }

    fn build(capacity: usize, if_wait: bool) -> Self {
        BoundedBuffer {
            cond: Condition::new().with_name("buffer"),
            items: Mutex::new(VecDeque::new()),
            capacity,
            if_wait,
        }
    }

    fn len(&self) -> usize {
        self.items.lock().unwrap_or_else(|e| e.into_inner()).len()
    }

    /// Put `item`, waiting while the buffer is full.
    pub fn put(&self, item: T) {
        let _with = self.cond.lock();
        if self.if_wait {
            if self.len() >= self.capacity {
                self.cond.wait(None).expect("the lock is held");
            }
        } else {
            while self.len() >= self.capacity {
                self.cond.wait(None).expect("the lock is held");
            }
        }
        let mut items = self.items.lock().unwrap_or_else(|e| e.into_inner());
        items.push_back(item);
        assert!(
            items.len() <= self.capacity,
            "buffer over capacity: {} items in a buffer of {}",
            items.len(),
            self.capacity
        );
        drop(items);
        self.cond.notify_all().expect("the lock is held");
    }

    /// Take the oldest item, waiting while the buffer is empty.
    pub fn take(&self) -> T {
        let _with = self.cond.lock();
        loop {
            if let Some(item) = self
                .items
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .pop_front()
            {
                self.cond.notify_all().expect("the lock is held");
                return item;
            }
            self.cond.wait(None).expect("the lock is held");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::BoundedBuffer;
    use lockproof::backend::{Backend, JoinHandle};
    use lockproof_harness::{check, Check, Model};
    use std::sync::Arc;

    /// `producers` threads put one item each into a buffer of `capacity`; main takes them.
    struct Producers {
        producers: usize,
        capacity: usize,
        buggy: bool,
    }

    impl Model for Producers {
        fn run<B: Backend>(&self) {
            let buf = Arc::new(if self.buggy {
                BoundedBuffer::<usize, B>::with_if_wait(self.capacity)
            } else {
                BoundedBuffer::<usize, B>::new(self.capacity)
            });
            let ts: Vec<_> = (0..self.producers)
                .map(|i| {
                    let buf = buf.clone();
                    B::spawn(&format!("producer{i}"), move || buf.put(i))
                })
                .collect();
            for _ in 0..self.producers {
                buf.take();
            }
            ts.into_iter().for_each(|t| t.join());
        }
    }

    #[test]
    fn if_around_wait_overfills_the_buffer() {
        let report = Check::new(Producers {
            producers: 3,
            capacity: 1,
            buggy: true,
        })
        .assert_violates("panic");
        let found = report.failure().expect("a counterexample");
        assert!(
            found.message.contains("buffer over capacity"),
            "{}",
            found.message
        );
        println!("{report}");
    }

    #[test]
    fn while_around_wait_holds() {
        check(Producers {
            producers: 3,
            capacity: 1,
            buggy: false,
        });
    }
}

//! shuttle: randomized, PCT and bounded-DFS scheduling, with a recorded choice operator.

use super::checked::{Checked, Engine};
use std::sync::Arc;

/// The shuttle engine. Its `rand` values are scheduling decisions recorded in the
/// schedule, so injected timeouts and spurious wakeups replay exactly.
#[derive(Debug)]
pub struct ShuttleEngine;

/// Primitives under shuttle.
pub type Shuttle = Checked<ShuttleEngine>;

forward_raw_atomic!(::shuttle::sync::atomic::AtomicUsize);

impl Engine for ShuttleEngine {
    const NAME: &'static str = "shuttle";
    const HAS_CHOICE: bool = true;
    const MAX_THREADS: Option<usize> = None;
    type Atomic = ::shuttle::sync::atomic::AtomicUsize;

    fn thread_key() -> u64 {
        usize::from(::shuttle::current::me()) as u64
    }

    fn unparker() -> Arc<dyn Fn() + Send + Sync> {
        let t = ::shuttle::thread::current();
        Arc::new(move || t.unpark())
    }

    fn park() {
        ::shuttle::thread::park()
    }

    fn spawn(f: Box<dyn FnOnce() + Send>) {
        drop(::shuttle::thread::spawn(f));
    }

    fn yield_now() {
        ::shuttle::thread::yield_now()
    }

    fn choose(n: usize) -> Option<usize> {
        use ::shuttle::rand::Rng;
        Some(::shuttle::rand::thread_rng().gen_range(0..n))
    }
}

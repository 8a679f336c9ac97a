//! Processes in the checked worlds: the process-shared primitives ([`crate::process`]) run
//! under loom and shuttle on the one checked wait point.
//!
//! A checked "process" is a group of checked threads in one address space, so its shared
//! memory is ordinary memory ([`LocalMemory`]: an `Arc` of the engine's atomics, every
//! access a visible step), and its process-shared wait is [`RawBackend::park`] on the word,
//! validated by a read-modify-write of it, woken by `unpark_one`/`unpark_all`.

use super::{Checked, Engine};
use crate::backend::process::{LocalMemory, ProcessBackend};
use crate::backend::{ParkRequest, ParkResult, RawAtomic, RawBackend};
use std::io;
use std::sync::atomic::Ordering::SeqCst;

// SAFETY: `park` runs the comparison in its `validate`, atomically with unparks of the same
// key (the `RawBackend` contract); fresh `LocalMemory` words are 0.
unsafe impl<E: Engine> ProcessBackend for Checked<E> {
    type Memory = LocalMemory<<Self as RawBackend>::Atomic>;

    fn alloc(words: usize) -> io::Result<Self::Memory> {
        Ok(LocalMemory::new(words))
    }

    fn current_pid() -> u32 {
        super::current_pid()
    }

    fn process_alive(pid: u32) -> bool {
        super::process_alive(pid)
    }

    fn wait_word(req: ParkRequest<'_, Self>, word: &Self::Atomic, expected: usize) -> ParkResult {
        let req = ParkRequest {
            key: word as *const Self::Atomic as usize,
            ..req
        };
        // A read-modify-write, not a load: see `Lock::acquire_slow`.
        <Self as RawBackend>::park(req, || word.fetch_add(0, SeqCst) == expected)
    }

    fn completing<R>(f: impl FnOnce() -> R) -> R {
        super::world::completing_wake(f)
    }

    fn wake_word(word: &Self::Atomic) -> bool {
        <Self as RawBackend>::unpark_one(word)
    }
}

//! # lockproof
//!
//! Python's `threading` synchronization primitives with CPython 3.11's exact semantics, in
//! Rust, running unchanged on real threads, under loom and under shuttle.
//!
//! Every type is generic over a [`Backend`](backend::Backend) that defaults to
//! [`Std`](backend::Std) (real threads), so ordinary code writes `Lock::new()`; checked code
//! writes `Lock::<B>::new()` for the backend the harness gives it.
//!
//! CALL_TABLE
#![warn(missing_docs)]

pub mod backend;
mod barrier;
mod condition;
mod error;
mod event;
mod lock;
mod rlock;
mod semaphore;
mod shared;
pub mod timeout;

pub use barrier::*;
pub use condition::*;
pub use error::{Error, PyException, Result};
pub use event::*;
pub use lock::{Lock, LockGuard};
pub use rlock::*;
pub use semaphore::*;
pub use shared::Shared;
pub use timeout::TIMEOUT_MAX;

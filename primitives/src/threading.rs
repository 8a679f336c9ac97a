//! The primitives on real threads, under Python's names: `use lockproof::threading::Lock;`
//! then `Lock::new()`, as `threading.Lock()`.
//!
//! The generic types ([`crate::Lock`] and the others) default their backend to [`Std`], but
//! Rust does not use a default type parameter to infer `Lock::new()` in an expression; these
//! aliases fix the backend so it does.

use crate::backend::Std;

/// `threading.Lock` on real threads.
pub type Lock = crate::Lock<Std>;
/// `threading.RLock` on real threads.
pub type RLock = crate::RLock<Std>;
/// `threading.Condition` on real threads.
pub type Condition = crate::Condition<Std>;
/// `threading.Semaphore` on real threads.
pub type Semaphore = crate::Semaphore<Std>;
/// `threading.BoundedSemaphore` on real threads.
pub type BoundedSemaphore = crate::BoundedSemaphore<Std>;
/// `threading.Event` on real threads.
pub type Event = crate::Event<Std>;
/// `threading.Barrier` on real threads.
pub type Barrier = crate::Barrier<Std>;
/// `threading.BrokenBarrierError` and the other exceptions.
pub use crate::Error;
/// `threading.TIMEOUT_MAX`.
pub use crate::TIMEOUT_MAX;

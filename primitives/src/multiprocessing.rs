//! The process-shared primitives on real processes, under Python's names:
//! `use lockproof::multiprocessing::Lock;` then `Lock::new()`, as `multiprocessing.Lock()`.
//!
//! The generic types of [`crate::process`] default their backend to [`Std`], but Rust does
//! not use a default type parameter to infer `Lock::new()` in an expression; these aliases
//! fix the backend so it does (as [`crate::threading`] does for the threading types).
//!
//! # Examples
//!
//! ```
//! use lockproof::multiprocessing::{Lock, Value};
//!
//! let lock = Lock::new();
//! let counter = Value::<i64>::new(0);
//! {
//!     let _g = lock.lock();
//!     counter.set_value(counter.value() + 1);
//! }
//! assert_eq!(counter.value(), 1);
//! ```

use crate::backend::Std;

/// `multiprocessing.Lock` on real processes.
pub type Lock = crate::process::Lock<Std>;
/// `multiprocessing.RLock` on real processes.
pub type RLock = crate::process::RLock<Std>;
/// `multiprocessing.Semaphore` on real processes.
pub type Semaphore = crate::process::Semaphore<Std>;
/// `multiprocessing.BoundedSemaphore` on real processes.
pub type BoundedSemaphore = crate::process::BoundedSemaphore<Std>;
/// `multiprocessing.Condition` on real processes.
pub type Condition = crate::process::Condition<Std>;
/// `multiprocessing.Event` on real processes.
pub type Event = crate::process::Event<Std>;
/// `multiprocessing.Barrier` on real processes.
pub type Barrier = crate::process::Barrier<Std>;
/// `multiprocessing.Value` on real processes.
pub type Value<T> = crate::process::Value<T, Std>;
/// `multiprocessing.RawValue` on real processes.
pub type RawValue<T> = crate::process::RawValue<T, Std>;
/// `multiprocessing.Array` on real processes.
pub type Array<T> = crate::process::Array<T, Std>;
/// `multiprocessing.RawArray` on real processes.
pub type RawArray<T> = crate::process::RawArray<T, Std>;
/// The robust extra ([`crate::process::RobustLock`]) on real processes.
pub type RobustLock = crate::process::RobustLock<Std>;
/// The lock of a Condition or a Value on real processes.
pub type AnyLock = crate::process::AnyLock<Std>;
pub use crate::process::{Handle, HandleError, RobustAcquire};
/// The exceptions.
pub use crate::Error;

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
///
/// # Examples
///
/// ```
/// use lockproof::multiprocessing::Lock;
///
/// let lock = Lock::new(); // no type annotation needed
/// assert!(lock.try_acquire());
/// ```
pub type Lock = crate::process::Lock<Std>;

/// `multiprocessing.RLock` on real processes.
///
/// # Examples
///
/// ```
/// use lockproof::multiprocessing::RLock;
///
/// let r = RLock::new();
/// let _g = r.lock();
/// assert_eq!(r.count(), 1);
/// ```
pub type RLock = crate::process::RLock<Std>;

/// `multiprocessing.Semaphore` on real processes.
///
/// # Examples
///
/// ```
/// use lockproof::multiprocessing::Semaphore;
///
/// let s = Semaphore::new(2)?;
/// assert!(s.acquire());
/// assert_eq!(s.get_value(), 1);
/// # Ok::<(), lockproof::Error>(())
/// ```
pub type Semaphore = crate::process::Semaphore<Std>;

/// `multiprocessing.BoundedSemaphore` on real processes.
///
/// # Examples
///
/// ```
/// use lockproof::multiprocessing::BoundedSemaphore;
///
/// let s = BoundedSemaphore::new(1)?;
/// assert!(s.release().is_err()); // at the bound
/// # Ok::<(), lockproof::Error>(())
/// ```
pub type BoundedSemaphore = crate::process::BoundedSemaphore<Std>;

/// `multiprocessing.Condition` on real processes.
///
/// # Examples
///
/// ```
/// use lockproof::multiprocessing::Condition;
///
/// let c = Condition::new();
/// let _g = c.lock();
/// assert_eq!(c.wait(Some(0.0)), Ok(false));
/// ```
pub type Condition = crate::process::Condition<Std>;

/// `multiprocessing.Event` on real processes.
///
/// # Examples
///
/// ```
/// use lockproof::multiprocessing::Event;
///
/// let e = Event::new();
/// e.set();
/// assert_eq!(e.wait(None), Ok(true));
/// ```
pub type Event = crate::process::Event<Std>;

/// `multiprocessing.Barrier` on real processes.
///
/// # Examples
///
/// ```
/// use lockproof::multiprocessing::Barrier;
///
/// let b = Barrier::new(1, None, None);
/// assert_eq!(b.wait(), Ok(0));
/// ```
pub type Barrier = crate::process::Barrier<Std>;

/// `multiprocessing.Value` on real processes.
///
/// # Examples
///
/// ```
/// use lockproof::multiprocessing::Value;
///
/// let v = Value::new(1.5f64); // mp.Value('d', 1.5)
/// assert_eq!(v.value(), 1.5);
/// ```
pub type Value<T> = crate::process::Value<T, Std>;

/// `multiprocessing.RawValue` on real processes.
///
/// # Examples
///
/// ```
/// use lockproof::multiprocessing::RawValue;
///
/// let v = RawValue::new(3u32); // mp.RawValue('I', 3)
/// assert_eq!(v.value(), 3);
/// ```
pub type RawValue<T> = crate::process::RawValue<T, Std>;

/// `multiprocessing.Array` on real processes.
///
/// # Examples
///
/// ```
/// use lockproof::multiprocessing::Array;
///
/// let a = Array::new(&[1i32, 2]); // mp.Array('i', [1, 2])
/// assert_eq!(a.to_vec(), [1, 2]);
/// ```
pub type Array<T> = crate::process::Array<T, Std>;

/// `multiprocessing.RawArray` on real processes.
///
/// # Examples
///
/// ```
/// use lockproof::multiprocessing::RawArray;
///
/// let a = RawArray::<u8>::new(&[0; 4]); // mp.RawArray('B', 4)
/// assert_eq!(a.len(), 4);
/// ```
pub type RawArray<T> = crate::process::RawArray<T, Std>;

/// The robust extra ([`crate::process::RobustLock`]) on real processes.
///
/// # Examples
///
/// ```
/// use lockproof::multiprocessing::{RobustAcquire, RobustLock};
///
/// let lock = RobustLock::new();
/// assert_eq!(lock.acquire(), RobustAcquire::Acquired);
/// ```
pub type RobustLock = crate::process::RobustLock<Std>;

/// The lock of a Condition or a Value on real processes.
///
/// # Examples
///
/// ```
/// use lockproof::multiprocessing::{AnyLock, Value};
///
/// let v = Value::new(0i32);
/// let lock: &AnyLock = v.get_lock();
/// assert!(matches!(lock, AnyLock::RLock(_)));
/// ```
pub type AnyLock = crate::process::AnyLock<Std>;
pub use crate::process::{Handle, HandleError, RobustAcquire};
/// The exceptions.
pub use crate::Error;

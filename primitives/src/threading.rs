//! The primitives on real threads, under Python's names: `use lockproof::threading::Lock;`
//! then `Lock::new()`, as `threading.Lock()`.
//!
//! The generic types ([`crate::Lock`] and the others) default their backend to [`Std`], but
//! Rust does not use a default type parameter to infer `Lock::new()` in an expression; these
//! aliases fix the backend so it does.

use crate::backend::Std;

/// `threading.Lock` on real threads.
///
/// # Examples
///
/// ```
/// use lockproof::threading::Lock;
///
/// let lock = Lock::new(); // threading.Lock()
/// assert!(lock.acquire());
/// ```
pub type Lock = crate::Lock<Std>;
/// `threading.RLock` on real threads.
///
/// # Examples
///
/// ```
/// use lockproof::threading::RLock;
///
/// let r = RLock::new(); // threading.RLock()
/// assert!(r.acquire() && r.acquire());
/// ```
pub type RLock = crate::RLock<Std>;
/// `threading.Condition` on real threads.
///
/// # Examples
///
/// ```
/// use lockproof::threading::Condition;
///
/// let cv = Condition::new(); // threading.Condition()
/// assert!(cv.acquire());
/// ```
pub type Condition = crate::Condition<Std>;
/// `threading.Semaphore` on real threads.
///
/// # Examples
///
/// ```
/// use lockproof::threading::Semaphore;
///
/// let sem = Semaphore::new(1)?; // threading.Semaphore(1)
/// assert!(sem.acquire());
/// # Ok::<(), lockproof::Error>(())
/// ```
pub type Semaphore = crate::Semaphore<Std>;
/// `threading.BoundedSemaphore` on real threads.
///
/// # Examples
///
/// ```
/// use lockproof::threading::BoundedSemaphore;
///
/// let sem = BoundedSemaphore::new(1)?; // threading.BoundedSemaphore(1)
/// assert!(sem.release().is_err());
/// # Ok::<(), lockproof::Error>(())
/// ```
pub type BoundedSemaphore = crate::BoundedSemaphore<Std>;
/// `threading.Event` on real threads.
///
/// # Examples
///
/// ```
/// use lockproof::threading::Event;
///
/// let e = Event::new(); // threading.Event()
/// e.set();
/// assert!(e.is_set());
/// ```
pub type Event = crate::Event<Std>;
/// `threading.Barrier` on real threads.
///
/// # Examples
///
/// ```
/// use lockproof::threading::Barrier;
///
/// let b = Barrier::new(1, None, None)?; // threading.Barrier(1)
/// assert_eq!(b.wait(), Ok(0));
/// # Ok::<(), lockproof::Error>(())
/// ```
pub type Barrier = crate::Barrier<Std>;
/// `threading.BrokenBarrierError` and the other exceptions.
pub use crate::Error;
/// `threading.TIMEOUT_MAX`.
pub use crate::TIMEOUT_MAX;

//! Python's `multiprocessing.synchronize`: locks, semaphores, conditions, events and
//! barriers shared by **processes**, with CPython 3.11's semantics and messages
//! (SEMANTICS.md §10), plus `Value` and `Array` (`multiprocessing.sharedctypes`).
//!
//! The architecture is CPython's, literally, defects included, because those are what a
//! checker must find:
//!
//! - **one process-shared object, the SemLock** (`_multiprocessing.SemLock`): a counting
//!   semaphore in shared memory, plus a per-process `count` and `last_tid`, of kind
//!   RECURSIVE_MUTEX ([`RLock`]) or SEMAPHORE ([`Lock`], [`Semaphore`],
//!   [`BoundedSemaphore`]) with a `maxvalue`;
//! - [`Condition`] is a lock plus three semaphores (sleeping, woken, wait) and a `notify`
//!   that **blocks until each woken waiter acknowledges**: a waiter that died after it was
//!   counted hangs `notify` forever (check 151);
//! - [`Event`] is `Condition(Lock())` plus a `Semaphore(0)` flag: `set(); clear()` before
//!   the waiters resume makes them return `false` (check 146);
//! - [`Barrier`] is `threading.Barrier`'s algorithm over a `Condition(RLock())` with its
//!   state and count in shared memory;
//! - [`Value`] and [`Array`] guard each access with their lock (an [`RLock`] by default)
//!   but not a read-modify-write: `v.set_value(v.value() + 1)` loses updates across
//!   processes, exactly as `v.value += 1` does.
//!
//! Nothing recovers from a crash: a lock held by a process that dies stays held forever
//! (check 150). [`RobustLock`] is an extra, not in CPython: its next acquirer is told that
//! the owner died (as pthread's `EOWNERDEAD`).
//!
//! Every type is generic over a [`ProcessBackend`] that defaults to [`Std`] (real
//! processes on Linux: memfd shared memory and futexes), and runs under loom and shuttle
//! with the checked backends. [`crate::multiprocessing`] has the aliases for real
//! processes (`use lockproof::multiprocessing::Lock; Lock::new()`), as
//! [`crate::threading`] does for threads. A child process receives an object through `fork`, or a
//! [`Handle`] in its environment when it re-executes a binary (see [`Handle`]).
//!
//! ## From Python to Rust
//!
//! | Python (`multiprocessing`) | Rust (`lockproof::process`) | behaviour mirrored |
//! |---|---|---|
//! | `mp.Lock()` | [`Lock::new`] | any process may release; `ValueError('semaphore or lock released too many times')` |
//! | `lock.acquire(block=True, timeout=None)` | [`Lock::acquire`], [`Lock::try_acquire`], [`Lock::acquire_timeout`], [`Lock::acquire_with`] | negative timeout is 0; non-blocking ignores the timeout; `inf`/NaN: `OSError` EINVAL when it must wait |
//! | `mp.RLock()` | [`RLock::new`] | owner = (process, thread); `AssertionError('attempt to release recursive lock not owned by thread')` |
//! | `mp.Semaphore(v)`, `mp.BoundedSemaphore(v)` | [`Semaphore::new`], [`BoundedSemaphore::new`] | `OSError` EINVAL for `v < 0`; no `release(n)`; `get_value()` |
//! | `mp.Condition(lock=None)` | [`Condition::new`], [`Condition::with_lock`] | `AssertionError`s; `notify` blocks until the woken acknowledge; no FIFO |
//! | `cond.wait(timeout)`, `wait_for`, `notify(n)`, `notify_all()` | [`Condition::wait`], [`Condition::wait_for`], [`Condition::notify`], [`Condition::notify_all`] | |
//! | `mp.Event()` | [`Event::new`] | `is_set` takes the lock; set-then-clear waiters return `False` |
//! | `mp.Barrier(parties, action, timeout)` | [`Barrier::new`] | `threading.Barrier`'s algorithm; `parties == 0` accepted (3.11) |
//! | `mp.Value(typecode, v, lock=True)`, `get_lock()` | [`Value::new`], [`Value::with_lock`], [`Value::get_lock`] | each access locked, `+=` is not |
//! | `mp.Array(typecode, n)`, `RawValue`, `RawArray` | [`Array::new`], [`RawValue::new`], [`RawArray::new`] | |
//! | pickling while spawning / fork | [`Handle`], `reopen()`, fork | a child owns nothing its parent held |
//! | exceptions | [`crate::Error`]: `SemLockReleasedTooManyTimes`, `RecursiveLockNotOwned`, `ConditionWaitNotOwned`, `ConditionLockNotOwned`, `Os`, `CIntOverflow`, … | CPython's class and text |
//!
//! Python's `TypeError`s (`acquire(blocking=False)`, `release(2)`, `acquire(2.5)`) are
//! compile errors here; the mapping of every conformance check is in
//! `primitives/CONFORMANCE.md`.

mod array;
mod barrier;
mod bounded_semaphore;
mod condition;
mod event;
pub(crate) mod handle;
mod lock;
mod rlock;
mod robust;
mod semaphore;
mod semlock;
mod timeout;
mod value;

pub use crate::backend::process::ProcessBackend;
pub use array::{Array, RawArray};
pub use barrier::Barrier;
pub use bounded_semaphore::BoundedSemaphore;
pub use condition::Condition;
pub use event::Event;
pub use handle::{Handle, HandleError};
pub use lock::Lock;
pub use rlock::RLock;
pub use robust::{RobustAcquire, RobustLock};
pub use semaphore::Semaphore;
pub use value::{RawValue, Scalar, Value};

use crate::backend::Std;
use crate::error::Result;
use semlock::SemLock;
use std::fmt;
use std::sync::{Arc, Mutex};

static PROCESS_NAME: Mutex<Option<String>> = Mutex::new(None);

/// `multiprocessing.current_process().name`, as the reprs show it: `"MainProcess"` unless
/// set with [`set_current_process_name`].
///
/// # Examples
///
/// ```
/// use lockproof::process::current_process_name;
///
/// assert_eq!(current_process_name(), "MainProcess");
/// ```
pub fn current_process_name() -> String {
    PROCESS_NAME
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone()
        .unwrap_or_else(|| "MainProcess".to_owned())
}

/// Name this process in reprs (CPython names a child `Process-1`, `Process-2`, …).
///
/// # Examples
///
/// ```
/// use lockproof::multiprocessing::RLock;
/// use lockproof::process::{current_process_name, set_current_process_name};
///
/// set_current_process_name("Process-1");
/// assert_eq!(current_process_name(), "Process-1");
/// let r = RLock::new();
/// let _g = r.lock();
/// assert_eq!(format!("{r:?}"), "<RLock(Process-1, 1)>");
/// ```
pub fn set_current_process_name(name: &str) {
    *PROCESS_NAME.lock().unwrap_or_else(|e| e.into_inner()) = Some(name.to_owned());
}

/// The owner as a Lock/RLock repr names it: the process name, plus `|thread` for a thread
/// other than the main one (Rust's `main`, or a thread named `MainThread`).
pub(crate) fn owner_name() -> String {
    let mut name = current_process_name();
    let thread = std::thread::current();
    match thread.name() {
        None | Some("main") | Some("MainThread") => {}
        Some(t) => {
            name.push('|');
            name.push_str(t);
        }
    }
    name
}

/// The `with` scope of a SemLock-based lock ([`Lock`], [`RLock`], [`Semaphore`],
/// [`BoundedSemaphore`], a [`Condition`]'s lock): releases on drop.
///
/// A destructor cannot return the error Python's `__exit__` would raise (a lock another
/// thread released meanwhile); [`Guard::exit`] returns it.
///
/// # Examples
///
/// ```
/// use lockproof::multiprocessing::Lock;
///
/// let lock = Lock::new();
/// {
///     let _g = lock.lock();          // with lock:
///     assert!(!lock.try_acquire());
/// }
/// assert!(lock.try_acquire());
/// lock.release()?;
/// let g = lock.lock();
/// g.exit()?;                         // leave now, seeing __exit__'s error
/// assert_eq!(lock.release(), Err(lockproof::Error::SemLockReleasedTooManyTimes));
/// # Ok::<(), lockproof::Error>(())
/// ```
#[must_use = "the lock is released when the guard drops"]
pub struct Guard<'a, B: ProcessBackend = Std> {
    sl: &'a SemLock<B>,
}

impl<B: ProcessBackend> Guard<'_, B> {
    /// Leave the `with` block now, returning what `__exit__` would raise.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::multiprocessing::Lock;
    /// use lockproof::Error;
    /// use std::sync::Arc;
    ///
    /// let lock = Arc::new(Lock::new());
    /// let g = lock.lock();
    /// let other = lock.clone();
    /// std::thread::spawn(move || other.release()).join().unwrap()?; // released behind our back
    /// assert_eq!(g.exit(), Err(Error::SemLockReleasedTooManyTimes)); // what __exit__ raises
    /// # Ok::<(), Error>(())
    /// ```
    pub fn exit(self) -> Result<()> {
        let sl = self.sl;
        std::mem::forget(self);
        sl.release()
    }
}

impl<B: ProcessBackend> Drop for Guard<'_, B> {
    fn drop(&mut self) {
        let _ = self.sl.release();
    }
}

impl<B: ProcessBackend> fmt::Debug for Guard<'_, B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Guard").finish_non_exhaustive()
    }
}

/// The lock of a [`Condition`] or a [`Value`]/[`Array`]: a multiprocessing [`Lock`] or
/// [`RLock`], shared (`Arc`) so that the same lock can guard other things too.
///
/// # Examples
///
/// ```
/// use lockproof::multiprocessing::{Condition, Lock, Value};
/// use lockproof::process::AnyLock;
/// use std::sync::Arc;
///
/// let lock = Arc::new(Lock::new());
/// let cond = Condition::with_lock(lock.clone());         // Condition(lock)
/// let v = Value::<i32>::with_lock(0, lock.clone());      // Value('i', 0, lock=lock)
/// assert!(matches!(v.get_lock(), AnyLock::Lock(_)));
/// assert!(cond.acquire());
/// assert!(!lock.try_acquire());                          // the same lock
/// cond.release()?;
/// # Ok::<(), lockproof::Error>(())
/// ```
pub enum AnyLock<B: ProcessBackend = Std> {
    /// A `multiprocessing.Lock` (not reentrant).
    Lock(Arc<Lock<B>>),
    /// A `multiprocessing.RLock`.
    RLock(Arc<RLock<B>>),
}

impl<B: ProcessBackend> AnyLock<B> {
    pub(crate) fn sl(&self) -> &SemLock<B> {
        match self {
            AnyLock::Lock(l) => &l.sl,
            AnyLock::RLock(r) => &r.sl,
        }
    }

    /// `acquire()`.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::multiprocessing::{AnyLock, Lock};
    ///
    /// let l: AnyLock = Lock::new().into();
    /// assert!(l.acquire());
    /// assert!(l.is_mine());
    /// ```
    pub fn acquire(&self) -> bool {
        self.sl().acquire()
    }

    /// `acquire(block, timeout)`.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::multiprocessing::{AnyLock, RLock};
    ///
    /// let l: AnyLock = RLock::new().into();
    /// assert_eq!(l.acquire_with(true, Some(1.0)), Ok(true));
    /// assert_eq!(l.acquire_with(false, None), Ok(true)); // an RLock: the owner again
    /// ```
    pub fn acquire_with(&self, block: bool, timeout: Option<f64>) -> Result<bool> {
        self.sl().acquire_with(block, timeout)
    }

    /// `release()`.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::multiprocessing::{AnyLock, Lock};
    /// use lockproof::Error;
    ///
    /// let l: AnyLock = Lock::new().into();
    /// assert_eq!(l.release(), Err(Error::SemLockReleasedTooManyTimes));
    /// assert!(l.acquire());
    /// l.release()?;
    /// # Ok::<(), Error>(())
    /// ```
    pub fn release(&self) -> Result<()> {
        self.sl().release()
    }

    /// `with lock:`.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::multiprocessing::{AnyLock, Lock};
    ///
    /// let l: AnyLock = Lock::new().into();
    /// {
    ///     let _g = l.lock();
    ///     assert!(l.is_mine());
    /// }
    /// assert!(!l.is_mine());
    /// ```
    pub fn lock(&self) -> Guard<'_, B> {
        self.sl().acquire();
        Guard { sl: self.sl() }
    }

    /// `_semlock._is_mine()`.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::multiprocessing::{AnyLock, RLock};
    ///
    /// let l: AnyLock = RLock::new().into();
    /// assert!(!l.is_mine());
    /// let _g = l.lock();
    /// assert!(l.is_mine());
    /// ```
    pub fn is_mine(&self) -> bool {
        self.sl().is_mine()
    }

    /// The same lock for another process (see [`Lock::reopen`]).
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::multiprocessing::{AnyLock, Lock};
    ///
    /// let l: AnyLock = Lock::new().into();
    /// let other = l.reopen(); // as another process sees it
    /// assert!(l.acquire());
    /// assert!(!other.is_mine()); // held, but not by "this process's" handle
    /// assert_eq!(other.acquire_with(false, None), Ok(false));
    /// ```
    pub fn reopen(&self) -> Self {
        match self {
            AnyLock::Lock(l) => AnyLock::Lock(Arc::new(l.reopen())),
            AnyLock::RLock(r) => AnyLock::RLock(Arc::new(r.reopen())),
        }
    }

    pub(crate) fn memory(&self) -> &B::Memory {
        self.sl().memory()
    }

    pub(crate) fn from_memory(mem: B::Memory) -> std::result::Result<Self, HandleError> {
        use handle::Parts;
        let mut one = std::iter::once(mem.clone());
        match RLock::<B>::from_parts(&mut one) {
            Ok(r) => Ok(AnyLock::RLock(Arc::new(r))),
            Err(_) => Ok(AnyLock::Lock(Arc::new(Lock::from_parts(
                &mut std::iter::once(mem),
            )?))),
        }
    }
}

impl<B: ProcessBackend> Clone for AnyLock<B> {
    /// Another reference to the same lock object (not a reopen).
    fn clone(&self) -> Self {
        match self {
            AnyLock::Lock(l) => AnyLock::Lock(l.clone()),
            AnyLock::RLock(r) => AnyLock::RLock(r.clone()),
        }
    }
}

impl<B: ProcessBackend> From<Lock<B>> for AnyLock<B> {
    fn from(l: Lock<B>) -> Self {
        AnyLock::Lock(Arc::new(l))
    }
}

impl<B: ProcessBackend> From<RLock<B>> for AnyLock<B> {
    fn from(r: RLock<B>) -> Self {
        AnyLock::RLock(Arc::new(r))
    }
}

impl<B: ProcessBackend> From<Arc<Lock<B>>> for AnyLock<B> {
    fn from(l: Arc<Lock<B>>) -> Self {
        AnyLock::Lock(l)
    }
}

impl<B: ProcessBackend> From<Arc<RLock<B>>> for AnyLock<B> {
    fn from(r: Arc<RLock<B>>) -> Self {
        AnyLock::RLock(r)
    }
}

impl<B: ProcessBackend> fmt::Debug for AnyLock<B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AnyLock::Lock(l) => l.fmt(f),
            AnyLock::RLock(r) => r.fmt(f),
        }
    }
}

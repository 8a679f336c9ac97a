//! `multiprocessing.Lock`: a SemLock of kind SEMAPHORE with value 1 and maxvalue 1.

use super::handle::{next, shareable, HandleError, Parts};
use super::semlock::{Kind, SemLock};
use super::{owner_name, Guard};
use crate::backend::process::ProcessBackend;
use crate::backend::{ObjectTag, Std};
use crate::error::Result;
use std::fmt;

/// Python's `multiprocessing.Lock()` (CPython 3.11; SEMANTICS.md §10.4): a non-recursive
/// lock shared by processes.
///
/// - **Any thread of any process may release it** (check 129, 130); releasing it when it is
///   free is `ValueError('semaphore or lock released too many times')` (not threading's
///   `RuntimeError`).
/// - `acquire(block=True, timeout=None)`: the parameter is `block`; a negative timeout is
///   0; a non-blocking call ignores its timeout; an `inf`, NaN or ≥ 2^63 s timeout is
///   `OSError('[Errno 22] Invalid argument')` when the call must wait (check 152).
/// - **No crash recovery**: if its holder dies, it stays held forever (check 150); see
///   [`RobustLock`](super::RobustLock) for a lock that reports its owner's death.
/// - No `locked()` (added in 3.14).
///
/// | Python | Rust |
/// |---|---|
/// | `mp.Lock()` | [`Lock::new`] |
/// | `acquire()` | [`Lock::acquire`] |
/// | `acquire(False)` | [`Lock::try_acquire`] |
/// | `acquire(timeout=t)` | [`Lock::acquire_timeout`] |
/// | `acquire(block, timeout)` | [`Lock::acquire_with`] |
/// | `release()` | [`Lock::release`] |
/// | `with lock:` | [`Lock::lock`] |
/// | `repr(lock)` | `{:?}`: `<Lock(owner=None)>`, `<Lock(owner=MainProcess)>`, … |
///
/// # Examples
///
/// ```
/// use lockproof::multiprocessing::Lock;
/// use lockproof::{Error, PyException};
///
/// let lock = Lock::new();
/// assert!(lock.acquire());
/// assert!(!lock.try_acquire());
/// assert_eq!(lock.acquire_with(false, Some(5.0)), Ok(false)); // the timeout is ignored
/// assert_eq!(lock.acquire_timeout(-5.0), Ok(false));           // negative: 0
/// lock.release()?;
/// let err = lock.release().unwrap_err();
/// assert_eq!(err, Error::SemLockReleasedTooManyTimes);
/// assert_eq!(err.exception(), PyException::ValueError);
/// assert_eq!(err.to_string(), "semaphore or lock released too many times");
/// assert_eq!(format!("{lock:?}"), "<Lock(owner=None)>");
/// # Ok::<(), Error>(())
/// ```
pub struct Lock<B: ProcessBackend = Std> {
    pub(crate) sl: SemLock<B>,
}

impl<B: ProcessBackend> Default for Lock<B> {
    fn default() -> Self {
        Self::new()
    }
}

impl<B: ProcessBackend> Lock<B> {
    /// `multiprocessing.Lock()`: unlocked.
    ///
    /// # Panics
    ///
    /// If the OS refuses shared memory (`memfd_create` or `mmap` fails; CPython's
    /// `sem_open` would raise `OSError`). [`Lock::try_new`] returns the error instead.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::multiprocessing::Lock;
    ///
    /// let lock = Lock::new();
    /// assert_eq!(lock.value(), 1); // free
    /// ```
    pub fn new() -> Self {
        Self::try_new().unwrap_or_else(|e| panic!("multiprocessing.Lock(): {e}"))
    }

    /// `multiprocessing.Lock()`, or the `OSError` of allocating its shared memory.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::multiprocessing::Lock;
    ///
    /// let lock = Lock::try_new()?;
    /// assert!(lock.try_acquire());
    /// # Ok::<(), lockproof::Error>(())
    /// ```
    pub fn try_new() -> Result<Self> {
        Ok(Lock {
            sl: SemLock::named(Kind::Semaphore, 1, 1, "mp.Lock")?,
        })
    }

    /// Name the lock in checker traces (no effect on real processes).
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::multiprocessing::Lock;
    ///
    /// let lock = Lock::new().with_name("forks[0]"); // how a checker trace calls it
    /// assert!(lock.acquire());
    /// ```
    pub fn with_name(self, name: &str) -> Self {
        self.sl.tag.set_name(name);
        self
    }

    /// The lock's trace identity.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::multiprocessing::Lock;
    ///
    /// // Real processes keep no trace: the tag is zero-sized.
    /// assert_eq!(std::mem::size_of_val(Lock::new().tag()), 0);
    /// ```
    pub fn tag(&self) -> &B::Tag {
        &self.sl.tag
    }

    /// `acquire()`: block until taken. Always true.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::multiprocessing::Lock;
    ///
    /// let lock = Lock::new();
    /// assert!(lock.acquire());
    /// assert!(lock.is_mine());
    /// ```
    pub fn acquire(&self) -> bool {
        self.sl.acquire()
    }

    /// `acquire(False)`: take it if free; never blocks.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::multiprocessing::Lock;
    ///
    /// let lock = Lock::new();
    /// assert!(lock.try_acquire());
    /// assert!(!lock.try_acquire()); // not reentrant
    /// ```
    pub fn try_acquire(&self) -> bool {
        self.sl.try_acquire()
    }

    /// `acquire(timeout=t)`: false if not taken within `t` seconds (negative: 0).
    /// `OSError('[Errno 22] Invalid argument')` for `inf`, NaN or ≥ 2^63 when it must wait.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::multiprocessing::Lock;
    /// use lockproof::Error;
    ///
    /// let lock = Lock::new();
    /// assert_eq!(lock.acquire_timeout(1.0), Ok(true));
    /// assert_eq!(lock.acquire_timeout(0.01), Ok(false)); // held: times out
    /// assert_eq!(lock.acquire_timeout(f64::NAN), Err(Error::os(22))); // OSError: must wait
    /// ```
    pub fn acquire_timeout(&self, timeout: f64) -> Result<bool> {
        self.sl.acquire_with(true, Some(timeout))
    }

    /// `acquire(block, timeout)`: with `block == false` the timeout is ignored.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::multiprocessing::Lock;
    ///
    /// let lock = Lock::new();
    /// assert_eq!(lock.acquire_with(true, None), Ok(true));
    /// assert_eq!(lock.acquire_with(false, Some(60.0)), Ok(false)); // no wait at all
    /// ```
    pub fn acquire_with(&self, block: bool, timeout: Option<f64>) -> Result<bool> {
        self.sl.acquire_with(block, timeout)
    }

    /// `release()`, from any thread or process.
    /// `ValueError('semaphore or lock released too many times')` if it is free.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::multiprocessing::Lock;
    /// use std::sync::Arc;
    ///
    /// let lock = Arc::new(Lock::new());
    /// assert!(lock.acquire());
    /// // Any thread (or process) may release it.
    /// let other = lock.clone();
    /// std::thread::spawn(move || other.release()).join().unwrap()?;
    /// assert_eq!(lock.value(), 1);
    /// # Ok::<(), lockproof::Error>(())
    /// ```
    pub fn release(&self) -> Result<()> {
        self.sl.release()
    }

    /// `with lock:` — acquire; release when the guard drops.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::multiprocessing::Lock;
    ///
    /// let lock = Lock::new();
    /// {
    ///     let _g = lock.lock();
    ///     assert_eq!(lock.value(), 0);
    /// }
    /// assert_eq!(lock.value(), 1); // released with the guard
    /// ```
    pub fn lock(&self) -> Guard<'_, B> {
        self.sl.acquire();
        Guard { sl: &self.sl }
    }

    /// `_semlock._is_mine()`: held, acquired last by the calling thread of this process.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::multiprocessing::Lock;
    /// use std::sync::Arc;
    ///
    /// let lock = Arc::new(Lock::new());
    /// assert!(!lock.is_mine());
    /// assert!(lock.acquire());
    /// assert!(lock.is_mine());
    /// let other = lock.clone();
    /// assert!(!std::thread::spawn(move || other.is_mine()).join().unwrap());
    /// ```
    pub fn is_mine(&self) -> bool {
        self.sl.is_mine()
    }

    /// `_semlock._count()`: this process's acquires minus releases through this handle.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::multiprocessing::Lock;
    ///
    /// let lock = Lock::new();
    /// assert_eq!(lock.count(), 0);
    /// assert!(lock.acquire());
    /// assert_eq!(lock.count(), 1);
    /// ```
    pub fn count(&self) -> isize {
        self.sl.count()
    }

    /// `_semlock._get_value()`: 1 when free, 0 when held (by anyone).
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::multiprocessing::Lock;
    ///
    /// let lock = Lock::new();
    /// assert_eq!(lock.value(), 1);
    /// let _g = lock.lock();
    /// assert_eq!(lock.value(), 0);
    /// ```
    pub fn value(&self) -> usize {
        self.sl.value()
    }
}

impl<B: ProcessBackend> fmt::Debug for Lock<B> {
    /// CPython's repr: `<Lock(owner=None)>`, `<Lock(owner=MainProcess)>`
    /// (`MainProcess|Thread` on another thread), `<Lock(owner=SomeOtherThread)>`,
    /// `<Lock(owner=SomeOtherProcess)>`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = if self.sl.is_mine() {
            owner_name()
        } else if self.sl.value() == 1 {
            "None".to_owned()
        } else if self.sl.count() > 0 {
            "SomeOtherThread".to_owned()
        } else {
            "SomeOtherProcess".to_owned()
        };
        write!(f, "<Lock(owner={name})>")
    }
}

impl<B: ProcessBackend> Parts<B> for Lock<B> {
    fn parts(&self, out: &mut Vec<B::Memory>) {
        out.push(self.sl.memory().clone());
    }
    fn from_parts(parts: &mut dyn Iterator<Item = B::Memory>) -> Result<Self, HandleError> {
        let sl = SemLock::attach_named(next::<B>(parts)?, "mp.Lock")?;
        if sl.kind() != Kind::Semaphore || sl.maxvalue() != 1 {
            return Err(HandleError::Mismatch("not a Lock"));
        }
        Ok(Lock { sl })
    }
}

shareable!(Lock, "Lock::new()");

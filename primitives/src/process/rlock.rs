//! `multiprocessing.RLock`: a SemLock of kind RECURSIVE_MUTEX, owned per (process, thread).

use super::handle::{next, shareable, HandleError, Parts};
use super::semlock::{Kind, SemLock};
use super::{owner_name, Guard};
use crate::backend::process::ProcessBackend;
use crate::backend::{ObjectTag, Std};
use crate::error::Result;
use std::fmt;

/// Python's `multiprocessing.RLock()` (CPython 3.11; SEMANTICS.md §10.5): a recursive lock
/// shared by processes, owned by one thread of one process.
///
/// - The owner re-acquires at once, even with `block=false` and before any timeout is
///   looked at; every other thread (of this process or another) waits.
/// - **Only the owner may release**: anyone else, in this process or another (a forked or
///   re-executed child included, checks 132 and 134), gets
///   `AssertionError('attempt to release recursive lock not owned by thread')` — a real
///   exception, not a Python `assert` (`python -O` keeps it). This differs from
///   `threading.RLock` (`RuntimeError('cannot release un-acquired lock')`).
/// - Timeouts as [`Lock`](super::Lock).
///
/// # Examples
///
/// ```
/// use lockproof::multiprocessing::RLock;
/// use lockproof::{Error, PyException};
///
/// let r = RLock::new();
/// let err = r.release().unwrap_err();
/// assert_eq!(err, Error::RecursiveLockNotOwned);
/// assert_eq!(err.exception(), PyException::AssertionError);
/// assert!(r.acquire());
/// assert!(r.try_acquire()); // reentrant
/// assert_eq!(r.count(), 2);
/// r.release()?;
/// r.release()?;
/// assert_eq!(format!("{r:?}"), "<RLock(None, 0)>");
/// # Ok::<(), Error>(())
/// ```
pub struct RLock<B: ProcessBackend = Std> {
    pub(crate) sl: SemLock<B>,
}

impl<B: ProcessBackend> Default for RLock<B> {
    fn default() -> Self {
        Self::new()
    }
}

impl<B: ProcessBackend> RLock<B> {
    /// `multiprocessing.RLock()`: free.
    ///
    /// # Panics
    ///
    /// If the OS refuses shared memory; [`RLock::try_new`] returns the error instead.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::multiprocessing::RLock;
    ///
    /// let r = RLock::new();
    /// assert_eq!(r.count(), 0);
    /// assert!(!r.is_mine());
    /// ```
    pub fn new() -> Self {
        Self::try_new().unwrap_or_else(|e| panic!("multiprocessing.RLock(): {e}"))
    }

    /// `multiprocessing.RLock()`, or the `OSError` of allocating its shared memory.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::multiprocessing::RLock;
    ///
    /// let r = RLock::try_new()?;
    /// assert!(r.acquire());
    /// # Ok::<(), lockproof::Error>(())
    /// ```
    pub fn try_new() -> Result<Self> {
        Ok(RLock {
            sl: SemLock::named(Kind::RecursiveMutex, 1, 1, "mp.RLock")?,
        })
    }

    /// Name the lock in checker traces (no effect on real processes).
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::multiprocessing::RLock;
    ///
    /// let r = RLock::new().with_name("table"); // how a checker trace calls it
    /// assert!(r.acquire());
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
    /// use lockproof::multiprocessing::RLock;
    ///
    /// // Real processes keep no trace: the tag is zero-sized.
    /// assert_eq!(std::mem::size_of_val(RLock::new().tag()), 0);
    /// ```
    pub fn tag(&self) -> &B::Tag {
        &self.sl.tag
    }

    /// `acquire()`: block until owned (at once for the owner). Always true.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::multiprocessing::RLock;
    ///
    /// let r = RLock::new();
    /// assert!(r.acquire());
    /// assert!(r.acquire()); // the owner again: at once
    /// assert_eq!(r.count(), 2);
    /// ```
    pub fn acquire(&self) -> bool {
        self.sl.acquire()
    }

    /// `acquire(False)`: true for the owner or if free.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::multiprocessing::RLock;
    /// use std::sync::Arc;
    ///
    /// let r = Arc::new(RLock::new());
    /// assert!(r.try_acquire());
    /// assert!(r.try_acquire()); // the owner
    /// let other = r.clone();
    /// assert!(!std::thread::spawn(move || other.try_acquire()).join().unwrap());
    /// ```
    pub fn try_acquire(&self) -> bool {
        self.sl.try_acquire()
    }

    /// `acquire(timeout=t)`; see [`Lock::acquire_timeout`](super::Lock::acquire_timeout).
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::multiprocessing::RLock;
    /// use std::sync::Arc;
    ///
    /// let r = Arc::new(RLock::new());
    /// assert_eq!(r.acquire_timeout(1.0), Ok(true));
    /// let other = r.clone();
    /// let got = std::thread::spawn(move || other.acquire_timeout(0.01)).join().unwrap();
    /// assert_eq!(got, Ok(false)); // owned by this thread: the other times out
    /// ```
    pub fn acquire_timeout(&self, timeout: f64) -> Result<bool> {
        self.sl.acquire_with(true, Some(timeout))
    }

    /// `acquire(block, timeout)`: the owner gets `true` before the timeout is examined.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::multiprocessing::RLock;
    ///
    /// let r = RLock::new();
    /// assert!(r.acquire());
    /// // The owner succeeds before the (invalid) timeout is looked at.
    /// assert_eq!(r.acquire_with(true, Some(f64::NAN)), Ok(true));
    /// assert_eq!(r.count(), 2);
    /// ```
    pub fn acquire_with(&self, block: bool, timeout: Option<f64>) -> Result<bool> {
        self.sl.acquire_with(block, timeout)
    }

    /// `release()`: one level. A non-owner gets
    /// `AssertionError('attempt to release recursive lock not owned by thread')`.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::multiprocessing::RLock;
    /// use lockproof::Error;
    ///
    /// let r = RLock::new();
    /// assert_eq!(r.release(), Err(Error::RecursiveLockNotOwned));
    /// assert!(r.acquire());
    /// r.release()?;
    /// assert_eq!(r.count(), 0);
    /// # Ok::<(), Error>(())
    /// ```
    pub fn release(&self) -> Result<()> {
        self.sl.release()
    }

    /// `with rlock:` — acquire; release when the guard drops.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::multiprocessing::RLock;
    ///
    /// let r = RLock::new();
    /// {
    ///     let _outer = r.lock();
    ///     let _inner = r.lock(); // reentrant
    ///     assert_eq!(r.count(), 2);
    /// }
    /// assert_eq!(r.count(), 0);
    /// ```
    pub fn lock(&self) -> Guard<'_, B> {
        self.sl.acquire();
        Guard { sl: &self.sl }
    }

    /// `_semlock._is_mine()`: owned by the calling thread of this process.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::multiprocessing::RLock;
    ///
    /// let r = RLock::new();
    /// let _g = r.lock();
    /// assert!(r.is_mine());
    /// ```
    pub fn is_mine(&self) -> bool {
        self.sl.is_mine()
    }

    /// `_semlock._count()`: the recursion depth, if owned by a thread of this process.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::multiprocessing::RLock;
    ///
    /// let r = RLock::new();
    /// for depth in 1..=3 {
    ///     assert!(r.acquire());
    ///     assert_eq!(r.count(), depth);
    /// }
    /// ```
    pub fn count(&self) -> isize {
        self.sl.count()
    }
}

impl<B: ProcessBackend> fmt::Debug for RLock<B> {
    /// CPython's repr: `<RLock(None, 0)>`, `<RLock(MainProcess, 3)>`,
    /// `<RLock(SomeOtherThread, nonzero)>`, `<RLock(SomeOtherProcess, nonzero)>`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.sl.is_mine() {
            write!(f, "<RLock({}, {})>", owner_name(), self.sl.count())
        } else if self.sl.value() == 1 {
            f.write_str("<RLock(None, 0)>")
        } else if self.sl.count() > 0 {
            f.write_str("<RLock(SomeOtherThread, nonzero)>")
        } else {
            f.write_str("<RLock(SomeOtherProcess, nonzero)>")
        }
    }
}

impl<B: ProcessBackend> Parts<B> for RLock<B> {
    fn parts(&self, out: &mut Vec<B::Memory>) {
        out.push(self.sl.memory().clone());
    }
    fn from_parts(parts: &mut dyn Iterator<Item = B::Memory>) -> Result<Self, HandleError> {
        let sl = SemLock::attach_named(next::<B>(parts)?, "mp.RLock")?;
        if sl.kind() != Kind::RecursiveMutex {
            return Err(HandleError::Mismatch("not an RLock"));
        }
        Ok(RLock { sl })
    }
}

shareable!(RLock, "RLock::new()");

//! `multiprocessing.BoundedSemaphore`: a SemLock of kind SEMAPHORE with maxvalue = value.

use super::handle::{next, shareable, HandleError, Parts};
use super::semlock::{c_int_value, Kind, SemLock};
use super::Guard;
use crate::backend::process::ProcessBackend;
use crate::backend::{ObjectTag, Std};
use crate::error::Result;
use std::fmt;

/// Python's `multiprocessing.BoundedSemaphore(value=1)` (CPython 3.11 on Linux;
/// SEMANTICS.md §10.6).
///
/// - A release at the initial value is
///   `ValueError('semaphore or lock released too many times')`. The check reads the value
///   and then posts: it is not atomic with the post (CPython's own comment), so two
///   processes releasing at once can both pass it.
/// - `BoundedSemaphore(0)` is allowed; its `release()` raises at once.
/// - Construction errors and timeouts as [`Semaphore`](super::Semaphore).
///
/// # Examples
///
/// ```
/// use lockproof::multiprocessing::BoundedSemaphore;
/// use lockproof::Error;
///
/// let s = BoundedSemaphore::new(2)?;
/// assert_eq!(format!("{s:?}"), "<BoundedSemaphore(value=2, maxvalue=2)>");
/// assert_eq!(s.release(), Err(Error::SemLockReleasedTooManyTimes));
/// assert!(s.try_acquire());
/// s.release()?;
/// # Ok::<(), Error>(())
/// ```
pub struct BoundedSemaphore<B: ProcessBackend = Std> {
    pub(crate) sl: SemLock<B>,
}

impl<B: ProcessBackend> BoundedSemaphore<B> {
    /// `multiprocessing.BoundedSemaphore(value)`.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::multiprocessing::BoundedSemaphore;
    ///
    /// let s = BoundedSemaphore::new(2)?;
    /// assert_eq!(s.get_value(), 2);
    /// assert!(BoundedSemaphore::new(-1).is_err()); // OSError: [Errno 22] Invalid argument
    /// # Ok::<(), lockproof::Error>(())
    /// ```
    pub fn new(value: i64) -> Result<Self> {
        let v = c_int_value(value)?;
        Ok(BoundedSemaphore {
            sl: SemLock::named(Kind::Semaphore, v, v, "mp.BoundedSemaphore")?,
        })
    }

    /// Name the semaphore in checker traces (no effect on real processes).
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::multiprocessing::BoundedSemaphore;
    ///
    /// let s = BoundedSemaphore::new(1)?.with_name("slots"); // how a checker trace calls it
    /// assert!(s.acquire());
    /// # Ok::<(), lockproof::Error>(())
    /// ```
    pub fn with_name(self, name: &str) -> Self {
        self.sl.tag.set_name(name);
        self
    }

    /// The semaphore's trace identity.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::multiprocessing::BoundedSemaphore;
    ///
    /// // Real processes keep no trace: the tag is zero-sized.
    /// assert_eq!(std::mem::size_of_val(BoundedSemaphore::new(1)?.tag()), 0);
    /// # Ok::<(), lockproof::Error>(())
    /// ```
    pub fn tag(&self) -> &B::Tag {
        &self.sl.tag
    }

    /// `acquire()`: block until a unit is taken. Always true.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::multiprocessing::BoundedSemaphore;
    ///
    /// let s = BoundedSemaphore::new(2)?;
    /// assert!(s.acquire());
    /// assert_eq!(s.get_value(), 1);
    /// # Ok::<(), lockproof::Error>(())
    /// ```
    pub fn acquire(&self) -> bool {
        self.sl.acquire()
    }

    /// `acquire(False)`.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::multiprocessing::BoundedSemaphore;
    ///
    /// let s = BoundedSemaphore::new(1)?;
    /// assert!(s.try_acquire());
    /// assert!(!s.try_acquire()); // no unit left
    /// # Ok::<(), lockproof::Error>(())
    /// ```
    pub fn try_acquire(&self) -> bool {
        self.sl.try_acquire()
    }

    /// `acquire(timeout=t)`; see [`Lock::acquire_timeout`](super::Lock::acquire_timeout).
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::multiprocessing::BoundedSemaphore;
    ///
    /// let s = BoundedSemaphore::new(1)?;
    /// assert_eq!(s.acquire_timeout(1.0), Ok(true));
    /// assert_eq!(s.acquire_timeout(0.01), Ok(false)); // none left: times out
    /// assert_eq!(s.acquire_timeout(-1.0), Ok(false)); // negative: a poll
    /// # Ok::<(), lockproof::Error>(())
    /// ```
    pub fn acquire_timeout(&self, timeout: f64) -> Result<bool> {
        self.sl.acquire_with(true, Some(timeout))
    }

    /// `acquire(block, timeout)`.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::multiprocessing::BoundedSemaphore;
    ///
    /// let s = BoundedSemaphore::new(0)?;
    /// assert_eq!(s.acquire_with(false, Some(60.0)), Ok(false)); // never waits
    /// # Ok::<(), lockproof::Error>(())
    /// ```
    pub fn acquire_with(&self, block: bool, timeout: Option<f64>) -> Result<bool> {
        self.sl.acquire_with(block, timeout)
    }

    /// `release()`: `ValueError('semaphore or lock released too many times')` at the
    /// bound.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::multiprocessing::BoundedSemaphore;
    /// use lockproof::Error;
    ///
    /// let s = BoundedSemaphore::new(1)?;
    /// assert_eq!(s.release(), Err(Error::SemLockReleasedTooManyTimes)); // at the bound
    /// assert!(s.acquire());
    /// s.release()?;
    /// # Ok::<(), Error>(())
    /// ```
    pub fn release(&self) -> Result<()> {
        self.sl.release()
    }

    /// `with sem:` — acquire; release when the guard drops.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::multiprocessing::BoundedSemaphore;
    ///
    /// let s = BoundedSemaphore::new(1)?;
    /// {
    ///     let _g = s.lock();
    ///     assert_eq!(s.get_value(), 0);
    /// }
    /// assert_eq!(s.get_value(), 1);
    /// # Ok::<(), lockproof::Error>(())
    /// ```
    pub fn lock(&self) -> Guard<'_, B> {
        self.sl.acquire();
        Guard { sl: &self.sl }
    }

    /// `get_value()`.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::multiprocessing::BoundedSemaphore;
    ///
    /// let s = BoundedSemaphore::new(3)?;
    /// assert!(s.acquire());
    /// assert_eq!(s.get_value(), 2);
    /// # Ok::<(), lockproof::Error>(())
    /// ```
    pub fn get_value(&self) -> usize {
        self.sl.value()
    }

    /// `_semlock.maxvalue`: the bound (the initial value).
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::multiprocessing::BoundedSemaphore;
    ///
    /// let s = BoundedSemaphore::new(2)?;
    /// assert!(s.acquire());
    /// assert_eq!((s.get_value(), s.maxvalue()), (1, 2));
    /// # Ok::<(), lockproof::Error>(())
    /// ```
    pub fn maxvalue(&self) -> usize {
        self.sl.maxvalue()
    }
}

impl<B: ProcessBackend> fmt::Debug for BoundedSemaphore<B> {
    /// CPython's repr: `<BoundedSemaphore(value=N, maxvalue=M)>`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "<BoundedSemaphore(value={}, maxvalue={})>",
            self.sl.value(),
            self.sl.maxvalue()
        )
    }
}

impl<B: ProcessBackend> Parts<B> for BoundedSemaphore<B> {
    fn parts(&self, out: &mut Vec<B::Memory>) {
        out.push(self.sl.memory().clone());
    }
    fn from_parts(parts: &mut dyn Iterator<Item = B::Memory>) -> Result<Self, HandleError> {
        let sl = SemLock::attach_named(next::<B>(parts)?, "mp.BoundedSemaphore")?;
        if sl.kind() != Kind::Semaphore {
            return Err(HandleError::Mismatch("not a BoundedSemaphore"));
        }
        Ok(BoundedSemaphore { sl })
    }
}

shareable!(BoundedSemaphore, "BoundedSemaphore::new(1).unwrap()");

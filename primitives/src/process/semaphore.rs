//! `multiprocessing.Semaphore`: a SemLock of kind SEMAPHORE with maxvalue `SEM_VALUE_MAX`.

use super::handle::{next, shareable, HandleError, Parts};
use super::semlock::{c_int_value, Kind, SemLock};
use super::Guard;
use crate::backend::process::{ProcessBackend, SEM_VALUE_MAX};
use crate::backend::{ObjectTag, Std};
use crate::error::Result;
use std::fmt;

/// Python's `multiprocessing.Semaphore(value=1)` (CPython 3.11; SEMANTICS.md §10.6).
///
/// - `Semaphore(-1)` is `OSError('[Errno 22] Invalid argument')` (from `sem_open`, not
///   threading's `ValueError`); a value beyond a C `int` is
///   `OverflowError('Python int too large to convert to C int')`.
/// - `release()` takes no `n` (3.11) and succeeds up to `SEM_VALUE_MAX` (2147483647).
/// - No FIFO promise: which waiter a release wakes is up to the OS.
/// - Timeouts as [`Lock`](super::Lock).
///
/// # Examples
///
/// ```
/// use lockproof::multiprocessing::Semaphore;
/// use lockproof::{Error, PyException};
///
/// let s = Semaphore::new(2)?;
/// assert_eq!(s.get_value(), 2);
/// s.release()?;
/// assert_eq!(s.get_value(), 3); // unbounded
/// assert_eq!(format!("{s:?}"), "<Semaphore(value=3)>");
/// let err = Semaphore::new(-1).unwrap_err();
/// assert_eq!((err.exception(), err.to_string()), (PyException::OSError, "[Errno 22] Invalid argument".to_owned()));
/// assert_eq!(Semaphore::new(1 << 31).unwrap_err(), Error::CIntOverflow);
/// # Ok::<(), Error>(())
/// ```
pub struct Semaphore<B: ProcessBackend = Std> {
    pub(crate) sl: SemLock<B>,
}

impl<B: ProcessBackend> Semaphore<B> {
    /// `multiprocessing.Semaphore(value)`.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::multiprocessing::Semaphore;
    ///
    /// let s = Semaphore::new(2)?;
    /// assert_eq!(s.get_value(), 2);
    /// assert!(Semaphore::new(-1).is_err()); // OSError: [Errno 22] Invalid argument
    /// # Ok::<(), lockproof::Error>(())
    /// ```
    pub fn new(value: i64) -> Result<Self> {
        let v = c_int_value(value)?;
        Ok(Semaphore {
            sl: SemLock::named(Kind::Semaphore, v, SEM_VALUE_MAX, "mp.Semaphore")?,
        })
    }

    /// Name the semaphore in checker traces (no effect on real processes).
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::multiprocessing::Semaphore;
    ///
    /// let s = Semaphore::new(1)?.with_name("slots"); // how a checker trace calls it
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
    /// use lockproof::multiprocessing::Semaphore;
    ///
    /// // Real processes keep no trace: the tag is zero-sized.
    /// assert_eq!(std::mem::size_of_val(Semaphore::new(1)?.tag()), 0);
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
    /// use lockproof::multiprocessing::Semaphore;
    ///
    /// let s = Semaphore::new(2)?;
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
    /// use lockproof::multiprocessing::Semaphore;
    ///
    /// let s = Semaphore::new(1)?;
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
    /// use lockproof::multiprocessing::Semaphore;
    ///
    /// let s = Semaphore::new(1)?;
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
    /// use lockproof::multiprocessing::Semaphore;
    ///
    /// let s = Semaphore::new(0)?;
    /// assert_eq!(s.acquire_with(false, Some(60.0)), Ok(false)); // never waits
    /// # Ok::<(), lockproof::Error>(())
    /// ```
    pub fn acquire_with(&self, block: bool, timeout: Option<f64>) -> Result<bool> {
        self.sl.acquire_with(block, timeout)
    }

    /// `release()`: one unit. `ValueError('semaphore or lock released too many times')`
    /// at `SEM_VALUE_MAX`.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::multiprocessing::Semaphore;
    ///
    /// let s = Semaphore::new(0)?;
    /// s.release()?;
    /// s.release()?; // no bound
    /// assert_eq!(s.get_value(), 2);
    /// # Ok::<(), lockproof::Error>(())
    /// ```
    pub fn release(&self) -> Result<()> {
        self.sl.release()
    }

    /// `with sem:` — acquire; release when the guard drops.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::multiprocessing::Semaphore;
    ///
    /// let s = Semaphore::new(1)?;
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
    /// use lockproof::multiprocessing::Semaphore;
    ///
    /// let s = Semaphore::new(3)?;
    /// assert!(s.acquire());
    /// assert_eq!(s.get_value(), 2);
    /// # Ok::<(), lockproof::Error>(())
    /// ```
    pub fn get_value(&self) -> usize {
        self.sl.value()
    }
}

impl<B: ProcessBackend> fmt::Debug for Semaphore<B> {
    /// CPython's repr: `<Semaphore(value=N)>`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "<Semaphore(value={})>", self.sl.value())
    }
}

impl<B: ProcessBackend> Parts<B> for Semaphore<B> {
    fn parts(&self, out: &mut Vec<B::Memory>) {
        out.push(self.sl.memory().clone());
    }
    fn from_parts(parts: &mut dyn Iterator<Item = B::Memory>) -> Result<Self, HandleError> {
        let sl = SemLock::attach_named(next::<B>(parts)?, "mp.Semaphore")?;
        if sl.kind() != Kind::Semaphore || sl.maxvalue() != SEM_VALUE_MAX {
            return Err(HandleError::Mismatch("not a Semaphore"));
        }
        Ok(Semaphore { sl })
    }
}

shareable!(Semaphore, "Semaphore::new(1).unwrap()");

//! `multiprocessing.Condition`: a lock and three semaphores (CPython's
//! `multiprocessing/synchronize.py`, literally).

use super::handle::{next, shareable, HandleError, Parts};
use super::semlock::{alloc, tag_of};
use super::semlock::{Kind, SemLock, SEMLOCK_WORDS};
use super::timeout::monotonic;
use super::{AnyLock, Guard, RLock};
use crate::backend::process::{ProcessBackend, SEM_VALUE_MAX};
use crate::backend::{Args, ObjectTag, Outcome, Record, Std, WaitKind};
use crate::condition::Truthy;
use crate::error::{Error, Result};
use std::fmt;

const SLEEPING: usize = 0;
const WOKEN: usize = SEMLOCK_WORDS;
const WAIT: usize = 2 * SEMLOCK_WORDS;
const WORDS: usize = 3 * SEMLOCK_WORDS;

/// Python's `multiprocessing.Condition(lock=None)` (CPython 3.11; SEMANTICS.md §10.7).
///
/// A lock (a new [`RLock`] by default) plus three `Semaphore(0)`s: *sleeping* (waiters that
/// went to sleep), *woken* (waiters that woke) and the *wait semaphore* they sleep on.
///
/// - [`wait`](Condition::wait): post *sleeping*, release the lock as many times as this
///   process's `count` says (an RLock's depth), acquire the wait semaphore with the
///   timeout, then (finally) post *woken* and re-acquire the lock that many times. Returns
///   whether the wait semaphore was acquired (`false`: timed out).
/// - [`notify(n)`](Condition::notify): first take one *sleeping* for each *woken* (waiters
///   that timed out since the last notify), then for up to `n` sleepers post the wait
///   semaphore, then **block until each of them has posted *woken***, then drain the wait
///   semaphore. `notify` holds the lock all along: it returns only once every woken waiter
///   has woken, and **hangs forever if one of them died** (check 151).
/// - Which waiter a post wakes is up to the OS (no FIFO); `wait` never wakes spuriously.
/// - Ownership checks are Python `assert`s: `AssertionError('must acquire() condition
///   before using wait()')` and `AssertionError('lock is not owned')` (they vanish under
///   `python -O`; lockproof always checks).
/// - [`wait_for`](Condition::wait_for) measures its deadline on the monotonic clock; with a
///   zero timeout it calls the predicate once and never waits (so no ownership check,
///   check 145).
///
/// # Examples
///
/// ```
/// use lockproof::multiprocessing::Condition;
/// use lockproof::{Error, PyException};
///
/// let c = Condition::new();
/// let err = c.wait(Some(0.0)).unwrap_err();
/// assert_eq!(err, Error::ConditionWaitNotOwned);
/// assert_eq!(err.exception(), PyException::AssertionError);
/// assert_eq!(c.notify(1), Err(Error::ConditionLockNotOwned));
/// assert_eq!(c.wait_for(|| 0, Some(0.0)), Ok(0)); // never waits: no check
/// {
///     let _g = c.lock();
///     assert_eq!(c.wait(Some(0.0)), Ok(false));
///     assert_eq!(c.wait(Some(-1.0)), Ok(false));
///     c.notify_all()?;
/// }
/// assert_eq!(format!("{c:?}"), "<Condition(<RLock(None, 0)>, 0)>");
/// # Ok::<(), Error>(())
/// ```
pub struct Condition<B: ProcessBackend = Std> {
    lock: AnyLock<B>,
    sleeping: SemLock<B>,
    woken: SemLock<B>,
    wait_sem: SemLock<B>,
    tag: B::Tag,
}

impl<B: ProcessBackend> Default for Condition<B> {
    fn default() -> Self {
        Self::new()
    }
}

impl<B: ProcessBackend> Condition<B> {
    /// `multiprocessing.Condition()`: over a new [`RLock`].
    ///
    /// # Panics
    ///
    /// If the OS refuses shared memory; [`Condition::try_with_lock`] returns the error.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::multiprocessing::{AnyLock, Condition};
    ///
    /// let c = Condition::new();
    /// assert!(matches!(c.get_lock(), AnyLock::RLock(_)));
    /// ```
    pub fn new() -> Self {
        Self::with_lock(RLock::new())
    }

    /// `multiprocessing.Condition(lock)` over a [`Lock`](super::Lock) or [`RLock`] (or an
    /// `Arc` of one, shared with other users).
    ///
    /// # Panics
    ///
    /// If the OS refuses shared memory; [`Condition::try_with_lock`] returns the error.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::multiprocessing::{Condition, Lock};
    /// use std::sync::Arc;
    ///
    /// let lock = Arc::new(Lock::new());
    /// let c = Condition::with_lock(lock.clone());
    /// let _g = c.lock();
    /// assert_eq!(lock.value(), 0); // taking the condition took the lock
    /// ```
    pub fn with_lock(lock: impl Into<AnyLock<B>>) -> Self {
        Self::try_with_lock(lock).unwrap_or_else(|e| panic!("multiprocessing.Condition(): {e}"))
    }

    /// `multiprocessing.Condition(lock)`, or the `OSError` of allocating its semaphores.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::multiprocessing::{Condition, RLock};
    ///
    /// let c = Condition::try_with_lock(RLock::new())?;
    /// assert!(c.acquire());
    /// # Ok::<(), lockproof::Error>(())
    /// ```
    pub fn try_with_lock(lock: impl Into<AnyLock<B>>) -> Result<Self> {
        let mem = alloc::<B>(WORDS)?;
        let tag = tag_of::<B>("mp.Condition", &mem);
        let sem = |at| {
            SemLock::create(
                mem.clone(),
                at,
                Kind::Semaphore,
                0,
                SEM_VALUE_MAX,
                tag.alias(),
            )
        };
        Ok(Condition {
            lock: lock.into(),
            sleeping: sem(SLEEPING),
            woken: sem(WOKEN),
            wait_sem: sem(WAIT),
            tag,
        })
    }

    /// Name the condition in checker traces (no effect on real processes).
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::multiprocessing::Condition;
    ///
    /// let c = Condition::new().with_name("not_empty"); // how a checker trace calls it
    /// assert!(c.acquire());
    /// ```
    pub fn with_name(self, name: &str) -> Self {
        self.tag.set_name(name);
        self
    }

    /// The condition's trace identity.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::multiprocessing::Condition;
    ///
    /// // Real processes keep no trace: the tag is zero-sized.
    /// assert_eq!(std::mem::size_of_val(Condition::new().tag()), 0);
    /// ```
    pub fn tag(&self) -> &B::Tag {
        &self.tag
    }

    /// The underlying lock (Python's `_lock`).
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::multiprocessing::Condition;
    ///
    /// let c = Condition::new();
    /// let _g = c.lock();
    /// assert!(c.get_lock().is_mine());
    /// ```
    pub fn get_lock(&self) -> &AnyLock<B> {
        &self.lock
    }

    /// `acquire()`: the lock's.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::multiprocessing::Condition;
    ///
    /// let c = Condition::new();
    /// assert!(c.acquire());
    /// assert!(c.get_lock().is_mine());
    /// ```
    pub fn acquire(&self) -> bool {
        self.lock.acquire()
    }

    /// `acquire(block, timeout)`: the lock's.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::multiprocessing::{Condition, Lock};
    ///
    /// let c = Condition::with_lock(Lock::new());
    /// assert_eq!(c.acquire_with(true, Some(1.0)), Ok(true));
    /// assert_eq!(c.acquire_with(false, None), Ok(false)); // a Lock: not reentrant
    /// ```
    pub fn acquire_with(&self, block: bool, timeout: Option<f64>) -> Result<bool> {
        self.lock.acquire_with(block, timeout)
    }

    /// `release()`: the lock's.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::multiprocessing::Condition;
    /// use lockproof::Error;
    ///
    /// let c = Condition::new();
    /// assert_eq!(c.release(), Err(Error::RecursiveLockNotOwned)); // the RLock's error
    /// assert!(c.acquire());
    /// c.release()?;
    /// # Ok::<(), Error>(())
    /// ```
    pub fn release(&self) -> Result<()> {
        self.lock.release()
    }

    /// `with cond:`.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::multiprocessing::Condition;
    ///
    /// let c = Condition::new();
    /// {
    ///     let _g = c.lock();
    ///     assert_eq!(c.wait(Some(0.0)), Ok(false)); // may wait: the lock is held
    /// }
    /// assert!(!c.get_lock().is_mine());
    /// ```
    pub fn lock(&self) -> Guard<'_, B> {
        self.lock.lock()
    }

    /// The repr's waiter count: *sleeping* minus *woken*.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::multiprocessing::Condition;
    ///
    /// let c = Condition::new();
    /// let _g = c.lock();
    /// assert_eq!(c.n_waiters(), 0);
    /// assert_eq!(c.wait(Some(0.0)), Ok(false)); // a waiter that timed out is not counted
    /// assert_eq!(c.n_waiters(), 0);
    /// ```
    pub fn n_waiters(&self) -> isize {
        self.sleeping.value() as isize - self.woken.value() as isize
    }

    /// `wait(timeout=None)`: see the type's documentation. `Ok(false)` on timeout; a
    /// negative timeout is 0; `OSError` EINVAL for `inf`/NaN (after the lock was released,
    /// and with it re-acquired).
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::multiprocessing::Condition;
    /// use std::sync::Arc;
    ///
    /// let c = Arc::new(Condition::new());
    /// let g = c.lock();
    /// let c2 = c.clone();
    /// let notifier = std::thread::spawn(move || {
    ///     let _g = c2.lock(); // gets the lock once `wait` released it
    ///     c2.notify(1)
    /// });
    /// assert_eq!(c.wait(None), Ok(true)); // notified, and holding the lock again
    /// drop(g);
    /// notifier.join().unwrap()?;
    /// # Ok::<(), lockproof::Error>(())
    /// ```
    pub fn wait(&self, timeout: Option<f64>) -> Result<bool> {
        let r = self.wait_inner(timeout);
        B::record(&self.tag, || {
            let args = match timeout {
                Some(t) => Args::new().secs("timeout", t),
                None => Args::new(),
            };
            Record::with_args("wait", args, outcome(&r))
        });
        r
    }

    fn wait_inner(&self, timeout: Option<f64>) -> Result<bool> {
        if !self.lock.is_mine() {
            return Err(Error::ConditionWaitNotOwned);
        }
        // indicate that this thread is going to sleep
        self.sleeping.release()?;
        // release lock
        let count = self.lock.sl().count();
        for _ in 0..count {
            self.lock.sl().release()?;
        }
        // wait for notification or timeout
        let r = self
            .wait_sem
            .acquire_raw_as(true, timeout, "wait", WaitKind::Condition);
        // finally: indicate that this thread has woken, reacquire the lock
        self.woken.release()?;
        for _ in 0..count {
            self.lock.sl().acquire();
        }
        r
    }

    /// `notify(n=1)`: see the type's documentation. Blocks until each waiter it woke has
    /// acknowledged.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::multiprocessing::Condition;
    /// use lockproof::Error;
    ///
    /// let c = Condition::new();
    /// assert_eq!(c.notify(1), Err(Error::ConditionLockNotOwned));
    /// let _g = c.lock();
    /// c.notify(1)?; // nobody waits: returns at once
    /// # Ok::<(), Error>(())
    /// ```
    pub fn notify(&self, n: usize) -> Result<()> {
        let r = self.notify_inner(n);
        B::record(&self.tag, || {
            Record::with_args(
                "notify",
                Args::new().int("n", n.min(i64::MAX as usize) as i64),
                outcome(&r),
            )
        });
        r
    }

    /// `notify_all()`: `notify(sys.maxsize)`.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::multiprocessing::Condition;
    /// use std::sync::Arc;
    ///
    /// let c = Arc::new(Condition::new());
    /// let g = c.lock();
    /// let c2 = c.clone();
    /// let notifier = std::thread::spawn(move || {
    ///     let _g = c2.lock();
    ///     c2.notify_all()
    /// });
    /// assert_eq!(c.wait(Some(60.0)), Ok(true));
    /// drop(g);
    /// notifier.join().unwrap()?;
    /// # Ok::<(), lockproof::Error>(())
    /// ```
    pub fn notify_all(&self) -> Result<()> {
        self.notify(i64::MAX as usize)
    }

    fn notify_inner(&self, n: usize) -> Result<()> {
        if !self.lock.is_mine() {
            return Err(Error::ConditionLockNotOwned);
        }
        if self.wait_sem.acquire_raw(false, None)? {
            return Err(Error::NotifyWaitSemaphore);
        }
        // to take account of timeouts since the last notify*() we subtract woken_count
        // from sleeping_count and rezero woken_count
        while self.woken.acquire_raw(false, None)? {
            if !self.sleeping.acquire_raw(false, None)? {
                return Err(Error::NotifySleepingCount);
            }
        }
        let mut sleepers = 0;
        while sleepers < n && self.sleeping.acquire_raw(false, None)? {
            self.wait_sem.release()?; // wake up one sleeper
            sleepers += 1;
        }
        if sleepers > 0 {
            for _ in 0..sleepers {
                // wait for a sleeper to wake
                self.woken
                    .acquire_raw_as(true, None, "notify", WaitKind::Semaphore)?;
            }
            // rezero wait_semaphore in case some timeouts just happened
            while self.wait_sem.acquire_raw(false, None)? {}
        }
        Ok(())
    }

    /// `wait_for(predicate, timeout=None)`: CPython's loop — the predicate first; then,
    /// with a deadline fixed before the first wait (monotonic clock), wait for the time left
    /// and re-check, until the predicate is truthy or no time is left. Returns the
    /// predicate's last value.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::multiprocessing::Condition;
    ///
    /// let c = Condition::new();
    /// let _g = c.lock();
    /// assert_eq!(c.wait_for(|| 5, None), Ok(5)); // already true: no wait
    /// assert_eq!(c.wait_for(|| "", Some(0.01)), Ok("")); // false until the timeout
    /// ```
    pub fn wait_for<T: Truthy>(
        &self,
        mut predicate: impl FnMut() -> T,
        timeout: Option<f64>,
    ) -> Result<T> {
        let mut result = predicate();
        if result.is_truthy() {
            return Ok(result);
        }
        let endtime = timeout.map(|t| monotonic::<B>() + t);
        while !result.is_truthy() {
            let waittime = match endtime {
                Some(end) => {
                    let w = end - monotonic::<B>();
                    if w <= 0.0 {
                        break;
                    }
                    Some(w)
                }
                None => None,
            };
            self.wait(waittime)?;
            result = predicate();
        }
        Ok(result)
    }
}

/// A traced result: `True`/`False`, `None`, or the exception.
pub(crate) fn outcome<T: ToOutcome + Copy>(r: &Result<T>) -> Outcome {
    match r {
        Ok(v) => v.to_outcome(),
        Err(e) => Outcome::Error(e.python_repr()),
    }
}

pub(crate) trait ToOutcome {
    fn to_outcome(self) -> Outcome;
}

impl ToOutcome for bool {
    fn to_outcome(self) -> Outcome {
        Outcome::Bool(self)
    }
}

impl ToOutcome for () {
    fn to_outcome(self) -> Outcome {
        Outcome::Done
    }
}

impl<B: ProcessBackend> fmt::Debug for Condition<B> {
    /// CPython's repr: `<Condition(<RLock(None, 0)>, 0)>` (the lock, sleepers − woken).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "<Condition({:?}, {})>", self.lock, self.n_waiters())
    }
}

impl<B: ProcessBackend> Parts<B> for Condition<B> {
    fn parts(&self, out: &mut Vec<B::Memory>) {
        out.push(self.lock.memory().clone());
        out.push(self.sleeping.memory().clone());
    }
    fn from_parts(parts: &mut dyn Iterator<Item = B::Memory>) -> Result<Self, HandleError> {
        let lock = AnyLock::from_memory(next::<B>(parts)?)?;
        let mem = next::<B>(parts)?;
        if mem.len() != WORDS {
            return Err(HandleError::Mismatch("not a Condition"));
        }
        let tag = tag_of::<B>("mp.Condition", &mem);
        let sem = |at| SemLock::attach(mem.clone(), at, tag.alias());
        Ok(Condition {
            lock,
            sleeping: sem(SLEEPING)?,
            woken: sem(WOKEN)?,
            wait_sem: sem(WAIT)?,
            tag,
        })
    }
}

shareable!(Condition, "Condition::new()");

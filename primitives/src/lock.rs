//! `threading.Lock`: the primitive, non-reentrant lock with no owner.

use crate::backend::{
    Args, Backend, Hold, ObjectTag, Outcome, ParkRequest, ParkResult, RawAtomic, Record, Std,
    WaitKind,
};
use crate::error::{Error, Result};
use crate::timeout::{lock_acquire_args, lock_wait, Wait};
use std::fmt;
use std::sync::atomic::Ordering::{Acquire, Relaxed, Release, SeqCst};

/// The lock word.
///
/// | value | meaning |
/// |---|---|
/// | `UNLOCKED` (0) | free |
/// | `LOCKED` (1) | held, and no thread has parked since it was taken |
/// | `CONTENDED` (2) | held, and some thread may be parked: `release` must unpark one |
const UNLOCKED: usize = 0;
const LOCKED: usize = 1;
const CONTENDED: usize = 2;

/// How an internal acquire ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Acquired {
    Yes,
    TimedOut,
    /// Only for [`WaitKind::Condition`] waits, when a checker injects a spurious wakeup.
    Spurious,
}

/// Python's `threading.Lock` (CPython 3.11 `_thread.lock`).
///
/// - Unlocked when created; no owner: **any thread may release it** (`release` on an
///   unlocked lock is `RuntimeError('release unlocked lock')`).
/// - Not reentrant: the holder acquiring again blocks (forever, or until its timeout).
/// - No fairness promise: which waiter gets it on release "is not defined" (CPython's own
///   words); a newly arriving thread may barge ahead of sleepers, as in CPython.
/// - The uncontended acquire is one compare-exchange, the uncontended release one swap.
///
/// | Python | Rust |
/// |---|---|
/// | `Lock()` | [`Lock::new`] |
/// | `acquire()` | [`Lock::acquire`] |
/// | `acquire(False)` / `acquire(blocking=False)` | [`Lock::try_acquire`] |
/// | `acquire(timeout=t)` | [`Lock::acquire_timeout`] |
/// | `acquire(blocking, timeout)` | [`Lock::acquire_with`] |
/// | `release()` | [`Lock::release`] |
/// | `locked()` | [`Lock::locked`] |
/// | `with lock:` | [`Lock::lock`] (a guard) |
///
/// # Examples
///
/// ```
/// use lockproof::threading::Lock;
/// use std::sync::Arc;
///
/// let lock = Arc::new(Lock::new());
/// let l2 = Arc::clone(&lock);
/// std::thread::spawn(move || {
///     let _g = l2.lock(); // with lock:
/// })
/// .join()
/// .unwrap();
/// assert!(!lock.locked());
/// ```
pub struct Lock<B: Backend = Std> {
    state: B::Atomic,
    tag: B::Tag,
}

impl<B: Backend> Default for Lock<B> {
    fn default() -> Self {
        Self::new()
    }
}

impl<B: Backend> fmt::Debug for Lock<B> {
    /// Like CPython's repr: `<unlocked _thread.lock object>` / `<locked _thread.lock object>`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = if self.is_locked_raw() {
            "locked"
        } else {
            "unlocked"
        };
        write!(f, "<{state} _thread.lock object>")
    }
}

impl<B: Backend> Lock<B> {
    /// `threading.Lock()`: a new, unlocked lock.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::threading::Lock;
    ///
    /// let lock = Lock::new();
    /// assert!(!lock.locked());
    /// ```
    pub fn new() -> Self {
        Lock {
            state: B::Atomic::new(UNLOCKED),
            tag: B::Tag::new("Lock"),
        }
    }

    /// A lock that belongs to another primitive: its steps are not traced, and its waits
    /// show as waits on `owner`.
    pub(crate) fn inner(owner: &B::Tag) -> Self {
        Lock {
            state: B::Atomic::new(UNLOCKED),
            tag: owner.alias(),
        }
    }

    /// Name the lock in checker traces (no effect on real threads). Python locks have no
    /// names; this is for readable counterexamples.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::threading::Lock;
    ///
    /// let lock = Lock::new().with_name("accounts");
    /// assert!(lock.try_acquire());
    /// ```
    pub fn with_name(self, name: &str) -> Self {
        self.tag.set_name(name);
        self
    }

    /// The lock's trace identity.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::threading::Lock;
    ///
    /// let lock = Lock::new();
    /// assert_eq!(std::mem::size_of_val(lock.tag()), 0); // real threads keep no trace
    /// ```
    pub fn tag(&self) -> &B::Tag {
        &self.tag
    }

    /// `acquire()`: block until the lock is taken. Always returns `true`, as in Python.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::threading::Lock;
    ///
    /// let lock = Lock::new();
    /// assert!(lock.acquire());
    /// assert!(lock.locked());
    /// ```
    pub fn acquire(&self) -> bool {
        let r = self.acquire_raw(Wait::Forever, &self.tag, "acquire", WaitKind::Lock);
        debug_assert_eq!(r, Acquired::Yes);
        B::record(&self.tag, || {
            Record::new("acquire", Outcome::Bool(true)).holding(Hold::Acquired)
        });
        true
    }

    /// `acquire(blocking=False)`: take the lock if it is free; never blocks.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::threading::Lock;
    ///
    /// let lock = Lock::new();
    /// assert!(lock.try_acquire());
    /// assert!(!lock.try_acquire()); // not reentrant: the holder is refused too
    /// ```
    pub fn try_acquire(&self) -> bool {
        let ok = self.try_acquire_raw();
        B::record(&self.tag, || {
            Record::with_args(
                "acquire",
                Args::new().bool("blocking", false),
                Outcome::Bool(ok),
            )
            .holding(Hold::acquired_if(ok))
        });
        ok
    }

    /// `acquire(timeout=t)`: wait at most `t` seconds; `-1` waits forever, `0` polls.
    ///
    /// Errors as CPython: a negative `t` other than −1 is `ValueError('timeout value must
    /// be positive')`, NaN is `ValueError('Invalid value NaN (not a number)')`, a `t` above
    /// [`TIMEOUT_MAX`](crate::TIMEOUT_MAX) (or infinite) is `OverflowError('timestamp out
    /// of range for platform time_t')`.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::threading::{Error, Lock};
    ///
    /// let lock = Lock::new();
    /// assert_eq!(lock.acquire_timeout(0.5), Ok(true));
    /// assert_eq!(lock.acquire_timeout(0.01), Ok(false)); // held: gives up after 10 ms
    /// assert_eq!(lock.acquire_timeout(-2.0), Err(Error::NegativeTimeout));
    /// ```
    pub fn acquire_timeout(&self, timeout: f64) -> Result<bool> {
        self.acquire_with(true, timeout)
    }

    /// `acquire(blocking, timeout)`, with CPython's argument checks in CPython's order.
    /// `acquire_with(false, t)` with `t != -1` is `ValueError("can't specify a timeout for
    /// a non-blocking call")`.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::threading::{Error, Lock};
    ///
    /// let lock = Lock::new();
    /// assert_eq!(lock.acquire_with(false, -1.0), Ok(true)); // acquire(False)
    /// assert_eq!(lock.acquire_with(false, 1.0), Err(Error::NonBlockingTimeout));
    /// ```
    pub fn acquire_with(&self, blocking: bool, timeout: f64) -> Result<bool> {
        let args = || lock_acquire_args(blocking, timeout);
        let wait = match lock_wait(blocking, timeout) {
            Ok(w) => w,
            Err(e) => {
                B::record(&self.tag, || {
                    Record::with_args("acquire", args(), Outcome::Error(e.python_repr()))
                });
                return Err(e);
            }
        };
        let ok = self.acquire_raw(wait, &self.tag, "acquire", WaitKind::Lock) == Acquired::Yes;
        B::record(&self.tag, || {
            Record::with_args("acquire", args(), Outcome::Bool(ok)).holding(Hold::acquired_if(ok))
        });
        Ok(ok)
    }

    /// `release()`: unlock; wakes one waiter if any. Any thread may call it.
    /// On an unlocked lock: `RuntimeError('release unlocked lock')`.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::threading::{Error, Lock};
    ///
    /// let lock = Lock::new();
    /// lock.acquire();
    /// assert_eq!(lock.release(), Ok(()));
    /// assert_eq!(lock.release(), Err(Error::ReleaseUnlocked));
    /// ```
    pub fn release(&self) -> Result<()> {
        let r = self.release_state();
        // Traced at the release itself, before any waiter is woken: a woken waiter's
        // acquire must come after this release in the trace.
        B::record(&self.tag, || {
            Record::new(
                "release",
                match &r {
                    Ok(_) => Outcome::Done,
                    Err(e) => Outcome::Error(e.python_repr()),
                },
            )
            .holding(Hold::released_if(r.is_ok()))
        });
        if r? {
            self.wake_one();
        }
        Ok(())
    }

    /// `locked()`: whether the lock is held (by anyone).
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::threading::Lock;
    ///
    /// let lock = Lock::new();
    /// assert!(!lock.locked());
    /// let _g = lock.lock();
    /// assert!(lock.locked());
    /// ```
    pub fn locked(&self) -> bool {
        let l = self.is_locked_raw();
        B::record(&self.tag, || Record::new("locked", Outcome::Bool(l)));
        l
    }

    /// `with lock:` — acquire, and release when the guard drops.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::threading::Lock;
    ///
    /// let lock = Lock::new();
    /// {
    ///     let _g = lock.lock();
    ///     assert!(lock.locked());
    /// } // released here
    /// assert!(!lock.locked());
    /// ```
    pub fn lock(&self) -> LockGuard<'_, B> {
        self.acquire();
        LockGuard { lock: self }
    }

    // ---- crate-internal, untraced ----------------------------------------------------

    /// A read-modify-write rather than a load: under loom a load may return a value other
    /// threads have long overwritten (models that poll `locked()` would see ghosts); an
    /// RMW always reads the latest. Off the hot path, so the extra cost does not matter.
    #[inline]
    pub(crate) fn is_locked_raw(&self) -> bool {
        self.state.fetch_add(0, SeqCst) != UNLOCKED
    }

    #[inline]
    pub(crate) fn try_acquire_raw(&self) -> bool {
        self.state
            .compare_exchange(UNLOCKED, LOCKED, Acquire, Relaxed)
            .is_ok()
    }

    /// Acquire, waiting as `wait` says; parks as `op` on `tag` with `kind`.
    pub(crate) fn acquire_raw(
        &self,
        wait: Wait,
        tag: &B::Tag,
        op: &'static str,
        kind: WaitKind,
    ) -> Acquired {
        if self.try_acquire_raw() {
            return Acquired::Yes;
        }
        let deadline = match wait {
            Wait::Poll => return Acquired::TimedOut,
            Wait::Forever => None,
            Wait::For(_) => wait.deadline::<B>(),
        };
        self.acquire_slow(deadline, tag, op, kind)
    }

    #[cold]
    fn acquire_slow(
        &self,
        deadline: Option<crate::backend::Moment>,
        tag: &B::Tag,
        op: &'static str,
        kind: WaitKind,
    ) -> Acquired {
        // Spin a little while the holder has no waiters (never under a checker): a lock
        // held for a few instructions is free again sooner than a sleep and wake take.
        let mut spins = 0;
        while B::spin(&mut spins) {
            match self.state.load(Relaxed) {
                UNLOCKED if self.try_acquire_raw() => return Acquired::Yes,
                CONTENDED => break,
                _ => {}
            }
        }
        loop {
            if self.state.swap(CONTENDED, Acquire) == UNLOCKED {
                return Acquired::Yes;
            }
            let req = ParkRequest {
                key: self.key(),
                tag,
                op,
                kind,
                deadline,
            };
            // The check is a read-modify-write, not a load: under a checker, the wait queue
            // is bookkeeping the engine does not see, so a plain load could read a value
            // the release already overwrote (a weak-memory read loom allows) and sleep
            // through its wakeup. An RMW always reads the latest value.
            let still_contended = || {
                self.state
                    .compare_exchange(CONTENDED, CONTENDED, SeqCst, SeqCst)
                    .is_ok()
            };
            match B::park(req, still_contended) {
                ParkResult::Unparked | ParkResult::Invalid => continue,
                ParkResult::TimedOut => return Acquired::TimedOut,
                ParkResult::Spurious => return Acquired::Spurious,
            }
        }
    }

    /// Release, and wake a waiter if one may be parked.
    #[inline]
    pub(crate) fn release_raw(&self) -> Result<()> {
        if self.release_state()? {
            self.wake_one();
        }
        Ok(())
    }

    /// Unlock the word; `Ok(true)` when a waiter may be parked and must be woken with
    /// [`wake_one`](Self::wake_one). Primitives trace their release between the two, so a
    /// woken thread's steps never appear before the release that woke it.
    #[inline]
    pub(crate) fn release_state(&self) -> Result<bool> {
        match self.state.swap(UNLOCKED, Release) {
            UNLOCKED => Err(Error::ReleaseUnlocked),
            LOCKED => Ok(false),
            _ => Ok(true),
        }
    }

    /// Wake one parked waiter (after [`release_state`](Self::release_state) said so).
    #[cold]
    pub(crate) fn wake_one(&self) {
        B::unpark_one(&self.state);
    }

    #[inline]
    fn key(&self) -> usize {
        &self.state as *const B::Atomic as usize
    }
}

/// The `with lock:` scope of a [`Lock`]: releases on drop.
///
/// If another thread released the lock inside the block, Python's `__exit__` raises
/// `RuntimeError('release unlocked lock')`; a destructor cannot return an error, so use
/// [`LockGuard::exit`] to see it.
///
/// # Examples
///
/// ```
/// use lockproof::threading::Lock;
///
/// let lock = Lock::new();
/// let guard = lock.lock();
/// assert_eq!(guard.exit(), Ok(())); // leave the `with` block early
/// assert!(!lock.locked());
/// ```
#[must_use = "the lock is released when the guard drops"]
pub struct LockGuard<'a, B: Backend = Std> {
    lock: &'a Lock<B>,
}

crate::guard::with_scope!(LockGuard, lock, "Lock::new()");

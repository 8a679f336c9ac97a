//! `threading.RLock`: the reentrant lock, owned by the thread that acquired it.

use crate::backend::{Args, Backend, Hold, ObjectTag, Outcome, RawAtomic, Record, Std, WaitKind};
use crate::error::{Error, Result};
use crate::lock::{Acquired, Lock};
use crate::timeout::{lock_acquire_args, lock_wait, Wait};
use std::fmt;
use std::sync::atomic::Ordering::{Relaxed, SeqCst};

/// Python's `threading.RLock` (CPython 3.11's C type `_thread.RLock`).
///
/// - Owned: the thread that acquires it owns it, may acquire it again (each `acquire`
///   must be matched by a `release`), and only it may release it; any other thread's
///   `release` is `RuntimeError('cannot release un-acquired lock')` and the owner keeps it.
/// - The owner's re-acquire always succeeds at once, even `acquire(blocking=False)` or a
///   zero timeout, but the arguments are checked first, as the C type does: the owner's
///   `acquire(False, 1)` is still `ValueError("can't specify a timeout for a non-blocking
///   call")`.
/// - Timeouts follow `Lock.acquire`'s convention (−1 forever, other negatives an error).
/// - No fairness promise among contenders, as for [`Lock`]: a newly arriving thread may
///   barge ahead of sleepers.
/// - Cost: an uncontended depth-1 acquire and release is the inner lock's one
///   compare-exchange and one swap, plus a load and plain stores of the owner and count
///   words; a re-acquire by the owner touches no shared cache line but its own.
///
/// | Python | Rust |
/// |---|---|
/// | `RLock()` | [`RLock::new`] |
/// | `acquire()` | [`RLock::acquire`] |
/// | `acquire(False)` / `acquire(blocking=False)` | [`RLock::try_acquire`] |
/// | `acquire(timeout=t)` | [`RLock::acquire_timeout`] |
/// | `acquire(blocking, timeout)` | [`RLock::acquire_with`] |
/// | `release()` | [`RLock::release`] |
/// | `with rlock:` | [`RLock::lock`] (a guard) |
/// | `_is_owned()` | [`RLock::is_owned`] |
/// | `_recursion_count()` | [`RLock::recursion_count`] |
/// | `_release_save()` | [`RLock::release_save`] |
/// | `_acquire_restore(state)` | [`RLock::acquire_restore`] |
/// | `repr(rlock)` | `format!("{rlock:?}")` (without the address) |
///
/// # Examples
///
/// ```
/// use lockproof::threading::RLock;
///
/// let r = RLock::new();
/// {
///     let _outer = r.lock();
///     let _inner = r.lock(); // the owner may re-enter
///     assert_eq!(r.recursion_count(), 2);
/// }
/// assert!(!r.is_owned());
/// ```
pub struct RLock<B: Backend = Std> {
    /// The primitive lock: held exactly while some thread owns the RLock.
    inner: Lock<B>,
    /// The owner's `B::current_thread()` id, or 0 when unowned.
    ///
    /// Written only by the thread holding `inner` (after taking it, before releasing it),
    /// so "owner == me" read by any thread is exact for that thread: a thread's own last
    /// store is the one it reads back, and no other thread ever stores its id.
    owner: B::Atomic,
    /// The recursion level: 0 when unowned; touched only by the owner (and, as in CPython,
    /// by [`RLock::release_save`], which does not check ownership).
    count: B::Atomic,
    tag: B::Tag,
}

/// The saved state of an [`RLock`]: what CPython's `_release_save()` returns as the tuple
/// `(count, owner)` and `_acquire_restore()` takes back.
///
/// Only [`RLock::release_save`] makes one, and [`RLock::acquire_restore`] consumes it, so
/// a state can be restored once, and never a made-up one (Python accepts any 2-tuple).
///
/// # Examples
///
/// ```
/// use lockproof::threading::RLock;
///
/// let r = RLock::new();
/// r.acquire();
/// r.acquire();
/// let state = r.release_save().unwrap();
/// assert_eq!(state.count(), 2);
/// r.acquire_restore(state);
/// ```
#[derive(Debug, PartialEq, Eq)]
#[must_use = "the lock stays released until the state is given to acquire_restore"]
pub struct RLockState {
    count: usize,
    owner: u64,
}

impl RLockState {
    /// The recursion level that was saved (`state[0]` in Python).
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::threading::RLock;
    ///
    /// let r = RLock::new();
    /// r.acquire();
    /// let state = r.release_save().unwrap();
    /// assert_eq!(state.count(), 1);
    /// r.acquire_restore(state);
    /// ```
    pub fn count(&self) -> usize {
        self.count
    }

    /// The owner's thread id that was saved (`state[1]`, a `threading.get_ident()` value).
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::backend::{Backend, Std};
    /// use lockproof::threading::RLock;
    ///
    /// let r = RLock::new();
    /// r.acquire();
    /// let state = r.release_save().unwrap();
    /// assert_eq!(state.owner(), Std::current_thread());
    /// r.acquire_restore(state);
    /// ```
    pub fn owner(&self) -> u64 {
        self.owner
    }
}

impl<B: Backend> Default for RLock<B> {
    fn default() -> Self {
        Self::new()
    }
}

impl<B: Backend> fmt::Debug for RLock<B> {
    /// Like CPython's repr, without the address: `<unlocked _thread.RLock object owner=0
    /// count=0>` / `<locked _thread.RLock object owner=140… count=2>`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let count = self.count.load(SeqCst);
        let owner = self.owner.load(SeqCst);
        let state = if count > 0 { "locked" } else { "unlocked" };
        write!(
            f,
            "<{state} _thread.RLock object owner={owner} count={count}>"
        )
    }
}

impl<B: Backend> RLock<B> {
    /// `threading.RLock()`: a new, unowned lock.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::threading::RLock;
    ///
    /// let r = RLock::new();
    /// assert_eq!(r.recursion_count(), 0);
    /// ```
    pub fn new() -> Self {
        let tag = B::Tag::new("RLock");
        RLock {
            inner: Lock::inner(&tag),
            owner: B::Atomic::new(0),
            count: B::Atomic::new(0),
            tag,
        }
    }

    /// Name the lock in checker traces (no effect on real threads).
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::threading::RLock;
    ///
    /// let r = RLock::new().with_name("tree");
    /// assert!(r.acquire());
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
    /// use lockproof::threading::RLock;
    ///
    /// let r = RLock::new();
    /// assert_eq!(std::mem::size_of_val(r.tag()), 0); // real threads keep no trace
    /// ```
    pub fn tag(&self) -> &B::Tag {
        &self.tag
    }

    /// `acquire()`: the owner re-enters at once; any other thread blocks until the lock is
    /// free. Always returns `true`, as in Python.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::threading::RLock;
    ///
    /// let r = RLock::new();
    /// assert!(r.acquire());
    /// assert!(r.acquire()); // reentrant
    /// assert_eq!(r.recursion_count(), 2);
    /// ```
    pub fn acquire(&self) -> bool {
        let ok = self.acquire_raw(Wait::Forever);
        debug_assert!(ok);
        B::record(&self.tag, || {
            Record::new("acquire", Outcome::Bool(true)).holding(Hold::Acquired)
        });
        true
    }

    /// `acquire(blocking=False)`: `true` if the caller owns the lock (its count goes up by
    /// one) or took it free; never blocks.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::threading::RLock;
    ///
    /// let r = RLock::new();
    /// r.acquire();
    /// assert!(r.try_acquire()); // the owner always gets it
    /// let elsewhere = std::thread::scope(|s| s.spawn(|| r.try_acquire()).join().unwrap());
    /// assert!(!elsewhere);
    /// ```
    pub fn try_acquire(&self) -> bool {
        let ok = self.acquire_raw(Wait::Poll);
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

    /// `acquire(timeout=t)`: wait at most `t` seconds; `-1` waits forever, `0` polls. The
    /// owner re-enters at once whatever `t` is (once `t` is valid).
    ///
    /// Errors as [`Lock::acquire_timeout`]: `ValueError('timeout value must be positive')`
    /// for a negative `t` other than −1, `ValueError('Invalid value NaN (not a number)')`,
    /// `OverflowError('timestamp out of range for platform time_t')` beyond
    /// [`TIMEOUT_MAX`](crate::TIMEOUT_MAX).
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::threading::{Error, RLock};
    ///
    /// let r = RLock::new();
    /// assert_eq!(r.acquire_timeout(0.5), Ok(true));
    /// assert_eq!(r.acquire_timeout(f64::NAN), Err(Error::NanTimeout));
    /// ```
    pub fn acquire_timeout(&self, timeout: f64) -> Result<bool> {
        self.acquire_with(true, timeout)
    }

    /// `acquire(blocking, timeout)`, with CPython's argument checks in CPython's order, all
    /// before the ownership check: even the owner's `acquire_with(false, 1.0)` is
    /// `ValueError("can't specify a timeout for a non-blocking call")`.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::threading::{Error, RLock};
    ///
    /// let r = RLock::new();
    /// assert_eq!(r.acquire_with(true, -1.0), Ok(true));
    /// assert_eq!(r.acquire_with(false, 0.5), Err(Error::NonBlockingTimeout));
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
        let ok = self.acquire_raw(wait);
        B::record(&self.tag, || {
            Record::with_args("acquire", args(), Outcome::Bool(ok)).holding(Hold::acquired_if(ok))
        });
        Ok(ok)
    }

    /// `release()`: drop one level; at level 0 the lock is free and one waiter may take it.
    ///
    /// If the caller does not own the lock (it is unowned, or another thread owns it):
    /// `RuntimeError('cannot release un-acquired lock')`, and nothing changes.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::threading::{Error, RLock};
    ///
    /// let r = RLock::new();
    /// assert_eq!(r.release(), Err(Error::ReleaseUnacquired));
    /// r.acquire();
    /// assert_eq!(r.release(), Ok(()));
    /// ```
    pub fn release(&self) -> Result<()> {
        let r = self.release_state();
        // Traced before a waiter is woken: a woken acquirer's steps come after it.
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
        if r.as_ref().is_ok_and(|wake| *wake) {
            self.inner.wake_one();
        }
        r.map(|_| ())
    }

    /// `with rlock:` — acquire, and release when the guard drops.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::threading::RLock;
    ///
    /// let r = RLock::new();
    /// let g = r.lock();
    /// assert!(r.is_owned());
    /// drop(g);
    /// assert!(!r.is_owned());
    /// ```
    pub fn lock(&self) -> RLockGuard<'_, B> {
        self.acquire();
        RLockGuard { lock: self }
    }

    /// CPython's `_is_owned()`: whether the calling thread owns the lock.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::threading::RLock;
    ///
    /// let r = RLock::new();
    /// r.acquire();
    /// assert!(r.is_owned());
    /// let elsewhere = std::thread::scope(|s| s.spawn(|| r.is_owned()).join().unwrap());
    /// assert!(!elsewhere);
    /// ```
    pub fn is_owned(&self) -> bool {
        self.is_owned_raw()
    }

    /// CPython's `_recursion_count()`: the recursion level if the calling thread owns the
    /// lock, else 0.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::threading::RLock;
    ///
    /// let r = RLock::new();
    /// r.acquire();
    /// r.acquire();
    /// assert_eq!(r.recursion_count(), 2);
    /// ```
    pub fn recursion_count(&self) -> usize {
        if self.is_owned_raw() {
            self.count.load(SeqCst)
        } else {
            0
        }
    }

    /// CPython's private `_release_save()`, which `Condition.wait` uses: release the lock
    /// completely, whatever its recursion level, and return `(count, owner)` to restore
    /// later with [`RLock::acquire_restore`].
    ///
    /// Errors with `RuntimeError('cannot release un-acquired lock')` if the lock is not
    /// held. Like CPython, it does **not** check that the caller is the owner (Condition
    /// checks [`RLock::is_owned`] first): a non-owner calling it unlocks the owner's lock
    /// and gets the owner's state; doing that while the owner is using the lock is a race
    /// the caller must avoid.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::threading::RLock;
    ///
    /// let r = RLock::new();
    /// r.acquire();
    /// r.acquire();
    /// let state = r.release_save().unwrap(); // fully released
    /// assert!(!r.is_owned());
    /// r.acquire_restore(state);
    /// assert_eq!(r.recursion_count(), 2);
    /// ```
    pub fn release_save(&self) -> Result<RLockState> {
        let r = self.release_save_state();
        B::record(&self.tag, || {
            Record::new(
                "_release_save",
                match &r {
                    Ok((s, _)) => Outcome::Value(format!("({}, {})", s.count, s.owner)),
                    Err(e) => Outcome::Error(e.python_repr()),
                },
            )
            .holding(if r.is_ok() {
                Hold::ReleasedAll
            } else {
                Hold::Nothing
            })
        });
        let (state, wake) = r?;
        if wake {
            self.inner.wake_one();
        }
        Ok(state)
    }

    /// CPython's private `_acquire_restore(state)`, which `Condition.wait` uses: block
    /// (with no timeout) until the lock is free, take it, and set its owner and recursion
    /// level to the saved ones.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::threading::RLock;
    ///
    /// let r = RLock::new();
    /// r.acquire();
    /// let state = r.release_save().unwrap();
    /// r.acquire_restore(state);
    /// assert_eq!(r.recursion_count(), 1);
    /// ```
    pub fn acquire_restore(&self, state: RLockState) {
        let (count, owner) = (state.count, state.owner);
        self.acquire_restore_raw(state);
        B::record(&self.tag, || {
            Record::with_args(
                "_acquire_restore",
                Args::new().state(count as u64, owner),
                Outcome::Done,
            )
            .holding(Hold::Restored(count as u64))
        });
    }

    // ---- crate-internal, untraced ----------------------------------------------------

    #[inline]
    fn me() -> usize {
        // Thread ids are small counters (std) or thread indexes (checkers): they fit.
        B::current_thread() as usize
    }

    #[inline]
    pub(crate) fn is_owned_raw(&self) -> bool {
        self.owner.load(SeqCst) == Self::me()
    }

    /// The owner re-enters; anyone else takes the inner lock as `wait` says.
    #[inline]
    pub(crate) fn acquire_raw(&self, wait: Wait) -> bool {
        let me = Self::me();
        if self.owner.load(SeqCst) == me {
            // Only the owner writes `count` while it owns the lock.
            let c = self.count.load(SeqCst);
            self.count.store(c + 1, Relaxed);
            return true;
        }
        if self
            .inner
            .acquire_raw(wait, &self.tag, "acquire", WaitKind::Lock)
            != Acquired::Yes
        {
            return false;
        }
        // Ordered after the inner lock's acquire and before its release (which publishes
        // them to the next owner); the owner reads its own stores back.
        self.owner.store(me, Relaxed);
        self.count.store(1, Relaxed);
        true
    }

    /// Release one level; `Ok(true)` when the inner lock was freed with a waiter that must
    /// be woken (the caller traces its release first, then calls `inner.wake_one`).
    fn release_state(&self) -> Result<bool> {
        if !self.is_owned_raw() {
            return Err(Error::ReleaseUnacquired);
        }
        let c = self.count.load(SeqCst);
        if c > 1 {
            self.count.store(c - 1, Relaxed);
            return Ok(false);
        }
        self.count.store(0, Relaxed);
        self.owner.store(0, Relaxed);
        self.inner
            .release_state()
            .map_err(|_| Error::ReleaseUnacquired)
    }

    /// `_release_save` without the wake: the saved state, and whether a waiter must be
    /// woken.
    fn release_save_state(&self) -> Result<(RLockState, bool)> {
        let count = self.count.load(SeqCst);
        if count == 0 {
            return Err(Error::ReleaseUnacquired);
        }
        let owner = self.owner.load(SeqCst) as u64;
        self.count.store(0, Relaxed);
        self.owner.store(0, Relaxed);
        // Fails only if a non-owner raced the owner's own release (see `release_save`).
        let wake = self
            .inner
            .release_state()
            .map_err(|_| Error::ReleaseUnacquired)?;
        Ok((RLockState { count, owner }, wake))
    }

    pub(crate) fn acquire_restore_raw(&self, state: RLockState) {
        let r = self
            .inner
            .acquire_raw(Wait::Forever, &self.tag, "acquire", WaitKind::Lock);
        debug_assert_eq!(r, Acquired::Yes);
        self.owner.store(state.owner as usize, Relaxed);
        self.count.store(state.count, Relaxed);
    }
}

/// The `with rlock:` scope of an [`RLock`]: releases one level on drop.
///
/// A destructor cannot return an error; use [`RLockGuard::exit`] to see what Python's
/// `__exit__` would raise (`RuntimeError('cannot release un-acquired lock')` if the level
/// was already released inside the block, e.g. through [`RLock::release_save`]).
///
/// # Examples
///
/// ```
/// use lockproof::threading::RLock;
///
/// let r = RLock::new();
/// let g = r.lock();
/// assert_eq!(g.exit(), Ok(()));
/// assert_eq!(r.recursion_count(), 0);
/// ```
#[must_use = "the lock is released when the guard drops"]
pub struct RLockGuard<'a, B: Backend = Std> {
    lock: &'a RLock<B>,
}

crate::guard::with_scope!(RLockGuard, lock, "RLock::new()");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repr_shows_owner_and_count() {
        let r = RLock::<Std>::new();
        assert_eq!(
            format!("{r:?}"),
            "<unlocked _thread.RLock object owner=0 count=0>"
        );
        assert!(r.acquire());
        assert!(r.try_acquire());
        let me = Std::current_thread();
        assert_eq!(
            format!("{r:?}"),
            format!("<locked _thread.RLock object owner={me} count=2>")
        );
        r.release().unwrap();
        r.release().unwrap();
        assert_eq!(r.release(), Err(Error::ReleaseUnacquired));
    }

    #[test]
    fn arguments_are_checked_before_reentry() {
        let r = RLock::<Std>::new();
        assert!(r.acquire());
        assert_eq!(r.acquire_with(false, 1.0), Err(Error::NonBlockingTimeout));
        assert_eq!(r.acquire_timeout(-2.0), Err(Error::NegativeTimeout));
        assert_eq!(r.acquire_timeout(f64::NAN), Err(Error::NanTimeout));
        assert_eq!(r.recursion_count(), 1);
        assert_eq!(r.acquire_with(false, -1.0), Ok(true));
        assert_eq!(r.acquire_timeout(0.0), Ok(true));
        assert_eq!(r.recursion_count(), 3);
    }

    #[test]
    fn release_save_round_trip() {
        let r = RLock::<Std>::new();
        assert_eq!(r.release_save(), Err(Error::ReleaseUnacquired));
        r.acquire();
        r.acquire();
        let s = r.release_save().unwrap();
        assert_eq!((s.count(), s.owner()), (2, Std::current_thread()));
        assert!(!r.is_owned());
        assert_eq!(r.recursion_count(), 0);
        r.acquire_restore(s);
        assert!(r.is_owned());
        assert_eq!(r.recursion_count(), 2);
        let g = r.lock();
        assert_eq!(r.recursion_count(), 3);
        assert_eq!(g.exit(), Ok(()));
        r.release().unwrap();
        r.release().unwrap();
        assert!(!r.is_owned());
    }
}

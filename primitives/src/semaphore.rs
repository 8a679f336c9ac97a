//! `threading.Semaphore` and `threading.BoundedSemaphore`.
//!
//! CPython builds both on a counter and a `Condition(Lock())`. lockproof keeps the counter
//! and the number of parked acquirers in one atomic word, so that an acquire with a permit
//! free and a release with nobody waiting are each one compare-exchange, and parks
//! acquirers at the backend's one wait point when the count is zero.

use crate::backend::{
    Args, Backend, Hold, ObjectTag, Outcome, ParkRequest, RawAtomic, Record, Std, WaitKind,
};
use crate::error::{Error, Result};
use crate::timeout::{DeadlineLoop, Next, Wait};
use std::fmt;
use std::ops::Deref;
use std::sync::atomic::Ordering::SeqCst;

/// Bits of the state word that count parked acquirers.
const WAITER_BITS: u32 = usize::BITS / 4;
/// The waiter field of the state word.
const WAITERS: usize = (1 << WAITER_BITS) - 1;
/// One permit in the state word.
const PERMIT: usize = 1 << WAITER_BITS;
/// Failed compare-exchanges after which a release on an unwinding thread gives up.
const UNWIND_RETRIES: u32 = 1 << 16;

#[inline]
fn permits(word: usize) -> usize {
    word >> WAITER_BITS
}

#[inline]
fn waiters(word: usize) -> usize {
    word & WAITERS
}

/// How an acquirer entering the slow path ended its first step.
enum Entry {
    /// A permit was free after all: taken.
    Took,
    /// Counted as a waiter: releases now wake it.
    Registered,
}

/// Python's `threading.Semaphore` (CPython 3.11, `Lib/threading.py`).
///
/// A counter of permits: [`acquire`](Semaphore::acquire) takes one, waiting while there is
/// none; [`release`](Semaphore::release) gives one back and wakes one waiter. Unbounded: a
/// plain Semaphore may be released more often than acquired (see [`BoundedSemaphore`]).
///
/// - **No order promise**, as CPython's docs say ("the order in which threads are awoken
///   should not be relied on"). A release wakes one waiter, but any thread that gets to the
///   counter first takes the permit: a releasing thread that calls
///   [`try_acquire`](Semaphore::try_acquire) at once may get it back, and the woken waiter
///   then waits again (conformance check 82: CPython's GIL makes the releaser win there in
///   practice; lockproof allows either outcome and promises neither, as the docs do).
/// - Timeouts follow `Semaphore.acquire`'s convention (`primitives/SEMANTICS.md` §1.2): `None` waits
///   forever, zero or negative polls once then gives up, the first wait uses the timeout
///   and later ones the time left.
/// - Uncontended, an acquire with a permit free is one load and one compare-exchange, and a
///   release with nobody waiting one compare-exchange; a release wakes threads only when
///   some acquirer may be parked.
/// - The count is bounded by [`Semaphore::MAX_VALUE`] (CPython's is an unbounded int);
///   beyond it, `new` and `release` return [`Error::SemaphoreOverflow`].
///
/// | Python | Rust |
/// |---|---|
/// | `Semaphore(value)` | [`Semaphore::new`] |
/// | `acquire()` | [`Semaphore::acquire`] |
/// | `acquire(False)` / `acquire(blocking=False)` | [`Semaphore::try_acquire`] |
/// | `acquire(timeout=t)` | [`Semaphore::acquire_timeout`] |
/// | `acquire(blocking, timeout)` | [`Semaphore::acquire_with`] |
/// | `release()` | [`Semaphore::release`] |
/// | `release(n)` | [`Semaphore::release_n`] |
/// | `_value` | [`Semaphore::value`] |
/// | `with sem:` | [`Semaphore::lock`] (a guard) |
///
/// # Examples
///
/// ```
/// use lockproof::threading::Semaphore;
/// use std::sync::Arc;
///
/// let sem = Arc::new(Semaphore::new(2).unwrap()); // two at a time
/// let workers: Vec<_> = (0..4)
///     .map(|_| {
///         let sem = Arc::clone(&sem);
///         std::thread::spawn(move || {
///             let _permit = sem.lock();
///         })
///     })
///     .collect();
/// workers.into_iter().for_each(|w| w.join().unwrap());
/// assert_eq!(sem.value(), 2);
/// ```
pub struct Semaphore<B: Backend = Std> {
    /// The state word.
    ///
    /// | bits | meaning |
    /// |---|---|
    /// | high `usize::BITS - WAITER_BITS` | the count (`_value`) |
    /// | low `WAITER_BITS` | acquirers in the slow path that may be parked; at `WAITERS` (all ones) it is *saturated*: it stays there forever and every release wakes threads |
    ///
    /// A release that finds the waiter field zero wakes nobody; an acquirer counts itself
    /// in (a compare-exchange) before it parks, and parks only if the count is still zero
    /// (a read-modify-write in `validate`), so no release can miss it.
    word: B::Atomic,
    /// `BoundedSemaphore`'s bound (its initial value); `None` for a plain Semaphore.
    bound: Option<usize>,
    tag: B::Tag,
}

impl<B: Backend> fmt::Debug for Semaphore<B> {
    /// Like CPython's repr without the address: `<threading.Semaphore: value=3>`, or for a
    /// bounded one `<threading.BoundedSemaphore: value=2/3>`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let value = self.value_raw();
        match self.bound {
            None => write!(f, "<threading.Semaphore: value={value}>"),
            Some(b) => write!(f, "<threading.BoundedSemaphore: value={value}/{b}>"),
        }
    }
}

impl<B: Backend> Semaphore<B> {
    /// The largest count lockproof can hold: 2^48 − 1 on 64-bit targets (CPython's count is
    /// an unbounded int).
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::threading::{Error, Semaphore};
    ///
    /// assert!(Semaphore::new(Semaphore::MAX_VALUE as isize).is_ok());
    /// assert_eq!(
    ///     Semaphore::new(Semaphore::MAX_VALUE as isize + 1).unwrap_err(),
    ///     Error::SemaphoreOverflow
    /// );
    /// ```
    pub const MAX_VALUE: usize = usize::MAX >> WAITER_BITS;

    /// `threading.Semaphore(value)`: a semaphore with `value` permits.
    ///
    /// A negative value is `ValueError('semaphore initial value must be >= 0')`; one above
    /// [`MAX_VALUE`](Semaphore::MAX_VALUE) is [`Error::SemaphoreOverflow`].
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::threading::{Error, Semaphore};
    ///
    /// assert_eq!(Semaphore::new(3).unwrap().value(), 3);
    /// assert_eq!(Semaphore::new(-1).unwrap_err(), Error::SemaphoreNegative);
    /// ```
    pub fn new(value: isize) -> Result<Self> {
        Self::build(value, false, "Semaphore")
    }

    fn build(value: isize, bounded: bool, kind: &'static str) -> Result<Self> {
        let value = usize::try_from(value).map_err(|_| Error::SemaphoreNegative)?;
        if value > Self::MAX_VALUE {
            return Err(Error::SemaphoreOverflow);
        }
        Ok(Semaphore {
            word: B::Atomic::new(value << WAITER_BITS),
            bound: bounded.then_some(value),
            tag: B::Tag::new(kind),
        })
    }

    /// Name the semaphore in checker traces (no effect on real threads).
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::threading::Semaphore;
    ///
    /// let sem = Semaphore::new(1).unwrap().with_name("pool");
    /// assert_eq!(sem.value(), 1);
    /// ```
    pub fn with_name(self, name: &str) -> Self {
        self.tag.set_name(name);
        self
    }

    /// The semaphore's trace identity.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::threading::Semaphore;
    ///
    /// let sem = Semaphore::new(1).unwrap();
    /// assert_eq!(std::mem::size_of_val(sem.tag()), 0); // real threads keep no trace
    /// ```
    pub fn tag(&self) -> &B::Tag {
        &self.tag
    }

    /// `acquire()`: take a permit, waiting as long as it takes. Always returns `true`.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::threading::Semaphore;
    ///
    /// let sem = Semaphore::new(1).unwrap();
    /// assert!(sem.acquire());
    /// assert_eq!(sem.value(), 0);
    /// ```
    pub fn acquire(&self) -> bool {
        let r = self.acquire_raw(true, None);
        debug_assert_eq!(r, Ok(true));
        B::record(&self.tag, || {
            Record::new("acquire", Outcome::Bool(true)).holding(Hold::Acquired)
        });
        true
    }

    /// `acquire(blocking=False)`: take a permit if one is free; never blocks.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::threading::Semaphore;
    ///
    /// let sem = Semaphore::new(1).unwrap();
    /// assert!(sem.try_acquire());
    /// assert!(!sem.try_acquire());
    /// ```
    pub fn try_acquire(&self) -> bool {
        let ok = self.try_take(false);
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

    /// `acquire(timeout=t)`: wait at most `t` seconds for a permit.
    ///
    /// As CPython: `t <= 0` polls once and returns `false` (−1 is *not* forever); a NaN
    /// timeout waits until a permit comes (CPython busy-polls; lockproof sleeps, with the
    /// same results); a timeout too large to wait on (above
    /// [`TIMEOUT_MAX`](crate::TIMEOUT_MAX), or infinite) is `OverflowError('timestamp out
    /// of range for platform time_t')`, but only when the call must actually wait: with a
    /// permit free it returns `true` without looking at the timeout (checks 74, 75).
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::threading::Semaphore;
    ///
    /// let sem = Semaphore::new(0).unwrap();
    /// assert_eq!(sem.acquire_timeout(0.01), Ok(false)); // no permit came
    /// ```
    pub fn acquire_timeout(&self, timeout: f64) -> Result<bool> {
        self.acquire_with(true, Some(timeout))
    }

    /// `acquire(blocking, timeout)`: `timeout = None` waits forever. A non-blocking call
    /// with a timeout is `ValueError("can't specify timeout for non-blocking acquire")`;
    /// `acquire_with(false, None)` is a plain poll.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::threading::{Error, Semaphore};
    ///
    /// let sem = Semaphore::new(1).unwrap();
    /// assert_eq!(sem.acquire_with(false, Some(1.0)), Err(Error::SemaphoreNonBlockingTimeout));
    /// assert_eq!(sem.acquire_with(true, None), Ok(true));
    /// ```
    pub fn acquire_with(&self, blocking: bool, timeout: Option<f64>) -> Result<bool> {
        let args = || {
            let a = if blocking {
                Args::new()
            } else {
                Args::new().bool("blocking", false)
            };
            match timeout {
                Some(t) => a.secs("timeout", t),
                None => a,
            }
        };
        let r = if !blocking && timeout.is_some() {
            Err(Error::SemaphoreNonBlockingTimeout)
        } else {
            self.acquire_raw(blocking, timeout)
        };
        B::record(&self.tag, || {
            let outcome = match &r {
                Ok(ok) => Outcome::Bool(*ok),
                Err(e) => Outcome::Error(e.python_repr()),
            };
            Record::with_args("acquire", args(), outcome)
                .holding(Hold::acquired_if(matches!(r, Ok(true))))
        });
        r
    }

    /// `release()`: give a permit back and wake one waiter, if any. Any thread may call it,
    /// and a plain Semaphore may be released more often than acquired.
    ///
    /// On a [`BoundedSemaphore`] already at its initial value:
    /// `ValueError('Semaphore released too many times')`.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::threading::Semaphore;
    ///
    /// let sem = Semaphore::new(0).unwrap();
    /// sem.release().unwrap(); // a plain Semaphore may grow past its start
    /// assert_eq!(sem.value(), 1);
    /// ```
    pub fn release(&self) -> Result<()> {
        self.release_traced(1, Args::new())
    }

    /// `release(n)`: give `n` permits back and wake up to `n` waiters.
    ///
    /// `n < 1` is `ValueError('n must be one or more')`, checked first. On a
    /// [`BoundedSemaphore`], a release that would take the value past the initial one is
    /// `ValueError('Semaphore released too many times')` and changes nothing (all or
    /// nothing, check 87).
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::threading::{Error, Semaphore};
    ///
    /// let sem = Semaphore::new(0).unwrap();
    /// sem.release_n(3).unwrap();
    /// assert_eq!(sem.value(), 3);
    /// assert_eq!(sem.release_n(0), Err(Error::ReleaseCount));
    /// ```
    pub fn release_n(&self, n: isize) -> Result<()> {
        self.release_traced(n, Args::new().int("n", n as i64))
    }

    /// `_value`: the permits free now (a snapshot).
    ///
    /// A read-modify-write that changes nothing, so it always sees the latest count, as a
    /// read under CPython's GIL does (under loom a plain load may read a stale one, and a
    /// model polling it would report a false alarm).
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::threading::Semaphore;
    ///
    /// let sem = Semaphore::new(2).unwrap();
    /// sem.acquire();
    /// assert_eq!(sem.value(), 1);
    /// ```
    pub fn value(&self) -> usize {
        let v = permits(self.word.fetch_add(0, SeqCst));
        B::record(&self.tag, || Record::new("_value", Outcome::Int(v as i64)));
        v
    }

    /// `with sem:` — acquire (waiting as long as it takes), and release when the guard
    /// drops.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::threading::Semaphore;
    ///
    /// let sem = Semaphore::new(1).unwrap();
    /// {
    ///     let _permit = sem.lock();
    ///     assert_eq!(sem.value(), 0);
    /// }
    /// assert_eq!(sem.value(), 1);
    /// ```
    pub fn lock(&self) -> SemaphoreGuard<'_, B> {
        self.acquire();
        SemaphoreGuard { sem: self }
    }

    // ---- internals -------------------------------------------------------------------

    fn value_raw(&self) -> usize {
        permits(self.word.load(SeqCst))
    }

    fn release_traced(&self, n: isize, args: Args) -> Result<()> {
        let r = self.release_state(n);
        // Traced before any waiter is woken: a woken acquirer's steps come after it.
        B::record(&self.tag, || {
            let outcome = match &r {
                Ok(_) => Outcome::Done,
                Err(e) => Outcome::Error(e.python_repr()),
            };
            Record::with_args("release", args, outcome).holding(Hold::released_if(r.is_ok()))
        });
        let wake = r?;
        if wake != 0 {
            self.wake(wake);
        }
        Ok(())
    }

    /// Give `n` permits back; `Ok(k)`: wake up to `k` parked acquirers now.
    fn release_state(&self, n: isize) -> Result<usize> {
        let n = match usize::try_from(n) {
            Ok(n) if n >= 1 => n,
            _ => return Err(Error::ReleaseCount),
        };
        let mut cur = self.word.load(SeqCst);
        let mut fresh = false;
        let mut failures = 0u32;
        loop {
            let value = permits(cur);
            let error = if self.bound.is_some_and(|bound| n > bound - value) {
                Some(Error::ReleasedTooManyTimes)
            } else if n > Self::MAX_VALUE - value {
                Some(Error::SemaphoreOverflow)
            } else {
                None
            };
            if let Some(e) = error {
                if fresh {
                    return Err(e);
                }
                cur = self.fresh_word();
                fresh = true;
                continue;
            }
            // The compare-exchange reads the latest word, so its waiter field is current:
            // an acquirer that counted itself in before it is woken below, one that counts
            // itself in after it sees the new permits.
            match self
                .word
                .compare_exchange(cur, cur + n * PERMIT, SeqCst, SeqCst)
            {
                Ok(_) => break,
                Err(actual) => {
                    cur = actual;
                    fresh = true;
                    failures += 1;
                    // A guard dropped while its thread unwinds must not spin forever: when
                    // a checked execution has failed, its atomics stop working (every
                    // compare-exchange fails), and the teardown runs this from `Drop`. On
                    // real threads, 65,536 consecutive losses to other threads' updates do
                    // not happen; if they did, the permit of a panicking thread is lost.
                    if failures >= UNWIND_RETRIES && std::thread::panicking() {
                        return Ok(0);
                    }
                }
            }
        }
        Ok(n.min(waiters(cur)))
    }

    /// Wake up to `n` parked acquirers (CPython's `notify(n)`), stopping when none is left.
    #[cold]
    fn wake(&self, n: usize) {
        for _ in 0..n {
            if !B::unpark_one(&self.word) {
                break;
            }
        }
    }

    /// Take a permit if one is free; a registered waiter also counts itself out, in the
    /// same compare-exchange.
    #[inline]
    fn try_take(&self, registered: bool) -> bool {
        let mut cur = self.word.load(SeqCst);
        let mut fresh = false;
        loop {
            if permits(cur) == 0 {
                if fresh {
                    return false;
                }
                cur = self.fresh_word();
                fresh = true;
                continue;
            }
            let out = usize::from(registered && waiters(cur) != WAITERS);
            match self
                .word
                .compare_exchange(cur, cur - PERMIT - out, SeqCst, SeqCst)
            {
                Ok(_) => return true,
                Err(actual) => {
                    cur = actual;
                    fresh = true;
                }
            }
        }
    }

    /// The latest word, read with a read-modify-write that changes nothing.
    ///
    /// The loops above start from a plain load (free on x86) and let their
    /// compare-exchange correct it; but a decision taken on the load alone ("no permit",
    /// "released too many times") must be confirmed on the latest word: loom lets a load
    /// read a stale value (the initial one, in particular) that no real machine would
    /// show after the updates this thread could know of.
    #[cold]
    fn fresh_word(&self) -> usize {
        self.word.fetch_add(0, SeqCst)
    }

    /// Take a free permit, or count the caller in as a waiter (saturating).
    fn take_or_register(&self) -> Entry {
        let mut cur = self.word.load(SeqCst);
        loop {
            let (new, entry) = if permits(cur) > 0 {
                (cur - PERMIT, Entry::Took)
            } else if waiters(cur) == WAITERS {
                (cur, Entry::Registered)
            } else {
                (cur + 1, Entry::Registered)
            };
            match self.word.compare_exchange(cur, new, SeqCst, SeqCst) {
                Ok(_) => return entry,
                Err(actual) => cur = actual,
            }
        }
    }

    /// Count a registered waiter out (unless the field is saturated).
    fn deregister(&self) {
        let mut cur = self.word.load(SeqCst);
        while waiters(cur) != WAITERS {
            match self.word.compare_exchange(cur, cur - 1, SeqCst, SeqCst) {
                Ok(_) => return,
                Err(actual) => cur = actual,
            }
        }
    }

    /// CPython's `Semaphore.acquire` loop, untraced.
    fn acquire_raw(&self, blocking: bool, timeout: Option<f64>) -> Result<bool> {
        if self.try_take(false) {
            return Ok(true);
        }
        if !blocking {
            return Ok(false);
        }
        self.acquire_slow(DeadlineLoop::new(timeout))
    }

    #[cold]
    fn acquire_slow(&self, mut deadline: DeadlineLoop) -> Result<bool> {
        let mut registered = false;
        let result = loop {
            // The count was zero: wait as CPython's loop does (the first wait with the
            // whole timeout, later ones with the time left; a timeout too large to wait on
            // fails here, so only when a wait is really needed).
            let wait = match deadline.next_wait::<B>() {
                Err(e) => break Err(e),
                Ok(Next::Expired) => break Ok(false),
                Ok(Next::Wait(w)) => w,
            };
            // A poll (timeout <= 0) does not sleep: it re-checks the count once below.
            if wait != Wait::Poll {
                if !registered {
                    match self.take_or_register() {
                        Entry::Took => return Ok(true),
                        Entry::Registered => registered = true,
                    }
                }
                let req = ParkRequest {
                    key: self.key(),
                    tag: &self.tag,
                    op: "acquire",
                    kind: WaitKind::Semaphore,
                    deadline: wait.deadline::<B>(),
                };
                // A read-modify-write, not a load: it must see a release that came after
                // this thread counted itself in (see `Lock::acquire_slow`).
                let still_empty = || permits(self.word.fetch_add(0, SeqCst)) == 0;
                // Whatever ended the wait (a release's wakeup, a permit that came before
                // the park, the deadline), CPython's loop re-checks the count first: a
                // waiter that timed out still takes a permit that is there.
                let _ = B::park(req, still_empty);
            }
            if self.try_take(registered) {
                return Ok(true);
            }
        };
        if registered {
            self.deregister();
        }
        result
    }

    #[inline]
    fn key(&self) -> usize {
        &self.word as *const B::Atomic as usize
    }
}

/// Python's `threading.BoundedSemaphore` (`primitives/SEMANTICS.md` §6): a [`Semaphore`] that may not be
/// released past its initial value.
///
/// CPython's `BoundedSemaphore` is a subclass of `Semaphore`
/// (`isinstance(BoundedSemaphore(), Semaphore)` is true, check 90); here it derefs to
/// [`Semaphore`], so it has every Semaphore method and a `&BoundedSemaphore` is usable as a
/// `&Semaphore`. As with Python's virtual dispatch, `release` through the `&Semaphore`
/// still checks the bound.
///
/// - [`release_n`](Semaphore::release_n) checks `n >= 1` first (`ValueError('n must be one
///   or more')`), then that `value + n <= initial`: otherwise `ValueError('Semaphore
///   released too many times')` and the value is unchanged (check 87).
/// - `acquire` is Semaphore's, unchanged.
///
/// | Python | Rust |
/// |---|---|
/// | `BoundedSemaphore(value)` | [`BoundedSemaphore::new`] |
/// | everything else | as [`Semaphore`] |
///
/// # Examples
///
/// ```
/// use lockproof::threading::{BoundedSemaphore, Error};
///
/// let sem = BoundedSemaphore::new(1).unwrap();
/// sem.acquire();
/// sem.release().unwrap();
/// assert_eq!(sem.release(), Err(Error::ReleasedTooManyTimes));
/// ```
pub struct BoundedSemaphore<B: Backend = Std> {
    sem: Semaphore<B>,
}

impl<B: Backend> BoundedSemaphore<B> {
    /// `threading.BoundedSemaphore(value)`: `value` permits, and `value` is the bound.
    ///
    /// A negative value is `ValueError('semaphore initial value must be >= 0')`; one above
    /// [`Semaphore::MAX_VALUE`] is [`Error::SemaphoreOverflow`].
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::threading::BoundedSemaphore;
    ///
    /// let sem = BoundedSemaphore::new(2).unwrap();
    /// assert_eq!(sem.value(), 2); // the Semaphore methods, through Deref
    /// ```
    pub fn new(value: isize) -> Result<Self> {
        Ok(BoundedSemaphore {
            sem: Semaphore::build(value, true, "BoundedSemaphore")?,
        })
    }

    /// Name the semaphore in checker traces (no effect on real threads).
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::threading::BoundedSemaphore;
    ///
    /// let sem = BoundedSemaphore::new(1).unwrap().with_name("slots");
    /// assert_eq!(sem.initial_value(), 1);
    /// ```
    pub fn with_name(self, name: &str) -> Self {
        self.sem.tag.set_name(name);
        self
    }

    /// `_initial_value`: the bound.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::threading::BoundedSemaphore;
    ///
    /// let sem = BoundedSemaphore::new(2).unwrap();
    /// sem.acquire();
    /// assert_eq!(sem.initial_value(), 2);
    /// ```
    pub fn initial_value(&self) -> usize {
        self.sem.bound.unwrap_or(0)
    }

    /// The semaphore as its base class (`isinstance(b, Semaphore)`).
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::threading::BoundedSemaphore;
    ///
    /// let sem = BoundedSemaphore::new(1).unwrap();
    /// assert_eq!(sem.as_semaphore().value(), 1);
    /// ```
    pub fn as_semaphore(&self) -> &Semaphore<B> {
        &self.sem
    }
}

impl<B: Backend> Deref for BoundedSemaphore<B> {
    type Target = Semaphore<B>;

    fn deref(&self) -> &Semaphore<B> {
        &self.sem
    }
}

impl<B: Backend> fmt::Debug for BoundedSemaphore<B> {
    /// `<threading.BoundedSemaphore: value=2/3>`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.sem, f)
    }
}

/// The `with sem:` scope of a [`Semaphore`] (or [`BoundedSemaphore`]): releases on drop.
///
/// Python's `__exit__` calls `release()`, which on a BoundedSemaphore released meanwhile by
/// another thread raises `ValueError('Semaphore released too many times')`; a destructor
/// cannot return it, so use [`SemaphoreGuard::exit`] to see it.
///
/// # Examples
///
/// ```
/// use lockproof::threading::Semaphore;
///
/// let sem = Semaphore::new(1).unwrap();
/// let permit = sem.lock();
/// assert_eq!(permit.exit(), Ok(()));
/// assert_eq!(sem.value(), 1);
/// ```
#[must_use = "the permit is released when the guard drops"]
pub struct SemaphoreGuard<'a, B: Backend = Std> {
    sem: &'a Semaphore<B>,
}

crate::guard::with_scope!(SemaphoreGuard, sem, "Semaphore::new(1).unwrap()");

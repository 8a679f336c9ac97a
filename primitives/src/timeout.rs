//! CPython's three timeout conventions (`primitives/SEMANTICS.md` §1.2), kept apart.
//!
//! - Lock and RLock (`Lock.acquire(blocking=True, timeout=-1)`): −1 means forever, any
//!   other negative value is an error, NaN is an error, a timeout on a non-blocking call is
//!   an error. See [`lock_wait`].
//! - Condition, Event (`wait(timeout=None)`): `None` is forever; zero, negative and NaN
//!   poll. See [`Wait::condition`].
//! - `Condition.wait_for`, `Semaphore.acquire`, `Barrier.wait`: `None` is forever; the first
//!   wait uses the timeout, later ones the time left to a deadline; zero or negative polls
//!   once then gives up. NaN busy-polls forever in CPython; lockproof waits forever instead
//!   (the same results, without the busy loop).
//!
//! Everywhere, a timeout that must actually be waited on and is beyond the platform's
//! range (`TIMEOUT_MAX`, infinity) is `OverflowError('timestamp out of range for platform
//! time_t')`.

use crate::backend::{Args, Backend, Moment};
use crate::error::{Error, Result};
use std::time::Duration;

/// `threading.TIMEOUT_MAX` on 64-bit Linux: the largest timeout, in seconds, that
/// `Lock.acquire` accepts.
///
/// # Examples
///
/// ```
/// use lockproof::threading::{Error, Lock};
/// use lockproof::TIMEOUT_MAX;
///
/// let lock = Lock::new();
/// assert_eq!(lock.acquire_timeout(TIMEOUT_MAX), Ok(true)); // free: no wait
/// assert_eq!(lock.acquire_timeout(TIMEOUT_MAX * 2.0), Err(Error::TimeoutOverflow));
/// ```
pub const TIMEOUT_MAX: f64 = 9_223_372_036.0;

/// The exclusive upper bound of CPython's nanosecond clock type (`-(double)_PyTime_MIN`).
const NS_LIMIT: f64 = 9_223_372_036_854_775_808.0;

/// Seconds to nanoseconds, rounded away from zero, as CPython's "timeout" rounding does.
fn to_nanos(secs: f64) -> Result<i64> {
    if secs.is_nan() {
        return Err(Error::NanTimeout);
    }
    let d = secs * 1e9;
    let d = if d >= 0.0 { d.ceil() } else { d.floor() };
    if !(-NS_LIMIT..NS_LIMIT).contains(&d) {
        return Err(Error::TimeoutOverflow);
    }
    Ok(d as i64)
}

/// How long a wait may last, once its arguments are valid.
///
/// # Examples
///
/// ```
/// use lockproof::timeout::{lock_wait, Wait};
/// use std::time::Duration;
///
/// assert_eq!(lock_wait(true, -1.0), Ok(Wait::Forever)); // acquire()
/// assert_eq!(lock_wait(false, -1.0), Ok(Wait::Poll)); // acquire(blocking=False)
/// assert_eq!(lock_wait(true, 0.5), Ok(Wait::For(Duration::from_millis(500))));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Wait {
    /// One non-blocking attempt.
    Poll,
    /// No deadline.
    Forever,
    /// At most this long.
    For(Duration),
}

impl Wait {
    /// A positive finite timeout in seconds, as Condition/Event/Semaphore take it when they
    /// must really wait: an overflow is an error.
    fn positive(secs: f64) -> Result<Wait> {
        let ns = to_nanos(secs)?;
        Ok(Wait::For(Duration::from_nanos(ns as u64)))
    }

    /// `Condition.wait(timeout)` and `Event.wait(timeout)`: `None` is forever; `> 0` waits;
    /// zero, negative and NaN poll.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::timeout::Wait;
    /// use lockproof::Error;
    /// use std::time::Duration;
    ///
    /// assert_eq!(Wait::condition(None), Ok(Wait::Forever));
    /// assert_eq!(Wait::condition(Some(0.25)), Ok(Wait::For(Duration::from_millis(250))));
    /// // Unlike Lock.acquire, zero, negative and NaN timeouts poll.
    /// assert_eq!(Wait::condition(Some(-1.0)), Ok(Wait::Poll));
    /// assert_eq!(Wait::condition(Some(f64::NAN)), Ok(Wait::Poll));
    /// assert_eq!(Wait::condition(Some(1e300)), Err(Error::TimeoutOverflow));
    /// ```
    pub fn condition(timeout: Option<f64>) -> Result<Wait> {
        match timeout {
            None => Ok(Wait::Forever),
            Some(t) if t > 0.0 => Wait::positive(t),
            Some(_) => Ok(Wait::Poll),
        }
    }

    /// The deadline of this wait from now on backend `B` (`None` for forever; now, for a
    /// poll).
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::backend::{Backend, Std};
    /// use lockproof::timeout::Wait;
    /// use std::time::Duration;
    ///
    /// assert_eq!(Wait::Forever.deadline::<Std>(), None);
    /// let before = Std::now();
    /// let d = Wait::For(Duration::from_secs(5)).deadline::<Std>().unwrap();
    /// assert!(d.0 >= before.0 + 5_000_000_000);
    /// assert!(Wait::Poll.deadline::<Std>().unwrap() <= Std::now()); // a poll's deadline is now
    /// ```
    pub fn deadline<B: Backend>(self) -> Option<Moment> {
        match self {
            Wait::For(d) => Some(Moment::after(B::now(), d).unwrap_or(Moment(u64::MAX))),
            Wait::Poll => Some(B::now()),
            Wait::Forever => None,
        }
    }
}

/// `Lock.acquire(blocking, timeout)` argument checks, in CPython's order: NaN and overflow
/// first (conversion), then a timeout on a non-blocking call, then a negative timeout.
/// `timeout == -1.0` (after rounding away from zero to whole nanoseconds) means forever.
///
/// # Examples
///
/// ```
/// use lockproof::timeout::{lock_wait, Wait};
/// use lockproof::Error;
///
/// assert_eq!(lock_wait(true, 0.0), Ok(Wait::Poll));
/// // CPython's order: conversion errors first, then the non-blocking check, then the sign.
/// assert_eq!(lock_wait(false, f64::NAN), Err(Error::NanTimeout));
/// assert_eq!(lock_wait(false, 1.0), Err(Error::NonBlockingTimeout));
/// assert_eq!(lock_wait(true, -2.0), Err(Error::NegativeTimeout));
/// ```
pub fn lock_wait(blocking: bool, timeout: f64) -> Result<Wait> {
    const FOREVER_NS: i64 = -1_000_000_000;
    let ns = to_nanos(timeout)?;
    if !blocking && ns != FOREVER_NS {
        return Err(Error::NonBlockingTimeout);
    }
    if ns < 0 && ns != FOREVER_NS {
        return Err(Error::NegativeTimeout);
    }
    Ok(if !blocking || ns == 0 {
        Wait::Poll
    } else if ns == FOREVER_NS {
        Wait::Forever
    } else {
        Wait::For(Duration::from_nanos(ns as u64))
    })
}

/// A deadline loop as `Condition.wait_for`, `Semaphore.acquire` and `Barrier.wait` run it:
/// the first wait uses the whole timeout, later ones the time left; it stops when none is
/// left.
///
/// # Examples
///
/// ```
/// use lockproof::backend::Std;
/// use lockproof::timeout::{DeadlineLoop, Next, Wait};
///
/// // `Semaphore.acquire(timeout=0)`: one poll, then no time is left.
/// let mut l = DeadlineLoop::new(Some(0.0));
/// assert_eq!(l.next_wait::<Std>(), Ok(Next::Wait(Wait::Poll)));
/// assert_eq!(l.next_wait::<Std>(), Ok(Next::Expired));
/// ```
#[derive(Clone, Copy, Debug)]
pub struct DeadlineLoop {
    timeout: Option<f64>,
    deadline: Option<Moment>,
    started: bool,
}

/// What the next wait of a [`DeadlineLoop`] is.
///
/// # Examples
///
/// ```
/// use lockproof::backend::Std;
/// use lockproof::timeout::{DeadlineLoop, Next, Wait};
///
/// // Without a timeout the loop never expires.
/// let mut l = DeadlineLoop::new(None);
/// for _ in 0..3 {
///     assert_eq!(l.next_wait::<Std>(), Ok(Next::Wait(Wait::Forever)));
/// }
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Next {
    /// Give up: no time left.
    Expired,
    /// Wait this way.
    Wait(Wait),
}

impl DeadlineLoop {
    /// A loop with `timeout` seconds (`None`: forever).
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::backend::Std;
    /// use lockproof::timeout::{DeadlineLoop, Next, Wait};
    /// use std::time::Duration;
    ///
    /// let mut l = DeadlineLoop::new(Some(30.0));
    /// // The first wait gets the whole timeout; later ones what is left of it.
    /// assert_eq!(l.next_wait::<Std>(), Ok(Next::Wait(Wait::For(Duration::from_secs(30)))));
    /// match l.next_wait::<Std>() {
    ///     Ok(Next::Wait(Wait::For(left))) => assert!(left <= Duration::from_secs(30)),
    ///     other => panic!("expected time left, got {other:?}"),
    /// }
    /// ```
    pub fn new(timeout: Option<f64>) -> Self {
        DeadlineLoop {
            timeout,
            deadline: None,
            started: false,
        }
    }

    /// The next wait, or [`Next::Expired`]. Errors with `OverflowError` for a timeout too
    /// large to wait on.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::backend::Std;
    /// use lockproof::timeout::DeadlineLoop;
    /// use lockproof::Error;
    ///
    /// let mut l = DeadlineLoop::new(Some(f64::INFINITY));
    /// assert_eq!(l.next_wait::<Std>(), Err(Error::TimeoutOverflow));
    /// ```
    pub fn next_wait<B: Backend>(&mut self) -> Result<Next> {
        let Some(t) = self.timeout else {
            return Ok(Next::Wait(Wait::Forever));
        };
        if t.is_nan() {
            return Ok(Next::Wait(Wait::Forever));
        }
        if !self.started {
            // CPython: the first turn waits with the caller's timeout unchanged (a zero or
            // negative one polls once); the deadline is fixed at that point.
            self.started = true;
            let wait = Wait::condition(Some(t))?;
            self.deadline = Some(match wait {
                Wait::For(d) => Moment::after(B::now(), d).unwrap_or(Moment(u64::MAX)),
                _ => B::now(),
            });
            return Ok(Next::Wait(wait));
        }
        match self.deadline {
            None => Ok(Next::Wait(Wait::Forever)),
            Some(d) => {
                let now = B::now();
                if now >= d {
                    Ok(Next::Expired)
                } else {
                    Ok(Next::Wait(Wait::For(Duration::from_nanos(d.0 - now.0))))
                }
            }
        }
    }
}

/// The arguments of `Lock.acquire(blocking, timeout)` / `RLock.acquire` as a trace shows
/// them.
pub(crate) fn lock_acquire_args(blocking: bool, timeout: f64) -> Args {
    if blocking {
        Args::new().secs("timeout", timeout)
    } else {
        Args::new().bool("blocking", false).secs("timeout", timeout)
    }
}

/// `timeout=…` when there is one.
pub(crate) fn timeout_args(timeout: Option<f64>) -> Args {
    match timeout {
        Some(t) => Args::new().secs("timeout", t),
        None => Args::new(),
    }
}

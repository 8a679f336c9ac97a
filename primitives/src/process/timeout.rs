//! `multiprocessing`'s timeout conventions (SEMANTICS.md §10.2), apart from `threading`'s
//! (`crate::timeout`):
//!
//! - the parameter is `block`, not `blocking`; the default timeout is `None` (forever);
//! - a non-blocking call ignores its timeout, with no error;
//! - a negative timeout is 0;
//! - a deadline C cannot represent is `OSError(EINVAL)`, and only when the call really
//!   waits: `inf`, NaN and anything from 2^63 seconds on (C's `(long)timeout` is then
//!   `LONG_MIN` and the `timespec`'s nanoseconds come out negative). A timeout whose
//!   deadline overflows `time_t` (within about 60 years of 2^63 seconds) wraps to a past
//!   deadline: `False` at once, as glibc's `sem_timedwait` reports `ETIMEDOUT`.
//!
//! Deadlines are on the backend's monotonic clock, not the wall clock CPython uses
//! (see `backend::real_process`).

use crate::backend::{Backend, Moment};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// How a SemLock acquire that must block waits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum SemWait {
    /// No timeout: `sem_wait`.
    Forever,
    /// `sem_timedwait` until this moment (`None`: beyond the clock, i.e. forever).
    Until(Option<Moment>),
    /// The deadline wrapped into the past: one more try, then `False`.
    Past,
    /// `sem_timedwait` would fail with `EINVAL`.
    Invalid,
}

/// 2^63, the first `double` that does not convert to a C `long`.
const LONG_LIMIT: f64 = 9_223_372_036_854_775_808.0;

/// CPython's deadline computation for `SemLock.acquire(True, timeout)`.
pub(crate) fn sem_wait<B: Backend>(timeout: Option<f64>) -> SemWait {
    let Some(t) = timeout else {
        return SemWait::Forever;
    };
    // `if (timeout < 0.0) timeout = 0.0;` (NaN is not < 0 and stays NaN; -inf becomes 0).
    let t = if t < 0.0 { 0.0 } else { t };
    if t.is_nan() || t >= LONG_LIMIT {
        return SemWait::Invalid;
    }
    let sec = t as i64;
    let wall = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    if wall.checked_add(sec).is_none() {
        return SemWait::Past;
    }
    SemWait::Until(Moment::after(B::now(), Duration::from_secs_f64(t)))
}

/// `time.monotonic()` on backend `B`, in seconds (for `Condition.wait_for`).
pub(crate) fn monotonic<B: Backend>() -> f64 {
    B::now().0 as f64 / 1e9
}

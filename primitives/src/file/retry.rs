//! Timeouts by retry with back-off, as the tutorial's helpers do it.

use crate::backend::{Backend, Moment};
use crate::{Error, Result};
use std::time::Duration;

/// How long to sleep between tries of a non-blocking request: `initial`, multiplied by
/// `factor` after each failed try, at most `max`, and never past the deadline. The
/// default (1 ms doubling to 50 ms) keeps a free lock's latency low without spinning.
///
/// # Examples
///
/// ```
/// use lockproof::backend::Std;
/// use lockproof::file::Backoff;
/// use std::time::Duration;
///
/// let b = Backoff { initial: Duration::from_millis(1), max: Duration::from_millis(4), factor: 2.0 };
/// let mut tries = 0;
/// // Succeeds on the third try (two sleeps: 1 ms, 2 ms).
/// let got = b.retry::<Std, _>(Some(5.0), || { tries += 1; Ok((tries == 3).then_some(tries)) })?;
/// assert_eq!(got, Some(3));
/// // Never succeeds: gives up at the timeout.
/// assert_eq!(b.retry::<Std, ()>(Some(0.01), || Ok(None))?, None);
/// # Ok::<(), lockproof::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Backoff {
    /// The first sleep.
    pub initial: Duration,
    /// The longest sleep.
    pub max: Duration,
    /// Growth per failed try (1.0: a fixed interval, as `time.sleep(0.1)` in a loop).
    pub factor: f64,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff {
            initial: Duration::from_millis(1),
            max: Duration::from_millis(50),
            factor: 2.0,
        }
    }
}

impl Backoff {
    /// A fixed interval between tries.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::file::Backoff;
    /// use std::time::Duration;
    ///
    /// assert_eq!(Backoff::fixed(Duration::from_millis(100)).factor, 1.0);
    /// ```
    pub fn fixed(interval: Duration) -> Backoff {
        Backoff {
            initial: interval,
            max: interval,
            factor: 1.0,
        }
    }

    /// Call `attempt` until it returns `Ok(Some(_))` (returned), an error (returned), or
    /// `timeout` seconds have passed on `B`'s clock (`Ok(None)`; `None` waits forever).
    /// The first try is made at once, and one last try at the deadline. A negative or NaN
    /// timeout is `ValueError('timeout value must be positive')`.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::backend::Std;
    /// use lockproof::file::Backoff;
    ///
    /// assert!(Backoff::default().retry::<Std, ()>(Some(-1.0), || Ok(None)).is_err());
    /// assert_eq!(Backoff::default().retry::<Std, _>(None, || Ok(Some(7))), Ok(Some(7)));
    /// ```
    pub fn retry<B: Backend, T>(
        &self,
        timeout: Option<f64>,
        mut attempt: impl FnMut() -> Result<Option<T>>,
    ) -> Result<Option<T>> {
        let deadline = match timeout {
            None => None,
            Some(t) if t.is_nan() || t < 0.0 => return Err(Error::NegativeTimeout),
            Some(t) => Some(
                Duration::try_from_secs_f64(t)
                    .ok()
                    .and_then(|d| Moment::after(B::now(), d))
                    .ok_or(Error::TimeoutOverflow)?,
            ),
        };
        let mut delay = self.initial;
        loop {
            if let Some(v) = attempt()? {
                return Ok(Some(v));
            }
            let mut sleep = delay;
            if let Some(d) = deadline {
                let now = B::now();
                if now >= d {
                    return Ok(None);
                }
                sleep = sleep.min(Duration::from_nanos(d.0 - now.0));
            }
            B::sleep(sleep);
            delay = delay.mul_f64(self.factor.max(1.0)).min(self.max);
        }
    }
}

//! A node's clocks: true (virtual) time seen through an offset, a drift and jumps.

use std::time::Duration;

/// How a node's clocks stray from true time, set when the node is made; jumps are added
/// by the checker as faults.
///
/// The wall clock reads `true + offset + true × drift_ppm / 10⁶ + jumps`; the monotonic
/// clock reads `true + true × drift_ppm / 10⁶` (drift, never jumps).
///
/// # Examples
///
/// ```
/// use lockproof_services::sim::NodeClock;
/// use std::time::Duration;
///
/// let fast = NodeClock::default().ahead(Duration::from_millis(500));
/// assert_eq!(fast.wall(1_000_000_000), 1_500_000_000);
/// assert_eq!(fast.mono(1_000_000_000), 1_000_000_000);
/// let drifting = NodeClock::default().drift_ppm(100_000); // 10% fast
/// assert_eq!(drifting.mono(1_000_000_000), 1_100_000_000);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct NodeClock {
    /// Nanoseconds the wall clock is ahead of true time (negative: behind).
    pub offset: i64,
    /// Parts per million the node's clocks run fast (negative: slow).
    pub drift_ppm: i64,
    /// The sum of the jumps so far, in nanoseconds.
    pub jumped: i64,
}

impl NodeClock {
    /// The same clock, `by` ahead of true time.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof_services::sim::NodeClock;
    /// use std::time::Duration;
    ///
    /// assert_eq!(NodeClock::default().ahead(Duration::from_secs(1)).offset, 1_000_000_000);
    /// ```
    #[must_use]
    pub fn ahead(mut self, by: Duration) -> Self {
        self.offset = self.offset.saturating_add(nanos(by));
        self
    }

    /// The same clock, `by` behind true time.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof_services::sim::NodeClock;
    /// use std::time::Duration;
    ///
    /// assert_eq!(NodeClock::default().behind(Duration::from_secs(1)).offset, -1_000_000_000);
    /// ```
    #[must_use]
    pub fn behind(mut self, by: Duration) -> Self {
        self.offset = self.offset.saturating_sub(nanos(by));
        self
    }

    /// The same clock, running `ppm` parts per million fast (negative: slow).
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof_services::sim::NodeClock;
    ///
    /// assert_eq!(NodeClock::default().drift_ppm(-50).drift_ppm, -50);
    /// ```
    #[must_use]
    pub fn drift_ppm(mut self, ppm: i64) -> Self {
        self.drift_ppm = ppm;
        self
    }

    fn drifted(&self, true_ns: u64) -> i64 {
        let t = i64::try_from(true_ns).unwrap_or(i64::MAX);
        let drift = (i128::from(t) * i128::from(self.drift_ppm) / 1_000_000) as i64;
        t.saturating_add(drift)
    }

    /// The wall clock at true time `true_ns`, in nanoseconds.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof_services::sim::NodeClock;
    ///
    /// assert_eq!(NodeClock::default().wall(42), 42);
    /// ```
    pub fn wall(&self, true_ns: u64) -> i64 {
        self.drifted(true_ns)
            .saturating_add(self.offset)
            .saturating_add(self.jumped)
    }

    /// The monotonic clock at true time `true_ns`, in nanoseconds.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof_services::sim::NodeClock;
    ///
    /// assert_eq!(NodeClock::default().mono(42), 42);
    /// ```
    pub fn mono(&self, true_ns: u64) -> u64 {
        u64::try_from(self.drifted(true_ns).max(0)).unwrap_or(0)
    }
}

pub(crate) fn nanos(d: Duration) -> i64 {
    i64::try_from(d.as_nanos()).unwrap_or(i64::MAX)
}

//! Time as a server sees it when it applies a request.

/// A server's two clocks at the instant it applies one request, in nanoseconds.
///
/// `wall` is its wall clock (`time.time()`, Redis's expiry deadlines, PostgreSQL's
/// `now()`): true time plus the server's offset, which drift and jumps change, so it can go
/// back. `mono` is its monotonic clock (ZooKeeper's and etcd's expiry counting): it never
/// jumps.
///
/// # Examples
///
/// ```
/// use lockproof_services::time::ServerClock;
///
/// let t = ServerClock::at(1_500_000_000);
/// assert_eq!(t.wall_ms(), 1_500);
/// assert_eq!(t.mono, 1_500_000_000);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct ServerClock {
    /// Wall-clock time in nanoseconds (may be negative after a backward jump).
    pub wall: i64,
    /// Monotonic time in nanoseconds.
    pub mono: u64,
}

impl ServerClock {
    /// Both clocks at `nanos` (a server with no offset).
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof_services::time::ServerClock;
    ///
    /// assert_eq!(ServerClock::at(7).wall, 7);
    /// ```
    pub fn at(nanos: u64) -> Self {
        ServerClock {
            wall: i64::try_from(nanos).unwrap_or(i64::MAX),
            mono: nanos,
        }
    }

    /// The wall clock in whole milliseconds (rounded down).
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof_services::time::ServerClock;
    ///
    /// assert_eq!(ServerClock { wall: -1, mono: 0 }.wall_ms(), -1);
    /// ```
    pub fn wall_ms(&self) -> i64 {
        self.wall.div_euclid(1_000_000)
    }

    /// The monotonic clock in whole milliseconds.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof_services::time::ServerClock;
    ///
    /// assert_eq!(ServerClock::at(2_500_000).mono_ms(), 2);
    /// ```
    pub fn mono_ms(&self) -> u64 {
        self.mono / 1_000_000
    }
}

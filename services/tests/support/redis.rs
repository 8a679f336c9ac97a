//! What the Redis twin's test files share: the server clock at a test's millisecond.

use lockproof_services::time::ServerClock;

/// 2026-01-01T00:00:00Z in Unix milliseconds: the tests' wall-clock origin.
pub const T0_MS: u64 = 1_767_225_600_000;

/// The server's clocks `ms` milliseconds after [`T0_MS`].
pub fn at(ms: u64) -> ServerClock {
    ServerClock::at((T0_MS + ms) * 1_000_000)
}

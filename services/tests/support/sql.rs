//! What the SQL twin's test files share: a server clock at a test's millisecond, and the
//! reply of a statement that did not wait.

use lockproof_services::sql::{Exec, Reply};
use lockproof_services::time::ServerClock;

/// The server's clocks `ms` milliseconds into a test (the wall clock in 2026).
pub fn at(ms: u64) -> ServerClock {
    ServerClock {
        wall: 1_780_000_000_000_000_000 + (ms as i64) * 1_000_000,
        mono: ms * 1_000_000,
    }
}

/// The reply of a statement that ran to its end (a test's own expectation: it did not block).
pub fn done(e: Exec) -> Reply {
    match e {
        Exec::Done(r) => r,
        other => panic!("expected a reply, got {other}"),
    }
}

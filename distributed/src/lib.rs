//! Real distributed locks on Redis and PostgreSQL, each handing out a fencing token, and the
//! differential tests (`tests/differential_*.rs`) that run DISTRIBUTED.md §9's checks against
//! the real servers and lockproof's simulated twins.
//!
//! - [`redis_lock`]: a Redis lock (`SET NX PX` and a fencing token from `INCR` in one script,
//!   compare-and-delete release, owner-comparing extend);
//! - [`fence`]: a fenced storage on PostgreSQL whose writes only accept a token at least the
//!   stored one, the judge of the real-fault tests;
//! - [`pg_lock`]: PostgreSQL advisory and lock-table locks with tokens from a sequence.
//!
//! Every error is typed ([`LockError`]): the lock was lost, the caller is not the owner, or the
//! service is unreachable (a one-line message).

#![warn(missing_docs)]

pub mod fence;
pub mod pg_lock;
pub mod redis_lock;
pub mod redlock;

use std::fmt;

/// Why a lock operation failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LockError {
    /// The lock is no longer held by this owner: it expired (and may be someone else's now).
    Lost,
    /// Another owner holds the lock.
    NotOwner,
    /// The service could not be reached: one line saying which and why.
    Unreachable(String),
    /// The service answered with an error (SQLSTATE or Redis error): one line.
    Server(String),
}

impl fmt::Display for LockError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LockError::Lost => f.write_str("lost the lock: it expired"),
            LockError::NotOwner => f.write_str("not the owner: another client holds the lock"),
            LockError::Unreachable(why) | LockError::Server(why) => f.write_str(why),
        }
    }
}

impl std::error::Error for LockError {}

/// A unique owner id for this process: pid, a per-process counter and the clock's nanoseconds.
pub(crate) fn owner_id() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let ns = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!("{}-{n}-{ns}", std::process::id())
}

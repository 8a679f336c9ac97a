//! Real ZooKeeper and etcd locks, each handing out a fencing token, with the guards that start
//! private servers for tests, and the differential tests (`tests/differential_*.rs`) that run
//! DISTRIBUTED.md §9's ZooKeeper and etcd checks against the real servers and lockproof's
//! simulated twins.
//!
//! - [`zk_lock`]: the ZooKeeper recipe (ephemeral-sequential node, predecessor watch, session
//!   handling); the token is the lock node's `czxid`;
//! - [`etcd_lock`]: lease plus create revision, with keep-alive renewal; the token is the lock
//!   key's create revision;
//! - [`testing`]: [`testing::ZkServer`] and [`testing::EtcdServer`], private servers on free
//!   loopback ports with data in temporary directories, killed on drop.
//!
//! The clients (zookeeper-client, etcd-client) are async; each lock here owns a private tokio
//! current-thread runtime on its own thread and offers a blocking API. Errors reuse
//! [`lockproof_distributed::LockError`]: the lock was lost, the caller is not the owner, the
//! service is unreachable or answered with an error (one line each). Fencing is judged by
//! [`lockproof_distributed::fence::FencedStore`].

#![warn(missing_docs)]

pub mod etcd_lock;
mod runtime;
pub mod testing;
pub mod zk_lock;

pub use lockproof_distributed::LockError;

/// A unique id for this process's contenders: pid, a per-process counter and the clock.
pub(crate) fn unique_id() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let ns = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!("{}x{n}x{ns}", std::process::id())
}

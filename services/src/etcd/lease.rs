//! Leases: the requests and replies, and the lease state the store keeps.

use super::kv::ResponseHeader;
use std::collections::BTreeSet;
use std::fmt;

/// A lease id (positive; 0 means "no lease").
pub type LeaseId = i64;

/// The largest TTL a grant accepts, in seconds (etcd's `MaxLeaseTTL`).
pub const MAX_LEASE_TTL: i64 = 9_000_000_000;

/// A lease id as etcdctl prints it: 16 hex digits, zero-padded.
///
/// # Examples
///
/// ```
/// use lockproof_services::etcd::fmt_lease;
///
/// assert_eq!(fmt_lease(0x694d), "000000000000694d");
/// ```
pub fn fmt_lease(id: LeaseId) -> String {
    format!("{id:016x}")
}

/// One granted lease, as the server holds it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Lease {
    /// The granted TTL in seconds (after the minimum-TTL rule).
    pub(crate) ttl: i64,
    /// The server's monotonic time (ns) at which it expires.
    pub(crate) deadline: u64,
    /// The keys attached to it.
    pub(crate) keys: BTreeSet<String>,
}

/// `LeaseGrant`: a new lease with a TTL in seconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct LeaseGrantRequest {
    /// The requested TTL in seconds; the server raises it to its minimum.
    pub ttl: i64,
    /// The id to use; 0 lets the server choose.
    pub id: LeaseId,
}

impl LeaseGrantRequest {
    /// `lease grant <ttl>`: a lease whose id the server chooses.
    pub fn new(ttl: i64) -> Self {
        LeaseGrantRequest { ttl, id: 0 }
    }
}

impl fmt::Display for LeaseGrantRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "lease grant {}", self.ttl)?;
        if self.id != 0 {
            // Not an etcdctl flag: the request's ID field.
            write!(f, " --id={}", fmt_lease(self.id))?;
        }
        Ok(())
    }
}

/// The reply to a [`LeaseGrantRequest`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct LeaseGrantResponse {
    /// The store's current revision (a grant writes no key).
    pub header: ResponseHeader,
    /// The lease's id.
    pub id: LeaseId,
    /// The granted TTL in seconds (at least the server's minimum).
    pub ttl: i64,
}

impl fmt::Display for LeaseGrantResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "lease {} granted with TTL({}s)",
            fmt_lease(self.id),
            self.ttl
        )
    }
}

/// The reply to a lease revocation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct LeaseRevokeResponse {
    /// The store's revision after deleting the lease's keys (unchanged if it had none).
    pub header: ResponseHeader,
    /// The revoked lease (etcdctl prints the id it was asked for).
    pub id: LeaseId,
}

impl fmt::Display for LeaseRevokeResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "lease {} revoked", fmt_lease(self.id))
    }
}

/// The reply to one keep-alive.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct LeaseKeepAliveResponse {
    /// The store's current revision.
    pub header: ResponseHeader,
    /// The lease.
    pub id: LeaseId,
    /// The TTL it was renewed to: the granted TTL.
    pub ttl: i64,
}

impl fmt::Display for LeaseKeepAliveResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "lease {} keepalived with TTL({})",
            fmt_lease(self.id),
            self.ttl
        )
    }
}

/// The reply to `LeaseTimeToLive`. A lease that does not exist is not an error: the reply
/// has `ttl` −1 and `granted_ttl` 0, which etcdctl prints as "already expired".
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct LeaseTimeToLiveResponse {
    /// The store's current revision.
    pub header: ResponseHeader,
    /// The lease asked about.
    pub id: LeaseId,
    /// Whole seconds left (truncated), or −1 if the lease does not exist.
    pub ttl: i64,
    /// The granted TTL, 0 if the lease does not exist.
    pub granted_ttl: i64,
    /// The attached keys, sorted, if they were asked for.
    pub keys: Option<Vec<String>>,
}

impl LeaseTimeToLiveResponse {
    /// Whether the server no longer knows the lease (expired, revoked or never granted).
    pub fn expired(&self) -> bool {
        self.granted_ttl == 0 && self.ttl == -1
    }
}

impl fmt::Display for LeaseTimeToLiveResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.expired() {
            return write!(f, "lease {} already expired", fmt_lease(self.id));
        }
        write!(
            f,
            "lease {} granted with TTL({}s), remaining({}s)",
            fmt_lease(self.id),
            self.granted_ttl,
            self.ttl
        )?;
        if let Some(keys) = &self.keys {
            write!(f, ", attached keys([{}])", keys.join(" "))?;
        }
        Ok(())
    }
}

/// The reply to `LeaseLeases` (`lease list`).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct LeaseLeasesResponse {
    /// The store's current revision.
    pub header: ResponseHeader,
    /// The live leases, by id (the real server lists them in map order).
    pub ids: Vec<LeaseId>,
}

impl fmt::Display for LeaseLeasesResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "found {} leases", self.ids.len())?;
        for id in &self.ids {
            write!(f, "\n{}", fmt_lease(*id))?;
        }
        Ok(())
    }
}

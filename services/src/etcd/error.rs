//! The errors an etcd server returns, with their exact gRPC messages and codes.

use std::fmt;

/// The gRPC status code an [`EtcdError`] travels with (etcd's `rpctypes`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum GrpcCode {
    /// `codes.InvalidArgument`: a malformed request (empty key, duplicate key in a txn).
    InvalidArgument,
    /// `codes.OutOfRange`: a revision outside the kept history, or a too large TTL.
    OutOfRange,
    /// `codes.NotFound`: the lease does not exist (never granted, revoked or expired).
    NotFound,
    /// `codes.FailedPrecondition`: a lease with the requested id already exists.
    FailedPrecondition,
}

impl fmt::Display for GrpcCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            GrpcCode::InvalidArgument => "InvalidArgument",
            GrpcCode::OutOfRange => "OutOfRange",
            GrpcCode::NotFound => "NotFound",
            GrpcCode::FailedPrecondition => "FailedPrecondition",
        })
    }
}

/// An error reply of the etcd twin. `Display` prints the server's message exactly, as
/// etcdctl shows it after `Error: ` and as clientv3's `err.Error()` returns it.
///
/// # Examples
///
/// ```
/// use lockproof_services::etcd::{EtcdError, GrpcCode};
///
/// assert_eq!(EtcdError::LeaseNotFound.to_string(), "etcdserver: requested lease not found");
/// assert_eq!(EtcdError::LeaseNotFound.code(), GrpcCode::NotFound);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EtcdError {
    /// A put, range or delete with an empty key.
    EmptyKey,
    /// More than 128 compares or operations in one branch of a txn.
    TooManyOps,
    /// A txn branch that puts one key twice, or puts a key it also deletes.
    DuplicateKey,
    /// A read, watch or compaction at a revision the store has compacted away.
    Compacted,
    /// A read or compaction at a revision the store has not reached.
    FutureRevision,
    /// A put, revoke or keep-alive naming a lease that is not (or no longer) granted.
    LeaseNotFound,
    /// A grant with an explicit id that is already in use.
    LeaseExists,
    /// A grant with a TTL above 9 000 000 000 s.
    LeaseTtlTooLarge,
}

impl EtcdError {
    /// The server's message, exactly.
    pub fn message(&self) -> &'static str {
        match self {
            EtcdError::EmptyKey => "etcdserver: key is not provided",
            EtcdError::TooManyOps => "etcdserver: too many operations in txn request",
            EtcdError::DuplicateKey => "etcdserver: duplicate key given in txn request",
            EtcdError::Compacted => "etcdserver: mvcc: required revision has been compacted",
            EtcdError::FutureRevision => "etcdserver: mvcc: required revision is a future revision",
            EtcdError::LeaseNotFound => "etcdserver: requested lease not found",
            EtcdError::LeaseExists => "etcdserver: lease already exists",
            EtcdError::LeaseTtlTooLarge => "etcdserver: too large lease TTL",
        }
    }

    /// The gRPC status code the server sends with it.
    pub fn code(&self) -> GrpcCode {
        match self {
            EtcdError::EmptyKey | EtcdError::TooManyOps | EtcdError::DuplicateKey => {
                GrpcCode::InvalidArgument
            }
            EtcdError::Compacted | EtcdError::FutureRevision | EtcdError::LeaseTtlTooLarge => {
                GrpcCode::OutOfRange
            }
            EtcdError::LeaseNotFound => GrpcCode::NotFound,
            EtcdError::LeaseExists => GrpcCode::FailedPrecondition,
        }
    }
}

impl fmt::Display for EtcdError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.message())
    }
}

impl std::error::Error for EtcdError {}

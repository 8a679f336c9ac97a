//! Watches: the create request, the events, and the responses a client's outbox holds.

use super::kv::{KeyRange, KeyValue, ResponseHeader, Revision};
use std::fmt;

/// A client connection, which carries one watch stream (watch ids are per stream).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ClientId(pub u32);

impl fmt::Display for ClientId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "client-{}", self.0)
    }
}

/// A watch id, unique within its client's stream (0, 1, 2, …).
pub type WatchId = i64;

/// `Watch` create: events on a key range from a revision on.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct WatchCreateRequest {
    /// The keys watched.
    pub range: KeyRange,
    /// The first revision to report; 0 for "from the next write on".
    pub start_revision: Revision,
    /// Include each event's previous key.
    pub prev_kv: bool,
    /// Leave out put events.
    pub no_put: bool,
    /// Leave out delete events.
    pub no_delete: bool,
}

impl WatchCreateRequest {
    /// A watch of one key from the next write on.
    pub fn key(key: impl Into<String>) -> Self {
        Self::range(KeyRange::Key(key.into()))
    }

    /// A watch of every key with a prefix from the next write on.
    pub fn prefix(prefix: impl Into<String>) -> Self {
        Self::range(KeyRange::Prefix(prefix.into()))
    }

    /// A watch of a key range from the next write on.
    pub fn range(range: KeyRange) -> Self {
        WatchCreateRequest {
            range,
            start_revision: 0,
            prev_kv: false,
            no_put: false,
            no_delete: false,
        }
    }

    /// Report events from `revision` on (`--rev`), replaying history already written.
    pub fn from_revision(mut self, revision: Revision) -> Self {
        self.start_revision = revision;
        self
    }

    /// Include previous keys (`--prev-kv`).
    pub fn with_prev_kv(mut self) -> Self {
        self.prev_kv = true;
        self
    }

    /// Leave out puts (clientv3's `WithFilterPut`).
    pub fn without_puts(mut self) -> Self {
        self.no_put = true;
        self
    }

    /// Leave out deletions (clientv3's `WithFilterDelete`).
    pub fn without_deletes(mut self) -> Self {
        self.no_delete = true;
        self
    }

    pub(crate) fn wants(&self, ev: &WatchEvent) -> bool {
        self.range.contains(&ev.kv.key)
            && match ev.kind {
                EventKind::Put => !self.no_put,
                EventKind::Delete => !self.no_delete,
            }
    }
}

impl fmt::Display for WatchCreateRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "watch {}", self.range)?;
        if self.start_revision != 0 {
            write!(f, " --rev={}", self.start_revision)?;
        }
        if self.prev_kv {
            f.write_str(" --prev-kv")?;
        }
        // Not etcdctl flags: clientv3's WithFilterPut / WithFilterDelete.
        if self.no_put {
            f.write_str(" --filter-put")?;
        }
        if self.no_delete {
            f.write_str(" --filter-delete")?;
        }
        Ok(())
    }
}

/// The reply to a watch create: the watch exists (its events go to the client's outbox).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct WatchCreated {
    /// The store's current revision.
    pub header: ResponseHeader,
    /// The new watch's id on this client's stream.
    pub watch_id: WatchId,
}

impl fmt::Display for WatchCreated {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "watch {} created", self.watch_id)
    }
}

/// The kind of a watch event.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EventKind {
    /// A put (creation or update).
    Put,
    /// A deletion (by a delete, a txn, or a lease's expiry or revocation).
    Delete,
}

/// One change of one key, as a watcher receives it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct WatchEvent {
    /// Put or delete.
    pub kind: EventKind,
    /// The key after the change; for a deletion only the key and `mod_revision` (the
    /// deletion's revision) are set.
    pub kv: KeyValue,
    /// The key before the change, if the watch asked for it and the key existed.
    pub prev_kv: Option<KeyValue>,
}

impl fmt::Display for WatchEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self.kind {
            EventKind::Put => "PUT",
            EventKind::Delete => "DELETE",
        })?;
        if let Some(p) = &self.prev_kv {
            write!(f, "\n{p}")?;
        }
        write!(f, "\n{}", self.kv)
    }
}

/// One message on a client's watch stream: the events of one revision for one watch, or
/// the watch's cancellation.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct WatchResponse {
    /// The watch.
    pub watch_id: WatchId,
    /// The store's revision when the message was made.
    pub header: ResponseHeader,
    /// The events, in revision order (one revision per message here).
    pub events: Vec<WatchEvent>,
    /// The watch is over; no more messages will come for it.
    pub canceled: bool,
    /// Set (with `canceled`) when the start revision had been compacted: the oldest
    /// revision still available.
    pub compact_revision: Revision,
}

impl fmt::Display for WatchResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.compact_revision != 0 {
            return f.write_str(
                "watch was canceled (etcdserver: mvcc: required revision has been compacted)",
            );
        }
        if self.canceled {
            return f.write_str("watch was canceled");
        }
        for (i, ev) in self.events.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{ev}")?;
        }
        Ok(())
    }
}

/// A watch the server keeps.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Watcher {
    pub(crate) req: WatchCreateRequest,
    /// The first revision not yet reported.
    pub(crate) next_revision: Revision,
}

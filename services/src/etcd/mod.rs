//! An etcd-like store (etcd v3 API, one member): revisions, leases, transactions, watches.
//!
//! [`Etcd`] is a deterministic state machine: one request is one atomic step, applied with
//! the server's [`ServerClock`]; lease expiry is counted on the server's **monotonic**
//! clock (wall-clock jumps do not move it, drift does). Watch events are not pushed
//! anywhere: they wait in a per-client outbox that the caller drains with
//! [`Etcd::take_events`]. The facts it follows are DISTRIBUTED.md §4 (etcd 3.4.23, tags
//! [R]/[S]/[D] there), §5.4 and §6.8.
//!
//! Modelled:
//! - one store revision (1 when fresh, +1 per write request that changes a key, however many keys);
//! - keys with `create_revision`, `mod_revision`, `version`, `lease`; a re-created key starts over;
//! - range of one key, a prefix, from-key or `[a, b)`, sorted by key (or by create/mod/version/value), limit, min/max create and mod revision filters, keys-only, count-only;
//! - reads at an earlier revision, and compaction with `etcdserver: mvcc: required revision has been compacted`;
//! - put (with lease, prev-kv), delete of a key or a range (no revision when nothing is deleted);
//! - `Txn` with compares on create/mod revision, version, value and lease (over a key or a range), then/else ops, one revision, duplicate-key and 128-op checks;
//! - leases: grant with the minimum TTL (⌈1.5 × election timeout⌉, 2 s by default), explicit ids, keep-alive to the granted TTL, revoke, time-to-live (truncated seconds, −1 when gone), list;
//! - lease expiry at the deadline on the server's monotonic clock, deleting the attached keys in one revision (also as its own step: [`Etcd::expire_leases`], [`Etcd::next_lease_deadline`]);
//! - `etcdserver: requested lease not found` for put, revoke and keep-alive of a missing lease;
//! - watches on a key or range from a revision (history replayed, then live), prev-kv, put/delete filters, cancellation by compaction, per-client watch ids;
//! - restart of the member and leader change: keys, revisions and leases survive; every lease is refreshed to its full TTL plus the election timeout (§4.2, §5.4); watches resume across a restart as clientv3 resumes them (the raw stream end is [`Etcd::close_client`]);
//! - the concurrency package's Mutex and Election as sans-IO client recipes ([`concurrency`]);
//! - a client over the simulation's network ([`client`]): requests as data, the watch stream read by polling.
//!
//! Not modelled:
//! - several members, followers' stale serializable reads, quorum loss (a single member answers all);
//! - the 500 ms period of the real lessor's expiry loop (expiry here happens exactly at the deadline);
//! - lease checkpointing (off by default in 3.4) and the revoke-rate spreading after a promotion;
//! - nested txns, `ignore_value`/`ignore_lease`, auth, alarms, defragmentation, progress notifications;
//! - watch batching and fragmenting (one message per revision and watch here);
//! - the real server's lease id generator (ids here are `lease_id_base` + 0, 1, 2, … in grant order).
//!
//! # Examples
//!
//! ```
//! use lockproof_services::etcd::{Etcd, PutRequest, RangeRequest};
//! use lockproof_services::time::ServerClock;
//!
//! let mut etcd = Etcd::new();
//! let t = ServerClock::at(0);
//! assert_eq!(etcd.put(&PutRequest::new("k", "a"), t)?.header.revision, 2);
//! etcd.put(&PutRequest::new("k", "b"), t)?;
//! let kv = &etcd.range(&RangeRequest::key("k"), t)?.kvs[0];
//! assert_eq!((kv.create_revision, kv.mod_revision, kv.version), (2, 3, 2));
//! # Ok::<(), lockproof_services::etcd::EtcdError>(())
//! ```

#![warn(missing_docs)]

pub mod client;
pub mod concurrency;
mod error;
mod kv;
mod lease;
mod watch;

pub use error::{EtcdError, GrpcCode};
pub use kv::{
    CompactionResponse, Compare, CompareResult, CompareTarget, DeleteRangeRequest,
    DeleteRangeResponse, KeyRange, KeyValue, PutRequest, PutResponse, RangeRequest, RangeResponse,
    ResponseHeader, Revision, SortOrder, SortTarget, TxnOp, TxnOpResponse, TxnRequest, TxnResponse,
};
pub use lease::{
    fmt_lease, LeaseGrantRequest, LeaseGrantResponse, LeaseId, LeaseKeepAliveResponse,
    LeaseLeasesResponse, LeaseRevokeResponse, LeaseTimeToLiveResponse, MAX_LEASE_TTL,
};
pub use watch::{
    ClientId, EventKind, WatchCreateRequest, WatchCreated, WatchEvent, WatchId, WatchResponse,
};

use crate::time::ServerClock;
use lease::Lease;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use watch::Watcher;

const NANOS_PER_SEC: u64 = 1_000_000_000;
const MAX_TXN_OPS: usize = 128;

/// The member's settings that change what clients see.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct EtcdConfig {
    /// `--election-timeout` in ms (etcd's default 1000): sets the minimum lease TTL and the
    /// extension leases get when a leader takes over.
    pub election_timeout_ms: u64,
    /// `--heartbeat-interval` in ms (etcd's default 100).
    pub heartbeat_ms: u64,
    /// The first lease id the server hands out; later grants count up from it.
    pub lease_id_base: LeaseId,
}

impl Default for EtcdConfig {
    fn default() -> Self {
        EtcdConfig {
            election_timeout_ms: 1000,
            heartbeat_ms: 100,
            lease_id_base: 0x694d_77aa_9e38_2600,
        }
    }
}

impl EtcdConfig {
    /// The minimum lease TTL in seconds: ⌈(3 × election ticks / 2) × heartbeat⌉, with
    /// election ticks = election timeout / heartbeat (integer divisions, as etcd computes it).
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof_services::etcd::EtcdConfig;
    ///
    /// assert_eq!(EtcdConfig::default().min_lease_ttl(), 2);
    /// ```
    pub fn min_lease_ttl(&self) -> i64 {
        let heartbeat = self.heartbeat_ms.max(1);
        let ticks = self.election_timeout_ms / heartbeat;
        let min_ms = (3 * ticks / 2) * heartbeat;
        i64::try_from(min_ms.div_ceil(1000)).unwrap_or(i64::MAX)
    }
}

/// Any request the twin serves, for callers (the simulation's server) that route requests
/// as data. `Display` prints the etcdctl command.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Request {
    /// `get`.
    Range(RangeRequest),
    /// `put`.
    Put(PutRequest),
    /// `del`.
    DeleteRange(DeleteRangeRequest),
    /// `txn`.
    Txn(TxnRequest),
    /// `compaction <rev>`.
    Compact(Revision),
    /// `lease grant`.
    LeaseGrant(LeaseGrantRequest),
    /// `lease revoke`.
    LeaseRevoke(LeaseId),
    /// One keep-alive on the lease's stream (`lease keep-alive --once`).
    LeaseKeepAlive(LeaseId),
    /// `lease timetolive [--keys]`.
    LeaseTimeToLive {
        /// The lease.
        id: LeaseId,
        /// List the attached keys.
        keys: bool,
    },
    /// `lease list`.
    LeaseLeases,
    /// Create a watch on the client's stream.
    Watch(WatchCreateRequest),
    /// Cancel a watch of the client's stream.
    WatchCancel(WatchId),
}

impl fmt::Display for Request {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Request::Range(r) => write!(f, "{r}"),
            Request::Put(r) => write!(f, "{r}"),
            Request::DeleteRange(r) => write!(f, "{r}"),
            Request::Txn(r) => write!(f, "{r}"),
            Request::Compact(rev) => write!(f, "compaction {rev}"),
            Request::LeaseGrant(r) => write!(f, "{r}"),
            Request::LeaseRevoke(id) => write!(f, "lease revoke {}", fmt_lease(*id)),
            Request::LeaseKeepAlive(id) => {
                write!(f, "lease keep-alive --once {}", fmt_lease(*id))
            }
            Request::LeaseTimeToLive { id, keys } => {
                write!(f, "lease timetolive {}", fmt_lease(*id))?;
                if *keys {
                    f.write_str(" --keys")?;
                }
                Ok(())
            }
            Request::LeaseLeases => f.write_str("lease list"),
            Request::Watch(r) => write!(f, "{r}"),
            Request::WatchCancel(id) => write!(f, "watch cancel {id}"),
        }
    }
}

/// The reply to a [`Request`]. `Display` prints what etcdctl prints.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Response {
    /// To `Range`.
    Range(RangeResponse),
    /// To `Put`.
    Put(PutResponse),
    /// To `DeleteRange`.
    DeleteRange(DeleteRangeResponse),
    /// To `Txn`.
    Txn(TxnResponse),
    /// To `Compact`.
    Compaction(CompactionResponse),
    /// To `LeaseGrant`.
    LeaseGrant(LeaseGrantResponse),
    /// To `LeaseRevoke`.
    LeaseRevoke(LeaseRevokeResponse),
    /// To `LeaseKeepAlive`.
    LeaseKeepAlive(LeaseKeepAliveResponse),
    /// To `LeaseTimeToLive`.
    LeaseTimeToLive(LeaseTimeToLiveResponse),
    /// To `LeaseLeases`.
    LeaseLeases(LeaseLeasesResponse),
    /// To `Watch`.
    WatchCreated(WatchCreated),
    /// To `WatchCancel`: whether the watch existed.
    WatchCanceled {
        /// The watch.
        watch_id: WatchId,
        /// Whether it existed (the server ignores an unknown id).
        found: bool,
    },
}

impl fmt::Display for Response {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Response::Range(r) => write!(f, "{r}"),
            Response::Put(r) => write!(f, "{r}"),
            Response::DeleteRange(r) => write!(f, "{r}"),
            Response::Txn(r) => write!(f, "{r}"),
            Response::Compaction(r) => write!(f, "{r}"),
            Response::LeaseGrant(r) => write!(f, "{r}"),
            Response::LeaseRevoke(r) => write!(f, "{r}"),
            Response::LeaseKeepAlive(r) => write!(f, "{r}"),
            Response::LeaseTimeToLive(r) => write!(f, "{r}"),
            Response::LeaseLeases(r) => write!(f, "{r}"),
            Response::WatchCreated(r) => write!(f, "{r}"),
            Response::WatchCanceled { watch_id, found } => {
                if *found {
                    write!(f, "watch {watch_id} canceled")
                } else {
                    write!(f, "watch {watch_id} not found")
                }
            }
        }
    }
}

/// The writes of one request, committed together as one revision.
#[derive(Debug)]
struct Write {
    rev: Revision,
    /// Every change, with its previous key always recorded (the log needs it to undo).
    events: Vec<WatchEvent>,
}

/// An etcd v3 member with its store, leases and watches. See the module doc.
///
/// # Examples
///
/// A lease-bound key vanishes when the lease expires on the server's monotonic clock:
///
/// ```
/// use lockproof_services::etcd::{Etcd, LeaseGrantRequest, PutRequest, RangeRequest};
/// use lockproof_services::time::ServerClock;
///
/// let mut etcd = Etcd::new();
/// let lease = etcd.lease_grant(&LeaseGrantRequest::new(1), ServerClock::at(0))?;
/// assert_eq!(lease.ttl, 2); // raised to the minimum TTL
/// etcd.put(&PutRequest::new("l1", "v").with_lease(lease.id), ServerClock::at(0))?;
/// let later = ServerClock::at(2_000_000_000);
/// assert!(etcd.range(&RangeRequest::key("l1"), later)?.kvs.is_empty());
/// # Ok::<(), lockproof_services::etcd::EtcdError>(())
/// ```
#[derive(Debug, Clone)]
pub struct Etcd {
    config: EtcdConfig,
    revision: Revision,
    /// The compaction point; −1 before the first compaction.
    compact_revision: Revision,
    kvs: BTreeMap<String, KeyValue>,
    /// Every change since the compaction point, in revision order, each with its previous
    /// key (reads at an earlier revision undo them; watches replay them).
    log: Vec<WatchEvent>,
    leases: BTreeMap<LeaseId, Lease>,
    next_lease: LeaseId,
    watchers: BTreeMap<(ClientId, WatchId), Watcher>,
    next_watch: BTreeMap<ClientId, WatchId>,
    outbox: BTreeMap<ClientId, Vec<WatchResponse>>,
    term: u64,
}

impl Default for Etcd {
    fn default() -> Self {
        Self::new()
    }
}

impl Etcd {
    /// A fresh member with etcd's default timing (election 1000 ms, heartbeat 100 ms).
    pub fn new() -> Self {
        Self::with_config(EtcdConfig::default())
    }

    /// A fresh member with the given settings.
    pub fn with_config(config: EtcdConfig) -> Self {
        Etcd {
            config,
            revision: 1,
            compact_revision: -1,
            kvs: BTreeMap::new(),
            log: Vec::new(),
            leases: BTreeMap::new(),
            next_lease: config.lease_id_base,
            watchers: BTreeMap::new(),
            next_watch: BTreeMap::new(),
            outbox: BTreeMap::new(),
            term: 1,
        }
    }

    /// The settings.
    pub fn config(&self) -> &EtcdConfig {
        &self.config
    }

    /// The store's current revision.
    pub fn revision(&self) -> Revision {
        self.revision
    }

    /// The last compaction's revision, −1 if none.
    pub fn compact_revision(&self) -> Revision {
        self.compact_revision
    }

    /// The raft term: 1 when fresh, +1 per restart or leader change.
    pub fn term(&self) -> u64 {
        self.term
    }

    /// The current state of a key, read without applying anything (no expiry step): for
    /// assertions and traces, not a client request.
    pub fn peek(&self, key: &str) -> Option<&KeyValue> {
        self.kvs.get(key)
    }

    /// The key as a request at `clock` would find it, read without applying anything: like
    /// [`Etcd::peek`], but a key whose lease's deadline has passed counts as gone (for a
    /// judge that looks at the server through `inspect`).
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof_services::etcd::{Etcd, LeaseGrantRequest, PutRequest};
    /// use lockproof_services::time::ServerClock;
    ///
    /// let mut etcd = Etcd::new();
    /// let t = ServerClock::at(0);
    /// let l = etcd.lease_grant(&LeaseGrantRequest::new(2), t).unwrap().id;
    /// etcd.put(&PutRequest::new("lock", "a").with_lease(l), t).unwrap();
    /// let later = ServerClock::at(2_000_000_000);
    /// assert!(etcd.peek("lock").is_some()); // no expiry step has run
    /// assert!(etcd.peek_at("lock", later).is_none()); // but any request would find it gone
    /// ```
    pub fn peek_at(&self, key: &str, clock: ServerClock) -> Option<&KeyValue> {
        let kv = self.kvs.get(key)?;
        match self.leases.get(&kv.lease) {
            Some(l) if l.deadline <= clock.mono => None,
            _ => Some(kv),
        }
    }

    /// The ids of the leases the server holds now (without an expiry step).
    pub fn lease_ids(&self) -> Vec<LeaseId> {
        self.leases.keys().copied().collect()
    }

    fn header(&self) -> ResponseHeader {
        ResponseHeader {
            revision: self.revision,
        }
    }

    // ---- writes ---------------------------------------------------------------------------

    fn begin(&self) -> Write {
        Write {
            rev: self.revision + 1,
            events: Vec::new(),
        }
    }

    /// The revision a read inside `w` sees (its own writes included).
    fn visible(&self, w: &Write) -> Revision {
        if w.events.is_empty() {
            self.revision
        } else {
            w.rev
        }
    }

    fn detach(&mut self, key: &str, lease: LeaseId) {
        if lease != 0 {
            if let Some(l) = self.leases.get_mut(&lease) {
                l.keys.remove(key);
            }
        }
    }

    fn do_put(&mut self, w: &mut Write, req: &PutRequest) -> PutResponse {
        let prev = self.kvs.get(&req.key).cloned();
        let kv = match &prev {
            Some(p) => KeyValue {
                key: req.key.clone(),
                value: req.value.clone(),
                create_revision: p.create_revision,
                mod_revision: w.rev,
                version: p.version + 1,
                lease: req.lease,
            },
            None => KeyValue {
                key: req.key.clone(),
                value: req.value.clone(),
                create_revision: w.rev,
                mod_revision: w.rev,
                version: 1,
                lease: req.lease,
            },
        };
        if let Some(p) = &prev {
            if p.lease != req.lease {
                self.detach(&req.key, p.lease);
            }
        }
        if req.lease != 0 {
            if let Some(l) = self.leases.get_mut(&req.lease) {
                l.keys.insert(req.key.clone());
            }
        }
        self.kvs.insert(req.key.clone(), kv.clone());
        w.events.push(WatchEvent {
            kind: EventKind::Put,
            kv,
            prev_kv: prev.clone(),
        });
        PutResponse {
            header: ResponseHeader { revision: w.rev },
            prev_kv: if req.prev_kv { prev } else { None },
        }
    }

    fn keys_in(&self, range: &KeyRange) -> Vec<String> {
        self.kvs
            .range(range.start().to_string()..)
            .map(|(k, _)| k)
            .take_while(|k| range.contains(k))
            .cloned()
            .collect()
    }

    fn do_delete(&mut self, w: &mut Write, req: &DeleteRangeRequest) -> DeleteRangeResponse {
        let mut prev_kvs = Vec::new();
        let keys = self.keys_in(&req.range);
        for key in &keys {
            let Some(old) = self.kvs.remove(key) else {
                continue;
            };
            self.detach(key, old.lease);
            w.events.push(WatchEvent {
                kind: EventKind::Delete,
                kv: KeyValue {
                    key: key.clone(),
                    mod_revision: w.rev,
                    ..KeyValue::default()
                },
                prev_kv: Some(old.clone()),
            });
            if req.prev_kv {
                prev_kvs.push(old);
            }
        }
        DeleteRangeResponse {
            header: ResponseHeader {
                revision: self.visible(w),
            },
            deleted: i64::try_from(keys.len()).unwrap_or(i64::MAX),
            prev_kvs,
        }
    }

    fn commit(&mut self, w: Write) {
        if w.events.is_empty() {
            return;
        }
        self.revision = w.rev;
        let header = self.header();
        for ((client, id), watcher) in self.watchers.iter_mut() {
            if watcher.next_revision > w.rev {
                continue;
            }
            watcher.next_revision = w.rev + 1;
            let events = select_events(&watcher.req, &w.events);
            if !events.is_empty() {
                self.outbox.entry(*client).or_default().push(WatchResponse {
                    watch_id: *id,
                    header,
                    events,
                    canceled: false,
                    compact_revision: 0,
                });
            }
        }
        self.log.extend(w.events);
    }

    // ---- reads ----------------------------------------------------------------------------

    fn check_read_revision(&self, rev: Revision, visible: Revision) -> Result<(), EtcdError> {
        if rev > visible {
            Err(EtcdError::FutureRevision)
        } else if rev != 0 && rev < self.compact_revision {
            Err(EtcdError::Compacted)
        } else {
            Ok(())
        }
    }

    /// The keys of `range` as they were at `rev` (≤ the visible revision), undoing the log
    /// and then the pending writes of the current request.
    fn kvs_at(&self, range: &KeyRange, rev: Revision, pending: &[WatchEvent]) -> Vec<KeyValue> {
        let mut view: BTreeMap<String, KeyValue> = self
            .kvs
            .range(range.start().to_string()..)
            .take_while(|(k, _)| range.contains(k))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        for ev in pending.iter().rev().chain(self.log.iter().rev()) {
            if ev.kv.mod_revision <= rev {
                break;
            }
            if !range.contains(&ev.kv.key) {
                continue;
            }
            match &ev.prev_kv {
                Some(p) => view.insert(p.key.clone(), p.clone()),
                None => view.remove(&ev.kv.key),
            };
        }
        view.into_values().collect()
    }

    fn do_range(&self, req: &RangeRequest, pending: &[WatchEvent]) -> RangeResponse {
        let visible = pending
            .last()
            .map_or(self.revision, |ev| ev.kv.mod_revision);
        let rev = if req.revision == 0 {
            visible
        } else {
            req.revision
        };
        let mut kvs = self.kvs_at(&req.range, rev, pending);
        let count = i64::try_from(kvs.len()).unwrap_or(i64::MAX);
        kvs.retain(|kv| {
            (req.max_mod_revision == 0 || kv.mod_revision <= req.max_mod_revision)
                && (req.min_mod_revision == 0 || kv.mod_revision >= req.min_mod_revision)
                && (req.max_create_revision == 0 || kv.create_revision <= req.max_create_revision)
                && (req.min_create_revision == 0 || kv.create_revision >= req.min_create_revision)
        });
        let order = if req.sort_target != SortTarget::Key && req.sort_order == SortOrder::None {
            SortOrder::Ascend
        } else {
            req.sort_order
        };
        let by_key = order == SortOrder::None
            || (req.sort_target == SortTarget::Key && order == SortOrder::Ascend);
        if !by_key {
            kvs.sort_by(|a, b| {
                let o = match req.sort_target {
                    SortTarget::Key => a.key.cmp(&b.key),
                    SortTarget::Version => a.version.cmp(&b.version),
                    SortTarget::Create => a.create_revision.cmp(&b.create_revision),
                    SortTarget::Mod => a.mod_revision.cmp(&b.mod_revision),
                    SortTarget::Value => a.value.cmp(&b.value),
                };
                if order == SortOrder::Descend {
                    o.reverse()
                } else {
                    o
                }
            });
        }
        let mut more = false;
        if req.limit > 0 && kvs.len() as u64 > req.limit.unsigned_abs() {
            kvs.truncate(usize::try_from(req.limit).unwrap_or(usize::MAX));
            more = true;
        }
        if req.keys_only {
            for kv in &mut kvs {
                kv.value.clear();
            }
        }
        if req.count_only {
            kvs.clear();
        }
        RangeResponse {
            header: ResponseHeader { revision: visible },
            kvs,
            count,
            more,
        }
    }

    // ---- expiry ---------------------------------------------------------------------------

    /// The expiry step: revoke every lease whose deadline has passed on the server's
    /// monotonic clock, oldest deadline first, each deleting its keys in one revision (and
    /// waking watchers). Every request runs it first, so a lease is never used after its
    /// deadline; a simulation can also run it alone at [`Etcd::next_lease_deadline`].
    /// Returns the expired leases.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof_services::etcd::{Etcd, LeaseGrantRequest};
    /// use lockproof_services::time::ServerClock;
    ///
    /// let mut etcd = Etcd::new();
    /// let l = etcd.lease_grant(&LeaseGrantRequest::new(5), ServerClock::at(0)).unwrap();
    /// assert_eq!(etcd.next_lease_deadline(), Some(5_000_000_000));
    /// assert!(etcd.expire_leases(ServerClock::at(4_999_999_999)).is_empty());
    /// assert_eq!(etcd.expire_leases(ServerClock::at(5_000_000_000)), vec![l.id]);
    /// ```
    pub fn expire_leases(&mut self, clock: ServerClock) -> Vec<LeaseId> {
        let mut expired = Vec::new();
        loop {
            let due = self
                .leases
                .iter()
                .filter(|(_, l)| l.deadline <= clock.mono)
                .min_by_key(|(id, l)| (l.deadline, **id))
                .map(|(id, _)| *id);
            let Some(id) = due else { break };
            self.revoke_now(id);
            expired.push(id);
        }
        expired
    }

    /// The earliest lease deadline (server monotonic ns), if any lease exists.
    pub fn next_lease_deadline(&self) -> Option<u64> {
        self.leases.values().map(|l| l.deadline).min()
    }

    fn revoke_now(&mut self, id: LeaseId) -> Option<()> {
        let lease = self.leases.remove(&id)?;
        let mut w = self.begin();
        for key in &lease.keys {
            self.do_delete(&mut w, &DeleteRangeRequest::key(key.clone()));
        }
        self.commit(w);
        Some(())
    }

    // ---- KV requests ----------------------------------------------------------------------

    /// `Range`: read one key or a range, now or at an earlier revision.
    ///
    /// Errors: `EmptyKey`; `FutureRevision` above the current revision; `Compacted` below
    /// the compaction point.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof_services::etcd::{Etcd, PutRequest, RangeRequest};
    /// use lockproof_services::time::ServerClock;
    ///
    /// let mut etcd = Etcd::new();
    /// let t = ServerClock::at(0);
    /// etcd.put(&PutRequest::new("m/b", "2"), t)?;
    /// etcd.put(&PutRequest::new("m/a", "1"), t)?;
    /// let r = etcd.range(&RangeRequest::prefix("m/"), t)?;
    /// assert_eq!(r.to_string(), "m/a\n1\nm/b\n2");
    /// let old = etcd.range(&RangeRequest::prefix("m/").at_revision(2), t)?;
    /// assert_eq!(old.count, 1);
    /// # Ok::<(), lockproof_services::etcd::EtcdError>(())
    /// ```
    pub fn range(
        &mut self,
        req: &RangeRequest,
        clock: ServerClock,
    ) -> Result<RangeResponse, EtcdError> {
        self.expire_leases(clock);
        if req.range.is_empty_key() {
            return Err(EtcdError::EmptyKey);
        }
        self.check_read_revision(req.revision, self.revision)?;
        Ok(self.do_range(req, &[]))
    }

    /// `Put`: write one key, optionally attached to a lease (one new revision).
    ///
    /// Errors: `EmptyKey`; `LeaseNotFound` if the lease is not granted (nothing written).
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof_services::etcd::{Etcd, EtcdError, PutRequest};
    /// use lockproof_services::time::ServerClock;
    ///
    /// let mut etcd = Etcd::new();
    /// let t = ServerClock::at(0);
    /// let r = etcd.put(&PutRequest::new("k", "a").with_prev_kv(), t)?;
    /// assert_eq!((r.header.revision, r.prev_kv), (2, None));
    /// let r = etcd.put(&PutRequest::new("k", "b").with_prev_kv(), t)?;
    /// assert_eq!(r.to_string(), "OK\nk\na");
    /// let err = etcd.put(&PutRequest::new("l", "v").with_lease(7), t).unwrap_err();
    /// assert_eq!(err, EtcdError::LeaseNotFound);
    /// # Ok::<(), EtcdError>(())
    /// ```
    pub fn put(&mut self, req: &PutRequest, clock: ServerClock) -> Result<PutResponse, EtcdError> {
        self.expire_leases(clock);
        self.check_put(req)?;
        let mut w = self.begin();
        let resp = self.do_put(&mut w, req);
        self.commit(w);
        Ok(resp)
    }

    fn check_put(&self, req: &PutRequest) -> Result<(), EtcdError> {
        if req.key.is_empty() {
            return Err(EtcdError::EmptyKey);
        }
        if req.lease != 0 && !self.leases.contains_key(&req.lease) {
            return Err(EtcdError::LeaseNotFound);
        }
        Ok(())
    }

    /// `DeleteRange`: delete one key or a range; one new revision if anything was deleted,
    /// none otherwise.
    ///
    /// Errors: `EmptyKey`.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof_services::etcd::{DeleteRangeRequest, Etcd, PutRequest};
    /// use lockproof_services::time::ServerClock;
    ///
    /// let mut etcd = Etcd::new();
    /// let t = ServerClock::at(0);
    /// etcd.put(&PutRequest::new("m/a", "1"), t)?;
    /// etcd.put(&PutRequest::new("m/b", "2"), t)?;
    /// let d = etcd.delete_range(&DeleteRangeRequest::prefix("m/"), t)?;
    /// assert_eq!((d.deleted, d.header.revision), (2, 4)); // one revision for both
    /// let d = etcd.delete_range(&DeleteRangeRequest::key("m/a"), t)?;
    /// assert_eq!((d.deleted, d.header.revision), (0, 4)); // nothing deleted, no revision
    /// # Ok::<(), lockproof_services::etcd::EtcdError>(())
    /// ```
    pub fn delete_range(
        &mut self,
        req: &DeleteRangeRequest,
        clock: ServerClock,
    ) -> Result<DeleteRangeResponse, EtcdError> {
        self.expire_leases(clock);
        if req.range.is_empty_key() {
            return Err(EtcdError::EmptyKey);
        }
        let mut w = self.begin();
        let mut resp = self.do_delete(&mut w, req);
        self.commit(w);
        resp.header = self.header();
        Ok(resp)
    }

    /// `Txn`: evaluate every compare on the current state; run the success branch if all
    /// hold, else the failure branch; all writes share one new revision (none if the branch
    /// wrote nothing). Reads in the branch see the branch's earlier writes.
    ///
    /// Errors (nothing applied): `TooManyOps` above 128 compares or ops in a branch;
    /// `DuplicateKey` for a branch that puts a key twice or puts a key it deletes;
    /// `EmptyKey`; and, for the branch taken, `LeaseNotFound` for a put on a missing lease and
    /// `Compacted`/`FutureRevision` for a read at an unavailable revision.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof_services::etcd::*;
    /// use lockproof_services::time::ServerClock;
    ///
    /// let mut etcd = Etcd::new();
    /// let t = ServerClock::at(0);
    /// let acquire = |owner: &str| {
    ///     TxnRequest::new()
    ///         .when(Compare::create_revision("t", CompareResult::Equal, 0))
    ///         .then(PutRequest::new("t", owner))
    ///         .or_else(RangeRequest::key("t"))
    /// };
    /// assert!(etcd.txn(&acquire("owner1"), t)?.succeeded);
    /// let second = etcd.txn(&acquire("owner2"), t)?;
    /// assert!(!second.succeeded);
    /// assert_eq!(second.responses[0].as_range().unwrap().kvs[0].value, "owner1");
    /// # Ok::<(), EtcdError>(())
    /// ```
    pub fn txn(&mut self, req: &TxnRequest, clock: ServerClock) -> Result<TxnResponse, EtcdError> {
        self.expire_leases(clock);
        check_txn_shape(req)?;
        let succeeded = req.compare.iter().all(|c| self.compare_holds(c));
        let ops = if succeeded {
            &req.success
        } else {
            &req.failure
        };
        for op in ops {
            match op {
                TxnOp::Put(p) => self.check_put(p)?,
                TxnOp::Range(r) => self.check_read_revision(r.revision, self.revision)?,
                TxnOp::DeleteRange(_) => {}
            }
        }
        let mut w = self.begin();
        let mut responses = Vec::with_capacity(ops.len());
        for op in ops {
            responses.push(match op {
                TxnOp::Range(r) => TxnOpResponse::Range(self.do_range(r, &w.events)),
                TxnOp::Put(p) => TxnOpResponse::Put(self.do_put(&mut w, p)),
                TxnOp::DeleteRange(d) => TxnOpResponse::DeleteRange(self.do_delete(&mut w, d)),
            });
        }
        self.commit(w);
        Ok(TxnResponse {
            header: self.header(),
            succeeded,
            responses,
        })
    }

    fn compare_holds(&self, c: &Compare) -> bool {
        let keys = self.keys_in(&c.range);
        if keys.is_empty() {
            // An absent key compares as the zero key; a value compare on it always fails.
            return !matches!(c.target, CompareTarget::Value(_))
                && c.holds_for(&KeyValue::default());
        }
        keys.iter().all(|k| c.holds_for(&self.kvs[k]))
    }

    /// `Compact`: forget history before `revision`; reads and watches below it fail with
    /// `etcdserver: mvcc: required revision has been compacted`. The revision does not move.
    ///
    /// Errors: `Compacted` at or below the current compaction point; `FutureRevision` above
    /// the current revision.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof_services::etcd::{Etcd, EtcdError, PutRequest, RangeRequest};
    /// use lockproof_services::time::ServerClock;
    ///
    /// let mut etcd = Etcd::new();
    /// let t = ServerClock::at(0);
    /// for v in ["a", "b", "c"] {
    ///     etcd.put(&PutRequest::new("k", v), t)?;
    /// }
    /// assert_eq!(etcd.compact(3, t)?.to_string(), "compacted revision 3");
    /// let old = etcd.range(&RangeRequest::key("k").at_revision(2), t).unwrap_err();
    /// assert_eq!(old.to_string(), "etcdserver: mvcc: required revision has been compacted");
    /// assert_eq!(etcd.range(&RangeRequest::key("k").at_revision(3), t)?.kvs[0].value, "b");
    /// # Ok::<(), EtcdError>(())
    /// ```
    pub fn compact(
        &mut self,
        revision: Revision,
        clock: ServerClock,
    ) -> Result<CompactionResponse, EtcdError> {
        self.expire_leases(clock);
        if revision <= self.compact_revision {
            return Err(EtcdError::Compacted);
        }
        if revision > self.revision {
            return Err(EtcdError::FutureRevision);
        }
        self.compact_revision = revision;
        self.log.retain(|ev| ev.kv.mod_revision >= revision);
        Ok(CompactionResponse {
            header: self.header(),
            revision,
        })
    }

    // ---- leases ---------------------------------------------------------------------------

    /// `LeaseGrant`: a lease whose deadline is now + TTL on the server's monotonic clock. A
    /// TTL below the minimum ([`EtcdConfig::min_lease_ttl`], 2 s by default) is raised to it.
    ///
    /// Errors: `LeaseTtlTooLarge` above [`MAX_LEASE_TTL`]; `LeaseExists` for an explicit id
    /// in use.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof_services::etcd::{fmt_lease, Etcd, LeaseGrantRequest};
    /// use lockproof_services::time::ServerClock;
    ///
    /// let mut etcd = Etcd::new();
    /// let g = etcd.lease_grant(&LeaseGrantRequest::new(1), ServerClock::at(0))?;
    /// assert_eq!(g.to_string(), format!("lease {} granted with TTL(2s)", fmt_lease(g.id)));
    /// # Ok::<(), lockproof_services::etcd::EtcdError>(())
    /// ```
    pub fn lease_grant(
        &mut self,
        req: &LeaseGrantRequest,
        clock: ServerClock,
    ) -> Result<LeaseGrantResponse, EtcdError> {
        self.expire_leases(clock);
        if req.ttl > MAX_LEASE_TTL {
            return Err(EtcdError::LeaseTtlTooLarge);
        }
        let id = if req.id == 0 {
            while self.leases.contains_key(&self.next_lease) || self.next_lease == 0 {
                self.next_lease = self.next_lease.wrapping_add(1);
            }
            let id = self.next_lease;
            self.next_lease = self.next_lease.wrapping_add(1);
            id
        } else if self.leases.contains_key(&req.id) {
            return Err(EtcdError::LeaseExists);
        } else {
            req.id
        };
        let ttl = req.ttl.max(self.config.min_lease_ttl());
        self.leases.insert(
            id,
            Lease {
                ttl,
                deadline: deadline_after(clock.mono, ttl, 0),
                keys: BTreeSet::new(),
            },
        );
        Ok(LeaseGrantResponse {
            header: self.header(),
            id,
            ttl,
        })
    }

    /// `LeaseRevoke`: end the lease now, deleting its keys in one revision (none if it had
    /// no keys).
    ///
    /// Errors: `LeaseNotFound` (never granted, revoked, or expired).
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof_services::etcd::{Etcd, EtcdError, LeaseGrantRequest, PutRequest};
    /// use lockproof_services::time::ServerClock;
    ///
    /// let mut etcd = Etcd::new();
    /// let t = ServerClock::at(0);
    /// let l = etcd.lease_grant(&LeaseGrantRequest::new(5), t)?.id;
    /// etcd.put(&PutRequest::new("l2", "v").with_lease(l), t)?;
    /// assert_eq!(etcd.lease_revoke(l, t)?.header.revision, 3);
    /// assert!(etcd.peek("l2").is_none());
    /// assert_eq!(etcd.lease_revoke(l, t), Err(EtcdError::LeaseNotFound));
    /// # Ok::<(), EtcdError>(())
    /// ```
    pub fn lease_revoke(
        &mut self,
        id: LeaseId,
        clock: ServerClock,
    ) -> Result<LeaseRevokeResponse, EtcdError> {
        self.expire_leases(clock);
        self.revoke_now(id).ok_or(EtcdError::LeaseNotFound)?;
        Ok(LeaseRevokeResponse {
            header: self.header(),
            id,
        })
    }

    /// One `LeaseKeepAlive`: the deadline becomes now + the granted TTL.
    ///
    /// Errors: `LeaseNotFound`. On the wire the server answers a keep-alive for a missing
    /// lease with TTL 0 rather than an error status; clientv3's `KeepAliveOnce` (and
    /// `etcdctl lease keep-alive --once`) turn that into this error, which is what the twin
    /// returns.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof_services::etcd::{Etcd, EtcdError, LeaseGrantRequest};
    /// use lockproof_services::time::ServerClock;
    ///
    /// let mut etcd = Etcd::new();
    /// let l = etcd.lease_grant(&LeaseGrantRequest::new(3), ServerClock::at(0))?.id;
    /// let k = etcd.lease_keep_alive(l, ServerClock::at(2_000_000_000))?;
    /// assert_eq!(k.ttl, 3); // the deadline is now 5 s
    /// let late = etcd.lease_keep_alive(l, ServerClock::at(5_000_000_000));
    /// assert_eq!(late, Err(EtcdError::LeaseNotFound));
    /// # Ok::<(), EtcdError>(())
    /// ```
    pub fn lease_keep_alive(
        &mut self,
        id: LeaseId,
        clock: ServerClock,
    ) -> Result<LeaseKeepAliveResponse, EtcdError> {
        self.expire_leases(clock);
        let header = self.header();
        let lease = self.leases.get_mut(&id).ok_or(EtcdError::LeaseNotFound)?;
        lease.deadline = deadline_after(clock.mono, lease.ttl, 0);
        Ok(LeaseKeepAliveResponse {
            header,
            id,
            ttl: lease.ttl,
        })
    }

    /// `LeaseTimeToLive`: whole seconds left (truncated) and the granted TTL; for a lease the
    /// server does not hold, TTL −1 (not an error).
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof_services::etcd::{Etcd, LeaseGrantRequest};
    /// use lockproof_services::time::ServerClock;
    ///
    /// let mut etcd = Etcd::new();
    /// let l = etcd.lease_grant(&LeaseGrantRequest::new(10), ServerClock::at(0)).unwrap().id;
    /// let r = etcd.lease_time_to_live(l, false, ServerClock::at(2_500_000_000));
    /// assert_eq!((r.ttl, r.granted_ttl), (7, 10));
    /// assert!(etcd.lease_time_to_live(l, false, ServerClock::at(10_000_000_000)).expired());
    /// ```
    pub fn lease_time_to_live(
        &mut self,
        id: LeaseId,
        keys: bool,
        clock: ServerClock,
    ) -> LeaseTimeToLiveResponse {
        self.expire_leases(clock);
        match self.leases.get(&id) {
            Some(l) => LeaseTimeToLiveResponse {
                header: self.header(),
                id,
                ttl: i64::try_from(l.deadline.saturating_sub(clock.mono) / NANOS_PER_SEC)
                    .unwrap_or(i64::MAX),
                granted_ttl: l.ttl,
                keys: keys.then(|| l.keys.iter().cloned().collect()),
            },
            None => LeaseTimeToLiveResponse {
                header: self.header(),
                id,
                ttl: -1,
                granted_ttl: 0,
                keys: None,
            },
        }
    }

    /// `LeaseLeases`: the live leases.
    pub fn lease_leases(&mut self, clock: ServerClock) -> LeaseLeasesResponse {
        self.expire_leases(clock);
        LeaseLeasesResponse {
            header: self.header(),
            ids: self.lease_ids(),
        }
    }

    // ---- watches --------------------------------------------------------------------------

    /// `Watch` create on `client`'s stream. Events from the start revision on (history
    /// first, one message per revision, then each later write as it commits) go to the
    /// client's outbox ([`Etcd::take_events`]). A start revision below the compaction point
    /// creates the watch and at once cancels it with a message carrying `compact_revision`
    /// (clientv3 reports `etcdserver: mvcc: required revision has been compacted`).
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof_services::etcd::*;
    /// use lockproof_services::time::ServerClock;
    ///
    /// let mut etcd = Etcd::new();
    /// let (t, c) = (ServerClock::at(0), ClientId(1));
    /// etcd.put(&PutRequest::new("k", "a"), t)?;
    /// etcd.watch(c, &WatchCreateRequest::key("k").from_revision(1), t)?;
    /// etcd.delete_range(&DeleteRangeRequest::key("k"), t)?;
    /// let msgs = etcd.take_events(c);
    /// assert_eq!(msgs.len(), 2);
    /// assert_eq!(msgs[0].to_string(), "PUT\nk\na");
    /// assert_eq!(msgs[1].events[0].kind, EventKind::Delete);
    /// # Ok::<(), EtcdError>(())
    /// ```
    pub fn watch(
        &mut self,
        client: ClientId,
        req: &WatchCreateRequest,
        clock: ServerClock,
    ) -> Result<WatchCreated, EtcdError> {
        self.expire_leases(clock);
        let next = self.next_watch.entry(client).or_insert(0);
        let watch_id = *next;
        *next += 1;
        let header = self.header();
        let start = if req.start_revision == 0 {
            self.revision + 1
        } else {
            req.start_revision
        };
        if req.start_revision != 0 && start < self.compact_revision {
            self.outbox.entry(client).or_default().push(WatchResponse {
                watch_id,
                header,
                events: Vec::new(),
                canceled: true,
                compact_revision: self.compact_revision,
            });
            return Ok(WatchCreated { header, watch_id });
        }
        let mut replay: Vec<WatchResponse> = Vec::new();
        let mut i = 0;
        while i < self.log.len() {
            let rev = self.log[i].kv.mod_revision;
            let end = self.log[i..]
                .iter()
                .position(|ev| ev.kv.mod_revision != rev)
                .map_or(self.log.len(), |n| i + n);
            if rev >= start {
                let events = select_events(req, &self.log[i..end]);
                if !events.is_empty() {
                    replay.push(WatchResponse {
                        watch_id,
                        header,
                        events,
                        canceled: false,
                        compact_revision: 0,
                    });
                }
            }
            i = end;
        }
        if !replay.is_empty() {
            self.outbox.entry(client).or_default().extend(replay);
        }
        self.watchers.insert(
            (client, watch_id),
            Watcher {
                req: req.clone(),
                next_revision: start.max(self.revision + 1),
            },
        );
        Ok(WatchCreated { header, watch_id })
    }

    /// Cancel a watch of `client`'s stream; `false` if there was none (the server ignores
    /// it). Messages already in the outbox stay there.
    pub fn watch_cancel(&mut self, client: ClientId, watch_id: WatchId) -> bool {
        self.watchers.remove(&(client, watch_id)).is_some()
    }

    /// Drain the messages waiting on `client`'s watch stream, oldest first.
    pub fn take_events(&mut self, client: ClientId) -> Vec<WatchResponse> {
        self.outbox.remove(&client).unwrap_or_default()
    }

    /// Whether `client` has watch messages waiting.
    pub fn has_events(&self, client: ClientId) -> bool {
        self.outbox.get(&client).is_some_and(|v| !v.is_empty())
    }

    /// The client's connection closed: its watches and undelivered messages are gone.
    /// Leases are not tied to connections: they live until revoked or expired.
    pub fn close_client(&mut self, client: ClientId) {
        self.watchers.retain(|(c, _), _| *c != client);
        self.outbox.remove(&client);
        self.next_watch.remove(&client);
    }

    // ---- failures -------------------------------------------------------------------------

    /// Restart of the (single) member after a crash, at `clock`. Keys, revisions, the
    /// compaction point and leases survive (WAL and backend); every lease is refreshed to
    /// now + its TTL + the election timeout (the new leader's `Promote`), so a lock whose
    /// holder died before the crash lives on past its nominal TTL.
    ///
    /// The watch streams break, and clientv3 re-creates every watch from the revision after
    /// the last event it received: the twin keeps each watch and the messages not yet
    /// taken, which is what such a client then sees. (A client that does not resume is
    /// [`Etcd::close_client`].)
    ///
    /// Nothing expires while the member is down: a caller modelling a crash at time `c`
    /// runs [`Etcd::expire_leases`] at `c` (what was due by then), then calls `restart` at
    /// the restart time.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof_services::etcd::{Etcd, LeaseGrantRequest, PutRequest};
    /// use lockproof_services::time::ServerClock;
    ///
    /// let s = |secs: u64| ServerClock::at(secs * 1_000_000_000);
    /// let mut etcd = Etcd::new();
    /// let l = etcd.lease_grant(&LeaseGrantRequest::new(2), s(0)).unwrap().id;
    /// etcd.put(&PutRequest::new("lock", "a").with_lease(l), s(0)).unwrap();
    /// etcd.restart(s(10)); // down from 1 s to 10 s: nothing expired meanwhile
    /// assert_eq!(etcd.next_lease_deadline(), Some(13_000_000_000)); // 10 + 2 + 1
    /// assert!(etcd.peek("lock").is_some());
    /// ```
    pub fn restart(&mut self, clock: ServerClock) {
        self.leader_change(clock);
    }

    /// A new leader takes over at `clock` (in a cluster; a restart does the same): every
    /// lease is refreshed to now + its TTL + the election timeout. Watches survive.
    pub fn leader_change(&mut self, clock: ServerClock) {
        let extend = self.config.election_timeout_ms.saturating_mul(1_000_000);
        for l in self.leases.values_mut() {
            l.deadline = deadline_after(clock.mono, l.ttl, extend);
        }
        self.term += 1;
    }

    // ---- any request ----------------------------------------------------------------------

    /// Apply any request from `client` (the simulation's server routes requests as data).
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof_services::etcd::*;
    /// use lockproof_services::time::ServerClock;
    ///
    /// let mut etcd = Etcd::new();
    /// let req = Request::LeaseRevoke(0x42);
    /// assert_eq!(req.to_string(), "lease revoke 0000000000000042");
    /// let err = etcd.apply(ClientId(0), &req, ServerClock::at(0)).unwrap_err();
    /// assert_eq!(err.to_string(), "etcdserver: requested lease not found");
    /// ```
    pub fn apply(
        &mut self,
        client: ClientId,
        req: &Request,
        clock: ServerClock,
    ) -> Result<Response, EtcdError> {
        Ok(match req {
            Request::Range(r) => Response::Range(self.range(r, clock)?),
            Request::Put(r) => Response::Put(self.put(r, clock)?),
            Request::DeleteRange(r) => Response::DeleteRange(self.delete_range(r, clock)?),
            Request::Txn(r) => Response::Txn(self.txn(r, clock)?),
            Request::Compact(rev) => Response::Compaction(self.compact(*rev, clock)?),
            Request::LeaseGrant(r) => Response::LeaseGrant(self.lease_grant(r, clock)?),
            Request::LeaseRevoke(id) => Response::LeaseRevoke(self.lease_revoke(*id, clock)?),
            Request::LeaseKeepAlive(id) => {
                Response::LeaseKeepAlive(self.lease_keep_alive(*id, clock)?)
            }
            Request::LeaseTimeToLive { id, keys } => {
                Response::LeaseTimeToLive(self.lease_time_to_live(*id, *keys, clock))
            }
            Request::LeaseLeases => Response::LeaseLeases(self.lease_leases(clock)),
            Request::Watch(r) => Response::WatchCreated(self.watch(client, r, clock)?),
            Request::WatchCancel(id) => {
                self.expire_leases(clock);
                Response::WatchCanceled {
                    watch_id: *id,
                    found: self.watch_cancel(client, *id),
                }
            }
        })
    }
}

fn deadline_after(now: u64, ttl_secs: i64, extend_ns: u64) -> u64 {
    let ttl = u64::try_from(ttl_secs.max(0)).unwrap_or(0);
    now.saturating_add(ttl.saturating_mul(NANOS_PER_SEC))
        .saturating_add(extend_ns)
}

/// The events of one revision a watch wants, with or without previous keys.
fn select_events(req: &WatchCreateRequest, events: &[WatchEvent]) -> Vec<WatchEvent> {
    events
        .iter()
        .filter(|ev| req.wants(ev))
        .map(|ev| WatchEvent {
            kind: ev.kind,
            kv: ev.kv.clone(),
            prev_kv: if req.prev_kv {
                ev.prev_kv.clone()
            } else {
                None
            },
        })
        .collect()
}

/// The checks the server makes on a txn before looking at the store.
fn check_txn_shape(req: &TxnRequest) -> Result<(), EtcdError> {
    if req.compare.len() > MAX_TXN_OPS
        || req.success.len() > MAX_TXN_OPS
        || req.failure.len() > MAX_TXN_OPS
    {
        return Err(EtcdError::TooManyOps);
    }
    for branch in [&req.success, &req.failure] {
        let mut puts: BTreeSet<&str> = BTreeSet::new();
        let mut deletes: Vec<&KeyRange> = Vec::new();
        for op in branch {
            match op {
                TxnOp::Put(p) => {
                    if p.key.is_empty() {
                        return Err(EtcdError::EmptyKey);
                    }
                    if !puts.insert(p.key.as_str()) {
                        return Err(EtcdError::DuplicateKey);
                    }
                }
                TxnOp::DeleteRange(d) => {
                    if d.range.is_empty_key() {
                        return Err(EtcdError::EmptyKey);
                    }
                    deletes.push(&d.range);
                }
                TxnOp::Range(r) => {
                    if r.range.is_empty_key() {
                        return Err(EtcdError::EmptyKey);
                    }
                }
            }
        }
        if puts.iter().any(|k| deletes.iter().any(|d| d.contains(k))) {
            return Err(EtcdError::DuplicateKey);
        }
    }
    Ok(())
}

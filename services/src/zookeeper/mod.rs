//! A ZooKeeper-like server: a tree of znodes, sessions that expire on the server's monotonic
//! clock, ephemeral and sequential nodes, one-shot watches (DISTRIBUTED.md §3, §6.2, §6.8).
//!
//! [`ZooKeeper`] is one standalone server (3.8 semantics) as a deterministic state machine:
//! every request is one atomic step applied with the server's [`ServerClock`]; only its
//! monotonic part (`mono`) is read for session expiry, its wall part only for `ctime`/`mtime`.
//! Watch events are queued on the watching session's outbox, which the caller drains with
//! [`ZooKeeper::take_events`] and delivers before that session's later replies (ZooKeeper's
//! ordering guarantee, §3.3). [`ZkClient`] is a kazoo-like client of the twin on the
//! simulation ([`crate::sim`]): one request per [`Server::call`](crate::sim::Server::call),
//! heartbeats, watch events, `CONNECTED`/`SUSPENDED`/`LOST`.
//!
//! Modelled:
//! * znodes with data, `version`, `cversion`, `czxid`, `mzxid`, `pzxid`, `ctime`, `mtime`,
//!   `ephemeralOwner`; the `/zookeeper` system node; path validation (`BadArguments`);
//! * one global zxid; every write, failed writes and session create/close included, takes one [S];
//! * create modes persistent, ephemeral, persistent-sequential, ephemeral-sequential; the
//!   sequence suffix is a per-parent creation counter (`%010d`, signed 32-bit, wraps) that
//!   every child creation advances and no delete does (checks 58–60) [R];
//! * `cversion` counts child creations and deletions (check 59) [R];
//! * errors `NodeExists`, `NoNode`, `NoChildrenForEphemerals`, `NotEmpty`, `BadVersion`,
//!   `SessionExpired`, `BadArguments`, and `multi`'s `RuntimeInconsistency` [R];
//! * `get`, `set`, `exists`, `delete`, `getChildren`, `sync`, `multi` (create, delete, set,
//!   check) all-or-nothing with one zxid [R][S];
//! * `getChildren` in a seeded, deterministic, deliberately unsorted order (check 62);
//! * sessions: timeout negotiated into [2, 20] × tickTime (or configured bounds) [D][R];
//!   expiry in tickTime buckets of the monotonic clock, at the first tick boundary after
//!   last-heard + timeout (`ExpiryQueue.roundToNextInterval`) [S]; every request and `ping`
//!   refreshes it; `close` and expiry delete the session's ephemerals in one step, firing
//!   watches [D][R]; a request or reconnect on a dead session gets `SessionExpired` [D];
//! * one-shot data, exists and child watches, at most one event per session and trigger,
//!   `NodeDeleted` to the node's data and child watchers, `NodeChildrenChanged` to the
//!   parent's child watchers [D][R][S];
//! * server restart: the tree, the zxid and the sessions survive; each session's expiry
//!   restarts from the restart time [S];
//! * an invalid path in a read gets `BadArguments` as in a write (the Java client refuses it
//!   before sending; what the server answers a client that sends one is not verified [U];
//!   kazoo normalises paths first, see [`client::normpath`]).
//!
//! Not modelled:
//! * ACLs and authentication (every session may read, write and delete every node);
//! * container and TTL nodes, quotas, `getEphemerals`, persistent (recursive) watches;
//! * ensembles: followers, lagging reads before `sync`, leader elections, epochs in the zxid;
//! * the client library: connection loss, `SUSPENDED`/`LOST` states, ping timers, watch
//!   re-registration (the scheduler and the client models own those);
//! * session passwords, `SessionMoved`, read-only mode, throttling, size limits.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::fmt;

use crate::time::ServerClock;

pub mod client;
mod request;

pub use client::{ClientError, KazooState, ZkClient};
pub use request::{Reply, Request};

/// The version argument that matches any version (`-1` in every ZooKeeper client).
pub const ANY_VERSION: i32 = -1;

/// A zxid: ZooKeeper's transaction id, totally ordered; this twin's epoch is always 0, so it
/// counts the write transactions since the server was created.
pub type Zxid = i64;

/// A session id, printed in hex as the server prints it (`0x…`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SessionId(pub u64);

impl fmt::Display for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "0x{:x}", self.0)
    }
}

/// The server's configuration (the `zoo.cfg` keys that change observable behaviour).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ZkConfig {
    /// `tickTime` in milliseconds (ZooKeeper's default 2000; §9's checks use 500).
    pub tick_time_ms: u64,
    /// `minSessionTimeout` in milliseconds; `None` = 2 × `tickTime`.
    pub min_session_timeout_ms: Option<u64>,
    /// `maxSessionTimeout` in milliseconds; `None` = 20 × `tickTime`.
    pub max_session_timeout_ms: Option<u64>,
    /// The seed of `getChildren`'s order (any value: the order only has to be deterministic
    /// and not sorted).
    pub children_order_seed: u64,
}

impl Default for ZkConfig {
    fn default() -> Self {
        ZkConfig {
            tick_time_ms: 2000,
            min_session_timeout_ms: None,
            max_session_timeout_ms: None,
            children_order_seed: 0x5eed_2007,
        }
    }
}

impl ZkConfig {
    /// The default configuration with another `tickTime`.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof_services::zookeeper::ZkConfig;
    ///
    /// let c = ZkConfig::with_tick(500);
    /// assert_eq!((c.min_timeout_ms(), c.max_timeout_ms()), (1000, 10000));
    /// ```
    pub fn with_tick(tick_time_ms: u64) -> Self {
        ZkConfig {
            tick_time_ms,
            ..ZkConfig::default()
        }
    }

    /// The server §9's checks ran against: `tickTime` 500 ms, `maxSessionTimeout` 10000 ms.
    pub fn conformance() -> Self {
        ZkConfig {
            max_session_timeout_ms: Some(10_000),
            ..ZkConfig::with_tick(500)
        }
    }

    /// The smallest session timeout the server grants, in milliseconds.
    pub fn min_timeout_ms(&self) -> u64 {
        self.min_session_timeout_ms.unwrap_or(2 * self.tick_time_ms)
    }

    /// The largest session timeout the server grants, in milliseconds.
    pub fn max_timeout_ms(&self) -> u64 {
        self.max_session_timeout_ms
            .unwrap_or(20 * self.tick_time_ms)
    }

    /// The timeout the server grants for a requested one: clamped into
    /// [`min_timeout_ms`](Self::min_timeout_ms), [`max_timeout_ms`](Self::max_timeout_ms)
    /// (check 57).
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof_services::zookeeper::ZkConfig;
    ///
    /// let c = ZkConfig::conformance();
    /// assert_eq!(c.negotiate(500), 1000);
    /// assert_eq!(c.negotiate(60_000), 10_000);
    /// ```
    pub fn negotiate(&self, requested_ms: u64) -> u64 {
        let min = self.min_timeout_ms();
        let max = self.max_timeout_ms().max(min);
        requested_ms.clamp(min, max)
    }
}

/// How a node is created.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CreateMode {
    /// Lives until deleted.
    Persistent,
    /// Deleted when the creating session ends (close or expiry); cannot have children.
    Ephemeral,
    /// Persistent, with the parent's next sequence number appended to the name.
    PersistentSequential,
    /// Ephemeral, with the parent's next sequence number appended to the name.
    EphemeralSequential,
}

impl CreateMode {
    /// Whether the node dies with its session.
    pub fn is_ephemeral(self) -> bool {
        matches!(
            self,
            CreateMode::Ephemeral | CreateMode::EphemeralSequential
        )
    }

    /// Whether the server appends a sequence number.
    pub fn is_sequential(self) -> bool {
        matches!(
            self,
            CreateMode::PersistentSequential | CreateMode::EphemeralSequential
        )
    }
}

impl fmt::Display for CreateMode {
    /// The Java enum's name, e.g. `EPHEMERAL_SEQUENTIAL`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CreateMode::Persistent => "PERSISTENT",
            CreateMode::Ephemeral => "EPHEMERAL",
            CreateMode::PersistentSequential => "PERSISTENT_SEQUENTIAL",
            CreateMode::EphemeralSequential => "EPHEMERAL_SEQUENTIAL",
        })
    }
}

/// A failed request: ZooKeeper's `KeeperException.Code`, printed by its name (`NodeExists`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ZkError {
    /// A `multi` op after the failing one (`-2`).
    RuntimeInconsistency,
    /// The client lost its connection (`-4`). The twin never returns it: a client model
    /// reports it when the network drops a request or reply.
    ConnectionLoss,
    /// An invalid path or argument (`-8`).
    BadArguments,
    /// The node (or the parent of a node to create) does not exist (`-101`).
    NoNode,
    /// The expected version does not match (`-103`).
    BadVersion,
    /// The parent of a node to create is ephemeral (`-108`).
    NoChildrenForEphemerals,
    /// The node to create exists (`-110`).
    NodeExists,
    /// The node to delete has children (`-111`).
    NotEmpty,
    /// The session has expired or was closed (`-112`).
    SessionExpired,
}

impl ZkError {
    /// The numeric code of `KeeperException.Code`.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof_services::zookeeper::ZkError;
    ///
    /// assert_eq!(ZkError::NodeExists.code(), -110);
    /// assert_eq!(ZkError::NodeExists.to_string(), "NodeExists");
    /// ```
    pub fn code(self) -> i32 {
        match self {
            ZkError::RuntimeInconsistency => -2,
            ZkError::ConnectionLoss => -4,
            ZkError::BadArguments => -8,
            ZkError::NoNode => -101,
            ZkError::BadVersion => -103,
            ZkError::NoChildrenForEphemerals => -108,
            ZkError::NodeExists => -110,
            ZkError::NotEmpty => -111,
            ZkError::SessionExpired => -112,
        }
    }

    /// The code's name, as the Java client's `KeeperException.Code` spells it.
    pub fn name(self) -> &'static str {
        match self {
            ZkError::RuntimeInconsistency => "RuntimeInconsistency",
            ZkError::ConnectionLoss => "ConnectionLoss",
            ZkError::BadArguments => "BadArguments",
            ZkError::NoNode => "NoNode",
            ZkError::BadVersion => "BadVersion",
            ZkError::NoChildrenForEphemerals => "NoChildrenForEphemerals",
            ZkError::NodeExists => "NodeExists",
            ZkError::NotEmpty => "NotEmpty",
            ZkError::SessionExpired => "SessionExpired",
        }
    }

    /// The Java exception's message for `path`, e.g.
    /// `KeeperErrorCode = NodeExists for /p/x`.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof_services::zookeeper::ZkError;
    ///
    /// assert_eq!(ZkError::NoNode.message("/p"), "KeeperErrorCode = NoNode for /p");
    /// ```
    pub fn message(self, path: &str) -> String {
        // `KeeperException.getCodeMessage`: two codes have prose instead of their name.
        let name = match self {
            ZkError::SessionExpired => "Session expired",
            ZkError::NotEmpty => "Directory not empty",
            _ => self.name(),
        };
        if path.is_empty() {
            format!("KeeperErrorCode = {name}")
        } else {
            format!("KeeperErrorCode = {name} for {path}")
        }
    }
}

impl fmt::Display for ZkError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl std::error::Error for ZkError {}

/// A node's metadata as a read returns it (ZooKeeper's `Stat`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct Stat {
    /// The zxid of the create.
    pub czxid: Zxid,
    /// The zxid of the last data change (the create's at first).
    pub mzxid: Zxid,
    /// The zxid of the last change of the children list.
    pub pzxid: Zxid,
    /// Creation time, server wall clock, ms.
    pub ctime: i64,
    /// Last data change, server wall clock, ms.
    pub mtime: i64,
    /// Data version: 0 at creation, +1 per `set`.
    pub version: i32,
    /// Children version: +1 per child created and per child deleted.
    pub cversion: i32,
    /// ACL version (always 0: ACLs are not modelled).
    pub aversion: i32,
    /// The owning session of an ephemeral node; `None` (printed `0x0`) otherwise.
    pub ephemeral_owner: Option<SessionId>,
    /// Data length in bytes.
    pub data_length: i32,
    /// Number of children.
    pub num_children: i32,
}

impl fmt::Display for Stat {
    /// One line with zkCli's `stat` names, e.g.
    /// `cZxid=0x2 mZxid=0x2 pZxid=0x2 cversion=0 dataVersion=0 ephemeralOwner=0x0 dataLength=0 numChildren=0`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "cZxid=0x{:x} mZxid=0x{:x} pZxid=0x{:x} cversion={} dataVersion={} ephemeralOwner=0x{:x} dataLength={} numChildren={}",
            self.czxid,
            self.mzxid,
            self.pzxid,
            self.cversion,
            self.version,
            self.ephemeral_owner.map_or(0, |s| s.0),
            self.data_length,
            self.num_children
        )
    }
}

/// One znode as stored (read it with [`ZooKeeper::node`]; requests change it).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Znode {
    /// The node's data.
    pub data: Vec<u8>,
    /// Its zxids, times, versions and owner (`data_length`/`num_children` filled on read).
    stat: Stat,
    /// Child names, in name order (reads reorder them, see [`ZooKeeper::get_children`]).
    children: BTreeSet<String>,
    /// Children ever created under this node: the next sequence number (wraps as `i32`).
    children_created: i32,
}

impl Znode {
    fn new(data: Vec<u8>, zxid: Zxid, wall_ms: i64, owner: Option<SessionId>) -> Self {
        Znode {
            data,
            stat: Stat {
                czxid: zxid,
                mzxid: zxid,
                pzxid: zxid,
                ctime: wall_ms,
                mtime: wall_ms,
                ephemeral_owner: owner,
                ..Stat::default()
            },
            children: BTreeSet::new(),
            children_created: 0,
        }
    }

    /// The node's `Stat` as a read returns it.
    pub fn stat(&self) -> Stat {
        Stat {
            data_length: i32::try_from(self.data.len()).unwrap_or(i32::MAX),
            num_children: i32::try_from(self.children.len()).unwrap_or(i32::MAX),
            ..self.stat
        }
    }

    /// The node's children in name order.
    pub fn children(&self) -> impl Iterator<Item = &str> {
        self.children.iter().map(String::as_str)
    }

    /// The sequence number the next sequential child will get.
    pub fn next_sequence(&self) -> i32 {
        self.children_created
    }
}

/// What a watch event reports (the Java client's `Watcher.Event.EventType`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EventType {
    /// The node was created (an `exists` watch on a missing node); kazoo's `CREATED`.
    NodeCreated,
    /// The node was deleted; kazoo's `DELETED`.
    NodeDeleted,
    /// The node's data was set; kazoo's `CHANGED`.
    NodeDataChanged,
    /// A child was created or deleted; kazoo's `CHILD`.
    NodeChildrenChanged,
}

impl fmt::Display for EventType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            EventType::NodeCreated => "NodeCreated",
            EventType::NodeDeleted => "NodeDeleted",
            EventType::NodeDataChanged => "NodeDataChanged",
            EventType::NodeChildrenChanged => "NodeChildrenChanged",
        })
    }
}

/// One fired watch, queued on the watching session's outbox.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct WatchEvent {
    /// What happened.
    pub kind: EventType,
    /// The watched path.
    pub path: String,
    /// The zxid of the write that fired it (the twin's addition, for ordering checks).
    pub zxid: Zxid,
}

impl fmt::Display for WatchEvent {
    /// The Java client's `WatchedEvent.toString()`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "WatchedEvent state:SyncConnected type:{} path:{}",
            self.kind, self.path
        )
    }
}

/// A session's life as the server sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SessionState {
    /// The server still counts it.
    Alive,
    /// The client closed it.
    Closed,
    /// The server expired it.
    Expired,
}

/// A session as the server keeps it (read with [`ZooKeeper::session`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Session {
    /// Its id.
    pub id: SessionId,
    /// The negotiated timeout in milliseconds.
    pub timeout_ms: u64,
    /// When the server last heard from the client (monotonic ns).
    pub last_heard: u64,
    /// When the server expires it unless it hears from the client first (monotonic ns): the
    /// first tickTime boundary after `last_heard + timeout`.
    pub deadline: u64,
    /// Alive, closed or expired.
    pub state: SessionState,
    /// Paths of its ephemeral nodes.
    pub ephemerals: BTreeSet<String>,
    /// Fired watch events the client has not taken yet.
    outbox: VecDeque<WatchEvent>,
}

/// The reply to a connect: the session and the timeout the server granted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Connected {
    /// The session id (the same one on a successful reconnect).
    pub session: SessionId,
    /// The negotiated timeout in milliseconds (check 57).
    pub timeout_ms: u64,
}

impl fmt::Display for Connected {
    /// Like the server's `cons` line: `sid=0x… to=1000`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "sid={} to={}", self.session, self.timeout_ms)
    }
}

/// One operation of a [`ZooKeeper::multi`].
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Op {
    /// Create a node.
    Create {
        /// The path (the prefix, for a sequential mode).
        path: String,
        /// The data.
        data: Vec<u8>,
        /// The mode.
        mode: CreateMode,
    },
    /// Delete a node if its version matches ([`ANY_VERSION`] matches all).
    Delete {
        /// The path.
        path: String,
        /// The expected version.
        version: i32,
    },
    /// Set a node's data if its version matches.
    SetData {
        /// The path.
        path: String,
        /// The new data.
        data: Vec<u8>,
        /// The expected version.
        version: i32,
    },
    /// Fail the whole `multi` unless the node exists with this version.
    Check {
        /// The path.
        path: String,
        /// The expected version.
        version: i32,
    },
}

/// The result of one op of a [`ZooKeeper::multi`] (the Java client's `OpResult`).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum OpResult {
    /// A create succeeded: the created path.
    Create(String),
    /// A delete succeeded.
    Delete,
    /// A set succeeded: the new stat.
    SetData(Stat),
    /// A check succeeded.
    Check,
    /// The `multi` failed at another op; this one, before the failing op, was rolled back
    /// (an `ErrorResult` with code 0; kazoo's `RolledBackError`).
    RolledBack,
    /// The op failed (the failing op's error; `RuntimeInconsistency` for the ops after it).
    Error(ZkError),
}

impl fmt::Display for OpResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OpResult::Create(p) => write!(f, "Created {p}"),
            OpResult::Delete => f.write_str("Deleted"),
            OpResult::SetData(s) => write!(f, "{s}"),
            OpResult::Check => f.write_str("Checked"),
            OpResult::RolledBack => f.write_str("RolledBack"),
            OpResult::Error(e) => write!(f, "{e}"),
        }
    }
}

/// A watch to register with a read.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum WatchKind {
    /// `get` and `exists`: fires on create, set, delete of the path.
    Data,
    /// `getChildren`: fires on child create/delete and on delete of the path.
    Child,
}

/// The ZooKeeper twin: one standalone server. See the module doc for what it models.
///
/// # Examples
///
/// The lock recipe's first steps, and the ephemeral node dying with its session:
///
/// ```
/// use lockproof_services::time::ServerClock;
/// use lockproof_services::zookeeper::{CreateMode, EventType, ZkConfig, ZooKeeper};
///
/// let mut zk = ZooKeeper::new(ZkConfig::conformance());
/// let t = ServerClock::at(0);
/// let a = zk.connect(1000, t).session;
/// let b = zk.connect(10_000, t).session;
/// zk.create(a, "/lock", b"", CreateMode::Persistent, t).unwrap();
/// let mine = zk.create(a, "/lock/lock-", b"", CreateMode::EphemeralSequential, t).unwrap();
/// assert_eq!(mine, "/lock/lock-0000000000");
/// assert!(zk.exists(b, &mine, true, t).unwrap().is_some());
///
/// // A says nothing for longer than its timeout: the server expires it.
/// let later = ServerClock::at(2_000_000_000);
/// assert_eq!(zk.expire_overdue(later), vec![a]);
/// assert_eq!(zk.take_events(b)[0].kind, EventType::NodeDeleted);
/// ```
#[derive(Clone, Debug)]
pub struct ZooKeeper {
    config: ZkConfig,
    nodes: BTreeMap<String, Znode>,
    zxid: Zxid,
    sessions: BTreeMap<SessionId, Session>,
    next_session: u64,
    data_watches: BTreeMap<String, BTreeSet<SessionId>>,
    child_watches: BTreeMap<String, BTreeSet<SessionId>>,
}

/// The first session id: a standalone server with server id 0 starts its ids from a time
/// stamp; the twin starts from a fixed value so ids are deterministic and look real.
const FIRST_SESSION_ID: u64 = 0x1000_0000_0000;

impl ZooKeeper {
    /// A fresh server: the root `/` and the system nodes `/zookeeper`, `/zookeeper/config`,
    /// `/zookeeper/quota`, zxid 0, no sessions.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof_services::time::ServerClock;
    /// use lockproof_services::zookeeper::{ZkConfig, ZooKeeper};
    ///
    /// let mut zk = ZooKeeper::new(ZkConfig::default());
    /// let s = zk.connect(30_000, ServerClock::at(0)).session;
    /// assert_eq!(zk.get_children(s, "/", false, ServerClock::at(0)).unwrap(), ["zookeeper"]);
    /// ```
    pub fn new(config: ZkConfig) -> Self {
        let mut nodes = BTreeMap::new();
        let mut root = Znode::new(Vec::new(), 0, 0, None);
        root.children.insert("zookeeper".to_string());
        let mut system = Znode::new(Vec::new(), 0, 0, None);
        system.children.insert("config".to_string());
        system.children.insert("quota".to_string());
        nodes.insert("/".to_string(), root);
        nodes.insert("/zookeeper".to_string(), system);
        nodes.insert(
            "/zookeeper/config".to_string(),
            Znode::new(Vec::new(), 0, 0, None),
        );
        nodes.insert(
            "/zookeeper/quota".to_string(),
            Znode::new(Vec::new(), 0, 0, None),
        );
        ZooKeeper {
            config,
            nodes,
            zxid: 0,
            sessions: BTreeMap::new(),
            next_session: FIRST_SESSION_ID,
            data_watches: BTreeMap::new(),
            child_watches: BTreeMap::new(),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &ZkConfig {
        &self.config
    }

    /// The last zxid handed out.
    pub fn zxid(&self) -> Zxid {
        self.zxid
    }

    /// The node at `path`, if it exists (introspection for checkers and tests; not a request:
    /// it sets no watch and refreshes no session).
    pub fn node(&self, path: &str) -> Option<&Znode> {
        self.nodes.get(path)
    }

    /// The session `id` as the server keeps it (also closed and expired ones).
    pub fn session(&self, id: SessionId) -> Option<&Session> {
        self.sessions.get(&id)
    }

    /// Whether the server still counts session `id` (it may be overdue if no step ran since
    /// its deadline; [`expire_overdue`](Self::expire_overdue) settles that).
    pub fn is_alive(&self, id: SessionId) -> bool {
        self.sessions
            .get(&id)
            .is_some_and(|s| s.state == SessionState::Alive)
    }

    /// Events queued for `session` and not taken yet, oldest first.
    pub fn pending_events(&self, session: SessionId) -> impl Iterator<Item = &WatchEvent> {
        self.sessions
            .get(&session)
            .into_iter()
            .flat_map(|s| s.outbox.iter())
    }

    fn next_zxid(&mut self) -> Zxid {
        self.zxid += 1;
        self.zxid
    }

    fn deadline_for(&self, last_heard: u64, timeout_ms: u64) -> u64 {
        let tick = self.config.tick_time_ms.max(1).saturating_mul(1_000_000);
        let due = last_heard.saturating_add(timeout_ms.saturating_mul(1_000_000));
        (due / tick).saturating_add(1).saturating_mul(tick)
    }

    // ----- sessions -----

    /// A new session (the connect handshake without a session id). The server grants
    /// [`ZkConfig::negotiate`]`(requested_timeout_ms)`; creating a session is a transaction
    /// and takes a zxid [S].
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof_services::time::ServerClock;
    /// use lockproof_services::zookeeper::{ZkConfig, ZooKeeper};
    ///
    /// let mut zk = ZooKeeper::new(ZkConfig::conformance());
    /// let c = zk.connect(500, ServerClock::at(0));
    /// assert_eq!(c.timeout_ms, 1000);
    /// assert_eq!(c.to_string(), format!("sid={} to=1000", c.session));
    /// ```
    pub fn connect(&mut self, requested_timeout_ms: u64, clock: ServerClock) -> Connected {
        self.expire_overdue(clock);
        let id = SessionId(self.next_session);
        self.next_session += 1;
        let timeout_ms = self.config.negotiate(requested_timeout_ms);
        self.next_zxid();
        let session = Session {
            id,
            timeout_ms,
            last_heard: clock.mono,
            deadline: self.deadline_for(clock.mono, timeout_ms),
            state: SessionState::Alive,
            ephemerals: BTreeSet::new(),
            outbox: VecDeque::new(),
        };
        self.sessions.insert(id, session);
        Connected {
            session: id,
            timeout_ms,
        }
    }

    /// A client re-establishing its connection with an existing session (after a connection
    /// loss, to this server): the session goes on, refreshed, if the server still counts it;
    /// otherwise `SessionExpired`, which is how a client learns its session expired (§3.1).
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof_services::time::ServerClock;
    /// use lockproof_services::zookeeper::{ZkConfig, ZkError, ZooKeeper};
    ///
    /// let mut zk = ZooKeeper::new(ZkConfig::conformance());
    /// let s = zk.connect(1000, ServerClock::at(0)).session;
    /// let ms = |m: u64| ServerClock::at(m * 1_000_000);
    /// assert_eq!(zk.reconnect(s, ms(900)).unwrap().session, s);
    /// assert_eq!(zk.reconnect(s, ms(5000)), Err(ZkError::SessionExpired));
    /// ```
    pub fn reconnect(
        &mut self,
        session: SessionId,
        clock: ServerClock,
    ) -> Result<Connected, ZkError> {
        self.touch(session, clock)?;
        let timeout_ms = self.sessions[&session].timeout_ms;
        Ok(Connected {
            session,
            timeout_ms,
        })
    }

    /// A client heartbeat: refreshes the session, or `SessionExpired`.
    pub fn ping(&mut self, session: SessionId, clock: ServerClock) -> Result<(), ZkError> {
        self.touch(session, clock)
    }

    /// Expires overdue sessions, then refreshes `session` (every request does this first).
    fn touch(&mut self, session: SessionId, clock: ServerClock) -> Result<(), ZkError> {
        self.expire_overdue(clock);
        let timeout_ms = match self.sessions.get(&session) {
            Some(s) if s.state == SessionState::Alive => s.timeout_ms,
            _ => return Err(ZkError::SessionExpired),
        };
        let deadline = self.deadline_for(clock.mono, timeout_ms);
        let s = self.sessions.get_mut(&session).expect("checked above");
        s.last_heard = s.last_heard.max(clock.mono);
        s.deadline = s.deadline.max(deadline);
        Ok(())
    }

    /// The client closes its session: its ephemeral nodes are deleted in this step (one zxid),
    /// firing other sessions' watches; its own watches and undelivered events are dropped.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof_services::time::ServerClock;
    /// use lockproof_services::zookeeper::{CreateMode, ZkConfig, ZkError, ZooKeeper};
    ///
    /// let mut zk = ZooKeeper::new(ZkConfig::default());
    /// let t = ServerClock::at(0);
    /// let s = zk.connect(10_000, t).session;
    /// zk.create(s, "/e", b"", CreateMode::Ephemeral, t).unwrap();
    /// zk.close(s, t).unwrap();
    /// assert!(zk.node("/e").is_none());
    /// assert_eq!(zk.close(s, t), Err(ZkError::SessionExpired));
    /// ```
    pub fn close(&mut self, session: SessionId, clock: ServerClock) -> Result<(), ZkError> {
        self.touch(session, clock)?;
        self.end_session(session, SessionState::Closed);
        Ok(())
    }

    /// Expires every live session whose deadline is at or before `clock.mono`, in deadline
    /// order (ties by id), each as its own close transaction; returns them. The real server's
    /// expirer runs at every tickTime boundary, so every request calls this first: a request
    /// applied after a deadline always sees that session gone.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof_services::time::ServerClock;
    /// use lockproof_services::zookeeper::{ZkConfig, ZooKeeper};
    ///
    /// let mut zk = ZooKeeper::new(ZkConfig::conformance()); // tickTime 500 ms
    /// let s = zk.connect(1000, ServerClock::at(0)).session;
    /// // Deadline: the first tick boundary after 0 + 1000 ms, i.e. 1500 ms.
    /// assert_eq!(zk.next_expiry(), Some(1_500_000_000));
    /// assert!(zk.expire_overdue(ServerClock::at(1_499_999_999)).is_empty());
    /// assert_eq!(zk.expire_overdue(ServerClock::at(1_500_000_000)), vec![s]);
    /// ```
    pub fn expire_overdue(&mut self, clock: ServerClock) -> Vec<SessionId> {
        let mut due: Vec<(u64, SessionId)> = self
            .sessions
            .values()
            .filter(|s| s.state == SessionState::Alive && s.deadline <= clock.mono)
            .map(|s| (s.deadline, s.id))
            .collect();
        due.sort_unstable();
        for &(_, id) in &due {
            self.end_session(id, SessionState::Expired);
        }
        due.into_iter().map(|(_, id)| id).collect()
    }

    /// The earliest deadline of a live session (monotonic ns): when the scheduler should run
    /// [`expire_overdue`](Self::expire_overdue) next.
    pub fn next_expiry(&self) -> Option<u64> {
        self.sessions
            .values()
            .filter(|s| s.state == SessionState::Alive)
            .map(|s| s.deadline)
            .min()
    }

    fn end_session(&mut self, session: SessionId, state: SessionState) {
        let zxid = self.next_zxid();
        let ephemerals: Vec<String> = self.sessions[&session].ephemerals.iter().cloned().collect();
        for path in ephemerals {
            if self.nodes.contains_key(&path) {
                self.remove_node(&path, zxid);
            }
        }
        for watchers in self.data_watches.values_mut() {
            watchers.remove(&session);
        }
        for watchers in self.child_watches.values_mut() {
            watchers.remove(&session);
        }
        self.data_watches.retain(|_, w| !w.is_empty());
        self.child_watches.retain(|_, w| !w.is_empty());
        let s = self.sessions.get_mut(&session).expect("a known session");
        s.state = state;
        s.ephemerals.clear();
        s.outbox.clear();
    }

    /// Takes the watch events queued for `session`, oldest first. The caller delivers them to
    /// the client before any reply to a request the client sends after this step.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof_services::time::ServerClock;
    /// use lockproof_services::zookeeper::{CreateMode, ZkConfig, ZooKeeper};
    ///
    /// let mut zk = ZooKeeper::new(ZkConfig::default());
    /// let t = ServerClock::at(0);
    /// let (a, b) = (zk.connect(10_000, t).session, zk.connect(10_000, t).session);
    /// assert_eq!(zk.exists(a, "/w", true, t).unwrap(), None);
    /// zk.create(b, "/w", b"", CreateMode::Persistent, t).unwrap();
    /// let events = zk.take_events(a);
    /// assert_eq!(events[0].to_string(), "WatchedEvent state:SyncConnected type:NodeCreated path:/w");
    /// assert!(zk.take_events(a).is_empty());
    /// ```
    pub fn take_events(&mut self, session: SessionId) -> Vec<WatchEvent> {
        match self.sessions.get_mut(&session) {
            Some(s) => s.outbox.drain(..).collect(),
            None => Vec::new(),
        }
    }

    /// The server restarts (crash or clean, standalone): the tree and the zxid survive (the
    /// transaction log is synced before any reply) and so do sessions, each given a full
    /// timeout again from `clock` (the session tracker re-adds them at startup) [S]. Watches
    /// and queued events are kept: the client library re-registers its watches on reconnect
    /// and the server fires those whose nodes changed meanwhile, which nothing could while
    /// the server was down.
    pub fn restart(&mut self, clock: ServerClock) {
        let ids: Vec<SessionId> = self
            .sessions
            .values()
            .filter(|s| s.state == SessionState::Alive)
            .map(|s| s.id)
            .collect();
        for id in ids {
            let timeout_ms = self.sessions[&id].timeout_ms;
            let deadline = self.deadline_for(clock.mono, timeout_ms);
            let s = self.sessions.get_mut(&id).expect("listed above");
            s.last_heard = clock.mono;
            s.deadline = deadline;
        }
    }

    // ----- requests -----

    /// Creates a node; returns the created path (with the sequence suffix for a sequential
    /// mode). Errors: `BadArguments` (invalid path), `NoNode` (no parent), `NodeExists`,
    /// `NoChildrenForEphemerals`, `SessionExpired`. A failed create takes a zxid too [S].
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof_services::time::ServerClock;
    /// use lockproof_services::zookeeper::{CreateMode, ZkConfig, ZkError, ZooKeeper};
    ///
    /// let mut zk = ZooKeeper::new(ZkConfig::default());
    /// let t = ServerClock::at(0);
    /// let s = zk.connect(10_000, t).session;
    /// assert_eq!(zk.create(s, "/p/x", b"", CreateMode::Persistent, t), Err(ZkError::NoNode));
    /// zk.create(s, "/p", b"", CreateMode::Persistent, t).unwrap();
    /// let seq = CreateMode::PersistentSequential;
    /// assert_eq!(zk.create(s, "/p/n-", b"", seq, t).unwrap(), "/p/n-0000000000");
    /// zk.create(s, "/p/plain", b"", CreateMode::Persistent, t).unwrap();
    /// assert_eq!(zk.create(s, "/p/n-", b"", seq, t).unwrap(), "/p/n-0000000002");
    /// ```
    pub fn create(
        &mut self,
        session: SessionId,
        path: &str,
        data: &[u8],
        mode: CreateMode,
        clock: ServerClock,
    ) -> Result<String, ZkError> {
        self.touch(session, clock)?;
        let zxid = self.next_zxid();
        let mut fired = Vec::new();
        let r = self.do_create(session, path, data, mode, zxid, clock, &mut fired);
        self.deliver(fired);
        r
    }

    /// Deletes a node if `version` matches ([`ANY_VERSION`] matches all). Errors: `NoNode`,
    /// `BadVersion`, `NotEmpty`, `BadArguments` (the root, an invalid path), `SessionExpired`.
    pub fn delete(
        &mut self,
        session: SessionId,
        path: &str,
        version: i32,
        clock: ServerClock,
    ) -> Result<(), ZkError> {
        self.touch(session, clock)?;
        let zxid = self.next_zxid();
        let mut fired = Vec::new();
        let r = self.do_delete(path, version, zxid, &mut fired);
        self.deliver(fired);
        r
    }

    /// Sets a node's data if `version` matches; returns the new stat. Errors: `NoNode`,
    /// `BadVersion`, `BadArguments`, `SessionExpired`.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof_services::time::ServerClock;
    /// use lockproof_services::zookeeper::{CreateMode, ZkConfig, ZkError, ZooKeeper, ANY_VERSION};
    ///
    /// let mut zk = ZooKeeper::new(ZkConfig::default());
    /// let t = ServerClock::at(0);
    /// let s = zk.connect(10_000, t).session;
    /// zk.create(s, "/c", b"v0", CreateMode::Persistent, t).unwrap();
    /// assert_eq!(zk.set_data(s, "/c", b"v1", 0, t).unwrap().version, 1);
    /// assert_eq!(zk.set_data(s, "/c", b"v2", 0, t), Err(ZkError::BadVersion));
    /// assert_eq!(zk.set_data(s, "/c", b"v2", ANY_VERSION, t).unwrap().version, 2);
    /// ```
    pub fn set_data(
        &mut self,
        session: SessionId,
        path: &str,
        data: &[u8],
        version: i32,
        clock: ServerClock,
    ) -> Result<Stat, ZkError> {
        self.touch(session, clock)?;
        let zxid = self.next_zxid();
        let mut fired = Vec::new();
        let r = self.do_set(path, data, version, zxid, clock, &mut fired);
        self.deliver(fired);
        r
    }

    /// Reads a node's data and stat; with `watch`, a one-shot data watch (set only if the
    /// node exists). Errors: `NoNode`, `BadArguments`, `SessionExpired`.
    pub fn get_data(
        &mut self,
        session: SessionId,
        path: &str,
        watch: bool,
        clock: ServerClock,
    ) -> Result<(Vec<u8>, Stat), ZkError> {
        self.touch(session, clock)?;
        validate_path(path)?;
        let node = self.nodes.get(path).ok_or(ZkError::NoNode)?;
        let r = (node.data.clone(), node.stat());
        if watch {
            self.add_watch(WatchKind::Data, path, session);
        }
        Ok(r)
    }

    /// The node's stat or `None`; with `watch`, a one-shot watch whether or not the node
    /// exists (fires `NodeCreated`, `NodeDataChanged` or `NodeDeleted`).
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof_services::time::ServerClock;
    /// use lockproof_services::zookeeper::{CreateMode, EventType, ZkConfig, ZooKeeper, ANY_VERSION};
    ///
    /// let mut zk = ZooKeeper::new(ZkConfig::default());
    /// let t = ServerClock::at(0);
    /// let (a, b) = (zk.connect(10_000, t).session, zk.connect(10_000, t).session);
    /// zk.create(b, "/n", b"", CreateMode::Persistent, t).unwrap();
    /// assert!(zk.exists(a, "/n", true, t).unwrap().is_some());
    /// zk.delete(b, "/n", ANY_VERSION, t).unwrap();
    /// zk.create(b, "/n", b"", CreateMode::Persistent, t).unwrap();
    /// let kinds: Vec<_> = zk.take_events(a).into_iter().map(|e| e.kind).collect();
    /// assert_eq!(kinds, [EventType::NodeDeleted]); // one-shot
    /// ```
    pub fn exists(
        &mut self,
        session: SessionId,
        path: &str,
        watch: bool,
        clock: ServerClock,
    ) -> Result<Option<Stat>, ZkError> {
        self.touch(session, clock)?;
        validate_path(path)?;
        if watch {
            self.add_watch(WatchKind::Data, path, session);
        }
        Ok(self.nodes.get(path).map(Znode::stat))
    }

    /// The names of a node's children, in a seeded deterministic order that is deliberately
    /// not sorted (the real server returns its hash set's order, check 62: recipes must sort
    /// by sequence suffix themselves). With `watch`, a one-shot child watch (set only if the
    /// node exists). Errors: `NoNode`, `BadArguments`, `SessionExpired`.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof_services::time::ServerClock;
    /// use lockproof_services::zookeeper::{CreateMode, ZkConfig, ZooKeeper};
    ///
    /// let mut zk = ZooKeeper::new(ZkConfig::default());
    /// let t = ServerClock::at(0);
    /// let s = zk.connect(10_000, t).session;
    /// zk.create(s, "/q", b"", CreateMode::Persistent, t).unwrap();
    /// for _ in 0..3 {
    ///     zk.create(s, "/q/n-", b"", CreateMode::PersistentSequential, t).unwrap();
    /// }
    /// let mut kids = zk.get_children(s, "/q", false, t).unwrap();
    /// assert_ne!(kids, ["n-0000000000", "n-0000000001", "n-0000000002"]);
    /// kids.sort();
    /// assert_eq!(kids, ["n-0000000000", "n-0000000001", "n-0000000002"]);
    /// ```
    pub fn get_children(
        &mut self,
        session: SessionId,
        path: &str,
        watch: bool,
        clock: ServerClock,
    ) -> Result<Vec<String>, ZkError> {
        self.touch(session, clock)?;
        validate_path(path)?;
        let node = self.nodes.get(path).ok_or(ZkError::NoNode)?;
        let kids = unsorted_order(node.children.iter(), self.config.children_order_seed);
        if watch {
            self.add_watch(WatchKind::Child, path, session);
        }
        Ok(kids)
    }

    /// `sync`: on a standalone server every read is already up to date; refreshes the session
    /// and returns the path.
    pub fn sync(
        &mut self,
        session: SessionId,
        path: &str,
        clock: ServerClock,
    ) -> Result<String, ZkError> {
        self.touch(session, clock)?;
        validate_path(path)?;
        Ok(path.to_string())
    }

    /// Applies `ops` all or nothing, as one transaction with one zxid. On success one result
    /// per op; on failure nothing changes, no watch fires, and the results are `RolledBack`
    /// for the ops before the failing one, its error, then `RuntimeInconsistency` (check 67).
    /// `Err` only for a dead session.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof_services::time::ServerClock;
    /// use lockproof_services::zookeeper::{CreateMode, Op, OpResult, ZkConfig, ZkError, ZooKeeper};
    ///
    /// let mut zk = ZooKeeper::new(ZkConfig::default());
    /// let t = ServerClock::at(0);
    /// let s = zk.connect(10_000, t).session;
    /// zk.create(s, "/c", b"", CreateMode::Persistent, t).unwrap();
    /// let ops = |v| vec![
    ///     Op::Check { path: "/c".into(), version: v },
    ///     Op::Create { path: "/c3".into(), data: vec![], mode: CreateMode::Persistent },
    /// ];
    /// assert_eq!(
    ///     zk.multi(s, &ops(5), t).unwrap(),
    ///     [OpResult::Error(ZkError::BadVersion), OpResult::Error(ZkError::RuntimeInconsistency)]
    /// );
    /// assert!(zk.node("/c3").is_none());
    /// assert_eq!(zk.multi(s, &ops(0), t).unwrap(), [OpResult::Check, OpResult::Create("/c3".into())]);
    /// ```
    pub fn multi(
        &mut self,
        session: SessionId,
        ops: &[Op],
        clock: ServerClock,
    ) -> Result<Vec<OpResult>, ZkError> {
        self.touch(session, clock)?;
        let zxid = self.next_zxid();
        let before_nodes = self.nodes.clone();
        let before_sessions = self.sessions.clone();
        let mut fired = Vec::new();
        let mut results = Vec::with_capacity(ops.len());
        let mut failed_at = None;
        for (i, op) in ops.iter().enumerate() {
            let r = match op {
                Op::Create { path, data, mode } => self
                    .do_create(session, path, data, *mode, zxid, clock, &mut fired)
                    .map(OpResult::Create),
                Op::Delete { path, version } => self
                    .do_delete(path, *version, zxid, &mut fired)
                    .map(|()| OpResult::Delete),
                Op::SetData {
                    path,
                    data,
                    version,
                } => self
                    .do_set(path, data, *version, zxid, clock, &mut fired)
                    .map(OpResult::SetData),
                Op::Check { path, version } => {
                    self.do_check(path, *version).map(|()| OpResult::Check)
                }
            };
            match r {
                Ok(r) => results.push(r),
                Err(e) => {
                    failed_at = Some((i, e));
                    break;
                }
            }
        }
        let Some((at, err)) = failed_at else {
            self.deliver(fired);
            return Ok(results);
        };
        self.nodes = before_nodes;
        self.sessions = before_sessions;
        let mut out = vec![OpResult::RolledBack; at];
        out.push(OpResult::Error(err));
        out.resize(ops.len(), OpResult::Error(ZkError::RuntimeInconsistency));
        Ok(out)
    }

    /// Applies one [`Request`] of `session` (the typed form of the methods above, for
    /// schedulers that queue requests); see each method for its replies.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof_services::time::ServerClock;
    /// use lockproof_services::zookeeper::{CreateMode, Reply, Request, ZkConfig, ZooKeeper};
    ///
    /// let mut zk = ZooKeeper::new(ZkConfig::default());
    /// let t = ServerClock::at(0);
    /// let s = zk.connect(10_000, t).session;
    /// let req = Request::Create { path: "/l".into(), data: vec![], mode: CreateMode::Ephemeral };
    /// assert_eq!(req.to_string(), "create -e /l");
    /// let reply = zk.apply(s, &req, t).unwrap();
    /// assert_eq!(reply, Reply::Created("/l".into()));
    /// assert_eq!(reply.to_string(), "Created /l");
    /// ```
    pub fn apply(
        &mut self,
        session: SessionId,
        request: &Request,
        clock: ServerClock,
    ) -> Result<Reply, ZkError> {
        match request {
            Request::Create { path, data, mode } => self
                .create(session, path, data, *mode, clock)
                .map(Reply::Created),
            Request::Delete { path, version } => self
                .delete(session, path, *version, clock)
                .map(|()| Reply::Deleted),
            Request::SetData {
                path,
                data,
                version,
            } => self
                .set_data(session, path, data, *version, clock)
                .map(Reply::Stat),
            Request::GetData { path, watch } => self
                .get_data(session, path, *watch, clock)
                .map(|(d, s)| Reply::Data(d, s)),
            Request::Exists { path, watch } => {
                self.exists(session, path, *watch, clock).map(Reply::Exists)
            }
            Request::GetChildren { path, watch } => self
                .get_children(session, path, *watch, clock)
                .map(Reply::Children),
            Request::Sync { path } => self.sync(session, path, clock).map(Reply::Synced),
            Request::Multi(ops) => self.multi(session, ops, clock).map(Reply::Multi),
            Request::Ping => self.ping(session, clock).map(|()| Reply::Pong),
            Request::Close => self.close(session, clock).map(|()| Reply::Closed),
        }
    }

    // ----- the tree -----

    #[allow(clippy::too_many_arguments)]
    fn do_create(
        &mut self,
        session: SessionId,
        path: &str,
        data: &[u8],
        mode: CreateMode,
        zxid: Zxid,
        clock: ServerClock,
        fired: &mut Vec<(WatchKind, String, EventType, Zxid)>,
    ) -> Result<String, ZkError> {
        // A sequential prefix may end in '/' ("/p/" + suffix); the full path is checked below.
        if !(mode.is_sequential() && path.ends_with('/')) {
            validate_path(path)?;
            if path == "/" {
                return Err(ZkError::NodeExists);
            }
        } else if !path.starts_with('/') {
            return Err(ZkError::BadArguments);
        }
        let parent_path = parent_of(path);
        let parent = self.nodes.get(parent_path).ok_or(ZkError::NoNode)?;
        let full = if mode.is_sequential() {
            format!("{path}{:010}", parent.children_created)
        } else {
            path.to_string()
        };
        validate_path(&full)?;
        if self.nodes.contains_key(&full) {
            return Err(ZkError::NodeExists);
        }
        if parent.stat.ephemeral_owner.is_some() {
            return Err(ZkError::NoChildrenForEphemerals);
        }
        let owner = mode.is_ephemeral().then_some(session);
        let parent = self.nodes.get_mut(parent_path).expect("checked above");
        parent.children_created = parent.children_created.wrapping_add(1);
        parent.stat.cversion = parent.stat.cversion.wrapping_add(1);
        parent.stat.pzxid = zxid;
        parent.children.insert(name_of(&full).to_string());
        self.nodes.insert(
            full.clone(),
            Znode::new(data.to_vec(), zxid, clock.wall_ms(), owner),
        );
        if let Some(owner) = owner {
            self.sessions
                .get_mut(&owner)
                .expect("a live session")
                .ephemerals
                .insert(full.clone());
        }
        fired.push((WatchKind::Data, full.clone(), EventType::NodeCreated, zxid));
        fired.push((
            WatchKind::Child,
            parent_path.to_string(),
            EventType::NodeChildrenChanged,
            zxid,
        ));
        Ok(full)
    }

    fn do_delete(
        &mut self,
        path: &str,
        version: i32,
        zxid: Zxid,
        fired: &mut Vec<(WatchKind, String, EventType, Zxid)>,
    ) -> Result<(), ZkError> {
        validate_path(path)?;
        if path == "/" {
            return Err(ZkError::BadArguments);
        }
        let node = self.nodes.get(path).ok_or(ZkError::NoNode)?;
        if version != ANY_VERSION && version != node.stat.version {
            return Err(ZkError::BadVersion);
        }
        if !node.children.is_empty() {
            return Err(ZkError::NotEmpty);
        }
        fired.extend(self.remove_node_events(path, zxid));
        Ok(())
    }

    /// Removes a childless node and queues its watch events right away (session close).
    fn remove_node(&mut self, path: &str, zxid: Zxid) {
        let fired = self.remove_node_events(path, zxid);
        self.deliver(fired);
    }

    fn remove_node_events(
        &mut self,
        path: &str,
        zxid: Zxid,
    ) -> Vec<(WatchKind, String, EventType, Zxid)> {
        let node = self.nodes.remove(path).expect("an existing node");
        if let Some(owner) = node.stat.ephemeral_owner {
            if let Some(s) = self.sessions.get_mut(&owner) {
                s.ephemerals.remove(path);
            }
        }
        let parent_path = parent_of(path);
        let parent = self
            .nodes
            .get_mut(parent_path)
            .expect("a node's parent exists");
        parent.children.remove(name_of(path));
        parent.stat.cversion = parent.stat.cversion.wrapping_add(1);
        parent.stat.pzxid = zxid;
        vec![
            (
                WatchKind::Data,
                path.to_string(),
                EventType::NodeDeleted,
                zxid,
            ),
            (
                WatchKind::Child,
                path.to_string(),
                EventType::NodeDeleted,
                zxid,
            ),
            (
                WatchKind::Child,
                parent_path.to_string(),
                EventType::NodeChildrenChanged,
                zxid,
            ),
        ]
    }

    fn do_set(
        &mut self,
        path: &str,
        data: &[u8],
        version: i32,
        zxid: Zxid,
        clock: ServerClock,
        fired: &mut Vec<(WatchKind, String, EventType, Zxid)>,
    ) -> Result<Stat, ZkError> {
        validate_path(path)?;
        let node = self.nodes.get_mut(path).ok_or(ZkError::NoNode)?;
        if version != ANY_VERSION && version != node.stat.version {
            return Err(ZkError::BadVersion);
        }
        node.data = data.to_vec();
        node.stat.version = node.stat.version.wrapping_add(1);
        node.stat.mzxid = zxid;
        node.stat.mtime = clock.wall_ms();
        let stat = node.stat();
        fired.push((
            WatchKind::Data,
            path.to_string(),
            EventType::NodeDataChanged,
            zxid,
        ));
        Ok(stat)
    }

    fn do_check(&self, path: &str, version: i32) -> Result<(), ZkError> {
        validate_path(path)?;
        let node = self.nodes.get(path).ok_or(ZkError::NoNode)?;
        if version != ANY_VERSION && version != node.stat.version {
            return Err(ZkError::BadVersion);
        }
        Ok(())
    }

    // ----- watches -----

    fn add_watch(&mut self, kind: WatchKind, path: &str, session: SessionId) {
        let table = match kind {
            WatchKind::Data => &mut self.data_watches,
            WatchKind::Child => &mut self.child_watches,
        };
        table.entry(path.to_string()).or_default().insert(session);
    }

    /// Fires the watches of each trigger in order: every watcher of the (kind, path) gets one
    /// event and its watch is gone; a session gets at most one event per write and path
    /// (a node's delete notifies its data and child watchers once, as the server's
    /// `WatchManager` suppresses the second).
    fn deliver(&mut self, fired: Vec<(WatchKind, String, EventType, Zxid)>) {
        let mut notified: BTreeSet<(SessionId, String, Zxid)> = BTreeSet::new();
        for (kind, path, event, zxid) in fired {
            let table = match kind {
                WatchKind::Data => &mut self.data_watches,
                WatchKind::Child => &mut self.child_watches,
            };
            let Some(watchers) = table.remove(&path) else {
                continue;
            };
            for w in watchers {
                if !notified.insert((w, path.clone(), zxid)) {
                    continue;
                }
                if let Some(s) = self.sessions.get_mut(&w) {
                    if s.state == SessionState::Alive {
                        s.outbox.push_back(WatchEvent {
                            kind: event,
                            path: path.clone(),
                            zxid,
                        });
                    }
                }
            }
        }
    }
}

/// The parent path of a valid non-root path (`/a` → `/`, `/a/b` → `/a`).
fn parent_of(path: &str) -> &str {
    match path.rfind('/') {
        Some(0) | None => "/",
        Some(i) => &path[..i],
    }
}

/// The last component of a path.
fn name_of(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or("")
}

/// ZooKeeper's `PathUtils.validatePath`: absolute, no empty, `.` or `..` component, no
/// trailing slash (except the root), no NUL.
fn validate_path(path: &str) -> Result<(), ZkError> {
    if path == "/" {
        return Ok(());
    }
    if !path.starts_with('/') || path.ends_with('/') || path.contains('\0') {
        return Err(ZkError::BadArguments);
    }
    if path[1..]
        .split('/')
        .any(|c| c.is_empty() || c == "." || c == "..")
    {
        return Err(ZkError::BadArguments);
    }
    Ok(())
}

/// A deterministic order that depends on the names and the seed, like a hash set's, and is
/// never ascending for two or more names (reversed if the hash order happens to be).
fn unsorted_order<'a>(names: impl Iterator<Item = &'a String>, seed: u64) -> Vec<String> {
    let mut keyed: Vec<(u64, &String)> = names.map(|n| (mix(seed, n), n)).collect();
    keyed.sort();
    let mut out: Vec<String> = keyed.into_iter().map(|(_, n)| n.clone()).collect();
    if out.len() >= 2 && out.windows(2).all(|w| w[0] <= w[1]) {
        out.reverse();
    }
    out
}

/// FNV-1a over the name, seeded, finished with a splitmix64 round.
fn mix(seed: u64, name: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325 ^ seed;
    for b in name.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h = h.wrapping_add(0x9e37_79b9_7f4a_7c15);
    h = (h ^ (h >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    h = (h ^ (h >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    h ^ (h >> 31)
}

/// The numeric sequence suffix of a sequential node's name: its last 10 characters, as
/// kazoo and Curator read it (a wrapped counter prints `-000000005`; values below
/// -999 999 999 take 11 characters and are not recognised, as in those clients).
///
/// # Examples
///
/// ```
/// use lockproof_services::zookeeper::sequence_of;
///
/// assert_eq!(sequence_of("abc__lock__0000000012"), Some(12));
/// assert_eq!(sequence_of("lock-0000000001"), Some(1));
/// assert_eq!(sequence_of("x-000000005"), Some(-5));
/// assert_eq!(sequence_of("plain"), None);
/// ```
pub fn sequence_of(name: &str) -> Option<i32> {
    let tail = name.get(name.len().checked_sub(10)?..)?;
    let digits = tail.strip_prefix('-').unwrap_or(tail);
    if digits.bytes().all(|b| b.is_ascii_digit()) {
        tail.parse::<i32>().ok()
    } else {
        None
    }
}

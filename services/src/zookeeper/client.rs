//! A kazoo-like client of the ZooKeeper twin on the simulation: one session per client, each
//! request one [`Server::call`], heartbeats, watch events, and kazoo's connection states.

use super::{
    CreateMode, Reply, Request, SessionId, Stat, WatchEvent, ZkError, ZooKeeper, ANY_VERSION,
};
use crate::sim::{NetError, Node, Server};
use lockproof::backend::Backend;
use std::collections::VecDeque;
use std::fmt;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

/// A failed client call: the server's error, or no reply in time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ClientError {
    /// The server answered with this error.
    Zk(ZkError),
    /// No reply within the client's timeout: kazoo's `ConnectionLoss` (the request may or may
    /// not have been applied).
    ConnectionLoss,
}

impl fmt::Display for ClientError {
    /// kazoo's exception class: `NodeExistsError`, `SessionExpiredError`, `ConnectionLoss`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ClientError::ConnectionLoss | ClientError::Zk(ZkError::ConnectionLoss) => {
                f.write_str("ConnectionLoss")
            }
            ClientError::Zk(ZkError::RuntimeInconsistency) => f.write_str("RuntimeInconsistency"),
            ClientError::Zk(e) => write!(f, "{}Error", e.name()),
        }
    }
}

impl std::error::Error for ClientError {}

impl From<ZkError> for ClientError {
    fn from(e: ZkError) -> Self {
        ClientError::Zk(e)
    }
}

/// kazoo's connection state (`KazooState`), as its state listeners see it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum KazooState {
    /// Connected, the session alive as far as the client knows.
    Connected,
    /// A request got no reply: the session may still be alive ("lock possibly lost").
    Suspended,
    /// The server said the session expired: its ephemeral nodes are gone.
    Lost,
}

impl fmt::Display for KazooState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            KazooState::Connected => "CONNECTED",
            KazooState::Suspended => "SUSPENDED",
            KazooState::Lost => "LOST",
        })
    }
}

/// kazoo's `normpath` (`kazoo.protocol.paths`), applied to every request's path: empty
/// components and a trailing `/` are dropped (kept only for a sequential create's prefix,
/// `trailing=sequence`), so `get_children("/locks/")` reads `/locks`.
///
/// # Examples
///
/// ```
/// use lockproof_services::zookeeper::client::normpath;
///
/// assert_eq!(normpath("/a//b/", false), "/a/b");
/// assert_eq!(normpath("/a/b/", true), "/a/b/");
/// assert_eq!(normpath("/", false), "/");
/// ```
pub fn normpath(path: &str, trailing: bool) -> String {
    let comps: Vec<&str> = path.split('/').filter(|c| !c.is_empty()).collect();
    let mut out = format!("/{}", comps.join("/"));
    if trailing && path.ends_with('/') && out != "/" {
        out.push('/');
    }
    out
}

fn normalize(req: &mut Request) {
    match req {
        Request::Create { path, mode, .. } => *path = normpath(path, mode.is_sequential()),
        Request::Delete { path, .. }
        | Request::SetData { path, .. }
        | Request::GetData { path, .. }
        | Request::Exists { path, .. }
        | Request::GetChildren { path, .. }
        | Request::Sync { path } => *path = normpath(path, false),
        Request::Multi(_) | Request::Ping | Request::Close => {}
    }
}

/// A reply as the trace shows it.
struct Shown(Result<Reply, ZkError>);

impl fmt::Display for Shown {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Ok(r) => write!(f, "{r}"),
            Err(e) => write!(f, "{e}"),
        }
    }
}

/// Watch events handed to a client, as the trace shows them.
struct Delivered(Vec<WatchEvent>);

impl fmt::Display for Delivered {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[")?;
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{} {}", e.kind, e.path)?;
        }
        f.write_str("]")
    }
}

struct State {
    session: Option<SessionId>,
    negotiated_ms: u64,
    /// True time (ns) of the last request sent, for heartbeats.
    last_sent: u64,
    states: Vec<KazooState>,
    reads: u64,
    /// Events handed to the client and not consumed yet.
    inbox: VecDeque<WatchEvent>,
}

/// A kazoo `KazooClient` on node `node`, talking to the ZooKeeper twin `server`.
///
/// Paths are normalised as kazoo does ([`normpath`]). Every method is one request
/// ([`Server::call`]) with its faults; a request without reply
/// is [`ClientError::ConnectionLoss`] and moves the state to `SUSPENDED`; a
/// `SessionExpired` reply moves it to `LOST`, after which the next request first opens a
/// new session (kazoo reconnects by itself), moving it back to `CONNECTED`.
///
/// Heartbeats: kazoo's connection thread pings when the session has been idle for a third
/// of its timeout. The model has no extra thread for it: [`sleep`](ZkClient::sleep) and
/// [`wait_event`](ZkClient::wait_event) ping when due, so a client that sleeps or waits
/// keeps its session, and a paused process (every thread stopped) does not.
///
/// Watch events: the twin queues them per session; [`wait_event`](ZkClient::wait_event)
/// polls for them (and runs the server's session expirer when a deadline has passed, as the
/// real server's expirer thread would at that instant).
///
/// # Examples
///
/// ```
/// use lockproof::backend::Std;
/// use lockproof_services::sim::{Cluster, Faults};
/// use lockproof_services::zookeeper::{ClientError, CreateMode, KazooState, ZkClient, ZkConfig, ZkError, ZooKeeper};
///
/// let cluster = Cluster::<Std>::new(Faults::none());
/// let zk = cluster.server("zookeeper", ZooKeeper::new(ZkConfig::with_tick(100)));
/// let client = ZkClient::new(&cluster.node("client-1"), &zk, 1000);
/// client.start(1).unwrap();
/// client.ensure_path("/locks/job/").unwrap();
/// let me = client.create("/locks/job/lock-", b"", CreateMode::EphemeralSequential).unwrap();
/// assert_eq!(me, "/locks/job/lock-0000000000");
/// assert_eq!(client.get_children("/locks/job/", false).unwrap(), ["lock-0000000000"]);
/// assert_eq!(
///     client.create("/locks/job", b"", CreateMode::Persistent),
///     Err(ClientError::Zk(ZkError::NodeExists))
/// );
/// assert_eq!(client.state(), KazooState::Connected);
/// client.close().unwrap();
/// assert!(zk.inspect(|z, _| z.node(&me).is_none()));
/// ```
pub struct ZkClient<B: Backend> {
    node: Node<B>,
    server: Server<ZooKeeper, B>,
    requested_ms: u64,
    poll: Duration,
    state: Mutex<State>,
}

impl<B: Backend> fmt::Debug for ZkClient<B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ZkClient")
            .field("node", &self.node.name())
            .finish_non_exhaustive()
    }
}

impl<B: Backend> ZkClient<B> {
    /// `KazooClient(hosts, timeout=requested_ms / 1000)` on `node`; no session until
    /// [`start`](ZkClient::start) or the first request.
    pub fn new(node: &Node<B>, server: &Server<ZooKeeper, B>, requested_ms: u64) -> Self {
        ZkClient {
            node: node.clone(),
            server: server.clone(),
            requested_ms,
            poll: Duration::from_millis(50),
            state: Mutex::new(State {
                session: None,
                negotiated_ms: requested_ms,
                last_sent: 0,
                states: Vec::new(),
                reads: 0,
                inbox: VecDeque::new(),
            }),
        }
    }

    /// How often [`wait_event`](ZkClient::wait_event) looks for events (default 50 ms).
    #[must_use]
    pub fn with_poll(mut self, poll: Duration) -> Self {
        self.poll = poll;
        self
    }

    fn st(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The node the client runs on.
    pub fn node(&self) -> &Node<B> {
        &self.node
    }

    /// The current session, if one is open.
    pub fn session(&self) -> Option<SessionId> {
        self.st().session
    }

    /// The negotiated session timeout in milliseconds (the requested one before connecting).
    pub fn negotiated_ms(&self) -> u64 {
        self.st().negotiated_ms
    }

    /// Every state the client went through, in order (kazoo's listener calls).
    pub fn states(&self) -> Vec<KazooState> {
        self.st().states.clone()
    }

    /// The last state (`CONNECTED` before anything happened).
    pub fn state(&self) -> KazooState {
        self.st()
            .states
            .last()
            .copied()
            .unwrap_or(KazooState::Connected)
    }

    /// How many reads (`get`, `exists`, `get_children`) the client sent.
    pub fn reads(&self) -> u64 {
        self.st().reads
    }

    fn set_state(&self, s: KazooState) {
        let mut st = self.st();
        if st.states.last() != Some(&s) {
            st.states.push(s);
        }
    }

    /// `zk.start()`: opens a session, retrying a connect that got no reply (kazoo's
    /// `connection_retry`), at most `tries` times.
    ///
    /// # Errors
    ///
    /// `ConnectionLoss` when no try got a reply.
    pub fn start(&self, tries: u32) -> Result<SessionId, ClientError> {
        let mut last = ClientError::ConnectionLoss;
        for _ in 0..tries.max(1) {
            match self.open_session() {
                Ok(s) => return Ok(s),
                Err(e) => last = e,
            }
        }
        Err(last)
    }

    fn open_session(&self) -> Result<SessionId, ClientError> {
        let requested = self.requested_ms;
        let r = self.server.call(
            &self.node,
            format!("connect sessionTimeout={requested}"),
            move |zk, clock| zk.connect(requested, clock),
        );
        self.st().last_sent = B::now().0;
        match r {
            Ok(c) => {
                let mut st = self.st();
                st.session = Some(c.session);
                st.negotiated_ms = c.timeout_ms;
                drop(st);
                self.set_state(KazooState::Connected);
                Ok(c.session)
            }
            Err(NetError::Timeout) => Err(ClientError::ConnectionLoss),
        }
    }

    fn session_or_open(&self) -> Result<SessionId, ClientError> {
        match self.session() {
            Some(s) => Ok(s),
            None => self.open_session(),
        }
    }

    /// Sends one request of the session and maps the outcome (states included).
    fn request(&self, mut req: Request) -> Result<Reply, ClientError> {
        normalize(&mut req);
        let s = self.session_or_open()?;
        if matches!(
            req,
            Request::GetData { .. } | Request::Exists { .. } | Request::GetChildren { .. }
        ) {
            self.st().reads += 1;
        }
        let shown = req.to_string();
        let r = self.server.call(&self.node, shown, move |zk, clock| {
            Shown(zk.apply(s, &req, clock))
        });
        self.st().last_sent = B::now().0;
        match r {
            Ok(Shown(Ok(reply))) => {
                self.set_state(KazooState::Connected);
                Ok(reply)
            }
            Ok(Shown(Err(ZkError::SessionExpired))) => {
                let mut st = self.st();
                if st.session == Some(s) {
                    st.session = None;
                }
                drop(st);
                self.set_state(KazooState::Lost);
                Err(ClientError::Zk(ZkError::SessionExpired))
            }
            Ok(Shown(Err(e))) => {
                self.set_state(KazooState::Connected);
                Err(ClientError::Zk(e))
            }
            Err(_) => {
                self.set_state(KazooState::Suspended);
                Err(ClientError::ConnectionLoss)
            }
        }
    }

    /// `zk.create(path, value, ephemeral, sequence)`: the created path.
    ///
    /// # Errors
    ///
    /// The server's error, or `ConnectionLoss` (the node may exist: a ghost).
    pub fn create(&self, path: &str, data: &[u8], mode: CreateMode) -> Result<String, ClientError> {
        match self.request(Request::Create {
            path: path.to_owned(),
            data: data.to_vec(),
            mode,
        })? {
            Reply::Created(p) => Ok(p),
            other => unreachable!("create answered {other}"),
        }
    }

    /// `zk.ensure_path(path)`: creates every missing component (persistent), ignoring
    /// `NodeExistsError`.
    ///
    /// # Errors
    ///
    /// Any other error of a create.
    pub fn ensure_path(&self, path: &str) -> Result<(), ClientError> {
        let trimmed = path.trim_end_matches('/');
        let mut prefix = String::new();
        for part in trimmed.split('/').filter(|p| !p.is_empty()) {
            prefix.push('/');
            prefix.push_str(part);
            match self.create(&prefix, b"", CreateMode::Persistent) {
                Ok(_) | Err(ClientError::Zk(ZkError::NodeExists)) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// `zk.delete(path, version)`.
    ///
    /// # Errors
    ///
    /// The server's error or `ConnectionLoss`.
    pub fn delete(&self, path: &str, version: i32) -> Result<(), ClientError> {
        self.request(Request::Delete {
            path: path.to_owned(),
            version,
        })
        .map(|_| ())
    }

    /// `zk.delete(path)` with any version.
    ///
    /// # Errors
    ///
    /// The server's error or `ConnectionLoss`.
    pub fn delete_any(&self, path: &str) -> Result<(), ClientError> {
        self.delete(path, ANY_VERSION)
    }

    /// `zk.get(path, watch)`: data and stat.
    ///
    /// # Errors
    ///
    /// The server's error or `ConnectionLoss`.
    pub fn get(&self, path: &str, watch: bool) -> Result<(Vec<u8>, Stat), ClientError> {
        match self.request(Request::GetData {
            path: path.to_owned(),
            watch,
        })? {
            Reply::Data(d, s) => Ok((d, s)),
            other => unreachable!("get answered {other}"),
        }
    }

    /// `zk.set(path, value, version)`: the new stat.
    ///
    /// # Errors
    ///
    /// The server's error or `ConnectionLoss`.
    pub fn set(&self, path: &str, data: &[u8], version: i32) -> Result<Stat, ClientError> {
        match self.request(Request::SetData {
            path: path.to_owned(),
            data: data.to_vec(),
            version,
        })? {
            Reply::Stat(s) => Ok(s),
            other => unreachable!("set answered {other}"),
        }
    }

    /// `zk.exists(path, watch)`.
    ///
    /// # Errors
    ///
    /// The server's error or `ConnectionLoss`.
    pub fn exists(&self, path: &str, watch: bool) -> Result<Option<Stat>, ClientError> {
        match self.request(Request::Exists {
            path: path.to_owned(),
            watch,
        })? {
            Reply::Exists(s) => Ok(s),
            other => unreachable!("exists answered {other}"),
        }
    }

    /// `zk.get_children(path, watch)`: unsorted names.
    ///
    /// # Errors
    ///
    /// The server's error or `ConnectionLoss`.
    pub fn get_children(&self, path: &str, watch: bool) -> Result<Vec<String>, ClientError> {
        match self.request(Request::GetChildren {
            path: path.to_owned(),
            watch,
        })? {
            Reply::Children(c) => Ok(c),
            other => unreachable!("get_children answered {other}"),
        }
    }

    /// A heartbeat.
    ///
    /// # Errors
    ///
    /// `SessionExpiredError` or `ConnectionLoss`.
    pub fn ping(&self) -> Result<(), ClientError> {
        self.request(Request::Ping).map(|_| ())
    }

    /// `zk.stop(); zk.close()`: closes the session (its ephemeral nodes go at once).
    ///
    /// # Errors
    ///
    /// `ConnectionLoss` (the session then lives until it expires).
    pub fn close(&self) -> Result<(), ClientError> {
        if self.session().is_none() {
            return Ok(());
        }
        let r = self.request(Request::Close).map(|_| ());
        self.st().session = None;
        r
    }

    fn ping_if_due(&self) {
        let due = {
            let st = self.st();
            st.session.is_some()
                && B::now().0.saturating_sub(st.last_sent) >= st.negotiated_ms * 1_000_000 / 3
        };
        if due {
            let _ = self.ping();
        }
    }

    /// `time.sleep(d)` while the client's connection thread keeps the session alive: sleeps
    /// in slices of a third of the timeout and pings between them.
    pub fn sleep(&self, d: Duration) {
        let slice = Duration::from_millis((self.negotiated_ms() / 3).max(1));
        let end = B::now().0 + u64::try_from(d.as_nanos()).unwrap_or(u64::MAX);
        loop {
            let now = B::now().0;
            if now >= end {
                return;
            }
            let left = Duration::from_nanos(end - now);
            B::sleep(left.min(slice));
            self.ping_if_due();
        }
    }

    /// Waits up to `timeout` for a watch event of this session (pinging when due); `None`
    /// when none came. Also runs the server's session expirer when a session's deadline has
    /// passed.
    pub fn wait_event(&self, timeout: Duration) -> Option<WatchEvent> {
        let end = B::now().0 + u64::try_from(timeout.as_nanos()).unwrap_or(u64::MAX);
        loop {
            if let Some(e) = self.take_event() {
                return Some(e);
            }
            let now = B::now().0;
            if now >= end {
                return None;
            }
            B::sleep(self.poll.min(Duration::from_nanos(end - now)));
            self.ping_if_due();
        }
    }

    /// The next event of this session, if any: first those already handed over, then the
    /// server's queue (its expirer runs first).
    fn take_event(&self) -> Option<WatchEvent> {
        if let Some(e) = self.st().inbox.pop_front() {
            return Some(e);
        }
        let s = self.session()?;
        let ready = self.server.inspect(|zk, clock| {
            zk.pending_events(s).next().is_some()
                || zk.next_expiry().is_some_and(|d| d <= clock.mono)
        });
        if !ready {
            return None;
        }
        let Delivered(events) = self.server.tick("deliver watch events", move |zk, clock| {
            zk.expire_overdue(clock);
            Delivered(zk.take_events(s))
        });
        let mut st = self.st();
        st.inbox.extend(events);
        st.inbox.pop_front()
    }
}

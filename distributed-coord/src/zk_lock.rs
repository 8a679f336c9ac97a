//! The ZooKeeper exclusive lock (DISTRIBUTED.md §3.4, "ZooKeeper Recipes and Solutions"):
//! an EPHEMERAL_SEQUENTIAL node under the lock path, children sorted by their sequence
//! suffix, and a watch on the predecessor only (a release wakes one waiter: no herd).
//!
//! The fencing token is the lock node's `czxid` (§3.5): every later grant's node is created by
//! a later write, so its `czxid` is larger. The lock lives exactly as long as the session: a
//! session that expired (§3.1) or was closed means the lock is [`LockError::Lost`]. Node names
//! carry a unique prefix (`_c_<owner>-lock-`) so that a create whose reply was lost with the
//! connection can be found again after reconnecting (ghost nodes, §3.2).

use crate::runtime::Driver;
use crate::unique_id;
use lockproof_distributed::LockError;
use std::time::{Duration, Instant};
use zookeeper_client as zk;

/// The most time a connect may take before the server is called unreachable.
const CONNECT_LIMIT: Duration = Duration::from_secs(10);
/// The most time one request may take (a reply, or the client's own timeout).
const REQUEST_LIMIT: Duration = Duration::from_secs(15);

/// A client of one named ZooKeeper lock: one session, one lock path.
pub struct ZkLock {
    // Declared before the driver: dropped first, so that the session's close request is
    // still sent by the runtime (see `Drop`).
    client: Option<zk::Client>,
    driver: Driver,
    servers: String,
    path: String,
}

impl std::fmt::Debug for ZkLock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ZkLock")
            .field("servers", &self.servers)
            .field("path", &self.path)
            .field("session", &self.session_id())
            .finish()
    }
}

/// A held ZooKeeper lock: the lock node, its fencing token and the owning session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ZkGuard {
    /// The full path of the lock node (`<lock path>/_c_<owner>-lock-<10 digits>`).
    pub node: String,
    /// The fencing token: the lock node's `czxid`, larger than every earlier grant's.
    pub token: i64,
    /// The session that owns the lock node (its `ephemeralOwner`).
    pub session: i64,
}

/// Where a contender's node stands in the queue.
enum Position {
    /// Lowest sequence number: the lock is held.
    Held,
    /// The name of the node immediately below.
    Behind(String),
}

/// The 10-digit sequence suffix of a child name.
fn sequence(name: &str) -> Option<i64> {
    let digits = name.get(name.len().checked_sub(10)?..)?;
    if digits.bytes().all(|b| b.is_ascii_digit()) {
        digits.parse().ok()
    } else {
        None
    }
}

impl ZkLock {
    /// Connects to `servers` (`host:port[,host:port…]`) asking for `session_timeout`, and
    /// makes sure the persistent lock path exists.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use lockproof_distributed_coord::zk_lock::ZkLock;
    /// use std::time::Duration;
    ///
    /// let mut lock = ZkLock::connect("127.0.0.1:2181", "/locks/job", Duration::from_secs(2))?;
    /// if let Some(g) = lock.acquire(Duration::from_secs(5))? {
    ///     println!("held with fencing token {}", g.token);
    ///     lock.release(&g)?;
    /// }
    /// # Ok::<(), lockproof_distributed::LockError>(())
    /// ```
    pub fn connect(
        servers: &str,
        path: &str,
        session_timeout: Duration,
    ) -> Result<ZkLock, LockError> {
        let unreachable = |why: String| {
            LockError::Unreachable(format!("ZooKeeper at {servers} unreachable: {why}"))
        };
        if !path.starts_with('/') || path.ends_with('/') || path.len() < 2 {
            return Err(LockError::Server(format!(
                "ZooKeeper lock path {path:?} must be absolute and not end with '/'"
            )));
        }
        let driver = Driver::start("zk").map_err(unreachable)?;
        let connecting = zk::Client::connector()
            .with_session_timeout(session_timeout)
            .with_fail_eagerly()
            .connect(servers);
        let client = match driver.block_on_within(CONNECT_LIMIT, connecting) {
            None => return Err(unreachable(format!("no session within {CONNECT_LIMIT:?}"))),
            Some(Err(e)) => return Err(unreachable(one_line(&e))),
            Some(Ok(c)) => c,
        };
        let lock = ZkLock {
            client: Some(client),
            driver,
            servers: servers.to_string(),
            path: path.to_string(),
        };
        let options = zk::CreateMode::Persistent.with_acls(zk::Acls::anyone_all());
        // `mkdir -p`: an existing path is fine.
        lock.run(lock.client().mkdir(path, &options))?;
        Ok(lock)
    }

    fn client(&self) -> &zk::Client {
        self.client.as_ref().expect("the client lives until drop")
    }

    /// Runs one request, bounded by [`REQUEST_LIMIT`], errors mapped to [`LockError`].
    fn run<T>(
        &self,
        fut: impl std::future::Future<Output = Result<T, zk::Error>>,
    ) -> Result<T, LockError> {
        match self.driver.block_on_within(REQUEST_LIMIT, fut) {
            None => Err(LockError::Unreachable(format!(
                "ZooKeeper at {} unreachable: no reply within {REQUEST_LIMIT:?}",
                self.servers
            ))),
            Some(r) => r.map_err(|e| self.error(&e)),
        }
    }

    fn error(&self, e: &zk::Error) -> LockError {
        match e {
            zk::Error::SessionExpired | zk::Error::ClientClosed => LockError::Lost,
            zk::Error::ConnectionLoss | zk::Error::Timeout | zk::Error::NoHosts => {
                LockError::Unreachable(format!(
                    "ZooKeeper at {} unreachable: {}",
                    self.servers,
                    one_line(e)
                ))
            }
            other => LockError::Server(format!("ZooKeeper error: {}", one_line(other))),
        }
    }

    fn exists(&self, path: &str) -> Result<bool, LockError> {
        Ok(self.run(self.client().check_stat(path))?.is_some())
    }

    /// The session id (the `ephemeralOwner` of this client's nodes).
    pub fn session_id(&self) -> i64 {
        self.client.as_ref().map_or(0, |c| c.session_id().0)
    }

    /// The session timeout the server granted (not the requested one, §3.1).
    pub fn negotiated_timeout(&self) -> Duration {
        self.client().session_timeout()
    }

    /// Whether the session has ended (expired, closed or failed authentication): every lock
    /// it held is lost, and this client can take no other.
    pub fn session_ended(&self) -> bool {
        self.client().state().is_terminated()
    }

    /// The lock path.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// Creates this contender's node; after a lost connection, finds it again by its unique
    /// prefix (or creates it when the create never reached the server).
    fn enter(&self) -> Result<ZkGuard, LockError> {
        let unique = format!("_c_{}-lock-", unique_id());
        let prefix = format!("{}/{unique}", self.path);
        let options = zk::CreateMode::EphemeralSequential.with_acls(zk::Acls::anyone_all());
        let session = self.session_id();
        match self.run(self.client().create(&prefix, b"", &options)) {
            Ok((stat, seq)) => Ok(ZkGuard {
                node: format!("{prefix}{seq}"),
                token: stat.czxid,
                session,
            }),
            Err(LockError::Unreachable(why)) => {
                // The reply was lost: the node may exist (a ghost). The client reconnects by
                // itself; look for the prefix once the session answers again.
                let kids = self
                    .run(self.client().list_children(&self.path))
                    .map_err(|_| LockError::Unreachable(why.clone()))?;
                match kids.iter().find(|k| k.starts_with(&unique)) {
                    Some(name) => {
                        let node = format!("{}/{name}", self.path);
                        let stat = self
                            .run(self.client().check_stat(&node))?
                            .ok_or(LockError::Lost)?;
                        Ok(ZkGuard {
                            node,
                            token: stat.czxid,
                            session,
                        })
                    }
                    None => Err(LockError::Unreachable(why)),
                }
            }
            Err(e) => Err(e),
        }
    }

    /// Where `g`'s node stands among the children sorted by sequence suffix.
    fn position(&self, g: &ZkGuard) -> Result<Position, LockError> {
        let mut kids: Vec<(i64, String)> = self
            .run(self.client().list_children(&self.path))?
            .into_iter()
            .filter_map(|k| sequence(&k).map(|s| (s, k)))
            .collect();
        kids.sort();
        let name = g.node.rsplit('/').next().unwrap_or_default();
        match kids.iter().position(|(_, k)| k == name) {
            // Our node is gone: the session expired (or someone deleted it).
            None => Err(LockError::Lost),
            Some(0) => Ok(Position::Held),
            Some(i) => Ok(Position::Behind(kids[i - 1].1.clone())),
        }
    }

    /// Deletes a contender's node that gave up waiting.
    fn leave(&self, g: &ZkGuard) -> Result<(), LockError> {
        match self.run(self.client().delete(&g.node, None)) {
            Ok(()) => Ok(()),
            Err(LockError::Server(_)) if !self.exists(&g.node)? => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// One attempt: the guard, or `Ok(None)` when another contender is ahead (this
    /// contender's node is removed again, as kazoo's `acquire(blocking=False)` does).
    pub fn try_acquire(&mut self) -> Result<Option<ZkGuard>, LockError> {
        self.acquire(Duration::ZERO)
    }

    /// Waits at most `limit` for the lock, watching only the node just ahead; `Ok(None)`
    /// when the time ran out (this contender's node is removed again).
    pub fn acquire(&mut self, limit: Duration) -> Result<Option<ZkGuard>, LockError> {
        let end = Instant::now() + limit;
        let g = self.enter()?;
        match self.wait_turn(&g, end) {
            Ok(true) => Ok(Some(g)),
            Ok(false) => {
                self.leave(&g)?;
                Ok(None)
            }
            Err(e) => {
                // Best effort: a contender that cannot wait must not stay in the queue (its
                // node goes with the session anyway when the session is lost).
                let _ = self.leave(&g);
                Err(e)
            }
        }
    }

    /// Waits until `g` is first (true) or `end` passes (false), watching only the node
    /// just ahead and re-listing when it goes.
    fn wait_turn(&self, g: &ZkGuard, end: Instant) -> Result<bool, LockError> {
        loop {
            let pred = match self.position(g)? {
                Position::Held => return Ok(true),
                Position::Behind(pred) => format!("{}/{pred}", self.path),
            };
            let watched = self.run(self.client().check_and_watch_stat(&pred))?;
            let (Some(_), watcher) = watched else {
                // Gone between the listing and the watch: look again.
                continue;
            };
            let left = end.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Ok(false);
            }
            match self.driver.block_on_within(left, watcher.changed()) {
                None => return Ok(false),
                Some(ev)
                    if ev.event_type == zk::EventType::Session
                        && ev.session_state.is_terminated() =>
                {
                    return Err(LockError::Lost);
                }
                Some(_) => {}
            }
        }
    }

    /// Whether `g` is still held: its node exists and belongs to this session.
    pub fn check(&self, g: &ZkGuard) -> Result<(), LockError> {
        if g.session != self.session_id() {
            return Err(LockError::NotOwner);
        }
        match self.run(self.client().check_stat(&g.node))? {
            None => Err(LockError::Lost),
            Some(stat) if stat.czxid != g.token || stat.ephemeral_owner != g.session => {
                Err(LockError::NotOwner)
            }
            Some(_) => Ok(()),
        }
    }

    /// Releases `g` (deletes its node), only if this session still holds it.
    pub fn release(&mut self, g: &ZkGuard) -> Result<(), LockError> {
        self.check(g)?;
        match self.run(self.client().delete(&g.node, None)) {
            Err(LockError::Server(_)) if !self.exists(&g.node)? => Err(LockError::Lost),
            r => r,
        }
    }

    /// The children of the lock path (contenders' node names), unsorted as the server
    /// returns them.
    pub fn contenders(&self) -> Result<Vec<String>, LockError> {
        self.run(self.client().list_children(&self.path))
    }
}

impl Drop for ZkLock {
    fn drop(&mut self) {
        // The last handle closes the session (zookeeper-client has no close()): the session
        // task sends the close request while the driver drains, so the nodes go at once.
        drop(self.client.take());
    }
}

fn one_line(e: &dyn std::fmt::Display) -> String {
    e.to_string().replace('\n', " ")
}

#[cfg(test)]
mod tests {
    use super::sequence;

    #[test]
    fn sequence_suffix_parses_ten_digits_only() {
        assert_eq!(sequence("_c_x-lock-0000000042"), Some(42));
        assert_eq!(sequence("lock-000000004"), None);
        assert_eq!(sequence("plain"), None);
        assert_eq!(sequence(""), None);
    }
}

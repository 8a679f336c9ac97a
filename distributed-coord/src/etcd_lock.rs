//! An etcd v3 lock (DISTRIBUTED.md §4.4, the shape of Go's `concurrency.Mutex`): each
//! acquisition grants a lease kept alive in the background, creates `<prefix>/<lease hex>` in
//! a `Txn` (`If create_revision == 0`), then waits — watching the next lower key only — until
//! every key under the prefix with a smaller create revision is deleted.
//!
//! The fencing token is the key's create revision (§4.4 "Fencing"): unique and increasing
//! across grants. A lease that expired (its holder paused past the TTL, §5.1) or was revoked
//! deletes the key: the holder's next operation reports [`LockError::Lost`].

use crate::runtime::Driver;
use etcd_client::{
    Client, Compare, CompareOp, ConnectOptions, EventType, GetOptions, PutOptions, SortOrder,
    SortTarget, Txn, TxnOp, TxnOpResponse, WatchOptions,
};
use lockproof_distributed::LockError;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The most time a connect or one request may take.
const REQUEST_LIMIT: Duration = Duration::from_secs(10);

/// A client of one named etcd lock: one connection, one key prefix, one lease TTL.
pub struct EtcdLock {
    client: Client,
    held: Option<Held>,
    driver: Driver,
    endpoint: String,
    prefix: String,
    ttl_s: i64,
}

impl std::fmt::Debug for EtcdLock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EtcdLock")
            .field("endpoint", &self.endpoint)
            .field("prefix", &self.prefix)
            .field("ttl_s", &self.ttl_s)
            .finish()
    }
}

/// The background renewal of the lease of the current acquisition.
struct Held {
    lease: i64,
    renewing: Arc<AtomicBool>,
    keeper: tokio::task::JoinHandle<()>,
}

/// A held etcd lock: the lock key, its fencing token and its lease.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EtcdGuard {
    /// The lock key, `<prefix>/<lease id in hex>`.
    pub key: String,
    /// The fencing token: the key's create revision, larger than every earlier grant's.
    pub token: i64,
    /// The lease the key is attached to.
    pub lease: i64,
}

fn one_line(e: &dyn std::fmt::Display) -> String {
    e.to_string().replace('\n', " ")
}

impl EtcdLock {
    /// Connects to `endpoint` (`host:port`) for the lock under `prefix`, each acquisition
    /// on a lease of `ttl` (rounded up to whole seconds; etcd raises it to its minimum, §4.2).
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use lockproof_distributed_coord::etcd_lock::EtcdLock;
    /// use std::time::Duration;
    ///
    /// let mut lock = EtcdLock::connect("127.0.0.1:2379", "locks/job", Duration::from_secs(5))?;
    /// if let Some(g) = lock.acquire(Duration::from_secs(5))? {
    ///     println!("held with fencing token {}", g.token);
    ///     lock.release(&g)?;
    /// }
    /// # Ok::<(), lockproof_distributed::LockError>(())
    /// ```
    pub fn connect(endpoint: &str, prefix: &str, ttl: Duration) -> Result<EtcdLock, LockError> {
        let unreachable =
            |why: String| LockError::Unreachable(format!("etcd at {endpoint} unreachable: {why}"));
        if prefix.is_empty() || prefix.ends_with('/') {
            return Err(LockError::Server(format!(
                "etcd lock prefix {prefix:?} must be non-empty and not end with '/'"
            )));
        }
        let driver = Driver::start("etcd").map_err(unreachable)?;
        let options = ConnectOptions::new()
            .with_connect_timeout(REQUEST_LIMIT)
            .with_timeout(REQUEST_LIMIT);
        let connecting = async {
            let mut c = Client::connect([format!("http://{endpoint}")], Some(options)).await?;
            // The channel connects lazily: one request proves the server answers.
            c.status().await?;
            Ok::<Client, etcd_client::Error>(c)
        };
        let client = match driver.block_on_within(REQUEST_LIMIT, connecting) {
            None => return Err(unreachable(format!("no answer within {REQUEST_LIMIT:?}"))),
            Some(Err(e)) => return Err(unreachable(one_line(&e))),
            Some(Ok(c)) => c,
        };
        let secs = ttl.as_secs() + u64::from(ttl.subsec_nanos() > 0);
        Ok(EtcdLock {
            client,
            held: None,
            driver,
            endpoint: endpoint.to_string(),
            prefix: prefix.to_string(),
            ttl_s: i64::try_from(secs.max(1)).unwrap_or(i64::MAX),
        })
    }

    fn run<T>(
        &self,
        fut: impl std::future::Future<Output = Result<T, etcd_client::Error>>,
    ) -> Result<T, LockError> {
        match self.driver.block_on_within(REQUEST_LIMIT, fut) {
            None => Err(LockError::Unreachable(format!(
                "etcd at {} unreachable: no reply within {REQUEST_LIMIT:?}",
                self.endpoint
            ))),
            Some(r) => r.map_err(|e| self.error(&e)),
        }
    }

    fn error(&self, e: &etcd_client::Error) -> LockError {
        match e {
            etcd_client::Error::GRpcStatus(s) if s.message().contains("lease not found") => {
                LockError::Lost
            }
            etcd_client::Error::GRpcStatus(s)
                if matches!(
                    s.code(),
                    tonic::Code::Unavailable | tonic::Code::DeadlineExceeded
                ) =>
            {
                LockError::Unreachable(format!(
                    "etcd at {} unreachable: {}",
                    self.endpoint,
                    one_line(&s.message())
                ))
            }
            etcd_client::Error::GRpcStatus(s) => {
                LockError::Server(format!("etcd error: {}", one_line(&s.message())))
            }
            etcd_client::Error::TransportError(_) | etcd_client::Error::IoError(_) => {
                LockError::Unreachable(format!(
                    "etcd at {} unreachable: {}",
                    self.endpoint,
                    one_line(e)
                ))
            }
            other => LockError::Server(format!("etcd error: {}", one_line(other))),
        }
    }

    /// The granted TTL of this lock's leases, as asked (etcd may raise it, §4.2).
    pub fn ttl_seconds(&self) -> i64 {
        self.ttl_s
    }

    /// Whether the background renewal of the current acquisition's lease still runs (it
    /// stops when a keep-alive finds the lease gone or the server unreachable).
    pub fn renewing(&self) -> bool {
        self.held
            .as_ref()
            .is_some_and(|h| h.renewing.load(Ordering::SeqCst))
    }

    /// Grants a lease and starts renewing it every third of its TTL.
    fn grant(&mut self) -> Result<i64, LockError> {
        let mut c = self.client.clone();
        let ttl = self.ttl_s;
        let lease = self.run(c.lease_grant(ttl, None))?;
        let (id, granted) = (lease.id(), lease.ttl().max(1));
        let renewing = Arc::new(AtomicBool::new(true));
        let flag = renewing.clone();
        let keeper = self.driver.spawn(async move {
            let every = Duration::from_millis(u64::try_from(granted).unwrap_or(1) * 1000 / 3);
            if let Ok((mut keeper, mut stream)) = c.lease_keep_alive(id).await {
                loop {
                    tokio::time::sleep(every).await;
                    if keeper.keep_alive().await.is_err() {
                        break;
                    }
                    match stream.message().await {
                        Ok(Some(r)) if r.ttl() > 0 => {}
                        _ => break,
                    }
                }
            }
            flag.store(false, Ordering::SeqCst);
        });
        if let Some(old) = self.held.replace(Held {
            lease: id,
            renewing,
            keeper,
        }) {
            old.keeper.abort();
        }
        Ok(id)
    }

    /// Stops renewing and revokes the current lease (its key goes with it).
    fn drop_lease(&mut self) -> Result<(), LockError> {
        let Some(held) = self.held.take() else {
            return Ok(());
        };
        held.keeper.abort();
        let mut c = self.client.clone();
        match self.run(c.lease_revoke(held.lease)) {
            Ok(_) | Err(LockError::Lost) => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// Creates this contender's key on a fresh lease; its create revision is the token.
    fn enter(&mut self) -> Result<EtcdGuard, LockError> {
        let lease = self.grant()?;
        let key = format!("{}/{lease:x}", self.prefix);
        let txn = Txn::new()
            .when([Compare::create_revision(key.as_str(), CompareOp::Equal, 0)])
            .and_then([TxnOp::put(
                key.as_str(),
                "",
                Some(PutOptions::new().with_lease(lease)),
            )])
            .or_else([TxnOp::get(key.as_str(), None)]);
        let mut c = self.client.clone();
        let resp = self.run(c.txn(txn))?;
        let token = if resp.succeeded() {
            resp.header().map_or(0, |h| h.revision())
        } else {
            // The key exists already (a retried Txn): it is ours, keep its revision.
            resp.op_responses()
                .iter()
                .find_map(|r| match r {
                    TxnOpResponse::Get(g) => g.kvs().first().map(|kv| kv.create_revision()),
                    _ => None,
                })
                .ok_or(LockError::Lost)?
        };
        Ok(EtcdGuard { key, token, lease })
    }

    /// The key just below `g` (largest create revision smaller than the token), and the
    /// store revision of the read; `None` when `g` is first.
    fn predecessor(&self, g: &EtcdGuard) -> Result<Option<(String, i64)>, LockError> {
        let options = GetOptions::new()
            .with_prefix()
            .with_max_create_revision(g.token - 1)
            .with_sort(SortTarget::Create, SortOrder::Descend)
            .with_limit(1);
        let mut c = self.client.clone();
        let resp = self.run(c.get(format!("{}/", self.prefix), Some(options)))?;
        let rev = resp.header().map_or(0, |h| h.revision());
        Ok(resp
            .kvs()
            .first()
            .map(|kv| (String::from_utf8_lossy(kv.key()).into_owned(), rev)))
    }

    /// Waits until `key` is deleted at a revision after `rev`, at most `left`; whether it was.
    fn wait_deleted(&self, key: &str, rev: i64, left: Duration) -> Result<bool, LockError> {
        let mut c = self.client.clone();
        let options = WatchOptions::new().with_start_revision(rev + 1);
        let waiting = async move {
            let mut stream = c.watch(key, Some(options)).await?;
            while let Some(msg) = stream.message().await? {
                if msg
                    .events()
                    .iter()
                    .any(|e| e.event_type() == EventType::Delete)
                {
                    return Ok(true);
                }
            }
            Ok(false)
        };
        match self.driver.block_on_within(left, waiting) {
            None => Ok(false),
            Some(r) => r.map_err(|e| self.error(&e)),
        }
    }

    /// One attempt: the guard, or `Ok(None)` when another contender is ahead (this
    /// contender's key and lease are removed again).
    pub fn try_acquire(&mut self) -> Result<Option<EtcdGuard>, LockError> {
        self.acquire(Duration::ZERO)
    }

    /// Waits at most `limit` for the lock, watching only the key just ahead; `Ok(None)` when
    /// the time ran out (this contender's key and lease are removed again).
    pub fn acquire(&mut self, limit: Duration) -> Result<Option<EtcdGuard>, LockError> {
        let end = Instant::now() + limit;
        let waited = self.enter().and_then(|g| Ok((self.wait_turn(&g, end)?, g)));
        match waited {
            Ok((true, g)) => Ok(Some(g)),
            Ok((false, _)) => {
                self.drop_lease()?;
                Ok(None)
            }
            Err(e) => {
                // Best effort: the key goes with its lease.
                let _ = self.drop_lease();
                Err(e)
            }
        }
    }

    /// Waits until no key under the prefix is older than `g` (true) or `end` passes (false).
    fn wait_turn(&self, g: &EtcdGuard, end: Instant) -> Result<bool, LockError> {
        loop {
            let Some((pred, rev)) = self.predecessor(g)? else {
                return Ok(true);
            };
            let left = end.saturating_duration_since(Instant::now());
            if left.is_zero() || !self.wait_deleted(&pred, rev, left)? {
                return Ok(false);
            }
        }
    }

    /// Whether `g` is still held: its key exists with the guard's create revision and lease.
    ///
    /// A guard of another client (or of an earlier acquisition of this one) whose key still
    /// exists is [`LockError::NotOwner`]; a key that is gone is [`LockError::Lost`].
    pub fn check(&self, g: &EtcdGuard) -> Result<(), LockError> {
        let mut c = self.client.clone();
        let resp = self.run(c.get(g.key.as_str(), None))?;
        let live = resp
            .kvs()
            .first()
            .is_some_and(|kv| kv.create_revision() == g.token && kv.lease() == g.lease);
        let ours = self.held.as_ref().map(|h| h.lease) == Some(g.lease);
        match (live, ours) {
            (false, _) => Err(LockError::Lost),
            (true, false) => Err(LockError::NotOwner),
            (true, true) => Ok(()),
        }
    }

    /// Releases `g`: deletes its key only if it is still the one created for `g` (a `Txn` on
    /// the create revision), then revokes its lease.
    pub fn release(&mut self, g: &EtcdGuard) -> Result<(), LockError> {
        if self.held.as_ref().map(|h| h.lease) != Some(g.lease) {
            return self.check(g);
        }
        let txn = Txn::new()
            .when([Compare::create_revision(
                g.key.as_str(),
                CompareOp::Equal,
                g.token,
            )])
            .and_then([TxnOp::delete(g.key.as_str(), None)]);
        let mut c = self.client.clone();
        let deleted = self.run(c.txn(txn))?.succeeded();
        self.drop_lease()?;
        if deleted {
            Ok(())
        } else {
            Err(LockError::Lost)
        }
    }
}

impl Drop for EtcdLock {
    fn drop(&mut self) {
        // A lock dropped while held gives its lease back at once rather than after the TTL.
        let _ = self.drop_lease();
    }
}

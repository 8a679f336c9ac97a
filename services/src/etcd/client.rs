//! A client of the etcd twin over the simulation's network: requests as data, the watch
//! stream read by polling, and the concurrency Mutex driven request by request.

use super::concurrency::{Mutex, RecipeError, Step};
use super::{ClientId, Etcd, EtcdError, LeaseId, Request, Response, Revision, WatchResponse};
use crate::sim::{NetError, Node, Server};
use lockproof::backend::Backend;
use std::fmt;
use std::time::Duration;

/// A reply of the twin as a trace shows it: what etcdctl prints, or `Error: <message>`.
///
/// # Examples
///
/// ```
/// use lockproof_services::etcd::client::Reply;
/// use lockproof_services::etcd::EtcdError;
///
/// let r = Reply(Err(EtcdError::LeaseNotFound));
/// assert_eq!(r.to_string(), "Error: etcdserver: requested lease not found");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reply(pub Result<Response, EtcdError>);

impl fmt::Display for Reply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Ok(r) => write!(f, "{r}"),
            Err(e) => write!(f, "Error: {e}"),
        }
    }
}

/// The messages one read of a watch stream brought, as a trace shows them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Messages(pub Vec<WatchResponse>);

impl fmt::Display for Messages {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return f.write_str("(no message)");
        }
        for (i, m) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(" | ")?;
            }
            write!(
                f,
                "watch {}: {}",
                m.watch_id,
                m.to_string().replace('\n', " ")
            )?;
        }
        Ok(())
    }
}

/// Why [`EtcdClient::lock`] did not get the lock.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LockError {
    /// A request got no reply in time (it may have been applied).
    Net(NetError),
    /// The recipe failed (a server error, the session expired, …).
    Recipe(RecipeError),
}

impl fmt::Display for LockError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LockError::Net(e) => write!(f, "{e}"),
            LockError::Recipe(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for LockError {}

/// One client connection of `node` to an etcd server of the simulation: every request is
/// one [`Server::call`], and the connection's watch stream is read by polling it (one call
/// per read) — the simulation has no server push. Clones are the same connection.
///
/// # Examples
///
/// ```
/// use lockproof::backend::Std;
/// use lockproof_services::etcd::client::EtcdClient;
/// use lockproof_services::etcd::{ClientId, Etcd, PutRequest, Request};
/// use lockproof_services::sim::{Cluster, Faults};
///
/// let cluster = Cluster::<Std>::new(Faults::none());
/// let etcd = cluster.server("etcd", Etcd::new());
/// let c = EtcdClient::new(cluster.node("client-1"), etcd, ClientId(1));
/// let r = c.request(Request::Put(PutRequest::new("k", "v"))).unwrap();
/// assert_eq!(r.unwrap().to_string(), "OK");
/// ```
pub struct EtcdClient<B: Backend> {
    node: Node<B>,
    server: Server<Etcd, B>,
    id: ClientId,
}

impl<B: Backend> Clone for EtcdClient<B> {
    fn clone(&self) -> Self {
        EtcdClient {
            node: self.node.clone(),
            server: self.server.clone(),
            id: self.id,
        }
    }
}

impl<B: Backend> fmt::Debug for EtcdClient<B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EtcdClient")
            .field("node", &self.node)
            .field("id", &self.id)
            .finish()
    }
}

impl<B: Backend> EtcdClient<B> {
    /// A connection of `node` to `server`, its watch stream named `id`.
    pub fn new(node: Node<B>, server: Server<Etcd, B>, id: ClientId) -> Self {
        EtcdClient { node, server, id }
    }

    /// The node the client runs on.
    pub fn node(&self) -> &Node<B> {
        &self.node
    }

    /// Send one request; the outer error is the network's, the inner the server's.
    ///
    /// # Errors
    ///
    /// [`NetError::Timeout`] when no reply came back (the request may have been applied).
    pub fn request(&self, req: Request) -> Result<Result<Response, EtcdError>, NetError> {
        let id = self.id;
        let r = req.clone();
        self.server
            .call(&self.node, req, move |e, clock| {
                Reply(e.apply(id, &r, clock))
            })
            .map(|r| r.0)
    }

    /// Read the connection's watch stream: every message waiting (possibly none).
    ///
    /// # Errors
    ///
    /// [`NetError::Timeout`] when the read got no reply (the messages it drained are lost,
    /// as a broken stream loses them).
    pub fn watch_messages(&self) -> Result<Vec<WatchResponse>, NetError> {
        let id = self.id;
        self.server
            .call(&self.node, "watch stream read", move |e, clock| {
                e.expire_leases(clock);
                Messages(e.take_events(id))
            })
            .map(|m| m.0)
    }

    /// One keep-alive of `lease`: whether the server renewed it.
    pub fn keep_alive(&self, lease: LeaseId) -> bool {
        matches!(self.request(Request::LeaseKeepAlive(lease)), Ok(Ok(_)))
    }

    /// `Mutex.Lock`: run the recipe, reading the watch stream every `poll` while it waits.
    /// Returns the revision at which the lock was obtained.
    ///
    /// # Errors
    ///
    /// [`LockError::Net`] if a request got no reply, [`LockError::Recipe`] if the recipe
    /// failed.
    pub fn lock(&self, mutex: &mut Mutex, poll: Duration) -> Result<Revision, LockError> {
        let step = mutex.lock();
        self.run(mutex, step, poll)
    }

    /// `Mutex.Unlock`: delete our key.
    ///
    /// # Errors
    ///
    /// As [`EtcdClient::lock`].
    pub fn unlock(&self, mutex: &mut Mutex) -> Result<(), LockError> {
        let step = mutex.unlock();
        self.run(mutex, step, Duration::ZERO).map(|_| ())
    }

    fn run(
        &self,
        mutex: &mut Mutex,
        mut step: Step,
        poll: Duration,
    ) -> Result<Revision, LockError> {
        loop {
            step = match step {
                Step::Send(req) => {
                    let reply = self.request(req).map_err(LockError::Net)?;
                    mutex.on_reply(&reply)
                }
                Step::Wait => {
                    B::sleep(poll);
                    let mut next = Step::Wait;
                    for msg in self.watch_messages().map_err(LockError::Net)? {
                        if next == Step::Wait {
                            next = mutex.on_watch(&msg);
                        }
                    }
                    next
                }
                Step::Acquired { revision } => return Ok(revision),
                Step::Released => return Ok(0),
                Step::Failed(e) => return Err(LockError::Recipe(e)),
            };
        }
    }
}

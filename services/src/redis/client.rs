//! A thin client of the Redis twin on the simulation: one connection of one node, every
//! command one [`Server::call`].

use super::cmd::Cmd;
use super::reply::Reply;
use super::script::Script;
use super::server::{ConnId, Redis};
use crate::sim::{NetError, Node, Server};
use crate::time::ServerClock;
use lockproof::backend::Backend;
use std::fmt;

/// One connection from a client node to a Redis twin behind the simulated network.
///
/// Every method is one request: sent, applied by the twin in its own step, its reply
/// returned — or a [`NetError`] when the network lost or delayed it (the command may still
/// have been applied: §6.4).
///
/// # Examples
///
/// ```
/// use lockproof::backend::Std;
/// use lockproof_services::redis::{Cmd, Redis, RedisClient, Reply};
/// use lockproof_services::sim::{Cluster, Faults};
///
/// let cluster = Cluster::<Std>::new(Faults::none());
/// let server = cluster.server("redis", Redis::new());
/// let a = RedisClient::new(cluster.node("a"), server.clone());
/// assert_eq!(a.call(Cmd::set("k", "t1").nx().px(1000)), Ok(Reply::ok()));
/// let b = RedisClient::new(cluster.node("b"), server);
/// assert_eq!(b.call(Cmd::set("k", "t2").nx().px(1000)), Ok(Reply::Nil));
/// ```
pub struct RedisClient<B: Backend> {
    node: Node<B>,
    server: Server<Redis, B>,
    conn: ConnId,
}

impl<B: Backend> Clone for RedisClient<B> {
    fn clone(&self) -> Self {
        RedisClient {
            node: self.node.clone(),
            server: self.server.clone(),
            conn: self.conn,
        }
    }
}

impl<B: Backend> fmt::Debug for RedisClient<B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisClient")
            .field("node", &self.node.name())
            .field("server", &self.server.name())
            .finish()
    }
}

/// FNV-1a of a name: a connection id that is the same in every execution.
fn conn_of(name: &str, server: &str) -> ConnId {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in name.bytes().chain([0]).chain(server.bytes()) {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    ConnId(h)
}

impl<B: Backend> RedisClient<B> {
    /// The connection of `node` to `server`.
    pub fn new(node: Node<B>, server: Server<Redis, B>) -> Self {
        let conn = conn_of(node.name(), server.name());
        RedisClient { node, server, conn }
    }

    /// The node this client runs on.
    pub fn node(&self) -> &Node<B> {
        &self.node
    }

    /// The server this client talks to.
    pub fn server(&self) -> &Server<Redis, B> {
        &self.server
    }

    /// Sends one command.
    pub fn call(&self, cmd: Cmd) -> Result<Reply, NetError> {
        let conn = self.conn;
        let text = cmd.to_string();
        self.server
            .call(&self.node, text, move |r, clock| r.apply(conn, cmd, clock))
    }

    /// Sends one command; `observe` sees the twin, the request's reply and the server's
    /// clock in the same atomic step (a model's judge: who held the key when it was
    /// deleted), and its verdict is returned with the reply.
    pub fn call_observed<T: Send + fmt::Debug + 'static>(
        &self,
        cmd: Cmd,
        observe: impl FnOnce(&mut Redis, ConnId, ServerClock, &Reply) -> T + Send + 'static,
    ) -> Result<(Reply, T), NetError> {
        let conn = self.conn;
        let text = cmd.to_string();
        self.server
            .call(&self.node, text, move |r, clock| {
                let reply = r.apply(conn, cmd, clock);
                let seen = observe(r, conn, clock, &reply);
                Observed(reply, seen)
            })
            .map(|Observed(r, t)| (r, t))
    }

    /// `EVAL` of a script with keys and arguments.
    pub fn eval(&self, script: Script, keys: &[&str], args: &[&str]) -> Result<Reply, NetError> {
        self.call(Cmd::eval(script, keys, args))
    }
}

/// A reply with what an observer saw beside it; printed as the reply alone.
struct Observed<T>(Reply, T);

impl<T> fmt::Display for Observed<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

//! A master with replicas: asynchronous replication as a queue of effects per replica that
//! the caller delivers, holds or cuts, and failover by promoting a replica.

use super::cmd::Cmd;
use super::reply::Reply;
use super::server::{ConnId, Link, Persistence, Redis, Role};
use crate::time::ServerClock;

/// Servers `0..n`: one master and its replicas (at the start node 0 is the master).
///
/// The master replies to a write before any replica has it; each write's effect waits in
/// that replica's queue until [`ReplicaSet::deliver`] applies it (and the replica
/// acknowledges, which `WAIT` counts). [`ReplicaSet::cut`] loses what is queued (the stream
/// cut before delivery), and [`ReplicaSet::failover`] promotes a replica with whatever it
/// has: a lock granted on the old master can be lost and granted again (§1.5, check 28).
///
/// # Examples
///
/// ```
/// use lockproof_services::redis::{Cmd, ReplicaSet, Reply};
/// use lockproof_services::time::ServerClock;
///
/// let mut rs = ReplicaSet::new(1);
/// let t = ServerClock::at(1_000_000_000);
/// let a = rs.connect(0);
/// assert_eq!(rs.apply(0, a, Cmd::set("k", "t1").nx().px(60_000), t), Reply::ok());
/// rs.cut(1); // the replication stream is cut before the SET reached the replica
/// rs.failover(1); // the master dies, the replica is promoted
/// let b = rs.connect(1);
/// assert_eq!(rs.apply(1, b, Cmd::get("k"), t), Reply::Nil);
/// assert_eq!(rs.apply(1, b, Cmd::set("k", "t2").nx().px(60_000), t), Reply::ok());
/// ```
#[derive(Debug, Clone)]
pub struct ReplicaSet {
    nodes: Vec<Redis>,
    master: usize,
}

impl ReplicaSet {
    /// A master (node 0) without persistence and `replicas` synced, empty replicas.
    pub fn new(replicas: usize) -> ReplicaSet {
        ReplicaSet::with_persistence(replicas, Persistence::None)
    }

    /// As [`ReplicaSet::new`], every node with the given persistence.
    pub fn with_persistence(replicas: usize, persistence: Persistence) -> ReplicaSet {
        let mut nodes: Vec<Redis> = (0..=replicas)
            .map(|_| Redis::with_persistence(persistence))
            .collect();
        for node in nodes.iter_mut().skip(1) {
            node.set_role(Role::Replica);
        }
        nodes[0].links = (1..=replicas)
            .map(|id| Link {
                id,
                queue: Default::default(),
                acked: 0,
            })
            .collect();
        ReplicaSet { nodes, master: 0 }
    }

    /// The index of the current master.
    pub fn master(&self) -> usize {
        self.master
    }

    /// Node `i`.
    pub fn node(&self, i: usize) -> &Redis {
        &self.nodes[i]
    }

    /// Node `i`, mutably (for `active_expire`, `restart`, `close`, …).
    pub fn node_mut(&mut self, i: usize) -> &mut Redis {
        &mut self.nodes[i]
    }

    /// A new connection to node `i`.
    pub fn connect(&mut self, i: usize) -> ConnId {
        self.nodes[i].connect()
    }

    /// Applies a request on node `i` at that node's clock (a write on a replica gets
    /// `READONLY`).
    pub fn apply(&mut self, i: usize, conn: ConnId, cmd: Cmd, clock: ServerClock) -> Reply {
        self.nodes[i].apply(conn, cmd, clock)
    }

    /// Effects queued for replica `i`, not yet delivered.
    pub fn pending(&self, replica: usize) -> usize {
        self.link(replica).map_or(0, |l| l.queue.len())
    }

    fn link(&self, replica: usize) -> Option<&Link> {
        self.nodes[self.master]
            .links
            .iter()
            .find(|l| l.id == replica)
    }

    /// Delivers up to `max` queued effects to replica `i`, which applies and acknowledges
    /// them. Returns how many were delivered.
    pub fn deliver(&mut self, replica: usize, max: usize) -> usize {
        let master = self.master;
        let Some(link) = self.nodes[master]
            .links
            .iter_mut()
            .find(|l| l.id == replica)
        else {
            return 0;
        };
        let n = max.min(link.queue.len());
        let batch: Vec<_> = link.queue.drain(..n).collect();
        if let Some((offset, _)) = batch.last() {
            link.acked = *offset;
        }
        for (_, effect) in batch {
            self.nodes[replica].apply_effect(effect);
        }
        n
    }

    /// Delivers everything queued to every replica.
    pub fn deliver_all(&mut self) {
        for i in 0..self.nodes.len() {
            if i != self.master {
                self.deliver(i, usize::MAX);
            }
        }
    }

    /// Cuts replica `i`'s stream: the queued effects are lost (never delivered).
    pub fn cut(&mut self, replica: usize) {
        let master = self.master;
        if let Some(link) = self.nodes[master]
            .links
            .iter_mut()
            .find(|l| l.id == replica)
        {
            link.queue.clear();
        }
    }

    /// Node `i`'s process restarts with its persistence ([`Redis::restart`]). A restarted
    /// master's replicas resynchronise from what it kept (without persistence: nothing, so
    /// they lose every key too); a restarted replica resynchronises from the master.
    /// Connections to `i` are gone.
    pub fn restart(&mut self, i: usize) {
        self.nodes[i].restart();
        if i == self.master {
            let snapshot = self.nodes[i].clone();
            for (j, node) in self.nodes.iter_mut().enumerate() {
                if j != i {
                    node.full_sync(&snapshot);
                }
            }
        } else {
            let snapshot = self.nodes[self.master].clone();
            self.nodes[i].full_sync(&snapshot);
            if let Some(link) = self.nodes[self.master].links.iter_mut().find(|l| l.id == i) {
                link.queue.clear();
            }
        }
    }

    /// The master is gone and replica `new_master` is promoted with the key space it has.
    /// The old master and the other replicas become its replicas after a full
    /// resynchronisation (the old master's undelivered writes are lost); every connection
    /// to the old master is closed.
    pub fn failover(&mut self, new_master: usize) {
        let old = self.master;
        self.nodes[old].set_role(Role::Replica);
        self.nodes[old].drop_connections();
        self.nodes[new_master].set_role(Role::Master);
        let snapshot = self.nodes[new_master].clone();
        let mut links = Vec::new();
        for (i, node) in self.nodes.iter_mut().enumerate() {
            if i != new_master {
                node.full_sync(&snapshot);
                links.push(Link {
                    id: i,
                    queue: Default::default(),
                    acked: 0,
                });
            }
        }
        self.nodes[new_master].links = links;
        self.master = new_master;
    }
}

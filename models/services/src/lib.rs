//! The tutorial's distributed-lock examples (chapter 9) as lockproof scenarios.
//!
//! One module per section; each example `ex-9.S-NN` is a scenario with the same id,
//! modelled as written (same requests, same order, same use of the lock), scaled down to
//! 2–3 client processes, against the simulated services of `lockproof_services` (twins of
//! Redis, a SQL database, ZooKeeper and etcd), and asserting what the example claims.
//!
//! Conventions shared by every module:
//!
//! - **A client** is a process (`B::spawn_process`) driving one [`Node`] of a
//!   [`Cluster`]: its clocks are the node's (`time.time()` is [`Node::time`]); a pause or a
//!   crash of the process (`Scenario::pauses`, `Scenario::crashes`) stops all its threads,
//!   watchdogs included, while true time and the servers go on.
//! - **A request** is [`Server::call`]: sent in one step, applied by the twin in a later
//!   one, with the faults a scenario's [`Faults`] budget allows (lost request or reply,
//!   late delivery, partition, clock jump, server restart) chosen by the checker. A scenario
//!   with network faults or clock jumps needs a choice operator (`.needs_choice()`): loom
//!   has none.
//! - `time.sleep` is virtual; TTLs and sleeps are scaled down with their ratios kept.
//! - **What is judged is the protected resource**: a [`Storage`] that records every write
//!   in true time with its fencing token (and, fenced, rejects stale ones), a `Region`
//!   around each critical section (mutual exclusion in true time), counters and caches read
//!   back at the end.
//!
//! [`Node`]: lockproof_services::sim::Node
//! [`Node::time`]: lockproof_services::sim::Node::time
//! [`Cluster`]: lockproof_services::sim::Cluster
//! [`Server::call`]: lockproof_services::sim::Server::call
//! [`Faults`]: lockproof_services::sim::Faults
//! [`Storage`]: lockproof_services::sim::Storage

use lockproof_scenario::Scenario;

pub mod ch9_leases;
pub mod ch9_redis;
pub mod ch9_sql;
pub mod ch9_zookeeper;

/// Every scenario of this crate, in tutorial order.
pub fn scenarios() -> Vec<Scenario> {
    let mut v = Vec::new();
    v.extend(ch9_redis::scenarios());
    v.extend(ch9_sql::scenarios());
    v.extend(ch9_zookeeper::scenarios());
    v.extend(ch9_leases::scenarios());
    v
}

//! The simulation around the twins: nodes with their own clocks, a network whose faults are
//! checker choices, servers that apply one request per step, and the fenced storage that
//! judges who wrote.
//!
//! Everything here is generic over [`Backend`](lockproof::backend::Backend) and uses only
//! its public face (a visible atomic step, `now`, `sleep`, `choose_weighted`, `record`), so
//! the same code runs on real threads, under loom and under shuttle; only the backend
//! knows which.
//!
//! | piece | holds |
//! |---|---|
//! | [`Cluster`] | the fault budget of one execution and what was spent of it |
//! | [`Node`] | a client: its name and its clock (true time + offset + drift + jumps) |
//! | [`Server`] | a twin behind the network: `call` sends a request, the server applies it in one step, the reply comes back, or a fault happens |
//! | [`Storage`] | the protected resource: records every write in true time, and in fenced mode rejects tokens older than the newest it accepted |
//!
//! # Faults
//!
//! Each fault is a choice of the checker's engine at the point it can happen, drawn with
//! [`Backend::choose_weighted`](lockproof::backend::Backend::choose_weighted) (rare under a
//! random engine, every way under an enumerating one), recorded in the schedule like a
//! timeout, traced, and spent from the [`Faults`] budget of the [`Cluster`]:
//!
//! | fault | where | effect |
//! |---|---|---|
//! | lost request | a `call` | the server never applies it; the client times out |
//! | lost reply | a `call` | the server applied it; the client times out not knowing |
//! | late delivery | a `call` | the client times out; the server applies it after that |
//! | partition | a `call` | the client's node is cut from every server for a span: every message it sends meanwhile is lost |
//! | clock jump | a node's clock read, a server's request | the node's wall clock steps by ± the configured jump |
//! | server restart | a `call` | the server restarts before applying it (what survives is the twin's `restart`) |
//!
//! Pauses and crashes of a client are the checked world's process faults
//! (`Scenario::pauses`, `Scenario::crashes`): a node is driven by the threads of one
//! process, which stop together.
//!
//! # Examples
//!
//! ```
//! use lockproof::backend::Std;
//! use lockproof_services::sim::{Cluster, Faults};
//! use std::collections::BTreeMap;
//!
//! let cluster = Cluster::<Std>::new(Faults::none());
//! let kv = cluster.server("kv", BTreeMap::<String, u64>::new());
//! let client = cluster.node("client-1");
//! let old = kv.call(&client, "PUT a 1", |m, _clock| m.insert("a".into(), 1).is_some());
//! assert_eq!(old, Ok(false));
//! assert_eq!(kv.inspect(|m, _| m.get("a").copied()), Some(1));
//! ```

mod clock;
mod cluster;
mod node;
mod server;
mod storage;

pub use clock::NodeClock;
pub use cluster::{Cluster, Faults};
pub use node::Node;
pub use server::{NetError, Server};
pub use storage::{StaleToken, Storage, Write};

//! Lock services in deterministic simulation: the checked world of the tutorial's chapter 9.
//!
//! | module | holds |
//! |---|---|
//! | [`time`] | a server's clocks at the instant it applies a request |
//! | [`redis`] | a Redis-like store: strings, hashes, lists, TTLs in the server's wall clock, scripts, restart, replica and failover |
//! | [`sql`] | a SQL-like store: tables with unique keys, transactions, row locks, advisory locks, `now()` as transaction time |
//! | [`zookeeper`] | a ZooKeeper-like tree: sessions with timeouts, ephemeral and sequential nodes, one-shot watches |
//! | [`etcd`] | an etcd-like store: revisions, leases, compare-and-swap transactions, watches |
//! | [`sim`] | the simulation around them: nodes with their own clocks, a network whose faults are checker choices, the fenced storage that judges who wrote |
//!
//! Each twin is a plain deterministic state machine (no threads, no clock of its own: every
//! request is applied with the server's [`time::ServerClock`]), so the same twin runs under
//! the checker, in unit tests, and beside the real server in differential tests.

pub mod etcd;
pub mod redis;
pub mod sim;
pub mod sql;
pub mod time;
pub mod zookeeper;

//! A Redis 7.0 twin: the commands chapter 9's locks use, as a deterministic state machine
//! (DISTRIBUTED.md §1, §5.4, §6.2, §6.8).
//!
//! A request is a typed [`Cmd`] applied by [`Redis::apply`] as one atomic step at the
//! server's [`ServerClock`](crate::time::ServerClock); the [`Reply`] and [`RedisError`]
//! print as `redis-cli` shows them. Scripts are Rust functions standing for Lua text
//! ([`Script`], [`ScriptCtx`], [`Lua`]).
//!
//! Modelled:
//! - strings, hashes, lists: `GET SET(NX|XX|GET|EX|PX|KEEPTTL) SETEX GETDEL DEL EXISTS INCR INCRBY HINCRBY HGET HSET HDEL HLEN HEXISTS HGETALL LPUSH LTRIM LRANGE TIME DBSIZE`;
//! - TTLs as absolute deadlines in ms of the server's wall clock (jumps move expiry), with `EXPIRE/PEXPIRE` (NX/XX/GT/LT, ≤ 0 deletes), `TTL/PTTL` (TTL rounded), `PEXPIRETIME`, `PERSIST`;
//! - expiry: a key is present while `now_ms ≤ deadline` (Redis: expired iff `now > when`), reclaimed lazily on access and by [`Redis::active_expire`]; reclamation shows only in `DBSIZE`;
//! - the exact error replies of §1.1 (`ERR syntax error`, `ERR invalid expire time in 'set' command`, `WRONGTYPE …`, …) and their order of checks;
//! - `EVAL`/`EVALSHA`/`SCRIPT LOAD`/`SCRIPT EXISTS`: atomic, time frozen for expiry but `TIME` moving ([`ScriptCtx::spin`]), `redis.call` raising, `redis.pcall`, no rollback, Lua↔RESP conversions, SHA1 of the Lua text;
//! - `MULTI/EXEC/DISCARD/WATCH/UNWATCH`: no rollback of run-time errors, `WATCH` broken by any write (same value too) and by expiry of a watched key;
//! - restart ([`Redis::restart`]) with [`Persistence::None`] (all keys lost) or [`Persistence::AofAlways`] (all kept, downtime counts); the script cache is always lost;
//! - a client on the simulation ([`RedisClient`]): one connection of one node, each command one network call;
//! - replication ([`ReplicaSet`]): effects queued per replica, delivered, held or cut by the caller; `READONLY` on replicas; `WAIT` per connection ([`Reply::Blocked`], [`Redis::wait_count`]); failover by promotion.
//!
//! Not modelled:
//! - text parsing, RESP, arity and unknown-command errors (commands are typed), so no `EXECABORT` from queueing syntax errors (only from `READONLY` while queueing on a replica);
//! - the suffix real 7.0 adds to an error raised inside a script (`… script: <sha>, on @user_script:1.`): the twin replies with the command's own error;
//! - `BUSY` replies and `SCRIPT KILL` during a long script: the caller holds other clients' requests for [`Redis::busy_ns`];
//! - sampling in active expiry, keyspace notifications, memory limits and eviction, databases other than one;
//! - AOF `everysec` and RDB snapshots; partial resynchronisation (a failover resyncs fully);
//! - replicas acknowledging only periodically (delivery acknowledges at once); Redis Cluster, Sentinel's election (the caller picks the replica to promote).

mod client;
mod cmd;
mod replication;
mod reply;
mod script;
mod server;

pub use client::RedisClient;
pub use cmd::{Cmd, ExpireCond, IntArg, SetArgs};
pub use replication::ReplicaSet;
pub use reply::{RedisError, Reply};
pub use script::{Lua, Script, ScriptCtx, ScriptFn};
pub use server::{ConnId, Effect, Entry, Persistence, Redis, Role, Value};

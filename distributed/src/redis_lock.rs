//! A lock on one Redis server (DISTRIBUTED.md §1.6): the key holds the owner's unique value
//! with a TTL; a fencing token comes from `INCR` of a companion key in the same script as the
//! `SET NX PX`, so every acquisition gets a larger token than all before it.

use crate::{owner_id, LockError};
use redis::{Connection, Script};
use std::time::Duration;

/// `SET lock owner NX PX ttl`, then `INCR` of the token key; 0 when the lock is held.
const ACQUIRE: &str = "if redis.call('set', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then \
     return redis.call('incr', KEYS[2]) else return 0 end";
/// Compare-and-delete: 1 released, 0 another owner's, -1 absent.
const RELEASE: &str = "local v = redis.call('get', KEYS[1]) if v == ARGV[1] then \
     return redis.call('del', KEYS[1]) elseif v then return 0 else return -1 end";
/// Owner-comparing `PEXPIRE`: 1 extended, 0 another owner's, -1 absent.
const EXTEND: &str = "local v = redis.call('get', KEYS[1]) if v == ARGV[1] then \
     return redis.call('pexpire', KEYS[1], ARGV[2]) elseif v then return 0 else return -1 end";

/// A client of one named lock on one Redis server (one connection).
///
/// # Examples
///
/// Against the Redis that runs on 127.0.0.1:6379 on this project's machines and in CI:
///
/// ```
/// use lockproof_distributed::redis_lock::{RedisGuard, RedisLock};
/// use lockproof_distributed::LockError;
/// use std::time::Duration;
///
/// let key = format!("ref:doc:redis-lock:{}", std::process::id());
/// let url = "redis://127.0.0.1:6379/15";
/// let mut a = RedisLock::connect(url, &key, Duration::from_secs(10))?;
/// let mut b = RedisLock::connect(url, &key, Duration::from_secs(10))?;
/// let g = a.try_acquire()?.expect("free");
/// assert_eq!(b.try_acquire()?, None);
/// let forged = RedisGuard { owner: "someone else".into(), token: g.token };
/// assert_eq!(b.release(&forged), Err(LockError::NotOwner));
/// a.extend(&g)?;
/// a.release(&g)?;
/// let g2 = b.try_acquire()?.expect("free again");
/// assert!(g2.token > g.token);
/// b.release(&g2)?;
/// # redis::cmd("DEL").arg(format!("{key}:token")).exec(&mut redis::Client::open(url).unwrap().get_connection().unwrap()).unwrap();
/// # Ok::<(), LockError>(())
/// ```
pub struct RedisLock {
    url: String,
    con: Connection,
    key: String,
    ttl: Duration,
}

impl std::fmt::Debug for RedisLock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisLock")
            .field("url", &self.url)
            .field("key", &self.key)
            .field("ttl", &self.ttl)
            .finish()
    }
}

/// A held lock: the owner value in the key and the fencing token of this acquisition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedisGuard {
    /// The unique value stored in the lock key.
    pub owner: String,
    /// The fencing token: larger than every token handed out before on this server and key.
    pub token: u64,
}

fn unreachable(url: &str, e: &redis::RedisError) -> LockError {
    let line = e.to_string().replace('\n', " ");
    if e.code().is_some() {
        return LockError::Server(format!("Redis at {url} replied with an error: {line}"));
    }
    LockError::Unreachable(format!("Redis at {url} unreachable: {line}"))
}

impl RedisLock {
    /// Connects to `url` (`redis://host:port/db`) for the lock `key` with lease `ttl`; the
    /// token counter is `key` + `:token`.
    pub fn connect(url: &str, key: &str, ttl: Duration) -> Result<RedisLock, LockError> {
        let client = redis::Client::open(url).map_err(|e| unreachable(url, &e))?;
        let con = client
            .get_connection_with_timeout(Duration::from_secs(2))
            .map_err(|e| unreachable(url, &e))?;
        con.set_read_timeout(Some(Duration::from_secs(2)))
            .map_err(|e| unreachable(url, &e))?;
        Ok(RedisLock {
            url: url.to_string(),
            con,
            key: key.to_string(),
            ttl,
        })
    }

    /// Reconnects when the last request found the connection broken (the server restarted,
    /// or the network dropped it): the request that met the broken connection reported
    /// [`LockError::Unreachable`]; the next one runs on a new connection. A request is never
    /// retried here, since whether it reached the server is unknown.
    fn ensure_open(&mut self) -> Result<(), LockError> {
        if redis::ConnectionLike::is_open(&self.con) {
            return Ok(());
        }
        let fresh = RedisLock::connect(&self.url, &self.key, self.ttl)?;
        self.con = fresh.con;
        Ok(())
    }

    fn ttl_ms(&self) -> u64 {
        self.ttl.as_millis().max(1) as u64
    }

    /// One attempt: the guard, or `Ok(None)` when another owner holds the lock.
    pub fn try_acquire(&mut self) -> Result<Option<RedisGuard>, LockError> {
        self.ensure_open()?;
        let owner = owner_id();
        let token: u64 = Script::new(ACQUIRE)
            .key(&self.key)
            .key(format!("{}:token", self.key))
            .arg(&owner)
            .arg(self.ttl_ms())
            .invoke(&mut self.con)
            .map_err(|e| unreachable(&self.url, &e))?;
        Ok((token > 0).then_some(RedisGuard { owner, token }))
    }

    /// Tries until `deadline` passes, polling every `every`; `Ok(None)` when it never got it.
    pub fn acquire_within(
        &mut self,
        deadline: Duration,
        every: Duration,
    ) -> Result<Option<RedisGuard>, LockError> {
        let end = std::time::Instant::now() + deadline;
        loop {
            if let Some(g) = self.try_acquire()? {
                return Ok(Some(g));
            }
            if std::time::Instant::now() >= end {
                return Ok(None);
            }
            std::thread::sleep(every);
        }
    }

    fn owner_script(&mut self, text: &str, g: &RedisGuard) -> Result<(), LockError> {
        self.ensure_open()?;
        let r: i64 = Script::new(text)
            .key(&self.key)
            .arg(&g.owner)
            .arg(self.ttl_ms())
            .invoke(&mut self.con)
            .map_err(|e| unreachable(&self.url, &e))?;
        match r {
            1 => Ok(()),
            0 => Err(LockError::NotOwner),
            _ => Err(LockError::Lost),
        }
    }

    /// Releases `g` only if it is still the holder (compare-and-delete).
    pub fn release(&mut self, g: &RedisGuard) -> Result<(), LockError> {
        self.owner_script(RELEASE, g)
    }

    /// Sets the lease back to the full TTL, only if `g` is still the holder.
    pub fn extend(&mut self, g: &RedisGuard) -> Result<(), LockError> {
        self.owner_script(EXTEND, g)
    }
}

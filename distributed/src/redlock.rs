//! Redlock (DISTRIBUTED.md §1.8) over N independent Redis servers: the same unique value is
//! set with `SET NX PX` on each; the lock is held when a majority answered `OK` and the
//! validity `ttl − elapsed − drift` is still positive (drift = 1 % of the TTL + 2 ms, as the
//! reference implementations); otherwise every instance is released. Redlock hands out no
//! fencing token (§1.9): use it only where a token is not needed.

use crate::{owner_id, LockError};
use redis::{Connection, Script};
use std::time::{Duration, Instant};

const RELEASE: &str =
    "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end";

/// Clients of one key on N Redis servers (a connection per reachable server).
pub struct Redlock {
    urls: Vec<String>,
    key: String,
    ttl: Duration,
    timeout: Duration,
}

impl std::fmt::Debug for Redlock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Redlock")
            .field("urls", &self.urls)
            .field("key", &self.key)
            .field("ttl", &self.ttl)
            .finish()
    }
}

/// A Redlock held: its value and how long it is valid from the end of the acquisition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedlockGuard {
    /// The value set on the instances.
    pub owner: String,
    /// The validity left when acquisition ended.
    pub validity: Duration,
}

impl Redlock {
    /// A Redlock of `key` over `urls` with lease `ttl`; each instance gets `timeout` per request.
    pub fn new(urls: &[String], key: &str, ttl: Duration, timeout: Duration) -> Redlock {
        Redlock {
            urls: urls.to_vec(),
            key: key.to_string(),
            ttl,
            timeout,
        }
    }

    fn conn(&self, url: &str) -> Option<Connection> {
        let c = redis::Client::open(url)
            .ok()?
            .get_connection_with_timeout(self.timeout)
            .ok()?;
        c.set_read_timeout(Some(self.timeout)).ok()?;
        c.set_write_timeout(Some(self.timeout)).ok()?;
        Some(c)
    }

    /// One attempt over all instances: the guard, or `Ok(None)` (no majority, or no validity
    /// left; everything set was released). `Unreachable` only when no instance answered.
    pub fn try_acquire(&self) -> Result<Option<RedlockGuard>, LockError> {
        let owner = owner_id();
        let ttl_ms = self.ttl.as_millis().max(1) as u64;
        let start = Instant::now();
        let (mut ok, mut answered) = (0, 0);
        for url in &self.urls {
            let Some(mut c) = self.conn(url) else {
                continue;
            };
            let r: redis::RedisResult<Option<String>> = redis::cmd("SET")
                .arg(&self.key)
                .arg(&owner)
                .arg("NX")
                .arg("PX")
                .arg(ttl_ms)
                .query(&mut c);
            if let Ok(r) = r {
                answered += 1;
                if r.is_some() {
                    ok += 1;
                }
            }
        }
        if answered == 0 {
            return Err(LockError::Unreachable(format!(
                "Redlock: none of {} Redis servers reachable",
                self.urls.len()
            )));
        }
        let drift = self.ttl / 100 + Duration::from_millis(2);
        let validity = self.ttl.checked_sub(start.elapsed() + drift);
        match validity {
            Some(v) if ok > self.urls.len() / 2 && !v.is_zero() => {
                Ok(Some(RedlockGuard { owner, validity: v }))
            }
            _ => {
                self.release_value(&owner);
                Ok(None)
            }
        }
    }

    fn release_value(&self, owner: &str) -> usize {
        let mut released = 0;
        for url in &self.urls {
            if let Some(mut c) = self.conn(url) {
                let r: redis::RedisResult<i64> = Script::new(RELEASE)
                    .key(&self.key)
                    .arg(owner)
                    .invoke(&mut c);
                if r == Ok(1) {
                    released += 1;
                }
            }
        }
        released
    }

    /// Releases on every reachable instance (compare-and-delete); [`LockError::Lost`] when no
    /// instance still had this owner's value.
    pub fn release(&self, g: &RedlockGuard) -> Result<(), LockError> {
        if self.release_value(&g.owner) == 0 {
            Err(LockError::Lost)
        } else {
            Ok(())
        }
    }
}

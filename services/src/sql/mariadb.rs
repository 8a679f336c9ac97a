//! MariaDB's named locks (`GET_LOCK` and friends, 10.11), a small twin beside [`super::Db`].
//!
//! Modelled: reentrant counted locks per connection, several names per connection, the
//! timeout of `GET_LOCK` (0 = try once, negative = wait forever) as a blocked call with a
//! deadline, FIFO grant to waiters on release, `NULL` for a NULL name and for releasing a
//! name nobody holds, release of everything when the connection ends.
//! Not modelled: the 64-character name limit, user-level lock deadlock detection
//! (`ER_USER_LOCK_DEADLOCK`), `wait_timeout` (the caller closes idle connections).

use std::collections::BTreeMap;
use std::fmt;

use crate::time::ServerClock;

/// A connection id (`CONNECTION_ID()`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ConnId(pub u64);

/// A named-lock function call, as `SELECT f(…)`.
///
/// # Examples
///
/// ```
/// use lockproof_services::sql::mariadb::Call;
///
/// assert_eq!(Call::get_lock("n", 200).to_string(), "SELECT GET_LOCK('n', 0.2)");
/// assert_eq!(Call::ReleaseAllLocks.to_string(), "SELECT RELEASE_ALL_LOCKS()");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Call {
    /// `GET_LOCK(name, timeout)`; the timeout in ms (0: try once; negative: forever).
    GetLock {
        /// The name (`None` = SQL NULL).
        name: Option<String>,
        /// Milliseconds.
        timeout_ms: i64,
    },
    /// `RELEASE_LOCK(name)`.
    ReleaseLock {
        /// The name.
        name: Option<String>,
    },
    /// `IS_FREE_LOCK(name)`.
    IsFreeLock {
        /// The name.
        name: Option<String>,
    },
    /// `IS_USED_LOCK(name)`.
    IsUsedLock {
        /// The name.
        name: Option<String>,
    },
    /// `RELEASE_ALL_LOCKS()`.
    ReleaseAllLocks,
    /// `CONNECTION_ID()`.
    ConnectionId,
}

impl Call {
    /// `GET_LOCK(name, timeout_ms / 1000)`.
    pub fn get_lock(name: &str, timeout_ms: i64) -> Call {
        Call::GetLock {
            name: Some(name.to_owned()),
            timeout_ms,
        }
    }

    /// `RELEASE_LOCK(name)`.
    pub fn release_lock(name: &str) -> Call {
        Call::ReleaseLock {
            name: Some(name.to_owned()),
        }
    }

    /// `IS_FREE_LOCK(name)`.
    pub fn is_free_lock(name: &str) -> Call {
        Call::IsFreeLock {
            name: Some(name.to_owned()),
        }
    }

    /// `IS_USED_LOCK(name)`.
    pub fn is_used_lock(name: &str) -> Call {
        Call::IsUsedLock {
            name: Some(name.to_owned()),
        }
    }
}

fn lit(n: &Option<String>) -> String {
    match n {
        Some(s) => format!("'{}'", s.replace('\'', "''")),
        None => "NULL".to_owned(),
    }
}

impl fmt::Display for Call {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Call::GetLock { name, timeout_ms } => {
                let t = if timeout_ms % 1000 == 0 {
                    (timeout_ms / 1000).to_string()
                } else {
                    (*timeout_ms as f64 / 1000.0).to_string()
                };
                write!(f, "SELECT GET_LOCK({}, {t})", lit(name))
            }
            Call::ReleaseLock { name } => write!(f, "SELECT RELEASE_LOCK({})", lit(name)),
            Call::IsFreeLock { name } => write!(f, "SELECT IS_FREE_LOCK({})", lit(name)),
            Call::IsUsedLock { name } => write!(f, "SELECT IS_USED_LOCK({})", lit(name)),
            Call::ReleaseAllLocks => f.write_str("SELECT RELEASE_ALL_LOCKS()"),
            Call::ConnectionId => f.write_str("SELECT CONNECTION_ID()"),
        }
    }
}

/// A call's outcome: a value (`1`, `0`, an id, `NULL`), or blocked in `GET_LOCK`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// An integer result.
    Int(i64),
    /// `NULL`.
    Null,
    /// `GET_LOCK` waits; resume when [`NamedLocks::take_woken`] names the connection, or
    /// at `deadline` (monotonic ns; `None`: waits forever), when it returns `0`.
    Blocked {
        /// When the wait times out.
        deadline: Option<u64>,
    },
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Outcome::Int(i) => write!(f, "{i}"),
            Outcome::Null => f.write_str("NULL"),
            Outcome::Blocked { .. } => f.write_str("(blocked)"),
        }
    }
}

#[derive(Clone, Debug)]
struct Held {
    owner: ConnId,
    count: u32,
}

#[derive(Clone, Debug)]
struct Wait {
    name: String,
    deadline: Option<u64>,
    granted: bool,
}

/// The named-lock table of one MariaDB server.
///
/// # Examples
///
/// ```
/// use lockproof_services::sql::mariadb::{Call, NamedLocks, Outcome};
/// use lockproof_services::time::ServerClock;
///
/// let mut m = NamedLocks::new();
/// let (a, b) = (m.connect(), m.connect());
/// let t = ServerClock::at(0);
/// assert_eq!(m.call(a, Call::get_lock("n", 0), t), Outcome::Int(1));
/// assert_eq!(m.call(b, Call::get_lock("n", 0), t), Outcome::Int(0));
/// m.close(a, t);
/// assert_eq!(m.call(b, Call::get_lock("n", 0), t), Outcome::Int(1));
/// ```
#[derive(Clone, Debug)]
pub struct NamedLocks {
    held: BTreeMap<String, Held>,
    queue: BTreeMap<String, Vec<ConnId>>,
    waiting: BTreeMap<ConnId, Wait>,
    open: BTreeMap<ConnId, bool>,
    next: u64,
    woken: Vec<ConnId>,
}

impl Default for NamedLocks {
    fn default() -> Self {
        NamedLocks::new()
    }
}

impl NamedLocks {
    /// A server with no locks and no connections.
    pub fn new() -> Self {
        NamedLocks {
            held: BTreeMap::new(),
            queue: BTreeMap::new(),
            waiting: BTreeMap::new(),
            open: BTreeMap::new(),
            next: 30,
            woken: Vec::new(),
        }
    }

    /// Opens a connection.
    pub fn connect(&mut self) -> ConnId {
        let c = ConnId(self.next);
        self.next += 1;
        self.open.insert(c, true);
        c
    }

    /// Connections whose `GET_LOCK` was granted since the last call; drains.
    pub fn take_woken(&mut self) -> Vec<ConnId> {
        std::mem::take(&mut self.woken)
    }

    /// One call on connection `c` at `clock`.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof_services::sql::mariadb::{Call, NamedLocks, Outcome};
    /// use lockproof_services::time::ServerClock;
    ///
    /// let mut m = NamedLocks::new();
    /// let a = m.connect();
    /// let t = ServerClock::at(0);
    /// assert_eq!(m.call(a, Call::release_lock("never"), t), Outcome::Null);
    /// ```
    pub fn call(&mut self, c: ConnId, call: Call, clock: ServerClock) -> Outcome {
        match call {
            Call::GetLock { name, timeout_ms } => {
                let Some(name) = name else {
                    return Outcome::Null;
                };
                match self.held.get_mut(&name) {
                    None => {
                        self.held.insert(name, Held { owner: c, count: 1 });
                        Outcome::Int(1)
                    }
                    Some(h) if h.owner == c => {
                        h.count += 1;
                        Outcome::Int(1)
                    }
                    Some(_) if timeout_ms == 0 => Outcome::Int(0),
                    Some(_) => {
                        let deadline = u64::try_from(timeout_ms)
                            .ok()
                            .map(|ms| clock.mono.saturating_add(ms.saturating_mul(1_000_000)));
                        self.queue.entry(name.clone()).or_default().push(c);
                        self.waiting.insert(
                            c,
                            Wait {
                                name,
                                deadline,
                                granted: false,
                            },
                        );
                        Outcome::Blocked { deadline }
                    }
                }
            }
            Call::ReleaseLock { name } => {
                let Some(name) = name else {
                    return Outcome::Null;
                };
                match self.held.get_mut(&name) {
                    None => Outcome::Null,
                    Some(h) if h.owner != c => Outcome::Int(0),
                    Some(h) => {
                        h.count -= 1;
                        if h.count == 0 {
                            self.held.remove(&name);
                            self.grant(&name, clock.mono);
                        }
                        Outcome::Int(1)
                    }
                }
            }
            Call::IsFreeLock { name } => match name {
                None => Outcome::Null,
                Some(n) => Outcome::Int(i64::from(!self.held.contains_key(&n))),
            },
            Call::IsUsedLock { name } => match name.and_then(|n| self.held.get(&n)) {
                Some(h) => Outcome::Int(i64::try_from(h.owner.0).unwrap_or(i64::MAX)),
                None => Outcome::Null,
            },
            Call::ReleaseAllLocks => Outcome::Int(self.release_all(c, clock.mono)),
            Call::ConnectionId => Outcome::Int(i64::try_from(c.0).unwrap_or(i64::MAX)),
        }
    }

    /// Retries connection `c`'s blocked `GET_LOCK` at `clock`: `1` once granted, `0` at or
    /// after its deadline, else still blocked. `Null` when nothing waits.
    pub fn resume(&mut self, c: ConnId, clock: ServerClock) -> Outcome {
        let Some(w) = self.waiting.get(&c) else {
            return Outcome::Null;
        };
        if w.granted {
            self.waiting.remove(&c);
            return Outcome::Int(1);
        }
        if w.deadline.is_some_and(|d| clock.mono >= d) {
            let name = w.name.clone();
            self.waiting.remove(&c);
            if let Some(q) = self.queue.get_mut(&name) {
                q.retain(|x| *x != c);
            }
            return Outcome::Int(0);
        }
        Outcome::Blocked {
            deadline: w.deadline,
        }
    }

    /// The connection ends (client exit or crash): its locks are released and its wait
    /// abandoned.
    pub fn close(&mut self, c: ConnId, clock: ServerClock) {
        if let Some(w) = self.waiting.remove(&c) {
            if let Some(q) = self.queue.get_mut(&w.name) {
                q.retain(|x| *x != c);
            }
        }
        self.release_all(c, clock.mono);
        self.open.insert(c, false);
    }

    fn release_all(&mut self, c: ConnId, now: u64) -> i64 {
        let names: Vec<String> = self
            .held
            .iter()
            .filter(|(_, h)| h.owner == c)
            .map(|(n, _)| n.clone())
            .collect();
        let mut total = 0;
        for n in names {
            if let Some(h) = self.held.remove(&n) {
                total += i64::from(h.count);
            }
            self.grant(&n, now);
        }
        total
    }

    /// Hands a released name to the first waiter whose timeout has not passed at `now`
    /// (a waiter past its deadline has already got `0` on the real server, even if the
    /// caller has not resumed it yet).
    fn grant(&mut self, name: &str, now: u64) {
        loop {
            let Some(q) = self.queue.get_mut(name) else {
                return;
            };
            if q.is_empty() {
                return;
            }
            let c = q.remove(0);
            let Some(w) = self.waiting.get_mut(&c) else {
                continue;
            };
            if w.deadline.is_some_and(|d| now >= d) {
                continue;
            }
            w.granted = true;
            self.held
                .insert(name.to_owned(), Held { owner: c, count: 1 });
            self.woken.push(c);
            return;
        }
    }
}

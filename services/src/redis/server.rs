//! One Redis server: the key space, the script cache, connections, persistence and the
//! master side of replication.

use std::collections::{BTreeMap, VecDeque};

use super::cmd::{Cmd, ExpireCond, IntArg, SetArgs};
use super::reply::{RedisError, Reply};
use super::script::{Script, ScriptCtx};
use crate::time::ServerClock;

/// What survives a restart or crash of the server process (§5.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Persistence {
    /// No RDB, no AOF (`save ""`, `appendonly no`): a restart loses every key.
    #[default]
    None,
    /// `appendonly yes`, `appendfsync always`: every acknowledged write survives; deadlines
    /// are absolute, so time spent down counts against every TTL.
    AofAlways,
}

/// A server's role in replication.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Accepts writes and streams their effects to its replicas.
    Master,
    /// Refuses client writes with `READONLY`; applies what its master streams; never
    /// expires a key itself but reads a logically expired key as absent.
    Replica,
}

/// A value of a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// A string.
    Str(String),
    /// A hash of fields.
    Hash(BTreeMap<String, String>),
    /// A list (head first).
    List(VecDeque<String>),
}

/// A key's value and its deadline: absolute Unix time in ms of the server's wall clock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The value.
    pub value: Value,
    /// The deadline, `None` for no TTL. The key is logically present while the server's
    /// wall clock in ms is ≤ this (Redis: expired iff `now > when`).
    pub deadline_ms: Option<i64>,
}

/// A client connection to one server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ConnId(pub u64);

/// One write's effect as replicated (Redis 7.0 replicates scripts by effects): the key's
/// new state, or `None` for a deletion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Effect {
    /// The key written.
    pub key: String,
    /// Its new value and deadline, or `None` when deleted.
    pub entry: Option<Entry>,
}

#[derive(Debug, Clone)]
struct Watched {
    key: String,
    version: u64,
    present: bool,
}

#[derive(Debug, Clone, Default)]
struct ConnState {
    multi: Option<(Vec<Cmd>, bool)>,
    watched: Vec<Watched>,
    last_write: u64,
}

/// The master's end of one replica's replication stream: effects not yet delivered and
/// the offset the replica has acknowledged.
#[derive(Debug, Clone)]
pub(super) struct Link {
    pub(super) id: usize,
    pub(super) queue: VecDeque<(u64, Effect)>,
    pub(super) acked: u64,
}

/// The instants a command is judged at: `expiry_ms` for "is the key still there" (frozen
/// inside a script), `wall` (ns) for `TIME`, TTL arithmetic and new deadlines.
#[derive(Debug, Clone, Copy)]
pub(super) struct Now {
    pub(super) expiry_ms: i64,
    pub(super) wall: i64,
}

impl Now {
    fn of(clock: ServerClock) -> Now {
        Now {
            expiry_ms: clock.wall_ms(),
            wall: clock.wall,
        }
    }

    fn wall_ms(&self) -> i64 {
        self.wall.div_euclid(1_000_000)
    }
}

/// A Redis 7.0 server as a deterministic state machine.
///
/// Every request is one atomic step: [`Redis::apply`] with the connection and the server's
/// clock at the instant it is applied. Keys expire in the server's wall clock: lazily when a
/// command looks at them, and by [`Redis::active_expire`]; reclamation is visible only in
/// `DBSIZE`. The reply is returned; whether it reaches the client is the caller's business
/// (a request may be applied after its client gave up, §6.8.1).
///
/// # Examples
///
/// ```
/// use lockproof_services::redis::{Cmd, Redis, Reply};
/// use lockproof_services::time::ServerClock;
///
/// let mut r = Redis::new();
/// let a = r.connect();
/// let b = r.connect();
/// let t0 = ServerClock::at(1_000_000_000);
/// assert_eq!(r.apply(a, Cmd::set("k", "t1").nx().px(10_000), t0), Reply::ok());
/// assert_eq!(r.apply(b, Cmd::set("k", "t2").nx().px(10_000), t0), Reply::Nil);
/// // 10.001 s later the key has expired in the server's wall clock.
/// let t1 = ServerClock::at(11_001_000_000);
/// assert_eq!(r.apply(b, Cmd::set("k", "t2").nx().px(10_000), t1), Reply::ok());
/// ```
#[derive(Debug, Clone)]
pub struct Redis {
    keys: BTreeMap<String, Entry>,
    versions: BTreeMap<String, u64>,
    scripts: BTreeMap<String, Script>,
    conns: BTreeMap<ConnId, ConnState>,
    next_conn: u64,
    persistence: Persistence,
    role: Role,
    repl_offset: u64,
    pub(super) links: Vec<Link>,
    busy_ns: u64,
}

impl Default for Redis {
    fn default() -> Self {
        Redis::new()
    }
}

fn parse_strict_i64(s: &str) -> Option<i64> {
    // Redis's string2ll: optional '-', digits, no leading zeros, no '+', no spaces.
    let digits = s.strip_prefix('-').unwrap_or(s);
    if digits.is_empty()
        || !digits.bytes().all(|b| b.is_ascii_digit())
        || (digits.len() > 1 && digits.starts_with('0'))
        || s == "-0"
    {
        return None;
    }
    s.parse().ok()
}

fn int_arg(a: &IntArg) -> Result<i64, RedisError> {
    match a {
        IntArg::Int(n) => Ok(*n),
        IntArg::Text(s) => parse_strict_i64(s).ok_or(RedisError::NotInteger),
    }
}

fn list_range(len: usize, start: i64, stop: i64) -> Option<(usize, usize)> {
    let len = len as i64;
    let mut s = if start < 0 { len + start } else { start };
    let mut e = if stop < 0 { len + stop } else { stop };
    if s < 0 {
        s = 0;
    }
    if s > e || s >= len {
        return None;
    }
    if e >= len {
        e = len - 1;
    }
    Some((s as usize, e as usize))
}

impl Redis {
    /// A standalone master without persistence, empty.
    pub fn new() -> Redis {
        Redis::with_persistence(Persistence::None)
    }

    /// A standalone master with the given persistence, empty.
    pub fn with_persistence(persistence: Persistence) -> Redis {
        Redis {
            keys: BTreeMap::new(),
            versions: BTreeMap::new(),
            scripts: BTreeMap::new(),
            conns: BTreeMap::new(),
            next_conn: 1,
            persistence,
            role: Role::Master,
            repl_offset: 0,
            links: Vec::new(),
            busy_ns: 0,
        }
    }

    /// A new connection (its `WATCH`, `MULTI` and `WAIT` state start empty).
    pub fn connect(&mut self) -> ConnId {
        let id = ConnId(self.next_conn);
        self.next_conn += 1;
        self.conns.insert(id, ConnState::default());
        id
    }

    /// Closes a connection: its `WATCH`es and queued `MULTI` are dropped.
    pub fn close(&mut self, conn: ConnId) {
        self.conns.remove(&conn);
    }

    /// This server's role.
    pub fn role(&self) -> Role {
        self.role
    }

    /// This server's persistence.
    pub fn persistence(&self) -> Persistence {
        self.persistence
    }

    /// How long the last request kept the server busy, in ns: the time a script spent in
    /// [`ScriptCtx::spin`]; 0 for plain commands. Other clients' requests wait that long.
    pub fn busy_ns(&self) -> u64 {
        self.busy_ns
    }

    /// The stored entry of a key, as the key space holds it (a logically expired key not yet
    /// reclaimed is still there): for assertions and traces, not a client's view.
    pub fn entry(&self, key: &str) -> Option<&Entry> {
        self.keys.get(key)
    }

    /// Applies one request of `conn` at the server's `clock`, atomically.
    ///
    /// Inside `MULTI` a command is queued (`QUEUED`) and run by `EXEC`. `WAIT` may return
    /// [`Reply::Blocked`]; see [`Redis::wait_count`]. A connection id the server does not
    /// know (closed, or from before a restart) is taken as a fresh connection: noticing a
    /// dead connection is the caller's (the network's) business.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof_services::redis::{Cmd, Redis, Reply};
    /// use lockproof_services::time::ServerClock;
    ///
    /// let mut r = Redis::new();
    /// let c = r.connect();
    /// let t = ServerClock::at(5_000_000_000);
    /// r.apply(c, Cmd::set("k", "v").ex(100), t);
    /// assert_eq!(r.apply(c, Cmd::ttl("k"), t), Reply::Int(100));
    /// r.apply(c, Cmd::set("k", "w"), t); // no KEEPTTL: the TTL is removed
    /// assert_eq!(r.apply(c, Cmd::ttl("k"), t), Reply::Int(-1));
    /// ```
    pub fn apply(&mut self, conn: ConnId, cmd: Cmd, clock: ServerClock) -> Reply {
        self.busy_ns = 0;
        let now = Now::of(clock);
        let state = self.conns.entry(conn).or_default();
        if let Some((queue, dirty)) = &mut state.multi {
            match cmd {
                Cmd::Exec | Cmd::Discard => {}
                Cmd::Multi => return RedisError::NestedMulti.into(),
                Cmd::Watch(_) => return RedisError::WatchInsideMulti.into(),
                c if c.is_write() && self.role == Role::Replica => {
                    *dirty = true;
                    return RedisError::ReadOnly.into();
                }
                c => {
                    queue.push(c);
                    return Reply::Status("QUEUED".into());
                }
            }
        }
        match cmd {
            Cmd::Multi => {
                state.multi = Some((Vec::new(), false));
                Reply::ok()
            }
            Cmd::Discard => match state.multi.take() {
                None => RedisError::DiscardWithoutMulti.into(),
                Some(_) => {
                    state.watched.clear();
                    Reply::ok()
                }
            },
            Cmd::Exec => self.exec(conn, now),
            Cmd::Watch(keys) => {
                for key in keys {
                    let present = self.present(&key, now);
                    let version = self.versions.get(&key).copied().unwrap_or(0);
                    let state = self.conns.entry(conn).or_default();
                    state.watched.push(Watched {
                        key,
                        version,
                        present,
                    });
                }
                Reply::ok()
            }
            Cmd::Unwatch => {
                state.watched.clear();
                Reply::ok()
            }
            Cmd::Wait {
                numreplicas,
                timeout_ms: _,
            } => {
                let n = self.wait_count(conn);
                if n >= numreplicas {
                    Reply::Int(n)
                } else {
                    Reply::Blocked
                }
            }
            other => self.run_command(conn, &other, now),
        }
    }

    /// The number of replicas that have acknowledged every write `conn` made: what a
    /// blocked `WAIT` replies when its timeout fires (or at once when it reaches the number
    /// asked). A connection that wrote nothing counts every replica.
    pub fn wait_count(&self, conn: ConnId) -> i64 {
        let last = self.conns.get(&conn).map_or(0, |s| s.last_write);
        self.links.iter().filter(|l| l.acked >= last).count() as i64
    }

    fn exec(&mut self, conn: ConnId, now: Now) -> Reply {
        let state = self.conns.entry(conn).or_default();
        let Some((queue, dirty)) = state.multi.take() else {
            return RedisError::ExecWithoutMulti.into();
        };
        let watched = std::mem::take(&mut state.watched);
        if dirty {
            return RedisError::ExecAbort.into();
        }
        for w in &watched {
            let version = self.versions.get(&w.key).copied().unwrap_or(0);
            if version != w.version || (w.present && !self.present(&w.key, now)) {
                return Reply::Nil;
            }
        }
        let mut replies = Vec::with_capacity(queue.len());
        for cmd in queue {
            let r = match cmd {
                Cmd::Wait { .. } => Reply::Int(self.wait_count(conn)),
                c => self.run_command(conn, &c, now),
            };
            replies.push(r);
        }
        Reply::Array(replies)
    }

    /// Logically present at `now`; on a master an expired key is reclaimed (lazy expiry).
    fn present(&mut self, key: &str, now: Now) -> bool {
        let Some(e) = self.keys.get(key) else {
            return false;
        };
        match e.deadline_ms {
            Some(d) if now.expiry_ms > d => {
                if self.role == Role::Master {
                    self.keys.remove(key);
                    self.propagate(key, None);
                }
                false
            }
            _ => true,
        }
    }

    fn live(&mut self, key: &str, now: Now) -> Option<&Entry> {
        if self.present(key, now) {
            self.keys.get(key)
        } else {
            None
        }
    }

    fn propagate(&mut self, key: &str, entry: Option<&Entry>) {
        if self.role != Role::Master || self.links.is_empty() {
            return;
        }
        self.repl_offset += 1;
        let effect = Effect {
            key: key.to_string(),
            entry: entry.cloned(),
        };
        for link in &mut self.links {
            link.queue.push_back((self.repl_offset, effect.clone()));
        }
    }

    /// A client write: the key's new state, a new version for `WATCH`, replication, and the
    /// connection's write offset for `WAIT`.
    fn put(&mut self, conn: ConnId, key: &str, entry: Option<Entry>) {
        match &entry {
            Some(e) => {
                self.keys.insert(key.to_string(), e.clone());
            }
            None => {
                self.keys.remove(key);
            }
        }
        *self.versions.entry(key.to_string()).or_default() += 1;
        self.propagate(key, entry.as_ref());
        let offset = self.repl_offset;
        if let Some(s) = self.conns.get_mut(&conn) {
            s.last_write = offset;
        }
    }

    fn run_script(
        &mut self,
        conn: ConnId,
        script: Script,
        keys: &[String],
        args: &[String],
        now: Now,
    ) -> Reply {
        self.scripts.insert(script.sha(), script);
        let mut ctx = ScriptCtx {
            server: self,
            conn,
            expiry_ms: now.expiry_ms,
            wall: now.wall,
            spun_ns: 0,
        };
        let result = (script.body)(&mut ctx, keys, args);
        let spun = ctx.spun_ns;
        self.busy_ns += spun;
        match result {
            Ok(v) => v.into_reply(),
            Err(e) => Reply::Error(e),
        }
    }

    /// One data command (also what `redis.call` and `EXEC` run).
    pub(super) fn run_command(&mut self, conn: ConnId, cmd: &Cmd, now: Now) -> Reply {
        if self.role == Role::Replica && cmd.is_write() {
            return RedisError::ReadOnly.into();
        }
        match self.command(conn, cmd, now) {
            Ok(r) => r,
            Err(e) => Reply::Error(e),
        }
    }

    fn command(&mut self, conn: ConnId, cmd: &Cmd, now: Now) -> Result<Reply, RedisError> {
        Ok(match cmd {
            Cmd::Get(k) => match self.live(k, now) {
                None => Reply::Nil,
                Some(Entry {
                    value: Value::Str(s),
                    ..
                }) => Reply::Bulk(s.clone()),
                Some(_) => return Err(RedisError::WrongType),
            },
            Cmd::Set(a) => return self.set(conn, a, now),
            Cmd::SetEx {
                key,
                seconds,
                value,
            } => {
                let deadline = seconds
                    .checked_mul(1000)
                    .filter(|_| *seconds > 0)
                    .and_then(|ms| now.wall_ms().checked_add(ms))
                    .ok_or(RedisError::InvalidExpire("setex"))?;
                let entry = Entry {
                    value: Value::Str(value.clone()),
                    deadline_ms: Some(deadline),
                };
                self.put(conn, key, Some(entry));
                Reply::ok()
            }
            Cmd::GetDel(k) => match self.live(k, now) {
                None => Reply::Nil,
                Some(Entry {
                    value: Value::Str(s),
                    ..
                }) => {
                    let s = s.clone();
                    self.put(conn, k, None);
                    Reply::Bulk(s)
                }
                Some(_) => return Err(RedisError::WrongType),
            },
            Cmd::Del(keys) => {
                let mut n = 0;
                for k in keys {
                    if self.present(k, now) {
                        self.put(conn, k, None);
                        n += 1;
                    }
                }
                Reply::Int(n)
            }
            Cmd::Exists(keys) => {
                Reply::Int(keys.iter().filter(|k| self.present(k, now)).count() as i64)
            }
            Cmd::Expire {
                key,
                amount,
                millis,
                cond,
            } => {
                let name = if *millis { "pexpire" } else { "expire" };
                let rel = if *millis {
                    Some(*amount)
                } else {
                    amount.checked_mul(1000)
                };
                let when = rel
                    .and_then(|ms| now.wall_ms().checked_add(ms))
                    .ok_or(RedisError::InvalidExpire(name))?;
                let Some(e) = self.live(key, now) else {
                    return Ok(Reply::Int(0));
                };
                let current = e.deadline_ms;
                let refused = match (cond, current) {
                    (None, _) => false,
                    (Some(ExpireCond::Nx), c) => c.is_some(),
                    (Some(ExpireCond::Xx), c) => c.is_none(),
                    (Some(ExpireCond::Gt), None) => true,
                    (Some(ExpireCond::Gt), Some(c)) => when <= c,
                    (Some(ExpireCond::Lt), None) => false,
                    (Some(ExpireCond::Lt), Some(c)) => when >= c,
                };
                if refused {
                    return Ok(Reply::Int(0));
                }
                if when <= now.wall_ms() {
                    self.put(conn, key, None);
                } else {
                    let mut e = e.clone();
                    e.deadline_ms = Some(when);
                    self.put(conn, key, Some(e));
                }
                Reply::Int(1)
            }
            Cmd::Ttl { key, millis } => match self.live(key, now) {
                None => Reply::Int(-2),
                Some(Entry {
                    deadline_ms: None, ..
                }) => Reply::Int(-1),
                Some(Entry {
                    deadline_ms: Some(d),
                    ..
                }) => {
                    let ttl = (d - now.wall_ms()).max(0);
                    Reply::Int(if *millis { ttl } else { (ttl + 500) / 1000 })
                }
            },
            Cmd::PExpireTime(k) => match self.live(k, now) {
                None => Reply::Int(-2),
                Some(e) => Reply::Int(e.deadline_ms.unwrap_or(-1)),
            },
            Cmd::Persist(k) => match self.live(k, now) {
                Some(e) if e.deadline_ms.is_some() => {
                    let mut e = e.clone();
                    e.deadline_ms = None;
                    self.put(conn, k, Some(e));
                    Reply::Int(1)
                }
                _ => Reply::Int(0),
            },
            Cmd::IncrBy { key, by, .. } => {
                let (old, deadline) = match self.live(key, now) {
                    None => (0, None),
                    Some(Entry {
                        value: Value::Str(s),
                        deadline_ms,
                    }) => (
                        parse_strict_i64(s).ok_or(RedisError::NotInteger)?,
                        *deadline_ms,
                    ),
                    Some(_) => return Err(RedisError::WrongType),
                };
                let new = old.checked_add(*by).ok_or(RedisError::Overflow)?;
                let entry = Entry {
                    value: Value::Str(new.to_string()),
                    deadline_ms: deadline,
                };
                self.put(conn, key, Some(entry));
                Reply::Int(new)
            }
            Cmd::HIncrBy { key, field, by } => {
                let mut e = self.hash_entry(key, now)?;
                let Value::Hash(h) = &mut e.value else {
                    unreachable!("hash_entry gives a hash")
                };
                let old = match h.get(field) {
                    None => 0,
                    Some(v) => parse_strict_i64(v).ok_or(RedisError::HashNotInteger)?,
                };
                let new = old.checked_add(*by).ok_or(RedisError::Overflow)?;
                h.insert(field.clone(), new.to_string());
                self.put(conn, key, Some(e));
                Reply::Int(new)
            }
            Cmd::HSet(key, pairs) => {
                let mut e = self.hash_entry(key, now)?;
                let Value::Hash(h) = &mut e.value else {
                    unreachable!("hash_entry gives a hash")
                };
                let mut added = 0;
                for (f, v) in pairs {
                    if h.insert(f.clone(), v.clone()).is_none() {
                        added += 1;
                    }
                }
                self.put(conn, key, Some(e));
                Reply::Int(added)
            }
            Cmd::HGet(key, field) => match self.hash(key, now)? {
                Some(h) => h.get(field).map_or(Reply::Nil, |v| Reply::Bulk(v.clone())),
                None => Reply::Nil,
            },
            Cmd::HLen(key) => Reply::Int(self.hash(key, now)?.map_or(0, |h| h.len() as i64)),
            Cmd::HExists(key, field) => Reply::Int(
                self.hash(key, now)?
                    .is_some_and(|h| h.contains_key(field))
                    .into(),
            ),
            Cmd::HGetAll(key) => Reply::Array(
                self.hash(key, now)?
                    .map(|h| {
                        h.iter()
                            .flat_map(|(f, v)| [Reply::Bulk(f.clone()), Reply::Bulk(v.clone())])
                            .collect()
                    })
                    .unwrap_or_default(),
            ),
            Cmd::HDel(key, fields) => {
                if self.hash(key, now)?.is_none() {
                    return Ok(Reply::Int(0));
                }
                let mut e = self.hash_entry(key, now)?;
                let Value::Hash(h) = &mut e.value else {
                    unreachable!("hash_entry gives a hash")
                };
                let removed = fields.iter().filter(|f| h.remove(*f).is_some()).count();
                if removed > 0 {
                    let empty = h.is_empty();
                    self.put(conn, key, if empty { None } else { Some(e) });
                }
                Reply::Int(removed as i64)
            }
            Cmd::LPush(key, values) => {
                let mut e = match self.live(key, now) {
                    None => Entry {
                        value: Value::List(VecDeque::new()),
                        deadline_ms: None,
                    },
                    Some(
                        e @ Entry {
                            value: Value::List(_),
                            ..
                        },
                    ) => e.clone(),
                    Some(_) => return Err(RedisError::WrongType),
                };
                let Value::List(l) = &mut e.value else {
                    unreachable!("matched a list")
                };
                for v in values {
                    l.push_front(v.clone());
                }
                let len = l.len() as i64;
                self.put(conn, key, Some(e));
                Reply::Int(len)
            }
            Cmd::LTrim(key, start, stop) => {
                let mut e = match self.live(key, now) {
                    None => return Ok(Reply::ok()),
                    Some(
                        e @ Entry {
                            value: Value::List(_),
                            ..
                        },
                    ) => e.clone(),
                    Some(_) => return Err(RedisError::WrongType),
                };
                let Value::List(l) = &mut e.value else {
                    unreachable!("matched a list")
                };
                match list_range(l.len(), *start, *stop) {
                    None => self.put(conn, key, None),
                    Some((s, end)) => {
                        *l = l.iter().skip(s).take(end - s + 1).cloned().collect();
                        self.put(conn, key, Some(e));
                    }
                }
                Reply::ok()
            }
            Cmd::LRange(key, start, stop) => match self.live(key, now) {
                None => Reply::Array(vec![]),
                Some(Entry {
                    value: Value::List(l),
                    ..
                }) => Reply::Array(match list_range(l.len(), *start, *stop) {
                    None => vec![],
                    Some((s, end)) => l
                        .iter()
                        .skip(s)
                        .take(end - s + 1)
                        .map(|v| Reply::Bulk(v.clone()))
                        .collect(),
                }),
                Some(_) => return Err(RedisError::WrongType),
            },
            Cmd::Time => {
                let secs = now.wall.div_euclid(1_000_000_000);
                let micros = now.wall.rem_euclid(1_000_000_000) / 1000;
                Reply::Array(vec![
                    Reply::Bulk(secs.to_string()),
                    Reply::Bulk(micros.to_string()),
                ])
            }
            Cmd::DbSize => Reply::Int(self.keys.len() as i64),
            Cmd::Eval { script, keys, args } => self.run_script(conn, *script, keys, args, now),
            Cmd::EvalSha { sha, keys, args } => match self.scripts.get(&sha.to_lowercase()) {
                None => return Err(RedisError::NoScript),
                Some(s) => {
                    let s = *s;
                    self.run_script(conn, s, keys, args, now)
                }
            },
            Cmd::ScriptLoad(script) => {
                let sha = script.sha();
                self.scripts.insert(sha.clone(), *script);
                Reply::Bulk(sha)
            }
            Cmd::ScriptExists(shas) => Reply::Array(
                shas.iter()
                    .map(|s| Reply::Int(self.scripts.contains_key(&s.to_lowercase()).into()))
                    .collect(),
            ),
            Cmd::Multi
            | Cmd::Exec
            | Cmd::Discard
            | Cmd::Watch(_)
            | Cmd::Unwatch
            | Cmd::Wait { .. } => return Err(RedisError::NotAllowedFromScript),
        })
    }

    fn hash(
        &mut self,
        key: &str,
        now: Now,
    ) -> Result<Option<&BTreeMap<String, String>>, RedisError> {
        match self.live(key, now) {
            None => Ok(None),
            Some(Entry {
                value: Value::Hash(h),
                ..
            }) => Ok(Some(h)),
            Some(_) => Err(RedisError::WrongType),
        }
    }

    /// The key's hash entry to modify (a new empty hash without TTL when absent).
    fn hash_entry(&mut self, key: &str, now: Now) -> Result<Entry, RedisError> {
        match self.live(key, now) {
            None => Ok(Entry {
                value: Value::Hash(BTreeMap::new()),
                deadline_ms: None,
            }),
            Some(
                e @ Entry {
                    value: Value::Hash(_),
                    ..
                },
            ) => Ok(e.clone()),
            Some(_) => Err(RedisError::WrongType),
        }
    }

    fn set(&mut self, conn: ConnId, a: &SetArgs, now: Now) -> Result<Reply, RedisError> {
        let timed = usize::from(a.ex.is_some()) + usize::from(a.px.is_some());
        if (a.nx && a.xx) || timed > 1 || (a.keepttl && timed > 0) {
            return Err(RedisError::Syntax);
        }
        let mut deadline = None;
        for (arg, unit) in [(&a.ex, 1000), (&a.px, 1)] {
            if let Some(arg) = arg {
                let n = int_arg(arg)?;
                let when = n
                    .checked_mul(unit)
                    .filter(|_| n > 0)
                    .and_then(|ms| now.wall_ms().checked_add(ms))
                    .ok_or(RedisError::InvalidExpire("set"))?;
                deadline = Some(when);
            }
        }
        let old = self.live(&a.key, now).cloned();
        let old_reply = match &old {
            None => Reply::Nil,
            Some(Entry {
                value: Value::Str(s),
                ..
            }) => Reply::Bulk(s.clone()),
            Some(_) if a.get => return Err(RedisError::WrongType),
            Some(_) => Reply::Nil,
        };
        let done = |r: Reply| if a.get { old_reply.clone() } else { r };
        if (a.nx && old.is_some()) || (a.xx && old.is_none()) {
            return Ok(done(Reply::Nil));
        }
        if a.keepttl {
            deadline = old.and_then(|e| e.deadline_ms);
        }
        let entry = Entry {
            value: Value::Str(a.value.clone()),
            deadline_ms: deadline,
        };
        self.put(conn, &a.key, Some(entry));
        Ok(done(Reply::ok()))
    }

    /// The active expiry cycle: reclaims every key whose deadline has passed at `clock`
    /// (Redis samples; reclaiming all of them differs only in `DBSIZE` timing). Replicas
    /// reclaim nothing. Returns how many keys were reclaimed.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof_services::redis::{Cmd, Redis, Reply};
    /// use lockproof_services::time::ServerClock;
    ///
    /// let mut r = Redis::new();
    /// let c = r.connect();
    /// r.apply(c, Cmd::set("k", "v").px(50), ServerClock::at(0));
    /// let later = ServerClock::at(100_000_000);
    /// assert_eq!(r.apply(c, Cmd::DbSize, later), Reply::Int(1)); // not reclaimed yet
    /// assert_eq!(r.active_expire(later), 1);
    /// assert_eq!(r.apply(c, Cmd::DbSize, later), Reply::Int(0));
    /// ```
    pub fn active_expire(&mut self, clock: ServerClock) -> usize {
        if self.role != Role::Master {
            return 0;
        }
        let now = Now::of(clock);
        let expired: Vec<String> = self
            .keys
            .iter()
            .filter(|(_, e)| e.deadline_ms.is_some_and(|d| now.expiry_ms > d))
            .map(|(k, _)| k.clone())
            .collect();
        for k in &expired {
            self.keys.remove(k);
            self.propagate(k, None);
        }
        expired.len()
    }

    /// The server process restarts (`SHUTDOWN NOSAVE` or `kill -9`, then start): every
    /// connection is gone (with its `WATCH`/`MULTI`), the script cache is empty (`EVALSHA`
    /// → `NOSCRIPT`), and the key space is what the persistence kept: nothing with
    /// [`Persistence::None`], every acknowledged write with [`Persistence::AofAlways`]
    /// (absolute deadlines, so downtime counts against TTLs). Replication links restart
    /// empty. How long the server was down is the caller's: the next request's clock.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof_services::redis::{Cmd, Redis, Reply};
    /// use lockproof_services::time::ServerClock;
    ///
    /// let mut r = Redis::new();
    /// let c = r.connect();
    /// r.apply(c, Cmd::set("k", "v").px(60_000), ServerClock::at(0));
    /// r.restart();
    /// let c = r.connect();
    /// assert_eq!(r.apply(c, Cmd::exists("k"), ServerClock::at(1_000_000_000)), Reply::Int(0));
    /// ```
    pub fn restart(&mut self) {
        if self.persistence == Persistence::None {
            self.keys.clear();
        }
        self.scripts.clear();
        self.conns.clear();
        self.versions.clear();
        self.repl_offset = 0;
        for link in &mut self.links {
            link.queue.clear();
            link.acked = 0;
        }
        self.busy_ns = 0;
    }

    pub(super) fn set_role(&mut self, role: Role) {
        self.role = role;
        if role == Role::Replica {
            self.links.clear();
        }
    }

    /// Applies one replicated effect (on a replica).
    pub(super) fn apply_effect(&mut self, effect: Effect) {
        match effect.entry {
            Some(e) => {
                self.keys.insert(effect.key.clone(), e);
            }
            None => {
                self.keys.remove(&effect.key);
            }
        }
        *self.versions.entry(effect.key).or_default() += 1;
    }

    /// Replaces the key space with a copy of the master's (a full resynchronisation).
    pub(super) fn full_sync(&mut self, master: &Redis) {
        let old = std::mem::replace(&mut self.keys, master.keys.clone());
        for k in old.keys().chain(self.keys.keys()) {
            *self.versions.entry(k.clone()).or_default() += 1;
        }
    }

    pub(super) fn drop_connections(&mut self) {
        self.conns.clear();
    }
}

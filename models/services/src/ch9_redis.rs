//! Section 9.1 of the tutorial (Redis distributed locks, Redlock, the task scheduler and
//! the cache controller): its examples as scenarios on the Redis twin.
//!
//! | scenario | example | expected |
//! |---|---|---|
//! | `ex-9.1-01` | the demo: `with get_lock("resource_1", timeout=10)`, 5 × 1 s of work | holds |
//! | `ex-9.1-01-pause` | 2 processes, a fencing counter issued with each grant, writes unfenced; the holder may pause 2 s (TTL 1 s) | stale-write |
//! | `ex-9.1-01-fenced` | the same with a fenced storage | holds |
//! | `ex-9.1-01-plain-del` | release by plain `DEL`; the first holder's work outlasts the TTL | only-owner-releases |
//! | `ex-9.1-01-shared-manager` | two threads share the manager's cached `RedisLock`; work outlasts the TTL | only-owner-releases |
//! | `ex-9.1-02` | `RedisReentrantLock` as written: `threading` is never imported | no-uncaught-exception |
//! | `ex-9.1-02-nested` | with `import threading`: a nested `with lock:` in one process | lock-released |
//! | `ex-9.1-02-watchdog` | with `import threading`, two processes; the holder may pause 4 s (TTL 3 s) while its watchdog sleeps | only-owner-renews |
//! | `ex-9.1-02-renewal` | A works 4 s on its watchdog, B waits; no fault | holds |
//! | `ex-9.1-02-clock-jump` | A works 4 s on its watchdog, B waits; one wall-clock jump of 3 s | mutual-exclusion |
//! | `ex-9.1-03` | `RedLock` over 3 instances, 2 processes, no fault | holds |
//! | `ex-9.1-03-pause` | B arrives at 3.5 s; the holder may pause 4 s (TTL 3 s) | mutual-exclusion |
//! | `ex-9.1-03-clock-jump` | one lost request and one server clock jump of 10 s | mutual-exclusion |
//! | `ex-9.1-03-restart` | one lost request and one instance restart without persistence | mutual-exclusion |
//! | `ex-9.1-04` | `DistributedTaskScheduler` on 2 nodes, `cleanup_task` (2 s every 30 s) | no-double-execution |
//! | `ex-9.1-05` | the cache demo as written (`data_fetcher()` called without its `key`) | no-uncaught-exception |
//! | `ex-9.1-05-arity` | the fetcher called with its key; `json` still not imported | cache-hit |
//! | `ex-9.1-05-fixed` | arity and `import json` fixed: the non-blocking refill lock | lock-released |
//! | `ex-9.1-05-stampede` | fixed; 3 readers miss the same key together | db-hit-once |
//!
//! Scale: where a contender polls (every 0.1 s, kept), TTLs, work and pauses are divided
//! by 10 with their ratios kept (`RedisLock`'s 10 s TTL becomes 1 s, the 30 s blocking
//! timeout 3 s); the reentrant lock keeps whole seconds (its scripts use `int(time.time())`
//! and `EX`), with its 30 s TTL and 10 s renewal period as 3 s and 1 s; the scheduler's
//! intervals are kept (nobody polls long), with `max_executions` 2 instead of 5.
//!
//! A Lua script of the tutorial is a [`Script`] whose body does what the Lua text does,
//! one `redis.call` per call; a UUID is the client's name and a counter (same in every
//! execution). Who was granted a lock, and who deleted or renewed it, is judged at the
//! server, in the same step as the request ([`RedisClient::call_observed`]).

use lockproof::backend::spawn::ProcessHandle;
use lockproof::backend::{Backend, System};
use lockproof::{Event, Shared};
use lockproof_scenario::prelude::*;
use lockproof_scenario::python::sleep;
use lockproof_services::redis::{
    Cmd, Lua, Persistence, Redis, RedisClient, RedisError, Reply, Script, ScriptCtx,
};
use lockproof_services::sim::{Cluster, Faults, Server, Storage};
use std::sync::Mutex;

type ScriptResult = Result<Lua, RedisError>;

/// A fresh Redis twin behind the network, restartable (keys lost: no persistence).
fn redis_server<B: Backend>(cluster: &Cluster<B>, name: &str) -> Server<Redis, B> {
    cluster
        .server(name, Redis::with_persistence(Persistence::None))
        .restartable(|r, _| r.restart())
}

/// A thread's or process's uncaught exception: the examples' claims do not allow one.
fn uncaught(who: &str, e: &str) {
    ensure(false, "no-uncaught-exception", || {
        format!("Exception in {who}: {e}")
    });
}

// ---------------------------------------------------------------------------------------
// ex-9.1-01: RedisLock and RedisLockManager
// ---------------------------------------------------------------------------------------

fn cad(ctx: &mut ScriptCtx<'_>, k: &[String], a: &[String]) -> ScriptResult {
    if ctx.call(Cmd::get(&k[0]))? == Lua::str(&a[0]) {
        ctx.call(Cmd::del(&k[0]))
    } else {
        Ok(Lua::int(0))
    }
}

/// `RedisLock.release`'s script.
const RELEASE_01: Script = Script::new(
    "release",
    "if redis.call(\"GET\", KEYS[1]) == ARGV[1] then return redis.call(\"DEL\", KEYS[1]) else return 0 end",
    cad,
);

fn acquire_fenced(ctx: &mut ScriptCtx<'_>, k: &[String], a: &[String]) -> ScriptResult {
    let ex = a[1].parse::<i64>().unwrap_or(0);
    if ctx.call(Cmd::set(&k[0], &a[0]).nx().ex(ex))?.truthy() {
        ctx.call(Cmd::incr(&k[1]))
    } else {
        Ok(Lua::Bool(false))
    }
}

/// `SET NX EX` and a fencing counter in one step (§1.9): the grant's token, or nil.
const ACQUIRE_FENCED: Script = Script::new(
    "acquire-fenced",
    "if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'EX', ARGV[2]) then return redis.call('INCR', KEYS[2]) else return false end",
    acquire_fenced,
);

/// Who the server last granted each lock key to (a judge beside the twin, updated in the
/// step that granted it).
type Grants = Arc<Mutex<Vec<(String, String)>>>;

fn granted_to(grants: &Grants, key: &str) -> Option<String> {
    let g = grants.lock().unwrap_or_else(|e| e.into_inner());
    g.iter()
        .rev()
        .find(|(k, _)| k == key)
        .map(|(_, w)| w.clone())
}

fn grant(grants: &Grants, key: &str, who: &str) {
    let mut g = grants.lock().unwrap_or_else(|e| e.into_inner());
    g.push((key.to_owned(), who.to_owned()));
}

/// How a [`RedisLock`] variant acquires and releases.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Flavor {
    /// As written: `SET NX EX`, release by compare-and-delete.
    Written,
    /// `SET NX EX` and `INCR` in one script: the grant carries a fencing token.
    Fenced,
    /// Release by a plain `DEL` (no owner check).
    PlainDel,
}

/// `RedisLock`: one UUID per instance, an `acquired` flag, busy-poll every 0.1 s.
struct RedisLock<B: Backend> {
    redis: RedisClient<B>,
    lock_name: String,
    timeout: i64,
    identifier: String,
    acquired: Shared<bool, B>,
    /// The fencing token of the last grant ([`Flavor::Fenced`]).
    token: Shared<Option<u64>, B>,
    flavor: Flavor,
    grants: Grants,
    /// `blocking_timeout` of `__enter__`'s `acquire()`, in seconds.
    blocking_timeout: f64,
}

impl<B: Backend> RedisLock<B> {
    fn new(redis: RedisClient<B>, lock_name: &str, timeout: i64, ctx: &LockCtx) -> Self {
        let identifier = format!("uuid-{}", redis.node().name());
        RedisLock {
            redis,
            lock_name: lock_name.to_owned(),
            timeout,
            acquired: Shared::new(false).with_name(&format!("{identifier}.acquired")),
            token: Shared::new(None).with_name(&format!("{identifier}.token")),
            identifier,
            flavor: ctx.flavor,
            grants: ctx.grants.clone(),
            blocking_timeout: ctx.blocking_timeout,
        }
    }

    /// `acquire(blocking, blocking_timeout)`; `who` names the caller for the judge.
    fn acquire(&self, blocking: bool, who: &str) -> bool {
        if !blocking {
            return self.try_acquire(who);
        }
        let node = self.redis.node();
        let start = node.time();
        while node.time() - start < self.blocking_timeout {
            if self.try_acquire(who) {
                self.acquired.set(true);
                return true;
            }
            sleep::<B>(0.1);
        }
        false
    }

    fn try_acquire(&self, who: &str) -> bool {
        let grants = self.grants.clone();
        let (key, me) = (self.lock_name.clone(), who.to_owned());
        let cmd = match self.flavor {
            Flavor::Fenced => Cmd::eval(
                ACQUIRE_FENCED,
                &[&self.lock_name, &format!("fence:{}", self.lock_name)],
                &[&self.identifier, &self.timeout.to_string()],
            ),
            _ => Cmd::set(&self.lock_name, &self.identifier)
                .nx()
                .ex(self.timeout),
        };
        let r = self.redis.call_observed(cmd, move |_, _, _, reply| {
            let ok = !matches!(reply, Reply::Nil | Reply::Error(_));
            if ok {
                grant(&grants, &key, &me);
            }
            ok
        });
        match r {
            Ok((reply, true)) => {
                if let Reply::Int(t) = reply {
                    self.token.set(u64::try_from(t).ok());
                }
                true
            }
            // `except Exception: logger.error(...); return False`
            _ => false,
        }
    }

    /// `release()`: compare-and-delete (or `DEL`); the judge checks the deleted key was
    /// granted to the caller.
    fn release(&self, who: &str) -> bool {
        if !self.acquired.get() {
            // logger.warning("锁未获取")
            return false;
        }
        let cmd = match self.flavor {
            Flavor::PlainDel => Cmd::del(&self.lock_name),
            _ => Cmd::eval(RELEASE_01, &[&self.lock_name], &[&self.identifier]),
        };
        let grants = self.grants.clone();
        let key = self.lock_name.clone();
        let r = self.redis.call_observed(cmd, move |_, _, _, reply| {
            (*reply == Reply::Int(1)).then(|| granted_to(&grants, &key))
        });
        match r {
            Ok((_, Some(owner))) => {
                ensure(owner.as_deref() == Some(who), "only-owner-releases", || {
                    format!(
                        "{who}'s release deleted {} while the server had granted it to {}",
                        self.lock_name,
                        owner.clone().unwrap_or_default()
                    )
                });
                self.acquired.set(false);
                true
            }
            _ => false,
        }
    }

    /// `__enter__`: `RuntimeError` when the blocking acquire times out.
    fn enter(&self, who: &str) -> Result<(), String> {
        if self.acquire(true, who) {
            Ok(())
        } else {
            Err(format!("RuntimeError: 无法获取锁: {}", self.lock_name))
        }
    }
}

/// What every `RedisLock` of one scenario shares.
struct LockCtx {
    flavor: Flavor,
    grants: Grants,
    blocking_timeout: f64,
}

impl LockCtx {
    fn new(flavor: Flavor, blocking_timeout: f64) -> Self {
        LockCtx {
            flavor,
            grants: Arc::default(),
            blocking_timeout,
        }
    }
}

/// `RedisLockManager`: one client, one cached `RedisLock` per name.
struct RedisLockManager<B: Backend> {
    redis: RedisClient<B>,
    locks: Mutex<Vec<Arc<RedisLock<B>>>>,
    ctx: Arc<LockCtx>,
}

impl<B: Backend> RedisLockManager<B> {
    fn new(redis: RedisClient<B>, ctx: Arc<LockCtx>) -> Self {
        RedisLockManager {
            redis,
            locks: Mutex::new(Vec::new()),
            ctx,
        }
    }

    fn get_lock(&self, lock_name: &str, timeout: i64) -> Arc<RedisLock<B>> {
        let mut locks = self.locks.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(l) = locks.iter().find(|l| l.lock_name == lock_name) {
            return l.clone();
        }
        let l = Arc::new(RedisLock::new(
            self.redis.clone(),
            lock_name,
            timeout,
            &self.ctx,
        ));
        locks.push(l.clone());
        l
    }

    fn cleanup_all_locks(&self, who: &str) {
        let locks = std::mem::take(&mut *self.locks.lock().unwrap_or_else(|e| e.into_inner()));
        for lock in locks {
            if lock.acquired.get() {
                lock.release(who);
            }
        }
    }
}

/// The demo: `with get_lock("resource_1", timeout=10)`, 5 × 1 s of work, cleanup.
fn ex_9_1_01<B: System>() {
    let cluster = Cluster::<B>::new(Faults::none());
    let server = redis_server(&cluster, "redis");
    let app = RedisClient::new(cluster.node("app"), server.clone());
    let manager = RedisLockManager::new(app.clone(), Arc::new(LockCtx::new(Flavor::Written, 30.0)));
    let lock = manager.get_lock("resource_1", 10);
    match lock.enter("main") {
        Ok(()) => {
            for _ in 0..5 {
                sleep::<B>(1.0); // logger.info(f"执行工作 {i+1}/5")
            }
            let released = lock.release("main");
            ensure(released, "lock-released", || {
                "__exit__'s release returned False".into()
            });
        }
        Err(e) => uncaught("demo_basic_usage", &e),
    }
    manager.cleanup_all_locks("main");
    let left = app.call(Cmd::exists("resource_1"));
    ensure(left == Ok(Reply::Int(0)), "lock-released", || {
        format!("EXISTS resource_1 after the demo: {left:?}")
    });
}

/// A worker process for the `-pause`/`-fenced` variants: `with lock:` five steps of work,
/// each a write to the storage with the grant's token.
fn fenced_worker<B: System>(redis: RedisClient<B>, ctx: Arc<LockCtx>, storage: Storage<B>) {
    let who = redis.node().name().to_owned();
    let manager = RedisLockManager::new(redis.clone(), ctx);
    let lock = manager.get_lock("resource_1", 1);
    if lock.enter(&who).is_err() {
        return;
    }
    for i in 1..=5 {
        // A rejected write raises in the client: its work stops there.
        if storage
            .write(redis.node(), lock.token.get(), format!("{who}: work {i}/5"))
            .is_err()
        {
            break;
        }
        sleep::<B>(0.1);
    }
    lock.release(&who);
}

fn pause_model<B: System>(fenced: bool) {
    let cluster = Cluster::<B>::new(Faults::none());
    let server = redis_server(&cluster, "redis");
    let storage = cluster.storage("storage", fenced);
    let ctx = Arc::new(LockCtx::new(Flavor::Fenced, 3.0));
    let procs: Vec<_> = (1..=2)
        .map(|i| {
            let name = format!("worker-{i}");
            let redis = RedisClient::new(cluster.node(&name), server.clone());
            let (ctx, storage) = (ctx.clone(), storage.clone());
            B::spawn_process(&name, move || fenced_worker(redis, ctx, storage))
        })
        .collect();
    for p in procs {
        p.join();
    }
}

fn ex_9_1_01_pause<B: System>() {
    pause_model::<B>(false);
}

fn ex_9_1_01_fenced<B: System>() {
    pause_model::<B>(true);
}

/// Work of 1.5 s under a 1 s lock, by `who`, then `__exit__`.
fn slow_with<B: System>(lock: &RedisLock<B>, who: &str) {
    if lock.enter(who).is_ok() {
        for _ in 0..3 {
            sleep::<B>(0.5);
        }
        lock.release(who);
    }
}

fn ex_9_1_01_plain_del<B: System>() {
    let cluster = Cluster::<B>::new(Faults::none());
    let server = redis_server(&cluster, "redis");
    let ctx = Arc::new(LockCtx::new(Flavor::PlainDel, 3.0));
    let procs: Vec<_> = (1..=2)
        .map(|i| {
            let name = format!("worker-{i}");
            let redis = RedisClient::new(cluster.node(&name), server.clone());
            let ctx = ctx.clone();
            B::spawn_process(&name.clone(), move || {
                let manager = RedisLockManager::new(redis, ctx);
                slow_with(&manager.get_lock("resource_1", 1), &name);
            })
        })
        .collect();
    for p in procs {
        p.join();
    }
}

fn ex_9_1_01_shared_manager<B: System>() {
    let cluster = Cluster::<B>::new(Faults::none());
    let server = redis_server(&cluster, "redis");
    let redis = RedisClient::new(cluster.node("app"), server);
    let manager = Arc::new(RedisLockManager::new(
        redis,
        Arc::new(LockCtx::new(Flavor::Written, 3.0)),
    ));
    let threads: Vec<_> = (1..=2)
        .map(|i| {
            let manager = manager.clone();
            let name = format!("thread-{i}");
            B::spawn(&name.clone(), move || {
                slow_with(&manager.get_lock("x", 1), &name);
            })
        })
        .collect();
    for t in threads {
        t.join();
    }
}

// ---------------------------------------------------------------------------------------
// ex-9.1-02: RedisReentrantLock
// ---------------------------------------------------------------------------------------

fn int_of(v: &Lua) -> Option<f64> {
    match v {
        Lua::Number(x) => Some(*x),
        Lua::Str(s) => s.parse().ok(),
        _ => None,
    }
}

fn acquire_02(ctx: &mut ScriptCtx<'_>, k: &[String], a: &[String]) -> ScriptResult {
    let (lock_key, identifier) = (&k[0], &a[0]);
    let timeout: i64 = a[1].parse().unwrap_or(0);
    let current_time: i64 = a[2].parse().unwrap_or(0);
    let count_key = format!("{lock_key}:count");
    let expire_key = format!("{lock_key}:expire");
    let existing = ctx.call(Cmd::get(lock_key))?;
    if existing == Lua::str(identifier) {
        ctx.call(Cmd::hincrby(&count_key, identifier, 1))?;
        ctx.call(Cmd::expire(lock_key, timeout))?;
        ctx.call(Cmd::expire(&count_key, timeout))?;
        Ok(Lua::int(1))
    } else if !existing.truthy() {
        ctx.call(Cmd::set(lock_key, identifier).ex(timeout))?;
        ctx.call(Cmd::HSet(
            count_key.clone(),
            vec![(identifier.clone(), "1".into())],
        ))?;
        ctx.call(Cmd::expire(&count_key, timeout))?;
        ctx.call(Cmd::set(&expire_key, (current_time + timeout).to_string()).ex(timeout))?;
        Ok(Lua::int(1))
    } else {
        Ok(Lua::int(0))
    }
}

/// `RedisReentrantLock._try_acquire`'s script.
const ACQUIRE_02: Script = Script::new(
    "reentrant-acquire",
    "local existing_identifier = redis.call(\"GET\", lock_key) if existing_identifier == identifier then redis.call(\"HINCRBY\", count_key, identifier, 1) redis.call(\"EXPIRE\", lock_key, timeout) redis.call(\"EXPIRE\", count_key, timeout) return 1 elseif not existing_identifier then redis.call(\"SET\", lock_key, identifier, \"EX\", timeout) redis.call(\"HSET\", count_key, identifier, 1) redis.call(\"EXPIRE\", count_key, timeout) redis.call(\"SET\", expire_key, current_time + timeout, \"EX\", timeout) return 1 else return 0 end",
    acquire_02,
);

fn renew_02(ctx: &mut ScriptCtx<'_>, k: &[String], a: &[String]) -> ScriptResult {
    let lock_key = &k[0];
    let timeout: i64 = a[1].parse().unwrap_or(0);
    let current_time: i64 = a[2].parse().unwrap_or(0);
    let expire_key = format!("{lock_key}:expire");
    let expire_time = int_of(&ctx.call(Cmd::get(&expire_key))?);
    if let Some(e) = expire_time {
        if e - (current_time as f64) < timeout as f64 / 2.0 {
            ctx.call(Cmd::expire(lock_key, timeout))?;
            ctx.call(Cmd::expire(format!("{lock_key}:count"), timeout))?;
            ctx.call(Cmd::set(&expire_key, (current_time + timeout).to_string()).ex(timeout))?;
            return Ok(Lua::int(1));
        }
    }
    Ok(Lua::int(0))
}

/// `_renewal_worker`'s script: no owner check (the identifier is passed and unused).
const RENEW_02: Script = Script::new(
    "reentrant-renew",
    "local expire_time = tonumber(redis.call(\"GET\", expire_key)) if expire_time and expire_time - current_time < timeout / 2 then redis.call(\"EXPIRE\", lock_key, timeout) redis.call(\"EXPIRE\", lock_key .. \":count\", timeout) redis.call(\"SET\", expire_key, current_time + timeout, \"EX\", timeout) return 1 end return 0",
    renew_02,
);

fn release_02(ctx: &mut ScriptCtx<'_>, k: &[String], a: &[String]) -> ScriptResult {
    let (lock_key, identifier) = (&k[0], &a[0]);
    let count_key = format!("{lock_key}:count");
    let current = int_of(&ctx.call(Cmd::HGet(count_key.clone(), identifier.clone()))?);
    if let Some(c) = current {
        if c > 1.0 {
            ctx.call(Cmd::hincrby(&count_key, identifier, -1))?;
        } else {
            ctx.call(Cmd::del(lock_key))?;
            ctx.call(Cmd::del(&count_key))?;
            ctx.call(Cmd::del(format!("{lock_key}:expire")))?;
        }
        return Ok(Lua::int(1));
    }
    Ok(Lua::int(0))
}

/// `RedisReentrantLock.release`'s script.
const RELEASE_02: Script = Script::new(
    "reentrant-release",
    "local current_count = redis.call(\"HGET\", count_key, identifier) if current_count then current_count = tonumber(current_count) if current_count > 1 then redis.call(\"HINCRBY\", count_key, identifier, -1) return 1 else redis.call(\"DEL\", lock_key) redis.call(\"DEL\", count_key) redis.call(\"DEL\", lock_key .. \":expire\") return 1 end end return 0",
    release_02,
);

/// `RedisReentrantLock`: the parts its watchdog thread shares.
struct Reentrant<B: Backend> {
    redis: RedisClient<B>,
    lock_name: String,
    timeout: i64,
    identifier: String,
    renewal_interval: f64,
    stop_renewal: Event<B>,
}

/// `RedisReentrantLock` with `auto_renewal=True`.
struct RedisReentrantLock<B: Backend> {
    inner: Arc<Reentrant<B>>,
    acquired: Shared<bool, B>,
    renewal_thread: Mutex<Option<B::JoinHandle<()>>>,
    /// Watchdogs a later acquire replaced (`self.renewal_thread = ...`): still running.
    orphans: Mutex<Vec<B::JoinHandle<()>>>,
}

impl<B: Backend> RedisReentrantLock<B> {
    /// `RedisReentrantLock(redis_client, lock_name, timeout, True, renewal_interval)`;
    /// without `import threading` (as written: 9.1 imports it nowhere) `__init__`'s
    /// `threading.Event()` raises `NameError`.
    fn new(
        redis: RedisClient<B>,
        lock_name: &str,
        timeout: i64,
        renewal_interval: f64,
        threading_imported: bool,
    ) -> Result<Self, String> {
        if !threading_imported {
            return Err("NameError: name 'threading' is not defined".into());
        }
        let identifier = format!("uuid-{}", redis.node().name());
        Ok(RedisReentrantLock {
            acquired: Shared::new(false).with_name(&format!("{identifier}.acquired")),
            inner: Arc::new(Reentrant {
                redis,
                lock_name: lock_name.to_owned(),
                timeout,
                identifier,
                renewal_interval,
                stop_renewal: Event::new().with_name("stop_renewal"),
            }),
            renewal_thread: Mutex::new(None),
            orphans: Mutex::new(Vec::new()),
        })
    }

    fn acquire(&self) -> bool {
        let node = self.inner.redis.node();
        let start = node.time();
        while node.time() - start < 30.0 {
            if self.try_acquire() {
                self.acquired.set(true);
                self.start_renewal_thread();
                return true;
            }
            sleep::<B>(0.1);
        }
        false
    }

    fn try_acquire(&self) -> bool {
        let i = &self.inner;
        let current_time = (i.redis.node().time() as i64).to_string();
        let r = i.redis.eval(
            ACQUIRE_02,
            &[&i.lock_name],
            &[&i.identifier, &i.timeout.to_string(), &current_time],
        );
        matches!(r, Ok(Reply::Int(n)) if n != 0)
    }

    fn start_renewal_thread(&self) {
        self.inner.stop_renewal.clear();
        let inner = self.inner.clone();
        let name = format!("{}-renewal", inner.redis.node().name());
        let t = B::spawn(&name, move || renewal_worker(&inner));
        let old = self
            .renewal_thread
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .replace(t);
        if let Some(old) = old {
            self.orphans
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(old);
        }
    }

    fn release(&self) -> bool {
        if !self.acquired.get() {
            return false;
        }
        self.inner.stop_renewal.set();
        let t = self
            .renewal_thread
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        if let Some(t) = t {
            t.join(); // join(timeout=2): the watchdog returns at once once stopped
        }
        let i = &self.inner;
        let r = i.redis.eval(RELEASE_02, &[&i.lock_name], &[&i.identifier]);
        // Success or not, `acquired` ends False (both branches set it).
        self.acquired.set(false);
        matches!(r, Ok(Reply::Int(n)) if n != 0)
    }

    /// Joins the watchdogs a later acquire orphaned (Python never does; a model must let
    /// every thread end).
    fn join_orphans(&self) {
        let v = std::mem::take(&mut *self.orphans.lock().unwrap_or_else(|e| e.into_inner()));
        for t in v {
            t.join();
        }
    }
}

/// `_renewal_worker`: every `renewal_interval`, the renewal script; its result ignored. The
/// judge: a renewal that extended a lock key holding another client's identifier.
fn renewal_worker<B: Backend>(i: &Reentrant<B>) {
    while !i
        .stop_renewal
        .wait(Some(i.renewal_interval))
        .unwrap_or(true)
    {
        let current_time = (i.redis.node().time() as i64).to_string();
        let lock_key = i.lock_name.clone();
        let me = i.identifier.clone();
        let r = i.redis.call_observed(
            Cmd::eval(
                RENEW_02,
                &[&i.lock_name],
                &[&i.identifier, &i.timeout.to_string(), &current_time],
            ),
            move |r, conn, clock, reply| {
                if *reply != Reply::Int(1) {
                    return None;
                }
                match r.apply(conn, Cmd::get(&lock_key), clock) {
                    Reply::Bulk(holder) if holder != me => Some(holder),
                    _ => None,
                }
            },
        );
        if let Ok((_, Some(holder))) = r {
            ensure(false, "only-owner-renews", || {
                format!(
                    "{}'s watchdog extended {} held by {holder}",
                    i.identifier, i.lock_name
                )
            });
        }
    }
}

/// A nested `with lock:` in one process (`threading` imported or not).
fn nested_model<B: System>(threading_imported: bool) {
    let cluster = Cluster::<B>::new(Faults::none());
    let server = redis_server(&cluster, "redis");
    let app = RedisClient::new(cluster.node("app"), server);
    let lock = match RedisReentrantLock::new(app.clone(), "resource", 30, 10.0, threading_imported)
    {
        Ok(l) => l,
        Err(e) => return uncaught("main", &e),
    };
    // with lock:  with lock:  work  (exit)  (exit)
    if lock.acquire() {
        if lock.acquire() {
            sleep::<B>(1.0);
            lock.release();
        }
        lock.release();
    }
    lock.join_orphans();
    let left = app.call(Cmd::exists("resource"));
    ensure(left == Ok(Reply::Int(0)), "lock-released", || {
        format!(
            "after both releases of a nested `with lock:` EXISTS resource → {} (count 1 left, no watchdog)",
            left.map_or_else(|e| e.to_string(), |r| r.to_string())
        )
    });
}

fn ex_9_1_02<B: System>() {
    nested_model::<B>(false);
}

fn ex_9_1_02_nested<B: System>() {
    nested_model::<B>(true);
}

/// Two processes with a `RedisReentrantLock(timeout=3, renewal 1 s)` each: `(name, start,
/// work)`; with a region around each critical section when `region`.
fn reentrant_pair<B: System>(faults: Faults, clients: [(&'static str, f64, f64); 2], region: bool) {
    let cluster = Cluster::<B>::new(faults);
    let server = redis_server(&cluster, "redis");
    let region = region.then(|| Arc::new(Region::<B>::new("critical", 1)));
    let procs: Vec<_> = clients
        .into_iter()
        .map(|(name, start, work)| {
            let redis = RedisClient::new(cluster.node(name), server.clone());
            let region = region.clone();
            B::spawn_process(name, move || {
                sleep::<B>(start);
                let Ok(lock) = RedisReentrantLock::new(redis, "resource", 3, 1.0, true) else {
                    return;
                };
                if lock.acquire() {
                    {
                        let _inside = region.as_ref().map(|r| r.enter());
                        sleep::<B>(work);
                    }
                    lock.release();
                }
                lock.join_orphans();
            })
        })
        .collect();
    for p in procs {
        p.join();
    }
}

fn ex_9_1_02_watchdog<B: System>() {
    reentrant_pair::<B>(
        Faults::none(),
        [("client-a", 0.0, 2.0), ("client-b", 0.5, 4.0)],
        false,
    );
}

fn ex_9_1_02_renewal<B: System>() {
    reentrant_pair::<B>(
        Faults::none(),
        [("client-a", 0.0, 4.0), ("client-b", 2.5, 1.0)],
        true,
    );
}

fn ex_9_1_02_clock_jump<B: System>() {
    reentrant_pair::<B>(
        Faults::none().clock_jumps(1, Duration::from_secs(3)),
        [("client-a", 0.0, 4.0), ("client-b", 2.5, 1.0)],
        true,
    );
}

// ---------------------------------------------------------------------------------------
// ex-9.1-03: RedLock
// ---------------------------------------------------------------------------------------

fn lock_instance_03(ctx: &mut ScriptCtx<'_>, k: &[String], a: &[String]) -> ScriptResult {
    let timeout: i64 = a[1].parse().unwrap_or(0);
    let owner = format!("{}:owner", k[0]);
    if ctx
        .call(Cmd::set(&k[0], &a[0]).nx().px(timeout * 1000))?
        .truthy()
    {
        ctx.call(Cmd::set(&owner, &a[0]).px(timeout * 1000))?;
        Ok(Lua::int(1))
    } else {
        Ok(Lua::int(0))
    }
}

/// `RedLock._lock_instance`'s script.
const LOCK_INSTANCE_03: Script = Script::new(
    "redlock-instance",
    "if redis.call(\"SET\", lock_key, identifier, \"NX\", \"PX\", timeout * 1000) then redis.call(\"SET\", lock_key .. \":owner\", identifier, \"PX\", timeout * 1000) return 1 else return 0 end",
    lock_instance_03,
);

/// `RedLock`: sequential `SET NX PX` on every instance, majority by count alone.
struct RedLock<B: Backend> {
    clients: Vec<RedisClient<B>>,
    lock_name: String,
    timeout: i64,
    retry_delay: f64,
    identifier: String,
    acquired: Shared<bool, B>,
}

impl<B: Backend> RedLock<B> {
    fn acquire(&self, retry_times: usize) -> bool {
        let node = self.clients[0].node().clone();
        for _ in 0..retry_times {
            let start_time = node.time();
            let successful = self
                .clients
                .iter()
                .filter(|c| self.lock_instance(c))
                .count();
            let elapsed = node.time() - start_time;
            if successful > self.clients.len() / 2 {
                self.acquired.set(true);
                return true;
            }
            self.release_all_locks();
            let remaining = self.timeout as f64 - elapsed;
            if remaining > 0.0 {
                sleep::<B>(self.retry_delay.min(remaining));
            } else {
                break;
            }
        }
        false
    }

    fn lock_instance(&self, c: &RedisClient<B>) -> bool {
        let now_ms = ((c.node().time() * 1000.0) as i64).to_string();
        let r = c.eval(
            LOCK_INSTANCE_03,
            &[&self.lock_name],
            &[&self.identifier, &self.timeout.to_string(), &now_ms],
        );
        matches!(r, Ok(Reply::Int(n)) if n != 0)
    }

    fn release_all_locks(&self) {
        for c in &self.clients {
            let _ = c.eval(RELEASE_01, &[&self.lock_name], &[&self.identifier]);
        }
    }

    fn release(&self) -> bool {
        if !self.acquired.get() {
            return false;
        }
        self.release_all_locks();
        self.acquired.set(false);
        true
    }
}

/// Two RedLock clients; B starts at `b_start` seconds.
fn redlock_model<B: System>(faults: Faults, b_start: f64) {
    let cluster = Cluster::<B>::new(faults.timeout(Duration::from_millis(200)));
    let servers: Vec<_> = (1..=3)
        .map(|i| redis_server(&cluster, &format!("redis-{i}")))
        .collect();
    let region = Arc::new(Region::<B>::new("critical", 1));
    let procs: Vec<_> = [("client-a", 0.0), ("client-b", b_start)]
        .into_iter()
        .map(|(name, start)| {
            let node = cluster.node(name);
            let clients: Vec<_> = servers
                .iter()
                .map(|s| RedisClient::new(node.clone(), s.clone()))
                .collect();
            let region = region.clone();
            B::spawn_process(name, move || {
                sleep::<B>(start);
                let lock = RedLock {
                    clients,
                    lock_name: "resource".into(),
                    timeout: 3,
                    retry_delay: 0.1,
                    identifier: format!("uuid-{name}"),
                    acquired: Shared::new(false).with_name("acquired"),
                };
                // with lock: ... (RuntimeError when acquire fails: nothing done)
                if lock.acquire(3) {
                    {
                        let _inside = region.enter();
                        sleep::<B>(1.0);
                    }
                    lock.release();
                }
            })
        })
        .collect();
    for p in procs {
        p.join();
    }
}

fn ex_9_1_03<B: System>() {
    redlock_model::<B>(Faults::none(), 0.3);
}

fn ex_9_1_03_pause<B: System>() {
    redlock_model::<B>(Faults::none(), 3.5);
}

fn ex_9_1_03_clock_jump<B: System>() {
    redlock_model::<B>(
        Faults::none()
            .messages(1)
            .clock_jumps(1, Duration::from_secs(10)),
        0.3,
    );
}

fn ex_9_1_03_restart<B: System>() {
    redlock_model::<B>(Faults::none().messages(1).restarts(1), 0.3);
}

// ---------------------------------------------------------------------------------------
// ex-9.1-04: DistributedTaskScheduler
// ---------------------------------------------------------------------------------------

/// Start times (true time, s) of every run of the task, judged per interval.
type Runs = Arc<Mutex<Vec<f64>>>;

/// `task_worker` of `schedule_task("cleanup_task", sleep 2, interval 30, max 2)`.
fn task_worker<B: System>(manager: &RedisLockManager<B>, who: &str, runs: &Runs) {
    let (task_name, interval, max_executions) = ("cleanup_task", 30.0, 2);
    let lock_name = format!("task_lock:{task_name}");
    let redis = &manager.redis;
    loop {
        let lock = manager.get_lock(&lock_name, 5);
        if let Err(e) = lock.enter(who) {
            uncaught(&format!("thread {who}"), &e);
            return;
        }
        let count = match redis.call(Cmd::get(format!("task_count:{task_name}"))) {
            Ok(Reply::Bulk(s)) => s.parse().unwrap_or(0),
            _ => 0,
        };
        if count >= max_executions {
            lock.release(who);
            break;
        }
        let now = B::now().0 as f64 / 1e9;
        {
            let mut r = runs.lock().unwrap_or_else(|e| e.into_inner());
            let last = r.last().copied();
            r.push(now);
            if let Some(last) = last {
                ensure(now - last >= interval, "no-double-execution", || {
                    format!(
                        "{who} starts {task_name} at {now:.1} s, {:.1} s after the previous run (interval {interval} s)",
                        now - last
                    )
                });
            }
        }
        sleep::<B>(2.0); // task_func: time.sleep(2)
                         // _record_execution: INCR, then json.dumps raises NameError (json not imported),
                         // caught and logged: no LPUSH.
        let _ = redis.call(Cmd::incr(format!("task_count:{task_name}")));
        lock.release(who);
        sleep::<B>(interval);
    }
}

fn ex_9_1_04<B: System>() {
    let cluster = Cluster::<B>::new(Faults::none());
    let server = redis_server(&cluster, "redis");
    let runs: Runs = Arc::default();
    let procs: Vec<_> = (1..=2)
        .map(|i| {
            let name = format!("node-{i}");
            let redis = RedisClient::new(cluster.node(&name), server.clone());
            let runs = runs.clone();
            B::spawn_process(&name.clone(), move || {
                let manager =
                    RedisLockManager::new(redis, Arc::new(LockCtx::new(Flavor::Written, 30.0)));
                task_worker(&manager, &name, &runs);
            })
        })
        .collect();
    for p in procs {
        p.join();
    }
}

// ---------------------------------------------------------------------------------------
// ex-9.1-05: CacheConsistencyController
// ---------------------------------------------------------------------------------------

/// What the model fixes of the example as written.
#[derive(Clone, Copy)]
struct CacheFixes {
    /// `data_fetcher(key)` instead of `data_fetcher()`.
    arity: bool,
    /// `import json` (else `json.dumps` raises `NameError`).
    json: bool,
}

/// `CacheConsistencyController` with its counting database.
struct CacheController<B: Backend> {
    manager: RedisLockManager<B>,
    fixes: CacheFixes,
    db_hits: Arc<Mutex<u32>>,
}

impl<B: System> CacheController<B> {
    /// `database_fetcher(key)` through the demo's lambda: `Err` is a `TypeError` when the
    /// controller calls it without the key.
    fn data_fetcher(&self, key: &str) -> Result<String, String> {
        if !self.fixes.arity {
            return Err(
                "TypeError: <lambda>() missing 1 required positional argument: 'key'".into(),
            );
        }
        sleep::<B>(0.2);
        *self.db_hits.lock().unwrap_or_else(|e| e.into_inner()) += 1;
        let t = self.manager.redis.node().time() as i64;
        Ok(format!("db_data_for_{key}_timestamp_{t}"))
    }

    fn get_with_cache_fallback(&self, key: &str, who: &str) -> Result<String, String> {
        let redis = &self.manager.redis;
        let cache_key = format!("cache:{key}");
        let lock_key = format!("lock:{key}");
        if let Ok(Reply::Bulk(v)) = redis.call(Cmd::get(&cache_key)) {
            return Ok(v);
        }
        let mut lock_acquired = false;
        let lock = self.manager.get_lock(&lock_key, 5);
        let result = (|| {
            if lock.acquire(false, who) {
                lock_acquired = true;
                if let Ok(Reply::Bulk(v)) = redis.call(Cmd::get(&cache_key)) {
                    return Ok(v);
                }
                let data = self.data_fetcher(key)?;
                if self.fixes.json {
                    let _ = redis.call(Cmd::SetEx {
                        key: cache_key.clone(),
                        seconds: 60,
                        value: data.clone(),
                    });
                } // else: NameError: name 'json' is not defined, caught and logged
                Ok(data)
            } else {
                self.data_fetcher(key)
            }
        })();
        // except Exception: return data_fetcher()
        let result = result.or_else(|_| self.data_fetcher(key));
        if lock_acquired {
            lock.release(who);
        }
        result
    }
}

fn cache_model<B: System>(fixes: CacheFixes, readers: usize) {
    let cluster = Cluster::<B>::new(Faults::none());
    let server = redis_server(&cluster, "redis");
    let redis = RedisClient::new(cluster.node("app"), server);
    let controller = Arc::new(CacheController {
        manager: RedisLockManager::new(
            redis.clone(),
            Arc::new(LockCtx::new(Flavor::Written, 30.0)),
        ),
        fixes,
        db_hits: Arc::default(),
    });
    let key = "user_123";
    if readers == 1 {
        // demo_cache_consistency: a miss, then a hit.
        for round in 0..2 {
            match controller.get_with_cache_fallback(key, "main") {
                Ok(_) if round == 0 => {}
                Ok(_) => {
                    let hits = *controller.db_hits.lock().unwrap_or_else(|e| e.into_inner());
                    ensure(hits == 1, "cache-hit", || {
                        format!("the second get of {key} went to the database ({hits} fetches): the cache was never filled")
                    });
                }
                Err(e) => return uncaught("demo_cache_consistency", &e),
            }
        }
        let left = redis.call(Cmd::exists(format!("lock:{key}")));
        ensure(left == Ok(Reply::Int(0)), "lock-released", || {
            "the refill lock lock:user_123 is still there after the refill (acquire(blocking=False) never set `acquired`, so release() did nothing)".into()
        });
        return;
    }
    let threads: Vec<_> = (1..=readers)
        .map(|i| {
            let c = controller.clone();
            let who = format!("reader-{i}");
            B::spawn(&who.clone(), move || {
                let _ = c.get_with_cache_fallback(key, &who);
            })
        })
        .collect();
    for t in threads {
        t.join();
    }
    let hits = *controller.db_hits.lock().unwrap_or_else(|e| e.into_inner());
    ensure(hits <= 1, "db-hit-once", || {
        format!("{readers} concurrent misses of {key} made {hits} database fetches: the losers of the refill lock go to the database")
    });
}

fn ex_9_1_05<B: System>() {
    cache_model::<B>(
        CacheFixes {
            arity: false,
            json: false,
        },
        1,
    );
}

fn ex_9_1_05_arity<B: System>() {
    cache_model::<B>(
        CacheFixes {
            arity: true,
            json: false,
        },
        1,
    );
}

fn ex_9_1_05_fixed<B: System>() {
    cache_model::<B>(
        CacheFixes {
            arity: true,
            json: true,
        },
        1,
    );
}

fn ex_9_1_05_stampede<B: System>() {
    cache_model::<B>(
        CacheFixes {
            arity: true,
            json: true,
        },
        3,
    );
}

/// The section's scenarios, in tutorial order.
pub fn scenarios() -> Vec<Scenario> {
    vec![
        Scenario::new(
            "ex-9.1-01",
            "RedisLock demo: with get_lock('resource_1', timeout=10), 5 x 1 s of work, cleanup_all_locks",
            bodies!(ex_9_1_01),
        )
        .holds("SET NX EX grants the lock, 5 s of work fit in the 10 s TTL, the compare-and-delete release removes the key")
        .source("ex-9.1-01"),
        Scenario::new(
            "ex-9.1-01-pause",
            "RedisLock with a fencing counter issued by the acquire script; 2 worker processes write their 5 steps to an unfenced storage; one may pause 2 s (TTL 1 s)",
            bodies!(ex_9_1_01_pause),
        )
        .violates("stale-write", "the holder paused past its TTL: the other worker's SET NX succeeds (token 2) and writes; the paused one resumes believing it holds the lock and writes with token 1 after token 2 was accepted")
        .pauses(1, Duration::from_secs(2))
        .source("ex-9.1-01")
        .threads(2),
        Scenario::new(
            "ex-9.1-01-fenced",
            "the -pause schedule against a fenced storage",
            bodies!(ex_9_1_01_fenced),
        )
        .holds("the storage keeps the largest token it accepted and rejects the paused holder's token 1 after token 2: its stale write never lands")
        .pauses(1, Duration::from_secs(2))
        .source("ex-9.1-01")
        .threads(2),
        Scenario::new(
            "ex-9.1-01-plain-del",
            "RedisLock released by a plain DEL; 2 worker processes, 1.5 s of work under a 1 s TTL",
            bodies!(ex_9_1_01_plain_del),
        )
        .violates("only-owner-releases", "the first holder's lock expires during its work, the other worker gets it, and the first holder's DEL deletes the second's lock")
        .source("ex-9.1-01")
        .threads(2),
        Scenario::new(
            "ex-9.1-01-shared-manager",
            "two threads of one process take the manager's cached RedisLock('x', timeout=1) and work 1.5 s",
            bodies!(ex_9_1_01_shared_manager),
        )
        .violates("only-owner-releases", "both threads hold the same RedisLock (one UUID, one `acquired` flag): the second acquires after the first's TTL, and the first's compare-and-delete matches the shared UUID and deletes the second thread's lock")
        .source("ex-9.1-01")
        .threads(2),
        Scenario::new(
            "ex-9.1-02",
            "RedisReentrantLock as written (9.1's code never imports threading): a nested `with lock:` in one process",
            bodies!(ex_9_1_02),
        )
        .violates("no-uncaught-exception", "__init__ calls threading.Event(), and no code of 9.1 imports threading: NameError before anything reaches Redis")
        .source("ex-9.1-02"),
        Scenario::new(
            "ex-9.1-02-nested",
            "RedisReentrantLock(timeout=30, renewal 10 s) with `import threading`: a nested `with lock:` in one process",
            bodies!(ex_9_1_02_nested),
        )
        .violates("lock-released", "the inner release decrements the count 2 -> 1 and sets acquired = False, so the outer release returns False at once: the lock key stays with count 1, its watchdog stopped, until its TTL")
        .source("ex-9.1-02")
        .threads(2),
        Scenario::new(
            "ex-9.1-02-watchdog",
            "RedisReentrantLock(timeout=3, renewal 1 s) with `import threading`: client A works 2 s, client B arrives at 0.5 s and works 4 s; A may pause 4 s",
            bodies!(ex_9_1_02_watchdog),
        )
        .violates("only-owner-renews", "A paused past its TTL, B took the lock; A's watchdog wakes and its renewal script, which never compares the lock's value with A's identifier, extends B's lock (and A ignores the result, never learning it lost the lock)")
        .pauses(1, Duration::from_secs(4))
        .source("ex-9.1-02")
        .threads(4),
        Scenario::new(
            "ex-9.1-02-renewal",
            "RedisReentrantLock(timeout=3, renewal 1 s) with `import threading`: A works 4 s relying on its watchdog, B arrives at 2.5 s; no fault",
            bodies!(ex_9_1_02_renewal),
        )
        .holds("the watchdog re-EXPIREs the keys whenever under timeout/2 remains, so A's lock outlives its 3 s TTL through 4 s of work and B gets it only after A's release")
        .not_for("loom", "measured: 20 325 loom executions in 24 s without exhausting the space (B's 15 polls beside A's watchdog and two process mains); random and pct cover it in seconds")
        .source("ex-9.1-02")
        .threads(4),
        Scenario::new(
            "ex-9.1-02-clock-jump",
            "RedisReentrantLock(timeout=3, renewal 1 s) with `import threading`: A works 4 s relying on its watchdog, B arrives at 2.5 s; one wall-clock jump of 3 s",
            bodies!(ex_9_1_02_clock_jump),
        )
        .violates("mutual-exclusion", "the watchdog renews only when the :expire deadline, written from a client's int(time.time()), is within timeout/2 of the renewer's own clock: A's clock stepping back 3 s makes it skip the renewal (or the server's stepping forward expires the key), the key expires in Redis's clock while A works, and B enters")
        .needs_choice()
        .source("ex-9.1-02")
        .threads(4),
        Scenario::new(
            "ex-9.1-03",
            "RedLock over 3 Redis instances (timeout=3, 3 retries at 0.1 s); client B arrives while A holds",
            bodies!(ex_9_1_03),
        )
        .holds("A holds all 3 instances; B gets none in its 3 attempts and gives up; nobody else enters")
        .source("ex-9.1-03")
        .threads(2),
        Scenario::new(
            "ex-9.1-03-pause",
            "the RedLock model, client B arriving at 3.5 s; client A may pause 4 s (TTL 3 s)",
            bodies!(ex_9_1_03_pause),
        )
        .violates("mutual-exclusion", "a holder paused past the TTL loses every key while it still believes it holds the lock: B gets a majority and enters")
        .pauses(1, Duration::from_secs(4))
        .source("ex-9.1-03")
        .threads(2),
        Scenario::new(
            "ex-9.1-03-clock-jump",
            "the RedLock model; one lost request and one clock jump of 10 s",
            bodies!(ex_9_1_03_clock_jump),
        )
        .violates("mutual-exclusion", "A's SET to one instance is lost, so it holds 2 of 3; one of those instances' wall clock jumps 10 s forward and A's key expires early: B gets that instance and the third, a second majority while A is inside")
        .needs_choice()
        .source("ex-9.1-03")
        .threads(2),
        Scenario::new(
            "ex-9.1-03-restart",
            "the RedLock model; one lost request and one instance restart without persistence",
            bodies!(ex_9_1_03_restart),
        )
        .violates("mutual-exclusion", "A holds 2 of 3 (one SET lost); one of its instances restarts without persistence and forgets A's key: B gets it and the third, a second majority")
        .needs_choice()
        .source("ex-9.1-03")
        .threads(2),
        Scenario::new(
            "ex-9.1-04",
            "DistributedTaskScheduler on 2 nodes: cleanup_task (2 s) every 30 s under a 5 s lock, max_executions 2",
            bodies!(ex_9_1_04),
        )
        .violates("no-double-execution", "the lock serialises the runs but does not deduplicate them: the second node blocks in __enter__ and runs the task as soon as the first releases, twice in one interval")
        .source("ex-9.1-04")
        .threads(2),
        Scenario::new(
            "ex-9.1-05",
            "CacheConsistencyController demo as written: get 'user_123' twice",
            bodies!(ex_9_1_05),
        )
        .violates("no-uncaught-exception", "the controller calls data_fetcher() but the demo passes `lambda key: ...`: TypeError, and the except branch calls it again the same way, so the TypeError escapes the demo")
        .source("ex-9.1-05"),
        Scenario::new(
            "ex-9.1-05-arity",
            "the cache demo with data_fetcher(key); `json` still not imported",
            bodies!(ex_9_1_05_arity),
        )
        .violates("cache-hit", "json.dumps raises NameError (caught and logged), so SETEX never runs and the second get misses and goes to the database again")
        .source("ex-9.1-05"),
        Scenario::new(
            "ex-9.1-05-fixed",
            "the cache demo with data_fetcher(key) and `import json`",
            bodies!(ex_9_1_05_fixed),
        )
        .violates("lock-released", "acquire(blocking=False) returns without setting `acquired`, so the finally-block release() is a no-op: the 5 s refill lock stays after the refill")
        .source("ex-9.1-05"),
        Scenario::new(
            "ex-9.1-05-stampede",
            "the fixed cache controller; 3 reader threads miss 'user_123' together",
            bodies!(ex_9_1_05_stampede),
        )
        .violates("db-hit-once", "one reader takes the refill lock; the others take the contention branch and call the database directly, so 3 concurrent misses make 3 fetches: no stampede protection")
        .source("ex-9.1-05")
        .threads(3),
    ]
}

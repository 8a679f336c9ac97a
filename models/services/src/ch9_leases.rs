//! Section 9.4 of the tutorial (lock timeouts and renewal): its examples as scenarios.
//!
//! The section's examples wrap a *simulated* lock: `TimeoutManagedLock` (ex-9.4-01) wraps a
//! `threading.Lock` and force-releases it from a monitor thread; `AdvancedDistributedLock`
//! (ex-9.4-02, used by ex-9.4-03..05) pretends to be distributed (`acquire` and
//! `_renew_lock` return `True` without asking anyone). The `as written` scenarios model
//! exactly that; the `-etcd` variants replace the pretend lock with a lease lock on the
//! etcd twin (the example's comments say "here the real distributed lock's interface
//! should be called"), with the example's two crashing typos fixed, so that its claims
//! about leases can be checked against a server that really expires them.
//!
//! | scenario | example | expected |
//! |---|---|---|
//! | `ex-9.4-01` | the demo as written: `with fixed_lock:` calls `Lock.acquire(blocking=True, timeout=None)` | no-uncaught-exception |
//! | `ex-9.4-01-fixed` | `timeout=-1`; 2 threads share the 5 s FIXED lock, the first works 8 s | mutual-exclusion |
//! | `ex-9.4-01-reuse` | `timeout=-1`; one thread takes the 5 s lock twice, the second time for 8 s | timeout-enforced |
//! | `ex-9.4-01-clock-jump` | `timeout=-1`; `datetime.now()` on a machine whose wall clock may step back an hour | timeout-enforced |
//! | `ex-9.4-02` | the demo as written (PREDICTIVE renewal, 30 s lease) | no-uncaught-exception |
//! | `ex-9.4-02-etcd` | typos fixed, lease lock on etcd; 2 clients, no fault | holds |
//! | `ex-9.4-02-etcd-pause` | typos fixed, lease lock on etcd; 2 clients, the holder may pause 4 s | stale-write |
//! | `ex-9.4-02-etcd-fenced` | the same, the resource fenced by the lock key's create revision | holds |
//! | `ex-9.4-02-etcd-mutex` | the demo under etcd's concurrency Mutex (session lease + watch); 2 clients | holds |
//! | `ex-9.4-02-etcd-mutex-pause` | the same, the holder may pause 4 s | stale-write |
//! | `ex-9.4-03` | `process_batch` as written | no-uncaught-exception |
//! | `ex-9.4-03-etcd-pause` | typos fixed, lease lock on etcd; 2 batch processors, the first may pause 7 s | stale-write |
//! | `ex-9.4-03-etcd-rerun` | typos fixed, lease lock on etcd; processor-2 runs the batch after processor-1 | exactly-once |
//! | `ex-9.4-04` | `acquire_lock` as written | no-uncaught-exception |
//! | `ex-9.4-04-etcd` | typos fixed, lease locks on etcd; 2 transactions increment X through the stages | no-lost-update |
//! | `ex-9.4-05` | `coordinate_operation` as written | no-uncaught-exception |
//! | `ex-9.4-05-estimate` | typos fixed; the progress estimate after the last service | remaining-estimate |
//! | `ex-9.4-05-etcd-pause` | typos fixed, lease lock on etcd; 2 coordinators, the first may pause 7 s | mutual-exclusion |
//!
//! Scale: seconds of the tutorial × 0.1 (a 30 s lease is 3 s, the 5/10/15/8 s stages are
//! 0.5/1.0/1.5/0.8 s, constants such as `max(5, …)` in the schedules scale alike); etcd's
//! minimum lease TTL (2 s) is above every scaled lease here, so the server grants what the
//! example asks.
//!
//! Left out, because no claim reads them: logging, statistics, and the monitor thread of
//! the `LockTimeout` inside `AdvancedDistributedLock` (it registers no callback, so its
//! expiry does nothing). In the `-etcd` variants a renewal is a keep-alive of the lock's
//! lease (etcd renews to the granted TTL: the `lease_time` the strategies compute cannot
//! change it), `release` revokes the lease, and the work the lock protects is a write of
//! each stage's progress to the cluster's [`Storage`] with the lock key's create revision
//! as token. A client process is a [`Node`] whose threads (worker and renewal) stop
//! together when the checker pauses it. The `-mutex` variants use etcd's own recipe
//! (`concurrency.Mutex` of clientv3 3.4.23 over a session lease kept alive every TTL/3),
//! whose waiter reads its watch stream every 0.1 s (the simulation has no server push).

use lockproof::backend::spawn::ProcessHandle;
use lockproof_scenario::prelude::*;
use lockproof_scenario::python::{now, sleep};
use lockproof_services::etcd::client::EtcdClient;
use lockproof_services::etcd::concurrency::Mutex;
use lockproof_services::etcd::{
    ClientId, Compare, CompareResult, Etcd, LeaseGrantRequest, LeaseId, PutRequest, RangeRequest,
    Request, Response, Revision, TxnRequest,
};
use lockproof_services::sim::{Cluster, Faults, Node, Server, Storage};

/// Seconds of the tutorial → seconds of the model.
const SCALE: f64 = 0.1;

/// A Python exception the example raises: the last line of its traceback.
type Raised = String;

/// An exception that escapes the example's top-level call: the demo dies with a
/// traceback, which its claims (the printed results) do not allow.
fn uncaught(who: &str, e: &str) {
    ensure(false, "no-uncaught-exception", || {
        format!("{who}: Traceback (most recent call last): … {e}")
    });
}

// ---- ex-9.4-01: LockTimeout and TimeoutManagedLock ------------------------------------------

const NONE_TIMEOUT: &str = "TypeError: 'NoneType' object cannot be interpreted as an integer";

/// `LockTimeout` with the FIXED policy (the scenarios use no other): a `datetime.now()`
/// deadline and a monitor thread that checks it every second.
struct LockTimeout<B: Backend> {
    timeout_seconds: f64,
    expires_at: Shared<Option<f64>, B>,
    /// `stop_monitoring`: set by `stop()`, never cleared (the example's defect 4).
    stop_monitoring: Event<B>,
    /// `monitor_thread`: its ident (0 until it runs) and an event it sets as it ends
    /// (`join(timeout)`).
    monitor: Shared<Option<Monitor<B>>, B>,
    /// The monitor's period (1 s in the tutorial).
    period: f64,
    /// Where `datetime.now()` is read: a cluster node's wall clock (which the checker may
    /// make jump), or true time.
    clock: Option<Node<B>>,
}

impl<B: Backend> LockTimeout<B> {
    fn new(timeout_seconds: f64, period: f64) -> Self {
        LockTimeout {
            timeout_seconds,
            expires_at: Shared::new(None).with_name("timeout_manager.expires_at"),
            stop_monitoring: Event::new().with_name("timeout_manager.stop_monitoring"),
            monitor: Shared::new(None).with_name("timeout_manager.monitor_thread"),
            period,
            clock: None,
        }
    }

    /// `datetime.now()`, in seconds.
    fn wall(&self) -> f64 {
        match &self.clock {
            Some(node) => node.time(),
            None => now::<B>(),
        }
    }

    fn is_expired(&self) -> bool {
        self.expires_at.get().is_some_and(|e| self.wall() > e)
    }

    /// `stop()`: set the event, then `monitor_thread.join(timeout=2)`, which raises
    /// `RuntimeError` when the monitor itself calls it.
    fn stop(&self) -> Result<(), Raised> {
        self.stop_monitoring.set();
        if let Some((ident, finished)) = self.monitor.get() {
            if ident.get() == B::current_thread() {
                return Err("RuntimeError: cannot join current thread".into());
            }
            let _ = finished.wait(Some(2.0));
        }
        Ok(())
    }
}

/// A started monitor thread: its ident once it runs, and the event it sets as it ends.
type Monitor<B> = (Arc<Shared<u64, B>>, Arc<Event<B>>);

/// `TimeoutManagedLock`: a `threading.Lock`, one `acquired` flag shared by every thread,
/// and the timeout manager whose callback force-releases the lock.
struct TimeoutManagedLock<B: Backend> {
    lock: Lock<B>,
    timeout_manager: LockTimeout<B>,
    acquired: Shared<bool, B>,
    /// Probe (not in the example): whether the monitor's callback force-released.
    forced: Shared<bool, B>,
}

impl<B: Backend> TimeoutManagedLock<B> {
    fn new(name: &str, timeout: f64) -> Arc<Self> {
        Self::with_clock(name, timeout, None)
    }

    fn with_clock(name: &str, timeout: f64, clock: Option<Node<B>>) -> Arc<Self> {
        let mut timeout_manager = LockTimeout::new(timeout, 1.0 * SCALE);
        timeout_manager.clock = clock;
        Arc::new(TimeoutManagedLock {
            lock: Lock::new().with_name(name),
            timeout_manager,
            acquired: Shared::new(false).with_name("self.acquired"),
            forced: Shared::new(false).with_name("probe:forced"),
        })
    }

    /// `acquire(blocking, timeout)`: `self.lock.acquire(blocking=blocking,
    /// timeout=timeout)`, so the default `timeout=None` raises `TypeError`.
    fn acquire(self: &Arc<Self>, blocking: bool, timeout: Option<f64>) -> Result<bool, Raised> {
        let Some(t) = timeout else {
            return Err(NONE_TIMEOUT.into());
        };
        if !self
            .lock
            .acquire_with(blocking, t)
            .map_err(|e| e.python_repr())?
        {
            return Ok(false);
        }
        self.acquired.set(true);
        self.start_timer();
        Ok(true)
    }

    /// `timeout_manager.start_timer()` with `_on_timeout` as its callback.
    fn start_timer(self: &Arc<Self>) {
        let tm = &self.timeout_manager;
        tm.expires_at.set(Some(tm.wall() + tm.timeout_seconds));
        // _start_monitoring: return if the monitor thread is alive.
        if let Some((_, finished)) = tm.monitor.get() {
            if !finished.is_set() {
                return;
            }
        }
        let me = Arc::clone(self);
        let ident = Arc::new(Shared::<u64, B>::new(0).with_name("monitor_thread.ident"));
        let finished = Arc::new(Event::<B>::new().with_name("monitor_thread.finished"));
        tm.monitor
            .set(Some((Arc::clone(&ident), Arc::clone(&finished))));
        let h = B::spawn("timeout_monitor", move || {
            ident.set(B::current_thread());
            me.monitor_loop();
            finished.set();
        });
        drop(h);
    }

    /// `timeout_monitor`: `while not stop_monitoring.wait(1)`, on expiry call the callbacks
    /// (an exception is logged) and stop.
    fn monitor_loop(self: &Arc<Self>) {
        let tm = &self.timeout_manager;
        while !tm.stop_monitoring.wait(Some(tm.period)).unwrap_or(true) {
            if tm.is_expired() {
                // callback(self.identifier): _on_timeout
                if let Err(_e) = self.on_timeout() {
                    // logging.error(f"超时回调执行失败: {e}")
                }
                break;
            }
        }
    }

    fn on_timeout(&self) -> Result<(), Raised> {
        if self.acquired.get() {
            // _force_release
            self.acquired.set(false);
            if self.lock.locked() {
                self.forced.set(true);
                let _ = self.lock.release();
            }
            self.timeout_manager.stop()?;
        }
        Ok(())
    }

    /// `release()`.
    fn release(&self) -> bool {
        if !self.acquired.get() {
            return false;
        }
        let _ = self.timeout_manager.stop();
        if self.lock.locked() && self.lock.release().is_err() {
            return false;
        }
        self.acquired.set(false);
        true
    }
}

/// ex-9.4-01 as written: `timeout_example()` enters `with fixed_lock:` (timeout 5), whose
/// `acquire()` passes `timeout=None` to `threading.Lock.acquire`.
fn ex_9_4_01<B: Backend>() {
    let fixed_lock = TimeoutManagedLock::<B>::new("fixed_lock", 5.0 * SCALE);
    match fixed_lock.acquire(true, None) {
        Ok(_) => {
            ensure(false, "no-uncaught-exception", || {
                "acquire(timeout=None) must raise on CPython 3.11".into()
            });
        }
        Err(e) => uncaught("timeout_example", &e),
    }
}

/// ex-9.4-01 with `timeout=-1`: Worker-1 (main) holds the demo's 5 s FIXED lock for 8 s;
/// Worker-2 arrives at 0.1 s. Claim: a lock — at most one thread inside.
fn ex_9_4_01_fixed<B: Backend>() {
    let lock = TimeoutManagedLock::<B>::new("fixed_lock", 5.0 * SCALE);
    let cs = Arc::new(Region::<B>::new("critical section", 1));
    let (l2, cs2) = (Arc::clone(&lock), Arc::clone(&cs));
    let w2 = B::spawn("Worker-2", move || {
        sleep::<B>(0.1);
        let _ = l2.acquire(true, Some(-1.0));
        {
            let _inside = cs2.enter();
            sleep::<B>(0.5);
        }
        l2.release();
    });
    let _ = lock.acquire(true, Some(-1.0));
    {
        let _inside = cs.enter();
        sleep::<B>(8.0 * SCALE);
    }
    lock.release();
    w2.join();
}

/// ex-9.4-01 with `timeout=-1`: one thread takes the 5 s lock and releases it after 1 s,
/// then takes it again and works 8 s. Claim: "the monitor checks every second and
/// force-releases the lock on timeout".
fn ex_9_4_01_reuse<B: Backend>() {
    let lock = TimeoutManagedLock::<B>::new("fixed_lock", 5.0 * SCALE);
    let _ = lock.acquire(true, Some(-1.0));
    sleep::<B>(1.0 * SCALE);
    lock.release();
    let _ = lock.acquire(true, Some(-1.0));
    sleep::<B>(8.0 * SCALE);
    let forced = lock.forced.get();
    ensure(forced, "timeout-enforced", || {
        "held 8 s (scaled) on a 5 s lock and never force-released: the first release set \
         stop_monitoring, which nothing clears, so the second monitor exited at once"
            .into()
    });
    lock.release();
}

/// ex-9.4-01 with `timeout=-1`, `datetime.now()` read on a machine whose wall clock may
/// jump by an hour (NTP, an operator): one thread holds the 5 s lock for 8 s. Claim: the
/// lock expires 5 s after it was taken.
fn ex_9_4_01_clock_jump<B: Backend>() {
    let cluster = Cluster::<B>::new(Faults::none().clock_jumps(1, Duration::from_secs(3600)));
    let machine = cluster.node("machine");
    let lock = TimeoutManagedLock::<B>::with_clock("fixed_lock", 5.0 * SCALE, Some(machine));
    let _ = lock.acquire(true, Some(-1.0));
    sleep::<B>(8.0 * SCALE);
    let forced = lock.forced.get();
    ensure(forced, "timeout-enforced", || {
        "held 8 s (scaled) on a 5 s lock and never force-released: the wall clock stepped back \
         an hour after start_timer, so datetime.now() stays below expires_at"
            .into()
    });
    lock.release();
}

// ---- the etcd client -----------------------------------------------------------------------

/// Grant a lease, then put `key` on it if the key is absent: the lease and the lock's
/// create revision (its fencing token), or `None`.
fn lease_lock<B: Backend>(
    c: &EtcdClient<B>,
    key: &str,
    value: &str,
    ttl_s: i64,
) -> Option<(LeaseId, Revision)> {
    let Ok(Ok(Response::LeaseGrant(g))) =
        c.request(Request::LeaseGrant(LeaseGrantRequest::new(ttl_s)))
    else {
        return None;
    };
    let txn = TxnRequest::new()
        .when(Compare::create_revision(key, CompareResult::Equal, 0))
        .then(PutRequest::new(key, value).with_lease(g.id));
    match c.request(Request::Txn(txn)) {
        Ok(Ok(Response::Txn(t))) if t.succeeded => Some((g.id, t.header.revision)),
        _ => {
            let _ = c.request(Request::LeaseRevoke(g.id));
            None
        }
    }
}

/// `get key` as an integer (0 if absent or unreadable).
fn get_int<B: Backend>(c: &EtcdClient<B>, key: &str) -> i64 {
    match c.request(Request::Range(RangeRequest::key(key))) {
        Ok(Ok(Response::Range(r))) => r
            .kvs
            .first()
            .and_then(|kv| kv.value.parse().ok())
            .unwrap_or(0),
        _ => 0,
    }
}

/// A client process's connection to the cluster's etcd server.
fn connect<B: Backend>(
    cluster: &Cluster<B>,
    etcd: &Server<Etcd, B>,
    name: &str,
    id: u32,
) -> EtcdClient<B> {
    EtcdClient::new(cluster.node(name), etcd.clone(), ClientId(id))
}

// ---- ex-9.4-02: LockRenewal and AdvancedDistributedLock --------------------------------------

/// `RenewalStrategy`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Strategy {
    FixedInterval,
    Progressive,
    Adaptive,
    Predictive,
}

/// `LockRenewal`'s schedule arithmetic, in the tutorial's seconds.
#[derive(Clone, Debug, Default)]
struct Schedule {
    initial_lease: f64,
    renewal_count: u32,
    history: Vec<f64>,
}

impl Schedule {
    fn predict(&self) -> f64 {
        let h = &self.history;
        if h.len() < 3 {
            return self.initial_lease;
        }
        let recent = &h[h.len().saturating_sub(5)..];
        let mut p = recent.iter().sum::<f64>() / recent.len() as f64;
        if h.len() >= 5 {
            let t = &h[h.len() - 5..];
            p += (t[4] - t[0]) / 5.0 * 2.0;
        }
        p.max(1.0)
    }

    /// `_calculate_next_renewal_time`, tutorial seconds.
    fn next_renewal(&self, s: Strategy) -> f64 {
        match s {
            Strategy::FixedInterval => self.initial_lease / 3.0,
            Strategy::Progressive => (self.initial_lease / 3.0
                * 1.1f64.powi(self.renewal_count as i32))
            .min(self.initial_lease / 2.0),
            Strategy::Adaptive => {
                if self.history.is_empty() {
                    self.initial_lease / 3.0
                } else {
                    let r = &self.history[self.history.len().saturating_sub(5)..];
                    (r.iter().sum::<f64>() / r.len() as f64 * 0.2).max(5.0)
                }
            }
            Strategy::Predictive => (self.predict() * 0.2).max(2.0),
        }
    }
}

/// `AdvancedDistributedLock` with its two typos fixed (`renew_lock_func`, and the stop
/// event renamed so that `stop_renewal()` is the method), over a lease lock on etcd.
struct EtcdAdvancedLock<B: Backend> {
    lock_name: String,
    identifier: String,
    lease_time: i64,
    strategy: Strategy,
    /// Whether `acquire` starts the renewal thread (see ex-9.4-04).
    renews: bool,
    client: EtcdClient<B>,
    acquired: Shared<bool, B>,
    /// The lease and the fencing token while acquired.
    held: Shared<Option<(LeaseId, Revision)>, B>,
    schedule: Arc<Shared<Schedule, B>>,
    stop_renewal: Arc<Event<B>>,
    renewal_done: Arc<Event<B>>,
    operation_start_time: Shared<f64, B>,
}

impl<B: Backend> EtcdAdvancedLock<B> {
    fn new(lock_name: &str, lease_time: f64, strategy: Strategy, client: EtcdClient<B>) -> Self {
        let identifier = format!("{}-uuid", client.node().name());
        EtcdAdvancedLock {
            lock_name: lock_name.to_owned(),
            identifier,
            lease_time: (lease_time * SCALE).round() as i64,
            strategy,
            renews: true,
            client,
            acquired: Shared::new(false).with_name("self.acquired"),
            held: Shared::new(None).with_name("probe:lease"),
            schedule: Arc::new(
                Shared::new(Schedule {
                    initial_lease: lease_time,
                    ..Schedule::default()
                })
                .with_name("renewal_manager"),
            ),
            stop_renewal: Arc::new(Event::new().with_name("renewal_manager.stop_event")),
            renewal_done: Arc::new(Event::new().with_name("renewal_thread.finished")),
            operation_start_time: Shared::new(0.0).with_name("self.operation_start_time"),
        }
    }

    /// `acquire()`: the lease lock on etcd (non-blocking, one try), then the renewal thread.
    fn acquire(&self) -> bool {
        let Some((lease, token)) = lease_lock(
            &self.client,
            &self.lock_name,
            &self.identifier,
            self.lease_time,
        ) else {
            return false;
        };
        self.acquired.set(true);
        self.held.set(Some((lease, token)));
        self.operation_start_time.set(now::<B>());
        if self.renews {
            self.start_renewal(lease);
        } else {
            self.renewal_done.set();
        }
        true
    }

    /// `acquire(blocking=True)`: the example's signature promises a wait; poll every 0.1 s.
    fn acquire_blocking(&self) -> bool {
        while !self.acquire() {
            sleep::<B>(0.1);
        }
        true
    }

    /// `LockRenewal.start_renewal` + `_start_renewal_worker`: renew on the strategy's
    /// schedule; a failed renewal logs and ends the thread (nobody is told).
    fn start_renewal(&self, lease: LeaseId) {
        let (schedule, stop, done, client, strategy) = (
            Arc::clone(&self.schedule),
            Arc::clone(&self.stop_renewal),
            Arc::clone(&self.renewal_done),
            self.client.clone(),
            self.strategy,
        );
        let h = B::spawn("renewal_worker", move || {
            while !stop.is_set() {
                let wait = schedule.get().next_renewal(strategy) * SCALE;
                if stop.wait(Some(wait)).unwrap_or(true) {
                    break;
                }
                if client.keep_alive(lease) {
                    schedule.update(|s| s.renewal_count += 1);
                } else {
                    // logging.error(f"锁 {id} 续期失败"); break
                    break;
                }
            }
            done.set();
        });
        drop(h);
    }

    /// `update_progress()`: record the elapsed time in the renewal history.
    fn update_progress(&self) {
        let elapsed = (now::<B>() - self.operation_start_time.get()) / SCALE;
        self.schedule.update(|s| s.history.push(elapsed));
    }

    /// The token the holder believes it has (the lock key's create revision).
    fn token(&self) -> Option<u64> {
        self.held.get().and_then(|(_, t)| u64::try_from(t).ok())
    }

    /// `release()`: stop renewal (join), then release the lock (revoke the lease).
    fn release(&self) -> bool {
        if !self.acquired.get() {
            return false;
        }
        self.stop_renewal.set();
        let _ = self.renewal_done.wait(Some(5.0));
        if let Some((lease, _)) = self.held.get() {
            let _ = self.client.request(Request::LeaseRevoke(lease));
        }
        self.held.set(None);
        self.acquired.set(false);
        true
    }
}

/// `AdvancedDistributedLock` as written: `acquire` sets `acquired` and starts the timeout
/// manager, then `start_renewal(self._renew_lock)` evaluates the undefined name
/// `renewal_func`; `release` (when `acquired`) calls `renewal_manager.stop_renewal()`,
/// which `LockRenewal.__init__` replaced by a `threading.Event`.
struct AsWrittenLock<B: Backend> {
    acquired: Shared<bool, B>,
}

impl<B: Backend> AsWrittenLock<B> {
    fn new() -> Self {
        AsWrittenLock {
            acquired: Shared::new(false).with_name("self.acquired"),
        }
    }

    fn acquire(&self) -> Result<bool, Raised> {
        self.acquired.set(true);
        Err("NameError: name 'renewal_func' is not defined".into())
    }

    fn release(&self) -> Result<bool, Raised> {
        if !self.acquired.get() {
            return Ok(false);
        }
        Err("TypeError: 'Event' object is not callable".into())
    }
}

/// ex-9.4-02 as written: `advanced_renewal_example()`. `acquire()` sets `acquired`, starts
/// the timeout manager, then `start_renewal(self._renew_lock)` runs
/// `self._start_renewal_worker(renewal_func)`; the `finally` calls `lock.release()`, which
/// calls `self.renewal_manager.stop_renewal()` — an `Event`, since `__init__` assigned
/// `self.stop_renewal = threading.Event()`.
fn ex_9_4_02<B: Backend>() {
    let lock = AsWrittenLock::<B>::new();
    // try: if lock.acquire(): … finally: lock.release()
    let in_try = lock.acquire();
    let in_finally = lock.release();
    match (in_try, in_finally) {
        (Err(a), Err(b)) => uncaught(
            "advanced_renewal_example",
            &format!(
                "{a}\n\nDuring handling of the above exception, another exception occurred: … {b}"
            ),
        ),
        (Err(e), Ok(_)) | (Ok(_), Err(e)) => uncaught("advanced_renewal_example", &e),
        (Ok(_), Ok(_)) => {}
    }
}

/// A client process running the demo's work under the lock: four stages (5, 10, 15, 8 s),
/// `update_progress()` and a progress write to the resource after each.
fn demo_client<B: Backend>(client: EtcdClient<B>, storage: Storage<B>, tries: &[f64]) {
    let lock = EtcdAdvancedLock::new("advanced_lock", 30.0, Strategy::Predictive, client.clone());
    let start = now::<B>();
    for &at in tries {
        let wait = start + at - now::<B>();
        if wait > 0.0 {
            sleep::<B>(wait);
        }
        if lock.acquire() {
            for (duration, stage) in [
                (5.0, "初始化"),
                (10.0, "数据处理"),
                (15.0, "分析计算"),
                (8.0, "结果输出"),
            ] {
                sleep::<B>(duration * SCALE);
                lock.update_progress();
                let _ = storage.write(client.node(), lock.token(), format!("{stage} done"));
            }
            lock.release();
            return;
        }
    }
}

fn demo_pair<B: Backend>(fenced: bool) {
    let cluster = Cluster::<B>::new(Faults::none());
    let etcd = cluster.server("etcd", Etcd::new());
    let storage = cluster.storage("storage", fenced);
    let procs: Vec<_> = [
        ("client-1", vec![0.0]),
        ("client-2", vec![1.0, 2.0, 3.0, 4.0, 5.0]),
    ]
    .into_iter()
    .enumerate()
    .map(|(i, (name, tries))| {
        let client = connect(&cluster, &etcd, name, i as u32 + 1);
        let st = storage.clone();
        B::spawn_process(name, move || demo_client(client, st, &tries))
    })
    .collect();
    for p in procs {
        p.join();
    }
}

/// ex-9.4-02 with a lease lock on etcd: client-1 runs the demo; client-2 (the same job,
/// started again every second while it cannot get the lock) tries from 1 s on. Claim:
/// renewal keeps the lock through the long operation.
fn ex_9_4_02_etcd_pause<B: Backend>() {
    demo_pair::<B>(false);
}

/// The same schedule, with the resource fenced by the lock key's create revision.
fn ex_9_4_02_etcd_fenced<B: Backend>() {
    demo_pair::<B>(true);
}

/// A client process running the demo's four stages under etcd's own lock recipe: a
/// session (a 3 s lease kept alive every TTL/3 by a session thread, as Go's
/// `concurrency.Session` does) and `concurrency.Mutex.Lock`, which waits on a watch for its
/// predecessor's key to go. The token is the Mutex key's create revision.
fn mutex_client<B: Backend>(client: EtcdClient<B>, storage: Storage<B>, start_at: f64) {
    sleep::<B>(start_at);
    let Ok(Ok(Response::LeaseGrant(g))) =
        client.request(Request::LeaseGrant(LeaseGrantRequest::new(3)))
    else {
        return;
    };
    let stop = Arc::new(Event::<B>::new().with_name("session.done"));
    let (s, c) = (Arc::clone(&stop), client.clone());
    let keeper = B::spawn("session_keepalive", move || {
        while !s.wait(Some(1.0)).unwrap_or(true) {
            if !c.keep_alive(g.id) {
                break;
            }
        }
    });
    let mut mutex = Mutex::new("advanced_lock", g.id);
    if client.lock(&mut mutex, Duration::from_millis(100)).is_ok() {
        let token = u64::try_from(mutex.revision()).ok();
        for (duration, stage) in [
            (5.0, "初始化"),
            (10.0, "数据处理"),
            (15.0, "分析计算"),
            (8.0, "结果输出"),
        ] {
            sleep::<B>(duration * SCALE);
            let _ = storage.write(client.node(), token, format!("{stage} done"));
        }
        let _ = client.unlock(&mut mutex);
    }
    // session.Close(): stop the keep-alives, revoke the lease.
    stop.set();
    keeper.join();
    let _ = client.request(Request::LeaseRevoke(g.id));
}

fn mutex_pair<B: Backend>() {
    let cluster = Cluster::<B>::new(Faults::none());
    let etcd = cluster.server("etcd", Etcd::new());
    let storage = cluster.storage("storage", false);
    let procs: Vec<_> = [("client-1", 0.0), ("client-2", 0.5)]
        .into_iter()
        .enumerate()
        .map(|(i, (name, at))| {
            let client = connect(&cluster, &etcd, name, i as u32 + 1);
            let st = storage.clone();
            B::spawn_process(name, move || mutex_client(client, st, at))
        })
        .collect();
    for p in procs {
        p.join();
    }
}

/// ex-9.4-02's demo under etcd's concurrency Mutex: client-2 blocks in `Lock` from 0.5 s.
/// Claim: the session's keep-alives keep the lock through the long operation.
fn ex_9_4_02_etcd_mutex<B: Backend>() {
    mutex_pair::<B>();
}

// ---- ex-9.4-03: DistributedBatchProcessor ----------------------------------------------------

/// ex-9.4-03 as written: `process_batch()` calls `self.lock.acquire()` (outside its
/// `try`), which raises `NameError` from `start_renewal`.
fn ex_9_4_03<B: Backend>() {
    let lock = AsWrittenLock::<B>::new();
    // if not self.lock.acquire(): … (before the try)
    if let Err(e) = lock.acquire() {
        uncaught("process_batch", &e);
    }
}

/// A batch processor over etcd: 6 items of 0.2 s each (`_process_item`'s 0.1 s sleep and
/// the loop's, kept unscaled), progress every 2 items (10 in the tutorial), the lease
/// 60 s → 6 s with ADAPTIVE renewal. Each item is written to the resource with the
/// lock's token.
fn batch_processor<B: Backend>(client: EtcdClient<B>, storage: Storage<B>, start_at: f64) {
    sleep::<B>(start_at);
    let lock = EtcdAdvancedLock::new("batch_nightly", 60.0, Strategy::Adaptive, client.clone());
    if !lock.acquire() {
        // logging.error("无法获取批处理锁"); return False
        return;
    }
    for item in 1..=6 {
        sleep::<B>(0.1); // _process_item
        let _ = storage.write(client.node(), lock.token(), format!("item {item}"));
        if item % 2 == 0 {
            lock.update_progress();
        }
        sleep::<B>(0.1);
    }
    lock.release();
}

/// ex-9.4-03 with a lease lock on etcd: processor-1 starts at 0 (done by 1.2 s),
/// processor-2 at 6.5 s (one try, as `process_batch` does). Claim: the batch lock keeps
/// the data consistent — items are written under a valid lock, newest holder last.
fn ex_9_4_03_etcd_pause<B: Backend>() {
    batch_pair::<B>(6.5, false);
}

/// ex-9.4-03 with a lease lock on etcd: processor-2 runs the same batch at 2 s, after
/// processor-1 finished and released. Claim (the catalogue's): every item is processed
/// exactly once across processors.
fn ex_9_4_03_etcd_rerun<B: Backend>() {
    batch_pair::<B>(2.0, true);
}

fn batch_pair<B: Backend>(second_at: f64, judge_once: bool) {
    let cluster = Cluster::<B>::new(Faults::none());
    let etcd = cluster.server("etcd", Etcd::new());
    let storage = cluster.storage("storage", false);
    let procs: Vec<_> = [("processor-1", 0.0), ("processor-2", second_at)]
        .into_iter()
        .enumerate()
        .map(|(i, (name, at))| {
            let client = connect(&cluster, &etcd, name, i as u32 + 1);
            let st = storage.clone();
            B::spawn_process(name, move || batch_processor(client, st, at))
        })
        .collect();
    for p in procs {
        p.join();
    }
    if judge_once {
        let values = storage.values();
        for item in 1..=6 {
            let name = format!("item {item}");
            let n = values.iter().filter(|v| **v == name).count();
            ensure(n == 1, "exactly-once", || {
                format!("{name} was processed {n} times: the lock orders the runs but nothing records that the batch is done")
            });
        }
    }
}

// ---- ex-9.4-04: TransactionLockManager -------------------------------------------------------

/// ex-9.4-04 as written: `acquire_lock("X")` builds an `AdvancedDistributedLock` and calls
/// `acquire()`, which raises `NameError`.
fn ex_9_4_04<B: Backend>() {
    let lock = AsWrittenLock::<B>::new();
    // if lock.acquire(): self.locks[resource_name] = lock …
    if let Err(e) = lock.acquire() {
        uncaught("acquire_lock", &e);
    }
}

/// `TransactionLockManager` over etcd: one lock per resource, the lease and strategy by
/// stage; `next_stage` releases and re-acquires every lock (the result ignored).
struct TxManager<B: Backend> {
    tx: String,
    client: EtcdClient<B>,
    stage: usize,
    locks: Vec<(String, EtcdAdvancedLock<B>)>,
}

impl<B: Backend> TxManager<B> {
    fn acquire_lock(&mut self, resource: &str) -> bool {
        let (strategy, lease) = match self.stage {
            0 => (Strategy::FixedInterval, 30.0),
            1 => (Strategy::Progressive, 60.0),
            2 => (Strategy::Adaptive, 120.0),
            _ => (Strategy::FixedInterval, 30.0),
        };
        let mut lock = EtcdAdvancedLock::new(
            &format!("lock/{resource}"),
            lease,
            strategy,
            self.client.clone(),
        );
        // Leases of 3–12 s outlive the transaction: the renewal threads, which would not fire
        // before the release, are left out.
        lock.renews = false;
        let _ = &self.tx;
        if lock.acquire_blocking() {
            self.locks.retain(|(r, _)| r != resource);
            self.locks.push((resource.to_owned(), lock));
            true
        } else {
            false
        }
    }

    fn next_stage(&mut self) {
        self.stage += 1;
        let resources: Vec<String> = self.locks.iter().map(|(r, _)| r.clone()).collect();
        for r in resources {
            if let Some((_, lock)) = self.locks.iter().find(|(x, _)| *x == r) {
                lock.release();
            }
            let _ = self.acquire_lock(&r);
        }
    }

    fn commit_transaction(&mut self) {
        for (_, lock) in self.locks.drain(..) {
            lock.release();
        }
    }
}

fn transaction<B: Backend>(tx: &str, client: EtcdClient<B>) {
    let mut tm = TxManager {
        tx: tx.to_owned(),
        client: client.clone(),
        stage: 0,
        locks: Vec::new(),
    };
    // Each stage's work takes 0.1 s (the tutorial gives no durations).
    tm.acquire_lock("X"); // BEGIN
    sleep::<B>(0.1);
    tm.next_stage(); // READ
    let x = get_int(&client, "X");
    sleep::<B>(0.1);
    tm.next_stage(); // WRITE
    let _ = client.request(Request::Put(PutRequest::new("X", (x + 1).to_string())));
    sleep::<B>(0.1);
    tm.commit_transaction();
}

/// ex-9.4-04 with lease locks on etcd: two transactions T1, T2 each lock X, read it in
/// READ and write it + 1 in WRITE. Claim: the locks keep other transactions from
/// modifying the data (X ends at 2).
fn ex_9_4_04_etcd<B: Backend>() {
    let cluster = Cluster::<B>::new(Faults::none());
    let etcd = cluster.server("etcd", Etcd::new());
    let procs: Vec<_> = ["T1", "T2"]
        .into_iter()
        .enumerate()
        .map(|(i, tx)| {
            let client = connect(&cluster, &etcd, tx, i as u32 + 1);
            B::spawn_process(tx, move || transaction(tx, client))
        })
        .collect();
    for p in procs {
        p.join();
    }
    let x = etcd.inspect(|e, _| e.peek("X").map(|kv| kv.value.clone()));
    ensure(x.as_deref() == Some("2"), "no-lost-update", || {
        format!(
            "two transactions incremented X under the lock and X = {}: next_stage released X between READ and WRITE",
            x.unwrap_or_default()
        )
    });
}

// ---- ex-9.4-05: MicroserviceCoordinator ------------------------------------------------------

/// ex-9.4-05 as written: `coordinate_operation()` calls `acquire()`, which raises
/// `NameError`.
fn ex_9_4_05<B: Backend>() {
    let lock = AsWrittenLock::<B>::new();
    // if not self.coordination_lock.acquire(): … (before the try)
    if let Err(e) = lock.acquire() {
        uncaught("coordinate_operation", &e);
    }
}

/// ex-9.4-05 with the lock's typos fixed: one coordinator calls auth, user, order. After
/// each call it feeds `_estimate_remaining_time(remaining)` to `update_progress`. Claim:
/// the estimate is the time the remaining services will take (0 after the last). The
/// hash-based jitter is left at 0 (its `0.1 * hash(name) % 5` is a different defect).
fn ex_9_4_05_estimate<B: Backend>() {
    let services = ["auth", "user", "order"];
    let base = |s: &str| match s {
        "auth" => 0.5,
        "user" => 1.0,
        "order" => 2.0,
        "payment" => 1.5,
        "notification" => 0.3,
        _ => 1.0,
    };
    let history =
        Shared::<Vec<(String, f64)>, B>::new(Vec::new()).with_name("self.service_history");
    for (i, name) in services.iter().enumerate() {
        let start = now::<B>();
        sleep::<B>(base(name) * SCALE);
        let took = (now::<B>() - start) / SCALE;
        history.update(|h| h.push(((*name).to_owned(), took)));
        let remaining = services.len() - i - 1;
        // _estimate_remaining_time: `for s in self.services[-remaining_services:]`.
        let tail: &[&str] = if remaining == 0 {
            &services[..] // [-0:] is the whole list
        } else {
            &services[services.len() - remaining..]
        };
        let h = history.get();
        let estimate: f64 = tail
            .iter()
            .map(|s| {
                let mine: Vec<f64> = h.iter().filter(|(n, _)| n == s).map(|(_, t)| *t).collect();
                if mine.is_empty() {
                    2.0
                } else {
                    mine.iter().sum::<f64>() / mine.len() as f64
                }
            })
            .sum();
        if remaining == 0 {
            ensure(estimate.abs() < 1e-9, "remaining-estimate", || {
                format!(
                    "after the last service the estimated remaining time is {estimate:.1} s, not 0: services[-0:] is the whole list"
                )
            });
        }
    }
}

/// A coordinator over etcd: the 60 s → 6 s coordination lease with PREDICTIVE renewal;
/// once it holds the lock it calls auth, user and order (0.5, 1, 2 s → 0.05, 0.1, 0.2 s),
/// updating progress after each. The region is its coordinated operation, from acquire to
/// release.
fn coordinator<B: Backend>(client: EtcdClient<B>, operation: Arc<Region<B>>, start_at: f64) {
    sleep::<B>(start_at);
    let lock = EtcdAdvancedLock::new("coord_order-42", 60.0, Strategy::Predictive, client);
    if !lock.acquire() {
        // logging.error("无法获取协调锁"); return False
        return;
    }
    {
        let _inside = operation.enter();
        for delay in [0.5, 1.0, 2.0] {
            sleep::<B>(delay * SCALE);
            lock.update_progress();
        }
    }
    lock.release();
}

/// ex-9.4-05 with the lock on etcd: coordinator-1 runs at 0, coordinator-2 tries once at
/// 6.5 s. Claim: the global lock keeps the cross-service operations from overlapping.
fn ex_9_4_05_etcd_pause<B: Backend>() {
    let cluster = Cluster::<B>::new(Faults::none());
    let etcd = cluster.server("etcd", Etcd::new());
    let operation = Arc::new(Region::<B>::new("coordinated operation", 1));
    let procs: Vec<_> = [("coordinator-1", 0.0), ("coordinator-2", 6.5)]
        .into_iter()
        .enumerate()
        .map(|(i, (name, at))| {
            let client = connect(&cluster, &etcd, name, i as u32 + 1);
            let op = Arc::clone(&operation);
            B::spawn_process(name, move || coordinator(client, op, at))
        })
        .collect();
    for p in procs {
        p.join();
    }
}

/// The section's scenarios, in tutorial order.
pub fn scenarios() -> Vec<Scenario> {
    vec![
        Scenario::new(
            "ex-9.4-01",
            "LockTimeout / TimeoutManagedLock demo as written: `with fixed_lock:` (5 s, FIXED)",
            bodies!(ex_9_4_01),
        )
        .violates("no-uncaught-exception", "TimeoutManagedLock.acquire passes its default timeout=None to threading.Lock.acquire: TypeError ('NoneType' object cannot be interpreted as an integer) before the demo prints anything")
        .source("ex-9.4-01")
        .threads(0),
        Scenario::new(
            "ex-9.4-01-fixed",
            "TimeoutManagedLock with timeout=-1: 2 threads share the 5 s FIXED lock, Worker-1 works 8 s, Worker-2 arrives at 0.1 s",
            bodies!(ex_9_4_01_fixed),
        )
        .violates("mutual-exclusion", "the monitor thread force-releases the threading.Lock at the timeout while Worker-1 is still inside: Worker-2 acquires and both are in the critical section (lease expiry with the work still running, nothing fenced)")
        .source("ex-9.4-01")
        .threads(3),
        Scenario::new(
            "ex-9.4-01-reuse",
            "TimeoutManagedLock with timeout=-1: acquire/release, then acquire again and hold 8 s past its 5 s timeout",
            bodies!(ex_9_4_01_reuse),
        )
        .violates("timeout-enforced", "release() calls stop(), which sets stop_monitoring; nothing clears it, so the monitor of the second acquisition returns from its first wait at once and the timeout is never enforced again")
        .source("ex-9.4-01")
        .threads(2),
        Scenario::new(
            "ex-9.4-01-clock-jump",
            "TimeoutManagedLock with timeout=-1, datetime.now() on a machine whose wall clock may jump ±1 h; one thread holds the 5 s lock 8 s",
            bodies!(ex_9_4_01_clock_jump),
        )
        .violates("timeout-enforced", "expires_at is a datetime.now() deadline: a wall-clock step back of an hour after start_timer keeps is_expired() false for an hour, so the monitor never force-releases (time.monotonic() would not jump)")
        .needs_choice()
        .not_for("pct", "the holder and the monitor only sleep, so the run has no scheduling choice and PCT stops after 3 executions without drawing the jump's direction (measured: 3 executions, nothing found); random and dfs draw the backward jump")
        .source("ex-9.4-01")
        .threads(1),
        Scenario::new(
            "ex-9.4-02",
            "AdvancedDistributedLock demo as written (PREDICTIVE renewal, 30 s lease, 4 stages)",
            bodies!(ex_9_4_02),
        )
        .violates("no-uncaught-exception", "start_renewal passes the undefined name renewal_func (NameError), and the finally's release() calls renewal_manager.stop_renewal(), which __init__ shadowed with a threading.Event: TypeError 'Event' object is not callable masks the NameError")
        .source("ex-9.4-02")
        .threads(0),
        Scenario::new(
            "ex-9.4-02-etcd",
            "AdvancedDistributedLock (typos fixed) as a 3 s etcd lease lock with PREDICTIVE keep-alives; client-1 runs the 3.8 s demo, client-2 retries every second",
            bodies!(ex_9_4_02_etcd_pause),
        )
        .holds("keep-alives every 0.6 s (then 0.33 s) keep the 3 s lease through the 3.8 s operation; client-2 gets the lock only after client-1's release, and writes with a newer token")
        .not_for("loom", "two processes with a renewal thread each and 4 s of virtual time with sleeps: beyond loom's budget")
        .source("ex-9.4-02")
        .threads(4),
        Scenario::new(
            "ex-9.4-02-etcd-pause",
            "AdvancedDistributedLock (typos fixed) as a 3 s etcd lease lock with PREDICTIVE keep-alives; 2 clients write stage progress, the holder may pause 4 s",
            bodies!(ex_9_4_02_etcd_pause),
        )
        .violates("stale-write", "a pause of the holder's process stops its renewal thread too; etcd expires the lease, client-2 acquires and writes, and client-1 resumes believing: its renewal fails but only ends the renewal thread (nobody is told), and its next progress write carries the older token")
        .pauses(1, Duration::from_secs(4))
        .not_for("loom", "two processes with a renewal thread each and 4 s of virtual time with sleeps: beyond loom's budget; random, pct and dfs explore the pause")
        .source("ex-9.4-02")
        .threads(4),
        Scenario::new(
            "ex-9.4-02-etcd-fenced",
            "the same as ex-9.4-02-etcd-pause, the resource fenced by the lock key's create revision",
            bodies!(ex_9_4_02_etcd_fenced),
        )
        .holds("the paused holder's writes after client-2's carry an older create revision and the fenced resource rejects them")
        .pauses(1, Duration::from_secs(4))
        .not_for("loom", "two processes with a renewal thread each and 4 s of virtual time with sleeps: beyond loom's budget")
        .source("ex-9.4-02")
        .threads(4),
        Scenario::new(
            "ex-9.4-02-etcd-mutex",
            "the demo's stages under etcd's concurrency Mutex (3 s session lease kept alive every 1 s); client-2 blocks in Lock from 0.5 s",
            bodies!(ex_9_4_02_etcd_mutex),
        )
        .holds("the session keeps the lease; client-2's watch sees client-1's key deleted at its Unlock and only then does client-2 hold the lock and write, with a larger create revision")
        .not_for("loom", "two processes with a session thread each and seconds of virtual time: beyond loom's budget")
        .source("ex-9.4-02")
        .threads(4),
        Scenario::new(
            "ex-9.4-02-etcd-mutex-pause",
            "the same, and the holder's process may pause 4 s",
            bodies!(ex_9_4_02_etcd_mutex),
        )
        .violates("stale-write", "etcd's own lock recipe is a lease too (Jepsen etcd 3.4.3): the paused holder's session stops renewing, the lease expires and deletes its key, client-2's watch fires and it takes the lock and writes; the resumed holder still believes and writes with the older create revision")
        .pauses(1, Duration::from_secs(4))
        .not_for("loom", "two processes with a session thread each and seconds of virtual time: beyond loom's budget")
        .source("ex-9.4-02")
        .threads(4),
        Scenario::new(
            "ex-9.4-03",
            "DistributedBatchProcessor.process_batch as written",
            bodies!(ex_9_4_03),
        )
        .violates("no-uncaught-exception", "process_batch calls self.lock.acquire() before its try, and AdvancedDistributedLock.acquire raises NameError (renewal_func) from start_renewal")
        .source("ex-9.4-03")
        .threads(0),
        Scenario::new(
            "ex-9.4-03-etcd-pause",
            "DistributedBatchProcessor over a 6 s etcd lease lock with ADAPTIVE keep-alives; processor-2 tries once at 6.5 s; processor-1 may pause 7 s",
            bodies!(ex_9_4_03_etcd_pause),
        )
        .violates("stale-write", "processor-1 paused past its lease: processor-2 gets the batch lock and writes items, processor-1 resumes and writes its next item with the older token (no fencing, no per-item idempotency)")
        .pauses(1, Duration::from_secs(7))
        .not_for("loom", "two processes with a renewal thread each and seconds of virtual time: beyond loom's budget")
        .source("ex-9.4-03")
        .threads(4),
        Scenario::new(
            "ex-9.4-03-etcd-rerun",
            "DistributedBatchProcessor over a 6 s etcd lease lock; processor-2 runs the same batch at 2 s, after processor-1 released",
            bodies!(ex_9_4_03_etcd_rerun),
        )
        .violates("exactly-once", "the lock only orders the two runs: processor-2 acquires after processor-1's release and processes all six items again, since nothing records the batch as done (no per-item idempotency)")
        .not_for("loom", "two processes with a renewal thread each and seconds of virtual time: beyond loom's budget")
        .source("ex-9.4-03")
        .threads(4),
        Scenario::new(
            "ex-9.4-04",
            "TransactionLockManager.acquire_lock as written",
            bodies!(ex_9_4_04),
        )
        .violates("no-uncaught-exception", "acquire_lock's AdvancedDistributedLock.acquire raises NameError (renewal_func)")
        .source("ex-9.4-04")
        .threads(0),
        Scenario::new(
            "ex-9.4-04-etcd",
            "TransactionLockManager over etcd lease locks (typos fixed): T1 and T2 lock X, read it in READ, write X+1 in WRITE",
            bodies!(ex_9_4_04_etcd),
        )
        .violates("no-lost-update", "next_stage releases X and then re-acquires it: between T1's READ and WRITE stages T2 takes X and reads the same value, so one increment is lost (two-phase locking broken)")
        .not_for("loom", "two processes polling etcd every 0.1 s: beyond loom's budget")
        .source("ex-9.4-04")
        .threads(2),
        Scenario::new(
            "ex-9.4-05",
            "MicroserviceCoordinator.coordinate_operation as written",
            bodies!(ex_9_4_05),
        )
        .violates("no-uncaught-exception", "coordinate_operation's AdvancedDistributedLock.acquire raises NameError (renewal_func)")
        .source("ex-9.4-05")
        .threads(0),
        Scenario::new(
            "ex-9.4-05-estimate",
            "MicroserviceCoordinator (lock fixed): the remaining-time estimate fed to update_progress after each of auth, user, order",
            bodies!(ex_9_4_05_estimate),
        )
        .violates("remaining-estimate", "_estimate_remaining_time(0) iterates self.services[-0:], the whole list: after the last service it estimates the sum of all services instead of 0")
        .source("ex-9.4-05")
        .threads(0),
            Scenario::new(
            "ex-9.4-05-etcd-pause",
            "MicroserviceCoordinator with the lock on etcd (6 s lease, PREDICTIVE keep-alives); coordinator-2 tries once at 6.5 s; coordinator-1 may pause 7 s",
            bodies!(ex_9_4_05_etcd_pause),
        )
        .violates("mutual-exclusion", "coordinator-1 paused mid-operation past its lease: coordinator-2 gets the coordination lock and runs its whole operation while coordinator-1 still believes it holds it and resumes its service calls")
        .pauses(1, Duration::from_secs(7))
        .not_for("loom", "two processes with a renewal thread each and seconds of virtual time: beyond loom's budget")
        .source("ex-9.4-05")
        .threads(4),
    ]
}

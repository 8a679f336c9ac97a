//! Section 9.3 of the tutorial (ZooKeeper locks, the read-write and lease locks, the config
//! manager, the task queue and the election): its examples as scenarios on the ZooKeeper
//! twin.
//!
//! | scenario | example | expected |
//! |---|---|---|
//! | `ex-9.3-01` | ZookeeperDistributedLock as written (kazoo `Lock(..., max_leasing_time=…)`), 2 clients `with lock:` | mutual-exclusion |
//! | `ex-9.3-01-manual` | ManualZookeeperLock as written, 3 clients | wakes-only-on-predecessor-release |
//! | `ex-9.3-01-herd` | the manual lock waiting on a children watch of the parent, 3 clients | wakes-only-on-predecessor-release |
//! | `ex-9.3-01-fixed` | the manual lock waiting on an `exists` watch of its predecessor (the recipe), 3 clients | holds |
//! | `ex-9.3-01-pause` | the manual lock; the holder may be paused past its session; token = its node's czxid, unfenced storage | stale-write |
//! | `ex-9.3-01-fenced` | the same, fenced storage | holds |
//! | `ex-9.3-01-nonblocking` | the manual lock: `acquire(blocking=False)` while another holds | holds |
//! | `ex-9.3-01-lost-reply` | the manual lock; one message may be lost (a create's reply: a ghost node) | no-orphaned-node |
//! | `ex-9.3-02` | ZookeeperReadWriteLock as written (read_locks/ and write_locks/, check then create): a reader and a writer | read-write-exclusion |
//! | `ex-9.3-02-lease` | ZookeeperLeaseLock: renewal thread rewriting the node's data; the holder may be paused | mutual-exclusion |
//! | `ex-9.3-03` | DistributedConfigManager as written (stub `_read_config`), 2 nodes | config-updated |
//! | `ex-9.3-03-io` | the config manager with `_read_config`/`_write_config` on a znode (the lock still never taken) | no-lost-update |
//! | `ex-9.3-04` | DistributedTaskQueue as written (`get_read_lock()` does not exist) | no-uncaught-exception |
//! | `ex-9.3-04-fixed-api` | the queue on `acquire_*`/`release_*`, cap 3, size 2, 3 producers | queue-limit |
//! | `ex-9.3-05` | DistributedElection as written (`_connect` undefined) | no-uncaught-exception |
//! | `ex-9.3-05-connected` | the election with a connected client, 2 candidates polling; the leader may be paused | stale-write |
//!
//! Scale: kazoo's `timeout=10` (the session timeout) becomes 1 s on a server with tickTime
//! 100 ms; the examples' waits keep their ratio to it (acquire timeouts 10 s and 15 s →
//! 1 s and 1.5 s, work 3–5 s → 0.3–0.5 s, a 30 s lease → 3 s); the 0.1 s poll stays 0.1 s.
//! The election's 5 s poll and a session of 3 ticks become 0.2 s and 0.3 s.
//!
//! A kazoo client is a [`ZkClient`]: its connection thread's heartbeats are sent while the
//! process sleeps or waits, so a paused process (every thread stopped) lets its session
//! expire. Python exceptions the examples raise before any request (`TypeError`,
//! `AttributeError`) are modelled where they happen; an uncaught one is judged as
//! `no-uncaught-exception`.

use lockproof::backend::spawn::ProcessHandle;
use lockproof_scenario::prelude::*;
use lockproof_services::sim::{Cluster, Faults, Node, Server};
use lockproof_services::zookeeper::{
    ClientError, CreateMode, ZkClient, ZkConfig, ZkError, ZooKeeper, ANY_VERSION,
};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};

/// The server's tickTime (ms).
const TICK_MS: u64 = 100;
/// kazoo's `timeout=10` (s), scaled: the requested session timeout (ms).
const SESSION_MS: u64 = 1000;
/// The examples' `time.sleep(0.1)` poll.
const POLL: f64 = 0.1;
/// `ES`: `ephemeral=True, sequence=True`.
const ES: CreateMode = CreateMode::EphemeralSequential;

fn secs(s: f64) -> Duration {
    Duration::from_secs_f64(s)
}

/// A standalone ZooKeeper (tickTime 100 ms) in `cluster`.
fn zookeeper<B: Backend>(cluster: &Cluster<B>) -> Server<ZooKeeper, B> {
    cluster.server("zookeeper", ZooKeeper::new(ZkConfig::with_tick(TICK_MS)))
}

/// `KazooClient(hosts, timeout=…); zk.start()`: `connected` as the examples test it.
fn kazoo<B: Backend>(node: &Node<B>, zk: &Server<ZooKeeper, B>, session_ms: u64) -> ZkClient<B> {
    let c = ZkClient::new(node, zk, session_ms);
    let _ = c.start(3);
    c
}

/// An exception that escapes a thread or process: the examples claim their calls return.
fn uncaught(who: &str, e: &str) {
    ensure(false, "no-uncaught-exception", || {
        format!("Traceback in {who}: {e}")
    });
}

/// Spawns one client process per name and joins them all.
fn run_processes<B: Backend>(bodies: Vec<(String, Box<dyn FnOnce() + Send>)>) {
    let ps: Vec<_> = bodies
        .into_iter()
        .map(|(name, f)| B::spawn_process(&name, f))
        .collect();
    for p in ps {
        p.join();
    }
}

// ---- ex-9.3-01: ZookeeperDistributedLock (kazoo's Lock recipe wrapper) ----------------------

/// ZookeeperDistributedLock: `acquire` builds kazoo's `Lock(self.zk, lock_name,
/// identifier=…, max_leasing_time=…)`; kazoo 2.11's `Lock.__init__` has no
/// `max_leasing_time`: `TypeError`, caught, so `acquire` returns `False` without a request.
struct RecipeLock<B: Backend> {
    zk: ZkClient<B>,
    acquired: bool,
}

impl<B: Backend> RecipeLock<B> {
    fn new(node: &Node<B>, server: &Server<ZooKeeper, B>, lock_path: &str) -> Self {
        let zk = kazoo(node, server, SESSION_MS);
        // if not self.lock_path.endswith('/'): self.lock_path += '/'; zk.ensure_path(...)
        let lock_path = format!("{}/", lock_path.trim_end_matches('/'));
        let _ = zk.ensure_path(&lock_path);
        RecipeLock {
            zk,
            acquired: false,
        }
    }

    /// `acquire()`: `TypeError: __init__() got an unexpected keyword argument
    /// 'max_leasing_time'`, caught by `except Exception`: `False`.
    fn acquire(&mut self) -> bool {
        if self.acquired {
            return true;
        }
        false
    }

    /// `release()`: not acquired → `False` (a warning).
    fn release(&mut self) -> bool {
        if !self.acquired {
            return false;
        }
        self.acquired = false;
        true
    }
}

/// Two clients `with ZookeeperDistributedLock(hosts, "/distributed_locks/resource1",
/// timeout=10):` work 5 s (0.5 s). `__enter__` calls `acquire()` and ignores its `False`.
fn ex_9_3_01<B: Backend>() {
    let cluster = Cluster::<B>::new(Faults::none());
    let zk = zookeeper(&cluster);
    let cs = Arc::new(Region::<B>::new("critical section", 1));
    let bodies = (1..=2)
        .map(|i| {
            let name = format!("client-{i}");
            let node = cluster.node(&name);
            let (zk, cs) = (zk.clone(), cs.clone());
            let body: Box<dyn FnOnce() + Send> = Box::new(move || {
                let mut lock = RecipeLock::new(&node, &zk, "/distributed_locks/resource1");
                lock.acquire(); // __enter__ ignores the result
                {
                    let _in = cs.enter(); // 成功获取ZooKeeper锁,开始执行关键操作...
                    lock.zk.sleep(secs(0.5));
                }
                lock.release(); // __exit__
                let _ = lock.zk.close();
            });
            (name, body)
        })
        .collect();
    run_processes::<B>(bodies);
}

// ---- ex-9.3-01: ManualZookeeperLock ----------------------------------------------------------

/// How a waiter of the manual lock waits for its turn.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Wait {
    /// As written: a `DataWatch` on the predecessor (its callback does nothing), then
    /// `time.sleep(0.1)` and poll again.
    Poll,
    /// A children watch on the lock's parent (the herd variant): wake on any child change.
    Parent,
    /// The recipe: an `exists` watch on the predecessor, wait for its event.
    Predecessor,
}

/// What the judges see of a manual lock's client.
struct Judge<B: Backend> {
    server: Server<ZooKeeper, B>,
    name: String,
    /// Whether wake-ups are judged (the scenarios about waiting, not the others).
    wakeups: bool,
}

impl<B: Backend> Judge<B> {
    /// A waiter re-reads the children: its predecessor must be gone (it was woken by the
    /// release it waited for), otherwise it re-read for nothing (polling or a herd wakeup).
    fn recheck(&self, pred: &str) {
        if !self.wakeups {
            return;
        }
        let alive = self.server.inspect(|z, _| z.node(pred).is_some());
        ensure(!alive, "wakes-only-on-predecessor-release", || {
            format!(
                "{} re-read the lock's children while its predecessor {pred} still existed",
                self.name
            )
        });
    }
}

/// ManualZookeeperLock(hosts, lock_path, timeout).
struct ManualLock<B: Backend> {
    zk: ZkClient<B>,
    lock_path: String,
    timeout: f64,
    identifier: String,
    acquired: bool,
    lock_node_path: Option<String>,
    wait: Wait,
    judge: Judge<B>,
}

impl<B: Backend> ManualLock<B> {
    fn new(
        node: &Node<B>,
        server: &Server<ZooKeeper, B>,
        lock_path: &str,
        timeout: f64,
        wait: Wait,
    ) -> Self {
        let zk = kazoo(node, server, SESSION_MS);
        let lock_path = format!("{}/", lock_path.trim_end_matches('/'));
        let _ = zk.ensure_path(&lock_path);
        ManualLock {
            zk,
            lock_path,
            timeout,
            identifier: format!("uuid-of-{}", node.name()),
            acquired: false,
            lock_node_path: None,
            wait,
            judge: Judge {
                server: server.clone(),
                name: node.name().to_owned(),
                wakeups: false,
            },
        }
    }

    /// `acquire(blocking, timeout)` as written (with the waiting of `self.wait`).
    fn acquire(&mut self, blocking: bool, timeout: Option<f64>) -> bool {
        if self.acquired {
            return true;
        }
        let start_time = self.zk.node().time();
        let effective_timeout = timeout.unwrap_or(self.timeout);
        let prefix = format!("{}lock-", self.lock_path);
        match self.zk.create(&prefix, self.identifier.as_bytes(), ES) {
            Ok(p) => self.lock_node_path = Some(p), // 创建锁节点
            Err(_) => {
                self.delete_lock_node(); // except Exception: 获取锁时发生错误
                return false;
            }
        }
        let mut waited_on: Option<String> = None;
        loop {
            if let Some(pred) = waited_on.take() {
                self.judge.recheck(&pred);
            }
            let Ok(children) = self
                .zk
                .get_children(&self.lock_path, self.wait == Wait::Parent)
            else {
                self.delete_lock_node(); // 获取锁过程中发生错误
                return false;
            };
            let mut lock_nodes: Vec<String> = children
                .into_iter()
                .filter(|c| c.starts_with("lock-"))
                .collect();
            lock_nodes.sort(); // sorted(...): by name (one prefix: by suffix too)
            if lock_nodes.is_empty() {
                return false; // 未找到锁节点
            }
            let me = self.lock_node_path.clone().unwrap_or_default();
            let current = me.rsplit('/').next().unwrap_or("").to_owned();
            if current == lock_nodes[0] {
                self.acquired = true; // 成功获取锁
                return true;
            }
            // lock_nodes.index(current_node_name): ValueError if our node is gone.
            let Some(idx) = lock_nodes.iter().position(|n| *n == current) else {
                self.delete_lock_node();
                return false;
            };
            let prev = format!("{}{}", self.lock_path, lock_nodes[idx - 1]);
            match self.wait {
                Wait::Poll => self.watch_previous_node(&prev),
                Wait::Parent | Wait::Predecessor => {}
            }
            if !blocking {
                self.delete_lock_node(); // 非阻塞模式,删除节点并返回
                return false;
            }
            if self.zk.node().time() - start_time >= effective_timeout {
                self.delete_lock_node(); // 获取锁超时
                return false;
            }
            let left = secs((effective_timeout - (self.zk.node().time() - start_time)).max(0.0));
            // Whether the client was woken (by a poll or an event), not timed out.
            let woken = match self.wait {
                Wait::Poll => {
                    self.zk.sleep(secs(POLL));
                    true
                }
                Wait::Parent => self.zk.wait_event(left).is_some(),
                Wait::Predecessor => match self.zk.exists(&prev, true) {
                    Ok(Some(_)) => self.zk.wait_event(left).is_some(),
                    Ok(None) => true,
                    Err(_) => {
                        self.delete_lock_node();
                        return false;
                    }
                },
            };
            if woken {
                waited_on = Some(prev);
            }
        }
    }

    /// `_watch_previous_node`: kazoo's `DataWatch(path)` reads the node with a watch at once
    /// (`get`, or `exists` when it is gone); errors are logged.
    fn watch_previous_node(&self, path: &str) {
        if let Err(ClientError::Zk(ZkError::NoNode)) = self.zk.get(path, true) {
            let _ = self.zk.exists(path, true);
        }
    }

    /// `_delete_lock_node`: delete, `NoNodeError` passed, other errors logged; forget it.
    fn delete_lock_node(&mut self) {
        if let Some(p) = self.lock_node_path.take() {
            let _ = self.zk.delete_any(&p);
        }
    }

    /// `release()`.
    fn release(&mut self) -> bool {
        if !self.acquired {
            return false;
        }
        self.delete_lock_node();
        self.acquired = false;
        true
    }

    /// The fencing token a holder could pass on: its node's czxid (one `exists`).
    fn token(&self) -> Option<u64> {
        let p = self.lock_node_path.as_ref()?;
        let st = self.zk.exists(p, false).ok()??;
        u64::try_from(st.czxid).ok()
    }
}

/// `n` clients each `acquire(blocking=True, timeout=10)` the manual lock, hold it 3 s
/// (0.3 s) in the critical section, release.
fn manual_clients<B: Backend>(n: usize, wait: Wait) {
    let cluster = Cluster::<B>::new(Faults::none());
    let zk = zookeeper(&cluster);
    let cs = Arc::new(Region::<B>::new("critical section", 1));
    let bodies = (1..=n)
        .map(|i| {
            let name = format!("client-{i}");
            let node = cluster.node(&name);
            let (zk, cs) = (zk.clone(), cs.clone());
            let body: Box<dyn FnOnce() + Send> = Box::new(move || {
                let mut lock =
                    ManualLock::new(&node, &zk, "/distributed_locks/resource2", 1.5, wait);
                lock.judge.wakeups = true;
                if lock.acquire(true, Some(1.0)) {
                    {
                        let _in = cs.enter(); // 成功获取手动ZooKeeper锁...
                        lock.zk.sleep(secs(0.3));
                    }
                    lock.release();
                }
                let _ = lock.zk.close();
            });
            (name, body)
        })
        .collect();
    run_processes::<B>(bodies);
}

fn ex_9_3_01_manual<B: Backend>() {
    manual_clients::<B>(3, Wait::Poll);
}

fn ex_9_3_01_herd<B: Backend>() {
    manual_clients::<B>(3, Wait::Parent);
}

fn ex_9_3_01_fixed<B: Backend>() {
    manual_clients::<B>(3, Wait::Predecessor);
}

/// Two clients of the manual lock; each holder takes its node's czxid as its token, works
/// 0.3 s and writes to the storage. client-2 starts a little later and waits with the
/// lock's own timeout (15 s → 1.5 s).
fn manual_pause<B: Backend>(fenced: bool) {
    let cluster = Cluster::<B>::new(Faults::none());
    let zk = zookeeper(&cluster);
    let storage = cluster.storage("storage", fenced);
    let bodies = (1..=2)
        .map(|i| {
            let name = format!("client-{i}");
            let node = cluster.node(&name);
            let (zk, storage, who) = (zk.clone(), storage.clone(), name.clone());
            let body: Box<dyn FnOnce() + Send> = Box::new(move || {
                let mut lock =
                    ManualLock::new(&node, &zk, "/distributed_locks/resource2", 1.5, Wait::Poll);
                if i == 2 {
                    lock.zk.sleep(secs(0.05));
                }
                if lock.acquire(true, None) {
                    let token = lock.token();
                    lock.zk.sleep(secs(0.3));
                    let _ = storage.write(&node, token, format!("{who}'s result"));
                    lock.release();
                }
                let _ = lock.zk.close();
            });
            (name, body)
        })
        .collect();
    run_processes::<B>(bodies);
}

fn ex_9_3_01_pause<B: Backend>() {
    manual_pause::<B>(false);
}

fn ex_9_3_01_fenced<B: Backend>() {
    manual_pause::<B>(true);
}

/// client-1 tries the manual lock once and then goes on with other work for 2 s, its
/// KazooClient open; client-2 starts 0.05 s later and waits up to 1.5 s. Nobody may be
/// kept out by a node nobody knows it owns.
fn ex_9_3_01_lost_reply<B: Backend>() {
    let cluster = Cluster::<B>::new(
        Faults::none()
            .messages(1)
            .timeout(Duration::from_millis(200)),
    );
    let zk = zookeeper(&cluster);
    let held = Arc::new(AtomicBool::new(false));
    let b_got = Arc::new(AtomicBool::new(false));
    let bodies = (1..=2)
        .map(|i| {
            let name = format!("client-{i}");
            let node = cluster.node(&name);
            let (zk, held, b_got) = (zk.clone(), held.clone(), b_got.clone());
            let body: Box<dyn FnOnce() + Send> = Box::new(move || {
                let mut lock =
                    ManualLock::new(&node, &zk, "/distributed_locks/resource2", 1.5, Wait::Poll);
                if i == 1 {
                    if lock.acquire(true, Some(1.0)) {
                        held.store(true, SeqCst);
                        lock.zk.sleep(secs(0.3));
                        lock.release();
                    }
                    lock.zk.sleep(secs(2.0)); // the process goes on, its client open
                } else {
                    lock.zk.sleep(secs(0.05));
                    if lock.acquire(true, None) {
                        b_got.store(true, SeqCst);
                        lock.release();
                    }
                }
                let _ = lock.zk.close();
            });
            (name, body)
        })
        .collect();
    run_processes::<B>(bodies);
    let (held, got) = (held.load(SeqCst), b_got.load(SeqCst));
    ensure(held || got, "no-orphaned-node", || {
        "client-2 timed out waiting for a lock nobody held: client-1's create was applied but \
         its reply lost, so client-1 returned False and never deleted its node, which heads \
         the queue while client-1's session lives"
            .into()
    });
}

/// client-1 holds the manual lock 0.3 s; client-2, 0.05 s later, calls
/// `acquire(blocking=False)`: the claim is that it returns `False` and deletes its node.
fn ex_9_3_01_nonblocking<B: Backend>() {
    let cluster = Cluster::<B>::new(Faults::none());
    let zk = zookeeper(&cluster);
    let judge_zk = zk.clone();
    let bodies = (1..=2)
        .map(|i| {
            let name = format!("client-{i}");
            let node = cluster.node(&name);
            let (zk, judge_zk) = (zk.clone(), judge_zk.clone());
            let body: Box<dyn FnOnce() + Send> = Box::new(move || {
                let mut lock =
                    ManualLock::new(&node, &zk, "/distributed_locks/resource2", 1.5, Wait::Poll);
                if i == 1 {
                    if lock.acquire(true, Some(1.0)) {
                        lock.zk.sleep(secs(0.3));
                        lock.release();
                    }
                } else {
                    lock.zk.sleep(secs(0.05));
                    let got = lock.acquire(false, None);
                    let (holder_alive, nodes) = judge_zk.inspect(|z, _| {
                        let kids = z
                            .node("/distributed_locks/resource2")
                            .map_or(0, |n| n.children().count());
                        (
                            z.node("/distributed_locks/resource2/lock-0000000000")
                                .is_some(),
                            kids,
                        )
                    });
                    if holder_alive {
                        ensure(!got && nodes == 1, "nonblocking-leaves-no-node", || {
                            format!(
                                "acquire(blocking=False) while client-1 held returned {got} \
                                 and left {nodes} lock node(s)"
                            )
                        });
                    }
                }
                let _ = lock.zk.close();
            });
            (name, body)
        })
        .collect();
    run_processes::<B>(bodies);
}

// ---- ex-9.3-02: ZookeeperReadWriteLock and ZookeeperLeaseLock ------------------------------

/// Who is inside the read-write lock (readers, writers), judged at every entry.
#[derive(Default)]
struct RwInside {
    readers: AtomicUsize,
    writers: AtomicUsize,
}

impl RwInside {
    fn enter(&self, write: bool, who: &str) {
        let (r, w) = (self.readers.load(SeqCst), self.writers.load(SeqCst));
        ensure(
            if write { r == 0 && w == 0 } else { w == 0 },
            "read-write-exclusion",
            || format!("{who} entered with {r} reader(s) and {w} writer(s) inside"),
        );
        if write {
            self.writers.fetch_add(1, SeqCst);
        } else {
            self.readers.fetch_add(1, SeqCst);
        }
    }

    fn leave(&self, write: bool) {
        if write {
            self.writers.fetch_sub(1, SeqCst);
        } else {
            self.readers.fetch_sub(1, SeqCst);
        }
    }
}

/// ZookeeperReadWriteLock(hosts, lock_path): `read_locks/` and `write_locks/` parents,
/// `_can_acquire_lock` then `_create_lock_node`.
struct RwLock<B: Backend> {
    zk: ZkClient<B>,
    lock_path: String,
    identifier: String,
    held: Vec<(bool, usize)>,
}

impl<B: Backend> RwLock<B> {
    fn new(node: &Node<B>, server: &Server<ZooKeeper, B>, lock_path: &str) -> Self {
        let zk = kazoo(node, server, SESSION_MS);
        let lock_path = format!("{}/", lock_path.trim_end_matches('/'));
        let _ = zk.ensure_path(&format!("{lock_path}read_locks/"));
        let _ = zk.ensure_path(&format!("{lock_path}write_locks/"));
        RwLock {
            zk,
            lock_path,
            identifier: format!("uuid-of-{}", node.name()),
            held: Vec::new(),
        }
    }

    fn parent(&self, write: bool) -> String {
        let kind = if write { "write_locks/" } else { "read_locks/" };
        format!("{}{kind}", self.lock_path)
    }

    /// `_acquire_lock(lock_type, blocking=True, timeout=None)` (timeout 30 s → 3 s).
    fn acquire(&mut self, write: bool) -> bool {
        if let Some(h) = self.held.iter_mut().find(|h| h.0 == write) {
            h.1 += 1; // 重入
            return true;
        }
        let start_time = self.zk.node().time();
        loop {
            if self.can_acquire(write) {
                let data = format!("{}:1:now", self.identifier);
                let prefix = format!("{}lock-", self.parent(write));
                if self.zk.create(&prefix, data.as_bytes(), ES).is_ok() {
                    self.held.push((write, 1));
                    return true;
                }
            }
            if self.zk.node().time() - start_time >= 3.0 {
                return false;
            }
            self.zk.sleep(secs(POLL));
        }
    }

    /// `_can_acquire_lock`: both parents' children, then the rule; errors → `False`.
    fn can_acquire(&self, write: bool) -> bool {
        let Ok(read_locks) = self.zk.get_children(&self.parent(false), false) else {
            return false;
        };
        let Ok(write_locks) = self.zk.get_children(&self.parent(true), false) else {
            return false;
        };
        if write {
            read_locks.is_empty() && write_locks.is_empty()
        } else {
            write_locks.is_empty()
        }
    }

    /// `_release_lock`: find our node by its data prefix and delete it.
    fn release(&mut self, write: bool) -> bool {
        let Some(pos) = self.held.iter().position(|h| h.0 == write) else {
            return false;
        };
        self.held[pos].1 -= 1;
        if self.held[pos].1 > 0 {
            return true;
        }
        let parent = self.parent(write);
        if let Ok(children) = self.zk.get_children(&parent, false) {
            for child in children.iter().filter(|c| c.starts_with("lock-")) {
                let full = format!("{parent}{child}");
                if let Ok((data, _)) = self.zk.get(&full, false) {
                    if data.starts_with(format!("{}:1", self.identifier).as_bytes()) {
                        let _ = self.zk.delete_any(&full);
                        break;
                    }
                }
            }
        }
        self.held.remove(pos);
        true
    }
}

/// A reader and a writer (the demo's 3 readers and 2 writers scaled down), each its own
/// `ZookeeperReadWriteLock` on "/distributed_locks/rw_example"; reading 2 s and writing 3 s
/// become 0.2 s and 0.3 s.
fn ex_9_3_02<B: Backend>() {
    let cluster = Cluster::<B>::new(Faults::none());
    let zk = zookeeper(&cluster);
    let inside = Arc::new(RwInside::default());
    let bodies = [("reader-0", false), ("writer-0", true)]
        .into_iter()
        .map(|(name, write)| {
            let node = cluster.node(name);
            let (zk, inside) = (zk.clone(), inside.clone());
            let body: Box<dyn FnOnce() + Send> = Box::new(move || {
                let mut lock = RwLock::new(&node, &zk, "/distributed_locks/rw_example");
                if lock.acquire(write) {
                    inside.enter(write, name);
                    lock.zk.sleep(secs(if write { 0.3 } else { 0.2 }));
                    inside.leave(write);
                }
                lock.release(write); // finally:
                let _ = lock.zk.close();
            });
            (name.to_owned(), body)
        })
        .collect();
    run_processes::<B>(bodies);
}

/// ZookeeperLeaseLock(hosts, "/distributed_locks/lease_example", lease_time=30 → 3 s): two
/// processes; each holder starts the renewal thread (every lease/3: `zk.set` of its node's
/// data), works 10 s (1 s), releases.
fn ex_9_3_02_lease<B: Backend>() {
    let cluster = Cluster::<B>::new(Faults::none());
    let zk = zookeeper(&cluster);
    let cs = Arc::new(Region::<B>::new("lease lock", 1));
    let bodies = (1..=2)
        .map(|i| {
            let name = format!("client-{i}");
            let node = cluster.node(&name);
            let (zk, cs, who) = (zk.clone(), cs.clone(), name.clone());
            let body: Box<dyn FnOnce() + Send> = Box::new(move || {
                let client = Arc::new(kazoo(&node, &zk, SESSION_MS));
                let lock_path = "/distributed_locks/lease_example/";
                let _ = client.ensure_path(lock_path);
                if i == 2 {
                    client.sleep(secs(0.05));
                }
                let prefix = format!("{lock_path}lease_lock-");
                let Ok(me) = client.create(&prefix, b"uuid:now", ES) else {
                    return;
                };
                let my_name = me.rsplit('/').next().unwrap_or("").to_owned();
                let start = node.time();
                loop {
                    let Ok(kids) = client.get_children(lock_path, false) else {
                        return;
                    };
                    let mut lock_nodes: Vec<String> = kids
                        .into_iter()
                        .filter(|c| c.starts_with("lease_lock-"))
                        .collect();
                    lock_nodes.sort();
                    if lock_nodes.first() == Some(&my_name) {
                        break;
                    }
                    if node.time() - start >= 3.0 {
                        let _ = client.delete_any(&me);
                        return;
                    }
                    client.sleep(secs(POLL));
                }
                // _start_renewal_thread: every lease_time / 3, zk.set(node, new data).
                let stop = Arc::new(AtomicBool::new(false));
                let renewal = {
                    let (client, stop, me) = (client.clone(), stop.clone(), me.clone());
                    B::spawn(&format!("{who}-renewal"), move || {
                        while !stop.load(SeqCst) {
                            B::sleep(secs(1.0));
                            if stop.load(SeqCst)
                                || client.set(&me, b"uuid:later", ANY_VERSION).is_err()
                            {
                                break; // 租约续期失败,停止续期线程
                            }
                        }
                    })
                };
                {
                    let _in = cs.enter(); // 获取租约锁,执行长时间操作...
                    client.sleep(secs(1.0));
                }
                stop.store(true, SeqCst);
                renewal.join();
                let _ = client.delete_any(&me);
                let _ = client.close();
            });
            (name, body)
        })
        .collect();
    run_processes::<B>(bodies);
}

// ---- ex-9.3-03: DistributedConfigManager -----------------------------------------------------

/// The config as the model's JSON: `key=value` lines.
fn parse_config(data: &[u8]) -> Vec<(String, String)> {
    String::from_utf8_lossy(data)
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

/// Two nodes each `update_config(key, value)` of their own key. With `io`, `_read_config` and
/// `_write_config` read and write the znode `/app/config` (unversioned `set`); as written
/// they are stubs (`_read_config` returns `None`).
fn config_managers<B: Backend>(io: bool) {
    let cluster = Cluster::<B>::new(Faults::none());
    let zk = zookeeper(&cluster);
    let results = Arc::new(AtomicUsize::new(0));
    let bodies = (1..=2)
        .map(|i| {
            let name = format!("node-{i}");
            let node = cluster.node(&name);
            let (zk, results) = (zk.clone(), results.clone());
            let body: Box<dyn FnOnce() + Send> = Box::new(move || {
                // DistributedConfigManager(hosts, "/app/config"): the lock path is
                // config_path + "config_lock" = "/app/configconfig_lock" (a sibling).
                let mut lock = RecipeLock::new(&node, &zk, "/app/configconfig_lock");
                let _ = lock.zk.ensure_path("/app/config");
                // update_config(key, value): with self.lock: (acquire → False, ignored)
                lock.acquire();
                let ok = if io {
                    match lock.zk.get("/app/config", false) {
                        Ok((data, _)) => {
                            let mut config = parse_config(&data);
                            config.push((format!("key{i}"), format!("value{i}")));
                            let text: String =
                                config.iter().map(|(k, v)| format!("{k}={v}\n")).collect();
                            lock.zk
                                .set("/app/config", text.as_bytes(), ANY_VERSION)
                                .is_ok()
                        }
                        Err(_) => false,
                    }
                } else {
                    // current_config = None; current_config[key] = value → TypeError:
                    // 'NoneType' object does not support item assignment; caught: False.
                    false
                };
                lock.release();
                if ok {
                    results.fetch_add(1, SeqCst);
                }
                let _ = lock.zk.close();
            });
            (name, body)
        })
        .collect();
    run_processes::<B>(bodies);
    let ok = results.load(SeqCst);
    ensure(ok == 2, "config-updated", || {
        format!(
            "update_config returned True for {ok} of 2 updates: _read_config is a stub \
             returning None, so current_config[key] = value raises TypeError (caught: \
             配置更新失败, False)"
        )
    });
    if io {
        let config = zk.inspect(|z, _| {
            z.node("/app/config")
                .map(|n| parse_config(&n.data))
                .unwrap_or_default()
        });
        ensure(config.len() == 2, "no-lost-update", || {
            format!(
                "both updates returned True but /app/config holds {config:?}: the lock was \
                 never taken (TypeError in acquire, ignored by __enter__), so the two \
                 read-modify-writes interleaved"
            )
        });
    }
}

fn ex_9_3_03<B: Backend>() {
    config_managers::<B>(false);
}

fn ex_9_3_03_io<B: Backend>() {
    config_managers::<B>(true);
}

// ---- ex-9.3-04: DistributedTaskQueue ---------------------------------------------------------

/// The queue's capacity (1000 in the tutorial) and its size when the producers start.
const CAP: usize = 3;
const START_SIZE: usize = 2;

/// As written: `enqueue_task` begins `with self.lock.get_read_lock():`, which
/// ZookeeperReadWriteLock does not have.
fn ex_9_3_04<B: Backend>() {
    let cluster = Cluster::<B>::new(Faults::none());
    let zk = zookeeper(&cluster);
    let node = cluster.node("producer-1");
    let p = B::spawn_process("producer-1", move || {
        let _lock = RwLock::new(&node, &zk, "/queue/queue_lock");
        uncaught(
            "producer-1",
            "AttributeError: 'ZookeeperReadWriteLock' object has no attribute 'get_read_lock'",
        );
    });
    p.join();
}

/// The queue with its lock calls fixed (`acquire_read_lock`/`release_read_lock`, …) and its
/// helpers on the children of `/queue/tasks`: three producers each enqueue one task into a
/// queue of size 2 with capacity 3.
fn ex_9_3_04_fixed_api<B: Backend>() {
    let cluster = Cluster::<B>::new(Faults::none());
    let zk = zookeeper(&cluster);
    {
        let setup = cluster.node("setup");
        let c = kazoo(&setup, &zk, SESSION_MS);
        let _ = c.ensure_path("/queue/tasks");
        for _ in 0..START_SIZE {
            let _ = c.create(
                "/queue/tasks/task-",
                b"old",
                CreateMode::PersistentSequential,
            );
        }
        let _ = c.close();
    }
    let bodies = (1..=3)
        .map(|i| {
            let name = format!("producer-{i}");
            let node = cluster.node(&name);
            let zk = zk.clone();
            let body: Box<dyn FnOnce() + Send> = Box::new(move || {
                let mut lock = RwLock::new(&node, &zk, "/queue/queue_lock");
                // with read lock: queue_size = _get_queue_size(); if >= cap: return False
                if lock.acquire(false) {
                    let size = lock.zk.get_children("/queue/tasks", false).map(|c| c.len());
                    lock.release(false);
                    if size.map_or(true, |s| s >= CAP) {
                        let _ = lock.zk.close();
                        return;
                    }
                }
                // with write lock: _add_task_to_queue(task)
                if lock.acquire(true) {
                    let _ = lock.zk.create(
                        "/queue/tasks/task-",
                        b"new",
                        CreateMode::PersistentSequential,
                    );
                    lock.release(true);
                }
                let _ = lock.zk.close();
            });
            (name, body)
        })
        .collect();
    run_processes::<B>(bodies);
    let size = zk.inspect(|z, _| z.node("/queue/tasks").map_or(0, |n| n.children().count()));
    ensure(size <= CAP, "queue-limit", || {
        format!(
            "the queue holds {size} tasks, over its limit of {CAP}: each producer checked the \
             size under the read lock, dropped it, then added under the write lock"
        )
    });
}

// ---- ex-9.3-05: DistributedElection ----------------------------------------------------------

/// As written: `__init__` calls `self._connect()`, which the class does not define.
fn ex_9_3_05<B: Backend>() {
    let p = B::spawn_process("candidate-1", || {
        uncaught(
            "candidate-1",
            "AttributeError: 'DistributedElection' object has no attribute '_connect'",
        );
    });
    p.join();
}

/// The election with `_connect` a KazooClient (a session of 3 ticks, 0.3 s): two candidates
/// `participate`; each polls every 5 s (0.2 s) and, while it believes it leads, does the
/// leader's work: a write to the storage with its candidate node's czxid as token, for 2 s.
fn ex_9_3_05_connected<B: Backend>() {
    let cluster = Cluster::<B>::new(Faults::none());
    let zk = zookeeper(&cluster);
    let storage = cluster.storage("storage", false);
    let bodies = (1..=2)
        .map(|i| {
            let name = format!("candidate-{i}");
            let node = cluster.node(&name);
            let (zk, storage, who) = (zk.clone(), storage.clone(), name.clone());
            let body: Box<dyn FnOnce() + Send> = Box::new(move || {
                let client = kazoo(&node, &zk, 300);
                let _ = client.ensure_path("/election");
                // _create_election_node
                let Ok(node_path) = client.create("/election/candidate-", b"uuid", ES) else {
                    return;
                };
                let token = client
                    .exists(&node_path, false)
                    .ok()
                    .flatten()
                    .and_then(|s| u64::try_from(s.czxid).ok());
                let mine = node_path.rsplit('/').next().unwrap_or("").to_owned();
                let mut is_leader = false;
                // _monitor_leadership's loop (bounded: 2 s of the cluster's life)
                while node.monotonic() < 2.0 {
                    if is_leader {
                        let _ = storage.write(&node, token, format!("{who} leads"));
                    }
                    match client.get_children("/election", false) {
                        Ok(mut candidates) => {
                            candidates.sort();
                            let leads = candidates.first() == Some(&mine);
                            if leads != is_leader {
                                is_leader = leads; // on_become_leader / on_lose_leadership
                            }
                            client.sleep(secs(0.2));
                        }
                        Err(_) => {
                            // except Exception: logged; no sleep (inside the try): retry.
                            B::sleep(Duration::from_millis(1));
                        }
                    }
                }
                let _ = client.close();
            });
            (name, body)
        })
        .collect();
    run_processes::<B>(bodies);
}

/// The section's scenarios, in tutorial order.
pub fn scenarios() -> Vec<Scenario> {
    vec![
        Scenario::new(
            "ex-9.3-01",
            "ZookeeperDistributedLock as written: two clients `with lock:` work 0.5 s",
            bodies!(ex_9_3_01),
        )
        .violates("mutual-exclusion", "kazoo's Lock() has no max_leasing_time parameter: TypeError, caught, acquire() returns False without creating a node; __enter__ ignores it, so both clients run the critical section at once")
        .source("ex-9.3-01")
        .threads(2),
        Scenario::new(
            "ex-9.3-01-manual",
            "ManualZookeeperLock as written: three clients acquire(timeout=1), hold 0.3 s",
            bodies!(ex_9_3_01_manual),
        )
        .violates("wakes-only-on-predecessor-release", "the DataWatch callback does nothing and the loop re-reads the children every 0.1 s: a waiter polls the server while its predecessor still holds, and registers a new DataWatch each time")
        .source("ex-9.3-01")
        .threads(3),
        Scenario::new(
            "ex-9.3-01-herd",
            "the manual lock waiting on a children watch of the lock's parent: three clients",
            bodies!(ex_9_3_01_herd),
        )
        .violates("wakes-only-on-predecessor-release", "a children watch fires for every waiter on every release: client-3 wakes and re-reads when client-1 releases, though its predecessor client-2 still waits (the herd effect)")
        .source("ex-9.3-01")
        .threads(3),
        Scenario::new(
            "ex-9.3-01-fixed",
            "the manual lock waiting on an exists watch of its predecessor (the recipe): three clients",
            bodies!(ex_9_3_01_fixed),
        )
        .holds("the lowest node holds; each waiter sleeps until the one node below its own is deleted, so each release wakes exactly one waiter and the critical sections never overlap")
        .source("ex-9.3-01")
        .threads(3),
        Scenario::new(
            "ex-9.3-01-pause",
            "the manual lock: a holder paused past its 1 s session writes with its node's czxid to an unfenced storage",
            bodies!(ex_9_3_01_pause),
        )
        .violates("stale-write", "while the holder is paused its session expires and its ephemeral node is deleted; client-2 acquires and writes with a larger czxid; the holder resumes still acquired=True (no connection-state listener) and writes with the older one")
        .pauses(1, Duration::from_secs(2))
        .source("ex-9.3-01")
        .threads(2),
        Scenario::new(
            "ex-9.3-01-fenced",
            "the same pause with a fenced storage that keeps the largest czxid it accepted",
            bodies!(ex_9_3_01_fenced),
        )
        .holds("the czxid of a later lock node is larger: the storage rejects the resumed holder's write after client-2's")
        .pauses(1, Duration::from_secs(2))
        .source("ex-9.3-01")
        .threads(2),
        Scenario::new(
            "ex-9.3-01-lost-reply",
            "the manual lock: one message may be lost; client-1 goes on with its client open after trying once",
            bodies!(ex_9_3_01_lost_reply),
        )
        .violates("no-orphaned-node", "create(ephemeral, sequence) applied with its reply lost: acquire's except deletes nothing (lock_node_path is None) and returns False; the orphan node without a unique prefix heads the queue while client-1's session lives, and client-2 times out")
        .needs_choice()
        .source("ex-9.3-01")
        .threads(2),
        Scenario::new(
            "ex-9.3-01-nonblocking",
            "the manual lock: client-2 calls acquire(blocking=False) while client-1 holds",
            bodies!(ex_9_3_01_nonblocking),
        )
        .holds("not the smallest: the loop registers its DataWatch, then deletes its own node and returns False, leaving only the holder's node")
        .source("ex-9.3-01")
        .threads(2),
        Scenario::new(
            "ex-9.3-02",
            "ZookeeperReadWriteLock as written: a reader and a writer, separate read_locks/ and write_locks/ parents",
            bodies!(ex_9_3_02),
        )
        .violates("read-write-exclusion", "_can_acquire_lock lists both parents, then _create_lock_node creates: the reader sees no writer and the writer no reader, both create, both are inside (check-then-act, no fault needed)")
        .source("ex-9.3-02")
        .threads(2),
        Scenario::new(
            "ex-9.3-02-lease",
            "ZookeeperLeaseLock: two processes, each holder's renewal thread rewrites its node's data every lease/3; a holder may be paused",
            bodies!(ex_9_3_02_lease),
        )
        .violates("mutual-exclusion", "the renewal thread's zk.set renews nothing (an ephemeral node lives as long as its session) and is paused with its process: the holder's session expires, client-2 acquires while the paused holder is still inside")
        .pauses(1, Duration::from_secs(2))
        .source("ex-9.3-02")
        .threads(4),
        Scenario::new(
            "ex-9.3-03",
            "DistributedConfigManager as written: two nodes update_config their own key",
            bodies!(ex_9_3_03),
        )
        .violates("config-updated", "_read_config is a stub returning None: current_config[key] = value raises TypeError, caught, update_config returns False every time")
        .source("ex-9.3-03")
        .threads(2),
        Scenario::new(
            "ex-9.3-03-io",
            "the config manager with _read_config/_write_config on the znode /app/config",
            bodies!(ex_9_3_03_io),
        )
        .violates("no-lost-update", "the wrapped lock never acquires (TypeError in acquire, ignored by __enter__; its path /app/configconfig_lock is a sibling besides): the two get/set read-modify-writes interleave and one key is lost, both calls returning True")
        .source("ex-9.3-03")
        .threads(2),
        Scenario::new(
            "ex-9.3-04",
            "DistributedTaskQueue as written: a producer enqueues a task",
            bodies!(ex_9_3_04),
        )
        .violates("no-uncaught-exception", "enqueue_task uses self.lock.get_read_lock(), which ZookeeperReadWriteLock does not define: AttributeError")
        .source("ex-9.3-04")
        .threads(1),
        Scenario::new(
            "ex-9.3-04-fixed-api",
            "the task queue on acquire_*/release_* with its helpers on /queue/tasks: capacity 3, size 2, three producers",
            bodies!(ex_9_3_04_fixed_api),
        )
        .violates("queue-limit", "the size is checked under the read lock, which is dropped before the write lock is taken to add: producers that all read size 2 all add, and the queue exceeds its capacity")
        .source("ex-9.3-04")
        .threads(3),
        Scenario::new(
            "ex-9.3-05",
            "DistributedElection as written: a candidate is constructed",
            bodies!(ex_9_3_05),
        )
        .violates("no-uncaught-exception", "__init__ calls self._connect(), which the class does not define: AttributeError")
        .source("ex-9.3-05")
        .threads(1),
        Scenario::new(
            "ex-9.3-05-connected",
            "the election with a connected client: two candidates poll every 0.2 s and act while they believe they lead; the leader may be paused",
            bodies!(ex_9_3_05_connected),
        )
        .violates("stale-write", "the paused leader's session expires and the other candidate leads from its next poll; the old leader resumes with is_leader still True and acts before it polls again: its older czxid reaches the storage after the new leader's")
        .pauses(1, Duration::from_millis(1500))
        .source("ex-9.3-05")
        .threads(2),
    ]
}

//! Section 7.1 (`multiprocessing.Lock`) of the tutorial: its examples as scenarios.
//!
//! | scenario | example | expected |
//! |---|---|---|
//! | `ex-7.1-01` | shared Value counter + Manager list, `acquire`/`finally release` and `with lock` workers | holds |
//! | `ex-7.1-01-crash` | the same, a worker may be killed | dead-holder |
//! | `ex-7.1-02` | AdvancedLockExample as written: `acquire(blocking=False)`, `locked()` | every-worker-recorded |
//! | `ex-7.1-02-fixed` | the same with `acquire(block=False)` and 3.14's `locked()` | holds |
//! | `ex-7.1-03` | FileWriteSync: append + `write_count.value += 1` under one Lock | holds |
//! | `ex-7.1-03-crash` | the same, a writer may be killed | dead-holder |
//! | `ex-7.1-04` | DatabaseAccessSync: get / execute / close a connection | connection-closed |
//! | `ex-7.1-05` | ResourcePool keyed by process id, one process allocates twice | resource-conservation |

use crate::{all_exited, join_all, manager, py, sleep, start, Proxy};
use lockproof::backend::process::ProcessBackend;
use lockproof::process as mp;
use lockproof_scenario::prelude::*;
use std::collections::BTreeMap;

// ---- ex-7.1-01 ------------------------------------------------------------------------------

/// What a worker of ex-7.1-01 receives: the Lock as its argument, the module-level Value
/// and Manager list through fork.
struct Ex0701<B: ProcessBackend> {
    lock: mp::Lock<B>,
    counter: mp::Value<i32, B>,
    list: Proxy<Vec<String>, B>,
    cs: Arc<Region<B>>,
}

impl<B: ProcessBackend> Ex0701<B> {
    fn inherit(&self) -> Self {
        Ex0701 {
            lock: self.lock.reopen(),
            counter: self.counter.reopen(),
            list: self.list.clone(),
            cs: self.cs.clone(),
        }
    }

    /// `worker_with_lock`: `lock.acquire()` inside `try`, `finally: lock.release()`.
    fn worker_with_lock(&self, worker_id: usize, iterations: usize) {
        for i in 0..iterations {
            self.lock.acquire();
            {
                let _in = self.cs.enter();
                let current = self.counter.value();
                sleep::<B>(0.1);
                self.counter.set_value(current + 1);
                let op = format!(
                    "Worker-{worker_id}: 操作 {}, 值: {current} -> {}",
                    i + 1,
                    self.counter.value()
                );
                self.list.update(|l| l.push(op));
            }
            py(self.lock.release());
            sleep::<B>(0.05);
        }
    }

    /// `worker_with_context`: `with lock:`.
    fn worker_with_context(&self, worker_id: usize, iterations: usize) {
        for i in 0..iterations {
            {
                let _g = self.lock.lock();
                let _in = self.cs.enter();
                let current = self.counter.value();
                sleep::<B>(0.1);
                self.counter.set_value(current + 1);
                let op = format!(
                    "Context-Worker-{worker_id}: 操作 {}, 值: {}",
                    i + 1,
                    self.counter.value()
                );
                self.list.update(|l| l.push(op));
            }
            sleep::<B>(0.05);
        }
    }
}

/// ex-7.1-01 (3 + 3 workers × 3 iterations → 2 + 1 workers × 2). Claims: main logs the
/// final counter and the number of records, 6 × 3 = 18 each (here 3 × 2 = 6); every locked
/// read–sleep–write is alone in its critical section. With `CRASH`, a worker may be killed:
/// the claims are checked only when every worker exited normally.
fn ex_7_1_01_body<B: ProcessBackend, const CRASH: bool>() {
    const ITERATIONS: usize = 2;
    let shared = Ex0701 {
        lock: mp::Lock::<B>::new().with_name("process_lock"),
        counter: mp::Value::<i32, B>::new(0).with_name("shared_counter"),
        list: manager::<Vec<String>, B>("shared_list", Vec::new()),
        cs: Arc::new(Region::<B>::new("critical section", 1)),
    };
    let mut processes = Vec::new();
    for i in 1..=2 {
        let w = shared.inherit();
        processes.push(start::<B>(&format!("Worker-{i}"), move || {
            w.worker_with_lock(i, ITERATIONS)
        }));
    }
    let w = shared.inherit();
    processes.push(start::<B>("Context-Worker-1", move || {
        w.worker_with_context(1, ITERATIONS)
    }));
    let codes = join_all::<B>(processes);
    let (value, records) = (shared.counter.value(), shared.list.get().len());
    if !CRASH || all_exited(&codes) {
        ensure(value == 6 && records == 6, "no-lost-update", || {
            format!("最终计数器值: {value}, 总操作记录数: {records}; 3 workers × 2 make 6")
        });
    }
}

fn ex_7_1_01<B: ProcessBackend>() {
    ex_7_1_01_body::<B, false>()
}

fn ex_7_1_01_crash<B: ProcessBackend>() {
    ex_7_1_01_body::<B, true>()
}

// ---- ex-7.1-02 ------------------------------------------------------------------------------

/// A record of `shared_data` or `access_log`: (worker, what).
type Records<B> = Proxy<Vec<(String, &'static str)>, B>;

/// What every process of AdvancedLockExample receives (the example object, through fork).
struct Advanced<B: ProcessBackend> {
    lock: mp::Lock<B>,
    shared_data: Records<B>,
    access_log: Records<B>,
    cs: Arc<Region<B>>,
}

impl<B: ProcessBackend> Advanced<B> {
    fn new() -> Self {
        Advanced {
            lock: mp::Lock::<B>::new().with_name("self.lock"),
            shared_data: manager::<Vec<(String, &'static str)>, B>("shared_data", Vec::new()),
            access_log: manager::<Vec<(String, &'static str)>, B>("access_log", Vec::new()),
            cs: Arc::new(Region::<B>::new("critical section", 1)),
        }
    }

    fn inherit(&self) -> Self {
        Advanced {
            lock: self.lock.reopen(),
            shared_data: self.shared_data.clone(),
            access_log: self.access_log.clone(),
            cs: self.cs.clone(),
        }
    }

    /// Work under the lock, then `shared_data[key] = {...}`.
    fn work(&self, key: String, secs: f64, status: &'static str) {
        let _in = self.cs.enter();
        sleep::<B>(secs);
        self.shared_data.update(|d| d.push((key, status)));
    }

    fn blocking_worker(&self, id: usize, work_time: f64) {
        self.lock.acquire();
        self.work(format!("worker_{id}"), work_time, "completed");
        py(self.lock.release());
    }

    fn timeout_worker(&self, id: usize, timeout: f64, work_time: f64) {
        if py(self.lock.acquire_timeout(timeout)) {
            self.work(format!("timeout_worker_{id}"), work_time, "timeout");
            py(self.lock.release());
        } else {
            self.access_log
                .update(|l| l.push((format!("timeout_worker_{id}"), "timeout")));
        }
    }

    /// `FIXED`: `acquire(block=False)`. As written, `acquire(blocking=False)` raises
    /// `TypeError: 'blocking' is an invalid keyword argument for acquire()` and the process
    /// dies there, before touching the lock or any record.
    fn nonblocking_worker<const FIXED: bool>(&self, id: usize, work_time: f64) {
        if !FIXED {
            return; // TypeError: the target ends with a traceback, exit code 1
        }
        if py(self.lock.acquire_with(false, None)) {
            self.work(format!("nonblocking_worker_{id}"), work_time, "nonblocking");
            py(self.lock.release());
        } else {
            self.access_log
                .update(|l| l.push((format!("nonblocking_worker_{id}"), "lock_busy")));
        }
    }

    /// The lambda monitor: `monitor_lock_status() or time.sleep(0.3)`, 10 times (here 3).
    /// As written, `self.lock.locked()` raises AttributeError (no `locked()` before 3.14)
    /// and the monitor dies at once. `FIXED`: 3.14's `locked()`, the semaphore's value.
    fn monitor<const FIXED: bool>(&self) {
        if !FIXED {
            return; // AttributeError: 'Lock' object has no attribute 'locked'
        }
        for _ in 0..3 {
            let locked = self.lock.value() == 0;
            if !locked {
                sleep::<B>(0.3);
            }
        }
    }
}

/// ex-7.1-02 (2 blocking + 3 timeout + 3 non-blocking workers + a monitor → 1 + 1 + 1 + the
/// monitor). Claims: every worker records exactly once, in `shared_data` (it got the lock)
/// or in `access_log` (it timed out, or found the lock busy); never two holders at once.
fn ex_7_1_02_body<B: ProcessBackend, const FIXED: bool>() {
    let example = Advanced::<B>::new();
    let mut processes = Vec::new();
    let e = example.inherit();
    processes.push(start::<B>("blocking-1", move || e.blocking_worker(1, 1.2)));
    let e = example.inherit();
    processes.push(start::<B>("timeout-1", move || {
        e.timeout_worker(1, 1.0, 0.3)
    }));
    sleep::<B>(0.2);
    let e = example.inherit();
    processes.push(start::<B>("nonblocking-1", move || {
        e.nonblocking_worker::<FIXED>(1, 0.2)
    }));
    sleep::<B>(0.1);
    let e = example.inherit();
    processes.push(start::<B>("monitor", move || e.monitor::<FIXED>()));
    join_all::<B>(processes);
    let data = example.shared_data.get();
    let log = example.access_log.get();
    let mut workers: Vec<&str> = data.iter().chain(&log).map(|(w, _)| w.as_str()).collect();
    workers.sort_unstable();
    let expected = ["nonblocking_worker_1", "timeout_worker_1", "worker_1"];
    ensure(workers == expected, "every-worker-recorded", || {
        format!(
            "shared_data {data:?} + access_log {log:?}: the workers recorded are {workers:?}, \
             expected each of {expected:?} exactly once"
        )
    });
}

fn ex_7_1_02<B: ProcessBackend>() {
    ex_7_1_02_body::<B, false>()
}

fn ex_7_1_02_fixed<B: ProcessBackend>() {
    ex_7_1_02_body::<B, true>()
}

// ---- ex-7.1-03 ------------------------------------------------------------------------------

/// FileWriteSync, as a child receives it.
struct FileWriteSync<B: ProcessBackend> {
    lock: mp::Lock<B>,
    write_count: mp::Value<i32, B>,
    file: Proxy<Vec<String>, B>,
}

impl<B: ProcessBackend> FileWriteSync<B> {
    fn inherit(&self) -> Self {
        FileWriteSync {
            lock: self.lock.reopen(),
            write_count: self.write_count.reopen(),
            file: self.file.clone(),
        }
    }

    /// `safe_write`: `with self.lock:` open for append, `f.write(line)`,
    /// `self.write_count.value += 1`.
    fn safe_write(&self, content: &str, process_id: usize) {
        let _g = self.lock.lock();
        let line = format!("Process-{process_id}: {content}\n");
        // One `write` of a short line to a file opened with O_APPEND.
        self.file.update(|f| f.push(line));
        let n = self.write_count.value();
        self.write_count.set_value(n + 1);
    }
}

/// ex-7.1-03 (no driver in the tutorial: 2 writer processes × 2 `safe_write`s). Claims:
/// the file has one whole line per write and `write_count` counts them.
fn ex_7_1_03_body<B: ProcessBackend, const CRASH: bool>() {
    let sync = FileWriteSync {
        lock: mp::Lock::<B>::new().with_name("self.lock"),
        write_count: mp::Value::<i32, B>::new(0).with_name("write_count"),
        file: manager::<Vec<String>, B>("shared_output.txt", Vec::new()),
    };
    let processes = (1..=2)
        .map(|p| {
            let s = sync.inherit();
            start::<B>(&format!("Process-{p}"), move || {
                for k in 0..2 {
                    s.safe_write(&format!("line {k}"), p);
                }
            })
        })
        .collect();
    let codes = join_all::<B>(processes);
    let (lines, count) = (sync.file.get().len(), sync.write_count.value());
    if !CRASH || all_exited(&codes) {
        ensure(lines == 4 && count == 4, "no-lost-update", || {
            format!("{lines} lines in the file, write_count {count}; 4 writes were made")
        });
    }
}

fn ex_7_1_03<B: ProcessBackend>() {
    ex_7_1_03_body::<B, false>()
}

fn ex_7_1_03_crash<B: ProcessBackend>() {
    ex_7_1_03_body::<B, true>()
}

// ---- ex-7.1-04 ------------------------------------------------------------------------------

/// DatabaseAccessSync, as a child receives it.
struct DatabaseAccessSync<B: ProcessBackend> {
    lock: mp::Lock<B>,
    connection_count: mp::Value<i32, B>,
    active_connections: Proxy<Vec<String>, B>,
}

impl<B: ProcessBackend> DatabaseAccessSync<B> {
    fn inherit(&self) -> Self {
        DatabaseAccessSync {
            lock: self.lock.reopen(),
            connection_count: self.connection_count.reopen(),
            active_connections: self.active_connections.clone(),
        }
    }

    fn get_connection(&self, process_id: usize) -> String {
        let _g = self.lock.lock();
        let n = self.connection_count.value();
        let conn_id = format!("conn_{process_id}_{n}");
        self.connection_count.set_value(n + 1);
        let id = conn_id.clone();
        let unique = self.active_connections.update(move |l| {
            let fresh = !l.contains(&id);
            l.push(id);
            fresh
        });
        ensure(unique, "unique-connection-ids", || {
            format!("{conn_id} was handed out twice")
        });
        format!("mock_connection_{conn_id}")
    }

    fn execute_query(&self, _connection: &str, process_id: usize) -> String {
        let _g = self.lock.lock();
        sleep::<B>(0.1 + 0.1 * process_id as f64); // random.uniform(0.1, 0.3)
        format!("query_result_{process_id}")
    }

    fn close_connection(&self, connection: &str) {
        let _g = self.lock.lock();
        // conn_id = connection.split('_')[-1]
        let conn_id = connection.rsplit('_').next().unwrap_or("").to_owned();
        self.active_connections.update(|l| {
            if let Some(i) = l.iter().position(|c| *c == conn_id) {
                l.remove(i);
            }
        });
    }
}

/// ex-7.1-04 (a class with no driver: 2 processes each get, use and close a connection).
/// Claims: `close_connection` removes the connection from `active_connections`; ids are
/// unique (`connection_count` under the lock).
fn ex_7_1_04<B: ProcessBackend>() {
    let db = DatabaseAccessSync {
        lock: mp::Lock::<B>::new().with_name("self.lock"),
        connection_count: mp::Value::<i32, B>::new(0).with_name("connection_count"),
        active_connections: manager::<Vec<String>, B>("active_connections", Vec::new()),
    };
    let processes = (1..=2)
        .map(|p| {
            let d = db.inherit();
            start::<B>(&format!("Process-{p}"), move || {
                let conn = d.get_connection(p);
                d.execute_query(&conn, p);
                d.close_connection(&conn);
            })
        })
        .collect();
    join_all::<B>(processes);
    let left = db.active_connections.get();
    ensure(left.is_empty(), "connection-closed", || {
        format!(
            "active_connections is {left:?} after every process closed its connection: \
             close_connection looks up connection.split('_')[-1], the bare counter"
        )
    });
}

// ---- ex-7.1-05 ------------------------------------------------------------------------------

/// ResourcePool, as a child receives it.
struct ResourcePool<B: ProcessBackend> {
    max_resources: usize,
    available: Proxy<Vec<String>, B>,
    allocated: Proxy<BTreeMap<usize, String>, B>,
    lock: mp::Lock<B>,
    allocation_count: mp::Value<i32, B>,
}

impl<B: ProcessBackend> ResourcePool<B> {
    fn new(max_resources: usize) -> Self {
        ResourcePool {
            max_resources,
            available: manager::<Vec<String>, B>(
                "available_resources",
                (0..max_resources)
                    .map(|i| format!("resource_{i}"))
                    .collect(),
            ),
            allocated: manager::<BTreeMap<usize, String>, B>(
                "allocated_resources",
                BTreeMap::new(),
            ),
            lock: mp::Lock::<B>::new().with_name("self.lock"),
            allocation_count: mp::Value::<i32, B>::new(0).with_name("allocation_count"),
        }
    }

    fn inherit(&self) -> Self {
        ResourcePool {
            max_resources: self.max_resources,
            available: self.available.clone(),
            allocated: self.allocated.clone(),
            lock: self.lock.reopen(),
            allocation_count: self.allocation_count.reopen(),
        }
    }

    /// The pool's invariant, checked as the lock is released (the checker's probe).
    fn conserved(&self, op: &str, process_id: usize) {
        let (a, b) = (self.available.get(), self.allocated.get());
        ensure(
            a.len() + b.len() == self.max_resources,
            "resource-conservation",
            || {
                format!(
                    "after Process-{process_id}'s {op}: available {a:?} + allocated {b:?} \
                     hold {} of {} resources",
                    a.len() + b.len(),
                    self.max_resources
                )
            },
        );
    }

    fn allocate(&self, process_id: usize) -> Option<String> {
        let _g = self.lock.lock();
        let r = if !self.available.get().is_empty() {
            let resource = self.available.update(|l| l.remove(0));
            let r = resource.clone();
            self.allocated.update(|d| d.insert(process_id, r));
            let n = self.allocation_count.value();
            self.allocation_count.set_value(n + 1);
            Some(resource)
        } else {
            None // "资源池已空"
        };
        self.conserved("allocate", process_id);
        r
    }

    fn release(&self, process_id: usize) -> bool {
        let _g = self.lock.lock();
        let r = if self.allocated.get().contains_key(&process_id) {
            let resource = self.allocated.update(|d| d.remove(&process_id));
            if let Some(resource) = resource {
                self.available.update(|l| l.push(resource));
            }
            true
        } else {
            false // "无资源可释放"
        };
        self.conserved("release", process_id);
        r
    }
}

/// ex-7.1-05 (a class with no driver: a pool of 2; Process-1 allocates two resources and
/// releases twice, Process-2 allocates one and releases it). Claims: allocate hands out a
/// resource or None, release puts it back; the pool conserves its resources.
fn ex_7_1_05<B: ProcessBackend>() {
    let pool = ResourcePool::<B>::new(2);
    let p1 = pool.inherit();
    let p2 = pool.inherit();
    let processes = vec![
        start::<B>("Process-1", move || {
            p1.allocate(1);
            p1.allocate(1);
            p1.release(1);
            p1.release(1);
        }),
        start::<B>("Process-2", move || {
            p2.allocate(2);
            p2.release(2);
        }),
    ];
    join_all::<B>(processes);
}

/// The scenarios of section 7.1.
pub fn scenarios() -> Vec<Scenario> {
    vec![
        Scenario::new(
            "ex-7.1-01",
            "multiprocessing.Lock basics: a shared Value counter and a Manager list, updated by acquire/finally-release and `with lock` workers",
            bodies!(ex_7_1_01),
        )
        .holds("every read–sleep–write of shared_counter is under the one process_lock (and each .value access under the Value's own RLock), so the 3 workers × 2 iterations make 6 and 6 records")
        .source("ex-7.1-01")
        .threads(3),
        Scenario::new(
            "ex-7.1-01-crash",
            "ex-7.1-01 with a worker process that may be killed",
            bodies!(ex_7_1_01_crash),
        )
        .violates("dead-holder", "a worker killed inside its critical section never releases process_lock (multiprocessing has no owner-death recovery): the other workers block in acquire() forever and main in join()")
        .crashes(1)
        .source("ex-7.1-01")
        .threads(3),
        Scenario::new(
            "ex-7.1-02",
            "AdvancedLockExample as written: blocking, timed and `acquire(blocking=False)` workers and a `locked()` monitor",
            bodies!(ex_7_1_02),
        )
        .violates("every-worker-recorded", "multiprocessing.Lock.acquire's keyword is `block`: acquire(blocking=False) raises TypeError, so each non-blocking worker dies before it records anything (and the monitor dies on locked(), absent before 3.14)")
        .source("ex-7.1-02")
        .threads(4),
        Scenario::new(
            "ex-7.1-02-fixed",
            "AdvancedLockExample with acquire(block=False) and 3.14's locked()",
            bodies!(ex_7_1_02_fixed),
        )
        .holds("with the keyword fixed every worker records exactly once (got the lock, timed out, or found it busy), and the lock has one holder at a time")
        .source("ex-7.1-02")
        .threads(4),
        Scenario::new(
            "ex-7.1-03",
            "FileWriteSync: each write appends a line and bumps write_count under one Lock",
            bodies!(ex_7_1_03),
        )
        .holds("the append and `write_count.value += 1` are both under self.lock: 2 writers × 2 writes leave 4 lines and a count of 4")
        .source("ex-7.1-03"),
        Scenario::new(
            "ex-7.1-03-crash",
            "ex-7.1-03 with a writer process that may be killed",
            bodies!(ex_7_1_03_crash),
        )
        .violates("dead-holder", "a writer killed inside `with self.lock` leaves the lock held forever: the other writer blocks in safe_write and main in join(); killed inside `write_count.value += 1`, it also leaves the Value's own RLock held, and main blocks reading write_count.value")
        .crashes(1)
        .source("ex-7.1-03"),
        Scenario::new(
            "ex-7.1-04",
            "DatabaseAccessSync: get, execute and close a connection under one Lock",
            bodies!(ex_7_1_04),
        )
        .violates("connection-closed", "close_connection looks for connection.split('_')[-1] (the bare counter, e.g. '0') in a list of 'conn_<pid>_<n>' ids: nothing is ever removed, active_connections only grows")
        .source("ex-7.1-04"),
        Scenario::new(
            "ex-7.1-05",
            "ResourcePool: allocate/release move resources between a Manager list and a dict keyed by process id",
            bodies!(ex_7_1_05),
        )
        .violates("resource-conservation", "allocated_resources is keyed by process_id: a process's second allocate overwrites its first entry, and that resource is lost from the pool for good")
        .source("ex-7.1-05"),
    ]
}

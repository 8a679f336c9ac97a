//! Section 7.4 (protecting shared memory: SharedMemory, Value and Array, layered locks) of
//! the tutorial: its examples as scenarios.
//!
//! | scenario | example | expected |
//! |---|---|---|
//! | `ex-7.4-01` | SharedMemory: writers copy 64-byte records into the same slots with no lock | shared-memory-consistency |
//! | `ex-7.4-02` | SharedObjectManager: Values and Arrays under counter_lock / array_lock, Manager stats | manager-write-back |
//! | `ex-7.4-02-crash` | the same, a worker may be killed | dead-holder |
//! | `ex-7.4-03` | AdvancedSyncManager: a hand-rolled reader/writer flag per resource | rw-exclusion |

use crate::{all_exited, join_all, manager, now, py, sleep, start, Proxy};
use lockproof::backend::process::ProcessBackend;
use lockproof::process as mp;
use lockproof_scenario::prelude::*;
use std::collections::BTreeMap;

// ---- ex-7.4-01 ------------------------------------------------------------------------------

/// The two halves of a 64-byte record as they sit in the segment: pattern (1 sequential,
/// 2 random), batch, half. `shm.buf[p:p+64] = data_bytes` is a memcpy, not one store: the
/// halves are two writes, and a reader's `bytes(shm.buf[p:p+64])` two reads.
fn half(pattern: u64, batch: u64, h: u64) -> u64 {
    pattern * 100 + batch * 10 + h + 1
}

/// `DataWriter.write_data(pattern, batches, interval)`: record `batch` goes to position
/// `batch * 64` (slot `batch`), whatever the writer.
fn write_data<B: ProcessBackend>(
    shm: &mp::RawArray<u64, B>,
    pattern: u64,
    batches: u64,
    interval: f64,
) {
    for batch in 0..batches {
        let slot = batch as usize;
        for h in 0..2 {
            py(shm.set(2 * slot + h, half(pattern, batch, h as u64)));
        }
        sleep::<B>(interval);
    }
}

/// `DataReader.read_data`: read slots (the written ones, rather than random offsets of a
/// 512 KB segment that almost never hit data), skip empty ones.
fn read_data<B: ProcessBackend>(shm: &mp::RawArray<u64, B>, slots: usize, interval: f64) {
    for slot in 0..slots {
        let (a, b) = (py(shm.get(2 * slot)), py(shm.get(2 * slot + 1)));
        if a != 0 || b != 0 {
            let whole = a != 0 && b == a + 1;
            ensure(whole, "shared-memory-consistency", || {
                format!(
                    "Reader: 从位置 {} 读取 halves {a} and {b}: not one writer's record \
                     (pattern·100 + batch·10 + half + 1); the writers wrote the same slot at once",
                    slot * 64
                )
            });
        }
        sleep::<B>(interval);
    }
}

/// ex-7.4-01 (3 writers × 5/3/4 batches, 3 readers for 8 s, a 512 KB segment → 2 writers ×
/// 2 batches, 1 reader over the 2 written slots, 4 words). The named segment's lifecycle
/// (create, attach by name, close, one unlink) is not modelled; the memory is one
/// process-shared array every process maps. Claims: readers log whole records ('从位置 p
/// 读取: <data>').
fn ex_7_4_01<B: ProcessBackend>() {
    let shm = mp::RawArray::<u64, B>::new(&[0; 4]).with_name("example_shm");
    let (w1, w2, r) = (shm.reopen(), shm.reopen(), shm.reopen());
    let mut ps = vec![
        start::<B>("Writer-sequential", move || write_data(&w1, 1, 2, 0.2)),
        start::<B>("Writer-random", move || write_data(&w2, 2, 2, 0.3)),
    ];
    sleep::<B>(1.0);
    ps.push(start::<B>("Reader-1", move || read_data(&r, 2, 0.4)));
    join_all::<B>(ps);
}

// ---- ex-7.4-02 ------------------------------------------------------------------------------

/// SharedObjectManager, as a child receives it.
struct SharedObjects<B: ProcessBackend> {
    counter: mp::Value<i32, B>,
    total_sum: mp::Value<f64, B>,
    results: mp::Array<i32, B>,
    measurements: mp::Array<f64, B>,
    counter_lock: mp::Lock<B>,
    array_lock: mp::Lock<B>,
    operation_log: Proxy<Vec<String>, B>,
    process_stats: Proxy<BTreeMap<String, BTreeMap<&'static str, i64>>, B>,
}

impl<B: ProcessBackend> SharedObjects<B> {
    fn new() -> Self {
        SharedObjects {
            counter: mp::Value::<i32, B>::new(0).with_name("counter"),
            total_sum: mp::Value::<f64, B>::new(0.0).with_name("total_sum"),
            results: mp::Array::<i32, B>::new(&[0; 8]).with_name("results"),
            measurements: mp::Array::<f64, B>::new(&[0.0; 2]).with_name("measurements"),
            counter_lock: mp::Lock::<B>::new().with_name("counter_lock"),
            array_lock: mp::Lock::<B>::new().with_name("array_lock"),
            operation_log: manager::<Vec<String>, B>("operation_log", Vec::new()),
            process_stats: manager::<BTreeMap<String, BTreeMap<&'static str, i64>>, B>(
                "process_stats",
                BTreeMap::new(),
            ),
        }
    }

    fn inherit(&self) -> Self {
        SharedObjects {
            counter: self.counter.reopen(),
            total_sum: self.total_sum.reopen(),
            results: self.results.reopen(),
            measurements: self.measurements.reopen(),
            counter_lock: self.counter_lock.reopen(),
            array_lock: self.array_lock.reopen(),
            operation_log: self.operation_log.clone(),
            process_stats: self.process_stats.clone(),
        }
    }

    fn log(&self, what: String) {
        self.operation_log.update(|l| l.push(what));
    }

    /// "原子递增计数器".
    fn increment_counter(&self, process_id: usize) -> i32 {
        let _g = self.counter_lock.lock();
        let old = self.counter.value();
        let v = self.counter.value();
        self.counter.set_value(v + 1);
        let new = self.counter.value();
        self.log(format!("{process_id}_{}", now::<B>()));
        new - old
    }

    fn update_measurement(&self, index: usize, value: f64, process_id: usize) -> bool {
        let _g = self.array_lock.lock();
        if index < self.measurements.len() {
            let old = py(self.measurements.get(index));
            py(self.measurements.set(index, value));
            {
                let _g = self.counter_lock.lock();
                let s = self.total_sum.value();
                self.total_sum.set_value(s - old + value);
            }
            self.log(format!("array_{}_{process_id}", now::<B>()));
            return true;
        }
        false
    }

    fn add_result(&self, process_id: usize, result: i32) -> i64 {
        let _g = self.array_lock.lock();
        for i in 0..self.results.len() {
            if py(self.results.get(i)) == 0 {
                py(self.results.set(i, result));
                self.log(format!("result_{}_{process_id}", now::<B>()));
                return i as i64;
            }
        }
        -1
    }

    /// `CalculationWorker.perform_calculations` over fixed `(a, op, b)`s.
    fn perform_calculations(&self, worker_id: usize, calcs: &[(i32, char, i32)]) {
        for (i, &(a, op, b)) in calcs.iter().enumerate() {
            let result = match op {
                '+' => a + b,
                '-' => a - b,
                _ => a * b,
            };
            let increment = self.increment_counter(worker_id);
            ensure(increment == 1, "no-lost-update", || {
                format!("Worker-{worker_id}'s locked increment moved the counter by {increment}")
            });
            self.add_result(worker_id, result);
            self.update_measurement(
                i % self.measurements.len(),
                result as f64 / 100.0,
                worker_id,
            );
            let key = format!("worker_{worker_id}");
            if !self.process_stats.get().contains_key(&key) {
                let fresh = [("calculations", 0), ("total_result", 0)]
                    .into_iter()
                    .collect();
                let k = key.clone();
                self.process_stats.update(|d| d.insert(k, fresh));
            }
            // process_stats[key]['calculations'] += 1: a copy from the manager, mutated.
            let mut copy = self.process_stats.update(|d| d[&key].clone());
            *copy.entry("calculations").or_default() += 1;
            let mut copy = self.process_stats.update(|d| d[&key].clone());
            *copy.entry("total_result").or_default() += i64::from(result);
            sleep::<B>(0.2); // random.uniform(0.1, 0.3)
        }
    }

    /// `MonitoringWorker.monitor_system`: reads without the locks, logs.
    fn monitor_system(&self, samples: usize, interval: f64) {
        for _ in 0..samples {
            let _ = (self.counter.value(), self.total_sum.value());
            let _ = (self.results.to_vec(), self.measurements.to_vec());
            sleep::<B>(interval);
        }
    }
}

/// ex-7.4-02 (3 workers × 15 calculations, a 10 s monitor, results[100], measurements[50]
/// → 2 workers × 2, a 1-sample monitor, results[8], measurements[2] so that workers share
/// indices; the random calculations fixed, one of them `5 - 5 = 0`). Claims: the counter
/// is an atomic increment (final 4); total_sum equals sum(measurements); process_stats
/// counts each worker's calculations (2 each). With `CRASH` (1 calculation per worker, no
/// monitor) a worker may be killed, and the claims are checked only when every process
/// exited normally.
fn ex_7_4_02_body<B: ProcessBackend, const CRASH: bool>() {
    let shared = SharedObjects::<B>::new();
    let calcs = [[(3, '+', 4), (5, '-', 5)], [(2, '*', 3), (9, '-', 1)]];
    // The crash variant: one calculation per worker and no monitor, so that loom's
    // search reaches a kill inside a critical section within its budget.
    let per_worker = if CRASH { 1 } else { 2 };
    let mut ps: Vec<_> = calcs
        .into_iter()
        .enumerate()
        .map(|(i, c)| {
            let s = shared.inherit();
            start::<B>(&format!("Worker-{}", i + 1), move || {
                s.perform_calculations(i + 1, &c[..per_worker])
            })
        })
        .collect();
    if !CRASH {
        sleep::<B>(0.5);
        let m = shared.inherit();
        ps.push(start::<B>("Monitor", move || m.monitor_system(1, 1.5)));
    }
    let codes = join_all::<B>(ps);
    if CRASH && !all_exited(&codes) {
        return;
    }
    // DataAnalyzer.analyze_results, then the final statistics.
    let _ = {
        let _g = shared.array_lock.lock();
        shared.results.to_vec()
    };
    let counter = shared.counter.value();
    let n = 2 * per_worker as i32;
    ensure(counter == n, "no-lost-update", || {
        format!("总计数器值: {counter}, expected {n}")
    });
    let (sum, m) = (shared.total_sum.value(), shared.measurements.to_vec());
    ensure(
        (sum - m.iter().sum::<f64>()).abs() < 1e-9,
        "shared-memory-consistency",
        || format!("total_sum {sum}, measurements {m:?}"),
    );
    if CRASH {
        return; // the variant is about the locks; the stats defect is ex-7.4-02's
    }
    let stats = shared.process_stats.get();
    ensure(
        stats
            .values()
            .all(|s| s["calculations"] == per_worker as i64),
        "manager-write-back",
        || {
            format!(
                "process_stats {stats:?} after 2 calculations per worker: \
                 process_stats[k]['calculations'] += 1 mutates a copy the manager never sees"
            )
        },
    );
}

fn ex_7_4_02<B: ProcessBackend>() {
    ex_7_4_02_body::<B, false>()
}

fn ex_7_4_02_crash<B: ProcessBackend>() {
    ex_7_4_02_body::<B, true>()
}

// ---- ex-7.4-03 ------------------------------------------------------------------------------

/// AdvancedSyncManager (1 resource), as a child receives it.
struct AdvancedSync<B: ProcessBackend> {
    global_counter: mp::Value<i32, B>,
    resource_states: mp::Array<i32, B>,
    resource_data: mp::Array<f64, B>,
    access_times: mp::Array<f64, B>,
    resource_lock: mp::Lock<B>,
    statistics_lock: mp::Lock<B>,
    operation_history: Proxy<Vec<(usize, &'static str)>, B>,
    /// Probe: (writers, readers) admitted to the resource now.
    holders: Arc<Shared<(usize, usize), B>>,
}

impl<B: ProcessBackend> AdvancedSync<B> {
    fn inherit(&self) -> Self {
        AdvancedSync {
            global_counter: self.global_counter.reopen(),
            resource_states: self.resource_states.reopen(),
            resource_data: self.resource_data.reopen(),
            access_times: self.access_times.reopen(),
            resource_lock: self.resource_lock.reopen(),
            statistics_lock: self.statistics_lock.reopen(),
            operation_history: self.operation_history.clone(),
            holders: self.holders.clone(),
        }
    }

    fn record(&self, process_id: usize, op: &'static str) {
        let _g = self.statistics_lock.lock();
        let _ = self.global_counter.value();
        self.operation_history.update(|h| h.push((process_id, op)));
        // The resource_statistics copy-update is left out: no claim reads it.
    }

    /// Admission, checked by the probe: a writer needs no other holder, a reader no writer.
    fn admit(&self, process_id: usize, write: bool) {
        let (w, r) = self.holders.update(|h| {
            let before = *h;
            if write {
                h.0 += 1;
            } else {
                h.1 += 1;
            }
            before
        });
        let ok = if write { w == 0 && r == 0 } else { w == 0 };
        ensure(ok, "rw-exclusion", || {
            format!(
                "Worker-{process_id} admitted as a {} while {w} writer(s) and {r} reader(s) hold \
                 the resource: state 1 means 'in use' for readers and writers alike",
                if write { "writer" } else { "reader" }
            )
        });
    }

    fn acquire_resource(&self, process_id: usize, write: bool) -> bool {
        let _g = self.resource_lock.lock();
        let state = py(self.resource_states.get(0));
        if state == 0 {
            py(self.resource_states.set(0, 1)); // `1 if write else 1`
            py(self.access_times.set(0, now::<B>()));
            self.admit(process_id, write);
            self.record(process_id, "acquire");
            true
        } else if state == 1 && !write {
            py(self.access_times.set(0, now::<B>()));
            self.admit(process_id, write);
            self.record(process_id, "acquire_shared");
            true
        } else {
            self.record(process_id, "acquire_failed");
            false
        }
    }

    fn release_resource(&self, process_id: usize, new_value: Option<f64>) {
        let _g = self.resource_lock.lock();
        if let Some(v) = new_value {
            py(self.resource_data.set(0, v));
        }
        py(self.resource_states.set(0, 0));
        let write = new_value.is_some();
        self.holders.update(|h| {
            if write {
                h.0 -= 1;
            } else {
                h.1 -= 1;
            }
        });
        self.record(process_id, "release");
    }

    /// `ResourceWorker.perform_operations` over fixed operation types (`true`: write).
    fn perform_operations(&self, worker_id: usize, ops: &[bool]) {
        for &write in ops {
            if self.acquire_resource(worker_id, write) {
                if write {
                    sleep::<B>(0.2); // random.uniform(0.1, 0.3)
                    self.release_resource(worker_id, Some(10.0 * worker_id as f64));
                } else {
                    let _ = py(self.resource_data.get(0));
                    sleep::<B>(0.1); // random.uniform(0.05, 0.15)
                    self.release_resource(worker_id, None);
                }
            } else {
                sleep::<B>(0.15); // random.uniform(0.1, 0.2)
            }
            // `if i % 7 == 0 and i > 0`: batch_update_resources, never reached at 2 ops.
        }
    }
}

/// ex-7.4-03 (8 resources, 4 workers × 25 random ops, a monitor → 1 resource; a writer, a
/// reader, and a worker that writes twice; the monitor, which only reads and logs, left
/// out). Claims: readers may share a busy resource, writers need an idle one; at the end
/// every resource is idle (state 0).
fn ex_7_4_03<B: ProcessBackend>() {
    let sync = AdvancedSync {
        global_counter: mp::Value::<i32, B>::new(0).with_name("global_counter"),
        resource_states: mp::Array::<i32, B>::new(&[0]).with_name("resource_states"),
        resource_data: mp::Array::<f64, B>::new(&[0.0]).with_name("resource_data"),
        access_times: mp::Array::<f64, B>::new(&[0.0]).with_name("access_times"),
        resource_lock: mp::Lock::<B>::new().with_name("resource_locks[0]"),
        statistics_lock: mp::Lock::<B>::new().with_name("statistics_lock"),
        operation_history: manager::<Vec<(usize, &'static str)>, B>(
            "operation_history",
            Vec::new(),
        ),
        holders: crate::probe::<(usize, usize), B>("holders", (0, 0)),
    };
    let plans: [&'static [bool]; 3] = [&[true], &[false], &[true, true]];
    let ps = plans
        .into_iter()
        .enumerate()
        .map(|(i, ops)| {
            let s = sync.inherit();
            start::<B>(&format!("Worker-{}", i + 1), move || {
                s.perform_operations(i + 1, ops)
            })
        })
        .collect();
    join_all::<B>(ps);
    let state = py(sync.resource_states.get(0));
    ensure(state == 0, "rw-exclusion", || {
        format!("最终资源状态: [{state}]")
    });
}

/// The scenarios of section 7.4.
pub fn scenarios() -> Vec<Scenario> {
    vec![
        Scenario::new(
            "ex-7.4-01",
            "SharedMemory: two writers copy 64-byte records into the same slots of one segment, a reader reads them, no lock anywhere",
            bodies!(ex_7_4_01),
        )
        .violates("shared-memory-consistency", "no synchronization in a section on shared-memory protection: both writers put batch b at offset b·64, so their copies of the same slot interleave and the reader reads half of one record and half of the other")
        .source("ex-7.4-01")
        .threads(3),
        Scenario::new(
            "ex-7.4-02",
            "SharedObjectManager: Value/Array updates under counter_lock and array_lock (nested in one order), per-worker stats in a Manager dict",
            bodies!(ex_7_4_02),
        )
        .violates("manager-write-back", "the counter, total_sum and arrays are consistent (every update under its lock, one lock order), but process_stats[k]['calculations'] += 1 mutates a copy returned by the Manager proxy: every worker's stats stay 0")
        .source("ex-7.4-02")
        .threads(3),
        Scenario::new(
            "ex-7.4-02-crash",
            "ex-7.4-02 with a process that may be killed",
            bodies!(ex_7_4_02_crash),
        )
        .violates("dead-holder", "a worker killed while holding array_lock or counter_lock leaves it held: the other worker (and main's final analysis) block on it forever")
        .crashes(1)
        .source("ex-7.4-02")
        .threads(3),
        Scenario::new(
            "ex-7.4-03",
            "AdvancedSyncManager: a per-resource state flag under its own Lock as a reader/writer protocol",
            bodies!(ex_7_4_03),
        )
        .violates("rw-exclusion", "the state is 1 for readers and writers alike (`1 if write else 1`), so a reader is admitted while a writer holds the resource, and any release sets it back to 0 while others still hold it")
        .source("ex-7.4-03")
        .threads(3),
    ]
}

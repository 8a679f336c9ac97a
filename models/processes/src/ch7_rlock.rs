//! Section 7.2 (`multiprocessing.RLock`) of the tutorial: its examples as scenarios.
//!
//! | scenario | example | expected |
//! |---|---|---|
//! | `ex-7.2-01` | RecursiveWorker: complex_task re-enters the RLock in part1, nested levels, part2 | holds |
//! | `ex-7.2-01-crash` | the same, a worker may be killed | dead-holder |
//! | `ex-7.2-02` | AdvancedRLockUsage: statistics mutated through a Manager dict's copy | manager-write-back |
//! | `ex-7.2-03` | fibonacci_with_lock: recursive calls under one RLock, a shared call stack | holds |
//! | `ex-7.2-04` | NestedResourceAccess: A then B (reading A back) under one RLock | holds |
//! | `ex-7.2-05` | TransactionProcessor as written: balances changed through a Manager copy | no-overdraft |
//! | `ex-7.2-05-fixed` | the same with the write-back and `_record_transaction` defined | holds |

use crate::{all_exited, join_all, manager, now, sleep, start, Proxy};
use lockproof::backend::process::ProcessBackend;
use lockproof::process as mp;
use lockproof_scenario::prelude::*;
use std::collections::BTreeMap;

// ---- ex-7.2-01 ------------------------------------------------------------------------------

/// RecursiveWorker, with the module-level Manager dict and Value it reaches through fork.
struct RecursiveWorker<B: ProcessBackend> {
    rlock: mp::RLock<B>,
    process_id: usize,
    shared_resource: Proxy<BTreeMap<String, usize>, B>,
    operation_count: mp::Value<i32, B>,
    cs: Arc<Region<B>>,
}

impl<B: ProcessBackend> RecursiveWorker<B> {
    fn nested_operation(&self, level: usize, max_level: usize) {
        let _g = self.rlock.lock();
        let key = format!("process_{}_level_{level}", self.process_id);
        self.shared_resource.update(|d| d.insert(key, level));
        let n = self.operation_count.value();
        self.operation_count.set_value(n + 1);
        if level < max_level {
            sleep::<B>(0.1);
            self.nested_operation(level + 1, max_level);
        } else {
            // "达到最大嵌套级别": complex_task + nested levels 1..=max_level.
            let depth = self.rlock.count();
            ensure(depth == 1 + max_level as isize, "reentrancy", || {
                format!(
                    "Process-{} at level {level} holds the RLock {depth} times, expected {}",
                    self.process_id,
                    1 + max_level
                )
            });
        }
    }

    fn part_work(&self, part: usize) {
        let _g = self.rlock.lock();
        sleep::<B>(0.2);
        let key = format!("{}_part{part}", self.process_id);
        self.shared_resource.update(|d| d.insert(key, 0));
    }

    fn complex_task(&self, max_level: usize) {
        {
            let _g = self.rlock.lock();
            let _in = self.cs.enter();
            self.part_work(1);
            self.nested_operation(1, max_level);
            self.part_work(2);
        }
        let left = self.rlock.count();
        ensure(left == 0, "reentrancy", || {
            format!(
                "Process-{} still holds the RLock {left} times after complex_task",
                self.process_id
            )
        });
    }
}

/// ex-7.2-01 (3 processes, max_level 3 → 2 processes, max_level 2). Claims: the same
/// process re-acquires the RLock without blocking (depth 1 + max_level at the deepest
/// level); main logs `operation_count` = processes × levels (here 4) and
/// `len(shared_resource)` = processes × (levels + 2) (here 8).
fn ex_7_2_01_body<B: ProcessBackend, const CRASH: bool>() {
    const MAX_LEVEL: usize = 2;
    let rlock = mp::RLock::<B>::new().with_name("rlock");
    let shared_resource = manager::<BTreeMap<String, usize>, B>("shared_resource", BTreeMap::new());
    let operation_count = mp::Value::<i32, B>::new(0).with_name("operation_count");
    let cs = Arc::new(Region::<B>::new("complex_task", 1));
    let processes = (1..=2)
        .map(|i| {
            let w = RecursiveWorker {
                rlock: rlock.reopen(),
                process_id: i,
                shared_resource: shared_resource.clone(),
                operation_count: operation_count.reopen(),
                cs: cs.clone(),
            };
            start::<B>(&format!("Process-{i}"), move || w.complex_task(MAX_LEVEL))
        })
        .collect();
    let codes = join_all::<B>(processes);
    let (count, entries) = (operation_count.value(), shared_resource.get().len());
    if !CRASH || all_exited(&codes) {
        ensure(count == 4 && entries == 8, "no-lost-update", || {
            format!("总操作次数: {count}, 共享资源条目数: {entries}; expected 4 and 8")
        });
    }
}

fn ex_7_2_01<B: ProcessBackend>() {
    ex_7_2_01_body::<B, false>()
}

fn ex_7_2_01_crash<B: ProcessBackend>() {
    ex_7_2_01_body::<B, true>()
}

// ---- ex-7.2-02 ------------------------------------------------------------------------------

/// A `lock_statistics` entry: `process_count` (the other fields are times and dates).
type Stats = BTreeMap<&'static str, usize>;

/// AdvancedRLockUsage, as a child receives it (the object is a Process argument).
struct AdvancedRLockUsage<B: ProcessBackend> {
    rlock: mp::RLock<B>,
    shared_data: Proxy<BTreeMap<String, &'static str>, B>,
    lock_statistics: Proxy<BTreeMap<String, Stats>, B>,
    operation_log: Proxy<Vec<String>, B>,
    cs: Arc<Region<B>>,
}

impl<B: ProcessBackend> AdvancedRLockUsage<B> {
    fn inherit(&self) -> Self {
        AdvancedRLockUsage {
            rlock: self.rlock.reopen(),
            shared_data: self.shared_data.clone(),
            lock_statistics: self.lock_statistics.clone(),
            operation_log: self.operation_log.clone(),
            cs: self.cs.clone(),
        }
    }

    fn recursive_file_processor(&self, file_path: &str, depth: usize, max_depth: usize) {
        if depth > max_depth {
            return;
        }
        let _g = self.rlock.lock();
        let _in = (depth == 0).then(|| self.cs.enter());
        // operation_id = f"file_{file_path}_{depth}_{timestamp}"
        let operation_id = format!("file_{file_path}_{depth}_{}", now::<B>());
        let id = operation_id.clone();
        self.shared_data.update(|d| d.insert(id, "processing"));
        let path = file_path.to_owned();
        self.operation_log.update(|l| l.push(path));
        let processing_time = 0.1 + 0.1 * depth as f64; // random.uniform(0.1, 0.3)
        sleep::<B>(processing_time);
        self._update_statistics(file_path, depth);
        if depth < max_depth {
            for i in 1..3 {
                self.recursive_file_processor(&format!("{file_path}_sub{i}"), depth + 1, max_depth);
            }
        }
        self.shared_data
            .update(|d| d.insert(operation_id, "completed"));
    }

    /// `stats = self.lock_statistics[stats_key]` returns a copy (unpickled from the
    /// manager); the `+=`s change only that copy.
    fn _update_statistics(&self, file_path: &str, depth: usize) {
        let _g = self.rlock.lock();
        let stats_key = format!("stats_{file_path}");
        let k = stats_key.clone();
        if !self.lock_statistics.get().contains_key(&stats_key) {
            let fresh: Stats = [("process_count", 0), ("max_depth", 0)]
                .into_iter()
                .collect();
            self.lock_statistics.update(|d| d.insert(k.clone(), fresh));
        }
        let mut stats = self.lock_statistics.update(|d| d[&k].clone());
        *stats.entry("process_count").or_default() += 1;
        let m = stats.entry("max_depth").or_default();
        *m = (*m).max(depth);
    }

    fn _process_data_item(&self, item: &str, index: usize, process_id: usize) {
        let _g = self.rlock.lock();
        let _in = self.cs.enter();
        for (stage, secs) in [("preprocess", 0.03), ("validate", 0.02), ("store", 0.03)] {
            let _g = self.rlock.lock();
            let key = format!("{stage}_{process_id}_{index}");
            let _ = item;
            self.shared_data.update(|d| d.insert(key, stage));
            sleep::<B>(secs);
        }
    }
}

/// ex-7.2-02 (3 processes × (3 data items + 2 file trees of depth 3) → 2 × (1 item + 1
/// tree of depth 1: 3 files)). Claims: the summary counts (`total_operations` 2 × (3 + 3) =
/// 12, `operation_log_count` 6, `statistics_count` 6); the RLock is re-entered without
/// deadlock; `lock_statistics` accumulates `process_count` per file (1 each here).
fn ex_7_2_02<B: ProcessBackend>() {
    let system = AdvancedRLockUsage {
        rlock: mp::RLock::<B>::new().with_name("self.rlock"),
        shared_data: manager::<BTreeMap<String, &'static str>, B>("shared_data", BTreeMap::new()),
        lock_statistics: manager::<BTreeMap<String, Stats>, B>("lock_statistics", BTreeMap::new()),
        operation_log: manager::<Vec<String>, B>("operation_log", Vec::new()),
        cs: Arc::new(Region::<B>::new("outer hold", 1)),
    };
    let processes = (1..=2)
        .map(|p| {
            let s = system.inherit();
            start::<B>(&format!("Process-{p}"), move || {
                // data_processor
                s._process_data_item(&format!("data_0_{p}"), 0, p);
                sleep::<B>(0.1);
                s.recursive_file_processor(&format!("file_{p}_1"), 0, 1);
            })
        })
        .collect();
    join_all::<B>(processes);
    let report = {
        let _g = system.rlock.lock();
        (
            system.shared_data.get().len(),
            system.operation_log.get().len(),
            system.lock_statistics.get(),
        )
    };
    let (total, log, stats) = report;
    ensure(
        total == 12 && log == 6 && stats.len() == 6,
        "summary-report",
        || {
            format!("total_operations {total}, operation_log_count {log}, statistics_count {}; expected 12, 6, 6", stats.len())
        },
    );
    let counts: Vec<usize> = stats.values().map(|s| s["process_count"]).collect();
    ensure(counts.iter().all(|&c| c == 1), "manager-write-back", || {
        format!(
            "lock_statistics process_count per file: {counts:?}, each file was processed once: \
             `stats = self.lock_statistics[key]` is a copy, the `+=` never reaches the manager"
        )
    });
}

// ---- ex-7.2-03 ------------------------------------------------------------------------------

/// RecursiveAlgorithm, as a child receives it.
struct RecursiveAlgorithm<B: ProcessBackend> {
    rlock: mp::RLock<B>,
    results: Proxy<Vec<(usize, u64, u64)>, B>,
    call_stack: Proxy<Vec<String>, B>,
}

impl<B: ProcessBackend> RecursiveAlgorithm<B> {
    fn fibonacci_with_lock(&self, n: u64, process_id: usize) -> u64 {
        let _g = self.rlock.lock();
        let me = format!("Process-{process_id}: fib({n})");
        let pushed = me.clone();
        self.call_stack.update(|s| s.push(pushed));
        let result = if n <= 1 {
            n
        } else {
            self.fibonacci_with_lock(n - 1, process_id)
                + self.fibonacci_with_lock(n - 2, process_id)
        };
        self.results.update(|r| r.push((process_id, n, result)));
        let popped = self.call_stack.update(|s| s.pop());
        ensure(
            popped.as_deref() == Some(me.as_str()),
            "call-stack-matched",
            || format!("{me} popped {popped:?} off the shared call_stack"),
        );
        result
    }
}

/// ex-7.2-03 (no driver: 2 processes compute fib(3)). Claims: recursive calls re-acquire
/// the RLock; the result is fib(n); each call appends one result and pushes/pops one
/// call_stack entry (5 calls per tree).
fn ex_7_2_03<B: ProcessBackend>() {
    let algo = RecursiveAlgorithm {
        rlock: mp::RLock::<B>::new().with_name("self.rlock"),
        results: manager::<Vec<(usize, u64, u64)>, B>("results", Vec::new()),
        call_stack: manager::<Vec<String>, B>("call_stack", Vec::new()),
    };
    let processes = (1..=2)
        .map(|p| {
            let a = RecursiveAlgorithm {
                rlock: algo.rlock.reopen(),
                results: algo.results.clone(),
                call_stack: algo.call_stack.clone(),
            };
            start::<B>(&format!("Process-{p}"), move || {
                let r = a.fibonacci_with_lock(3, p);
                ensure(r == 2, "fibonacci", || format!("fib(3) returned {r}"));
            })
        })
        .collect();
    join_all::<B>(processes);
    let (results, stack) = (algo.results.get().len(), algo.call_stack.get());
    ensure(
        results == 10 && stack.is_empty(),
        "call-stack-matched",
        || format!("{results} results (expected 10), call_stack left {stack:?}"),
    );
}

// ---- ex-7.2-04 ------------------------------------------------------------------------------

/// A `resource_a` / `resource_b` entry: (value, linked_resource_a, process_id).
type Entry = (u32, Option<u32>, usize);

/// NestedResourceAccess, as a child receives it.
struct NestedResourceAccess<B: ProcessBackend> {
    rlock: mp::RLock<B>,
    resource_a: Proxy<BTreeMap<&'static str, Entry>, B>,
    resource_b: Proxy<BTreeMap<&'static str, Entry>, B>,
}

impl<B: ProcessBackend> NestedResourceAccess<B> {
    fn update_resources(&self, key: &'static str, value_a: u32, value_b: u32, process_id: usize) {
        let _g = self.rlock.lock();
        {
            let _g = self.rlock.lock();
            self.resource_a
                .update(|d| d.insert(key, (value_a, None, process_id)));
        }
        {
            let _g = self.rlock.lock();
            let a = self.resource_a.update(|d| d.get(key).copied());
            let linked = a.map(|e| e.0);
            self.resource_b
                .update(|d| d.insert(key, (value_b, linked, process_id)));
        }
    }
}

/// ex-7.2-04 (no driver: 2 processes update the same key). Claim:
/// `resource_b[key].linked_resource_a` is the value_a written by the same call.
fn ex_7_2_04<B: ProcessBackend>() {
    let nra = NestedResourceAccess {
        rlock: mp::RLock::<B>::new().with_name("self.rlock"),
        resource_a: manager::<BTreeMap<&'static str, Entry>, B>("resource_a", BTreeMap::new()),
        resource_b: manager::<BTreeMap<&'static str, Entry>, B>("resource_b", BTreeMap::new()),
    };
    let processes = (1..=2u32)
        .map(|p| {
            let n = NestedResourceAccess {
                rlock: nra.rlock.reopen(),
                resource_a: nra.resource_a.clone(),
                resource_b: nra.resource_b.clone(),
            };
            start::<B>(&format!("Process-{p}"), move || {
                n.update_resources("k", 10 * p, 100 * p, p as usize)
            })
        })
        .collect();
    join_all::<B>(processes);
    let (a, b) = (nra.resource_a.get()["k"], nra.resource_b.get()["k"]);
    ensure(
        b.1 == Some(a.0) && b.2 == a.2,
        "atomic-multi-update",
        || format!("resource_a[k] = {a:?}, resource_b[k] = {b:?}: B links another call's A"),
    );
}

// ---- ex-7.2-05 ------------------------------------------------------------------------------

/// TransactionProcessor, as a child receives it.
struct TransactionProcessor<B: ProcessBackend> {
    rlock: mp::RLock<B>,
    accounts: Proxy<BTreeMap<&'static str, i64>, B>,
    transactions: Proxy<Vec<(usize, i64)>, B>,
}

impl<B: ProcessBackend> TransactionProcessor<B> {
    fn inherit(&self) -> Self {
        TransactionProcessor {
            rlock: self.rlock.reopen(),
            accounts: self.accounts.clone(),
            transactions: self.transactions.clone(),
        }
    }

    /// `process_transaction`; `FIXED`: the balances written back and `_record_transaction`
    /// defined. As written, `_record_transaction` is missing: AttributeError inside the
    /// `with` block (the RLock is released on the way out) ends the process.
    fn process_transaction<const FIXED: bool>(
        &self,
        from: &'static str,
        to: &'static str,
        amount: i64,
        process_id: usize,
    ) -> bool {
        let _g = self.rlock.lock();
        // _validate_accounts
        {
            let _g = self.rlock.lock();
            self.accounts.update(|d| {
                d.entry(from).or_insert(1000);
            });
            self.accounts.update(|d| {
                d.entry(to).or_insert(500);
            });
        }
        // _check_balance
        {
            let _g = self.rlock.lock();
            let balance = self.accounts.update(|d| d[from]);
            if balance < amount {
                return false; // "余额不足"
            }
        }
        // _execute_transfer: self.accounts[acc]['balance'] -= amount reads a copy.
        {
            let _g = self.rlock.lock();
            for (acc, delta) in [(from, -amount), (to, amount)] {
                let mut copy = self.accounts.update(|d| d[acc]);
                copy += delta;
                if FIXED {
                    self.accounts.update(|d| d.insert(acc, copy));
                }
            }
        }
        if !FIXED {
            return false; // AttributeError: no attribute '_record_transaction'
        }
        self.transactions.update(|t| t.push((process_id, amount)));
        true
    }
}

/// ex-7.2-05 (no driver: 2 processes each transfer 600 from A to B; A opens with 1000, B
/// with 500). Claims: a transfer is refused when the balance is below the amount; a
/// completed one moves the money; the whole transaction runs under one RLock. So at most
/// one of the two can go through, and the balances must show it.
fn ex_7_2_05_body<B: ProcessBackend, const FIXED: bool>() {
    let tp = TransactionProcessor {
        rlock: mp::RLock::<B>::new().with_name("self.rlock"),
        accounts: manager::<BTreeMap<&'static str, i64>, B>("accounts", BTreeMap::new()),
        transactions: manager::<Vec<(usize, i64)>, B>("transactions", Vec::new()),
    };
    let processes = (1..=2)
        .map(|p| {
            let t = tp.inherit();
            start::<B>(&format!("Process-{p}"), move || {
                t.process_transaction::<FIXED>("A", "B", 600, p);
            })
        })
        .collect();
    join_all::<B>(processes);
    let accounts = tp.accounts.get();
    let (a, b) = (accounts["A"], accounts["B"]);
    ensure(
        a >= 0 && a + b == 1500 && a <= 1000 - 600,
        "no-overdraft",
        || {
            format!(
                "after two transfers of 600 from A (1000) to B (500): A = {a}, B = {b}; \
             one transfer must have moved 600 and the other been refused"
            )
        },
    );
}

fn ex_7_2_05<B: ProcessBackend>() {
    ex_7_2_05_body::<B, false>()
}

fn ex_7_2_05_fixed<B: ProcessBackend>() {
    ex_7_2_05_body::<B, true>()
}

/// The scenarios of section 7.2.
pub fn scenarios() -> Vec<Scenario> {
    vec![
        Scenario::new(
            "ex-7.2-01",
            "RecursiveWorker: complex_task holds an mp.RLock and re-enters it in part1, nested levels and part2",
            bodies!(ex_7_2_01),
        )
        .holds("the RLock's owner is (process, thread): each process re-enters it (depth 3 at the deepest level) while the other waits, so complex_task sections never overlap, 4 operations and 8 entries are recorded")
        .source("ex-7.2-01"),
        Scenario::new(
            "ex-7.2-01-crash",
            "ex-7.2-01 with a worker process that may be killed",
            bodies!(ex_7_2_01_crash),
        )
        .violates("dead-holder", "a process killed inside complex_task leaves the RLock held (at any depth) forever: the other process blocks in its outer `with self.rlock` and main in join()")
        .crashes(1)
        .source("ex-7.2-01"),
        Scenario::new(
            "ex-7.2-02",
            "AdvancedRLockUsage: a data pipeline and a file tree re-enter one RLock; statistics updated through a Manager dict",
            bodies!(ex_7_2_02),
        )
        .violates("manager-write-back", "`stats = self.lock_statistics[key]` returns a copy from the manager; the `+=`s under the RLock change the copy only, so every process_count stays 0")
        .source("ex-7.2-02"),
        Scenario::new(
            "ex-7.2-03",
            "fibonacci_with_lock: every recursive call holds the RLock and pushes/pops a shared call stack",
            bodies!(ex_7_2_03),
        )
        .holds("the outermost call holds the RLock for the whole tree, so the shared call_stack's pushes and pops stay matched across processes; fib(3) = 2 with 5 results per tree")
        .source("ex-7.2-03"),
        Scenario::new(
            "ex-7.2-04",
            "NestedResourceAccess: update A, then B linking A's value, under one re-entered RLock",
            bodies!(ex_7_2_04),
        )
        .holds("update_resources holds the RLock across both helpers, so B's link is the A written by the same call")
        .source("ex-7.2-04"),
        Scenario::new(
            "ex-7.2-05",
            "TransactionProcessor as written: check and debit through a Manager dict of nested dicts under one RLock",
            bodies!(ex_7_2_05),
        )
        .violates("no-overdraft", "self.accounts[acc]['balance'] -= amount changes a copy returned by the Manager proxy: A stays at 1000, both 600 transfers pass the balance check and 'execute', yet nothing moves (then the missing _record_transaction raises AttributeError)")
        .source("ex-7.2-05"),
        Scenario::new(
            "ex-7.2-05-fixed",
            "TransactionProcessor with the balances written back and _record_transaction defined",
            bodies!(ex_7_2_05_fixed),
        )
        .holds("with the write-back, the check and the debit under one RLock make the second 600 transfer see 400 and be refused: A 400, B 1100")
        .source("ex-7.2-05"),
    ]
}

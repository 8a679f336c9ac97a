//! Section 8.4 (applications built on lock files: a data-processing coordinator, a
//! directory task queue, a resource manager, a concurrent logger) of the tutorial: its
//! examples as scenarios.
//!
//! | scenario | example | expected |
//! |---|---|---|
//! | `ex-8.4-01` | DataProcessingCoordinator, 3 workers: `O_EXCL` lock file, `st_mtime` staleness, read–modify–write of the data file | mutual-exclusion |
//! | `ex-8.4-01-crash` | the same with 2 workers, one may be killed | every-record-processed (or no-lost-update) |
//! | `ex-8.4-01-pause` | the same with 2 workers, two pauses past the staleness age | mutual-exclusion |
//! | `ex-8.4-01-fixed` | 3 workers, flock on a never-removed lock file, data file replaced by rename | holds |
//! | `ex-8.4-01-fixed-crash` | the same with 2 workers, one may be killed | holds |
//! | `ex-8.4-02` | DistributedTaskQueue as written: the priority sort raises `TypeError` | every-task-processed |
//! | `ex-8.4-02-fixed` | the same with the sort key fixed | task-queue-claim |
//! | `ex-8.4-03` | SharedResourceManager: a counting semaphore from a lock file, a counter file and an allocations file | resource-conservation |
//! | `ex-8.4-03-fixed` | the same with release decrementing the counter, `max_concurrent=2` | resource-conservation |
//! | `ex-8.4-04` | ConcurrentLogger: sequence file under a lock file, per-process buffers flushed by append | log-in-sequence-order |
//! | `ex-8.4-04-sorted` | the same, the log judged after sorting by sequence number | holds |
//! | `ex-8.4-04-crash` | the same, a worker may be killed | no-lost-line |
//! | `ex-8.4-04-rotate` | the same with a rotation threshold the log reaches | no-lost-line |
//!
//! Scaling (the examples' numbers → the models'): 4 processes → 2 or 3; 100 records in
//! batches of 10 → 3 (or 2) records in batches of 1; 5 tasks → 2 (1 in `-fixed`); 5 users × 8 requests
//! with `max_concurrent=3` → 2 users × 2 requests with `max_concurrent=1`; 4 loggers × 30
//! messages with a 20-entry buffer → 2 × 3 with a 2-entry buffer. Waiting times keep their
//! order: a lock file's hold time < the pause between batches < the acquire timeout < the
//! staleness age (0.1 < 0.5 < 30 < 60 s → 0.1 < 0.5 < 0.5 < 1.2 s, with `0.5 + 0.5 < 1.2`
//! as `0.5 + 30 < 60`: a waiter that starts after a batch pause still gives up before the
//! lock it waits for turns stale). JSON documents are written as the short text a model
//! needs (one `key value` line per field).

use crate::{all_exited, join_all, now, py, read_text, sleep, start, Fs};
use lockproof::file::{os, Fd, File, KernelLock, OpenFlags};
use lockproof_scenario::prelude::*;
use std::collections::BTreeMap;

// ---- helpers of this section ------------------------------------------------------------

/// `with open(path, 'w') as f: json.dump(doc, f)`: truncated at open, one `write` at close.
fn write_text<B: Fs>(path: &str, text: &str) -> Result<(), Error> {
    let mut f = File::<B>::open(path, "w")?;
    f.write(text.as_bytes())?;
    f.close()
}

/// `with open(path) as f: f.read()` (`json.load`): missing → `FileNotFoundError`.
fn read_file<B: Fs>(path: &str) -> Result<String, Error> {
    let mut f = File::<B>::open(path, "r")?;
    let bytes = f.read(None)?;
    f.close()?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// `fd = os.open(path, O_CREAT|O_EXCL|O_WRONLY)` then
/// `with os.fdopen(fd, 'w') as f: json.dump(info, f)` (one `write` at close). With `info`
/// empty: `os.close(fd)` at once.
fn create_lock_file<B: Fs>(path: &str, info: &str) -> Result<(), Error> {
    let flags = OpenFlags::CREAT | OpenFlags::EXCL | OpenFlags::WRONLY;
    let fd = Fd::<B>::open(path, flags, 0o777)?;
    if !info.is_empty() {
        fd.write(info.as_bytes())?;
    }
    fd.close()
}

/// `os.path.exists(path)` (a `stat`).
fn exists<B: Fs>(path: &str) -> bool {
    os::stat::<B>(path).is_ok()
}

/// The value of `key` in a `key value` document, if any.
fn field<'a>(text: &'a str, key: &str) -> Option<&'a str> {
    text.lines()
        .find_map(|l| l.strip_prefix(key)?.strip_prefix(' '))
}

// ---- ex-8.4-01 ------------------------------------------------------------------------------

const DATA: &str = "/tmp/processing_data.json";
const DATA_PROGRESS: &str = "/tmp/processing_data.json.progress";
const DATA_LOCK: &str = "/tmp/processing_data.json.lock";
/// `batch_size=10` → 1.
const BATCH_SIZE: usize = 1;
/// `_process_single_record`'s `time.sleep(0.1)`.
const RECORD_TIME: f64 = 0.1;
/// The worker's `time.sleep(0.5)` between batches.
const BATCH_PAUSE: f64 = 0.5;
/// `acquire_processing_lock(timeout=30.0)` → 0.5 s.
const LOCK_TIMEOUT: f64 = 0.5;
/// `_is_lock_stale(max_age_seconds=60.0)` → 1.2 s.
const STALE_AGE: f64 = 1.2;
/// The worker's `max_iterations=50`.
const MAX_ITERATIONS: usize = 50;

/// The data file's document: `total_records`, `processed_records`, `records`, `results`.
#[derive(Clone, Debug, Default)]
struct Data {
    total: usize,
    processed: usize,
    records: Vec<String>,
    /// `results[record] = {'processed_by': ..., 'result': ...}`, in insertion order.
    results: Vec<(String, String)>,
}

impl Data {
    fn new(total: usize) -> Self {
        Data {
            total,
            processed: 0,
            records: (0..total).map(|i| format!("record_{i}")).collect(),
            results: Vec::new(),
        }
    }

    fn has_result(&self, record: &str) -> bool {
        self.results.iter().any(|(r, _)| r == record)
    }

    /// `json.dump(data, f, indent=2)`.
    fn dump(&self) -> String {
        let mut s = format!(
            "total_records {}\nprocessed_records {}\nrecords {}\n",
            self.total,
            self.processed,
            self.records.join(",")
        );
        for (r, by) in &self.results {
            s.push_str(&format!("result {r}={by}\n"));
        }
        s.push_str("end\n");
        s
    }

    /// `json.load(f)`; `None` is `json.JSONDecodeError` (an empty or partial file).
    fn load(text: &str) -> Option<Data> {
        if !text.ends_with("end\n") {
            return None;
        }
        let records = field(text, "records")?;
        Some(Data {
            total: field(text, "total_records")?.parse().ok()?,
            processed: field(text, "processed_records")?.parse().ok()?,
            records: records.split(',').map(str::to_owned).collect(),
            results: text
                .lines()
                .filter_map(|l| l.strip_prefix("result "))
                .filter_map(|kv| kv.split_once('='))
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect(),
        })
    }
}

/// What `process_batch` returned, or that it raised.
enum Batch {
    /// `{'success': False, 'error': '无法获取处理锁'}`.
    NoLock,
    /// `{'success': True, 'processed': n}`.
    Processed(usize),
    /// An exception propagated (after the `finally` released the lock).
    Raised,
}

/// DataProcessingCoordinator (every worker gets it through fork), plus the checker's probes.
/// `FIXED`: FILELOCKS.md §2.5's first pattern (flock on a lock file that is never removed,
/// released by the kernel when its holder dies) and the data file replaced atomically
/// (written to a temporary file, then `os.rename`d over it).
struct Coordinator<B: Fs, const FIXED: bool> {
    /// The critical section between a successful `acquire_processing_lock` and
    /// `release_processing_lock`.
    cs: Arc<Region<B>>,
    /// `FIXED`: who is inside the critical section (a pid), for a mutual-exclusion check
    /// that excuses a killed holder: the kernel released its flock, and the [`Region`]
    /// monitor would count it inside forever.
    holder: Arc<Shared<Option<u32>, B>>,
    /// How many times each record was processed (`_process_single_record` calls).
    runs: Arc<Shared<BTreeMap<String, usize>, B>>,
    /// Records whose batch was written back to the data file.
    written: Arc<Shared<Vec<String>, B>>,
}

impl<B: Fs, const FIXED: bool> Clone for Coordinator<B, FIXED> {
    fn clone(&self) -> Self {
        Coordinator {
            cs: self.cs.clone(),
            holder: self.holder.clone(),
            runs: self.runs.clone(),
            written: self.written.clone(),
        }
    }
}

impl<B: Fs, const FIXED: bool> Coordinator<B, FIXED> {
    fn new() -> Self {
        Coordinator {
            cs: Arc::new(Region::new("processing lock", 1)),
            holder: Arc::new(Shared::new(None).with_name("processing lock holder (probe)")),
            runs: Arc::new(Shared::new(BTreeMap::new()).with_name("record runs (probe)")),
            written: Arc::new(Shared::new(Vec::new()).with_name("records written (probe)")),
        }
    }

    fn initialize_data_file(&self, total: usize) {
        py(write_text::<B>(DATA, &Data::new(total).dump()));
    }

    fn acquire_processing_lock(&self, process_id: &str, timeout: f64) -> bool {
        let start_time = now::<B>();
        while now::<B>() - start_time < timeout {
            let info = format!("process_id {process_id}\nlock_type processing\n");
            match create_lock_file::<B>(DATA_LOCK, &info) {
                Ok(()) => return true,
                Err(e) if e.errno() == Some(17) => {
                    if self.is_lock_stale(STALE_AGE) {
                        self.cleanup_stale_lock();
                        continue;
                    }
                    sleep::<B>(0.1);
                }
                Err(_) => return false,
            }
        }
        false // "获取处理锁超时"
    }

    /// `finally: self.release_processing_lock(process_id)`: exists, read the owner,
    /// remove if it is us; every exception is caught.
    fn release_processing_lock(&self, process_id: &str) -> bool {
        if !exists::<B>(DATA_LOCK) {
            return true;
        }
        let Ok(text) = read_file::<B>(DATA_LOCK) else {
            return false;
        };
        // json.load of an empty lock file (made, not yet written) raises: caught.
        let Some(owner) = field(&text, "process_id") else {
            return false;
        };
        if owner == process_id {
            os::unlink::<B>(DATA_LOCK).is_ok()
        } else {
            false // "尝试释放不持有的锁"
        }
    }

    fn process_batch(&self, process_id: &str, batch_size: usize) -> Batch {
        let kernel = if FIXED {
            match KernelLock::<B>::acquire(DATA_LOCK, Some(LOCK_TIMEOUT)) {
                Ok(Some(lock)) => Some(lock),
                _ => return Batch::NoLock,
            }
        } else if self.acquire_processing_lock(process_id, LOCK_TIMEOUT) {
            None
        } else {
            return Batch::NoLock;
        };
        let r = if FIXED {
            let me = os::getpid::<B>();
            if let Some(other) = self.holder.update(|h| h.replace(me)) {
                ensure(!os::pid_exists::<B>(other), "mutual-exclusion", || {
                    format!("{process_id} (pid {me}) entered its batch while pid {other}, alive, is inside")
                });
            }
            let r = self.locked_batch(process_id, batch_size);
            self.holder.update(|h| {
                if *h == Some(me) {
                    *h = None;
                }
            });
            r
        } else {
            let _in = self.cs.enter();
            self.locked_batch(process_id, batch_size)
        };
        match kernel {
            Some(lock) => {
                let _ = lock.release();
            }
            None => {
                self.release_processing_lock(process_id);
            }
        }
        r
    }

    /// `with open(data_file, 'w') as f: json.dump(data, f)`; `FIXED`: to a temporary file,
    /// then `os.rename` over the data file.
    fn write_data(&self, data: &Data) -> Result<(), Error> {
        if FIXED {
            let tmp = format!("{DATA}.tmp");
            write_text::<B>(&tmp, &data.dump())?;
            os::rename::<B>(&tmp, DATA)
        } else {
            write_text::<B>(DATA, &data.dump())
        }
    }

    /// The `try` body of `process_batch`.
    fn locked_batch(&self, process_id: &str, batch_size: usize) -> Batch {
        let Ok(text) = read_file::<B>(DATA) else {
            return Batch::Raised;
        };
        let Some(mut data) = Data::load(&text) else {
            return Batch::Raised; // json.decoder.JSONDecodeError
        };
        let unprocessed: Vec<String> = data
            .records
            .iter()
            .filter(|r| !data.has_result(r))
            .cloned()
            .collect();
        if unprocessed.is_empty() {
            return Batch::Processed(0); // "所有记录已处理完成"
        }
        let batch = &unprocessed[..batch_size.min(unprocessed.len())];
        for record in batch {
            let result = self.process_single_record(record, process_id);
            data.results.push((record.clone(), result));
            data.processed = data.results.len();
            if self.update_progress(&data).is_err() {
                return Batch::Raised;
            }
        }
        if self.write_data(&data).is_err() {
            return Batch::Raised;
        }
        self.written.update(|w| w.extend(batch.iter().cloned()));
        Batch::Processed(batch.len())
    }

    fn process_single_record(&self, record: &str, process_id: &str) -> String {
        sleep::<B>(RECORD_TIME);
        self.runs
            .update(|r| *r.entry(record.to_owned()).or_default() += 1);
        format!("processed_{record}/{process_id}")
    }

    fn update_progress(&self, data: &Data) -> Result<(), Error> {
        let progress = format!(
            "total_records {}\nprocessed_records {}\n",
            data.total, data.processed
        );
        write_text::<B>(DATA_PROGRESS, &progress)
    }

    /// `time.time() - os.stat(lock).st_mtime > max_age`; a missing file is stale.
    fn is_lock_stale(&self, max_age: f64) -> bool {
        match os::stat::<B>(DATA_LOCK) {
            Ok(st) => now::<B>() - st.mtime_ns as f64 / 1e9 > max_age,
            Err(_) => true,
        }
    }

    /// `os.remove(lock)` by name; an `OSError` is logged.
    fn cleanup_stale_lock(&self) {
        let _ = os::unlink::<B>(DATA_LOCK);
    }

    /// `data_processing_worker`.
    fn worker(&self, process_id: &str) {
        for _ in 0..MAX_ITERATIONS {
            match self.process_batch(process_id, BATCH_SIZE) {
                Batch::NoLock => break,       // "处理失败: 无法获取处理锁"
                Batch::Raised => return,      // uncaught: the process dies (exit code 1)
                Batch::Processed(0) => break, // "完成所有工作"
                Batch::Processed(_) => sleep::<B>(BATCH_PAUSE),
            }
        }
    }
}

/// ex-8.4-01 with `WORKERS` processes and `RECORDS` records. Claims: each record is
/// processed exactly once, and the final status reads `processed_records == total` (100 %).
/// Judged on the data file main reads after `join`: a record written back by a batch but
/// missing from the file is a lost update; a record never processed is
/// `every-record-processed`; a record processed twice is `record-processed-once` (not
/// judged once a worker was killed: its unfinished batch is redone by design).
fn ex_8_4_01_body<B: Fs, const FIXED: bool, const WORKERS: usize, const RECORDS: usize>() {
    let c = Coordinator::<B, FIXED>::new();
    c.initialize_data_file(RECORDS);
    let processes = (0..WORKERS)
        .map(|i| {
            let c = c.clone();
            let name = format!("processor_{i}");
            start::<B>(&name.clone(), move || c.worker(&name))
        })
        .collect();
    let codes = join_all::<B>(processes);
    // get_processing_status: the data file as it ended.
    let text = read_text::<B>(DATA);
    let written = c.written.get();
    let runs = c.runs.get();
    let Some(data) = Data::load(&text) else {
        ensure(written.is_empty(), "no-lost-update", || {
            format!("the data file does not parse ({text:?}) after batches wrote {written:?}")
        });
        ensure(false, "every-record-processed", || {
            format!("the data file does not parse: {text:?}")
        });
        return;
    };
    if let Some(lost) = written.iter().find(|r| !data.has_result(r)) {
        ensure(false, "no-lost-update", || {
            format!("{lost} was processed and written back, but the final data file has no result for it: {text:?}")
        });
    }
    if let Some((r, n)) = runs.iter().find(|(_, &n)| n > 1 && all_exited(&codes)) {
        ensure(false, "record-processed-once", || {
            format!("{r} was processed {n} times")
        });
    }
    ensure(
        data.processed == RECORDS && data.results.len() == RECORDS,
        "every-record-processed",
        || {
            format!(
                "final status: processed_records {} of {RECORDS} (completion_rate {:.1}); file: {text:?}",
                data.processed,
                data.processed as f64 * 100.0 / RECORDS as f64
            )
        },
    );
}

fn ex_8_4_01<B: Fs>() {
    ex_8_4_01_body::<B, false, 3, 3>()
}

fn ex_8_4_01_two<B: Fs>() {
    ex_8_4_01_body::<B, false, 2, 2>()
}

fn ex_8_4_01_fixed<B: Fs>() {
    ex_8_4_01_body::<B, true, 3, 3>()
}

fn ex_8_4_01_fixed_two<B: Fs>() {
    ex_8_4_01_body::<B, true, 2, 2>()
}

// ---- ex-8.4-02 ------------------------------------------------------------------------------

const PENDING: &str = "/tmp/task_queue/pending";
const PROCESSING: &str = "/tmp/task_queue/processing";
const COMPLETED: &str = "/tmp/task_queue/completed";
const FAILED: &str = "/tmp/task_queue/failed";
const WORKERS_FILE: &str = "/tmp/task_queue/workers.json";
const WORKERS_LOCK: &str = "/tmp/task_queue/workers.json.lock";
/// `get_next_task(timeout=10)` → 2 s (two `time.sleep(1)` polls of an empty queue).
const TASK_TIMEOUT: f64 = 2.0;
/// `task_worker(max_tasks=5)`.
const MAX_TASKS: usize = 5;
/// The demo's tasks (5 → 2), with `duration` 0: (type, priority).
const TASKS: [(&str, i64); 2] = [("data_analysis", 3), ("file_processing", 2)];

/// A task document: `task_id`, `data.type`, `priority`, `status`, `assigned_worker`.
#[derive(Clone, Debug)]
struct TaskInfo {
    task_id: String,
    kind: String,
    priority: i64,
    status: String,
    assigned_worker: Option<String>,
}

impl TaskInfo {
    fn dump(&self) -> String {
        let mut s = format!(
            "task_id {}\ntype {}\npriority {}\nstatus {}\n",
            self.task_id, self.kind, self.priority, self.status
        );
        if let Some(w) = &self.assigned_worker {
            s.push_str(&format!("assigned_worker {w}\n"));
        }
        s.push_str("end\n");
        s
    }

    /// `json.load`; `None` is `JSONDecodeError`.
    fn load(text: &str) -> Option<TaskInfo> {
        if !text.ends_with("end\n") {
            return None;
        }
        Some(TaskInfo {
            task_id: field(text, "task_id")?.to_owned(),
            kind: field(text, "type")?.to_owned(),
            priority: field(text, "priority")?.parse().ok()?,
            status: field(text, "status")?.to_owned(),
            assigned_worker: field(text, "assigned_worker").map(str::to_owned),
        })
    }
}

/// `hashlib.md5(json.dumps(task_data, sort_keys=True)).hexdigest()`: one id per distinct
/// payload (the demo's payloads are distinct), here the task type.
fn task_id(kind: &str) -> String {
    format!("md5_{kind}")
}

/// DistributedTaskQueue (each worker gets it through fork), plus the checker's probe.
struct TaskQueue<B: Fs, const FIXED: bool> {
    /// How many times each task ran (`process_task` calls).
    runs: Arc<Shared<BTreeMap<String, usize>, B>>,
    /// The tracebacks of workers that died of an uncaught exception (exit code 1).
    died: Arc<Shared<Vec<String>, B>>,
}

impl<B: Fs, const FIXED: bool> Clone for TaskQueue<B, FIXED> {
    fn clone(&self) -> Self {
        TaskQueue {
            runs: self.runs.clone(),
            died: self.died.clone(),
        }
    }
}

impl<B: Fs, const FIXED: bool> TaskQueue<B, FIXED> {
    /// `__init__`: the directories are taken to exist; `_init_workers_registry`.
    fn new() -> Self {
        if !exists::<B>(WORKERS_FILE) {
            py(write_text::<B>(WORKERS_FILE, "end\n"));
        }
        TaskQueue {
            runs: Arc::new(Shared::new(BTreeMap::new()).with_name("task runs (probe)")),
            died: Arc::new(Shared::new(Vec::new()).with_name("uncaught exceptions (probe)")),
        }
    }

    fn add_task(&self, kind: &str, priority: i64) -> String {
        let id = task_id(kind);
        let info = TaskInfo {
            task_id: id.clone(),
            kind: kind.to_owned(),
            priority,
            status: "pending".into(),
            assigned_worker: None,
        };
        py(write_text::<B>(
            &format!("{PENDING}/{id}.json"),
            &info.dump(),
        ));
        id
    }

    fn acquire_workers_lock(&self) -> bool {
        create_lock_file::<B>(WORKERS_LOCK, "").is_ok()
    }

    fn release_workers_lock(&self) {
        let _ = os::unlink::<B>(WORKERS_LOCK);
    }

    /// `with open(workers_file, 'r+') as f`: load, change, `seek(0)`, dump, `truncate()`.
    fn rewrite_workers(&self, f: impl FnOnce(&mut Vec<String>)) -> Result<(), Error> {
        let mut file = File::<B>::open(WORKERS_FILE, "r+")?;
        let text = String::from_utf8_lossy(&file.read(None)?).into_owned();
        let mut lines: Vec<String> = text
            .lines()
            .filter(|l| *l != "end")
            .map(str::to_owned)
            .collect();
        f(&mut lines);
        file.seek(0, 0)?;
        file.write(
            format!(
                "{}end\n",
                lines.iter().map(|l| format!("{l}\n")).collect::<String>()
            )
            .as_bytes(),
        )?;
        file.truncate(None)?;
        file.close()
    }

    fn register_worker(&self, worker_id: &str) -> bool {
        if !self.acquire_workers_lock() {
            return false;
        }
        let stamp = now::<B>();
        let r = self.rewrite_workers(|w| {
            w.retain(|l| !l.starts_with(&format!("{worker_id} ")));
            w.push(format!("{worker_id} active {stamp}"));
        });
        self.release_workers_lock();
        py(r);
        true
    }

    fn update_worker_heartbeat(&self, worker_id: &str) {
        if self.acquire_workers_lock() {
            let stamp = now::<B>();
            let r = self.rewrite_workers(|w| {
                for l in w.iter_mut() {
                    if l.starts_with(&format!("{worker_id} ")) {
                        *l = format!("{worker_id} active {stamp}");
                    }
                }
            });
            self.release_workers_lock();
            py(r);
        }
    }

    fn get_pending_tasks(&self) -> Vec<(String, TaskInfo)> {
        let mut pending = Vec::new();
        for name in py(os::listdir::<B>(PENDING)) {
            if name.ends_with(".json") {
                let task_file = format!("{PENDING}/{name}");
                // An unreadable or unparsable file is logged and skipped.
                if let Some(info) = read_file::<B>(&task_file)
                    .ok()
                    .and_then(|t| TaskInfo::load(&t))
                {
                    pending.push((task_file, info));
                }
            }
        }
        pending
    }

    fn acquire_task_lock(&self, task_id: &str, worker_id: &str) -> bool {
        let info = format!("task_id {task_id}\nworker_id {worker_id}\n");
        create_lock_file::<B>(&format!("{PROCESSING}/{task_id}.lock"), &info).is_ok()
    }

    fn release_task_lock(&self, task_id: &str) {
        let _ = os::unlink::<B>(format!("{PROCESSING}/{task_id}.lock"));
    }

    /// `get_next_task`: `Err` is the `TypeError` of the sort as written.
    fn get_next_task(
        &self,
        worker_id: &str,
        timeout: f64,
    ) -> Result<Option<TaskInfo>, &'static str> {
        let start_time = now::<B>();
        while now::<B>() - start_time < timeout {
            self.update_worker_heartbeat(worker_id);
            let mut pending = self.get_pending_tasks();
            if pending.is_empty() {
                sleep::<B>(1.0);
                continue;
            }
            if !FIXED {
                // pending_tasks.sort(key=lambda x: x['priority'], reverse=True) on
                // (task_file, task_info) tuples.
                return Err("TypeError: tuple indices must be integers or slices, not str");
            }
            // key=lambda x: x[1]['priority'] (a stable sort, reversed).
            pending.sort_by_key(|x| std::cmp::Reverse(x.1.priority));
            for (task_file, mut info) in pending {
                if self.acquire_task_lock(&info.task_id, worker_id) {
                    let processing_file = format!("{PROCESSING}/{}.json", info.task_id);
                    info.status = "processing".into();
                    info.assigned_worker = Some(worker_id.to_owned());
                    let moved = write_text::<B>(&processing_file, &info.dump())
                        .and_then(|()| os::unlink::<B>(&task_file));
                    match moved {
                        Ok(()) => return Ok(Some(info)),
                        // "移动任务文件失败"
                        Err(_) => self.release_task_lock(&info.task_id),
                    }
                }
            }
            sleep::<B>(0.5);
        }
        Ok(None) // "获取任务超时"
    }

    fn complete_task(&self, task_id: &str, worker_id: &str) -> bool {
        let task_file = format!("{PROCESSING}/{task_id}.json");
        if !exists::<B>(&task_file) {
            return false; // "任务文件不存在"
        }
        let Some(mut info) = read_file::<B>(&task_file)
            .ok()
            .and_then(|t| TaskInfo::load(&t))
        else {
            return false; // "完成任务失败"
        };
        if info.assigned_worker.as_deref() != Some(worker_id) {
            return false;
        }
        info.status = "completed".into();
        if write_text::<B>(&format!("{COMPLETED}/{task_id}.json"), &info.dump()).is_err() {
            return false;
        }
        if os::unlink::<B>(&task_file).is_err() {
            return false;
        }
        self.release_task_lock(task_id);
        true
    }

    /// `process_task`: `time.sleep(duration)` (0 here); never raises, so `fail_task` is
    /// never called.
    fn process_task(&self, task: &TaskInfo) {
        sleep::<B>(0.0);
        self.runs
            .update(|r| *r.entry(task.task_id.clone()).or_default() += 1);
    }

    /// `task_worker`.
    fn worker(&self, worker_id: &str) {
        if !self.register_worker(worker_id) {
            return; // "注册失败"
        }
        let mut processed = 0;
        while processed < MAX_TASKS {
            // Outside the worker's try: the TypeError ends the process (exit code 1).
            let task = match self.get_next_task(worker_id, TASK_TIMEOUT) {
                Ok(task) => task,
                Err(e) => {
                    let traceback = format!("{worker_id}: {e}");
                    self.died.update(|d| d.push(traceback));
                    return;
                }
            };
            let Some(task) = task else {
                break; // "没有更多任务"
            };
            self.process_task(&task);
            if self.complete_task(&task.task_id, worker_id) {
                processed += 1;
            }
            sleep::<B>(0.1);
        }
    }

    /// `get_queue_status`: the `.json` names in each directory, and the workers file.
    fn queue_status(&self) -> BTreeMap<&'static str, Vec<String>> {
        let mut status = BTreeMap::new();
        for (key, dir) in [
            ("pending", PENDING),
            ("processing", PROCESSING),
            ("completed", COMPLETED),
            ("failed", FAILED),
        ] {
            let names = py(os::listdir::<B>(dir))
                .into_iter()
                .filter_map(|n| n.strip_suffix(".json").map(str::to_owned))
                .collect();
            status.insert(key, names);
        }
        if self.acquire_workers_lock() {
            let _ = read_file::<B>(WORKERS_FILE);
            self.release_workers_lock();
        }
        status
    }
}

/// ex-8.4-02 (3 workers × 5 tasks → 2 × `N`: 2 as written, 1 in `-fixed`, the fewest
/// that show each failure). Claims: the final status shows every task in
/// `completed/` (pending 0, processing 0, completed 5, failed 0), each task run by exactly
/// one worker. Judged on the queue's directories after `join`.
fn ex_8_4_02_body<B: Fs, const FIXED: bool, const N: usize>() {
    let queue = TaskQueue::<B, FIXED>::new();
    let ids: Vec<String> = TASKS[..N]
        .iter()
        .map(|(k, p)| queue.add_task(k, *p))
        .collect();
    let workers = (0..2)
        .map(|i| {
            let q = queue.clone();
            let name = format!("worker_{i}");
            start::<B>(&name.clone(), move || q.worker(&name))
        })
        .collect();
    join_all::<B>(workers);
    let status = queue.queue_status();
    let runs = queue.runs.get();
    if !FIXED {
        let died = queue.died.get();
        ensure(status["completed"] == ids, "every-task-processed", || {
            format!("final status {status:?}: every task should be in completed/; workers died of {died:?}")
        });
        return;
    }
    if let Some((t, n)) = runs.iter().find(|(_, &n)| n > 1) {
        ensure(false, "task-queue-claim", || {
            format!("task {t} ran {n} times")
        });
    }
    for id in &ids {
        let places: Vec<&str> = status
            .iter()
            .filter(|(_, names)| names.contains(id))
            .map(|(k, _)| *k)
            .collect();
        let done = places == ["completed"] || places == ["failed"];
        ensure(done, "task-queue-claim", || {
            format!("task {id} ends in {places:?} (final status {status:?}); it should be in exactly one of completed/ and failed/")
        });
    }
}

fn ex_8_4_02<B: Fs>() {
    ex_8_4_02_body::<B, false, 2>()
}

fn ex_8_4_02_fixed<B: Fs>() {
    ex_8_4_02_body::<B, true, 1>()
}

// ---- ex-8.4-03 ------------------------------------------------------------------------------

const RES_LOCK: &str = "/tmp/.resource_lock_database_connection";
const RES_COUNTER: &str = "/tmp/.resource_counter_database_connection";
const RES_ALLOCATIONS: &str = "/tmp/.resource_allocations_database_connection";
/// `max_concurrent=3` → 1 (2 in `-fixed`, where ids can collide).
const MAX_CONCURRENT: usize = 1;
/// `acquire_resource(timeout=5)` → 0.3 s (three 0.1 s polls).
const RES_TIMEOUT: f64 = 0.3;
/// `random.uniform(1, 3)` of use → 0.2 s (under the timeout, as 1–3 s is under 5 s).
const RES_USE: f64 = 0.2;
/// `_cleanup_expired_allocations(max_age_seconds=300)`.
const RES_MAX_AGE: f64 = 300.0;

/// The allocations document: resource id → (requester, acquire time).
type Allocations = BTreeMap<usize, (String, f64)>;

/// SharedResourceManager (each user gets it through fork), plus the checker's region.
/// `MAX` is `max_concurrent`; `FIXED`: `release_resource` also decrements the counter.
struct ResourceManager<B: Fs, const MAX: usize, const FIXED: bool> {
    /// Using a resource: at most `max_concurrent` users inside.
    in_use: Arc<Region<B>>,
}

impl<B: Fs, const MAX: usize, const FIXED: bool> Clone for ResourceManager<B, MAX, FIXED> {
    fn clone(&self) -> Self {
        ResourceManager {
            in_use: self.in_use.clone(),
        }
    }
}

impl<B: Fs, const MAX: usize, const FIXED: bool> ResourceManager<B, MAX, FIXED> {
    fn new() -> Self {
        ResourceManager {
            in_use: Arc::new(Region::new("database_connection in use", MAX)),
        }
    }

    fn acquire_resource(&self, requester_id: &str, timeout: f64) -> Option<usize> {
        let start_time = now::<B>();
        while now::<B>() - start_time < timeout {
            if self.acquire_management_lock() {
                let current_count = self.get_current_count();
                let mut allocations = self.get_allocations();
                let got = if current_count < MAX {
                    let resource_id = current_count + 1;
                    py(self.update_counter(resource_id));
                    allocations.insert(resource_id, (requester_id.to_owned(), now::<B>()));
                    py(self.update_allocations(&allocations));
                    Some(resource_id) // "资源 {id} 分配给 {requester}"
                } else {
                    self.cleanup_expired_allocations(RES_MAX_AGE);
                    None
                };
                self.release_management_lock();
                if got.is_some() {
                    return got;
                }
            }
            sleep::<B>(0.1);
        }
        None // "获取资源超时"
    }

    fn release_resource(&self, resource_id: usize, requester_id: &str) -> bool {
        if !self.acquire_management_lock() {
            return false;
        }
        let mut allocations = self.get_allocations();
        let r = match allocations.get(&resource_id) {
            Some((owner, _)) if owner == requester_id => {
                allocations.remove(&resource_id);
                py(self.update_allocations(&allocations));
                if FIXED {
                    // The repair: the slot goes back (`count - 1`).
                    let count = self.get_current_count();
                    py(self.update_counter(count.saturating_sub(1)));
                }
                true // as written, the counter file is left as it is
            }
            _ => false,
        };
        self.release_management_lock();
        r
    }

    /// `get_resource_status`: `None` is `{'status': 'locked'}`.
    fn get_resource_status(&self) -> Option<(usize, Allocations)> {
        if !self.acquire_management_lock() {
            return None;
        }
        let r = (self.get_current_count(), self.get_allocations());
        self.release_management_lock();
        Some(r)
    }

    fn acquire_management_lock(&self) -> bool {
        create_lock_file::<B>(RES_LOCK, "").is_ok()
    }

    fn release_management_lock(&self) {
        let _ = os::unlink::<B>(RES_LOCK);
    }

    /// `int(f.read().strip())`; `FileNotFoundError` or `ValueError` → 0.
    fn get_current_count(&self) -> usize {
        read_file::<B>(RES_COUNTER)
            .ok()
            .and_then(|t| t.trim().parse().ok())
            .unwrap_or(0)
    }

    fn update_counter(&self, n: usize) -> Result<(), Error> {
        write_text::<B>(RES_COUNTER, &n.to_string())
    }

    /// `json.load`; `FileNotFoundError` or `JSONDecodeError` → `{}`.
    fn get_allocations(&self) -> Allocations {
        let Ok(text) = read_file::<B>(RES_ALLOCATIONS) else {
            return Allocations::new();
        };
        if !text.ends_with("end\n") {
            return Allocations::new();
        }
        text.lines()
            .filter_map(|l| {
                let mut it = l.split(' ');
                let id = it.next()?.parse().ok()?;
                let who = it.next()?.to_owned();
                let at = it.next()?.parse().ok()?;
                Some((id, (who, at)))
            })
            .collect()
    }

    fn update_allocations(&self, a: &Allocations) -> Result<(), Error> {
        let mut s: String = a
            .iter()
            .map(|(id, (who, at))| format!("{id} {who} {at}\n"))
            .collect();
        s.push_str("end\n");
        write_text::<B>(RES_ALLOCATIONS, &s)
    }

    fn cleanup_expired_allocations(&self, max_age: f64) {
        let mut allocations = self.get_allocations();
        let current_time = now::<B>();
        let before = allocations.len();
        allocations.retain(|_, (_, at)| current_time - *at <= max_age);
        let cleaned = before - allocations.len();
        if cleaned > 0 {
            py(self.update_allocations(&allocations));
            let new_count = self.get_current_count() as i64 - cleaned as i64;
            if new_count >= 0 {
                py(self.update_counter(new_count as usize));
            }
        }
    }

    /// `resource_user(num_requests=8 → 2)`; `random.uniform(0.5, 1.5)` → `gap`.
    fn user(&self, user_id: &str, num_requests: usize, gap: f64) {
        let mut acquired = Vec::new();
        for _ in 0..num_requests {
            if let Some(resource_id) = self.acquire_resource(user_id, RES_TIMEOUT) {
                acquired.push(resource_id);
                {
                    let _in = self.in_use.enter();
                    sleep::<B>(RES_USE);
                }
                if self.release_resource(resource_id, user_id) {
                    acquired.retain(|&r| r != resource_id);
                }
            }
            sleep::<B>(gap);
        }
        for resource_id in acquired.clone() {
            self.release_resource(resource_id, user_id);
            acquired.retain(|&r| r != resource_id);
        }
    }
}

/// ex-8.4-03 (5 users × 8 requests, `max_concurrent=3` → 2 users × 2, 1; main polls the
/// status 10 times → once). Claims: at most `max_concurrent` resources are in use at once,
/// `release_resource` frees the caller's allocation, the status shows `current_count` and
/// `available_count`. Judged on the counter and allocations files after `join`: with
/// every user finished and every allocation released, the counter must say 0 in use.
fn ex_8_4_03_body<B: Fs, const MAX: usize, const FIXED: bool>() {
    let manager = ResourceManager::<B, MAX, FIXED>::new();
    let users = (0..2)
        .map(|i| {
            let m = manager.clone();
            let name = format!("user_{i}");
            let gap = 0.05 * (i + 1) as f64;
            start::<B>(&name.clone(), move || m.user(&name, 2, gap))
        })
        .collect();
    sleep::<B>(0.3);
    let _ = manager.get_resource_status();
    join_all::<B>(users);
    let count = manager.get_current_count();
    let allocations = manager.get_allocations();
    ensure(count == allocations.len(), "resource-conservation", || {
        format!(
                "final status: current_count {count}, available_count {}, but the allocations file lists {} allocations ({allocations:?})",
                MAX as i64 - count as i64,
                allocations.len()
            )
    });
}

fn ex_8_4_03<B: Fs>() {
    ex_8_4_03_body::<B, MAX_CONCURRENT, false>()
}

fn ex_8_4_03_fixed<B: Fs>() {
    ex_8_4_03_body::<B, 2, true>()
}

// ---- ex-8.4-04 ------------------------------------------------------------------------------

const LOG: &str = "/tmp/concurrent_app.log";
const LOG_LOCK: &str = "/tmp/concurrent_app.log.lock";
const LOG_SEQUENCE: &str = "/tmp/concurrent_app.log.sequence";
/// `_acquire_log_lock(timeout=10.0)` → 0.5 s.
const LOG_LOCK_TIMEOUT: f64 = 0.5;
/// `buffer_size=20` → 2.
const LOG_BUFFER: usize = 2;
/// `num_logs=30` → 3.
const LOG_MESSAGES: usize = 3;
/// Two workers (4 → 2).
const LOG_WORKERS: usize = 2;

/// ConcurrentLogger: each process has its own copy (fork), with its own buffer.
struct Logger<B: Fs> {
    buffer_size: usize,
    max_file_size: u64,
    buffer: Vec<String>,
    _b: std::marker::PhantomData<B>,
}

impl<B: Fs> Logger<B> {
    /// `ConcurrentLogger(log_file, buffer_size, max_file_size)`: `_init_sequence_file`.
    fn new(buffer_size: usize, max_file_size: u64) -> Self {
        if !exists::<B>(LOG_SEQUENCE) {
            py(write_text::<B>(LOG_SEQUENCE, "0"));
        }
        Logger {
            buffer_size,
            max_file_size,
            buffer: Vec::new(),
            _b: std::marker::PhantomData,
        }
    }

    /// The forked copy a worker gets (the parent's buffer is empty at the fork).
    fn inherit(&self) -> Self {
        Logger {
            buffer_size: self.buffer_size,
            max_file_size: self.max_file_size,
            buffer: self.buffer.clone(),
            _b: std::marker::PhantomData,
        }
    }

    /// `_get_next_sequence`: `Err` is `RuntimeError('无法获取序列号锁')` or an I/O error.
    fn get_next_sequence(&self) -> Result<u64, Error> {
        if !self.acquire_log_lock(LOG_LOCK_TIMEOUT) {
            return Err(Error::InvalidArgument(
                "RuntimeError: 无法获取序列号锁".into(),
            ));
        }
        let r = (|| {
            let mut f = File::<B>::open(LOG_SEQUENCE, "r+")?;
            let text = String::from_utf8_lossy(&f.read(None)?).into_owned();
            let sequence: u64 = text.trim().parse().map_err(|_| {
                Error::InvalidArgument(format!("ValueError: invalid literal for int(): {text:?}"))
            })?;
            let sequence = sequence + 1;
            f.seek(0, 0)?;
            f.write(sequence.to_string().as_bytes())?;
            f.close()?;
            Ok(sequence)
        })();
        self.release_log_lock();
        r
    }

    fn acquire_log_lock(&self, timeout: f64) -> bool {
        let start_time = now::<B>();
        while now::<B>() - start_time < timeout {
            let info = format!("pid {}\n", os::getpid::<B>());
            match create_lock_file::<B>(LOG_LOCK, &info) {
                Ok(()) => return true,
                Err(_) => sleep::<B>(0.1), // any OSError counts as busy
            }
        }
        false
    }

    fn release_log_lock(&self) {
        let _ = os::unlink::<B>(LOG_LOCK);
    }

    /// `log(level, message, process_id)`: every exception is caught (`False`).
    fn log(&mut self, level: &str, message: &str, process_id: &str) -> bool {
        let Ok(sequence) = self.get_next_sequence() else {
            return false; // "记录日志失败"
        };
        let timestamp = now::<B>();
        self.buffer.push(format!(
            "{{\"sequence\": {sequence}, \"timestamp\": {timestamp:.3}, \"level\": \"{level}\", \"process\": \"{process_id}\", \"message\": \"{message}\"}}"
        ));
        if self.buffer.len() >= self.buffer_size {
            return self.flush_buffer();
        }
        true
    }

    fn flush_buffer(&mut self) -> bool {
        if self.buffer.is_empty() {
            return true;
        }
        if !self.acquire_log_lock(LOG_LOCK_TIMEOUT) {
            return false; // "无法获取日志锁,缓冲区刷新失败"
        }
        if self.should_rotate_log() {
            self.rotate_log();
        }
        let r = (|| {
            let mut f = File::<B>::open(LOG, "a")?;
            for entry in &self.buffer {
                f.write(format!("{entry}\n").as_bytes())?;
            }
            f.close()
        })();
        let ok = r.is_ok();
        if ok {
            self.buffer.clear();
        }
        self.release_log_lock();
        ok
    }

    /// `os.path.getsize(log) >= max_file_size`; `OSError` → `False`.
    fn should_rotate_log(&self) -> bool {
        os::stat::<B>(LOG).is_ok_and(|st| st.size >= self.max_file_size)
    }

    /// `os.rename(log, f"{log}.{int(time.time())}")` if the log exists.
    fn rotate_log(&self) {
        let rotated = format!("{LOG}.{}", now::<B>() as i64);
        if exists::<B>(LOG) {
            let _ = os::rename::<B>(LOG, &rotated);
        }
    }

    /// `get_log_info`: exists, size, mtime.
    fn get_log_info(&self) -> Option<(u64, i64)> {
        if !exists::<B>(LOG) {
            return None;
        }
        os::stat::<B>(LOG).ok().map(|st| (st.size, st.mtime_ns))
    }

    /// `logging_worker(num_logs)`; `random.choice(levels)` → `INFO`, `random.uniform(0.1,
    /// 0.5)` → `pause`.
    fn worker(&mut self, worker_id: &str, num_logs: usize, pause: f64) {
        for i in 0..num_logs {
            let message = format!("Worker {worker_id} log message {}", i + 1);
            self.log("INFO", &message, worker_id);
            sleep::<B>(pause);
        }
        self.flush_buffer(); // force_flush
    }
}

/// How ex-8.4-04's log is judged.
#[derive(Clone, Copy, PartialEq, Eq)]
enum LogJudge {
    /// As the example claims: intact, unique, none lost, in sequence order.
    AsClaimed,
    /// Intact, unique, none lost, after sorting by sequence number.
    Sorted,
}

/// Every log line, from the log and (with `archives`) its rotated files
/// (`concurrent_app.log.<unix time>`), as main would count them.
fn log_lines<B: Fs>(archives: bool) -> Vec<String> {
    let mut files = Vec::new();
    if archives {
        for name in py(os::listdir::<B>("/tmp")) {
            if let Some(ts) = name.strip_prefix("concurrent_app.log.") {
                if ts.chars().all(|c| c.is_ascii_digit()) {
                    files.push(format!("/tmp/{name}"));
                }
            }
        }
    }
    files.push(LOG.to_owned());
    files
        .iter()
        .flat_map(|f| {
            read_text::<B>(f)
                .lines()
                .map(str::to_owned)
                .collect::<Vec<_>>()
        })
        .collect()
}

/// The sequence number of a log line, if it is an intact entry.
fn sequence_of(line: &str) -> Option<u64> {
    let rest = line.strip_prefix("{\"sequence\": ")?;
    if !line.ends_with("\"}") {
        return None;
    }
    rest.split(',').next()?.parse().ok()
}

/// ex-8.4-04 (4 workers × 30 messages, buffer 20, 1 MB rotation → 2 × 3, buffer 2;
/// main's 8 status checks → 1). Claims: every entry gets a unique, increasing sequence
/// number; entries are written intact and in order; the final count is workers ×
/// messages. `max_file_size` is the rotation threshold (the example's 1 MB is never
/// reached). Judged on the log file(s) and the sequence file after `join`.
fn ex_8_4_04_body<B: Fs, const CRASH: bool>(judge: LogJudge, max_file_size: u64) {
    let logger = Logger::<B>::new(LOG_BUFFER, max_file_size);
    let workers = (0..LOG_WORKERS)
        .map(|i| {
            let mut l = logger.inherit();
            let name = format!("worker_{i}");
            let pause = 0.1 * (i + 1) as f64;
            start::<B>(&name.clone(), move || l.worker(&name, LOG_MESSAGES, pause))
        })
        .collect();
    sleep::<B>(0.2);
    let _ = logger.get_log_info();
    let codes = join_all::<B>(workers);
    let mut main_logger = logger;
    main_logger.flush_buffer(); // force_flush: main's buffer is empty
    let _ = main_logger.get_log_info();
    let lines = log_lines::<B>(max_file_size < 1024 * 1024);
    let issued: u64 = read_text::<B>(LOG_SEQUENCE).trim().parse().unwrap_or(0);
    let mut seqs = Vec::new();
    for line in &lines {
        match sequence_of(line) {
            Some(s) => seqs.push(s),
            None => ensure(false, "no-torn-line", || {
                format!("the log holds {line:?}, which no flush wrote whole")
            }),
        }
    }
    let mut sorted = seqs.clone();
    sorted.sort_unstable();
    if let Some(w) = sorted.windows(2).find(|w| w[0] == w[1]) {
        ensure(false, "unique-sequence", || {
            format!("sequence {} appears twice in the log: {seqs:?}", w[0])
        });
    }
    let expected: Vec<u64> = (1..=issued).collect();
    ensure(sorted == expected, "no-lost-line", || {
        format!(
            "the sequence file issued 1..={issued}, the log holds {} entries with numbers {sorted:?} (exit codes {codes:?})",
            seqs.len()
        )
    });
    if !CRASH {
        let total = (LOG_WORKERS * LOG_MESSAGES) as u64;
        ensure(issued == total, "no-lost-line", || {
            format!(
                "总共记录了 {} 条日志; {LOG_WORKERS} workers × {LOG_MESSAGES} make {total}",
                seqs.len()
            )
        });
    }
    if judge == LogJudge::AsClaimed {
        ensure(seqs == sorted, "log-in-sequence-order", || {
            format!("the log's entries are in the order {seqs:?}, not in sequence order")
        });
    }
}

/// The example's 1 MB rotation threshold: never reached by a few short lines.
const ONE_MB: u64 = 1024 * 1024;

fn ex_8_4_04<B: Fs>() {
    ex_8_4_04_body::<B, false>(LogJudge::AsClaimed, ONE_MB)
}

fn ex_8_4_04_sorted<B: Fs>() {
    ex_8_4_04_body::<B, false>(LogJudge::Sorted, ONE_MB)
}

fn ex_8_4_04_crash<B: Fs>() {
    ex_8_4_04_body::<B, true>(LogJudge::Sorted, ONE_MB)
}

/// Rotation at 1 byte: every flush after the first renames the log.
fn ex_8_4_04_rotate<B: Fs>() {
    ex_8_4_04_body::<B, false>(LogJudge::Sorted, 1)
}

// ---- the scenarios --------------------------------------------------------------------------

/// The scenarios of this section.
pub fn scenarios() -> Vec<Scenario> {
    vec![
        Scenario::new(
            "ex-8.4-01",
            "DataProcessingCoordinator: 3 workers take an O_CREAT|O_EXCL lock file (mtime staleness, os.remove), then read, process and rewrite a shared data file",
            bodies!(ex_8_4_01),
        )
        .violates("mutual-exclusion", "_is_lock_stale returns True when os.stat fails: a waiter whose open got EEXIST stats after the holder removed the lock, judges the missing lock stale, and after a third worker created its own lock file os.remove()s that one by name and creates its own — two workers in the read–modify–write of the data file")
        .or_violates("no-lost-update")
        .or_violates("record-processed-once")
        .not_for("random", "the window is three steps of two waiters placed around the holder's os.remove, ~12 steps into its release path: 30000 random executions (seed 1) did not hit it; loom and dfs reach it at preemption bound 2")
        .not_for("pct", "the same narrow window: 90000 PCT executions (depths 1–3) did not hit it; loom and dfs reach it at preemption bound 2")
        .source("ex-8.4-01")
        .threads(3),
        Scenario::new(
            "ex-8.4-01-crash",
            "ex-8.4-01 with 2 workers, one of which may be killed",
            bodies!(ex_8_4_01_two),
        )
        .violates("every-record-processed", "a worker killed while its lock file exists leaves it; the other waits acquire_processing_lock's timeout (30 s), shorter than the staleness age (60 s), gives up ('无法获取处理锁') and stops: records stay unprocessed and the promised stale-lock recovery never runs; killed inside the rewrite (open('w') truncates before the write), it leaves an empty data file: every result so far is lost (no-lost-update) and the other worker's json.load raises")
        .or_violates("no-lost-update")
        .crashes(1)
        .source("ex-8.4-01"),
        Scenario::new(
            "ex-8.4-01-pause",
            "ex-8.4-01 with 2 workers and two pauses longer than the staleness age",
            bodies!(ex_8_4_01_two),
        )
        .violates("mutual-exclusion", "a holder paused inside its batch past the staleness age, and a worker that starts its acquire late (itself paused), which judges the live holder's lock file stale, removes it and creates its own: both rewrite the data file")
        .or_violates("no-lost-update")
        .or_violates("record-processed-once")
        .pauses(2, Duration::from_secs(2))
        .not_for("loom", "under loom a pause is a step of the environment thread, and both must fall in narrow places (the waiter before its acquire, the holder inside its batch): 48829 executions (bounds 0–2, then unbounded, within the budget) did not place them; dfs finds it at bound 0")
        .not_for("random", "both pauses must fall in narrow places (the waiter before its acquire, the holder inside its batch): seed 1 first hit it at execution 21954, beyond the default budget; dfs finds it at bound 0")
        .not_for("pct", "PCT depth 1 first hit it at execution 11398, beyond the default budget; dfs finds it at bound 0")
        .source("ex-8.4-01"),
        Scenario::new(
            "ex-8.4-01-fixed",
            "ex-8.4-01 with flock on a lock file that is never removed, and the data file replaced by rename",
            bodies!(ex_8_4_01_fixed),
        )
        .holds("the kernel lock has one holder at a time whatever the timing (no staleness rule to misjudge), so each batch's read–modify–write is alone: 3 records, each processed once, all in the final file")
        .source("ex-8.4-01")
        .threads(3),
        Scenario::new(
            "ex-8.4-01-fixed-crash",
            "ex-8.4-01-fixed with 2 workers, one of which may be killed",
            bodies!(ex_8_4_01_fixed_two),
        )
        .holds("a killed holder's flock goes with its descriptors, so the survivor gets the lock and redoes the unfinished batch; the rename leaves the old or the new data file, never a truncated one: every record ends processed and no written result is lost")
        .crashes(1)
        .source("ex-8.4-01"),
        Scenario::new(
            "ex-8.4-02",
            "DistributedTaskQueue as written: pending/processing/completed dirs, per-task O_EXCL lock files, os.listdir polling, a workers registry",
            bodies!(ex_8_4_02),
        )
        .violates("every-task-processed", "pending_tasks holds (task_file, task_info) tuples sorted with key=lambda x: x['priority']: TypeError as soon as a task is pending, outside the worker's try, so each registered worker dies (and one that lost the non-blocking workers lock quits unregistered): completed/ stays empty")
        .source("ex-8.4-02"),
        Scenario::new(
            "ex-8.4-02-fixed",
            "DistributedTaskQueue with the sort key fixed (x[1]['priority'])",
            bodies!(ex_8_4_02_fixed),
        )
        .violates("task-queue-claim", "a worker whose listing still holds a task another worker has since claimed, completed and unlocked takes the task lock, writes processing/<id>.json, fails on os.remove(pending) and releases the lock: the processing file stays forever besides completed/<id>.json")
        .not_for("random", "the stale listing must survive the other worker's whole claim–process–complete path (~12 steps): 20000 random executions (seed 1) did not hit it; loom, PCT and dfs find it at bound 2 / depth 3")
        .source("ex-8.4-02"),
        Scenario::new(
            "ex-8.4-03",
            "SharedResourceManager: a counting semaphore from an O_EXCL management lock file, a counter file and an allocations file",
            bodies!(ex_8_4_03),
        )
        .violates("resource-conservation", "release_resource deletes the allocation but never decrements the counter file: after max_concurrent acquisitions the count stays at the maximum with no allocation left, and every later acquire times out")
        .source("ex-8.4-03"),
        Scenario::new(
            "ex-8.4-03-fixed",
            "SharedResourceManager with release_resource decrementing the counter, max_concurrent 2",
            bodies!(ex_8_4_03_fixed),
        )
        .violates("resource-conservation", "resource_id = count + 1 is not a free id once releases come out of order: after 1 and 2 are taken and 1 released, the next acquire is given id 2 again and overwrites the live holder's allocation; that holder's release is then refused ('不属于自己的资源') and the counter keeps a slot no allocation accounts for")
        .source("ex-8.4-03"),
        Scenario::new(
            "ex-8.4-04",
            "ConcurrentLogger: a sequence file incremented under an O_EXCL lock file, per-process buffers flushed by append under the same lock",
            bodies!(ex_8_4_04),
        )
        .violates("log-in-sequence-order", "numbers are taken at log() time but entries wait in per-process buffers and are appended in batches: one worker's later batch lands before the other's earlier entries")
        .source("ex-8.4-04"),
        Scenario::new(
            "ex-8.4-04-sorted",
            "ex-8.4-04, the log judged after sorting its entries by sequence number",
            bodies!(ex_8_4_04_sorted),
        )
        .holds("the sequence file's read–increment–write and every flush run under the one lock file: each entry is appended whole once, numbers 1..=N without gap or duplicate, N = workers × messages")
        .source("ex-8.4-04"),
        Scenario::new(
            "ex-8.4-04-crash",
            "ex-8.4-04 with a worker that may be killed",
            bodies!(ex_8_4_04_crash),
        )
        .violates("no-lost-line", "a worker killed with entries in its buffer loses them while their sequence numbers stay issued (a gap); killed while holding the lock file, it leaves the file forever and the other worker's log() and flush fail after their timeout")
        .crashes(1)
        .source("ex-8.4-04"),
        Scenario::new(
            "ex-8.4-04-rotate",
            "ex-8.4-04 with a rotation threshold the log reaches (1 byte instead of 1 MB)",
            bodies!(ex_8_4_04_rotate),
        )
        .violates("no-lost-line", "_rotate_log names the archive after int(time.time()): a second rotation within the same second os.rename()s the log over the first archive, which POSIX rename replaces silently — its entries are gone")
        .source("ex-8.4-04"),
    ]
}

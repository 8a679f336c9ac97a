//! Section 8.2 (`msvcrt.locking`, simulated: there is no Windows machine) of the tutorial:
//! its examples as scenarios.
//!
//! `msvcrt.locking` is [`lockproof::file::msvcrt::locking`] on the checked world's Windows
//! model (FILELOCKS.md §1.10): regions `[descriptor offset, +nbytes)` owned by a handle,
//! exclusive in every mode (`LK_RLCK` is `LK_LOCK`), never overlapping, mandatory (another
//! handle's read or write of a locked byte fails with `PermissionError`, errno 13),
//! `LK_LOCK` giving up after 10 tries 1 s apart with errno 36, `LK_NBLCK` failing with
//! errno 13. The tutorial's `e.errno == 33` test never matches.
//!
//! | scenario | example | expected |
//! |---|---|---|
//! | `ex-8.2-01` | WindowsFileLock demo + a second process's `lock_region(0, 20, LK_NBLCK)` while held | already-locked-detected (errno is 13, the errno-33 branch is dead) |
//! | `ex-8.2-01-fixed` | the same with `e.errno in (EACCES, EDEADLOCK)` | holds |
//! | `ex-8.2-02` | AdvancedWindowsLock: `lock_multiple_regions` while another process holds one of them | all-regions-locked (True with 2 of 3) |
//! | `ex-8.2-03` | WindowsReadWriteLock: two processes `acquire_read_lock` | shared-lock-concurrency |
//! | `ex-8.2-03-upgrade` | read under the read lock, `acquire_write_lock` upgrade, write back; a writer | no-lost-update |
//! | `ex-8.2-04` | WindowsLockMonitor probing byte 0 while a process holds `[5, 10)` | probe-accuracy |
//! | `ex-8.2-05` | DatabaseFileProtector: a DB-engine read (its own handle) inside `execute_read_operation` | db-engine-io |
//! | `ex-8.2-05-sleep` | two `execute_read_operation(example_read_operation)` at once | shared-lock-concurrency |
//! | `ex-8.2-05-transaction` | two processes `try_transaction([op, op], timeout=0.5)` | holds |
//! | `ex-8.2-06` | ConcurrentLogFile: 2 processes × (`write_log_entry` + `write_multiple_entries` of 2) | holds |
//! | `ex-8.2-06-crash` | the same, a writer may be killed | holds |
//! | `ex-8.2-06-reader` | a writer and a `read_log_entries` reader | read-log-entries |
//! | `ex-8.2-07` | ConfigFileManager: `update_config` then `backup_config` (shutil.copy2 through a new handle) | backup-config |
//! | `ex-8.2-07-empty` | two processes `update_config` on an empty config file | no-lost-update |
//! | `ex-8.2-07-update` | the same on a non-empty config file | holds |

use crate::{join_all, py, sleep, start, Fs};
use lockproof::file::msvcrt::{self, LK_LOCK, LK_NBLCK, LK_RLCK, LK_UNLCK};
use lockproof::file::{os, File};
use lockproof_scenario::prelude::*;
use lockproof_scenario::Scenario;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
use std::sync::Mutex;

/// The errno a "fixed" example tests for a contended region: EACCES (LK_NBLCK) or
/// EDEADLOCK (LK_LOCK's timeout).
fn contended(errno: Option<i32>) -> bool {
    matches!(errno, Some(msvcrt::EACCES) | Some(msvcrt::EDEADLOCK))
}

// ---- WindowsFileLock (ex-8.2-01, used by ex-8.2-06) ------------------------------------------

/// `WindowsFileLock`: a file handle and the tutorial's lock/unlock helpers. `log` keeps what
/// `logger` would print (the claims are about it).
struct WindowsFileLock<B: Fs> {
    filename: String,
    file_handle: Option<File<B>>,
    log: Vec<String>,
    /// The fixed example's errno test (EACCES/EDEADLOCK) instead of `e.errno == 33`.
    fixed: bool,
}

impl<B: Fs> WindowsFileLock<B> {
    fn new(filename: &str) -> Self {
        WindowsFileLock {
            filename: filename.to_owned(),
            file_handle: None,
            log: Vec::new(),
            fixed: false,
        }
    }

    fn open_file(&mut self, mode: &str) -> bool {
        match File::<B>::open(&self.filename, mode) {
            Ok(f) => {
                self.file_handle = Some(f);
                true
            }
            Err(e) => {
                self.log.push(format!("打开文件失败: {e}"));
                false
            }
        }
    }

    fn fh(&mut self) -> &mut File<B> {
        self.file_handle.as_mut().expect("文件未打开")
    }

    /// `seek(offset)` then `msvcrt.locking(fileno, lock_mode, size)`; `except OSError as e:
    /// if e.errno == 33: '已被锁定' else: '锁定文件区域失败'`.
    fn lock_region(&mut self, offset: i64, size: i64, lock_mode: i32) -> bool {
        let fixed = self.fixed;
        let f = self.fh();
        py(f.seek(offset, 0));
        match msvcrt::locking(&*f, lock_mode, size) {
            Ok(()) => {
                self.log
                    .push(format!("成功锁定文件区域 [{offset}, {})", offset + size));
                true
            }
            Err(e) => {
                let already = if fixed {
                    contended(e.errno())
                } else {
                    e.errno() == Some(33)
                };
                self.log.push(if already {
                    format!("文件区域已被锁定: [{offset}, {})", offset + size)
                } else {
                    format!("锁定文件区域失败: {e}")
                });
                false
            }
        }
    }

    fn unlock_region(&mut self, offset: i64, size: i64) -> bool {
        let f = self.fh();
        py(f.seek(offset, 0));
        match msvcrt::locking(&*f, LK_UNLCK, size) {
            Ok(()) => true,
            Err(e) => {
                self.log.push(format!("解锁文件区域失败: {e}"));
                false
            }
        }
    }

    fn close_file(&mut self) {
        if let Some(f) = self.file_handle.take() {
            py(f.close());
        }
    }
}

// ---- ex-8.2-01 --------------------------------------------------------------------------------

const TEST_FILE: &str = "/tmp/test_windows_lock.txt";

/// ex-8.2-01: `demo_basic_locking` (sleep 2 → 0.1 s), and — the contention its claims are
/// about — a second process with its own WindowsFileLock calling `lock_region(0, 20,
/// LK_NBLCK)` at 0.05 s, while the demo holds [0, 20). Claims: the file holds 100 bytes;
/// the contender's failure is logged as "已被锁定" (the errno-33 branch).
fn ex_8_2_01_body<B: Fs, const FIXED: bool>() {
    {
        let mut f = py(File::<B>::open(TEST_FILE, "wb"));
        py(f.write(&b"0123456789".repeat(10)));
        py(f.close());
    }
    let contender = start::<B>("contender", || {
        sleep::<B>(0.05);
        let mut other = WindowsFileLock::<B>::new(TEST_FILE);
        other.fixed = FIXED;
        assert!(other.open_file("r+b"));
        let got = other.lock_region(0, 20, LK_NBLCK);
        ensure(!got, "mutual-exclusion", || {
            "the contender locked [0, 20) while the demo held it".into()
        });
        let log = other.log.join("; ");
        ensure(
            log.contains("已被锁定"),
            "already-locked-detected",
            || format!("the contended lock was logged as: {log}"),
        );
        // A region next to it is free.
        assert!(other.lock_region(20, 20, LK_NBLCK));
        other.close_file();
    });
    let mut file_lock = WindowsFileLock::<B>::new(TEST_FILE);
    if file_lock.open_file("r+b") {
        let size = py(os::stat::<B>(TEST_FILE)).size;
        ensure(size == 100, "file-size", || format!("{size} bytes"));
        if file_lock.lock_region(0, 20, LK_LOCK) {
            let t0 = crate::now::<B>();
            let f = file_lock.fh();
            py(f.seek(0, 0));
            py(f.write(b"LOCKED_DATA_HERE..."));
            py(f.flush());
            sleep::<B>(0.1);
            file_lock.unlock_region(0, 20);
            let took = crate::now::<B>() - t0;
            ensure((took - 0.1).abs() < 1e-6, "hold-time", || {
                format!("{took} s")
            });
        }
        file_lock.close_file();
    }
    join_all::<B>(vec![contender]);
    if os::stat::<B>(TEST_FILE).is_ok() {
        py(os::unlink::<B>(TEST_FILE));
    }
}

fn ex_8_2_01<B: Fs>() {
    ex_8_2_01_body::<B, false>()
}

fn ex_8_2_01_fixed<B: Fs>() {
    ex_8_2_01_body::<B, true>()
}

// ---- ex-8.2-02 --------------------------------------------------------------------------------

const DATA_FILE: &str = "/tmp/regions.dat";

/// `AdvancedWindowsLock`.
struct AdvancedWindowsLock<B: Fs> {
    filename: String,
    file_handle: Option<File<B>>,
    locked_regions: Vec<(i64, i64)>,
}

impl<B: Fs> AdvancedWindowsLock<B> {
    fn new(filename: &str) -> Self {
        AdvancedWindowsLock {
            filename: filename.to_owned(),
            file_handle: None,
            locked_regions: Vec::new(),
        }
    }

    fn open_file(&mut self, mode: &str) -> bool {
        self.file_handle = File::<B>::open(&self.filename, mode).ok();
        self.file_handle.is_some()
    }

    /// Each region: seek, `msvcrt.locking`; a failure is logged and skipped; True if any
    /// region was locked.
    fn lock_multiple_regions(&mut self, regions: &[(i64, i64)], lock_mode: i32) -> bool {
        let mut locked_count = 0;
        for &(offset, size) in regions {
            let f = self.file_handle.as_mut().expect("open");
            py(f.seek(offset, 0));
            if msvcrt::locking(&*f, lock_mode, size).is_ok() {
                self.locked_regions.push((offset, size));
                locked_count += 1;
            }
        }
        locked_count > 0
    }

    fn try_lock_region(&mut self, offset: i64, size: i64) -> bool {
        let f = self.file_handle.as_mut().expect("open");
        py(f.seek(offset, 0));
        if msvcrt::locking(&*f, LK_NBLCK, size).is_ok() {
            self.locked_regions.push((offset, size));
            true
        } else {
            false
        }
    }

    fn unlock_all_regions(&mut self) -> bool {
        let Some(f) = self.file_handle.as_mut() else {
            return false;
        };
        let mut unlocked = 0;
        for &(offset, size) in &self.locked_regions {
            py(f.seek(offset, 0));
            if msvcrt::locking(&*f, LK_UNLCK, size).is_ok() {
                unlocked += 1;
            }
        }
        self.locked_regions.clear();
        unlocked > 0
    }

    fn close_file(&mut self) {
        if self.file_handle.is_some() {
            self.unlock_all_regions();
            py(self.file_handle.take().expect("open").close());
        }
    }
}

/// ex-8.2-02 (the catalogue's scale: 2 processes, 3 regions, LK_NBLCK). Process B holds
/// [10, 20) via `try_lock_region`; A calls `lock_multiple_regions([(0,10),(10,10),(30,10)],
/// LK_NBLCK)`. Claim: a True return means the regions are locked, so A writes into each.
fn ex_8_2_02<B: Fs>() {
    {
        let mut f = py(File::<B>::open(DATA_FILE, "wb"));
        py(f.write(&[b'.'; 40]));
        py(f.close());
    }
    let b = start::<B>("B", || {
        let mut lock = AdvancedWindowsLock::<B>::new(DATA_FILE);
        assert!(lock.open_file("r+b"));
        let held = lock.try_lock_region(10, 10);
        sleep::<B>(0.5);
        if held {
            lock.unlock_all_regions();
        }
        lock.close_file();
    });
    sleep::<B>(0.1);
    let mut a = AdvancedWindowsLock::<B>::new(DATA_FILE);
    assert!(a.open_file("r+b"));
    let regions = [(0, 10), (10, 10), (30, 10)];
    if a.lock_multiple_regions(&regions, LK_NBLCK) {
        let held = a.locked_regions.clone();
        ensure(held.len() == regions.len(), "all-regions-locked", || {
            format!("lock_multiple_regions returned True holding only {held:?} of {regions:?}")
        });
        for &(offset, size) in &regions {
            let f = a.file_handle.as_mut().expect("open");
            py(f.seek(offset, 0));
            py(f.write(&vec![b'A'; size as usize]));
            py(f.flush());
        }
    }
    a.close_file();
    join_all::<B>(vec![b]);
}

// ---- WindowsReadWriteLock (ex-8.2-03, 05, 07) --------------------------------------------------

/// `WindowsReadWriteLock`: one handle, `lock_type` None / 'read' / 'write'.
struct WindowsReadWriteLock<B: Fs> {
    filename: String,
    file_handle: Option<File<B>>,
    lock_type: Option<&'static str>,
    lock_offset: i64,
    lock_size: i64,
}

impl<B: Fs> WindowsReadWriteLock<B> {
    fn new(filename: &str) -> Self {
        WindowsReadWriteLock {
            filename: filename.to_owned(),
            file_handle: None,
            lock_type: None,
            lock_offset: 0,
            lock_size: 0,
        }
    }

    fn open_file(&mut self, mode: &str) -> bool {
        self.file_handle = File::<B>::open(&self.filename, mode).ok();
        self.file_handle.is_some()
    }

    fn fh(&mut self) -> &mut File<B> {
        self.file_handle.as_mut().expect("open")
    }

    /// `size == 0`: `seek(0, 2)`, `size = tell()`, `seek(0)`.
    fn whole(&mut self, size: i64) -> i64 {
        if size != 0 {
            return size;
        }
        let f = self.fh();
        py(f.seek(0, 2));
        let size = py(f.tell()) as i64;
        py(f.seek(0, 0));
        size
    }

    /// seek(offset), `msvcrt.locking(fileno, mode, size)`; any exception → False.
    fn take(&mut self, kind: &'static str, mode: i32, offset: i64, size: i64) -> bool {
        let f = self.fh();
        py(f.seek(offset, 0));
        if msvcrt::locking(&*f, mode, size).is_ok() {
            self.lock_type = Some(kind);
            self.lock_offset = offset;
            self.lock_size = size;
            true
        } else {
            false
        }
    }

    fn acquire_read_lock(&mut self, offset: i64, size: i64) -> bool {
        let size = self.whole(size);
        if self.lock_type.is_some() {
            return false; // 已持有锁,需要先释放
        }
        self.take("read", LK_RLCK, offset, size)
    }

    fn acquire_write_lock(&mut self, offset: i64, size: i64) -> bool {
        let size = self.whole(size);
        if self.lock_type == Some("write") {
            return true;
        }
        if self.lock_type == Some("read") && !self.release_lock() {
            return false;
        }
        self.take("write", LK_LOCK, offset, size)
    }

    fn try_acquire_write_lock(&mut self, offset: i64, size: i64) -> bool {
        let size = self.whole(size);
        if self.lock_type == Some("write") {
            return true;
        }
        if self.lock_type == Some("read") && !self.release_lock() {
            return false;
        }
        self.take("write", LK_NBLCK, offset, size)
    }

    fn release_lock(&mut self) -> bool {
        if self.lock_type.is_none() {
            return true;
        }
        let (offset, size) = (self.lock_offset, self.lock_size);
        let f = self.fh();
        py(f.seek(offset, 0));
        if msvcrt::locking(&*f, LK_UNLCK, size).is_ok() {
            self.lock_type = None;
            self.lock_offset = 0;
            self.lock_size = 0;
            true
        } else {
            false
        }
    }

    fn close_file(&mut self) {
        if self.file_handle.is_some() {
            self.release_lock();
            py(self.file_handle.take().expect("open").close());
        }
    }
}

// ---- ex-8.2-03 --------------------------------------------------------------------------------

const SHARED_FILE: &str = "/tmp/shared.dat";

fn make<B: Fs>(path: &str, content: &[u8]) {
    let mut f = py(File::<B>::open(path, "wb"));
    py(f.write(content));
    py(f.close());
}

/// ex-8.2-03: two processes `acquire_read_lock()` (size 0: the whole, non-empty file) and
/// hold it 0.5 s. Claim: read locks are shared, so the second reader (at 0.1 s) gets its
/// read lock at once.
fn ex_8_2_03<B: Fs>() {
    make::<B>(SHARED_FILE, b"shared data");
    let reader = |delay: f64| {
        move || {
            sleep::<B>(delay);
            let mut lock = WindowsReadWriteLock::<B>::new(SHARED_FILE);
            assert!(lock.open_file("r+b"));
            let t0 = crate::now::<B>();
            let got = lock.acquire_read_lock(0, 0);
            let waited = crate::now::<B>() - t0;
            ensure(got && waited < 1e-6, "shared-lock-concurrency", || {
                format!("acquire_read_lock() returned {got} after {waited} s: readers exclude each other")
            });
            sleep::<B>(0.5);
            lock.release_lock();
            lock.close_file();
        }
    };
    let ps = vec![
        start::<B>("reader-1", reader(0.0)),
        start::<B>("reader-2", reader(0.1)),
    ];
    join_all::<B>(ps);
}

const COUNTER_FILE: &str = "/tmp/counter.dat";

fn read_int<B: Fs>(f: &mut File<B>) -> i64 {
    py(f.seek(0, 0));
    let bytes = py(f.read(None));
    String::from_utf8_lossy(&bytes).trim().parse().unwrap_or(0)
}

fn write_int<B: Fs>(f: &mut File<B>, v: i64) {
    py(f.seek(0, 0));
    py(f.write(v.to_string().as_bytes()));
    py(f.flush());
}

/// ex-8.2-03-upgrade: the upgrader reads the counter under `acquire_read_lock()`, upgrades
/// with `acquire_write_lock()` (the code's release-then-`LK_LOCK`) and writes value + 1; a
/// writer does `acquire_write_lock()`, read, write value + 1. Claim (the "upgrade"): the
/// read value is still current when written back, so the counter ends at 2.
fn ex_8_2_03_upgrade<B: Fs>() {
    make::<B>(COUNTER_FILE, b"0");
    let upgrader = start::<B>("upgrader", || {
        let mut lock = WindowsReadWriteLock::<B>::new(COUNTER_FILE);
        assert!(lock.open_file("r+b"));
        if lock.acquire_read_lock(0, 0) {
            let v = read_int(lock.fh());
            if lock.acquire_write_lock(0, 0) {
                write_int(lock.fh(), v + 1);
            }
        }
        lock.close_file();
    });
    let writer = start::<B>("writer", || {
        let mut lock = WindowsReadWriteLock::<B>::new(COUNTER_FILE);
        assert!(lock.open_file("r+b"));
        if lock.acquire_write_lock(0, 0) {
            let v = read_int(lock.fh());
            write_int(lock.fh(), v + 1);
        }
        lock.close_file();
    });
    join_all::<B>(vec![upgrader, writer]);
    let v = crate::read_text::<B>(COUNTER_FILE);
    ensure(v.trim() == "2", "no-lost-update", || {
        format!("counter is {v:?} after two increments")
    });
}

// ---- ex-8.2-04 --------------------------------------------------------------------------------

const MONITORED: &str = "/tmp/monitored.dat";

#[derive(Default, Clone, Debug)]
struct Stats {
    lock_attempts: u32,
    successful_locks: u32,
    failed_locks: u32,
    total_wait_time: f64,
}

/// `WindowsLockMonitor`: a daemon thread probing the file every `interval`.
struct WindowsLockMonitor {
    monitoring: AtomicBool,
    stats: Mutex<BTreeMap<String, Stats>>,
}

impl WindowsLockMonitor {
    /// `_check_lock_status`: open 'r+b', seek(0), LK_NBLCK 1 byte then LK_UNLCK; counts.
    /// Returns whether the probe said "not locked".
    fn check_lock_status<B: Fs>(&self, filename: &str) -> bool {
        let mut f = py(File::<B>::open(filename, "r+b"));
        py(f.seek(0, 0));
        let start_time = crate::now::<B>();
        let ok = msvcrt::locking(&f, LK_NBLCK, 1).is_ok();
        if ok {
            py(msvcrt::locking(&f, LK_UNLCK, 1));
        }
        let wait_time = crate::now::<B>() - start_time;
        let mut stats = self.stats.lock().expect("stats");
        let s = stats.entry(filename.to_owned()).or_default();
        s.lock_attempts += 1;
        if ok {
            s.successful_locks += 1;
        } else {
            s.failed_locks += 1;
        }
        s.total_wait_time += wait_time;
        drop(stats);
        py(f.close());
        ok
    }
}

/// ex-8.2-04 (interval 1 s → 0.05 s, 0.2 s of monitoring): a worker process holds bytes
/// [5, 10) of the file from 0 to 0.3 s. Claim: a successful probe means "not locked by
/// another process"; `held` (the checker's ground truth, set while the worker holds its
/// region) says otherwise.
fn ex_8_2_04<B: Fs>() {
    make::<B>(MONITORED, b"0123456789");
    let held = Arc::new(AtomicBool::new(false));
    let h = held.clone();
    let worker = start::<B>("worker", move || {
        let mut f = py(File::<B>::open(MONITORED, "r+b"));
        py(f.seek(5, 0));
        if msvcrt::locking(&f, LK_NBLCK, 5).is_ok() {
            h.store(true, SeqCst);
            sleep::<B>(0.3);
            h.store(false, SeqCst);
            py(f.seek(5, 0));
            py(msvcrt::locking(&f, LK_UNLCK, 5));
        }
        py(f.close());
    });
    let monitor = Arc::new(WindowsLockMonitor {
        monitoring: AtomicBool::new(true),
        stats: Mutex::new(BTreeMap::new()),
    });
    let m = monitor.clone();
    let thread = B::spawn("monitor", move || {
        while m.monitoring.load(SeqCst) {
            let locked_now = held.load(SeqCst);
            let unlocked = m.check_lock_status::<B>(MONITORED);
            ensure(!(unlocked && locked_now), "probe-accuracy", || {
                "the probe reported the file unlocked while the worker held [5, 10)".into()
            });
            sleep::<B>(0.05);
        }
    });
    sleep::<B>(0.2);
    monitor.monitoring.store(false, SeqCst); // stop_monitoring
    thread.join();
    join_all::<B>(vec![worker]);
    let stats = monitor.stats.lock().expect("stats").clone();
    let s = &stats[MONITORED];
    assert_eq!(s.lock_attempts, s.successful_locks + s.failed_locks);
}

// ---- ex-8.2-05 --------------------------------------------------------------------------------

const DB_FILE: &str = "/tmp/app.db";

/// `DatabaseFileProtector.execute_read_operation(query_func)`: open 'rb', read lock, run
/// the query, finally release and close. `None` when no lock or the query raised.
fn execute_read_operation<B: Fs, T>(
    lock: &mut WindowsReadWriteLock<B>,
    query_func: impl FnOnce() -> lockproof::Result<T>,
) -> Option<lockproof::Result<T>> {
    if !lock.open_file("rb") {
        return None;
    }
    let r = if lock.acquire_read_lock(0, 0) {
        Some(query_func())
    } else {
        None
    };
    lock.release_lock();
    lock.close_file();
    r
}

/// A database engine's read: SQLite opens the file itself and reads its 16-byte header.
fn engine_read<B: Fs>() -> lockproof::Result<Vec<u8>> {
    let mut db = File::<B>::open(DB_FILE, "rb")?;
    let header = db.read(Some(16))?;
    db.close()?;
    Ok(header)
}

/// ex-8.2-05: a reader process runs a database query (the engine reading the DB file
/// through its own handle) inside `execute_read_operation`. Claim: the query runs under
/// the read lock and returns its data.
fn ex_8_2_05<B: Fs>() {
    make::<B>(DB_FILE, &[b'S'; 64]);
    let reader = start::<B>("reader", || {
        let mut lock = WindowsReadWriteLock::<B>::new(DB_FILE);
        let r = execute_read_operation(&mut lock, engine_read::<B>);
        ensure(matches!(r, Some(Ok(_))), "db-engine-io", || {
            format!("the query under the read lock: {r:?}")
        });
    });
    join_all::<B>(vec![reader]);
}

/// ex-8.2-05-sleep: two processes `execute_read_operation(example_read_operation)` (sleep
/// 0.5 → 0.05 s) at once. Claim: reads share the read lock, so both finish by 0.05 s.
fn ex_8_2_05_sleep<B: Fs>() {
    make::<B>(DB_FILE, &[b'S'; 64]);
    let reader = || {
        let mut lock = WindowsReadWriteLock::<B>::new(DB_FILE);
        let r = execute_read_operation(&mut lock, || {
            sleep::<B>(0.05);
            Ok("sample_data")
        });
        let t = crate::now::<B>();
        ensure(
            matches!(r, Some(Ok("sample_data"))) && t < 0.05 + 1e-6,
            "shared-lock-concurrency",
            || {
                format!(
                    "read operation returned {r:?} at {t} s: the readers ran one after the other"
                )
            },
        );
    };
    let ps = vec![
        start::<B>("reader-1", reader),
        start::<B>("reader-2", reader),
    ];
    join_all::<B>(ps);
}

/// `DatabaseFileProtector.try_transaction(operations, timeout)`: open 'r+b'; until the
/// timeout, `try_acquire_write_lock()` then run every operation (finally release), else
/// sleep 0.1 s; False at the timeout; finally close.
fn try_transaction<B: Fs>(operations: &[&dyn Fn()], timeout: f64) -> bool {
    let mut lock = WindowsReadWriteLock::<B>::new(DB_FILE);
    if !lock.open_file("r+b") {
        return false;
    }
    let start_time = crate::now::<B>();
    let mut done = false;
    while crate::now::<B>() - start_time < timeout {
        if lock.try_acquire_write_lock(0, 0) {
            for operation in operations {
                operation();
            }
            lock.release_lock();
            done = true;
            break;
        }
        sleep::<B>(0.1);
    }
    lock.close_file();
    done
}

/// ex-8.2-05-transaction (timeout 5 → 0.5 s): two processes `try_transaction` a list of
/// two operations (sleeps of 0.05 s, as the example's operations simulate work), each
/// inside a critical section. Claim: each returns True once it ran all its operations,
/// and the transactions exclude each other.
fn ex_8_2_05_transaction<B: Fs>() {
    make::<B>(DB_FILE, &[b'S'; 64]);
    let cs = Arc::new(Region::<B>::new("transaction", 1));
    let ps = (1..=2)
        .map(|i| {
            let cs = cs.clone();
            start::<B>(&format!("tx-{i}"), move || {
                let op = || {
                    let _in = cs.enter();
                    sleep::<B>(0.05);
                };
                let ok = try_transaction::<B>(&[&op, &op], 0.5);
                ensure(ok, "transaction-committed", || {
                    format!("tx-{i}: try_transaction returned False")
                });
            })
        })
        .collect();
    join_all::<B>(ps);
}

// ---- ex-8.2-06 --------------------------------------------------------------------------------

const LOG_FILE: &str = "/tmp/app.log";

/// The checker's record of a log's writers: every entry about to be written (`intended`)
/// and every entry reported written, i.e. flushed (`written`).
#[derive(Default)]
struct Journal {
    intended: Vec<String>,
    written: Vec<String>,
}

/// `ConcurrentLogFile` over a WindowsFileLock, reporting to a [`Journal`].
struct ConcurrentLogFile<B: Fs> {
    lock: WindowsFileLock<B>,
    entry_counter: u32,
    journal: Arc<Mutex<Journal>>,
}

impl<B: Fs> ConcurrentLogFile<B> {
    fn new(journal: Arc<Mutex<Journal>>) -> Self {
        ConcurrentLogFile {
            lock: WindowsFileLock::new(LOG_FILE),
            entry_counter: 0,
            journal,
        }
    }

    fn note(&self, lines: &[String], flushed: bool) {
        let mut j = self.journal.lock().expect("journal");
        let list = if flushed {
            &mut j.written
        } else {
            &mut j.intended
        };
        list.extend(lines.iter().map(|l| l.trim_end().to_owned()));
    }

    fn timestamp() -> String {
        format!("t{:.3}", crate::now::<B>())
    }

    /// Open 'a+b', measure EOF, LK_LOCK [EOF, EOF + 1024), seek(EOF), write, flush, unlock,
    /// close.
    fn write_log_entry(&mut self, level: &str, message: &str, process_id: u32) -> bool {
        if !self.lock.open_file("a+b") {
            return false;
        }
        let f = self.lock.fh();
        py(f.seek(0, 2));
        let file_size = py(f.tell()) as i64;
        let lock_size = 1024;
        let ok = if self.lock.lock_region(file_size, lock_size, LK_LOCK) {
            let entry = format!("{} [{level}] P{process_id}: {message}\n", Self::timestamp());
            self.note(std::slice::from_ref(&entry), false);
            let f = self.lock.fh();
            py(f.seek(file_size, 0));
            py(f.write(entry.as_bytes()));
            py(f.flush());
            self.entry_counter += 1;
            self.note(&[entry], true);
            self.lock.unlock_region(file_size, lock_size);
            true
        } else {
            false
        };
        self.lock.close_file();
        ok
    }

    /// The batch: lock [EOF, EOF + Σ len(entry) + 100), seek/write each at current_pos,
    /// one flush, unlock.
    fn write_multiple_entries(&mut self, entries: &[(&str, &str)], process_id: u32) -> bool {
        if !self.lock.open_file("a+b") {
            return false;
        }
        let f = self.lock.fh();
        py(f.seek(0, 2));
        let file_size = py(f.tell()) as i64;
        let ts = Self::timestamp();
        let lines: Vec<String> = entries
            .iter()
            .map(|(level, message)| format!("{ts} [{level}] P{process_id}: {message}\n"))
            .collect();
        let total_size = lines.iter().map(|l| l.chars().count() as i64).sum::<i64>() + 100;
        let ok = if self.lock.lock_region(file_size, total_size, LK_LOCK) {
            self.note(&lines, false);
            let mut current_pos = file_size;
            for l in &lines {
                let f = self.lock.fh();
                py(f.seek(current_pos, 0));
                py(f.write(l.as_bytes()));
                current_pos += l.len() as i64;
            }
            py(self.lock.fh().flush());
            self.note(&lines, true);
            self.lock.unlock_region(file_size, total_size);
            true
        } else {
            false
        };
        self.lock.close_file();
        ok
    }

    /// `read_log_entries`: `open(log, 'r').readlines()`, no lock.
    fn read_log_entries(&self) -> lockproof::Result<Vec<String>> {
        if os::stat::<B>(LOG_FILE).is_err() {
            return Ok(Vec::new());
        }
        let mut f = File::<B>::open(LOG_FILE, "r")?;
        let text = f.read(None)?;
        f.close()?;
        Ok(String::from_utf8_lossy(&text)
            .lines()
            .map(str::to_owned)
            .collect())
    }
}

/// ex-8.2-06 (3 processes × 5 entries → 2 × (one entry + a batch of 2)). Claim: every entry
/// is in the log, whole. With `CRASH`, a writer may be killed at any step (its regions go
/// with it; an entry counts as written once flushed) and its batch has one entry.
fn ex_8_2_06_body<B: Fs, const CRASH: bool>() {
    // The log does not exist yet. (This first file call from main also makes the checked
    // file system's scheduling witness before any process races to make it: under loom,
    // two processes creating it concurrently is reported as a causality violation.)
    assert!(os::stat::<B>(LOG_FILE).is_err());
    let journal = Arc::new(Mutex::new(Journal::default()));
    let ps = (1..=2)
        .map(|pid| {
            let j = journal.clone();
            start::<B>(&format!("P{pid}"), move || {
                let mut log = ConcurrentLogFile::<B>::new(j);
                let a = log.write_log_entry("INFO", "entry", pid);
                // The crash variant's batch has one entry (a smaller state space for loom).
                let batch: &[(&str, &str)] = if CRASH {
                    &[("INFO", "batch-1")]
                } else {
                    &[("INFO", "batch-1"), ("WARN", "batch-2")]
                };
                let b = log.write_multiple_entries(batch, pid);
                ensure(a && b, "log-entry-written", || {
                    format!("P{pid}: write_log_entry {a}, write_multiple_entries {b}")
                });
            })
        })
        .collect();
    let codes = join_all::<B>(ps);
    assert!(CRASH || crate::all_exited(&codes));
    let text = crate::read_text::<B>(LOG_FILE);
    let j = journal.lock().expect("journal");
    if crate::all_exited(&codes) {
        crate::judge_lines(&text, &j.written);
    } else {
        // A writer was killed: lines it was about to write may or may not be there, whole.
        let lines: Vec<&str> = text.lines().collect();
        if let Some(bad) = lines.iter().find(|l| !j.intended.iter().any(|e| e == *l)) {
            ensure(false, "no-torn-line", || {
                format!("the log holds {bad:?}, which no writer wrote whole; log: {text:?}")
            });
        }
        if let Some(lost) = j.written.iter().find(|e| !lines.contains(&e.as_str())) {
            ensure(false, "no-lost-line", || {
                format!("{lost:?} was flushed but is not in the log; log: {text:?}")
            });
        }
    }
}

fn ex_8_2_06<B: Fs>() {
    ex_8_2_06_body::<B, false>()
}

fn ex_8_2_06_crash<B: Fs>() {
    ex_8_2_06_body::<B, true>()
}

/// ex-8.2-06-reader: one writer's `write_log_entry` and a reader's `read_log_entries` at
/// the same time. Claim: the reader returns the log's lines (it takes no lock).
fn ex_8_2_06_reader<B: Fs>() {
    make::<B>(LOG_FILE, b"t0 [INFO] P0: started\n");
    let journal = Arc::new(Mutex::new(Journal::default()));
    let j = journal.clone();
    let writer = start::<B>("writer", move || {
        let mut log = ConcurrentLogFile::<B>::new(j);
        log.write_log_entry("INFO", "entry", 1);
    });
    let reader = start::<B>("reader", move || {
        let log = ConcurrentLogFile::<B>::new(journal);
        let r = log.read_log_entries();
        ensure(r.is_ok(), "read-log-entries", || {
            format!(
                "read_log_entries() raised {:?}",
                r.as_ref().err().map(|e| e.python_repr())
            )
        });
    });
    join_all::<B>(vec![writer, reader]);
}

// ---- ex-8.2-07 --------------------------------------------------------------------------------

const CONFIG_FILE: &str = "/tmp/config.json";

/// `json.dumps(config)` of a flat `{str: int}` object.
fn dumps(config: &BTreeMap<String, i64>) -> String {
    let items: Vec<String> = config
        .iter()
        .map(|(k, v)| format!("\"{k}\": {v}"))
        .collect();
    format!("{{{}}}", items.join(", "))
}

/// `json.loads` of what [`dumps`] writes (`None`: a JSONDecodeError).
fn loads(text: &str) -> Option<BTreeMap<String, i64>> {
    let inner = text.trim().strip_prefix('{')?.strip_suffix('}')?.trim();
    if inner.is_empty() {
        return Some(BTreeMap::new());
    }
    inner
        .split(',')
        .map(|kv| {
            let (k, v) = kv.split_once(':')?;
            let k = k.trim().strip_prefix('"')?.strip_suffix('"')?;
            Some((k.to_owned(), v.trim().parse().ok()?))
        })
        .collect()
}

/// `ConfigFileManager.update_config(updates)`: open 'r+b', write lock (whole file), read,
/// update, seek(0), write, truncate, flush, release, close.
fn update_config<B: Fs>(updates: &[(&str, i64)]) -> bool {
    let mut lock = WindowsReadWriteLock::<B>::new(CONFIG_FILE);
    if !lock.open_file("r+b") {
        return false;
    }
    let ok = if lock.acquire_write_lock(0, 0) {
        let f = lock.fh();
        py(f.seek(0, 0));
        let content = String::from_utf8_lossy(&py(f.read(None))).into_owned();
        let parsed = if content.trim().is_empty() {
            Some(BTreeMap::new())
        } else {
            loads(&content)
        };
        let ok = match parsed {
            Some(mut config) => {
                for (k, v) in updates {
                    config.insert((*k).to_owned(), *v);
                }
                py(f.seek(0, 0));
                py(f.write(dumps(&config).as_bytes()));
                py(f.truncate(None));
                py(f.flush());
                true
            }
            None => false,
        };
        lock.release_lock();
        ok
    } else {
        false
    };
    lock.close_file();
    ok
}

/// `shutil.copy2(src, dst)`: read `src` through a new handle, write `dst` (metadata aside).
fn copy2<B: Fs>(src: &str, dst: &str) -> lockproof::Result<()> {
    let mut s = File::<B>::open(src, "rb")?;
    let data = s.read(None)?;
    s.close()?;
    let mut d = File::<B>::open(dst, "wb")?;
    d.write(&data)?;
    d.close()
}

/// `backup_config`: exists check, open 'rb', read lock, `shutil.copy2`, release, close.
/// The backup's path, or the exception `copy2` raised.
fn backup_config<B: Fs>(suffix: u32) -> Option<lockproof::Result<String>> {
    os::stat::<B>(CONFIG_FILE).ok()?;
    let backup_file = format!("{CONFIG_FILE}.backup.{suffix}");
    let mut lock = WindowsReadWriteLock::<B>::new(CONFIG_FILE);
    if !lock.open_file("rb") {
        return None;
    }
    let r = if lock.acquire_read_lock(0, 0) {
        let r = copy2::<B>(CONFIG_FILE, &backup_file).map(|()| backup_file);
        lock.release_lock();
        Some(r)
    } else {
        None
    };
    lock.close_file();
    r
}

/// ex-8.2-07: a process updates the (non-empty) config, another backs it up. Claim:
/// `backup_config` copies the config under its read lock and returns the backup's path.
fn ex_8_2_07<B: Fs>() {
    make::<B>(CONFIG_FILE, b"{\"debug\": 0}");
    let updater = start::<B>("updater", || {
        assert!(update_config::<B>(&[("workers", 4)]));
    });
    let backup = start::<B>("backup", || {
        let r = backup_config::<B>(1);
        ensure(matches!(r, Some(Ok(_))), "backup-config", || {
            format!(
                "backup_config() under its read lock: {:?}",
                r.map(|r| r.map_err(|e| e.python_repr()))
            )
        });
    });
    join_all::<B>(vec![updater, backup]);
}

/// ex-8.2-07-empty / -update: two processes `update_config` one key each, on an empty
/// (`EMPTY`) or a non-empty config file. Claim: both keys are kept.
fn ex_8_2_07_updates<B: Fs, const EMPTY: bool>() {
    make::<B>(CONFIG_FILE, if EMPTY { b"" } else { b"{}" });
    let ps = [("a", 1), ("b", 2)]
        .into_iter()
        .map(|(k, v)| {
            start::<B>(&format!("update-{k}"), move || {
                update_config::<B>(&[(k, v)]);
            })
        })
        .collect();
    join_all::<B>(ps);
    let text = crate::read_text::<B>(CONFIG_FILE);
    let config = loads(&text).unwrap_or_default();
    ensure(config.len() == 2, "no-lost-update", || {
        format!("config after update_config(a) and update_config(b): {text:?}")
    });
}

fn ex_8_2_07_empty<B: Fs>() {
    ex_8_2_07_updates::<B, true>()
}

fn ex_8_2_07_update<B: Fs>() {
    ex_8_2_07_updates::<B, false>()
}

/// The scenarios of this section.
pub fn scenarios() -> Vec<Scenario> {
    vec![
        Scenario::new(
            "ex-8.2-01",
            "WindowsFileLock demo: lock [0, 20) with LK_LOCK, overwrite, sleep, unlock; a second process's lock_region(0, 20, LK_NBLCK) meanwhile",
            bodies!(ex_8_2_01),
        )
        .violates("already-locked-detected", "msvcrt.locking raises OSError from the CRT errno: a refused LK_NBLCK is errno 13 (EACCES), LK_LOCK's timeout 36 (EDEADLOCK); `e.errno == 33` (the Win32 ERROR_LOCK_VIOLATION) never matches, so contention is logged as a generic failure")
        .threads(1),
        Scenario::new(
            "ex-8.2-01-fixed",
            "ex-8.2-01 testing e.errno in (EACCES, EDEADLOCK)",
            bodies!(ex_8_2_01_fixed),
        )
        .holds("the demo's region excludes the contender (errno 13, now logged as 'already locked') while a disjoint region [20, 40) is free; the file holds 100 bytes and the hold lasts 0.1 s")
        .source("ex-8.2-01")
        .threads(1),
        Scenario::new(
            "ex-8.2-02",
            "AdvancedWindowsLock.lock_multiple_regions([(0,10),(10,10),(30,10)], LK_NBLCK) while another process holds [10, 20)",
            bodies!(ex_8_2_02),
        )
        .violates("all-regions-locked", "lock_multiple_regions skips a region it cannot lock and returns True when any was locked: the caller holds 2 of 3 regions (and its write into [10, 20) would fail with PermissionError, the other handle's lock being mandatory)")
        .threads(1),
        Scenario::new(
            "ex-8.2-03",
            "WindowsReadWriteLock: two processes acquire_read_lock() on the same file",
            bodies!(ex_8_2_03),
        )
        .violates("shared-lock-concurrency", "LK_RLCK is the same as LK_LOCK (exclusive): the second reader's tries are refused until the first releases, so it waits ~1 s instead of sharing")
        .threads(2),
        Scenario::new(
            "ex-8.2-03-upgrade",
            "WindowsReadWriteLock upgrade: read under the read lock, acquire_write_lock(), write back; a concurrent writer",
            bodies!(ex_8_2_03_upgrade),
        )
        .violates("no-lost-update", "acquire_write_lock upgrades by release_lock() then LK_LOCK: the writer takes the region in the gap, increments, and the upgrader then writes back the value it read before: one increment is lost")
        .source("ex-8.2-03")
        .threads(2),
        Scenario::new(
            "ex-8.2-04",
            "WindowsLockMonitor probing byte 0 (LK_NBLCK + LK_UNLCK) while a worker holds [5, 10)",
            bodies!(ex_8_2_04),
        )
        .violates("probe-accuracy", "the probe locks byte 0 only: a region elsewhere in the file is never seen, so the monitor reports 'unlocked' (a successful probe) while the worker holds [5, 10)")
        .threads(2),
        Scenario::new(
            "ex-8.2-05",
            "DatabaseFileProtector.execute_read_operation with a query that reads the DB file as an engine does (its own handle)",
            bodies!(ex_8_2_05),
        )
        .violates("db-engine-io", "Windows byte-range locks are mandatory and per handle: the protector's region (taken through its handle) makes the engine's own read of the file fail with PermissionError, even in the same process")
        .threads(1),
        Scenario::new(
            "ex-8.2-05-sleep",
            "DatabaseFileProtector: two execute_read_operation(example_read_operation) at once",
            bodies!(ex_8_2_05_sleep),
        )
        .violates("shared-lock-concurrency", "the 'read lock' is LK_RLCK, exclusive: the second reader's acquire_read_lock waits for the first's release (its retry comes 1 s later), so the reads run one after the other")
        .source("ex-8.2-05")
        .threads(2),
        Scenario::new(
            "ex-8.2-05-transaction",
            "DatabaseFileProtector.try_transaction from two processes",
            bodies!(ex_8_2_05_transaction),
        )
        .holds("try_acquire_write_lock (LK_NBLCK over the whole 64-byte file) admits one transaction at a time; the other retries every 0.1 s and gets in within the 0.5 s timeout, so both return True and their operations never overlap")
        .source("ex-8.2-05")
        .threads(2),
        Scenario::new(
            "ex-8.2-06",
            "ConcurrentLogFile: 2 processes × (write_log_entry + write_multiple_entries of 2)",
            bodies!(ex_8_2_06),
        )
        .holds("every region starts at an EOF measured before locking and spans 1024 bytes (or the batch + 100), so any two writers' regions overlap and they serialise; the O_APPEND writes land whole at the end: all 6 entries are in the log, whole")
        .threads(2),
        Scenario::new(
            "ex-8.2-06-crash",
            "ex-8.2-06 with a writer process that may be killed",
            bodies!(ex_8_2_06_crash),
        )
        .holds("a killed writer's regions are released with its handles (the simulation releases at once; Windows may take a moment), so the survivor's LK_LOCK is granted within its 10 tries; every entry a writer flushed is in the log, whole, and an entry cut off before its flush was never written")
        .crashes(1)
        .source("ex-8.2-06")
        .threads(2),
        Scenario::new(
            "ex-8.2-06-reader",
            "ConcurrentLogFile: write_log_entry and read_log_entries at the same time",
            bodies!(ex_8_2_06_reader),
        )
        .violates("read-log-entries", "read_log_entries reads without a lock through its own handle: while the writer holds [EOF, EOF + 1024), the reader's read of the file touches that region and fails with PermissionError (mandatory locks)")
        .source("ex-8.2-06")
        .threads(2),
        Scenario::new(
            "ex-8.2-07",
            "ConfigFileManager: update_config and backup_config (shutil.copy2 under the read lock)",
            bodies!(ex_8_2_07),
        )
        .violates("backup-config", "backup_config locks the config through its handle, then shutil.copy2 opens the config through a NEW handle: its read of the locked bytes fails with PermissionError (mandatory, per-handle locks)")
        .threads(2),
        Scenario::new(
            "ex-8.2-07-empty",
            "ConfigFileManager: two processes update_config on an empty config file",
            bodies!(ex_8_2_07_empty),
        )
        .violates("no-lost-update", "on an empty file acquire_write_lock(size=0) locks 0 bytes, which conflict with nothing: both processes read {} and the later write drops the other's key")
        .source("ex-8.2-07")
        .threads(2),
        Scenario::new(
            "ex-8.2-07-update",
            "ConfigFileManager: two processes update_config on a non-empty config file",
            bodies!(ex_8_2_07_update),
        )
        .holds("with a non-empty file both write locks cover byte 0, so the updates serialise (the second retries LK_LOCK 1 s later) and each reads the other's key before writing")
        .source("ex-8.2-07")
        .threads(2),
    ]
}

//! Section 8.1 (`fcntl.flock` and `fcntl` record locks) of the tutorial: its examples as
//! scenarios.
//!
//! | scenario | example | expected |
//! |---|---|---|
//! | `ex-8.1-01` | FileLockExample: a LOCK_SH reader and a LOCK_EX writer whose lock opens the file with `'w'` | no-lost-line |
//! | `ex-8.1-01-fixed` | the same, the exclusive lock opening with `'a'` | holds |
//! | `ex-8.1-02` | `query_file_status` on an `O_RDONLY` descriptor, `modify_file_flags` | access-mode-logged |
//! | `ex-8.1-03` | AdvancedFileLock: `acquire_with_timeout`, then `lock_file_region` with a dict | range-lock |
//! | `ex-8.1-03-handle` | the same, the caller carrying on after `lock_file_region` failed | mutual-exclusion |
//! | `ex-8.1-03-fixed` | `lock_file_region` as `fcntl.lockf` on the held handle | holds |
//! | `ex-8.1-04` | ProcessCooperativeLock: 2 processes × 2 acquisitions of an `O_CREAT\|O_EXCL` lock file | mutual-exclusion |
//! | `ex-8.1-04-stale` | the same lock left 31 s ago by a dead holder, 2 waiters | mutual-exclusion |
//! | `ex-8.1-04-pause` | a holder paused 31 s inside its critical section | mutual-exclusion |
//! | `ex-8.1-04-crash` | a holder that may be killed | stale-lock-file |
//! | `ex-8.1-05` | ConcurrentWriteController: appends under AdvancedFileLock, then `release_lock()` | no-lost-line |
//! | `ex-8.1-05-fixed` | the same with a `release_lock` (LOCK_UN, close) | holds |
//! | `ex-8.1-06` | ConfigFileProtector: two `update_config` calls on a `key=value` file | no-lost-update |
//! | `ex-8.1-07` | SafeLogWriter (signature fixed): batches flushed under FileLockExample's `'w'` lock | no-lost-line |
//! | `ex-8.1-07-fixed` | the same, the exclusive lock opening with `'a'` | holds |

use crate::{all_exited, join_all, judge_lines, now, py, read_text, sleep, start, Fs};
use lockproof::file::fcntl::{self, LOCK_EX, LOCK_NB, LOCK_SH, LOCK_UN, SEEK_SET};
use lockproof::file::{os, Fd, File, OpenFlags};
use lockproof_scenario::prelude::*;
use std::collections::BTreeMap;

/// `errno.EAGAIN`.
const EAGAIN: i32 = 11;
/// `errno.EACCES`.
const EACCES: i32 = 13;
/// `errno.EEXIST`.
const EEXIST: i32 = 17;

/// `with open(path, 'w') as f: f.write(text)`.
fn write_file<B: Fs>(path: &str, text: &str) {
    let mut f = py(File::<B>::open(path, "w"));
    py(f.write(text.as_bytes()));
    py(f.close());
}

/// `with open(path, mode) as f: f.write(text)` for each of `texts`, one buffered file.
fn write_lines<B: Fs>(path: &str, mode: &str, texts: &[String]) {
    let mut f = py(File::<B>::open(path, mode));
    for t in texts {
        py(f.write(t.as_bytes()));
    }
    py(f.close());
}

// ---- ex-8.1-01: FileLockExample -------------------------------------------------------------

/// `FileLockExample`: one `file_handle`, replaced by every acquire (the old file object is
/// dropped, and CPython's refcounting closes it at once: its flock goes with it).
/// `FIXED`: the exclusive acquires open with `'a'` instead of `'w'` (no truncation).
struct FileLockExample<B: Fs, const FIXED: bool> {
    filename: &'static str,
    file_handle: Option<File<B>>,
}

impl<B: Fs, const FIXED: bool> FileLockExample<B, FIXED> {
    fn new(filename: &'static str) -> Self {
        FileLockExample {
            filename,
            file_handle: None,
        }
    }

    /// `self.file_handle = open(self.filename, mode)`, then `fcntl.flock(fileno, op)`;
    /// on any exception close whatever `self.file_handle` is and return False.
    fn acquire(&mut self, mode: &str, op: i32) -> bool {
        match File::<B>::open(self.filename, mode) {
            Ok(f) => self.file_handle = Some(f),
            Err(_) => {
                // `if self.file_handle: self.file_handle.close()`: the old handle.
                if let Some(h) = self.file_handle.take() {
                    py(h.close());
                }
                return false;
            }
        }
        let held = fcntl::flock(self.file_handle.as_ref().expect("just opened"), op);
        match held {
            Ok(()) => true,
            Err(_) => {
                if let Some(h) = self.file_handle.take() {
                    py(h.close());
                }
                false
            }
        }
    }

    /// `acquire_shared_lock`: `open(filename, 'r')`, `LOCK_SH`.
    fn acquire_shared_lock(&mut self) -> bool {
        self.acquire("r", LOCK_SH)
    }

    /// `acquire_exclusive_lock`: `open(filename, 'w')` — which truncates the file here,
    /// before the lock is asked for — then `LOCK_EX`.
    fn acquire_exclusive_lock(&mut self) -> bool {
        self.acquire(if FIXED { "a" } else { "w" }, LOCK_EX)
    }

    /// `release_lock`: `LOCK_UN` (an error is logged), then close, `file_handle = None`.
    fn release_lock(&mut self) {
        if let Some(h) = self.file_handle.take() {
            let _ = fcntl::flock(&h, LOCK_UN); // except: logger.error
            py(h.close());
        }
    }
}

/// The file of ex-8.1-01.
const TEST_LOCK: &str = "/tmp/test_lock.txt";
/// What `demo_basic_usage` writes first.
const SEED_LINE: &str = "测试内容";
/// What the exclusive section appends (`datetime.now()` left out: the judge must know the
/// line).
const EXCLUSIVE_LINE: &str = "排他操作完成于 <now>";

/// ex-8.1-01 (the demo's exclusive and shared sections, run by two processes at once
/// instead of one after the other). Claims: the exclusive section appends its line to the
/// file; the shared section, under LOCK_SH, reads the file's content. Judged: the reader
/// sees the test content (with or without the appended line), and the file ends holding
/// both lines.
fn ex_8_1_01_body<B: Fs, const FIXED: bool>() {
    write_file::<B>(TEST_LOCK, &format!("{SEED_LINE}\n"));
    let writer = start::<B>("exclusive", || {
        let mut lock = FileLockExample::<B, FIXED>::new(TEST_LOCK);
        if lock.acquire_exclusive_lock() {
            sleep::<B>(2.0); // 模拟长时间操作
            write_lines::<B>(TEST_LOCK, "a", &[format!("{EXCLUSIVE_LINE}\n")]);
        }
        lock.release_lock(); // __exit__
    });
    let reader = start::<B>("shared", || {
        let mut lock = FileLockExample::<B, FIXED>::new(TEST_LOCK);
        if lock.acquire_shared_lock() {
            sleep::<B>(1.0); // 模拟读取操作
            let content = read_text::<B>(TEST_LOCK);
            if !content.contains(SEED_LINE) {
                let appended = content.contains(EXCLUSIVE_LINE);
                let property = if appended {
                    "no-lost-line"
                } else {
                    "exclusive-excludes-shared"
                };
                ensure(false, property, || {
                    if appended {
                        format!("the reader, under LOCK_SH, read {content:?}: the test content was truncated by the writer's open(..., 'w')")
                    } else {
                        format!("the reader holds LOCK_SH yet read {content:?}: the writer's open(..., 'w') truncated the file before asking for LOCK_EX")
                    }
                });
            }
        }
        lock.release_lock();
    });
    join_all::<B>(vec![writer, reader]);
    let text = read_text::<B>(TEST_LOCK);
    judge_lines(&text, &[SEED_LINE.to_owned(), EXCLUSIVE_LINE.to_owned()]);
}

fn ex_8_1_01<B: Fs>() {
    ex_8_1_01_body::<B, false>()
}

fn ex_8_1_01_fixed<B: Fs>() {
    ex_8_1_01_body::<B, true>()
}

// ---- ex-8.1-02: F_GETFL / F_SETFL -----------------------------------------------------------

/// `query_file_status(filename)`: the messages it logs, and its result.
fn query_file_status<B: Fs>(filename: &str, log: &mut Vec<String>) -> Option<OpenFlags> {
    let fd = match Fd::<B>::open(filename, OpenFlags::RDONLY, 0o777) {
        Ok(fd) => fd,
        Err(e) => {
            log.push(format!("查询文件状态失败: {e}"));
            return None;
        }
    };
    let flags = match fd.get_fl() {
        Ok(f) => f,
        Err(e) => {
            log.push(format!("查询文件状态失败: {e}"));
            return None; // the descriptor leaks in Python; here it closes on drop
        }
    };
    log.push(format!("文件状态标志: {}", flags.bits()));
    if flags.bits() & OpenFlags::RDONLY.bits() != 0 {
        log.push("文件以只读模式打开".into());
    }
    if flags.bits() & OpenFlags::WRONLY.bits() != 0 {
        log.push("文件以只写模式打开".into());
    }
    if flags.bits() & OpenFlags::RDWR.bits() != 0 {
        log.push("文件以读写模式打开".into());
    }
    if flags.bits() & OpenFlags::APPEND.bits() != 0 {
        log.push("文件以追加模式打开".into());
    }
    py(fd.close());
    Some(flags)
}

/// `modify_file_flags(filename)`: `F_GETFL`, `| O_APPEND`, `F_SETFL` on an `O_WRONLY`
/// descriptor. Returns the result and whether `F_GETFL` then shows `O_APPEND`.
fn modify_file_flags<B: Fs>(filename: &str, log: &mut Vec<String>) -> (bool, bool) {
    let fd = match Fd::<B>::open(filename, OpenFlags::WRONLY, 0o777) {
        Ok(fd) => fd,
        Err(e) => {
            log.push(format!("修改文件标志失败: {e}"));
            return (false, false);
        }
    };
    let r = fd
        .get_fl()
        .and_then(|current| fd.set_fl(current | OpenFlags::APPEND));
    if let Err(e) = r {
        log.push(format!("修改文件标志失败: {e}"));
        return (false, false);
    }
    log.push("成功设置文件追加模式".into());
    let appends = py(fd.get_fl()).contains(OpenFlags::APPEND);
    py(fd.close());
    (true, appends)
}

/// ex-8.1-02 (one process; no driver in the tutorial: both functions on one file). Claims:
/// for a descriptor opened `O_RDONLY`, `query_file_status` logs "文件以只读模式打开";
/// `modify_file_flags` logs success and returns True (and the description is then in
/// append mode).
fn ex_8_1_02<B: Fs>() {
    const PATH: &str = "/tmp/status.txt";
    write_file::<B>(PATH, "x\n");
    let mut log = Vec::new();
    let flags = query_file_status::<B>(PATH, &mut log);
    let (ok, appends) = modify_file_flags::<B>(PATH, &mut log);
    ensure(ok && appends, "file-status-flags", || {
        format!("modify_file_flags returned {ok}, O_APPEND set afterwards: {appends}")
    });
    ensure(
        log.iter().any(|l| l == "文件以只读模式打开"),
        "access-mode-logged",
        || {
            format!(
                "an O_RDONLY descriptor (F_GETFL = {:?}) and no 文件以只读模式打开 in the log: \
                 flags & os.O_RDONLY is flags & 0, always 0; log: {log:?}",
                flags.map(|f| f.bits())
            )
        },
    );
}

// ---- ex-8.1-03: AdvancedFileLock ------------------------------------------------------------

/// CPython's `fcntl.fcntl(fd, cmd, arg)` with a dict as `arg`: the argument is tried as a
/// buffer, then parsed as a C int, and the call raises before any system call (checked on
/// CPython 3.11). lockproof's `fcntl_lock` takes a typed `Flock`, so this `TypeError` is a
/// compile error there and is modelled here as the value the call evaluates to.
const DICT_TYPE_ERROR: &str = "TypeError: 'dict' object cannot be interpreted as an integer";

/// `AdvancedFileLock` (it has no `release_lock`: a handle it holds is closed when it is
/// replaced or when the process exits). `FIXED`: `lock_file_region` takes a record lock
/// with `fcntl.lockf` on the handle it already holds.
struct AdvancedFileLock<B: Fs, const FIXED: bool> {
    filename: &'static str,
    file_handle: Option<File<B>>,
}

impl<B: Fs, const FIXED: bool> AdvancedFileLock<B, FIXED> {
    fn new(filename: &'static str) -> Self {
        AdvancedFileLock {
            filename,
            file_handle: None,
        }
    }

    /// `acquire_with_timeout(lock_type, timeout)`: open (`'r+'` or `'r'`), flock with
    /// `LOCK_NB`; on `EAGAIN`/`EACCES` close, sleep 0.1 s and retry until `timeout`; another
    /// error ends the loop (reported as a timeout).
    fn acquire_with_timeout(&mut self, exclusive: bool, timeout: f64) -> bool {
        let start_time = now::<B>();
        while now::<B>() - start_time < timeout {
            let opened = File::<B>::open(self.filename, if exclusive { "r+" } else { "r" });
            let r = opened.and_then(|f| {
                self.file_handle = Some(f);
                let mode = if exclusive { LOCK_EX } else { LOCK_SH };
                fcntl::flock(
                    self.file_handle.as_ref().expect("just opened"),
                    mode | LOCK_NB,
                )
            });
            match r {
                Ok(()) => return true, // 在 X.XXs 后获取锁成功
                Err(e) if matches!(e.errno(), Some(EAGAIN) | Some(EACCES)) => {
                    if let Some(h) = self.file_handle.take() {
                        py(h.close());
                    }
                    sleep::<B>(0.1);
                }
                Err(_) => break, // 获取锁时发生错误
            }
        }
        false // 在 {timeout}s 内无法获取锁
    }

    /// `lock_file_region(offset, length)`: `self.file_handle = open(filename, 'r+')` (the
    /// handle it replaces is closed, and its flock with it), then `fcntl.fcntl(fd,
    /// F_SETLK, dict)`, which raises `TypeError`, caught and logged: False.
    fn lock_file_region(&mut self, offset: i64, length: i64) -> Result<bool, &'static str> {
        if FIXED {
            let h = self
                .file_handle
                .as_ref()
                .expect("called while holding the flock");
            return Ok(fcntl::lockf(h, LOCK_EX | LOCK_NB, length, offset, SEEK_SET).is_ok());
        }
        match File::<B>::open(self.filename, "r+") {
            Ok(f) => self.file_handle = Some(f),
            Err(_) => return Ok(false),
        }
        Err(DICT_TYPE_ERROR) // logger.error(f"锁定文件区域失败: {e}"); return False
    }
}

/// The data file of ex-8.1-03 and ex-8.1-05.
const DATA: &str = "/tmp/data.txt";

/// What each process of ex-8.1-03 does: take the file exclusively (timeout 5 s → 0.3 s),
/// then, inside that critical section, lock bytes [0, 10) and work 0.2 s. `STRICT`: the
/// caller relies on the region lock (a failure is the claim's failure); otherwise it
/// carries on after the logged failure, as the example's False return lets it.
fn ex_8_1_03_worker<B: Fs, const FIXED: bool, const STRICT: bool>(cs: &Region<B>) {
    let mut lock = AdvancedFileLock::<B, FIXED>::new(DATA);
    if lock.acquire_with_timeout(true, 0.3) {
        let _in = cs.enter();
        let region = lock.lock_file_region(0, 10);
        if STRICT {
            ensure(region == Ok(true), "range-lock", || {
                match region {
                Err(e) => format!("lock_file_region(0, 10) raised {e} (caught, logged, False): bytes [0, 10) are not locked"),
                Ok(_) => "lock_file_region(0, 10) returned False".into(),
            }
            });
        }
        sleep::<B>(0.2);
    }
}

fn ex_8_1_03_body<B: Fs, const FIXED: bool, const STRICT: bool>() {
    write_file::<B>(DATA, "0123456789abcdef\n");
    let cs = Arc::new(Region::<B>::new("exclusive section", 1));
    let ps = (1..=2)
        .map(|i| {
            let cs = cs.clone();
            start::<B>(&format!("P{i}"), move || {
                ex_8_1_03_worker::<B, FIXED, STRICT>(&cs)
            })
        })
        .collect();
    join_all::<B>(ps);
}

fn ex_8_1_03<B: Fs>() {
    ex_8_1_03_body::<B, false, true>()
}

fn ex_8_1_03_handle<B: Fs>() {
    ex_8_1_03_body::<B, false, false>()
}

fn ex_8_1_03_fixed<B: Fs>() {
    ex_8_1_03_body::<B, true, true>()
}

// ---- ex-8.1-04: ProcessCooperativeLock ------------------------------------------------------

/// `os.path.join(tempfile.gettempdir(), "coop.lock")`.
const COOP_LOCK: &str = "/tmp/coop.lock";

/// `ProcessCooperativeLock("coop")`. `json.dump(lock_info)` writes the process id (the
/// other fields change nothing); `json.load` of anything else (an empty file) raises.
struct ProcessCooperativeLock<B: Fs> {
    lock_file: &'static str,
    _b: std::marker::PhantomData<B>,
}

impl<B: Fs> ProcessCooperativeLock<B> {
    fn new() -> Self {
        ProcessCooperativeLock {
            lock_file: COOP_LOCK,
            _b: std::marker::PhantomData,
        }
    }

    /// `acquire_lock(process_id, timeout)`.
    fn acquire_lock(&self, process_id: u32, timeout: f64) -> bool {
        let start_time = now::<B>();
        while now::<B>() - start_time < timeout {
            let flags = OpenFlags::CREAT | OpenFlags::EXCL | OpenFlags::WRONLY;
            match Fd::<B>::open(self.lock_file, flags, 0o777) {
                Ok(fd) => {
                    // with os.fdopen(fd, 'w') as f: json.dump(lock_info, f) — one write at close
                    py(fd.write(format!("{process_id}").as_bytes()));
                    py(fd.close());
                    return true; // 进程 {process_id} 获取锁成功
                }
                Err(e) if e.errno() == Some(EEXIST) => {
                    if self.is_lock_stale(30.0) {
                        self.cleanup_stale_lock();
                        continue;
                    }
                    sleep::<B>(0.1);
                }
                Err(_) => break, // 创建锁文件失败
            }
        }
        false // 在 {timeout}s 内无法获取锁
    }

    /// `_is_lock_stale(max_age_seconds)`: older than `max_age`, or `os.stat` failed.
    fn is_lock_stale(&self, max_age: f64) -> bool {
        match os::stat::<B>(self.lock_file) {
            Ok(st) => now::<B>() - st.mtime_ns as f64 / 1e9 > max_age,
            Err(_) => true,
        }
    }

    /// `_cleanup_stale_lock`: `os.remove`, an `OSError` logged.
    fn cleanup_stale_lock(&self) {
        let _ = os::unlink::<B>(self.lock_file);
    }

    /// `release_lock(process_id)`: if the file exists, read its owner; remove it if that is
    /// us; every exception is logged and gives False.
    fn release_lock(&self, process_id: u32) -> bool {
        if os::stat::<B>(self.lock_file).is_err() {
            return false; // 锁文件不存在
        }
        let Ok(mut f) = File::<B>::open(self.lock_file, "r") else {
            return false;
        };
        let text = py(f.read(None));
        py(f.close());
        let Ok(owner) = String::from_utf8_lossy(&text).trim().parse::<u32>() else {
            return false; // json.JSONDecodeError: 释放锁失败
        };
        if owner == process_id {
            os::unlink::<B>(self.lock_file).is_ok()
        } else {
            false // 不是锁的所有者,无法释放
        }
    }
}

/// One process of ex-8.1-04: after `delay`, `rounds` times: acquire (timeout 10 s); if
/// acquired, work `work` seconds believing it holds the lock (the region), then release.
/// Whether every acquire succeeded.
fn coop_worker<B: Fs>(id: u32, delay: f64, rounds: usize, work: f64, cs: &Region<B>) -> bool {
    let lock = ProcessCooperativeLock::<B>::new();
    if delay > 0.0 {
        sleep::<B>(delay);
    }
    let mut all = true;
    for _ in 0..rounds {
        if lock.acquire_lock(id, 10.0) {
            {
                let _holder = cs.enter();
                sleep::<B>(work);
            }
            lock.release_lock(id);
        } else {
            all = false;
        }
    }
    all
}

/// The region: processes that believe they hold `coop.lock`.
fn holders<B: Fs>() -> Arc<Region<B>> {
    Arc::new(Region::<B>::new("holds coop.lock", 1))
}

/// ex-8.1-04 (no driver in the tutorial: 2 processes, each acquiring twice and working
/// 0.1 s, the waiters' retry interval, so that a release and a retry fall at one instant).
/// Claims: `acquire_lock` returns True to one process at a time; a waiter retries
/// every 0.1 s; only a lock older than 30 s is cleaned up.
fn ex_8_1_04<B: Fs>() {
    let cs = holders::<B>();
    let ps = (1..=2)
        .map(|i| {
            let cs = cs.clone();
            start::<B>(&format!("P{i}"), move || {
                coop_worker::<B>(i, 0.0, 2, 0.1, &cs);
            })
        })
        .collect();
    join_all::<B>(ps);
}

/// ex-8.1-04 after a crash long ago: the lock file of process 9, killed while holding it,
/// is 31 s old when two processes each acquire once.
fn ex_8_1_04_stale<B: Fs>() {
    write_file::<B>(COOP_LOCK, "9");
    sleep::<B>(31.0);
    let cs = holders::<B>();
    let ps = (1..=2)
        .map(|i| {
            let cs = cs.clone();
            start::<B>(&format!("P{i}"), move || {
                coop_worker::<B>(i, 0.0, 1, 0.05, &cs);
            })
        })
        .collect();
    join_all::<B>(ps);
}

/// ex-8.1-04 with a late second process: P1 acquires at once and works 1 s; P2 comes at
/// 29.5 s. With `.pauses(1, 31 s)` the checker may stop P1 inside its critical section.
fn ex_8_1_04_pause<B: Fs>() {
    let cs = holders::<B>();
    let (c1, c2) = (cs.clone(), cs.clone());
    let ps = vec![
        start::<B>("P1", move || {
            coop_worker::<B>(1, 0.0, 1, 1.0, &c1);
        }),
        start::<B>("P2", move || {
            coop_worker::<B>(2, 29.5, 1, 1.0, &c2);
        }),
    ];
    join_all::<B>(ps);
}

/// ex-8.1-04 with a holder that may be killed: P1 works 1 s holding the lock, P2 comes at
/// 0.5 s and waits (timeout 10 s). The claim judged: the 30 s staleness rule cleans up a
/// dead holder's lock, so P2 gets it.
fn ex_8_1_04_crash<B: Fs>() {
    let cs = holders::<B>();
    let (c1, c2) = (cs.clone(), cs.clone());
    let p1 = start::<B>("P1", move || {
        coop_worker::<B>(1, 0.0, 1, 1.0, &c1);
    });
    let (tx, rx) = std::sync::mpsc::channel();
    let p2 = start::<B>("P2", move || {
        let _ = tx.send(coop_worker::<B>(2, 0.5, 1, 0.05, &c2));
    });
    let codes = join_all::<B>(vec![p1, p2]);
    let acquired = rx.try_recv().unwrap_or(false);
    ensure(
        !all_exited(&codes[1..]) || acquired,
        "stale-lock-file",
        || {
            format!(
                "P2 gave up after its 10 s timeout (P1 exit code {}): the lock file of a dead \
             holder counts as stale only at 30 s, so no waiter with the default timeout \
             ever cleans it up",
                codes[0]
            )
        },
    );
}

// ---- ex-8.1-05: ConcurrentWriteController ---------------------------------------------------

/// What `self.lock.release_lock()` raises: AdvancedFileLock has no such method.
const NO_RELEASE_LOCK: &str =
    "AttributeError: 'AdvancedFileLock' object has no attribute 'release_lock'";

/// `ConcurrentWriteController(data_file)`. `FIXED`: AdvancedFileLock gets a `release_lock`
/// (`LOCK_UN`, close).
struct ConcurrentWriteController<B: Fs, const FIXED: bool> {
    data_file: &'static str,
    lock: AdvancedFileLock<B, false>,
}

impl<B: Fs, const FIXED: bool> ConcurrentWriteController<B, FIXED> {
    /// `self.lock.release_lock()` in the `finally` blocks.
    fn release(&mut self) -> Result<(), &'static str> {
        if !FIXED {
            return Err(NO_RELEASE_LOCK);
        }
        if let Some(h) = self.lock.file_handle.take() {
            py(fcntl::flock(&h, LOCK_UN));
            py(h.close());
        }
        Ok(())
    }

    /// `safe_append_data(data, process_id)`; `Err` is the exception it raises.
    fn safe_append_data(&mut self, data: &str, process_id: u32) -> Result<bool, &'static str> {
        if !self.lock.acquire_with_timeout(true, 3.0) {
            return Ok(false); // 写入超时
        }
        let _current_size = py(os::stat::<B>(self.data_file)).size;
        let entry = format!("Process-{process_id}: {data}\n"); // the timestamp left out
        write_lines::<B>(self.data_file, "a", &[entry]);
        // 进程 {process_id} 写入完成,位置: {current_size}
        self.release()?; // finally
        Ok(true)
    }
}

/// ex-8.1-05 (3 processes × 5 appends → 2 × 2). Claims: each write appends its line under
/// the exclusive lock and returns True; all 4 lines end up in the file, intact.
fn ex_8_1_05_body<B: Fs, const FIXED: bool>() {
    write_file::<B>(DATA, "");
    let ps = (1..=2u32)
        .map(|i| {
            start::<B>(&format!("P{i}"), move || {
                let mut c = ConcurrentWriteController::<B, FIXED> {
                    data_file: DATA,
                    lock: AdvancedFileLock::new(DATA),
                };
                for j in 0..2 {
                    if c.safe_append_data(&format!("data-{j}"), i).is_err() {
                        return; // the AttributeError is uncaught: the process ends here
                    }
                }
            })
        })
        .collect();
    join_all::<B>(ps);
    let expected: Vec<String> = (1..=2)
        .flat_map(|i| (0..2).map(move |j| format!("Process-{i}: data-{j}")))
        .collect();
    judge_lines(&read_text::<B>(DATA), &expected);
}

fn ex_8_1_05<B: Fs>() {
    ex_8_1_05_body::<B, false>()
}

fn ex_8_1_05_fixed<B: Fs>() {
    ex_8_1_05_body::<B, true>()
}

// ---- ex-8.1-06: ConfigFileProtector ---------------------------------------------------------

/// The config file of ex-8.1-06.
const CONFIG: &str = "/tmp/app.conf";

/// `ConfigFileProtector(config_file)`, over one FileLockExample.
struct ConfigFileProtector<B: Fs> {
    config_file: &'static str,
    lock: FileLockExample<B, false>,
}

/// Parse `key=value` lines.
fn parse_config(text: &str) -> BTreeMap<String, String> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect()
}

impl<B: Fs> ConfigFileProtector<B> {
    /// `read_config(process_id)`: under `acquire_shared_lock` (which replaces — and so
    /// closes — whatever handle the lock object held), `finally: release_lock()`.
    fn read_config(&mut self) -> BTreeMap<String, String> {
        if !self.lock.acquire_shared_lock() {
            return BTreeMap::new(); // 无法读取配置
        }
        let mut config = BTreeMap::new();
        if os::stat::<B>(self.config_file).is_ok() {
            let mut f = py(File::<B>::open(self.config_file, "r"));
            let text = py(f.read(None));
            py(f.close());
            config = parse_config(&String::from_utf8_lossy(&text));
        }
        self.lock.release_lock(); // finally
        config
    }

    /// `update_config(updates, process_id)`: under `acquire_exclusive_lock`, read, merge,
    /// rewrite with `'w'`; `finally: release_lock()`. The region is the section the
    /// exclusive lock is meant to protect.
    fn update_config(&mut self, updates: &[(&str, &str)], cs: &Region<B>) -> bool {
        if !self.lock.acquire_exclusive_lock() {
            return false; // 无法更新配置
        }
        {
            let _in = cs.enter();
            let mut config = self.read_config();
            for (k, v) in updates {
                config.insert((*k).to_owned(), (*v).to_owned());
            }
            let lines: Vec<String> = config.iter().map(|(k, v)| format!("{k}={v}\n")).collect();
            write_lines::<B>(self.config_file, "w", &lines);
        }
        self.lock.release_lock(); // finally: file_handle is None by now
        true
    }
}

/// ex-8.1-06 (a config `a=1`; two processes each add one key). Claims: `update_config`
/// merges its updates into the existing config, and the lock prevents conflicting
/// concurrent modifications: the file ends with `a`, `b` and `c`.
fn ex_8_1_06<B: Fs>() {
    write_file::<B>(CONFIG, "a=1\n");
    let cs = Arc::new(Region::<B>::new("update_config", 1));
    let ps = [("P1", "b", "2"), ("P2", "c", "3")]
        .into_iter()
        .map(|(name, k, v)| {
            let cs = cs.clone();
            start::<B>(name, move || {
                let mut p = ConfigFileProtector::<B> {
                    config_file: CONFIG,
                    lock: FileLockExample::new(CONFIG),
                };
                p.update_config(&[(k, v)], &cs);
            })
        })
        .collect();
    join_all::<B>(ps);
    let text = read_text::<B>(CONFIG);
    let config = parse_config(&text);
    let missing: Vec<&str> = ["a", "b", "c"]
        .into_iter()
        .filter(|k| !config.contains_key(*k))
        .collect();
    ensure(missing.is_empty(), "no-lost-update", || {
        format!("the config lost {missing:?}; file: {text:?}")
    });
}

// ---- ex-8.1-07: SafeLogWriter ---------------------------------------------------------------

/// The log of ex-8.1-07.
const APP_LOG: &str = "/tmp/app.log";

/// `SafeLogWriter(log_file)` (buffer 100 → 2), over one FileLockExample.
struct SafeLogWriter<B: Fs, const FIXED: bool> {
    log_file: &'static str,
    lock: FileLockExample<B, FIXED>,
    buffer: Vec<String>,
    buffer_size: usize,
}

impl<B: Fs, const FIXED: bool> SafeLogWriter<B, FIXED> {
    /// `log_message(level, message, process_id)`.
    fn log_message(&mut self, level: &str, message: &str, process_id: u32) -> bool {
        self.buffer
            .push(format!("[{level}] Process-{process_id}: {message}"));
        if self.buffer.len() >= self.buffer_size {
            return self.flush_buffer();
        }
        true
    }

    /// `flush_buffer(process_id)`: under `acquire_exclusive_lock`, append the buffer.
    fn flush_buffer(&mut self) -> bool {
        if self.buffer.is_empty() {
            return true;
        }
        if !self.lock.acquire_exclusive_lock() {
            return false; // 无法刷新日志缓冲区
        }
        let lines: Vec<String> = self.buffer.iter().map(|e| format!("{e}\n")).collect();
        write_lines::<B>(self.log_file, "a", &lines);
        self.buffer.clear();
        self.lock.release_lock(); // finally
        true
    }
}

/// ex-8.1-07 with the signature made valid (`rotate_log(self, process_id, max_size_mb=10)`;
/// as written the class is a SyntaxError). 2 processes each log 2 messages (buffer 2: one
/// flush each); the 10 MB rotation threshold is never reached at this scale. Claims: the
/// locks make the log writes atomic; every flushed entry is in the log.
fn ex_8_1_07_body<B: Fs, const FIXED: bool>() {
    let ps = (1..=2u32)
        .map(|i| {
            start::<B>(&format!("P{i}"), move || {
                let mut w = SafeLogWriter::<B, FIXED> {
                    log_file: APP_LOG,
                    lock: FileLockExample::new(APP_LOG),
                    buffer: Vec::new(),
                    buffer_size: 2,
                };
                for j in 0..2 {
                    w.log_message("INFO", &format!("message {j}"), i);
                }
            })
        })
        .collect();
    join_all::<B>(ps);
    let expected: Vec<String> = (1..=2)
        .flat_map(|i| (0..2).map(move |j| format!("[INFO] Process-{i}: message {j}")))
        .collect();
    judge_lines(&read_text::<B>(APP_LOG), &expected);
}

fn ex_8_1_07<B: Fs>() {
    ex_8_1_07_body::<B, false>()
}

fn ex_8_1_07_fixed<B: Fs>() {
    ex_8_1_07_body::<B, true>()
}

/// The scenarios of section 8.1.
pub fn scenarios() -> Vec<Scenario> {
    vec![
        Scenario::new(
            "ex-8.1-01",
            "FileLockExample: a LOCK_SH reader and a LOCK_EX writer whose acquire_exclusive_lock opens the file with 'w'",
            bodies!(ex_8_1_01),
        )
        .violates("no-lost-line", "acquire_exclusive_lock's open(filename, 'w') truncates the file before LOCK_EX is asked for: the test content is gone in every execution, and a reader holding LOCK_SH can read the file emptied under its lock")
        .or_violates("exclusive-excludes-shared")
        .source("ex-8.1-01"),
        Scenario::new(
            "ex-8.1-01-fixed",
            "FileLockExample with the exclusive lock opening the file with 'a' (no truncation before the lock)",
            bodies!(ex_8_1_01_fixed),
        )
        .holds("without the truncation the reader, under LOCK_SH, sees the test content (alone or with the appended line) and the file ends with both lines")
        .source("ex-8.1-01"),
        Scenario::new(
            "ex-8.1-02",
            "query_file_status on an O_RDONLY descriptor, then modify_file_flags (F_GETFL/F_SETFL)",
            bodies!(ex_8_1_02),
        )
        .violates("access-mode-logged", "O_RDONLY is 0, so `flags & os.O_RDONLY` is always 0: the read-only message is never logged for a read-only descriptor (the access mode is flags & O_ACCMODE)")
        .threads(0)
        .source("ex-8.1-02"),
        Scenario::new(
            "ex-8.1-03",
            "AdvancedFileLock: acquire_with_timeout (flock LOCK_NB retries), then lock_file_region(0, 10) inside the exclusive section",
            bodies!(ex_8_1_03),
        )
        .violates("range-lock", "lock_file_region passes a dict as fcntl.fcntl's third argument: TypeError ('dict' object cannot be interpreted as an integer), caught and logged; no byte range is ever locked")
        .source("ex-8.1-03"),
        Scenario::new(
            "ex-8.1-03-handle",
            "AdvancedFileLock: the caller carries on after lock_file_region's logged failure",
            bodies!(ex_8_1_03_handle),
        )
        .violates("mutual-exclusion", "lock_file_region assigns a new open() to self.file_handle: the replaced file object, which held the flock, is closed, so the other process's next LOCK_NB retry succeeds while the first is still in its exclusive section")
        .source("ex-8.1-03"),
        Scenario::new(
            "ex-8.1-03-fixed",
            "AdvancedFileLock with lock_file_region as fcntl.lockf(fd, LOCK_EX|LOCK_NB, length, offset) on the held handle",
            bodies!(ex_8_1_03_fixed),
        )
        .holds("the range lock is taken on the descriptor that holds the flock: it succeeds, nothing is reopened, and the flock keeps the sections apart")
        .source("ex-8.1-03"),
        Scenario::new(
            "ex-8.1-04",
            "ProcessCooperativeLock: 2 processes each acquire an O_CREAT|O_EXCL lock file twice",
            bodies!(ex_8_1_04),
        )
        .violates("mutual-exclusion", "_is_lock_stale returns True when os.stat fails: a waiter whose create failed, then whose stat found the file just released, removes the lock file the releaser has meanwhile created anew, then creates its own: two holders")
        .not_for("pct", "the race needs the waiter preempted three times at exact points (after its failed create, after its stat, before its remove); PCT at the CLI's depths (at most 3, two priority changes) found nothing in 6000 schedules, while loom, random and dfs find it")
        .source("ex-8.1-04"),
        Scenario::new(
            "ex-8.1-04-stale",
            "ProcessCooperativeLock: a dead holder's lock file 31 s old, two waiters",
            bodies!(ex_8_1_04_stale),
        )
        .violates("mutual-exclusion", "both waiters judge the lock stale; one removes it and creates its own, the other then removes that fresh file and creates another: two holders (stat → stale → remove by name → create is not atomic)")
        .source("ex-8.1-04"),
        Scenario::new(
            "ex-8.1-04-pause",
            "ProcessCooperativeLock: a holder paused 31 s inside its critical section, a second process arriving at 29.5 s",
            bodies!(ex_8_1_04_pause),
        )
        .violates("mutual-exclusion", "a holder stopped past the 30 s age is judged stale although alive: the waiter removes its lock file, creates its own and enters; the holder resumes inside its critical section")
        .pauses(1, Duration::from_secs(31))
        .source("ex-8.1-04"),
        Scenario::new(
            "ex-8.1-04-crash",
            "ProcessCooperativeLock: a holder that may be killed while a second process waits (timeout 10 s)",
            bodies!(ex_8_1_04_crash),
        )
        .violates("stale-lock-file", "a killed holder leaves its lock file; acquire_lock's default timeout (10 s) is shorter than the staleness age (30 s), so the waiter gives up before the file ever counts as stale")
        .crashes(1)
        .source("ex-8.1-04"),
        Scenario::new(
            "ex-8.1-05",
            "ConcurrentWriteController: 2 processes × 2 appends under AdvancedFileLock, each followed by self.lock.release_lock()",
            bodies!(ex_8_1_05),
        )
        .violates("no-lost-line", "AdvancedFileLock has no release_lock: the finally block raises AttributeError after the first append, the process ends there, and its second line is never written")
        .source("ex-8.1-05"),
        Scenario::new(
            "ex-8.1-05-fixed",
            "ConcurrentWriteController with a release_lock (LOCK_UN, close)",
            bodies!(ex_8_1_05_fixed),
        )
        .holds("each append runs under LOCK_EX on the data file and is written whole with O_APPEND: the 4 lines are all there, intact")
        .source("ex-8.1-05"),
        Scenario::new(
            "ex-8.1-06",
            "ConfigFileProtector: two processes update_config a=1 with b=2 and c=3",
            bodies!(ex_8_1_06),
        )
        .violates("no-lost-update", "acquire_exclusive_lock opens the config with 'w', truncating it: read_config finds it empty, the rewrite keeps only the updates, and a=1 is lost")
        .or_violates("mutual-exclusion")
        .source("ex-8.1-06"),
        Scenario::new(
            "ex-8.1-07",
            "SafeLogWriter (rotate_log's signature made valid): 2 processes flush 2 entries each under FileLockExample's exclusive lock",
            bodies!(ex_8_1_07),
        )
        .violates("no-lost-line", "each flush takes the lock through open(log, 'w'), which truncates the log: a later flush erases the batch an earlier one wrote")
        .source("ex-8.1-07"),
        Scenario::new(
            "ex-8.1-07-fixed",
            "SafeLogWriter with the exclusive lock opening the log with 'a'",
            bodies!(ex_8_1_07_fixed),
        )
        .holds("without the truncation every batch is appended whole under LOCK_EX: the 4 entries are all in the log")
        .source("ex-8.1-07"),
    ]
}

//! Section 8.3 (exclusive and shared locks built from lock files) of the tutorial: its
//! examples as scenarios.
//!
//! | scenario | example | expected |
//! |---|---|---|
//! | `ex-8.3-01` | ExclusiveLock as written (`os` imported only inside `acquire`), 2 worker processes | stale-lock-file |
//! | `ex-8.3-01-fixed` | the same with `import os` at module level | holds |
//! | `ex-8.3-01-fixed-reacquire` | the fixed lock; Worker-1 takes it twice while Worker-2 waits | mutual-exclusion |
//! | `ex-8.3-01-fixed-pause` | the fixed lock; the first holder may be paused past the staleness age | mutual-exclusion |
//! | `ex-8.3-02` | AdvancedExclusiveLock: owner/count under a `threading.Lock`, FIFO hand-off | lock-released |
//! | `ex-8.3-03` | SharedLock: every reader takes the writer lock file | shared-lock-concurrency |
//! | `ex-8.3-04` | ReadWriteLock (writer priority): `wait()` on a plain Lock | no-uncaught-exception |
//! | `ex-8.3-04-status` | ReadWriteLock without priority, a reader calls `get_status` | deadlock |
//! | `ex-8.3-04-nopriority` | ReadWriteLock without priority, 1 writer and 2 readers | holds |
//! | `ex-8.3-05` | ConcurrentCache: TTL, LRU, `get_stats` over the ReadWriteLock | no-uncaught-exception |
//! | `ex-8.3-06` | DatabaseConnectionPool as written: `acquire('get_connection', blocking=True)` | no-uncaught-exception |
//! | `ex-8.3-06-fixed` | the pool with its calls fixed, over the fixed ExclusiveLock | holds |
//! | `ex-8.3-07` | ConfigFileManager: 2 processes, `atomic_update` under per-process RW locks | no-lost-update |
//!
//! Scale: the lock file's timeout (30 s) and staleness age (60 s) become 0.5 s and 1.0 s
//! (their ratio kept), the 0.1 s polling stays 0.1 s; caches' TTLs become seconds.
//!
//! Python exceptions that `lockproof::Error` has no class for (`NameError`,
//! `AttributeError`, `TypeError`, the examples' own `RuntimeError`s, `JSONDecodeError`)
//! are [`Raised`]: the traceback's last line. Where the example catches one (`except
//! Exception`), the model catches it there; one that escapes a thread or a process ends
//! its target there: a thread's is judged at once (`no-uncaught-exception`: every example
//! of this section claims its calls return a result), a worker process's is written to
//! the checker's view of its stderr and judged by main.

use crate::{join_all, py, read_text, sleep, start, Fs};
use lockproof::file::{os, Fd, File, OpenFlags};
use lockproof_scenario::prelude::*;
use std::collections::{BTreeMap, VecDeque};
use std::marker::PhantomData;
use std::sync::Mutex;

/// A Python exception the example raises that `lockproof::Error` does not model: the
/// last line of its traceback (`NameError: name 'os' is not defined`).
type Raised = String;

/// The result of a Python call that may raise a [`Raised`] exception.
type PyResult<T> = Result<T, Raised>;

/// `time.time()` on the file system's clock (the one `st_mtime` is stamped from).
fn time<B: Fs>() -> f64 {
    os::time_ns::<B>() as f64 / 1e9
}

/// A thread's uncaught exception: the thread ends with a traceback, which the example's
/// claims do not allow.
fn uncaught(who: &str, e: &str) {
    ensure(false, "no-uncaught-exception", || {
        format!("Exception in thread {who}: {e}")
    });
}

/// `json.load` of a file holding `key=value` lines (the model's JSON): `None` is a
/// `JSONDecodeError` (an empty or torn file).
fn json_load(text: &str) -> Option<BTreeMap<String, String>> {
    if text.is_empty() || !text.ends_with('\n') {
        return None;
    }
    text.lines()
        .map(|l| l.split_once('=').map(|(k, v)| (k.to_owned(), v.to_owned())))
        .collect()
}

/// `json.dump(d, f)`: the model's JSON text.
fn json_dump(d: &BTreeMap<String, String>) -> String {
    d.iter().map(|(k, v)| format!("{k}={v}\n")).collect()
}

/// `with open(path, 'r') as f: return f.read()`.
fn read_file<B: Fs>(path: &str) -> lockproof::Result<String> {
    let mut f = File::<B>::open(path, "r")?;
    let bytes = f.read(None)?;
    f.close()?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

// ---- ex-8.3-01: ExclusiveLock ---------------------------------------------------------------

/// `ExclusiveLock(resource_name, timeout)`'s timeout, scaled (30 s → 0.5 s).
const TIMEOUT: f64 = 0.5;
/// `_is_lock_stale(max_age_seconds=60.0)`, scaled (60 s → 1.0 s).
const MAX_AGE: f64 = 1.0;
/// The retry sleep of `acquire` (kept: 0.1 s).
const POLL: f64 = 0.1;

/// The `NameError` every function but `acquire` raises as a standalone example: `os` is
/// imported only inside `acquire` (a local name there).
const NAME_ERROR_OS: &str = "NameError: name 'os' is not defined";

/// ExclusiveLock: a lock file `/tmp/.exclusive_lock_<name>` created with
/// `O_CREAT|O_EXCL|O_WRONLY` holding `{owner: 'Process-<pid>', ...}`. `OS`: `import os` at
/// module level (the fix); without it, `release`, `get_lock_info` and `_is_lock_stale`
/// raise `NameError`.
struct ExclusiveLock<B: Fs, const OS: bool> {
    resource_name: String,
    timeout: f64,
    lock_file: String,
    /// `self.owner`.
    owner: Mutex<Option<String>>,
    _b: PhantomData<fn() -> B>,
}

impl<B: Fs, const OS: bool> ExclusiveLock<B, OS> {
    fn new(resource_name: &str, timeout: f64) -> Self {
        ExclusiveLock {
            resource_name: resource_name.to_owned(),
            timeout,
            lock_file: format!("/tmp/.exclusive_lock_{resource_name}"),
            owner: Mutex::new(None),
            _b: PhantomData,
        }
    }

    fn owner(&self) -> Option<String> {
        self.owner.lock().unwrap().clone()
    }

    /// `acquire(blocking)`: `Ok(false)` on a non-blocking miss, a timeout, or another
    /// `OSError`; `Err` when `_is_lock_stale` raises.
    fn acquire(&self, blocking: bool) -> PyResult<bool> {
        let start_time = time::<B>();
        loop {
            // import os (a local of acquire); os.open(O_CREAT | O_EXCL | O_WRONLY)
            let flags = OpenFlags::CREAT | OpenFlags::EXCL | OpenFlags::WRONLY;
            match Fd::<B>::open(&self.lock_file, flags, 0o644) {
                Ok(fd) => {
                    let owner = format!("Process-{}", os::getpid::<B>());
                    // with os.fdopen(fd, 'w') as f: json.dump(lock_info, f): one write at
                    // the close of the buffered file.
                    let body = format!("owner={owner}\nthread_id={}\n", B::current_thread());
                    py(fd.write(body.as_bytes()));
                    py(fd.close());
                    *self.owner.lock().unwrap() = Some(owner);
                    return Ok(true); // 独占锁获取成功
                }
                Err(e) if e.errno() == Some(17) => {
                    if !blocking {
                        return Ok(false); // 独占锁获取失败(非阻塞)
                    }
                    if time::<B>() - start_time > self.timeout {
                        return Ok(false); // 独占锁获取超时
                    }
                    if self.is_lock_stale()? {
                        self.cleanup_stale_lock();
                        continue;
                    }
                    sleep::<B>(POLL);
                }
                Err(_) => return Ok(false), // 创建锁文件失败
            }
        }
    }

    /// `release()`: every exception is caught (`except Exception`) and gives `False`.
    fn release(&self) -> bool {
        if !OS {
            return false; // os.path.exists: NameError, caught: 释放锁失败
        }
        if os::stat::<B>(&self.lock_file).is_err() {
            return false; // 锁文件不存在
        }
        let Ok(text) = read_file::<B>(&self.lock_file) else {
            return false;
        };
        let Some(info) = json_load(&text) else {
            return false; // JSONDecodeError, caught
        };
        if info.get("owner") == self.owner().as_ref() {
            os::unlink::<B>(&self.lock_file).is_ok() // 独占锁释放成功
        } else {
            false // 尝试释放不属于自己的锁
        }
    }

    /// `_is_lock_stale()`: by mtime age; `True` when `os.stat` fails.
    fn is_lock_stale(&self) -> PyResult<bool> {
        if !OS {
            return Err(NAME_ERROR_OS.to_owned());
        }
        match os::stat::<B>(&self.lock_file) {
            Ok(st) => {
                let age = time::<B>() - st.mtime_ns as f64 / 1e9;
                Ok(age > MAX_AGE)
            }
            Err(_) => Ok(true),
        }
    }

    /// `_cleanup_stale_lock()`: `os.remove`, an `OSError` logged.
    fn cleanup_stale_lock(&self) {
        let _ = os::unlink::<B>(&self.lock_file); // 清理过期锁 / 清理过期锁失败
    }

    /// `with lock:` around `body`: `__enter__` raises `RuntimeError` when `acquire` fails,
    /// `__exit__` calls `release()` and ignores its result.
    fn with(&self, body: impl FnOnce()) -> PyResult<()> {
        if !self.acquire(true)? {
            return Err(format!(
                "RuntimeError: 无法获取独占锁: {}",
                self.resource_name
            ));
        }
        body();
        self.release();
        Ok(())
    }
}

/// What the checker sees of the worker processes: the critical section ("believes it holds
/// the lock") and their stderr (tracebacks).
struct Observe<B: Fs> {
    cs: Arc<Region<B>>,
    stderr: Arc<Shared<Vec<String>, B>>,
}

impl<B: Fs> Clone for Observe<B> {
    fn clone(&self) -> Self {
        Observe {
            cs: self.cs.clone(),
            stderr: self.stderr.clone(),
        }
    }
}

impl<B: Fs> Observe<B> {
    fn new(region: &str) -> Self {
        Observe {
            cs: Arc::new(Region::new(region, 1)),
            stderr: Arc::new(Shared::new(Vec::new()).with_name("stderr")),
        }
    }

    fn traceback(&self, who: &str, e: Raised) {
        self.stderr.update(|v| v.push(format!("{who}: {e}")));
    }
}

/// A worker process: `rounds` times `with ExclusiveLock('res'):` work 0.2 s in the
/// critical section.
fn ex_8_3_01_worker<B: Fs, const OS: bool>(name: &str, obs: &Observe<B>, rounds: usize) {
    let lock = ExclusiveLock::<B, OS>::new("res", TIMEOUT);
    for _ in 0..rounds {
        let r = lock.with(|| {
            let _in = obs.cs.enter();
            sleep::<B>(0.2);
        });
        if let Err(e) = r {
            obs.traceback(name, e);
            return;
        }
    }
}

/// ex-8.3-01 (a class with no driver: 2 worker processes; Worker-1 runs `ROUNDS` `with`
/// blocks, Worker-2 one, starting `DELAY_MS` ms after Worker-1). Claims: one holder at a
/// time; every worker gets the lock in turn (a holder keeps it 0.2 s, well within the 30 s
/// timeout); release removes the lock file.
fn ex_8_3_01_body<B: Fs, const OS: bool, const DELAY_MS: u64, const ROUNDS: usize>() {
    let obs = Observe::<B>::new("holds /tmp/.exclusive_lock_res");
    let o = obs.clone();
    let mut ps = vec![start::<B>("Worker-1", move || {
        ex_8_3_01_worker::<B, OS>("Worker-1", &o, ROUNDS)
    })];
    if DELAY_MS > 0 {
        sleep::<B>(DELAY_MS as f64 / 1000.0);
    }
    let o = obs.clone();
    ps.push(start::<B>("Worker-2", move || {
        ex_8_3_01_worker::<B, OS>("Worker-2", &o, 1)
    }));
    join_all::<B>(ps);
    let errors = obs.stderr.get();
    let left = os::stat::<B>("/tmp/.exclusive_lock_res").is_ok();
    ensure(!left, "stale-lock-file", || {
        format!(
            "every `with ExclusiveLock('res')` has exited, yet /tmp/.exclusive_lock_res is \
             still there ({:?}): release() returned False; stderr: {errors:?}",
            read_text::<B>("/tmp/.exclusive_lock_res")
        )
    });
    ensure(errors.is_empty(), "no-uncaught-exception", || {
        format!("a worker's `with` raised: {errors:?}")
    });
}

fn ex_8_3_01<B: Fs>() {
    ex_8_3_01_body::<B, false, 0, 1>()
}

fn ex_8_3_01_fixed<B: Fs>() {
    ex_8_3_01_body::<B, true, 0, 1>()
}

fn ex_8_3_01_fixed_pause<B: Fs>() {
    ex_8_3_01_body::<B, true, 800, 1>()
}

fn ex_8_3_01_fixed_reacquire<B: Fs>() {
    ex_8_3_01_body::<B, true, 0, 2>()
}

// ---- ex-8.3-02: AdvancedExclusiveLock --------------------------------------------------------

/// `queue.Queue()`: a deque under a mutex with a `not_empty` condition; `get()` blocks
/// while it is empty.
struct Queue<B: Backend> {
    not_empty: Condition<B>,
    items: Shared<VecDeque<String>, B>,
}

impl<B: Backend> Queue<B> {
    fn new(name: &str) -> Self {
        Queue {
            not_empty: Condition::new().with_name(&format!("{name}.not_empty")),
            items: Shared::new(VecDeque::new()).with_name(name),
        }
    }

    fn put(&self, item: String) {
        let _g = self.not_empty.lock();
        self.items.update(|q| q.push_back(item));
        py(self.not_empty.notify(1));
    }

    fn get(&self) -> String {
        let _g = self.not_empty.lock();
        while self.items.get().is_empty() {
            py(self.not_empty.wait(None));
        }
        self.items.update(|q| q.pop_front().unwrap())
    }

    fn empty(&self) -> bool {
        let _g = self.not_empty.lock();
        self.items.get().is_empty()
    }

    /// `self.waiting_queue = temp_queue`: the attribute now names a queue holding `items`.
    fn replace(&self, items: VecDeque<String>) {
        self.items.set(items);
    }
}

/// AdvancedExclusiveLock: `owner`/`acquire_count` guarded by a `threading.Lock`, a
/// `queue.Queue` of waiters, hand-off on release, waiters polling every 0.1 s.
struct AdvancedExclusiveLock<B: Backend> {
    timeout: f64,
    lock: Lock<B>,
    /// (`self.owner`, `self.acquire_count`).
    state: Shared<(Option<String>, u32), B>,
    waiting_queue: Queue<B>,
}

impl<B: Backend> AdvancedExclusiveLock<B> {
    fn new(timeout: f64) -> Self {
        AdvancedExclusiveLock {
            timeout,
            lock: Lock::new().with_name("self.lock"),
            state: Shared::new((None, 0)).with_name("owner, acquire_count"),
            waiting_queue: Queue::new("waiting_queue"),
        }
    }

    fn acquire(&self, requester_id: &str, blocking: bool) -> bool {
        let start_time = crate::now::<B>();
        {
            let _g = self.lock.lock();
            let (owner, _) = self.state.get();
            if owner.as_deref() == Some(requester_id) {
                self.state.update(|s| s.1 += 1); // 重入独占锁
                return true;
            }
            if owner.is_none() {
                self.state.set((Some(requester_id.to_owned()), 1)); // 独占锁获取成功
                return true;
            }
        }
        if !blocking {
            return false;
        }
        self.waiting_queue.put(requester_id.to_owned());
        while crate::now::<B>() - start_time < self.timeout {
            {
                let _g = self.lock.lock();
                if self.state.get().0.as_deref() == Some(requester_id) {
                    self.state.update(|s| s.1 += 1); // 等待后获取独占锁
                    return true;
                }
            }
            sleep::<B>(0.1);
        }
        self.remove_from_queue(requester_id);
        false // 独占锁获取超时
    }

    fn release(&self, requester_id: &str) -> bool {
        let _g = self.lock.lock();
        if self.state.get().0.as_deref() != Some(requester_id) {
            return false; // 尝试释放不持有的锁
        }
        let count = self.state.update(|s| {
            s.1 -= 1;
            s.1
        });
        if count == 0 {
            self.state.set((None, 0));
            if !self.waiting_queue.empty() {
                let next_owner = self.waiting_queue.get();
                self.state.set((Some(next_owner), 1)); // 锁传递给下一个等待者
            }
        }
        true
    }

    /// `_remove_from_queue` (without `self.lock`, as written).
    fn remove_from_queue(&self, requester_id: &str) {
        let mut temp = VecDeque::new();
        while !self.waiting_queue.empty() {
            let item = self.waiting_queue.get();
            if item != requester_id {
                temp.push_back(item);
            }
        }
        self.waiting_queue.replace(temp);
    }

    /// `get_status()`'s owner and acquire_count.
    fn get_status(&self) -> (Option<String>, u32) {
        let _g = self.lock.lock();
        self.state.get()
    }
}

/// ex-8.3-02 (a class with no driver: 2 threads each `acquire(id)`, work 0.2 s,
/// `release(id)`; timeout 30 s → 0.5 s). Claims: one owner at a time; release passes the
/// lock to the next waiter; once every acquire is matched by a release the lock is free.
fn ex_8_3_02<B: Backend>() {
    let lock = Arc::new(AdvancedExclusiveLock::<B>::new(0.5));
    let cs = Arc::new(Region::<B>::new("owns resource", 1));
    let threads: Vec<_> = ["t1", "t2"]
        .into_iter()
        .map(|id| {
            let (lock, cs) = (lock.clone(), cs.clone());
            B::spawn(id, move || {
                if lock.acquire(id, true) {
                    {
                        let _in = cs.enter();
                        sleep::<B>(0.2);
                    }
                    lock.release(id);
                }
            })
        })
        .collect();
    threads.into_iter().for_each(|t| t.join());
    let (owner, count) = lock.get_status();
    ensure(owner.is_none() && count == 0, "lock-released", || {
        format!(
            "both threads released, yet get_status() gives owner {owner:?}, acquire_count \
             {count}: release set the next waiter's count to 1 and the waiter's poll added 1 \
             more, so its one release leaves it the owner forever"
        )
    });
}

// ---- ex-8.3-03: SharedLock ------------------------------------------------------------------

/// SharedLock: a reader count under a `threading.Lock` plus the standalone ExclusiveLock
/// `'<name>_writer'` that every reader acquires first.
struct SharedLock<B: Fs> {
    readers_count: Shared<i64, B>,
    writer_lock: ExclusiveLock<B, false>,
    readers_lock: Lock<B>,
}

impl<B: Fs> SharedLock<B> {
    fn new(resource_name: &str) -> Self {
        SharedLock {
            readers_count: Shared::new(0).with_name("readers_count"),
            writer_lock: ExclusiveLock::new(&format!("{resource_name}_writer"), 30.0),
            readers_lock: Lock::new().with_name("readers_lock"),
        }
    }

    fn acquire_shared(&self, blocking: bool) -> PyResult<bool> {
        if !self.writer_lock.acquire(blocking)? {
            return Ok(false);
        }
        let _g = self.readers_lock.lock();
        self.readers_count.update(|n| *n += 1); // 共享锁获取成功 (读者数: n)
        Ok(true)
    }

    fn try_acquire_shared(&self) -> PyResult<bool> {
        self.acquire_shared(false)
    }

    fn release_shared(&self) -> bool {
        let _g = self.readers_lock.lock();
        if self.readers_count.get() == 0 {
            return false;
        }
        let n = self.readers_count.update(|n| {
            *n -= 1;
            *n
        });
        if n == 0 {
            self.writer_lock.release(); // 所有读者离开,释放写者锁
        }
        true
    }
}

/// ex-8.3-03 (no driver: reader r1 takes the shared lock, then reader r2 tries it while r1
/// is in; both threads of one process). Claim: many readers hold the shared lock at once,
/// so `try_acquire_shared` succeeds while only readers are in.
fn ex_8_3_03<B: Fs>() {
    let lock = Arc::new(SharedLock::<B>::new("data"));
    let r1_in = Arc::new(Event::<B>::new().with_name("r1 reading"));
    let r2_done = Arc::new(Event::<B>::new().with_name("r2 done"));
    let (l, a, b) = (lock.clone(), r1_in.clone(), r2_done.clone());
    let r1 = B::spawn("r1", move || match l.acquire_shared(true) {
        Ok(true) => {
            a.set();
            py(b.wait(None));
            l.release_shared();
        }
        Ok(false) => a.set(),
        Err(e) => uncaught("r1", &e),
    });
    let (l, a, b) = (lock.clone(), r1_in.clone(), r2_done.clone());
    let r2 = B::spawn("r2", move || {
        py(a.wait(None));
        let readers = l.readers_count.get();
        match l.try_acquire_shared() {
            Ok(got) => {
                ensure(got || readers == 0, "shared-lock-concurrency", || {
                    format!(
                        "r2's try_acquire_shared() returned False while only reader r1 \
                         (readers_count {readers}) holds the shared lock: every reader takes \
                         the writer lock file /tmp/.exclusive_lock_data_writer, which r1 holds"
                    )
                });
                if got {
                    l.release_shared();
                }
            }
            Err(e) => uncaught("r2", &e),
        }
        b.set();
    });
    r1.join();
    r2.join();
}

// ---- ex-8.3-04: ReadWriteLock ---------------------------------------------------------------

/// `AttributeError` of calling a `Condition` method on a plain `threading.Lock`.
fn no_attribute(method: &str) -> Raised {
    format!("AttributeError: '_thread.lock' object has no attribute '{method}'")
}

/// ReadWriteLock: `readers_lock` and `writers_lock` (plain Locks) with the Conditions
/// `readers_can_enter` and `writer_can_enter` on them.
struct ReadWriteLock<B: Backend> {
    writer_priority: bool,
    readers_count: Shared<i64, B>,
    writers_waiting: Shared<i64, B>,
    active_writer: Shared<Option<String>, B>,
    /// `Condition(self.readers_lock)`: `with self.readers_lock` is its `lock()`.
    readers_can_enter: Condition<B>,
    /// `Condition(self.writers_lock)`: `with self.writers_lock` is its `lock()`.
    writer_can_enter: Condition<B>,
}

/// `get_status()`'s fields: readers_count, writers_waiting, active_writer.
type RwStatus = (i64, i64, Option<String>);

impl<B: Backend> ReadWriteLock<B> {
    fn new(writer_priority: bool) -> Self {
        let readers_lock = Arc::new(Lock::new().with_name("readers_lock"));
        let writers_lock = Arc::new(Lock::new().with_name("writers_lock"));
        ReadWriteLock {
            writer_priority,
            readers_count: Shared::new(0).with_name("readers_count"),
            writers_waiting: Shared::new(0).with_name("writers_waiting"),
            active_writer: Shared::new(None).with_name("active_writer"),
            readers_can_enter: Condition::with_lock(readers_lock).with_name("readers_can_enter"),
            writer_can_enter: Condition::with_lock(writers_lock).with_name("writer_can_enter"),
        }
    }

    fn acquire_read(&self, blocking: bool) -> PyResult<bool> {
        {
            let _w = self.writer_can_enter.lock();
            // `while ...: self.writers_lock.wait()`: the first wait raises, so the loop
            // body runs at most once.
            if self.writer_priority
                && (self.writers_waiting.get() > 0 || self.active_writer.get().is_some())
            {
                if !blocking {
                    return Ok(false);
                }
                return Err(no_attribute("wait")); // self.writers_lock.wait()
            }
        }
        let _r = self.readers_can_enter.lock();
        while self.active_writer.get().is_some() {
            if !blocking {
                let _w = self.writer_can_enter.lock();
                return Err(no_attribute("notifyAll")); // self.writers_lock.notifyAll()
            }
            py(self.readers_can_enter.wait(None));
        }
        self.readers_count.update(|n| *n += 1); // 读锁获取成功
        Ok(true)
    }

    fn release_read(&self) -> bool {
        let _r = self.readers_can_enter.lock();
        if self.readers_count.get() == 0 {
            return false;
        }
        let n = self.readers_count.update(|n| {
            *n -= 1;
            *n
        });
        if n == 0 {
            py(self.readers_can_enter.notify(1));
        }
        true
    }

    fn acquire_write(&self, requester_id: &str, blocking: bool) -> bool {
        let _w = self.writer_can_enter.lock();
        self.writers_waiting.update(|n| *n += 1);
        let got = (|| {
            while self.active_writer.get().is_some() {
                if !blocking {
                    return false;
                }
                py(self.writer_can_enter.wait(None));
            }
            let _r = self.readers_can_enter.lock();
            while self.readers_count.get() > 0 {
                if !blocking {
                    return false;
                }
                py(self.readers_can_enter.wait(None));
            }
            self.active_writer.set(Some(requester_id.to_owned())); // 写锁获取成功
            true
        })();
        self.writers_waiting.update(|n| *n -= 1); // finally
        got
    }

    fn release_write(&self, requester_id: &str) -> bool {
        let _w = self.writer_can_enter.lock();
        if self.active_writer.get().as_deref() != Some(requester_id) {
            return false;
        }
        self.active_writer.set(None);
        py(self.writer_can_enter.notify(1));
        {
            let _r = self.readers_can_enter.lock();
            py(self.readers_can_enter.notify_all());
        }
        true
    }

    /// `get_status()`: `with self.readers_lock, self.writers_lock`.
    fn get_status(&self) -> RwStatus {
        let _r = self.readers_can_enter.lock();
        let _w = self.writer_can_enter.lock();
        (
            self.readers_count.get(),
            self.writers_waiting.get(),
            self.active_writer.get(),
        )
    }
}

/// The checker's readers-writer monitor: who is inside (readers, writers).
struct RwMonitor<B: Backend> {
    inside: Shared<(u32, u32), B>,
}

impl<B: Backend> RwMonitor<B> {
    fn new() -> Self {
        RwMonitor {
            inside: Shared::new((0, 0)).with_name("inside (readers, writers)"),
        }
    }

    fn read(&self, who: &str, secs: f64) {
        let (r, w) = self.inside.update(|s| {
            s.0 += 1;
            *s
        });
        ensure(w == 0, "exclusive-excludes-shared", || {
            format!("{who} reads while a writer writes ({r} readers, {w} writers inside)")
        });
        sleep::<B>(secs);
        self.inside.update(|s| s.0 -= 1);
    }

    fn write(&self, who: &str, secs: f64) {
        let (r, w) = self.inside.update(|s| {
            s.1 += 1;
            *s
        });
        ensure(r == 0 && w == 1, "exclusive-excludes-shared", || {
            format!("{who} writes with {r} readers and {w} writers inside")
        });
        sleep::<B>(secs);
        self.inside.update(|s| s.1 -= 1);
    }
}

/// A reader thread of ex-8.3-04: `acquire_read`, read 0.1 s (`get_status()` first when
/// `STATUS`), `release_read`.
fn rw_reader<B: Backend, const STATUS: bool>(
    rw: Arc<ReadWriteLock<B>>,
    mon: Arc<RwMonitor<B>>,
    who: &'static str,
) -> B::JoinHandle<()> {
    B::spawn(who, move || match rw.acquire_read(true) {
        Ok(true) => {
            if STATUS {
                rw.get_status();
            }
            mon.read(who, 0.1);
            rw.release_read();
        }
        Ok(false) => {}
        Err(e) => uncaught(who, &e),
    })
}

/// A writer thread of ex-8.3-04: `acquire_write`, write 0.1 s, `release_write`.
fn rw_writer<B: Backend>(
    rw: Arc<ReadWriteLock<B>>,
    mon: Arc<RwMonitor<B>>,
    who: &'static str,
) -> B::JoinHandle<()> {
    B::spawn(who, move || {
        if rw.acquire_write(who, true) {
            mon.write(who, 0.1);
            rw.release_write(who);
        }
    })
}

/// ex-8.3-04 (a class with no driver: a writer and a reader thread; `PRIORITY` is
/// `writer_priority`, True by default; `STATUS`: the reader calls `get_status()` while it
/// reads, as ConcurrentCache.get_stats does; `READERS` readers). Claims: readers share,
/// a writer excludes everyone, readers arriving while a writer waits or writes wait for
/// it, every call returns.
fn ex_8_3_04_body<B: Backend, const PRIORITY: bool, const STATUS: bool, const READERS: usize>() {
    let rw = Arc::new(ReadWriteLock::<B>::new(PRIORITY));
    let mon = Arc::new(RwMonitor::<B>::new());
    let mut ts = vec![rw_writer::<B>(rw.clone(), mon.clone(), "writer")];
    for who in ["reader-1", "reader-2"].into_iter().take(READERS) {
        ts.push(rw_reader::<B, STATUS>(rw.clone(), mon.clone(), who));
    }
    ts.into_iter().for_each(|t| t.join());
}

fn ex_8_3_04<B: Backend>() {
    ex_8_3_04_body::<B, true, false, 1>()
}

fn ex_8_3_04_status<B: Backend>() {
    ex_8_3_04_body::<B, false, true, 1>()
}

fn ex_8_3_04_nopriority<B: Backend>() {
    ex_8_3_04_body::<B, false, false, 2>()
}

// ---- ex-8.3-05: ConcurrentCache -------------------------------------------------------------

/// ConcurrentCache over `ReadWriteLock("cache", writer_priority=True)`.
struct ConcurrentCache<B: Backend> {
    max_size: usize,
    ttl_seconds: f64,
    /// key → (value, timestamp).
    cache: Shared<BTreeMap<String, (i64, f64)>, B>,
    access_order: Shared<BTreeMap<String, f64>, B>,
    rw_lock: ReadWriteLock<B>,
}

/// `get_stats()`: size, max_size, hit_rate, lock_status.
type CacheStats = (usize, usize, f64, RwStatus);

impl<B: Backend> ConcurrentCache<B> {
    fn new(max_size: usize, ttl_seconds: f64) -> Self {
        ConcurrentCache {
            max_size,
            ttl_seconds,
            cache: Shared::new(BTreeMap::new()).with_name("cache"),
            access_order: Shared::new(BTreeMap::new()).with_name("access_order"),
            rw_lock: ReadWriteLock::new(true),
        }
    }

    fn get(&self, key: &str) -> PyResult<Option<i64>> {
        if !self.rw_lock.acquire_read(true)? {
            return Ok(None);
        }
        let r = (|| {
            let (value, ts) = self.cache.get().get(key).copied()?;
            if crate::now::<B>() - ts > self.ttl_seconds {
                return None;
            }
            let t = crate::now::<B>();
            self.access_order.update(|a| a.insert(key.to_owned(), t));
            Some(value)
        })();
        self.rw_lock.release_read(); // finally
        Ok(r)
    }

    fn put(&self, key: &str, value: i64) -> bool {
        let id = format!("put_{key}");
        if !self.rw_lock.acquire_write(&id, true) {
            return false;
        }
        let cache = self.cache.get();
        if cache.len() >= self.max_size && !cache.contains_key(key) {
            self.evict_lru();
        }
        let t = crate::now::<B>();
        self.cache.update(|c| c.insert(key.to_owned(), (value, t)));
        let t = crate::now::<B>();
        self.access_order.update(|a| a.insert(key.to_owned(), t));
        self.rw_lock.release_write(&id);
        true
    }

    fn evict_lru(&self) {
        let order = self.access_order.get();
        let Some(lru_key) = order
            .iter()
            .min_by(|a, b| a.1.total_cmp(b.1))
            .map(|(k, _)| k.clone())
        else {
            return;
        };
        self.cache.update(|c| c.remove(&lru_key));
        self.access_order.update(|a| a.remove(&lru_key));
    }

    /// `get_stats()`: `hit_rate` is `getattr(self, '_hit_count', 0) / max(getattr(self,
    /// '_total_requests', 1), 1)`, attributes no method ever sets.
    fn get_stats(&self) -> PyResult<Option<CacheStats>> {
        if !self.rw_lock.acquire_read(true)? {
            return Ok(None);
        }
        let (hit_count, total_requests) = (0.0, 1.0);
        let stats = (
            self.cache.get().len(),
            self.max_size,
            hit_count / f64::max(total_requests, 1.0),
            self.rw_lock.get_status(),
        );
        self.rw_lock.release_read();
        Ok(Some(stats))
    }
}

/// ex-8.3-05 (a class with no driver; max_size 1000 → 2, TTL 300 s → 1 s): main puts `a`,
/// lets it expire, puts `b`; then a reader thread gets `a` and `b` while a writer thread
/// puts `c`; main reads the stats. Claims: an expired entry reads as None, a live one as
/// its value; put evicts the least recently used key at max_size; get never fails;
/// hit_rate is the share of hits.
fn ex_8_3_05<B: Backend>() {
    let cache = Arc::new(ConcurrentCache::<B>::new(2, 1.0));
    cache.put("a", 1);
    sleep::<B>(1.5);
    cache.put("b", 2);
    let c = cache.clone();
    let reader = B::spawn("reader", move || {
        let a = c.get("a");
        let b = a.and_then(|a| c.get("b").map(|b| (a, b)));
        match b {
            Ok((a, b)) => {
                ensure(a.is_none() && b == Some(2), "ttl-expiry", || {
                    format!("get('a') (expired) gave {a:?}, get('b') gave {b:?}")
                });
                true
            }
            Err(e) => {
                uncaught("reader", &e);
                false
            }
        }
    });
    let c = cache.clone();
    let writer = B::spawn("writer", move || {
        c.put("c", 3);
    });
    let hit = reader.join();
    writer.join();
    let keys: Vec<String> = cache.cache.get().into_keys().collect();
    ensure(keys == ["b", "c"], "lru-eviction", || {
        format!("after put('c') at max_size 2 the cache holds {keys:?}; `a` was the LRU key")
    });
    match cache.get_stats() {
        Ok(Some((_, _, hit_rate, _))) => {
            ensure(!hit || hit_rate > 0.0, "stats-accurate", || {
                format!(
                    "get('b') hit once in 2 requests, yet get_stats()['hit_rate'] is \
                     {hit_rate}: _hit_count and _total_requests are never set"
                )
            });
        }
        Ok(None) => {}
        Err(e) => uncaught("MainThread", &e),
    }
}

// ---- ex-8.3-06: DatabaseConnectionPool ------------------------------------------------------

/// The `TypeError` of `self.pool_lock.acquire("get_connection", blocking=True)`: the
/// string binds to `blocking`, then the keyword gives it again.
const TYPE_ERROR_ACQUIRE: &str =
    "TypeError: ExclusiveLock.acquire() got multiple values for argument 'blocking'";

/// DatabaseConnectionPool as written: the stats and the queue of pre-made connections.
struct DatabaseConnectionPool<B: Fs> {
    available: Queue<B>,
    stats_total_requests: Shared<u32, B>,
    _pool_lock: ExclusiveLock<B, false>,
}

impl<B: Fs> DatabaseConnectionPool<B> {
    fn new(max_connections: usize) -> Self {
        let pool = DatabaseConnectionPool {
            available: Queue::new("available_connections"),
            stats_total_requests: Shared::new(0).with_name("stats['total_requests']"),
            _pool_lock: ExclusiveLock::new("connection_pool", 30.0),
        };
        for i in 0..max_connections {
            pool.available.put(format!("conn_{i}")); // _initialize_pool
        }
        pool
    }

    /// `get_connection(requester_id)`: `stats['total_requests'] += 1`, then the call of
    /// `pool_lock.acquire` raises before it runs.
    fn get_connection(&self) -> PyResult<Option<String>> {
        let n = self.stats_total_requests.get();
        self.stats_total_requests.set(n + 1);
        Err(TYPE_ERROR_ACQUIRE.to_owned())
    }

    /// `execute_with_connection(requester_id, operation)`.
    fn execute_with_connection(&self, requester_id: &str) -> PyResult<()> {
        let Some(_connection_id) = self.get_connection()? else {
            return Err(format!("RuntimeError: 无法获取数据库连接: {requester_id}"));
        };
        unreachable!("get_connection raises TypeError before it returns")
    }
}

/// ex-8.3-06 (a class with no driver; max_connections 10 → 2): two requester threads each
/// `execute_with_connection`. Claims: get_connection returns a connection id (or None when
/// the pool is empty), the operation runs on it, the connection returns to the pool.
fn ex_8_3_06<B: Fs>() {
    let pool = Arc::new(DatabaseConnectionPool::<B>::new(2));
    let ts: Vec<_> = ["requester-1", "requester-2"]
        .into_iter()
        .map(|who| {
            let pool = pool.clone();
            B::spawn(who, move || {
                if let Err(e) = pool.execute_with_connection(who) {
                    uncaught(who, &e);
                }
            })
        })
        .collect();
    ts.into_iter().for_each(|t| t.join());
}

/// DatabaseConnectionPool with its calls fixed (`pool_lock.acquire(blocking=True)`,
/// `release()`, `try_acquire()`) over the fixed ExclusiveLock (`import os`).
struct FixedPool<B: Fs> {
    available: Queue<B>,
    /// `active_connections`: connection id → borrower.
    active: Shared<BTreeMap<String, String>, B>,
    pool_lock: ExclusiveLock<B, true>,
    /// `connection_locks`: the ids that have one (each `ExclusiveLock(f"conn_{id}")`).
    connection_locks: Shared<Vec<String>, B>,
    /// The checker's view: inside a `pool_lock` critical section.
    pool_cs: Region<B>,
    /// The checker's view: who uses each connection.
    using: [Region<B>; 2],
}

impl<B: Fs> FixedPool<B> {
    fn new() -> Self {
        let pool = FixedPool {
            available: Queue::new("available_connections"),
            active: Shared::new(BTreeMap::new()).with_name("active_connections"),
            pool_lock: ExclusiveLock::new("connection_pool", TIMEOUT),
            connection_locks: Shared::new(Vec::new()).with_name("connection_locks"),
            pool_cs: Region::new("holds pool_lock", 1),
            using: [Region::new("uses conn_0", 1), Region::new("uses conn_1", 1)],
        };
        for i in 0..2 {
            pool.available.put(format!("conn_{i}"));
        }
        pool
    }

    /// The per-connection lock of `id` (a fresh ExclusiveLock object on the same file, as
    /// `self.connection_locks[id]` is one object per borrow).
    fn connection_lock(id: &str) -> ExclusiveLock<B, true> {
        ExclusiveLock::new(&format!("conn_{id}"), TIMEOUT)
    }

    fn get_connection(&self, requester_id: &str) -> PyResult<Option<String>> {
        if !self.pool_lock.acquire(true)? {
            return Ok(None);
        }
        let r = {
            let _in = self.pool_cs.enter();
            if self.available.empty() {
                None // 连接池已空
            } else {
                let id = self.available.get();
                let (i, r) = (id.clone(), requester_id.to_owned());
                self.active.update(|a| a.insert(i, r));
                let i = id.clone();
                self.connection_locks.update(|l| l.push(i));
                Some(id) // 分配连接
            }
        };
        self.pool_lock.release(); // finally
        Ok(r)
    }

    fn release_connection(&self, id: &str, requester_id: &str) -> PyResult<bool> {
        if !self.pool_lock.acquire(true)? {
            return Ok(false);
        }
        let r = {
            let _in = self.pool_cs.enter();
            match self.active.get().get(id) {
                Some(borrower) if borrower == requester_id => {
                    if self.connection_locks.get().iter().any(|c| c == id) {
                        Self::connection_lock(id).release(); // already released: warns
                        self.connection_locks.update(|l| l.retain(|c| c != id));
                    }
                    self.available.put(id.to_owned());
                    self.active.update(|a| a.remove(id));
                    true // 回收连接
                }
                _ => false,
            }
        };
        self.pool_lock.release(); // finally
        Ok(r)
    }

    /// `execute_with_connection(requester_id, operation)`: the operation uses the
    /// connection 0.1 s.
    fn execute_with_connection(&self, requester_id: &str) -> PyResult<()> {
        let Some(id) = self.get_connection(requester_id)? else {
            return Err(format!("RuntimeError: 无法获取数据库连接: {requester_id}"));
        };
        let r = (|| {
            if self.connection_locks.get().contains(&id) {
                let lock = Self::connection_lock(&id);
                if !lock.acquire(true)? {
                    return Err(format!("RuntimeError: 无法锁定连接: {id}"));
                }
                {
                    let n: usize = id["conn_".len()..].parse().unwrap();
                    let _in = self.using[n].enter();
                    sleep::<B>(0.1);
                }
                lock.release();
            }
            Ok(())
        })();
        self.release_connection(&id, requester_id)?; // finally
        r
    }
}

/// ex-8.3-06 with the calls fixed (max_connections 2): two requester threads each
/// `execute_with_connection`, then main checks the pool. Claims: one thread at a time in
/// the pool's critical sections (the `connection_pool` lock file), a connection used by
/// one requester at a time, and every connection back in the pool at the end.
fn ex_8_3_06_fixed<B: Fs>() {
    let pool = Arc::new(FixedPool::<B>::new());
    let ts: Vec<_> = ["requester-1", "requester-2"]
        .into_iter()
        .map(|who| {
            let pool = pool.clone();
            B::spawn(who, move || {
                if let Err(e) = pool.execute_with_connection(who) {
                    uncaught(who, &e);
                }
            })
        })
        .collect();
    ts.into_iter().for_each(|t| t.join());
    let (free, active) = (pool.available.items.get(), pool.active.get());
    ensure(
        free.len() == 2 && active.is_empty(),
        "resource-conservation",
        || format!("after both requesters finished: available {free:?}, active {active:?}"),
    );
}

// ---- ex-8.3-07: ConfigFileManager -----------------------------------------------------------

/// The config file.
const CONFIG: &str = "/tmp/config.json";

/// ConfigFileManager: a JSON config file, an in-memory cache, and an in-process
/// `ReadWriteLock("config_file")` (writer priority).
struct ConfigFileManager<B: Fs> {
    config_file: &'static str,
    rw_lock: ReadWriteLock<B>,
    config_cache: Mutex<Option<(BTreeMap<String, String>, f64)>>,
}

impl<B: Fs> ConfigFileManager<B> {
    fn new(config_file: &'static str) -> Self {
        ConfigFileManager {
            config_file,
            rw_lock: ReadWriteLock::new(true),
            config_cache: Mutex::new(None),
        }
    }

    /// `atomic_update(key, update_func, requester_id)`: the write lock, read the file,
    /// apply, `open(..., 'w')` and `json.dump`; any exception is caught and gives False.
    fn atomic_update(&self, key: &str, update_func: impl Fn(Option<&str>) -> String) -> bool {
        let id = format!("atomic_{}", os::getpid::<B>());
        if !self.rw_lock.acquire_write(&id, true) {
            return false;
        }
        let r = (|| -> Option<()> {
            let mut current_config = BTreeMap::new();
            if os::stat::<B>(self.config_file).is_ok() {
                let text = read_file::<B>(self.config_file).ok()?;
                current_config = json_load(&text)?; // JSONDecodeError: caught
            }
            let new_value = update_func(current_config.get(key).map(String::as_str));
            current_config.insert(key.to_owned(), new_value);
            let mut f = File::<B>::open(self.config_file, "w").ok()?;
            f.write(json_dump(&current_config).as_bytes()).ok()?;
            f.close().ok()?;
            *self.config_cache.lock().unwrap() = Some((current_config, crate::now::<B>()));
            Some(()) // 原子更新配置项成功
        })();
        self.rw_lock.release_write(&id); // finally
        r.is_some()
    }
}

/// ex-8.3-07 (the catalogue's driver, scaled: 2 processes × 1 `atomic_update('counter',
/// x + 1)`, each process with its own ConfigFileManager, as separate processes have).
/// Claim: atomic_update changes the key atomically: every update that reports success is
/// in the final file.
fn ex_8_3_07<B: Fs>() {
    let mut f = py(File::<B>::open(CONFIG, "w"));
    py(f.write(b"counter=0\n"));
    py(f.close());
    let updated = Arc::new(Shared::<u32, B>::new(0).with_name("updates reported"));
    let ps = (1..=2)
        .map(|i| {
            let updated = updated.clone();
            start::<B>(&format!("Process-{i}"), move || {
                let manager = ConfigFileManager::<B>::new(CONFIG);
                let ok = manager.atomic_update("counter", |old| {
                    let x: i64 = old.and_then(|v| v.parse().ok()).unwrap_or(0);
                    (x + 1).to_string()
                });
                if ok {
                    updated.update(|n| *n += 1);
                }
            })
        })
        .collect();
    join_all::<B>(ps);
    let text = read_text::<B>(CONFIG);
    let counter: u32 = json_load(&text)
        .and_then(|d| d.get("counter").and_then(|v| v.parse().ok()))
        .unwrap_or(0);
    let updates = updated.get();
    ensure(counter == updates, "no-lost-update", || {
        format!(
            "{updates} atomic_update calls returned True, yet {CONFIG} holds {text:?}: each \
             process's ReadWriteLock is its own, so the two read-modify-writes interleave"
        )
    });
}

/// The scenarios of section 8.3.
pub fn scenarios() -> Vec<Scenario> {
    vec![
        Scenario::new(
            "ex-8.3-01",
            "ExclusiveLock as written: an O_CREAT|O_EXCL lock file, `os` imported only inside acquire; 2 worker processes",
            bodies!(ex_8_3_01),
        )
        .violates("stale-lock-file", "release() and _is_lock_stale() use `os`, which is only a local of acquire: release's NameError is swallowed (it returns False and the lock file is never removed), and the other worker's blocking acquire meets that file and dies with NameError from _is_lock_stale")
        .source("ex-8.3-01")
        .threads(2),
        Scenario::new(
            "ex-8.3-01-fixed",
            "ExclusiveLock with `import os` at module level; 2 worker processes contend",
            bodies!(ex_8_3_01_fixed),
        )
        .holds("O_EXCL lets one creator win; the loser polls every 0.1 s and gets the lock within its timeout once the holder removes the file; release removes it")
        .source("ex-8.3-01")
        .threads(2),
        Scenario::new(
            "ex-8.3-01-fixed-reacquire",
            "the fixed ExclusiveLock; Worker-1 takes it twice in a row while Worker-2 waits",
            bodies!(ex_8_3_01_fixed_reacquire),
        )
        .not_for("pct", "the interleaving needs four switches between the workers (Worker-2's failed create, Worker-1's unlink, Worker-2's stat, Worker-1's create, Worker-2's unlink), beyond PCT's depth 3 (2 priority changes); random, dfs and loom find it")
        .violates("mutual-exclusion", "_is_lock_stale returns True when os.stat fails: Worker-2's O_EXCL fails, Worker-1 releases (the file vanishes), Worker-2's stat fails so the lock counts as stale, Worker-1 re-acquires, Worker-2 removes Worker-1's fresh file and creates its own: both inside, with no crash, pause or 60 s age involved")
        .source("ex-8.3-01")
        .threads(2),
        Scenario::new(
            "ex-8.3-01-fixed-pause",
            "the fixed ExclusiveLock; Worker-2 arrives 0.8 s after Worker-1, which may be paused 1.5 s",
            bodies!(ex_8_3_01_fixed_pause),
        )
        .violates("mutual-exclusion", "a holder paused past the 1 s staleness age (60 s in the tutorial) keeps believing it holds the lock while the waiter judges the file stale by its mtime, removes it and creates its own: two processes inside")
        .pauses(1, Duration::from_millis(1500))
        .not_for("pct", "without a pause the two workers never overlap in virtual time (Worker-2 starts after Worker-1 left), so PCT's first execution has no scheduling choice and PCT stops there; the pause is a recorded choice that random, dfs and loom explore")
        .source("ex-8.3-01")
        .threads(2),
        Scenario::new(
            "ex-8.3-02",
            "AdvancedExclusiveLock: owner and acquire_count under a threading.Lock, a Queue of waiters, hand-off on release; 2 threads",
            bodies!(ex_8_3_02),
        )
        .violates("lock-released", "release hands the lock to the queued waiter with acquire_count = 1, and the waiter's poll then finds itself owner and adds 1: its one release leaves count 1, so the lock stays owned after everyone released")
        .source("ex-8.3-02")
        .threads(2),
        Scenario::new(
            "ex-8.3-03",
            "SharedLock: readers count under a threading.Lock, and every reader first takes the writer lock file",
            bodies!(ex_8_3_03),
        )
        .violates("shared-lock-concurrency", "every reader acquires the writer ExclusiveLock, released only when the count drops to 0: a second reader's try_acquire_shared fails while the first reads (readers are serialised)")
        .source("ex-8.3-03")
        .threads(2),
        Scenario::new(
            "ex-8.3-04",
            "ReadWriteLock with writer priority (the default): a writer and a reader thread",
            bodies!(ex_8_3_04),
        )
        .violates("no-uncaught-exception", "a reader arriving while the writer waits or writes calls self.writers_lock.wait() on a plain threading.Lock: AttributeError ends the reader's thread")
        .source("ex-8.3-04")
        .threads(2),
        Scenario::new(
            "ex-8.3-04-status",
            "ReadWriteLock without writer priority: a reader calls get_status() while it holds the read lock, as ConcurrentCache.get_stats does",
            bodies!(ex_8_3_04_status),
        )
        .violates("deadlock", "a waiting writer holds writers_lock while it waits for the readers to leave; the reader's get_status takes readers_lock then writers_lock and blocks, never releasing its read lock")
        .source("ex-8.3-04")
        .threads(2),
        Scenario::new(
            "ex-8.3-04-nopriority",
            "ReadWriteLock without writer priority: a writer and two reader threads",
            bodies!(ex_8_3_04_nopriority),
        )
        .holds("without the writer-priority branch (and its wait() on a plain Lock) readers count under readers_lock and a writer becomes active only with no readers, under both locks")
        .source("ex-8.3-04")
        .threads(3),
        Scenario::new(
            "ex-8.3-05",
            "ConcurrentCache: TTL and LRU over ReadWriteLock(writer_priority=True); a reader and a writer thread, then get_stats",
            bodies!(ex_8_3_05),
        )
        .violates("no-uncaught-exception", "a get() arriving while put() waits for or holds the write lock raises AttributeError (the ReadWriteLock's writers_lock.wait()); and hit_rate reads attributes never set, so it is always 0")
        .or_violates("stats-accurate")
        .source("ex-8.3-05")
        .threads(2),
        Scenario::new(
            "ex-8.3-06",
            "DatabaseConnectionPool as written: two requesters execute_with_connection",
            bodies!(ex_8_3_06),
        )
        .violates("no-uncaught-exception", "get_connection calls pool_lock.acquire('get_connection', blocking=True) on acquire(self, blocking=True): TypeError, multiple values for 'blocking'; no connection is ever handed out")
        .source("ex-8.3-06")
        .threads(2),
        Scenario::new(
            "ex-8.3-06-fixed",
            "DatabaseConnectionPool with its lock calls fixed, over the fixed ExclusiveLock; two requesters",
            bodies!(ex_8_3_06_fixed),
        )
        .holds("with the calls fixed the pool works for two requesters: one thread at a time holds the connection_pool lock file, each connection has one user, both return to the pool (the vanished-file take-over of ex-8.3-01-fixed-reacquire needs a re-acquire right after a release, which the 0.1 s operation between a requester's two pool-lock uses rules out here)")
        .source("ex-8.3-06")
        .threads(2),
        Scenario::new(
            "ex-8.3-07",
            "ConfigFileManager: 2 processes each atomic_update('counter', x + 1) through open('w')",
            bodies!(ex_8_3_07),
        )
        .violates("no-lost-update", "the ReadWriteLock is a threading lock of each process: the two processes' read-modify-writes of the config file interleave and one increment is lost though both report success")
        .source("ex-8.3-07")
        .threads(2),
    ]
}

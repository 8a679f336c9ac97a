//! Chapter 1 (threading.Lock) of the tutorial: its examples as scenarios.
//!
//! Each example is modelled as written, scaled to at most 4 spawned threads, and asserts what
//! its comments and prints claim. Suffixes: `-results` checks an example's claims except its
//! printed output (which the plain id checks too), `-adversarial` runs the same body in
//! adversarial time, `-bad` runs the variant the example defines but never calls,
//! `-no-deadlock` checks only that the program ends.
//!
//! | id | example | expected |
//! |---|---|---|
//! | `ex-1.1-01` | counter under `acquire`/`try`/`finally release` | holds |
//! | `ex-1.1-03` | read–sleep–write withdrawals without a lock (the race demo) | no-lost-update |
//! | `ex-1.1-04` | the same withdrawals under a lock | holds |
//! | `ex-1.1-05` | one lock per account, two accounts | holds |
//! | `ex-1.2-01` | blocking / non-blocking / timeout acquires, the printed output | holds |
//! | `ex-1.2-01-adversarial` | the same, adversarial time | printed-output |
//! | `ex-1.2-03` | exception-safe release, the printed output | printed-output |
//! | `ex-1.2-03-results` | the same, its final list only | holds |
//! | `ex-1.2-04` | retry with `acquire(timeout=0.5)` against a 2 s holder | retry-succeeds |
//! | `ex-1.2-05` | non-blocking acquires counted in a dict (`failed` outside the lock) | no-lost-update |
//! | `ex-1.2-06` | I/O outside the lock: 5 threads take about 1 s | holds |
//! | `ex-1.2-06-bad` | I/O under the lock (defined, never run by the example) | holds |
//! | `ex-1.3-01` | counter under `with lock:` | holds |
//! | `ex-1.3-03` | `with from_lock, to_lock` with opposite arguments | deadlock |
//! | `ex-1.3-04` | nested `with lock_a:` / `with lock_b:`, same order everywhere | holds |
//! | `ex-1.3-05` | `ThreadSafeCounter` increments and decrements | holds |
//! | `ex-1.3-06` | `ThreadSafeCache` (LRU, statistics) | holds |
//! | `ex-1.4-01` | the classic two-lock deadlock, detected with `join(timeout=2)` | deadlock |
//! | `ex-1.4-02` | locks sorted by `id()` before nesting | holds |
//! | `ex-1.4-03` | timeout and fixed back-off, opposite orders | retry-succeeds |
//! | `ex-1.4-03-adversarial` | the same, adversarial time | retry-succeeds |
//! | `ex-1.4-03-livelock` | the same, retrying forever, with liveness checking | livelock |
//! | `ex-1.4-04` | try-lock with random back-off, opposite orders | retry-succeeds |
//! | `ex-1.4-04-no-deadlock` | the same, checking only that it ends | holds |
//! | `ex-1.4-04-livelock` | the same, retrying forever, with liveness checking | livelock |
//! | `ex-1.4-05` | `DeadlockDetector` bookkeeping around timed acquires | holds |
//! | `ex-1.4-05-adversarial` | the same, adversarial time | status-accurate |
//! | `ex-1.4-06` | `LockManager` creating named locks on demand | mutual-exclusion |
//!
//! The single-thread demos (`ex-1.1-02`, `ex-1.2-02`, `ex-1.3-02`) and the chapter's prose
//! rules are tests in `primitives/tests/rules_ch1.rs`.

use lockproof_scenario::prelude::*;
use std::collections::VecDeque;
use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::Mutex;

// ---- modelling helpers -----------------------------------------------------------------

/// An uncaught Python exception: the thread dies with its traceback (a `panic` failure).
fn py<T>(r: Result<T, Error>) -> T {
    r.unwrap_or_else(|e| panic!("uncaught {}", e.python_repr()))
}

/// `time.sleep(secs)` (virtual).
fn sleep<B: Backend>(secs: f64) {
    B::sleep(Duration::from_secs_f64(secs));
}

/// `time.time()` in seconds (virtual).
fn now<B: Backend>() -> f64 {
    B::now().0 as f64 / 1e9
}

/// Python's `print`, for examples whose claims are their printed lines: each call is one
/// traced step (`stdout.set(line)`), and the lines are kept in the order printed.
struct Stdout<B: Backend> {
    last: Shared<String, B>,
    lines: Mutex<Vec<String>>,
}

impl<B: Backend> Stdout<B> {
    fn new() -> Self {
        Stdout {
            last: Shared::new(String::new()).with_name("stdout"),
            lines: Mutex::new(Vec::new()),
        }
    }

    fn print(&self, line: impl Into<String>) {
        let line = line.into();
        // The visible step first: no scheduling point between it and the bookkeeping, so
        // the kept order is the traced order.
        self.last.set(line.clone());
        self.lines
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(line);
    }

    fn lines(&self) -> Vec<String> {
        self.lines.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

/// Fail with `printed-output` unless the lines printed are exactly `claimed`, in order.
fn ensure_printed<B: Backend>(out: &Stdout<B>, claimed: &[&str]) {
    let got = out.lines();
    ensure(got == claimed, "printed-output", || {
        format!("printed {got:?}, the tutorial shows {claimed:?}")
    });
}

/// Start `n` threads `t1..tn` running `f(i)`.
fn spawn_n<B: Backend>(
    n: usize,
    f: impl Fn(usize) -> Box<dyn FnOnce() + Send> + Send,
) -> Vec<B::JoinHandle<()>> {
    (1..=n).map(|i| B::spawn(&format!("t{i}"), f(i))).collect()
}

fn join_all<B: Backend>(threads: Vec<B::JoinHandle<()>>) {
    for t in threads {
        t.join();
    }
}

// ---- 1.1 threading.Lock -------------------------------------------------------------------

/// Threads of the counter examples (the tutorial starts 10).
const COUNTER_THREADS: usize = 3;

/// ex-1.1-01: `increment()` under `lock.acquire()` / `try` / `finally: lock.release()`.
fn ex_1_1_01<B: Backend>() {
    let lock = Arc::new(Lock::<B>::new().with_name("lock"));
    let counter = Arc::new(Shared::<i64, B>::new(0).with_name("counter"));
    let cs = Arc::new(Region::<B>::new("critical section", 1));
    let threads = spawn_n::<B>(COUNTER_THREADS, |_| {
        let (lock, counter, cs) = (lock.clone(), counter.clone(), cs.clone());
        Box::new(move || {
            lock.acquire();
            {
                let _in = cs.enter();
                let mut temp = counter.get();
                temp += 1;
                counter.set(temp);
            }
            py(lock.release());
        })
    });
    join_all::<B>(threads);
    let c = counter.get();
    ensure(c == COUNTER_THREADS as i64, "no-lost-update", || {
        format!("最终计数: {c}, the tutorial says {COUNTER_THREADS}")
    });
}

/// Withdrawal threads of ex-1.1-03/04 (the tutorial starts 10, each taking 100 of 1000).
const WITHDRAWALS: usize = 3;

/// ex-1.1-03 (no lock) and ex-1.1-04 (a lock around the read–sleep–write).
fn withdrawals<B: Backend, const LOCKED: bool>() {
    let balance = Arc::new(Shared::<i64, B>::new(100 * WITHDRAWALS as i64).with_name("balance"));
    let lock = Arc::new(Lock::<B>::new().with_name("lock"));
    let cs = Arc::new(Region::<B>::new("critical section", 1));
    let threads = spawn_n::<B>(WITHDRAWALS, |_| {
        let (balance, lock, cs) = (balance.clone(), lock.clone(), cs.clone());
        Box::new(move || {
            let amount = 100;
            let withdraw = || {
                let mut temp = balance.get();
                sleep::<B>(0.001);
                temp -= amount;
                balance.set(temp);
            };
            if LOCKED {
                lock.acquire();
                {
                    let _in = cs.enter();
                    withdraw();
                }
                py(lock.release());
            } else {
                withdraw();
            }
        })
    });
    join_all::<B>(threads);
    let b = balance.get();
    ensure(b == 0, "no-lost-update", || {
        format!(
            "最终余额: {b}, expected 0 after {WITHDRAWALS} withdrawals of 100 from {}",
            100 * WITHDRAWALS
        )
    });
}

fn ex_1_1_03<B: Backend>() {
    withdrawals::<B, false>()
}

fn ex_1_1_04<B: Backend>() {
    withdrawals::<B, true>()
}

/// ex-1.1-05's `BankAccount`: a balance with its own lock.
struct BankAccount<B: Backend> {
    balance: Shared<i64, B>,
    lock: Lock<B>,
    cs: Region<B>,
}

impl<B: Backend> BankAccount<B> {
    fn new(name: &str, balance: i64) -> Self {
        BankAccount {
            balance: Shared::new(balance).with_name(&format!("{name}.balance")),
            lock: Lock::new().with_name(&format!("{name}.lock")),
            cs: Region::new(&format!("{name} critical section"), 1),
        }
    }

    fn withdraw(&self, amount: i64) -> bool {
        let _with = self.lock.lock();
        let _in = self.cs.enter();
        if self.balance.get() >= amount {
            let b = self.balance.get();
            self.balance.set(b - amount);
            return true;
        }
        false
    }
    // `deposit` is defined by the example but never called.
}

/// ex-1.1-05: two accounts, one withdrawal each, each under its account's own lock.
fn ex_1_1_05<B: Backend>() {
    let account1 = Arc::new(BankAccount::<B>::new("account1", 1000));
    let account2 = Arc::new(BankAccount::<B>::new("account2", 2000));
    let a1 = account1.clone();
    let t1 = B::spawn("t1", move || {
        a1.withdraw(100);
    });
    let a2 = account2.clone();
    let t2 = B::spawn("t2", move || {
        a2.withdraw(200);
    });
    t1.join();
    t2.join();
    let (b1, b2) = (account1.balance.get(), account2.balance.get());
    ensure(b1 == 900 && b2 == 1800, "balances", || {
        format!("账户1余额: {b1}, 账户2余额: {b2}; the tutorial says 900 and 1800")
    });
}

// ---- 1.2 acquire and release ----------------------------------------------------------------

/// ex-1.2-01: T1 holds the lock 2 s; at 0.5 s T2 polls and T3 waits up to 1 s. The claim is
/// the printed output, results and order together.
fn ex_1_2_01<B: Backend>() {
    let lock = Arc::new(Lock::<B>::new().with_name("lock"));
    let out = Arc::new(Stdout::<B>::new());
    let (l, o) = (lock.clone(), out.clone());
    let t1 = B::spawn("t1", move || {
        o.print("线程1尝试获取锁...");
        if l.acquire() {
            o.print("线程1获取锁成功");
            sleep::<B>(2.0);
            py(l.release());
            o.print("线程1释放锁");
        }
    });
    let (l, o) = (lock.clone(), out.clone());
    let t2 = B::spawn("t2", move || {
        sleep::<B>(0.5);
        o.print("线程2尝试获取锁(非阻塞)...");
        if l.try_acquire() {
            o.print("线程2获取锁成功");
            py(l.release());
        } else {
            o.print("线程2获取锁失败");
        }
    });
    let (l, o) = (lock.clone(), out.clone());
    let t3 = B::spawn("t3", move || {
        sleep::<B>(0.5);
        o.print("线程3尝试获取锁(超时1秒)...");
        if py(l.acquire_timeout(1.0)) {
            o.print("线程3获取锁成功");
            py(l.release());
        } else {
            o.print("线程3获取锁超时");
        }
    });
    t1.join();
    t2.join();
    t3.join();
    ensure_printed(
        &out,
        &[
            "线程1尝试获取锁...",
            "线程1获取锁成功",
            "线程2尝试获取锁(非阻塞)...",
            "线程2获取锁失败",
            "线程3尝试获取锁(超时1秒)...",
            "线程3获取锁超时",
            "线程1释放锁",
        ],
    );
}

/// ex-1.2-03: `safe_append` with `try`/`except ValueError`/`finally: release`; T1 appends 10,
/// T2's -5 raises inside the critical section.
fn safe_append_demo<B: Backend, const ORDER: bool>() {
    let lock = Arc::new(Lock::<B>::new().with_name("lock"));
    let shared_list = Arc::new(Shared::<Vec<i64>, B>::new(Vec::new()).with_name("shared_list"));
    let out = Arc::new(Stdout::<B>::new());
    let cs = Arc::new(Region::<B>::new("critical section", 1));
    let safe_append = {
        let (lock, shared_list, out, cs) = (lock, shared_list.clone(), out.clone(), cs);
        move |value: i64| {
            lock.acquire();
            {
                let _in = cs.enter();
                // try:
                let r: Result<(), &str> = if value < 0 {
                    Err("值不能为负数")
                } else {
                    shared_list.update(|l| l.push(value));
                    out.print(format!("添加: {value}"));
                    Ok(())
                };
                // except ValueError as e:
                if let Err(e) = r {
                    out.print(format!("错误: {e}"));
                }
            }
            // finally:
            py(lock.release());
            out.print("锁已释放");
        }
    };
    let f1 = safe_append.clone();
    let t1 = B::spawn("t1", move || f1(10));
    let t2 = B::spawn("t2", move || safe_append(-5));
    t1.join();
    t2.join();
    let list = shared_list.get();
    if ORDER {
        out.print(format!("最终列表: {list:?}"));
        ensure_printed(
            &out,
            &[
                "添加: 10",
                "锁已释放",
                "错误: 值不能为负数",
                "锁已释放",
                "最终列表: [10]",
            ],
        );
    } else {
        ensure(list == [10], "final-list", || {
            format!("最终列表: {list:?}, the tutorial says [10]")
        });
    }
}

fn ex_1_2_03<B: Backend>() {
    safe_append_demo::<B, true>()
}

fn ex_1_2_03_results<B: Backend>() {
    safe_append_demo::<B, false>()
}

/// ex-1.2-04: `try_update` retries `acquire(timeout=0.5)` 3 times with a 0.1 s back-off while
/// `long_operation` holds the lock for 2 s; main starts it 0.1 s after the holder.
fn ex_1_2_04<B: Backend>() {
    let lock = Arc::new(Lock::<B>::new().with_name("lock"));
    let data = Arc::new(Shared::<Vec<i64>, B>::new(Vec::new()).with_name("data"));
    let l = lock.clone();
    let t1 = B::spawn("t1", move || {
        // long_operation
        l.acquire();
        sleep::<B>(2.0);
        py(l.release());
    });
    sleep::<B>(0.1);
    let (l, d) = (lock.clone(), data.clone());
    let t2 = B::spawn("t2", move || {
        // try_update(100, retry=3)
        let value = 100;
        for _attempt in 0..3 {
            let start = now::<B>();
            if py(l.acquire_timeout(0.5)) {
                d.update(|v| v.push(value));
                py(l.release());
                return true;
            }
            let waited = now::<B>() - start;
            ensure((waited - 0.5).abs() < 1e-6, "lock-timeout", || {
                format!("acquire(timeout=0.5) gave up after {waited} s")
            });
            sleep::<B>(0.1);
        }
        // print(f"失败: 无法添加 {value}")
        false
    });
    t1.join();
    t2.join();
    let v = data.get();
    ensure(v == [100], "retry-succeeds", || {
        format!(
            "最终数据: {v:?} at {} s: every attempt timed out before the holder's 2 s ended",
            now::<B>()
        )
    });
}

/// Threads of ex-1.2-05 (the tutorial starts 20).
const TRY_THREADS: usize = 3;

/// ex-1.2-05: non-blocking acquires; `stats["success"] += 1` under the lock,
/// `stats["failed"] += 1` outside it.
fn ex_1_2_05<B: Backend>() {
    let lock = Arc::new(Lock::<B>::new().with_name("lock"));
    let success = Arc::new(Shared::<i64, B>::new(0).with_name("stats[\"success\"]"));
    let failed = Arc::new(Shared::<i64, B>::new(0).with_name("stats[\"failed\"]"));
    let threads = spawn_n::<B>(TRY_THREADS, |_| {
        let (lock, success, failed) = (lock.clone(), success.clone(), failed.clone());
        Box::new(move || {
            if lock.try_acquire() {
                success.set(success.get() + 1);
                sleep::<B>(0.01);
                py(lock.release());
            } else {
                failed.set(failed.get() + 1);
                // print("锁忙,跳过本次操作")
            }
        })
    });
    join_all::<B>(threads);
    let (s, f) = (success.get(), failed.get());
    ensure(s + f == TRY_THREADS as i64, "no-lost-update", || {
        format!(
            "成功: {s}, 失败: {f}: {TRY_THREADS} attempts, but they add up to {}",
            s + f
        )
    });
}

/// Threads of ex-1.2-06 (the tutorial starts 5).
const IO_THREADS: usize = 3;

/// ex-1.2-06: `good_practice` (I/O outside the lock) and, with `BAD`, `bad_practice` (I/O
/// under it), timed with `time.time()`.
fn cache_io<B: Backend, const BAD: bool>() {
    let lock = Arc::new(Lock::<B>::new().with_name("lock"));
    let cache = Arc::new(Shared::<Vec<(usize, String)>, B>::new(Vec::new()).with_name("cache"));
    let start = now::<B>();
    let threads = spawn_n::<B>(IO_THREADS, |i| {
        let (lock, cache) = (lock.clone(), cache.clone());
        let key = i - 1;
        Box::new(move || {
            let put = |value: String| cache.update(|c| c.push((key, value)));
            if BAD {
                lock.acquire();
                sleep::<B>(1.0);
                put(format!("value_{key}"));
                py(lock.release());
            } else {
                sleep::<B>(1.0);
                let value = format!("value_{key}");
                lock.acquire();
                put(value);
                py(lock.release());
            }
        })
    });
    join_all::<B>(threads);
    let elapsed = now::<B>() - start;
    let n = cache.get().len();
    ensure(n == IO_THREADS, "cache-complete", || {
        format!("cache has {n} entries after {IO_THREADS} puts")
    });
    if BAD {
        let serial = IO_THREADS as f64;
        ensure((elapsed - serial).abs() < 1e-6, "io-serialised", || {
            format!("bad_practice took {elapsed:.2} s, not {serial} s (one I/O after another)")
        });
    } else {
        ensure((elapsed - 1.0).abs() < 0.05, "io-concurrent", || {
            format!("优化后耗时: {elapsed:.2}秒, the tutorial says about 1 s")
        });
    }
}

fn ex_1_2_06<B: Backend>() {
    cache_io::<B, false>()
}

fn ex_1_2_06_bad<B: Backend>() {
    cache_io::<B, true>()
}

// ---- 1.3 the with statement -----------------------------------------------------------------

/// ex-1.3-01: `increment()` under `with lock:`.
fn ex_1_3_01<B: Backend>() {
    let lock = Arc::new(Lock::<B>::new().with_name("lock"));
    let counter = Arc::new(Shared::<i64, B>::new(0).with_name("counter"));
    let cs = Arc::new(Region::<B>::new("critical section", 1));
    let threads = spawn_n::<B>(COUNTER_THREADS, |_| {
        let (lock, counter, cs) = (lock.clone(), counter.clone(), cs.clone());
        Box::new(move || {
            let _with = lock.lock();
            let _in = cs.enter();
            let mut temp = counter.get();
            temp += 1;
            counter.set(temp);
        })
    });
    join_all::<B>(threads);
    let c = counter.get();
    ensure(c == COUNTER_THREADS as i64, "no-lost-update", || {
        format!("最终计数: {c}, the tutorial says {COUNTER_THREADS}")
    });
}

/// ex-1.3-03: `transfer(from_lock, to_lock, amount)` takes `with from_lock, to_lock:` (left
/// to right); T1 passes (lock1, lock2, 100), T2 (lock2, lock1, 50).
fn ex_1_3_03<B: Backend>() {
    let lock1 = Arc::new(Lock::<B>::new().with_name("lock1"));
    let lock2 = Arc::new(Lock::<B>::new().with_name("lock2"));
    let account1 = Arc::new(Shared::<i64, B>::new(1000).with_name("account1_balance"));
    let account2 = Arc::new(Shared::<i64, B>::new(2000).with_name("account2_balance"));
    let cs = Arc::new(Region::<B>::new("transfer", 1));
    let transfer = {
        let (lock1, account1, account2) = (lock1.clone(), account1.clone(), account2.clone());
        move |from_lock: Arc<Lock<B>>, to_lock: Arc<Lock<B>>, amount: i64| {
            let _from = from_lock.lock();
            let _to = to_lock.lock();
            let _in = cs.enter();
            let (from, to) = if Arc::ptr_eq(&from_lock, &lock1) {
                (&account1, &account2)
            } else {
                (&account2, &account1)
            };
            from.set(from.get() - amount);
            to.set(to.get() + amount);
        }
    };
    let (f, a, b) = (transfer.clone(), lock1.clone(), lock2.clone());
    let t1 = B::spawn("t1", move || f(a, b, 100));
    let (a, b) = (lock2.clone(), lock1.clone());
    let t2 = B::spawn("t2", move || transfer(a, b, 50));
    t1.join();
    t2.join();
    let (b1, b2) = (account1.get(), account2.get());
    ensure(b1 == 950 && b2 == 2050, "balances", || {
        format!("账户1余额: {b1}, 账户2余额: {b2}; the tutorial says 950 and 2050")
    });
}

/// Threads of ex-1.3-04 (the tutorial starts 5).
const NESTED_THREADS: usize = 3;

/// ex-1.3-04: `with lock_a:` (resource_a += 1, sleep 0.01) then nested `with lock_b:`
/// (resource_b += 1), the same order in every thread.
fn ex_1_3_04<B: Backend>() {
    let lock_a = Arc::new(Lock::<B>::new().with_name("lock_a"));
    let lock_b = Arc::new(Lock::<B>::new().with_name("lock_b"));
    let resource_a = Arc::new(Shared::<i64, B>::new(0).with_name("resource_a"));
    let resource_b = Arc::new(Shared::<i64, B>::new(0).with_name("resource_b"));
    let cs_a = Arc::new(Region::<B>::new("with lock_a", 1));
    let cs_b = Arc::new(Region::<B>::new("with lock_b", 1));
    let threads = spawn_n::<B>(NESTED_THREADS, |_| {
        let (lock_a, lock_b) = (lock_a.clone(), lock_b.clone());
        let (resource_a, resource_b) = (resource_a.clone(), resource_b.clone());
        let (cs_a, cs_b) = (cs_a.clone(), cs_b.clone());
        Box::new(move || {
            let _with_a = lock_a.lock();
            let _in_a = cs_a.enter();
            resource_a.set(resource_a.get() + 1);
            sleep::<B>(0.01);
            let _with_b = lock_b.lock();
            let _in_b = cs_b.enter();
            resource_b.set(resource_b.get() + 1);
        })
    });
    join_all::<B>(threads);
    let (a, b) = (resource_a.get(), resource_b.get());
    let n = NESTED_THREADS as i64;
    ensure(a == n && b == n, "no-lost-update", || {
        format!("最终 - 资源A: {a}, 资源B: {b}; {n} threads ran update_both")
    });
}

/// ex-1.3-05: pairs of threads (the tutorial: 5 pairs) and operations per thread (100).
const COUNTER_PAIRS: usize = 1;
const COUNTER_OPS: usize = 2;

/// ex-1.3-05's `ThreadSafeCounter`.
struct ThreadSafeCounter<B: Backend> {
    value: Shared<i64, B>,
    lock: Lock<B>,
    cs: Region<B>,
}

impl<B: Backend> ThreadSafeCounter<B> {
    fn increment(&self) {
        let _with = self.lock.lock();
        let _in = self.cs.enter();
        self.value.set(self.value.get() + 1);
    }

    fn decrement(&self) {
        let _with = self.lock.lock();
        let _in = self.cs.enter();
        self.value.set(self.value.get() - 1);
    }

    fn get_value(&self) -> i64 {
        let _with = self.lock.lock();
        self.value.get()
    }
}

fn ex_1_3_05<B: Backend>() {
    let counter = Arc::new(ThreadSafeCounter::<B> {
        value: Shared::new(0).with_name("counter._value"),
        lock: Lock::new().with_name("counter._lock"),
        cs: Region::new("counter critical section", 1),
    });
    let mut threads = Vec::new();
    for i in 0..COUNTER_PAIRS {
        let c = counter.clone();
        threads.push(B::spawn(&format!("inc{}", i + 1), move || {
            for _ in 0..COUNTER_OPS {
                c.increment();
            }
        }));
        let c = counter.clone();
        threads.push(B::spawn(&format!("dec{}", i + 1), move || {
            for _ in 0..COUNTER_OPS {
                c.decrement();
            }
        }));
    }
    join_all::<B>(threads);
    let v = counter.get_value();
    ensure(v == 0, "no-lost-update", || {
        format!("最终值: {v}, the tutorial says 0")
    });
}

/// ex-1.3-06, scaled: workers (5), iterations per worker (20), distinct keys (15), capacity
/// (10). Fewer keys than iterations and more keys than capacity keep the structure: hits,
/// misses and evictions all happen.
const CACHE_WORKERS: usize = 2;
const CACHE_ITERATIONS: usize = 3;
const CACHE_KEYS: usize = 2;
const CACHE_CAPACITY: usize = 1;

/// ex-1.3-06's `ThreadSafeCache`: an `OrderedDict` (oldest first) and hit/miss counts under
/// one lock.
struct ThreadSafeCache<B: Backend> {
    cache: Shared<VecDeque<(String, String)>, B>,
    capacity: usize,
    lock: Lock<B>,
    hits: Shared<i64, B>,
    misses: Shared<i64, B>,
    cs: Region<B>,
}

impl<B: Backend> ThreadSafeCache<B> {
    fn new(capacity: usize) -> Self {
        ThreadSafeCache {
            cache: Shared::new(VecDeque::new()).with_name("cache._cache"),
            capacity,
            lock: Lock::new().with_name("cache._lock"),
            hits: Shared::new(0).with_name("cache._hits"),
            misses: Shared::new(0).with_name("cache._misses"),
            cs: Region::new("cache critical section", 1),
        }
    }

    fn get(&self, key: &str) -> Option<String> {
        let _with = self.lock.lock();
        let _in = self.cs.enter();
        // `key in self._cache`, `move_to_end(key)`, `self._cache[key]`
        let found = self.cache.update(|c| {
            let i = c.iter().position(|(k, _)| k == key)?;
            let entry = c.remove(i)?;
            let value = entry.1.clone();
            c.push_back(entry);
            Some(value)
        });
        if found.is_some() {
            self.hits.set(self.hits.get() + 1);
        } else {
            self.misses.set(self.misses.get() + 1);
        }
        found
    }

    fn put(&self, key: &str, value: String) {
        let _with = self.lock.lock();
        let _in = self.cs.enter();
        let len = self.cache.update(|c| {
            // move_to_end, then assignment (which keeps the key's place)
            if let Some(i) = c.iter().position(|(k, _)| k == key) {
                c.remove(i);
            }
            c.push_back((key.to_owned(), value));
            if c.len() > self.capacity {
                c.pop_front();
            }
            c.len()
        });
        ensure(len <= self.capacity, "lru-capacity", || {
            format!("{len} entries in a cache of capacity {}", self.capacity)
        });
    }

    /// (hits, misses, hit_rate), as `stats()` returns them.
    fn stats(&self) -> (i64, i64, String) {
        let _with = self.lock.lock();
        let (hits, misses) = (self.hits.get(), self.misses.get());
        let total = hits + misses;
        let rate = if total > 0 {
            hits as f64 / total as f64
        } else {
            0.0
        };
        (hits, misses, format!("{:.2}%", rate * 100.0))
    }
}

fn ex_1_3_06<B: Backend>() {
    let cache = Arc::new(ThreadSafeCache::<B>::new(CACHE_CAPACITY));
    let threads = spawn_n::<B>(CACHE_WORKERS, |_| {
        let cache = cache.clone();
        Box::new(move || {
            for i in 0..CACHE_ITERATIONS {
                let key = format!("key_{}", i % CACHE_KEYS);
                if cache.get(&key).is_none() {
                    cache.put(&key, format!("value_{i}"));
                }
            }
        })
    });
    join_all::<B>(threads);
    let (hits, misses, rate) = cache.stats();
    let gets = (CACHE_WORKERS * CACHE_ITERATIONS) as i64;
    ensure(hits + misses == gets, "stats-consistent", || {
        format!("缓存统计: hits {hits}, misses {misses} ({rate}) after {gets} gets")
    });
}

// ---- 1.4 deadlock ---------------------------------------------------------------------------

/// A `threading.Thread` with what `join(timeout)` and `is_alive()` use in CPython 3.11: the
/// thread's `_tstate_lock`, locked while the thread runs and released when it ends.
struct PyThread<B: Backend> {
    tstate_lock: Arc<Lock<B>>,
}

impl<B: Backend> PyThread<B> {
    /// `Thread(target=f).start()` (the lock is held from before `start()` returns).
    fn start(name: &str, f: impl FnOnce() + Send + 'static) -> Self {
        let tstate_lock = Arc::new(Lock::<B>::new().with_name(&format!("{name}._tstate_lock")));
        tstate_lock.acquire();
        let l = tstate_lock.clone();
        // Python waits for the thread at exit, and so does the checker: no handle needed.
        let _handle = B::spawn(name, move || {
            f();
            py(l.release());
        });
        PyThread { tstate_lock }
    }

    /// `join(timeout=t)`: `_wait_for_tstate_lock(True, t)`.
    fn join_timeout(&self, timeout: f64) {
        if py(self.tstate_lock.acquire_timeout(timeout)) {
            py(self.tstate_lock.release());
        }
    }

    /// `is_alive()`: `_wait_for_tstate_lock(False)`.
    fn is_alive(&self) -> bool {
        if self.tstate_lock.try_acquire() {
            py(self.tstate_lock.release());
            return false;
        }
        true
    }
}

/// ex-1.4-01: T1 takes lock1 then lock2, T2 lock2 then lock1, with 0.1 s of work between;
/// main joins each with `timeout=2` and reports the deadlock if either is still alive.
fn ex_1_4_01<B: Backend>() {
    let lock1 = Arc::new(Lock::<B>::new().with_name("lock1"));
    let lock2 = Arc::new(Lock::<B>::new().with_name("lock2"));
    let (a, b) = (lock1.clone(), lock2.clone());
    let t1 = PyThread::<B>::start("t1", move || {
        let _with1 = a.lock();
        sleep::<B>(0.1);
        let _with2 = b.lock();
    });
    let (a, b) = (lock1.clone(), lock2.clone());
    let t2 = PyThread::<B>::start("t2", move || {
        let _with2 = b.lock();
        sleep::<B>(0.1);
        let _with1 = a.lock();
    });
    t1.join_timeout(2.0);
    t2.join_timeout(2.0);
    let alive = t1.is_alive() || t2.is_alive();
    // print("检测到死锁!线程未能完成")
    ensure(alive, "deadlock-detected", || {
        "both threads finished: '检测到死锁!线程未能完成' is not printed".to_owned()
    });
    // Python then waits for the (non-daemon) threads at exit.
}

/// ex-1.4-02: `safe_transfer` sorts its two locks by `id()` (the address) before nesting.
fn ex_1_4_02<B: Backend>() {
    let lock1 = Arc::new(Lock::<B>::new().with_name("lock1"));
    let lock2 = Arc::new(Lock::<B>::new().with_name("lock2"));
    let transfers = Arc::new(Shared::<i64, B>::new(0).with_name("transfers done"));
    let safe_transfer = {
        let transfers = transfers.clone();
        move |from_lock: Arc<Lock<B>>, to_lock: Arc<Lock<B>>, _amount: i64| {
            let mut locks = [from_lock, to_lock];
            locks.sort_by_key(|l| Arc::as_ptr(l) as usize);
            let _with0 = locks[0].lock();
            sleep::<B>(0.01);
            let _with1 = locks[1].lock();
            // print(f"转账{amount}完成")
            transfers.update(|n| *n += 1);
        }
    };
    let (f, a, b) = (safe_transfer.clone(), lock1.clone(), lock2.clone());
    let t1 = B::spawn("t1", move || f(a, b, 100));
    let (a, b) = (lock2.clone(), lock1.clone());
    let t2 = B::spawn("t2", move || safe_transfer(a, b, 50));
    t1.join();
    t2.join();
    let n = transfers.get();
    ensure(n == 2, "transfers-complete", || {
        format!("{n} of 2 transfers completed")
    });
}

/// ex-1.4-03: `safe_operation` — `acquire(timeout=0.5)` on the first lock, 0.1 s of work,
/// `acquire(timeout=0.5)` on the second, else release and retry (at most 3, 0.1 s back-off).
fn ex_1_4_03<B: Backend>() {
    safe_operation::<B, false>()
}

/// ex-1.4-03 retrying forever (`while True:` instead of `max_retries`): the lock-step rounds
/// the retry limit cuts short, left to run.
fn ex_1_4_03_livelock<B: Backend>() {
    safe_operation::<B, true>()
}

/// `FOREVER`: no retry limit.
fn safe_operation<B: Backend, const FOREVER: bool>() {
    let lock1 = Arc::new(Lock::<B>::new().with_name("lock1"));
    let lock2 = Arc::new(Lock::<B>::new().with_name("lock2"));
    let safe_operation = |first: Arc<Lock<B>>, second: Arc<Lock<B>>| {
        move || {
            let max_retries = 3;
            let mut retry_count = 0;
            while FOREVER || retry_count < max_retries {
                if py(first.acquire_timeout(0.5)) {
                    sleep::<B>(0.1);
                    let done = if py(second.acquire_timeout(0.5)) {
                        // print(f"{name}: 获取第二个锁,执行操作")
                        py(second.release());
                        true
                    } else {
                        false
                    };
                    py(first.release());
                    if done {
                        return true;
                    }
                }
                retry_count += 1;
                sleep::<B>(0.1);
            }
            // print(f"{name}: 达到最大重试次数")
            false
        }
    };
    let t1 = B::spawn("t1", safe_operation(lock1.clone(), lock2.clone()));
    let t2 = B::spawn("t2", safe_operation(lock2, lock1));
    let (ok1, ok2) = (t1.join(), t2.join());
    // print("操作完成")
    ensure(ok1 && ok2, "retry-succeeds", || {
        format!("线程1 returned {ok1}, 线程2 returned {ok2}: 达到最大重试次数")
    });
}

/// ex-1.4-04: attempts per thread, as in the tutorial.
const TRY_LOCK_ATTEMPTS: usize = 10;

/// ex-1.4-04: `try_lock_operation` — `acquire(blocking=False)` on both locks (opposite
/// orders), 0.01 s between them, release the first on failure, back off
/// `random.uniform(0.001, 0.01)` (modelled as a choice of its two ends).
/// `PROGRESS`: assert that both threads get both locks.
fn try_lock<B: Backend, const PROGRESS: bool, const FOREVER: bool>() {
    let lock1 = Arc::new(Lock::<B>::new().with_name("lock1"));
    let lock2 = Arc::new(Lock::<B>::new().with_name("lock2"));
    let try_lock_operation = |first: Arc<Lock<B>>, second: Arc<Lock<B>>| {
        move || {
            let mut attempts = 0;
            while FOREVER || attempts < TRY_LOCK_ATTEMPTS {
                if first.try_acquire() {
                    sleep::<B>(0.01);
                    let done = if second.try_acquire() {
                        sleep::<B>(0.05);
                        py(second.release());
                        true
                    } else {
                        false
                    };
                    py(first.release());
                    if done {
                        return true;
                    }
                }
                attempts += 1;
                sleep::<B>([0.001, 0.01][B::choose(2)]);
            }
            // print(f"{name}: 尝试{attempts}次后失败")
            false
        }
    };
    let t1 = B::spawn("t1", try_lock_operation(lock1.clone(), lock2.clone()));
    let t2 = B::spawn("t2", try_lock_operation(lock2, lock1));
    let (ok1, ok2) = (t1.join(), t2.join());
    // print("所有操作完成")
    if PROGRESS {
        ensure(ok1 && ok2, "retry-succeeds", || {
            format!("线程1 returned {ok1}, 线程2 returned {ok2}: 尝试{TRY_LOCK_ATTEMPTS}次后失败")
        });
    }
}

fn ex_1_4_04<B: Backend>() {
    try_lock::<B, true, false>()
}

fn ex_1_4_04_no_deadlock<B: Backend>() {
    try_lock::<B, false, false>()
}

/// ex-1.4-04 retrying forever (`while True:` instead of 10 attempts).
fn ex_1_4_04_livelock<B: Backend>() {
    try_lock::<B, false, true>()
}

/// A lock with the name the Python code knows it by.
struct NamedLock<B: Backend> {
    name: &'static str,
    lock: Lock<B>,
}

impl<B: Backend> NamedLock<B> {
    fn new(name: &'static str) -> Self {
        NamedLock {
            name,
            lock: Lock::new().with_name(name),
        }
    }
}

/// ex-1.4-05's `DeadlockDetector`, with the checker's view of the truth beside it (ghost
/// state, no scheduling points) to judge each status dump against.
struct DeadlockDetector<B: Backend> {
    /// `_lock_holders`: lock → thread name.
    lock_holders: Shared<Vec<(&'static str, &'static str)>, B>,
    /// `_lock_waiters`: thread name → lock.
    lock_waiters: Shared<Vec<(&'static str, &'static str)>, B>,
    monitor_lock: Lock<B>,
    /// Ghost: which thread holds each lock (set as `acquire` returns, cleared as `release`
    /// returns).
    truly_held: Mutex<Vec<(&'static str, &'static str)>>,
    /// Ghost: which threads are between registering as a waiter and updating the books
    /// after their acquire.
    truly_waiting: Mutex<Vec<&'static str>>,
}

fn dict_set(d: &mut Vec<(&'static str, &'static str)>, k: &'static str, v: &'static str) {
    match d.iter_mut().find(|(key, _)| *key == k) {
        Some(e) => e.1 = v,
        None => d.push((k, v)),
    }
}

fn dict_del(d: &mut Vec<(&'static str, &'static str)>, k: &'static str) {
    d.retain(|(key, _)| *key != k);
}

impl<B: Backend> DeadlockDetector<B> {
    fn new() -> Self {
        DeadlockDetector {
            lock_holders: Shared::new(Vec::new()).with_name("detector._lock_holders"),
            lock_waiters: Shared::new(Vec::new()).with_name("detector._lock_waiters"),
            monitor_lock: Lock::new().with_name("detector._monitor_lock"),
            truly_held: Mutex::new(Vec::new()),
            truly_waiting: Mutex::new(Vec::new()),
        }
    }

    fn acquire_with_tracking(
        &self,
        lock: &NamedLock<B>,
        thread_name: &'static str,
        timeout: f64,
    ) -> bool {
        {
            let _with = self.monitor_lock.lock();
            self.lock_waiters
                .update(|w| dict_set(w, thread_name, lock.name));
            ghost(&self.truly_waiting).push(thread_name);
        }
        let acquired = py(lock.lock.acquire_timeout(timeout));
        if acquired {
            dict_set(&mut ghost(&self.truly_held), lock.name, thread_name);
        }
        {
            let _with = self.monitor_lock.lock();
            if acquired {
                self.lock_holders
                    .update(|h| dict_set(h, lock.name, thread_name));
                if self
                    .lock_waiters
                    .get()
                    .iter()
                    .any(|(t, _)| *t == thread_name)
                {
                    self.lock_waiters.update(|w| dict_del(w, thread_name));
                }
            } else {
                // print(f"警告: {thread_name} 获取锁超时")
                self.print_status(thread_name);
            }
            ghost(&self.truly_waiting).retain(|t| *t != thread_name);
        }
        acquired
    }

    fn release_with_tracking(&self, lock: &NamedLock<B>, thread_name: &'static str) {
        py(lock.lock.release());
        {
            let mut held = ghost(&self.truly_held);
            if held.contains(&(lock.name, thread_name)) {
                dict_del(&mut held, lock.name);
            }
        }
        let _with = self.monitor_lock.lock();
        if self.lock_holders.get().iter().any(|(l, _)| *l == lock.name) {
            self.lock_holders.update(|h| dict_del(h, lock.name));
        }
    }

    /// `print_status()`, called under `_monitor_lock` by `printer` after its timeout: the
    /// dump must show who holds what and who waits (the printer's own wait, which just
    /// timed out, is what its warning is about).
    fn print_status(&self, printer: &'static str) {
        let holders = self.lock_holders.get();
        let waiters = self.lock_waiters.get();
        let held = ghost(&self.truly_held).clone();
        let waiting = ghost(&self.truly_waiting).clone();
        for (lock, holder) in &holders {
            ensure(held.contains(&(lock, holder)), "status-accurate", || {
                format!(
                    "{printer}'s dump says {lock} is held by {holder}, but it is not \
                     (holders {holders:?}, truly held {held:?})"
                )
            });
        }
        for (thread, lock) in &waiters {
            ensure(
                *thread == printer || waiting.contains(thread),
                "status-accurate",
                || {
                    format!(
                        "{printer}'s dump says {thread} waits for {lock}, but {thread} \
                         stopped waiting (waiters {waiters:?})"
                    )
                },
            );
        }
    }
}

fn ghost<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// ex-1.4-05: `monitored_work` takes its two locks (opposite orders) through the detector,
/// 2 s timeouts, 0.1 s between them.
fn ex_1_4_05<B: Backend>() {
    let detector = Arc::new(DeadlockDetector::<B>::new());
    let lock1 = Arc::new(NamedLock::<B>::new("lock1"));
    let lock2 = Arc::new(NamedLock::<B>::new("lock2"));
    let monitored_work = |name: &'static str, first: Arc<NamedLock<B>>, second| {
        let detector = detector.clone();
        let second: Arc<NamedLock<B>> = second;
        move || {
            if detector.acquire_with_tracking(&first, name, 2.0) {
                sleep::<B>(0.1);
                if detector.acquire_with_tracking(&second, name, 2.0) {
                    // print(f"{name}: 完成操作")
                    detector.release_with_tracking(&second, name);
                }
                detector.release_with_tracking(&first, name);
            }
        }
    };
    let t1 = B::spawn("t1", monitored_work("线程1", lock1.clone(), lock2.clone()));
    let t2 = B::spawn("t2", monitored_work("线程2", lock2, lock1));
    t1.join();
    t2.join();
}

/// `LockManager._locks`: name → lock.
type LockDict<B> = Vec<(&'static str, Arc<ManagedLock<B>>)>;

/// ex-1.4-06's `LockManager`: named locks created on demand in a dict.
struct LockManager<B: Backend> {
    locks: Shared<LockDict<B>, B>,
    created: AtomicUsize,
    /// Probe: holding "the lock named X" must be exclusive, whatever object it is.
    held: Vec<(&'static str, Region<B>)>,
}

/// A lock the manager created, shown in traces as the dict entry it was made for.
struct ManagedLock<B: Backend> {
    label: String,
    lock: Lock<B>,
}

impl<B: Backend> fmt::Debug for ManagedLock<B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.label)
    }
}

impl<B: Backend> LockManager<B> {
    fn new(names: &[&'static str]) -> Self {
        LockManager {
            locks: Shared::new(Vec::new()).with_name("manager._locks"),
            created: AtomicUsize::new(0),
            held: names
                .iter()
                .map(|n| (*n, Region::new(&format!("holding lock {n:?}"), 1)))
                .collect(),
        }
    }

    fn get_lock(&self, name: &'static str) -> Arc<ManagedLock<B>> {
        let lookup = |locks: &[(&str, Arc<ManagedLock<B>>)]| {
            locks
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, l)| l.clone())
        };
        // `if name not in self._locks:`
        if lookup(&self.locks.get()).is_none() {
            // `self._locks[name] = threading.Lock()`
            let label = format!(
                "Lock#{} for {name:?}",
                self.created.fetch_add(1, SeqCst) + 1
            );
            let lock = Arc::new(ManagedLock {
                lock: Lock::new().with_name(&label),
                label,
            });
            self.locks
                .update(|m| match m.iter_mut().find(|(n, _)| *n == name) {
                    Some(e) => e.1 = lock,
                    None => m.push((name, lock)),
                });
        }
        // `return self._locks[name]`
        lookup(&self.locks.get()).expect("the key was just set")
    }

    /// `with acquire_multiple(*names, timeout=5):` around `body`; `Err` is the
    /// `TimeoutError` it raises.
    fn acquire_multiple(&self, names: &[&'static str], body: impl FnOnce()) -> Result<(), String> {
        let mut sorted_names = names.to_vec();
        sorted_names.sort();
        let locks: Vec<_> = sorted_names
            .iter()
            .map(|n| (*n, self.get_lock(n)))
            .collect();
        let mut acquired = Vec::new();
        let mut result = Ok(());
        for (name, lock) in &locks {
            if !py(lock.lock.acquire_timeout(5.0)) {
                result = Err(format!("获取锁超时: {names:?}"));
                break;
            }
            let region = self.held.iter().find(|(n, _)| n == name).map(|(_, r)| r);
            acquired.push((lock, region.map(|r| r.enter())));
        }
        if result.is_ok() {
            body();
        }
        for (lock, inside) in acquired.into_iter().rev() {
            drop(inside);
            py(lock.lock.release());
        }
        result
    }
}

/// ex-1.4-06: `safe_transfer("A", "B", 100)` and `safe_transfer("B", "A", 50)` through
/// `acquire_multiple` (the body only prints).
fn ex_1_4_06<B: Backend>() {
    let manager = Arc::new(LockManager::<B>::new(&["A", "B"]));
    let safe_transfer = |from: &'static str, to: &'static str| {
        let manager = manager.clone();
        move || {
            let r = manager.acquire_multiple(&[from, to], || {
                // print(f"转账: {from_account} -> {to_account}: {amount}")
            });
            // An uncaught TimeoutError ends the thread with a traceback.
            if let Err(e) = r {
                panic!("uncaught TimeoutError('{e}')");
            }
        }
    };
    let t1 = B::spawn("t1", safe_transfer("A", "B"));
    let t2 = B::spawn("t2", safe_transfer("B", "A"));
    t1.join();
    t2.join();
    // print("转账完成,无死锁")
}

/// The chapter's scenarios, in tutorial order.
pub fn scenarios() -> Vec<Scenario> {
    vec![
        Scenario::new(
            "ex-1.1-01",
            "3 threads increment a counter under acquire/try/finally release",
            bodies!(ex_1_1_01),
        )
        .holds("every read-increment-write runs inside the lock; the count is 3")
        .threads(COUNTER_THREADS)
        .source("ex-1.1-01"),
        Scenario::new(
            "ex-1.1-03",
            "3 threads withdraw 100 each: read balance, sleep 1 ms, write, no lock",
            bodies!(ex_1_1_03),
        )
        .violates(
            "no-lost-update",
            "as the tutorial says: every thread reads the balance before any writes it back \
             (the sleep lets the others in), so withdrawals are lost",
        )
        .threads(WITHDRAWALS)
        .source("ex-1.1-03"),
        Scenario::new(
            "ex-1.1-04",
            "the same withdrawals with the read-sleep-write under a lock",
            bodies!(ex_1_1_04),
        )
        .holds("the sleep is inside the lock, so each withdrawal sees the last one's write")
        .threads(WITHDRAWALS)
        .source("ex-1.1-04"),
        Scenario::new(
            "ex-1.1-05",
            "two accounts, each with its own lock; one withdrawal from each",
            bodies!(ex_1_1_05),
        )
        .holds("each balance is touched by one thread under its own lock: 900 and 1800")
        .source("ex-1.1-05"),
        Scenario::new(
            "ex-1.2-01",
            "T1 holds the lock 2 s; at 0.5 s T2 polls and T3 waits 1 s; the printed output",
            bodies!(ex_1_2_01),
        )
        .violates(
            "printed-output",
            "T2 and T3 both wake at 0.5 s and race: T3 may print its attempt before T2 does, \
             so the tutorial's output order is one of several (found once equal deadlines wake \
             together in timed mode)",
        )
        .threads(3)
        .source("ex-1.2-01"),
        Scenario::new(
            "ex-1.2-01-adversarial",
            "the same acquires and output, in adversarial time",
            bodies!(ex_1_2_01),
        )
        .violates(
            "printed-output",
            "the output holds only by the sleeps' margins: T2 and T3 both wake at 0.5 s in either \
             order, and a thread delayed past another's deadline prints other results",
        )
        .adversarial()
        // Finding it needs the engine to choose which due deadline fires (a sleep delayed past
        // another thread's timeout, two timeouts that both fire): loom's environment thread
        // fires only the first pending lock timeout, and must as soon as it alone can run.
        .needs_choice()
        .threads(3)
        .source("ex-1.2-01"),
        Scenario::new(
            "ex-1.2-03",
            "T1 appends 10, T2's -5 raises inside try/except/finally; the printed output",
            bodies!(ex_1_2_03),
        )
        .violates(
            "printed-output",
            "T2 may take the lock first, and '锁已释放' is printed after release, outside \
             the lock, so the four lines come in other orders",
        )
        .source("ex-1.2-03"),
        Scenario::new(
            "ex-1.2-03-results",
            "the same appends, checking the final list and that the lock is never leaked",
            bodies!(ex_1_2_03_results),
        )
        .holds("the finally releases the lock after the ValueError; the list is [10]")
        .source("ex-1.2-03"),
        Scenario::new(
            "ex-1.2-04",
            "a 3-attempt retry of acquire(timeout=0.5) against a 2 s holder",
            bodies!(ex_1_2_04),
        )
        .violates(
            "retry-succeeds",
            "the third attempt gives up at 1.8 s (0.1 + 3 x 0.5 + 2 x 0.1), before the \
             holder releases at 2 s: the value is never added",
        )
        .source("ex-1.2-04"),
        Scenario::new(
            "ex-1.2-05",
            "3 threads try a non-blocking acquire and count successes and failures",
            bodies!(ex_1_2_05),
        )
        .violates(
            "no-lost-update",
            "stats[\"failed\"] += 1 runs outside the lock: two failing threads can read the \
             same count and one failure is lost",
        )
        .threads(TRY_THREADS)
        .source("ex-1.2-05"),
        Scenario::new(
            "ex-1.2-06",
            "good_practice: 3 threads do 1 s of I/O outside the lock, then update the cache",
            bodies!(ex_1_2_06),
        )
        .holds("the sleeps overlap; the whole run takes 1 s of virtual time")
        .threads(IO_THREADS)
        .source("ex-1.2-06"),
        Scenario::new(
            "ex-1.2-06-bad",
            "bad_practice (defined, never run by the example): the I/O under the lock",
            bodies!(ex_1_2_06_bad),
        )
        .holds(
            "the lock serialises the sleeps: 3 threads take 3 s, the comparison the example meant",
        )
        .threads(IO_THREADS)
        .source("ex-1.2-06"),
        Scenario::new(
            "ex-1.3-01",
            "3 threads increment a counter under `with lock:`",
            bodies!(ex_1_3_01),
        )
        .holds("every read-increment-write runs inside the with block; the count is 3")
        .threads(COUNTER_THREADS)
        .source("ex-1.3-01"),
        Scenario::new(
            "ex-1.3-03",
            "`with from_lock, to_lock:` called with (lock1, lock2) and (lock2, lock1)",
            bodies!(ex_1_3_03),
        )
        .violates(
            "deadlock",
            "with a, b takes a then b: T1 holds lock1 waiting for lock2 while T2 holds lock2 \
             waiting for lock1",
        )
        .source("ex-1.3-03"),
        Scenario::new(
            "ex-1.3-04",
            "3 threads take lock_a, then lock_b nested inside, the same order everywhere",
            bodies!(ex_1_3_04),
        )
        .holds("one global order (lock_a before lock_b): no cycle, no lost update")
        .threads(NESTED_THREADS)
        .source("ex-1.3-04"),
        Scenario::new(
            "ex-1.3-05",
            "ThreadSafeCounter: an increment thread and a decrement thread, 2 ops each",
            bodies!(ex_1_3_05),
        )
        .holds("every operation is under the counter's lock; the final value is 0")
        .threads(2 * COUNTER_PAIRS)
        .source("ex-1.3-05"),
        Scenario::new(
            "ex-1.3-06",
            "ThreadSafeCache (LRU, capacity 1): 2 workers, 3 get-or-put each over 2 keys",
            bodies!(ex_1_3_06),
        )
        .holds(
            "get and put each run under the lock: the size stays within capacity and \
             hits + misses counts every get (the hit count itself varies)",
        )
        .threads(CACHE_WORKERS)
        .source("ex-1.3-06"),
        Scenario::new(
            "ex-1.4-01",
            "T1 takes lock1 then lock2, T2 lock2 then lock1; main joins with timeout=2",
            bodies!(ex_1_4_01),
        )
        .violates(
            "deadlock",
            "as the tutorial says: both take their first lock during the 0.1 s of work, then \
             wait for each other; join(timeout=2) returns, the deadlock is reported, and the \
             program hangs at exit waiting for its threads",
        )
        .source("ex-1.4-01"),
        Scenario::new(
            "ex-1.4-02",
            "two transfers with opposite arguments; locks sorted by id() before nesting",
            bodies!(ex_1_4_02),
        )
        .holds("both threads take the lower-address lock first: no cycle")
        .source("ex-1.4-02"),
        Scenario::new(
            "ex-1.4-03",
            "acquire(timeout=0.5) on both locks in opposite orders, 3 retries, 0.1 s back-off",
            bodies!(ex_1_4_03),
        )
        .violates(
            "retry-succeeds",
            "the two 0.5 s timeouts fall due together; when both fire, both threads release \
             and retry in step and can give up together (达到最大重试次数) even in timed mode",
        )
        .source("ex-1.4-03"),
        Scenario::new(
            "ex-1.4-03-adversarial",
            "the same timeout and back-off scheme, in adversarial time",
            bodies!(ex_1_4_03),
        )
        .violates(
            "retry-succeeds",
            "a timeout ends every wait but guarantees no progress: when the other thread is \
             late (it holds its first lock past the 0.5 s timeouts) or both second acquires time \
             out together, a thread spends its 3 retries and gives up (达到最大重试次数)",
        )
        .adversarial()
        // Finding it needs the engine to choose which due deadline fires (a sleep delayed past
        // another thread's timeout, two timeouts that both fire): loom's environment thread
        // fires only the first pending lock timeout, and must as soon as it alone can run.
        .needs_choice()
        .source("ex-1.4-03"),
        Scenario::new(
            "ex-1.4-04",
            "try-lock on both locks in opposite orders, random back-off, 10 attempts",
            bodies!(ex_1_4_04),
        )
        .violates(
            "retry-succeeds",
            "never a deadlock, but no progress promise: the thread that loses spends its 10 \
             attempts (1-10 ms back-offs) while the winner holds lock1 for its 10 + 50 ms, and \
             gives up (尝试10次后失败)",
        )
        .needs_choice()
        .source("ex-1.4-04"),
        Scenario::new(
            "ex-1.4-04-no-deadlock",
            "the same try-lock scheme, checking only that it never hangs",
            bodies!(ex_1_4_04_no_deadlock),
        )
        .holds("no thread ever blocks on a lock: the try-lock scheme cannot deadlock")
        .needs_choice()
        .source("ex-1.4-04"),
        Scenario::new(
            "ex-1.4-03-livelock",
            "acquire(timeout=0.5) on both locks in opposite orders, retrying forever",
            bodies!(ex_1_4_03_livelock),
        )
        .violates(
            "livelock",
            "both take their first lock, both second acquires time out together (equal \
             deadlines), both release, back off 0.1 s and start again: a cycle that repeats \
             with the locks and the clock in the same state; max_retries = 3 only turns it into \
             both threads giving up",
        )
        .liveness(3)
        .source("ex-1.4-03"),
        Scenario::new(
            "ex-1.4-04-livelock",
            "try-lock on both locks in opposite orders, random back-off, retrying forever",
            bodies!(ex_1_4_04_livelock),
        )
        .violates(
            "livelock",
            "each takes its first lock, finds the other's taken, releases and backs off; when \
             the two random back-offs come out equal round after round the threads stay in \
             lock step forever (10 attempts only turn it into giving up)",
        )
        .liveness(3)
        .needs_choice()
        .source("ex-1.4-04"),
        Scenario::new(
            "ex-1.4-05",
            "DeadlockDetector: opposite-order acquires with 2 s timeouts and bookkeeping",
            bodies!(ex_1_4_05),
        )
        .violates(
            "status-accurate",
            "the two 2 s timeouts fall due together; the dumps then race with the other \
             thread's bookkeeping and report waiters or holders that are already gone",
        )
        .source("ex-1.4-05"),
        Scenario::new(
            "ex-1.4-05-adversarial",
            "the same detector, in adversarial time",
            bodies!(ex_1_4_05),
        )
        .violates(
            "status-accurate",
            "a thread whose acquire times out is never removed from _lock_waiters, so the \
             other thread's dump lists it as still waiting",
        )
        .adversarial()
        // Finding it needs the engine to choose which due deadline fires (a sleep delayed past
        // another thread's timeout, two timeouts that both fire): loom's environment thread
        // fires only the first pending lock timeout, and must as soon as it alone can run.
        .needs_choice()
        .source("ex-1.4-05"),
        Scenario::new(
            "ex-1.4-06",
            "LockManager: transfers A->B and B->A through acquire_multiple",
            bodies!(ex_1_4_06),
        )
        .violates(
            "mutual-exclusion",
            "get_lock checks then creates without a lock: both threads can create their own \
             lock for the same name and hold 'it' at once",
        )
        .source("ex-1.4-06"),
    ]
}

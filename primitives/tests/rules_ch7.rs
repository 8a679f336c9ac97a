//! The prose rules of the tutorial's chapter 7 (multiprocessing), each checked against
//! `lockproof::process` (CPython 3.11's `multiprocessing.synchronize`, SEMANTICS.md §10);
//! one test per catalogue record that needs its own, named after it (`rule-7.1-02` →
//! `rule_7_1_02_*`). Records that state what another test already checks cite it
//! (`/work/staging/ch7-rules.jsonl`, merged into `corpus/catalogue/ch7.jsonl`, says which).
//!
//! Three kinds of test:
//! - **real processes**: the test binary re-executes itself as the child
//!   ([`support::children`]); the parent waits for an observable state (a shared stage word,
//!   a condition's sleeper count), never sleeps to let a child block, and kills its children
//!   when their guards drop;
//! - **in-process**: one process, its threads and reopened handles (a reopened handle is
//!   the object as another process sees it: same shared memory, nothing owned);
//! - **under the checker**: a body generic over [`ProcessBackend`], whose processes are
//!   `B::spawn_process` groups of checked threads, run under loom (every interleaving up to
//!   a preemption bound) or shuttle; a claim that fails somewhere is shown failing there.
//!
//! Rules the tutorial states wrongly (7.1-12, 7.1-13, 7.2-01, 7.2-02, 7.3-03, 7.3-14,
//! 7.3-16, 7.4-03, 7.4-14) are tested for what CPython actually does.
//!
//! Where a test shows that something does *not* happen for a while, it keeps checking,
//! yielding, for that while ([`for_a_while`]).

mod support;

use lockproof::backend::checked::{violate, ExecutionReport, Failure, WorldConfig};
use lockproof::backend::process::ProcessBackend;
use lockproof::backend::spawn::ProcessHandle;
use lockproof::backend::{Backend, Loom, Shuttle, Std};
use lockproof::multiprocessing::{
    Array, BoundedSemaphore, Condition, Event, Lock, RLock, RawArray, RawValue, Semaphore, Value,
};
use lockproof::process::{self as mp, AnyLock};
use lockproof::{Error, PyException};
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};
use support::children::{
    bound_secs, handle, park_until_killed, role, spawn, spawn_with, until, BOUND,
};
use support::{
    assert_waited, for_a_while, loom_with, passes, quiet_panics, shuttle_check, spin_until, A_WHILE,
};

// ---- helpers -------------------------------------------------------------------------------

/// Run a checked body under loom with preemption bound `bound`.
fn loom(bound: usize, body: fn()) -> Result<usize, Box<ExecutionReport>> {
    loom_with(WorldConfig::default(), Some(bound), body)
}

/// Run a checked body under loom with one crash fault allowed.
fn loom_crashing(bound: usize, body: fn()) -> Result<usize, Box<ExecutionReport>> {
    let config = WorldConfig {
        crashes: 1,
        ..WorldConfig::default()
    };
    loom_with(config, Some(bound), body)
}

/// The property a failed run violated.
fn violated(r: Result<usize, Box<ExecutionReport>>, what: &str) -> String {
    let report = r.unwrap_err_or(what);
    match report.failure {
        Some(Failure::Violation { property, .. }) => property,
        other => panic!("{what}: expected a violation, got {other:?}"),
    }
}

/// The verdict word of a failed run (`deadlock`, `dead-holder`, …).
fn failed_as(r: Result<usize, Box<ExecutionReport>>, what: &str) -> &'static str {
    let report = r.unwrap_err_or(what);
    report.failure.as_ref().expect("a failure").kind()
}

trait UnwrapErrOr {
    fn unwrap_err_or(self, what: &str) -> Box<ExecutionReport>;
}

impl UnwrapErrOr for Result<usize, Box<ExecutionReport>> {
    fn unwrap_err_or(self, what: &str) -> Box<ExecutionReport> {
        match self {
            Ok(n) => panic!("the checker found nothing in {n} executions: {what}"),
            Err(r) => r,
        }
    }
}

/// Assert `r` is exactly `want`, of Python class `class`, with CPython's message `msg`.
fn raises<T: std::fmt::Debug>(r: lockproof::Result<T>, want: Error, class: PyException, msg: &str) {
    let e = r.expect_err("expected an exception");
    assert_eq!(e, want);
    assert_eq!(e.exception(), class);
    assert_eq!(e.to_string(), msg);
}

/// `ValueError('semaphore or lock released too many times')`.
fn assert_released_too_many<T: std::fmt::Debug>(r: lockproof::Result<T>) {
    raises(
        r,
        Error::SemLockReleasedTooManyTimes,
        PyException::ValueError,
        "semaphore or lock released too many times",
    );
}

/// `AssertionError('attempt to release recursive lock not owned by thread')`.
fn assert_not_owned<T: std::fmt::Debug>(r: lockproof::Result<T>) {
    raises(
        r,
        Error::RecursiveLockNotOwned,
        PyException::AssertionError,
        "attempt to release recursive lock not owned by thread",
    );
}

/// Raise inside `f` (Python: an exception in the `with` block) without the panic hook's
/// noise; return whether it raised.
fn raising(f: impl FnOnce()) -> bool {
    catch_unwind(AssertUnwindSafe(f)).is_err()
}

fn raise() -> ! {
    resume_unwind(Box::new("raised in the with block"))
}

// ---- 7.1 multiprocessing.Lock ----------------------------------------------------------------

/// Two processes add one to a shared counter, under the mp Lock or not.
fn lock_guards_counter<B: ProcessBackend, const LOCKED: bool>() {
    let lock = mp::Lock::<B>::new().with_name("lock");
    let counter = mp::RawValue::<i64, B>::new(0).with_name("counter");
    let add = move |lock: &mp::Lock<B>, counter: &mp::RawValue<i64, B>| {
        let _g = LOCKED.then(|| lock.lock());
        counter.set_value(counter.value() + 1);
    };
    let (l2, c2) = (lock.reopen(), counter.reopen());
    let child = B::spawn_process("child", move || add(&l2, &c2));
    add(&lock, &counter);
    assert_eq!(child.join(), 0);
    if counter.value() != 2 {
        violate("no-lost-update", "an increment of the counter was lost");
    }
}

/// rule-7.1-01: multiprocessing.Lock protects a shared resource from concurrent access: with
/// it, no interleaving of two processes loses an increment; without it, loom finds one.
#[test]
fn rule_7_1_01_lock_protects_shared_resource_from_concurrent_access() {
    passes(loom(3, lock_guards_counter::<Loom, true>));
    passes(shuttle_check(lock_guards_counter::<Shuttle, true>, 200));
    quiet_panics();
    assert_eq!(
        violated(loom(3, lock_guards_counter::<Loom, false>), "unguarded"),
        "no-lost-update"
    );
}

/// rule-7.1-02: mp.Lock makes access mutually exclusive across real processes: three
/// processes, 2000 times each, acquire(), check nobody else is inside, update, release().
#[test]
fn rule_7_1_02_lock_excludes_across_real_processes() {
    const N: usize = 3;
    const K: i64 = 2000;
    if role().is_some() {
        let lock = Lock::open(&handle("LOCK")).unwrap();
        let inside = RawValue::<i64>::open(&handle("INSIDE")).unwrap();
        let counter = RawValue::<i64>::open(&handle("COUNTER")).unwrap();
        for _ in 0..K {
            assert!(lock.acquire());
            let n = inside.value() + 1;
            inside.set_value(n);
            assert_eq!(n, 1, "two processes inside the lock");
            counter.set_value(counter.value() + 1);
            inside.set_value(n - 1);
            lock.release().unwrap();
        }
        return;
    }
    let lock = Lock::new();
    let inside = RawValue::<i64>::new(0);
    let counter = RawValue::<i64>::new(0);
    let handles = [
        ("LOCK", lock.handle()),
        ("INSIDE", inside.handle()),
        ("COUNTER", counter.handle()),
    ];
    let mut children: Vec<_> = (0..N)
        .map(|_| {
            spawn(
                "rule_7_1_02_lock_excludes_across_real_processes",
                "w",
                &handles,
            )
        })
        .collect();
    for c in &mut children {
        c.wait_success();
    }
    assert_eq!(counter.value(), N as i64 * K);
    assert_eq!(lock.value(), 1, "free at the end");
}

/// rule-7.1-03: the lock a parent creates is shared with its child: the child's acquire
/// holds the parent's lock (the parent sees it held by another process), and its release
/// frees it for the parent.
#[test]
fn rule_7_1_03_lock_is_shared_between_parent_and_child() {
    if role().is_some() {
        let lock = Lock::open(&handle("LOCK")).unwrap();
        let stage = RawValue::<i32>::open(&handle("STAGE")).unwrap();
        let go = Semaphore::open(&handle("GO")).unwrap();
        assert!(lock.acquire());
        stage.set_value(1);
        assert_eq!(go.acquire_timeout(bound_secs()), Ok(true));
        lock.release().unwrap();
        return;
    }
    let lock = Lock::new();
    let stage = RawValue::<i32>::new(0);
    let go = Semaphore::new(0).unwrap();
    let mut child = spawn(
        "rule_7_1_03_lock_is_shared_between_parent_and_child",
        "child",
        &[
            ("LOCK", lock.handle()),
            ("STAGE", stage.handle()),
            ("GO", go.handle()),
        ],
    );
    until("the child holds the lock", || stage.value() == 1);
    assert_eq!(lock.value(), 0);
    assert!(!lock.try_acquire());
    assert_eq!(format!("{lock:?}"), "<Lock(owner=SomeOtherProcess)>");
    go.release().unwrap();
    child.wait_success();
    assert_eq!(lock.acquire_timeout(bound_secs()), Ok(true));
    lock.release().unwrap();
}

/// rule-7.1-04: both ways to acquire: acquire() blocks (and returns True), acquire(False)
/// returns at once, False while the lock is held.
#[test]
fn rule_7_1_04_blocking_and_non_blocking_acquire() {
    let lock = Lock::new();
    assert!(lock.acquire());
    let start = Instant::now();
    assert!(!lock.try_acquire());
    assert_eq!(lock.acquire_with(false, None), Ok(false));
    assert!(start.elapsed() < BOUND);
    lock.release().unwrap();
    assert!(lock.try_acquire());
    lock.release().unwrap();
}

/// rule-7.1-05: multiprocessing.Lock is for processes, threading.Lock for threads. A child
/// process (fork) that takes both and exits leaves the mp Lock held for its parent, while
/// the parent's threading.Lock is untouched: the child had only a copy of it.
#[test]
fn rule_7_1_05_mp_lock_spans_processes_threading_lock_does_not() {
    let tl = Arc::new(lockproof::threading::Lock::new());
    let pl = Arc::new(Lock::new());
    let (tl2, pl2) = (tl.clone(), pl.clone());
    let child = Std::spawn_process("child", move || {
        assert!(tl2.try_acquire());
        assert!(pl2.try_acquire());
    });
    assert_eq!(child.join(), 0);
    assert!(!tl.locked(), "the child's threading.Lock was its own copy");
    assert!(tl.try_acquire());
    assert_eq!(
        pl.value(),
        0,
        "the child's acquire of the mp Lock is seen here"
    );
    assert!(!pl.try_acquire());
}

/// rule-7.1-06: mp.Lock is a process-shared semaphore (CPython: a SemLock of kind
/// SEMAPHORE, value 1, maxvalue 1): its value is 1 free and 0 held, and an extra release
/// is the semaphore's error, the same as BoundedSemaphore(1)'s.
#[test]
fn rule_7_1_06_lock_is_a_semaphore_of_one() {
    let lock = Lock::new();
    let bs = BoundedSemaphore::new(1).unwrap();
    assert_eq!((lock.value(), bs.get_value()), (1, 1));
    assert!(lock.acquire() && bs.acquire());
    assert_eq!((lock.value(), bs.get_value()), (0, 0));
    lock.release().unwrap();
    bs.release().unwrap();
    assert_released_too_many(lock.release());
    assert_released_too_many(bs.release());
}

/// rule-7.1-08: create with Lock(), take with acquire(), give back with release().
#[test]
fn rule_7_1_08_create_acquire_release() {
    let lock = Lock::new();
    assert_eq!(lock.value(), 1);
    assert!(lock.acquire());
    assert!(lock.is_mine());
    assert_eq!(lock.value(), 0);
    lock.release().unwrap();
    assert!(!lock.is_mine());
    assert_eq!(lock.value(), 1);
}

/// rule-7.1-09: `with lock:` acquires on entry and releases on exit, also when the block
/// raises.
#[test]
fn rule_7_1_09_with_acquires_and_releases() {
    let lock = Lock::new();
    {
        let _g = lock.lock();
        assert_eq!(lock.value(), 0);
    }
    assert_eq!(lock.value(), 1);
    assert!(raising(|| {
        let _g = lock.lock();
        raise();
    }));
    assert_eq!(lock.value(), 1, "released by the raising with block");
}

/// rule-7.1-10: acquire() blocks until the lock is obtained: a child's acquire() does not
/// return while the parent holds the lock, and returns once the parent releases it.
#[test]
fn rule_7_1_10_acquire_blocks_until_obtained() {
    if role().is_some() {
        let lock = Lock::open(&handle("LOCK")).unwrap();
        let stage = RawValue::<i32>::open(&handle("STAGE")).unwrap();
        stage.set_value(1);
        assert!(lock.acquire());
        stage.set_value(2);
        lock.release().unwrap();
        return;
    }
    let lock = Lock::new();
    let stage = RawValue::<i32>::new(0);
    assert!(lock.acquire());
    let mut child = spawn(
        "rule_7_1_10_acquire_blocks_until_obtained",
        "acquirer",
        &[("LOCK", lock.handle()), ("STAGE", stage.handle())],
    );
    until("the child calls acquire()", || stage.value() == 1);
    assert!(
        for_a_while(A_WHILE * 4, || stage.value() == 1),
        "acquire() returned while the parent held the lock"
    );
    lock.release().unwrap();
    until("the child's acquire() returns", || stage.value() == 2);
    child.wait_success();
}

/// rule-7.1-11: acquire(timeout=t) gives up after t seconds and returns False (no
/// exception); a negative timeout is 0 (returns at once).
#[test]
fn rule_7_1_11_timed_acquire_returns_false() {
    let lock = Arc::new(Lock::new());
    assert!(lock.acquire());
    let other = lock.reopen(); // the lock as another process holds it
    let start = Instant::now();
    assert_eq!(other.acquire_timeout(0.05), Ok(false));
    assert_waited(start, 0.05);
    assert_eq!(other.acquire_timeout(-1.0), Ok(false));
    lock.release().unwrap();
    assert_eq!(other.acquire_timeout(0.05), Ok(true));
    other.release().unwrap();
}

/// rule-7.1-12 (the tutorial: `acquire(blocking=False)`): wrong keyword. mp.Lock's acquire
/// is `acquire(block=True, timeout=None)`; `blocking=False` is a TypeError. The non-blocking
/// acquire, `acquire(False)` or `acquire(block=False)`, returns at once, and ignores a
/// timeout.
#[test]
fn rule_7_1_12_non_blocking_acquire_is_block_false() {
    let lock = Lock::new();
    assert_eq!(lock.acquire_with(false, None), Ok(true));
    let start = Instant::now();
    assert_eq!(lock.acquire_with(false, None), Ok(false));
    assert_eq!(lock.acquire_with(false, Some(5.0)), Ok(false)); // timeout ignored
    assert!(start.elapsed() < Duration::from_secs(5));
    lock.release().unwrap();
}

/// rule-7.1-13 (the tutorial: `locked()` reports whether the lock is held): no such method
/// in 3.11 (AttributeError; added in 3.14). The state is readable only through the
/// semaphore's value (`_semlock._get_value()`) and the repr, and it is a snapshot: another
/// process changes it the next moment.
#[test]
fn rule_7_1_13_lock_state_is_a_value_snapshot() {
    let lock = Lock::new();
    let other = lock.reopen();
    let free = lock.value() == 1;
    assert!(free);
    assert!(other.acquire()); // another process, right after the look
    assert_eq!(lock.value(), 0, "the snapshot is already stale");
    assert_eq!(format!("{lock:?}"), "<Lock(owner=SomeOtherProcess)>");
    other.release().unwrap();
    assert_eq!(format!("{lock:?}"), "<Lock(owner=None)>");
}

/// rule-7.1-15: processes writing one file wrap their reads and writes in the lock: each
/// process's record, written in three separate writes under the lock, stays whole.
#[test]
fn rule_7_1_15_lock_keeps_file_records_whole() {
    use std::io::Write;
    const RECORDS: usize = 100;
    if let Some(who) = role() {
        let lock = Lock::open(&handle("LOCK")).unwrap();
        let path = std::env::var("RECORDS_FILE").unwrap();
        let mut f = std::fs::OpenOptions::new().append(true).open(path).unwrap();
        for i in 0..RECORDS {
            let _g = lock.lock();
            for part in ["begin", "body", "end"] {
                f.write_all(format!("{who} {i} {part}\n").as_bytes())
                    .unwrap();
            }
        }
        return;
    }
    let dir = std::env::temp_dir().join(format!("lockproof-rule-7-1-15-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("records.txt");
    std::fs::write(&path, "").unwrap();
    let lock = Lock::new();
    let p = path.to_str().unwrap().to_owned();
    let mut children: Vec<_> = ["a", "b", "c"]
        .iter()
        .map(|who| {
            spawn_with(
                "rule_7_1_15_lock_keeps_file_records_whole",
                who,
                &[("LOCK", lock.handle())],
                &[("RECORDS_FILE", &p)],
            )
        })
        .collect();
    for c in &mut children {
        c.wait_success();
    }
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3 * 3 * RECORDS);
    for rec in lines.chunks(3) {
        let head = rec[0]
            .strip_suffix(" begin")
            .expect("a record starts with begin");
        assert_eq!(
            rec[1],
            format!("{head} body"),
            "record interleaved: {rec:?}"
        );
        assert_eq!(rec[2], format!("{head} end"), "record interleaved: {rec:?}");
    }
}

/// A transaction moves one unit between two accounts (two writes); an auditor process
/// reads the total. Under the lock (`LOCKED`) or not.
fn transfer_and_audit<B: ProcessBackend, const LOCKED: bool>() {
    let lock = mp::Lock::<B>::new().with_name("db");
    let a = mp::RawValue::<i64, B>::new(10).with_name("a");
    let b = mp::RawValue::<i64, B>::new(0).with_name("b");
    let (l2, a2, b2) = (lock.reopen(), a.reopen(), b.reopen());
    let auditor = B::spawn_process("auditor", move || {
        let _g = LOCKED.then(|| l2.lock());
        let total = a2.value() + b2.value();
        if total != 10 {
            violate(
                "consistent-read",
                &format!("the auditor saw a total of {total}"),
            );
        }
    });
    {
        let _g = LOCKED.then(|| lock.lock());
        a.set_value(a.value() - 1);
        b.set_value(b.value() + 1);
    }
    assert_eq!(auditor.join(), 0);
}

/// rule-7.1-16: a lock around database transactions: with it, another process never sees
/// a transaction half done; without it, loom finds an auditor that does.
#[test]
fn rule_7_1_16_lock_makes_a_transaction_whole_to_other_processes() {
    passes(loom(3, transfer_and_audit::<Loom, true>));
    quiet_panics();
    assert_eq!(
        violated(
            loom(3, transfer_and_audit::<Loom, false>),
            "unlocked transaction"
        ),
        "consistent-read"
    );
}

/// Two processes each allocate a slot of a two-slot pool, use it, and give it back;
/// allocation (find a free slot, mark it) under the pool lock or not.
fn pool_allocation<B: ProcessBackend, const LOCKED: bool>() {
    let lock = mp::Lock::<B>::new().with_name("pool");
    let slots = mp::RawArray::<i32, B>::new(&[0, 0]).with_name("slots");
    let user = move |me: i32, lock: mp::Lock<B>, slots: mp::RawArray<i32, B>| {
        let slot = {
            let _g = LOCKED.then(|| lock.lock());
            let free = (0..2).find(|&i| slots.get(i).unwrap() == 0);
            let i = free.expect("a free slot: two users, two slots");
            slots.set(i, me).unwrap();
            i
        };
        if slots.get(slot).unwrap() != me {
            violate("exclusive-allocation", "one slot handed to two processes");
        }
        let _g = LOCKED.then(|| lock.lock());
        slots.set(slot, 0).unwrap();
    };
    let (l2, s2) = (lock.reopen(), slots.reopen());
    let child = B::spawn_process("child", move || user(2, l2, s2));
    user(1, lock.reopen(), slots.reopen());
    assert_eq!(child.join(), 0);
}

/// rule-7.1-17: the lock around a pool's allocation and reclamation hands each slot to one
/// process at a time; without it, loom finds one slot given to two processes.
#[test]
fn rule_7_1_17_lock_protects_pool_allocation() {
    passes(loom(3, pool_allocation::<Loom, true>));
    quiet_panics();
    assert_eq!(
        violated(loom(3, pool_allocation::<Loom, false>), "unlocked pool"),
        "exclusive-allocation"
    );
}

/// Two processes add to a counter; the work outside the lock is pure, and either the whole
/// read-modify-write is inside the lock (`WHOLE`), or only the write is (the section
/// shrunk too far).
fn minimal_section<B: ProcessBackend, const WHOLE: bool>() {
    let lock = mp::Lock::<B>::new().with_name("lock");
    let counter = mp::RawValue::<i64, B>::new(0).with_name("counter");
    let add = move |lock: &mp::Lock<B>, counter: &mp::RawValue<i64, B>| {
        let work = (1..=3).sum::<i64>() - 5; // computed outside the lock: 1
        if WHOLE {
            let _g = lock.lock();
            counter.set_value(counter.value() + work);
        } else {
            let seen = counter.value();
            let _g = lock.lock();
            counter.set_value(seen + work);
        }
    };
    let (l2, c2) = (lock.reopen(), counter.reopen());
    let child = B::spawn_process("child", move || add(&l2, &c2));
    add(&lock, &counter);
    assert_eq!(child.join(), 0);
    if counter.value() != 2 {
        violate("no-lost-update", "an update was lost");
    }
}

/// rule-7.1-18: lock only the necessary critical section. Work that touches nothing shared
/// can stay outside; the read-modify-write of the shared value cannot: with the read moved
/// out of the lock, loom finds a lost update.
#[test]
fn rule_7_1_18_critical_section_is_the_whole_read_modify_write() {
    passes(loom(3, minimal_section::<Loom, true>));
    quiet_panics();
    assert_eq!(
        violated(loom(3, minimal_section::<Loom, false>), "read outside"),
        "no-lost-update"
    );
}

/// Two processes take two mp Locks, in the same order or (`OPPOSITE`) in opposite orders.
fn two_locks<B: ProcessBackend, const OPPOSITE: bool>() {
    let a = mp::Lock::<B>::new().with_name("a");
    let b = mp::Lock::<B>::new().with_name("b");
    let (a2, b2) = (a.reopen(), b.reopen());
    let child = B::spawn_process("child", move || {
        let (first, second) = if OPPOSITE { (&b2, &a2) } else { (&a2, &b2) };
        let _f = first.lock();
        let _s = second.lock();
    });
    {
        let _a = a.lock();
        let _b = b.lock();
    }
    assert_eq!(child.join(), 0);
}

/// rule-7.1-19: taking locks in one consistent order avoids deadlock: two processes taking
/// two locks in one order never deadlock; in opposite orders loom finds the circular wait.
#[test]
fn rule_7_1_19_one_lock_order_never_deadlocks() {
    passes(loom(3, two_locks::<Loom, false>));
    quiet_panics();
    let r = loom(3, two_locks::<Loom, true>);
    let report = r.unwrap_err_or("opposite orders");
    match report.failure {
        Some(Failure::Deadlock(d)) => assert!(d.cycle.is_some(), "a waits-for cycle: {d:?}"),
        other => panic!("expected a deadlock, got {other:?}"),
    }
}

/// rule-7.1-20: release the lock even when an exception occurs. A child process whose
/// `with` block raises releases the lock as the exception leaves it; exception safety is no
/// help against death: a child killed inside the block leaves the lock held forever.
#[test]
fn rule_7_1_20_exception_releases_but_death_does_not() {
    if let Some(r) = role() {
        let lock = Lock::open(&handle("LOCK")).unwrap();
        let stage = RawValue::<i32>::open(&handle("STAGE")).unwrap();
        if r == "raiser" {
            assert!(raising(|| {
                let _g = lock.lock();
                raise();
            }));
            std::process::exit(3); // the exception ended the process
        }
        let _g = lock.lock();
        stage.set_value(1);
        park_until_killed();
    }
    let lock = Lock::new();
    let stage = RawValue::<i32>::new(0);
    let handles = [("LOCK", lock.handle()), ("STAGE", stage.handle())];
    let test = "rule_7_1_20_exception_releases_but_death_does_not";
    let mut raiser = spawn(test, "raiser", &handles);
    assert_eq!(raiser.wait().code(), Some(3));
    assert_eq!(lock.acquire_timeout(bound_secs()), Ok(true), "released");
    lock.release().unwrap();
    let mut victim = spawn(test, "victim", &handles);
    until("the victim holds the lock", || stage.value() == 1);
    victim.kill();
    let _ = victim.wait();
    assert_eq!(
        lock.acquire_timeout(0.1),
        Ok(false),
        "held by a dead process"
    );
}

/// A readers-writer lock of the classic first-reader/last-reader form, from mp primitives:
/// `mutex` guards the reader count, `wrt` is held by the writer or by the readers as a
/// group. It needs a Lock that a process other than its acquirer may release (the last
/// reader out releases what the first reader in took), which mp.Lock allows.
struct RwLock<B: ProcessBackend> {
    mutex: mp::Lock<B>,
    wrt: mp::Lock<B>,
    readers: mp::RawValue<i64, B>,
}

impl<B: ProcessBackend> RwLock<B> {
    fn new() -> Self {
        RwLock {
            mutex: mp::Lock::new().with_name("mutex"),
            wrt: mp::Lock::new().with_name("wrt"),
            readers: mp::RawValue::new(0).with_name("readers"),
        }
    }
    fn reopen(&self) -> Self {
        RwLock {
            mutex: self.mutex.reopen(),
            wrt: self.wrt.reopen(),
            readers: self.readers.reopen(),
        }
    }
    fn read_acquire(&self) {
        let _g = self.mutex.lock();
        let n = self.readers.value() + 1;
        self.readers.set_value(n);
        if n == 1 {
            self.wrt.acquire();
        }
    }
    fn read_release(&self) {
        let _g = self.mutex.lock();
        let n = self.readers.value() - 1;
        self.readers.set_value(n);
        if n == 0 {
            self.wrt.release().unwrap();
        }
    }
}

/// A reader process and the writer (parent); `inside` counts readers in, -1 for the writer.
fn readers_writer<B: ProcessBackend>() {
    let rw = RwLock::<B>::new();
    let inside = mp::Lock::<B>::new().with_name("monitor");
    let state = mp::RawValue::<i64, B>::new(0).with_name("inside");
    let (rw2, m2, s2) = (rw.reopen(), inside.reopen(), state.reopen());
    let reader = B::spawn_process("reader", move || {
        rw2.read_acquire();
        {
            let _g = m2.lock();
            if s2.value() < 0 {
                violate("rw-exclusion", "a reader inside with the writer");
            }
            s2.set_value(s2.value() + 1);
        }
        {
            let _g = m2.lock();
            s2.set_value(s2.value() - 1);
        }
        rw2.read_release();
    });
    {
        let _w = rw.wrt.lock();
        {
            let _g = inside.lock();
            if state.value() != 0 {
                violate("rw-exclusion", "the writer inside with a reader");
            }
            state.set_value(-1);
        }
        let _g = inside.lock();
        state.set_value(0);
    }
    assert_eq!(reader.join(), 0);
}

/// rule-7.1-22: in read-mostly workloads, separate readers from writers. A readers-writer
/// lock built from mp Locks lets two reader processes in at once (the second enters while
/// the first is inside), keeps the writer out while any reader is in, and under loom never
/// lets a reader and the writer in together.
#[test]
fn rule_7_1_22_readers_share_writers_exclude() {
    let rw = RwLock::<Std>::new();
    let (r1, r2, w) = (rw.reopen(), rw.reopen(), rw.reopen());
    r1.read_acquire();
    r2.read_acquire(); // returns: readers share
    assert_eq!(rw.readers.value(), 2);
    assert!(
        !w.wrt.try_acquire(),
        "the writer is kept out while readers read"
    );
    r1.read_release();
    assert!(!w.wrt.try_acquire());
    r2.read_release(); // the last reader releases what the first took
    assert!(w.wrt.try_acquire());
    w.wrt.release().unwrap();
    passes(loom(2, readers_writer::<Loom>));
    passes(shuttle_check(readers_writer::<Shuttle>, 300));
}

/// A writer process updates a three-element record (three small operations); the parent
/// reads it whole under the lock. `BATCHED`: one lock around the three writes; otherwise a
/// lock per write.
fn batch<B: ProcessBackend, const BATCHED: bool>() {
    let lock = mp::Lock::<B>::new().with_name("lock");
    let rec = mp::RawArray::<i32, B>::new(&[0, 0, 0]).with_name("record");
    let (l2, r2) = (lock.reopen(), rec.reopen());
    let writer = B::spawn_process("writer", move || {
        if BATCHED {
            let _g = l2.lock();
            for i in 0..3 {
                r2.set(i, 1).unwrap();
            }
        } else {
            for i in 0..3 {
                let _g = l2.lock();
                r2.set(i, 1).unwrap();
            }
        }
    });
    let seen = {
        let _g = lock.lock();
        rec.to_vec()
    };
    if seen != [0, 0, 0] && seen != [1, 1, 1] {
        violate("atomic-batch", &format!("the reader saw {seen:?}"));
    }
    assert_eq!(writer.join(), 0);
}

/// rule-7.1-23: batch small operations into one lock-protected operation. Besides taking
/// the lock once instead of three times, the batch is atomic to other processes: a reader
/// sees all of it or none; with a lock per operation, loom finds a reader that sees part.
#[test]
fn rule_7_1_23_a_batch_under_one_lock_is_seen_whole() {
    passes(loom(3, batch::<Loom, true>));
    quiet_panics();
    assert_eq!(
        violated(loom(3, batch::<Loom, false>), "per-operation locking"),
        "atomic-batch"
    );
}

/// A child process holds the lock for its critical section and may crash there (crash
/// faults on); the parent acquires with a timeout (`TIMED`) or without.
fn parent_after_holder<B: ProcessBackend, const TIMED: bool>() {
    let lock = mp::Lock::<B>::new().with_name("lock");
    let l2 = lock.reopen();
    let child = B::spawn_process("holder", move || {
        let _g = l2.lock();
    });
    if TIMED {
        if lock.acquire_timeout(1.0) == Ok(true) {
            lock.release().unwrap();
        }
    } else {
        assert!(lock.acquire());
        lock.release().unwrap();
    }
    let code = child.join();
    assert!(code == 0 || code == -9, "exit code {code}");
}

/// rule-7.1-25: set a timeout on acquisition. With a holder that may die inside its
/// critical section, a plain acquire() can wait forever (the checker's verdict:
/// dead-holder); acquire(timeout=1.0) returns False instead in every interleaving.
#[test]
fn rule_7_1_25_timeout_turns_a_dead_holder_into_false() {
    passes(loom_crashing(2, parent_after_holder::<Loom, true>));
    quiet_panics();
    assert_eq!(
        failed_as(
            loom_crashing(2, parent_after_holder::<Loom, false>),
            "acquire() without a timeout"
        ),
        "dead-holder"
    );
}

// ---- 7.2 multiprocessing.RLock -------------------------------------------------------------

/// rule-7.2-01 (the tutorial: the same *process* may acquire an RLock several times): the
/// owner is a thread of a process. The owning thread re-enters; another thread of the same
/// process is refused like any other process, and cannot release it.
#[test]
fn rule_7_2_01_rlock_owner_is_a_thread_not_a_process() {
    let r = RLock::new();
    assert!(r.acquire());
    assert!(r.try_acquire(), "the owning thread re-enters");
    assert_eq!(r.count(), 2);
    thread::scope(|s| {
        s.spawn(|| {
            assert!(!r.try_acquire(), "another thread of the owner's process");
            assert_eq!(r.acquire_timeout(0.05), Ok(false));
            assert_not_owned(r.release());
        });
    });
    r.release().unwrap();
    r.release().unwrap();
}

/// rule-7.2-02 (the tutorial: the owning process re-acquires without blocking): only the
/// owning thread does. A second thread of the owning process blocks in acquire() until the
/// owner has released every level.
#[test]
fn rule_7_2_02_other_thread_of_owner_process_blocks() {
    let r = RLock::new();
    assert!(r.acquire());
    assert!(r.acquire());
    let got = AtomicBool::new(false);
    thread::scope(|s| {
        s.spawn(|| {
            assert!(r.acquire());
            got.store(true, SeqCst);
            r.release().unwrap();
        });
        assert!(
            for_a_while(A_WHILE, || !got.load(SeqCst)),
            "it did not block"
        );
        r.release().unwrap();
        assert!(
            for_a_while(A_WHILE, || !got.load(SeqCst)),
            "one level still held"
        );
        r.release().unwrap();
        spin_until("the other thread acquires", || got.load(SeqCst));
    });
}

/// rule-7.2-03: an RLock counts its acquisitions and is really released only when the
/// count is back to zero: another process is refused until the last release.
#[test]
fn rule_7_2_03_released_only_when_the_count_returns_to_zero() {
    let r = RLock::new();
    let other = r.reopen(); // another process's view
    for _ in 0..3 {
        assert!(r.acquire());
    }
    for left in [2, 1] {
        r.release().unwrap();
        assert_eq!(r.count(), left);
        assert!(!other.try_acquire(), "released with {left} levels left");
    }
    r.release().unwrap();
    assert!(other.try_acquire());
    other.release().unwrap();
}

/// rule-7.2-04: a held RLock cannot be acquired by another process, nor released by it
/// (AssertionError, unlike mp.Lock); its repr names the holder as another process. Once the
/// owner releases every level, the other process gets it.
#[test]
fn rule_7_2_04_other_process_cannot_take_or_release_an_rlock() {
    if role().is_some() {
        let r = RLock::open(&handle("RLOCK")).unwrap();
        let stage = RawValue::<i32>::open(&handle("STAGE")).unwrap();
        assert!(!r.try_acquire());
        assert_eq!(r.acquire_timeout(0.05), Ok(false));
        assert_not_owned(r.release());
        assert_eq!(format!("{r:?}"), "<RLock(SomeOtherProcess, nonzero)>");
        stage.set_value(1);
        assert_eq!(r.acquire_timeout(bound_secs()), Ok(true));
        r.release().unwrap();
        return;
    }
    let r = RLock::new();
    let stage = RawValue::<i32>::new(0);
    assert_eq!(format!("{r:?}"), "<RLock(None, 0)>");
    assert!(r.acquire() && r.acquire());
    let mine = format!("{r:?}");
    assert!(
        mine.starts_with("<RLock(MainProcess") && mine.ends_with(", 2)>"),
        "{mine}"
    );
    let mut child = spawn(
        "rule_7_2_04_other_process_cannot_take_or_release_an_rlock",
        "other",
        &[("RLOCK", r.handle()), ("STAGE", stage.handle())],
    );
    until("the child was refused", || stage.value() == 1);
    assert!(r.is_mine(), "the child's release did not take it");
    r.release().unwrap();
    r.release().unwrap();
    child.wait_success();
    assert_eq!(format!("{r:?}"), "<RLock(None, 0)>");
}

/// A process takes a lock twice (nested), RLock or Lock.
fn take_twice<B: ProcessBackend, const REENTRANT: bool>() {
    let lock: AnyLock<B> = if REENTRANT {
        mp::RLock::<B>::new().with_name("rlock").into()
    } else {
        mp::Lock::<B>::new().with_name("lock").into()
    };
    let l2 = lock.reopen();
    let child = B::spawn_process("child", move || {
        let _outer = l2.lock();
        let _inner = l2.lock();
    });
    assert_eq!(child.join(), 0);
}

/// rule-7.2-05: RLock allows repeated acquisition by its owner; a Lock does not: a process
/// that takes its mp.Lock a second time blocks forever (loom: deadlock), and would wait out
/// any timeout.
#[test]
fn rule_7_2_05_lock_reacquired_blocks_forever_rlock_does_not() {
    passes(loom(3, take_twice::<Loom, true>));
    quiet_panics();
    assert_eq!(
        failed_as(loom(3, take_twice::<Loom, false>), "Lock taken twice"),
        "deadlock"
    );
    let lock = Lock::new();
    assert!(lock.acquire());
    assert_eq!(lock.acquire_timeout(0.05), Ok(false));
    lock.release().unwrap();
}

/// rule-7.2-06: an RLock needs as many release() calls as acquire() calls; a Lock needs
/// one, and a second is an error.
#[test]
fn rule_7_2_06_releases_match_acquires() {
    let r = RLock::new();
    for _ in 0..3 {
        assert!(r.acquire());
    }
    for _ in 0..3 {
        r.release().unwrap();
    }
    assert_not_owned(r.release());
    let l = Lock::new();
    assert!(l.acquire());
    l.release().unwrap();
    assert_released_too_many(l.release());
}

fn recurse(r: &RLock, depth: usize, deepest: &mut isize) {
    let _g = r.lock();
    if depth == 0 {
        *deepest = r.count();
    } else {
        recurse(r, depth - 1, deepest);
    }
}

/// rule-7.2-09: an RLock suits recursive functions: a function that takes the lock at
/// every level of a five-deep recursion runs through, the count following the depth.
#[test]
fn rule_7_2_09_recursion_over_an_rlock() {
    let r = RLock::new();
    let mut deepest = 0;
    recurse(&r, 4, &mut deepest);
    assert_eq!(deepest, 5);
    assert_eq!(r.count(), 0);
    assert!(r.reopen().try_acquire(), "free again after the recursion");
}

/// Two processes run a two-level recursion that takes the lock at each level and adds
/// to a shared total. `REENTRANT`: an RLock; otherwise a Lock.
fn recursive_sum<B: ProcessBackend, const REENTRANT: bool>() {
    fn level<B: ProcessBackend>(l: &AnyLock<B>, total: &mp::RawValue<i64, B>, depth: u32) {
        let _g = l.lock();
        total.set_value(total.value() + 1);
        if depth > 0 {
            level(l, total, depth - 1);
        }
    }
    let lock: AnyLock<B> = if REENTRANT {
        mp::RLock::<B>::new().with_name("rlock").into()
    } else {
        mp::Lock::<B>::new().with_name("lock").into()
    };
    let total = mp::RawValue::<i64, B>::new(0).with_name("total");
    let (l2, t2) = (lock.reopen(), total.reopen());
    let child = B::spawn_process("child", move || level(&l2, &t2, 1));
    level(&lock.reopen(), &total, 1);
    assert_eq!(child.join(), 0);
    if total.value() != 4 {
        violate("no-lost-update", "a recursive update was lost");
    }
}

/// rule-7.2-12: in recursive calls an RLock avoids the self-deadlock of a non-reentrant
/// lock: two processes recursing under an RLock always finish with every update; with a
/// Lock, each deadlocks on itself.
#[test]
fn rule_7_2_12_recursion_deadlocks_on_a_lock_not_on_an_rlock() {
    passes(loom(2, recursive_sum::<Loom, true>));
    quiet_panics();
    assert_eq!(
        failed_as(
            loom(2, recursive_sum::<Loom, false>),
            "recursion over a Lock"
        ),
        "deadlock"
    );
}

/// rule-7.2-15: a recursive algorithm run by several processes, re-acquiring an RLock at
/// each level, keeps its shared updates exclusive (shuttle, random and PCT schedules).
#[test]
fn rule_7_2_15_recursive_algorithm_across_processes() {
    passes(shuttle_check(recursive_sum::<Shuttle, true>, 300));
}

/// Accounts a and b, each operation taking the RLock itself; `transfer` takes it and calls
/// both; an auditor process reads the total under the same RLock.
fn nested_accounts<B: ProcessBackend>() {
    struct Bank<B: ProcessBackend> {
        lock: mp::RLock<B>,
        a: mp::RawValue<i64, B>,
        b: mp::RawValue<i64, B>,
    }
    impl<B: ProcessBackend> Bank<B> {
        fn reopen(&self) -> Self {
            Bank {
                lock: self.lock.reopen(),
                a: self.a.reopen(),
                b: self.b.reopen(),
            }
        }
        fn withdraw_a(&self, n: i64) {
            let _g = self.lock.lock();
            self.a.set_value(self.a.value() - n);
        }
        fn deposit_b(&self, n: i64) {
            let _g = self.lock.lock();
            self.b.set_value(self.b.value() + n);
        }
        fn transfer(&self, n: i64) {
            let _g = self.lock.lock();
            self.withdraw_a(n);
            self.deposit_b(n);
        }
        fn total(&self) -> i64 {
            let _g = self.lock.lock();
            self.a.value() + self.b.value()
        }
    }
    let bank = Bank::<B> {
        lock: mp::RLock::new().with_name("bank"),
        a: mp::RawValue::new(10).with_name("a"),
        b: mp::RawValue::new(0).with_name("b"),
    };
    let other = bank.reopen();
    let auditor = B::spawn_process("auditor", move || {
        let t = other.total();
        if t != 10 {
            violate("consistent-read", &format!("the auditor saw {t}"));
        }
    });
    bank.transfer(3);
    assert_eq!(auditor.join(), 0);
    assert_eq!((bank.a.value(), bank.b.value()), (7, 3));
}

/// rule-7.2-16: an RLock simplifies nested access to interdependent resources: every
/// operation takes the lock itself, a composite operation takes it and calls them, and no
/// other process ever sees the composite half done (loom).
#[test]
fn rule_7_2_16_nested_resource_access_under_one_rlock() {
    passes(loom(3, nested_accounts::<Loom>));
}

/// A two-stage transaction whose stages each take the RLock; `HELD`: the transaction holds
/// it from start to finish; otherwise only each stage does. An observer process reads
/// between.
fn staged_transaction<B: ProcessBackend, const HELD: bool>() {
    let lock = mp::RLock::<B>::new().with_name("tx");
    let stage = mp::RawArray::<i32, B>::new(&[0, 0]).with_name("stages");
    let (l2, s2) = (lock.reopen(), stage.reopen());
    let observer = B::spawn_process("observer", move || {
        let _g = l2.lock();
        let seen = s2.to_vec();
        if seen == [1, 0] {
            violate(
                "atomic-transaction",
                "the observer saw stage 1 without stage 2",
            );
        }
    });
    let run_stage = |i: usize| {
        let _g = lock.lock();
        stage.set(i, 1).unwrap();
    };
    {
        let _tx = HELD.then(|| lock.lock());
        run_stage(0);
        run_stage(1);
    }
    assert_eq!(observer.join(), 0);
}

/// rule-7.2-17: a multi-step transaction stays locked from start to finish when it holds
/// the RLock around all its stages (each stage re-entering it); if only the stages take
/// it, loom finds another process seeing the transaction half done.
#[test]
fn rule_7_2_17_transaction_holds_the_rlock_across_its_stages() {
    passes(loom(3, staged_transaction::<Loom, true>));
    quiet_panics();
    assert_eq!(
        violated(loom(3, staged_transaction::<Loom, false>), "stages alone"),
        "atomic-transaction"
    );
}

/// Two processes take two RLocks, each re-entering its first, in opposite orders.
fn two_rlocks_opposite<B: ProcessBackend>() {
    let a = mp::RLock::<B>::new().with_name("a");
    let b = mp::RLock::<B>::new().with_name("b");
    let (a2, b2) = (a.reopen(), b.reopen());
    let child = B::spawn_process("child", move || {
        let _b = b2.lock();
        let _b_again = b2.lock();
        let _a = a2.lock();
    });
    {
        let _a = a.lock();
        let _a_again = a.lock();
        let _b = b.lock();
    }
    assert_eq!(child.join(), 0);
}

/// rule-7.2-23: reentrancy does not prevent deadlock between owners: two processes that
/// take two RLocks in opposite orders deadlock (loom finds the circular wait).
#[test]
fn rule_7_2_23_rlocks_in_opposite_orders_still_deadlock() {
    quiet_panics();
    let report = loom(3, two_rlocks_opposite::<Loom>).unwrap_err_or("opposite orders");
    match report.failure {
        Some(Failure::Deadlock(d)) => assert!(d.cycle.is_some(), "a waits-for cycle: {d:?}"),
        other => panic!("expected a deadlock, got {other:?}"),
    }
}

/// rule-7.2-25: an exception releases an RLock at every level its `with` blocks took.
#[test]
fn rule_7_2_25_exception_unwinds_every_rlock_level() {
    let r = RLock::new();
    assert!(raising(|| {
        let _g1 = r.lock();
        let _g2 = r.lock();
        let _g3 = r.lock();
        assert_eq!(r.count(), 3);
        raise();
    }));
    assert_eq!(r.count(), 0);
    assert_eq!(format!("{r:?}"), "<RLock(None, 0)>");
    assert!(r.reopen().try_acquire(), "another process gets it");
}

// ---- 7.3 synchronization between processes -------------------------------------------------

/// Three processes enter a section guarded by a Semaphore(2); a monitor counts who is in.
fn semaphore_bound<B: ProcessBackend>() {
    let sem = mp::Semaphore::<B>::new(2).unwrap().with_name("sem");
    let mon = mp::Lock::<B>::new().with_name("monitor");
    let inside = mp::RawValue::<i64, B>::new(0).with_name("inside");
    let enter = move |sem: mp::Semaphore<B>, mon: mp::Lock<B>, inside: mp::RawValue<i64, B>| {
        let _s = sem.lock();
        {
            let _g = mon.lock();
            let n = inside.value() + 1;
            if n > 2 {
                violate("semaphore-bound", "three processes inside a Semaphore(2)");
            }
            inside.set_value(n);
        }
        let _g = mon.lock();
        inside.set_value(inside.value() - 1);
    };
    let children: Vec<_> = (0..2)
        .map(|i| {
            let (s, m, v) = (sem.reopen(), mon.reopen(), inside.reopen());
            B::spawn_process(&format!("p{i}"), move || enter(s, m, v))
        })
        .collect();
    enter(sem.reopen(), mon.reopen(), inside.reopen());
    for c in children {
        assert_eq!(c.join(), 0);
    }
}

/// rule-7.3-04: a Semaphore limits how many processes are inside at once: three processes
/// and a Semaphore(2), never three inside (shuttle random and PCT; loom bound 1).
#[test]
fn rule_7_3_04_semaphore_limits_processes_inside() {
    passes(shuttle_check(semaphore_bound::<Shuttle>, 300));
    passes(loom(1, semaphore_bound::<Loom>));
}

/// A waiter process waits on an Event that the parent sets.
fn event_signal<B: ProcessBackend>() {
    let e = mp::Event::<B>::new().with_name("event");
    let e2 = e.reopen();
    let waiter = B::spawn_process("waiter", move || {
        assert_eq!(e2.wait(None), Ok(true));
    });
    e.set();
    assert_eq!(waiter.join(), 0);
    assert!(e.is_set());
}

/// rule-7.3-05: an Event signals between processes: the waiting process returns True
/// whether the set comes before or after its wait, in every interleaving (loom).
#[test]
fn rule_7_3_05_event_signals_between_processes() {
    passes(loom(3, event_signal::<Loom>));
}

/// A consumer process waits on a Condition until the producer's value is ready.
fn condition_predicate<B: ProcessBackend>() {
    let c = mp::Condition::<B>::new().with_name("cond");
    let ready = mp::RawValue::<i32, B>::new(0).with_name("ready");
    let (c2, r2) = (c.reopen(), ready.reopen());
    let consumer = B::spawn_process("consumer", move || {
        let _g = c2.lock();
        assert_eq!(c2.wait_for(|| r2.value() == 1, None), Ok(true));
        assert_eq!(r2.value(), 1);
    });
    {
        let _g = c.lock();
        ready.set_value(1);
        c.notify(1).unwrap();
    }
    assert_eq!(consumer.join(), 0);
}

/// rule-7.3-06: a Condition coordinates wait/notify between processes: a consumer waiting
/// for a predicate always gets it after the producer's notify (loom bound 2, shuttle),
/// through mp's notify handshake.
#[test]
fn rule_7_3_06_condition_wait_notify_between_processes() {
    passes(loom(2, condition_predicate::<Loom>));
    passes(shuttle_check(condition_predicate::<Shuttle>, 300));
}

/// One process sets an Event, two others wait for it.
fn event_one_sets_two_wait<B: ProcessBackend>() {
    let e = mp::Event::<B>::new().with_name("event");
    let waiters: Vec<_> = (0..2)
        .map(|i| {
            let e2 = e.reopen();
            B::spawn_process(&format!("w{i}"), move || {
                assert_eq!(e2.wait(None), Ok(true));
            })
        })
        .collect();
    let e3 = e.reopen();
    let setter = B::spawn_process("setter", move || e3.set());
    assert_eq!(setter.join(), 0);
    for w in waiters {
        assert_eq!(w.join(), 0);
    }
}

/// rule-7.3-08: one process sets the event, the others wait for it: both waiting processes
/// return True in every schedule shuttle tries (random and PCT).
#[test]
fn rule_7_3_08_one_process_sets_others_wait() {
    passes(shuttle_check(event_one_sets_two_wait::<Shuttle>, 300));
}

/// rule-7.3-09: set() makes the flag True and wakes every waiting process: two children
/// asleep in wait() both return True.
#[test]
fn rule_7_3_09_set_wakes_every_waiting_process() {
    if role().is_some() {
        let e = Event::open(&handle("EVENT")).unwrap();
        assert_eq!(e.wait(Some(bound_secs())), Ok(true));
        return;
    }
    let e = Event::new();
    let mut children: Vec<_> = (0..2)
        .map(|_| {
            spawn(
                "rule_7_3_09_set_wakes_every_waiting_process",
                "waiter",
                &[("EVENT", e.handle())],
            )
        })
        .collect();
    until("both children wait", || e.n_waiters() == 2);
    assert!(!e.is_set());
    e.set();
    assert!(e.is_set());
    for c in &mut children {
        c.wait_success();
    }
}

/// rule-7.3-10: clear() resets the flag to False: is_set() is False and wait() waits again.
#[test]
fn rule_7_3_10_clear_resets_the_flag() {
    let e = Event::new();
    e.set();
    assert_eq!(e.wait(Some(0.0)), Ok(true));
    e.clear();
    assert!(!e.is_set());
    assert_eq!(e.wait(Some(0.0)), Ok(false));
    e.clear(); // clearing a clear event is no error
    assert!(!e.is_set());
}

/// rule-7.3-11: wait(timeout) blocks until the flag is True, or returns False when the
/// timeout passes; a set flag returns True at once.
#[test]
fn rule_7_3_11_event_wait_with_timeout() {
    let e = Event::new();
    let start = Instant::now();
    assert_eq!(e.wait(Some(0.05)), Ok(false));
    assert_waited(start, 0.05);
    assert_eq!(e.wait(Some(-1.0)), Ok(false));
    let other = e.reopen(); // another process's view
    other.set();
    assert_eq!(e.wait(None), Ok(true));
}

/// rule-7.3-12: is_set() reports whether the event is set, as every process sees it.
#[test]
fn rule_7_3_12_is_set_reports_the_flag() {
    let e = Event::new();
    let other = e.reopen();
    assert!(!e.is_set() && !other.is_set());
    other.set();
    assert!(e.is_set());
    e.clear();
    assert!(!other.is_set());
}

/// rule-7.3-13: a Semaphore keeps a counter: acquire takes one, release gives one back,
/// and at 0 nobody else gets in.
#[test]
fn rule_7_3_13_semaphore_counts() {
    let s = Semaphore::new(2).unwrap();
    let other = s.reopen();
    assert_eq!(s.get_value(), 2);
    assert!(s.acquire());
    assert_eq!(other.get_value(), 1);
    assert!(other.acquire());
    assert_eq!(s.get_value(), 0);
    assert!(!s.try_acquire());
    other.release().unwrap();
    assert_eq!(s.get_value(), 1);
    s.release().unwrap();
    assert_eq!(format!("{s:?}"), "<Semaphore(value=2)>");
}

/// rule-7.3-14 (the tutorial: the initial value is the maximum concurrency): a plain
/// Semaphore has no maximum: an extra release raises the count above its initial value
/// and lets one more process in. Only a BoundedSemaphore refuses (ValueError).
#[test]
fn rule_7_3_14_initial_value_is_no_maximum() {
    let s = Semaphore::new(2).unwrap();
    s.release().unwrap();
    assert_eq!(s.get_value(), 3);
    let holders: Vec<_> = (0..3).map(|_| s.reopen()).collect();
    assert!(
        holders.iter().all(|h| h.try_acquire()),
        "three in a Semaphore(2)"
    );
    let b = BoundedSemaphore::new(2).unwrap();
    assert_released_too_many(b.release());
    assert_eq!(b.get_value(), 2);
}

/// rule-7.3-15: at 0, acquire blocks until some process releases: a child blocked on a
/// Semaphore(0) returns only after the parent's release.
#[test]
fn rule_7_3_15_acquire_at_zero_blocks_until_a_release() {
    if role().is_some() {
        let s = Semaphore::open(&handle("SEM")).unwrap();
        let stage = RawValue::<i32>::open(&handle("STAGE")).unwrap();
        stage.set_value(1);
        assert!(s.acquire());
        stage.set_value(2);
        return;
    }
    let s = Semaphore::new(0).unwrap();
    let stage = RawValue::<i32>::new(0);
    let mut child = spawn(
        "rule_7_3_15_acquire_at_zero_blocks_until_a_release",
        "acquirer",
        &[("SEM", s.handle()), ("STAGE", stage.handle())],
    );
    until("the child calls acquire()", || stage.value() == 1);
    assert!(
        for_a_while(A_WHILE * 4, || stage.value() == 1),
        "acquire() returned at 0"
    );
    s.release().unwrap();
    until("the child's acquire() returns", || stage.value() == 2);
    child.wait_success();
    assert_eq!(s.get_value(), 0);
}

/// One process takes a Semaphore(1) twice; another process releases one permit
/// (`HELPED`) or nobody does.
fn semaphore_twice<B: ProcessBackend, const HELPED: bool>() {
    let s = mp::Semaphore::<B>::new(1).unwrap().with_name("sem");
    let s2 = s.reopen();
    let helper = HELPED.then(|| B::spawn_process("helper", move || s2.release().unwrap()));
    assert!(s.acquire());
    assert!(s.acquire()); // a second permit, not a re-entry
    if let Some(h) = helper {
        assert_eq!(h.join(), 0);
    }
}

/// rule-7.3-16 (the tutorial: the same process can acquire a semaphore several times, as
/// reentrancy): a semaphore has no owner and no reentrancy. Every acquire takes a permit:
/// a process taking a Semaphore(1) twice blocks on itself (loom: deadlock), unless any
/// other process releases a permit.
#[test]
fn rule_7_3_16_semaphore_is_not_reentrant() {
    let s = Semaphore::new(1).unwrap();
    assert!(s.acquire());
    assert_eq!(s.acquire_timeout(0.05), Ok(false), "no re-entry");
    s.release().unwrap();
    passes(loom(3, semaphore_twice::<Loom, true>));
    quiet_panics();
    assert_eq!(
        failed_as(
            loom(3, semaphore_twice::<Loom, false>),
            "Semaphore(1) twice"
        ),
        "deadlock"
    );
}

/// rule-7.3-17: a process waits on a Condition until its condition holds and is woken by
/// another process's notify.
#[test]
fn rule_7_3_17_condition_wakes_a_waiting_process() {
    if role().is_some() {
        let c = Condition::open(&handle("COND")).unwrap();
        let ready = RawValue::<i32>::open(&handle("READY")).unwrap();
        let _g = c.lock();
        let got = c.wait_for(|| ready.value() == 1, Some(bound_secs()));
        assert_eq!(got, Ok(true));
        return;
    }
    let c = Condition::new();
    let ready = RawValue::<i32>::new(0);
    let mut child = spawn(
        "rule_7_3_17_condition_wakes_a_waiting_process",
        "waiter",
        &[("COND", c.handle()), ("READY", ready.handle())],
    );
    until("the child waits", || c.n_waiters() == 1);
    {
        let _g = c.lock();
        ready.set_value(1);
        c.notify(1).unwrap();
    }
    child.wait_success();
}

/// rule-7.3-18: a Condition's acquire/release take and give back its underlying lock: a
/// given Lock is held while the condition is; by default the lock is an RLock.
#[test]
fn rule_7_3_18_condition_acquire_takes_the_underlying_lock() {
    let lock = Arc::new(Lock::new());
    let c = Condition::with_lock(lock.clone());
    assert!(c.acquire());
    assert_eq!(lock.value(), 0);
    assert!(!lock.try_acquire());
    c.release().unwrap();
    assert_eq!(lock.value(), 1);
    let d = Condition::new();
    assert!(matches!(d.get_lock(), AnyLock::RLock(_)));
    assert!(d.acquire() && d.acquire(), "the default lock is reentrant");
    d.release().unwrap();
    d.release().unwrap();
}

/// rule-7.3-19: wait() releases the lock while waiting and holds it again when it
/// returns; with a timeout it returns False when nobody notifies.
#[test]
fn rule_7_3_19_wait_releases_and_reacquires_the_lock() {
    if role().is_some() {
        let c = Condition::open(&handle("COND")).unwrap();
        let out = RawValue::<i32>::open(&handle("OUT")).unwrap();
        let _g = c.lock();
        assert_eq!(c.wait(Some(bound_secs())), Ok(true));
        out.set_value(if c.get_lock().is_mine() { 1 } else { -1 });
        return;
    }
    let c = Condition::new();
    let out = RawValue::<i32>::new(0);
    let mut child = spawn(
        "rule_7_3_19_wait_releases_and_reacquires_the_lock",
        "waiter",
        &[("COND", c.handle()), ("OUT", out.handle())],
    );
    until("the child waits", || c.n_waiters() == 1);
    // The child holds the condition's lock around wait(): the parent gets it, so wait()
    // released it.
    assert_eq!(c.acquire_with(true, Some(bound_secs())), Ok(true));
    c.notify(1).unwrap();
    c.release().unwrap();
    child.wait_success();
    assert_eq!(out.value(), 1, "wait() returned holding the lock");
    let _g = c.lock();
    let start = Instant::now();
    assert_eq!(c.wait(Some(0.05)), Ok(false));
    assert_waited(start, 0.05);
    assert!(c.get_lock().is_mine(), "held again after the timeout");
}

/// The child side of the notify tests: wait (bounded) on the condition, then count
/// itself woken under the lock.
fn condition_waiter() {
    let c = Condition::open(&handle("COND")).unwrap();
    let woken = RawValue::<i32>::open(&handle("WOKEN")).unwrap();
    let _g = c.lock();
    assert_eq!(c.wait(Some(bound_secs())), Ok(true));
    woken.set_value(woken.value() + 1);
}

/// Start `n` children of `test` waiting on `c`, counting themselves in `woken`.
fn condition_waiters(
    test: &str,
    n: usize,
    c: &Condition,
    woken: &RawValue<i32>,
) -> Vec<support::children::ChildGuard> {
    let children = (0..n)
        .map(|_| {
            spawn(
                test,
                "waiter",
                &[("COND", c.handle()), ("WOKEN", woken.handle())],
            )
        })
        .collect();
    until("the children wait", || c.n_waiters() == n as isize);
    children
}

/// rule-7.3-20: notify(n) wakes at most n waiting processes, and needs the lock: of three
/// waiting children notify(2) wakes two (the third keeps waiting), notify(5) the one left;
/// notify without the lock is AssertionError('lock is not owned').
#[test]
fn rule_7_3_20_notify_n_wakes_at_most_n() {
    if role().is_some() {
        return condition_waiter();
    }
    let test = "rule_7_3_20_notify_n_wakes_at_most_n";
    let c = Condition::new();
    let woken = RawValue::<i32>::new(0);
    let mut children = condition_waiters(test, 3, &c, &woken);
    raises(
        c.notify(1),
        Error::ConditionLockNotOwned,
        PyException::AssertionError,
        "lock is not owned",
    );
    {
        let _g = c.lock();
        c.notify(2).unwrap(); // returns once both woken have acknowledged
    }
    until("two children woke", || woken.value() == 2);
    assert!(
        for_a_while(A_WHILE, || woken.value() == 2 && c.n_waiters() == 1),
        "notify(2) woke a third"
    );
    {
        let _g = c.lock();
        c.notify(5).unwrap();
    }
    until("the third woke", || woken.value() == 3);
    for ch in &mut children {
        ch.wait_success();
    }
}

/// rule-7.3-21: notify_all() wakes every waiting process.
#[test]
fn rule_7_3_21_notify_all_wakes_every_waiting_process() {
    if role().is_some() {
        return condition_waiter();
    }
    let test = "rule_7_3_21_notify_all_wakes_every_waiting_process";
    let c = Condition::new();
    let woken = RawValue::<i32>::new(0);
    let mut children = condition_waiters(test, 3, &c, &woken);
    {
        let _g = c.lock();
        c.notify_all().unwrap();
        assert_eq!(c.n_waiters(), 0);
    }
    for ch in &mut children {
        ch.wait_success();
    }
    assert_eq!(woken.value(), 3);
}

/// rule-7.3-27: give waits a reasonable timeout: each mp wait with one returns (False, or
/// BrokenBarrierError for a Barrier) when nothing comes, instead of waiting forever.
#[test]
fn rule_7_3_27_every_wait_takes_a_timeout() {
    const T: f64 = 0.05;
    let lock = Lock::new();
    assert!(lock.acquire());
    let start = Instant::now();
    assert_eq!(lock.reopen().acquire_timeout(T), Ok(false));
    assert_waited(start, T);
    let s = Semaphore::new(0).unwrap();
    assert_eq!(s.acquire_timeout(T), Ok(false));
    assert_eq!(Event::new().wait(Some(T)), Ok(false));
    let c = Condition::new();
    let _g = c.lock();
    assert_eq!(c.wait(Some(T)), Ok(false));
    assert_eq!(c.wait_for(|| false, Some(T)), Ok(false));
    let b = mp::Barrier::<Std>::new(2, None, None);
    let start = Instant::now();
    assert_eq!(b.wait_timeout(Some(T)), Err(Error::BrokenBarrier));
    assert_waited(start, T);
}

/// rule-7.3-28: an exception releases every synchronization primitive its `with` block
/// took: Semaphore, BoundedSemaphore, a Condition's lock, and a Value's lock.
#[test]
fn rule_7_3_28_exception_releases_every_primitive() {
    let s = Semaphore::new(1).unwrap();
    let b = BoundedSemaphore::new(1).unwrap();
    let c = Condition::with_lock(Lock::new());
    let v = Value::<i64>::new(0);
    assert!(raising(|| {
        let _s = s.lock();
        let _b = b.lock();
        let _c = c.lock();
        let _v = v.get_lock().lock();
        raise();
    }));
    assert_eq!((s.get_value(), b.get_value()), (1, 1));
    assert!(
        c.acquire_with(false, None).unwrap(),
        "the condition's lock is free"
    );
    c.release().unwrap();
    assert!(v.get_lock().reopen().acquire_with(false, None).unwrap());
}

// ---- 7.4 shared memory ---------------------------------------------------------------------

/// rule-7.4-01: processes share one memory region: what a child writes into a shared array
/// the parent reads, and the other way round, without copying anything back.
#[test]
fn rule_7_4_01_processes_share_one_memory_region() {
    if role().is_some() {
        let a = RawArray::<i64>::open(&handle("ARR")).unwrap();
        assert_eq!(a.get(0), Ok(7), "the parent's write");
        a.set(1, 42).unwrap();
        return;
    }
    let a = RawArray::<i64>::new(&[0, 0]);
    a.set(0, 7).unwrap();
    let mut child = spawn(
        "rule_7_4_01_processes_share_one_memory_region",
        "child",
        &[("ARR", a.handle())],
    );
    child.wait_success();
    assert_eq!(a.to_vec(), vec![7, 42]);
}

/// A writer process replaces a two-word record; the parent reads it, with the record's lock
/// around both sides (`LOCKED`) or not.
fn record<B: ProcessBackend, const LOCKED: bool>() {
    let rec = mp::Array::<i64, B>::new(&[0, 0]).with_name("record");
    let r2 = rec.reopen();
    let writer = B::spawn_process("writer", move || {
        let _g = LOCKED.then(|| r2.get_lock().lock());
        r2.set(0, 1).unwrap();
        r2.set(1, 1).unwrap();
    });
    let seen = {
        let _g = LOCKED.then(|| rec.get_lock().lock());
        (rec.get(0).unwrap(), rec.get(1).unwrap())
    };
    if seen.0 != seen.1 {
        violate("consistent-read", &format!("a torn record {seen:?}"));
    }
    assert_eq!(writer.join(), 0);
}

/// rule-7.4-03 (the tutorial: a change to shared memory is immediately visible to every
/// process): visible is not consistent. A record written in two element writes (each
/// atomic, under the array's own lock) is seen half old, half new: loom finds the torn
/// read. Only a lock around the whole record makes it whole (rule-7.4-06).
#[test]
fn rule_7_4_03_visible_is_not_consistent() {
    quiet_panics();
    assert_eq!(
        violated(loom(3, record::<Loom, false>), "unlocked record"),
        "consistent-read"
    );
}

/// rule-7.4-04: shared memory holds large data: a million-element array written by a child
/// is read whole by its parent.
#[test]
fn rule_7_4_04_large_shared_array() {
    const N: usize = 1 << 20;
    if role().is_some() {
        let a = RawArray::<i64>::open(&handle("ARR")).unwrap();
        for i in 0..N {
            a.set(i, i as i64).unwrap();
        }
        return;
    }
    let a = RawArray::<i64>::new(&vec![0; N]);
    let mut child = spawn(
        "rule_7_4_04_large_shared_array",
        "child",
        &[("ARR", a.handle())],
    );
    child.wait_success();
    let sum: i64 = a.to_vec().iter().sum();
    assert_eq!(sum, (N as i64 - 1) * N as i64 / 2);
}

/// rule-7.4-06: memory access must be made atomic and consistent: with the record's lock
/// around the whole write and the whole read, no interleaving tears it (loom).
#[test]
fn rule_7_4_06_lock_around_the_record_keeps_it_consistent() {
    passes(loom(3, record::<Loom, true>));
}

/// rule-7.4-12: a Value shares a scalar (int, float, bool) between processes.
#[test]
fn rule_7_4_12_value_shares_a_scalar() {
    if role().is_some() {
        let i = Value::<i64>::open(&handle("I")).unwrap();
        let f = Value::<f64>::open(&handle("F")).unwrap();
        let b = Value::<bool>::open(&handle("B")).unwrap();
        assert_eq!((i.value(), f.value(), b.value()), (1, 0.5, false));
        i.set_value(-7);
        f.set_value(2.25);
        b.set_value(true);
        return;
    }
    let i = Value::<i64>::new(1);
    let f = Value::<f64>::new(0.5);
    let b = Value::<bool>::new(false);
    let mut child = spawn(
        "rule_7_4_12_value_shares_a_scalar",
        "child",
        &[("I", i.handle()), ("F", f.handle()), ("B", b.handle())],
    );
    child.wait_success();
    assert_eq!((i.value(), f.value(), b.value()), (-7, 2.25, true));
}

/// rule-7.4-13: an Array shares array data between processes.
#[test]
fn rule_7_4_13_array_shares_an_array() {
    if role().is_some() {
        let a = Array::<i32>::open(&handle("ARR")).unwrap();
        for i in 0..a.len() {
            a.set(i, a.get(i).unwrap() * 10).unwrap();
        }
        return;
    }
    let a = Array::<i32>::new(&[1, 2, 3, 4]);
    let mut child = spawn(
        "rule_7_4_13_array_shares_an_array",
        "child",
        &[("ARR", a.handle())],
    );
    child.wait_success();
    assert_eq!(a.to_vec(), vec![10, 20, 30, 40]);
    assert_eq!(a.get(4), Err(Error::InvalidIndex));
}

/// Two processes `+= 1` a Value with its lock (each get and set locked), with get_lock()
/// around the whole `+=` (`WHOLE`) or not.
fn value_plus_equals<B: ProcessBackend, const WHOLE: bool>() {
    let v = mp::Value::<i64, B>::new(0).with_name("v");
    let v2 = v.reopen();
    let add = move |v: &mp::Value<i64, B>| {
        let _g = WHOLE.then(|| v.get_lock().lock());
        v.set_value(v.value() + 1);
    };
    let child = B::spawn_process("child", move || add(&v2));
    add(&v);
    assert_eq!(child.join(), 0);
    if v.value() != 2 {
        violate("no-lost-update", "v.value += 1 lost an update");
    }
}

/// rule-7.4-14 (the tutorial: the lock makes access to the shared objects atomic): only
/// each single read or write. `v.value += 1` is a locked read and a locked write, and
/// loses updates across processes (loom finds it); `with v.get_lock():` around it holds.
#[test]
fn rule_7_4_14_value_lock_does_not_make_plus_equals_atomic() {
    passes(loom(3, value_plus_equals::<Loom, true>));
    quiet_panics();
    assert_eq!(
        violated(
            loom(3, value_plus_equals::<Loom, false>),
            "+= without get_lock"
        ),
        "no-lost-update"
    );
}

/// Two partitions of an array, each with its own lock; two processes add to both.
fn partitions<B: ProcessBackend>() {
    let p0 = mp::Array::<i64, B>::new(&[0, 0]).with_name("p0");
    let p1 = mp::Array::<i64, B>::new(&[0, 0]).with_name("p1");
    let add = move |p0: &mp::Array<i64, B>, p1: &mp::Array<i64, B>| {
        for p in [p0, p1] {
            let _g = p.get_lock().lock();
            p.set(0, p.get(0).unwrap() + 1).unwrap();
        }
    };
    let (a, b) = (p0.reopen(), p1.reopen());
    let child = B::spawn_process("child", move || add(&a, &b));
    add(&p0, &p1);
    assert_eq!(child.join(), 0);
    if p0.get(0).unwrap() != 2 || p1.get(0).unwrap() != 2 {
        violate("no-lost-update", "a partition lost an update");
    }
}

/// rule-7.4-19: partition large shared data with a lock per partition: a process holding
/// one partition's lock does not stop another from updating the other partition, and no
/// interleaving loses an update in either (loom).
#[test]
fn rule_7_4_19_a_lock_per_partition() {
    let p0 = Array::<i64>::new(&[0, 0]);
    let p1 = Array::<i64>::new(&[0, 0]);
    let _held = p0.get_lock().lock();
    let other = p1.reopen(); // another process, on the other partition
    assert!(other.get_lock().acquire_with(false, None).unwrap());
    other.set(0, 5).unwrap();
    other.get_lock().release().unwrap();
    assert_eq!(p1.get(0), Ok(5));
    passes(loom(3, partitions::<Loom>));
}

/// Two values under one invariant (a + b == 10), each with its own lock (`SPLIT`), or
/// both under one lock. A mover process moves one unit from a to b; the parent audits.
fn granularity<B: ProcessBackend, const SPLIT: bool>() {
    let la = mp::Lock::<B>::new().with_name("lock_a");
    let lb = mp::Lock::<B>::new().with_name("lock_b");
    let a = mp::RawValue::<i64, B>::new(10).with_name("a");
    let b = mp::RawValue::<i64, B>::new(0).with_name("b");
    let (la2, lb2, a2, b2) = (la.reopen(), lb.reopen(), a.reopen(), b.reopen());
    let mover = B::spawn_process("mover", move || {
        if SPLIT {
            {
                let _g = la2.lock();
                a2.set_value(a2.value() - 1);
            }
            let _g = lb2.lock();
            b2.set_value(b2.value() + 1);
        } else {
            let _g = la2.lock();
            a2.set_value(a2.value() - 1);
            b2.set_value(b2.value() + 1);
        }
    });
    let total = if SPLIT {
        let x = {
            let _g = la.lock();
            a.value()
        };
        let _g = lb.lock();
        x + b.value()
    } else {
        let _g = la.lock();
        a.value() + b.value()
    };
    assert_eq!(mover.join(), 0);
    if total != 10 {
        violate("consistent-read", &format!("a + b was {total}"));
    }
}

/// rule-7.4-21: choose a lock granularity that balances concurrency and safety: a lock per
/// value lets a reader see a unit in flight between two values that share an invariant
/// (loom finds a + b != 10); one lock over both never does.
#[test]
fn rule_7_4_21_too_fine_a_lock_breaks_a_joint_invariant() {
    passes(loom(3, granularity::<Loom, false>));
    quiet_panics();
    assert_eq!(
        violated(loom(3, granularity::<Loom, true>), "a lock per value"),
        "consistent-read"
    );
}

/// A child process updates a shared Value under its lock and may crash there; the parent
/// then reads it under the lock.
fn value_holder_crashes<B: ProcessBackend>() {
    let v = mp::Value::<i64, B>::new(0).with_name("v");
    let v2 = v.reopen();
    let child = B::spawn_process("child", move || {
        let _g = v2.get_lock().lock();
        v2.set_value(1);
    });
    {
        let _g = v.get_lock().lock();
        let _ = v.value();
    }
    let code = child.join();
    assert!(code == 0 || code == -9, "exit code {code}");
}

/// rule-7.4-24: release resources correctly when an exception occurs. An exception in
/// `with v.get_lock():` releases the lock; a process that dies there does not, and the next
/// process to take the lock waits forever (the checker's crash fault: dead-holder).
#[test]
fn rule_7_4_24_exception_releases_a_crash_does_not() {
    let v = Value::<i64>::new(0);
    assert!(raising(|| {
        let _g = v.get_lock().lock();
        v.set_value(1);
        raise();
    }));
    assert!(v.get_lock().reopen().acquire_with(false, None).unwrap());
    passes(loom(3, value_holder_crashes::<Loom>));
    quiet_panics();
    assert_eq!(
        failed_as(
            loom_crashing(3, value_holder_crashes::<Loom>),
            "a holder that crashes"
        ),
        "dead-holder"
    );
}

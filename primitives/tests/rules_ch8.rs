//! The prose rules of the tutorial's chapter 8, sections 8.1 (`fcntl`), 8.3 (exclusive and
//! shared locks) and 8.4 (applications), each checked against `lockproof::file` on real
//! files or in the checked world; one test per catalogue record that needs its own, named
//! after it (`rule-8.1-02` → `rule_8_1_02_*`). Records that state what another test already
//! checks cite it (`/work/staging/ch8-rules.jsonl`, merged into `corpus/catalogue/ch8.jsonl`,
//! says which; `FILELOCKS-CONFORMANCE.md` maps the conformance checks).
//!
//! Three kinds of test:
//! - **tables on real files**: a list of steps, each one process's call and its expected
//!   result (`support/file_ops.rs`), run by `support/file_world.rs` with one real process
//!   per actor (the test binary re-executed); a step expected to block is observed asleep
//!   in the kernel, never slept on; every actor is killed when the test ends;
//! - **real worker processes** ([`support::children`]): the test binary re-executed as a
//!   worker that runs a loop of its own on files in a temporary directory; the parent waits
//!   for an observable state (a file appearing) or the worker's exit, always bounded;
//! - **under the checker**: a body generic over the backend whose processes are
//!   `B::spawn_process` groups on the simulated file system, run under loom (every
//!   interleaving up to a preemption bound) or shuttle, with crash or pause faults where
//!   the rule is about them; a claim that fails somewhere is shown failing there.
//!
//! Rules the tutorial states wrongly (8.1-02, 8.1-04, 8.1-13, 8.3-04, 8.3-08, 8.3-09,
//! 8.3-12, 8.3-13, 8.4-19) are tested for what Linux and CPython actually do.

#[path = "support/fifo.rs"]
mod fifo;
#[path = "support/file_ops.rs"]
mod file_ops;
#[path = "support/file_world.rs"]
mod file_world;
mod support;

// `support/file_world.rs` names the child-process helpers `crate::children`.
use support::children;

use children::{bound_secs, park_until_killed, role, spawn_with, until, ChildGuard};
use file_ops::*;
use file_world::{actor_main, run, World, ACTOR, DIR};
use lockproof::backend::checked::{violate, ExecutionReport, Failure, WorldConfig};
use lockproof::backend::file::FileBackend;
use lockproof::backend::spawn::ProcessHandle;
use lockproof::backend::{Backend, Loom, RawAtomic, Shuttle, Std};
use lockproof::file::fcntl::{flock, flock_timeout};
use lockproof::file::{os, Backoff, File, LockFile, Staleness};
use lockproof::PyException;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering::SeqCst;
use std::sync::Arc;
use std::time::Instant;
use support::{assert_waited, loom_with, passes, quiet_panics, shuttle_check};

// ---- helpers: tables ------------------------------------------------------------------------

/// `os.open(path, O_RDWR | O_CREAT)` into `slot`.
fn open(actor: &'static str, slot: &'static str, path: &'static str) -> Step {
    st(
        actor,
        Call::Open {
            slot,
            path,
            flags: RW_CREAT,
        },
        Expect::Ok,
    )
}

/// `fcntl.flock(slot, op)`, expecting `expect`.
fn lk(actor: &'static str, slot: &'static str, op: i32, expect: Expect) -> Step {
    st(actor, Call::Flock { slot, op }, expect)
}

/// `fcntl.lockf(slot, cmd, len, start)`, expecting `expect`.
fn lockf(
    actor: &'static str,
    slot: &'static str,
    cmd: i32,
    (start, len): (i64, i64),
    expect: Expect,
) -> Step {
    st(
        actor,
        Call::Lockf {
            slot,
            cmd,
            len,
            start,
            whence: SEEK_SET,
        },
        expect,
    )
}

/// The result of a step that waited (`Expect::Blocks`) or ran in the background.
fn awaits(actor: &'static str, expect: Expect) -> Step {
    st(actor, Call::Await, expect)
}

/// `BlockingIOError(11)`: what a refused non-blocking lock raises on Linux.
const EAGAIN: Expect = Expect::Err(11);

// ---- helpers: the checked world ---------------------------------------------------------------

/// A world with processes and files.
trait Fs: Backend + FileBackend {}
impl<B: Backend + FileBackend> Fs for B {}

/// Run a checked body under loom with preemption bound `bound` and `config`'s faults.
fn loom(bound: usize, config: WorldConfig, body: fn()) -> Result<usize, Box<ExecutionReport>> {
    loom_with(config, Some(bound), body)
}

/// No faults.
fn plain() -> WorldConfig {
    WorldConfig::default()
}

/// The property a failed run violated, or the kind of failure (`deadlock`, …).
fn failure(r: Result<usize, Box<ExecutionReport>>, what: &str) -> String {
    let report = match r {
        Ok(n) => panic!("the checker found nothing in {n} executions: {what}"),
        Err(r) => r,
    };
    eprintln!(
        "{what}: failed as expected ({:?})",
        report.failure.as_ref().map(|f| f.kind())
    );
    match report.failure {
        Some(Failure::Violation { property, .. }) => property,
        Some(other) => other.kind().to_owned(),
        None => panic!("{what}: a failed run without a failure"),
    }
}

/// The executions of a run that must pass, printed (the number the catalogue record
/// cites); more than one, or the run explored nothing.
fn runs(r: Result<usize, Box<ExecutionReport>>) -> usize {
    let n = passes(r);
    assert!(n > 1, "only {n} execution: nothing was explored");
    eprintln!("passed {n} executions");
    n
}

/// An uncaught Python exception where a body cannot raise one: a failure.
fn py<T>(r: lockproof::Result<T>) -> T {
    r.unwrap_or_else(|e| panic!("uncaught {}", e.python_repr()))
}

/// A critical section watched by the checker: entering it when `capacity` processes are
/// already inside violates `property`.
struct Inside<B: Backend> {
    n: B::Atomic,
    capacity: usize,
    property: &'static str,
}

impl<B: Backend> Inside<B> {
    fn new(capacity: usize, property: &'static str) -> Arc<Self> {
        Arc::new(Inside {
            n: B::Atomic::new(0),
            capacity,
            property,
        })
    }

    fn enter(&self) {
        let n = self.n.fetch_add(1, SeqCst) + 1;
        if n > self.capacity {
            violate(
                self.property,
                &format!(
                    "{n} processes inside a section that admits {}",
                    self.capacity
                ),
            );
        }
    }

    fn exit(&self) {
        self.n.fetch_sub(1, SeqCst);
    }
}

/// `open(path, 'w').write(text)`.
fn write_text<B: Fs>(path: &str, text: &str) {
    let mut f = py(File::<B>::open(path, "w"));
    py(f.write(text.as_bytes()));
    py(f.close());
}

/// `open(path).read()`.
fn read_text<B: Fs>(path: &str) -> String {
    let mut f = py(File::<B>::open(path, "r"));
    let s = String::from_utf8(py(f.read(None))).unwrap();
    py(f.close());
    s
}

/// How a body guards the read-modify-write of a counter file.
#[derive(Clone, Copy, PartialEq)]
enum Guard {
    /// No lock at all.
    None,
    /// `fcntl.flock(f, LOCK_EX)` around the whole update.
    FlockEx,
    /// A `threading.Lock` the process made itself (what each process has after a fork or a
    /// spawn: its own copy of an in-memory lock).
    OwnThreadingLock,
    /// `LOCK_SH` to read, then `LOCK_EX` (the "upgrade") to write.
    ShThenEx,
}

const COUNTER: &str = "/tmp/counter";

/// One process's `with open(COUNTER, 'r+') as f: n = int(f.read()); f.seek(0);
/// f.write(str(n + 1)); f.truncate(); f.flush()`, guarded by `guard`.
fn add_one<B: Fs>(guard: Guard) {
    let own = lockproof::Lock::<B>::new();
    let _held = (guard == Guard::OwnThreadingLock).then(|| own.lock());
    let mut f = py(File::<B>::open(COUNTER, "r+"));
    match guard {
        Guard::FlockEx => py(flock(&f, LOCK_EX)),
        Guard::ShThenEx => py(flock(&f, LOCK_SH)),
        _ => {}
    }
    let n: i64 = String::from_utf8(py(f.read(None)))
        .unwrap()
        .parse()
        .unwrap();
    if guard == Guard::ShThenEx {
        py(flock(&f, LOCK_EX));
    }
    py(f.seek(0, SEEK_SET));
    py(f.write((n + 1).to_string().as_bytes()));
    py(f.truncate(None));
    py(f.flush());
    if guard != Guard::None && guard != Guard::OwnThreadingLock {
        py(flock(&f, LOCK_UN));
    }
    py(f.close());
}

/// Two processes add one to a counter file, guarded by `G`; the file must say 2.
fn counter_body<B: Fs, const G: u8>() {
    let guard = [
        Guard::None,
        Guard::FlockEx,
        Guard::OwnThreadingLock,
        Guard::ShThenEx,
    ][G as usize];
    write_text::<B>(COUNTER, "0");
    let ps: Vec<_> = (0..2)
        .map(|i| B::spawn_process(&format!("p{i}"), move || add_one::<B>(guard)))
        .collect();
    for p in ps {
        assert_eq!(p.join(), 0);
    }
    let got = read_text::<B>(COUNTER);
    if got != "2" {
        violate(
            "no-lost-update",
            &format!("two increments left the counter at {got}"),
        );
    }
}

const NO_LOCK: u8 = 0;
const FLOCK_EX: u8 = 1;
const OWN_THREADING_LOCK: u8 = 2;
const SH_THEN_EX: u8 = 3;

// ---- 8.1 the fcntl module ---------------------------------------------------------------------

/// rule-8.1-01: `fcntl` gives Python both `flock()` and `fcntl()` (record locks): one process
/// takes a flock and an `F_SETLK` write lock on one file; another process is refused both,
/// and `F_GETLK` names the holder.
#[test]
fn rule_8_1_01_fcntl_exposes_flock_and_record_locks() {
    run(
        "rule_8_1_01_fcntl_exposes_flock_and_record_locks",
        vec![
            open("P1", "a", "f"),
            lk("P1", "a", LOCK_EX, Expect::Ok),
            st(
                "P1",
                Call::Fcntl {
                    slot: "a",
                    cmd: F_SETLK,
                    lock: fl(F_WRLCK, 0, 0),
                },
                Expect::Ok,
            ),
            open("P2", "b", "f"),
            lk("P2", "b", LOCK_EX | LOCK_NB, EAGAIN),
            st(
                "P2",
                Call::Fcntl {
                    slot: "b",
                    cmd: F_SETLK,
                    lock: fl(F_WRLCK, 0, 0),
                },
                EAGAIN,
            ),
            st(
                "P2",
                Call::Fcntl {
                    slot: "b",
                    cmd: F_GETLK,
                    lock: fl(F_WRLCK, 0, 0),
                },
                held(F_WRLCK, 0, 0, "P1"),
            ),
        ],
    );
}

/// rule-8.1-02 (wrong: "cross-platform"): the two lock kinds `fcntl` offers on Linux do not
/// even see each other — while P1 holds flock `LOCK_EX`, P2 gets an `F_SETLK` write lock on
/// the whole file, and the reverse (on BSDs flock is built on record locks and they would
/// conflict; on Windows there is no `fcntl` module at all).
#[test]
fn rule_8_1_02_flock_and_record_locks_are_separate_tables_on_linux() {
    run(
        "rule_8_1_02_flock_and_record_locks_are_separate_tables_on_linux",
        vec![
            open("P1", "a", "f"),
            lk("P1", "a", LOCK_EX, Expect::Ok),
            open("P2", "b", "f"),
            lockf("P2", "b", LOCK_EX | LOCK_NB, (0, 0), Expect::Ok),
            lk("P2", "b", LOCK_EX | LOCK_NB, EAGAIN),
            lockf("P1", "a", LOCK_EX | LOCK_NB, (0, 0), EAGAIN),
        ],
    );
}

/// rule-8.1-03: advisory locks rely on cooperation: while P1 holds flock `LOCK_EX`, P2 —
/// which never asks for the lock — opens, writes and reads the file freely; only a process
/// that asks for the lock is refused.
#[test]
fn rule_8_1_03_advisory_lock_does_not_stop_a_process_that_does_not_ask() {
    run(
        "rule_8_1_03_advisory_lock_does_not_stop_a_process_that_does_not_ask",
        vec![
            open("P1", "a", "f"),
            lk("P1", "a", LOCK_EX, Expect::Ok),
            open("P2", "b", "f"),
            st(
                "P2",
                Call::Write {
                    slot: "b",
                    data: b"intruder",
                },
                Expect::Int(8),
            ),
            st(
                "P2",
                Call::Pread {
                    slot: "b",
                    n: 100,
                    offset: 0,
                },
                Expect::Bytes(b"intruder".to_vec()),
            ),
            lk("P2", "b", LOCK_EX | LOCK_NB, EAGAIN),
        ],
    );
}

/// rule-8.1-04 (wrong as a feature of `fcntl`): a file with the old mandatory-locking mode
/// (set-group-ID without group execute) and a record write lock on it: another process's
/// `write` still succeeds (Linux removed mandatory locking in 5.15; before, it also needed
/// a `mand` mount); only lock requests are refused.
#[test]
fn rule_8_1_04_mandatory_mode_file_is_still_advisory() {
    use std::os::unix::fs::PermissionsExt;
    let steps = vec![
        open("P1", "a", "f"),
        lockf("P1", "a", LOCK_EX, (0, 0), Expect::Ok),
        open("P2", "b", "f"),
        st(
            "P2",
            Call::Write {
                slot: "b",
                data: b"written",
            },
            Expect::Int(7),
        ),
        lockf("P2", "b", LOCK_EX | LOCK_NB, (0, 0), EAGAIN),
    ];
    if role().is_some() {
        return actor_main(&steps);
    }
    let mut w = World::new("rule_8_1_04_mandatory_mode_file_is_still_advisory");
    let f = w.dir.path().join("f");
    std::fs::write(&f, b"").unwrap();
    std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o2644)).unwrap();
    assert_eq!(
        std::fs::metadata(&f).unwrap().permissions().mode() & 0o7777,
        0o2644,
        "the set-group-ID bit did not stick"
    );
    w.run(&steps);
    assert_eq!(std::fs::read(&f).unwrap(), b"written");
}

/// rule-8.1-05: `LOCK_SH` is held by several processes at once: three processes each get it
/// without waiting (`LOCK_NB` succeeds), while a fourth's `LOCK_EX` is refused.
#[test]
fn rule_8_1_05_shared_lock_held_by_three_processes_at_once() {
    run(
        "rule_8_1_05_shared_lock_held_by_three_processes_at_once",
        vec![
            open("P1", "a", "f"),
            open("P2", "b", "f"),
            open("P3", "c", "f"),
            open("P4", "d", "f"),
            lk("P1", "a", LOCK_SH | LOCK_NB, Expect::Ok),
            lk("P2", "b", LOCK_SH | LOCK_NB, Expect::Ok),
            lk("P3", "c", LOCK_SH | LOCK_NB, Expect::Ok),
            lk("P4", "d", LOCK_EX | LOCK_NB, EAGAIN),
            lk("P4", "d", LOCK_SH | LOCK_NB, Expect::Ok),
        ],
    );
}

/// rule-8.1-06: `LOCK_EX` excludes every other process — and, more precisely, every other
/// open file description: the holder's own second `open()` is refused too, while a fork
/// child, sharing the description, holds the same lock (it can even re-lock it).
#[test]
fn rule_8_1_06_exclusive_lock_belongs_to_the_open_file_description() {
    run(
        "rule_8_1_06_exclusive_lock_belongs_to_the_open_file_description",
        vec![
            open("P1", "a", "f"),
            lk("P1", "a", LOCK_EX, Expect::Ok),
            open("P2", "b", "f"),
            lk("P2", "b", LOCK_EX | LOCK_NB, EAGAIN),
            lk("P2", "b", LOCK_SH | LOCK_NB, EAGAIN),
            open("P1", "second", "f"),
            lk("P1", "second", LOCK_EX | LOCK_NB, EAGAIN),
            st("P1", Call::Fork { child: "C" }, Expect::Any),
            lk("C", "a", LOCK_EX | LOCK_NB, Expect::Ok),
            st("P1", Call::Close { slot: "a" }, Expect::Ok),
            lk("P2", "b", LOCK_EX | LOCK_NB, EAGAIN),
        ],
    );
}

/// rule-8.1-07: `LOCK_UN` releases: P2 waits (asleep in the kernel) for P1's `LOCK_EX`;
/// P1's `LOCK_UN` lets P2 in, and now P1 is the one refused.
#[test]
fn rule_8_1_07_unlock_lets_the_waiter_in() {
    run(
        "rule_8_1_07_unlock_lets_the_waiter_in",
        vec![
            open("P1", "a", "f"),
            open("P2", "b", "f"),
            lk("P1", "a", LOCK_EX, Expect::Ok),
            lk("P2", "b", LOCK_EX, Expect::Blocks),
            lk("P1", "a", LOCK_UN, Expect::Ok),
            awaits("P2", Expect::Ok),
            lk("P1", "a", LOCK_EX | LOCK_NB, EAGAIN),
        ],
    );
}

/// rule-8.1-08: `LOCK_NB` is OR-ed with `LOCK_SH` or `LOCK_EX`: either then fails at once
/// with `BlockingIOError` (errno 11) instead of waiting, which the same request without it
/// does; `LOCK_NB` alone is no operation (`EINVAL`).
#[test]
fn rule_8_1_08_nonblocking_flag_fails_at_once_instead_of_waiting() {
    run(
        "rule_8_1_08_nonblocking_flag_fails_at_once_instead_of_waiting",
        vec![
            open("P1", "a", "f"),
            open("P2", "b", "f"),
            lk("P1", "a", LOCK_EX, Expect::Ok),
            lk("P2", "b", LOCK_EX | LOCK_NB, EAGAIN),
            lk("P2", "b", LOCK_SH | LOCK_NB, EAGAIN),
            lk("P2", "b", LOCK_NB, Expect::Err(22)),
            lk("P2", "b", LOCK_SH, Expect::Blocks),
            lk("P1", "a", LOCK_UN, Expect::Ok),
            awaits("P2", Expect::Ok),
        ],
    );
}

/// rule-8.1-09: a region of a file can be locked — with `lockf`/`fcntl` record locks:
/// P1's lock on bytes 0–9 leaves 10–19 to P2 and refuses P2 an overlapping 5–14. `flock`
/// has no region: its lock covers the whole file.
#[test]
fn rule_8_1_09_record_locks_cover_a_region_flock_the_whole_file() {
    run(
        "rule_8_1_09_record_locks_cover_a_region_flock_the_whole_file",
        vec![
            open("P1", "a", "f"),
            open("P2", "b", "f"),
            lockf("P1", "a", LOCK_EX, (0, 10), Expect::Ok),
            lockf("P2", "b", LOCK_EX | LOCK_NB, (10, 10), Expect::Ok),
            lockf("P2", "b", LOCK_EX | LOCK_NB, (5, 10), EAGAIN),
            lk("P1", "a", LOCK_EX, Expect::Ok),
            lk("P2", "b", LOCK_SH | LOCK_NB, EAGAIN),
        ],
    );
}

/// rule-8.1-10: acquisition with a timeout (non-blocking tries in a retry loop,
/// `flock_timeout`): while another process holds the lock, the call gives up with `False`
/// after its 0.2 s; once the holder has unlocked, it succeeds.
#[test]
fn rule_8_1_10_flock_with_timeout_gives_up_then_succeeds() {
    let steps = vec![
        open("P1", "a", "f"),
        lk("P1", "a", LOCK_EX, Expect::Ok),
        lk("P1", "a", LOCK_UN, Expect::Ok),
    ];
    if role().is_some() {
        return actor_main(&steps);
    }
    let mut w = World::new("rule_8_1_10_flock_with_timeout_gives_up_then_succeeds");
    w.run_range(&steps, 0..2);
    let f = File::<Std>::open(w.dir.path().join("f"), "a").unwrap();
    let start = Instant::now();
    assert_eq!(
        flock_timeout(&f, LOCK_EX, Some(0.2), Backoff::default()),
        Ok(false)
    );
    assert_waited(start, 0.2);
    w.run_range(&steps, 2..3);
    assert_eq!(
        flock_timeout(&f, LOCK_EX, Some(bound_secs()), Backoff::default()),
        Ok(true)
    );
}

/// Increments each worker of [`rule_8_1_12_exclusive_lock_serialises_writers`] makes.
const K: i64 = 300;

/// One worker: `K` times, `with open(counter, 'r+')`, `LOCK_EX`, read, write n + 1,
/// truncate, flush, unlock; while it holds the lock it also holds an `O_EXCL` marker file,
/// whose creation fails if another worker is inside.
fn counter_worker(dir: &Path) {
    for _ in 0..K {
        let mut f = File::<Std>::open(dir.join("counter"), "r+").unwrap();
        flock(&f, LOCK_EX).unwrap();
        let inside = LockFile::<Std>::try_create(dir.join("inside"))
            .expect("two processes inside the exclusive lock");
        let n: i64 = String::from_utf8(f.read(None).unwrap())
            .unwrap()
            .parse()
            .unwrap();
        f.seek(0, SEEK_SET).unwrap();
        f.write((n + 1).to_string().as_bytes()).unwrap();
        f.truncate(None).unwrap();
        f.flush().unwrap();
        inside.release().unwrap();
        flock(&f, LOCK_UN).unwrap();
        f.close().unwrap();
    }
}

/// rule-8.1-12: under `LOCK_EX` only one process writes the shared file at a time: two real
/// processes, 300 read-modify-writes each, never overlap (an `O_EXCL` marker taken inside
/// the lock never finds another) and the counter ends at 600.
#[test]
fn rule_8_1_12_exclusive_lock_serialises_writers() {
    const TEST: &str = "rule_8_1_12_exclusive_lock_serialises_writers";
    if role().is_some() {
        return counter_worker(Path::new(&std::env::var(DIR).unwrap()));
    }
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("counter"), b"0").unwrap();
    let d = dir.path().to_str().unwrap();
    let mut ws: Vec<ChildGuard> = (0..2)
        .map(|_| spawn_with(TEST, "worker", &[], &[(DIR, d)]))
        .collect();
    for w in &mut ws {
        w.wait_success();
    }
    assert_eq!(
        std::fs::read_to_string(dir.path().join("counter")).unwrap(),
        (2 * K).to_string()
    );
}

/// rule-8.1-13 (wrong: "atomic and ordered"): the lock keeps each entry whole but does not
/// order them. P1 locks first and writes its entry through a buffered log file, unlocks;
/// P2 locks, writes, closes (flushing); P1 closes: the file holds P2's entry *before* P1's.
#[test]
fn rule_8_1_13_log_lock_keeps_entries_whole_but_not_in_order() {
    let py_open = |actor, slot| {
        st(
            actor,
            Call::PyOpen {
                slot,
                path: "log",
                mode: "a",
            },
            Expect::Ok,
        )
    };
    run(
        "rule_8_1_13_log_lock_keeps_entries_whole_but_not_in_order",
        vec![
            py_open("P1", "a"),
            lk("P1", "a", LOCK_EX, Expect::Ok),
            st(
                "P1",
                Call::Write {
                    slot: "a",
                    data: b"t=1 P1 first\n",
                },
                Expect::Int(13),
            ),
            lk("P1", "a", LOCK_UN, Expect::Ok),
            py_open("P2", "b"),
            lk("P2", "b", LOCK_EX, Expect::Ok),
            st(
                "P2",
                Call::Write {
                    slot: "b",
                    data: b"t=2 P2 second\n",
                },
                Expect::Int(14),
            ),
            st("P2", Call::Close { slot: "b" }, Expect::Ok),
            st("P1", Call::Close { slot: "a" }, Expect::Ok),
            st(
                "P3",
                Call::Contents { path: "log" },
                Expect::Bytes(b"t=2 P2 second\nt=1 P1 first\n".to_vec()),
            ),
        ],
    );
}

/// Two processes each take flock `LOCK_EX` on two files, P1 in the order a, b and P2 in
/// the order `B_FIRST` says.
fn two_locks_body<B: Fs, const B_FIRST: bool>() {
    let take = |first: &'static str, second: &'static str| {
        move || {
            let x = py(File::<B>::open(first, "a"));
            let y = py(File::<B>::open(second, "a"));
            py(flock(&x, LOCK_EX));
            py(flock(&y, LOCK_EX));
            py(y.close());
            py(x.close());
        }
    };
    let p1 = B::spawn_process("p1", take("/tmp/a", "/tmp/b"));
    let p2 = if B_FIRST {
        B::spawn_process("p2", take("/tmp/b", "/tmp/a"))
    } else {
        B::spawn_process("p2", take("/tmp/a", "/tmp/b"))
    };
    assert_eq!((p1.join(), p2.join()), (0, 0));
}

/// rule-8.1-14: acquire several locks in one global order: loom finds the deadlock of two
/// processes taking flocks on a and b in opposite orders, and none when both take a first
/// (the closes of the `with` blocks release, so every run ends).
#[test]
fn rule_8_1_14_consistent_lock_order_avoids_deadlock() {
    runs(loom(3, plain(), two_locks_body::<Loom, false>));
    runs(shuttle_check(two_locks_body::<Shuttle, false>, 100));
    quiet_panics();
    assert_eq!(
        failure(
            loom(3, plain(), two_locks_body::<Loom, true>),
            "opposite order"
        ),
        "deadlock"
    );
}

const STATE: &str = "/tmp/state";

/// A writer sets two related bytes of a file from `0` to `1` — in one locked batch, or in
/// two locked operations (`BATCH` false) — while a reader reads both under `LOCK_SH`; the
/// reader must never see one set and the other not.
fn batch_body<B: Fs, const BATCH: bool>() {
    write_text::<B>(STATE, "00");
    let writer = B::spawn_process("writer", || {
        let f = py(lockproof::file::Fd::<B>::open(STATE, RDWR, 0o644));
        py(flock(&f, LOCK_EX));
        py(f.pwrite(b"1", 0));
        if !BATCH {
            py(flock(&f, LOCK_UN));
            py(flock(&f, LOCK_EX));
        }
        py(f.pwrite(b"1", 1));
        py(flock(&f, LOCK_UN));
        py(f.close());
    });
    let reader = B::spawn_process("reader", || {
        let f = py(lockproof::file::Fd::<B>::open(STATE, RDONLY, 0));
        py(flock(&f, LOCK_SH));
        let seen = py(f.pread(2, 0));
        py(flock(&f, LOCK_UN));
        py(f.close());
        if seen[0] != seen[1] {
            violate(
                "consistent-read",
                &format!("the reader saw {:?}", String::from_utf8_lossy(&seen)),
            );
        }
    });
    assert_eq!((writer.join(), reader.join()), (0, 0));
}

/// rule-8.1-15: batch small operations under one lock, readers `LOCK_SH`, the writer
/// `LOCK_EX`: a reader never sees a half-made update when the writer's two writes are one
/// locked batch; loom finds the reader between them when each write takes the lock itself.
#[test]
fn rule_8_1_15_one_locked_batch_is_seen_whole_by_shared_readers() {
    runs(loom(3, plain(), batch_body::<Loom, true>));
    runs(shuttle_check(batch_body::<Shuttle, true>, 100));
    quiet_panics();
    assert_eq!(
        failure(loom(3, plain(), batch_body::<Loom, false>), "split"),
        "consistent-read"
    );
}

// ---- 8.3 exclusive and shared locks -------------------------------------------------------------

/// rule-8.3-02: an exclusive lock keeps modifications consistent: two processes' flock'd
/// read-modify-writes of a counter file never lose an increment under loom or shuttle.
#[test]
fn rule_8_3_02_exclusive_lock_keeps_read_modify_write_consistent() {
    runs(loom(3, plain(), counter_body::<Loom, FLOCK_EX>));
    runs(shuttle_check(counter_body::<Shuttle, FLOCK_EX>, 200));
}

/// rule-8.3-04 (wrong: "prevents any process from writing"): two readers hold `LOCK_SH`; a
/// third process is refused `LOCK_EX` — but, not asking for it, writes the file anyway.
#[test]
fn rule_8_3_04_shared_lock_does_not_stop_a_writer_that_does_not_lock() {
    run(
        "rule_8_3_04_shared_lock_does_not_stop_a_writer_that_does_not_lock",
        vec![
            open("P1", "a", "f"),
            open("P2", "b", "f"),
            lk("P1", "a", LOCK_SH, Expect::Ok),
            lk("P2", "b", LOCK_SH, Expect::Ok),
            open("P3", "c", "f"),
            lk("P3", "c", LOCK_EX | LOCK_NB, EAGAIN),
            st(
                "P3",
                Call::Write {
                    slot: "c",
                    data: b"w",
                },
                Expect::Int(1),
            ),
            st(
                "P1",
                Call::Pread {
                    slot: "a",
                    n: 10,
                    offset: 0,
                },
                Expect::Bytes(b"w".to_vec()),
            ),
        ],
    );
}

/// rule-8.3-07: the compatibility matrix, each cell between two processes, both as a
/// non-blocking request (refused or granted at once) and as a blocking one (asleep until
/// the holder unlocks): X/X, X/S, S/X incompatible; S/S compatible.
#[test]
fn rule_8_3_07_compatibility_matrix() {
    let mut steps = vec![open("P1", "a", "f"), open("P2", "b", "f")];
    for (held, req, compatible) in [
        (LOCK_EX, LOCK_EX, false),
        (LOCK_SH, LOCK_EX, false),
        (LOCK_EX, LOCK_SH, false),
        (LOCK_SH, LOCK_SH, true),
    ] {
        steps.push(lk("P1", "a", held, Expect::Ok));
        if compatible {
            steps.push(lk("P2", "b", req | LOCK_NB, Expect::Ok));
            steps.push(lk("P2", "b", LOCK_UN, Expect::Ok));
            steps.push(lk("P2", "b", req, Expect::Ok));
        } else {
            steps.push(lk("P2", "b", req | LOCK_NB, EAGAIN));
            steps.push(lk("P2", "b", req, Expect::Blocks));
        }
        steps.push(lk("P1", "a", LOCK_UN, Expect::Ok));
        if !compatible {
            steps.push(awaits("P2", Expect::Ok));
        }
        steps.push(lk("P2", "b", LOCK_UN, Expect::Ok));
    }
    run("rule_8_3_07_compatibility_matrix", steps);
}

/// rule-8.3-08 (wrong: exclusive locks get priority): flock has no writer preference. P1
/// reads (`LOCK_SH`), P2 waits for `LOCK_EX`; readers P3 and P1 keep overlapping, each new
/// one granted at once, so three times over P2 is passed by — it gets in only when no
/// reader is left.
#[test]
fn rule_8_3_08_readers_overtake_a_waiting_writer() {
    let mut steps = vec![
        open("P1", "a", "f"),
        open("P2", "b", "f"),
        open("P3", "c", "f"),
        lk("P1", "a", LOCK_SH, Expect::Ok),
        lk("P2", "b", LOCK_EX, Expect::Blocks),
    ];
    for _ in 0..3 {
        // A new reader passes the waiting writer; the old one leaves.
        steps.push(lk("P3", "c", LOCK_SH | LOCK_NB, Expect::Ok));
        steps.push(lk("P1", "a", LOCK_UN, Expect::Ok));
        steps.push(lk("P1", "a", LOCK_SH | LOCK_NB, Expect::Ok));
        steps.push(lk("P3", "c", LOCK_UN, Expect::Ok));
    }
    steps.push(lk("P1", "a", LOCK_UN, Expect::Ok));
    steps.push(awaits("P2", Expect::Ok));
    steps.push(lk("P3", "c", LOCK_SH | LOCK_NB, EAGAIN));
    run("rule_8_3_08_readers_overtake_a_waiting_writer", steps);
}

/// rule-8.3-17: writer priority has to be built on top of flock — with a gate lock every
/// process takes before the data lock: readers hold the gate only while they take `LOCK_SH`;
/// a writer keeps it while it waits for `LOCK_EX`. Then a reader arriving after the
/// waiting writer waits at the gate instead of passing it (compare rule_8_3_08), and the
/// writer gets in as soon as the readers before it leave.
#[test]
fn rule_8_3_17_a_gate_lock_gives_writers_priority() {
    run(
        "rule_8_3_17_a_gate_lock_gives_writers_priority",
        vec![
            open("R1", "g", "gate"),
            open("R1", "d", "data"),
            open("W", "g", "gate"),
            open("W", "d", "data"),
            open("R2", "g", "gate"),
            open("R2", "d", "data"),
            // R1 reads: through the gate, then the shared data lock.
            lk("R1", "g", LOCK_EX, Expect::Ok),
            lk("R1", "d", LOCK_SH, Expect::Ok),
            lk("R1", "g", LOCK_UN, Expect::Ok),
            // W wants to write: takes the gate and keeps it while it waits.
            lk("W", "g", LOCK_EX, Expect::Ok),
            lk("W", "d", LOCK_EX, Expect::Blocks),
            // R2 arrives: it cannot pass the waiting writer.
            lk("R2", "g", LOCK_EX, Expect::Blocks),
            lk("R1", "d", LOCK_UN, Expect::Ok),
            awaits("W", Expect::Ok),
            lk("W", "d", LOCK_UN, Expect::Ok),
            lk("W", "g", LOCK_UN, Expect::Ok),
            awaits("R2", Expect::Ok),
            lk("R2", "d", LOCK_SH, Expect::Ok),
        ],
    );
}

/// rule-8.3-09 (wrong for processes): an in-memory lock excludes only threads of one
/// process — each process has its own copy of a `threading.Lock`, and loom finds two
/// processes losing an increment under theirs; under flock `LOCK_EX` none is lost
/// (rule_8_3_02).
#[test]
fn rule_8_3_09_in_memory_lock_does_not_exclude_other_processes() {
    quiet_panics();
    assert_eq!(
        failure(
            loom(3, plain(), counter_body::<Loom, OWN_THREADING_LOCK>),
            "per-process lock"
        ),
        "no-lost-update"
    );
    runs(loom(3, plain(), counter_body::<Loom, FLOCK_EX>));
}

/// rule-8.3-12 (wrong: "upgrading is supported"): flock's `LOCK_SH` → `LOCK_EX` drops the
/// shared lock before waiting for the exclusive one, so two processes that read under
/// `LOCK_SH` and upgrade to write both succeed in turn — and loom finds the lost update.
#[test]
fn rule_8_3_12_flock_upgrade_is_not_atomic() {
    quiet_panics();
    assert_eq!(
        failure(
            loom(3, plain(), counter_body::<Loom, SH_THEN_EX>),
            "upgrade"
        ),
        "no-lost-update"
    );
}

/// rule-8.3-13 (wrong: "deadlock detection and recovery"): flock detects nothing. P1 holds
/// a and waits for b, P2 holds b and waits for a: both stay asleep in the kernel (no
/// `EDEADLK`, unlike `F_SETLKW`); only killing one ends it, and its death releases its lock.
#[test]
fn rule_8_3_13_flock_cycle_is_not_detected() {
    run(
        "rule_8_3_13_flock_cycle_is_not_detected",
        vec![
            open("P1", "a", "a"),
            open("P1", "b", "b"),
            open("P2", "a", "a"),
            open("P2", "b", "b"),
            lk("P1", "a", LOCK_EX, Expect::Ok),
            lk("P2", "b", LOCK_EX, Expect::Ok),
            lk("P1", "b", LOCK_EX, Expect::Blocks),
            lk("P2", "a", LOCK_EX, Expect::Blocks),
            st("P1", Call::Kill, Expect::Any),
            awaits("P2", Expect::Ok),
        ],
    );
}

/// rule-8.3-15: the writer enters only after every reader has left: three readers hold
/// `LOCK_SH`, the writer waits; after two have left it still has not got the lock (a probe
/// reader is still granted `LOCK_SH`); when the last leaves, it has.
#[test]
fn rule_8_3_15_writer_enters_after_the_last_reader_leaves() {
    run(
        "rule_8_3_15_writer_enters_after_the_last_reader_leaves",
        vec![
            open("P1", "a", "f"),
            open("P2", "b", "f"),
            open("P3", "c", "f"),
            open("W", "w", "f"),
            open("Q", "q", "f"),
            lk("P1", "a", LOCK_SH, Expect::Ok),
            lk("P2", "b", LOCK_SH, Expect::Ok),
            lk("P3", "c", LOCK_SH, Expect::Ok),
            lk("W", "w", LOCK_EX, Expect::Blocks),
            lk("P1", "a", LOCK_UN, Expect::Ok),
            lk("P2", "b", LOCK_UN, Expect::Ok),
            lk("Q", "q", LOCK_SH | LOCK_NB, Expect::Ok),
            lk("Q", "q", LOCK_UN, Expect::Ok),
            lk("P3", "c", LOCK_UN, Expect::Ok),
            awaits("W", Expect::Ok),
            lk("Q", "q", LOCK_SH | LOCK_NB, EAGAIN),
        ],
    );
}

// ---- 8.4 applications -------------------------------------------------------------------------

/// rule-8.4-02: several processes modifying one data file at once corrupt it: without a
/// lock, loom finds two read-modify-writes of a counter file that lose one increment.
#[test]
fn rule_8_4_02_unlocked_concurrent_updates_lose_data() {
    quiet_panics();
    assert_eq!(
        failure(loom(3, plain(), counter_body::<Loom, NO_LOCK>), "unlocked"),
        "no-lost-update"
    );
}

/// rule-8.4-05: region locks let processes work on different parts of one file at once
/// (P1 holds bytes 0–99, P2 100–199) — and their trap: record locks belong to the process,
/// so P1 merely opening and closing the file once more silently drops its lock, and P2 gets
/// P1's region.
#[test]
fn rule_8_4_05_region_locks_run_side_by_side_and_drop_on_any_close() {
    run(
        "rule_8_4_05_region_locks_run_side_by_side_and_drop_on_any_close",
        vec![
            open("P1", "a", "data"),
            open("P2", "b", "data"),
            lockf("P1", "a", LOCK_EX, (0, 100), Expect::Ok),
            lockf("P2", "b", LOCK_EX | LOCK_NB, (100, 100), Expect::Ok),
            lockf("P2", "b", LOCK_EX | LOCK_NB, (0, 100), EAGAIN),
            open("P1", "other", "data"),
            st("P1", Call::Close { slot: "other" }, Expect::Ok),
            lockf("P2", "b", LOCK_EX | LOCK_NB, (0, 100), Expect::Ok),
        ],
    );
}

/// A process that creates the lock file `job.lock`, takes flock `LOCK_EX` on the permanent
/// file `perm.lock`, says so (`ready`) and waits to be killed.
fn lock_holder(dir: &Path) -> ! {
    let lock = LockFile::<Std>::try_create(dir.join("job.lock")).unwrap();
    let perm = File::<Std>::open(dir.join("perm.lock"), "a").unwrap();
    flock(&perm, LOCK_EX).unwrap();
    std::fs::write(dir.join("ready"), b"").unwrap();
    std::mem::forget((lock, perm));
    park_until_killed()
}

/// rule-8.4-06: a lock file (`O_CREAT | O_EXCL`) coordinates processes — another process's
/// create fails with `FileExistsError` while the holder lives — but, unlike a kernel lock, it
/// outlives its holder: after SIGKILL the flock on a permanent file is free at once, while
/// the lock file still refuses everyone until someone judges it stale (its pid is dead).
#[test]
fn rule_8_4_06_lock_file_excludes_and_outlives_its_holder() {
    const TEST: &str = "rule_8_4_06_lock_file_excludes_and_outlives_its_holder";
    if role().is_some() {
        lock_holder(Path::new(&std::env::var(DIR).unwrap()));
    }
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let mut holder = spawn_with(TEST, "holder", &[], &[(DIR, d.to_str().unwrap())]);
    until("the holder is ready", || d.join("ready").exists());
    let refused = LockFile::<Std>::try_create(d.join("job.lock")).unwrap_err();
    assert_eq!(refused.exception(), PyException::FileExistsError);
    let perm = File::<Std>::open(d.join("perm.lock"), "a").unwrap();
    assert_eq!(
        flock(&perm, LOCK_EX | LOCK_NB).unwrap_err().errno(),
        Some(11)
    );
    assert!(!LockFile::<Std>::is_stale(d.join("job.lock"), Staleness::DeadHolder).unwrap());
    holder.kill();
    holder.wait();
    flock(&perm, LOCK_EX | LOCK_NB).expect("the kernel released the dead holder's flock");
    let still = LockFile::<Std>::try_create(d.join("job.lock")).unwrap_err();
    assert_eq!(still.errno(), Some(17));
    assert_eq!(
        LockFile::<Std>::read_pid(d.join("job.lock")).unwrap(),
        Some(holder.pid())
    );
    assert!(LockFile::<Std>::is_stale(d.join("job.lock"), Staleness::DeadHolder).unwrap());
}

/// Run this process on CPU 0 (`A`) or 1 (`B`) when there are two, so that two racing
/// workers really run at the same time.
fn pin_to_own_cpu(me: &str) {
    if std::thread::available_parallelism().map_or(1, |n| n.get()) < 2 {
        return;
    }
    // SAFETY: a zeroed cpu_set_t with one bit set, for this process.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_SET(usize::from(me == "B"), &mut set);
        libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set);
    }
}

/// Tasks in the queue of [`rule_8_4_07_rename_claims_each_task_exactly_once`].
const TASKS: usize = 1000;

/// A queue worker: once `go` exists, list `new/` and claim each task by renaming it into
/// `work/` under a name that says who claimed it, until `new/` is empty; a task another
/// worker renamed first is `FileNotFoundError`.
fn queue_worker(dir: &Path, me: &str) {
    pin_to_own_cpu(me);
    std::fs::write(dir.join(format!("ready.{me}")), b"").unwrap();
    until("go", || dir.join("go").exists());
    let mut lost = 0;
    loop {
        let names = os::listdir::<Std>(dir.join("new")).unwrap();
        if names.is_empty() {
            std::fs::write(dir.join(format!("lost.{me}")), lost.to_string()).unwrap();
            return;
        }
        // One worker takes the list from the front, the other from the back: they meet.
        let order: Vec<String> = if me == "A" {
            names
        } else {
            names.into_iter().rev().collect()
        };
        for n in order {
            match os::rename::<Std>(
                dir.join("new").join(&n),
                dir.join("work").join(format!("{n}.{me}")),
            ) {
                Ok(()) => {}
                Err(e) => {
                    assert_eq!(e.errno(), Some(2), "{e}");
                    lost += 1;
                }
            }
        }
    }
}

/// One round of [`rule_8_4_07_rename_claims_each_task_exactly_once`]: two workers claim
/// [`TASKS`] tasks; every task must be claimed exactly once. Returns the races lost
/// (`FileNotFoundError`) by each worker.
fn claim_round(test: &str) -> (usize, usize) {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::create_dir(d.join("new")).unwrap();
    std::fs::create_dir(d.join("work")).unwrap();
    for t in 0..TASKS {
        std::fs::write(d.join("new").join(format!("t{t:04}")), b"task").unwrap();
    }
    let mut ws: Vec<ChildGuard> = ["A", "B"]
        .iter()
        .map(|me| {
            spawn_with(
                test,
                "worker",
                &[],
                &[(DIR, d.to_str().unwrap()), (ACTOR, me)],
            )
        })
        .collect();
    until("both workers ready", || {
        d.join("ready.A").exists() && d.join("ready.B").exists()
    });
    std::fs::write(d.join("go"), b"").unwrap();
    for w in &mut ws {
        w.wait_success();
    }
    let claimed: Vec<String> = std::fs::read_dir(d.join("work"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(claimed.len(), TASKS, "a task lost or claimed twice");
    let mut tasks: Vec<&str> = claimed.iter().map(|c| &c[..5]).collect();
    tasks.sort();
    tasks.dedup();
    assert_eq!(tasks.len(), TASKS, "a task claimed twice");
    let lost = |w: &str| {
        std::fs::read_to_string(d.join(format!("lost.{w}")))
            .unwrap()
            .parse::<usize>()
            .unwrap()
    };
    (lost("A"), lost("B"))
}

/// rule-8.4-07: each task is processed by one worker only: two real workers race to claim
/// 1000 task files by `os.rename` out of the queue directory (one from the front of the
/// listing, one from the back); in every round every task is claimed exactly once. Rounds
/// are run until one has had real contention — a rename that lost the race and got
/// `FileNotFoundError` — at most 20 (printed).
#[test]
fn rule_8_4_07_rename_claims_each_task_exactly_once() {
    const TEST: &str = "rule_8_4_07_rename_claims_each_task_exactly_once";
    if role().is_some() {
        let me = std::env::var(ACTOR).unwrap();
        return queue_worker(Path::new(&std::env::var(DIR).unwrap()), &me);
    }
    for round in 1..=20 {
        let (a, b) = claim_round(TEST);
        if a + b > 0 {
            eprintln!("rename claims: round {round}: races lost: A {a}, B {b}");
            return;
        }
    }
    panic!("no two workers ever raced for a task in 20 rounds");
}

/// rule-8.4-10: worker crashes must be handled by the application: a worker that claimed a
/// task (renamed into `work/`) and holds flock on it is SIGKILLed; the kernel frees its
/// flock at once, but the task stays in `work/`, out of the queue, until someone recovers it.
#[test]
fn rule_8_4_10_crashed_worker_leaves_its_claim_behind() {
    const TEST: &str = "rule_8_4_10_crashed_worker_leaves_its_claim_behind";
    if role().is_some() {
        let d = PathBuf::from(std::env::var(DIR).unwrap());
        os::rename::<Std>(d.join("new/t1"), d.join("work/t1")).unwrap();
        let f = File::<Std>::open(d.join("work/t1"), "r").unwrap();
        flock(&f, LOCK_EX).unwrap();
        std::fs::write(d.join("ready"), b"").unwrap();
        std::mem::forget(f);
        park_until_killed();
    }
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::create_dir(d.join("new")).unwrap();
    std::fs::create_dir(d.join("work")).unwrap();
    std::fs::write(d.join("new/t1"), b"task").unwrap();
    let mut worker = spawn_with(TEST, "worker", &[], &[(DIR, d.to_str().unwrap())]);
    until("the worker claimed t1", || d.join("ready").exists());
    let f = File::<Std>::open(d.join("work/t1"), "r").unwrap();
    assert_eq!(flock(&f, LOCK_EX | LOCK_NB).unwrap_err().errno(), Some(11));
    worker.kill();
    worker.wait();
    flock(&f, LOCK_EX | LOCK_NB).expect("the dead worker's flock is released");
    assert_eq!(
        os::listdir::<Std>(d.join("new")).unwrap(),
        Vec::<String>::new()
    );
    assert_eq!(os::listdir::<Std>(d.join("work")).unwrap(), vec!["t1"]);
}

const IN_USE: &str = "/tmp/in_use";

/// A resource pool of 2 guarded by a usage counter file under flock `LOCK_EX`; three
/// processes each try (3 times, 1 s apart) to take one, use it, and give it back — which
/// decrements the counter only if `DECREMENT`. Every process must get one.
fn pool_body<B: Fs, const DECREMENT: bool>() {
    const CAPACITY: i64 = 2;
    write_text::<B>(IN_USE, "0");
    let inside = Inside::<B>::new(CAPACITY as usize, "pool-capacity");
    let update = |delta: i64| {
        let mut f = py(File::<B>::open(IN_USE, "r+"));
        py(flock(&f, LOCK_EX));
        let n: i64 = String::from_utf8(py(f.read(None)))
            .unwrap()
            .parse()
            .unwrap();
        let ok = delta < 0 || n < CAPACITY;
        if ok {
            py(f.seek(0, SEEK_SET));
            py(f.write((n + delta).to_string().as_bytes()));
            py(f.truncate(None));
            py(f.flush());
        }
        py(flock(&f, LOCK_UN));
        py(f.close());
        ok
    };
    let ps: Vec<_> = (0..3)
        .map(|i| {
            let inside = inside.clone();
            B::spawn_process(&format!("p{i}"), move || {
                let got = (0..3).any(|_| {
                    update(1) || {
                        B::sleep(std::time::Duration::from_secs(1));
                        false
                    }
                });
                if !got {
                    violate("eventual-acquisition", "a process never got a resource");
                }
                inside.enter();
                inside.exit();
                if DECREMENT {
                    update(-1);
                }
            })
        })
        .collect();
    for p in ps {
        assert_eq!(p.join(), 0);
    }
}

/// rule-8.4-17: a usage counter bounds concurrency — if every release decrements it under
/// the same lock: three processes share a pool of two and all get a turn, never three at
/// once (shuttle; loom at bound 1); without the decrement the third never gets one (loom).
#[test]
fn rule_8_4_17_usage_counter_bounds_the_pool() {
    runs(loom(1, plain(), pool_body::<Loom, true>));
    runs(shuttle_check(pool_body::<Shuttle, true>, 200));
    quiet_panics();
    assert_eq!(
        failure(loom(1, plain(), pool_body::<Loom, false>), "no decrement"),
        "eventual-acquisition"
    );
}

const JOB_LOCK: &str = "/tmp/job.lock";

/// A holder keeps a lock file for 3 s, refreshing its mtime every second (a heartbeat); a
/// reclaimer from 0.5 s on tries to create it each second and removes it once it looks
/// older than 2 s (age-based reclaim). Both enter the critical section once they hold it.
fn reclaim_body<B: Fs>() {
    let inside = Inside::<B>::new(1, "mutual-exclusion");
    let cs = inside.clone();
    let holder = B::spawn_process("holder", move || {
        let lock = py(LockFile::<B>::try_create(JOB_LOCK));
        cs.enter();
        for _ in 0..3 {
            py(lock.heartbeat());
            B::sleep(std::time::Duration::from_secs(1));
        }
        cs.exit();
        py(lock.release());
    });
    let reclaimer = B::spawn_process("reclaimer", move || {
        B::sleep(std::time::Duration::from_millis(500));
        for _ in 0..6 {
            match LockFile::<B>::try_create(JOB_LOCK) {
                Ok(lock) => {
                    inside.enter();
                    inside.exit();
                    py(lock.release());
                    return;
                }
                Err(e) if e.errno() == Some(17) => {
                    if py(LockFile::<B>::is_stale(JOB_LOCK, Staleness::Age(2.0))) {
                        let _ = os::unlink::<B>(JOB_LOCK);
                        continue;
                    }
                }
                Err(e) => panic!("uncaught {}", e.python_repr()),
            }
            B::sleep(std::time::Duration::from_secs(1));
        }
        violate("eventual-acquisition", "the reclaimer never got the lock");
    });
    assert_eq!((holder.join(), reclaimer.join()), (0, 0));
}

/// rule-8.4-18: reclaiming resources "not released for a long time" by age: with a holder
/// that heartbeats, no interleaving makes the reclaimer take a live holder's lock; one
/// pause of the holder for 5 s (a stop, a swap storm) and the reclaimer judges it stale,
/// removes it and enters while the holder is still inside.
#[test]
fn rule_8_4_18_age_reclaim_takes_a_paused_holders_lock() {
    runs(loom(2, plain(), reclaim_body::<Loom>));
    runs(shuttle_check(reclaim_body::<Shuttle>, 200));
    quiet_panics();
    let paused = WorldConfig {
        pauses: 1,
        pause_span: 5_000_000_000,
        ..WorldConfig::default()
    };
    assert_eq!(
        failure(loom(2, paused, reclaim_body::<Loom>), "paused holder"),
        "mutual-exclusion"
    );
}

/// rule-8.4-22: fail fast, and clean up on exceptions: while P1 holds the lock, a
/// non-blocking request raises `BlockingIOError` at once instead of waiting; and a `with`
/// block that raises while holding flock closes its file, which releases the lock (P2 gets
/// it at once).
#[test]
fn rule_8_4_22_fail_fast_and_release_on_exception() {
    let steps = vec![
        open("P1", "a", "f"),
        lk("P1", "a", LOCK_EX, Expect::Ok),
        lk("P1", "a", LOCK_UN, Expect::Ok),
        open("P2", "b", "f"),
        lk("P2", "b", LOCK_EX | LOCK_NB, Expect::Ok),
    ];
    if role().is_some() {
        return actor_main(&steps);
    }
    let mut w = World::new("rule_8_4_22_fail_fast_and_release_on_exception");
    w.run_range(&steps, 0..2);
    let path = w.dir.path().join("f");
    let f = File::<Std>::open(&path, "a").unwrap();
    let e = flock(&f, LOCK_EX | LOCK_NB).unwrap_err();
    assert_eq!(
        (e.exception(), e.errno()),
        (PyException::BlockingIOError, Some(11))
    );
    w.run_range(&steps, 2..4);
    quiet_panics();
    let raised = catch_unwind(AssertUnwindSafe(|| {
        let held = File::<Std>::open(&path, "a").unwrap();
        flock(&held, LOCK_EX).unwrap();
        std::panic::resume_unwind(Box::new("raised in the with block"));
    }));
    assert!(raised.is_err());
    w.run_range(&steps, 4..5);
}

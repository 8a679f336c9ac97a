//! FILELOCKS.md §7 checks 63–65: what a crash or a pause of a process does to files, locks
//! and lock files, on the checked world's simulated file system (the faults are checker
//! choices: the engine picks the step a process dies at, or the step it is paused for a
//! span of virtual time). Their real halves run on real files in `conformance_file.rs`
//! (SIGKILL of a lock-file maker, of a flock holder, SIGSTOP of a holder).
//!
//! A check that a fault *can* lead somewhere is a body that fails with a named violation
//! when it gets there: the checker must find that execution (the test asserts the
//! violation), and every other execution must satisfy the body's other assertions.

mod support;

use lockproof::backend::checked::{violate, ExecutionReport, Failure, WorldConfig};
use lockproof::backend::file::FileBackend;
use lockproof::backend::process::ProcessBackend;
use lockproof::backend::spawn::ProcessHandle;
use lockproof::backend::{Loom, Shuttle};
use lockproof::file::fcntl::{self, Flock, F_OFD_SETLK, F_SETLK, F_WRLCK, LOCK_EX, LOCK_NB};
use lockproof::file::{os, Fd, File, OpenFlags};
use lockproof::Shared;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;
use std::time::Duration;
use support::{loom_with, passes, quiet_panics, shuttle_with};

/// The property a report's violation names (panics on any other failure, with the report).
fn violated(r: Result<usize, Box<ExecutionReport>>) -> String {
    match r {
        Ok(n) => panic!("the checker found nothing in {n} executions"),
        Err(rep) => match &rep.failure {
            Some(Failure::Violation { property, .. }) => property.clone(),
            other => panic!("expected a violation, got {other:?}"),
        },
    }
}

fn crashing() -> WorldConfig {
    WorldConfig {
        crashes: 1,
        ..WorldConfig::default()
    }
}

// ---- check 63 ------------------------------------------------------------------------------

/// The lock file's path.
const LOCK: &str = "/sim/app.lock";

/// A child makes a lock file the tutorial's way (`os.open(O_CREAT|O_EXCL|O_WRONLY)`, then
/// `os.write` of its JSON, then `os.close`) and may be killed at any step; the parent then
/// reads the file as the next acquirer would (`json.load`).
fn lock_file_maker<B: ProcessBackend + FileBackend>() {
    let child = B::spawn_process("maker", || {
        let fd = Fd::<B>::open(
            LOCK,
            OpenFlags::CREAT | OpenFlags::EXCL | OpenFlags::WRONLY,
            0o644,
        )
        .expect("the first create");
        fd.write(br#"{"pid": 2}"#).expect("write");
        fd.close().expect("close");
    });
    let code = child.join();
    let text = match File::<B>::open(LOCK, "r") {
        Ok(mut f) => Some(f.read(None).expect("read")),
        Err(e) => {
            assert_eq!(e.errno(), Some(2), "only ENOENT: {e}");
            None
        }
    };
    match (code, text) {
        (0, Some(t)) => assert_eq!(t, br#"{"pid": 2}"#, "a finished maker's file"),
        (0, None) => panic!("a maker that finished left no lock file"),
        // Killed before the create, or after the write: nothing, or the whole JSON.
        (-9, None) => {}
        (-9, Some(t)) if t.is_empty() => violate(
            "empty-lock-file",
            "the maker was killed between the O_EXCL create and the write: an empty lock \
             file remains, and the next reader's json.load fails on it",
        ),
        (-9, Some(t)) => assert_eq!(t, br#"{"pid": 2}"#, "a killed maker's file"),
        (c, _) => panic!("exit code {c}"),
    }
}

/// Check 63: a crash between the `O_EXCL` create and the JSON write leaves an empty lock
/// file. Loom finds it (and every other crash point leaves no file or the whole JSON).
#[test]
fn check_63_crash_between_create_and_write_leaves_an_empty_lock_file() {
    quiet_panics();
    assert_eq!(
        violated(loom_with(crashing(), Some(2), lock_file_maker::<Loom>)),
        "empty-lock-file"
    );
    assert_eq!(
        violated(shuttle_with(crashing(), 200, lock_file_maker::<Shuttle>)),
        "empty-lock-file"
    );
}

// ---- check 64 ------------------------------------------------------------------------------

/// Staleness: a lock file older than this is taken over.
const MAX_AGE: f64 = 1.0;

/// The tutorial's lock-file loop: create with `O_EXCL`; on `EEXIST`, remove the file if its
/// mtime is older than [`MAX_AGE`], else sleep 0.25 s; at most 20 tries. The holder is
/// "inside" for 0.5 s of work, then removes the file.
fn stale_takeover_worker<B: ProcessBackend + FileBackend>(inside: &Shared<u32, B>) {
    for _ in 0..20 {
        match Fd::<B>::open(
            LOCK,
            OpenFlags::CREAT | OpenFlags::EXCL | OpenFlags::WRONLY,
            0o644,
        ) {
            Ok(fd) => {
                fd.close().expect("close");
                let now_inside = inside.update(|n| {
                    *n += 1;
                    *n
                });
                if now_inside > 1 {
                    violate(
                        "two-holders",
                        "a holder paused past MAX_AGE had its lock file judged stale and \
                         removed: the waiter created its own and both are inside",
                    );
                }
                B::sleep(Duration::from_millis(500));
                inside.update(|n| *n -= 1);
                // The holder removes "its" file, whoever's it is now.
                let _ = os::unlink::<B>(LOCK);
                return;
            }
            Err(e) if e.errno() == Some(17) => {
                if let Ok(st) = os::stat::<B>(LOCK) {
                    let age = (os::time_ns::<B>() - st.mtime_ns) as f64 / 1e9;
                    if age > MAX_AGE {
                        let _ = os::unlink::<B>(LOCK);
                        continue;
                    }
                }
                B::sleep(Duration::from_millis(250));
            }
            Err(e) => panic!("unexpected {e}"),
        }
    }
}

fn stale_takeover<B: ProcessBackend + FileBackend>() {
    let inside = Arc::new(Shared::<u32, B>::new(0).with_name("inside"));
    let ps: Vec<_> = (0..2)
        .map(|i| {
            let inside = inside.clone();
            B::spawn_process(&format!("P{i}"), move || stale_takeover_worker(&inside))
        })
        .collect();
    for p in ps {
        assert_eq!(p.join(), 0);
    }
}

fn pausing(span: Duration) -> WorldConfig {
    WorldConfig {
        pauses: 1,
        pause_span: span.as_nanos() as u64,
        ..WorldConfig::default()
    }
}

/// Check 64: a holder paused past `MAX_AGE` has its lock file taken over, and on resuming
/// it is inside together with the new holder. Without the pause (or with one shorter than
/// `MAX_AGE` minus the work), the loop excludes.
#[test]
fn check_64_holder_paused_past_max_age_gives_two_holders() {
    quiet_panics();
    let plain = passes(loom_with(
        WorldConfig::default(),
        Some(2),
        stale_takeover::<Loom>,
    ));
    let short = passes(loom_with(
        pausing(Duration::from_millis(300)),
        Some(1),
        stale_takeover::<Loom>,
    ));
    eprintln!("check 64: loom explored {plain} executions without a pause, {short} with a 0.3 s pause: one holder at a time");
    assert_eq!(
        violated(loom_with(
            pausing(Duration::from_secs(3)),
            Some(2),
            stale_takeover::<Loom>
        )),
        "two-holders"
    );
    assert_eq!(
        violated(shuttle_with(
            pausing(Duration::from_secs(3)),
            300,
            stale_takeover::<Shuttle>
        )),
        "two-holders"
    );
}

// ---- check 65 ------------------------------------------------------------------------------

/// How many executions reached the check with the holder killed after it took everything.
static KILLED_HOLDING: AtomicUsize = AtomicUsize::new(0);

const DATA: &str = "/sim/data";
const BUF: &str = "/sim/buffered";
const MARK: &str = "/sim/holder.lock";

/// A holder takes a flock, a record lock and an OFD lock on `DATA` (no descriptor shared
/// with anyone), writes to a buffered file without flushing, and makes a lock file (stage
/// 1); then (stage 2) it would flush, release everything and exit. The checker may kill it
/// at any step; killed at stage 1, it held everything and had flushed nothing.
fn crash_releases<B: ProcessBackend + FileBackend>() {
    let stage = Arc::new(Shared::<u32, B>::new(0).with_name("stage"));
    let s = stage.clone();
    let holder = B::spawn_process("holder", move || {
        let flags = OpenFlags::RDWR | OpenFlags::CREAT;
        let a = Fd::<B>::open(DATA, flags, 0o644).unwrap();
        let b = Fd::<B>::open(DATA, OpenFlags::RDWR, 0).unwrap();
        fcntl::flock(&a, LOCK_EX).unwrap();
        fcntl::fcntl_lock(&a, F_SETLK, Flock::new(F_WRLCK, 0, 0, 10)).unwrap();
        fcntl::fcntl_lock(&b, F_OFD_SETLK, Flock::new(F_WRLCK, 0, 20, 10)).unwrap();
        let mut f = File::<B>::open(BUF, "w").unwrap();
        f.write(b"never flushed").unwrap();
        Fd::<B>::open(
            MARK,
            OpenFlags::CREAT | OpenFlags::EXCL | OpenFlags::WRONLY,
            0o644,
        )
        .unwrap();
        s.set(1);
        // Past this step the buffer may be flushed: a crash before it keeps stage 1.
        s.set(2);
        // A normal end: everything closes (and the buffer is flushed by the close).
        f.close().unwrap();
        os::unlink::<B>(MARK).unwrap();
    });
    let code = holder.join();
    if code == -9 && stage.get() == 1 {
        KILLED_HOLDING.fetch_add(1, SeqCst);
        let c = Fd::<B>::open(DATA, OpenFlags::RDWR, 0).unwrap();
        fcntl::flock(&c, LOCK_EX | LOCK_NB).expect("the dead holder's flock is gone");
        fcntl::fcntl_lock(&c, F_SETLK, Flock::new(F_WRLCK, 0, 0, 10))
            .expect("its record lock is gone");
        fcntl::fcntl_lock(&c, F_OFD_SETLK, Flock::new(F_WRLCK, 0, 20, 10))
            .expect("its OFD lock is gone");
        let mut f = File::<B>::open(BUF, "r").unwrap();
        assert_eq!(
            f.read(None).unwrap(),
            b"",
            "the unflushed buffer died with it"
        );
        assert!(os::stat::<B>(MARK).is_ok(), "its lock file stays");
    }
}

/// Check 65: a crash releases the holder's flock, record lock and OFD lock at the crash
/// step, loses its unflushed buffer and keeps its lock file. (The check's last clause, a
/// fork child sharing the flock's description keeping it, needs descriptor inheritance,
/// which the simulation does not model: its real half is
/// `conformance_file::check_04a_fork_child_keeps_the_flock_after_parent_close`.)
#[test]
fn check_65_crash_releases_kernel_locks_keeps_lock_files_loses_buffers() {
    KILLED_HOLDING.store(0, SeqCst);
    passes(loom_with(crashing(), Some(2), crash_releases::<Loom>));
    let loom_seen = KILLED_HOLDING.swap(0, SeqCst);
    passes(shuttle_with(crashing(), 200, crash_releases::<Shuttle>));
    let shuttle_seen = KILLED_HOLDING.load(SeqCst);
    eprintln!("check 65: killed holding everything in {loom_seen} loom and {shuttle_seen} shuttle executions");
    assert!(
        loom_seen > 0 && shuttle_seen > 0,
        "the holder was never killed after taking everything (loom {loom_seen}, shuttle {shuttle_seen})"
    );
}

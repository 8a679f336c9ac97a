//! `msvcrt.locking` in the simulated file system (FILELOCKS.md §1.10): the Windows-model
//! conformance checks 57–62 of §7 and the rules of the tutorial's section 8.2 that need a
//! test of their own (`rule_8_2_NN_*`).
//!
//! There is no Windows machine: every check runs only on the checked world, its bodies
//! under loom and/or shuttle. Waits are virtual: a process that "holds for 20 s" sleeps 20 s
//! of virtual time, which passes only when every other thread is blocked or asleep, so the
//! moments below (a try at 0, 1, 2 … s) are exact, not real-time races.

mod support;

use lockproof::backend::checked::{violate, ExecutionReport, Failure, WorldConfig};
use lockproof::backend::file::FileBackend;
use lockproof::backend::process::ProcessBackend;
use lockproof::backend::spawn::ProcessHandle;
use lockproof::backend::{Backend, Loom, Shuttle, Std};
use lockproof::file::msvcrt::{locking, LK_LOCK, LK_NBLCK, LK_NBRLCK, LK_RLCK, LK_UNLCK};
use lockproof::file::{Fd, File, FileNo, OpenFlags, Whence};
use lockproof::{Error, PyException};
use std::time::Duration;
use support::{check, loom_with, passes, quiet_panics, shuttle_check, shuttle_with};

/// A world with processes and files.
trait W: ProcessBackend + FileBackend {}
impl<B: ProcessBackend + FileBackend> W for B {}

const PATH: &str = "/sim/data";

/// Seconds of virtual time since the execution started.
fn secs<B: Backend>() -> f64 {
    B::now().0 as f64 / 1e9
}

fn sleep<B: Backend>(s: f64) {
    B::sleep(Duration::from_secs_f64(s));
}

/// `open(PATH, 'w+b')` holding `n` bytes of `b'x'`, flushed (the descriptor at `n`).
fn make_file<B: W>(n: usize) -> File<B> {
    let mut f = File::<B>::open(PATH, "w+b").unwrap();
    f.write(&vec![b'x'; n]).unwrap();
    f.flush().unwrap();
    f
}

/// `f.seek(offset)` then `msvcrt.locking(f.fileno(), mode, n)`, as the tutorial does.
fn lock_at<B: W>(f: &mut File<B>, offset: i64, mode: i32, n: i64) -> lockproof::Result<()> {
    f.seek(offset, 0).unwrap();
    locking(&*f, mode, n)
}

/// A child process: opens PATH `r+b`, locks `[offset, offset + n)` with LK_NBLCK, holds it
/// for `hold` s of virtual time, unlocks, closes.
fn holder<B: W>(offset: i64, n: i64, hold: f64) -> B::Process {
    B::spawn_process("holder", move || {
        let mut f = File::<B>::open(PATH, "r+b").unwrap();
        lock_at(&mut f, offset, LK_NBLCK, n).unwrap();
        sleep::<B>(hold);
        lock_at(&mut f, offset, LK_UNLCK, n).unwrap();
        f.close().unwrap();
    })
}

fn errno_is(r: lockproof::Result<()>, errno: i32, what: &str) {
    match r {
        Err(e) if e.errno() == Some(errno) => {}
        other => violate(
            "msvcrt",
            &format!("{what}: expected errno {errno}, got {other:?}"),
        ),
    }
}

fn loom(bound: usize, body: fn()) -> Result<usize, Box<ExecutionReport>> {
    loom_with(WorldConfig::default(), Some(bound), body)
}

/// The property a failed run violated.
fn violated(r: Result<usize, Box<ExecutionReport>>) -> String {
    match r {
        Ok(n) => panic!("the checker found nothing in {n} executions"),
        Err(rep) => match rep.failure {
            Some(Failure::Violation { property, .. }) => property,
            other => panic!("expected a violation, got {other:?}"),
        },
    }
}

// ---- check 57 -------------------------------------------------------------------------------

/// Another process holds [0, 20) for 5 s; at 0.5 s this process's LK_NBLCK and LK_NBRLCK on
/// [10, 11) fail at once (no virtual time passes) with PermissionError errno 13.
fn c57<B: W>() {
    drop(make_file::<B>(100));
    let p = holder::<B>(0, 20, 5.0);
    sleep::<B>(0.5);
    let mut f = File::<B>::open(PATH, "r+b").unwrap();
    for mode in [LK_NBLCK, LK_NBRLCK] {
        let t0 = secs::<B>();
        let e = lock_at(&mut f, 10, mode, 1).unwrap_err();
        check(
            e.exception() == PyException::PermissionError
                && e.to_string() == "[Errno 13] Permission denied"
                && secs::<B>() == t0,
            "check-57",
            || format!("mode {mode}: {e:?} after {} s", secs::<B>() - t0),
        );
    }
    assert_eq!(p.join(), 0);
}

#[test]
fn check_57_nonblocking_on_a_held_region_fails_at_once_with_eacces() {
    passes(loom(2, c57::<Loom>));
    passes(shuttle_check(c57::<Shuttle>, 20));
}

// ---- check 58 -------------------------------------------------------------------------------

/// Held for 20 s by another process: LK_LOCK makes 10 tries at 0, 1, …, 9 s (9 sleeps) and
/// then raises `OSError: [Errno 36] Resource deadlock avoided` at 9.5 s (started at 0.5).
fn c58<B: W>() {
    drop(make_file::<B>(100));
    let p = holder::<B>(0, 20, 20.0);
    sleep::<B>(0.5);
    let mut f = File::<B>::open(PATH, "r+b").unwrap();
    let e = lock_at(&mut f, 0, LK_LOCK, 20).unwrap_err();
    check(
        e.exception() == PyException::OSError
            && e.errno() == Some(36)
            && e.python_repr() == "OSError('[Errno 36] Resource deadlock avoided')"
            && secs::<B>() == 9.5,
        "check-58",
        || format!("{e:?} at {} s", secs::<B>()),
    );
    assert_eq!(p.join(), 0);
}

#[test]
fn check_58_lk_lock_gives_up_after_10_tries_and_9_sleeps_with_errno_36() {
    passes(loom(2, c58::<Loom>));
    passes(shuttle_check(c58::<Shuttle>, 20));
}

// ---- check 59 -------------------------------------------------------------------------------

/// Held from 0 to 4 s by another process; LK_LOCK started at 0.5 s tries at 0.5, 1.5, 2.5,
/// 3.5 s (refused), sleeps its 4th sleep (3.5 → 4.5 s) while the holder unlocks at 4 s,
/// and is granted at the 5th try, at 4.5 s.
fn c59<B: W>() {
    drop(make_file::<B>(100));
    let p = holder::<B>(0, 20, 4.0);
    sleep::<B>(0.5);
    let mut f = File::<B>::open(PATH, "r+b").unwrap();
    lock_at(&mut f, 5, LK_LOCK, 1).unwrap();
    check(secs::<B>() == 4.5, "check-59", || {
        format!("granted at {} s, expected 4.5", secs::<B>())
    });
    assert_eq!(p.join(), 0);
}

#[test]
fn check_59_lk_lock_freed_during_the_4th_sleep_is_granted_at_the_5th_try() {
    passes(loom(2, c59::<Loom>));
    passes(shuttle_check(c59::<Shuttle>, 20));
}

// ---- check 60 -------------------------------------------------------------------------------

/// Two "readers" with LK_RLCK: the second one (another process) waits — tries at 0.5,
/// 1.5, 2.5 s are refused — until the first releases at 3 s, and is granted at 3.5 s.
fn c60<B: W>() {
    drop(make_file::<B>(100));
    let reader = B::spawn_process("reader-1", || {
        let mut f = File::<B>::open(PATH, "r+b").unwrap();
        lock_at(&mut f, 0, LK_RLCK, 100).unwrap();
        sleep::<B>(3.0);
        lock_at(&mut f, 0, LK_UNLCK, 100).unwrap();
    });
    sleep::<B>(0.5);
    let mut f = File::<B>::open(PATH, "r+b").unwrap();
    lock_at(&mut f, 0, LK_RLCK, 100).unwrap();
    check(secs::<B>() == 3.5, "check-60", || {
        format!(
            "second LK_RLCK granted at {} s: it did not wait",
            secs::<B>()
        )
    });
    assert_eq!(reader.join(), 0);
}

#[test]
fn check_60_lk_rlck_is_exclusive_a_second_reader_waits() {
    passes(loom(2, c60::<Loom>));
    passes(shuttle_check(c60::<Shuttle>, 20));
}

// ---- check 61 -------------------------------------------------------------------------------

/// Regions: the descriptor's offset (after a buffered `f.read(10)` of a 100-byte file it is
/// 100, so the lock is [100, 110), not [10, 20)); `nbytes < 0` is EINVAL; past EOF is
/// granted; an overlap with the same handle's region fails; two adjacent regions cannot be
/// unlocked in one call, each unlocks with its exact offset and length.
fn c61<B: W>() {
    drop(make_file::<B>(100));
    let mut a = File::<B>::open(PATH, "r+b").unwrap();
    let mut b = File::<B>::open(PATH, "r+b").unwrap();
    // The descriptor offset, not the logical position.
    assert_eq!(a.read(Some(10)).unwrap().len(), 10);
    assert_eq!(a.tell().unwrap(), 10);
    locking(&a, LK_NBLCK, 10).unwrap();
    lock_at(&mut b, 10, LK_NBLCK, 10).unwrap(); // [10, 20) is free
    errno_is(lock_at(&mut b, 100, LK_NBLCK, 1), 13, "[100, 110) is a's");
    lock_at(&mut b, 10, LK_UNLCK, 10).unwrap();
    // nbytes < 0.
    let e = lock_at(&mut b, 0, LK_LOCK, -1).unwrap_err();
    assert_eq!(
        (e.exception(), e.to_string()),
        (PyException::OSError, "[Errno 22] Invalid argument".into())
    );
    // Past EOF.
    lock_at(&mut b, 500, LK_NBLCK, 50).unwrap();
    // Overlapping one's own region: refused (LK_LOCK: after its 10 tries, errno 36).
    errno_is(lock_at(&mut b, 520, LK_NBLCK, 100), 13, "own overlap");
    errno_is(lock_at(&mut b, 549, LK_LOCK, 1), 36, "own overlap, LK_LOCK");
    // Adjacent regions are separate: [550, 560) next to [500, 550).
    lock_at(&mut b, 550, LK_NBLCK, 10).unwrap();
    errno_is(
        lock_at(&mut b, 500, LK_UNLCK, 60),
        13,
        "one unlock for two regions",
    );
    errno_is(lock_at(&mut b, 500, LK_UNLCK, 10), 13, "a part of a region");
    lock_at(&mut b, 500, LK_UNLCK, 50).unwrap();
    lock_at(&mut b, 550, LK_UNLCK, 10).unwrap();
    errno_is(lock_at(&mut b, 550, LK_UNLCK, 10), 13, "unlock twice");
    // A bad descriptor.
    let bad = Fd::<B>::open(PATH, OpenFlags::RDONLY, 0).unwrap();
    let n = bad.fileno();
    bad.close().unwrap();
    assert_eq!(
        locking(n_fd::<B>(n), LK_NBLCK, 1).unwrap_err().errno(),
        Some(9)
    );
}

/// A raw descriptor number as a `FileNo` of backend `B`.
struct RawNo<B>(i32, std::marker::PhantomData<B>);
impl<B: FileBackend> FileNo for RawNo<B> {
    type Backend = B;
    fn fileno(&self) -> i32 {
        self.0
    }
}
fn n_fd<B: FileBackend>(n: i32) -> RawNo<B> {
    RawNo(n, std::marker::PhantomData)
}

#[test]
fn check_61_region_is_descriptor_offset_exact_unlock_no_overlap() {
    passes(shuttle_check(c61::<Shuttle>, 2));
    passes(loom(1, c61::<Loom>));
}

// ---- check 62 -------------------------------------------------------------------------------

/// Mandatory: while another process holds [0, 20) (from 0 to 2 s, then it closes its
/// file), this process's write, read, pwrite and pread touching it fail with
/// PermissionError (13); bytes outside it are fine; the holder's own handle may write it.
/// After the holder's close (at 3 s), the same calls succeed.
fn c62<B: W>() {
    drop(make_file::<B>(100));
    let p = B::spawn_process("holder", move || {
        let mut f = File::<B>::open(PATH, "r+b").unwrap();
        lock_at(&mut f, 0, LK_NBLCK, 20).unwrap();
        f.seek(0, 0).unwrap();
        f.write(b"mine").unwrap(); // its own handle may write its region
        f.flush().unwrap();
        sleep::<B>(2.0);
        f.close().unwrap(); // releases the region
    });
    sleep::<B>(1.0);
    let mut f = File::<B>::open(PATH, "r+b").unwrap();
    let fd = Fd::<B>::open(PATH, OpenFlags::RDWR, 0).unwrap();
    let denied = |r: lockproof::Result<usize>, what: &str| match r {
        Err(e) if e.exception() == PyException::PermissionError && e.errno() == Some(13) => {}
        other => violate("check-62", &format!("{what}: {other:?}")),
    };
    f.seek(15, 0).unwrap();
    f.write(b"zzzzzzzzzz").unwrap();
    denied(f.flush().map(|()| 0), "buffered write into [15, 25)");
    denied(fd.pwrite(b"z", 19), "pwrite at 19");
    denied(fd.pread(1, 0).map(|v| v.len()), "pread at 0");
    denied(fd.read(30).map(|v| v.len()), "read of [0, 30)");
    assert_eq!(fd.pread(10, 20).unwrap(), vec![b'x'; 10]); // [20, 30): not locked
    assert_eq!(fd.pwrite(b"y", 20).unwrap(), 1);
    sleep::<B>(2.0);
    // The holder closed its file at 2 s: its region is gone.
    assert_eq!(fd.pread(4, 0).unwrap(), b"mine".to_vec());
    assert_eq!(fd.pwrite(b"ok", 0).unwrap(), 2);
    assert_eq!(p.join(), 0);
}

#[test]
fn check_62_other_handles_io_fails_eacces_and_close_releases() {
    passes(shuttle_check(c62::<Shuttle>, 20));
    passes(loom(1, c62::<Loom>));
}

/// The holder may be killed (crash fault) at any step, even while it holds [0, 10): once it
/// is gone (exit code -9, or 0 after a normal exit), its regions are gone and this
/// process's LK_NBLCK of [0, 10) succeeds.
fn c62_crash<B: W>() {
    drop(make_file::<B>(100));
    let p = holder::<B>(0, 10, 30.0);
    let code = p.join();
    assert!(code == 0 || code == -9, "exit code {code}");
    if code == -9 {
        KILLED.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }
    let mut f = File::<B>::open(PATH, "r+b").unwrap();
    let r = lock_at(&mut f, 0, LK_NBLCK, 10);
    check(r.is_ok(), "check-62", || {
        format!("holder exited with {code}, its region still held: {r:?}")
    });
    let mut g = File::<B>::open(PATH, "r+b").unwrap();
    assert_eq!(g.read(Some(5)).map(|v| v.len()), Err(Error::os(13)));
}

/// Executions of [`c62_crash`] whose holder was killed.
static KILLED: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

#[test]
fn check_62_a_crashed_holders_regions_are_released() {
    let config = WorldConfig {
        crashes: 1,
        ..WorldConfig::default()
    };
    passes(loom_with(config.clone(), Some(2), c62_crash::<Loom>));
    passes(shuttle_with(config, 30, c62_crash::<Shuttle>));
    let killed = KILLED.load(std::sync::atomic::Ordering::Relaxed);
    assert!(killed > 0, "no execution killed the holder");
    println!("{killed} executions killed the holder");
}

/// Without msvcrt regions on an inode, I/O through two handles is Linux's (nothing is
/// mandatory); the same file with a region of one handle refuses the other's read.
fn no_regions_no_mandatory<B: W>() {
    let mut a = make_file::<B>(10);
    let b = Fd::<B>::open(PATH, OpenFlags::RDWR, 0).unwrap();
    a.seek(0, 0).unwrap();
    assert_eq!(b.pread(10, 0).unwrap().len(), 10);
    assert_eq!(b.pwrite(b"y", 0), Ok(1));
    locking(&a, LK_NBLCK, 5).unwrap();
    assert_eq!(b.pread(10, 0).unwrap_err().errno(), Some(13));
    assert_eq!(b.pwrite(b"y", 0).unwrap_err().errno(), Some(13));
}

#[test]
fn check_62_only_inodes_with_regions_are_mandatory() {
    passes(shuttle_check(no_regions_no_mandatory::<Shuttle>, 1));
}

// ---- rules of section 8.2 -------------------------------------------------------------------

/// rule-8.2-02 (and 8.2-01, 8.2-22): msvcrt exists only on Windows. On real Linux the call
/// is `ModuleNotFoundError: No module named 'msvcrt'` (the crate's typed error, no panic);
/// only the simulated (Windows-model) world provides it.
#[test]
fn rule_8_2_02_msvcrt_is_windows_only() {
    let dir = std::env::temp_dir().join(format!("lockproof-msvcrt-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let f = File::<Std>::open(dir.join("f"), "w").unwrap();
    let e = locking(&f, LK_LOCK, 1).unwrap_err();
    assert_eq!(e, Error::ModuleNotFound("No module named 'msvcrt'".into()));
    assert_eq!(e.exception(), PyException::ModuleNotFoundError);
    assert_eq!(e.errno(), None);
    drop(f);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// rule-8.2-03: not "the Windows API directly": the CRT's `_locking` polls LockFileEx
/// (LK_LOCK: 10 tries over 9 s) and Python raises from the CRT errno, so a refusal is
/// errno 13 or 36 and never the Win32 code 33 (`ERROR_LOCK_VIOLATION`) the tutorial tests.
fn crt_not_win32<B: W>() {
    drop(make_file::<B>(10));
    let p = holder::<B>(0, 10, 20.0);
    sleep::<B>(0.5);
    let mut f = File::<B>::open(PATH, "r+b").unwrap();
    let mut seen = Vec::new();
    for mode in [LK_LOCK, LK_NBLCK, LK_RLCK, LK_NBRLCK] {
        seen.push(lock_at(&mut f, 0, mode, 1).unwrap_err().errno().unwrap());
    }
    check(seen == [36, 13, 36, 13], "crt-errno", || {
        format!("{seen:?}")
    });
    check(!seen.contains(&33), "errno-33", || format!("{seen:?}"));
    assert_eq!(p.join(), 0);
}

#[test]
fn rule_8_2_03_errors_are_crt_errnos_never_win32_33() {
    passes(shuttle_check(crt_not_win32::<Shuttle>, 10));
    assert_eq!(Error::os_windows(33).to_string(), "[Errno 33] Domain error");
}

/// rule-8.2-05: two processes increment a counter in the file, each under LK_LOCK of its
/// byte range; no increment is lost in any interleaving.
fn counter<B: W>() {
    let mut f = File::<B>::open(PATH, "w+b").unwrap();
    f.write(b"0").unwrap();
    f.close().unwrap();
    let ps: Vec<_> = (0..2)
        .map(|i| {
            B::spawn_process(&format!("worker-{i}"), || {
                let fd = Fd::<B>::open(PATH, OpenFlags::RDWR, 0).unwrap();
                fd.lseek(0, Whence::Set).unwrap();
                locking(&fd, LK_LOCK, 1).unwrap();
                let v = fd.pread(1, 0).unwrap()[0];
                fd.pwrite(&[v + 1], 0).unwrap();
                fd.lseek(0, Whence::Set).unwrap();
                locking(&fd, LK_UNLCK, 1).unwrap();
            })
        })
        .collect();
    for p in ps {
        assert_eq!(p.join(), 0);
    }
    let fd = Fd::<B>::open(PATH, OpenFlags::RDONLY, 0).unwrap();
    let v = fd.pread(1, 0).unwrap();
    check(v == b"2", "no-lost-update", || format!("counter {v:?}"));
}

#[test]
fn rule_8_2_05_regions_synchronise_processes() {
    passes(loom(2, counter::<Loom>));
    passes(shuttle_check(counter::<Shuttle>, 50));
}

/// rule-8.2-10: LK_NBRLCK is not a shared lock: two handles' LK_NBRLCK of the same bytes,
/// in one process or two, exclude each other (errno 13).
fn nbrlck_exclusive<B: W>() {
    drop(make_file::<B>(10));
    let mut a = File::<B>::open(PATH, "rb").unwrap();
    let mut b = File::<B>::open(PATH, "rb").unwrap();
    lock_at(&mut a, 0, LK_NBRLCK, 10).unwrap();
    errno_is(lock_at(&mut b, 0, LK_NBRLCK, 10), 13, "second LK_NBRLCK");
    // And the "reader" cannot even read through the other handle.
    b.seek(0, 0).unwrap();
    assert_eq!(b.read(None).unwrap_err().errno(), Some(13));
}

#[test]
fn rule_8_2_10_lk_nbrlck_is_exclusive() {
    passes(shuttle_check(nbrlck_exclusive::<Shuttle>, 1));
}

/// rule-8.2-12: two processes hold disjoint regions at the same time (the second's
/// LK_NBLCK succeeds while the first holds its region).
fn disjoint<B: W>() {
    drop(make_file::<B>(40));
    let p = holder::<B>(0, 20, 5.0);
    sleep::<B>(1.0);
    let mut f = File::<B>::open(PATH, "r+b").unwrap();
    let r = lock_at(&mut f, 20, LK_NBLCK, 20);
    check(r.is_ok(), "range-lock", || format!("{r:?}"));
    errno_is(
        lock_at(&mut f, 19, LK_NBLCK, 1),
        13,
        "byte 19 is the holder's",
    );
    assert_eq!(p.join(), 0);
}

#[test]
fn rule_8_2_12_disjoint_regions_are_held_concurrently() {
    passes(loom(2, disjoint::<Loom>));
    passes(shuttle_check(disjoint::<Shuttle>, 20));
}

/// rule-8.2-13: several regions at once, but without an order two processes taking two
/// regions in opposite orders with LK_LOCK can each hold one and time out on the other
/// (errno 36 after 9 s): the checker finds that interleaving.
fn two_regions<B: W>() {
    drop(make_file::<B>(40));
    let ps: Vec<_> = [(0i64, 20i64), (20, 0)]
        .into_iter()
        .map(|(first, second)| {
            B::spawn_process("locker", move || {
                let mut f = File::<B>::open(PATH, "r+b").unwrap();
                lock_at(&mut f, first, LK_LOCK, 10).unwrap();
                let r = lock_at(&mut f, second, LK_LOCK, 10);
                check(r.is_ok(), "no-lock-timeout", || {
                    format!("holding [{first}, +10), LK_LOCK of [{second}, +10): {r:?}")
                });
                lock_at(&mut f, second, LK_UNLCK, 10).unwrap();
                lock_at(&mut f, first, LK_UNLCK, 10).unwrap();
            })
        })
        .collect();
    for p in ps {
        p.join();
    }
}

#[test]
fn rule_8_2_13_unordered_multi_region_locking_times_out() {
    quiet_panics();
    assert_eq!(violated(loom(2, two_regions::<Loom>)), "no-lock-timeout");
}

/// rule-8.2-16: the tutorial's "upgrade" releases the read lock and then asks for the
/// write lock: another process can take the region in between and the upgrader is left
/// with nothing (LK_NBLCK refused). There is no downgrade: asking for LK_RLCK while
/// holding LK_LOCK on the same bytes is refused as an overlap.
fn upgrade<B: W>() {
    drop(make_file::<B>(10));
    let other = B::spawn_process("writer", || {
        let mut f = File::<B>::open(PATH, "r+b").unwrap();
        if lock_at(&mut f, 0, LK_NBLCK, 10).is_ok() {
            sleep::<B>(1.0);
            lock_at(&mut f, 0, LK_UNLCK, 10).unwrap();
        }
    });
    let mut f = File::<B>::open(PATH, "r+b").unwrap();
    if lock_at(&mut f, 0, LK_RLCK, 10).is_ok() {
        lock_at(&mut f, 0, LK_UNLCK, 10).unwrap(); // release_lock()
        let r = lock_at(&mut f, 0, LK_NBLCK, 10); // try_acquire_write_lock
        check(r.is_ok(), "lock-upgrade", || {
            format!("read lock released for the upgrade, write lock refused: {r:?}")
        });
        errno_is(lock_at(&mut f, 0, LK_NBRLCK, 10), 13, "downgrade");
    }
    assert_eq!(other.join(), 0);
}

#[test]
fn rule_8_2_16_upgrade_is_release_then_acquire_and_no_downgrade() {
    quiet_panics();
    assert_eq!(violated(loom(2, upgrade::<Loom>)), "lock-upgrade");
}

/// rule-8.2-17: ex-8.2-04's probe (LK_NBLCK of byte 0, then LK_UNLCK) sees only byte 0: a
/// holder of [5, 10) is reported "unlocked".
fn probe_false_negative<B: W>() {
    drop(make_file::<B>(10));
    let p = holder::<B>(5, 5, 5.0);
    sleep::<B>(1.0);
    let mut f = File::<B>::open(PATH, "r+b").unwrap();
    f.seek(0, 0).unwrap();
    assert!(locking(&f, LK_NBLCK, 1).is_ok(), "the probe saw the lock");
    locking(&f, LK_UNLCK, 1).unwrap();
    // Yet the file is locked: reading it through this handle fails.
    f.seek(0, 0).unwrap();
    assert_eq!(f.read(None).unwrap_err().errno(), Some(13));
    assert_eq!(p.join(), 0);
}

/// rule-8.2-17: the probe takes the real lock, so a worker's LK_NBLCK of [0, 1) fails in an
/// interleaving where it comes between the probe's lock and unlock.
fn probe_observer<B: W>() {
    drop(make_file::<B>(10));
    let monitor = B::spawn_process("monitor", || {
        let mut f = File::<B>::open(PATH, "r+b").unwrap();
        f.seek(0, 0).unwrap();
        if locking(&f, LK_NBLCK, 1).is_ok() {
            locking(&f, LK_UNLCK, 1).unwrap();
        }
    });
    let mut w = File::<B>::open(PATH, "r+b").unwrap();
    let r = lock_at(&mut w, 0, LK_NBLCK, 1);
    check(r.is_ok(), "probe-observer-effect", || {
        format!("the worker's LK_NBLCK of [0, 1) failed because the monitor probed: {r:?}")
    });
    assert_eq!(monitor.join(), 0);
}

#[test]
fn rule_8_2_17_probing_misses_other_ranges_and_perturbs_workers() {
    passes(shuttle_check(probe_false_negative::<Shuttle>, 10));
    quiet_panics();
    assert_eq!(
        violated(loom(2, probe_observer::<Loom>)),
        "probe-observer-effect"
    );
}

/// rule-8.2-19: a database engine reads the file through its own handle: with the
/// protector's region held (ex-8.2-05), the engine's read fails with PermissionError, in
/// the same process.
fn db_engine<B: W>() {
    drop(make_file::<B>(64));
    let mut protector = File::<B>::open(PATH, "r+b").unwrap();
    protector.seek(0, 2).unwrap();
    let size = protector.tell().unwrap() as i64;
    lock_at(&mut protector, 0, LK_LOCK, size).unwrap();
    let engine = Fd::<B>::open(PATH, OpenFlags::RDWR, 0).unwrap();
    let r = engine.pread(16, 0);
    check(r.is_ok(), "db-engine-io", || format!("engine read: {r:?}"));
}

#[test]
fn rule_8_2_19_a_region_breaks_the_db_engines_own_handle() {
    quiet_panics();
    assert_eq!(
        violated(shuttle_check(db_engine::<Shuttle>, 1)),
        "db-engine-io"
    );
}

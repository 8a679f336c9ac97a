//! The defects the checker found in the tutorial's section 8.1 (`models/files/src/ch8_flock.rs`)
//! that depend on the kernel, reproduced on real files with real processes through
//! `lockproof::file` on [`Std`].
//!
//! Each actor is this test binary re-executed for the one test (`<name> --exact`, the
//! mechanism of `support/children.rs`), running the example's code one call at a time as
//! the parent commands over a pair of FIFOs (`<actor>.cmd`, `<actor>.res`): the parent
//! chooses the interleaving, so every reproduction here is deterministic (one try, no
//! race to win). Nothing sleeps to let another process block; every wait is bounded
//! ([`BOUND`]); every actor is SIGKILLed by its guard when the test ends. The only waits on
//! the clock are the example's own (`time.sleep(0.1)` in its retry loop, with its staleness
//! age scaled from 30 s to 0.3 s where a real pause must outlast it).

#[allow(dead_code)]
#[path = "support/children.rs"]
mod children;
#[path = "support/fifo.rs"]
mod fifo;

use fifo::{connect_writer, mkfifo, proc_state, raw_open};

use children::{role, spawn_with, ChildGuard, BOUND};
use lockproof::backend::Std;
use lockproof::file::fcntl::{self, LOCK_EX, LOCK_NB, LOCK_SH};
use lockproof::file::{os, Fd, File, OpenFlags};
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const DIR: &str = "LOCKPROOF_DEFECT_DIR";
const ACTOR: &str = "LOCKPROOF_DEFECT_ACTOR";

// ---- the example's code, on real files ----------------------------------------------------

/// `time.time()`.
fn now() -> f64 {
    os::time_ns::<Std>() as f64 / 1e9
}

/// What an actor holds between commands: a FileLockExample's or AdvancedFileLock's
/// `file_handle`.
#[derive(Default)]
struct Actor {
    dir: PathBuf,
    file_handle: Option<File<Std>>,
}

impl Actor {
    fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    /// ProcessCooperativeLock's create step: `os.open(O_CREAT|O_EXCL|O_WRONLY)`, then the
    /// owner written and the file closed. `ok` or `err <errno>`.
    fn create(&self, id: &str) -> String {
        let flags = OpenFlags::CREAT | OpenFlags::EXCL | OpenFlags::WRONLY;
        match Fd::<Std>::open(self.path("coop.lock"), flags, 0o644) {
            Ok(fd) => {
                fd.write(id.as_bytes()).unwrap();
                fd.close().unwrap();
                "ok".into()
            }
            Err(e) => format!("err {}", e.errno().unwrap()),
        }
    }

    /// `_is_lock_stale(max_age)`: `1` if older than `max_age` or if `os.stat` fails.
    fn is_lock_stale(&self, max_age: f64) -> bool {
        match os::stat::<Std>(self.path("coop.lock")) {
            Ok(st) => now() - st.mtime_ns as f64 / 1e9 > max_age,
            Err(_) => true,
        }
    }

    /// `_cleanup_stale_lock`: `os.remove`. `ok` or `err <errno>`.
    fn remove(&self) -> String {
        match os::unlink::<Std>(self.path("coop.lock")) {
            Ok(()) => "ok".into(),
            Err(e) => format!("err {}", e.errno().unwrap()),
        }
    }

    /// `acquire_lock(process_id, timeout)` with staleness age `max_age` (the example: 30).
    fn acquire_lock(&self, id: &str, timeout: f64, max_age: f64) -> bool {
        let start = now();
        while now() - start < timeout {
            match self.create(id).as_str() {
                "ok" => return true,
                "err 17" => {
                    if self.is_lock_stale(max_age) {
                        let _ = self.remove();
                        continue;
                    }
                    std::thread::sleep(Duration::from_millis(100)); // the example's time.sleep(0.1)
                }
                _ => break,
            }
        }
        false
    }

    /// `release_lock(process_id)`: remove the file only if it names us.
    fn release_lock(&self, id: &str) -> bool {
        match std::fs::read_to_string(self.path("coop.lock")) {
            Ok(owner) if owner.trim() == id => os::unlink::<Std>(self.path("coop.lock")).is_ok(),
            _ => false,
        }
    }

    /// `self.file_handle = open(path, mode)`, then `fcntl.flock(fileno, op)`; on failure the
    /// handle is closed. `ok` or `err <errno>`.
    fn open_and_flock(&mut self, name: &str, mode: &str, op: i32) -> String {
        self.file_handle = Some(File::<Std>::open(self.path(name), mode).unwrap());
        match fcntl::flock(self.file_handle.as_ref().unwrap(), op) {
            Ok(()) => "ok".into(),
            Err(e) => {
                self.file_handle.take().unwrap().close().unwrap();
                format!("err {}", e.errno().unwrap())
            }
        }
    }

    /// One command from the parent; the answer line.
    fn serve(&mut self, cmd: &str) -> String {
        let words: Vec<&str> = cmd.split_whitespace().collect();
        let yes = |b: bool| if b { "1" } else { "0" }.to_owned();
        match words.as_slice() {
            ["create", id] => self.create(id),
            ["stale", age] => yes(self.is_lock_stale(age.parse().unwrap())),
            ["remove"] => self.remove(),
            ["acquire", id, timeout, age] => {
                yes(self.acquire_lock(id, timeout.parse().unwrap(), age.parse().unwrap()))
            }
            ["release", id] => yes(self.release_lock(id)),
            // FileLockExample.acquire_shared_lock / try_acquire_exclusive_lock
            ["shared", name] => self.open_and_flock(name, "r", LOCK_SH),
            ["try_exclusive", name] => self.open_and_flock(name, "w", LOCK_EX | LOCK_NB),
            // AdvancedFileLock.acquire_with_timeout('exclusive'): one LOCK_NB try
            ["adv_try", name] => self.open_and_flock(name, "r+", LOCK_EX | LOCK_NB),
            // AdvancedFileLock.lock_file_region: `self.file_handle = open(path, 'r+')`, then
            // fcntl.fcntl(fd, F_SETLK, dict) raises TypeError before any system call.
            ["adv_region", name] => {
                self.file_handle = Some(File::<Std>::open(self.path(name), "r+").unwrap());
                "TypeError".into()
            }
            // `with open(path, 'r') as f: f.read()`: the length read.
            ["read", name] => std::fs::read(self.path(name)).unwrap().len().to_string(),
            _ => panic!("unknown command {cmd:?}"),
        }
    }
}

/// An actor's main loop: answer each command line until the parent closes the FIFO.
fn actor_main() {
    let dir = PathBuf::from(std::env::var(DIR).unwrap());
    let name = std::env::var(ACTOR).unwrap();
    // The parent holds the read end of `res` open before it starts us.
    let mut res = std::fs::OpenOptions::new()
        .write(true)
        .open(dir.join(format!("{name}.res")))
        .unwrap();
    let cmd = std::fs::File::open(dir.join(format!("{name}.cmd"))).unwrap();
    let mut actor = Actor {
        dir: dir.join("files"),
        ..Actor::default()
    };
    for line in std::io::BufReader::new(cmd).lines() {
        let Ok(line) = line else { break };
        let answer = actor.serve(&line);
        writeln!(res, "{answer}").unwrap();
    }
}

// ---- the parent's side --------------------------------------------------------------------

/// An actor process, commanded one line at a time.
struct Remote {
    name: &'static str,
    guard: ChildGuard,
    cmd: std::fs::File,
    res: i32,
    buf: Vec<u8>,
}

impl Drop for Remote {
    fn drop(&mut self) {
        // SAFETY: the FIFO end this test opened (the guard kills the actor).
        unsafe { libc::close(self.res) };
    }
}

impl Remote {
    /// Start actor `name` for test `test` in `dir` (files under `dir/files`).
    fn start(test: &str, dir: &Path, name: &'static str) -> Remote {
        let (cmd_path, res_path) = (
            dir.join(format!("{name}.cmd")),
            dir.join(format!("{name}.res")),
        );
        mkfifo(&cmd_path);
        mkfifo(&res_path);
        let res = raw_open(&res_path, libc::O_RDONLY | libc::O_NONBLOCK);
        assert!(res >= 0);
        let guard = spawn_with(
            test,
            "actor",
            &[],
            &[(DIR, dir.to_str().unwrap()), (ACTOR, name)],
        );
        let cmd = connect_writer(&cmd_path, name);
        Remote {
            name,
            guard,
            cmd,
            res,
            buf: Vec::new(),
        }
    }

    /// Send one command and wait (bounded) for its answer.
    fn ask(&mut self, cmd: &str) -> String {
        writeln!(self.cmd, "{cmd}").unwrap();
        let start = Instant::now();
        loop {
            if let Some(nl) = self.buf.iter().position(|&b| b == b'\n') {
                let line: Vec<u8> = self.buf.drain(..=nl).collect();
                return String::from_utf8(line).unwrap().trim().to_owned();
            }
            let left = BOUND.saturating_sub(start.elapsed());
            assert!(
                !left.is_zero(),
                "{}: no answer to {cmd:?} within {BOUND:?}",
                self.name
            );
            let mut pfd = libc::pollfd {
                fd: self.res,
                events: libc::POLLIN,
                revents: 0,
            };
            // SAFETY: one valid pollfd; then a read into a stack buffer.
            unsafe {
                libc::poll(&mut pfd, 1, left.as_millis().min(100) as i32);
                let mut chunk = [0u8; 1024];
                let n = libc::read(self.res, chunk.as_mut_ptr().cast(), chunk.len());
                if n > 0 {
                    self.buf.extend_from_slice(&chunk[..n as usize]);
                } else if n == 0 {
                    panic!("{}: died answering {cmd:?}", self.name);
                }
            }
        }
    }

    /// SIGSTOP, and wait until the kernel shows the actor stopped.
    fn stop(&self) {
        let pid = self.guard.pid();
        // SAFETY: a process this test started.
        unsafe { libc::kill(pid as i32, libc::SIGSTOP) };
        children::until("actor stopped", || proc_state(pid) == Some('T'));
    }

    /// SIGCONT.
    fn resume(&self) {
        // SAFETY: a process this test started.
        unsafe { libc::kill(self.guard.pid() as i32, libc::SIGCONT) };
    }

    /// SIGKILL, and wait for the exit.
    fn kill(&mut self) {
        self.guard.kill();
        self.guard.wait();
    }
}

/// A test's world: a temporary directory with `files/` and the FIFOs.
struct World {
    test: &'static str,
    dir: tempfile::TempDir,
}

impl World {
    fn new(test: &'static str) -> World {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("files")).unwrap();
        World { test, dir }
    }

    fn actor(&self, name: &'static str) -> Remote {
        Remote::start(self.test, self.dir.path(), name)
    }

    fn file(&self, name: &str) -> PathBuf {
        self.dir.path().join("files").join(name)
    }
}

/// As an actor, serve; as the test, run `parent`.
fn run(test: &'static str, parent: impl FnOnce(World)) {
    if role().is_some() {
        actor_main();
        return;
    }
    parent(World::new(test));
}

// ---- the reproductions --------------------------------------------------------------------

/// ex-8.1-01 (and the same lock in ex-8.1-06 and ex-8.1-07): FileLockExample's
/// `try_acquire_exclusive_lock` opens the file with `'w'`. With a reader holding LOCK_SH,
/// the writer's LOCK_EX|LOCK_NB fails with EAGAIN (errno 11), but its open has already
/// truncated the file: the reader, still under its shared lock, reads 0 bytes.
#[test]
fn ex_8_1_01_open_w_empties_the_file_under_a_shared_lock() {
    run(
        "ex_8_1_01_open_w_empties_the_file_under_a_shared_lock",
        |w| {
            std::fs::write(w.file("test_lock.txt"), "测试内容\n").unwrap();
            let (mut reader, mut writer) = (w.actor("reader"), w.actor("writer"));
            assert_eq!(reader.ask("shared test_lock.txt"), "ok");
            assert_eq!(reader.ask("read test_lock.txt"), "13");
            assert_eq!(writer.ask("try_exclusive test_lock.txt"), "err 11");
            assert_eq!(
                reader.ask("read test_lock.txt"),
                "0",
                "the reader holds LOCK_SH and the writer never got LOCK_EX, yet the file is empty"
            );
        },
    );
}

/// ex-8.1-03: AdvancedFileLock's `lock_file_region` assigns a new `open(path, 'r+')` to
/// `self.file_handle`; the file object it replaces, which held the flock, is closed
/// (CPython's refcounting; here the drop), and with its last descriptor the flock goes:
/// another process's LOCK_EX|LOCK_NB succeeds while the first is still in its section.
#[test]
fn ex_8_1_03_replacing_the_handle_drops_the_flock() {
    run("ex_8_1_03_replacing_the_handle_drops_the_flock", |w| {
        std::fs::write(w.file("data.txt"), "0123456789abcdef\n").unwrap();
        let (mut p1, mut p2) = (w.actor("P1"), w.actor("P2"));
        assert_eq!(p1.ask("adv_try data.txt"), "ok");
        assert_eq!(p2.ask("adv_try data.txt"), "err 11", "P1 holds LOCK_EX");
        assert_eq!(p1.ask("adv_region data.txt"), "TypeError");
        assert_eq!(
            p2.ask("adv_try data.txt"),
            "ok",
            "P1 never released, yet P2 has LOCK_EX: two in the exclusive section"
        );
    });
}

/// ex-8.1-04: `_is_lock_stale` returns True when `os.stat` fails. Steps (each one real
/// system call or one call of the example, in this order): P1 creates the lock; P2's
/// create fails (EEXIST); P1 releases (removes); P2's stat fails → "stale"; P1 creates the
/// lock again; P2 removes it (P1's fresh file) and creates its own. Both believe they hold.
#[test]
fn ex_8_1_04_stat_failure_as_staleness_gives_two_holders() {
    run(
        "ex_8_1_04_stat_failure_as_staleness_gives_two_holders",
        |w| {
            let (mut p1, mut p2) = (w.actor("P1"), w.actor("P2"));
            assert_eq!(p1.ask("create 1"), "ok");
            assert_eq!(p2.ask("create 2"), "err 17");
            assert_eq!(p1.ask("release 1"), "1");
            assert_eq!(p2.ask("stale 30"), "1", "os.stat failed: judged stale");
            assert_eq!(p1.ask("create 1"), "ok", "P1 holds the lock again");
            assert_eq!(p2.ask("remove"), "ok", "P2 removed P1's fresh lock file");
            assert_eq!(p2.ask("create 2"), "ok", "P2 holds the lock too");
            assert_eq!(std::fs::read_to_string(w.file("coop.lock")).unwrap(), "2");
            assert_eq!(p1.ask("release 1"), "0", "P1: 不是锁的所有者,无法释放");
        },
    );
}

/// ex-8.1-04 after a crash long ago (§2.4 race 1): a lock file whose holder was killed,
/// last written 31 s ago (the example's age: 30 s). Both waiters judge it stale; P1
/// removes it and creates its own; P2 removes P1's fresh file and creates another.
#[test]
fn ex_8_1_04_two_waiters_both_take_over_a_stale_lock() {
    run("ex_8_1_04_two_waiters_both_take_over_a_stale_lock", |w| {
        let mut dead = w.actor("dead");
        assert_eq!(dead.ask("create 9"), "ok");
        dead.kill();
        let f = std::fs::File::options()
            .write(true)
            .open(w.file("coop.lock"))
            .unwrap();
        f.set_modified(std::time::SystemTime::now() - Duration::from_secs(31))
            .unwrap();
        drop(f);
        let (mut p1, mut p2) = (w.actor("P1"), w.actor("P2"));
        assert_eq!(p1.ask("create 1"), "err 17");
        assert_eq!(p2.ask("create 2"), "err 17");
        assert_eq!(p1.ask("stale 30"), "1");
        assert_eq!(p2.ask("stale 30"), "1");
        assert_eq!(p1.ask("remove"), "ok");
        assert_eq!(p1.ask("create 1"), "ok", "P1 holds");
        assert_eq!(p2.ask("remove"), "ok", "P2 removed P1's fresh lock file");
        assert_eq!(p2.ask("create 2"), "ok", "P2 holds too");
    });
}

/// ex-8.1-04 with a paused holder (§2.4 race 2), the staleness age scaled from 30 s to
/// 0.3 s: P1 acquires and is stopped (SIGSTOP) inside its critical section; P2 runs the
/// example's `acquire_lock` (timeout 10 s, retries every 0.1 s), which judges the live
/// holder's lock stale after 0.3 s, removes it and returns True. P1, resumed, still
/// believes it holds the lock; its release finds P2's file.
#[test]
fn ex_8_1_04_paused_holder_is_taken_over() {
    run("ex_8_1_04_paused_holder_is_taken_over", |w| {
        let (mut p1, mut p2) = (w.actor("P1"), w.actor("P2"));
        assert_eq!(p1.ask("acquire 1 10 0.3"), "1");
        p1.stop();
        let start = Instant::now();
        assert_eq!(
            p2.ask("acquire 2 10 0.3"),
            "1",
            "P2 took over a live holder's lock"
        );
        assert!(start.elapsed() >= Duration::from_millis(300));
        p1.resume();
        assert_eq!(
            p1.ask("release 1"),
            "0",
            "P1 was inside all along; the lock is P2's"
        );
        assert_eq!(std::fs::read_to_string(w.file("coop.lock")).unwrap(), "2");
    });
}

/// ex-8.1-04 with a killed holder: its lock file stays; a waiter whose timeout is shorter
/// than the staleness age (the example: 10 s and 30 s; here 0.2 s and 0.3 s) gives up.
#[test]
fn ex_8_1_04_killed_holder_outlasts_the_waiters_timeout() {
    run(
        "ex_8_1_04_killed_holder_outlasts_the_waiters_timeout",
        |w| {
            let (mut p1, mut p2) = (w.actor("P1"), w.actor("P2"));
            assert_eq!(p1.ask("acquire 1 10 0.3"), "1");
            p1.kill();
            assert!(w.file("coop.lock").exists(), "SIGKILL leaves the lock file");
            assert_eq!(p2.ask("acquire 2 0.2 0.3"), "0", "the waiter timed out");
        },
    );
}

/// ex-8.1-02: the access mode is not a bit. `fcntl(fd, F_GETFL) & O_RDONLY` is 0 for a
/// descriptor opened `O_RDONLY` (O_RDONLY is 0), so query_file_status never logs
/// "文件以只读模式打开"; `flags & O_ACCMODE == O_RDONLY` is the test that works.
#[test]
fn ex_8_1_02_rdonly_is_not_a_flag_bit() {
    if role().is_some() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("status.txt");
    std::fs::write(&p, "x\n").unwrap();
    let fd = Fd::<Std>::open(&p, OpenFlags::RDONLY, 0o644).unwrap();
    let flags = fd.get_fl().unwrap();
    assert_eq!(flags.bits() & OpenFlags::RDONLY.bits(), 0);
    assert_eq!(flags.access(), OpenFlags::RDONLY);
    let fd = Fd::<Std>::open(&p, OpenFlags::WRONLY, 0o644).unwrap();
    fd.set_fl(fd.get_fl().unwrap() | OpenFlags::APPEND).unwrap();
    assert!(
        fd.get_fl().unwrap().contains(OpenFlags::APPEND),
        "modify_file_flags works"
    );
}

//! The kernel-dependent defects the checker finds in the tutorial's section 8.3 (lock
//! files, `models/files/src/ch8_lockfile.rs`), reproduced on real files with real
//! processes through `lockproof::file` on [`Std`].
//!
//! Each actor is this test binary re-executed for the one test (`support/children.rs`),
//! running the example's code (ported to `lockproof::file`) step by step as the parent
//! says over a pair of pipes it inherits: the parent orders the steps, so each
//! reproduction is deterministic (one try) and never sleeps to let an actor block. Every
//! wait is bounded (`BOUND`); every actor is killed when the test ends (its guard).
//!
//! | test | scenario | defect |
//! |---|---|---|
//! | [`paused_holder_loses_its_lock_file_to_a_stale_takeover`] | `ex-8.3-01-fixed-pause` | a holder stopped past the staleness age: a waiter removes its lock file and takes it, two holders |
//! | [`vanished_lock_file_counts_as_stale_and_two_processes_hold`] | `ex-8.3-01-fixed-reacquire` | `_is_lock_stale` says stale when the file vanished: a waiter removes the releaser's fresh lock file, two holders |
//! | [`config_atomic_updates_of_two_processes_lose_one`] | `ex-8.3-07` | per-process `ReadWriteLock`: two processes' `atomic_update`s both succeed, one increment is lost |

#[allow(dead_code)]
#[path = "support/children.rs"]
mod children;

use children::{role, spawn_with, until, ChildGuard, BOUND};
use lockproof::backend::Std;
use lockproof::file::{os, Fd, File, OpenFlags};
use std::io::{Read, Write};
use std::os::fd::{FromRawFd, RawFd};
use std::path::{Path, PathBuf};
use std::time::Instant;

const DIR: &str = "LOCKPROOF_CH8_DIR";
const CMD: &str = "LOCKPROOF_CH8_CMD";
const RES: &str = "LOCKPROOF_CH8_RES";

// ---- pipes between the parent and one actor ---------------------------------------------

/// `pipe()` without `O_CLOEXEC`: both ends are inherited by a child started now.
fn pipe() -> (RawFd, RawFd) {
    let mut fds = [0; 2];
    // SAFETY: a valid array of two ints.
    assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0, "pipe");
    (fds[0], fds[1])
}

fn close(fd: RawFd) {
    // SAFETY: a descriptor this process owns and no longer uses.
    unsafe { libc::close(fd) };
}

/// Read one line from `fd`, waiting at most [`BOUND`] in all.
fn read_line(fd: RawFd, who: &str) -> String {
    let start = Instant::now();
    let mut line = Vec::new();
    loop {
        let left = BOUND.saturating_sub(start.elapsed());
        assert!(!left.is_zero(), "{who} said nothing within {BOUND:?}");
        let mut pfd = libc::pollfd {
            fd,
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one valid pollfd.
        let ready = unsafe { libc::poll(&mut pfd, 1, left.as_millis() as i32) };
        if ready <= 0 {
            continue;
        }
        let mut b = [0u8; 1];
        // SAFETY: a one-byte read into a stack buffer.
        let n = unsafe { libc::read(fd, b.as_mut_ptr().cast(), 1) };
        assert!(n == 1, "{who} closed its pipe (it died?) after {line:?}");
        if b[0] == b'\n' {
            return String::from_utf8(line).unwrap();
        }
        line.push(b[0]);
    }
}

/// The parent's side of one actor.
struct Actor {
    name: &'static str,
    cmd: std::fs::File,
    res: RawFd,
    guard: ChildGuard,
}

impl Actor {
    /// Start this test binary again for `test` as actor `name`, sharing `dir`.
    fn start(test: &str, name: &'static str, dir: &Path) -> Actor {
        let (cmd_r, cmd_w) = pipe();
        let (res_r, res_w) = pipe();
        let (c, r) = (cmd_r.to_string(), res_w.to_string());
        let guard = spawn_with(
            test,
            name,
            &[],
            &[(DIR, dir.to_str().unwrap()), (CMD, &c), (RES, &r)],
        );
        close(cmd_r);
        close(res_w);
        // SAFETY: the write end of a pipe this process made and owns from now on.
        let cmd = unsafe { std::fs::File::from_raw_fd(cmd_w) };
        Actor {
            name,
            cmd,
            res: res_r,
            guard,
        }
    }

    /// Tell the actor to take its next step.
    fn say(&mut self, what: &str) {
        writeln!(self.cmd, "{what}").unwrap();
    }

    /// The actor's next report.
    fn hear(&mut self) -> String {
        read_line(self.res, self.name)
    }
}

impl Drop for Actor {
    fn drop(&mut self) {
        close(self.res);
    }
}

/// The actor's side: its directory, commands in, reports out.
struct Me {
    dir: PathBuf,
    cmd: std::fs::File,
    res: std::fs::File,
}

impl Me {
    fn get() -> Me {
        let fd = |var: &str| -> RawFd { std::env::var(var).unwrap().parse().unwrap() };
        // SAFETY: descriptors the parent passed down for this actor alone.
        let (cmd, res) = unsafe {
            (
                std::fs::File::from_raw_fd(fd(CMD)),
                std::fs::File::from_raw_fd(fd(RES)),
            )
        };
        Me {
            dir: PathBuf::from(std::env::var(DIR).unwrap()),
            cmd,
            res,
        }
    }

    /// Wait for the parent's command (the parent is alive while the test runs).
    fn wait_for(&mut self, what: &str) {
        let mut line = Vec::new();
        let mut b = [0u8; 1];
        while self.cmd.read(&mut b).unwrap() == 1 && b[0] != b'\n' {
            line.push(b[0]);
        }
        assert_eq!(String::from_utf8(line).unwrap(), what, "unexpected command");
    }

    fn report(&mut self, what: &str) {
        writeln!(self.res, "{what}").unwrap();
    }
}

// ---- ex-8.3-01: ExclusiveLock with `import os` (the fixed example), on real files -------

/// ExclusiveLock's lock file, its staleness age and its timeout.
struct ExclusiveLock {
    lock_file: PathBuf,
    max_age: f64,
    timeout: f64,
    owner: Option<String>,
}

fn time() -> f64 {
    os::time_ns::<Std>() as f64 / 1e9
}

impl ExclusiveLock {
    /// `acquire(blocking=True)` as the tutorial writes it (with `os` imported).
    fn acquire(&mut self) -> bool {
        let start = time();
        loop {
            let flags = OpenFlags::CREAT | OpenFlags::EXCL | OpenFlags::WRONLY;
            match Fd::<Std>::open(&self.lock_file, flags, 0o644) {
                Ok(fd) => {
                    let owner = format!("Process-{}", std::process::id());
                    fd.write(format!("owner={owner}\n").as_bytes()).unwrap();
                    fd.close().unwrap();
                    self.owner = Some(owner);
                    return true;
                }
                Err(e) if e.errno() == Some(17) => {
                    if time() - start > self.timeout {
                        return false;
                    }
                    // _is_lock_stale: by mtime, True when stat fails.
                    let stale = match os::stat::<Std>(&self.lock_file) {
                        Ok(st) => time() - st.mtime_ns as f64 / 1e9 > self.max_age,
                        Err(_) => true,
                    };
                    if stale {
                        let _ = os::unlink::<Std>(&self.lock_file); // _cleanup_stale_lock
                        continue;
                    }
                    // The example's own retry sleep (time.sleep(0.1)), not a test wait.
                    std::thread::sleep(std::time::Duration::from_millis(100));
                }
                Err(e) => panic!("os.open: {}", e.python_repr()),
            }
        }
    }

    /// `release()`: remove the lock file only if its owner is this lock's.
    fn release(&self) -> bool {
        let Ok(mut f) = File::<Std>::open(&self.lock_file, "r") else {
            return false;
        };
        let text = String::from_utf8(f.read(None).unwrap()).unwrap();
        let stored = text.strip_prefix("owner=").map(str::trim_end);
        if stored == self.owner.as_deref() {
            os::unlink::<Std>(&self.lock_file).is_ok()
        } else {
            false
        }
    }
}

/// An actor of the stale take-over: acquire, report, stay in the critical section until
/// told to leave, release, report release's result.
fn exclusive_lock_actor(timeout: f64) {
    let mut me = Me::get();
    let mut lock = ExclusiveLock {
        lock_file: me.dir.join(".exclusive_lock_res"),
        max_age: 0.5,
        timeout,
        owner: None,
    };
    let got = lock.acquire();
    me.report(&format!("acquired {got}"));
    me.wait_for("leave");
    let released = lock.release();
    me.report(&format!("released {released}"));
    me.wait_for("exit");
}

/// ex-8.3-01 with `import os`, as `ex-8.3-01-fixed-pause` checks it: the holder H takes
/// the lock file and is stopped (SIGSTOP: the checker's pause fault) inside its critical
/// section; the waiter W (its timeout 3 s longer than the 0.5 s staleness age, as a waiter
/// that arrives late has it) judges the file stale by its mtime, removes it and creates its
/// own: W reports it holds the lock while H, resumed, is still inside. H's release then
/// finds W's owner in the file and refuses. Deterministic: one try.
#[test]
fn paused_holder_loses_its_lock_file_to_a_stale_takeover() {
    const TEST: &str = "paused_holder_loses_its_lock_file_to_a_stale_takeover";
    match role().as_deref() {
        Some("holder") => return exclusive_lock_actor(0.5),
        Some("waiter") => return exclusive_lock_actor(3.0),
        Some(r) => panic!("unknown role {r}"),
        None => {}
    }
    let dir = tempfile::tempdir().unwrap();
    let lock_file = dir.path().join(".exclusive_lock_res");
    let mut h = Actor::start(TEST, "holder", dir.path());
    assert_eq!(h.hear(), "acquired true");
    let h_pid = h.guard.pid() as libc::pid_t;
    // SAFETY: a child this test started.
    unsafe { libc::kill(h_pid, libc::SIGSTOP) };
    until("holder stopped", || {
        std::fs::read_to_string(format!("/proc/{h_pid}/stat")).is_ok_and(|s| {
            s.rsplit(')')
                .next()
                .is_some_and(|t| t.trim_start().starts_with('T'))
        })
    });
    let mut w = Actor::start(TEST, "waiter", dir.path());
    assert_eq!(
        w.hear(),
        "acquired true",
        "the waiter took over the stopped holder's lock file"
    );
    let owner = std::fs::read_to_string(&lock_file).unwrap();
    assert_eq!(owner, format!("owner=Process-{}\n", w.guard.pid()));
    // SAFETY: a child this test started.
    unsafe { libc::kill(h_pid, libc::SIGCONT) };
    // Both are inside now: H never left its critical section, W just entered its own.
    h.say("leave");
    assert_eq!(
        h.hear(),
        "released false",
        "the holder finds the waiter's owner in the lock file"
    );
    w.say("leave");
    assert_eq!(w.hear(), "released true");
    assert!(!lock_file.exists());
    for a in [&mut h, &mut w] {
        a.say("exit");
        a.guard.wait_success();
    }
}

// ---- ex-8.3-07: ConfigFileManager.atomic_update from two processes ----------------------

/// `atomic_update('counter', lambda x: x + 1)` under this process's own write lock (a
/// `threading`-style lock: nothing another process sees), split where the parent orders
/// it: read the file, report the value, write the new one when told, report.
fn config_actor() {
    let mut me = Me::get();
    let config = me.dir.join("config.json");
    let rw_lock = std::sync::RwLock::new(()); // self.rw_lock: this process's only
    let _w = rw_lock.write().unwrap(); // acquire_write
    let mut f = File::<Std>::open(&config, "r").unwrap();
    let text = String::from_utf8(f.read(None).unwrap()).unwrap();
    f.close().unwrap();
    let old: i64 = text
        .trim()
        .strip_prefix("counter=")
        .and_then(|v| v.parse().ok())
        .expect("the config as json.load reads it");
    me.report(&format!("read {old}"));
    me.wait_for("write");
    let mut f = File::<Std>::open(&config, "w").unwrap();
    f.write(format!("counter={}\n", old + 1).as_bytes())
        .unwrap();
    f.close().unwrap();
    me.report("updated True");
    me.wait_for("exit");
}

/// ex-8.3-07 as the checker found it: two processes each `atomic_update` the counter of
/// one config file; each holds its own process's write lock throughout, and neither blocks
/// the other. A reads 0, B reads 0, B writes 1, A writes 1: both report success, the file
/// says 1. Deterministic: one try.
#[test]
fn config_atomic_updates_of_two_processes_lose_one() {
    const TEST: &str = "config_atomic_updates_of_two_processes_lose_one";
    match role().as_deref() {
        Some("A") | Some("B") => return config_actor(),
        Some(r) => panic!("unknown role {r}"),
        None => {}
    }
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.json");
    std::fs::write(&config, "counter=0\n").unwrap();
    let mut a = Actor::start(TEST, "A", dir.path());
    assert_eq!(a.hear(), "read 0");
    let mut b = Actor::start(TEST, "B", dir.path());
    assert_eq!(
        b.hear(),
        "read 0",
        "B's write lock is its own: it reads while A is inside"
    );
    b.say("write");
    assert_eq!(b.hear(), "updated True");
    a.say("write");
    assert_eq!(a.hear(), "updated True");
    assert_eq!(
        std::fs::read_to_string(&config).unwrap(),
        "counter=1\n",
        "two successful atomic updates, one increment"
    );
    for x in [&mut a, &mut b] {
        x.say("exit");
        x.guard.wait_success();
    }
}

// ---- ex-8.3-01: the vanished-file take-over, step by step -------------------------------

/// An actor that runs one step of the fixed ExclusiveLock at a time, as the parent says:
/// `create` (the `O_CREAT|O_EXCL` open, then the owner written and the file closed),
/// `stale` (`_is_lock_stale`), `cleanup` (`_cleanup_stale_lock`), `release`.
fn stepping_actor() {
    let mut me = Me::get();
    let mut lock = ExclusiveLock {
        lock_file: me.dir.join(".exclusive_lock_res"),
        max_age: 60.0,
        timeout: 30.0,
        owner: None,
    };
    loop {
        let mut line = Vec::new();
        let mut b = [0u8; 1];
        while me.cmd.read(&mut b).unwrap() == 1 && b[0] != b'\n' {
            line.push(b[0]);
        }
        let said = match String::from_utf8(line).unwrap().as_str() {
            "create" => {
                let flags = OpenFlags::CREAT | OpenFlags::EXCL | OpenFlags::WRONLY;
                match Fd::<Std>::open(&lock.lock_file, flags, 0o644) {
                    Ok(fd) => {
                        let owner = format!("Process-{}", std::process::id());
                        fd.write(format!("owner={owner}\n").as_bytes()).unwrap();
                        fd.close().unwrap();
                        lock.owner = Some(owner);
                        "created".to_owned()
                    }
                    Err(e) => format!("errno {}", e.errno().unwrap_or(0)),
                }
            }
            "stale" => {
                let stale = match os::stat::<Std>(&lock.lock_file) {
                    Ok(st) => time() - st.mtime_ns as f64 / 1e9 > lock.max_age,
                    Err(_) => true,
                };
                format!("stale {stale}")
            }
            "cleanup" => match os::unlink::<Std>(&lock.lock_file) {
                Ok(()) => "removed".to_owned(),
                Err(e) => format!("errno {}", e.errno().unwrap_or(0)),
            },
            "release" => format!("released {}", lock.release()),
            "exit" | "" => return,
            other => panic!("unknown command {other}"),
        };
        me.report(&said);
    }
}

/// ex-8.3-01 with `import os`, as `ex-8.3-01-fixed-reacquire` checks it: W2's create
/// fails (W1 holds); W1 releases; W2's `_is_lock_stale` finds no file (`os.stat` raises)
/// and says stale; W1 creates the lock again; W2 removes it as stale and creates its own.
/// Both believe they hold the lock; W1's release then refuses (W2's owner is in the
/// file). Every step is a real system call on a real file; deterministic: one try.
#[test]
fn vanished_lock_file_counts_as_stale_and_two_processes_hold() {
    const TEST: &str = "vanished_lock_file_counts_as_stale_and_two_processes_hold";
    if role().is_some() {
        return stepping_actor();
    }
    let dir = tempfile::tempdir().unwrap();
    let lock_file = dir.path().join(".exclusive_lock_res");
    let mut w1 = Actor::start(TEST, "W1", dir.path());
    let mut w2 = Actor::start(TEST, "W2", dir.path());
    let step = |a: &mut Actor, cmd: &str, expect: &str| {
        a.say(cmd);
        assert_eq!(a.hear(), expect, "{} {cmd}", a.name);
    };
    step(&mut w1, "create", "created");
    step(&mut w2, "create", "errno 17");
    step(&mut w1, "release", "released true");
    step(&mut w2, "stale", "stale true");
    step(&mut w1, "create", "created");
    step(&mut w2, "cleanup", "removed");
    step(&mut w2, "create", "created");
    // W1 (second round) and W2 both returned True from acquire and are inside.
    assert_eq!(
        std::fs::read_to_string(&lock_file).unwrap(),
        format!("owner=Process-{}\n", w2.guard.pid())
    );
    step(&mut w1, "release", "released false");
    step(&mut w2, "release", "released true");
    for a in [&mut w1, &mut w2] {
        a.say("exit");
        a.guard.wait_success();
    }
}

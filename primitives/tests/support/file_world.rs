//! Real processes serving file-operation tables (`support/file_ops.rs`): the runner of
//! `conformance_file.rs` and `rules_ch8.rs`. An actor is the test binary re-executed for
//! one test (`<name> --exact`, the mechanism of `support/children.rs`), serving the steps
//! the parent names over a pair of FIFOs; a fork child of an actor is an actor too. The
//! parent never sleeps to let an actor block: a step expected to block is observed blocked
//! in the kernel (`/proc/<pid>/task/*/syscall` names `flock` or `fcntl`); every wait is
//! bounded (`BOUND`); every actor is SIGKILLed when the test ends (a spawned one by its
//! guard, a forked one by pid).
//!
//! A test file that uses it declares `children`, `fifo` and `file_ops` at its root (this
//! module names them as `crate::children`, `crate::fifo` and `crate::file_ops`).
#![allow(dead_code)] // each test file uses a different subset

use crate::children::{role, spawn_with, until, ChildGuard, BOUND};
pub use crate::fifo::{connect_writer, mkfifo, proc_state, raw_open};
use crate::file_ops::*;
use lockproof::backend::Std;
use std::collections::HashMap;
use std::io::Write;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::time::Instant;

pub const DIR: &str = "LOCKPROOF_FILE_DIR";
pub const CTL: &str = "LOCKPROOF_FILE_CTL";
pub const ACTOR: &str = "LOCKPROOF_FILE_ACTOR";

// ---- FIFOs ------------------------------------------------------------------------------

pub fn fifo(ctl: &Path, actor: &str, end: &str) -> PathBuf {
    ctl.join(format!("{actor}.{end}"))
}

/// An actor's side: read step numbers, write results.
pub struct Serve {
    cmd: std::io::BufReader<std::fs::File>,
    res: std::fs::File,
}

impl Serve {
    pub fn open(ctl: &Path, actor: &str) -> Serve {
        // The parent holds the read end of `res` and opens the write end of `cmd`.
        let res = std::fs::OpenOptions::new()
            .write(true)
            .open(fifo(ctl, actor, "res"))
            .unwrap();
        let cmd = std::fs::File::open(fifo(ctl, actor, "cmd")).unwrap();
        let mut s = Serve {
            cmd: std::io::BufReader::new(cmd),
            res,
        };
        s.say(&Res::Int(std::process::id() as i64));
        s
    }

    pub fn say(&mut self, r: &Res) {
        writeln!(self.res, "{r}").unwrap();
    }

    pub fn next(&mut self) -> Option<usize> {
        let mut line = String::new();
        use std::io::BufRead;
        match self.cmd.read_line(&mut line) {
            Ok(0) | Err(_) => None,
            Ok(_) => Some(line.trim().parse().unwrap()),
        }
    }
}

extern "C" fn ignore(_: i32) {}

/// The actor's loop: serve `steps` until the parent closes the FIFO or an `Exit`.
pub fn actor_main(steps: &[Step]) {
    let dir = PathBuf::from(std::env::var(DIR).unwrap());
    let ctl = PathBuf::from(std::env::var(CTL).unwrap());
    let mut name = std::env::var(ACTOR).unwrap();
    // SIGUSR1 interrupts a blocked call (EINTR, no SA_RESTART) and returns.
    // SAFETY: installing a handler that does nothing.
    unsafe {
        let mut sa: libc::sigaction = std::mem::zeroed();
        sa.sa_sigaction = ignore as *const () as usize;
        libc::sigaction(libc::SIGUSR1, &sa, std::ptr::null_mut());
    }
    let mut slots: Slots<Std> = HashMap::new();
    let mut io = Serve::open(&ctl, &name);
    while let Some(i) = io.next() {
        let r = match &steps[i].call {
            Call::Fork { child } => {
                // SAFETY: the child only runs this loop (file calls and FIFO I/O).
                let pid = unsafe { libc::fork() };
                if pid == 0 {
                    drop(io);
                    name = (*child).to_owned();
                    io = Serve::open(&ctl, &name);
                    continue;
                }
                Res::Int(pid.into())
            }
            Call::Exec => {
                let err = std::process::Command::new(std::env::current_exe().unwrap())
                    .args(std::env::args_os().skip(1))
                    .env(ACTOR, &name)
                    .exec();
                panic!("exec failed: {err}");
            }
            // SAFETY: ends this process at once (a fork child must not run exit handlers).
            Call::Exit => unsafe { libc::_exit(0) },
            Call::Thread(calls) => std::thread::scope(|s| {
                s.spawn(|| {
                    let mut last = Res::Ok;
                    for c in calls {
                        last = exec(&mut slots, &dir, c).expect("runner call in a thread");
                    }
                    last
                })
                .join()
                .unwrap()
            }),
            call => exec(&mut slots, &dir, call).expect("a runner call sent to an actor"),
        };
        io.say(&r);
        // Reap exited fork children (they are this actor's).
        // SAFETY: waitpid with WNOHANG on any child.
        while unsafe { libc::waitpid(-1, std::ptr::null_mut(), libc::WNOHANG) } > 0 {}
    }
    // SAFETY: the parent is done with this actor.
    unsafe { libc::_exit(0) }
}

// ---- the parent's side ------------------------------------------------------------------

pub struct Actor {
    pub pid: i32,
    pub guard: Option<ChildGuard>,
    pub cmd: std::fs::File,
    pub res: i32,
    pub buf: Vec<u8>,
}

impl Drop for Actor {
    fn drop(&mut self) {
        // SAFETY: a process this test started; then the FIFO end it owns.
        unsafe {
            libc::kill(self.pid, libc::SIGKILL);
            libc::close(self.res);
        }
    }
}

/// Whether any thread of `pid` is asleep in `flock` (73) or `fcntl` (72) on x86-64.
pub fn blocked_in_lock(pid: i32) -> bool {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return false;
    };
    tasks.flatten().any(|t| {
        std::fs::read_to_string(t.path().join("syscall"))
            .ok()
            .and_then(|s| s.split(' ').next().map(str::to_owned))
            .is_some_and(|n| n == "72" || n == "73")
    })
}

pub struct World {
    pub test: &'static str,
    pub dir: tempfile::TempDir,
    pub ctl: tempfile::TempDir,
    pub actors: HashMap<&'static str, Actor>,
    pub results: Vec<Option<Res>>,
}

impl World {
    pub fn new(test: &'static str) -> World {
        World {
            test,
            dir: tempfile::tempdir().unwrap(),
            ctl: tempfile::tempdir().unwrap(),
            actors: HashMap::new(),
            results: Vec::new(),
        }
    }

    /// Make the FIFOs of `name` and open the parent's read end.
    pub fn prepare(&self, name: &str) -> i32 {
        mkfifo(&fifo(self.ctl.path(), name, "res"));
        mkfifo(&fifo(self.ctl.path(), name, "cmd"));
        let fd = raw_open(
            &fifo(self.ctl.path(), name, "res"),
            libc::O_RDONLY | libc::O_NONBLOCK,
        );
        assert!(fd >= 0);
        fd
    }

    /// Open the write end of `name`'s command FIFO once the actor has opened its read end.
    pub fn connect(
        &self,
        name: &'static str,
        pid: i32,
        guard: Option<ChildGuard>,
        res: i32,
    ) -> Actor {
        let cmd = connect_writer(&fifo(self.ctl.path(), name, "cmd"), name);
        let mut a = Actor {
            pid,
            guard,
            cmd,
            res,
            buf: Vec::new(),
        };
        let hello = Self::read_line(&mut a, name);
        if pid != 0 {
            assert_eq!(
                hello,
                Res::Int(pid.into()),
                "actor {name} is not who we started"
            );
        } else if let Res::Int(p) = hello {
            a.pid = p as i32;
        }
        a
    }

    pub fn actor(&mut self, name: &'static str) -> &mut Actor {
        if !self.actors.contains_key(name) {
            let res = self.prepare(name);
            let (d, c) = (self.dir.path().to_owned(), self.ctl.path().to_owned());
            let guard = spawn_with(
                self.test,
                "actor",
                &[],
                &[
                    (DIR, d.to_str().unwrap()),
                    (CTL, c.to_str().unwrap()),
                    (ACTOR, name),
                ],
            );
            let pid = guard.pid() as i32;
            let a = self.connect(name, pid, Some(guard), res);
            self.actors.insert(name, a);
        }
        self.actors.get_mut(name).unwrap()
    }

    /// One result line from `a` (bounded; EOF while the writer is between images, an
    /// exec, is waited out).
    pub fn read_line(a: &mut Actor, name: &str) -> Res {
        let start = Instant::now();
        loop {
            if let Some(nl) = a.buf.iter().position(|&b| b == b'\n') {
                let line: Vec<u8> = a.buf.drain(..=nl).collect();
                return Res::parse(std::str::from_utf8(&line).unwrap().trim());
            }
            let left = BOUND.saturating_sub(start.elapsed());
            assert!(
                !left.is_zero(),
                "actor {name} gave no answer within {BOUND:?}"
            );
            let mut pfd = libc::pollfd {
                fd: a.res,
                events: libc::POLLIN,
                revents: 0,
            };
            // SAFETY: one valid pollfd; then a read into a stack buffer.
            let n = unsafe {
                libc::poll(&mut pfd, 1, left.as_millis().min(100) as i32);
                let mut chunk = [0u8; 4096];
                let n = libc::read(a.res, chunk.as_mut_ptr().cast(), chunk.len());
                if n > 0 {
                    a.buf.extend_from_slice(&chunk[..n as usize]);
                }
                n
            };
            if n == 0 {
                // No writer at the moment: dead, or exec'ing.
                assert!(
                    a.pid == 0 || proc_state(a.pid as u32).is_some_and(|s| s != 'Z'),
                    "actor {name} died"
                );
                std::thread::yield_now();
            }
        }
    }

    pub fn send(&mut self, name: &'static str, i: usize) {
        let a = self.actor(name);
        writeln!(a.cmd, "{i}").unwrap();
    }

    pub fn wait_dead(&mut self, name: &'static str) {
        let a = self.actors.get_mut(name).expect("no such actor");
        match &mut a.guard {
            Some(g) => {
                g.wait();
            }
            None => until(&format!("{name} dead"), || {
                matches!(proc_state(a.pid as u32), None | Some('Z') | Some('X'))
            }),
        }
    }

    pub fn pid_of(&self, name: &str) -> i32 {
        self.actors.get(name).map_or(-2, |a| a.pid)
    }

    pub fn check(&mut self, i: usize, step: &Step, got: Res) {
        let ok = {
            let pid = |n: &str| self.pid_of(n);
            matches(&step.expect, &got, &pid, &self.results)
        };
        assert!(
            ok,
            "{}: step {i} ({} {:?}) gave {got}, expected {:?}",
            self.test, step.actor, step.call, step.expect
        );
        self.results.push(Some(got));
    }

    pub fn run(&mut self, steps: &[Step]) {
        self.run_range(steps, 0..steps.len());
    }

    /// Run the steps of `steps` in `range` (the rest of the table before and after is the
    /// caller's: a test that does something of its own between two parts of a table).
    pub fn run_range(&mut self, steps: &[Step], range: std::ops::Range<usize>) {
        for (i, step) in steps.iter().enumerate().take(range.end).skip(range.start) {
            let name = step.actor;
            match &step.call {
                Call::Kill => {
                    // SAFETY: a process this test started.
                    unsafe { libc::kill(self.actor(name).pid, libc::SIGKILL) };
                    self.wait_dead(name);
                    self.results.push(None);
                }
                Call::Stop | Call::Cont | Call::Interrupt => {
                    let sig = match step.call {
                        Call::Stop => libc::SIGSTOP,
                        Call::Cont => libc::SIGCONT,
                        _ => libc::SIGUSR1,
                    };
                    let pid = self.actor(name).pid;
                    // SAFETY: a process this test started.
                    unsafe { libc::kill(pid, sig) };
                    if sig == libc::SIGSTOP {
                        until("actor stopped", || proc_state(pid as u32) == Some('T'));
                    }
                    if sig == libc::SIGUSR1 {
                        // Still (again) asleep in the lock call: the signal did not end it.
                        until("actor back in the lock wait", || blocked_in_lock(pid));
                    }
                    self.results.push(None);
                }
                Call::Exit => {
                    self.send(name, i);
                    self.wait_dead(name);
                    self.results.push(None);
                }
                Call::Await => {
                    let a = self.actors.get_mut(name).expect("no such actor");
                    let got = Self::read_line(a, name);
                    self.check(i, step, got);
                }
                Call::Fork { child } => {
                    let res = self.prepare(child);
                    self.send(name, i);
                    let got = Self::read_line(self.actors.get_mut(name).unwrap(), name);
                    let Res::Int(pid) = got else {
                        panic!("fork failed: {got}")
                    };
                    let a = self.connect(child, pid as i32, None, res);
                    self.actors.insert(child, a);
                    self.results.push(Some(got));
                }
                Call::Exec => {
                    let pid = self.actor(name).pid;
                    self.send(name, i);
                    let got = Self::read_line(self.actors.get_mut(name).unwrap(), name);
                    assert_eq!(got, Res::Int(pid.into()), "exec changed the pid");
                    self.results.push(Some(got));
                }
                _ => {
                    self.send(name, i);
                    match step.expect {
                        Expect::Blocks => {
                            let pid = self.actor(name).pid;
                            until(&format!("step {i}: {name} blocked"), || {
                                blocked_in_lock(pid)
                            });
                            self.results.push(None);
                        }
                        Expect::Pending => self.results.push(None),
                        _ => {
                            let got = Self::read_line(self.actors.get_mut(name).unwrap(), name);
                            self.check(i, step, got);
                        }
                    }
                }
            }
        }
    }
}

/// Run one check: as the parent, drive the actors; as an actor, serve.
pub fn run(test: &'static str, steps: Vec<Step>) {
    if role().is_some() {
        actor_main(&steps);
        return;
    }
    World::new(test).run(&steps);
}

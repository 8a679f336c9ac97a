//! Real child processes for tests of `lockproof::process` (the mechanism of
//! `process_real.rs`, shared): the test binary re-executes itself for one test
//! (`<name> --exact`, as rusty-fork does) with [`ROLE`] naming the child's part and each
//! shared object's [`Handle`] in an environment variable ([`Handle::pass_to`]); the test
//! function sees the role, plays the child's part and returns.
//!
//! A child is killed and reaped when its [`ChildGuard`] drops; every wait is bounded
//! ([`BOUND`]); nothing here sleeps to let another process block: a test waits for an
//! observable state ([`until`]) or for the child's exit.

use lockproof::multiprocessing::{Handle, Semaphore};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// The environment variable that names a child's role.
pub const ROLE: &str = "LOCKPROOF_TEST_ROLE";
/// The bound of every wait for something that must happen.
pub const BOUND: Duration = Duration::from_secs(10);

/// [`BOUND`] in seconds, as Python's timeouts take it.
pub fn bound_secs() -> f64 {
    BOUND.as_secs_f64()
}

/// This process's role, if it is a child.
pub fn role() -> Option<String> {
    std::env::var(ROLE).ok()
}

/// The handle in `var` (a child's side).
pub fn handle(var: &str) -> Handle {
    Handle::from_env(var).unwrap_or_else(|e| panic!("child: {e}"))
}

/// A child process: killed (SIGKILL) and reaped when dropped.
pub struct ChildGuard(Child);

impl ChildGuard {
    /// The child's pid.
    pub fn pid(&self) -> u32 {
        self.0.id()
    }

    /// SIGKILL, without reaping (the child stays a zombie until [`ChildGuard::wait`]).
    pub fn kill(&mut self) {
        self.0.kill().expect("kill failed");
    }

    /// Wait (at most [`BOUND`]) for the child to exit: a blocking `waitpid`, with a
    /// watchdog that kills the child at the bound (and the test then fails).
    pub fn wait(&mut self) -> ExitStatus {
        let pid = self.0.id() as libc::pid_t;
        let (exited, watch) = std::sync::mpsc::channel::<()>();
        let watchdog = std::thread::spawn(move || {
            let timed_out = matches!(
                watch.recv_timeout(BOUND),
                Err(std::sync::mpsc::RecvTimeoutError::Timeout)
            );
            if timed_out {
                // SAFETY: kill(2) on our own unreaped child (a zombie keeps its pid).
                unsafe { libc::kill(pid, libc::SIGKILL) };
            }
            timed_out
        });
        let status = self.0.wait().expect("waitpid failed");
        let _ = exited.send(());
        let timed_out = watchdog.join().expect("watchdog");
        assert!(!timed_out, "child {pid} did not exit within {BOUND:?}");
        status
    }

    /// Wait for the child to exit, and fail unless it succeeded.
    pub fn wait_success(&mut self) {
        let s = self.wait();
        assert!(s.success(), "child failed: {s}");
    }
}

impl Drop for ChildGuard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Start this test binary again for test `test`, as `role`, with `handles` (and `env`).
pub fn spawn_with(
    test: &str,
    role: &str,
    handles: &[(&str, Handle)],
    env: &[(&str, &str)],
) -> ChildGuard {
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args([test, "--exact", "--nocapture", "--test-threads=1", "-q"])
        .env(ROLE, role)
        .stdout(Stdio::null());
    for (var, h) in handles {
        h.pass_to(&mut cmd, var);
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    ChildGuard(cmd.spawn().expect("cannot start the child"))
}

/// Start this test binary again for test `test`, as `role`, with `handles`.
pub fn spawn(test: &str, role: &str, handles: &[(&str, Handle)]) -> ChildGuard {
    spawn_with(test, role, handles, &[])
}

/// Wait (yielding, at most [`BOUND`]) until `cond` holds.
pub fn until(what: &str, cond: impl Fn() -> bool) {
    let start = Instant::now();
    while !cond() {
        assert!(start.elapsed() < BOUND, "never happened: {what}");
        std::thread::yield_now();
    }
}

/// A child that must stay where it is until killed blocks here (bounded, 30 s).
pub fn park_until_killed() -> ! {
    let never = Semaphore::new(0).unwrap();
    assert_eq!(never.acquire_timeout(30.0), Ok(false));
    panic!("child was not killed within 30 s");
}

//! Starting processes: Python's `multiprocessing.Process(target=f).start()`, `join()` and
//! `exitcode`, in every world (see [`Backend::spawn_process`](super::Backend::spawn_process)).
//!
//! | backend | a process is | a crash is |
//! |---|---|---|
//! | [`Std`](super::Std) (Linux) | a `fork` of the caller running `f`, then `_exit` | a real signal (`SIGKILL` from a test) |
//! | `Loom`, `Shuttle` | a group of checked threads with its own pid | a checker choice at any of its steps (`WorldConfig::crashes`), recorded in the schedule |

/// A started process: Python's `Process` object after `start()`.
///
/// # Examples
///
/// ```
/// use lockproof::backend::spawn::ProcessHandle;
/// use lockproof::backend::{Backend, Std};
///
/// // Generic over the handle, as a model's code is over the backend.
/// fn exitcode(p: impl ProcessHandle) -> i32 {
///     p.join()
/// }
/// # #[cfg(target_os = "linux")] {
/// assert_eq!(exitcode(Std::spawn_process("ok", || {})), 0);
/// assert_eq!(exitcode(Std::spawn_process("raises", || panic!("boom"))), 1);
/// # }
/// ```
pub trait ProcessHandle: Send {
    /// The process's pid (`Process.pid`).
    fn pid(&self) -> u32;

    /// Wait for the process to end and return its exit code (`Process.join()` then
    /// `Process.exitcode`): `0` when its target returned, `1` when it raised (panicked),
    /// `-N` when signal `N` killed it (`-9` for `SIGKILL`, the checker's crash). Under a
    /// checker a panic in any thread fails the execution (the checker reports it), so
    /// `join` there returns `0` or `-9`.
    fn join(self) -> i32;
}

#[cfg(target_os = "linux")]
mod real {
    use super::ProcessHandle;
    use std::panic::{catch_unwind, AssertUnwindSafe};

    /// A forked child process.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::backend::spawn::{ForkedProcess, ProcessHandle};
    /// use lockproof::backend::{Backend, Std};
    ///
    /// let child: ForkedProcess = Std::spawn_process("child", || {});
    /// assert_ne!(child.pid(), std::process::id());
    /// assert_eq!(child.join(), 0);
    /// ```
    #[derive(Debug)]
    pub struct ForkedProcess {
        pid: libc::pid_t,
    }

    impl ProcessHandle for ForkedProcess {
        fn pid(&self) -> u32 {
            self.pid as u32
        }

        fn join(self) -> i32 {
            let mut status = 0;
            loop {
                // SAFETY: waitpid on our own child with a valid status pointer.
                let r = unsafe { libc::waitpid(self.pid, &mut status, 0) };
                if r == self.pid {
                    break;
                }
                let err = std::io::Error::last_os_error();
                if err.raw_os_error() != Some(libc::EINTR) {
                    panic!("waitpid({}) failed: {err}", self.pid);
                }
            }
            if libc::WIFEXITED(status) {
                libc::WEXITSTATUS(status)
            } else if libc::WIFSIGNALED(status) {
                -libc::WTERMSIG(status)
            } else {
                1
            }
        }
    }

    /// Fork a child that runs `f` and exits (see `Backend::spawn_process` for `Std`).
    pub fn fork<F>(f: F) -> ForkedProcess
    where
        F: FnOnce() + Send + 'static,
    {
        {
            // SAFETY: the child runs only `f` and leaves with `_exit` (no atexit handlers,
            // no unwinding into the parent's frames); the documented contract keeps `f`
            // away from locks other threads may have held at the fork.
            let pid = unsafe { libc::fork() };
            match pid {
                -1 => panic!("fork failed: {}", std::io::Error::last_os_error()),
                0 => {
                    let code = match catch_unwind(AssertUnwindSafe(f)) {
                        Ok(()) => 0,
                        Err(_) => 1,
                    };
                    // SAFETY: ends the child at once, as os._exit does.
                    unsafe { libc::_exit(code) }
                }
                pid => ForkedProcess { pid },
            }
        }
    }
}

#[cfg(target_os = "linux")]
pub(crate) use real::fork;
#[cfg(target_os = "linux")]
pub use real::ForkedProcess;

/// The process handle type where real processes are not supported (not Linux).
#[cfg(not(target_os = "linux"))]
#[derive(Debug)]
pub enum Unsupported {}

#[cfg(not(target_os = "linux"))]
impl ProcessHandle for Unsupported {
    fn pid(&self) -> u32 {
        match *self {}
    }
    fn join(self) -> i32 {
        match self {}
    }
}

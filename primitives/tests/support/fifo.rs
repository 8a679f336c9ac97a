//! FIFOs between a test and the actor processes it commands (the test binary re-executed,
//! `support/children.rs`), shared by `support/file_world.rs` and the `defects_ch8_*` tests.
//!
//! A test file that uses it declares `children` at its root (this module names it
//! `crate::children`).
#![allow(dead_code)] // each test file uses a different subset

use crate::children::BOUND;
use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::time::Instant;

pub fn mkfifo(path: &Path) {
    let c = CString::new(path.as_os_str().as_bytes()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(
        unsafe { libc::mkfifo(c.as_ptr(), 0o600) },
        0,
        "mkfifo {path:?}"
    );
}

pub fn raw_open(path: &Path, flags: i32) -> i32 {
    let c = CString::new(path.as_os_str().as_bytes()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    unsafe { libc::open(c.as_ptr(), flags | libc::O_CLOEXEC) }
}

/// The write end of the command FIFO `path`, opened once actor `name` has opened its read
/// end (`ENXIO` before; bounded by `BOUND`), in blocking mode.
pub fn connect_writer(path: &Path, name: &str) -> std::fs::File {
    let start = Instant::now();
    let fd = loop {
        let fd = raw_open(path, libc::O_WRONLY | libc::O_NONBLOCK);
        if fd >= 0 {
            break fd;
        }
        assert!(
            start.elapsed() < BOUND,
            "actor {name} never opened its FIFO"
        );
        std::thread::yield_now();
    };
    // SAFETY: `fd` is ours; back to blocking writes (a command is a few bytes).
    unsafe { libc::fcntl(fd, libc::F_SETFL, 0) };
    // SAFETY: `fd` is an open descriptor we own.
    unsafe { <std::fs::File as std::os::fd::FromRawFd>::from_raw_fd(fd) }
}

/// The state letter of `pid` in /proc (`None`: gone).
pub fn proc_state(pid: u32) -> Option<char> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    s.rsplit(')').next()?.trim().chars().next()
}

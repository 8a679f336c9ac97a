//! What the real-server tests share: a bounded poll, a fenced PostgreSQL table per test, and
//! a lock-holding child process (`src/bin/coord-child.rs`) killed on drop.

#![allow(
    dead_code,
    reason = "each test binary uses a different part of the support module"
)]

use lockproof_distributed::fence::FencedStore;
use std::io::{BufRead, BufReader, Write as _};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// The local PostgreSQL of every session and CI run (trust auth, database `test`).
pub const PG: &str = "host=127.0.0.1 port=5432 user=postgres dbname=test connect_timeout=5";

/// Polls `cond` every 10 ms until it holds or `limit` passes; whether it held.
pub fn poll(limit: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let end = Instant::now() + limit;
    loop {
        if cond() {
            return true;
        }
        if Instant::now() >= end {
            return false;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// A fenced table for one test, dropped at the end.
pub struct Fence {
    pub table: String,
    pub store: FencedStore,
}

impl Fence {
    pub fn new(test: &str) -> Fence {
        let table = format!("lp_coord_{test}_{}", std::process::id());
        let mut s = FencedStore::open(PG, &table).unwrap_or_else(|e| panic!("{e}"));
        s.drop_table().expect("drop a stale table");
        let store = FencedStore::open(PG, &table).unwrap_or_else(|e| panic!("{e}"));
        Fence { table, store }
    }

    /// Another connection to the same table.
    pub fn open(&self) -> FencedStore {
        FencedStore::open(PG, &self.table).unwrap_or_else(|e| panic!("{e}"))
    }
}

impl Drop for Fence {
    fn drop(&mut self) {
        let _ = self.store.drop_table();
    }
}

/// A `coord-child` process holding a lock, driven over stdin/stdout, killed on drop. Its
/// stdout is read by a thread so that every read here is bounded.
pub struct ChildGuard {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: mpsc::Receiver<String>,
}

impl ChildGuard {
    /// `coord-child kind server path ttl-ms PG table`.
    pub fn spawn(kind: &str, server: &str, path: &str, ttl_ms: u64, table: &str) -> ChildGuard {
        let mut child = Command::new(env!("CARGO_BIN_EXE_coord-child"))
            .args([kind, server, path, &ttl_ms.to_string(), PG, table])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("spawn coord-child");
        let stdin = child.stdin.take();
        let stdout = BufReader::new(child.stdout.take().expect("piped stdout"));
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in stdout.lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        ChildGuard {
            child,
            stdin,
            lines,
        }
    }

    pub fn pid(&self) -> i32 {
        self.child.id() as i32
    }

    /// The child's next line starting with `tag `, waiting at most `limit`.
    pub fn expect(&mut self, tag: &str, limit: Duration) -> String {
        let end = Instant::now() + limit;
        loop {
            let left = end.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    if let Some(rest) = line.strip_prefix(&format!("{tag} ")) {
                        return rest.to_string();
                    }
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    panic!("the child did not say {tag:?} within {limit:?}")
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    panic!("the child ended before saying {tag:?}")
                }
            }
        }
    }

    /// Lets the child go on (one line on its stdin).
    pub fn go(&mut self) {
        let stdin = self.stdin.as_mut().expect("stdin open");
        writeln!(stdin, "go").expect("child stdin");
        stdin.flush().expect("child stdin");
    }

    pub fn signal(&self, sig: i32) {
        // SAFETY: kill(2) on the pid of a child we spawned and have not reaped yet.
        let r = unsafe { libc::kill(self.pid(), sig) };
        assert_eq!(r, 0, "kill({sig})");
    }

    /// SIGKILL, then reap it.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Whether the process is stopped (state `T` in /proc/<pid>/stat).
    pub fn stopped(&self) -> bool {
        std::fs::read_to_string(format!("/proc/{}/stat", self.pid()))
            .ok()
            .and_then(|s| {
                s.rsplit_once(')')
                    .map(|(_, rest)| rest.trim_start().starts_with('T'))
            })
            .unwrap_or(false)
    }

    /// Waits (bounded) for the child to exit; its status code.
    pub fn wait_exit(&mut self, limit: Duration) -> Option<i32> {
        let mut code = None;
        let exited = poll(limit, || match self.child.try_wait() {
            Ok(Some(s)) => {
                code = s.code();
                true
            }
            _ => false,
        });
        assert!(exited, "the child did not exit within {limit:?}");
        code
    }
}

impl Drop for ChildGuard {
    fn drop(&mut self) {
        // A stopped child cannot die until it is continued.
        // SAFETY: kill(2) on our own unreaped child.
        unsafe { libc::kill(self.pid(), libc::SIGCONT) };
        self.kill();
    }
}

//! The tutorial's file-lock examples (chapter 8) as lockproof scenarios.
//!
//! One module per section of the chapter; each example `ex-8.S-NN` is a scenario with the
//! same id, modelled as written (same system calls, same order, same use of locks), scaled
//! down to 2–3 processes, on the checked world's simulated file system (inodes, open file
//! descriptions, per-process descriptor tables, the flock and record-lock tables; see
//! `lockproof::backend::checked`), and asserting what the example claims. Where the checker
//! finds a claim false, the scenario expects that violation; its counterexample is saved
//! in `corpus/schedules/` and its trace in `corpus/snapshots/`.
//!
//! Conventions shared by every module:
//!
//! - **A process** is `B::spawn_process`: a group of checked threads with its own pid and
//!   its own descriptor table (an object a child gets by `fork` is re-created in the
//!   child: the tutorial's examples open their files inside each worker).
//! - **Paths** are absolute and fixed (`/tmp/...`): every execution starts from an empty
//!   simulated file system whose directories are taken to exist.
//! - **Python I/O:** `open(path, mode)` is [`File::open`] (buffered, `'w'` truncates at
//!   open), `os.open` is [`Fd::open`], `fcntl.flock`/`lockf`/`fcntl` are
//!   [`lockproof::file::fcntl`], `os.remove`, `os.rename`, `os.stat`, `os.listdir` are
//!   [`lockproof::file::os`]. `json.dump`/`json.load` write and read the text a model
//!   needs (a number, `key=value` lines), not real JSON.
//! - `time.sleep` is virtual; `random.uniform(a, b)` is a fixed value inside `[a, b]`.
//! - **What is judged is the protected file**: two processes inside one critical section
//!   (a [`Region`]), a counter file that lost an increment, a log line torn or lost
//!   ([`judge_lines`]), two holders of one lock file.
//! - An uncaught Python exception in a child ends its target there (exit code 1); a `with`
//!   block it raises in releases its lock.
//! - `-crash` variants let the checker kill (SIGKILL) one child process at any of its
//!   steps: its descriptors close and its kernel locks drop, while a lock file it made and
//!   a partial write it issued stay.

use lockproof::file::File;
use lockproof_scenario::prelude::*;
use lockproof_scenario::Scenario;

#[cfg(doc)]
use lockproof::file::Fd;

pub mod ch8_apps;
pub mod ch8_flock;
pub mod ch8_lockfile;
pub mod ch8_msvcrt;

/// Every scenario of this crate, in tutorial order.
pub fn scenarios() -> Vec<Scenario> {
    let mut v = Vec::new();
    v.extend(ch8_flock::scenarios());
    v.extend(ch8_msvcrt::scenarios());
    v.extend(ch8_lockfile::scenarios());
    v.extend(ch8_apps::scenarios());
    v
}

/// A world with processes and files: what every chapter-8 body is generic over.
pub use lockproof::backend::System as Fs;

// ---- helpers shared by the chapter's modules ----------------------------------------------

pub(crate) use lockproof_scenario::python::{all_exited, join_all, now, py, sleep, start};

/// `open(path).read()` as text: what the file holds now (a checker's look at the protected
/// file, one traced step). A missing file reads as empty.
pub(crate) fn read_text<B: Fs>(path: &str) -> String {
    match File::<B>::open(path, "r") {
        Ok(mut f) => {
            let bytes = py(f.read(None));
            py(f.close());
            String::from_utf8_lossy(&bytes).into_owned()
        }
        Err(e) if e.errno() == Some(2) => String::new(),
        Err(e) => panic!("uncaught {}", e.python_repr()),
    }
}

/// Judge a log file whose writers each wrote whole lines: every line in `text` must be one
/// of `expected` (else a line was torn or interleaved: `no-torn-line`) and every expected
/// line must be there (else one was lost: `no-lost-line`).
pub(crate) fn judge_lines(text: &str, expected: &[String]) {
    let lines: Vec<&str> = text.lines().collect();
    if let Some(bad) = lines.iter().find(|l| !expected.iter().any(|e| e == *l)) {
        ensure(false, "no-torn-line", || {
            format!("the file holds {bad:?}, which no writer wrote whole; file: {text:?}")
        });
    }
    if let Some(lost) = expected.iter().find(|e| !lines.contains(&e.as_str())) {
        ensure(false, "no-lost-line", || {
            format!("{lost:?} was written but is not in the file; file: {text:?}")
        });
    }
}

//! The tutorial's multiprocessing examples (chapter 7) as lockproof scenarios.
//!
//! One module per section of the chapter; each example `ex-7.S-NN` is a scenario with the
//! same id, modelled as written (same operations, same use of locks), scaled down to 2–4
//! processes so that loom can run it, and asserting what the example claims. Where the
//! checker finds a claim false, the scenario expects that violation; its counterexample is
//! saved in `corpus/schedules/` and its trace in `corpus/snapshots/`.
//!
//! Conventions shared by every module:
//!
//! - **A process** is `B::spawn_process`: a group of checked threads with its own pid. An
//!   object a child inherits through `fork` (a Process argument, or a module-level global,
//!   which the tutorial relies on) is the parent's object `reopen()`ed: the same shared
//!   memory, with fresh per-process state (a SemLock's count), CPython's at-fork reset.
//! - **A Manager proxy** (`Manager().list()`, `.dict()`) is a server process that runs each
//!   method call to its end under the server's GIL: a proxy call is one atomic operation
//!   (`Shared::update`, one step) on the server's copy, and a call that returns a nested
//!   mutable object returns a *copy* (pickled), which the caller then mutates in vain.
//! - `time.sleep` is virtual; `random.uniform(a, b)` is a fixed value inside `[a, b]`,
//!   different per process where the example's timing depends on it.
//! - An uncaught exception in a child (`TypeError`, `AttributeError`, `NameError`) ends its
//!   target there: the process prints a traceback and exits with code 1; a `with` block it
//!   raises in releases its lock.
//! - `-crash` variants let the checker kill (SIGKILL) one child process at any of its
//!   steps: a multiprocessing lock it held stays held forever, and a process that then
//!   waits for it gets the `dead-holder` verdict.

use lockproof_scenario::prelude::*;
use lockproof_scenario::Scenario;
use std::fmt;

pub mod ch7_lock;
pub mod ch7_rlock;
pub mod ch7_shared;
pub mod ch7_sync;

/// Every scenario of this crate, in tutorial order.
pub fn scenarios() -> Vec<Scenario> {
    let mut v = Vec::new();
    v.extend(ch7_lock::scenarios());
    v.extend(ch7_rlock::scenarios());
    v.extend(ch7_sync::scenarios());
    v.extend(ch7_shared::scenarios());
    v
}

// ---- helpers shared by the chapter's modules ----------------------------------------------

pub(crate) use lockproof_scenario::python::{all_exited, join_all, now, py, sleep, start};

/// A Manager proxy (`Manager().list()`, `Manager().dict()`, …) of a value of type `T`:
/// every method call runs whole in the server process, one atomic step.
pub(crate) type Proxy<T, B> = Arc<Shared<T, B>>;

/// A new Manager object, named in traces.
pub(crate) fn manager<T: Clone + fmt::Debug + Send + 'static, B: Backend>(
    name: &str,
    v: T,
) -> Proxy<T, B> {
    Arc::new(Shared::<T, B>::new(v).with_name(name))
}

/// A probe the example does not have (a checker's bookkeeping), named in traces.
pub(crate) fn probe<T: Clone + fmt::Debug + Send + 'static, B: Backend>(
    name: &str,
    v: T,
) -> Arc<Shared<T, B>> {
    Arc::new(Shared::<T, B>::new(v).with_name(&format!("{name} (probe)")))
}

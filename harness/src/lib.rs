//! # lockproof-harness
//!
//! Checks lockproof scenarios under loom (exhaustive, preemption-bounded) and shuttle
//! (random, PCT) and a depth-first engine of its own, with virtual time, injected spurious wakeups, monitors for
//! mutual exclusion, deadlock, lost wakeups and barrier generations; saves every failing
//! execution as a schedule file that replays exactly, and renders its interleaving as a
//! table with one column per thread.
//!
//! - [`engine`]: the engine drivers and what a run returns;
//! - [`monitor`]: the property monitors;
//! - [`check`]: a scenario under several engines, shortest counterexample first;
//! - [`schedule`]: the schedule file format; [`trace`]: the trace table.
//!
//! The library knows no scenario of its own: the tutorial's models and the `lockproof`
//! binary that checks them (`lockproof-cli`) sit on top of it.

#![warn(missing_docs)]

pub mod check;
pub mod checker;
pub mod child;
pub mod engine;
pub mod html;
pub mod isolate;
pub mod model;
pub mod monitor;
pub mod panics;
pub mod regression;
pub mod schedule;
pub mod trace;

pub use check::{Budget, Family};
pub use checker::{check, Check, CheckError, Config, Report};
pub use lockproof_scenario::{ensure, Expect, Scenario};
pub use model::Model;

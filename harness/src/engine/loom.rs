//! loom driver: loom's search, with or without its preemption bound, and replay from loom's
//! checkpoint. Only a run without a bound can say "exhausted" (see the engine table in
//! `engine`).
//!
//! loom reports a failure only by panicking. The checked world has stored the failing
//! execution's report by then; to replay it, the run is repeated with loom's checkpoint
//! written just before the failing execution, and that checkpoint (loom's execution path,
//! JSON) is the schedule.

use super::execution::{classify, execution, world_config};
use super::{EngineKind, EngineSchedule, Found, RunOutcome, RunSettings};

use lockproof::backend::LoomEngine;
use loom::model::Builder;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

/// loom's branch limit per execution (its default, 1,000, is too small for models that
/// spin through a few hundred steps).
const MAX_BRANCHES: usize = 100_000;

fn builder(bound: Option<usize>) -> Builder {
    let mut b = Builder::new();
    b.preemption_bound = bound;
    b.max_branches = MAX_BRANCHES;
    b.max_threads = loom::MAX_THREADS;
    b.checkpoint_file = None;
    b.checkpoint_interval = 1;
    b.max_duration = None;
    b.location = false;
    b.log = false;
    b
}

/// Run `body` under loom as `settings` says.
pub fn run(body: fn(), settings: &RunSettings) -> RunOutcome {
    let _quiet = crate::panics::quiet();
    let EngineKind::Loom { bound } = settings.engine else {
        unreachable!("shuttle settings given to the loom driver");
    };
    let start = Instant::now();
    let count = Arc::new(AtomicUsize::new(0));
    let mut b = builder(bound);
    // loom stops before iteration `max_permutations`: this allows exactly `executions`.
    b.max_permutations = Some(settings.executions + 1);
    let f = execution::<LoomEngine>(body, world_config(settings), count.clone());
    let result = catch_unwind(AssertUnwindSafe(|| b.check(f)));
    let executions = count.load(Ordering::Relaxed);
    let mut found = result.err().map(|_| classify(executions));
    if let Some(found) = found.as_mut() {
        found.schedule = checkpoint(body, settings, bound, executions).map(EngineSchedule::Loom);
    }
    let limitations = found
        .as_ref()
        .and_then(|f| f.report.as_ref())
        .map(|r| r.limitations.clone())
        .unwrap_or_default();
    RunOutcome {
        settings: settings.clone(),
        executions,
        // loom's bounded search is not complete within its bound: only a run without a
        // bound that ended before its budget covered every execution.
        exhausted: bound.is_none() && found.is_none() && executions < settings.executions,
        elapsed: start.elapsed(),
        found,
        unsupported: None,
        limitations,
        shortening: None,
        engine_preemptions: None,
    }
}

/// Re-run to the failing execution (number `failing`) with loom's checkpoint written just
/// before it; return the checkpoint's JSON.
fn checkpoint(
    body: fn(),
    settings: &RunSettings,
    bound: Option<usize>,
    failing: usize,
) -> Option<String> {
    let dir = tempfile::tempdir().ok()?;
    let path = dir.path().join("loom-path.json");
    let mut b = builder(bound);
    b.checkpoint_file = Some(path.clone());
    b.checkpoint_interval = failing.max(1);
    b.max_permutations = None;
    let f = execution::<LoomEngine>(body, world_config(settings), Arc::new(AtomicUsize::new(0)));
    let _ = catch_unwind(AssertUnwindSafe(|| b.check(f)));
    let _ = crate::panics::take_last_panic();
    let _ = lockproof::backend::checked::take_last_report();
    std::fs::read_to_string(&path).ok()
}

/// Replay the execution a loom checkpoint describes. Returns the failure it reproduces, or
/// `None` if the execution passed.
pub fn replay(
    body: fn(),
    settings: &RunSettings,
    path_json: &str,
) -> Result<Option<Found>, String> {
    let _quiet = crate::panics::quiet();
    let EngineKind::Loom { bound } = settings.engine else {
        return Err("not a loom schedule".into());
    };
    serde_json::from_str::<serde_json::Value>(path_json)
        .map_err(|e| format!("the loom checkpoint is not valid JSON: {e}"))?;
    let dir = tempfile::tempdir().map_err(|e| format!("cannot make a temporary folder: {e}"))?;
    let path = dir.path().join("loom-path.json");
    std::fs::write(&path, path_json).map_err(|e| format!("cannot write the checkpoint: {e}"))?;
    let mut b = builder(bound);
    b.checkpoint_file = Some(path);
    // Iteration 1 starts from the checkpoint; loom stops before iteration 2.
    b.max_permutations = Some(2);
    let f = execution::<LoomEngine>(body, world_config(settings), Arc::new(AtomicUsize::new(0)));
    let result = catch_unwind(AssertUnwindSafe(|| b.check(f)));
    Ok(result.err().map(|_| classify(1)))
}

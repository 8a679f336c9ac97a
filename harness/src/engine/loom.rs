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
use lockproof_scenario::Body;

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
pub fn run(body: &Body, settings: &RunSettings) -> RunOutcome {
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
    let engine_preemptions = found.as_ref().and_then(|f| match &f.schedule {
        Some(EngineSchedule::Loom(json)) => preemptions_of_checkpoint(json),
        _ => None,
    });
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
        engine_preemptions,
    }
}

/// loom's own count of preemptions in the execution a checkpoint leads to: that of the
/// path's last thread-scheduling branch (`Schedule::preemptions` in loom's `rt/path.rs`: the
/// preemptions before it, plus one if it switched away from the thread that was active).
/// Branches after the checkpoint's last one are new, and loom's first choice at a new branch
/// never preempts.
pub fn preemptions_of_checkpoint(json: &str) -> Option<usize> {
    let v: serde_json::Value = serde_json::from_str(json).ok()?;
    let entries = v.get("branches")?.get("entries")?.as_array()?;
    // No scheduling branch at all: loom took its first (non-preempting) choice everywhere.
    let Some(last) = entries.iter().rev().find_map(|e| e.get("Schedule")) else {
        return Some(0);
    };
    let before = last.get("preemptions")?.as_u64()? as usize;
    let initial = last.get("initial_active")?.as_u64();
    let active = last
        .get("threads")?
        .as_array()?
        .iter()
        .position(|t| t.as_str() == Some("Active"))
        .map(|i| i as u64);
    Some(before + usize::from(initial.is_some() && initial != active))
}

/// Re-run to the failing execution (number `failing`) with loom's checkpoint written just
/// before it; return the checkpoint's JSON.
fn checkpoint(
    body: &Body,
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
    body: &Body,
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

//! Every saved schedule under `corpus/schedules/` replays to the same failure and the same
//! trace, byte for byte; the trace is the reviewed snapshot in `corpus/snapshots/`.
//!
//! A new schedule's snapshot is accepted with `cargo insta review` (see the README).

mod common;

use lockproof_cli::registry;
use lockproof_harness::schedule::ScheduleFile;
use std::path::PathBuf;

fn schedule_files() -> Vec<PathBuf> {
    lockproof_harness::regression::schedule_files(&common::root().join("corpus/schedules"))
}

#[test]
fn saved_schedules_replay_to_their_snapshots() {
    // The same call a user's crate makes for its own saved counterexamples.
    let n = lockproof_harness::regression::replay_all(
        &common::root().join("corpus/schedules"),
        &common::root().join("corpus/snapshots"),
        &registry::all(),
        &common::runner(),
    );
    assert!(n > 200, "only {n} saved schedules");
}

#[test]
fn every_expected_violation_has_a_saved_schedule() {
    let files = schedule_files();
    let saved: Vec<String> = files
        .iter()
        .filter_map(|p| ScheduleFile::load(p).ok().map(|f| f.scenario))
        .collect();
    let missing: Vec<&str> = registry::all()
        .iter()
        .filter(|s| matches!(s.expect, lockproof_cli::Expect::Violates(_)))
        .filter(|s| !saved.iter().any(|x| x == s.id))
        .map(|s| s.id)
        .collect();
    assert!(
        missing.is_empty(),
        "expected violations without a saved counterexample (run `lockproof check ID`): {missing:?}"
    );
}

#[test]
fn every_saved_loom_schedule_counts_the_preemptions_loom_itself_counted() {
    for path in schedule_files() {
        let file = ScheduleFile::load(&path).unwrap_or_else(|e| panic!("{e}"));
        if let lockproof_harness::engine::EngineSchedule::Loom(json) = &file.schedule {
            let loom = lockproof_harness::engine::loom::preemptions_of_checkpoint(json);
            assert_eq!(
                loom,
                Some(file.preemptions),
                "{}: loom's own count differs from the trace's",
                path.display()
            );
            if let Some(bound) = file.settings.engine.bound() {
                assert!(file.preemptions <= bound, "{}", path.display());
            }
        }
    }
}

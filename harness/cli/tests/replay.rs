//! Every saved schedule under `corpus/schedules/` replays to the same failure and the same
//! trace, byte for byte; the trace is the reviewed snapshot in `corpus/snapshots/`.
//!
//! A new schedule's snapshot is accepted with `cargo insta review` (see the README).

mod common;

use lockproof_cli::registry;
use lockproof_harness::check::replay;
use lockproof_harness::schedule::ScheduleFile;
use std::path::PathBuf;

fn schedule_files() -> Vec<PathBuf> {
    let dir = common::root().join("corpus/schedules");
    let mut out = Vec::new();
    for scenario in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
        for f in std::fs::read_dir(scenario.path())
            .into_iter()
            .flatten()
            .flatten()
        {
            if f.path().extension().is_some_and(|e| e == "schedule") {
                out.push(f.path());
            }
        }
    }
    out.sort();
    out
}

#[test]
fn saved_schedules_replay_to_their_snapshots() {
    let scenarios = registry::all();
    let files = schedule_files();
    let mut problems = Vec::new();
    for path in &files {
        let file = ScheduleFile::load(path).unwrap_or_else(|e| panic!("{e}"));
        let name = format!(
            "{}__{}",
            file.scenario,
            path.file_stem().unwrap_or_default().to_string_lossy()
        );
        let expected_property = file.property.clone();
        let r = replay(file, &scenarios, &common::runner())
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let Some(found) = r.found else {
            problems.push(format!(
                "{}: the execution passed on replay",
                path.display()
            ));
            continue;
        };
        if found.property != expected_property {
            problems.push(format!(
                "{}: saved {expected_property}, replay found {}",
                path.display(),
                found.property
            ));
        }
        if !r.same_trace {
            problems.push(format!(
                "{}: the replayed trace differs from the saved digest",
                path.display()
            ));
        }
        let trace = found.trace.unwrap_or_default();
        insta::with_settings!({
            snapshot_path => common::root().join("corpus/snapshots"),
            prepend_module_to_snapshot => false,
            omit_expression => true,
            description => format!("lockproof trace {}", path.strip_prefix(common::root()).unwrap_or(path).display()),
        }, {
            insta::assert_snapshot!(name, trace);
        });
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
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

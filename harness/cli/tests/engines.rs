//! The engine conformance suite: models whose answers are known by construction
//! (`lockproof_cli::conformance`), run under every engine. Each test states the claim it
//! holds the engine to.

mod common;

use lockproof_cli::conformance::take_interleavings;
use lockproof_harness::check::{check_scenario, Budget, Family, Request, Verdict};
use lockproof_harness::child::Runner;
use lockproof_harness::engine::{self, EngineKind, FailureKind, RunOutcome, RunSettings};
use lockproof_scenario::Scenario;
use std::path::Path;
use std::process::Command;

fn settings(s: &Scenario, engine: EngineKind, executions: usize) -> RunSettings {
    RunSettings {
        engine,
        time: s.time,
        spurious: s.spurious == lockproof_scenario::Spurious::On,
        crashes: s.crashes,
        pauses: s.pauses,
        pause_span: lockproof_harness::check::nanos(s.pause_span),
        liveness: s.liveness,
        max_steps: s.max_steps,
        executions,
        seed: 1,
    }
}

/// One run, in this process (the models are small; counting needs this process's memory).
fn run(s: &Scenario, engine: EngineKind, executions: usize) -> RunOutcome {
    let st = settings(s, engine, executions);
    match engine {
        EngineKind::Loom { .. } => engine::loom::run(&s.body.loom, &st),
        _ => engine::shuttle::run(&s.body.shuttle, &st),
    }
}

/// (N·K)! / (K!)^N, by hand for the models below.
const COUNTS: [(&str, usize); 5] = [
    ("engine-count-2x1", 2),  // 2!/(1!1!)
    ("engine-count-2x2", 6),  // 4!/(2!2!)
    ("engine-count-2x3", 20), // 6!/(3!3!)
    ("engine-count-3x1", 6),  // 3!
    ("engine-count-3x2", 90), // 6!/(2!2!2!)
];

#[test]
fn dfs_and_unbounded_loom_cover_exactly_the_interleavings_counted_by_hand() {
    for (id, want) in COUNTS {
        let s = common::scenario(id);
        take_interleavings(id);
        let dfs = run(&s, EngineKind::Dfs { bound: None }, 1_000_000);
        assert!(dfs.found.is_none(), "{id}: dfs found {:?}", dfs.found);
        assert!(dfs.exhausted, "{id}: dfs did not exhaust its space");
        assert_eq!(take_interleavings(id), want, "{id}: dfs interleavings");

        let loom = run(&s, EngineKind::Loom { bound: None }, 1_000_000);
        assert!(loom.found.is_none(), "{id}: loom found {:?}", loom.found);
        assert!(loom.exhausted, "{id}: loom did not exhaust its space");
        assert_eq!(take_interleavings(id), want, "{id}: loom interleavings");
        assert!(
            dfs.executions >= want && loom.executions >= want,
            "{id}: an engine ran fewer executions ({} dfs, {} loom) than there are interleavings",
            dfs.executions,
            loom.executions
        );

        // Random and PCT never claim exhaustion, and never see more than there are.
        for kind in [EngineKind::Random, EngineKind::Pct { depth: 3 }] {
            let o = run(&s, kind, 2_000);
            assert!(!o.exhausted, "{id}: {kind:?} claimed exhaustion");
            assert!(
                take_interleavings(id) <= want,
                "{id}: {kind:?} saw too many"
            );
        }
    }
}

/// The models `engine-preempt-P` need exactly P preemptions to fail.
const PREEMPT: [(&str, usize); 4] = [
    ("engine-preempt-0", 0),
    ("engine-preempt-1", 1),
    ("engine-preempt-2", 2),
    ("engine-preempt-3", 3),
];

#[test]
fn dfs_at_bound_k_finds_a_failure_iff_k_reaches_its_fewest_preemptions() {
    for (id, min) in PREEMPT {
        let s = common::scenario(id);
        for k in 0..=3 {
            let o = run(&s, EngineKind::Dfs { bound: Some(k) }, 1_000_000);
            match &o.found {
                None => {
                    assert!(
                        k < min,
                        "{id}: dfs bound {k} missed a failure needing {min}"
                    );
                    assert!(
                        o.exhausted,
                        "{id}: dfs bound {k} found nothing but says not exhausted"
                    );
                }
                Some(f) => {
                    assert!(
                        k >= min,
                        "{id}: dfs bound {k} found a failure needing {min}"
                    );
                    assert!(!o.exhausted, "{id}: a failing run is not 'exhausted'");
                    assert!(
                        f.preemptions <= k,
                        "{id}: trace shows {} > bound {k}",
                        f.preemptions
                    );
                    assert!(
                        f.preemptions >= min,
                        "{id}: trace shows {} < {min}",
                        f.preemptions
                    );
                    assert_eq!(
                        o.engine_preemptions,
                        Some(f.preemptions),
                        "{id}: the trace counts other preemptions than the engine made"
                    );
                    if k == min {
                        assert_eq!(f.preemptions, min, "{id}: first failing bound");
                    }
                }
            }
        }
    }
}

#[test]
fn loom_bounded_never_claims_exhaustion_and_unbounded_loom_finds_every_failure() {
    for (id, min) in PREEMPT {
        let s = common::scenario(id);
        for k in 0..=3 {
            let o = run(&s, EngineKind::Loom { bound: Some(k) }, 1_000_000);
            assert!(!o.exhausted, "{id}: loom bound {k} claimed exhaustion");
            if let Some(f) = &o.found {
                assert!(
                    f.preemptions >= min,
                    "{id}: loom trace {} < {min}",
                    f.preemptions
                );
            }
        }
        let o = run(&s, EngineKind::Loom { bound: None }, 1_000_000);
        let f = o.found.expect("loom without a bound finds it");
        assert!(
            f.preemptions >= min,
            "{id}: loom trace {} < {min}",
            f.preemptions
        );
    }
}

#[test]
fn account_bad_first_failing_dfs_bound_is_the_traces_preemption_count() {
    let s = common::scenario("engine-account-bad");
    let req = Request {
        families: vec![Family::Dfs, Family::Loom],
        budget: Budget::ci(),
        save_root: None,
        runner: Runner::InProcess,
    };
    let results = check_scenario(&s, &req);
    for r in &results {
        assert_eq!(r.verdict, Verdict::Met, "{:?}", r.family);
        let f = r.outcome.found.as_ref().expect("a failure");
        let bound = r.outcome.settings.engine.bound();
        assert!(bound.is_none_or(|b| f.preemptions <= b));
        if r.family == Family::Dfs {
            assert_eq!(bound, Some(f.preemptions), "dfs: first failing bound");
        }
    }
}

#[test]
fn correct_models_hold_under_every_engine_at_the_ci_budget_and_ten_times_it() {
    for id in ["engine-account", "self-counter-locked"] {
        let s = common::scenario(id);
        for scale in [1, 10] {
            let mut budget = Budget::ci();
            budget.loom_executions *= scale;
            budget.shuttle_executions *= scale;
            let req = Request {
                families: vec![Family::Loom, Family::Random, Family::Pct, Family::Dfs],
                budget,
                save_root: None,
                runner: Runner::InProcess,
            };
            for r in check_scenario(&s, &req) {
                assert_eq!(r.verdict, Verdict::Met, "{id} ×{scale} {:?}", r.family);
                assert!(r.outcome.found.is_none());
            }
        }
    }
}

#[test]
fn a_condition_wait_hang_meets_an_expected_deadlock_and_names_its_sub_kind() {
    // ex-5.4-04 and friends expect lost-wakeup; a user writing `deadlock` is met too.
    let mut s = common::scenario("self-if-wait-no-injection");
    s.expect = lockproof_scenario::Expect::Violates("deadlock");
    let found = lockproof_harness::check::judge(
        &s,
        &RunOutcome {
            executions: 1,
            found: Some(lockproof_harness::engine::Found {
                kind: FailureKind::LostWakeup,
                property: "lost-wakeup".into(),
                message: "deadlock (lost wakeup: waiting for a notification nobody can send)"
                    .into(),
                report: None,
                schedule: None,
                execution: 1,
                trace: None,
                preemptions: 0,
            }),
            ..RunOutcome::nothing(settings(&s, EngineKind::Random, 1))
        },
    );
    assert_eq!(found, Verdict::Met);
}

fn lockproof(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_lockproof"))
        .args(args)
        .output()
        .expect("lockproof runs")
}

fn saved(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut v = Vec::new();
    if let Ok(rd) = std::fs::read_dir(dir.join("schedules")) {
        for scen in rd.flatten() {
            for f in std::fs::read_dir(scen.path())
                .into_iter()
                .flatten()
                .flatten()
            {
                v.push(f.path());
            }
        }
    }
    v.sort();
    v
}

#[test]
fn every_saved_schedule_of_every_engine_replays_through_the_cli() {
    // Timed (opposite locks, preempt-2), adversarial (retry timeout), spurious (if-wait).
    let ids = [
        "self-opposite-locks",
        "self-retry-timeout",
        "self-if-wait",
        "engine-preempt-2",
    ];
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().to_str().expect("utf-8 path");
    for engine in ["loom", "random", "pct", "dfs"] {
        let mut args = vec!["check"];
        args.extend(ids);
        args.extend(["--engine", engine, "--out", out]);
        let o = lockproof(&args);
        assert!(
            o.status.success(),
            "check --engine {engine}: {}",
            String::from_utf8_lossy(&o.stdout)
        );
    }
    let files = saved(dir.path());
    // Every engine saves one schedule per scenario (loom injects through its checker thread).
    assert!(files.len() >= 4 * 4 - 1, "saved: {files:?}");
    for f in files {
        let o = lockproof(&["replay", f.to_str().expect("utf-8 path")]);
        let text = String::from_utf8_lossy(&o.stdout);
        assert!(
            o.status.success() && text.contains("reproduced: same failure, same trace"),
            "{}: {text}{}",
            f.display(),
            String::from_utf8_lossy(&o.stderr)
        );
    }
}

#[test]
fn a_schedule_over_200_kb_replays_through_the_cli() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().to_str().expect("utf-8 path");
    let o = lockproof(&[
        "check",
        "engine-long-schedule",
        "--engine",
        "dfs",
        "--out",
        out,
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stdout));
    let files = saved(dir.path());
    assert_eq!(files.len(), 1, "{files:?}");
    let size = std::fs::metadata(&files[0]).expect("saved").len();
    assert!(size > 200_000, "the schedule has {size} bytes");
    let o = lockproof(&["replay", files[0].to_str().expect("utf-8 path")]);
    assert!(
        o.status.success(),
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
}

#[test]
fn dfs_meets_the_self_tests_verdicts_from_the_cli() {
    let o = lockproof(&[
        "check",
        "self-counter-locked",
        "self-opposite-locks",
        "--engine",
        "dfs",
        "--no-save",
    ]);
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{text}");
    assert!(text.contains("holds, space exhausted"), "{text}");
}

/// Not run by itself: `a_users_failing_assert_still_prints_its_message` runs it in a child.
#[test]
#[ignore = "run by a_users_failing_assert_still_prints_its_message in a child process"]
fn helper_user_assert_after_a_check() {
    let s = common::scenario("self-counter-unlocked");
    let req = Request {
        families: vec![Family::Random],
        budget: Budget::ci(),
        save_root: None,
        runner: Runner::InProcess,
    };
    let r = check_scenario(&s, &req);
    assert_eq!(r[0].verdict, Verdict::Met);
    let answer = 41;
    assert_eq!(
        answer, 42,
        "the user's own message survives the checker's panic hook"
    );
}

#[test]
fn a_users_failing_assert_still_prints_its_message() {
    let exe = std::env::current_exe().expect("test binary");
    let o = Command::new(exe)
        .args([
            "helper_user_assert_after_a_check",
            "--exact",
            "--ignored",
            "--nocapture",
        ])
        .output()
        .expect("the test binary runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(!o.status.success(), "the helper must fail: {text}");
    assert!(
        text.contains("the user's own message survives the checker's panic hook"),
        "{text}"
    );
}

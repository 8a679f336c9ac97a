//! The `lockproof` binary on good and bad input: bad input gets a one-line error and exit
//! code 2, never a panic.

mod common;

use std::process::Command;

fn lockproof(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_lockproof"))
        .args(args)
        .current_dir(common::root())
        .output()
        .expect("runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn bad(args: &[&str], needle: &str) {
    let (code, _out, err) = lockproof(args);
    assert_eq!(code, 2, "{args:?}: {err}");
    assert_eq!(
        err.lines().count(),
        1,
        "{args:?}: one line expected, got {err:?}"
    );
    assert!(err.contains(needle), "{args:?}: {err:?} lacks {needle:?}");
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn unknown_scenario_id() {
    bad(&["check", "no-such-scenario"], "no scenario matches");
}

#[test]
fn bad_glob() {
    bad(&["check", "self-[ab]"], "bad pattern");
}

#[test]
fn zero_budget() {
    bad(
        &["check", "self-counter-locked", "--budget", "0"],
        "at least 1",
    );
    bad(
        &["check", "self-counter-locked", "--loom-budget", "0"],
        "at least 1",
    );
}

#[test]
fn unknown_engine_and_option() {
    bad(&["check", "--engine", "tla"], "unknown engine");
    bad(&["check", "--frobnicate"], "unknown option");
    bad(&["frobnicate"], "unknown command");
}

#[test]
fn corrupt_truncated_and_other_version_schedules() {
    let dir = tempfile::tempdir().expect("scratch");
    let write = |name: &str, text: &str| {
        let p = dir.path().join(name);
        std::fs::write(&p, text).expect("write");
        p.display().to_string()
    };
    let junk = write("junk.schedule", "hello\n");
    bad(&["replay", &junk], "not a lockproof schedule file");
    let future = write(
        "v9.schedule",
        "format lockproof-schedule/9\nscenario x\nend\n",
    );
    bad(&["replay", &future], "not supported");
    let truncated = write(
        "cut.schedule",
        "format lockproof-schedule/1\nscenario self-opposite-locks\nengine loom\nbound 1\n",
    );
    bad(&["replay", &truncated], "truncated or corrupt");
    bad(&["trace", &truncated], "truncated or corrupt");
    bad(&["replay", "/no/such/file.schedule"], "cannot read");
}

#[test]
fn list_and_check_one() {
    let (code, out, _) = lockproof(&["list"]);
    assert_eq!(code, 0);
    assert!(out.contains("self-counter-locked"));
    let (code, out, err) = lockproof(&["check", "self-counter-*", "--no-save", "--budget", "200"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("no-lost-update found (expected)"), "{out}");
    let (code, out, _) = lockproof(&[
        "check",
        "self-counter-locked",
        "--no-save",
        "--format",
        "json",
    ]);
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&out).expect("json");
    assert_eq!(v[0]["id"], "self-counter-locked");
}

#[test]
fn trace_on_replays_a_counterexample_on_its_fix() {
    // The pause that made two writers (chapter 9's Redis lock, unfenced storage), replayed
    // on the same program with a fenced storage: the stale write is rejected, and it passes.
    let file = "corpus/schedules/ex-9.1-01-pause/dfs-bound0-001.schedule";
    let (code, out, err) = lockproof(&["trace", file]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("stale-write violated"), "{out}");
    assert_eq!(out.matches("storage.write(token=").count(), 10, "{out}");
    let (code, out, err) = lockproof(&["trace", file, "--on", "ex-9.1-01-fenced"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("storage.write(token=1) → raises Stale(1<2)"),
        "{out}"
    );
    assert!(
        out.ends_with("ex-9.1-01-fenced: passed on the schedule of ex-9.1-01-pause\n"),
        "{out}"
    );
    // On a scenario whose steps differ, the schedule does not fit: said, not guessed.
    bad(&["trace", file, "--on", "ex-1.1-01"], "does not replay");
    bad(&["trace", file, "--on", "no-such"], "no scenario");
}

//! A crate outside the workspace, made here in a temporary folder and depending on lockproof
//! by path, checks its own code from one `#[test]` of at most 15 lines: the ABBA deadlock is
//! found, the panic holds the trace, the saved schedule and the replay command, that
//! command reproduces it, and the fixed version passes under every engine.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .canonicalize()
        .expect("workspace root")
}

/// The user's whole test: 14 lines.
const TEST_ABBA: &str = r#"use lockproof::backend::{Backend, JoinHandle};
use std::sync::Arc;
struct Abba;
impl lockproof_harness::Model for Abba {
    fn run<B: Backend>(&self) {
        let (a, b) = (Arc::new(lockproof::Lock::<B>::new()), Arc::new(lockproof::Lock::<B>::new()));
        let (a2, b2) = (a.clone(), b.clone());
        let t = B::spawn("t", move || { let _b = b2.lock(); let _a = a2.lock(); });
        { let _a = a.lock(); let _b = b.lock(); }
        t.join();
    }
}
#[test]
fn abba() { lockproof_harness::check(Abba); }
"#;

fn cargo_test(dir: &Path, target: &Path, envs: &[(&str, &str)]) -> Output {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let mut c = Command::new(cargo);
    c.current_dir(dir)
        .args(["test", "--offline", "--quiet", "--", "--exact", "abba"])
        .env("CARGO_TARGET_DIR", target)
        .env_remove("LOCKPROOF_REPLAY");
    for (k, v) in envs {
        c.env(k, v);
    }
    c.output().expect("cargo runs")
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[test]
fn an_outside_crate_finds_abba_in_one_test_and_replays_it() {
    assert!(TEST_ABBA.lines().count() <= 15);
    let ws = workspace();
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path();
    std::fs::create_dir_all(root.join("tests")).expect("mkdir");
    std::fs::create_dir_all(root.join("src")).expect("mkdir");
    std::fs::write(
        root.join("Cargo.toml"),
        format!(
            "[package]\nname = \"user-crate\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n\
             [workspace]\n\n[dev-dependencies]\n\
             lockproof = {{ path = {:?} }}\nlockproof-harness = {{ path = {:?} }}\n\n\
             [profile.dev]\nopt-level = 1\n[profile.dev.package.\"*\"]\nopt-level = 3\n",
            ws.join("primitives"),
            ws.join("harness")
        ),
    )
    .expect("write Cargo.toml");
    std::fs::write(root.join("src/lib.rs"), "").expect("write lib.rs");
    // The same versions as the workspace, so that nothing needs the network.
    std::fs::copy(ws.join("Cargo.lock"), root.join("Cargo.lock")).expect("copy Cargo.lock");
    std::fs::write(root.join("tests/abba.rs"), TEST_ABBA).expect("write the test");
    // A target folder of its own, kept between runs (the outer cargo holds the workspace's).
    let target = ws.join("target/external-crate");
    let saved_dir = root.join("lockproof-out");
    let saved = saved_dir.to_str().expect("utf-8");

    let o = cargo_test(root, &target, &[("LOCKPROOF_DIR", saved)]);
    let out = text(&o);
    assert!(!o.status.success(), "the ABBA test must fail:\n{out}");
    assert!(out.contains("deadlock (lock cycle)"), "{out}");
    assert!(
        out.contains("b.acquire() … blocked") || out.contains("acquire() … blocked"),
        "{out}"
    );
    let replay_line = out
        .lines()
        .find(|l| l.starts_with("replay: LOCKPROOF_REPLAY="))
        .unwrap_or_else(|| panic!("no replay command in:\n{out}"));
    let path = replay_line
        .trim_start_matches("replay: LOCKPROOF_REPLAY=")
        .split_whitespace()
        .next()
        .expect("a path");
    assert!(Path::new(path).starts_with(&saved_dir), "{path}");
    assert!(
        replay_line.contains("cargo test abba -- --exact"),
        "{replay_line}"
    );
    let trace_of = |s: &str| -> String {
        s.lines()
            .skip_while(|l| !l.trim_start().starts_with("step"))
            .take_while(|l| !l.starts_with("saved:"))
            .collect::<Vec<_>>()
            .join("\n")
    };
    let first_trace = trace_of(&out);
    assert!(!first_trace.is_empty(), "{out}");

    // The replay command reproduces the same failure with the same trace.
    let o = cargo_test(root, &target, &[("LOCKPROOF_REPLAY", path)]);
    let out2 = text(&o);
    assert!(!o.status.success(), "the replay must fail again:\n{out2}");
    assert!(out2.contains("fails on replay of"), "{out2}");
    assert_eq!(trace_of(&out2), first_trace);

    // The fixed version (same lock order) passes under every engine.
    let fixed = TEST_ABBA
        .replace("let _b = b2.lock(); let _a = a2.lock();", "let _a = a2.lock(); let _b = b2.lock();")
        .replace(
            "lockproof_harness::check(Abba);",
            "lockproof_harness::Check::new(Abba).engines([lockproof_harness::Family::Loom, lockproof_harness::Family::Random, lockproof_harness::Family::Pct, lockproof_harness::Family::Dfs]).assert_holds();",
        );
    std::fs::write(root.join("tests/abba.rs"), fixed).expect("write the fix");
    let o = cargo_test(root, &target, &[("LOCKPROOF_DIR", saved)]);
    assert!(
        o.status.success(),
        "the fixed version must pass:\n{}",
        text(&o)
    );
}

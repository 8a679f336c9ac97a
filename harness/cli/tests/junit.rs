//! `lockproof check --format junit` is accepted by the usual JUnit XML schema (Jenkins'
//! junit-4, as the `junit-report` crate publishes it; see [`schemas`]), checked with
//! `xmllint --schema` (Debian's libxml2-utils, which
//! `ci/deps.sh` installs). Without xmllint these tests fail with one line, never skip.

mod common;

use lockproof::backend::checked::TimeMode;
use lockproof_cli::junit::{self, Suite};
use lockproof_harness::check::{Budget, EngineResult, Family, Verdict};
use lockproof_harness::engine::{EngineKind, FailureKind, Found, RunOutcome, RunSettings};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, SystemTime};

/// The usual JUnit XML schema, Jenkins' junit-4 (`tests/JUnit.xsd` of the `junit-report`
/// crate's published package: a dev-dependency fetched from crates.io, found with `cargo
/// metadata`). The same package's older Apache Ant schema (`JUnit-alternative.xsd`) has no
/// `<skipped>` element at all, so it cannot describe an engine that does not run.
fn schemas() -> Vec<PathBuf> {
    let out = Command::new(env!("CARGO"))
        .args(["metadata", "--format-version", "1", "--manifest-path"])
        .arg(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml"))
        .output()
        .expect("cargo metadata runs");
    assert!(
        out.status.success(),
        "cargo metadata: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let meta: serde_json::Value = serde_json::from_slice(&out.stdout).expect("metadata JSON");
    let manifest = meta["packages"]
        .as_array()
        .expect("packages")
        .iter()
        .find(|p| p["name"] == "junit-report")
        .and_then(|p| p["manifest_path"].as_str())
        .expect("the junit-report dev-dependency in cargo metadata");
    let xsd = Path::new(manifest)
        .parent()
        .expect("its directory")
        .join("tests/JUnit.xsd");
    assert!(
        xsd.is_file(),
        "{} is missing from junit-report's package",
        xsd.display()
    );
    vec![xsd]
}

/// Run xmllint; a missing xmllint is a one-line failure.
fn xmllint(args: &[&str]) -> (bool, String, String) {
    let out = match Command::new("xmllint").args(args).output() {
        Ok(out) => out,
        Err(e) => panic!(
            "xmllint is missing ({e}): install Debian's libxml2-utils (`bash ci/deps.sh` does)"
        ),
    };
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Validate `xml` against the JUnit schema; panic with xmllint's complaint if it is not valid.
fn validate(xml: &str, what: &str) {
    let dir = tempfile::tempdir().expect("scratch");
    let file = dir.path().join("results.xml");
    std::fs::write(&file, xml).expect("write");
    for xsd in schemas() {
        let (ok, _, err) = xmllint(&[
            "--noout",
            "--nonet",
            "--schema",
            &xsd.display().to_string(),
            &file.display().to_string(),
        ]);
        assert!(
            ok,
            "{what}: not valid against {}:\n{err}\n{xml}",
            xsd.display()
        );
    }
}

/// The value of an XPath expression over `xml` (xmllint decodes the escapes).
fn xpath(xml: &str, expr: &str) -> String {
    let dir = tempfile::tempdir().expect("scratch");
    let file = dir.path().join("results.xml");
    std::fs::write(&file, xml).expect("write");
    let (ok, out, err) = xmllint(&["--nonet", "--xpath", expr, &file.display().to_string()]);
    assert!(ok, "xpath {expr}: {err}");
    // xmllint ends a number or a string with one newline of its own.
    out.strip_suffix('\n').unwrap_or(&out).to_owned()
}

fn lockproof(args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_lockproof"))
        .args(args)
        .current_dir(common::root())
        .output()
        .expect("runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

#[test]
fn xmllint_and_the_schema_are_there() {
    let (ok, _, err) = xmllint(&["--version"]);
    assert!(ok, "xmllint --version: {err}");
    assert_eq!(schemas().len(), 1, "the schema is there");
}

/// A small real run: expected violations found (passes), a scenario that holds (passes), an
/// engine declared not runnable (skipped); every engine's schedule saved and named.
#[test]
fn a_check_run_validates() {
    let dir = tempfile::tempdir().expect("scratch");
    let out = dir.path().display().to_string();
    let file = dir.path().join("also.xml");
    let (code, xml) = lockproof(&[
        "check",
        "self-opposite-locks",
        "self-counter-locked",
        "engine-preempt-3",
        "--format",
        "junit",
        "--out",
        &out,
        "--junit",
        &file.display().to_string(),
    ]);
    assert_eq!(code, 0, "{xml}");
    validate(&xml, "check --format junit");
    assert_eq!(
        std::fs::read_to_string(&file).expect("--junit wrote its file"),
        xml,
        "--junit FILE holds what --format junit prints"
    );
    assert_eq!(xpath(&xml, "count(//testsuite)"), "3");
    assert_eq!(xpath(&xml, "count(//testcase)"), "9");
    assert_eq!(xpath(&xml, "count(//failure)"), "0");
    assert_eq!(
        xpath(
            &xml,
            "string(//testcase[@classname='engine-preempt-3'][@name='pct depth 1-3']/skipped)"
        ),
        "pct cannot run engine-preempt-3: its bug depth is 4 (three ordering constraints), beyond PCT depth 3's guarantee"
    );
    // An expected violation found is a pass, noted with its saved schedule.
    assert_eq!(
        xpath(
            &xml,
            "count(//testcase[@classname='self-opposite-locks'][@name='loom bound 0-2']/*)"
        ),
        "0"
    );
    let notes = xpath(
        &xml,
        "string(//testsuite[@name='self-opposite-locks']/system-out)",
    );
    let saved = xpath(
        &xml,
        "string(//testsuite[@name='self-opposite-locks']/properties/property[@name='loom.schedule']/@value)",
    );
    assert!(Path::new(&saved).is_file(), "{saved:?} was saved");
    assert!(
        notes.contains("loom: PASS, deadlock found as expected")
            && notes.contains(&format!("saved:  {saved}")),
        "{notes}"
    );
}

/// Expected verdicts not met are failures with the message; the exit code says so too.
#[test]
fn unmet_verdicts_are_failures() {
    let (code, xml) = lockproof(&[
        "check",
        "self-opposite-locks",
        "--engine",
        "random,loom",
        "--budget",
        "1",
        "--loom-budget",
        "1",
        "--bound",
        "0",
        "--no-save",
        "--format",
        "junit",
    ]);
    assert_eq!(code, 1, "{xml}");
    validate(&xml, "a run whose verdicts are not met");
    assert_eq!(xpath(&xml, "count(//testcase/failure)"), "2");
    assert_eq!(
        xpath(&xml, "string(//testsuite/@failures)"),
        "2",
        "the suite counts its failures"
    );
    assert_eq!(
        xpath(
            &xml,
            "string(//testcase[@name='loom bound 0']/failure/@type)"
        ),
        "not-found"
    );
    assert!(xpath(
        &xml,
        "string(//testcase[@name='random seed 1']/failure/@message)"
    )
    .starts_with("expected deadlock, but 1 executions found nothing"));
}

fn settings(engine: EngineKind) -> RunSettings {
    RunSettings {
        engine,
        time: TimeMode::Timed,
        spurious: false,
        crashes: 0,
        pauses: 0,
        pause_span: 0,
        liveness: 0,
        max_steps: 1_000,
        executions: 10,
        seed: 1,
    }
}

/// Text the XML must carry unchanged or, for what XML 1.0 cannot hold, visibly.
const HOSTILE: &str = "a<b> & \"c\" 'd' ]]> tab\there \u{1b}[31m nul\u{0} é → ✓";

/// Markup characters, quotes, control characters and non-ASCII in every field: the document
/// stays valid and an XML reader gets the text back.
#[test]
fn hostile_text_is_escaped() {
    let s = common::scenario("self-opposite-locks");
    let found = Found {
        kind: FailureKind::Violation,
        property: "mutual-exclusion".into(),
        message: HOSTILE.into(),
        report: None,
        schedule: None,
        execution: 3,
        trace: Some(format!(" step  main\n    1  {HOSTILE}\n")),
        preemptions: 1,
    };
    let results = vec![
        EngineResult {
            family: Family::Loom,
            outcome: RunOutcome {
                found: Some(found),
                executions: 3,
                elapsed: Duration::from_millis(1_234),
                ..RunOutcome::nothing(settings(EngineKind::Loom { bound: Some(1) }))
            },
            verdict: Verdict::Unmet(format!("expected to hold, found {HOSTILE}")),
            saved: Some(PathBuf::from("corpus/schedules/x & y/<loom>.schedule")),
            already_saved: None,
        },
        EngineResult {
            family: Family::Pct,
            outcome: RunOutcome {
                unsupported: Some(HOSTILE.into()),
                ..RunOutcome::nothing(settings(EngineKind::Pct { depth: 1 }))
            },
            verdict: Verdict::Unsupported(HOSTILE.into()),
            saved: None,
            already_saved: None,
        },
    ];
    let xml = junit::render(
        &[Suite {
            scenario: &s,
            results: &results,
            started: SystemTime::now(),
        }],
        &Budget::ci(),
    );
    validate(&xml, "hostile text");
    let visible = HOSTILE
        .replace('\u{1b}', "\\u{1b}")
        .replace('\u{0}', "\\u{0}");
    assert_eq!(
        xpath(&xml, "string(//failure/@message)"),
        format!("expected to hold, found {visible}")
    );
    assert!(xpath(&xml, "string(//skipped)").ends_with(&format!(": {visible}")));
    assert_eq!(xpath(&xml, "string(//failure/@type)"), "violation");
    let body = xpath(&xml, "string(//failure)");
    for needle in [
        "run: loom bound 1, 3 executions",
        &format!("found: mutual-exclusion (violation) at execution 3, 1 preemptions: {visible}"),
        "saved:  corpus/schedules/x & y/<loom>.schedule",
        "replay: lockproof replay corpus/schedules/x & y/<loom>.schedule",
        &format!("    1  {visible}"),
    ] {
        assert!(body.contains(needle), "{needle:?} not in {body}");
    }
    assert_eq!(xpath(&xml, "string(//testcase[failure]/@time)"), "1.234");
}

/// An unwritable `--junit FILE` is found before the run: exit 2, one line.
#[test]
fn unwritable_junit_file_fails_at_once() {
    let out = Command::new(env!("CARGO_BIN_EXE_lockproof"))
        .args([
            "check",
            "self-counter-locked",
            "--no-save",
            "--junit",
            "/nonexistent/folder/results.xml",
        ])
        .current_dir(common::root())
        .output()
        .expect("runs");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("cannot write /nonexistent/folder/results.xml"),
        "{err}"
    );
    assert!(out.stdout.is_empty(), "nothing was checked");
}

//! Text inputs of the CLI that made it go wrong, found by the fuzz targets in `fuzz/` (see
//! fuzz/README.md) or while writing them: scenario-id patterns and catalogue records.

mod common;

use lockproof_cli::{cli, coverage, registry};
use std::sync::mpsc;
use std::time::Duration;

/// Run `f` on its own thread and fail the test when it takes longer than `limit`.
fn within<T: Send + 'static>(limit: Duration, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        // The receiver is gone only when the test already failed.
        let _ = tx.send(f());
    });
    rx.recv_timeout(limit)
        .unwrap_or_else(|e| panic!("no answer within {limit:?}: {e}"))
}

/// The fuzz target `pattern` found this one: 25 stars and 5 characters no id holds. The
/// recursive matcher backtracked through every way of splitting each id among the stars
/// (exponential in the stars: it ran past libFuzzer's 5 s limit on a single pattern).
#[test]
fn many_stars_match_in_bounded_time() {
    let pattern = format!("{}\u{fffd}\u{fffd}\u{7f}\u{2};", "*".repeat(25));
    let all = registry::all();
    let result = within(Duration::from_secs(10), move || {
        cli::select(&all, &[pattern]).map(|s| s.len())
    });
    let e = result.expect_err("no id matches");
    assert!(e.starts_with("no scenario matches"), "{e}");
    assert!(!e.contains('\n'), "{e:?}");
    // Still a glob: stars and question marks where the old matcher matched.
    let stars = "*".repeat(25);
    assert!(cli::glob_match(
        &format!("{stars}ex-1.?-0{stars}"),
        "ex-1.4-03"
    ));
    assert!(cli::glob_match("*", ""));
    assert!(!cli::glob_match("?", ""));
    assert!(cli::glob_match("a*b*c", "abbbc"));
    assert!(!cli::glob_match("a*b*c", "abbbcd"));
}

fn chapter(text: &str) -> coverage::Coverage {
    let mut cov = coverage::Coverage::default();
    coverage::add_chapter(&mut cov, 1, text, &common::root(), &registry::all());
    cov
}

/// A record's id, scenario or test with a newline split a problem over two lines.
#[test]
fn every_problem_is_one_line_whatever_the_record_holds() {
    let cov = chapter(concat!(
        r#"{"id": "ex-1.1-99\nforged: all good"}"#,
        "\n",
        r#"{"id": "ex-1.1-98", "verdict": "holds", "reason": "r", "covered_by": {"scenario": "no\nsuch"}}"#,
        "\n",
        r#"{"id": "ex-1.1-97", "verdict": "holds", "reason": "r", "covered_by": {"test": "x.rs::a\nb"}}"#,
    ));
    assert_eq!(
        cov.problems,
        [
            r#""ex-1.1-99\nforged: all good": no verdict"#,
            r#"ex-1.1-98: scenario "no\nsuch" is not registered"#,
            r#"ex-1.1-97: test "x.rs::a\nb" not found"#,
        ]
    );
}

/// A `violates` verdict names a property: with a newline in it, it was counted under that
/// name and split a row of the coverage table.
#[test]
fn a_violates_verdict_without_a_property_name_is_unknown() {
    let cov = chapter(
        r#"{"id": "ex-1.1-99", "verdict": "violates a\nb", "reason": "r", "covered_by": {"none": "prose"}}"#,
    );
    assert_eq!(
        cov.problems,
        [r#"ex-1.1-99: unknown verdict "violates a\nb""#]
    );
    assert!(cov.chapters[&1].violates.is_empty());
    assert_eq!(coverage::table(&cov).lines().count(), 3);
}

/// A test is looked up in the project only: `/dev/zero::x` was read to the end (it has
/// none: the reader never returned) and `../` left the project (here to come back in,
/// through the project's own folder name, to a file that does hold the test).
#[test]
fn a_test_path_outside_the_project_is_not_read() {
    let root = common::root().canonicalize().expect("the project exists");
    let folder = root.file_name().expect("a folder").to_string_lossy();
    let test = "harness/cli/tests/inputs.rs::a_test_path_outside_the_project_is_not_read";
    let records = [
        "/dev/zero::x".to_owned(),
        format!("../{folder}/{test}"),
        test.to_owned(),
    ]
    .iter()
    .enumerate()
    .map(|(i, t)| {
        serde_json::json!({"id": format!("rule-{i}"), "verdict": "covered", "reason": "r",
            "covered_by": {"test": t}})
        .to_string()
    })
    .collect::<Vec<_>>()
    .join("\n");
    let problems = within(Duration::from_secs(10), move || chapter(&records).problems);
    assert_eq!(
        problems,
        [
            "rule-0: test /dev/zero::x not found".to_owned(),
            format!("rule-1: test ../{folder}/{test} not found"),
        ]
    );
}

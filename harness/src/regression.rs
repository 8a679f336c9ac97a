//! Saved counterexamples as regression tests: every schedule file in a folder replays to
//! the same failure and the same trace, and the trace is a reviewed insta snapshot.

use crate::check::replay;
use crate::child::Runner;
use crate::schedule::ScheduleFile;
use lockproof_scenario::Scenario;
use std::path::{Path, PathBuf};

/// Every `*.schedule` file below `dir` (sorted).
///
/// # Examples
///
/// ```
/// use lockproof_harness::regression::schedule_files;
///
/// let dir = tempfile::tempdir().unwrap();
/// std::fs::create_dir(dir.path().join("Abba")).unwrap();
/// std::fs::write(dir.path().join("Abba/loom-bound1-001.schedule"), "").unwrap();
/// std::fs::write(dir.path().join("notes.txt"), "").unwrap();
/// assert_eq!(schedule_files(dir.path()), [dir.path().join("Abba/loom-bound1-001.schedule")]);
/// ```
pub fn schedule_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "schedule") {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// Replay every schedule file below `dir` against the scenario it names (one of
/// `scenarios`), and panic listing every file that does not reproduce its saved failure
/// with the saved trace. Each trace is also asserted as the insta snapshot
/// `<scenario>__<file stem>` in `snapshots` (review new ones with `cargo insta review`, or
/// accept them with `INSTA_UPDATE=always`). Returns how many files replayed.
///
/// # Examples
///
/// ```no_run
/// // tests/regressions.rs of a crate that keeps its counterexamples in `counterexamples/`
/// # struct Abba;
/// # impl lockproof_harness::Model for Abba { fn run<B: lockproof::backend::Backend>(&self) {} }
/// #[test]
/// fn counterexamples_still_fail_the_same_way() {
///     let models = [lockproof_harness::Check::new(Abba).as_scenario()];
///     lockproof_harness::regression::replay_all(
///         "counterexamples".as_ref(),
///         "counterexamples/snapshots".as_ref(),
///         &models,
///         &lockproof_harness::child::Runner::InProcess,
///     );
/// }
/// ```
#[track_caller]
pub fn replay_all(dir: &Path, snapshots: &Path, scenarios: &[Scenario], runner: &Runner) -> usize {
    let files = schedule_files(dir);
    let mut problems = Vec::new();
    for path in &files {
        let file = match ScheduleFile::load(path) {
            Ok(f) => f,
            Err(e) => {
                problems.push(e);
                continue;
            }
        };
        let name = format!(
            "{}__{}",
            file.scenario,
            path.file_stem().unwrap_or_default().to_string_lossy()
        );
        let expected = file.property.clone();
        let r = match replay(file, scenarios, runner) {
            Ok(r) => r,
            Err(e) => {
                problems.push(format!("{}: {e}", path.display()));
                continue;
            }
        };
        let Some(found) = r.found else {
            problems.push(format!(
                "{}: the execution passed on replay",
                path.display()
            ));
            continue;
        };
        if found.property != expected {
            problems.push(format!(
                "{}: saved {expected}, replay found {}",
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
            snapshot_path => snapshots,
            prepend_module_to_snapshot => false,
            omit_expression => true,
            description => format!("lockproof trace {}", shown(dir, path)),
        }, {
            insta::assert_snapshot!(name, trace);
        });
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    files.len()
}

/// `path` as the snapshot's description shows it: from the folder's own name on, so that
/// the description is the same wherever the repository is checked out.
fn shown(dir: &Path, path: &Path) -> String {
    let rel = path.strip_prefix(dir).unwrap_or(path);
    match dir.file_name() {
        Some(n) => Path::new(n).join(rel).display().to_string(),
        None => rel.display().to_string(),
    }
}

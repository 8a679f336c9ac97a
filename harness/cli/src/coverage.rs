//! `lockproof coverage`: how much of the tutorial the corpus accounts for.
//!
//! Reads `corpus/catalogue/chN.jsonl` (see `corpus/README.md`) and the registered
//! scenarios; prints per chapter the examples, how many are modelled, expected to hold,
//! expected to violate (by property), not a scenario, and the rules covered. `--check`
//! fails when a record has no verdict, reason or coverage, names a scenario or test that
//! does not exist, or a scenario whose expected verdict differs from the record's; and,
//! when the shared catalogue is beside the project, when one of its entries of the covered
//! chapters has no record.

use lockproof_scenario::{Expect, Scenario};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// The chapters the corpus covers.
pub const CHAPTERS: [u32; 9] = [1, 2, 3, 4, 5, 6, 7, 8, 9];

/// One chapter's counts.
#[derive(Debug, Default, Clone)]
pub struct ChapterCounts {
    /// Code examples.
    pub examples: usize,
    /// Examples with a scenario.
    pub modelled: usize,
    /// Examples expected to hold.
    pub holds: usize,
    /// Examples expected to violate, by property.
    pub violates: BTreeMap<String, usize>,
    /// Examples that are not concurrency scenarios.
    pub not_scenario: usize,
    /// Prose rules.
    pub rules: usize,
    /// Rules covered by a test or scenario.
    pub rules_covered: usize,
    /// Rules the tutorial states wrongly.
    pub rules_wrong: usize,
}

/// The coverage of the corpus, and every problem found.
#[derive(Debug, Default)]
pub struct Coverage {
    /// Per chapter.
    pub chapters: BTreeMap<u32, ChapterCounts>,
    /// What is missing or inconsistent.
    pub problems: Vec<String>,
}

fn chapter_of(id: &str) -> Option<u32> {
    id.split('-').nth(1)?.split('.').next()?.parse().ok()
}

/// Whether `spec` (`path/to/file.rs::name`) names a test of the project under `root`. The
/// path must be a relative `.rs` path inside the project and a regular file: a catalogue
/// naming `/dev/zero::x` or `../../etc/passwd::x` names no test (and is not read).
fn test_exists(root: &Path, spec: &str) -> bool {
    let Some((file, name)) = spec.split_once("::") else {
        return false;
    };
    let file = Path::new(file);
    let inside = file
        .components()
        .all(|c| matches!(c, std::path::Component::Normal(_)));
    if !inside || file.extension().is_none_or(|e| e != "rs") {
        return false;
    }
    let path = root.join(file);
    if !std::fs::metadata(&path).is_ok_and(|m| m.is_file()) {
        return false;
    }
    // A test is a `fn`, or a row `name => table();` of a `checks!` macro that makes one.
    std::fs::read_to_string(path)
        .map(|text| text.contains(&format!("fn {name}(")) || text.contains(&format!("{name} => ")))
        .unwrap_or(false)
}

/// Text from a record as a problem shows it: as it is, or quoted and escaped when it holds
/// a control character (a newline would split the one-line problem).
fn shown(text: &str) -> std::borrow::Cow<'_, str> {
    if text.contains(char::is_control) {
        format!("{text:?}").into()
    } else {
        text.into()
    }
}

/// A property name of a `violates <property>` verdict: a word such as `mutual-exclusion`.
fn is_property(name: &str) -> bool {
    !name.is_empty() && !name.contains(|c: char| c.is_whitespace() || c.is_control())
}

/// Compute the coverage of the corpus under `root` against `scenarios`.
///
/// # Examples
///
/// ```
/// use lockproof_cli::{coverage, registry};
///
/// let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
/// let cov = coverage::compute(&root, &registry::all());
/// assert_eq!(cov.chapters.len(), coverage::CHAPTERS.len());
/// ```
pub fn compute(root: &Path, scenarios: &[Scenario]) -> Coverage {
    let mut cov = Coverage::default();
    let mut seen = BTreeSet::new();
    for ch in CHAPTERS {
        let path = root.join(format!("corpus/catalogue/ch{ch}.jsonl"));
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) => {
                cov.problems.push(format!("{}: {e}", path.display()));
                continue;
            }
        };
        seen.extend(add_chapter(&mut cov, ch, &text, root, scenarios));
    }
    // Every entry of the shared catalogue for these chapters has a record.
    let shared = root.join("../shared/catalogue/examples.jsonl");
    if let Ok(text) = std::fs::read_to_string(&shared) {
        for line in text.lines() {
            let Ok(v) = serde_json::from_str::<Value>(line) else {
                continue;
            };
            let id = v["id"].as_str().unwrap_or("");
            if chapter_of(id).is_some_and(|c| CHAPTERS.contains(&c)) && !seen.contains(id) {
                cov.problems.push(format!(
                    "{}: in the shared catalogue, no corpus record",
                    shown(id)
                ));
            }
        }
    }
    cov
}

/// The per-chapter table.
pub fn table(cov: &Coverage) -> String {
    let mut out = String::from(
        "chapter  examples  modelled  holds  violates                              not-a-scenario  rules  covered  wrong\n",
    );
    let mut total = ChapterCounts::default();
    for (ch, c) in &cov.chapters {
        let v: Vec<String> = c.violates.iter().map(|(p, n)| format!("{p} {n}")).collect();
        out.push_str(&format!(
            "{ch:>7}  {:>8}  {:>8}  {:>5}  {:<36}  {:>14}  {:>5}  {:>7}  {:>5}\n",
            c.examples,
            c.modelled,
            c.holds,
            if v.is_empty() {
                "-".to_owned()
            } else {
                v.join(", ")
            },
            c.not_scenario,
            c.rules,
            c.rules_covered,
            c.rules_wrong
        ));
        total.examples += c.examples;
        total.modelled += c.modelled;
        total.holds += c.holds;
        total.not_scenario += c.not_scenario;
        total.rules += c.rules;
        total.rules_covered += c.rules_covered;
        total.rules_wrong += c.rules_wrong;
        for (p, n) in &c.violates {
            *total.violates.entry(p.clone()).or_default() += n;
        }
    }
    let tv: usize = total.violates.values().sum();
    out.push_str(&format!(
        "  total  {:>8}  {:>8}  {:>5}  {:<36}  {:>14}  {:>5}  {:>7}  {:>5}\n",
        total.examples,
        total.modelled,
        total.holds,
        format!("{tv} in all"),
        total.not_scenario,
        total.rules,
        total.rules_covered,
        total.rules_wrong
    ));
    out
}

/// Account for the records of chapter `ch` (the text of `corpus/catalogue/chN.jsonl`, one
/// JSON record a line) in `cov`: its counts, and a one-line problem for every record that
/// is not JSON, lacks a verdict, reason or coverage, or names a scenario or test that does
/// not exist (tests are looked up under `root`). Returns the ids of the records read.
///
/// # Examples
///
/// ```
/// use lockproof_cli::coverage::{add_chapter, Coverage};
///
/// let mut cov = Coverage::default();
/// let text = r#"{"id": "ex-1.1-01", "verdict": "holds", "reason": "r", "covered_by": {"none": "prose"}}
/// not json"#;
/// let ids = add_chapter(&mut cov, 1, text, std::path::Path::new("."), &[]);
/// assert_eq!(ids, ["ex-1.1-01"]);
/// assert_eq!(cov.chapters[&1].examples, 1);
/// assert_eq!(cov.problems.len(), 1);
/// assert!(cov.problems[0].starts_with("ch1.jsonl:2: not JSON"));
/// ```
pub fn add_chapter(
    cov: &mut Coverage,
    ch: u32,
    text: &str,
    root: &Path,
    scenarios: &[Scenario],
) -> Vec<String> {
    let mut seen = Vec::new();
    let counts = cov.chapters.entry(ch).or_default();
    for (n, line) in text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let where_ = format!("ch{ch}.jsonl:{}", n + 1);
        let rec: Value = match serde_json::from_str(line) {
            Ok(v) => v,
            Err(e) => {
                cov.problems.push(format!("{where_}: not JSON: {e}"));
                continue;
            }
        };
        let id = rec["id"].as_str().unwrap_or("").to_owned();
        let name = shown(&id);
        seen.push(id.clone());
        let is_example = id.starts_with("ex-");
        let verdict = rec["verdict"].as_str().unwrap_or("");
        let reason = rec["reason"].as_str().unwrap_or("");
        if is_example {
            counts.examples += 1;
        } else {
            counts.rules += 1;
        }
        if verdict.is_empty() {
            cov.problems.push(format!("{name}: no verdict"));
            continue;
        }
        if reason.trim().is_empty() {
            cov.problems.push(format!("{name}: no reason"));
        }
        // A liveness verdict (livelock, starvation) of the record in its retry-forever form,
        // checked like `covered_by`'s scenario.
        if let Some(live) = rec.get("liveness") {
            let sid = live["scenario"].as_str().unwrap_or("");
            let said = live["verdict"].as_str().unwrap_or("");
            match scenarios.iter().find(|s| s.id == sid) {
                None => cov.problems.push(format!(
                    "{name}: liveness scenario {} is not registered",
                    shown(sid)
                )),
                Some(s) if s.liveness == 0 => cov.problems.push(format!(
                    "{name}: liveness scenario {sid} checks no liveness"
                )),
                Some(s) => {
                    let expected = match s.expect {
                        Expect::Holds => "holds".to_owned(),
                        Expect::Violates(p) => format!("violates {p}"),
                    };
                    if said != expected {
                        cov.problems.push(format!(
                            "{name}: liveness says {said:?}, scenario {sid} expects {expected:?}"
                        ));
                    }
                }
            }
        }
        let by = &rec["covered_by"];
        let mut covered = false;
        if let Some(sid) = by["scenario"].as_str() {
            match scenarios.iter().find(|s| s.id == sid) {
                None => cov
                    .problems
                    .push(format!("{name}: scenario {} is not registered", shown(sid))),
                Some(s) => {
                    covered = true;
                    let expected = match s.expect {
                        Expect::Holds => "holds".to_owned(),
                        Expect::Violates(p) => format!("violates {p}"),
                    };
                    if is_example && verdict != expected {
                        cov.problems.push(format!(
                            "{name}: record says {verdict:?}, scenario {sid} expects {expected:?}"
                        ));
                    }
                }
            }
        } else if let Some(t) = by["test"].as_str() {
            if test_exists(root, t) {
                covered = true;
            } else {
                cov.problems
                    .push(format!("{name}: test {} not found", shown(t)));
            }
        } else if let Some(why) = by["none"].as_str() {
            covered = !why.trim().is_empty();
            if !covered {
                cov.problems
                    .push(format!("{name}: covered_by none without a reason"));
            }
        } else {
            cov.problems.push(format!("{name}: no covered_by"));
        }
        if is_example {
            if by["scenario"].is_string() {
                counts.modelled += 1;
            }
            match verdict {
                "holds" => counts.holds += 1,
                "not-a-scenario" => counts.not_scenario += 1,
                v if v.strip_prefix("violates ").is_some_and(is_property) => {
                    *counts
                        .violates
                        .entry(v["violates ".len()..].to_owned())
                        .or_default() += 1
                }
                other => cov
                    .problems
                    .push(format!("{name}: unknown verdict {other:?}")),
            }
        } else {
            match verdict {
                "covered" => {}
                "rule-wrong" => {
                    counts.rules_wrong += 1;
                    if rec["cpython"].as_str().unwrap_or("").is_empty() {
                        cov.problems
                            .push(format!("{name}: rule-wrong without `cpython`"));
                    }
                }
                other => cov
                    .problems
                    .push(format!("{name}: unknown rule verdict {other:?}")),
            }
            if covered {
                counts.rules_covered += 1;
            }
        }
    }
    seen
}

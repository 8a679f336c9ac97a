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

fn test_exists(root: &Path, spec: &str) -> bool {
    let Some((file, name)) = spec.split_once("::") else {
        return false;
    };
    // A test is a `fn`, or a row `name => table();` of a `checks!` macro that makes one.
    std::fs::read_to_string(root.join(file))
        .map(|text| text.contains(&format!("fn {name}(")) || text.contains(&format!("{name} => ")))
        .unwrap_or(false)
}

/// Compute the coverage of the corpus under `root` against `scenarios`.
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
            seen.insert(id.clone());
            let is_example = id.starts_with("ex-");
            let verdict = rec["verdict"].as_str().unwrap_or("");
            let reason = rec["reason"].as_str().unwrap_or("");
            if is_example {
                counts.examples += 1;
            } else {
                counts.rules += 1;
            }
            if verdict.is_empty() {
                cov.problems.push(format!("{id}: no verdict"));
                continue;
            }
            if reason.trim().is_empty() {
                cov.problems.push(format!("{id}: no reason"));
            }
            // A liveness verdict (livelock, starvation) of the example in its retry-forever
            // form, checked like `covered_by`'s scenario.
            if let Some(live) = rec.get("liveness") {
                let sid = live["scenario"].as_str().unwrap_or("");
                let said = live["verdict"].as_str().unwrap_or("");
                match scenarios.iter().find(|s| s.id == sid) {
                    None => cov
                        .problems
                        .push(format!("{id}: liveness scenario {sid:?} is not registered")),
                    Some(s) if s.liveness == 0 => cov
                        .problems
                        .push(format!("{id}: liveness scenario {sid} checks no liveness")),
                    Some(s) => {
                        let expected = match s.expect {
                            Expect::Holds => "holds".to_owned(),
                            Expect::Violates(p) => format!("violates {p}"),
                        };
                        if said != expected {
                            cov.problems.push(format!(
                                "{id}: liveness says {said:?}, scenario {sid} expects {expected:?}"
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
                        .push(format!("{id}: scenario {sid} is not registered")),
                    Some(s) => {
                        covered = true;
                        let expected = match s.expect {
                            Expect::Holds => "holds".to_owned(),
                            Expect::Violates(p) => format!("violates {p}"),
                        };
                        if is_example && verdict != expected {
                            cov.problems.push(format!(
                                "{id}: record says {verdict:?}, scenario {sid} expects {expected:?}"
                            ));
                        }
                    }
                }
            } else if let Some(t) = by["test"].as_str() {
                if test_exists(root, t) {
                    covered = true;
                } else {
                    cov.problems.push(format!("{id}: test {t} not found"));
                }
            } else if let Some(why) = by["none"].as_str() {
                covered = !why.trim().is_empty();
                if !covered {
                    cov.problems
                        .push(format!("{id}: covered_by none without a reason"));
                }
            } else {
                cov.problems.push(format!("{id}: no covered_by"));
            }
            if is_example {
                if by["scenario"].is_string() {
                    counts.modelled += 1;
                }
                match verdict {
                    "holds" => counts.holds += 1,
                    "not-a-scenario" => counts.not_scenario += 1,
                    v if v.starts_with("violates ") => {
                        *counts
                            .violates
                            .entry(v["violates ".len()..].to_owned())
                            .or_default() += 1
                    }
                    other => cov
                        .problems
                        .push(format!("{id}: unknown verdict {other:?}")),
                }
            } else {
                match verdict {
                    "covered" => {}
                    "rule-wrong" => {
                        counts.rules_wrong += 1;
                        if rec["cpython"].as_str().unwrap_or("").is_empty() {
                            cov.problems
                                .push(format!("{id}: rule-wrong without `cpython`"));
                        }
                    }
                    other => cov
                        .problems
                        .push(format!("{id}: unknown rule verdict {other:?}")),
                }
                if covered {
                    counts.rules_covered += 1;
                }
            }
        }
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
                cov.problems
                    .push(format!("{id}: in the shared catalogue, no corpus record"));
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

//! Every registered scenario gets its expected verdict under loom, shuttle random and
//! shuttle PCT, within the CI budget (`Budget::ci`). A scenario an engine cannot run
//! (loom's thread limit, no choice operator) must say why; it never silently passes.

mod common;

use lockproof_cli::registry;
use lockproof_harness::check::{check_scenario, Verdict};

fn check_all(filter: impl Fn(&str) -> bool) {
    let req = common::request();
    let mut unmet = Vec::new();
    let mut ran = 0;
    for s in registry::all().iter().filter(|s| filter(s.id)) {
        for r in check_scenario(s, &req) {
            match &r.verdict {
                Verdict::Met => ran += 1,
                Verdict::Unsupported(why) => {
                    assert!(!why.is_empty(), "{}: unsupported without a reason", s.id)
                }
                Verdict::Unmet(why) => {
                    unmet.push(format!("{} ({}): {why}", s.id, r.family.as_str()))
                }
            }
        }
    }
    assert!(ran > 0, "no engine run at all");
    assert!(unmet.is_empty(), "verdicts not met:\n{}", unmet.join("\n"));
}

#[test]
fn self_tests_meet_their_verdicts() {
    check_all(|id| id.starts_with("self-"));
}

/// The corpus, one test per chapter, so that the test harness spreads them over the cores.
fn chapter(n: u32) {
    let prefix = format!("ex-{n}.");
    let in_chapter = |id: &str| id.starts_with(&prefix);
    assert!(
        registry::all().iter().any(|s| in_chapter(s.id)),
        "chapter {n} has no scenario"
    );
    check_all(in_chapter);
}

#[test]
fn chapter_1_meets_its_verdicts() {
    chapter(1)
}

#[test]
fn chapter_2_meets_its_verdicts() {
    chapter(2)
}

#[test]
fn chapter_3_meets_its_verdicts() {
    chapter(3)
}

#[test]
fn chapter_5_meets_its_verdicts() {
    chapter(5)
}

#[test]
fn chapter_6_meets_its_verdicts() {
    chapter(6)
}

#[test]
fn chapter_7_meets_its_verdicts() {
    chapter(7)
}

#[test]
fn chapter_8_meets_its_verdicts() {
    chapter(8)
}

#[test]
fn chapter_9_meets_its_verdicts() {
    chapter(9)
}

/// Every other registered scenario: the engine-conformance models, the rule scenarios, and any
/// chapter the tests above do not name (chapter 4 has rules only, as tests).
#[test]
fn the_other_scenarios_meet_their_verdicts() {
    fn in_a_chapter_test(id: &str) -> bool {
        [1, 2, 3, 5, 6, 7, 8, 9]
            .iter()
            .any(|n| id.starts_with(&format!("ex-{n}.")))
    }
    check_all(|id| !id.starts_with("self-") && !in_a_chapter_test(id));
}

#[test]
fn locked_counter_exhausts_loom_space() {
    let s = common::scenario("self-counter-locked");
    let r = check_scenario(&s, &common::request());
    let loom = r
        .iter()
        .find(|r| r.family.as_str() == "loom")
        .expect("loom ran");
    assert_eq!(loom.verdict, Verdict::Met);
    assert!(
        loom.outcome.exhausted,
        "loom should exhaust the space of the locked counter"
    );
}

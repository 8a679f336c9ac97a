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

#[test]
fn corpus_scenarios_meet_their_verdicts() {
    let n = registry::all()
        .iter()
        .filter(|s| !s.id.starts_with("self-"))
        .count();
    if n > 0 {
        check_all(|id| !id.starts_with("self-"));
    }
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

//! Run → save → replay → compare, for one failing scenario per engine, in a scratch folder.

mod common;

use lockproof_cli::registry;
use lockproof_harness::check::{check_scenario, replay, Family, Verdict};
use lockproof_harness::schedule::ScheduleFile;

#[test]
fn run_save_replay_compare() {
    let dir = tempfile::tempdir().expect("scratch folder");
    let s = common::scenario("self-opposite-locks");
    let req = common::request_saving_to(dir.path());
    let results = check_scenario(&s, &req);
    assert_eq!(results.len(), 3);
    for r in results {
        assert_eq!(r.verdict, Verdict::Met, "{}", r.family.as_str());
        let path = r
            .saved
            .unwrap_or_else(|| panic!("{}: nothing saved", r.family.as_str()));
        let file = ScheduleFile::load(&path).expect("readable");
        let original = r.outcome.found.expect("found").trace.expect("trace");
        let again = replay(file, &registry::all(), &common::runner()).expect("replays");
        assert!(
            again.same_trace,
            "{}: trace digest differs",
            r.family.as_str()
        );
        assert_eq!(
            again.found.expect("reproduced").trace.expect("trace"),
            original
        );
        if r.family == Family::Loom {
            assert!(original.contains("deadlock"), "{original}");
        }
    }
    // Saving the same counterexample again writes nothing new.
    let again = check_scenario(&s, &req);
    assert!(again
        .iter()
        .all(|r| r.saved.is_none() && r.already_saved.is_some()));
}

#[test]
fn a_new_counterexample_never_overwrites_an_old_file() {
    let dir = tempfile::tempdir().expect("scratch folder");
    let s = common::scenario("self-counter-unlocked");
    let mut req = common::request_saving_to(dir.path());
    req.families = vec![Family::Random];
    let first = check_scenario(&s, &req).remove(0).saved.expect("saved");
    let before = std::fs::read_to_string(&first).expect("read");
    req.budget.seed = 99;
    let second = check_scenario(&s, &req).remove(0);
    if let Some(p) = second.saved {
        assert_ne!(p, first);
    }
    assert_eq!(std::fs::read_to_string(&first).expect("read"), before);
}

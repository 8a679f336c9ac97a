//! The catalogue reader: any text as a chapter's `corpus/catalogue/chN.jsonl`, accounted for
//! against the real registry (tests looked up in this repository), gives counts and one-line
//! problems, never a panic or a hang; the per-chapter table renders.
#![no_main]

use libfuzzer_sys::fuzz_target;
use lockproof_cli::{coverage, registry, Scenario};
use std::path::Path;
use std::sync::OnceLock;

fn scenarios() -> &'static [Scenario] {
    static ALL: OnceLock<Vec<Scenario>> = OnceLock::new();
    ALL.get_or_init(registry::all)
}

fuzz_target!(|data: &[u8]| {
    // `compute` reads the file as UTF-8 and reports one that is not as a problem.
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut cov = coverage::Coverage::default();
    let ids = coverage::add_chapter(&mut cov, 1, text, &root, scenarios());
    let records = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .filter(|l| serde_json::from_str::<serde_json::Value>(l).is_ok())
        .count();
    assert_eq!(ids.len(), records, "every JSON line is a record");
    for p in &cov.problems {
        assert!(
            !p.contains(['\n', '\r']),
            "a problem of more than one line: {p:?}"
        );
    }
    let table = coverage::table(&cov);
    assert_eq!(
        table.lines().count(),
        3,
        "header, chapter 1, total: {table:?}"
    );
});

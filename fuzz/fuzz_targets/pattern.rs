//! Scenario-id patterns: `cli::glob_match` on any pattern and id agrees with a plain
//! dynamic-programming matcher (and so does bounded work), and `cli::select` over the real
//! registry either selects scenarios that match or refuses with a one-line error.
//! Input: NUL-separated; the first part is an id, the rest are patterns.
#![no_main]

use libfuzzer_sys::fuzz_target;
use lockproof_cli::{cli, registry, Scenario};
use std::sync::OnceLock;

/// `*` any run of characters, `?` one character, anything else itself: table of
/// "pattern[..i] matches id[..j]", O(len(pattern) × len(id)).
fn reference(pattern: &[char], id: &[char]) -> bool {
    let mut row = vec![false; id.len() + 1];
    row[0] = true;
    for &p in pattern {
        let mut next = vec![false; id.len() + 1];
        if p == '*' {
            next[0] = row[0];
        }
        for j in 1..=id.len() {
            next[j] = match p {
                '*' => row[j] || next[j - 1],
                '?' => row[j - 1],
                c => row[j - 1] && id[j - 1] == c,
            };
        }
        row = next;
    }
    row[id.len()]
}

fn scenarios() -> &'static [Scenario] {
    static ALL: OnceLock<Vec<Scenario>> = OnceLock::new();
    ALL.get_or_init(registry::all)
}

fn chars(s: &str) -> Vec<char> {
    s.chars().collect()
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mut parts = text.split('\0');
    let id = parts.next().unwrap_or_default();
    let patterns: Vec<String> = parts.map(str::to_owned).collect();
    for p in &patterns {
        assert_eq!(
            cli::glob_match(p, id),
            reference(&chars(p), &chars(id)),
            "{p:?} against {id:?}"
        );
    }
    match cli::select(scenarios(), &patterns) {
        Ok(chosen) => {
            assert!(
                !chosen.is_empty(),
                "{patterns:?} selected nothing without an error"
            );
            if !patterns.is_empty() && !patterns.iter().any(|p| p == "all") {
                for s in &chosen {
                    assert!(
                        patterns.iter().any(|p| reference(&chars(p), &chars(s.id))),
                        "{} selected by {patterns:?}, which do not match it",
                        s.id
                    );
                }
            }
        }
        Err(e) => assert!(
            !e.contains(['\n', '\r']),
            "{patterns:?}: a rejection of more than one line: {e:?}"
        ),
    }
});

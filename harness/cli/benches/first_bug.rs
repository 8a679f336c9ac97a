//! Time to first bug: for every scenario expected to fail (self-tests and corpus), the
//! executions and seconds until the first failure under shuttle random and PCT (median
//! over 10 seeds) and under loom (bounds 0, 1, 2 in turn; deterministic, one run). Prints a
//! table and writes `target/lockproof-bench/first_bug.json`.

use lockproof_cli::registry;
use lockproof_harness::check::unsupported;
use lockproof_harness::check::Family;
use lockproof_harness::engine::{self, EngineKind, RunOutcome, RunSettings};
use lockproof_scenario::{Expect, Scenario, Spurious};
use std::time::Instant;

const SEEDS: u64 = 10;
const BUDGET: usize = 20_000;

fn settings(s: &Scenario, engine: EngineKind, seed: u64) -> RunSettings {
    RunSettings {
        engine,
        time: s.time,
        spurious: s.spurious == Spurious::On,
        crashes: s.crashes,
        pauses: s.pauses,
        pause_span: lockproof_harness::check::nanos(s.pause_span),
        liveness: s.liveness,
        max_steps: s.max_steps,
        executions: BUDGET,
        seed,
    }
}

fn median(mut v: Vec<f64>) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    v.sort_by(|a, b| a.total_cmp(b));
    Some(v[v.len() / 2])
}

fn first(s: &Scenario, kind: EngineKind, seed: u64) -> (Option<usize>, usize, f64) {
    let t = Instant::now();
    let o: RunOutcome = match kind {
        EngineKind::Loom { .. } => engine::loom::run(&s.body.loom, &settings(s, kind, seed)),
        _ => engine::shuttle::run(&s.body.shuttle, &settings(s, kind, seed)),
    };
    (
        o.found.map(|f| f.execution),
        o.executions,
        t.elapsed().as_secs_f64(),
    )
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let filter = std::env::var("LOCKPROOF_BENCH_FILTER").unwrap_or_default();
    let mut json = Vec::new();
    println!(
        "{:<34} {:>22} {:>22} {:>22}",
        "scenario", "random exec (s)", "pct exec (s)", "loom exec (s)"
    );
    for s in registry::all() {
        if !matches!(s.expect, Expect::Violates(_)) || !s.id.contains(filter.as_str()) {
            continue;
        }
        let mut cells = Vec::new();
        let mut row = serde_json::json!({ "scenario": s.id });
        for (name, kind) in [
            ("random", EngineKind::Random),
            ("pct", EngineKind::Pct { depth: 3 }),
        ] {
            let (mut execs, mut secs, mut missed) = (Vec::new(), Vec::new(), 0);
            for seed in 1..=SEEDS {
                match first(&s, kind, seed) {
                    (Some(n), _, t) => {
                        execs.push(n as f64);
                        secs.push(t);
                    }
                    (None, _, _) => missed += 1,
                }
            }
            let (e, t) = (median(execs), median(secs));
            cells.push(match (e, t) {
                (Some(e), Some(t)) if missed == 0 => format!("{e:.0} ({t:.3})"),
                (Some(e), Some(t)) => format!("{e:.0} ({t:.3}) {missed} miss"),
                _ => "not found".to_owned(),
            });
            row[name] = serde_json::json!({ "median_executions": e, "median_seconds": t, "missed_seeds": missed });
        }
        if let Some(why) = unsupported(&s, Family::Loom) {
            cells.push("not run".to_owned());
            row["loom"] = serde_json::json!({ "unsupported": why });
        } else {
            let mut total = 0;
            let t = Instant::now();
            let mut found = None;
            for bound in 0..=2 {
                let (f, explored, _) = first(&s, EngineKind::Loom { bound: Some(bound) }, 0);
                match f {
                    Some(n) => {
                        found = Some((bound, total + n));
                        break;
                    }
                    None => total += explored,
                }
            }
            let secs = t.elapsed().as_secs_f64();
            cells.push(match found {
                Some((b, n)) => format!("{n} (b{b}, {secs:.3})"),
                None => "not found".to_owned(),
            });
            row["loom"] = serde_json::json!({ "executions": found.map(|f| f.1), "bound": found.map(|f| f.0), "seconds": secs });
        }
        println!(
            "{:<34} {:>22} {:>22} {:>22}",
            s.id, cells[0], cells[1], cells[2]
        );
        json.push(row);
    }
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/lockproof-bench");
    let _ = std::fs::create_dir_all(&dir);
    let _ = std::fs::write(
        dir.join("first_bug.json"),
        serde_json::to_string_pretty(&json).unwrap_or_default(),
    );
}

//! Simulated services against threads: executions per second of scenarios that hold, under
//! shuttle random, in one run: the thread scenarios beside chapter 9's lock scenarios with
//! their faults on (lost messages, pauses, clock jumps as the scenario allows). Scenario
//! ids come from `LOCKPROOF_BENCH_SCENARIOS` (comma-separated) or the defaults below.
//! Prints a table and writes `target/lockproof-bench/services.json`.

use lockproof_cli::registry;
use lockproof_harness::engine::{self, EngineKind, RunSettings};
use lockproof_scenario::{Scenario, Spurious};
use std::time::Instant;

const RUNS: usize = 2_000;
const DEFAULT: &str = "self-counter-locked,ex-1.1-01,ex-9.1-01-fenced,ex-9.1-03,ex-9.3-01-fenced";

fn settings(s: &Scenario, seed: u64) -> RunSettings {
    RunSettings {
        engine: EngineKind::Random,
        time: s.time,
        spurious: s.spurious == Spurious::On,
        crashes: s.crashes,
        pauses: s.pauses,
        pause_span: lockproof_harness::check::nanos(s.pause_span),
        liveness: s.liveness,
        max_steps: s.max_steps,
        executions: RUNS,
        seed,
    }
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let ids = std::env::var("LOCKPROOF_BENCH_SCENARIOS").unwrap_or_else(|_| DEFAULT.to_owned());
    let all = registry::all();
    let mut json = Vec::new();
    println!(
        "{:<30} {:>12} {:>14} {:>10}",
        "scenario", "executions", "executions/s", "failed"
    );
    for id in ids.split(',').map(str::trim).filter(|i| !i.is_empty()) {
        let Some(s) = all.iter().find(|s| s.id == id) else {
            println!("{id:<30} (no such scenario)");
            continue;
        };
        let t = Instant::now();
        let o = engine::shuttle::run(&s.body.shuttle, &settings(s, 1));
        let secs = t.elapsed().as_secs_f64();
        let rate = o.executions as f64 / secs;
        println!(
            "{:<30} {:>12} {:>14.0} {:>10}",
            s.id,
            o.executions,
            rate,
            o.found.is_some()
        );
        json.push(serde_json::json!({
            "scenario": s.id, "executions": o.executions, "seconds": secs,
            "executions_per_second": rate, "failed": o.found.is_some(),
        }));
    }
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/lockproof-bench");
    let _ = std::fs::create_dir_all(&dir);
    let _ = std::fs::write(
        dir.join("services.json"),
        serde_json::to_string_pretty(&json).unwrap_or_default(),
    );
}

//! Harness overhead: executions per second of the same program (two threads increment a
//! counter under a lock) on plain loom / shuttle and through the harness (checked world,
//! monitors, trace), in one run. Both do the same visible operations: a lock taken and
//! released, the counter read and written as engine-visible steps (the model's `Shared`, the
//! plain body's engine atomic), so the ratio is what the checker adds, not a different
//! program's extra steps. Prints a table and writes
//! `target/lockproof-bench/overhead.json`.

use lockproof::backend::checked::TimeMode;
use lockproof_cli::registry;
use lockproof_harness::engine::{self, EngineKind, RunSettings};
use std::time::Instant;

const SHUTTLE_RUNS: usize = 20_000;

/// The same program on the plain engine, with the same visible operations: two threads
/// each take the engine's mutex, read the counter and write it back (the counter an engine
/// atomic, as the checked model's `Shared` is: a read and a write the engine interleaves),
/// and release; main joins them and reads the counter. `$rt` is `loom` or `shuttle`, `$arc`
/// the `Arc` that engine's bodies use.
macro_rules! plain_counter_body {
    ($rt:ident, $arc:path) => {{
        use $arc as Arc;
        use $rt::sync::atomic::{AtomicI64, Ordering::SeqCst};
        let lock = Arc::new($rt::sync::Mutex::new(()));
        let n = Arc::new(AtomicI64::new(0));
        let ts: Vec<_> = (0..2)
            .map(|_| {
                let (lock, n) = (lock.clone(), n.clone());
                $rt::thread::spawn(move || {
                    let _g = lock.lock().unwrap();
                    let v = n.load(SeqCst);
                    n.store(v + 1, SeqCst);
                })
            })
            .collect();
        for t in ts {
            t.join().unwrap();
        }
        assert_eq!(n.load(SeqCst), 2);
    }};
}

fn plain_loom_body() {
    plain_counter_body!(loom, loom::sync::Arc)
}

fn plain_shuttle_body() {
    plain_counter_body!(shuttle, std::sync::Arc)
}

fn rate(executions: usize, secs: f64) -> f64 {
    executions as f64 / secs
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let s = registry::all()
        .into_iter()
        .find(|s| s.id == "self-counter-locked")
        .expect("registered");
    let settings = |engine, executions| RunSettings {
        engine,
        time: TimeMode::Timed,
        spurious: false,
        crashes: 0,
        pauses: 0,
        pause_span: 0,
        liveness: 0,
        max_steps: 20_000,
        executions,
        seed: 1,
    };
    let mut rows = Vec::new();

    // loom, exhaustive (no preemption bound), repeated to get a measurable time.
    let reps = 200;
    let mut plain_execs = 0usize;
    let t = Instant::now();
    for _ in 0..reps {
        let count = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let c = count.clone();
        loom::model::Builder::new().check(move || {
            c.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            plain_loom_body();
        });
        plain_execs += count.load(std::sync::atomic::Ordering::Relaxed);
    }
    let plain_loom = rate(plain_execs, t.elapsed().as_secs_f64());
    let mut harness_execs = 0usize;
    let t = Instant::now();
    for _ in 0..reps {
        let o = engine::loom::run(
            &s.body.loom,
            &settings(EngineKind::Loom { bound: None }, 1_000_000),
        );
        assert!(o.found.is_none() && o.exhausted);
        harness_execs += o.executions;
    }
    let harness_loom = rate(harness_execs, t.elapsed().as_secs_f64());
    rows.push((
        "loom (exhaustive)",
        plain_loom,
        harness_loom,
        plain_execs / reps,
        harness_execs / reps,
    ));

    for (name, kind) in [
        ("shuttle random", EngineKind::Random),
        ("shuttle pct depth 3", EngineKind::Pct { depth: 3 }),
    ] {
        let t = Instant::now();
        match kind {
            EngineKind::Random => shuttle::check_random(plain_shuttle_body, SHUTTLE_RUNS),
            _ => shuttle::check_pct(plain_shuttle_body, SHUTTLE_RUNS, 3),
        }
        let plain = rate(SHUTTLE_RUNS, t.elapsed().as_secs_f64());
        let t = Instant::now();
        let o = engine::shuttle::run(&s.body.shuttle, &settings(kind, SHUTTLE_RUNS));
        assert!(o.found.is_none());
        let harness = rate(o.executions, t.elapsed().as_secs_f64());
        rows.push((name, plain, harness, SHUTTLE_RUNS, o.executions));
    }

    println!(
        "{:<22} {:>16} {:>16} {:>8}",
        "engine", "plain exec/s", "harness exec/s", "ratio"
    );
    let mut json = Vec::new();
    for (name, plain, harness, pe, he) in &rows {
        println!(
            "{name:<22} {plain:>16.0} {harness:>16.0} {:>8.2}",
            plain / harness
        );
        json.push(serde_json::json!({
            "engine": name, "plain_per_s": plain, "harness_per_s": harness,
            "plain_executions": pe, "harness_executions": he,
            "slowdown": plain / harness,
        }));
    }
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/lockproof-bench");
    let _ = std::fs::create_dir_all(&dir);
    let _ = std::fs::write(
        dir.join("overhead.json"),
        serde_json::to_string_pretty(&json).unwrap_or_default(),
    );
}

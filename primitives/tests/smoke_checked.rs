mod support;

use lockproof::backend::checked::{Engine, WorldConfig};
use lockproof::backend::{Backend, JoinHandle, Loom, Shuttle, ShuttleEngine};
use lockproof::{Lock, Shared};
use std::sync::Arc;

fn counter<B: Backend>(locked: bool) {
    let lock = Arc::new(Lock::<B>::new().with_name("lock"));
    let n = Arc::new(Shared::<i64, B>::new(0).with_name("n"));
    let hs: Vec<_> = (0..2)
        .map(|i| {
            let (lock, n) = (lock.clone(), n.clone());
            B::spawn(&format!("t{i}"), move || {
                if locked {
                    let _g = lock.lock();
                    n.set(n.get() + 1);
                } else {
                    n.set(n.get() + 1);
                }
            })
        })
        .collect();
    for h in hs {
        h.join();
    }
    let v = n.get();
    if v != 2 {
        lockproof::backend::checked::violate("no-lost-update", &format!("n == {v}, expected 2"));
    }
}

/// The failure of a loom check of `f` (unbounded), as text, if any.
fn run_loom(f: fn()) -> Option<String> {
    support::loom_with(WorldConfig::default(), None, f)
        .err()
        .map(|r| format!("{:?}", r.failure))
}

/// The failure of 1,000 random shuttle schedules of `f` (seed 1), as text, if any.
fn run_shuttle(f: fn()) -> Option<String> {
    support::shuttle_seeded(WorldConfig::default(), 1_000, 1, f)
        .err()
        .map(|r| format!("{:?}", r.failure))
}

#[test]
fn locked_counter_holds() {
    assert_eq!(run_loom(|| counter::<Loom>(true)), None);
    assert_eq!(run_shuttle(|| counter::<Shuttle>(true)), None);
}

#[test]
fn unlocked_counter_loses_update() {
    let l = run_loom(|| counter::<Loom>(false)).expect("loom finds it");
    assert!(l.contains("no-lost-update"), "{l}");
    let s = run_shuttle(|| counter::<Shuttle>(false)).expect("shuttle finds it");
    assert!(s.contains("no-lost-update"), "{s}");
}

fn opposite<B: Backend>() {
    let a = Arc::new(Lock::<B>::new().with_name("a"));
    let b = Arc::new(Lock::<B>::new().with_name("b"));
    let (a2, b2) = (a.clone(), b.clone());
    let t = B::spawn("t1", move || {
        let _x = a2.lock();
        let _y = b2.lock();
    });
    {
        let _y = b.lock();
        let _x = a.lock();
    }
    t.join();
}

#[test]
fn deadlock_found() {
    let l = run_loom(opposite::<Loom>).expect("loom finds it");
    assert!(l.contains("Deadlock"), "{l}");
    let s = run_shuttle(opposite::<Shuttle>).expect("shuttle finds it");
    assert!(s.contains("Deadlock"), "{s}");
}

fn timed<B: Backend>() {
    let a = Arc::new(Lock::<B>::new());
    a.acquire();
    let a2 = a.clone();
    let t = B::spawn("t1", move || a2.acquire_timeout(0.5).unwrap());
    assert!(!t.join());
    assert_eq!(B::now().0, 500_000_000);
}

#[test]
fn timeouts_fire_in_virtual_time() {
    assert_eq!(run_loom(timed::<Loom>), None);
    assert_eq!(run_shuttle(timed::<Shuttle>), None);
    let _ = <ShuttleEngine as Engine>::NAME;
}

/// A model's own panic fails its execution with `Failure::Panic`, naming the thread and its
/// message (not as an engine error without a report).
#[test]
fn a_panicking_thread_fails_the_execution_with_its_message() {
    use lockproof::backend::checked::{execute, take_last_report, Failure};
    let run = std::panic::catch_unwind(|| {
        shuttle::check_random(
            || {
                execute::<ShuttleEngine>(WorldConfig::default(), None, || {
                    let t = Shuttle::spawn("worker", || panic!("the worker gave up"));
                    t.join();
                })
            },
            1,
        )
    });
    assert!(run.is_err(), "the execution failed");
    let report = take_last_report().expect("a report");
    match report.failure {
        Some(Failure::Panic { thread, message }) => {
            assert_eq!(report.threads[thread.index()], "worker");
            assert!(message.contains("the worker gave up"), "{message}");
        }
        other => panic!("expected a panic failure, found {other:?}"),
    }
}

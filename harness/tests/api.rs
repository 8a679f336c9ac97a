//! The checker as a user calls it from a `#[test]`: a model value, one call, a panic that
//! shows the counterexample, replay, isolation in a child process.

use lockproof::backend::{Backend, JoinHandle};
use lockproof::{Condition, Lock, Shared};
use lockproof_harness::{check, Check, Family, Model};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;

/// Two threads take two locks; `abba` makes them take them in opposite orders.
struct Transfer {
    abba: bool,
}

impl Model for Transfer {
    fn run<B: Backend>(&self) {
        let (a, b) = (
            Arc::new(Lock::<B>::new().with_name("a")),
            Arc::new(Lock::<B>::new().with_name("b")),
        );
        let (a2, b2, abba) = (a.clone(), b.clone(), self.abba);
        let t = B::spawn("t", move || {
            let (first, second) = if abba { (&b2, &a2) } else { (&a2, &b2) };
            let _f = first.lock();
            let _s = second.lock();
        });
        {
            let _a = a.lock();
            let _b = b.lock();
        }
        t.join();
    }
}

/// A bounded buffer of `capacity` items, three producers of one item each and a consumer;
/// `if_wait` checks with `if` around `wait()`.
struct Buffer {
    capacity: usize,
    if_wait: bool,
}

impl Model for Buffer {
    fn run<B: Backend>(&self) {
        let cond = Arc::new(Condition::<B>::new().with_name("cond"));
        let items = Arc::new(Shared::<usize, B>::new(0).with_name("items"));
        let (cap, if_wait) = (self.capacity, self.if_wait);
        let producers: Vec<_> = (0..3)
            .map(|i| {
                let (c, n) = (cond.clone(), items.clone());
                B::spawn(&format!("producer{i}"), move || {
                    let _g = c.lock();
                    if if_wait {
                        if n.get() == cap {
                            c.wait(None).unwrap();
                        }
                    } else {
                        while n.get() == cap {
                            c.wait(None).unwrap();
                        }
                    }
                    n.set(n.get() + 1);
                    assert!(n.get() <= cap, "buffer over capacity: {}", n.get());
                    c.notify_all().unwrap();
                })
            })
            .collect();
        for _ in 0..3 {
            let _g = cond.lock();
            while items.get() == 0 {
                cond.wait(None).unwrap();
            }
            items.set(items.get() - 1);
            cond.notify_all().unwrap();
        }
        producers.into_iter().for_each(|t| t.join());
    }
}

fn panic_text(f: impl FnOnce()) -> String {
    let p = catch_unwind(AssertUnwindSafe(f)).expect_err("the check must fail");
    p.downcast_ref::<String>()
        .cloned()
        .or_else(|| p.downcast_ref::<&str>().map(|s| (*s).to_owned()))
        .unwrap_or_default()
}

#[test]
fn a_correct_model_holds_in_one_call() {
    check(Transfer { abba: false });
    check(Buffer {
        capacity: 1,
        if_wait: false,
    });
}

#[test]
fn a_deadlock_panics_with_trace_schedule_and_replay_command_and_replays() {
    let dir = tempfile::tempdir().expect("temp dir");
    let c = Check::new(Transfer { abba: true }).save_to(dir.path());
    let text = panic_text(|| {
        c.assert_holds();
    });
    assert!(text.contains("deadlock (lock cycle)"), "{text}");
    assert!(text.contains("a.acquire() … blocked"), "the trace: {text}");
    assert!(text.contains("saved:  "), "{text}");
    assert!(text.contains("replay: LOCKPROOF_REPLAY="), "{text}");
    assert!(text.contains("verdict: deadlock"), "{text}");
    // Saved under schedules/<model name>/, replayed by the library.
    let saved = lockproof_harness::regression::schedule_files(dir.path());
    assert!(!saved.is_empty());
    assert!(saved[0].starts_with(dir.path().join("schedules/Transfer")));
    for path in &saved {
        let report = c.replay(path).expect("replays");
        let f = report.failure().expect("the same failure comes back");
        assert!(f.message.contains("deadlock (lock cycle)"), "{}", f.message);
    }
    // A second run finds the same counterexamples and writes nothing new.
    let _ = panic_text(|| {
        c.assert_holds();
    });
    assert_eq!(
        lockproof_harness::regression::schedule_files(dir.path()),
        saved
    );
}

#[test]
fn a_model_carries_its_parameters() {
    let report = Check::new(Buffer {
        capacity: 1,
        if_wait: true,
    })
    .no_save()
    .assert_violates("panic");
    let f = report.failure().expect("found");
    assert!(f.message.contains("buffer over capacity"), "{}", f.message);
    check(Buffer {
        capacity: 2,
        if_wait: true,
    });
}

/// Spawns `n` threads: loom (5 threads with main) cannot run 5 besides main.
struct Many {
    n: usize,
}

impl Model for Many {
    fn run<B: Backend>(&self) {
        let ts: Vec<_> = (0..self.n)
            .map(|i| B::spawn(&format!("t{i}"), || ()))
            .collect();
        ts.into_iter().for_each(|t| t.join());
    }
}

#[test]
fn the_thread_count_is_what_the_model_spawns() {
    let report = Check::new(Many { n: 5 }).no_save().assert_holds();
    let loom = &report.results[0];
    assert_eq!(loom.family, Family::Loom);
    let why = loom.outcome.unsupported.as_deref().unwrap_or("");
    assert!(why.contains("loom runs at most 5 threads"), "{why}");
    assert!(report.results[1..]
        .iter()
        .all(|r| r.outcome.unsupported.is_none()));
    let report = Check::new(Many { n: 3 }).no_save().assert_holds();
    assert!(report
        .results
        .iter()
        .all(|r| r.outcome.unsupported.is_none()));
}

#[test]
fn isolated_runs_in_a_child_of_the_test_binary_find_the_same() {
    let isolated = Check::new(Transfer { abba: true })
        .no_save()
        .isolate()
        .assert_violates("deadlock");
    let here = Check::new(Transfer { abba: true })
        .no_save()
        .assert_violates("deadlock");
    for (a, b) in isolated.results.iter().zip(&here.results) {
        let (fa, fb) = (a.outcome.found.as_ref(), b.outcome.found.as_ref());
        assert_eq!(fa.map(|f| &f.trace), fb.map(|f| &f.trace), "{:?}", a.family);
    }
}

//! Liveness verdicts: a cycle of steps that repeats with the world in the same state is a
//! livelock (every thread keeps stepping, none finishes) or a starvation (one thread is let in
//! and never acquires while another does), shown as a lasso that replays.

use lockproof::backend::{Backend, JoinHandle};
use lockproof::{Lock, Shared};
use lockproof_harness::{Check, Family, Model};
use std::sync::Arc;
use std::time::Duration;

/// Two polite threads: each takes its first lock, tries the other's, and gives way (releases
/// and waits 10 ms) when it is taken; `retries` bounds the attempts (`None`: forever).
struct Polite {
    retries: Option<u32>,
}

impl Model for Polite {
    fn run<B: Backend>(&self) {
        let a = Arc::new(Lock::<B>::new().with_name("a"));
        let b = Arc::new(Lock::<B>::new().with_name("b"));
        let retries = self.retries;
        let worker = move |first: Arc<Lock<B>>, second: Arc<Lock<B>>| {
            move || {
                let mut left = retries;
                while left != Some(0) {
                    first.acquire();
                    B::sleep(Duration::from_millis(10));
                    let done = second.try_acquire();
                    if done {
                        second.release().unwrap();
                    }
                    first.release().unwrap();
                    if done {
                        return;
                    }
                    left = left.map(|n| n - 1);
                    B::sleep(Duration::from_millis(10));
                }
            }
        };
        let t = B::spawn("t", worker(a.clone(), b.clone()));
        let u = B::spawn("u", worker(b, a));
        t.join();
        u.join();
    }
}

/// A greedy thread holds the lock 10 ms at a time and takes it back at once, until the
/// victim, which asks for it once, says it got it.
struct Greedy;

impl Model for Greedy {
    fn run<B: Backend>(&self) {
        let lock = Arc::new(Lock::<B>::new().with_name("lock"));
        let got = Arc::new(Shared::<bool, B>::new(false).with_name("got"));
        let (l, g) = (lock.clone(), got.clone());
        let greedy = B::spawn("greedy", move || {
            while !g.get() {
                l.acquire();
                B::sleep(Duration::from_millis(10));
                l.release().unwrap();
            }
        });
        let victim = B::spawn("victim", move || {
            lock.acquire();
            got.set(true);
            lock.release().unwrap();
        });
        greedy.join();
        victim.join();
    }
}

#[test]
fn lock_step_retries_forever_are_a_livelock_with_a_lasso_that_replays() {
    let dir = tempfile::tempdir().unwrap();
    // Not PCT: a lock-step round needs the two threads' priorities to swap every round, and
    // PCT changes priorities only depth - 1 times per execution (it finds nothing here).
    for family in [Family::Dfs, Family::Random] {
        let check = Check::new(Polite { retries: None })
            .liveness(3)
            .engines([family])
            .save_to(dir.path());
        let report = check.assert_violates("livelock");
        let text = report.to_string();
        println!("{text}");
        assert!(text.contains("cycle, copy 1 of 3"), "{text}");
        assert!(text.contains("cycle, copy 3 of 3"), "{text}");
        assert!(text.contains("repeat 3 times"), "{text}");
        let saved = report.saved().expect("the counterexample is saved");
        let replayed = check.replay(saved).unwrap();
        assert_eq!(
            replayed
                .failing()
                .unwrap()
                .outcome
                .found
                .as_ref()
                .unwrap()
                .trace,
            report
                .failing()
                .unwrap()
                .outcome
                .found
                .as_ref()
                .unwrap()
                .trace,
            "the replay shows the same lasso"
        );
    }
}

#[test]
fn a_retry_bound_below_the_repeats_asked_for_is_not_a_livelock() {
    // Two lock-step rounds and both give up: the program ends, the cycle never repeats 3 times.
    Check::new(Polite { retries: Some(2) })
        .liveness(3)
        .engines([Family::Dfs])
        .no_save()
        .assert_holds();
}

#[test]
fn without_liveness_the_same_program_only_runs_out_of_steps() {
    let mut scenario = Check::new(Polite { retries: None }).as_scenario();
    scenario.max_steps = 2_000;
    Check::scenario(scenario)
        .engines([Family::Dfs])
        .no_save()
        .assert_violates("step-budget");
}

#[test]
fn a_thread_let_in_but_never_served_is_starved() {
    let report = Check::new(Greedy)
        .liveness(3)
        .engines([Family::Dfs])
        .no_save()
        .assert_violates("starvation");
    let text = report.to_string();
    println!("{text}");
    assert!(text.contains("starvation: victim"), "{text}");
}

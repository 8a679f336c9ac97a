//! Chapter 4 (Semaphore): its claims are prose rules, covered by tests of the primitives
//! (`primitives/tests/rules_ch4.rs`); the one scenario here is the liveness side of a rule
//! the checker found wrong.
//!
//! | id | what | verdict |
//! |---|---|---|
//! | `rule-4.1-15-starvation` | a holder that releases and re-acquires at once, and a waiter | starvation |

use lockproof_scenario::prelude::*;

/// rule-4.1-15 says a release wakes the waiters in queue order; waking is not serving. A
/// holder releases its permit and asks again at once, 10 ms at a time, until the waiter (the
/// only other thread, waiting since the start) says it got the permit.
fn rule_4_1_15_starvation<B: Backend>() {
    let sem = Arc::new(Semaphore::<B>::new(1).unwrap().with_name("sem"));
    let served = Arc::new(Shared::<bool, B>::new(false).with_name("served"));
    let (s, done) = (sem.clone(), served.clone());
    let holder = B::spawn("holder", move || {
        while !done.get() {
            s.acquire();
            B::sleep(Duration::from_millis(10));
            s.release().unwrap();
        }
    });
    let waiter = B::spawn("waiter", move || {
        sem.acquire();
        served.set(true);
        sem.release().unwrap();
    });
    holder.join();
    waiter.join();
}

/// The chapter's scenarios.
pub fn scenarios() -> Vec<Scenario> {
    vec![Scenario::new(
        "rule-4.1-15-starvation",
        "a Semaphore(1) holder releasing and re-acquiring at once, and one waiter",
        bodies!(rule_4_1_15_starvation),
    )
    .violates(
        "starvation",
        "each release wakes the waiter, but the releaser's next acquire takes the permit before \
         the woken waiter runs: the waiter is let in every round and never served",
    )
    .liveness(3)
    .source("rule-4.1-15")]
}

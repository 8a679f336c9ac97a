//! The tutorial's thread examples (chapters 1–6) as lockproof scenarios.
//!
//! One module per chapter; each example `ex-C.S-NN` of the tutorial is a scenario with the
//! same id, modelled as written (same operations, same use of locks, scaled down to at most
//! 4 spawned threads where loom should run it), asserting what the example claims. Where the
//! checker finds a claim false, the scenario expects that violation; its counterexample is
//! saved in `corpus/schedules/` and its trace in `corpus/snapshots/`.
//!
//! Chapter 4 (Semaphore) has prose rules only; they are covered by tests of the primitives
//! (see `corpus/catalogue/ch4.jsonl`), and one rule found wrong has a liveness scenario.

use lockproof_scenario::Scenario;

pub mod ch1_lock;
pub mod ch2_rlock;
pub mod ch3_condition;
pub mod ch4_semaphore;
pub mod ch5_event;
pub mod ch6_barrier;

/// Every scenario of this crate, in tutorial order.
pub fn scenarios() -> Vec<Scenario> {
    let mut v = Vec::new();
    v.extend(ch1_lock::scenarios());
    v.extend(ch2_rlock::scenarios());
    v.extend(ch3_condition::scenarios());
    v.extend(ch4_semaphore::scenarios());
    v.extend(ch5_event::scenarios());
    v.extend(ch6_barrier::scenarios());
    v
}

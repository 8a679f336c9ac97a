//! Engine-conformance models: small programs whose answers are known by construction, so
//! that the engines' claims can be checked (`harness/tests/engines.rs` runs them under every
//! engine on every CI run).
//!
//! | id | built so that | expected |
//! |---|---|---|
//! | `engine-count-NxK` | N threads each make K read-modify-writes of one shared word; every interleaving leaves a different record | holds; exactly (N·K)! / (K!)^N distinct interleavings |
//! | `engine-preempt-P` | thread a writes 1, 2, …; thread b must read them one by one; the failure needs exactly P preemptions (P = 0…3) | violates `preempt-P` |
//! | `engine-account-bad` | SCTBench's account_bad: deposit and withdraw under one lock, a third thread asserts a wrong final balance once both are done | violates `balance` |
//! | `engine-account` | the same with the right balance | holds |
//! | `engine-long-schedule` | two threads make 40,000 untraced read-modify-writes each, then the model fails: a depth-first schedule over 200 KB | violates `long-run` |

use lockproof::backend::RawAtomic;
use lockproof_scenario::prelude::*;
use std::collections::{HashMap, HashSet};
use std::sync::atomic::Ordering::SeqCst;
use std::sync::Mutex;

/// The interleavings each `engine-count-*` model has shown, by scenario id (filled by the
/// models as they run in this process; cleared by [`take_interleavings`]).
static SEEN: Mutex<Option<Seen>> = Mutex::new(None);

/// Scenario id → the records (values read, thread by thread) of its executions.
type Seen = HashMap<&'static str, HashSet<Vec<usize>>>;

/// The distinct interleavings `id` has shown in this process since the last call.
pub fn take_interleavings(id: &str) -> usize {
    let mut seen = SEEN.lock().unwrap_or_else(|e| e.into_inner());
    seen.get_or_insert_with(HashMap::new)
        .remove(id)
        .map_or(0, |s| s.len())
}

fn count<B: Backend, const N: usize, const K: usize>(id: &'static str) {
    let x = Arc::new(B::Atomic::new(0));
    let threads: Vec<_> = (0..N)
        .map(|i| {
            let x = x.clone();
            B::spawn(&format!("t{i}"), move || {
                // Thread i adds (K+1)^i: the values read say who went before whom.
                let w = (K + 1).pow(i as u32);
                (0..K).map(|_| x.fetch_add(w, SeqCst)).collect::<Vec<_>>()
            })
        })
        .collect();
    let record: Vec<usize> = threads.into_iter().flat_map(|t| t.join()).collect();
    let mut seen = SEEN.lock().unwrap_or_else(|e| e.into_inner());
    seen.get_or_insert_with(HashMap::new)
        .entry(id)
        .or_default()
        .insert(record);
}

fn count_2x1<B: Backend>() {
    count::<B, 2, 1>("engine-count-2x1")
}
fn count_2x2<B: Backend>() {
    count::<B, 2, 2>("engine-count-2x2")
}
fn count_2x3<B: Backend>() {
    count::<B, 2, 3>("engine-count-2x3")
}
fn count_3x1<B: Backend>() {
    count::<B, 3, 1>("engine-count-3x1")
}
fn count_3x2<B: Backend>() {
    count::<B, 3, 2>("engine-count-3x2")
}

/// Thread `a` writes 1..=WRITES to `x`; thread `b` fails if it reads 1, 2, …, READS in turn.
/// Reads and writes are read-modify-writes, so no engine can show a stale value: only the
/// schedule decides. The fewest preemptions that fail: `b` must run after each of the
/// first READS writes (a switch away from `a`, a preemption unless that write was `a`'s
/// last) and `a` must run again after each of `b`'s first READS − 1 reads (a preemption).
fn preempt<B: Backend, const WRITES: usize, const READS: usize>(property: &str) {
    let x = Arc::new(B::Atomic::new(0));
    let xa = x.clone();
    let a = B::spawn("a", move || {
        for v in 1..=WRITES {
            xa.swap(v, SeqCst);
        }
    });
    let xb = x.clone();
    let b = B::spawn("b", move || {
        let mut seen = 0;
        for want in 1..=READS {
            if xb.fetch_add(0, SeqCst) != want {
                return false;
            }
            seen = want;
        }
        seen == READS
    });
    a.join();
    let failed = b.join();
    ensure(!failed, property, || {
        format!("b read 1 to {READS} one by one while a wrote them")
    });
}

fn preempt_0<B: Backend>() {
    preempt::<B, 1, 1>("preempt-0")
}
fn preempt_1<B: Backend>() {
    preempt::<B, 2, 1>("preempt-1")
}
fn preempt_2<B: Backend>() {
    preempt::<B, 2, 2>("preempt-2")
}
fn preempt_3<B: Backend>() {
    preempt::<B, 3, 2>("preempt-3")
}

/// SCTBench's account_bad: the balance starts at 1, deposit adds 2, withdraw takes 4; the
/// checker asserts `balance == 2 - 4` once both are done (the bug: it forgets the
/// starting 1).
fn account<B: Backend, const BUGGY: bool>() {
    let lock = Arc::new(Lock::<B>::new().with_name("m"));
    let balance = Arc::new(Shared::<i64, B>::new(1).with_name("balance"));
    let done = Arc::new(Shared::<(bool, bool), B>::new((false, false)).with_name("done"));
    let (l1, b1, d1) = (lock.clone(), balance.clone(), done.clone());
    let checker = B::spawn("check", move || {
        let _m = l1.lock();
        let (dep, wd) = d1.get();
        if dep && wd {
            let v = b1.get();
            let want = if BUGGY { 2 - 4 } else { 1 + 2 - 4 };
            ensure(v == want, "balance", || {
                format!("balance {v} after both, asserted {want}")
            });
        }
    });
    let (l2, b2, d2) = (lock.clone(), balance.clone(), done.clone());
    let deposit = B::spawn("deposit", move || {
        let _m = l2.lock();
        b2.set(b2.get() + 2);
        d2.set((true, d2.get().1));
    });
    let (l3, b3, d3) = (lock, balance, done);
    let withdraw = B::spawn("withdraw", move || {
        let _m = l3.lock();
        b3.set(b3.get() - 4);
        d3.set((d3.get().0, true));
    });
    checker.join();
    deposit.join();
    withdraw.join();
}

fn account_bad<B: Backend>() {
    account::<B, true>()
}
fn account_ok<B: Backend>() {
    account::<B, false>()
}

/// Read-modify-writes of each thread of `engine-long-schedule`.
pub const LONG_ITERATIONS: usize = 40_000;

/// Many scheduling points, few traced steps: raw atomics are not traced, so the schedule is
/// long (one decision per operation) and the trace short.
fn long_schedule<B: Backend>() {
    let x = Arc::new(B::Atomic::new(0));
    let threads: Vec<_> = (0..2)
        .map(|i| {
            let x = x.clone();
            B::spawn(&format!("t{i}"), move || {
                for _ in 0..LONG_ITERATIONS {
                    x.fetch_add(1, SeqCst);
                }
            })
        })
        .collect();
    threads.into_iter().for_each(|t| t.join());
    let n = x.load(SeqCst);
    ensure(false, "long-run", || {
        format!("the model fails on purpose after {n} operations")
    });
}

/// The engine-conformance scenarios.
pub fn scenarios() -> Vec<Scenario> {
    let count = |id, title, body, threads| {
        Scenario::new(id, title, body)
            .holds("no property is asserted; the interleavings are counted")
            .threads(threads)
    };
    let preempt = |id, title, body, property| {
        Scenario::new(id, title, body).violates(property, "b reads a's writes one by one")
    };
    vec![
        count(
            "engine-count-2x1",
            "2 threads, 1 read-modify-write each",
            bodies!(count_2x1),
            2,
        ),
        count(
            "engine-count-2x2",
            "2 threads, 2 read-modify-writes each",
            bodies!(count_2x2),
            2,
        ),
        count(
            "engine-count-2x3",
            "2 threads, 3 read-modify-writes each",
            bodies!(count_2x3),
            2,
        ),
        count(
            "engine-count-3x1",
            "3 threads, 1 read-modify-write each",
            bodies!(count_3x1),
            3,
        ),
        count(
            "engine-count-3x2",
            "3 threads, 2 read-modify-writes each",
            bodies!(count_3x2),
            3,
        ),
        preempt(
            "engine-preempt-0",
            "a failure that needs no preemption",
            bodies!(preempt_0),
            "preempt-0",
        ),
        preempt(
            "engine-preempt-1",
            "a failure that needs 1 preemption",
            bodies!(preempt_1),
            "preempt-1",
        ),
        preempt(
            "engine-preempt-2",
            "a failure that needs 2 preemptions",
            bodies!(preempt_2),
            "preempt-2",
        ),
        preempt(
            "engine-preempt-3",
            "a failure that needs 3 preemptions",
            bodies!(preempt_3),
            "preempt-3",
        )
        .not_for(
            "pct",
            "its bug depth is 4 (three ordering constraints), beyond PCT depth 3's guarantee",
        ),
        Scenario::new(
            "engine-account-bad",
            "SCTBench account_bad: the checker asserts a wrong final balance",
            bodies!(account_bad),
        )
        .violates(
            "balance",
            "once deposit and withdraw are done the balance is 1 + 2 - 4, not 2 - 4",
        )
        .threads(3),
        Scenario::new(
            "engine-account",
            "account_bad with the right balance asserted",
            bodies!(account_ok),
        )
        .holds("the balance is 1 + 2 - 4 once both are done")
        .threads(3),
        Scenario::new(
            "engine-long-schedule",
            "two threads make 40,000 read-modify-writes each, then the model fails",
            bodies!(long_schedule),
        )
        .violates("long-run", "the model fails on purpose")
        .not_for(
            "loom",
            "the run is longer than loom's branch limit (100,000 scheduling points)",
        ),
    ]
}

//! The prose rules of the tutorial's chapter 6 (threading.Barrier), each checked against
//! lockproof's Barrier (CPython 3.11's semantics, SEMANTICS.md §8) on real threads; one
//! test per catalogue record that needs its own, named after it (`rule-6.1-03` →
//! `rule_6_1_03_*`). Records that state what a test of `conformance_barrier.rs` already
//! checks cite that test (`corpus/catalogue/ch6.jsonl` says which).
//!
//! Rules the tutorial states wrongly (rule-6.1-03, 6.1-10, 6.1-12, 6.1-15, 6.1-16) are
//! tested for what CPython actually does.
//!
//! No test sleeps to let another thread block: a party is known to wait when
//! [`Barrier::n_waiting`] counts it; where a test shows that something does *not* happen
//! for a while, it keeps checking, yielding, for that while.

mod support;

use support::{
    assert_waited, barrier, broken, counting, for_a_while, parties, spin_until, A_WHILE,
};

use lockproof::backend::Std;
use lockproof::{Barrier, BarrierAction, Error, PyException};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::Relaxed, Ordering::SeqCst};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Instant;

// ---- 6.1 ---------------------------------------------------------------------------------

/// rule-6.1-01: `parties` is fixed at creation: the same after rounds, abort and reset
/// (Python's property has no setter; the Rust API has none either).
#[test]
fn rule_6_1_01_parties_fixed_for_the_barrier_lifetime() {
    let b = barrier(3);
    assert_eq!(b.parties(), 3);
    for _round in 0..2 {
        parties(3, |_| b.wait().unwrap());
        assert_eq!(b.parties(), 3);
    }
    b.abort();
    assert_eq!(b.parties(), 3);
    b.reset();
    assert_eq!(b.parties(), 3);
}

/// rule-6.1-03 (the tutorial: one-shot by default, reusable through a parameter): wrong. A
/// Barrier built with no options at all is cyclic: after each trip it takes the next
/// generation, each with indices 0..parties.
#[test]
fn rule_6_1_03_barrier_is_cyclic_without_any_parameter() {
    const N: usize = 3;
    const ROUNDS: usize = 5;
    let b = barrier(N);
    let per_round: Vec<Vec<usize>> =
        parties(N, |_| (0..ROUNDS).map(|_| b.wait().unwrap()).collect());
    for r in 0..ROUNDS {
        let mut idx: Vec<usize> = per_round.iter().map(|v| v[r]).collect();
        idx.sort_unstable();
        assert_eq!(idx, vec![0, 1, 2], "round {r}");
    }
    assert!(!b.broken());
    assert_eq!(b.n_waiting(), 0);
}

/// rule-6.1-10 (the tutorial: a timeout raises a 'Timeout' exception): wrong. The waiter
/// whose timeout expires breaks the barrier and gets BrokenBarrierError; so does every
/// other waiter, and every later wait() until reset().
#[test]
fn rule_6_1_10_timeout_breaks_the_barrier_for_every_waiter() {
    let b = barrier(3);
    thread::scope(|s| {
        let patient = s.spawn(|| b.wait());
        spin_until("the patient party waits", || b.n_waiting() == 1);
        let start = Instant::now();
        let r = b.wait_timeout(Some(0.05));
        assert_waited(start, 0.05);
        broken(r);
        broken(patient.join().unwrap());
    });
    assert!(b.broken());
    // The third party, arriving late, fails at once.
    broken(b.wait_timeout(Some(5.0)));
}

/// rule-6.1-12 (the tutorial: the action runs in the thread whose wait() returns 0): wrong.
/// CPython runs it in the last arrival, whose wait() returns parties - 1.
#[test]
fn rule_6_1_12_action_runs_in_the_last_arrival() {
    let ran_in = Arc::new(Mutex::new(Vec::new()));
    let action: BarrierAction = {
        let ran_in = ran_in.clone();
        Box::new(move || {
            ran_in.lock().unwrap().push(thread::current().id());
            Ok(())
        })
    };
    let b = Barrier::<Std>::new(3, Some(action), None).unwrap();
    let got = parties(3, |i| {
        // Arrive in order 0, 1, 2.
        spin_until("the earlier parties wait", || b.n_waiting() == i);
        (b.wait().unwrap(), thread::current().id())
    });
    let ran_in = ran_in.lock().unwrap().clone();
    assert_eq!(ran_in.len(), 1, "the action runs once");
    let (index, _) = got.iter().find(|(_, t)| *t == ran_in[0]).unwrap();
    assert_eq!(*index, 2, "it ran in the thread that got parties - 1");
    let (_, first) = got.iter().find(|(i, _)| *i == 0).unwrap();
    assert_ne!(*first, ran_in[0], "not in the thread that got 0");
}

/// rule-6.1-14: BrokenBarrierError goes to the threads waiting when the barrier is reset or
/// aborted, and to every later wait() while it is broken.
#[test]
fn rule_6_1_14_broken_barrier_error_on_reset_abort_and_while_broken() {
    let b = barrier(2);
    // reset() with a waiter: the waiter gets BrokenBarrierError; the barrier is usable again.
    thread::scope(|s| {
        let w = s.spawn(|| b.wait());
        spin_until("a party waits", || b.n_waiting() == 1);
        b.reset();
        broken(w.join().unwrap());
    });
    assert!(!b.broken());
    // abort() with a waiter: the waiter gets it, and so does every later wait().
    thread::scope(|s| {
        let w = s.spawn(|| b.wait());
        spin_until("a party waits", || b.n_waiting() == 1);
        b.abort();
        broken(w.join().unwrap());
    });
    broken(b.wait());
    broken(b.wait_timeout(Some(1.0)));
    assert!(b.broken());
}

/// rule-6.1-15 (the tutorial: wait() raises TimeoutError when it times out): wrong. It
/// raises threading.BrokenBarrierError, a RuntimeError subclass, with an empty message.
#[test]
fn rule_6_1_15_timeout_raises_broken_barrier_error_not_timeout_error() {
    let b = barrier(2);
    let e = b.wait_timeout(Some(0.01)).unwrap_err();
    assert_eq!(e, Error::BrokenBarrier);
    assert_eq!(e.exception(), PyException::BrokenBarrierError);
    assert_eq!(e.python_repr(), "BrokenBarrierError()");
    assert_eq!(e.to_string(), "");
    assert!(b.broken());
}

/// rule-6.1-16 (the tutorial: a broken barrier must be re-created): wrong. reset() returns
/// the same object to the empty, usable state.
#[test]
fn rule_6_1_16_reset_repairs_a_broken_barrier() {
    let b = barrier(2);
    broken(b.wait_timeout(Some(0.01)));
    assert!(b.broken());
    b.reset();
    assert!(!b.broken());
    let mut idx = parties(2, |_| b.wait().unwrap());
    idx.sort_unstable();
    assert_eq!(idx, vec![0, 1]);
    assert!(!b.broken());
}

// ---- 6.2 ---------------------------------------------------------------------------------

/// rule-6.2-01: everything a party wrote before wait() is visible to every party after
/// wait() returns. The slots are Relaxed atomics: only the barrier orders them.
#[test]
fn rule_6_2_01_writes_before_wait_are_visible_after_it() {
    const N: usize = 4;
    const ROUNDS: usize = 50;
    let b = barrier(N);
    let slots: Vec<AtomicUsize> = (0..N).map(|_| AtomicUsize::new(0)).collect();
    let seen_stale = AtomicBool::new(false);
    parties(N, |i| {
        for round in 1..=ROUNDS {
            slots[i].store(round, Relaxed);
            b.wait().unwrap();
            if slots.iter().any(|s| s.load(Relaxed) < round) {
                seen_stale.store(true, SeqCst);
            }
            b.wait().unwrap();
        }
    });
    assert!(
        !seen_stale.load(SeqCst),
        "a write made before wait() was not seen after it"
    );
}

/// rule-6.2-02: with fewer than `parties` arrivals nobody passes; the last one releases all.
#[test]
fn rule_6_2_02_nobody_passes_until_exactly_parties_arrived() {
    let b = barrier(3);
    let passed = AtomicUsize::new(0);
    thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| {
                b.wait().unwrap();
                passed.fetch_add(1, SeqCst);
            });
        }
        spin_until("two parties wait", || b.n_waiting() == 2);
        assert!(
            for_a_while(A_WHILE, || passed.load(SeqCst) == 0),
            "a party passed with 2 of 3 arrived"
        );
        assert_eq!(b.wait(), Ok(2));
    });
    assert_eq!(passed.load(SeqCst), 2);
}

/// rule-6.2-05: threading.Barrier's parties cannot change; "reconfiguring" means a new
/// barrier, and the old one's waiters must be released by aborting it (they would
/// otherwise wait forever, or until their timeout).
#[test]
fn rule_6_2_05_replacing_a_barrier_needs_abort_for_its_waiters() {
    let old = Arc::new(barrier(2));
    thread::scope(|s| {
        let stranded = s.spawn(|| old.wait());
        spin_until("a party waits on the old barrier", || old.n_waiting() == 1);
        let new = barrier(3);
        // Replacing alone releases no one.
        assert!(for_a_while(A_WHILE, || old.n_waiting() == 1));
        old.abort();
        broken(stranded.join().unwrap());
        let mut idx = parties(3, |_| new.wait().unwrap());
        idx.sort_unstable();
        assert_eq!(idx, vec![0, 1, 2]);
    });
    assert_eq!(old.parties(), 2);
}

// ---- 6.3 ---------------------------------------------------------------------------------

/// rule-6.3-02: the output of phase k is the input of phase k+1: each phase reads what
/// every party wrote in the previous one (Relaxed slots, ordered only by the barrier).
#[test]
fn rule_6_3_02_phase_output_is_the_next_phase_input() {
    const N: usize = 3;
    const PHASES: usize = 10;
    let b = barrier(N);
    let out: Vec<Vec<AtomicUsize>> = (0..=PHASES)
        .map(|_| (0..N).map(|_| AtomicUsize::new(0)).collect())
        .collect();
    for slot in &out[0] {
        slot.store(1, Relaxed);
    }
    parties(N, |i| {
        for k in 1..=PHASES {
            // Phase k: read every party's phase-(k-1) output, write this one's.
            let sum: usize = out[k - 1].iter().map(|s| s.load(Relaxed)).sum();
            out[k][i].store(sum, Relaxed);
            b.wait().unwrap();
        }
    });
    // Every phase-k output is N^k when every read saw the whole previous phase.
    for (k, phase) in out.iter().enumerate() {
        for slot in phase {
            assert_eq!(slot.load(Relaxed), N.pow(k as u32), "phase {k}");
        }
    }
}

/// rule-6.3-03: a party that fails must release its peers; abort() does, at once, with
/// BrokenBarrierError (they have no timeout and would otherwise wait forever).
#[test]
fn rule_6_3_03_abort_releases_peers_of_a_failed_party() {
    let b = barrier(3);
    thread::scope(|s| {
        let peers: Vec<_> = (0..2).map(|_| s.spawn(|| b.wait())).collect();
        spin_until("the peers wait", || b.n_waiting() == 2);
        // The third party fails before wait(): it aborts instead.
        b.abort();
        for p in peers {
            broken(p.join().unwrap());
        }
    });
    assert!(b.broken());
}

// ---- 6.4 ---------------------------------------------------------------------------------

/// rule-6.4-03: the action runs exactly once per round, before any party of the round is
/// released.
#[test]
fn rule_6_4_03_action_runs_once_per_round() {
    const N: usize = 3;
    const ROUNDS: usize = 5;
    let runs = Arc::new(AtomicUsize::new(0));
    let b = Barrier::<Std>::new(N, counting(&runs), None).unwrap();
    parties(N, |_| {
        for round in 1..=ROUNDS {
            b.wait().unwrap();
            // This round's action ran, and the next round's cannot have: it needs this
            // party's next arrival.
            assert_eq!(runs.load(SeqCst), round);
        }
    });
    assert_eq!(runs.load(SeqCst), ROUNDS);
}

/// rule-6.4-09: the barrier runs the action once in every round, so an action that is not
/// idempotent repeats its effect every round.
#[test]
fn rule_6_4_09_action_repeats_every_round() {
    let log = Arc::new(Mutex::new(Vec::new()));
    let action: BarrierAction = {
        let log = log.clone();
        Box::new(move || {
            let mut l = log.lock().unwrap();
            let n = l.len();
            l.push(n);
            Ok(())
        })
    };
    let b = Barrier::<Std>::new(2, Some(action), None).unwrap();
    parties(2, |_| {
        for _ in 0..3 {
            b.wait().unwrap();
        }
    });
    assert_eq!(*log.lock().unwrap(), vec![0, 1, 2]);
}

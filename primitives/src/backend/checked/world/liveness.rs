//! Livelock and starvation: a lasso in the trace — a cycle of steps that repeats, the world in
//! the same state at the start of every copy, while nothing finishes.
//!
//! After each step (when [`WorldConfig::liveness`](super::WorldConfig::liveness) asks for
//! `repeats` copies) the world digests its state as the checker sees it: the step just taken
//! (without its time), every thread's status (a blocked thread's queue and its deadline
//! *relative to now*) and who holds what. When a digest recurs `len` steps later and the last
//! `repeats × len` steps are `repeats` identical copies of one cycle (same threads, objects,
//! operations, arguments and outcomes, each copy shifted by the same span of virtual time,
//! the same digests), the execution has entered a loop the schedule can repeat forever:
//!
//! - a **fair** cycle only: a live thread that could run but takes no step in it is being
//!   ignored by the scheduler, not starved, so such a cycle is not reported;
//! - **starvation** when some thread steps in every copy but never acquires anything while
//!   another does (it is let in infinitely often and never gets what it waits for);
//! - **livelock** otherwise: every thread keeps stepping, none finishes.
//!
//! The checker sees the world, not the program's local variables: a loop whose iterations
//! look the same but count down (a retry limit) is reported once it has repeated `repeats`
//! times. That is why liveness is opt-in per scenario, with the number of copies to see.

use super::super::fxhash::FxHasher;
use super::ids::ThreadId;
use super::threads::Status;
use super::State;
use crate::backend::checked::report::{Failure, Lasso, StepKind, TraceEvent};
use crate::backend::{Arg, Args, Hold};
use std::hash::{Hash, Hasher};

/// The longest cycle looked for, in steps.
const MAX_CYCLE: usize = 2_000;
/// How many earlier steps with the same digest are remembered (a cycle may contain the same
/// digest more than once).
const REMEMBERED: usize = 4;

/// The digests of the steps so far, and where each digest was last seen.
#[derive(Default)]
pub(super) struct Liveness {
    digests: Vec<u64>,
    seen: super::super::fxhash::FxHashMap<u64, Vec<usize>>,
}

impl Liveness {
    /// Record the step just pushed (the last of `st.trace.events`) and look for a lasso
    /// ending with it; `repeats` copies of a cycle are needed.
    pub fn after_step(st: &mut State, repeats: u32) -> Option<Failure> {
        let repeats = repeats.max(2) as usize;
        let n = st.trace.events.len() - 1;
        let digest = state_digest(st, &st.trace.events[n]);
        let live = &mut st.liveness;
        live.digests.push(digest);
        let earlier = live.seen.entry(digest).or_default();
        let candidates: Vec<usize> = earlier.iter().rev().copied().collect();
        earlier.push(n);
        if earlier.len() > REMEMBERED {
            earlier.remove(0);
        }
        for m in candidates {
            let len = n - m;
            if len > MAX_CYCLE || n + 1 < repeats * len {
                continue;
            }
            let start = n + 1 - repeats * len;
            if periodic(&st.trace.events, &st.liveness.digests, start, len) {
                return classify(st, start, len, repeats as u32);
            }
        }
        None
    }
}

/// Whether events `start..` are copies of the `len` events from `start`, each shifted by the
/// same time, with the same digests.
fn periodic(events: &[TraceEvent], digests: &[u64], start: usize, len: usize) -> bool {
    let shift = events[start + len].time.wrapping_sub(events[start].time);
    (start + len..events.len()).all(|j| {
        let (a, b) = (&events[j - len], &events[j]);
        digests[j] == digests[j - len]
            && b.time.wrapping_sub(a.time) == shift
            && a.thread == b.thread
            && a.object == b.object
            && a.op == b.op
            && a.kind == b.kind
            && a.hold == b.hold
            && same_args(&a.args, &b.args, shift)
    })
}

/// Whether two steps' arguments are the same, a deadline (`until t=…`) shifted by `shift`.
fn same_args(a: &Args, b: &Args, shift: u64) -> bool {
    a.0.len() == b.0.len()
        && a.0.iter().zip(&b.0).all(|(x, y)| match (x, y) {
            (Arg::Until(x), Arg::Until(y)) => y.wrapping_sub(*x) == shift,
            (x, y) => x == y,
        })
}

/// A fair cycle's verdict: starvation of a thread that steps but never acquires while another
/// does, else livelock; `None` for an unfair cycle.
fn classify(st: &State, start: usize, len: usize, repeats: u32) -> Option<Failure> {
    let cycle = &st.trace.events[st.trace.events.len() - len..];
    let steps = |t: ThreadId| cycle.iter().any(|e| e.thread == t);
    let acquires = |t: ThreadId| {
        cycle
            .iter()
            .any(|e| e.thread == t && matches!(e.hold, Hold::Acquired | Hold::Restored(_)))
    };
    let live: Vec<ThreadId> = st
        .threads
        .iter()
        .filter(|(_, t)| !t.env && !t.dead && !matches!(t.status, Status::Finished))
        .map(|(i, _)| i)
        .collect();
    // A thread that could run but never does is ignored by this schedule: not a fair cycle.
    if live
        .iter()
        .any(|&t| !steps(t) && matches!(st.threads[t].status, Status::Running))
    {
        return None;
    }
    let lasso = Lasso {
        start,
        len,
        repeats,
    };
    let someone_acquires = live.iter().any(|&t| acquires(t));
    match live.iter().find(|&&t| steps(t) && !acquires(t)) {
        Some(&thread) if someone_acquires => Some(Failure::Starvation { lasso, thread }),
        _ => Some(Failure::Livelock(lasso)),
    }
}

/// The world as the checker sees it just after `event`, without absolute time.
fn state_digest(st: &State, event: &TraceEvent) -> u64 {
    let mut h = FxHasher::default();
    event.thread.hash(&mut h);
    event.object.hash(&mut h);
    event.op.hash(&mut h);
    match &event.kind {
        // The outcome is compared by `periodic`; the digest only narrows the candidates.
        StepKind::Returned(_) => 0u8.hash(&mut h),
        StepKind::Blocked => 1u8.hash(&mut h),
        StepKind::Woken(why) => (2u8, why).hash(&mut h),
        StepKind::Thread(what) => (3u8, what).hash(&mut h),
    }
    hold_code(event.hold).hash(&mut h);
    let now = st.clock.now;
    for (i, t) in st.threads.iter() {
        i.hash(&mut h);
        match &t.status {
            Status::Running => 0u8.hash(&mut h),
            Status::Finished => 1u8.hash(&mut h),
            Status::Blocked(b) => {
                2u8.hash(&mut h);
                b.key.hash(&mut h);
                b.op.hash(&mut h);
                b.deadline.map(|d| d.saturating_sub(now)).hash(&mut h);
            }
        }
    }
    st.holders.digest().hash(&mut h);
    h.finish()
}

fn hold_code(hold: Hold) -> u64 {
    match hold {
        Hold::Nothing => 0,
        Hold::Acquired => 1,
        Hold::Released => 2,
        Hold::ReleasedAll => 3,
        Hold::Restored(n) => 4 + n,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_args_tells_changed_arguments_from_a_shifted_deadline() {
        let a = Args::new().int("n", 1).until(5);
        // The same call one cycle later: its deadline moved with the clock.
        assert!(same_args(&a, &Args::new().int("n", 1).until(8), 3));
        // A deadline that did not move by the cycle's shift is progress, not repetition.
        assert!(!same_args(&a, &Args::new().int("n", 1).until(9), 3));
        // Different values or a different number of arguments are progress too.
        assert!(!same_args(&a, &Args::new().int("n", 2).until(8), 3));
        assert!(!same_args(&a, &Args::new().int("n", 1), 3));
        assert!(same_args(&Args::new(), &Args::new(), 0));
    }
}

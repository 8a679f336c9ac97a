//! Regression: an `Event.wait` must not return `true` for a wakeup meant for an earlier
//! wait. A `set` that ran before a waiter's announcement could reach its `unpark_all` only
//! after that waiter parked again (the next round of a set/wait ping-pong), and the wait
//! returned `true` with no `set` for it. Found on real threads by the Event benchmark (it
//! hung); the checker finds it too once an unpark is a scheduling point of its own.

mod support;

use lockproof::backend::checked::{violate, WorldConfig};
use lockproof::backend::{Backend, JoinHandle, Loom, Shuttle};
use lockproof::threading::Event as StdEvent;
use lockproof::{Event, Shared};
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;

/// Two threads hand two events back and forth; each wait must be answered by the other
/// thread's set of that round.
#[test]
fn ping_pong_waits_never_return_early_on_real_threads() {
    let rounds = 100_000usize;
    let st = Arc::new((
        StdEvent::new(),
        StdEvent::new(),
        AtomicUsize::new(0),
        AtomicUsize::new(0),
    ));
    let s2 = st.clone();
    let pong = std::thread::spawn(move || {
        for i in 0..rounds {
            assert!(s2.0.wait(None).unwrap());
            let sets = s2.2.load(SeqCst);
            assert!(
                sets > i,
                "pong round {i}: e0.wait returned before ping's set {}",
                i + 1
            );
            s2.0.clear();
            s2.3.fetch_add(1, SeqCst);
            s2.1.set();
        }
    });
    for i in 0..rounds {
        st.2.fetch_add(1, SeqCst);
        st.0.set();
        assert!(
            st.1.wait(Some(30.0)).unwrap(),
            "ping round {i}: no set within 30 s"
        );
        let sets = st.3.load(SeqCst);
        assert!(
            sets > i,
            "ping round {i}: e1.wait returned before pong's set {}",
            i + 1
        );
        st.1.clear();
    }
    pong.join().unwrap();
}

fn ping_pong<B: Backend>() {
    let st = Arc::new((
        Event::<B>::new().with_name("e0"),
        Event::<B>::new().with_name("e1"),
    ));
    let done = Arc::new(Shared::<usize, B>::new(0).with_name("pong_rounds"));
    let (s2, d2) = (st.clone(), done.clone());
    let pong = B::spawn("pong", move || {
        for _ in 0..3 {
            s2.0.wait(None).unwrap();
            s2.0.clear();
            d2.update(|r| *r += 1);
            s2.1.set();
        }
    });
    for i in 0..3 {
        st.0.set();
        st.1.wait(None).unwrap();
        let r = done.get();
        if r != i + 1 {
            violate(
                "lockstep",
                &format!("ping round {i}: pong finished {r} rounds"),
            );
        }
        st.1.clear();
    }
    pong.join();
}

#[test]
fn ping_pong_holds_under_the_checker() {
    let r = support::shuttle_with(WorldConfig::default(), 20_000, ping_pong::<Shuttle>);
    assert!(r.is_ok(), "{:?}", r.err().and_then(|r| r.failure));
}

/// A test-only copy of `Event` as it was before the fix: it takes any unpark as "a set
/// ended this wait". Everything else is `Event`'s algorithm (epoch and waiters in one word,
/// one park key).
mod stale {
    use lockproof::backend::{Backend, ObjectTag, ParkRequest, ParkResult, RawAtomic, WaitKind};
    use std::sync::atomic::Ordering::SeqCst;

    const SET: usize = 1;
    const WAITERS: usize = 2;
    const EPOCH: usize = 4;

    fn epoch(word: usize) -> usize {
        word & !(SET | WAITERS)
    }

    pub struct StaleEvent<B: Backend> {
        state: B::Atomic,
        tag: B::Tag,
    }

    impl<B: Backend> StaleEvent<B> {
        pub fn new() -> Self {
            StaleEvent {
                state: B::Atomic::new(0),
                tag: B::Tag::new("Event"),
            }
        }

        pub fn set(&self) {
            let mut cur = self.state.fetch_add(0, SeqCst);
            while cur & SET == 0 {
                let new = epoch(cur).wrapping_add(EPOCH) | SET;
                match self.state.compare_exchange(cur, new, SeqCst, SeqCst) {
                    Ok(_) => {
                        if cur & WAITERS != 0 {
                            B::unpark_all(&self.state);
                        }
                        return;
                    }
                    Err(actual) => cur = actual,
                }
            }
        }

        pub fn clear(&self) {
            let mut cur = self.state.fetch_add(0, SeqCst);
            while cur & SET != 0 {
                match self.state.compare_exchange(cur, epoch(cur), SeqCst, SeqCst) {
                    Ok(_) => return,
                    Err(actual) => cur = actual,
                }
            }
        }

        pub fn wait(&self) {
            let mut cur = self.state.fetch_add(0, SeqCst);
            let seen = loop {
                if cur & SET != 0 {
                    return;
                }
                match self
                    .state
                    .compare_exchange(cur, cur | WAITERS, SeqCst, SeqCst)
                {
                    Ok(_) => break epoch(cur),
                    Err(actual) => cur = actual,
                }
            };
            loop {
                let req = ParkRequest {
                    key: &self.state as *const B::Atomic as usize,
                    tag: &self.tag,
                    op: "wait",
                    kind: WaitKind::Event,
                    deadline: None,
                };
                let no_set_since = || epoch(self.state.fetch_add(0, SeqCst)) == seen;
                match B::park(req, no_set_since) {
                    // The defect: an unpark from a `set` this wait already saw counts.
                    ParkResult::Unparked => return,
                    ParkResult::TimedOut => return,
                    ParkResult::Invalid | ParkResult::Spurious => {
                        if epoch(self.state.fetch_add(0, SeqCst)) != seen {
                            return;
                        }
                    }
                }
            }
        }
    }
}

/// The ping-pong of `ping_pong`, on the stale copy.
fn stale_ping_pong<B: Backend>() {
    use stale::StaleEvent;
    let st = Arc::new((StaleEvent::<B>::new(), StaleEvent::<B>::new()));
    let done = Arc::new(Shared::<usize, B>::new(0).with_name("pong_rounds"));
    let (s2, d2) = (st.clone(), done.clone());
    let pong = B::spawn("pong", move || {
        for _ in 0..2 {
            s2.0.wait();
            s2.0.clear();
            d2.update(|r| *r += 1);
            s2.1.set();
        }
    });
    for i in 0..2 {
        st.0.set();
        st.1.wait();
        let r = done.get();
        if r != i + 1 {
            violate(
                "lockstep",
                &format!("ping round {i}: pong finished {r} rounds"),
            );
        }
        st.1.clear();
    }
    pong.join();
}

/// A wait that returns early breaks the lock-step (`lockstep`), or leaves both threads
/// waiting for a set that already happened (a lost wakeup): either is the stale wakeup's
/// doing, as the fixed `Event` under the same checks has neither.
fn lockstep_violated(r: Result<usize, Box<lockproof::backend::checked::ExecutionReport>>) -> bool {
    use lockproof::backend::checked::Failure;
    match r.err().and_then(|r| r.failure) {
        Some(Failure::Violation { property, .. }) => property == "lockstep",
        Some(Failure::Deadlock(d)) => d.lost_wakeup,
        _ => false,
    }
}

#[test]
fn the_checker_finds_the_stale_wakeup_of_the_old_event_under_shuttle() {
    // Fixed seeds, so the test is deterministic: random, then PCT at depths 2 and 3.
    let r = support::shuttle_seeded(
        WorldConfig::default(),
        20_000,
        1,
        stale_ping_pong::<Shuttle>,
    );
    let failure = r.as_ref().err().and_then(|r| r.failure.clone());
    assert!(
        lockstep_violated(r),
        "shuttle did not find the stale wakeup: {failure:?}"
    );
}

#[test]
fn the_checker_finds_the_stale_wakeup_of_the_old_event_under_loom() {
    support::quiet_panics();
    let r = support::loom_with(WorldConfig::default(), None, stale_ping_pong::<Loom>);
    let failure = r.as_ref().err().and_then(|r| r.failure.clone());
    assert!(
        lockstep_violated(r),
        "loom did not find the stale wakeup: {failure:?}"
    );
}

#[test]
fn the_fixed_event_holds_under_loom() {
    let r = support::loom_with(WorldConfig::default(), Some(2), ping_pong::<Loom>);
    assert!(r.is_ok(), "{:?}", r.err().and_then(|r| r.failure));
}

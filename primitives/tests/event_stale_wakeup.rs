//! Regression: an `Event.wait` must not return `true` for a wakeup meant for an earlier
//! wait. A `set` that ran before a waiter's announcement could reach its `unpark_all` only
//! after that waiter parked again (the next round of a set/wait ping-pong), and the wait
//! returned `true` with no `set` for it. Found on real threads by the Event benchmark (it
//! hung); the checker finds it too once an unpark is a scheduling point of its own.

mod support;

use lockproof::backend::checked::{violate, WorldConfig};
use lockproof::backend::{Backend, JoinHandle, Shuttle};
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

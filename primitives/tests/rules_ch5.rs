//! The prose rules of the tutorial's chapter 5 (threading.Event), each checked against
//! lockproof's Event (CPython 3.11's semantics, SEMANTICS.md §7) on real threads; one test
//! per catalogue record that needs its own, named after it (`rule-5.1-02` →
//! `rule_5_1_02_*`). Records that state the same thing as another cite that record's test
//! (`corpus/catalogue/ch5.jsonl` says which).
//!
//! No test sleeps to let another thread block. Where a waiter must be blocked before the
//! event is set, the setting step is repeated until the waiter has returned (each
//! repetition is as good as the first, so the outcome does not depend on when it blocked);
//! where a test shows that something does *not* happen for a while, it keeps checking,
//! yielding, for that while.
//!
//! One rule (rule-5.2-09, the flag is updated atomically with the wakeup) is a statement
//! about every interleaving; it is checked under loom.

mod support;

use support::{
    assert_waited, for_a_while, loom_with, spin_until, Waiters, A_WHILE, EVENT_TIMEOUTS,
    POLL_TIMEOUTS,
};

use lockproof::backend::checked::WorldConfig;
use lockproof::backend::{Backend, JoinHandle, Loom};
use lockproof::Event;
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

// ---- 5.1 threading.Event ----------------------------------------------------------------

/// rule-5.1-01 (and rule-5.1-04, rule-5.2-12): an Event holds one boolean flag, initially
/// False; `threading.Event()` creates it unset.
#[test]
fn rule_5_1_01_new_event_flag_is_false() {
    let evt: Event = Event::new();
    assert!(!evt.is_set());
    assert_eq!(format!("{evt:?}"), "<threading.Event: unset>");
    // Unset means a poll finds nothing.
    assert_eq!(evt.wait(Some(0.0)), Ok(false));
    assert!(!<Event>::default().is_set());
}

/// rule-5.1-02: once set, the flag stays True until cleared: waiters do not consume it,
/// and later `wait()` calls pass at once.
#[test]
fn rule_5_1_02_set_persists_waiters_do_not_consume_it() {
    let evt = Arc::new(Event::new());
    evt.set();
    // Several rounds of waiters, on several threads: none consumes the flag.
    for _ in 0..3 {
        let w = Waiters::start(&evt, 4, None);
        assert_eq!(w.join(), vec![Ok(true); 4]);
        assert!(evt.is_set());
    }
    // A poll passes too.
    assert_eq!(evt.wait(Some(0.0)), Ok(true));
    evt.clear();
    assert_eq!(evt.wait(Some(0.0)), Ok(false));
}

/// rule-5.1-03: several threads may wait on the same Event at the same time.
#[test]
fn rule_5_1_03_several_threads_wait_on_one_event() {
    let evt = Arc::new(Event::new());
    let w = Waiters::start(&evt, 5, None);
    // All five are in wait() at once: none has returned while the flag is clear.
    assert!(for_a_while(A_WHILE, || w.returned() == 0));
    evt.set();
    assert_eq!(w.join(), vec![Ok(true); 5]);
}

/// rule-5.1-05 (and rule-5.1-09, rule-5.1-18, rule-5.2-06, rule-5.2-07, rule-5.2-10,
/// rule-5.2-22, rule-5.2-23): `set()` makes the flag True and wakes every waiting thread
/// (in no promised order: each returns True).
#[test]
fn rule_5_1_05_set_sets_the_flag_and_wakes_every_waiter() {
    const N: usize = 6;
    let evt = Arc::new(Event::new());
    let w = Waiters::start(&evt, N, None);
    assert!(for_a_while(A_WHILE, || w.returned() == 0));
    evt.set();
    assert!(evt.is_set());
    // One set() is enough for all of them.
    assert_eq!(w.join(), vec![Ok(true); N]);
    assert!(evt.is_set());
}

/// rule-5.1-06 (and rule-5.2-12, rule-5.2-13, rule-5.2-24): `clear()` resets the flag to
/// False, so later `wait()` calls block until the next `set()`.
#[test]
fn rule_5_1_06_clear_makes_later_waits_block_until_the_next_set() {
    let evt = Arc::new(Event::new());
    evt.set();
    evt.clear();
    assert!(!evt.is_set());
    // A timed wait after clear() waits out its timeout.
    let t = Instant::now();
    assert_eq!(evt.wait(Some(0.05)), Ok(false));
    assert_waited(t, 0.05);
    // An untimed waiter after clear() stays blocked until the next set().
    let w = Waiters::start(&evt, 1, None);
    assert!(for_a_while(A_WHILE, || w.returned() == 0));
    evt.set();
    assert_eq!(w.join(), vec![Ok(true)]);
}

/// rule-5.1-07 (and rule-5.2-02, rule-5.2-18): `wait()` blocks the calling thread until the
/// flag becomes True.
#[test]
fn rule_5_1_07_wait_blocks_until_the_flag_is_set() {
    let evt = Arc::new(Event::new());
    let w = Waiters::start(&evt, 1, None);
    assert!(for_a_while(A_WHILE, || w.returned() == 0 && !evt.is_set()));
    evt.set();
    spin_until("the waiter returned", || w.returned() == 1);
    assert_eq!(w.join(), vec![Ok(true)]);
}

/// rule-5.1-08 (and rule-5.2-01): `is_set()` returns the current flag, True after `set()`,
/// False after `clear()`.
#[test]
fn rule_5_1_08_is_set_returns_the_current_flag() {
    let evt: Event = Event::new();
    assert!(!evt.is_set());
    evt.set();
    assert!(evt.is_set());
    evt.clear();
    assert!(!evt.is_set());
    evt.set();
    assert!(evt.is_set());
}

/// rule-5.1-10 (and rule-5.2-08): calling `set()` more than once is safe and has no further
/// effect: the flag stays True and one `clear()` resets it.
#[test]
fn rule_5_1_10_set_is_idempotent() {
    let evt = Arc::new(Event::new());
    let w = Waiters::start(&evt, 3, None);
    evt.set();
    evt.set();
    evt.set();
    assert!(evt.is_set());
    assert_eq!(w.join(), vec![Ok(true); 3]);
    evt.clear();
    assert!(!evt.is_set());
    assert_eq!(evt.wait(Some(0.0)), Ok(false));
}

/// rule-5.1-11 (and rule-5.2-04, rule-5.2-14): an Event can be set and cleared again and
/// again; each round's waiters are released by that round's `set()`.
#[test]
fn rule_5_1_11_event_is_reusable_over_set_clear_rounds() {
    let evt = Arc::new(Event::new());
    for _round in 0..3 {
        evt.clear();
        let w = Waiters::start(&evt, 2, None);
        assert!(for_a_while(A_WHILE, || w.returned() == 0));
        evt.set();
        assert_eq!(w.join(), vec![Ok(true); 2]);
    }
}

/// rule-5.1-12 (and rule-5.2-17): `wait()` returns at once if the event is already set,
/// whatever its timeout (even one too large to wait on); otherwise it blocks.
#[test]
fn rule_5_1_12_wait_on_a_set_event_returns_at_once() {
    let evt: Event = Event::new();
    evt.set();
    for t in EVENT_TIMEOUTS {
        assert_eq!(evt.wait(t), Ok(true), "timeout {t:?}");
    }
    // Clear, it waits (here: out its timeout).
    evt.clear();
    let t = Instant::now();
    assert_eq!(evt.wait(Some(0.02)), Ok(false));
    assert_waited(t, 0.02);
}

/// rule-5.1-13 (and rule-5.2-19): `wait(timeout)` bounds the wait: on a clear event it
/// returns after the timeout. Event's convention (SEMANTICS.md §1.2): zero, negative and
/// NaN timeouts poll; `None` waits forever.
#[test]
fn rule_5_1_13_wait_timeout_bounds_the_wait() {
    let evt: Event = Event::new();
    let t = Instant::now();
    assert_eq!(evt.wait(Some(0.05)), Ok(false));
    assert_waited(t, 0.05);
    // Polls: no waiting at all (unlike Lock.acquire, where -1 waits forever).
    for t in POLL_TIMEOUTS {
        assert_eq!(evt.wait(Some(t)), Ok(false), "timeout {t}");
    }
}

/// rule-5.1-14: `wait()` returns True when the event is set and False when it times out.
#[test]
fn rule_5_1_14_wait_returns_true_if_set_false_on_timeout() {
    let evt = Arc::new(Event::new());
    assert_eq!(evt.wait(Some(0.02)), Ok(false));
    // A timed waiter that a set() reaches in time returns True.
    let w = Waiters::start(&evt, 1, Some(30.0));
    evt.set();
    assert_eq!(w.join(), vec![Ok(true)]);
    assert_eq!(evt.wait(Some(0.02)), Ok(true));
}

/// rule-5.1-15 (and rule-5.2-25): `is_set()` never blocks, even while other threads wait
/// on the event; it answers at once.
#[test]
fn rule_5_1_15_is_set_never_blocks() {
    let evt = Arc::new(Event::new());
    let w = Waiters::start(&evt, 3, None);
    // Many calls while the waiters are (or are getting) blocked: each returns False.
    let t = Instant::now();
    let all_false = (0..10_000).all(|_| !evt.is_set());
    assert!(all_false);
    assert!(
        t.elapsed() < Duration::from_secs(5),
        "is_set() took {:?}",
        t.elapsed()
    );
    evt.set();
    assert!(evt.is_set());
    assert_eq!(w.join(), vec![Ok(true); 3]);
}

/// rule-5.1-16: `is_set()` does not change the event's state, and wakes nobody.
#[test]
fn rule_5_1_16_is_set_does_not_change_the_state() {
    let evt = Arc::new(Event::new());
    let w = Waiters::start(&evt, 2, None);
    assert!(for_a_while(A_WHILE, || !evt.is_set() && w.returned() == 0));
    assert!(!evt.is_set());
    evt.set();
    for _ in 0..100 {
        assert!(evt.is_set());
    }
    assert_eq!(w.join(), vec![Ok(true); 2]);
    assert!(evt.is_set());
}

/// rule-5.1-19 (and rule-5.1-21, rule-5.2-15): a reused event must be cleared between uses:
/// left set, it lets the next round's waiters through at once; cleared, they wait for the
/// next `set()`.
#[test]
fn rule_5_1_19_an_event_left_set_leaks_into_the_next_round() {
    let evt = Arc::new(Event::new());
    // Round 1.
    evt.set();
    // Round 2 without clear(): its waiter passes at once, before any round-2 set().
    let w = Waiters::start(&evt, 1, None);
    assert_eq!(w.join(), vec![Ok(true)]);
    assert_eq!(evt.wait(Some(0.0)), Ok(true));
    // Round 2 after clear(): its waiter waits for round 2's set().
    evt.clear();
    let w = Waiters::start(&evt, 1, None);
    assert!(for_a_while(A_WHILE, || w.returned() == 0));
    evt.set();
    assert_eq!(w.join(), vec![Ok(true)]);
}

// ---- 5.2 set, clear, wait ---------------------------------------------------------------

/// rule-5.2-03: a one-shot event (set once, never cleared) releases every current waiter
/// and every later one.
#[test]
fn rule_5_2_03_one_shot_event_releases_current_and_future_waiters() {
    let evt = Arc::new(Event::new());
    let current = Waiters::start(&evt, 3, None);
    evt.set();
    assert_eq!(current.join(), vec![Ok(true); 3]);
    let later = Waiters::start(&evt, 3, Some(0.0));
    assert_eq!(later.join(), vec![Ok(true); 3]);
}

/// rule-5.2-05 (and rule-5.2-11): `set()` and `clear()` take no arguments and return None
/// (`()`); they act only on the flag.
#[test]
fn rule_5_2_05_set_and_clear_take_nothing_and_return_none() {
    let evt: Event = Event::new();
    let set: fn(&Event) = Event::set;
    let clear: fn(&Event) = Event::clear;
    let r: () = set(&evt);
    assert_eq!(r, ());
    assert!(evt.is_set());
    let r: () = clear(&evt);
    assert_eq!(r, ());
    assert!(!evt.is_set());
}

/// rule-5.2-09: the flag is updated atomically with the wakeup: under every interleaving
/// loom explores, a waiter racing with `set()`, another thread's `set()` and a `clear()`
/// is never left waiting on a set flag, and a wait that a `set()` ended returns True.
#[test]
fn rule_5_2_09_flag_update_is_atomic_with_the_wakeup() {
    fn body<B: Backend>() {
        let evt = Arc::new(Event::<B>::new().with_name("evt"));
        let waiter = {
            let evt = evt.clone();
            B::spawn("waiter", move || evt.wait(None))
        };
        let setter = {
            let evt = evt.clone();
            B::spawn("setter", move || evt.set())
        };
        evt.clear();
        setter.join();
        // The waiter may have passed or not; a final set() releases it if not.
        evt.set();
        let r = waiter.join();
        if r != Ok(true) {
            lockproof::backend::checked::violate("wait-true", &format!("wait() → {r:?}"));
        }
        if !evt.is_set() {
            lockproof::backend::checked::violate("flag", "flag clear after the last set()");
        }
    }
    let explored = loom_with(WorldConfig::default(), Some(3), body::<Loom>)
        .unwrap_or_else(|r| panic!("a loom execution failed: {:?}", r.failure));
    assert!(explored > 1, "loom explored a single interleaving");
}

/// rule-5.2-16: `wait(timeout: Optional[float] = None) -> bool`: the timeout is optional
/// (`None` waits for the event), and the result says whether the event occurred.
#[test]
fn rule_5_2_16_wait_timeout_is_optional_and_the_result_is_a_bool() {
    let evt = Arc::new(Event::new());
    let r: lockproof::Result<bool> = evt.wait(Some(0.01));
    assert_eq!(r, Ok(false));
    let w = Waiters::start(&evt, 1, None);
    evt.set();
    assert_eq!(w.join(), vec![Ok(true)]);
}

/// rule-5.2-20: `wait()` returns True if the event was set during the wait or before the
/// call; a waiter blocked when `set()` ran returns True even if `clear()` ran before it
/// resumed (bpo-13502).
#[test]
fn rule_5_2_20_a_waiter_woken_by_set_returns_true_even_after_clear() {
    let evt = Arc::new(Event::new());
    let w = Waiters::start(&evt, 4, Some(30.0));
    // set(); clear() until every waiter has returned: each was woken by a set() and finds
    // the flag clear again when it runs.
    w.set_clear_until_returned(&evt);
    assert_eq!(w.join(), vec![Ok(true); 4]);
    assert!(!evt.is_set());
    // Set before the call: True at once.
    evt.set();
    assert_eq!(evt.wait(Some(0.0)), Ok(true));
}

/// rule-5.2-21: `wait(timeout)` returns False only when the timeout expired with the event
/// still unset; a set event, or a set() within the timeout, gives True.
#[test]
fn rule_5_2_21_false_only_when_the_timeout_expires_unset() {
    let evt = Arc::new(Event::new());
    let t = Instant::now();
    assert_eq!(evt.wait(Some(0.03)), Ok(false));
    assert_waited(t, 0.03);
    let w = Waiters::start(&evt, 2, Some(30.0));
    evt.set();
    assert_eq!(w.join(), vec![Ok(true); 2]);
    for timeout in [0.0, -1.0, 0.03] {
        assert_eq!(evt.wait(Some(timeout)), Ok(true), "timeout {timeout}");
    }
}

// ---- 5.3 inter-thread communication -----------------------------------------------------

/// rule-5.3-01: an Event is an on/off signal with no payload and no count: several
/// `set()`s collapse into one, and one `clear()` undoes them all.
#[test]
fn rule_5_3_01_sets_collapse_the_event_counts_nothing() {
    let evt = Arc::new(Event::new());
    evt.set();
    evt.set();
    evt.set();
    // Three signals, one state: one clear() removes "all three".
    evt.clear();
    assert!(!evt.is_set());
    assert_eq!(evt.wait(Some(0.0)), Ok(false));
    // And while set, any number of waits pass: nothing is counted down.
    evt.set();
    let w = Waiters::start(&evt, 5, Some(0.0));
    assert_eq!(w.join(), vec![Ok(true); 5]);
}

/// rule-5.3-04: many-to-one needs one Event per producer (or an Event plus a counter): a
/// single Event set by two producers looks the same as one set by one, while one Event
/// per producer tells the consumer each has finished.
#[test]
fn rule_5_3_04_one_event_cannot_count_completions() {
    // One shared event, two producers.
    let shared: Arc<Event> = Arc::new(Event::new());
    let producers: Vec<_> = (0..2)
        .map(|_| {
            let e = shared.clone();
            thread::spawn(move || e.set())
        })
        .collect();
    // The consumer's wait passes as soon as the first producer is done.
    assert_eq!(shared.wait(None), Ok(true));
    for p in producers {
        p.join().unwrap();
    }
    // After both: the same single state as after one.
    let one: Event = Event::new();
    one.set();
    assert_eq!(shared.is_set(), one.is_set());
    assert_eq!(format!("{shared:?}"), format!("{one:?}"));
    // One event per producer: the consumer waits for each.
    let events: Vec<Arc<Event>> = (0..2).map(|_| Arc::new(Event::new())).collect();
    let producers: Vec<_> = events
        .iter()
        .map(|e| {
            let e = e.clone();
            thread::spawn(move || e.set())
        })
        .collect();
    for e in &events {
        assert_eq!(e.wait(None), Ok(true));
    }
    assert!(events.iter().all(|e| e.is_set()));
    for p in producers {
        p.join().unwrap();
    }
}

//! Event under loom (every interleaving up to the preemption bound) and shuttle (random
//! and PCT schedules), in virtual time.

mod support;

use lockproof::backend::{Backend, JoinHandle};
use lockproof::Event;
use std::sync::Arc;
use std::time::Duration;
use support::{check, holds};

const SECOND: u64 = 1_000_000_000;

fn waiters<B: Backend>(event: &Arc<Event<B>>, timeout: Option<f64>) -> Vec<B::JoinHandle<bool>> {
    (0..3)
        .map(|i| {
            let e = event.clone();
            B::spawn(&format!("w{i}"), move || e.wait(timeout).unwrap())
        })
        .collect()
}

/// Checks 97/98 (bpo-13502): three threads blocked in `wait()` when `set(); clear()` runs
/// all return true, and the flag ends clear. Main sleeps 1 s of virtual time first, which
/// passes only once every waiter is blocked.
fn set_then_clear<B: Backend>(timeout: Option<f64>) {
    let event = Arc::new(Event::<B>::new().with_name("e"));
    let ws = waiters(&event, timeout);
    B::sleep(Duration::from_secs(1));
    event.set();
    event.clear();
    for (i, w) in ws.into_iter().enumerate() {
        check(w.join(), "woken-by-set", || {
            format!("waiter {i} blocked when set() ran returned false")
        });
    }
    check(!event.is_set(), "cleared", || "flag still set".into());
    check(B::now().0 == SECOND, "no-timeout", || {
        format!("ended at {} ns", B::now().0)
    });
}

fn set_then_clear_forever<B: Backend>() {
    set_then_clear::<B>(None)
}

fn set_then_clear_timed<B: Backend>() {
    set_then_clear::<B>(Some(5.0))
}

#[test]
fn waiters_blocked_before_set_then_clear_return_true() {
    holds!(2, 300; set_then_clear_forever, set_then_clear_timed);
}

/// Three threads wait with no timeout while main sets the event at any point: every one
/// returns true (a missed wakeup would leave one blocked forever, which the checker
/// reports), and the flag stays set.
fn every_waiter_returns<B: Backend>() {
    let event = Arc::new(Event::<B>::new().with_name("e"));
    let ws = waiters(&event, None);
    event.set();
    for w in ws {
        check(w.join(), "woken", || "wait() returned false".into());
    }
    check(event.is_set(), "set", || "flag clear".into());
    check(event.wait(Some(1e100)) == Ok(true), "set-wait", || {
        "wait(1e100) on a set event".into()
    });
}

#[test]
fn every_waiter_of_a_set_event_returns() {
    holds!(2, 300; every_waiter_returns);
}

/// `wait(1.0)` on a clear event returns false at virtual time 1 s; a `set` at 2 s then
/// finds nobody to wake, and a later wait returns true at once.
fn wait_times_out<B: Backend>() {
    let event = Arc::new(Event::<B>::new());
    let e = event.clone();
    let setter = B::spawn("setter", move || {
        B::sleep(Duration::from_secs(2));
        e.set();
    });
    let r = event.wait(Some(1.0));
    let at = B::now().0;
    check(r == Ok(false) && at == SECOND, "timeout", || {
        format!("wait(1.0) -> {r:?} at {at} ns")
    });
    setter.join();
    check(event.wait(Some(1.0)) == Ok(true), "set", || {
        "wait after set".into()
    });
    check(B::now().0 == 2 * SECOND, "at-once", || {
        format!("{} ns", B::now().0)
    });
}

/// A `set` at 0.5 s ends a `wait(1.0)` with true at 0.5 s.
fn set_before_timeout<B: Backend>() {
    let event = Arc::new(Event::<B>::new());
    let e = event.clone();
    let waiter = B::spawn("waiter", move || (e.wait(Some(1.0)), B::now().0));
    B::sleep(Duration::from_millis(500));
    event.set();
    let (r, at) = waiter.join();
    check(r == Ok(true) && at == SECOND / 2, "woken", || {
        format!("wait(1.0) -> {r:?} at {at} ns")
    });
}

/// Polls never wait: `wait(0)`, `wait(-1)` and `wait(NaN)` on a clear event return false
/// at virtual time 0, while another thread may be setting it.
fn polls_do_not_wait<B: Backend>() {
    let event = Arc::new(Event::<B>::new());
    let e = event.clone();
    let setter = B::spawn("setter", move || e.set());
    for t in [0.0, -1.0, f64::NAN] {
        let was_set = event.is_set();
        let r = event.wait(Some(t));
        check(r.is_ok() && (r == Ok(true) || !was_set), "poll", || {
            format!("wait({t}) -> {r:?}")
        });
    }
    check(B::now().0 == 0, "no-wait", || format!("{} ns", B::now().0));
    setter.join();
}

#[test]
fn timed_waits_run_in_virtual_time() {
    holds!(3, 200; wait_times_out, set_before_timeout, polls_do_not_wait);
}

/// A waiter that was not woken by a set must not return true: with `set(); clear()` done
/// before the waiter starts (joined), its `wait(1.0)` times out with false at 1 s.
fn late_waiter_times_out<B: Backend>() {
    let event = Arc::new(Event::<B>::new());
    let e = event.clone();
    B::spawn("toggler", move || {
        e.set();
        e.clear();
    })
    .join();
    let r = event.wait(Some(1.0));
    check(r == Ok(false) && B::now().0 == SECOND, "not-woken", || {
        format!("wait(1.0) after set/clear -> {r:?} at {} ns", B::now().0)
    });
}

#[test]
fn a_waiter_after_set_and_clear_is_not_woken() {
    holds!(3, 100; late_waiter_times_out);
}

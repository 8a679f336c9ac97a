//! Condition under loom and shuttle: producer/consumer with `wait_for` (also with spurious
//! wakeups injected), the `if`-instead-of-`while` bug caught by injection, FIFO selection
//! of notified waiters, `notify(n)` waking exactly n, full release of a 3-deep RLock
//! during `wait`, and timeouts in virtual time.

mod support;

use lockproof::backend::checked::{violate, WorldConfig};
use lockproof::backend::{Backend, JoinHandle, Loom, Shuttle};
use lockproof::{Condition, ConditionLock, Error, Lock, Shared};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use support::{holds, loom_check, passes, quiet_panics, shuttle_check, shuttle_with};

const SHUTTLE_RUNS: usize = 300;
const SECOND: u64 = 1_000_000_000;
/// loom's preemption bound for the 4-thread scenarios that spin on `n_waiters`: every spin
/// turn is a scheduling point, so bound 3 means ~900k executions (minutes); bound 2 is
/// ~36k (seconds).
const SPIN_BOUND: usize = 2;

fn spurious() -> WorldConfig {
    WorldConfig {
        spurious: true,
        ..Default::default()
    }
}

/// Spin (with a scheduling point per turn) until `done()`: how a checked test waits for an
/// observable state instead of sleeping.
fn until<B: Backend>(mut done: impl FnMut() -> bool) {
    while !done() {
        B::yield_now();
    }
}

// ---- producer / consumer -------------------------------------------------------------

/// A one-slot buffer: the main thread produces 0 and 1, a consumer takes them; both wait
/// with `wait_for`. Over the default RLock, or over a plain Lock.
fn prodcons<B: Backend>(plain: bool) {
    let cv = Arc::new(if plain {
        Condition::<B>::with_lock(Arc::new(Lock::new().with_name("lock"))).with_name("cv")
    } else {
        Condition::<B>::new().with_name("cv")
    });
    let buf = Arc::new(Shared::<Vec<i64>, B>::new(Vec::new()).with_name("buf"));
    let (cv2, buf2) = (cv.clone(), buf.clone());
    let consumer = B::spawn("consumer", move || {
        let mut got = Vec::new();
        for _ in 0..2 {
            let _g = cv2.lock();
            // Returns the predicate's last value itself (an Option), not a bool.
            let head = cv2.wait_for(|| buf2.get().first().copied(), None).unwrap();
            let Some(v) = head else {
                violate(
                    "wait_for",
                    "wait_for without timeout returned a falsy value",
                );
            };
            buf2.update(|b| b.remove(0));
            cv2.notify_one().unwrap();
            got.push(v);
        }
        got
    });
    for i in 0..2 {
        let _g = cv.lock();
        let room = cv.wait_for(|| buf.get().is_empty(), None).unwrap();
        if !room || !buf.get().is_empty() {
            violate("wait_for", "producer passed wait_for with the slot full");
        }
        buf.update(|b| b.push(i));
        cv.notify_all().unwrap();
    }
    let got = consumer.join();
    if got != [0, 1] {
        violate("buffer", &format!("consumer got {got:?}, expected [0, 1]"));
    }
}

fn prodcons_rlock<B: Backend>() {
    prodcons::<B>(false)
}

fn prodcons_lock<B: Backend>() {
    prodcons::<B>(true)
}

#[test]
fn producer_consumer_with_wait_for_holds() {
    holds!(3, SHUTTLE_RUNS; prodcons_rlock, prodcons_lock);
}

#[test]
fn producer_consumer_with_wait_for_survives_spurious_wakeups() {
    passes(shuttle_with(
        spurious(),
        SHUTTLE_RUNS,
        prodcons_rlock::<Shuttle>,
    ));
    passes(shuttle_with(
        spurious(),
        SHUTTLE_RUNS,
        prodcons_lock::<Shuttle>,
    ));
}

// ---- `if` instead of `while` ---------------------------------------------------------

/// The classic bug: the consumer waits with `if`, not in a loop, so a spurious wakeup
/// lets it take from an empty buffer. The producer prepares its item outside the lock.
fn if_not_while<B: Backend>() {
    let cv = Arc::new(Condition::<B>::new().with_name("cv"));
    let items = Arc::new(Shared::<i64, B>::new(0).with_name("items"));
    let made = Arc::new(Shared::<i64, B>::new(0).with_name("made"));
    let (cv2, items2) = (cv.clone(), items.clone());
    let consumer = B::spawn("consumer", move || {
        let _g = cv2.lock();
        if items2.get() == 0 {
            cv2.wait(None).unwrap();
        }
        let n = items2.get();
        if n == 0 {
            violate(
                "spurious-wakeup-safety",
                "the consumer took an item from an empty buffer",
            );
        }
        items2.set(n - 1);
    });
    let (cv3, items3) = (cv.clone(), items.clone());
    let producer = B::spawn("producer", move || {
        made.set(1);
        let _g = cv3.lock();
        items3.set(items3.get() + 1);
        cv3.notify(1).unwrap();
    });
    consumer.join();
    producer.join();
}

#[test]
fn if_instead_of_while_is_caught_by_spurious_wakeups() {
    // Without injection the bug cannot show: only the producer's notify ends the wait.
    passes(loom_check(if_not_while::<Loom>));
    passes(shuttle_check(if_not_while::<Shuttle>, SHUTTLE_RUNS));
    quiet_panics();
    let report = shuttle_with(spurious(), SHUTTLE_RUNS, if_not_while::<Shuttle>)
        .expect_err("shuttle with spurious wakeups catches the if");
    let failure = format!("{:?}", report.failure);
    assert!(failure.contains("spurious-wakeup-safety"), "{failure}");
    assert!(report.spurious_injected > 0, "{report:?}");
}

// ---- FIFO selection ------------------------------------------------------------------

/// Start three waiters, in order: each is queued (`n_waiters`) before the next starts.
/// Each records its index in `order` when it returns.
fn three_waiters<B: Backend>(
    cv: &Arc<Condition<B>>,
    order: &Arc<Shared<Vec<usize>, B>>,
) -> Vec<B::JoinHandle<bool>> {
    (0..3)
        .map(|i| {
            let (cv2, order2) = (cv.clone(), order.clone());
            let h = B::spawn(&format!("w{i}"), move || {
                let _g = cv2.lock();
                let notified = cv2.wait(None).unwrap();
                order2.update(|o| o.push(i));
                notified
            });
            until::<B>(|| cv.n_waiters() == i + 1);
            h
        })
        .collect()
}

/// `notify(1)` three times wakes waiters 0, 1, 2 in that order.
fn fifo<B: Backend>() {
    let cv = Arc::new(Condition::<B>::new().with_name("cv"));
    let order = Arc::new(Shared::<Vec<usize>, B>::new(Vec::new()).with_name("order"));
    let hs = three_waiters(&cv, &order);
    for k in 0..3 {
        {
            let _g = cv.lock();
            cv.notify(1).unwrap();
        }
        until::<B>(|| order.get().len() == k + 1);
        let o = order.get();
        if o[k] != k {
            violate("fifo", &format!("notify #{k} woke waiter {} ({o:?})", o[k]));
        }
    }
    for h in hs {
        if !h.join() {
            violate("fifo", "a notified wait returned false");
        }
    }
}

#[test]
fn notify_wakes_waiters_in_fifo_order() {
    holds!(SPIN_BOUND, SHUTTLE_RUNS; fifo);
}

/// `notify(2)` wakes exactly the first two; the third stays queued until notified.
fn notify_two<B: Backend>() {
    let cv = Arc::new(Condition::<B>::new().with_name("cv"));
    let order = Arc::new(Shared::<Vec<usize>, B>::new(Vec::new()).with_name("order"));
    let hs = three_waiters(&cv, &order);
    {
        let _g = cv.lock();
        cv.notify(2).unwrap();
        if cv.n_waiters() != 1 {
            violate("notify-n", &format!("{} waiters left", cv.n_waiters()));
        }
    }
    until::<B>(|| order.get().len() >= 2);
    let mut first = order.get();
    first.sort_unstable();
    if first != [0, 1] || cv.n_waiters() != 1 {
        violate(
            "notify-n",
            &format!("woken {first:?}, {} still queued", cv.n_waiters()),
        );
    }
    {
        let _g = cv.lock();
        cv.notify_all().unwrap();
    }
    for h in hs {
        if !h.join() {
            violate("notify-n", "a notified wait returned false");
        }
    }
    if order.get().last() != Some(&2) {
        violate("notify-n", "waiter 2 was not the last to return");
    }
}

#[test]
fn notify_two_wakes_exactly_two() {
    holds!(SPIN_BOUND, SHUTTLE_RUNS; notify_two);
}

// ---- RLock held 3 deep ---------------------------------------------------------------

/// The waiter holds the default RLock 3 deep; during `wait` another thread acquires it
/// (check 54); afterwards the waiter's recursion level is 3 again.
fn three_deep<B: Backend>() {
    let cv = Arc::new(Condition::<B>::new().with_name("cv"));
    let cv2 = cv.clone();
    let other = B::spawn("other", move || {
        until::<B>(|| cv2.n_waiters() == 1);
        if cv2.acquire_timeout(1.0) != Ok(true) {
            violate(
                "full-release",
                "the lock was not free while its owner waited",
            );
        }
        cv2.notify(1).unwrap();
        cv2.release().unwrap();
    });
    for _ in 0..3 {
        assert!(cv.acquire());
    }
    let notified = cv.wait(None).unwrap();
    let ConditionLock::RLock(r) = cv.underlying_lock() else {
        unreachable!("Condition::new is over an RLock")
    };
    if !notified || r.recursion_count() != 3 || !cv.is_owned() {
        violate(
            "restore",
            &format!(
                "wait returned {notified}, recursion_count() == {}",
                r.recursion_count()
            ),
        );
    }
    for _ in 0..3 {
        cv.release().unwrap();
    }
    if cv.release() != Err(Error::ReleaseUnacquired) {
        violate("restore", "more than 3 levels were restored");
    }
    other.join();
}

#[test]
fn rlock_three_deep_is_released_and_restored() {
    holds!(3, SHUTTLE_RUNS; three_deep);
}

// ---- timeouts in virtual time --------------------------------------------------------

/// `wait(0.5)` with no notifier returns false 0.5 s later, lock held, queue empty; so does
/// `wait_for` with a false predicate, which calls it exactly twice.
fn times_out<B: Backend>() {
    // In a thread of its own: shuttle's PCT refuses a body that starts no thread.
    B::spawn("waiter", times_out_alone::<B>).join();
}

fn times_out_alone<B: Backend>() {
    let cv = Condition::<B>::new().with_name("cv");
    let _g = cv.lock();
    let t0 = B::now().0;
    let notified = cv.wait(Some(0.5)).unwrap();
    let t1 = B::now().0;
    if notified || t1 - t0 != SECOND / 2 || !cv.is_owned() || cv.n_waiters() != 0 {
        violate(
            "timeout",
            &format!("wait(0.5) -> {notified} after {} ns", t1 - t0),
        );
    }
    let calls = AtomicUsize::new(0);
    let r = cv
        .wait_for(
            || {
                calls.fetch_add(1, Ordering::Relaxed);
                false
            },
            Some(0.5),
        )
        .unwrap();
    let t2 = B::now().0;
    let calls = calls.load(Ordering::Relaxed);
    if r || t2 - t1 != SECOND / 2 || calls != 2 {
        violate(
            "timeout",
            &format!(
                "wait_for(false, 0.5) -> {r} after {} ns, {calls} calls",
                t2 - t1
            ),
        );
    }
}

#[test]
fn wait_times_out_in_virtual_time() {
    holds!(3, SHUTTLE_RUNS; times_out);
}

/// SEMANTICS check 65: waiter A (`wait(0.2)`) times out while the notifier holds the lock
/// past 0.2 s; the notifier's `notify(1)` is consumed by A (still queued), which returns
/// false, and B (`wait(1.0)`) is not woken: it returns false at 1.0 s.
fn timed_out_waiter_consumes_notify<B: Backend>() {
    let cv = Arc::new(Condition::<B>::new().with_name("cv"));
    let waiter = |name: &str, timeout: f64| {
        let cv2 = cv.clone();
        B::spawn(name, move || {
            let _g = cv2.lock();
            let r = cv2.wait(Some(timeout)).unwrap();
            (r, B::now().0)
        })
    };
    let a = waiter("A", 0.2);
    until::<B>(|| cv.n_waiters() == 1);
    let b = waiter("B", 1.0);
    until::<B>(|| cv.n_waiters() == 2);
    {
        let _g = cv.lock();
        B::sleep(Duration::from_millis(300));
        cv.notify(1).unwrap();
        if cv.n_waiters() != 1 {
            violate("check-65", "notify(1) did not take exactly one waiter");
        }
    }
    let (ra, _) = a.join();
    let (rb, tb) = b.join();
    if ra || rb || tb != SECOND {
        violate(
            "check-65",
            &format!("A -> {ra}, B -> {rb} at {tb} ns; expected False, False at 1 s"),
        );
    }
}

#[test]
fn timed_out_waiter_consumes_a_notify() {
    holds!(3, SHUTTLE_RUNS; timed_out_waiter_consumes_notify);
}

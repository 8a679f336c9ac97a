//! Self-test scenarios: each proves one capability of the harness, with its expected
//! verdict (the failing ones keep a saved schedule and a trace snapshot in `corpus/`).
//!
//! | id | shows | expected |
//! |---|---|---|
//! | `self-counter-locked` | a lock-protected counter holds; loom exhausts the space | holds |
//! | `self-counter-unlocked` | the lost update of `n += 1` without a lock is found | no-lost-update |
//! | `self-opposite-locks` | two locks taken in opposite orders deadlock; the cycle is named | deadlock |
//! | `self-if-wait` | `if` instead of `while` around `Condition.wait` is caught with spurious wakeups on | spurious-wakeup-safety |
//! | `self-if-wait-no-injection` | the same code passes without injection (injection is what finds it) | holds |
//! | `self-barrier-no-generation` | a hand-written barrier without a generation count, reused, lets a thread through early | barrier-generation |
//! | `self-retry-timeout` | a retry loop correct only if its timeout fires late enough is caught in adversarial time | retry-succeeds |
//! | `self-retry-timeout-timed` | the same loop passes in timed mode (time only moves when all are blocked) | holds |

use lockproof_scenario::prelude::*;

fn counter<B: Backend, const LOCKED: bool>() {
    let lock = Arc::new(Lock::<B>::new().with_name("lock"));
    let n = Arc::new(Shared::<i64, B>::new(0).with_name("n"));
    let threads: Vec<_> = (1..=2)
        .map(|i| {
            let (lock, n) = (lock.clone(), n.clone());
            B::spawn(&format!("t{i}"), move || {
                if LOCKED {
                    let _with = lock.lock();
                    n.set(n.get() + 1);
                } else {
                    n.set(n.get() + 1);
                }
            })
        })
        .collect();
    for t in threads {
        t.join();
    }
    let v = n.get();
    ensure(v == 2, "no-lost-update", || {
        format!("n == {v} after two increments")
    });
}

fn counter_locked<B: Backend>() {
    counter::<B, true>()
}

fn counter_unlocked<B: Backend>() {
    counter::<B, false>()
}

fn opposite_locks<B: Backend>() {
    let a = Arc::new(Lock::<B>::new().with_name("a"));
    let b = Arc::new(Lock::<B>::new().with_name("b"));
    let (a2, b2) = (a.clone(), b.clone());
    let t1 = B::spawn("t1", move || {
        let _a = a2.lock();
        let _b = b2.lock();
    });
    let (a3, b3) = (a.clone(), b.clone());
    let t2 = B::spawn("t2", move || {
        let _b = b3.lock();
        let _a = a3.lock();
    });
    t1.join();
    t2.join();
}

fn if_wait<B: Backend>() {
    // The consumer checks for an item with `if`, not `while`, around `wait()`: correct only
    // if every wakeup comes from the producer's notify.
    let cond = Arc::new(Condition::<B>::new().with_name("cond"));
    let items = Arc::new(Shared::<Vec<i32>, B>::new(Vec::new()).with_name("items"));
    let (c2, i2) = (cond.clone(), items.clone());
    let consumer = B::spawn("consumer", move || {
        let _with = c2.lock();
        if i2.get().is_empty() {
            let _ = c2.wait(None);
        }
        let v = i2.get();
        ensure(!v.is_empty(), "spurious-wakeup-safety", || {
            "the consumer woke with no item: `if` instead of `while` around wait()".to_owned()
        });
    });
    {
        let _with = cond.lock();
        items.set(vec![1]);
        let _ = cond.notify_one();
    }
    consumer.join();
}

fn barrier_no_generation<B: Backend>() {
    // A barrier written by hand with a shared arrival count and no generation: the last
    // arrival resets the count and opens the gate; the others spin until the gate is open,
    // and the gate is never closed again for the next round.
    const PARTIES: usize = 2;
    let count = Arc::new(Shared::<usize, B>::new(0).with_name("count"));
    let open = Arc::new(Shared::<bool, B>::new(false).with_name("open"));
    let lock = Arc::new(Lock::<B>::new().with_name("lock"));
    let rounds = Arc::new(Rounds::<B>::new("rounds", PARTIES));
    let threads: Vec<_> = (1..=PARTIES)
        .map(|i| {
            let (count, open, lock, rounds) =
                (count.clone(), open.clone(), lock.clone(), rounds.clone());
            B::spawn(&format!("t{i}"), move || {
                for round in 0..2 {
                    rounds.arrive(round);
                    {
                        let _with = lock.lock();
                        let c = count.get() + 1;
                        if c == PARTIES {
                            count.set(0);
                            open.set(true);
                        } else {
                            count.set(c);
                        }
                    }
                    while !open.get() {
                        B::yield_now();
                    }
                    rounds.depart(round);
                }
            })
        })
        .collect();
    for t in threads {
        t.join();
    }
}

fn retry_timeout<B: Backend>() {
    // The holder keeps the lock for 0.5 s; the worker retries twice with a 1 s timeout and
    // assumes the second attempt at the latest succeeds. That is only true if timeouts fire
    // late enough.
    let lock = Arc::new(Lock::<B>::new().with_name("lock"));
    lock.acquire();
    let l2 = lock.clone();
    let worker = B::spawn("worker", move || {
        let mut got = false;
        for _attempt in 0..2 {
            if l2.acquire_timeout(1.0).unwrap_or(false) {
                got = true;
                break;
            }
        }
        ensure(got, "retry-succeeds", || {
            "both attempts timed out".to_owned()
        });
        if got {
            let _ = l2.release();
        }
    });
    B::sleep(std::time::Duration::from_millis(500));
    let _ = lock.release();
    worker.join();
}

/// The self-test scenarios.
pub fn scenarios() -> Vec<Scenario> {
    vec![
        Scenario::new(
            "self-counter-locked",
            "two threads increment a counter under a lock",
            bodies!(counter_locked),
        )
        .holds("every increment happens under the lock"),
        Scenario::new(
            "self-counter-unlocked",
            "two threads increment a counter without a lock",
            bodies!(counter_unlocked),
        )
        .violates(
            "no-lost-update",
            "n += 1 is a read then a write; a switch between them loses an update",
        ),
        Scenario::new(
            "self-opposite-locks",
            "two threads take locks a and b in opposite orders",
            bodies!(opposite_locks),
        )
        .violates(
            "deadlock",
            "t1 holds a and waits for b while t2 holds b and waits for a",
        ),
        Scenario::new(
            "self-if-wait",
            "a consumer waits on a Condition with `if` instead of `while`",
            bodies!(if_wait),
        )
        .violates(
            "spurious-wakeup-safety",
            "a spurious wakeup returns from wait() with no item",
        )
        .spurious()
        .threads(1),
        Scenario::new(
            "self-if-wait-no-injection",
            "the same consumer, without spurious wakeups",
            bodies!(if_wait),
        )
        .holds("without spurious wakeups every return from wait() follows the producer's notify")
        .threads(1),
        Scenario::new(
            "self-barrier-no-generation",
            "a hand-written barrier without a generation count, reused for two rounds",
            bodies!(barrier_no_generation),
        )
        .violates(
            "barrier-generation",
            "the gate opened in round 0 is still open in round 1",
        )
        .max_steps(2_000),
        Scenario::new(
            "self-retry-timeout",
            "a retry loop that needs its timeout to fire late enough",
            bodies!(retry_timeout),
        )
        .violates(
            "retry-succeeds",
            "in adversarial time both 1 s timeouts may fire before the holder's 0.5 s are up",
        )
        .adversarial()
        .threads(1),
        Scenario::new(
            "self-retry-timeout-timed",
            "the same retry loop, timed mode",
            bodies!(retry_timeout),
        )
        .holds("in timed mode the holder's 0.5 s deadline comes before the worker's 1 s")
        .threads(1),
    ]
}

//! Contended groups: more threads than the 2-core machine has cores, all on one primitive.
//!
//! - `contended/lock-4t`, `-8t`: N threads each increment one shared counter under a Lock,
//!   vs `parking_lot::Mutex` and `std::sync::Mutex`; time per critical section.
//! - `contended/rlock-4t`, `-8t`: the same under RLock (depth 1) vs
//!   `parking_lot::ReentrantMutex` (the peer of the uncontended RLock rows).
//! - `contended/condition-notify-all-8`: a notifier publishes a generation and calls
//!   `notify_all`; 8 waiters each wake, see it and acknowledge; one iteration = one
//!   generation that all 8 observed. Peer: `std::sync::Condvar` over a `Mutex`.
//! - `contended/semaphore-4t`: Semaphore(2), 4 threads acquire + release, vs the textbook
//!   `Mutex<usize>` + `Condvar` semaphore below; time per acquire + release.
//!
//! Threads are spawned before the clock starts and line up on a start barrier, so one
//! iteration's time is the work alone, not thread creation (which costs tens of µs).

use criterion::Criterion;
use lockproof::threading::{Condition, Lock, RLock, Semaphore};
use std::cell::Cell;
use std::sync::atomic::AtomicU64;
use std::sync::atomic::Ordering::{Relaxed, SeqCst};
use std::sync::{Arc, Barrier, Condvar, Mutex};
use std::time::{Duration, Instant};

/// `threads` threads (the measuring thread is one of them) each run `f` `iters` times,
/// starting together. Returns the wall time divided by `threads`, so criterion's time per
/// iteration is the wall time per call of `f` across the whole crowd (per critical section).
fn crowd(iters: u64, threads: usize, f: impl Fn() + Send + Sync + Clone + 'static) -> Duration {
    let start = Arc::new(Barrier::new(threads));
    let others: Vec<_> = (1..threads)
        .map(|_| {
            let (f, start) = (f.clone(), start.clone());
            std::thread::spawn(move || {
                start.wait();
                for _ in 0..iters {
                    f();
                }
            })
        })
        .collect();
    start.wait();
    let t0 = Instant::now();
    for _ in 0..iters {
        f();
    }
    for o in others {
        o.join().unwrap();
    }
    t0.elapsed() / threads as u32
}

/// Run `crowd` and check afterwards that every one of the `threads * iters` increments of
/// `count` happened: a lost update would mean the lock let two threads in.
fn counted(
    iters: u64,
    threads: usize,
    count: impl Fn() -> u64,
    f: impl Fn() + Send + Sync + Clone + 'static,
) -> Duration {
    let t = crowd(iters, threads, f);
    assert_eq!(count(), iters * threads as u64, "lost updates");
    t
}

/// lockproof's side of a counter group: `lock` shared by `threads` threads, each calling
/// `enter` (take the lock, bump the counter, release) `iters` times; no update may be lost.
fn ours<L: Send + Sync + 'static>(
    iters: u64,
    threads: usize,
    lock: L,
    enter: fn(&L, &AtomicU64),
) -> Duration {
    let s = Arc::new((lock, AtomicU64::new(0)));
    let s2 = s.clone();
    counted(
        iters,
        threads,
        move || s2.1.load(SeqCst),
        move || enter(&s.0, &s.1),
    )
}

/// The critical section's work: a read and a write the lock must keep together.
fn bump(n: &AtomicU64) {
    n.store(n.load(Relaxed) + 1, Relaxed);
}

fn locks(c: &mut Criterion) {
    for threads in [4usize, 8] {
        let mut g = c.benchmark_group(format!("contended/lock-{threads}t"));
        g.bench_function("lockproof::Lock", |b| {
            b.iter_custom(|iters| {
                ours(iters, threads, Lock::new(), |l, n| {
                    let _g = l.lock();
                    bump(n);
                })
            })
        });
        g.bench_function("parking_lot::Mutex", |b| {
            b.iter_custom(|iters| {
                let m = Arc::new(parking_lot::Mutex::new(0u64));
                let m2 = m.clone();
                counted(iters, threads, move || *m2.lock(), move || *m.lock() += 1)
            })
        });
        g.bench_function("std::sync::Mutex", |b| {
            b.iter_custom(|iters| {
                let m = Arc::new(Mutex::new(0u64));
                let m2 = m.clone();
                counted(
                    iters,
                    threads,
                    move || *m2.lock().unwrap(),
                    move || *m.lock().unwrap() += 1,
                )
            })
        });
        g.finish();
    }
}

fn rlocks(c: &mut Criterion) {
    for threads in [4usize, 8] {
        let mut g = c.benchmark_group(format!("contended/rlock-{threads}t"));
        g.bench_function("lockproof::RLock", |b| {
            b.iter_custom(|iters| {
                ours(iters, threads, RLock::new(), |l, n| {
                    let _g = l.lock();
                    bump(n);
                })
            })
        });
        g.bench_function("parking_lot::ReentrantMutex", |b| {
            b.iter_custom(|iters| {
                let m = Arc::new(parking_lot::ReentrantMutex::new(Cell::new(0u64)));
                let m2 = m.clone();
                counted(
                    iters,
                    threads,
                    move || m2.lock().get(),
                    move || {
                        let g = m.lock();
                        g.set(g.get() + 1);
                    },
                )
            })
        });
        g.finish();
    }
}

/// The waiters of the notify-all group.
const WAITERS: usize = 8;

/// lockproof's side: two conditions over one RLock (Python's default lock for a
/// Condition), one for "a new generation", one for "all waiters saw it", so the notifier's
/// wakeup does not also wake the waiters and the other way round. `generation` and `acked`
/// are only written with the lock held; atomics only because the state is shared.
struct Generations {
    new_gen: Condition,
    all_acked: Condition,
    generation: AtomicU64,
    acked: AtomicU64,
}

/// std's side: the same two conditions over one Mutex holding (generation, acked).
struct StdGenerations {
    m: Mutex<(u64, usize)>,
    new_gen: Condvar,
    all_acked: Condvar,
}

/// `iters` generations: the measuring thread publishes each and waits for its `WAITERS`
/// acknowledgements (threads started before the clock, as in `crowd`).
fn generations<S: Send + Sync + 'static>(
    iters: u64,
    s: Arc<S>,
    notifier: fn(&S, u64),
    waiter: fn(&S, u64),
) -> Duration {
    let start = Arc::new(Barrier::new(WAITERS + 1));
    let waiters: Vec<_> = (0..WAITERS)
        .map(|_| {
            let (s, start) = (s.clone(), start.clone());
            std::thread::spawn(move || {
                start.wait();
                for i in 1..=iters {
                    waiter(&s, i);
                }
            })
        })
        .collect();
    start.wait();
    let t0 = Instant::now();
    for i in 1..=iters {
        notifier(&s, i);
    }
    let t = t0.elapsed();
    for w in waiters {
        w.join().unwrap();
    }
    t
}

fn notify_all(c: &mut Criterion) {
    let mut g = c.benchmark_group(format!("contended/condition-notify-all-{WAITERS}"));
    g.bench_function("lockproof::Condition", |b| {
        b.iter_custom(|iters| {
            let lock = Arc::new(RLock::new());
            let s = Arc::new(Generations {
                new_gen: Condition::with_rlock(lock.clone()),
                all_acked: Condition::with_rlock(lock),
                generation: AtomicU64::new(0),
                acked: AtomicU64::new(0),
            });
            generations(
                iters,
                s,
                |s, i| {
                    let _g = s.new_gen.lock();
                    s.generation.store(i, Relaxed);
                    s.acked.store(0, Relaxed);
                    s.new_gen.notify_all().unwrap();
                    s.all_acked
                        .wait_for(|| s.acked.load(Relaxed) == WAITERS as u64, None)
                        .unwrap();
                },
                |s, i| {
                    let _g = s.new_gen.lock();
                    s.new_gen
                        .wait_for(|| s.generation.load(Relaxed) >= i, None)
                        .unwrap();
                    // The notifier waits for every ack, so no generation is skipped.
                    assert_eq!(s.generation.load(Relaxed), i);
                    let n = s.acked.load(Relaxed) + 1;
                    s.acked.store(n, Relaxed);
                    if n == WAITERS as u64 {
                        s.all_acked.notify_one().unwrap();
                    }
                },
            )
        })
    });
    g.bench_function("std::sync::Condvar", |b| {
        b.iter_custom(|iters| {
            let s = Arc::new(StdGenerations {
                m: Mutex::new((0, 0)),
                new_gen: Condvar::new(),
                all_acked: Condvar::new(),
            });
            generations(
                iters,
                s,
                |s, i| {
                    let mut g = s.m.lock().unwrap();
                    *g = (i, 0);
                    s.new_gen.notify_all();
                    drop(s.all_acked.wait_while(g, |g| g.1 < WAITERS).unwrap());
                },
                |s, i| {
                    let g = s.m.lock().unwrap();
                    let mut g = s.new_gen.wait_while(g, |g| g.0 < i).unwrap();
                    assert_eq!(g.0, i);
                    g.1 += 1;
                    if g.1 == WAITERS {
                        s.all_acked.notify_one();
                    }
                },
            )
        })
    });
    g.finish();
}

/// The textbook counting semaphore: a count under a mutex, a condition variable for
/// "a permit came back". The peer of `lockproof::Semaphore` under contention.
struct TextbookSemaphore {
    count: Mutex<usize>,
    returned: Condvar,
}

impl TextbookSemaphore {
    fn acquire(&self) {
        let mut n = self
            .returned
            .wait_while(self.count.lock().unwrap(), |n| *n == 0)
            .unwrap();
        *n -= 1;
    }

    fn release(&self) {
        *self.count.lock().unwrap() += 1;
        self.returned.notify_one();
    }
}

/// Permits and threads of the semaphore group.
const PERMITS: usize = 2;
const SEM_THREADS: usize = 4;

/// Inside the semaphore: count the holders and check there are never more than the
/// permits (the same work on both sides).
fn inside(holders: &AtomicU64) {
    let n = holders.fetch_add(1, SeqCst) + 1;
    assert!(n <= PERMITS as u64, "{n} holders of {PERMITS} permits");
    holders.fetch_sub(1, SeqCst);
}

fn semaphores(c: &mut Criterion) {
    let mut g = c.benchmark_group(format!("contended/semaphore-{SEM_THREADS}t"));
    g.bench_function("lockproof::Semaphore", |b| {
        b.iter_custom(|iters| {
            let s = Arc::new((Semaphore::new(PERMITS as isize).unwrap(), AtomicU64::new(0)));
            crowd(iters, SEM_THREADS, move || {
                let _g = s.0.lock();
                inside(&s.1);
            })
        })
    });
    g.bench_function("Mutex<usize>+Condvar", |b| {
        b.iter_custom(|iters| {
            let s = Arc::new((
                TextbookSemaphore {
                    count: Mutex::new(PERMITS),
                    returned: Condvar::new(),
                },
                AtomicU64::new(0),
            ));
            crowd(iters, SEM_THREADS, move || {
                s.0.acquire();
                inside(&s.1);
                s.0.release();
            })
        })
    });
    g.finish();
}

/// All contended groups, in the order BENCHMARKS.md lists them.
pub fn groups(c: &mut Criterion) {
    locks(c);
    rlocks(c);
    notify_all(c);
    semaphores(c);
}

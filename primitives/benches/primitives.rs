//! lockproof's primitives beside their Rust peers, in the same run: ratios are what count.
//!
//! Groups (each compares its members; `ci/bench.sh` turns the results into BENCHMARKS.md):
//! - `uncontended/lock`: Lock acquire+release vs `std::sync::Mutex` and `parking_lot::Mutex`
//! - `uncontended/rlock-depth1`, `-depth3`: RLock vs `parking_lot::ReentrantMutex`
//! - `uncontended/semaphore`: Semaphore acquire+release (peer: Lock, the cheapest lock here)
//! - `handoff/condition`: Condition notify/wait ping-pong vs `std::sync::Condvar`
//! - `handoff/event`: Event set/wait ping-pong vs a Mutex+Condvar flag
//! - `handoff/barrier2`, `-4`, `-8`: Barrier rounds vs `std::sync::Barrier`
//! - `contended/counter`: 2 threads incrementing a counter under Lock vs std and parking_lot
//! - `contended/lock-4t`, `-8t`, `contended/rlock-4t`, `-8t`,
//!   `contended/condition-notify-all-8`, `contended/semaphore-4t`: more threads than cores
//!   (see `support/crowd.rs`)
//! - `process_lock`: multiprocessing's Lock (`lockproof::process`, a futex in shared
//!   memory) acquire+release uncontended vs this crate's threading Lock and
//!   `parking_lot::Mutex`; and a handoff between two real processes (two process
//!   semaphores, ping-pong with a child started from this binary) vs the same ping-pong
//!   between two threads. `ci/bench_mp.py` measures CPython's `multiprocessing.Lock` for the
//!   ratio.
//! - `file_lock`: `fcntl.flock` and `fcntl.lockf` (a whole-file record lock) lock+unlock
//!   through `lockproof::file` vs the raw system call (`rustix::fs::flock`, `libc::fcntl`
//!   with `F_SETLK`), uncontended, on a file in a temporary directory.
//!   `ci/bench_fcntl.py` measures CPython's `fcntl.flock`/`fcntl.lockf` for the ratio.

use criterion::{criterion_group, Criterion};
use lockproof::threading::{Barrier, Condition, Event, Lock, RLock, Semaphore};
use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The contended groups with more threads than cores (a module of their own: this file is
/// long enough).
#[path = "support/crowd.rs"]
mod crowd;

fn uncontended(c: &mut Criterion) {
    let mut g = c.benchmark_group("uncontended/lock");
    let l = Lock::new();
    g.bench_function("lockproof::Lock", |b| {
        b.iter(|| {
            black_box(l.acquire());
            l.release().unwrap();
        })
    });
    let m = std::sync::Mutex::new(());
    g.bench_function("std::sync::Mutex", |b| {
        b.iter(|| {
            drop(black_box(m.lock().unwrap()));
        })
    });
    let p = parking_lot::Mutex::new(());
    g.bench_function("parking_lot::Mutex", |b| {
        b.iter(|| {
            drop(black_box(p.lock()));
        })
    });
    g.finish();

    for depth in [1usize, 3] {
        let mut g = c.benchmark_group(format!("uncontended/rlock-depth{depth}"));
        let r = RLock::new();
        g.bench_function("lockproof::RLock", |b| {
            b.iter(|| {
                for _ in 0..depth {
                    black_box(r.acquire());
                }
                for _ in 0..depth {
                    r.release().unwrap();
                }
            })
        });
        let pr = parking_lot::ReentrantMutex::new(0u64);
        g.bench_function("parking_lot::ReentrantMutex", |b| {
            b.iter(|| match depth {
                1 => {
                    drop(black_box(pr.lock()));
                }
                _ => {
                    let a = pr.lock();
                    let b2 = pr.lock();
                    let c3 = pr.lock();
                    black_box((&a, &b2, &c3));
                }
            })
        });
        g.finish();
    }

    let mut g = c.benchmark_group("uncontended/semaphore");
    let s = Semaphore::new(1).unwrap();
    g.bench_function("lockproof::Semaphore", |b| {
        b.iter(|| {
            black_box(s.acquire());
            s.release().unwrap();
        })
    });
    g.bench_function("lockproof::Lock", |b| {
        b.iter(|| {
            black_box(l.acquire());
            l.release().unwrap();
        })
    });
    g.finish();
}

/// Time `rounds` round trips of a two-thread ping-pong: `setup` builds the shared state,
/// `ping` runs on the measuring thread, `pong` on the partner, once per round each.
fn pingpong<S: Send + Sync + 'static>(
    iters: u64,
    state: Arc<S>,
    ping: fn(&S, u64),
    pong: fn(&S, u64),
) -> Duration {
    let s2 = state.clone();
    let partner = std::thread::spawn(move || {
        for i in 0..iters {
            pong(&s2, i);
        }
    });
    let start = Instant::now();
    for i in 0..iters {
        ping(&state, i);
    }
    let t = start.elapsed();
    partner.join().unwrap();
    t
}

struct CondPingPong {
    cond: Condition,
    turn: std::sync::atomic::AtomicU64,
}

struct StdPingPong {
    m: std::sync::Mutex<u64>,
    cv: std::sync::Condvar,
}

fn handoff(c: &mut Criterion) {
    use std::sync::atomic::Ordering::SeqCst;
    let mut g = c.benchmark_group("handoff/condition");
    g.bench_function("lockproof::Condition", |b| {
        b.iter_custom(|iters| {
            let st = Arc::new(CondPingPong {
                cond: Condition::new(),
                turn: 0.into(),
            });
            pingpong(
                iters,
                st,
                |s, i| {
                    let _g = s.cond.lock();
                    s.cond
                        .wait_for(|| s.turn.load(SeqCst) == 2 * i, None)
                        .unwrap();
                    s.turn.store(2 * i + 1, SeqCst);
                    s.cond.notify_one().unwrap();
                },
                |s, i| {
                    let _g = s.cond.lock();
                    s.cond
                        .wait_for(|| s.turn.load(SeqCst) == 2 * i + 1, None)
                        .unwrap();
                    s.turn.store(2 * i + 2, SeqCst);
                    s.cond.notify_one().unwrap();
                },
            )
        })
    });
    g.bench_function("std::sync::Condvar", |b| {
        b.iter_custom(|iters| {
            let st = Arc::new(StdPingPong {
                m: std::sync::Mutex::new(0),
                cv: std::sync::Condvar::new(),
            });
            pingpong(
                iters,
                st,
                |s, i| {
                    let g = s.m.lock().unwrap();
                    let mut g = s.cv.wait_while(g, |t| *t != 2 * i).unwrap();
                    *g = 2 * i + 1;
                    s.cv.notify_one();
                },
                |s, i| {
                    let g = s.m.lock().unwrap();
                    let mut g = s.cv.wait_while(g, |t| *t != 2 * i + 1).unwrap();
                    *g = 2 * i + 2;
                    s.cv.notify_one();
                },
            )
        })
    });
    g.finish();

    let mut g = c.benchmark_group("handoff/event");
    g.bench_function("lockproof::Event", |b| {
        b.iter_custom(|iters| {
            let st = Arc::new((Event::new(), Event::new()));
            pingpong(
                iters,
                st,
                |s, _| {
                    s.0.set();
                    s.1.wait(None).unwrap();
                    s.1.clear();
                },
                |s, _| {
                    s.0.wait(None).unwrap();
                    s.0.clear();
                    s.1.set();
                },
            )
        })
    });
    g.bench_function("std Mutex<bool>+Condvar", |b| {
        b.iter_custom(|iters| {
            let st = Arc::new(StdPingPong {
                m: std::sync::Mutex::new(0),
                cv: std::sync::Condvar::new(),
            });
            pingpong(
                iters,
                st,
                |s, i| {
                    *s.m.lock().unwrap() = 2 * i + 1;
                    s.cv.notify_all();
                    let g = s.m.lock().unwrap();
                    drop(s.cv.wait_while(g, |t| *t != 2 * i + 2).unwrap());
                },
                |s, i| {
                    let g = s.m.lock().unwrap();
                    let mut g = s.cv.wait_while(g, |t| *t != 2 * i + 1).unwrap();
                    *g = 2 * i + 2;
                    s.cv.notify_all();
                },
            )
        })
    });
    g.finish();

    for parties in [2usize, 4, 8] {
        let mut g = c.benchmark_group(format!("handoff/barrier{parties}"));
        g.bench_function("lockproof::Barrier", |b| {
            b.iter_custom(|iters| {
                let bar = Arc::new(Barrier::new(parties, None, None).unwrap());
                rounds(iters, parties, move || {
                    bar.wait().unwrap();
                })
            })
        });
        g.bench_function("std::sync::Barrier", |b| {
            b.iter_custom(|iters| {
                let bar = Arc::new(std::sync::Barrier::new(parties));
                rounds(iters, parties, move || {
                    bar.wait();
                })
            })
        });
        g.finish();
    }
}

/// `iters` rounds of `parties` threads calling `wait` (the measuring thread is one party).
fn rounds(iters: u64, parties: usize, wait: impl Fn() + Send + Sync + Clone + 'static) -> Duration {
    let others: Vec<_> = (1..parties)
        .map(|_| {
            let w = wait.clone();
            std::thread::spawn(move || {
                for _ in 0..iters {
                    w();
                }
            })
        })
        .collect();
    let start = Instant::now();
    for _ in 0..iters {
        wait();
    }
    let t = start.elapsed();
    for o in others {
        o.join().unwrap();
    }
    t
}

fn contended(c: &mut Criterion) {
    let mut g = c.benchmark_group("contended/counter");
    g.bench_function("lockproof::Lock", |b| {
        b.iter_custom(|iters| {
            let l = Arc::new((Lock::new(), std::sync::atomic::AtomicU64::new(0)));
            both(iters, move || {
                let _g = l.0.lock();
                let v = l.1.load(std::sync::atomic::Ordering::Relaxed);
                l.1.store(v + 1, std::sync::atomic::Ordering::Relaxed);
            })
        })
    });
    g.bench_function("std::sync::Mutex", |b| {
        b.iter_custom(|iters| {
            let m = Arc::new(std::sync::Mutex::new(0u64));
            both(iters, move || {
                *m.lock().unwrap() += 1;
            })
        })
    });
    g.bench_function("parking_lot::Mutex", |b| {
        b.iter_custom(|iters| {
            let m = Arc::new(parking_lot::Mutex::new(0u64));
            both(iters, move || {
                *m.lock() += 1;
            })
        })
    });
    g.finish();
}

/// Two threads each run `f` `iters` times; returns the wall time per pair of increments.
fn both(iters: u64, f: impl Fn() + Send + Sync + Clone + 'static) -> Duration {
    let f2 = f.clone();
    let start = Instant::now();
    let t = std::thread::spawn(move || {
        for _ in 0..iters {
            f2();
        }
    });
    for _ in 0..iters {
        f();
    }
    t.join().unwrap();
    start.elapsed()
}

const CHILD: &str = "LOCKPROOF_BENCH_PONG";

fn process_lock(c: &mut Criterion) {
    let mut g = c.benchmark_group("process_lock");
    let pl = lockproof::multiprocessing::Lock::new();
    g.bench_function("lockproof::process::Lock", |b| {
        b.iter(|| {
            black_box(pl.acquire());
            pl.release().unwrap();
        })
    });
    let l = Lock::new();
    g.bench_function("lockproof::Lock", |b| {
        b.iter(|| {
            black_box(l.acquire());
            l.release().unwrap();
        })
    });
    let p = parking_lot::Mutex::new(());
    g.bench_function("parking_lot::Mutex", |b| {
        b.iter(|| {
            drop(black_box(p.lock()));
        })
    });

    // Handoff: one round = ping.release() here, pong.acquire() here; the other side
    // acquires ping and releases pong.
    use lockproof::multiprocessing::Semaphore as PSem;
    let (ping, pong) = (PSem::new(0).unwrap(), PSem::new(0).unwrap());
    let mut cmd = std::process::Command::new(std::env::current_exe().unwrap());
    cmd.env(CHILD, "1").stdout(std::process::Stdio::null());
    ping.handle().pass_to(&mut cmd, "PING");
    pong.handle().pass_to(&mut cmd, "PONG");
    let mut child = cmd.spawn().expect("cannot start the pong process");
    g.bench_function("handoff-2proc/lockproof::process::Semaphore", |b| {
        b.iter(|| {
            ping.release().unwrap();
            assert_eq!(pong.acquire_timeout(10.0), Ok(true));
        })
    });
    let _ = child.kill();
    let _ = child.wait();
    let pair = Arc::new((PSem::new(0).unwrap(), PSem::new(0).unwrap()));
    let p2 = pair.clone();
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let stop2 = stop.clone();
    let t = std::thread::spawn(move || {
        while !stop2.load(std::sync::atomic::Ordering::Relaxed) {
            if p2.0.acquire_timeout(0.1) == Ok(true) {
                p2.1.release().unwrap();
            }
        }
    });
    g.bench_function("handoff-2thread/lockproof::process::Semaphore", |b| {
        b.iter(|| {
            pair.0.release().unwrap();
            assert_eq!(pair.1.acquire_timeout(10.0), Ok(true));
        })
    });
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    t.join().unwrap();
    g.finish();
}

/// The child of the `process_lock` handoff: answer every ping with a pong; stop when no
/// ping comes for 5 s (or when killed).
fn pong_process() {
    use lockproof::multiprocessing::{Handle, Semaphore as PSem};
    let ping = PSem::open(&Handle::from_env("PING").unwrap()).unwrap();
    let pong = PSem::open(&Handle::from_env("PONG").unwrap()).unwrap();
    while ping.acquire_timeout(5.0) == Ok(true) {
        pong.release().unwrap();
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .sample_size(30);
    targets = uncontended, handoff, contended, crowd::groups, process_lock, file_lock
}

fn file_lock(c: &mut Criterion) {
    use lockproof::backend::Std;
    use lockproof::file::fcntl::{flock, lockf, LOCK_EX, LOCK_UN};
    use lockproof::file::{Fd, OpenFlags};
    use std::os::fd::{AsFd, AsRawFd};

    let dir = std::env::temp_dir().join(format!("lockproof-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("lock");
    let fd = Fd::<Std>::open(&path, OpenFlags::RDWR | OpenFlags::CREAT, 0o644).unwrap();
    let raw = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(&path)
        .unwrap();

    let mut g = c.benchmark_group("file_lock/flock");
    g.bench_function("lockproof::file::fcntl::flock", |b| {
        b.iter(|| {
            flock(black_box(&fd), LOCK_EX).unwrap();
            flock(black_box(&fd), LOCK_UN).unwrap();
        })
    });
    g.bench_function("rustix::fs::flock", |b| {
        use rustix::fs::FlockOperation::{LockExclusive, Unlock};
        b.iter(|| {
            rustix::fs::flock(black_box(raw.as_fd()), LockExclusive).unwrap();
            rustix::fs::flock(black_box(raw.as_fd()), Unlock).unwrap();
        })
    });
    g.finish();

    let mut g = c.benchmark_group("file_lock/lockf");
    g.bench_function("lockproof::file::fcntl::lockf", |b| {
        b.iter(|| {
            lockf(black_box(&fd), LOCK_EX, 0, 0, 0).unwrap();
            lockf(black_box(&fd), LOCK_UN, 0, 0, 0).unwrap();
        })
    });
    g.bench_function("libc::fcntl(F_SETLKW)", |b| {
        let fd = raw.as_raw_fd();
        b.iter(|| {
            for l_type in [libc::F_WRLCK, libc::F_UNLCK] {
                // SAFETY: a zeroed struct flock, then the documented fields.
                let mut l: libc::flock = unsafe { std::mem::zeroed() };
                l.l_type = l_type as i16;
                // SAFETY: `fd` is open; `l` is a valid struct flock.
                let r = unsafe { libc::fcntl(black_box(fd), libc::F_SETLKW, &mut l) };
                assert_eq!(r, 0);
            }
        })
    });
    g.finish();
    drop(fd);
    let _ = std::fs::remove_dir_all(&dir);
}

fn main() {
    if std::env::var_os(CHILD).is_some() {
        pong_process();
        return;
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
}

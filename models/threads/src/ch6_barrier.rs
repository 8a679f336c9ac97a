//! Chapter 6 (`threading.Barrier`) of the tutorial: its examples as scenarios.
//!
//! Each example is modelled as written, scaled down (at most 4 spawned threads where loom
//! should run it), and asserts what its comments and prints claim. Conventions:
//!
//! - `time.sleep(random.uniform(a, b))` becomes a fixed virtual sleep inside `[a, b]`,
//!   different per thread; where that could hide an arrival order, an `-adversarial`
//!   variant lets every deadline (sleeps included) fire in any order and every pending
//!   timeout fire at any step.
//! - `thread.join(timeout=t)` is modelled by an Event the thread sets as it ends
//!   (`<thread>.finished`), waited on with the timeout: the Backend's `join` has none.
//! - A daemon thread that Python kills at interpreter exit polls `interpreter exiting`,
//!   which main sets as it ends.
//! - Logging, and bookkeeping that no claim reads, is left out; every operation on a
//!   barrier, lock, or shared value that a claim depends on is kept.
//!
//! | scenario | example | expected |
//! |---|---|---|
//! | `ex-6.1-01` | BarrierDemo: one round with action and a 10 s default timeout | holds |
//! | `ex-6.1-01-adversarial` | the same, timeouts may fire early | all-pass-barrier |
//! | `ex-6.1-02` | BarrierWaitDemo: "index 0 is the first through the barrier" | index-0-passes-first |
//! | `ex-6.1-02-adversarial` | the same demo, timeouts may fire early | all-pass-barrier |
//! | `ex-6.1-02-timeout` | the timeout demo: "the late thread times out" | late-thread-times-out |
//! | `ex-6.1-03` | BarrierActionDemo: action per phase, reused barrier | holds |
//! | `ex-6.1-03-adversarial` | the same, sleeps in any order | holds |
//! | `ex-6.1-04` | BarrierExceptionDemo: "a dead party breaks the barrier" | dead-party-breaks-barrier |
//! | `ex-6.1-04-timeout` | its second demo: "the late thread times out" | late-thread-times-out |
//! | `ex-6.1-04-recovery` | its third demo: a new Barrier(3) | holds |
//! | `ex-6.1-04-recovery-adversarial` | the same, timeouts may fire early | all-pass-barrier |
//! | `ex-6.1-05` | BarrierPerformanceDemo: a local Barrier per worker | all-pass-barrier |
//! | `ex-6.1-06` | ParallelDataProcessor: unlocked `+=` on batch_results | no-lost-update |
//! | `ex-6.1-06-default-count` | the same with the method's default data_count | deadlock |
//! | `ex-6.2-01` | BasicSyncPoint | holds |
//! | `ex-6.2-01-adversarial` | the same, sleeps in any order | holds |
//! | `ex-6.2-02` | MultiPointSync: metrics labelled `len(sync_metrics)` | metrics-labelled-by-sync-point |
//! | `ex-6.2-03` | ConditionalSyncPoint: polling predicates no waiter can change | step-budget |
//! | `ex-6.2-04` | HierarchicalSyncPoint: group barriers sized by formula, not by members | step-budget |
//! | `ex-6.2-05` | DynamicSyncPoint: workers loop until after the pool's shutdown | step-budget |
//! | `ex-6.2-05-replace` | the same, the manager's coin says "add": the old barrier's waiter | replacement-releases-old-waiters |
//! | `ex-6.2-06` | SyncPointOptimizer: a local Barrier per task | all-pass-barrier |
//! | `ex-6.3-01` | PhasedExecution: previous results looked up by worker index | phase-input-is-own-output |
//! | `ex-6.3-01-adversarial` | the same, timeouts may fire early | all-pass-barrier |
//! | `ex-6.3-02` | ComplexPhasedExecution | holds |
//! | `ex-6.3-02-adversarial` | the same, timeouts may fire early: the "✅" report | final-report-truthful |
//! | `ex-6.3-03` | OptimizedPhasedExecution: unlocked `operation_counter += 1` | no-lost-update |
//! | `ex-6.3-03-adversarial` | its retry loop on a broken barrier | retry-waits-again |
//! | `ex-6.3-04` | MLOpsPipeline | holds |
//! | `ex-6.3-04-adversarial` | the same, timeouts may fire early | all-pass-barrier |
//! | `ex-6.4-01` | stdlib Barrier with a progress callback, 3 phases | holds |
//! | `ex-6.4-02` | EnhancedCallbackBarrier, driven for 2 rounds, a raising callback | holds |
//! | `ex-6.4-02-timeout` | EnhancedCallbackBarrier with a timeout and a late party | barrier-generation |
//! | `ex-6.4-03` | ProgressMonitor as the action | holds |
//! | `ex-6.4-04` | ResourceCleanup as the action | holds |
//! | `ex-6.4-05` | StateValidator as the action | holds |
//! | `rule-6.2-03` | threads released together still race on shared data afterwards | no-lost-update |

use lockproof_scenario::prelude::*;
use std::collections::VecDeque;
use std::fmt;

// ---- helpers ------------------------------------------------------------------------------

/// `time.sleep(secs)` (virtual time under a checker).
fn sleep<B: Backend>(secs: f64) {
    B::sleep(Duration::from_secs_f64(secs));
}

/// `time.time()`, in seconds.
fn now<B: Backend>() -> f64 {
    B::now().0 as f64 / 1e9
}

/// A thread started so that `join(timeout=t)` can be modelled: it sets `<name>.finished` as
/// it ends.
struct Started<B: Backend> {
    finished: Arc<Event<B>>,
    handle: B::JoinHandle<()>,
}

/// `threading.Thread(target=f, name=name).start()`, joinable with a timeout.
fn start<B: Backend>(name: &str, f: impl FnOnce() + Send + 'static) -> Started<B> {
    let finished = Arc::new(Event::<B>::new().with_name(&format!("{name}.finished")));
    let done = finished.clone();
    let handle = B::spawn(name, move || {
        f();
        done.set();
    });
    Started { finished, handle }
}

impl<B: Backend> Started<B> {
    /// `thread.join(timeout=t)`: wait at most `t` seconds for the thread to end.
    fn join_timeout(&self, t: f64) {
        let _ = self.finished.wait(Some(t));
    }

    /// `thread.join()`.
    fn join(self) {
        self.handle.join();
    }
}

/// A stdlib barrier, named.
fn barrier<B: Backend>(
    name: &str,
    parties: usize,
    action: Option<BarrierAction>,
    timeout: Option<f64>,
) -> Arc<Barrier<B>> {
    Arc::new(
        Barrier::<B>::new(parties, action, timeout)
            .expect("parties > 0")
            .with_name(name),
    )
}

/// A shared value, named.
fn shared<T: Clone + fmt::Debug + Send + 'static, B: Backend>(
    name: &str,
    v: T,
) -> Arc<Shared<T, B>> {
    Arc::new(Shared::<T, B>::new(v).with_name(name))
}

/// Python's unlocked `x += n` on a shared value: a read, then a write.
fn racy_add<B: Backend>(x: &Shared<usize, B>, n: usize) {
    let v = x.get();
    x.set(v + n);
}

// ---- 6.1 threading.Barrier ----------------------------------------------------------------

/// ex-6.1-01, BarrierDemo (4 threads → 3): each worker sleeps `1.5 + 0.3·i`, waits on
/// `Barrier(parties, action=setup_callback, timeout=10.0)`, then does phase 2 and appends
/// its result; main starts them 0.2 s apart and joins them. Claims: the callback runs once,
/// when all have arrived, before anyone passes; every thread passes and is in the table.
fn ex_6_1_01<B: Backend>() {
    const N: usize = 3;
    let runs = shared::<usize, B>("setup_callback runs", 0);
    let r = runs.clone();
    let setup_callback: BarrierAction = Box::new(move || {
        r.update(|n| *n += 1);
        Ok(()) // returns "屏障回调执行完成": ignored by Barrier
    });
    let barrier = barrier::<B>("self.barrier", N, Some(setup_callback), Some(10.0));
    let results = shared::<Vec<usize>, B>("self.results", Vec::new());
    let phases = Arc::new(Rounds::<B>::new("phases", N));
    let mut threads = Vec::new();
    for i in 0..N {
        let (barrier, results, phases, runs) = (
            barrier.clone(),
            results.clone(),
            phases.clone(),
            runs.clone(),
        );
        let work = 1.5 + i as f64 * 0.3;
        threads.push(B::spawn(&format!("thread-{}", i + 1), move || {
            sleep::<B>(work);
            phases.arrive(1);
            if let Ok(wait_result) = barrier.wait() {
                phases.depart(1);
                let n = runs.get();
                ensure(n == 1, "callback-before-release", || {
                    format!(
                        "thread-{} passed the barrier when setup_callback had run {n} times",
                        i + 1
                    )
                });
                sleep::<B>(work * 0.5);
                results.update(|v| v.push(wait_result));
            }
            // except BrokenBarrierError: "屏障已损坏,退出执行"
        }));
        sleep::<B>(0.2);
    }
    for t in threads {
        t.join();
    }
    let r = results.get();
    ensure(r.len() == N, "all-pass-barrier", || {
        format!(
            "the results table lists {} of {N} threads: the others got BrokenBarrierError",
            r.len()
        )
    });
}

/// ex-6.1-02, BarrierWaitDemo.run_wait_demo (5 threads → 3): random pre-work, then
/// `wait(timeout=5.0)`, then a task chosen by the index: index 0 logs "第一个通过屏障"
/// (the first through the barrier). `FIRST`: check that claim (timed); otherwise check
/// that every thread passes with a distinct index (adversarial).
fn wait_demo<B: Backend, const FIRST: bool>() {
    const N: usize = 3;
    let barrier = barrier::<B>("self.barrier", N, None, None);
    let wait_results = shared::<Vec<usize>, B>("self.wait_results", Vec::new());
    // Probe: the order in which threads get past wait() (not in the Python code).
    let passed = shared::<usize, B>("threads past wait() (probe)", 0);
    let pre_work = [2.0, 0.5, 3.0]; // random.uniform(0.5, 3.0)
    let mut threads = Vec::new();
    for (i, pre) in pre_work.into_iter().enumerate() {
        let (barrier, wait_results, passed) =
            (barrier.clone(), wait_results.clone(), passed.clone());
        threads.push(B::spawn(&format!("thread-{}", i + 1), move || {
            sleep::<B>(pre);
            if let Ok(wait_result) = barrier.wait_timeout(Some(5.0)) {
                let order = passed.update(|n| {
                    *n += 1;
                    *n - 1
                });
                wait_results.update(|v| v.push(wait_result));
                if FIRST {
                    ensure(
                        wait_result != 0 || order == 0,
                        "index-0-passes-first",
                        || {
                            format!(
                            "thread-{} got index 0 and logs '第一个通过屏障' but was number {} \
                             past the barrier: index 0 is the first to arrive, not to pass",
                            i + 1,
                            order + 1
                        )
                        },
                    );
                }
                // _execute_post_barrier_task
                sleep::<B>(match wait_result {
                    0 => 1.0,
                    r if r % 2 == 1 => 0.5,
                    _ => 0.3,
                });
            }
        }));
        sleep::<B>(0.1);
    }
    for t in threads {
        t.join();
    }
    let mut r = wait_results.get();
    r.sort_unstable();
    ensure(r == (0..N).collect::<Vec<_>>(), "all-pass-barrier", || {
        format!("sorted wait results {r:?}, expected [0, 1, 2]")
    });
}

fn ex_6_1_02<B: Backend>() {
    wait_demo::<B, true>()
}

fn ex_6_1_02_adversarial<B: Backend>() {
    wait_demo::<B, false>()
}

/// ex-6.1-02, run_timeout_demo (5 threads → 3): a new `Barrier(parties)`; the last thread
/// "故意超时" (deliberately times out) by sleeping 6 s before `wait(timeout=3.0)`, the
/// others sleep 1 s. Claim: the late thread is the one that times out.
fn ex_6_1_02_timeout<B: Backend>() {
    const N: usize = 3;
    let timeout_barrier = barrier::<B>("timeout_barrier", N, None, None);
    let mut threads = Vec::new();
    for i in 0..N {
        let should_timeout = i == N - 1;
        let b = timeout_barrier.clone();
        threads.push(start::<B>(&format!("thread-{}", i + 1), move || {
            sleep::<B>(if should_timeout { 6.0 } else { 1.0 });
            let t0 = now::<B>();
            let r = b.wait_timeout(Some(3.0));
            let waited = now::<B>() - t0;
            if should_timeout {
                ensure(r.is_err() && waited >= 3.0, "late-thread-times-out", || {
                    format!(
                        "the late thread's wait(timeout=3.0) returned {r:?} after {waited:.1} s: \
                         it did not time out; the early threads' timeouts had broken the barrier"
                    )
                });
            }
        }));
        sleep::<B>(0.1);
    }
    for t in &threads {
        t.join_timeout(10.0);
    }
}

/// ex-6.1-03, BarrierActionDemo (3 teams × 3 phases → 2 × 2): the action appends a
/// completion time and sleeps 0.5 s; each team sleeps, then waits (no timeout). Claims:
/// the action runs once per phase, and finishes before any team proceeds (so its 0.5 s
/// delays every team).
fn ex_6_1_03<B: Backend>() {
    const N: usize = 2;
    const PHASES: usize = 2;
    let times = shared::<Vec<u64>, B>("self.phase_completion_times", Vec::new());
    let t2 = times.clone();
    let callback: BarrierAction = Box::new(move || {
        t2.update(|v| v.push(B::now().0));
        sleep::<B>(0.5);
        Ok(())
    });
    let barrier = barrier::<B>("self.barrier", N, Some(callback), None);
    let phases = Arc::new(Rounds::<B>::new("phases", N));
    let exec: [[f64; PHASES]; N] = [[2.5, 1.0], [1.5, 2.0]]; // random.uniform(1.0, 3.0)
    let mut threads = Vec::new();
    for (team, work) in exec.into_iter().enumerate() {
        let (barrier, times, phases) = (barrier.clone(), times.clone(), phases.clone());
        threads.push(B::spawn(&format!("team-{}", team + 1), move || {
            for (p, w) in work.into_iter().enumerate() {
                let phase = p + 1;
                sleep::<B>(w);
                phases.arrive(phase);
                if barrier.wait().is_err() {
                    break;
                }
                phases.depart(phase);
                let t = times.get();
                ensure(t.len() == phase, "callback-before-release", || {
                    format!(
                        "team-{} entered phase {} when the callback had run {} times",
                        team + 1,
                        phase + 1,
                        t.len()
                    )
                });
                let done = t.last().copied().unwrap_or(0);
                ensure(
                    B::now().0 >= done + 500_000_000,
                    "callback-delays-release",
                    || {
                        format!(
                            "team-{} left the barrier before the callback's 0.5 s were over",
                            team + 1
                        )
                    },
                );
            }
        }));
    }
    for t in threads {
        t.join();
    }
    let n = times.get().len();
    ensure(n == PHASES, "callback-once-per-phase", || {
        format!("the callback ran {n} times in {PHASES} phases")
    });
}

/// ex-6.1-04, demonstrate_broken_barrier (4 parties → 2): a worker that raises before
/// reaching the barrier, and a normal worker that waits (no timeout); main joins each with
/// `timeout=3`, then `_check_barrier_status` calls `barrier.wait(timeout=1.0)`. With
/// `check`: the claim that the dead thread broke the barrier ("屏障已损坏" expected).
fn demo_broken<B: Backend>(barrier: &Arc<Barrier<B>>, check: bool) {
    let b = barrier.clone();
    let normal = start::<B>("thread-1", move || {
        sleep::<B>(1.0);
        let _ = b.wait();
    });
    sleep::<B>(0.1);
    let abnormal = start::<B>("thread-99", || {
        sleep::<B>(0.5);
        // raise Exception("模拟的工作异常"): the thread ends here.
    });
    for t in [&abnormal, &normal] {
        t.join_timeout(3.0);
    }
    let status = barrier.wait_timeout(Some(1.0));
    if check {
        ensure(
            status == Err(Error::BrokenBarrier),
            "dead-party-breaks-barrier",
            || {
                format!(
                    "_check_barrier_status: barrier.wait(timeout=1.0) returned {status:?} \
                     ('屏障状态正常'): a thread that dies before wait() does not break a \
                     barrier; main was simply the missing party"
                )
            },
        );
    }
}

/// ex-6.1-04, demonstrate_timeout_exception (4 parties → 2), on the same barrier: the
/// timeout worker sleeps `2.0 + 1.0` then calls `wait(timeout=2.0)` "故意延迟,导致超时";
/// the normal worker sleeps 1 s and waits. With `check`: the claim that the late thread
/// times out.
fn demo_timeout<B: Backend>(barrier: &Arc<Barrier<B>>, check: bool) {
    let timeout_time = 2.0;
    let b = barrier.clone();
    let normal = start::<B>("thread-1'", move || {
        sleep::<B>(1.0);
        let _ = b.wait();
    });
    sleep::<B>(0.1);
    let b = barrier.clone();
    let late = start::<B>("thread-100", move || {
        sleep::<B>(timeout_time + 1.0);
        let r = b.wait_timeout(Some(timeout_time));
        if check {
            ensure(r.is_err(), "late-thread-times-out", || {
                format!(
                    "the 'timeout' thread's wait(timeout={timeout_time:.1}) returned {r:?}: \
                     it is the last party, so it trips the barrier and never waits"
                )
            });
        }
    });
    for t in [&late, &normal] {
        t.join_timeout(5.0);
    }
}

fn ex_6_1_04<B: Backend>() {
    let barrier = barrier::<B>("self.barrier", 2, None, None);
    demo_broken(&barrier, true);
}

fn ex_6_1_04_timeout<B: Backend>() {
    let barrier = barrier::<B>("self.barrier", 2, None, None);
    demo_broken(&barrier, false);
    sleep::<B>(1.0);
    demo_timeout(&barrier, true);
}

/// ex-6.1-04, demonstrate_recovery: a new `Barrier(parties=3)`, three threads started
/// 0.2 s apart, each sleeps 0.8 s and waits with `timeout=5.0`. Claim: all pass.
fn ex_6_1_04_recovery<B: Backend>() {
    const N: usize = 3;
    let recovery_barrier = barrier::<B>("recovery_barrier", N, None, None);
    let passed = shared::<usize, B>("recovery threads passed", 0);
    let mut threads = Vec::new();
    for i in 0..N {
        let (b, passed) = (recovery_barrier.clone(), passed.clone());
        threads.push(B::spawn(&format!("recovery-{}", i + 1), move || {
            sleep::<B>(0.8);
            if b.wait_timeout(Some(5.0)).is_ok() {
                passed.update(|n| *n += 1);
            }
        }));
        sleep::<B>(0.2);
    }
    for t in threads {
        t.join();
    }
    let n = passed.get();
    ensure(n == N, "all-pass-barrier", || {
        format!("{n} of {N} recovery threads passed the new barrier")
    });
}

/// ex-6.1-05, BarrierPerformanceDemo.optimized_worker (6 pooled workers → 3, one round):
/// each worker pre-processes, then creates its OWN `Barrier(parties=num_threads)` and waits
/// with `timeout=max(2.0, adjusted_work)`; on success it post-processes and appends its
/// metrics. Claim: statistics over every worker's metrics are printed.
fn ex_6_1_05<B: Backend>() {
    const N: usize = 3;
    let metrics = shared::<Vec<usize>, B>("self.performance_metrics", Vec::new());
    let jitter = [0.9, 1.15, 0.85]; // 0.8 + 0.4 * random.random()
    let mut futures = Vec::new();
    for (i, j) in jitter.into_iter().enumerate() {
        let metrics = metrics.clone();
        futures.push(B::spawn(&format!("pool-worker-{}", i + 1), move || {
            let adjusted_work = (1.0 + i as f64 * 0.1) * j;
            sleep::<B>(adjusted_work * 0.3);
            let phase_barrier =
                barrier::<B>(&format!("phase_barrier (worker {})", i + 1), N, None, None);
            if phase_barrier
                .wait_timeout(Some(adjusted_work.max(2.0)))
                .is_err()
            {
                return; // logs "同步异常", returns
            }
            sleep::<B>(adjusted_work * 0.2);
            metrics.update(|m| m.push(i + 1));
        }));
    }
    for f in futures {
        f.join();
    }
    let m = metrics.get();
    ensure(m.len() == N, "all-pass-barrier", || {
        format!(
            "performance_metrics holds {} of {N} workers: each waited alone on its own \
             local Barrier({N}) until its timeout",
            m.len()
        )
    });
}

/// The counters of ex-6.1-06's `batch_results` dict.
struct Counters<B: Backend> {
    extracted: Arc<Shared<usize, B>>,
    transformed: Arc<Shared<usize, B>>,
    loaded: Arc<Shared<usize, B>>,
    validated: Arc<Shared<usize, B>>,
}

/// ex-6.1-06, ParallelDataProcessor (4 workers × batches of 5 → 2 workers × batches of 1):
/// records come from a queue; each round a worker extracts up to `max_records` with
/// `get(timeout=0.1)`, and stops if it got none; otherwise it passes four stage barriers
/// (each with a completion action), updating `batch_results[...] += n` without a lock.
/// `DATA_COUNT` is 4 (the example's 40: workers × batch × 2 full rounds) or 5 (the
/// method's default 50: two full rounds and a partial one). `CHECK_COUNTS`: the printed
/// counts equal data_count.
fn data_processor<B: Backend, const DATA_COUNT: usize, const CHECK_COUNTS: bool>() {
    const WORKERS: usize = 2;
    const MAX_RECORDS: usize = 1;
    let stages = ["extract", "transform", "load", "validate"];
    let barriers: Vec<Arc<Barrier<B>>> = stages
        .iter()
        .map(|s| {
            let done = shared::<u64, B>(&format!("batch_results['{s}_complete_time']"), 0);
            let action: BarrierAction = Box::new(move || {
                done.set(B::now().0);
                Ok(())
            });
            barrier::<B>(&format!("self.{s}_barrier"), WORKERS, Some(action), None)
        })
        .collect();
    let queue = shared::<VecDeque<usize>, B>("self.raw_data_queue", (0..DATA_COUNT).collect());
    let processed = shared::<Vec<usize>, B>("self.processed_data", Vec::new());
    let counters = Arc::new(Counters {
        extracted: shared::<usize, B>("batch_results['extracted_records']", 0),
        transformed: shared::<usize, B>("batch_results['transformed_records']", 0),
        loaded: shared::<usize, B>("batch_results['loaded_records']", 0),
        validated: shared::<usize, B>("batch_results['validated_records']", 0),
    });
    let is_running = shared::<bool, B>("self.is_running", true);
    // random.uniform(0.1, 0.5), (0.05, 0.2), (0.02, 0.1), (0.01, 0.05) per worker
    let sleeps = [[0.3, 0.1, 0.05, 0.02], [0.2, 0.15, 0.03, 0.04]];
    let mut workers = Vec::new();
    for (w, sl) in sleeps.into_iter().enumerate() {
        let (barriers, queue, processed, counters, is_running) = (
            barriers.clone(),
            queue.clone(),
            processed.clone(),
            counters.clone(),
            is_running.clone(),
        );
        workers.push(start::<B>(&format!("worker-{}", w + 1), move || {
            while is_running.get() {
                // _extract_data
                let mut records = Vec::new();
                for _ in 0..MAX_RECORDS {
                    match queue.update(|q| q.pop_front()) {
                        Some(r) => {
                            records.push(r);
                            racy_add(&counters.extracted, 1);
                        }
                        None => {
                            sleep::<B>(0.1); // get(timeout=0.1) on an empty queue: Empty
                            break;
                        }
                    }
                }
                sleep::<B>(sl[0]);
                if records.is_empty() {
                    break;
                }
                if barriers[0].wait().is_err() {
                    break;
                }
                // _transform_data
                for _ in &records {
                    sleep::<B>(sl[1]);
                }
                racy_add(&counters.transformed, records.len());
                if barriers[1].wait().is_err() {
                    break;
                }
                // _load_data
                for r in &records {
                    sleep::<B>(sl[2]);
                    processed.update(|p| p.push(*r));
                    racy_add(&counters.loaded, 1);
                }
                if barriers[2].wait().is_err() {
                    break;
                }
                // _validate_data: 0 <= value/100 <= 10 always holds
                for _ in &records {
                    sleep::<B>(sl[3]);
                }
                racy_add(&counters.validated, records.len());
                if barriers[3].wait().is_err() {
                    break;
                }
            }
        }));
        sleep::<B>(0.1);
    }
    for w in &workers {
        w.join_timeout(30.0);
    }
    is_running.set(false);
    if CHECK_COUNTS {
        let got = [
            counters.extracted.get(),
            counters.transformed.get(),
            counters.loaded.get(),
            counters.validated.get(),
        ];
        ensure(
            got.iter().all(|&n| n == DATA_COUNT),
            "no-lost-update",
            || {
                format!(
                    "extracted/transformed/loaded/validated = {got:?} for {DATA_COUNT} records: \
                 batch_results[...] += n is a read then a write, without a lock"
                )
            },
        );
    }
}

fn ex_6_1_06<B: Backend>() {
    data_processor::<B, 4, true>()
}

fn ex_6_1_06_default_count<B: Backend>() {
    data_processor::<B, 5, false>()
}

// ---- 6.2 sync points ----------------------------------------------------------------------

/// ex-6.2-01, BasicSyncPoint (4 threads → 3): random phase-1 work, one `wait()` (no
/// timeout), phase-2 work, append the result. Claims: sorted sync results [0..n); phase 2
/// starts only after all finished phase 1.
fn ex_6_2_01<B: Backend>() {
    const N: usize = 3;
    let sync_barrier = barrier::<B>("self.sync_barrier", N, None, None);
    let results = shared::<Vec<usize>, B>("self.results", Vec::new());
    let phases = Arc::new(Rounds::<B>::new("phases", N));
    let work = [(2.0, 0.5), (1.0, 2.0), (3.0, 1.0)]; // uniform(1.0, 3.0), uniform(0.5, 2.0)
    let mut threads = Vec::new();
    for (i, (p1, p2)) in work.into_iter().enumerate() {
        let (b, results, phases) = (sync_barrier.clone(), results.clone(), phases.clone());
        threads.push(B::spawn(&format!("worker-{}", i + 1), move || {
            sleep::<B>(p1);
            phases.arrive(1);
            let Ok(sync_result) = b.wait() else {
                return;
            };
            phases.depart(1);
            sleep::<B>(p2);
            results.update(|r| r.push(sync_result));
        }));
        sleep::<B>(0.1);
    }
    for t in threads {
        t.join();
    }
    let mut r = results.get();
    r.sort_unstable();
    ensure(r == (0..N).collect::<Vec<_>>(), "all-pass-barrier", || {
        format!("sync result distribution {r:?}, expected [0, 1, 2]")
    });
}

/// ex-6.2-02, MultiPointSync (5 threads × 4 sync points → 2 × 2): one barrier per point;
/// after each `wait()` a worker records `SyncMetrics(phase=len(self.sync_metrics), ...)`;
/// the analysis groups the records by `m.phase == i` for sync point i. Claim: each record
/// is labelled with its sync point.
fn ex_6_2_02<B: Backend>() {
    const N: usize = 2;
    let names = ["init_barrier", "phase1_barrier"];
    let barriers: Vec<_> = names
        .iter()
        .map(|n| barrier::<B>(&format!("self.{n}"), N, None, None))
        .collect();
    // (phase label, the sync point the record was made at: a probe)
    let metrics = shared::<Vec<(usize, usize)>, B>("self.sync_metrics", Vec::new());
    let phases = Arc::new(Rounds::<B>::new("sync points", N));
    let work = [[1.0, 3.0], [0.5, 2.0]]; // uniform(0.5, 1.5), uniform(2.0, 4.0)
    let mut threads = Vec::new();
    for (i, w) in work.into_iter().enumerate() {
        let (barriers, metrics, phases) = (barriers.clone(), metrics.clone(), phases.clone());
        threads.push(B::spawn(&format!("worker-{}", i + 1), move || {
            for (point, secs) in w.into_iter().enumerate() {
                sleep::<B>(secs);
                phases.arrive(point);
                // _wait_at_sync_point: BrokenBarrierError is logged and swallowed
                if barriers[point].wait().is_ok() {
                    phases.depart(point);
                    let label = metrics.get().len();
                    metrics.update(|m| m.push((label, point)));
                }
            }
        }));
        sleep::<B>(0.1);
    }
    for t in threads {
        t.join();
    }
    let m = metrics.get();
    let wrong: Vec<_> = m.iter().filter(|(label, point)| label != point).collect();
    ensure(wrong.is_empty(), "metrics-labelled-by-sync-point", || {
        format!(
            "(phase, actual sync point) of the records: {m:?}: phase is len(self.sync_metrics), \
             a running count, so the per-point analysis (m.phase == i) mixes sync points"
        )
    });
}

/// A worker's state in ex-6.2-03 (`WorkerState`), shown as `{p=45 ready data err}`.
#[derive(Clone, Copy, Default)]
struct WorkerState {
    ready: bool,
    progress: usize,
    has_data: bool,
    has_error: bool,
}

impl fmt::Debug for WorkerState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{{p={}", self.progress)?;
        for (on, name) in [
            (self.ready, " ready"),
            (self.has_data, " data"),
            (self.has_error, " err"),
        ] {
            if on {
                f.write_str(name)?;
            }
        }
        f.write_str("}")
    }
}

/// `self.workers_state`: one shared state per worker.
type States<B> = Arc<Vec<Arc<Shared<WorkerState, B>>>>;

/// Read every worker's state, one after the other (as `all(... for w in ...)` does).
fn read_all<B: Backend>(states: &States<B>) -> Vec<WorkerState> {
    states.iter().map(|s| s.get()).collect()
}

/// ex-6.2-03, ConditionalSyncPoint (4 workers + monitor → 2 + monitor): each worker passes
/// four predicate sync points by polling `condition.wait(timeout=0.1)` under the condition
/// until the predicate over ALL workers holds; progress grows by random steps
/// (`randint(20, 60)`, `randint(10, 40)`, `randint(5, 20)`: the checker chooses the ends of
/// each range), and a worker errs with probability 0.2. The monitor polls every 0.5 s until
/// every worker is at 100%. Claims: every worker reaches 100% and the monitor stops.
fn ex_6_2_03<B: Backend>() {
    const N: usize = 2;
    let condition_lock = Arc::new(Lock::<B>::new().with_name("self.condition_lock"));
    let condition = Arc::new(Condition::<B>::with_lock(condition_lock).with_name("self.condition"));
    let states: States<B> = Arc::new(
        (1..=N)
            .map(|i| {
                shared::<WorkerState, B>(&format!("workers_state[{i}]"), WorkerState::default())
            })
            .collect(),
    );
    type Pred = fn(&[WorkerState]) -> bool;
    fn wait_for_condition<B: Backend>(condition: &Condition<B>, states: &States<B>, pred: Pred) {
        let _with = condition.lock();
        while !pred(&read_all(states)) {
            let _ = condition.wait(Some(0.1));
        }
    }
    let all_ready: Pred = |s| s.iter().all(|w| w.ready);
    let all_data: Pred = |s| s.iter().all(|w| w.has_data);
    let min_progress: Pred = |s| s.iter().all(|w| w.progress >= 70);
    let error_check: Pred = |s| s.iter().any(|w| w.has_error) || s.iter().all(|w| w.progress >= 85);
    let mut threads = Vec::new();
    for i in 0..N {
        let (condition, states) = (condition.clone(), states.clone());
        let prep = [1.0, 1.5][i];
        threads.push(B::spawn(&format!("worker-{}", i + 1), move || {
            let pick = |lo: usize, hi: usize| if B::choose(2) == 0 { lo } else { hi };
            let me = &states[i];
            sleep::<B>(prep);
            let p = pick(20, 60);
            me.update(|s| {
                s.ready = true;
                s.progress = p;
            });
            wait_for_condition(&condition, &states, all_ready);
            sleep::<B>(2.0);
            let p = pick(10, 40);
            me.update(|s| {
                s.has_data = true;
                s.progress += p;
            });
            wait_for_condition(&condition, &states, all_data);
            let p = pick(5, 20);
            sleep::<B>(1.0);
            let err = B::choose(5) == 0; // random.random() < 0.2
            me.update(|s| {
                s.progress += p;
                s.has_error |= err;
            });
            wait_for_condition(&condition, &states, min_progress);
            sleep::<B>(0.5);
            wait_for_condition(&condition, &states, error_check);
            sleep::<B>(0.7);
            me.update(|s| s.progress = 100);
        }));
        sleep::<B>(0.1);
    }
    let (c, s) = (condition.clone(), states.clone());
    let monitor = B::spawn("monitor-1", move || loop {
        {
            let _with = c.lock();
            if read_all(&s).iter().all(|w| w.progress == 100) {
                break;
            }
        }
        sleep::<B>(0.5);
    });
    for t in threads {
        t.join();
    }
    monitor.join();
    let s = read_all(&states);
    ensure(s.iter().all(|w| w.progress == 100), "all-reach-100", || {
        format!("final states {s:?}")
    });
}

/// ex-6.2-04, HierarchicalSyncPoint (total_threads=12 → 4, the smallest that keeps the
/// structure): group barriers are sized by formula (`total//4`, `total//2`, `total//6`,
/// `total//12`) but workers are dealt to groups round-robin by `_initialize_workers`; each
/// worker passes its group barrier (if its group has one), then the global
/// `Barrier(sum(group_sizes))`, then appends its layer result. The monitor polls every
/// second until every worker has its global sync result; main joins the workers with
/// `timeout=30`, then joins the monitor. Claims: every worker passes both sync points, the
/// monitor stops at 100%.
fn ex_6_2_04<B: Backend>() {
    const TOTAL: usize = 4;
    let groups = ["COLLECTORS", "PROCESSORS", "VALIDATORS", "AGGREGATORS"];
    let sizes = [TOTAL / 4, TOTAL / 2, TOTAL / 6, TOTAL / 12];
    let layer1_barrier = barrier::<B>("layer1_barrier", sizes.iter().sum(), None, None);
    let group_barriers: Vec<Option<Arc<Barrier<B>>>> = groups
        .iter()
        .zip(sizes)
        .map(|(g, size)| {
            (size > 0).then(|| barrier::<B>(&format!("group_barriers[{g}]"), size, None, None))
        })
        .collect();
    // _initialize_workers: for layer in range(3): for group in ThreadGroup: ... (TOTAL of them)
    let workers: Vec<(usize, usize)> = (0..3)
        .flat_map(|layer| (0..groups.len()).map(move |g| (g, layer)))
        .take(TOTAL)
        .collect();
    // Per worker: completed_tasks (task_count = 1 here) and layer_sync_result.
    type Info<B> = Arc<Shared<(usize, Option<usize>), B>>;
    let infos: Vec<Info<B>> = (0..TOTAL)
        .map(|i| {
            shared::<(usize, Option<usize>), B>(
                &format!("worker_info[{}] (tasks, sync)", i + 1),
                (0, None),
            )
        })
        .collect();
    let group_results = shared::<Vec<(usize, usize)>, B>("self.group_results", Vec::new());
    let layer_results = shared::<Vec<(usize, usize)>, B>("self.layer_results", Vec::new());
    let mut threads = Vec::new();
    for (i, (g, layer)) in workers.into_iter().enumerate() {
        let (gb, global, info, group_results, layer_results) = (
            group_barriers[g].clone(),
            layer1_barrier.clone(),
            infos[i].clone(),
            group_results.clone(),
            layer_results.clone(),
        );
        let role = ["collector", "processor", "validator", "aggregator"][g];
        threads.push(start::<B>(&format!("{role}-{}", i + 1), move || {
            // _execute_group_tasks: one task of uniform(0.2, 1.0)
            sleep::<B>(0.2 + 0.2 * i as f64);
            info.update(|x| x.0 += 1);
            group_results.update(|r| r.push((g, i)));
            if let Some(gb) = gb {
                if gb.wait().is_err() {
                    return;
                }
            }
            // _execute_cross_group_tasks
            sleep::<B>([1.0, 1.5, 1.2, 0.8][g]);
            let Ok(r) = global.wait() else {
                return;
            };
            info.update(|x| x.1 = Some(r));
            // _execute_aggregation_tasks
            sleep::<B>(0.7);
            layer_results.update(|v| v.push((layer, i)));
        }));
        sleep::<B>(0.05);
    }
    let infos2 = infos.clone();
    let monitor = B::spawn("coordination_monitor", move || loop {
        let completed = infos2
            .iter()
            .filter(|x| {
                let (done, sync) = x.get();
                done >= 1 && sync.is_some()
            })
            .count();
        if completed >= TOTAL {
            break;
        }
        sleep::<B>(1.0);
    });
    for t in &threads {
        t.join_timeout(30.0);
    }
    monitor.join();
}

/// The barrier ex-6.2-05 currently points to (`self.current_barrier`), with its number
/// (`self.sync_counter`).
struct Current<B: Backend>(usize, Option<Arc<Barrier<B>>>);

impl<B: Backend> Clone for Current<B> {
    fn clone(&self) -> Self {
        Current(self.0, self.1.clone())
    }
}

impl<B: Backend> fmt::Debug for Current<B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.1 {
            Some(b) => write!(f, "barrier #{} (parties={})", self.0, b.parties()),
            None => f.write_str("None"),
        }
    }
}

/// The state of ex-6.2-05's DynamicSyncPoint.
struct Dynamic<B: Backend> {
    sync_lock: Arc<Lock<B>>,
    condition: Condition<B>,
    current: Shared<Current<B>, B>,
    required_parties: Shared<usize, B>,
    active: Shared<Vec<bool>, B>,
    /// `ex-6.2-05-replace`: the claim that a replacement releases the old barrier's waiters.
    check_replace: bool,
}

impl<B: Backend> Dynamic<B> {
    /// `_recreate_barrier`: notify_all on `self.condition` (not on the barrier), sleep
    /// 0.1 s under the lock, then install `Barrier(required_parties)`.
    fn recreate_barrier(&self) {
        {
            let _with = self.sync_lock.lock();
            let _ = self.condition.notify_all();
            sleep::<B>(0.1);
        }
        let parties = self.required_parties.get();
        let n = self.current.get().0 + 1;
        let b = barrier::<B>(&format!("barrier #{n}"), parties, None, None);
        self.current.set(Current(n, Some(b)));
    }

    /// `dynamic_worker(worker_id)`: work, sync every 3 tasks, rest; while active.
    fn worker(&self, id: usize, task: f64, rest: f64) {
        let mut completed = 0;
        while self.active.get()[id] {
            sleep::<B>(task);
            completed += 1;
            if completed % 3 == 0 {
                // _perform_dynamic_sync
                let cur = {
                    let _with = self.sync_lock.lock();
                    self.current.get()
                };
                let t0 = now::<B>();
                let b = cur.1.clone().expect("initialize_system made a barrier");
                let r = b.wait_timeout(Some(5.0));
                if self.check_replace {
                    let latest = self.current.get().0;
                    ensure(
                        r.is_ok() || latest == cur.0,
                        "replacement-releases-old-waiters",
                        || {
                            format!(
                            "worker {} waited on barrier #{} from {t0:.1} s until {:.1} s and got \
                             {r:?}: barrier #{latest} replaced it meanwhile, but notify_all() on \
                             self.condition does not reach a Barrier's waiters (old.abort() would)",
                            id + 1,
                            cur.0,
                            now::<B>()
                        )
                        },
                    );
                }
            }
            sleep::<B>(rest);
        }
    }
}

/// ex-6.2-05, DynamicSyncPoint (3 initial pooled workers → 2, manager 10 cycles → 2):
/// workers loop while active, syncing every 3 tasks on the current barrier with
/// `timeout=5.0`; the manager (daemon) adds or removes a worker with probability 0.6 per
/// cycle, each time replacing the barrier; the monitor (daemon) polls for 30 s. Main waits
/// for the pooled workers with `future.result(timeout=20)`, then leaves the
/// `with ThreadPoolExecutor` block (shutdown(wait=True): joins them), and only then would
/// `_cleanup()` clear `is_active`. `COINS`: the manager's coin at each cycle, or `None` to
/// let the checker choose (0 none, 1 add, 2 remove).
fn dynamic_sync<B: Backend>(coins: Option<[usize; 2]>) {
    const INITIAL: usize = 2;
    let sync_lock = Arc::new(Lock::<B>::new().with_name("self.sync_lock"));
    let dynamic = Arc::new(Dynamic {
        condition: Condition::<B>::with_lock(sync_lock.clone()).with_name("self.condition"),
        sync_lock,
        current: Shared::<Current<B>, B>::new(Current(0, None)).with_name("self.current_barrier"),
        required_parties: Shared::<usize, B>::new(INITIAL).with_name("self.required_parties"),
        active: Shared::<Vec<bool>, B>::new(vec![true; INITIAL]).with_name("is_active"),
        check_replace: coins.is_some(),
    });
    // initialize_system
    dynamic.recreate_barrier();
    // random.uniform(0.3, 1.5) per task, uniform(0.5, 2.0) per rest
    let timing = [(1.0, 0.7), (1.4, 1.0), (0.7, 1.5), (1.2, 0.8)];
    let mut pool = Vec::new();
    for (id, &(task, rest)) in timing.iter().enumerate().take(INITIAL) {
        let d = dynamic.clone();
        pool.push(start::<B>(&format!("pool-worker-{}", id + 1), move || {
            d.worker(id, task, rest)
        }));
    }
    let d = dynamic.clone();
    let _manager = B::spawn("thread_manager (daemon)", move || {
        for cycle in 0..2 {
            let coin = match coins {
                Some(c) => c[cycle],
                None => B::choose(3), // random.random() < 0.6, then choice(['add', 'remove'])
            };
            let active = d.active.get();
            let count = active.iter().filter(|a| **a).count();
            if coin == 1 && count < 8 {
                // _add_random_worker
                let id = active.len();
                d.active.update(|a| a.push(true));
                d.required_parties.update(|p| *p += 1);
                d.recreate_barrier();
                let (task, rest) = timing[id.min(timing.len() - 1)];
                let d2 = d.clone();
                let _ = B::spawn(&format!("DynamicWorker-{} (daemon)", id + 1), move || {
                    d2.worker(id, task, rest)
                });
            } else if coin == 2 && count > 2 {
                // _remove_random_worker: random.choice(active_workers)
                let pick = if coins.is_some() { 0 } else { B::choose(count) };
                let victim = active
                    .iter()
                    .enumerate()
                    .filter(|(_, a)| **a)
                    .nth(pick)
                    .map_or(0, |(i, _)| i);
                d.active.update(|a| a[victim] = false);
                d.required_parties.update(|p| *p -= 1);
                d.recreate_barrier();
            }
            sleep::<B>(5.0); // uniform(3.0, 8.0)
        }
    });
    let d = dynamic.clone();
    let _monitor = B::spawn("performance_monitor (daemon)", move || {
        let start = now::<B>();
        loop {
            {
                let _with = d.sync_lock.lock();
                let _ = d.active.get();
                let _ = d.required_parties.get();
            }
            if now::<B>() - start > 30.0 {
                break;
            }
            sleep::<B>(2.0);
        }
    });
    for f in &pool {
        f.join_timeout(20.0); // future.result(timeout=20): TimeoutError, logged
    }
    // leaving `with ThreadPoolExecutor(...)`: shutdown(wait=True)
    for f in pool {
        f.join();
    }
    sleep::<B>(2.0);
    // _cleanup()
    dynamic
        .active
        .update(|a| a.iter_mut().for_each(|x| *x = false));
}

fn ex_6_2_05<B: Backend>() {
    dynamic_sync::<B>(None)
}

fn ex_6_2_05_replace<B: Backend>() {
    dynamic_sync::<B>(Some([0, 1]))
}

/// ex-6.2-06, SyncPointOptimizer._baseline_sync (6 pooled workers → 3, one workload, one
/// strategy): each task creates its OWN `Barrier(parties=num_threads)`, sleeps its work
/// load and waits with `timeout=10.0`; a BrokenBarrierError escapes the task and
/// `future.result()` logs it. Claim: the strategy's metrics cover every worker.
fn ex_6_2_06<B: Backend>() {
    const N: usize = 3;
    let metrics_list = shared::<Vec<usize>, B>("metrics_list", Vec::new());
    let loads = [2.0, 2.5, 1.8];
    let mut futures = Vec::new();
    for (i, load) in loads.into_iter().enumerate() {
        let metrics_list = metrics_list.clone();
        futures.push(B::spawn(&format!("pool-worker-{}", i + 1), move || {
            let b = barrier::<B>(&format!("barrier (task {})", i + 1), N, None, None);
            sleep::<B>(load);
            if b.wait_timeout(Some(10.0)).is_ok() {
                metrics_list.update(|m| m.push(i + 1));
            }
        }));
    }
    for f in futures {
        f.join();
    }
    let m = metrics_list.get();
    ensure(m.len() == N, "all-pass-barrier", || {
        format!(
            "baseline: {} of {N} tasks returned metrics ('No valid metrics'): each task \
             waited alone on its own local Barrier({N})",
            m.len()
        )
    });
}

// ---- 6.3 phased execution -----------------------------------------------------------------

/// ex-6.3-01, PhasedExecution (4 workers × 3 phases → 2 × 3): one `Barrier(timeout=10.0)`
/// per phase; each phase's result is appended to `self.results[phase]`; phases 2 and 3 read
/// "their" earlier results as `self.results[k][worker_id - 1]`. `CHECK`: the prose's claim
/// that a worker's phase-k output is its own phase-(k+1) input; otherwise (adversarial)
/// that every worker completes every phase.
fn phased<B: Backend, const CHECK: bool>() {
    const N: usize = 2;
    const PHASES: usize = 3;
    let barriers: Vec<_> = (0..PHASES)
        .map(|p| barrier::<B>(&format!("self.barriers[{p}]"), N, None, None))
        .collect();
    let results: Vec<_> = (0..PHASES)
        .map(|p| shared::<Vec<usize>, B>(&format!("self.results[{p}] (worker ids)"), Vec::new()))
        .collect();
    let phases = Arc::new(Rounds::<B>::new("phases", N));
    // uniform(1.0, 3.0), uniform(0.5, 2.0), uniform(0.3, 1.0)
    let work = [[2.0, 1.0, 0.5], [1.0, 1.5, 0.8]];
    let mut threads = Vec::new();
    for (i, w) in work.into_iter().enumerate() {
        let worker_id = i + 1;
        let (barriers, results, phases) = (barriers.clone(), results.clone(), phases.clone());
        threads.push(B::spawn(&format!("PhaseWorker-{worker_id}"), move || {
            for (phase, secs) in w.into_iter().enumerate() {
                // phases 2 and 3 read results[k][worker_id - 1] for every earlier k
                for (k, result) in results.iter().enumerate().take(phase) {
                    let prev = result.get();
                    if CHECK {
                        let got = prev.get(worker_id - 1).copied();
                        ensure(got == Some(worker_id), "phase-input-is-own-output", || {
                            format!(
                                "worker {worker_id} in phase {} read self.results[{k}][{}], the \
                                 result of worker {got:?}: the list is in completion order \
                                 {prev:?}, not by worker id",
                                phase + 1,
                                worker_id - 1
                            )
                        });
                    }
                }
                sleep::<B>(secs);
                results[phase].update(|r| r.push(worker_id));
                phases.arrive(phase);
                if barriers[phase].wait_timeout(Some(10.0)).is_err() {
                    return;
                }
                phases.depart(phase);
            }
        }));
        sleep::<B>(0.1);
    }
    for t in threads {
        t.join();
    }
    if !CHECK {
        let done: Vec<usize> = results.iter().map(|r| r.get().len()).collect();
        ensure(done.iter().all(|&n| n == N), "all-pass-barrier", || {
            format!("threads completed per phase: {done:?} of {N}")
        });
    }
}

fn ex_6_3_01<B: Backend>() {
    phased::<B, true>()
}

fn ex_6_3_01_adversarial<B: Backend>() {
    phased::<B, false>()
}

/// The outcome of a phase of ex-6.3-02 for one worker.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Status {
    Completed,
    Skipped,
}

/// ex-6.3-02, ComplexPhasedExecution (6 workers × 6 phases → 2 × 3; phase sleeps scaled
/// down 10x): phases with dependencies (a phase runs only if this worker COMPLETED its
/// dependencies), a `Barrier(timeout=15.0)` per phase, results recorded under
/// `result_lock` and copied to `shared_data` under `shared_lock`. A BrokenBarrierError
/// makes the worker return. The analysis prints "✅ 所有关键阶段都成功完成" when every
/// phase-N record is COMPLETED. The error monitor (a daemon that only reads and logs) is
/// left out. Claims: phase separation; the ✅ message means every worker completed.
fn ex_6_3_02<B: Backend>() {
    // (id, dependencies, critical): phases 1, 3 and 6 of the original (deps kept in kind)
    const PHASES: [(usize, &[usize], bool); 3] =
        [(1, &[], true), (2, &[1], false), (3, &[1, 2], true)];
    const N: usize = 2;
    let barriers: Vec<_> = PHASES
        .iter()
        .map(|(id, _, _)| barrier::<B>(&format!("self.barriers[{id}]"), N, None, None))
        .collect();
    let result_lock = Arc::new(Lock::<B>::new().with_name("self.result_lock"));
    let shared_lock = Arc::new(Lock::<B>::new().with_name("self.shared_lock"));
    let phase_results = shared::<Vec<(usize, usize, Status)>, B>("self.phase_results", Vec::new());
    let shared_data = shared::<Vec<(usize, usize)>, B>("self.shared_data", Vec::new());
    let phases = Arc::new(Rounds::<B>::new("phases", N));
    let work = [[0.03, 0.2, 0.05], [0.01, 0.1, 0.08]];
    let mut threads = Vec::new();
    for (i, w) in work.into_iter().enumerate() {
        let worker_id = i + 1;
        let (barriers, result_lock, shared_lock, phase_results, shared_data, phases) = (
            barriers.clone(),
            result_lock.clone(),
            shared_lock.clone(),
            phase_results.clone(),
            shared_data.clone(),
            phases.clone(),
        );
        threads.push(B::spawn(&format!("ComplexWorker-{worker_id}"), move || {
            let record = |phase: usize, status: Status| {
                {
                    let _with = result_lock.lock();
                    phase_results.update(|r| r.push((phase, worker_id, status)));
                }
                let _with = shared_lock.lock();
                shared_data.update(|d| d.push((phase, worker_id)));
            };
            for (k, &(phase, deps, _critical)) in PHASES.iter().enumerate() {
                // _check_dependencies (reads phase_results without result_lock)
                let done = phase_results.get();
                let met = deps.iter().all(|d| {
                    done.iter()
                        .any(|&(p, w, s)| p == *d && w == worker_id && s == Status::Completed)
                });
                if !met {
                    record(phase, Status::Skipped);
                    continue;
                }
                sleep::<B>(w[k]);
                {
                    // the phase's own shared_data access (config/loaded data/...)
                    let _with = shared_lock.lock();
                    let _ = shared_data.get();
                }
                record(phase, Status::Completed);
                phases.arrive(k);
                if barriers[k].wait_timeout(Some(15.0)).is_err() {
                    return; // error_queue.put(('BARRIER_BROKEN', ...)); return
                }
                phases.depart(k);
            }
        }));
        sleep::<B>(0.05);
    }
    for t in threads {
        t.join();
    }
    let last = PHASES[PHASES.len() - 1].0;
    let r = phase_results.get();
    let finals: Vec<_> = r.iter().filter(|(p, _, _)| *p == last).collect();
    let all_completed = finals.iter().all(|(_, _, s)| *s == Status::Completed);
    let completed = finals
        .iter()
        .filter(|(_, _, s)| *s == Status::Completed)
        .count();
    ensure(
        !all_completed || completed == N,
        "final-report-truthful",
        || {
            format!(
            "'✅ 所有关键阶段都成功完成' is printed with {completed} of {N} workers through phase \
             {last}: all() over no phase-{last} records is True"
        )
        },
    );
}

/// ex-6.3-03, OptimizedPhasedExecution (8 workers × 4 phases → 2 × 3): in each phase a
/// worker does the phase's work (phase 1: CPU only; phase 2: batches with short sleeps,
/// summed here; phase 3: CPU-bound chunks with `time.sleep(0.001)` between them, left out:
/// a millisecond is below the model's time resolution, so all workers compute at the
/// instant the barrier releases them), then
/// `self.operation_counter += 1` without a lock, appends its metrics under
/// `metrics_lock`, and waits on the phase's barrier with a "retry" loop: up to 3
/// `wait(timeout=5.0)` attempts, 0.1 s apart, re-raising after the third. The resource
/// pool, cache and I/O batching (per-worker data behind their own locks) and the psutil
/// monitor (a daemon that only reads) are left out. `CHECK_COUNT`: "总操作数" equals
/// workers × phases (timed); otherwise the retry's claim that a retry waits again
/// (adversarial).
fn optimized<B: Backend, const CHECK_COUNT: bool>() {
    const N: usize = 2;
    const PHASES: usize = 3;
    let barriers: Vec<_> = (0..PHASES)
        .map(|p| barrier::<B>(&format!("self.barriers[{p}]"), N, None, None))
        .collect();
    let metrics_lock = Arc::new(Lock::<B>::new().with_name("self.metrics_lock"));
    let phase_metrics = shared::<Vec<(usize, usize)>, B>("self.phase_metrics", Vec::new());
    let operation_counter = shared::<usize, B>("self.operation_counter", 0);
    // phase 2: the total of its batches' random.uniform(0.01, 0.05) sleeps
    let batches = [2.0, 3.0];
    let mut threads = Vec::new();
    for (i, &batch) in batches.iter().enumerate() {
        let worker_id = i + 1;
        let (barriers, metrics_lock, phase_metrics, counter) = (
            barriers.clone(),
            metrics_lock.clone(),
            phase_metrics.clone(),
            operation_counter.clone(),
        );
        threads.push(B::spawn(
            &format!("OptimizedWorker-{worker_id}"),
            move || {
                for (phase, barrier) in barriers.iter().enumerate() {
                    if phase == 1 {
                        sleep::<B>(batch);
                    }
                    racy_add(&counter, 1);
                    {
                        let _with = metrics_lock.lock();
                        phase_metrics.update(|m| m.push((phase + 1, worker_id)));
                    }
                    // _optimized_barrier_wait
                    for attempt in 0..3 {
                        let t0 = now::<B>();
                        let r = barrier.wait_timeout(Some(5.0));
                        let waited = now::<B>() - t0;
                        if !CHECK_COUNT && attempt > 0 {
                            ensure(r.is_ok() || waited > 0.0, "retry-waits-again", || {
                                format!(
                                    "worker {worker_id}, phase {}: retry {}/3 raised \
                                 BrokenBarrierError at once: a broken barrier stays broken \
                                 until reset(), so the retries cannot succeed",
                                    phase + 1,
                                    attempt + 1
                                )
                            });
                        }
                        match r {
                            Ok(_) => break,
                            Err(_) if attempt == 2 => return, // raise: the thread dies
                            Err(_) => sleep::<B>(0.1),
                        }
                    }
                }
            },
        ));
        sleep::<B>(0.02);
    }
    for t in threads {
        t.join();
    }
    if CHECK_COUNT {
        let n = operation_counter.get();
        ensure(n == N * PHASES, "no-lost-update", || {
            format!(
                "总操作数 {n} after {} phase executions: self.operation_counter += 1 is not \
                 atomic",
                N * PHASES
            )
        });
    }
}

fn ex_6_3_03<B: Backend>() {
    optimized::<B, true>()
}

fn ex_6_3_03_adversarial<B: Backend>() {
    optimized::<B, false>()
}

/// ex-6.3-04, MLOpsPipeline (4 workers × 7 stages → 2 × 3: ingestion, validation,
/// training): each stage writes its records into `stage_data[stage]` under that stage's
/// lock, the next stage reads the previous stage's list (under its lock, then uses it by
/// reference); a worker with too many validation errors returns (never: features are
/// generated in range); every stage ends with `Barrier(timeout=30.0)`; only worker 1
/// trains, on ALL workers' records. Claims: each stage's data is complete before any worker
/// starts the next stage; the pipeline completes.
fn ml_pipeline<B: Backend>() {
    const N: usize = 2;
    const STAGES: [&str; 3] = ["DATA_INGESTION", "DATA_VALIDATION", "MODEL_TRAINING"];
    let barriers: Vec<_> = STAGES
        .iter()
        .map(|s| barrier::<B>(&format!("self.barriers[{s}]"), N, None, None))
        .collect();
    let locks: Vec<_> = STAGES
        .iter()
        .map(|s| Arc::new(Lock::<B>::new().with_name(&format!("self.data_locks[{s}]"))))
        .collect();
    let data: Vec<_> = STAGES
        .iter()
        .map(|s| {
            shared::<Vec<usize>, B>(&format!("self.stage_data[{s}] (record owners)"), Vec::new())
        })
        .collect();
    let passed = shared::<usize, B>("workers through the pipeline (probe)", 0);
    let work = [[1.0, 0.5, 0.2], [1.5, 0.3, 0.1]]; // uniform(0.5, 2.0), (0.3, 1.5), ...
    let mut threads = Vec::new();
    for (i, w) in work.into_iter().enumerate() {
        let worker_id = i + 1;
        let (barriers, locks, data, passed) = (
            barriers.clone(),
            locks.clone(),
            data.clone(),
            passed.clone(),
        );
        threads.push(B::spawn(
            &format!("MLPipelineWorker-{worker_id}"),
            move || {
                for (stage, secs) in w.into_iter().enumerate() {
                    if stage == 0 {
                        sleep::<B>(secs);
                        let _with = locks[0].lock();
                        data[0].update(|d| d.push(worker_id));
                    } else {
                        let source = {
                            let _with = locks[stage - 1].lock();
                            data[stage - 1].get()
                        };
                        if stage == 2 && worker_id == 1 {
                            // only worker 1 trains, on every worker's records
                            ensure(source.len() == N, "stage-data-complete", || {
                                format!(
                                    "training started on {source:?}: a stage's data is incomplete"
                                )
                            });
                        }
                        sleep::<B>(secs);
                        let mine: Vec<usize> =
                            source.iter().copied().filter(|w| *w == worker_id).collect();
                        let _with = locks[stage].lock();
                        data[stage].update(|d| d.extend(mine));
                    }
                    if barriers[stage].wait_timeout(Some(30.0)).is_err() {
                        return;
                    }
                }
                passed.update(|n| *n += 1);
            },
        ));
        sleep::<B>(0.1);
    }
    for t in threads {
        t.join();
    }
    let n = passed.get();
    ensure(n == N, "all-pass-barrier", || {
        format!("{n} of {N} workers went through every stage")
    });
}

// ---- 6.4 callbacks ------------------------------------------------------------------------

/// ex-6.4-01, the stdlib `Barrier(parties=3, action=progress_callback)` reused for 3 phases
/// (3 workers → 2). Claims: the callback runs once per phase, before any worker enters the
/// next phase.
fn ex_6_4_01<B: Backend>() {
    const N: usize = 2;
    const PHASES: usize = 3;
    let runs = shared::<usize, B>("progress_callback runs", 0);
    let r = runs.clone();
    let progress_callback: BarrierAction = Box::new(move || {
        r.update(|n| *n += 1);
        Ok(()) // returns "同步完成": ignored
    });
    let barrier = barrier::<B>("barrier", N, Some(progress_callback), None);
    let phases = Arc::new(Rounds::<B>::new("phases", N));
    let mut threads = Vec::new();
    for i in 1..=N {
        let (barrier, runs, phases) = (barrier.clone(), runs.clone(), phases.clone());
        threads.push(B::spawn(&format!("Worker-{i}"), move || {
            for phase in 1..=PHASES {
                phases.arrive(phase);
                let _ = barrier.wait();
                phases.depart(phase);
                let n = runs.get();
                ensure(n == phase, "callback-once-per-phase", || {
                    format!("Worker-{i} entered the phase after {phase} when the callback had run {n} times")
                });
            }
        }));
    }
    for t in threads {
        t.join();
    }
}

/// A callback of EnhancedCallbackBarrier: `Ok(result)` or `Err(exception text)`.
type Callback = Box<dyn Fn() -> Result<String, String> + Send + Sync>;

/// ex-6.4-02's EnhancedCallbackBarrier (with the missing `Dict` import added), over a
/// `threading.Condition()` (an RLock): a waiting count, a generation, a broken flag, and a
/// callback history that swallows callback exceptions.
struct EnhancedCallbackBarrier<B: Backend> {
    parties: usize,
    action: Option<Callback>,
    timeout: Option<f64>,
    condition: Condition<B>,
    /// (`_waiting`, `_generation`, `_broken`)
    state: Shared<(usize, usize, bool), B>,
    /// `_callback_history`: each entry's `success`.
    history: Shared<Vec<bool>, B>,
}

impl<B: Backend> EnhancedCallbackBarrier<B> {
    fn new(parties: usize, action: Option<Callback>, timeout: Option<f64>, name: &str) -> Self {
        EnhancedCallbackBarrier {
            parties,
            action,
            timeout,
            condition: Condition::<B>::new().with_name(&format!("{name}._condition")),
            state: Shared::new((0, 0, false))
                .with_name(&format!("{name} (_waiting, _generation, _broken)")),
            history: Shared::new(Vec::new()).with_name(&format!("{name}._callback_history")),
        }
    }

    /// `wait(timeout=None) -> bool`.
    fn wait(&self, timeout: Option<f64>) -> Result<bool, Error> {
        let actual_timeout = timeout.or(self.timeout);
        let _with = self.condition.lock();
        if self.state.get().2 {
            return Err(Error::BrokenBarrier);
        }
        let (waiting, current_generation) = self.state.update(|s| {
            s.0 += 1;
            (s.0, s.1)
        });
        if waiting == self.parties {
            if let Some(action) = &self.action {
                // _execute_callback: exceptions are recorded, not raised
                let ok = action().is_ok();
                self.history.update(|h| h.push(ok));
            }
            self.state.update(|s| {
                s.1 += 1;
                s.0 = 0;
            });
            let _ = self.condition.notify_all();
            return Ok(true);
        }
        let start_time = now::<B>();
        loop {
            let (_, generation, broken) = self.state.get();
            if generation != current_generation {
                return Ok(true);
            }
            if broken {
                return Err(Error::BrokenBarrier);
            }
            // `if actual_timeout:` — None and 0 both mean "no timeout"
            match actual_timeout.filter(|t| *t != 0.0) {
                Some(t) => {
                    let remaining = t - (now::<B>() - start_time);
                    if remaining <= 0.0 {
                        self.break_barrier();
                        return Ok(false);
                    }
                    let _ = self.condition.wait(Some(remaining));
                }
                None => {
                    let _ = self.condition.wait(None);
                }
            }
        }
    }

    /// `_break_barrier` (re-enters the condition's RLock).
    fn break_barrier(&self) {
        let _with = self.condition.lock();
        self.state.update(|s| s.2 = true);
        let _ = self.condition.notify_all();
    }
}

/// Drive an EnhancedCallbackBarrier as ex-6.4-01 drives the stdlib one: `N` workers ×
/// `ROUNDS`, `barrier.wait()` with its result ignored, arrivals staggered by `delays`.
/// Returns the barrier (for the caller's checks) after the workers joined.
fn drive_enhanced<B: Backend>(
    ecb: Arc<EnhancedCallbackBarrier<B>>,
    rounds: usize,
    delays: [f64; 2],
) -> Arc<EnhancedCallbackBarrier<B>> {
    const N: usize = 2;
    let phases = Arc::new(Rounds::<B>::new("phases", N));
    let mut threads = Vec::new();
    for (i, delay) in delays.into_iter().enumerate() {
        let (b, phases) = (ecb.clone(), phases.clone());
        threads.push(B::spawn(&format!("Worker-{}", i + 1), move || {
            for round in 1..=rounds {
                sleep::<B>(delay);
                phases.arrive(round);
                if b.wait(None).is_err() {
                    return;
                }
                phases.depart(round);
            }
        }));
    }
    for t in threads {
        t.join();
    }
    ecb
}

/// ex-6.4-02, EnhancedCallbackBarrier(parties=2, action) driven for 2 rounds; the callback
/// raises in the first round. Claims: the last arriver runs the callback once per round
/// before anyone is released; a callback exception is recorded and does not break the
/// barrier; wait() returns True.
fn ex_6_4_02<B: Backend>() {
    let calls = Arc::new(Shared::<usize, B>::new(0).with_name("callback calls"));
    let c = calls.clone();
    let callback: Callback = Box::new(move || {
        let n = c.update(|n| {
            *n += 1;
            *n
        });
        if n == 1 {
            Err("RuntimeError('callback failed')".to_owned())
        } else {
            Ok("done".to_owned())
        }
    });
    let ecb = Arc::new(EnhancedCallbackBarrier::<B>::new(
        2,
        Some(callback),
        None,
        "barrier",
    ));
    let ecb = drive_enhanced(ecb, 2, [0.5, 1.0]);
    let h = ecb.history.get();
    ensure(h == [false, true], "callback-once-per-round", || {
        format!("callback history successes {h:?}, expected [False, True]")
    });
    ensure(!ecb.state.get().2, "callback-error-does-not-break", || {
        "the barrier is broken after a callback raised".to_owned()
    });
}

/// ex-6.4-02 with a timeout: `EnhancedCallbackBarrier(parties=2, timeout=1.0)`, one worker
/// 2 s late, workers call `barrier.wait()` as in 6.4-01 (the result is not checked). The
/// thread whose timeout fires breaks the barrier and returns False instead of raising.
fn ex_6_4_02_timeout<B: Backend>() {
    let ecb = Arc::new(EnhancedCallbackBarrier::<B>::new(
        2,
        None,
        Some(1.0),
        "barrier",
    ));
    let _ = drive_enhanced(ecb, 1, [0.0, 2.0]);
}

/// ex-6.4-03, ProgressMonitor("数据处理任务", 5) as the action of
/// EnhancedCallbackBarrier(parties=3 → 2), driven for 2 rounds: `current_phase += 1`
/// without a lock of its own. Claim: each trip adds exactly one phase (20% per round).
fn ex_6_4_03<B: Backend>() {
    let current_phase = shared::<usize, B>("monitor.current_phase", 0);
    let cp = current_phase.clone();
    let monitor: Callback = Box::new(move || {
        racy_add(&cp, 1);
        let progress = cp.get() * 100 / 5;
        Ok(format!("{progress}%"))
    });
    let ecb = Arc::new(EnhancedCallbackBarrier::<B>::new(
        2,
        Some(monitor),
        None,
        "barrier",
    ));
    let _ = drive_enhanced(ecb, 2, [0.5, 1.0]);
    let n = current_phase.get();
    ensure(n == 2, "callback-once-per-round", || {
        format!("current_phase is {n} after 2 rounds")
    });
}

/// ex-6.4-04, ResourceCleanup as the action of EnhancedCallbackBarrier(parties=3 → 2),
/// driven for 2 rounds. Its two cleanup lambdas name `temp_files` and `database`, which the
/// example never defines: each raises NameError, caught and logged as ✗. Claims: at every
/// trip each cleanup action runs once and is reported (✓/✗, then "k/n").
fn ex_6_4_04<B: Backend>() {
    let attempts = shared::<Vec<(usize, bool)>, B>("cleanup results", Vec::new());
    let a = attempts.clone();
    let round = Arc::new(Shared::<usize, B>::new(0).with_name("trips"));
    let r = round.clone();
    fn clear_temp_files() -> Result<(), String> {
        Err("NameError: name 'temp_files' is not defined".to_owned())
    }
    fn close_connections() -> Result<(), String> {
        Err("NameError: name 'database' is not defined".to_owned())
    }
    type Cleanup = (fn() -> Result<(), String>, &'static str);
    let actions: [Cleanup; 2] = [
        (clear_temp_files, "清理临时文件"),
        (close_connections, "关闭数据库连接"),
    ];
    let cleanup: Callback = Box::new(move || {
        let trip = r.update(|n| {
            *n += 1;
            *n
        });
        for (action, _desc) in &actions {
            let ok = action().is_ok();
            a.update(|v| v.push((trip, ok)));
        }
        Ok(String::new())
    });
    let ecb = Arc::new(EnhancedCallbackBarrier::<B>::new(
        2,
        Some(cleanup),
        None,
        "barrier",
    ));
    let _ = drive_enhanced(ecb, 2, [0.5, 1.0]);
    let v = attempts.get();
    ensure(
        v == [(1, false), (1, false), (2, false), (2, false)],
        "cleanup-once-per-round",
        || format!("(trip, success) of the cleanup actions: {v:?}"),
    );
}

/// ex-6.4-05, StateValidator as the action of EnhancedCallbackBarrier(parties=3 → 2),
/// driven for 2 rounds. Its rules call `check_data_consistency` and `validate_results`,
/// which the example never defines: each raises NameError, so the validator returns False.
/// Claims: it reports the rules and returns whether all passed; the threads are released
/// whatever it returns (the barrier only records the result).
fn ex_6_4_05<B: Backend>() {
    let verdicts = shared::<Vec<bool>, B>("validator results", Vec::new());
    let v = verdicts.clone();
    fn check_data_consistency() -> Result<bool, String> {
        Err("NameError: name 'check_data_consistency' is not defined".to_owned())
    }
    fn validate_results() -> Result<bool, String> {
        Err("NameError: name 'validate_results' is not defined".to_owned())
    }
    let rules: [fn() -> Result<bool, String>; 2] = [check_data_consistency, validate_results];
    let validator: Callback = Box::new(move || {
        let all = rules.iter().all(|rule| rule().unwrap_or(false));
        v.update(|x| x.push(all));
        Ok(all.to_string())
    });
    let ecb = Arc::new(EnhancedCallbackBarrier::<B>::new(
        2,
        Some(validator),
        None,
        "barrier",
    ));
    let ecb = drive_enhanced(ecb, 2, [0.5, 1.0]);
    let got = verdicts.get();
    let (_, generation, _) = ecb.state.get();
    ensure(
        got == [false, false] && generation == 2,
        "released-regardless-of-result",
        || format!("validator results {got:?}, generations completed {generation}"),
    );
}

/// rule-6.2-03 ("所有线程同时释放,避免竞态条件"): two threads pass a barrier together, then
/// both do `counter += 1` without a lock.
fn rule_6_2_03<B: Backend>() {
    let b = barrier::<B>("barrier", 2, None, None);
    let counter = shared::<usize, B>("counter", 0);
    let threads: Vec<_> = (1..=2)
        .map(|i| {
            let (b, counter) = (b.clone(), counter.clone());
            B::spawn(&format!("t{i}"), move || {
                let _ = b.wait();
                racy_add(&counter, 1);
            })
        })
        .collect();
    for t in threads {
        t.join();
    }
    let n = counter.get();
    ensure(n == 2, "no-lost-update", || {
        format!("counter == {n} after two increments made after the barrier released both threads")
    });
}

/// The chapter's scenarios, in tutorial order.
pub fn scenarios() -> Vec<Scenario> {
    vec![
        // 6.1
        Scenario::new(
            "ex-6.1-01",
            "BarrierDemo: staggered workers meet at Barrier(3, action=setup_callback, timeout=10)",
            bodies!(ex_6_1_01),
        )
        .threads(3)
        .source("ex-6.1-01")
        .holds("arrivals span 1 s, well inside the 10 s default timeout; the action runs once, in the last arrival, before anyone is released"),
        Scenario::new(
            "ex-6.1-01-adversarial",
            "BarrierDemo, any pending timeout may fire early",
            bodies!(ex_6_1_01),
        )
        .threads(3)
        .adversarial()
        .source("ex-6.1-01")
        .violates(
            "all-pass-barrier",
            "the 10 s default timeout: if a waiter's timeout fires before the last worker arrives, the barrier breaks for everyone and the results table is short",
        ),
        Scenario::new(
            "ex-6.1-02",
            "BarrierWaitDemo: the thread with index 0 logs that it is the first through the barrier",
            bodies!(ex_6_1_02),
        )
        .threads(3)
        .source("ex-6.1-02")
        .violates(
            "index-0-passes-first",
            "index 0 is the first to arrive; the last arrival (index parties-1) never waits and usually leaves first",
        ),
        Scenario::new(
            "ex-6.1-02-adversarial",
            "BarrierWaitDemo, any pending timeout may fire early",
            bodies!(ex_6_1_02_adversarial),
        )
        .threads(3)
        .adversarial()
        .source("ex-6.1-02")
        .violates(
            "all-pass-barrier",
            "wait(timeout=5.0): a timeout that fires before the last arrival breaks the barrier, so not every index is returned",
        ),
        Scenario::new(
            "ex-6.1-02-timeout",
            "BarrierWaitDemo timeout demo: the last thread sleeps 6 s before wait(timeout=3.0)",
            bodies!(ex_6_1_02_timeout),
        )
        .threads(3)
        .source("ex-6.1-02")
        .violates(
            "late-thread-times-out",
            "the punctual threads time out and break the barrier; the late thread then fails at once with BrokenBarrierError without waiting",
        ),
        Scenario::new(
            "ex-6.1-03",
            "BarrierActionDemo: 2 teams x 2 phases on one Barrier whose action records the phase and sleeps 0.5 s",
            bodies!(ex_6_1_03),
        )
        .threads(2)
        .source("ex-6.1-03")
        .holds("the barrier is cyclic: the action runs once per phase, in the last arrival, and every team is released only after its 0.5 s"),
        Scenario::new(
            "ex-6.1-03-adversarial",
            "BarrierActionDemo, sleeps may end in any order",
            bodies!(ex_6_1_03),
        )
        .threads(2)
        .adversarial()
        .source("ex-6.1-03")
        .holds("no timeouts: whatever the arrival order, each phase trips once and the action precedes every release"),
        Scenario::new(
            "ex-6.1-04",
            "BarrierExceptionDemo: a party that raises before wait() 'breaks the barrier'",
            bodies!(ex_6_1_04),
        )
        .threads(2)
        .source("ex-6.1-04")
        .violates(
            "dead-party-breaks-barrier",
            "a thread that dies before wait() does not break a barrier; _check_barrier_status's own wait() is the missing party and trips it ('barrier status normal')",
        ),
        Scenario::new(
            "ex-6.1-04-timeout",
            "BarrierExceptionDemo timeout demo: the 'timeout' thread arrives 3 s late with wait(timeout=2.0)",
            bodies!(ex_6_1_04_timeout),
        )
        .threads(4)
        .source("ex-6.1-04")
        .violates(
            "late-thread-times-out",
            "the late thread is the last party: it trips the barrier (index parties-1) and never waits, so nothing times out",
        ),
        Scenario::new(
            "ex-6.1-04-recovery",
            "BarrierExceptionDemo recovery demo: a new Barrier(3), wait(timeout=5.0)",
            bodies!(ex_6_1_04_recovery),
        )
        .threads(3)
        .source("ex-6.1-04")
        .holds("arrivals within 0.4 s of each other, inside the 5 s timeout"),
        Scenario::new(
            "ex-6.1-04-recovery-adversarial",
            "BarrierExceptionDemo recovery demo, any pending timeout may fire early",
            bodies!(ex_6_1_04_recovery),
        )
        .threads(3)
        .adversarial()
        .source("ex-6.1-04")
        .violates(
            "all-pass-barrier",
            "wait(timeout=5.0): an early timeout breaks the new barrier for all three",
        ),
        Scenario::new(
            "ex-6.1-05",
            "BarrierPerformanceDemo: each pooled worker creates its own Barrier(3) and waits with timeout=2",
            bodies!(ex_6_1_05),
        )
        .threads(3)
        .source("ex-6.1-05")
        .violates(
            "all-pass-barrier",
            "no barrier is shared: every worker waits alone on its local Barrier(3), times out with BrokenBarrierError and records nothing",
        ),
        Scenario::new(
            "ex-6.1-06",
            "ParallelDataProcessor: 2 workers, 4 stage barriers with actions, 2 rounds; batch_results[...] += n without a lock",
            bodies!(ex_6_1_06),
        )
        .threads(2)
        .source("ex-6.1-06")
        .violates(
            "no-lost-update",
            "the barrier releases both workers at once into the next round's extraction, where batch_results['extracted_records'] += 1 (a read then a write) loses an update",
        ),
        Scenario::new(
            "ex-6.1-06-default-count",
            "ParallelDataProcessor with the method's default data_count (not a multiple of workers x batch)",
            bodies!(ex_6_1_06_default_count),
        )
        .threads(2)
        .source("ex-6.1-06")
        .violates(
            "lost-wakeup",
            "in the last, partial round the worker that got no record breaks out of its loop without waiting; the one that got a record waits on extract_barrier forever",
        ),
        // 6.2
        Scenario::new(
            "ex-6.2-01",
            "BasicSyncPoint: 3 threads, random phase-1 work, one Barrier, phase 2",
            bodies!(ex_6_2_01),
        )
        .threads(3)
        .source("ex-6.2-01")
        .holds("no timeout: every thread passes with a distinct index, and none starts phase 2 before all finished phase 1"),
        Scenario::new(
            "ex-6.2-01-adversarial",
            "BasicSyncPoint, sleeps may end in any order",
            bodies!(ex_6_2_01),
        )
        .threads(3)
        .adversarial()
        .source("ex-6.2-01")
        .holds("the claims do not depend on the arrival order"),
        Scenario::new(
            "ex-6.2-02",
            "MultiPointSync: 2 threads x 2 sync points, each record labelled phase=len(self.sync_metrics)",
            bodies!(ex_6_2_02),
        )
        .threads(2)
        .source("ex-6.2-02")
        .violates(
            "metrics-labelled-by-sync-point",
            "the label is a running count of records, not the sync point's index, so the per-point analysis (m.phase == i) mixes sync points",
        ),
        Scenario::new(
            "ex-6.2-03",
            "ConditionalSyncPoint: predicate sync points polled with condition.wait(timeout=0.1)",
            bodies!(ex_6_2_03),
        )
        .threads(3)
        .needs_choice()
        .max_steps(600)
        .source("ex-6.2-03")
        .violates(
            "step-budget",
            "a worker whose random progress stays below 70 waits on 'all >= 70' and can never raise it: every worker polls forever, and the monitor with them",
        ),
        Scenario::new(
            "ex-6.2-04",
            "HierarchicalSyncPoint (total_threads=4): group barriers sized by formula, workers dealt round-robin",
            bodies!(ex_6_2_04),
        )
        .threads(5)
        .max_steps(400)
        .source("ex-6.2-04")
        .violates(
            "step-budget",
            "the processors' group barrier wants total//2 parties but the round-robin deal gives the group total//4 workers: the processor waits forever, so the monitor polls forever and main's monitor.join() never returns",
        ),
        Scenario::new(
            "ex-6.2-05",
            "DynamicSyncPoint: workers loop while active; the manager replaces the barrier as it adds or removes workers",
            bodies!(ex_6_2_05),
        )
        .threads(6)
        .needs_choice()
        .max_steps(1_000)
        .source("ex-6.2-05")
        .violates(
            "step-budget",
            "the pooled workers loop while is_active, which only _cleanup() clears, after the `with ThreadPoolExecutor` block, whose shutdown(wait=True) joins them first: the program never ends",
        ),
        Scenario::new(
            "ex-6.2-05-replace",
            "DynamicSyncPoint, the manager's coin says 'add' at its second cycle: a worker waits on the replaced barrier",
            bodies!(ex_6_2_05_replace),
        )
        .threads(6)
        .max_steps(1_000)
        .source("ex-6.2-05")
        .violates(
            "replacement-releases-old-waiters",
            "_recreate_barrier notifies self.condition, which no Barrier waiter waits on, and never aborts the old barrier: its waiter stays until its own 5 s timeout",
        ),
        Scenario::new(
            "ex-6.2-06",
            "SyncPointOptimizer baseline strategy: each pooled task creates its own Barrier(3)",
            bodies!(ex_6_2_06),
        )
        .threads(3)
        .source("ex-6.2-06")
        .violates(
            "all-pass-barrier",
            "no barrier is shared: every task times out alone after 10 s and the strategy has no metrics",
        ),
        // 6.3
        Scenario::new(
            "ex-6.3-01",
            "PhasedExecution: 2 workers x 3 phases, previous results read as results[k][worker_id-1]",
            bodies!(ex_6_3_01),
        )
        .threads(2)
        .source("ex-6.3-01")
        .violates(
            "phase-input-is-own-output",
            "results[k] is filled in completion order, so a worker reads another worker's output as its own input",
        ),
        Scenario::new(
            "ex-6.3-01-adversarial",
            "PhasedExecution, any pending timeout may fire early",
            bodies!(ex_6_3_01_adversarial),
        )
        .threads(2)
        .adversarial()
        .source("ex-6.3-01")
        .violates(
            "all-pass-barrier",
            "Barrier(timeout=10): an early timeout breaks a phase's barrier and its workers return",
        ),
        Scenario::new(
            "ex-6.3-02",
            "ComplexPhasedExecution: 2 workers x 3 dependent phases, Barrier(timeout=15) per phase",
            bodies!(ex_6_3_02),
        )
        .threads(2)
        .source("ex-6.3-02")
        .holds("no phase fails as written, so every worker completes every phase in step and the report is true"),
        Scenario::new(
            "ex-6.3-02-adversarial",
            "ComplexPhasedExecution, any pending timeout may fire early",
            bodies!(ex_6_3_02),
        )
        .threads(2)
        .adversarial()
        .source("ex-6.3-02")
        .violates(
            "final-report-truthful",
            "a broken barrier makes every worker return; all() over the empty list of final-phase records is True, so the report says all critical phases completed",
        ),
        Scenario::new(
            "ex-6.3-03",
            "OptimizedPhasedExecution: 2 workers x 3 phases, unlocked operation_counter += 1",
            bodies!(ex_6_3_03),
        )
        .threads(2)
        .source("ex-6.3-03")
        .violates(
            "no-lost-update",
            "the barrier releases both workers into a CPU-only phase at once; self.operation_counter += 1 is a read then a write",
        ),
        Scenario::new(
            "ex-6.3-03-adversarial",
            "OptimizedPhasedExecution's wait-with-retry, any pending timeout may fire early",
            bodies!(ex_6_3_03_adversarial),
        )
        .threads(2)
        .adversarial()
        .source("ex-6.3-03")
        .violates(
            "retry-waits-again",
            "once a wait times out the barrier is broken until reset(): every retry raises BrokenBarrierError at once",
        ),
        Scenario::new(
            "ex-6.3-04",
            "MLOpsPipeline: 2 workers x 3 stages, Barrier(timeout=30) per stage, worker 1 trains on all data",
            bodies!(ml_pipeline),
        )
        .threads(2)
        .source("ex-6.3-04")
        .holds("each stage's barrier orders every write of the stage before every read of the next; nobody leaves early as written"),
        Scenario::new(
            "ex-6.3-04-adversarial",
            "MLOpsPipeline, any pending timeout may fire early",
            bodies!(ml_pipeline),
        )
        .threads(2)
        .adversarial()
        .source("ex-6.3-04")
        .violates(
            "all-pass-barrier",
            "Barrier(timeout=30): an early timeout breaks a stage's barrier and its workers return",
        ),
        // 6.4
        Scenario::new(
            "ex-6.4-01",
            "stdlib Barrier(2, action=progress_callback) reused for 3 phases",
            bodies!(ex_6_4_01),
        )
        .threads(2)
        .source("ex-6.4-01")
        .holds("the action runs once per phase, in the last arrival, before either worker enters the next phase"),
        Scenario::new(
            "ex-6.4-02",
            "EnhancedCallbackBarrier(2, callback): 2 rounds, the callback raises in the first",
            bodies!(ex_6_4_02),
        )
        .threads(2)
        .source("ex-6.4-02")
        .holds("the generation counter separates rounds; the callback runs once per round under the condition's lock and its exception is only recorded"),
        Scenario::new(
            "ex-6.4-02-timeout",
            "EnhancedCallbackBarrier(2, timeout=1.0) with a party 2 s late; wait()'s result ignored",
            bodies!(ex_6_4_02_timeout),
        )
        .threads(2)
        .source("ex-6.4-02")
        .violates(
            "barrier-generation",
            "the waiter whose timeout fires breaks the barrier and returns False instead of raising: a caller that does not test the result leaves the sync point before the other party arrived",
        ),
        Scenario::new(
            "ex-6.4-03",
            "ProgressMonitor as the action of EnhancedCallbackBarrier(2), 2 rounds",
            bodies!(ex_6_4_03),
        )
        .threads(2)
        .source("ex-6.4-03")
        .holds("current_phase += 1 has no lock of its own, but the action runs once per round under the barrier's lock"),
        Scenario::new(
            "ex-6.4-04",
            "ResourceCleanup as the action of EnhancedCallbackBarrier(2), 2 rounds",
            bodies!(ex_6_4_04),
        )
        .threads(2)
        .source("ex-6.4-04")
        .holds("each cleanup action runs once per trip, before release (and fails every time with NameError, as written)"),
        Scenario::new(
            "ex-6.4-05",
            "StateValidator as the action of EnhancedCallbackBarrier(2), 2 rounds",
            bodies!(ex_6_4_05),
        )
        .threads(2)
        .source("ex-6.4-05")
        .holds("the validator returns False every round (its rules raise NameError) and the threads are released anyway"),
        Scenario::new(
            "rule-6.2-03",
            "two threads released together by a Barrier, then an unlocked counter += 1",
            bodies!(rule_6_2_03),
        )
        .threads(2)
        .source("rule-6.2-03")
        .violates(
            "no-lost-update",
            "a barrier releases its parties by one state change, but they then run concurrently: it excludes nothing afterwards",
        ),
    ]
}

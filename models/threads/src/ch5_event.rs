//! Chapter 5 (threading.Event) of the tutorial: its examples as scenarios.
//!
//! Each `ex_5_S_NN` body is the tutorial's example `ex-5.S-NN`, scaled down (fewer threads,
//! rounds and steps, the same operations and the same use of locks and events) and
//! asserting what the example's comments and prints claim. Python pieces with no lockproof
//! counterpart are modelled minimally with lockproof primitives:
//!
//! | Python | model |
//! |---|---|
//! | `t.join(timeout)`, `t.is_alive()` | [`Thread`]: the thread sets a `finished` Event as its last step |
//! | `queue.Queue` used without blocking (`put`, `empty`, `get_nowait`) | a [`Shared`] deque: each call is one atomic step, as under the queue's mutex |
//! | `queue.PriorityQueue.get(timeout=1)` | [`PriorityQueue`]: CPython's `Queue` (a `Lock`, a `Condition` `not_empty`) over `heapq` |
//! | `random.uniform(a, b)`, `random.random() < p` | `B::choose` among the interesting values |
//! | a `logging` line that states a claim | `ensure` |
//!
//! Probes (variables that only the assertions read, such as the batch a producer announced
//! or the number of broadcasts of a type) are [`Shared`] variables named `probe:…`.
//!
//! Verdicts:
//!
//! | id | verdict |
//! |---|---|
//! | ex-5.1-01 | violates no-lost-update (`with threading.Lock():` locks a fresh lock) |
//! | ex-5.1-02 | holds |
//! | ex-5.1-03 (+ adversarial) | violates each-batch-once |
//! | ex-5.1-04 | holds; adversarial: violates monitor-stopped |
//! | ex-5.1-05 | holds |
//! | ex-5.1-06 | violates no-lost-update; adversarial: violates joins-in-time |
//! | ex-5.2-01 | violates lost-wakeup (demo 2 waits forever on COMPLETING) |
//! | ex-5.2-02 | violates round-complete |
//! | ex-5.2-03 | violates wait-timeout-return-value |
//! | ex-5.2-04 | holds |
//! | ex-5.2-05 | violates one-start-per-round |
//! | ex-5.2-06 | holds; adversarial: violates each-batch-once |
//! | ex-5.3-01 | holds |
//! | ex-5.3-02 | violates notified-after-broadcast |
//! | ex-5.3-03 | violates step-budget (the collector polls forever) |
//! | ex-5.3-04 | violates alert-handled-once |
//! | ex-5.3-05 (+ adversarial) | holds |
//! | ex-5.4-01 | violates no-uncaught-exception |
//! | ex-5.4-02 (+ adversarial) | holds |
//! | ex-5.4-03 | violates wait-means-changed |
//! | ex-5.4-04 | violates event-tracks-queue |

use lockproof_scenario::prelude::*;
use std::collections::VecDeque;

// ---- helpers --------------------------------------------------------------------------

/// `time.sleep(secs)` (virtual time under a checker).
fn sleep<B: Backend>(secs: f64) {
    B::sleep(Duration::from_secs_f64(secs));
}

/// The virtual clock in seconds (`time.time()`).
fn now<B: Backend>() -> f64 {
    B::now().0 as f64 / 1e9
}

/// A started `threading.Thread` whose `join(timeout)` and `is_alive()` the example uses.
///
/// CPython's `join(timeout)` waits, with a timeout, for the thread's end; the model waits on
/// an Event the thread sets as its very last step (named `<thread>.finished`).
struct Thread<B: Backend> {
    handle: B::JoinHandle<()>,
    finished: Arc<Event<B>>,
}

impl<B: Backend> Thread<B> {
    /// `threading.Thread(target=f, name=name).start()`.
    fn start(name: &str, f: impl FnOnce() + Send + 'static) -> Self {
        let finished = Arc::new(Event::<B>::new().with_name(&format!("{name}.finished")));
        let done = finished.clone();
        let handle = B::spawn(name, move || {
            f();
            done.set();
        });
        Thread { handle, finished }
    }

    /// `join(timeout)`.
    fn join_timeout(&self, timeout: f64) {
        let _ = self.finished.wait(Some(timeout));
    }

    /// `is_alive()`.
    fn is_alive(&self) -> bool {
        !self.finished.is_set()
    }

    /// `join()`.
    fn join(self) {
        self.handle.join();
    }
}

// ---- ex-5.1-01: TaskManager -----------------------------------------------------------

/// 2 workers (of 3) wait on `start_event`; main sleeps 1 s and sets it; each worker runs
/// its steps and then does `with threading.Lock(): self.completed_tasks += 1`. That `with`
/// makes a new lock every time, so it excludes nobody: two increments can interleave.
fn ex_5_1_01<B: Backend>() {
    const WORKERS: usize = 2;
    const STEPS: usize = 2;
    let start_event = Arc::new(Event::<B>::new().with_name("start_event"));
    let completed_tasks = Arc::new(Shared::<usize, B>::new(0).with_name("completed_tasks"));
    let workers: Vec<_> = (1..=WORKERS)
        .map(|id| {
            let (start_event, completed_tasks) = (start_event.clone(), completed_tasks.clone());
            B::spawn(&format!("Worker-{id}"), move || {
                // "等待开始信号..."
                let woke = start_event.wait(None);
                ensure(woke == Ok(true), "set-wakes-all-waiters", || {
                    format!("start_event.wait() returned {woke:?}")
                });
                for _ in 0..STEPS {
                    sleep::<B>(0.5);
                }
                // with threading.Lock():  (a new lock per call)
                let fresh = Lock::<B>::new().with_name(&format!("threading.Lock()@{id}"));
                let _with = fresh.lock();
                completed_tasks.set(completed_tasks.get() + 1);
            })
        })
        .collect();
    sleep::<B>(1.0);
    start_event.set();
    for w in workers {
        w.join();
    }
    let n = completed_tasks.get();
    ensure(n == WORKERS, "no-lost-update", || {
        format!("'所有任务完成!总完成任务数: {n}' with {WORKERS} workers")
    });
}

// ---- ex-5.1-02: ReusableEventSystem ---------------------------------------------------

/// One event reused over rounds: each round clears it, starts 2 workers that wait on it,
/// sleeps 0.5 s, sets it and joins them. A worker must pass `wait()` only after the `set()`
/// of its own round.
fn ex_5_1_02<B: Backend>() {
    const ROUNDS: usize = 2;
    const WORKERS: usize = 2;
    let round_event = Arc::new(Event::<B>::new().with_name("round_event"));
    let current_round = Arc::new(Shared::<usize, B>::new(0).with_name("current_round"));
    // Probe: the round whose set() has run (written just before the set).
    let released = Arc::new(Shared::<usize, B>::new(0).with_name("probe:released"));
    for round_num in 1..=ROUNDS {
        current_round.set(round_num);
        round_event.clear();
        let workers: Vec<_> = (1..=WORKERS)
            .map(|id| {
                let (round_event, current_round, released) =
                    (round_event.clone(), current_round.clone(), released.clone());
                B::spawn(&format!("Round{round_num}-Worker{id}"), move || {
                    let _ = current_round.get(); // "第{current_round}轮-Worker: 准备就绪"
                    let _ = round_event.wait(None);
                    let r = released.get();
                    ensure(r == round_num, "event-set-clear-wait", || {
                        format!("a round-{round_num} worker passed wait() before its round's set() (last set: round {r})")
                    });
                    let _ = current_round.get(); // "开始工作"
                    sleep::<B>(0.3);
                })
            })
            .collect();
        sleep::<B>(0.5);
        released.set(round_num);
        round_event.set();
        for w in workers {
            w.join();
        }
        sleep::<B>(0.5);
    }
}

// ---- ex-5.1-03: EventWaitDemo ---------------------------------------------------------

/// The producer pulses `data_ready` (sleep random 1–3 s, set, sleep 0.5, clear, sleep 0.5)
/// per batch; consumers loop on `wait(timeout=2.0)`, process a random 0.5–1.5 s and count
/// the batch, and quit on the first timeout. Claim: every consumer processes every batch,
/// once.
fn ex_5_1_03<B: Backend>() {
    const BATCHES: usize = 2;
    const CONSUMERS: usize = 2;
    let data_ready = Arc::new(Event::<B>::new().with_name("data_ready"));
    // Probe: the batch the producer announced last (written just before its set()).
    let batch = Arc::new(Shared::<usize, B>::new(0).with_name("probe:batch"));
    let producer = {
        let (data_ready, batch) = (data_ready.clone(), batch.clone());
        B::spawn("producer", move || {
            for b in 1..=BATCHES {
                // production_time = random.uniform(1.0, 3.0)
                sleep::<B>([1.0, 2.0, 3.0][B::choose(3)]);
                batch.set(b);
                data_ready.set();
                sleep::<B>(0.5);
                data_ready.clear();
                sleep::<B>(0.5);
            }
        })
    };
    let consumers: Vec<_> = (1..=CONSUMERS)
        .map(|i| {
            let (data_ready, batch) = (data_ready.clone(), batch.clone());
            B::spawn(&format!("Processor-{i}"), move || {
                let mut processed = Vec::new();
                let mut batch_count = 0;
                while batch_count < BATCHES {
                    if data_ready.wait(Some(2.0)) == Ok(true) {
                        processed.push(batch.get());
                        // processing_time = random.uniform(0.5, 1.5)
                        sleep::<B>([0.5, 1.0, 1.5][B::choose(3)]);
                        batch_count += 1;
                    } else {
                        // "等待数据超时,停止处理"
                        break;
                    }
                }
                let want: Vec<usize> = (1..=BATCHES).collect();
                ensure(processed == want, "each-batch-once", || {
                    format!(
                        "Processor-{i} processed batches {processed:?}, the producer made {want:?}"
                    )
                });
            })
        })
        .collect();
    producer.join();
    for c in consumers {
        c.join();
    }
}

// ---- ex-5.1-04: EventStatusMonitor ----------------------------------------------------

/// `monitor_status`: poll `is_set()` every second until the work is complete.
fn monitor_status<B: Backend>(work_complete: &Event<B>) {
    while !work_complete.is_set() {
        // The inner check is dead code unless a set() lands between the two reads.
        let _ = work_complete.is_set();
        sleep::<B>(1.0);
    }
}

/// `do_work(duration)`: one step per second, stop early if someone set the event, then
/// set it. Returns the progress reached.
fn do_work<B: Backend>(work_complete: &Event<B>, duration: usize) -> usize {
    let mut progress = 0;
    for i in 0..duration {
        sleep::<B>(1.0);
        progress = i + 1;
        if work_complete.is_set() {
            // "检测到工作被标记为完成"
            break;
        }
    }
    work_complete.set();
    progress
}

/// `stop_monitoring`: `if alive: join(timeout=2); log('状态监控线程已停止')`. The log
/// claims the monitor stopped.
fn stop_monitoring<B: Backend>(monitor: &Thread<B>, demo: usize) {
    if monitor.is_alive() {
        monitor.join_timeout(2.0);
        let alive = monitor.is_alive();
        ensure(!alive, "monitor-stopped", || {
            format!(
                "demo {demo}: '状态监控线程已停止' logged while the monitor thread is still alive"
            )
        });
    }
}

/// Demo 1: a 4-step job with a monitor. Demo 2: a 10-step job that main force-completes
/// after 3 s.
fn ex_5_1_04<B: Backend>() {
    // Demo 1.
    let work_complete = Arc::new(Event::<B>::new().with_name("work_complete"));
    let monitor = {
        let e = work_complete.clone();
        Thread::<B>::start("monitor", move || monitor_status(&e))
    };
    let work_thread = {
        let e = work_complete.clone();
        B::spawn("work", move || do_work(&e, 4))
    };
    work_thread.join();
    stop_monitoring(&monitor, 1);

    // Demo 2: force_complete() after 3 s.
    let work_complete2 = Arc::new(Event::<B>::new().with_name("work_complete2"));
    let monitor2 = {
        let e = work_complete2.clone();
        Thread::<B>::start("monitor2", move || monitor_status(&e))
    };
    let long_work_thread = {
        let e = work_complete2.clone();
        B::spawn("long_work", move || do_work(&e, 10))
    };
    sleep::<B>(3.0);
    work_complete2.set(); // force_complete()
    let progress = long_work_thread.join();
    ensure(progress < 10, "forced-completion-seen", || {
        format!("the forced job ran all {progress}/10 steps")
    });
    stop_monitoring(&monitor2, 2);
    monitor.join();
    monitor2.join();
}

// ---- ex-5.1-05: PipelineSystem --------------------------------------------------------

/// Three stage events set by a coordinator on fixed sleeps (1, 3, 4, 2 s) gate one
/// collector, one processor and one aggregator (of 2, 3, 2). The coordinator's log claims
/// "stage N complete" when it opens the next stage; the results must hold 3 entries.
fn ex_5_1_05<B: Backend>() {
    let stage1 = Arc::new(Event::<B>::new().with_name("stage1_complete"));
    let stage2 = Arc::new(Event::<B>::new().with_name("stage2_complete"));
    let stage3 = Arc::new(Event::<B>::new().with_name("stage3_complete"));
    let results = Arc::new(Shared::<Vec<(String, usize)>, B>::new(Vec::new()).with_name("results"));
    let collector = {
        let (stage1, results) = (stage1.clone(), results.clone());
        B::spawn("Collector-1", move || {
            let _ = stage1.wait(None);
            let mut items = 0;
            for _ in 0..3 {
                sleep::<B>([0.2, 0.8][B::choose(2)]);
                items += 1;
            }
            results.update(|r| r.push(("collector".into(), items)));
        })
    };
    let processor = {
        let (stage1, stage2, results) = (stage1.clone(), stage2.clone(), results.clone());
        B::spawn("Processor-1", move || {
            let _ = stage1.wait(None);
            let _ = stage2.wait(None);
            let mut items = 0;
            for _ in 0..4 {
                sleep::<B>([0.3, 0.7][B::choose(2)]);
                items += 1;
            }
            results.update(|r| r.push(("processor".into(), items)));
        })
    };
    let aggregator = {
        let (stage2, stage3, results) = (stage2.clone(), stage3.clone(), results.clone());
        B::spawn("Aggregator-1", move || {
            let _ = stage2.wait(None);
            let _ = stage3.wait(None);
            let mut items = 0;
            for _ in 0..2 {
                sleep::<B>([0.4, 0.6][B::choose(2)]);
                items += 1;
            }
            results.update(|r| r.push(("aggregator".into(), items)));
        })
    };
    let coordinator = {
        let results = results.clone();
        B::spawn("coordinator", move || {
            let stage_done = |who: &str, stage: usize| {
                let r = results.get();
                ensure(
                    r.iter().any(|(k, _)| k == who),
                    "stage-complete-when-announced",
                    || format!("'阶段{stage}完成' logged before the {who} finished: results {r:?}"),
                );
            };
            sleep::<B>(1.0);
            stage1.set();
            sleep::<B>(3.0);
            stage_done("collector", 1);
            stage2.set();
            sleep::<B>(4.0);
            stage_done("processor", 2);
            stage3.set();
            sleep::<B>(2.0);
            stage_done("aggregator", 3);
        })
    };
    coordinator.join();
    collector.join();
    processor.join();
    aggregator.join();
    let r = results.get();
    let counts: Vec<usize> = ["collector", "processor", "aggregator"]
        .iter()
        .map(|k| r.iter().find(|(n, _)| n == k).map_or(0, |(_, c)| *c))
        .collect();
    ensure(counts == [3, 4, 2], "stage-complete-when-announced", || {
        format!("results {r:?}")
    });
}

// ---- ex-5.1-06: EventBestPractices ----------------------------------------------------

/// Workers loop on `start_event.wait(timeout=1)` checking `stop_event`, then work in
/// 0.5 s steps checking `stop_event`; `finally: with threading.Lock(): worker_count -= 1`
/// (a fresh lock per call). Main: sleep 2, set start, sleep 3, set stop, `join(timeout=2)`
/// each, and logs the remaining count, claimed 0.
fn ex_5_1_06<B: Backend>() {
    const WORKERS: usize = 2;
    let start_event = Arc::new(Event::<B>::new().with_name("start_event"));
    let stop_event = Arc::new(Event::<B>::new().with_name("stop_event"));
    let worker_count = Arc::new(Shared::<i64, B>::new(0).with_name("worker_count"));
    worker_count.set(WORKERS as i64);
    let workers: Vec<_> = (1..=WORKERS)
        .map(|id| {
            let (start_event, stop_event, worker_count) = (
                start_event.clone(),
                stop_event.clone(),
                worker_count.clone(),
            );
            Thread::<B>::start(&format!("Worker-{id}"), move || {
                // try:
                (|| {
                    while start_event.wait(Some(1.0)) != Ok(true) {
                        if stop_event.is_set() {
                            return;
                        }
                    }
                    for _ in 0..10 {
                        if stop_event.is_set() {
                            return;
                        }
                        sleep::<B>(0.5);
                    }
                })();
                // finally: with threading.Lock(): self.worker_count -= 1
                let fresh = Lock::<B>::new().with_name(&format!("threading.Lock()@{id}"));
                let _with = fresh.lock();
                worker_count.set(worker_count.get() - 1);
            })
        })
        .collect();
    sleep::<B>(2.0);
    start_event.set();
    sleep::<B>(3.0);
    stop_event.set();
    for (i, w) in workers.iter().enumerate() {
        w.join_timeout(2.0);
        let alive = w.is_alive();
        ensure(!alive, "joins-in-time", || {
            format!("Worker-{} still alive after join(timeout=2)", i + 1)
        });
    }
    let n = worker_count.get();
    ensure(n == 0, "no-lost-update", || {
        format!("'所有线程已完成,剩余工作线程数: {n}' after {WORKERS} decrements")
    });
    // reset_and_reuse()
    sleep::<B>(1.0);
    start_event.clear();
    stop_event.clear();
    for w in workers {
        w.join();
    }
}

// ---- ex-5.2-01: PhaseManager ----------------------------------------------------------

const INITIALIZING: usize = 0;
const READY: usize = 1;
const PROCESSING: usize = 2;
const COMPLETING: usize = 3;
const COMPLETED: usize = 4;
const ERROR: usize = 5;
const PHASE_NAMES: [&str; 6] = [
    "INITIALIZING",
    "READY",
    "PROCESSING",
    "COMPLETING",
    "COMPLETED",
    "ERROR",
];

/// The phase manager's shared state.
struct PhaseManager<B: Backend> {
    events: Vec<Arc<Event<B>>>,
    current_phase: Shared<usize, B>,
    worker_results: Arc<Shared<VecDeque<String>, B>>,
}

impl<B: Backend> PhaseManager<B> {
    fn new(demo: usize) -> Arc<Self> {
        Arc::new(PhaseManager {
            events: PHASE_NAMES
                .iter()
                .map(|n| Arc::new(Event::<B>::new().with_name(&format!("{n}#{demo}"))))
                .collect(),
            current_phase: Shared::new(usize::MAX).with_name(&format!("current_phase#{demo}")),
            worker_results: Arc::new(
                Shared::new(VecDeque::new()).with_name(&format!("worker_results#{demo}")),
            ),
        })
    }

    fn transition_to_phase(&self, new_phase: usize) {
        self.current_phase.set(new_phase);
        self.events[new_phase].set();
        if new_phase != ERROR {
            // _clear_previous_events
            for (phase, event) in self.events.iter().enumerate() {
                if phase != new_phase && phase != ERROR && event.is_set() {
                    event.clear();
                }
            }
        }
    }

    fn worker_process(&self, worker_id: usize) {
        let _ = self.events[READY].wait(None);
        let _ = self.events[PROCESSING].wait(None);
        for _ in 0..2 {
            sleep::<B>(0.5);
            if self.events[ERROR].is_set() {
                // "检测到错误事件,停止处理"
                return;
            }
        }
        self.worker_results
            .update(|q| q.push_back(format!("Worker-{worker_id}-Result")));
        let _ = self.events[COMPLETING].wait(None);
        let _ = self.events[COMPLETED].wait(None);
    }

    fn initialize_system(&self) {
        self.current_phase.set(INITIALIZING);
        self.events[INITIALIZING].set();
        sleep::<B>(1.0);
        self.transition_to_phase(READY);
    }

    fn process_with_error_simulation(&self, simulate_error: bool) {
        self.transition_to_phase(PROCESSING);
        sleep::<B>(3.0);
        if simulate_error {
            self.transition_to_phase(ERROR);
            return;
        }
        self.transition_to_phase(COMPLETING);
        sleep::<B>(1.0);
        self.transition_to_phase(COMPLETED);
    }

    /// `shutdown_system`: join each worker with a 2 s timeout, then drain the results.
    fn shutdown_system(&self, workers: &[Thread<B>]) -> usize {
        for w in workers {
            w.join_timeout(2.0);
            let _ = w.is_alive(); // "未能在超时内完成" warning
        }
        let mut results = 0;
        while !self.worker_results.get().is_empty() {
            match self.worker_results.update(|q| q.pop_front()) {
                Some(_) => results += 1,
                None => break,
            }
        }
        results
    }
}

/// Demo 1 runs the normal flow; demo 2 raises ERROR 3 s into processing. Each demo has 2
/// workers.
fn ex_5_2_01<B: Backend>() {
    const WORKERS: usize = 2;
    for (demo, simulate_error) in [(1, false), (2, true)] {
        let manager = PhaseManager::<B>::new(demo);
        let workers: Vec<_> = (1..=WORKERS)
            .map(|id| {
                let m = manager.clone();
                Thread::<B>::start(&format!("Worker-{id}#{demo}"), move || m.worker_process(id))
            })
            .collect();
        manager.initialize_system();
        manager.process_with_error_simulation(simulate_error);
        let n = manager.shutdown_system(&workers);
        ensure(n == WORKERS, "collected-all-results", || {
            format!("demo {demo}: '系统关闭完成,收集到 {n} 个结果'")
        });
        // Non-daemon threads: the interpreter waits for them at exit (the harness does
        // too, when the scenario's body returns).
    }
}

// ---- ex-5.2-02: RoundRobinScheduler ---------------------------------------------------

/// Per worker: (round, completed, status).
type WorkerStatus = (usize, usize, &'static str);

/// The scheduler clears `round_event` and `round_complete_event`, sleeps 0.5 s, sets
/// `round_event` and waits up to 10 s on `round_complete_event`; workers loop on
/// `round_event.wait(timeout=1)`; a worker that sees every worker 'completed' in this round
/// sets `round_complete_event`. Claim: "round N complete, 3/3 workers completed".
fn ex_5_2_02<B: Backend>() {
    const WORKERS: usize = 2;
    const MAX_ROUNDS: usize = 2;
    let round_event = Arc::new(Event::<B>::new().with_name("round_event"));
    let round_complete_event = Arc::new(Event::<B>::new().with_name("round_complete_event"));
    let worker_status = Arc::new(
        Shared::<Vec<WorkerStatus>, B>::new(vec![(0, 0, "idle"); WORKERS])
            .with_name("worker_status"),
    );
    let round_results =
        Arc::new(Shared::<Vec<usize>, B>::new(vec![0; MAX_ROUNDS + 1]).with_name("round_results"));
    let current_round = Arc::new(Shared::<usize, B>::new(0).with_name("current_round"));
    let running = Arc::new(Shared::<bool, B>::new(true).with_name("running"));

    let count_completed = |status: &[WorkerStatus], round: usize| {
        status
            .iter()
            .filter(|s| s.0 == round && s.2 == "completed")
            .count()
    };

    let workers: Vec<_> = (0..WORKERS)
        .map(|w| {
            let (
                round_event,
                round_complete_event,
                worker_status,
                round_results,
                current_round,
                running,
            ) = (
                round_event.clone(),
                round_complete_event.clone(),
                worker_status.clone(),
                round_results.clone(),
                current_round.clone(),
                running.clone(),
            );
            Thread::<B>::start(&format!("Worker-{}", w + 1), move || {
                while running.get() {
                    if round_event.wait(Some(1.0)) == Ok(true) {
                        if !running.get() {
                            break;
                        }
                        let r = current_round.get();
                        worker_status.update(|s| {
                            s[w].0 = r;
                            s[w].2 = "working";
                        });
                        // _perform_round_work: random.uniform(0.5, 2.0)
                        sleep::<B>([0.5, 2.0][B::choose(2)]);
                        let r = current_round.get();
                        round_results.update(|rr| rr[r] += 1);
                        worker_status.update(|s| {
                            s[w].1 += 1;
                            s[w].2 = "completed";
                        });
                        let r = current_round.get();
                        let st = worker_status.get();
                        if count_completed(&st, r) >= WORKERS {
                            round_complete_event.set();
                        }
                    } else if !running.get() {
                        break;
                    }
                }
                worker_status.update(|s| s[w].2 = "stopped");
            })
        })
        .collect();

    let scheduler = {
        let (round_event, round_complete_event, worker_status, current_round, running) = (
            round_event.clone(),
            round_complete_event.clone(),
            worker_status.clone(),
            current_round.clone(),
            running.clone(),
        );
        B::spawn("scheduler", move || {
            for round_num in 1..=MAX_ROUNDS {
                if !running.get() {
                    break;
                }
                current_round.set(round_num);
                round_event.clear();
                round_complete_event.clear();
                sleep::<B>(0.5);
                round_event.set();
                let _ = round_complete_event.wait(Some(10.0));
                let st = worker_status.get();
                let n = count_completed(&st, round_num);
                ensure(n == WORKERS, "round-complete", || {
                    format!("'第 {round_num} 轮完成,{n}/{WORKERS} 个工作线程完成' (status {st:?})")
                });
                sleep::<B>(1.0);
            }
            running.set(false);
            round_event.set();
            sleep::<B>(1.0);
        })
    };

    let monitor = {
        let (round_event, worker_status, running) =
            (round_event.clone(), worker_status.clone(), running.clone());
        B::spawn("monitor", move || {
            while running.get() {
                sleep::<B>(2.0);
                let _ = round_event.is_set();
                let _ = worker_status.get();
            }
        })
    };

    scheduler.join();
    monitor.join();
    // shutdown()
    running.set(false);
    for w in &workers {
        w.join_timeout(2.0);
        let _ = w.is_alive();
    }
    let st = worker_status.get();
    let per_round = round_results.get();
    ensure(
        st.iter().all(|s| s.1 == MAX_ROUNDS) && per_round[1..].iter().all(|&n| n == WORKERS),
        "round-complete",
        || format!("statistics: status {st:?}, results per round {per_round:?}"),
    );
    for w in workers {
        w.join();
    }
}

// ---- ex-5.2-03: ServiceManager --------------------------------------------------------

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Status {
    Stopped,
    Starting,
    Running,
    Error,
}

/// A service: its name, startup time and max wait time (failure rates become choices).
struct ServiceConfig {
    name: &'static str,
    startup_time: f64,
    max_wait_time: f64,
}

const SERVICES: [ServiceConfig; 3] = [
    ServiceConfig {
        name: "database",
        startup_time: 3.0,
        max_wait_time: 5.0,
    },
    ServiceConfig {
        name: "cache",
        startup_time: 2.0,
        max_wait_time: 4.0,
    },
    ServiceConfig {
        name: "api_server",
        startup_time: 4.0,
        max_wait_time: 6.0,
    },
];

struct ServiceManager<B: Backend> {
    events: Vec<Arc<Event<B>>>,
    status: Vec<Arc<Shared<Status, B>>>,
    shutdown_event: Arc<Event<B>>,
    health_check_event: Arc<Event<B>>,
}

impl<B: Backend> ServiceManager<B> {
    fn service_worker(&self, i: usize) {
        let config = &SERVICES[i];
        let start_event = &self.events[i];
        self.status[i].set(Status::Starting);
        let steps = (config.startup_time * 2.0) as usize;
        for _ in 0..steps {
            if self.shutdown_event.is_set() {
                return; // "收到关闭信号,停止启动" (start_event never set)
            }
            sleep::<B>(0.5);
            // random.random() < failure_rate / startup_steps
            if B::choose(2) == 1 {
                self.status[i].set(Status::Error);
                return; // start_event never set
            }
        }
        self.status[i].set(Status::Running);
        start_event.set();
        // _run_service_loop
        while !self.shutdown_event.is_set() {
            let _ = self.health_check_event.wait(Some(5.0));
            if self.shutdown_event.is_set() {
                break;
            }
            sleep::<B>(1.0);
            // random.random() < failure_rate / 100
            if B::choose(2) == 1 {
                self.status[i].set(Status::Error);
                break;
            }
        }
        // finally:
        self.status[i].set(Status::Stopped);
    }

    /// `_wait_for_service_start` (every demo service has `max_wait_time > 0`: strategy 2).
    fn wait_for_service_start(&self, i: usize) -> bool {
        let config = &SERVICES[i];
        let started = self.events[i].wait(Some(config.max_wait_time)) == Ok(true);
        self.check_report(i, started);
        started
    }

    /// What the manager logs after a timed wait: True "在超时前成功启动", False "启动超时"
    /// (the service is still starting when the wait gives up).
    fn check_report(&self, i: usize, started: bool) {
        let s = self.status[i].get();
        let name = SERVICES[i].name;
        if started {
            ensure(s == Status::Running, "wait-timeout-return-value", || {
                format!("{name}: logged '在超时前成功启动' but its status is {s:?}")
            });
        } else {
            ensure(s == Status::Starting, "wait-timeout-return-value", || {
                format!("{name}: wait() returned False and the manager logged '启动超时', but the service is {s:?}, not still starting")
            });
        }
    }
}

/// Three services start one after another (each waited for with its max wait time); then a
/// multi-service wait with an 8 s budget, a polling wait, 5 s of running and shutdown. The
/// status monitor thread (it only logs) is left out; the health checker pulses its event.
fn ex_5_2_03<B: Backend>() {
    let manager = Arc::new(ServiceManager::<B> {
        events: SERVICES
            .iter()
            .map(|c| Arc::new(Event::new().with_name(&format!("{}.start_event", c.name))))
            .collect(),
        status: SERVICES
            .iter()
            .map(|c| {
                Arc::new(Shared::new(Status::Stopped).with_name(&format!("status[{}]", c.name)))
            })
            .collect(),
        shutdown_event: Arc::new(Event::new().with_name("shutdown_event")),
        health_check_event: Arc::new(Event::new().with_name("health_check_event")),
    });
    // start_monitoring(): the health checker.
    let health_checker = {
        let m = manager.clone();
        Thread::<B>::start("HealthChecker", move || {
            while !m.shutdown_event.is_set() {
                sleep::<B>(5.0);
                m.health_check_event.set();
                sleep::<B>(0.1);
                m.health_check_event.clear();
            }
        })
    };
    // Start the services, each waited for.
    let mut services = Vec::new();
    for (i, c) in SERVICES.iter().enumerate() {
        let m = manager.clone();
        services.push(B::spawn(&format!("Service-{}", c.name), move || {
            m.service_worker(i)
        }));
        let _ = manager.wait_for_service_start(i);
    }
    // wait_for_multiple_services(["database", "cache"], timeout=8)
    let start_time = now::<B>();
    for i in [0, 1] {
        let remaining = (8.0 - (now::<B>() - start_time)).max(0.0);
        if remaining <= 0.0 {
            continue;
        }
        let ok = manager.events[i].wait(Some(remaining)) == Ok(true);
        manager.check_report(i, ok);
    }
    // wait_with_polling("api_server", interval=0.5, max_attempts=8)
    for _ in 0..8 {
        if manager.events[2].is_set() {
            break;
        }
        if manager.status[2].get() == Status::Error {
            break;
        }
        sleep::<B>(0.5);
    }
    sleep::<B>(5.0);
    // shutdown_all(timeout=10)
    manager.shutdown_event.set();
    let start_time = now::<B>();
    while now::<B>() - start_time < 10.0 {
        if manager.status.iter().all(|s| s.get() == Status::Stopped) {
            break;
        }
        sleep::<B>(0.5);
    }
    health_checker.join_timeout(2.0);
    for s in services {
        s.join();
    }
    health_checker.join();
}

// ---- ex-5.2-04: MultiConsumerSystem ---------------------------------------------------

/// 2 consumers (of 5) block on `data_ready.wait()`; the producer prepares for 3 s, sets it,
/// joins the consumers and counts their results.
fn ex_5_2_04<B: Backend>() {
    const CONSUMERS: usize = 2;
    let data_ready = Arc::new(Event::<B>::new().with_name("data_ready"));
    let results = Arc::new(Shared::<Vec<String>, B>::new(Vec::new()).with_name("consumer_results"));
    let consumers: Vec<_> = (1..=CONSUMERS)
        .map(|id| {
            let (data_ready, results) = (data_ready.clone(), results.clone());
            B::spawn(&format!("consumer-{id}"), move || {
                let woke = data_ready.wait(None);
                ensure(woke == Ok(true), "set-wakes-all-waiters", || {
                    format!("consumer {id}: wait() returned {woke:?}")
                });
                for _ in 0..2 {
                    sleep::<B>(0.5);
                }
                results.update(|r| r.push(format!("消费者{id}-处理结果")));
            })
        })
        .collect();
    let producer = {
        let (data_ready, results) = (data_ready.clone(), results.clone());
        B::spawn("producer", move || {
            for _ in 0..3 {
                sleep::<B>(1.0);
            }
            data_ready.set();
            for c in consumers {
                c.join();
            }
            let n = results.get().len();
            ensure(n == CONSUMERS, "set-wakes-all-waiters", || {
                format!("'所有消费者完成,共收到 {n} 个结果' with {CONSUMERS} consumers")
            });
        })
    };
    producer.join();
}

// ---- ex-5.2-05: RoundSyncSystem -------------------------------------------------------

/// Round length of the coordinator: clear, 0.5 s, set, 3 s.
const ROUND_SECS: f64 = 3.5;

/// The coordinator runs rounds (clear, sleep 0.5, set, sleep 3); 2 daemon workers (of 3)
/// loop: `wait()`, work 2 s, log 'waiting for next round' if the event is clear. Claim: a
/// worker starts work once per round.
fn ex_5_2_05<B: Backend>() {
    const WORKERS: usize = 2;
    const ROUNDS: usize = 2;
    let round_event = Arc::new(Event::<B>::new().with_name("round_event"));
    // Daemon threads die when the interpreter exits: a flag they check at each step of
    // their loop stands for that.
    let exiting = Arc::new(Shared::<bool, B>::new(false).with_name("probe:interpreter-exit"));
    let workers: Vec<_> = (1..=WORKERS)
        .map(|id| {
            let (round_event, exiting) = (round_event.clone(), exiting.clone());
            B::spawn(&format!("worker-{id}"), move || {
                let mut started_in = Vec::new();
                while !exiting.get() {
                    let _ = round_event.wait(None);
                    // "收到信号,开始工作": which coordinator round is this?
                    let round = (now::<B>() / ROUND_SECS).floor() as usize + 1;
                    ensure(!started_in.contains(&round), "one-start-per-round", || {
                        format!(
                            "worker {id} started work twice in round {round} (at t={:.1}s)",
                            now::<B>()
                        )
                    });
                    started_in.push(round);
                    sleep::<B>(2.0);
                    if !round_event.is_set() {
                        // "等待下一轮..."
                    }
                }
            })
        })
        .collect();
    let coordinator = {
        let round_event = round_event.clone();
        B::spawn("coordinator", move || {
            for _ in 1..=ROUNDS {
                round_event.clear();
                sleep::<B>(0.5);
                round_event.set();
                sleep::<B>(3.0);
            }
        })
    };
    coordinator.join();
    exiting.set(true);
    for w in workers {
        w.join();
    }
}

// ---- ex-5.2-06: ConditionalWaitSystem -------------------------------------------------

/// The producer pulses `data_event` per batch (sleep 2, set, sleep 1, clear); 2 consumers
/// check `is_set()` first, else `wait(timeout=3)`, process 1 s, rest 0.5 s, until
/// `stop_event`. Claim: each consumer processes each batch, once.
fn ex_5_2_06<B: Backend>() {
    const BATCHES: usize = 2;
    const CONSUMERS: usize = 2;
    let data_event = Arc::new(Event::<B>::new().with_name("data_event"));
    let stop_event = Arc::new(Event::<B>::new().with_name("stop_event"));
    let batch = Arc::new(Shared::<usize, B>::new(0).with_name("probe:batch"));
    let producer = {
        let (data_event, batch) = (data_event.clone(), batch.clone());
        B::spawn("producer", move || {
            for b in 1..=BATCHES {
                sleep::<B>(2.0);
                batch.set(b);
                data_event.set();
                sleep::<B>(1.0);
                data_event.clear();
            }
        })
    };
    let consumers: Vec<_> = (1..=CONSUMERS)
        .map(|id| {
            let (data_event, stop_event, batch) =
                (data_event.clone(), stop_event.clone(), batch.clone());
            B::spawn(&format!("consumer-{id}"), move || {
                let mut processed = Vec::new();
                while !stop_event.is_set() {
                    // "检测到数据可用" without wait(), or "等待到数据" after wait(timeout=3);
                    // the same processing either way.
                    if data_event.is_set() || data_event.wait(Some(3.0)) == Ok(true) {
                        processed.push(batch.get());
                        sleep::<B>(1.0);
                    }
                    sleep::<B>(0.5);
                }
                let want: Vec<usize> = (1..=BATCHES).collect();
                ensure(processed == want, "each-batch-once", || {
                    format!(
                        "consumer {id} processed batches {processed:?}, the producer made {want:?}"
                    )
                });
            })
        })
        .collect();
    producer.join();
    sleep::<B>(2.0);
    stop_event.set();
    for c in consumers {
        c.join();
    }
}

// ---- ex-5.3-01: TaskNotificationSystem ------------------------------------------------

/// The worker stores `task_result` and then sets `task_complete`; the coordinator waits
/// and reads the result.
fn ex_5_3_01<B: Backend>() {
    let task_complete = Arc::new(Event::<B>::new().with_name("task_complete"));
    let task_result = Arc::new(Shared::<Option<String>, B>::new(None).with_name("task_result"));
    // run_demo: reset
    task_complete.clear();
    task_result.set(None);
    let coordinator = {
        let (task_complete, task_result) = (task_complete.clone(), task_result.clone());
        B::spawn("coordinator", move || {
            let worker = {
                let (task_complete, task_result) = (task_complete.clone(), task_result.clone());
                B::spawn("worker", move || {
                    for _ in 0..3 {
                        sleep::<B>(0.8);
                    }
                    let result = format!("处理结果-重要数据文件-{}", now::<B>() as u64);
                    task_result.set(Some(result));
                    task_complete.set();
                })
            };
            let _ = task_complete.wait(None);
            let r = task_result.get();
            ensure(r.is_some(), "handshake", || {
                "'协调器: 任务结果 - None' after the completion notice".to_owned()
            });
            worker.join();
        })
    };
    coordinator.join();
}

// ---- ex-5.3-02: BroadcastNotifier -----------------------------------------------------

const SYSTEM_START: usize = 0;
const DATA_READY: usize = 1;
const EMERGENCY: usize = 2;
const NOTIFICATION_NAMES: [&str; 3] = ["SYSTEM_START", "DATA_READY", "EMERGENCY"];

/// One event per notification type; subscribers wait on their type's event; `broadcast`
/// sets it. Demo 1: one subscriber per type (of 2/3/2); demo 2: one universal service (of 3)
/// waits on EMERGENCY, which demo 1 left set. Claim: a subscriber receives a notification
/// broadcast after it subscribed.
fn ex_5_3_02<B: Backend>() {
    let events: Vec<Arc<Event<B>>> = NOTIFICATION_NAMES
        .iter()
        .map(|n| Arc::new(Event::<B>::new().with_name(n)))
        .collect();
    let current_message =
        Arc::new(Shared::<String, B>::new(String::new()).with_name("current_message"));
    // Probe: broadcasts per type so far (written just before the set()).
    let broadcasts =
        Arc::new(Shared::<Vec<usize>, B>::new(vec![0; 3]).with_name("probe:broadcasts"));
    let broadcast = |t: usize, message: &str| {
        current_message.set(message.to_owned());
        broadcasts.update(|b| b[t] += 1);
        events[t].set();
    };
    let subscriber = |name: String, t: usize, seen_before: usize| {
        let (event, broadcasts) = (events[t].clone(), broadcasts.clone());
        Thread::<B>::start(&name.clone(), move || {
            let _ = event.wait(None);
            let n = broadcasts.get()[t];
            ensure(n > seen_before, "notified-after-broadcast", || {
                format!(
                    "{name} '收到 {} 通知' before any {} broadcast after it subscribed",
                    NOTIFICATION_NAMES[t], NOTIFICATION_NAMES[t]
                )
            });
            // The handler: 1 s / 1.5 s / 0.5 s.
            sleep::<B>([1.0, 1.5, 0.5][t]);
        })
    };
    // Demo 1.
    let demo1: Vec<_> = [
        ("启动服务1", SYSTEM_START),
        ("数据处理1", DATA_READY),
        ("监控服务1", EMERGENCY),
    ]
    .into_iter()
    .map(|(n, t)| subscriber(n.to_owned(), t, 0))
    .collect();
    sleep::<B>(0.5);
    broadcast(SYSTEM_START, "系统即将启动");
    sleep::<B>(3.0);
    events[SYSTEM_START].clear();
    broadcast(DATA_READY, "新数据已准备就绪");
    sleep::<B>(4.0);
    broadcast(EMERGENCY, "检测到系统异常");
    sleep::<B>(2.0);
    for t in &demo1 {
        t.join_timeout(3.0);
        let _ = t.is_alive();
    }
    // Demo 2: the EMERGENCY event is still set.
    let universal = subscriber("通用服务1".to_owned(), EMERGENCY, 1);
    sleep::<B>(0.5);
    broadcast(EMERGENCY, "系统严重故障,立即响应!");
    universal.join();
    for t in demo1 {
        t.join();
    }
}

// ---- ex-5.3-03: TaskCollector ---------------------------------------------------------

/// Task threads store their result and then set their own event; the collector polls
/// `event.is_set() and task_id not in task_results` every 0.1 s (the condition is never
/// true), then would set `collection_event`, which main waits on. 2 tasks (of 5): easy and
/// hard.
fn ex_5_3_03<B: Backend>() {
    let tasks = [(1, 1.0), (2, 4.0)];
    let n = tasks.len();
    let task_events: Vec<Arc<Event<B>>> = (1..=n)
        .map(|i| Arc::new(Event::<B>::new().with_name(&format!("task_events[{}]", i - 1))))
        .collect();
    let task_results = Arc::new(Shared::<Vec<usize>, B>::new(Vec::new()).with_name("task_results"));
    let collection_event = Arc::new(Event::<B>::new().with_name("collection_event"));
    let collector = {
        let (task_events, task_results, collection_event) = (
            task_events.clone(),
            task_results.clone(),
            collection_event.clone(),
        );
        B::spawn("collector", move || {
            let mut completed_tasks = 0;
            while completed_tasks < n {
                for (i, event) in task_events.iter().enumerate() {
                    let task_id = i + 1;
                    // `if event.is_set() and task_id not in self.task_results:`, then
                    // `result = self.task_results.get(task_id); if result:` (two reads).
                    if event.is_set()
                        && !task_results.get().contains(&task_id)
                        && task_results.get().contains(&task_id)
                    {
                        completed_tasks += 1;
                    }
                }
                if completed_tasks >= n {
                    break;
                }
                sleep::<B>(0.1);
            }
            collection_event.set();
        })
    };
    let workers: Vec<_> = tasks
        .iter()
        .map(|&(task_id, execution_time)| {
            let (event, task_results) = (task_events[task_id - 1].clone(), task_results.clone());
            B::spawn(&format!("task{task_id}"), move || {
                let steps = (execution_time * 2.0) as usize;
                for step in 0..steps {
                    sleep::<B>(0.5);
                    // The '10% failure': hard task, at the middle step, `time.time() % 10 < 1`.
                    if execution_time == 4.0 && step == steps / 2 && now::<B>() % 10.0 < 1.0 {
                        break; // (the exception path stores a FAILED result just the same)
                    }
                }
                task_results.update(|r| r.push(task_id));
                event.set();
            })
        })
        .collect();
    let _ = collection_event.wait(None);
    collector.join();
    for w in workers {
        w.join();
    }
}

// ---- ex-5.3-04: IntelligentMonitor ----------------------------------------------------

const WARNING: usize = 0;
const ERROR_LEVEL: usize = 1;
const ALERT_NAMES: [&str; 2] = ["WARNING", "ERROR"];

/// A collector checks metrics every 2 s and sets per-level alert events (an ERROR also sets
/// WARNING); handlers `wait(timeout=1)`, handle (1 s / 2 s), then `clear()`. 2 WARNING
/// handlers and 1 ERROR handler (of 2 per level; CRITICAL and maintenance mode left out);
/// 5 s of running (of 25). Claim: each alert raised is handled, once.
fn ex_5_3_04<B: Backend>() {
    let alert_events: Vec<Arc<Event<B>>> = ALERT_NAMES
        .iter()
        .map(|n| Arc::new(Event::<B>::new().with_name(&format!("alert_events[{n}]"))))
        .collect();
    let system_stop_event = Arc::new(Event::<B>::new().with_name("system_stop_event"));
    let maintenance_mode_event = Arc::new(Event::<B>::new().with_name("maintenance_mode_event"));
    let current_metrics = Arc::new(Shared::<usize, B>::new(0).with_name("current_metrics"));
    // Probes: alerts raised (collector rounds that set the level's event) and handled.
    let raised = Arc::new(Shared::<Vec<usize>, B>::new(vec![0; 2]).with_name("probe:raised"));
    let handled = Arc::new(Shared::<Vec<usize>, B>::new(vec![0; 2]).with_name("probe:handled"));

    let collector = {
        let (alert_events, stop, maintenance, current_metrics, raised) = (
            alert_events.clone(),
            system_stop_event.clone(),
            maintenance_mode_event.clone(),
            current_metrics.clone(),
            raised.clone(),
        );
        B::spawn("指标收集器", move || {
            let mut sample = 0;
            while !stop.is_set() {
                if maintenance.is_set() {
                    sleep::<B>(5.0);
                    continue;
                }
                sample += 1;
                // _generate_metrics: normal / CPU > 80 (WARNING) / CPU > 95 (WARNING and ERROR)
                let cpu = B::choose(3);
                current_metrics.set(sample);
                let mut levels = Vec::new();
                if cpu >= 1 {
                    levels.push(WARNING); // 高CPU使用率
                }
                if cpu == 2 {
                    levels.push(ERROR_LEVEL); // 极高CPU使用率
                }
                // The events this sample sets: _trigger_alert(level) sets the level's
                // event, and ERROR also sets WARNING (the "higher" level of the comment).
                let mut set_now = [false; 2];
                for &level in &levels {
                    set_now[level] = true;
                    if level == ERROR_LEVEL {
                        set_now[WARNING] = true;
                    }
                }
                if set_now.iter().any(|&s| s) {
                    raised.update(|r| (0..2).filter(|&l| set_now[l]).for_each(|l| r[l] += 1));
                }
                for level in levels {
                    alert_events[level].set();
                    if level == ERROR_LEVEL {
                        alert_events[WARNING].set();
                    }
                }
                sleep::<B>(2.0);
            }
        })
    };
    let handler = |handler_id: usize, level: usize| {
        let (event, stop, current_metrics, handled) = (
            alert_events[level].clone(),
            system_stop_event.clone(),
            current_metrics.clone(),
            handled.clone(),
        );
        Thread::<B>::start(
            &format!("{}处理器{handler_id}", ALERT_NAMES[level]),
            move || {
                while !stop.is_set() {
                    if event.wait(Some(1.0)) == Ok(true) {
                        if stop.is_set() {
                            break;
                        }
                        let _metrics = current_metrics.get();
                        handled.update(|h| h[level] += 1);
                        sleep::<B>([1.0, 2.0][level]);
                        event.clear();
                    }
                }
            },
        )
    };
    let handlers = vec![
        handler(1, WARNING),
        handler(2, WARNING),
        handler(1, ERROR_LEVEL),
    ];
    sleep::<B>(5.0);
    // stop_monitoring()
    system_stop_event.set();
    for e in &alert_events {
        e.set();
    }
    for h in &handlers {
        h.join_timeout(3.0);
        let _ = h.is_alive();
    }
    collector.join();
    for h in handlers {
        h.join();
    }
    let (r, h) = (raised.get(), handled.get());
    ensure(r == h, "alert-handled-once", || {
        format!("alerts raised (WARNING, ERROR) {r:?}, handled {h:?}")
    });
}

// ---- ex-5.3-05: WorkflowStateMachine --------------------------------------------------

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum WfState {
    Init,
    Loading,
    Processing,
    Validating,
    Completing,
    Completed,
    Failed,
    Cancelled,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[expect(
    dead_code,
    reason = "ERROR and CANCEL are in the transition table; the demo never sends them"
)]
enum WfEvent {
    Start,
    LoadComplete,
    ProcessComplete,
    ValidateSuccess,
    ValidateFailed,
    Error,
    Cancel,
}

const WF_STATES: [WfState; 8] = [
    WfState::Init,
    WfState::Loading,
    WfState::Processing,
    WfState::Validating,
    WfState::Completing,
    WfState::Completed,
    WfState::Failed,
    WfState::Cancelled,
];

/// `_define_state_transitions`.
fn wf_transition(state: WfState, event: WfEvent) -> Option<WfState> {
    use WfEvent as E;
    use WfState as S;
    match (state, event) {
        (S::Init, E::Start) => Some(S::Loading),
        (S::Init | S::Loading | S::Processing | S::Validating, E::Cancel) => Some(S::Cancelled),
        (S::Init | S::Loading | S::Processing | S::Validating | S::Completing, E::Error) => {
            Some(S::Failed)
        }
        (S::Loading, E::LoadComplete) => Some(S::Processing),
        (S::Processing, E::ProcessComplete) => Some(S::Validating),
        (S::Validating, E::ValidateSuccess) => Some(S::Completing),
        (S::Validating, E::ValidateFailed) => Some(S::Processing),
        (S::Completing, E::Start) => Some(S::Completed),
        _ => None,
    }
}

struct Workflow<B: Backend> {
    current_state: Shared<WfState, B>,
    state_events: Vec<Event<B>>,
    event_queue: Shared<VecDeque<WfEvent>, B>,
    event_queue_lock: Lock<B>,
    event_queue_event: Event<B>,
    running: Shared<bool, B>,
}

impl<B: Backend> Workflow<B> {
    fn send_event(&self, event: WfEvent) {
        let _with = self.event_queue_lock.lock();
        self.event_queue.update(|q| q.push_back(event));
        self.event_queue_event.set();
    }

    fn get_next_event(&self) -> Option<WfEvent> {
        let _with = self.event_queue_lock.lock();
        let e = self.event_queue.update(|q| q.pop_front());
        if e.is_none() {
            self.event_queue_event.clear();
        }
        e
    }

    /// The worker loop; returns the states entered and the events refused.
    fn state_machine_worker(&self) -> (Vec<WfState>, Vec<(WfEvent, WfState)>) {
        let mut visited = vec![WfState::Init];
        let mut refused = Vec::new();
        while self.running.get() {
            if self.event_queue_event.wait(Some(1.0)) == Ok(true) {
                if !self.running.get() {
                    break;
                }
                let Some(event) = self.get_next_event() else {
                    continue;
                };
                let state = self.current_state.get();
                match wf_transition(state, event) {
                    Some(next) => {
                        self.current_state.set(next);
                        visited.push(next);
                        let i = WF_STATES.iter().position(|&s| s == next).unwrap_or(0);
                        self.state_events[i].set();
                    }
                    None => refused.push((event, state)), // "事件 … 在状态 … 下不允许"
                }
            }
            if self.running.get() {
                self.execute_current_state_handler();
            }
        }
        (visited, refused)
    }

    fn execute_current_state_handler(&self) {
        match self.current_state.get() {
            WfState::Init => sleep::<B>(0.1),
            WfState::Loading => {
                sleep::<B>(2.0);
                self.send_event(WfEvent::LoadComplete);
            }
            WfState::Processing => {
                sleep::<B>(1.5);
                self.send_event(WfEvent::ProcessComplete);
            }
            WfState::Validating => {
                sleep::<B>(1.0);
                // random.random() < 0.9
                if B::choose(10) < 9 {
                    self.send_event(WfEvent::ValidateSuccess);
                } else {
                    self.send_event(WfEvent::ValidateFailed);
                }
            }
            WfState::Completing => {
                sleep::<B>(0.5);
                self.send_event(WfEvent::Start);
            }
            WfState::Completed | WfState::Failed | WfState::Cancelled => self.running.set(false),
        }
    }
}

/// One workflow (of 3): its state-machine thread and main, which starts it (sending
/// START) and joins it. Claim: INIT → LOADING → PROCESSING → VALIDATING (→ PROCESSING →
/// VALIDATING)* → COMPLETING → COMPLETED, with no event refused.
fn ex_5_3_05<B: Backend>() {
    let wf = Arc::new(Workflow::<B> {
        current_state: Shared::new(WfState::Init).with_name("current_state"),
        state_events: WF_STATES
            .iter()
            .map(|s| Event::new().with_name(&format!("state_events[{s:?}]")))
            .collect(),
        event_queue: Shared::new(VecDeque::new()).with_name("event_queue"),
        event_queue_lock: Lock::new().with_name("event_queue_lock"),
        event_queue_event: Event::new().with_name("event_queue_event"),
        running: Shared::new(false).with_name("running"),
    });
    // start()
    wf.running.set(true);
    let worker = {
        let wf = wf.clone();
        B::spawn("Workflow-WF-001", move || wf.state_machine_worker())
    };
    wf.send_event(WfEvent::Start);
    let (visited, refused) = worker.join();
    use WfState as S;
    let n = visited.len();
    // INIT, LOADING, PROCESSING, VALIDATING, (PROCESSING, VALIDATING)*, COMPLETING, COMPLETED
    let ok = n >= 6
        && visited[..4] == [S::Init, S::Loading, S::Processing, S::Validating]
        && visited[n - 2..] == [S::Completing, S::Completed]
        && visited[4..n - 2]
            .chunks(2)
            .all(|c| c == [S::Processing, S::Validating]);
    ensure(ok && refused.is_empty(), "state-machine", || {
        format!("states entered {visited:?}, events refused {refused:?}")
    });
}

// ---- ex-5.4-01: EventBus --------------------------------------------------------------

/// A `PriorityQueue` item: (-priority, the event's number). Comparing two items of equal
/// priority compares the `Event` dataclasses, which define no order: `TypeError`.
type PqItem = (i64, usize);

/// The `TypeError` of comparing two `Event` dataclasses.
const EVENT_TYPE_ERROR: &str =
    "TypeError: '<' not supported between instances of 'Event' and 'Event'";

/// `a < b` on `(-priority, Event)` tuples.
fn pq_less(a: PqItem, b: PqItem) -> Result<bool, &'static str> {
    if a.0 != b.0 {
        Ok(a.0 < b.0)
    } else {
        Err(EVENT_TYPE_ERROR)
    }
}

/// `heapq._siftdown`.
fn siftdown(heap: &mut [PqItem], startpos: usize, mut pos: usize) -> Result<(), &'static str> {
    let newitem = heap[pos];
    while pos > startpos {
        let parentpos = (pos - 1) >> 1;
        let parent = heap[parentpos];
        if pq_less(newitem, parent)? {
            heap[pos] = parent;
            pos = parentpos;
            continue;
        }
        break;
    }
    heap[pos] = newitem;
    Ok(())
}

/// `heapq.heappush`: the item is appended before the comparisons, so it stays in the list
/// when one raises.
fn heappush(heap: &mut Vec<PqItem>, item: PqItem) -> Result<(), &'static str> {
    heap.push(item);
    let last = heap.len() - 1;
    siftdown(heap, 0, last)
}

/// `heapq.heappop` (with `_siftup`).
fn heappop(heap: &mut Vec<PqItem>) -> Result<PqItem, &'static str> {
    let lastelt = heap.pop().expect("heappop on a non-empty heap");
    if heap.is_empty() {
        return Ok(lastelt);
    }
    let returnitem = heap[0];
    heap[0] = lastelt;
    // _siftup(heap, 0)
    let endpos = heap.len();
    let mut pos = 0;
    let newitem = heap[pos];
    let mut childpos = 1;
    while childpos < endpos {
        let rightpos = childpos + 1;
        if rightpos < endpos && !pq_less(heap[childpos], heap[rightpos])? {
            childpos = rightpos;
        }
        heap[pos] = heap[childpos];
        pos = childpos;
        childpos = 2 * pos + 1;
    }
    heap[pos] = newitem;
    siftdown(heap, 0, pos)?;
    Ok(returnitem)
}

/// `queue.PriorityQueue()` as CPython writes `Queue`: a `Lock` mutex, a `Condition`
/// `not_empty` on it, `heapq` storage.
struct PriorityQueue<B: Backend> {
    not_empty: Condition<B>,
    heap: Shared<Vec<PqItem>, B>,
    unfinished_tasks: Shared<usize, B>,
}

/// How `get(timeout)` can end besides an item.
#[derive(Debug)]
enum GetError {
    Empty,
    /// An exception from `heapq` (the `TypeError` of comparing two `Event`s).
    Raised,
}

impl<B: Backend> PriorityQueue<B> {
    fn new() -> Self {
        let mutex = Arc::new(Lock::<B>::new().with_name("event_queue.mutex"));
        PriorityQueue {
            not_empty: Condition::with_lock(mutex).with_name("event_queue.not_empty"),
            heap: Shared::new(Vec::new()).with_name("event_queue.queue"),
            unfinished_tasks: Shared::new(0).with_name("event_queue.unfinished_tasks"),
        }
    }

    /// `put(item)` (unbounded: never blocks).
    fn put(&self, item: PqItem) -> Result<(), &'static str> {
        let _with = self.not_empty.lock(); // not_full shares the mutex
        self.heap.update(|h| heappush(h, item))?;
        self.unfinished_tasks.update(|n| *n += 1);
        let _ = self.not_empty.notify_one();
        Ok(())
    }

    /// `get(timeout=t)`.
    fn get(&self, timeout: f64) -> Result<PqItem, GetError> {
        let _with = self.not_empty.lock();
        let endtime = now::<B>() + timeout;
        while self.heap.get().is_empty() {
            let remaining = endtime - now::<B>();
            if remaining <= 0.0 {
                return Err(GetError::Empty);
            }
            let _ = self.not_empty.wait(Some(remaining));
        }
        self.heap.update(heappop).map_err(|_| GetError::Raised)
    }

    /// `task_done()`.
    fn task_done(&self) {
        let _with = self.not_empty.lock(); // all_tasks_done shares the mutex
        self.unfinished_tasks.update(|n| *n = n.saturating_sub(1));
    }
}

/// Event types of the demo, with their handler's sleep.
const BUS_EVENTS: [(&str, i64, f64); 7] = [
    ("system.startup", 3, 0.5),
    ("system.resource_warning", 2, 0.0),
    ("system.error", 4, 0.0),
    ("system.shutdown", 3, 0.3),
    ("data.received", 2, 0.2),
    ("data.processed", 2, 0.0),
    ("data.validated", 2, 0.0),
];

/// The event bus (repaired indentation: as printed, the file is an `IndentationError`):
/// `publish` puts `(-priority, Event)` into a `PriorityQueue`; a dispatcher thread
/// `get(timeout=1)`s and runs the handlers. The demo's system events and one round of its
/// data events (of 3; user events left out). Claim: every published event is handled and
/// the demo completes.
fn ex_5_4_01<B: Backend>() {
    let queue = Arc::new(PriorityQueue::<B>::new());
    let is_running = Arc::new(Shared::<bool, B>::new(false).with_name("is_running"));
    let stop_event = Arc::new(Event::<B>::new().with_name("stop_event"));
    let processed = Arc::new(Shared::<usize, B>::new(0).with_name("stats[events_processed]"));
    let failed = Arc::new(Shared::<usize, B>::new(0).with_name("stats[events_failed]"));
    // start()
    is_running.set(true);
    let dispatcher = {
        let (queue, is_running, stop_event, processed, failed) = (
            queue.clone(),
            is_running.clone(),
            stop_event.clone(),
            processed.clone(),
            failed.clone(),
        );
        Thread::<B>::start("EventBus-Dispatcher", move || {
            while is_running.get() && !stop_event.is_set() {
                match queue.get(1.0) {
                    Err(GetError::Empty) => continue,
                    Err(GetError::Raised) => {
                        failed.update(|n| *n += 1); // except Exception
                        continue;
                    }
                    Ok((_, id)) => {
                        // _dispatch_event: the handler of this type
                        let pause = BUS_EVENTS[id].2;
                        if pause > 0.0 {
                            sleep::<B>(pause);
                        }
                        processed.update(|n| *n += 1);
                        queue.task_done();
                    }
                }
            }
        })
    };
    let mut published = 0;
    let mut publish = |id: usize| {
        let (name, priority, _) = BUS_EVENTS[id];
        let r = queue.put((-priority, id));
        ensure(r.is_ok(), "no-uncaught-exception", || {
            format!("publish({name}) raised {}", r.unwrap_err())
        });
        published += 1;
    };
    // demo_system_events
    publish(0);
    sleep::<B>(1.0);
    publish(1);
    sleep::<B>(0.5);
    publish(2);
    sleep::<B>(0.5);
    publish(3);
    sleep::<B>(1.0);
    // demo_data_events (one data item)
    publish(4);
    sleep::<B>(0.3);
    publish(5);
    publish(6);
    sleep::<B>(1.0);
    // "等待所有事件处理完成"
    sleep::<B>(2.0);
    // stop()
    is_running.set(false);
    stop_event.set();
    dispatcher.join_timeout(5.0);
    let (p, f) = (processed.get(), failed.get());
    ensure(p == published && f == 0, "no-uncaught-exception", || {
        format!("published {published}, processed {p}, failed {f}")
    });
    dispatcher.join();
}

// ---- ex-5.4-02: MessageBus ------------------------------------------------------------

const NEWS: usize = 0;
const WEATHER: usize = 1;
const ALERT: usize = 2;

/// A subscriber list as Python holds it: a list object that `subscribe` appends to in
/// place and `unsubscribe` replaces.
type SubList<B> = Arc<Shared<Vec<usize>, B>>;

struct MessageBus<B: Backend> {
    subscribers: Shared<Vec<Option<SubList<B>>>, B>,
    message_queue: Shared<Vec<usize>, B>,
    queue_lock: Lock<B>,
    queue_event: Event<B>,
    is_running: Shared<bool, B>,
    /// Messages received, per subscriber: their types.
    received: Vec<Shared<Vec<usize>, B>>,
    lists: Shared<usize, B>,
}

impl<B: Backend> MessageBus<B> {
    fn subscribe(&self, t: usize, sub: usize) {
        let _with = self.queue_lock.lock();
        let list = self.subscribers.get()[t].clone();
        match list {
            Some(l) => l.update(|v| v.push(sub)),
            None => {
                let n = self.lists.update(|n| {
                    *n += 1;
                    *n
                });
                let l: SubList<B> =
                    Arc::new(Shared::new(vec![sub]).with_name(&format!("subscribers-list#{n}")));
                self.subscribers.update(|s| s[t] = Some(l));
            }
        }
    }

    fn unsubscribe(&self, t: usize, sub: usize) {
        let _with = self.queue_lock.lock();
        if let Some(l) = self.subscribers.get()[t].clone() {
            let rest: Vec<usize> = l.get().into_iter().filter(|&s| s != sub).collect();
            if rest.is_empty() {
                self.subscribers.update(|s| s[t] = None);
            } else {
                let n = self.lists.update(|n| {
                    *n += 1;
                    *n
                });
                let l: SubList<B> =
                    Arc::new(Shared::new(rest).with_name(&format!("subscribers-list#{n}")));
                self.subscribers.update(|s| s[t] = Some(l));
            }
        }
    }

    fn publish(&self, t: usize) {
        let _with = self.queue_lock.lock();
        self.message_queue.update(|q| q.push(t));
        self.queue_event.set();
    }

    fn dispatch_loop(&self) {
        while self.is_running.get() {
            if self.queue_event.wait(Some(1.0)) == Ok(true) {
                if !self.is_running.get() {
                    break;
                }
                let mut messages = Vec::new();
                {
                    let _with = self.queue_lock.lock();
                    if !self.message_queue.get().is_empty() {
                        messages = self.message_queue.update(std::mem::take);
                        self.queue_event.clear();
                    }
                }
                for t in messages {
                    // _dispatch_message: the list is taken under the lock, iterated outside
                    let list = {
                        let _with = self.queue_lock.lock();
                        self.subscribers.get()[t].clone()
                    };
                    if let Some(l) = list {
                        let mut i = 0;
                        while let Some(&sub) = l.get().get(i) {
                            self.received[sub].update(|r| r.push(t));
                            i += 1;
                        }
                    }
                }
            }
        }
    }
}

/// Publishers (all in main) and subscribers on a message bus: GeneralReader (NEWS, ALERT)
/// and WeatherWatcher (WEATHER, ALERT) of 4; 1 news item, 1 weather update, 1 alert (of
/// 4/4/4), without the 2 s pauses between the phases but the last, then TempReader
/// subscribes to NEWS for one news item. Claim: every subscriber gets every message of its
/// types; TempReader gets exactly 1.
fn ex_5_4_02<B: Backend>() {
    const GENERAL: usize = 0;
    const WEATHER_WATCHER: usize = 1;
    const TEMP: usize = 2;
    let bus = Arc::new(MessageBus::<B> {
        subscribers: Shared::new(vec![None, None, None]).with_name("subscribers"),
        message_queue: Shared::new(Vec::new()).with_name("message_queue"),
        queue_lock: Lock::new().with_name("queue_lock"),
        queue_event: Event::new().with_name("queue_event"),
        is_running: Shared::new(false).with_name("is_running"),
        received: ["GeneralReader", "WeatherWatcher", "TempReader"]
            .iter()
            .map(|n| Shared::new(Vec::new()).with_name(&format!("{n}.received_messages")))
            .collect(),
        lists: Shared::new(0).with_name("probe:lists"),
    });
    // start()
    bus.is_running.set(true);
    let dispatcher = {
        let bus = bus.clone();
        Thread::<B>::start("MessageBus-Dispatcher", move || bus.dispatch_loop())
    };
    bus.subscribe(NEWS, GENERAL);
    bus.subscribe(ALERT, GENERAL);
    bus.subscribe(WEATHER, WEATHER_WATCHER);
    bus.subscribe(ALERT, WEATHER_WATCHER);
    // simulate_news_publishing (1 item of 4)
    bus.publish(NEWS);
    sleep::<B>(1.0);
    // simulate_weather_updates (1 of 4)
    bus.publish(WEATHER);
    sleep::<B>(0.8);
    // simulate_alerts (1 publisher of 4)
    bus.publish(ALERT);
    sleep::<B>(0.5);
    sleep::<B>(2.0);
    // demonstrate_dynamic_subscription
    bus.subscribe(NEWS, TEMP);
    bus.publish(NEWS);
    sleep::<B>(1.0);
    bus.unsubscribe(NEWS, TEMP);
    sleep::<B>(0.5);
    bus.publish(NEWS);
    let temp = bus.received[TEMP].get().len();
    ensure(temp == 1, "every-message-delivered", || {
        format!("'临时订阅者收到消息数: {temp}'")
    });
    sleep::<B>(3.0);
    // stop()
    bus.is_running.set(false);
    bus.queue_event.set();
    dispatcher.join_timeout(3.0);
    let count = |sub: usize, t: usize| bus.received[sub].get().iter().filter(|&&x| x == t).count();
    let got = [
        (count(GENERAL, NEWS), 3),
        (count(GENERAL, ALERT), 1),
        (count(WEATHER_WATCHER, WEATHER), 1),
        (count(WEATHER_WATCHER, ALERT), 1),
    ];
    ensure(
        got.iter().all(|(a, b)| a == b),
        "every-message-delivered",
        || format!("(received, published) per subscription: {got:?}"),
    );
    dispatcher.join();
}

// ---- ex-5.4-03: Observer --------------------------------------------------------------

struct Subject<B: Backend> {
    state: Shared<Vec<(&'static str, f64)>, B>,
    change_event: Event<B>,
    lock: Lock<B>,
    /// The statistics observer's count (observers are called synchronously).
    stats_total: Shared<usize, B>,
}

impl<B: Backend> Subject<B> {
    fn set_state(&self, key: &'static str, value: f64) {
        {
            let _with = self.lock.lock();
            self.state.update(|s| {
                s.retain(|(k, _)| *k != key);
                s.push((key, value));
            });
        }
        // notify_observers (without the lock)
        self.stats_total.update(|n| *n += 1);
        self.change_event.set();
    }

    fn get_state(&self, key: &str) -> Option<f64> {
        let _with = self.lock.lock();
        self.state
            .get()
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| *v)
    }
}

/// The network subject gets a speed reading (one of 6), then main waits up to 3 s for a
/// change that another thread makes after 2 s, and reads the new latency. `change_event`
/// is never cleared.
fn ex_5_4_03<B: Backend>() {
    let network = Arc::new(Subject::<B> {
        state: Shared::new(Vec::new()).with_name("Network_Monitor.state"),
        change_event: Event::new().with_name("Network_Monitor.change_event"),
        lock: Lock::new().with_name("Network_Monitor.lock"),
        stats_total: Shared::new(0).with_name("SystemStats.total_changes"),
    });
    // simulate_monitoring (network part)
    network.set_state("download_speed", 100.0);
    sleep::<B>(0.7);
    // demonstrate_change_waiting
    let change_thread = {
        let network = network.clone();
        B::spawn("delayed_change", move || {
            sleep::<B>(2.0);
            network.set_state("latency", 150.5);
        })
    };
    if network.change_event.wait(Some(3.0)) == Ok(true) {
        // "检测到网络延迟变化"
        let latency = network.get_state("latency");
        ensure(latency == Some(150.5), "wait-means-changed", || {
            format!("'检测到网络延迟变化' then '当前延迟: {latency:?} ms'")
        });
    }
    change_thread.join();
}

// ---- ex-5.4-04: CommandInvoker --------------------------------------------------------

/// The command invoker: `submit_command` puts on a `queue.Queue` and sets
/// `execution_event`; the worker `wait(timeout=1)`s, drains with `empty()`/`get_nowait()`,
/// clears the event if it drained anything, and runs the commands. The demo's counter
/// commands (+1, +5, -2), then `sleep(1)` and two undos. Claim: the counter reads 4, then
/// 6, then 1; and the event tracks the queue (set while commands wait, so the worker neither
/// misses one nor wakes to an empty queue and busy-loops: in virtual time such a loop never
/// ends).
fn ex_5_4_04<B: Backend>() {
    let command_queue =
        Arc::new(Shared::<VecDeque<i64>, B>::new(VecDeque::new()).with_name("command_queue"));
    let execution_event = Arc::new(Event::<B>::new().with_name("execution_event"));
    let is_running = Arc::new(Shared::<bool, B>::new(false).with_name("is_running"));
    let counter = Arc::new(Shared::<i64, B>::new(0).with_name("counter['count']"));
    let undo_stack = Arc::new(Shared::<Vec<i64>, B>::new(Vec::new()).with_name("undo_stack"));
    // start()
    is_running.set(true);
    let worker = {
        let (command_queue, execution_event, is_running, counter, undo_stack) = (
            command_queue.clone(),
            execution_event.clone(),
            is_running.clone(),
            counter.clone(),
            undo_stack.clone(),
        );
        Thread::<B>::start("CommandInvoker", move || {
            while is_running.get() {
                if execution_event.wait(Some(1.0)) == Ok(true) {
                    if !is_running.get() {
                        break;
                    }
                    let mut commands = Vec::new();
                    while !command_queue.get().is_empty() {
                        match command_queue.update(|q| q.pop_front()) {
                            Some(c) => commands.push(c),
                            None => break, // queue.Empty
                        }
                    }
                    if !commands.is_empty() {
                        execution_event.clear();
                    }
                    // woken, nothing to run, and the event stays set: the next wait()
                    // returns at once, and the one after (a busy loop until the next submit)
                    ensure(!commands.is_empty(), "event-tracks-queue", || {
                        "execution_event.wait() returned True with the queue empty; the event stays set, so the worker busy-loops".to_owned()
                    });
                    for delta in commands {
                        if !is_running.get() {
                            break;
                        }
                        // CounterCommand.execute
                        let current = counter.get();
                        counter.set(current + delta);
                        undo_stack.update(|u| u.push(delta));
                    }
                }
            }
        })
    };
    let submit = |delta: i64| {
        command_queue.update(|q| q.push_back(delta));
        execution_event.set();
    };
    let undo_last = || {
        if let Some(delta) = undo_stack.update(|u| u.pop()) {
            let current = counter.get();
            counter.set(current - delta);
        }
    };
    let claim = |want: i64, what: &str| {
        let v = counter.get();
        ensure(v == want, "event-tracks-queue", || {
            format!("{what}: '当前计数器值: {v}', claimed {want} (a command still queued with execution_event clear)")
        });
    };
    // demo_undo_functionality
    submit(1);
    submit(5);
    submit(-2);
    sleep::<B>(1.0);
    claim(4, "after counter +1, +5, -2");
    undo_last();
    claim(6, "after undoing the last command");
    undo_last();
    claim(1, "after undoing another");
    // stop()
    is_running.set(false);
    execution_event.set();
    worker.join_timeout(3.0);
    worker.join();
}

// ---- registration -----------------------------------------------------------------------

/// The chapter's scenarios, in tutorial order.
pub fn scenarios() -> Vec<Scenario> {
    vec![
        Scenario::new(
            "ex-5.1-01",
            "TaskManager: workers wait on start_event, then count completions under `with threading.Lock()`",
            bodies!(ex_5_1_01),
        )
        .violates(
            "no-lost-update",
            "`with threading.Lock():` takes a new lock each time, so two `completed_tasks += 1` interleave and one is lost",
        )
        .threads(2)
        .source("ex-5.1-01"),
        Scenario::new(
            "ex-5.1-02",
            "ReusableEventSystem: one event cleared, waited on and set in each round",
            bodies!(ex_5_1_02),
        )
        .holds("each round clears the event before starting its workers and joins them before the next round")
        .threads(4)
        .source("ex-5.1-02"),
        Scenario::new(
            "ex-5.1-03",
            "EventWaitDemo: a producer pulses data_ready per batch, consumers wait(timeout=2.0)",
            bodies!(ex_5_1_03),
        )
        .violates(
            "each-batch-once",
            "a production time above the 2 s timeout makes consumers quit early; a pulse gives batches no identity",
        )
        .threads(3)
        .needs_choice()
        .source("ex-5.1-03"),
        Scenario::new(
            "ex-5.1-03-adversarial",
            "EventWaitDemo, adversarial time",
            bodies!(ex_5_1_03),
        )
        .violates("each-batch-once", "a timeout that fires early ends a consumer before its batches")
        .adversarial()
        .threads(3)
        .needs_choice()
        .source("ex-5.1-03"),
        Scenario::new(
            "ex-5.1-04",
            "EventStatusMonitor: a monitor polls is_set(), a job stops early when forced",
            bodies!(ex_5_1_04),
        )
        .holds("the monitor polls every 1 s, within the 2 s join timeout; the forced job sees the flag at its next step")
        .threads(4)
        .source("ex-5.1-04"),
        Scenario::new(
            "ex-5.1-04-adversarial",
            "EventStatusMonitor, adversarial time",
            bodies!(ex_5_1_04),
        )
        .violates(
            "monitor-stopped",
            "stop_monitoring logs 'stopped' after join(timeout=2) without checking is_alive(); a late monitor outlives the join",
        )
        .adversarial()
        .threads(4)
        .source("ex-5.1-04"),
        Scenario::new(
            "ex-5.1-05",
            "PipelineSystem: a coordinator opens three stage events on fixed sleeps",
            bodies!(ex_5_1_05),
        )
        .holds("every stage's work (at most 2.4, 2.8, 1.2 s) fits in the coordinator's 3, 4, 2 s windows")
        .threads(4)
        .needs_choice()
        .source("ex-5.1-05"),
        Scenario::new(
            "ex-5.1-06",
            "EventBestPractices: start/stop events, worker_count decremented under `with threading.Lock()`",
            bodies!(ex_5_1_06),
        )
        .violates(
            "no-lost-update",
            "`with threading.Lock():` takes a new lock each time; the workers stop together and their decrements interleave",
        )
        .threads(2)
        .source("ex-5.1-06"),
        Scenario::new(
            "ex-5.1-06-adversarial",
            "EventBestPractices, adversarial time",
            bodies!(ex_5_1_06),
        )
        .violates(
            "joins-in-time",
            "join(timeout=2) may return before a worker (delayed past it) has finished",
        )
        // The fresh-lock lost update of ex-5.1-06 is in this program too; loom reaches it first.
        .or_violates("no-lost-update")
        .adversarial()
        .threads(2)
        .source("ex-5.1-06"),
        Scenario::new(
            "ex-5.2-01",
            "PhaseManager: one event per phase; demo 2 raises ERROR while workers wait for COMPLETING",
            bodies!(ex_5_2_01),
        )
        .violates(
            "lost-wakeup",
            "the error path never sets COMPLETING or COMPLETED: demo 2's workers wait forever and the program never exits",
        )
        .threads(4)
        .source("ex-5.2-01"),
        Scenario::new(
            "ex-5.2-02",
            "RoundRobinScheduler: rounds gated by round_event, completion by round_complete_event",
            bodies!(ex_5_2_02),
        )
        .violates(
            "round-complete",
            "workers never consume round_event: a worker that finishes redoes the round at once, so all are never 'completed' together",
        )
        .threads(4)
        .needs_choice()
        .source("ex-5.2-02"),
        Scenario::new(
            "ex-5.2-03",
            "ServiceManager: start events waited on with timeouts, a health-check pulse, shutdown_event",
            bodies!(ex_5_2_03),
        )
        .violates(
            "wait-timeout-return-value",
            "a service that fails during startup returns without setting its start event: the manager waits out the timeout and reports 'startup timed out'",
        )
        .threads(4)
        .needs_choice()
        .max_steps(5_000)
        .source("ex-5.2-03"),
        Scenario::new(
            "ex-5.2-04",
            "MultiConsumerSystem: consumers wait on data_ready, one set() wakes them all",
            bodies!(ex_5_2_04),
        )
        .holds("set() wakes every waiter and the flag stays set for late ones")
        .threads(3)
        .source("ex-5.2-04"),
        Scenario::new(
            "ex-5.2-05",
            "RoundSyncSystem: a coordinator clears and sets round_event; daemon workers wait on it",
            bodies!(ex_5_2_05),
        )
        .violates(
            "one-start-per-round",
            "the event stays set 3 s and the work takes 2 s: a worker's next wait() passes at once, in the same round",
        )
        .threads(3)
        .source("ex-5.2-05"),
        Scenario::new(
            "ex-5.2-06",
            "ConditionalWaitSystem: is_set() first, else wait(timeout=3); the producer pulses data_event",
            bodies!(ex_5_2_06),
        )
        .holds("with the 1 s pulse, 1 s processing and 0.5 s rest, each consumer sees each batch once")
        .threads(3)
        .source("ex-5.2-06"),
        Scenario::new(
            "ex-5.2-06-adversarial",
            "ConditionalWaitSystem, adversarial time",
            bodies!(ex_5_2_06),
        )
        .violates(
            "each-batch-once",
            "a consumer delayed past the 1 s pulse never sees that batch (set() and clear() both happen while it is not looking), and one that runs while the producer's clear() is late processes the same batch again",
        )
        .adversarial()
        // Finding it needs a sleep delayed past another thread's deadline: the engine must
        // choose which due deadline fires, which loom's environment thread cannot.
        .needs_choice()
        .threads(3)
        .source("ex-5.2-06"),
        Scenario::new(
            "ex-5.3-01",
            "TaskNotificationSystem: the worker stores task_result, then sets task_complete",
            bodies!(ex_5_3_01),
        )
        .holds("the result is written before set(), and wait() returns only after set()")
        .threads(2)
        .source("ex-5.3-01"),
        Scenario::new(
            "ex-5.3-02",
            "BroadcastNotifier: one event per notification type, reused in demo 2",
            bodies!(ex_5_3_02),
        )
        .violates(
            "notified-after-broadcast",
            "EMERGENCY is never cleared after demo 1, so demo 2's subscriber 'receives' it before it is broadcast",
        )
        .threads(4)
        .source("ex-5.3-02"),
        Scenario::new(
            "ex-5.3-03",
            "TaskCollector: per-task events polled by a collector, collection_event for main",
            bodies!(ex_5_3_03),
        )
        .violates(
            "step-budget",
            "`is_set() and task_id not in task_results` is never true (results are stored before set()): the collector polls forever and main waits forever",
        )
        .threads(3)
        .max_steps(800)
        .source("ex-5.3-03"),
        Scenario::new(
            "ex-5.3-04",
            "IntelligentMonitor: per-level alert events, two handlers per level wait(timeout=1) and clear()",
            bodies!(ex_5_3_04),
        )
        .violates(
            "alert-handled-once",
            "both handlers of a level wake on the same set() and handle the same alert; a late clear() can wipe a newer one",
        )
        .threads(4)
        .needs_choice()
        .source("ex-5.3-04"),
        Scenario::new(
            "ex-5.3-05",
            "WorkflowStateMachine: an event queue under a lock, event_queue_event set on send, cleared when drained",
            bodies!(ex_5_3_05),
        )
        .holds("append+set and empty-check+clear run under the same lock: no send is lost")
        .threads(1)
        .needs_choice()
        .source("ex-5.3-05"),
        Scenario::new(
            "ex-5.3-05-adversarial",
            "WorkflowStateMachine, adversarial time",
            bodies!(ex_5_3_05),
        )
        .holds("a wait() that times out early finds the event clear only with an empty queue")
        .adversarial()
        .threads(1)
        .needs_choice()
        .source("ex-5.3-05"),
        Scenario::new(
            "ex-5.4-01",
            "EventBus: a PriorityQueue of (-priority, Event) drained by a dispatcher thread",
            bodies!(ex_5_4_01),
        )
        .violates(
            "no-uncaught-exception",
            "two queued events of equal priority make heapq compare the Event dataclasses: publish() raises TypeError",
        )
        .threads(1)
        .source("ex-5.4-01"),
        Scenario::new(
            "ex-5.4-02",
            "MessageBus: publish appends and sets under one lock; the dispatcher drains and clears under it",
            bodies!(ex_5_4_02),
        )
        .holds("append+set and drain+clear are atomic under queue_lock, so no wakeup is lost")
        .threads(1)
        .source("ex-5.4-02"),
        Scenario::new(
            "ex-5.4-02-adversarial",
            "MessageBus, adversarial time",
            bodies!(ex_5_4_02),
        )
        .holds("an early timeout of the dispatcher's wait only makes it wait again; the flag stays set while messages are queued")
        .adversarial()
        .threads(1)
        .source("ex-5.4-02"),
        Scenario::new(
            "ex-5.4-03",
            "Observer: wait_for_change(timeout=3) on a change_event that is never cleared",
            bodies!(ex_5_4_03),
        )
        .violates(
            "wait-means-changed",
            "change_event is still set from earlier changes: wait_for_change returns True at once and the latency is None",
        )
        .threads(1)
        .source("ex-5.4-03"),
        Scenario::new(
            "ex-5.4-04",
            "CommandInvoker: put() then set(); the worker drains with empty()/get_nowait() and then clear()s",
            bodies!(ex_5_4_04),
        )
        .violates(
            "event-tracks-queue",
            "put() then set() and drain then clear() are not atomic: a command put between the worker's last empty() and its clear() stays queued with the event clear (counter 6, not 4), and a set() after the drain leaves the event set with the queue empty (a busy loop)",
        )
        .threads(1)
        .source("ex-5.4-04"),
    ]
}

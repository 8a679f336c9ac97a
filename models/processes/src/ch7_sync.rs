//! Section 7.3 (synchronization between processes: Event, Semaphore, Condition) of the
//! tutorial: its examples as scenarios.
//!
//! | scenario | example | expected |
//! |---|---|---|
//! | `ex-7.3-01` | EventSynchronization: a supervisor starts workers, sets start_event, later stop_event | holds |
//! | `ex-7.3-01-crash` | the same (1 worker), a process may be killed | deadlock |
//! | `ex-7.3-02` | ResourcePoolManager: `with Semaphore(2)`, `total_requests.value += 1` | no-lost-update |
//! | `ex-7.3-03` | ProducerConsumerSystem: one Condition, consumers and priority consumers | deadlock |

use crate::{all_exited, join_all, manager, now, sleep, start, Proxy};
use lockproof::backend::process::ProcessBackend;
use lockproof::process as mp;
use lockproof_scenario::prelude::*;
use std::collections::BTreeMap;

// ---- ex-7.3-01 ------------------------------------------------------------------------------

/// An `operation_log` entry: (who, work_count or phase, finished at or active workers).
type LogEntry = (String, usize, f64);

/// Probe: virtual times at which the supervisor set start_event and stop_event.
type Signals = (Option<f64>, Option<f64>);

/// EventSynchronization, as a process receives it.
struct EventSync<B: ProcessBackend> {
    start_event: mp::Event<B>,
    stop_event: mp::Event<B>,
    process_status: Proxy<BTreeMap<String, &'static str>, B>,
    operation_log: Proxy<Vec<LogEntry>, B>,
    signals: Arc<Shared<Signals, B>>,
}

impl<B: ProcessBackend> EventSync<B> {
    fn inherit(&self) -> Self {
        EventSync {
            start_event: self.start_event.reopen(),
            stop_event: self.stop_event.reopen(),
            process_status: self.process_status.clone(),
            operation_log: self.operation_log.clone(),
            signals: self.signals.clone(),
        }
    }

    fn status(&self, who: String, s: &'static str) {
        self.process_status.update(|d| d.insert(who, s));
    }

    fn worker_process(&self, worker_id: usize, delay_range: (f64, f64)) {
        let me = format!("worker_{worker_id}");
        self.status(me.clone(), "waiting");
        py_ok(self.start_event.wait(None));
        let sent = self.signals.get().0;
        ensure(sent.is_some(), "event-set-clear-wait", || {
            format!("Worker-{worker_id} '收到开始信号' before the supervisor set start_event")
        });
        self.status(me.clone(), "working");
        let mut work_count = 0;
        while !self.stop_event.is_set() {
            work_count += 1;
            let (lo, hi) = delay_range;
            sleep::<B>(lo + (hi - lo) * (worker_id % 3) as f64 / 2.0);
            let entry = (me.clone(), work_count, now::<B>());
            self.operation_log.update(|l| l.push(entry));
        }
        self.status(me, "stopped");
    }

    fn supervisor_process(&self, num_workers: usize, run_duration: f64) {
        let mut workers = Vec::new();
        for i in 1..=num_workers {
            let w = self.inherit();
            workers.push(start::<B>(&format!("Worker-{i}"), move || {
                w.worker_process(i, (0.5, 1.5))
            }));
            sleep::<B>(0.2);
        }
        sleep::<B>(2.0);
        self.signals.update(|s| s.0 = Some(now::<B>()));
        self.start_event.set();
        self.status("supervisor".into(), "started");
        sleep::<B>(run_duration);
        self.stop_event.set();
        self.signals.update(|s| s.1 = Some(now::<B>()));
        self.status("supervisor".into(), "stopped");
        join_all::<B>(workers);
    }

    fn coordinator_process(&self, coordination_points: usize) {
        py_ok(self.start_event.wait(None));
        for phase in 1..=coordination_points {
            sleep::<B>(2.0);
            let statuses = self.process_status.get();
            let active = statuses.values().filter(|s| **s == "working").count();
            self.operation_log
                .update(|l| l.push(("coordinator".into(), phase, active as f64)));
        }
    }
}

/// `Event.wait()` with no timeout returns True.
fn py_ok(r: Result<bool, Error>) {
    let _ = crate::py(r);
}

/// ex-7.3-01 (4 workers, 8 s, 3 coordination phases → `N` workers, 3 s, 1 phase). Claims:
/// a worker starts working only after start_event is set; set() releases every waiter;
/// after stop_event is set each worker finishes at most one more task and stops; the
/// coordinator sees every worker 'working' in each phase; process_status ends with every
/// worker and the supervisor 'stopped'. With `CRASH` the end-of-run claims are skipped.
fn ex_7_3_01_body<B: ProcessBackend, const N: usize, const CRASH: bool>() {
    let sys = EventSync {
        start_event: mp::Event::<B>::new().with_name("start_event"),
        stop_event: mp::Event::<B>::new().with_name("stop_event"),
        process_status: manager::<BTreeMap<String, &'static str>, B>(
            "process_status",
            BTreeMap::new(),
        ),
        operation_log: manager::<Vec<LogEntry>, B>("operation_log", Vec::new()),
        signals: crate::probe::<Signals, B>("signals sent", (None, None)),
    };
    let s = sys.inherit();
    let supervisor = start::<B>("supervisor", move || s.supervisor_process(N, 3.0));
    sleep::<B>(0.5);
    let c = sys.inherit();
    let coordinator = start::<B>("coordinator", move || c.coordinator_process(1));
    let codes = join_all::<B>(vec![supervisor, coordinator]);
    if CRASH && !all_exited(&codes) {
        return;
    }
    let status = sys.process_status.get();
    let log = sys.operation_log.get();
    let (Some(started), Some(stopped)) = sys.signals.get() else {
        return ensure(false, "event-set-clear-wait", || {
            "the supervisor never set both events".into()
        });
    };
    for i in 1..=N {
        let me = format!("worker_{i}");
        let tasks: Vec<f64> = log.iter().filter(|e| e.0 == me).map(|e| e.2).collect();
        let early = tasks.iter().filter(|&&t| t <= started).count();
        let late = tasks.iter().filter(|&&t| t > stopped).count();
        ensure(early == 0 && late <= 1, "event-set-clear-wait", || {
            format!(
                "{me} finished tasks at {tasks:?}: start_event set at {started}, stop_event at \
                 {stopped} (at most one task may end after the stop)"
            )
        });
        ensure(
            status.get(me.as_str()) == Some(&"stopped"),
            "all-stopped",
            || format!("process_status {status:?}: {me} is not 'stopped'"),
        );
    }
    ensure(
        status.get("supervisor") == Some(&"stopped"),
        "all-stopped",
        || format!("process_status {status:?}: the supervisor is not 'stopped'"),
    );
    for (_, phase, active) in log.iter().filter(|e| e.0 == "coordinator") {
        ensure(
            *active as usize == N,
            "coordinator-sees-all-working",
            || format!("Coordinator: 阶段 {phase} 完成,活跃工作进程: {active}, expected {N}"),
        );
    }
}

fn ex_7_3_01<B: ProcessBackend>() {
    ex_7_3_01_body::<B, 2, false>()
}

fn ex_7_3_01_crash<B: ProcessBackend>() {
    ex_7_3_01_body::<B, 1, true>()
}

// ---- ex-7.3-02 ------------------------------------------------------------------------------

/// ResourcePoolManager, as a child receives it.
struct ResourcePoolManager<B: ProcessBackend> {
    semaphore: mp::Semaphore<B>,
    access_log: Proxy<Vec<(usize, &'static str)>, B>,
    total_requests: mp::Value<i32, B>,
    total_granted: mp::Value<i32, B>,
    resource: Arc<Region<B>>,
}

impl<B: ProcessBackend> ResourcePoolManager<B> {
    fn inherit(&self) -> Self {
        ResourcePoolManager {
            semaphore: self.semaphore.reopen(),
            access_log: self.access_log.clone(),
            total_requests: self.total_requests.reopen(),
            total_granted: self.total_granted.reopen(),
            resource: self.resource.clone(),
        }
    }

    fn resource_user(&self, user_id: usize, max_requests: usize) {
        for _ in 1..=max_requests {
            // self.total_requests.value += 1: a locked read, then a locked write.
            let n = self.total_requests.value();
            self.total_requests.set_value(n + 1);
            {
                let _g = self.semaphore.lock();
                let _in = self.resource.enter();
                let n = self.total_granted.value();
                self.total_granted.set_value(n + 1);
                self.access_log.update(|l| l.push((user_id, "acquired")));
                sleep::<B>(1.0 + 0.5 * user_id as f64); // random.uniform(1, 3)
                self.access_log.update(|l| l.push((user_id, "released")));
            }
            sleep::<B>(0.5 + 0.25 * user_id as f64); // random.uniform(0.5, 1.5)
        }
    }
}

/// ex-7.3-02 (5 users × 4 requests, a 15 s monitor → 3 users × 1 request; the monitor,
/// which only reads and logs, is left out). Claims: at most 2 users hold a resource at
/// once; every request is granted (total_requests == total_granted == 3, 100 %); the
/// report (under the semaphore) counts 3 users and 6 log entries.
fn ex_7_3_02<B: ProcessBackend>() {
    const USERS: usize = 3;
    let rm = ResourcePoolManager {
        semaphore: mp::Semaphore::<B>::new(2)
            .expect("2 >= 0")
            .with_name("self.semaphore"),
        access_log: manager::<Vec<(usize, &'static str)>, B>("access_log", Vec::new()),
        total_requests: mp::Value::<i32, B>::new(0).with_name("total_requests"),
        total_granted: mp::Value::<i32, B>::new(0).with_name("total_granted"),
        resource: Arc::new(Region::<B>::new("resources in use", 2)),
    };
    let users = (1..=USERS)
        .map(|i| {
            let r = rm.inherit();
            start::<B>(&format!("User-{i}"), move || r.resource_user(i, 1))
        })
        .collect();
    join_all::<B>(users);
    // generate_report
    let _g = rm.semaphore.lock();
    let (req, granted) = (rm.total_requests.value(), rm.total_granted.value());
    let log = rm.access_log.get();
    ensure(
        req == 3 && granted == 3 && log.len() == 6,
        "no-lost-update",
        || {
            format!(
            "total_requests {req}, total_granted {granted}, {} access_log entries; 3 users made \
             3 requests, all granted",
            log.len()
        )
        },
    );
}

// ---- ex-7.3-03 ------------------------------------------------------------------------------

/// ProducerConsumerSystem, as a child receives it.
struct ProducerConsumer<B: ProcessBackend> {
    buffer_size: usize,
    buffer: Proxy<Vec<String>, B>,
    condition: mp::Condition<B>,
    produced_count: mp::Value<i32, B>,
    consumed_count: mp::Value<i32, B>,
}

impl<B: ProcessBackend> ProducerConsumer<B> {
    fn inherit(&self) -> Self {
        ProducerConsumer {
            buffer_size: self.buffer_size,
            buffer: self.buffer.clone(),
            condition: self.condition.reopen(),
            produced_count: self.produced_count.reopen(),
            consumed_count: self.consumed_count.reopen(),
        }
    }

    fn len(&self) -> usize {
        self.buffer.update(|b| b.len())
    }

    fn add(v: &mp::Value<i32, B>) {
        let n = v.value();
        v.set_value(n + 1);
    }

    fn producer(&self, producer_id: usize, items: usize) {
        for item_id in 1..=items {
            let item = format!("P{producer_id}-Item{item_id}");
            {
                let _g = self.condition.lock();
                while self.len() >= self.buffer_size {
                    crate::py(self.condition.wait(None));
                }
                let n = self.buffer.update(|b| {
                    b.push(item);
                    b.len()
                });
                ensure(n <= self.buffer_size, "bounded-buffer", || {
                    format!(
                        "the buffer holds {n} items, its size is {}",
                        self.buffer_size
                    )
                });
                Self::add(&self.produced_count);
                crate::py(self.condition.notify(1));
            }
            sleep::<B>(0.3); // random.uniform(0.1, 0.5)
        }
    }

    fn consumer(&self, items: usize) {
        let mut consumed = 0;
        while consumed < items {
            {
                let _g = self.condition.lock();
                while self.len() == 0 {
                    crate::py(self.condition.wait(None));
                }
                self.buffer.update(|b| b.remove(0));
                Self::add(&self.consumed_count);
                consumed += 1;
                crate::py(self.condition.notify(1));
            }
            sleep::<B>(0.4); // random.uniform(0.2, 0.6)
        }
    }

    /// `priority_consumer(1, items)`: priority 1 takes an item whenever there is one.
    fn priority_consumer(&self, items: usize) {
        let (mut consumed, mut attempts) = (0, 0);
        while consumed < items && attempts < items * 3 {
            {
                let _g = self.condition.lock();
                if self.len() > 0 {
                    self.buffer.update(|b| b.remove(0));
                    consumed += 1;
                    Self::add(&self.consumed_count);
                    crate::py(self.condition.notify_all());
                } else {
                    attempts += 1;
                    crate::py(self.condition.wait(Some(1.0)));
                }
            }
            sleep::<B>(0.2); // random.uniform(0.1, 0.3)
        }
    }
}

/// ex-7.3-03 (2 producers × 6 items into a buffer of 3; 3 consumers × 4 items; priority
/// consumers 1–3 × 3 items; a monitor → 1 producer × 2 items into a buffer of 1; 1
/// consumer × 2 items; priority consumer 1 × 1 item; the monitor, which only reads under
/// the condition and logs, left out). Keeps the example's ratio: the regular consumers
/// ask for exactly what the producers make, and the priority consumers take some too.
/// Claims: the buffer never exceeds its size; each consumer ends with 'consumed N items';
/// main joins everyone and prints the report.
fn ex_7_3_03<B: ProcessBackend>() {
    let system = ProducerConsumer {
        buffer_size: 1,
        buffer: manager::<Vec<String>, B>("buffer", Vec::new()),
        condition: mp::Condition::<B>::new().with_name("self.condition"),
        produced_count: mp::Value::<i32, B>::new(0).with_name("produced_count"),
        consumed_count: mp::Value::<i32, B>::new(0).with_name("consumed_count"),
    };
    let p = system.inherit();
    let producer = start::<B>("Producer-1", move || p.producer(1, 2));
    sleep::<B>(1.0);
    let c = system.inherit();
    let consumer = start::<B>("Consumer-1", move || c.consumer(2));
    let q = system.inherit();
    let priority = start::<B>("Priority-1", move || q.priority_consumer(1));
    join_all::<B>(vec![producer, consumer, priority]);
    let (produced, consumed) = (system.produced_count.value(), system.consumed_count.value());
    ensure(produced == consumed, "producer-consumer", || {
        format!("total_produced {produced}, total_consumed {consumed}")
    });
}

/// The scenarios of section 7.3.
pub fn scenarios() -> Vec<Scenario> {
    vec![
        Scenario::new(
            "ex-7.3-01",
            "EventSynchronization: a supervisor process starts workers that wait on start_event, then stops them with stop_event; a coordinator samples who is working",
            bodies!(ex_7_3_01),
        )
        .holds("Event is level-triggered: workers started before or after set() all pass start_event.wait(); each polls stop_event.is_set() once per task, so it ends at most one task after the stop; the coordinator's phase falls inside the run")
        .source("ex-7.3-01")
        .threads(4),
        Scenario::new(
            "ex-7.3-01-crash",
            "ex-7.3-01 (1 worker) with a process that may be killed",
            bodies!(ex_7_3_01_crash),
        )
        .violates("deadlock", "start_event.wait() has no timeout: if the supervisor is killed before set(), the worker and the coordinator wait forever, and main in join(); and a worker killed inside start_event.wait() while it holds the Event's internal lock leaves that lock held, so the supervisor's set() blocks forever (dead-holder)")
        .or_violates("dead-holder")
        .crashes(1)
        .source("ex-7.3-01")
        .threads(3),
        Scenario::new(
            "ex-7.3-02",
            "ResourcePoolManager: users take one of 2 resources with `with Semaphore(2)` and count with `total_requests.value += 1`",
            bodies!(ex_7_3_02),
        )
        .violates("no-lost-update", "`self.total_requests.value += 1` is a locked read then a locked write of the Value (its get_lock() is never held across both): two users read the same count and one increment is lost")
        .source("ex-7.3-02")
        .threads(3),
        Scenario::new(
            "ex-7.3-03",
            "ProducerConsumerSystem: producers, consumers and priority consumers share a Manager-list buffer under one mp.Condition",
            bodies!(ex_7_3_03),
        )
        .violates("deadlock", "the regular consumers ask for exactly as many items as the producers make, but the priority consumers take some first: a regular consumer then waits in condition.wait() (no timeout) for an item nobody will produce, and main hangs in join()")
        .source("ex-7.3-03")
        .threads(3),
    ]
}

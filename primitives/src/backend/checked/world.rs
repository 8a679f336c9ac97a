//! The checked world of one execution: thread registry, wait queues, virtual clock,
//! fault injection, trace.
//!
//! All of it is bookkeeping the engine does not see (a std mutex that is never contended,
//! because an engine runs one thread at a time and this module never calls into the engine
//! while holding it). Every piece of bookkeeping happens in the same engine step as a visible
//! operation on the same primitive (the atomic in `validate`, an unpark), so the engine's
//! ordering of visible operations decides the bookkeeping's order too.

use super::fxhash::FxHashMap as HashMap;
use super::report::{
    BlockedThread, DeadlockReport, ExecutionReport, Failure, ObjectInfo, StepKind, Switch,
    TraceEvent,
};
use crate::backend::{Args, Moment, ParkResult, Record, WaitKind};
use std::cell::RefCell;
use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};

mod environment;
pub(crate) use environment::{EnvStep, ENV_KEY};

/// How virtual time moves. Written `timed` / `adversarial` (its `Display` and `FromStr`,
/// and its serde form with the `serde` feature).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "lowercase"))]
pub enum TimeMode {
    /// Time moves only when every live thread is blocked, to the earliest deadline: the
    /// tutorial's sleep and timeout demos become deterministic.
    Timed,
    /// As `Timed`, and besides, any pending timeout may fire at any step: code that works
    /// only because a timeout fires late enough is caught.
    Adversarial,
}

impl TimeMode {
    /// `"timed"` or `"adversarial"`.
    pub fn as_str(&self) -> &'static str {
        match self {
            TimeMode::Timed => "timed",
            TimeMode::Adversarial => "adversarial",
        }
    }
}

impl std::fmt::Display for TimeMode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for TimeMode {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "timed" => Ok(TimeMode::Timed),
            "adversarial" => Ok(TimeMode::Adversarial),
            other => Err(format!("time mode {other:?} (timed or adversarial)")),
        }
    }
}

/// The settings of a checked world.
#[derive(Clone, Debug)]
pub struct WorldConfig {
    /// How time moves.
    pub time: TimeMode,
    /// Whether `Condition.wait` may wake spuriously.
    pub spurious: bool,
    /// At most this many spurious wakeups per execution (keeps executions finite).
    pub max_spurious: u32,
    /// At most this many traced steps per execution.
    pub max_steps: u64,
}

impl Default for WorldConfig {
    fn default() -> Self {
        WorldConfig {
            time: TimeMode::Timed,
            spurious: false,
            max_spurious: 1,
            max_steps: 20_000,
        }
    }
}

/// Something that watches every step of an execution (the harness's monitors).
pub trait Observer: Send {
    /// Called after each traced step; an `Err` fails the execution as a violation of the
    /// named property.
    fn on_event(&mut self, event: &TraceEvent, objects: &[ObjectInfo]) -> Result<(), Violation>;
    /// Called once when the execution ends without another failure.
    fn on_finish(&mut self, _report: &ExecutionReport) -> Result<(), Violation> {
        Ok(())
    }
}

/// A property found false.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    /// The property's name.
    pub property: String,
    /// What was seen.
    pub message: String,
}

/// The panic payload that unwinds every thread of a failed execution. It is raised with
/// `resume_unwind`, so no panic hook prints it.
#[derive(Debug)]
pub struct Aborted;

/// The engine operations the world needs, as plain function pointers.
#[derive(Clone, Copy)]
pub(crate) struct EngineOps {
    pub name: &'static str,
    pub thread_key: fn() -> u64,
    pub park: fn(),
    pub choose: fn(usize) -> Option<usize>,
    pub choose_weighted: fn(usize, usize) -> Option<usize>,
    pub max_threads: Option<usize>,
}

/// How to wake a thread that sleeps in the engine.
pub(crate) type Unparker = Arc<dyn Fn() + Send + Sync>;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Wake {
    Unparked,
    TimedOut,
    Spurious,
    Abort,
}

#[derive(Clone, Debug)]
struct Blocked {
    key: usize,
    object: Option<usize>,
    op: &'static str,
    kind: WaitKind,
    deadline: Option<u64>,
}

#[derive(Clone, Debug)]
enum Status {
    Running,
    Blocked(Blocked),
    Finished,
}

struct ThreadSlot {
    name: String,
    status: Status,
    wake: Option<Wake>,
    unpark: Option<Unparker>,
    /// The checker's own environment thread (see `environment`), not the model's.
    env: bool,
}

/// Key of the queue a joiner waits in. Primitive keys are addresses, far below these.
pub(crate) fn join_key(thread: usize) -> usize {
    usize::MAX - thread
}
const SLEEP_KEY: usize = 0;

struct State {
    now: u64,
    threads: Vec<ThreadSlot>,
    /// Engine thread key → thread id (a handful of threads: a scan beats hashing).
    keys: Vec<(u64, usize)>,
    queues: HashMap<usize, VecDeque<usize>>,
    objects: Vec<ObjectInfo>,
    kind_counts: HashMap<&'static str, usize>,
    holders: HashMap<usize, Vec<usize>>,
    trace: Vec<TraceEvent>,
    last_thread: Option<usize>,
    failure: Option<Failure>,
    steps: u64,
    spurious_used: u32,
    timeouts_fired: u32,
    limitations: Vec<String>,
    observer: Option<Box<dyn Observer>>,
    /// The environment thread, when the engine has no choice operator.
    env: Option<usize>,
    env_fired: u32,
    env_shutdown: bool,
    /// Threads woken whose engine unpark waits for the current thread's next step.
    pending_unparks: Vec<usize>,
    /// The thread that took the last engine step, and whether it could have gone on (it did
    /// not block, yield or finish there): a switch away from such a thread is a preemption.
    engine_last: Option<(usize, bool)>,
    /// Preemptions so far, counted at the engine's own scheduling points.
    preemptions: u32,
    /// (thread, the thread it preempted): shown on that thread's next traced step.
    preempted_notes: Vec<(usize, usize)>,
}

/// One execution's world.
pub struct World {
    state: Mutex<State>,
    config: WorldConfig,
    ops: EngineOps,
}

impl std::fmt::Debug for World {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("World")
            .field("engine", &self.ops.name)
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

thread_local! {
    // Engines run every model thread of an execution on the OS thread that started it, so
    // an OS-thread local is the execution's global.
    static CURRENT: RefCell<Option<Arc<World>>> = const { RefCell::new(None) };
    static LAST_REPORT: RefCell<Option<ExecutionReport>> = const { RefCell::new(None) };
}

thread_local! {
    static ENGINE_OPS: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

/// How many operations the checked threads of this OS thread have taken so far (atomic
/// operations, blocks, yields, finishes, spawns and checker choices): a scheduler that sees
/// no operation between two of its scheduling points knows a switch at the second is the
/// same as one at the first (see the harness's depth-first engine).
pub fn engine_ops() -> u64 {
    ENGINE_OPS.with(|c| c.get())
}

pub(crate) fn count_engine_op() {
    ENGINE_OPS.with(|c| c.set(c.get().wrapping_add(1)));
}

/// The report of the last execution run (or failed) on this OS thread.
pub fn take_last_report() -> Option<ExecutionReport> {
    LAST_REPORT.with(|r| r.borrow_mut().take())
}

pub(crate) fn current() -> Arc<World> {
    try_current().unwrap_or_else(|| {
        panic!(
            "lockproof: a checked primitive was used outside a checked execution; \
             run the model through lockproof::backend::checked::execute (the harness does)"
        )
    })
}

pub(crate) fn try_current() -> Option<Arc<World>> {
    CURRENT.with(|c| c.borrow().clone())
}

/// Called before every visible operation of a primitive: performs the deferred unparks,
/// and says whether the execution is being torn down after a failure (primitives then skip
/// engine operations: an engine call while unwinding can abort).
pub(crate) fn before_visible_op() -> bool {
    // The hot path of every checked atomic: one look at the world (no `Arc` clone) and one
    // lock of its state, which also takes the deferred unparks.
    let unparkers = CURRENT.with(|c| {
        let c = c.borrow();
        let w = c.as_ref()?;
        let mut st = w.lock();
        if st.failure.is_some() {
            return Some(Err(()));
        }
        w.engine_step(&mut st);
        if st.pending_unparks.is_empty() {
            return Some(Ok(Vec::new()));
        }
        let pending = std::mem::take(&mut st.pending_unparks);
        Some(Ok(unparkers_of(&st, &pending)))
    });
    match unparkers {
        None => false,
        Some(Err(())) => true,
        Some(Ok(unparkers)) => {
            if !unparkers.is_empty() {
                // Waking a thread changes who may run next: an operation for the schedulers.
                count_engine_op();
                for u in unparkers {
                    u();
                }
            }
            false
        }
    }
}

fn abort_thread() -> ! {
    std::panic::resume_unwind(Box::new(Aborted))
}

impl World {
    pub(crate) fn new(
        config: WorldConfig,
        observer: Option<Box<dyn Observer>>,
        ops: EngineOps,
    ) -> Self {
        World {
            state: Mutex::new(State {
                now: 0,
                threads: Vec::new(),
                keys: Vec::new(),
                queues: HashMap::default(),
                objects: Vec::new(),
                kind_counts: HashMap::default(),
                holders: HashMap::default(),
                // Most executions trace a few dozen steps: no regrowth for those.
                trace: Vec::with_capacity(64),
                last_thread: None,
                failure: None,
                steps: 0,
                spurious_used: 0,
                timeouts_fired: 0,
                limitations: Vec::new(),
                observer,
                env: None,
                env_fired: 0,
                env_shutdown: false,
                pending_unparks: Vec::new(),
                engine_last: None,
                preemptions: 0,
                preempted_notes: Vec::new(),
            }),
            config,
            ops,
        }
    }

    pub(crate) fn config(&self) -> &WorldConfig {
        &self.config
    }

    pub(crate) fn install(self: &Arc<Self>) {
        CURRENT.with(|c| *c.borrow_mut() = Some(self.clone()));
    }

    pub(crate) fn uninstall() {
        CURRENT.with(|c| *c.borrow_mut() = None);
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // Never poisoned: no code panics while holding it.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Register a new thread; returns its id. `None` if the engine cannot run another.
    pub(crate) fn new_thread(&self, name: &str) -> Result<usize, String> {
        let mut st = self.lock();
        if let Some(max) = self.ops.max_threads {
            if st.threads.len() >= max {
                return Err(format!(
                    "{} runs at most {} threads including main; this scenario starts more",
                    self.ops.name, max
                ));
            }
        }
        let id = st.threads.len();
        st.threads.push(ThreadSlot {
            name: name.to_owned(),
            status: Status::Running,
            wake: None,
            unpark: None,
            env: false,
        });
        Ok(id)
    }

    /// Bind the calling engine thread to thread `id`.
    pub(crate) fn bind(&self, id: usize, unpark: Unparker) {
        let key = (self.ops.thread_key)();
        let mut st = self.lock();
        st.keys.retain(|(k, _)| *k != key);
        st.keys.push((key, id));
        st.threads[id].unpark = Some(unpark);
        if !st.threads[id].env {
            self.push(
                &mut st,
                id,
                None,
                "start",
                Args::new(),
                StepKind::Thread("start"),
            );
        }
    }

    fn me(&self, st: &State) -> usize {
        let key = (self.ops.thread_key)();
        st.keys
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, id)| *id)
            .expect("lockproof: thread not started through Backend::spawn")
    }

    pub(crate) fn current_thread(&self) -> usize {
        let st = self.lock();
        self.me(&st)
    }

    // ---- preemptions ------------------------------------------------------------------

    /// The current thread is about to take an engine step (a scheduling point of both
    /// engines: an atomic operation). If the thread that took the last engine step could
    /// have gone on, the engine preempted it: that is the preemption loom's bound counts
    /// and the depth-first search bounds, so the trace and the engine count the same thing.
    fn engine_step(&self, st: &mut State) {
        self.take_engine_step(st, true);
    }

    /// The current thread stops at its next engine step (it blocks, yields or finishes): a
    /// switch away from it there is not a preemption.
    fn engine_stop(&self, st: &mut State) {
        count_engine_op();
        self.take_engine_step(st, false);
    }

    /// The current thread takes an engine step; `goes_on`: it could keep running after it.
    fn take_engine_step(&self, st: &mut State, goes_on: bool) {
        let me = self.me(st);
        if let Some((last, true)) = st.engine_last {
            if last != me {
                st.preemptions += 1;
                note_preemption(st, me, last);
            }
        }
        st.engine_last = Some((me, goes_on));
    }

    /// The current thread yields (`time.sleep(0)`, `yield_now`).
    pub(crate) fn yield_step(&self) {
        let mut st = self.lock();
        if st.failure.is_none() {
            self.engine_stop(&mut st);
        }
    }

    pub(crate) fn now(&self) -> u64 {
        self.lock().now
    }

    pub(crate) fn new_object(&self, kind: &'static str) -> usize {
        let mut st = self.lock();
        let n = st.kind_counts.entry(kind).or_insert(0);
        *n += 1;
        let name = format!("{}{}", kind.to_ascii_lowercase(), n);
        st.objects.push(ObjectInfo { kind, name });
        st.objects.len() - 1
    }

    pub(crate) fn set_name(&self, object: usize, name: &str) {
        if let Some(o) = self.lock().objects.get_mut(object) {
            o.name = name.to_owned();
        }
    }

    // ---- steps ------------------------------------------------------------------------

    /// Append a trace step; runs the observer and the step budget. Returns a failure to
    /// raise, if the step caused one.
    fn push(
        &self,
        st: &mut State,
        thread: usize,
        object: Option<usize>,
        op: &'static str,
        args: Args,
        kind: StepKind,
    ) -> Option<Failure> {
        let note = st.preempted_notes.iter().position(|(t, _)| *t == thread);
        let switch = match (note, st.last_thread) {
            (Some(i), _) => Some(Switch::Preempted(st.preempted_notes.swap_remove(i).1)),
            (None, Some(prev)) if prev != thread => Some(match st.threads[prev].status {
                Status::Running => Switch::Resumed(prev),
                Status::Blocked(_) => Switch::Blocked(prev),
                Status::Finished => Switch::Finished(prev),
            }),
            _ => None,
        };
        st.last_thread = Some(thread);
        st.steps += 1;
        let event = TraceEvent {
            thread,
            object,
            op,
            args,
            kind,
            time: st.now,
            switch,
        };
        if let (Some(obj), StepKind::Returned(outcome)) = (object, &event.kind) {
            track_holders(st, obj, thread, op, outcome);
        }
        let verdict = match st.observer.as_mut() {
            Some(obs) => obs.on_event(&event, &st.objects),
            None => Ok(()),
        };
        st.trace.push(event);
        if let Err(v) = verdict {
            return Some(Failure::Violation {
                property: v.property,
                message: v.message,
            });
        }
        if st.steps > self.config.max_steps {
            return Some(Failure::StepBudget {
                steps: self.config.max_steps,
            });
        }
        None
    }

    /// Record a traced operation of the current thread, then (in adversarial time or with
    /// injection on) give the engine a chance to fire a pending event. The step is pushed
    /// first: the injection may switch threads, and the operation has already happened.
    pub(crate) fn record(&self, object: usize, event: Record) {
        let mut st = self.lock();
        if st.failure.is_some() {
            drop(st);
            if !std::thread::panicking() {
                abort_thread();
            }
            return;
        }
        let me = self.me(&st);
        let failure = self.push(
            &mut st,
            me,
            Some(object),
            event.op,
            event.args,
            StepKind::Returned(event.outcome),
        );
        if let Some(f) = failure {
            self.fail(st, f);
        }
        drop(st);
        self.inject();
        self.flush();
    }

    /// A violation found by a model's own check.
    pub(crate) fn violate(&self, property: &str, message: &str) -> ! {
        let st = self.lock();
        self.fail(
            st,
            Failure::Violation {
                property: property.to_owned(),
                message: message.to_owned(),
            },
        )
    }

    // ---- failure ----------------------------------------------------------------------

    /// Record `failure`, wake every thread so it unwinds, and unwind the caller.
    fn fail(&self, mut st: MutexGuard<'_, State>, failure: Failure) -> ! {
        if st.failure.is_none() {
            st.failure = Some(failure);
        }
        let mut wake = Vec::new();
        for (i, t) in st.threads.iter_mut().enumerate() {
            if matches!(t.status, Status::Blocked(_)) {
                t.wake = Some(Wake::Abort);
                wake.push(i);
            }
        }
        let report = self.report_of(&st);
        LAST_REPORT.with(|r| *r.borrow_mut() = Some(report));
        let unparkers = unparkers_of(&st, &wake);
        drop(st);
        for u in unparkers {
            u();
        }
        abort_thread()
    }

    /// Record a panic that escaped a thread of the model (not one of ours).
    pub(crate) fn record_panic(&self, thread: usize, message: String) {
        let mut st = self.lock();
        if st.failure.is_none() {
            st.failure = Some(Failure::Panic { thread, message });
            let report = self.report_of(&st);
            LAST_REPORT.with(|r| *r.borrow_mut() = Some(report));
        }
    }

    // ---- the wait point ---------------------------------------------------------------

    /// Park the current thread (see `Backend::park`). `valid` is the already evaluated
    /// result of `validate`, computed by the caller just before in the same engine step.
    pub(crate) fn park(
        &self,
        key: usize,
        object: Option<usize>,
        op: &'static str,
        kind: WaitKind,
        deadline: Option<Moment>,
        valid: bool,
    ) -> ParkResult {
        let mut st = self.lock();
        if st.failure.is_some() {
            drop(st);
            abort_thread();
        }
        if !valid {
            return ParkResult::Invalid;
        }
        let me = self.me(&st);
        let deadline = deadline.map(|d| d.0);
        if deadline.is_some_and(|d| d <= st.now) {
            return ParkResult::TimedOut;
        }
        if key != SLEEP_KEY {
            st.queues.entry(key).or_default().push_back(me);
        }
        st.threads[me].status = Status::Blocked(Blocked {
            key,
            object,
            op,
            kind,
            deadline,
        });
        st.threads[me].wake = None;
        let args = match deadline {
            Some(d) => Args::new().until(d),
            None => Args::new(),
        };
        if !st.threads[me].env {
            if let Some(f) = self.push(&mut st, me, object, op, args, StepKind::Blocked) {
                self.fail(st, f);
            }
        }
        let env = self.env_target_appeared(&mut st);
        let st = self.make_progress(st);
        drop(st);
        if let Some(u) = env {
            u();
        }
        // Blocking is a step too: a pending timeout (this one included) may fire now.
        self.inject();
        self.flush();
        loop {
            let mut st = self.lock();
            if let Some(wake) = st.threads[me].wake.take() {
                return match wake {
                    Wake::Unparked => ParkResult::Unparked,
                    Wake::TimedOut => ParkResult::TimedOut,
                    Wake::Spurious => ParkResult::Spurious,
                    Wake::Abort => {
                        drop(st);
                        abort_thread()
                    }
                };
            }
            if st.failure.is_some() {
                drop(st);
                abort_thread();
            }
            self.engine_stop(&mut st);
            drop(st);
            (self.ops.park)();
        }
    }

    /// Wake up to `max` threads parked on `key`, oldest first. Returns how many.
    pub(crate) fn unpark(&self, key: usize, max: usize) -> usize {
        let mut st = self.lock();
        if st.failure.is_some() {
            return 0;
        }
        let mut woken = Vec::new();
        while woken.len() < max {
            let Some(t) = st.queues.get_mut(&key).and_then(|q| q.pop_front()) else {
                break;
            };
            st.threads[t].status = Status::Running;
            st.threads[t].wake = Some(Wake::Unparked);
            woken.push(t);
        }
        let n = woken.len();
        self.wake_all(st, woken);
        n
    }

    /// Call the engine unparkers of `threads` after releasing the state.
    ///
    /// The engine-level unparks are deferred to the current thread's next visible step
    /// ([`flush`](Self::flush)): an operation that wakes a thread is traced after its state
    /// change but before any woken thread can run, so the woken thread's steps never show
    /// before the step that woke it. No interleaving is lost: the engine could not have
    /// switched threads before that next visible step anyway.
    fn wake_all(&self, mut st: MutexGuard<'_, State>, threads: Vec<usize>) {
        st.pending_unparks.extend(threads);
    }

    /// Perform the deferred engine unparks (see [`wake_all`](Self::wake_all)).
    pub(crate) fn flush(&self) {
        let unparkers = {
            let mut st = self.lock();
            if st.pending_unparks.is_empty() {
                return;
            }
            let pending = std::mem::take(&mut st.pending_unparks);
            unparkers_of(&st, &pending)
        };
        // Waking a thread changes who may run next: an operation for the schedulers.
        count_engine_op();
        for u in unparkers {
            u();
        }
    }

    /// The current thread is done.
    pub(crate) fn finish_thread(&self) {
        let mut st = self.lock();
        if st.failure.is_some() {
            return;
        }
        let me = self.me(&st);
        if !st.threads[me].env {
            if let Some(f) = self.push(
                &mut st,
                me,
                None,
                "finish",
                Args::new(),
                StepKind::Thread("finish"),
            ) {
                self.fail(st, f);
            }
        }
        self.engine_stop(&mut st);
        st.threads[me].status = Status::Finished;
        let mut woken = Vec::new();
        if let Some(q) = st.queues.remove(&join_key(me)) {
            for t in q {
                st.threads[t].status = Status::Running;
                st.threads[t].wake = Some(Wake::Unparked);
                woken.push(t);
            }
        }
        let st = self.make_progress(st);
        self.wake_all(st, woken);
        self.flush();
    }

    pub(crate) fn is_finished(&self, thread: usize) -> bool {
        matches!(self.lock().threads[thread].status, Status::Finished)
    }

    pub(crate) fn thread_count(&self) -> usize {
        self.lock().threads.len()
    }

    /// If every live thread is blocked, move virtual time to the earliest deadline and time
    /// that waiter out, or, with none, declare a deadlock. Returns the state for the caller
    /// to release (the woken thread is unparked by then).
    fn make_progress<'a>(&'a self, mut st: MutexGuard<'a, State>) -> MutexGuard<'a, State> {
        let all_blocked = st
            .threads
            .iter()
            .all(|t| !matches!(t.status, Status::Running));
        let any_live = st
            .threads
            .iter()
            .any(|t| matches!(t.status, Status::Blocked(_)));
        if !all_blocked || !any_live {
            return st;
        }
        let mut pending: Vec<(u64, usize)> = st
            .threads
            .iter()
            .enumerate()
            .filter_map(|(i, t)| match &t.status {
                Status::Blocked(b) => b.deadline.map(|d| (d, i)),
                _ => None,
            })
            .collect();
        pending.sort_unstable();
        // With injection on, a Condition waiter may also wake spuriously now, instead of
        // time moving on or a deadlock being declared: the engine chooses.
        if self.config.spurious && st.spurious_used < self.config.max_spurious && st.env.is_none() {
            let waiters = blocked_where(&st, |b| b.kind == WaitKind::Condition);
            if !waiters.is_empty() {
                drop(st);
                // Every live thread is blocked, so nothing changes while the state is released.
                let c = {
                    count_engine_op();
                    (self.ops.choose)(waiters.len() + 1)
                }
                .unwrap_or(0);
                st = self.lock();
                if c > 0 {
                    let t = waiters[c - 1];
                    self.wake_spuriously(&mut st, t);
                    let unparkers = unparkers_of(&st, &[t]);
                    drop(st);
                    for u in unparkers {
                        u();
                    }
                    return self.lock();
                }
            }
        }
        if pending.is_empty() {
            let report = deadlock_report(&st);
            self.fail(st, Failure::Deadlock(report))
        }
        // Timed: the earliest deadline fires. Adversarial: any pending one may (a thread
        // may be delayed past another's deadline): the engine chooses.
        let mut pick = 0;
        if self.config.time == TimeMode::Adversarial && pending.len() > 1 {
            drop(st);
            // Every live thread is blocked, so nothing changes while the state is released.
            pick = {
                count_engine_op();
                (self.ops.choose)(pending.len())
            }
            .unwrap_or(0)
            .min(pending.len() - 1);
            st = self.lock();
        }
        let (deadline, _) = pending[pick];
        st.now = st.now.max(deadline);
        // Every waiter due at that instant wakes at once, so that threads whose sleeps or
        // timeouts end together race as they would on a real clock, in any order the engine
        // picks (not one after the other in thread order).
        let due: Vec<usize> = pending
            .iter()
            .filter(|(d, _)| *d == deadline)
            .map(|(_, t)| *t)
            .collect();
        for &t in &due {
            self.time_out(&mut st, t);
        }
        let unparkers = unparkers_of(&st, &due);
        drop(st);
        for u in unparkers {
            u();
        }
        self.lock()
    }

    /// End thread `t`'s Condition wait with a spurious wakeup (state only; the caller
    /// unparks).
    fn wake_spuriously(&self, st: &mut State, t: usize) {
        if let Status::Blocked(b) = st.threads[t].status.clone() {
            if let Some(q) = st.queues.get_mut(&b.key) {
                q.retain(|&x| x != t);
            }
            st.threads[t].status = Status::Running;
            st.threads[t].wake = Some(Wake::Spurious);
            st.spurious_used += 1;
            self.push(
                st,
                t,
                b.object,
                b.op,
                Args::new(),
                StepKind::Woken("spurious wakeup"),
            );
        }
    }

    /// End thread `t`'s wait with a timeout (state only; the caller unparks).
    fn time_out(&self, st: &mut State, t: usize) {
        if let Status::Blocked(b) = st.threads[t].status.clone() {
            if let Some(q) = st.queues.get_mut(&b.key) {
                q.retain(|&x| x != t);
            }
            st.threads[t].status = Status::Running;
            st.threads[t].wake = Some(Wake::TimedOut);
            st.timeouts_fired += 1;
            if b.kind != WaitKind::Sleep {
                self.push(
                    st,
                    t,
                    b.object,
                    b.op,
                    Args::new(),
                    StepKind::Woken("timeout"),
                );
            }
        }
    }

    // ---- fault injection ----------------------------------------------------------------

    /// At a step of any thread, possibly fire a pending timeout early (adversarial time)
    /// or wake a Condition waiter spuriously, as the engine chooses.
    fn inject(&self) {
        let adversarial = self.config.time == TimeMode::Adversarial;
        let spurious = self.config.spurious;
        if !adversarial && !spurious {
            return;
        }
        let (timed, spur) = {
            let st = self.lock();
            if st.failure.is_some() || st.env.is_some() {
                // With an environment thread, firing is its job (see `environment`).
                return;
            }
            let timed: Vec<usize> = if adversarial {
                blocked_where(&st, |b| b.deadline.is_some() && b.kind != WaitKind::Sleep)
            } else {
                Vec::new()
            };
            let spur: Vec<usize> = if spurious && st.spurious_used < self.config.max_spurious {
                blocked_where(&st, |b| b.kind == WaitKind::Condition)
            } else {
                Vec::new()
            };
            (timed, spur)
        };
        if timed.is_empty() && spur.is_empty() {
            return;
        }
        // One coin per step: fire nothing (most of the time), or one pending event.
        let options = timed.len() + spur.len();
        count_engine_op();
        let Some(c) = (self.ops.choose_weighted)(options + 3, options + 1) else {
            let mut st = self.lock();
            let what = match (adversarial, spurious) {
                (true, true) => "adversarial timeouts and spurious wakeups",
                (true, false) => "adversarial timeouts",
                _ => "spurious wakeups",
            };
            let note = format!(
                "{} has no choice operator: {} were not explored",
                self.ops.name, what
            );
            if !st.limitations.contains(&note) {
                st.limitations.push(note);
            }
            return;
        };
        if c >= options {
            return;
        }
        let mut st = self.lock();
        let (t, wake) = if c < timed.len() {
            (timed[c], Wake::TimedOut)
        } else {
            (spur[c - timed.len()], Wake::Spurious)
        };
        let Status::Blocked(b) = st.threads[t].status.clone() else {
            return;
        };
        match wake {
            Wake::TimedOut => {
                if let Some(d) = b.deadline {
                    st.now = st.now.max(d);
                }
                self.time_out(&mut st, t);
            }
            _ => self.wake_spuriously(&mut st, t),
        }
        self.wake_all(st, vec![t]);
    }

    // ---- reports ----------------------------------------------------------------------

    fn report_of(&self, st: &State) -> ExecutionReport {
        ExecutionReport {
            trace: st.trace.clone(),
            ..self.report_of_without_trace(st)
        }
    }

    fn report_of_without_trace(&self, st: &State) -> ExecutionReport {
        ExecutionReport {
            threads: st.threads.iter().map(|t| t.name.clone()).collect(),
            objects: st.objects.clone(),
            trace: Vec::new(),
            failure: st.failure.clone(),
            time: st.now,
            limitations: st.limitations.clone(),
            timeouts_fired: st.timeouts_fired,
            spurious_injected: st.spurious_used,
            preemptions: st.preemptions,
        }
    }

    /// The report of this execution so far; runs the observer's final check first.
    pub(crate) fn finish(&self) -> ExecutionReport {
        let mut st = self.lock();
        // The execution is over: the trace moves into the report instead of being copied.
        let trace = std::mem::take(&mut st.trace);
        let mut report = ExecutionReport {
            trace,
            ..self.report_of_without_trace(&st)
        };
        if report.failure.is_none() {
            if let Some(obs) = st.observer.as_mut() {
                if let Err(v) = obs.on_finish(&report) {
                    let f = Failure::Violation {
                        property: v.property,
                        message: v.message,
                    };
                    st.failure = Some(f.clone());
                    report.failure = Some(f);
                }
            }
        }
        report
    }

    pub(crate) fn store_report(report: ExecutionReport) {
        LAST_REPORT.with(|r| *r.borrow_mut() = Some(report));
    }
}

/// Remember that `thread` preempted `preempted`, for `thread`'s next traced step; a newer
/// preemption by the same thread replaces an older one not yet shown.
fn note_preemption(st: &mut State, thread: usize, preempted: usize) {
    match st.preempted_notes.iter_mut().find(|(t, _)| *t == thread) {
        Some(n) => n.1 = preempted,
        None => st.preempted_notes.push((thread, preempted)),
    }
}

fn unparkers_of(st: &State, threads: &[usize]) -> Vec<Unparker> {
    threads
        .iter()
        .filter_map(|&t| st.threads[t].unpark.clone())
        .collect()
}

fn blocked_where(st: &State, pred: impl Fn(&Blocked) -> bool) -> Vec<usize> {
    st.threads
        .iter()
        .enumerate()
        .filter_map(|(i, t)| match &t.status {
            Status::Blocked(b) if pred(b) => Some(i),
            _ => None,
        })
        .collect()
}

/// Keep who holds what, from acquire/release steps, for deadlock reports.
fn track_holders(
    st: &mut State,
    obj: usize,
    thread: usize,
    op: &str,
    outcome: &crate::backend::Outcome,
) {
    use crate::backend::Outcome;
    let holders = st.holders.entry(obj).or_default();
    match (op, outcome) {
        ("acquire" | "__enter__", Outcome::Bool(true)) => holders.push(thread),
        ("release" | "__exit__", Outcome::Done) => {
            if let Some(pos) = holders.iter().position(|&t| t == thread) {
                holders.remove(pos);
            } else if !holders.is_empty() {
                holders.remove(0);
            }
        }
        // Condition.wait over an RLock: released completely, then restored to its depth.
        ("_release_save", Outcome::Value(_)) => holders.retain(|&t| t != thread),
        ("_acquire_restore", Outcome::Done) => holders.push(thread),
        _ => {}
    }
}

fn deadlock_report(st: &State) -> DeadlockReport {
    let mut threads = Vec::new();
    let mut waits_for: HashMap<usize, Vec<usize>> = HashMap::default();
    let mut lost_wakeup = true;
    for (i, t) in st.threads.iter().enumerate() {
        let Status::Blocked(b) = &t.status else {
            continue;
        };
        if t.env {
            continue;
        }
        let held_by: Vec<usize> = if b.kind == WaitKind::Join {
            vec![usize::MAX - b.key]
        } else {
            let mut h = b
                .object
                .and_then(|o| st.holders.get(&o))
                .cloned()
                .unwrap_or_default();
            h.dedup();
            h
        };
        if matches!(b.kind, WaitKind::Lock | WaitKind::Semaphore) {
            lost_wakeup = false;
        }
        waits_for.insert(i, held_by.clone());
        threads.push(BlockedThread {
            thread: i,
            object: b.object,
            op: b.op,
            held_by,
        });
    }
    let cycle = find_cycle(&waits_for);
    if cycle.is_some() {
        lost_wakeup = false;
    }
    DeadlockReport {
        threads,
        cycle,
        lost_wakeup,
    }
}

fn find_cycle(graph: &HashMap<usize, Vec<usize>>) -> Option<Vec<usize>> {
    let mut starts: Vec<usize> = graph.keys().copied().collect();
    starts.sort_unstable();
    for start in starts {
        let mut path = vec![start];
        let mut cur = start;
        for _ in 0..=graph.len() {
            let Some(next) = graph.get(&cur).and_then(|n| n.iter().min().copied()) else {
                break;
            };
            if let Some(pos) = path.iter().position(|&t| t == next) {
                let mut cycle = path[pos..].to_vec();
                // Start the cycle at its smallest thread, for a stable report.
                let min = cycle
                    .iter()
                    .enumerate()
                    .min_by_key(|(_, t)| **t)
                    .map(|(i, _)| i)?;
                cycle.rotate_left(min);
                return Some(cycle);
            }
            path.push(next);
            cur = next;
        }
    }
    None
}

pub use crate::backend::args::fmt_time;

//! The checked world of one execution, one concern per module:
//!
//! | module | holds |
//! |---|---|
//! | `ids` | [`ThreadId`], [`ObjectId`], the wait queues' keys |
//! | `config` | [`WorldConfig`], [`TimeMode`], the [`Observer`] interface |
//! | `threads` | the thread registry: names, status, how to wake each |
//! | `queues` | who is parked on which key, oldest first |
//! | `objects` | the traced objects and their names |
//! | `clock` | virtual time, and what happens when every thread is blocked |
//! | `injection` | timeouts fired early and spurious wakeups, as engine choices |
//! | `processes` | groups of threads with a pid, and the crash fault |
//! | `files` | the simulated file system: names, inodes, descriptions, descriptor tables, lock tables |
//! | `environment` | the same faults from an extra thread, for an engine without choices |
//! | `preemption` | preemptions at the engine's scheduling points |
//! | `holders` | who holds what, from each step's typed effect |
//! | `deadlock` | the waits-for analysis when nothing can run |
//! | `liveness` | livelock and starvation: a cycle of steps that repeats with no progress |
//! | `trace` | the steps, the switch notes, the observer |
//!
//! This file holds the world itself: the execution's state, its installation on the OS
//! thread, and the entry points the backend calls (the wait point, unpark, record,
//! thread start and finish, failure). A new kind of actor or fault (a crashing process, a
//! file table, a simulated server) is a new module beside these, with its own part of
//! [`State`].
//!
//! All of it is bookkeeping the engine does not see (a std mutex that is never contended,
//! because an engine runs one thread at a time and this module never calls into the engine
//! while holding it). Every piece of bookkeeping happens in the same engine step as a visible
//! operation on the same primitive (the atomic in `validate`, an unpark), so the engine's
//! ordering of visible operations decides the bookkeeping's order too.

mod clock;
mod config;
mod deadlock;
mod environment;
mod files;
mod holders;
mod ids;
mod injection;
mod liveness;
mod objects;
mod preemption;
mod processes;
mod queues;
mod threads;
mod trace;

pub use config::{Aborted, Crashed, Observer, StepContext, TimeMode, Violation, WorldConfig};
pub(crate) use environment::EnvStep;
pub(crate) use files::{Attempt, FilesRef, WIN_EDEADLOCK};
pub use holders::Holders;
pub(crate) use ids::QueueKey;
pub use ids::{ObjectId, ProcessId, ThreadId};
pub(crate) use threads::Unparker;

use super::report::{ExecutionReport, Failure, StepKind, TraceEvent};
use crate::backend::{Args, Moment, ParkResult, Record, WaitKind};
use clock::Clock;
use environment::Environment;
use injection::Injection;
use objects::Objects;
use preemption::Preemptions;
use processes::Processes;
use queues::Queues;
use std::cell::RefCell;
use std::sync::{Arc, Mutex, MutexGuard};
use threads::{Blocked, Status, Threads, Wake};
use trace::Trace;

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

/// One execution's state, a part per concern.
struct State {
    threads: Threads,
    processes: Processes,
    queues: Queues,
    objects: Objects,
    holders: Holders,
    clock: Clock,
    injection: Injection,
    env: Environment,
    preemptions: Preemptions,
    /// The simulated file system (`files`).
    files: files::Files,
    /// The digests that find a repeating cycle (`liveness`), when asked for.
    liveness: liveness::Liveness,
    trace: Trace,
    failure: Option<Failure>,
    /// What this engine could not explore (said in the report, never silently skipped).
    limitations: Vec<String>,
    /// Threads woken whose engine unpark waits for the current thread's next step.
    pending_unparks: Vec<ThreadId>,
}

/// The parts of a [`State`] that allocate as an execution grows, kept emptied between
/// executions: a checker runs thousands of executions of one scenario, each building the
/// same registries again.
#[derive(Default)]
struct Spare {
    threads: Threads,
    objects: Objects,
    queues: Queues,
    holders: Holders,
    pending_unparks: Vec<ThreadId>,
}

impl Spare {
    /// The emptied parts of a passing execution's state, kept for the next one.
    fn keep(st: &mut State) {
        let mut spare = Spare {
            threads: std::mem::take(&mut st.threads),
            objects: std::mem::take(&mut st.objects),
            queues: std::mem::take(&mut st.queues),
            holders: std::mem::take(&mut st.holders),
            pending_unparks: std::mem::take(&mut st.pending_unparks),
        };
        spare.threads.reset();
        spare.objects.reset();
        spare.queues.reset();
        spare.holders.reset();
        spare.pending_unparks.clear();
        SPARE_PARTS.with(|s| *s.borrow_mut() = Some(spare));
    }

    fn take() -> Spare {
        SPARE_PARTS
            .with(|s| s.borrow_mut().take())
            .unwrap_or_default()
    }
}

/// Keep `strings` in `pool` as buffers, up to a bound (a scenario with many objects must
/// not make every later one carry them).
fn recycle(pool: &mut Vec<String>, strings: impl IntoIterator<Item = String>) {
    const MAX: usize = 64;
    pool.extend(strings.into_iter().take(MAX.saturating_sub(pool.len())));
}

/// What must follow a traced step ([`World::trace_step`]).
pub(crate) struct AfterStep {
    /// Its process may crash: the step reads the crash witness.
    crashable: bool,
    /// Its process has crashed: nothing more happens in this thread.
    dead: bool,
    /// Deferred wakes may be waiting (this step's or an injection's).
    wakes: bool,
}

impl State {
    /// The engine unparkers of the threads whose wakes were deferred; the list is emptied
    /// but keeps its allocation for the next ones.
    fn take_unparkers(&mut self) -> threads::Unparkers {
        let unparkers = self.threads.unparkers(&self.pending_unparks);
        self.pending_unparks.clear();
        unparkers
    }
}

/// An engine atomic the crash writes and every operation of a crashable process reads (see
/// `checked::execute`): `true` writes.
pub(crate) type Witness = Box<dyn Fn(bool) + Send + Sync>;

/// One execution's world.
pub struct World {
    state: Mutex<State>,
    config: WorldConfig,
    ops: EngineOps,
    witness: Option<Witness>,
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
    /// The trace buffer of the report [`World::store_report`] last replaced, emptied: the
    /// next execution's trace reuses its allocation instead of allocating (and the
    /// allocator consolidating) a new one each execution.
    static SPARE_EVENTS: RefCell<Vec<TraceEvent>> = const { RefCell::new(Vec::new()) };
    /// The containers of the last passing execution's state, emptied: the next execution
    /// on this OS thread reuses their allocations (see [`Spare`]).
    static SPARE_PARTS: RefCell<Option<Spare>> = const { RefCell::new(None) };
    static ENGINE_OPS: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
    static IN_WAKE: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Run `f`, the wake that ends an operation (`unpark_one`/`unpark_all`): a thread whose
/// process crashed after the operation's own step still completes its wake, so that a crash
/// never splits one operation (a release that freed a lock always wakes its waiter, as one
/// `sem_post` does); the thread dies at the start of its next operation.
pub(crate) fn completing_wake<R>(f: impl FnOnce() -> R) -> R {
    IN_WAKE.with(|w| w.set(true));
    let r = f();
    IN_WAKE.with(|w| w.set(false));
    r
}

fn in_wake() -> bool {
    IN_WAKE.with(|w| w.get())
}

/// How many operations the checked threads of this OS thread have taken so far (atomic
/// operations, blocks, yields, finishes, spawns and checker choices): a scheduler that sees
/// no operation between two of its scheduling points knows a switch at the second is the
/// same as one at the first (see the harness's depth-first engine).
///
/// # Examples
///
/// ```
/// use lockproof::backend::checked::{engine_ops, execute, WorldConfig};
/// use lockproof::backend::{Shuttle, ShuttleEngine};
///
/// let before = engine_ops();
/// assert_eq!(engine_ops(), before); // no checked execution runs here: nothing counts
/// shuttle::check_random(
///     || {
///         execute::<ShuttleEngine>(WorldConfig::default(), None, || {
///             assert!(lockproof::Lock::<Shuttle>::new().acquire());
///         })
///     },
///     1,
/// );
/// assert!(engine_ops() > before); // shuttle ran the execution on this OS thread
/// ```
pub fn engine_ops() -> u64 {
    ENGINE_OPS.with(|c| c.get())
}

pub(crate) fn count_engine_op() {
    ENGINE_OPS.with(|c| c.set(c.get().wrapping_add(1)));
}

/// An empty trace buffer: the spare one [`World::store_report`] kept, or a new one of
/// `capacity`.
fn take_spare_events(capacity: usize) -> Vec<TraceEvent> {
    let spare = SPARE_EVENTS.with(|s| std::mem::take(&mut *s.borrow_mut()));
    if spare.capacity() >= capacity {
        spare
    } else {
        Vec::with_capacity(capacity)
    }
}

/// The report of the last execution run (or failed) on this OS thread.
///
/// # Examples
///
/// ```
/// use lockproof::backend::checked::{execute, take_last_report, WorldConfig};
/// use lockproof::backend::ShuttleEngine;
///
/// assert!(take_last_report().is_none()); // nothing has run on this thread yet
/// shuttle::check_random(|| execute::<ShuttleEngine>(WorldConfig::default(), None, || {}), 1);
/// let report = take_last_report().unwrap();
/// assert_eq!(report.threads, ["main"]);
/// assert!(take_last_report().is_none()); // taken: the next call has nothing
/// ```
pub fn take_last_report() -> Option<ExecutionReport> {
    LAST_REPORT.with(|r| r.borrow_mut().take())
}

pub(crate) fn current() -> Arc<World> {
    try_current().unwrap_or_else(|| outside_execution())
}

fn outside_execution() -> ! {
    panic!(
        "lockproof: a checked primitive was used outside a checked execution; \
         run the model through lockproof::backend::checked::execute (the harness does)"
    )
}

/// Run `f` on the current world without cloning its `Arc` (the hot path of every traced
/// operation). Never for a call that may block: a parked thread would keep the world
/// borrowed while its execution ends.
pub(crate) fn with_current<R>(f: impl FnOnce(&World) -> R) -> R {
    CURRENT.with(|c| match c.borrow().as_ref() {
        Some(w) => f(w),
        None => outside_execution(),
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
            return Some(Err(false));
        }
        let me = w.me(&st);
        let process = st.threads[me].process;
        let crashable = w.witness.is_some() && process != ProcessId::MAIN;
        let t = &st.threads[me];
        if t.dead && (std::thread::panicking() || !(in_wake() || t.mid_op)) {
            // A thread of a crashed process: it unwinds at its next operation (one it was
            // in the middle of when the crash came is finished first), and its
            // destructors' operations (a guard's release) never happen.
            return Some(Err(crashable));
        }
        if !in_wake() {
            st.threads[me].mid_op = true;
        }
        w.engine_step(&mut st);
        let paused = process != ProcessId::MAIN
            && !in_wake()
            && st
                .processes
                .get(process)
                .paused_until
                .is_some_and(|until| until > st.clock.now);
        if st.pending_unparks.is_empty() {
            return Some(Ok((threads::Unparkers::new(), crashable, paused)));
        }
        Some(Ok((st.take_unparkers(), crashable, paused)))
    });
    match unparkers {
        None => false,
        Some(Err(crashable)) => {
            if (crashable || current().my_process_crashed_now()) && !std::thread::panicking() {
                // The first operation a crash cut off still reads the witness: the engine
                // learns that the crash and this operation race, and tries this one first
                // too.
                if crashable {
                    current().witness(false);
                }
                abort_thread_crashed();
            }
            true
        }
        Some(Ok((unparkers, _, paused))) => {
            if !unparkers.is_empty() {
                // Waking a thread changes who may run next: an operation for the schedulers.
                count_engine_op();
                for u in unparkers {
                    u();
                }
            }
            if paused {
                // Its process is paused: this operation waits for the pause to end.
                current().sit_out_pause();
            }
            false
        }
    }
}

fn abort_thread() -> ! {
    std::panic::resume_unwind(Box::new(Aborted))
}

/// A thread whose process was killed at the scheduling point of the call it is about to
/// make (by another thread's step or the environment, after this thread's
/// [`before_visible_op`]): the call must not take effect, since the crash has already
/// closed the process's descriptors and dropped its kernel locks. It unwinds now, unless
/// it is already unwinding (then the caller skips the call).
pub(crate) fn crashed_before_call() -> bool {
    let Some(w) = try_current() else {
        return false;
    };
    if !w.my_process_crashed_now() {
        return false;
    }
    if !std::thread::panicking() {
        // As in `before_visible_op`: the operation the crash cut off reads the witness, so
        // that the engine also tries the order where this operation came first.
        w.witness(false);
        abort_thread_crashed();
    }
    true
}

/// Unwind the current thread: its process crashed.
fn abort_thread_crashed() -> ! {
    std::panic::resume_unwind(Box::new(Crashed))
}

impl World {
    pub(crate) fn new(
        config: WorldConfig,
        observer: Option<Box<dyn Observer>>,
        ops: EngineOps,
        witness: Option<Witness>,
    ) -> Self {
        let spare = Spare::take();
        World {
            state: Mutex::new(State {
                threads: spare.threads,
                processes: Processes::default(),
                queues: spare.queues,
                objects: spare.objects,
                holders: spare.holders,
                clock: Clock::default(),
                injection: Injection::default(),
                env: Environment::default(),
                preemptions: Preemptions::default(),
                files: files::Files::default(),
                liveness: liveness::Liveness::default(),
                trace: Trace::new(observer),
                failure: None,
                limitations: Vec::new(),
                pending_unparks: spare.pending_unparks,
            }),
            config,
            ops,
            witness,
        }
    }

    /// Touch the crash witness, if this execution has one (`write`: a crash may follow).
    pub(crate) fn witness(&self, write: bool) {
        if let Some(w) = &self.witness {
            {
                // The witness is an engine operation of this thread like any atomic step:
                // counted where the engine counts it, so the trace's preemptions and the
                // engine's agree.
                let mut st = self.lock();
                if st.failure.is_none() {
                    self.engine_step(&mut st);
                }
            }
            count_engine_op();
            w(write);
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

    /// Say once, in the report, what this engine could not explore.
    fn limitation(&self, note: String) {
        let mut st = self.lock();
        if !st.limitations.contains(&note) {
            st.limitations.push(note);
        }
    }

    // ---- threads ----------------------------------------------------------------------

    /// Register a new thread. An error if the engine cannot run another.
    pub(crate) fn new_thread(&self, name: &str) -> Result<ThreadId, String> {
        let mut st = self.lock();
        if let Some(max) = self.ops.max_threads {
            if st.threads.len() >= max {
                return Err(format!(
                    "{} runs at most {} threads including main; this scenario starts more",
                    self.ops.name, max
                ));
            }
        }
        // A thread belongs to the process of the thread that starts it.
        let process = st
            .threads
            .try_of_key((self.ops.thread_key)())
            .map_or(ProcessId::MAIN, |t| st.threads[t].process);
        Ok(st.threads.add(name, process))
    }

    /// Bind the calling engine thread to thread `id`.
    pub(crate) fn bind(&self, id: ThreadId, unpark: Unparker) {
        let key = (self.ops.thread_key)();
        let mut st = self.lock();
        st.threads.bind(key, id, unpark);
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

    fn me(&self, st: &State) -> ThreadId {
        st.threads.of_key((self.ops.thread_key)())
    }

    pub(crate) fn current_thread(&self) -> ThreadId {
        let st = self.lock();
        self.me(&st)
    }

    pub(crate) fn is_finished(&self, thread: ThreadId) -> bool {
        matches!(self.lock().threads[thread].status, Status::Finished)
    }

    pub(crate) fn thread_count(&self) -> usize {
        self.lock().threads.len()
    }

    /// The current thread is done.
    pub(crate) fn finish_thread(&self) {
        let mut st = self.lock();
        if st.failure.is_some() {
            return;
        }
        let me = self.me(&st);
        if st.threads[me].dead {
            // Its process crashed after its last operation: it vanishes all the same.
            drop(st);
            return self.vanish();
        }
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
        let mut joiners: Vec<ThreadId> = st.queues.take(QueueKey::Join(me)).into();
        for &t in &joiners {
            st.threads[t].resume(Wake::Unparked);
        }
        let process = st.threads[me].process;
        if process != ProcessId::MAIN
            && !st
                .threads
                .iter()
                .any(|(_, t)| t.process == process && !matches!(t.status, Status::Finished))
        {
            // Its process's last thread: the process exits, and its descriptors close.
            joiners.extend(self.close_process_files(&mut st, process));
        }
        let st = self.make_progress(st);
        self.wake_later(st, joiners);
        self.flush();
    }

    // ---- objects ----------------------------------------------------------------------

    pub(crate) fn new_object(&self, kind: &'static str) -> ObjectId {
        self.lock().objects.add(kind)
    }

    pub(crate) fn shared_object(&self, kind: &'static str, key: usize) -> ObjectId {
        self.lock().objects.shared(kind, key)
    }

    pub(crate) fn set_name(&self, object: ObjectId, name: &str) {
        self.lock().objects.rename(object, name);
    }

    // ---- steps ------------------------------------------------------------------------

    /// Record a traced operation of the current thread, then (in adversarial time or with
    /// injection on) give the engine a chance to fire a pending event. The step is pushed
    /// first: the injection may switch threads, and the operation has already happened.
    ///
    /// In two halves: [`trace_step`](Self::trace_step) never reaches a scheduling point
    /// (the caller may hold the world borrowed), [`after_step`](Self::after_step) may block
    /// or switch threads and is needed only when the first half says so.
    pub(crate) fn record(&self, object: ObjectId, record: Record) {
        match self.trace_step(object, record) {
            Ok(None) => {}
            Ok(Some(after)) => self.after_step(after),
            Err(failure) => self.fail_now(failure),
        }
    }

    /// Trace the step; what must follow it, if anything, or the failure it found (which
    /// [`fail_now`](Self::fail_now) records: failing wakes threads, an engine operation).
    pub(crate) fn trace_step(
        &self,
        object: ObjectId,
        record: Record,
    ) -> Result<Option<AfterStep>, Failure> {
        let mut st = self.lock();
        if st.failure.is_some() {
            drop(st);
            if !std::thread::panicking() {
                abort_thread();
            }
            return Ok(None);
        }
        let me = self.me(&st);
        // The operation is complete: a crash now takes the thread at its next one.
        st.threads[me].mid_op = false;
        let dead = st.threads[me].dead;
        if dead && std::thread::panicking() {
            // A crashed process's thread, unwinding: its steps no longer happen.
            return Ok(None);
        }
        // (A thread whose process crashed after this operation's atomic step did the
        // operation: it is traced, and the thread dies at its next one.)
        let failure = self.push_holding(
            &mut st,
            me,
            Some(object),
            record.op,
            record.args,
            StepKind::Returned(record.outcome),
            record.hold,
        );
        if let Some(f) = failure {
            return Err(f);
        }
        let crashable = self.witness.is_some() && st.threads[me].process != ProcessId::MAIN;
        // Deferred wakes to perform now: this operation's, or the injection's below.
        let wakes = crashable
            || !st.pending_unparks.is_empty()
            || self.config.spurious
            || self.config.time == TimeMode::Adversarial;
        let faults = self.config.crashes > 0 || self.config.pauses > 0;
        Ok((crashable || wakes || faults).then_some(AfterStep {
            crashable,
            dead,
            wakes,
        }))
    }

    /// Fail the execution with `failure` found by the current thread's step.
    pub(crate) fn fail_now(&self, failure: Failure) -> ! {
        self.fail(self.lock(), failure)
    }

    /// What follows a traced step: the crash witness, injections, the deferred wakes, a
    /// fault. May switch threads or block.
    pub(crate) fn after_step(&self, after: AfterStep) {
        if after.crashable {
            // Every operation of a crashable process reads the crash witness once it is
            // traced (a crash splits no operation, so the boundaries between them are the
            // crash points that differ), so that the engine orders the crash against each.
            self.witness(false);
        }
        if after.dead {
            // It dies at its next operation (this one may still wake a waiter).
            return;
        }
        self.inject();
        if after.wakes {
            self.flush();
        }
        self.maybe_crash(false);
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
        for (i, t) in st.threads.iter_mut() {
            if t.blocked().is_some() {
                t.wake = Some(Wake::Abort);
                wake.push(i);
            }
        }
        let report = self.report_of(&st);
        LAST_REPORT.with(|r| *r.borrow_mut() = Some(report));
        let unparkers = st.threads.unparkers(&wake);
        drop(st);
        for u in unparkers {
            u();
        }
        abort_thread()
    }

    /// Record a panic that escaped a thread of the model (not one of ours).
    pub(crate) fn record_panic(&self, thread: ThreadId, message: String) {
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
        key: QueueKey,
        object: Option<ObjectId>,
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
        if st.threads[me].dead {
            drop(st);
            if std::thread::panicking() {
                return ParkResult::Invalid;
            }
            abort_thread_crashed();
        }
        let deadline = deadline.map(|d| d.0);
        if deadline.is_some_and(|d| d <= st.clock.now) {
            return ParkResult::TimedOut;
        }
        st.queues.enqueue(key, me);
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
        // Blocking is a step too: a pending timeout (this one included) may fire now, and
        // the blocked thread's process may crash.
        self.inject();
        self.flush();
        self.maybe_crash(true);
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
                    Wake::Crashed => {
                        drop(st);
                        abort_thread_crashed()
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
    pub(crate) fn unpark(&self, key: QueueKey, max: usize) -> usize {
        let mut st = self.lock();
        if st.failure.is_some() || (self.my_process_crashed(&st) && std::thread::panicking()) {
            return 0;
        }
        let mut n = 0;
        while n < max {
            let Some(t) = st.queues.pop(key) else {
                break;
            };
            st.threads[t].resume(Wake::Unparked);
            // Unparked in the engine at this thread's next visible step (`wake_later`).
            st.pending_unparks.push(t);
            n += 1;
        }
        n
    }

    /// Unpark `threads` in the engine at the current thread's next visible step
    /// ([`flush`](Self::flush)): an operation that wakes a thread is traced after its state
    /// change but before any woken thread can run, so the woken thread's steps never show
    /// before the step that woke it. No interleaving is lost: the engine could not have
    /// switched threads before that next visible step anyway.
    fn wake_later(&self, mut st: MutexGuard<'_, State>, threads: Vec<ThreadId>) {
        st.pending_unparks.extend(threads);
    }

    /// Perform the deferred engine unparks (see [`wake_later`](Self::wake_later)).
    pub(crate) fn flush(&self) {
        let unparkers = {
            let mut st = self.lock();
            if st.pending_unparks.is_empty() {
                return;
            }
            st.take_unparkers()
        };
        // Waking a thread changes who may run next: an operation for the schedulers.
        count_engine_op();
        for u in unparkers {
            u();
        }
    }

    // ---- reports ----------------------------------------------------------------------

    fn report_of(&self, st: &State) -> ExecutionReport {
        ExecutionReport {
            trace: st.trace.events.clone(),
            ..self.report_of_without_trace(st)
        }
    }

    fn report_of_without_trace(&self, st: &State) -> ExecutionReport {
        ExecutionReport {
            threads: st.threads.names(),
            objects: st.objects.infos().to_vec(),
            trace: Vec::new(),
            failure: st.failure.clone(),
            time: st.clock.now,
            limitations: st.limitations.clone(),
            timeouts_fired: st.clock.timeouts_fired,
            spurious_injected: st.injection.spurious_used,
            preemptions: st.preemptions.count,
        }
    }

    /// The report of this execution so far; runs the observer's final check first.
    pub(crate) fn finish(&self) -> ExecutionReport {
        let mut st = self.lock();
        // The execution is over: the trace moves into the report instead of being copied.
        let trace = std::mem::take(&mut st.trace.events);
        // A passing execution has joined every thread: nothing reads the names or the
        // objects again, so they move into the report too (a failing one may still be
        // unwinding threads that record, and keeps them).
        let (threads, objects) = if st.failure.is_none() {
            (st.threads.take_names(), st.objects.take_infos())
        } else {
            (st.threads.names(), st.objects.infos().to_vec())
        };
        let mut report = ExecutionReport {
            threads,
            objects,
            trace,
            failure: st.failure.clone(),
            time: st.clock.now,
            limitations: st.limitations.clone(),
            timeouts_fired: st.clock.timeouts_fired,
            spurious_injected: st.injection.spurious_used,
            preemptions: st.preemptions.count,
        };
        if report.failure.is_none() {
            if let Some(obs) = st.trace.observer.as_mut() {
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
        if report.failure.is_none() {
            // Every thread has finished: nothing reads the state again.
            Spare::keep(&mut st);
        }
        report
    }

    pub(crate) fn store_report(report: ExecutionReport) {
        let old = LAST_REPORT.with(|r| r.borrow_mut().replace(report));
        if let Some(old) = old {
            SPARE_PARTS.with(|s| {
                if let Some(spare) = s.borrow_mut().as_mut() {
                    spare.threads.recycle(old.threads);
                    spare.objects.recycle(old.objects);
                }
            });
            let mut events = old.trace;
            events.clear();
            SPARE_EVENTS.with(|s| {
                let mut s = s.borrow_mut();
                if events.capacity() > s.capacity() {
                    *s = events;
                }
            });
        }
    }
}

pub use crate::backend::args::fmt_time;

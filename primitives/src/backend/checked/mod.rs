//! The checked world: the wait point, clock, threads and trace that a checker drives.
//!
//! A checker (an [`Engine`]: loom or shuttle) explores the interleavings of the visible
//! operations (the primitives' atomics, thread park and unpark). This module adds what the
//! engines lack, the same way for both:
//!
//! - **virtual time**: a deadline is a point on a virtual clock; in [`TimeMode::Timed`] the
//!   clock moves only when every live thread is blocked, to the earliest deadline;
//!   in [`TimeMode::Adversarial`] any pending timeout may also fire at any step;
//! - **spurious wakeups** of `Condition.wait`, injected when [`WorldConfig::spurious`] is on;
//! - **deadlock and lost-wakeup detection** with a waits-for report, before the engine's
//!   own (which names no objects);
//! - **the trace**: every primitive operation, with thread, object, result, virtual time
//!   and why the scheduler switched.
//!
//! Timeout and spurious decisions are the engine's nondeterministic choices
//! ([`Engine::choose`]), so they are part of the schedule and replay exactly. An engine
//! without a choice operator (loom) explores timed mode fully and says, in the execution
//! report's `limitations`, what it could not explore.

mod file;
pub(crate) mod fxhash;
#[cfg(target_os = "linux")]
mod process;
mod report;
mod world;

pub use report::{
    BlockedThread, DeadlockReport, ExecutionReport, Failure, Lasso, ObjectInfo, StepKind, Switch,
    TraceEvent,
};
pub use world::{
    engine_ops, fmt_time, take_last_report, Aborted, Crashed, Holders, ObjectId, Observer,
    ProcessId, StepContext, ThreadId, TimeMode, Violation, WorldConfig,
};

use super::spawn::ProcessHandle;
use super::{
    Backend, JoinHandle, Moment, ObjectTag, ParkRequest, ParkResult, RawAtomic, RawBackend, Record,
    WaitKind,
};
use std::any::Any;
use std::marker::PhantomData;
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use world::{EnvStep, QueueKey, World};

/// A model checker's runtime, as the checked world needs it.
///
/// # Examples
///
/// ```
/// use lockproof::backend::checked::Engine;
/// use lockproof::backend::{LoomEngine, ShuttleEngine};
///
/// assert_eq!(ShuttleEngine::NAME, "shuttle");
/// assert!(ShuttleEngine::HAS_CHOICE); // timeouts and spurious wakeups are recorded choices
/// assert_eq!(LoomEngine::NAME, "loom");
/// assert!(!LoomEngine::HAS_CHOICE);
/// assert_eq!(LoomEngine::MAX_THREADS, Some(loom::MAX_THREADS));
/// ```
pub trait Engine: Send + Sync + 'static {
    /// `"loom"`, `"shuttle"`.
    const NAME: &'static str;
    /// At most this many threads, main included (loom: 5).
    const MAX_THREADS: Option<usize>;
    /// The engine's atomic word.
    type Atomic: RawAtomic;
    /// A number identifying the current engine thread.
    fn thread_key() -> u64;
    /// Something that unparks the current engine thread.
    fn unparker() -> Arc<dyn Fn() + Send + Sync>;
    /// Park the current engine thread (may return early; callers loop).
    fn park();
    /// Start an engine thread.
    fn spawn(f: Box<dyn FnOnce() + Send>);
    /// A scheduling point.
    fn yield_now();
    /// A recorded nondeterministic choice in `0..n`, or `None` if the engine has none.
    fn choose(n: usize) -> Option<usize>;
    /// A choice in `0..n` of which only `0..distinct` differ in effect (every value from
    /// `distinct - 1` on means the same): a weighted coin that an enumerating engine need
    /// try only `distinct` ways.
    fn choose_weighted(n: usize, distinct: usize) -> Option<usize> {
        let _ = distinct;
        Self::choose(n)
    }
    /// Whether [`choose`](Engine::choose) is available.
    const HAS_CHOICE: bool;
    /// Called once by the main thread at the start of every execution, before any other
    /// thread exists.
    fn start_execution() {}
}

/// The backend of a checked world driven by engine `E`.
///
/// # Examples
///
/// ```
/// use lockproof::backend::checked::{execute, Checked, WorldConfig};
/// use lockproof::backend::{Backend, Shuttle, ShuttleEngine};
///
/// // `Shuttle` is this backend under the shuttle engine; the primitives take it as `B`.
/// assert_eq!(<Checked<ShuttleEngine> as Backend>::NAME, Shuttle::NAME);
/// shuttle::check_random(
///     || {
///         execute::<ShuttleEngine>(WorldConfig::default(), None, || {
///             let lock = lockproof::Lock::<Checked<ShuttleEngine>>::new();
///             assert!(lock.acquire());
///             assert!(lock.locked());
///         })
///     },
///     1,
/// );
/// ```
#[derive(Debug)]
pub struct Checked<E>(PhantomData<E>);

/// Identity of an object in a checked execution.
///
/// # Examples
///
/// ```
/// use lockproof::backend::checked::{execute, take_last_report, CheckedTag, WorldConfig};
/// use lockproof::backend::{Shuttle, ShuttleEngine};
///
/// shuttle::check_random(
///     || {
///         execute::<ShuttleEngine>(WorldConfig::default(), None, || {
///             let lock = lockproof::Lock::<Shuttle>::new().with_name("account");
///             let tag: &CheckedTag = lock.tag();
///             assert!(tag.id().is_some());
///         })
///     },
///     1,
/// );
/// // The tag named the object in the execution's report.
/// let report = take_last_report().unwrap();
/// assert_eq!((report.objects[0].kind, report.objects[0].name.as_str()), ("Lock", "account"));
/// ```
#[derive(Debug)]
pub struct CheckedTag {
    id: Option<ObjectId>,
    visible: bool,
}

impl CheckedTag {
    /// The object's index in the execution report, if it was created in an execution.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::backend::checked::{execute, ObjectId, WorldConfig};
    /// use lockproof::backend::{Shuttle, ShuttleEngine};
    ///
    /// shuttle::check_random(
    ///     || {
    ///         execute::<ShuttleEngine>(WorldConfig::default(), None, || {
    ///             let first = lockproof::Lock::<Shuttle>::new();
    ///             let second = lockproof::Event::<Shuttle>::new();
    ///             assert_eq!(first.tag().id(), Some(ObjectId::from_index(0)));
    ///             assert_eq!(second.tag().id(), Some(ObjectId::from_index(1)));
    ///         })
    ///     },
    ///     1,
    /// );
    /// ```
    pub fn id(&self) -> Option<ObjectId> {
        self.id
    }
}

impl ObjectTag for CheckedTag {
    fn new(kind: &'static str) -> Self {
        CheckedTag {
            id: world::try_current().map(|w| w.new_object(kind)),
            visible: true,
        }
    }
    fn alias(&self) -> Self {
        CheckedTag {
            id: self.id,
            visible: false,
        }
    }
    fn set_name(&self, name: &str) {
        if let (Some(id), Some(w)) = (self.id, world::try_current()) {
            w.set_name(id, name);
        }
    }
    fn shared(kind: &'static str, key: usize) -> Self {
        CheckedTag {
            id: world::try_current().map(|w| w.shared_object(kind, key)),
            visible: true,
        }
    }
}

/// An engine atomic that does nothing once its execution has failed (so that destructors
/// running during the teardown never call into an engine that has stopped).
///
/// # Examples
///
/// ```
/// use lockproof::backend::checked::{execute, CheckedAtomic, WorldConfig};
/// use lockproof::backend::{RawAtomic, RawBackend, Shuttle, ShuttleEngine};
/// use std::sync::atomic::Ordering::SeqCst;
///
/// shuttle::check_random(
///     || {
///         execute::<ShuttleEngine>(WorldConfig::default(), None, || {
///             // The word every primitive under `Shuttle` is built from.
///             let word: <Shuttle as RawBackend>::Atomic = RawAtomic::new(1);
///             let _: &CheckedAtomic<shuttle::sync::atomic::AtomicUsize> = &word;
///             assert_eq!(word.fetch_add(1, SeqCst), 1);
///             assert_eq!(word.load(SeqCst), 2);
///         })
///     },
///     1,
/// );
/// ```
#[derive(Debug)]
pub struct CheckedAtomic<A>(A);

macro_rules! guarded {
    ($self:ident, $fallback:expr, $op:expr) => {
        if world::before_visible_op() {
            $fallback
        } else {
            let r = $op;
            world::count_engine_op();
            r
        }
    };
}

impl<A: RawAtomic> RawAtomic for CheckedAtomic<A> {
    fn new(v: usize) -> Self {
        CheckedAtomic(A::new(v))
    }
    fn load(&self, order: Ordering) -> usize {
        guarded!(self, 0, self.0.load(order))
    }
    fn store(&self, v: usize, order: Ordering) {
        guarded!(self, (), self.0.store(v, order))
    }
    fn swap(&self, v: usize, order: Ordering) -> usize {
        guarded!(self, 0, self.0.swap(v, order))
    }
    fn compare_exchange(
        &self,
        current: usize,
        new: usize,
        success: Ordering,
        failure: Ordering,
    ) -> Result<usize, usize> {
        // After a failure, report success: a compare-exchange loop in a destructor must end.
        guarded!(
            self,
            Ok(current),
            self.0.compare_exchange(current, new, success, failure)
        )
    }
    fn fetch_add(&self, v: usize, order: Ordering) -> usize {
        guarded!(self, 0, self.0.fetch_add(v, order))
    }
    fn fetch_sub(&self, v: usize, order: Ordering) -> usize {
        guarded!(self, 0, self.0.fetch_sub(v, order))
    }
}

/// Join handle of a checked thread: joining is a wait (traced, deadlock-checked).
///
/// # Examples
///
/// ```
/// use lockproof::backend::checked::{execute, CheckedJoinHandle, WorldConfig};
/// use lockproof::backend::{Backend, JoinHandle, Shuttle, ShuttleEngine};
///
/// shuttle::check_random(
///     || {
///         execute::<ShuttleEngine>(WorldConfig::default(), None, || {
///             let t: CheckedJoinHandle<u32> = Shuttle::spawn("worker", || 6 * 7);
///             assert_eq!(t.join(), 42);
///         })
///     },
///     10,
/// );
/// ```
#[derive(Debug)]
pub struct CheckedJoinHandle<T> {
    thread: ThreadId,
    result: Arc<Mutex<Option<T>>>,
}

impl<T: Send + 'static> JoinHandle<T> for CheckedJoinHandle<T> {
    fn join(self) -> T {
        let w = world::current();
        while !w.is_finished(self.thread) {
            let thread = self.thread;
            let valid = !w.is_finished(thread);
            w.park(
                QueueKey::Join(thread),
                None,
                "join",
                WaitKind::Join,
                None,
                valid,
            );
        }
        let value = self.result.lock().unwrap_or_else(|e| e.into_inner()).take();
        value.expect("lockproof: joined thread left no result")
    }
}

/// A process of a checked world: a group of checked threads with its own pid.
///
/// # Examples
///
/// ```
/// use lockproof::backend::checked::{execute, CheckedProcess, WorldConfig};
/// use lockproof::backend::spawn::ProcessHandle;
/// use lockproof::backend::{Backend, Shuttle, ShuttleEngine};
///
/// shuttle::check_random(
///     || {
///         execute::<ShuttleEngine>(WorldConfig::default(), None, || {
///             let child: CheckedProcess = Shuttle::spawn_process("child", || {});
///             assert_eq!(child.pid(), 2); // the main process is pid 1
///             assert_eq!(child.join(), 0); // no crash faults: it exits normally
///         })
///     },
///     10,
/// );
/// ```
#[derive(Debug)]
pub struct CheckedProcess {
    process: ProcessId,
    main: ThreadId,
}

impl ProcessHandle for CheckedProcess {
    fn pid(&self) -> u32 {
        self.process.pid()
    }

    fn join(self) -> i32 {
        let w = world::current();
        while !w.is_finished(self.main) {
            let valid = !w.is_finished(self.main);
            w.park(
                QueueKey::Join(self.main),
                None,
                "join",
                WaitKind::Join,
                None,
                valid,
            );
        }
        if w.process_crashed(self.process) {
            -9
        } else {
            0
        }
    }
}

/// The pid of the calling checked thread's process (`os.getpid()`).
pub(crate) fn current_pid() -> u32 {
    world::current().current_process().pid()
}

/// Whether checked process `pid` has not crashed.
pub(crate) fn process_alive(pid: u32) -> bool {
    let index = (pid as usize).saturating_sub(1);
    !world::current().process_crashed(ProcessId::from_index(index))
}

/// Run `f` as checked thread `thread` on a new engine thread.
fn start_thread<E, F, T>(w: Arc<World>, thread: ThreadId, f: F) -> CheckedJoinHandle<T>
where
    E: Engine,
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    let result = Arc::new(Mutex::new(None));
    let slot = result.clone();
    let world_for_thread = w.clone();
    w.flush();
    world::count_engine_op();
    E::spawn(Box::new(move || {
        let w = world_for_thread;
        w.bind(thread, E::unparker());
        match catch_unwind(AssertUnwindSafe(f)) {
            Ok(v) => {
                *slot.lock().unwrap_or_else(|e| e.into_inner()) = Some(v);
                w.finish_thread();
            }
            // Its process crashed: the thread vanishes where it stood.
            Err(p) if p.is::<Crashed>() => w.vanish(),
            Err(p) => {
                if !p.is::<Aborted>() {
                    w.record_panic(thread, panic_message(p.as_ref()));
                }
                resume_unwind(p);
            }
        }
    }));
    CheckedJoinHandle { thread, result }
}

fn ops<E: Engine>() -> world::EngineOps {
    world::EngineOps {
        name: E::NAME,
        thread_key: E::thread_key,
        park: E::park,
        choose: E::choose,
        choose_weighted: E::choose_weighted,
        max_threads: E::MAX_THREADS,
    }
}

fn panic_message(p: &(dyn Any + Send)) -> String {
    if let Some(s) = p.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = p.downcast_ref::<String>() {
        s.clone()
    } else {
        "(non-string panic payload)".to_owned()
    }
}

/// Run `body` as one execution of a checked world, on the engine's main thread.
///
/// Call it inside the engine's model closure (`loom::model(|| execute::<LoomEngine>(…))`).
/// Like a Python program at exit, it waits for every thread the body started. The report
/// of the execution is kept for [`take_last_report`]. If the execution fails
/// (a deadlock, a violation, a panic, the step budget), the report is stored first and the
/// call unwinds, so that the engine records the failing schedule.
///
/// # Examples
///
/// ```
/// use lockproof::backend::checked::{execute, take_last_report, WorldConfig};
/// use lockproof::backend::{Backend, JoinHandle, Shuttle, ShuttleEngine};
/// use std::sync::Arc;
///
/// shuttle::check_random(
///     || {
///         execute::<ShuttleEngine>(WorldConfig::default(), None, || {
///             let lock = Arc::new(lockproof::Lock::<Shuttle>::new());
///             let l2 = lock.clone();
///             let t = Shuttle::spawn("t", move || drop(l2.lock()));
///             drop(lock.lock());
///             t.join();
///         })
///     },
///     10,
/// );
/// let report = take_last_report().unwrap(); // the last of the 10 executions
/// assert!(report.failure.is_none());
/// assert_eq!(report.threads, ["main", "t"]);
/// ```
pub fn execute<E: Engine>(
    config: WorldConfig,
    observer: Option<Box<dyn Observer>>,
    body: impl FnOnce(),
) {
    // Under an engine without a choice operator the environment thread crashes and pauses
    // processes;
    // the engine sees that step as dependent with every step of a crashable process only
    // through an atomic both touch (the witness: the crash writes it, each step of a
    // process other than the main one reads it), so that a partial-order reduction
    // explores the crash before and after each of them.
    let witness = (!E::HAS_CHOICE && (config.crashes > 0 || config.pauses > 0)).then(|| {
        let a = Arc::new(E::Atomic::new(0));
        let f: world::Witness = Box::new(move |write| {
            if write {
                a.fetch_add(1, Ordering::SeqCst);
            } else {
                a.load(Ordering::SeqCst);
            }
        });
        f
    });
    let world = Arc::new(World::new(config, observer, ops::<E>(), witness));
    world.install();
    let main = world.new_thread("main").expect("main thread");
    world.bind(main, E::unparker());
    file::prime::<E>();
    E::start_execution();
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        if !E::HAS_CHOICE && needs_injection(&world) {
            spawn_environment::<E>(&world);
        }
        body();
        // Python waits for every non-daemon thread before it exits; then the environment
        // thread, if any, is told to stop.
        let w = world::current();
        let env = w.env_thread();
        let join = |t: ThreadId| {
            while !w.is_finished(t) {
                let valid = !w.is_finished(t);
                w.park(QueueKey::Join(t), None, "join", WaitKind::Join, None, valid);
            }
        };
        for t in (1..w.thread_count())
            .map(ThreadId::from_index)
            .filter(|t| Some(*t) != env)
        {
            join(t);
        }
        if let Some(env) = env {
            w.env_shutdown();
            join(env);
        }
        w.finish_thread();
    }));
    if let Err(p) = &outcome {
        if !p.is::<Aborted>() {
            world.record_panic(main, panic_message(p.as_ref()));
        }
    }
    let report = world.finish();
    let failed = report.failure.is_some();
    World::store_report(report);
    World::uninstall();
    if failed {
        resume_unwind(Box::new(Aborted));
    }
}

fn needs_injection(world: &World) -> bool {
    let c = world.config();
    c.spurious || c.time == TimeMode::Adversarial || c.crashes > 0 || c.pauses > 0
}

/// Start the environment thread that fires timeouts early and injects spurious wakeups
/// for an engine without a choice operator (see `world::environment`).
fn spawn_environment<E: Engine>(world: &Arc<World>) {
    let id = match world.new_thread("checker") {
        Ok(id) => id,
        Err(limit) => world.violate("engine-limit", &limit),
    };
    world.make_env(id);
    let w = world.clone();
    E::spawn(Box::new(move || {
        w.bind(id, E::unparker());
        let run = catch_unwind(AssertUnwindSafe(|| loop {
            w.witness(true);
            match w.env_step() {
                EnvStep::Fired => continue,
                EnvStep::Done => break,
                EnvStep::Wait => {
                    let valid = w.env_should_wait();
                    w.park(
                        QueueKey::Environment,
                        None,
                        "environment",
                        WaitKind::Sleep,
                        None,
                        valid,
                    );
                }
            }
        }));
        match run {
            Ok(()) => w.finish_thread(),
            Err(p) => resume_unwind(p),
        }
    }));
}

/// Fail the current execution with a violation of `property` (a model's own assertion).
///
/// # Examples
///
/// ```
/// use lockproof::backend::checked::{execute, take_last_report, violate, WorldConfig};
/// use lockproof::backend::ShuttleEngine;
///
/// let failed = std::panic::catch_unwind(|| {
///     shuttle::check_random(
///         || {
///             execute::<ShuttleEngine>(WorldConfig::default(), None, || {
///                 let balance = 90;
///                 if balance != 100 {
///                     violate("conservation", &format!("balance is {balance}"));
///                 }
///             })
///         },
///         1,
///     )
/// });
/// assert!(failed.is_err());
/// let failure = take_last_report().unwrap().failure.unwrap();
/// assert_eq!(failure.to_string(), "conservation violated: balance is 90");
/// ```
pub fn violate(property: &str, message: &str) -> ! {
    world::current().violate(property, message)
}

/// The current virtual time, in nanoseconds.
///
/// # Examples
///
/// ```
/// use lockproof::backend::checked::{execute, virtual_now, WorldConfig};
/// use lockproof::backend::{Backend, Shuttle, ShuttleEngine};
/// use std::time::Duration;
///
/// shuttle::check_random(
///     || {
///         execute::<ShuttleEngine>(WorldConfig::default(), None, || {
///             assert_eq!(virtual_now(), 0);
///             Shuttle::sleep(Duration::from_millis(500)); // nobody else runs: the clock jumps
///             assert_eq!(virtual_now(), 500_000_000);
///         })
///     },
///     1,
/// );
/// ```
pub fn virtual_now() -> u64 {
    world::current().now()
}

// SAFETY: the checked world runs `validate` and queues the thread in one engine step (no
// other thread runs in between), wakes its queues in FIFO order, and reports `Spurious`
// only for a `Condition` wait with injection on.
unsafe impl<E: Engine> RawBackend for Checked<E> {
    type Atomic = CheckedAtomic<E::Atomic>;
    type Tag = CheckedTag;

    fn park(req: ParkRequest<'_, Self>, validate: impl FnOnce() -> bool) -> ParkResult {
        let w = world::current();
        let valid = validate();
        w.park(
            QueueKey::Address(req.key),
            req.tag.id,
            req.op,
            req.kind,
            req.deadline,
            valid,
        )
    }

    fn unpark_one(word: &Self::Atomic) -> bool {
        // The wake's own scheduling point, dependent with every operation on the word
        // (see `Backend::unpark_one`).
        world::completing_wake(|| {
            word.fetch_add(0, Ordering::SeqCst);
            world::with_current(|w| {
                w.unpark(QueueKey::Address(word as *const Self::Atomic as usize), 1)
            })
        }) == 1
    }

    fn unpark_all(word: &Self::Atomic) -> usize {
        world::completing_wake(|| {
            word.fetch_add(0, Ordering::SeqCst);
            world::with_current(|w| {
                w.unpark(
                    QueueKey::Address(word as *const Self::Atomic as usize),
                    usize::MAX,
                )
            })
        })
    }

    fn record(tag: &CheckedTag, event: impl FnOnce() -> Record) {
        if let (true, Some(id)) = (tag.visible, tag.id) {
            // Traced without cloning the world; what may block after it, on a clone.
            match world::with_current(|w| w.trace_step(id, event())) {
                Ok(None) => {}
                Ok(Some(after)) => world::current().after_step(after),
                Err(failure) => world::current().fail_now(failure),
            }
        }
    }
}

impl<E: Engine> Backend for Checked<E> {
    type JoinHandle<T: Send + 'static> = CheckedJoinHandle<T>;

    const NAME: &'static str = E::NAME;

    fn current_thread() -> u64 {
        world::with_current(|w| w.current_thread().index() as u64 + 1)
    }

    fn now() -> Moment {
        Moment(world::with_current(|w| w.now()))
    }

    fn sleep(duration: Duration) {
        let w = world::current();
        let deadline = Moment::after(Moment(w.now()), duration);
        if duration.is_zero() {
            w.yield_step();
            E::yield_now();
            return;
        }
        w.park(
            QueueKey::Sleep,
            None,
            "sleep",
            WaitKind::Sleep,
            deadline,
            true,
        );
    }

    fn spawn<F, T>(name: &str, f: F) -> Self::JoinHandle<T>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        let w = world::current();
        let thread = match w.new_thread(name) {
            Ok(t) => t,
            Err(limit) => {
                w.violate("engine-limit", &limit);
            }
        };
        start_thread::<E, F, T>(w, thread, f)
    }

    fn yield_now() {
        if let Some(w) = world::try_current() {
            w.flush();
            w.yield_step();
        }
        E::yield_now()
    }

    type Process = CheckedProcess;

    fn spawn_process<F>(name: &str, f: F) -> CheckedProcess
    where
        F: FnOnce() + Send + 'static,
    {
        let w = world::current();
        let (process, main) = match w.new_process(name) {
            Ok(p) => p,
            Err(limit) => w.violate("engine-limit", &limit),
        };
        drop(start_thread::<E, _, _>(w, main, f));
        CheckedProcess { process, main }
    }

    fn choose_weighted(n: usize, distinct: usize) -> usize {
        assert!(
            distinct >= 1 && distinct <= n,
            "choose_weighted({n}, {distinct})"
        );
        world::count_engine_op();
        match E::choose_weighted(n, distinct) {
            Some(c) => c,
            None => world::current().violate(
                "engine-limit",
                &format!(
                    "{} has no choice operator; this scenario needs one",
                    E::NAME
                ),
            ),
        }
    }

    fn choose(n: usize) -> usize {
        assert!(n > 0, "choose(0)");
        world::count_engine_op();
        match E::choose(n) {
            Some(c) => c,
            None => world::current().violate(
                "engine-limit",
                &format!(
                    "{} has no choice operator; this scenario needs one",
                    E::NAME
                ),
            ),
        }
    }
}

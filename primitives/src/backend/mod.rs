//! The seam: the one module that knows which world lockproof runs in.
//!
//! Every primitive is generic over a [`Backend`]; no primitive, model or monitor names
//! std, loom or shuttle. The backends are:
//!
//! | type | world | blocking | time |
//! |---|---|---|---|
//! | [`Std`] | real OS threads | `parking_lot_core` queues | the monotonic clock |
//! | `Loom` (feature `loom`) | loom's exhaustive explorer | the checked wait point | virtual |
//! | `Shuttle` (feature `shuttle`) | shuttle's randomized/PCT scheduler | the checked wait point | virtual |
//!
//! # Why a type parameter and not a `--cfg` facade
//!
//! A cfg facade (tokio, crossbeam) builds one world per compilation: `cargo test` could
//! only ever test one of them, the cfg leaks into every dependency, and the harness could
//! not run one scenario under loom and shuttle in the same process. A backend type
//! parameter (parking_lot's `lock_api` shape) costs a generic parameter in model code and
//! nothing at run time: [`Std`] is a zero-sized type whose hooks inline to nothing, so
//! `Lock<Std>` compiles to one compare-exchange to acquire and one swap to release.
//!
//! # The one wait point
//!
//! Every blocking operation of every primitive goes through [`Backend::park`], which takes
//! an optional [`Moment`]. Under std the deadline is on the monotonic clock. Under a
//! checker, "this wait timed out" and "this wait woke spuriously" are decisions of the
//! checked world (see `checked`), recorded in the schedule, never wall-clock events.

use std::fmt;
use std::sync::atomic::Ordering;
use std::time::Duration;

/// Implement [`RawAtomic`] for an atomic type with std's `AtomicUsize` methods (std's own,
/// loom's and shuttle's mocks all have them).
macro_rules! forward_raw_atomic {
    ($t:ty) => {
        impl $crate::backend::RawAtomic for $t {
            #[inline(always)]
            fn new(v: usize) -> Self {
                <$t>::new(v)
            }
            #[inline(always)]
            fn load(&self, order: std::sync::atomic::Ordering) -> usize {
                <$t>::load(self, order)
            }
            #[inline(always)]
            fn store(&self, v: usize, order: std::sync::atomic::Ordering) {
                <$t>::store(self, v, order)
            }
            #[inline(always)]
            fn swap(&self, v: usize, order: std::sync::atomic::Ordering) -> usize {
                <$t>::swap(self, v, order)
            }
            #[inline(always)]
            fn compare_exchange(
                &self,
                current: usize,
                new: usize,
                success: std::sync::atomic::Ordering,
                failure: std::sync::atomic::Ordering,
            ) -> Result<usize, usize> {
                <$t>::compare_exchange(self, current, new, success, failure)
            }
            #[inline(always)]
            fn fetch_add(&self, v: usize, order: std::sync::atomic::Ordering) -> usize {
                <$t>::fetch_add(self, v, order)
            }
            #[inline(always)]
            fn fetch_sub(&self, v: usize, order: std::sync::atomic::Ordering) -> usize {
                <$t>::fetch_sub(self, v, order)
            }
        }
    };
}

mod args;
pub use args::{Arg, Args, Secs};

mod real;
pub use real::Std;
pub mod spawn;

#[cfg(target_os = "linux")]
pub mod process;
#[cfg(target_os = "linux")]
mod real_process;
#[cfg(target_os = "linux")]
pub use real_process::StdMemory;
#[cfg(target_os = "linux")]
pub mod file;
#[cfg(target_os = "linux")]
mod real_file;

/// Every seam of the operating system a program can use: threads ([`Backend`]), processes
/// ([`process::ProcessBackend`]) and files ([`file::FileBackend`]). [`Std`] and every
/// checked world implement it; a model that uses processes and files names it
/// (`fn run<B: System>(&self)`).
///
/// # Examples
///
/// ```
/// use lockproof::backend::{Std, System};
/// use lockproof::file::{fcntl, File};
///
/// fn append_locked<B: System>(path: &std::path::Path, line: &[u8]) -> lockproof::Result<()> {
///     let mut f = File::<B>::open(path, "a")?;
///     fcntl::flock(&f, fcntl::LOCK_EX)?;
///     f.write(line)?;
///     f.close() // flushes, then closes: the flock goes with the last descriptor
/// }
///
/// let dir = tempfile::tempdir().unwrap();
/// append_locked::<Std>(&dir.path().join("log"), b"one\n")?;
/// assert_eq!(std::fs::read(dir.path().join("log")).unwrap(), b"one\n");
/// # Ok::<(), lockproof::Error>(())
/// ```
#[cfg(target_os = "linux")]
pub trait System: process::ProcessBackend + file::FileBackend {}

#[cfg(target_os = "linux")]
impl<B: process::ProcessBackend + file::FileBackend> System for B {}

#[cfg(any(feature = "loom", feature = "shuttle"))]
pub mod checked;
#[cfg(feature = "loom")]
mod loom;
#[cfg(feature = "loom")]
pub use self::loom::{Loom, LoomEngine};
#[cfg(feature = "shuttle")]
mod shuttle;
#[cfg(feature = "shuttle")]
pub use self::shuttle::{choice as shuttle_choice, Shuttle, ShuttleEngine};

/// A point on a backend's monotonic clock, in nanoseconds since the backend's epoch: what
/// [`Backend::now`] returns, and what a wait's deadline is.
///
/// Under [`Std`] the epoch is the first use of the clock in the process; under a checker it
/// is the start of the execution (virtual time 0).
///
/// # Examples
///
/// ```
/// use lockproof::backend::Moment;
/// use std::time::Duration;
///
/// let start = Moment(5);
/// assert_eq!(Moment::after(start, Duration::from_nanos(10)), Some(Moment(15)));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Moment(pub u64);

impl Moment {
    /// The deadline `timeout` after `now`, or `None` when it lies beyond the clock's range
    /// (which callers treat as "no deadline": CPython rejects such timeouts before waiting).
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::backend::Moment;
    /// use std::time::Duration;
    ///
    /// assert_eq!(Moment::after(Moment(u64::MAX), Duration::from_nanos(1)), None);
    /// ```
    pub fn after(now: Moment, timeout: Duration) -> Option<Moment> {
        let nanos = u64::try_from(timeout.as_nanos()).ok()?;
        now.0.checked_add(nanos).map(Moment)
    }
}

/// What a blocked thread waits on, for traces, deadlock reports and fault injection.
///
/// # Examples
///
/// ```
/// use lockproof::backend::{ObjectTag, ParkRequest, RawBackend, Std, WaitKind};
///
/// // A semaphore's acquire parks as a `Semaphore` wait; only `Condition` waits may be woken
/// // spuriously by a checker.
/// let tag = <<Std as RawBackend>::Tag as ObjectTag>::new("Semaphore");
/// let req: ParkRequest<'_, Std> =
///     ParkRequest { key: 1, tag: &tag, op: "acquire", kind: WaitKind::Semaphore, deadline: None };
/// assert_ne!(req.kind, WaitKind::Condition);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum WaitKind {
    /// A lock acquire (Lock, RLock, or the inner lock of another primitive).
    Lock,
    /// The waiter lock of `Condition.wait`: the only wait a checker may wake spuriously.
    Condition,
    /// A semaphore acquire.
    Semaphore,
    /// `Event.wait`.
    Event,
    /// `Barrier.wait` waiting for its generation to trip (never woken spuriously).
    Barrier,
    /// `time.sleep`: only its deadline ends it.
    Sleep,
    /// `Thread.join`.
    Join,
}

/// How a [`Backend::park`] call ended.
///
/// # Examples
///
/// ```
/// use lockproof::backend::{Backend, ObjectTag, ParkRequest, ParkResult, RawBackend, Std, WaitKind};
///
/// let tag = <<Std as RawBackend>::Tag as ObjectTag>::new("Lock");
/// let req = |deadline| ParkRequest::<Std> { key: 1, tag: &tag, op: "acquire", kind: WaitKind::Lock, deadline };
/// // The state changed before the thread slept: it never parks.
/// assert_eq!(Std::park(req(None), || false), ParkResult::Invalid);
/// // A deadline that has already passed.
/// assert_eq!(Std::park(req(Some(Std::now())), || true), ParkResult::TimedOut);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParkResult {
    /// Another thread called `unpark_one`/`unpark_all` on the key.
    Unparked,
    /// `validate` returned false: the thread never slept.
    Invalid,
    /// The deadline passed (wall clock under std, a checker's decision otherwise).
    TimedOut,
    /// A checker woke the thread without a notify (only for [`WaitKind::Condition`] with
    /// spurious-wakeup injection switched on).
    Spurious,
}

/// A request to block the current thread on `key` until unparked or `deadline`.
///
/// # Examples
///
/// ```
/// use lockproof::backend::{Backend, ObjectTag, ParkRequest, ParkResult, RawAtomic, RawBackend, Std, WaitKind};
/// use std::sync::atomic::Ordering::SeqCst;
///
/// // Wait on a word while it is 0, for at most 1 ms: the wait point every primitive uses.
/// let word = <Std as RawBackend>::Atomic::new(0);
/// let tag = <<Std as RawBackend>::Tag as ObjectTag>::new("Event");
/// let req = ParkRequest::<Std> {
///     key: &word as *const _ as usize, // the key `unpark_one(&word)` wakes
///     tag: &tag,
///     op: "wait",
///     kind: WaitKind::Event,
///     deadline: lockproof::backend::Moment::after(Std::now(), std::time::Duration::from_millis(1)),
/// };
/// assert_eq!(Std::park(req, || word.load(SeqCst) == 0), ParkResult::TimedOut);
/// ```
#[derive(Debug)]
pub struct ParkRequest<'a, B: RawBackend> {
    /// The queue to wait in: usually the address of the primitive's state.
    pub key: usize,
    /// The object waited on, for traces and deadlock reports.
    pub tag: &'a B::Tag,
    /// The operation that blocks (`"acquire"`, `"wait"`, …), as the trace shows it.
    pub op: &'static str,
    /// What kind of wait this is.
    pub kind: WaitKind,
    /// When to give up; `None` waits forever.
    pub deadline: Option<Moment>,
}

/// An atomic word as the primitives use it: std's, loom's or shuttle's.
///
/// # Examples
///
/// ```
/// use lockproof::backend::{RawAtomic, RawBackend, Std};
/// use std::sync::atomic::Ordering::SeqCst;
///
/// fn take<A: RawAtomic>(word: &A) -> bool {
///     word.compare_exchange(0, 1, SeqCst, SeqCst).is_ok()
/// }
/// let word = <Std as RawBackend>::Atomic::new(0);
/// assert!(take(&word));
/// assert!(!take(&word)); // already 1
/// assert_eq!(word.fetch_sub(1, SeqCst), 1);
/// ```
pub trait RawAtomic: Send + Sync + fmt::Debug {
    /// A new atomic holding `v`.
    fn new(v: usize) -> Self;
    /// Atomic load.
    fn load(&self, order: Ordering) -> usize;
    /// Atomic store.
    fn store(&self, v: usize, order: Ordering);
    /// Atomic swap.
    fn swap(&self, v: usize, order: Ordering) -> usize;
    /// Atomic compare-exchange (strong).
    fn compare_exchange(
        &self,
        current: usize,
        new: usize,
        success: Ordering,
        failure: Ordering,
    ) -> Result<usize, usize>;
    /// Atomic add, returning the previous value.
    fn fetch_add(&self, v: usize, order: Ordering) -> usize;
    /// Atomic subtract, returning the previous value.
    fn fetch_sub(&self, v: usize, order: Ordering) -> usize;
}

/// The identity of a primitive object in traces. Under [`Std`] it is zero-sized.
///
/// # Examples
///
/// ```
/// use lockproof::backend::{ObjectTag, RawBackend, Std};
///
/// // Under `Std` a tag is zero-sized and naming it costs nothing.
/// type Tag = <Std as RawBackend>::Tag;
/// let tag = <Tag as ObjectTag>::new("Lock");
/// tag.set_name("a");
/// let _inner = tag.alias();
/// assert_eq!(std::mem::size_of::<Tag>(), 0);
/// ```
pub trait ObjectTag: Send + Sync + fmt::Debug {
    /// A tag for a new object of `kind` (`"Lock"`, `"Condition"`, …), traced.
    fn new(kind: &'static str) -> Self;
    /// A tag for an object that lives inside this one (the waiter lock of a Condition, the
    /// Condition of a Barrier): its steps are not traced, and its waits show as waits on
    /// this object.
    fn alias(&self) -> Self;
    /// Give the object a name for traces (`"a"`, `"forks[2]"`). A no-op under [`Std`].
    fn set_name(&self, name: &str);
    /// The tag of the object of `kind` whose shared state is at address `key`: every handle
    /// of one process-shared object (each process's reopened handle of a multiprocessing
    /// `Lock`, say) is the same object in traces, to the holder tracking and to the
    /// monitors. The first call for a key makes the object (as [`new`](ObjectTag::new)).
    fn shared(kind: &'static str, key: usize) -> Self
    where
        Self: Sized,
    {
        let _ = key;
        Self::new(kind)
    }
}

/// The result of a traced operation, as the trace shows it.
///
/// # Examples
///
/// ```
/// use lockproof::backend::Outcome;
///
/// assert_eq!(Outcome::Done.to_string(), "None");
/// assert_eq!(Outcome::Bool(false).to_string(), "False");
/// assert_eq!(Outcome::Int(2).to_string(), "2");
/// assert_eq!(
///     Outcome::Error("RuntimeError('release unlocked lock')".into()).to_string(),
///     "raises RuntimeError('release unlocked lock')"
/// );
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Completed with no value (`None` in Python).
    Done,
    /// Returned a boolean.
    Bool(bool),
    /// Returned an integer (a barrier index, a counter value).
    Int(i64),
    /// Returned another value, shown as its `Debug` text.
    Value(String),
    /// Returned an error, shown as Python's repr of the exception.
    Error(String),
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Outcome::Done => f.write_str("None"),
            Outcome::Bool(true) => f.write_str("True"),
            Outcome::Bool(false) => f.write_str("False"),
            Outcome::Int(i) => write!(f, "{i}"),
            Outcome::Value(v) => f.write_str(v),
            Outcome::Error(e) => write!(f, "raises {e}"),
        }
    }
}

/// What a traced operation did to who holds its object: the checker keeps the holders of
/// every object from these (for deadlock reports and the mutual-exclusion monitor), never
/// from operation names.
///
/// # Examples
///
/// ```
/// use lockproof::backend::{Hold, Outcome, Record};
///
/// // An RLock's `_acquire_restore` gives the caller back its three levels.
/// let r = Record::new("_acquire_restore", Outcome::Done).holding(Hold::Restored(3));
/// assert_eq!(r.hold, Hold::Restored(3));
/// assert_eq!(Hold::default(), Hold::Nothing);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Hold {
    /// Nothing (a failed acquire, a query, a notify).
    #[default]
    Nothing,
    /// The caller now holds one more level (a lock acquired, a permit taken, a region
    /// entered).
    Acquired,
    /// One level was given back: the caller's, or, for a Lock or a permit released by a
    /// thread that does not hold it, the oldest holder's.
    Released,
    /// The caller gave back every level it held (an RLock's `_release_save`).
    ReleasedAll,
    /// The caller holds this many levels again (an RLock's `_acquire_restore`).
    Restored(u64),
}

impl Hold {
    /// [`Acquired`](Hold::Acquired) if the acquire succeeded, else [`Nothing`](Hold::Nothing).
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::backend::Hold;
    ///
    /// assert_eq!(Hold::acquired_if(true), Hold::Acquired);
    /// assert_eq!(Hold::acquired_if(false), Hold::Nothing); // a failed try-acquire holds nothing
    /// ```
    pub fn acquired_if(ok: bool) -> Hold {
        if ok {
            Hold::Acquired
        } else {
            Hold::Nothing
        }
    }

    /// [`Released`](Hold::Released) if the release succeeded, else [`Nothing`](Hold::Nothing).
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::backend::Hold;
    ///
    /// assert_eq!(Hold::released_if(true), Hold::Released);
    /// assert_eq!(Hold::released_if(false), Hold::Nothing); // RuntimeError: nothing given back
    /// ```
    pub fn released_if(ok: bool) -> Hold {
        if ok {
            Hold::Released
        } else {
            Hold::Nothing
        }
    }
}

/// One primitive operation, as a backend records it for the trace (named apart from
/// [`crate::Event`], Python's `threading.Event`).
///
/// # Examples
///
/// ```
/// use lockproof::backend::{Args, Hold, Outcome, Record};
///
/// let r = Record::with_args("acquire", Args::new().bool("blocking", false), Outcome::Bool(true))
///     .holding(Hold::Acquired);
/// assert_eq!(r.args.to_string(), "blocking=False");
/// assert_eq!(r.hold, Hold::Acquired);
/// assert_eq!(Record::new("locked", Outcome::Bool(true)).hold, Hold::Nothing);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    /// The operation name, as in Python (`"acquire"`, `"release"`, `"wait"`, `"set"`).
    pub op: &'static str,
    /// The arguments, typed (rendered as Python spells them, `timeout=0.5`, in traces).
    pub args: Args,
    /// What it returned.
    pub outcome: Outcome,
    /// What it did to who holds the object.
    pub hold: Hold,
}

impl Record {
    /// A record with no arguments.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::backend::{Outcome, Record};
    ///
    /// let r = Record::new("is_set", Outcome::Bool(true));
    /// assert!(r.args.is_empty());
    /// assert_eq!(r.outcome.to_string(), "True");
    /// ```
    pub fn new(op: &'static str, outcome: Outcome) -> Self {
        Record::with_args(op, Args::new(), outcome)
    }

    /// A record with arguments.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::backend::{Args, Outcome, Record};
    ///
    /// let r = Record::with_args("wait", Args::new().secs("timeout", 0.5), Outcome::Bool(false));
    /// assert_eq!(format!("{}({}) → {}", r.op, r.args, r.outcome), "wait(timeout=0.5) → False");
    /// ```
    pub fn with_args(op: &'static str, args: Args, outcome: Outcome) -> Self {
        Record {
            op,
            args,
            outcome,
            hold: Hold::Nothing,
        }
    }

    /// The same record, saying what the operation did to who holds the object.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::backend::{Hold, Outcome, Record};
    ///
    /// let r = Record::new("release", Outcome::Done).holding(Hold::Released);
    /// assert_eq!(r.hold, Hold::Released);
    /// ```
    #[must_use]
    pub fn holding(mut self, hold: Hold) -> Self {
        self.hold = hold;
        self
    }
}

/// A handle to join a thread spawned through [`Backend::spawn`].
///
/// # Examples
///
/// ```
/// use lockproof::backend::{Backend, JoinHandle, Std};
///
/// let t = Std::spawn("t", || vec![1, 2]);
/// assert_eq!(t.join(), [1, 2]);
/// ```
pub trait JoinHandle<T>: Send {
    /// Wait for the thread to finish and return its result (Python's `Thread.join`).
    ///
    /// A panic in the thread is re-raised here.
    fn join(self) -> T;
}

/// The world a model runs in, as a model author sees it: threads, the clock, choices.
///
/// Implementations: [`Std`], and under features, `Loom` and `Shuttle`. What primitives need
/// besides (atomics, the wait point, the trace) is [`RawBackend`], a supertrait a model
/// never has to name.
///
/// # Examples
///
/// ```
/// use lockproof::backend::{Backend, JoinHandle, Std};
/// use std::time::Duration;
///
/// fn two_threads<B: Backend>() -> u32 {
///     let t = B::spawn("worker", || 20);
///     B::sleep(Duration::from_millis(1)); // virtual time under a checker
///     t.join() + 22
/// }
/// assert_eq!(two_threads::<Std>(), 42);
/// ```
pub trait Backend: RawBackend {
    /// The join handle of a spawned thread.
    type JoinHandle<T: Send + 'static>: JoinHandle<T>;

    /// A short name of the world (`"std"`, `"loom"`, `"shuttle"`).
    const NAME: &'static str;

    /// An identifier of the current thread, never 0 (Python's `threading.get_ident()`).
    fn current_thread() -> u64;

    /// The current time on this backend's monotonic clock.
    fn now() -> Moment;

    /// Python's `time.sleep`: real under std, virtual under a checker.
    fn sleep(duration: Duration);

    /// Start a thread (Python's `Thread(target=f, name=name).start()`).
    fn spawn<F, T>(name: &str, f: F) -> Self::JoinHandle<T>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static;

    /// A scheduling point with no effect (Python's `time.sleep(0)`).
    fn yield_now();

    /// A nondeterministic choice in `0..n` (n ≥ 1), recorded in a checker's schedule;
    /// under std, a cheap pseudo-random number.
    fn choose(n: usize) -> usize;

    /// A weighted coin: a choice in `0..n` of which only `0..distinct` differ in effect
    /// (every value from `distinct - 1` on means the same, the usual outcome). A random
    /// engine draws it with those odds; an enumerating engine tries only the `distinct`
    /// ways. Fault injection uses it: "lose this message" is rare, "deliver it" usual.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::backend::{Backend, Std};
    ///
    /// let c = Std::choose_weighted(10, 3); // 0, 1: rare faults; 2..10: nothing happens
    /// assert!(c < 10);
    /// ```
    fn choose_weighted(n: usize, distinct: usize) -> usize {
        let _ = distinct;
        Self::choose(n)
    }

    /// The handle of a process started by [`spawn_process`](Backend::spawn_process).
    type Process: spawn::ProcessHandle;

    /// Start a process named `name` running `f` (Python's
    /// `Process(target=f, name=name).start()`); join it for its exit code.
    ///
    /// | backend | a process is | a crash is |
    /// |---|---|---|
    /// | [`Std`] (Linux) | a `fork` of the caller running `f`, then `_exit` | a real signal (`SIGKILL`) |
    /// | `Loom`, `Shuttle` | a group of checked threads with its own pid | a checker choice at any of its steps (`WorldConfig::crashes`), recorded in the schedule |
    ///
    /// Under [`Std`] the child shares with its parent only memory made for sharing
    /// (`lockproof::process`), and must run nothing but `f`: a forked child of a
    /// multi-threaded program must not take a lock another thread of the parent held at the
    /// fork (keep `f` to the process-shared primitives). Under a checker the process's
    /// threads share the address space, and the checker may crash the process at any of
    /// its steps when crash faults are on: its threads vanish, and what it held stays held.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::backend::spawn::ProcessHandle;
    /// use lockproof::backend::{Backend, Std};
    ///
    /// # #[cfg(target_os = "linux")] {
    /// let child = Std::spawn_process("worker", || {});
    /// assert!(child.pid() > 0);
    /// assert_eq!(child.join(), 0);
    /// assert_eq!(Std::spawn_process("failing", || panic!("raised")).join(), 1);
    /// # }
    /// ```
    fn spawn_process<F>(name: &str, f: F) -> Self::Process
    where
        F: FnOnce() + Send + 'static;
}

/// What primitives are built from: the atomic word, object identity, the one wait point
/// and the trace. Model code does not need it; a primitive written outside this crate does
/// (as `lock_api`'s `RawMutex` sits under its `Mutex`).
///
/// # Safety
///
/// An implementation must keep the wait point's contract, on which every primitive's
/// correctness rests: `park` runs `validate` at most once, atomically with respect to
/// `unpark_one`/`unpark_all` on the same key (an unpark either comes before the validation
/// and is seen by it, or finds the thread queued); a parked thread returns only when
/// unparked, when its deadline passed, or (`Spurious`, under a checker only) for a
/// `Condition` wait; and `unpark_one` wakes at most one thread, the longest-waiting.
///
/// # Examples
///
/// ```
/// use lockproof::backend::{RawAtomic, RawBackend, Std};
/// use std::sync::atomic::Ordering::SeqCst;
///
/// // A one-shot flag written outside this crate: set it, and wake whoever parked on it.
/// fn set_flag<B: RawBackend>(flag: &B::Atomic) -> usize {
///     flag.store(1, SeqCst);
///     B::unpark_all(flag)
/// }
/// let flag = <Std as RawBackend>::Atomic::new(0);
/// assert_eq!(set_flag::<Std>(&flag), 0); // nobody was parked
/// assert_eq!(flag.load(SeqCst), 1);
/// ```
pub unsafe trait RawBackend: Sized + Send + Sync + 'static {
    /// The atomic word type.
    type Atomic: RawAtomic;
    /// The object identity type (zero-sized under [`Std`]).
    type Tag: ObjectTag;

    /// The one wait point. Blocks the current thread in the queue of `req.key` if
    /// `validate()` returns true, until it is unparked or the deadline passes.
    ///
    /// `validate` runs at most once, atomically with respect to `unpark_*` on the same key.
    fn park(req: ParkRequest<'_, Self>, validate: impl FnOnce() -> bool) -> ParkResult;

    /// Wake the longest-waiting thread parked on `word`'s key (its address, the key its
    /// waiters park on); true if there was one.
    ///
    /// Under a checker the wake is a scheduling point of its own, dependent with every
    /// operation on `word` (a read-modify-write of it that changes nothing): another thread
    /// may run between the state change that decided to wake and the wake itself, as on
    /// real threads — and a thread that parks again in that gap is the one woken.
    fn unpark_one(word: &Self::Atomic) -> bool;

    /// Wake every thread parked on `word`'s key; returns how many. See
    /// [`unpark_one`](RawBackend::unpark_one).
    fn unpark_all(word: &Self::Atomic) -> usize;

    /// Record a traced operation on `tag`. Under [`Std`] `event` is never called.
    fn record(tag: &Self::Tag, event: impl FnOnce() -> Record);

    /// Whether a thread about to park may spin once more first; `spins` counts the spins
    /// so far and is advanced here.
    ///
    /// Under [`Std`]: a short back-off (a few spin-loop hints, then a few yields, as
    /// parking_lot's `SpinWait`), because a word that another thread is about to change is
    /// usually changed sooner than a sleep and a wake take. Under a checker: never, the
    /// default — a spin is a step that changes nothing, and would only multiply schedules.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::backend::{RawAtomic, RawBackend, Std};
    /// use std::sync::atomic::Ordering::SeqCst;
    ///
    /// // Wait briefly for a flag before giving up (a real caller would park next).
    /// fn spin_for<B: RawBackend>(flag: &B::Atomic) -> bool {
    ///     let mut spins = 0;
    ///     while B::spin(&mut spins) {
    ///         if flag.load(SeqCst) == 1 {
    ///             return true;
    ///         }
    ///     }
    ///     false
    /// }
    /// let flag = <Std as RawBackend>::Atomic::new(1);
    /// assert!(spin_for::<Std>(&flag));
    /// ```
    #[inline]
    fn spin(spins: &mut u32) -> bool {
        let _ = spins;
        false
    }
}

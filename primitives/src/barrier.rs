//! `threading.Barrier`: CPython 3.11's state machine (filling, draining, resetting, broken)
//! over an inner lock and one wait queue.

use crate::backend::{
    Args, Backend, ObjectTag, Outcome, ParkRequest, RawAtomic, Record, Std, WaitKind,
};
use crate::error::{Error, Result};
use crate::lock::Lock;
use crate::timeout::{DeadlineLoop, Next, Wait};
use std::any::Any;
use std::fmt;
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::sync::atomic::Ordering::SeqCst;

/// A barrier's action: run by the last thread to arrive, before any party is released. An
/// `Err(text)` is the action raising: that thread gets [`Error::BarrierAction`] and the
/// barrier breaks.
///
/// # Examples
///
/// ```
/// use lockproof::threading::{Barrier, Error};
/// use lockproof::BarrierAction;
///
/// let action: BarrierAction = Box::new(|| Err("KeyError('x')".to_owned()));
/// let b = Barrier::new(1, Some(action), None).unwrap();
/// assert_eq!(b.wait(), Err(Error::BarrierAction("KeyError('x')".into())));
/// assert!(b.broken());
/// ```
pub type BarrierAction = Box<dyn Fn() -> Result<(), String> + Send + Sync>;

/// Phases of the barrier (CPython's `_state`: 0, 1, −1, −2).
const FILLING: usize = 0;
const DRAINING: usize = 1;
const RESETTING: usize = 2;
const BROKEN: usize = 3;
const PHASE: usize = 3;
/// One thread inside `wait` (CPython's `_count`), in the state word.
const ONE: usize = 4;

/// Python's `threading.Barrier` (CPython 3.11, `Lib/threading.py`; `primitives/SEMANTICS.md` §8).
///
/// `parties` threads call [`wait`](Barrier::wait); the last to arrive runs the action, then
/// all are released, each with its arrival index `0..parties`. The barrier is then reused
/// for the next generation: threads that arrive while the previous one is still leaving
/// (draining) wait for it to empty first, so no party of generation g+1 passes before every
/// party of generation g arrived.
///
/// - **Action**: runs exactly once per generation, in the last-arriving thread (the one
///   that gets index `parties - 1`), while the barrier's inner lock is held and before any
///   party is released. If it fails (returns `Err`, or panics), the barrier breaks: that
///   thread gets [`Error::BarrierAction`] (or the panic resumes in it), every other party
///   `BrokenBarrierError`. Reading [`n_waiting`](Barrier::n_waiting) in the action gives
///   `parties` (check 115).
/// - **Deadlock hazard, as in CPython** (check 119): the inner lock is not reentrant, so an
///   action that calls [`abort`](Barrier::abort), [`reset`](Barrier::reset) or
///   [`wait`](Barrier::wait) on its own barrier deadlocks (a checker reports the deadlock;
///   on real threads it hangs). Reading `n_waiting`, `broken` or `parties` is fine.
/// - **Breaking**: a wait that times out, a failing action, or [`abort`](Barrier::abort)
///   breaks the barrier: every thread waiting and every later `wait` gets
///   `BrokenBarrierError` until [`reset`](Barrier::reset). The thread that timed out gets
///   `BrokenBarrierError` too, not a timeout error.
/// - **Timeouts** follow `Condition.wait_for` (`primitives/SEMANTICS.md` §1.4): `None` takes the
///   constructor's default; zero or negative polls once then breaks the barrier; a NaN
///   timeout waits until the barrier trips (CPython busy-polls); a timeout too large to
///   wait on is `OverflowError` and leaves the barrier unbroken (check 121). The last
///   arrival never waits, so never looks at its timeout.
/// - `parties == 0` is rejected with `ValueError('parties must be > 0')`, as CPython 3.13+
///   does; CPython 3.11 accepts it and every `wait` then breaks the barrier.
/// - Not a context manager, as in Python.
///
/// | Python | Rust |
/// |---|---|
/// | `Barrier(parties, action, timeout)` | [`Barrier::new`] |
/// | `wait()` | [`Barrier::wait`] |
/// | `wait(timeout)` | [`Barrier::wait_timeout`] |
/// | `reset()` | [`Barrier::reset`] |
/// | `abort()` | [`Barrier::abort`] |
/// | `parties` / `n_waiting` / `broken` | [`Barrier::parties`] / [`Barrier::n_waiting`] / [`Barrier::broken`] |
/// | `BrokenBarrierError` | [`Error::BrokenBarrier`] |
///
/// # Examples
///
/// ```
/// use lockproof::threading::Barrier;
/// use std::sync::Arc;
///
/// let b = Arc::new(Barrier::new(3, None, None).unwrap());
/// let ts: Vec<_> = (0..3)
///     .map(|_| {
///         let b = Arc::clone(&b);
///         std::thread::spawn(move || b.wait().unwrap())
///     })
///     .collect();
/// let mut indices: Vec<usize> = ts.into_iter().map(|t| t.join().unwrap()).collect();
/// indices.sort();
/// assert_eq!(indices, [0, 1, 2]); // each arrival index once
/// ```
pub struct Barrier<B: Backend = Std> {
    /// The lock of CPython's `Condition(Lock())`: every change of `state` happens under it.
    lock: Lock<B>,
    /// `_count << 2 | phase`.
    ///
    /// | bits | meaning |
    /// |---|---|
    /// | 0–1 | `FILLING` (0), `DRAINING` (1), `RESETTING` (2, CPython's −1), `BROKEN` (3, −2) |
    /// | the rest (`ONE` units) | threads inside `wait` |
    ///
    /// Written only under `lock`; read without it by `n_waiting`, `broken` and `Debug`, as
    /// CPython's properties are.
    state: B::Atomic,
    /// The condition's `notify_all` count, and the key its waiters park on. Changed only
    /// under `lock`; a waiter notes it under the lock and parks only while it is unchanged
    /// (a read-modify-write in `validate`), so no `notify_all` is missed.
    notified: B::Atomic,
    parties: usize,
    action: Option<BarrierAction>,
    timeout: Option<f64>,
    tag: B::Tag,
}

impl<B: Backend> fmt::Debug for Barrier<B> {
    /// Like CPython's repr without the address: `<threading.Barrier: waiters=2/3>`, or
    /// `<threading.Barrier: broken>`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let word = self.state.load(SeqCst);
        if word & PHASE == BROKEN {
            f.write_str("<threading.Barrier: broken>")
        } else {
            write!(
                f,
                "<threading.Barrier: waiters={}/{}>",
                n_waiting(word),
                self.parties
            )
        }
    }
}

fn n_waiting(word: usize) -> usize {
    if word & PHASE == FILLING {
        word / ONE
    } else {
        0
    }
}

/// How the last arrival's trip ended.
enum Trip {
    Done(Result<()>),
    /// The action panicked: the barrier is broken, and the panic resumes in this thread.
    Panicked(Box<dyn Any + Send>),
}

impl<B: Backend> Barrier<B> {
    /// `threading.Barrier(parties, action=None, timeout=None)`.
    ///
    /// `timeout` is the default of [`wait`](Barrier::wait) (checked when a wait uses it,
    /// as in CPython). `parties == 0` is `ValueError('parties must be > 0')` (CPython
    /// 3.13+; 3.11 accepts it and every `wait` breaks the barrier).
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::threading::{Barrier, Error};
    ///
    /// assert_eq!(Barrier::new(2, None, Some(5.0)).unwrap().parties(), 2);
    /// assert_eq!(Barrier::new(0, None, None).unwrap_err(), Error::BarrierParties);
    /// ```
    pub fn new(
        parties: usize,
        action: Option<BarrierAction>,
        timeout: Option<f64>,
    ) -> Result<Self> {
        if parties == 0 {
            return Err(Error::BarrierParties);
        }
        let tag = B::Tag::new("Barrier");
        Ok(Barrier {
            lock: Lock::inner(&tag),
            state: B::Atomic::new(FILLING),
            notified: B::Atomic::new(0),
            parties,
            action,
            timeout,
            tag,
        })
    }

    /// Name the barrier in checker traces (no effect on real threads).
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::threading::Barrier;
    ///
    /// let b = Barrier::new(1, None, None).unwrap().with_name("phase");
    /// assert_eq!(b.wait(), Ok(0));
    /// ```
    pub fn with_name(self, name: &str) -> Self {
        self.tag.set_name(name);
        self
    }

    /// The barrier's trace identity.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::threading::Barrier;
    ///
    /// let b = Barrier::new(1, None, None).unwrap();
    /// assert_eq!(std::mem::size_of_val(b.tag()), 0); // real threads keep no trace
    /// ```
    pub fn tag(&self) -> &B::Tag {
        &self.tag
    }

    /// `parties`: the number of threads that trip the barrier.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::threading::Barrier;
    ///
    /// assert_eq!(Barrier::new(4, None, None).unwrap().parties(), 4);
    /// ```
    pub fn parties(&self) -> usize {
        self.parties
    }

    /// `n_waiting`: threads waiting for the barrier to trip (0 while it drains or resets;
    /// `parties` inside the action). Read without the lock, as CPython does, but always
    /// the latest value (see [`broken`](Barrier::broken)).
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::threading::Barrier;
    ///
    /// let b = Barrier::new(2, None, None).unwrap();
    /// assert_eq!(b.n_waiting(), 0);
    /// ```
    pub fn n_waiting(&self) -> usize {
        n_waiting(self.read_state())
    }

    /// `broken`: whether the barrier is broken (a timeout, a failing action, `abort`).
    ///
    /// Read without the lock, as CPython does, with a read-modify-write that changes
    /// nothing: it sees the latest state as a read under the GIL does (under loom a plain
    /// load may read a stale one indefinitely, and a model polling it would report a
    /// false alarm).
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::threading::Barrier;
    ///
    /// let b = Barrier::new(2, None, None).unwrap();
    /// b.abort();
    /// assert!(b.broken());
    /// ```
    pub fn broken(&self) -> bool {
        self.read_state() & PHASE == BROKEN
    }

    fn read_state(&self) -> usize {
        self.state.fetch_add(0, SeqCst)
    }

    /// `wait()`: wait for the barrier to trip, with the constructor's default timeout.
    /// Returns this thread's arrival index, `0..parties`; see [`wait_timeout`](Barrier::wait_timeout).
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::threading::Barrier;
    ///
    /// let b = Barrier::new(1, None, None).unwrap();
    /// assert_eq!(b.wait(), Ok(0)); // the only party: passes at once
    /// ```
    pub fn wait(&self) -> Result<usize> {
        self.wait_timeout(None)
    }

    /// `wait(timeout)`: wait at most `timeout` seconds (`None`: the constructor's default)
    /// for the barrier to trip; returns this thread's arrival index.
    ///
    /// Errors: `BrokenBarrierError` if the barrier is or becomes broken or is reset while
    /// waiting, or this wait times out (which breaks it); the action's error for the thread
    /// that ran a failing action; `OverflowError('timestamp out of range for platform
    /// time_t')` for a timeout too large to wait on (the barrier stays unbroken).
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::threading::{Barrier, Error};
    ///
    /// let b = Barrier::new(2, None, None).unwrap();
    /// assert_eq!(b.wait_timeout(Some(0.01)), Err(Error::BrokenBarrier)); // nobody came
    /// assert!(b.broken());
    /// ```
    pub fn wait_timeout(&self, timeout: Option<f64>) -> Result<usize> {
        let r = self.wait_raw(timeout.or(self.timeout));
        B::record(&self.tag, || {
            // `parties` and whether there is an action travel with every wait, for the
            // barrier-generation monitor (Python spells the timeout only).
            let args = Args::new()
                .int("parties", self.parties as i64)
                .int("action", i64::from(self.action.is_some()));
            let args = match timeout {
                Some(t) => args.secs("timeout", t),
                None => args,
            };
            let outcome = match &r {
                Ok(i) => Outcome::Int(*i as i64),
                Err(e) => Outcome::Error(e.python_repr()),
            };
            Record::with_args("wait", args, outcome)
        });
        r
    }

    /// `reset()`: back to the empty state. Threads waiting get `BrokenBarrierError`; once
    /// they have left, the barrier is usable again and not broken. With nobody inside, a
    /// broken barrier is repaired at once. During draining it changes nothing.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::threading::Barrier;
    ///
    /// let b = Barrier::new(2, None, None).unwrap();
    /// b.abort();
    /// b.reset();
    /// assert!(!b.broken());
    /// ```
    pub fn reset(&self) {
        self.enter("reset");
        let word = self.state.load(SeqCst);
        let count = word / ONE;
        if count > 0 {
            if matches!(word & PHASE, FILLING | BROKEN) {
                self.put(RESETTING, count);
            }
        } else {
            self.put(FILLING, 0);
        }
        self.notify_all();
        self.leave();
        B::record(&self.tag, || Record::new("reset", Outcome::Done));
    }

    /// `abort()`: break the barrier. Threads waiting and later `wait` calls get
    /// `BrokenBarrierError` until [`reset`](Barrier::reset). Aborting twice is harmless.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::threading::{Barrier, Error};
    ///
    /// let b = Barrier::new(2, None, None).unwrap();
    /// b.abort();
    /// assert_eq!(b.wait(), Err(Error::BrokenBarrier));
    /// ```
    pub fn abort(&self) {
        self.enter("abort");
        self.break_barrier();
        self.leave();
        B::record(&self.tag, || Record::new("abort", Outcome::Done));
    }

    // ---- internals: CPython's `wait`, `_enter`, `_release`, `_wait`, `_exit` ----------

    fn wait_raw(&self, timeout: Option<f64>) -> Result<usize> {
        self.enter("wait");
        // _enter: wait while the previous generation drains or a reset completes.
        while matches!(self.state.load(SeqCst) & PHASE, DRAINING | RESETTING) {
            self.cond_wait(Wait::Forever);
        }
        let word = self.state.load(SeqCst);
        if word & PHASE == BROKEN {
            self.leave();
            return Err(Error::BrokenBarrier);
        }
        let index = word / ONE;
        self.put(FILLING, index + 1);
        let trip = if index + 1 == self.parties {
            self.trip()
        } else {
            Trip::Done(self.await_trip(timeout))
        };
        // finally: _count -= 1; _exit().
        let word = self.state.load(SeqCst);
        // (saturating: under a failed checked execution the atomics read 0)
        let count = (word / ONE).saturating_sub(1);
        let phase = word & PHASE;
        if count == 0 && matches!(phase, DRAINING | RESETTING) {
            self.put(FILLING, 0);
            self.notify_all();
        } else {
            self.put(phase, count);
        }
        self.leave();
        match trip {
            Trip::Done(r) => r.map(|()| index),
            Trip::Panicked(p) => resume_unwind(p),
        }
    }

    /// `_release`: the last arrival runs the action and releases the generation.
    fn trip(&self) -> Trip {
        if let Some(action) = &self.action {
            let ran = catch_unwind(AssertUnwindSafe(action));
            // Traced where it runs: in the last arrival, before any party is released.
            B::record(&self.tag, || {
                Record::new(
                    "action",
                    match &ran {
                        Ok(Ok(())) => Outcome::Done,
                        Ok(Err(text)) => Outcome::Error(text.clone()),
                        Err(_) => Outcome::Error("panic".to_owned()),
                    },
                )
            });
            match ran {
                Ok(Ok(())) => {}
                Ok(Err(text)) => {
                    self.break_barrier();
                    return Trip::Done(Err(Error::BarrierAction(text)));
                }
                Err(panic) => {
                    // CPython breaks the barrier for any exception, BaseException included.
                    self.break_barrier();
                    return Trip::Panicked(panic);
                }
            }
        }
        let count = self.state.load(SeqCst) / ONE;
        self.put(DRAINING, count);
        self.notify_all();
        Trip::Done(Ok(()))
    }

    /// `_wait`: `wait_for(lambda: state != filling, timeout)`, breaking the barrier if it
    /// times out.
    fn await_trip(&self, timeout: Option<f64>) -> Result<()> {
        let mut deadline = DeadlineLoop::new(timeout);
        let phase = loop {
            let phase = self.state.load(SeqCst) & PHASE;
            if phase != FILLING {
                break phase;
            }
            match deadline.next_wait::<B>()? {
                Next::Expired => {
                    self.break_barrier();
                    return Err(Error::BrokenBarrier);
                }
                Next::Wait(wait) => self.cond_wait(wait),
            }
        };
        if phase == DRAINING {
            Ok(())
        } else {
            Err(Error::BrokenBarrier)
        }
    }

    /// `_break`: broken, and wake everyone.
    fn break_barrier(&self) {
        let count = self.state.load(SeqCst) / ONE;
        self.put(BROKEN, count);
        self.notify_all();
    }

    // ---- the condition: lock, wait, notify_all -------------------------------------

    fn enter(&self, op: &'static str) {
        self.lock
            .acquire_raw(Wait::Forever, &self.tag, op, WaitKind::Lock);
    }

    fn leave(&self) {
        // Held by this thread since `enter`, so the release cannot fail.
        let _ = self.lock.release_raw();
    }

    /// Store the state (the lock is held).
    ///
    /// A swap, not a store: `n_waiting` and `broken` read the word with a
    /// read-modify-write from outside the lock, and loom orders a plain store only after
    /// what its thread has seen, so such a read that wrote back an older value could stay
    /// "newest" beside this store and be read again later (a stale state no real machine
    /// shows). Every write of the word being a read-modify-write keeps loom's
    /// modification order a chain.
    fn put(&self, phase: usize, count: usize) {
        self.state.swap((count * ONE) | phase, SeqCst);
    }

    /// `Condition.notify_all()` (the lock is held).
    fn notify_all(&self) {
        self.notified.fetch_add(1, SeqCst);
        B::unpark_all(&self.notified);
    }

    /// `Condition.wait(timeout)` (the lock is held on entry and on return): release the
    /// lock, sleep until a `notify_all` or the deadline (a poll only lets others run),
    /// take the lock again. The caller re-checks its predicate, as `wait_for` does.
    fn cond_wait(&self, wait: Wait) {
        // Under the lock, and every change is made under it: this load sees the latest.
        let seen = self.notified.load(SeqCst);
        self.leave();
        // A party waiting for the draining parties to leave waits for threads that are
        // already running: spin briefly before parking (never under a checker).
        let mut spins = 0;
        let mut notified = false;
        while wait != Wait::Poll && !notified && B::spin(&mut spins) {
            notified = self.notified.load(SeqCst) != seen;
        }
        if wait != Wait::Poll && !notified {
            let req = ParkRequest {
                key: self.key(),
                tag: &self.tag,
                op: "wait",
                kind: WaitKind::Barrier,
                deadline: wait.deadline::<B>(),
            };
            // A read-modify-write, not a load: a `notify_all` that ran after the lock was
            // released must be seen (see `Lock::acquire_slow`).
            let not_notified = || self.notified.fetch_add(0, SeqCst) == seen;
            let _ = B::park(req, not_notified);
        }
        self.enter("wait");
    }

    #[inline]
    fn key(&self) -> usize {
        &self.notified as *const B::Atomic as usize
    }
}

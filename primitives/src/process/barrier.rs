//! `multiprocessing.Barrier`: `threading.Barrier`'s algorithm over a multiprocessing
//! `Condition(RLock())`, with `_state` and `_count` in shared memory.

use super::handle::{next, shareable, HandleError, Parts};
use super::semlock::{alloc, tag_of};
use super::Condition;
use crate::backend::process::ProcessBackend;
use crate::backend::{Args, ObjectTag, Outcome, RawAtomic, Record, Std};
use crate::error::{Error, Result};
use crate::BarrierAction;
use std::fmt;
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::sync::atomic::Ordering::SeqCst;

/// The shared words.
///
/// | word | meaning |
/// |---|---|
/// | `STATE` | CPython's `_state`: 0 filling, 1 draining, −1 resetting, −2 broken (as `isize`) |
/// | `COUNT` | CPython's `_count`: parties inside `wait` |
/// | `PARTIES` | `parties` (so that a process opening a handle knows it) |
/// | `TIMEOUT` | the default timeout's bits (`f64`), if `HAS_TIMEOUT` is 1 |
const STATE: usize = 0;
const COUNT: usize = 1;
const PARTIES: usize = 2;
const TIMEOUT: usize = 3;
const HAS_TIMEOUT: usize = 4;
const WORDS: usize = 5;

const FILLING: isize = 0;
const DRAINING: isize = 1;
const RESETTING: isize = -1;
const BROKEN: isize = -2;

/// Python's `multiprocessing.Barrier(parties, action=None, timeout=None)` (CPython 3.11;
/// SEMANTICS.md §10.9): a subclass of `threading.Barrier` whose whole algorithm (§8.3–8.5)
/// runs unchanged over a multiprocessing [`Condition`] with its default **RLock**, so it
/// inherits that condition's traits (a `notify_all` that waits for the woken to
/// acknowledge).
///
/// - The action runs in whichever process arrives last; it is this process's handle's
///   action ([`with_action`](Barrier::with_action) after [`open`](Barrier::open)).
/// - `parties == 0` is accepted, as in 3.11 (every `wait` then waits for its timeout and
///   breaks the barrier).
/// - Errors: `BrokenBarrierError` ([`Error::BrokenBarrier`]) as in `threading`; an
///   `OSError` EINVAL for an `inf`/NaN timeout (from the condition's wait).
///
/// # Examples
///
/// ```
/// use lockproof::multiprocessing::Barrier;
/// use lockproof::Error;
///
/// let b = Barrier::new(2, None, None);
/// assert_eq!(b.wait_timeout(Some(0.05)), Err(Error::BrokenBarrier)); // alone: breaks
/// assert!(b.broken());
/// b.reset();
/// assert!(!b.broken());
/// assert_eq!((b.parties(), b.n_waiting()), (2, 0));
/// ```
pub struct Barrier<B: ProcessBackend = Std> {
    cond: Condition<B>,
    mem: B::Memory,
    action: Option<BarrierAction>,
    tag: B::Tag,
}

impl<B: ProcessBackend> Barrier<B> {
    /// `multiprocessing.Barrier(parties, action=None, timeout=None)`.
    ///
    /// # Panics
    ///
    /// If the OS refuses shared memory.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::multiprocessing::Barrier;
    ///
    /// let b = Barrier::new(2, None, Some(5.0));
    /// assert_eq!((b.parties(), b.timeout()), (2, Some(5.0)));
    /// ```
    pub fn new(parties: usize, action: Option<BarrierAction>, timeout: Option<f64>) -> Self {
        let mem = alloc::<B>(WORDS).unwrap_or_else(|e| panic!("multiprocessing.Barrier(): {e}"));
        mem[PARTIES].store(parties, SeqCst);
        if let Some(t) = timeout {
            mem[TIMEOUT].store(t.to_bits() as usize, SeqCst);
            mem[HAS_TIMEOUT].store(1, SeqCst);
        }
        Barrier {
            cond: Condition::new(),
            tag: tag_of::<B>("mp.Barrier", &mem),
            mem,
            action,
        }
    }

    /// This process's action for the barrier (run when a party of this process arrives
    /// last); a reopened or opened barrier has none until given one.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::multiprocessing::Barrier;
    /// use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
    /// use std::sync::Arc;
    ///
    /// let runs = Arc::new(AtomicUsize::new(0));
    /// let r = runs.clone();
    /// let b = Barrier::new(1, None, None).with_action(Box::new(move || {
    ///     r.fetch_add(1, SeqCst);
    ///     Ok(())
    /// }));
    /// assert_eq!(b.wait(), Ok(0));
    /// assert_eq!(runs.load(SeqCst), 1); // run by the last (here: only) arrival
    /// ```
    pub fn with_action(mut self, action: BarrierAction) -> Self {
        self.action = Some(action);
        self
    }

    /// Name the barrier in checker traces (no effect on real processes).
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::multiprocessing::Barrier;
    ///
    /// let b = Barrier::new(1, None, None).with_name("phase"); // how a checker trace calls it
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
    /// use lockproof::multiprocessing::Barrier;
    ///
    /// // Real processes keep no trace: the tag is zero-sized.
    /// assert_eq!(std::mem::size_of_val(Barrier::new(1, None, None).tag()), 0);
    /// ```
    pub fn tag(&self) -> &B::Tag {
        &self.tag
    }

    fn state(&self) -> isize {
        self.mem[STATE].fetch_add(0, SeqCst) as isize
    }

    fn set_state(&self, s: isize) {
        self.mem[STATE].swap(s as usize, SeqCst);
    }

    fn count(&self) -> usize {
        self.mem[COUNT].fetch_add(0, SeqCst)
    }

    fn set_count(&self, c: usize) {
        self.mem[COUNT].swap(c, SeqCst);
    }

    /// `parties`.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::multiprocessing::Barrier;
    ///
    /// let b = Barrier::new(3, None, None);
    /// b.abort();
    /// assert_eq!(b.parties(), 3); // fixed for its lifetime
    /// ```
    pub fn parties(&self) -> usize {
        self.mem[PARTIES].load(SeqCst)
    }

    /// The constructor's default timeout.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::multiprocessing::Barrier;
    ///
    /// assert_eq!(Barrier::new(2, None, None).timeout(), None);
    /// assert_eq!(Barrier::new(2, None, Some(0.5)).timeout(), Some(0.5));
    /// ```
    pub fn timeout(&self) -> Option<f64> {
        (self.mem[HAS_TIMEOUT].load(SeqCst) == 1)
            .then(|| f64::from_bits(self.mem[TIMEOUT].load(SeqCst) as u64))
    }

    /// `n_waiting`: `_count` while filling, else 0 (read without the lock, as CPython).
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::multiprocessing::Barrier;
    /// use std::sync::Arc;
    ///
    /// let b = Arc::new(Barrier::new(2, None, None));
    /// let b2 = b.clone();
    /// let first = std::thread::spawn(move || b2.wait());
    /// while b.n_waiting() < 1 {
    ///     std::thread::yield_now(); // until the first party waits
    /// }
    /// assert_eq!(b.wait(), Ok(1)); // the second arrival trips it
    /// assert_eq!(first.join().unwrap(), Ok(0));
    /// assert_eq!(b.n_waiting(), 0);
    /// ```
    pub fn n_waiting(&self) -> usize {
        if self.state() == FILLING {
            self.count()
        } else {
            0
        }
    }

    /// `broken`: `_state == -2`.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::multiprocessing::Barrier;
    ///
    /// let b = Barrier::new(2, None, None);
    /// assert!(!b.broken());
    /// b.abort();
    /// assert!(b.broken());
    /// ```
    pub fn broken(&self) -> bool {
        self.state() == BROKEN
    }

    /// `wait()`: with the default timeout; the arrival index.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::multiprocessing::Barrier;
    /// use lockproof::Error;
    ///
    /// let b = Barrier::new(2, None, Some(0.01)); // the default timeout
    /// assert_eq!(b.wait(), Err(Error::BrokenBarrier)); // alone: timed out, and broke it
    /// ```
    pub fn wait(&self) -> Result<usize> {
        self.wait_timeout(None)
    }

    /// `wait(timeout)`: the arrival index `0..parties`, or `BrokenBarrierError`.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::multiprocessing::Barrier;
    /// use lockproof::Error;
    ///
    /// let b = Barrier::new(1, None, None);
    /// assert_eq!(b.wait_timeout(Some(1.0)), Ok(0));
    /// let b = Barrier::new(2, None, None);
    /// assert_eq!(b.wait_timeout(Some(0.01)), Err(Error::BrokenBarrier));
    /// assert!(b.broken());
    /// ```
    pub fn wait_timeout(&self, timeout: Option<f64>) -> Result<usize> {
        let timeout = timeout.or(self.timeout());
        let r = {
            let _g = self.cond.lock();
            self.wait_locked(timeout)
        };
        B::record(&self.tag, || {
            let args = Args::new().int("parties", self.parties() as i64);
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

    fn wait_locked(&self, timeout: Option<f64>) -> Result<usize> {
        self.enter()?; // Block while the barrier drains.
        let index = self.count();
        self.set_count(index + 1);
        let r = if index + 1 == self.parties() {
            // We release the barrier
            self.release()
        } else {
            // We wait until someone releases us
            Ok(self.wait_trip(timeout))
        };
        // finally
        self.set_count(self.count().saturating_sub(1));
        // Wake up any threads waiting for barrier to drain.
        let exit = self.exit();
        match r {
            Ok(Ok(())) => exit.map(|()| index),
            Ok(Err(e)) => Err(e),
            Err(panic) => resume_unwind(panic),
        }
    }

    /// `_enter`.
    fn enter(&self) -> Result<()> {
        while matches!(self.state(), RESETTING | DRAINING) {
            // It is draining or resetting, wait until done
            self.cond.wait(None)?;
        }
        // see if the barrier is in a broken state
        if self.state() < 0 {
            return Err(Error::BrokenBarrier);
        }
        Ok(())
    }

    /// `_release`: the action, then draining. The outer `Err` is a panicking action.
    #[allow(clippy::type_complexity)]
    fn release(&self) -> std::result::Result<Result<()>, Box<dyn std::any::Any + Send>> {
        if let Some(action) = &self.action {
            match catch_unwind(AssertUnwindSafe(action)) {
                Ok(Ok(())) => {}
                Ok(Err(text)) => {
                    // an exception during the _action handler. Break and reraise
                    return Ok(self.break_barrier().and(Err(Error::BarrierAction(text))));
                }
                Err(panic) => {
                    let _ = self.break_barrier();
                    return Err(panic);
                }
            }
        }
        // enter draining state
        self.set_state(DRAINING);
        Ok(self.cond.notify_all())
    }

    /// `_wait`.
    fn wait_trip(&self, timeout: Option<f64>) -> Result<()> {
        if !self.cond.wait_for(|| self.state() != FILLING, timeout)? {
            // timed out. Break the barrier
            self.break_barrier()?;
            return Err(Error::BrokenBarrier);
        }
        if self.state() < 0 {
            return Err(Error::BrokenBarrier);
        }
        Ok(())
    }

    /// `_exit`.
    fn exit(&self) -> Result<()> {
        if self.count() == 0 && matches!(self.state(), RESETTING | DRAINING) {
            // resetting or draining
            self.set_state(FILLING);
            self.cond.notify_all()?;
        }
        Ok(())
    }

    /// `reset()`: back to filling; waiting parties get `BrokenBarrierError`.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::multiprocessing::Barrier;
    ///
    /// let b = Barrier::new(1, None, None);
    /// b.abort();
    /// b.reset(); // repaired
    /// assert!(!b.broken());
    /// assert_eq!(b.wait(), Ok(0));
    /// ```
    pub fn reset(&self) {
        {
            let _g = self.cond.lock();
            if self.count() > 0 {
                if self.state() == FILLING || self.state() == BROKEN {
                    // reset the barrier, waking up threads (or: was broken, set it to
                    // reset state, which clears when the last thread exits)
                    self.set_state(RESETTING);
                }
            } else {
                self.set_state(FILLING);
            }
            let _ = self.cond.notify_all();
        }
        B::record(&self.tag, || Record::new("reset", Outcome::Done));
    }

    /// `abort()`: break the barrier.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::multiprocessing::Barrier;
    /// use lockproof::Error;
    ///
    /// let b = Barrier::new(1, None, None);
    /// b.abort();
    /// assert_eq!(b.wait(), Err(Error::BrokenBarrier)); // until reset()
    /// ```
    pub fn abort(&self) {
        {
            let _g = self.cond.lock();
            let _ = self.break_barrier();
        }
        B::record(&self.tag, || Record::new("abort", Outcome::Done));
    }

    /// `_break`.
    fn break_barrier(&self) -> Result<()> {
        self.set_state(BROKEN);
        self.cond.notify_all()
    }
}

impl<B: ProcessBackend> fmt::Debug for Barrier<B> {
    /// `threading.Barrier`'s repr without the address:
    /// `<multiprocessing.synchronize.Barrier: waiters=0/2>` or `…: broken>`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.broken() {
            f.write_str("<multiprocessing.synchronize.Barrier: broken>")
        } else {
            write!(
                f,
                "<multiprocessing.synchronize.Barrier: waiters={}/{}>",
                self.n_waiting(),
                self.parties()
            )
        }
    }
}

impl<B: ProcessBackend> Parts<B> for Barrier<B> {
    fn parts(&self, out: &mut Vec<B::Memory>) {
        self.cond.parts(out);
        out.push(self.mem.clone());
    }
    fn from_parts(parts: &mut dyn Iterator<Item = B::Memory>) -> Result<Self, HandleError> {
        let cond = Condition::from_parts(parts)?;
        let mem = next::<B>(parts)?;
        if mem.len() != WORDS {
            return Err(HandleError::Mismatch("not a Barrier"));
        }
        Ok(Barrier {
            cond,
            tag: tag_of::<B>("mp.Barrier", &mem),
            mem,
            action: None,
        })
    }
}

shareable!(Barrier, "Barrier::new(2, None, None)");

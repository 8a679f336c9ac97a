//! `multiprocessing.Event`: `Condition(Lock())` plus a `Semaphore(0)` flag.

use super::condition::outcome;
use super::handle::{next, shareable, HandleError, Parts};
use super::semlock::{alloc, tag_of, Kind, SemLock, SEMLOCK_WORDS};
use super::{Condition, Lock};
use crate::backend::process::{ProcessBackend, SEM_VALUE_MAX};
use crate::backend::{Args, ObjectTag, Outcome, Record, Std};
use crate::error::Result;
use std::fmt;

/// Python's `multiprocessing.Event()` (CPython 3.11; SEMANTICS.md §10.8).
///
/// A [`Condition`] over a [`Lock`] plus a semaphore used as the flag (value 0 or 1):
///
/// - [`is_set`](Event::is_set) **takes the condition's lock** (so it can block), and tests
///   the flag by taking and giving back its token;
/// - [`set`](Event::set) makes the flag exactly 1, then `notify_all()` — which blocks until
///   every waiter has woken;
/// - [`wait`](Event::wait) returns at once if the flag is set, else waits on the condition,
///   then **reads the flag again** and returns that: after `set(); clear()` before the
///   waiters resume, they return `false` (check 146; `threading.Event` returns `True`).
///
/// # Examples
///
/// ```
/// use lockproof::multiprocessing::Event;
///
/// let e = Event::new();
/// assert_eq!(e.wait(Some(0.0)), Ok(false));
/// e.set();
/// assert_eq!(e.wait(None), Ok(true));
/// assert!(e.is_set());
/// assert!(format!("{e:?}").starts_with("<Event at 0x"));
/// assert!(format!("{e:?}").ends_with(" set>"));
/// ```
pub struct Event<B: ProcessBackend = Std> {
    cond: Condition<B>,
    flag: SemLock<B>,
    tag: B::Tag,
}

impl<B: ProcessBackend> Default for Event<B> {
    fn default() -> Self {
        Self::new()
    }
}

impl<B: ProcessBackend> Event<B> {
    /// `multiprocessing.Event()`: not set.
    ///
    /// # Panics
    ///
    /// If the OS refuses shared memory.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::multiprocessing::Event;
    ///
    /// let e = Event::new();
    /// assert!(!e.is_set());
    /// ```
    pub fn new() -> Self {
        let cond = Condition::with_lock(Lock::new());
        let mem =
            alloc::<B>(SEMLOCK_WORDS).unwrap_or_else(|e| panic!("multiprocessing.Event(): {e}"));
        let tag = tag_of::<B>("mp.Event", &mem);
        let flag = SemLock::create(mem, 0, Kind::Semaphore, 0, SEM_VALUE_MAX, tag.alias());
        Event { cond, flag, tag }
    }

    /// Name the event in checker traces (no effect on real processes).
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::multiprocessing::Event;
    ///
    /// let e = Event::new().with_name("ready"); // how a checker trace calls it
    /// e.set();
    /// assert!(e.is_set());
    /// ```
    pub fn with_name(self, name: &str) -> Self {
        self.tag.set_name(name);
        self
    }

    /// The event's trace identity.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::multiprocessing::Event;
    ///
    /// // Real processes keep no trace: the tag is zero-sized.
    /// assert_eq!(std::mem::size_of_val(Event::new().tag()), 0);
    /// ```
    pub fn tag(&self) -> &B::Tag {
        &self.tag
    }

    /// Waiters asleep in [`wait`](Event::wait): its condition's sleepers minus woken (what
    /// `repr(event._cond)` shows). Not a Python method: a test's way to know that waiters
    /// are blocked, without sleeping.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::multiprocessing::Event;
    /// use std::sync::Arc;
    ///
    /// let e = Arc::new(Event::new());
    /// let e2 = e.clone();
    /// let waiter = std::thread::spawn(move || e2.wait(None));
    /// while e.n_waiters() < 1 {
    ///     std::thread::yield_now(); // until the waiter is asleep: no sleep needed
    /// }
    /// e.set();
    /// assert_eq!(waiter.join().unwrap(), Ok(true));
    /// assert_eq!(e.n_waiters(), 0);
    /// ```
    pub fn n_waiters(&self) -> isize {
        self.cond.n_waiters()
    }

    fn flag_is_set(&self) -> bool {
        // `if self._flag.acquire(False): self._flag.release(); return True`
        if self.flag.acquire_raw(false, None).unwrap_or(false) {
            let _ = self.flag.release();
            true
        } else {
            false
        }
    }

    /// `is_set()`: under the condition's lock.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::multiprocessing::Event;
    ///
    /// let e = Event::new();
    /// e.set();
    /// assert!(e.is_set());
    /// e.clear();
    /// assert!(!e.is_set());
    /// ```
    pub fn is_set(&self) -> bool {
        let set = {
            let _g = self.cond.lock();
            self.flag_is_set()
        };
        B::record(&self.tag, || Record::new("is_set", Outcome::Bool(set)));
        set
    }

    /// `set()`: the flag to 1, then `notify_all()` (blocking until every waiter woke).
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::multiprocessing::Event;
    ///
    /// let e = Event::new();
    /// e.set();
    /// e.set(); // idempotent
    /// assert_eq!(e.wait(Some(0.0)), Ok(true));
    /// ```
    pub fn set(&self) {
        let _g = self.cond.lock();
        let _ = self.flag.acquire_raw(false, None);
        let _ = self.flag.release_state().map(|wake| {
            B::record(&self.tag, || Record::new("set", Outcome::Done));
            if wake {
                self.flag.wake();
            }
        });
        // We hold the lock, and the wait semaphore holds no token: it cannot fail.
        let _ = self.cond.notify_all();
    }

    /// `clear()`: take the flag's token, if any.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::multiprocessing::Event;
    ///
    /// let e = Event::new();
    /// e.set();
    /// e.clear();
    /// assert_eq!(e.wait(Some(0.01)), Ok(false));
    /// ```
    pub fn clear(&self) {
        let _g = self.cond.lock();
        let _ = self.flag.acquire_raw(false, None);
        B::record(&self.tag, || Record::new("clear", Outcome::Done));
    }

    /// `wait(timeout=None)`: the flag as read after the wait. A negative timeout is 0;
    /// `OSError` EINVAL for an `inf`/NaN timeout when it must wait.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::multiprocessing::Event;
    /// use lockproof::Error;
    ///
    /// let e = Event::new();
    /// assert_eq!(e.wait(Some(0.01)), Ok(false)); // timed out
    /// assert_eq!(e.wait(Some(-1.0)), Ok(false)); // negative: 0
    /// assert_eq!(e.wait(Some(f64::INFINITY)), Err(Error::os(22))); // must wait: OSError
    /// e.set();
    /// assert_eq!(e.wait(Some(f64::INFINITY)), Ok(true)); // set: no wait, no error
    /// ```
    pub fn wait(&self, timeout: Option<f64>) -> Result<bool> {
        let r = self.wait_inner(timeout);
        B::record(&self.tag, || {
            let args = match timeout {
                Some(t) => Args::new().secs("timeout", t),
                None => Args::new(),
            };
            Record::with_args("wait", args, outcome(&r))
        });
        r
    }

    fn wait_inner(&self, timeout: Option<f64>) -> Result<bool> {
        let _g = self.cond.lock();
        if !self.flag_is_set() {
            self.cond.wait(timeout)?;
        }
        Ok(self.flag_is_set())
    }
}

impl<B: ProcessBackend> fmt::Debug for Event<B> {
    /// CPython's repr: `<Event at 0x… set>` / `<Event at 0x… unset>` (no colon). Reading
    /// the flag takes the lock, as `is_set` does.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let set = {
            let _g = self.cond.lock();
            self.flag_is_set()
        };
        let state = if set { "set" } else { "unset" };
        write!(f, "<Event at {:#x} {state}>", self as *const Self as usize)
    }
}

impl<B: ProcessBackend> Parts<B> for Event<B> {
    fn parts(&self, out: &mut Vec<B::Memory>) {
        self.cond.parts(out);
        out.push(self.flag.memory().clone());
    }
    fn from_parts(parts: &mut dyn Iterator<Item = B::Memory>) -> Result<Self, HandleError> {
        let cond = Condition::from_parts(parts)?;
        let mem = next::<B>(parts)?;
        let tag = tag_of::<B>("mp.Event", &mem);
        let flag = SemLock::attach(mem, 0, tag.alias())?;
        Ok(Event { cond, flag, tag })
    }
}

shareable!(Event, "Event::new()");

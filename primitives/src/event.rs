//! `threading.Event`: a flag that threads wait to see set.

use crate::backend::{
    Args, Backend, ObjectTag, Outcome, ParkRequest, ParkResult, RawAtomic, Record as TraceEvent,
    Std, WaitKind,
};
use crate::error::Result;
use crate::timeout::Wait;
use std::fmt;
use std::sync::atomic::Ordering::SeqCst;

/// The flag.
const SET: usize = 1;
/// Some thread may be parked in `wait`: `set` must wake them.
const WAITERS: usize = 2;
/// One `set` (of a clear flag): the rest of the word counts them.
const EPOCH: usize = 4;

#[inline]
fn epoch(word: usize) -> usize {
    word & !(SET | WAITERS)
}

/// Python's `threading.Event` (CPython 3.11, `Lib/threading.py`; `primitives/SEMANTICS.md` §7).
///
/// A flag, initially clear. [`set`](Event::set) sets it and wakes every waiting thread;
/// [`clear`](Event::clear) clears it and wakes nobody; [`wait`](Event::wait) returns at once
/// if it is set and otherwise waits for a `set`.
///
/// - `wait` returns whether **this wait was ended by a `set`**, not whether the flag is set
///   when it returns (CPython returns the result of its `Condition.wait`): a thread that was
///   waiting when `set()` ran returns `true` even if `clear()` ran before it woke
///   (bpo-13502, checks 97 and 98).
/// - Timeouts follow `Event.wait`'s convention (`primitives/SEMANTICS.md` §1.2): `None` waits forever,
///   zero, negative and NaN poll, and a timeout too large to wait on is an `OverflowError`
///   only when the flag is clear.
/// - `wait` never returns spuriously.
/// - Not a context manager, as in Python.
///
/// | Python | Rust |
/// |---|---|
/// | `Event()` | [`Event::new`] |
/// | `is_set()` | [`Event::is_set`] |
/// | `set()` | [`Event::set`] |
/// | `clear()` | [`Event::clear`] |
/// | `wait()` / `wait(timeout)` | [`Event::wait`] (`None` / `Some(t)`) |
///
/// # Examples
///
/// ```
/// use lockproof::threading::Event;
/// use std::sync::Arc;
///
/// let ready = Arc::new(Event::new());
/// let r2 = Arc::clone(&ready);
/// let waiter = std::thread::spawn(move || r2.wait(None).unwrap());
/// ready.set();
/// assert!(waiter.join().unwrap());
/// ```
pub struct Event<B: Backend = Std> {
    /// The state word.
    ///
    /// | bits | meaning |
    /// |---|---|
    /// | `SET` (bit 0) | the flag |
    /// | `WAITERS` (bit 1) | a thread may be parked in `wait`; only `set` clears it (and wakes them) |
    /// | the rest (`EPOCH` units) | how many times `set` found the flag clear (wrapping) |
    ///
    /// A waiter notes the epoch when it sees the flag clear; it was woken by a `set` iff
    /// the epoch moved since. It parks only if the epoch has not moved (a read-modify-write
    /// in `validate`), so a `set` cannot slip between its check and its sleep.
    state: B::Atomic,
    tag: B::Tag,
}

impl<B: Backend> Default for Event<B> {
    fn default() -> Self {
        Self::new()
    }
}

impl<B: Backend> fmt::Debug for Event<B> {
    /// Like CPython's repr without the address: `<threading.Event: unset>` or
    /// `<threading.Event: set>`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = if self.state.load(SeqCst) & SET != 0 {
            "set"
        } else {
            "unset"
        };
        write!(f, "<threading.Event: {state}>")
    }
}

impl<B: Backend> Event<B> {
    /// `threading.Event()`: a new event, its flag clear.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::threading::Event;
    ///
    /// let e = Event::new();
    /// assert!(!e.is_set());
    /// ```
    pub fn new() -> Self {
        Event {
            state: B::Atomic::new(0),
            tag: B::Tag::new("Event"),
        }
    }

    /// Name the event in checker traces (no effect on real threads).
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::threading::Event;
    ///
    /// let e = Event::new().with_name("started");
    /// assert!(!e.is_set());
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
    /// use lockproof::threading::Event;
    ///
    /// let e = Event::new();
    /// assert_eq!(std::mem::size_of_val(e.tag()), 0); // real threads keep no trace
    /// ```
    pub fn tag(&self) -> &B::Tag {
        &self.tag
    }

    /// `is_set()`: the flag (read without any lock, as CPython does).
    ///
    /// The read is a read-modify-write that changes nothing, so it always sees the latest
    /// `set`/`clear`, as a read under CPython's GIL does. A plain load would be free on
    /// x86, but loom may let it read a stale flag indefinitely, so a model polling
    /// `while !e.is_set()` would report a false alarm.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::threading::Event;
    ///
    /// let e = Event::new();
    /// e.set();
    /// assert!(e.is_set());
    /// ```
    pub fn is_set(&self) -> bool {
        let set = self.state.fetch_add(0, SeqCst) & SET != 0;
        B::record(&self.tag, || TraceEvent::new("is_set", Outcome::Bool(set)));
        set
    }

    /// `set()`: set the flag and wake every waiting thread. Setting a set event does
    /// nothing.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::threading::Event;
    ///
    /// let e = Event::new();
    /// e.set();
    /// assert_eq!(e.wait(None), Ok(true)); // returns at once
    /// ```
    pub fn set(&self) {
        // A read-modify-write: a stale "already set" would skip waking a thread that
        // parked after a `clear`.
        let mut cur = self.state.fetch_add(0, SeqCst);
        let mut wake = false;
        while cur & SET == 0 {
            let new = epoch(cur).wrapping_add(EPOCH) | SET;
            match self.state.compare_exchange(cur, new, SeqCst, SeqCst) {
                Ok(_) => {
                    wake = cur & WAITERS != 0;
                    break;
                }
                Err(actual) => cur = actual,
            }
        }
        // Traced at the set itself, before its waiters are woken.
        B::record(&self.tag, || TraceEvent::new("set", Outcome::Done));
        if wake {
            B::unpark_all(&self.state);
        }
    }

    /// `clear()`: clear the flag. Wakes nobody; threads woken by an earlier `set` still
    /// return `true`.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::threading::Event;
    ///
    /// let e = Event::new();
    /// e.set();
    /// e.clear();
    /// assert_eq!(e.wait(Some(0.0)), Ok(false));
    /// ```
    pub fn clear(&self) {
        // A read-modify-write: a stale "already clear" (under loom, the initial value)
        // would skip the clear.
        let mut cur = self.state.fetch_add(0, SeqCst);
        while cur & SET != 0 {
            match self.state.compare_exchange(cur, cur & !SET, SeqCst, SeqCst) {
                Ok(_) => break,
                Err(actual) => cur = actual,
            }
        }
        B::record(&self.tag, || TraceEvent::new("clear", Outcome::Done));
    }

    /// `wait(timeout)`: `true` at once if the flag is set (whatever the timeout, even one
    /// too large to wait on: check 95); otherwise wait for a `set`, and return `true` if
    /// one ended the wait, `false` if the timeout did.
    ///
    /// `None` waits forever; `Some(t)` with `t > 0` waits at most `t` seconds; zero,
    /// negative and NaN timeouts poll (`false` on a clear flag). A timeout too large to
    /// wait on (above [`TIMEOUT_MAX`](crate::TIMEOUT_MAX), or infinite) on a clear flag is
    /// `OverflowError('timestamp out of range for platform time_t')` (check 96).
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::threading::Event;
    ///
    /// let e = Event::new();
    /// assert_eq!(e.wait(Some(0.01)), Ok(false)); // timed out
    /// e.set();
    /// assert_eq!(e.wait(Some(0.01)), Ok(true));
    /// ```
    pub fn wait(&self, timeout: Option<f64>) -> Result<bool> {
        let r = self.wait_raw(timeout);
        B::record(&self.tag, || {
            let args = match timeout {
                Some(t) => Args::new().secs("", t),
                None => Args::new(),
            };
            let outcome = match &r {
                Ok(b) => Outcome::Bool(*b),
                Err(e) => Outcome::Error(e.python_repr()),
            };
            TraceEvent::with_args("wait", args, outcome)
        });
        r
    }

    fn wait_raw(&self, timeout: Option<f64>) -> Result<bool> {
        if self.state.load(SeqCst) & SET != 0 {
            return Ok(true);
        }
        match Wait::condition(timeout) {
            Ok(wait @ (Wait::Forever | Wait::For(_))) => self.wait_slow(wait),
            // A poll, or a timeout too large to wait on: the answer depends on the flag
            // alone, so read it again with a read-modify-write (under loom the load above
            // may show a stale clear flag, its initial value in particular, which no real
            // machine would after a `set` this thread could know of).
            other => {
                if self.state.fetch_add(0, SeqCst) & SET != 0 {
                    Ok(true)
                } else {
                    other.map(|_| false)
                }
            }
        }
    }

    #[cold]
    fn wait_slow(&self, wait: Wait) -> Result<bool> {
        // Note the epoch and announce a waiter, in one compare-exchange (which also reads
        // the latest word, so the epoch noted is current).
        let mut cur = self.state.load(SeqCst);
        let seen = loop {
            if cur & SET != 0 {
                return Ok(true);
            }
            match self
                .state
                .compare_exchange(cur, cur | WAITERS, SeqCst, SeqCst)
            {
                Ok(_) => break epoch(cur),
                Err(actual) => cur = actual,
            }
        };
        let deadline = wait.deadline::<B>();
        loop {
            let req = ParkRequest {
                key: self.key(),
                tag: &self.tag,
                op: "wait",
                kind: WaitKind::Event,
                deadline,
            };
            // A read-modify-write, not a load: it must see a `set` that ran after the
            // announcement above. Every `set` of a clear flag moves the epoch.
            let no_set_since = || epoch(self.state.fetch_add(0, SeqCst)) == seen;
            match B::park(req, no_set_since) {
                // Only `set` unparks this key, but an unpark can be stale: a `set` whose
                // epoch this wait already saw (it ran before the announcement) may reach its
                // `unpark_all` only after this thread parked again. Only a moved epoch means
                // a `set` ended this wait; otherwise park again.
                ParkResult::Unparked => {
                    if epoch(self.state.fetch_add(0, SeqCst)) != seen {
                        return Ok(true);
                    }
                }
                ParkResult::TimedOut => return Ok(false),
                ParkResult::Invalid | ParkResult::Spurious => {
                    if epoch(self.state.fetch_add(0, SeqCst)) != seen {
                        return Ok(true);
                    }
                }
            }
        }
    }

    #[inline]
    fn key(&self) -> usize {
        &self.state as *const B::Atomic as usize
    }
}

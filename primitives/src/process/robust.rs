//! `RobustLock`: a process-shared lock that tells its next acquirer that the owner died
//! (not in CPython: pthread's robust mutexes and `EOWNERDEAD`).

use super::handle::{next, shareable, HandleError, Parts};
use super::semlock::{alloc, tag_of};
use super::timeout::{sem_wait, SemWait};
use crate::backend::process::ProcessBackend;
use crate::backend::{
    Args, Moment, ObjectTag, Outcome, ParkRequest, RawAtomic, Record, Std, WaitKind,
};
use crate::error::{Error, Result};
use std::fmt;
use std::sync::atomic::Ordering::SeqCst;
use std::time::Duration;

/// The shared words.
///
/// | word | meaning |
/// |---|---|
/// | `OWNER` | 0 when free, else the pid of the process that acquired it; the word waiters wait on |
/// | `WAITERS` | threads inside a blocking acquire (a release wakes only if non-zero) |
const OWNER: usize = 0;
const WAITERS: usize = 1;
const WORDS: usize = 2;

/// How often a blocked acquirer checks that the owner is still alive.
const POLL: Duration = Duration::from_millis(20);

/// How a [`RobustLock`] acquire ended.
///
/// # Examples
///
/// ```
/// use lockproof::multiprocessing::RobustAcquire;
///
/// assert!(RobustAcquire::OwnerDied { pid: 42 }.acquired());
/// assert!(!RobustAcquire::TimedOut.acquired());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum RobustAcquire {
    /// Acquired from a live owner's release (or free).
    Acquired,
    /// Acquired from a dead owner (`EOWNERDEAD`): the caller holds the lock now, and the
    /// state it protects may be half-updated.
    OwnerDied {
        /// The dead owner's pid.
        pid: u32,
    },
    /// Not acquired: non-blocking and held, or the timeout passed.
    TimedOut,
}

impl RobustAcquire {
    /// Whether the caller holds the lock now.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::multiprocessing::RobustAcquire;
    ///
    /// assert!(RobustAcquire::Acquired.acquired());
    /// assert!(RobustAcquire::OwnerDied { pid: 42 }.acquired()); // held now, state suspect
    /// assert!(!RobustAcquire::TimedOut.acquired());
    /// ```
    pub fn acquired(self) -> bool {
        !matches!(self, RobustAcquire::TimedOut)
    }
}

/// A process-shared lock that survives its owner's death — an extra of lockproof, **not**
/// CPython behaviour: a `multiprocessing.Lock` whose holder dies stays held forever
/// (SEMANTICS.md §10.11, check 150).
///
/// The lock word holds the owner's pid. An acquirer that finds it held waits on it, and
/// every 20 ms (and when its timeout runs out) checks whether that pid is still running
/// (`kill(pid, 0)`, a zombie counting as dead); if not, it takes the lock over and gets
/// [`RobustAcquire::OwnerDied`], as `pthread_mutex_lock` returns `EOWNERDEAD` for a robust
/// mutex. Otherwise it behaves as [`Lock`](super::Lock): any process may release it, a
/// release when free is `ValueError('semaphore or lock released too many times')`, and
/// timeouts follow multiprocessing's conventions.
///
/// Caveats: ownership is per process (a thread of the owner's process releasing is fine);
/// a pid reused by a new process after the owner died hides the death until that process
/// exits. Under the checked backends every process is alive until the checked world
/// models crashes, so the takeover is never taken there.
///
/// # Examples
///
/// ```
/// use lockproof::multiprocessing::{RobustAcquire, RobustLock};
///
/// let lock = RobustLock::new();
/// assert_eq!(lock.try_acquire(), RobustAcquire::Acquired);
/// assert_eq!(lock.owner(), Some(std::process::id()));
/// assert_eq!(lock.acquire_timeout(0.01)?, RobustAcquire::TimedOut); // we are alive
/// lock.release()?;
/// assert_eq!(lock.owner(), None);
/// # Ok::<(), lockproof::Error>(())
/// ```
pub struct RobustLock<B: ProcessBackend = Std> {
    mem: B::Memory,
    tag: B::Tag,
}

impl<B: ProcessBackend> Default for RobustLock<B> {
    fn default() -> Self {
        Self::new()
    }
}

impl<B: ProcessBackend> RobustLock<B> {
    /// A free robust lock.
    ///
    /// # Panics
    ///
    /// If the OS refuses shared memory.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::multiprocessing::RobustLock;
    ///
    /// let lock = RobustLock::new();
    /// assert_eq!(lock.owner(), None);
    /// ```
    pub fn new() -> Self {
        let mem = alloc::<B>(WORDS).unwrap_or_else(|e| panic!("RobustLock(): {e}"));
        RobustLock {
            tag: tag_of::<B>("mp.RobustLock", &mem),
            mem,
        }
    }

    /// Name the lock in checker traces (no effect on real processes).
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::multiprocessing::{RobustAcquire, RobustLock};
    ///
    /// let lock = RobustLock::new().with_name("journal"); // how a checker trace calls it
    /// assert_eq!(lock.try_acquire(), RobustAcquire::Acquired);
    /// ```
    pub fn with_name(self, name: &str) -> Self {
        self.tag.set_name(name);
        self
    }

    /// The pid of the process that holds it, if held.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::multiprocessing::RobustLock;
    ///
    /// let lock = RobustLock::new();
    /// assert!(lock.acquire().acquired());
    /// assert_eq!(lock.owner(), Some(std::process::id()));
    /// ```
    pub fn owner(&self) -> Option<u32> {
        match self.mem[OWNER].fetch_add(0, SeqCst) {
            0 => None,
            pid => Some(pid as u32),
        }
    }

    /// One attempt: take it if free, or over from a dead owner.
    fn try_once(&self) -> RobustAcquire {
        let me = B::current_pid() as usize;
        match self.mem[OWNER].compare_exchange(0, me, SeqCst, SeqCst) {
            Ok(_) => RobustAcquire::Acquired,
            Err(owner) if !B::process_alive(owner as u32) => {
                match self.mem[OWNER].compare_exchange(owner, me, SeqCst, SeqCst) {
                    Ok(_) => RobustAcquire::OwnerDied { pid: owner as u32 },
                    Err(_) => RobustAcquire::TimedOut,
                }
            }
            Err(_) => RobustAcquire::TimedOut,
        }
    }

    fn acquire_raw(&self, block: bool, timeout: Option<f64>) -> Result<RobustAcquire> {
        let wait = if block {
            sem_wait::<B>(timeout)
        } else {
            SemWait::Past
        };
        let first = self.try_once();
        if first.acquired() || !block {
            return Ok(first);
        }
        let deadline = match wait {
            SemWait::Forever | SemWait::Until(None) => None,
            SemWait::Until(Some(d)) => Some(d),
            SemWait::Past => return Ok(self.try_once()),
            SemWait::Invalid => return Err(Error::os(22)),
        };
        self.mem[WAITERS].fetch_add(1, SeqCst);
        let r = loop {
            let got = self.try_once();
            if got.acquired() {
                break got;
            }
            let now = B::now();
            if deadline.is_some_and(|d| now >= d) {
                break RobustAcquire::TimedOut;
            }
            let owner = self.mem[OWNER].fetch_add(0, SeqCst);
            if owner == 0 {
                continue;
            }
            let poll = Moment::after(now, POLL).unwrap_or(Moment(u64::MAX));
            let req = ParkRequest {
                key: 0,
                tag: &self.tag,
                op: "acquire",
                kind: WaitKind::Lock,
                deadline: Some(deadline.map_or(poll, |d| d.min(poll))),
            };
            B::wait_word(req, &self.mem[OWNER], owner);
        };
        self.mem[WAITERS].fetch_sub(1, SeqCst);
        Ok(r)
    }

    fn traced(&self, block: bool, timeout: Option<f64>, args: Args) -> Result<RobustAcquire> {
        let r = self.acquire_raw(block, timeout);
        B::record(&self.tag, || {
            let outcome = match &r {
                Ok(RobustAcquire::Acquired) => Outcome::Bool(true),
                Ok(RobustAcquire::TimedOut) => Outcome::Bool(false),
                Ok(RobustAcquire::OwnerDied { pid }) => {
                    Outcome::Value(format!("OwnerDied(pid={pid})"))
                }
                Err(e) => Outcome::Error(e.python_repr()),
            };
            Record::with_args("acquire", args, outcome)
        });
        r
    }

    /// Block until acquired (from a release, or from a dead owner).
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::backend::spawn::ProcessHandle;
    /// use lockproof::backend::{Backend, Std};
    /// use lockproof::multiprocessing::{RobustAcquire, RobustLock};
    /// use std::sync::Arc;
    ///
    /// let lock = Arc::new(RobustLock::new());
    /// // A child takes the lock and exits without releasing it.
    /// let l2 = lock.clone();
    /// let child = Std::spawn_process("holder", move || assert!(l2.acquire().acquired()));
    /// let pid = child.pid();
    /// assert_eq!(child.join(), 0);
    /// assert_eq!(lock.acquire(), RobustAcquire::OwnerDied { pid }); // taken over
    /// assert_eq!(lock.owner(), Some(std::process::id()));
    /// ```
    pub fn acquire(&self) -> RobustAcquire {
        self.traced(true, None, Args::new())
            .unwrap_or(RobustAcquire::TimedOut)
    }

    /// One attempt, never blocks.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::multiprocessing::{RobustAcquire, RobustLock};
    ///
    /// let lock = RobustLock::new();
    /// assert_eq!(lock.try_acquire(), RobustAcquire::Acquired);
    /// assert_eq!(lock.try_acquire(), RobustAcquire::TimedOut); // held by a live process
    /// ```
    pub fn try_acquire(&self) -> RobustAcquire {
        self.traced(false, None, Args::new().bool("block", false))
            .unwrap_or(RobustAcquire::TimedOut)
    }

    /// Wait at most `timeout` seconds (multiprocessing's conventions: negative is 0; `inf`
    /// and NaN are `OSError` EINVAL when it must wait).
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::multiprocessing::{RobustAcquire, RobustLock};
    /// use lockproof::Error;
    ///
    /// let lock = RobustLock::new();
    /// assert_eq!(lock.acquire_timeout(1.0), Ok(RobustAcquire::Acquired));
    /// assert_eq!(lock.acquire_timeout(0.01), Ok(RobustAcquire::TimedOut));
    /// assert_eq!(lock.acquire_timeout(f64::NAN), Err(Error::os(22))); // must wait: OSError
    /// ```
    pub fn acquire_timeout(&self, timeout: f64) -> Result<RobustAcquire> {
        self.traced(true, Some(timeout), Args::new().secs("timeout", timeout))
    }

    /// `acquire(block, timeout)`.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::multiprocessing::{RobustAcquire, RobustLock};
    ///
    /// let lock = RobustLock::new();
    /// assert_eq!(lock.acquire_with(true, None), Ok(RobustAcquire::Acquired));
    /// assert_eq!(lock.acquire_with(false, Some(9.0)), Ok(RobustAcquire::TimedOut)); // never waits
    /// ```
    pub fn acquire_with(&self, block: bool, timeout: Option<f64>) -> Result<RobustAcquire> {
        let mut args = Args::new();
        if !block {
            args = args.bool("block", false);
        }
        if let Some(t) = timeout {
            args = args.secs("timeout", t);
        }
        self.traced(block, timeout, args)
    }

    /// Release, from any thread or process.
    /// `ValueError('semaphore or lock released too many times')` if free.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::multiprocessing::RobustLock;
    /// use lockproof::Error;
    ///
    /// let lock = RobustLock::new();
    /// assert_eq!(lock.release(), Err(Error::SemLockReleasedTooManyTimes));
    /// assert!(lock.try_acquire().acquired());
    /// lock.release()?;
    /// assert_eq!(lock.owner(), None);
    /// # Ok::<(), Error>(())
    /// ```
    pub fn release(&self) -> Result<()> {
        let was = self.mem[OWNER].swap(0, SeqCst);
        let r = if was == 0 {
            Err(Error::SemLockReleasedTooManyTimes)
        } else {
            Ok(())
        };
        B::record(&self.tag, || {
            Record::new(
                "release",
                match &r {
                    Ok(()) => Outcome::Done,
                    Err(e) => Outcome::Error(e.python_repr()),
                },
            )
        });
        if r.is_ok() && self.mem[WAITERS].fetch_add(0, SeqCst) > 0 {
            B::wake_word(&self.mem[OWNER]);
        }
        r
    }
}

impl<B: ProcessBackend> fmt::Debug for RobustLock<B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.owner() {
            None => f.write_str("<RobustLock(owner=None)>"),
            Some(pid) => write!(f, "<RobustLock(owner=pid {pid})>"),
        }
    }
}

impl<B: ProcessBackend> Parts<B> for RobustLock<B> {
    fn parts(&self, out: &mut Vec<B::Memory>) {
        out.push(self.mem.clone());
    }
    fn from_parts(parts: &mut dyn Iterator<Item = B::Memory>) -> Result<Self, HandleError> {
        let mem = next::<B>(parts)?;
        if mem.len() != WORDS {
            return Err(HandleError::Mismatch("not a RobustLock"));
        }
        Ok(RobustLock {
            tag: tag_of::<B>("mp.RobustLock", &mem),
            mem,
        })
    }
}

shareable!(RobustLock, "RobustLock::new()");

//! `_multiprocessing.SemLock`: the one process-shared object every multiprocessing lock is
//! (CPython's `Modules/_multiprocessing/semaphore.c`).

use super::handle::HandleError;
use super::timeout::{sem_wait, SemWait};
use crate::backend::process::{ProcessBackend, SEM_VALUE_MAX, SEM_WORDS};
use crate::backend::{Args, Hold, ObjectTag, Outcome, RawAtomic, Record, WaitKind};
use crate::error::{Error, Result};
use std::sync::atomic::Ordering::{Relaxed, SeqCst};
use std::sync::atomic::{AtomicIsize, AtomicU32, AtomicU64};

/// CPython's `RECURSIVE_MUTEX` (0) and `SEMAPHORE` (1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    RecursiveMutex = 0,
    Semaphore = 1,
}

/// Words of one SemLock in its memory, from its offset.
///
/// | word | meaning |
/// |---|---|
/// | 0, 1 | the semaphore (value, waiters: `backend::process`'s layout) |
/// | 2 | `kind`: 0 recursive mutex, 1 semaphore (read by a process that opens a handle) |
/// | 3 | `maxvalue` |
pub(crate) const SEMLOCK_WORDS: usize = SEM_WORDS + 2;
const KIND: usize = SEM_WORDS;
const MAXVALUE: usize = SEM_WORDS + 1;

/// A SemLock handle: the shared semaphore, plus this process's own `count` and `last_tid`.
///
/// `count` is acquires minus releases made through this handle in this process (it goes
/// negative when this process releases what another acquired, as CPython's does);
/// `last_tid` is the last thread to acquire. "Mine" (`_is_mine`) is `count > 0` and
/// `last_tid` = the caller. Both are per process: `pid` is the process they belong to, and a
/// handle used in another process (after `fork`) starts again from `count == 0`, CPython's
/// at-fork reset. Updates need no lock: CPython makes them under the GIL, and here each is
/// one atomic operation.
pub(crate) struct SemLock<B: ProcessBackend> {
    mem: B::Memory,
    at: usize,
    kind: Kind,
    maxvalue: usize,
    pid: AtomicU32,
    count: AtomicIsize,
    last_tid: AtomicU64,
    wait_kind: WaitKind,
    pub(crate) tag: B::Tag,
}

/// `int value` argument parsing, then `sem_open`'s check: a C `int`, and not negative.
pub(crate) fn c_int_value(value: i64) -> Result<usize> {
    let v = i32::try_from(value).map_err(|_| Error::CIntOverflow)?;
    // sem_open takes an `unsigned int`: -1 is above SEM_VALUE_MAX.
    usize::try_from(v).map_err(|_| Error::os(22))
}

/// The trace identity of the process-shared object of `kind` whose state is `mem`: every
/// handle of it, in every process, is one object to the checker.
pub(crate) fn tag_of<B: ProcessBackend>(kind: &'static str, mem: &B::Memory) -> B::Tag {
    B::Tag::shared(kind, mem.as_ptr() as usize)
}

pub(crate) fn alloc<B: ProcessBackend>(words: usize) -> Result<B::Memory> {
    B::alloc(words).map_err(|e| Error::os(e.raw_os_error().unwrap_or(12)))
}

fn wait_kind(kind: Kind, maxvalue: usize) -> WaitKind {
    if kind == Kind::RecursiveMutex || maxvalue == 1 {
        WaitKind::Lock
    } else {
        WaitKind::Semaphore
    }
}

impl<B: ProcessBackend> SemLock<B> {
    /// `SemLock(kind, value, maxvalue)` in memory of its own, traced as the shared object
    /// `name` (`"mp.Lock"`).
    pub(crate) fn named(
        kind: Kind,
        value: usize,
        maxvalue: usize,
        name: &'static str,
    ) -> Result<Self> {
        let mem = alloc::<B>(SEMLOCK_WORDS)?;
        let tag = tag_of::<B>(name, &mem);
        Ok(Self::create(mem, 0, kind, value, maxvalue, tag))
    }

    /// The SemLock at the start of `mem` as another handle of the shared object `name`.
    pub(crate) fn attach_named(mem: B::Memory, name: &'static str) -> Result<Self, HandleError> {
        let tag = tag_of::<B>(name, &mem);
        Self::attach(mem, 0, tag)
    }

    /// A new SemLock in words `at..at + SEMLOCK_WORDS` of `mem` (fresh, not yet shared).
    pub(crate) fn create(
        mem: B::Memory,
        at: usize,
        kind: Kind,
        value: usize,
        maxvalue: usize,
        tag: B::Tag,
    ) -> Self {
        debug_assert!(value <= SEM_VALUE_MAX && maxvalue <= SEM_VALUE_MAX);
        B::sem_init(&mem[at..at + SEM_WORDS], value);
        mem[at + KIND].store(kind as usize, SeqCst);
        mem[at + MAXVALUE].store(maxvalue, SeqCst);
        Self::with(mem, at, kind, maxvalue, tag)
    }

    /// The SemLock already in `mem` at `at`, as a process that received it sees it
    /// (CPython's `SemLock._rebuild`): `count` 0.
    pub(crate) fn attach(mem: B::Memory, at: usize, tag: B::Tag) -> Result<Self, HandleError> {
        if mem.len() < at + SEMLOCK_WORDS {
            return Err(HandleError::Mismatch("too small for a SemLock"));
        }
        let kind = match mem[at + KIND].load(SeqCst) {
            0 => Kind::RecursiveMutex,
            1 => Kind::Semaphore,
            _ => return Err(HandleError::Mismatch("not a SemLock")),
        };
        let maxvalue = mem[at + MAXVALUE].load(SeqCst);
        Ok(Self::with(mem, at, kind, maxvalue, tag))
    }

    fn with(mem: B::Memory, at: usize, kind: Kind, maxvalue: usize, tag: B::Tag) -> Self {
        SemLock {
            mem,
            at,
            kind,
            maxvalue,
            pid: AtomicU32::new(B::current_pid()),
            count: AtomicIsize::new(0),
            last_tid: AtomicU64::new(0),
            wait_kind: wait_kind(kind, maxvalue),
            tag,
        }
    }

    pub(crate) fn memory(&self) -> &B::Memory {
        &self.mem
    }

    pub(crate) fn kind(&self) -> Kind {
        self.kind
    }

    pub(crate) fn maxvalue(&self) -> usize {
        self.maxvalue
    }

    fn sem(&self) -> &[B::Atomic] {
        &self.mem[self.at..self.at + SEM_WORDS]
    }

    /// CPython's at-fork reset, done lazily: the per-process state of another process is
    /// not ours.
    #[inline]
    fn local(&self) {
        let me = B::current_pid();
        if self.pid.load(Relaxed) != me {
            self.pid.store(me, Relaxed);
            self.count.store(0, SeqCst);
            self.last_tid.store(0, SeqCst);
        }
    }

    /// `_count()`: this process's acquires minus releases.
    pub(crate) fn count(&self) -> isize {
        self.local();
        self.count.load(SeqCst)
    }

    /// `_is_mine()`: `count > 0` and the caller is the last thread to acquire.
    pub(crate) fn is_mine(&self) -> bool {
        self.count() > 0 && self.last_tid.load(SeqCst) == B::current_thread()
    }

    /// `_get_value()`.
    pub(crate) fn value(&self) -> usize {
        B::sem_value(self.sem())
    }

    fn acquired(&self) {
        self.count.fetch_add(1, SeqCst);
        self.last_tid.store(B::current_thread(), SeqCst);
    }

    /// `acquire(block, timeout)`, untraced.
    pub(crate) fn acquire_raw(&self, block: bool, timeout: Option<f64>) -> Result<bool> {
        self.acquire_raw_as(block, timeout, "acquire", self.wait_kind)
    }

    /// `acquire(block, timeout)`, untraced; a blocked caller shows as `op` (`kind`).
    pub(crate) fn acquire_raw_as(
        &self,
        block: bool,
        timeout: Option<f64>,
        op: &'static str,
        kind: WaitKind,
    ) -> Result<bool> {
        self.local();
        if self.kind == Kind::RecursiveMutex && self.is_mine() {
            self.count.fetch_add(1, SeqCst);
            return Ok(true);
        }
        // The deadline is computed before the first try, as CPython does.
        let wait = if block {
            sem_wait::<B>(timeout)
        } else {
            SemWait::Past
        };
        if B::sem_trywait(self.sem()) {
            self.acquired();
            return Ok(true);
        }
        if !block {
            return Ok(false);
        }
        let got = match wait {
            SemWait::Forever => B::sem_wait(self.sem(), None, &self.tag, op, kind),
            SemWait::Until(deadline) => B::sem_wait(self.sem(), deadline, &self.tag, op, kind),
            SemWait::Past => B::sem_trywait(self.sem()),
            SemWait::Invalid => return Err(Error::os(22)),
        };
        if got {
            self.acquired();
        }
        Ok(got)
    }

    /// `release()` up to the post: `Ok(true)` when a waiter must be woken with
    /// [`wake`](Self::wake).
    pub(crate) fn release_state(&self) -> Result<bool> {
        self.local();
        match self.kind {
            Kind::RecursiveMutex => {
                if !self.is_mine() {
                    return Err(Error::RecursiveLockNotOwned);
                }
                if self.count.load(SeqCst) > 1 {
                    self.count.fetch_sub(1, SeqCst);
                    return Ok(false);
                }
            }
            Kind::Semaphore => {
                // "This check is not an absolute guarantee that the semaphore does not
                // rise above maxvalue": it is not atomic with the post, as in CPython.
                if B::sem_value(self.sem()) >= self.maxvalue {
                    return Err(Error::SemLockReleasedTooManyTimes);
                }
            }
        }
        // This process's count first (no other process sees it), then the post: the caller
        // traces the release right after it (see `ProcessBackend::sem_release`).
        self.count.fetch_sub(1, SeqCst);
        B::sem_release(self.sem());
        Ok(true)
    }

    pub(crate) fn wake(&self) {
        B::sem_wake(self.sem());
    }

    // ---- traced ----------------------------------------------------------------------

    /// `acquire(block, timeout)`, traced with the arguments as given.
    pub(crate) fn acquire_traced(
        &self,
        block: bool,
        timeout: Option<f64>,
        args: Args,
    ) -> Result<bool> {
        let r = self.acquire_raw(block, timeout);
        B::record(&self.tag, || {
            let outcome = match &r {
                Ok(b) => Outcome::Bool(*b),
                Err(e) => Outcome::Error(e.python_repr()),
            };
            Record::with_args("acquire", args, outcome)
                .holding(Hold::acquired_if(matches!(r, Ok(true))))
        });
        r
    }

    /// `acquire()`: block=True, timeout=None. Always true.
    pub(crate) fn acquire(&self) -> bool {
        // With no timeout, an acquire cannot fail.
        self.acquire_traced(true, None, Args::new())
            .unwrap_or(false)
    }

    /// `acquire(False)`.
    pub(crate) fn try_acquire(&self) -> bool {
        self.acquire_traced(false, None, Args::new().bool("block", false))
            .unwrap_or(false)
    }

    /// `acquire(block, timeout)`.
    pub(crate) fn acquire_with(&self, block: bool, timeout: Option<f64>) -> Result<bool> {
        let mut args = Args::new();
        if !block {
            args = args.bool("block", false);
        }
        if let Some(t) = timeout {
            args = args.secs("timeout", t);
        }
        self.acquire_traced(block, timeout, args)
    }

    /// `release()`, traced before the waiter it posts for is woken.
    pub(crate) fn release(&self) -> Result<()> {
        let r = self.release_state();
        B::record(&self.tag, || {
            Record::new(
                "release",
                match &r {
                    Ok(_) => Outcome::Done,
                    Err(e) => Outcome::Error(e.python_repr()),
                },
            )
            .holding(Hold::released_if(r.is_ok()))
        });
        if r? {
            self.wake();
        }
        Ok(())
    }
}

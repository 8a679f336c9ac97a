//! The process seam: what the process-shared primitives ([`crate::process`]) need from the
//! world, and nothing else.
//!
//! CPython's `multiprocessing.synchronize` is built on one OS object, a POSIX named
//! semaphore (`_multiprocessing.SemLock`), plus plain shared memory for `Value`, `Array` and
//! `Barrier`'s state. A [`ProcessBackend`] provides exactly those:
//!
//! - **process-shared memory**: [`ProcessBackend::Memory`], an array of atomic words that
//!   every handle of the object maps, in this process or another one;
//! - **a process-shared wait on one word** ([`wait_word`](ProcessBackend::wait_word) /
//!   [`wake_word`](ProcessBackend::wake_word), a futex's WAIT and WAKE), from which the
//!   counting semaphore (`sem_trywait`, `sem_timedwait`, `sem_post`, `sem_getvalue`) is
//!   built once, as provided methods;
//! - **who is calling**: [`current_pid`](ProcessBackend::current_pid) (with
//!   [`Backend::current_thread`], the owner of a multiprocessing `RLock`), and whether a
//!   process is still alive (for [`crate::process::RobustLock`]);
//! - tracing through [`RawBackend::record`], as the threading primitives do.
//!
//! | backend | memory | wait | pid |
//! |---|---|---|---|
//! | [`Std`](super::Std) | `mmap(MAP_SHARED)` of a `memfd` | `futex` without `FUTEX_PRIVATE_FLAG` (works across processes); deadlines on the monotonic clock | `getpid()` |
//! | `Loom`, `Shuttle` | an `Arc` of the engine's atomics | the checked wait point ([`RawBackend::park`]) | the checked world's process |
//!
//! # Semaphore layout
//!
//! A semaphore is [`SEM_WORDS`] consecutive words of a `Memory`:
//!
//! | word | meaning |
//! |---|---|
//! | `VALUE` (0) | the semaphore's value, `0..=SEM_VALUE_MAX`; the word waiters wait on |
//! | `WAITERS` (1) | how many threads (of any process) are inside `sem_wait`; `sem_post` wakes only if it is non-zero |
//!
//! No lost wakeup: a waiter increments `WAITERS` before its last try and waits only while
//! `VALUE` is 0 (checked atomically with the sleep by the futex, or by `park`'s validate);
//! a poster increments `VALUE` before it reads `WAITERS`. All four are sequentially
//! consistent, so either the poster sees the waiter, or the waiter's try sees the token.

use super::{Backend, Moment, ParkRequest, ParkResult, RawAtomic, WaitKind};
use std::fmt;
use std::io;
use std::ops::Deref;
use std::sync::atomic::Ordering::SeqCst;

/// Words per semaphore (see the module's layout table).
///
/// # Examples
///
/// ```
/// use lockproof::backend::process::{ProcessBackend, SEM_WORDS};
/// use lockproof::backend::Std;
///
/// // One semaphore's shared memory: its value and its waiter count.
/// let sem = Std::alloc(SEM_WORDS).unwrap();
/// Std::sem_init(&sem, 1);
/// assert!(Std::sem_trywait(&sem));
/// assert!(!Std::sem_trywait(&sem));
/// ```
pub const SEM_WORDS: usize = 2;
const VALUE: usize = 0;
const WAITERS: usize = 1;

/// `SEM_VALUE_MAX` on Linux: the largest value a semaphore holds (`INT_MAX`).
///
/// # Examples
///
/// ```
/// use lockproof::backend::process::SEM_VALUE_MAX;
/// use lockproof::multiprocessing::Semaphore;
///
/// assert_eq!(SEM_VALUE_MAX, i32::MAX as usize);
/// let s = Semaphore::new(SEM_VALUE_MAX as i64)?;
/// assert!(s.release().is_err()); // ValueError: released too many times
/// # Ok::<(), lockproof::Error>(())
/// ```
pub const SEM_VALUE_MAX: usize = i32::MAX as usize;

/// A world in which processes share memory and wait on it: what
/// [`crate::process`]'s primitives are generic over.
///
/// Implementations: [`Std`](super::Std) (real processes), and the checked worlds (`Loom`,
/// `Shuttle`), where a process is a group of checked threads.
///
/// # Safety
///
/// The process-shared wait must keep the contract the semaphore rests on:
/// [`wait_word`](ProcessBackend::wait_word) compares the word with `expected` atomically
/// with queueing the caller (a [`wake_word`](ProcessBackend::wake_word) either comes before
/// the comparison and is seen by it, or finds the caller queued), from any process that
/// maps the same memory; and every word of a fresh [`Memory`](ProcessBackend::Memory) is 0.
///
/// # Examples
///
/// ```
/// use lockproof::backend::process::ProcessBackend;
/// use lockproof::backend::{Backend, Std};
///
/// let mem = Std::alloc(2).unwrap();         // one semaphore: value 0, no waiters
/// assert!(!Std::sem_trywait(&mem[..]));
/// Std::sem_post(&mem[..]);
/// assert_eq!(Std::sem_value(&mem[..]), 1);
/// assert!(Std::sem_trywait(&mem[..]));
/// assert!(Std::current_pid() > 0);
/// ```
pub unsafe trait ProcessBackend: Backend {
    /// A block of process-shared memory, seen as atomic words. Clones share the mapping.
    type Memory: Deref<Target = [Self::Atomic]> + Clone + Send + Sync + fmt::Debug + 'static;

    /// New process-shared memory of `words` words, all 0. Under [`Std`](super::Std) it
    /// fails as `memfd_create`, `ftruncate` or `mmap` do.
    fn alloc(words: usize) -> io::Result<Self::Memory>;

    /// The current process's id, never 0 (`os.getpid()`).
    fn current_pid() -> u32;

    /// Whether process `pid` is still running (not exited, not a zombie). Used only by
    /// [`crate::process::RobustLock`], when a wait times out.
    fn process_alive(pid: u32) -> bool;

    /// Block while `word` holds `expected` (a futex wait), until woken by
    /// [`wake_word`](ProcessBackend::wake_word) or `req.deadline`. `req.key` is ignored (the
    /// word is the key). `Invalid`: the word did not hold `expected`. It may also return
    /// `Unparked` without a wake (a signal): callers re-check and loop.
    fn wait_word(req: ParkRequest<'_, Self>, word: &Self::Atomic, expected: usize) -> ParkResult;

    /// Wake one thread, of any process, blocked in [`wait_word`](ProcessBackend::wait_word)
    /// on `word`; true if there was one.
    fn wake_word(word: &Self::Atomic) -> bool;

    /// `sem_init(sem, value)`: set a fresh semaphore's value (before it is shared).
    fn sem_init(sem: &[Self::Atomic], value: usize) {
        sem[VALUE].store(value, SeqCst);
        sem[WAITERS].store(0, SeqCst);
    }

    /// `sem_trywait`: take one unit if the value is positive; never blocks.
    fn sem_trywait(sem: &[Self::Atomic]) -> bool {
        // A read-modify-write first, not a load: under loom a load may read a value long
        // overwritten (see `Lock::is_locked_raw`).
        let mut v = sem[VALUE].fetch_add(0, SeqCst);
        while v > 0 {
            match sem[VALUE].compare_exchange(v, v - 1, SeqCst, SeqCst) {
                Ok(_) => return true,
                Err(now) => v = now,
            }
        }
        false
    }

    /// `sem_wait` / `sem_timedwait`: take one unit, waiting while the value is 0, until
    /// `deadline` (`None`: forever). False: the deadline passed first.
    fn sem_wait(
        sem: &[Self::Atomic],
        deadline: Option<Moment>,
        tag: &Self::Tag,
        op: &'static str,
        kind: WaitKind,
    ) -> bool {
        if Self::sem_trywait(sem) {
            return true;
        }
        sem[WAITERS].fetch_add(1, SeqCst);
        let got = loop {
            if Self::sem_trywait(sem) {
                break true;
            }
            let req = ParkRequest {
                key: &sem[VALUE] as *const Self::Atomic as usize,
                tag,
                op,
                kind,
                deadline,
            };
            if Self::wait_word(req, &sem[VALUE], 0) == ParkResult::TimedOut {
                // A token posted as the deadline passed is still taken, as glibc does.
                break Self::sem_trywait(sem);
            }
        };
        sem[WAITERS].fetch_sub(1, SeqCst);
        got
    }

    /// The first half of `sem_post`: add one unit. [`sem_wake`](ProcessBackend::sem_wake)
    /// must follow; primitives trace their release in between, right after the unit is
    /// added (no other step between them: under a checker another thread could take the
    /// unit, and its acquire would show before the release that made it possible).
    fn sem_release(sem: &[Self::Atomic]) {
        sem[VALUE].fetch_add(1, SeqCst);
    }

    /// The second half of `sem_post`: wake one waiter, if one may be blocked. (A waiter
    /// counts itself in `WAITERS` before its last try, and the unit was added before this
    /// reads `WAITERS`: either this sees the waiter, or the waiter's try sees the unit.)
    fn sem_wake(sem: &[Self::Atomic]) {
        Self::completing(|| {
            if sem[WAITERS].fetch_add(0, SeqCst) > 0 {
                Self::wake_word(&sem[VALUE]);
            }
        })
    }

    /// Run `f`, the wake that completes an operation already traced. Under a checker a
    /// process that crashed during the operation still completes it (a crash never splits
    /// one operation: a post always wakes its waiter); elsewhere it is just `f()`.
    fn completing<R>(f: impl FnOnce() -> R) -> R {
        f()
    }

    /// `sem_post`: add one unit and wake one waiter, if any.
    fn sem_post(sem: &[Self::Atomic]) {
        Self::sem_release(sem);
        Self::sem_wake(sem);
    }

    /// `sem_getvalue`: the current value (never negative on Linux).
    fn sem_value(sem: &[Self::Atomic]) -> usize {
        sem[VALUE].fetch_add(0, SeqCst)
    }
}

/// Process-shared memory for a world without address-space boundaries (the checked
/// worlds): the "processes" are groups of threads of one address space, so shared memory
/// is an `Arc` of the world's atomics, and every operation on it is a visible step.
///
/// # Examples
///
/// ```
/// use lockproof::backend::process::LocalMemory;
/// use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
///
/// let mem = LocalMemory::<AtomicUsize>::new(2);
/// let shared = mem.clone();
/// shared[1].store(5, SeqCst);
/// assert_eq!(mem[1].load(SeqCst), 5);
/// ```
pub struct LocalMemory<A>(std::sync::Arc<[A]>);

impl<A: RawAtomic> LocalMemory<A> {
    /// `words` words, all 0.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::backend::process::LocalMemory;
    /// use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
    ///
    /// let mem = LocalMemory::<AtomicUsize>::new(3);
    /// assert_eq!(mem.len(), 3);
    /// assert!(mem.iter().all(|w| w.load(SeqCst) == 0));
    /// ```
    pub fn new(words: usize) -> Self {
        LocalMemory((0..words).map(|_| A::new(0)).collect())
    }
}

impl<A> Clone for LocalMemory<A> {
    fn clone(&self) -> Self {
        LocalMemory(self.0.clone())
    }
}

impl<A> Deref for LocalMemory<A> {
    type Target = [A];
    fn deref(&self) -> &[A] {
        &self.0
    }
}

impl<A> fmt::Debug for LocalMemory<A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "LocalMemory({} words)", self.0.len())
    }
}

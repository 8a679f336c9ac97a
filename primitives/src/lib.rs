//! # lockproof
//!
//! Python's `threading` synchronization primitives with CPython 3.11's exact semantics, in
//! Rust, running unchanged on real threads, under loom and under shuttle.
//!
//! Every type is generic over a [`Backend`](backend::Backend) that defaults to
//! [`Std`](backend::Std) (real threads). Ordinary code uses the [`threading`] aliases
//! (`use lockproof::threading::Lock; Lock::new()`); checked code writes `Lock::<B>::new()`
//! for the backend the harness gives it.
//!
//! ## From Python to Rust
//!
//! | Python (`threading`) | Rust (`lockproof`) | Python behaviour mirrored |
//! |---|---|---|
//! | `Lock()` | [`Lock::new`] | unlocked, no owner |
//! | `lock.acquire()` | [`Lock::acquire`] → `true` | blocks; not reentrant |
//! | `lock.acquire(False)` | [`Lock::try_acquire`] | one poll |
//! | `lock.acquire(timeout=t)` | [`Lock::acquire_timeout`]`(t)` | −1 forever; other negatives, NaN, > `TIMEOUT_MAX` are errors |
//! | `lock.acquire(blocking, timeout)` | [`Lock::acquire_with`] | `ValueError` for a timeout on a non-blocking call |
//! | `lock.release()` | [`Lock::release`] | any thread; `RuntimeError('release unlocked lock')` |
//! | `lock.locked()` | [`Lock::locked`] | |
//! | `with lock:` | [`Lock::lock`] → guard | released on drop |
//! | `RLock()` | [`RLock::new`] | owner + recursion count |
//! | `rlock.acquire(...)` / `release()` | [`RLock::acquire`], [`RLock::try_acquire`], [`RLock::acquire_timeout`], [`RLock::acquire_with`], [`RLock::release`] | `RuntimeError('cannot release un-acquired lock')` for a non-owner |
//! | `rlock._is_owned()`, `_recursion_count()` | [`RLock::is_owned`], [`RLock::recursion_count`] | |
//! | `rlock._release_save()`, `_acquire_restore(s)` | [`RLock::release_save`], [`RLock::acquire_restore`] | |
//! | `Condition()`, `Condition(lock)` | [`Condition::new`] (RLock), [`Condition::with_lock`], [`Condition::with_rlock`] | |
//! | `cond.wait(timeout=None)` | [`Condition::wait`]`(Option<f64>)` | FIFO wake-up; `RuntimeError('cannot wait on un-acquired lock')` |
//! | `cond.wait_for(pred, timeout)` | [`Condition::wait_for`] | returns the predicate's last value |
//! | `cond.notify(n)`, `notify_all()` | [`Condition::notify`], [`Condition::notify_one`], [`Condition::notify_all`] | `RuntimeError('cannot notify on un-acquired lock')` |
//! | `Semaphore(value)` | [`Semaphore::new`] | `ValueError('semaphore initial value must be >= 0')` |
//! | `sem.acquire(blocking, timeout)` | [`Semaphore::acquire`], [`Semaphore::try_acquire`], [`Semaphore::acquire_timeout`], [`Semaphore::acquire_with`] | no FIFO promise |
//! | `sem.release(n=1)` | [`Semaphore::release`], [`Semaphore::release_n`] | `ValueError('n must be one or more')` |
//! | `BoundedSemaphore(value)` | [`BoundedSemaphore::new`] | `ValueError('Semaphore released too many times')` |
//! | `Event()`; `set`, `clear`, `is_set`, `wait(timeout)` | [`Event::new`], [`Event::set`], [`Event::clear`], [`Event::is_set`], [`Event::wait`] | a waiter woken by `set` returns `True` even if cleared |
//! | `Barrier(parties, action, timeout)` | [`Barrier::new`] | `parties == 0` rejected (as CPython 3.13+) |
//! | `barrier.wait(timeout)` | [`Barrier::wait`], [`Barrier::wait_timeout`] | arrival index; `BrokenBarrierError` |
//! | `abort()`, `reset()`, `broken`, `n_waiting`, `parties` | [`Barrier::abort`], [`Barrier::reset`], [`Barrier::broken`], [`Barrier::n_waiting`], [`Barrier::parties`] | |
//! | `threading.TIMEOUT_MAX` | [`TIMEOUT_MAX`] | 9223372036.0 on 64-bit Linux |
//! | exceptions | [`Error`] (`Display` = CPython's message), [`Error::exception`] → [`PyException`] | |
//!
//! A plain shared variable of a Python program (a global that threads read and write) is
//! [`Shared`]: each `get`/`set` is one step a checker can interleave.
#![warn(missing_docs)]

pub mod backend;
mod barrier;
mod condition;
mod error;
mod event;
#[cfg(target_os = "linux")]
pub mod file;
mod guard;
mod lock;
#[cfg(target_os = "linux")]
pub mod multiprocessing;
#[cfg(target_os = "linux")]
pub mod process;
mod rlock;
mod semaphore;
mod shared;
pub mod threading;
pub mod timeout;

pub use barrier::*;
pub use condition::*;
pub use error::{Error, PyException, Result};
pub use event::*;
pub use lock::{Lock, LockGuard};
pub use rlock::*;
pub use semaphore::*;
pub use shared::Shared;
pub use timeout::TIMEOUT_MAX;

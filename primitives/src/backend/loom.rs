//! loom: exhaustive exploration (DPOR) of the interleavings of the visible operations.

use super::checked::{Checked, Engine};
use std::hash::{Hash, Hasher};
use std::sync::Arc;

/// The loom engine. loom has no choice operator, so under loom the checked world explores
/// timed mode fully and reports adversarial timeouts and spurious wakeups as not explored.
///
/// # Examples
///
/// ```
/// use lockproof::backend::checked::{execute, WorldConfig};
/// use lockproof::backend::{Loom, LoomEngine};
///
/// // One checked world per loom execution, as the harness runs a model.
/// loom::model(|| {
///     execute::<LoomEngine>(WorldConfig::default(), None, || {
///         let lock = lockproof::Lock::<Loom>::new();
///         assert!(lock.try_acquire());
///     });
/// });
/// ```
#[derive(Debug)]
pub struct LoomEngine;

/// Primitives under loom.
///
/// # Examples
///
/// ```
/// use lockproof::backend::checked::{execute, WorldConfig};
/// use lockproof::backend::{Backend, JoinHandle, Loom, LoomEngine};
/// use std::sync::Arc;
///
/// loom::model(|| {
///     execute::<LoomEngine>(WorldConfig::default(), None, || {
///         let lock = Arc::new(lockproof::Lock::<Loom>::new());
///         let l2 = lock.clone();
///         let t = Loom::spawn("t", move || drop(l2.lock()));
///         drop(lock.lock());
///         t.join(); // every interleaving of the two
///     });
/// });
/// ```
pub type Loom = Checked<LoomEngine>;

forward_raw_atomic!(::loom::sync::atomic::AtomicUsize);

impl Engine for LoomEngine {
    const NAME: &'static str = "loom";
    const HAS_CHOICE: bool = false;
    const MAX_THREADS: Option<usize> = Some(::loom::MAX_THREADS);
    type Atomic = ::loom::sync::atomic::AtomicUsize;

    fn thread_key() -> u64 {
        // Called at every step: FxHash, not SipHash (it showed in the profile).
        let mut h = super::checked::fxhash::FxHasher::default();
        ::loom::thread::current().id().hash(&mut h);
        h.finish()
    }

    fn unparker() -> Arc<dyn Fn() + Send + Sync> {
        let t = ::loom::thread::current();
        let t = SendThread(t);
        Arc::new(move || t.0.unpark())
    }

    fn park() {
        ::loom::thread::park()
    }

    fn spawn(f: Box<dyn FnOnce() + Send>) {
        drop(::loom::thread::spawn(f));
    }

    fn yield_now() {
        ::loom::thread::yield_now()
    }

    /// One scheduling branch while main is the only thread. Loom 0.7 counts a preemption
    /// at an execution's *first* branch whenever it picks a thread other than the first
    /// runnable one, even when the thread that ran before has just blocked (`rt/path.rs`:
    /// `initial_active` has no previous branch to be compared with). Without this branch,
    /// an execution whose main thread first blocks (a `join` right after the spawns) paid
    /// one preemption of its bound to start with any thread but the first: at bound N loom
    /// explored only N - 1 real preemptions of those schedules, and its count was one more
    /// than the trace's.
    fn start_execution() {
        ::loom::sync::atomic::AtomicUsize::new(0).load(std::sync::atomic::Ordering::SeqCst);
    }

    fn choose(_n: usize) -> Option<usize> {
        None
    }
}

/// loom's `Thread` handle is only used from the OS thread running the model (loom runs every
/// model thread there), so sending it between model threads is sound.
struct SendThread(::loom::thread::Thread);
// SAFETY: see the type's doc: all loom model threads run on one OS thread.
unsafe impl Send for SendThread {}
// SAFETY: as above.
unsafe impl Sync for SendThread {}

//! shuttle: randomized, PCT and depth-first scheduling, with a recorded choice operator.

use super::checked::{Checked, Engine};
use shuttle_engine::runtime::execution::ExecutionState;
use shuttle_engine::runtime::task::TaskId;
use std::sync::Arc;

/// The shuttle engine. Its `rand` values are scheduling decisions recorded in the
/// schedule, so injected timeouts and spurious wakeups replay exactly.
///
/// A checked thread that waits blocks its shuttle task *without* shuttle's spurious
/// wakeups: `shuttle::thread::park` lets the scheduler wake a parked task at any step, and
/// the checked world (which keeps its own wake flag) would only park it again. Those
/// wakeups add nothing a model can observe, multiply the schedules a depth-first search
/// must enumerate, and kept shuttle's DFS (which always takes the first runnable task)
/// waking and re-parking the same thread forever.
///
/// # Examples
///
/// ```
/// use lockproof::backend::checked::{execute, WorldConfig};
/// use lockproof::backend::{Shuttle, ShuttleEngine};
///
/// shuttle::check_random(
///     || {
///         execute::<ShuttleEngine>(WorldConfig::default(), None, || {
///             let e = lockproof::Event::<Shuttle>::new();
///             e.set();
///             assert!(e.is_set());
///         })
///     },
///     10,
/// );
/// ```
#[derive(Debug)]
pub struct ShuttleEngine;

/// Primitives under shuttle.
///
/// # Examples
///
/// ```
/// use lockproof::backend::checked::{execute, WorldConfig};
/// use lockproof::backend::{Backend, JoinHandle, Shuttle, ShuttleEngine};
/// use std::sync::Arc;
/// use std::time::Duration;
///
/// shuttle::check_random(
///     || {
///         execute::<ShuttleEngine>(WorldConfig::default(), None, || {
///             let e = Arc::new(lockproof::Event::<Shuttle>::new());
///             let e2 = e.clone();
///             let t = Shuttle::spawn("setter", move || e2.set());
///             assert_eq!(e.wait(Some(1.0)), Ok(true));
///             t.join();
///             assert!(Shuttle::now().0 <= Duration::from_secs(1).as_nanos() as u64);
///         })
///     },
///     20,
/// );
/// ```
pub type Shuttle = Checked<ShuttleEngine>;

forward_raw_atomic!(::shuttle::sync::atomic::AtomicUsize);

impl Engine for ShuttleEngine {
    const NAME: &'static str = "shuttle";
    const HAS_CHOICE: bool = true;
    const MAX_THREADS: Option<usize> = None;
    type Atomic = ::shuttle::sync::atomic::AtomicUsize;

    fn thread_key() -> u64 {
        usize::from(::shuttle::current::me()) as u64
    }

    fn unparker() -> Arc<dyn Fn() + Send + Sync> {
        let task: TaskId = ::shuttle::current::me();
        Arc::new(move || {
            // Only a task blocked in `park` below is woken; a task that has not parked yet
            // sees the world's wake flag before it would block (no engine step lies between
            // that check and the block).
            ExecutionState::with(|s| {
                let t = s.get_mut(task);
                if t.blocked() {
                    t.unblock();
                }
            });
        })
    }

    fn park() {
        ExecutionState::with(|s| s.current_mut().block(false));
        shuttle_engine::runtime::thread::switch();
    }

    fn spawn(f: Box<dyn FnOnce() + Send>) {
        drop(::shuttle::thread::spawn(f));
    }

    fn yield_now() {
        ::shuttle::thread::yield_now()
    }

    fn choose(n: usize) -> Option<usize> {
        Some(choice::choose(n, n))
    }

    fn choose_weighted(n: usize, distinct: usize) -> Option<usize> {
        Some(choice::choose(n, distinct))
    }
}

/// The choice operator under shuttle, and how a scheduler can enumerate it.
///
/// # Examples
///
/// ```
/// use lockproof::backend::checked::{execute, WorldConfig};
/// use lockproof::backend::{shuttle_choice, ShuttleEngine};
///
/// shuttle::check_random(
///     || {
///         execute::<ShuttleEngine>(WorldConfig::default(), None, || {
///             assert!(shuttle_choice::choose(3, 3) < 3);
///         })
///     },
///     10,
/// );
/// ```
pub mod choice {
    use std::cell::Cell;

    thread_local! {
        static ARITY: Cell<(usize, bool)> = const { Cell::new((0, false)) };
    }

    /// A recorded choice in `0..n`: one `u64` from shuttle's data source, reduced mod `n`.
    /// Only the first `distinct` values differ in effect (the caller treats every value
    /// from `distinct - 1` on alike: a weighted coin).
    ///
    /// A scheduler that enumerates choices (the harness's depth-first search) reads the
    /// number of distinct options with [`pending_arity`] inside its `next_u64` and answers
    /// a value in `0..distinct`, which this maps to itself.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::backend::checked::{execute, WorldConfig};
    /// use lockproof::backend::{shuttle_choice, ShuttleEngine};
    ///
    /// shuttle::check_random(
    ///     || {
    ///         execute::<ShuttleEngine>(WorldConfig::default(), None, || {
    ///             let coin = shuttle_choice::choose(2, 2);
    ///             assert!(coin == 0 || coin == 1);
    ///         })
    ///     },
    ///     10,
    /// );
    /// ```
    pub fn choose(n: usize, distinct: usize) -> usize {
        debug_assert!(distinct >= 1 && distinct <= n);
        ARITY.with(|a| a.set((distinct, distinct < n)));
        let v = ::shuttle::rand::RngCore::next_u64(&mut ::shuttle::rand::thread_rng());
        ARITY.with(|a| a.set((0, false)));
        (v % n as u64) as usize
    }

    /// The number of distinct options of the choice being made, while a scheduler's
    /// `next_u64` answers it (0 when the value is not a [`choose`]: a model's own
    /// `shuttle::rand`), and whether it is a weighted coin whose last option is the usual
    /// outcome (nothing fires), which an enumeration should try first.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::backend::shuttle_choice::pending_arity;
    ///
    /// assert_eq!(pending_arity(), (0, false)); // no choice is being made
    /// ```
    pub fn pending_arity() -> (usize, bool) {
        ARITY.with(|a| a.get())
    }
}

//! What a user checks: a [`Model`], a value whose `run` is one execution of the concurrent
//! code under test, generic over the world it runs in.

use lockproof::backend::{Loom, Shuttle};
use lockproof_scenario::Bodies;
use std::sync::Arc;

/// Concurrent code to check: `run` is one execution, generic over the [`Backend`](lockproof::backend::Backend) so the
/// same code runs under loom, shuttle and the depth-first engine (and on real threads with
/// [`lockproof::backend::Std`]).
///
/// A model is a value: it carries its parameters (a capacity, a number of threads, a
/// closure) in its fields, so one model type serves every parameter value. The checker
/// calls `run` once per execution, from the engine's main thread; `run` starts its threads
/// with `B::spawn` and everything it shares lives inside `run` (nothing carries over from
/// one execution to the next).
///
/// # Examples
///
/// ```
/// use lockproof_harness::Model;
/// use lockproof::backend::{Backend, JoinHandle};
/// use lockproof::Lock;
/// use std::sync::Arc;
///
/// /// `threads` threads each take the lock once.
/// struct TakeTurns {
///     threads: usize,
/// }
///
/// impl Model for TakeTurns {
///     fn run<B: Backend>(&self) {
///         let lock = Arc::new(Lock::<B>::new());
///         let ts: Vec<_> = (0..self.threads)
///             .map(|i| {
///                 let lock = lock.clone();
///                 B::spawn(&format!("t{i}"), move || drop(lock.lock()))
///             })
///             .collect();
///         ts.into_iter().for_each(|t| t.join());
///     }
/// }
///
/// lockproof_harness::check(TakeTurns { threads: 2 });
/// ```
///
/// A model of processes (multiprocessing's primitives in [`lockproof::process`],
/// `B::spawn_process`) names the process seam instead, which every checked world
/// implements: `fn run<B: ProcessBackend>(&self)`; a model that also uses files
/// ([`lockproof::file`]: flock, record locks, lock files, on the checked world's simulated
/// file system) names `lockproof::backend::System`. The trait's bound is `System`, so an
/// implementation may ask for it or for any seam it extends.
///
/// ```
/// use lockproof::backend::process::ProcessBackend;
/// use lockproof::backend::spawn::ProcessHandle;
/// use lockproof::backend::Backend;
/// use lockproof_harness::{Check, Family, Model};
///
/// /// Two processes add one each to a shared Value under its lock.
/// struct Counter;
///
/// impl Model for Counter {
///     fn run<B: ProcessBackend>(&self) {
///         let v = lockproof::process::Value::<i64, B>::new(0);
///         let child_v = v.reopen();
///         let child = B::spawn_process("child", move || {
///             let _g = child_v.get_lock().lock();
///             child_v.set_value(child_v.value() + 1);
///         });
///         {
///             let _g = v.get_lock().lock();
///             v.set_value(v.value() + 1);
///         }
///         assert_eq!(child.join(), 0);
///         assert_eq!(v.value(), 2);
///     }
/// }
///
/// Check::new(Counter).engines([Family::Random, Family::Dfs]).no_save().assert_holds();
/// ```
pub trait Model: Send + Sync + 'static {
    /// One execution of the code under test in world `B`.
    #[cfg(target_os = "linux")]
    fn run<B: lockproof::backend::System>(&self);
    /// One execution of the code under test in world `B`.
    #[cfg(not(target_os = "linux"))]
    fn run<B: lockproof::backend::Backend>(&self);
}

/// The engine bodies of a model (what a [`lockproof_scenario::Scenario`] holds).
///
/// # Examples
///
/// ```
/// # use lockproof::backend::{Backend, JoinHandle};
/// # use std::sync::Arc;
/// # struct Ordered;
/// # impl lockproof_harness::Model for Ordered {
/// #     fn run<B: Backend>(&self) {
/// #         let (a, b) = (Arc::new(lockproof::Lock::<B>::new()), Arc::new(lockproof::Lock::<B>::new()));
/// #         let (a2, b2) = (a.clone(), b.clone());
/// #         let t = B::spawn("t", move || { let _a = a2.lock(); let _b = b2.lock(); });
/// #         { let _a = a.lock(); let _b = b.lock(); }
/// #         t.join();
/// #     }
/// # }
/// use lockproof_harness::model::bodies;
/// use lockproof_harness::{Check, Family, Scenario};
///
/// let scenario = Scenario::new("ordered", "two locks in one order", bodies(Ordered));
/// Check::scenario(scenario).engines([Family::Dfs]).no_save().assert_holds();
/// ```
pub fn bodies<M: Model>(model: M) -> Bodies {
    let model = Arc::new(model);
    let (l, s) = (model.clone(), model);
    Bodies {
        loom: Arc::new(move || l.run::<Loom>()),
        shuttle: Arc::new(move || s.run::<Shuttle>()),
    }
}

//! Monitors: observers of every traced step that fail an execution when a property breaks.
//!
//! | monitor | property | watches |
//! |---|---|---|
//! | [`MutualExclusion`] | `mutual-exclusion` | the world's holders of each `Region` (capacity N), Lock and RLock |
//! | [`BarrierGeneration`] | `barrier-generation` | `Rounds` arrive/depart, `Barrier.wait` indices and actions |
//! | [`LostUpdate`] | `no-lost-update` | `get`/`set` of multiprocessing's shared `Value`: a write that overwrites another's unseen |
//!
//! Deadlock and lost wakeup are detected by the checked world itself when every live thread
//! is blocked (`deadlock`, `lost-wakeup`); no-lost-update and the tutorial's claims are the
//! models' own `ensure` checks.

mod barrier;
mod exclusion;
mod lost_update;

pub use barrier::BarrierGeneration;
pub use exclusion::MutualExclusion;
pub use lost_update::LostUpdate;

use lockproof::backend::checked::{ExecutionReport, Observer, StepContext, TraceEvent, Violation};

/// Every monitor, for one execution.
///
/// # Examples
///
/// ```
/// use lockproof::backend::checked::{execute, take_last_report, Failure, WorldConfig};
/// use lockproof::backend::{Backend, JoinHandle, Shuttle, ShuttleEngine};
/// use lockproof_harness::monitor::Monitors;
/// use lockproof_scenario::Region;
/// use std::sync::Arc;
///
/// // One checked execution with every monitor, driven by shuttle directly.
/// let failed = std::panic::catch_unwind(|| {
///     shuttle::check_random(
///         || {
///             execute::<ShuttleEngine>(WorldConfig::default(), Some(Monitors::boxed()), || {
///                 let region = Arc::new(Region::<Shuttle>::new("critical", 1));
///                 let r2 = region.clone();
///                 let t = Shuttle::spawn("t", move || drop(r2.enter()));
///                 drop(region.enter()); // no lock: the two may overlap
///                 t.join();
///             })
///         },
///         200,
///     )
/// });
/// assert!(failed.is_err());
/// match take_last_report().and_then(|r| r.failure) {
///     Some(Failure::Violation { property, .. }) => assert_eq!(property, "mutual-exclusion"),
///     other => panic!("{other:?}"),
/// }
/// ```
#[derive(Debug, Default)]
pub struct Monitors {
    exclusion: MutualExclusion,
    barrier: BarrierGeneration,
    lost_update: LostUpdate,
}

impl Monitors {
    /// Fresh monitors, boxed for the checked world.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::backend::checked::{execute, take_last_report, WorldConfig};
    /// use lockproof::backend::ShuttleEngine;
    /// use lockproof_harness::monitor::Monitors;
    ///
    /// // A checked execution with every monitor, and nothing for them to find.
    /// shuttle::check_random(
    ///     || execute::<ShuttleEngine>(WorldConfig::default(), Some(Monitors::boxed()), || {}),
    ///     1,
    /// );
    /// assert!(take_last_report().map_or(true, |r| r.failure.is_none()));
    /// ```
    pub fn boxed() -> Box<dyn Observer> {
        Box::<Monitors>::default()
    }
}

impl Observer for Monitors {
    fn on_event(&mut self, event: &TraceEvent, cx: StepContext<'_>) -> Result<(), Violation> {
        self.exclusion.on_event(event, cx)?;
        self.barrier.on_event(event, cx)?;
        self.lost_update.on_event(event, cx)
    }

    fn on_finish(&mut self, report: &ExecutionReport) -> Result<(), Violation> {
        self.exclusion.on_finish(report)?;
        self.barrier.on_finish(report)?;
        self.lost_update.on_finish(report)
    }
}

/// The integer argument `key` of a step (`round`, `parties`, `capacity`), a field of its
/// typed arguments: nothing is parsed back from text.
pub(crate) fn arg(args: &lockproof::backend::Args, key: &str) -> Option<usize> {
    args.get_int(key).and_then(|v| usize::try_from(v).ok())
}

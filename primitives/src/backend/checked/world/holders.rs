//! Who holds what: kept once by the world from each step's typed effect, read by the
//! deadlock analysis and handed to the monitors.

use super::super::fxhash::FxHashMap as HashMap;
use super::ids::{ObjectId, ThreadId};
use crate::backend::Hold;

/// The holders of every object, as far as the trace shows: a thread appears once per level
/// it holds (an RLock acquired twice: twice; a semaphore: once per permit taken).
///
/// # Examples
///
/// ```
/// use lockproof::backend::checked::{execute, Observer, StepContext, TraceEvent, Violation, WorldConfig};
/// use lockproof::backend::{Shuttle, ShuttleEngine};
/// use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
/// use std::sync::Arc;
///
/// /// Remembers the most holder entries any object had.
/// struct MostHeld(Arc<AtomicUsize>);
///
/// impl Observer for MostHeld {
///     fn on_event(&mut self, event: &TraceEvent, cx: StepContext<'_>) -> Result<(), Violation> {
///         if let Some(object) = event.object {
///             self.0.fetch_max(cx.holders.of(object).len(), SeqCst);
///         }
///         Ok(())
///     }
/// }
///
/// let most = Arc::new(AtomicUsize::new(0));
/// let seen = most.clone();
/// shuttle::check_random(
///     move || {
///         let observer = Box::new(MostHeld(seen.clone()));
///         execute::<ShuttleEngine>(WorldConfig::default(), Some(observer), || {
///             let rlock = lockproof::RLock::<Shuttle>::new();
///             let _outer = rlock.lock();
///             let _inner = rlock.lock();
///         })
///     },
///     1,
/// );
/// assert_eq!(most.load(SeqCst), 2); // an RLock held twice: its owner appears twice
/// ```
#[derive(Debug, Default)]
pub struct Holders {
    held: HashMap<ObjectId, Vec<ThreadId>>,
    /// Threads of crashed processes: they still hold what they held (a multiprocessing
    /// lock stays held), but take no step again.
    dead: Vec<ThreadId>,
}

impl Holders {
    /// The threads holding `object`, oldest first, one entry per level held.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::backend::checked::{Holders, ObjectId};
    ///
    /// // Before any step, nobody holds anything.
    /// assert!(Holders::default().of(ObjectId::from_index(0)).is_empty());
    /// ```
    pub fn of(&self, object: ObjectId) -> &[ThreadId] {
        self.held.get(&object).map_or(&[], Vec::as_slice)
    }

    /// Whether `thread` belongs to a crashed process. What it held stays held (a
    /// multiprocessing lock is not released by a death), but it is no longer *inside*
    /// anything: a monitor of a critical region counts only the living.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::backend::checked::{Holders, ThreadId};
    ///
    /// assert!(!Holders::default().is_dead(ThreadId::from_index(1)));
    /// ```
    pub fn is_dead(&self, thread: ThreadId) -> bool {
        self.dead.contains(&thread)
    }

    /// `thread`'s process crashed.
    /// Empty, keeping the allocations, for the next execution on this OS thread: an
    /// object's list stays in the table, emptied (nobody holds it), since the next
    /// execution numbers its objects from 0 again.
    pub(super) fn reset(&mut self) {
        for holders in self.held.values_mut() {
            holders.clear();
        }
        self.dead.clear();
    }

    pub(super) fn mark_dead(&mut self, thread: ThreadId) {
        if !self.dead.contains(&thread) {
            self.dead.push(thread);
        }
    }

    /// A digest of who holds what, independent of the map's order (for `liveness`).
    pub(super) fn digest(&self) -> u64 {
        use std::hash::{Hash, Hasher};
        self.held
            .iter()
            .filter(|(_, ts)| !ts.is_empty())
            .map(|(o, ts)| {
                let mut h = super::super::fxhash::FxHasher::default();
                (o, ts).hash(&mut h);
                h.finish()
            })
            .fold(self.dead.len() as u64, u64::wrapping_add)
    }

    /// Apply `thread`'s step on `object`.
    pub(super) fn apply(&mut self, object: ObjectId, thread: ThreadId, hold: Hold) {
        if hold == Hold::Nothing {
            return;
        }
        let holders = self.held.entry(object).or_default();
        match hold {
            Hold::Nothing => {}
            Hold::Acquired => holders.push(thread),
            Hold::Released => {
                // A Lock or a semaphore permit may be released by a thread that does not
                // hold it: then the oldest holder loses it.
                if let Some(pos) = holders.iter().position(|&t| t == thread) {
                    holders.remove(pos);
                } else if !holders.is_empty() {
                    holders.remove(0);
                }
            }
            Hold::ReleasedAll => holders.retain(|&t| t != thread),
            Hold::Restored(levels) => {
                let levels = usize::try_from(levels).unwrap_or(1).max(1);
                holders.extend(std::iter::repeat_n(thread, levels));
            }
        }
    }
}

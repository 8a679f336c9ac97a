//! Model-side probes: what the harness's monitors watch besides the primitives.

use lockproof::backend::checked::violate;
use lockproof::backend::{Args, Backend, Hold, ObjectTag, Outcome, RawAtomic, Record};
use std::fmt;
use std::sync::atomic::Ordering::SeqCst;

/// Fail the current checked execution with a violation of `property` unless `cond` holds.
/// The message is built only on failure.
///
/// # Examples
///
/// ```
/// use lockproof_scenario::ensure;
///
/// let n = 2;
/// ensure(n == 2, "no-lost-update", || format!("n == {n}")); // holds: nothing happens
/// let failed = std::panic::catch_unwind(|| ensure(false, "p", || "outside a checker".into()));
/// assert!(failed.is_err()); // a violation fails the execution (here: no checked world)
/// ```
pub fn ensure(cond: bool, property: &str, message: impl FnOnce() -> String) {
    if !cond {
        violate(property, &message());
    }
}

/// A critical region with a capacity: the mutual-exclusion monitor fails the execution
/// when more than `capacity` threads are inside at once (1 for a lock's critical section,
/// N for an N-permit semaphore).
///
/// Entering and leaving are traced steps (`enter`, `exit`), so the trace shows who was
/// inside.
///
/// # Examples
///
/// ```
/// use lockproof::backend::Std;
/// use lockproof_scenario::Region;
///
/// let critical = Region::<Std>::new("critical", 1);
/// {
///     let _inside = critical.enter();
///     // the mutual-exclusion monitor counts this thread inside
/// }
/// ```
pub struct Region<B: Backend> {
    inside: B::Atomic,
    capacity: usize,
    tag: B::Tag,
}

impl<B: Backend> fmt::Debug for Region<B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Region")
            .field("capacity", &self.capacity)
            .finish()
    }
}

impl<B: Backend> Region<B> {
    /// A region that admits `capacity` threads at a time.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::backend::Std;
    /// use lockproof_scenario::Region;
    ///
    /// let pool = Region::<Std>::new("pool", 2); // an N-permit semaphore's region
    /// drop(pool.enter());
    /// ```
    pub fn new(name: &str, capacity: usize) -> Self {
        let tag = B::Tag::new("Region");
        tag.set_name(name);
        Region {
            inside: B::Atomic::new(0),
            capacity,
            tag,
        }
    }

    /// Enter the region; leave when the guard drops.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::backend::Std;
    /// use lockproof_scenario::Region;
    ///
    /// let r = Region::<Std>::new("r", 1);
    /// let guard = r.enter();
    /// drop(guard); // left the region
    /// ```
    pub fn enter(&self) -> RegionGuard<'_, B> {
        let n = self.inside.fetch_add(1, SeqCst) + 1;
        B::record(&self.tag, || {
            Record::with_args(
                "enter",
                Args::new().int("capacity", self.capacity as i64),
                Outcome::Int(n as i64),
            )
            .holding(Hold::Acquired)
        });
        RegionGuard { region: self }
    }
}

/// Inside a [`Region`].
///
/// # Examples
///
/// ```
/// use lockproof::backend::Std;
/// use lockproof_scenario::Region;
///
/// let r = Region::<Std>::new("r", 1);
/// let _inside: lockproof_scenario::RegionGuard<'_, Std> = r.enter();
/// ```
pub struct RegionGuard<'a, B: Backend> {
    region: &'a Region<B>,
}

impl<B: Backend> fmt::Debug for RegionGuard<'_, B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RegionGuard")
    }
}

impl<B: Backend> Drop for RegionGuard<'_, B> {
    fn drop(&mut self) {
        let n = self.region.inside.fetch_sub(1, SeqCst).wrapping_sub(1);
        B::record(&self.region.tag, || {
            Record::with_args(
                "exit",
                Args::new().int("capacity", self.region.capacity as i64),
                Outcome::Int(n as i64),
            )
            .holding(Hold::Released)
        });
    }
}

/// Rounds of a barrier-like rendezvous of `parties` threads, for the barrier-generation
/// monitor: a thread calls `arrive(r)` when it reaches the rendezvous of round `r` and
/// `depart(r)` when it gets past it. The monitor fails the execution when a thread departs
/// round `r` before all parties arrived at round `r`.
///
/// # Examples
///
/// ```
/// use lockproof::backend::Std;
/// use lockproof_scenario::Rounds;
///
/// let rounds = Rounds::<Std>::new("phase", 1);
/// for round in 0..2 {
///     rounds.arrive(round);
///     // barrier.wait() would go here
///     rounds.depart(round);
/// }
/// ```
pub struct Rounds<B: Backend> {
    parties: usize,
    tag: B::Tag,
}

impl<B: Backend> fmt::Debug for Rounds<B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Rounds")
            .field("parties", &self.parties)
            .finish()
    }
}

impl<B: Backend> Rounds<B> {
    /// Rounds of `parties` threads.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::backend::Std;
    /// use lockproof_scenario::Rounds;
    ///
    /// let rounds = Rounds::<Std>::new("gen", 3);
    /// rounds.arrive(0);
    /// ```
    pub fn new(name: &str, parties: usize) -> Self {
        let tag = B::Tag::new("Rounds");
        tag.set_name(name);
        Rounds { parties, tag }
    }

    /// The calling thread reached round `round`.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::backend::Std;
    /// use lockproof_scenario::Rounds;
    ///
    /// let rounds = Rounds::<Std>::new("gen", 1);
    /// rounds.arrive(0);
    /// rounds.depart(0);
    /// ```
    pub fn arrive(&self, round: usize) {
        B::record(&self.tag, || {
            Record::with_args(
                "arrive",
                Args::new()
                    .int("round", round as i64)
                    .int("parties", self.parties as i64),
                Outcome::Done,
            )
        });
    }

    /// The calling thread got past round `round`.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::backend::Std;
    /// use lockproof_scenario::Rounds;
    ///
    /// let rounds = Rounds::<Std>::new("gen", 1);
    /// rounds.arrive(0);
    /// rounds.depart(0); // all parties of round 0 arrived first: the monitor is content
    /// ```
    pub fn depart(&self, round: usize) {
        B::record(&self.tag, || {
            Record::with_args(
                "depart",
                Args::new()
                    .int("round", round as i64)
                    .int("parties", self.parties as i64),
                Outcome::Done,
            )
        });
    }
}

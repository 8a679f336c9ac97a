//! A client node: a name and its clocks.

use super::clock::NodeClock;
use super::cluster::Cluster;
use lockproof::backend::{Args, Backend, ObjectTag, Outcome, RawAtomic, Record};
use std::fmt;
use std::sync::atomic::Ordering::SeqCst;
use std::sync::{Arc, Mutex};

/// A client of the cluster: the machine a process of the model runs on, with its own wall
/// and monotonic clocks. The threads of the process that uses a node are what a pause or a
/// crash stops; the node itself is only a name and clocks. Clones are the same node.
///
/// # Examples
///
/// ```
/// use lockproof::backend::Std;
/// use lockproof_services::sim::{Cluster, Faults};
///
/// let c = Cluster::<Std>::new(Faults::none());
/// let n = c.node("client-1");
/// let t0 = n.monotonic();
/// assert!(n.monotonic() >= t0);
/// ```
pub struct Node<B: Backend> {
    inner: Arc<Inner<B>>,
    cluster: Cluster<B>,
}

struct Inner<B: Backend> {
    name: String,
    clock: Mutex<NodeClock>,
    touch: B::Atomic,
    tag: B::Tag,
}

impl<B: Backend> Clone for Node<B> {
    fn clone(&self) -> Self {
        Node {
            inner: Arc::clone(&self.inner),
            cluster: self.cluster.clone(),
        }
    }
}

impl<B: Backend> fmt::Debug for Node<B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Node")
            .field("name", &self.inner.name)
            .finish()
    }
}

impl<B: Backend> fmt::Display for Node<B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.inner.name)
    }
}

impl<B: Backend> Node<B> {
    pub(crate) fn new(cluster: Cluster<B>, name: &str, clock: NodeClock) -> Self {
        let tag = B::Tag::new("Node");
        tag.set_name(name);
        Node {
            inner: Arc::new(Inner {
                name: name.to_owned(),
                clock: Mutex::new(clock),
                touch: B::Atomic::new(0),
                tag,
            }),
            cluster,
        }
    }

    /// The node's name.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::backend::Std;
    /// use lockproof_services::sim::{Cluster, Faults};
    ///
    /// assert_eq!(Cluster::<Std>::new(Faults::none()).node("n1").name(), "n1");
    /// ```
    pub fn name(&self) -> &str {
        &self.inner.name
    }

    /// The cluster the node belongs to.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::backend::Std;
    /// use lockproof_services::sim::{Cluster, Faults};
    ///
    /// let c = Cluster::<Std>::new(Faults::none().messages(1));
    /// assert_eq!(c.node("n").cluster().faults().messages, 1);
    /// ```
    pub fn cluster(&self) -> &Cluster<B> {
        &self.cluster
    }

    fn clock(&self) -> std::sync::MutexGuard<'_, NodeClock> {
        self.inner.clock.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Python's `time.time()` on this node: its wall clock in seconds. A traced step (a
    /// clock read a decision rests on), where the checker may make the clock jump when the
    /// cluster's budget allows.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::backend::Std;
    /// use lockproof_services::sim::{Cluster, Faults, NodeClock};
    /// use std::time::Duration;
    ///
    /// let c = Cluster::<Std>::new(Faults::none());
    /// let behind = c.node_with("b", NodeClock::default().behind(Duration::from_secs(10)));
    /// assert!(behind.time() < c.node("t").time());
    /// ```
    pub fn time(&self) -> f64 {
        self.inner.touch.fetch_add(1, SeqCst);
        if let Some(fault) = self.cluster.clock_fault() {
            let by = self.cluster.jump(fault);
            self.clock().jumped += by;
            B::record(&self.inner.tag, || {
                Record::with_args(
                    "clock-jump",
                    Args::new().secs("by", by as f64 / 1e9),
                    Outcome::Done,
                )
            });
        }
        let wall = self.clock().wall(B::now().0);
        let secs = wall as f64 / 1e9;
        B::record(&self.inner.tag, || {
            Record::new("time", Outcome::Value(format!("{secs:.3}")))
        });
        secs
    }

    /// Python's `time.monotonic()` on this node, in seconds (drifts, never jumps).
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::backend::Std;
    /// use lockproof_services::sim::{Cluster, Faults};
    ///
    /// let n = Cluster::<Std>::new(Faults::none()).node("n");
    /// assert!(n.monotonic() >= 0.0);
    /// ```
    pub fn monotonic(&self) -> f64 {
        self.inner.touch.fetch_add(1, SeqCst);
        let mono = self.clock().mono(B::now().0);
        let secs = mono as f64 / 1e9;
        B::record(&self.inner.tag, || {
            Record::new("monotonic", Outcome::Value(format!("{secs:.3}")))
        });
        secs
    }

    /// The node's clocks as they stand (no step; for judges and tests).
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::backend::Std;
    /// use lockproof_services::sim::{Cluster, Faults, NodeClock};
    ///
    /// let n = Cluster::<Std>::new(Faults::none()).node("n");
    /// assert_eq!(n.clocks(), NodeClock::default());
    /// ```
    pub fn clocks(&self) -> NodeClock {
        *self.clock()
    }
}

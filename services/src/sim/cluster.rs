//! The fault budget of one execution, and the coin every fault is drawn with.

use super::clock::{nanos, NodeClock};
use super::node::Node;
use super::server::Server;
use super::storage::Storage;
use lockproof::backend::Backend;
use std::collections::BTreeMap;
use std::fmt;
use std::marker::PhantomData;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

/// The checker's odds of a fault at one point where it can happen: the faults possible
/// there against this many ways of nothing happening, so that a random schedule spends its
/// budget at any point, not always at the first. An enumerating engine tries each fault
/// and "nothing" once.
const NOTHING_ODDS: usize = 6;

/// Which faults the checker may inject in one execution, and how many of each (all off by
/// default: a cluster without faults is a reliable network of clocks that agree).
///
/// # Examples
///
/// ```
/// use lockproof_services::sim::Faults;
/// use std::time::Duration;
///
/// let f = Faults::none()
///     .messages(1)
///     .clock_jumps(1, Duration::from_secs(30))
///     .timeout(Duration::from_millis(500));
/// assert_eq!((f.messages, f.clock_jumps, f.restarts), (1, 1, 0));
/// assert_eq!(f.jump, Duration::from_secs(30));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Faults {
    /// Messages lost or delayed: a request lost, a reply lost, or a request delivered
    /// after its client gave up.
    pub messages: u32,
    /// Partitions: a client node cut from every server for [`partition_span`](Faults::partition_span).
    pub partitions: u32,
    /// How long a partition lasts.
    pub partition_span: Duration,
    /// Clock jumps, each of ± [`jump`](Faults::jump), of a client node's or a server's wall clock.
    pub clock_jumps: u32,
    /// The size of a clock jump.
    pub jump: Duration,
    /// Server restarts (what survives is the twin's own `restart`).
    pub restarts: u32,
    /// How long a client waits for a reply before it gives up (its socket timeout).
    pub timeout: Duration,
}

impl Default for Faults {
    fn default() -> Self {
        Faults::none()
    }
}

impl Faults {
    /// No fault at all; a client waits 1 s for a reply.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof_services::sim::Faults;
    ///
    /// assert_eq!(Faults::none().messages, 0);
    /// assert_eq!(Faults::none(), Faults::default());
    /// ```
    pub fn none() -> Self {
        Faults {
            messages: 0,
            partitions: 0,
            partition_span: Duration::from_secs(5),
            clock_jumps: 0,
            jump: Duration::from_secs(10),
            restarts: 0,
            timeout: Duration::from_secs(1),
        }
    }

    /// At most `n` messages lost or delayed.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof_services::sim::Faults;
    ///
    /// assert_eq!(Faults::none().messages(2).messages, 2);
    /// ```
    #[must_use]
    pub fn messages(mut self, n: u32) -> Self {
        self.messages = n;
        self
    }

    /// At most `n` partitions of `span` each.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof_services::sim::Faults;
    /// use std::time::Duration;
    ///
    /// assert_eq!(Faults::none().partitions(1, Duration::from_secs(3)).partition_span, Duration::from_secs(3));
    /// ```
    #[must_use]
    pub fn partitions(mut self, n: u32, span: Duration) -> Self {
        self.partitions = n;
        self.partition_span = span;
        self
    }

    /// At most `n` clock jumps of ± `by`.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof_services::sim::Faults;
    /// use std::time::Duration;
    ///
    /// assert_eq!(Faults::none().clock_jumps(1, Duration::from_secs(60)).clock_jumps, 1);
    /// ```
    #[must_use]
    pub fn clock_jumps(mut self, n: u32, by: Duration) -> Self {
        self.clock_jumps = n;
        self.jump = by;
        self
    }

    /// At most `n` server restarts.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof_services::sim::Faults;
    ///
    /// assert_eq!(Faults::none().restarts(1).restarts, 1);
    /// ```
    #[must_use]
    pub fn restarts(mut self, n: u32) -> Self {
        self.restarts = n;
        self
    }

    /// A client waits `d` for a reply.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof_services::sim::Faults;
    /// use std::time::Duration;
    ///
    /// assert_eq!(Faults::none().timeout(Duration::from_millis(100)).timeout, Duration::from_millis(100));
    /// ```
    #[must_use]
    pub fn timeout(mut self, d: Duration) -> Self {
        self.timeout = d;
        self
    }

    /// Whether any fault can be injected (then the checker needs a choice operator: loom
    /// has none).
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof_services::sim::Faults;
    ///
    /// assert!(!Faults::none().any());
    /// assert!(Faults::none().restarts(1).any());
    /// ```
    pub fn any(&self) -> bool {
        self.messages + self.partitions + self.clock_jumps + self.restarts > 0
    }
}

/// What one execution has spent of its budget, and who is cut off until when.
#[derive(Default)]
struct Spent {
    messages: u32,
    partitions: u32,
    clock_jumps: u32,
    restarts: u32,
    /// Node name → true time (ns) its partition ends.
    partitioned: BTreeMap<String, u64>,
}

/// A fault the checker may inject at a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Fault {
    LoseRequest,
    LoseReply,
    Late,
    Partition,
    Restart,
    JumpForward,
    JumpBack,
}

/// The simulated cluster of one execution: its fault budget, shared by every node, server
/// and storage made from it. Make one at the start of a model's body (each execution starts
/// with the whole budget); clones share it.
///
/// # Examples
///
/// ```
/// use lockproof::backend::Std;
/// use lockproof_services::sim::{Cluster, Faults};
///
/// let cluster = Cluster::<Std>::new(Faults::none());
/// let a = cluster.node("a");
/// assert_eq!(a.name(), "a");
/// assert!(a.time() >= 0.0);
/// ```
pub struct Cluster<B: Backend> {
    inner: Arc<Inner>,
    _backend: PhantomData<fn() -> B>,
}

struct Inner {
    faults: Faults,
    spent: Mutex<Spent>,
}

impl<B: Backend> Clone for Cluster<B> {
    fn clone(&self) -> Self {
        Cluster {
            inner: Arc::clone(&self.inner),
            _backend: PhantomData,
        }
    }
}

impl<B: Backend> fmt::Debug for Cluster<B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Cluster")
            .field("faults", &self.inner.faults)
            .finish()
    }
}

impl<B: Backend> Cluster<B> {
    /// A cluster whose checker may inject `faults`.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::backend::Std;
    /// use lockproof_services::sim::{Cluster, Faults};
    ///
    /// let c = Cluster::<Std>::new(Faults::none().messages(1));
    /// assert_eq!(c.faults().messages, 1);
    /// ```
    pub fn new(faults: Faults) -> Self {
        Cluster {
            inner: Arc::new(Inner {
                faults,
                spent: Mutex::new(Spent::default()),
            }),
            _backend: PhantomData,
        }
    }

    /// The budget this cluster was made with.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::backend::Std;
    /// use lockproof_services::sim::{Cluster, Faults};
    ///
    /// assert_eq!(Cluster::<Std>::new(Faults::none()).faults(), &Faults::none());
    /// ```
    pub fn faults(&self) -> &Faults {
        &self.inner.faults
    }

    /// A client node named `name` whose clocks agree with true time.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::backend::Std;
    /// use lockproof_services::sim::{Cluster, Faults};
    ///
    /// let n = Cluster::<Std>::new(Faults::none()).node("worker-1");
    /// assert_eq!(n.to_string(), "worker-1");
    /// ```
    pub fn node(&self, name: &str) -> Node<B> {
        self.node_with(name, NodeClock::default())
    }

    /// A client node named `name` with clocks `clock` (ahead, behind, drifting).
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::backend::Std;
    /// use lockproof_services::sim::{Cluster, Faults, NodeClock};
    /// use std::time::Duration;
    ///
    /// let c = Cluster::<Std>::new(Faults::none());
    /// let fast = c.node_with("fast", NodeClock::default().ahead(Duration::from_secs(3600)));
    /// assert!(fast.time() > c.node("true").time() + 3000.0);
    /// ```
    pub fn node_with(&self, name: &str, clock: NodeClock) -> Node<B> {
        Node::new(self.clone(), name, clock)
    }

    /// A server named `name` running `twin`, its clocks agreeing with true time.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::backend::Std;
    /// use lockproof_services::sim::{Cluster, Faults};
    ///
    /// let c = Cluster::<Std>::new(Faults::none());
    /// let counter = c.server("counter", 0u64);
    /// assert_eq!(counter.call(&c.node("a"), "INCR", |n, _| { *n += 1; *n }), Ok(1));
    /// ```
    pub fn server<S: Send + 'static>(&self, name: &str, twin: S) -> Server<S, B> {
        Server::new(self.clone(), name, twin, NodeClock::default())
    }

    /// A server named `name` running `twin`, with clocks `clock`.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::backend::Std;
    /// use lockproof_services::sim::{Cluster, Faults, NodeClock};
    /// use std::time::Duration;
    ///
    /// let c = Cluster::<Std>::new(Faults::none());
    /// let late = c.server_with("redis-3", (), NodeClock::default().behind(Duration::from_secs(1)));
    /// assert!(late.inspect(|_, clock| clock.wall) < 0);
    /// ```
    pub fn server_with<S: Send + 'static>(
        &self,
        name: &str,
        twin: S,
        clock: NodeClock,
    ) -> Server<S, B> {
        Server::new(self.clone(), name, twin, clock)
    }

    /// The protected resource: a storage named `name`, fenced (it rejects a token older
    /// than the newest it accepted) or not.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::backend::Std;
    /// use lockproof_services::sim::{Cluster, Faults};
    ///
    /// let c = Cluster::<Std>::new(Faults::none());
    /// let s = c.storage("ledger", true);
    /// assert!(s.write(&c.node("a"), Some(2), "x").is_ok());
    /// assert!(s.write(&c.node("b"), Some(1), "y").is_err()); // stale token: rejected
    /// ```
    pub fn storage(&self, name: &str, fenced: bool) -> Storage<B> {
        Storage::new(name, fenced)
    }

    fn spent(&self) -> MutexGuard<'_, Spent> {
        self.inner.spent.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The checker's coin at a request from `node`: a fault the budget still allows, or
    /// `None` (nothing happens). Spends what it picks.
    pub(crate) fn request_fault(&self, restartable: bool) -> Option<Fault> {
        let f = &self.inner.faults;
        let mut options = Vec::new();
        {
            let spent = self.spent();
            if spent.messages < f.messages {
                options.extend([Fault::LoseRequest, Fault::LoseReply, Fault::Late]);
            }
            if spent.partitions < f.partitions {
                options.push(Fault::Partition);
            }
            if restartable && spent.restarts < f.restarts {
                options.push(Fault::Restart);
            }
            if spent.clock_jumps < f.clock_jumps {
                options.extend([Fault::JumpForward, Fault::JumpBack]);
            }
        }
        let fault = self.coin(&options)?;
        self.spend(fault);
        Some(fault)
    }

    /// The checker's coin at a clock read: a jump forward or back, or `None`.
    pub(crate) fn clock_fault(&self) -> Option<Fault> {
        let f = &self.inner.faults;
        if self.spent().clock_jumps >= f.clock_jumps {
            return None;
        }
        let fault = self.coin(&[Fault::JumpForward, Fault::JumpBack])?;
        self.spend(fault);
        Some(fault)
    }

    fn coin(&self, options: &[Fault]) -> Option<Fault> {
        if options.is_empty() {
            return None;
        }
        let c = B::choose_weighted(options.len() + NOTHING_ODDS, options.len() + 1);
        options.get(c).copied()
    }

    fn spend(&self, fault: Fault) {
        let mut spent = self.spent();
        match fault {
            Fault::LoseRequest | Fault::LoseReply | Fault::Late => spent.messages += 1,
            Fault::Partition => spent.partitions += 1,
            Fault::Restart => spent.restarts += 1,
            Fault::JumpForward | Fault::JumpBack => spent.clock_jumps += 1,
        }
    }

    /// The signed size of a jump.
    pub(crate) fn jump(&self, fault: Fault) -> i64 {
        let by = nanos(self.inner.faults.jump);
        if fault == Fault::JumpBack {
            -by
        } else {
            by
        }
    }

    /// Cut `node` off from every server until true time `until`.
    pub(crate) fn cut(&self, node: &str, until: u64) {
        self.spent().partitioned.insert(node.to_owned(), until);
    }

    /// Whether `node` is cut off at true time `now`.
    pub(crate) fn is_cut(&self, node: &str, now: u64) -> bool {
        self.spent()
            .partitioned
            .get(node)
            .is_some_and(|&until| now < until)
    }

    /// How long a client waits for a reply.
    pub(crate) fn timeout(&self) -> Duration {
        self.inner.faults.timeout
    }

    /// How long a partition lasts, in nanoseconds.
    pub(crate) fn partition_span(&self) -> u64 {
        u64::try_from(self.inner.faults.partition_span.as_nanos()).unwrap_or(u64::MAX)
    }
}

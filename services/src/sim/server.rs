//! A twin behind the network: one request applied per step, and the faults of getting
//! there and back.

use super::clock::NodeClock;
use super::cluster::{Cluster, Fault};
use super::node::Node;
use crate::time::ServerClock;
use lockproof::backend::{Args, Backend, ObjectTag, Outcome, RawAtomic, Record};
use std::fmt;
use std::sync::atomic::Ordering::SeqCst;
use std::sync::{Arc, Mutex, MutexGuard};

/// Why a request got no reply.
///
/// # Examples
///
/// ```
/// use lockproof_services::sim::NetError;
///
/// assert_eq!(NetError::Timeout.to_string(), "TimeoutError: Timeout reading from socket");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum NetError {
    /// No reply within the client's timeout: the request may or may not have been applied
    /// (lost on the way, lost on the way back, or still on its way).
    Timeout,
}

impl fmt::Display for NetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NetError::Timeout => f.write_str("TimeoutError: Timeout reading from socket"),
        }
    }
}

impl std::error::Error for NetError {}

type Hook<S> = Box<dyn Fn(&mut S, ServerClock) + Send + Sync>;

/// A server running a twin `S` (a Redis-, SQL-, ZooKeeper- or etcd-like state machine),
/// reached over the cluster's network. Clones are the same server.
///
/// [`call`](Server::call) is one request: sending it is a step, the server applies it
/// atomically in a later step with its own clocks, and the reply comes back, unless the
/// checker injects a fault there (see the [module](super) table).
///
/// # Examples
///
/// ```
/// use lockproof::backend::Std;
/// use lockproof_services::sim::{Cluster, Faults};
///
/// let c = Cluster::<Std>::new(Faults::none());
/// let store = c.server("store", Vec::<String>::new());
/// let a = c.node("a");
/// assert_eq!(store.call(&a, "APPEND x", |v, _| { v.push("x".into()); v.len() }), Ok(1));
/// assert_eq!(store.inspect(|v, _| v.clone()), ["x"]);
/// ```
pub struct Server<S, B: Backend> {
    inner: Arc<Inner<S, B>>,
    cluster: Cluster<B>,
}

struct Inner<S, B: Backend> {
    name: String,
    twin: Mutex<Box<S>>,
    clock: Mutex<NodeClock>,
    restart: Option<Hook<S>>,
    after: Option<Hook<S>>,
    touch: B::Atomic,
    tag: B::Tag,
}

impl<S, B: Backend> Clone for Server<S, B> {
    fn clone(&self) -> Self {
        Server {
            inner: Arc::clone(&self.inner),
            cluster: self.cluster.clone(),
        }
    }
}

impl<S, B: Backend> fmt::Debug for Server<S, B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Server")
            .field("name", &self.inner.name)
            .finish()
    }
}

impl<S: Send + 'static, B: Backend> Server<S, B> {
    pub(crate) fn new(cluster: Cluster<B>, name: &str, twin: S, clock: NodeClock) -> Self {
        let tag = B::Tag::new("Server");
        tag.set_name(name);
        Server {
            inner: Arc::new(Inner {
                name: name.to_owned(),
                twin: Mutex::new(Box::new(twin)),
                clock: Mutex::new(clock),
                restart: None,
                after: None,
                touch: B::Atomic::new(0),
                tag,
            }),
            cluster,
        }
    }

    fn rebuild(self, f: impl FnOnce(&mut Inner<S, B>)) -> Self {
        let Server { inner, cluster } = self;
        let mut inner = match Arc::try_unwrap(inner) {
            Ok(i) => i,
            Err(_) => {
                panic!("Server::restartable/after_each: configure a server before cloning it")
            }
        };
        f(&mut inner);
        Server {
            inner: Arc::new(inner),
            cluster,
        }
    }

    /// The server can be restarted by the checker (when the cluster's budget has
    /// restarts): `restart` does to the twin what a restart does (a Redis without
    /// persistence forgets every key). Configure before cloning.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::backend::Std;
    /// use lockproof_services::sim::{Cluster, Faults};
    ///
    /// let c = Cluster::<Std>::new(Faults::none());
    /// let cache = c.server("cache", vec![1, 2]).restartable(|v, _clock| v.clear());
    /// assert_eq!(cache.inspect(|v, _| v.len()), 2);
    /// ```
    #[must_use]
    pub fn restartable(
        self,
        restart: impl Fn(&mut S, ServerClock) + Send + Sync + 'static,
    ) -> Self {
        self.rebuild(|i| i.restart = Some(Box::new(restart)))
    }

    /// Run `hook` on the twin after every request it applies, in the same step (for
    /// example to hand watch events to the clients waiting for them). Configure before
    /// cloning.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::backend::Std;
    /// use lockproof_services::sim::{Cluster, Faults};
    ///
    /// let c = Cluster::<Std>::new(Faults::none());
    /// let s = c.server("s", (0u32, 0u32)).after_each(|(_, applied), _| *applied += 1);
    /// s.call(&c.node("a"), "NOP", |_, _| "OK").unwrap();
    /// assert_eq!(s.inspect(|(_, applied), _| *applied), 1);
    /// ```
    #[must_use]
    pub fn after_each(self, hook: impl Fn(&mut S, ServerClock) + Send + Sync + 'static) -> Self {
        self.rebuild(|i| i.after = Some(Box::new(hook)))
    }

    /// The server's name.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::backend::Std;
    /// use lockproof_services::sim::{Cluster, Faults};
    ///
    /// assert_eq!(Cluster::<Std>::new(Faults::none()).server("redis", ()).name(), "redis");
    /// ```
    pub fn name(&self) -> &str {
        &self.inner.name
    }

    fn twin(&self) -> MutexGuard<'_, Box<S>> {
        self.inner.twin.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn clock_now(&self) -> ServerClock {
        let c = self.inner.clock.lock().unwrap_or_else(|e| e.into_inner());
        let now = B::now().0;
        ServerClock {
            wall: c.wall(now),
            mono: c.mono(now),
        }
    }

    /// Look at the twin with no step and no fault (for a judge at the end of an execution,
    /// or a test): `f` gets the twin and the server's clocks now.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::backend::Std;
    /// use lockproof_services::sim::{Cluster, Faults};
    ///
    /// let s = Cluster::<Std>::new(Faults::none()).server("s", 5);
    /// assert_eq!(s.inspect(|n, _| *n), 5);
    /// ```
    pub fn inspect<R>(&self, f: impl FnOnce(&S, ServerClock) -> R) -> R {
        let clock = self.clock_now();
        f(&self.twin(), clock)
    }

    /// Send `request` from `from` and wait for its reply: `apply` is what the server does
    /// with it, atomically, with the server's clocks; its result is the reply.
    ///
    /// Steps: the send; the delivery (the server applies the request); then the caller
    /// goes on with the reply. Where the cluster's budget allows, the checker may instead
    /// lose the request, lose the reply, deliver the request only after the client gave
    /// up, cut the client's node off for a while, restart the server first (if
    /// [`restartable`](Server::restartable)), or make the server's clock jump first. A
    /// request that gets no reply returns [`NetError::Timeout`] after the cluster's
    /// timeout, whether or not the server applied it.
    ///
    /// # Errors
    ///
    /// [`NetError::Timeout`] when no reply came back in time.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::backend::Std;
    /// use lockproof_services::sim::{Cluster, Faults};
    ///
    /// let c = Cluster::<Std>::new(Faults::none());
    /// let reg = c.server("register", None::<String>);
    /// let me = c.node("me");
    /// let took = reg.call(&me, "SETNX me", |r, _| {
    ///     let free = r.is_none();
    ///     if free {
    ///         *r = Some("me".into());
    ///     }
    ///     free
    /// });
    /// assert_eq!(took, Ok(true));
    /// ```
    pub fn call<R: fmt::Display>(
        &self,
        from: &Node<B>,
        request: impl fmt::Display,
        apply: impl FnOnce(&mut S, ServerClock) -> R,
    ) -> Result<R, NetError> {
        let tag = &self.inner.tag;
        // The send: its own step, so that other nodes may run before the server applies it.
        self.inner.touch.fetch_add(1, SeqCst);
        B::record(tag, || {
            Record::with_args(
                "send",
                Args::new().value(format!("{from}: {request}")),
                Outcome::Done,
            )
        });
        let now = B::now().0;
        if self.cluster.is_cut(from.name(), now) {
            B::record(tag, || lost("lost (partitioned)", from, &request));
            B::sleep(self.cluster.timeout());
            return Err(NetError::Timeout);
        }
        let fault = self.cluster.request_fault(self.inner.restart.is_some());
        match fault {
            Some(Fault::LoseRequest) => {
                B::record(tag, || lost("request lost", from, &request));
                B::sleep(self.cluster.timeout());
                return Err(NetError::Timeout);
            }
            Some(Fault::Partition) => {
                let until = now.saturating_add(self.cluster.partition_span());
                self.cluster.cut(from.name(), until);
                B::record(tag, || {
                    Record::with_args(
                        "partition",
                        Args::new().value(from.to_string()).until(until),
                        Outcome::Done,
                    )
                });
                B::sleep(self.cluster.timeout());
                return Err(NetError::Timeout);
            }
            Some(Fault::Late) => {
                B::record(tag, || lost("delayed", from, &request));
                B::sleep(self.cluster.timeout());
                B::record(tag, || {
                    Record::with_args(
                        "gave up",
                        Args::new().value(from.to_string()),
                        Outcome::Done,
                    )
                });
                // Still on its way: the server applies it after the client gave up.
                let r = self.deliver(from, &request, None, apply);
                drop(r);
                return Err(NetError::Timeout);
            }
            _ => {}
        }
        let r = self.deliver(from, &request, fault, apply);
        if fault == Some(Fault::LoseReply) {
            B::record(tag, || lost("reply lost", from, &request));
            B::sleep(self.cluster.timeout());
            return Err(NetError::Timeout);
        }
        Ok(r)
    }

    /// The delivery: one step in which the server (restarted first, or its clock jumped
    /// first, if `fault` says so) applies the request.
    fn deliver<R: fmt::Display>(
        &self,
        from: &Node<B>,
        request: &dyn fmt::Display,
        fault: Option<Fault>,
        apply: impl FnOnce(&mut S, ServerClock) -> R,
    ) -> R {
        let tag = &self.inner.tag;
        self.inner.touch.fetch_add(1, SeqCst);
        match fault {
            Some(f @ (Fault::JumpForward | Fault::JumpBack)) => {
                let by = self.cluster.jump(f);
                self.inner
                    .clock
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .jumped += by;
                B::record(tag, || {
                    Record::with_args(
                        "clock-jump",
                        Args::new().secs("by", by as f64 / 1e9),
                        Outcome::Done,
                    )
                });
            }
            Some(Fault::Restart) => {
                let clock = self.clock_now();
                if let Some(restart) = &self.inner.restart {
                    restart(&mut self.twin(), clock);
                }
                B::record(tag, || Record::new("restart", Outcome::Done));
            }
            _ => {}
        }
        let clock = self.clock_now();
        let r = {
            let mut twin = self.twin();
            let r = apply(&mut twin, clock);
            if let Some(after) = &self.inner.after {
                after(&mut twin, clock);
            }
            r
        };
        B::record(tag, || {
            Record::with_args(
                "apply",
                Args::new().value(format!("{from}: {request}")),
                Outcome::Value(r.to_string()),
            )
        });
        r
    }

    /// Apply `f` to the twin in one step of the server itself, with no network in between
    /// (a server-side timer: active expiry, a session's expiry, a maintenance job).
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::backend::Std;
    /// use lockproof_services::sim::{Cluster, Faults};
    ///
    /// let s = Cluster::<Std>::new(Faults::none()).server("s", vec![1, 2, 3]);
    /// assert_eq!(s.tick("expire", |v, _| { v.retain(|&x| x > 1); v.len() }), 2);
    /// ```
    pub fn tick<R: fmt::Display>(
        &self,
        what: &'static str,
        f: impl FnOnce(&mut S, ServerClock) -> R,
    ) -> R {
        self.inner.touch.fetch_add(1, SeqCst);
        let clock = self.clock_now();
        let r = {
            let mut twin = self.twin();
            let r = f(&mut twin, clock);
            if let Some(after) = &self.inner.after {
                after(&mut twin, clock);
            }
            r
        };
        B::record(&self.inner.tag, || {
            Record::with_args(
                "tick",
                Args::new().value(what.to_owned()),
                Outcome::Value(r.to_string()),
            )
        });
        r
    }
}

fn lost(what: &'static str, from: &dyn fmt::Display, request: &dyn fmt::Display) -> Record {
    Record::with_args(
        what,
        Args::new().value(format!("{from}: {request}")),
        Outcome::Done,
    )
}

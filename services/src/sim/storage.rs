//! The protected resource: who wrote, when, believing what, and whether it was let in.

use super::node::Node;
use lockproof::backend::checked::violate;
use lockproof::backend::{Args, Backend, ObjectTag, Outcome, RawAtomic, Record};
use std::fmt;
use std::sync::atomic::Ordering::SeqCst;
use std::sync::{Arc, Mutex, MutexGuard};

/// One write the storage saw.
///
/// # Examples
///
/// ```
/// use lockproof::backend::Std;
/// use lockproof_services::sim::{Cluster, Faults};
///
/// let c = Cluster::<Std>::new(Faults::none());
/// let s = c.storage("db", false);
/// s.write(&c.node("a"), Some(1), "v1").unwrap();
/// let w = &s.writes()[0];
/// assert_eq!((w.writer.as_str(), w.token, w.value.as_str(), w.accepted), ("a", Some(1), "v1", true));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Write {
    /// True time of the write, in nanoseconds.
    pub at: u64,
    /// The node that wrote.
    pub writer: String,
    /// The fencing token it wrote with, if any.
    pub token: Option<u64>,
    /// What it wrote.
    pub value: String,
    /// Whether the storage took it (a fenced storage rejects stale tokens).
    pub accepted: bool,
}

/// A fenced storage's refusal: the token is older than the newest it accepted.
///
/// # Examples
///
/// ```
/// use lockproof_services::sim::StaleToken;
///
/// let e = StaleToken { token: 33, newest: 34 };
/// assert_eq!(e.to_string(), "StaleTokenError: token 33 is older than 34, already accepted");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StaleToken {
    /// The token the write carried.
    pub token: u64,
    /// The newest token accepted before it.
    pub newest: u64,
}

impl fmt::Display for StaleToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "StaleTokenError: token {} is older than {}, already accepted",
            self.token, self.newest
        )
    }
}

impl std::error::Error for StaleToken {}

/// The resource a distributed lock protects (a file store, a database a job writes to),
/// judged where it matters: every write is recorded in true time with the writer's fencing
/// token.
///
/// - **Fenced** (Kleppmann's fix): a write whose token is older than the newest accepted
///   is rejected with [`StaleToken`]; equal tokens pass (one holder writes several times).
/// - **Unfenced** (what most of the tutorial's code has): every write is accepted; one
///   carrying a token older than the newest accepted is a violation of `stale-write`: a
///   holder whose lock had passed to another, who already wrote, wrote after it.
///
/// Writes without a token are recorded only; a model judges them with a `Region` around
/// its critical section (mutual exclusion in true time).
///
/// # Examples
///
/// ```
/// use lockproof::backend::Std;
/// use lockproof_services::sim::{Cluster, Faults};
///
/// let c = Cluster::<Std>::new(Faults::none());
/// let fenced = c.storage("files", true);
/// let (a, b) = (c.node("a"), c.node("b"));
/// fenced.write(&b, Some(34), "b's data").unwrap();
/// let late = fenced.write(&a, Some(33), "a's data, after its pause");
/// assert_eq!(late.unwrap_err().newest, 34);
/// assert_eq!(fenced.values(), ["b's data"]);
/// ```
pub struct Storage<B: Backend> {
    inner: Arc<Inner<B>>,
}

struct Inner<B: Backend> {
    fenced: bool,
    log: Mutex<Log>,
    touch: B::Atomic,
    tag: B::Tag,
}

#[derive(Default)]
struct Log {
    writes: Vec<Write>,
    newest: Option<u64>,
}

impl<B: Backend> Clone for Storage<B> {
    fn clone(&self) -> Self {
        Storage {
            inner: Arc::clone(&self.inner),
        }
    }
}

impl<B: Backend> fmt::Debug for Storage<B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Storage")
            .field("fenced", &self.inner.fenced)
            .finish()
    }
}

impl<B: Backend> Storage<B> {
    pub(crate) fn new(name: &str, fenced: bool) -> Self {
        let tag = B::Tag::new("Storage");
        tag.set_name(name);
        Storage {
            inner: Arc::new(Inner {
                fenced,
                log: Mutex::new(Log::default()),
                touch: B::Atomic::new(0),
                tag,
            }),
        }
    }

    fn log(&self) -> MutexGuard<'_, Log> {
        self.inner.log.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Whether the storage rejects stale tokens.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::backend::Std;
    /// use lockproof_services::sim::{Cluster, Faults};
    ///
    /// assert!(!Cluster::<Std>::new(Faults::none()).storage("s", false).fenced());
    /// ```
    pub fn fenced(&self) -> bool {
        self.inner.fenced
    }

    /// `from` writes `value`, carrying fencing token `token` if it has one. One step.
    ///
    /// # Errors
    ///
    /// [`StaleToken`] from a fenced storage when `token` is older than the newest it
    /// accepted (nothing is written).
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::backend::Std;
    /// use lockproof_services::sim::{Cluster, Faults};
    ///
    /// let c = Cluster::<Std>::new(Faults::none());
    /// let s = c.storage("s", true);
    /// assert!(s.write(&c.node("a"), Some(1), 10).is_ok());
    /// assert!(s.write(&c.node("a"), Some(1), 11).is_ok()); // the same holder again
    /// assert!(s.write(&c.node("b"), None, 12).is_ok()); // no token: not judged here
    /// ```
    pub fn write(
        &self,
        from: &Node<B>,
        token: Option<u64>,
        value: impl fmt::Display,
    ) -> Result<(), StaleToken> {
        self.inner.touch.fetch_add(1, SeqCst);
        let value = value.to_string();
        let (result, stale_accepted) = {
            let mut log = self.log();
            let stale = match (token, log.newest) {
                (Some(t), Some(n)) if t < n => Some(StaleToken {
                    token: t,
                    newest: n,
                }),
                _ => None,
            };
            let rejected = self.inner.fenced && stale.is_some();
            if !rejected {
                if let Some(t) = token {
                    log.newest = Some(log.newest.map_or(t, |n| n.max(t)));
                }
            }
            log.writes.push(Write {
                at: B::now().0,
                writer: from.name().to_owned(),
                token,
                value: value.clone(),
                accepted: !rejected,
            });
            match stale {
                Some(e) if rejected => (Err(e), None),
                other => (Ok(()), other),
            }
        };
        B::record(&self.inner.tag, || {
            // The writer is the row's thread; the value is shown when there is no token.
            let args = match token {
                Some(t) => Args::new().int("token", i64::try_from(t).unwrap_or(i64::MAX)),
                None => Args::new().value(format!("{value:?}")),
            };
            let outcome = match &result {
                Ok(()) => Outcome::Done,
                Err(e) => Outcome::Error(format!("Stale({}<{})", e.token, e.newest)),
            };
            Record::with_args("write", args, outcome)
        });
        if let Some(e) = stale_accepted {
            violate(
                "stale-write",
                &format!(
                    "{from} wrote {value:?} with token {} after the storage had accepted token {}: \
                     two holders wrote, the older one last",
                    e.token, e.newest
                ),
            );
        }
        result
    }

    /// Every write so far, in order (no step).
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::backend::Std;
    /// use lockproof_services::sim::{Cluster, Faults};
    ///
    /// let c = Cluster::<Std>::new(Faults::none());
    /// assert!(c.storage("s", false).writes().is_empty());
    /// ```
    pub fn writes(&self) -> Vec<Write> {
        self.log().writes.clone()
    }

    /// The values accepted so far, in order (no step).
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::backend::Std;
    /// use lockproof_services::sim::{Cluster, Faults};
    ///
    /// let c = Cluster::<Std>::new(Faults::none());
    /// let s = c.storage("s", false);
    /// s.write(&c.node("a"), None, "x").unwrap();
    /// assert_eq!(s.values(), ["x"]);
    /// ```
    pub fn values(&self) -> Vec<String> {
        self.log()
            .writes
            .iter()
            .filter(|w| w.accepted)
            .map(|w| w.value.clone())
            .collect()
    }
}

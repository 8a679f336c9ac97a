//! The Go `concurrency` package's Mutex and Election, as sans-IO client recipes.
//!
//! A recipe never talks to the server itself: each method returns a [`Step`] saying which
//! request to send next (or that the caller must wait for watch messages), and the caller
//! feeds back the reply ([`Mutex::on_reply`]) and the watch messages of the client's stream
//! ([`Mutex::on_watch`]). A simulation can therefore put the network between every request,
//! and a test can drive a recipe against [`super::Etcd`] directly ([`drive`]).
//!
//! The recipe (DISTRIBUTED.md §4.4, clientv3 `concurrency/mutex.go` and `key.go`):
//! 1. one Txn: if `create_revision(prefix/<lease hex>) = 0` put the key with the session's
//!    lease, else get it; in both branches get the prefix's key with the lowest create
//!    revision (the owner). Our revision is the Txn's header revision (or our key's create
//!    revision if it already existed);
//! 2. if the owner is us (or nobody), the lock is held;
//! 3. otherwise repeat: get the key of the prefix with the **largest create revision below
//!    ours**; if there is one, watch it from the read's header revision and wait for its
//!    deletion; if none is left, hold the lock — etcd 3.4.23's client (the version
//!    DISTRIBUTED.md reproduces) returns right there, with that read's header as the lock's
//!    header, **without checking that our own key still exists**; from 3.5 the client first
//!    reads its own key and fails with "session is expired" if it is gone
//!    ([`Mutex::verifying_own_key`]);
//! 4. `Unlock` deletes our key.
//!
//! So under 3.4.23 a waiter whose session lease expired while it waited (a pause, a
//! partition) is told it holds the lock although its key is gone.

use super::{
    ClientId, Compare, CompareResult, DeleteRangeRequest, Etcd, EtcdError, EventKind, KeyRange,
    LeaseId, PutRequest, RangeRequest, Request, Response, Revision, TxnRequest, WatchCreateRequest,
    WatchId, WatchResponse,
};
use crate::time::ServerClock;
use std::fmt;

/// What a recipe needs next.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    /// Send this request and feed its reply to `on_reply`.
    Send(Request),
    /// Nothing to send: feed the client's watch messages to `on_watch` as they arrive.
    Wait,
    /// The lock is held (or, for an election, this candidate leads). `revision` is the
    /// header revision of the reply that decided it (etcdctl's `ETCD_LOCK_REV`).
    Acquired {
        /// The store revision when the lock was obtained.
        revision: Revision,
    },
    /// The key was deleted: the lock is released (or the candidate resigned).
    Released,
    /// The operation failed; the recipe is idle again.
    Failed(RecipeError),
}

/// Why a recipe step failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RecipeError {
    /// The server answered with an error (for example `requested lease not found` when the
    /// session's lease is gone, or `required revision has been compacted` from the watch).
    Server(EtcdError),
    /// `mutex: Locked by another session` (TryLock only).
    Locked,
    /// `mutex: session is expired`: our key vanished while we waited.
    SessionExpired,
    /// `mutex: lock has already been released` (Unlock without the lock).
    LockReleased,
    /// `election: not leader` (Proclaim by a candidate whose key is gone or not leading).
    NotLeader,
    /// A reply that does not answer the request the recipe sent.
    UnexpectedReply,
}

impl fmt::Display for RecipeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RecipeError::Server(e) => write!(f, "{e}"),
            RecipeError::Locked => f.write_str("mutex: Locked by another session"),
            RecipeError::SessionExpired => f.write_str("mutex: session is expired"),
            RecipeError::LockReleased => f.write_str("mutex: lock has already been released"),
            RecipeError::NotLeader => f.write_str("election: not leader"),
            RecipeError::UnexpectedReply => f.write_str("unexpected reply"),
        }
    }
}

impl std::error::Error for RecipeError {}

/// The key a session's lease gives it under a prefix: `prefix/<lease id in hex>` (Go's
/// `%x`, no padding).
///
/// # Examples
///
/// ```
/// use lockproof_services::etcd::concurrency::session_key;
///
/// assert_eq!(session_key("m", 0x694d77aa9e382600), "m/694d77aa9e382600");
/// assert_eq!(session_key("m", 0x2a), "m/2a");
/// ```
pub fn session_key(prefix: &str, lease: LeaseId) -> String {
    format!("{prefix}/{lease:x}")
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum State {
    Idle,
    /// The acquire Txn was sent.
    Acquiring {
        try_only: bool,
    },
    /// TryLock found the lock taken and deletes its key.
    TryCleanup,
    /// The "largest create revision below ours" read was sent.
    Scanning,
    /// The watch on `key` was requested / is open.
    Watching {
        watch_id: Option<WatchId>,
    },
    /// A deletion was seen; the watch cancel was sent.
    Canceling,
    /// The final read of our own key was sent.
    Verifying,
    Held,
    /// Unlock's delete was sent.
    Releasing,
    /// Proclaim's Txn was sent.
    Proclaiming,
}

/// A waiter queue under a prefix, ordered by create revision: the core of Mutex and
/// Election.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Queue {
    prefix: String,
    lease: LeaseId,
    my_key: String,
    my_rev: Revision,
    state: State,
    /// Read our own key before holding the lock (clientv3 ≥ 3.5).
    verify_own_key: bool,
}

impl Queue {
    fn new(prefix: &str, lease: LeaseId) -> Self {
        Queue {
            prefix: prefix.to_string(),
            lease,
            my_key: session_key(prefix, lease),
            my_rev: -1,
            state: State::Idle,
            verify_own_key: false,
        }
    }

    fn pfx(&self) -> KeyRange {
        KeyRange::Prefix(format!("{}/", self.prefix))
    }

    fn acquire_txn(&self, value: &str) -> TxnRequest {
        TxnRequest::new()
            .when(Compare::create_revision(
                self.my_key.clone(),
                CompareResult::Equal,
                0,
            ))
            .then(PutRequest::new(self.my_key.clone(), value).with_lease(self.lease))
            .then(RangeRequest::first_create(self.pfx()))
            .or_else(RangeRequest::key(self.my_key.clone()))
            .or_else(RangeRequest::first_create(self.pfx()))
    }

    fn scan(&mut self) -> Step {
        self.state = State::Scanning;
        Step::Send(Request::Range(
            RangeRequest::last_create(self.pfx()).with_max_create_revision(self.my_rev - 1),
        ))
    }

    fn fail(&mut self, e: RecipeError) -> Step {
        self.state = State::Idle;
        Step::Failed(e)
    }

    fn start(&mut self, value: &str, try_only: bool) -> Step {
        self.state = State::Acquiring { try_only };
        Step::Send(Request::Txn(self.acquire_txn(value)))
    }

    fn unlock(&mut self) -> Step {
        if self.my_rev <= 0 {
            return Step::Failed(RecipeError::LockReleased);
        }
        self.state = State::Releasing;
        Step::Send(Request::DeleteRange(DeleteRangeRequest::key(
            self.my_key.clone(),
        )))
    }

    fn on_reply(&mut self, reply: &Result<Response, EtcdError>) -> Step {
        let resp = match reply {
            Ok(r) => r,
            Err(e) => return self.fail(RecipeError::Server(*e)),
        };
        match (&self.state, resp) {
            (State::Acquiring { try_only }, Response::Txn(t)) => {
                let try_only = *try_only;
                let mine = t.responses.first().and_then(|r| r.as_range());
                self.my_rev = if t.succeeded {
                    t.header.revision
                } else {
                    match mine.and_then(|r| r.kvs.first()) {
                        Some(kv) => kv.create_revision,
                        None => return self.fail(RecipeError::UnexpectedReply),
                    }
                };
                let owner = t.responses.get(1).and_then(|r| r.as_range());
                let owner_rev = owner
                    .and_then(|r| r.kvs.first())
                    .map(|kv| kv.create_revision);
                if owner_rev.is_none() || owner_rev == Some(self.my_rev) {
                    self.state = State::Held;
                    return Step::Acquired {
                        revision: t.header.revision,
                    };
                }
                if try_only {
                    self.state = State::TryCleanup;
                    return Step::Send(Request::DeleteRange(DeleteRangeRequest::key(
                        self.my_key.clone(),
                    )));
                }
                self.scan()
            }
            (State::TryCleanup, Response::DeleteRange(_)) => {
                self.my_rev = -1;
                self.fail(RecipeError::Locked)
            }
            (State::Scanning, Response::Range(r)) => match r.kvs.first() {
                None if self.verify_own_key => {
                    self.state = State::Verifying;
                    Step::Send(Request::Range(RangeRequest::key(self.my_key.clone())))
                }
                None => {
                    self.state = State::Held;
                    Step::Acquired {
                        revision: r.header.revision,
                    }
                }
                Some(kv) => {
                    self.state = State::Watching { watch_id: None };
                    Step::Send(Request::Watch(
                        WatchCreateRequest::key(kv.key.clone()).from_revision(r.header.revision),
                    ))
                }
            },
            (State::Watching { watch_id: None }, Response::WatchCreated(w)) => {
                self.state = State::Watching {
                    watch_id: Some(w.watch_id),
                };
                Step::Wait
            }
            (State::Canceling, Response::WatchCanceled { .. }) => self.scan(),
            (State::Verifying, Response::Range(r)) => {
                if r.kvs.is_empty() {
                    self.fail(RecipeError::SessionExpired)
                } else {
                    self.state = State::Held;
                    Step::Acquired {
                        revision: r.header.revision,
                    }
                }
            }
            (State::Releasing, Response::DeleteRange(_)) => {
                self.state = State::Idle;
                self.my_rev = -1;
                Step::Released
            }
            (State::Proclaiming, Response::Txn(t)) => {
                self.state = State::Held;
                if t.succeeded {
                    Step::Acquired {
                        revision: t.header.revision,
                    }
                } else {
                    Step::Failed(RecipeError::NotLeader)
                }
            }
            _ => self.fail(RecipeError::UnexpectedReply),
        }
    }

    fn on_watch(&mut self, msg: &WatchResponse) -> Step {
        let State::Watching { watch_id: Some(id) } = self.state else {
            return Step::Wait;
        };
        if msg.watch_id != id {
            return Step::Wait;
        }
        if msg.compact_revision != 0 {
            return self.fail(RecipeError::Server(EtcdError::Compacted));
        }
        if msg.events.iter().any(|ev| ev.kind == EventKind::Delete) {
            self.state = State::Canceling;
            return Step::Send(Request::WatchCancel(id));
        }
        Step::Wait
    }
}

/// clientv3's `concurrency.Mutex` for one session (one lease) on one prefix.
///
/// # Examples
///
/// Two sessions contend; the second holds the lock only after the first unlocks:
///
/// ```
/// use lockproof_services::etcd::concurrency::{drive, Mutex, Step};
/// use lockproof_services::etcd::{ClientId, Etcd, LeaseGrantRequest};
/// use lockproof_services::time::ServerClock;
///
/// let mut etcd = Etcd::new();
/// let t = ServerClock::at(0);
/// let la = etcd.lease_grant(&LeaseGrantRequest::new(10), t).unwrap().id;
/// let lb = etcd.lease_grant(&LeaseGrantRequest::new(10), t).unwrap().id;
/// let (mut a, mut b) = (Mutex::new("m", la), Mutex::new("m", lb));
/// let first = a.lock();
/// assert!(matches!(drive(&mut etcd, ClientId(1), &mut a, first, t), Step::Acquired { .. }));
/// let second = b.lock();
/// assert_eq!(drive(&mut etcd, ClientId(2), &mut b, second, t), Step::Wait);
/// let release = a.unlock();
/// assert_eq!(drive(&mut etcd, ClientId(1), &mut a, release, t), Step::Released);
/// assert!(matches!(b.poll(&mut etcd, ClientId(2), t), Step::Acquired { .. }));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mutex {
    q: Queue,
}

impl Mutex {
    /// `NewMutex(session, prefix)` as etcd 3.4.23's client has it: the session's key will be
    /// `prefix/<lease hex>`, and `Lock` does not re-read its own key after waiting.
    pub fn new(prefix: &str, lease: LeaseId) -> Self {
        Mutex {
            q: Queue::new(prefix, lease),
        }
    }

    /// The clientv3 ≥ 3.5 `Lock`: after waiting, read our own key and fail with
    /// `mutex: session is expired` if it is gone.
    pub fn verifying_own_key(mut self) -> Self {
        self.q.verify_own_key = true;
        self
    }

    /// The session's key under the prefix (`Mutex.Key()`).
    pub fn key(&self) -> &str {
        &self.q.my_key
    }

    /// Our key's create revision once known (−1 before), the Mutex's fencing token.
    pub fn revision(&self) -> Revision {
        self.q.my_rev
    }

    /// Whether the recipe believes it holds the lock (the server may have expired it).
    pub fn believes_held(&self) -> bool {
        self.q.state == State::Held
    }

    /// `IsOwner()`: a compare that holds while our key still has our create revision, to
    /// fence writes inside etcd.
    pub fn is_owner(&self) -> Compare {
        Compare::create_revision(self.q.my_key.clone(), CompareResult::Equal, self.q.my_rev)
    }

    /// Start `Lock`: the acquire Txn.
    pub fn lock(&mut self) -> Step {
        self.q.start("", false)
    }

    /// Start `TryLock` (clientv3 ≥ 3.5): the acquire Txn; on contention the key is deleted
    /// again and the result is `Failed(Locked)`.
    pub fn try_lock(&mut self) -> Step {
        self.q.start("", true)
    }

    /// Start `Unlock`: delete our key. `Failed(LockReleased)` if we hold no key.
    pub fn unlock(&mut self) -> Step {
        self.q.unlock()
    }

    /// Feed the reply to the request of the last `Step::Send`.
    pub fn on_reply(&mut self, reply: &Result<Response, EtcdError>) -> Step {
        self.q.on_reply(reply)
    }

    /// Feed one message of the client's watch stream.
    pub fn on_watch(&mut self, msg: &WatchResponse) -> Step {
        self.q.on_watch(msg)
    }

    /// Drain the client's watch messages from the twin and continue while they lead
    /// somewhere (a convenience for tests that drive the recipe without a network).
    pub fn poll(&mut self, etcd: &mut Etcd, client: ClientId, clock: ServerClock) -> Step {
        poll_queue(&mut self.q, etcd, client, clock)
    }
}

/// clientv3's `concurrency.Election` for one session (one lease) on one prefix.
///
/// # Examples
///
/// ```
/// use lockproof_services::etcd::concurrency::{drive, Election, Step};
/// use lockproof_services::etcd::{ClientId, Etcd, LeaseGrantRequest, Request};
/// use lockproof_services::time::ServerClock;
///
/// let mut etcd = Etcd::new();
/// let t = ServerClock::at(0);
/// let l = etcd.lease_grant(&LeaseGrantRequest::new(10), t).unwrap().id;
/// let mut e = Election::new("e", l);
/// let c = e.campaign("node-a");
/// assert!(matches!(drive(&mut etcd, ClientId(1), &mut e, c, t), Step::Acquired { .. }));
/// let leader = etcd.apply(ClientId(9), &Request::Range(Election::leader_request("e")), t);
/// assert!(leader.unwrap().to_string().ends_with("\nnode-a"));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Election {
    q: Queue,
    value: String,
}

impl Election {
    /// `NewElection(session, prefix)`.
    pub fn new(prefix: &str, lease: LeaseId) -> Self {
        Election {
            q: Queue::new(prefix, lease),
            value: String::new(),
        }
    }

    /// The candidate's key (`prefix/<lease hex>`).
    pub fn key(&self) -> &str {
        &self.q.my_key
    }

    /// Our key's create revision once known (−1 before).
    pub fn revision(&self) -> Revision {
        self.q.my_rev
    }

    /// Start `Campaign(value)`: the same queue as the Mutex, with the value in our key.
    /// (The Go client also proclaims the new value when its key already existed with another
    /// value; here a re-campaign keeps the stored value.)
    pub fn campaign(&mut self, value: &str) -> Step {
        self.value = value.to_string();
        self.q.start(value, false)
    }

    /// Start `Proclaim(value)`: rewrite our key's value if it still has our create revision;
    /// `Failed(NotLeader)` otherwise.
    pub fn proclaim(&mut self, value: &str) -> Step {
        if self.q.state != State::Held {
            return Step::Failed(RecipeError::NotLeader);
        }
        self.value = value.to_string();
        self.q.state = State::Proclaiming;
        Step::Send(Request::Txn(
            TxnRequest::new()
                .when(Compare::create_revision(
                    self.q.my_key.clone(),
                    CompareResult::Equal,
                    self.q.my_rev,
                ))
                .then(PutRequest::new(self.q.my_key.clone(), value).with_lease(self.q.lease)),
        ))
    }

    /// Start `Resign`: delete our key.
    pub fn resign(&mut self) -> Step {
        self.q.unlock()
    }

    /// `Leader()`: the read that names the leader (the prefix's first-created key).
    pub fn leader_request(prefix: &str) -> RangeRequest {
        RangeRequest::first_create(KeyRange::Prefix(format!("{prefix}/")))
    }

    /// Feed the reply to the request of the last `Step::Send`.
    pub fn on_reply(&mut self, reply: &Result<Response, EtcdError>) -> Step {
        self.q.on_reply(reply)
    }

    /// Feed one message of the client's watch stream.
    pub fn on_watch(&mut self, msg: &WatchResponse) -> Step {
        self.q.on_watch(msg)
    }

    /// Drain the client's watch messages from the twin and continue (see [`Mutex::poll`]).
    pub fn poll(&mut self, etcd: &mut Etcd, client: ClientId, clock: ServerClock) -> Step {
        poll_queue(&mut self.q, etcd, client, clock)
    }
}

/// A recipe that [`drive`] can run.
pub trait Recipe {
    /// Feed a reply.
    fn reply(&mut self, reply: &Result<Response, EtcdError>) -> Step;
}

impl Recipe for Mutex {
    fn reply(&mut self, reply: &Result<Response, EtcdError>) -> Step {
        self.on_reply(reply)
    }
}

impl Recipe for Election {
    fn reply(&mut self, reply: &Result<Response, EtcdError>) -> Step {
        self.on_reply(reply)
    }
}

/// Run a recipe against the twin with no network: send every request of `step` at
/// `clock`, feed the replies back, and return the first step that is not a `Send`
/// (`Wait`, `Acquired`, `Released` or `Failed`).
pub fn drive<R: Recipe>(
    etcd: &mut Etcd,
    client: ClientId,
    recipe: &mut R,
    mut step: Step,
    clock: ServerClock,
) -> Step {
    while let Step::Send(req) = step {
        let reply = etcd.apply(client, &req, clock);
        step = recipe.reply(&reply);
    }
    step
}

fn poll_queue(q: &mut Queue, etcd: &mut Etcd, client: ClientId, clock: ServerClock) -> Step {
    etcd.expire_leases(clock);
    let mut step = Step::Wait;
    while step == Step::Wait {
        let msgs = etcd.take_events(client);
        if msgs.is_empty() {
            break;
        }
        // Messages after a decisive step belong to watches the recipe has cancelled.
        for msg in msgs {
            if step != Step::Wait {
                break;
            }
            step = q.on_watch(&msg);
            while let Step::Send(req) = step {
                let reply = etcd.apply(client, &req, clock);
                step = q.on_reply(&reply);
            }
        }
    }
    step
}

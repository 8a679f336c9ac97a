//! DISTRIBUTED.md §9, ZooKeeper checks 57–69 and the cross-service check 80, run against the
//! twin. The server is configured as §9 says (tickTime 500 ms, maxSessionTimeout 10000 ms),
//! each check starts from a fresh server with a fresh parent `/p`, and "wait t" is a later
//! `ServerClock`.

use lockproof_services::time::ServerClock;
use lockproof_services::zookeeper::{
    sequence_of, CreateMode, EventType, Op, OpResult, SessionId, SessionState, WatchEvent,
    ZkConfig, ZkError, ZooKeeper, ANY_VERSION,
};

const P: CreateMode = CreateMode::Persistent;
const E: CreateMode = CreateMode::Ephemeral;
const PS: CreateMode = CreateMode::PersistentSequential;
const ES: CreateMode = CreateMode::EphemeralSequential;

/// The server at `ms` milliseconds of true time (no clock offset).
fn ms(ms: u64) -> ServerClock {
    ServerClock::at(ms * 1_000_000)
}

/// A fresh conformance server with parent `/p` and `n` sessions (timeout 10 s).
fn setup(n: usize) -> (ZooKeeper, Vec<SessionId>) {
    let mut zk = ZooKeeper::new(ZkConfig::conformance());
    let sessions: Vec<SessionId> = (0..n).map(|_| zk.connect(10_000, ms(0)).session).collect();
    zk.create(sessions[0], "/p", b"", P, ms(0)).unwrap();
    (zk, sessions)
}

fn kinds(events: &[WatchEvent]) -> Vec<EventType> {
    events.iter().map(|e| e.kind).collect()
}

/// Children of `path` sorted by sequence suffix, as every recipe must sort them.
fn sorted_by_suffix(zk: &mut ZooKeeper, s: SessionId, path: &str, t: ServerClock) -> Vec<String> {
    let mut kids = zk.get_children(s, path, false, t).unwrap();
    kids.sort_by_key(|k| sequence_of(k));
    kids
}

#[test]
fn check_57_negotiated_session_timeout() {
    let mut zk = ZooKeeper::new(ZkConfig::conformance());
    let short = zk.connect(500, ms(0));
    let long = zk.connect(60_000, ms(0));
    assert_eq!(short.timeout_ms, 1000);
    assert_eq!(long.timeout_ms, 10_000);
    assert_eq!(short.to_string(), format!("sid={} to=1000", short.session));
    assert_eq!(zk.session(long.session).unwrap().timeout_ms, 10_000);
    // ZooKeeper's defaults: tickTime 2000, bounds [2, 20] ticks.
    let d = ZkConfig::default();
    assert_eq!((d.negotiate(500), d.negotiate(60_000)), (4000, 40_000));
}

#[test]
fn check_58_sequence_numbers_are_not_reused() {
    let (mut zk, s) = setup(1);
    let a = zk.create(s[0], "/p/lock-", b"", ES, ms(1)).unwrap();
    let b = zk.create(s[0], "/p/lock-", b"", ES, ms(2)).unwrap();
    assert_eq!(a, "/p/lock-0000000000");
    assert_eq!(b, "/p/lock-0000000001");
    zk.delete(s[0], &b, ANY_VERSION, ms(3)).unwrap();
    assert_eq!(
        zk.create(s[0], "/p/lock-", b"", ES, ms(4)).unwrap(),
        "/p/lock-0000000002"
    );
}

#[test]
fn check_59_suffix_counts_creations_and_cversion_counts_deletes_too() {
    let (mut zk, s) = setup(1);
    let s = s[0];
    let mut suffixes = Vec::new();
    let n0 = zk.create(s, "/p/n-", b"", ES, ms(1)).unwrap();
    let n1 = zk.create(s, "/p/n-", b"", ES, ms(1)).unwrap();
    zk.delete(s, &n1, ANY_VERSION, ms(1)).unwrap();
    let n2 = zk.create(s, "/p/n-", b"", ES, ms(1)).unwrap();
    zk.delete(s, &n0, ANY_VERSION, ms(1)).unwrap();
    let n3 = zk.create(s, "/p/n-", b"", PS, ms(1)).unwrap();
    zk.create(s, "/p/x", b"", P, ms(1)).unwrap();
    zk.delete(s, "/p/x", ANY_VERSION, ms(1)).unwrap();
    let n5 = zk.create(s, "/p/n-", b"", PS, ms(1)).unwrap();
    for n in [&n0, &n1, &n2, &n3, &n5] {
        suffixes.push(sequence_of(n).unwrap());
    }
    assert_eq!(suffixes, [0, 1, 2, 3, 5]);
    let stat = zk.exists(s, "/p", false, ms(1)).unwrap().unwrap();
    assert_eq!(stat.cversion, 9);
    assert_eq!(stat.num_children, 3);
}

#[test]
fn check_60_prefixes_share_one_counter_per_parent() {
    let (mut zk, s) = setup(1);
    let s = s[0];
    zk.create(s, "/q", b"", P, ms(1)).unwrap();
    let lock = zk.create(s, "/p/lock-", b"", ES, ms(1)).unwrap();
    let read = zk.create(s, "/p/read-", b"", ES, ms(1)).unwrap();
    assert_eq!(lock, "/p/lock-0000000000");
    assert_eq!(read, "/p/read-0000000001");
    assert_eq!(
        zk.create(s, "/q/lock-", b"", ES, ms(1)).unwrap(),
        "/q/lock-0000000000"
    );
}

#[test]
fn check_61_create_and_delete_errors() {
    let (mut zk, s) = setup(1);
    let s = s[0];
    assert_eq!(zk.create(s, "/p", b"", P, ms(1)), Err(ZkError::NodeExists));
    assert_eq!(
        zk.create(s, "/missing/x", b"", P, ms(1)),
        Err(ZkError::NoNode)
    );
    zk.create(s, "/p/e", b"", E, ms(1)).unwrap();
    assert_eq!(
        zk.create(s, "/p/e/child", b"", P, ms(1)),
        Err(ZkError::NoChildrenForEphemerals)
    );
    assert_eq!(
        zk.delete(s, "/p", ANY_VERSION, ms(1)),
        Err(ZkError::NotEmpty)
    );
    assert_eq!(ZkError::NodeExists.to_string(), "NodeExists");
    assert_eq!(ZkError::NoNode.code(), -101);
    assert_eq!(
        ZkError::NotEmpty.message("/p"),
        "KeeperErrorCode = Directory not empty for /p"
    );
}

#[test]
fn check_62_get_children_is_unsorted() {
    let (mut zk, s) = setup(1);
    let s = s[0];
    for _ in 0..15 {
        zk.create(s, "/p/lock-", b"", ES, ms(1)).unwrap();
    }
    let kids = zk.get_children(s, "/p", false, ms(1)).unwrap();
    assert_eq!(kids.len(), 15);
    let mut sorted = kids.clone();
    sorted.sort_by_key(|k| sequence_of(k));
    assert_ne!(kids, sorted, "the order must not be the sorted one");
    let suffixes: Vec<i32> = sorted.iter().map(|k| sequence_of(k).unwrap()).collect();
    assert_eq!(suffixes, (0..15).collect::<Vec<i32>>());
    // Deterministic: the same state reads the same order.
    assert_eq!(zk.get_children(s, "/p", false, ms(2)).unwrap(), kids);
}

#[test]
fn check_63_created_then_changed_fire_once_each() {
    let (mut zk, s) = setup(2);
    let (a, b) = (s[0], s[1]);
    assert_eq!(zk.exists(a, "/p/w", true, ms(1)).unwrap(), None);
    zk.create(b, "/p/w", b"v0", P, ms(2)).unwrap();
    let events = zk.take_events(a);
    assert_eq!(kinds(&events), [EventType::NodeCreated]);
    assert_eq!(events[0].path, "/p/w");
    zk.get_data(a, "/p/w", true, ms(3)).unwrap();
    zk.set_data(b, "/p/w", b"v1", ANY_VERSION, ms(4)).unwrap();
    zk.set_data(b, "/p/w", b"v2", ANY_VERSION, ms(5)).unwrap();
    assert_eq!(kinds(&zk.take_events(a)), [EventType::NodeDataChanged]);
}

#[test]
fn check_64_deleted_once_and_child_event_once() {
    let (mut zk, s) = setup(2);
    let (a, b) = (s[0], s[1]);
    zk.create(b, "/p/w", b"", P, ms(1)).unwrap();
    assert!(zk.exists(a, "/p/w", true, ms(2)).unwrap().is_some());
    zk.delete(b, "/p/w", ANY_VERSION, ms(3)).unwrap();
    zk.create(b, "/p/w", b"", P, ms(4)).unwrap();
    zk.delete(b, "/p/w", ANY_VERSION, ms(5)).unwrap();
    assert_eq!(kinds(&zk.take_events(a)), [EventType::NodeDeleted]);

    zk.get_children(a, "/p", true, ms(6)).unwrap();
    zk.create(b, "/p/c", b"", P, ms(7)).unwrap();
    zk.set_data(b, "/p", b"changed", ANY_VERSION, ms(8))
        .unwrap();
    let events = zk.take_events(a);
    assert_eq!(kinds(&events), [EventType::NodeChildrenChanged]);
    assert_eq!(events[0].path, "/p");
}

#[test]
fn check_65_close_deletes_ephemerals_and_fires_watch() {
    let (mut zk, s) = setup(2);
    let (a, b) = (s[0], s[1]);
    zk.create(a, "/p/e", b"", E, ms(1)).unwrap();
    assert!(zk.exists(b, "/p/e", true, ms(2)).unwrap().is_some());
    zk.close(a, ms(3)).unwrap();
    let events = zk.take_events(b);
    assert_eq!(kinds(&events), [EventType::NodeDeleted]);
    assert_eq!(events[0].path, "/p/e");
    assert_eq!(zk.exists(b, "/p/e", false, ms(3)).unwrap(), None);
    assert_eq!(zk.session(a).unwrap().state, SessionState::Closed);
}

#[test]
fn check_66_paused_holder_expires_and_learns_it_on_reconnect() {
    let mut zk = ZooKeeper::new(ZkConfig::conformance());
    let a = zk.connect(1000, ms(0));
    assert_eq!(a.timeout_ms, 1000);
    let a = a.session;
    let b = zk.connect(10_000, ms(0)).session;
    zk.create(b, "/p", b"", P, ms(0)).unwrap();
    let node = zk.create(a, "/p/lock-", b"", ES, ms(10)).unwrap();
    assert!(zk.exists(b, &node, true, ms(20)).unwrap().is_some());
    // A's last heartbeat, then A is paused for 3 s (it sends nothing).
    let pause = 100;
    zk.ping(a, ms(pause)).unwrap();
    // B keeps its session alive; the server expires A at its deadline.
    let deadline_ms = zk.next_expiry().unwrap() / 1_000_000;
    assert!(
        (pause + 1000..=pause + 1500).contains(&deadline_ms),
        "expired {deadline_ms} ms"
    );
    assert!(zk.expire_overdue(ms(deadline_ms - 1)).is_empty());
    zk.ping(b, ms(deadline_ms - 1)).unwrap();
    assert_eq!(zk.expire_overdue(ms(deadline_ms)), vec![a]);
    assert_eq!(kinds(&zk.take_events(b)), [EventType::NodeDeleted]);
    // Until A talks to the server it knows nothing: nothing is queued for it.
    assert_eq!(zk.pending_events(a).count(), 0);
    // A resumes at pause + 3 s: its session is gone, it needs a new one.
    let resumed = ms(pause + 3000);
    assert_eq!(zk.reconnect(a, resumed), Err(ZkError::SessionExpired));
    assert_eq!(
        zk.exists(a, &node, false, resumed),
        Err(ZkError::SessionExpired)
    );
    let a2 = zk.connect(1000, resumed).session;
    assert_ne!(a2, a);
    assert_eq!(zk.exists(a2, &node, false, resumed).unwrap(), None);
    // check 66: A's client reporting SUSPENDED then LOST is kazoo's connection state machine,
    // not the server's; the server's part (expiry, DELETED, SessionExpired, new id) is above.
}

#[test]
fn check_67_versions_multi_zxids_and_owner() {
    let (mut zk, s) = setup(1);
    let s = s[0];
    zk.create(s, "/p/c", b"v0", P, ms(1)).unwrap();
    zk.set_data(s, "/p/c", b"v1", 0, ms(2)).unwrap();
    assert_eq!(
        zk.set_data(s, "/p/c", b"v2", 0, ms(3)),
        Err(ZkError::BadVersion)
    );
    let ops = |version| {
        vec![
            Op::Check {
                path: "/p/c".into(),
                version,
            },
            Op::Create {
                path: "/p/c3".into(),
                data: vec![],
                mode: P,
            },
        ]
    };
    assert_eq!(
        zk.multi(s, &ops(0), ms(4)).unwrap(),
        [
            OpResult::Error(ZkError::BadVersion),
            OpResult::Error(ZkError::RuntimeInconsistency)
        ]
    );
    assert_eq!(zk.exists(s, "/p/c3", false, ms(4)).unwrap(), None);
    assert_eq!(
        zk.multi(s, &ops(1), ms(5)).unwrap(),
        [OpResult::Check, OpResult::Create("/p/c3".into())]
    );
    let c = zk.exists(s, "/p/c", false, ms(6)).unwrap().unwrap();
    let c3 = zk.exists(s, "/p/c3", false, ms(6)).unwrap().unwrap();
    assert!(c3.czxid > c.czxid);
    zk.create(s, "/p/e", b"", E, ms(7)).unwrap();
    let e = zk.exists(s, "/p/e", false, ms(7)).unwrap().unwrap();
    assert_eq!(e.ephemeral_owner, Some(s));
    assert!(e.czxid > c3.czxid);
    assert_eq!(c.ephemeral_owner, None);
}

/// kazoo's `Lock` protocol on the server: one `<uuid>__lock__` node per contender, the lowest
/// holds, a waiter watches its predecessor.
struct Contender {
    session: SessionId,
    node: Option<String>,
}

impl Contender {
    /// Creates the contender node and says whether it is the lowest, or which node to watch.
    fn enter(&mut self, zk: &mut ZooKeeper, t: ServerClock) -> Result<(), String> {
        let prefix = format!("/p/lock/{:032x}__lock__", self.session.0);
        let node = zk.create(self.session, &prefix, b"", ES, t).unwrap();
        self.node = Some(node);
        self.check(zk, t)
    }

    /// Holds (Ok) or the predecessor it set an exists watch on (Err).
    fn check(&mut self, zk: &mut ZooKeeper, t: ServerClock) -> Result<(), String> {
        let me = self.node.clone().unwrap();
        let kids = sorted_by_suffix(zk, self.session, "/p/lock", t);
        let pos = kids.iter().position(|k| me.ends_with(k.as_str())).unwrap();
        if pos == 0 {
            return Ok(());
        }
        let pred = format!("/p/lock/{}", kids[pos - 1]);
        match zk.exists(self.session, &pred, true, t).unwrap() {
            Some(_) => Err(pred),
            None => self.check(zk, t),
        }
    }

    fn leave(&mut self, zk: &mut ZooKeeper, t: ServerClock) {
        let node = self.node.take().unwrap();
        zk.delete(self.session, &node, ANY_VERSION, t).unwrap();
    }
}

#[test]
fn check_68_kazoo_lock_protocol() {
    let (mut zk, s) = setup(2);
    zk.create(s[0], "/p/lock", b"", P, ms(0)).unwrap();
    let mut a = Contender {
        session: s[0],
        node: None,
    };
    let mut b = Contender {
        session: s[1],
        node: None,
    };
    assert_eq!(a.enter(&mut zk, ms(1)), Ok(()));
    // acquire(blocking=False): not lowest → remove the node again, return False.
    assert!(b.enter(&mut zk, ms(2)).is_err());
    b.leave(&mut zk, ms(2));
    assert_eq!(
        zk.get_children(s[1], "/p/lock", false, ms(2))
            .unwrap()
            .len(),
        1
    );
    // acquire(timeout=0.5): waits on A's node; no event within 0.5 s; gives up.
    assert!(b.enter(&mut zk, ms(3)).is_err());
    assert_eq!(zk.pending_events(s[1]).count(), 0);
    b.leave(&mut zk, ms(503));
    assert_eq!(
        zk.get_children(s[1], "/p/lock", false, ms(503))
            .unwrap()
            .len(),
        1
    );
    // acquire() blocks; A releases; B's watch fires and its re-check holds.
    let _ = zk.take_events(s[1]);
    assert!(b.enter(&mut zk, ms(600)).is_err());
    a.leave(&mut zk, ms(700));
    assert_eq!(kinds(&zk.take_events(s[1])), [EventType::NodeDeleted]);
    assert_eq!(b.check(&mut zk, ms(701)), Ok(()));
    b.leave(&mut zk, ms(800));
    assert!(zk
        .get_children(s[1], "/p/lock", false, ms(800))
        .unwrap()
        .is_empty());
    // check 68: "within 50 ms" and LockTimeout after ≈0.5 s are kazoo's timers, not the server's.
}

#[test]
fn check_69_predecessor_watch_wakes_one_parent_watch_wakes_all() {
    let (mut zk, s) = setup(4);
    zk.create(s[0], "/p/lock", b"", P, ms(0)).unwrap();
    let mut cs: Vec<Contender> = s
        .iter()
        .map(|&session| Contender {
            session,
            node: None,
        })
        .collect();
    assert_eq!(cs[0].enter(&mut zk, ms(1)), Ok(()));
    for c in &mut cs[1..] {
        assert!(c.enter(&mut zk, ms(2)).is_err());
    }
    cs[0].leave(&mut zk, ms(3));
    let woken: Vec<usize> = (1..4)
        .filter(|&i| !zk.take_events(s[i]).is_empty())
        .collect();
    assert_eq!(woken, [1]);

    // The parent-watch variant: every waiter watches /p/lock's children.
    let (mut zk, s) = setup(4);
    zk.create(s[0], "/p/lock", b"", P, ms(0)).unwrap();
    let holder = zk.create(s[0], "/p/lock/n-", b"", ES, ms(1)).unwrap();
    for &w in &s[1..] {
        zk.create(w, "/p/lock/n-", b"", ES, ms(2)).unwrap();
    }
    for &w in &s[1..] {
        zk.get_children(w, "/p/lock", true, ms(3)).unwrap();
    }
    zk.delete(s[0], &holder, ANY_VERSION, ms(4)).unwrap();
    let woken: Vec<usize> = (1..4)
        .filter(|&i| kinds(&zk.take_events(s[i])) == [EventType::NodeChildrenChanged])
        .collect();
    assert_eq!(woken, [1, 2, 3]);
}

/// The fenced resource of check 80, reduced to its rule: keep the largest token accepted,
/// reject smaller ones.
#[derive(Default)]
struct FencedStore {
    max_token: Option<i64>,
    writes: Vec<(&'static str, i64)>,
}

impl FencedStore {
    fn write(&mut self, who: &'static str, token: i64, fenced: bool) -> bool {
        if fenced && self.max_token.is_some_and(|m| token < m) {
            return false;
        }
        self.max_token = Some(self.max_token.map_or(token, |m| m.max(token)));
        self.writes.push((who, token));
        true
    }
}

#[test]
fn check_80_czxid_fences_a_paused_holder() {
    for fenced in [true, false] {
        let mut zk = ZooKeeper::new(ZkConfig::conformance());
        let a = zk.connect(1000, ms(0)).session;
        let b = zk.connect(10_000, ms(0)).session;
        zk.create(b, "/p", b"", P, ms(0)).unwrap();
        let mut store = FencedStore::default();
        let a_node = zk.create(a, "/p/lock-", b"", ES, ms(1)).unwrap();
        let a_token = zk.exists(a, &a_node, false, ms(1)).unwrap().unwrap().czxid;
        assert!(store.write("A", a_token, fenced));
        // A pauses 3 s; B queues behind A and watches A's node.
        let b_node = zk.create(b, "/p/lock-", b"", ES, ms(2)).unwrap();
        assert!(zk.exists(b, &a_node, true, ms(2)).unwrap().is_some());
        assert_eq!(zk.expire_overdue(ms(1600)), vec![a]);
        assert_eq!(kinds(&zk.take_events(b)), [EventType::NodeDeleted]);
        let kids = sorted_by_suffix(&mut zk, b, "/p", ms(1601));
        assert_eq!(format!("/p/{}", kids[0]), b_node, "B now holds");
        let b_token = zk
            .exists(b, &b_node, false, ms(1601))
            .unwrap()
            .unwrap()
            .czxid;
        assert!(b_token > a_token);
        assert!(store.write("B", b_token, fenced));
        // A resumes and writes, still believing it holds (it has not talked to the server).
        let accepted = store.write("A", a_token, fenced);
        assert_eq!(accepted, !fenced);
        if !fenced {
            assert_eq!(
                store.writes,
                [("A", a_token), ("B", b_token), ("A", a_token)]
            );
        }
    }
}

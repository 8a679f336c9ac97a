//! The rules of the tutorial's section 9.3 (ZooKeeper locks), rule-9.3-NN, checked against the
//! ZooKeeper twin where they are about what the server does. Each test names its rule; the
//! verdicts are in /work/staging/rules-9.3.jsonl.

use lockproof_services::time::ServerClock;
use lockproof_services::zookeeper::{
    sequence_of, CreateMode, EventType, Op, OpResult, SessionId, ZkConfig, ZkError, ZooKeeper,
    ANY_VERSION,
};

const P: CreateMode = CreateMode::Persistent;
const E: CreateMode = CreateMode::Ephemeral;
const ES: CreateMode = CreateMode::EphemeralSequential;

fn ms(ms: u64) -> ServerClock {
    ServerClock::at(ms * 1_000_000)
}

/// A server (tickTime 500 ms), `n` sessions with 10 s timeouts and a persistent `/lock`.
fn setup(n: usize) -> (ZooKeeper, Vec<SessionId>) {
    let mut zk = ZooKeeper::new(ZkConfig::conformance());
    let s: Vec<SessionId> = (0..n).map(|_| zk.connect(10_000, ms(0)).session).collect();
    zk.create(s[0], "/lock", b"", P, ms(0)).unwrap();
    (zk, s)
}

/// The children of `parent` sorted by sequence suffix (what every recipe must do).
fn queue(zk: &mut ZooKeeper, s: SessionId, parent: &str, t: ServerClock) -> Vec<String> {
    let mut kids = zk.get_children(s, parent, false, t).unwrap();
    kids.sort_by_key(|k| sequence_of(k));
    kids.into_iter().map(|k| format!("{parent}/{k}")).collect()
}

/// The holder as the server's state says: the lowest node.
fn holder(zk: &mut ZooKeeper, s: SessionId, t: ServerClock) -> Option<String> {
    queue(zk, s, "/lock", t).into_iter().next()
}

fn kinds(zk: &mut ZooKeeper, s: SessionId) -> Vec<EventType> {
    zk.take_events(s).into_iter().map(|e| e.kind).collect()
}

#[test]
fn rule_9_3_01_ephemeral_sequential_nodes_and_watches_make_a_lock() {
    let (mut zk, s) = setup(3);
    let nodes: Vec<String> = s
        .iter()
        .map(|&c| zk.create(c, "/lock/lock-", b"", ES, ms(1)).unwrap())
        .collect();
    assert_eq!(holder(&mut zk, s[0], ms(1)).as_ref(), Some(&nodes[0]));
    zk.exists(s[1], &nodes[0], true, ms(2)).unwrap();
    zk.exists(s[2], &nodes[1], true, ms(2)).unwrap();
    // The holder crashes (its session closes): its node goes, exactly the next waiter wakes
    // and is now the only lowest node.
    zk.close(s[0], ms(3)).unwrap();
    assert_eq!(kinds(&mut zk, s[1]), [EventType::NodeDeleted]);
    assert!(zk.take_events(s[2]).is_empty());
    assert_eq!(holder(&mut zk, s[1], ms(4)).as_ref(), Some(&nodes[1]));
}

#[test]
fn rule_9_3_02_writes_are_totally_ordered_and_atomic() {
    let (mut zk, s) = setup(2);
    // Two clients race to create the same node: exactly one wins.
    let a = zk.create(s[0], "/lock/owner", b"a", E, ms(1));
    let b = zk.create(s[1], "/lock/owner", b"b", E, ms(1));
    assert_eq!(a, Ok("/lock/owner".to_string()));
    assert_eq!(b, Err(ZkError::NodeExists));
    // Every write gets a larger zxid, whoever sends it.
    let n1 = zk.create(s[1], "/lock/n-", b"", ES, ms(2)).unwrap();
    let n2 = zk.create(s[0], "/lock/n-", b"", ES, ms(2)).unwrap();
    let z = |zk: &ZooKeeper, p: &str| zk.node(p).unwrap().stat().czxid;
    assert!(z(&zk, "/lock/owner") < z(&zk, &n1) && z(&zk, &n1) < z(&zk, &n2));
    // A multi applies all its ops or none.
    let r = zk
        .multi(
            s[1],
            &[
                Op::Delete {
                    path: n1.clone(),
                    version: ANY_VERSION,
                },
                Op::Create {
                    path: "/lock/owner".into(),
                    data: vec![],
                    mode: E,
                },
            ],
            ms(3),
        )
        .unwrap();
    assert_eq!(r[1], OpResult::Error(ZkError::NodeExists));
    assert!(zk.node(&n1).is_some(), "the delete was rolled back");
}

#[test]
fn rule_9_3_03_ephemerals_end_with_the_session() {
    let mut zk = ZooKeeper::new(ZkConfig::conformance());
    let closer = zk.connect(1000, ms(0)).session;
    let crasher = zk.connect(1000, ms(0)).session;
    let other = zk.connect(10_000, ms(0)).session;
    zk.create(other, "/lock", b"", P, ms(0)).unwrap();
    zk.create(closer, "/lock/a", b"", E, ms(0)).unwrap();
    zk.create(crasher, "/lock/b", b"", E, ms(0)).unwrap();
    zk.close(closer, ms(10)).unwrap();
    assert!(zk.node("/lock/a").is_none(), "a clean close frees at once");
    // The crashed client sends nothing more: its node lives until the session expires.
    assert!(zk
        .exists(other, "/lock/b", false, ms(1499))
        .unwrap()
        .is_some());
    assert!(zk
        .exists(other, "/lock/b", false, ms(1500))
        .unwrap()
        .is_none());
}

#[test]
fn rule_9_3_04_release_is_notified_in_the_same_step() {
    let (mut zk, s) = setup(2);
    let held = zk.create(s[0], "/lock/lock-", b"", ES, ms(1)).unwrap();
    zk.exists(s[1], &held, true, ms(2)).unwrap();
    assert!(zk.take_events(s[1]).is_empty());
    zk.delete(s[0], &held, ANY_VERSION, ms(3)).unwrap();
    // The event is queued by the release itself: no poll is needed to learn of it.
    let events = zk.take_events(s[1]);
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].kind, EventType::NodeDeleted);
    assert_eq!(events[0].zxid, zk.zxid());
}

#[test]
fn rule_9_3_05_sequence_numbers_follow_the_servers_order_of_creates() {
    let (mut zk, s) = setup(3);
    // The order the server applies the creates in (not the clients' numbering) decides.
    let order = [s[2], s[0], s[1]];
    let nodes: Vec<String> = order
        .iter()
        .map(|&c| zk.create(c, "/lock/lock-", b"", ES, ms(1)).unwrap())
        .collect();
    let owners: Vec<SessionId> = queue(&mut zk, s[0], "/lock", ms(2))
        .iter()
        .map(|p| zk.node(p).unwrap().stat().ephemeral_owner.unwrap())
        .collect();
    assert_eq!(owners, order);
    // Holders follow that queue: each release hands over to the next in line.
    for (i, n) in nodes.iter().enumerate() {
        assert_eq!(holder(&mut zk, s[0], ms(3)).as_ref(), Some(n));
        zk.delete(order[i], n, ANY_VERSION, ms(3)).unwrap();
    }
}

#[test]
fn rule_9_3_06_a_session_survives_connection_loss_only_within_its_timeout() {
    let mut zk = ZooKeeper::new(ZkConfig::conformance());
    let c = zk.connect(2000, ms(0));
    assert_eq!(c.timeout_ms, 2000);
    let s = c.session;
    let node = zk.create(s, "/n", b"", E, ms(0)).unwrap();
    // Connection lost at 0; back at 1800 ms: same session, node kept.
    assert_eq!(zk.reconnect(s, ms(1800)).unwrap().session, s);
    assert!(zk.node(&node).is_some());
    // Lost again; back after the timeout: the server rejects the session.
    assert_eq!(zk.reconnect(s, ms(4500)), Err(ZkError::SessionExpired));
    assert!(zk.node(&node).is_none());
}

#[test]
fn rule_9_3_07_watches_are_one_shot_and_must_be_set_again() {
    let (mut zk, s) = setup(2);
    zk.create(s[0], "/lock/cfg", b"1", P, ms(0)).unwrap();
    zk.get_data(s[1], "/lock/cfg", true, ms(1)).unwrap();
    for v in [b"2", b"3"] {
        zk.set_data(s[0], "/lock/cfg", v, ANY_VERSION, ms(2))
            .unwrap();
    }
    assert_eq!(kinds(&mut zk, s[1]), [EventType::NodeDataChanged]);
    zk.set_data(s[0], "/lock/cfg", b"4", ANY_VERSION, ms(3))
        .unwrap();
    assert!(
        zk.take_events(s[1]).is_empty(),
        "no watch left after one event"
    );
    zk.get_data(s[1], "/lock/cfg", true, ms(4)).unwrap();
    zk.set_data(s[0], "/lock/cfg", b"5", ANY_VERSION, ms(5))
        .unwrap();
    assert_eq!(kinds(&mut zk, s[1]), [EventType::NodeDataChanged]);
}

#[test]
fn rule_9_3_08_each_request_gets_its_own_ephemeral_sequential_node() {
    let (mut zk, s) = setup(2);
    let a1 = zk.create(s[0], "/lock/lock-", b"", ES, ms(1)).unwrap();
    let b1 = zk.create(s[1], "/lock/lock-", b"", ES, ms(1)).unwrap();
    let a2 = zk.create(s[0], "/lock/lock-", b"", ES, ms(1)).unwrap();
    assert_eq!(
        [&a1, &b1, &a2],
        [
            "/lock/lock-0000000000",
            "/lock/lock-0000000001",
            "/lock/lock-0000000002"
        ]
    );
    assert_eq!(zk.node(&b1).unwrap().stat().ephemeral_owner, Some(s[1]));
    zk.close(s[0], ms(2)).unwrap();
    assert_eq!(queue(&mut zk, s[1], "/lock", ms(3)), [b1]);
}

#[test]
fn rule_9_3_09_the_smallest_suffix_holds_so_clients_must_sort_by_suffix() {
    let (mut zk, s) = setup(3);
    // kazoo-style names: a per-client unique prefix, then the sequence.
    let prefixes = ["f0e1", "a7b2", "c3d4"];
    let nodes: Vec<String> = prefixes
        .iter()
        .zip(&s)
        .map(|(p, &c)| {
            zk.create(c, &format!("/lock/{p}__lock__"), b"", ES, ms(1))
                .unwrap()
        })
        .collect();
    let listed = zk.get_children(s[0], "/lock", false, ms(2)).unwrap();
    let mut by_name = listed.clone();
    by_name.sort();
    // Sorting by name (or trusting the server's order) elects the wrong node.
    assert_ne!(format!("/lock/{}", by_name[0]), nodes[0]);
    assert_eq!(holder(&mut zk, s[0], ms(2)).as_ref(), Some(&nodes[0]));
}

#[test]
fn rule_9_3_10_predecessor_watch_wakes_one_and_a_gap_is_rechecked() {
    let (mut zk, s) = setup(4);
    let nodes: Vec<String> = s
        .iter()
        .map(|&c| zk.create(c, "/lock/lock-", b"", ES, ms(1)).unwrap())
        .collect();
    for i in 1..4 {
        assert!(zk
            .exists(s[i], &nodes[i - 1], true, ms(2))
            .unwrap()
            .is_some());
    }
    // Waiter 1 gives up: only waiter 2 (its successor) wakes; its re-check finds a new
    // predecessor, the holder, and watches it.
    zk.delete(s[1], &nodes[1], ANY_VERSION, ms(3)).unwrap();
    assert_eq!(kinds(&mut zk, s[2]), [EventType::NodeDeleted]);
    assert!(zk.take_events(s[3]).is_empty() && zk.take_events(s[0]).is_empty());
    let q = queue(&mut zk, s[2], "/lock", ms(4));
    assert_eq!(q, [nodes[0].clone(), nodes[2].clone(), nodes[3].clone()]);
    zk.exists(s[2], &q[0], true, ms(4)).unwrap();
    // The holder releases: exactly waiter 2 wakes and holds.
    zk.delete(s[0], &nodes[0], ANY_VERSION, ms(5)).unwrap();
    assert_eq!(kinds(&mut zk, s[2]), [EventType::NodeDeleted]);
    assert!(zk.take_events(s[3]).is_empty());
    assert_eq!(holder(&mut zk, s[2], ms(6)).as_ref(), Some(&nodes[2]));
}

/// The shared-lock recipe on one parent: who holds among `read-`/`write-` nodes.
fn rw_holders(queue: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    for (i, n) in queue.iter().enumerate() {
        let earlier = &queue[..i];
        let holds = if n.contains("/write-") {
            i == 0
        } else {
            !earlier.iter().any(|e| e.contains("/write-"))
        };
        if holds {
            out.push(n.clone());
        }
    }
    out
}

#[test]
fn rule_9_3_11_read_and_write_nodes_are_ordered_only_under_one_parent() {
    let (mut zk, s) = setup(2);
    // Separate parents (the tutorial's read_locks/ and write_locks/): each numbers from 0,
    // so a read node and a write node cannot be ordered against each other.
    zk.create(s[0], "/lock/read_locks", b"", P, ms(0)).unwrap();
    zk.create(s[0], "/lock/write_locks", b"", P, ms(0)).unwrap();
    let w = zk
        .create(s[1], "/lock/write_locks/write-", b"", ES, ms(1))
        .unwrap();
    let r = zk
        .create(s[0], "/lock/read_locks/read-", b"", ES, ms(2))
        .unwrap();
    assert_eq!(sequence_of(&w), sequence_of(&r), "both are 0000000000");
    // One parent, names telling read from write: one sequence orders them.
    zk.create(s[0], "/lock/rw", b"", P, ms(0)).unwrap();
    let w = zk.create(s[1], "/lock/rw/write-", b"", ES, ms(3)).unwrap();
    let r = zk.create(s[0], "/lock/rw/read-", b"", ES, ms(4)).unwrap();
    assert!(sequence_of(&w) < sequence_of(&r));
    assert_eq!(rw_holders(&queue(&mut zk, s[0], "/lock/rw", ms(5))), [w]);
}

#[test]
fn rule_9_3_12_readers_share_but_wait_for_an_earlier_writer() {
    let (mut zk, s) = setup(4);
    let r1 = zk.create(s[0], "/lock/read-", b"", ES, ms(1)).unwrap();
    let r2 = zk.create(s[1], "/lock/read-", b"", ES, ms(1)).unwrap();
    let w = zk.create(s[2], "/lock/write-", b"", ES, ms(1)).unwrap();
    let r3 = zk.create(s[3], "/lock/read-", b"", ES, ms(1)).unwrap();
    let q = queue(&mut zk, s[0], "/lock", ms(2));
    assert_eq!(rw_holders(&q), [r1.clone(), r2.clone()]);
    for n in [&r1, &r2] {
        zk.delete(s[0], n, ANY_VERSION, ms(3)).unwrap();
    }
    let q = queue(&mut zk, s[0], "/lock", ms(4));
    assert_eq!(rw_holders(&q), vec![w.clone()]);
    zk.delete(s[2], &w, ANY_VERSION, ms(5)).unwrap();
    assert_eq!(rw_holders(&queue(&mut zk, s[0], "/lock", ms(6))), [r3]);
}

#[test]
fn rule_9_3_13_a_writer_waits_for_every_earlier_reader_and_writer() {
    let (mut zk, s) = setup(3);
    let r = zk.create(s[0], "/lock/read-", b"", ES, ms(1)).unwrap();
    let w1 = zk.create(s[1], "/lock/write-", b"", ES, ms(1)).unwrap();
    let w2 = zk.create(s[2], "/lock/write-", b"", ES, ms(1)).unwrap();
    assert_eq!(
        rw_holders(&queue(&mut zk, s[0], "/lock", ms(2))),
        vec![r.clone()]
    );
    zk.delete(s[0], &r, ANY_VERSION, ms(3)).unwrap();
    assert_eq!(
        rw_holders(&queue(&mut zk, s[0], "/lock", ms(4))),
        vec![w1.clone()]
    );
    zk.delete(s[1], &w1, ANY_VERSION, ms(5)).unwrap();
    assert_eq!(rw_holders(&queue(&mut zk, s[0], "/lock", ms(6))), [w2]);
}

#[test]
fn rule_9_3_14_the_recipes_priority_is_arrival_order() {
    let (mut zk, s) = setup(3);
    let r1 = zk.create(s[0], "/lock/read-", b"", ES, ms(1)).unwrap();
    let w = zk.create(s[1], "/lock/write-", b"", ES, ms(2)).unwrap();
    let r2 = zk.create(s[2], "/lock/read-", b"", ES, ms(3)).unwrap();
    // While r1 reads, the queued writer holds back the later reader: no reader preference,
    // so writers cannot starve.
    let holders = rw_holders(&queue(&mut zk, s[0], "/lock", ms(4)));
    assert_eq!(holders, [r1]);
    assert!(!holders.contains(&r2) && !holders.contains(&w));
}

#[test]
fn rule_9_3_15_a_count_in_node_data_is_a_versioned_write_that_extends_nothing() {
    let mut zk = ZooKeeper::new(ZkConfig::conformance());
    let s = zk.connect(1000, ms(0)).session;
    let node = zk.create(s, "/count", b"1", E, ms(0)).unwrap();
    // Re-entry: read the count with its version, write count+1 conditionally.
    let (data, st) = zk.get_data(s, &node, false, ms(1)).unwrap();
    assert_eq!(data, b"1");
    zk.set_data(s, &node, b"2", st.version, ms(2)).unwrap();
    assert_eq!(
        zk.set_data(s, &node, b"3", st.version, ms(3)),
        Err(ZkError::BadVersion),
        "a stale count is refused"
    );
    // A count of 2 does not keep the node: it goes with the session.
    assert_eq!(zk.expire_overdue(ms(1500)), vec![s]);
    assert!(zk.node(&node).is_none());
}

#[test]
fn rule_9_3_16_the_server_knows_the_owner_by_session_and_enforces_nothing() {
    let (mut zk, s) = setup(2);
    let mine = zk
        .create(s[0], "/lock/client-A__lock__", b"client-A", ES, ms(1))
        .unwrap();
    assert_eq!(zk.node(&mine).unwrap().stat().ephemeral_owner, Some(s[0]));
    // The identifier in the name or data is a client convention: another session (or the
    // same process under another identifier) may delete the node.
    zk.delete(s[1], &mine, ANY_VERSION, ms(2)).unwrap();
    assert!(zk.node(&mine).is_none());
}

#[test]
fn rule_9_3_17_reentry_must_be_counted_by_the_client() {
    let (mut zk, s) = setup(1);
    let first = zk.create(s[0], "/lock/lock-", b"", ES, ms(1)).unwrap();
    // A second acquire by the same session that creates a node again queues behind itself:
    // its predecessor is its own first node, which it will never delete while waiting.
    let second = zk.create(s[0], "/lock/lock-", b"", ES, ms(2)).unwrap();
    let q = queue(&mut zk, s[0], "/lock", ms(3));
    assert_eq!(q, [first.clone(), second.clone()]);
    assert_eq!(zk.node(&q[0]).unwrap().stat().ephemeral_owner, Some(s[0]));
    assert_ne!(holder(&mut zk, s[0], ms(3)), Some(second));
}

#[test]
fn rule_9_3_18_rewriting_node_data_renews_nothing() {
    let mut zk = ZooKeeper::new(ZkConfig::conformance());
    let renewer = zk.connect(1000, ms(0)).session;
    let pinger = zk.connect(1000, ms(0)).session;
    let watcher = zk.connect(10_000, ms(0)).session;
    zk.create(renewer, "/r", b"t=0", E, ms(0)).unwrap();
    zk.create(pinger, "/q", b"", E, ms(0)).unwrap();
    // The "lease renewal" thread rewrites the data every 300 ms; the other client only pings
    // (as every client library does anyway): both nodes live exactly as long.
    for t in (300..=3000).step_by(300) {
        let data = format!("t={t}");
        zk.set_data(renewer, "/r", data.as_bytes(), ANY_VERSION, ms(t))
            .unwrap();
        zk.ping(pinger, ms(t)).unwrap();
        zk.ping(watcher, ms(t)).unwrap();
    }
    assert_eq!(zk.node("/r").unwrap().stat().version, 10);
    let (r, q) = (zk.session(renewer).unwrap(), zk.session(pinger).unwrap());
    assert_eq!(r.deadline, q.deadline);
    // A pause stops both: the node goes at the session deadline, renewed data or not.
    assert_eq!(zk.expire_overdue(ms(4500)), vec![renewer, pinger]);
    assert!(zk.node("/r").is_none() && zk.node("/q").is_none());
}

#[test]
fn rule_9_3_19_an_expired_client_learns_it_only_when_it_talks_to_the_server() {
    let mut zk = ZooKeeper::new(ZkConfig::conformance());
    let a = zk.connect(1000, ms(0)).session;
    zk.create(a, "/held", b"", E, ms(0)).unwrap();
    assert_eq!(zk.expire_overdue(ms(1500)), vec![a]);
    // Nothing is sent to the expired session: no event tells it.
    assert_eq!(zk.pending_events(a).count(), 0);
    assert!(zk.take_events(a).is_empty());
    // Its next contact with the server is how it finds out.
    assert_eq!(zk.reconnect(a, ms(4000)), Err(ZkError::SessionExpired));
}

#[test]
fn rule_9_3_20_a_failed_client_releases_after_its_session_timeout() {
    let mut zk = ZooKeeper::new(ZkConfig::conformance());
    let a = zk.connect(4000, ms(0)).session;
    let b = zk.connect(10_000, ms(0)).session;
    zk.create(b, "/lock", b"", P, ms(0)).unwrap();
    let held = zk.create(a, "/lock/lock-", b"", ES, ms(100)).unwrap();
    zk.exists(b, &held, true, ms(100)).unwrap();
    // A crashes right after its last request (100 ms): the lock stays held for the timeout.
    assert!(zk.expire_overdue(ms(4000)).is_empty());
    assert!(zk.node(&held).is_some());
    let deadline = zk.session(a).unwrap().deadline;
    assert_eq!(deadline, 4_500_000_000);
    zk.expire_overdue(ServerClock::at(deadline));
    assert_eq!(kinds(&mut zk, b), [EventType::NodeDeleted]);
}

#[test]
fn rule_9_3_21_only_a_versioned_set_makes_read_modify_write_atomic() {
    for versioned in [false, true] {
        let (mut zk, s) = setup(2);
        zk.create(s[0], "/lock/config", b"", P, ms(0)).unwrap();
        // Both read the config, each adds its key, both write back.
        let (_, st_a) = zk.get_data(s[0], "/lock/config", false, ms(1)).unwrap();
        let (_, st_b) = zk.get_data(s[1], "/lock/config", false, ms(1)).unwrap();
        let v = |st: lockproof_services::zookeeper::Stat| {
            if versioned {
                st.version
            } else {
                ANY_VERSION
            }
        };
        let a = zk.set_data(s[0], "/lock/config", b"a=1", v(st_a), ms(2));
        let b = zk.set_data(s[1], "/lock/config", b"b=1", v(st_b), ms(3));
        let (data, _) = zk.get_data(s[0], "/lock/config", false, ms(4)).unwrap();
        assert!(a.is_ok());
        if versioned {
            assert_eq!(b, Err(ZkError::BadVersion), "B must re-read and retry");
            assert_eq!(data, b"a=1");
        } else {
            assert!(b.is_ok());
            assert_eq!(data, b"b=1", "A's key is lost");
        }
    }
}

#[test]
fn rule_9_3_23_the_server_has_one_lowest_candidate_but_the_old_leader_is_not_told() {
    let mut zk = ZooKeeper::new(ZkConfig::conformance());
    let old = zk.connect(1000, ms(0)).session;
    let new = zk.connect(10_000, ms(0)).session;
    zk.create(new, "/election", b"", P, ms(0)).unwrap();
    let n0 = zk.create(old, "/election/n_", b"", ES, ms(0)).unwrap();
    let n1 = zk.create(new, "/election/n_", b"", ES, ms(0)).unwrap();
    let lowest = |zk: &mut ZooKeeper, t| queue(zk, new, "/election", t).first().cloned();
    assert_eq!(lowest(&mut zk, ms(1)), Some(n0));
    // The leader pauses; its session expires; the next candidate is now lowest...
    zk.expire_overdue(ms(1500));
    assert_eq!(lowest(&mut zk, ms(1600)), Some(n1));
    // ...while nothing reached the old leader, which still believes it leads until it next
    // talks to the server: "exactly one leader" holds in the server's state only.
    assert_eq!(zk.pending_events(old).count(), 0);
    assert_eq!(
        zk.get_children(old, "/election", false, ms(3000)),
        Err(ZkError::SessionExpired)
    );
}

#[test]
fn rule_9_3_24_election_by_lowest_ephemeral_sequential_node() {
    let (mut zk, s) = setup(3);
    zk.create(s[0], "/election", b"", P, ms(0)).unwrap();
    let nodes: Vec<String> = s
        .iter()
        .map(|&c| zk.create(c, "/election/n_", b"", ES, ms(1)).unwrap())
        .collect();
    for i in 0..3 {
        assert_eq!(queue(&mut zk, s[2], "/election", ms(2))[0], nodes[i]);
        if i < 2 {
            zk.close(s[i], ms(2)).unwrap();
        }
    }
}

#[test]
fn rule_9_3_25_paths_are_literal_strings() {
    let (mut zk, s) = setup(1);
    zk.create(s[0], "/app", b"", P, ms(0)).unwrap();
    zk.create(s[0], "/app/config", b"", P, ms(0)).unwrap();
    // ex-9.3-03 builds the lock path as config_path + 'config_lock': a sibling, not a child.
    let lock = format!("{}{}", "/app/config", "config_lock");
    zk.create(s[0], &lock, b"", P, ms(1)).unwrap();
    assert!(zk
        .get_children(s[0], "/app/config", false, ms(2))
        .unwrap()
        .is_empty());
    let mut app = zk.get_children(s[0], "/app", false, ms(2)).unwrap();
    app.sort();
    assert_eq!(app, ["config", "configconfig_lock"]);
    // A lock path whose parent was not created fails.
    assert_eq!(
        zk.create(s[0], "/locks/job/lock-", b"", ES, ms(3)),
        Err(ZkError::NoNode)
    );
}

#[test]
fn rule_9_3_26_an_expired_session_cannot_be_resumed_its_locks_must_be_retaken() {
    let mut zk = ZooKeeper::new(ZkConfig::conformance());
    let a = zk.connect(1000, ms(0)).session;
    let node = zk.create(a, "/n", b"", E, ms(0)).unwrap();
    zk.expire_overdue(ms(2000));
    assert_eq!(zk.reconnect(a, ms(2100)), Err(ZkError::SessionExpired));
    let a2 = zk.connect(1000, ms(2100)).session;
    assert_ne!(a2, a);
    assert!(zk.node(&node).is_none());
    zk.create(a2, "/n", b"", E, ms(2100)).unwrap();
    assert_eq!(zk.node("/n").unwrap().stat().ephemeral_owner, Some(a2));
}

#[test]
fn rule_9_3_27_a_ghost_node_blocks_the_lock_while_its_session_lives() {
    let (mut zk, s) = setup(2);
    // A's create is applied but its reply is lost: A does not know its node's name.
    let ghost = zk.create(s[0], "/lock/lock-", b"", ES, ms(1)).unwrap();
    let b = zk.create(s[1], "/lock/lock-", b"", ES, ms(2)).unwrap();
    // A's session stays alive (its library pings); the ghost keeps B waiting indefinitely.
    for t in (1000..=60_000).step_by(3000) {
        zk.ping(s[0], ms(t)).unwrap();
        zk.ping(s[1], ms(t)).unwrap();
    }
    assert_eq!(holder(&mut zk, s[1], ms(60_000)), Some(ghost.clone()));
    assert_ne!(holder(&mut zk, s[1], ms(60_000)), Some(b.clone()));
    // Cleaning it up frees the lock: here by closing the session.
    zk.close(s[0], ms(60_001)).unwrap();
    assert_eq!(holder(&mut zk, s[1], ms(60_002)), Some(b));
}

#[test]
fn rule_9_3_28_the_server_grants_its_own_timeout_and_rounds_to_ticks() {
    let mut zk = ZooKeeper::new(ZkConfig::with_tick(2000));
    let short = zk.connect(1000, ms(0));
    let long = zk.connect(120_000, ms(0));
    assert_eq!(short.timeout_ms, 4000, "2 × tickTime at least");
    assert_eq!(long.timeout_ms, 40_000, "20 × tickTime at most");
    // The expiry comes at the tick boundary after last-heard + timeout: up to a tick later.
    assert_eq!(zk.session(short.session).unwrap().deadline, 6_000_000_000);
}

#[test]
fn rule_9_3_29_a_prompt_reconnect_keeps_the_lock_a_late_one_loses_it() {
    for (back_at, kept) in [(1400, true), (1500, false)] {
        let mut zk = ZooKeeper::new(ZkConfig::conformance());
        let a = zk.connect(1000, ms(0)).session;
        zk.create(a, "/held", b"", E, ms(0)).unwrap();
        assert_eq!(zk.reconnect(a, ms(back_at)).is_ok(), kept);
        assert_eq!(zk.node("/held").is_some(), kept);
    }
}

#[test]
fn rule_9_3_30_a_retried_sequential_create_makes_a_second_node() {
    let mut zk = ZooKeeper::new(ZkConfig::conformance());
    let a = zk.connect(4000, ms(0)).session;
    zk.create(a, "/lock", b"", P, ms(0)).unwrap();
    // The first create is applied, the reply lost; the client reconnects (same session,
    // within the timeout) and retries.
    let first = zk.create(a, "/lock/lock-", b"", ES, ms(10)).unwrap();
    assert_eq!(zk.reconnect(a, ms(2000)).unwrap().session, a);
    let retry = zk.create(a, "/lock/lock-", b"", ES, ms(2001)).unwrap();
    assert_ne!(first, retry);
    assert_eq!(
        zk.get_children(a, "/lock", false, ms(2002)).unwrap().len(),
        2
    );
    assert_eq!(holder(&mut zk, a, ms(2002)), Some(first));
}

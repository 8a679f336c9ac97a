//! The ZooKeeper twin's behaviour beyond §9's checks: zxids, expiry buckets, restart, watch
//! bookkeeping, multi, paths and the trace text of requests and replies.

use lockproof_services::time::ServerClock;
use lockproof_services::zookeeper::{
    CreateMode, EventType, Op, OpResult, Reply, Request, SessionState, ZkConfig, ZkError,
    ZooKeeper, ANY_VERSION,
};

const P: CreateMode = CreateMode::Persistent;
const E: CreateMode = CreateMode::Ephemeral;
const ES: CreateMode = CreateMode::EphemeralSequential;

fn ms(ms: u64) -> ServerClock {
    ServerClock::at(ms * 1_000_000)
}

#[test]
fn every_write_takes_a_zxid_and_reads_take_none() {
    let mut zk = ZooKeeper::new(ZkConfig::default());
    assert_eq!(zk.zxid(), 0);
    let s = zk.connect(10_000, ms(0)).session; // createSession is a transaction
    assert_eq!(zk.zxid(), 1);
    zk.create(s, "/a", b"", P, ms(0)).unwrap();
    assert_eq!(zk.node("/a").unwrap().stat().czxid, 2);
    assert_eq!(zk.create(s, "/a", b"", P, ms(0)), Err(ZkError::NodeExists));
    assert_eq!(zk.zxid(), 3, "a failed write is an error transaction");
    zk.get_data(s, "/a", true, ms(0)).unwrap();
    zk.exists(s, "/a", false, ms(0)).unwrap();
    zk.get_children(s, "/", false, ms(0)).unwrap();
    assert_eq!(zk.zxid(), 3);
    let st = zk.set_data(s, "/a", b"x", ANY_VERSION, ms(0)).unwrap();
    assert_eq!((st.czxid, st.mzxid, st.version), (2, 4, 1));
    let root = zk.node("/").unwrap().stat();
    assert_eq!(root.pzxid, 2);
}

#[test]
fn ctime_and_mtime_come_from_the_server_wall_clock() {
    let mut zk = ZooKeeper::new(ZkConfig::default());
    let s = zk.connect(10_000, ms(0)).session;
    let t1 = ServerClock {
        wall: 5_000_000_000,
        mono: 1_000_000,
    };
    zk.create(s, "/a", b"", P, t1).unwrap();
    let t2 = ServerClock {
        wall: 4_000_000_000, // the wall clock stepped back
        mono: 2_000_000,
    };
    let st = zk.set_data(s, "/a", b"v", ANY_VERSION, t2).unwrap();
    assert_eq!((st.ctime, st.mtime), (5000, 4000));
}

#[test]
fn expiry_is_judged_on_the_monotonic_clock_only() {
    let mut zk = ZooKeeper::new(ZkConfig::conformance());
    let s = zk.connect(1000, ms(0)).session;
    // A wall-clock jump of an hour changes nothing.
    let jumped = ServerClock {
        wall: 3_600_000_000_000,
        mono: 1_000_000,
    };
    zk.ping(s, jumped).unwrap();
    assert!(zk.expire_overdue(jumped).is_empty());
    assert!(zk.is_alive(s));
}

#[test]
fn requests_refresh_the_session_and_deadlines_snap_to_ticks() {
    let mut zk = ZooKeeper::new(ZkConfig::conformance()); // tick 500
    let s = zk.connect(1000, ms(0)).session;
    assert_eq!(zk.session(s).unwrap().deadline, 1_500_000_000);
    zk.exists(s, "/", false, ms(1200)).unwrap();
    // 1200 + 1000 = 2200 → next boundary 2500.
    assert_eq!(zk.session(s).unwrap().deadline, 2_500_000_000);
    assert_eq!(zk.session(s).unwrap().last_heard, 1_200_000_000);
    zk.ping(s, ms(2000)).unwrap();
    assert_eq!(zk.session(s).unwrap().deadline, 3_500_000_000);
    assert!(zk.expire_overdue(ms(3499)).is_empty());
    assert_eq!(zk.expire_overdue(ms(3500)), vec![s]);
    assert_eq!(zk.session(s).unwrap().state, SessionState::Expired);
    assert_eq!(zk.next_expiry(), None);
}

#[test]
fn a_request_after_a_deadline_sees_the_expiry_even_without_an_expiry_step() {
    let mut zk = ZooKeeper::new(ZkConfig::conformance());
    let a = zk.connect(1000, ms(0)).session;
    let b = zk.connect(10_000, ms(0)).session;
    zk.create(a, "/e", b"", E, ms(0)).unwrap();
    // No expire_overdue call: B's request at 1600 ms finds A expired and /e gone.
    assert_eq!(zk.exists(b, "/e", false, ms(1600)).unwrap(), None);
    assert!(!zk.is_alive(a));
    assert_eq!(zk.ping(a, ms(1600)), Err(ZkError::SessionExpired));
}

#[test]
fn expiring_sessions_delete_ephemerals_in_one_transaction_and_drop_their_watches() {
    let mut zk = ZooKeeper::new(ZkConfig::conformance());
    let a = zk.connect(1000, ms(0)).session;
    let b = zk.connect(10_000, ms(0)).session;
    zk.create(b, "/p", b"", P, ms(0)).unwrap();
    zk.create(a, "/p/e1", b"", E, ms(0)).unwrap();
    zk.create(a, "/p/e2", b"", E, ms(0)).unwrap();
    zk.create(a, "/p/keep", b"", P, ms(0)).unwrap();
    // A watches /p/keep; B watches both ephemerals and /p's children.
    zk.exists(a, "/p/keep", true, ms(0)).unwrap();
    zk.exists(b, "/p/e1", true, ms(0)).unwrap();
    zk.exists(b, "/p/e2", true, ms(0)).unwrap();
    zk.get_children(b, "/p", true, ms(0)).unwrap();
    let before = zk.zxid();
    assert_eq!(zk.expire_overdue(ms(1500)), vec![a]);
    assert_eq!(zk.zxid(), before + 1);
    let events = zk.take_events(b);
    let got: Vec<(EventType, &str)> = events.iter().map(|e| (e.kind, e.path.as_str())).collect();
    assert_eq!(
        got,
        [
            (EventType::NodeDeleted, "/p/e1"),
            (EventType::NodeChildrenChanged, "/p"),
            (EventType::NodeDeleted, "/p/e2"),
        ]
    );
    assert!(events.iter().all(|e| e.zxid == before + 1));
    assert!(zk.node("/p/keep").is_some());
    // A's watch on /p/keep died with A: deleting it later queues nothing anywhere.
    zk.delete(b, "/p/keep", ANY_VERSION, ms(1600)).unwrap();
    assert_eq!(zk.pending_events(a).count(), 0);
    assert_eq!(zk.session(a).unwrap().ephemerals.len(), 0);
}

#[test]
fn restart_keeps_tree_and_sessions_and_restarts_their_timers() {
    let mut zk = ZooKeeper::new(ZkConfig::conformance());
    let a = zk.connect(1000, ms(0)).session;
    zk.create(a, "/e", b"d", E, ms(0)).unwrap();
    let zxid = zk.zxid();
    // Down from 100 ms to 5000 ms: nothing ran meanwhile; the restart gives a full timeout.
    zk.restart(ms(5000));
    assert_eq!(zk.zxid(), zxid);
    assert!(zk.is_alive(a));
    assert_eq!(zk.session(a).unwrap().deadline, 6_500_000_000);
    assert_eq!(zk.reconnect(a, ms(5200)).unwrap().session, a);
    assert!(zk.node("/e").is_some());
    assert_eq!(zk.expire_overdue(ms(6700)), vec![a]);
    assert!(zk.node("/e").is_none());
}

#[test]
fn one_event_per_session_for_a_node_watched_twice() {
    let mut zk = ZooKeeper::new(ZkConfig::default());
    let a = zk.connect(10_000, ms(0)).session;
    let b = zk.connect(10_000, ms(0)).session;
    zk.create(b, "/n", b"", P, ms(0)).unwrap();
    zk.get_data(a, "/n", true, ms(0)).unwrap();
    zk.exists(a, "/n", true, ms(0)).unwrap();
    zk.get_children(a, "/n", true, ms(0)).unwrap();
    zk.delete(b, "/n", ANY_VERSION, ms(0)).unwrap();
    let kinds: Vec<EventType> = zk.take_events(a).iter().map(|e| e.kind).collect();
    assert_eq!(kinds, [EventType::NodeDeleted]);
}

#[test]
fn reads_of_a_missing_node_leave_no_watch_but_exists_does() {
    let mut zk = ZooKeeper::new(ZkConfig::default());
    let a = zk.connect(10_000, ms(0)).session;
    let b = zk.connect(10_000, ms(0)).session;
    assert_eq!(zk.get_data(a, "/m", true, ms(0)), Err(ZkError::NoNode));
    assert_eq!(zk.get_children(a, "/m", true, ms(0)), Err(ZkError::NoNode));
    zk.create(b, "/m", b"", P, ms(0)).unwrap();
    assert_eq!(zk.take_events(a), []);
    zk.exists(a, "/m2", true, ms(0)).unwrap();
    zk.create(b, "/m2", b"", P, ms(0)).unwrap();
    assert_eq!(zk.take_events(a)[0].kind, EventType::NodeCreated);
}

#[test]
fn a_failed_multi_changes_nothing_fires_nothing_and_still_takes_a_zxid() {
    let mut zk = ZooKeeper::new(ZkConfig::default());
    let a = zk.connect(10_000, ms(0)).session;
    let b = zk.connect(10_000, ms(0)).session;
    zk.create(a, "/p", b"", P, ms(0)).unwrap();
    zk.get_children(b, "/p", true, ms(0)).unwrap();
    let before = zk.zxid();
    let ops = vec![
        Op::Create {
            path: "/p/x-".into(),
            data: vec![],
            mode: ES,
        },
        Op::SetData {
            path: "/p".into(),
            data: b"d".to_vec(),
            version: ANY_VERSION,
        },
        Op::Delete {
            path: "/p/missing".into(),
            version: ANY_VERSION,
        },
        Op::Check {
            path: "/p".into(),
            version: 0,
        },
    ];
    assert_eq!(
        zk.multi(a, &ops, ms(0)).unwrap(),
        [
            OpResult::RolledBack,
            OpResult::RolledBack,
            OpResult::Error(ZkError::NoNode),
            OpResult::Error(ZkError::RuntimeInconsistency),
        ]
    );
    assert_eq!(zk.zxid(), before + 1);
    let p = zk.node("/p").unwrap();
    assert_eq!(
        (p.stat().version, p.stat().num_children, p.next_sequence()),
        (0, 0, 0)
    );
    assert!(zk.session(a).unwrap().ephemerals.is_empty());
    assert_eq!(zk.pending_events(b).count(), 0);
    // The same ops without the failing delete commit together, under one zxid.
    let ok = zk
        .multi(a, &[ops[0].clone(), ops[1].clone()], ms(0))
        .unwrap();
    assert_eq!(ok[0], OpResult::Create("/p/x-0000000000".into()));
    let node = zk.node("/p/x-0000000000").unwrap().stat();
    assert_eq!(node.czxid, zk.node("/p").unwrap().stat().mzxid);
    assert_eq!(node.ephemeral_owner, Some(a));
    let events = zk.take_events(b);
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].kind, EventType::NodeChildrenChanged);
}

#[test]
fn paths_are_validated() {
    let mut zk = ZooKeeper::new(ZkConfig::default());
    let s = zk.connect(10_000, ms(0)).session;
    for bad in ["", "a", "/a/", "//a", "/a/./b", "/a/../b"] {
        assert_eq!(
            zk.create(s, bad, b"", P, ms(0)),
            Err(ZkError::BadArguments),
            "{bad:?}"
        );
    }
    assert_eq!(
        zk.delete(s, "/", ANY_VERSION, ms(0)),
        Err(ZkError::BadArguments)
    );
    assert_eq!(zk.create(s, "/", b"", P, ms(0)), Err(ZkError::NodeExists));
    // A sequential prefix may end in '/': the suffix is the whole name.
    zk.create(s, "/q", b"", P, ms(0)).unwrap();
    assert_eq!(
        zk.create(s, "/q/", b"", CreateMode::PersistentSequential, ms(0))
            .unwrap(),
        "/q/0000000000"
    );
}

#[test]
fn delete_checks_the_version_before_the_children() {
    let mut zk = ZooKeeper::new(ZkConfig::default());
    let s = zk.connect(10_000, ms(0)).session;
    zk.create(s, "/p", b"", P, ms(0)).unwrap();
    zk.create(s, "/p/c", b"", P, ms(0)).unwrap();
    assert_eq!(zk.delete(s, "/p", 3, ms(0)), Err(ZkError::BadVersion));
    assert_eq!(zk.delete(s, "/p", 0, ms(0)), Err(ZkError::NotEmpty));
    assert_eq!(zk.delete(s, "/nope", 0, ms(0)), Err(ZkError::NoNode));
}

#[test]
fn any_session_may_delete_another_sessions_ephemeral() {
    let mut zk = ZooKeeper::new(ZkConfig::default());
    let a = zk.connect(10_000, ms(0)).session;
    let b = zk.connect(10_000, ms(0)).session;
    zk.create(a, "/e", b"", E, ms(0)).unwrap();
    zk.delete(b, "/e", ANY_VERSION, ms(0)).unwrap();
    assert!(zk.session(a).unwrap().ephemerals.is_empty());
    // A can create it again: the session's bookkeeping followed the delete.
    zk.create(a, "/e", b"", E, ms(0)).unwrap();
    zk.close(a, ms(0)).unwrap();
    assert!(zk.node("/e").is_none());
}

#[test]
fn requests_and_replies_print_as_zkcli() {
    let mut zk = ZooKeeper::new(ZkConfig::default());
    let s = zk.connect(10_000, ms(0)).session;
    let cases: Vec<(Request, &str, Result<&str, &str>)> = vec![
        (
            Request::Create {
                path: "/p".into(),
                data: b"cfg".to_vec(),
                mode: P,
            },
            "create /p cfg",
            Ok("Created /p"),
        ),
        (
            Request::Create {
                path: "/p/lock-".into(),
                data: vec![],
                mode: ES,
            },
            "create -s -e /p/lock-",
            Ok("Created /p/lock-0000000000"),
        ),
        (
            Request::GetData {
                path: "/p".into(),
                watch: true,
            },
            "get -w /p",
            Ok("cfg"),
        ),
        (
            Request::Exists {
                path: "/p/none".into(),
                watch: false,
            },
            "stat /p/none",
            Ok("null"),
        ),
        (
            Request::GetChildren {
                path: "/p".into(),
                watch: true,
            },
            "ls -w /p",
            Ok("[lock-0000000000]"),
        ),
        (
            Request::SetData {
                path: "/p".into(),
                data: b"v".to_vec(),
                version: 7,
            },
            "set -v 7 /p v",
            Err("BadVersion"),
        ),
        (
            Request::Delete {
                path: "/p".into(),
                version: ANY_VERSION,
            },
            "delete /p",
            Err("NotEmpty"),
        ),
        (
            Request::Multi(vec![Op::Check {
                path: "/p".into(),
                version: 0,
            }]),
            "multi [check -v 0 /p]",
            Ok("[Checked]"),
        ),
        (
            Request::Sync { path: "/p".into() },
            "sync /p",
            Ok("Sync is OK /p"),
        ),
        (Request::Ping, "ping", Ok("pong")),
        (Request::Close, "close", Ok("closed")),
    ];
    for (req, text, want) in cases {
        assert_eq!(req.to_string(), text);
        let got = zk.apply(s, &req, ms(0));
        let got = got
            .as_ref()
            .map(Reply::to_string)
            .map_err(ZkError::to_string);
        assert_eq!(got.as_deref().map_err(String::as_str), want, "{text}");
    }
    assert_eq!(
        zk.apply(s, &Request::Ping, ms(0)),
        Err(ZkError::SessionExpired)
    );
}

//! The etcd twin beyond §9's checks: the facts of DISTRIBUTED.md §4 and §6.8 a twin most
//! easily gets wrong (revisions per request, lease expiry on the monotonic clock, leader
//! change extending leases, watches in revision order, compaction), and etcdctl's output.

use lockproof_services::etcd::concurrency::{drive, Election, Mutex, RecipeError, Step};
use lockproof_services::etcd::*;
use lockproof_services::time::ServerClock;

fn ms(n: u64) -> ServerClock {
    ServerClock::at(n * 1_000_000)
}

fn put(etcd: &mut Etcd, k: &str, v: &str) -> Revision {
    etcd.put(&PutRequest::new(k, v), ms(0))
        .unwrap()
        .header
        .revision
}

fn keys(r: &RangeResponse) -> Vec<&str> {
    r.kvs.iter().map(|kv| kv.key.as_str()).collect()
}

#[test]
fn a_txn_writing_many_keys_is_one_revision() {
    let mut etcd = Etcd::new();
    put(&mut etcd, "x", "0");
    let t = TxnRequest::new()
        .then(PutRequest::new("a", "1"))
        .then(PutRequest::new("b", "2"))
        .then(DeleteRangeRequest::key("x"))
        .then(RangeRequest::prefix(""));
    let r = etcd.txn(&t, ms(0)).unwrap();
    assert_eq!(r.header.revision, 3);
    // The read inside the txn sees the txn's own writes.
    assert_eq!(keys(r.responses[3].as_range().unwrap()), vec!["a", "b"]);
    assert_eq!(etcd.peek("a").unwrap().mod_revision, 3);
    assert_eq!(etcd.peek("b").unwrap().create_revision, 3);
    // A read-only txn does not move the revision.
    let r = etcd
        .txn(&TxnRequest::new().then(RangeRequest::key("a")), ms(0))
        .unwrap();
    assert_eq!(r.header.revision, 3);
    assert_eq!(etcd.revision(), 3);
}

#[test]
fn txn_errors_apply_nothing() {
    let mut etcd = Etcd::new();
    let dup = TxnRequest::new()
        .then(PutRequest::new("a", "1"))
        .then(PutRequest::new("a", "2"));
    assert_eq!(etcd.txn(&dup, ms(0)), Err(EtcdError::DuplicateKey));
    let put_and_delete = TxnRequest::new()
        .then(PutRequest::new("p/a", "1"))
        .then(DeleteRangeRequest::prefix("p/"));
    assert_eq!(
        etcd.txn(&put_and_delete, ms(0)).unwrap_err().to_string(),
        "etcdserver: duplicate key given in txn request"
    );
    let mut big = TxnRequest::new();
    for i in 0..129 {
        big = big.then(PutRequest::new(format!("k{i}"), "v"));
    }
    assert_eq!(etcd.txn(&big, ms(0)), Err(EtcdError::TooManyOps));
    // A missing lease in the branch taken fails the whole txn; in the other branch it does not matter.
    let t = TxnRequest::new()
        .then(PutRequest::new("a", "1"))
        .then(PutRequest::new("b", "1").with_lease(77));
    assert_eq!(etcd.txn(&t, ms(0)), Err(EtcdError::LeaseNotFound));
    let t = TxnRequest::new()
        .when(Compare::version("a", CompareResult::Equal, 0))
        .then(PutRequest::new("a", "1"))
        .or_else(PutRequest::new("b", "1").with_lease(77));
    assert!(etcd.txn(&t, ms(0)).unwrap().succeeded);
    assert_eq!(etcd.revision(), 2);
}

#[test]
fn compares_on_absent_keys_and_ranges() {
    let mut etcd = Etcd::new();
    let holds = |etcd: &mut Etcd, c: Compare| {
        etcd.txn(&TxnRequest::new().when(c), ms(0))
            .unwrap()
            .succeeded
    };
    // Absent key: zero revisions and version, but a value compare always fails.
    assert!(holds(
        &mut etcd,
        Compare::mod_revision("k", CompareResult::Equal, 0)
    ));
    assert!(holds(
        &mut etcd,
        Compare::version("k", CompareResult::Less, 1)
    ));
    assert!(!holds(
        &mut etcd,
        Compare::value("k", CompareResult::Equal, "")
    ));
    assert!(!holds(
        &mut etcd,
        Compare::value("k", CompareResult::NotEqual, "x")
    ));
    put(&mut etcd, "k", "b");
    assert!(holds(
        &mut etcd,
        Compare::value("k", CompareResult::Greater, "a")
    ));
    assert!(holds(
        &mut etcd,
        Compare::create_revision("k", CompareResult::Equal, 2)
    ));
    assert!(holds(
        &mut etcd,
        Compare::lease("k", CompareResult::Equal, 0)
    ));
    // A compare over a range must hold for every key in it.
    put(&mut etcd, "p/1", "x");
    put(&mut etcd, "p/2", "y");
    let all = |v: &str| Compare {
        range: KeyRange::Prefix("p/".into()),
        target: CompareTarget::Value(v.into()),
        result: CompareResult::NotEqual,
    };
    assert!(holds(&mut etcd, all("z")));
    assert!(!holds(&mut etcd, all("y")));
}

#[test]
fn range_sort_limit_filters_and_count() {
    let mut etcd = Etcd::new();
    put(&mut etcd, "m/c", "1"); // create 2
    put(&mut etcd, "m/a", "3"); // create 3
    put(&mut etcd, "m/b", "2"); // create 4
    put(&mut etcd, "m/a", "4"); // mod 5
    put(&mut etcd, "n", "x");
    let r = etcd.range(&RangeRequest::prefix("m/"), ms(0)).unwrap();
    assert_eq!(keys(&r), vec!["m/a", "m/b", "m/c"]);
    assert_eq!((r.count, r.more), (3, false));
    let first = etcd
        .range(
            &RangeRequest::first_create(KeyRange::Prefix("m/".into())),
            ms(0),
        )
        .unwrap();
    assert_eq!(keys(&first), vec!["m/c"]);
    assert_eq!((first.count, first.more), (3, true));
    let last_below = etcd
        .range(
            &RangeRequest::last_create(KeyRange::Prefix("m/".into())).with_max_create_revision(3),
            ms(0),
        )
        .unwrap();
    assert_eq!(keys(&last_below), vec!["m/a"]);
    let by_mod = etcd
        .range(
            &RangeRequest::prefix("m/").with_sort(SortTarget::Mod, SortOrder::Descend),
            ms(0),
        )
        .unwrap();
    assert_eq!(keys(&by_mod), vec!["m/a", "m/b", "m/c"]);
    let by_value = etcd
        .range(
            &RangeRequest::prefix("m/").with_sort(SortTarget::Value, SortOrder::None),
            ms(0),
        )
        .unwrap();
    assert_eq!(keys(&by_value), vec!["m/c", "m/b", "m/a"]);
    let between = etcd
        .range(
            &RangeRequest::range(KeyRange::Between {
                start: "m/b".into(),
                end: "n".into(),
            }),
            ms(0),
        )
        .unwrap();
    assert_eq!(keys(&between), vec!["m/b", "m/c"]);
    let from = etcd
        .range(&RangeRequest::range(KeyRange::FromKey("m/c".into())), ms(0))
        .unwrap();
    assert_eq!(keys(&from), vec!["m/c", "n"]);
    let count = etcd
        .range(&RangeRequest::prefix("").with_count_only(), ms(0))
        .unwrap();
    assert_eq!((count.count, count.kvs.len()), (4, 0));
    let ko = etcd
        .range(&RangeRequest::key("n").with_keys_only(), ms(0))
        .unwrap();
    assert_eq!(ko.kvs[0].value, "");
    assert_eq!(
        etcd.range(&RangeRequest::key(""), ms(0)),
        Err(EtcdError::EmptyKey)
    );
}

#[test]
fn reads_at_earlier_revisions_and_future_ones() {
    let mut etcd = Etcd::new();
    put(&mut etcd, "k", "a"); // 2
    put(&mut etcd, "k", "b"); // 3
    etcd.delete_range(&DeleteRangeRequest::key("k"), ms(0))
        .unwrap(); // 4
    put(&mut etcd, "k", "c"); // 5
    let at = |etcd: &mut Etcd, rev| {
        etcd.range(&RangeRequest::key("k").at_revision(rev), ms(0))
            .unwrap()
            .kvs
    };
    assert!(at(&mut etcd, 1).is_empty());
    assert_eq!(at(&mut etcd, 2)[0].value, "a");
    assert_eq!(at(&mut etcd, 3)[0].version, 2);
    assert!(at(&mut etcd, 4).is_empty());
    assert_eq!(at(&mut etcd, 5)[0].create_revision, 5);
    // The header carries the current revision even for an old read.
    let r = etcd
        .range(&RangeRequest::key("k").at_revision(2), ms(0))
        .unwrap();
    assert_eq!(r.header.revision, 5);
    assert_eq!(
        etcd.range(&RangeRequest::key("k").at_revision(6), ms(0)),
        Err(EtcdError::FutureRevision)
    );
    etcd.compact(3, ms(0)).unwrap();
    assert_eq!(at(&mut etcd, 3)[0].value, "b");
    assert_eq!(
        etcd.range(&RangeRequest::key("k").at_revision(2), ms(0)),
        Err(EtcdError::Compacted)
    );
    assert_eq!(etcd.compact(3, ms(0)), Err(EtcdError::Compacted));
    assert_eq!(etcd.compact(9, ms(0)), Err(EtcdError::FutureRevision));
}

#[test]
fn lease_grant_rules() {
    let mut etcd = Etcd::new();
    let a = etcd.lease_grant(&LeaseGrantRequest::new(0), ms(0)).unwrap();
    let b = etcd
        .lease_grant(&LeaseGrantRequest::new(-5), ms(0))
        .unwrap();
    assert_eq!((a.ttl, b.ttl), (2, 2));
    assert_ne!(a.id, b.id);
    let c = etcd
        .lease_grant(&LeaseGrantRequest { ttl: 10, id: 0x42 }, ms(0))
        .unwrap();
    assert_eq!((c.id, c.ttl), (0x42, 10));
    assert_eq!(
        etcd.lease_grant(&LeaseGrantRequest { ttl: 10, id: 0x42 }, ms(0)),
        Err(EtcdError::LeaseExists)
    );
    assert_eq!(
        etcd.lease_grant(&LeaseGrantRequest::new(MAX_LEASE_TTL + 1), ms(0))
            .unwrap_err()
            .to_string(),
        "etcdserver: too large lease TTL"
    );
    // A slower election timeout raises the minimum: 3000 ms / 300 ms ticks -> 4.5 s -> 5 s.
    let cfg = EtcdConfig {
        election_timeout_ms: 3000,
        heartbeat_ms: 300,
        ..EtcdConfig::default()
    };
    assert_eq!(cfg.min_lease_ttl(), 5);
    let mut slow = Etcd::with_config(cfg);
    assert_eq!(
        slow.lease_grant(&LeaseGrantRequest::new(1), ms(0))
            .unwrap()
            .ttl,
        5
    );
    let l = etcd.lease_leases(ms(0));
    assert_eq!(l.ids.len(), 3);
    assert!(l.to_string().starts_with("found 3 leases\n"));
}

#[test]
fn time_to_live_truncates_and_lists_keys() {
    let mut etcd = Etcd::new();
    let g = etcd
        .lease_grant(&LeaseGrantRequest::new(10), ms(0))
        .unwrap();
    etcd.put(&PutRequest::new("b", "v").with_lease(g.id), ms(0))
        .unwrap();
    etcd.put(&PutRequest::new("a", "v").with_lease(g.id), ms(0))
        .unwrap();
    let t = etcd.lease_time_to_live(g.id, true, ms(2_700));
    assert_eq!((t.ttl, t.granted_ttl), (7, 10));
    assert_eq!(
        t.to_string(),
        format!(
            "lease {} granted with TTL(10s), remaining(7s), attached keys([a b])",
            fmt_lease(g.id)
        )
    );
    // Re-putting a key without the lease detaches it; deleting detaches it too.
    etcd.put(&PutRequest::new("a", "w"), ms(0)).unwrap();
    etcd.delete_range(&DeleteRangeRequest::key("b"), ms(0))
        .unwrap();
    let t = etcd.lease_time_to_live(g.id, true, ms(0));
    assert_eq!(t.keys, Some(vec![]));
    // The lease's expiry then deletes nothing and does not move the revision.
    let rev = etcd.revision();
    assert_eq!(etcd.expire_leases(ms(10_000)), vec![g.id]);
    assert_eq!(etcd.revision(), rev);
    assert_eq!(etcd.peek("a").unwrap().value, "w");
}

#[test]
fn expiry_deletes_all_keys_of_a_lease_in_one_revision_on_the_monotonic_clock() {
    let mut etcd = Etcd::new();
    let g = etcd.lease_grant(&LeaseGrantRequest::new(5), ms(0)).unwrap();
    for k in ["x", "y", "z"] {
        etcd.put(&PutRequest::new(k, "v").with_lease(g.id), ms(0))
            .unwrap();
    }
    let rev = etcd.revision();
    // A wall-clock jump of an hour does not move etcd's expiry.
    let jumped = ServerClock {
        wall: 3_600_000_000_000,
        mono: 1_000_000_000,
    };
    assert!(etcd.range(&RangeRequest::key("x"), jumped).unwrap().count == 1);
    // Keep-alive exactly at the deadline comes too late.
    assert_eq!(
        etcd.lease_keep_alive(g.id, ms(5_000)),
        Err(EtcdError::LeaseNotFound)
    );
    assert_eq!(etcd.revision(), rev + 1);
    assert_eq!(
        etcd.range(&RangeRequest::prefix(""), ms(5_000))
            .unwrap()
            .count,
        0
    );
    assert_eq!(etcd.next_lease_deadline(), None);
}

#[test]
fn restart_and_leader_change_extend_leases() {
    let mut etcd = Etcd::new();
    let g = etcd.lease_grant(&LeaseGrantRequest::new(2), ms(0)).unwrap();
    etcd.put(&PutRequest::new("lock", "a").with_lease(g.id), ms(0))
        .unwrap();
    let c = ClientId(3);
    etcd.watch(c, &WatchCreateRequest::key("lock"), ms(0))
        .unwrap();
    // The member crashes at 1 s and restarts at 1.5 s: the lease is refreshed to
    // 1.5 s + 2 s TTL + 1 s election timeout = 4.5 s, past its nominal 2 s.
    etcd.restart(ms(1_500));
    assert_eq!(etcd.term(), 2);
    assert_eq!(etcd.peek("lock").unwrap().value, "a");
    assert_eq!(etcd.revision(), 2);
    assert!(
        etcd.range(&RangeRequest::key("lock"), ms(4_499))
            .unwrap()
            .count
            == 1
    );
    assert!(
        etcd.range(&RangeRequest::key("lock"), ms(4_500))
            .unwrap()
            .count
            == 0
    );
    // The watch resumes across the restart (as clientv3 re-creates it): the deletion arrives.
    let msgs = etcd.take_events(c);
    assert_eq!(msgs.len(), 1);
    assert_eq!(msgs[0].events[0].kind, EventKind::Delete);
    assert_eq!(msgs[0].events[0].kv.mod_revision, 3);

    let mut etcd = Etcd::new();
    let g = etcd.lease_grant(&LeaseGrantRequest::new(3), ms(0)).unwrap();
    etcd.watch(c, &WatchCreateRequest::key("k"), ms(0)).unwrap();
    etcd.put(&PutRequest::new("k", "v").with_lease(g.id), ms(0))
        .unwrap();
    etcd.leader_change(ms(2_000));
    assert_eq!(etcd.lease_time_to_live(g.id, false, ms(2_000)).ttl, 4);
    assert!(etcd.expire_leases(ms(5_999)).is_empty());
    assert_eq!(etcd.expire_leases(ms(6_000)), vec![g.id]);
    // Watches survive a leader change.
    let msgs = etcd.take_events(c);
    assert_eq!(msgs.len(), 2);
    assert_eq!(msgs[1].events[0].kind, EventKind::Delete);
}

#[test]
fn watches_replay_history_in_revision_order_then_follow() {
    let mut etcd = Etcd::new();
    let c = ClientId(1);
    put(&mut etcd, "p/a", "1"); // 2
    put(&mut etcd, "q", "x"); // 3
    put(&mut etcd, "p/a", "2"); // 4
    let w = etcd
        .watch(
            c,
            &WatchCreateRequest::prefix("p/")
                .from_revision(2)
                .with_prev_kv(),
            ms(0),
        )
        .unwrap();
    assert_eq!(w.watch_id, 0);
    let w2 = etcd
        .watch(c, &WatchCreateRequest::prefix("p/").without_puts(), ms(0))
        .unwrap();
    assert_eq!(w2.watch_id, 1);
    etcd.delete_range(&DeleteRangeRequest::prefix("p/"), ms(0))
        .unwrap(); // 5
    let msgs = etcd.take_events(c);
    let revs: Vec<(WatchId, Revision)> = msgs
        .iter()
        .map(|m| (m.watch_id, m.events[0].kv.mod_revision))
        .collect();
    assert_eq!(revs, vec![(0, 2), (0, 4), (0, 5), (1, 5)]);
    assert_eq!(msgs[1].to_string(), "PUT\np/a\n1\np/a\n2");
    assert_eq!(msgs[3].to_string(), "DELETE\np/a\n");
    assert_eq!(msgs[2].events[0].prev_kv.as_ref().unwrap().value, "2");
    assert!(msgs[3].events[0].prev_kv.is_none());
    assert!(etcd.take_events(c).is_empty());
    assert!(etcd.watch_cancel(c, 0));
    assert!(!etcd.watch_cancel(c, 0));
    put(&mut etcd, "p/b", "1");
    assert!(!etcd.has_events(c));
    // Another client's stream numbers its watches from 0.
    let other = etcd
        .watch(ClientId(2), &WatchCreateRequest::key("z"), ms(0))
        .unwrap();
    assert_eq!(other.watch_id, 0);
}

#[test]
fn a_watch_below_the_compaction_point_is_canceled() {
    let mut etcd = Etcd::new();
    let c = ClientId(1);
    for v in ["a", "b", "c"] {
        put(&mut etcd, "k", v);
    }
    etcd.compact(3, ms(0)).unwrap();
    etcd.watch(c, &WatchCreateRequest::key("k").from_revision(2), ms(0))
        .unwrap();
    let msgs = etcd.take_events(c);
    assert_eq!(msgs.len(), 1);
    assert!(msgs[0].canceled);
    assert_eq!(msgs[0].compact_revision, 3);
    assert_eq!(
        msgs[0].to_string(),
        "watch was canceled (etcdserver: mvcc: required revision has been compacted)"
    );
    put(&mut etcd, "k", "d");
    assert!(!etcd.has_events(c));
    // From the compaction point itself history is still there.
    etcd.watch(c, &WatchCreateRequest::key("k").from_revision(3), ms(0))
        .unwrap();
    let revs: Vec<Revision> = etcd
        .take_events(c)
        .iter()
        .map(|m| m.events[0].kv.mod_revision)
        .collect();
    assert_eq!(revs, vec![3, 4, 5]);
}

#[test]
fn closing_a_client_ends_its_watches_but_not_its_leases() {
    let mut etcd = Etcd::new();
    let c = ClientId(1);
    let g = etcd.lease_grant(&LeaseGrantRequest::new(5), ms(0)).unwrap();
    etcd.watch(c, &WatchCreateRequest::key("k"), ms(0)).unwrap();
    put(&mut etcd, "k", "v");
    etcd.close_client(c);
    assert!(!etcd.has_events(c));
    put(&mut etcd, "k", "w");
    assert!(etcd.take_events(c).is_empty());
    assert_eq!(etcd.lease_ids(), vec![g.id]);
}

#[test]
fn requests_print_as_etcdctl_commands() {
    let l = 0x694d_77aa_9e38_260f;
    let cases: Vec<(Request, &str)> = vec![
        (Request::Put(PutRequest::new("k", "a")), "put k a"),
        (
            Request::Put(PutRequest::new("l1", "v").with_lease(l)),
            "put l1 v --lease=694d77aa9e38260f",
        ),
        (
            Request::Range(RangeRequest::key("k").at_revision(3)),
            "get k --rev=3",
        ),
        (
            Request::Range(RangeRequest::first_create(KeyRange::Prefix("m/".into()))),
            "get m/ --prefix --sort-by=CREATE --order=ASCEND --limit=1",
        ),
        (
            Request::DeleteRange(DeleteRangeRequest::prefix("m/")),
            "del m/ --prefix",
        ),
        (Request::Compact(5), "compaction 5"),
        (
            Request::LeaseGrant(LeaseGrantRequest::new(1)),
            "lease grant 1",
        ),
        (
            Request::LeaseKeepAlive(l),
            "lease keep-alive --once 694d77aa9e38260f",
        ),
        (
            Request::LeaseTimeToLive { id: l, keys: true },
            "lease timetolive 694d77aa9e38260f --keys",
        ),
        (Request::LeaseLeases, "lease list"),
        (
            Request::Watch(WatchCreateRequest::key("k").from_revision(2)),
            "watch k --rev=2",
        ),
        (
            Request::Txn(
                TxnRequest::new()
                    .when(Compare::mod_revision("k", CompareResult::Greater, 3))
                    .when(Compare::value("k", CompareResult::NotEqual, "v"))
                    .then(PutRequest::new("k", "w"))
                    .then(DeleteRangeRequest::key("j")),
            ),
            r#"txn if mod("k") > "3" && value("k") != "v" then put k w; del j"#,
        ),
    ];
    for (req, text) in cases {
        assert_eq!(req.to_string(), text);
    }
}

#[test]
fn mutex_try_lock_fencing_and_session_loss() {
    let mut etcd = Etcd::new();
    let la = etcd
        .lease_grant(&LeaseGrantRequest::new(10), ms(0))
        .unwrap()
        .id;
    let lb = etcd
        .lease_grant(&LeaseGrantRequest::new(10), ms(0))
        .unwrap()
        .id;
    let (ca, cb) = (ClientId(1), ClientId(2));
    let (mut a, mut b) = (Mutex::new("m", la), Mutex::new("m", lb));
    let s = a.lock();
    assert!(matches!(
        drive(&mut etcd, ca, &mut a, s, ms(0)),
        Step::Acquired { .. }
    ));
    let s = b.try_lock();
    let r = drive(&mut etcd, cb, &mut b, s, ms(0));
    assert_eq!(r, Step::Failed(RecipeError::Locked));
    assert_eq!(r_to_string(&r), "mutex: Locked by another session");
    assert!(etcd.peek(b.key()).is_none());
    // Relocking with the same session reuses the key (the Else branch).
    let s = a.lock();
    assert!(matches!(
        drive(&mut etcd, ca, &mut a, s, ms(0)),
        Step::Acquired { .. }
    ));
    // IsOwner fences a write inside etcd; it fails once the key is gone.
    let fenced = TxnRequest::new()
        .when(a.is_owner())
        .then(PutRequest::new("data", "a"));
    assert!(etcd.txn(&fenced, ms(0)).unwrap().succeeded);
    etcd.lease_revoke(la, ms(0)).unwrap();
    assert!(!etcd.txn(&fenced, ms(0)).unwrap().succeeded);
    assert!(a.believes_held());
    let s = a.unlock();
    assert_eq!(drive(&mut etcd, ca, &mut a, s, ms(0)), Step::Released);
    assert_eq!(a.unlock(), Step::Failed(RecipeError::LockReleased));
    // A waiter whose own lease expires while it waits learns "session is expired" (≥ 3.5).
    let mut etcd = Etcd::new();
    let la = etcd
        .lease_grant(&LeaseGrantRequest::new(60), ms(0))
        .unwrap()
        .id;
    let lb = etcd
        .lease_grant(&LeaseGrantRequest::new(2), ms(0))
        .unwrap()
        .id;
    let (mut a, mut b) = (Mutex::new("m", la), Mutex::new("m", lb).verifying_own_key());
    let s = a.lock();
    drive(&mut etcd, ca, &mut a, s, ms(0));
    let s = b.lock();
    assert_eq!(drive(&mut etcd, cb, &mut b, s, ms(0)), Step::Wait);
    etcd.expire_leases(ms(2_000));
    let s = a.unlock();
    drive(&mut etcd, ca, &mut a, s, ms(2_100));
    assert_eq!(
        b.poll(&mut etcd, cb, ms(2_100)),
        Step::Failed(RecipeError::SessionExpired)
    );
    // A lock attempt on an expired session's lease fails with the server's error.
    let s = b.lock();
    assert_eq!(
        drive(&mut etcd, cb, &mut b, s, ms(2_100)),
        Step::Failed(RecipeError::Server(EtcdError::LeaseNotFound))
    );
}

fn r_to_string(s: &Step) -> String {
    match s {
        Step::Failed(e) => e.to_string(),
        other => format!("{other:?}"),
    }
}

#[test]
fn three_waiters_each_watch_only_their_predecessor() {
    let mut etcd = Etcd::new();
    let mut ms_ = Vec::new();
    for i in 0..4u32 {
        let l = etcd
            .lease_grant(&LeaseGrantRequest::new(60), ms(0))
            .unwrap()
            .id;
        let mut m = Mutex::new("q", l);
        let s = m.lock();
        let r = drive(&mut etcd, ClientId(i), &mut m, s, ms(0));
        assert_eq!(matches!(r, Step::Acquired { .. }), i == 0);
        ms_.push(m);
    }
    // The holder releases: only the next waiter acquires; the others stay asleep.
    let s = ms_[0].unlock();
    drive(&mut etcd, ClientId(0), &mut ms_[0], s, ms(0));
    assert!(matches!(
        ms_[1].poll(&mut etcd, ClientId(1), ms(0)),
        Step::Acquired { .. }
    ));
    for i in 2..4u32 {
        assert!(!etcd.has_events(ClientId(i)));
    }
    // A middle waiter leaving wakes only its successor, which re-checks and keeps waiting.
    let s = ms_[2].unlock();
    drive(&mut etcd, ClientId(2), &mut ms_[2], s, ms(0));
    assert_eq!(ms_[3].poll(&mut etcd, ClientId(3), ms(0)), Step::Wait);
    let s = ms_[1].unlock();
    drive(&mut etcd, ClientId(1), &mut ms_[1], s, ms(0));
    assert!(matches!(
        ms_[3].poll(&mut etcd, ClientId(3), ms(0)),
        Step::Acquired { .. }
    ));
}

#[test]
fn election_campaign_proclaim_resign() {
    let mut etcd = Etcd::new();
    let la = etcd
        .lease_grant(&LeaseGrantRequest::new(10), ms(0))
        .unwrap()
        .id;
    let lb = etcd
        .lease_grant(&LeaseGrantRequest::new(10), ms(0))
        .unwrap()
        .id;
    let (ca, cb) = (ClientId(1), ClientId(2));
    let (mut a, mut b) = (Election::new("e", la), Election::new("e", lb));
    let s = a.campaign("a1");
    assert!(matches!(
        drive(&mut etcd, ca, &mut a, s, ms(0)),
        Step::Acquired { .. }
    ));
    let s = b.campaign("b1");
    assert_eq!(drive(&mut etcd, cb, &mut b, s, ms(0)), Step::Wait);
    let leader = |etcd: &mut Etcd| {
        etcd.range(&Election::leader_request("e"), ms(0))
            .unwrap()
            .kvs[0]
            .value
            .clone()
    };
    assert_eq!(leader(&mut etcd), "a1");
    let s = a.proclaim("a2");
    assert!(matches!(
        drive(&mut etcd, ca, &mut a, s, ms(0)),
        Step::Acquired { .. }
    ));
    assert_eq!(leader(&mut etcd), "a2");
    assert_eq!(b.proclaim("b2"), Step::Failed(RecipeError::NotLeader));
    let s = a.resign();
    assert_eq!(drive(&mut etcd, ca, &mut a, s, ms(0)), Step::Released);
    assert!(matches!(
        b.poll(&mut etcd, cb, ms(0)),
        Step::Acquired { .. }
    ));
    assert_eq!(leader(&mut etcd), "b1");
}

#[test]
fn etcd_3_4_mutex_lock_succeeds_after_its_session_expired_while_waiting() {
    // clientv3 3.4.23: Lock returns once no older key is left, without re-reading its own.
    let mut etcd = Etcd::new();
    let la = etcd
        .lease_grant(&LeaseGrantRequest::new(60), ms(0))
        .unwrap()
        .id;
    let lb = etcd
        .lease_grant(&LeaseGrantRequest::new(2), ms(0))
        .unwrap()
        .id;
    let lc = etcd
        .lease_grant(&LeaseGrantRequest::new(60), ms(0))
        .unwrap()
        .id;
    let (ca, cb, cc) = (ClientId(1), ClientId(2), ClientId(3));
    let (mut a, mut b) = (Mutex::new("m", la), Mutex::new("m", lb));
    let s = a.lock();
    drive(&mut etcd, ca, &mut a, s, ms(0));
    let s = b.lock();
    assert_eq!(drive(&mut etcd, cb, &mut b, s, ms(0)), Step::Wait);
    // B is paused past its 2 s lease: its key goes. A unlocks; C locks and holds.
    etcd.expire_leases(ms(2_000));
    let s = a.unlock();
    drive(&mut etcd, ca, &mut a, s, ms(2_100));
    let mut c = Mutex::new("m", lc);
    let s = c.lock();
    assert!(matches!(
        drive(&mut etcd, cc, &mut c, s, ms(2_200)),
        Step::Acquired { .. }
    ));
    // B resumes and reads its watch: told it holds the lock, with no key at all.
    assert!(matches!(
        b.poll(&mut etcd, cb, ms(2_300)),
        Step::Acquired { .. }
    ));
    assert!(b.believes_held() && c.believes_held());
    assert!(etcd.peek(b.key()).is_none());
    // Its IsOwner compare still fences writes inside etcd.
    let fenced = TxnRequest::new()
        .when(b.is_owner())
        .then(PutRequest::new("data", "b"));
    assert!(!etcd.txn(&fenced, ms(2_300)).unwrap().succeeded);
}

//! DISTRIBUTED.md §9 conformance checks 70–78 (etcd) run against the etcd twin.
//!
//! Times are server monotonic clocks passed explicitly: "wait 2 s" is a later
//! `ServerClock`. Every check asserts the replies §9 records (and, where etcdctl prints
//! them, the printed text).

use lockproof_services::etcd::concurrency::{drive, Mutex, Step};
use lockproof_services::etcd::*;
use lockproof_services::time::ServerClock;

fn ms(n: u64) -> ServerClock {
    ServerClock::at(n * 1_000_000)
}

fn get(etcd: &mut Etcd, key: &str, t: ServerClock) -> Option<KeyValue> {
    etcd.range(&RangeRequest::key(key), t).unwrap().kvs.pop()
}

#[test]
fn check_70_revisions_of_two_puts() {
    let mut etcd = Etcd::new();
    assert_eq!(etcd.revision(), 1);
    let r = etcd.put(&PutRequest::new("k", "a"), ms(0)).unwrap();
    assert_eq!(r.header.revision, 2);
    assert_eq!(r.to_string(), "OK");
    etcd.put(&PutRequest::new("k", "b"), ms(0)).unwrap();
    let kv = get(&mut etcd, "k", ms(0)).unwrap();
    assert_eq!((kv.create_revision, kv.mod_revision, kv.version), (2, 3, 2));
    assert_eq!(kv.value, "b");
}

#[test]
fn check_71_delete_and_recreate() {
    let mut etcd = Etcd::new();
    etcd.put(&PutRequest::new("k", "a"), ms(0)).unwrap();
    etcd.put(&PutRequest::new("k", "b"), ms(0)).unwrap();
    let before = etcd.revision();
    let d = etcd
        .delete_range(&DeleteRangeRequest::key("k"), ms(0))
        .unwrap();
    assert_eq!(d.deleted, 1);
    assert_eq!(d.to_string(), "1");
    assert_eq!(d.header.revision, before + 1);
    let p = etcd.put(&PutRequest::new("k", "c"), ms(0)).unwrap();
    let kv = get(&mut etcd, "k", ms(0)).unwrap();
    assert_eq!(kv.create_revision, p.header.revision);
    assert_eq!(kv.mod_revision, p.header.revision);
    assert_eq!(kv.version, 1);
    let rev = etcd.revision();
    let d = etcd
        .delete_range(&DeleteRangeRequest::key("absent"), ms(0))
        .unwrap();
    assert_eq!(d.deleted, 0);
    assert_eq!(d.header.revision, rev);
    assert_eq!(etcd.revision(), rev);
}

#[test]
fn check_72_txn_create_revision_zero() {
    let mut etcd = Etcd::new();
    let acquire = |owner: &str| {
        TxnRequest::new()
            .when(Compare::create_revision("t", CompareResult::Equal, 0))
            .then(PutRequest::new("t", owner))
            .or_else(RangeRequest::key("t"))
    };
    let first = etcd.txn(&acquire("owner1"), ms(0)).unwrap();
    assert!(first.succeeded);
    assert_eq!(first.to_string(), "SUCCESS\n\nOK");
    let second = etcd.txn(&acquire("owner2"), ms(0)).unwrap();
    assert!(!second.succeeded);
    assert_eq!(second.to_string(), "FAILURE\n\nt\nowner1");
    assert_eq!(
        second.responses[0].as_range().unwrap().kvs[0].value,
        "owner1"
    );
    assert_eq!(get(&mut etcd, "t", ms(0)).unwrap().value, "owner1");
}

#[test]
fn check_73_minimum_ttl_and_expiry() {
    let mut etcd = Etcd::new();
    let g = etcd.lease_grant(&LeaseGrantRequest::new(1), ms(0)).unwrap();
    assert_eq!(g.ttl, 2);
    assert_eq!(
        g.to_string(),
        format!("lease {} granted with TTL(2s)", fmt_lease(g.id))
    );
    etcd.put(&PutRequest::new("l1", "v").with_lease(g.id), ms(10))
        .unwrap();
    assert!(get(&mut etcd, "l1", ms(1_990)).is_some());
    assert!(get(&mut etcd, "l1", ms(2_010)).is_none());
    let ttl = etcd.lease_time_to_live(g.id, false, ms(2_010));
    assert!(ttl.expired());
    assert_eq!(ttl.ttl, -1);
    assert_eq!(
        ttl.to_string(),
        format!("lease {} already expired", fmt_lease(g.id))
    );
}

#[test]
fn check_74_revoke_and_lease_not_found() {
    let mut etcd = Etcd::new();
    let g = etcd.lease_grant(&LeaseGrantRequest::new(5), ms(0)).unwrap();
    etcd.put(&PutRequest::new("l2", "v").with_lease(g.id), ms(0))
        .unwrap();
    let r = etcd.lease_revoke(g.id, ms(100)).unwrap();
    assert_eq!(r.to_string(), format!("lease {} revoked", fmt_lease(g.id)));
    assert!(get(&mut etcd, "l2", ms(100)).is_none());
    let msg = "etcdserver: requested lease not found";
    let put = etcd
        .put(&PutRequest::new("l3", "v").with_lease(g.id), ms(100))
        .unwrap_err();
    assert_eq!(put.to_string(), msg);
    assert_eq!(put.code(), GrpcCode::NotFound);
    assert!(get(&mut etcd, "l3", ms(100)).is_none());
    assert_eq!(
        etcd.lease_revoke(g.id, ms(100)).unwrap_err().to_string(),
        msg
    );
    assert_eq!(
        etcd.lease_keep_alive(g.id, ms(100))
            .unwrap_err()
            .to_string(),
        msg
    );
}

#[test]
fn check_75_keep_alive_resets_ttl() {
    let mut etcd = Etcd::new();
    let g = etcd.lease_grant(&LeaseGrantRequest::new(3), ms(0)).unwrap();
    etcd.put(&PutRequest::new("l4", "v").with_lease(g.id), ms(0))
        .unwrap();
    let k = etcd.lease_keep_alive(g.id, ms(2_000)).unwrap();
    assert_eq!(k.ttl, 3);
    assert_eq!(
        k.to_string(),
        format!("lease {} keepalived with TTL(3)", fmt_lease(g.id))
    );
    assert_eq!(get(&mut etcd, "l4", ms(4_000)).unwrap().value, "v");
    // Without the keep-alive it would have gone at 3 s; with it, at 5 s.
    assert!(get(&mut etcd, "l4", ms(5_000)).is_none());
}

#[test]
fn check_76_compaction_and_serializable_read() {
    let mut etcd = Etcd::new();
    for v in ["a", "b", "c", "d"] {
        etcd.put(&PutRequest::new("k", v), ms(0)).unwrap();
    }
    let r = etcd.revision() - 1;
    let c = etcd.compact(r, ms(0)).unwrap();
    assert_eq!(c.to_string(), format!("compacted revision {r}"));
    let err = etcd
        .range(&RangeRequest::key("k").at_revision(r - 1), ms(0))
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "etcdserver: mvcc: required revision has been compacted"
    );
    assert_eq!(err.code(), GrpcCode::OutOfRange);
    let lin = etcd.range(&RangeRequest::key("k"), ms(0)).unwrap();
    let ser = etcd
        .range(&RangeRequest::key("k").with_serializable(), ms(0))
        .unwrap();
    assert_eq!(lin, ser);
    assert_eq!(lin.kvs[0].value, "d");
}

#[test]
fn check_77_two_lock_contenders() {
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
    let mut a = Mutex::new("m", la);
    let mut b = Mutex::new("m", lb);
    let s = a.lock();
    let Step::Acquired { revision: rev_a } = drive(&mut etcd, ca, &mut a, s, ms(0)) else {
        panic!("first contender must hold the lock");
    };
    let s = b.lock();
    assert_eq!(drive(&mut etcd, cb, &mut b, s, ms(0)), Step::Wait);
    assert_eq!(a.key(), format!("m/{la:x}"));
    assert_eq!(b.key(), format!("m/{lb:x}"));
    let r = get(&mut etcd, a.key(), ms(0)).unwrap().create_revision;
    assert_eq!(r, rev_a);
    assert_eq!(
        get(&mut etcd, b.key(), ms(0)).unwrap().create_revision,
        r + 1
    );
    // Nothing wakes the waiter while the holder keeps its key.
    etcd.put(&PutRequest::new("other", "x"), ms(100)).unwrap();
    assert_eq!(b.poll(&mut etcd, cb, ms(100)), Step::Wait);
    let s = a.unlock();
    assert_eq!(drive(&mut etcd, ca, &mut a, s, ms(200)), Step::Released);
    let Step::Acquired { revision } = b.poll(&mut etcd, cb, ms(200)) else {
        panic!("the waiter must hold the lock after the holder's key is deleted");
    };
    // ETCD_LOCK_REV of the second holder: the store revision when it acquired.
    assert_eq!(revision, etcd.revision());
    assert!(revision > r + 1);
    let s = b.unlock();
    assert_eq!(drive(&mut etcd, cb, &mut b, s, ms(300)), Step::Released);
    let left = etcd.range(&RangeRequest::prefix("m/"), ms(300)).unwrap();
    assert_eq!(left.count, 0);
}

#[test]
fn check_78_crashed_holder_blocks_until_lease_expiry_terminated_holder_revokes() {
    // SIGKILL: the holder's lease (TTL 2) was last renewed at 0.5 s; the waiter gets the
    // lock when it expires at 2.5 s.
    let mut etcd = Etcd::new();
    let la = etcd
        .lease_grant(&LeaseGrantRequest::new(2), ms(0))
        .unwrap()
        .id;
    let lb = etcd
        .lease_grant(&LeaseGrantRequest::new(60), ms(0))
        .unwrap()
        .id;
    let (ca, cb) = (ClientId(1), ClientId(2));
    let (mut a, mut b) = (Mutex::new("m", la), Mutex::new("m", lb));
    let s = a.lock();
    assert!(matches!(
        drive(&mut etcd, ca, &mut a, s, ms(0)),
        Step::Acquired { .. }
    ));
    let s = b.lock();
    assert_eq!(drive(&mut etcd, cb, &mut b, s, ms(0)), Step::Wait);
    etcd.lease_keep_alive(la, ms(500)).unwrap();
    // A is killed here: no more keep-alives, its connection closes.
    etcd.close_client(ca);
    assert_eq!(b.poll(&mut etcd, cb, ms(2_499)), Step::Wait);
    assert!(matches!(
        b.poll(&mut etcd, cb, ms(2_500)),
        Step::Acquired { .. }
    ));
    assert!(get(&mut etcd, a.key(), ms(2_500)).is_none());

    // SIGTERM: etcdctl revokes its session lease; the key goes at once.
    let mut etcd = Etcd::new();
    let la = etcd
        .lease_grant(&LeaseGrantRequest::new(2), ms(0))
        .unwrap()
        .id;
    let lb = etcd
        .lease_grant(&LeaseGrantRequest::new(60), ms(0))
        .unwrap()
        .id;
    let (mut a, mut b) = (Mutex::new("m", la), Mutex::new("m", lb));
    let s = a.lock();
    assert!(matches!(
        drive(&mut etcd, ca, &mut a, s, ms(0)),
        Step::Acquired { .. }
    ));
    let s = b.lock();
    assert_eq!(drive(&mut etcd, cb, &mut b, s, ms(0)), Step::Wait);
    etcd.lease_revoke(la, ms(300)).unwrap();
    assert!(get(&mut etcd, a.key(), ms(300)).is_none());
    assert!(matches!(
        b.poll(&mut etcd, cb, ms(300)),
        Step::Acquired { .. }
    ));
}

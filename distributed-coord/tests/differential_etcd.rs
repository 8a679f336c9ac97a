//! DISTRIBUTED.md §9 etcd checks 70–78, each written once against [`Ed`] and run against a
//! fresh private etcd 3.4 member AND a fresh twin (`lockproof_services::etcd::Etcd`); the
//! observations are compared one by one, then held to what §9 records.
//!
//! The twin's server clock is true time since it was made, so "wait t" is one real wait for
//! both (checks 73, 75, 78 prescribe time passing). Lease ids differ between two servers by
//! construction and are observed only through the keys named after them. The real lessor
//! checks expiry every 500 ms while the twin expires exactly at the deadline (its module doc
//! says so): times of expiry are compared as "within the window §9 allows".
//!
//! A keep-alive of a lease that is gone is answered by the real server with TTL 0, which
//! clientv3 (and so etcdctl) turns into `etcdserver: requested lease not found` and
//! etcd-client into `lease keep alive error: lease not found`; the real side here reports
//! clientv3's text, so that both report §9's error.

use etcd_client::{Compare, CompareOp, GetOptions, PutOptions, Txn, TxnOp, TxnOpResponse};
use lockproof_distributed_coord::testing::EtcdServer;
use lockproof_services::etcd::{
    CompareResult, DeleteRangeRequest, Etcd, LeaseGrantRequest, PutRequest, RangeRequest,
    TxnRequest,
};
use lockproof_services::time::ServerClock;
use std::time::{Duration, Instant};

/// A key as both sides report it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Kv {
    value: String,
    create: i64,
    modr: i64,
    version: i64,
}

/// The requests the checks send, to either server.
trait Ed {
    /// `put`; the header revision.
    fn put(&mut self, key: &str, value: &str, lease: Option<i64>) -> Result<i64, String>;
    /// `get` (linearizable, or serializable); the header revision and the key.
    fn get(&mut self, key: &str, serializable: bool) -> (i64, Option<Kv>);
    /// `get --rev`.
    fn get_at(&mut self, key: &str, rev: i64) -> Result<Option<Kv>, String>;
    /// `del`; the number deleted and the header revision.
    fn del(&mut self, key: &str) -> (i64, i64);
    /// `Txn(If create_revision(key) = 0 Then put key value Else get key)`: whether it
    /// succeeded, and the Else branch's value.
    fn txn_create(&mut self, key: &str, value: &str) -> (bool, Option<String>);
    /// `LeaseGrant`: the id and the granted TTL.
    fn grant(&mut self, ttl: i64) -> (i64, i64);
    fn revoke(&mut self, id: i64) -> Result<(), String>;
    /// One keep-alive: the TTL it reset to.
    fn keep_alive(&mut self, id: i64) -> Result<i64, String>;
    /// `timetolive`: the remaining TTL, -1 when expired.
    fn time_to_live(&mut self, id: i64) -> i64;
    fn compact(&mut self, rev: i64);
    /// Keys under `prefix` with their create revisions, by key.
    fn keys(&mut self, prefix: &str) -> Vec<(String, i64)>;
    /// Whether a key under `prefix` has a create revision below `rev` (a lock waiter's wait).
    fn has_predecessor(&mut self, prefix: &str, rev: i64) -> bool;
}

// ---------------------------------------------------------------------------------------
// The twin.

struct Twin {
    etcd: Etcd,
    start: Instant,
}

impl Twin {
    fn new() -> Twin {
        Twin {
            etcd: Etcd::new(),
            start: Instant::now(),
        }
    }

    fn now(&self) -> ServerClock {
        ServerClock::at(u64::try_from(self.start.elapsed().as_nanos()).unwrap_or(u64::MAX))
    }
}

fn twin_kv(kv: &lockproof_services::etcd::KeyValue) -> Kv {
    Kv {
        value: kv.value.clone(),
        create: kv.create_revision,
        modr: kv.mod_revision,
        version: kv.version,
    }
}

impl Ed for Twin {
    fn put(&mut self, key: &str, value: &str, lease: Option<i64>) -> Result<i64, String> {
        let mut req = PutRequest::new(key, value);
        if let Some(l) = lease {
            req = req.with_lease(l);
        }
        let t = self.now();
        self.etcd
            .put(&req, t)
            .map(|r| r.header.revision)
            .map_err(|e| e.to_string())
    }
    fn get(&mut self, key: &str, serializable: bool) -> (i64, Option<Kv>) {
        let mut req = RangeRequest::key(key);
        if serializable {
            req = req.with_serializable();
        }
        let t = self.now();
        let r = self.etcd.range(&req, t).expect("range");
        (r.header.revision, r.kvs.first().map(twin_kv))
    }
    fn get_at(&mut self, key: &str, rev: i64) -> Result<Option<Kv>, String> {
        let t = self.now();
        self.etcd
            .range(&RangeRequest::key(key).at_revision(rev), t)
            .map(|r| r.kvs.first().map(twin_kv))
            .map_err(|e| e.to_string())
    }
    fn del(&mut self, key: &str) -> (i64, i64) {
        let t = self.now();
        let r = self
            .etcd
            .delete_range(&DeleteRangeRequest::key(key), t)
            .expect("delete");
        (r.deleted, r.header.revision)
    }
    fn txn_create(&mut self, key: &str, value: &str) -> (bool, Option<String>) {
        let req = TxnRequest::new()
            .when(lockproof_services::etcd::Compare::create_revision(
                key,
                CompareResult::Equal,
                0,
            ))
            .then(PutRequest::new(key, value))
            .or_else(RangeRequest::key(key));
        let t = self.now();
        let r = self.etcd.txn(&req, t).expect("txn");
        let other = r
            .responses
            .first()
            .and_then(|x| x.as_range())
            .and_then(|g| g.kvs.first())
            .map(|kv| kv.value.clone());
        (r.succeeded, other)
    }
    fn grant(&mut self, ttl: i64) -> (i64, i64) {
        let t = self.now();
        let g = self
            .etcd
            .lease_grant(&LeaseGrantRequest::new(ttl), t)
            .expect("grant");
        (g.id, g.ttl)
    }
    fn revoke(&mut self, id: i64) -> Result<(), String> {
        let t = self.now();
        self.etcd
            .lease_revoke(id, t)
            .map(|_| ())
            .map_err(|e| e.to_string())
    }
    fn keep_alive(&mut self, id: i64) -> Result<i64, String> {
        let t = self.now();
        self.etcd
            .lease_keep_alive(id, t)
            .map(|r| r.ttl)
            .map_err(|e| e.to_string())
    }
    fn time_to_live(&mut self, id: i64) -> i64 {
        let t = self.now();
        self.etcd.lease_time_to_live(id, false, t).ttl
    }
    fn compact(&mut self, rev: i64) {
        let t = self.now();
        self.etcd.compact(rev, t).expect("compact");
    }
    fn keys(&mut self, prefix: &str) -> Vec<(String, i64)> {
        let t = self.now();
        let r = self
            .etcd
            .range(&RangeRequest::prefix(prefix), t)
            .expect("range");
        r.kvs
            .iter()
            .map(|kv| (kv.key.clone(), kv.create_revision))
            .collect()
    }
    fn has_predecessor(&mut self, prefix: &str, rev: i64) -> bool {
        let t = self.now();
        let r = self
            .etcd
            .range(
                &RangeRequest::prefix(prefix).with_max_create_revision(rev - 1),
                t,
            )
            .expect("range");
        !r.kvs.is_empty()
    }
}

// ---------------------------------------------------------------------------------------
// The real server.

struct Real {
    _server: EtcdServer,
    rt: tokio::runtime::Runtime,
    c: etcd_client::Client,
}

impl Real {
    fn new() -> Real {
        let server = EtcdServer::start().unwrap_or_else(|e| panic!("{e}"));
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("runtime");
        let endpoint = server.endpoint();
        let c = rt
            .block_on(etcd_client::Client::connect([endpoint.as_str()], None))
            .unwrap_or_else(|e| panic!("etcd at {endpoint} unreachable: {e}"));
        Real {
            _server: server,
            rt,
            c,
        }
    }

    fn run<T>(
        &self,
        fut: impl std::future::Future<Output = Result<T, etcd_client::Error>>,
    ) -> Result<T, String> {
        self.rt
            .block_on(async { tokio::time::timeout(Duration::from_secs(10), fut).await })
            .expect("etcd replied within 10 s")
            .map_err(|e| match e {
                etcd_client::Error::GRpcStatus(s) => s.message().to_string(),
                other => other.to_string(),
            })
    }
}

fn real_kv(kv: &etcd_client::KeyValue) -> Kv {
    Kv {
        value: kv.value_str().expect("utf-8").to_string(),
        create: kv.create_revision(),
        modr: kv.mod_revision(),
        version: kv.version(),
    }
}

impl Ed for Real {
    fn put(&mut self, key: &str, value: &str, lease: Option<i64>) -> Result<i64, String> {
        let options = lease.map(|l| PutOptions::new().with_lease(l));
        let mut c = self.c.clone();
        self.run(c.put(key, value, options))
            .map(|r| r.header().expect("header").revision())
    }
    fn get(&mut self, key: &str, serializable: bool) -> (i64, Option<Kv>) {
        let options = serializable.then(|| GetOptions::new().with_serializable());
        let mut c = self.c.clone();
        let r = self.run(c.get(key, options)).expect("get");
        (
            r.header().expect("header").revision(),
            r.kvs().first().map(real_kv),
        )
    }
    fn get_at(&mut self, key: &str, rev: i64) -> Result<Option<Kv>, String> {
        let mut c = self.c.clone();
        self.run(c.get(key, Some(GetOptions::new().with_revision(rev))))
            .map(|r| r.kvs().first().map(real_kv))
    }
    fn del(&mut self, key: &str) -> (i64, i64) {
        let mut c = self.c.clone();
        let r = self.run(c.delete(key, None)).expect("delete");
        (r.deleted(), r.header().expect("header").revision())
    }
    fn txn_create(&mut self, key: &str, value: &str) -> (bool, Option<String>) {
        let txn = Txn::new()
            .when([Compare::create_revision(key, CompareOp::Equal, 0)])
            .and_then([TxnOp::put(key, value, None)])
            .or_else([TxnOp::get(key, None)]);
        let mut c = self.c.clone();
        let r = self.run(c.txn(txn)).expect("txn");
        let other = r.op_responses().iter().find_map(|x| match x {
            TxnOpResponse::Get(g) => g.kvs().first().map(|kv| real_kv(kv).value),
            _ => None,
        });
        (r.succeeded(), other)
    }
    fn grant(&mut self, ttl: i64) -> (i64, i64) {
        let mut c = self.c.clone();
        let g = self.run(c.lease_grant(ttl, None)).expect("grant");
        (g.id(), g.ttl())
    }
    fn revoke(&mut self, id: i64) -> Result<(), String> {
        let mut c = self.c.clone();
        self.run(c.lease_revoke(id)).map(|_| ())
    }
    fn keep_alive(&mut self, id: i64) -> Result<i64, String> {
        let mut c = self.c.clone();
        let ttl = self.run(async move {
            let (mut keeper, mut stream) = c.lease_keep_alive(id).await?;
            keeper.keep_alive().await?;
            Ok(stream.message().await?.map_or(0, |r| r.ttl()))
        });
        match ttl {
            Ok(ttl) if ttl > 0 => Ok(ttl),
            // The server answers TTL 0 for a lease that is gone; clientv3's KeepAliveOnce
            // reports it as ErrLeaseNotFound, etcd-client as `lease keep alive error: lease
            // not found`.
            Ok(_) => Err(NOT_FOUND.to_string()),
            Err(e) if e == "lease keep alive error: lease not found" => Err(NOT_FOUND.to_string()),
            Err(e) => Err(e),
        }
    }
    fn time_to_live(&mut self, id: i64) -> i64 {
        let mut c = self.c.clone();
        self.run(c.lease_time_to_live(id, None)).expect("ttl").ttl()
    }
    fn compact(&mut self, rev: i64) {
        let mut c = self.c.clone();
        self.run(c.compact(rev, None)).expect("compact");
    }
    fn keys(&mut self, prefix: &str) -> Vec<(String, i64)> {
        let mut c = self.c.clone();
        let r = self
            .run(c.get(prefix, Some(GetOptions::new().with_prefix())))
            .expect("get prefix");
        r.kvs()
            .iter()
            .map(|kv| {
                (
                    kv.key_str().expect("utf-8").to_string(),
                    kv.create_revision(),
                )
            })
            .collect()
    }
    fn has_predecessor(&mut self, prefix: &str, rev: i64) -> bool {
        let options = GetOptions::new()
            .with_prefix()
            .with_max_create_revision(rev - 1);
        let mut c = self.c.clone();
        !self
            .run(c.get(prefix, Some(options)))
            .expect("get prefix")
            .kvs()
            .is_empty()
    }
}

// ---------------------------------------------------------------------------------------
// The checks, written once.

type Obs = Vec<String>;

/// Polls `cond` every 10 ms for at most `limit`; how long it took to hold, if it did.
fn time_until(limit: Duration, mut cond: impl FnMut() -> bool) -> Option<Duration> {
    let start = Instant::now();
    loop {
        if cond() {
            return Some(start.elapsed());
        }
        if start.elapsed() >= limit {
            return None;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Sleeps until `at` after `start` (a wait the check prescribes).
fn sleep_until(start: Instant, at: Duration) {
    if let Some(left) = (start + at).checked_duration_since(Instant::now()) {
        std::thread::sleep(left);
    }
}

fn check_70(e: &mut dyn Ed) -> Obs {
    let first = e.put("k", "a", None).unwrap();
    e.put("k", "b", None).unwrap();
    let (_, kv) = e.get("k", false);
    vec![format!("first put revision {first}"), format!("{kv:?}")]
}

fn check_71(e: &mut dyn Ed) -> Obs {
    e.put("k", "a", None).unwrap();
    let before = e.put("k", "b", None).unwrap();
    let (deleted, after) = e.del("k");
    let put = e.put("k", "c", None).unwrap();
    let (_, kv) = e.get("k", false);
    let kv = kv.unwrap();
    let (rev, _) = e.get("absent", false);
    let (gone, after_absent) = e.del("absent");
    vec![
        format!("deleted {deleted}, revision +{}", after - before),
        format!(
            "recreated create=mod=put {} version {}",
            kv.create == put && kv.modr == put,
            kv.version
        ),
        format!("absent deleted {gone}, revision +{}", after_absent - rev),
    ]
}

fn check_72(e: &mut dyn Ed) -> Obs {
    let first = e.txn_create("t", "owner1");
    let second = e.txn_create("t", "owner2");
    let (_, kv) = e.get("t", false);
    vec![
        format!("{first:?}"),
        format!("{second:?}"),
        format!("{:?}", kv.map(|k| k.value)),
    ]
}

fn check_73(e: &mut dyn Ed) -> Obs {
    let granted = Instant::now();
    let (id, ttl) = e.grant(1);
    e.put("l1", "v", Some(id)).unwrap();
    let gone = time_until(Duration::from_secs(5), || e.get("l1", false).1.is_none());
    let after = gone.map(|_| granted.elapsed());
    vec![
        format!("granted TTL {ttl}"),
        // §9: ≈2 s after the put (made right after the grant); the real lessor checks every
        // 500 ms.
        format!(
            "absent within [1.9 s, 3.2 s] of the grant: {}",
            after.is_some_and(
                |d| d >= Duration::from_millis(1900) && d <= Duration::from_millis(3200)
            )
        ),
        format!("timetolive {}", e.time_to_live(id)),
    ]
}

fn check_74(e: &mut dyn Ed) -> Obs {
    let (id, _) = e.grant(5);
    e.put("l2", "v", Some(id)).unwrap();
    let revoked = e.revoke(id);
    let (_, l2) = e.get("l2", false);
    vec![
        format!("{revoked:?}"),
        format!("l2 {l2:?}"),
        format!("{:?}", e.put("l3", "v", Some(id))),
        format!("l3 {:?}", e.get("l3", false).1),
        format!("{:?}", e.revoke(id)),
        format!("{:?}", e.keep_alive(id)),
    ]
}

fn check_75(e: &mut dyn Ed) -> Obs {
    let (id, _) = e.grant(3);
    let start = Instant::now();
    e.put("l4", "v", Some(id)).unwrap();
    sleep_until(start, Duration::from_secs(2));
    let ttl = e.keep_alive(id);
    sleep_until(start, Duration::from_secs(4));
    let (_, kv) = e.get("l4", false);
    vec![
        format!("keep-alive {ttl:?}"),
        format!("at 4 s {:?}", kv.map(|k| k.value)),
    ]
}

fn check_76(e: &mut dyn Ed) -> Obs {
    let mut last = 0;
    for v in ["a", "b", "c", "d"] {
        last = e.put("k", v, None).unwrap();
    }
    let r = last - 1;
    e.compact(r);
    let lin = e.get("k", false);
    let ser = e.get("k", true);
    vec![
        format!("{:?}", e.get_at("k", r - 1)),
        format!(
            "at compaction revision {:?}",
            e.get_at("k", r).map(|o| o.map(|k| k.value))
        ),
        format!("serializable == linearizable {}", lin == ser),
        format!("{:?}", lin.1.map(|k| k.value)),
    ]
}

/// A lock contender as `etcdctl lock` makes one: a lease, then `<prefix>/<lease hex>` created
/// in a Txn with the lease; its create revision.
fn enter(e: &mut dyn Ed, prefix: &str, ttl: i64) -> (i64, String, i64) {
    let (lease, _) = e.grant(ttl);
    let key = format!("{prefix}/{lease:x}");
    let rev = e.put(&key, "", Some(lease)).unwrap();
    (lease, key, rev)
}

fn check_77(e: &mut dyn Ed) -> Obs {
    let (_, ka, ra) = enter(e, "m", 10);
    let (_, kb, rb) = enter(e, "m", 10);
    let mut out = vec![
        format!("second create = first + 1: {}", rb == ra + 1),
        format!("A waits {}", e.has_predecessor("m/", ra)),
        format!("B waits {}", e.has_predecessor("m/", rb)),
    ];
    e.put("other", "x", None).unwrap();
    out.push(format!("B still waits {}", e.has_predecessor("m/", rb)));
    e.del(&ka);
    out.push(format!(
        "B waits after A's delete {}",
        e.has_predecessor("m/", rb)
    ));
    e.del(&kb);
    out.push(format!("keys left {:?}", e.keys("m/")));
    out
}

fn check_78(e: &mut dyn Ed) -> Obs {
    // The holder "crashes": no keep-alive, no revoke; the waiter gets the lock when the
    // lease expires, ≈2 s after it was last renewed (here: granted).
    let granted = Instant::now();
    let (_, _, ra) = enter(e, "m", 2);
    let (_, kb, rb) = enter(e, "m", 60);
    let mut out = vec![format!("holder first {}", !e.has_predecessor("m/", ra))];
    out.push(format!("waiter waits {}", e.has_predecessor("m/", rb)));
    let freed = time_until(Duration::from_secs(6), || !e.has_predecessor("m/", rb));
    let after = freed.map(|_| granted.elapsed());
    out.push(format!(
        "free within [1.9 s, 3.2 s] of the last renewal: {}",
        after.is_some_and(|d| d >= Duration::from_millis(1900) && d <= Duration::from_millis(3200))
    ));
    e.del(&kb);
    // The holder ends with SIGTERM: etcdctl revokes its lease; the key goes at once.
    let (la, _, _) = enter(e, "n", 2);
    let (_, _, rb) = enter(e, "n", 60);
    out.push(format!("waiter waits {}", e.has_predecessor("n/", rb)));
    e.revoke(la).unwrap();
    out.push(format!("free at once {}", !e.has_predecessor("n/", rb)));
    out
}

/// Runs `check` on a fresh real member and on a fresh twin; the observations must be equal.
fn differential(name: &str, check: fn(&mut dyn Ed) -> Obs) -> Obs {
    let real = check(&mut Real::new());
    let twin = check(&mut Twin::new());
    for (i, (r, t)) in real.iter().zip(&twin).enumerate() {
        assert_eq!(r, t, "{name}: observation {i} differs (real, then twin)");
    }
    assert_eq!(real.len(), twin.len(), "{name}: observation counts");
    real
}

const NOT_FOUND: &str = "etcdserver: requested lease not found";

#[test]
fn check_70_revisions_of_two_puts() {
    let o = differential("70", check_70);
    assert_eq!(
        o,
        [
            "first put revision 2",
            "Some(Kv { value: \"b\", create: 2, modr: 3, version: 2 })"
        ]
    );
}

#[test]
fn check_71_delete_and_recreate() {
    let o = differential("71", check_71);
    assert_eq!(
        o,
        [
            "deleted 1, revision +1",
            "recreated create=mod=put true version 1",
            "absent deleted 0, revision +0"
        ]
    );
}

#[test]
fn check_72_txn_create_revision_zero() {
    let o = differential("72", check_72);
    assert_eq!(
        o,
        [
            "(true, None)",
            "(false, Some(\"owner1\"))",
            "Some(\"owner1\")"
        ]
    );
}

#[test]
fn check_73_minimum_ttl_and_expiry() {
    let o = differential("73", check_73);
    assert_eq!(
        o,
        [
            "granted TTL 2",
            "absent within [1.9 s, 3.2 s] of the grant: true",
            "timetolive -1"
        ]
    );
}

#[test]
fn check_74_revoke_and_lease_not_found() {
    let o = differential("74", check_74);
    let nf = format!("Err({NOT_FOUND:?})");
    assert_eq!(
        o,
        [
            "Ok(())".to_string(),
            "l2 None".to_string(),
            nf.clone(),
            "l3 None".to_string(),
            nf.clone(),
            nf
        ]
    );
}

#[test]
fn check_75_keep_alive_resets_ttl() {
    let o = differential("75", check_75);
    assert_eq!(o, ["keep-alive Ok(3)", "at 4 s Some(\"v\")"]);
}

#[test]
fn check_76_compaction_and_serializable_read() {
    let o = differential("76", check_76);
    assert_eq!(
        o,
        [
            "Err(\"etcdserver: mvcc: required revision has been compacted\")",
            "at compaction revision Ok(Some(\"c\"))",
            "serializable == linearizable true",
            "Some(\"d\")"
        ]
    );
}

#[test]
fn check_77_two_lock_contenders() {
    let o = differential("77", check_77);
    assert_eq!(
        o,
        [
            "second create = first + 1: true",
            "A waits false",
            "B waits true",
            "B still waits true",
            "B waits after A's delete false",
            "keys left []"
        ]
    );
}

#[test]
fn check_78_crashed_holder_blocks_until_lease_expiry_terminated_holder_revokes() {
    let o = differential("78", check_78);
    assert_eq!(
        o,
        [
            "holder first true",
            "waiter waits true",
            "free within [1.9 s, 3.2 s] of the last renewal: true",
            "waiter waits true",
            "free at once true"
        ]
    );
}

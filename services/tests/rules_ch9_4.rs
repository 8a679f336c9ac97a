//! The rules of tutorial §9.4 (lease timeouts and renewal strategies), checked over the etcd
//! twin.
//!
//! Most rules are about the tutorial's own client-side Python (`LockTimeout`,
//! `LockRenewal`, `AdvancedDistributedLock`); each such rule is checked here with a small
//! Rust model of its claim running over the etcd twin: a lock is a key put with
//! `create_revision = 0` on the client's lease, renewal is a keep-alive, a client pause is
//! simply the absence of its requests for a while, and "believing" is the client's own
//! state. Times are server monotonic milliseconds.

use lockproof_services::etcd::*;
use lockproof_services::time::ServerClock;

fn ms(n: u64) -> ServerClock {
    ServerClock::at(n * 1_000_000)
}

/// A lease lock as chapter 9.4's examples would use etcd: one lease per acquisition, the
/// lock key on it, the key's create revision as the fencing token.
#[derive(Clone, Debug, PartialEq)]
struct LeaseLock {
    key: String,
    lease: LeaseId,
    token: Revision,
}

fn acquire(etcd: &mut Etcd, key: &str, ttl: i64, t: ServerClock) -> Option<LeaseLock> {
    let lease = etcd
        .lease_grant(&LeaseGrantRequest::new(ttl), t)
        .unwrap()
        .id;
    acquire_on(etcd, key, lease, t)
}

fn acquire_on(etcd: &mut Etcd, key: &str, lease: LeaseId, t: ServerClock) -> Option<LeaseLock> {
    let txn = TxnRequest::new()
        .when(Compare::create_revision(key, CompareResult::Equal, 0))
        .then(PutRequest::new(key, "holder").with_lease(lease));
    let r = etcd.txn(&txn, t).unwrap();
    if r.succeeded {
        Some(LeaseLock {
            key: key.to_string(),
            lease,
            token: r.header.revision,
        })
    } else {
        let _ = etcd.lease_revoke(lease, t);
        None
    }
}

/// Whether the server still names this lock's holder (its key with its create revision).
fn holds(etcd: &mut Etcd, l: &LeaseLock, t: ServerClock) -> bool {
    etcd.range(&RangeRequest::key(l.key.clone()), t)
        .unwrap()
        .kvs
        .first()
        .is_some_and(|kv| kv.create_revision == l.token)
}

fn owner_cmp(l: &LeaseLock) -> Compare {
    Compare::create_revision(l.key.clone(), CompareResult::Equal, l.token)
}

/// A write inside etcd fenced by the holder's create revision (the Mutex's `IsOwner`).
fn fenced_put(etcd: &mut Etcd, l: &LeaseLock, k: &str, v: &str, t: ServerClock) -> bool {
    let txn = TxnRequest::new()
        .when(owner_cmp(l))
        .then(PutRequest::new(k, v));
    etcd.txn(&txn, t).unwrap().succeeded
}

/// Switch a held lock to a new lease with another TTL without letting go of it: one Txn
/// fenced by the holder's create revision re-puts the key on the new lease.
fn switch_lease(etcd: &mut Etcd, l: &mut LeaseLock, ttl: i64, t: ServerClock) -> bool {
    let new = etcd
        .lease_grant(&LeaseGrantRequest::new(ttl), t)
        .unwrap()
        .id;
    let txn = TxnRequest::new()
        .when(owner_cmp(l))
        .then(PutRequest::new(l.key.clone(), "holder").with_lease(new));
    if etcd.txn(&txn, t).unwrap().succeeded {
        let _ = etcd.lease_revoke(l.lease, t);
        l.lease = new;
        true
    } else {
        let _ = etcd.lease_revoke(new, t);
        false
    }
}

/// A resource outside etcd that records writes and, when fenced, rejects tokens older
/// than the newest it accepted.
#[derive(Default)]
struct Resource {
    fenced: bool,
    newest: Revision,
    writes: Vec<(&'static str, Revision)>,
}

impl Resource {
    fn write(&mut self, who: &'static str, token: Revision) -> bool {
        if self.fenced && token < self.newest {
            return false;
        }
        self.newest = self.newest.max(token);
        self.writes.push((who, token));
        true
    }
}

/// Renew `l` by keep-alives every `period` ms from `from` to `until` (exclusive); returns
/// the first failing keep-alive's time, if any.
fn renew_every(etcd: &mut Etcd, l: &LeaseLock, from: u64, until: u64, period: u64) -> Option<u64> {
    let mut t = from;
    while t < until {
        if etcd.lease_keep_alive(l.lease, ms(t)).is_err() {
            return Some(t);
        }
        t += period;
    }
    None
}

#[test]
fn rule_9_4_01_a_lease_frees_a_dead_holders_lock_and_renewal_keeps_a_live_one() {
    // Without a validity period a crashed holder's lock stays forever (a key with no lease).
    let mut etcd = Etcd::new();
    etcd.put(&PutRequest::new("plain", "holder"), ms(0))
        .unwrap();
    assert!(acquire(&mut etcd, "plain", 5, ms(86_400_000)).is_none());
    // With a 5 s lease the crashed holder's lock is free at 5 s.
    let mut etcd = Etcd::new();
    acquire(&mut etcd, "job", 5, ms(0)).unwrap();
    assert!(acquire(&mut etcd, "job", 5, ms(4_999)).is_none());
    assert!(acquire(&mut etcd, "job", 5, ms(5_000)).is_some());
    // A live holder renewing every TTL/3 keeps it through a 60 s operation.
    let mut etcd = Etcd::new();
    let b = acquire(&mut etcd, "job", 5, ms(0)).unwrap();
    assert_eq!(renew_every(&mut etcd, &b, 1_666, 60_000, 1_666), None);
    assert!(holds(&mut etcd, &b, ms(60_000)));
}

#[test]
fn rule_9_4_02_a_crashed_holders_lock_is_released_at_its_ttl() {
    let mut etcd = Etcd::new();
    let a = acquire(&mut etcd, "job", 3, ms(0)).unwrap();
    // The process dies at 1 s: nothing more from it.
    assert!(holds(&mut etcd, &a, ms(2_999)));
    assert!(!holds(&mut etcd, &a, ms(3_000)));
    assert!(etcd.peek("job").is_none());
    // "The specified time" is at least etcd's minimum: 1 s is served as 2 s.
    let b = acquire(&mut etcd, "job2", 1, ms(10_000)).unwrap();
    assert!(holds(&mut etcd, &b, ms(11_000)));
    assert!(!holds(&mut etcd, &b, ms(12_000)));
}

#[test]
fn rule_9_4_03_a_lease_extends_only_while_it_is_still_valid() {
    let mut etcd = Etcd::new();
    let a = acquire(&mut etcd, "job", 3, ms(0)).unwrap();
    assert_eq!(etcd.lease_keep_alive(a.lease, ms(2_900)).unwrap().ttl, 3);
    assert!(holds(&mut etcd, &a, ms(5_800)));
    // Once the deadline passed, the extension fails and the key is already gone.
    assert_eq!(
        etcd.lease_keep_alive(a.lease, ms(5_900)),
        Err(EtcdError::LeaseNotFound)
    );
    assert!(!holds(&mut etcd, &a, ms(5_900)));
}

#[test]
fn rule_9_4_04_a_former_holder_cannot_renew_the_new_holders_lock() {
    let mut etcd = Etcd::new();
    let a = acquire(&mut etcd, "job", 2, ms(0)).unwrap();
    // A is paused past its TTL; B takes the lock.
    let b = acquire(&mut etcd, "job", 10, ms(2_000)).unwrap();
    // A's renewal names A's lease, which is gone: it cannot touch B's lock.
    assert_eq!(
        etcd.lease_keep_alive(a.lease, ms(2_500)),
        Err(EtcdError::LeaseNotFound)
    );
    assert_eq!(etcd.peek("job").unwrap().lease, b.lease);
    // The same with a fenced re-put (renewal by rewriting the key under IsOwner): refused.
    let mut stale = a.clone();
    assert!(!switch_lease(&mut etcd, &mut stale, 30, ms(2_500)));
    // An unchecked renewal that re-puts the key (the tutorial's `_renew_lock` returns True
    // without checking) steals B's lock onto A's new lease.
    let a2 = etcd
        .lease_grant(&LeaseGrantRequest::new(30), ms(2_500))
        .unwrap()
        .id;
    etcd.put(&PutRequest::new("job", "holder").with_lease(a2), ms(2_500))
        .unwrap();
    assert_eq!(etcd.peek("job").unwrap().lease, a2);
    // Note: etcd checks the lease id, not who sends it: anyone knowing B's id renews it.
    assert!(etcd.lease_keep_alive(b.lease, ms(2_600)).is_ok());
}

#[test]
fn rule_9_4_05_expiry_buys_liveness_at_the_cost_of_safety() {
    // Liveness: the lease frees the lock of a holder that died.
    let mut etcd = Etcd::new();
    acquire(&mut etcd, "job", 2, ms(0)).unwrap();
    assert!(acquire(&mut etcd, "job", 2, ms(2_000)).is_some());
    // Safety is what expiry breaks: a paused holder (its renewal thread paused with it)
    // overlaps the next holder in the resource.
    let mut etcd = Etcd::new();
    let mut res = Resource::default();
    let a = acquire(&mut etcd, "job", 2, ms(0)).unwrap();
    assert!(res.write("A", a.token));
    // A pauses from 100 ms to 5 s: no keep-alives.
    let b = acquire(&mut etcd, "job", 2, ms(2_000)).unwrap();
    assert!(res.write("B", b.token));
    assert!(res.write("A", a.token)); // A resumes still believing.
    assert_eq!(res.writes.iter().filter(|w| w.0 == "A").count(), 2);
    // Renewal cannot restore it: the paused holder's first renewal comes too late.
    assert_eq!(
        etcd.lease_keep_alive(a.lease, ms(5_000)),
        Err(EtcdError::LeaseNotFound)
    );
}

#[test]
fn rule_9_4_06_a_ttl_is_fixed_per_lease_adjusting_it_means_a_new_lease() {
    let mut etcd = Etcd::new();
    let mut a = acquire(&mut etcd, "job", 3, ms(0)).unwrap();
    // Keep-alives always restore the granted TTL.
    assert_eq!(etcd.lease_keep_alive(a.lease, ms(1_000)).unwrap().ttl, 3);
    // Adjusting to 30 s: move the key to a new lease in one fenced Txn; the lock is never
    // free in between and the fencing token (create revision) is unchanged.
    let token = a.token;
    assert!(switch_lease(&mut etcd, &mut a, 30, ms(2_000)));
    assert_eq!(a.token, token);
    assert!(holds(&mut etcd, &a, ms(31_999)));
    assert!(!holds(&mut etcd, &a, ms(32_000)));
}

#[test]
fn rule_9_4_07_abnormal_ends_release_the_lock_by_expiry_a_leader_change_delays_it() {
    // Crash or partition: the server hears nothing more and expires the lease.
    let mut etcd = Etcd::new();
    let a = acquire(&mut etcd, "job", 2, ms(0)).unwrap();
    etcd.lease_keep_alive(a.lease, ms(1_000)).unwrap();
    assert!(holds(&mut etcd, &a, ms(2_999)));
    assert!(!holds(&mut etcd, &a, ms(3_000)));
    // A leader change (or a restart of the member) at 1.5 s refreshes the lease: it now
    // ends at 1.5 + 2 + 1 (election timeout) = 4.5 s.
    let mut etcd = Etcd::new();
    let a = acquire(&mut etcd, "job", 2, ms(0)).unwrap();
    etcd.leader_change(ms(1_500));
    assert!(holds(&mut etcd, &a, ms(4_499)));
    assert!(!holds(&mut etcd, &a, ms(4_500)));
}

#[test]
fn rule_9_4_08_a_fixed_ttl_ends_at_grant_plus_ttl_not_at_the_put() {
    let mut etcd = Etcd::new();
    let lease = etcd
        .lease_grant(&LeaseGrantRequest::new(4), ms(0))
        .unwrap()
        .id;
    // The lock key is put 1.5 s after the grant: it lives 2.5 s, not 4 s.
    let a = acquire_on(&mut etcd, "job", lease, ms(1_500)).unwrap();
    assert!(holds(&mut etcd, &a, ms(3_999)));
    assert!(!holds(&mut etcd, &a, ms(4_000)));
}

#[test]
fn rule_9_4_09_validity_counts_from_the_grant_or_last_renewal() {
    // Granted at the moment of acquisition, the lease counts from acquisition.
    let mut etcd = Etcd::new();
    let a = acquire(&mut etcd, "job", 5, ms(7_000)).unwrap();
    assert!(holds(&mut etcd, &a, ms(11_999)));
    assert!(!holds(&mut etcd, &a, ms(12_000)));
    // A session lease granted earlier (etcd's concurrency sessions) counts from its last
    // keep-alive, whenever the lock was taken: a client measuring 5 s from its acquisition
    // believes 3 s too long.
    let mut etcd = Etcd::new();
    let lease = etcd
        .lease_grant(&LeaseGrantRequest::new(5), ms(0))
        .unwrap()
        .id;
    let b = acquire_on(&mut etcd, "job", lease, ms(3_000)).unwrap();
    let client_believes = |t: u64| t < 3_000 + 5_000;
    assert!(holds(&mut etcd, &b, ms(4_999)));
    assert!(client_believes(6_000) && !holds(&mut etcd, &b, ms(6_000)));
}

#[test]
fn rule_9_4_10_the_expiry_point_is_on_the_servers_monotonic_clock() {
    // The point is grant + TTL on the server's monotonic clock: a wall-clock jump of one
    // hour on the server does not move it.
    let mut etcd = Etcd::new();
    let a = acquire(&mut etcd, "job", 10, ms(0)).unwrap();
    let jumped = |mono_ms: u64| ServerClock {
        wall: 3_600_000_000_000 + i64::try_from(mono_ms).unwrap() * 1_000_000,
        mono: mono_ms * 1_000_000,
    };
    assert!(holds(&mut etcd, &a, jumped(9_999)));
    assert!(!holds(&mut etcd, &a, jumped(10_000)));
    assert_eq!(
        etcd.lease_time_to_live(a.lease, false, jumped(10_000)).ttl,
        -1
    );
}

#[test]
fn rule_9_4_11_periodic_validity_checks_find_the_loss_up_to_one_period_late() {
    let mut etcd = Etcd::new();
    let a = acquire(&mut etcd, "job", 2, ms(500)).unwrap(); // ends at 2.5 s
                                                            // A checks "is my key still mine?" every second; B tries every 500 ms.
    let (mut detected, mut b) = (None, None);
    for t in (500..10_000).step_by(500) {
        if b.is_none() {
            b = acquire(&mut etcd, "job", 10, ms(t)).map(|l| (l, t));
        }
        if t % 1_000 == 0 && detected.is_none() && !holds(&mut etcd, &a, ms(t)) {
            detected = Some(t);
        }
    }
    let (b, b_at) = b.unwrap();
    assert_eq!((b_at, detected), (2_500, Some(3_000)));
    // Between B's grant and A's detection both believed: 0.5 s, up to one period.
    assert!(holds(&mut etcd, &b, ms(10_000)));
}

#[test]
fn rule_9_4_12_polling_time_to_live_sees_expiry_at_the_first_poll_after_it() {
    let mut etcd = Etcd::new();
    let a = acquire(&mut etcd, "job", 3, ms(0)).unwrap();
    let polls: Vec<i64> = (0..5)
        .map(|s| etcd.lease_time_to_live(a.lease, false, ms(s * 1_000)).ttl)
        .collect();
    // Whole seconds left, truncated, then gone at the deadline.
    assert_eq!(polls, vec![3, 2, 1, -1, -1]);
}

#[test]
fn rule_9_4_13_a_check_at_use_time_protects_only_inside_the_same_txn() {
    let mut etcd = Etcd::new();
    let a = acquire(&mut etcd, "job", 2, ms(0)).unwrap();
    // Separate check then write: valid at 1.9 s, lease gone at 2 s, write at 2.1 s.
    assert!(holds(&mut etcd, &a, ms(1_900)));
    let b = acquire(&mut etcd, "job", 10, ms(2_000)).unwrap();
    let mut res = Resource::default();
    assert!(res.write("B", b.token));
    assert!(res.write("A", a.token)); // the check said yes; the write lands anyway
                                      // The check and the write in one Txn: the stale write is refused.
    assert!(!fenced_put(&mut etcd, &a, "data", "A", ms(2_100)));
    assert!(fenced_put(&mut etcd, &b, "data", "B", ms(2_100)));
    assert_eq!(etcd.peek("data").unwrap().value, "B");
}

#[test]
fn rule_9_4_14_expiry_notifies_watchers_with_a_delete_event() {
    let mut etcd = Etcd::new();
    let w = ClientId(7);
    let a = acquire(&mut etcd, "job", 2, ms(0)).unwrap();
    etcd.watch(w, &WatchCreateRequest::key("job"), ms(0))
        .unwrap();
    assert!(etcd.expire_leases(ms(1_999)).is_empty());
    assert!(!etcd.has_events(w));
    assert_eq!(etcd.expire_leases(ms(2_000)), vec![a.lease]);
    let msgs = etcd.take_events(w);
    assert_eq!(msgs.len(), 1);
    assert_eq!(msgs[0].events[0].kind, EventKind::Delete);
    assert_eq!(msgs[0].events[0].kv.mod_revision, etcd.revision());
}

#[test]
fn rule_9_4_15_expiry_cleans_up_every_key_on_the_lease_in_one_revision() {
    let mut etcd = Etcd::new();
    let a = acquire(&mut etcd, "job", 2, ms(0)).unwrap();
    for k in ["job/progress", "job/owner-info", "job/tmp"] {
        etcd.put(&PutRequest::new(k, "x").with_lease(a.lease), ms(0))
            .unwrap();
    }
    etcd.put(&PutRequest::new("job/result", "kept"), ms(0))
        .unwrap();
    let rev = etcd.revision();
    etcd.expire_leases(ms(2_000));
    assert_eq!(etcd.revision(), rev + 1);
    let left = etcd.range(&RangeRequest::prefix("job"), ms(2_000)).unwrap();
    assert_eq!(left.kvs.len(), 1);
    assert_eq!(left.kvs[0].key, "job/result");
}

#[test]
fn rule_9_4_16_scheduled_renewal_keeps_the_lock_until_the_process_pauses() {
    let mut etcd = Etcd::new();
    let a = acquire(&mut etcd, "job", 3, ms(0)).unwrap();
    // The renewal thread fires every TTL/3 = 1 s for 30 s.
    assert_eq!(renew_every(&mut etcd, &a, 1_000, 30_000, 1_000), None);
    assert!(holds(&mut etcd, &a, ms(30_000)));
    // The whole process (renewal thread included) pauses 3.5 s: the lease is lost.
    assert_eq!(
        renew_every(&mut etcd, &a, 33_500, 40_000, 1_000),
        Some(33_500)
    );
    assert!(!holds(&mut etcd, &a, ms(33_500)));
}

#[test]
fn rule_9_4_17_renewal_conditioned_on_ownership_stops_after_the_loss() {
    let mut etcd = Etcd::new();
    let a = acquire(&mut etcd, "job", 2, ms(0)).unwrap();
    let renew_if_owner = |etcd: &mut Etcd, l: &LeaseLock, t: u64| {
        holds(etcd, l, ms(t)) && etcd.lease_keep_alive(l.lease, ms(t)).is_ok()
    };
    assert!(renew_if_owner(&mut etcd, &a, 1_000));
    let b = acquire(&mut etcd, "job", 2, ms(3_000)).unwrap();
    assert!(!renew_if_owner(&mut etcd, &a, 3_100));
    assert!(holds(&mut etcd, &b, ms(3_100)));
}

#[test]
fn rule_9_4_18_a_keep_alive_cannot_grow_the_ttl() {
    let mut etcd = Etcd::new();
    let mut a = acquire(&mut etcd, "job", 3, ms(0)).unwrap();
    // However long the job has run, each renewal gives back the granted 3 s.
    let ttls: Vec<i64> = [1_000, 2_000, 3_000, 4_000]
        .iter()
        .map(|&t| etcd.lease_keep_alive(a.lease, ms(t)).unwrap().ttl)
        .collect();
    assert_eq!(ttls, vec![3, 3, 3, 3]);
    // Growing it takes a new lease (one fenced Txn keeps the lock held throughout).
    assert!(switch_lease(&mut etcd, &mut a, 6, ms(4_500)));
    assert_eq!(
        etcd.lease_time_to_live(a.lease, false, ms(4_500))
            .granted_ttl,
        6
    );
}

#[test]
fn rule_9_4_19_an_explicit_renewal_works_only_if_it_comes_before_the_deadline() {
    let mut etcd = Etcd::new();
    let a = acquire(&mut etcd, "job", 3, ms(0)).unwrap();
    // The application renews between steps of 2 s: fine.
    for t in [2_000, 4_000, 6_000] {
        assert!(etcd.lease_keep_alive(a.lease, ms(t)).is_ok());
    }
    // One step takes 3.2 s: the renewal after it is too late.
    assert_eq!(
        etcd.lease_keep_alive(a.lease, ms(9_200)),
        Err(EtcdError::LeaseNotFound)
    );
}

#[test]
fn rule_9_4_20_any_caller_knowing_the_lease_id_can_renew_it() {
    let mut etcd = Etcd::new();
    let a = acquire(&mut etcd, "job", 2, ms(0)).unwrap();
    // An operator's tool (another client) renews the lease through the API.
    let admin = ClientId(99);
    for t in [1_000, 2_500, 4_000] {
        let r = etcd.apply(admin, &Request::LeaseKeepAlive(a.lease), ms(t));
        assert!(r.is_ok());
    }
    assert!(holds(&mut etcd, &a, ms(5_500)));
    // It keeps a dead holder's lock alive as well.
    assert!(acquire(&mut etcd, "job", 2, ms(5_500)).is_none());
}

#[test]
fn rule_9_4_21_one_keep_alive_renews_every_lock_on_the_lease() {
    let mut etcd = Etcd::new();
    let lease = etcd
        .lease_grant(&LeaseGrantRequest::new(2), ms(0))
        .unwrap()
        .id;
    let locks: Vec<LeaseLock> = ["r1", "r2", "r3"]
        .iter()
        .map(|k| acquire_on(&mut etcd, k, lease, ms(0)).unwrap())
        .collect();
    etcd.lease_keep_alive(lease, ms(1_500)).unwrap();
    for l in &locks {
        assert!(holds(&mut etcd, l, ms(3_000)));
    }
    // And one expiry drops them all in one revision.
    let rev = etcd.revision();
    etcd.expire_leases(ms(3_500));
    assert_eq!(etcd.revision(), rev + 1);
    assert_eq!(
        etcd.range(&RangeRequest::prefix("r"), ms(3_500))
            .unwrap()
            .count,
        0
    );
}

/// The tutorial's `LockRenewal._predict_execution_time` (ex-9.4-02).
fn predict(history: &[f64], initial_lease: f64) -> f64 {
    if history.len() < 3 {
        return initial_lease;
    }
    let recent = &history[history.len().saturating_sub(5)..];
    let mut p = recent.iter().sum::<f64>() / recent.len() as f64;
    if history.len() >= 5 {
        let times = &history[history.len() - 5..];
        p += (times[4] - times[0]) / 5.0 * 2.0;
    }
    p.max(1.0)
}

#[test]
fn rule_9_4_22_the_prediction_follows_history_and_the_server_floors_the_lease() {
    assert_eq!(predict(&[4.0, 4.0], 30.0), 30.0);
    assert_eq!(predict(&[4.0, 4.0, 4.0, 4.0, 4.0], 30.0), 4.0);
    // A rising trend predicts more than the average.
    assert!(predict(&[2.0, 3.0, 4.0, 5.0, 6.0], 30.0) > 4.0);
    // A falling trend can predict below every sample: floored at 1 s.
    assert_eq!(predict(&[9.0, 5.0, 2.0, 1.0, 0.5], 30.0), 1.0);
    // The lease for it, int(1.8 × 1) = 1 s, is served by etcd as 2 s.
    let mut etcd = Etcd::new();
    let lease_s = (predict(&[9.0, 5.0, 2.0, 1.0, 0.5], 30.0) * 1.8) as i64;
    assert_eq!(lease_s, 1);
    assert_eq!(
        etcd.lease_grant(&LeaseGrantRequest::new(lease_s), ms(0))
            .unwrap()
            .ttl,
        2
    );
}

#[test]
fn rule_9_4_23_a_renewal_schedule_must_leave_room_for_the_delay_under_load() {
    // TTL 3 s, renewals sent every second; under load each keep-alive reaches the server
    // `delay` ms after it was sent.
    let run = |delay: u64, period: u64| {
        let mut etcd = Etcd::new();
        let a = acquire(&mut etcd, "job", 3, ms(0)).unwrap();
        let mut sent = period;
        while sent < 20_000 {
            if etcd.lease_keep_alive(a.lease, ms(sent + delay)).is_err() {
                return false;
            }
            sent += period;
        }
        true
    };
    assert!(run(100, 1_000));
    // Under a 2.1 s delay the first renewal lands at 3.1 s, after the deadline.
    assert!(!run(2_100, 1_000));
    // Renewing every 0.5 s under the same load keeps it.
    assert!(run(2_100, 500));
}

#[test]
fn rule_9_4_24_a_failed_renewal_is_visible_but_only_after_the_pause() {
    let mut etcd = Etcd::new();
    let a = acquire(&mut etcd, "job", 2, ms(0)).unwrap();
    etcd.lease_keep_alive(a.lease, ms(600)).unwrap();
    // Paused 600 ms → 4 s; B acquires at 2.6 s.
    let b = acquire(&mut etcd, "job", 10, ms(2_600)).unwrap();
    // The first renewal after the pause reports the anomaly...
    let err = etcd.lease_keep_alive(a.lease, ms(4_000)).unwrap_err();
    assert_eq!(err.to_string(), "etcdserver: requested lease not found");
    // ...1.4 s after B had the lock.
    assert!(holds(&mut etcd, &b, ms(4_000)));
}

#[test]
fn rule_9_4_25_a_long_batch_holds_the_lock_throughout_only_while_it_renews() {
    // 60 items of 0.2 s under a 2 s lease renewed every 0.6 s: held for all 12 s.
    let mut etcd = Etcd::new();
    let a = acquire(&mut etcd, "batch", 2, ms(0)).unwrap();
    let mut t = 0;
    for _ in 0..60 {
        t += 200;
        if t % 600 == 0 {
            etcd.lease_keep_alive(a.lease, ms(t)).unwrap();
        }
        assert!(holds(&mut etcd, &a, ms(t)));
    }
    // A 2 s pause in the middle of the batch loses it, and another processor starts.
    let mut etcd = Etcd::new();
    let a = acquire(&mut etcd, "batch", 2, ms(0)).unwrap();
    etcd.lease_keep_alive(a.lease, ms(600)).unwrap();
    assert!(acquire(&mut etcd, "batch", 2, ms(2_600)).is_some());
    assert!(!holds(&mut etcd, &a, ms(2_800)));
}

#[test]
fn rule_9_4_26_validity_follows_progress_through_a_lease_switch() {
    let mut etcd = Etcd::new();
    let mut a = acquire(&mut etcd, "batch", 10, ms(0)).unwrap();
    // At 40 % after 4 s the estimate of 6 s left: switch to a 9 s lease (with a buffer).
    assert!(switch_lease(&mut etcd, &mut a, 9, ms(4_000)));
    assert!(holds(&mut etcd, &a, ms(12_999)));
    assert!(!holds(&mut etcd, &a, ms(13_000)));
    // A switch attempted after the lock was lost is refused.
    let _b = acquire(&mut etcd, "batch", 10, ms(13_000)).unwrap();
    assert!(!switch_lease(&mut etcd, &mut a, 9, ms(13_100)));
}

#[test]
fn rule_9_4_27_a_lock_stops_only_writers_that_take_it_or_are_fenced() {
    let mut etcd = Etcd::new();
    let a = acquire(&mut etcd, "tx/x", 10, ms(0)).unwrap();
    // B cooperates: it cannot lock x while A holds it.
    assert!(acquire(&mut etcd, "tx/x", 10, ms(100)).is_none());
    // A writer that ignores the lock still changes the data (the lock is advisory).
    etcd.put(&PutRequest::new("x", "rogue"), ms(200)).unwrap();
    assert_eq!(etcd.peek("x").unwrap().value, "rogue");
    // A's writes fenced by its lock succeed while it holds it.
    assert!(fenced_put(&mut etcd, &a, "x", "A", ms(300)));
}

#[test]
fn rule_9_4_28_changing_the_stage_by_release_and_reacquire_lets_another_in() {
    // The tutorial's next_stage: release, then acquire again with the new lease.
    let mut etcd = Etcd::new();
    let a = acquire(&mut etcd, "tx/x", 30, ms(0)).unwrap();
    etcd.lease_revoke(a.lease, ms(1_000)).unwrap();
    let t2 = acquire(&mut etcd, "tx/x", 30, ms(1_000)).unwrap(); // T2 slips in
    assert!(acquire(&mut etcd, "tx/x", 60, ms(1_000)).is_none()); // T1's re-acquire fails
    assert!(holds(&mut etcd, &t2, ms(1_000)));
    // Adjusting the lease in place keeps the lock through the stage change.
    let mut etcd = Etcd::new();
    let mut a = acquire(&mut etcd, "tx/x", 30, ms(0)).unwrap();
    let token = a.token;
    assert!(switch_lease(&mut etcd, &mut a, 60, ms(1_000)));
    assert!(acquire(&mut etcd, "tx/x", 30, ms(1_000)).is_none());
    assert_eq!(a.token, token);
}

#[test]
fn rule_9_4_29_the_global_lock_serialises_coordinators_only_while_its_lease_holds() {
    // Two coordinators each make 3 service calls of 1 s under the lock (2 s lease, renewed
    // at the start of each call, released after the last). B polls every 500 ms. Returns
    // whether a call of A overlapped a call of B.
    let overlap = |pause_ms: u64| {
        let mut etcd = Etcd::new();
        let a = acquire(&mut etcd, "coord", 2, ms(0)).unwrap();
        let a_starts = [0, 1_000 + pause_ms, 2_000 + pause_ms];
        let a_release = a_starts[2] + 1_000;
        let mut calls: Vec<(&str, u64)> = Vec::new();
        let mut b_held = false;
        for t in (0..=20_000).step_by(500) {
            if a_starts.contains(&t) {
                let _ = etcd.lease_keep_alive(a.lease, ms(t)); // a failure is not surfaced
                calls.push(("A", t));
            }
            if t == a_release {
                let _ = etcd.lease_revoke(a.lease, ms(t));
            }
            if !b_held && acquire(&mut etcd, "coord", 2, ms(t)).is_some() {
                b_held = true;
                calls.extend([("B", t), ("B", t + 1_000), ("B", t + 2_000)]);
            }
        }
        assert!(b_held);
        calls.iter().any(|&(w, s)| {
            w == "A"
                && calls
                    .iter()
                    .any(|&(v, s2)| v == "B" && s < s2 + 1_000 && s2 < s + 1_000)
        })
    };
    assert!(!overlap(0));
    // A pauses 3 s after its first call: B holds the lock from 2 s and their calls overlap.
    assert!(overlap(3_000));
}
#[test]
fn rule_9_4_30_predictive_renewal_of_a_short_prediction_lapses_between_renewals() {
    // The tutorial's PREDICTIVE schedule: renew every max(2, 0.2 p) s with a lease of
    // int(1.8 p) s. History predicting p = 1 s: lease 1 → etcd's minimum 2 s, interval 2 s.
    let p = predict(&[1.0, 1.0, 1.0, 1.0, 1.0], 60.0);
    assert_eq!(p, 1.0);
    let interval_ms = (2.0f64.max(0.2 * p) * 1000.0) as u64;
    let lease_s = (1.8 * p) as i64;
    let mut etcd = Etcd::new();
    let lease = etcd
        .lease_grant(&LeaseGrantRequest::new(lease_s), ms(0))
        .unwrap();
    assert_eq!((lease.ttl, interval_ms), (2, 2_000));
    // The first renewal lands exactly at the deadline: too late.
    assert_eq!(
        etcd.lease_keep_alive(lease.id, ms(interval_ms)),
        Err(EtcdError::LeaseNotFound)
    );
    // With p = 20 s: lease 36 s, interval 4 s: fine.
    let p = 20.0;
    let lease = etcd
        .lease_grant(&LeaseGrantRequest::new((1.8 * p) as i64), ms(0))
        .unwrap();
    assert!(etcd
        .lease_keep_alive(lease.id, ms((0.2 * p * 1000.0) as u64))
        .is_ok());
}

#[test]
fn rule_9_4_31_a_ttl_shorter_than_the_operation_loses_the_lock_midway() {
    let op_ms = 5_000;
    let outcome = |ttl: i64| {
        let mut etcd = Etcd::new();
        let a = acquire(&mut etcd, "job", ttl, ms(0)).unwrap();
        holds(&mut etcd, &a, ms(op_ms))
    };
    assert!(!outcome(5));
    assert!(outcome(6));
    // And an operation shorter than 2 s cannot get a TTL that short.
    let mut etcd = Etcd::new();
    assert_eq!(
        etcd.lease_grant(&LeaseGrantRequest::new(1), ms(0))
            .unwrap()
            .ttl,
        2
    );
}

#[test]
fn rule_9_4_32_the_client_starts_counting_later_than_the_server() {
    // The grant is applied at 0 on the server; its reply reaches the client 300 ms later.
    // A client that counts its 2 s from the reply believes until 2.3 s; the server ends it at 2 s.
    let mut etcd = Etcd::new();
    let a = acquire(&mut etcd, "job", 2, ms(0)).unwrap();
    let reply_delay = 300;
    let believes = |t: u64| t < reply_delay + 2_000;
    let b = acquire(&mut etcd, "job", 2, ms(2_000)).unwrap();
    assert!(believes(2_100) && !holds(&mut etcd, &a, ms(2_100)) && holds(&mut etcd, &b, ms(2_100)));
    // Counting from the request's sending (not the reply) keeps the belief inside: the
    // grant cannot be applied before it was sent.
    let sent_at = 0;
    let safe = |t: u64| t < sent_at + 2_000;
    assert!(!safe(2_000));
}

#[test]
fn rule_9_4_33_a_buffer_over_the_estimate_absorbs_jitter_not_a_long_pause() {
    let estimate_ms: u64 = 4_000;
    let run = |ttl: i64, actual: u64| {
        let mut etcd = Etcd::new();
        let a = acquire(&mut etcd, "job", ttl, ms(0)).unwrap();
        holds(&mut etcd, &a, ms(actual))
    };
    assert!(!run(4, estimate_ms + 300)); // no buffer, 300 ms jitter: lost
    assert!(run(6, estimate_ms + 300)); // 50 % buffer: kept
    assert!(!run(6, estimate_ms + 3_000)); // a 3 s pause beats the buffer
}

/// The tutorial's `LockTimeout._calculate_adaptive_timeout` (ex-9.4-01).
fn adaptive_timeout(avg: f64, max: f64, count: u32, timeout: i64) -> i64 {
    if count == 0 {
        return timeout;
    }
    let base = (avg * 1.5) as i64;
    let cap = (max * 2.0) as i64;
    let floor = 10.max(timeout / 2);
    floor.max(base.min(cap))
}

#[test]
fn rule_9_4_34_the_tuned_timeout_is_floored_so_runtime_data_can_only_raise_it() {
    // Runs of 0.1 s (the demo) give 10 s, not 0.15 s; runs of 40 s give 60 s.
    assert_eq!(adaptive_timeout(0.1, 0.1, 5, 10), 10);
    assert_eq!(adaptive_timeout(40.0, 40.0, 5, 10), 60);
    // Capped at 2 × the longest run: an outlier longer than that loses the lease.
    let ttl = adaptive_timeout(10.0, 10.0, 5, 10);
    assert_eq!(ttl, 15);
    let mut etcd = Etcd::new();
    let a = acquire(&mut etcd, "job", ttl, ms(0)).unwrap();
    assert!(!holds(&mut etcd, &a, ms(21_000)));
}

#[test]
fn rule_9_4_35_carrying_on_after_a_failed_renewal_makes_two_writers() {
    let mut etcd = Etcd::new();
    let mut res = Resource::default();
    let a = acquire(&mut etcd, "job", 2, ms(0)).unwrap();
    // A is partitioned 0.5 s → 3 s; B acquires at 2 s.
    let b = acquire(&mut etcd, "job", 2, ms(2_000)).unwrap();
    assert!(res.write("B", b.token));
    // A's renewal fails; "not affecting the main flow", A keeps writing.
    assert!(etcd.lease_keep_alive(a.lease, ms(3_000)).is_err());
    assert!(res.write("A", a.token));
    let writers: std::collections::BTreeSet<_> = res.writes.iter().map(|w| w.0).collect();
    assert_eq!(writers.len(), 2);
    // Stopping protected writes on a failed renewal (or fencing them) is what keeps it safe.
    assert!(!fenced_put(&mut etcd, &a, "data", "A", ms(3_000)));
    let mut fenced = Resource {
        fenced: true,
        ..Resource::default()
    };
    assert!(fenced.write("B", b.token));
    assert!(!fenced.write("A", a.token));
}

#[test]
fn rule_9_4_36_a_failed_renewal_is_a_typed_signal_a_monitor_can_count() {
    let mut etcd = Etcd::new();
    let a = acquire(&mut etcd, "job", 2, ms(0)).unwrap();
    // Renewals at 1 s (ok, lease to 3 s), then after a pause at 3.5 s and 4 s (both gone).
    let failures = [1_000u64, 3_500, 4_000]
        .iter()
        .filter(|&&t| {
            etcd.lease_keep_alive(a.lease, ms(t))
                .is_err_and(|e| e.code() == GrpcCode::NotFound)
        })
        .count();
    assert_eq!(failures, 2);
}

#[test]
fn rule_9_4_37_re_acquiring_after_a_lost_lease_is_a_new_grant_with_a_new_token() {
    let mut etcd = Etcd::new();
    let a = acquire(&mut etcd, "job", 2, ms(0)).unwrap();
    // Paused past its TTL: B held the lock meanwhile and released it.
    let b = acquire(&mut etcd, "job", 2, ms(2_100)).unwrap();
    etcd.lease_revoke(b.lease, ms(2_900)).unwrap();
    assert!(etcd.lease_keep_alive(a.lease, ms(3_000)).is_err());
    // Automatic recovery succeeds...
    let a2 = acquire(&mut etcd, "job", 2, ms(3_000)).unwrap();
    // ...but it is a new lock: a larger token than B's, whose work happened in between.
    assert!(a2.token > b.token && b.token > a.token);
}

#[test]
fn rule_9_4_38_renewal_failing_from_a_server_outage_keeps_the_lock_from_a_partition_loses_it() {
    // The member is down 1 s → 4 s (no renewal possible); on restart the lease is refreshed.
    let mut etcd = Etcd::new();
    let a = acquire(&mut etcd, "job", 2, ms(0)).unwrap();
    etcd.restart(ms(4_000));
    assert!(holds(&mut etcd, &a, ms(4_000)));
    assert!(etcd.lease_keep_alive(a.lease, ms(6_000)).is_ok());
    // The client cut off 1 s → 4 s while the member runs: the lease is gone.
    let mut etcd = Etcd::new();
    let a = acquire(&mut etcd, "job", 2, ms(0)).unwrap();
    assert!(!holds(&mut etcd, &a, ms(4_000)));
    // The client sees the same thing in both cases (renewals time out), so the only safe
    // degraded mode is to stop protected writes until a renewal succeeds.
}

#[test]
fn rule_9_4_39_fencing_with_the_create_revision_rejects_the_stale_holder() {
    let mut etcd = Etcd::new();
    let mut res = Resource {
        fenced: true,
        ..Resource::default()
    };
    let a = acquire(&mut etcd, "job", 2, ms(0)).unwrap();
    assert!(res.write("A", a.token));
    let b = acquire(&mut etcd, "job", 2, ms(2_000)).unwrap();
    assert!(b.token > a.token);
    assert!(res.write("B", b.token));
    assert!(!res.write("A", a.token));
    // Inside etcd the same token fences a Txn.
    assert!(!fenced_put(&mut etcd, &a, "data", "A", ms(2_100)));
    assert!(fenced_put(&mut etcd, &b, "data", "B", ms(2_100)));
    assert_eq!(res.writes, vec![("A", a.token), ("B", b.token)]);
}

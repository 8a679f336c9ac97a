//! The rules of the tutorial's 9.1 (Redis distributed locks), each checked on the Redis
//! twin: what the server does when a lock follows (or breaks) the rule.
//!
//! Times are the servers' wall clocks in ms after a common start; a client's pause is a
//! gap between its requests.

use lockproof_services::redis::{
    Cmd, ConnId, Lua, Persistence, Redis, RedisError, ReplicaSet, Reply, Script, ScriptCtx,
};

#[path = "support/redis.rs"]
mod support;

use support::at;

fn ok() -> Reply {
    Reply::ok()
}

type ScriptResult = Result<Lua, RedisError>;

fn cad(ctx: &mut ScriptCtx<'_>, k: &[String], a: &[String]) -> ScriptResult {
    if ctx.call(Cmd::get(&k[0]))? == Lua::str(&a[0]) {
        ctx.call(Cmd::del(&k[0]))
    } else {
        Ok(Lua::int(0))
    }
}

/// Compare-and-delete: the release the tutorial and redis.io use.
const CAD: Script = Script::new(
    "compare-and-delete",
    "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end",
    cad,
);

fn renew(ctx: &mut ScriptCtx<'_>, k: &[String], a: &[String]) -> ScriptResult {
    if ctx.call(Cmd::get(&k[0]))? == Lua::str(&a[0]) {
        ctx.call(Cmd::pexpire(&k[0], a[1].parse().unwrap()))
    } else {
        Ok(Lua::int(0))
    }
}

/// Compare-and-`PEXPIRE`: a token-checked renewal.
const RENEW: Script = Script::new(
    "compare-and-pexpire",
    "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end",
    renew,
);

fn reentrant_acquire(ctx: &mut ScriptCtx<'_>, k: &[String], a: &[String]) -> ScriptResult {
    let free = ctx.call(Cmd::exists(&k[0]))? == Lua::int(0);
    let mine = ctx.call(Cmd::HExists(k[0].clone(), a[1].clone()))? == Lua::int(1);
    if free || mine {
        ctx.call(Cmd::hincrby(&k[0], &a[1], 1))?;
        ctx.call(Cmd::pexpire(&k[0], a[0].parse().unwrap()))?;
        return Ok(Lua::Nil);
    }
    ctx.call(Cmd::pttl(&k[0]))
}

/// A reentrant acquire on a hash (field = owner, value = count): nil when acquired, else
/// the holder's PTTL.
const REENTRANT_ACQUIRE: Script = Script::new(
    "reentrant-acquire",
    "if (redis.call('exists', KEYS[1]) == 0) or (redis.call('hexists', KEYS[1], ARGV[2]) == 1) then redis.call('hincrby', KEYS[1], ARGV[2], 1) redis.call('pexpire', KEYS[1], ARGV[1]) return nil end return redis.call('pttl', KEYS[1])",
    reentrant_acquire,
);

fn reentrant_release(ctx: &mut ScriptCtx<'_>, k: &[String], a: &[String]) -> ScriptResult {
    if ctx.call(Cmd::HExists(k[0].clone(), a[0].clone()))? == Lua::int(0) {
        return Ok(Lua::Nil);
    }
    let left = ctx.call(Cmd::hincrby(&k[0], &a[0], -1))?.as_int().unwrap();
    if left > 0 {
        Ok(Lua::int(0))
    } else {
        ctx.call(Cmd::del(&k[0]))?;
        Ok(Lua::int(1))
    }
}

/// The matching release: decrement, delete the hash at 0.
const REENTRANT_RELEASE: Script = Script::new(
    "reentrant-release",
    "if redis.call('hexists', KEYS[1], ARGV[1]) == 0 then return nil end local c = redis.call('hincrby', KEYS[1], ARGV[1], -1) if c > 0 then return 0 end redis.call('del', KEYS[1]) return 1",
    reentrant_release,
);

/// One server and named connections.
struct One {
    r: Redis,
    conns: Vec<ConnId>,
}

impl One {
    fn new(clients: usize) -> One {
        let mut r = Redis::new();
        let conns = (0..clients).map(|_| r.connect()).collect();
        One { r, conns }
    }

    fn on(&mut self, client: usize, ms: u64, cmd: Cmd) -> Reply {
        self.r.apply(self.conns[client], cmd, at(ms))
    }
}

#[test]
fn rule_9_1_01_the_server_names_one_holder_at_every_instant() {
    let mut s = One::new(3);
    let mut holder: Option<usize> = None;
    // Clients take turns trying every 100 ms; the holder releases after 250 ms.
    let mut acquired_at = 0;
    for step in 0..30u64 {
        let t = step * 100;
        let client = (step % 3) as usize;
        if holder == Some(client) && t - acquired_at >= 250 {
            let tok = format!("tok{client}");
            assert_eq!(
                s.on(client, t, Cmd::eval(CAD, &["k"], &[&tok])),
                Reply::Int(1)
            );
            holder = None;
            continue;
        }
        let got = s.on(
            client,
            t,
            Cmd::set("k", format!("tok{client}")).nx().px(10_000),
        );
        if got == ok() {
            assert_eq!(holder, None, "two holders at {t} ms");
            holder = Some(client);
            acquired_at = t;
        }
        let value = s.on(client, t, Cmd::get("k"));
        assert_eq!(
            value.as_bulk().map(str::to_string),
            holder.map(|h| format!("tok{h}"))
        );
    }
}

#[test]
fn rule_9_1_02_a_contender_gets_nil_and_changes_nothing() {
    let mut s = One::new(2);
    assert_eq!(s.on(0, 0, Cmd::set("k", "A").nx().px(10_000)), ok());
    assert_eq!(s.on(1, 400, Cmd::set("k", "B").nx().px(30_000)), Reply::Nil);
    assert_eq!(s.on(1, 400, Cmd::get("k")), Reply::bulk("A"));
    assert_eq!(s.on(1, 400, Cmd::pttl("k")), Reply::Int(9600));
}

#[test]
fn rule_9_1_03_set_nx_is_not_reentrant_a_counter_is() {
    let mut s = One::new(1);
    assert_eq!(s.on(0, 0, Cmd::set("k", "A").nx().px(10_000)), ok());
    // The same client with the same token is refused: SET NX does not know its own value.
    assert_eq!(s.on(0, 1, Cmd::set("k", "A").nx().px(10_000)), Reply::Nil);
    let acq = || Cmd::eval(REENTRANT_ACQUIRE, &["r"], &["10000", "A"]);
    assert_eq!(s.on(0, 2, acq()), Reply::Nil);
    assert_eq!(s.on(0, 3, acq()), Reply::Nil);
    assert_eq!(
        s.on(0, 4, Cmd::HGet("r".into(), "A".into())),
        Reply::bulk("2")
    );
}

#[test]
fn rule_9_1_04_a_ttl_frees_a_crashed_holders_lock_no_ttl_never_does() {
    let mut s = One::new(2);
    s.on(0, 0, Cmd::set("k", "A").nx().px(5000));
    s.on(0, 0, Cmd::set("forever", "A").nx()); // redis-py's default: timeout=None
                                               // Client 0 crashes; nothing releases.
    assert_eq!(s.on(1, 4999, Cmd::set("k", "B").nx().px(5000)), Reply::Nil);
    assert_eq!(s.on(1, 5001, Cmd::set("k", "B").nx().px(5000)), ok());
    let day = 86_400_000;
    assert_eq!(s.on(1, day, Cmd::set("forever", "B").nx()), Reply::Nil);
    s.r.active_expire(at(day));
    assert_eq!(s.on(1, day, Cmd::ttl("forever")), Reply::Int(-1));
}

#[test]
fn rule_9_1_05_failover_keeps_the_service_available_and_loses_the_lock() {
    let mut rs = ReplicaSet::new(1);
    let a = rs.connect(0);
    assert_eq!(
        rs.apply(0, a, Cmd::set("k", "A").nx().px(60_000), at(0)),
        ok()
    );
    rs.cut(1);
    rs.failover(1);
    let b = rs.connect(1);
    // Available: the promoted replica accepts lock writes at once.
    assert_eq!(
        rs.apply(1, b, Cmd::set("k", "B").nx().px(60_000), at(10)),
        ok()
    );
    // But A's lock, acknowledged with OK, is gone: A and B both hold `k`.
    assert_eq!(rs.apply(1, b, Cmd::get("k"), at(11)), Reply::bulk("B"));
}

/// One run of the tutorial's scheduler on node `n`: take the 5 s lock, count the run.
fn scheduled_run(s: &mut One, n: usize, t: u64) -> bool {
    let tok = format!("node{n}");
    if s.on(n, t, Cmd::set("task_lock:job", tok).nx().ex(5)) != ok() {
        return false;
    }
    s.on(n, t, Cmd::incr("job:count"));
    true
}

#[test]
fn rule_9_1_06_one_node_runs_the_task_only_while_the_run_fits_in_the_ttl() {
    // A run of 4 s: node 1's attempt during it is refused.
    let mut s = One::new(2);
    assert!(scheduled_run(&mut s, 0, 0));
    assert!(!scheduled_run(&mut s, 1, 4500 - 600));
    // A run of 6 s (a pause or slow work): the lock expires at 5 s and node 1 runs too.
    let mut s = One::new(2);
    assert!(scheduled_run(&mut s, 0, 0));
    assert!(scheduled_run(&mut s, 1, 5500));
    assert_eq!(s.on(0, 6000, Cmd::get("job:count")), Reply::bulk("2"));
}

#[test]
fn rule_9_1_07_one_cache_updater_at_a_time() {
    let mut s = One::new(4);
    let winners: Vec<usize> = (0..4)
        .filter(|&c| {
            s.on(
                c,
                0,
                Cmd::set("lock:cache:user:1", format!("u{c}")).nx().px(2000),
            ) == ok()
        })
        .collect();
    assert_eq!(winners, vec![0]);
}

#[test]
fn rule_9_1_08_role_coordination_one_leader_and_a_token_checked_handover() {
    let mut s = One::new(2);
    assert_eq!(
        s.on(0, 0, Cmd::set("role:primary", "db1").nx().px(3000)),
        ok()
    );
    assert_eq!(
        s.on(1, 100, Cmd::set("role:primary", "db2").nx().px(3000)),
        Reply::Nil
    );
    // db1 stops renewing (it died); db2 takes the role after the TTL.
    assert_eq!(
        s.on(1, 3001, Cmd::set("role:primary", "db2").nx().px(3000)),
        ok()
    );
    // db1 comes back: its renewal is refused by the token check.
    assert_eq!(
        s.on(
            0,
            3100,
            Cmd::eval(RENEW, &["role:primary"], &["db1", "3000"])
        ),
        Reply::Int(0)
    );
    assert_eq!(s.on(0, 3100, Cmd::get("role:primary")), Reply::bulk("db2"));
}

#[test]
fn rule_9_1_09_set_nx_ex_sets_value_and_ttl_in_one_step() {
    let mut s = One::new(1);
    assert_eq!(s.on(0, 0, Cmd::set("k", "A").nx().ex(10)), ok());
    assert_eq!(s.on(0, 0, Cmd::ttl("k")), Reply::Int(10));
    // The two-step form (SETNX, then EXPIRE) with a crash between: the lock never expires.
    assert_eq!(s.on(0, 0, Cmd::set("k2", "A").nx()), ok());
    // … crash before EXPIRE …
    assert_eq!(s.on(0, 3_600_000, Cmd::ttl("k2")), Reply::Int(-1));
    assert_eq!(s.on(0, 3_600_000, Cmd::exists("k2")), Reply::Int(1));
}

#[test]
fn rule_9_1_10_release_must_compare_and_delete_in_one_step() {
    // Non-atomic: GET (mine), then the key expires and B takes it, then DEL deletes B's.
    let mut s = One::new(2);
    s.on(0, 0, Cmd::set("k", "A").nx().px(1000));
    assert_eq!(s.on(0, 990, Cmd::get("k")), Reply::bulk("A"));
    assert_eq!(s.on(1, 1001, Cmd::set("k", "B").nx().px(1000)), ok());
    assert_eq!(s.on(0, 1002, Cmd::del("k")), Reply::Int(1));
    assert_eq!(s.on(1, 1003, Cmd::exists("k")), Reply::Int(0));
    // The script does both at one instant: B's lock survives A's late release.
    let mut s = One::new(2);
    s.on(0, 0, Cmd::set("k", "A").nx().px(1000));
    assert_eq!(s.on(1, 1001, Cmd::set("k", "B").nx().px(1000)), ok());
    assert_eq!(s.on(0, 1002, Cmd::eval(CAD, &["k"], &["A"])), Reply::Int(0));
    assert_eq!(s.on(1, 1003, Cmd::get("k")), Reply::bulk("B"));
}

#[test]
fn rule_9_1_11_the_ttl_expires_the_lock_in_the_servers_wall_clock() {
    let mut s = One::new(1);
    s.on(0, 0, Cmd::set("k", "A").px(10_000));
    assert_eq!(s.on(0, 10_000, Cmd::exists("k")), Reply::Int(1));
    assert_eq!(s.on(0, 10_001, Cmd::exists("k")), Reply::Int(0));
    // A server whose wall clock jumps 8 s forward at 2 s true time expires it at 2.001 s.
    let mut s = One::new(1);
    s.on(0, 0, Cmd::set("k", "A").px(10_000));
    assert_eq!(s.on(0, 2001 + 8000, Cmd::exists("k")), Reply::Int(0));
}

#[test]
fn rule_9_1_12_a_single_key_lock_keeps_its_expiry_only_with_keepttl() {
    let mut s = One::new(1);
    s.on(0, 0, Cmd::set("k", "A").nx().px(10_000));
    s.on(0, 1, Cmd::set("k", "A:progress=50%").keepttl());
    assert_eq!(s.on(0, 1, Cmd::pttl("k")), Reply::Int(9999));
    // Rewriting the lock key without KEEPTTL makes the lock permanent.
    s.on(0, 2, Cmd::set("k", "A:progress=60%"));
    assert_eq!(s.on(0, 2, Cmd::pttl("k")), Reply::Int(-1));
}

#[test]
fn rule_9_1_13_a_counter_makes_the_lock_reentrant() {
    let mut s = One::new(2);
    let acq = |who: &str| Cmd::eval(REENTRANT_ACQUIRE, &["r"], &["10000", who]);
    let rel = |who: &str| Cmd::eval(REENTRANT_RELEASE, &["r"], &[who]);
    assert_eq!(s.on(0, 0, acq("A")), Reply::Nil);
    assert_eq!(s.on(0, 1, acq("A")), Reply::Nil);
    assert_eq!(s.on(1, 2, acq("B")), Reply::Int(9999));
    assert_eq!(s.on(0, 3, rel("A")), Reply::Int(0));
    assert_eq!(s.on(1, 4, acq("B")), Reply::Int(9997));
    assert_eq!(s.on(0, 5, rel("A")), Reply::Int(1));
    assert_eq!(s.on(1, 6, acq("B")), Reply::Nil);
}

/// Five independent instances, one connection each.
struct Five {
    nodes: Vec<Redis>,
    conns: Vec<ConnId>,
}

impl Five {
    fn new(p: Persistence) -> Five {
        let mut nodes: Vec<Redis> = (0..5).map(|_| Redis::with_persistence(p)).collect();
        let conns = nodes.iter_mut().map(Redis::connect).collect();
        Five { nodes, conns }
    }

    /// `SET k tok NX PX ttl` on the instances in `reach`, at `t`; how many said OK.
    fn lock(&mut self, reach: &[usize], tok: &str, ttl: i64, t: u64) -> usize {
        reach
            .iter()
            .filter(|&&i| {
                let c = self.conns[i];
                self.nodes[i].apply(c, Cmd::set("k", tok).nx().px(ttl), at(t)) == ok()
            })
            .count()
    }

    fn on(&mut self, i: usize, t: u64, cmd: Cmd) -> Reply {
        let c = self.conns[i];
        self.nodes[i].apply(c, cmd, at(t))
    }

    fn restart(&mut self, i: usize) {
        self.nodes[i].restart();
        self.conns[i] = self.nodes[i].connect();
    }
}

#[test]
fn rule_9_1_14_a_majority_survives_a_down_instance() {
    let mut f = Five::new(Persistence::None);
    // Instance 4 is down: 4 of 5 answer, a majority.
    assert_eq!(f.lock(&[0, 1, 2, 3], "A", 10_000, 0), 4);
    // A contender reaching all five gets at most one (the down instance, back up).
    assert_eq!(f.lock(&[0, 1, 2, 3, 4], "B", 10_000, 10), 1);
}

#[test]
fn rule_9_1_15_the_reentry_count_is_a_hash_field_and_zero_stays() {
    let mut s = One::new(1);
    assert_eq!(
        s.on(0, 0, Cmd::hincrby("lock:r:count", "A", 1)),
        Reply::Int(1)
    );
    assert_eq!(
        s.on(0, 0, Cmd::hincrby("lock:r:count", "A", -1)),
        Reply::Int(0)
    );
    // The count is 0 but the hash still exists: "exists" is not "locked".
    assert_eq!(s.on(0, 0, Cmd::exists("lock:r:count")), Reply::Int(1));
    assert_eq!(
        s.on(0, 0, Cmd::HGet("lock:r:count".into(), "A".into())),
        Reply::bulk("0")
    );
}

#[test]
fn rule_9_1_16_renewal_outlives_the_ttl_but_not_a_pause() {
    let mut s = One::new(2);
    s.on(0, 0, Cmd::set("k", "A").nx().px(3000));
    // Renew every second for 10 s of work: the lock stays A's.
    for t in (1000..=10_000).step_by(1000) {
        assert_eq!(
            s.on(0, t, Cmd::eval(RENEW, &["k"], &["A", "3000"])),
            Reply::Int(1)
        );
        assert_eq!(s.on(1, t + 1, Cmd::set("k", "B").nx().px(3000)), Reply::Nil);
    }
    // A pause of 4 s stops the renewals too: the lock expires, B takes it, A's late renewal
    // fails (token-checked) but A is still working.
    assert_eq!(s.on(1, 13_001, Cmd::set("k", "B").nx().px(3000)), ok());
    assert_eq!(
        s.on(0, 14_000, Cmd::eval(RENEW, &["k"], &["A", "3000"])),
        Reply::Int(0)
    );
}

#[test]
fn rule_9_1_17_a_restart_without_persistence_gives_two_majorities() {
    let mut f = Five::new(Persistence::None);
    assert_eq!(f.lock(&[0, 1, 2], "A", 10_000, 0), 3);
    f.restart(2); // crash and restart, no persistence: instance 2 forgot A's key
    assert_eq!(f.lock(&[2, 3, 4], "B", 10_000, 100), 3);
    // A and B both hold a majority of five.
    let holders: Vec<Reply> = (0..5).map(|i| f.on(i, 101, Cmd::get("k"))).collect();
    let a = holders.iter().filter(|r| **r == Reply::bulk("A")).count();
    let b = holders.iter().filter(|r| **r == Reply::bulk("B")).count();
    assert_eq!((a, b), (2, 3));
    // With AOF always the restarted instance still refuses B.
    let mut f = Five::new(Persistence::AofAlways);
    assert_eq!(f.lock(&[0, 1, 2], "A", 10_000, 0), 3);
    f.restart(2);
    assert_eq!(f.lock(&[2, 3, 4], "B", 10_000, 100), 2);
}

#[test]
fn rule_9_1_18_the_start_time_must_be_read_before_the_first_set() {
    let ttl = 1000u64;
    let drift = ttl / 100 + 2;
    let mut f = Five::new(Persistence::None);
    // Each SET is a 100 ms round trip (client = server clock), applied half way.
    for i in 0..5u64 {
        f.lock(&[i as usize], "A", ttl as i64, 100 * i + 50);
    }
    let t2 = 500;
    let first_left = f.on(0, t2, Cmd::pttl("k")).as_int().unwrap() as u64;
    let right = ttl - t2 - drift; // t1 = 0, read before the first SET was sent
    let wrong = ttl - (t2 - 100) - drift; // t1 = 100, read after the first reply
    assert!(right <= first_left);
    assert!(wrong > first_left, "the late start overstates the validity");
}

#[test]
fn rule_9_1_19_partial_locks_need_an_unlock_on_every_instance() {
    let mut f = Five::new(Persistence::None);
    // OK from 0 and 1; on 2 the SET was applied but its reply lost; 3 and 4 unreachable.
    assert_eq!(f.lock(&[0, 1], "A", 10_000, 0), 2);
    f.lock(&[2], "A", 10_000, 0);
    // Unlocking only where OK was seen leaves instance 2 locked.
    for i in [0, 1] {
        f.on(i, 50, Cmd::eval(CAD, &["k"], &["A"]));
    }
    assert_eq!(f.on(2, 60, Cmd::get("k")), Reply::bulk("A"));
    for i in 0..5 {
        f.on(i, 70, Cmd::eval(CAD, &["k"], &["A"]));
    }
    assert!((0..5).all(|i| f.on(i, 80, Cmd::exists("k")) == Reply::Int(0)));
}

#[test]
fn rule_9_1_20_a_majority_reached_too_late_holds_nothing() {
    let ttl = 1000;
    let mut f = Five::new(Persistence::None);
    // Slow instances: the third OK arrives 1110 ms after the start.
    assert_eq!(f.lock(&[0], "A", ttl, 10), 1);
    assert_eq!(f.lock(&[1], "A", ttl, 600), 1);
    assert_eq!(f.lock(&[2], "A", ttl, 1100), 1);
    let elapsed = 1110;
    assert!(elapsed >= ttl);
    // Counting OKs alone says "acquired", yet instance 0 is already free for B.
    assert_eq!(f.lock(&[0, 3, 4], "B", ttl, 1110), 3);
}

#[test]
fn rule_9_1_21_validity_must_stay_positive_after_elapsed_and_drift() {
    let ttl = 1000u64;
    let drift = ttl / 100 + 2;
    let mut f = Five::new(Persistence::None);
    f.lock(&[0], "A", ttl as i64, 5);
    f.lock(&[1], "A", ttl as i64, 500);
    f.lock(&[2], "A", ttl as i64, 995);
    let elapsed = 995;
    assert!(elapsed < ttl, "the elapsed check alone passes");
    let validity = ttl as i64 - elapsed as i64 - drift as i64;
    assert!(validity <= 0);
    // What is left on the first key is within the drift allowance: no safe time remains.
    let left = f.on(0, 995, Cmd::pttl("k")).as_int().unwrap();
    assert!(left <= drift as i64, "{left}");
}

#[test]
fn rule_9_1_22_a_released_lock_lets_a_second_node_run_in_the_same_interval() {
    let mut s = One::new(2);
    // Interval 30 s; node 0 runs at 0 s for 1 s and releases; node 1 wakes at 2 s.
    assert!(scheduled_run(&mut s, 0, 0));
    assert_eq!(
        s.on(0, 1000, Cmd::eval(CAD, &["task_lock:job"], &["node0"])),
        Reply::Int(1)
    );
    assert!(scheduled_run(&mut s, 1, 2000));
    assert_eq!(s.on(0, 3000, Cmd::get("job:count")), Reply::bulk("2"));
}

#[test]
fn rule_9_1_23_a_per_key_lock_stops_a_stampede_not_an_avalanche() {
    let mut s = One::new(5);
    // Breakdown: five readers miss the same hot key; one refills.
    let refillers = (0..5)
        .filter(|&c| s.on(c, 0, Cmd::set("lock:hot", format!("r{c}")).nx().px(2000)) == ok())
        .count();
    assert_eq!(refillers, 1);
    // Avalanche: five different keys expired together; every reader gets its own lock and
    // every one goes to the database.
    let refillers = (0..5)
        .filter(|&c| s.on(c, 1, Cmd::set(format!("lock:k{c}"), "r").nx().px(2000)) == ok())
        .count();
    assert_eq!(refillers, 5);
}

#[test]
fn rule_9_1_24_a_refill_paused_past_the_lock_ttl_writes_a_stale_value() {
    let mut s = One::new(2);
    let mut db = "v1";
    // Refiller 0 takes the lock and reads the database.
    assert_eq!(s.on(0, 0, Cmd::set("lock:c", "R").nx().px(2000)), ok());
    let read = db;
    // … paused 3 s. The invalidator takes the lock (expired), updates the database, drops
    // the cache and releases.
    assert_eq!(s.on(1, 2001, Cmd::set("lock:c", "I").nx().px(2000)), ok());
    db = "v2";
    s.on(1, 2002, Cmd::del("c"));
    s.on(1, 2003, Cmd::eval(CAD, &["lock:c"], &["I"]));
    // The refiller resumes and writes what it read.
    s.on(0, 3000, Cmd::set("c", read).ex(60));
    assert_eq!(s.on(0, 3001, Cmd::get("c")), Reply::bulk("v1"));
    assert_ne!(Some(db), s.on(0, 3001, Cmd::get("c")).as_bulk());
}

#[test]
fn rule_9_1_26_a_ttl_shorter_than_the_work_admits_a_second_holder() {
    for (ttl, work, overlap) in [(5000, 4000, false), (5000, 6000, true)] {
        let mut s = One::new(2);
        s.on(0, 0, Cmd::set("k", "A").nx().px(ttl));
        let mut b_in = false;
        for t in (100..work).step_by(100) {
            b_in |= s.on(1, t, Cmd::set("k", "B").nx().px(ttl)) == ok();
        }
        assert_eq!(b_in, overlap, "ttl {ttl} work {work}");
    }
}

#[test]
fn rule_9_1_27_a_retry_after_a_lost_reply_must_check_the_value() {
    let mut s = One::new(2);
    // The first SET was applied; its reply was lost.
    s.on(0, 0, Cmd::set("k", "A1").nx().px(10_000));
    // A retry with the same token is refused: SET NX does not know its own value.
    assert_eq!(
        s.on(0, 300, Cmd::set("k", "A1").nx().px(10_000)),
        Reply::Nil
    );
    assert_eq!(s.on(0, 301, Cmd::get("k")), Reply::bulk("A1"));
    // A retry with a fresh token (redis-py makes one per acquire call) fails too, and the
    // first token's lock is orphaned until its TTL.
    assert_eq!(
        s.on(0, 400, Cmd::set("k", "A2").nx().px(10_000)),
        Reply::Nil
    );
    assert_eq!(
        s.on(1, 9999, Cmd::set("k", "B").nx().px(10_000)),
        Reply::Nil
    );
    assert_eq!(s.on(1, 10_001, Cmd::set("k", "B").nx().px(10_000)), ok());
}

#[test]
fn rule_9_1_29_replication_does_not_keep_an_acknowledged_lock() {
    let mut rs = ReplicaSet::new(2);
    let a = rs.connect(0);
    assert_eq!(
        rs.apply(0, a, Cmd::set("k", "A").nx().px(60_000), at(0)),
        ok()
    );
    // Even WAIT 1 confirming one replica does not make it durable.
    rs.deliver(1, usize::MAX);
    let wait = Cmd::Wait {
        numreplicas: 1,
        timeout_ms: 100,
    };
    assert_eq!(rs.apply(0, a, wait, at(1)), Reply::Int(1));
    rs.cut(2);
    rs.failover(2); // the replica without the write is promoted
    let b = rs.connect(2);
    assert_eq!(rs.apply(2, b, Cmd::get("k"), at(5)), Reply::Nil);
    assert_eq!(
        rs.apply(2, b, Cmd::set("k", "B").nx().px(60_000), at(6)),
        ok()
    );
}

#[test]
fn rule_9_1_30_automatic_failover_reopens_writes_and_regresses_counters() {
    let mut rs = ReplicaSet::new(1);
    let a = rs.connect(0);
    assert_eq!(rs.apply(0, a, Cmd::incr("fence"), at(0)), Reply::Int(1));
    rs.deliver_all();
    assert_eq!(rs.apply(0, a, Cmd::incr("fence"), at(1)), Reply::Int(2));
    rs.cut(1);
    rs.failover(1);
    let b = rs.connect(1);
    // The promoted replica serves writes again, and hands out token 2 a second time.
    assert_eq!(rs.apply(1, b, Cmd::incr("fence"), at(2)), Reply::Int(2));
    // The old master's clients now get READONLY.
    let a2 = rs.connect(0);
    assert_eq!(
        rs.apply(0, a2, Cmd::incr("fence"), at(3)),
        Reply::Error(RedisError::ReadOnly)
    );
}

//! DISTRIBUTED.md §9 Redis checks 1–32, run against the Redis twin.
//!
//! Times are explicit: the server's wall clock starts at a realistic Unix time and "wait
//! t" is a later `ServerClock`. Keys are written without the suite's `ref:` prefix.

use lockproof_services::redis::{
    Cmd, ConnId, ExpireCond, IntArg, Lua, Persistence, Redis, RedisError, ReplicaSet, Reply,
    Script, ScriptCtx,
};

#[path = "support/redis.rs"]
mod support;

use support::at;

fn ok() -> Reply {
    Reply::ok()
}

fn bulk(s: &str) -> Reply {
    Reply::bulk(s)
}

fn err(e: RedisError) -> Reply {
    Reply::Error(e)
}

/// One server and one connection, applying everything at one clock unless told.
struct Conn {
    r: Redis,
    c: ConnId,
}

impl Conn {
    fn new() -> Conn {
        let mut r = Redis::new();
        let c = r.connect();
        Conn { r, c }
    }

    fn at(&mut self, ms: u64, cmd: Cmd) -> Reply {
        self.r.apply(self.c, cmd, at(ms))
    }

    fn run(&mut self, cmd: Cmd) -> Reply {
        self.at(0, cmd)
    }
}

type ScriptResult = Result<Lua, RedisError>;

/// `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`
fn cad_body(ctx: &mut ScriptCtx<'_>, keys: &[String], args: &[String]) -> ScriptResult {
    if ctx.call(Cmd::get(&keys[0]))? == Lua::str(&args[0]) {
        ctx.call(Cmd::del(&keys[0]))
    } else {
        Ok(Lua::int(0))
    }
}

const CAD: Script = Script::new(
    "compare-and-delete",
    "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end",
    cad_body,
);

#[test]
fn check_01_set_nx_px_then_contender_gets_nil() {
    let mut s = Conn::new();
    assert_eq!(s.run(Cmd::set("k", "t1").nx().px(10_000)), ok());
    assert_eq!(s.at(1, Cmd::set("k", "t2").nx().px(10_000)), Reply::Nil);
    assert_eq!(s.at(2, Cmd::get("k")), bulk("t1"));
    let pttl = s.at(3, Cmd::pttl("k")).as_int().unwrap();
    assert!(9000 < pttl && pttl <= 10_000, "PTTL {pttl}");
}

#[test]
fn check_02_absent_key_ttl_expire_and_xx() {
    let mut s = Conn::new();
    assert_eq!(s.run(Cmd::ttl("k")), Reply::Int(-2));
    assert_eq!(s.run(Cmd::pttl("k")), Reply::Int(-2));
    assert_eq!(s.run(Cmd::pexpire("k", 100)), Reply::Int(0));
    assert_eq!(s.run(Cmd::expire("k", 1)), Reply::Int(0));
    assert_eq!(s.run(Cmd::set("k", "v").xx()), Reply::Nil);
    assert_eq!(s.run(Cmd::exists("k")), Reply::Int(0));
    assert_eq!(s.run(Cmd::set("k", "v")), ok());
    assert_eq!(s.run(Cmd::ttl("k")), Reply::Int(-1));
    assert_eq!(s.run(Cmd::set("k", "w").xx()), ok());
}

#[test]
fn check_03_set_argument_errors_set_nothing() {
    let mut s = Conn::new();
    let invalid = err(RedisError::InvalidExpire("set"));
    assert_eq!(s.run(Cmd::set("k", "v").ex(0)), invalid);
    assert_eq!(s.run(Cmd::set("k", "v").ex(-1)), invalid);
    assert_eq!(s.run(Cmd::set("k", "v").px(0)), invalid);
    assert_eq!(
        invalid.to_string(),
        "(error) ERR invalid expire time in 'set' command"
    );
    let not_int = s.run(Cmd::set("k", "v").ex(IntArg::Text("1.5".into())));
    assert_eq!(
        not_int.to_string(),
        "(error) ERR value is not an integer or out of range"
    );
    let syntax = s.run(Cmd::set("k", "v").nx().xx());
    assert_eq!(syntax.to_string(), "(error) ERR syntax error");
    assert_eq!(
        s.run(Cmd::set("k", "v").ex(1).px(100)),
        err(RedisError::Syntax)
    );
    assert_eq!(s.run(Cmd::exists("k")), Reply::Int(0));
}

#[test]
fn check_04_keepttl_keeps_and_plain_set_removes_the_ttl() {
    let mut s = Conn::new();
    s.run(Cmd::set("k", "v").ex(100));
    assert_eq!(s.run(Cmd::set("k", "w").keepttl()), ok());
    assert_eq!(s.run(Cmd::ttl("k")), Reply::Int(100));
    assert_eq!(s.run(Cmd::set("k", "x")), ok());
    assert_eq!(s.run(Cmd::ttl("k")), Reply::Int(-1));
}

#[test]
fn check_05_set_nx_get_returns_old_value() {
    let mut s = Conn::new();
    s.run(Cmd::set("k", "v2"));
    assert_eq!(s.run(Cmd::set("k", "v3").nx().get_old()), bulk("v2"));
    assert_eq!(s.run(Cmd::get("k")), bulk("v2"));
    assert_eq!(s.run(Cmd::set("j", "v").nx().get_old()), Reply::Nil);
    assert_eq!(s.run(Cmd::get("j")), bulk("v"));
}

#[test]
fn check_06_del_counts_and_exists_counts_repeats() {
    let mut s = Conn::new();
    s.run(Cmd::set("k", "v"));
    assert_eq!(s.run(Cmd::del("k")), Reply::Int(1));
    assert_eq!(s.run(Cmd::del("k")), Reply::Int(0));
    s.run(Cmd::set("k", "v"));
    let keys = vec!["k".to_string(), "k".to_string(), "j".to_string()];
    assert_eq!(s.run(Cmd::Exists(keys)), Reply::Int(2));
}

#[test]
fn check_07_expire_zero_or_negative_deletes() {
    let mut s = Conn::new();
    s.run(Cmd::set("k", "v"));
    assert_eq!(s.run(Cmd::expire("k", 0)), Reply::Int(1));
    assert_eq!(s.run(Cmd::exists("k")), Reply::Int(0));
    s.run(Cmd::set("k", "v"));
    assert_eq!(s.run(Cmd::pexpire("k", -5)), Reply::Int(1));
    assert_eq!(s.run(Cmd::exists("k")), Reply::Int(0));
}

#[test]
fn check_08_expire_conditions_and_persist() {
    let mut s = Conn::new();
    s.run(Cmd::set("k", "v").ex(100));
    assert_eq!(
        s.run(Cmd::expire("k", 100).cond(ExpireCond::Nx)),
        Reply::Int(0)
    );
    assert_eq!(
        s.run(Cmd::expire("k", 50).cond(ExpireCond::Gt)),
        Reply::Int(0)
    );
    assert_eq!(
        s.run(Cmd::expire("k", 500).cond(ExpireCond::Gt)),
        Reply::Int(1)
    );
    assert_eq!(s.run(Cmd::ttl("k")), Reply::Int(500));
    assert_eq!(s.run(Cmd::Persist("k".into())), Reply::Int(1));
    assert_eq!(s.run(Cmd::Persist("k".into())), Reply::Int(0));
}

#[test]
fn check_09_incr_counts_and_refuses_a_non_integer() {
    let mut s = Conn::new();
    assert_eq!(s.run(Cmd::incr("c")), Reply::Int(1));
    assert_eq!(s.run(Cmd::incr("c")), Reply::Int(2));
    s.run(Cmd::set("s", "abc"));
    assert_eq!(
        s.run(Cmd::incr("s")).to_string(),
        "(error) ERR value is not an integer or out of range"
    );
}

#[test]
fn check_10_hincrby_to_zero_keeps_the_field() {
    let mut s = Conn::new();
    assert_eq!(s.run(Cmd::hincrby("h", "f", 1)), Reply::Int(1));
    assert_eq!(s.run(Cmd::hincrby("h", "f", -1)), Reply::Int(0));
    assert_eq!(s.run(Cmd::HGet("h".into(), "f".into())), bulk("0"));
    assert_eq!(s.run(Cmd::HLen("h".into())), Reply::Int(1));
    assert_eq!(s.run(Cmd::exists("h")), Reply::Int(1));
}

#[test]
fn check_11_hincrby_keeps_the_ttl() {
    let mut s = Conn::new();
    s.at(0, Cmd::hincrby("h", "f", 1));
    s.at(0, Cmd::pexpire("h", 5000));
    assert_eq!(s.at(20, Cmd::hincrby("h", "f", 1)), Reply::Int(2));
    let pttl = s.at(30, Cmd::pttl("h")).as_int().unwrap();
    assert!(4900 < pttl && pttl <= 5000, "PTTL {pttl}");
}

#[test]
fn check_12_an_expired_key_is_never_returned() {
    let mut s = Conn::new();
    s.at(0, Cmd::set("k", "v").px(50));
    assert_eq!(s.at(100, Cmd::get("k")), Reply::Nil);
    assert_eq!(s.at(100, Cmd::exists("k")), Reply::Int(0));
    assert_eq!(s.at(100, Cmd::ttl("k")), Reply::Int(-2));
}

#[test]
fn check_13_pexpiretime_is_the_wall_clock_deadline() {
    let mut s = Conn::new();
    s.at(7, Cmd::set("k", "v").px(60_000));
    let t = s.at(8, Cmd::PExpireTime("k".into())).as_int().unwrap();
    let expected = at(7).wall_ms() + 60_000;
    assert!((t - expected).abs() <= 5, "{t} vs {expected}");
    assert_eq!(s.run(Cmd::PExpireTime("absent".into())), Reply::Int(-2));
    s.run(Cmd::set("p", "v"));
    assert_eq!(s.run(Cmd::PExpireTime("p".into())), Reply::Int(-1));
}

#[test]
fn check_14_compare_and_delete_script() {
    let mut s = Conn::new();
    s.run(Cmd::set("k", "tokA").px(30_000));
    assert_eq!(s.run(Cmd::eval(CAD, &["k"], &["tokB"])), Reply::Int(0));
    assert_eq!(s.run(Cmd::exists("k")), Reply::Int(1));
    assert_eq!(s.run(Cmd::eval(CAD, &["k"], &["tokA"])), Reply::Int(1));
    assert_eq!(s.run(Cmd::exists("k")), Reply::Int(0));
}

#[test]
fn check_15_lua_conversions() {
    const GET: Script = Script::new("get", "return redis.call('get', KEYS[1])", |ctx, k, _| {
        ctx.call(Cmd::get(&k[0]))
    });
    const TYPE: Script = Script::new(
        "type-of-get",
        "return type(redis.call('get', KEYS[1]))",
        |ctx, k, _| Ok(Lua::str(ctx.call(Cmd::get(&k[0]))?.type_name())),
    );
    const TRUE: Script = Script::new("true", "return true", |_, _, _| Ok(Lua::Bool(true)));
    const FALSE: Script = Script::new("false", "return false", |_, _, _| Ok(Lua::Bool(false)));
    const FLOAT: Script = Script::new("3.9", "return 3.9", |_, _, _| Ok(Lua::Number(3.9)));
    const HOLE: Script = Script::new("hole", "return {1,2,nil,4}", |_, _, _| {
        Ok(Lua::Table(vec![
            Lua::int(1),
            Lua::int(2),
            Lua::Nil,
            Lua::int(4),
        ]))
    });
    let mut s = Conn::new();
    assert_eq!(s.run(Cmd::eval(GET, &["k"], &[])), Reply::Nil);
    assert_eq!(s.run(Cmd::eval(TYPE, &["k"], &[])), bulk("boolean"));
    assert_eq!(s.run(Cmd::eval(TRUE, &[], &[])), Reply::Int(1));
    assert_eq!(s.run(Cmd::eval(FALSE, &[], &[])), Reply::Nil);
    assert_eq!(s.run(Cmd::eval(FLOAT, &[], &[])), Reply::Int(3));
    assert_eq!(
        s.run(Cmd::eval(HOLE, &[], &[])),
        Reply::Array(vec![Reply::Int(1), Reply::Int(2)])
    );
}

#[test]
fn check_16_a_failing_script_keeps_its_writes() {
    const SET_THEN_INCR: Script = Script::new(
        "set-then-incr",
        "redis.call('set', 'a', 'x'); return redis.call('incr', 's')",
        |ctx, _, _| {
            ctx.call(Cmd::set("a", "x"))?;
            ctx.call(Cmd::incr("s"))
        },
    );
    let mut s = Conn::new();
    s.run(Cmd::set("s", "abc"));
    let r = s.run(Cmd::eval(SET_THEN_INCR, &[], &[]));
    assert_eq!(r, err(RedisError::NotInteger));
    assert_eq!(s.run(Cmd::get("a")), bulk("x"));
}

#[test]
fn check_17_set_status_is_a_table_with_ok_and_nil_is_false() {
    // local r = redis.call('set', KEYS[1], 'a', 'NX', 'PX', 1000); return {type(r), r and r.ok or false}
    const SEE: Script = Script::new(
        "see-set-reply",
        "local r = redis.call('set', KEYS[1], 'a', 'NX', 'PX', 1000) return {type(r), r and r['ok'] or false}",
        |ctx, k, _| {
            let r = ctx.call(Cmd::set(&k[0], "a").nx().px(1000))?;
            let ok = match &r {
                Lua::Status(s) => Lua::Str(s.clone()),
                _ => Lua::Bool(false),
            };
            Ok(Lua::Table(vec![Lua::str(r.type_name()), ok]))
        },
    );
    let mut s = Conn::new();
    assert_eq!(
        s.run(Cmd::eval(SEE, &["k"], &[])),
        Reply::Array(vec![bulk("table"), bulk("OK")])
    );
    assert_eq!(
        s.run(Cmd::eval(SEE, &["k"], &[])),
        Reply::Array(vec![bulk("boolean"), Reply::Nil])
    );
}

fn time_us(ctx: &mut ScriptCtx<'_>) -> Result<i64, RedisError> {
    match ctx.call(Cmd::Time)? {
        Lua::Table(t) => Ok(t[0].as_int().unwrap() * 1_000_000 + t[1].as_int().unwrap()),
        other => panic!("TIME gave {other:?}"),
    }
}

#[test]
fn check_18_time_moves_in_a_script_but_expiry_is_frozen() {
    // EXISTS, busy-wait until TIME moved 80 ms, EXISTS, PTTL, elapsed µs
    const BUSY: Script = Script::new(
        "busy-80ms",
        "local a = redis.call('exists', KEYS[1]) local t0 = redis.call('time') repeat local t = redis.call('time') until (t[1]-t0[1])*1000000 + (t[2]-t0[2]) >= 80000 local b = redis.call('exists', KEYS[1]) return {a, b, redis.call('pttl', KEYS[1]), elapsed}",
        |ctx, k, _| {
            let a = ctx.call(Cmd::exists(&k[0]))?;
            let t0 = time_us(ctx)?;
            while time_us(ctx)? - t0 < 80_000 {
                ctx.spin(1_000_000);
            }
            let b = ctx.call(Cmd::exists(&k[0]))?;
            let pttl = ctx.call(Cmd::pttl(&k[0]))?;
            let elapsed = time_us(ctx)? - t0;
            Ok(Lua::Table(vec![a, b, pttl, Lua::int(elapsed)]))
        },
    );
    let mut s = Conn::new();
    s.at(0, Cmd::set("k", "v").px(30));
    let r = s.at(1, Cmd::eval(BUSY, &["k"], &[]));
    let Reply::Array(items) = r else {
        panic!("{r}")
    };
    assert_eq!(&items[..3], &[Reply::Int(1), Reply::Int(1), Reply::Int(0)]);
    assert!(items[3].as_int().unwrap() >= 80_000);
    let busy_ms = s.r.busy_ns() / 1_000_000;
    assert!(busy_ms >= 80);
    assert_eq!(s.at(1 + busy_ms, Cmd::exists("k")), Reply::Int(0));
}

const SEVEN: Script = Script::new("seven", "return 7", |_, _, _| Ok(Lua::int(7)));

#[test]
fn check_19_evalsha_and_script_load() {
    let mut s = Conn::new();
    let unknown = "ffffffffffffffffffffffffffffffffffffffff";
    assert_eq!(
        s.run(Cmd::evalsha(unknown, &[], &[])).to_string(),
        "(error) NOSCRIPT No matching script. Please use EVAL."
    );
    let sha = "59b6ab2fbe0ee4b25733de0f62e6cda4899ef8e9";
    assert_eq!(s.run(Cmd::ScriptLoad(SEVEN)), bulk(sha));
    assert_eq!(s.run(Cmd::evalsha(sha, &[], &[])), Reply::Int(7));
    assert_eq!(
        s.run(Cmd::ScriptExists(vec![sha.into()])),
        Reply::Array(vec![Reply::Int(1)])
    );
}

#[test]
fn check_20_restart_empties_the_script_cache() {
    let mut s = Conn::new();
    let sha = s.run(Cmd::ScriptLoad(SEVEN)).as_bulk().unwrap().to_string();
    assert_eq!(s.run(Cmd::evalsha(&sha, &[], &[])), Reply::Int(7));
    s.r.restart();
    s.c = s.r.connect();
    assert_eq!(
        s.at(1000, Cmd::evalsha(&sha, &[], &[])),
        err(RedisError::NoScript)
    );
}

#[test]
fn check_21_watch_is_broken_by_a_same_value_write_and_by_expiry() {
    let mut r = Redis::new();
    let a = r.connect();
    let b = r.connect();
    r.apply(a, Cmd::set("k", "same"), at(0));
    assert_eq!(r.apply(a, Cmd::Watch(vec!["k".into()]), at(1)), ok());
    assert_eq!(r.apply(b, Cmd::set("k", "same"), at(2)), ok());
    assert_eq!(r.apply(a, Cmd::Multi, at(3)), ok());
    assert_eq!(
        r.apply(a, Cmd::set("k", "mine"), at(3)),
        Reply::Status("QUEUED".into())
    );
    assert_eq!(r.apply(a, Cmd::Exec, at(4)), Reply::Nil);
    assert_eq!(r.apply(a, Cmd::get("k"), at(5)), bulk("same"));

    // Again: the watched key expires instead of being written.
    r.apply(a, Cmd::set("k", "v").px(50), at(10));
    r.apply(a, Cmd::Watch(vec!["k".into()]), at(11));
    r.apply(a, Cmd::Multi, at(12));
    r.apply(a, Cmd::set("k", "mine"), at(12));
    assert_eq!(r.apply(a, Cmd::Exec, at(132)), Reply::Nil);
    assert_eq!(r.apply(a, Cmd::get("k"), at(133)), Reply::Nil);
}

#[test]
fn check_22_exec_does_not_roll_back() {
    let mut s = Conn::new();
    s.run(Cmd::set("s", "abc"));
    assert_eq!(s.run(Cmd::Multi), ok());
    s.run(Cmd::set("m1", "1"));
    s.run(Cmd::incr("s"));
    s.run(Cmd::set("m2", "2"));
    assert_eq!(
        s.run(Cmd::Exec),
        Reply::Array(vec![ok(), err(RedisError::NotInteger), ok()])
    );
    assert_eq!(s.run(Cmd::get("m1")), bulk("1"));
    assert_eq!(s.run(Cmd::get("m2")), bulk("2"));
}

#[test]
fn check_23_a_request_applied_after_its_client_gave_up() {
    const BUSY: Script = Script::new(
        "busy-1500ms",
        "local t0 = redis.call('time') repeat local t = redis.call('time') until t[1] - t0[1] >= 2",
        |ctx, _, _| {
            ctx.spin(1_500_000_000);
            Ok(Lua::Nil)
        },
    );
    let mut r = Redis::new();
    let a = r.connect();
    let b = r.connect();
    r.apply(a, Cmd::eval(BUSY, &[], &[]), at(0));
    let busy_ms = r.busy_ns() / 1_000_000;
    assert_eq!(busy_ms, 1500);
    // B sent its SET at 100 ms, gave up at 400 ms and closed; the server reads it when the
    // script is over and applies it then, for nobody.
    let applied_at = busy_ms;
    assert_eq!(
        r.apply(b, Cmd::set("k", "x").nx().px(60_000), at(applied_at)),
        ok()
    );
    r.close(b);
    let c = r.connect();
    assert_eq!(r.apply(c, Cmd::get("k"), at(applied_at + 1)), bulk("x"));
    let pttl = r
        .apply(c, Cmd::pttl("k"), at(applied_at + 1))
        .as_int()
        .unwrap();
    assert!((59_900..=60_000).contains(&pttl), "PTTL {pttl}");
}

#[test]
fn check_24_wait_counts_a_synced_replica_and_replicas_are_read_only() {
    let mut rs = ReplicaSet::new(1);
    let c = rs.connect(0);
    assert_eq!(
        rs.apply(0, c, Cmd::set("k", "v").nx().px(60_000), at(0)),
        ok()
    );
    let wait = Cmd::Wait {
        numreplicas: 1,
        timeout_ms: 500,
    };
    // The replica acknowledges when the effect is delivered; WAIT then returns 1.
    assert_eq!(rs.apply(0, c, wait.clone(), at(1)), Reply::Blocked);
    assert_eq!(rs.deliver(1, usize::MAX), 1);
    assert_eq!(rs.node(0).wait_count(c), 1);
    assert_eq!(rs.apply(0, c, wait, at(2)), Reply::Int(1));
    let rc = rs.connect(1);
    assert_eq!(rs.apply(1, rc, Cmd::get("k"), at(3)), bulk("v"));
    assert_eq!(
        rs.apply(1, rc, Cmd::set("x", "1"), at(3)).to_string(),
        "(error) READONLY You can't write against a read only replica."
    );
}

#[test]
fn check_25_wait_is_per_connection_and_never_a_rollback() {
    let mut rs = ReplicaSet::new(1);
    let c = rs.connect(0);
    // The replica is paused: its queue is held.
    assert_eq!(
        rs.apply(0, c, Cmd::set("k2", "v").nx().px(60_000), at(0)),
        ok()
    );
    let wait = Cmd::Wait {
        numreplicas: 1,
        timeout_ms: 300,
    };
    assert_eq!(rs.apply(0, c, wait.clone(), at(1)), Reply::Blocked);
    // At the timeout, 300 ms later, WAIT replies with the count so far.
    assert_eq!(rs.pending(1), 1);
    assert_eq!(rs.node(0).wait_count(c), 0);
    assert_eq!(rs.apply(0, c, Cmd::get("k2"), at(301)), bulk("v"));
    let fresh = rs.connect(0);
    assert_eq!(rs.apply(0, fresh, wait, at(302)), Reply::Int(1));
    let mut standalone = Redis::new();
    let s = standalone.connect();
    let wait0 = Cmd::Wait {
        numreplicas: 0,
        timeout_ms: 100,
    };
    assert_eq!(standalone.apply(s, wait0, at(0)), Reply::Int(0));
}

#[test]
fn check_26_restart_without_persistence_loses_every_key() {
    let mut s = Conn::new();
    s.run(Cmd::set("k", "v").px(60_000));
    s.r.restart();
    s.c = s.r.connect();
    assert_eq!(s.at(500, Cmd::exists("k")), Reply::Int(0));
}

#[test]
fn check_27_aof_always_keeps_keys_and_downtime_counts() {
    let mut r = Redis::with_persistence(Persistence::AofAlways);
    let c = r.connect();
    r.apply(c, Cmd::set("p", "v").px(1500), at(0));
    r.apply(c, Cmd::set("q", "v").px(60_000), at(0));
    // kill -9 at 10 ms, down 2 s, serving again at 2 510 ms (start-up takes a while).
    r.restart();
    let c = r.connect();
    assert_eq!(r.apply(c, Cmd::exists("p"), at(2510)), Reply::Int(0));
    let pttl = r.apply(c, Cmd::pttl("q"), at(2510)).as_int().unwrap();
    assert!(
        (57_500 - 5750..=57_500 + 5750).contains(&pttl),
        "PTTL {pttl}"
    );
    assert_eq!(pttl, 60_000 - 2510);
}

#[test]
fn check_28_failover_to_a_replica_without_the_write_loses_the_lock() {
    let mut rs = ReplicaSet::new(1);
    let a = rs.connect(0);
    assert_eq!(
        rs.apply(0, a, Cmd::set("k", "t1").nx().px(60_000), at(0)),
        ok()
    );
    assert_eq!(rs.pending(1), 1);
    rs.cut(1);
    rs.failover(1);
    assert_eq!(rs.master(), 1);
    let b = rs.connect(1);
    assert_eq!(rs.apply(1, b, Cmd::get("k"), at(10)), Reply::Nil);
    assert_eq!(
        rs.apply(1, b, Cmd::set("k", "t2").nx().px(60_000), at(11)),
        ok()
    );
    // The old master, now a replica, refuses writes and has been resynced.
    let old = rs.connect(0);
    assert_eq!(
        rs.apply(0, old, Cmd::set("k", "t1"), at(12)),
        err(RedisError::ReadOnly)
    );
}

#[test]
fn check_29_server_clock_jumps_move_expiry() {
    let mut s = Conn::new();
    s.at(0, Cmd::set("k", "v").px(30_000));
    // +60 s jump: the next command, 1 ms of true time later, finds the key gone.
    assert_eq!(s.at(60_001, Cmd::exists("k")), Reply::Int(0));

    let mut s = Conn::new();
    s.at(60_000, Cmd::set("k", "v").px(30_000));
    let before = s.at(60_000, Cmd::pttl("k")).as_int().unwrap();
    // −60 s jump: the wall clock reads 60 s earlier, so PTTL grows by 60 000.
    let after = s.at(0, Cmd::pttl("k")).as_int().unwrap();
    assert_eq!(after - before, 60_000);
}

/// redis-py 8.2's release script: compare-and-delete (1 or 0).
const PY_RELEASE: Script = CAD;

/// redis-py 8.2's extend script: token-checked, adds to the PTTL or replaces it.
fn py_extend_body(ctx: &mut ScriptCtx<'_>, k: &[String], a: &[String]) -> ScriptResult {
    if ctx.call(Cmd::get(&k[0]))? != Lua::str(&a[0]) {
        return Ok(Lua::int(0));
    }
    let pttl = ctx.call(Cmd::pttl(&k[0]))?.as_int().unwrap_or(0);
    if pttl < 0 {
        return Ok(Lua::int(0));
    }
    let add = a[1].parse::<i64>().unwrap();
    let new = if a[2] == "0" { add + pttl } else { add };
    ctx.call(Cmd::pexpire(&k[0], new))?;
    Ok(Lua::int(1))
}

const PY_EXTEND: Script = Script::new(
    "redis-py-extend",
    "local token = redis.call('get', KEYS[1]) if not token or token ~= ARGV[1] then return 0 end local expiration = redis.call('pttl', KEYS[1]) if not expiration then expiration = 0 end if expiration < 0 then return 0 end local newttl = ARGV[2] if ARGV[3] == \"0\" then newttl = ARGV[2] + expiration end redis.call('pexpire', KEYS[1], newttl) return 1",
    py_extend_body,
);

/// redis-py 8.2's reacquire script: token-checked `PEXPIRE` to the full timeout.
const PY_REACQUIRE: Script = Script::new(
    "redis-py-reacquire",
    "if redis.call('get', KEYS[1]) ~= ARGV[1] then return 0 end redis.call('pexpire', KEYS[1], ARGV[2]) return 1",
    |ctx, k, a| {
        if ctx.call(Cmd::get(&k[0]))? != Lua::str(&a[0]) {
            return Ok(Lua::int(0));
        }
        ctx.call(Cmd::pexpire(&k[0], a[1].parse().unwrap()))?;
        Ok(Lua::int(1))
    },
);

// check 30: the Python exceptions (`LockNotOwnedError`) are redis-py's; here the commands
// redis-py sends (§1.7) and the server's replies it maps to them.
#[test]
fn check_30_redis_py_lock_protocol_expiry_and_stale_release() {
    let mut r = Redis::new();
    let a = r.connect();
    let b = r.connect();
    assert_eq!(r.apply(a, Cmd::set("k", "tokA").nx().px(200), at(0)), ok());
    assert_eq!(
        r.apply(b, Cmd::set("k", "tokB").nx().px(5000), at(1)),
        Reply::Nil
    );
    assert_eq!(
        r.apply(b, Cmd::set("k", "tokB").nx().px(5000), at(251)),
        ok()
    );
    // release() → 0 → LockNotOwnedError in redis-py.
    assert_eq!(
        r.apply(a, Cmd::eval(PY_RELEASE, &["k"], &["tokA"]), at(252)),
        Reply::Int(0)
    );
    assert_eq!(r.apply(a, Cmd::get("k"), at(253)), bulk("tokB"));
}

// check 31: `acquire(blocking_timeout=0.05)` giving up before its first sleep and
// `LockError('Cannot extend a lock with no timeout')` are decided in redis-py without a
// server round trip; here the server side of extend / replace_ttl / reacquire.
#[test]
fn check_31_redis_py_extend_replace_and_reacquire_scripts() {
    let mut s = Conn::new();
    s.at(0, Cmd::set("k", "tokB").nx().px(5000));
    let tok = "tokB";
    assert_eq!(
        s.at(1, Cmd::eval(PY_EXTEND, &["k"], &[tok, "10000", "0"])),
        Reply::Int(1)
    );
    let pttl = s.at(2, Cmd::pttl("k")).as_int().unwrap();
    assert!((14_900..=15_000).contains(&pttl), "PTTL {pttl}");
    assert_eq!(
        s.at(3, Cmd::eval(PY_EXTEND, &["k"], &[tok, "3000", "1"])),
        Reply::Int(1)
    );
    assert_eq!(s.at(3, Cmd::pttl("k")), Reply::Int(3000));
    assert_eq!(
        s.at(4, Cmd::eval(PY_REACQUIRE, &["k"], &[tok, "5000"])),
        Reply::Int(1)
    );
    assert_eq!(s.at(4, Cmd::pttl("k")), Reply::Int(5000));
    // A stale token extends nothing (LockNotOwnedError in redis-py).
    assert_eq!(
        s.at(5, Cmd::eval(PY_EXTEND, &["k"], &["tokA", "10000", "0"])),
        Reply::Int(0)
    );
    assert_eq!(s.at(5, Cmd::pttl("k")), Reply::Int(4999));
}

// check 32: the validity arithmetic is the client's; here five twins, a client clock, and
// the claim that the validity it computes ends before any of its keys expires.
#[test]
fn check_32_redlock_majority_validity_and_unlock_all() {
    let ttl = 10_000u64;
    let drift = ttl / 100 + 2;
    let mut nodes: Vec<Redis> = (0..5).map(|_| Redis::new()).collect();
    let conns: Vec<ConnId> = nodes.iter_mut().map(Redis::connect).collect();
    // Client clock = server clocks here; each SET takes 10 ms; two instances are
    // unreachable (their requests are never delivered).
    let t1 = 0u64;
    let mut oks = 0;
    let mut now = t1;
    for (i, (n, c)) in nodes.iter_mut().zip(&conns).enumerate() {
        now += 10;
        if i < 3 && n.apply(*c, Cmd::set("k", "tok").nx().px(ttl as i64), at(now)) == ok() {
            oks += 1;
        }
    }
    let elapsed = now - t1;
    assert_eq!(oks, 3);
    let validity = ttl - elapsed - drift;
    assert_eq!(validity, 10_000 - 50 - 102);
    for (n, c) in nodes.iter_mut().zip(&conns).take(3) {
        let pttl = n.apply(*c, Cmd::pttl("k"), at(now)).as_int().unwrap() as u64;
        assert!(pttl >= validity, "a key expires before the validity ends");
    }

    // Only two answer OK: not acquired; unlock-all reaches all five.
    let mut nodes: Vec<Redis> = (0..5).map(|_| Redis::new()).collect();
    let conns: Vec<ConnId> = nodes.iter_mut().map(Redis::connect).collect();
    let oks = nodes
        .iter_mut()
        .zip(&conns)
        .take(2)
        .map(|(n, c)| n.apply(*c, Cmd::set("k", "tok").nx().px(ttl as i64), at(0)))
        .filter(|r| *r == ok())
        .count();
    assert!(oks < 3);
    for (n, c) in nodes.iter_mut().zip(&conns) {
        n.apply(*c, Cmd::eval(CAD, &["k"], &["tok"]), at(100));
    }
    for (n, c) in nodes.iter_mut().zip(&conns) {
        assert_eq!(n.apply(*c, Cmd::exists("k"), at(101)), Reply::Int(0));
    }
}

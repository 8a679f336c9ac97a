//! Redis twin behaviour beyond §9's checks: types, errors, transactions on replicas,
//! replication of expiry, traces' spelling.

use lockproof_services::redis::{
    Cmd, ConnId, ExpireCond, Lua, Persistence, Redis, RedisError, ReplicaSet, Reply, Script,
};
use lockproof_services::time::ServerClock;

#[path = "support/redis.rs"]
mod support;

use support::at;

fn new() -> (Redis, ConnId) {
    let mut r = Redis::new();
    let c = r.connect();
    (r, c)
}

fn strs(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

#[test]
fn commands_print_as_typed_in_redis_cli() {
    assert_eq!(
        Cmd::set("lock:r", "tok").nx().ex(10).to_string(),
        "SET lock:r tok NX EX 10"
    );
    assert_eq!(
        Cmd::set("k", "v").xx().get_old().keepttl().to_string(),
        "SET k v XX GET KEEPTTL"
    );
    assert_eq!(
        Cmd::expire("k", 5).cond(ExpireCond::Gt).to_string(),
        "EXPIRE k 5 GT"
    );
    assert_eq!(Cmd::pexpire("k", 5).to_string(), "PEXPIRE k 5");
    assert_eq!(Cmd::incr("c").to_string(), "INCR c");
    assert_eq!(Cmd::incrby("c", 3).to_string(), "INCRBY c 3");
    assert_eq!(Cmd::hincrby("h", "f", -1).to_string(), "HINCRBY h f -1");
    const S: Script = Script::new("unlock", "return 0", |_, _, _| Ok(Lua::int(0)));
    assert_eq!(
        Cmd::eval(S, &["k"], &["tok"]).to_string(),
        "EVAL unlock 1 k tok"
    );
    assert_eq!(
        Cmd::Wait {
            numreplicas: 1,
            timeout_ms: 300
        }
        .to_string(),
        "WAIT 1 300"
    );
}

#[test]
fn replies_print_as_redis_cli_shows_them() {
    assert_eq!(
        Reply::Array(vec![Reply::bulk("a"), Reply::Int(2)]).to_string(),
        "1) \"a\" 2) (integer) 2"
    );
    assert_eq!(Reply::Array(vec![]).to_string(), "(empty array)");
    assert_eq!(
        Reply::Error(RedisError::WrongType).to_string(),
        "(error) WRONGTYPE Operation against a key holding the wrong kind of value"
    );
    assert_eq!(RedisError::ReadOnly.code(), "READONLY");
    assert_eq!(RedisError::Syntax.code(), "ERR");
}

#[test]
fn wrong_type_errors_and_set_overwrites_any_type() {
    let (mut r, c) = new();
    r.apply(c, Cmd::hincrby("h", "f", 1), at(0));
    assert_eq!(
        r.apply(c, Cmd::get("h"), at(0)),
        Reply::Error(RedisError::WrongType)
    );
    assert_eq!(
        r.apply(c, Cmd::incr("h"), at(0)),
        Reply::Error(RedisError::WrongType)
    );
    assert_eq!(
        r.apply(c, Cmd::set("h", "x").get_old(), at(0)),
        Reply::Error(RedisError::WrongType)
    );
    assert_eq!(r.apply(c, Cmd::set("h", "x"), at(0)), Reply::ok());
    assert_eq!(r.apply(c, Cmd::get("h"), at(0)), Reply::bulk("x"));
    assert_eq!(
        r.apply(c, Cmd::hincrby("h", "f", 1), at(0)),
        Reply::Error(RedisError::WrongType)
    );
}

#[test]
fn integer_parsing_is_strict_and_overflow_is_an_error() {
    let (mut r, c) = new();
    for bad in ["01", "+1", " 1", "1 ", "", "-0", "1.0"] {
        r.apply(c, Cmd::set("s", bad), at(0));
        assert_eq!(
            r.apply(c, Cmd::incr("s"), at(0)),
            Reply::Error(RedisError::NotInteger),
            "{bad:?}"
        );
    }
    r.apply(c, Cmd::set("s", "-7"), at(0));
    assert_eq!(r.apply(c, Cmd::incr("s"), at(0)), Reply::Int(-6));
    r.apply(c, Cmd::set("m", i64::MAX.to_string()), at(0));
    assert_eq!(
        r.apply(c, Cmd::incr("m"), at(0)).to_string(),
        "(error) ERR increment or decrement would overflow"
    );
    r.apply(
        c,
        Cmd::HSet("h".into(), vec![("f".into(), "x".into())]),
        at(0),
    );
    assert_eq!(
        r.apply(c, Cmd::hincrby("h", "f", 1), at(0)).to_string(),
        "(error) ERR hash value is not an integer"
    );
}

#[test]
fn incr_keeps_the_ttl() {
    let (mut r, c) = new();
    r.apply(c, Cmd::set("c", "1").px(1000), at(0));
    assert_eq!(r.apply(c, Cmd::incr("c"), at(10)), Reply::Int(2));
    assert_eq!(r.apply(c, Cmd::pttl("c"), at(10)), Reply::Int(990));
}

#[test]
fn setex_and_getdel() {
    let (mut r, c) = new();
    assert_eq!(
        r.apply(
            c,
            Cmd::SetEx {
                key: "k".into(),
                seconds: 0,
                value: "v".into()
            },
            at(0)
        )
        .to_string(),
        "(error) ERR invalid expire time in 'setex' command"
    );
    let setex = Cmd::SetEx {
        key: "k".into(),
        seconds: 5,
        value: "v".into(),
    };
    assert_eq!(r.apply(c, setex, at(0)), Reply::ok());
    assert_eq!(r.apply(c, Cmd::ttl("k"), at(0)), Reply::Int(5));
    assert_eq!(r.apply(c, Cmd::GetDel("k".into()), at(1)), Reply::bulk("v"));
    assert_eq!(r.apply(c, Cmd::GetDel("k".into()), at(1)), Reply::Nil);
}

#[test]
fn hashes_lose_the_key_with_their_last_field() {
    let (mut r, c) = new();
    let pairs = vec![("a".into(), "1".into()), ("b".into(), "2".into())];
    assert_eq!(
        r.apply(c, Cmd::HSet("h".into(), pairs), at(0)),
        Reply::Int(2)
    );
    assert_eq!(
        r.apply(
            c,
            Cmd::HSet("h".into(), vec![("a".into(), "3".into())]),
            at(0)
        ),
        Reply::Int(0)
    );
    assert_eq!(
        r.apply(c, Cmd::HExists("h".into(), "a".into()), at(0)),
        Reply::Int(1)
    );
    assert_eq!(
        r.apply(c, Cmd::HGetAll("h".into()), at(0)),
        Reply::Array(
            ["a", "3", "b", "2"]
                .iter()
                .map(|s| Reply::bulk(*s))
                .collect()
        )
    );
    assert_eq!(
        r.apply(c, Cmd::HDel("h".into(), strs(&["a", "zz"])), at(0)),
        Reply::Int(1)
    );
    assert_eq!(
        r.apply(c, Cmd::HDel("h".into(), strs(&["b"])), at(0)),
        Reply::Int(1)
    );
    assert_eq!(r.apply(c, Cmd::exists("h"), at(0)), Reply::Int(0));
}

#[test]
fn lists_push_trim_and_range() {
    let (mut r, c) = new();
    assert_eq!(
        r.apply(c, Cmd::LPush("l".into(), strs(&["a", "b", "c"])), at(0)),
        Reply::Int(3)
    );
    let all = r.apply(c, Cmd::LRange("l".into(), 0, -1), at(0));
    assert_eq!(all.to_string(), "1) \"c\" 2) \"b\" 3) \"a\"");
    assert_eq!(r.apply(c, Cmd::LTrim("l".into(), 0, 1), at(0)), Reply::ok());
    assert_eq!(
        r.apply(c, Cmd::LRange("l".into(), -5, 10), at(0)),
        Reply::Array(vec![Reply::bulk("c"), Reply::bulk("b")])
    );
    assert_eq!(
        r.apply(c, Cmd::LRange("l".into(), 5, 10), at(0)),
        Reply::Array(vec![])
    );
    assert_eq!(
        r.apply(c, Cmd::LTrim("l".into(), 5, 10), at(0)),
        Reply::ok()
    );
    assert_eq!(r.apply(c, Cmd::exists("l"), at(0)), Reply::Int(0));
}

#[test]
fn time_reports_the_server_wall_clock() {
    let (mut r, c) = new();
    let clock = ServerClock {
        wall: 1_700_000_000_123_456_789,
        mono: 5,
    };
    assert_eq!(
        r.apply(c, Cmd::Time, clock),
        Reply::Array(vec![Reply::bulk("1700000000"), Reply::bulk("123456")])
    );
}

#[test]
fn expiry_boundary_is_inclusive_of_the_deadline_millisecond() {
    let (mut r, c) = new();
    r.apply(c, Cmd::set("k", "v").px(50), at(0));
    assert_eq!(r.apply(c, Cmd::pttl("k"), at(50)), Reply::Int(0));
    assert_eq!(r.apply(c, Cmd::exists("k"), at(50)), Reply::Int(1));
    assert_eq!(r.apply(c, Cmd::exists("k"), at(51)), Reply::Int(0));
}

#[test]
fn transactions_discard_nesting_and_watch_inside_multi() {
    let (mut r, c) = new();
    assert_eq!(
        r.apply(c, Cmd::Exec, at(0)),
        Reply::Error(RedisError::ExecWithoutMulti)
    );
    assert_eq!(
        r.apply(c, Cmd::Discard, at(0)),
        Reply::Error(RedisError::DiscardWithoutMulti)
    );
    r.apply(c, Cmd::Multi, at(0));
    assert_eq!(
        r.apply(c, Cmd::Multi, at(0)),
        Reply::Error(RedisError::NestedMulti)
    );
    assert_eq!(
        r.apply(c, Cmd::Watch(strs(&["k"])), at(0)),
        Reply::Error(RedisError::WatchInsideMulti)
    );
    r.apply(c, Cmd::set("k", "v"), at(0));
    assert_eq!(r.apply(c, Cmd::Discard, at(0)), Reply::ok());
    assert_eq!(r.apply(c, Cmd::exists("k"), at(0)), Reply::Int(0));
}

#[test]
fn watch_passes_when_nothing_changed_and_unwatch_clears() {
    let mut r = Redis::new();
    let a = r.connect();
    let b = r.connect();
    r.apply(a, Cmd::set("k", "1"), at(0));
    r.apply(a, Cmd::Watch(strs(&["k"])), at(0));
    r.apply(b, Cmd::set("other", "x"), at(1));
    r.apply(a, Cmd::Multi, at(2));
    r.apply(a, Cmd::incr("k"), at(2));
    assert_eq!(
        r.apply(a, Cmd::Exec, at(2)),
        Reply::Array(vec![Reply::Int(2)])
    );
    r.apply(a, Cmd::Watch(strs(&["k"])), at(3));
    r.apply(a, Cmd::Unwatch, at(3));
    r.apply(b, Cmd::set("k", "9"), at(4));
    r.apply(a, Cmd::Multi, at(5));
    r.apply(a, Cmd::incr("k"), at(5));
    assert_eq!(
        r.apply(a, Cmd::Exec, at(5)),
        Reply::Array(vec![Reply::Int(10)])
    );
}

#[test]
fn watch_of_an_absent_key_is_broken_by_its_creation() {
    let mut r = Redis::new();
    let a = r.connect();
    let b = r.connect();
    r.apply(a, Cmd::Watch(strs(&["k"])), at(0));
    r.apply(b, Cmd::set("k", "x"), at(1));
    r.apply(a, Cmd::Multi, at(2));
    r.apply(a, Cmd::set("k", "mine"), at(2));
    assert_eq!(r.apply(a, Cmd::Exec, at(2)), Reply::Nil);
}

#[test]
fn restart_drops_connections_watch_and_multi() {
    let mut r = Redis::with_persistence(Persistence::AofAlways);
    let a = r.connect();
    r.apply(a, Cmd::set("k", "v"), at(0));
    r.apply(a, Cmd::Multi, at(0));
    r.apply(a, Cmd::set("k", "w"), at(0));
    r.restart();
    // The old connection id is a fresh connection now: no MULTI is open.
    assert_eq!(
        r.apply(a, Cmd::Exec, at(10)),
        Reply::Error(RedisError::ExecWithoutMulti)
    );
    assert_eq!(r.apply(a, Cmd::get("k"), at(10)), Reply::bulk("v"));
}

#[test]
fn script_errors_pcall_and_forbidden_commands() {
    const PCALL: Script = Script::new(
        "pcall",
        "local e = redis.pcall('incr', KEYS[1]) return {type(e), redis.call('get', KEYS[1])}",
        |ctx, k, _| {
            let e = ctx.pcall(Cmd::incr(&k[0]));
            let v = ctx.call(Cmd::get(&k[0]))?;
            Ok(Lua::Table(vec![Lua::str(e.type_name()), v]))
        },
    );
    const MULTI: Script = Script::new("multi", "return redis.call('multi')", |ctx, _, _| {
        ctx.call(Cmd::Multi)
    });
    const RAISE: Script = Script::new(
        "raise",
        "return redis.error_reply('LOCKED held by another')",
        |_, _, _| Err(RedisError::Script("LOCKED held by another".into())),
    );
    let (mut r, c) = new();
    r.apply(c, Cmd::set("s", "abc"), at(0));
    assert_eq!(
        r.apply(c, Cmd::eval(PCALL, &["s"], &[]), at(0)),
        Reply::Array(vec![Reply::bulk("table"), Reply::bulk("abc")])
    );
    assert_eq!(
        r.apply(c, Cmd::eval(MULTI, &[], &[]), at(0)).to_string(),
        "(error) ERR This Redis command is not allowed from script"
    );
    let e = r.apply(c, Cmd::eval(RAISE, &[], &[]), at(0));
    assert_eq!(e.to_string(), "(error) LOCKED held by another");
    match e {
        Reply::Error(e) => assert_eq!(e.code(), "LOCKED"),
        other => panic!("{other}"),
    }
}

#[test]
fn eval_caches_the_script_for_evalsha() {
    const S: Script = Script::new("seven", "return 7", |_, _, _| Ok(Lua::int(7)));
    let (mut r, c) = new();
    assert_eq!(r.apply(c, Cmd::eval(S, &[], &[]), at(0)), Reply::Int(7));
    assert_eq!(
        r.apply(c, Cmd::evalsha(S.sha().to_uppercase(), &[], &[]), at(0)),
        Reply::Int(7)
    );
}

#[test]
fn replicas_read_expired_keys_as_absent_but_keep_them_until_the_master_deletes() {
    let mut rs = ReplicaSet::new(1);
    let m = rs.connect(0);
    let rc = rs.connect(1);
    rs.apply(0, m, Cmd::set("k", "v").px(100), at(0));
    rs.deliver_all();
    assert_eq!(rs.apply(1, rc, Cmd::get("k"), at(50)), Reply::bulk("v"));
    assert_eq!(rs.apply(1, rc, Cmd::get("k"), at(200)), Reply::Nil);
    assert_eq!(rs.node_mut(1).active_expire(at(200)), 0);
    assert_eq!(rs.apply(1, rc, Cmd::DbSize, at(200)), Reply::Int(1));
    // The master's active expiry deletes it and replicates the deletion.
    assert_eq!(rs.node_mut(0).active_expire(at(200)), 1);
    assert_eq!(rs.pending(1), 1);
    rs.deliver_all();
    assert_eq!(rs.apply(1, rc, Cmd::DbSize, at(200)), Reply::Int(0));
}

#[test]
fn script_writes_replicate_as_their_effects() {
    const TWO: Script = Script::new(
        "two-writes",
        "redis.call('set', KEYS[1], ARGV[1]) redis.call('pexpire', KEYS[1], 5000) return 1",
        |ctx, k, a| {
            ctx.call(Cmd::set(&k[0], &a[0]))?;
            ctx.call(Cmd::pexpire(&k[0], 5000))
        },
    );
    let mut rs = ReplicaSet::new(2);
    let m = rs.connect(0);
    assert_eq!(
        rs.apply(0, m, Cmd::eval(TWO, &["k"], &["v"]), at(0)),
        Reply::Int(1)
    );
    assert_eq!(rs.pending(1), 2);
    assert_eq!(rs.deliver(1, 1), 1);
    let r1 = rs.connect(1);
    // Half the effects delivered: the key is there without its TTL yet.
    assert_eq!(rs.apply(1, r1, Cmd::pttl("k"), at(1)), Reply::Int(-1));
    rs.deliver_all();
    assert_eq!(rs.apply(1, r1, Cmd::pttl("k"), at(1)), Reply::Int(4999));
    let r2 = rs.connect(2);
    assert_eq!(rs.apply(2, r2, Cmd::pttl("k"), at(1)), Reply::Int(4999));
    assert_eq!(rs.node(0).wait_count(m), 2);
}

#[test]
fn multi_on_a_replica_with_a_write_is_aborted() {
    let mut rs = ReplicaSet::new(1);
    let c = rs.connect(1);
    rs.apply(1, c, Cmd::Multi, at(0));
    assert_eq!(
        rs.apply(1, c, Cmd::set("k", "v"), at(0)),
        Reply::Error(RedisError::ReadOnly)
    );
    assert_eq!(
        rs.apply(1, c, Cmd::get("k"), at(0)),
        Reply::Status("QUEUED".into())
    );
    assert_eq!(
        rs.apply(1, c, Cmd::Exec, at(0)).to_string(),
        "(error) EXECABORT Transaction discarded because of previous errors."
    );
}

#[test]
fn failover_keeps_what_was_delivered_and_the_old_master_follows() {
    let mut rs = ReplicaSet::new(2);
    let m = rs.connect(0);
    rs.apply(0, m, Cmd::set("a", "1"), at(0));
    rs.deliver_all();
    rs.apply(0, m, Cmd::set("b", "2"), at(1));
    rs.deliver(2, 1); // only replica 2 got b
    rs.cut(1);
    rs.failover(1);
    let c = rs.connect(1);
    assert_eq!(rs.apply(1, c, Cmd::get("a"), at(2)), Reply::bulk("1"));
    assert_eq!(rs.apply(1, c, Cmd::get("b"), at(2)), Reply::Nil);
    // Replica 2 and the old master resync from the new master: b is gone everywhere.
    for i in [0, 2] {
        let rc = rs.connect(i);
        assert_eq!(rs.apply(i, rc, Cmd::get("b"), at(3)), Reply::Nil);
    }
    rs.apply(1, c, Cmd::set("z", "9"), at(4));
    assert_eq!(rs.pending(0), 1);
    assert_eq!(rs.pending(2), 1);
}

#[test]
fn the_twin_is_deterministic_and_clonable() {
    let run = || {
        let (mut r, c) = new();
        let mut out = Vec::new();
        for i in 0..20u64 {
            out.push(r.apply(c, Cmd::set("k", i.to_string()).nx().px(30), at(i * 10)));
            if i % 7 == 0 {
                r.active_expire(at(i * 10));
            }
        }
        (out, r.clone().apply(c, Cmd::DbSize, at(1000)))
    };
    assert_eq!(run(), run());
}

#[test]
fn a_master_restarted_without_persistence_empties_its_replicas() {
    let mut rs = ReplicaSet::new(1);
    let m = rs.connect(0);
    rs.apply(0, m, Cmd::set("k", "v"), at(0));
    rs.deliver_all();
    rs.restart(0);
    let rc = rs.connect(1);
    assert_eq!(rs.apply(1, rc, Cmd::exists("k"), at(10)), Reply::Int(0));
    // With AOF always the master keeps the key and so do its replicas after resync.
    let mut rs = ReplicaSet::with_persistence(1, Persistence::AofAlways);
    let m = rs.connect(0);
    rs.apply(0, m, Cmd::set("k", "v"), at(0));
    rs.restart(0);
    let rc = rs.connect(1);
    assert_eq!(rs.apply(1, rc, Cmd::get("k"), at(10)), Reply::bulk("v"));
    // A restarted replica resyncs from the master and drops its queue.
    let m = rs.connect(0);
    rs.apply(0, m, Cmd::set("j", "w"), at(11));
    assert_eq!(rs.pending(1), 1);
    rs.restart(1);
    assert_eq!(rs.pending(1), 0);
    let rc = rs.connect(1);
    assert_eq!(rs.apply(1, rc, Cmd::get("j"), at(12)), Reply::bulk("w"));
}

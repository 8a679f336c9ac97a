//! DISTRIBUTED.md §9 Redis checks, each run against the real server (127.0.0.1:6379,
//! database 15, keys `ref:<check>:<pid>:…`) AND the twin (`lockproof_services::redis`), the
//! replies compared field by field.
//!
//! The twin's server clock is this machine's wall clock at each request, so "wait t" is a real
//! wait for both and `PEXPIRETIME` is comparable. A reply that depends on time (`PTTL`, `TIME`)
//! is compared within the check's slack; every other reply must be equal. Error replies are
//! compared by their text, except that the real server appends ` script: <sha>, on
//! @user_script:1.` to an error raised inside a script, which the twin documents as not modelled.
//!
//! Checks that restart, replicate, persist or keep a server busy (20, 23, 24, 25, 26, 27, 28) run
//! against private `redis-server` processes (`tests/support`) on free ports, each compared with
//! a twin (`Redis`, `ReplicaSet`) given the same faults.
//!
//! Not run here: 29 (clock jumps: the real server reads this machine's wall clock, which a test
//! may not move; the twin's own tests cover it), 30–31 (redis-py's `Lock`, a Python client),
//! 32 (Redlock: `tests/redlock.rs` runs the real one).

mod support;

use lockproof_services::redis::{
    Cmd, ConnId, ExpireCond, IntArg, Lua, Persistence, Redis, ReplicaSet, Reply, Script,
};
use lockproof_services::time::ServerClock;
use redis::Value;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use support::{poll, RedisServer};

/// A Redis command's arguments as the real server receives them.
fn args_of(cmd: &Cmd) -> Vec<String> {
    fn v(xs: &[&str]) -> Vec<String> {
        xs.iter().map(|s| s.to_string()).collect()
    }
    fn script_args(head: &str, what: &str, keys: &[String], args: &[String]) -> Vec<String> {
        let mut out = vec![head.to_string(), what.to_string(), keys.len().to_string()];
        out.extend(keys.iter().cloned());
        out.extend(args.iter().cloned());
        out
    }
    match cmd {
        Cmd::Get(k) => v(&["GET", k]),
        Cmd::Set(a) => {
            let mut out = v(&["SET", &a.key, &a.value]);
            if a.nx {
                out.push("NX".into());
            }
            if a.xx {
                out.push("XX".into());
            }
            if a.get {
                out.push("GET".into());
            }
            if let Some(s) = &a.ex {
                out.extend(["EX".to_string(), s.to_string()]);
            }
            if let Some(ms) = &a.px {
                out.extend(["PX".to_string(), ms.to_string()]);
            }
            if a.keepttl {
                out.push("KEEPTTL".into());
            }
            out
        }
        Cmd::Del(ks) => [vec!["DEL".to_string()], ks.clone()].concat(),
        Cmd::Exists(ks) => [vec!["EXISTS".to_string()], ks.clone()].concat(),
        Cmd::Expire {
            key,
            amount,
            millis,
            cond,
        } => {
            let mut out = v(&[if *millis { "PEXPIRE" } else { "EXPIRE" }, key]);
            out.push(amount.to_string());
            if let Some(c) = cond {
                out.push(c.to_string());
            }
            out
        }
        Cmd::Ttl { key, millis } => v(&[if *millis { "PTTL" } else { "TTL" }, key]),
        Cmd::PExpireTime(k) => v(&["PEXPIRETIME", k]),
        Cmd::Persist(k) => v(&["PERSIST", k]),
        Cmd::IncrBy { key, by, incr } => {
            if *incr {
                v(&["INCR", key])
            } else {
                v(&["INCRBY", key, &by.to_string()])
            }
        }
        Cmd::HIncrBy { key, field, by } => v(&["HINCRBY", key, field, &by.to_string()]),
        Cmd::HGet(k, f) => v(&["HGET", k, f]),
        Cmd::HLen(k) => v(&["HLEN", k]),
        Cmd::Time => v(&["TIME"]),
        Cmd::Eval { script, keys, args } => script_args("EVAL", script.source, keys, args),
        Cmd::EvalSha { sha, keys, args } => script_args("EVALSHA", sha, keys, args),
        Cmd::ScriptLoad(s) => v(&["SCRIPT", "LOAD", s.source]),
        Cmd::ScriptExists(shas) => [v(&["SCRIPT", "EXISTS"]), shas.clone()].concat(),
        Cmd::Multi => v(&["MULTI"]),
        Cmd::Exec => v(&["EXEC"]),
        Cmd::Watch(ks) => [vec!["WATCH".to_string()], ks.clone()].concat(),
        Cmd::Wait {
            numreplicas,
            timeout_ms,
        } => v(&["WAIT", &numreplicas.to_string(), &timeout_ms.to_string()]),
        other => panic!("args_of: {other} is not used by these checks"),
    }
}

/// A reply compared field by field: the twin's, with errors as their text.
#[derive(Debug, Clone, PartialEq)]
enum R {
    Status(String),
    Nil,
    Int(i64),
    Bulk(String),
    Array(Vec<R>),
    Error(String),
}

fn from_twin(r: Reply) -> R {
    match r {
        Reply::Status(s) => R::Status(s),
        Reply::Nil => R::Nil,
        Reply::Int(n) => R::Int(n),
        Reply::Bulk(s) => R::Bulk(s),
        Reply::Array(xs) => R::Array(xs.into_iter().map(from_twin).collect()),
        Reply::Error(e) => R::Error(e.to_string()),
        Reply::Blocked => panic!("the twin blocked where the real server replied"),
    }
}

fn from_real(v: Value) -> R {
    match v {
        Value::Nil => R::Nil,
        Value::Int(n) => R::Int(n),
        Value::BulkString(b) => R::Bulk(String::from_utf8(b).expect("utf-8 reply")),
        Value::Array(xs) => R::Array(xs.into_iter().map(from_real).collect()),
        Value::SimpleString(s) => R::Status(s),
        Value::Okay => R::Status("OK".into()),
        Value::ServerError(e) => R::Error(match e.details() {
            Some(d) => format!("{} {d}", e.code()),
            None => e.code().to_string(),
        }),
        other => panic!("unexpected RESP2 reply {other:?}"),
    }
}

/// Strips the suffix the real server appends to an error raised inside a script.
fn without_script_suffix(r: R) -> R {
    match r {
        R::Error(s) => match s.find(" script: ") {
            Some(i) => R::Error(s[..i].to_string()),
            None => R::Error(s),
        },
        other => other,
    }
}

/// One command on a real connection; an error reply as its text.
fn send_real(con: &mut redis::Connection, rc: &redis::Cmd, at: &str) -> R {
    // `req_command` keeps an error inside an array (`EXEC`) as a value.
    match redis::ConnectionLike::req_command(con, rc) {
        Ok(v) => from_real(v),
        Err(e) if e.code().is_some() => R::Error(format!(
            "{} {}",
            e.code().unwrap_or(""),
            e.detail().unwrap_or("")
        )),
        Err(e) => panic!("Redis at {at} unreachable: {e}"),
    }
}

fn real_cmd(cmd: &Cmd) -> redis::Cmd {
    let args = args_of(cmd);
    let mut rc = redis::cmd(&args[0]);
    for a in &args[1..] {
        rc.arg(a);
    }
    rc
}

fn now_clock() -> ServerClock {
    let ns = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_nanos() as u64;
    ServerClock::at(ns)
}

/// The real server (database 15) and the twin, with one connection each per name; keys are
/// given without the prefix.
struct Pair {
    prefix: String,
    client: redis::Client,
    real: Vec<redis::Connection>,
    twin: Redis,
    tconn: Vec<ConnId>,
}

impl Pair {
    fn new(check: &str) -> Pair {
        let prefix = format!("ref:{check}:{}:", std::process::id());
        let client = redis::Client::open("redis://127.0.0.1:6379/15").expect("redis url");
        let mut twin = Redis::new();
        let c = twin.connect();
        let mut p = Pair {
            prefix,
            client,
            real: Vec::new(),
            twin,
            tconn: vec![c],
        };
        let con = p.connect_real();
        p.real.push(con);
        p.clean();
        p
    }

    fn connect_real(&self) -> redis::Connection {
        self.client
            .get_connection_with_timeout(Duration::from_secs(5))
            .unwrap_or_else(|e| panic!("Redis at 127.0.0.1:6379 unreachable: {e}"))
    }

    /// A second connection (index 1, 2, …) on both sides.
    fn add_conn(&mut self) -> usize {
        let con = self.connect_real();
        self.real.push(con);
        let c = self.twin.connect();
        self.tconn.push(c);
        self.real.len() - 1
    }

    fn k(&self, key: &str) -> String {
        format!("{}{key}", self.prefix)
    }

    fn clean(&mut self) {
        let keys: Vec<String> = redis::cmd("KEYS")
            .arg(format!("{}*", self.prefix))
            .query(&mut self.real[0])
            .expect("KEYS");
        if !keys.is_empty() {
            let _: i64 = redis::cmd("DEL")
                .arg(keys)
                .query(&mut self.real[0])
                .expect("DEL");
        }
    }

    /// Both replies on connection `c`: (real, twin).
    fn both_on(&mut self, c: usize, cmd: Cmd) -> (R, R) {
        let rc = real_cmd(&cmd);
        // The twin is judged at the instant the request was sent: a slow real reply (a busy
        // script) must not age the twin's keys.
        let sent = now_clock();
        let real = send_real(&mut self.real[c], &rc, "127.0.0.1:6379");
        let twin = from_twin(self.twin.apply(self.tconn[c], cmd, sent));
        (real, twin)
    }

    fn both(&mut self, cmd: Cmd) -> (R, R) {
        self.both_on(0, cmd)
    }

    /// Runs `cmd` on both; the replies must be equal and equal `expected` (from DISTRIBUTED.md).
    fn same_on(&mut self, c: usize, cmd: Cmd, expected: R) {
        let shown = cmd.to_string();
        let (real, twin) = self.both_on(c, cmd);
        assert_eq!(
            (&real, &twin),
            (&expected, &expected),
            "{shown}: (real, twin) vs DISTRIBUTED.md"
        );
    }

    fn same(&mut self, cmd: Cmd, expected: R) {
        self.same_on(0, cmd, expected)
    }

    /// An integer reply on both, each within `lo..=hi`.
    fn int_in(&mut self, cmd: Cmd, lo: i64, hi: i64) -> (i64, i64) {
        let shown = cmd.to_string();
        let (real, twin) = self.both(cmd);
        let (R::Int(a), R::Int(b)) = (&real, &twin) else {
            panic!("{shown}: real {real:?}, twin {twin:?}")
        };
        assert!(
            (lo..=hi).contains(a) && (lo..=hi).contains(b),
            "{shown}: real {a}, twin {b}, expected in {lo}..={hi}"
        );
        (*a, *b)
    }
}

impl Drop for Pair {
    fn drop(&mut self) {
        if !self.real.is_empty() {
            self.clean();
        }
    }
}

fn ok() -> R {
    R::Status("OK".into())
}
fn int(n: i64) -> R {
    R::Int(n)
}
fn bulk(s: &str) -> R {
    R::Bulk(s.into())
}
fn error(s: &str) -> R {
    R::Error(s.into())
}

#[test]
fn check_01_set_nx_px_then_contender_gets_nil() {
    let mut p = Pair::new("c01");
    let k = p.k("k");
    p.same(Cmd::set(&k, "t1").nx().px(10_000), ok());
    p.same(Cmd::set(&k, "t2").nx().px(10_000), R::Nil);
    p.same(Cmd::get(&k), bulk("t1"));
    p.int_in(Cmd::pttl(&k), 9001, 10_000);
}

#[test]
fn check_02_ttl_of_absent_and_xx() {
    let mut p = Pair::new("c02");
    let k = p.k("k");
    p.same(Cmd::ttl(&k), int(-2));
    p.same(Cmd::pttl(&k), int(-2));
    p.same(Cmd::pexpire(&k, 100), int(0));
    p.same(Cmd::expire(&k, 1), int(0));
    p.same(Cmd::set(&k, "v").xx(), R::Nil);
    p.same(Cmd::exists(&k), int(0));
    p.same(Cmd::set(&k, "v"), ok());
    p.same(Cmd::ttl(&k), int(-1));
    p.same(Cmd::set(&k, "w").xx(), ok());
}

#[test]
fn check_03_set_argument_errors() {
    let mut p = Pair::new("c03");
    let k = p.k("k");
    let invalid = "ERR invalid expire time in 'set' command";
    p.same(Cmd::set(&k, "v").ex(0), error(invalid));
    p.same(Cmd::set(&k, "v").ex(-1), error(invalid));
    p.same(Cmd::set(&k, "v").px(0), error(invalid));
    p.same(
        Cmd::set(&k, "v").ex(IntArg::Text("1.5".into())),
        error("ERR value is not an integer or out of range"),
    );
    p.same(Cmd::set(&k, "v").nx().xx(), error("ERR syntax error"));
    p.same(Cmd::set(&k, "v").ex(1).px(100), error("ERR syntax error"));
    p.same(Cmd::exists(&k), int(0));
}

#[test]
fn check_04_keepttl_and_plain_set_removes_ttl() {
    let mut p = Pair::new("c04");
    let k = p.k("k");
    p.same(Cmd::set(&k, "v").ex(100), ok());
    p.same(Cmd::set(&k, "w").keepttl(), ok());
    p.same(Cmd::ttl(&k), int(100));
    p.same(Cmd::set(&k, "x"), ok());
    p.same(Cmd::ttl(&k), int(-1));
}

#[test]
fn check_05_set_nx_get() {
    let mut p = Pair::new("c05");
    let (k, j) = (p.k("k"), p.k("j"));
    p.same(Cmd::set(&k, "v2"), ok());
    p.same(Cmd::set(&k, "v3").nx().get_old(), bulk("v2"));
    p.same(Cmd::get(&k), bulk("v2"));
    p.same(Cmd::set(&j, "v").nx().get_old(), R::Nil);
    p.same(Cmd::get(&j), bulk("v"));
}

#[test]
fn check_06_del_counts_and_exists_counts_repeats() {
    let mut p = Pair::new("c06");
    let (k, j) = (p.k("k"), p.k("j"));
    p.same(Cmd::set(&k, "v"), ok());
    p.same(Cmd::del(&k), int(1));
    p.same(Cmd::del(&k), int(0));
    p.same(Cmd::set(&k, "v"), ok());
    p.same(Cmd::Exists(vec![k.clone(), k.clone(), j]), int(2));
}

#[test]
fn check_07_expire_zero_or_negative_deletes() {
    let mut p = Pair::new("c07");
    let k = p.k("k");
    p.same(Cmd::set(&k, "v"), ok());
    p.same(Cmd::expire(&k, 0), int(1));
    p.same(Cmd::exists(&k), int(0));
    p.same(Cmd::set(&k, "v"), ok());
    p.same(Cmd::pexpire(&k, -5), int(1));
    p.same(Cmd::exists(&k), int(0));
}

#[test]
fn check_08_expire_conditions_and_persist() {
    let mut p = Pair::new("c08");
    let k = p.k("k");
    p.same(Cmd::set(&k, "v").ex(100), ok());
    p.same(Cmd::expire(&k, 100).cond(ExpireCond::Nx), int(0));
    p.same(Cmd::expire(&k, 50).cond(ExpireCond::Gt), int(0));
    p.same(Cmd::expire(&k, 500).cond(ExpireCond::Gt), int(1));
    p.same(Cmd::ttl(&k), int(500));
    p.same(Cmd::Persist(k.clone()), int(1));
    p.same(Cmd::Persist(k.clone()), int(0));
}

#[test]
fn check_09_incr() {
    let mut p = Pair::new("c09");
    let (c, s) = (p.k("c"), p.k("s"));
    p.same(Cmd::incr(&c), int(1));
    p.same(Cmd::incr(&c), int(2));
    p.same(Cmd::set(&s, "abc"), ok());
    p.same(
        Cmd::incr(&s),
        error("ERR value is not an integer or out of range"),
    );
}

#[test]
fn check_10_hincrby_to_zero_keeps_the_field() {
    let mut p = Pair::new("c10");
    let h = p.k("h");
    p.same(Cmd::hincrby(&h, "f", 1), int(1));
    p.same(Cmd::hincrby(&h, "f", -1), int(0));
    p.same(Cmd::HGet(h.clone(), "f".into()), bulk("0"));
    p.same(Cmd::HLen(h.clone()), int(1));
    p.same(Cmd::exists(&h), int(1));
}

#[test]
fn check_11_hincrby_keeps_the_ttl() {
    let mut p = Pair::new("c11");
    let h = p.k("h");
    p.same(Cmd::hincrby(&h, "f", 1), int(1));
    p.same(Cmd::pexpire(&h, 5000), int(1));
    p.same(Cmd::hincrby(&h, "f", 1), int(2));
    p.int_in(Cmd::pttl(&h), 4901, 5000);
}

#[test]
fn check_12_an_expired_key_is_never_returned() {
    let mut p = Pair::new("c12");
    let k = p.k("k");
    p.same(Cmd::set(&k, "v").px(50), ok());
    // "wait 100 ms" is the check's own step: time passing for the key's TTL.
    std::thread::sleep(Duration::from_millis(100));
    p.same(Cmd::get(&k), R::Nil);
    p.same(Cmd::exists(&k), int(0));
    p.same(Cmd::ttl(&k), int(-2));
}

#[test]
fn check_13_pexpiretime_is_wall_clock_ms() {
    let mut p = Pair::new("c13");
    let (k, j, n) = (p.k("k"), p.k("j"), p.k("n"));
    let before = now_clock().wall_ms();
    p.same(Cmd::set(&k, "v").px(60_000), ok());
    let after = now_clock().wall_ms();
    let (real, twin) = p.int_in(
        Cmd::PExpireTime(k.clone()),
        before + 60_000 - 5,
        after + 60_000 + 5,
    );
    assert!((real - twin).abs() <= 50, "real {real}, twin {twin}");
    p.same(Cmd::PExpireTime(j), int(-2));
    p.same(Cmd::set(&n, "v"), ok());
    p.same(Cmd::PExpireTime(n), int(-1));
}

/// `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`
const CAD: Script = Script::new(
    "compare-and-delete",
    "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end",
    |ctx, keys, args| {
        if ctx.call(Cmd::get(&keys[0]))? == Lua::str(&args[0]) {
            ctx.call(Cmd::del(&keys[0]))
        } else {
            Ok(Lua::int(0))
        }
    },
);

#[test]
fn check_14_compare_and_delete() {
    let mut p = Pair::new("c14");
    let k = p.k("k");
    p.same(Cmd::set(&k, "tokA").px(30_000), ok());
    p.same(Cmd::eval(CAD, &[&k], &["tokB"]), int(0));
    p.same(Cmd::exists(&k), int(1));
    p.same(Cmd::eval(CAD, &[&k], &["tokA"]), int(1));
    p.same(Cmd::exists(&k), int(0));
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
    let mut p = Pair::new("c15");
    let k = p.k("k");
    p.same(Cmd::eval(GET, &[&k], &[]), R::Nil);
    p.same(Cmd::eval(TYPE, &[&k], &[]), bulk("boolean"));
    p.same(Cmd::eval(TRUE, &[], &[]), int(1));
    p.same(Cmd::eval(FALSE, &[], &[]), R::Nil);
    p.same(Cmd::eval(FLOAT, &[], &[]), int(3));
    p.same(Cmd::eval(HOLE, &[], &[]), R::Array(vec![int(1), int(2)]));
}

#[test]
fn check_16_a_failing_script_keeps_its_writes() {
    const SET_THEN_INCR: Script = Script::new(
        "set-then-incr",
        "redis.call('set', KEYS[1], 'x'); return redis.call('incr', KEYS[2])",
        |ctx, k, _| {
            ctx.call(Cmd::set(&k[0], "x"))?;
            ctx.call(Cmd::incr(&k[1]))
        },
    );
    let mut p = Pair::new("c16");
    let (a, s) = (p.k("a"), p.k("s"));
    p.same(Cmd::set(&s, "abc"), ok());
    let (real, twin) = p.both(Cmd::eval(SET_THEN_INCR, &[&a, &s], &[]));
    let expected = error("ERR value is not an integer or out of range");
    assert_eq!(twin, expected);
    assert!(
        matches!(&real, R::Error(t) if t.contains(" script: ")),
        "the real server's error names the script: {real:?}"
    );
    assert_eq!(without_script_suffix(real), expected);
    p.same(Cmd::get(&a), bulk("x"));
}

#[test]
fn check_17_set_status_is_a_table_with_ok_and_nil_is_false() {
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
    let mut p = Pair::new("c17");
    let k = p.k("k");
    p.same(
        Cmd::eval(SEE, &[&k], &[]),
        R::Array(vec![bulk("table"), bulk("OK")]),
    );
    p.same(
        Cmd::eval(SEE, &[&k], &[]),
        R::Array(vec![bulk("boolean"), R::Nil]),
    );
}

#[test]
fn check_18_time_moves_in_a_script_but_expiry_is_frozen() {
    fn time_us(
        ctx: &mut lockproof_services::redis::ScriptCtx<'_>,
    ) -> Result<i64, lockproof_services::redis::RedisError> {
        match ctx.call(Cmd::Time)? {
            Lua::Table(t) => Ok(t[0].as_int().unwrap() * 1_000_000 + t[1].as_int().unwrap()),
            other => panic!("TIME gave {other:?}"),
        }
    }
    const BUSY: Script = Script::new(
        "busy-80ms",
        "local a = redis.call('exists', KEYS[1]) local t0 = redis.call('time') local e = 0 repeat local t = redis.call('time') e = (t[1]-t0[1])*1000000 + (t[2]-t0[2]) until e >= 80000 local b = redis.call('exists', KEYS[1]) return {a, b, redis.call('pttl', KEYS[1]), e}",
        |ctx, k, _| {
            let a = ctx.call(Cmd::exists(&k[0]))?;
            let t0 = time_us(ctx)?;
            let mut e = 0;
            while e < 80_000 {
                ctx.spin(1_000_000);
                e = time_us(ctx)? - t0;
            }
            let b = ctx.call(Cmd::exists(&k[0]))?;
            let pttl = ctx.call(Cmd::pttl(&k[0]))?;
            Ok(Lua::Table(vec![a, b, pttl, Lua::int(e)]))
        },
    );
    let mut p = Pair::new("c18");
    let k = p.k("k");
    p.same(Cmd::set(&k, "v").px(30), ok());
    let (real, twin) = p.both(Cmd::eval(BUSY, &[&k], &[]));
    for r in [&real, &twin] {
        let R::Array(items) = r else {
            panic!("real {real:?}, twin {twin:?}")
        };
        assert_eq!(
            &items[..3],
            &[int(1), int(1), int(0)],
            "real {real:?}, twin {twin:?}"
        );
        assert!(matches!(items[3], R::Int(e) if e >= 80_000), "{r:?}");
    }
    // The real script took ≥ 80 ms of real time, so the twin's clock is past the TTL too.
    p.same(Cmd::exists(&k), int(0));
}

const SEVEN: Script = Script::new("seven", "return 7", |_, _, _| Ok(Lua::int(7)));

#[test]
fn check_19_evalsha_and_script_load() {
    let mut p = Pair::new("c19");
    p.same(
        Cmd::evalsha("ffffffffffffffffffffffffffffffffffffffff", &[], &[]),
        error("NOSCRIPT No matching script. Please use EVAL."),
    );
    let sha = "59b6ab2fbe0ee4b25733de0f62e6cda4899ef8e9";
    p.same(Cmd::ScriptLoad(SEVEN), bulk(sha));
    p.same(Cmd::evalsha(sha, &[], &[]), int(7));
    p.same(Cmd::ScriptExists(vec![sha.into()]), R::Array(vec![int(1)]));
}

#[test]
fn check_21_watch_is_broken_by_a_same_value_write_and_by_expiry() {
    let mut p = Pair::new("c21");
    let b = p.add_conn();
    let k = p.k("k");
    let queued = R::Status("QUEUED".into());
    p.same(Cmd::set(&k, "same"), ok());
    p.same(Cmd::Watch(vec![k.clone()]), ok());
    p.same_on(b, Cmd::set(&k, "same"), ok());
    p.same(Cmd::Multi, ok());
    p.same(Cmd::set(&k, "mine"), queued.clone());
    p.same(Cmd::Exec, R::Nil);
    p.same(Cmd::get(&k), bulk("same"));

    p.same(Cmd::set(&k, "v").px(50), ok());
    p.same(Cmd::Watch(vec![k.clone()]), ok());
    // "a 120 ms wait": time passing past the watched key's TTL.
    std::thread::sleep(Duration::from_millis(120));
    p.same(Cmd::Multi, ok());
    p.same(Cmd::set(&k, "mine"), queued);
    p.same(Cmd::Exec, R::Nil);
    p.same(Cmd::get(&k), R::Nil);
}

#[test]
fn check_22_exec_does_not_roll_back() {
    let mut p = Pair::new("c22");
    let (s, m1, m2) = (p.k("s"), p.k("m1"), p.k("m2"));
    let queued = R::Status("QUEUED".into());
    p.same(Cmd::set(&s, "abc"), ok());
    p.same(Cmd::Multi, ok());
    p.same(Cmd::set(&m1, "1"), queued.clone());
    p.same(Cmd::incr(&s), queued.clone());
    p.same(Cmd::set(&m2, "2"), queued);
    p.same(
        Cmd::Exec,
        R::Array(vec![
            ok(),
            error("ERR value is not an integer or out of range"),
            ok(),
        ]),
    );
    p.same(Cmd::get(&m1), bulk("1"));
    p.same(Cmd::get(&m2), bulk("2"));
}

#[test]
fn check_25_wait_without_replicas_replies_zero_at_once() {
    let mut p = Pair::new("c25");
    let t0 = std::time::Instant::now();
    p.same(
        Cmd::Wait {
            numreplicas: 0,
            timeout_ms: 100,
        },
        int(0),
    );
    assert!(
        t0.elapsed() < Duration::from_millis(100),
        "WAIT 0 100 at once"
    );
}

#[test]
fn time_replies_seconds_and_microseconds_of_the_wall_clock() {
    let mut p = Pair::new("time");
    let (real, twin) = p.both(Cmd::Time);
    let secs = |r: &R| -> i64 {
        let R::Array(xs) = r else { panic!("{r:?}") };
        assert_eq!(xs.len(), 2, "{r:?}");
        match (&xs[0], &xs[1]) {
            (R::Bulk(s), R::Bulk(us)) => {
                let us: i64 = us.parse().expect("µs");
                assert!((0..1_000_000).contains(&us));
                s.parse().expect("seconds")
            }
            _ => panic!("{r:?}"),
        }
    };
    assert!((secs(&real) - secs(&twin)).abs() <= 1, "{real:?} {twin:?}");
}

/// A private real server and a twin node, one connection each, for checks with faults.
struct Private {
    server: RedisServer,
    con: redis::Connection,
    twin: Redis,
    tc: ConnId,
}

impl Private {
    fn new(server: RedisServer, twin: Redis) -> Private {
        let con = server.connect();
        let mut twin = twin;
        let tc = twin.connect();
        Private {
            server,
            con,
            twin,
            tc,
        }
    }

    fn both(&mut self, cmd: Cmd) -> (R, R) {
        let rc = real_cmd(&cmd);
        let sent = now_clock();
        let at = format!("127.0.0.1:{}", self.server.port);
        let real = send_real(&mut self.con, &rc, &at);
        let twin = from_twin(self.twin.apply(self.tc, cmd, sent));
        (real, twin)
    }

    fn same(&mut self, cmd: Cmd, expected: R) {
        let shown = cmd.to_string();
        let (real, twin) = self.both(cmd);
        assert_eq!(
            (&real, &twin),
            (&expected, &expected),
            "{shown}: (real, twin) vs DISTRIBUTED.md"
        );
    }

    /// Both sides are up again after a restart: fresh connections.
    fn reconnect(&mut self) {
        self.con = self.server.connect();
        self.tc = self.twin.connect();
    }
}

#[test]
fn check_20_a_restart_forgets_loaded_scripts() {
    let mut p = Private::new(RedisServer::start(), Redis::new());
    let sha = "59b6ab2fbe0ee4b25733de0f62e6cda4899ef8e9";
    p.same(Cmd::ScriptLoad(SEVEN), bulk(sha));
    p.same(Cmd::evalsha(sha, &[], &[]), int(7));
    p.server.shutdown_nosave();
    p.server.start_again();
    p.twin.restart();
    p.reconnect();
    p.same(
        Cmd::evalsha(sha, &[], &[]),
        error("NOSCRIPT No matching script. Please use EVAL."),
    );
    p.same(Cmd::ScriptExists(vec![sha.into()]), R::Array(vec![int(0)]));
}

#[test]
fn check_26_a_restart_without_persistence_loses_the_lock() {
    let mut p = Private::new(RedisServer::start(), Redis::new());
    p.same(Cmd::set("k", "v").px(60_000), ok());
    p.server.shutdown_nosave();
    p.server.start_again();
    p.twin.restart();
    p.reconnect();
    p.same(Cmd::exists("k"), int(0));
}

#[test]
fn check_27_aof_always_keeps_keys_and_time_down_counts_against_their_ttl() {
    let mut p = Private::new(
        RedisServer::start_aof_always(),
        Redis::with_persistence(Persistence::AofAlways),
    );
    p.same(Cmd::set("p", "v").px(1500), ok());
    p.same(Cmd::set("q", "v").px(60_000), ok());
    p.server.kill9();
    p.twin.restart();
    // The check's 2 s down: true time passing is what the TTLs are measured against.
    std::thread::sleep(Duration::from_secs(2));
    p.server.start_again();
    p.reconnect();
    p.same(Cmd::exists("p"), int(0));
    let (real, twin) = p.both(Cmd::pttl("q"));
    for (side, r) in [("real", &real), ("twin", &twin)] {
        // ≈57500 with the check's slack (±10 %), never more than the 58000 left after 2 s.
        assert!(
            matches!(r, R::Int(ms) if (51_750..=58_000).contains(ms)),
            "{side}: PTTL q = {r:?}, expected ≈57500"
        );
    }
}

#[test]
fn check_24_a_synced_replica_has_the_lock_and_refuses_writes() {
    let master = RedisServer::start_with(&[
        "--save",
        "",
        "--appendonly",
        "no",
        "--repl-diskless-sync",
        "yes",
        "--repl-diskless-sync-delay",
        "0",
    ]);
    let replica = RedisServer::start_replica_of(master.port);
    let (mut m, mut r) = (master.connect(), replica.connect());
    let mut twin = ReplicaSet::new(1);
    let (tm, tr) = (twin.connect(0), twin.connect(1));
    let mut both = |on_replica: bool, cmd: Cmd| -> (R, R) {
        let rc = real_cmd(&cmd);
        let sent = now_clock();
        let (con, node, tc) = if on_replica {
            (&mut r, 1, tr)
        } else {
            (&mut m, 0, tm)
        };
        let real = send_real(con, &rc, "a private redis-server");
        let twin = match twin.apply(node, tc, cmd, sent) {
            // The twin's WAIT blocks until the queued effects are delivered and acknowledged.
            Reply::Blocked => {
                twin.deliver_all();
                R::Int(twin.node(0).wait_count(tm))
            }
            other => from_twin(other),
        };
        (real, twin)
    };
    assert_eq!(
        both(false, Cmd::set("k", "v").nx().px(60_000)),
        (ok(), ok())
    );
    let wait = Cmd::Wait {
        numreplicas: 1,
        timeout_ms: 500,
    };
    let t0 = std::time::Instant::now();
    let replies = both(false, wait);
    assert_eq!(
        replies,
        (int(1), int(1)),
        "WAIT 1 500 after {:?}",
        t0.elapsed()
    );
    assert_eq!(both(true, Cmd::get("k")), (bulk("v"), bulk("v")));
    let ro = error("READONLY You can't write against a read only replica.");
    assert_eq!(both(true, Cmd::set("x", "1")), (ro.clone(), ro));
}

/// 28 on real servers: the replication stream is cut before the write reaches the replica
/// (the replica is stopped with SIGSTOP so it cannot reconnect, and the master closes the
/// link with `CLIENT KILL TYPE replica`), the master is killed with SIGKILL, the replica is
/// resumed and promoted with `REPLICAOF NO ONE`: the acknowledged lock is gone.
#[test]
fn check_28_failover_loses_an_acknowledged_lock() {
    let mut master = RedisServer::start_with(&[
        "--save",
        "",
        "--appendonly",
        "no",
        "--repl-diskless-sync",
        "yes",
        "--repl-diskless-sync-delay",
        "0",
    ]);
    let replica = RedisServer::start_replica_of(master.port);
    let mut m = master.connect();
    let mut twin = ReplicaSet::new(1);
    let tm = twin.connect(0);
    replica.signal(libc::SIGSTOP);
    let killed: i64 = redis::cmd("CLIENT")
        .arg("KILL")
        .arg("TYPE")
        .arg("replica")
        .query(&mut m)
        .expect("CLIENT KILL TYPE replica");
    assert_eq!(killed, 1, "the master had one replica link");
    let set = Cmd::set("k", "t1").nx().px(60_000);
    let real = send_real(&mut m, &real_cmd(&set), "the private master");
    let tw = from_twin(twin.apply(0, tm, set, now_clock()));
    assert_eq!(
        (&real, &tw),
        (&ok(), &ok()),
        "A's lock acknowledged by the master"
    );
    twin.cut(1);
    master.kill9();
    replica.signal(libc::SIGCONT);
    let mut r = replica.connect();
    let _: () = redis::cmd("REPLICAOF")
        .arg("NO")
        .arg("ONE")
        .query(&mut r)
        .expect("REPLICAOF NO ONE");
    twin.failover(1);
    let tr = twin.connect(1);
    let get = Cmd::get("k");
    let real = send_real(&mut r, &real_cmd(&get), "the promoted replica");
    let tw = from_twin(twin.apply(1, tr, get, now_clock()));
    assert_eq!(
        (&real, &tw),
        (&R::Nil, &R::Nil),
        "the promoted replica lost A's lock"
    );
    let set = Cmd::set("k", "t2").nx().px(60_000);
    let real = send_real(&mut r, &real_cmd(&set), "the promoted replica");
    let tw = from_twin(twin.apply(1, tr, set, now_clock()));
    assert_eq!((&real, &tw), (&ok(), &ok()), "B acquires the same lock");
}

#[test]
fn check_23_a_request_sent_during_a_busy_script_is_applied_after_it_even_if_the_client_left() {
    const BUSY: Script = Script::new(
        "busy-1500ms",
        "local t0 = redis.call('time') local e = 0 repeat local t = redis.call('time') e = (t[1]-t0[1])*1000000 + (t[2]-t0[2]) until e >= 1500000 return 1",
        |ctx, _, _| {
            ctx.spin(1_500_000_000);
            Ok(Lua::int(1))
        },
    );
    let server = RedisServer::start();
    let port = server.port;
    let mut b = server.connect();
    b.set_read_timeout(Some(Duration::from_millis(300)))
        .expect("B's read timeout");
    let mut twin = Redis::new();
    let (ta, tb) = (twin.connect(), twin.connect());
    let a_sent = now_clock();
    let mut a = server.connect();
    let busy = std::thread::spawn(move || {
        send_real(
            &mut a,
            &real_cmd(&Cmd::eval(BUSY, &[], &[])),
            "a private redis-server",
        )
    });
    assert_eq!(
        twin.apply(ta, Cmd::eval(BUSY, &[], &[]), a_sent),
        Reply::Int(1)
    );
    let busy_until = a_sent.mono + twin.busy_ns();
    // The script runs once a fresh connection cannot get a PING answered within 50 ms.
    let running = poll(Duration::from_secs(5), || {
        let Ok(mut c) = redis::Client::open(format!("redis://127.0.0.1:{port}/0"))
            .expect("url")
            .get_connection_with_timeout(Duration::from_millis(50))
        else {
            return true;
        };
        c.set_read_timeout(Some(Duration::from_millis(50)))
            .expect("timeout");
        redis::cmd("PING").query::<String>(&mut c).is_err()
    });
    assert!(running, "the busy script did not start within 5 s");
    let set = Cmd::set("k", "x").nx().px(60_000);
    let t0 = std::time::Instant::now();
    let r = redis::ConnectionLike::req_command(&mut b, &real_cmd(&set));
    assert!(r.is_err(), "B got a reply while the script ran: {r:?}");
    assert!(t0.elapsed() >= Duration::from_millis(290), "B waited 0.3 s");
    drop(b);
    // The twin applies B's request when the server is free again.
    let b_sent = now_clock();
    let at = ServerClock::at(b_sent.mono.max(busy_until));
    assert_eq!(from_twin(twin.apply(tb, set, at)), ok());
    twin.close(tb);
    assert_eq!(busy.join().expect("A's thread"), int(1));
    let mut c = server.connect();
    let get = Cmd::get("k");
    let real = send_real(&mut c, &real_cmd(&get), "a private redis-server");
    let tw = from_twin(twin.apply(ta, get, now_clock()));
    assert_eq!((&real, &tw), (&bulk("x"), &bulk("x")));
    let pttl = Cmd::pttl("k");
    let real = send_real(&mut c, &real_cmd(&pttl), "a private redis-server");
    let tw = from_twin(twin.apply(ta, pttl, now_clock()));
    for (side, r) in [("real", &real), ("twin", &tw)] {
        assert!(
            matches!(r, R::Int(ms) if (54_000..=60_000).contains(ms)),
            "{side}: PTTL k = {r:?}, expected ≈60000"
        );
    }
}

/// 25 with a replica: the replica is paused with SIGSTOP (twin: its replication queue is held,
/// never delivered), so `WAIT 1 300` after a write times out with `0` after ≈0.3 s of real
/// time; a fresh connection, which wrote nothing, counts the replica at once.
#[test]
fn check_25_wait_times_out_while_the_replica_is_paused() {
    let master = RedisServer::start_with(&[
        "--save",
        "",
        "--appendonly",
        "no",
        "--repl-diskless-sync",
        "yes",
        "--repl-diskless-sync-delay",
        "0",
    ]);
    let replica = RedisServer::start_replica_of(master.port);
    let (mut m, mut fresh) = (master.connect(), master.connect());
    let mut twin = ReplicaSet::new(1);
    let (tm, tfresh) = (twin.connect(0), twin.connect(0));
    replica.signal(libc::SIGSTOP);
    let set = Cmd::set("k2", "v").nx().px(60_000);
    let real = send_real(&mut m, &real_cmd(&set), "the private master");
    let tw = from_twin(twin.apply(0, tm, set, now_clock()));
    assert_eq!((&real, &tw), (&ok(), &ok()));
    let wait = || Cmd::Wait {
        numreplicas: 1,
        timeout_ms: 300,
    };
    let t0 = std::time::Instant::now();
    let real = send_real(&mut m, &real_cmd(&wait()), "the private master");
    let took = t0.elapsed();
    // The twin's WAIT blocks; nothing is delivered, so its timeout replies the count.
    assert_eq!(twin.apply(0, tm, wait(), now_clock()), Reply::Blocked);
    let tw = R::Int(twin.node(0).wait_count(tm));
    assert_eq!((&real, &tw), (&int(0), &int(0)), "WAIT 1 300 while paused");
    assert!(
        took >= Duration::from_millis(290) && took < Duration::from_millis(800),
        "{took:?}"
    );
    let get = Cmd::get("k2");
    let real = send_real(&mut m, &real_cmd(&get), "the private master");
    let tw = from_twin(twin.apply(0, tm, get, now_clock()));
    assert_eq!((&real, &tw), (&bulk("v"), &bulk("v")));
    let t0 = std::time::Instant::now();
    let real = send_real(&mut fresh, &real_cmd(&wait()), "the private master");
    let tw = from_twin(twin.apply(0, tfresh, wait(), now_clock()));
    assert_eq!(
        (&real, &tw),
        (&int(1), &int(1)),
        "a fresh connection's WAIT"
    );
    assert!(t0.elapsed() < Duration::from_millis(100), "at once");
    replica.signal(libc::SIGCONT);
}

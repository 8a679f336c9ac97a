//! Typed commands, printed the way `redis-cli` takes them.

use std::fmt;

use super::script::Script;

/// An integer argument as the client sent it: usually an integer, but a client can send
/// any text (`SET k v EX 1.5`), which the server rejects with
/// `ERR value is not an integer or out of range`.
///
/// # Examples
///
/// ```
/// use lockproof_services::redis::IntArg;
///
/// assert_eq!(IntArg::from(10).to_string(), "10");
/// assert_eq!(IntArg::Text("1.5".into()).to_string(), "1.5");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IntArg {
    /// A well-formed integer.
    Int(i64),
    /// Text that is not an integer (kept to model the server's error).
    Text(String),
}

impl From<i64> for IntArg {
    fn from(n: i64) -> IntArg {
        IntArg::Int(n)
    }
}

impl fmt::Display for IntArg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IntArg::Int(n) => write!(f, "{n}"),
            IntArg::Text(s) => write!(f, "{s}"),
        }
    }
}

/// The condition of `EXPIRE`/`PEXPIRE` (Redis 7.0): at most one, so the server's
/// "not compatible" errors for two of them cannot be expressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExpireCond {
    /// Only when the key has no TTL.
    Nx,
    /// Only when the key has a TTL.
    Xx,
    /// Only when the new deadline is later than the current one (no TTL counts as infinite).
    Gt,
    /// Only when the new deadline is earlier than the current one (no TTL counts as
    /// infinite).
    Lt,
}

impl fmt::Display for ExpireCond {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ExpireCond::Nx => "NX",
            ExpireCond::Xx => "XX",
            ExpireCond::Gt => "GT",
            ExpireCond::Lt => "LT",
        })
    }
}

/// The arguments of `SET key value [NX|XX] [GET] [EX s|PX ms|KEEPTTL]`.
///
/// Every flag is independent so that the combinations the server rejects (`NX XX`,
/// `EX … PX …`) can be sent; build one with [`Cmd::set`] and the builder methods.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetArgs {
    /// The key.
    pub key: String,
    /// The new value.
    pub value: String,
    /// `NX`: only if the key is absent.
    pub nx: bool,
    /// `XX`: only if the key is present.
    pub xx: bool,
    /// `GET`: reply with the old value (or nil) instead of `OK`.
    pub get: bool,
    /// `EX seconds`.
    pub ex: Option<IntArg>,
    /// `PX milliseconds`.
    pub px: Option<IntArg>,
    /// `KEEPTTL`: keep the key's TTL (a plain `SET` removes it).
    pub keepttl: bool,
}

/// One command of a client, applied by [`super::Redis::apply`] as one atomic step.
///
/// `Display` prints it as typed in `redis-cli` (a script as `EVAL <name> <numkeys> keys…
/// args…`, since its body is a Rust function).
///
/// # Examples
///
/// ```
/// use lockproof_services::redis::Cmd;
///
/// assert_eq!(Cmd::set("lock:r", "tok").nx().ex(10).to_string(), "SET lock:r tok NX EX 10");
/// assert_eq!(Cmd::pttl("k").to_string(), "PTTL k");
/// ```
#[derive(Debug, Clone)]
pub enum Cmd {
    /// `GET key`.
    Get(String),
    /// `SET key value …`.
    Set(SetArgs),
    /// `SETEX key seconds value`.
    SetEx {
        /// The key.
        key: String,
        /// The TTL in seconds (must be > 0).
        seconds: i64,
        /// The value.
        value: String,
    },
    /// `GETDEL key`.
    GetDel(String),
    /// `DEL key…`: replies with the number of keys removed.
    Del(Vec<String>),
    /// `EXISTS key…`: counts repeated names each time.
    Exists(Vec<String>),
    /// `EXPIRE key seconds [cond]` (`millis` false) or `PEXPIRE key ms [cond]` (`millis` true).
    Expire {
        /// The key.
        key: String,
        /// The relative time; ≤ 0 deletes the key.
        amount: i64,
        /// Milliseconds (`PEXPIRE`) rather than seconds (`EXPIRE`).
        millis: bool,
        /// `NX`/`XX`/`GT`/`LT`.
        cond: Option<ExpireCond>,
    },
    /// `TTL key` (`millis` false) or `PTTL key` (`millis` true).
    Ttl {
        /// The key.
        key: String,
        /// `PTTL` rather than `TTL`.
        millis: bool,
    },
    /// `PEXPIRETIME key`: the absolute deadline in Unix ms.
    PExpireTime(String),
    /// `PERSIST key`.
    Persist(String),
    /// `INCRBY key by` (`INCR key` when `by` is 1 and `incr` is true).
    IncrBy {
        /// The key.
        key: String,
        /// The increment.
        by: i64,
        /// Printed as `INCR key` rather than `INCRBY key 1`.
        incr: bool,
    },
    /// `HINCRBY key field by`.
    HIncrBy {
        /// The key.
        key: String,
        /// The field.
        field: String,
        /// The increment.
        by: i64,
    },
    /// `HGET key field`.
    HGet(String, String),
    /// `HSET key field value [field value …]`: replies with the number of new fields.
    HSet(String, Vec<(String, String)>),
    /// `HDEL key field…`.
    HDel(String, Vec<String>),
    /// `HLEN key`.
    HLen(String),
    /// `HEXISTS key field`.
    HExists(String, String),
    /// `HGETALL key`.
    HGetAll(String),
    /// `LPUSH key value…`: pushes each value at the head in turn.
    LPush(String, Vec<String>),
    /// `LTRIM key start stop`.
    LTrim(String, i64, i64),
    /// `LRANGE key start stop`.
    LRange(String, i64, i64),
    /// `TIME`: the server's wall clock as Unix seconds and microseconds.
    Time,
    /// `DBSIZE`: keys in the key space, counting expired keys not yet reclaimed.
    DbSize,
    /// `EVAL script numkeys key… arg…`.
    Eval {
        /// The script (a Rust function standing for the Lua text).
        script: Script,
        /// `KEYS`.
        keys: Vec<String>,
        /// `ARGV`.
        args: Vec<String>,
    },
    /// `EVALSHA sha numkeys key… arg…`.
    EvalSha {
        /// The SHA1 of the script's text.
        sha: String,
        /// `KEYS`.
        keys: Vec<String>,
        /// `ARGV`.
        args: Vec<String>,
    },
    /// `SCRIPT LOAD script`: replies with its SHA1.
    ScriptLoad(Script),
    /// `SCRIPT EXISTS sha…`.
    ScriptExists(Vec<String>),
    /// `MULTI`.
    Multi,
    /// `EXEC`.
    Exec,
    /// `DISCARD`.
    Discard,
    /// `WATCH key…`.
    Watch(Vec<String>),
    /// `UNWATCH`.
    Unwatch,
    /// `WAIT numreplicas timeout`.
    Wait {
        /// Replicas to wait for.
        numreplicas: i64,
        /// Milliseconds (0 = forever).
        timeout_ms: i64,
    },
}

impl Cmd {
    /// `SET key value`, to refine with [`Cmd::nx`], [`Cmd::px`], …
    pub fn set(key: impl Into<String>, value: impl Into<String>) -> Cmd {
        Cmd::Set(SetArgs {
            key: key.into(),
            value: value.into(),
            nx: false,
            xx: false,
            get: false,
            ex: None,
            px: None,
            keepttl: false,
        })
    }

    fn set_args(mut self, f: impl FnOnce(&mut SetArgs)) -> Cmd {
        match &mut self {
            Cmd::Set(a) => f(a),
            other => panic!("SET option on a command that is not SET: {other}"),
        }
        self
    }

    /// Adds `NX` to a `SET`.
    pub fn nx(self) -> Cmd {
        self.set_args(|a| a.nx = true)
    }

    /// Adds `XX` to a `SET`.
    pub fn xx(self) -> Cmd {
        self.set_args(|a| a.xx = true)
    }

    /// Adds `GET` to a `SET`.
    pub fn get_old(self) -> Cmd {
        self.set_args(|a| a.get = true)
    }

    /// Adds `EX seconds` to a `SET`.
    pub fn ex(self, seconds: impl Into<IntArg>) -> Cmd {
        let s = seconds.into();
        self.set_args(|a| a.ex = Some(s))
    }

    /// Adds `PX milliseconds` to a `SET`.
    pub fn px(self, millis: impl Into<IntArg>) -> Cmd {
        let ms = millis.into();
        self.set_args(|a| a.px = Some(ms))
    }

    /// Adds `KEEPTTL` to a `SET`.
    pub fn keepttl(self) -> Cmd {
        self.set_args(|a| a.keepttl = true)
    }

    /// `GET key`.
    pub fn get(key: impl Into<String>) -> Cmd {
        Cmd::Get(key.into())
    }

    /// `DEL key`.
    pub fn del(key: impl Into<String>) -> Cmd {
        Cmd::Del(vec![key.into()])
    }

    /// `EXISTS key`.
    pub fn exists(key: impl Into<String>) -> Cmd {
        Cmd::Exists(vec![key.into()])
    }

    /// `EXPIRE key seconds`.
    pub fn expire(key: impl Into<String>, seconds: i64) -> Cmd {
        Cmd::Expire {
            key: key.into(),
            amount: seconds,
            millis: false,
            cond: None,
        }
    }

    /// `PEXPIRE key ms`.
    pub fn pexpire(key: impl Into<String>, millis: i64) -> Cmd {
        Cmd::Expire {
            key: key.into(),
            amount: millis,
            millis: true,
            cond: None,
        }
    }

    /// Adds a condition to `EXPIRE`/`PEXPIRE`.
    pub fn cond(mut self, c: ExpireCond) -> Cmd {
        match &mut self {
            Cmd::Expire { cond, .. } => *cond = Some(c),
            other => panic!("EXPIRE condition on {other}"),
        }
        self
    }

    /// `TTL key`.
    pub fn ttl(key: impl Into<String>) -> Cmd {
        Cmd::Ttl {
            key: key.into(),
            millis: false,
        }
    }

    /// `PTTL key`.
    pub fn pttl(key: impl Into<String>) -> Cmd {
        Cmd::Ttl {
            key: key.into(),
            millis: true,
        }
    }

    /// `INCR key`.
    pub fn incr(key: impl Into<String>) -> Cmd {
        Cmd::IncrBy {
            key: key.into(),
            by: 1,
            incr: true,
        }
    }

    /// `INCRBY key by`.
    pub fn incrby(key: impl Into<String>, by: i64) -> Cmd {
        Cmd::IncrBy {
            key: key.into(),
            by,
            incr: false,
        }
    }

    /// `HINCRBY key field by`.
    pub fn hincrby(key: impl Into<String>, field: impl Into<String>, by: i64) -> Cmd {
        Cmd::HIncrBy {
            key: key.into(),
            field: field.into(),
            by,
        }
    }

    /// `EVAL` of a script with its keys and arguments.
    pub fn eval(script: Script, keys: &[&str], args: &[&str]) -> Cmd {
        Cmd::Eval {
            script,
            keys: keys.iter().map(|s| s.to_string()).collect(),
            args: args.iter().map(|s| s.to_string()).collect(),
        }
    }

    /// `EVALSHA` with keys and arguments.
    pub fn evalsha(sha: impl Into<String>, keys: &[&str], args: &[&str]) -> Cmd {
        Cmd::EvalSha {
            sha: sha.into(),
            keys: keys.iter().map(|s| s.to_string()).collect(),
            args: args.iter().map(|s| s.to_string()).collect(),
        }
    }

    /// True for a command that writes (refused on a replica with `READONLY`); `EVAL`,
    /// `EVALSHA` and `EXEC` are judged per command they run.
    pub fn is_write(&self) -> bool {
        matches!(
            self,
            Cmd::Set(_)
                | Cmd::SetEx { .. }
                | Cmd::GetDel(_)
                | Cmd::Del(_)
                | Cmd::Expire { .. }
                | Cmd::Persist(_)
                | Cmd::IncrBy { .. }
                | Cmd::HIncrBy { .. }
                | Cmd::HSet(..)
                | Cmd::HDel(..)
                | Cmd::LPush(..)
                | Cmd::LTrim(..)
        )
    }
}

fn words(f: &mut fmt::Formatter<'_>, items: &[String]) -> fmt::Result {
    for s in items {
        write!(f, " {s}")?;
    }
    Ok(())
}

impl fmt::Display for Cmd {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Cmd::Get(k) => write!(f, "GET {k}"),
            Cmd::Set(a) => {
                write!(f, "SET {} {}", a.key, a.value)?;
                if a.nx {
                    write!(f, " NX")?;
                }
                if a.xx {
                    write!(f, " XX")?;
                }
                if a.get {
                    write!(f, " GET")?;
                }
                if let Some(s) = &a.ex {
                    write!(f, " EX {s}")?;
                }
                if let Some(ms) = &a.px {
                    write!(f, " PX {ms}")?;
                }
                if a.keepttl {
                    write!(f, " KEEPTTL")?;
                }
                Ok(())
            }
            Cmd::SetEx {
                key,
                seconds,
                value,
            } => write!(f, "SETEX {key} {seconds} {value}"),
            Cmd::GetDel(k) => write!(f, "GETDEL {k}"),
            Cmd::Del(ks) => {
                write!(f, "DEL")?;
                words(f, ks)
            }
            Cmd::Exists(ks) => {
                write!(f, "EXISTS")?;
                words(f, ks)
            }
            Cmd::Expire {
                key,
                amount,
                millis,
                cond,
            } => {
                let name = if *millis { "PEXPIRE" } else { "EXPIRE" };
                write!(f, "{name} {key} {amount}")?;
                if let Some(c) = cond {
                    write!(f, " {c}")?;
                }
                Ok(())
            }
            Cmd::Ttl { key, millis } => {
                write!(f, "{} {key}", if *millis { "PTTL" } else { "TTL" })
            }
            Cmd::PExpireTime(k) => write!(f, "PEXPIRETIME {k}"),
            Cmd::Persist(k) => write!(f, "PERSIST {k}"),
            Cmd::IncrBy {
                key, incr: true, ..
            } => write!(f, "INCR {key}"),
            Cmd::IncrBy { key, by, .. } => write!(f, "INCRBY {key} {by}"),
            Cmd::HIncrBy { key, field, by } => write!(f, "HINCRBY {key} {field} {by}"),
            Cmd::HGet(k, field) => write!(f, "HGET {k} {field}"),
            Cmd::HSet(k, pairs) => {
                write!(f, "HSET {k}")?;
                for (field, v) in pairs {
                    write!(f, " {field} {v}")?;
                }
                Ok(())
            }
            Cmd::HDel(k, fields) => {
                write!(f, "HDEL {k}")?;
                words(f, fields)
            }
            Cmd::HLen(k) => write!(f, "HLEN {k}"),
            Cmd::HExists(k, field) => write!(f, "HEXISTS {k} {field}"),
            Cmd::HGetAll(k) => write!(f, "HGETALL {k}"),
            Cmd::LPush(k, vs) => {
                write!(f, "LPUSH {k}")?;
                words(f, vs)
            }
            Cmd::LTrim(k, a, b) => write!(f, "LTRIM {k} {a} {b}"),
            Cmd::LRange(k, a, b) => write!(f, "LRANGE {k} {a} {b}"),
            Cmd::Time => write!(f, "TIME"),
            Cmd::DbSize => write!(f, "DBSIZE"),
            Cmd::Eval { script, keys, args } => {
                write!(f, "EVAL {} {}", script.name, keys.len())?;
                words(f, keys)?;
                words(f, args)
            }
            Cmd::EvalSha { sha, keys, args } => {
                write!(f, "EVALSHA {sha} {}", keys.len())?;
                words(f, keys)?;
                words(f, args)
            }
            Cmd::ScriptLoad(s) => write!(f, "SCRIPT LOAD {}", s.name),
            Cmd::ScriptExists(shas) => {
                write!(f, "SCRIPT EXISTS")?;
                words(f, shas)
            }
            Cmd::Multi => write!(f, "MULTI"),
            Cmd::Exec => write!(f, "EXEC"),
            Cmd::Discard => write!(f, "DISCARD"),
            Cmd::Watch(ks) => {
                write!(f, "WATCH")?;
                words(f, ks)
            }
            Cmd::Unwatch => write!(f, "UNWATCH"),
            Cmd::Wait {
                numreplicas,
                timeout_ms,
            } => write!(f, "WAIT {numreplicas} {timeout_ms}"),
        }
    }
}

//! Scripts: a Rust function stands for a Lua script's body; `redis.call` and the Lua type
//! conversions of Redis 7.0 are modelled by [`ScriptCtx`] and [`Lua`].

use std::fmt;

use super::cmd::Cmd;
use super::reply::{RedisError, Reply};
use super::server::{ConnId, Now, Redis};

/// The body of a script: `KEYS`, `ARGV` in, a Lua value out. An `Err` is an error raised
/// in the script (by `redis.call` or by the script itself); the script's writes before it
/// stay (no rollback).
pub type ScriptFn = fn(&mut ScriptCtx<'_>, &[String], &[String]) -> Result<Lua, RedisError>;

/// A script: its Lua text (which gives its SHA1, as `SCRIPT LOAD` computes it), a short
/// name for traces, and the Rust function that does what the Lua text does.
///
/// # Examples
///
/// ```
/// use lockproof_services::redis::{Cmd, Lua, Redis, Reply, Script, ScriptCtx};
/// use lockproof_services::time::ServerClock;
///
/// // if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end
/// fn unlock(ctx: &mut ScriptCtx<'_>, keys: &[String], args: &[String]) -> Result<Lua, lockproof_services::redis::RedisError> {
///     if ctx.call(Cmd::get(&keys[0]))? == Lua::str(&args[0]) {
///         ctx.call(Cmd::del(&keys[0]))
///     } else {
///         Ok(Lua::int(0))
///     }
/// }
/// const UNLOCK: Script = Script::new("unlock", "if redis.call('get',KEYS[1]) == ARGV[1] then return redis.call('del',KEYS[1]) else return 0 end", unlock);
///
/// let mut r = Redis::new();
/// let c = r.connect();
/// let t = ServerClock::at(1_000_000_000);
/// r.apply(c, Cmd::set("k", "tokA").px(30_000), t);
/// assert_eq!(r.apply(c, Cmd::eval(UNLOCK, &["k"], &["tokB"]), t), Reply::Int(0));
/// assert_eq!(r.apply(c, Cmd::eval(UNLOCK, &["k"], &["tokA"]), t), Reply::Int(1));
/// ```
#[derive(Clone, Copy)]
pub struct Script {
    /// A short name, printed in traces instead of the text.
    pub name: &'static str,
    /// The Lua text the body stands for; its SHA1 is the script's SHA.
    pub source: &'static str,
    /// What the script does.
    pub body: ScriptFn,
}

impl Script {
    /// A script from its name, Lua text and body.
    pub const fn new(name: &'static str, source: &'static str, body: ScriptFn) -> Script {
        Script { name, source, body }
    }

    /// The SHA1 of the Lua text in lowercase hex, as `SCRIPT LOAD` replies.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof_services::redis::{Lua, Script};
    ///
    /// const SEVEN: Script = Script::new("seven", "return 7", |_, _, _| Ok(Lua::int(7)));
    /// assert_eq!(SEVEN.sha(), "59b6ab2fbe0ee4b25733de0f62e6cda4899ef8e9");
    /// ```
    pub fn sha(&self) -> String {
        sha1_hex(self.source.as_bytes())
    }
}

impl fmt::Debug for Script {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Script").field("name", &self.name).finish()
    }
}

/// A Lua value as a script sees and returns it (Redis 7.0's conversions).
///
/// `redis.call` converts replies: nil → `false`, a status → a table with field `ok`
/// ([`Lua::Status`]), an integer → a number, a bulk string → a string, an array → a table.
/// A returned value converts back: `false` and `nil` → nil, `true` → `1`, a number → an
/// integer truncated toward zero (3.9 → 3), a table → an array cut at its first nil.
///
/// # Examples
///
/// ```
/// use lockproof_services::redis::{Lua, Reply};
///
/// assert_eq!(Lua::Number(3.9).into_reply(), Reply::Int(3));
/// assert_eq!(Lua::Bool(false).into_reply(), Reply::Nil);
/// assert_eq!(
///     Lua::Table(vec![Lua::int(1), Lua::int(2), Lua::Nil, Lua::int(4)]).into_reply(),
///     Reply::Array(vec![Reply::Int(1), Reply::Int(2)])
/// );
/// ```
#[derive(Debug, Clone, PartialEq)]
pub enum Lua {
    /// `nil`.
    Nil,
    /// A boolean (a nil reply arrives as `false`).
    Bool(bool),
    /// A number (Lua 5.1 numbers are doubles).
    Number(f64),
    /// A string.
    Str(String),
    /// An array table.
    Table(Vec<Lua>),
    /// A status table `{ok = …}`.
    Status(String),
    /// An error table `{err = …}` (what `redis.pcall` returns for an error).
    Error(RedisError),
}

impl Lua {
    /// A number holding an integer.
    pub fn int(n: i64) -> Lua {
        Lua::Number(n as f64)
    }

    /// A string.
    pub fn str(s: impl Into<String>) -> Lua {
        Lua::Str(s.into())
    }

    /// Lua's `type()` of the value.
    pub fn type_name(&self) -> &'static str {
        match self {
            Lua::Nil => "nil",
            Lua::Bool(_) => "boolean",
            Lua::Number(_) => "number",
            Lua::Str(_) => "string",
            Lua::Table(_) | Lua::Status(_) | Lua::Error(_) => "table",
        }
    }

    /// Lua truthiness: everything but `nil` and `false` is true.
    pub fn truthy(&self) -> bool {
        !matches!(self, Lua::Nil | Lua::Bool(false))
    }

    /// The number as an integer (truncated), or a string holding an integer.
    pub fn as_int(&self) -> Option<i64> {
        match self {
            Lua::Number(x) => Some(x.trunc() as i64),
            Lua::Str(s) => s.parse().ok(),
            _ => None,
        }
    }

    /// The reply a script returning this value sends.
    pub fn into_reply(self) -> Reply {
        match self {
            Lua::Nil | Lua::Bool(false) => Reply::Nil,
            Lua::Bool(true) => Reply::Int(1),
            Lua::Number(x) => Reply::Int(x.trunc() as i64),
            Lua::Str(s) => Reply::Bulk(s),
            Lua::Table(items) => Reply::Array(
                items
                    .into_iter()
                    .take_while(|v| !matches!(v, Lua::Nil))
                    .map(Lua::into_reply)
                    .collect(),
            ),
            Lua::Status(s) => Reply::Status(s),
            Lua::Error(e) => Reply::Error(e),
        }
    }

    /// The value `redis.call` gives the script for a reply (errors excepted: they raise).
    pub fn from_reply(r: Reply) -> Lua {
        match r {
            Reply::Nil | Reply::Blocked => Lua::Bool(false),
            Reply::Int(n) => Lua::int(n),
            Reply::Bulk(s) => Lua::Str(s),
            Reply::Status(s) => Lua::Status(s),
            Reply::Array(items) => Lua::Table(items.into_iter().map(Lua::from_reply).collect()),
            Reply::Error(e) => Lua::Error(e),
        }
    }
}

/// What a running script can do: `redis.call`, `redis.pcall`, read `TIME`, and spend time.
///
/// The script is one atomic step. Key existence is judged at the instant the script
/// started (Redis 7.0 freezes time for expiry inside a script), while `TIME`, TTL
/// arithmetic (`PTTL` is clamped at 0) and new deadlines use the script's running clock,
/// which only [`ScriptCtx::spin`] advances.
#[derive(Debug)]
pub struct ScriptCtx<'a> {
    pub(super) server: &'a mut Redis,
    pub(super) conn: ConnId,
    pub(super) expiry_ms: i64,
    pub(super) wall: i64,
    pub(super) spun_ns: u64,
}

impl ScriptCtx<'_> {
    /// `redis.call`: runs a command; an error reply raises (returned as `Err` for `?`).
    pub fn call(&mut self, cmd: Cmd) -> Result<Lua, RedisError> {
        match self.pcall(cmd) {
            Lua::Error(e) => Err(e),
            v => Ok(v),
        }
    }

    /// `redis.pcall`: runs a command; an error reply comes back as [`Lua::Error`].
    pub fn pcall(&mut self, cmd: Cmd) -> Lua {
        if matches!(
            cmd,
            Cmd::Eval { .. }
                | Cmd::EvalSha { .. }
                | Cmd::ScriptLoad(_)
                | Cmd::ScriptExists(_)
                | Cmd::Multi
                | Cmd::Exec
                | Cmd::Discard
                | Cmd::Watch(_)
                | Cmd::Unwatch
                | Cmd::Wait { .. }
        ) {
            return Lua::Error(RedisError::NotAllowedFromScript);
        }
        let now = Now {
            expiry_ms: self.expiry_ms,
            wall: self.wall,
        };
        let reply = self.server.run_command(self.conn, &cmd, now);
        Lua::from_reply(reply)
    }

    /// Spends `nanos` of server time inside the script (a busy loop): `TIME` moves, key
    /// existence does not; the server is busy for that long.
    pub fn spin(&mut self, nanos: u64) {
        self.wall = self
            .wall
            .saturating_add(i64::try_from(nanos).unwrap_or(i64::MAX));
        self.spun_ns += nanos;
    }

    /// The server's wall clock now, in ns (what `TIME` reports).
    pub fn wall_ns(&self) -> i64 {
        self.wall
    }
}

/// SHA1 of `data` in lowercase hex (FIPS 180-1), for script SHAs.
pub(super) fn sha1_hex(data: &[u8]) -> String {
    let mut h: [u32; 5] = [
        0x6745_2301,
        0xEFCD_AB89,
        0x98BA_DCFE,
        0x1032_5476,
        0xC3D2_E1F0,
    ];
    let mut msg = data.to_vec();
    let bit_len = (data.len() as u64).wrapping_mul(8);
    msg.push(0x80);
    while msg.len() % 64 != 56 {
        msg.push(0);
    }
    msg.extend_from_slice(&bit_len.to_be_bytes());
    for block in msg.chunks(64) {
        let mut w = [0u32; 80];
        for (i, word) in block.chunks(4).enumerate() {
            w[i] = u32::from_be_bytes([word[0], word[1], word[2], word[3]]);
        }
        for i in 16..80 {
            w[i] = (w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16]).rotate_left(1);
        }
        let [mut a, mut b, mut c, mut d, mut e] = h;
        for (i, wi) in w.iter().enumerate() {
            let (f, k) = match i {
                0..=19 => ((b & c) | (!b & d), 0x5A82_7999),
                20..=39 => (b ^ c ^ d, 0x6ED9_EBA1),
                40..=59 => ((b & c) | (b & d) | (c & d), 0x8F1B_BCDC),
                _ => (b ^ c ^ d, 0xCA62_C1D6),
            };
            let t = a
                .rotate_left(5)
                .wrapping_add(f)
                .wrapping_add(e)
                .wrapping_add(k)
                .wrapping_add(*wi);
            e = d;
            d = c;
            c = b.rotate_left(30);
            b = a;
            a = t;
        }
        for (hi, v) in h.iter_mut().zip([a, b, c, d, e]) {
            *hi = hi.wrapping_add(v);
        }
    }
    h.iter().map(|x| format!("{x:08x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::sha1_hex;

    #[test]
    fn sha1_known_vectors() {
        assert_eq!(sha1_hex(b""), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
        assert_eq!(sha1_hex(b"abc"), "a9993e364706816aba3e25717850c26c9cd0d89d");
    }
}

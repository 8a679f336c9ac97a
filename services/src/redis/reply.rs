//! Replies and errors, spelled the way `redis-cli` prints them.

use std::fmt;

/// One reply of the server (RESP2 as `redis-cli` shows it).
///
/// `Display` follows `redis-cli`: `OK`, `(nil)`, `(integer) 1`, `"v"`, `(error) ERR …`; an
/// array is printed on one line as `1) "a" 2) "b"` (redis-cli puts each element on its own
/// line), an empty one as `(empty array)`.
///
/// # Examples
///
/// ```
/// use lockproof_services::redis::Reply;
///
/// assert_eq!(Reply::ok().to_string(), "OK");
/// assert_eq!(Reply::Nil.to_string(), "(nil)");
/// assert_eq!(Reply::Int(2).to_string(), "(integer) 2");
/// assert_eq!(Reply::bulk("t1").to_string(), "\"t1\"");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    /// A status reply such as `OK` or `QUEUED`.
    Status(String),
    /// The null reply (bulk or array): a missing key, a `SET NX` that did not set, an aborted
    /// `EXEC`.
    Nil,
    /// An integer reply.
    Int(i64),
    /// A bulk string.
    Bulk(String),
    /// An array of replies (`TIME`, `LRANGE`, `EXEC`, a script returning a table).
    Array(Vec<Reply>),
    /// An error reply; `EXEC` carries a command's run-time error as one of its elements.
    Error(RedisError),
    /// Not a RESP reply: the command would block on the real server (only `WAIT` whose
    /// replicas have not acknowledged yet). The caller delivers the final reply later, from
    /// [`super::Redis::wait_count`] when the timeout fires or when a replica acknowledges.
    Blocked,
}

impl Reply {
    /// The `OK` status.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof_services::redis::Reply;
    ///
    /// assert_eq!(Reply::ok(), Reply::Status("OK".into()));
    /// ```
    pub fn ok() -> Reply {
        Reply::Status("OK".into())
    }

    /// A bulk string reply.
    pub fn bulk(s: impl Into<String>) -> Reply {
        Reply::Bulk(s.into())
    }

    /// True for an error reply.
    pub fn is_error(&self) -> bool {
        matches!(self, Reply::Error(_))
    }

    /// The integer of an integer reply.
    pub fn as_int(&self) -> Option<i64> {
        match self {
            Reply::Int(n) => Some(*n),
            _ => None,
        }
    }

    /// The text of a bulk reply.
    pub fn as_bulk(&self) -> Option<&str> {
        match self {
            Reply::Bulk(s) => Some(s),
            _ => None,
        }
    }
}

impl fmt::Display for Reply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reply::Status(s) => write!(f, "{s}"),
            Reply::Nil => write!(f, "(nil)"),
            Reply::Int(n) => write!(f, "(integer) {n}"),
            Reply::Bulk(s) => write!(f, "{s:?}"),
            Reply::Array(items) if items.is_empty() => write!(f, "(empty array)"),
            Reply::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        write!(f, " ")?;
                    }
                    write!(f, "{}) {item}", i + 1)?;
                }
                Ok(())
            }
            Reply::Error(e) => write!(f, "(error) {e}"),
            Reply::Blocked => write!(f, "(blocked)"),
        }
    }
}

impl From<RedisError> for Reply {
    fn from(e: RedisError) -> Reply {
        Reply::Error(e)
    }
}

/// An error reply of Redis 7.0, with its code (`ERR`, `WRONGTYPE`, …) and exact message.
///
/// `Display` gives the full text the server sends, e.g. `ERR syntax error`.
///
/// # Examples
///
/// ```
/// use lockproof_services::redis::RedisError;
///
/// assert_eq!(
///     RedisError::InvalidExpire("set").to_string(),
///     "ERR invalid expire time in 'set' command"
/// );
/// assert_eq!(RedisError::NoScript.code(), "NOSCRIPT");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RedisError {
    /// `ERR syntax error`: conflicting options (`NX XX`, `EX … PX …`, `KEEPTTL` with a time).
    Syntax,
    /// `ERR value is not an integer or out of range`: an argument or a stored value is not an
    /// integer.
    NotInteger,
    /// `ERR hash value is not an integer`: `HINCRBY` on a non-integer field.
    HashNotInteger,
    /// `ERR increment or decrement would overflow`.
    Overflow,
    /// `ERR invalid expire time in '<command>' command`: a time ≤ 0 for `SET`/`SETEX`, or an
    /// overflowing one.
    InvalidExpire(&'static str),
    /// `WRONGTYPE Operation against a key holding the wrong kind of value`.
    WrongType,
    /// `NOSCRIPT No matching script. Please use EVAL.`
    NoScript,
    /// `READONLY You can't write against a read only replica.`
    ReadOnly,
    /// `ERR EXEC without MULTI`.
    ExecWithoutMulti,
    /// `ERR DISCARD without MULTI`.
    DiscardWithoutMulti,
    /// `ERR MULTI calls can not be nested`.
    NestedMulti,
    /// `ERR WATCH inside MULTI is not allowed`.
    WatchInsideMulti,
    /// `EXECABORT Transaction discarded because of previous errors.`
    ExecAbort,
    /// `ERR This Redis command is not allowed from script`.
    NotAllowedFromScript,
    /// An error a script raised itself (`redis.error_reply`, `error()`); the text is sent as is.
    Script(String),
}

impl RedisError {
    /// The error code: the first word of the reply.
    pub fn code(&self) -> &str {
        match self {
            RedisError::WrongType => "WRONGTYPE",
            RedisError::NoScript => "NOSCRIPT",
            RedisError::ReadOnly => "READONLY",
            RedisError::ExecAbort => "EXECABORT",
            RedisError::Script(s) => s.split(' ').next().unwrap_or(""),
            _ => "ERR",
        }
    }
}

impl fmt::Display for RedisError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RedisError::Syntax => write!(f, "ERR syntax error"),
            RedisError::NotInteger => write!(f, "ERR value is not an integer or out of range"),
            RedisError::HashNotInteger => write!(f, "ERR hash value is not an integer"),
            RedisError::Overflow => write!(f, "ERR increment or decrement would overflow"),
            RedisError::InvalidExpire(cmd) => {
                write!(f, "ERR invalid expire time in '{cmd}' command")
            }
            RedisError::WrongType => write!(
                f,
                "WRONGTYPE Operation against a key holding the wrong kind of value"
            ),
            RedisError::NoScript => write!(f, "NOSCRIPT No matching script. Please use EVAL."),
            RedisError::ReadOnly => {
                write!(f, "READONLY You can't write against a read only replica.")
            }
            RedisError::ExecWithoutMulti => write!(f, "ERR EXEC without MULTI"),
            RedisError::DiscardWithoutMulti => write!(f, "ERR DISCARD without MULTI"),
            RedisError::NestedMulti => write!(f, "ERR MULTI calls can not be nested"),
            RedisError::WatchInsideMulti => write!(f, "ERR WATCH inside MULTI is not allowed"),
            RedisError::ExecAbort => write!(
                f,
                "EXECABORT Transaction discarded because of previous errors."
            ),
            RedisError::NotAllowedFromScript => {
                write!(f, "ERR This Redis command is not allowed from script")
            }
            RedisError::Script(s) => write!(f, "{s}"),
        }
    }
}

impl std::error::Error for RedisError {}

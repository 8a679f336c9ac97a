//! Typed requests and replies of a session, printed as zkCli spells them (for traces).

use std::fmt;

use super::{CreateMode, Op, OpResult, Stat, ANY_VERSION};

/// One request of a session, as [`ZooKeeper::apply`](super::ZooKeeper::apply) takes it.
/// `Display` prints the zkCli command (`create -s -e /p/lock-`, `stat -w /p/w`, `ls -w /p`).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Request {
    /// `create`: see [`ZooKeeper::create`](super::ZooKeeper::create).
    Create {
        /// The path or sequential prefix.
        path: String,
        /// The data.
        data: Vec<u8>,
        /// The mode.
        mode: CreateMode,
    },
    /// `delete`: see [`ZooKeeper::delete`](super::ZooKeeper::delete).
    Delete {
        /// The path.
        path: String,
        /// The expected version ([`ANY_VERSION`] for any).
        version: i32,
    },
    /// `set`: see [`ZooKeeper::set_data`](super::ZooKeeper::set_data).
    SetData {
        /// The path.
        path: String,
        /// The new data.
        data: Vec<u8>,
        /// The expected version ([`ANY_VERSION`] for any).
        version: i32,
    },
    /// `get`: see [`ZooKeeper::get_data`](super::ZooKeeper::get_data).
    GetData {
        /// The path.
        path: String,
        /// Whether to leave a data watch.
        watch: bool,
    },
    /// `exists` (zkCli `stat`): see [`ZooKeeper::exists`](super::ZooKeeper::exists).
    Exists {
        /// The path.
        path: String,
        /// Whether to leave a watch (also on a missing node).
        watch: bool,
    },
    /// `getChildren` (zkCli `ls`): see [`ZooKeeper::get_children`](super::ZooKeeper::get_children).
    GetChildren {
        /// The path.
        path: String,
        /// Whether to leave a child watch.
        watch: bool,
    },
    /// `sync`.
    Sync {
        /// The path.
        path: String,
    },
    /// `multi`: see [`ZooKeeper::multi`](super::ZooKeeper::multi).
    Multi(Vec<Op>),
    /// A heartbeat.
    Ping,
    /// Close the session.
    Close,
}

fn text(data: &[u8]) -> String {
    String::from_utf8_lossy(data).into_owned()
}

fn version_flag(f: &mut fmt::Formatter<'_>, version: i32) -> fmt::Result {
    if version == ANY_VERSION {
        Ok(())
    } else {
        write!(f, " -v {version}")
    }
}

impl fmt::Display for Op {
    /// The zkCli-like form of the op (`check` has no zkCli command: `check -v 1 /p/c`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Op::Create { path, data, mode } => {
                f.write_str("create")?;
                if mode.is_sequential() {
                    f.write_str(" -s")?;
                }
                if mode.is_ephemeral() {
                    f.write_str(" -e")?;
                }
                write!(f, " {path}")?;
                if !data.is_empty() {
                    write!(f, " {}", text(data))?;
                }
                Ok(())
            }
            Op::Delete { path, version } => {
                f.write_str("delete")?;
                version_flag(f, *version)?;
                write!(f, " {path}")
            }
            Op::SetData {
                path,
                data,
                version,
            } => {
                f.write_str("set")?;
                version_flag(f, *version)?;
                write!(f, " {path} {}", text(data))
            }
            Op::Check { path, version } => write!(f, "check -v {version} {path}"),
        }
    }
}

impl fmt::Display for Request {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let w = |watch: &bool| if *watch { " -w" } else { "" };
        match self {
            Request::Create { path, data, mode } => Op::Create {
                path: path.clone(),
                data: data.clone(),
                mode: *mode,
            }
            .fmt(f),
            Request::Delete { path, version } => Op::Delete {
                path: path.clone(),
                version: *version,
            }
            .fmt(f),
            Request::SetData {
                path,
                data,
                version,
            } => Op::SetData {
                path: path.clone(),
                data: data.clone(),
                version: *version,
            }
            .fmt(f),
            Request::GetData { path, watch } => write!(f, "get{} {path}", w(watch)),
            Request::Exists { path, watch } => write!(f, "stat{} {path}", w(watch)),
            Request::GetChildren { path, watch } => write!(f, "ls{} {path}", w(watch)),
            Request::Sync { path } => write!(f, "sync {path}"),
            Request::Multi(ops) => {
                f.write_str("multi [")?;
                for (i, op) in ops.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{op}")?;
                }
                f.write_str("]")
            }
            Request::Ping => f.write_str("ping"),
            Request::Close => f.write_str("close"),
        }
    }
}

/// A successful reply to a [`Request`]; `Display` prints what zkCli prints (`Created /p/x`,
/// `[a, b]`, the data) or, where zkCli prints nothing, a short word.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Reply {
    /// The created path.
    Created(String),
    /// The node was deleted.
    Deleted,
    /// The new stat after a `set`.
    Stat(Stat),
    /// Data and stat of a `get`.
    Data(Vec<u8>, Stat),
    /// The stat of an `exists`, `None` when the node does not exist.
    Exists(Option<Stat>),
    /// Child names of a `getChildren`, unsorted.
    Children(Vec<String>),
    /// The path of a `sync`.
    Synced(String),
    /// The per-op results of a `multi`.
    Multi(Vec<OpResult>),
    /// A heartbeat's answer.
    Pong,
    /// The session is closed.
    Closed,
}

impl fmt::Display for Reply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reply::Created(p) => write!(f, "Created {p}"),
            Reply::Deleted => f.write_str("Deleted"),
            Reply::Stat(s) => write!(f, "{s}"),
            Reply::Data(d, _) => f.write_str(&text(d)),
            Reply::Exists(Some(s)) => write!(f, "{s}"),
            Reply::Exists(None) => f.write_str("null"),
            Reply::Children(names) => write!(f, "[{}]", names.join(", ")),
            Reply::Synced(p) => write!(f, "Sync is OK {p}"),
            Reply::Multi(rs) => {
                f.write_str("[")?;
                for (i, r) in rs.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{r}")?;
                }
                f.write_str("]")
            }
            Reply::Pong => f.write_str("pong"),
            Reply::Closed => f.write_str("closed"),
        }
    }
}

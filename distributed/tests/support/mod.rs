//! What the real-server tests share: a bounded poll, a private `redis-server`, and the
//! clean-up of PostgreSQL objects a test made.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A private `redis-server` on a free loopback port with its own data directory, killed (and
/// the directory removed) on drop. It can be stopped and started again on the same port and
/// directory, to test what a restart keeps.
#[allow(
    dead_code,
    reason = "every test file compiles this module; pg_lock.rs uses only `poll`"
)]
pub struct RedisServer {
    pub child: Option<Child>,
    pub port: u16,
    pub dir: PathBuf,
    args: Vec<String>,
}

/// Polls `cond` every 10 ms until it holds or `limit` passes; whether it held.
pub fn poll(limit: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let end = Instant::now() + limit;
    loop {
        if cond() {
            return true;
        }
        if Instant::now() >= end {
            return false;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[allow(
    dead_code,
    reason = "every test file compiles this module; pg_lock.rs uses only `poll`"
)]
impl RedisServer {
    /// Start one without persistence and wait (at most 10 s) until it answers.
    pub fn start() -> RedisServer {
        RedisServer::start_with(&["--save", "", "--appendonly", "no"])
    }

    /// Start one with an append-only file fsynced at every write.
    pub fn start_aof_always() -> RedisServer {
        RedisServer::start_with(&[
            "--save",
            "",
            "--appendonly",
            "yes",
            "--appendfsync",
            "always",
        ])
    }

    /// Start a replica of the server on `master` (no persistence) and wait (at most 10 s
    /// each) until its `INFO replication` shows `master_link_status:up`, the master's
    /// shows it `state=online`, and a probe write (`INCR lp:replica-ready`) has reached it.
    pub fn start_replica_of(master: u16) -> RedisServer {
        let m = master.to_string();
        let s = RedisServer::start_with(&[
            "--save",
            "",
            "--appendonly",
            "no",
            "--replicaof",
            "127.0.0.1",
            &m,
        ]);
        let mut con = s.connect();
        let up = poll(Duration::from_secs(10), || {
            redis::cmd("INFO")
                .arg("replication")
                .query::<String>(&mut con)
                .is_ok_and(|info| info.contains("master_link_status:up"))
        });
        assert!(up, "replica on port {} did not sync within 10 s", s.port);
        // `master_link_status:up` on the replica is not enough for `WAIT`: after a diskless
        // sync the master counts the replica only once its first `REPLCONF ACK` (sent once a
        // second) put it online, so also wait for the master to list it `state=online`.
        let mut m = redis::Client::open(format!("redis://127.0.0.1:{master}/0"))
            .unwrap()
            .get_connection_with_timeout(Duration::from_secs(2))
            .unwrap_or_else(|e| panic!("master on port {master} unreachable: {e}"));
        let online = poll(Duration::from_secs(10), || {
            redis::cmd("INFO")
                .arg("replication")
                .query::<String>(&mut m)
                .is_ok_and(|info| info.contains("state=online"))
        });
        assert!(
            online,
            "master on port {master} did not list its replica online within 10 s"
        );
        // Even `state=online` is not enough: right after it the master's stream could still
        // be held back (seen here: the replica's `slave_read_repl_offset` stayed 0 and a
        // `WAIT 1 500` timed out, ~1 run in 5). Synced means a write has reached the
        // replica: a probe key, polled on the replica.
        let n: i64 = redis::cmd("INCR")
            .arg("lp:replica-ready")
            .query(&mut m)
            .expect("INCR on the master");
        let mut r = s.connect();
        let streamed = poll(Duration::from_secs(10), || {
            redis::cmd("GET")
                .arg("lp:replica-ready")
                .query::<Option<i64>>(&mut r)
                .is_ok_and(|v| v == Some(n))
        });
        assert!(
            streamed,
            "a write on port {master} did not reach its replica within 10 s"
        );
        s
    }

    /// Start one with these extra arguments (after port, bind and dir).
    pub fn start_with(args: &[&str]) -> RedisServer {
        use std::sync::atomic::{AtomicU32, Ordering};
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let dir = std::env::temp_dir().join(format!(
            "lp-redis-{}-{}-{port}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir).expect("redis data directory");
        let mut s = RedisServer {
            child: None,
            port,
            dir,
            args: args.iter().map(|a| a.to_string()).collect(),
        };
        s.start_again();
        s
    }

    /// (Re)starts the process on the same port and directory and waits (at most 10 s)
    /// until it answers `PING`.
    pub fn start_again(&mut self) {
        assert!(
            self.child.is_none(),
            "redis-server on {} still runs",
            self.port
        );
        let child = Command::new("redis-server")
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .arg("--dir")
            .arg(&self.dir)
            .args(&self.args)
            .stdout(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("redis-server could not be started: {e}"));
        self.child = Some(child);
        let url = self.url();
        let port = self.port;
        assert!(
            poll(Duration::from_secs(10), || {
                let Ok(mut c) = redis::Client::open(url.as_str())
                    .unwrap()
                    .get_connection_with_timeout(Duration::from_millis(200))
                else {
                    return false;
                };
                // While an AOF loads the server replies `LOADING`: not ready yet.
                redis::cmd("PING").query::<String>(&mut c).is_ok()
            }),
            "redis-server on port {port} did not answer within 10 s"
        );
    }

    /// `SHUTDOWN NOSAVE`, then waits for the process to exit.
    pub fn shutdown_nosave(&mut self) {
        let mut con = self.connect();
        // The server closes the connection instead of replying.
        let _ = redis::cmd("SHUTDOWN").arg("NOSAVE").query::<()>(&mut con);
        let mut child = self.child.take().expect("a running redis-server");
        child.wait().expect("reap redis-server");
    }

    /// SIGKILL (`kill -9`): no chance to write anything more.
    pub fn kill9(&mut self) {
        let mut child = self.child.take().expect("a running redis-server");
        child.kill().expect("SIGKILL redis-server");
        child.wait().expect("reap redis-server");
    }

    /// A signal to the running process (SIGSTOP, SIGCONT).
    pub fn signal(&self, sig: i32) {
        let pid = self.child.as_ref().expect("a running redis-server").id();
        // SAFETY: kill(2) on a pid this guard spawned and has not reaped.
        let r = unsafe { libc::kill(pid as i32, sig) };
        assert_eq!(r, 0, "kill({pid}, {sig})");
    }

    /// A new connection (2 s timeouts).
    pub fn connect(&self) -> redis::Connection {
        let c = redis::Client::open(self.url())
            .unwrap()
            .get_connection_with_timeout(Duration::from_secs(2))
            .unwrap_or_else(|e| panic!("redis-server on port {} unreachable: {e}", self.port));
        c.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        c
    }

    /// Its URL, database 0.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/0", self.port)
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// SQL statements run (errors ignored) when a test ends, to drop what it made on the shared
/// PostgreSQL server (`pg` connection parameters).
#[allow(
    dead_code,
    reason = "every test file compiles this module; only the PostgreSQL tests use it"
)]
pub struct Cleanup {
    pub pg: &'static str,
    pub sql: Vec<String>,
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        if let Ok(mut c) = postgres::Client::connect(self.pg, postgres::NoTls) {
            for sql in &self.sql {
                let _ = c.batch_execute(sql);
            }
        }
    }
}

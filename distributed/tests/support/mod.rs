//! What the real-server tests share: a bounded poll and a private `redis-server`.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A private `redis-server` on a free loopback port, killed on drop.
#[allow(
    dead_code,
    reason = "every test file compiles this module; pg_lock.rs uses only `poll`"
)]
pub struct RedisServer {
    pub child: Child,
    pub port: u16,
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
    /// Start one and wait (at most 10 s) until it answers.
    pub fn start() -> RedisServer {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no", "--dir", "/tmp"])
            .stdout(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("redis-server could not be started: {e}"));
        let s = RedisServer { child, port };
        let url = s.url();
        assert!(
            poll(Duration::from_secs(10), || redis::Client::open(
                url.as_str()
            )
            .unwrap()
            .get_connection_with_timeout(Duration::from_millis(200))
            .is_ok()),
            "redis-server on port {port} did not answer within 10 s"
        );
        s
    }

    /// Its URL, database 0.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/0", self.port)
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

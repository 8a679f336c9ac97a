//! Redlock over 3 private `redis-server` processes on free loopback ports (killed on drop).

use lockproof_distributed::redlock::Redlock;
use lockproof_distributed::LockError;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A private `redis-server` on a free loopback port, killed on drop.
struct RedisServer {
    child: Child,
    port: u16,
}

fn poll(limit: Duration, mut cond: impl FnMut() -> bool) -> bool {
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

impl RedisServer {
    fn start() -> RedisServer {
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

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/0", self.port)
    }

    fn exists(&self, key: &str) -> i64 {
        let mut c = redis::Client::open(self.url())
            .unwrap()
            .get_connection()
            .unwrap();
        redis::cmd("EXISTS").arg(key).query(&mut c).unwrap()
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn redlock_needs_a_majority_and_cleans_up_a_minority() {
    let mut servers: Vec<RedisServer> = (0..3).map(|_| RedisServer::start()).collect();
    let urls: Vec<String> = servers.iter().map(RedisServer::url).collect();
    let (ttl, timeout) = (Duration::from_secs(10), Duration::from_millis(200));
    let a = Redlock::new(&urls, "lock:r", ttl, timeout);
    let b = Redlock::new(&urls, "lock:r", ttl, timeout);
    let ga = a.try_acquire().unwrap().expect("all three free");
    assert!(ga.validity > Duration::from_secs(9) && ga.validity < ttl);
    assert_eq!(b.try_acquire().unwrap(), None);
    // B's failed attempt left nothing of its own behind; A's key is on all three.
    assert_eq!(servers.iter().map(|s| s.exists("lock:r")).sum::<i64>(), 3);
    a.release(&ga).unwrap();
    assert_eq!(a.release(&ga), Err(LockError::Lost));

    // One instance held by someone else, one down: B gets only 1 of 3, so not the lock,
    // and releases the one it set.
    let mut c = redis::Client::open(urls[0].as_str())
        .unwrap()
        .get_connection()
        .unwrap();
    let _: () = redis::cmd("SET")
        .arg("lock:r")
        .arg("other")
        .query(&mut c)
        .unwrap();
    drop(servers.remove(2));
    assert_eq!(b.try_acquire().unwrap(), None);
    assert_eq!(servers[1].exists("lock:r"), 0, "the minority was released");
    assert_eq!(
        servers[0].exists("lock:r"),
        1,
        "another owner's key is untouched"
    );

    // With 2 of 3 up and both free, a majority is reachable.
    let _: () = redis::cmd("DEL").arg("lock:r").query(&mut c).unwrap();
    let gb = b.try_acquire().unwrap().expect("2 of 3 is a majority");
    b.release(&gb).unwrap();
}

//! Redlock over 3 private `redis-server` processes on free loopback ports (killed on drop).

use lockproof_distributed::redlock::Redlock;
use lockproof_distributed::LockError;
use std::time::Duration;

mod support;

use support::RedisServer;

/// How many keys named `key` server `s` holds.
fn exists(s: &RedisServer, key: &str) -> i64 {
    let mut c = redis::Client::open(s.url())
        .unwrap()
        .get_connection()
        .unwrap();
    redis::cmd("EXISTS").arg(key).query(&mut c).unwrap()
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
    assert_eq!(servers.iter().map(|s| exists(s, "lock:r")).sum::<i64>(), 3);
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
    assert_eq!(
        exists(&servers[1], "lock:r"),
        0,
        "the minority was released"
    );
    assert_eq!(
        exists(&servers[0], "lock:r"),
        1,
        "another owner's key is untouched"
    );

    // With 2 of 3 up and both free, a majority is reachable.
    let _: () = redis::cmd("DEL").arg("lock:r").query(&mut c).unwrap();
    let gb = b.try_acquire().unwrap().expect("2 of 3 is a majority");
    b.release(&gb).unwrap();
}

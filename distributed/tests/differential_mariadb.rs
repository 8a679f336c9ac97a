//! DISTRIBUTED.md §9 MariaDB checks 53–56 (named locks), each run against the real server
//! (127.0.0.1:3306, user root without a password, as on this machine and in CI) AND the twin
//! (`lockproof_services::sql::mariadb::NamedLocks`), replies compared as the `mariadb` client
//! prints them (`1`, `0`, `NULL`, a connection id).
//!
//! A session is a `mariadb` command-line client (batch mode, one result line per statement),
//! which the machine has and which needs no client crate; every statement sent is the twin
//! call's own SQL (`Display`), and every read of a reply is bounded. Lock names carry this
//! process's id, so parallel runs never meet (named locks are server-wide).

use lockproof_services::sql::mariadb::{Call, ConnId, NamedLocks, Outcome};
use lockproof_services::time::ServerClock;
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{channel, Receiver};
use std::time::{Duration, Instant};

/// One session on the real server: a `mariadb` client, killed on drop.
struct Session {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: Receiver<String>,
}

impl Session {
    fn open() -> Session {
        let mut child = Command::new("mariadb")
            .args([
                "-h",
                "127.0.0.1",
                "-P",
                "3306",
                "-u",
                "root",
                "-N",
                "-B",
                "-n",
            ])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("the mariadb client could not be started: {e}"));
        let stdin = child.stdin.take();
        let stdout = BufReader::new(child.stdout.take().expect("piped stdout"));
        let (tx, lines) = channel();
        std::thread::spawn(move || {
            for line in stdout.lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut s = Session {
            child,
            stdin,
            lines,
        };
        // One round trip proves the server reachable (a one-line failure otherwise).
        let one = s
            .try_query("SELECT 1")
            .unwrap_or_else(|why| panic!("MariaDB at 127.0.0.1:3306 unreachable: {why}"));
        assert_eq!(one, "1");
        s
    }

    fn try_query(&mut self, sql: &str) -> Result<String, String> {
        let stdin = self.stdin.as_mut().expect("session open");
        writeln!(stdin, "{sql};").map_err(|e| e.to_string())?;
        stdin.flush().map_err(|e| e.to_string())?;
        self.lines
            .recv_timeout(Duration::from_secs(10))
            .map_err(|_| {
                let mut err = String::new();
                if let Some(mut e) = self.child.stderr.take() {
                    let _ = std::io::Read::read_to_string(&mut e, &mut err);
                }
                format!("no reply to {sql:?} within 10 s: {}", err.trim())
            })
    }

    /// The reply to the call's SQL.
    fn call(&mut self, call: &Call) -> String {
        let sql = call.to_string();
        self.try_query(&sql).unwrap_or_else(|why| panic!("{why}"))
    }

    /// Ends the session as a client does (the client quits at the end of its input).
    fn close(mut self) {
        drop(self.stdin.take());
        let end = Instant::now() + Duration::from_secs(10);
        while Instant::now() < end {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        panic!("the mariadb client did not exit within 10 s of its input ending");
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The twin's clock `ms` into a check.
fn at(ms: u64) -> ServerClock {
    ServerClock {
        wall: 1_780_000_000_000_000_000 + (ms as i64) * 1_000_000,
        mono: ms * 1_000_000,
    }
}

/// A lock name unique to this process and check.
fn name(check: u32, n: &str) -> String {
    format!("lp_{}_{check}_{n}", std::process::id())
}

/// Runs `call` on both sides at twin time `t`; asserts the replies print the same; returns it.
fn both(real: &mut Session, twin: &mut NamedLocks, c: ConnId, call: Call, t: u64) -> String {
    let r = real.call(&call);
    let w = twin.call(c, call.clone(), at(t)).to_string();
    assert_eq!(r, w, "{call}: server {r}, twin {w}");
    r
}

#[test]
fn check_53_get_lock_is_reentrant_and_counted() {
    let (mut twin, mut real) = (NamedLocks::new(), Session::open());
    let a = twin.connect();
    let n = name(53, "n");
    assert_eq!(both(&mut real, &mut twin, a, Call::get_lock(&n, 0), 0), "1");
    assert_eq!(both(&mut real, &mut twin, a, Call::get_lock(&n, 0), 0), "1");
    assert_eq!(
        both(&mut real, &mut twin, a, Call::is_free_lock(&n), 0),
        "0"
    );
    // IS_USED_LOCK(n) is the holder's own CONNECTION_ID(), on each side.
    let real_id = real.call(&Call::ConnectionId);
    assert_eq!(real.call(&Call::is_used_lock(&n)), real_id);
    let twin_id = twin.call(a, Call::ConnectionId, at(0));
    assert_eq!(twin.call(a, Call::is_used_lock(&n), at(0)), twin_id);
    assert_eq!(
        both(&mut real, &mut twin, a, Call::release_lock(&n), 0),
        "1"
    );
    assert_eq!(
        both(&mut real, &mut twin, a, Call::release_lock(&n), 0),
        "1"
    );
    assert_eq!(
        both(&mut real, &mut twin, a, Call::release_lock(&n), 0),
        "NULL"
    );
}

#[test]
fn check_54_get_lock_times_out_and_others_cannot_release() {
    let mut twin = NamedLocks::new();
    let (ta, tb) = (twin.connect(), twin.connect());
    let (mut ra, mut rb) = (Session::open(), Session::open());
    let n = name(54, "n");
    assert_eq!(both(&mut ra, &mut twin, ta, Call::get_lock(&n, 0), 0), "1");
    // B waits 0.2 s on the server (the wait is the check), and times out with 0.
    let call = Call::get_lock(&n, 200);
    let started = Instant::now();
    let real = rb.call(&call);
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_millis(190) && waited < Duration::from_secs(2),
        "GET_LOCK(n, 0.2) answered after {waited:?}"
    );
    let Outcome::Blocked {
        deadline: Some(deadline),
    } = twin.call(tb, call, at(1))
    else {
        panic!("the twin's GET_LOCK(n, 0.2) does not wait with a deadline");
    };
    assert_eq!(
        deadline,
        201 * 1_000_000,
        "the twin waits 0.2 s from its call"
    );
    assert_eq!(twin.resume(tb, at(201)).to_string(), real);
    assert_eq!(real, "0");
    assert_eq!(
        both(&mut rb, &mut twin, tb, Call::release_lock(&n), 202),
        "0"
    );
    // B sees A's connection id as the holder, on each side.
    let a_real = ra.call(&Call::ConnectionId);
    assert_eq!(rb.call(&Call::is_used_lock(&n)), a_real);
    let a_twin = twin.call(ta, Call::ConnectionId, at(203));
    assert_eq!(twin.call(tb, Call::is_used_lock(&n), at(203)), a_twin);
    assert_eq!(
        both(&mut ra, &mut twin, ta, Call::release_lock(&n), 204),
        "1"
    );
}

#[test]
fn check_55_null_names_and_release_all() {
    let (mut twin, mut real) = (NamedLocks::new(), Session::open());
    let a = twin.connect();
    let (never, x, y) = (name(55, "never"), name(55, "a"), name(55, "b"));
    assert_eq!(
        both(&mut real, &mut twin, a, Call::release_lock(&never), 0),
        "NULL"
    );
    let null_name = Call::GetLock {
        name: None,
        timeout_ms: 0,
    };
    assert_eq!(both(&mut real, &mut twin, a, null_name, 0), "NULL");
    assert_eq!(both(&mut real, &mut twin, a, Call::get_lock(&x, 0), 0), "1");
    assert_eq!(both(&mut real, &mut twin, a, Call::get_lock(&y, 0), 0), "1");
    assert_eq!(both(&mut real, &mut twin, a, Call::ReleaseAllLocks, 0), "2");
    assert_eq!(
        both(&mut real, &mut twin, a, Call::is_free_lock(&x), 0),
        "1"
    );
}

#[test]
fn check_56_session_end_releases_named_locks() {
    let mut twin = NamedLocks::new();
    let (ta, tb) = (twin.connect(), twin.connect());
    let (mut ra, mut rb) = (Session::open(), Session::open());
    let n = name(56, "n");
    assert_eq!(both(&mut ra, &mut twin, ta, Call::get_lock(&n, 0), 0), "1");
    assert_eq!(both(&mut rb, &mut twin, tb, Call::is_free_lock(&n), 1), "0");
    ra.close();
    twin.close(ta, at(10));
    // The server ends the session when it reads the client's quit: wait (bounded) for that
    // observable state, then compare.
    let end = Instant::now() + Duration::from_secs(5);
    while rb.call(&Call::is_free_lock(&n)) != "1" {
        assert!(
            Instant::now() < end,
            "the named lock outlived its session by 5 s"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(
        twin.call(tb, Call::is_free_lock(&n), at(20)).to_string(),
        "1"
    );
    assert_eq!(both(&mut rb, &mut twin, tb, Call::get_lock(&n, 0), 20), "1");
    assert_eq!(
        both(&mut rb, &mut twin, tb, Call::release_lock(&n), 21),
        "1"
    );
}

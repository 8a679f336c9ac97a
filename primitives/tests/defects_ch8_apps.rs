//! Section 8.4's kernel-dependent defects (the lock-file applications: ex-8.4-01's data
//! coordinator, ex-8.4-02's directory queue, ex-8.4-04's logger), reproduced on real files
//! with real processes, in the order the checker's counterexamples found them
//! (`corpus/schedules/ex-8.4-*`).
//!
//! Each actor is this test binary re-executed for the one test (`support/children.rs`),
//! serving the example's file operations — through `lockproof::file` on [`Std`], one
//! command at a time — over a pair of FIFOs; the parent sends each actor the next
//! operation and reads its result, so the interleaving is the parent's, exactly, with no
//! sleep. A pause is a real `SIGSTOP` (observed in `/proc`), a crash a real `SIGKILL`
//! (reaped). The passage of a staleness age is made by setting the lock file's mtime back
//! (`futimens`), not by waiting. Every wait is bounded (`BOUND`); each actor is killed by
//! its guard when the test ends.

#[allow(dead_code)]
#[path = "support/children.rs"]
mod children;
#[path = "support/fifo.rs"]
mod fifo;

use fifo::{connect_writer, mkfifo, proc_state, raw_open};

use children::{role, spawn_with, until, ChildGuard, BOUND};
use lockproof::backend::Std;
use lockproof::file::{os, Fd, File as PyFile, OpenFlags};
use std::collections::HashMap;
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

const DIR: &str = "LOCKPROOF_APPS_DIR";
const CTL: &str = "LOCKPROOF_APPS_CTL";
const ACTOR: &str = "LOCKPROOF_APPS_ACTOR";

/// An actor's answer: `Ok(text)` or `Err(errno)` (Python's `OSError.errno`).
type Reply = Result<String, i32>;

// ---- the actor --------------------------------------------------------------------------

fn err(e: lockproof::Error) -> i32 {
    e.errno().unwrap_or(-1)
}

/// `os.open(p, O_CREAT|O_EXCL|O_WRONLY)`, then `os.fdopen(fd, 'w')` + `json.dump(body)`.
fn create_lock_file(p: &Path, body: &str) -> Reply {
    let fd = Fd::<Std>::open(
        p,
        OpenFlags::CREAT | OpenFlags::EXCL | OpenFlags::WRONLY,
        0o777,
    )
    .map_err(err)?;
    fd.write(body.as_bytes()).map_err(err)?;
    fd.close().map_err(err)?;
    Ok(String::new())
}

/// `with open(p, mode) as f: f.write(text)`.
fn write_mode(p: &Path, mode: &str, text: &str) -> Reply {
    let mut f = PyFile::<Std>::open(p, mode).map_err(err)?;
    f.write(text.as_bytes()).map_err(err)?;
    f.close().map_err(err)?;
    Ok(String::new())
}

/// `with open(p) as f: f.read()`.
fn read(p: &Path) -> Reply {
    let mut f = PyFile::<Std>::open(p, "r").map_err(err)?;
    let b = f.read(None).map_err(err)?;
    f.close().map_err(err)?;
    Ok(String::from_utf8_lossy(&b).into_owned())
}

/// Serve commands (`op<TAB>arg…`, paths relative to the test's directory) until the
/// parent closes the FIFO.
fn actor_main() {
    let dir = PathBuf::from(std::env::var(DIR).unwrap());
    let ctl = PathBuf::from(std::env::var(CTL).unwrap());
    let name = std::env::var(ACTOR).unwrap();
    let mut res = std::fs::OpenOptions::new()
        .write(true)
        .open(ctl.join(format!("{name}.res")))
        .unwrap();
    writeln!(res, "ok {}", std::process::id()).unwrap();
    let cmd =
        std::io::BufReader::new(std::fs::File::open(ctl.join(format!("{name}.cmd"))).unwrap());
    // A file an operation opened and keeps open (`open(p, 'w')` before its write).
    let mut held: Vec<PyFile<Std>> = Vec::new();
    for line in cmd.lines() {
        let line = line.unwrap();
        let a: Vec<&str> = line.split('\t').collect();
        let p = |i: usize| dir.join(a[i]);
        let r: Reply = match a[0] {
            "excl" => create_lock_file(&p(1), a[2]),
            "write" => write_mode(&p(1), "w", &a[2].replace("\\n", "\n")),
            "append" => write_mode(&p(1), "a", &a[2].replace("\\n", "\n")),
            "read" => read(&p(1)),
            "unlink" => os::unlink::<Std>(p(1)).map(|()| String::new()).map_err(err),
            "stat" => os::stat::<Std>(p(1))
                .map(|s| s.mtime_ns.to_string())
                .map_err(err),
            // `time.time() - os.stat(p).st_mtime`, in whole seconds.
            "age" => os::stat::<Std>(p(1))
                .map(|s| ((os::time_ns::<Std>() - s.mtime_ns) / 1_000_000_000).to_string())
                .map_err(err),
            "listdir" => os::listdir::<Std>(p(1)).map(|v| v.join(",")).map_err(err),
            "open_w" => PyFile::<Std>::open(p(1), "w").map_err(err).map(|f| {
                held.push(f);
                String::new()
            }),
            // _rotate_log: `os.rename(log, f"{log}.{int(time.time())}")` if the log exists;
            // answers the archive's name.
            "rotate" => {
                let rotated = format!("{}.{}", a[1], os::time_ns::<Std>() / 1_000_000_000);
                match os::stat::<Std>(p(1)) {
                    Ok(_) => os::rename::<Std>(p(1), dir.join(&rotated))
                        .map(|()| rotated)
                        .map_err(err),
                    Err(e) => Err(err(e)),
                }
            }
            other => panic!("unknown command {other:?}"),
        };
        match r {
            Ok(t) => writeln!(res, "ok {}", t.replace('\n', "\\n")).unwrap(),
            Err(e) => writeln!(res, "err {e}").unwrap(),
        }
    }
}

// ---- the parent -------------------------------------------------------------------------

struct Actor {
    guard: ChildGuard,
    cmd: std::fs::File,
    res: i32,
    buf: Vec<u8>,
}

impl Drop for Actor {
    fn drop(&mut self) {
        // SAFETY: the FIFO end this actor record owns.
        unsafe { libc::close(self.res) };
    }
}

/// The test's processes and its directory.
struct Procs {
    dir: tempfile::TempDir,
    _ctl: tempfile::TempDir,
    actors: HashMap<&'static str, Actor>,
}

impl Procs {
    /// Start one actor per name, each re-running test `test`.
    fn start(test: &str, names: &[&'static str]) -> Procs {
        let dir = tempfile::tempdir().unwrap();
        let ctl = tempfile::tempdir().unwrap();
        let mut actors = HashMap::new();
        for &name in names {
            let res_path = ctl.path().join(format!("{name}.res"));
            let cmd_path = ctl.path().join(format!("{name}.cmd"));
            mkfifo(&res_path);
            mkfifo(&cmd_path);
            let res = raw_open(&res_path, libc::O_RDONLY | libc::O_NONBLOCK);
            assert!(res >= 0);
            let guard = spawn_with(
                test,
                "actor",
                &[],
                &[
                    (DIR, dir.path().to_str().unwrap()),
                    (CTL, ctl.path().to_str().unwrap()),
                    (ACTOR, name),
                ],
            );
            let cmd = connect_writer(&cmd_path, name);
            let mut a = Actor {
                guard,
                cmd,
                res,
                buf: Vec::new(),
            };
            let hello = Self::answer(&mut a, name);
            assert_eq!(
                hello,
                Ok(a.guard.pid().to_string()),
                "{name} is not who we started"
            );
            actors.insert(name, a);
        }
        Procs {
            dir,
            _ctl: ctl,
            actors,
        }
    }

    /// One answer line from `a` (bounded).
    fn answer(a: &mut Actor, name: &str) -> Reply {
        let start = Instant::now();
        loop {
            if let Some(nl) = a.buf.iter().position(|&b| b == b'\n') {
                let line: Vec<u8> = a.buf.drain(..=nl).collect();
                let line = String::from_utf8(line).unwrap();
                let line = line.trim_end_matches('\n');
                return match line.split_once(' ') {
                    Some(("ok", t)) => Ok(t.replace("\\n", "\n")),
                    Some(("err", e)) => Err(e.parse().unwrap()),
                    _ => panic!("{name} answered {line:?}"),
                };
            }
            let left = BOUND.saturating_sub(start.elapsed());
            assert!(!left.is_zero(), "{name} gave no answer within {BOUND:?}");
            let mut pfd = libc::pollfd {
                fd: a.res,
                events: libc::POLLIN,
                revents: 0,
            };
            // SAFETY: one valid pollfd; then a read into a stack buffer.
            let n = unsafe {
                libc::poll(&mut pfd, 1, left.as_millis().min(100) as i32);
                let mut chunk = [0u8; 4096];
                let n = libc::read(a.res, chunk.as_mut_ptr().cast(), chunk.len());
                if n > 0 {
                    a.buf.extend_from_slice(&chunk[..n as usize]);
                }
                n
            };
            assert!(n != 0 || a.buf.contains(&b'\n'), "{name} died");
        }
    }

    /// `who` runs one operation; its result.
    fn call(&mut self, who: &'static str, args: &[&str]) -> Reply {
        let a = self.actors.get_mut(who).expect("no such actor");
        writeln!(a.cmd, "{}", args.join("\t").replace('\n', "\\n")).unwrap();
        Self::answer(a, who)
    }

    /// `who` runs one operation that must succeed; its text.
    fn ok(&mut self, who: &'static str, args: &[&str]) -> String {
        self.call(who, args)
            .unwrap_or_else(|e| panic!("{who} {args:?} failed with errno {e}"))
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    fn pid(&self, who: &str) -> u32 {
        self.actors[who].guard.pid()
    }

    /// SIGSTOP `who`, observed stopped.
    fn stop(&mut self, who: &str) {
        let pid = self.pid(who);
        // SAFETY: a process this test started.
        unsafe { libc::kill(pid as i32, libc::SIGSTOP) };
        until(&format!("{who} stopped"), || proc_state(pid) == Some('T'));
    }

    /// SIGCONT `who`.
    fn cont(&mut self, who: &str) {
        let pid = self.pid(who);
        // SAFETY: a process this test started.
        unsafe { libc::kill(pid as i32, libc::SIGCONT) };
        until(&format!("{who} running"), || proc_state(pid) != Some('T'));
    }

    /// SIGKILL `who` and reap it; its pid.
    fn kill(&mut self, who: &str) -> u32 {
        let a = self.actors.get_mut(who).expect("no such actor");
        let pid = a.guard.pid();
        a.guard.kill();
        let status = a.guard.wait();
        assert_eq!(
            std::os::unix::process::ExitStatusExt::signal(&status),
            Some(libc::SIGKILL)
        );
        pid
    }

    /// Set `rel`'s mtime `secs` back: a staleness age passed, without waiting for it.
    fn age_by(&self, rel: &str, secs: u64) {
        let f = std::fs::File::options()
            .write(true)
            .open(self.path(rel))
            .unwrap();
        f.set_modified(SystemTime::now() - Duration::from_secs(secs))
            .unwrap();
    }
}

/// As an actor, serve and return `true`; as the test, return `false`.
fn serving() -> bool {
    if role().is_some() {
        actor_main();
        return true;
    }
    false
}

// ---- ex-8.4-01 ------------------------------------------------------------------------------

const DATA: &str = "processing_data.json";
const DATA_LOCK: &str = "processing_data.json.lock";
const RECORDS: &str = "records record_0,record_1\n";

/// `_is_lock_stale` as the example computes it, in the actor: `os.stat` failing is stale.
fn is_stale(w: &mut Procs, who: &'static str, lock: &str) -> bool {
    match w.call(who, &["age", lock]) {
        Ok(age) => age.parse::<u64>().unwrap() > 60,
        Err(_) => true,
    }
}

/// The checker's ex-8.4-01 counterexample (no fault): a waiter whose `os.open` got
/// `EEXIST` stats after the holder's release removed the lock, judges the vanished lock
/// stale, and its cleanup removes by name the lock file a third worker has just made.
#[test]
fn ex_8_4_01_vanished_lock_judged_stale_gives_two_holders() {
    if serving() {
        return;
    }
    let mut w = Procs::start(
        "ex_8_4_01_vanished_lock_judged_stale_gives_two_holders",
        &["processor_0", "processor_1", "processor_2"],
    );
    std::fs::write(w.path(DATA), RECORDS).unwrap();
    w.ok(
        "processor_0",
        &["excl", DATA_LOCK, "process_id processor_0"],
    );
    assert_eq!(
        w.call(
            "processor_2",
            &["excl", DATA_LOCK, "process_id processor_2"]
        ),
        Err(17)
    );
    // processor_0's batch ends: release_processing_lock reads its own id and removes.
    assert_eq!(
        w.ok("processor_0", &["read", DATA_LOCK]),
        "process_id processor_0"
    );
    w.ok("processor_0", &["unlink", DATA_LOCK]);
    // processor_2's _is_lock_stale: os.stat raises FileNotFoundError -> True.
    assert_eq!(w.call("processor_2", &["age", DATA_LOCK]), Err(2));
    assert!(is_stale(&mut w, "processor_2", DATA_LOCK));
    // processor_1, polling, takes the free lock.
    w.ok(
        "processor_1",
        &["excl", DATA_LOCK, "process_id processor_1"],
    );
    // processor_2's _cleanup_stale_lock removes processor_1's fresh file; its retry wins.
    w.ok("processor_2", &["unlink", DATA_LOCK]);
    w.ok(
        "processor_2",
        &["excl", DATA_LOCK, "process_id processor_2"],
    );
    // Both in the batch: each reads the data file, processes the first record, writes.
    assert_eq!(w.ok("processor_1", &["read", DATA]), RECORDS);
    assert_eq!(w.ok("processor_2", &["read", DATA]), RECORDS);
    let by1 = format!("{RECORDS}result record_0=processor_1\n");
    let by2 = format!("{RECORDS}result record_0=processor_2\n");
    w.ok("processor_1", &["write", DATA, &by1]);
    w.ok("processor_2", &["write", DATA, &by2]);
    // record_0 was processed twice; processor_1's result is gone, and its release finds
    // processor_2's lock ('尝试释放不持有的锁').
    assert_eq!(std::fs::read_to_string(w.path(DATA)).unwrap(), by2);
    assert_eq!(
        w.ok("processor_1", &["read", DATA_LOCK]),
        "process_id processor_2"
    );
}

/// ex-8.4-01-pause: a holder stopped inside its batch past the staleness age; a worker
/// that starts its acquire then judges the live holder's lock stale, removes it and takes
/// it; the holder resumes and overwrites the data file.
#[test]
fn ex_8_4_01_paused_holder_lock_removed_as_stale() {
    if serving() {
        return;
    }
    let mut w = Procs::start(
        "ex_8_4_01_paused_holder_lock_removed_as_stale",
        &["processor_0", "processor_1"],
    );
    std::fs::write(w.path(DATA), RECORDS).unwrap();
    w.ok(
        "processor_1",
        &["excl", DATA_LOCK, "process_id processor_1"],
    );
    assert_eq!(w.ok("processor_1", &["read", DATA]), RECORDS);
    w.stop("processor_1");
    w.age_by(DATA_LOCK, 61);
    // processor_0's acquire: EEXIST, the lock is older than 60 s, remove, retry: holds.
    assert_eq!(
        w.call(
            "processor_0",
            &["excl", DATA_LOCK, "process_id processor_0"]
        ),
        Err(17)
    );
    assert!(is_stale(&mut w, "processor_0", DATA_LOCK));
    w.ok("processor_0", &["unlink", DATA_LOCK]);
    w.ok(
        "processor_0",
        &["excl", DATA_LOCK, "process_id processor_0"],
    );
    assert_eq!(w.ok("processor_0", &["read", DATA]), RECORDS);
    let by0 = format!("{RECORDS}result record_0=processor_0\n");
    w.ok("processor_0", &["write", DATA, &by0]);
    // processor_1 resumes inside its batch and writes what it computed before the pause.
    w.cont("processor_1");
    let by1 = format!("{RECORDS}result record_0=processor_1\n");
    w.ok("processor_1", &["write", DATA, &by1]);
    assert_eq!(std::fs::read_to_string(w.path(DATA)).unwrap(), by1);
    assert_eq!(
        w.ok("processor_1", &["read", DATA_LOCK]),
        "process_id processor_0"
    );
}

/// ex-8.4-01-crash: a worker killed between `open(data_file, 'w')` (which truncates) and
/// its write leaves an empty data file — every earlier result lost — and its lock file,
/// which the survivor judges fresh (and would time out on after 30 s, before 60 s).
#[test]
fn ex_8_4_01_killed_writer_leaves_empty_data_file_and_lock() {
    if serving() {
        return;
    }
    let mut w = Procs::start(
        "ex_8_4_01_killed_writer_leaves_empty_data_file_and_lock",
        &["processor_0", "processor_1"],
    );
    let before = format!("{RECORDS}result record_0=processor_1\n");
    std::fs::write(w.path(DATA), &before).unwrap();
    w.ok(
        "processor_0",
        &["excl", DATA_LOCK, "process_id processor_0"],
    );
    assert_eq!(w.ok("processor_0", &["read", DATA]), before);
    w.ok("processor_0", &["open_w", DATA]);
    w.kill("processor_0");
    assert_eq!(std::fs::read_to_string(w.path(DATA)).unwrap(), "");
    assert_eq!(
        w.call(
            "processor_1",
            &["excl", DATA_LOCK, "process_id processor_1"]
        ),
        Err(17)
    );
    assert!(!is_stale(&mut w, "processor_1", DATA_LOCK));
    assert_eq!(
        w.ok("processor_1", &["read", DATA_LOCK]),
        "process_id processor_0"
    );
}

// ---- ex-8.4-02 ------------------------------------------------------------------------------

/// ex-8.4-02-fixed: a worker whose listing still holds a task the other worker has since
/// claimed, completed and unlocked takes the task lock, writes the processing file, fails
/// on `os.remove(pending)` and unlocks: an orphan processing file beside the completed one.
#[test]
fn ex_8_4_02_fixed_stale_listing_leaves_orphan_processing_file() {
    if serving() {
        return;
    }
    let mut w = Procs::start(
        "ex_8_4_02_fixed_stale_listing_leaves_orphan_processing_file",
        &["worker_0", "worker_1"],
    );
    for d in ["pending", "processing", "completed", "failed"] {
        std::fs::create_dir(w.path(d)).unwrap();
    }
    let task = "task_id md5_a\npriority 3\nstatus pending\n";
    std::fs::write(w.path("pending/md5_a.json"), task).unwrap();
    // worker_1's _get_pending_tasks: listdir and read.
    assert_eq!(w.ok("worker_1", &["listdir", "pending"]), "md5_a.json");
    assert_eq!(w.ok("worker_1", &["read", "pending/md5_a.json"]), task);
    // worker_0 lists, claims, moves, processes and completes the task.
    assert_eq!(w.ok("worker_0", &["listdir", "pending"]), "md5_a.json");
    w.ok("worker_0", &["read", "pending/md5_a.json"]);
    w.ok(
        "worker_0",
        &["excl", "processing/md5_a.lock", "worker_id worker_0"],
    );
    w.ok(
        "worker_0",
        &[
            "write",
            "processing/md5_a.json",
            "status processing\nassigned_worker worker_0\n",
        ],
    );
    w.ok("worker_0", &["unlink", "pending/md5_a.json"]);
    w.ok("worker_0", &["read", "processing/md5_a.json"]);
    w.ok(
        "worker_0",
        &["write", "completed/md5_a.json", "status completed\n"],
    );
    w.ok("worker_0", &["unlink", "processing/md5_a.json"]);
    w.ok("worker_0", &["unlink", "processing/md5_a.lock"]);
    // worker_1, from its stale listing: the lock is free again.
    w.ok(
        "worker_1",
        &["excl", "processing/md5_a.lock", "worker_id worker_1"],
    );
    w.ok(
        "worker_1",
        &[
            "write",
            "processing/md5_a.json",
            "status processing\nassigned_worker worker_1\n",
        ],
    );
    assert_eq!(
        w.call("worker_1", &["unlink", "pending/md5_a.json"]),
        Err(2)
    );
    w.ok("worker_1", &["unlink", "processing/md5_a.lock"]);
    // get_queue_status: the task is both completed and processing, forever.
    assert_eq!(w.ok("worker_1", &["listdir", "completed"]), "md5_a.json");
    assert_eq!(w.ok("worker_1", &["listdir", "processing"]), "md5_a.json");
    assert_eq!(w.ok("worker_1", &["listdir", "pending"]), "");
}

// ---- ex-8.4-04 ------------------------------------------------------------------------------

const LOG: &str = "concurrent_app.log";
const LOG_LOCK: &str = "concurrent_app.log.lock";

/// ex-8.4-04-rotate: two rotations within one second name the same archive
/// (`<log>.<int(time.time())>`), and the second `os.rename` replaces the first archive.
/// A round whose two rotations straddle a second boundary is retried (at most 5 rounds).
#[test]
fn ex_8_4_04_same_second_rotation_overwrites_archive() {
    if serving() {
        return;
    }
    const TRIES: usize = 5;
    for round in 1..=TRIES {
        let mut w = Procs::start(
            "ex_8_4_04_same_second_rotation_overwrites_archive",
            &["worker_0", "worker_1"],
        );
        // worker_0's first flush: nothing to rotate, append entries 1 and 2.
        assert_eq!(w.call("worker_0", &["rotate", LOG]), Err(2));
        w.ok(
            "worker_0",
            &["append", LOG, "{\"sequence\": 1}\n{\"sequence\": 2}\n"],
        );
        // worker_1's flush: the log is over the threshold: rotate, append 3 and 4.
        let first = w.ok("worker_1", &["rotate", LOG]);
        w.ok(
            "worker_1",
            &["append", LOG, "{\"sequence\": 3}\n{\"sequence\": 4}\n"],
        );
        // worker_0's second flush: rotate again, append 5 and 6.
        let second = w.ok("worker_0", &["rotate", LOG]);
        w.ok(
            "worker_0",
            &["append", LOG, "{\"sequence\": 5}\n{\"sequence\": 6}\n"],
        );
        if first != second {
            eprintln!("round {round}: rotations straddled a second ({first}, {second}); again");
            continue;
        }
        let archive = std::fs::read_to_string(w.path(&first)).unwrap();
        let log = std::fs::read_to_string(w.path(LOG)).unwrap();
        assert_eq!(archive, "{\"sequence\": 3}\n{\"sequence\": 4}\n");
        assert_eq!(log, "{\"sequence\": 5}\n{\"sequence\": 6}\n");
        let mut names: Vec<String> = std::fs::read_dir(w.dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(
            names,
            [LOG.to_owned(), first.clone()],
            "entries 1 and 2 are gone"
        );
        return;
    }
    panic!("every one of {TRIES} rounds straddled a second boundary");
}

/// ex-8.4-04-crash: a worker killed holding the log lock file leaves it; every later
/// `_acquire_log_lock` of the other worker fails (`EEXIST`, counted as busy), so its
/// `log()` raises RuntimeError after the timeout, and the killed worker's buffer is lost.
#[test]
fn ex_8_4_04_killed_holder_leaves_log_lock() {
    if serving() {
        return;
    }
    let mut w = Procs::start(
        "ex_8_4_04_killed_holder_leaves_log_lock",
        &["worker_0", "worker_1"],
    );
    std::fs::write(w.path("concurrent_app.log.sequence"), "4").unwrap();
    let pid = w.pid("worker_0");
    w.ok("worker_0", &["excl", LOG_LOCK, &format!("pid {pid}")]);
    w.kill("worker_0");
    // _acquire_log_lock's retries (every 0.1 s for 10 s; here three): all EEXIST.
    for _ in 0..3 {
        assert_eq!(w.call("worker_1", &["excl", LOG_LOCK, "pid 0"]), Err(17));
    }
    assert_eq!(w.ok("worker_1", &["read", LOG_LOCK]), format!("pid {pid}"));
    assert!(!os::pid_exists::<Std>(pid), "the holder is dead and reaped");
}

//! Files in the checked world: a user's model of processes sharing a counter file, checked
//! from `cargo test` on the simulated file system. Without a lock the checker finds the lost
//! increment; with `fcntl.flock` it holds, until an adder may be killed: then its
//! truncate-then-write can leave the file empty. Writing a new file and renaming it over the
//! old one, under a flock on a separate lock file, holds even then.

use lockproof::backend::spawn::ProcessHandle;
use lockproof::backend::System;
use lockproof::file::{fcntl, os, File};
use lockproof_harness::{ensure, Check, Family, Model};

const COUNTER: &str = "/tmp/counter";
const LOCK: &str = "/tmp/counter.lock";

#[derive(Clone, Copy)]
enum Update {
    /// `open('r+')`, read, seek, truncate, write, close.
    InPlace { locked: bool },
    /// Under a flock on [`LOCK`]: read, write a temporary file, `os.rename` it over.
    Replace,
}

fn read_counter<B: System>() -> (String, u32) {
    let mut f = File::<B>::open(COUNTER, "r").expect("open");
    let text = String::from_utf8_lossy(&f.read(None).expect("read")).into_owned();
    let n = text.trim().parse().unwrap_or(0);
    (text, n)
}

fn add_one<B: System>(how: Update, me: usize) {
    match how {
        Update::InPlace { locked } => {
            let mut f = File::<B>::open(COUNTER, "r+").expect("open");
            if locked {
                fcntl::flock(&f, fcntl::LOCK_EX).expect("flock");
            }
            let text = f.read(None).expect("read");
            let n: u32 = String::from_utf8_lossy(&text).trim().parse().unwrap_or(0);
            f.seek(0, 0).expect("seek");
            f.truncate(Some(0)).expect("truncate");
            f.write(format!("{}", n + 1).as_bytes()).expect("write");
            f.close().expect("close"); // flushes, then the flock goes with the descriptor
        }
        Update::Replace => {
            let lock = File::<B>::open(LOCK, "a").expect("open the lock file");
            fcntl::flock(&lock, fcntl::LOCK_EX).expect("flock");
            let (_, n) = read_counter::<B>();
            let tmp = format!("{COUNTER}.tmp{me}");
            let mut t = File::<B>::open(&tmp, "w").expect("create");
            t.write(format!("{}", n + 1).as_bytes()).expect("write");
            t.close().expect("close");
            os::rename::<B>(&tmp, COUNTER).expect("rename");
            lock.close().expect("unlock");
        }
    }
}

/// Two processes each add one to the number in [`COUNTER`].
struct CounterFile(Update);

impl Model for CounterFile {
    fn run<B: System>(&self) {
        let mut f = File::<B>::open(COUNTER, "w").expect("create");
        f.write(b"0").expect("write");
        f.close().expect("close");
        let how = self.0;
        let ps: Vec<_> = (0..2)
            .map(|i| B::spawn_process(&format!("adder{i}"), move || add_one::<B>(how, i)))
            .collect();
        let codes: Vec<i32> = ps.into_iter().map(|p| p.join()).collect();
        let (text, n) = read_counter::<B>();
        let done = codes.iter().filter(|&&c| c == 0).count() as u32;
        // A killed adder may or may not have counted; every finished one must have.
        ensure(n >= done, "no-lost-update", || {
            format!("{done} adders finished, the counter file says {text:?}")
        });
    }
}

const ENGINES: [Family; 3] = [Family::Loom, Family::Random, Family::Pct];

#[test]
fn unlocked_counter_file_loses_an_increment() {
    let d = tempfile::tempdir().unwrap();
    Check::new(CounterFile(Update::InPlace { locked: false }))
        .engines(ENGINES)
        .save_to(d.path())
        .assert_violates("no-lost-update");
}

#[test]
fn flocked_counter_file_holds() {
    Check::new(CounterFile(Update::InPlace { locked: true }))
        .engines(ENGINES)
        .no_save()
        .assert_holds();
}

#[test]
fn a_killed_adder_empties_a_counter_file_updated_in_place() {
    let d = tempfile::tempdir().unwrap();
    let report = Check::new(CounterFile(Update::InPlace { locked: true }))
        .crashes(1)
        .engines(ENGINES)
        .save_to(d.path())
        .assert_violates("no-lost-update");
    let found = report.failure().expect("a counterexample");
    assert!(found.message.contains("says \"\""), "{}", found.message);
}

#[test]
fn replace_by_rename_under_a_lock_file_holds_when_an_adder_is_killed() {
    Check::new(CounterFile(Update::Replace))
        .crashes(1)
        .engines(ENGINES)
        .no_save()
        .assert_holds();
}

/// The README's example, as written there.
mod readme {
    use lockproof::backend::spawn::ProcessHandle;
    use lockproof::backend::System;
    use lockproof::file::{fcntl, File};
    use lockproof_harness::{ensure, Check, Model};

    struct CounterFile; // two processes add one to a number in a file, under flock

    impl Model for CounterFile {
        fn run<B: System>(&self) {
            File::<B>::open("/tmp/counter", "w")
                .and_then(|mut f| {
                    f.write(b"0")?;
                    f.close()
                })
                .unwrap();
            let adders: Vec<_> = (0..2)
                .map(|i| {
                    B::spawn_process(&format!("adder{i}"), || {
                        let mut f = File::<B>::open("/tmp/counter", "r+").unwrap();
                        fcntl::flock(&f, fcntl::LOCK_EX).unwrap();
                        let n: u32 = String::from_utf8(f.read(None).unwrap())
                            .unwrap()
                            .parse()
                            .unwrap_or(0);
                        f.seek(0, 0).unwrap();
                        f.truncate(Some(0)).unwrap();
                        f.write(format!("{}", n + 1).as_bytes()).unwrap();
                        f.close().unwrap();
                    })
                })
                .collect();
            let done = adders
                .into_iter()
                .map(|p| p.join())
                .filter(|&c| c == 0)
                .count();
            let mut f = File::<B>::open("/tmp/counter", "r").unwrap();
            let text = String::from_utf8(f.read(None).unwrap()).unwrap();
            ensure(
                text.parse::<usize>().unwrap_or(0) >= done,
                "no-lost-update",
                || format!("{done} finished, file says {text:?}"),
            );
        }
    }

    #[test]
    fn readme_holds_without_faults() {
        Check::new(CounterFile).assert_holds();
    }

    #[test]
    fn readme_a_killed_adder_empties_the_file() {
        // truncate, then crash before the write
        Check::new(CounterFile)
            .crashes(1)
            .assert_violates("no-lost-update");
    }
}

/// A process killed inside a critical section guarded by a flock: the kernel drops its
/// lock, the next process enters, and the mutual-exclusion monitor counts only the living
/// (the dead process's exit from the region is never traced, but it is not inside).
struct KilledInsideFlockedRegion;

impl Model for KilledInsideFlockedRegion {
    fn run<B: System>(&self) {
        let region = std::sync::Arc::new(lockproof_scenario::Region::<B>::new("critical", 1));
        let r = region.clone();
        let child = B::spawn_process("child", move || {
            let f = File::<B>::open(LOCK, "a").expect("open");
            fcntl::flock(&f, fcntl::LOCK_EX).expect("flock");
            drop(r.enter());
            f.close().expect("close");
        });
        let f = File::<B>::open(LOCK, "a").expect("open");
        fcntl::flock(&f, fcntl::LOCK_EX).expect("flock");
        drop(region.enter());
        f.close().expect("close");
        let _ = child.join();
    }
}

#[test]
fn a_process_killed_inside_a_region_is_not_inside_any_more() {
    Check::new(KilledInsideFlockedRegion)
        .crashes(1)
        .engines(ENGINES)
        .no_save()
        .assert_holds();
}

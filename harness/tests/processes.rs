//! Processes in the checked world: a crash fault is a checker choice, a lock held by a
//! crashed process is its own verdict (`dead-holder`), and the saved schedule replays with
//! the crash in its trace.

use lockproof::backend::process::ProcessBackend;
use lockproof::backend::spawn::ProcessHandle;
use lockproof::backend::{Backend, JoinHandle};
use lockproof::{Lock, Shared};
use lockproof_harness::{Check, Family, Model};
use std::sync::Arc;

/// A child process and its parent each take a lock for a critical section.
struct HolderMayCrash;

impl Model for HolderMayCrash {
    fn run<B: Backend>(&self) {
        let lock = Arc::new(Lock::<B>::new().with_name("lock"));
        let l = lock.clone();
        let child = B::spawn_process("child", move || {
            let _g = l.lock();
            // the critical section
        });
        drop(lock.lock());
        let code = child.join();
        assert!(code == 0 || code == -9, "exit code {code}");
    }
}

fn dir() -> tempfile::TempDir {
    tempfile::tempdir().expect("a temporary directory")
}

#[test]
fn a_holder_that_crashes_in_its_critical_section_is_a_dead_holder_under_every_engine() {
    let d = dir();
    let report = Check::new(HolderMayCrash)
        .crashes(1)
        .engines([Family::Loom, Family::Random, Family::Pct, Family::Dfs])
        .save_to(d.path())
        .assert_violates("dead-holder");
    for r in &report.results {
        let found = r.outcome.found.as_ref().expect("each engine finds it");
        let trace = found.trace.as_deref().expect("a trace");
        assert!(trace.contains("(crashed)"), "{}: {trace}", r.family);
        assert!(
            found.message.contains("held by a crashed process"),
            "{}",
            found.message
        );
    }
    // The saved schedule replays to the same failure and trace, the crash included.
    let saved = report.saved().expect("a saved schedule").to_path_buf();
    let text = std::fs::read_to_string(&saved).expect("the schedule");
    assert!(text.contains("\ncrashes 1\n"), "{text}");
    let replayed = Check::new(HolderMayCrash)
        .crashes(1)
        .replay(&saved)
        .expect("replays");
    let (a, b) = (
        report.failure().unwrap(),
        replayed.failure().expect("fails"),
    );
    assert_eq!(a.kind, b.kind);
    assert_eq!(a.trace, b.trace);
}

#[test]
fn without_crash_faults_the_same_model_holds() {
    Check::new(HolderMayCrash)
        .engines([Family::Loom, Family::Random, Family::Pct, Family::Dfs])
        .no_save()
        .assert_holds();
}

/// Two processes add to a shared counter under a lock; the parent's join sees exit code -9
/// when the child crashed, and the count tells whether the child's one got in.
struct CounterAcrossProcesses;

impl Model for CounterAcrossProcesses {
    fn run<B: Backend>(&self) {
        let lock = Arc::new(Lock::<B>::new().with_name("lock"));
        let counter = Arc::new(Shared::<u32, B>::new(0).with_name("counter"));
        let (l, c) = (lock.clone(), counter.clone());
        let child = B::spawn_process("child", move || {
            let _g = l.lock();
            c.set(c.get() + 1);
        });
        {
            let _g = lock.lock();
            counter.set(counter.get() + 1);
        }
        let code = child.join();
        let n = counter.get();
        // A crashed child may or may not have added its one; the parent's always counts.
        assert!(
            n == 2 || (code == -9 && n >= 1),
            "counter {n}, exit code {code}"
        );
    }
}

#[test]
fn a_crash_inside_the_counters_critical_section_is_found_by_random_and_dfs() {
    // With crashes on, the child can die holding the lock before the parent takes it:
    // the parent hangs, and the checker says why.
    Check::new(CounterAcrossProcesses)
        .crashes(1)
        .engines([Family::Random, Family::Dfs])
        .no_save()
        .assert_violates("dead-holder");
}

#[test]
fn the_checked_pid_of_a_process_is_its_own() {
    struct Pids;
    impl Model for Pids {
        fn run<B: Backend>(&self) {
            let child = B::spawn_process("child", || {});
            assert_eq!(child.pid(), 2);
            assert_eq!(child.join(), 0);
        }
    }
    Check::new(Pids).no_save().assert_holds();
}

/// A spawned thread takes a lock before its spawner's next operation: every engine must
/// see that schedule. (The depth-first engine once skipped the scheduling point where the
/// new thread had just become runnable, and called a violating program exhausted.)
struct ChildFirst;

impl Model for ChildFirst {
    fn run<B: Backend>(&self) {
        let lock = Arc::new(Lock::<B>::new().with_name("lock"));
        let flag = Arc::new(Shared::<u32, B>::new(0).with_name("flag"));
        let (l, f) = (lock.clone(), flag.clone());
        let t = B::spawn("child", move || {
            let _g = l.lock();
            f.set(1);
        });
        {
            let _g = lock.lock();
            let first = flag.get() == 0;
            lockproof_scenario::ensure(first, "spawner-first", || "the child ran first".into());
        }
        t.join();
    }
}

#[test]
fn every_engine_runs_a_new_thread_before_its_spawners_next_operation() {
    Check::new(ChildFirst)
        .engines([Family::Loom, Family::Random, Family::Pct, Family::Dfs])
        .no_save()
        .assert_violates("spawner-first");
}

/// A parent waits at most half a second for a lock its child holds only for an instant.
struct BriefHolder;

impl Model for BriefHolder {
    fn run<B: Backend>(&self) {
        let lock = Arc::new(Lock::<B>::new().with_name("lock"));
        let l = lock.clone();
        let child = B::spawn_process("child", move || {
            let _g = l.lock();
            // an instant's work
        });
        let got = lock.acquire_timeout(0.5).expect("a valid timeout");
        lockproof_scenario::ensure(got, "acquired-in-time", || {
            "the parent's acquire(timeout=0.5) timed out".into()
        });
        lock.release().expect("held");
        child.join();
    }
}

#[test]
fn without_pauses_a_brief_holder_never_makes_the_parent_time_out() {
    Check::new(BriefHolder)
        .engines([Family::Loom, Family::Random, Family::Pct, Family::Dfs])
        .no_save()
        .assert_holds();
}

#[test]
fn a_holder_paused_past_the_parents_timeout_is_found_under_every_engine_and_replays() {
    let d = dir();
    let report = Check::new(BriefHolder)
        .pauses(1, std::time::Duration::from_secs(1))
        .engines([Family::Loom, Family::Random, Family::Pct, Family::Dfs])
        .save_to(d.path())
        .assert_violates("acquired-in-time");
    for r in &report.results {
        let trace = r.outcome.found.as_ref().and_then(|f| f.trace.as_deref());
        let trace = trace.expect("a trace");
        assert!(trace.contains("(paused)"), "{}: {trace}", r.family);
    }
    let saved = report.saved().expect("saved").to_path_buf();
    let text = std::fs::read_to_string(&saved).expect("the schedule");
    assert!(
        text.contains("\npauses 1\npause-span 1000000000\n"),
        "{text}"
    );
    let replayed = Check::new(BriefHolder)
        .pauses(1, std::time::Duration::from_secs(1))
        .replay(&saved)
        .expect("replays");
    assert_eq!(
        report.failure().unwrap().trace,
        replayed.failure().expect("fails again").trace
    );
}

/// Two processes add one to a shared `Value`: with `get_lock()` around the `+=`, or (as
/// the tutorial's broken counters do) without it.
struct SharedCounter {
    locked: bool,
}

impl Model for SharedCounter {
    fn run<B: ProcessBackend>(&self) {
        let v = lockproof::process::Value::<i64, B>::new(0).with_name("counter");
        let child_v = v.reopen();
        let locked = self.locked;
        let add = move |v: &lockproof::process::Value<i64, B>| {
            let _g = locked.then(|| v.get_lock().lock());
            v.set_value(v.value() + 1);
        };
        let child = B::spawn_process("child", move || add(&child_v));
        add(&v);
        assert_eq!(child.join(), 0);
    }
}

#[test]
fn an_unguarded_plus_equals_on_a_shared_value_is_a_lost_update_under_every_engine() {
    let report = Check::new(SharedCounter { locked: false })
        .engines([Family::Loom, Family::Random, Family::Pct, Family::Dfs])
        .no_save()
        .assert_violates("no-lost-update");
    let found = report.failure().expect("found");
    assert!(
        found.message.contains("which it had not seen"),
        "{}",
        found.message
    );
}

#[test]
fn the_same_counter_under_get_lock_holds_under_every_engine() {
    Check::new(SharedCounter { locked: true })
        .engines([Family::Loom, Family::Random, Family::Pct, Family::Dfs])
        .no_save()
        .assert_holds();
}

/// The README's example of a model of processes, as it is written there.
struct Worker;

impl Model for Worker {
    fn run<B: ProcessBackend>(&self) {
        let lock = Arc::new(lockproof::process::Lock::<B>::new());
        let child_lock = Arc::new(lock.reopen());
        let child = B::spawn_process("child", move || drop(child_lock.lock()));
        drop(lock.lock());
        assert!(matches!(child.join(), 0 | -9));
    }
}

#[test]
fn the_readme_process_example_finds_the_crashed_holder_under_the_default_engines() {
    Check::new(Worker)
        .crashes(1)
        .no_save()
        .assert_violates("dead-holder");
    Check::new(Worker).no_save().assert_holds();
}

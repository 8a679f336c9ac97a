//! Descriptor inheritance on the simulated file system: a process made by `spawn_process`
//! is a `fork` of its spawner (FILELOCKS.md §1.4). The real halves are
//! `conformance_file::check_04a_fork_child_keeps_the_flock_after_parent_close` and
//! `check_04b_fork_child_unlock_releases_the_shared_flock`.

mod support;

use lockproof::backend::file::FileBackend;
use lockproof::backend::process::ProcessBackend;
use lockproof::backend::spawn::ProcessHandle;
use lockproof::backend::{Loom, Shuttle};
use lockproof::file::fcntl::{self, LOCK_EX, LOCK_NB};
use lockproof::file::{Fd, OpenFlags};
use lockproof::Event;
use std::sync::Arc;
use support::{loom_bound, passes, shuttle_check};

const F: &str = "/sim/f";

/// The parent takes a flock, forks, and closes its descriptor: the child's copy of the
/// descriptor keeps the shared description open, so the flock stays held (another
/// description's `LOCK_EX|LOCK_NB` fails with `EAGAIN`) until the child exits.
fn child_keeps_the_flock<B: ProcessBackend + FileBackend>() {
    let a = Fd::<B>::open(F, OpenFlags::RDWR | OpenFlags::CREAT, 0o644).unwrap();
    fcntl::flock(&a, LOCK_EX).unwrap();
    let done = Arc::new(Event::<B>::new().with_name("done"));
    let d = done.clone();
    let child = B::spawn_process("child", move || {
        assert!(d.wait(None).unwrap());
    });
    a.close().unwrap();
    let b = Fd::<B>::open(F, OpenFlags::RDWR, 0).unwrap();
    let e = fcntl::flock(&b, LOCK_EX | LOCK_NB).unwrap_err();
    assert_eq!(
        e.errno(),
        Some(11),
        "the child's inherited copy keeps the flock"
    );
    done.set();
    assert_eq!(child.join(), 0);
    fcntl::flock(&b, LOCK_EX | LOCK_NB).expect("the child's exit closed its copy");
}

/// A record lock belongs to the process: the child inherits the descriptor, not the lock,
/// and the parent's record lock goes when the parent closes its descriptor although the
/// child still has a copy of it.
fn record_lock_is_not_inherited<B: ProcessBackend + FileBackend>() {
    use lockproof::file::fcntl::{Flock, F_SETLK, F_WRLCK};
    let a = Fd::<B>::open(F, OpenFlags::RDWR | OpenFlags::CREAT, 0o644).unwrap();
    fcntl::fcntl_lock(&a, F_SETLK, Flock::new(F_WRLCK, 0, 0, 0)).unwrap();
    let asked = Arc::new(Event::<B>::new().with_name("asked"));
    let closed = Arc::new(Event::<B>::new().with_name("closed"));
    let (k, c) = (asked.clone(), closed.clone());
    let child = B::spawn_process("child", move || {
        // The child's own request conflicts with the parent's lock: it does not own it.
        let fd = Fd::<B>::open(F, OpenFlags::RDWR, 0).unwrap();
        let e = fcntl::fcntl_lock(&fd, F_SETLK, Flock::new(F_WRLCK, 0, 0, 0)).unwrap_err();
        assert_eq!(
            e.errno(),
            Some(11),
            "the parent's record lock is not the child's"
        );
        k.set();
        assert!(c.wait(None).unwrap());
        // The lock went with the parent's close, though this process still has its copy
        // of the parent's descriptor.
        fcntl::fcntl_lock(&fd, F_SETLK, Flock::new(F_WRLCK, 0, 0, 0))
            .expect("the parent's close dropped its record lock");
    });
    assert!(asked.wait(None).unwrap());
    a.close().unwrap();
    closed.set();
    assert_eq!(child.join(), 0);
}

#[test]
fn fork_child_keeps_the_flock_after_parent_close() {
    passes(loom_bound(2, child_keeps_the_flock::<Loom>));
    passes(shuttle_check(child_keeps_the_flock::<Shuttle>, 200));
}

#[test]
fn fork_child_does_not_inherit_record_locks() {
    passes(loom_bound(2, record_lock_is_not_inherited::<Loom>));
    passes(shuttle_check(record_lock_is_not_inherited::<Shuttle>, 200));
}

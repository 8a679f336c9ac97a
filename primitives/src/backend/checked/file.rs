//! [`FileBackend`] for a checked world: every call is one atomic step on the simulated file
//! system of the world (`world/files.rs`, FILELOCKS.md §5).
//!
//! Each call first takes one scheduling point (an operation on one engine atomic that every
//! file call touches, so that loom's partial-order reduction orders file calls of different
//! threads against each other), then runs the whole system call under the world's lock and
//! records one trace step on the inode's object (`file1`, `file2`…; a name operation that
//! found no inode is recorded on `filesystem1`). [`crate::file`] records nothing itself, so
//! these are the only file steps in a trace. Lock steps carry a typed [`Hold`]: acquired
//! when an owner gains a lock on the inode, released when it loses the last one, so the
//! deadlock analysis names the threads holding a file (per thread, an approximation of the
//! kernel's owners: a description or a process).
//!
//! A blocking request (`flock` without `LOCK_NB`, `F_SETLKW`, `F_OFD_SETLKW`) that conflicts
//! parks at the world's wait point on the inode's queue ([`WaitKind::Lock`]) and retries from
//! a new scheduling point when an unlock, close or crash on the inode wakes it. A flock
//! conversion is two steps: the drop of the old lock (its waiters are woken), then the
//! request (FILELOCKS.md §1.2, §5.2).
//!
//! After a failure of the execution (teardown), calls do nothing and fail with `EINTR`.

use super::world::{self, Attempt, QueueKey};
use super::{Checked, Engine};
use crate::backend::file::{
    Errno, FileBackend, FileKind, FileStat, FlockOp, LockCmd, OpenFlags, RawFd, RecordLock, Whence,
};
use crate::backend::{Args, Hold, Outcome, RawAtomic, Record, WaitKind};
use std::any::Any;
use std::path::Path;
use std::sync::atomic::Ordering::SeqCst;
use std::sync::Arc;

/// The file system's witness word (the engine atomic every file call touches), made now if
/// no thread has made it yet. `start_thread` makes it in the spawning thread before the new
/// thread starts, so its creation happens before every thread's use of it: made lazily by
/// whichever of two unsynchronised threads came first, loom reported the other's use as a
/// causality violation.
pub(super) fn witness<E: Engine>(w: &world::World) -> Arc<dyn Any + Send + Sync> {
    w.fs(|f, _| {
        f.witness(|| {
            let a: Arc<dyn Any + Send + Sync> = Arc::new(E::Atomic::new(0));
            // Never dropped: the world may outlive the engine's execution, and an engine
            // atomic must not be dropped outside it (one word per execution).
            std::mem::forget(a.clone());
            a
        })
    })
}

/// The scheduling point before a file call; `false` during a teardown (skip the call).
fn step<E: Engine>() -> bool
where
    E::Atomic: 'static,
{
    let witness = witness::<E>(&world::current());
    if world::before_visible_op() {
        return false;
    }
    let a = witness
        .downcast::<E::Atomic>()
        .expect("one engine per execution");
    a.fetch_add(1, SeqCst);
    world::count_engine_op();
    true
}

fn outcome<T>(r: &Result<T, Errno>, ok: impl FnOnce(&T) -> Outcome) -> Outcome {
    match r {
        Ok(v) => ok(v),
        Err(e) => Outcome::Error(format!("OSError({e:?})")),
    }
}

fn trace(ino: Option<u64>, op: &'static str, args: Args, out: Outcome, hold: Hold) {
    let w = world::current();
    let obj = match ino {
        Some(i) => w.shared_object("file", i as usize),
        None => w.shared_object("filesystem", 0),
    };
    w.record(
        obj,
        Record {
            op,
            args,
            outcome: out,
            hold,
        },
    );
}

fn path_args(p: &Path) -> Args {
    Args::new().value(format!("{:?}", p.to_string_lossy()))
}

fn fd_args(fd: RawFd) -> Args {
    Args::new().int("fd", fd.into())
}

/// One non-blocking call on a descriptor that returns its inode: step, run, trace.
fn simple<E: Engine, T>(
    op: &'static str,
    args: Args,
    f: impl FnOnce(&mut world::FilesRef<'_>) -> Result<(u64, T), Errno>,
    show: impl FnOnce(&T) -> Outcome,
) -> Result<T, Errno>
where
    E::Atomic: 'static,
{
    if !step::<E>() {
        return Err(Errno::EINTR);
    }
    let w = world::current();
    let r = w.fs(|files, c| f(&mut world::FilesRef { files, c }));
    let ino = r.as_ref().ok().map(|(i, _)| *i);
    let r = r.map(|(_, v)| v);
    trace(ino, op, args, outcome(&r, show), Hold::Nothing);
    r
}

/// A lock call that may wait: attempt, park on the inode's queue, retry.
fn locking<E: Engine>(
    op: &'static str,
    args: Args,
    mut attempt: impl FnMut(&mut world::FilesRef<'_>) -> Result<(u64, Attempt), Errno>,
) -> Result<(), Errno>
where
    E::Atomic: 'static,
{
    loop {
        if !step::<E>() {
            return Err(Errno::EINTR);
        }
        let w = world::current();
        let r = w.fs(|files, c| attempt(&mut world::FilesRef { files, c }));
        match r {
            Err(e) => {
                trace(
                    None,
                    op,
                    args,
                    Outcome::Error(format!("OSError({e:?})")),
                    Hold::Nothing,
                );
                return Err(e);
            }
            Ok((ino, Attempt::Done(res, hold))) => {
                if res.is_ok() {
                    // An unlock, a partial unlock or a downgrade may free what a waiter
                    // needs; every waiter re-checks (a wake that frees nothing is harmless).
                    w.wake_file(ino);
                }
                trace(Some(ino), op, args, outcome(&res, |()| Outcome::Done), hold);
                return res;
            }
            Ok((ino, Attempt::Wait)) => {
                let obj = w.shared_object("file", ino as usize);
                // Same engine step as the attempt: no release can come in between.
                w.park(
                    QueueKey::File(ino),
                    Some(obj),
                    op,
                    WaitKind::Lock,
                    None,
                    true,
                );
            }
        }
    }
}

// SAFETY: `read`/`pread` copy at most `buf.len()` bytes into `buf` and return that count;
// `write`/`pwrite` return `buf.len()`; a descriptor stays in the process's table until
// `close` (or the process's crash, after which none of its threads runs); a failed call
// changes nothing except a failed flock conversion's drop, as on Linux.
unsafe impl<E: Engine> FileBackend for Checked<E>
where
    E::Atomic: 'static,
{
    fn open(path: &Path, flags: OpenFlags, _mode: u32) -> Result<RawFd, Errno> {
        let args = path_args(path).value(format!("{flags:?}"));
        simple::<E, _>(
            "open",
            args,
            |f| f.files.open(f.c, path, flags),
            |fd| Outcome::Int((*fd).into()),
        )
    }

    fn close(fd: RawFd) -> Result<(), Errno> {
        if !step::<E>() {
            return Err(Errno::EINTR);
        }
        let w = world::current();
        let r = w.fs(|f, c| f.close(c, fd));
        match r {
            Ok((ino, dropped)) => {
                if dropped > 0 {
                    w.wake_file(ino);
                }
                let hold = match dropped {
                    0 => Hold::Nothing,
                    1 => Hold::Released,
                    _ => Hold::ReleasedAll,
                };
                trace(Some(ino), "close", fd_args(fd), Outcome::Done, hold);
                Ok(())
            }
            Err(e) => {
                trace(
                    None,
                    "close",
                    fd_args(fd),
                    Outcome::Error(format!("OSError({e:?})")),
                    Hold::Nothing,
                );
                Err(e)
            }
        }
    }

    fn dup(fd: RawFd) -> Result<RawFd, Errno> {
        simple::<E, _>(
            "dup",
            fd_args(fd),
            |f| f.files.dup(f.c, fd),
            |n| Outcome::Int((*n).into()),
        )
    }

    fn set_inheritable(fd: RawFd, inheritable: bool) -> Result<(), Errno> {
        let args = fd_args(fd).bool("inheritable", inheritable);
        simple::<E, _>(
            "set_inheritable",
            args,
            |f| {
                f.files
                    .set_inheritable(f.c, fd, inheritable)
                    .map(|i| (i, ()))
            },
            |()| Outcome::Done,
        )
    }

    fn get_fl(fd: RawFd) -> Result<OpenFlags, Errno> {
        simple::<E, _>(
            "F_GETFL",
            fd_args(fd),
            |f| f.files.get_fl(f.c, fd),
            |fl| Outcome::Value(format!("{fl:?}")),
        )
    }

    fn set_fl(fd: RawFd, flags: OpenFlags) -> Result<(), Errno> {
        let args = fd_args(fd).value(format!("{flags:?}"));
        simple::<E, _>(
            "F_SETFL",
            args,
            |f| f.files.set_fl(f.c, fd, flags).map(|i| (i, ())),
            |()| Outcome::Done,
        )
    }

    fn read(fd: RawFd, buf: &mut [u8]) -> Result<usize, Errno> {
        let args = fd_args(fd).int("n", buf.len() as i64);
        simple::<E, _>(
            "read",
            args,
            |f| f.files.read(f.c, fd, buf),
            |n| Outcome::Int(*n as i64),
        )
    }

    fn write(fd: RawFd, buf: &[u8]) -> Result<usize, Errno> {
        let args = fd_args(fd).int("n", buf.len() as i64);
        simple::<E, _>(
            "write",
            args,
            |f| f.files.write(f.c, fd, buf),
            |n| Outcome::Int(*n as i64),
        )
    }

    fn pread(fd: RawFd, buf: &mut [u8], offset: u64) -> Result<usize, Errno> {
        let args = fd_args(fd)
            .int("n", buf.len() as i64)
            .int("offset", offset as i64);
        simple::<E, _>(
            "pread",
            args,
            |f| f.files.pread(f.c, fd, buf, offset),
            |n| Outcome::Int(*n as i64),
        )
    }

    fn pwrite(fd: RawFd, buf: &[u8], offset: u64) -> Result<usize, Errno> {
        let args = fd_args(fd)
            .int("n", buf.len() as i64)
            .int("offset", offset as i64);
        simple::<E, _>(
            "pwrite",
            args,
            |f| f.files.pwrite(f.c, fd, buf, offset),
            |n| Outcome::Int(*n as i64),
        )
    }

    fn lseek(fd: RawFd, offset: i64, whence: Whence) -> Result<u64, Errno> {
        let args = fd_args(fd)
            .int("offset", offset)
            .int("whence", whence as i64);
        simple::<E, _>(
            "lseek",
            args,
            |f| f.files.lseek(f.c, fd, offset, whence),
            |o| Outcome::Int(*o as i64),
        )
    }

    fn ftruncate(fd: RawFd, len: u64) -> Result<(), Errno> {
        let args = fd_args(fd).int("length", len as i64);
        simple::<E, _>(
            "ftruncate",
            args,
            |f| f.files.ftruncate(f.c, fd, len).map(|i| (i, ())),
            |()| Outcome::Done,
        )
    }

    /// Checks the descriptor only: machine crashes (lost un-fsynced data) are not modelled.
    fn fsync(fd: RawFd) -> Result<(), Errno> {
        simple::<E, _>(
            "fsync",
            fd_args(fd),
            |f| f.files.fstat(f.c, fd).map(|s| (s.ino, ())),
            |()| Outcome::Done,
        )
    }

    fn fstat(fd: RawFd) -> Result<FileStat, Errno> {
        simple::<E, _>(
            "fstat",
            fd_args(fd),
            |f| f.files.fstat(f.c, fd).map(|s| (s.ino, s)),
            |s| Outcome::Value(format!("ino={} size={} nlink={}", s.ino, s.size, s.nlink)),
        )
    }

    fn flock(fd: RawFd, op: FlockOp, nonblocking: bool) -> Result<(), Errno> {
        let args = fd_args(fd)
            .value(format!("{op:?}"))
            .bool("nonblocking", nonblocking);
        // A conversion drops the old lock first, as a step of its own.
        if op != FlockOp::Unlock {
            if !step::<E>() {
                return Err(Errno::EINTR);
            }
            let w = world::current();
            match w.fs(|f, c| f.flock_drop_other(c, fd, op)) {
                Err(e) => {
                    trace(
                        None,
                        "flock",
                        args,
                        Outcome::Error(format!("OSError({e:?})")),
                        Hold::Nothing,
                    );
                    return Err(e);
                }
                Ok((ino, true)) => {
                    w.wake_file(ino);
                    trace(
                        Some(ino),
                        "flock_convert_drop",
                        args.clone(),
                        Outcome::Done,
                        Hold::Released,
                    );
                }
                Ok((_, false)) => {}
            }
        }
        locking::<E>("flock", args, |f| f.files.flock(f.c, fd, op, nonblocking))
    }

    fn fcntl_lock(fd: RawFd, cmd: LockCmd, lock: &mut RecordLock) -> Result<(), Errno> {
        let args = fd_args(fd).value(format!(
            "{cmd:?} {:?} whence={:?} start={} len={} pid={}",
            lock.kind, lock.whence, lock.start, lock.len, lock.pid
        ));
        locking::<E>("fcntl", args, |f| f.files.fcntl_lock(f.c, fd, cmd, lock))
    }

    fn stat(path: &Path) -> Result<FileStat, Errno> {
        simple::<E, _>(
            "stat",
            path_args(path),
            |f| f.files.stat(path, true).map(|s| (s.ino, s)),
            |s| {
                Outcome::Value(format!(
                    "ino={} size={} mtime={}",
                    s.ino, s.size, s.mtime_ns
                ))
            },
        )
    }

    fn lstat(path: &Path) -> Result<FileStat, Errno> {
        simple::<E, _>(
            "lstat",
            path_args(path),
            |f| f.files.stat(path, false).map(|s| (s.ino, s)),
            |s| Outcome::Value(format!("ino={} kind={:?}", s.ino, s.kind)),
        )
    }

    fn rename(from: &Path, to: &Path) -> Result<(), Errno> {
        let args = path_args(from).value(format!("{:?}", to.to_string_lossy()));
        simple::<E, _>(
            "rename",
            args,
            |f| f.files.rename(from, to).map(|i| (i, ())),
            |()| Outcome::Done,
        )
    }

    fn unlink(path: &Path) -> Result<(), Errno> {
        simple::<E, _>(
            "unlink",
            path_args(path),
            |f| f.files.unlink(path).map(|i| (i, ())),
            |()| Outcome::Done,
        )
    }

    fn link(existing: &Path, new: &Path) -> Result<(), Errno> {
        let args = path_args(existing).value(format!("{:?}", new.to_string_lossy()));
        simple::<E, _>(
            "link",
            args,
            |f| f.files.link(existing, new).map(|i| (i, ())),
            |()| Outcome::Done,
        )
    }

    fn symlink(target: &Path, path: &Path) -> Result<(), Errno> {
        let args = path_args(target).value(format!("{:?}", path.to_string_lossy()));
        let t = target.to_string_lossy().into_owned();
        simple::<E, _>(
            "symlink",
            args,
            |f| {
                f.files
                    .make(f.c, path, FileKind::Symlink, t)
                    .map(|i| (i, ()))
            },
            |()| Outcome::Done,
        )
    }

    fn mkdir(path: &Path, _mode: u32) -> Result<(), Errno> {
        simple::<E, _>(
            "mkdir",
            path_args(path),
            |f| {
                f.files
                    .make(f.c, path, FileKind::Dir, String::new())
                    .map(|i| (i, ()))
            },
            |()| Outcome::Done,
        )
    }

    fn listdir(path: &Path) -> Result<Vec<String>, Errno> {
        if !step::<E>() {
            return Err(Errno::EINTR);
        }
        let w = world::current();
        let r = w.fs(|files, _| files.listdir(path));
        let ino = r.as_ref().ok().and_then(|(i, _)| *i);
        let r = r.map(|(_, names)| names);
        let shown = outcome(&r, |names| Outcome::Value(format!("{names:?}")));
        trace(ino, "listdir", path_args(path), shown, Hold::Nothing);
        r
    }

    fn rmdir(path: &Path) -> Result<(), Errno> {
        simple::<E, _>(
            "rmdir",
            path_args(path),
            |f| f.files.rmdir(path).map(|i| (i, ())),
            |()| Outcome::Done,
        )
    }

    fn utime_now(path: &Path) -> Result<(), Errno> {
        simple::<E, _>(
            "utime",
            path_args(path),
            |f| f.files.utime_now(f.c, path).map(|i| (i, ())),
            |()| Outcome::Done,
        )
    }

    fn getpid() -> u32 {
        super::current_pid()
    }

    /// A checked process that was started and has not crashed is alive (a finished one
    /// stays "alive", like a zombie never reaped); a crashed or never started pid is
    /// `ESRCH`. `EPERM` (another user) is not modelled.
    fn kill0(pid: u32) -> Result<(), Errno> {
        if !step::<E>() {
            return Err(Errno::EINTR);
        }
        let w = world::current();
        let r = if w.pid_alive(pid) {
            Ok(())
        } else {
            Err(Errno::ESRCH)
        };
        trace(
            None,
            "kill",
            Args::new().int("pid", pid.into()).int("sig", 0),
            outcome(&r, |()| Outcome::Done),
            Hold::Nothing,
        );
        r
    }

    /// The file-system clock: virtual time plus one nanosecond per mtime stamp so far.
    fn time_ns() -> i64 {
        let w = world::current();
        w.fs(|f, c| f.time_ns(c.now))
    }
}

//! Python's `fcntl` module: `flock`, `lockf`, and `fcntl` with the lock commands.
//!
//! | Python | here | system call |
//! |---|---|---|
//! | `fcntl.flock(fd, op)` | [`flock`] | flock(2): owned by the open file description |
//! | `fcntl.lockf(fd, cmd, len=0, start=0, whence=0)` | [`lockf`] | `fcntl(F_SETLK / F_SETLKW)`, **not** C's lockf(3): shared locks exist, the range is `start`/`whence`/`len`, not the offset |
//! | `fcntl.fcntl(fd, F_SETLK / F_SETLKW / F_GETLK / F_OFD_*, struct.pack(...))` | [`fcntl_lock`] | fcntl(2) |
//!
//! Errors are Python's (FILELOCKS.md §1.8): a conflicting non-blocking request is
//! `BlockingIOError: [Errno 11] Resource temporarily unavailable` (errno `EAGAIN`, on
//! Linux for all three); a write lock through a descriptor not open for writing is
//! `OSError: [Errno 9] Bad file descriptor`; a waiting record lock that would close a cycle
//! is `OSError: [Errno 35] Resource deadlock avoided`. A blocking request that a signal
//! interrupts is retried (PEP 475).

use super::retry::Backoff;
use super::{os_err, FileNo};
use crate::backend::file::{Errno, FileBackend, FlockOp, LockCmd, LockType, RecordLock, Whence};
use crate::{Error, Result};

/// `fcntl.LOCK_SH`: a shared flock lock; in [`lockf`], a read lock.
pub const LOCK_SH: i32 = 1;
/// `fcntl.LOCK_EX`: an exclusive flock lock; in [`lockf`], a write lock.
pub const LOCK_EX: i32 = 2;
/// `fcntl.LOCK_NB`: fail with `BlockingIOError` instead of waiting.
pub const LOCK_NB: i32 = 4;
/// `fcntl.LOCK_UN`: release.
pub const LOCK_UN: i32 = 8;

/// `fcntl.F_GETLK`.
pub const F_GETLK: i32 = 5;
/// `fcntl.F_SETLK`.
pub const F_SETLK: i32 = 6;
/// `fcntl.F_SETLKW`.
pub const F_SETLKW: i32 = 7;
/// `fcntl.F_OFD_GETLK` (Linux).
pub const F_OFD_GETLK: i32 = 36;
/// `fcntl.F_OFD_SETLK` (Linux).
pub const F_OFD_SETLK: i32 = 37;
/// `fcntl.F_OFD_SETLKW` (Linux).
pub const F_OFD_SETLKW: i32 = 38;

/// `fcntl.F_RDLCK`.
pub const F_RDLCK: i16 = 0;
/// `fcntl.F_WRLCK`.
pub const F_WRLCK: i16 = 1;
/// `fcntl.F_UNLCK`.
pub const F_UNLCK: i16 = 2;

/// `os.SEEK_SET`.
pub const SEEK_SET: i32 = 0;
/// `os.SEEK_CUR`.
pub const SEEK_CUR: i32 = 1;
/// `os.SEEK_END`.
pub const SEEK_END: i32 = 2;

/// `fcntl.flock(fd, operation)`: `LOCK_SH`, `LOCK_EX` or `LOCK_UN`, each optionally
/// `| LOCK_NB`.
///
/// The lock belongs to the open file description: a `dup` shares it; a second `open` of
/// the same file, even in the same process, conflicts with it. Asking again for the type
/// held is a no-op; asking for the other type (a conversion) **releases the old lock
/// first** and does not give it back if the new request fails (FILELOCKS.md §1.2). Another
/// operation (`0`, `LOCK_SH | LOCK_EX`) is `OSError: [Errno 22] Invalid argument`.
///
/// # Examples
///
/// ```
/// use lockproof::backend::Std;
/// use lockproof::file::fcntl::{flock, LOCK_EX, LOCK_NB, LOCK_SH, LOCK_UN};
/// use lockproof::file::File;
///
/// let dir = tempfile::tempdir().unwrap();
/// let path = dir.path().join("lock");
/// let (a, b) = (File::<Std>::open(&path, "a")?, File::<Std>::open(&path, "a")?);
/// flock(&a, LOCK_SH)?;
/// flock(&b, LOCK_SH)?;                                   // two readers
/// assert_eq!(flock(&b, LOCK_EX | LOCK_NB).unwrap_err().errno(), Some(11));
/// flock(&a, LOCK_UN)?;
/// flock(&a, LOCK_EX | LOCK_NB)?;                         // b's failed upgrade left it nothing
/// assert_eq!(flock(&a, 0).unwrap_err().errno(), Some(22));
/// # Ok::<(), lockproof::Error>(())
/// ```
pub fn flock<F: FileNo + ?Sized>(f: &F, operation: i32) -> Result<()> {
    let nonblocking = operation & LOCK_NB != 0;
    let op = match operation & !LOCK_NB {
        LOCK_SH => FlockOp::Shared,
        LOCK_EX => FlockOp::Exclusive,
        LOCK_UN => FlockOp::Unlock,
        _ => return Err(Error::os(Errno::EINVAL.0)),
    };
    F::Backend::flock(f.fileno(), op, nonblocking).map_err(os_err)
}

/// `fcntl.lockf(fd, cmd, len, start, whence)` (Python's defaults are `0, 0, 0`: the whole
/// file, including bytes written later).
///
/// CPython builds the record lock itself (it does not call C's lockf(3)): `cmd == LOCK_UN`
/// unlocks; else `cmd & LOCK_SH` takes a **read** lock (so `LOCK_SH | LOCK_EX` is a read
/// lock); else `cmd & LOCK_EX` a write lock; else `ValueError('unrecognized lockf
/// argument')` (`0`, `LOCK_UN | LOCK_NB`). `LOCK_NB` selects `F_SETLK`, otherwise
/// `F_SETLKW` (which may fail with `EDEADLK`).
///
/// The lock belongs to the **process**: another descriptor of this process never
/// conflicts with it, and closing **any** descriptor of the file releases it.
///
/// # Examples
///
/// ```
/// use lockproof::backend::Std;
/// use lockproof::file::fcntl::{lockf, LOCK_EX, LOCK_NB, LOCK_UN};
/// use lockproof::file::File;
/// use lockproof::PyException;
///
/// let dir = tempfile::tempdir().unwrap();
/// let f = File::<Std>::open(dir.path().join("counter"), "a+")?;
/// lockf(&f, LOCK_EX, 0, 0, 0)?;                         // the whole file
/// lockf(&f, LOCK_EX | LOCK_NB, 10, 0, 0)?;              // same owner: never conflicts
/// let err = lockf(&f, LOCK_UN | LOCK_NB, 0, 0, 0).unwrap_err();
/// assert_eq!((err.exception(), err.to_string()), (PyException::ValueError, "unrecognized lockf argument".into()));
/// lockf(&f, LOCK_UN, 0, 0, 0)?;
/// # Ok::<(), lockproof::Error>(())
/// ```
pub fn lockf<F: FileNo + ?Sized>(f: &F, cmd: i32, len: i64, start: i64, whence: i32) -> Result<()> {
    let l_type = if cmd == LOCK_UN {
        F_UNLCK
    } else if cmd & LOCK_SH != 0 {
        F_RDLCK
    } else if cmd & LOCK_EX != 0 {
        F_WRLCK
    } else {
        return Err(Error::LockfArgument);
    };
    let lock = Flock {
        l_type,
        l_whence: whence as i16,
        l_start: start,
        l_len: len,
        l_pid: 0,
    };
    let command = if cmd & LOCK_NB != 0 {
        F_SETLK
    } else {
        F_SETLKW
    };
    fcntl_lock(f, command, lock).map(|_| ())
}

/// `struct flock` as Python code packs it for `fcntl.fcntl` (`l_type`, `l_whence`,
/// `l_start`, `l_len`, `l_pid`).
///
/// # Examples
///
/// ```
/// use lockproof::file::fcntl::{Flock, F_WRLCK, SEEK_SET};
///
/// let l = Flock::new(F_WRLCK, SEEK_SET, 40, 20); // bytes 40–59
/// assert_eq!((l.l_start, l.l_len, l.l_pid), (40, 20, 0));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Flock {
    /// `F_RDLCK`, `F_WRLCK` or `F_UNLCK`.
    pub l_type: i16,
    /// `SEEK_SET`, `SEEK_CUR` or `SEEK_END`.
    pub l_whence: i16,
    /// Start of the range, relative to `l_whence`.
    pub l_start: i64,
    /// Length: 0 to infinity, negative backwards.
    pub l_len: i64,
    /// 0 in requests (required for OFD locks); the holder's pid in an `F_GETLK` answer,
    /// −1 for an OFD lock.
    pub l_pid: i32,
}

impl Flock {
    /// A request: `l_pid` 0.
    pub fn new(l_type: i16, whence: i32, start: i64, len: i64) -> Flock {
        Flock {
            l_type,
            l_whence: whence as i16,
            l_start: start,
            l_len: len,
            l_pid: 0,
        }
    }
}

/// `fcntl.fcntl(fd, cmd, struct)` for the lock commands: `F_SETLK`, `F_SETLKW`,
/// `F_GETLK` (record locks, owned by the process) and `F_OFD_SETLK`, `F_OFD_SETLKW`,
/// `F_OFD_GETLK` (owned by the open file description; `l_pid` must be 0). Returns the
/// structure as the kernel left it: for a query, `F_UNLCK` and the request unchanged when
/// nothing conflicts, else one conflicting lock (a to-EOF lock as start 0, len 0; its
/// holder's pid, −1 for an OFD lock). Another `cmd`, `l_type` or `l_whence` is
/// `OSError: [Errno 22] Invalid argument`.
///
/// # Examples
///
/// ```
/// use lockproof::backend::Std;
/// use lockproof::file::fcntl::{fcntl_lock, Flock, F_GETLK, F_OFD_SETLK, F_UNLCK, F_WRLCK, SEEK_SET};
/// use lockproof::file::File;
///
/// let dir = tempfile::tempdir().unwrap();
/// let path = dir.path().join("data");
/// let a = File::<Std>::open(&path, "w")?;
/// let b = File::<Std>::open(&path, "r+")?;
/// fcntl_lock(&a, F_OFD_SETLK, Flock::new(F_WRLCK, SEEK_SET, 0, 10))?;
/// // Another open file description of this process conflicts with an OFD lock:
/// let err = fcntl_lock(&b, F_OFD_SETLK, Flock::new(F_WRLCK, SEEK_SET, 5, 1)).unwrap_err();
/// assert_eq!(err.errno(), Some(11));
/// // A classic query from this process reports the OFD lock, with pid -1.
/// let who = fcntl_lock(&b, F_GETLK, Flock::new(F_WRLCK, SEEK_SET, 0, 1))?;
/// assert_eq!((who.l_type, who.l_pid), (F_WRLCK, -1));
/// let free = fcntl_lock(&b, F_GETLK, Flock::new(F_WRLCK, SEEK_SET, 20, 5))?;
/// assert_eq!((free.l_type, free.l_start, free.l_len), (F_UNLCK, 20, 5));
/// # Ok::<(), lockproof::Error>(())
/// ```
pub fn fcntl_lock<F: FileNo + ?Sized>(f: &F, cmd: i32, lock: Flock) -> Result<Flock> {
    let einval = || Error::os(Errno::EINVAL.0);
    let cmd = LockCmd::from_raw(cmd).ok_or_else(einval)?;
    let mut req = RecordLock {
        kind: LockType::from_raw(lock.l_type.into()).ok_or_else(einval)?,
        whence: Whence::from_raw(lock.l_whence.into()).ok_or_else(einval)?,
        start: lock.l_start,
        len: lock.l_len,
        pid: lock.l_pid,
    };
    F::Backend::fcntl_lock(f.fileno(), cmd, &mut req).map_err(os_err)?;
    Ok(Flock {
        l_type: req.kind as i16,
        l_whence: req.whence as i16,
        l_start: req.start,
        l_len: req.len,
        l_pid: req.pid,
    })
}

/// The tutorial's `acquire_with_timeout` helper for flock: try `operation | LOCK_NB`;
/// while it fails with `BlockingIOError`, sleep (with `backoff`) and try again, until
/// `timeout` seconds have passed (`None`: forever). `Ok(true)` once held, `Ok(false)` at
/// the timeout; other errors are returned at once.
///
/// A retry loop, not a wait in the kernel: the lock is not queued for, so a stream of
/// other takers can pass it (FILELOCKS.md §1.2, no fairness), and a timeout is checked
/// only between tries. Under a checker the sleeps are virtual.
///
/// # Examples
///
/// ```
/// use lockproof::backend::Std;
/// use lockproof::file::fcntl::{flock, flock_timeout, LOCK_EX};
/// use lockproof::file::{Backoff, File};
///
/// let dir = tempfile::tempdir().unwrap();
/// let path = dir.path().join("lock");
/// let (a, b) = (File::<Std>::open(&path, "a")?, File::<Std>::open(&path, "a")?);
/// flock(&a, LOCK_EX)?;
/// assert_eq!(flock_timeout(&b, LOCK_EX, Some(0.02), Backoff::default()), Ok(false));
/// drop(a);                                          // the last close releases
/// assert_eq!(flock_timeout(&b, LOCK_EX, Some(0.02), Backoff::default()), Ok(true));
/// # Ok::<(), lockproof::Error>(())
/// ```
pub fn flock_timeout<F: FileNo + ?Sized>(
    f: &F,
    operation: i32,
    timeout: Option<f64>,
    backoff: Backoff,
) -> Result<bool> {
    backoff
        .retry::<F::Backend, _>(timeout, || would_block(flock(f, operation | LOCK_NB)))
        .map(|r| r.is_some())
}

/// [`flock_timeout`] for [`lockf`]: `lockf(fd, cmd | LOCK_NB, len, start, whence)` retried
/// while it fails with `BlockingIOError` (or `PermissionError`: POSIX lets `F_SETLK`
/// report a conflict as `EACCES`, and CPython's docstring tells callers to accept both).
///
/// # Examples
///
/// ```
/// use lockproof::backend::Std;
/// use lockproof::file::fcntl::{lockf_timeout, LOCK_EX};
/// use lockproof::file::{Backoff, File};
///
/// let dir = tempfile::tempdir().unwrap();
/// let f = File::<Std>::open(dir.path().join("f"), "a")?;
/// assert_eq!(lockf_timeout(&f, LOCK_EX, 0, 0, 0, Some(1.0), Backoff::default()), Ok(true));
/// # Ok::<(), lockproof::Error>(())
/// ```
pub fn lockf_timeout<F: FileNo + ?Sized>(
    f: &F,
    cmd: i32,
    len: i64,
    start: i64,
    whence: i32,
    timeout: Option<f64>,
    backoff: Backoff,
) -> Result<bool> {
    backoff
        .retry::<F::Backend, _>(timeout, || {
            would_block(lockf(f, cmd | LOCK_NB, len, start, whence))
        })
        .map(|r| r.is_some())
}

/// `Ok(Some(()))` if taken, `Ok(None)` on a conflict (`EAGAIN`, or `EACCES` as POSIX
/// allows), the error otherwise.
fn would_block(r: Result<()>) -> Result<Option<()>> {
    match r {
        Ok(()) => Ok(Some(())),
        Err(e) if matches!(e.errno(), Some(11) | Some(13)) => Ok(None),
        Err(e) => Err(e),
    }
}

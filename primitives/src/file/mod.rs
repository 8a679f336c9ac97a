//! File locks, lock files and shared files with Python's semantics: `fcntl.flock`,
//! `fcntl.lockf`, `fcntl.fcntl` record and OFD locks, `os.open` with `O_CREAT|O_EXCL`,
//! `open(path, mode)`, and the lock-file patterns of chapter 8 (FILELOCKS.md).
//!
//! Every type and function is generic over a [`FileBackend`] that defaults to
//! [`Std`] (real files, real system calls): the same code runs on a simulated file system
//! under a checker. Types name the backend in their first type parameter (`File<B>`,
//! `Fd<B>`); free functions take it explicitly (`os::unlink::<Std>(path)`) or infer it
//! from a descriptor (`fcntl::flock(&f, LOCK_EX)`).
//!
//! ## From Python to Rust
//!
//! | Python | Rust (`lockproof::file`) | semantics mirrored |
//! |---|---|---|
//! | `open(path, mode)` | [`File::open`] | mode → flags as FILELOCKS.md §3.1: `'w'` truncates at open, before any lock; `'a'` appends; `'x'` is `O_EXCL`; buffered like `io.BufferedRandom` |
//! | `f.read(n)`, `f.write(b)`, `f.flush()`, `f.seek`, `f.tell`, `f.truncate`, `f.close()` | [`File::read`], [`File::write`], [`File::flush`], [`File::seek`], [`File::tell`], [`File::truncate`], [`File::close`] | unflushed writes are invisible to others and lost if the process dies |
//! | `os.open(path, flags, mode)` | [`Fd::open`] | non-inheritable (PEP 446) |
//! | `os.close`, `os.dup`, `os.read`, `os.write`, `os.pread`, `os.pwrite`, `os.lseek`, `os.ftruncate`, `os.fsync`, `os.fstat` | [`Fd::close`], [`Fd::dup`], [`Fd::read`], [`Fd::write`], [`Fd::pread`], [`Fd::pwrite`], [`Fd::lseek`], [`Fd::ftruncate`], [`Fd::fsync`], [`Fd::fstat`] | closing **any** descriptor drops the process's record locks on the file |
//! | `fcntl.flock(fd, op)` | [`fcntl::flock`] | owned by the open file description; `LOCK_SH`↔`LOCK_EX` releases first |
//! | `fcntl.lockf(fd, cmd, len, start, whence)` | [`fcntl::lockf`] | record lock owned by the process; `ValueError('unrecognized lockf argument')` |
//! | `fcntl.fcntl(fd, F_SETLK/F_SETLKW/F_GETLK/F_OFD_*, struct)` | [`fcntl::fcntl_lock`] with [`fcntl::Flock`] | ranges, `EDEADLK`, OFD locks (`l_pid` must be 0) |
//! | `fcntl.fcntl(fd, F_GETFL)` / `F_SETFL` | [`Fd::get_fl`], [`Fd::set_fl`] | flags live in the open file description |
//! | `os.unlink`, `os.rename`, `os.link`, `os.symlink`, `os.mkdir`, `os.rmdir`, `os.stat`, `os.lstat`, `os.utime`, `os.kill(pid, 0)`, `os.getpid`, `time.time_ns` | [`os`] | |
//! | the tutorial's "try `LOCK_NB`, sleep, retry until the timeout" helpers | [`fcntl::flock_timeout`], [`fcntl::lockf_timeout`], [`Backoff`] | virtual time under a checker |
//! | a lock file made with `O_CREAT\|O_EXCL` | [`LockFile`] | a crash leaves it; staleness by age or pid |
//! | the safe patterns of FILELOCKS.md §2.5 | [`KernelLock`], [`lockfile::take_over_by_rename`], [`lockfile::create_by_link`], [`Fencing`] | |
//! | `msvcrt.locking(fd, mode, nbytes)` (Windows; simulated only) | [`msvcrt::locking`] | exclusive, mandatory, per-handle regions; `LK_LOCK` gives up after 10 tries (errno 36) |
//! | exceptions | [`Error::Os`](crate::Error::Os): `BlockingIOError: [Errno 11] Resource temporarily unavailable`, `FileExistsError`, `PermissionError`, … | class from the errno, as Python builds it |
//!
//! ## Which lock
//!
//! | | [`fcntl::flock`] | record lock ([`fcntl::lockf`], `F_SETLK`) | OFD lock (`F_OFD_SETLK`) | [`LockFile`] |
//! |---|---|---|---|---|
//! | owner | the open file description | the process | the open file description | whoever unlinks it |
//! | a second `open()` in the same process | conflicts | never conflicts | conflicts | — |
//! | released by | `LOCK_UN`, the last close | `F_UNLCK`, closing **any** descriptor of the file, exit | `F_UNLCK`, the last close | `unlink` only: a crash leaves it |
//! | holder killed | released | released | released | **stays** |
//!
//! # Examples
//!
//! ```
//! use lockproof::backend::Std;
//! use lockproof::file::fcntl::{self, LOCK_EX, LOCK_NB};
//! use lockproof::file::File;
//! use lockproof::PyException;
//!
//! let dir = tempfile::tempdir().unwrap();
//! let path = dir.path().join("counter");
//! let a = File::<Std>::open(&path, "a+")?;      // open(path, 'a+')
//! let b = File::<Std>::open(&path, "r")?;       // a second open file description
//! fcntl::flock(&a, LOCK_EX)?;                   // fcntl.flock(a, LOCK_EX)
//! let err = fcntl::flock(&b, LOCK_EX | LOCK_NB).unwrap_err();
//! assert_eq!(err.exception(), PyException::BlockingIOError);
//! assert_eq!(err.to_string(), "[Errno 11] Resource temporarily unavailable");
//! # Ok::<(), lockproof::Error>(())
//! ```

pub mod fcntl;
mod fd;
pub mod lockfile;
pub mod msvcrt;
mod open;
pub mod os;
mod retry;

pub use crate::backend::file::{FileBackend, FileKind, FileStat, OpenFlags, RawFd, Whence};
pub use fd::Fd;
pub use lockfile::{Fencing, KernelLock, LockFile, Staleness};
pub use open::File;
pub use retry::Backoff;

use crate::backend::file::Errno;
#[cfg(doc)]
use crate::backend::Std;
use crate::Error;

/// Something with a descriptor, as Python's `fcntl` functions accept "an int or an object
/// with a `fileno()` method": [`Fd`], [`File`], [`KernelLock`], and references to them.
///
/// # Examples
///
/// ```
/// use lockproof::backend::Std;
/// use lockproof::file::{Fd, FileNo, OpenFlags};
///
/// let dir = tempfile::tempdir().unwrap();
/// let fd = Fd::<Std>::open(dir.path().join("f"), OpenFlags::RDWR | OpenFlags::CREAT, 0o644)?;
/// assert!((&fd).fileno() >= 0);
/// # Ok::<(), lockproof::Error>(())
/// ```
pub trait FileNo {
    /// The world the descriptor lives in.
    type Backend: FileBackend;
    /// The descriptor number (`f.fileno()`).
    fn fileno(&self) -> RawFd;
}

impl<T: FileNo + ?Sized> FileNo for &T {
    type Backend = T::Backend;
    fn fileno(&self) -> RawFd {
        (**self).fileno()
    }
}

/// `OSError` for a failed call on a descriptor.
pub(crate) fn os_err(e: Errno) -> Error {
    Error::os(e.0)
}

/// `OSError` with the filename, for a failed call on a path.
pub(crate) fn path_err(e: Errno, path: &std::path::Path) -> Error {
    Error::os_path(e.0, path)
}

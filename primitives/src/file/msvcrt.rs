//! Python's `msvcrt.locking` (Windows only), in the simulated file system of a checked
//! world: there is no Windows machine here, so these semantics are FILELOCKS.md §1.10's
//! reading of the UCRT's `_locking` and of Microsoft's documentation, never run on Windows.
//!
//! | Python (Windows) | here | semantics |
//! |---|---|---|
//! | `msvcrt.locking(fd, msvcrt.LK_NBLCK, n)` / `LK_NBRLCK` | [`locking`] with [`LK_NBLCK`] / [`LK_NBRLCK`] | one try: `PermissionError: [Errno 13] Permission denied` if the region overlaps any held region |
//! | `msvcrt.locking(fd, msvcrt.LK_LOCK, n)` / `LK_RLCK` | [`locking`] with [`LK_LOCK`] / [`LK_RLCK`] | 10 tries, 1 s apart (9 sleeps), then `OSError: [Errno 36] Resource deadlock avoided` (`EDEADLOCK`); **`LK_RLCK` is exclusive too** |
//! | `msvcrt.locking(fd, msvcrt.LK_UNLCK, n)` | [`locking`] with [`LK_UNLCK`] | exactly a region this handle locked (same start, same length), else errno 13 |
//!
//! The region is `[descriptor offset, offset + nbytes)`: the offset of the **descriptor**,
//! not a buffered file's logical position (seek first, with `os.lseek` or an unbuffered
//! file). It belongs to the handle (the open file description); regions never overlap, not
//! even two of one handle, and adjacent regions are not merged. The locks are
//! **mandatory**: while a handle holds a region, a read or write of it through any other
//! handle, in any process, fails with `PermissionError` (errno 13). Closing the handle or
//! the end of its process (normal or killed) releases its regions.
//!
//! Errors carry the **Windows C runtime's** errno and text ([`Error::os_windows`]): errno
//! 36 is `EDEADLOCK` there ("Resource deadlock avoided"), not Linux's `ENAMETOOLONG`, and
//! errno 33 — which the tutorial tests for — is never raised (it is the Win32 code
//! `ERROR_LOCK_VIOLATION`, and as a CRT errno `EDOM`). On real Linux ([`Std`]) every call
//! fails with `ModuleNotFoundError("No module named 'msvcrt'")` ([`Error::ModuleNotFound`]),
//! as `import msvcrt` does in CPython there.
//!
//! # Examples
//!
//! Two handles of one file, in a checked world (here under shuttle, one schedule):
//!
//! ```
//! use lockproof::backend::checked::{execute, WorldConfig};
//! use lockproof::backend::{Backend, Shuttle, ShuttleEngine};
//! use lockproof::file::msvcrt::{locking, LK_LOCK, LK_NBLCK, LK_RLCK, LK_UNLCK};
//! use lockproof::file::File;
//! use lockproof::PyException;
//!
//! shuttle::check_random(
//!     || {
//!         execute::<ShuttleEngine>(WorldConfig::default(), None, || {
//!             let mut a = File::<Shuttle>::open("/sim/data", "w+b").unwrap();
//!             a.write(&[b'x'; 100]).unwrap();
//!             a.flush().unwrap();
//!             let mut b = File::<Shuttle>::open("/sim/data", "r+b").unwrap();
//!             a.seek(0, 0).unwrap();
//!             locking(&a, LK_LOCK, 20).unwrap(); // bytes [0, 20)
//!             // Another handle: refused at once, or after 10 tries (9 s) for LK_RLCK.
//!             let e = locking(&b, LK_NBLCK, 1).unwrap_err();
//!             assert_eq!(e.python_repr(), "PermissionError('[Errno 13] Permission denied')");
//!             let t0 = Shuttle::now();
//!             let e = locking(&b, LK_RLCK, 1).unwrap_err();
//!             assert_eq!(e.to_string(), "[Errno 36] Resource deadlock avoided");
//!             assert_eq!(Shuttle::now().0 - t0.0, 9_000_000_000);
//!             // Mandatory: b cannot even read the locked bytes.
//!             let e = b.read(Some(10)).unwrap_err();
//!             assert_eq!(e.exception(), PyException::PermissionError);
//!             // A disjoint region is free.
//!             b.seek(20, 0).unwrap();
//!             locking(&b, LK_NBLCK, 20).unwrap();
//!             a.seek(0, 0).unwrap();
//!             locking(&a, LK_UNLCK, 20).unwrap();
//!             b.seek(0, 0).unwrap();
//!             assert_eq!(b.read(Some(10)).unwrap(), vec![b'x'; 10]);
//!         })
//!     },
//!     1,
//! );
//! ```
//!
//! On Linux there is no `msvcrt`:
//!
//! ```
//! use lockproof::backend::Std;
//! use lockproof::file::msvcrt::{locking, LK_LOCK};
//! use lockproof::file::File;
//! use lockproof::PyException;
//!
//! let dir = tempfile::tempdir().unwrap();
//! let f = File::<Std>::open(dir.path().join("f"), "w")?;
//! let e = locking(&f, LK_LOCK, 1).unwrap_err();
//! assert_eq!(e.exception(), PyException::ModuleNotFoundError);
//! assert_eq!(e.python_repr(), "ModuleNotFoundError(\"No module named 'msvcrt'\")");
//! # Ok::<(), lockproof::Error>(())
//! ```

use super::FileNo;
use crate::backend::file::{Errno, FileBackend};
#[cfg(doc)]
use crate::backend::Std;
use crate::{Error, Result};

/// `msvcrt.LK_UNLCK`: unlock exactly a region this handle locked.
pub const LK_UNLCK: i32 = 0;
/// `msvcrt.LK_LOCK`: exclusive; 10 tries 1 s apart, then `EDEADLOCK` (36).
pub const LK_LOCK: i32 = 1;
/// `msvcrt.LK_NBLCK`: exclusive; one try, then `EACCES` (13).
pub const LK_NBLCK: i32 = 2;
/// `msvcrt.LK_RLCK`: documented as "same as `LK_LOCK`": **exclusive**, not a read lock.
pub const LK_RLCK: i32 = 3;
/// `msvcrt.LK_NBRLCK`: "same as `LK_NBLCK`": exclusive, one try.
pub const LK_NBRLCK: i32 = 4;

/// `errno.EACCES` (13), on Windows as on Linux: a non-blocking request refused, an unlock
/// of a region not held, or a read/write of another handle's region.
pub const EACCES: i32 = 13;
/// `errno.EDEADLOCK` on Windows (36; `errno.EDEADLK` there is the same number): a blocking
/// request that gave up after its 10 tries.
pub const EDEADLOCK: i32 = 36;

/// `msvcrt.locking(fd, mode, nbytes)`: lock or unlock `nbytes` bytes from the descriptor's
/// current offset (see the [module](self) for the rules).
///
/// Errors: `PermissionError: [Errno 13] Permission denied` (non-blocking refusal, or
/// `LK_UNLCK` of a region not held), `OSError: [Errno 36] Resource deadlock avoided`
/// (`LK_LOCK`/`LK_RLCK` gave up after about 9 s), `OSError: [Errno 22] Invalid argument`
/// (`nbytes < 0`, unknown mode), `OSError: [Errno 9] Bad file descriptor`; on real Linux
/// `ModuleNotFoundError: No module named 'msvcrt'`.
///
/// # Examples
///
/// ```
/// use lockproof::backend::checked::{execute, WorldConfig};
/// use lockproof::backend::{Shuttle, ShuttleEngine};
/// use lockproof::file::msvcrt::{locking, LK_NBLCK, LK_UNLCK};
/// use lockproof::file::{Fd, OpenFlags};
///
/// shuttle::check_random(
///     || {
///         execute::<ShuttleEngine>(WorldConfig::default(), None, || {
///             let fd = Fd::<Shuttle>::open("/sim/f", OpenFlags::RDWR | OpenFlags::CREAT, 0o644).unwrap();
///             locking(&fd, LK_NBLCK, 10).unwrap();
///             // Even the same handle cannot lock an overlapping region.
///             assert_eq!(locking(&fd, LK_NBLCK, 5).unwrap_err().errno(), Some(13));
///             assert_eq!(locking(&fd, LK_NBLCK, -1).unwrap_err().to_string(), "[Errno 22] Invalid argument");
///             // Unlocking must name the region exactly.
///             assert_eq!(locking(&fd, LK_UNLCK, 5).unwrap_err().errno(), Some(13));
///             locking(&fd, LK_UNLCK, 10).unwrap();
///             assert_eq!(locking(&fd, LK_UNLCK, 10).unwrap_err().errno(), Some(13));
///         })
///     },
///     1,
/// );
/// ```
pub fn locking<F: FileNo>(fd: F, mode: i32, nbytes: i64) -> Result<()> {
    match F::Backend::msvcrt_locking(fd.fileno(), mode, nbytes) {
        Ok(()) => Ok(()),
        Err(Errno::ENOSYS) => Err(Error::ModuleNotFound("No module named 'msvcrt'".to_owned())),
        Err(e) => Err(Error::os_windows(e.0)),
    }
}

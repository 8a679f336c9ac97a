//! Python's `os` functions on names, processes and the clock, over a [`FileBackend`].
//!
//! Each takes the backend as its first type parameter: `os::unlink::<Std>(path)` on real
//! files, `os::unlink::<B>(path)` in a model. Errors carry the filename, as Python's do:
//! `FileNotFoundError: [Errno 2] No such file or directory: '/tmp/x.lock'`.

use super::{os_err, path_err};
use crate::backend::file::{Errno, FileBackend, FileStat};
use crate::{Error, Result};
use std::path::Path;

/// `os.unlink(path)` / `os.remove(path)`: removes the name; descriptors already open keep
/// the file (and its locks). A name already gone is `FileNotFoundError`.
///
/// # Examples
///
/// ```
/// use lockproof::backend::Std;
/// use lockproof::file::os;
/// use lockproof::PyException;
///
/// let dir = tempfile::tempdir().unwrap();
/// let p = dir.path().join("x");
/// std::fs::write(&p, b"").unwrap();
/// os::unlink::<Std>(&p)?;
/// assert_eq!(os::unlink::<Std>(&p).unwrap_err().exception(), PyException::FileNotFoundError);
/// # Ok::<(), lockproof::Error>(())
/// ```
pub fn unlink<B: FileBackend>(path: impl AsRef<Path>) -> Result<()> {
    let path = path.as_ref();
    B::unlink(path).map_err(|e| path_err(e, path))
}

/// `os.rename(src, dst)` (= `os.replace` on Linux): `dst` is replaced atomically. Of two
/// renames of one `src`, one succeeds and the other is `FileNotFoundError`.
///
/// # Examples
///
/// ```
/// use lockproof::backend::Std;
/// use lockproof::file::os;
///
/// let dir = tempfile::tempdir().unwrap();
/// let (a, b) = (dir.path().join("a"), dir.path().join("b"));
/// std::fs::write(&a, b"new").unwrap();
/// std::fs::write(&b, b"old").unwrap();
/// os::rename::<Std>(&a, &b)?;
/// assert_eq!(std::fs::read(&b).unwrap(), b"new");
/// assert_eq!(os::rename::<Std>(&a, &b).unwrap_err().errno(), Some(2));
/// # Ok::<(), lockproof::Error>(())
/// ```
pub fn rename<B: FileBackend>(src: impl AsRef<Path>, dst: impl AsRef<Path>) -> Result<()> {
    let (src, dst) = (src.as_ref(), dst.as_ref());
    B::rename(src, dst).map_err(|e| two_path_err(e, src, dst))
}

/// `os.link(src, dst)`: `FileExistsError` if `dst` exists (the `link` lock-file trick).
///
/// # Examples
///
/// ```
/// use lockproof::backend::Std;
/// use lockproof::file::os;
///
/// let dir = tempfile::tempdir().unwrap();
/// let (tmp, lock) = (dir.path().join("tmp"), dir.path().join("lock"));
/// std::fs::write(&tmp, b"me").unwrap();
/// os::link::<Std>(&tmp, &lock)?;
/// assert_eq!(os::stat::<Std>(&tmp)?.nlink, 2);
/// assert_eq!(os::link::<Std>(&tmp, &lock).unwrap_err().errno(), Some(17));
/// # Ok::<(), lockproof::Error>(())
/// ```
pub fn link<B: FileBackend>(src: impl AsRef<Path>, dst: impl AsRef<Path>) -> Result<()> {
    let (src, dst) = (src.as_ref(), dst.as_ref());
    B::link(src, dst).map_err(|e| two_path_err(e, src, dst))
}

/// `os.symlink(target, path)`.
///
/// # Examples
///
/// ```
/// use lockproof::backend::Std;
/// use lockproof::file::{os, FileKind};
///
/// let dir = tempfile::tempdir().unwrap();
/// let p = dir.path().join("l");
/// os::symlink::<Std>(dir.path().join("nowhere"), &p)?;
/// assert_eq!(os::lstat::<Std>(&p)?.kind, FileKind::Symlink);
/// # Ok::<(), lockproof::Error>(())
/// ```
pub fn symlink<B: FileBackend>(target: impl AsRef<Path>, path: impl AsRef<Path>) -> Result<()> {
    let (target, path) = (target.as_ref(), path.as_ref());
    B::symlink(target, path).map_err(|e| two_path_err(e, target, path))
}

/// `os.mkdir(path, mode)`: `FileExistsError` if it exists (the `mkdir` lock).
///
/// # Examples
///
/// ```
/// use lockproof::backend::Std;
/// use lockproof::file::os;
///
/// let dir = tempfile::tempdir().unwrap();
/// let p = dir.path().join("d");
/// os::mkdir::<Std>(&p, 0o755)?;
/// assert_eq!(os::mkdir::<Std>(&p, 0o755).unwrap_err().errno(), Some(17));
/// os::rmdir::<Std>(&p)?;
/// # Ok::<(), lockproof::Error>(())
/// ```
pub fn mkdir<B: FileBackend>(path: impl AsRef<Path>, mode: u32) -> Result<()> {
    let path = path.as_ref();
    B::mkdir(path, mode).map_err(|e| path_err(e, path))
}

/// `os.rmdir(path)`.
///
/// # Examples
///
/// ```
/// use lockproof::backend::Std;
/// use lockproof::file::os;
///
/// let dir = tempfile::tempdir().unwrap();
/// assert_eq!(os::rmdir::<Std>(dir.path().join("none")).unwrap_err().errno(), Some(2));
/// ```
pub fn rmdir<B: FileBackend>(path: impl AsRef<Path>) -> Result<()> {
    let path = path.as_ref();
    B::rmdir(path).map_err(|e| path_err(e, path))
}

/// `os.listdir(path)`: the names in a directory, **sorted** (CPython returns the
/// kernel's order, which is unspecified; sorting keeps a real run and a simulated one
/// alike). `FileNotFoundError` if it does not exist, `NotADirectoryError` for a file.
///
/// # Examples
///
/// ```
/// use lockproof::backend::Std;
/// use lockproof::file::os;
///
/// let dir = tempfile::tempdir().unwrap();
/// std::fs::write(dir.path().join("b.task"), b"").unwrap();
/// std::fs::write(dir.path().join("a.task"), b"").unwrap();
/// assert_eq!(os::listdir::<Std>(dir.path())?, ["a.task", "b.task"]);
/// assert_eq!(os::listdir::<Std>(dir.path().join("none")).unwrap_err().errno(), Some(2));
/// # Ok::<(), lockproof::Error>(())
/// ```
pub fn listdir<B: FileBackend>(path: impl AsRef<Path>) -> Result<Vec<String>> {
    let path = path.as_ref();
    B::listdir(path).map_err(|e| path_err(e, path))
}

/// `os.stat(path)`, following symlinks.
///
/// # Examples
///
/// ```
/// use lockproof::backend::Std;
/// use lockproof::file::{os, FileKind};
///
/// let dir = tempfile::tempdir().unwrap();
/// assert_eq!(os::stat::<Std>(dir.path())?.kind, FileKind::Dir);
/// # Ok::<(), lockproof::Error>(())
/// ```
pub fn stat<B: FileBackend>(path: impl AsRef<Path>) -> Result<FileStat> {
    let path = path.as_ref();
    B::stat(path).map_err(|e| path_err(e, path))
}

/// `os.lstat(path)`: a symlink itself.
///
/// # Examples
///
/// ```
/// use lockproof::backend::Std;
/// use lockproof::file::os;
///
/// let dir = tempfile::tempdir().unwrap();
/// assert_eq!(os::lstat::<Std>(dir.path().join("none")).unwrap_err().errno(), Some(2));
/// ```
pub fn lstat<B: FileBackend>(path: impl AsRef<Path>) -> Result<FileStat> {
    let path = path.as_ref();
    B::lstat(path).map_err(|e| path_err(e, path))
}

/// `os.utime(path)`: mtime := now (a lock file's heartbeat).
///
/// # Examples
///
/// ```
/// use lockproof::backend::Std;
/// use lockproof::file::os;
///
/// let dir = tempfile::tempdir().unwrap();
/// let p = dir.path().join("f");
/// std::fs::write(&p, b"").unwrap();
/// os::utime::<Std>(&p)?;
/// # Ok::<(), lockproof::Error>(())
/// ```
pub fn utime<B: FileBackend>(path: impl AsRef<Path>) -> Result<()> {
    let path = path.as_ref();
    B::utime_now(path).map_err(|e| path_err(e, path))
}

/// `os.getpid()`.
///
/// # Examples
///
/// ```
/// use lockproof::backend::Std;
/// use lockproof::file::os;
///
/// assert_eq!(os::getpid::<Std>(), std::process::id());
/// ```
pub fn getpid<B: FileBackend>() -> u32 {
    B::getpid()
}

/// `os.kill(pid, 0)`: `Ok` for a live process **or a zombie**; `ProcessLookupError` once
/// no such process exists; `PermissionError` for another user's live process (which is
/// alive: treating every `OSError` as "dead" is a bug, FILELOCKS.md §2.3).
///
/// # Examples
///
/// ```
/// use lockproof::backend::Std;
/// use lockproof::file::os;
///
/// assert_eq!(os::kill0::<Std>(std::process::id()), Ok(()));
/// ```
pub fn kill0<B: FileBackend>(pid: u32) -> Result<()> {
    B::kill0(pid).map_err(os_err)
}

/// Whether `kill(pid, 0)` says the process exists: `Ok` or `EPERM` are alive (a zombie
/// too), `ESRCH` is dead. Fooled by pid reuse (FILELOCKS.md §2.3).
///
/// # Examples
///
/// ```
/// use lockproof::backend::Std;
/// use lockproof::file::os;
///
/// assert!(os::pid_exists::<Std>(std::process::id()));
/// ```
pub fn pid_exists<B: FileBackend>(pid: u32) -> bool {
    !matches!(B::kill0(pid), Err(Errno::ESRCH))
}

/// `time.time_ns()`: the clock mtimes are stamped from.
///
/// # Examples
///
/// ```
/// use lockproof::backend::Std;
/// use lockproof::file::os;
///
/// assert!(os::time_ns::<Std>() > 1_600_000_000_000_000_000);
/// ```
pub fn time_ns<B: FileBackend>() -> i64 {
    B::time_ns()
}

/// Python's two-filename `OSError`: `[Errno 2] No such file or directory: 'a' -> 'b'`.
fn two_path_err(e: Errno, a: &Path, b: &Path) -> Error {
    match Error::os(e.0) {
        Error::Os { errno, message } => Error::Os {
            errno,
            message: format!("{message}: '{}' -> '{}'", a.display(), b.display()),
        },
        other => other,
    }
}

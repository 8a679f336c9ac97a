//! Lock files and the patterns of FILELOCKS.md §2: which are safe, and which are not.
//!
//! A lock file made with `O_CREAT|O_EXCL` ([`LockFile`]) is held by whoever created it
//! until somebody unlinks it: a crash leaves it behind, so code grows a staleness rule,
//! and every staleness rule that ends in "remove it by name" is racy:
//!
//! | pattern | here | safe? |
//! |---|---|---|
//! | kernel lock (flock) on a permanent file, never deleted | [`KernelLock`] | **yes**: the kernel drops it when the holder dies; no staleness rule exists |
//! | take-over by `rename` of a candidate over the stale lock, then re-read | [`take_over_by_rename`] | no double take-over (race 1); a paused holder (race 2) still wakes up inside |
//! | the `link` trick (`st_nlink == 2`) | [`create_by_link`] | atomic creation, also on old NFS; staleness still needs one of the others |
//! | fencing tokens from a counter under a kernel lock | [`Fencing`] | the only one that makes race 2 harmless: the resource rejects stale tokens |
//! | heartbeat (`os.utime`) + age | [`LockFile::heartbeat`] | narrows race 2's window, cannot close it |
//! | "stat → stale → remove → create" | [`LockFile::remove_if_stale`] | **no**: two waiters that both judge a lock stale both remove and both create — two holders (race 1, reproduced on real files in `tests/conformance_file.rs`) |
//! | staleness by pid (`os.kill(pid, 0)`) | [`Staleness::DeadHolder`] | fooled by zombies and pid reuse (a liveness failure), by pids of other hosts or namespaces |
//! | read the lock's JSON/pid and treat unparsable as stale | — | **no**: the body is written after the create (race 4): an empty file is a live holder between its two steps |

use super::fcntl::{flock, flock_timeout, LOCK_EX, LOCK_NB, LOCK_UN};
use super::fd::Fd;
use super::retry::Backoff;
use super::{os, FileNo};
use crate::backend::file::{Errno, FileBackend, FileStat, OpenFlags, RawFd, Whence};
use crate::backend::Std;
use crate::Result;
use std::fmt;
use std::marker::PhantomData;
use std::path::{Path, PathBuf};

/// When a lock file counts as abandoned (for [`LockFile::is_stale`]).
///
/// # Examples
///
/// ```
/// use lockproof::file::Staleness;
///
/// let rule = Staleness::Age(30.0); // older than MAX_AGE = 30 s
/// assert_ne!(rule, Staleness::DeadHolder);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Staleness {
    /// `time.time() - os.stat(p).st_mtime > max_age` (seconds). Judges a live holder
    /// stale if it runs (or is paused) longer without a heartbeat.
    Age(f64),
    /// The pid written in the file no longer exists (`os.kill(pid, 0)` raises
    /// `ProcessLookupError`). A zombie or a reused pid counts as alive; an empty or
    /// unparsable body is **not** judged (it may be a holder between create and write).
    DeadHolder,
}

/// A lock file created with `os.open(path, O_CREAT | O_EXCL | O_WRONLY)`, holding this
/// process's pid: held from the create until [`release`](LockFile::release) unlinks it —
/// and forever if the process dies first.
///
/// Creation and the pid are two steps (as in Python): between them the file exists and is
/// empty.
///
/// # Examples
///
/// ```
/// use lockproof::backend::Std;
/// use lockproof::file::{Backoff, LockFile};
/// use lockproof::PyException;
///
/// let dir = tempfile::tempdir().unwrap();
/// let path = dir.path().join("job.lock");
/// let held = LockFile::<Std>::try_create(&path)?;
/// assert_eq!(LockFile::<Std>::try_create(&path).unwrap_err().exception(), PyException::FileExistsError);
/// assert_eq!(LockFile::<Std>::read_pid(&path)?, Some(std::process::id()));
/// assert!(LockFile::<Std>::acquire(&path, Some(0.01), Backoff::default())?.is_none());
/// held.release()?;
/// assert!(LockFile::<Std>::acquire(&path, Some(0.01), Backoff::default())?.is_some());
/// # Ok::<(), lockproof::Error>(())
/// ```
pub struct LockFile<B: FileBackend = Std> {
    path: PathBuf,
    created: FileStat,
    _backend: PhantomData<fn() -> B>,
}

impl<B: FileBackend> fmt::Debug for LockFile<B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "LockFile({})", self.path.display())
    }
}

impl<B: FileBackend> LockFile<B> {
    /// One try: create the file exclusively, then write `"<pid>\n"` into it and close it.
    /// `FileExistsError` if it exists (even as a dangling symlink).
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::backend::Std;
    /// use lockproof::file::LockFile;
    ///
    /// let dir = tempfile::tempdir().unwrap();
    /// let lock = LockFile::<Std>::try_create(dir.path().join("a.lock"))?;
    /// assert!(lock.is_ours()?);
    /// # Ok::<(), lockproof::Error>(())
    /// ```
    pub fn try_create(path: impl AsRef<Path>) -> Result<LockFile<B>> {
        let path = path.as_ref();
        let fd = Fd::<B>::open(
            path,
            OpenFlags::CREAT | OpenFlags::EXCL | OpenFlags::WRONLY,
            0o644,
        )?;
        fd.write(format!("{}\n", B::getpid()).as_bytes())?;
        let created = fd.fstat()?;
        fd.close()?;
        Ok(LockFile {
            path: path.to_owned(),
            created,
            _backend: PhantomData,
        })
    }

    /// Try to create it until `timeout` seconds have passed (`None`: forever), sleeping
    /// with `backoff` while it exists. `Ok(None)` at the timeout. No staleness rule: a
    /// dead holder's file makes this time out (see the module's table for what to add).
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::backend::Std;
    /// use lockproof::file::{Backoff, LockFile};
    ///
    /// let dir = tempfile::tempdir().unwrap();
    /// let got = LockFile::<Std>::acquire(dir.path().join("a.lock"), Some(1.0), Backoff::default())?;
    /// assert!(got.is_some());
    /// # Ok::<(), lockproof::Error>(())
    /// ```
    pub fn acquire(
        path: impl AsRef<Path>,
        timeout: Option<f64>,
        backoff: Backoff,
    ) -> Result<Option<LockFile<B>>> {
        let path = path.as_ref();
        backoff.retry::<B, _>(timeout, || match Self::try_create(path) {
            Ok(l) => Ok(Some(l)),
            Err(e) if e.errno() == Some(Errno::EEXIST.0) => Ok(None),
            Err(e) => Err(e),
        })
    }

    /// The lock file's path.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::backend::Std;
    /// use lockproof::file::LockFile;
    ///
    /// let dir = tempfile::tempdir().unwrap();
    /// let p = dir.path().join("a.lock");
    /// assert_eq!(LockFile::<Std>::try_create(&p)?.path(), p);
    /// # Ok::<(), lockproof::Error>(())
    /// ```
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether the name still refers to the file this process created (someone who judged
    /// it stale may have removed it and created their own).
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::backend::Std;
    /// use lockproof::file::{os, LockFile};
    ///
    /// let dir = tempfile::tempdir().unwrap();
    /// let lock = LockFile::<Std>::try_create(dir.path().join("a.lock"))?;
    /// os::unlink::<Std>(lock.path())?;                    // a cleaner took it away
    /// assert!(!lock.is_ours()?);
    /// # Ok::<(), lockproof::Error>(())
    /// ```
    pub fn is_ours(&self) -> Result<bool> {
        match B::stat(&self.path) {
            Ok(s) => Ok(s.same_file(&self.created)),
            Err(Errno::ENOENT) => Ok(false),
            Err(e) => Err(super::path_err(e, &self.path)),
        }
    }

    /// `os.utime(path)`: refresh the mtime, so that an age rule does not judge a long
    /// holder stale. Narrows race 2 (a paused holder), cannot close it.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::backend::Std;
    /// use lockproof::file::LockFile;
    ///
    /// let dir = tempfile::tempdir().unwrap();
    /// LockFile::<Std>::try_create(dir.path().join("a.lock"))?.heartbeat()?;
    /// # Ok::<(), lockproof::Error>(())
    /// ```
    pub fn heartbeat(&self) -> Result<()> {
        os::utime::<B>(&self.path)
    }

    /// Release: `os.unlink(path)`. Unlinks by name, whatever the name refers to now: after
    /// a take-over it removes the new holder's file (check [`is_ours`](LockFile::is_ours)
    /// first to detect that; the check and the unlink are still two steps).
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::backend::Std;
    /// use lockproof::file::LockFile;
    ///
    /// let dir = tempfile::tempdir().unwrap();
    /// let p = dir.path().join("a.lock");
    /// LockFile::<Std>::try_create(&p)?.release()?;
    /// assert!(!p.exists());
    /// # Ok::<(), lockproof::Error>(())
    /// ```
    pub fn release(self) -> Result<()> {
        os::unlink::<B>(&self.path)
    }

    /// The pid written in a lock file: `None` for an empty or unparsable body (a holder
    /// between its create and its write, or one that crashed there).
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::backend::Std;
    /// use lockproof::file::LockFile;
    ///
    /// let dir = tempfile::tempdir().unwrap();
    /// let p = dir.path().join("a.lock");
    /// std::fs::write(&p, b"").unwrap();
    /// assert_eq!(LockFile::<Std>::read_pid(&p)?, None);
    /// # Ok::<(), lockproof::Error>(())
    /// ```
    pub fn read_pid(path: impl AsRef<Path>) -> Result<Option<u32>> {
        let fd = Fd::<B>::open(path, OpenFlags::RDONLY, 0)?;
        let mut body = Vec::new();
        loop {
            let chunk = fd.read(64)?;
            if chunk.is_empty() {
                break;
            }
            body.extend_from_slice(&chunk);
        }
        fd.close()?;
        Ok(std::str::from_utf8(&body)
            .ok()
            .and_then(|s| s.trim().parse().ok()))
    }

    /// Whether the lock file at `path` is stale by `rule`. `Ok(false)` if there is none.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::backend::Std;
    /// use lockproof::file::{LockFile, Staleness};
    ///
    /// let dir = tempfile::tempdir().unwrap();
    /// let p = dir.path().join("a.lock");
    /// let lock = LockFile::<Std>::try_create(&p)?;
    /// assert!(!LockFile::<Std>::is_stale(&p, Staleness::DeadHolder)?);     // we are alive
    /// assert!(LockFile::<Std>::is_stale(&p, Staleness::Age(0.0))?);        // any age > 0
    /// # drop(lock);
    /// # Ok::<(), lockproof::Error>(())
    /// ```
    pub fn is_stale(path: impl AsRef<Path>, rule: Staleness) -> Result<bool> {
        let path = path.as_ref();
        match rule {
            Staleness::Age(max_age) => match B::stat(path) {
                Ok(s) => Ok((B::time_ns() - s.mtime_ns) as f64 / 1e9 > max_age),
                Err(Errno::ENOENT) => Ok(false),
                Err(e) => Err(super::path_err(e, path)),
            },
            Staleness::DeadHolder => match Self::read_pid(path) {
                Ok(Some(pid)) => Ok(!os::pid_exists::<B>(pid)),
                Ok(None) => Ok(false),
                Err(e) if e.errno() == Some(Errno::ENOENT.0) => Ok(false),
                Err(e) => Err(e),
            },
        }
    }

    /// **The racy pattern** (FILELOCKS.md §2.4 race 1), kept because chapter 8 teaches it
    /// and its models need it: if the lock file is stale by `rule`, `os.remove` it, and say
    /// whether this call removed it. Between the check and the removal another waiter may
    /// have removed the stale file and created its own, fresh one — which this call then
    /// removes: both go on to create, both hold the lock. Re-checking just before removing
    /// narrows the window and does not close it. A name already gone at the removal is
    /// `FileNotFoundError`, as in Python. Use [`KernelLock`], or [`take_over_by_rename`]
    /// with [`Fencing`], instead.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::backend::Std;
    /// use lockproof::file::{LockFile, Staleness};
    ///
    /// let dir = tempfile::tempdir().unwrap();
    /// let p = dir.path().join("a.lock");
    /// std::fs::write(&p, b"999999999\n").unwrap();    // a pid that does not exist
    /// assert!(LockFile::<Std>::remove_if_stale(&p, Staleness::DeadHolder)?);
    /// assert!(!p.exists());
    /// # Ok::<(), lockproof::Error>(())
    /// ```
    pub fn remove_if_stale(path: impl AsRef<Path>, rule: Staleness) -> Result<bool> {
        let path = path.as_ref();
        if Self::is_stale(path, rule)? {
            os::unlink::<B>(path)?;
            Ok(true)
        } else {
            Ok(false)
        }
    }
}

/// A unique temporary name next to `path` for this process and `token`.
fn candidate(path: &Path, token: &str) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_owned();
    name.push(format!(".{token}.tmp"));
    path.with_file_name(name)
}

fn write_new<B: FileBackend>(path: &Path, body: &[u8]) -> Result<()> {
    let fd = Fd::<B>::open(
        path,
        OpenFlags::CREAT | OpenFlags::EXCL | OpenFlags::WRONLY,
        0o644,
    )?;
    fd.write(body)?;
    fd.close()
}

/// Take-over by rename (FILELOCKS.md §2.5 pattern 2): write `token` into a candidate under
/// a unique temporary name, `rename` it over the lock (replacing whatever is there,
/// atomically), then re-read the lock: `Ok(true)` only if it holds `token`. Of several
/// waiters taking over at once, only the last rename's token survives, and each re-read
/// sees it — unless a later waiter renames after this re-read (so call it only after
/// judging the lock stale, and protect the work with [`Fencing`]: a paused holder, race 2,
/// is not stopped by this).
///
/// # Examples
///
/// ```
/// use lockproof::backend::Std;
/// use lockproof::file::lockfile::take_over_by_rename;
///
/// let dir = tempfile::tempdir().unwrap();
/// let p = dir.path().join("a.lock");
/// std::fs::write(&p, b"dead holder").unwrap();
/// assert!(take_over_by_rename::<Std>(&p, "me-1")?);
/// assert_eq!(std::fs::read(&p).unwrap(), b"me-1");
/// # Ok::<(), lockproof::Error>(())
/// ```
pub fn take_over_by_rename<B: FileBackend>(path: impl AsRef<Path>, token: &str) -> Result<bool> {
    let path = path.as_ref();
    let tmp = candidate(path, token);
    write_new::<B>(&tmp, token.as_bytes())?;
    os::rename::<B>(&tmp, path)?;
    let fd = match Fd::<B>::open(path, OpenFlags::RDONLY, 0) {
        Ok(fd) => fd,
        Err(e) if e.errno() == Some(Errno::ENOENT.0) => return Ok(false),
        Err(e) => return Err(e),
    };
    let body = fd.read(token.len() + 1)?;
    fd.close()?;
    Ok(body == token.as_bytes())
}

/// The `link` trick (FILELOCKS.md §2.5 pattern 3): write `token` into a unique temporary
/// file, `link` it to the lock name, and count it ours if the link succeeded or the
/// temporary file now has two links (an NFS reply may be lost). The temporary name is
/// removed either way.
///
/// # Examples
///
/// ```
/// use lockproof::backend::Std;
/// use lockproof::file::lockfile::create_by_link;
///
/// let dir = tempfile::tempdir().unwrap();
/// let p = dir.path().join("a.lock");
/// assert!(create_by_link::<Std>(&p, "me-1")?);
/// assert!(!create_by_link::<Std>(&p, "you-2")?);
/// # Ok::<(), lockproof::Error>(())
/// ```
pub fn create_by_link<B: FileBackend>(path: impl AsRef<Path>, token: &str) -> Result<bool> {
    let path = path.as_ref();
    let tmp = candidate(path, token);
    write_new::<B>(&tmp, token.as_bytes())?;
    let ours = match B::link(&tmp, path) {
        Ok(()) => true,
        Err(_) => os::stat::<B>(&tmp)?.nlink == 2,
    };
    os::unlink::<B>(&tmp)?;
    Ok(ours)
}

/// The safe lock file (FILELOCKS.md §2.5 pattern 1): a permanent file, never deleted, held
/// with flock `LOCK_EX`. The kernel releases it when the holder closes it or dies, so no
/// staleness rule exists to get wrong; the pid written into it is a diagnostic only.
///
/// After locking it checks that the name still refers to the locked inode (`fstat(fd)` vs
/// `stat(path)`): if somebody unlinked or replaced the file (race 3 of §2.4), it lets go
/// and locks the new one.
///
/// # Examples
///
/// ```
/// use lockproof::backend::Std;
/// use lockproof::file::KernelLock;
///
/// let dir = tempfile::tempdir().unwrap();
/// let p = dir.path().join("app.lock");
/// let held = KernelLock::<Std>::acquire(&p, None)?.unwrap();
/// assert!(KernelLock::<Std>::acquire(&p, Some(0.01))?.is_none());   // another description
/// held.release()?;
/// assert!(KernelLock::<Std>::acquire(&p, Some(0.0))?.is_some());
/// assert!(p.exists());                                              // never deleted
/// # Ok::<(), lockproof::Error>(())
/// ```
pub struct KernelLock<B: FileBackend = Std> {
    fd: Fd<B>,
}

impl<B: FileBackend> fmt::Debug for KernelLock<B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KernelLock({:?})", self.fd)
    }
}

impl<B: FileBackend> KernelLock<B> {
    /// Open (creating, never truncating) and flock `LOCK_EX`: waiting in the kernel for
    /// `timeout` `None`, else retrying `LOCK_EX | LOCK_NB` with [`Backoff::default`] until
    /// `timeout` seconds have passed (`Ok(None)`).
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::backend::Std;
    /// use lockproof::file::KernelLock;
    ///
    /// let dir = tempfile::tempdir().unwrap();
    /// assert!(KernelLock::<Std>::acquire(dir.path().join("l"), Some(1.0))?.is_some());
    /// # Ok::<(), lockproof::Error>(())
    /// ```
    pub fn acquire(path: impl AsRef<Path>, timeout: Option<f64>) -> Result<Option<KernelLock<B>>> {
        let path = path.as_ref();
        loop {
            let fd = Fd::<B>::open(path, OpenFlags::RDWR | OpenFlags::CREAT, 0o644)?;
            let got = match timeout {
                None => flock(&fd, LOCK_EX).map(|()| true)?,
                Some(0.0) => match flock(&fd, LOCK_EX | LOCK_NB) {
                    Ok(()) => true,
                    Err(e) if e.errno() == Some(Errno::EAGAIN.0) => false,
                    Err(e) => return Err(e),
                },
                Some(t) => flock_timeout(&fd, LOCK_EX, Some(t), Backoff::default())?,
            };
            if !got {
                return Ok(None);
            }
            match B::stat(path) {
                Ok(s) if s.same_file(&fd.fstat()?) => {
                    fd.ftruncate(0)?;
                    fd.pwrite(format!("{}\n", B::getpid()).as_bytes(), 0)?;
                    return Ok(Some(KernelLock { fd }));
                }
                // Unlinked or replaced while we waited: the lock we hold guards nothing.
                Ok(_) | Err(Errno::ENOENT) => continue,
                Err(e) => return Err(super::path_err(e, path)),
            }
        }
    }

    /// `fcntl.flock(fd, LOCK_UN)` and close; the file stays.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::backend::Std;
    /// use lockproof::file::KernelLock;
    ///
    /// let dir = tempfile::tempdir().unwrap();
    /// KernelLock::<Std>::acquire(dir.path().join("l"), None)?.unwrap().release()?;
    /// # Ok::<(), lockproof::Error>(())
    /// ```
    pub fn release(self) -> Result<()> {
        flock(&self.fd, LOCK_UN)?;
        self.fd.close()
    }
}

impl<B: FileBackend> FileNo for KernelLock<B> {
    type Backend = B;
    fn fileno(&self) -> RawFd {
        self.fd.raw()
    }
}

/// Fencing tokens (FILELOCKS.md §2.5 pattern 4): each call to [`next`](Fencing::next)
/// returns a number one larger than any returned before, kept in a counter file under a
/// [`KernelLock`]-style flock. A lock holder passes its token with every write to the
/// protected resource, and the resource rejects a token lower than the largest it has
/// seen: a holder that was judged stale while paused (race 2) then cannot overwrite its
/// successor's work.
///
/// # Examples
///
/// ```
/// use lockproof::backend::Std;
/// use lockproof::file::Fencing;
///
/// let dir = tempfile::tempdir().unwrap();
/// let fence = Fencing::<Std>::new(dir.path().join("epoch"));
/// assert_eq!(fence.next()?, 1);
/// assert_eq!(fence.next()?, 2);
/// # Ok::<(), lockproof::Error>(())
/// ```
#[derive(Debug)]
pub struct Fencing<B: FileBackend = Std> {
    path: PathBuf,
    _backend: PhantomData<fn() -> B>,
}

impl<B: FileBackend> Fencing<B> {
    /// Tokens kept in the counter file `path` (created on first use, never deleted).
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::backend::Std;
    /// use lockproof::file::Fencing;
    ///
    /// let dir = tempfile::tempdir().unwrap();
    /// let _fence = Fencing::<Std>::new(dir.path().join("epoch"));
    /// ```
    pub fn new(path: impl AsRef<Path>) -> Fencing<B> {
        Fencing {
            path: path.as_ref().to_owned(),
            _backend: PhantomData,
        }
    }

    /// The next token: lock the counter file (flock `LOCK_EX`, waiting), read, add one,
    /// write back and truncate, then close (which unlocks).
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::backend::Std;
    /// use lockproof::file::Fencing;
    ///
    /// let dir = tempfile::tempdir().unwrap();
    /// let fence = Fencing::<Std>::new(dir.path().join("epoch"));
    /// let (a, b) = (fence.next()?, fence.next()?);
    /// assert!(b > a);
    /// # Ok::<(), lockproof::Error>(())
    /// ```
    pub fn next(&self) -> Result<u64> {
        let fd = Fd::<B>::open(&self.path, OpenFlags::RDWR | OpenFlags::CREAT, 0o644)?;
        flock(&fd, LOCK_EX)?;
        let body = fd.pread(32, 0)?;
        let last: u64 = std::str::from_utf8(&body)
            .ok()
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(0);
        let next = last + 1;
        let text = format!("{next}\n");
        fd.pwrite(text.as_bytes(), 0)?;
        fd.ftruncate(text.len() as u64)?;
        fd.lseek(0, Whence::Set)?;
        fd.close()?;
        Ok(next)
    }
}

//! The file seam: the system calls [`crate::file`] needs, and nothing else.
//!
//! Chapter 8's locks live in the kernel, not in memory: flock(2) locks owned by an open
//! file description, POSIX record locks owned by a process, Linux OFD locks, and lock files
//! that are nothing but directory entries. A [`FileBackend`] is exactly the system-call
//! surface that [`crate::file`] (Python's `open`, `os` and `fcntl` functions on top of it)
//! is built from:
//!
//! | group | calls |
//! |---|---|
//! | descriptors | [`open`](FileBackend::open), [`close`](FileBackend::close), [`dup`](FileBackend::dup), [`set_inheritable`](FileBackend::set_inheritable), [`get_fl`](FileBackend::get_fl) / [`set_fl`](FileBackend::set_fl) |
//! | contents | [`read`](FileBackend::read), [`write`](FileBackend::write), [`pread`](FileBackend::pread), [`pwrite`](FileBackend::pwrite), [`lseek`](FileBackend::lseek), [`ftruncate`](FileBackend::ftruncate), [`fsync`](FileBackend::fsync), [`fstat`](FileBackend::fstat) |
//! | locks | [`flock`](FileBackend::flock), [`fcntl_lock`](FileBackend::fcntl_lock) (record and OFD locks, set, wait, query), [`msvcrt_locking`](FileBackend::msvcrt_locking) (Windows byte ranges: simulated only) |
//! | names | [`stat`](FileBackend::stat), [`lstat`](FileBackend::lstat), [`rename`](FileBackend::rename), [`unlink`](FileBackend::unlink), [`link`](FileBackend::link), [`symlink`](FileBackend::symlink), [`mkdir`](FileBackend::mkdir), [`rmdir`](FileBackend::rmdir), [`utime_now`](FileBackend::utime_now) |
//! | processes and time | [`getpid`](FileBackend::getpid), [`kill0`](FileBackend::kill0), [`time_ns`](FileBackend::time_ns) |
//!
//! Every call takes and returns plain values (descriptor numbers, paths, typed flags and
//! lock descriptions) and fails with an [`Errno`] carrying Linux's number, so a simulated
//! file system in the checked world can provide the same surface and a differential test can
//! compare results errno for errno. Nothing here is a Rust `std::fs` object, a pointer or a
//! signal: what a simulation could not provide, the trait does not ask for.
//!
//! | backend | what a call is |
//! |---|---|
//! | [`Std`](super::Std) (Linux) | the real system call (`rustix`, and `libc` for ranged and OFD locks, which `rustix` cannot express); blocking requests (`flock` without `LOCK_NB`, `F_SETLKW`, `F_OFD_SETLKW`) block in the kernel, retried on `EINTR` as CPython does (PEP 475) |
//! | a checked world (`checked/file.rs`) | one atomic step on a simulated file system (FILELOCKS.md §5): inodes, directory entries, open file descriptions, per-process descriptor tables, lock tables; a blocking request parks at the checker's wait point |

use super::Backend;
use std::fmt;
use std::ops::{BitAnd, BitOr, BitOrAssign};
use std::path::Path;

/// A descriptor number, as `os.open` returns it: meaningful only in the process (under a
/// checker: the simulated process) that opened it.
pub type RawFd = i32;

/// An error number with Linux's values (`errno.EAGAIN` is 11 on every backend, simulated
/// or not).
///
/// # Examples
///
/// ```
/// use lockproof::backend::file::Errno;
///
/// assert_eq!(Errno::EAGAIN, Errno::EWOULDBLOCK);
/// assert_eq!(Errno::EAGAIN.0, 11);
/// assert_eq!(format!("{:?}", Errno::EDEADLK), "EDEADLK");
/// assert_eq!(format!("{:?}", Errno(999)), "Errno(999)");
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Errno(pub i32);

impl Errno {
    /// Operation not permitted (1).
    pub const EPERM: Errno = Errno(1);
    /// No such file or directory (2).
    pub const ENOENT: Errno = Errno(2);
    /// No such process (3).
    pub const ESRCH: Errno = Errno(3);
    /// Interrupted system call (4).
    pub const EINTR: Errno = Errno(4);
    /// Bad file descriptor (9): also a read lock on a descriptor not open for reading.
    pub const EBADF: Errno = Errno(9);
    /// Resource temporarily unavailable (11): a non-blocking lock request that conflicts.
    pub const EAGAIN: Errno = Errno(11);
    /// The same number as [`EAGAIN`](Errno::EAGAIN) on Linux.
    pub const EWOULDBLOCK: Errno = Errno(11);
    /// Permission denied (13): C `lockf(F_TEST)` on a held range; `F_SETLK` elsewhere.
    pub const EACCES: Errno = Errno(13);
    /// File exists (17).
    pub const EEXIST: Errno = Errno(17);
    /// Not a directory (20).
    pub const ENOTDIR: Errno = Errno(20);
    /// Is a directory (21).
    pub const EISDIR: Errno = Errno(21);
    /// Invalid argument (22).
    pub const EINVAL: Errno = Errno(22);
    /// Resource deadlock avoided (35): `F_SETLKW` that would close a cycle.
    pub const EDEADLK: Errno = Errno(35);
    /// No locks available (37).
    pub const ENOLCK: Errno = Errno(37);
    /// Function not implemented (38): [`FileBackend::msvcrt_locking`] on a backend
    /// without `msvcrt` (real Linux).
    pub const ENOSYS: Errno = Errno(38);
    /// Directory not empty (39).
    pub const ENOTEMPTY: Errno = Errno(39);

    fn name(self) -> Option<&'static str> {
        Some(match self.0 {
            1 => "EPERM",
            2 => "ENOENT",
            3 => "ESRCH",
            4 => "EINTR",
            9 => "EBADF",
            11 => "EAGAIN",
            13 => "EACCES",
            17 => "EEXIST",
            20 => "ENOTDIR",
            21 => "EISDIR",
            22 => "EINVAL",
            35 => "EDEADLK",
            37 => "ENOLCK",
            38 => "ENOSYS",
            39 => "ENOTEMPTY",
            _ => return None,
        })
    }
}

impl fmt::Debug for Errno {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(n) => f.write_str(n),
            None => write!(f, "Errno({})", self.0),
        }
    }
}

/// `open(2)` flags with Linux's values (`os.O_CREAT` and the others).
///
/// # Examples
///
/// ```
/// use lockproof::backend::file::OpenFlags;
///
/// let f = OpenFlags::WRONLY | OpenFlags::CREAT | OpenFlags::EXCL;
/// assert!(f.contains(OpenFlags::EXCL));
/// assert_eq!(f.access(), OpenFlags::WRONLY);
/// assert!(f.writable() && !f.readable());
/// assert_eq!(f.bits(), 0o301);
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct OpenFlags(u32);

impl OpenFlags {
    /// `O_RDONLY` (0).
    pub const RDONLY: OpenFlags = OpenFlags(0);
    /// `O_WRONLY` (1).
    pub const WRONLY: OpenFlags = OpenFlags(1);
    /// `O_RDWR` (2).
    pub const RDWR: OpenFlags = OpenFlags(2);
    /// `O_CREAT`.
    pub const CREAT: OpenFlags = OpenFlags(0o100);
    /// `O_EXCL`.
    pub const EXCL: OpenFlags = OpenFlags(0o200);
    /// `O_TRUNC`: truncates at open, before anything else the caller does.
    pub const TRUNC: OpenFlags = OpenFlags(0o1000);
    /// `O_APPEND`: every `write` goes to the end of the file.
    pub const APPEND: OpenFlags = OpenFlags(0o2000);
    /// `O_DIRECTORY`.
    pub const DIRECTORY: OpenFlags = OpenFlags(0o200000);
    /// `O_NOFOLLOW`.
    pub const NOFOLLOW: OpenFlags = OpenFlags(0o400000);
    /// `O_CLOEXEC`: Python's default for every descriptor it opens (PEP 446).
    pub const CLOEXEC: OpenFlags = OpenFlags(0o2000000);

    const ACCMODE: u32 = 3;

    /// Flags from their numeric value (unknown bits are kept and passed on).
    pub const fn from_bits(bits: u32) -> OpenFlags {
        OpenFlags(bits)
    }

    /// The numeric value.
    pub const fn bits(self) -> u32 {
        self.0
    }

    /// Whether every bit of `other` is set (for the access modes, compare
    /// [`access`](OpenFlags::access) instead: `O_RDONLY` is 0).
    pub const fn contains(self, other: OpenFlags) -> bool {
        self.0 & other.0 == other.0
    }

    /// The access mode alone: [`RDONLY`](OpenFlags::RDONLY), [`WRONLY`](OpenFlags::WRONLY)
    /// or [`RDWR`](OpenFlags::RDWR).
    pub const fn access(self) -> OpenFlags {
        OpenFlags(self.0 & Self::ACCMODE)
    }

    /// Whether the access mode allows reading.
    pub const fn readable(self) -> bool {
        matches!(self.0 & Self::ACCMODE, 0 | 2)
    }

    /// Whether the access mode allows writing.
    pub const fn writable(self) -> bool {
        matches!(self.0 & Self::ACCMODE, 1 | 2)
    }

    /// These flags without those of `other`.
    #[must_use]
    pub const fn without(self, other: OpenFlags) -> OpenFlags {
        OpenFlags(self.0 & !other.0)
    }
}

impl BitOr for OpenFlags {
    type Output = OpenFlags;
    fn bitor(self, rhs: OpenFlags) -> OpenFlags {
        OpenFlags(self.0 | rhs.0)
    }
}

impl BitOrAssign for OpenFlags {
    fn bitor_assign(&mut self, rhs: OpenFlags) {
        self.0 |= rhs.0;
    }
}

impl BitAnd for OpenFlags {
    type Output = OpenFlags;
    fn bitand(self, rhs: OpenFlags) -> OpenFlags {
        OpenFlags(self.0 & rhs.0)
    }
}

impl fmt::Debug for OpenFlags {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts = vec![match self.0 & Self::ACCMODE {
            0 => "O_RDONLY",
            1 => "O_WRONLY",
            2 => "O_RDWR",
            _ => "O_ACCMODE",
        }
        .to_owned()];
        for (flag, name) in [
            (Self::CREAT, "O_CREAT"),
            (Self::EXCL, "O_EXCL"),
            (Self::TRUNC, "O_TRUNC"),
            (Self::APPEND, "O_APPEND"),
            (Self::DIRECTORY, "O_DIRECTORY"),
            (Self::NOFOLLOW, "O_NOFOLLOW"),
            (Self::CLOEXEC, "O_CLOEXEC"),
        ] {
            if self.contains(flag) {
                parts.push(name.to_owned());
            }
        }
        let known = 0o2000000 | 0o400000 | 0o200000 | 0o2000 | 0o1000 | 0o200 | 0o100 | 3;
        if self.0 & !known != 0 {
            parts.push(format!("{:#o}", self.0 & !known));
        }
        f.write_str(&parts.join("|"))
    }
}

/// A `flock(2)` request, without `LOCK_NB` (passed apart).
///
/// # Examples
///
/// ```
/// use lockproof::backend::file::FlockOp;
///
/// assert_ne!(FlockOp::Shared, FlockOp::Exclusive);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FlockOp {
    /// `LOCK_SH`.
    Shared,
    /// `LOCK_EX`.
    Exclusive,
    /// `LOCK_UN`.
    Unlock,
}

/// `lseek`'s and `struct flock`'s `whence`.
///
/// # Examples
///
/// ```
/// use lockproof::backend::file::Whence;
///
/// assert_eq!(Whence::from_raw(2), Some(Whence::End));
/// assert_eq!(Whence::from_raw(7), None);
/// assert_eq!(Whence::Cur as i16, 1);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Whence {
    /// `SEEK_SET` (0): from the start of the file.
    Set = 0,
    /// `SEEK_CUR` (1): from the descriptor's offset.
    Cur = 1,
    /// `SEEK_END` (2): from the file's current size.
    End = 2,
}

impl Whence {
    /// The whence with this number, if any.
    pub fn from_raw(raw: i64) -> Option<Whence> {
        match raw {
            0 => Some(Whence::Set),
            1 => Some(Whence::Cur),
            2 => Some(Whence::End),
            _ => None,
        }
    }
}

/// The type of a record or OFD lock (`l_type`).
///
/// # Examples
///
/// ```
/// use lockproof::backend::file::LockType;
///
/// assert_eq!(LockType::from_raw(1), Some(LockType::Write));
/// assert_eq!(LockType::Unlock as i16, 2);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LockType {
    /// `F_RDLCK` (0): shared; needs a descriptor open for reading.
    Read = 0,
    /// `F_WRLCK` (1): exclusive; needs a descriptor open for writing.
    Write = 1,
    /// `F_UNLCK` (2): release; in an `F_GETLK` answer, "no conflict".
    Unlock = 2,
}

impl LockType {
    /// The type with this number, if any.
    pub fn from_raw(raw: i64) -> Option<LockType> {
        match raw {
            0 => Some(LockType::Read),
            1 => Some(LockType::Write),
            2 => Some(LockType::Unlock),
            _ => None,
        }
    }
}

/// An `fcntl(2)` lock command.
///
/// # Examples
///
/// ```
/// use lockproof::backend::file::LockCmd;
///
/// assert_eq!(LockCmd::from_raw(37), Some(LockCmd::OfdSetLk));
/// assert!(LockCmd::SetLkW.blocks() && !LockCmd::GetLk.blocks());
/// assert!(LockCmd::OfdGetLk.is_ofd());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LockCmd {
    /// `F_GETLK` (5): who would conflict with this process's request.
    GetLk,
    /// `F_SETLK` (6): set or clear a record lock; `EAGAIN` on conflict.
    SetLk,
    /// `F_SETLKW` (7): set a record lock, waiting; `EDEADLK` if the wait closes a cycle.
    SetLkW,
    /// `F_OFD_GETLK` (36).
    OfdGetLk,
    /// `F_OFD_SETLK` (37).
    OfdSetLk,
    /// `F_OFD_SETLKW` (38): waits; no deadlock detection.
    OfdSetLkW,
}

impl LockCmd {
    /// The command with this number (Linux x86-64), if it is a lock command.
    pub fn from_raw(raw: i32) -> Option<LockCmd> {
        Some(match raw {
            5 => LockCmd::GetLk,
            6 => LockCmd::SetLk,
            7 => LockCmd::SetLkW,
            36 => LockCmd::OfdGetLk,
            37 => LockCmd::OfdSetLk,
            38 => LockCmd::OfdSetLkW,
            _ => return None,
        })
    }

    /// The number.
    pub fn raw(self) -> i32 {
        match self {
            LockCmd::GetLk => 5,
            LockCmd::SetLk => 6,
            LockCmd::SetLkW => 7,
            LockCmd::OfdGetLk => 36,
            LockCmd::OfdSetLk => 37,
            LockCmd::OfdSetLkW => 38,
        }
    }

    /// Whether the command may wait.
    pub fn blocks(self) -> bool {
        matches!(self, LockCmd::SetLkW | LockCmd::OfdSetLkW)
    }

    /// Whether it is an open-file-description lock command.
    pub fn is_ofd(self) -> bool {
        matches!(
            self,
            LockCmd::OfdGetLk | LockCmd::OfdSetLk | LockCmd::OfdSetLkW
        )
    }

    /// Whether it is a query.
    pub fn is_query(self) -> bool {
        matches!(self, LockCmd::GetLk | LockCmd::OfdGetLk)
    }
}

/// `struct flock`: the lock to set or query, and (after `F_GETLK`) the conflicting one.
///
/// Ranges: the start is `start` resolved against `whence`; `len > 0` covers
/// `start..start+len`, `len == 0` runs to infinity, `len < 0` covers `start+len..start`.
///
/// # Examples
///
/// ```
/// use lockproof::backend::file::{LockType, RecordLock, Whence};
///
/// let l = RecordLock::new(LockType::Write, 10, 5);
/// assert_eq!((l.whence, l.start, l.len, l.pid), (Whence::Set, 10, 5, 0));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct RecordLock {
    /// `l_type`.
    pub kind: LockType,
    /// `l_whence`.
    pub whence: Whence,
    /// `l_start`.
    pub start: i64,
    /// `l_len`.
    pub len: i64,
    /// `l_pid`: 0 in a request (OFD requests must pass 0); in an `F_GETLK` answer the
    /// holder's pid, −1 for an OFD lock.
    pub pid: i32,
}

impl RecordLock {
    /// A request of `kind` for `len` bytes from absolute offset `start`, `l_pid` 0.
    pub fn new(kind: LockType, start: i64, len: i64) -> RecordLock {
        RecordLock {
            kind,
            whence: Whence::Set,
            start,
            len,
            pid: 0,
        }
    }
}

/// What kind of object a name or descriptor refers to.
///
/// # Examples
///
/// ```
/// use lockproof::backend::file::FileKind;
///
/// assert_ne!(FileKind::File, FileKind::Dir);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FileKind {
    /// A regular file.
    File,
    /// A directory.
    Dir,
    /// A symbolic link (only `lstat` reports one).
    Symlink,
    /// Anything else (pipe, device, socket).
    Other,
}

/// What `stat`/`fstat` report that chapter 8 uses.
///
/// # Examples
///
/// ```
/// use lockproof::backend::file::{FileKind, FileStat};
///
/// let s = FileStat { dev: 1, ino: 7, kind: FileKind::File, size: 0, nlink: 1, mtime_ns: 0 };
/// assert!(s.same_file(&FileStat { size: 9, ..s }));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct FileStat {
    /// `st_dev`.
    pub dev: u64,
    /// `st_ino`: with `dev`, the identity of the inode (§2.4 race 3's re-check).
    pub ino: u64,
    /// The kind of object.
    pub kind: FileKind,
    /// `st_size` in bytes.
    pub size: u64,
    /// `st_nlink`: the `link` trick checks for 2.
    pub nlink: u64,
    /// `st_mtime_ns`: the last write, truncate or `utime`, on the wall clock (virtual time
    /// under a checker).
    pub mtime_ns: i64,
}

impl FileStat {
    /// Whether both describe the same inode (`st_dev` and `st_ino` equal).
    pub fn same_file(&self, other: &FileStat) -> bool {
        self.dev == other.dev && self.ino == other.ino
    }
}

/// A world with files: the system calls of [`crate::file`].
///
/// Implementations: [`Std`](super::Std) on Linux (real system calls). A checked world
/// implements it with a simulated file system (FILELOCKS.md §5); every call is then one
/// atomic step.
///
/// Every call acts as Linux's does, errno for errno (FILELOCKS.md §1–§3 is the contract;
/// its conformance checks §7 are the tests). Descriptors are process-wide numbers; the
/// "process" is the calling process (under a checker, the simulated process of the calling
/// thread): record locks belong to it, and it loses all of them on a file when it closes
/// any descriptor of that file.
///
/// # Safety
///
/// [`crate::file`] relies on these for memory safety and for its own invariants:
/// [`read`](FileBackend::read) and [`pread`](FileBackend::pread) return at most
/// `buf.len()` and have written that many bytes of `buf`; [`write`](FileBackend::write)
/// and [`pwrite`](FileBackend::pwrite) return at most `buf.len()`; a descriptor returned
/// by [`open`](FileBackend::open) or [`dup`](FileBackend::dup) is open, and stays open
/// until [`close`](FileBackend::close) is called on it (the library's owned descriptor
/// closes it exactly once); a failed call changes nothing a later call could observe
/// except what Linux's call changes on failure (a failed non-blocking flock conversion
/// has released the old lock, §1.2 step 5).
///
/// # Examples
///
/// ```
/// use lockproof::backend::file::{FileBackend, FlockOp, OpenFlags};
/// use lockproof::backend::Std;
///
/// let dir = std::env::temp_dir().join(format!("lockproof-doc-seam-{}", std::process::id()));
/// std::fs::create_dir_all(&dir).unwrap();
/// let path = dir.join("f");
/// let fd = Std::open(&path, OpenFlags::RDWR | OpenFlags::CREAT | OpenFlags::CLOEXEC, 0o644).unwrap();
/// assert_eq!(Std::write(fd, b"hello"), Ok(5));
/// Std::flock(fd, FlockOp::Exclusive, true).unwrap();
/// assert_eq!(Std::fstat(fd).unwrap().size, 5);
/// Std::close(fd).unwrap();
/// Std::unlink(&path).unwrap();
/// # std::fs::remove_dir(&dir).unwrap();
/// ```
pub unsafe trait FileBackend: Backend {
    // ---- descriptors ----------------------------------------------------------------
    /// `open(path, flags, mode)`: a new open file description (offset 0, the access mode
    /// and `O_APPEND` of `flags`) and the lowest free descriptor for it. `O_TRUNC`
    /// truncates here; `O_CREAT|O_EXCL` fails with `EEXIST` if the name exists, even as a
    /// dangling symlink.
    fn open(path: &Path, flags: OpenFlags, mode: u32) -> Result<RawFd, Errno>;

    /// `close(fd)`: drops the descriptor; drops every record lock of this process on the
    /// file; on the last close of the description, its flock and OFD locks.
    fn close(fd: RawFd) -> Result<(), Errno>;

    /// `dup(fd)` with `O_CLOEXEC` (as Python's `os.dup`): a new descriptor for the same
    /// open file description (offset, flags, flock and OFD locks shared).
    fn dup(fd: RawFd) -> Result<RawFd, Errno>;

    /// Clear (`true`) or set (`false`) the descriptor's close-on-exec bit
    /// (`os.set_inheritable`).
    fn set_inheritable(fd: RawFd, inheritable: bool) -> Result<(), Errno>;

    /// `fcntl(fd, F_GETFL)`: the access mode and status flags of the description.
    fn get_fl(fd: RawFd) -> Result<OpenFlags, Errno>;

    /// `fcntl(fd, F_SETFL, flags)`: sets `O_APPEND` (and other status flags) on the
    /// description; access-mode bits are ignored.
    fn set_fl(fd: RawFd, flags: OpenFlags) -> Result<(), Errno>;

    // ---- contents -------------------------------------------------------------------
    /// `read(fd, buf)` at the description's offset, advancing it.
    fn read(fd: RawFd, buf: &mut [u8]) -> Result<usize, Errno>;

    /// `write(fd, buf)`: at the end of the file with `O_APPEND` (one atomic step), else at
    /// the offset; advances the offset; sets mtime.
    fn write(fd: RawFd, buf: &[u8]) -> Result<usize, Errno>;

    /// `pread(fd, buf, offset)`: the offset is left alone.
    fn pread(fd: RawFd, buf: &mut [u8], offset: u64) -> Result<usize, Errno>;

    /// `pwrite(fd, buf, offset)`: on Linux, appends on an `O_APPEND` descriptor whatever
    /// `offset` says.
    fn pwrite(fd: RawFd, buf: &[u8], offset: u64) -> Result<usize, Errno>;

    /// `lseek(fd, offset, whence)`: the new offset.
    fn lseek(fd: RawFd, offset: i64, whence: Whence) -> Result<u64, Errno>;

    /// `ftruncate(fd, len)`: sets the size (zero-filling when it grows); sets mtime.
    fn ftruncate(fd: RawFd, len: u64) -> Result<(), Errno>;

    /// `fsync(fd)`.
    fn fsync(fd: RawFd) -> Result<(), Errno>;

    /// `fstat(fd)`.
    fn fstat(fd: RawFd) -> Result<FileStat, Errno>;

    // ---- locks ----------------------------------------------------------------------
    /// `flock(fd, op | (nonblocking ? LOCK_NB : 0))`, owned by the open file description:
    /// re-locking with the held type is a no-op; a conversion drops the old lock first and
    /// does not restore it if the new request fails; a blocking request waits (under
    /// [`Std`](super::Std), in the kernel, retried on `EINTR`).
    fn flock(fd: RawFd, op: FlockOp, nonblocking: bool) -> Result<(), Errno>;

    /// `fcntl(fd, cmd, lock)` for the record-lock and OFD-lock commands. A query writes
    /// its answer into `lock` (type `Unlock` and the rest unchanged if the request could
    /// be placed; else the conflicting lock with its holder's pid, −1 for an OFD lock). A
    /// waiting command blocks (under [`Std`](super::Std), in the kernel, retried on
    /// `EINTR`).
    fn fcntl_lock(fd: RawFd, cmd: LockCmd, lock: &mut RecordLock) -> Result<(), Errno>;

    /// `msvcrt.locking(fd, mode, nbytes)`: the Windows C runtime's `_locking` (FILELOCKS.md
    /// §1.10), the one call of this trait with **Windows** semantics and **Windows CRT
    /// errnos**: the region is `nbytes` bytes from the descriptor's offset, owned by the
    /// handle (the open file description), exclusive in every mode, never overlapping
    /// another region, and *mandatory*: while a handle holds a region, `read`/`write`/
    /// `pread`/`pwrite` through any other handle that touch it fail with `EACCES` (13).
    /// `LK_LOCK`/`LK_RLCK` try 10 times with a 1 s sleep between tries, then fail with
    /// `EDEADLOCK` (36 in the CRT, not Linux's `ENAMETOOLONG`); the other modes try once
    /// (`EACCES`); `nbytes < 0` or an unknown mode is `EINVAL` (22); a bad descriptor `EBADF`.
    ///
    /// A backend without `msvcrt` (real Linux: [`Std`](super::Std)) fails with
    /// [`Errno::ENOSYS`] and changes nothing; [`crate::file::msvcrt::locking`] turns that
    /// into `ModuleNotFoundError("No module named 'msvcrt'")`, as `import msvcrt` raises on
    /// Linux.
    fn msvcrt_locking(fd: RawFd, mode: i32, nbytes: i64) -> Result<(), Errno>;

    // ---- names ----------------------------------------------------------------------
    /// `stat(path)`, following symlinks.
    fn stat(path: &Path) -> Result<FileStat, Errno>;

    /// `lstat(path)`: a symlink itself.
    fn lstat(path: &Path) -> Result<FileStat, Errno>;

    /// `rename(from, to)`: atomically replaces `to`.
    fn rename(from: &Path, to: &Path) -> Result<(), Errno>;

    /// `unlink(path)`: removes the name; open descriptors keep the inode (and its locks).
    fn unlink(path: &Path) -> Result<(), Errno>;

    /// `link(existing, new)`: `EEXIST` if `new` exists.
    fn link(existing: &Path, new: &Path) -> Result<(), Errno>;

    /// `symlink(target, path)`.
    fn symlink(target: &Path, path: &Path) -> Result<(), Errno>;

    /// `mkdir(path, mode)`.
    fn mkdir(path: &Path, mode: u32) -> Result<(), Errno>;

    /// `listdir(path)`: the names in a directory (not `.` and `..`), sorted: the kernel's
    /// order is unspecified, and a sorted list keeps a simulation and a real run alike.
    fn listdir(path: &Path) -> Result<Vec<String>, Errno>;

    /// `rmdir(path)`.
    fn rmdir(path: &Path) -> Result<(), Errno>;

    /// `os.utime(path)`: set the access and modification times to now.
    fn utime_now(path: &Path) -> Result<(), Errno>;

    // ---- processes and time -----------------------------------------------------------
    /// `getpid()`: the owner of this process's record locks.
    fn getpid() -> u32;

    /// `kill(pid, 0)`: `Ok` for a live process or a zombie; `ESRCH` for no such process;
    /// `EPERM` for a live process of another user.
    fn kill0(pid: u32) -> Result<(), Errno>;

    /// `time.time_ns()`: the wall clock mtimes are stamped from (virtual under a checker).
    fn time_ns() -> i64;
}

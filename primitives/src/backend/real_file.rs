//! Real files on Linux: [`FileBackend`] for [`Std`] as system calls.
//!
//! Through `rustix` (safe wrappers, errors as raw errno) for every call it has; through
//! `libc` for the record-lock and OFD-lock commands only, because `rustix`'s `fcntl_lock`
//! takes a whole-file lock and cannot express a range, a query (`F_GETLK`) or an OFD lock
//! (FILELOCKS.md §6). Blocking calls are retried on `EINTR`, as CPython does (PEP 475): a
//! signal handler that returns leaves the caller waiting.

use super::file::{
    Errno, FileBackend, FileKind, FileStat, FlockOp, LockCmd, LockType, OpenFlags, RawFd,
    RecordLock, Whence,
};
use super::Std;
use rustix::fd::{BorrowedFd, IntoRawFd};
use rustix::fs::{self, FlockOperation, Mode, OFlags, SeekFrom};
use std::path::Path;

fn errno(e: rustix::io::Errno) -> Errno {
    Errno(e.raw_os_error())
}

fn last_errno() -> Errno {
    Errno(std::io::Error::last_os_error().raw_os_error().unwrap_or(0))
}

/// A borrowed descriptor for one call. A number that is not open makes the call fail with
/// `EBADF`, as the raw system call does; `-1` (which `BorrowedFd` cannot hold) is mapped
/// to that answer without a call.
fn with_fd<T>(
    fd: RawFd,
    f: impl FnOnce(BorrowedFd<'_>) -> rustix::io::Result<T>,
) -> Result<T, Errno> {
    if fd < 0 {
        return Err(Errno::EBADF);
    }
    // SAFETY: the descriptor is only used for the duration of this one call, and the
    // caller (the library's owned descriptor) keeps it open until it calls `close`.
    let borrowed = unsafe { BorrowedFd::borrow_raw(fd) };
    f(borrowed).map_err(errno)
}

fn retry_eintr<T>(mut f: impl FnMut() -> Result<T, Errno>) -> Result<T, Errno> {
    loop {
        match f() {
            Err(Errno::EINTR) => continue,
            r => return r,
        }
    }
}

fn to_stat(st: fs::Stat) -> FileStat {
    let kind = match fs::FileType::from_raw_mode(st.st_mode) {
        fs::FileType::RegularFile => FileKind::File,
        fs::FileType::Directory => FileKind::Dir,
        fs::FileType::Symlink => FileKind::Symlink,
        _ => FileKind::Other,
    };
    FileStat {
        dev: st.st_dev,
        ino: st.st_ino,
        kind,
        size: st.st_size as u64,
        nlink: st.st_nlink,
        mtime_ns: st.st_mtime * 1_000_000_000 + st.st_mtime_nsec as i64,
    }
}

fn whence(w: Whence, offset: i64) -> Result<SeekFrom, Errno> {
    Ok(match w {
        Whence::Set => SeekFrom::Start(u64::try_from(offset).map_err(|_| Errno::EINVAL)?),
        Whence::Cur => SeekFrom::Current(offset),
        Whence::End => SeekFrom::End(offset),
    })
}

// SAFETY: every call is the Linux system call itself, so the kernel keeps the contract:
// reads and writes never report more than the buffer, descriptors come from `open`/`dup`.
unsafe impl FileBackend for Std {
    fn open(path: &Path, flags: OpenFlags, mode: u32) -> Result<RawFd, Errno> {
        let flags = OFlags::from_bits_retain(flags.bits());
        retry_eintr(|| {
            fs::open(path, flags, Mode::from_raw_mode(mode))
                .map(IntoRawFd::into_raw_fd)
                .map_err(errno)
        })
    }

    fn close(fd: RawFd) -> Result<(), Errno> {
        // Not `rustix::io::close`, which discards the result: `os.close` reports EBADF.
        // SAFETY: closing a number the caller owns; an unopened number fails with EBADF.
        if unsafe { libc::close(fd) } == 0 {
            Ok(())
        } else {
            Err(last_errno())
        }
    }

    fn dup(fd: RawFd) -> Result<RawFd, Errno> {
        with_fd(fd, |fd| {
            rustix::io::fcntl_dupfd_cloexec(fd, 0).map(IntoRawFd::into_raw_fd)
        })
    }

    fn set_inheritable(fd: RawFd, inheritable: bool) -> Result<(), Errno> {
        let flags = if inheritable {
            rustix::io::FdFlags::empty()
        } else {
            rustix::io::FdFlags::CLOEXEC
        };
        with_fd(fd, |fd| rustix::io::fcntl_setfd(fd, flags))
    }

    fn get_fl(fd: RawFd) -> Result<OpenFlags, Errno> {
        with_fd(fd, |fd| fs::fcntl_getfl(fd)).map(|f| OpenFlags::from_bits(f.bits()))
    }

    fn set_fl(fd: RawFd, flags: OpenFlags) -> Result<(), Errno> {
        with_fd(fd, |fd| {
            fs::fcntl_setfl(fd, OFlags::from_bits_retain(flags.bits()))
        })
    }

    fn read(fd: RawFd, buf: &mut [u8]) -> Result<usize, Errno> {
        retry_eintr(|| with_fd(fd, |fd| rustix::io::read(fd, &mut *buf)))
    }

    fn write(fd: RawFd, buf: &[u8]) -> Result<usize, Errno> {
        retry_eintr(|| with_fd(fd, |fd| rustix::io::write(fd, buf)))
    }

    fn pread(fd: RawFd, buf: &mut [u8], offset: u64) -> Result<usize, Errno> {
        retry_eintr(|| with_fd(fd, |fd| rustix::io::pread(fd, &mut *buf, offset)))
    }

    fn pwrite(fd: RawFd, buf: &[u8], offset: u64) -> Result<usize, Errno> {
        retry_eintr(|| with_fd(fd, |fd| rustix::io::pwrite(fd, buf, offset)))
    }

    fn lseek(fd: RawFd, offset: i64, w: Whence) -> Result<u64, Errno> {
        let pos = whence(w, offset)?;
        with_fd(fd, |fd| fs::seek(fd, pos))
    }

    fn ftruncate(fd: RawFd, len: u64) -> Result<(), Errno> {
        retry_eintr(|| with_fd(fd, |fd| fs::ftruncate(fd, len)))
    }

    fn fsync(fd: RawFd) -> Result<(), Errno> {
        retry_eintr(|| with_fd(fd, |fd| fs::fsync(fd)))
    }

    fn fstat(fd: RawFd) -> Result<FileStat, Errno> {
        with_fd(fd, |fd| fs::fstat(fd)).map(to_stat)
    }

    fn flock(fd: RawFd, op: FlockOp, nonblocking: bool) -> Result<(), Errno> {
        let op = match (op, nonblocking) {
            (FlockOp::Shared, false) => FlockOperation::LockShared,
            (FlockOp::Shared, true) => FlockOperation::NonBlockingLockShared,
            (FlockOp::Exclusive, false) => FlockOperation::LockExclusive,
            (FlockOp::Exclusive, true) => FlockOperation::NonBlockingLockExclusive,
            (FlockOp::Unlock, false) => FlockOperation::Unlock,
            (FlockOp::Unlock, true) => FlockOperation::NonBlockingUnlock,
        };
        retry_eintr(|| with_fd(fd, |fd| fs::flock(fd, op)))
    }

    fn fcntl_lock(fd: RawFd, cmd: LockCmd, lock: &mut RecordLock) -> Result<(), Errno> {
        // SAFETY: an all-zero `struct flock` is a valid value (its padding included).
        let mut raw: libc::flock = unsafe { std::mem::zeroed() };
        raw.l_type = lock.kind as i16;
        raw.l_whence = lock.whence as i16;
        raw.l_start = lock.start;
        raw.l_len = lock.len;
        raw.l_pid = lock.pid;
        let c = match cmd {
            LockCmd::GetLk => libc::F_GETLK,
            LockCmd::SetLk => libc::F_SETLK,
            LockCmd::SetLkW => libc::F_SETLKW,
            LockCmd::OfdGetLk => libc::F_OFD_GETLK,
            LockCmd::OfdSetLk => libc::F_OFD_SETLK,
            LockCmd::OfdSetLkW => libc::F_OFD_SETLKW,
        };
        retry_eintr(|| {
            // SAFETY: `raw` is a valid `struct flock` the kernel may read and overwrite.
            if unsafe { libc::fcntl(fd, c, &mut raw as *mut libc::flock) } == -1 {
                Err(last_errno())
            } else {
                Ok(())
            }
        })?;
        if cmd.is_query() {
            lock.kind = LockType::from_raw(raw.l_type.into()).ok_or(Errno::EINVAL)?;
            lock.whence = Whence::from_raw(raw.l_whence.into()).ok_or(Errno::EINVAL)?;
            lock.start = raw.l_start;
            lock.len = raw.l_len;
            lock.pid = raw.l_pid;
        }
        Ok(())
    }

    fn stat(path: &Path) -> Result<FileStat, Errno> {
        fs::stat(path).map(to_stat).map_err(errno)
    }

    fn lstat(path: &Path) -> Result<FileStat, Errno> {
        fs::lstat(path).map(to_stat).map_err(errno)
    }

    fn rename(from: &Path, to: &Path) -> Result<(), Errno> {
        fs::rename(from, to).map_err(errno)
    }

    fn unlink(path: &Path) -> Result<(), Errno> {
        fs::unlink(path).map_err(errno)
    }

    fn link(existing: &Path, new: &Path) -> Result<(), Errno> {
        fs::link(existing, new).map_err(errno)
    }

    fn symlink(target: &Path, path: &Path) -> Result<(), Errno> {
        fs::symlink(target, path).map_err(errno)
    }

    fn mkdir(path: &Path, mode: u32) -> Result<(), Errno> {
        fs::mkdir(path, Mode::from_raw_mode(mode)).map_err(errno)
    }

    fn listdir(path: &Path) -> Result<Vec<String>, Errno> {
        let io = |e: std::io::Error| Errno(e.raw_os_error().unwrap_or(libc::EIO));
        let mut names = Vec::new();
        for entry in std::fs::read_dir(path).map_err(io)? {
            names.push(
                entry
                    .map_err(io)?
                    .file_name()
                    .to_string_lossy()
                    .into_owned(),
            );
        }
        names.sort();
        Ok(names)
    }

    fn rmdir(path: &Path) -> Result<(), Errno> {
        fs::rmdir(path).map_err(errno)
    }

    fn utime_now(path: &Path) -> Result<(), Errno> {
        let now = fs::Timestamps {
            last_access: fs::Timespec {
                tv_sec: 0,
                tv_nsec: fs::UTIME_NOW,
            },
            last_modification: fs::Timespec {
                tv_sec: 0,
                tv_nsec: fs::UTIME_NOW,
            },
        };
        fs::utimensat(fs::CWD, path, &now, fs::AtFlags::empty()).map_err(errno)
    }

    fn getpid() -> u32 {
        rustix::process::getpid().as_raw_nonzero().get() as u32
    }

    /// Linux has no `msvcrt` (CPython: `import msvcrt` raises `ModuleNotFoundError`): always
    /// `ENOSYS`, without touching the descriptor. Never a panic, so code generic over the
    /// backend can report it as the typed error [`crate::file::msvcrt::locking`] gives.
    fn msvcrt_locking(_fd: RawFd, _mode: i32, _nbytes: i64) -> Result<(), Errno> {
        Err(Errno::ENOSYS)
    }

    fn kill0(pid: u32) -> Result<(), Errno> {
        let pid = i32::try_from(pid)
            .ok()
            .and_then(rustix::process::Pid::from_raw)
            .ok_or(Errno::ESRCH)?;
        rustix::process::test_kill_process(pid).map_err(errno)
    }

    fn time_ns() -> i64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as i64)
            .unwrap_or(0)
    }
}

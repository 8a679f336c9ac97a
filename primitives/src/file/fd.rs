//! `os.open` descriptors, owned: Python's `os` functions on one descriptor.

use super::{os_err, path_err, FileNo};
use crate::backend::file::{FileBackend, FileStat, OpenFlags, RawFd, Whence};
use crate::backend::Std;
use crate::Result;
use std::fmt;
use std::marker::PhantomData;
use std::path::Path;

/// An open descriptor, as `os.open` returns it, closed when dropped (Python leaves an
/// `os.open` descriptor open until `os.close`; here a forgotten one is closed at the end of
/// its scope, and [`Fd::close`] reports the error a drop cannot).
///
/// Closing **any** descriptor of a file drops every record lock ([`fcntl::lockf`]) this
/// process holds on it, whichever descriptor took them (FILELOCKS.md §1.4): a drop is a
/// close.
///
/// [`fcntl::lockf`]: super::fcntl::lockf
///
/// # Examples
///
/// ```
/// use lockproof::backend::Std;
/// use lockproof::file::{Fd, OpenFlags};
/// use lockproof::PyException;
///
/// let dir = tempfile::tempdir().unwrap();
/// let path = dir.path().join("x.lock");
/// let flags = OpenFlags::CREAT | OpenFlags::EXCL | OpenFlags::WRONLY;
/// let fd = Fd::<Std>::open(&path, flags, 0o644)?;           // os.open(p, O_CREAT|O_EXCL|O_WRONLY)
/// assert_eq!(fd.write(b"1234\n")?, 5);
/// let again = Fd::<Std>::open(&path, flags, 0o644).unwrap_err();
/// assert_eq!(again.exception(), PyException::FileExistsError);
/// fd.close()?;
/// # Ok::<(), lockproof::Error>(())
/// ```
pub struct Fd<B: FileBackend = Std> {
    fd: RawFd,
    _backend: PhantomData<fn() -> B>,
}

impl<B: FileBackend> fmt::Debug for Fd<B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Fd({})", self.fd)
    }
}

impl<B: FileBackend> Fd<B> {
    /// `os.open(path, flags, mode)`: always with `O_CLOEXEC` (Python's descriptors are
    /// non-inheritable, PEP 446; see [`Fd::set_inheritable`]).
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::backend::Std;
    /// use lockproof::file::{Fd, OpenFlags};
    ///
    /// let dir = tempfile::tempdir().unwrap();
    /// let fd = Fd::<Std>::open(dir.path().join("f"), OpenFlags::RDWR | OpenFlags::CREAT, 0o600)?;
    /// assert!(fd.get_fl()?.readable());
    /// # Ok::<(), lockproof::Error>(())
    /// ```
    pub fn open(path: impl AsRef<Path>, flags: OpenFlags, mode: u32) -> Result<Fd<B>> {
        let path = path.as_ref();
        B::open(path, flags | OpenFlags::CLOEXEC, mode)
            .map(Fd::from_raw)
            .map_err(|e| path_err(e, path))
    }

    pub(crate) fn from_raw(fd: RawFd) -> Fd<B> {
        Fd {
            fd,
            _backend: PhantomData,
        }
    }

    /// The descriptor number (`fd` itself in Python).
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::backend::Std;
    /// use lockproof::file::{Fd, OpenFlags};
    ///
    /// let dir = tempfile::tempdir().unwrap();
    /// let fd = Fd::<Std>::open(dir.path().join("f"), OpenFlags::WRONLY | OpenFlags::CREAT, 0o600)?;
    /// assert!(fd.raw() > 2);
    /// # Ok::<(), lockproof::Error>(())
    /// ```
    pub fn raw(&self) -> RawFd {
        self.fd
    }

    /// `os.close(fd)`: releases the process's record locks on the file (all of them,
    /// whichever descriptor took them) and, on the last close of the open file
    /// description, its flock and OFD locks.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::backend::Std;
    /// use lockproof::file::{Fd, OpenFlags};
    ///
    /// let dir = tempfile::tempdir().unwrap();
    /// let fd = Fd::<Std>::open(dir.path().join("f"), OpenFlags::WRONLY | OpenFlags::CREAT, 0o600)?;
    /// fd.close()?;
    /// # Ok::<(), lockproof::Error>(())
    /// ```
    pub fn close(self) -> Result<()> {
        let fd = self.fd;
        std::mem::forget(self);
        B::close(fd).map_err(os_err)
    }

    /// `os.dup(fd)`: a new descriptor of the same open file description (sharing its
    /// offset, flags, flock lock and OFD locks), non-inheritable.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::backend::Std;
    /// use lockproof::file::{Fd, OpenFlags, Whence};
    ///
    /// let dir = tempfile::tempdir().unwrap();
    /// let a = Fd::<Std>::open(dir.path().join("f"), OpenFlags::RDWR | OpenFlags::CREAT, 0o600)?;
    /// let b = a.dup()?;
    /// a.write(b"abc")?;
    /// assert_eq!(b.lseek(0, Whence::Cur)?, 3); // one shared offset
    /// # Ok::<(), lockproof::Error>(())
    /// ```
    pub fn dup(&self) -> Result<Fd<B>> {
        B::dup(self.fd).map(Fd::from_raw).map_err(os_err)
    }

    /// `os.set_inheritable(fd, inheritable)`: whether the descriptor survives `execve`.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::backend::Std;
    /// use lockproof::file::{Fd, OpenFlags};
    ///
    /// let dir = tempfile::tempdir().unwrap();
    /// let fd = Fd::<Std>::open(dir.path().join("f"), OpenFlags::WRONLY | OpenFlags::CREAT, 0o600)?;
    /// fd.set_inheritable(true)?;
    /// # Ok::<(), lockproof::Error>(())
    /// ```
    pub fn set_inheritable(&self, inheritable: bool) -> Result<()> {
        B::set_inheritable(self.fd, inheritable).map_err(os_err)
    }

    /// `fcntl.fcntl(fd, F_GETFL)`.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::backend::Std;
    /// use lockproof::file::{Fd, OpenFlags};
    ///
    /// let dir = tempfile::tempdir().unwrap();
    /// let fd = Fd::<Std>::open(dir.path().join("f"), OpenFlags::WRONLY | OpenFlags::CREAT | OpenFlags::APPEND, 0o600)?;
    /// assert!(fd.get_fl()?.contains(OpenFlags::APPEND));
    /// # Ok::<(), lockproof::Error>(())
    /// ```
    pub fn get_fl(&self) -> Result<OpenFlags> {
        B::get_fl(self.fd).map_err(os_err)
    }

    /// `fcntl.fcntl(fd, F_SETFL, flags)`: sets `O_APPEND` on the open file description
    /// (seen through every `dup`); access-mode bits are ignored.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::backend::Std;
    /// use lockproof::file::{Fd, OpenFlags};
    ///
    /// let dir = tempfile::tempdir().unwrap();
    /// let fd = Fd::<Std>::open(dir.path().join("f"), OpenFlags::RDWR | OpenFlags::CREAT, 0o600)?;
    /// fd.set_fl(fd.get_fl()? | OpenFlags::APPEND)?;
    /// assert!(fd.dup()?.get_fl()?.contains(OpenFlags::APPEND));
    /// # Ok::<(), lockproof::Error>(())
    /// ```
    pub fn set_fl(&self, flags: OpenFlags) -> Result<()> {
        B::set_fl(self.fd, flags).map_err(os_err)
    }

    /// `os.read(fd, n)`: at most `n` bytes from the offset; empty at the end of the file.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::backend::Std;
    /// use lockproof::file::{Fd, OpenFlags};
    ///
    /// let dir = tempfile::tempdir().unwrap();
    /// let fd = Fd::<Std>::open(dir.path().join("f"), OpenFlags::RDWR | OpenFlags::CREAT, 0o600)?;
    /// fd.pwrite(b"hello", 0)?;
    /// assert_eq!(fd.read(3)?, b"hel");
    /// # Ok::<(), lockproof::Error>(())
    /// ```
    pub fn read(&self, n: usize) -> Result<Vec<u8>> {
        let mut buf = vec![0; n];
        let got = B::read(self.fd, &mut buf).map_err(os_err)?;
        buf.truncate(got);
        Ok(buf)
    }

    /// `os.write(fd, data)`: one `write` system call; the number of bytes written. With
    /// `O_APPEND` it lands at the end of the file in one step.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::backend::Std;
    /// use lockproof::file::{Fd, OpenFlags};
    ///
    /// let dir = tempfile::tempdir().unwrap();
    /// let fd = Fd::<Std>::open(dir.path().join("f"), OpenFlags::WRONLY | OpenFlags::CREAT, 0o600)?;
    /// assert_eq!(fd.write(b"line\n")?, 5);
    /// # Ok::<(), lockproof::Error>(())
    /// ```
    pub fn write(&self, data: &[u8]) -> Result<usize> {
        B::write(self.fd, data).map_err(os_err)
    }

    /// `os.pread(fd, n, offset)`.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::backend::Std;
    /// use lockproof::file::{Fd, OpenFlags};
    ///
    /// let dir = tempfile::tempdir().unwrap();
    /// let fd = Fd::<Std>::open(dir.path().join("f"), OpenFlags::RDWR | OpenFlags::CREAT, 0o600)?;
    /// fd.write(b"hello")?;
    /// assert_eq!(fd.pread(2, 3)?, b"lo");
    /// # Ok::<(), lockproof::Error>(())
    /// ```
    pub fn pread(&self, n: usize, offset: u64) -> Result<Vec<u8>> {
        let mut buf = vec![0; n];
        let got = B::pread(self.fd, &mut buf, offset).map_err(os_err)?;
        buf.truncate(got);
        Ok(buf)
    }

    /// `os.pwrite(fd, data, offset)`: on Linux an `O_APPEND` descriptor appends anyway.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::backend::Std;
    /// use lockproof::file::{Fd, OpenFlags};
    ///
    /// let dir = tempfile::tempdir().unwrap();
    /// let fd = Fd::<Std>::open(dir.path().join("f"), OpenFlags::RDWR | OpenFlags::CREAT, 0o600)?;
    /// fd.pwrite(b"xy", 3)?;
    /// assert_eq!(fd.fstat()?.size, 5); // a hole of 3 zero bytes before it
    /// # Ok::<(), lockproof::Error>(())
    /// ```
    pub fn pwrite(&self, data: &[u8], offset: u64) -> Result<usize> {
        B::pwrite(self.fd, data, offset).map_err(os_err)
    }

    /// `os.lseek(fd, offset, whence)`: the new offset.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::backend::Std;
    /// use lockproof::file::{Fd, OpenFlags, Whence};
    ///
    /// let dir = tempfile::tempdir().unwrap();
    /// let fd = Fd::<Std>::open(dir.path().join("f"), OpenFlags::RDWR | OpenFlags::CREAT, 0o600)?;
    /// fd.write(b"0123456789")?;
    /// assert_eq!(fd.lseek(-4, Whence::End)?, 6);
    /// # Ok::<(), lockproof::Error>(())
    /// ```
    pub fn lseek(&self, offset: i64, whence: Whence) -> Result<u64> {
        B::lseek(self.fd, offset, whence).map_err(os_err)
    }

    /// `os.ftruncate(fd, length)`: the offset is left where it was (a later write there
    /// leaves a hole of zero bytes, FILELOCKS.md §3.1).
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::backend::Std;
    /// use lockproof::file::{Fd, OpenFlags};
    ///
    /// let dir = tempfile::tempdir().unwrap();
    /// let fd = Fd::<Std>::open(dir.path().join("f"), OpenFlags::RDWR | OpenFlags::CREAT, 0o600)?;
    /// fd.write(b"10")?;
    /// fd.ftruncate(0)?;
    /// fd.write(b"9")?;
    /// assert_eq!(fd.pread(3, 0)?, b"\0\09");
    /// # Ok::<(), lockproof::Error>(())
    /// ```
    pub fn ftruncate(&self, len: u64) -> Result<()> {
        B::ftruncate(self.fd, len).map_err(os_err)
    }

    /// `os.fsync(fd)`.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::backend::Std;
    /// use lockproof::file::{Fd, OpenFlags};
    ///
    /// let dir = tempfile::tempdir().unwrap();
    /// let fd = Fd::<Std>::open(dir.path().join("f"), OpenFlags::WRONLY | OpenFlags::CREAT, 0o600)?;
    /// fd.fsync()?;
    /// # Ok::<(), lockproof::Error>(())
    /// ```
    pub fn fsync(&self) -> Result<()> {
        B::fsync(self.fd).map_err(os_err)
    }

    /// `os.fstat(fd)`.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::backend::Std;
    /// use lockproof::file::{os, Fd, OpenFlags};
    ///
    /// let dir = tempfile::tempdir().unwrap();
    /// let path = dir.path().join("f");
    /// let fd = Fd::<Std>::open(&path, OpenFlags::WRONLY | OpenFlags::CREAT, 0o600)?;
    /// assert!(fd.fstat()?.same_file(&os::stat::<Std>(&path)?));
    /// # Ok::<(), lockproof::Error>(())
    /// ```
    pub fn fstat(&self) -> Result<FileStat> {
        B::fstat(self.fd).map_err(os_err)
    }
}

impl<B: FileBackend> FileNo for Fd<B> {
    type Backend = B;
    fn fileno(&self) -> RawFd {
        self.fd
    }
}

impl<B: FileBackend> Drop for Fd<B> {
    fn drop(&mut self) {
        let _ = B::close(self.fd);
    }
}

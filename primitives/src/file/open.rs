//! Python's `open(path, mode)`: a buffered file object over one descriptor.

use super::fd::Fd;
use super::FileNo;
use crate::backend::file::{FileBackend, OpenFlags, RawFd, Whence};
use crate::backend::Std;
use crate::{Error, Result};
use std::fmt;
use std::path::{Path, PathBuf};

/// The buffer size of Python's buffered files when `st_blksize` is unknown
/// (`io.DEFAULT_BUFFER_SIZE`).
const BUFFER_SIZE: usize = 8192;

/// A file opened as Python's `open(path, mode)` opens it (binary; `'t'` is accepted and
/// changes nothing: bytes in, bytes out), buffered as `io.BufferedRandom` buffers.
///
/// Modes become flags as FILELOCKS.md §3.1 says:
///
/// | mode | flags | at open |
/// |---|---|---|
/// | `'r'`, `'r+'` | `O_RDONLY`, `O_RDWR` | — |
/// | `'w'`, `'w+'` | `O_WRONLY`/`O_RDWR` `\| O_CREAT \| O_TRUNC` | **truncated to 0, before any lock can be taken** |
/// | `'a'`, `'a+'` | `O_WRONLY`/`O_RDWR` `\| O_CREAT \| O_APPEND` | offset at the end; every write appends |
/// | `'x'`, `'x+'` | `O_WRONLY`/`O_RDWR` `\| O_CREAT \| O_EXCL` | `FileExistsError` if the name exists |
///
/// Buffering, as CPython's: [`write`](File::write) collects bytes in this process until
/// [`flush`](File::flush), [`close`](File::close) (or a drop), or the buffer fills — until
/// then no other process sees them, and a process that dies loses them (FILELOCKS.md
/// §3.3); [`read`](File::read) reads ahead a whole buffer, so the descriptor's offset runs
/// ahead of [`tell`](File::tell), and a [`seek`](File::seek) inside the buffer moves no
/// offset (§1.10). Unlocking (`fcntl.flock(f, LOCK_UN)`) does not flush.
///
/// # Examples
///
/// ```
/// use lockproof::backend::Std;
/// use lockproof::file::fcntl::{flock, LOCK_EX, LOCK_UN};
/// use lockproof::file::File;
///
/// let dir = tempfile::tempdir().unwrap();
/// let path = dir.path().join("counter");
/// std::fs::write(&path, b"41").unwrap();
/// // The counter-file pattern: open without truncating, lock, read, seek, write, truncate.
/// let mut f = File::<Std>::open(&path, "r+")?;
/// flock(&f, LOCK_EX)?;
/// let n: u32 = String::from_utf8(f.read(None)?).unwrap().parse().unwrap();
/// f.seek(0, 0)?;
/// f.write(format!("{}", n + 1).as_bytes())?;
/// f.truncate(None)?;
/// f.flush()?;                 // before unlocking: the next holder must see it
/// flock(&f, LOCK_UN)?;
/// f.close()?;
/// assert_eq!(std::fs::read(&path).unwrap(), b"42");
/// # Ok::<(), lockproof::Error>(())
/// ```
pub struct File<B: FileBackend = Std> {
    fd: Option<Fd<B>>,
    path: PathBuf,
    flags: OpenFlags,
    /// Read-ahead: bytes read from the descriptor and not yet returned are `rbuf[rpos..]`.
    rbuf: Vec<u8>,
    rpos: usize,
    /// Bytes written and not yet passed to `write(2)`.
    wbuf: Vec<u8>,
}

impl<B: FileBackend> fmt::Debug for File<B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("File")
            .field("path", &self.path)
            .field("flags", &self.flags)
            .field("fd", &self.fd)
            .field("unflushed", &self.wbuf.len())
            .finish()
    }
}

/// Python's mode parsing (`_io.open`): the flags of `mode`, or its `ValueError`.
fn mode_flags(mode: &str) -> Result<OpenFlags> {
    let invalid = || Error::InvalidArgument(format!("invalid mode: '{mode}'"));
    let (mut creating, mut reading, mut writing, mut appending, mut plus) =
        (false, false, false, false, false);
    let (mut text, mut binary) = (false, false);
    for (i, c) in mode.char_indices() {
        if mode[i + c.len_utf8()..].contains(c) {
            return Err(invalid());
        }
        match c {
            'x' => creating = true,
            'r' => reading = true,
            'w' => writing = true,
            'a' => appending = true,
            '+' => plus = true,
            't' => text = true,
            'b' => binary = true,
            _ => return Err(invalid()),
        }
    }
    if text && binary {
        return Err(Error::InvalidArgument(
            "can't have text and binary mode at once".into(),
        ));
    }
    let count = [creating, reading, writing, appending]
        .iter()
        .filter(|&&b| b)
        .count();
    if count > 1 {
        return Err(Error::InvalidArgument(
            "must have exactly one of create/read/write/append mode".into(),
        ));
    }
    if count == 0 {
        return Err(Error::InvalidArgument(
            "Must have exactly one of create/read/write/append mode and at most one plus".into(),
        ));
    }
    let access = match (reading, plus) {
        (_, true) => OpenFlags::RDWR,
        (true, false) => OpenFlags::RDONLY,
        (false, false) => OpenFlags::WRONLY,
    };
    let extra = if creating {
        OpenFlags::CREAT | OpenFlags::EXCL
    } else if writing {
        OpenFlags::CREAT | OpenFlags::TRUNC
    } else if appending {
        OpenFlags::CREAT | OpenFlags::APPEND
    } else {
        OpenFlags::default()
    };
    Ok(access | extra)
}

impl<B: FileBackend> File<B> {
    /// `open(path, mode)`: one `open(2)` with the mode's flags (and `O_CLOEXEC`, mode
    /// `0o666` before the umask), then, for `'a'`, a seek to the end.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::backend::Std;
    /// use lockproof::file::File;
    /// use lockproof::PyException;
    ///
    /// let dir = tempfile::tempdir().unwrap();
    /// let path = dir.path().join("f");
    /// std::fs::write(&path, b"precious").unwrap();
    /// let f = File::<Std>::open(&path, "w")?;          // truncates here, lock or no lock
    /// assert_eq!(std::fs::metadata(&path).unwrap().len(), 0);
    /// let e = File::<Std>::open(&path, "rw").unwrap_err();
    /// assert_eq!(e.exception(), PyException::ValueError);
    /// assert_eq!(e.to_string(), "must have exactly one of create/read/write/append mode");
    /// assert_eq!(File::<Std>::open(&path, "x").unwrap_err().errno(), Some(17));
    /// # drop(f);
    /// # Ok::<(), lockproof::Error>(())
    /// ```
    pub fn open(path: impl AsRef<Path>, mode: &str) -> Result<File<B>> {
        let path = path.as_ref();
        let flags = mode_flags(mode)?;
        let fd = Fd::<B>::open(path, flags, 0o666)?;
        if flags.contains(OpenFlags::APPEND) {
            fd.lseek(0, Whence::End)?;
        }
        Ok(File {
            fd: Some(fd),
            path: path.to_owned(),
            flags,
            rbuf: Vec::new(),
            rpos: 0,
            wbuf: Vec::new(),
        })
    }

    fn fd(&self) -> &Fd<B> {
        self.fd
            .as_ref()
            .expect("a File is open until close() consumes it")
    }

    /// The open flags (`O_RDWR | O_CREAT | O_APPEND` for `'a+'`, …).
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::backend::Std;
    /// use lockproof::file::{File, OpenFlags};
    ///
    /// let dir = tempfile::tempdir().unwrap();
    /// let f = File::<Std>::open(dir.path().join("f"), "a+")?;
    /// assert_eq!(f.flags(), OpenFlags::RDWR | OpenFlags::CREAT | OpenFlags::APPEND);
    /// # Ok::<(), lockproof::Error>(())
    /// ```
    pub fn flags(&self) -> OpenFlags {
        self.flags
    }

    /// The descriptor (`os.fstat(f.fileno())` and friends).
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::backend::Std;
    /// use lockproof::file::File;
    ///
    /// let dir = tempfile::tempdir().unwrap();
    /// let f = File::<Std>::open(dir.path().join("f"), "w")?;
    /// assert_eq!(f.raw().fstat()?.size, 0);
    /// # Ok::<(), lockproof::Error>(())
    /// ```
    pub fn raw(&self) -> &Fd<B> {
        self.fd()
    }

    /// `f.write(data)`: buffered; returns `data.len()`. Written to the descriptor when the
    /// buffer reaches its size, at [`flush`](File::flush) or at [`close`](File::close).
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::backend::Std;
    /// use lockproof::file::File;
    ///
    /// let dir = tempfile::tempdir().unwrap();
    /// let path = dir.path().join("log");
    /// let mut f = File::<Std>::open(&path, "a")?;
    /// f.write(b"line\n")?;
    /// assert_eq!(std::fs::read(&path).unwrap(), b"");      // not yet visible to anyone
    /// f.flush()?;
    /// assert_eq!(std::fs::read(&path).unwrap(), b"line\n");
    /// # Ok::<(), lockproof::Error>(())
    /// ```
    pub fn write(&mut self, data: &[u8]) -> Result<usize> {
        self.drop_read_ahead()?;
        self.wbuf.extend_from_slice(data);
        if self.wbuf.len() >= BUFFER_SIZE {
            self.flush()?;
        }
        Ok(data.len())
    }

    /// `f.flush()`: pass buffered writes to the descriptor (one `write(2)` per call until
    /// all is written). Not `fsync`.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::backend::Std;
    /// use lockproof::file::File;
    ///
    /// let dir = tempfile::tempdir().unwrap();
    /// let mut f = File::<Std>::open(dir.path().join("f"), "w")?;
    /// f.write(b"abc")?;
    /// f.flush()?;
    /// assert_eq!(f.raw().fstat()?.size, 3);
    /// # Ok::<(), lockproof::Error>(())
    /// ```
    pub fn flush(&mut self) -> Result<()> {
        while !self.wbuf.is_empty() {
            let n = self.fd().write(&self.wbuf)?;
            self.wbuf.drain(..n);
        }
        Ok(())
    }

    /// A read-ahead buffer is dropped before the descriptor is used for anything else:
    /// the descriptor goes back to the logical position.
    fn drop_read_ahead(&mut self) -> Result<()> {
        let unread = self.rbuf.len() - self.rpos;
        if unread > 0 && !self.flags.contains(OpenFlags::APPEND) {
            self.fd().lseek(-(unread as i64), Whence::Cur)?;
        }
        self.rbuf.clear();
        self.rpos = 0;
        Ok(())
    }

    /// `f.read(n)` (`None`: `f.read()`, to the end of the file). Flushes buffered writes
    /// first; fills the read-ahead buffer with one `read(2)` of the buffer's size.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::backend::Std;
    /// use lockproof::file::{File, Whence};
    ///
    /// let dir = tempfile::tempdir().unwrap();
    /// let path = dir.path().join("f");
    /// std::fs::write(&path, vec![b'x'; 100]).unwrap();
    /// let mut f = File::<Std>::open(&path, "r")?;
    /// assert_eq!(f.read(Some(10))?.len(), 10);
    /// assert_eq!(f.raw().lseek(0, Whence::Cur)?, 100);    // the descriptor read ahead
    /// assert_eq!(f.tell()?, 10);
    /// # Ok::<(), lockproof::Error>(())
    /// ```
    pub fn read(&mut self, n: Option<usize>) -> Result<Vec<u8>> {
        self.flush()?;
        let mut out = Vec::new();
        loop {
            let avail = &self.rbuf[self.rpos..];
            let want = n.map_or(usize::MAX, |n| n - out.len());
            let take = avail.len().min(want);
            out.extend_from_slice(&avail[..take]);
            self.rpos += take;
            if n.is_some_and(|n| out.len() == n) {
                return Ok(out);
            }
            let chunk = self.fd().read(BUFFER_SIZE)?;
            if chunk.is_empty() {
                return Ok(out);
            }
            self.rbuf = chunk;
            self.rpos = 0;
        }
    }

    /// `f.seek(offset, whence)`: the new position. A target inside the read-ahead buffer
    /// moves only the buffer's cursor (no system call, the descriptor stays ahead).
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::backend::Std;
    /// use lockproof::file::{File, Whence};
    ///
    /// let dir = tempfile::tempdir().unwrap();
    /// let path = dir.path().join("f");
    /// std::fs::write(&path, vec![b'x'; 100]).unwrap();
    /// let mut f = File::<Std>::open(&path, "r")?;
    /// f.read(Some(10))?;
    /// assert_eq!(f.seek(10, 0)?, 10);
    /// assert_eq!(f.raw().lseek(0, Whence::Cur)?, 100);    // still 100 (FILELOCKS.md §1.10)
    /// # Ok::<(), lockproof::Error>(())
    /// ```
    pub fn seek(&mut self, offset: i64, whence: i32) -> Result<u64> {
        self.flush()?;
        let whence = Whence::from_raw(whence.into()).ok_or_else(|| {
            Error::InvalidArgument(format!("invalid whence ({whence}, should be 0, 1 or 2)"))
        })?;
        if !self.rbuf.is_empty() && whence != Whence::End {
            let raw = self.fd().lseek(0, Whence::Cur)? as i64;
            let start = raw - self.rbuf.len() as i64;
            let target = match whence {
                Whence::Set => offset,
                _ => raw - (self.rbuf.len() - self.rpos) as i64 + offset,
            };
            if (start..=raw).contains(&target) {
                self.rpos = (target - start) as usize;
                return Ok(target as u64);
            }
        }
        self.drop_read_ahead()?;
        self.fd().lseek(offset, whence)
    }

    /// `f.tell()`: the logical position (the descriptor's, corrected for the buffers).
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::backend::Std;
    /// use lockproof::file::File;
    ///
    /// let dir = tempfile::tempdir().unwrap();
    /// let mut f = File::<Std>::open(dir.path().join("f"), "w")?;
    /// f.write(b"abc")?;
    /// assert_eq!(f.tell()?, 3);
    /// # Ok::<(), lockproof::Error>(())
    /// ```
    pub fn tell(&mut self) -> Result<u64> {
        let raw = self.fd().lseek(0, Whence::Cur)?;
        let unread = (self.rbuf.len() - self.rpos) as u64;
        Ok(raw - unread + self.wbuf.len() as u64)
    }

    /// `f.truncate(size)` (`None`: at the current position): flushes, then `ftruncate`.
    /// The position does not move.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::backend::Std;
    /// use lockproof::file::File;
    ///
    /// let dir = tempfile::tempdir().unwrap();
    /// let path = dir.path().join("f");
    /// std::fs::write(&path, b"10").unwrap();
    /// let mut f = File::<Std>::open(&path, "r+")?;
    /// f.write(b"9")?;
    /// f.truncate(None)?;            // without it the file would read "90"
    /// f.close()?;
    /// assert_eq!(std::fs::read(&path).unwrap(), b"9");
    /// # Ok::<(), lockproof::Error>(())
    /// ```
    pub fn truncate(&mut self, size: Option<u64>) -> Result<u64> {
        self.flush()?;
        let size = match size {
            Some(s) => s,
            None => self.tell()?,
        };
        self.fd().ftruncate(size)?;
        Ok(size)
    }

    /// `f.close()`: flush, then close the descriptor (releasing this process's record
    /// locks on the file, and the description's flock lock on its last close).
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::backend::Std;
    /// use lockproof::file::File;
    ///
    /// let dir = tempfile::tempdir().unwrap();
    /// let path = dir.path().join("f");
    /// let mut f = File::<Std>::open(&path, "w")?;
    /// f.write(b"data")?;
    /// f.close()?;
    /// assert_eq!(std::fs::read(&path).unwrap(), b"data");
    /// # Ok::<(), lockproof::Error>(())
    /// ```
    pub fn close(mut self) -> Result<()> {
        let flushed = self.flush();
        let fd = self.fd.take().expect("open until closed");
        let closed = fd.close();
        flushed.and(closed)
    }
}

impl<B: FileBackend> FileNo for File<B> {
    type Backend = B;
    fn fileno(&self) -> RawFd {
        self.fd().raw()
    }
}

impl<B: FileBackend> Drop for File<B> {
    fn drop(&mut self) {
        if self.fd.is_some() {
            let _ = self.flush();
        }
    }
}

//! Errors with CPython's meaning and message text.

use std::fmt;

/// The Python exception class an [`Error`] stands for.
///
/// # Examples
///
/// ```
/// use lockproof::threading::Lock;
/// use lockproof::PyException;
///
/// let err = Lock::new().release().unwrap_err();
/// assert_eq!(err.exception(), PyException::RuntimeError);
/// assert_eq!(err.exception().to_string(), "RuntimeError");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum PyException {
    /// `ValueError`
    ValueError,
    /// `OverflowError`
    OverflowError,
    /// `RuntimeError` (which `threading.ThreadError` is)
    RuntimeError,
    /// `threading.BrokenBarrierError`, a subclass of `RuntimeError`
    BrokenBarrierError,
    /// `AssertionError` (multiprocessing's ownership checks)
    AssertionError,
    /// `OSError` (multiprocessing: what `sem_open`/`sem_timedwait` report)
    OSError,
    /// `IndexError` (a multiprocessing `Array` index out of range)
    IndexError,
    /// `BlockingIOError`: an `OSError` with errno `EAGAIN`/`EWOULDBLOCK` (a non-blocking
    /// lock request that conflicts).
    BlockingIOError,
    /// `PermissionError`: errno `EACCES` or `EPERM`.
    PermissionError,
    /// `FileExistsError`: errno `EEXIST` (`O_CREAT|O_EXCL`, `mkdir`, `link`).
    FileExistsError,
    /// `FileNotFoundError`: errno `ENOENT`.
    FileNotFoundError,
    /// `IsADirectoryError`: errno `EISDIR`.
    IsADirectoryError,
    /// `NotADirectoryError`: errno `ENOTDIR`.
    NotADirectoryError,
    /// `ProcessLookupError`: errno `ESRCH` (`os.kill(pid, 0)` of no such process).
    ProcessLookupError,
    /// `InterruptedError`: errno `EINTR` (CPython retries instead, PEP 475).
    InterruptedError,
    /// `ModuleNotFoundError`: `import msvcrt` anywhere but on Windows.
    ModuleNotFoundError,
}

impl PyException {
    /// The class `OSError(errno, …)` builds in Python: the subclass for the errno
    /// (`BlockingIOError` for `EAGAIN`, …), plain `OSError` for the rest (`EBADF`,
    /// `EDEADLK`, `EINVAL`, `ENOLCK`, `ENOTEMPTY`).
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::PyException;
    ///
    /// assert_eq!(PyException::for_errno(11), PyException::BlockingIOError);
    /// assert_eq!(PyException::for_errno(35), PyException::OSError); // EDEADLK
    /// ```
    pub fn for_errno(errno: i32) -> PyException {
        match errno {
            11 => PyException::BlockingIOError,
            1 | 13 => PyException::PermissionError,
            17 => PyException::FileExistsError,
            2 => PyException::FileNotFoundError,
            21 => PyException::IsADirectoryError,
            20 => PyException::NotADirectoryError,
            3 => PyException::ProcessLookupError,
            4 => PyException::InterruptedError,
            _ => PyException::OSError,
        }
    }
}

impl fmt::Display for PyException {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            PyException::ValueError => "ValueError",
            PyException::OverflowError => "OverflowError",
            PyException::RuntimeError => "RuntimeError",
            PyException::BrokenBarrierError => "BrokenBarrierError",
            PyException::AssertionError => "AssertionError",
            PyException::OSError => "OSError",
            PyException::IndexError => "IndexError",
            PyException::BlockingIOError => "BlockingIOError",
            PyException::PermissionError => "PermissionError",
            PyException::FileExistsError => "FileExistsError",
            PyException::FileNotFoundError => "FileNotFoundError",
            PyException::IsADirectoryError => "IsADirectoryError",
            PyException::NotADirectoryError => "NotADirectoryError",
            PyException::ProcessLookupError => "ProcessLookupError",
            PyException::InterruptedError => "InterruptedError",
            PyException::ModuleNotFoundError => "ModuleNotFoundError",
        })
    }
}

/// Every error a primitive can return. `Display` gives CPython 3.11's message, word for
/// word; [`Error::exception`] gives the Python class it would raise.
///
/// # Examples
///
/// ```
/// use lockproof::threading::Lock;
/// use lockproof::Error;
///
/// let err = Lock::new().acquire_timeout(-5.0).unwrap_err();
/// assert_eq!(err, Error::NegativeTimeout);
/// assert_eq!(err.to_string(), "timeout value must be positive");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Error {
    /// `Lock.acquire(False, t)` / `RLock.acquire(False, t)` with `t != -1`:
    /// `ValueError("can't specify a timeout for a non-blocking call")`.
    NonBlockingTimeout,
    /// `Semaphore.acquire(False, t)` with `t` not None:
    /// `ValueError("can't specify timeout for non-blocking acquire")`.
    SemaphoreNonBlockingTimeout,
    /// A negative Lock/RLock timeout other than −1: `ValueError('timeout value must be positive')`.
    NegativeTimeout,
    /// A NaN Lock/RLock timeout: `ValueError('Invalid value NaN (not a number)')`.
    NanTimeout,
    /// A timeout beyond `TIMEOUT_MAX` (or infinite) where a real wait is needed:
    /// `OverflowError('timestamp out of range for platform time_t')`.
    TimeoutOverflow,
    /// `Lock.release()` on an unlocked lock: `RuntimeError('release unlocked lock')`.
    ReleaseUnlocked,
    /// `RLock.release()` by a thread that does not own it:
    /// `RuntimeError('cannot release un-acquired lock')`.
    ReleaseUnacquired,
    /// `Condition.wait()` without holding the lock:
    /// `RuntimeError('cannot wait on un-acquired lock')`.
    WaitUnacquired,
    /// `Condition.notify()` without holding the lock:
    /// `RuntimeError('cannot notify on un-acquired lock')`.
    NotifyUnacquired,
    /// `Semaphore(-1)`: `ValueError('semaphore initial value must be >= 0')`.
    SemaphoreNegative,
    /// `Semaphore.release(0)`: `ValueError('n must be one or more')`.
    ReleaseCount,
    /// A semaphore value beyond [`Semaphore::MAX_VALUE`](crate::Semaphore::MAX_VALUE), in
    /// `Semaphore(value)` or `release(n)`: `OverflowError('semaphore value too large')`.
    /// lockproof only: CPython's counter is an unbounded int and never overflows.
    SemaphoreOverflow,
    /// `BoundedSemaphore.release()` past the initial value:
    /// `ValueError('Semaphore released too many times')`.
    ReleasedTooManyTimes,
    /// `Barrier(0)`: `ValueError('parties must be > 0')` (CPython 3.13+; 3.11 accepts it,
    /// then every `wait` breaks the barrier; lockproof rejects it up front).
    BarrierParties,
    /// A broken barrier: `threading.BrokenBarrierError()` (empty message).
    BrokenBarrier,
    /// A `Barrier` action that failed, with the action's text: the last arrival gets it
    /// (`RuntimeError(text)`), every other party `BrokenBarrier`. CPython re-raises the
    /// action's own exception; a Rust action reports a failure as text.
    BarrierAction(String),

    // ---- multiprocessing (`lockproof::process`; SEMANTICS.md §10) ----------------------
    /// `multiprocessing` `Lock`/`Semaphore`/`BoundedSemaphore.release()` at the maximum
    /// value: `ValueError('semaphore or lock released too many times')`.
    SemLockReleasedTooManyTimes,
    /// `multiprocessing.RLock.release()` by a (process, thread) that does not own it:
    /// `AssertionError('attempt to release recursive lock not owned by thread')`.
    RecursiveLockNotOwned,
    /// `multiprocessing.Condition.wait()` without the lock:
    /// `AssertionError('must acquire() condition before using wait()')`.
    ConditionWaitNotOwned,
    /// `multiprocessing.Condition.notify()`/`notify_all()` without the lock:
    /// `AssertionError('lock is not owned')`.
    ConditionLockNotOwned,
    /// `multiprocessing.Condition.notify()` found a token in its wait semaphore:
    /// `AssertionError('notify: Should not have been able to acquire _wait_semaphore')`.
    NotifyWaitSemaphore,
    /// `multiprocessing.Condition.notify()` found more woken than sleeping waiters:
    /// `AssertionError('notify: Bug in sleeping_count.acquire- res should not be False')`.
    NotifySleepingCount,
    /// An OS error as Python shows it: `OSError('[Errno 22] Invalid argument')` for
    /// `multiprocessing.Semaphore(-1)` or an unrepresentable `sem_timedwait` deadline;
    /// `BlockingIOError('[Errno 11] Resource temporarily unavailable')` for a conflicting
    /// `fcntl.flock(f, LOCK_EX | LOCK_NB)`; `FileExistsError("[Errno 17] File exists:
    /// '/tmp/x.lock'")` for `os.open` with `O_CREAT|O_EXCL`. The class follows the errno
    /// as in Python ([`PyException::for_errno`]). Build it with [`Error::os`] or
    /// [`Error::os_path`].
    Os {
        /// The errno.
        errno: i32,
        /// `[Errno N] text`, as `str(OSError)` gives it.
        message: String,
    },
    /// A value beyond a C `int` (`multiprocessing.Semaphore(2**31)`):
    /// `OverflowError('Python int too large to convert to C int')`.
    CIntOverflow,
    /// A `multiprocessing.Array` index out of range: `IndexError('invalid index')`.
    InvalidIndex,

    // ---- files (`lockproof::file`; FILELOCKS.md) ----------------------------------------
    /// `fcntl.lockf(fd, cmd)` with a `cmd` that is neither `LOCK_UN` nor has `LOCK_SH` or
    /// `LOCK_EX` (`0`, `LOCK_UN | LOCK_NB`): `ValueError('unrecognized lockf argument')`.
    LockfArgument,
    /// A `ValueError` of a file object, with Python's text: `open(path, mode)` with a
    /// mode Python rejects (`invalid mode: 'q'`, `must have exactly one of
    /// create/read/write/append mode`, …), or `f.seek(0, 7)` (`invalid whence (7, should
    /// be 0, 1 or 2)`).
    InvalidArgument(String),
    /// `import name` of a module this platform does not have: `ModuleNotFoundError("No
    /// module named 'msvcrt'")` for [`crate::file::msvcrt`] on a real Linux system
    /// ([`Std`](crate::backend::Std)), where CPython has no `msvcrt` module at all.
    ModuleNotFound(String),
}

impl Error {
    /// The Python exception class.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::{Error, PyException};
    ///
    /// assert_eq!(Error::TimeoutOverflow.exception(), PyException::OverflowError);
    /// assert_eq!(Error::BrokenBarrier.exception(), PyException::BrokenBarrierError);
    /// ```
    pub fn exception(&self) -> PyException {
        use Error::*;
        match self {
            NonBlockingTimeout
            | SemaphoreNonBlockingTimeout
            | NegativeTimeout
            | NanTimeout
            | SemaphoreNegative
            | ReleaseCount
            | ReleasedTooManyTimes
            | BarrierParties
            | SemLockReleasedTooManyTimes
            | LockfArgument
            | InvalidArgument(_) => PyException::ValueError,
            TimeoutOverflow | SemaphoreOverflow | CIntOverflow => PyException::OverflowError,
            RecursiveLockNotOwned
            | ConditionWaitNotOwned
            | ConditionLockNotOwned
            | NotifyWaitSemaphore
            | NotifySleepingCount => PyException::AssertionError,
            Os { errno, .. } => PyException::for_errno(*errno),
            InvalidIndex => PyException::IndexError,
            ReleaseUnlocked | ReleaseUnacquired | WaitUnacquired | NotifyUnacquired
            | BarrierAction(_) => PyException::RuntimeError,
            BrokenBarrier => PyException::BrokenBarrierError,
            ModuleNotFound(_) => PyException::ModuleNotFoundError,
        }
    }

    /// The message, exactly as `str(e)` gives it in CPython 3.11 (for
    /// [`Error::BarrierAction`], the action's text).
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::Error;
    ///
    /// assert_eq!(Error::ReleaseUnlocked.message(), "release unlocked lock");
    /// assert_eq!(Error::BrokenBarrier.message(), "");
    /// ```
    pub fn message(&self) -> &str {
        use Error::*;
        match self {
            NonBlockingTimeout => "can't specify a timeout for a non-blocking call",
            SemaphoreNonBlockingTimeout => "can't specify timeout for non-blocking acquire",
            NegativeTimeout => "timeout value must be positive",
            NanTimeout => "Invalid value NaN (not a number)",
            TimeoutOverflow => "timestamp out of range for platform time_t",
            ReleaseUnlocked => "release unlocked lock",
            ReleaseUnacquired => "cannot release un-acquired lock",
            WaitUnacquired => "cannot wait on un-acquired lock",
            NotifyUnacquired => "cannot notify on un-acquired lock",
            SemaphoreNegative => "semaphore initial value must be >= 0",
            ReleaseCount => "n must be one or more",
            SemaphoreOverflow => "semaphore value too large",
            ReleasedTooManyTimes => "Semaphore released too many times",
            BarrierParties => "parties must be > 0",
            BrokenBarrier => "",
            BarrierAction(text) => text,
            SemLockReleasedTooManyTimes => "semaphore or lock released too many times",
            RecursiveLockNotOwned => "attempt to release recursive lock not owned by thread",
            ConditionWaitNotOwned => "must acquire() condition before using wait()",
            ConditionLockNotOwned => "lock is not owned",
            NotifyWaitSemaphore => "notify: Should not have been able to acquire _wait_semaphore",
            NotifySleepingCount => "notify: Bug in sleeping_count.acquire- res should not be False",
            Os { message, .. } => message,
            CIntOverflow => "Python int too large to convert to C int",
            InvalidIndex => "invalid index",
            LockfArgument => "unrecognized lockf argument",
            InvalidArgument(text) => text,
            ModuleNotFound(text) => text,
        }
    }

    /// `OSError(errno, strerror(errno))`, with Python's text: `Error::os(22)` displays as
    /// `[Errno 22] Invalid argument`.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::{Error, PyException};
    ///
    /// let e = Error::os(22);
    /// assert_eq!(e.to_string(), "[Errno 22] Invalid argument");
    /// assert_eq!(e.exception(), PyException::OSError);
    /// ```
    pub fn os(errno: i32) -> Error {
        let text = std::io::Error::from_raw_os_error(errno).to_string();
        // std appends " (os error N)" to strerror's text; Python does not.
        let text = text
            .strip_suffix(&format!(" (os error {errno})"))
            .unwrap_or(&text)
            .to_owned();
        Error::Os {
            errno,
            message: format!("[Errno {errno}] {text}"),
        }
    }

    /// `OSError(errno, strerror(errno))` as CPython **on Windows** builds it from a C
    /// runtime `errno` (what `msvcrt.locking` raises, FILELOCKS.md §1.10): the text is the
    /// Microsoft CRT's `strerror`, whose numbers above 34 differ from Linux's —
    /// `Error::os_windows(36)` is `[Errno 36] Resource deadlock avoided` (the CRT's
    /// `EDEADLOCK`), where [`Error::os`]`(36)` is Linux's `File name too long`. The class
    /// follows the errno as Python's does on Windows: `EACCES` (13) is a `PermissionError`,
    /// `EDEADLOCK` a plain `OSError`.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::{Error, PyException};
    ///
    /// let e = Error::os_windows(36);
    /// assert_eq!(e.to_string(), "[Errno 36] Resource deadlock avoided");
    /// assert_eq!(e.exception(), PyException::OSError);
    /// let e = Error::os_windows(13);
    /// assert_eq!(e.python_repr(), "PermissionError('[Errno 13] Permission denied')");
    /// assert_eq!(Error::os_windows(33).to_string(), "[Errno 33] Domain error");
    /// ```
    pub fn os_windows(errno: i32) -> Error {
        let text = usize::try_from(errno)
            .ok()
            .and_then(|i| WINDOWS_CRT_STRERROR.get(i))
            .copied()
            .unwrap_or("Unknown error");
        Error::Os {
            errno,
            message: format!("[Errno {errno}] {text}"),
        }
    }

    /// `OSError(errno, strerror(errno), filename)`, as `os.open`, `os.unlink` and the
    /// other path functions raise it: `Error::os_path(17, "/tmp/x")` displays as
    /// `[Errno 17] File exists: '/tmp/x'` and is a `FileExistsError`.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::{Error, PyException};
    ///
    /// let e = Error::os_path(2, "/tmp/gone");
    /// assert_eq!(e.to_string(), "[Errno 2] No such file or directory: '/tmp/gone'");
    /// assert_eq!(e.exception(), PyException::FileNotFoundError);
    /// assert_eq!(e.errno(), Some(2));
    /// ```
    pub fn os_path(errno: i32, path: impl AsRef<std::path::Path>) -> Error {
        match Error::os(errno) {
            Error::Os { errno, message } => Error::Os {
                errno,
                message: format!("{message}: '{}'", path.as_ref().display()),
            },
            other => other,
        }
    }

    /// The errno of an OS error (`e.errno` in Python); `None` for the others.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::Error;
    ///
    /// assert_eq!(Error::os(11).errno(), Some(11));
    /// assert_eq!(Error::ReleaseUnlocked.errno(), None);
    /// ```
    pub fn errno(&self) -> Option<i32> {
        match self {
            Error::Os { errno, .. } => Some(*errno),
            _ => None,
        }
    }

    /// `Class('message')`, as Python's `repr` of the exception shows it.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::Error;
    ///
    /// assert_eq!(
    ///     Error::ReleaseUnlocked.python_repr(),
    ///     "RuntimeError('release unlocked lock')"
    /// );
    /// ```
    pub fn python_repr(&self) -> String {
        let m = self.message();
        if m.is_empty() {
            format!("{}()", self.exception())
        } else if m.contains('\'') {
            format!("{}(\"{}\")", self.exception(), m)
        } else {
            format!("{}('{}')", self.exception(), m)
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.message())
    }
}

impl std::error::Error for Error {}

/// The Microsoft C runtime's `strerror` texts (`_sys_errlist`), indexed by errno: what
/// CPython on Windows puts after `[Errno N]` for an error taken from the CRT's `errno`.
const WINDOWS_CRT_STRERROR: [&str; 43] = [
    "No error",
    "Operation not permitted",
    "No such file or directory",
    "No such process",
    "Interrupted function call",
    "Input/output error",
    "No such device or address",
    "Arg list too long",
    "Exec format error",
    "Bad file descriptor",
    "No child processes",
    "Resource temporarily unavailable",
    "Not enough space",
    "Permission denied",
    "Bad address",
    "Unknown error",
    "Resource device",
    "File exists",
    "Improper link",
    "No such device",
    "Not a directory",
    "Is a directory",
    "Invalid argument",
    "Too many open files in system",
    "Too many open files",
    "Inappropriate I/O control operation",
    "Unknown error",
    "File too large",
    "No space left on device",
    "Invalid seek",
    "Read-only file system",
    "Too many links",
    "Broken pipe",
    "Domain error",
    "Result too large",
    "Unknown error",
    "Resource deadlock avoided",
    "Unknown error",
    "Filename too long",
    "No locks available",
    "Function not implemented",
    "Directory not empty",
    "Illegal byte sequence",
];

/// Shorthand for `Result<T, lockproof::Error>`.
///
/// # Examples
///
/// ```
/// use lockproof::threading::Lock;
///
/// fn take(lock: &Lock) -> lockproof::Result<bool> {
///     lock.acquire_timeout(1.0)
/// }
/// assert_eq!(take(&Lock::new()), Ok(true));
/// ```
pub type Result<T, E = Error> = std::result::Result<T, E>;

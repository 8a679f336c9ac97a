//! How a process-shared object reaches another process.
//!
//! CPython shares a SemLock, Condition, Event or Barrier only "through inheritance": it is
//! pickled while a child is being spawned (its semaphore handle and kind, check 149) or is
//! simply there after `fork`. lockproof offers the same two ways:
//!
//! - **fork**: the memory is mapped `MAP_SHARED`, so a forked child uses the parent's
//!   objects as they are. Their per-process state (a SemLock's `count` and `last_tid`)
//!   restarts at 0 in the child, as CPython's at-fork hook does: a child never owns what
//!   its parent held.
//! - **exec**: [`Handle`] names the object's shared memory (memfd file descriptors). The
//!   parent puts it in the child's environment with [`Handle::pass_to`], which also keeps
//!   those descriptors open across the `exec`; the child reads it back with
//!   [`Handle::from_env`] and opens the object with the type's `open`, with fresh
//!   per-process state. The object must stay alive in the parent until the child is
//!   spawned.
//!
//! Every type also has `reopen()`, the same shared object as another process would see it
//! (fresh per-process state, same memory), which is how a checked-world "process" receives
//! an object.

use crate::backend::process::ProcessBackend;
use crate::backend::{Std, StdMemory};
use std::fmt;
use std::io;
use std::os::fd::RawFd;
use std::os::unix::process::CommandExt;
use std::process::Command;
use std::str::FromStr;

/// The shared memory of a process-shared object, as text a child process can be given:
/// `lockproof-process:FDxWORDS,FDxWORDS,…`.
///
/// # Examples
///
/// Re-executing the current binary with a handle (the child side runs `Lock::open`):
///
/// ```no_run
/// use lockproof::multiprocessing::{Handle, Lock};
/// use std::process::Command;
///
/// if let Ok(handle) = Handle::from_env("MY_LOCK") {
///     let lock = Lock::open(&handle).unwrap();           // the child
///     lock.release().unwrap();
///     std::process::exit(0);
/// }
/// let lock = Lock::new();                                  // the parent
/// assert!(lock.acquire());
/// let mut cmd = Command::new(std::env::current_exe().unwrap());
/// lock.handle().pass_to(&mut cmd, "MY_LOCK");
/// assert!(cmd.status().unwrap().success());
/// assert!(lock.acquire_timeout(1.0).unwrap());            // the child released it
/// ```
///
/// The text form round-trips:
///
/// ```
/// use lockproof::multiprocessing::{Handle, Lock};
///
/// let lock = Lock::new();
/// let h = lock.handle();
/// let again: Handle = h.to_string().parse().unwrap();
/// assert_eq!(again, h);
/// let same = Lock::open(&again).unwrap();                 // another handle, same lock
/// assert!(same.try_acquire());
/// assert!(!lock.try_acquire());
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Handle {
    parts: Vec<(RawFd, usize)>,
}

const PREFIX: &str = "lockproof-process:";

/// Why a [`Handle`] could not be read or opened.
///
/// # Examples
///
/// ```
/// use lockproof::multiprocessing::{Handle, HandleError, Lock, RLock};
///
/// assert!(matches!("nonsense".parse::<Handle>(), Err(HandleError::Malformed(_))));
/// assert!(matches!(Handle::from_env("LOCKPROOF_NO_SUCH_VAR"), Err(HandleError::Missing(_))));
/// let rlock = RLock::new();                  // alive while its handle is opened
/// assert!(matches!(Lock::open(&rlock.handle()), Err(HandleError::Mismatch(_))));
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum HandleError {
    /// The environment variable is not set.
    Missing(String),
    /// The text is not a handle.
    Malformed(String),
    /// The memory does not hold the expected object (a handle of another type).
    Mismatch(&'static str),
    /// Mapping the memory failed.
    Io(io::Error),
}

impl fmt::Display for HandleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HandleError::Missing(var) => write!(f, "environment variable {var} is not set"),
            HandleError::Malformed(text) => write!(f, "not a lockproof process handle: {text:?}"),
            HandleError::Mismatch(what) => write!(f, "the handle's memory is {what}"),
            HandleError::Io(e) => write!(f, "cannot map the handle's memory: {e}"),
        }
    }
}

impl std::error::Error for HandleError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            HandleError::Io(e) => Some(e),
            _ => None,
        }
    }
}

impl From<io::Error> for HandleError {
    fn from(e: io::Error) -> Self {
        HandleError::Io(e)
    }
}

impl Handle {
    fn of(mems: &[StdMemory]) -> Handle {
        Handle {
            parts: mems.iter().map(|m| (m.fd(), m.words())).collect(),
        }
    }

    fn open_all(&self) -> Result<Vec<StdMemory>, HandleError> {
        self.parts
            .iter()
            .map(|&(fd, words)| StdMemory::open(fd, words).map_err(HandleError::Io))
            .collect()
    }

    /// The file descriptors the handle names.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::multiprocessing::Lock;
    ///
    /// let h = Lock::new().handle();
    /// let fds: Vec<_> = h.fds().collect();
    /// assert!(!fds.is_empty());
    /// // The text form a child receives names each of them.
    /// assert!(fds.iter().all(|fd| h.to_string().contains(&format!("{fd}x"))));
    /// ```
    pub fn fds(&self) -> impl Iterator<Item = RawFd> + '_ {
        self.parts.iter().map(|p| p.0)
    }

    /// Give the handle to the child `cmd` will start: set environment variable `var` to
    /// it, and keep its descriptors open across the child's `exec` (they are
    /// close-on-exec everywhere else).
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::multiprocessing::Lock;
    /// use std::process::Command;
    ///
    /// let lock = Lock::new();
    /// let h = lock.handle();
    /// let fd = h.fds().next().unwrap();
    /// // The child sees the variable, and the descriptor is still open after its exec.
    /// let mut cmd = Command::new("sh");
    /// cmd.arg("-c").arg(format!("test -n \"$MY_LOCK\" && test -e /proc/self/fd/{fd}"));
    /// h.pass_to(&mut cmd, "MY_LOCK");
    /// assert!(cmd.status().unwrap().success());
    /// ```
    pub fn pass_to<'c>(&self, cmd: &'c mut Command, var: &str) -> &'c mut Command {
        cmd.env(var, self.to_string());
        let fds: Vec<RawFd> = self.fds().collect();
        // SAFETY: the closure runs in the forked child before `exec`; it only calls
        // `fcntl`, which is async-signal-safe, and iterates a vector allocated before the
        // fork (no allocation).
        unsafe {
            cmd.pre_exec(move || {
                for &fd in &fds {
                    let flags = libc::fcntl(fd, libc::F_GETFD);
                    if flags < 0 || libc::fcntl(fd, libc::F_SETFD, flags & !libc::FD_CLOEXEC) < 0 {
                        return Err(io::Error::last_os_error());
                    }
                }
                Ok(())
            })
        }
    }

    /// The handle in environment variable `var` (set by [`pass_to`](Handle::pass_to)).
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::multiprocessing::{Handle, HandleError, Lock};
    ///
    /// let lock = Lock::new();
    /// std::env::set_var("MY_LOCK", lock.handle().to_string()); // as `pass_to` does for a child
    /// let h = Handle::from_env("MY_LOCK")?;
    /// assert!(Lock::open(&h)?.try_acquire()); // the same lock
    /// assert!(!lock.try_acquire());
    /// # Ok::<(), HandleError>(())
    /// ```
    pub fn from_env(var: &str) -> Result<Handle, HandleError> {
        std::env::var(var)
            .map_err(|_| HandleError::Missing(var.to_owned()))?
            .parse()
    }
}

impl fmt::Display for Handle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(PREFIX)?;
        for (i, (fd, words)) in self.parts.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{fd}x{words}")?;
        }
        Ok(())
    }
}

impl FromStr for Handle {
    type Err = HandleError;
    fn from_str(s: &str) -> Result<Handle, HandleError> {
        let bad = || HandleError::Malformed(s.to_owned());
        let body = s.strip_prefix(PREFIX).ok_or_else(bad)?;
        let parts = body
            .split(',')
            .map(|p| {
                let (fd, words) = p.split_once('x')?;
                Some((fd.parse().ok()?, words.parse().ok()?))
            })
            .collect::<Option<Vec<_>>>()
            .ok_or_else(bad)?;
        Ok(Handle { parts })
    }
}

/// What an object is made of, in shared memory: the crate's way to reopen it elsewhere.
pub(crate) trait Parts<B: ProcessBackend>: Sized {
    /// The object's memories, in a fixed order.
    fn parts(&self, out: &mut Vec<B::Memory>);
    /// The object over those memories, with fresh per-process state.
    fn from_parts(parts: &mut dyn Iterator<Item = B::Memory>) -> Result<Self, HandleError>;
}

pub(crate) fn next<B: ProcessBackend>(
    parts: &mut dyn Iterator<Item = B::Memory>,
) -> Result<B::Memory, HandleError> {
    parts.next().ok_or(HandleError::Mismatch("missing a part"))
}

pub(crate) fn reopen<B: ProcessBackend, T: Parts<B>>(x: &T) -> T {
    let mut v = Vec::new();
    x.parts(&mut v);
    T::from_parts(&mut v.into_iter()).expect("lockproof: an object's own parts reopen it")
}

pub(crate) fn handle<T: Parts<Std>>(x: &T) -> Handle {
    let mut v = Vec::new();
    x.parts(&mut v);
    Handle::of(&v)
}

pub(crate) fn open<T: Parts<Std>>(h: &Handle) -> Result<T, HandleError> {
    let mut it = h.open_all()?.into_iter();
    let x = T::from_parts(&mut it)?;
    if it.next().is_some() {
        return Err(HandleError::Mismatch("more parts than the type has"));
    }
    Ok(x)
}

/// `reopen`, `handle` and `open` for a type `$t<B>` that implements [`Parts`]; `$new` is
/// how their doc examples make one (`"Lock::new()"`).
macro_rules! shareable {
    ($t:ident, $new:literal) => {
        impl<B: $crate::backend::process::ProcessBackend> $t<B> {
            /// The same shared object as another process sees it after receiving it: same
            /// shared memory, fresh per-process state (nothing owned).
            ///
            /// # Examples
            ///
            /// ```
            #[doc = concat!("use lockproof::multiprocessing::", stringify!($t), ";")]
            ///
            #[doc = concat!("let x = ", $new, ";")]
            /// let y = x.reopen();
            /// assert_eq!(y.handle(), x.handle()); // the same shared memory
            /// ```
            pub fn reopen(&self) -> Self {
                $crate::process::handle::reopen(self)
            }
        }

        impl $t<$crate::backend::Std> {
            /// The handle a child process opens this object from (see [`Handle`](crate::process::Handle)).
            ///
            /// # Examples
            ///
            /// ```
            #[doc = concat!("use lockproof::multiprocessing::{Handle, ", stringify!($t), "};")]
            ///
            #[doc = concat!("let x = ", $new, ";")]
            /// let h = x.handle();
            /// // Its text form, for a child's environment, reads back as the same handle.
            /// assert_eq!(h.to_string().parse::<Handle>().unwrap(), h);
            /// ```
            pub fn handle(&self) -> $crate::process::Handle {
                $crate::process::handle::handle(self)
            }

            /// Open the object a [`Handle`](crate::process::Handle) names, as a process
            /// that received it (fresh per-process state).
            ///
            /// # Examples
            ///
            /// ```
            #[doc = concat!("use lockproof::multiprocessing::", stringify!($t), ";")]
            ///
            #[doc = concat!("let x = ", $new, ";")]
            #[doc = concat!("let y = ", stringify!($t), "::open(&x.handle())?; // a new mapping of its memory")]
            /// assert_eq!(y.handle().fds().count(), x.handle().fds().count());
            /// # Ok::<(), lockproof::multiprocessing::HandleError>(())
            /// ```
            pub fn open(
                handle: &$crate::process::Handle,
            ) -> Result<Self, $crate::process::HandleError> {
                $crate::process::handle::open(handle)
            }
        }
    };
}
pub(crate) use shareable;

/// [`shareable!`] for a type `$t<T: Scalar, B>`; `$new` makes one holding `i32`s.
macro_rules! shareable_typed {
    ($t:ident, $new:literal) => {
        impl<T: $crate::process::Scalar, B: $crate::backend::process::ProcessBackend> $t<T, B> {
            /// The same shared object as another process sees it after receiving it: same
            /// shared memory, fresh per-process state (nothing owned).
            ///
            /// # Examples
            ///
            /// ```
            #[doc = concat!("use lockproof::multiprocessing::", stringify!($t), ";")]
            ///
            #[doc = concat!("let x = ", $new, ";")]
            /// let y = x.reopen();
            /// assert_eq!(y.handle(), x.handle()); // the same shared memory
            /// ```
            pub fn reopen(&self) -> Self {
                $crate::process::handle::reopen(self)
            }
        }

        impl<T: $crate::process::Scalar> $t<T, $crate::backend::Std> {
            /// The handle a child process opens this object from (see [`Handle`](crate::process::Handle)).
            ///
            /// # Examples
            ///
            /// ```
            #[doc = concat!("use lockproof::multiprocessing::{Handle, ", stringify!($t), "};")]
            ///
            #[doc = concat!("let x = ", $new, ";")]
            /// let h = x.handle();
            /// // Its text form, for a child's environment, reads back as the same handle.
            /// assert_eq!(h.to_string().parse::<Handle>().unwrap(), h);
            /// ```
            pub fn handle(&self) -> $crate::process::Handle {
                $crate::process::handle::handle(self)
            }

            /// Open the object a [`Handle`](crate::process::Handle) names, as a process
            /// that received it. Fails if the memory holds another type.
            ///
            /// # Examples
            ///
            /// ```
            #[doc = concat!("use lockproof::multiprocessing::", stringify!($t), ";")]
            ///
            #[doc = concat!("let x = ", $new, ";")]
            #[doc = concat!("let y = ", stringify!($t), "::<i32>::open(&x.handle())?; // a new mapping of its memory")]
            /// assert_eq!(y.handle().fds().count(), x.handle().fds().count());
            #[doc = concat!("assert!(", stringify!($t), "::<u8>::open(&x.handle()).is_err()); // another type")]
            /// # Ok::<(), lockproof::multiprocessing::HandleError>(())
            /// ```
            pub fn open(
                handle: &$crate::process::Handle,
            ) -> Result<Self, $crate::process::HandleError> {
                $crate::process::handle::open(handle)
            }
        }
    };
}
pub(crate) use shareable_typed;

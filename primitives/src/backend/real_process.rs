//! Real processes on Linux: `memfd` + `mmap(MAP_SHARED)` memory, futex waits on it, `getpid`.
//!
//! # Deviation from CPython: the clock
//!
//! CPython's `SemLock.acquire(timeout=t)` computes an absolute deadline on the wall clock
//! (`gettimeofday` + `sem_timedwait`), so a wall-clock jump shortens or lengthens the wait.
//! Here a deadline is a [`Moment`](super::Moment) on the monotonic clock (as every other wait of this
//! crate), and the futex waits for the time left to it; a clock jump changes nothing.
//! CPython's `OSError(EINVAL)` for an unrepresentable deadline is reproduced from the same
//! arithmetic (see `crate::process`'s timeout conventions), not from the clock.

use super::process::ProcessBackend;
use super::{ParkRequest, ParkResult, Std};
use std::fmt;
use std::io;
use std::ops::Deref;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
use std::sync::{Arc, Once};

const WORD: usize = std::mem::size_of::<usize>();

/// Process-shared memory of [`Std`]: a `memfd` mapped `MAP_SHARED`. Clones share the
/// mapping; it is unmapped (and the memfd closed) when the last clone drops. Another
/// process maps the same memory from the file descriptor ([`StdMemory::fd`]), inherited
/// through `fork` or `exec` (see `crate::process::Handle`).
///
/// # Examples
///
/// ```
/// use lockproof::backend::process::ProcessBackend;
/// use lockproof::backend::{Std, StdMemory};
/// use std::sync::atomic::Ordering::SeqCst;
///
/// let mem = Std::alloc(4).unwrap();
/// mem[3].store(7, SeqCst);
/// let again = StdMemory::open(mem.fd(), 4).unwrap(); // another mapping of the same memory
/// assert_eq!(again[3].load(SeqCst), 7);
/// assert!(StdMemory::open(mem.fd(), 5).is_err());     // the size must match
/// ```
#[derive(Clone)]
pub struct StdMemory(Arc<Mapping>);

struct Mapping {
    ptr: *mut AtomicUsize,
    words: usize,
    fd: OwnedFd,
}

// SAFETY: the mapping is only ever accessed through atomics, and is unmapped once, when
// the last `Arc` drops.
unsafe impl Send for Mapping {}
// SAFETY: as above.
unsafe impl Sync for Mapping {}

impl Drop for Mapping {
    fn drop(&mut self) {
        // SAFETY: `ptr` and the length are those `mmap` returned; nothing borrows the
        // mapping any more (every borrow goes through an `Arc` of this `Mapping`).
        unsafe {
            libc::munmap(self.ptr.cast(), self.words.max(1) * WORD);
        }
    }
}

fn last_os_error<T>() -> io::Result<T> {
    Err(io::Error::last_os_error())
}

impl StdMemory {
    /// Map `words` words of the memfd (or other shareable file) `fd`, taking ownership of
    /// it. Its size must be exactly `words` words.
    fn map(fd: OwnedFd, words: usize) -> io::Result<StdMemory> {
        let len = words.max(1) * WORD;
        // SAFETY: an all-zero `stat` is a valid value to be overwritten.
        let mut st: libc::stat = unsafe { std::mem::zeroed() };
        // SAFETY: `fd` is open; `st` is a valid out-pointer.
        if unsafe { libc::fstat(fd.as_raw_fd(), &mut st) } != 0 {
            return last_os_error();
        }
        if st.st_size as usize != len {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "lockproof: shared memory fd {} has {} bytes, expected {len}",
                    fd.as_raw_fd(),
                    st.st_size
                ),
            ));
        }
        // SAFETY: a fresh shared mapping of an open file of `len` bytes.
        let ptr = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED,
                fd.as_raw_fd(),
                0,
            )
        };
        if ptr == libc::MAP_FAILED {
            return last_os_error();
        }
        Ok(StdMemory(Arc::new(Mapping {
            ptr: ptr.cast(),
            words,
            fd,
        })))
    }

    /// The memfd behind this memory (close-on-exec; see `crate::process::Handle` for how a
    /// child gets it).
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::backend::process::ProcessBackend;
    /// use lockproof::backend::Std;
    ///
    /// let mem = Std::alloc(1).unwrap();
    /// // A memfd: the kernel names it after lockproof's allocation.
    /// let link = std::fs::read_link(format!("/proc/self/fd/{}", mem.fd())).unwrap();
    /// assert!(link.to_string_lossy().starts_with("/memfd:"));
    /// ```
    pub fn fd(&self) -> RawFd {
        self.0.fd.as_raw_fd()
    }

    /// How many words it holds.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::backend::process::ProcessBackend;
    /// use lockproof::backend::Std;
    ///
    /// let mem = Std::alloc(3).unwrap();
    /// assert_eq!((mem.words(), mem.len()), (3, 3));
    /// ```
    pub fn words(&self) -> usize {
        self.0.words
    }

    /// Map the memory behind an inherited file descriptor `fd` (not consumed: it is
    /// duplicated, close-on-exec), which must hold exactly `words` words.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::backend::process::ProcessBackend;
    /// use lockproof::backend::{Std, StdMemory};
    /// use std::sync::atomic::Ordering::SeqCst;
    ///
    /// let mem = Std::alloc(2).unwrap();
    /// let again = StdMemory::open(mem.fd(), 2).unwrap(); // what a child does with an inherited fd
    /// again[0].store(9, SeqCst);
    /// assert_eq!(mem[0].load(SeqCst), 9);
    /// assert_ne!(again.fd(), mem.fd()); // a duplicate descriptor of the same memory
    /// ```
    pub fn open(fd: RawFd, words: usize) -> io::Result<StdMemory> {
        // SAFETY: F_DUPFD_CLOEXEC on a caller-named descriptor; failure is reported.
        let dup = unsafe { libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, 0) };
        if dup < 0 {
            return last_os_error();
        }
        // SAFETY: `dup` is a fresh descriptor this function owns.
        StdMemory::map(unsafe { OwnedFd::from_raw_fd(dup) }, words)
    }
}

impl Deref for StdMemory {
    type Target = [AtomicUsize];
    fn deref(&self) -> &[AtomicUsize] {
        // SAFETY: `ptr` maps `words` words, page-aligned, alive as long as `self`;
        // `AtomicUsize` has the layout of `usize` and is address-free (lock-free), so it is
        // sound in memory another process maps too.
        unsafe { std::slice::from_raw_parts(self.0.ptr, self.0.words) }
    }
}

impl fmt::Debug for StdMemory {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "StdMemory(fd {}, {} words)", self.fd(), self.words())
    }
}

/// The process id, cached; 0 means "look it up" (set by the at-fork child hook).
static PID: AtomicU32 = AtomicU32::new(0);
static ATFORK: Once = Once::new();

extern "C" fn after_fork_child() {
    // Async-signal-safe: one atomic store.
    PID.store(0, Ordering::Relaxed);
}

/// The futex word of an atomic usize: its low 32 bits (the semaphore value, an owner pid:
/// both below 2^31, so the high half is always 0 and comparing the low half compares the
/// word).
fn futex_word(word: &AtomicUsize) -> *const u32 {
    let p = word as *const AtomicUsize as *const u32;
    if cfg!(target_endian = "big") && WORD == 8 {
        // SAFETY: the second half of the same 8-byte word.
        unsafe { p.add(1) }
    } else {
        p
    }
}

// SAFETY: FUTEX_WAIT compares the word and queues the caller atomically (the kernel's
// futex contract), keyed by the physical page, so across processes for a MAP_SHARED
// mapping (no FUTEX_PRIVATE_FLAG); a fresh memfd reads as zeros.
unsafe impl ProcessBackend for Std {
    type Memory = StdMemory;

    fn alloc(words: usize) -> io::Result<StdMemory> {
        // SAFETY: a NUL-terminated name; flags are valid.
        let fd = unsafe { libc::memfd_create(c"lockproof".as_ptr(), libc::MFD_CLOEXEC) };
        if fd < 0 {
            return last_os_error();
        }
        // SAFETY: `fd` is a fresh descriptor this function owns.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        let len = words.max(1) * WORD;
        // SAFETY: `fd` is an open memfd.
        if unsafe { libc::ftruncate(fd.as_raw_fd(), len as libc::off_t) } != 0 {
            return last_os_error();
        }
        StdMemory::map(fd, words)
    }

    #[inline]
    fn current_pid() -> u32 {
        let p = PID.load(Ordering::Relaxed);
        if p != 0 {
            return p;
        }
        ATFORK.call_once(|| {
            // SAFETY: registers a handler that only stores an atomic.
            unsafe {
                libc::pthread_atfork(None, None, Some(after_fork_child));
            }
        });
        // SAFETY: getpid cannot fail.
        let p = unsafe { libc::getpid() } as u32;
        PID.store(p, Ordering::Relaxed);
        p
    }

    fn process_alive(pid: u32) -> bool {
        if pid == 0 || pid > i32::MAX as u32 {
            return false;
        }
        // SAFETY: signal 0 only checks for existence and permission.
        let r = unsafe { libc::kill(pid as libc::pid_t, 0) };
        if r != 0 && io::Error::last_os_error().raw_os_error() == Some(libc::ESRCH) {
            return false;
        }
        // A killed child that nobody has reaped yet still answers kill(pid, 0): a zombie
        // (state Z, or X while being reaped) is dead for a lock's purposes.
        match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
            Ok(stat) => {
                let state = stat
                    .rsplit(')')
                    .next()
                    .and_then(|s| s.trim_start().chars().next());
                !matches!(state, Some('Z' | 'X'))
            }
            Err(_) => r == 0,
        }
    }

    fn wait_word(req: ParkRequest<'_, Self>, word: &AtomicUsize, expected: usize) -> ParkResult {
        let ts;
        let timeout: *const libc::timespec = match req.deadline {
            None => std::ptr::null(),
            Some(d) => {
                let now = <Std as super::Backend>::now();
                if now >= d {
                    return ParkResult::TimedOut;
                }
                let left = d.0 - now.0;
                ts = libc::timespec {
                    tv_sec: (left / 1_000_000_000).min(i64::MAX as u64) as libc::time_t,
                    tv_nsec: (left % 1_000_000_000) as libc::c_long,
                };
                &ts
            }
        };
        // SAFETY: the word lives in mapped memory for the duration of the call; a shared
        // (not private) futex, so a waker in another process finds this waiter.
        let r = unsafe {
            libc::syscall(
                libc::SYS_futex,
                futex_word(word),
                libc::FUTEX_WAIT,
                expected as u32,
                timeout,
                std::ptr::null::<u32>(),
                0u32,
            )
        };
        if r == 0 {
            return ParkResult::Unparked;
        }
        match io::Error::last_os_error().raw_os_error() {
            Some(libc::EAGAIN) => ParkResult::Invalid,
            Some(libc::ETIMEDOUT) => {
                // The relative timeout ran out; report it only once the deadline passed.
                if req
                    .deadline
                    .is_some_and(|d| <Std as super::Backend>::now() >= d)
                {
                    ParkResult::TimedOut
                } else {
                    ParkResult::Unparked
                }
            }
            // EINTR: a signal; the caller re-checks and waits again.
            _ => ParkResult::Unparked,
        }
    }

    fn wake_word(word: &AtomicUsize) -> bool {
        // SAFETY: a wake on a word of mapped memory; no pointer is dereferenced by the
        // kernel beyond the word itself.
        let r = unsafe {
            libc::syscall(
                libc::SYS_futex,
                futex_word(word),
                libc::FUTEX_WAKE,
                1i32,
                std::ptr::null::<libc::timespec>(),
                std::ptr::null::<u32>(),
                0u32,
            )
        };
        r > 0
    }
}

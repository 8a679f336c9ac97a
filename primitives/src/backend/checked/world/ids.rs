//! The names of things in a checked execution: threads, objects, wait queues.

use std::fmt;

/// A checked thread, by start order: 0 is the execution's main thread.
///
/// # Examples
///
/// ```
/// use lockproof::backend::checked::ThreadId;
///
/// assert_eq!(ThreadId::MAIN.index(), 0);
/// assert_eq!(ThreadId::from_index(2).to_string(), "2");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ThreadId(usize);

impl ThreadId {
    /// The execution's main thread.
    pub const MAIN: ThreadId = ThreadId(0);

    /// The thread started `index`-th (0 is main).
    pub const fn from_index(index: usize) -> ThreadId {
        ThreadId(index)
    }

    /// Its start order: an index into [`ExecutionReport::threads`](super::ExecutionReport).
    pub const fn index(self) -> usize {
        self.0
    }
}

impl fmt::Display for ThreadId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// A traced object (a primitive, a shared variable), by creation order.
///
/// # Examples
///
/// ```
/// use lockproof::backend::checked::ObjectId;
///
/// let first = ObjectId::from_index(0);
/// assert_eq!(first.index(), 0);
/// assert!(first < ObjectId::from_index(1));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ObjectId(usize);

impl ObjectId {
    /// The object created `index`-th.
    pub const fn from_index(index: usize) -> ObjectId {
        ObjectId(index)
    }

    /// Its creation order: an index into [`ExecutionReport::objects`](super::ExecutionReport).
    pub const fn index(self) -> usize {
        self.0
    }
}

impl fmt::Display for ObjectId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// The queue a blocked thread waits in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum QueueKey {
    /// A primitive's queue: the address of the word its waiters park on.
    Address(usize),
    /// The joiners of a thread.
    Join(ThreadId),
    /// The environment thread's own wait (see `environment`).
    Environment,
    /// `time.sleep`: no queue; only the deadline ends it.
    Sleep,
}

/// A checked process, by start order: the main process first. Its pid is its start order
/// plus one (the main process is pid 1), so that no pid is 0.
///
/// # Examples
///
/// ```
/// use lockproof::backend::checked::ProcessId;
///
/// assert_eq!(ProcessId::MAIN.pid(), 1);
/// assert_eq!(ProcessId::from_index(2).pid(), 3);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ProcessId(usize);

impl ProcessId {
    /// The execution's main process (`MainProcess`, pid 1).
    pub const MAIN: ProcessId = ProcessId(0);

    /// The process started `index`-th (0 is the main process).
    pub const fn from_index(index: usize) -> ProcessId {
        ProcessId(index)
    }

    /// Its start order.
    pub const fn index(self) -> usize {
        self.0
    }

    /// Its pid, as `os.getpid()` returns it in the checked world: start order plus one.
    pub fn pid(self) -> u32 {
        u32::try_from(self.0 + 1).unwrap_or(u32::MAX)
    }
}

impl fmt::Display for ProcessId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.pid())
    }
}

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
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::backend::checked::ThreadId;
    ///
    /// assert_eq!(ThreadId::MAIN, ThreadId::from_index(0));
    /// ```
    pub const MAIN: ThreadId = ThreadId(0);

    /// The thread started `index`-th (0 is main).
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::backend::checked::ThreadId;
    ///
    /// let second = ThreadId::from_index(1); // the first thread main starts
    /// assert!(ThreadId::MAIN < second);
    /// ```
    pub const fn from_index(index: usize) -> ThreadId {
        ThreadId(index)
    }

    /// Its start order: an index into [`ExecutionReport::threads`](super::ExecutionReport).
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::backend::checked::{ExecutionReport, ThreadId};
    ///
    /// let report = ExecutionReport { threads: vec!["main".into(), "t".into()], ..Default::default() };
    /// assert_eq!(report.threads[ThreadId::from_index(1).index()], "t");
    /// ```
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
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::backend::checked::ObjectId;
    ///
    /// assert_eq!(ObjectId::from_index(3).to_string(), "3");
    /// ```
    pub const fn from_index(index: usize) -> ObjectId {
        ObjectId(index)
    }

    /// Its creation order: an index into [`ExecutionReport::objects`](super::ExecutionReport).
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::backend::checked::{ExecutionReport, ObjectId, ObjectInfo};
    ///
    /// let report = ExecutionReport {
    ///     objects: vec![ObjectInfo { kind: "Lock", name: "lock1".into() }],
    ///     ..Default::default()
    /// };
    /// assert_eq!(report.objects[ObjectId::from_index(0).index()].name, "lock1");
    /// ```
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
    /// The waiters for a file lock (flock, record or OFD) on this simulated inode.
    File(u64),
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
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::backend::checked::ProcessId;
    ///
    /// assert_eq!(ProcessId::MAIN, ProcessId::from_index(0));
    /// assert_eq!(ProcessId::MAIN.to_string(), "1"); // shown by its pid
    /// ```
    pub const MAIN: ProcessId = ProcessId(0);

    /// The process started `index`-th (0 is the main process).
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::backend::checked::ProcessId;
    ///
    /// let child = ProcessId::from_index(1); // the first process main starts
    /// assert_eq!(child.index(), 1);
    /// ```
    pub const fn from_index(index: usize) -> ProcessId {
        ProcessId(index)
    }

    /// Its start order.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::backend::checked::ProcessId;
    ///
    /// assert_eq!(ProcessId::MAIN.index(), 0);
    /// assert_eq!(ProcessId::from_index(2).index(), 2);
    /// ```
    pub const fn index(self) -> usize {
        self.0
    }

    /// Its pid, as `os.getpid()` returns it in the checked world: start order plus one.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::backend::checked::ProcessId;
    ///
    /// assert_eq!(ProcessId::MAIN.pid(), 1);
    /// assert_eq!(ProcessId::from_index(4).pid(), 5);
    /// ```
    pub fn pid(self) -> u32 {
        u32::try_from(self.0 + 1).unwrap_or(u32::MAX)
    }
}

impl fmt::Display for ProcessId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.pid())
    }
}

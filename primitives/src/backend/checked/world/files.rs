//! The simulated file system of a checked world (FILELOCKS.md §5.1): inodes, directory
//! entries, open file descriptions, per-process descriptor tables, and the three kernel
//! lock tables (flock, POSIX record locks, OFD locks).
//!
//! Every call of `FileBackend for Checked<E>` (`checked/file.rs`) is one step under the
//! world's lock: one scheduling point before it, then the whole system call at once
//! (FILELOCKS.md §5.2). A blocking lock request that conflicts parks its thread on
//! `QueueKey::File(inode)` and retries when woken; every unlock, close and crash that may
//! free something on an inode wakes that inode's queue (each waiter re-checks).
//!
//! | part | model |
//! |---|---|
//! | names | one flat map from the path string to an inode; `rename`, `unlink`, `link`, `mkdir`, `rmdir`, `symlink` and `O_CREAT\|O_EXCL` are single atomic changes of it; a directory's children are the names under `dir/`; a parent directory that is not in the map is taken to exist (the test's temporary directory) |
//! | inodes | kind, bytes (holes are zero bytes), mtime, link count; never freed (an unlinked inode stays readable through its descriptions) |
//! | open file descriptions | inode, access mode, `O_APPEND`, offset, reference count |
//! | descriptors | per process: fd → description and the close-on-exec bit; lowest free number from 3 |
//! | flock | per inode: (description, shared/exclusive); re-locking is a no-op; a conversion drops first (a step of its own) and is not restored on failure; dropped on `LOCK_UN` or the last close of the description |
//! | record and OFD locks | one table per inode of byte ranges owned by a process (record) or a description (OFD), normalised per owner (split on partial unlock, same-type neighbours merged); a record lock owner loses every range on the inode when it closes any descriptor of it; OFD ranges go with the last close of the description |
//! | `EDEADLK` | an `F_SETLKW` that would wait on a process which (through at most 10 hops of "waits on a record lock held by") waits on the requester fails at once; OFD locks and flock are never detected |
//! | msvcrt regions (Windows, FILELOCKS.md §1.10) | per inode: (handle = open file description, start, length), exact and never merged; `msvcrt_try` is one try of `_locking`: a region overlapping **any** region (the same handle's too) fails with `EACCES`; `LK_UNLCK` removes exactly one (start, length) of the handle or fails with `EACCES`; zero-length regions never conflict [U]; the retries of `LK_LOCK` (10 tries, 1 s apart, then `EDEADLOCK` 36) are `checked/file.rs`'s; **mandatory**: while an inode has regions, `read`/`write`/`pread`/`pwrite` of a range touching another handle's region fail with `EACCES` (the requested range, before clamping to EOF [U]; an `O_APPEND` write's range starts at EOF); dropped on the last close of the handle and when its process exits or crashes, at once (Windows may release later [D]) |
//! | time | one file-system clock: the virtual time plus one nanosecond per stamp, so every write, truncate or utime gets a distinct mtime that is never later than a `time_ns()` read after it |
//!
//! A process made by `spawn_process` is a `fork` of its spawner: it starts with a copy
//! of the spawner's descriptor table (the descriptions shared, so a flock or OFD lock held
//! through one stays held while the child keeps its copy), and its last thread's end closes
//! every descriptor it still has, as `exit` does.
//!
//! Not modelled: permissions and users (`kill0` never gives `EPERM`), `exec` (no
//! close-on-exec), signals (`EINTR`), file-system limits (`ENOLCK`,
//! `ENOSPC`), short writes, `fsync` durability (machine crashes are out of
//! scope, FILELOCKS.md §5.4), the zombie state of `kill(pid, 0)` (a crashed process is
//! gone at once: `ESRCH`; a finished one stays "alive"), and of Windows beyond msvcrt
//! regions: the CRT's per-descriptor lock held across `LK_LOCK`'s sleeps, `ftruncate`
//! over another handle's region, sharing modes (deleting or renaming an open file), and
//! the CRT's two-step `O_APPEND` (the simulation's appends stay Linux's atomic ones).

use super::super::fxhash::FxHashMap as HashMap;
use super::ids::{ProcessId, QueueKey, ThreadId};
use super::threads::Wake;
use super::{State, World};
use crate::backend::file::{
    Errno, FileKind, FileStat, FlockOp, LockCmd, LockType, OpenFlags, RawFd, RecordLock, Whence,
};
use crate::backend::Hold;
use std::any::Any;
use std::collections::BTreeMap;
use std::sync::Arc;

/// "Infinity": the end of a lock with length 0.
const INF: u64 = u64::MAX;
/// `ELOOP`.
const ELOOP: Errno = Errno(40);
/// `EPERM` for `link` of a directory.
const EPERM: Errno = Errno::EPERM;

struct Inode {
    kind: FileKind,
    data: Vec<u8>,
    mtime: i64,
    nlink: u64,
    /// A symlink's target.
    target: String,
}

struct Ofd {
    ino: u64,
    /// Access mode and `O_APPEND`.
    flags: OpenFlags,
    offset: u64,
    refs: usize,
}

#[derive(Clone, Copy)]
struct FdEntry {
    ofd: u64,
    cloexec: bool,
}

/// Who owns a byte-range lock.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Owner {
    Pid(ProcessId),
    Ofd(u64),
}

#[derive(Clone, Copy, Debug)]
struct Range {
    owner: Owner,
    write: bool,
    start: u64,
    /// Exclusive; [`INF`] for "to infinity".
    end: u64,
}

impl Range {
    fn overlaps(&self, start: u64, end: u64) -> bool {
        self.start < end && start < self.end
    }
}

/// One msvcrt region: `len` bytes from `start`, held by the handle `ofd`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Region {
    ofd: u64,
    start: u64,
    len: u64,
}

impl Region {
    /// Whether it shares a byte with `[start, start + len)` (a zero-length range or region
    /// shares none).
    fn overlaps(&self, start: u64, len: u64) -> bool {
        self.len > 0
            && len > 0
            && self.start < start.saturating_add(len)
            && start < self.start.saturating_add(self.len)
    }
}

/// The CRT's `EDEADLOCK` (36): `LK_LOCK`/`LK_RLCK` gave up. Not Linux's 36.
pub(crate) const WIN_EDEADLOCK: Errno = Errno(36);

/// A waiting `F_SETLKW` (for `EDEADLK`).
#[derive(Clone, Copy)]
struct Waiting {
    pid: ProcessId,
    ino: u64,
    write: bool,
    start: u64,
    end: u64,
}

/// What a lock request did.
pub(crate) enum Attempt {
    /// Finished with this result; `hold` says what it did to the caller's holds.
    Done(Result<(), Errno>, Hold),
    /// Conflicts: park on the inode's queue and retry.
    Wait,
}

/// The file-system part of a checked world's state.
#[derive(Default)]
pub(crate) struct Files {
    inodes: Vec<Inode>,
    names: BTreeMap<String, u64>,
    ofds: HashMap<u64, Ofd>,
    next_ofd: u64,
    fds: HashMap<ProcessId, BTreeMap<RawFd, FdEntry>>,
    flocks: HashMap<u64, Vec<(u64, bool)>>,
    ranges: HashMap<u64, Vec<Range>>,
    /// msvcrt regions per inode.
    regions: HashMap<u64, Vec<Region>>,
    waiting: HashMap<ThreadId, Waiting>,
    /// Stamps so far (the file-system clock runs this many ns ahead of virtual time).
    ticks: u64,
    /// The engine atomic every file operation touches (its scheduling point).
    witness: Option<Arc<dyn Any + Send + Sync>>,
}

/// The calling thread, its process and the clock, for one operation.
#[derive(Clone, Copy)]
pub(crate) struct Ctx {
    pub pid: ProcessId,
    pub thread: ThreadId,
    pub now: u64,
}

/// The file system and the calling thread's context, handed to one operation.
pub(crate) struct FilesRef<'a> {
    pub files: &'a mut Files,
    pub c: Ctx,
}

fn norm(path: &std::path::Path) -> String {
    let s = path.to_string_lossy();
    let t = s.trim_end_matches('/');
    if t.is_empty() {
        "/".to_owned()
    } else {
        t.to_owned()
    }
}

fn parent(path: &str) -> &str {
    match path.rfind('/') {
        Some(0) => "/",
        Some(i) => &path[..i],
        None => ".",
    }
}

impl Files {
    /// The engine atomic of the file system's scheduling point, made on first use.
    pub(crate) fn witness(
        &mut self,
        make: impl FnOnce() -> Arc<dyn Any + Send + Sync>,
    ) -> Arc<dyn Any + Send + Sync> {
        self.witness.get_or_insert_with(make).clone()
    }

    fn stamp(&mut self, now: u64) -> i64 {
        let t = now.saturating_add(self.ticks);
        self.ticks += 1;
        i64::try_from(t).unwrap_or(i64::MAX)
    }

    /// `time.time_ns()` on the file-system clock.
    pub(crate) fn time_ns(&self, now: u64) -> i64 {
        i64::try_from(now.saturating_add(self.ticks)).unwrap_or(i64::MAX)
    }

    fn new_inode(&mut self, kind: FileKind, now: u64, target: String) -> u64 {
        let mtime = self.stamp(now);
        self.inodes.push(Inode {
            kind,
            data: Vec::new(),
            mtime,
            nlink: 1,
            target,
        });
        self.inodes.len() as u64
    }

    fn inode(&self, ino: u64) -> &Inode {
        &self.inodes[(ino - 1) as usize]
    }

    fn inode_mut(&mut self, ino: u64) -> &mut Inode {
        &mut self.inodes[(ino - 1) as usize]
    }

    /// The name a path ends at after following symlinks (the name may not exist).
    fn follow(&self, path: &str) -> Result<String, Errno> {
        let mut p = path.to_owned();
        for _ in 0..40 {
            match self.names.get(&p) {
                Some(&ino) if self.inode(ino).kind == FileKind::Symlink => {
                    let t = &self.inode(ino).target;
                    p = if t.starts_with('/') {
                        t.trim_end_matches('/').to_owned()
                    } else {
                        format!("{}/{}", parent(&p), t)
                    };
                }
                _ => return Ok(p),
            }
        }
        Err(ELOOP)
    }

    fn lookup(&self, path: &str) -> Result<u64, Errno> {
        let p = self.follow(path)?;
        self.names.get(&p).copied().ok_or(Errno::ENOENT)
    }

    /// The parent directory of `path` must not be a non-directory (a parent absent from the
    /// map is taken to exist).
    fn check_parent(&self, path: &str) -> Result<(), Errno> {
        match self.names.get(parent(path)) {
            Some(&ino) if self.inode(ino).kind != FileKind::Dir => Err(Errno::ENOTDIR),
            _ => Ok(()),
        }
    }

    fn has_children(&self, dir: &str) -> bool {
        let prefix = format!("{dir}/");
        self.names
            .range(prefix.clone()..)
            .next()
            .is_some_and(|(k, _)| k.starts_with(&prefix))
    }

    fn stat_of(&self, ino: u64) -> FileStat {
        let i = self.inode(ino);
        FileStat {
            dev: 1,
            ino,
            kind: i.kind,
            size: i.data.len() as u64,
            nlink: i.nlink,
            mtime_ns: i.mtime,
        }
    }

    fn entry(&self, pid: ProcessId, fd: RawFd) -> Result<FdEntry, Errno> {
        self.fds
            .get(&pid)
            .and_then(|t| t.get(&fd))
            .copied()
            .ok_or(Errno::EBADF)
    }

    fn ofd_of(&self, pid: ProcessId, fd: RawFd) -> Result<(u64, &Ofd), Errno> {
        let e = self.entry(pid, fd)?;
        Ok((e.ofd, &self.ofds[&e.ofd]))
    }

    fn install(&mut self, pid: ProcessId, ofd: u64, cloexec: bool) -> RawFd {
        let table = self.fds.entry(pid).or_default();
        let mut fd = 3;
        while table.contains_key(&fd) {
            fd += 1;
        }
        table.insert(fd, FdEntry { ofd, cloexec });
        fd
    }

    // ---- descriptors ----------------------------------------------------------------

    /// `open(2)`: the inode opened and the new descriptor.
    pub(crate) fn open(
        &mut self,
        c: Ctx,
        path: &std::path::Path,
        flags: OpenFlags,
    ) -> Result<(u64, RawFd), Errno> {
        let path = norm(path);
        let creat = flags.contains(OpenFlags::CREAT);
        let excl = creat && flags.contains(OpenFlags::EXCL);
        if excl && self.names.contains_key(&path) {
            return Err(Errno::EEXIST);
        }
        let target = if flags.contains(OpenFlags::NOFOLLOW) {
            if let Some(&ino) = self.names.get(&path) {
                if self.inode(ino).kind == FileKind::Symlink {
                    return Err(ELOOP);
                }
            }
            path.clone()
        } else {
            self.follow(&path)?
        };
        let ino = match self.names.get(&target) {
            Some(&ino) => ino,
            None if creat => {
                self.check_parent(&target)?;
                let ino = self.new_inode(FileKind::File, c.now, String::new());
                self.names.insert(target, ino);
                ino
            }
            None => return Err(Errno::ENOENT),
        };
        let kind = self.inode(ino).kind;
        if kind == FileKind::Dir
            && (flags.writable() || flags.contains(OpenFlags::TRUNC) || creat && excl)
        {
            return Err(Errno::EISDIR);
        }
        if kind != FileKind::Dir && flags.contains(OpenFlags::DIRECTORY) {
            return Err(Errno::ENOTDIR);
        }
        if kind == FileKind::File && flags.contains(OpenFlags::TRUNC) && flags.writable() {
            let m = self.stamp(c.now);
            let i = self.inode_mut(ino);
            i.data.clear();
            i.mtime = m;
        }
        let id = self.next_ofd;
        self.next_ofd += 1;
        self.ofds.insert(
            id,
            Ofd {
                ino,
                flags: flags.access() | (flags & OpenFlags::APPEND),
                offset: 0,
                refs: 1,
            },
        );
        let fd = self.install(c.pid, id, flags.contains(OpenFlags::CLOEXEC));
        Ok((ino, fd))
    }

    /// `close(2)`: the inode, and how many holds (flock, record-lock owners, OFD-lock
    /// owners) it dropped.
    pub(crate) fn close(&mut self, c: Ctx, fd: RawFd) -> Result<(u64, usize), Errno> {
        let e = self.entry(c.pid, fd)?;
        if let Some(t) = self.fds.get_mut(&c.pid) {
            t.remove(&fd);
        }
        Ok(self.release_description(c.pid, e.ofd))
    }

    /// One descriptor of `pid` for description `ofd` is gone: the record-lock rule, then
    /// the last-close rule.
    fn release_description(&mut self, pid: ProcessId, ofd: u64) -> (u64, usize) {
        let ino = self.ofds[&ofd].ino;
        let mut dropped = 0;
        if let Some(rs) = self.ranges.get_mut(&ino) {
            let before = rs.len();
            rs.retain(|r| r.owner != Owner::Pid(pid));
            dropped += usize::from(rs.len() != before);
        }
        let o = self.ofds.get_mut(&ofd).expect("open description");
        o.refs -= 1;
        if o.refs == 0 {
            self.ofds.remove(&ofd);
            if let Some(f) = self.flocks.get_mut(&ino) {
                let before = f.len();
                f.retain(|&(o, _)| o != ofd);
                dropped += before - f.len();
            }
            if let Some(rs) = self.ranges.get_mut(&ino) {
                let before = rs.len();
                rs.retain(|r| r.owner != Owner::Ofd(ofd));
                dropped += usize::from(rs.len() != before);
            }
            if let Some(rs) = self.regions.get_mut(&ino) {
                let before = rs.len();
                rs.retain(|r| r.ofd != ofd);
                dropped += usize::from(rs.len() != before);
            }
        }
        (ino, dropped)
    }

    /// `fork`: the child gets a copy of the parent's descriptor table (same numbers, same
    /// open file descriptions, whose reference counts grow; close-on-exec descriptors too,
    /// since no exec follows). Record locks stay the parent's (they belong to a pid); a
    /// flock or OFD lock is the shared description's, so the child shares it.
    pub(crate) fn fork(&mut self, parent: ProcessId, child: ProcessId) {
        let Some(table) = self.fds.get(&parent).cloned() else {
            return;
        };
        for e in table.values() {
            self.ofds.get_mut(&e.ofd).expect("open description").refs += 1;
        }
        self.fds.insert(child, table);
    }

    /// A crashed (or exited) process: every descriptor closes, in number order. The inodes
    /// whose locks may have changed.
    pub(crate) fn close_all(&mut self, pid: ProcessId) -> Vec<u64> {
        let table = self.fds.remove(&pid).unwrap_or_default();
        let mut inodes: Vec<u64> = table
            .values()
            .map(|e| self.release_description(pid, e.ofd).0)
            .collect();
        self.waiting.retain(|_, w| w.pid != pid);
        inodes.sort_unstable();
        inodes.dedup();
        inodes
    }

    pub(crate) fn dup(&mut self, c: Ctx, fd: RawFd) -> Result<(u64, RawFd), Errno> {
        let e = self.entry(c.pid, fd)?;
        let o = self.ofds.get_mut(&e.ofd).expect("open description");
        o.refs += 1;
        let ino = o.ino;
        Ok((ino, self.install(c.pid, e.ofd, true)))
    }

    pub(crate) fn set_inheritable(&mut self, c: Ctx, fd: RawFd, inh: bool) -> Result<u64, Errno> {
        let (_, o) = self.ofd_of(c.pid, fd)?;
        let ino = o.ino;
        if let Some(e) = self.fds.get_mut(&c.pid).and_then(|t| t.get_mut(&fd)) {
            e.cloexec = !inh;
        }
        Ok(ino)
    }

    pub(crate) fn get_fl(&self, c: Ctx, fd: RawFd) -> Result<(u64, OpenFlags), Errno> {
        let (_, o) = self.ofd_of(c.pid, fd)?;
        Ok((o.ino, o.flags))
    }

    /// `F_SETFL`: only `O_APPEND` of the status flags matters here; access bits are ignored.
    pub(crate) fn set_fl(&mut self, c: Ctx, fd: RawFd, flags: OpenFlags) -> Result<u64, Errno> {
        let e = self.entry(c.pid, fd)?;
        let o = self.ofds.get_mut(&e.ofd).expect("open description");
        o.flags = o.flags.access() | (flags & OpenFlags::APPEND);
        Ok(o.ino)
    }

    // ---- contents -------------------------------------------------------------------

    fn readable_file(&self, c: Ctx, fd: RawFd) -> Result<(u64, u64), Errno> {
        let (id, o) = self.ofd_of(c.pid, fd)?;
        if !o.flags.readable() {
            return Err(Errno::EBADF);
        }
        if self.inode(o.ino).kind == FileKind::Dir {
            return Err(Errno::EISDIR);
        }
        Ok((id, o.ino))
    }

    fn copy_out(&self, ino: u64, at: u64, buf: &mut [u8]) -> usize {
        let data = &self.inode(ino).data;
        let at = usize::try_from(at).unwrap_or(usize::MAX);
        if at >= data.len() {
            return 0;
        }
        let n = buf.len().min(data.len() - at);
        buf[..n].copy_from_slice(&data[at..at + n]);
        n
    }

    fn copy_in(&mut self, c: Ctx, ino: u64, at: u64, buf: &[u8]) {
        let m = self.stamp(c.now);
        let i = self.inode_mut(ino);
        let at = usize::try_from(at).unwrap_or(usize::MAX);
        let end = at + buf.len();
        if i.data.len() < end {
            i.data.resize(end, 0);
        }
        i.data[at..end].copy_from_slice(buf);
        i.mtime = m;
    }

    pub(crate) fn read(
        &mut self,
        c: Ctx,
        fd: RawFd,
        buf: &mut [u8],
    ) -> Result<(u64, usize), Errno> {
        let (id, ino) = self.readable_file(c, fd)?;
        let at = self.ofds[&id].offset;
        self.mandatory(ino, id, at, buf.len())?;
        let n = self.copy_out(ino, at, buf);
        self.ofds.get_mut(&id).expect("open").offset += n as u64;
        Ok((ino, n))
    }

    pub(crate) fn pread(
        &self,
        c: Ctx,
        fd: RawFd,
        buf: &mut [u8],
        at: u64,
    ) -> Result<(u64, usize), Errno> {
        let (id, ino) = self.readable_file(c, fd)?;
        self.mandatory(ino, id, at, buf.len())?;
        Ok((ino, self.copy_out(ino, at, buf)))
    }

    fn writable_file(&self, c: Ctx, fd: RawFd) -> Result<(u64, u64, bool), Errno> {
        let (id, o) = self.ofd_of(c.pid, fd)?;
        if !o.flags.writable() {
            return Err(Errno::EBADF);
        }
        Ok((id, o.ino, o.flags.contains(OpenFlags::APPEND)))
    }

    /// `write(2)`: with `O_APPEND`, at the end, in the same step.
    pub(crate) fn write(&mut self, c: Ctx, fd: RawFd, buf: &[u8]) -> Result<(u64, usize), Errno> {
        let (id, ino, append) = self.writable_file(c, fd)?;
        let at = if append {
            self.inode(ino).data.len() as u64
        } else {
            self.ofds[&id].offset
        };
        self.mandatory(ino, id, at, buf.len())?;
        self.copy_in(c, ino, at, buf);
        self.ofds.get_mut(&id).expect("open").offset = at + buf.len() as u64;
        Ok((ino, buf.len()))
    }

    /// `pwrite(2)`: Linux appends on an `O_APPEND` description whatever the offset.
    pub(crate) fn pwrite(
        &mut self,
        c: Ctx,
        fd: RawFd,
        buf: &[u8],
        at: u64,
    ) -> Result<(u64, usize), Errno> {
        let (id, ino, append) = self.writable_file(c, fd)?;
        let at = if append {
            self.inode(ino).data.len() as u64
        } else {
            at
        };
        self.mandatory(ino, id, at, buf.len())?;
        self.copy_in(c, ino, at, buf);
        Ok((ino, buf.len()))
    }

    pub(crate) fn lseek(
        &mut self,
        c: Ctx,
        fd: RawFd,
        off: i64,
        whence: Whence,
    ) -> Result<(u64, u64), Errno> {
        let e = self.entry(c.pid, fd)?;
        let o = &self.ofds[&e.ofd];
        let base = match whence {
            Whence::Set => 0,
            Whence::Cur => o.offset as i64,
            Whence::End => self.inode(o.ino).data.len() as i64,
        };
        let new = base.checked_add(off).ok_or(Errno::EINVAL)?;
        let new = u64::try_from(new).map_err(|_| Errno::EINVAL)?;
        let o = self.ofds.get_mut(&e.ofd).expect("open");
        o.offset = new;
        Ok((o.ino, new))
    }

    /// `ftruncate(2)`: `EINVAL` on a descriptor not open for writing, as Linux.
    pub(crate) fn ftruncate(&mut self, c: Ctx, fd: RawFd, len: u64) -> Result<u64, Errno> {
        let (_, o) = self.ofd_of(c.pid, fd)?;
        let ino = o.ino;
        if !o.flags.writable() || self.inode(ino).kind != FileKind::File {
            return Err(Errno::EINVAL);
        }
        let m = self.stamp(c.now);
        let i = self.inode_mut(ino);
        i.data
            .resize(usize::try_from(len).map_err(|_| Errno::EINVAL)?, 0);
        i.mtime = m;
        Ok(ino)
    }

    pub(crate) fn fstat(&self, c: Ctx, fd: RawFd) -> Result<FileStat, Errno> {
        let (_, o) = self.ofd_of(c.pid, fd)?;
        Ok(self.stat_of(o.ino))
    }

    // ---- msvcrt (Windows) -------------------------------------------------------------

    /// Windows' mandatory byte-range locks: `EACCES` if `[at, at + len)` touches a region
    /// of another handle. Without regions on the inode (every Linux model), nothing.
    fn mandatory(&self, ino: u64, ofd: u64, at: u64, len: usize) -> Result<(), Errno> {
        let denied = self.regions.get(&ino).is_some_and(|rs| {
            rs.iter()
                .any(|r| r.ofd != ofd && r.overlaps(at, len as u64))
        });
        if denied {
            Err(Errno::EACCES)
        } else {
            Ok(())
        }
    }

    /// One try of the CRT's `_locking(fd, mode, nbytes)` (FILELOCKS.md §1.10 steps 1, 3, 5):
    /// the inode and what the try did (`Err(EACCES)`: refused; the caller retries or gives
    /// up). Invalid calls fail outright: `EBADF`, `EINVAL` (`nbytes < 0`, unknown mode).
    pub(crate) fn msvcrt_try(
        &mut self,
        c: Ctx,
        fd: RawFd,
        mode: i32,
        nbytes: i64,
    ) -> Result<(u64, Result<Hold, Errno>), Errno> {
        let (id, o) = self.ofd_of(c.pid, fd)?;
        let (ino, start) = (o.ino, o.offset);
        let len = u64::try_from(nbytes).map_err(|_| Errno::EINVAL)?;
        if !(0..=4).contains(&mode) {
            return Err(Errno::EINVAL);
        }
        let rs = self.regions.entry(ino).or_default();
        let mine = |rs: &Vec<Region>| rs.iter().any(|r| r.ofd == id);
        let had = mine(rs);
        let want = Region {
            ofd: id,
            start,
            len,
        };
        if mode == 0 {
            // LK_UNLCK: exactly one region this handle locked, or ERROR_NOT_LOCKED (13).
            let Some(i) = rs.iter().position(|r| *r == want) else {
                return Ok((ino, Err(Errno::EACCES)));
            };
            rs.remove(i);
            let hold = if had && !mine(rs) {
                Hold::Released
            } else {
                Hold::Nothing
            };
            return Ok((ino, Ok(hold)));
        }
        // LockFileEx(EXCLUSIVE | FAIL_IMMEDIATELY): regions never overlap, whoever holds them.
        if rs.iter().any(|r| r.overlaps(start, len)) {
            return Ok((ino, Err(Errno::EACCES)));
        }
        rs.push(want);
        Ok((ino, Ok(if had { Hold::Nothing } else { Hold::Acquired })))
    }

    // ---- flock ----------------------------------------------------------------------

    /// The first half of a flock conversion: drop the description's lock of the other
    /// type. Whether it dropped one (then the caller wakes the inode's queue and takes a
    /// scheduling point before [`flock`](Self::flock)).
    pub(crate) fn flock_drop_other(
        &mut self,
        c: Ctx,
        fd: RawFd,
        op: FlockOp,
    ) -> Result<(u64, bool), Errno> {
        let (id, o) = self.ofd_of(c.pid, fd)?;
        let ino = o.ino;
        let want_ex = op == FlockOp::Exclusive;
        if op == FlockOp::Unlock {
            return Ok((ino, false));
        }
        let table = self.flocks.entry(ino).or_default();
        let before = table.len();
        table.retain(|&(o, ex)| !(o == id && ex != want_ex));
        Ok((ino, table.len() != before))
    }

    /// `flock(2)` after any conversion drop.
    pub(crate) fn flock(
        &mut self,
        c: Ctx,
        fd: RawFd,
        op: FlockOp,
        nb: bool,
    ) -> Result<(u64, Attempt), Errno> {
        let (id, o) = self.ofd_of(c.pid, fd)?;
        let ino = o.ino;
        let table = self.flocks.entry(ino).or_default();
        let mine = table.iter().position(|&(o, _)| o == id);
        let want_ex = match op {
            FlockOp::Unlock => {
                let held = mine.map(|i| table.remove(i)).is_some();
                let hold = if held { Hold::Released } else { Hold::Nothing };
                return Ok((ino, Attempt::Done(Ok(()), hold)));
            }
            FlockOp::Exclusive => true,
            FlockOp::Shared => false,
        };
        if let Some(i) = mine {
            if table[i].1 == want_ex {
                return Ok((ino, Attempt::Done(Ok(()), Hold::Nothing)));
            }
            // A conversion whose drop the caller skipped: drop now.
            table.remove(i);
        }
        let conflict = table.iter().any(|&(o, ex)| o != id && (ex || want_ex));
        Ok((
            ino,
            match (conflict, nb) {
                (false, _) => {
                    table.push((id, want_ex));
                    Attempt::Done(Ok(()), Hold::Acquired)
                }
                (true, true) => Attempt::Done(Err(Errno::EAGAIN), Hold::Nothing),
                (true, false) => Attempt::Wait,
            },
        ))
    }

    // ---- record and OFD locks -------------------------------------------------------

    /// Resolve a `struct flock` against the description: `[start, end)`.
    fn resolve(&self, o: &Ofd, l: &RecordLock) -> Result<(u64, u64), Errno> {
        let base = match l.whence {
            Whence::Set => 0,
            Whence::Cur => o.offset as i64,
            Whence::End => self.inode(o.ino).data.len() as i64,
        };
        let s = base.checked_add(l.start).ok_or(Errno::EINVAL)?;
        let (s, e) = match l.len {
            0 => (s, None),
            n if n > 0 => (s, Some(s.checked_add(n).ok_or(Errno::EINVAL)?)),
            n => (s + n, Some(s)),
        };
        if s < 0 {
            return Err(Errno::EINVAL);
        }
        Ok((s as u64, e.map_or(INF, |e| e as u64)))
    }

    fn conflicts(&self, ino: u64, me: Owner, write: bool, start: u64, end: u64) -> Vec<Range> {
        self.ranges
            .get(&ino)
            .map(|rs| {
                rs.iter()
                    .filter(|r| r.owner != me && r.overlaps(start, end) && (r.write || write))
                    .copied()
                    .collect()
            })
            .unwrap_or_default()
    }

    fn owner_present(&self, ino: u64, me: Owner) -> bool {
        self.ranges
            .get(&ino)
            .is_some_and(|rs| rs.iter().any(|r| r.owner == me))
    }

    /// Set `[start, end)` of `me` to `kind` (Unlock: clear), splitting and merging.
    fn apply(&mut self, ino: u64, me: Owner, kind: LockType, start: u64, end: u64) {
        let rs = self.ranges.entry(ino).or_default();
        let mut out = Vec::with_capacity(rs.len() + 2);
        for r in rs.drain(..) {
            if r.owner != me || !r.overlaps(start, end) {
                out.push(r);
                continue;
            }
            if r.start < start {
                out.push(Range { end: start, ..r });
            }
            if r.end > end {
                out.push(Range { start: end, ..r });
            }
        }
        if kind != LockType::Unlock {
            out.push(Range {
                owner: me,
                write: kind == LockType::Write,
                start,
                end,
            });
        }
        // Merge the owner's same-type neighbours.
        out.sort_by_key(|r| r.start);
        let mut merged: Vec<Range> = Vec::with_capacity(out.len());
        for r in out {
            if let Some(prev) = merged
                .iter_mut()
                .rev()
                .find(|p| p.owner == r.owner && p.write == r.write && p.end >= r.start)
            {
                if r.owner == me {
                    prev.end = prev.end.max(r.end);
                    continue;
                }
            }
            merged.push(r);
        }
        *rs = merged;
    }

    /// Whether process `me` waiting on `blockers` closes a cycle of record-lock waits
    /// (Linux follows at most 10 hops).
    fn deadlocks(&self, me: ProcessId, ino: u64, blockers: &[Range]) -> bool {
        let mut frontier: Vec<ProcessId> = blockers
            .iter()
            .filter_map(|r| match r.owner {
                Owner::Pid(p) => Some(p),
                Owner::Ofd(_) => None,
            })
            .collect();
        let _ = ino;
        for _ in 0..10 {
            if frontier.contains(&me) {
                return true;
            }
            let mut next = Vec::new();
            for p in frontier {
                for w in self.waiting.values().filter(|w| w.pid == p) {
                    for r in self.conflicts(w.ino, Owner::Pid(p), w.write, w.start, w.end) {
                        if let Owner::Pid(q) = r.owner {
                            next.push(q);
                        }
                    }
                }
            }
            next.sort_unstable();
            next.dedup();
            if next.is_empty() {
                return false;
            }
            frontier = next;
        }
        false
    }

    /// `fcntl(fd, cmd, lock)` for the lock commands (one attempt).
    pub(crate) fn fcntl_lock(
        &mut self,
        c: Ctx,
        fd: RawFd,
        cmd: LockCmd,
        lock: &mut RecordLock,
    ) -> Result<(u64, Attempt), Errno> {
        let (id, o) = self.ofd_of(c.pid, fd)?;
        let ino = o.ino;
        if cmd.is_ofd() && lock.pid != 0 {
            return Err(Errno::EINVAL);
        }
        let (start, end) = self.resolve(o, lock)?;
        let me = if cmd.is_ofd() {
            Owner::Ofd(id)
        } else {
            Owner::Pid(c.pid)
        };
        if cmd.is_query() {
            if lock.kind == LockType::Unlock {
                return Err(Errno::EINVAL);
            }
            let found = self.conflicts(ino, me, lock.kind == LockType::Write, start, end);
            match found.iter().min_by_key(|r| r.start) {
                None => lock.kind = LockType::Unlock,
                Some(r) => {
                    *lock = RecordLock {
                        kind: if r.write {
                            LockType::Write
                        } else {
                            LockType::Read
                        },
                        whence: Whence::Set,
                        start: r.start as i64,
                        len: if r.end == INF {
                            0
                        } else {
                            (r.end - r.start) as i64
                        },
                        pid: match r.owner {
                            Owner::Pid(p) => p.pid() as i32,
                            Owner::Ofd(_) => -1,
                        },
                    }
                }
            }
            return Ok((ino, Attempt::Done(Ok(()), Hold::Nothing)));
        }
        match lock.kind {
            LockType::Read if !o.flags.readable() => return Err(Errno::EBADF),
            LockType::Write if !o.flags.writable() => return Err(Errno::EBADF),
            _ => {}
        }
        let had = self.owner_present(ino, me);
        if lock.kind == LockType::Unlock {
            self.apply(ino, me, LockType::Unlock, start, end);
            let hold = if had && !self.owner_present(ino, me) {
                Hold::Released
            } else {
                Hold::Nothing
            };
            return Ok((ino, Attempt::Done(Ok(()), hold)));
        }
        let write = lock.kind == LockType::Write;
        let blockers = self.conflicts(ino, me, write, start, end);
        if blockers.is_empty() {
            self.waiting.remove(&c.thread);
            self.apply(ino, me, lock.kind, start, end);
            let hold = if had { Hold::Nothing } else { Hold::Acquired };
            return Ok((ino, Attempt::Done(Ok(()), hold)));
        }
        if !cmd.blocks() {
            return Ok((ino, Attempt::Done(Err(Errno::EAGAIN), Hold::Nothing)));
        }
        if cmd == LockCmd::SetLkW && self.deadlocks(c.pid, ino, &blockers) {
            self.waiting.remove(&c.thread);
            return Ok((ino, Attempt::Done(Err(Errno::EDEADLK), Hold::Nothing)));
        }
        if cmd == LockCmd::SetLkW {
            self.waiting.insert(
                c.thread,
                Waiting {
                    pid: c.pid,
                    ino,
                    write,
                    start,
                    end,
                },
            );
        }
        Ok((ino, Attempt::Wait))
    }

    // ---- names ----------------------------------------------------------------------

    pub(crate) fn stat(&self, path: &std::path::Path, follow: bool) -> Result<FileStat, Errno> {
        let p = norm(path);
        let ino = if follow {
            self.lookup(&p)?
        } else {
            *self.names.get(&p).ok_or(Errno::ENOENT)?
        };
        Ok(self.stat_of(ino))
    }

    pub(crate) fn rename(
        &mut self,
        from: &std::path::Path,
        to: &std::path::Path,
    ) -> Result<u64, Errno> {
        let (from, to) = (norm(from), norm(to));
        let src = *self.names.get(&from).ok_or(Errno::ENOENT)?;
        self.check_parent(&to)?;
        let dir = self.inode(src).kind == FileKind::Dir;
        if dir && to.starts_with(&format!("{from}/")) {
            return Err(Errno::EINVAL);
        }
        if let Some(&dst) = self.names.get(&to) {
            if dst == src {
                return Ok(src);
            }
            let dst_dir = self.inode(dst).kind == FileKind::Dir;
            match (dir, dst_dir) {
                (true, false) => return Err(Errno::ENOTDIR),
                (false, true) => return Err(Errno::EISDIR),
                (true, true) if self.has_children(&to) => return Err(Errno::ENOTEMPTY),
                _ => {}
            }
            self.inode_mut(dst).nlink -= 1;
        }
        self.names.remove(&from);
        self.names.insert(to.clone(), src);
        if dir {
            let prefix = format!("{from}/");
            let moved: Vec<(String, u64)> = self
                .names
                .range(prefix.clone()..)
                .take_while(|(k, _)| k.starts_with(&prefix))
                .map(|(k, &v)| (k.clone(), v))
                .collect();
            for (k, v) in moved {
                self.names.remove(&k);
                self.names.insert(format!("{to}/{}", &k[prefix.len()..]), v);
            }
        }
        Ok(src)
    }

    pub(crate) fn unlink(&mut self, path: &std::path::Path) -> Result<u64, Errno> {
        let p = norm(path);
        let ino = *self.names.get(&p).ok_or(Errno::ENOENT)?;
        if self.inode(ino).kind == FileKind::Dir {
            return Err(Errno::EISDIR);
        }
        self.names.remove(&p);
        self.inode_mut(ino).nlink -= 1;
        Ok(ino)
    }

    pub(crate) fn link(
        &mut self,
        existing: &std::path::Path,
        new: &std::path::Path,
    ) -> Result<u64, Errno> {
        let (e, n) = (norm(existing), norm(new));
        let ino = *self.names.get(&e).ok_or(Errno::ENOENT)?;
        if self.names.contains_key(&n) {
            return Err(Errno::EEXIST);
        }
        if self.inode(ino).kind == FileKind::Dir {
            return Err(EPERM);
        }
        self.check_parent(&n)?;
        self.names.insert(n, ino);
        self.inode_mut(ino).nlink += 1;
        Ok(ino)
    }

    pub(crate) fn make(
        &mut self,
        c: Ctx,
        path: &std::path::Path,
        kind: FileKind,
        target: String,
    ) -> Result<u64, Errno> {
        let p = norm(path);
        if self.names.contains_key(&p) {
            return Err(Errno::EEXIST);
        }
        self.check_parent(&p)?;
        let ino = self.new_inode(kind, c.now, target);
        if kind == FileKind::Dir {
            self.inode_mut(ino).nlink = 2;
        }
        self.names.insert(p, ino);
        Ok(ino)
    }

    /// `listdir`: the names directly under `path`, sorted; the directory's inode if it is in
    /// the map (one that is not is taken to exist, as a parent is).
    pub(crate) fn listdir(
        &self,
        path: &std::path::Path,
    ) -> Result<(Option<u64>, Vec<String>), Errno> {
        let p = norm(path);
        let ino = match self.names.get(&p) {
            Some(&ino) if self.inode(ino).kind != FileKind::Dir => return Err(Errno::ENOTDIR),
            found => found.copied(),
        };
        let prefix = if p == "/" { p.clone() } else { format!("{p}/") };
        let names = self
            .names
            .range(prefix.clone()..)
            .take_while(|(k, _)| k.starts_with(&prefix))
            .map(|(k, _)| &k[prefix.len()..])
            .filter(|rest| !rest.is_empty() && !rest.contains('/'))
            .map(str::to_owned)
            .collect();
        Ok((ino, names))
    }

    pub(crate) fn rmdir(&mut self, path: &std::path::Path) -> Result<u64, Errno> {
        let p = norm(path);
        let ino = *self.names.get(&p).ok_or(Errno::ENOENT)?;
        if self.inode(ino).kind != FileKind::Dir {
            return Err(Errno::ENOTDIR);
        }
        if self.has_children(&p) {
            return Err(Errno::ENOTEMPTY);
        }
        self.names.remove(&p);
        self.inode_mut(ino).nlink = 0;
        Ok(ino)
    }

    pub(crate) fn utime_now(&mut self, c: Ctx, path: &std::path::Path) -> Result<u64, Errno> {
        let ino = self.lookup(&norm(path))?;
        let m = self.stamp(c.now);
        self.inode_mut(ino).mtime = m;
        Ok(ino)
    }
}

impl World {
    /// Run `f` on the file system as the calling thread, in one step under the world's lock.
    pub(crate) fn fs<R>(&self, f: impl FnOnce(&mut Files, Ctx) -> R) -> R {
        let mut st = self.lock();
        let thread = self.me(&st);
        let c = Ctx {
            pid: st.threads[thread].process,
            thread,
            now: st.clock.now,
        };
        f(&mut st.files, c)
    }

    /// Whether a process with this pid was ever started and has not crashed.
    pub(crate) fn pid_alive(&self, pid: u32) -> bool {
        let st = self.lock();
        let Some(index) = (pid as usize).checked_sub(1) else {
            return false;
        };
        let p = ProcessId::from_index(index);
        st.threads.iter().any(|(_, t)| t.process == p) && !st.processes.get(p).crashed
    }

    /// Wake every thread waiting for a lock on `ino` (each re-checks its request).
    pub(crate) fn wake_file(&self, ino: u64) {
        let mut st = self.lock();
        if st.failure.is_some() {
            return;
        }
        let woken = wake_inode(&mut st, ino);
        self.wake_later(st, woken);
    }

    /// The exit and crash hook: `process`'s descriptors close as at `exit` or `SIGKILL`
    /// (kernel locks drop by the rules of FILELOCKS.md §5.3; names and written bytes stay);
    /// the waiters of every inode it touched are woken.
    pub(super) fn close_process_files(&self, st: &mut State, process: ProcessId) -> Vec<ThreadId> {
        let inodes = st.files.close_all(process);
        let members: Vec<ThreadId> = st
            .threads
            .iter()
            .filter(|(_, t)| t.process == process)
            .map(|(i, _)| i)
            .collect();
        let mut woken = Vec::new();
        for ino in inodes {
            let obj = st.objects.shared("file", ino as usize);
            for &t in &members {
                st.holders.apply(obj, t, Hold::ReleasedAll);
            }
            woken.extend(wake_inode(st, ino));
        }
        woken
    }
}

fn wake_inode(st: &mut State, ino: u64) -> Vec<ThreadId> {
    let woken: Vec<ThreadId> = st.queues.take(QueueKey::File(ino)).into();
    for &t in &woken {
        st.threads[t].resume(Wake::Unparked);
    }
    woken
}

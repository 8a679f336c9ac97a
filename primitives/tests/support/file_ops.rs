//! FILELOCKS.md §7's Linux conformance checks as data: each check is a sequence of
//! [`Step`]s (an actor — a process — makes one [`Call`]; the result must match an
//! [`Expect`]). `conformance_file.rs` replays every table on real files with one real
//! process per actor; the differential test replays the same tables on the simulated file
//! system, through [`exec`], which is generic over the [`FileBackend`].
//!
//! Conventions: actors are `"P1"`, `"P2"`, `"P3"` (independent processes) and `"C"` (a
//! fork child of the actor that forks it); paths are relative to the test's temporary
//! directory; a slot (`"a"`, `"b"`…) names one descriptor of one actor (a fork child
//! inherits its parent's slots). Calls marked "runner" are carried out by the runner (a
//! signal, a fork, an exec, waiting for a pending result), not by [`exec`].
#![allow(dead_code)] // each test file uses a different subset

use lockproof::backend::file::{FileBackend, OpenFlags, Whence};
use lockproof::file::fcntl::{self, Flock};
use lockproof::file::{os, Fd, File, FileNo};
use std::collections::HashMap;
use std::fmt;
use std::path::Path;

pub use lockproof::file::fcntl::{
    F_GETLK, F_OFD_GETLK, F_OFD_SETLK, F_OFD_SETLKW, F_RDLCK, F_SETLK, F_SETLKW, F_UNLCK, F_WRLCK,
    LOCK_EX, LOCK_NB, LOCK_SH, LOCK_UN, SEEK_CUR, SEEK_END, SEEK_SET,
};

/// `O_RDWR | O_CREAT`: the usual way a check opens its file.
pub const RW_CREAT: OpenFlags = OpenFlags::from_bits(0o102);
/// `O_RDWR`.
pub const RDWR: OpenFlags = OpenFlags::RDWR;
/// `O_RDONLY`.
pub const RDONLY: OpenFlags = OpenFlags::RDONLY;
/// `O_WRONLY`.
pub const WRONLY: OpenFlags = OpenFlags::WRONLY;

/// One operation of one actor.
#[derive(Clone, Debug)]
pub enum Call {
    /// `os.open(path, flags, 0o644)` into `slot`.
    Open {
        slot: &'static str,
        path: &'static str,
        flags: OpenFlags,
    },
    /// Python's `open(path, mode)` into `slot` (a buffered file object).
    PyOpen {
        slot: &'static str,
        path: &'static str,
        mode: &'static str,
    },
    /// `os.close` / `f.close()`.
    Close { slot: &'static str },
    /// `os.dup(from)` into `slot`.
    Dup {
        slot: &'static str,
        from: &'static str,
    },
    /// `fcntl.flock(slot, op)`.
    Flock { slot: &'static str, op: i32 },
    /// `fcntl.lockf(slot, cmd, len, start, whence)`.
    Lockf {
        slot: &'static str,
        cmd: i32,
        len: i64,
        start: i64,
        whence: i32,
    },
    /// `fcntl.fcntl(slot, cmd, struct flock)`; a query answers [`Res::Lock`].
    Fcntl {
        slot: &'static str,
        cmd: i32,
        lock: Flock,
    },
    /// C's `lockf(fd, cmd, len)` as glibc implements it on `fcntl` (`F_ULOCK` 0,
    /// `F_LOCK` 1, `F_TLOCK` 2, `F_TEST` 3): a write lock from the offset.
    CLockf {
        slot: &'static str,
        cmd: i32,
        len: i64,
    },
    /// `os.write(slot, data)`.
    Write {
        slot: &'static str,
        data: &'static [u8],
    },
    /// `os.write(slot, b'x' * n)`.
    WriteN { slot: &'static str, n: usize },
    /// `os.pwrite(slot, data, offset)`.
    Pwrite {
        slot: &'static str,
        data: &'static [u8],
        offset: u64,
    },
    /// `os.read(slot, n)` / `f.read(n)`.
    Read { slot: &'static str, n: usize },
    /// `os.pread(slot, n, offset)`.
    Pread {
        slot: &'static str,
        n: usize,
        offset: u64,
    },
    /// `os.lseek(slot, offset, whence)` / `f.seek(offset, whence)`: the new offset.
    Seek {
        slot: &'static str,
        offset: i64,
        whence: i32,
    },
    /// `os.lseek(fd, 0, SEEK_CUR)` of the descriptor under `slot` (for a file object: its
    /// descriptor's offset, not `tell()`).
    FdOffset { slot: &'static str },
    /// `os.ftruncate(slot, len)`.
    Truncate { slot: &'static str, len: u64 },
    /// `fcntl(slot, F_SETFL, F_GETFL | O_APPEND)`.
    SetAppend { slot: &'static str },
    /// `fcntl(slot, F_SETFL, O_RDONLY)` (access bits are ignored: nothing changes).
    SetFlRdonly { slot: &'static str },
    /// `fcntl(slot, F_GETFL)`: answers `Int(1)` if `O_APPEND` is set, else `Int(0)`, and
    /// `+ 10 *` the access mode.
    GetFl { slot: &'static str },
    /// `os.set_inheritable(slot, True)`.
    SetInheritable { slot: &'static str },
    /// `os.stat(path).st_size`.
    Size { path: &'static str },
    /// `os.stat(path).st_mtime_ns`.
    Mtime { path: &'static str },
    /// `os.fstat(slot)` is `os.stat(path)` (same `st_dev`, `st_ino`).
    SameFile {
        slot: &'static str,
        path: &'static str,
    },
    /// The whole file's bytes (open, read to the end, close — in a fresh descriptor, so
    /// only for actors holding no record locks on it).
    Contents { path: &'static str },
    /// `os.unlink(path)`.
    Unlink { path: &'static str },
    /// `os.rename(from, to)`.
    Rename {
        from: &'static str,
        to: &'static str,
    },
    /// `os.link(from, to)`.
    Link {
        from: &'static str,
        to: &'static str,
    },
    /// `os.symlink(target, path)`.
    Symlink {
        target: &'static str,
        path: &'static str,
    },
    /// `os.mkdir(path)`.
    Mkdir { path: &'static str },
    /// `os.utime(path)`.
    Utime { path: &'static str },
    /// Count the intact 100-byte lines (`tag` + `'x'`s + `'\n'`) in `path`.
    IntactLines { path: &'static str },
    /// `n` `os.write`s of 100-byte lines (`tag` first) through `slot`: appended with
    /// `O_APPEND`, or each after `lseek(END)` when `seek_end`.
    AppendLines {
        slot: &'static str,
        n: usize,
        tag: u8,
        seek_end: bool,
    },
    /// Run `calls` in a new thread of the actor (its slots shared); the last result.
    Thread(Vec<Call>),
    /// runner: `fork()`; the child becomes actor `child`, with the parent's slots.
    /// Answers the child's pid.
    Fork { child: &'static str },
    /// runner: the actor execs itself (pid kept; close-on-exec descriptors closed; the
    /// new image starts with no slots).
    Exec,
    /// runner: the actor exits (`_exit(0)`), closing everything.
    Exit,
    /// runner: `SIGKILL`, then wait until the actor is dead.
    Kill,
    /// runner: `SIGSTOP` / `SIGCONT`.
    Stop,
    /// runner: `SIGCONT`.
    Cont,
    /// runner: `SIGUSR1` (the actor has a handler that returns) while it is blocked.
    Interrupt,
    /// runner: the result of the actor's pending call (one expected [`Expect::Blocks`] or
    /// [`Expect::Pending`]).
    Await,
}

/// A result, as an actor reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Res {
    /// Done, no value.
    Ok,
    /// `OSError` with this errno.
    Err(i32),
    /// A Python exception that is not an `OSError` (`ValueError`).
    Py(String),
    /// An integer.
    Int(i64),
    /// A boolean.
    Bool(bool),
    /// Bytes.
    Bytes(Vec<u8>),
    /// An `F_GETLK` answer: type, start, len, pid.
    Lock(i16, i64, i64, i32),
}

impl fmt::Display for Res {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Res::Ok => write!(f, "ok"),
            Res::Err(e) => write!(f, "err {e}"),
            Res::Py(c) => write!(f, "py {c}"),
            Res::Int(i) => write!(f, "int {i}"),
            Res::Bool(b) => write!(f, "bool {b}"),
            Res::Bytes(b) => {
                write!(f, "bytes ")?;
                for x in b {
                    write!(f, "{x:02x}")?;
                }
                Ok(())
            }
            Res::Lock(t, s, l, p) => write!(f, "lock {t} {s} {l} {p}"),
        }
    }
}

impl Res {
    /// Parse [`Res`]'s `Display` form (one line of an actor's answer).
    pub fn parse(line: &str) -> Res {
        let mut it = line.split(' ');
        let kind = it.next().unwrap_or("");
        let mut next = || it.next().unwrap_or("").to_owned();
        match kind {
            "ok" => Res::Ok,
            "err" => Res::Err(next().parse().unwrap()),
            "py" => Res::Py(next()),
            "int" => Res::Int(next().parse().unwrap()),
            "bool" => Res::Bool(next() == "true"),
            "bytes" => {
                let h = next();
                Res::Bytes(
                    (0..h.len() / 2)
                        .map(|i| u8::from_str_radix(&h[2 * i..2 * i + 2], 16).unwrap())
                        .collect(),
                )
            }
            "lock" => Res::Lock(
                next().parse().unwrap(),
                next().parse().unwrap(),
                next().parse().unwrap(),
                next().parse().unwrap(),
            ),
            other => panic!("unparsable answer {other:?} in {line:?}"),
        }
    }
}

/// Whose pid an `F_GETLK` answer names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Who {
    /// An actor's pid.
    Actor(&'static str),
    /// −1: an OFD lock.
    Ofd,
    /// 0: no conflict (the request passed back unchanged).
    Nobody,
}

/// What a step must give.
#[derive(Clone, Debug, PartialEq)]
pub enum Expect {
    /// `Res::Ok` (or any non-error value for calls that return one).
    Ok,
    /// This errno.
    Err(i32),
    /// This non-OS Python exception class.
    Py(&'static str),
    /// This integer.
    Int(i64),
    /// This boolean.
    Bool(bool),
    /// These bytes.
    Bytes(Vec<u8>),
    /// An `F_GETLK` answer.
    Lock(i16, i64, i64, Who),
    /// The same value as the result of step `n` (0-based).
    SameAs(usize),
    /// A different value than the result of step `n`.
    DiffersFrom(usize),
    /// The call blocks: the actor waits in the kernel (its result comes with `Await`).
    Blocks,
    /// Sent without waiting for the result (another actor runs meanwhile; `Await` it).
    Pending,
    /// Anything that is not an error.
    Any,
}

/// One step of a check.
#[derive(Clone, Debug)]
pub struct Step {
    /// Who makes the call.
    pub actor: &'static str,
    /// The call.
    pub call: Call,
    /// What it must give.
    pub expect: Expect,
}

/// A step.
pub fn st(actor: &'static str, call: Call, expect: Expect) -> Step {
    Step {
        actor,
        call,
        expect,
    }
}

/// A record-lock request `Flock(type, SEEK_SET, start, len)`.
pub fn fl(l_type: i16, start: i64, len: i64) -> Flock {
    Flock::new(l_type, SEEK_SET, start, len)
}

/// `Expect::Lock` of an actor.
pub fn held(l_type: i16, start: i64, len: i64, who: &'static str) -> Expect {
    Expect::Lock(l_type, start, len, Who::Actor(who))
}

/// Whether `got` meets `want`; `pid` maps an actor to its pid; `earlier` are the results
/// of the steps before.
pub fn matches(
    want: &Expect,
    got: &Res,
    pid: &dyn Fn(&str) -> i32,
    earlier: &[Option<Res>],
) -> bool {
    match (want, got) {
        (Expect::Ok | Expect::Any, Res::Err(_) | Res::Py(_)) => false,
        (Expect::Ok | Expect::Any, _) => true,
        (Expect::Err(e), Res::Err(g)) => e == g,
        (Expect::Py(c), Res::Py(g)) => c == g,
        (Expect::Int(i), Res::Int(g)) => i == g,
        (Expect::Bool(b), Res::Bool(g)) => b == g,
        (Expect::Bytes(b), Res::Bytes(g)) => b == g,
        (Expect::Lock(t, s, l, who), Res::Lock(gt, gs, gl, gp)) => {
            let p = match who {
                Who::Actor(a) => pid(a),
                Who::Ofd => -1,
                Who::Nobody => 0,
            };
            (t, s, l, &p) == (gt, gs, gl, gp)
        }
        (Expect::SameAs(n), g) => earlier[*n].as_ref() == Some(g),
        (Expect::DiffersFrom(n), g) => !matches!(g, Res::Err(_)) && earlier[*n].as_ref() != Some(g),
        _ => false,
    }
}

/// A descriptor of an actor: an `os.open` one or a Python file object.
#[derive(Debug)]
pub enum Slot<B: FileBackend> {
    /// `os.open`.
    Fd(Fd<B>),
    /// `open()`.
    File(File<B>),
}

impl<B: FileBackend> Slot<B> {
    fn fd(&self) -> &Fd<B> {
        match self {
            Slot::Fd(fd) => fd,
            Slot::File(f) => f.raw(),
        }
    }
}

impl<B: FileBackend> FileNo for Slot<B> {
    type Backend = B;
    fn fileno(&self) -> i32 {
        self.fd().raw()
    }
}

/// An actor's descriptors by slot name.
pub type Slots<B> = HashMap<&'static str, Slot<B>>;

fn res<T>(r: lockproof::Result<T>, ok: impl FnOnce(T) -> Res) -> Res {
    match r {
        Ok(v) => ok(v),
        Err(e) => match e.errno() {
            Some(n) => Res::Err(n),
            None => Res::Py(e.exception().to_string()),
        },
    }
}

fn line(tag: u8) -> Vec<u8> {
    let mut l = vec![b'x'; 100];
    l[0] = tag;
    l[99] = b'\n';
    l
}

/// Carry out `call` in this actor (any backend); `None` for the runner's calls.
pub fn exec<B: FileBackend>(slots: &mut Slots<B>, dir: &Path, call: &Call) -> Option<Res> {
    let p = |path: &str| dir.join(path);
    Some(match call {
        Call::Open { slot, path, flags } => res(Fd::<B>::open(p(path), *flags, 0o644), |fd| {
            slots.insert(slot, Slot::Fd(fd));
            Res::Ok
        }),
        Call::PyOpen { slot, path, mode } => res(File::<B>::open(p(path), mode), |f| {
            slots.insert(slot, Slot::File(f));
            Res::Ok
        }),
        Call::Close { slot } => match slots.remove(slot).expect("no such slot") {
            Slot::Fd(fd) => res(fd.close(), |()| Res::Ok),
            Slot::File(f) => res(f.close(), |()| Res::Ok),
        },
        Call::Dup { slot, from } => {
            let d = slots[from].fd().dup();
            res(d, |fd| {
                slots.insert(slot, Slot::Fd(fd));
                Res::Ok
            })
        }
        Call::Flock { slot, op } => res(fcntl::flock(&slots[slot], *op), |()| Res::Ok),
        Call::Lockf {
            slot,
            cmd,
            len,
            start,
            whence,
        } => res(
            fcntl::lockf(&slots[slot], *cmd, *len, *start, *whence),
            |()| Res::Ok,
        ),
        Call::Fcntl { slot, cmd, lock } => res(fcntl::fcntl_lock(&slots[slot], *cmd, *lock), |l| {
            if *cmd == F_GETLK || *cmd == F_OFD_GETLK {
                Res::Lock(l.l_type, l.l_start, l.l_len, l.l_pid)
            } else {
                Res::Ok
            }
        }),
        Call::CLockf { slot, cmd, len } => c_lockf(&slots[slot], *cmd, *len),
        Call::Write { slot, data } => write(slots, slot, data),
        Call::WriteN { slot, n } => write(slots, slot, &vec![b'x'; *n]),
        Call::Pwrite { slot, data, offset } => res(slots[slot].fd().pwrite(data, *offset), |n| {
            Res::Int(n as i64)
        }),
        Call::Read { slot, n } => match slots.get_mut(slot).expect("no such slot") {
            Slot::Fd(fd) => res(fd.read(*n), Res::Bytes),
            Slot::File(f) => res(f.read(Some(*n)), Res::Bytes),
        },
        Call::Pread { slot, n, offset } => res(slots[slot].fd().pread(*n, *offset), Res::Bytes),
        Call::Seek {
            slot,
            offset,
            whence,
        } => match slots.get_mut(slot).expect("no such slot") {
            Slot::Fd(fd) => res(
                fd.lseek(*offset, Whence::from_raw((*whence).into()).unwrap()),
                |o| Res::Int(o as i64),
            ),
            Slot::File(f) => res(f.seek(*offset, *whence), |o| Res::Int(o as i64)),
        },
        Call::FdOffset { slot } => res(slots[slot].fd().lseek(0, Whence::Cur), |o| {
            Res::Int(o as i64)
        }),
        Call::Truncate { slot, len } => res(slots[slot].fd().ftruncate(*len), |()| Res::Ok),
        Call::SetAppend { slot } => {
            let fd = slots[slot].fd();
            res(
                fd.get_fl().and_then(|f| fd.set_fl(f | OpenFlags::APPEND)),
                |()| Res::Ok,
            )
        }
        Call::SetFlRdonly { slot } => res(slots[slot].fd().set_fl(OpenFlags::RDONLY), |()| Res::Ok),
        Call::GetFl { slot } => res(slots[slot].fd().get_fl(), |f| {
            Res::Int(i64::from(f.contains(OpenFlags::APPEND)) + 10 * i64::from(f.access().bits()))
        }),
        Call::SetInheritable { slot } => res(slots[slot].fd().set_inheritable(true), |()| Res::Ok),
        Call::Size { path } => res(os::stat::<B>(p(path)), |s| Res::Int(s.size as i64)),
        Call::Mtime { path } => res(os::stat::<B>(p(path)), |s| Res::Int(s.mtime_ns)),
        Call::SameFile { slot, path } => {
            let a = slots[slot].fd().fstat();
            res(
                a.and_then(|a| os::stat::<B>(p(path)).map(|b| a.same_file(&b))),
                Res::Bool,
            )
        }
        Call::Contents { path } => res(contents::<B>(&p(path)), Res::Bytes),
        Call::Unlink { path } => res(os::unlink::<B>(p(path)), |()| Res::Ok),
        Call::Rename { from, to } => res(os::rename::<B>(p(from), p(to)), |()| Res::Ok),
        Call::Link { from, to } => res(os::link::<B>(p(from), p(to)), |()| Res::Ok),
        Call::Symlink { target, path } => res(os::symlink::<B>(p(target), p(path)), |()| Res::Ok),
        Call::Mkdir { path } => res(os::mkdir::<B>(p(path), 0o755), |()| Res::Ok),
        Call::Utime { path } => res(os::utime::<B>(p(path)), |()| Res::Ok),
        Call::IntactLines { path } => res(contents::<B>(&p(path)), |body| {
            Res::Int(
                body.chunks(100)
                    .filter(|c| {
                        c.len() == 100 && c[99] == b'\n' && c[1..99].iter().all(|&x| x == b'x')
                    })
                    .count() as i64,
            )
        }),
        Call::AppendLines {
            slot,
            n,
            tag,
            seek_end,
        } => {
            let fd = slots[slot].fd();
            let l = line(*tag);
            for _ in 0..*n {
                if *seek_end {
                    if let Err(e) = fd.lseek(0, Whence::End) {
                        return Some(res::<()>(Err(e), |()| Res::Ok));
                    }
                }
                if let Err(e) = fd.write(&l) {
                    return Some(res::<()>(Err(e), |()| Res::Ok));
                }
            }
            Res::Ok
        }
        Call::Thread(_)
        | Call::Fork { .. }
        | Call::Exec
        | Call::Exit
        | Call::Kill
        | Call::Stop
        | Call::Cont
        | Call::Interrupt
        | Call::Await => return None,
    })
}

fn write<B: FileBackend>(slots: &mut Slots<B>, slot: &str, data: &[u8]) -> Res {
    match slots.get_mut(slot).expect("no such slot") {
        Slot::Fd(fd) => res(fd.write(data), |n| Res::Int(n as i64)),
        Slot::File(f) => res(f.write(data), |n| Res::Int(n as i64)),
    }
}

fn contents<B: FileBackend>(path: &Path) -> lockproof::Result<Vec<u8>> {
    let fd = Fd::<B>::open(path, OpenFlags::RDONLY, 0)?;
    let mut out = Vec::new();
    loop {
        let chunk = fd.read(1 << 16)?;
        if chunk.is_empty() {
            break;
        }
        out.extend(chunk);
    }
    fd.close()?;
    Ok(out)
}

/// glibc's `lockf(fd, cmd, len)`: a write lock (or test) of `len` bytes from the offset.
fn c_lockf<B: FileBackend>(slot: &Slot<B>, cmd: i32, len: i64) -> Res {
    let lock = Flock::new(if cmd == 0 { F_UNLCK } else { F_WRLCK }, SEEK_CUR, 0, len);
    match cmd {
        0 | 2 => res(fcntl::fcntl_lock(slot, F_SETLK, lock), |_| Res::Ok),
        1 => res(fcntl::fcntl_lock(slot, F_SETLKW, lock), |_| Res::Ok),
        3 => match fcntl::fcntl_lock(slot, F_GETLK, lock) {
            Ok(l) if l.l_type == F_UNLCK || l.l_pid == B::getpid() as i32 => Res::Ok,
            Ok(_) => Res::Err(13),
            Err(e) => Res::Err(e.errno().unwrap_or(0)),
        },
        _ => Res::Err(22),
    }
}

// ---- the tables: FILELOCKS.md §7, one function per check --------------------------------

use Call::*;
use Expect::{Blocks, Err as Fails, Ok as Done};

const EAGAIN: i32 = 11;
const EBADF: i32 = 9;
const EINVAL: i32 = 22;
const EDEADLK: i32 = 35;
const EEXIST: i32 = 17;
const ENOENT: i32 = 2;
const EACCES: i32 = 13;
const ENOTEMPTY: i32 = 39;
const EISDIR: i32 = 21;

fn open(actor: &'static str, slot: &'static str, path: &'static str, flags: OpenFlags) -> Step {
    st(actor, Open { slot, path, flags }, Done)
}
fn flock(actor: &'static str, slot: &'static str, op: i32, expect: Expect) -> Step {
    st(actor, Call::Flock { slot, op }, expect)
}
fn setlk(
    actor: &'static str,
    slot: &'static str,
    l_type: i16,
    start: i64,
    len: i64,
    expect: Expect,
) -> Step {
    st(
        actor,
        Fcntl {
            slot,
            cmd: F_SETLK,
            lock: fl(l_type, start, len),
        },
        expect,
    )
}
fn cmd(
    actor: &'static str,
    slot: &'static str,
    cmd: i32,
    l_type: i16,
    start: i64,
    len: i64,
    expect: Expect,
) -> Step {
    st(
        actor,
        Fcntl {
            slot,
            cmd,
            lock: fl(l_type, start, len),
        },
        expect,
    )
}
fn getlk(
    actor: &'static str,
    slot: &'static str,
    l_type: i16,
    start: i64,
    len: i64,
    expect: Expect,
) -> Step {
    cmd(actor, slot, F_GETLK, l_type, start, len, expect)
}
fn runner(actor: &'static str, call: Call) -> Step {
    st(actor, call, Done)
}

/// Check 1: P1 flock EX; P2 EX NB → EAGAIN; P2 SH NB → EAGAIN.
pub fn c01() -> Vec<Step> {
    vec![
        open("P1", "a", "f", RW_CREAT),
        flock("P1", "a", LOCK_EX, Done),
        open("P2", "b", "f", RDWR),
        flock("P2", "b", LOCK_EX | LOCK_NB, Fails(EAGAIN)),
        flock("P2", "b", LOCK_SH | LOCK_NB, Fails(EAGAIN)),
    ]
}

fn c02(end: Call) -> Vec<Step> {
    vec![
        open("P1", "a", "f", RW_CREAT),
        flock("P1", "a", LOCK_EX, Done),
        setlk("P1", "a", F_WRLCK, 0, 0, Done),
        open("P2", "b", "f", RDWR),
        flock("P2", "b", LOCK_EX | LOCK_NB, Fails(EAGAIN)),
        setlk("P2", "b", F_WRLCK, 0, 0, Fails(EAGAIN)),
        runner("P1", end),
        flock("P2", "b", LOCK_EX | LOCK_NB, Done),
        setlk("P2", "b", F_WRLCK, 0, 0, Done),
    ]
}
/// Check 2a: P1 holds flock EX and a record WR lock and closes its only descriptor → P2 gets both.
pub fn c02_close() -> Vec<Step> {
    let mut s = c02(Exit);
    s[6] = st("P1", Close { slot: "a" }, Done);
    s
}
/// Check 2b: The same, P1 SIGKILLed.
pub fn c02_kill() -> Vec<Step> {
    c02(Kill)
}

/// Check 3: P1 flock EX on a; dup(a) = b; close b; P2 EX NB → EAGAIN.
pub fn c03() -> Vec<Step> {
    vec![
        open("P1", "a", "f", RW_CREAT),
        flock("P1", "a", LOCK_EX, Done),
        st(
            "P1",
            Dup {
                slot: "b",
                from: "a",
            },
            Done,
        ),
        st("P1", Close { slot: "b" }, Done),
        open("P2", "c", "f", RDWR),
        flock("P2", "c", LOCK_EX | LOCK_NB, Fails(EAGAIN)),
    ]
}

/// Check 4a: P1 flock EX, forks C; P1 closes → P2 EX NB EAGAIN until C exits.
pub fn c04a() -> Vec<Step> {
    vec![
        open("P1", "a", "f", RW_CREAT),
        flock("P1", "a", LOCK_EX, Done),
        runner("P1", Fork { child: "C" }),
        st("P1", Close { slot: "a" }, Done),
        open("P2", "b", "f", RDWR),
        flock("P2", "b", LOCK_EX | LOCK_NB, Fails(EAGAIN)),
        runner("C", Exit),
        flock("P2", "b", LOCK_EX | LOCK_NB, Done),
    ]
}
/// Check 4b: C does LOCK_UN on the inherited fd → P2 EX NB granted.
pub fn c04b() -> Vec<Step> {
    vec![
        open("P1", "a", "f", RW_CREAT),
        flock("P1", "a", LOCK_EX, Done),
        runner("P1", Fork { child: "C" }),
        flock("C", "a", LOCK_UN, Done),
        open("P2", "b", "f", RDWR),
        flock("P2", "b", LOCK_EX | LOCK_NB, Done),
    ]
}

/// Check 5: one process, two open()s: EX on the first, EX NB on the second → EAGAIN; EX NB
/// again through the first → success.
pub fn c05() -> Vec<Step> {
    vec![
        open("P1", "a", "f", RW_CREAT),
        open("P1", "b", "f", RDWR),
        flock("P1", "a", LOCK_EX, Done),
        flock("P1", "b", LOCK_EX | LOCK_NB, Fails(EAGAIN)),
        flock("P1", "a", LOCK_EX | LOCK_NB, Done),
    ]
}

/// Check 6: flock EX NB on an O_RDONLY descriptor and on a directory descriptor → granted.
pub fn c06() -> Vec<Step> {
    vec![
        open("P1", "w", "f", RW_CREAT),
        open("P1", "r", "f", RDONLY),
        flock("P1", "r", LOCK_EX | LOCK_NB, Done),
        st("P1", Mkdir { path: "d" }, Done),
        open("P1", "d", "d", RDONLY),
        flock("P1", "d", LOCK_EX | LOCK_NB, Done),
    ]
}

/// Check 7: P1 flock EX; P2 record WR whole file NB → granted.
pub fn c07() -> Vec<Step> {
    vec![
        open("P1", "a", "f", RW_CREAT),
        flock("P1", "a", LOCK_EX, Done),
        open("P2", "b", "f", RDWR),
        setlk("P2", "b", F_WRLCK, 0, 0, Done),
    ]
}

/// Check 8: P1, P2 hold SH; P2 EX NB → EAGAIN; P1 unlocks; P3 EX NB → granted.
pub fn c08() -> Vec<Step> {
    vec![
        open("P1", "a", "f", RW_CREAT),
        flock("P1", "a", LOCK_SH, Done),
        open("P2", "b", "f", RDWR),
        flock("P2", "b", LOCK_SH, Done),
        flock("P2", "b", LOCK_EX | LOCK_NB, Fails(EAGAIN)),
        flock("P1", "a", LOCK_UN, Done),
        open("P3", "c", "f", RDWR),
        flock("P3", "c", LOCK_EX | LOCK_NB, Done),
    ]
}

/// Check 9: P1 sole SH; EX NB → granted; back to SH; P2 SH NB → granted.
pub fn c09() -> Vec<Step> {
    vec![
        open("P1", "a", "f", RW_CREAT),
        flock("P1", "a", LOCK_SH, Done),
        flock("P1", "a", LOCK_EX | LOCK_NB, Done),
        flock("P1", "a", LOCK_SH, Done),
        open("P2", "b", "f", RDWR),
        flock("P2", "b", LOCK_SH | LOCK_NB, Done),
    ]
}

/// Check 10: P1 and P2 hold SH, both request EX blocking → no deadlock: each gets EX in
/// turn and unlocks. Which one wins is not fixed (FILELOCKS.md §1.2: a conversion drops the
/// SH first, and the sleeper it wakes and the converting requester race), so each actor's
/// `EX; UN` is sent without waiting and both must complete. [`c10_linux_order`] is the
/// order this machine showed.
pub fn c10() -> Vec<Step> {
    let upgrade = |slot| {
        Thread(vec![
            Call::Flock { slot, op: LOCK_EX },
            Call::Flock { slot, op: LOCK_UN },
        ])
    };
    vec![
        open("P1", "a", "f", RW_CREAT),
        flock("P1", "a", LOCK_SH, Done),
        open("P2", "b", "f", RDWR),
        flock("P2", "b", LOCK_SH, Done),
        st("P1", upgrade("a"), Expect::Pending),
        st("P2", upgrade("b"), Expect::Pending),
        st("P1", Await, Done),
        st("P2", Await, Done),
    ]
}

/// Check 10, the order observed on Linux: the second requester is granted at once (its own
/// SH is dropped first and P1 holds nothing while it waits), the first after the second
/// unlocks. One of the outcomes Linux allows: real files only (the simulation explores the
/// other order too, where the runner would wait on P2 while P1 holds EX).
pub fn c10_linux_order() -> Vec<Step> {
    vec![
        open("P1", "a", "f", RW_CREAT),
        flock("P1", "a", LOCK_SH, Done),
        open("P2", "b", "f", RDWR),
        flock("P2", "b", LOCK_SH, Done),
        flock("P1", "a", LOCK_EX, Blocks),
        flock("P2", "b", LOCK_EX, Done),
        flock("P2", "b", LOCK_UN, Done),
        st("P1", Await, Done),
    ]
}

/// Check 11: P1 holds SH, P2 blocked requesting EX; P3 SH NB → granted.
pub fn c11() -> Vec<Step> {
    vec![
        open("P1", "a", "f", RW_CREAT),
        flock("P1", "a", LOCK_SH, Done),
        open("P2", "b", "f", RDWR),
        flock("P2", "b", LOCK_EX, Blocks),
        open("P3", "c", "f", RDWR),
        flock("P3", "c", LOCK_SH | LOCK_NB, Done),
        flock("P1", "a", LOCK_UN, Done),
        flock("P3", "c", LOCK_UN, Done),
        st("P2", Await, Done),
    ]
}

/// Check 12: LOCK_UN with no lock → success; 0 or LOCK_SH|LOCK_EX → EINVAL.
pub fn c12() -> Vec<Step> {
    vec![
        open("P1", "a", "f", RW_CREAT),
        flock("P1", "a", LOCK_UN, Done),
        flock("P1", "a", 0, Fails(EINVAL)),
        flock("P1", "a", LOCK_SH | LOCK_EX, Fails(EINVAL)),
    ]
}

/// Check 13: P1 flock EX, then SIGSTOP; P2 EX NB → EAGAIN.
pub fn c13() -> Vec<Step> {
    vec![
        open("P1", "a", "f", RW_CREAT),
        flock("P1", "a", LOCK_EX, Done),
        runner("P1", Stop),
        open("P2", "b", "f", RDWR),
        flock("P2", "b", LOCK_EX | LOCK_NB, Fails(EAGAIN)),
        runner("P1", Cont),
    ]
}

/// Check 14: P1 WR whole file; P2 F_SETLK WR → EAGAIN; P2 lockf(LOCK_EX|LOCK_NB) → errno 11.
pub fn c14() -> Vec<Step> {
    vec![
        open("P1", "a", "f", RW_CREAT),
        setlk("P1", "a", F_WRLCK, 0, 0, Done),
        open("P2", "b", "f", RDWR),
        setlk("P2", "b", F_WRLCK, 0, 0, Fails(EAGAIN)),
        st(
            "P2",
            Lockf {
                slot: "b",
                cmd: LOCK_EX | LOCK_NB,
                len: 0,
                start: 0,
                whence: 0,
            },
            Fails(EAGAIN),
        ),
    ]
}

/// Check 15: F_GETLK: a conflicting lock is reported with its range and owner; a free range
/// comes back as F_UNLCK with the request unchanged.
pub fn c15() -> Vec<Step> {
    vec![
        open("P1", "a", "f", RW_CREAT),
        setlk("P1", "a", F_WRLCK, 0, 0, Done),
        open("P2", "b", "f", RDWR),
        getlk("P2", "b", F_WRLCK, 10, 5, held(F_WRLCK, 0, 0, "P1")),
        setlk("P1", "a", F_UNLCK, 0, 0, Done),
        getlk(
            "P2",
            "b",
            F_WRLCK,
            10,
            5,
            Expect::Lock(F_UNLCK, 10, 5, Who::Nobody),
        ),
    ]
}

fn c16(other: Step) -> Vec<Step> {
    vec![
        open("P1", "a", "f", RW_CREAT),
        setlk("P1", "a", F_WRLCK, 0, 0, Done),
        other,
        st("P1", Close { slot: "b" }, Done),
        open("P2", "c", "f", RDWR),
        setlk("P2", "c", F_WRLCK, 0, 0, Done),
    ]
}
/// Check 16a: closing a second open() of the file drops P1's record lock.
pub fn c16_open() -> Vec<Step> {
    c16(open("P1", "b", "f", RDONLY))
}
/// Check 16b: closing a dup of the locking descriptor drops it.
pub fn c16_dup() -> Vec<Step> {
    c16(st(
        "P1",
        Dup {
            slot: "b",
            from: "a",
        },
        Done,
    ))
}

/// Check 17a: `with open(path) as f: f.read()` inside the critical section drops the lock.
pub fn c17_read() -> Vec<Step> {
    vec![
        open("P1", "a", "f", RW_CREAT),
        setlk("P1", "a", F_WRLCK, 0, 0, Done),
        st(
            "P1",
            PyOpen {
                slot: "cfg",
                path: "f",
                mode: "r",
            },
            Done,
        ),
        st(
            "P1",
            Read {
                slot: "cfg",
                n: 100,
            },
            Expect::Any,
        ),
        st("P1", Close { slot: "cfg" }, Done),
        open("P2", "c", "f", RDWR),
        setlk("P2", "c", F_WRLCK, 0, 0, Done),
    ]
}
/// Check 17b: opening and closing the file through a symlink drops it.
pub fn c17_symlink() -> Vec<Step> {
    vec![
        open("P1", "a", "f", RW_CREAT),
        st(
            "P1",
            Symlink {
                target: "f",
                path: "alias",
            },
            Done,
        ),
        setlk("P1", "a", F_WRLCK, 0, 0, Done),
        open("P1", "b", "alias", RDONLY),
        st("P1", Close { slot: "b" }, Done),
        open("P2", "c", "f", RDWR),
        setlk("P2", "c", F_WRLCK, 0, 0, Done),
    ]
}

/// Check 18: a second thread of P1 with its own descriptor → WR NB granted; one thread with two
/// descriptors → both granted.
pub fn c18() -> Vec<Step> {
    vec![
        open("P1", "a", "f", RW_CREAT),
        setlk("P1", "a", F_WRLCK, 0, 0, Done),
        st(
            "P1",
            Thread(vec![
                Open {
                    slot: "t",
                    path: "f",
                    flags: RDWR,
                },
                Fcntl {
                    slot: "t",
                    cmd: F_SETLK,
                    lock: fl(F_WRLCK, 0, 0),
                },
            ]),
            Done,
        ),
        open("P1", "b", "f", RDWR),
        setlk("P1", "b", F_WRLCK, 0, 0, Done),
    ]
}

/// Check 19: a fork child does not inherit record locks; its close and exit do not release
/// the parent's.
pub fn c19() -> Vec<Step> {
    vec![
        open("P1", "a", "f", RW_CREAT),
        setlk("P1", "a", F_WRLCK, 0, 0, Done),
        runner("P1", Fork { child: "C" }),
        setlk("C", "a", F_WRLCK, 0, 0, Fails(EAGAIN)),
        st("C", Close { slot: "a" }, Done),
        runner("C", Exit),
        open("P2", "b", "f", RDWR),
        setlk("P2", "b", F_WRLCK, 0, 0, Fails(EAGAIN)),
    ]
}

/// Check 20: a partial unlock splits the lock and wakes a waiter at once.
pub fn c20() -> Vec<Step> {
    vec![
        open("P1", "a", "f", RW_CREAT),
        setlk("P1", "a", F_WRLCK, 0, 100, Done),
        open("P2", "b", "f", RDWR),
        cmd("P2", "b", F_SETLKW, F_WRLCK, 45, 10, Blocks),
        setlk("P1", "a", F_UNLCK, 40, 20, Done),
        st("P2", Await, Done),
        setlk("P2", "b", F_WRLCK, 10, 10, Fails(EAGAIN)),
        setlk("P2", "b", F_WRLCK, 60, 10, Fails(EAGAIN)),
        open("P3", "c", "f", RDWR),
        getlk("P3", "c", F_WRLCK, 0, 1, held(F_WRLCK, 0, 40, "P1")),
        getlk("P3", "c", F_WRLCK, 99, 1, held(F_WRLCK, 60, 40, "P1")),
        getlk("P3", "c", F_WRLCK, 50, 1, held(F_WRLCK, 45, 10, "P2")),
    ]
}

/// Check 21: a lock to infinity covers bytes not yet written.
pub fn c21() -> Vec<Step> {
    vec![
        open("P1", "a", "f", RW_CREAT),
        st("P1", WriteN { slot: "a", n: 100 }, Expect::Int(100)),
        setlk("P1", "a", F_WRLCK, 50, 0, Done),
        open("P2", "b", "f", RDWR),
        setlk("P2", "b", F_WRLCK, 1000, 1, Fails(EAGAIN)),
        setlk("P2", "b", F_WRLCK, 0, 50, Done),
    ]
}

/// Check 22: adjacent same-type locks merge; a read lock over a write lock replaces the overlap.
pub fn c22() -> Vec<Step> {
    vec![
        open("P1", "a", "f", RW_CREAT),
        setlk("P1", "a", F_WRLCK, 0, 10, Done),
        setlk("P1", "a", F_WRLCK, 10, 10, Done),
        open("P2", "b", "f", RDWR),
        getlk("P2", "b", F_WRLCK, 0, 1, held(F_WRLCK, 0, 20, "P1")),
        setlk("P1", "a", F_UNLCK, 0, 0, Done),
        setlk("P1", "a", F_WRLCK, 0, 10, Done),
        setlk("P1", "a", F_RDLCK, 5, 10, Done),
        getlk("P2", "b", F_RDLCK, 0, 100, held(F_WRLCK, 0, 5, "P1")),
        getlk("P2", "b", F_WRLCK, 5, 1, held(F_RDLCK, 5, 10, "P1")),
    ]
}

/// Check 23: read locks share; a write lock conflicts with them.
pub fn c23() -> Vec<Step> {
    vec![
        open("P1", "a", "f", RW_CREAT),
        setlk("P1", "a", F_RDLCK, 0, 100, Done),
        open("P2", "b", "f", RDWR),
        setlk("P2", "b", F_RDLCK, 0, 100, Done),
        setlk("P2", "b", F_WRLCK, 0, 100, Fails(EAGAIN)),
    ]
}

/// Check 24: a failed NB upgrade leaves the read lock held.
pub fn c24() -> Vec<Step> {
    vec![
        open("P1", "a", "f", RW_CREAT),
        setlk("P1", "a", F_RDLCK, 0, 100, Done),
        open("P2", "b", "f", RDWR),
        setlk("P2", "b", F_RDLCK, 0, 100, Done),
        setlk("P2", "b", F_WRLCK, 0, 100, Fails(EAGAIN)),
        setlk("P1", "a", F_UNLCK, 0, 0, Done),
        open("P3", "c", "f", RDWR),
        getlk("P3", "c", F_WRLCK, 0, 100, held(F_RDLCK, 0, 100, "P2")),
    ]
}

/// Check 25: access-mode rules: EBADF for a lock the descriptor cannot back; queries and
/// unlocks need no access.
pub fn c25() -> Vec<Step> {
    vec![
        open("P1", "w", "f", RW_CREAT),
        open("P1", "r", "f", RDONLY),
        open("P1", "wo", "f", WRONLY),
        setlk("P1", "r", F_WRLCK, 0, 0, Fails(EBADF)),
        setlk("P1", "wo", F_RDLCK, 0, 0, Fails(EBADF)),
        st(
            "P1",
            Lockf {
                slot: "wo",
                cmd: LOCK_SH,
                len: 0,
                start: 0,
                whence: 0,
            },
            Fails(EBADF),
        ),
        getlk(
            "P1",
            "r",
            F_WRLCK,
            0,
            0,
            Expect::Lock(F_UNLCK, 0, 0, Who::Nobody),
        ),
        setlk("P1", "r", F_UNLCK, 0, 0, Done),
    ]
}

/// Check 26: range arithmetic: negative length, negative resolved start, SEEK_END, SEEK_CUR.
pub fn c26() -> Vec<Step> {
    let whence = |slot, w, start, len| Fcntl {
        slot,
        cmd: F_SETLK,
        lock: Flock::new(F_WRLCK, w, start, len),
    };
    vec![
        open("P1", "a", "f", RW_CREAT),
        open("P2", "b", "f", RDWR),
        setlk("P1", "a", F_WRLCK, 50, -10, Done),
        getlk("P2", "b", F_WRLCK, 0, 0, held(F_WRLCK, 40, 10, "P1")),
        setlk("P1", "a", F_WRLCK, -5, 10, Fails(EINVAL)),
        setlk("P1", "a", F_UNLCK, 0, 0, Done),
        st("P1", WriteN { slot: "a", n: 100 }, Expect::Int(100)),
        st("P1", whence("a", SEEK_END, -10, 5), Done),
        getlk("P2", "b", F_WRLCK, 0, 0, held(F_WRLCK, 90, 5, "P1")),
        setlk("P1", "a", F_UNLCK, 0, 0, Done),
        st(
            "P1",
            Seek {
                slot: "a",
                offset: 30,
                whence: SEEK_SET,
            },
            Expect::Int(30),
        ),
        st("P1", whence("a", SEEK_CUR, 0, 5), Done),
        getlk("P2", "b", F_WRLCK, 0, 0, held(F_WRLCK, 30, 5, "P1")),
    ]
}

/// Check 27: the request that closes a cycle of record-lock waits gets EDEADLK at once; the
/// other waiter is granted when it releases.
pub fn c27() -> Vec<Step> {
    vec![
        open("P1", "a", "f", RW_CREAT),
        open("P2", "b", "f", RDWR),
        setlk("P1", "a", F_WRLCK, 0, 1, Done),
        setlk("P2", "b", F_WRLCK, 1, 1, Done),
        cmd("P1", "a", F_SETLKW, F_WRLCK, 1, 1, Blocks),
        cmd("P2", "b", F_SETLKW, F_WRLCK, 0, 1, Fails(EDEADLK)),
        setlk("P2", "b", F_UNLCK, 0, 0, Done),
        st("P1", Await, Done),
    ]
}

/// Check 28: no writer preference for record locks.
pub fn c28() -> Vec<Step> {
    vec![
        open("P1", "a", "f", RW_CREAT),
        setlk("P1", "a", F_RDLCK, 0, 100, Done),
        open("P2", "b", "f", RDWR),
        cmd("P2", "b", F_SETLKW, F_WRLCK, 0, 100, Blocks),
        open("P3", "c", "f", RDWR),
        setlk("P3", "c", F_RDLCK, 0, 100, Done),
        setlk("P3", "c", F_UNLCK, 0, 0, Done),
        setlk("P1", "a", F_UNLCK, 0, 0, Done),
        st("P2", Await, Done),
    ]
}

/// Check 29: two readers upgrading with F_SETLKW: the second gets EDEADLK.
pub fn c29() -> Vec<Step> {
    vec![
        open("P1", "a", "f", RW_CREAT),
        setlk("P1", "a", F_RDLCK, 0, 100, Done),
        open("P2", "b", "f", RDWR),
        setlk("P2", "b", F_RDLCK, 0, 100, Done),
        cmd("P1", "a", F_SETLKW, F_WRLCK, 0, 100, Blocks),
        cmd("P2", "b", F_SETLKW, F_WRLCK, 0, 100, Fails(EDEADLK)),
        setlk("P2", "b", F_UNLCK, 0, 0, Done),
        st("P1", Await, Done),
    ]
}

fn c30(lock: Step, inheritable: bool, probe: Step) -> Vec<Step> {
    let mut s = vec![open("P1", "a", "f", RW_CREAT)];
    if inheritable {
        s.push(st("P1", SetInheritable { slot: "a" }, Done));
    }
    s.extend([lock, runner("P1", Exec), open("P2", "b", "f", RDWR), probe]);
    s
}
/// Check 30a: record lock on a close-on-exec descriptor, then execve → dropped.
pub fn c30_record_cloexec() -> Vec<Step> {
    c30(
        setlk("P1", "a", F_WRLCK, 0, 0, Done),
        false,
        setlk("P2", "b", F_WRLCK, 0, 0, Done),
    )
}
/// Check 30b: the same with an inheritable descriptor → kept.
pub fn c30_record_inheritable() -> Vec<Step> {
    c30(
        setlk("P1", "a", F_WRLCK, 0, 0, Done),
        true,
        setlk("P2", "b", F_WRLCK, 0, 0, Fails(EAGAIN)),
    )
}
/// Check 30c: flock on a close-on-exec descriptor, then execve → released.
pub fn c30_flock_cloexec() -> Vec<Step> {
    c30(
        flock("P1", "a", LOCK_EX, Done),
        false,
        flock("P2", "b", LOCK_EX | LOCK_NB, Done),
    )
}
/// Check 30d: flock on an inheritable descriptor, then execve → kept.
pub fn c30_flock_inheritable() -> Vec<Step> {
    c30(
        flock("P1", "a", LOCK_EX, Done),
        true,
        flock("P2", "b", LOCK_EX | LOCK_NB, Fails(EAGAIN)),
    )
}

/// Check 31: an OFD lock survives closing another descriptor of the file.
pub fn c31() -> Vec<Step> {
    vec![
        open("P1", "a", "f", RW_CREAT),
        cmd("P1", "a", F_OFD_SETLK, F_WRLCK, 0, 0, Done),
        open("P1", "b", "f", RDONLY),
        st("P1", Close { slot: "b" }, Done),
        open("P2", "c", "f", RDWR),
        cmd("P2", "c", F_OFD_SETLK, F_WRLCK, 0, 0, Fails(EAGAIN)),
    ]
}

/// Check 32: OFD and classic locks share one table; queries report an OFD lock with pid −1.
pub fn c32() -> Vec<Step> {
    vec![
        open("P1", "a", "f", RW_CREAT),
        cmd("P1", "a", F_OFD_SETLK, F_WRLCK, 0, 0, Done),
        open("P2", "b", "f", RDWR),
        setlk("P2", "b", F_WRLCK, 0, 0, Fails(EAGAIN)),
        cmd(
            "P2",
            "b",
            F_OFD_GETLK,
            F_WRLCK,
            0,
            0,
            Expect::Lock(F_WRLCK, 0, 0, Who::Ofd),
        ),
        getlk(
            "P2",
            "b",
            F_WRLCK,
            0,
            0,
            Expect::Lock(F_WRLCK, 0, 0, Who::Ofd),
        ),
    ]
}

/// Check 33: OFD locks in one process: another open() conflicts, a dup does not; classic and
/// OFD conflict in one process both ways.
pub fn c33() -> Vec<Step> {
    vec![
        open("P1", "a", "f", RW_CREAT),
        cmd("P1", "a", F_OFD_SETLK, F_WRLCK, 0, 0, Done),
        open("P1", "b", "f", RDWR),
        cmd("P1", "b", F_OFD_SETLK, F_WRLCK, 0, 0, Fails(EAGAIN)),
        setlk("P1", "b", F_WRLCK, 0, 0, Fails(EAGAIN)),
        st(
            "P1",
            Dup {
                slot: "c",
                from: "a",
            },
            Done,
        ),
        cmd("P1", "c", F_OFD_SETLK, F_WRLCK, 0, 0, Done),
        cmd("P1", "a", F_OFD_SETLK, F_UNLCK, 0, 0, Done),
        setlk("P1", "a", F_WRLCK, 0, 0, Done),
        open("P1", "d", "g", RW_CREAT),
        open("P1", "e", "g", RDWR),
        setlk("P1", "d", F_WRLCK, 0, 0, Done),
        cmd("P1", "e", F_OFD_SETLK, F_WRLCK, 0, 0, Fails(EAGAIN)),
    ]
}

/// Check 34: an OFD request with l_pid ≠ 0 → EINVAL.
pub fn c34() -> Vec<Step> {
    let mut lock = fl(F_WRLCK, 0, 0);
    lock.l_pid = 123;
    vec![
        open("P1", "a", "f", RW_CREAT),
        st(
            "P1",
            Fcntl {
                slot: "a",
                cmd: F_OFD_SETLK,
                lock,
            },
            Fails(EINVAL),
        ),
    ]
}

/// Check 35: OFD lock and fork: the child through the inherited fd is the same owner; a fresh
/// open() in the child conflicts; the lock outlives the parent's close until C exits.
pub fn c35() -> Vec<Step> {
    vec![
        open("P1", "a", "f", RW_CREAT),
        cmd("P1", "a", F_OFD_SETLK, F_WRLCK, 0, 0, Done),
        runner("P1", Fork { child: "C" }),
        cmd("C", "a", F_OFD_SETLK, F_WRLCK, 0, 0, Done),
        open("C", "x", "f", RDWR),
        cmd("C", "x", F_OFD_SETLK, F_WRLCK, 0, 0, Fails(EAGAIN)),
        st("C", Close { slot: "x" }, Done),
        st("P1", Close { slot: "a" }, Done),
        open("P2", "b", "f", RDWR),
        cmd("P2", "b", F_OFD_SETLK, F_WRLCK, 0, 0, Fails(EAGAIN)),
        runner("C", Exit),
        cmd("P2", "b", F_OFD_SETLK, F_WRLCK, 0, 0, Done),
    ]
}

/// Check 36: two OFDs in a blocking OFD-lock cycle → both stay blocked (no EDEADLK).
pub fn c36() -> Vec<Step> {
    vec![
        open("P1", "a", "f", RW_CREAT),
        open("P2", "b", "f", RDWR),
        cmd("P1", "a", F_OFD_SETLK, F_WRLCK, 0, 1, Done),
        cmd("P2", "b", F_OFD_SETLK, F_WRLCK, 1, 1, Done),
        cmd("P1", "a", F_OFD_SETLKW, F_WRLCK, 1, 1, Blocks),
        cmd("P2", "b", F_OFD_SETLKW, F_WRLCK, 0, 1, Blocks),
        runner("P1", Kill),
        st("P2", Await, Done),
    ]
}

/// Check 37: Python's lockf mapping: LOCK_UN|LOCK_NB and 0 → ValueError; LOCK_SH|LOCK_EX → a
/// read lock.
pub fn c37() -> Vec<Step> {
    let lockf = |cmd| Lockf {
        slot: "a",
        cmd,
        len: 0,
        start: 0,
        whence: 0,
    };
    vec![
        open("P1", "a", "f", RW_CREAT),
        st("P1", lockf(LOCK_UN | LOCK_NB), Expect::Py("ValueError")),
        st("P1", lockf(0), Expect::Py("ValueError")),
        st("P1", lockf(LOCK_SH | LOCK_EX), Done),
        open("P2", "b", "f", RDWR),
        getlk("P2", "b", F_WRLCK, 0, 0, held(F_RDLCK, 0, 0, "P1")),
    ]
}

/// Check 38: C lockf(3) after lseek(2): F_LOCK 3 → WRITE 2–4; F_TEST from P2 → EACCES;
/// F_TLOCK on O_RDONLY → EBADF.
pub fn c38() -> Vec<Step> {
    vec![
        open("P1", "a", "f", RW_CREAT),
        st(
            "P1",
            Seek {
                slot: "a",
                offset: 2,
                whence: SEEK_SET,
            },
            Expect::Int(2),
        ),
        st(
            "P1",
            CLockf {
                slot: "a",
                cmd: 1,
                len: 3,
            },
            Done,
        ),
        open("P2", "b", "f", RDWR),
        getlk("P2", "b", F_WRLCK, 0, 0, held(F_WRLCK, 2, 3, "P1")),
        st(
            "P2",
            Seek {
                slot: "b",
                offset: 2,
                whence: SEEK_SET,
            },
            Expect::Int(2),
        ),
        st(
            "P2",
            CLockf {
                slot: "b",
                cmd: 3,
                len: 3,
            },
            Fails(EACCES),
        ),
        open("P2", "r", "f", RDONLY),
        st(
            "P2",
            CLockf {
                slot: "r",
                cmd: 2,
                len: 3,
            },
            Fails(EBADF),
        ),
    ]
}

/// Check 39 (the half that applies to Rust). A blocked flock interrupted by a signal whose
/// handler returns keeps waiting (EINTR retried, PEP 475) and is granted at the release.
pub fn c39() -> Vec<Step> {
    vec![
        open("P1", "a", "f", RW_CREAT),
        flock("P1", "a", LOCK_EX, Done),
        open("P2", "b", "f", RDWR),
        flock("P2", "b", LOCK_EX, Blocks),
        runner("P2", Interrupt),
        runner("P2", Interrupt),
        flock("P1", "a", LOCK_UN, Done),
        st("P2", Await, Done),
    ]
}

/// Check 41: O_EXCL, 'x', a dangling symlink, mkdir and link onto existing names → EEXIST.
pub fn c41() -> Vec<Step> {
    let excl = OpenFlags::from_bits(0o301);
    vec![
        open("P1", "a", "lock", RW_CREAT),
        st(
            "P1",
            Open {
                slot: "b",
                path: "lock",
                flags: excl,
            },
            Fails(EEXIST),
        ),
        st(
            "P1",
            PyOpen {
                slot: "b",
                path: "lock",
                mode: "x",
            },
            Fails(EEXIST),
        ),
        st(
            "P1",
            Symlink {
                target: "target",
                path: "dangling",
            },
            Done,
        ),
        st(
            "P1",
            Open {
                slot: "b",
                path: "dangling",
                flags: excl,
            },
            Fails(EEXIST),
        ),
        st("P1", Size { path: "target" }, Fails(ENOENT)),
        st("P1", Mkdir { path: "d" }, Done),
        st("P1", Mkdir { path: "d" }, Fails(EEXIST)),
        open("P1", "t", "tmp", RW_CREAT),
        st(
            "P1",
            Link {
                from: "tmp",
                to: "lock",
            },
            Fails(EEXIST),
        ),
    ]
}

/// Check 42: a lock file's creator is SIGKILLed → the file remains.
pub fn c42() -> Vec<Step> {
    vec![
        st(
            "P1",
            Open {
                slot: "a",
                path: "lock",
                flags: OpenFlags::from_bits(0o301),
            },
            Done,
        ),
        st(
            "P1",
            Write {
                slot: "a",
                data: b"pid\n",
            },
            Expect::Int(4),
        ),
        runner("P1", Kill),
        st("P2", Size { path: "lock" }, Expect::Int(4)),
    ]
}

/// Check 43: stale lock file: B stat, C stat, B remove, B create, C remove, C create → every
/// step succeeds (two holders); a further remove after the name is gone → ENOENT.
pub fn c43() -> Vec<Step> {
    let create = |slot| Open {
        slot,
        path: "lock",
        flags: OpenFlags::from_bits(0o301),
    };
    vec![
        st("P1", create("dead"), Done),
        st("P2", Size { path: "lock" }, Expect::Int(0)),
        st("P3", Size { path: "lock" }, Expect::Int(0)),
        st("P2", Unlink { path: "lock" }, Done),
        st("P2", create("mine"), Done),
        st("P3", Unlink { path: "lock" }, Done),
        st("P3", create("mine"), Done),
        st("P2", Unlink { path: "lock" }, Done),
        st("P3", Unlink { path: "lock" }, Fails(ENOENT)),
    ]
}

/// Check 44: unlink under flock: a new file under the old name is a different inode whose flock
/// is free.
pub fn c44() -> Vec<Step> {
    vec![
        open("P1", "a", "lock", RW_CREAT),
        flock("P1", "a", LOCK_EX, Done),
        st("P3", Unlink { path: "lock" }, Done),
        open("P2", "b", "lock", RW_CREAT),
        flock("P2", "b", LOCK_EX | LOCK_NB, Done),
        st(
            "P1",
            SameFile {
                slot: "a",
                path: "lock",
            },
            Expect::Bool(false),
        ),
        st(
            "P2",
            SameFile {
                slot: "b",
                path: "lock",
            },
            Expect::Bool(true),
        ),
    ]
}

/// Check 45: rename semantics for directory queues.
pub fn c45() -> Vec<Step> {
    vec![
        st("P1", Mkdir { path: "new" }, Done),
        st("P1", Mkdir { path: "work" }, Done),
        open("P1", "t", "new/t1", RW_CREAT),
        st(
            "P1",
            Rename {
                from: "new/t1",
                to: "work/t1",
            },
            Done,
        ),
        st(
            "P2",
            Rename {
                from: "new/t1",
                to: "work/t1",
            },
            Fails(ENOENT),
        ),
        open("P1", "x", "x", RW_CREAT),
        st(
            "P1",
            Write {
                slot: "x",
                data: b"new",
            },
            Expect::Int(3),
        ),
        st(
            "P1",
            Rename {
                from: "x",
                to: "work/t1",
            },
            Done,
        ),
        st(
            "P2",
            Contents { path: "work/t1" },
            Expect::Bytes(b"new".to_vec()),
        ),
        st("P1", Mkdir { path: "empty" }, Done),
        st(
            "P1",
            Rename {
                from: "empty",
                to: "work",
            },
            Fails(ENOTEMPTY),
        ),
        st(
            "P1",
            Rename {
                from: "work/t1",
                to: "new",
            },
            Fails(EISDIR),
        ),
        st(
            "P1",
            Link {
                from: "work/t1",
                to: "hard",
            },
            Done,
        ),
        st(
            "P1",
            Rename {
                from: "work/t1",
                to: "hard",
            },
            Done,
        ),
        st("P1", Size { path: "work/t1" }, Expect::Int(3)),
        st("P1", Size { path: "hard" }, Expect::Int(3)),
    ]
}

/// Check 47: locks and reads leave mtime unchanged; write and utime change it.
pub fn c47() -> Vec<Step> {
    vec![
        open("P1", "a", "f", RW_CREAT),
        st(
            "P1",
            Write {
                slot: "a",
                data: b"x",
            },
            Expect::Int(1),
        ),
        st("P1", Mtime { path: "f" }, Expect::Any),
        flock("P1", "a", LOCK_EX, Done),
        setlk("P1", "a", F_WRLCK, 0, 0, Done),
        st(
            "P1",
            Pread {
                slot: "a",
                n: 1,
                offset: 0,
            },
            Expect::Bytes(b"x".to_vec()),
        ),
        st("P1", Mtime { path: "f" }, Expect::SameAs(2)),
        st(
            "P1",
            Write {
                slot: "a",
                data: b"y",
            },
            Expect::Int(1),
        ),
        st("P1", Mtime { path: "f" }, Expect::DiffersFrom(2)),
        st("P1", Utime { path: "f" }, Done),
        st("P1", Mtime { path: "f" }, Expect::DiffersFrom(8)),
    ]
}

/// Check 48: `open(path, 'w')` truncates before the lock request that then fails.
pub fn c48() -> Vec<Step> {
    vec![
        open("P1", "a", "f", RW_CREAT),
        flock("P1", "a", LOCK_EX, Done),
        st(
            "P1",
            Write {
                slot: "a",
                data: b"123456789",
            },
            Expect::Int(9),
        ),
        st(
            "P2",
            PyOpen {
                slot: "b",
                path: "f",
                mode: "w",
            },
            Done,
        ),
        st("P2", Size { path: "f" }, Expect::Int(0)),
        flock("P2", "b", LOCK_EX | LOCK_NB, Fails(EAGAIN)),
    ]
}

/// Check 49: two processes × 2000 O_APPEND writes of 100 bytes → 4000 intact lines.
pub fn c49() -> Vec<Step> {
    let flags = OpenFlags::from_bits(0o2101); // O_WRONLY|O_CREAT|O_APPEND
    vec![
        open("P1", "a", "log", flags),
        open("P2", "b", "log", flags),
        st(
            "P1",
            AppendLines {
                slot: "a",
                n: 2000,
                tag: b'1',
                seek_end: false,
            },
            Expect::Pending,
        ),
        st(
            "P2",
            AppendLines {
                slot: "b",
                n: 2000,
                tag: b'2',
                seek_end: false,
            },
            Expect::Pending,
        ),
        st("P1", Await, Done),
        st("P2", Await, Done),
        st("P3", IntactLines { path: "log" }, Expect::Int(4000)),
    ]
}

/// Check 50a: a non-append writer keeps its offset across a truncation: a hole.
pub fn c50() -> Vec<Step> {
    vec![
        open("P1", "a", "f", RW_CREAT),
        st("P1", WriteN { slot: "a", n: 1000 }, Expect::Int(1000)),
        open("P2", "b", "f", RDWR),
        st("P2", Truncate { slot: "b", len: 0 }, Done),
        st(
            "P1",
            Write {
                slot: "a",
                data: b"12345",
            },
            Expect::Int(5),
        ),
        st("P2", Size { path: "f" }, Expect::Int(1005)),
        st(
            "P2",
            Pread {
                slot: "b",
                n: 4,
                offset: 0,
            },
            Expect::Bytes(vec![0; 4]),
        ),
    ]
}
/// Check 50b: with O_APPEND the same sequence gives a 5-byte file.
pub fn c50_append() -> Vec<Step> {
    vec![
        open("P1", "a", "f", OpenFlags::from_bits(0o2102)),
        st("P1", WriteN { slot: "a", n: 1000 }, Expect::Int(1000)),
        open("P2", "b", "f", RDWR),
        st("P2", Truncate { slot: "b", len: 0 }, Done),
        st(
            "P1",
            Write {
                slot: "a",
                data: b"12345",
            },
            Expect::Int(5),
        ),
        st("P2", Size { path: "f" }, Expect::Int(5)),
    ]
}

/// Check 51: a write without fsync is visible to another process's read.
pub fn c51() -> Vec<Step> {
    vec![
        open("P1", "a", "f", RW_CREAT),
        st(
            "P1",
            Write {
                slot: "a",
                data: b"seen",
            },
            Expect::Int(4),
        ),
        st(
            "P2",
            Contents { path: "f" },
            Expect::Bytes(b"seen".to_vec()),
        ),
    ]
}

/// Check 52: an unflushed Python write is invisible, and lost when the writer is SIGKILLed.
pub fn c52() -> Vec<Step> {
    vec![
        st(
            "P1",
            PyOpen {
                slot: "f",
                path: "f",
                mode: "w",
            },
            Done,
        ),
        st(
            "P1",
            Write {
                slot: "f",
                data: b"buffered",
            },
            Expect::Int(8),
        ),
        st("P2", Contents { path: "f" }, Expect::Bytes(vec![])),
        runner("P1", Kill),
        st("P2", Contents { path: "f" }, Expect::Bytes(vec![])),
    ]
}

/// Check 53: an open descriptor keeps the old inode across rename-over and unlink.
pub fn c53() -> Vec<Step> {
    vec![
        open("P2", "w", "name", RW_CREAT),
        st(
            "P2",
            Write {
                slot: "w",
                data: b"old",
            },
            Expect::Int(3),
        ),
        open("P2", "t", "tmp", RW_CREAT),
        st(
            "P2",
            Write {
                slot: "t",
                data: b"new",
            },
            Expect::Int(3),
        ),
        open("P1", "a", "name", RDONLY),
        st(
            "P2",
            Rename {
                from: "tmp",
                to: "name",
            },
            Done,
        ),
        st(
            "P1",
            Pread {
                slot: "a",
                n: 10,
                offset: 0,
            },
            Expect::Bytes(b"old".to_vec()),
        ),
        st(
            "P3",
            Contents { path: "name" },
            Expect::Bytes(b"new".to_vec()),
        ),
        open("P1", "b", "name", RDONLY),
        st("P2", Unlink { path: "name" }, Done),
        st(
            "P1",
            Pread {
                slot: "b",
                n: 10,
                offset: 0,
            },
            Expect::Bytes(b"new".to_vec()),
        ),
        st("P1", Size { path: "name" }, Fails(ENOENT)),
    ]
}

/// Check 54: rotation by rename: an O_APPEND writer keeps writing into the renamed file.
pub fn c54() -> Vec<Step> {
    vec![
        open("P1", "a", "log", OpenFlags::from_bits(0o2101)),
        st(
            "P1",
            Write {
                slot: "a",
                data: b"line1\n",
            },
            Expect::Int(6),
        ),
        st(
            "P2",
            Rename {
                from: "log",
                to: "log.1",
            },
            Done,
        ),
        st(
            "P1",
            Write {
                slot: "a",
                data: b"line2\n",
            },
            Expect::Int(6),
        ),
        st("P2", Size { path: "log" }, Fails(ENOENT)),
        st(
            "P2",
            Contents { path: "log.1" },
            Expect::Bytes(b"line1\nline2\n".to_vec()),
        ),
    ]
}

/// Check 55: O_APPEND set with F_SETFL lives in the open file description.
pub fn c55() -> Vec<Step> {
    vec![
        open("P1", "a", "f", RW_CREAT),
        st(
            "P1",
            Write {
                slot: "a",
                data: b"0123456789",
            },
            Expect::Int(10),
        ),
        st("P1", SetAppend { slot: "a" }, Done),
        st(
            "P1",
            Dup {
                slot: "b",
                from: "a",
            },
            Done,
        ),
        st("P1", GetFl { slot: "b" }, Expect::Int(21)), // O_APPEND, O_RDWR
        st(
            "P1",
            Seek {
                slot: "b",
                offset: 0,
                whence: SEEK_SET,
            },
            Expect::Int(0),
        ),
        st(
            "P1",
            Write {
                slot: "b",
                data: b"ab",
            },
            Expect::Int(2),
        ),
        st("P1", Size { path: "f" }, Expect::Int(12)),
        open("P1", "c", "f", RDWR),
        st("P1", GetFl { slot: "c" }, Expect::Int(20)),
        st("P1", SetFlRdonly { slot: "c" }, Done),
        st("P1", GetFl { slot: "c" }, Expect::Int(20)),
        st(
            "P1",
            Pwrite {
                slot: "a",
                data: b"zz",
                offset: 0,
            },
            Expect::Int(2),
        ),
        st("P1", Size { path: "f" }, Expect::Int(14)),
        st(
            "P1",
            Pread {
                slot: "a",
                n: 2,
                offset: 0,
            },
            Expect::Bytes(b"01".to_vec()),
        ),
    ]
}

/// Check 56: Python's buffered read runs the descriptor ahead; a seek inside the buffer does
/// not move it.
pub fn c56() -> Vec<Step> {
    vec![
        open("P1", "w", "f", RW_CREAT),
        st("P1", WriteN { slot: "w", n: 100 }, Expect::Int(100)),
        st(
            "P1",
            PyOpen {
                slot: "f",
                path: "f",
                mode: "r",
            },
            Done,
        ),
        st(
            "P1",
            Read { slot: "f", n: 10 },
            Expect::Bytes(vec![b'x'; 10]),
        ),
        st("P1", FdOffset { slot: "f" }, Expect::Int(100)),
        st(
            "P1",
            Seek {
                slot: "f",
                offset: 10,
                whence: SEEK_SET,
            },
            Expect::Int(10),
        ),
        st("P1", FdOffset { slot: "f" }, Expect::Int(100)),
    ]
}

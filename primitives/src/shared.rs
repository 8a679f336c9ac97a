//! `Shared`: a plain Python variable that several threads read and write.

use crate::backend::{Args, Backend, ObjectTag, Outcome, RawAtomic, Record, Std};
use std::any::Any;
use std::fmt;
use std::sync::atomic::Ordering::SeqCst;
use std::sync::Mutex;

/// A plain shared variable, as a Python global or attribute that threads use without a
/// lock: each [`get`](Shared::get) and [`set`](Shared::set) is one atomic step (the GIL makes
/// a single load or store atomic) and a scheduling point, so `x.set(x.get() + 1)` is the
/// racy `x += 1` of the tutorial and a checker can interleave between the two.
///
/// Not a `threading` type: models use it for the state their locks protect.
///
/// # Examples
///
/// ```
/// use lockproof::Shared;
///
/// let n: Shared<i64> = Shared::new(0);
/// n.set(n.get() + 1); // the racy `n += 1`: two steps
/// assert_eq!(n.get(), 1);
/// ```
pub struct Shared<T, B: Backend = Std> {
    // The visible operation that orders accesses for the checker: a load for `get`, an add
    // for `set`. The value itself sits beside it; engines run one thread at a time, and on
    // real threads the mutex keeps each access atomic.
    touch: B::Atomic,
    value: Mutex<T>,
    tag: B::Tag,
}

impl<T: Clone + fmt::Debug + Send + 'static, B: Backend> Shared<T, B> {
    /// A variable holding `value`.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::Shared;
    ///
    /// let s: Shared<&str> = Shared::new("idle");
    /// assert_eq!(s.get(), "idle");
    /// ```
    pub fn new(value: T) -> Self {
        Shared {
            touch: B::Atomic::new(0),
            value: Mutex::new(value),
            tag: B::Tag::new("Var"),
        }
    }

    /// Name the variable in traces.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::Shared;
    ///
    /// let balance: Shared<i64> = Shared::new(100).with_name("balance");
    /// assert_eq!(balance.get(), 100);
    /// ```
    pub fn with_name(self, name: &str) -> Self {
        self.tag.set_name(name);
        self
    }

    /// Read the variable (one step).
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::Shared;
    ///
    /// let s: Shared<Vec<u8>> = Shared::new(vec![1, 2]);
    /// assert_eq!(s.get(), [1, 2]);
    /// ```
    pub fn get(&self) -> T {
        // A read-modify-write, not a load: the value itself is bookkeeping the checker does
        // not see, so the read must synchronize with the last `set` the way the value does
        // (a plain load may read an older counter under loom's memory model).
        self.touch.fetch_add(0, SeqCst);
        let v = self.value.lock().unwrap_or_else(|e| e.into_inner()).clone();
        B::record(&self.tag, || Record::new("get", show(&v)));
        v
    }

    /// Write the variable (one step).
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::Shared;
    ///
    /// let s: Shared<u8> = Shared::new(0);
    /// s.set(9);
    /// assert_eq!(s.get(), 9);
    /// ```
    pub fn set(&self, value: T) {
        self.touch.fetch_add(1, SeqCst);
        B::record(&self.tag, || {
            Record::with_args("set", typed(&value), Outcome::Done)
        });
        *self.value.lock().unwrap_or_else(|e| e.into_inner()) = value;
    }

    /// Read-modify-write in one step (what a lock-protected `x += 1` amounts to, or an
    /// atomic operation): `f` runs on the value with no scheduling point inside.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::Shared;
    ///
    /// let s: Shared<Vec<u8>> = Shared::new(Vec::new());
    /// let len = s.update(|v| {
    ///     v.push(1); // one atomic step
    ///     v.len()
    /// });
    /// assert_eq!(len, 1);
    /// ```
    pub fn update<R>(&self, f: impl FnOnce(&mut T) -> R) -> R {
        self.touch.fetch_add(1, SeqCst);
        let mut g = self.value.lock().unwrap_or_else(|e| e.into_inner());
        let r = f(&mut g);
        let v = g.clone();
        drop(g);
        B::record(&self.tag, || {
            Record::with_args("update", typed(&v), Outcome::Done)
        });
        r
    }
}

/// A written value as a trace argument: an integer typed (no text made), anything else as
/// its `Debug` text. Both render the same (`5`).
fn typed<T: fmt::Debug + 'static>(v: &T) -> Args {
    match as_int(v) {
        Some(i) => Args::new().int("", i),
        None => Args::new().value(format!("{v:?}")),
    }
}

/// The value of an integer of a primitive type (whose `Debug` is its decimal text).
fn as_int<T: 'static>(v: &T) -> Option<i64> {
    let v = v as &dyn Any;
    macro_rules! try_int {
        ($($t:ty),*) => {
            $(if let Some(x) = v.downcast_ref::<$t>() {
                return i64::try_from(*x).ok();
            })*
        };
    }
    try_int!(i64, i32, usize, u64, u32, isize, i16, u16, i8, u8);
    None
}

fn show<T: fmt::Debug + 'static>(v: &T) -> Outcome {
    if let Some(i) = as_int(v) {
        return Outcome::Int(i);
    }
    // Most values read are integers, whose text fits a small buffer on the stack: written
    // there first, an integer needs no allocation; anything longer is formatted again into
    // a `String`. The same text either way, so the same outcome.
    let mut small = SmallText {
        bytes: [0; SmallText::CAP],
        len: 0,
    };
    if fmt::write(&mut small, format_args!("{v:?}")).is_ok() {
        if let Ok(s) = std::str::from_utf8(&small.bytes[..small.len]) {
            return match s.parse::<i64>() {
                Ok(i) => Outcome::Int(i),
                Err(_) => Outcome::Value(s.to_owned()),
            };
        }
    }
    let s = format!("{v:?}");
    match s.parse::<i64>() {
        Ok(i) => Outcome::Int(i),
        Err(_) => Outcome::Value(s),
    }
}

/// A value's text, if it fits in [`SmallText::CAP`] bytes (writing more fails).
struct SmallText {
    bytes: [u8; SmallText::CAP],
    len: usize,
}

impl SmallText {
    /// Room for any `i64` (20 characters with the sign) and a little more.
    const CAP: usize = 32;
}

impl fmt::Write for SmallText {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let end = self.len + s.len();
        if end > Self::CAP {
            return Err(fmt::Error);
        }
        self.bytes[self.len..end].copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

impl<T: fmt::Debug, B: Backend> fmt::Debug for Shared<T, B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Shared")
            .field("value", &self.value)
            .finish()
    }
}

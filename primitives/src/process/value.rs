//! `multiprocessing.Value` and `RawValue`: one C scalar in shared memory.

use super::handle::{next, shareable_typed, HandleError, Parts};
use super::semlock::{alloc, tag_of};
use super::{AnyLock, RLock};
use crate::backend::process::ProcessBackend;
use crate::backend::{Args, ObjectTag, Outcome, RawAtomic, Record, Std};
use crate::error::Result;
use std::fmt;
use std::marker::PhantomData;
use std::sync::atomic::Ordering::SeqCst;

/// A C type a [`Value`] or [`Array`](super::Array) holds, with its `array`-module typecode
/// (`'i'` for `i32`, `'d'` for `f64`, …). A value lives in one machine word of shared
/// memory, read and written whole (an aligned ctypes access under the GIL is one load or
/// one store, too).
///
/// # Examples
///
/// ```
/// use lockproof::process::Scalar;
///
/// assert_eq!(<i32 as Scalar>::TYPECODE, 'i');
/// assert_eq!(f64::from_word(2.5f64.to_word()), 2.5);
/// assert_eq!(i8::from_word((-3i8).to_word()), -3);
/// ```
pub trait Scalar: Copy + Send + Sync + fmt::Debug + 'static {
    /// The typecode (`mp.Value('i', 0)` is `Value::<i32>::new(0)`).
    const TYPECODE: char;
    /// The value as a word.
    fn to_word(self) -> usize;
    /// The value back from a word.
    fn from_word(w: usize) -> Self;
}

macro_rules! scalar_int {
    ($($t:ty => $c:literal),*) => {$(
        impl Scalar for $t {
            const TYPECODE: char = $c;
            fn to_word(self) -> usize {
                self as usize
            }
            fn from_word(w: usize) -> Self {
                w as $t
            }
        }
    )*};
}
scalar_int!(i8 => 'b', u8 => 'B', i16 => 'h', u16 => 'H', i32 => 'i', u32 => 'I',
            i64 => 'q', u64 => 'Q', isize => 'n', usize => 'N');

impl Scalar for f64 {
    const TYPECODE: char = 'd';
    fn to_word(self) -> usize {
        self.to_bits() as usize
    }
    fn from_word(w: usize) -> Self {
        f64::from_bits(w as u64)
    }
}

impl Scalar for f32 {
    const TYPECODE: char = 'f';
    fn to_word(self) -> usize {
        self.to_bits() as usize
    }
    fn from_word(w: usize) -> Self {
        f32::from_bits(w as u32)
    }
}

impl Scalar for bool {
    const TYPECODE: char = '?';
    fn to_word(self) -> usize {
        self as usize
    }
    fn from_word(w: usize) -> Self {
        w != 0
    }
}

pub(crate) fn trace_value<T: Scalar>(v: T) -> Outcome {
    let s = format!("{v:?}");
    match s.parse::<i64>() {
        Ok(i) => Outcome::Int(i),
        Err(_) => Outcome::Value(s),
    }
}

const TYPE: usize = 0;
const VALUE: usize = 1;

/// Python's `multiprocessing.RawValue(typecode, value)`: a shared scalar with **no lock**.
///
/// Each [`value`](RawValue::value) and [`set_value`](RawValue::set_value) is one atomic
/// step (under a checker, a step another process can interleave with), so
/// `v.set_value(v.value() + 1)` from two processes loses updates.
///
/// # Examples
///
/// ```
/// use lockproof::multiprocessing::RawValue;
///
/// let v = RawValue::<i32>::new(7);
/// v.set_value(v.value() + 1); // not atomic across processes
/// assert_eq!(v.value(), 8);
/// assert_eq!(format!("{v:?}"), "c_int(8)");
/// ```
pub struct RawValue<T: Scalar, B: ProcessBackend = Std> {
    mem: B::Memory,
    tag: B::Tag,
    _t: PhantomData<T>,
}

impl<T: Scalar, B: ProcessBackend> RawValue<T, B> {
    /// `multiprocessing.RawValue(typecode, value)`.
    ///
    /// # Panics
    ///
    /// If the OS refuses shared memory.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::multiprocessing::RawValue;
    ///
    /// let v = RawValue::new(0.5f64); // mp.RawValue('d', 0.5)
    /// assert_eq!(v.value(), 0.5);
    /// ```
    pub fn new(value: T) -> Self {
        let mem = alloc::<B>(2).unwrap_or_else(|e| panic!("multiprocessing.RawValue(): {e}"));
        mem[TYPE].store(T::TYPECODE as usize, SeqCst);
        mem[VALUE].store(value.to_word(), SeqCst);
        RawValue {
            tag: tag_of::<B>("mp.Value", &mem),
            mem,
            _t: PhantomData,
        }
    }

    /// Name the value in checker traces (no effect on real processes).
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::multiprocessing::RawValue;
    ///
    /// let v = RawValue::new(1i32).with_name("counter"); // how a checker trace calls it
    /// assert_eq!(v.value(), 1);
    /// ```
    pub fn with_name(self, name: &str) -> Self {
        self.tag.set_name(name);
        self
    }

    /// The value's trace identity.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::multiprocessing::RawValue;
    ///
    /// // Real processes keep no trace: the tag is zero-sized.
    /// assert_eq!(std::mem::size_of_val(RawValue::new(1i32).tag()), 0);
    /// ```
    pub fn tag(&self) -> &B::Tag {
        &self.tag
    }

    /// `v.value` (one load).
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::multiprocessing::RawValue;
    ///
    /// assert_eq!(RawValue::new(-7i64).value(), -7);
    /// ```
    pub fn value(&self) -> T {
        // A read-modify-write that changes nothing: under loom a plain load may read an
        // old value (see `Shared::get`).
        let v = T::from_word(self.mem[VALUE].fetch_add(0, SeqCst));
        B::record(&self.tag, || Record::new("get", trace_value(v)));
        v
    }

    /// `v.value = x` (one store).
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::multiprocessing::RawValue;
    ///
    /// let v = RawValue::new(0u8);
    /// v.set_value(255);
    /// assert_eq!(v.value(), 255);
    /// ```
    pub fn set_value(&self, value: T) {
        self.mem[VALUE].swap(value.to_word(), SeqCst);
        B::record(&self.tag, || {
            Record::with_args(
                "set",
                Args::new().value(format!("{value:?}")),
                Outcome::Done,
            )
        });
    }

    fn from_memory(mem: B::Memory) -> Result<Self, HandleError> {
        if mem.len() != 2 || mem[TYPE].load(SeqCst) != T::TYPECODE as usize {
            return Err(HandleError::Mismatch("not a Value of this type"));
        }
        Ok(RawValue {
            tag: tag_of::<B>("mp.Value", &mem),
            mem,
            _t: PhantomData,
        })
    }
}

impl<T: Scalar, B: ProcessBackend> fmt::Debug for RawValue<T, B> {
    /// The ctypes repr: `c_int(8)`, `c_double(0.5)`, … (untraced read).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let v = T::from_word(self.mem[VALUE].fetch_add(0, SeqCst));
        write!(f, "{}({v:?})", ctype(T::TYPECODE))
    }
}

pub(crate) fn ctype(code: char) -> &'static str {
    match code {
        'b' => "c_byte",
        'B' => "c_ubyte",
        'h' => "c_short",
        'H' => "c_ushort",
        'i' => "c_int",
        'I' => "c_uint",
        'q' => "c_longlong",
        'Q' => "c_ulonglong",
        'n' => "c_ssize_t",
        'N' => "c_size_t",
        'f' => "c_float",
        'd' => "c_double",
        '?' => "c_bool",
        _ => "c_void",
    }
}

impl<T: Scalar, B: ProcessBackend> Parts<B> for RawValue<T, B> {
    fn parts(&self, out: &mut Vec<B::Memory>) {
        out.push(self.mem.clone());
    }
    fn from_parts(parts: &mut dyn Iterator<Item = B::Memory>) -> Result<Self, HandleError> {
        Self::from_memory(next::<B>(parts)?)
    }
}

/// Python's `multiprocessing.Value(typecode, value, lock=True)`: a shared scalar and a lock
/// (a new [`RLock`] unless one is given).
///
/// Each [`value`](Value::value) and [`set_value`](Value::set_value) takes the lock, but a
/// read-modify-write does not: **`v.set_value(v.value() + 1)` loses updates across
/// processes**, exactly as Python's `v.value += 1` does. Hold
/// [`get_lock`](Value::get_lock) around it (`with v.get_lock(): v.value += 1`); with the
/// default RLock the inner accesses re-enter it. With a plain [`Lock`](super::Lock) given
/// as the lock, that same pattern deadlocks (the accesses block on the held lock), as in
/// Python.
///
/// # Examples
///
/// ```
/// use lockproof::multiprocessing::Value;
///
/// let counter = Value::<i64>::new(0);
/// {
///     let _g = counter.get_lock().lock();              // with counter.get_lock():
///     counter.set_value(counter.value() + 1);          //     counter.value += 1
/// }
/// assert_eq!(counter.value(), 1);
/// assert_eq!(format!("{counter:?}"), "<Synchronized wrapper for c_longlong(1)>");
/// ```
pub struct Value<T: Scalar, B: ProcessBackend = Std> {
    lock: AnyLock<B>,
    obj: RawValue<T, B>,
}

impl<T: Scalar, B: ProcessBackend> Value<T, B> {
    /// `multiprocessing.Value(typecode, value)`: guarded by a new [`RLock`].
    ///
    /// # Panics
    ///
    /// If the OS refuses shared memory.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::multiprocessing::{AnyLock, Value};
    ///
    /// let v = Value::new(3i32); // mp.Value('i', 3)
    /// assert_eq!(v.value(), 3);
    /// assert!(matches!(v.get_lock(), AnyLock::RLock(_)));
    /// ```
    pub fn new(value: T) -> Self {
        Self::with_lock(value, RLock::new())
    }

    /// `multiprocessing.Value(typecode, value, lock=lock)`.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::multiprocessing::{Lock, Value};
    /// use std::sync::Arc;
    ///
    /// let lock = Arc::new(Lock::new());
    /// let v = Value::with_lock(0i32, lock.clone());
    /// let _g = v.get_lock().lock();
    /// assert_eq!(lock.value(), 0); // the value's lock is this one
    /// ```
    pub fn with_lock(value: T, lock: impl Into<AnyLock<B>>) -> Self {
        Value {
            lock: lock.into(),
            obj: RawValue::new(value),
        }
    }

    /// Name the value in checker traces (no effect on real processes).
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::multiprocessing::Value;
    ///
    /// let v = Value::new(1i32).with_name("total"); // how a checker trace calls it
    /// assert_eq!(v.value(), 1);
    /// ```
    pub fn with_name(self, name: &str) -> Self {
        Value {
            lock: self.lock,
            obj: self.obj.with_name(name),
        }
    }

    /// `get_lock()`.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::multiprocessing::Value;
    ///
    /// let v = Value::new(0i32);
    /// {
    ///     // `with v.get_lock(): v.value += 1`: the read and the write under one hold.
    ///     let _g = v.get_lock().lock();
    ///     v.set_value(v.value() + 1); // the RLock is reentrant
    /// }
    /// assert_eq!(v.value(), 1);
    /// ```
    pub fn get_lock(&self) -> &AnyLock<B> {
        &self.lock
    }

    /// `get_obj()`: the unguarded value.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::multiprocessing::Value;
    ///
    /// let v = Value::new(5i32);
    /// v.get_obj().set_value(6); // no lock taken
    /// assert_eq!(v.value(), 6);
    /// ```
    pub fn get_obj(&self) -> &RawValue<T, B> {
        &self.obj
    }

    /// `v.value`: under the lock.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::multiprocessing::Value;
    ///
    /// assert_eq!(Value::new(2.5f64).value(), 2.5);
    /// ```
    pub fn value(&self) -> T {
        let _g = self.lock.lock();
        self.obj.value()
    }

    /// `v.value = x`: under the lock.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::multiprocessing::Value;
    ///
    /// let v = Value::new(0i32);
    /// v.set_value(9);
    /// assert_eq!(v.value(), 9);
    /// assert!(!v.get_lock().is_mine()); // the lock was released again
    /// ```
    pub fn set_value(&self, value: T) {
        let _g = self.lock.lock();
        self.obj.set_value(value)
    }
}

impl<T: Scalar, B: ProcessBackend> fmt::Debug for Value<T, B> {
    /// CPython's repr: `<Synchronized wrapper for c_int(1)>`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "<Synchronized wrapper for {:?}>", self.obj)
    }
}

impl<T: Scalar, B: ProcessBackend> Parts<B> for Value<T, B> {
    fn parts(&self, out: &mut Vec<B::Memory>) {
        out.push(self.lock.memory().clone());
        self.obj.parts(out);
    }
    fn from_parts(parts: &mut dyn Iterator<Item = B::Memory>) -> Result<Self, HandleError> {
        Ok(Value {
            lock: AnyLock::from_memory(next::<B>(parts)?)?,
            obj: RawValue::from_parts(parts)?,
        })
    }
}

shareable_typed!(RawValue, "RawValue::new(7i32)");
shareable_typed!(Value, "Value::new(7i32)");

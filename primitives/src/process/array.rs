//! `multiprocessing.Array` and `RawArray`: C scalars in shared memory.

use super::handle::{next, shareable_typed, HandleError, Parts};
use super::semlock::{alloc, tag_of};
use super::value::{ctype, trace_value};
use super::{AnyLock, RLock, Scalar};
use crate::backend::process::ProcessBackend;
use crate::backend::{Args, ObjectTag, Outcome, RawAtomic, Record, Std};
use crate::error::{Error, Result};
use std::fmt;
use std::marker::PhantomData;
use std::sync::atomic::Ordering::SeqCst;

const TYPE: usize = 0;
const LEN: usize = 1;
const ITEMS: usize = 2;

/// Python's `multiprocessing.RawArray(typecode, size_or_initializer)`: shared scalars with
/// **no lock**; each element access is one atomic step. An index out of range is
/// `IndexError('invalid index')`.
///
/// # Examples
///
/// ```
/// use lockproof::multiprocessing::RawArray;
///
/// let a = RawArray::<i32>::new(&[1, 2, 3]);
/// a.set(0, 10)?;
/// assert_eq!(a.to_vec(), vec![10, 2, 3]);
/// assert_eq!(a.get(3).unwrap_err().to_string(), "invalid index");
/// # Ok::<(), lockproof::Error>(())
/// ```
pub struct RawArray<T: Scalar, B: ProcessBackend = Std> {
    mem: B::Memory,
    tag: B::Tag,
    _t: PhantomData<T>,
}

impl<T: Scalar, B: ProcessBackend> RawArray<T, B> {
    /// `RawArray(typecode, initializer)`.
    ///
    /// # Panics
    ///
    /// If the OS refuses shared memory.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::multiprocessing::RawArray;
    ///
    /// let a = RawArray::new(&[1.5f64, 2.5]); // mp.RawArray('d', [1.5, 2.5])
    /// assert_eq!(a.to_vec(), [1.5, 2.5]);
    /// ```
    pub fn new(values: &[T]) -> Self {
        let mem = alloc::<B>(ITEMS + values.len())
            .unwrap_or_else(|e| panic!("multiprocessing.RawArray(): {e}"));
        mem[TYPE].store(T::TYPECODE as usize, SeqCst);
        mem[LEN].store(values.len(), SeqCst);
        for (i, v) in values.iter().enumerate() {
            mem[ITEMS + i].store(v.to_word(), SeqCst);
        }
        RawArray {
            tag: tag_of::<B>("mp.Array", &mem),
            mem,
            _t: PhantomData,
        }
    }

    /// Name the array in checker traces (no effect on real processes).
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::multiprocessing::RawArray;
    ///
    /// let a = RawArray::new(&[0i32; 4]).with_name("slots"); // how a checker trace calls it
    /// assert_eq!(a.len(), 4);
    /// ```
    pub fn with_name(self, name: &str) -> Self {
        self.tag.set_name(name);
        self
    }

    /// The array's trace identity.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::multiprocessing::RawArray;
    ///
    /// // Real processes keep no trace: the tag is zero-sized.
    /// assert_eq!(std::mem::size_of_val(RawArray::new(&[0i32]).tag()), 0);
    /// ```
    pub fn tag(&self) -> &B::Tag {
        &self.tag
    }

    /// `len(a)`.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::multiprocessing::RawArray;
    ///
    /// assert_eq!(RawArray::new(&[1i8, 2, 3]).len(), 3);
    /// ```
    pub fn len(&self) -> usize {
        self.mem.len() - ITEMS
    }

    /// `len(a) == 0`.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::multiprocessing::RawArray;
    ///
    /// assert!(RawArray::<i32>::new(&[]).is_empty());
    /// assert!(!RawArray::new(&[0i32]).is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn slot(&self, i: usize) -> Result<&B::Atomic> {
        if i < self.len() {
            Ok(&self.mem[ITEMS + i])
        } else {
            Err(Error::InvalidIndex)
        }
    }

    /// `a[i]`.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::multiprocessing::RawArray;
    /// use lockproof::Error;
    ///
    /// let a = RawArray::new(&[4i32, 5]);
    /// assert_eq!(a.get(1), Ok(5));
    /// assert_eq!(a.get(2), Err(Error::InvalidIndex)); // IndexError('invalid index')
    /// ```
    pub fn get(&self, i: usize) -> Result<T> {
        let v = self.slot(i).map(|w| T::from_word(w.fetch_add(0, SeqCst)));
        B::record(&self.tag, || {
            let args = Args::new().int("index", i as i64);
            match &v {
                Ok(v) => Record::with_args("get", args, trace_value(*v)),
                Err(e) => Record::with_args("get", args, Outcome::Error(e.python_repr())),
            }
        });
        v
    }

    /// `a[i] = x`.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::multiprocessing::RawArray;
    /// use lockproof::Error;
    ///
    /// let a = RawArray::new(&[0u16; 2]);
    /// a.set(1, 7)?;
    /// assert_eq!(a.to_vec(), [0, 7]);
    /// assert_eq!(a.set(9, 1), Err(Error::InvalidIndex));
    /// # Ok::<(), Error>(())
    /// ```
    pub fn set(&self, i: usize, value: T) -> Result<()> {
        let r = self.slot(i).map(|w| {
            w.swap(value.to_word(), SeqCst);
        });
        B::record(&self.tag, || {
            let args = Args::new()
                .int("index", i as i64)
                .value(format!("{value:?}"));
            match &r {
                Ok(()) => Record::with_args("set", args, Outcome::Done),
                Err(e) => Record::with_args("set", args, Outcome::Error(e.python_repr())),
            }
        });
        r
    }

    /// `a[:]`: every element, one load each.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::multiprocessing::RawArray;
    ///
    /// let a = RawArray::new(&[1i32, 2]);
    /// a.set(0, 3)?;
    /// assert_eq!(a.to_vec(), vec![3, 2]);
    /// # Ok::<(), lockproof::Error>(())
    /// ```
    pub fn to_vec(&self) -> Vec<T> {
        (0..self.len())
            .map(|i| T::from_word(self.mem[ITEMS + i].fetch_add(0, SeqCst)))
            .collect()
    }
}

impl<T: Scalar, B: ProcessBackend> fmt::Debug for RawArray<T, B> {
    /// `<c_int_Array_3 …>`-like: the ctypes type and the elements.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "<{}_Array_{} {:?}>",
            ctype(T::TYPECODE),
            self.len(),
            self.to_vec()
        )
    }
}

impl<T: Scalar, B: ProcessBackend> Parts<B> for RawArray<T, B> {
    fn parts(&self, out: &mut Vec<B::Memory>) {
        out.push(self.mem.clone());
    }
    fn from_parts(parts: &mut dyn Iterator<Item = B::Memory>) -> Result<Self, HandleError> {
        let mem = next::<B>(parts)?;
        if mem.len() < ITEMS
            || mem[TYPE].load(SeqCst) != T::TYPECODE as usize
            || mem[LEN].load(SeqCst) != mem.len() - ITEMS
        {
            return Err(HandleError::Mismatch("not an Array of this type"));
        }
        Ok(RawArray {
            tag: tag_of::<B>("mp.Array", &mem),
            mem,
            _t: PhantomData,
        })
    }
}

/// Python's `multiprocessing.Array(typecode, size_or_initializer, lock=True)`: shared
/// scalars and a lock (a new [`RLock`] unless one is given). Each element access takes the
/// lock; a read-modify-write of an element does not (`a[i] += 1` loses updates across
/// processes unless done under [`get_lock`](Array::get_lock)).
///
/// # Examples
///
/// ```
/// use lockproof::multiprocessing::Array;
///
/// let a = Array::<f64>::zeroed(3);
/// {
///     let _g = a.get_lock().lock();
///     a.set(1, a.get(1)? + 0.5)?;
/// }
/// assert_eq!(a.to_vec(), vec![0.0, 0.5, 0.0]);
/// # Ok::<(), lockproof::Error>(())
/// ```
pub struct Array<T: Scalar, B: ProcessBackend = Std> {
    lock: AnyLock<B>,
    obj: RawArray<T, B>,
}

impl<T: Scalar, B: ProcessBackend> Array<T, B> {
    /// `multiprocessing.Array(typecode, initializer)`, guarded by a new [`RLock`].
    ///
    /// # Panics
    ///
    /// If the OS refuses shared memory.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::multiprocessing::{AnyLock, Array};
    ///
    /// let a = Array::new(&[1i32, 2, 3]); // mp.Array('i', [1, 2, 3])
    /// assert_eq!(a.to_vec(), [1, 2, 3]);
    /// assert!(matches!(a.get_lock(), AnyLock::RLock(_)));
    /// ```
    pub fn new(values: &[T]) -> Self {
        Self::with_lock(values, RLock::new())
    }

    /// `multiprocessing.Array(typecode, size)`: `size` zeros.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::multiprocessing::Array;
    ///
    /// let a = Array::<f64>::zeroed(3); // mp.Array('d', 3)
    /// assert_eq!(a.to_vec(), [0.0; 3]);
    /// ```
    pub fn zeroed(len: usize) -> Self {
        Self::new(&vec![T::from_word(0); len])
    }

    /// `multiprocessing.Array(typecode, initializer, lock=lock)`.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::multiprocessing::{AnyLock, Array, Lock};
    ///
    /// let a = Array::with_lock(&[0i32; 2], Lock::new());
    /// assert!(matches!(a.get_lock(), AnyLock::Lock(_)));
    /// ```
    pub fn with_lock(values: &[T], lock: impl Into<AnyLock<B>>) -> Self {
        Array {
            lock: lock.into(),
            obj: RawArray::new(values),
        }
    }

    /// Name the array in checker traces (no effect on real processes).
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::multiprocessing::Array;
    ///
    /// let a = Array::new(&[0i32; 2]).with_name("table"); // how a checker trace calls it
    /// assert_eq!(a.len(), 2);
    /// ```
    pub fn with_name(self, name: &str) -> Self {
        Array {
            lock: self.lock,
            obj: self.obj.with_name(name),
        }
    }

    /// `get_lock()`.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::multiprocessing::Array;
    ///
    /// let a = Array::new(&[1i32, 2]);
    /// {
    ///     // Read-modify-write of two elements under one hold of the (reentrant) lock.
    ///     let _g = a.get_lock().lock();
    ///     let (x, y) = (a.get(0)?, a.get(1)?);
    ///     a.set(0, y)?;
    ///     a.set(1, x)?;
    /// }
    /// assert_eq!(a.to_vec(), [2, 1]);
    /// # Ok::<(), lockproof::Error>(())
    /// ```
    pub fn get_lock(&self) -> &AnyLock<B> {
        &self.lock
    }

    /// `get_obj()`: the unguarded array.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::multiprocessing::Array;
    ///
    /// let a = Array::new(&[0i32]);
    /// a.get_obj().set(0, 4)?; // no lock taken
    /// assert_eq!(a.get(0), Ok(4));
    /// # Ok::<(), lockproof::Error>(())
    /// ```
    pub fn get_obj(&self) -> &RawArray<T, B> {
        &self.obj
    }

    /// `len(a)`.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::multiprocessing::Array;
    ///
    /// assert_eq!(Array::<i32>::zeroed(5).len(), 5);
    /// ```
    pub fn len(&self) -> usize {
        self.obj.len()
    }

    /// `len(a) == 0`.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::multiprocessing::Array;
    ///
    /// assert!(Array::<i32>::zeroed(0).is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.obj.is_empty()
    }

    /// `a[i]`, under the lock.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::multiprocessing::Array;
    /// use lockproof::Error;
    ///
    /// let a = Array::new(&[8i64]);
    /// assert_eq!(a.get(0), Ok(8));
    /// assert_eq!(a.get(1), Err(Error::InvalidIndex));
    /// ```
    pub fn get(&self, i: usize) -> Result<T> {
        let _g = self.lock.lock();
        self.obj.get(i)
    }

    /// `a[i] = x`, under the lock.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::multiprocessing::Array;
    ///
    /// let a = Array::<i32>::zeroed(2);
    /// a.set(0, -1)?;
    /// assert_eq!(a.to_vec(), [-1, 0]);
    /// assert!(!a.get_lock().is_mine()); // released again
    /// # Ok::<(), lockproof::Error>(())
    /// ```
    pub fn set(&self, i: usize, value: T) -> Result<()> {
        let _g = self.lock.lock();
        self.obj.set(i, value)
    }

    /// `a[:]`, under the lock.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::multiprocessing::Array;
    ///
    /// assert_eq!(Array::new(&[true, false]).to_vec(), [true, false]);
    /// ```
    pub fn to_vec(&self) -> Vec<T> {
        let _g = self.lock.lock();
        self.obj.to_vec()
    }
}

impl<T: Scalar, B: ProcessBackend> fmt::Debug for Array<T, B> {
    /// `<SynchronizedArray wrapper for …>`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "<SynchronizedArray wrapper for {:?}>", self.obj)
    }
}

impl<T: Scalar, B: ProcessBackend> Parts<B> for Array<T, B> {
    fn parts(&self, out: &mut Vec<B::Memory>) {
        out.push(self.lock.memory().clone());
        self.obj.parts(out);
    }
    fn from_parts(parts: &mut dyn Iterator<Item = B::Memory>) -> Result<Self, HandleError> {
        Ok(Array {
            lock: AnyLock::from_memory(next::<B>(parts)?)?,
            obj: RawArray::from_parts(parts)?,
        })
    }
}

shareable_typed!(RawArray, "RawArray::new(&[1i32, 2])");
shareable_typed!(Array, "Array::new(&[1i32, 2])");

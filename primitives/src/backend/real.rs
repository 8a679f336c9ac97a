//! Real OS threads: std atomics, `parking_lot_core` wait queues, the monotonic clock.

use super::{Backend, JoinHandle, Moment, ObjectTag, ParkRequest, ParkResult, RawBackend, Record};
use std::cell::Cell;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// Real threads. Deadlines use the monotonic clock ([`Instant`]); a wait never returns
/// early without cause (`parking_lot_core` re-parks on spurious OS wakeups), so no
/// spurious wakeup can leak to any primitive.
///
/// # Examples
///
/// ```
/// use lockproof::backend::{Backend, JoinHandle, Std};
///
/// let t = Std::spawn("worker", || 6 * 7); // a real thread
/// assert_eq!(t.join(), 42);
/// assert_eq!(Std::NAME, "std");
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct Std;

/// The zero-sized object tag of [`Std`]: real threads keep no trace.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoTag;

impl ObjectTag for NoTag {
    #[inline(always)]
    fn new(_kind: &'static str) -> Self {
        NoTag
    }
    #[inline(always)]
    fn alias(&self) -> Self {
        NoTag
    }
    #[inline(always)]
    fn set_name(&self, _name: &str) {}
}

forward_raw_atomic!(AtomicUsize);

/// A joinable real thread.
///
/// # Examples
///
/// ```
/// use lockproof::backend::{Backend, JoinHandle, Std};
///
/// let t = Std::spawn("t", || "done");
/// assert_eq!(t.join(), "done");
/// ```
#[derive(Debug)]
pub struct StdJoinHandle<T>(std::thread::JoinHandle<T>);

impl<T: Send> JoinHandle<T> for StdJoinHandle<T> {
    fn join(self) -> T {
        match self.0.join() {
            Ok(v) => v,
            Err(panic) => std::panic::resume_unwind(panic),
        }
    }
}

fn epoch() -> Instant {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    *EPOCH.get_or_init(Instant::now)
}

thread_local! {
    static THREAD_ID: Cell<u64> = const { Cell::new(0) };
    static RNG: Cell<u64> = const { Cell::new(0) };
}

static NEXT_THREAD_ID: AtomicU64 = AtomicU64::new(1);

// SAFETY: parking_lot_core's park validates under the bucket lock that its unpark takes,
// wakes FIFO, and `park` below re-parks on any wakeup that is not an unpark or the deadline.
unsafe impl RawBackend for Std {
    type Atomic = AtomicUsize;
    type Tag = NoTag;

    fn park(req: ParkRequest<'_, Self>, validate: impl FnOnce() -> bool) -> ParkResult {
        let timeout = req
            .deadline
            .and_then(|d| epoch().checked_add(Duration::from_nanos(d.0)));
        // A deadline beyond what `Instant` can represent waits forever (`timeout` is None).
        // SAFETY: `validate` and the callbacks do not call back into parking_lot_core and do
        // not panic (they are atomic loads of the primitive's state).
        let result = unsafe {
            parking_lot_core::park(
                req.key,
                validate,
                || {},
                |_, _| {},
                parking_lot_core::DEFAULT_PARK_TOKEN,
                timeout,
            )
        };
        match result {
            parking_lot_core::ParkResult::Unparked(_) => ParkResult::Unparked,
            parking_lot_core::ParkResult::Invalid => ParkResult::Invalid,
            parking_lot_core::ParkResult::TimedOut => ParkResult::TimedOut,
        }
    }

    fn unpark_one(word: &Self::Atomic) -> bool {
        let key = word as *const Self::Atomic as usize;
        // SAFETY: the callback does not call into parking_lot_core.
        let r = unsafe {
            parking_lot_core::unpark_one(key, |_| parking_lot_core::DEFAULT_UNPARK_TOKEN)
        };
        r.unparked_threads > 0
    }

    fn unpark_all(word: &Self::Atomic) -> usize {
        let key = word as *const Self::Atomic as usize;
        // SAFETY: no callbacks.
        unsafe { parking_lot_core::unpark_all(key, parking_lot_core::DEFAULT_UNPARK_TOKEN) }
    }

    #[inline(always)]
    fn record(_tag: &NoTag, _event: impl FnOnce() -> Record) {}

    #[inline]
    fn spin(spins: &mut u32) -> bool {
        // parking_lot's SpinWait: 2, 4, 8 spin-loop hints, then up to 7 yields.
        if *spins >= 10 {
            return false;
        }
        *spins += 1;
        if *spins <= 3 {
            for _ in 0..(1u32 << *spins) {
                std::hint::spin_loop();
            }
        } else {
            std::thread::yield_now();
        }
        true
    }
}

impl Backend for Std {
    type JoinHandle<T: Send + 'static> = StdJoinHandle<T>;

    const NAME: &'static str = "std";

    #[inline]
    fn current_thread() -> u64 {
        THREAD_ID.with(|id| {
            let v = id.get();
            if v != 0 {
                v
            } else {
                let v = NEXT_THREAD_ID.fetch_add(1, Ordering::Relaxed);
                id.set(v);
                v
            }
        })
    }

    fn now() -> Moment {
        Moment(u64::try_from(epoch().elapsed().as_nanos()).unwrap_or(u64::MAX))
    }

    fn sleep(duration: Duration) {
        std::thread::sleep(duration)
    }

    fn spawn<F, T>(name: &str, f: F) -> Self::JoinHandle<T>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        let handle = std::thread::Builder::new()
            .name(name.to_owned())
            .spawn(f)
            .unwrap_or_else(|e| panic!("cannot start thread {name:?}: {e}"));
        StdJoinHandle(handle)
    }

    fn yield_now() {
        std::thread::yield_now()
    }

    #[cfg(target_os = "linux")]
    type Process = super::spawn::ForkedProcess;
    #[cfg(not(target_os = "linux"))]
    type Process = super::spawn::Unsupported;

    fn spawn_process<F>(_name: &str, f: F) -> Self::Process
    where
        F: FnOnce() + Send + 'static,
    {
        #[cfg(target_os = "linux")]
        return super::spawn::fork(f);
        #[cfg(not(target_os = "linux"))]
        {
            drop(f);
            panic!("lockproof: real processes are supported on Linux only")
        }
    }

    fn choose(n: usize) -> usize {
        assert!(n > 0, "choose(0)");
        // xorshift64*, seeded per thread from its id: enough for a nondeterministic demo.
        RNG.with(|s| {
            let mut x = s.get();
            if x == 0 {
                x = Self::current_thread().wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
            }
            x ^= x >> 12;
            x ^= x << 25;
            x ^= x >> 27;
            s.set(x);
            (x.wrapping_mul(0x2545_F491_4F6C_DD1D) % n as u64) as usize
        })
    }
}

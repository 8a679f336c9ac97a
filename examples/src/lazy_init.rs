//! Lazy initialisation: build a value on first use, once.

use lockproof::backend::Backend;
use lockproof::{Lock, Shared};

/// A value built on first use by `get`.
#[derive(Debug)]
pub struct Lazy<B: Backend> {
    lock: Lock<B>,
    value: Shared<Option<u64>, B>,
    /// How many times the value was built (it should be once).
    pub builds: Shared<u32, B>,
    /// The bug: check, then take the lock only to store (check-then-act).
    check_then_act: bool,
}

impl<B: Backend> Lazy<B> {
    /// A correct lazy value: check and build under one lock hold.
    pub fn new() -> Self {
        Self::build(false)
    }

    /// The buggy lazy value: the emptiness check happens before the lock is taken.
    pub fn with_check_then_act() -> Self {
        Self::build(true)
    }

    fn build(check_then_act: bool) -> Self {
        Lazy {
            lock: Lock::new().with_name("lock"),
            value: Shared::new(None).with_name("value"),
            builds: Shared::new(0).with_name("builds"),
            check_then_act,
        }
    }

    fn make(&self) -> u64 {
        self.builds.set(self.builds.get() + 1);
        42
    }

    /// The value, built on the first call.
    pub fn get(&self) -> u64 {
        if self.check_then_act {
            if let Some(v) = self.value.get() {
                return v;
            }
            let v = self.make();
            let _g = self.lock.lock();
            self.value.set(Some(v));
            v
        } else {
            let _g = self.lock.lock();
            if let Some(v) = self.value.get() {
                return v;
            }
            let v = self.make();
            self.value.set(Some(v));
            v
        }
    }
}

impl<B: Backend> Default for Lazy<B> {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::Lazy;
    use lockproof::backend::{Backend, JoinHandle};
    use lockproof_harness::{check, Check, Model};
    use std::sync::Arc;

    /// Two threads call `get` at once; the value must be built once.
    struct TwoReaders {
        buggy: bool,
    }

    impl Model for TwoReaders {
        fn run<B: Backend>(&self) {
            let lazy = Arc::new(if self.buggy {
                Lazy::<B>::with_check_then_act()
            } else {
                Lazy::<B>::new()
            });
            let l2 = lazy.clone();
            let t = B::spawn("reader", move || l2.get());
            let mine = lazy.get();
            assert_eq!(t.join(), mine);
            let n = lazy.builds.get();
            assert_eq!(n, 1, "the value was built {n} times");
        }
    }

    #[test]
    fn check_then_act_builds_twice() {
        let report = Check::new(TwoReaders { buggy: true }).assert_violates("panic");
        let found = report.failure().expect("a counterexample");
        assert!(found.message.contains("built 2 times"), "{}", found.message);
        println!("{report}");
    }

    #[test]
    fn check_under_the_lock_builds_once() {
        check(TwoReaders { buggy: false });
    }
}

//! # lockproof-scenario
//!
//! A scenario is a small concurrent program built on lockproof's primitives, the settings
//! to check it with, and the verdict it is expected to get. Models crates define
//! scenarios; the harness (`lockproof-harness`) runs them under every engine.
//!
//! ```no_run
//! use lockproof_scenario::prelude::*;
//!
//! fn counter<B: Backend>() {
//!     let lock = Arc::new(Lock::<B>::new().with_name("lock"));
//!     let n = Arc::new(Shared::<i64, B>::new(0).with_name("n"));
//!     let ts: Vec<_> = (0..2).map(|i| {
//!         let (lock, n) = (lock.clone(), n.clone());
//!         B::spawn(&format!("t{i}"), move || { let _g = lock.lock(); n.set(n.get() + 1); })
//!     }).collect();
//!     ts.into_iter().for_each(|t| t.join());
//!     ensure(n.get() == 2, "no-lost-update", || format!("n == {}", n.get()));
//! }
//!
//! pub fn scenarios() -> Vec<Scenario> {
//!     vec![Scenario::new("demo-counter", "two threads add under a lock", bodies!(counter))
//!         .threads(2)]
//! }
//! ```

#![warn(missing_docs)]

mod probe;
pub mod python;
mod scenario;

pub use probe::{ensure, Region, RegionGuard, Rounds};
pub use scenario::{Bodies, Body, Expect, Scenario, Spurious};

/// What a model file needs: the primitives, the backend trait, the scenario API.
pub mod prelude {
    pub use crate::{bodies, ensure, Expect, Region, Rounds, Scenario, Spurious};
    pub use lockproof::backend::checked::TimeMode;
    pub use lockproof::backend::{Backend, JoinHandle};
    pub use lockproof::{
        Barrier, BarrierAction, BoundedSemaphore, Condition, Error, Event, Lock, RLock, Semaphore,
        Shared, Truthy,
    };
    pub use std::sync::Arc;
    pub use std::time::Duration;
}

#[doc(hidden)]
pub mod __private {
    pub use lockproof::backend::{Loom, Shuttle};
}

/// The bodies of a scenario: one generic function `fn f<B: Backend>()`, instantiated for
/// every engine. `bodies!(f)` is the only place a model meets the engines, and it does not
/// name them.
#[macro_export]
macro_rules! bodies {
    ($($f:ident)::+) => {
        $crate::Bodies {
            loom: ::std::sync::Arc::new($($f)::+::<$crate::__private::Loom>),
            shuttle: ::std::sync::Arc::new($($f)::+::<$crate::__private::Shuttle>),
        }
    };
}

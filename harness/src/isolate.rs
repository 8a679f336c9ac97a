//! Engine runs in a child process of a test binary, as rusty-fork does: the binary is run
//! again with a filter for the current test, and the test's own [`Check`](crate::Check),
//! seeing it is the child, answers the request on its standard input and exits. A loom
//! abort then ends the child, not the test process, and is reported as a failure of the
//! run with the child's last words.

use crate::child::Runner;
use lockproof_scenario::Scenario;
use std::io::Read;

/// Set in the environment of a child run.
///
/// # Examples
///
/// ```
/// assert_eq!(lockproof_harness::isolate::CHILD_ENV, "LOCKPROOF_CHILD");
/// ```
pub const CHILD_ENV: &str = "LOCKPROOF_CHILD";

/// A runner that re-runs the current test binary for the current test; in-process when the
/// test's name is not known (a test run on the main thread, a doctest).
///
/// # Examples
///
/// ```
/// use lockproof_harness::child::Runner;
///
/// // A doctest runs on the main thread: no test name to re-run, so in-process.
/// assert!(matches!(lockproof_harness::isolate::runner(), Runner::InProcess));
/// ```
pub fn runner() -> Runner {
    let test = std::thread::current()
        .name()
        .filter(|n| *n != "main")
        .map(str::to_owned);
    match (std::env::current_exe(), test) {
        (Ok(exe), Some(test)) => Runner::TestBinary { exe, test },
        _ => Runner::InProcess,
    }
}

/// In a child run: serve the request on standard input for `scenario` and return `Some`;
/// the caller exits. Elsewhere `None`.
///
/// # Examples
///
/// ```
/// # use lockproof::backend::Backend;
/// # struct Ordered;
/// # impl lockproof_harness::Model for Ordered { fn run<B: Backend>(&self) {} }
/// use lockproof_harness::{isolate, Check};
///
/// let scenario = Check::new(Ordered).as_scenario();
/// assert_eq!(isolate::serve_if_child(&scenario), None); // not a child run
/// ```
pub fn serve_if_child(scenario: &Scenario) -> Option<i32> {
    std::env::var_os(CHILD_ENV)?;
    let mut request = String::new();
    if std::io::stdin().read_to_string(&mut request).is_err() {
        return Some(2);
    }
    Some(crate::child::serve(
        &request,
        std::slice::from_ref(scenario),
    ))
}

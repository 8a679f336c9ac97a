//! A quiet panic hook for checking: failing executions panic on purpose, thousands of
//! times; their messages are kept for the report instead of printed.
//!
//! The hook is quiet only while an engine run is under way on the panicking thread (see
//! [`quiet`]); any other panic — a user's own failing `assert!` in a `#[test]` that also
//! uses the checker — goes to the hook that was installed before, which prints it.

use std::cell::{Cell, RefCell};
use std::sync::Once;

thread_local! {
    static LAST: RefCell<Option<String>> = const { RefCell::new(None) };
    static QUIET: Cell<u32> = const { Cell::new(0) };
}

/// While the returned guard lives, panics on this thread are recorded, not printed.
///
/// # Examples
///
/// ```
/// use lockproof_harness::panics::{quiet, take_last_panic};
///
/// let guard = quiet();
/// let r = std::panic::catch_unwind(|| panic!("expected"));
/// drop(guard);
/// assert!(r.is_err());
/// assert!(take_last_panic().unwrap().starts_with("expected"));
/// ```
pub fn quiet() -> QuietGuard {
    install_quiet_hook();
    QUIET.with(|q| q.set(q.get() + 1));
    QuietGuard(())
}

/// See [`quiet`].
///
/// # Examples
///
/// ```
/// let guard = lockproof_harness::panics::quiet();
/// let _ = std::panic::catch_unwind(|| panic!("kept, not printed"));
/// drop(guard); // panics print again
/// ```
#[derive(Debug)]
pub struct QuietGuard(());

impl Drop for QuietGuard {
    fn drop(&mut self) {
        QUIET.with(|q| q.set(q.get().saturating_sub(1)));
    }
}

/// Install the quiet hook once per process, chained to the hook in place before the first
/// engine ran (shuttle's own, which prints a failing schedule the harness saves to a file
/// instead, is replaced).
///
/// # Examples
///
/// ```
/// lockproof_harness::panics::install_quiet_hook();
/// lockproof_harness::panics::install_quiet_hook(); // once per process: a no-op now
/// ```
pub fn install_quiet_hook() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // The hook in place before any engine ran (the default one, or the user's).
        let previous = std::panic::take_hook();
        // Let shuttle install its hook now (once per process), so that ours replaces it:
        // shuttle's prints a failing schedule for any panic, even outside an execution.
        shuttle::Runner::new(
            shuttle::scheduler::RoundRobinScheduler::new(1),
            shuttle::Config::new(),
        )
        .run(|| {});
        std::panic::set_hook(Box::new(move |info| {
            if QUIET.with(|q| q.get()) == 0 {
                previous(info);
                return;
            }
            let msg = if let Some(s) = info.payload().downcast_ref::<&str>() {
                (*s).to_owned()
            } else if let Some(s) = info.payload().downcast_ref::<String>() {
                s.clone()
            } else {
                "(non-string panic payload)".to_owned()
            };
            let msg = match info.location() {
                Some(l) => format!("{msg} (at {}:{})", l.file(), l.line()),
                None => msg,
            };
            LAST.with(|l| *l.borrow_mut() = Some(msg));
        }));
    });
}

/// The message of the last panic on this thread, if any since the last call.
///
/// # Examples
///
/// ```
/// use lockproof_harness::panics::{set_last_panic, take_last_panic};
///
/// set_last_panic("boom".to_owned());
/// assert_eq!(take_last_panic().as_deref(), Some("boom"));
/// assert_eq!(take_last_panic(), None);
/// ```
pub fn take_last_panic() -> Option<String> {
    LAST.with(|l| l.borrow_mut().take())
}

/// Put a message back as the last panic (after looking at it).
///
/// # Examples
///
/// ```
/// use lockproof_harness::panics::{set_last_panic, take_last_panic};
///
/// set_last_panic("from a child".to_owned());
/// assert_eq!(take_last_panic().as_deref(), Some("from a child"));
/// ```
pub fn set_last_panic(msg: String) {
    LAST.with(|l| *l.borrow_mut() = Some(msg));
}

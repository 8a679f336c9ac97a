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
pub fn quiet() -> QuietGuard {
    install_quiet_hook();
    QUIET.with(|q| q.set(q.get() + 1));
    QuietGuard(())
}

/// See [`quiet`].
#[derive(Debug)]
pub struct QuietGuard(());

impl Drop for QuietGuard {
    fn drop(&mut self) {
        QUIET.with(|q| q.set(q.get().saturating_sub(1)));
    }
}

/// Install the quiet hook once per process, chained to the hook in place before (shuttle's,
/// which itself chains to the one before it): shuttle's prints the failing schedule, which
/// the harness saves to a file instead, so during engine runs the chain is not called.
pub fn install_quiet_hook() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // Let shuttle install its hook first, so that ours is the one left in place.
        shuttle::Runner::new(
            shuttle::scheduler::RoundRobinScheduler::new(1),
            shuttle::Config::new(),
        )
        .run(|| {});
        let previous = std::panic::take_hook();
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
pub fn take_last_panic() -> Option<String> {
    LAST.with(|l| l.borrow_mut().take())
}

/// Put a message back as the last panic (after looking at it).
pub fn set_last_panic(msg: String) {
    LAST.with(|l| *l.borrow_mut() = Some(msg));
}

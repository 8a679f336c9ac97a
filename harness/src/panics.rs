//! A quiet panic hook for checking: failing executions panic on purpose, thousands of
//! times; their messages are kept for the report instead of printed.

use std::cell::RefCell;
use std::sync::Once;

thread_local! {
    static LAST: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Install the quiet hook once per process (after shuttle's own, which it replaces: shuttle's
/// prints the failing schedule, which the harness saves to a file instead).
pub fn install_quiet_hook() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // Let shuttle install its hook first, so that ours is the one left in place.
        shuttle::Runner::new(
            shuttle::scheduler::RoundRobinScheduler::new(1),
            shuttle::Config::new(),
        )
        .run(|| {});
        std::panic::set_hook(Box::new(|info| {
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

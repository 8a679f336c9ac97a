//! # lockproof examples
//!
//! What a user of lockproof writes: concurrent code generic over the backend (so it runs on
//! real threads as `Lock<Std>` and under the checker), a model that drives it, and one
//! `#[test]` per claim. Each module holds a classic bug, the `#[test]` that finds it with
//! its trace, and the fixed version that holds:
//!
//! | module | bug | what the checker reports |
//! |---|---|---|
//! | [`bounded_buffer`] | `if` instead of `while` around `Condition.wait` | a producer overfills the buffer |
//! | [`lazy_init`] | check-then-act without the lock held across | the value is built twice |
//! | [`transfer`] | two accounts' locks taken in the order of the call | `deadlock (lock cycle)` |
//!
//! Run them with `cargo test -p lockproof-examples`; a failing check prints the trace, the
//! saved schedule (under `target/lockproof/`) and the command that replays it.

pub mod bounded_buffer;
pub mod lazy_init;
pub mod transfer;

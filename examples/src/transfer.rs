//! Moving money between two accounts, each with its own lock.

use lockproof::backend::Backend;
use lockproof::{Lock, Shared};

/// An account: a balance behind a lock.
#[derive(Debug)]
pub struct Account<B: Backend> {
    /// A stable number, used to order lock acquisition.
    pub id: u32,
    lock: Lock<B>,
    balance: Shared<i64, B>,
}

impl<B: Backend> Account<B> {
    /// An account holding `balance`.
    pub fn new(id: u32, balance: i64) -> Self {
        Account {
            id,
            lock: Lock::new().with_name(&format!("account{id}")),
            balance: Shared::new(balance).with_name(&format!("balance{id}")),
        }
    }

    /// The balance (read under the lock).
    pub fn balance(&self) -> i64 {
        let _g = self.lock.lock();
        self.balance.get()
    }
}

/// The bug: lock `from`, then `to` — two opposite transfers lock in opposite orders.
pub fn transfer_in_call_order<B: Backend>(from: &Account<B>, to: &Account<B>, amount: i64) {
    let _f = from.lock.lock();
    let _t = to.lock.lock();
    from.balance.set(from.balance.get() - amount);
    to.balance.set(to.balance.get() + amount);
}

/// The fix: always lock the account with the smaller id first.
pub fn transfer_in_id_order<B: Backend>(from: &Account<B>, to: &Account<B>, amount: i64) {
    let (first, second) = if from.id < to.id {
        (from, to)
    } else {
        (to, from)
    };
    let _f = first.lock.lock();
    let _s = second.lock.lock();
    from.balance.set(from.balance.get() - amount);
    to.balance.set(to.balance.get() + amount);
}

#[cfg(test)]
mod tests {
    use super::{transfer_in_call_order, transfer_in_id_order, Account};
    use lockproof::backend::{Backend, JoinHandle};
    use lockproof_harness::{check, Check, Model};
    use std::sync::Arc;

    /// Two opposite transfers at once; the total is kept.
    struct OppositeTransfers {
        ordered: bool,
    }

    impl Model for OppositeTransfers {
        fn run<B: Backend>(&self) {
            let (a, b) = (
                Arc::new(Account::<B>::new(1, 100)),
                Arc::new(Account::<B>::new(2, 100)),
            );
            let go = if self.ordered {
                transfer_in_id_order::<B>
            } else {
                transfer_in_call_order::<B>
            };
            let (a2, b2) = (a.clone(), b.clone());
            let t = B::spawn("b-to-a", move || go(&b2, &a2, 30));
            go(&a, &b, 10);
            t.join();
            assert_eq!(a.balance() + b.balance(), 200);
        }
    }

    #[test]
    fn locks_in_call_order_deadlock() {
        let report = Check::new(OppositeTransfers { ordered: false }).assert_violates("deadlock");
        let found = report.failure().expect("a counterexample");
        assert!(
            found.message.contains("deadlock (lock cycle)"),
            "{}",
            found.message
        );
        println!("{report}");
    }

    #[test]
    fn locks_in_id_order_hold() {
        check(OppositeTransfers { ordered: true });
    }
}

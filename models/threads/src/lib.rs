//! The tutorial's thread examples as scenarios (filled in chapter by chapter).

use lockproof_scenario::Scenario;

/// Every scenario of this crate.
pub fn scenarios() -> Vec<Scenario> {
    Vec::new()
}

//! Chapter 6 (threading.Barrier) of the tutorial: its examples as scenarios.

use lockproof_scenario::Scenario;

/// The chapter's scenarios, in tutorial order.
pub fn scenarios() -> Vec<Scenario> {
    Vec::new()
}

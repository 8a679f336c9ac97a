//! Section 9.3 of the tutorial, ZooKeeper locks, read-write locks, the config manager, the queue and the election (section 9.3): its examples as scenarios.

use lockproof_scenario::Scenario;

/// The section's scenarios, in tutorial order.
pub fn scenarios() -> Vec<Scenario> {
    Vec::new()
}

//! Section 9.1 of the tutorial, Redis locks, Redlock, the scheduler and the cache (section 9.1): its examples as scenarios.

use lockproof_scenario::Scenario;

/// The section's scenarios, in tutorial order.
pub fn scenarios() -> Vec<Scenario> {
    Vec::new()
}

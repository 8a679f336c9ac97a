//! Section 9.2 of the tutorial, database lock tables (section 9.2): its examples as scenarios.

use lockproof_scenario::Scenario;

/// The section's scenarios, in tutorial order.
pub fn scenarios() -> Vec<Scenario> {
    Vec::new()
}

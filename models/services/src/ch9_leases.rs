//! Section 9.4 of the tutorial, lease timeouts and renewal (section 9.4): its examples as scenarios.

use lockproof_scenario::Scenario;

/// The section's scenarios, in tutorial order.
pub fn scenarios() -> Vec<Scenario> {
    Vec::new()
}

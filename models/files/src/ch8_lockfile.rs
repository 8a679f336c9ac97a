//! Section 8.3 (exclusive and shared locks built from lock files) of the tutorial: its examples as scenarios.

use lockproof_scenario::Scenario;

/// The scenarios of this section.
pub fn scenarios() -> Vec<Scenario> {
    Vec::new()
}

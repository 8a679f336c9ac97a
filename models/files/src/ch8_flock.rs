//! Section 8.1 (`fcntl.flock` and `fcntl` record locks) of the tutorial: its examples as scenarios.

use lockproof_scenario::Scenario;

/// The scenarios of this section.
pub fn scenarios() -> Vec<Scenario> {
    Vec::new()
}

//! Section 8.2 (`msvcrt.locking`, simulated: there is no Windows machine) of the tutorial: its examples as scenarios.

use lockproof_scenario::Scenario;

/// The scenarios of this section.
pub fn scenarios() -> Vec<Scenario> {
    Vec::new()
}

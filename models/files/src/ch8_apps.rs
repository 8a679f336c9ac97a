//! Section 8.4 (applications: data files, task queues, resource managers, loggers) of the tutorial: its examples as scenarios.

use lockproof_scenario::Scenario;

/// The scenarios of this section.
pub fn scenarios() -> Vec<Scenario> {
    Vec::new()
}

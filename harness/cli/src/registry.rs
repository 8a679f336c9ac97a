//! Every scenario the `lockproof` binary knows: the harness's self-tests and engine-conformance
//! models, then the tutorial's models.

use lockproof_scenario::Scenario;

/// All registered scenarios, self-tests first.
pub fn all() -> Vec<Scenario> {
    let mut v = crate::selftest::scenarios();
    v.extend(crate::conformance::scenarios());
    v.extend(lockproof_models_threads::scenarios());
    v.extend(lockproof_models_processes::scenarios());
    v.extend(lockproof_models_files::scenarios());
    v.extend(lockproof_models_services::scenarios());
    v
}

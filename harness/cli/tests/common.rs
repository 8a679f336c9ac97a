//! Shared by the harness's integration tests.
#![allow(dead_code)] // each test file uses a part

use lockproof_cli::registry;
use lockproof_harness::check::{Budget, Family, Request};
use lockproof_harness::child::Runner;
use lockproof_scenario::Scenario;
use std::path::{Path, PathBuf};

/// The workspace root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Engine runs go through the `lockproof` binary, as the CLI runs them.
pub fn runner() -> Runner {
    Runner::Child(PathBuf::from(env!("CARGO_BIN_EXE_lockproof")))
}

/// The CI budget, every engine but dfs, saving nothing.
pub fn request() -> Request {
    Request {
        families: vec![Family::Loom, Family::Random, Family::Pct],
        budget: Budget::ci(),
        save_root: None,
        runner: runner(),
    }
}

/// [`request`], saving failing schedules under `dir`.
pub fn request_saving_to(dir: &Path) -> Request {
    Request {
        save_root: Some(dir.to_path_buf()),
        ..request()
    }
}

/// The registered scenario `id`.
pub fn scenario(id: &str) -> Scenario {
    registry::all()
        .into_iter()
        .find(|s| s.id == id)
        .unwrap_or_else(|| panic!("scenario {id} is registered"))
}

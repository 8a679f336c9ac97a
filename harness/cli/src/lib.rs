//! # lockproof-cli
//!
//! The corpus on top of the checker library: the `lockproof` binary (`check`, `replay`,
//! `trace`, `coverage`), the registry of every scenario it knows (the checker's self-tests,
//! the engine-conformance models and the tutorial's models), and the coverage report of the
//! tutorial catalogue.
//!
//! - [`cli`]: the command line; [`registry`]: every registered scenario;
//! - [`selftest`], [`conformance`]: scenarios that test the checker itself;
//! - [`coverage`]: what the corpus accounts for, per tutorial chapter;
//! - [`junit`]: a check's results as JUnit XML for CI;
//! - [`report`]: HTML pages of counterexamples (`trace --html`, `check --report`).

pub mod cli;
pub mod conformance;
pub mod coverage;
pub mod junit;
pub mod registry;
pub mod report;
pub mod selftest;

pub use lockproof_scenario::{Expect, Scenario};

#!/usr/bin/env bash
# The CI job: formatting, lints, the README's test command, and benchmarks compile.
# Needs a Rust toolchain (rustfmt and clippy are used when installed), and installs from Debian
# what some tests need when it is missing (ci/deps.sh: xmllint, chromium).
set -euo pipefail
cd "$(dirname "$0")/.."

# step TITLE: print a section header with the time the previous section took (CI's budget is
# 30 minutes on 2 cores; the log shows where it goes).
_t0=$SECONDS
_last=$SECONDS
step() {
  echo "== [$((SECONDS - _t0)) s; previous step $((SECONDS - _last)) s] $1"
  _last=$SECONDS
}

step "test tools (ci/deps.sh)"
# shellcheck source=ci/deps.sh
source ci/deps.sh
ensure_test_tools

step "ZooKeeper, etcd and protoc (ci/servers.sh; the tests start private servers)"
# shellcheck source=ci/servers.sh
source ci/servers.sh
ensure_coord_servers

step "toolchain"
cargo --version
rustc --version

if cargo fmt --version >/dev/null 2>&1; then
  step "cargo fmt --check"
  cargo fmt --all --check
fi

if cargo clippy --version >/dev/null 2>&1; then
  step "cargo clippy"
  cargo clippy --workspace --all-targets --quiet -- -D warnings
fi

step "tests (README: cargo test --workspace)"
# The exhaustive and random checks run with the CI budget (lockproof_harness::check::Budget::ci);
# README.md says how to run the full one.
cargo test --workspace

step "fuzz: each target of fuzz/ for 10 s (ci/fuzz.sh)"
bash ci/fuzz.sh

step "artifacts: the browser test's pages and screenshots"
ls "${CARGO_TARGET_DIR:-target}/lockproof/artifacts" || true

step "benchmarks compile (they are never run in CI)"
# In the dev profile: the check is that they compile, and the test build's artifacts are reused
# (a release build of the whole workspace took minutes). `bash ci/bench.sh` runs them optimised.
cargo bench --workspace --benches --no-run --quiet --profile dev

step "mutants: one mutant of the change's primitives, monitor and engine code (ci/mutants.sh diff)"
# MUTANTS.md: the full run is sharded across sessions; here only what the last change touched,
# capped at 4 minutes (0 s when the change touches none of that code). Last: it mutates the
# checkout in place, reusing the test build above.
bash ci/mutants.sh diff
step "done"

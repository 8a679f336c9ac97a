#!/usr/bin/env bash
# The CI job: formatting, lints, the README's test command, and benchmarks compile.
# Needs a Rust toolchain (rustfmt and clippy are used when installed), and installs from Debian
# what some tests need when it is missing (ci/deps.sh: xmllint, chromium).
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== test tools (ci/deps.sh)"
# shellcheck source=ci/deps.sh
source ci/deps.sh
ensure_test_tools

echo "== toolchain"
cargo --version
rustc --version

if cargo fmt --version >/dev/null 2>&1; then
  echo "== cargo fmt --check"
  cargo fmt --all --check
fi

if cargo clippy --version >/dev/null 2>&1; then
  echo "== cargo clippy"
  cargo clippy --workspace --all-targets --quiet -- -D warnings
fi

echo "== tests (README: cargo test --workspace)"
# The exhaustive and random checks run with the CI budget (lockproof_harness::check::Budget::ci);
# README.md says how to run the full one.
cargo test --workspace

echo "== fuzz: each target of fuzz/ for 10 s (ci/fuzz.sh)"
bash ci/fuzz.sh

echo "== artifacts: the browser test's pages and screenshots"
ls "${CARGO_TARGET_DIR:-target}/lockproof/artifacts" || true

echo "== benchmarks compile (they are never run in CI)"
cargo bench --workspace --no-run --quiet

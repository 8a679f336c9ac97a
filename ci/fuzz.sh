#!/usr/bin/env bash
# A short fuzz run: every cargo-fuzz target of fuzz/ for FUZZ_SECONDS seconds (default 10;
# FUZZ_PROFILE=release for an optimised build, which the longer run wants),
# from the repository's real inputs (fuzz/seeds.sh) and the corpus earlier runs kept.
# Fails on any crash, hang (-timeout) or runaway allocation; the input is then under
# fuzz/artifacts/<target>/ (fuzz/README.md: how to reproduce it and make it a test).
#
# cargo-fuzz is installed into the build folder when missing (pinned version). Stable Rust
# is enough: without a sanitizer cargo-fuzz passes rustc only stable flags (sancov pass,
# -Cllvm-args, --cfg fuzzing). No sanitizer: the code fuzzed is safe Rust, and ASan
# (-Zsanitizer, RUSTC_BOOTSTRAP=1 on stable) costs a build of its own (fuzz/README.md).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${FUZZ_SECONDS:-10}
work=$(realpath -m "${CARGO_TARGET_DIR:-target}")/fuzz
targets=(schedule_file cli_args pattern catalogue)

if ! cargo fuzz --version >/dev/null 2>&1; then
  if [ ! -x "$work/cargo-fuzz/bin/cargo-fuzz" ]; then
    echo "== installing cargo-fuzz 0.13.2 into $work/cargo-fuzz"
    cargo install cargo-fuzz --version 0.13.2 --locked --quiet --root "$work/cargo-fuzz"
  fi
  export PATH="$work/cargo-fuzz/bin:$PATH"
fi
fuzz=(--sanitizer none --target-dir "$work/build")
# The short run (CI) builds unoptimised: a release build of the targets (every model crate,
# one codegen unit) took ~6 minutes, a --dev build a fraction of it, and 10 s of fuzzing needs
# no speed. The longer run sets FUZZ_PROFILE=release (fuzz/README.md).
if [ "${FUZZ_PROFILE:-dev}" = dev ]; then
  fuzz+=(--dev)
fi

echo "== cargo fmt --check of the fuzz targets (a workspace of their own)"
cargo fmt --manifest-path fuzz/Cargo.toml --check

echo "== building the fuzz targets"
cargo fuzz build "${fuzz[@]}"
fuzz/seeds.sh "$work/seeds"
for t in "${targets[@]}"; do
  echo "== fuzz $t for ${seconds} s"
  mkdir -p "$work/corpus/$t"
  if ! cargo fuzz run "${fuzz[@]}" "$t" "$work/corpus/$t" "$work/seeds/$t" -- \
    -max_total_time="$seconds" -timeout=5 -rss_limit_mb=2048 -malloc_limit_mb=1024 \
    -print_final_stats=1 >"$work/$t.log" 2>&1; then
    tail -n 60 "$work/$t.log" >&2
    echo "fuzz $t failed: the input is under fuzz/artifacts/$t/ (log: $work/$t.log)" >&2
    exit 1
  fi
  grep -E '^(Done|stat::(number_of_executed_units|new_units_added|peak_rss_mb))' "$work/$t.log"
done

#!/usr/bin/env bash
# Run every benchmark and update BENCHMARKS.md's generated tables (ratios from this one run).
# Only the tables between `<!-- NAME:begin -->` / `<!-- NAME:end -->` markers are rewritten
# (ci/bench_table.py); the prose and the sections written by hand stay as they are.
# Needs python3 for the CPython column and the tables. Takes about 12 minutes on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."
# criterion writes under the cargo target directory; the harness benches always write to
# target/lockproof-bench (their manifest dir's ../../target).
criterion="${CARGO_TARGET_DIR:-target}/criterion"
out=target/lockproof-bench
rm -rf "$criterion" "$out"
mkdir -p "$out"
cargo bench -p lockproof --bench primitives
cargo bench -p lockproof-cli --bench overhead
cargo bench -p lockproof-cli --bench first_bug
python3 ci/bench_python.py > "$out/python.json"
python3 ci/bench_mp.py --json > "$out/mp.json"
python3 ci/bench_fcntl.py --json > "$out/fcntl.json"
python3 ci/bench_table.py "$criterion" "$out" "$out/python.json" BENCHMARKS.md
echo "updated BENCHMARKS.md"

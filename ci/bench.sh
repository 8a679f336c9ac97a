#!/usr/bin/env bash
# Run every benchmark and write BENCHMARKS.md (ratios from this one run).
# Needs python3 for the CPython column and the table. Takes about 10 minutes on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."
rm -rf target/criterion target/lockproof-bench
cargo bench -p lockproof --bench primitives
cargo bench -p lockproof-cli --bench overhead
cargo bench -p lockproof-cli --bench first_bug
python3 ci/bench_python.py > target/lockproof-bench/python.json
python3 ci/bench_mp.py --json > target/lockproof-bench/mp.json
python3 ci/bench_fcntl.py --json > target/lockproof-bench/fcntl.json
python3 ci/bench_table.py target/criterion target/lockproof-bench target/lockproof-bench/python.json > BENCHMARKS.md
echo "wrote BENCHMARKS.md"

#!/usr/bin/env python3
"""Write BENCHMARKS.md from one run's criterion results, the harness benches and CPython.

    python3 ci/bench_table.py target/criterion target/lockproof-bench python.json > BENCHMARKS.md
"""
import glob
import json
import os
import platform
import subprocess
import sys

criterion_dir, lp_dir, python_json = sys.argv[1:4]

groups = {}
for bench in glob.glob(os.path.join(criterion_dir, "**", "new", "benchmark.json"), recursive=True):
    meta = json.load(open(bench))
    est = json.load(open(os.path.join(os.path.dirname(bench), "estimates.json")))
    groups.setdefault(meta["group_id"], {})[meta["function_id"]] = est["mean"]["point_estimate"]

py = json.load(open(python_json)) if os.path.exists(python_json) else {}

ORDER = [
    ("uncontended/lock", "lockproof::Lock", "acquire + release, one thread"),
    ("uncontended/rlock-depth1", "lockproof::RLock", "acquire + release, depth 1"),
    ("uncontended/rlock-depth3", "lockproof::RLock", "3 acquires + 3 releases"),
    ("uncontended/semaphore", "lockproof::Semaphore", "acquire + release, one thread"),
    ("handoff/condition", "lockproof::Condition", "2-thread notify/wait round trip"),
    ("handoff/event", "lockproof::Event", "2-thread set/wait round trip"),
    ("handoff/barrier2", "lockproof::Barrier", "one round of Barrier(2)"),
    ("handoff/barrier4", "lockproof::Barrier", "one round of Barrier(4)"),
    ("contended/counter", "lockproof::Lock", "2 threads, one increment each, under the lock"),
]


def cpu():
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.machine()


print("# Benchmarks\n")
print("One run of `bash ci/bench.sh` on this project's 2-core machine "
      f"({cpu()}, {os.cpu_count()} cores; rustc {subprocess.run(['rustc', '--version'], capture_output=True, text=True).stdout.split()[1]}; "
      f"CPython {py.get('_python', '?')}). Every ratio compares numbers of the same run. "
      "Ratios are *peer time / lockproof time*: below 1 means lockproof is slower.\n")
print("## Primitives\n")
print("| benchmark | what | lockproof | peer | peer / lockproof | CPython | CPython / lockproof |")
print("|---|---|---:|---|---:|---:|---:|")
for group, ours, what in ORDER:
    g = groups.get(group, {})
    if ours not in g:
        continue
    t = g[ours]
    peers = [(k, v) for k, v in g.items() if k != ours]
    cp = py.get(group)
    cps = f"{cp:.0f} ns" if cp else "–"
    cpr = f"{cp / t:.1f}×" if cp else "–"
    if not peers:
        print(f"| `{group}` | {what} | {t:.1f} ns | – | – | {cps} | {cpr} |")
    for i, (k, v) in enumerate(peers):
        print(f"| `{group}` | {what if i == 0 else ''} | {t:.1f} ns | {k} {v:.1f} ns | {v / t:.2f} | {cps if i == 0 else ''} | {cpr if i == 0 else ''} |")

pl = groups.get("process_lock", {})
mp_py = json.load(open(os.path.join(lp_dir, "mp.json"))) if os.path.exists(os.path.join(lp_dir, "mp.json")) else {}
if "lockproof::process::Lock" in pl:
    print("\n## Processes\n")
    print("multiprocessing's Lock (`lockproof::process::Lock`: a futex in `memfd` shared memory) "
          "against this crate's threading Lock, parking_lot and CPython's `multiprocessing.Lock`; "
          "a two-process handoff (ping-pong over two process-shared semaphores with a child "
          "process) against the same between two threads and CPython's two-process handoff.\n")
    print("| benchmark | lockproof::process | peer | peer / lockproof |")
    print("|---|---:|---|---:|")
    t = pl["lockproof::process::Lock"]
    for k in ("lockproof::Lock", "parking_lot::Mutex"):
        if k in pl:
            print(f"| uncontended acquire + release | {t:.1f} ns | {k} {pl[k]:.1f} ns | {pl[k] / t:.2f} |")
    if "mp_lock" in mp_py:
        print(f"| uncontended acquire + release | {t:.1f} ns | CPython multiprocessing.Lock {mp_py['mp_lock']:.1f} ns | {mp_py['mp_lock'] / t:.2f} |")
    h = pl.get("handoff-2proc/lockproof::process::Semaphore")
    if h:
        h2 = pl.get("handoff-2thread/lockproof::process::Semaphore")
        if h2:
            print(f"| handoff, one round | {h:.0f} ns (2 processes) | the same between 2 threads {h2:.0f} ns | {h2 / h:.2f} |")
        if "mp_handoff" in mp_py:
            print(f"| handoff, one round | {h:.0f} ns (2 processes) | CPython, 2 processes {mp_py['mp_handoff']:.0f} ns | {mp_py['mp_handoff'] / h:.2f} |")

fc_path = os.path.join(lp_dir, "fcntl.json")
fc_py = json.load(open(fc_path)) if os.path.exists(fc_path) else {}
file_rows = [
    ("file_lock/flock", "lockproof::file::fcntl::flock", "rustix::fs::flock", "flock"),
    ("file_lock/lockf", "lockproof::file::fcntl::lockf", "libc::fcntl(F_SETLKW)", "lockf"),
]
if any(ours in groups.get(g, {}) for g, ours, _, _ in file_rows):
    print("\n## File locks\n")
    print("An uncontended lock + unlock on a file in a temporary directory: through "
          "`lockproof::file` against the raw system call and against CPython's `fcntl` module.\n")
    print("| benchmark | lockproof | raw call | raw / lockproof | CPython | CPython / lockproof |")
    print("|---|---:|---|---:|---:|---:|")
    for g, ours, raw, key in file_rows:
        gr = groups.get(g, {})
        if ours not in gr:
            continue
        t = gr[ours]
        r = gr.get(raw)
        rs = f"{raw} {r:.0f} ns" if r else "–"
        rr = f"{r / t:.2f}" if r else "–"
        cp = fc_py.get(key)
        cps = f"{cp:.0f} ns" if cp else "–"
        cpr = f"{cp / t:.2f}" if cp else "–"
        print(f"| `{g}` | {t:.0f} ns | {rs} | {rr} | {cps} | {cpr} |")

ov = os.path.join(lp_dir, "overhead.json")
if os.path.exists(ov):
    print("\n## Harness overhead\n")
    print("The same program (two threads increment a counter under a lock) on the plain engine "
          "(the engine's mutex, the counter an engine atomic read and written inside it: the same "
          "visible operations) and through the harness (lockproof primitives in the checked "
          "world: virtual time, monitors, trace).\n")
    print("| engine | plain executions/s | harness executions/s | plain / harness |")
    print("|---|---:|---:|---:|")
    for r in json.load(open(ov)):
        print(f"| {r['engine']} | {r['plain_per_s']:.0f} | {r['harness_per_s']:.0f} | {r['slowdown']:.2f}× |")

fb = os.path.join(lp_dir, "first_bug.json")
if os.path.exists(fb):
    print("\n## Time to first bug\n")
    print("Executions until the first failure (and seconds), median over 10 seeds for shuttle "
          "random and PCT (depth 3); loom tries preemption bounds 0, 1, 2 in turn (deterministic).\n")
    print("| scenario | random | pct | loom |")
    print("|---|---:|---:|---:|")

    def cell(d):
        if d is None:
            return "–"
        if "unsupported" in d:
            return "not run"
        if d.get("median_executions") is not None:
            miss = f", {d['missed_seeds']} seeds missed" if d.get("missed_seeds") else ""
            return f"{d['median_executions']:.0f} ({d['median_seconds']:.3f} s{miss})"
        if d.get("executions") is not None:
            return f"{d['executions']} (bound {d['bound']}, {d['seconds']:.3f} s)"
        return "not found"
    for r in json.load(open(fb)):
        print(f"| {r['scenario']} | {cell(r.get('random'))} | {cell(r.get('pct'))} | {cell(r.get('loom'))} |")

#!/usr/bin/env python3
"""Update BENCHMARKS.md's generated tables from one run's criterion results, the harness
benches and CPython.

    python3 ci/bench_table.py target/criterion target/lockproof-bench python.json BENCHMARKS.md

BENCHMARKS.md mixes generated tables with prose written by hand (what a section measures,
runs made by hand, profiles). Only the text between a block's markers

    <!-- NAME:begin -->
    ...
    <!-- NAME:end -->

is rewritten; everything outside the markers stays as it is, so a run updates the numbers
and never deletes prose. A block this run has no data for keeps its old text (stderr says
which, since its numbers are then from an older run). A block with data whose markers are
missing is appended at the end of the file with its heading and a default introduction.
Without a fifth argument the updated file goes to stdout.

Every ratio below 1.0 (lockproof slower) gets its cause beside it, from CAUSES below,
written by hand: a new row whose ratio falls below 1 shows "TODO: cause" until someone
writes one.
"""
import glob
import json
import os
import platform
import re
import subprocess
import sys

criterion_dir, lp_dir, python_json = sys.argv[1:4]
target_md = sys.argv[4] if len(sys.argv) > 4 else None

groups = {}
for bench in glob.glob(os.path.join(criterion_dir, "**", "new", "benchmark.json"), recursive=True):
    meta = json.load(open(bench))
    est = json.load(open(os.path.join(os.path.dirname(bench), "estimates.json")))
    groups.setdefault(meta["group_id"], {})[meta["function_id"]] = est["mean"]["point_estimate"]

py = json.load(open(python_json)) if os.path.exists(python_json) else {}


def load(name):
    path = os.path.join(lp_dir, name)
    return json.load(open(path)) if os.path.exists(path) else None


# (criterion group, our function id, what one iteration is)
ORDER = [
    ("uncontended/lock", "lockproof::Lock", "acquire + release, one thread"),
    ("uncontended/rlock-depth1", "lockproof::RLock", "acquire + release, depth 1"),
    ("uncontended/rlock-depth3", "lockproof::RLock", "3 acquires + 3 releases"),
    ("uncontended/semaphore", "lockproof::Semaphore", "acquire + release, one thread"),
    ("handoff/condition", "lockproof::Condition", "2-thread notify/wait round trip"),
    ("handoff/event", "lockproof::Event", "2-thread set/wait round trip"),
    ("handoff/barrier2", "lockproof::Barrier", "one round of Barrier(2)"),
    ("handoff/barrier4", "lockproof::Barrier", "one round of Barrier(4)"),
    ("handoff/barrier8", "lockproof::Barrier", "one round of Barrier(8)"),
    ("contended/counter", "lockproof::Lock", "2 threads, one increment each, under the lock"),
    ("contended/lock-4t", "lockproof::Lock", "4 threads increment one counter: per critical section"),
    ("contended/lock-8t", "lockproof::Lock", "8 threads increment one counter: per critical section"),
    ("contended/rlock-4t", "lockproof::RLock", "as lock-4t, RLock at depth 1"),
    ("contended/rlock-8t", "lockproof::RLock", "as lock-8t, RLock at depth 1"),
    ("contended/condition-notify-all-8", "lockproof::Condition",
     "one generation: notify_all, 8 waiters wake, see it and acknowledge"),
    ("contended/semaphore-4t", "lockproof::Semaphore",
     "Semaphore(2), 4 threads: per acquire + release"),
]

# Why a ratio is below 1.0, written by hand. Key: the group (any row of it), or
# (group, peer) for one peer, or (group, "CPython") for the CPython ratio. Say what the
# cause rests on: code read, a profile, a run seen.
CAUSES = {
    "uncontended/lock":
        "Noise: both are one compare-exchange to take, one swap to release (`lock.rs`; "
        "std's futex mutex the same). Code read.",
    "uncontended/rlock-depth1":
        "Noise: both are a thread id, an owner check and a compare-exchange "
        "(`rlock.rs` `acquire_raw`). Code read; quick loaded runs gave 0.98 and 1.14.",
    "uncontended/rlock-depth3": "As depth1.",
    "uncontended/semaphore":
        "The peer is our Lock, not a semaphore: the Semaphore word packs permits and "
        "parked acquirers, so each side is a load, a check and a compare-exchange, and "
        "release checks the bound and overflow first (`semaphore.rs` `try_take`, "
        "`release_state`). Code read.",
    "handoff/condition":
        "Two futex wakeups per round trip dominate; on top, CPython's algorithm: each wait "
        "allocates its waiter lock and takes the guard lock to queue it, each notify takes "
        "it again (`condition.rs` `wait_inner`, `wake`). Code read.",
    ("handoff/condition", "CPython"):
        "CPython's GIL runs one thread at a time, so the woken thread never finds the lock "
        "still held on the other core. Belief, not profiled.",
    "handoff/event":
        "Event is a flag word and a park (`event.rs`); std's side is a Mutex+Condvar: within "
        "noise if below 1. Code read.",
    "handoff/barrier2":
        "CPython's barrier algorithm (`barrier.rs`): a woken party re-takes the inner lock "
        "to leave, and the next round waits while this one drains; since 2026-12-06 a "
        "party waiting for the drain spins briefly before it parks (`RawBackend::spin`), "
        "which took Barrier(2) from 0.56 to above 1. Before that change strace over equal "
        "2 s windows counted 168,625 futex calls for Barrier(8) against std's 30,608.",
    "handoff/barrier4": "As barrier2.",
    "handoff/barrier8": "As barrier2.",
    "contended/counter":
        "Lock spins briefly (2, 4, 8 spin-loop hints, then up to 7 yields: parking_lot's "
        "SpinWait, `Std::spin`) while the holder has no waiters, then parks; parking_lot "
        "does the same with its own queue, so the two are within run-to-run noise. Before "
        "2026-12-06 Lock parked at its first failed compare-exchange (0.34 against "
        "parking_lot).",
    "contended/lock-4t": "As contended/counter.",
    "contended/lock-8t": "As contended/lock-4t.",
    "contended/rlock-4t":
        "RLock is Lock plus an owner and a count (`rlock.rs`): a thread-id lookup and two "
        "more words on every acquire and release, against ReentrantMutex's the same; "
        "within ±5% run to run (rlock-8t, same run, the other way).",
    "contended/rlock-8t": "As contended/rlock-4t.",
    "contended/condition-notify-all-8":
        "lockproof's notify_all releases the 8 waiter locks one by one under the guard lock "
        "(`condition.rs` `wake`) and each wait allocates its waiter lock, where std wakes "
        "all with one futex call; since the spin change the waiters mostly catch the "
        "release spinning. Code read.",
    ("contended/condition-notify-all-8", "CPython"):
        "The GIL lets one woken waiter run at a time, so CPython's waiters do not fight "
        "over the RLock. Belief, not profiled.",
    "contended/semaphore-4t":
        "Semaphore parks at once when no permit is free (`semaphore.rs` `acquire_slow`) "
        "and a release unparks through parking_lot_core; code read.",
    ("process_lock", "lockproof::Lock"):
        "CPython's SemLock bookkeeping on every call (`process/semlock.rs`): a fork check, "
        "the shared word's read and compare-exchange, then count and last owner, all "
        "SeqCst; the threading Lock is one compare-exchange and one swap. Code read.",
    ("process_lock", "parking_lot::Mutex"): "As against lockproof::Lock.",
    ("process_lock", "CPython lock"):
        "The same SemLock bookkeeping as CPython's, each step an SeqCst atomic on the "
        "shared page (`process/semlock.rs`: fork check, word, count, owner), against "
        "CPython's `sem_trywait` plus its count in private memory; within 15% of an "
        "interpreted call. Code read, not profiled.",
    ("process_lock", "handoff-2thread"):
        "Each wakeup switches address spaces, and the futex is a shared one (keyed by the "
        "memfd page, not the private per-process key). Code read.",
    ("process_lock", "CPython handoff"):
        "Noise: both sides are one futex wake and one wait per direction.",
    ("file_lock/flock", "raw"):
        "Noise: `lockproof::file` makes the same system call plus argument checks and "
        "error mapping; the call is nearly all of the time.",
    ("file_lock/lockf", "raw"): "As flock.",
}

warnings = []


def cause(group, peer):
    c = CAUSES.get((group, peer)) or CAUSES.get(group)
    if c is None:
        warnings.append(f"no cause for {group} / {peer} (ratio below 1): write one in CAUSES")
        return "TODO: cause"
    return c


def cpu():
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.machine()


def rustc():
    out = subprocess.run(["rustc", "--version"], capture_output=True, text=True).stdout
    return out.split()[1] if out else "?"


# Each block: (name, heading, introduction, lines of the table, or None without data).
# The heading and introduction are used only when the file has no markers for the block.

def run_block():
    return [
        "The generated tables (Primitives, Processes, File locks, Harness overhead, Time to "
        "first bug) come from one run of `bash ci/bench.sh` on this project's 2-core machine "
        f"({cpu()}, {os.cpu_count()} cores; rustc {rustc()}; "
        f"CPython {py.get('_python', '?')}); the prose around them and the other sections are "
        "written by hand and say which run they come from. Every ratio compares numbers of the "
        "same run. Ratios are *peer time / lockproof time*: below 1 means lockproof is slower, "
        "and the cause column says why."
    ]


def primitives_block():
    rows = []
    for group, ours, what in ORDER:
        g = groups.get(group, {})
        if ours not in g:
            continue
        t = g[ours]
        peers = [(k, v) for k, v in g.items() if k != ours] or [(None, None)]
        cp = py.get(group)
        cps = f"{cp:.0f} ns" if cp else "–"
        cpr = f"{cp / t:.1f}×" if cp else "–"
        said = None
        for i, (k, v) in enumerate(peers):
            why = []
            if v is not None and v / t < 1.0:
                why.append(cause(group, k))
            if i == 0 and cp and cp / t < 1.0:
                why.append("CPython: " + cause(group, "CPython"))
            text = " ".join(why)
            # Rows of one group often share their cause: write it once.
            if text and text == said:
                text = "as above"
            elif text:
                said = text
            peer = f"{k} {v:.1f} ns" if k else "–"
            ratio = f"{v / t:.2f}" if k else "–"
            rows.append(f"| `{group}` | {what if i == 0 else ''} | {t:.1f} ns | {peer} | {ratio} | "
                        f"{cps if i == 0 else ''} | {cpr if i == 0 else ''} | {text} |")
    if not rows:
        return None
    return ["| benchmark | what | lockproof | peer | peer / lockproof | CPython | CPython / lockproof | cause of a ratio below 1 |",
            "|---|---|---:|---|---:|---:|---:|---|"] + rows


def processes_block():
    pl = groups.get("process_lock", {})
    if "lockproof::process::Lock" not in pl:
        return None
    mp_py = load("mp.json") or {}
    rows = ["| benchmark | lockproof::process | peer | peer / lockproof | cause of a ratio below 1 |",
            "|---|---:|---|---:|---|"]

    def row(what, ours, peer, v, t, key):
        why = cause("process_lock", key) if v / t < 1.0 else ""
        rows.append(f"| {what} | {ours} | {peer} | {v / t:.2f} | {why} |")

    t = pl["lockproof::process::Lock"]
    for k in ("lockproof::Lock", "parking_lot::Mutex"):
        if k in pl:
            row("uncontended acquire + release", f"{t:.1f} ns", f"{k} {pl[k]:.1f} ns", pl[k], t, k)
    if "mp_lock" in mp_py:
        row("uncontended acquire + release", f"{t:.1f} ns",
            f"CPython multiprocessing.Lock {mp_py['mp_lock']:.1f} ns", mp_py["mp_lock"], t, "CPython lock")
    h = pl.get("handoff-2proc/lockproof::process::Semaphore")
    if h:
        h2 = pl.get("handoff-2thread/lockproof::process::Semaphore")
        if h2:
            row("handoff, one round", f"{h:.0f} ns (2 processes)",
                f"the same between 2 threads {h2:.0f} ns", h2, h, "handoff-2thread")
        if "mp_handoff" in mp_py:
            row("handoff, one round", f"{h:.0f} ns (2 processes)",
                f"CPython, 2 processes {mp_py['mp_handoff']:.0f} ns", mp_py["mp_handoff"], h, "CPython handoff")
    return rows


def file_locks_block():
    fc_py = load("fcntl.json") or {}
    file_rows = [
        ("file_lock/flock", "lockproof::file::fcntl::flock", "rustix::fs::flock", "flock"),
        ("file_lock/lockf", "lockproof::file::fcntl::lockf", "libc::fcntl(F_SETLKW)", "lockf"),
    ]
    if not any(ours in groups.get(g, {}) for g, ours, _, _ in file_rows):
        return None
    rows = ["| benchmark | lockproof | raw call | raw / lockproof | CPython | CPython / lockproof | cause of a ratio below 1 |",
            "|---|---:|---|---:|---:|---:|---|"]
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
        why = []
        if r and r / t < 1.0:
            why.append(cause(g, "raw"))
        if cp and cp / t < 1.0:
            why.append("CPython: " + cause(g, "CPython"))
        rows.append(f"| `{g}` | {t:.0f} ns | {rs} | {rr} | {cps} | {cpr} | {' '.join(why)} |")
    return rows


def overhead_block():
    ov = load("overhead.json")
    if ov is None:
        return None
    rows = ["| engine | plain executions/s | harness executions/s | plain / harness |",
            "|---|---:|---:|---:|"]
    for r in ov:
        rows.append(f"| {r['engine']} | {r['plain_per_s']:.0f} | {r['harness_per_s']:.0f} | {r['slowdown']:.2f}× |")
    return rows


def first_bug_block():
    fb = load("first_bug.json")
    if fb is None:
        return None

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
    rows = ["| scenario | random | pct | loom |", "|---|---:|---:|---:|"]
    for r in fb:
        rows.append(f"| {r['scenario']} | {cell(r.get('random'))} | {cell(r.get('pct'))} | {cell(r.get('loom'))} |")
    return rows


BLOCKS = [
    ("run", None, None, run_block),
    ("primitives", "## Primitives", None, primitives_block),
    ("processes", "## Processes",
     "multiprocessing's Lock (`lockproof::process::Lock`: a futex in `memfd` shared memory) "
     "against this crate's threading Lock, parking_lot and CPython's `multiprocessing.Lock`; "
     "a two-process handoff (ping-pong over two process-shared semaphores with a child "
     "process) against the same between two threads and CPython's two-process handoff.",
     processes_block),
    ("file-locks", "## File locks",
     "An uncontended lock + unlock on a file in a temporary directory: through "
     "`lockproof::file` against the raw system call and against CPython's `fcntl` module.",
     file_locks_block),
    ("overhead", "## Harness overhead",
     "The same program (two threads increment a counter under a lock) on the plain engine "
     "(the engine's mutex, the counter an engine atomic read and written inside it: the same "
     "visible operations) and through the harness (lockproof primitives in the checked "
     "world: virtual time, monitors, trace).",
     overhead_block),
    ("first-bug", "## Time to first bug",
     "Executions until the first failure (and seconds), median over 10 seeds for shuttle "
     "random and PCT (depth 3); loom tries preemption bounds 0, 1, 2 in turn (deterministic).",
     first_bug_block),
]


def update(text):
    """`text` with every block that has data in this run replaced."""
    made = [(name, heading, intro, make()) for name, heading, intro, make in BLOCKS]
    if all(lines is None for name, _, _, lines in made if name != "run"):
        warnings.append("no results in this run: nothing to update")
        return text
    for name, heading, intro, lines in made:
        begin, end = f"<!-- {name}:begin -->", f"<!-- {name}:end -->"
        pattern = re.compile(re.escape(begin) + r"\n.*?" + re.escape(end), re.S)
        found = pattern.search(text)
        if lines is None:
            if found:
                warnings.append(f"block {name}: no data in this run, its old numbers kept")
            continue
        block = "\n".join([begin] + lines + [end])
        if found:
            # A function as the replacement: the block's text is not a regex template.
            text = pattern.sub(lambda _: block, text, count=1)
        else:
            warnings.append(f"block {name}: no markers in the file, appended at the end")
            parts = [p for p in (heading, intro) if p] + [block]
            text = text.rstrip("\n") + "\n\n" + "\n\n".join(parts) + "\n"
    return text


def main():
    if target_md and os.path.exists(target_md):
        old = open(target_md).read()
    else:
        old = "# Benchmarks\n"
    new = update(old)
    if target_md:
        tmp = target_md + ".tmp"
        with open(tmp, "w") as f:
            f.write(new)
        os.replace(tmp, target_md)
    else:
        sys.stdout.write(new)
    for w in warnings:
        print(f"bench_table: {w}", file=sys.stderr)


main()

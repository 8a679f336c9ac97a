#!/usr/bin/env python3
"""CPython's fcntl.flock and fcntl.lockf for the `file_lock` benchmark group's ratios.

Prints nanoseconds per uncontended lock+unlock (LOCK_EX then LOCK_UN) of fcntl.flock and of
fcntl.lockf (a whole-file record lock through fcntl(F_SETLKW)), on a file in a temporary
directory, over N iterations timed with time.perf_counter.
"""
import fcntl
import os
import tempfile
import time

N = 300_000


def per_op(fn, fd, n=N):
    ex, un = fcntl.LOCK_EX, fcntl.LOCK_UN
    start = time.perf_counter()
    for _ in range(n):
        fn(fd, ex)
        fn(fd, un)
    return (time.perf_counter() - start) / n * 1e9


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as d:
        fd = os.open(os.path.join(d, "lock"), os.O_RDWR | os.O_CREAT, 0o644)
        results = {"flock": per_op(fcntl.flock, fd), "lockf": per_op(fcntl.lockf, fd)}
        os.close(fd)
    import json
    import sys

    if "--json" in sys.argv:
        print(json.dumps(results))
    else:
        print(f"fcntl.flock lock+unlock: {results['flock']:.1f} ns")
        print(f"fcntl.lockf lock+unlock: {results['lockf']:.1f} ns")

#!/usr/bin/env python3
"""Time CPython's threading primitives on the operations lockproof's benchmarks measure.

Prints JSON {benchmark: nanoseconds per operation} for ci/bench_table.py.
"""
import json
import sys
import threading
import timeit

N = 200_000


def per_op(stmt, setup_globals, number=N):
    t = timeit.Timer(stmt, globals=setup_globals)
    best = min(t.repeat(repeat=5, number=number))
    return best / number * 1e9


def pingpong(rounds, ping, pong):
    """Seconds per round trip of a two-thread ping-pong."""
    def partner():
        for i in range(rounds):
            pong(i)
    t = threading.Thread(target=partner)
    t.start()
    start = timeit.default_timer()
    for i in range(rounds):
        ping(i)
    elapsed = timeit.default_timer() - start
    t.join()
    return elapsed / rounds * 1e9


def main():
    out = {}
    lock = threading.Lock()
    out["uncontended/lock"] = per_op("lock.acquire(); lock.release()", {"lock": lock})
    r = threading.RLock()
    out["uncontended/rlock-depth1"] = per_op("r.acquire(); r.release()", {"r": r})
    out["uncontended/rlock-depth3"] = per_op(
        "r.acquire(); r.acquire(); r.acquire(); r.release(); r.release(); r.release()", {"r": r})
    s = threading.Semaphore(1)
    out["uncontended/semaphore"] = per_op("s.acquire(); s.release()", {"s": s})

    rounds = 20_000
    cond = threading.Condition()
    turn = [0]

    def cping(i):
        with cond:
            cond.wait_for(lambda: turn[0] == 2 * i)
            turn[0] = 2 * i + 1
            cond.notify()

    def cpong(i):
        with cond:
            cond.wait_for(lambda: turn[0] == 2 * i + 1)
            turn[0] = 2 * i + 2
            cond.notify()

    out["handoff/condition"] = pingpong(rounds, cping, cpong)

    e1, e2 = threading.Event(), threading.Event()

    def eping(_):
        e1.set()
        e2.wait()
        e2.clear()

    def epong(_):
        e1.wait()
        e1.clear()
        e2.set()

    out["handoff/event"] = pingpong(rounds, eping, epong)

    for parties in (2, 4):
        b = threading.Barrier(parties)
        def waiter():
            for _ in range(rounds):
                b.wait()
        others = [threading.Thread(target=waiter) for _ in range(parties - 1)]
        for t in others:
            t.start()
        start = timeit.default_timer()
        for _ in range(rounds):
            b.wait()
        elapsed = timeit.default_timer() - start
        for t in others:
            t.join()
        out[f"handoff/barrier{parties}"] = elapsed / rounds * 1e9

    counter = [0]
    lk = threading.Lock()
    iters = 200_000

    def inc():
        for _ in range(iters):
            with lk:
                counter[0] += 1
    t = threading.Thread(target=inc)
    start = timeit.default_timer()
    t.start()
    inc()
    t.join()
    out["contended/counter"] = (timeit.default_timer() - start) / iters * 1e9

    out["_python"] = sys.version.split()[0]
    json.dump(out, sys.stdout, indent=1)


if __name__ == "__main__":
    main()

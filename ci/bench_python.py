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


def crowd(threads, iters, work):
    """Nanoseconds per call of `work` when `threads` threads (this one included) each call
    it `iters` times, lined up on a start barrier so thread creation is not timed."""
    start = threading.Barrier(threads)

    def run():
        start.wait()
        for _ in range(iters):
            work()
    others = [threading.Thread(target=run) for _ in range(threads - 1)]
    for t in others:
        t.start()
    start.wait()
    t0 = timeit.default_timer()
    for _ in range(iters):
        work()
    for t in others:
        t.join()
    return (timeit.default_timer() - t0) / (threads * iters) * 1e9


def counter_under(lock, threads, iters):
    """ns per critical section: `threads` threads increment one counter under `lock`."""
    counter = [0]

    def inc():
        with lock:
            counter[0] += 1
    t = crowd(threads, iters, inc)
    assert counter[0] == threads * iters, "lost updates"
    return t


def notify_all_generations(waiters, generations):
    """ns per generation: the notifier publishes it and calls notify_all; each of
    `waiters` threads wakes, sees it and acknowledges; the notifier waits for all acks.
    Two Conditions over one RLock, as in the Rust bench."""
    lock = threading.RLock()
    new_gen = threading.Condition(lock)
    all_acked = threading.Condition(lock)
    state = {"gen": 0, "acked": 0}
    start = threading.Barrier(waiters + 1)

    def waiter():
        start.wait()
        for i in range(1, generations + 1):
            with new_gen:
                new_gen.wait_for(lambda: state["gen"] >= i)
                assert state["gen"] == i
                state["acked"] += 1
                if state["acked"] == waiters:
                    all_acked.notify()
    ts = [threading.Thread(target=waiter) for _ in range(waiters)]
    for t in ts:
        t.start()
    start.wait()
    t0 = timeit.default_timer()
    for i in range(1, generations + 1):
        with new_gen:
            state["gen"] = i
            state["acked"] = 0
            new_gen.notify_all()
            all_acked.wait_for(lambda: state["acked"] == waiters)
    elapsed = timeit.default_timer() - t0
    for t in ts:
        t.join()
    return elapsed / generations * 1e9


def semaphore_crowd(permits, threads, iters):
    """ns per acquire + release of Semaphore(permits) by `threads` threads."""
    s = threading.Semaphore(permits)
    holders = [0]
    count = threading.Lock()  # CPython's += is not atomic across threads: count under a lock

    def use():
        with s:
            with count:
                holders[0] += 1
                assert holders[0] <= permits
                holders[0] -= 1
    return crowd(threads, iters, use)


def contended(out):
    """The contended groups of primitives/benches/support/crowd.rs (keys = its groups)."""
    for threads in (4, 8):
        out[f"contended/lock-{threads}t"] = counter_under(threading.Lock(), threads, 50_000)
        out[f"contended/rlock-{threads}t"] = counter_under(threading.RLock(), threads, 50_000)
    out["contended/condition-notify-all-8"] = notify_all_generations(8, 2_000)
    out["contended/semaphore-4t"] = semaphore_crowd(2, 4, 20_000)


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

    for parties in (2, 4, 8):
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

    contended(out)

    out["_python"] = sys.version.split()[0]
    json.dump(out, sys.stdout, indent=1)


if __name__ == "__main__":
    main()

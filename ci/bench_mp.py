#!/usr/bin/env python3
"""CPython's multiprocessing.Lock for the `process_lock` benchmark group's ratios.

Prints nanoseconds per uncontended acquire+release of multiprocessing.Lock (and, for
scale, threading.Lock), over 1e6 iterations timed with time.perf_counter, and per round of
a two-process handoff (two multiprocessing.Semaphore(0), ping-pong with a forked child).
"""
import multiprocessing as mp
import threading
import time

N = 1_000_000
ROUNDS = 100_000


def per_op(lock, n=N):
    acquire, release = lock.acquire, lock.release
    start = time.perf_counter()
    for _ in range(n):
        acquire()
        release()
    return (time.perf_counter() - start) / n * 1e9


def pong(ping, pong_sem):
    while ping.acquire(timeout=5):
        pong_sem.release()


def handoff():
    ping, pong_sem = mp.Semaphore(0), mp.Semaphore(0)
    child = mp.get_context("fork").Process(target=pong, args=(ping, pong_sem))
    child.start()
    start = time.perf_counter()
    for _ in range(ROUNDS):
        ping.release()
        pong_sem.acquire()
    dt = (time.perf_counter() - start) / ROUNDS * 1e9
    child.terminate()
    child.join()
    return dt


if __name__ == "__main__":
    import json
    import sys

    results = {
        "mp_lock": per_op(mp.Lock()),
        "threading_lock": per_op(threading.Lock()),
        "mp_handoff": handoff(),
    }
    if "--json" in sys.argv:
        print(json.dumps(results))
    else:
        print(f"multiprocessing.Lock acquire+release: {results['mp_lock']:.1f} ns")
        print(f"threading.Lock acquire+release: {results['threading_lock']:.1f} ns")
        print(f"multiprocessing handoff, 2 processes: {results['mp_handoff']:.1f} ns per round")

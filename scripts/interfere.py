#!/usr/bin/env python3
"""A noisy neighbour, bounded in time: what a shared cloud VM does to a measurement, on demand.

Three generators, each in its own process, for --seconds, then everything stops by itself:
  cpu     busy bursts on one vCPU (--cpu) at random intervals, --cpu-duty of the time, bursts of
          --cpu-burst-ms on average (exponential lengths and gaps);
  stream  memory-bandwidth bursts (numpy copies between two buffers of --stream-mib in all),
          --stream-duty of the time, bursts of --stream-burst-ms on average;
  churn   every --churn-every-s seconds, allocate, touch and free --churn-gib GiB: on a guest
          with free page reporting the freed memory goes back to the host, and for seconds
          after it rows ran 2.7x slow (docs/noise.md).
A duty or size of 0 turns that generator off. At the end one line per generator says what it
did (time busy, bursts, churn cycles and their touch rates), so a run measured beside it can
state the interference it met. Bad options: one line on stderr, exit 1. SIGINT or SIGTERM stop
it early, with the same summary.

  scripts/interfere.py --seconds 600 --cpu-duty 0.3 --stream-duty 0.2 --churn-gib 4 --churn-every-s 60 &
  build/roofbench run ...
"""
import argparse
import multiprocessing as mp
import os
import queue
import random
import signal
import sys
import time

import numpy as np

MAX_SECONDS = 3600


def fail(message):
    print(f"interfere.py: error: {message}", file=sys.stderr)
    sys.exit(1)


def parse(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--seconds", type=float, required=True, help=f"how long, at most {MAX_SECONDS}")
    p.add_argument("--cpu", type=int, default=os.cpu_count() - 1, help="the vCPU of the CPU bursts (default: the last)")
    p.add_argument("--cpu-duty", type=float, default=0.3, help="share of the time the vCPU is busy (0 to 1)")
    p.add_argument("--cpu-burst-ms", type=float, default=200, help="mean length of a CPU burst")
    p.add_argument("--stream-duty", type=float, default=0.2, help="share of the time memory is streamed (0 to 1)")
    p.add_argument("--stream-mib", type=float, default=512, help="the streamer's two buffers together, MiB")
    p.add_argument("--stream-burst-ms", type=float, default=500, help="mean length of a streaming burst")
    p.add_argument("--churn-gib", type=float, default=4, help="GiB allocated, touched and freed per churn cycle")
    p.add_argument("--churn-every-s", type=float, default=60, help="seconds between churn cycles")
    p.add_argument("--seed", type=int, default=1, help="the random schedule's seed")

    p.error = lambda message: fail(message)  # argparse's own errors: one line too
    a = p.parse_args(argv)
    if not 0 < a.seconds <= MAX_SECONDS:
        fail(f"--seconds must be above 0 and at most {MAX_SECONDS}, not {a.seconds:g}")
    for name in ("cpu_duty", "stream_duty"):
        if not 0 <= getattr(a, name) < 1:
            fail(f"--{name.replace('_', '-')} must be from 0 to below 1, not {getattr(a, name):g}")
    for name in ("cpu_burst_ms", "stream_burst_ms", "churn_every_s"):
        if not getattr(a, name) > 0:
            fail(f"--{name.replace('_', '-')} must be above 0, not {getattr(a, name):g}")
    if not 0 <= a.stream_mib <= 64 * 1024:
        fail(f"--stream-mib must be from 0 to 65536, not {a.stream_mib:g}")
    total_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    if not 0 <= a.churn_gib <= total_gib / 2:
        fail(f"--churn-gib must be from 0 to half of this machine's {total_gib:.1f} GiB, not {a.churn_gib:g}")
    if a.cpu not in os.sched_getaffinity(0):
        fail(f"--cpu {a.cpu} is not a CPU this process may run on ({sorted(os.sched_getaffinity(0))})")
    return a


class Clock:
    """The schedule's end: the deadline, or earlier when a signal set `stop`."""

    def __init__(self, deadline, stop):
        self.deadline, self.stop = deadline, stop

    def over(self):
        return self.stop.is_set() or time.monotonic() >= self.deadline

    def sleep(self, seconds):
        end = min(self.deadline, time.monotonic() + seconds)
        while not self.over() and time.monotonic() < end:
            time.sleep(min(0.05, max(0.0, end - time.monotonic())))

    def until(self, seconds):
        return min(self.deadline, time.monotonic() + seconds)


def bursts(rng, clock, duty, burst_s, work):
    """Alternates work(until) bursts and idle gaps, exponential lengths with means giving `duty`."""
    busy = count = 0
    gap_s = burst_s * (1 - duty) / duty
    clock.sleep(rng.expovariate(1 / gap_s))
    while not clock.over():
        start = time.monotonic()
        work(clock.until(rng.expovariate(1 / burst_s)))
        busy += time.monotonic() - start
        count += 1
        clock.sleep(rng.expovariate(1 / gap_s))
    return busy, count


def cpu_worker(a, clock, out):
    os.sched_setaffinity(0, {a.cpu})
    rng = random.Random(a.seed)

    def spin(until):
        x = 0
        while time.monotonic() < until and not clock.stop.is_set():
            for _ in range(1000):
                x += 1

    busy, count = bursts(rng, clock, a.cpu_duty, a.cpu_burst_ms / 1e3, spin)
    out.put(("cpu", f"cpu: vCPU {a.cpu} busy {busy:.1f} s in {count} bursts"))


def stream_worker(a, clock, out):
    rng = random.Random(a.seed + 1)
    n = int(a.stream_mib * 2**20 / 2 / 8)
    src, dst = np.ones(n), np.zeros(n)  # touched once, before the first burst
    moved = 0

    def stream(until):
        nonlocal moved
        while time.monotonic() < until and not clock.stop.is_set():
            np.copyto(dst, src)
            moved += 2 * src.nbytes

    busy, count = bursts(rng, clock, a.stream_duty, a.stream_burst_ms / 1e3, stream)
    rate = moved / busy / 1e9 if busy > 0 else 0
    out.put(("stream", f"stream: {busy:.1f} s in {count} bursts over {a.stream_mib:g} MiB, {rate:.1f} GB/s"))


def churn_worker(a, clock, out):
    rng = random.Random(a.seed + 2)
    rates = []
    next_at = time.monotonic() + rng.uniform(0, a.churn_every_s)
    while True:
        clock.sleep(next_at - time.monotonic())
        if clock.over():
            break
        start = time.monotonic()
        block = np.ones(int(a.churn_gib * 2**30 / 8))
        rates.append(block.nbytes / (time.monotonic() - start) / 1e9)
        del block
        next_at += a.churn_every_s
    touched = ", ".join(f"{r:.2f}" for r in rates) or "-"
    out.put(("churn", f"churn: {len(rates)} cycles of {a.churn_gib:g} GiB, touched at {touched} GB/s"))


def main(argv):
    a = parse(argv)
    stop = mp.Event()
    clock = Clock(time.monotonic() + a.seconds, stop)
    # A signal ends the schedule early; every generator then stops and reports what it did.
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    out = mp.Queue()
    workers = []
    for on, target in ((a.cpu_duty > 0, cpu_worker), (a.stream_duty > 0 and a.stream_mib > 0, stream_worker),
                       (a.churn_gib > 0, churn_worker)):
        if on:
            workers.append(mp.Process(target=target, args=(a, clock, out), daemon=True))
    for w in workers:
        w.start()
    lines = {}
    # A generator ends at the deadline (a churn cycle under way finishes first); one still
    # running 60 s past it is killed, so the schedule always stops.
    while len(lines) < len(workers) and time.monotonic() < clock.deadline + 60:
        try:
            name, line = out.get(timeout=0.1)
            lines[name] = line
        except queue.Empty:
            pass
    for w in workers:
        w.join(timeout=1)
        if w.is_alive():
            w.kill()
    print(f"interfere.py: {a.seconds:g} s, seed {a.seed}" + (" (stopped early by a signal)" if stop.is_set() else ""))
    for name in ("cpu", "stream", "churn"):
        if name in lines:
            print("  " + lines[name])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

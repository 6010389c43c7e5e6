#!/usr/bin/env python3
"""Ack latency by window, from the acklatency suite's ack-timeline.csv (one run: an A/B of where the window starts).

    python3 bench/tools/ack_window.py OUT/ack-timeline.csv [SECONDS]

Prints p50/p95/p99/max of
  - "settled": the suite's measured window (rows of kind "ack": scheduled after the closed loop's rows were all flushed),
  - "from the open loop's start": every batch ("settle" and "ack" rows) scheduled in the first SECONDS (default: the
    measured window's length), which is what the suite measured before it waited for the backlog (--ack-settle off),
and the flushes (rows, export ms) before and during the measured window.
"""
import csv
import re
import sys

FLUSH_RE = re.compile(r"flushed (\d+) rows .*?\(export (\d+),")


def pct(values, q):
    v = sorted(values)
    if not v:
        return float("nan")
    return v[min(len(v) - 1, max(0, int(-(-q * len(v) // 1)) - 1))]  # nearest rank, as the suite's Stats


def line(name, v):
    if not v:
        return
    print(f"{name:34} n={len(v):4}  p50 {pct(v, .5):7.1f}  p95 {pct(v, .95):7.1f}  p99 {pct(v, .99):7.1f}  max {max(v):7.1f}")


def main(path, seconds=None):
    acks, settle, flushes = [], [], []
    with open(path, newline="") as f:
        for row in csv.reader(f):
            if not row or row[0] == "kind":
                continue
            if row[0] in ("ack", "settle"):
                (acks if row[0] == "ack" else settle).append((float(row[1]), float(row[2])))
            elif row[0] == "flush":
                m = FLUSH_RE.search(row[2])
                if m:
                    flushes.append((float(row[1]), int(m.group(1)), int(m.group(2))))
    start = min(d for d, _ in acks) if acks else 0.0
    span = max(d for d, _ in acks) - start if acks else 0.0
    window = float(seconds) * 1000 if seconds else span
    print(f"{path}: window starts {start / 1000:.1f} s into the open loop, {span / 1000:.0f} s long")
    line("settled (the suite's window)", [l for _, l in acks])
    line(f"from the open loop's start, {window / 1000:.0f} s", [l for d, l in settle + acks if d < window])
    line("before the window (settling)", [l for _, l in settle])
    for name, fs in (("flushes in the closed loop", [f for f in flushes if f[0] < 0]),
                     ("flushes while settling", [f for f in flushes if 0 <= f[0] < start]),
                     ("flushes in the window", [f for f in flushes if f[0] >= start])):
        if fs:
            print(f"{name:34} n={len(fs):4}  rows p50 {pct([f[1] for f in fs], .5):8.0f}  export ms p50 {pct([f[2] for f in fs], .5):6.0f}  max {max(f[2] for f in fs):6.0f}")


if __name__ == "__main__":
    main(*sys.argv[1:])

#!/usr/bin/env python3
"""Where each acknowledgement's time went, from the acklatency suite's ack-timeline.csv.

Run the suite with TimeFusion__Ingest__SlowInsertLogThreshold=00:00:00.0000001 (every insert logs its steps), then
    python3 bench/tools/ack_breakdown.py OUT/ack-timeline.csv [MORE/ack-timeline.csv …]   (several runs: pooled)
Each ack row (client Stopwatch timestamps) is joined with the silo's slow-insert line of the same table and LSN
(its "wire: read @…" and "applied @…" are on the same monotonic clock). Prints each step's p50/p90/p99/max, and the
steps' means over the slowest 1 % and 5 % of acknowledgements against all of them. Then the acks by the flush exports
running during them (from the timeline's flush lines: each export's span and, since session 16, its priority): how
many, and whether any ran at normal priority (nice 0, or raised) — the contention the acks' CPU steps stretch under.
"""
import csv
import re
import sys

NS = 1e6  # Stopwatch ticks are nanoseconds on Linux

STEP_RE = re.compile(r"([a-z][a-z ]+?) ([0-9.]+)(?: \(|,|;|$)")


def pct(values, q):
    v = sorted(values)
    if not v:
        return float("nan")
    k = (len(v) - 1) * q
    lo = int(k)
    hi = min(lo + 1, len(v) - 1)
    return v[lo] + (v[hi] - v[lo]) * (k - lo)


FLUSH_RE = re.compile(r"flushed \d+ rows .*? in (\d+) ms \(export (\d+),.*?(?:export at nice (\d+)(?: → (\d+))?)?\"?$")


def read_exports(path):
    """Each flush's export as (start ms, end ms, niceness at its end or None) on the timeline's clock."""
    exports = []
    with open(path, newline="") as f:
        for row in csv.reader(f):
            if row and row[0] == "flush":
                m = FLUSH_RE.search(",".join(row[2:]))  # the line's own commas split it
                if not m:
                    continue
                end_of_flush, elapsed, export = float(row[1]), int(m.group(1)), int(m.group(2))
                start = end_of_flush - elapsed
                nice = None if m.group(3) is None else int(m.group(4) if m.group(4) is not None else m.group(3))
                exports.append((start, start + export, nice))
    return exports


def read_timeline(path):
    slow = {}
    acks = []
    with open(path, newline="") as f:
        for row in csv.reader(f):
            if not row or row[0] == "kind":
                continue
            if row[0] == "slow":
                line = row[2]
                m = re.match(r"(\S+?)/\S+: slow insert at LSN (\d+): \d+ rows in ([0-9.]+) ms: (.*)", line)
                if not m or "wire: read @" not in line:
                    continue
                table, lsn, total, rest = m.group(1), int(m.group(2)), float(m.group(3)), m.group(4)
                engine_part, wire_part = rest.split("; wire: ")
                steps = {}
                for name, value in STEP_RE.findall(engine_part.split("; gc")[0]):
                    steps["engine " + name.strip()] = float(value)
                steps["engine gc paused"] = float(re.search(r"gc paused ([0-9.]+)", engine_part).group(1))
                read = int(re.search(r"read @(\d+)", wire_part).group(1))
                applied = int(re.search(r"applied @(\d+)", wire_part).group(1))
                for name in ("copy", "decode", "to gateway", "to grain", "to engine"):
                    steps["silo " + name] = float(re.search(name + r" ([0-9.]+)", wire_part).group(1))
                steps["silo gc since read"] = float(re.search(r"gc paused since read ([0-9.]+)", wire_part).group(1))
                slow[(table, lsn)] = (read, applied, total, steps)
            elif row[0] == "ack" and len(row) >= 10:
                acks.append(row)
    return slow, acks


def joined(path):
    slow, acks = read_timeline(path)
    rows = []
    for row in acks:
        _, due, latency, table, lsn, called, enc_start, enc_written, acked, client_gc = row[:10]
        key = (table, int(lsn))
        if key not in slow or int(enc_start) == 0:
            continue
        read, applied, total, steps = slow[key]
        called, enc_start, enc_written, acked = int(called), int(enc_start), int(enc_written), int(acked)
        r = {
            "ack latency (from schedule)": float(latency),
            "bench: schedule -> call": float(latency) - (acked - called) / NS,
            "client: call -> encode start": (enc_start - called) / NS,
            "client: encode (IPC + into message)": (enc_written - enc_start) / NS,
            "transit: written -> silo read": (read - enc_written) / NS,
        }
        for k, v in steps.items():
            if k.startswith("silo "):
                r[k] = v
        r["engine total"] = total
        for k, v in steps.items():
            if k.startswith("engine "):
                r[k] = v
        r["response: applied -> client ack"] = (acked - applied) / NS
        r["client gc paused"] = float(client_gc)
        rows.append(r)
    return rows, len(acks)


def by_exports(paths):
    """Ack latency by the exports running during the ack: how many, and whether one of them ran at normal priority."""
    groups = {}
    for path in paths:
        exports = read_exports(path)
        with open(path, newline="") as f:
            for row in csv.reader(f):
                if not row or row[0] != "ack":
                    continue
                due, latency = float(row[1]), float(row[2])
                running = [e for e in exports if e[0] < due + latency and e[1] > due]
                normal = any(e[2] in (None, 0) for e in running)
                key = (min(len(running), 4), "normal" if normal else "lowered" if running else "-")
                groups.setdefault(key, []).append(latency)
    if not groups:
        return
    print()
    print(f"{'exports running during the ack':32} {'acks':>6} {'p50':>7} {'p90':>7} {'p99':>7} {'max':>7}")
    for key in sorted(groups):
        v = groups[key]
        label = f"{key[0]}{'+' if key[0] == 4 else ''}, {key[1]}"
        print(f"{label:32} {len(v):6} {pct(v, .5):7.1f} {pct(v, .9):7.1f} {pct(v, .99):7.1f} {max(v):7.1f}")


def main(paths):
    rows, acks = [], 0
    for path in paths:
        r, n = joined(path)
        rows += r
        acks += n
    if not rows:
        print("no acks joined with slow-insert lines (was SlowInsertLogThreshold set?)")
        by_exports(paths)
        return
    rows.sort(key=lambda r: r["ack latency (from schedule)"])
    names = list(rows[0].keys())
    top1 = rows[-max(1, len(rows) // 100):]
    top5 = rows[-max(1, len(rows) // 20):]
    print(f"{len(rows)} of {acks} acks joined")
    print(f"{'step (ms)':40} {'p50':>7} {'p90':>7} {'p99':>7} {'max':>7} | {'mean':>7} {'slow5%':>7} {'slow1%':>7}")
    for n in names:
        v = [r[n] for r in rows]
        print(f"{n:40} {pct(v, .5):7.1f} {pct(v, .9):7.1f} {pct(v, .99):7.1f} {max(v):7.1f} | "
              f"{sum(v) / len(v):7.1f} {sum(r[n] for r in top5) / len(top5):7.1f} {sum(r[n] for r in top1) / len(top1):7.1f}")
    by_exports(paths)


if __name__ == "__main__":
    main(sys.argv[1:])

#!/usr/bin/env python3
"""Splits a silo's CPU time per row into write-path stages from a dotnet-trace speedscope file.

usage: write_path_stages.py DIR [path ...]   (DIR holds <path>.speedscope.json and <path>.json from `bench writepath --trace`)

Each thread's timeline (evented speedscope profile) is walked; time in a stack whose leaf is a wait (a thread parked
in a semaphore, a socket poll, a sleep) is not busy and is dropped. Every busy stack is given to ONE stage: the stage
whose pattern matches the frame nearest the leaf. A stage's CPU µs/row = the silo's measured CPU µs/row (utime+stime
over the same window) × the stage's share of busy time.
"""
import json, sys, os, collections

# (stage, substrings of frame names); nearest-to-leaf match wins, so nested stages (e.g. the DuckDB commit inside the
# buffer append) are listed as their own stage.
STAGES = [
    ("wire: PostgreSQL protocol (COPY / INSERT parsing, sessions)", ["TimeFusion.Protocol.Postgres", "Silo.Protocol.Postgres", "Postgres.Copy", "PgWire"]),
    ("OTLP: protobuf decode (generated messages / CodedInputStream)", ["Google.Protobuf", "TimeFusion.Otlp."]),
    ("wire: Flight DoPut / gRPC / Kestrel", ["Apache.Arrow.Flight", "Grpc.", "Kestrel", "Protocol.Flight"]),
    ("INSERT … VALUES: planning + DuckDB cast", ["InsertValues", "DmlAnalyzer", "AnalyzeInsert", "Statements.Insert", "SqlTokenizer", "Query.Planning", "MergeExecutor", "GatewayCatalogView"]),
    ("OTLP: Arrow column building (ColumnarRows, pooled buffers)", ["Otlp.Mapping.ColumnarRows", "Otlp.Mapping.Pooled"]),
    ("Arrow IPC encode/decode + batch building (gateway → grain hop, COPY rows → Arrow)", ["Arrow.Ipc", "ArrowStreamWriter", "ArrowStreamReader", "ColumnarRows", "Builder.Append", "CopyBatch"]),
    ("OTLP: mapping (ids, attribute/resource JSON, flattened columns, events/links)", ["Protocol.Otlp.Mapping"]),
    ("OTLP: receiver (auth, handler)", ["Protocol.Otlp"]),
    ("Orleans hop (messaging, serialization)", ["Orleans."]),
    ("validation (BatchValidator)", ["BatchValidator", "JsonValidation", "Utf8JsonReader"]),
    ("WAL: encode (IPC, compression)", ["WalPayloads", "Wal.Format", "WalEntry", "Brotli", "PooledBufferWriter"]),
    ("WAL: CRC", ["Crc32", "Crc64", "Crc"]),
    ("WAL: write + fsync", ["GroupCommitWriter", "RandomAccess", "SafeFileHandle", "FileStream", "Fsync", "fsync"]),
    ("buffer: Arrow → DuckDB chunk (appender)", ["ArrowChunkAppender"]),
    ("buffer: DuckDB commit + append bookkeeping", ["AppendInTransaction", "AppendValidated", "ApplyInOrder", "ApplyCoalesced"]),
    ("flush: Parquet export (COPY … TO)", ["BufferTable.Export", "ExportAsync", "ExportTo"]),
    ("flush: Delta commit + WAL truncate + buffer delete", ["DeltaTable", "Persister", "Delta.", "Truncate", "DeleteThrough"]),
    ("buffer: background merge + CHECKPOINT", ["Compaction", "Checkpoint", "CHECKPOINT", "Merge"]),
    ("DuckDB results → Arrow, snapshots (for INSERT: reading the cast rows)", ["OpenSnapshot", "ArrowQueryReader", "Query.Execution"]),
]
WAIT_LEAVES = ["WaitOne", "Monitor.Wait", "LowLevelLifoSemaphore", "LowLevelMonitor", "Thread.Sleep", "SpinWait", "WaitForSocketEvents",
               "EventLoop", "WaitHandle.Wait", "ManualResetEventSlim.Wait", "SemaphoreSlim.Wait", "Thread.Join", "WaitSubsequentCompletion",
               "PortableThreadPool+GateThread", "TimerQueue.TimerThread", "epoll", "Interop+Sys.Poll", "Interop+Sys.Read(", "ReadAtOffset",
               "WaitForPendingFinalizers", "BlockingCollection", "ConsoleStream", "Task.SpinThenBlockingWait", "Task.Wait", "InternalWait"]

def is_wait(names):
    # names: frames root→leaf. Pseudo-frames the tool adds at the leaf are skipped. A stack with no managed frame
    # ("?!?") or a thread-pool worker with nothing on it is a thread parked in native code (idle).
    real = [n for n in names if n not in ("CPU_TIME", "UNMANAGED_CODE_TIME", "READY_TIME", "?!?") and not n.startswith("Thread (")]
    if not real or (len(real) <= 1 and "WorkerThreadStart" in real[-1]):
        return True
    for n in reversed(names):
        if n in ("CPU_TIME", "UNMANAGED_CODE_TIME", "READY_TIME", "?!?") or n.startswith("Thread ("):
            continue
        return any(w in n for w in WAIT_LEAVES)
    return True

def stage_of(names):
    for n in reversed(names):
        for stage, pats in STAGES:
            if any(p in n for p in pats):
                return stage
    return None

def analyze(path):
    doc = json.load(open(path))
    frames = [f["name"] for f in doc["shared"]["frames"]]
    busy = collections.Counter()
    other = collections.Counter()
    total_busy = 0.0
    managed = 0.0
    for prof in doc["profiles"]:
        stack, last = [], None
        for ev in prof.get("events", []):
            at = ev["at"]
            if stack and last is not None and at > last:
                names = [frames[i] for i in stack]
                if not is_wait(names):
                    d = at - last
                    total_busy += d
                    if names[-1] == "CPU_TIME": managed += d
                    s = stage_of(names)
                    busy[s or "other"] += d
                    if s is None:
                        leaf = next((n for n in reversed(names) if n not in ("CPU_TIME", "UNMANAGED_CODE_TIME")), "?")
                        other[leaf] += d
            if ev["type"] == "O": stack.append(ev["frame"])
            else:
                if stack: stack.pop()
            last = at
    return busy, total_busy, managed, other

def inclusive_top(path, within):
    """Inclusive busy time per frame, over busy stacks that contain a frame matching `within`."""
    doc = json.load(open(path))
    frames = [f["name"] for f in doc["shared"]["frames"]]
    incl = collections.Counter()
    for prof in doc["profiles"]:
        stack, last = [], None
        for ev in prof.get("events", []):
            at = ev["at"]
            if stack and last is not None and at > last:
                names = [frames[i] for i in stack]
                if not is_wait(names) and any(within in n for n in names):
                    for n in set(names): incl[n] += at - last
            if ev["type"] == "O": stack.append(ev["frame"])
            elif stack: stack.pop()
            last = at
    return incl.most_common(60)

def main():
    d = sys.argv[1]
    names = sys.argv[2:] or [f[:-len(".json")] for f in sorted(os.listdir(d)) if f.endswith(".json") and not f.endswith("speedscope.json")]
    for name in names:
        meta = json.load(open(os.path.join(d, name + ".json")))
        us_row = meta["cpuSeconds"] * 1e6 / max(1, meta["rows"])
        busy, total, managed, other = analyze(os.path.join(d, name + ".speedscope.json"))
        print(f"\n### {name}: {meta['rows']:,} rows in {meta['seconds']:.1f} s = {meta['rows']/meta['seconds']:,.0f} rows/s; silo CPU {us_row:.1f} µs/row; managed {100*managed/max(total,1e-9):.0f} % of busy")
        print("| stage | share of busy | CPU µs/row |")
        print("|---|---:|---:|")
        for stage, t in busy.most_common():
            print(f"| {stage} | {100*t/total:.1f} % | {us_row*t/total:.2f} |")
        if os.environ.get("SHOW_FRAMES"):
            for frame, t in inclusive_top(os.path.join(d, name + ".speedscope.json"), os.environ["SHOW_FRAMES"]):
                print(f"   incl {100*t/total:5.1f} %  {frame[:200]}")
        if os.environ.get("SHOW_OTHER"):
            for leaf, t in other.most_common(25):
                print(f"   other leaf {100*t/total:5.1f} %  {leaf}")

if __name__ == "__main__":
    main()

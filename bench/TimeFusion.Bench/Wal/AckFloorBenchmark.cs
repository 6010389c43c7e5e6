using System.Diagnostics;
using System.Globalization;
using System.IO.Compression;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;
using TimeFusion.Bench.Suite;

namespace TimeFusion.Bench.Wal;

/// <summary>
/// <c>ackfloor [--rate 17] [--entry-bytes 5400000] [--tables 4] [--seconds 20] [--parquet-bytes 14000000]
/// [--parquet-mbps 11] [--cpu-threads 2] [--segment-mb 64] [--dir PATH] [--variants append,zeroed,direct,fallocate]
/// [--scenarios alone,parquet,cpu,both] [--rounds 1]</c>: the acknowledgement floor of this machine — what an ack would
/// take if TimeFusion cost nothing but the durable write. Per table one thread appends WAL-sized entries (an 8 K-row
/// otel batch's entry is 5.4 MB) on an open-loop schedule (<c>--rate</c> entries/s over all tables, e.g. half the
/// maximum sustained rows/s ÷ 8,130) and syncs each; latency = synced − scheduled. Scenarios: alone; beside a writer of
/// Parquet-sized files (write, fsync, rename, at the flushes' byte rate); beside <c>--cpu-threads</c> threads compressing
/// (an export's CPU load on every core); both. Variants of the durable write: <c>append</c> (as the WAL does: positional
/// writes at the end of 64 MB segments, fsync, a new segment file and a directory fsync when full), <c>zeroed</c>
/// (a ring of segments zero-filled and fsynced ahead, then overwritten in turn and <c>fdatasync</c>ed: no metadata to
/// journal), <c>direct</c> (the zero-filled ring written with O_DIRECT from a 4 KiB-aligned buffer: no copy into the page
/// cache, no dirty-page throttling), and <c>fallocate</c> (the ring preallocated with fallocate: its first pass converts
/// unwritten extents).
/// </summary>
public static class AckFloorBenchmark
{
    private sealed record Sample(double LatencyMs, double WriteMs, double SyncMs);

    public static async Task<int> RunAsync(string[] args)
    {
        var a = new BenchArgs(args);
        var rate = a.Double("rate", 17);
        var entryBytes = a.Int("entry-bytes", 5_400_000);
        var tables = a.Int("tables", 4);
        var seconds = a.Double("seconds", 20);
        var parquetBytes = a.Int("parquet-bytes", 14_000_000);
        var parquetMbps = a.Double("parquet-mbps", 11);
        var cpuThreads = a.Int("cpu-threads", Environment.ProcessorCount);
        var segmentBytes = a.Long("segment-mb", 64) << 20;
        var rounds = a.Int("rounds", 1);
        var variants = (a.Get("variants") ?? "append,zeroed,direct,fallocate").Split(',', StringSplitOptions.RemoveEmptyEntries);
        var scenarios = (a.Get("scenarios") ?? "alone,parquet,cpu,both").Split(',', StringSplitOptions.RemoveEmptyEntries);
        var root = a.Get("dir") ?? Path.Combine(Path.GetTempPath(), "tf-bench-ackfloor-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(root);
        var entry = new byte[entryBytes];
        new Random(1).NextBytes(entry);
        Console.WriteLine(FormattableString.Invariant(
            $"# Ack floor: {tables} tables, {rate:N1} entries/s of {entryBytes / 1e6:N1} MB ({rate * entryBytes / 1e6:N0} MB/s), {seconds:N0} s each; Parquet {parquetBytes / 1e6:N0} MB files at {parquetMbps:N0} MB/s; {cpuThreads} CPU threads; {root}; load {File.ReadAllText("/proc/loadavg").Trim()}"));
        Console.WriteLine("| variant | scenario | ack p50 / p99 / max ms | write p50 / p99 | sync p50 / p99 | entries |");
        Console.WriteLine("|---|---|---|---|---|---:|");
        try
        {
            for (var round = 0; round < rounds; round++)
            foreach (var scenario in scenarios)
            foreach (var variant in variants)
            {
                var dir = Path.Combine(root, $"{variant}-{scenario}-{round}");
                Directory.CreateDirectory(dir);
                var samples = await RunOneAsync(dir, variant, scenario, entry, rate, tables, seconds, parquetBytes, parquetMbps, cpuThreads, segmentBytes);
                Directory.Delete(dir, recursive: true);
                double P(Func<Sample, double> f, double q) => Stats.Percentile(samples.Select(f).ToList(), q);
                Console.WriteLine(FormattableString.Invariant(
                    $"| {variant} | {scenario} | {P(s => s.LatencyMs, .5):F1} / {P(s => s.LatencyMs, .99):F1} / {samples.Max(s => s.LatencyMs):F1} | {P(s => s.WriteMs, .5):F1} / {P(s => s.WriteMs, .99):F1} | {P(s => s.SyncMs, .5):F1} / {P(s => s.SyncMs, .99):F1} | {samples.Count} |"));
            }
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
        return 0;
    }

    private static async Task<List<Sample>> RunOneAsync(string dir, string variant, string scenario, byte[] entry, double rate, int tables, double seconds,
        int parquetBytes, double parquetMbps, int cpuThreads, long segmentBytes)
    {
        using var stop = new CancellationTokenSource();
        var background = new List<Thread>();
        if (scenario is "parquet" or "both")
            background.Add(new Thread(() => WriteParquetLike(Path.Combine(dir, "parquet"), parquetBytes, parquetMbps, stop.Token)) { Name = "parquet-like" });
        if (scenario is "cpu" or "both")
            for (var i = 0; i < cpuThreads; i++)
                background.Add(new Thread(() => Compress(stop.Token)) { Name = "export-like" });
        // Segments are prepared before the clock starts (a real WAL would prepare the next one ahead, off the ack path).
        var logs = Enumerable.Range(0, tables).Select(t => new SegmentLog(Path.Combine(dir, $"wal{t}"), variant, segmentBytes, entry)).ToArray();
        foreach (var t in background) t.Start();
        var interval = TimeSpan.FromSeconds(tables / rate);
        var count = (int)(seconds * rate / tables);
        var results = new List<Sample>[tables];
        var start = Stopwatch.GetTimestamp();
        var writers = Enumerable.Range(0, tables).Select(t => new Thread(() =>
        {
            var mine = new List<Sample>(count);
            // Staggered: the tables' entries evenly spaced over the interval, as independent writers would be.
            var offset = interval * t / tables;
            for (var k = 0; k < count; k++)
            {
                var due = offset + interval * k;
                var wait = due - Stopwatch.GetElapsedTime(start);
                if (wait > TimeSpan.Zero) Thread.Sleep(wait);
                var before = Stopwatch.GetTimestamp();
                logs[t].Append();
                var written = Stopwatch.GetTimestamp();
                logs[t].Sync();
                var synced = Stopwatch.GetTimestamp();
                mine.Add(new Sample((Stopwatch.GetElapsedTime(start, synced) - due).TotalMilliseconds,
                    Stopwatch.GetElapsedTime(before, written).TotalMilliseconds, Stopwatch.GetElapsedTime(written, synced).TotalMilliseconds));
            }
            results[t] = mine;
        }) { Name = $"wal-{t}" }).ToList();
        foreach (var w in writers) w.Start();
        await Task.Run(() =>
        {
            foreach (var w in writers) w.Join();
        });
        stop.Cancel();
        foreach (var t in background) t.Join();
        foreach (var log in logs) log.Dispose();
        return results.SelectMany(r => r).ToList();
    }

    /// <summary>
    /// One table's log: 64 MB segments written front to back, synced per entry as <c>variant</c> says. The preallocated
    /// variants prepare a ring of segments before the run and reuse them in turn (as PostgreSQL recycles its WAL
    /// segments once a checkpoint freed them; here a flush's WAL truncate would): no file is created on the ack path.
    /// </summary>
    private sealed class SegmentLog : IDisposable
    {
        private const int Ring = 3;
        private const int Align = 4096;
        private const int ORdWr = 2, ODirect = 0x4000; // Linux x86-64
        private readonly string _dir;
        private readonly string _variant;
        private readonly long _segmentBytes;
        private readonly ReadOnlyMemory<byte> _entry;
        private readonly List<SafeFileHandle> _ring = [];
        private SafeFileHandle? _current;
        private string? _currentPath;
        private long _offset;
        private int _next;

        public SegmentLog(string dir, string variant, long segmentBytes, byte[] entry)
        {
            _dir = dir;
            _variant = variant;
            _segmentBytes = Math.Max(segmentBytes, entry.Length + Align);
            _entry = variant == "direct" ? AlignedCopy(entry) : entry;
            Directory.CreateDirectory(dir);
            if (variant != "append")
                for (var i = 0; i < Ring; i++)
                    _ring.Add(Prepare());
            Roll();
        }

        public void Append()
        {
            if (_offset + _entry.Length > _segmentBytes) Roll();
            RandomAccess.Write(_current!, _entry.Span, _offset);
            _offset += _entry.Length;
        }

        /// <summary>O_DIRECT needs the buffer's address, its length and the file offset aligned: the entry padded to 4 KiB in a pinned array.</summary>
        private static ReadOnlyMemory<byte> AlignedCopy(byte[] entry)
        {
            var length = (entry.Length + Align - 1) / Align * Align;
            var raw = GC.AllocateArray<byte>(length + Align, pinned: true);
            var skip = (int)((Align - Marshal.UnsafeAddrOfPinnedArrayElement(raw, 0).ToInt64() % Align) % Align);
            entry.CopyTo(raw.AsSpan(skip));
            return raw.AsMemory(skip, length);
        }

        public void Sync()
        {
            if (_variant == "append")
                RandomAccess.FlushToDisk(_current!);
            else if (fdatasync((int)_current!.DangerousGetHandle()) != 0)
                throw new IOException($"fdatasync failed: errno {Marshal.GetLastPInvokeError()}");
        }

        private void Roll()
        {
            if (_variant == "append")
            {
                if (_current is not null)
                {
                    _current.Dispose();
                    File.Delete(_currentPath!);
                }
                // As the WAL does: a new file, and the directory fsynced so that its name is durable.
                _currentPath = Path.Combine(_dir, $"{_next++:D8}.wal");
                _current = File.OpenHandle(_currentPath, FileMode.CreateNew, FileAccess.ReadWrite);
                SyncDirectory(_dir);
            }
            else
                _current = _ring[_next++ % Ring];
            _offset = 0;
        }

        private SafeFileHandle Prepare()
        {
            var path = Path.Combine(_dir, $"{_ring.Count:D8}.ring");
            var handle = File.OpenHandle(path, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, FileOptions.None,
                _variant == "fallocate" ? _segmentBytes : 0);
            if (_variant is "zeroed" or "direct")
            {
                var zeros = new byte[1 << 20];
                for (long o = 0; o < _segmentBytes; o += zeros.Length)
                    RandomAccess.Write(handle, zeros.AsSpan(0, (int)Math.Min(zeros.Length, _segmentBytes - o)), o);
            }
            RandomAccess.FlushToDisk(handle);
            SyncDirectory(_dir);
            if (_variant != "direct") return handle;
            // Written past the page cache: no copy into it, no dirty-page throttling; fdatasync still flushes the device.
            handle.Dispose();
            var fd = open(path, ORdWr | ODirect);
            if (fd < 0) throw new IOException($"open('{path}', O_DIRECT) failed: errno {Marshal.GetLastPInvokeError()}");
            return new SafeFileHandle(fd, ownsHandle: true);
        }

        public void Dispose()
        {
            if (_variant == "append") _current?.Dispose();
            foreach (var h in _ring) h.Dispose();
        }
    }

    /// <summary>The flush's I/O: Parquet-sized files written in 1 MB chunks, fsynced, renamed into place, at a byte rate.</summary>
    private static void WriteParquetLike(string dir, int bytes, double mbps, CancellationToken stop)
    {
        Directory.CreateDirectory(dir);
        var chunk = new byte[1 << 20];
        new Random(2).NextBytes(chunk);
        var every = TimeSpan.FromSeconds(bytes / (mbps * 1e6));
        var clock = Stopwatch.StartNew();
        for (var n = 0; !stop.IsCancellationRequested; n++)
        {
            var staged = Path.Combine(dir, $"staging-{n}.parquet");
            using (var handle = File.OpenHandle(staged, FileMode.CreateNew, FileAccess.Write))
            {
                for (long o = 0; o < bytes; o += chunk.Length)
                    RandomAccess.Write(handle, chunk.AsSpan(0, (int)Math.Min(chunk.Length, bytes - o)), o);
                RandomAccess.FlushToDisk(handle);
            }
            var final = Path.Combine(dir, $"part-{n}.parquet");
            File.Move(staged, final);
            SyncDirectory(dir);
            File.Delete(final);
            var wait = every * (n + 1) - clock.Elapsed;
            if (wait > TimeSpan.Zero) stop.WaitHandle.WaitOne(wait);
        }
    }

    /// <summary>An export's CPU: compressing a semi-compressible buffer over and over, until stopped.</summary>
    private static void Compress(CancellationToken stop)
    {
        var data = new byte[4 << 20];
        var random = new Random(3);
        for (var i = 0; i < data.Length; i++) data[i] = (byte)(random.Next(16) + 'a');
        while (!stop.IsCancellationRequested)
        {
            using var sink = new ZLibStream(Stream.Null, CompressionLevel.Fastest);
            sink.Write(data);
        }
    }

    /// <summary>fsync of a directory (.NET has no API for it), as the WAL's <c>DirectorySync</c>.</summary>
    private static void SyncDirectory(string dir)
    {
        var fd = open(dir, 0);
        if (fd < 0) throw new IOException($"open('{dir}') failed: errno {Marshal.GetLastPInvokeError()}");
        try
        {
            if (fsync(fd) != 0) throw new IOException($"fsync('{dir}') failed: errno {Marshal.GetLastPInvokeError()}");
        }
        finally
        {
            _ = close(fd);
        }
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int open([MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags);

    [DllImport("libc", SetLastError = true)]
    private static extern int fsync(int fd);

    [DllImport("libc", SetLastError = true)]
    private static extern int close(int fd);

    [DllImport("libc", SetLastError = true)]
    private static extern int fdatasync(int fd);
}

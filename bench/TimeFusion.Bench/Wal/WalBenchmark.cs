using System.Diagnostics;
using System.Globalization;
using TimeFusion.Tables;
using TimeFusion.Wal;

namespace TimeFusion.Bench.Wal;

/// <summary>
/// <c>wal [--dir PATH] [--seconds 3]</c>: WAL append rate on local disk (entries/s, MB/s, fsyncs, latency) for
/// small (1 KiB) and large (an 8,192-row otel batch, ~4 MiB) entries, fsync per commit with one writer and group
/// commit with 16–64 concurrent writers, plus interval mode and Arrow IPC encoding cost.
/// </summary>
public static class WalBenchmark
{
    private static readonly TableId Id = new("bench", "otel_logs_and_spans");

    public static async Task<int> RunAsync(string[] args)
    {
        var dir = Option(args, "--dir") ?? Path.Combine(Path.GetTempPath(), "tf-bench-wal-" + Guid.NewGuid().ToString("N"));
        var seconds = double.Parse(Option(args, "--seconds") ?? "3", CultureInfo.InvariantCulture);
        Directory.CreateDirectory(dir);
        try
        {
            var small = new byte[1024];
            new Random(1).NextBytes(small);
            var fourMiB = new byte[4 << 20];
            new Random(2).NextBytes(fourMiB);
            var batch = new OtelRowGenerator(1, new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero)).NextBatch(8192);
            var clock = Stopwatch.StartNew();
            var large = WalPayloads.EncodeInsert(batch);
            var encodeMs = clock.Elapsed.TotalMilliseconds;
            clock.Restart();
            const int encodes = 20;
            for (var i = 0; i < encodes; i++) _ = WalPayloads.EncodeInsert(batch);
            encodeMs = clock.Elapsed.TotalMilliseconds / encodes;
            clock.Restart();
            for (var i = 0; i < encodes; i++) WalPayloads.DecodeInsert(large).Dispose();
            var decodeMs = clock.Elapsed.TotalMilliseconds / encodes;

            Console.WriteLine($"# WAL append benchmark ({Environment.ProcessorCount} cores, {dir})");
            Console.WriteLine();
            Console.WriteLine($"Large entry: 8,192-row otel_logs_and_spans batch, Arrow IPC {large.Length / 1048576.0:F2} MiB; " +
                              $"encode {encodeMs:F1} ms, decode+validate {decodeMs:F1} ms per batch.");
            Console.WriteLine();
            Console.WriteLine("| mode | writers | entry | entries/s | MB/s | fsyncs/s | entries/fsync | p50 ms | p99 ms |");
            Console.WriteLine("|---|---:|---|---:|---:|---:|---:|---:|---:|");
            var scenarios = new (WalSyncMode Mode, int Writers, string Entry, byte[] Payload)[]
            {
                (WalSyncMode.PerCommit, 1, "1 KiB", small),
                (WalSyncMode.PerCommit, 16, "1 KiB", small),
                (WalSyncMode.PerCommit, 64, "1 KiB", small),
                (WalSyncMode.Interval, 1, "1 KiB", small),
                (WalSyncMode.Interval, 64, "1 KiB", small),
                (WalSyncMode.PerCommit, 1, "4 MiB", fourMiB),
                (WalSyncMode.PerCommit, 16, "4 MiB", fourMiB),
                (WalSyncMode.PerCommit, 1, "otel 8K rows", large),
                (WalSyncMode.PerCommit, 16, "otel 8K rows", large),
                (WalSyncMode.PerCommit, 64, "otel 8K rows", large),
            };
            var n = 0;
            var logs = new List<(string Root, string Entry)>();
            foreach (var s in scenarios)
            {
                var root = Path.Combine(dir, (n++).ToString(CultureInfo.InvariantCulture));
                var r = await Measure(root, s.Mode, s.Writers, s.Payload, seconds);
                Console.WriteLine(FormattableString.Invariant(
                    $"| {(s.Mode == WalSyncMode.PerCommit ? "fsync per commit" : "interval 10 ms")} | {s.Writers} | {s.Entry} | {r.EntriesPerSecond:N0} | {r.MegabytesPerSecond:N1} | {r.FsyncsPerSecond:N0} | {r.EntriesPerFsync:N1} | {r.P50:F2} | {r.P99:F2} |"));
                if (s.Writers == 64 || (s.Writers == 1 && s.Mode == WalSyncMode.PerCommit && s.Payload == large)) logs.Add((root, $"{s.Entry}, {s.Writers} writers, {s.Mode}"));
            }
            Console.WriteLine();
            Console.WriteLine("Reopen (recovery scan of every segment) and full replay (ReadAsync; page cache warm):");
            Console.WriteLine();
            Console.WriteLine("| log | entries | MiB | open ms | open MB/s | replay ms | replay MB/s |");
            Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|");
            foreach (var (root, entry) in logs)
            {
                var clock2 = Stopwatch.StartNew();
                await using var log = await WriteAheadLog.OpenAsync(Id, new LocalWalStorage(root));
                var open = clock2.Elapsed.TotalMilliseconds;
                clock2.Restart();
                long bytes = 0, count = 0;
                await foreach (var e in log.ReadAsync(0))
                {
                    bytes += e.Payload.Length;
                    count++;
                }
                var replay = clock2.Elapsed.TotalMilliseconds;
                var scanned = log.RecoveryStats.BytesScanned;
                Console.WriteLine(FormattableString.Invariant(
                    $"| {entry} | {count:N0} | {scanned / 1048576.0:N0} | {open:N0} | {scanned / 1e3 / open:N0} | {replay:N0} | {bytes / 1e3 / replay:N0} |"));
            }
            return 0;
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private sealed record Result(double EntriesPerSecond, double MegabytesPerSecond, double FsyncsPerSecond, double EntriesPerFsync, double P50, double P99);

    private static async Task<Result> Measure(string root, WalSyncMode mode, int writers, byte[] payload, double seconds)
    {
        var options = new WalOptions { SyncMode = mode };
        await using var log = await WriteAheadLog.OpenAsync(Id, new LocalWalStorage(root), options);
        // Warm-up (JIT, first segment growth).
        for (var i = 0; i < 20; i++) await log.AppendAsync(WalOperation.Insert, payload);
        var before = log.Statistics;
        var latencies = new List<double>[writers];
        var stop = Stopwatch.StartNew();
        var deadline = TimeSpan.FromSeconds(seconds);
        await Task.WhenAll(Enumerable.Range(0, writers).Select(w => Task.Run(async () =>
        {
            var mine = latencies[w] = new List<double>(1 << 16);
            while (stop.Elapsed < deadline)
            {
                var t = Stopwatch.GetTimestamp();
                await log.AppendAsync(WalOperation.Insert, payload);
                mine.Add(Stopwatch.GetElapsedTime(t).TotalMilliseconds);
            }
        })));
        var elapsed = stop.Elapsed.TotalSeconds;
        var after = log.Statistics;
        var appends = after.Appends - before.Appends;
        var fsyncs = Math.Max(1, after.Fsyncs - before.Fsyncs);
        var all = latencies.SelectMany(l => l).Order().ToArray();
        return new Result(appends / elapsed, (after.BytesWritten - before.BytesWritten) / elapsed / 1e6, fsyncs / elapsed,
            (double)appends / fsyncs, all[all.Length / 2], all[(int)(all.Length * 0.99)]);
    }

    private static string? Option(string[] args, string name)
    {
        var i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
    }
}

using System.Diagnostics;
using Apache.Arrow;
using TimeFusion.Buffer;
using TimeFusion.Engine;
using TimeFusion.Storage;
using TimeFusion.Tables;
using TimeFusion.Wal;

namespace TimeFusion.Bench.Recovery;

/// <summary>
/// <c>replay [--dir PATH] [--wal-mb 512] [--tables 4] [--runs 3] [--write-only]</c>: WAL replay in process, without
/// the silo's start-up, grain activation or client: the folder gets a WAL of 8,192-row otel
/// batches over N tables once (a folder that already holds one is reused, so two builds can replay the very same
/// bytes back to back); then each run opens the N table engines side by side (each replays its WAL into a fresh
/// buffer) and reports MB/s of WAL replayed and the process's CPU seconds for it. Nothing is flushed, so every run
/// replays everything. Trace it with <c>dotnet-trace collect -- dotnet TimeFusion.Bench.dll replay …</c>.
/// </summary>
public static class ReplayBenchmark
{
    public static async Task<int> RunAsync(string[] argv)
    {
        var args = new BenchArgs(argv);
        var root = args.Get("dir") ?? Path.Combine(Path.GetTempPath(), "tf-bench-replay");
        var walBytes = args.Long("wal-mb", 512) << 20;
        var tables = args.Int("tables", 4);
        var runs = args.Int("runs", 3);
        var ids = Enumerable.Range(0, tables).Select(i => new TableId($"r{i}", OtelLogsAndSpans.Schema.Name)).ToArray();
        var options = new EngineOptions { Flush = { StagingDirectory = Path.Combine(root, "staging") } };
        var written = File.Exists(Path.Combine(root, "written"));
        var wal = new LocalWalStorage(Path.Combine(root, "wal"));
        var store = new LocalObjectStore(Path.Combine(root, "tables"));
        if (!written)
        {
            await WriteAsync(root, walBytes, ids, options, wal, store);
            await File.WriteAllTextAsync(Path.Combine(root, "written"), "");
        }
        var bytes = Directory.EnumerateFiles(Path.Combine(root, "wal"), "*", SearchOption.AllDirectories).Sum(f => new FileInfo(f).Length);
        Console.WriteLine($"WAL: {bytes / 1e6:N0} MB over {tables} tables in {root}");
        if (args.Has("write-only")) return 0;

        var rates = new List<double>();
        for (var run = 0; run < runs; run++)
        {
            await using var buffer = OpenBuffer();
            var services = new EngineServices(buffer, store, wal, options);
            GC.Collect();
            var cpu = Process.GetCurrentProcess().TotalProcessorTime;
            var clock = Stopwatch.StartNew();
            var engines = await Task.WhenAll(ids.Select(id => Task.Run(() => TableEngine.OpenAsync(id, OtelLogsAndSpans.Schema, services))));
            var elapsed = clock.Elapsed;
            var used = Process.GetCurrentProcess().TotalProcessorTime - cpu;
            var replayed = engines.Sum(e => e.Recovery.ReplayedBytes);
            var rows = engines.Sum(e => e.BufferedRows);
            rates.Add(bytes / 1e6 / elapsed.TotalSeconds);
            Console.WriteLine($"run {run}: {elapsed.TotalSeconds:F2} s, {bytes / 1e6 / elapsed.TotalSeconds:F0} MB/s of WAL ({replayed / 1e6:N0} MB of payload, {rows:N0} rows), " +
                              $"CPU {used.TotalSeconds:F2} s ({used.TotalSeconds / elapsed.TotalSeconds:F2} cores); per table: " +
                              string.Join(", ", engines.Select(e => $"{e.Recovery.Elapsed.TotalSeconds:F2} s (WAL open scan {e.Recovery.Wal.Elapsed.TotalSeconds:F2} s)")));
            foreach (var e in engines) await e.DisposeAsync();
        }
        rates.Sort();
        Console.WriteLine($"median {rates[rates.Count / 2]:F0} MB/s");
        return 0;
    }

    private static BufferDatabase OpenBuffer() => BufferDatabase.Open(new BufferOptions
    {
        MemoryLimitBytes = 14L << 30, SoftLimitBytes = 10L << 30, HardLimitBytes = 12L << 30, Threads = Environment.ProcessorCount,
    });

    private static async Task WriteAsync(string root, long walBytes, TableId[] ids, EngineOptions options, IWalStorage wal, IObjectStore store)
    {
        await using var buffer = OpenBuffer();
        var services = new EngineServices(buffer, store, wal, options);
        var engines = new TableEngine[ids.Length];
        var batches = new RecordBatch[ids.Length][];
        var start = new DateTimeOffset(2026, 11, 23, 0, 0, 0, TimeSpan.Zero);
        for (var t = 0; t < ids.Length; t++)
        {
            engines[t] = await TableEngine.OpenAsync(ids[t], OtelLogsAndSpans.Schema, services);
            var generator = new OtelRowGenerator(7 + t, start, projectId: ids[t].Project);
            batches[t] = [generator.NextBatch(8192), generator.NextBatch(8192)];
        }
        long written = 0;
        for (var i = 0; written < walBytes; i++)
        {
            for (var t = 0; t < ids.Length; t++) await engines[t].InsertAsync(batches[t][i % 2]);
            written = Directory.EnumerateFiles(Path.Combine(root, "wal"), "*", SearchOption.AllDirectories).Sum(f => new FileInfo(f).Length);
        }
        // Closed without a flush: every entry stays above the Delta txn version and replays on every open.
        foreach (var e in engines) await e.DisposeAsync();
    }
}

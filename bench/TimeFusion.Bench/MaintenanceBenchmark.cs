using System.Diagnostics;
using TimeFusion.Buffer;
using TimeFusion.Engine;
using TimeFusion.Query.Execution;
using TimeFusion.Query.Planning;
using TimeFusion.Storage;
using TimeFusion.Tables;
using TimeFusion.Wal;

using TimeFusion.Bench.Queries;

namespace TimeFusion.Bench;

/// <summary>
/// <c>maintenance [--flushes 1000] [--rows-per-flush 500] [--runs 3] [--optimize-threads 1] [--optimize-nice 10] [--optimize-idle 0]</c>: one
/// table fed by minute-sized flushes (one small file each), the dashboard queries before and after OPTIMIZE, against the
/// same rows written as one flush (the two timed alternately, median of <c>runs</c>); OPTIMIZE's rows/s; and the ingest
/// rate of another table while OPTIMIZE runs against the same rate without it (measured before and after, averaged).
/// <c>--optimize-threads</c> / <c>--optimize-nice</c> / <c>--optimize-idle</c> (0/1) set <c>TimeFusion:Maintenance:OptimizeThreads</c> / <c>OptimizeNice</c> / <c>OptimizeIdlePriority</c>.
/// </summary>
public static class MaintenanceBenchmark
{
    public static async Task<int> RunAsync(string[] argv)
    {
        var args = new BenchArgs(argv);
        var flushes = args.Int("flushes", 1000);
        var perFlush = args.Int("rows-per-flush", 500);
        var runs = args.Int("runs", 3);
        var optimizeThreads = args.Int("optimize-threads", 1);
        var optimizeNice = args.Int("optimize-nice", 10);
        var optimizeIdle = args.Int("optimize-idle", 0) != 0;
        var root = Path.Combine(Path.GetTempPath(), "tf-bench-maint-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(root);
        try
        {
            await using var buffer = BufferDatabase.Open(new BufferOptions
            {
                MemoryLimitBytes = 8L << 30, SoftLimitBytes = 5L << 30, HardLimitBytes = 6L << 30, Threads = Environment.ProcessorCount,
            });
            var store = new LocalObjectStore(Path.Combine(root, "tables"));
            var options = new EngineOptions { Flush = { StagingDirectory = Path.Combine(root, "staging") } };
            options.Maintenance.OptimizeThreads = optimizeThreads;
            options.Maintenance.OptimizeNice = optimizeNice;
            options.Maintenance.OptimizeIdlePriority = optimizeIdle;
            Console.WriteLine($"OPTIMIZE: {optimizeThreads} DuckDB thread(s), nice {optimizeNice}, idle CPU/I-O class {(optimizeIdle ? "on" : "off")}; {Environment.ProcessorCount} cores");
            var services = new EngineServices(buffer, store, new LocalWalStorage(Path.Combine(root, "wal")), options);
            var schema = OtelLogsAndSpans.Schema;
            await using var small = await TableEngine.OpenAsync(new TableId("p-small", schema.Name), schema, services);
            await using var once = await TableEngine.OpenAsync(new TableId("p-once", schema.Name), schema, services);
            await using var ingest = await TableEngine.OpenAsync(new TableId("p-ingest", schema.Name), schema, services);

            var start = new DateTimeOffset(2026, 11, 23, 0, 0, 0, TimeSpan.Zero);
            var a = new OtelRowGenerator(7, start, rowsPerSecond: perFlush / 60.0, projectId: "p-small");
            var b = new OtelRowGenerator(7, start, rowsPerSecond: perFlush / 60.0, projectId: "p-once");
            var clock = Stopwatch.StartNew();
            for (var f = 0; f < flushes; f++)
            {
                await small.InsertAsync(a.NextBatch(perFlush));
                await small.FlushAsync();
                await once.InsertAsync(b.NextBatch(perFlush));
            }
            Console.WriteLine($"{flushes:N0} flushes of {perFlush:N0} rows in {clock.Elapsed.TotalSeconds:F1} s");
            await once.FlushAsync();
            var rows = (long)flushes * perFlush;

            var end = start.AddMinutes(flushes);
            var hour = $"timestamp >= TIMESTAMPTZ '{end.AddHours(-1):yyyy-MM-dd HH:mm:ss}+00' AND timestamp < TIMESTAMPTZ '{end:yyyy-MM-dd HH:mm:ss}+00'";
            var queries = new (string Name, string Sql)[]
            {
                ("count in the last hour", $"SELECT count(*) FROM otel_logs_and_spans WHERE {hour}"),
                ("count and p95 per minute and service, last hour", $"SELECT epoch_us(timestamp) // 60000000 AS minute, resource___service___name, count(*), quantile_cont(duration, 0.95) FROM otel_logs_and_spans WHERE {hour} GROUP BY 1, 2"),
                ("per-minute count, whole range", "SELECT epoch_us(timestamp) // 60000000 AS minute, count(*) FROM otel_logs_and_spans GROUP BY 1"),
                ("top-100 latest errors", "SELECT timestamp, id, resource___service___name, body FROM otel_logs_and_spans WHERE level = 'ERROR' ORDER BY timestamp DESC LIMIT 100"),
                ("JSON attribute group-by", "SELECT attributes->>'$.route' AS route, count(*) FROM otel_logs_and_spans GROUP BY 1"),
            };
            using var parser = new SqlParser();
            var analyzer = new QueryAnalyzer(parser);
            var executor = new SnapshotQueryExecutor();

            // The tables compared are timed alternately, run by run, so that a change in the machine's load hits both alike.
            async Task<double[][]> TimeQueriesAsync(params TableEngine[] engines)
            {
                var result = engines.Select(_ => new double[queries.Length]).ToArray();
                var snapshots = engines.Select(e => e.OpenSnapshot()).ToArray();
                try
                {
                    for (var q = 0; q < queries.Length; q++)
                    {
                        var runners = engines.Select((engine, e) =>
                        {
                            var plan = analyzer.Analyze(queries[q].Sql, new OneTableCatalog(schema, engine.Id.Project), CallerScope.User(engine.Id.Project, [engine.Id.Project]));
                            var snapshot = snapshots[e];
                            return (Func<Task>)(async () =>
                            {
                                var (r, _) = await executor.ExecuteDetailedAsync(snapshot, schema, store, schema.Name, plan.Sql, plan.Scans[0].Time, plan.NewestFirstLimit, CancellationToken.None);
                                r.Dispose();
                            });
                        }).ToArray();
                        var medians = await InTurn.MediansAsync(runs, runners);
                        for (var e = 0; e < engines.Length; e++) result[e][q] = medians[e];
                    }
                }
                finally
                {
                    foreach (var s in snapshots) s.Dispose();
                }
                return result;
            }

            (int Files, long Bytes) Shape(TableEngine e) => (e.DeltaSnapshot.Files.Count, e.DeltaSnapshot.Files.Sum(f => f.Size));
            var beforeShape = Shape(small);
            var onceShape = Shape(once);
            var before = (await TimeQueriesAsync(small))[0];

            // Ingest without OPTIMIZE, then with OPTIMIZE running on the other table.
            var gen = new OtelRowGenerator(11, start, projectId: "p-ingest");
            var batches = Enumerable.Range(0, 64).Select(_ => gen.NextBatch(2_000)).ToList();
            async Task<double> IngestRateAsync(Func<bool> keepGoing, TimeSpan atLeast)
            {
                var sw = Stopwatch.StartNew();
                long inserted = 0;
                var writers = Enumerable.Range(0, 2).Select(w => Task.Run(async () =>
                {
                    for (var i = w; keepGoing() || sw.Elapsed < atLeast; i += 2)
                    {
                        await ingest.InsertAsync(batches[i % batches.Count]);
                        Interlocked.Add(ref inserted, batches[i % batches.Count].Length);
                        // Flushed as a silo would (the bench's buffer has no memory budget of its own): a long OPTIMIZE
                        // would otherwise pile its whole window into DuckDB's memory. Same cadence in every window.
                        if (w == 0 && ingest.BufferedRows >= 1_000_000) await ingest.FlushAsync();
                    }
                })).ToList();
                await Task.WhenAll(writers);
                var rate = inserted / sw.Elapsed.TotalSeconds;
                await ingest.FlushAsync();
                return rate;
            }

            var withoutBefore = await IngestRateAsync(() => false, TimeSpan.FromSeconds(20));
            var optimizeClock = Stopwatch.StartNew();
            var optimizeTask = small.OptimizeAsync();
            var during = await IngestRateAsync(() => !optimizeTask.IsCompleted, TimeSpan.Zero);
            var optimized = await optimizeTask;
            var optimizeSeconds = optimizeClock.Elapsed.TotalSeconds;
            var withoutAfter = await IngestRateAsync(() => false, TimeSpan.FromSeconds(Math.Max(20, optimizeSeconds)));
            var without = (withoutBefore + withoutAfter) / 2;
            var afterShape = Shape(small);
            var timed = await TimeQueriesAsync(small, once);
            var (after, reference) = (timed[0], timed[1]);

            Console.WriteLine();
            Console.WriteLine($"| table ({rows:N0} rows) | files | MB | " + string.Join(" | ", queries.Select(q => q.Name + " ms")) + " |");
            Console.WriteLine("|---|---:|---:|" + string.Concat(queries.Select(_ => "---:|")));
            Console.WriteLine($"| {flushes:N0} small flushes | {beforeShape.Files:N0} | {beforeShape.Bytes / 1e6:F1} | " + string.Join(" | ", before.Select(t => t.ToString("F1"))) + " |");
            Console.WriteLine($"| after OPTIMIZE | {afterShape.Files:N0} | {afterShape.Bytes / 1e6:F1} | " + string.Join(" | ", after.Select(t => t.ToString("F1"))) + " |");
            Console.WriteLine($"| same rows as one flush | {onceShape.Files:N0} | {onceShape.Bytes / 1e6:F1} | " + string.Join(" | ", reference.Select(t => t.ToString("F1"))) + " |");
            Console.WriteLine($"| after OPTIMIZE ÷ one flush | {(double)afterShape.Files / onceShape.Files:F2}× | {(double)afterShape.Bytes / onceShape.Bytes:F2}× | "
                + string.Join(" | ", after.Zip(reference, (x, y) => (x / y).ToString("F2") + "×")) + " |");
            Console.WriteLine();
            Console.WriteLine($"OPTIMIZE: {optimized.FilesRemoved:N0} files → {optimized.FilesAdded}, {optimized.Rows:N0} rows in {optimizeSeconds:F2} s = {optimized.Rows / optimizeSeconds:N0} rows/s");
            Console.WriteLine($"ingest into another table: {without:N0} rows/s without OPTIMIZE ({withoutBefore:N0} before, {withoutAfter:N0} after), {during:N0} rows/s while it runs ({(1 - during / without) * 100:F1} % lower)");
            return 0;
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }
}

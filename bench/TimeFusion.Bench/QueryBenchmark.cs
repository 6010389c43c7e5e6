using System.Diagnostics;
using DuckDB.NET.Data;
using TimeFusion.Buffer;
using TimeFusion.Engine;
using TimeFusion.Query.Execution;
using TimeFusion.Query.Planning;
using TimeFusion.Storage;
using TimeFusion.Tables;
using TimeFusion.Wal;

namespace TimeFusion.Bench;

/// <summary>
/// <c>query [--rows 1000000] [--runs 3]</c>: generated otel rows spread over one day, half flushed to Delta and half
/// in the buffer of one table engine; a dashboard query set planned by our planner and run by our snapshot executor,
/// against DuckDB reading the very same rows from Parquet directly (the engine limit). Warm, median of runs.
/// </summary>
public static class QueryBenchmark
{
    private sealed class OneTable(TableSchema schema) : ICatalogView
    {
        public TableSchema? Find(string name) => string.Equals(name, schema.Name, StringComparison.OrdinalIgnoreCase) ? schema : null;
        public IReadOnlyList<string> ProjectsOf(string table) => ["p-bench"];
    }

    public static async Task<int> RunAsync(string[] argv)
    {
        var args = new BenchArgs(argv);
        var rows = args.Int("rows", 1_000_000);
        var runs = args.Int("runs", 3);
        var root = Path.Combine(Path.GetTempPath(), "tf-bench-query-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(root);
        try
        {
            await using var buffer = BufferDatabase.Open(new BufferOptions
            {
                MemoryLimitBytes = 14L << 30, SoftLimitBytes = 10L << 30, HardLimitBytes = 12L << 30, Threads = Environment.ProcessorCount,
            });
            var store = new LocalObjectStore(Path.Combine(root, "tables"));
            var options = new EngineOptions { Flush = { StagingDirectory = Path.Combine(root, "staging") } };
            var services = new EngineServices(buffer, store, new LocalWalStorage(Path.Combine(root, "wal")), options);
            var schema = OtelLogsAndSpans.Schema;
            await using var engine = await TableEngine.OpenAsync(new TableId("p-bench", schema.Name), schema, services);

            var start = new DateTimeOffset(2026, 11, 23, 0, 0, 0, TimeSpan.Zero);
            var generator = new OtelRowGenerator(7, start, rowsPerSecond: rows / 86_400.0);
            var clock = Stopwatch.StartNew();
            for (var written = 0; written < rows; written += 8192)
            {
                await engine.InsertAsync(generator.NextBatch(Math.Min(8192, rows - written)));
                if (written < rows / 2 && written + 8192 >= rows / 2) await engine.FlushAsync(); // first half → Delta
            }
            Console.WriteLine($"ingested {rows:N0} rows in {clock.Elapsed.TotalSeconds:F1} s; {engine.BufferedRows:N0} buffered, {engine.DeltaSnapshot.Files.Count} Delta files");

            using var snapshot = engine.OpenSnapshot();
            // The reference: the same rows as Parquet, read by DuckDB directly.
            var bufferedParquet = Path.Combine(root, "buffered.parquet");
            snapshot.Buffer.QueryScalar($"COPY (SELECT * EXCLUDE (date) FROM ({snapshot.Buffer.Relation}) ORDER BY timestamp) TO {SqlNames.Literal(bufferedParquet)} (FORMAT parquet, COMPRESSION zstd)");
            var files = new List<string> { bufferedParquet };
            foreach (var add in snapshot.Delta.Files) files.Add(await store.GetLocalPathAsync(snapshot.Delta.ObjectPath(add)));
            using var reference = new DuckDBConnection("DataSource=:memory:");
            reference.Open();
            Execute(reference, $"SET threads = {Environment.ProcessorCount}; SET TimeZone = 'UTC'; CREATE VIEW otel_logs_and_spans AS SELECT * FROM read_parquet([{string.Join(", ", files.Select(SqlNames.Literal))}], union_by_name = true)");

            var end = start.AddDays(1);
            var hour = $"timestamp >= TIMESTAMPTZ '{end.AddHours(-1):yyyy-MM-dd HH:mm:ss}+00' AND timestamp < TIMESTAMPTZ '{end:yyyy-MM-dd HH:mm:ss}+00'";
            var queries = new (string Name, string Sql)[]
            {
                ("count in the last hour", $"SELECT count(*) FROM otel_logs_and_spans WHERE {hour}"),
                ("per-minute count and p95 by service (integer buckets)", "SELECT epoch_us(timestamp) // 60000000 AS minute, resource___service___name, count(*), quantile_cont(duration, 0.95) FROM otel_logs_and_spans GROUP BY 1, 2"),
                ("top-100 latest errors", "SELECT timestamp, id, resource___service___name, body FROM otel_logs_and_spans WHERE level = 'ERROR' ORDER BY timestamp DESC LIMIT 100"),
                ("substring search (LIKE)", "SELECT count(*) FROM otel_logs_and_spans WHERE body LIKE '%failed to handle%'"),
                ("JSON attribute group-by", "SELECT attributes->>'$.route' AS route, count(*) FROM otel_logs_and_spans GROUP BY 1"),
            };

            using var parser = new SqlParser();
            var analyzer = new QueryAnalyzer(parser);
            var executor = new SnapshotQueryExecutor();
            var catalog = new OneTable(schema);
            Console.WriteLine();
            Console.WriteLine($"| query ({rows:N0} rows, half buffered) | TimeFusion ms | DuckDB over the same Parquet ms | ratio | rows |");
            Console.WriteLine("|---|---:|---:|---:|---:|");
            foreach (var (name, sql) in queries)
            {
                var plan = analyzer.Analyze(sql, catalog, CallerScope.User("p-bench", ["p-bench"]));
                var scan = plan.Scans[0];
                long ours = 0, theirs = 0;
                var oursMs = await MedianAsync(runs, async () =>
                {
                    var (result, _) = await executor.ExecuteDetailedAsync(snapshot, schema, store, schema.Name, plan.Sql, scan.Time, plan.NewestFirstLimit, CancellationToken.None);
                    using (result) ours = result.RowCount;
                });
                var refMs = await MedianAsync(runs, () =>
                {
                    using var cmd = reference.CreateCommand();
                    cmd.CommandText = sql;
                    using var reader = cmd.ExecuteReader();
                    long n = 0;
                    while (reader.Read()) n++;
                    theirs = n;
                    return Task.CompletedTask;
                });
                Console.WriteLine($"| {name} | {oursMs:F1} | {refMs:F1} | {oursMs / refMs:F2}× | {ours}{(ours == theirs ? "" : $" (DuckDB: {theirs})")} |");
            }
            return 0;
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    private static void Execute(DuckDBConnection connection, string sql)
    {
        using var cmd = connection.CreateCommand();
        cmd.CommandText = sql;
        cmd.ExecuteNonQuery();
    }

    private static async Task<double> MedianAsync(int runs, Func<Task> run)
    {
        await run(); // warm
        var times = new List<double>();
        for (var i = 0; i < runs; i++)
        {
            var sw = Stopwatch.StartNew();
            await run();
            times.Add(sw.Elapsed.TotalMilliseconds);
        }
        times.Sort();
        return times[times.Count / 2];
    }
}

using System.Diagnostics;
using DuckDB.NET.Data;
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
/// <c>query [--rows 1000000] [--runs 3]</c>: generated otel rows spread over one day, half flushed to Delta and half
/// in the buffer of one table engine; a dashboard query set planned by our planner and run by our snapshot executor,
/// against DuckDB reading the very same rows from Parquet directly (the engine limit). Warm, median of runs.
/// </summary>
public static class QueryBenchmark
{
    public static async Task<int> RunAsync(string[] argv)
    {
        var args = new BenchArgs(argv);
        var rows = args.Int("rows", 1_000_000);
        var runs = args.Int("runs", 3);
        // 0 = buffered rows appended to DuckDB's generations (before session 8); the default keeps them as Arrow.
        var tailRows = args.Int("tail-rows", new BufferOptions().TailRows);
        var root = Path.Combine(Path.GetTempPath(), "tf-bench-query-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(root);
        try
        {
            BufferDatabase OpenBuffer(int tail) => BufferDatabase.Open(new BufferOptions
            {
                MemoryLimitBytes = 14L << 30, SoftLimitBytes = 10L << 30, HardLimitBytes = 12L << 30, Threads = Environment.ProcessorCount,
                TailRows = tail,
            });
            await using var buffer = OpenBuffer(tailRows);
            // The same rows buffered the other way (DuckDB's compressed generations vs the Arrow tail), timed in turn
            // with ours so that a noisy machine affects both alike.
            await using var otherBuffer = OpenBuffer(tailRows == 0 ? new BufferOptions().TailRows : 0);
            var store = new LocalObjectStore(Path.Combine(root, "tables"));
            var otherStore = new LocalObjectStore(Path.Combine(root, "other-tables"));
            var options = new EngineOptions { Flush = { StagingDirectory = Path.Combine(root, "staging") } };
            var services = new EngineServices(buffer, store, new LocalWalStorage(Path.Combine(root, "wal")), options);
            var otherServices = new EngineServices(otherBuffer, otherStore, new LocalWalStorage(Path.Combine(root, "other-wal")), options);
            var schema = OtelLogsAndSpans.Schema;
            await using var engine = await TableEngine.OpenAsync(new TableId("p-bench", schema.Name), schema, services);
            await using var otherEngine = await TableEngine.OpenAsync(new TableId("p-bench", schema.Name), schema, otherServices);

            var start = new DateTimeOffset(2026, 11, 23, 0, 0, 0, TimeSpan.Zero);
            var generator = new OtelRowGenerator(7, start, rowsPerSecond: rows / 86_400.0);
            var clock = Stopwatch.StartNew();
            for (var written = 0; written < rows; written += 8192)
            {
                var batch = generator.NextBatch(Math.Min(8192, rows - written));
                await engine.InsertAsync(batch);
                await otherEngine.InsertAsync(batch);
                if (written < rows / 2 && written + 8192 >= rows / 2)
                {
                    await engine.FlushAsync(); // first half → Delta
                    await otherEngine.FlushAsync();
                }
            }
            Console.WriteLine($"ingested {rows:N0} rows twice in {clock.Elapsed.TotalSeconds:F1} s; {engine.BufferedRows:N0} buffered, {engine.DeltaSnapshot.Files.Count} Delta files");
            await buffer.WhenBackgroundCheckpointsIdle();
            await otherBuffer.WhenBackgroundCheckpointsIdle();
            using var otherSnapshot = otherEngine.OpenSnapshot();
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
            var catalog = new OneTableCatalog(schema, "p-bench");
            Console.WriteLine();
            var (ourKind, otherKind) = tailRows == 0 ? ("generations", "Arrow tail") : ("Arrow tail", "generations");
            Console.WriteLine($"| query ({rows:N0} rows, half buffered) | TimeFusion ms (buffer: {ourKind}) | buffer: {otherKind} ms | {ourKind} ÷ {otherKind} | DuckDB over the same Parquet ms | ratio | rows |");
            Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|");
            foreach (var (name, sql) in queries)
            {
                var plan = analyzer.Analyze(sql, catalog, CallerScope.User("p-bench", ["p-bench"]));
                var scan = plan.Scans[0];
                long ours = 0, theirs = 0, others = 0;
                var times = await InTurn.MediansAsync(runs,
                    async () =>
                    {
                        var (result, _) = await executor.ExecuteDetailedAsync(snapshot, schema, store, schema.Name, plan.Sql, scan.Time, plan.NewestFirstLimit, CancellationToken.None);
                        using (result) ours = result.RowCount;
                    },
                    async () =>
                    {
                        var (result, _) = await executor.ExecuteDetailedAsync(otherSnapshot, schema, otherStore, schema.Name, plan.Sql, scan.Time, plan.NewestFirstLimit, CancellationToken.None);
                        using (result) others = result.RowCount;
                    },
                    () =>
                    {
                        using var cmd = reference.CreateCommand();
                        cmd.CommandText = sql;
                        using var reader = cmd.ExecuteReader();
                        long n = 0;
                        while (reader.Read()) n++;
                        theirs = n;
                        return Task.CompletedTask;
                    });
                var (oursMs, otherMs, refMs) = (times[0], times[1], times[2]);
                var check = ours == theirs && ours == others ? "" : $" (other buffer: {others}, DuckDB: {theirs})";
                Console.WriteLine($"| {name} | {oursMs:F1} | {otherMs:F1} | {oursMs / otherMs:F2}× | {refMs:F1} | {oursMs / refMs:F2}× | {ours}{check} |");
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
}

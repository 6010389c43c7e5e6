using System.Diagnostics;
using Apache.Arrow;
using TimeFusion.Buffer;
using TimeFusion.Delta;
using TimeFusion.Engine;
using TimeFusion.Query.Execution;
using TimeFusion.Query.Planning;
using TimeFusion.Storage;
using TimeFusion.Tables;
using TimeFusion.Wal;

namespace TimeFusion.Bench.Queries;

/// <summary>
/// <c>nullcols [--flushes 1000] [--rows-per-flush 500] [--runs 5] [--mixed 0]</c>: the same otel rows flushed into two
/// tables, one leaving out of each file the columns null in all its rows (<c>Buffer:OmitNullColumns</c>, the default),
/// one writing every column; the dashboard queries and newest-first reads timed alternately (median of <c>runs</c>):
/// the files with every column read as before (no statistics consulted), the same files read by the statistics, and
/// the files without the null columns; with the files' bytes and Parquet columns, and how they are read (columns taken
/// as typed NULLs, read by name). <c>--mixed 1</c>: <c>body</c> is null in every other flush, so that files of one
/// date differ in it (read with <c>union_by_name</c>).
/// </summary>
public static class NullColumnsQueryBenchmark
{
    public static async Task<int> RunAsync(string[] argv)
    {
        var args = new BenchArgs(argv);
        var flushes = args.Int("flushes", 1000);
        var perFlush = args.Int("rows-per-flush", 500);
        var runs = args.Int("runs", 5);
        var mixed = args.Int("mixed", 0) != 0;
        var root = Path.Combine(Path.GetTempPath(), "tf-bench-nullcols-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(root);
        try
        {
            BufferDatabase Open(bool omit) => BufferDatabase.Open(new BufferOptions
            {
                MemoryLimitBytes = 4L << 30, SoftLimitBytes = 2L << 30, HardLimitBytes = 3L << 30, Threads = Environment.ProcessorCount, OmitNullColumns = omit,
            });
            await using var bufferOff = Open(false);
            await using var bufferOn = Open(true);
            var store = new LocalObjectStore(Path.Combine(root, "tables"));
            var options = new EngineOptions { Flush = { StagingDirectory = Path.Combine(root, "staging") } };
            var schema = OtelLogsAndSpans.Schema;
            await using var off = await TableEngine.OpenAsync(new TableId("p-off", schema.Name), schema, new EngineServices(bufferOff, store, new LocalWalStorage(Path.Combine(root, "wal-off")), options));
            await using var on = await TableEngine.OpenAsync(new TableId("p-on", schema.Name), schema, new EngineServices(bufferOn, store, new LocalWalStorage(Path.Combine(root, "wal-on")), options));

            var start = new DateTimeOffset(2026, 11, 23, 0, 0, 0, TimeSpan.Zero);
            var a = new OtelRowGenerator(7, start, rowsPerSecond: perFlush / 60.0, projectId: "p-off");
            var b = new OtelRowGenerator(7, start, rowsPerSecond: perFlush / 60.0, projectId: "p-on");
            var clock = Stopwatch.StartNew();
            for (var f = 0; f < flushes; f++)
            {
                await off.InsertAsync(Mixed(a.NextBatch(perFlush), mixed && f % 2 == 1));
                await off.FlushAsync();
                await on.InsertAsync(Mixed(b.NextBatch(perFlush), mixed && f % 2 == 1));
                await on.FlushAsync();
            }
            Console.WriteLine($"{flushes:N0} flushes of {perFlush:N0} rows into each table in {clock.Elapsed.TotalSeconds:F1} s");

            var end = start.AddMinutes(flushes);
            var hour = $"timestamp >= TIMESTAMPTZ '{end.AddHours(-1):yyyy-MM-dd HH:mm:ss}+00' AND timestamp < TIMESTAMPTZ '{end:yyyy-MM-dd HH:mm:ss}+00'";
            var queries = new (string Name, string Sql)[]
            {
                ("count in the last hour", $"SELECT count(*) FROM otel_logs_and_spans WHERE {hour}"),
                ("count and p95 per minute and service, last hour", $"SELECT epoch_us(timestamp) // 60000000 AS minute, resource___service___name, count(*), quantile_cont(duration, 0.95) FROM otel_logs_and_spans WHERE {hour} GROUP BY 1, 2"),
                ("per-minute count, whole range", "SELECT epoch_us(timestamp) // 60000000 AS minute, count(*) FROM otel_logs_and_spans GROUP BY 1"),
                ("top-100 latest errors", "SELECT timestamp, id, resource___service___name, body FROM otel_logs_and_spans WHERE level = 'ERROR' ORDER BY timestamp DESC LIMIT 100"),
                ("JSON attribute group-by", "SELECT attributes->>'$.route' AS route, count(*) FROM otel_logs_and_spans GROUP BY 1"),
                ("latest 100 rows, every column", "SELECT * FROM otel_logs_and_spans ORDER BY timestamp DESC LIMIT 100"),
                ("every column, last hour", $"SELECT * FROM otel_logs_and_spans WHERE {hour}"),
            };
            using var parser = new SqlParser();
            var analyzer = new QueryAnalyzer(parser);
            var executor = new SnapshotQueryExecutor();
            using var snapshotOff = off.OpenSnapshot();
            using var snapshotOn = on.OpenSnapshot();

            foreach (var (name, engine, snapshot) in new[] { ("every column (off)", off, snapshotOff), ("null columns left out (on)", on, snapshotOn) })
            {
                var files = snapshot.Delta.Files;
                long columns = 0;
                foreach (var add in files)
                {
                    using var reader = new ParquetSharp.ParquetFileReader(await store.GetLocalPathAsync(snapshot.Delta.ObjectPath(add)));
                    columns += reader.FileMetaData.Schema.NumColumns;
                }
                // One date: the reads a query makes of its files.
                var reads = DataFileColumns.Split(schema, files, DeltaSchemaEvolution.AddedColumns(snapshot.Delta));
                Console.WriteLine($"{name}: {files.Count:N0} files, {files.Sum(f => f.Size) / 1e6:F1} MB, {(double)columns / files.Count:F1} Parquet columns per file; read in "
                                  + string.Join(" + ", reads.Select(r => $"{r.Files.Count} files ({r.Columns.Null.Count} typed NULLs, {(r.Columns.UnionByName ? $"by name: {r.Columns.MaybeMissing.Count}" : "no union_by_name")})")));
            }

            Console.WriteLine();
            Console.WriteLine($"| query ({(long)flushes * perFlush:N0} rows, {flushes:N0} files{(mixed ? ", body null in every other file" : "")}) | every column, read as before ms | every column, read by the stats ms | null columns left out ms | left out ÷ before | rows |");
            Console.WriteLine("|---|---:|---:|---:|---:|---:|");
            foreach (var (name, sql) in queries)
            {
                var rows = new long[3];
                Func<Task> Runner(TableEngine engine, TableSnapshot snapshot, bool statistics, int slot)
                {
                    var plan = analyzer.Analyze(sql, new OneTableCatalog(schema, engine.Id.Project), CallerScope.User(engine.Id.Project, [engine.Id.Project]));
                    return async () =>
                    {
                        DataFileColumns.FromStatistics = statistics;
                        try
                        {
                            var (r, _) = await executor.ExecuteDetailedAsync(snapshot, schema, store, schema.Name, plan.Sql, plan.Scans[0].Time, plan.NewestFirstLimit, CancellationToken.None);
                            using (r) rows[slot] = r.RowCount;
                        }
                        finally
                        {
                            DataFileColumns.FromStatistics = true;
                        }
                    };
                }
                var medians = await InTurn.MediansAsync(runs, Runner(off, snapshotOff, false, 0), Runner(off, snapshotOff, true, 1), Runner(on, snapshotOn, true, 2));
                var check = rows[0] == rows[1] && rows[0] == rows[2] ? "" : $" (before: {rows[0]}, by the stats: {rows[1]})";
                Console.WriteLine($"| {name} | {medians[0]:F1} | {medians[1]:F1} | {medians[2]:F1} | {medians[2] / medians[0]:F2}× | {rows[2]}{check} |");
            }
            return 0;
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    /// <summary>The batch with <c>body</c> null in every row when <paramref name="nullBody"/>.</summary>
    private static RecordBatch Mixed(RecordBatch batch, bool nullBody)
    {
        if (!nullBody) return batch;
        var index = batch.Schema.GetFieldIndex("body");
        var nulls = new StringArray.Builder();
        for (var i = 0; i < batch.Length; i++) nulls.AppendNull();
        var arrays = batch.Arrays.ToList();
        arrays[index] = nulls.Build();
        return new RecordBatch(batch.Schema, arrays, batch.Length);
    }
}

using System.Diagnostics;
using System.Globalization;
using Apache.Arrow;
using DuckDB.NET.Data;
using ParquetSharp;
using ParquetSharp.Arrow;
using TimeFusion.Buffer;
using TimeFusion.DuckDb;
using TimeFusion.Ingest;
using TimeFusion.Tables;

namespace TimeFusion.Bench;

/// <summary>
/// <c>buffer</c>: the DuckDB write buffer. Appends of 8K-row Arrow batches (rows/s, variants), append latency
/// while flushes and checkpoints run, the same queries through a snapshot versus a plain DuckDB table,
/// Parquet export through COPY … RETURN_STATS versus Arrow + ParquetSharp, and memory per buffered row.
/// Options: --rows (append rows, default 1,000,000), --batch (8192), --seconds (latency run, 20),
/// --query-rows (2,000,000), --export-rows (1,000,000), --rate (rows/s offered in the latency run, 100,000), --seed (42),
/// --skip a,b (sections: append, variants, latency, query, export, parquetsharp), --export-variants i,j (default all), --tail-rows n (the buffer's tail; 0 = a DuckDB transaction per batch).
/// </summary>
public static class BufferBenchmark
{
    private static readonly DateTimeOffset Start = new(2025, 6, 1, 0, 0, 0, TimeSpan.Zero);

    public static async Task<int> RunAsync(string[] raw)
    {
        var args = new BenchArgs(raw);
        var rows = args.Int("rows", 1_000_000);
        var batchRows = args.Int("batch", 8192);
        var seconds = args.Int("seconds", 20);
        var queryRows = args.Int("query-rows", 2_000_000);
        var exportRows = args.Int("export-rows", 1_000_000);
        var seed = args.Int("seed", 42);
        _tailRows = args.Get("tail-rows") is { } t ? int.Parse(t, CultureInfo.InvariantCulture) : null;
        _exportVariants = args.Get("export-variants");
        var skip = (args.Get("skip") ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries).ToHashSet(StringComparer.OrdinalIgnoreCase);
        var work = Path.Combine(Path.GetTempPath(), "tf-bench-buffer-" + Environment.ProcessId);
        Directory.CreateDirectory(work);
        Console.WriteLine($"buffer benchmark: {Environment.ProcessorCount} cores, batch {batchRows:N0} rows, seed {seed}");
        try
        {
            var batches = Generate(seed, rows, batchRows, rowsPerSecond: 2_000);
            if (!skip.Contains("append"))
                await AppendThroughputAsync(batches);
            if (!skip.Contains("variants"))
                await AppendVariantsAsync(batches);
            if (!skip.Contains("latency"))
                await LatencyUnderFlushAsync(batches, seconds, args.Int("rate", 100_000), work);
            Dispose(batches);
            if (!skip.Contains("query"))
                await QueriesAsync(seed, queryRows, batchRows);
            if (!skip.Contains("export"))
            {
                _skipParquetSharp = skip.Contains("parquetsharp");
                await ExportAsync(seed, exportRows, batchRows, work);
            }
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
        return 0;
    }

    private static List<RecordBatch> Generate(int seed, int rows, int batchRows, double rowsPerSecond)
    {
        var generator = new OtelRowGenerator(seed, Start, rowsPerSecond);
        var clock = Stopwatch.StartNew();
        var batches = new List<RecordBatch>();
        for (var done = 0; done < rows; done += batchRows)
            batches.Add(generator.NextBatch(Math.Min(batchRows, rows - done)));
        var bytes = batches.Sum(ArrowSizeEstimator.DataBytes);
        Console.WriteLine($"generated {rows:N0} otel rows in {clock.Elapsed.TotalSeconds:F1} s ({rows / clock.Elapsed.TotalSeconds:N0} rows/s), "
                          + $"{bytes / (double)rows:N0} B/row of Arrow buffers");
        return batches;
    }

    private static void Dispose(List<RecordBatch> batches)
    {
        foreach (var b in batches)
            b.Dispose();
        batches.Clear();
        GC.Collect();
    }

    /// <summary><c>--tail-rows n</c>: the buffer's tail size for every database here (default: BufferOptions' default; 0 = each batch its own DuckDB transaction).</summary>
    private static int? _tailRows;

    /// <summary><c>--export-variants 0,2,…</c>: which export variants to time (default all).</summary>
    private static string? _exportVariants;

    /// <summary><c>--skip parquetsharp</c>: the export section without its ParquetSharp comparison.</summary>
    private static bool _skipParquetSharp;

    private static BufferDatabase OpenDatabase(Action<BufferOptions>? configure = null)
    {
        var options = new BufferOptions
        {
            MemoryLimitBytes = 12L << 30,
            HardLimitBytes = 10L << 30,
            SoftLimitBytes = 8L << 30,
            Threads = Environment.ProcessorCount,
            ReconcileInterval = TimeSpan.Zero,
        };
        if (_tailRows is { } tail) options.TailRows = tail;
        configure?.Invoke(options);
        return BufferDatabase.Open(options);
    }

    /// <summary>Validates a batch for the table (as the engine would) and appends it: the buffer takes only validated batches.</summary>
    private static Task Append(BufferTable table, RecordBatch batch, long lsn) =>
        table.AppendAsync(BatchValidator.ValidateRows(batch, table.Schema, table.Options.ValidateUtf8), lsn, default);

    private static async Task AppendThroughputAsync(List<RecordBatch> batches)
    {
        Section("Append throughput (one table, one writer, background compression off)");
        var rows = batches.Sum(b => (long)b.Length);
        var arrowBytes = batches.Sum(ArrowSizeEstimator.DataBytes);
        await using var db = OpenDatabase(o => o.CompressInBackground = false);
        await using var table = await BufferTable.CreateAsync(db, new TableId("bench", "otel"), OtelLogsAndSpans.Schema, default);
        // Warm-up on a throwaway table so that the first conversions do not count.
        await using (var warm = await BufferTable.CreateAsync(db, new TableId("bench", "warm"), OtelLogsAndSpans.Schema, default))
            await Append(warm, batches[0], 0);
        var clock = Stopwatch.StartNew();
        long lsn = 0;
        foreach (var batch in batches)
            await Append(table, batch, ++lsn);
        await table.DrainTailAsync(); // whatever waits in the tail is appended inside the clock
        var elapsed = clock.Elapsed.TotalSeconds;
        Report($"append, {batches[0].Length:N0}-row batches, 1 writer", rows / elapsed, "rows/s", $"{arrowBytes / elapsed / 1e6:N0} MB/s of Arrow");

        // Memory held per buffered row, before and after CHECKPOINT.
        var before = db.TableMemoryBytes();
        var beforeAll = db.MemoryUsageBytes();
        var checkpoint = Stopwatch.StartNew();
        var ran = await db.CheckpointAsync();
        var checkpointSeconds = checkpoint.Elapsed.TotalSeconds;
        var after = db.TableMemoryBytes();
        Report("Arrow bytes per row", arrowBytes / (double)rows, "B/row");
        Report("DuckDB bytes per buffered row, before CHECKPOINT", before / (double)rows, "B/row", $"total {beforeAll / 1048576.0:N0} MiB (all tags)");
        Report("DuckDB bytes per buffered row, after CHECKPOINT", after / (double)rows, "B/row", $"CHECKPOINT {(ran ? "" : "deferred, ")}took {checkpointSeconds:N2} s ({rows / checkpointSeconds:N0} rows/s)");
        Report("budget used after reconcile", db.Budget.UsedBytes / 1048576.0, "MiB", $"drift {db.Budget.DriftBytes / 1048576.0:N0} MiB vs estimate");
    }

    private static async Task AppendVariantsAsync(List<RecordBatch> batches)
    {
        Section("Append variants (one table each, one writer)");
        var rows = batches.Sum(b => (long)b.Length);
        foreach (var (label, configure) in new (string, Action<BufferOptions>)[]
                 {
                     ("defaults (background merge + compression on)", _ => { }),
                     ("2,048-row chunks", o => { o.RowsPerChunk = 2048; o.CompressInBackground = false; }),
                     ("with the managed UTF-8 check", o => { o.ValidateUtf8 = true; o.CompressInBackground = false; }),
                 })
        {
            await using var db = OpenDatabase(configure);
            await using var table = await BufferTable.CreateAsync(db, new TableId("bench", "otel"), OtelLogsAndSpans.Schema, default);
            await Append(table, batches[0], 0);
            var clock = Stopwatch.StartNew();
            long lsn = 0;
            foreach (var batch in batches)
                await Append(table, batch, ++lsn);
            Report(label, rows / clock.Elapsed.TotalSeconds, "rows/s",
                table.Stats.Checkpoints > 0 ? $"{table.Stats.Checkpoints} background checkpoints, {db.TableMemoryBytes() / (double)rows:N0} B/row held" : null);
        }

        // The cost of the LSN column: the same appender on a table without one (the floor for any DuckDB-side default).
        foreach (var withLsn in new[] { true, false })
        {
            using var connection = new DuckDBConnection("DataSource=:memory:");
            connection.Open();
            using (var command = connection.CreateCommand())
            {
                command.CommandText = $"SET checkpoint_threshold = '1000TB'; CREATE TABLE t ({OtelLogsAndSpans.Schema.ToDuckDbColumns()}{(withLsn ? ", _lsn BIGINT NOT NULL" : "")})";
                command.ExecuteNonQuery();
            }
            using var appender = new ArrowChunkAppender(connection, "t", withLsn ? "_lsn" : null, 8192);
            appender.Append(BatchValidator.ValidateRows(batches[0], OtelLogsAndSpans.Schema), 0);
            var clock = Stopwatch.StartNew();
            long lsn = 0;
            foreach (var batch in batches)
                appender.Append(BatchValidator.ValidateRows(batch, OtelLogsAndSpans.Schema, validateUtf8: true), ++lsn);
            Report(withLsn ? "raw appender, constant _lsn column" : "raw appender, no _lsn column", rows / clock.Elapsed.TotalSeconds, "rows/s");
        }

        // DuckDB's own insert speed for this shape (a table-to-table copy): the floor of what storage appends cost.
        {
            using var connection = new DuckDBConnection("DataSource=:memory:");
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = $"SET checkpoint_threshold = '1000TB'; CREATE TABLE src ({OtelLogsAndSpans.Schema.ToDuckDbColumns()}, _lsn BIGINT NOT NULL); CREATE TABLE dst AS SELECT * FROM src LIMIT 0";
            command.ExecuteNonQuery();
            using var appender = new ArrowChunkAppender(connection, "src", "_lsn", 8192);
            long lsn = 0;
            foreach (var batch in batches)
                appender.Append(BatchValidator.ValidateRows(batch, OtelLogsAndSpans.Schema), ++lsn);
            command.CommandText = "SET threads = 1; INSERT INTO dst SELECT * FROM src";
            var clock = Stopwatch.StartNew();
            command.ExecuteNonQuery();
            Report("DuckDB INSERT … SELECT of the same rows, 1 thread", rows / clock.Elapsed.TotalSeconds, "rows/s", "(reference: storage append cost)");
        }

        // Two writers on two tables (the machine's cores).
        {
            await using var db = OpenDatabase(o => o.CompressInBackground = false);
            var tables = await Task.WhenAll(Enumerable.Range(0, 2).Select(i => BufferTable.CreateAsync(db, new TableId("bench", $"t{i}"), OtelLogsAndSpans.Schema, default)));
            var clock = Stopwatch.StartNew();
            await Task.WhenAll(tables.Select((t, i) => Task.Run(async () =>
            {
                long lsn = 0;
                foreach (var batch in batches)
                    await Append(t, batch, ++lsn);
            })));
            Report("2 writers, 2 tables, aggregate (compression off)", 2 * rows / clock.Elapsed.TotalSeconds, "rows/s");
            foreach (var t in tables)
                await t.DisposeAsync();
        }
    }

    private static async Task LatencyUnderFlushAsync(List<RecordBatch> batches, int seconds, int rate, string work)
    {
        Section($"Append latency while flushes and checkpoints run ({seconds} s, 2 tables, 1 writer each at {rate / 2:N0} rows/s, a flush every 0.5 s)");
        await using var db = OpenDatabase(o => o.ReconcileInterval = TimeSpan.FromSeconds(1));
        var tables = await Task.WhenAll(Enumerable.Range(0, 2).Select(i =>
            BufferTable.CreateAsync(db, new TableId("bench", $"otel{i}"), OtelLogsAndSpans.Schema, default)));
        var latencies = new List<double>[tables.Length];
        var exportTimes = new List<double>();
        var deleteTimes = new List<double>();
        long exportedRows = 0, appendedRows = 0;
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(seconds));
        var writers = tables.Select((table, w) => Task.Run(async () =>
        {
            var mine = latencies[w] = new List<double>();
            long lsn = 0;
            var i = w * 7;
            var start = Stopwatch.StartNew();
            var perWriter = rate / (double)tables.Length;
            long sent = 0;
            while (!stop.IsCancellationRequested)
            {
                // Hold the writer to its rate: a batch is due when the rows sent so far are.
                var due = TimeSpan.FromSeconds(sent / perWriter) - start.Elapsed;
                if (due > TimeSpan.Zero)
                {
                    try
                    {
                        await Task.Delay(due, stop.Token);
                    }
                    catch (OperationCanceledException)
                    {
                        break;
                    }
                }
                var batch = batches[i++ % batches.Count];
                sent += batch.Length;
                var clock = Stopwatch.StartNew();
                await Append(table, batch, ++lsn);
                mine.Add(clock.Elapsed.TotalMilliseconds);
                Interlocked.Add(ref appendedRows, batch.Length);
            }
        })).ToArray();
        var flusher = Task.Run(async () =>
        {
            var flushDir = Path.Combine(work, "flush");
            var next = 0;
            while (!stop.IsCancellationRequested)
            {
                try
                {
                    await Task.Delay(500, stop.Token);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
                var table = tables[next++ % tables.Length];
                var upTo = table.MaxLsn;
                var clock = Stopwatch.StartNew();
                var files = await table.ExportParquetAsync(upTo, flushDir, default);
                exportTimes.Add(clock.Elapsed.TotalMilliseconds);
                exportedRows += files.Sum(f => f.Rows);
                clock.Restart();
                await table.DeleteUpToAsync(upTo, default); // asks for a background CHECKPOINT
                deleteTimes.Add(clock.Elapsed.TotalMilliseconds);
                foreach (var f in files)
                    File.Delete(f.LocalPath);
            }
        });
        await Task.WhenAll(writers.Append(flusher));
        await db.WhenBackgroundCheckpointsIdle();
        var all = latencies.SelectMany(l => l).OrderBy(x => x).ToList();
        Report("appends", all.Count, "batches", $"{appendedRows / (double)seconds:N0} rows/s while flushing {exportedRows / (double)seconds:N0} rows/s");
        Report("append latency p50", Percentile(all, 0.50), "ms");
        Report("append latency p99", Percentile(all, 0.99), "ms");
        Report("append latency max", all[^1], "ms");
        Report("flush export (COPY, one date) median", Median(exportTimes), "ms", $"{exportTimes.Count} flushes, max {exportTimes.DefaultIfEmpty().Max():N0} ms");
        Report("flush delete median", Median(deleteTimes), "ms", $"max {deleteTimes.DefaultIfEmpty().Max():N0} ms");
        var checkpoints = tables.Sum(t => t.Stats.Checkpoints);
        var checkpointMs = tables.Sum(t => t.Stats.CheckpointTime.TotalMilliseconds);
        Report("background CHECKPOINT mean", checkpoints == 0 ? double.NaN : checkpointMs / checkpoints, "ms",
            $"{checkpoints} ran, longest {tables.Max(t => t.Stats.LongestCheckpoint.TotalMilliseconds):N0} ms, {tables.Sum(t => t.Stats.DeferredCheckpoints)} deferred");
        Report("peak budget use", db.Budget.PeakUsedBytes / 1048576.0, "MiB", $"DuckDB table memory now {db.TableMemoryBytes() / 1048576.0:N0} MiB");
        Console.WriteLine(db.LastBackgroundError is null ? "" : $"  background error: {db.LastBackgroundError.Message}");
        foreach (var t in tables)
            await t.DisposeAsync();
    }

    private static async Task QueriesAsync(int seed, int rows, int batchRows)
    {
        Section($"Queries over {rows:N0} buffered rows: snapshot vs plain DuckDB table");
        // 200 rows/s: the rows span about 2.8 hours, so a 1 h window selects roughly a third.
        var batches = Generate(seed + 1, rows, batchRows, rowsPerSecond: 200);
        await using var db = OpenDatabase();
        await using var table = await BufferTable.CreateAsync(db, new TableId("bench", "otel"), OtelLogsAndSpans.Schema, default);
        long lsn = 0;
        foreach (var batch in batches)
            await Append(table, batch, ++lsn);
        Dispose(batches);
        // The background merges and compressions that the appends triggered have run: the usual state.
        await db.WhenBackgroundCheckpointsIdle();
        Console.WriteLine($"  ({table.GenerationCount} generations, {table.Stats.Checkpoints} background checkpoints took {table.Stats.CheckpointTime.TotalSeconds:N1} s, longest {table.Stats.LongestCheckpoint.TotalMilliseconds:N0} ms)");
        string allRows;
        using (var s = table.OpenSnapshot(-1))
            allRows = s.Relation;
        var setup = db.Connections.Rent();
        using (var create = setup.CreateCommand())
        {
            // The same rows in one plain table, compressed like the buffer's base.
            create.CommandText = $"CREATE TABLE plain AS SELECT * FROM {allRows}; CHECKPOINT memory";
            create.ExecuteNonQuery();
        }
        db.Connections.Return(setup, reusable: true);

        var t0 = Start.AddMinutes(30).ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);
        var queries = new (string Name, string Sql)[]
        {
            ("1 h window count", $"SELECT count(*) FROM {{0}} WHERE timestamp >= TIMESTAMPTZ '{t0}+00' AND timestamp < TIMESTAMPTZ '{t0}+00' + INTERVAL 1 HOUR"),
            ("per-minute group-by by service", "SELECT epoch_us(timestamp) // 60000000 AS minute, resource___service___name AS service, count(*) AS n, avg(duration) AS avg_duration FROM {0} GROUP BY ALL"),
            ("top-100 latest errors", "SELECT timestamp, resource___service___name, name, body FROM {0} WHERE level = 'ERROR' ORDER BY timestamp DESC LIMIT 100"),
        };
        foreach (var phase in new[] { "as buffered", "all compressed" })
        {
            if (phase == "all compressed")
                await db.CheckpointAsync();
            using var snapshot = table.OpenSnapshot(0);
            foreach (var (name, sql) in queries)
            {
                var buffered = Time(snapshot, string.Format(CultureInfo.InvariantCulture, sql, snapshot.Relation), out var n1);
                var plain = Time(snapshot, string.Format(CultureInfo.InvariantCulture, sql, "plain"), out var n2);
                if (n1 != n2)
                    throw new InvalidOperationException($"{name}: {n1} rows from the buffer, {n2} from the plain table");
                Report($"{name} ({phase})", buffered, "ms", $"plain table {plain:N1} ms, ratio {buffered / plain:N2}x");
            }
            if (snapshot.Parts.Count > 1)
            {
                // The top-N pushed into each generation by the caller, then merged.
                const string top = "SELECT timestamp, resource___service___name, name, body FROM {0} WHERE level = 'ERROR' ORDER BY timestamp DESC LIMIT 100";
                var pushed = "(" + string.Join(" UNION ALL ", snapshot.Parts.Select(p => "(" + string.Format(CultureInfo.InvariantCulture, top, p) + ")")) + ")";
                var t = Time(snapshot, $"SELECT * FROM {pushed} ORDER BY timestamp DESC LIMIT 100", out _);
                var plain = Time(snapshot, string.Format(CultureInfo.InvariantCulture, top, "plain"), out _);
                Report($"top-100 latest errors, LIMIT per generation ({phase})", t, "ms", $"plain table {plain:N1} ms, ratio {t / plain:N2}x");
            }
        }

        // Reading rows back out as Arrow.
        using (var snapshot = table.OpenSnapshot(0))
        {
            var clock = Stopwatch.StartNew();
            long read = 0;
            using (var result = snapshot.QueryArrow($"SELECT * FROM {snapshot.Relation}"))
            {
                while (result.ReadNext() is { } batch)
                {
                    read += batch.Length;
                    batch.Dispose();
                }
            }
            Report("full scan to Arrow (duckdb_query_arrow)", read / clock.Elapsed.TotalSeconds, "rows/s");
        }
    }

    private static double Time(BufferSnapshot snapshot, string sql, out long resultRows)
    {
        var times = new List<double>();
        resultRows = 0;
        for (var i = 0; i < 6; i++)
        {
            var clock = Stopwatch.StartNew();
            long n = 0;
            using (var result = snapshot.QueryArrow(sql))
            {
                while (result.ReadNext() is { } batch)
                {
                    n += batch.Length;
                    batch.Dispose();
                }
            }
            if (i > 0)
                times.Add(clock.Elapsed.TotalMilliseconds);
            resultRows = n;
        }
        return Median(times);
    }

    private static async Task ExportAsync(int seed, int rows, int batchRows, string work)
    {
        Section($"Parquet export of {rows:N0} rows: COPY … RETURN_STATS vs Arrow + ParquetSharp");
        var batches = Generate(seed + 2, rows, batchRows, rowsPerSecond: 200);
        await using var db = OpenDatabase();
        await using var table = await BufferTable.CreateAsync(db, new TableId("bench", "otel"), OtelLogsAndSpans.Schema, default);
        long lsn = 0;
        foreach (var batch in batches)
            await Append(table, batch, ++lsn);
        Dispose(batches);
        await db.CheckpointAsync();

        // The export's variants, each timed twice after a warm-up (wall and process CPU; the rows stay in the tail
        // unless --export-rows reaches TailRows). "before" is the session-8 export: a DISTINCT date pass and a sort.
        // The last one is the default now: ordered tail rows written by ParquetSharp's Arrow writer, no DuckDB COPY.
        (string Name, bool Dates, bool SkipSort, string Compression, bool ArrowWriter)[] variants =
        [
            ("before: DISTINCT dates + ORDER BY, zstd", false, false, "COMPRESSION zstd", false),
            ("tracked dates, ORDER BY, zstd", true, false, "COMPRESSION zstd", false),
            ("tracked dates, no sort when ordered, zstd", true, true, "COMPRESSION zstd", false),
            ("… zstd level 1 (DuckDB COPY)", true, true, "COMPRESSION zstd, COMPRESSION_LEVEL 1", false),
            ("… snappy", true, true, "COMPRESSION snappy", false),
            ("… lz4_raw", true, true, "COMPRESSION lz4_raw", false),
            ("ORDER BY, zstd level 1", true, false, "COMPRESSION zstd, COMPRESSION_LEVEL 1", false),
            ("tail → ParquetSharp Arrow writer, zstd level 1", true, true, "COMPRESSION zstd, COMPRESSION_LEVEL 1", true),
            ("… one thread", true, true, "COMPRESSION zstd, COMPRESSION_LEVEL 1", true),
            ("… no Delta stats (their cost)", true, true, "COMPRESSION zstd, COMPRESSION_LEVEL 1", true),
        ];
        var only = _exportVariants?.Split(',').Select(x => int.Parse(x, CultureInfo.InvariantCulture)).ToHashSet();
        for (var v = 0; v < variants.Length; v++)
        {
            if (only is not null && !only.Contains(v))
                continue;
            var (name, dates, skipSort, compression, arrowWriter) = variants[v];
            table.UseArrowWriter = arrowWriter;
            // A background export (a flush's) encodes on its own lowered thread; a foreground one on Arrow's pool.
            var background = name.Contains("one thread", StringComparison.Ordinal);
            TailParquetWriter.GatherStatistics = !name.Contains("no Delta stats", StringComparison.Ordinal);
            table.UseTrackedDates = dates;
            table.SkipSortWhenOrdered = skipSort;
            table.ExportCompression = compression;
            var wall = new List<double>();
            var cpu = new List<double>();
            IReadOnlyList<ExportedFile> files = [];
            for (var round = 0; round < 3; round++)
            {
                var dir = Path.Combine(work, $"copy{v}-{round}");
                var cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
                var clock = Stopwatch.StartNew();
                files = await table.ExportParquetAsync(lsn, dir, default, background: background);
                if (round > 0)
                {
                    wall.Add(clock.Elapsed.TotalSeconds);
                    cpu.Add((Process.GetCurrentProcess().TotalProcessorTime - cpuBefore).TotalSeconds);
                }
                Directory.Delete(dir, recursive: true);
            }
            var bytes = files.Sum(f => f.Bytes);
            Report(name, rows / wall.Min(), "rows/s", $"CPU {cpu.Min() * 1e6 / rows:F2} µs/row, {files.Count} file(s), {bytes / (double)rows:F1} B/row on disk");
        }
        table.UseTrackedDates = table.SkipSortWhenOrdered = table.UseArrowWriter = true;
        TailParquetWriter.GatherStatistics = true;
        table.ExportCompression = BufferTable.DefaultExportCompression;

        if (_skipParquetSharp)
            return;
        var columns = string.Join(", ", OtelLogsAndSpans.Schema.Columns.Where(c => c.Name != TableSchema.DateColumn).Select(c => SqlNames.Quote(c.Name)));
        for (var round = 0; round < 2; round++)
        {
            var path = Path.Combine(work, $"parquetsharp{round}.parquet");
            var clock = Stopwatch.StartNew();
            using (var snapshot = table.OpenSnapshot(0))
            using (var result = snapshot.QueryArrow($"SELECT {columns} FROM {snapshot.Relation} ORDER BY timestamp"))
            {
                using var properties = new WriterPropertiesBuilder().Compression(Compression.Zstd).Build();
                using var arrowProperties = new ArrowWriterPropertiesBuilder().UseThreads(true).Build();
                using var writer = new FileWriter(path, result.Schema, properties, arrowProperties);
                // Gather DuckDB's 2,048-row chunks into row groups of 122,880 rows, as COPY writes them.
                var pending = new List<RecordBatch>();
                var pendingRows = 0;
                void Flush()
                {
                    if (pendingRows == 0)
                        return;
                    writer.NewRowGroup();
                    for (var c = 0; c < result.Schema.FieldsList.Count; c++)
                        writer.WriteColumnChunk(new ChunkedArray(pending.Select(b => b.Column(c)).ToList()));
                    foreach (var b in pending)
                        b.Dispose();
                    pending.Clear();
                    pendingRows = 0;
                }
                while (result.ReadNext() is { } batch)
                {
                    pending.Add(batch);
                    pendingRows += batch.Length;
                    if (pendingRows >= 122_880)
                        Flush();
                }
                Flush();
                writer.Close();
            }
            var seconds = clock.Elapsed.TotalSeconds;
            if (round == 1)
                Report("Arrow out + ParquetSharp (zstd, UseThreads)", rows / seconds, "rows/s", $"{new FileInfo(path).Length / (double)rows:N0} B/row on disk, no stats parsing");
        }
    }

    private static double Percentile(List<double> sorted, double p) =>
        sorted.Count == 0 ? double.NaN : sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(p * sorted.Count) - 1)];

    private static double Median(List<double> values)
    {
        if (values.Count == 0)
            return double.NaN;
        var sorted = values.OrderBy(v => v).ToList();
        return Percentile(sorted, 0.5);
    }

    private static void Section(string title)
    {
        Console.WriteLine();
        Console.WriteLine("== " + title);
    }

    private static void Report(string what, double value, string unit, string? note = null) =>
        Console.WriteLine($"  {what,-55} {value,14:N1} {unit,-7}{(note is null ? "" : "  " + note)}");
}

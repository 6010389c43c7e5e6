using Apache.Arrow;
using Npgsql;
using TimeFusion.Bench.Peers;
using TimeFusion.Bench.Suite;
using TimeFusion.Tables;
using TimeFusion.Tests.Infrastructure;

namespace TimeFusion.Bench.Ingest;

/// <summary>
/// Small statements, the shape of production traffic: 30-row <c>INSERT … VALUES</c> statements, prepared, autocommit,
/// from 16 concurrent Npgsql connections, into TimeFusion's <c>otel_logs_and_spans</c> and into PostgreSQL (the same
/// table indexed on (project_id, timestamp)), the same rows in the same run; rows/s, acknowledgement latency per
/// statement, and TimeFusion's WAL bytes per row against the rows' Arrow data bytes.
/// </summary>
public static class SmallInsertSuite
{
    public const string Section = "Small INSERTs";
    public const int RowsPerStatement = 30;
    public const int Connections = 16;
    /// <summary>Rows each server takes untimed before a run (see <see cref="RunAsync"/>).</summary>
    public const int WarmupRows = 30_000;
    /// <summary>Rows of the run without INSERT plans (~50× slower per row: a reference, not the figure).</summary>
    public const int UnplannedRows = 60_000;

    public static async Task RunAsync(SuiteResults results, SuiteOptions options, IReadOnlyList<RecordBatch> batches, PostgresPeer? pg, string root)
    {
        var rows = SmallRows.From(batches, Math.Min(options.IngestRows, options.SmallInsertRows));
        // Both servers take the same statements once before the timed run: a fresh silo's first seconds are the JIT's
        // (tier-0 code, then recompilation), which a server that runs for days never pays again.
        var warmup = SmallRows.From(batches, Math.Min(rows.Count, WarmupRows));
        var unplannedRows = SmallRows.From(batches, Math.Min(rows.Count, UnplannedRows));
        results.Note(Section, $"{rows.Count:N0} rows per run in {RowsPerStatement}-row prepared INSERT … VALUES statements ({SmallRows.ColumnNames.Length} columns, " +
                              $"{rows.ArrowBytesPerRow:N0} B/row of Arrow data) from {Connections} concurrent Npgsql connections, autocommit; latency = one statement. " +
                              $"Each server first takes {warmup.Count:N0} rows the same way, untimed (warm-up). " +
                              "TimeFusion: a fresh silo per run, WAL fsync per commit, no flush during the run (so the WAL can be measured: WAL B/row = the growth of the table's WAL files during the timed run ÷ rows). " +
                              "PostgreSQL: fsync=on, synchronous_commit=on, the table indexed on (project_id, timestamp).");
        var ours = new List<(IngestRun Run, double WalBytesPerRow)>();
        var alone = new List<IngestRun>();
        var unplanned = new List<IngestRun>();
        for (var run = 0; run < options.Runs; run++)
        {
            ours.Add(await RunTimeFusionAsync(rows, warmup, root));
            // The same with every batch in its own buffer transaction (before coalescing), side by side.
            alone.Add((await RunTimeFusionAsync(rows, warmup, root, new() { ["Buffer:MaxCoalescedRows"] = "0" })).Run);
            // The same with every execution substituted, parsed and cast again (before per-statement INSERT plans).
            unplanned.Add((await RunTimeFusionAsync(unplannedRows, warmup, root, new() { ["Postgres:InsertPlans"] = "false" })).Run);
        }
        Report(results, $"TimeFusion, 30-row INSERTs, no INSERT plans (Postgres:InsertPlans=false; {unplannedRows.Count:N0} rows)", unplanned, unplannedRows.Count);
        Report(results, "TimeFusion, 30-row INSERTs, no coalescing (MaxCoalescedRows=0)", alone, rows.Count);
        Report(results, "TimeFusion, 30-row INSERTs", ours.Select(o => o.Run).ToList(), rows.Count);
        results.Add(Section, "TimeFusion, 30-row INSERTs", "WAL B/row", ours.Select(o => o.WalBytesPerRow).ToList(), rows.Count,
            "≤ 1.5× Arrow data bytes", ours.Select(o => o.WalBytesPerRow).Max() <= 1.5 * rows.ArrowBytesPerRow);
        results.Add(Section, "TimeFusion, 30-row INSERTs", "WAL ÷ Arrow bytes", ours.Select(o => o.WalBytesPerRow / rows.ArrowBytesPerRow).ToList(), rows.Count);
        if (pg is null) return;
        var theirs = new List<IngestRun>();
        for (var run = 0; run < options.Runs; run++)
            theirs.Add(await RunPostgresAsync(pg, rows, warmup));
        Report(results, $"PostgreSQL {pg.Version}, 30-row INSERTs, indexed", theirs, rows.Count);
        results.Add(Section, "TimeFusion, 30-row INSERTs", "× PostgreSQL", ours.Zip(theirs, (a, b) => a.Run.RowsPerSecond / b.RowsPerSecond).ToList(), rows.Count,
            "≥ 1×", ours.Zip(theirs, (a, b) => a.Run.RowsPerSecond / b.RowsPerSecond).Min() >= 1);
    }

    private static void Report(SuiteResults results, string subject, List<IngestRun> runs, long rows)
    {
        results.Add(Section, subject, "rows/s", runs.Select(r => r.RowsPerSecond).ToList(), rows);
        results.Add(Section, subject, "ack p50 ms", runs.Select(r => r.P50Ms).ToList(), rows);
        results.Add(Section, subject, "ack p99 ms", runs.Select(r => r.P99Ms).ToList(), rows);
    }

    /// <summary>One run into a fresh silo as the admin (rows land in the admin's default project), after <paramref name="warmup"/> untimed.</summary>
    public static async Task<(IngestRun Run, double WalBytesPerRow)> RunTimeFusionAsync(SmallRows rows, SmallRows warmup, string root, Dictionary<string, string>? extra = null)
    {
        var settings = SiloSettings.NoAutoFlush();
        foreach (var (k, v) in extra ?? []) settings[k] = v;
        await using var silo = SiloProcess.Start(Path.Combine(root, $"silo-insert-{Guid.NewGuid():N}"), settings);
        await silo.ConnectAsync(TimeSpan.FromSeconds(60));
        await FreePorts.WaitUntilListeningAsync(silo.PostgresPort, TimeSpan.FromSeconds(30), silo.LogTail);
        var builder = new NpgsqlDataSourceBuilder($"Host=127.0.0.1;Port={silo.PostgresPort};Username=timefusion;Password=timefusion;Database=timefusion;Command Timeout=0;Maximum Pool Size={Connections + 4}");
        builder.ConfigureTypeLoading(t => t.EnableTypeLoading(false));
        await using var source = builder.Build();
        try
        {
            await RunStatementsAsync(source, OtelLogsAndSpans.TableName, warmup, jsonb: false);
            var walBefore = WalBytes(silo.DataDirectory);
            var run = await RunStatementsAsync(source, OtelLogsAndSpans.TableName, rows, jsonb: false);
            var wal = WalBytes(silo.DataDirectory) - walBefore;
            return (run, (double)wal / rows.Count);
        }
        catch (Exception e) when (e is not InvalidOperationException)
        {
            throw new InvalidOperationException($"{e.Message.Split('\n')[0]}; silo log: {silo.LogTail()}", e);
        }
        finally
        {
            await silo.StopAsync();
        }
    }

    public static async Task<IngestRun> RunPostgresAsync(PostgresPeer pg, SmallRows rows, SmallRows warmup)
    {
        const string table = "small_inserts";
        await pg.ExecuteAsync($"DROP TABLE IF EXISTS {table}; {ArrowCopyWriter.PostgresTable(table)}; " +
                              $"ALTER TABLE {table} ALTER COLUMN project_id SET DEFAULT 'default'; CREATE INDEX ON {table} (project_id, timestamp)");
        var builder = new NpgsqlDataSourceBuilder(pg.ConnectionString);
        await using var source = builder.Build();
        await RunStatementsAsync(source, table, warmup, jsonb: true);
        var run = await RunStatementsAsync(source, table, rows, jsonb: true);
        await pg.ExecuteAsync($"DROP TABLE {table}");
        return run;
    }

    /// <summary>
    /// <see cref="Connections"/> connections, each with its own prepared statement, take the next 30 rows until all are
    /// inserted (a short tail statement for the rest), or until <paramref name="stop"/>; <paramref name="acknowledged"/>[0] counts rows as they are acknowledged.
    /// </summary>
    public static async Task<IngestRun> RunStatementsAsync(NpgsqlDataSource source, string table, SmallRows rows, bool jsonb, CancellationToken stop = default, long[]? acknowledged = null)
    {
        var statements = (rows.Count + RowsPerStatement - 1) / RowsPerStatement;
        var connections = new NpgsqlConnection[Connections];
        var commands = new NpgsqlCommand[Connections];
        for (var i = 0; i < Connections; i++)
        {
            connections[i] = await source.OpenConnectionAsync();
            commands[i] = Prepare(connections[i], table, rows, RowsPerStatement, jsonb);
            await commands[i].PrepareAsync();
        }
        var latencies = new System.Collections.Concurrent.ConcurrentBag<double>();
        var next = -1;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, Connections).Select(w => Task.Run(async () =>
        {
            int s;
            while ((s = Interlocked.Increment(ref next)) < statements && !stop.IsCancellationRequested)
            {
                var first = s * RowsPerStatement;
                var count = Math.Min(RowsPerStatement, rows.Count - first);
                var command = count == RowsPerStatement ? commands[w] : Prepare(connections[w], table, rows, count, jsonb);
                var p = 0;
                for (var r = first; r < first + count; r++)
                    foreach (var value in rows.Rows[r])
                        command.Parameters[p++].Value = value ?? DBNull.Value;
                var start = System.Diagnostics.Stopwatch.GetTimestamp();
                await command.ExecuteNonQueryAsync();
                latencies.Add(System.Diagnostics.Stopwatch.GetElapsedTime(start).TotalMilliseconds);
                if (acknowledged is not null) Interlocked.Add(ref acknowledged[0], count);
            }
        })));
        var elapsed = clock.Elapsed;
        foreach (var c in commands) await c.DisposeAsync();
        foreach (var c in connections) await c.DisposeAsync();
        var done = Math.Min(rows.Count, (long)Math.Min(statements, next) * RowsPerStatement);
        return new IngestRun(done, (long)(done * rows.ArrowBytesPerRow), elapsed, latencies.ToList(), 0);
    }


    private static NpgsqlCommand Prepare(NpgsqlConnection connection, string table, SmallRows rows, int count, bool jsonb)
    {
        var command = new NpgsqlCommand(SmallRows.InsertSql(table, count), connection);
        for (var r = 0; r < count; r++)
            for (var c = 0; c < SmallRows.ColumnNames.Length; c++)
                command.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = rows.DbType(c, jsonb) });
        return command;
    }

    /// <summary>Bytes of every WAL file under a silo's data directory.</summary>
    public static long WalBytes(string dataDirectory) =>
        Directory.EnumerateFiles(dataDirectory, "*", SearchOption.AllDirectories)
            .Where(f => Path.GetRelativePath(dataDirectory, f).Split(Path.DirectorySeparatorChar).Contains("wal"))
            .Sum(f => new FileInfo(f).Length);
}

using System.Diagnostics;
using TimeFusion.Engine;
using TimeFusion.Query.Execution;
using TimeFusion.Query.Planning;
using TimeFusion.Tables;
using TimeFusion.Tests.Infrastructure;
using Xunit.Abstractions;

namespace TimeFusion.Tests.Query.Execution;

/// <summary>
/// Figures for the report (printed, not asserted): the same statements over rows in the buffer and over the same rows
/// in Delta files, pruning, newest-first reads, and the cost of results and merges. Answers are asserted equal.
/// </summary>
public sealed class ExecutionMeasurementTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const int Rows = 200_000;
    private readonly TempDirectory _dir = new();
    private ExecutionTestKit _kit = null!;
    private static readonly TableId Id = new("m", "events");

    public Task InitializeAsync()
    {
        _kit = new ExecutionTestKit(_dir.Path);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await _kit.DisposeAsync();
        _dir.Dispose();
    }

    private static readonly (string Name, string Sql, TimeRange Time, long? Newest)[] Statements =
    [
        ("count, last hour", "SELECT count(*) FROM events WHERE timestamp > TIMESTAMPTZ '2024-05-17 11:30:45.123+00'", new TimeRange(ExecutionTestKit.NowMicros - 3_600_000_000, null), null),
        ("per-minute by service, 2 h", "SELECT time_bucket(INTERVAL '1 minute', timestamp) AS m, service, count(*) FROM events WHERE timestamp >= TIMESTAMPTZ '2024-05-17 10:30:45.123+00' GROUP BY ALL ORDER BY ALL", new TimeRange(ExecutionTestKit.NowMicros - 7_200_000_000, null), null),
        ("group by service, all", "SELECT service, count(*), avg(latency), max(duration) FROM events GROUP BY service ORDER BY service", TimeRange.All, null),
        ("latest 10 errors", "SELECT timestamp, service FROM events WHERE level = 'error' ORDER BY timestamp DESC LIMIT 10", TimeRange.All, 10),
        ("JSON ->> group", "SELECT attributes->>'http.method' AS m, count(*) FROM events GROUP BY 1 ORDER BY 1", TimeRange.All, null),
    ];

    private async Task<(double Ms, List<object?[]> Rows, SnapshotQueryStats Stats)> TimeAsync(TableEngine engine, string sql, TimeRange time, long? newest)
    {
        List<object?[]> rows = [];
        SnapshotQueryStats stats = null!;
        var best = double.MaxValue;
        for (var i = 0; i < 4; i++) // first run warms caches; report the best
        {
            using var snapshot = engine.OpenSnapshot();
            var clock = Stopwatch.StartNew();
            var (batches, s) = await _kit.Snapshots.ExecuteDetailedAsync(snapshot, engine.Schema, _kit.Objects, "events", sql, time, newest, CancellationToken.None);
            best = Math.Min(best, clock.Elapsed.TotalMilliseconds);
            using (batches) rows = ArrowRows.ToRows(batches);
            stats = s;
        }
        return (best, rows, stats);
    }

    [Fact]
    public async Task Buffer_versus_Delta_pruning_and_results()
    {
        var engine = await _kit.OpenAsync(Id, ExecutionTestKit.Schema);
        var all = ExecutionTestKit.Rows(1, Rows);
        foreach (var chunk in all.Chunk(20_000))
            await engine.InsertAsync(ExecutionTestKit.Batch(chunk));

        var buffered = new List<(double Ms, List<object?[]> Rows)>();
        foreach (var (_, sql, time, newest) in Statements)
        {
            var (ms, rows, _) = await TimeAsync(engine, sql, time, newest);
            buffered.Add((ms, rows));
        }
        await engine.FlushAsync();
        // The same rows again as a second table of the same engine would double counts: instead reopen a fresh engine
        // whose rows arrive in time order and flush every tenth, so files cover distinct time slices (as in production).
        await engine.DisposeAsync();
        engine = await _kit.OpenAsync(new TableId("sliced", "events"), ExecutionTestKit.Schema);
        foreach (var slice in all.OrderBy(r => r.TimestampMicros).Chunk(Rows / 10))
        {
            await engine.InsertAsync(ExecutionTestKit.Batch(slice));
            await engine.FlushAsync();
        }
        using (var s = engine.OpenSnapshot()) output.WriteLine($"{Rows} rows: {s.Delta.Files.Count} Delta files, buffer {s.Buffer.CountRows()} rows");
        for (var i = 0; i < Statements.Length; i++)
        {
            var (name, sql, time, newest) = Statements[i];
            var (ms, rows, stats) = await TimeAsync(engine, sql, time, newest);
            ArrowRows.AssertSameRows(buffered[i].Rows, rows, ordered: true, name);
            var (unprunedMs, unprunedRows, _) = await TimeAsync(engine, sql, TimeRange.All, null);
            ArrowRows.AssertSameRows(rows, unprunedRows, ordered: true, name + " unpruned");
            output.WriteLine($"{name,-28} buffer {buffered[i].Ms,7:F1} ms | Delta {ms,7:F1} ms (files {stats.FilesRead}/{stats.SnapshotFiles}, attempts {stats.Attempts}) | Delta without pruning/newest-first {unprunedMs,7:F1} ms");
        }

        // Results out as Arrow: every row and column, with DuckDB's 2,048-row chunks and joined into large batches.
        foreach (var target in new[] { 0, 65_536 })
        {
            var options = new ExecutionOptions { TargetBatchRows = target };
            var executor = new SnapshotQueryExecutor(options);
            double best = double.MaxValue, bestIpc = double.MaxValue;
            var batches = 0;
            for (var i = 0; i < 3; i++)
            {
                using var snapshot = engine.OpenSnapshot();
                var clock = Stopwatch.StartNew();
                using var r = await executor.ExecuteAsync(snapshot, _kit.Objects, "events", "SELECT * FROM events", TimeRange.All, null, CancellationToken.None);
                best = Math.Min(best, clock.Elapsed.TotalMilliseconds);
                batches = r.Batches.Count;
                Assert.Equal(Rows, r.RowCount);
                clock.Restart();
                using var back = await QueryBatchesIpc.FromBytesAsync(await QueryBatchesIpc.ToBytesAsync(r));
                bestIpc = Math.Min(bestIpc, clock.Elapsed.TotalMilliseconds);
            }
            output.WriteLine($"SELECT * of {Rows} rows as Arrow, target batch {target}: {best:F0} ms ({Rows / best * 1000:F0} rows/s), {batches} batches; IPC write+read {bestIpc:F0} ms");
        }

        // The gateway side: loading a shipped relation of every row and merging over it.
        using (var snapshot = engine.OpenSnapshot())
        {
            using var rel = await _kit.Snapshots.ExecuteAsync(snapshot, _kit.Objects, "events", "SELECT timestamp, service, duration, attributes FROM events", TimeRange.All, null, CancellationToken.None);
            var best = double.MaxValue;
            for (var i = 0; i < 3; i++)
            {
                var clock = Stopwatch.StartNew();
                using var merged = await _kit.Merge.ExecuteAsync("SELECT service, count(*), sum(duration) FROM __scan_0 GROUP BY service",
                    new Dictionary<string, QueryBatches> { ["__scan_0"] = rel }, CancellationToken.None);
                best = Math.Min(best, clock.Elapsed.TotalMilliseconds);
                Assert.Equal(5, merged.RowCount);
            }
            output.WriteLine($"merge over a shipped relation of {Rows} rows x 4 columns (load + group by): {best:F0} ms ({Rows / best * 1000:F0} rows/s)");
            var ipc = Stopwatch.StartNew();
            var bytes = await QueryBatchesIpc.ToBytesAsync(rel);
            using var back = await QueryBatchesIpc.FromBytesAsync(bytes);
            output.WriteLine($"Arrow IPC round trip of that relation: {bytes.Length / 1e6:F1} MB in {ipc.Elapsed.TotalMilliseconds:F0} ms");
        }
    }
}

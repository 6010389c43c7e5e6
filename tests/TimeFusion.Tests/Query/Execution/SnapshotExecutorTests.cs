using TimeFusion.Query.Execution;
using TimeFusion.Query.Planning;
using TimeFusion.Tables;
using TimeFusion.Tests.Infrastructure;
using Xunit.Abstractions;

namespace TimeFusion.Tests.Query.Execution;

/// <summary>Behaviour of <see cref="SnapshotQueryExecutor"/> on one grain: pruning, newest-first reads, errors, empty shapes.</summary>
public sealed class SnapshotExecutorTests(ExecutionFixture f, ITestOutputHelper output) : IClassFixture<ExecutionFixture>
{
    private static readonly TableId P1 = new("p1", "events");

    private async Task<(List<object?[]> Rows, SnapshotQueryStats Stats)> RunAsync(string sql, TimeRange time, long? newestFirst = null, TableId? grain = null)
    {
        var engine = f.Kit.Engine(grain ?? P1);
        using var snapshot = engine.OpenSnapshot();
        var (batches, stats) = await f.Kit.Snapshots.ExecuteDetailedAsync(snapshot, engine.Schema, f.Kit.Objects, "events", sql, time, newestFirst, CancellationToken.None);
        using (batches) return (ArrowRows.ToRows(batches), stats);
    }

    private static TimeRange LastHours(double hours) => new(ExecutionTestKit.NowMicros - (long)(hours * 3_600_000_000), null);

    [Fact]
    public async Task The_data_is_spread_over_several_files_and_the_buffer()
    {
        var engine = f.Kit.Engine(P1);
        using var snapshot = engine.OpenSnapshot();
        output.WriteLine($"files {snapshot.Delta.Files.Count}, buffered rows {snapshot.Buffer.CountRows()}");
        Assert.True(snapshot.Delta.Files.Count >= 6, "the fixture should flush several files");
        Assert.InRange(snapshot.Buffer.CountRows(), ExecutionFixture.RowsPerProject / 5, ExecutionFixture.RowsPerProject / 2);
    }

    [Fact]
    public async Task Pruning_reads_fewer_files_and_never_changes_the_answer()
    {
        const string sql = "SELECT count(*), sum(duration), min(timestamp), max(timestamp) FROM events WHERE timestamp > TIMESTAMPTZ '2024-05-17 11:30:45.123+00'";
        var pruned = await RunAsync(sql, LastHours(1));
        var unpruned = await RunAsync(sql, TimeRange.All);
        output.WriteLine($"pruned {pruned.Stats}, unpruned {unpruned.Stats}");
        Assert.True(pruned.Stats.FilesRead < unpruned.Stats.FilesRead, "the window should prune files");
        Assert.True(pruned.Stats.FilesRead <= 2);
        Assert.Equal(unpruned.Stats.SnapshotFiles, unpruned.Stats.FilesRead);
        var expected = f.Expected(sql, "only_p1");
        using (expected.Result)
        {
            ArrowRows.AssertSameRows(expected.Rows, pruned.Rows, ordered: true, "pruned");
            ArrowRows.AssertSameRows(expected.Rows, unpruned.Rows, ordered: true, "unpruned");
        }
    }

    [Fact]
    public async Task A_range_before_every_file_reads_the_buffer_alone_and_keeps_the_schema()
    {
        const string sql = "SELECT * FROM events WHERE timestamp < TIMESTAMPTZ '2020-01-01 00:00:00+00'";
        var (rows, stats) = await RunAsync(sql, new TimeRange(null, 1_577_836_800_000_000 - 1));
        Assert.Empty(rows);
        Assert.Equal(0, stats.CandidateFiles);
        var engine = f.Kit.Engine(P1);
        using var snapshot = engine.OpenSnapshot();
        using var result = await f.Kit.Snapshots.ExecuteAsync(snapshot, f.Kit.Objects, "events", sql, new TimeRange(null, 0), null, CancellationToken.None);
        Assert.Equal(0, result.RowCount);
        Assert.Equal(ExecutionTestKit.Schema.Columns.Select(c => c.Name), result.Schema.FieldsList.Select(x => x.Name));
        Assert.Equal(ExecutionTestKit.Schema.ToArrowSchema().FieldsList.Select(x => x.DataType.TypeId), result.Schema.FieldsList.Select(x => x.DataType.TypeId));
    }

    public static TheoryData<string, long> NewestFirstQueries => new()
    {
        { "SELECT timestamp, service FROM events ORDER BY timestamp DESC LIMIT 1", 1 },
        { "SELECT timestamp, service FROM events ORDER BY timestamp DESC LIMIT 10", 10 },
        { "SELECT trace_id, duration FROM events ORDER BY timestamp DESC LIMIT 300", 300 },
        { "SELECT trace_id FROM events ORDER BY timestamp DESC LIMIT 2500", 2500 },
        { "SELECT trace_id FROM events ORDER BY timestamp DESC LIMIT 9000", 9000 },
        { "SELECT timestamp, status FROM events WHERE level = 'error' ORDER BY timestamp DESC LIMIT 20", 20 },
        { "SELECT timestamp FROM events WHERE status = 503 AND duration < 40 ORDER BY timestamp DESC LIMIT 25", 25 },
        { "SELECT timestamp, trace_id FROM events WHERE service = 'db' ORDER BY timestamp DESC LIMIT 10 OFFSET 40", 50 },
        { "SELECT timestamp FROM events WHERE timestamp < TIMESTAMPTZ '2024-05-16 20:00:00+00' ORDER BY timestamp DESC LIMIT 15", 15 },
        { "SELECT unnest(tags) AS tag, timestamp FROM events ORDER BY timestamp DESC, tag LIMIT 30", 30 },
    };

    [Theory]
    [MemberData(nameof(NewestFirstQueries))]
    public async Task Newest_first_reads_are_exact(string sql, long limitPlusOffset)
    {
        var time = sql.Contains("2024-05-16 20:00") ? new TimeRange(null, 1_715_889_600_000_000) : TimeRange.All;
        var (rows, stats) = await RunAsync(sql, time, limitPlusOffset);
        output.WriteLine($"{stats}");
        var expected = f.Expected(sql, "only_p1");
        using (expected.Result)
            ArrowRows.AssertSameRows(expected.Rows, rows, ordered: true, sql);
    }

    [Fact]
    public async Task Newest_first_with_a_small_limit_reads_only_the_newest_files()
    {
        var (_, stats) = await RunAsync("SELECT timestamp FROM events ORDER BY timestamp DESC LIMIT 10", TimeRange.All, 10);
        Assert.Equal(1, stats.Attempts);
        Assert.NotNull(stats.CutoffMicros);
        Assert.True(stats.FilesRead < stats.CandidateFiles, stats.ToString());
    }

    [Fact]
    public async Task Newest_first_with_a_rare_predicate_widens_until_the_answer_is_certain()
    {
        // Rare rows: the newest files' row counts promise enough rows, the predicate keeps few of them.
        const string sql = "SELECT timestamp FROM events WHERE status = 503 AND duration < 40 ORDER BY timestamp DESC LIMIT 25";
        var (rows, stats) = await RunAsync(sql, TimeRange.All, 25);
        Assert.True(stats.Attempts > 1, stats.ToString());
        var expected = f.Expected(sql, "only_p1");
        using (expected.Result)
            ArrowRows.AssertSameRows(expected.Rows, rows, ordered: true, sql);
    }

    [Fact]
    public async Task An_unknown_column_is_42703_and_a_bad_cast_is_a_data_error()
    {
        var e = await Assert.ThrowsAsync<QueryExecutionException>(() => RunAsync("SELECT no_such_column FROM events", TimeRange.All));
        Assert.Equal("42703", e.SqlState);
        Assert.Contains("no_such_column", e.Message);
        var cast = await Assert.ThrowsAsync<QueryExecutionException>(() => RunAsync("SELECT CAST(service AS INTEGER) FROM events", TimeRange.All));
        Assert.StartsWith("22", cast.SqlState);
        var syntax = await Assert.ThrowsAsync<QueryExecutionException>(() => RunAsync("SELECT FROM WHERE", TimeRange.All));
        Assert.Equal("42601", syntax.SqlState);
        // The snapshot's connection is still usable after failures.
        var (rows, _) = await RunAsync("SELECT count(*) FROM events", TimeRange.All);
        Assert.Equal(System.Numerics.BigInteger.Parse("4000"), rows[0][0]);
    }

    [Fact]
    public async Task Statements_with_their_own_WITH_clause_bind_the_table_too()
    {
        const string shadow = "WITH events AS (SELECT * FROM events WHERE status = 404) SELECT count(*) FROM events";
        const string recursive = "WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM r WHERE i < 3), e AS (SELECT * FROM events WHERE status = 500) SELECT count(*) FROM e, r";
        foreach (var sql in new[] { shadow, recursive })
        {
            var (rows, _) = await RunAsync(sql, TimeRange.All);
            var expected = f.Expected(sql, "only_p1");
            using (expected.Result)
                ArrowRows.AssertSameRows(expected.Rows, rows, ordered: true, sql);
        }
    }

    [Fact]
    public async Task Concurrent_queries_on_one_snapshot_each_get_their_answer()
    {
        var engine = f.Kit.Engine(P1);
        using var snapshot = engine.OpenSnapshot();
        var tasks = Enumerable.Range(0, 8).Select(async i =>
        {
            using var r = await f.Kit.Snapshots.ExecuteAsync(snapshot, f.Kit.Objects, "events", $"SELECT count(*) FROM events WHERE status = {new[] { 200, 201, 404, 500, 503 }[i % 5]}", TimeRange.All, null, CancellationToken.None);
            return ArrowRows.ToRows(r)[0][0];
        }).ToList();
        var counts = await Task.WhenAll(tasks);
        for (var i = 0; i < counts.Length; i++)
        {
            var expected = f.Expected($"SELECT count(*) FROM events WHERE status = {new[] { 200, 201, 404, 500, 503 }[i % 5]}", "only_p1");
            using (expected.Result) Assert.Equal(expected.Rows[0][0], counts[i]);
        }
    }

    [Fact]
    public async Task Cancellation_interrupts_a_running_statement_and_a_new_snapshot_reads_again()
    {
        var engine = f.Kit.Engine(P1);
        using var snapshot = engine.OpenSnapshot();
        using var cts = new CancellationTokenSource();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var run = f.Kit.Snapshots.ExecuteAsync(snapshot, f.Kit.Objects, "events",
            "SELECT count(*) FROM events a, events b, range(100000) r WHERE a.duration + b.duration + r.range = -1", TimeRange.All, null, cts.Token);
        cts.CancelAfter(200);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => run);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"cancellation took {clock.Elapsed}");
        // DuckDB aborts an interrupted transaction: the snapshot says so clearly.
        var aborted = await Assert.ThrowsAsync<QueryExecutionException>(() =>
            f.Kit.Snapshots.ExecuteAsync(snapshot, f.Kit.Objects, "events", "SELECT count(*) FROM events", TimeRange.All, null, CancellationToken.None));
        Assert.Equal("25P02", aborted.SqlState);
        snapshot.Dispose();
        using var fresh = engine.OpenSnapshot();
        using var after = await f.Kit.Snapshots.ExecuteAsync(fresh, f.Kit.Objects, "events", "SELECT count(*) FROM events", TimeRange.All, null, CancellationToken.None);
        Assert.Equal(System.Numerics.BigInteger.Parse("4000"), ArrowRows.ToRows(after)[0][0]);
    }
}

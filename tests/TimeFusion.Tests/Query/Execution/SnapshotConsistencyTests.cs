using TimeFusion.Engine;
using TimeFusion.Query.Execution;
using TimeFusion.Query.Planning;
using TimeFusion.Tables;
using TimeFusion.Tests.Infrastructure;
using TimeFusion.Tests.Query.Planning;

namespace TimeFusion.Tests.Query.Execution;

/// <summary>Snapshots under concurrent flushes and inserts, empty tables, and plans that reach no grain.</summary>
public sealed class SnapshotConsistencyTests : IAsyncLifetime
{
    private readonly TempDirectory _dir = new();
    private ExecutionTestKit _kit = null!;
    private static readonly TableId Id = new("race", "events");

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

    /// <summary>Rows with unique trace ids <c>{tag}-{i}</c>.</summary>
    private static List<ExecutionTestKit.EventRow> Unique(string tag, int count) =>
        ExecutionTestKit.Rows(1, count).Select((r, i) => r with { TraceId = $"{tag}-{i}" }).ToList();

    private async Task<(long Rows, long Distinct)> CountAsync(TableEngine engine, TableSnapshot snapshot)
    {
        using var r = await _kit.Snapshots.ExecuteAsync(snapshot, _kit.Objects, "events",
            "SELECT count(*) AS n, count(DISTINCT trace_id) AS d FROM events", TimeRange.All, null, CancellationToken.None);
        var row = ArrowRows.ToRows(r)[0];
        return ((long)(System.Numerics.BigInteger)row[0]!, (long)(System.Numerics.BigInteger)row[1]!);
    }

    [Fact]
    public async Task A_snapshot_taken_before_a_flush_sees_each_row_once_after_it()
    {
        var engine = await _kit.OpenAsync(Id);
        await engine.InsertAsync(ExecutionTestKit.Batch(Unique("a", 900)));
        await engine.FlushAsync();
        await engine.InsertAsync(ExecutionTestKit.Batch(Unique("b", 700)));
        using var before = engine.OpenSnapshot();
        await engine.FlushAsync(); // b moves from the buffer to Delta while `before` is open
        await engine.InsertAsync(ExecutionTestKit.Batch(Unique("c", 500)));
        Assert.Equal((1600L, 1600L), await CountAsync(engine, before));
        using var after = engine.OpenSnapshot();
        Assert.Equal((2100L, 2100L), await CountAsync(engine, after));
    }

    [Fact]
    public async Task Snapshots_racing_inserts_and_flushes_never_see_a_row_twice_or_miss_one()
    {
        const int batchRows = 250;
        var engine = await _kit.OpenAsync(Id);
        using var stop = new CancellationTokenSource();
        var writer = Task.Run(async () =>
        {
            for (var k = 0; k < 24; k++)
            {
                await engine.InsertAsync(ExecutionTestKit.Batch(Unique("w" + k, batchRows)));
                if (k % 3 == 2) await engine.FlushAsync();
            }
        });
        var checks = 0;
        while (!writer.IsCompleted || checks < 5)
        {
            var low = engine.AppliedThroughLsn;
            using var snapshot = engine.OpenSnapshot();
            var high = engine.AppliedThroughLsn;
            var (rows, distinct) = await CountAsync(engine, snapshot);
            Assert.Equal(rows, distinct);
            Assert.Equal(0, rows % batchRows);
            // One insert = one LSN. The writer is sequential, so at most one insert is between its buffer append
            // (visible) and marking its LSN applied.
            Assert.True(rows / batchRows >= low && rows / batchRows <= high + 1, $"{rows / batchRows} batches visible, applied LSN {low}..{high}");
            checks++;
        }
        await writer;
        Assert.True(checks >= 5);
        using var final = engine.OpenSnapshot();
        Assert.Equal((24L * batchRows, 24L * batchRows), await CountAsync(engine, final));
    }

    [Fact]
    public async Task An_empty_table_answers_with_the_right_schema()
    {
        var engine = await _kit.OpenAsync(Id);
        using var snapshot = engine.OpenSnapshot();
        using var all = await _kit.Snapshots.ExecuteAsync(snapshot, _kit.Objects, "events", "SELECT * FROM events", TimeRange.All, null, CancellationToken.None);
        Assert.Equal(0, all.RowCount);
        Assert.Equal(engine.Schema.ToArrowSchema().FieldsList.Select(f => f.Name + ":" + f.DataType.TypeId),
            all.Schema.FieldsList.Select(f => f.Name + ":" + f.DataType.TypeId));
        using var count = await _kit.Snapshots.ExecuteAsync(snapshot, _kit.Objects, "events", "SELECT count(*) AS n, max(timestamp) AS m FROM events",
            TimeRange.All, 5, CancellationToken.None);
        Assert.Equal(["0|NULL"], ArrowRows.ToRows(count).Select(r => string.Join("|", r.Select(ArrowRows.Show))));
    }

    [Fact]
    public async Task A_plan_that_reaches_no_grain_returns_the_statements_shape()
    {
        foreach (var p in new[] { "p1", "p2" })
        {
            var engine = await _kit.OpenAsync(new TableId(p, "events"));
            await engine.InsertAsync(ExecutionTestKit.Batch(Unique(p, 100)));
        }
        using var planning = new PlanningFixture();
        var catalog = new TestCatalog().Add(ExecutionTestKit.Schema, "p1", "p2");
        foreach (var sql in new[]
                 {
                     "SELECT service, count(*) AS n, avg(latency) AS a FROM events WHERE project_id = 'p1' AND project_id = 'p2' GROUP BY service",
                     "SELECT trace_id, timestamp FROM events WHERE project_id IN ('p1') AND project_id IN ('p2') ORDER BY timestamp DESC LIMIT 3",
                 })
        {
            var plan = planning.Analyzer.Analyze(sql, catalog, CallerScope.Admin());
            Assert.All(plan.Scans, s => Assert.Empty(s.Projects));
            var called = false;
            using var result = await _kit.Runner.RunAsync(plan, (g, s, t, n, ct) => { called = true; return _kit.RunOnGrain(g, s, t, n, ct); }, CancellationToken.None);
            Assert.False(called);
            Assert.Equal(0, result.RowCount);
            Assert.Equal(plan.OutputColumns, result.Schema.FieldsList.Select(f => f.Name));
        }
    }

    [Fact]
    public async Task A_failing_grain_fails_the_plan_with_its_error_and_cancels_the_others()
    {
        foreach (var p in new[] { "p1", "p2", "p3" })
            await _kit.OpenAsync(new TableId(p, "events"));
        using var planning = new PlanningFixture();
        var catalog = new TestCatalog().Add(ExecutionTestKit.Schema, "p1", "p2", "p3");
        var plan = planning.Analyzer.Analyze("SELECT service, count(*) FROM events GROUP BY service", catalog, CallerScope.Admin());
        var cancelled = 0;
        var started = 0;
        var e = await Assert.ThrowsAsync<QueryExecutionException>(() => _kit.Runner.RunAsync(plan, async (g, s, t, n, ct) =>
        {
            Interlocked.Increment(ref started);
            if (g.Project == "p2") throw new QueryExecutionException("22012", "boom on p2");
            try
            {
                await Task.Delay(Timeout.Infinite, ct);
            }
            catch (OperationCanceledException)
            {
                Interlocked.Increment(ref cancelled);
                throw;
            }
            return null!;
        }, CancellationToken.None));
        Assert.Equal("22012", e.SqlState);
        Assert.Equal(started - 1, cancelled); // every other call that started was cancelled, none ran on
    }
}

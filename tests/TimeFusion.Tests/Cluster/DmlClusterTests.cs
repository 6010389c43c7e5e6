using Apache.Arrow;
using TimeFusion.Grains;
using TimeFusion.Tables;
using TimeFusion.Tests.Engine;
using TimeFusion.Wire;

namespace TimeFusion.Tests.Cluster;

public sealed class DmlClusterTests(OneSiloCluster fixture) : IClassFixture<OneSiloCluster>
{
    private IQueryGatewayGrain Gateway => fixture.Client.GetGrain<IQueryGatewayGrain>(0);

    private async Task<long> CountAsync(string project, string where = "true") =>
        ((Int64Array)(await Gateway.QueryAsync($"SELECT count(*) FROM otel_logs_and_spans WHERE {where}", Caller.ForProject(project)))
            .Batches.Single(b => b.Length > 0).Column(0)).GetValue(0)!.Value;

    [Fact]
    public async Task Update_and_delete_change_buffered_and_flushed_rows_of_their_project_only()
    {
        foreach (var p in new[] { "dm1", "dm2" })
        {
            await Gateway.InsertAsync(p, OtelLogsAndSpans.TableName, EngineTestKit.OtelRows(200, p + "a"), Caller.ForProject(p));
            await Gateway.ExecuteAsync("FLUSH otel_logs_and_spans", Caller.ForProject(p));
            await Gateway.InsertAsync(p, OtelLogsAndSpans.TableName, EngineTestKit.OtelRows(200, p + "b"), Caller.ForProject(p));
        }

        // OtelRows: every 10th row is ERROR (20 per 200), services svc-0..3 round-robin.
        var updated = await Gateway.ExecuteAsync("UPDATE otel_logs_and_spans SET level = 'FATAL', hashes = ['h1', 'h2'] WHERE level = 'ERROR'", Caller.ForProject("dm1"));
        Assert.Equal(40, updated);
        Assert.Equal(40, await CountAsync("dm1", "level = 'FATAL' AND hashes = ['h1', 'h2']"));
        Assert.Equal(0, await CountAsync("dm2", "level = 'FATAL'"));

        var deleted = await Gateway.ExecuteAsync("DELETE FROM otel_logs_and_spans WHERE resource___service___name = 'svc-0'", Caller.ForProject("dm1"));
        Assert.Equal(100, deleted);
        Assert.Equal(300, await CountAsync("dm1"));

        // DELETE without WHERE removes this project's rows of the table, as PostgreSQL would, and nothing else.
        Assert.Equal(300, await Gateway.ExecuteAsync("DELETE FROM otel_logs_and_spans", Caller.ForProject("dm1")));
        Assert.Equal(0, await CountAsync("dm1"));
        Assert.Equal(400, await CountAsync("dm2"));

        var bad = await Assert.ThrowsAsync<TimeFusionException>(() => Gateway.ExecuteAsync("DELETE FROM otel_logs_and_spans WHERE nope = 1", Caller.ForProject("dm2")));
        Assert.Equal("42703", bad.SqlState);
        Assert.Equal(400, await CountAsync("dm2"));
    }

    [Fact]
    public async Task A_dml_on_one_days_rows_reads_only_that_days_files_through_the_gateway()
    {
        const string p = "dm-days";
        var day1 = EngineTestKit.T0; // 2026-11-24 22:00 UTC; 100 rows a second apart stay on that day
        var day2 = day1 + 86_400_000_000L;
        await Gateway.InsertAsync(p, OtelLogsAndSpans.TableName, EngineTestKit.OtelRows(100, "d1", day1), Caller.ForProject(p));
        await Gateway.InsertAsync(p, OtelLogsAndSpans.TableName, EngineTestKit.OtelRows(100, "d2", day2), Caller.ForProject(p));
        await Gateway.ExecuteAsync("FLUSH otel_logs_and_spans", Caller.ForProject(p));
        var grain = fixture.Client.GetGrain<ITableGrain>(TableGrainKey.Format(p, OtelLogsAndSpans.TableName));
        var before = (await grain.GetStatusAsync()).DmlFilesRead;

        // The predicate's timestamp bounds reach the table grain: only the day-1 file is read.
        var deleted = await Gateway.ExecuteAsync(
            "DELETE FROM otel_logs_and_spans WHERE level = 'ERROR' AND timestamp >= '2026-11-24 00:00:00+00' AND timestamp < '2026-11-25 00:00:00+00'",
            Caller.ForProject(p));
        Assert.Equal(10, deleted);
        Assert.Equal(1, (await grain.GetStatusAsync()).DmlFilesRead - before);

        // Without a time bound every file is read.
        Assert.Equal(10, await Gateway.ExecuteAsync("UPDATE otel_logs_and_spans SET level = 'WARN' WHERE level = 'ERROR'", Caller.ForProject(p)));
        Assert.Equal(3, (await grain.GetStatusAsync()).DmlFilesRead - before);
        Assert.Equal(190, await CountAsync(p));
        Assert.Equal(10, await CountAsync(p, "level = 'WARN'"));
    }
}

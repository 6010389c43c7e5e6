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
}

using Apache.Arrow;
using TimeFusion.Grains;
using TimeFusion.Tables;
using TimeFusion.Tests.Engine;

namespace TimeFusion.Tests.Cluster;

/// <summary>A fresh 3-silo cluster per test: silos are killed here.</summary>
public sealed class SiloFailureTests : IAsyncLifetime
{
    private readonly ThreeSiloCluster _fixture = new();

    public Task InitializeAsync() => _fixture.InitializeAsync();

    public Task DisposeAsync() => _fixture.DisposeAsync();

    private static long Count(Wire.ArrowBatches r) => ((Int64Array)r.Batches.Single(b => b.Length > 0).Column(0)).GetValue(0)!.Value;

    [Fact]
    public async Task Rows_of_grains_on_a_killed_silo_come_back_exactly_once_on_the_others()
    {
        var gateway = _fixture.Client.GetGrain<IQueryGatewayGrain>(0);
        var projects = Enumerable.Range(0, 12).Select(i => $"proj-{i}").ToList();
        foreach (var p in projects)
        {
            await gateway.InsertAsync(p, OtelLogsAndSpans.TableName, EngineTestKit.OtelRows(100, p), Caller.ForProject(p));
            await gateway.ExecuteAsync("FLUSH otel_logs_and_spans", Caller.ForProject(p)); // half in Delta…
            await gateway.InsertAsync(p, OtelLogsAndSpans.TableName, EngineTestKit.OtelRows(50, p + "b"), Caller.ForProject(p)); // …half only in WAL + buffer
        }

        var victim = _fixture.Cluster.Silos[^1];
        await _fixture.Cluster.KillSiloAsync(victim);

        foreach (var p in projects)
            Assert.Equal(150, Count(await gateway.QueryAsync("SELECT count(*) FROM otel_logs_and_spans", Caller.ForProject(p))));

        // Some grains lived on the killed silo: they were re-activated elsewhere and replayed their WAL.
        var replayed = 0L;
        foreach (var p in projects)
            replayed += (await _fixture.Client.GetGrain<ITableGrain>(TableGrainKey.Format(p, OtelLogsAndSpans.TableName)).GetStatusAsync()).RecoveredEntries;
        Assert.True(replayed > 0, "no grain was recovered from its WAL: none lived on the killed silo");
    }
}

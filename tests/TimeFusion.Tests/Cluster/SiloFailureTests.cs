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
        // Every silo must be known to placement before grains are placed.
        await _fixture.Cluster.WaitForLivenessToStabilizeAsync();
        var primary = _fixture.Cluster.Silos[0].SiloAddress;
        var projects = new List<string>();
        var hosts = new Dictionary<SiloAddress, int>();
        // Placement is the cluster's choice: add projects until a secondary silo hosts some (12 at least, 60 at most).
        while (projects.Count < 12 || (hosts.Keys.All(h => h.Equals(primary)) && projects.Count < 60))
        {
            var p = $"proj-{projects.Count}";
            projects.Add(p);
            await gateway.InsertAsync(p, OtelLogsAndSpans.TableName, EngineTestKit.OtelRows(100, p), Caller.ForProject(p));
            await gateway.ExecuteAsync("FLUSH otel_logs_and_spans", Caller.ForProject(p)); // half in Delta…
            await gateway.InsertAsync(p, OtelLogsAndSpans.TableName, EngineTestKit.OtelRows(50, p + "b"), Caller.ForProject(p)); // …half only in WAL + buffer
            var id = _fixture.Client.GetGrain<ITableGrain>(TableGrainKey.Format(p, OtelLogsAndSpans.TableName)).GetGrainId();
            Assert.True(_fixture.Cluster.TryGetGrainContext(id, out var context));
            hosts[context.Address.SiloAddress!] = hosts.GetValueOrDefault(context.Address.SiloAddress!) + 1;
        }

        // Kill a secondary silo that hosts some of these grains (the primary holds the test cluster's membership).
        var victimAddress = hosts.Where(h => !h.Key.Equals(primary)).OrderByDescending(h => h.Value).Select(h => h.Key).FirstOrDefault();
        Assert.True(victimAddress is not null, "every grain was placed on the primary silo");
        await _fixture.Cluster.KillSiloAsync(_fixture.Cluster.GetSiloForAddress(victimAddress!) ?? throw new InvalidOperationException("victim silo not found"));
        await _fixture.Cluster.WaitForLivenessToStabilizeAsync(); // the survivors declare it dead

        foreach (var p in projects)
            Assert.Equal(150, Count(await gateway.QueryAsync("SELECT count(*) FROM otel_logs_and_spans", Caller.ForProject(p))));

        // Some grains lived on the killed silo: they were re-activated elsewhere and replayed their WAL.
        var replayed = 0L;
        foreach (var p in projects)
            replayed += (await _fixture.Client.GetGrain<ITableGrain>(TableGrainKey.Format(p, OtelLogsAndSpans.TableName)).GetStatusAsync()).RecoveredEntries;
        Assert.True(replayed > 0, "no grain was recovered from its WAL: none lived on the killed silo");
    }
}

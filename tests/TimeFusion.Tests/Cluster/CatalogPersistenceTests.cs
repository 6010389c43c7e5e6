using Apache.Arrow;
using Microsoft.Extensions.Configuration;
using Orleans.TestingHost;
using TimeFusion.Grains;
using TimeFusion.Hosting;
using TimeFusion.Tests.Infrastructure;

namespace TimeFusion.Tests.Cluster;

public sealed class CatalogPersistenceTests : IDisposable
{
    private readonly TempDirectory _data = new();

    public void Dispose() => _data.Dispose();

    private async Task<InProcessTestCluster> StartAsync()
    {
        var builder = new InProcessTestClusterBuilder(1);
        builder.ConfigureSilo((_, silo) =>
        {
            // The server's set-up: the catalog in local files under the data directory.
            silo.UseTimeFusion();
        });
        builder.ConfigureSiloHost((_, host) => host.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["TimeFusion:DataDirectory"] = _data.Path,
            ["TimeFusion:Buffer:MemoryLimitBytes"] = (1L << 30).ToString(),
            ["TimeFusion:Buffer:SoftLimitBytes"] = (256L << 20).ToString(),
            ["TimeFusion:Buffer:HardLimitBytes"] = (512L << 20).ToString(),
            ["TimeFusion:Buffer:Threads"] = "1",
        }));
        var cluster = builder.Build();
        await cluster.DeployAsync();
        return cluster;
    }

    [Fact]
    public async Task User_tables_and_their_rows_survive_a_restart_of_the_whole_cluster()
    {
        var admin = Caller.Admin("cp");
        await using (var first = await StartAsync())
        {
            var gateway = ClusterFixture.InsideSilo(first).GetGrain<IQueryGatewayGrain>(0);
            await gateway.ExecuteAsync("CREATE TABLE deploys (service VARCHAR NOT NULL, version VARCHAR)", admin);
            await gateway.ExecuteAsync("INSERT INTO deploys (service, version, timestamp) VALUES ('api', '1.2.3', TIMESTAMPTZ '2026-11-24 10:00:00+00')", admin);
            await first.StopAllSilosAsync(); // graceful: grains flush on deactivation
        }
        await using var second = await StartAsync();
        var result = await ClusterFixture.InsideSilo(second).GetGrain<IQueryGatewayGrain>(0).QueryAsync("SELECT version FROM deploys WHERE service = 'api'", admin);
        Assert.Equal("1.2.3", ((StringArray)result.Batches.Single(b => b.Length > 0).Column(0)).GetString(0));
    }
}

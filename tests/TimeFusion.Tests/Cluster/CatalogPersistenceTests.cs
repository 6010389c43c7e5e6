using Apache.Arrow;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Serialization;
using Orleans.Storage;
using Orleans.TestingHost;
using TimeFusion.Buffer;
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
            silo.Services.AddKeyedSingleton<IGrainStorage>("catalog", (sp, _) =>
                new LocalFileGrainStorage(Path.Combine(_data.Path, "catalog"), sp.GetRequiredService<Serializer>()));
            silo.Services.AddTimeFusionEngine(new TimeFusionEngineOptions
            {
                DataDirectory = _data.Path,
                Buffer = new BufferOptions { MemoryLimitBytes = 1L << 30, SoftLimitBytes = 256L << 20, HardLimitBytes = 512L << 20, Threads = 1 },
            });
        });
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
            var gateway = first.Client.GetGrain<IQueryGatewayGrain>(0);
            await gateway.ExecuteAsync("CREATE TABLE deploys (service VARCHAR NOT NULL, version VARCHAR)", admin);
            await gateway.ExecuteAsync("INSERT INTO deploys (service, version, timestamp) VALUES ('api', '1.2.3', TIMESTAMPTZ '2026-11-24 10:00:00+00')", admin);
            await first.StopAllSilosAsync(); // graceful: grains flush on deactivation
        }
        await using var second = await StartAsync();
        var result = await second.Client.GetGrain<IQueryGatewayGrain>(0).QueryAsync("SELECT version FROM deploys WHERE service = 'api'", admin);
        Assert.Equal("1.2.3", ((StringArray)result.Batches.Single(b => b.Length > 0).Column(0)).GetString(0));
    }
}

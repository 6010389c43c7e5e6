using Apache.Arrow;
using Azure.Storage.Blobs;
using Microsoft.Extensions.Configuration;
using Orleans.TestingHost;
using TimeFusion.Grains;
using TimeFusion.Hosting;
using TimeFusion.Tests.Infrastructure;
using TimeFusion.Wire;

namespace TimeFusion.Tests.Hosting;

/// <summary>
/// A silo set up by the server's own extensions with <c>TimeFusion:Storage:Kind = AzureBlob</c> (Azurite): it inserts,
/// flushes and queries, the Delta log and the WAL land in their containers, and the data directory holds no tables or WAL.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class AzureStorageSiloTests(AzuriteFixture azurite) : IDisposable
{
    private readonly TempDirectory _data = new();
    private readonly string _tables = AzuriteFixture.NewContainerName();
    private readonly string _wal = AzuriteFixture.NewContainerName();

    public void Dispose() => _data.Dispose();

    private async Task<InProcessTestCluster> StartAsync()
    {
        var builder = new InProcessTestClusterBuilder(1);
        builder.ConfigureSiloHost((_, host) => host.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["TimeFusion:DataDirectory"] = _data.Path,
            ["TimeFusion:Storage:Kind"] = "AzureBlob",
            ["TimeFusion:Storage:ConnectionString"] = azurite.ConnectionString,
            ["TimeFusion:Storage:TablesContainer"] = _tables,
            ["TimeFusion:Storage:WalContainer"] = _wal,
            ["TimeFusion:Storage:Prefix"] = "deployment-a",
            ["TimeFusion:Buffer:MemoryLimitBytes"] = (1L << 30).ToString(),
            ["TimeFusion:Buffer:SoftLimitBytes"] = (256L << 20).ToString(),
            ["TimeFusion:Buffer:HardLimitBytes"] = (512L << 20).ToString(),
            ["TimeFusion:Buffer:Threads"] = "1",
        }));
        builder.ConfigureSilo((_, silo) => silo.UseTimeFusion());
        var cluster = builder.Build();
        await cluster.DeployAsync();
        return cluster;
    }

    private static async Task<List<string>> BlobNamesAsync(BlobContainerClient container)
    {
        var names = new List<string>();
        await foreach (var blob in container.GetBlobsAsync()) names.Add(blob.Name);
        return names;
    }

    [Fact]
    public async Task Inserts_flush_and_queries_go_to_azure_blob_storage()
    {
        var admin = Caller.Admin("az");
        await using (var cluster = await StartAsync())
        {
            var gateway = TimeFusion.Tests.Cluster.ClusterFixture.InsideSilo(cluster).GetGrain<IQueryGatewayGrain>(0);
            await gateway.ExecuteAsync("CREATE TABLE deploys (service VARCHAR NOT NULL, version VARCHAR)", admin);
            await gateway.ExecuteAsync("INSERT INTO deploys (service, version, timestamp) VALUES ('api', '1.2.3', TIMESTAMPTZ '2026-11-24 10:00:00+00')", admin);
            await gateway.ExecuteAsync("FLUSH deploys", admin);
            await gateway.ExecuteAsync("INSERT INTO deploys (service, version, timestamp) VALUES ('web', '2.0.0', TIMESTAMPTZ '2026-11-24 11:00:00+00')", admin);
            var result = await gateway.QueryAsync("SELECT version FROM deploys ORDER BY version", admin);
            var versions = result.Batches.Where(b => b.Length > 0).SelectMany(b => Enumerable.Range(0, b.Length).Select(i => ((StringArray)b.Column(0)).GetString(i))).ToList();
            Assert.Equal(["1.2.3", "2.0.0"], versions);
            await cluster.StopAllSilosAsync();
        }

        var tables = await BlobNamesAsync(new BlobContainerClient(azurite.ConnectionString, _tables));
        var wal = await BlobNamesAsync(new BlobContainerClient(azurite.ConnectionString, _wal));
        Assert.Contains(tables, n => n.StartsWith("deployment-a/", StringComparison.Ordinal) && n.Contains("/_delta_log/", StringComparison.Ordinal) && n.EndsWith(".json", StringComparison.Ordinal));
        Assert.Contains(tables, n => n.EndsWith(".parquet", StringComparison.Ordinal));
        Assert.Contains(wal, n => n.StartsWith("deployment-a/", StringComparison.Ordinal));
        // Local disk only caches, stages and keeps the catalog.
        Assert.False(Directory.Exists(Path.Combine(_data.Path, "tables")));
        Assert.False(Directory.Exists(Path.Combine(_data.Path, "wal")));
    }
}

using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Orleans.TestingHost;
using TimeFusion.Hosting;
using TimeFusion.Tests.Infrastructure;

namespace TimeFusion.Tests.Cluster;

/// <summary>
/// A real in-process Orleans cluster of <see cref="Silos"/> silos running the TimeFusion grains. All silos share one
/// data directory, standing for the shared storage of cluster mode, so a grain re-activated on another silo finds
/// its WAL and Delta table.
/// </summary>
public abstract class ClusterFixture : IAsyncLifetime
{
    private readonly TempDirectory _data = new();

    protected abstract int Silos { get; }

    /// <summary>Each silo's buffer database and memory budget (keys under <c>TimeFusion:Buffer</c>).</summary>
    protected virtual Dictionary<string, string?> Buffer => new()
    {
        ["MemoryLimitBytes"] = (1L << 30).ToString(), ["SoftLimitBytes"] = (256L << 20).ToString(), ["HardLimitBytes"] = (512L << 20).ToString(), ["Threads"] = "1",
    };

    public InProcessTestCluster Cluster { get; private set; } = null!;

    /// <summary>
    /// The client hosted inside the first silo (the primary, which tests never kill): trusted like the PostgreSQL and
    /// Flight doors, so grain tests pass the <see cref="TimeFusion.Grains.Caller"/> they mean. An Orleans client outside
    /// the silos (<c>Cluster.Client</c>) must log in (ClientSdkTests).
    /// </summary>
    public IClusterClient Client => InsideSilo(Cluster);

    /// <summary>The client hosted inside the cluster's first silo.</summary>
    public static IClusterClient InsideSilo(InProcessTestCluster cluster) => cluster.Silos[0].ServiceProvider.GetRequiredService<IClusterClient>();

    /// <summary>Settings added to every silo's configuration (keys in full, e.g. <c>TimeFusion:Users:0:Name</c>).</summary>
    protected virtual Dictionary<string, string?> Settings => [];

    /// <summary>More services for every silo.</summary>
    protected virtual void ConfigureServices(IServiceCollection services)
    {
    }

    public string DataDirectory => _data.Path;

    public async Task InitializeAsync()
    {
        var builder = new InProcessTestClusterBuilder((short)Silos);
        // Configured like the server: keys through the same extensions (validated at start).
        var settings = new Dictionary<string, string?>
        {
            ["TimeFusion:DataDirectory"] = _data.Path,
            ["TimeFusion:Flush:CheckInterval"] = "00:00:00.200",
        };
        foreach (var (key, value) in Buffer) settings["TimeFusion:Buffer:" + key] = value;
        foreach (var (key, value) in Settings) settings[key] = value;
        builder.ConfigureSiloHost((_, host) => host.Configuration.AddInMemoryCollection(settings));
        builder.ConfigureSilo((_, silo) =>
        {
            // The catalog's state as the server keeps it (a file under the shared data directory): memory grain
            // storage lives in grains placed anywhere, so killing a silo could lose which projects a table has — and a
            // query then reached no grain at all (SiloFailureTests counted 0 rows, now and then).
            silo.AddTimeFusionCatalog();
            silo.AddTimeFusionEngine().AddTimeFusionStorage();
            ConfigureServices(silo.Services);
        });
        Cluster = builder.Build();
        await Cluster.DeployAsync();
    }

    public async Task DisposeAsync()
    {
        await Cluster.StopAllSilosAsync();
        await Cluster.DisposeAsync();
        _data.Dispose();
    }
}

public sealed class OneSiloCluster : ClusterFixture
{
    protected override int Silos => 1;
}

public sealed class ThreeSiloCluster : ClusterFixture
{
    protected override int Silos => 3;
}

/// <summary>One silo whose memory budget holds only a few batches: writers outrun flushes.</summary>
public sealed class TinyBudgetCluster : ClusterFixture
{
    public const long HardLimit = 3L << 20;

    protected override int Silos => 1;

    protected override Dictionary<string, string?> Buffer => new()
    {
        ["MemoryLimitBytes"] = (1L << 30).ToString(), ["SoftLimitBytes"] = (1L << 20).ToString(), ["HardLimitBytes"] = HardLimit.ToString(), ["Threads"] = "1",
        ["ReserveMaxWait"] = "00:00:00.300",
    };
}

/// <summary>One silo with a 32 MiB memory budget: a streamed COPY is many times what it may buffer.</summary>
public sealed class SmallBudgetCluster : ClusterFixture
{
    public const long HardLimit = 32L << 20;

    protected override int Silos => 1;

    protected override Dictionary<string, string?> Buffer => new()
    {
        ["MemoryLimitBytes"] = (1L << 30).ToString(), ["SoftLimitBytes"] = (16L << 20).ToString(), ["HardLimitBytes"] = HardLimit.ToString(), ["Threads"] = "1",
        ["ReserveMaxWait"] = "00:00:02",
    };
}

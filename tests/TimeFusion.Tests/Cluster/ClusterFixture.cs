using Orleans.TestingHost;
using TimeFusion.Buffer;
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

    /// <summary>Each silo's buffer database and memory budget.</summary>
    protected virtual BufferOptions Buffer => new() { MemoryLimitBytes = 1L << 30, SoftLimitBytes = 256L << 20, HardLimitBytes = 512L << 20, Threads = 1 };

    public InProcessTestCluster Cluster { get; private set; } = null!;

    public IClusterClient Client => Cluster.Client;

    public string DataDirectory => _data.Path;

    public async Task InitializeAsync()
    {
        var builder = new InProcessTestClusterBuilder((short)Silos);
        builder.ConfigureSilo((_, silo) =>
        {
            silo.AddMemoryGrainStorage("catalog");
            silo.Services.AddTimeFusionEngine(new TimeFusionEngineOptions
            {
                DataDirectory = _data.Path,
                Buffer = Buffer,
                FlushCheckInterval = TimeSpan.FromMilliseconds(200),
            });
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

    protected override BufferOptions Buffer => new()
    {
        MemoryLimitBytes = 1L << 30, SoftLimitBytes = 1L << 20, HardLimitBytes = HardLimit, Threads = 1,
        ReserveMaxWait = TimeSpan.FromMilliseconds(300),
    };
}

using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using TimeFusion.Grains;
using TimeFusion.Storage;
using TimeFusion.Tables;
using TimeFusion.Tests.Engine;

namespace TimeFusion.Tests.Cluster;

/// <summary>One silo whose object store can hold a Delta commit's write on its thread (<see cref="StallingObjectStore"/>).</summary>
public sealed class StallingStoreCluster : ClusterFixture
{
    public StallingObjectStore Store { get; private set; } = null!;

    protected override int Silos => 1;

    protected override void ConfigureServices(IServiceCollection services) =>
        services.Replace(ServiceDescriptor.Singleton<IObjectStore>(_ => Store = new StallingObjectStore(new LocalObjectStore(Path.Combine(DataDirectory, "tables")))));
}

/// <summary>
/// A table's slow engine steps run off its grain's turn: while a flush's Delta commit holds its thread (a slow store, a
/// large file deleted, a long DuckDB statement), inserts into the same table are still taken and acknowledged. On the
/// turn, every insert and acknowledgement of the table waited behind such a step (docs/BENCHMARKS.md, session 17).
/// </summary>
public sealed class FlushOffTurnTests(StallingStoreCluster fixture) : IClassFixture<StallingStoreCluster>
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task An_insert_is_acknowledged_while_the_same_tables_flush_holds_a_thread_in_its_delta_commit()
    {
        const string project = "offturn";
        var gateway = fixture.Client.GetGrain<IQueryGatewayGrain>(0);
        var table = fixture.Client.GetGrain<ITableGrain>(TableGrainKey.Format(project, OtelLogsAndSpans.TableName));
        await gateway.InsertAsync(project, OtelLogsAndSpans.TableName, EngineTestKit.OtelRows(100, "before"), Caller.Admin());

        var stall = fixture.Store.StallNextCommit();
        var flush = table.FlushAsync();
        await stall.Reached.WaitAsync(Patience); // the flush's commit is now holding its thread, synchronously
        try
        {
            var lsn = await gateway.InsertAsync(project, OtelLogsAndSpans.TableName, EngineTestKit.OtelRows(50, "during"), Caller.Admin()).WaitAsync(Patience);
            Assert.True(lsn > 0);
            Assert.False(flush.IsCompleted, "the flush ended before the insert: the test did not hold it");
        }
        finally
        {
            stall.Release();
        }

        var flushed = await flush.WaitAsync(Patience);
        Assert.Equal(100, flushed.Rows); // the flush took the rows applied when it started; the insert's stay buffered
        var status = await table.GetStatusAsync();
        Assert.Equal(50, status.BufferedRows);
        Assert.Equal(100, status.Rows);
    }
}

/// <summary>
/// An object store that can block the thread of the next Delta commit (<c>_delta_log/*.json</c> written with
/// <see cref="IObjectStore.PutIfAbsentAsync"/>) until released: the commit then behaves like a slow synchronous step.
/// </summary>
public sealed class StallingObjectStore(IObjectStore inner) : IObjectStore
{
    private Stall? _next;

    /// <summary>Arms a stall for the next commit.</summary>
    public Stall StallNextCommit() => _next = new Stall();

    public string Describe => inner.Describe;

    public Task<bool> PutIfAbsentAsync(string path, ReadOnlyMemory<byte> content, CancellationToken cancellationToken = default)
    {
        if (path.Contains("/_delta_log/", StringComparison.Ordinal) && path.EndsWith(".json", StringComparison.Ordinal)
            && Interlocked.Exchange(ref _next, null) is { } stall)
            stall.Hold();
        return inner.PutIfAbsentAsync(path, content, cancellationToken);
    }

    public Task<byte[]> ReadAllAsync(string path, CancellationToken cancellationToken = default) => inner.ReadAllAsync(path, cancellationToken);
    public Task<Stream> OpenReadAsync(string path, CancellationToken cancellationToken = default) => inner.OpenReadAsync(path, cancellationToken);
    public Task PutAsync(string path, ReadOnlyMemory<byte> content, CancellationToken cancellationToken = default) => inner.PutAsync(path, content, cancellationToken);
    public Task UploadFileAsync(string path, string localFile, CancellationToken cancellationToken = default) => inner.UploadFileAsync(path, localFile, cancellationToken);
    public Task AdoptFileAsync(string path, string localFile, CancellationToken cancellationToken = default) => inner.AdoptFileAsync(path, localFile, cancellationToken);
    public Task<string> GetLocalPathAsync(string path, CancellationToken cancellationToken = default) => inner.GetLocalPathAsync(path, cancellationToken);
    public Task<IReadOnlyList<ObjectInfo>> ListAsync(string prefix, CancellationToken cancellationToken = default) => inner.ListAsync(prefix, cancellationToken);
    public Task<IReadOnlyList<ObjectInfo>> ListTemporaryAsync(string prefix, CancellationToken cancellationToken = default) => inner.ListTemporaryAsync(prefix, cancellationToken);
    public Task<bool> ExistsAsync(string path, CancellationToken cancellationToken = default) => inner.ExistsAsync(path, cancellationToken);
    public Task DeleteAsync(string path, CancellationToken cancellationToken = default) => inner.DeleteAsync(path, cancellationToken);

    /// <summary>One armed stall: <see cref="Reached"/> once a commit's thread is held, which <see cref="Release"/> lets go.</summary>
    public sealed class Stall
    {
        private readonly TaskCompletionSource _reached = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly ManualResetEventSlim _released = new();

        public Task Reached => _reached.Task;

        public void Release() => _released.Set();

        internal void Hold()
        {
            _reached.TrySetResult();
            // Blocks the calling thread, as a slow synchronous step does; bounded so that a failing test cannot hang the run.
            _released.Wait(TimeSpan.FromMinutes(1));
        }
    }
}

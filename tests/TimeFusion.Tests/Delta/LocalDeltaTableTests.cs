using System.Diagnostics;
using TimeFusion.Delta;
using TimeFusion.Delta.Actions;
using TimeFusion.Storage;
using TimeFusion.Tables;
using TimeFusion.Tests.Infrastructure;
using Xunit.Abstractions;

namespace TimeFusion.Tests.Delta;

/// <summary>The Delta table behaviour over <see cref="LocalObjectStore"/> in a temporary folder.</summary>
public sealed class LocalDeltaTableTests(ITestOutputHelper output) : DeltaTableTestsBase, IDisposable
{
    private readonly TempDirectory _dir = new();

    protected override IObjectStore CreateStore() => new LocalObjectStore(Path.Combine(_dir.Path, Guid.NewGuid().ToString("N")));

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task Thousand_commits_load_the_same_with_and_without_checkpoint()
    {
        var store = CreateStore();
        const string root = "projects/bench/events";
        var id = new TableId("bench", "events");
        var table = new DeltaTable(store, root, new DeltaOptions { CheckpointInterval = 0 });
        var s = await table.OpenOrCreateAsync(id, DeltaTestData.Schema);
        const int commits = 1000;
        var day = DeltaTestData.Micros(2024, 6, 1);
        var sw = Stopwatch.StartNew();
        for (var i = 1; i <= commits; i++)
        {
            var t = day + i * 60_000_000L;
            s = await table.CommitAsync(s, [DeltaTestData.Add(t, t + 59_000_000L, 100), new TransactionAction(id.ToString(), i)], "WRITE");
        }
        sw.Stop();
        var commitSeconds = sw.Elapsed.TotalSeconds;
        var commitRate = commits / commitSeconds;

        var jsonOnly = new DeltaTable(store, root);
        var (withoutCheckpoint, jsonMs) = await TimeAsync(() => jsonOnly.LoadSnapshotAsync());
        Assert.Null(withoutCheckpoint!.CheckpointVersion);

        sw.Restart();
        await table.WriteCheckpointAsync(s);
        var checkpointMs = sw.Elapsed.TotalMilliseconds;
        var (withCheckpoint, checkpointLoadMs) = await TimeAsync(() => new DeltaTable(store, root).LoadSnapshotAsync());
        Assert.Equal(commits, withCheckpoint!.CheckpointVersion);

        Assert.Equal(commits, withCheckpoint.Files.Count);
        Assert.Equal(commits, withCheckpoint.TxnVersion(id.ToString()));
        Assert.Equal(DeltaTestData.Fingerprint(withoutCheckpoint), DeltaTestData.Fingerprint(withCheckpoint));
        Assert.Equal(DeltaTestData.Fingerprint(s), DeltaTestData.Fingerprint(withCheckpoint));

        output.WriteLine($"commits: {commits} in {commitSeconds:F2}s -> {commitRate:F0} commits/s (local disk, no checkpoints)");
        output.WriteLine($"load 1,000 commits, JSON replay: {jsonMs:F1} ms; write checkpoint: {checkpointMs:F1} ms; load from checkpoint: {checkpointLoadMs:F1} ms");
    }

    private static async Task<(T Result, double Ms)> TimeAsync<T>(Func<Task<T>> run)
    {
        await run(); // warm up (JIT, file cache)
        var best = double.MaxValue;
        T result = default!;
        for (var i = 0; i < 3; i++)
        {
            var sw = Stopwatch.StartNew();
            result = await run();
            best = Math.Min(best, sw.Elapsed.TotalMilliseconds);
        }
        return (result, best);
    }
}

using TimeFusion.Delta;
using TimeFusion.Engine;
using TimeFusion.Storage;
using TimeFusion.Tables;
using TimeFusion.Tests.Infrastructure;
using TimeFusion.Tests.Query.Execution;
using Xunit.Abstractions;

namespace TimeFusion.Tests.Maintenance;

/// <summary>OPTIMIZE at the engine level: 500 small flushes merged, answers unchanged, old snapshots readable, races with DML.</summary>
public sealed class OptimizeTests(ITestOutputHelper output) : IAsyncLifetime
{
    private static readonly TableId Id = new("p1", "events");
    private readonly TempDirectory _dir = new();
    private ExecutionTestKit _kit = null!;

    public Task InitializeAsync()
    {
        _kit = new ExecutionTestKit(_dir.Path);
        // Hundreds of tiny flushes: fsync per commit and a checkpoint every 10 versions would dominate the run.
        _kit.Options.Wal.SyncMode = TimeFusion.Wal.WalSyncMode.Interval;
        _kit.Options.Delta.CheckpointInterval = 100;
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await _kit.DisposeAsync();
        _dir.Dispose();
    }

    /// <summary>Rows in time order, flushed <paramref name="flushes"/> times (each flush touches one or two date partitions).</summary>
    private static async Task<List<ExecutionTestKit.EventRow>> LoadInSmallFlushesAsync(TableEngine engine, int flushes, int rowsPerFlush, int seed = 1)
    {
        var rows = ExecutionTestKit.Rows(seed, flushes * rowsPerFlush).OrderBy(r => r.TimestampMicros).ToList();
        foreach (var chunk in rows.Chunk(rowsPerFlush))
        {
            await engine.InsertAsync(ExecutionTestKit.Batch(chunk));
            await engine.FlushAsync();
        }
        return rows;
    }

    [Fact]
    public async Task Five_hundred_small_flushes_then_OPTIMIZE_leave_at_most_two_files_per_partition_and_every_answer_unchanged()
    {
        var engine = await _kit.OpenAsync(Id);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        await LoadInSmallFlushesAsync(engine, 500, 10);
        output.WriteLine($"500 flushes in {clock.Elapsed}");
        await engine.InsertAsync(ExecutionTestKit.Batch(ExecutionTestKit.Rows(2, 300))); // buffered rows too
        var before = await MaintenanceKit.RunAllAsync(_kit, engine);
        var filesBefore = engine.DeltaSnapshot.Files.Count;
        var matching404 = MaintenanceKit.Count(await MaintenanceKit.RunAsync(_kit, engine, "SELECT count(*) FROM events WHERE status = 404"));
        using var old = engine.OpenSnapshot(); // a query running across the OPTIMIZE

        clock.Restart();
        var result = await engine.OptimizeAsync();
        output.WriteLine($"OPTIMIZE in {clock.Elapsed}");

        var after = engine.DeltaSnapshot;
        output.WriteLine($"{filesBefore} files before, {after.Files.Count} after; {result}");
        Assert.Equal(0, result.SkippedBins);
        Assert.True(result.FilesRemoved >= filesBefore - 2 * MaintenanceKit.FilesPerPartition(after).Count);
        Assert.All(MaintenanceKit.FilesPerPartition(after), p => Assert.True(p.Value <= 2, $"partition {p.Key} has {p.Value} files"));
        Assert.Equal(before, await MaintenanceKit.RunAllAsync(_kit, engine));
        Assert.Equal(before, await MaintenanceKit.RunAllAsync(_kit, engine, old)); // the old snapshot reads its own (removed) files

        // History: one OPTIMIZE commit, every add and remove with dataChange false.
        var commit = await MaintenanceKit.CommitTextAsync(_kit.Objects, Id, result.DeltaVersion!.Value);
        Assert.Contains("\"operation\":\"OPTIMIZE\"", commit);
        var lines = commit.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(result.FilesRemoved, lines.Count(l => l.StartsWith("{\"remove\"", StringComparison.Ordinal)));
        Assert.Equal(result.FilesAdded, lines.Count(l => l.StartsWith("{\"add\"", StringComparison.Ordinal)));
        Assert.All(lines.Where(l => l.StartsWith("{\"add\"", StringComparison.Ordinal) || l.StartsWith("{\"remove\"", StringComparison.Ordinal)),
            l => Assert.Contains("\"dataChange\":false", l));

        // Our reader on every version (from the log alone and through checkpoints), and DuckDB over the active files.
        var table = new DeltaTable(_kit.Objects, StoragePathNames.DeltaTableRoot(Id));
        foreach (var v in new[] { 1L, after.Version / 2, after.Version - 1, after.Version })
            Assert.NotNull(await table.LoadSnapshotAsync(v));
        var reloaded = await table.LoadSnapshotAsync();
        Assert.Equal(after.Files.Select(f => f.Path).Order(), reloaded!.Files.Select(f => f.Path).Order());

        // DML after OPTIMIZE finds the same rows.
        Assert.Equal(matching404, await engine.DeleteAsync("status = 404"));

        // VACUUM keeps what the held snapshot reads; once it is released, the merged-away files go.
        var kept = await engine.VacuumAsync(TimeSpan.Zero);
        Assert.Equal(before, await MaintenanceKit.RunAllAsync(_kit, engine, old));
        old.Dispose();
        var vacuumed = await engine.VacuumAsync(TimeSpan.Zero);
        output.WriteLine($"vacuum while held: {kept}; after release: {vacuumed}");
        Assert.True(vacuumed.FilesDeleted >= result.FilesRemoved - kept.FilesDeleted);
        var onDisk = await MaintenanceKit.DataFilesAsync(_kit.Objects, Id);
        Assert.Equal(engine.DeltaSnapshot.Files.Select(f => f.DataPath).ToHashSet(), onDisk);
        Assert.NotEqual(before[0], await MaintenanceKit.RunAsync(_kit, engine, MaintenanceKit.Queries[0])); // the 404 delete shows
    }

    [Fact]
    public async Task A_DML_that_commits_first_makes_OPTIMIZE_replan_and_deleted_rows_stay_deleted()
    {
        var engine = await _kit.OpenAsync(Id);
        await LoadInSmallFlushesAsync(engine, 40, 25);
        var total = MaintenanceKit.Count(await MaintenanceKit.RunAsync(_kit, engine, "SELECT count(*) FROM events"));
        long deleted = 0;
        var raced = 0;
        engine.BeforeOptimizeCommit = async () =>
        {
            if (Interlocked.Increment(ref raced) == 1)
                deleted = await engine.DeleteAsync("service = 'api'"); // rewrites files OPTIMIZE has just merged
        };
        var result = await engine.OptimizeAsync();
        output.WriteLine($"deleted {deleted}, {result}");
        Assert.True(deleted > 0);
        Assert.True(result.SkippedBins > 0, "the DML removed OPTIMIZE's inputs: its first plan must be dropped");
        Assert.True(raced >= 2, "OPTIMIZE planned again on the new snapshot");
        Assert.Equal("0\n", (await MaintenanceKit.RunAsync(_kit, engine, "SELECT count(*) FROM events WHERE service = 'api'")).Replace("\r", ""));
        Assert.Equal(total - deleted, MaintenanceKit.Count(await MaintenanceKit.RunAsync(_kit, engine, "SELECT count(*) FROM events")));
        // The dropped outputs were deleted; only live files and the merged-away inputs (for VACUUM) remain.
        await engine.VacuumAsync(TimeSpan.Zero);
        Assert.Equal(engine.DeltaSnapshot.Files.Select(f => f.DataPath).ToHashSet(), await MaintenanceKit.DataFilesAsync(_kit.Objects, Id));
    }

    [Fact]
    public async Task OPTIMIZE_racing_with_ingest_flushes_DML_and_queries_loses_and_doubles_nothing()
    {
        var engine = await _kit.OpenAsync(Id);
        var preloaded = await LoadInSmallFlushesAsync(engine, 60, 20);
        using var stop = new CancellationTokenSource();
        long insertedRows = 0, insertedDuration = 0, optimizations = 0, queries = 0;
        var ingest = Task.Run(async () =>
        {
            for (var i = 0; !stop.IsCancellationRequested || i < 30; i++)
            {
                var rows = ExecutionTestKit.Rows(100 + i, 20).Select(r => r with { Service = "ingest" }).ToList();
                await engine.InsertAsync(ExecutionTestKit.Batch(rows));
                insertedRows += rows.Count;
                insertedDuration += rows.Sum(r => r.Duration);
                if (i % 2 == 0) await engine.FlushAsync();
            }
        });
        var optimize = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                if ((await engine.OptimizeAsync()).FilesAdded > 0) Interlocked.Increment(ref optimizations);
            }
        });
        var query = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                var n = MaintenanceKit.Count(await MaintenanceKit.RunAsync(_kit, engine, "SELECT count(*) FROM events WHERE service NOT IN ('ingest', 'db', 'filler')"));
                Assert.Equal(preloaded.Count(r => r.Service is not "db"), n);
                Interlocked.Increment(ref queries);
            }
        });
        var dml = await engine.DeleteAsync("service = 'db'");
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while ((Interlocked.Read(ref optimizations) < 3 || Interlocked.Read(ref queries) < 5) && DateTime.UtcNow < deadline && !ingest.IsFaulted && !query.IsFaulted && !optimize.IsFaulted)
        {
            await engine.InsertAsync(ExecutionTestKit.Batch(ExecutionTestKit.Rows(7, 10).Select(r => r with { Service = "filler", Duration = 0 }).ToList()));
            await engine.FlushAsync();
        }
        await stop.CancelAsync();
        await Task.WhenAll(ingest, optimize, query);
        output.WriteLine($"{optimizations} optimizations, {queries} queries, {dml} deleted by DML");
        Assert.True(optimizations >= 3 && queries >= 5);
        Assert.Equal(preloaded.Count(r => r.Service == "db"), dml);
        var answer = await MaintenanceKit.RunAsync(_kit, engine,
            "SELECT count(*) FILTER (WHERE service = 'ingest'), coalesce(sum(duration) FILTER (WHERE service = 'ingest'), 0), count(*) FILTER (WHERE service = 'db'), count(*) FILTER (WHERE service NOT IN ('ingest', 'db', 'filler')) FROM events");
        var parts = answer.Trim().Split(" | ");
        Assert.Equal(insertedRows.ToString(), parts[0]);
        Assert.Equal(insertedDuration.ToString(), parts[1]);
        Assert.Equal("0", parts[2]);
        Assert.Equal(preloaded.Count(r => r.Service != "db").ToString(), parts[3]);
    }
}

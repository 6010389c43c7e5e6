using TimeFusion.Delta;
using TimeFusion.Engine;
using TimeFusion.Storage;
using TimeFusion.Tables;
using TimeFusion.Tests.Delta;
using TimeFusion.Tests.Engine;
using TimeFusion.Tests.Infrastructure;

namespace TimeFusion.Tests.Maintenance;

/// <summary>VACUUM and log cleanup at the engine level, on a clock the test moves.</summary>
public sealed class VacuumTests : IAsyncLifetime
{
    private static readonly TableId Id = new("p1", "events");
    private readonly TempDirectory _dir = new();
    private readonly ManualClock _clock = new(DateTimeOffset.UtcNow);
    private EngineTestKit _kit = null!;
    private TableEngine _engine = null!;

    public async Task InitializeAsync()
    {
        var options = new EngineOptions();
        options.Maintenance.Clock = _clock;
        options.Delta.Clock = _clock;
        options.Delta.CheckpointInterval = 5;
        options.Maintenance.LogRetention = TimeSpan.FromDays(1);
        _kit = new EngineTestKit(_dir.Path, options: options);
        _engine = await _kit.OpenAsync(Id);
    }

    public async Task DisposeAsync()
    {
        await _engine.DisposeAsync();
        await _kit.DisposeAsync();
        _dir.Dispose();
    }

    private string Root => StoragePathNames.DeltaTableRoot(Id);

    private async Task FlushesAsync(int n)
    {
        for (var i = 0; i < n; i++)
        {
            await _engine.InsertAsync(EngineTestKit.Rows($"b{Guid.NewGuid():N}", 20, i));
            await _engine.FlushAsync();
        }
    }

    private async Task<HashSet<string>> DataFilesAsync() => await MaintenanceKit.DataFilesAsync(_kit.Objects, Id);

    [Fact]
    public async Task Files_removed_within_the_window_stay_until_it_passes_and_their_version_stays_readable()
    {
        await FlushesAsync(6);
        var beforeVersion = _engine.DeltaSnapshot.Version;
        var beforeFiles = _engine.DeltaSnapshot.Files.Select(f => f.DataPath).ToHashSet();
        using (var s = _engine.OpenSnapshot()) { var c = await _kit.CountAsync(s); Assert.Equal((120L, 120L), (c.Rows, c.DistinctIds)); }
        var optimized = await _engine.OptimizeAsync();
        Assert.Equal(beforeFiles.Count, optimized.FilesRemoved);

        Assert.Equal(0, (await _engine.VacuumAsync()).FilesDeleted); // within 7 days: time travel still reads them
        var table = new DeltaTable(_kit.Objects, Root);
        var old = await table.LoadSnapshotAsync(beforeVersion);
        Assert.Equal(beforeFiles, old!.Files.Select(f => f.DataPath).ToHashSet());
        Assert.True(beforeFiles.IsSubsetOf(await DataFilesAsync()));

        _clock.Now += TimeSpan.FromDays(8);
        var vacuum = await _engine.VacuumAsync();
        Assert.Equal(beforeFiles.Count, vacuum.FilesDeleted);
        Assert.Equal(_engine.DeltaSnapshot.Files.Select(f => f.DataPath).ToHashSet(), await DataFilesAsync());
        using (var s = _engine.OpenSnapshot()) { var c = await _kit.CountAsync(s); Assert.Equal((120L, 120L), (c.Rows, c.DistinctIds)); }
    }

    [Fact]
    public async Task Orphans_go_once_older_than_the_window_and_the_log_and_hidden_files_are_never_touched()
    {
        await FlushesAsync(2);
        var orphan = Root + "/date=2026-11-24/part-00000-orphan.zstd.parquet";
        var hidden = Root + "/_hidden/keep.parquet";
        await _kit.Objects.PutAsync(orphan, new byte[] { 1, 2, 3 });
        await _kit.Objects.PutAsync(hidden, new byte[] { 4 });
        Assert.Equal(0, (await _engine.VacuumAsync()).FilesDeleted); // young: might be a writer's upload
        Assert.True(await _kit.Objects.ExistsAsync(orphan));
        _clock.Now += TimeSpan.FromDays(8);
        var vacuum = await _engine.VacuumAsync();
        Assert.Equal(1, vacuum.OrphansDeleted);
        Assert.False(await _kit.Objects.ExistsAsync(orphan));
        Assert.True(await _kit.Objects.ExistsAsync(hidden));
        Assert.Equal(_engine.DeltaSnapshot.Files.Select(f => f.DataPath).Append("_hidden/keep.parquet").ToHashSet(), await DataFilesAsync());
    }

    [Fact]
    public async Task Log_cleanup_keeps_the_newest_expired_checkpoint_and_every_commit_after_it()
    {
        await FlushesAsync(22); // versions 1..22, checkpoints at 5, 10, 15, 20
        var latest = _engine.DeltaSnapshot;
        _clock.Now += TimeSpan.FromDays(2);
        var vacuum = await _engine.VacuumAsync();
        var log = (await _kit.Objects.ListAsync(DeltaLogPaths.LogPrefix(Root))).Select(o => o.Path[(o.Path.LastIndexOf('/') + 1)..]).ToList();
        Assert.Equal(20 + 3, vacuum.LogFilesDeleted); // commits 0..19 and checkpoints 5, 10, 15
        Assert.Contains(log, n => n.EndsWith("00020.checkpoint.parquet", StringComparison.Ordinal));
        Assert.DoesNotContain(log, n => n.EndsWith("00019.json", StringComparison.Ordinal));

        var table = new DeltaTable(_kit.Objects, Root);
        var reloaded = await table.LoadSnapshotAsync();
        Assert.Equal(latest.Version + 1, reloaded!.Version); // + the VACUUM END commit recording when it ran
        Assert.Equal(_engine.DeltaSnapshot.Version, reloaded.Version);
        Assert.Equal(latest.Files.Select(f => f.Path).Order(), reloaded.Files.Select(f => f.Path).Order());
        Assert.NotNull(await table.LoadSnapshotAsync(21));
        await Assert.ThrowsAsync<DeltaVersionNotFoundException>(() => table.LoadSnapshotAsync(12));
        // The engine reopens from what is left.
        await _engine.DisposeAsync();
        _engine = await _kit.OpenAsync(Id);
        using var s = _engine.OpenSnapshot();
        Assert.Equal(22L * 20, (await _kit.CountAsync(s)).Rows);
    }

    [Fact]
    public async Task Temporary_files_a_crash_left_go_once_older_than_the_window()
    {
        await FlushesAsync(1);
        string[] temps =
        [
            Root + "/date=2026-11-24/part-00000-x.zstd.parquet.tmp-" + Guid.NewGuid().ToString("N"),
            DeltaLogPaths.CommitPath(Root, 99) + ".tmp-" + Guid.NewGuid().ToString("N"),
        ];
        foreach (var t in temps)
        {
            var full = _kit.Objects.FullPath(t);
            Directory.CreateDirectory(Path.GetDirectoryName(full)!);
            await File.WriteAllBytesAsync(full, new byte[] { 1, 2, 3, 4 });
        }
        var live = await DataFilesAsync();
        Assert.Equal(0, (await _engine.VacuumAsync()).FilesDeleted); // young: may be a write in progress
        Assert.Equal(0, (await _engine.VacuumAsync(TimeSpan.Zero)).FilesDeleted); // even with RETAIN 0 HOURS
        Assert.All(temps, t => Assert.True(File.Exists(_kit.Objects.FullPath(t))));

        _clock.Now += TimeSpan.FromDays(8);
        var vacuum = await _engine.VacuumAsync();
        Assert.Equal((2, 2, 8L), (vacuum.FilesDeleted, vacuum.OrphansDeleted, vacuum.BytesDeleted));
        Assert.All(temps, t => Assert.False(File.Exists(_kit.Objects.FullPath(t))));
        Assert.Equal(live, await DataFilesAsync());
        using var s = _engine.OpenSnapshot();
        Assert.Equal(20L, (await _kit.CountAsync(s)).Rows);
    }

    [Fact]
    public async Task Last_vacuum_is_recorded_in_the_Delta_log_and_survives_a_restart()
    {
        await FlushesAsync(1);
        Assert.Null(_engine.LastVacuum);
        _clock.Now = DateTimeOffset.FromUnixTimeMilliseconds(_clock.Now.ToUnixTimeMilliseconds()) + TimeSpan.FromHours(1); // the log keeps ms
        var at = _clock.GetUtcNow();
        await _engine.VacuumAsync();
        Assert.Equal(at, _engine.LastVacuum);
        var version = _engine.DeltaSnapshot.Version;
        var commit = await MaintenanceKit.CommitTextAsync(_kit.Objects, Id, version);
        Assert.Contains("\"operation\":\"VACUUM END\"", commit, StringComparison.Ordinal);
        Assert.DoesNotContain("\"add\"", commit, StringComparison.Ordinal);
        Assert.DoesNotContain("\"remove\"", commit, StringComparison.Ordinal);

        await _engine.DisposeAsync();
        _clock.Now += TimeSpan.FromHours(1);
        _engine = await _kit.OpenAsync(Id);
        Assert.Equal(at, _engine.LastVacuum);
        // The schedule continues from it: not due again before the interval (6 h) has passed since then.
        await _engine.RunScheduledMaintenanceAsync();
        Assert.Equal(version, _engine.DeltaSnapshot.Version);
        _clock.Now += TimeSpan.FromHours(5);
        await _engine.RunScheduledMaintenanceAsync();
        Assert.Equal(_clock.GetUtcNow(), _engine.LastVacuum);
        using var s = _engine.OpenSnapshot();
        Assert.Equal(20L, (await _kit.CountAsync(s)).Rows);
    }
}

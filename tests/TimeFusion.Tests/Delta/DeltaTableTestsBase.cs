using System.Text;
using System.Text.Json;
using DuckDB.NET.Data;
using TimeFusion.Delta;
using TimeFusion.Delta.Actions;
using TimeFusion.Storage;
using TimeFusion.Tables;

namespace TimeFusion.Tests.Delta;

/// <summary>
/// Behaviour of <see cref="DeltaTable"/> over any <see cref="IObjectStore"/>: subclasses supply the store
/// (local disk here; Azure Blob on Azurite elsewhere). Each test uses a fresh table root.
/// </summary>
public abstract class DeltaTableTestsBase
{
    private static readonly TableId Id = new("project-1", "events");

    /// <summary>A store for one test (an empty container or folder).</summary>
    protected abstract IObjectStore CreateStore();

    private static string NewRoot() => "projects/p-" + Guid.NewGuid().ToString("N")[..8] + "/events";

    private static DeltaTable Table(IObjectStore store, string root, int interval = 10, TimeProvider? clock = null) =>
        new(store, root, new DeltaOptions { CheckpointInterval = interval, Clock = clock ?? TimeProvider.System });

    private static async Task<DeltaSnapshot> FlushAsync(DeltaTable table, DeltaSnapshot snapshot, string appId, long lsn, params AddFile[] files) =>
        await table.CommitAsync(snapshot, [.. files, new TransactionAction(appId, lsn)], "WRITE");

    [Fact]
    public async Task Create_commit_and_replay_give_the_same_snapshot()
    {
        var store = CreateStore();
        var root = NewRoot();
        var table = Table(store, root);
        var s0 = await table.OpenOrCreateAsync(Id, DeltaTestData.Schema);
        Assert.Equal(0, s0.Version);
        Assert.Equal(1, s0.Protocol.MinReaderVersion);
        Assert.Equal(2, s0.Protocol.MinWriterVersion);
        Assert.Equal(["date"], s0.Metadata.PartitionColumns);
        Assert.Equal(Id, s0.Identity);
        Assert.Equal(DeltaTestData.Schema.Columns, s0.TryGetTableSchema()!.Columns);
        Assert.Null(s0.TxnVersion(Id.ToString()));

        var a = DeltaTestData.Add(DeltaTestData.Micros(2024, 5, 1, 1), DeltaTestData.Micros(2024, 5, 1, 2), 10);
        var b = DeltaTestData.Add(DeltaTestData.Micros(2024, 5, 2, 1), DeltaTestData.Micros(2024, 5, 2, 3), 20);
        var s1 = await FlushAsync(table, s0, Id.ToString(), 7, a, b);
        var c = DeltaTestData.Add(DeltaTestData.Micros(2024, 5, 2, 4), DeltaTestData.Micros(2024, 5, 2, 5), 5);
        // DML: rewrite b as c in one version.
        var s2 = await table.CommitAsync(s1, [RemoveFile.For(s1.Files.Single(f => f.Path == b.Path), 1_700_000_000_123), c], "DELETE");
        Assert.Equal(2, s2.Version);
        Assert.Equal(new[] { a.Path, c.Path }.Order(StringComparer.Ordinal), s2.Files.Select(f => f.Path).Order(StringComparer.Ordinal));
        Assert.Equal(7, s2.TxnVersion(Id.ToString()));
        Assert.Equal(15, s2.TryCountRecords());

        // A fresh reader replays the log to the same state.
        var reloaded = await Table(store, root).LoadSnapshotAsync();
        Assert.NotNull(reloaded);
        Assert.Equal(DeltaTestData.Fingerprint(s2), DeltaTestData.Fingerprint(reloaded));
        Assert.Equal(new DateOnly(2024, 5, 2), reloaded.Files.Single(f => f.Path == c.Path).ParsedPartitionValues!["date"]);

        // Time travel.
        var v1 = await Table(store, root).LoadSnapshotAsync(1);
        Assert.Equal(DeltaTestData.Fingerprint(s1), DeltaTestData.Fingerprint(v1!));
        await Assert.ThrowsAsync<DeltaVersionNotFoundException>(() => Table(store, root).LoadSnapshotAsync(3));

        // Opening again finds the table instead of creating it.
        var opened = await table.OpenOrCreateAsync(Id, DeltaTestData.Schema);
        Assert.Equal(2, opened.Version);
    }

    [Fact]
    public async Task No_table_loads_as_null()
    {
        Assert.Null(await Table(CreateStore(), NewRoot()).LoadSnapshotAsync());
        await Assert.ThrowsAsync<DeltaTableNotFoundException>(() => Table(CreateStore(), NewRoot()).OpenAsync(Id));
    }

    [Fact]
    public async Task A_reader_catches_up_with_only_the_newer_commits()
    {
        var store = CreateStore();
        var root = NewRoot();
        var writer = Table(store, root, interval: 4);
        var s = await writer.OpenOrCreateAsync(Id, DeltaTestData.Schema);
        var reader = Table(store, root);
        var seen = (await reader.LoadSnapshotAsync())!;
        Assert.Same(seen, await reader.UpdateSnapshotAsync(seen));
        for (var i = 1; i <= 6; i++)
        {
            s = await FlushAsync(writer, s, "app", i, DeltaTestData.Add(DeltaTestData.Micros(2024, 4, i), DeltaTestData.Micros(2024, 4, i, 1), i));
            if (i % 3 == 0)
            {
                seen = await reader.UpdateSnapshotAsync(seen);
                Assert.Equal(DeltaTestData.Fingerprint(s), DeltaTestData.Fingerprint(seen));
            }
        }
        Assert.Equal(6, seen.TxnVersion("app"));
    }

    [Fact]
    public async Task Commit_file_is_protocol_json_any_delta_reader_understands()
    {
        var store = CreateStore();
        var root = NewRoot();
        var table = Table(store, root);
        var s0 = await table.OpenOrCreateAsync(Id, DeltaTestData.Schema);
        var add = DeltaTestData.Add(DeltaTestData.Micros(2024, 2, 29, 23), DeltaTestData.Micros(2024, 2, 29, 23) + 123_456, 3);
        await FlushAsync(table, s0, Id.ToString(), 42, add);

        var lines = Encoding.UTF8.GetString(await store.ReadAllAsync(DeltaLogPaths.CommitPath(root, 1))).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(3, lines.Length);
        using var info = JsonDocument.Parse(lines[0]);
        Assert.Equal("WRITE", info.RootElement.GetProperty("commitInfo").GetProperty("operation").GetString());
        Assert.Equal(0, info.RootElement.GetProperty("commitInfo").GetProperty("readVersion").GetInt64());

        using var addDoc = JsonDocument.Parse(lines[1]);
        var a = addDoc.RootElement.GetProperty("add");
        Assert.StartsWith("date=2024-02-29/part-", a.GetProperty("path").GetString());
        Assert.Equal("2024-02-29", a.GetProperty("partitionValues").GetProperty("date").GetString());
        Assert.True(a.GetProperty("dataChange").GetBoolean());
        using var stats = JsonDocument.Parse(a.GetProperty("stats").GetString()!);
        Assert.Equal(3, stats.RootElement.GetProperty("numRecords").GetInt64());
        Assert.Equal("2024-02-29T23:00:00.123456Z", stats.RootElement.GetProperty("maxValues").GetProperty("timestamp").GetString());
        Assert.Equal(1, stats.RootElement.GetProperty("nullCount").GetProperty("message").GetInt64());

        using var txn = JsonDocument.Parse(lines[2]);
        Assert.Equal(Id.ToString(), txn.RootElement.GetProperty("txn").GetProperty("appId").GetString());
        Assert.Equal(42, txn.RootElement.GetProperty("txn").GetProperty("version").GetInt64());

        using var meta = JsonDocument.Parse(Encoding.UTF8.GetString(await store.ReadAllAsync(DeltaLogPaths.CommitPath(root, 0))).Split('\n')[2]);
        var config = meta.RootElement.GetProperty("metaData").GetProperty("configuration");
        Assert.Equal("project-1", config.GetProperty("timefusion.project").GetString());
        Assert.Equal("events", config.GetProperty("timefusion.table").GetString());
    }

    [Fact]
    public async Task Checkpoints_are_written_every_n_commits_and_load_like_a_json_replay()
    {
        var store = CreateStore();
        var root = NewRoot();
        var clock = new ManualClock(new DateTimeOffset(2025, 1, 1, 0, 0, 0, TimeSpan.Zero));
        var table = Table(store, root, interval: 5, clock);
        var s = await table.OpenOrCreateAsync(Id, DeltaTestData.Schema);
        var day = DeltaTestData.Micros(2024, 1, 1);
        var now = clock.Now.ToUnixTimeMilliseconds();
        for (var i = 1; i <= 12; i++)
        {
            var add = DeltaTestData.Add(day + i * 3_600_000_000L, day + i * 3_600_000_000L + 1000, i);
            IReadOnlyList<DeltaAction> actions = i % 4 == 0
                ? [RemoveFile.For(s.Files.OrderBy(f => f.Path, StringComparer.Ordinal).First(), now + i), add, new TransactionAction("app", i)]
                : [add, new TransactionAction("app", i), new TransactionAction("other-" + (i % 3), i * 10)];
            s = await table.CommitAsync(s, actions, i % 4 == 0 ? "DELETE" : "WRITE");
        }
        Assert.Equal(12, s.Version);
        Assert.True(await store.ExistsAsync(DeltaLogPaths.CheckpointPath(root, 5)));
        Assert.True(await store.ExistsAsync(DeltaLogPaths.CheckpointPath(root, 10)));
        Assert.False(await store.ExistsAsync(DeltaLogPaths.CheckpointPath(root, 12)));
        var pointer = LastCheckpoint.TryParse(await store.ReadAllAsync(DeltaLogPaths.LastCheckpointPath(root)));
        Assert.Equal(10, pointer!.Version);
        Assert.Equal(2 + 4 + 8 + 2, pointer.Size); // protocol, metaData, 4 txns (app, other-0..2), 8 files, 2 tombstones

        var fresh = Table(store, root);
        var fromCheckpoint = await fresh.LoadSnapshotAsync();
        var jsonOnly = await fresh.LoadSnapshotWithoutCheckpointsAsync();
        Assert.Equal(10, fromCheckpoint!.CheckpointVersion);
        Assert.Null(jsonOnly!.CheckpointVersion);
        Assert.Equal(DeltaTestData.Fingerprint(s), DeltaTestData.Fingerprint(fromCheckpoint));
        Assert.Equal(DeltaTestData.Fingerprint(jsonOnly), DeltaTestData.Fingerprint(fromCheckpoint));
        Assert.Equal(12, fromCheckpoint.TxnVersion("app"));
        Assert.Equal(110, fromCheckpoint.TxnVersion("other-2"));
        Assert.Equal(3, fromCheckpoint.Tombstones.Count);

        // Time travel to a version between checkpoints uses the older checkpoint.
        var v7 = await fresh.LoadSnapshotAsync(7);
        Assert.Equal(5, v7!.CheckpointVersion);
        Assert.Equal(DeltaTestData.Fingerprint((await fresh.LoadSnapshotWithoutCheckpointsAsync(7))!), DeltaTestData.Fingerprint(v7));

        // Delete every JSON commit before the checkpoint: the table still loads, the same.
        for (var v = 0; v < 10; v++) await store.DeleteAsync(DeltaLogPaths.CommitPath(root, v));
        var afterCleanup = await Table(store, root).LoadSnapshotAsync();
        Assert.Equal(DeltaTestData.Fingerprint(s), DeltaTestData.Fingerprint(afterCleanup!));
        await Assert.ThrowsAsync<DeltaVersionNotFoundException>(() => Table(store, root).LoadSnapshotAsync(7));
        await Assert.ThrowsAsync<DeltaLogCorruptException>(() => Table(store, root).LoadSnapshotWithoutCheckpointsAsync());

        // Commits continue on top of the checkpoint-loaded snapshot.
        var next = await FlushAsync(table, afterCleanup!, "app", 13, DeltaTestData.Add(day, day + 1, 1));
        Assert.Equal(13, next.Version);
        Assert.Equal(13, (await Table(store, root).LoadSnapshotAsync())!.TxnVersion("app"));
    }

    [Fact]
    public async Task Stale_missing_or_garbage_last_checkpoint_is_only_a_hint()
    {
        var store = CreateStore();
        var root = NewRoot();
        var table = Table(store, root, interval: 3);
        var s = await table.OpenOrCreateAsync(Id, DeltaTestData.Schema);
        for (var i = 1; i <= 7; i++) s = await FlushAsync(table, s, "app", i, DeltaTestData.Add(DeltaTestData.Micros(2024, 1, i), DeltaTestData.Micros(2024, 1, i, 5), i));
        var expected = DeltaTestData.Fingerprint(s);
        var pointer = DeltaLogPaths.LastCheckpointPath(root);

        await store.PutAsync(pointer, """{"size":4,"size_in_bytes":23521,"version":3}"""u8.ToArray());
        var stale = await Table(store, root).LoadSnapshotAsync();
        Assert.Equal(6, stale!.CheckpointVersion);
        Assert.Equal(expected, DeltaTestData.Fingerprint(stale));

        await store.PutAsync(pointer, "{not json"u8.ToArray());
        Assert.Equal(expected, DeltaTestData.Fingerprint((await Table(store, root).LoadSnapshotAsync())!));

        await store.DeleteAsync(pointer);
        var missing = await Table(store, root).LoadSnapshotAsync();
        Assert.Equal(6, missing!.CheckpointVersion);
        Assert.Equal(expected, DeltaTestData.Fingerprint(missing));

        // The next checkpoint rewrites the pointer.
        for (var i = 8; i <= 9; i++) s = await FlushAsync(table, s, "app", i, DeltaTestData.Add(DeltaTestData.Micros(2024, 2, i), DeltaTestData.Micros(2024, 2, i, 1), i));
        Assert.Equal(9, LastCheckpoint.TryParse(await store.ReadAllAsync(pointer))!.Version);
    }

    [Fact]
    public async Task Tombstones_keep_their_deletion_time_and_expire_from_checkpoints_after_retention()
    {
        var store = CreateStore();
        var root = NewRoot();
        var clock = new ManualClock(new DateTimeOffset(2025, 3, 1, 0, 0, 0, TimeSpan.Zero));
        var table = Table(store, root, interval: 0, clock);
        var s = await table.OpenOrCreateAsync(Id, DeltaTestData.Schema);
        s = await FlushAsync(table, s, "app", 1,
            DeltaTestData.Add(DeltaTestData.Micros(2025, 2, 1), DeltaTestData.Micros(2025, 2, 1, 1), 1),
            DeltaTestData.Add(DeltaTestData.Micros(2025, 2, 2), DeltaTestData.Micros(2025, 2, 2, 1), 2));
        var removedAt = clock.Now.ToUnixTimeMilliseconds();
        var victim = s.Files.First(f => f.ParsedPartitionValues!["date"] is DateOnly d && d.Day == 1);
        s = await table.CommitAsync(s, [RemoveFile.For(victim, removedAt)], "DELETE");

        var tombstone = Assert.Single(s.Tombstones);
        Assert.Equal(victim.Path, tombstone.Path);
        Assert.Equal(removedAt, tombstone.DeletionTimestamp);
        Assert.Equal(victim.Size, tombstone.Size);
        Assert.DoesNotContain(s.Files, f => f.Path == victim.Path);

        await table.WriteCheckpointAsync(s);
        var reloaded = await Table(store, root).LoadSnapshotAsync();
        Assert.Equal(2, reloaded!.CheckpointVersion);
        var kept = Assert.Single(reloaded.Tombstones);
        Assert.Equal(removedAt, kept.DeletionTimestamp);
        Assert.Equal(victim.PartitionValues["date"], kept.PartitionValues!["date"]);

        // Re-adding a removed path revives it and drops the tombstone.
        var revived = await table.CommitAsync(reloaded, [victim], "RESTORE");
        Assert.Empty(revived.Tombstones);
        var removedAgain = await table.CommitAsync(revived, [RemoveFile.For(victim, removedAt)], "DELETE");

        // Eight days later the tombstone is past the 7-day retention: the next checkpoint leaves it out.
        clock.Now = clock.Now.AddDays(8);
        await table.WriteCheckpointAsync(removedAgain);
        var expired = await Table(store, root).LoadSnapshotAsync();
        Assert.Equal(4, expired!.CheckpointVersion);
        Assert.Empty(expired.Tombstones);
        Assert.Single(expired.Files);
    }

    [Fact]
    public async Task Racing_writers_never_overwrite_each_other()
    {
        var store = CreateStore();
        var root = NewRoot();
        var setup = Table(store, root, interval: 0);
        var snapshot = await setup.OpenOrCreateAsync(Id, DeltaTestData.Schema);
        var committed = new List<string>();
        const int rounds = 40;
        for (var round = 0; round < rounds; round++)
        {
            var basis = await setup.LoadSnapshotAsync();
            // Even rounds: two different apps append blindly (rebase allowed). Odd rounds: both claim the same app
            // (two activations of one grain): exactly one may win.
            var sameApp = round % 2 == 1;
            var files = new[] { DeltaTestData.Add(DeltaTestData.Micros(2024, 1, 1), DeltaTestData.Micros(2024, 1, 2), 1), DeltaTestData.Add(DeltaTestData.Micros(2024, 1, 1), DeltaTestData.Micros(2024, 1, 2), 1) };
            using var gate = new Barrier(2);
            var tasks = Enumerable.Range(0, 2).Select(w => Task.Run(async () =>
            {
                var writer = Table(store, root, interval: 0);
                gate.SignalAndWait();
                try
                {
                    var after = await writer.CommitAsync(basis!, [files[w], new TransactionAction(sameApp ? "grain" : "grain-" + w, round)], "WRITE");
                    return (Winner: true, Version: after.Version, Error: (DeltaConcurrentCommitException?)null);
                }
                catch (DeltaConcurrentCommitException e)
                {
                    return (Winner: false, Version: -1L, Error: e);
                }
            })).ToArray();
            var results = await Task.WhenAll(tasks);
            var latest = (await setup.LoadSnapshotAsync())!;
            if (sameApp)
            {
                Assert.Equal(1, results.Count(r => r.Winner));
                var loser = results.Single(r => !r.Winner).Error!;
                Assert.Equal(basis!.Version + 1, loser.AttemptedVersion);
                Assert.Contains($"{basis.Version + 1}", loser.Message);
                Assert.Equal(basis.Version + 1, latest.Version);
            }
            else
            {
                Assert.All(results, r => Assert.True(r.Winner));
                Assert.Equal([basis!.Version + 1, basis.Version + 2], results.Select(r => r.Version).Order());
                Assert.Equal(basis.Version + 2, latest.Version);
            }
            for (var w = 0; w < 2; w++)
            {
                if (results[w].Winner) committed.Add(files[w].Path);
                else Assert.DoesNotContain(latest.Files, f => f.Path == files[w].Path);
            }
            // Every commit file holds exactly one writer's add: nothing was overwritten or merged.
            for (var v = basis.Version + 1; v <= latest.Version; v++)
            {
                var actions = DeltaJson.ParseCommit(await store.ReadAllAsync(DeltaLogPaths.CommitPath(root, v)), "test");
                Assert.Single(actions.OfType<AddFile>());
            }
        }
        var final = (await Table(store, root).LoadSnapshotAsync())!;
        Assert.Equal(committed.Order(StringComparer.Ordinal), final.Files.Select(f => f.Path).Order(StringComparer.Ordinal));
        Assert.Equal(rounds / 2 * 3, final.Version);
    }

    [Fact]
    public async Task A_stale_dml_commit_fails_cleanly_instead_of_rebasing()
    {
        var store = CreateStore();
        var root = NewRoot();
        var table = Table(store, root);
        var s0 = await table.OpenOrCreateAsync(Id, DeltaTestData.Schema);
        var s1 = await FlushAsync(table, s0, "app", 1, DeltaTestData.Add(DeltaTestData.Micros(2024, 1, 1), DeltaTestData.Micros(2024, 1, 1, 1), 3));
        var s2 = await FlushAsync(table, s1, "other", 1, DeltaTestData.Add(DeltaTestData.Micros(2024, 1, 2), DeltaTestData.Micros(2024, 1, 2, 1), 3));
        var e = await Assert.ThrowsAsync<DeltaConcurrentCommitException>(() =>
            table.CommitAsync(s1, [RemoveFile.For(s1.Files[0], 1), DeltaTestData.Add(DeltaTestData.Micros(2024, 1, 1), DeltaTestData.Micros(2024, 1, 1, 1), 2)], "DELETE"));
        Assert.Equal(2, e.AttemptedVersion);
        Assert.Equal(1, e.ReadVersion);
        Assert.Contains("not a blind append", e.Message);
        var latest = await table.LoadSnapshotAsync();
        Assert.Equal(DeltaTestData.Fingerprint(s2), DeltaTestData.Fingerprint(latest!));
    }

    [Fact]
    public async Task Invalid_commits_are_rejected_before_anything_is_written()
    {
        var store = CreateStore();
        var root = NewRoot();
        var table = Table(store, root);
        var s0 = await table.OpenOrCreateAsync(Id, DeltaTestData.Schema);
        var add = DeltaTestData.Add(DeltaTestData.Micros(2024, 1, 1), DeltaTestData.Micros(2024, 1, 1, 1), 3);
        await Assert.ThrowsAsync<ArgumentException>(() => table.CommitAsync(s0, [add, add], "WRITE"));
        await Assert.ThrowsAsync<ArgumentException>(() => table.CommitAsync(s0, [add with { PartitionValues = new Dictionary<string, string?>() }], "WRITE"));
        await Assert.ThrowsAsync<ArgumentException>(() => table.CommitAsync(s0, [RemoveFile.For(add, 1)], "DELETE"));
        await Assert.ThrowsAsync<ArgumentException>(() => table.CommitAsync(s0, [new TransactionAction("a", 1), new TransactionAction("a", 2)], "WRITE"));
        await Assert.ThrowsAsync<ArgumentException>(() => table.CommitAsync(s0, [new CommitInfoAction(), add], "WRITE"));
        await Assert.ThrowsAsync<ArgumentException>(() => table.CommitAsync(s0, [add with { Path = "s3://bucket/x.parquet" }], "WRITE"));
        await Assert.ThrowsAsync<ArgumentException>(() => table.CommitAsync(s0, [], "WRITE"));
        await Assert.ThrowsAsync<ArgumentException>(() => table.CommitAsync(s0, [add with { PartitionValues = new Dictionary<string, string?> { ["date"] = "2024-13-45" } }], "WRITE"));
        await Assert.ThrowsAsync<ArgumentException>(() => table.CommitAsync(s0, [add with { Stats = "{\"numRecords\":" }], "WRITE"));
        var unsupported = new ProtocolAction(3, 7, ["deletionVectors"], ["deletionVectors"]);
        var e = await Assert.ThrowsAsync<DeltaUnsupportedFeatureException>(() => table.CommitAsync(s0, [unsupported], "UPGRADE"));
        Assert.Contains("deletionVectors", e.Message);
        Assert.False(await store.ExistsAsync(DeltaLogPaths.CommitPath(root, 1)));
        Assert.Equal(0, (await table.LoadSnapshotAsync())!.Version);
    }

    [Fact]
    public async Task A_table_of_another_project_or_table_is_refused()
    {
        var store = CreateStore();
        var root = NewRoot();
        await Table(store, root).OpenOrCreateAsync(Id, DeltaTestData.Schema);

        // Another (project, table) whose names map to the same folder must not share the table.
        var other = new TableId("project-2", "events");
        var e = await Assert.ThrowsAsync<DeltaTableIdentityException>(() => Table(store, root).OpenOrCreateAsync(other, DeltaTestData.Schema));
        Assert.Contains("project-1", e.Message);
        Assert.Contains("project-2", e.Message);
        await Assert.ThrowsAsync<DeltaTableIdentityException>(() => Table(store, root).OpenAsync(new TableId("project-1", "events2")));
        Assert.Equal(Id, (await Table(store, root).OpenAsync(Id)).Identity);

        // A Delta table TimeFusion did not create (no identity) is refused as well.
        var foreignRoot = NewRoot();
        var created = await DeltaTableCreator.CreateAsync(Table(store, foreignRoot), DeltaTestData.Schema.ToDeltaSchemaString(), ["date"],
            new Dictionary<string, string>(), other);
        Assert.NotNull(created);
        Assert.Null(await DeltaTableCreator.CreateAsync(Table(store, foreignRoot), DeltaTestData.Schema.ToDeltaSchemaString(), ["date"],
            new Dictionary<string, string>(), other));
        await Assert.ThrowsAsync<DeltaTableIdentityException>(() => Table(store, foreignRoot).OpenAsync(Id));
    }

    [Fact]
    public async Task Corrupt_log_files_are_clear_errors()
    {
        var store = CreateStore();
        var root = NewRoot();
        var table = Table(store, root, interval: 2);
        var s = await table.OpenOrCreateAsync(Id, DeltaTestData.Schema);
        for (var i = 1; i <= 2; i++) s = await FlushAsync(table, s, "app", i, DeltaTestData.Add(DeltaTestData.Micros(2024, 1, i), DeltaTestData.Micros(2024, 1, i, 1), i));
        var checkpointPath = DeltaLogPaths.CheckpointPath(root, 2);
        var checkpoint = await store.ReadAllAsync(checkpointPath);

        // A truncated checkpoint, then random bytes: an exception naming the file, not a crash or a wrong snapshot.
        await store.PutAsync(checkpointPath, checkpoint.AsMemory(0, checkpoint.Length / 2));
        var truncated = await Assert.ThrowsAsync<DeltaLogCorruptException>(() => Table(store, root).LoadSnapshotAsync());
        Assert.Contains(checkpointPath, truncated.Message);
        var random = new byte[checkpoint.Length];
        new Random(42).NextBytes(random);
        "PAR1"u8.CopyTo(random);
        "PAR1"u8.CopyTo(random.AsSpan(random.Length - 4));
        await store.PutAsync(checkpointPath, random);
        await Assert.ThrowsAsync<DeltaLogCorruptException>(() => Table(store, root).LoadSnapshotAsync());
        await store.PutAsync(checkpointPath, checkpoint);
        Assert.Equal(DeltaTestData.Fingerprint(s), DeltaTestData.Fingerprint((await Table(store, root).LoadSnapshotAsync())!));

        // A commit that is not JSON.
        await store.PutAsync(DeltaLogPaths.CommitPath(root, 3), "{\"add\":{\"path\":"u8.ToArray());
        var badCommit = await Assert.ThrowsAsync<DeltaLogCorruptException>(() => Table(store, root).LoadSnapshotAsync());
        Assert.Contains("00000000000000000003.json line 1", badCommit.Message);

        // A log without protocol/metaData (a table whose first commit was lost).
        var orphanRoot = NewRoot();
        await store.PutAsync(DeltaLogPaths.CommitPath(orphanRoot, 0), DeltaJson.SerializeCommit([new TransactionAction("a", 1)]));
        Assert.Contains("no protocol", (await Assert.ThrowsAsync<DeltaLogCorruptException>(() => Table(store, orphanRoot).LoadSnapshotAsync())).Message);
    }

    [Fact]
    public async Task Multi_part_checkpoints_are_used_only_when_complete()
    {
        var store = CreateStore();
        var root = NewRoot();
        var table = Table(store, root, interval: 3);
        var s = await table.OpenOrCreateAsync(Id, DeltaTestData.Schema);
        for (var i = 1; i <= 4; i++) s = await FlushAsync(table, s, "app", i, DeltaTestData.Add(DeltaTestData.Micros(2024, 1, i), DeltaTestData.Micros(2024, 1, i, 1), i));
        var classic = await store.ReadAllAsync(DeltaLogPaths.CheckpointPath(root, 3));
        var log = DeltaLogPaths.LogPrefix(root);

        // One part of two at version 4 (a writer died half-way), holding garbage: ignored, version 3 is used.
        await store.PutAsync(log + "00000000000000000004.checkpoint.0000000001.0000000002.parquet", "garbage"u8.ToArray());
        var loaded = await Table(store, root).LoadSnapshotAsync();
        Assert.Equal(3, loaded!.CheckpointVersion);

        // Two complete parts at version 3 (both holding the full state: duplicates reconcile), classic file gone:
        // the parts are read; with commits 0..2 deleted, nothing else could give the state.
        await store.PutAsync(log + "00000000000000000003.checkpoint.0000000001.0000000002.parquet", classic);
        await store.PutAsync(log + "00000000000000000003.checkpoint.0000000002.0000000002.parquet", classic);
        await store.DeleteAsync(DeltaLogPaths.CheckpointPath(root, 3));
        for (var v = 0; v <= 2; v++) await store.DeleteAsync(DeltaLogPaths.CommitPath(root, v));
        var fromParts = await Table(store, root).LoadSnapshotAsync();
        Assert.Equal(3, fromParts!.CheckpointVersion);
        Assert.Equal(DeltaTestData.Fingerprint(s), DeltaTestData.Fingerprint(fromParts));
    }

    [Fact]
    public async Task A_log_reachable_only_through_a_v2_checkpoint_is_refused_by_name()
    {
        var store = CreateStore();
        var root = NewRoot();
        var v2Protocol = new ProtocolAction(3, 7, ["v2Checkpoint"], ["v2Checkpoint"]);
        var metadata = new MetadataAction { Id = "x", SchemaString = DeltaTestData.Schema.ToDeltaSchemaString(), PartitionColumns = ["date"] };
        var log = DeltaLogPaths.LogPrefix(root);
        await store.PutAsync(log + "00000000000000000005.checkpoint.80a083e8-7026-4e79-81be-64bd76c43a11.json",
            Encoding.UTF8.GetBytes("{\"checkpointMetadata\":{\"version\":5}}\n" + Encoding.UTF8.GetString(DeltaJson.SerializeCommit([v2Protocol, metadata]))));
        await store.PutAsync(DeltaLogPaths.CommitPath(root, 5), DeltaJson.SerializeCommit([new TransactionAction("a", 1)]));
        await store.PutAsync(DeltaLogPaths.CommitPath(root, 6), DeltaJson.SerializeCommit([new TransactionAction("a", 2)]));
        var e = await Assert.ThrowsAsync<DeltaUnsupportedFeatureException>(() => Table(store, root).LoadSnapshotAsync());
        Assert.Equal(["v2Checkpoint"], e.Features);
    }

    [Fact]
    public async Task Our_checkpoint_parquet_is_readable_by_duckdb()
    {
        var store = CreateStore();
        var root = NewRoot();
        var table = Table(store, root, interval: 3);
        var s = await table.OpenOrCreateAsync(Id, DeltaTestData.Schema);
        for (var i = 1; i <= 3; i++)
            s = await FlushAsync(table, s, "grain/" + i % 2, 100 + i, DeltaTestData.Add(DeltaTestData.Micros(2024, 3, i), DeltaTestData.Micros(2024, 3, i, 1), i));
        var local = await store.GetLocalPathAsync(DeltaLogPaths.CheckpointPath(root, 3));

        using var db = new DuckDBConnection("DataSource=:memory:");
        db.Open();
        var adds = Query(db, $"SELECT add.path, add.partitionValues['date'], add.size, json_extract(add.stats, '$.numRecords')::BIGINT FROM read_parquet({SqlNames.Literal(local)}) WHERE add IS NOT NULL ORDER BY 1");
        Assert.Equal(s.Files.OrderBy(f => f.Path, StringComparer.Ordinal).Select(f => $"{f.Path}|{f.PartitionValues["date"]}|{f.Size}|{f.GetStats()!.NumRecords}"), adds);
        var txns = Query(db, $"SELECT txn.appId, txn.version FROM read_parquet({SqlNames.Literal(local)}) WHERE txn IS NOT NULL ORDER BY 1");
        Assert.Equal(["grain/0|102", "grain/1|103"], txns);
        var protocol = Query(db, $"SELECT protocol.minReaderVersion, protocol.minWriterVersion FROM read_parquet({SqlNames.Literal(local)}) WHERE protocol IS NOT NULL");
        Assert.Equal(["1|2"], protocol);
        var meta = Query(db, $"SELECT metaData.partitionColumns[1], metaData.configuration['timefusion.project'], metaData.format.provider FROM read_parquet({SqlNames.Literal(local)}) WHERE metaData IS NOT NULL");
        Assert.Equal(["date|project-1|parquet"], meta);
    }

    private static List<string> Query(DuckDBConnection db, string sql)
    {
        using var cmd = db.CreateCommand();
        cmd.CommandText = sql;
        using var r = cmd.ExecuteReader();
        var rows = new List<string>();
        while (r.Read())
            rows.Add(string.Join("|", Enumerable.Range(0, r.FieldCount).Select(i => r.IsDBNull(i) ? "null" : Convert.ToString(r.GetValue(i), System.Globalization.CultureInfo.InvariantCulture))));
        return rows;
    }
}

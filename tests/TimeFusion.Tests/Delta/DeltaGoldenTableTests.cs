using DuckDB.NET.Data;
using TimeFusion.Delta;
using TimeFusion.Storage;
using TimeFusion.Tables;
using TimeFusion.Tests.Infrastructure;

namespace TimeFusion.Tests.Delta;

/// <summary>
/// Our reader against real tables written by Spark, Databricks and delta-rs (tests/TimeFusion.Tests/TestData/delta-golden, facts from
/// its MANIFEST.md). The folder is opened read-only: nothing may be written there.
/// </summary>
public sealed class DeltaGoldenTableTests
{
    private static readonly string GoldenRoot = Path.Combine(RepoPaths.TestData, "delta-golden");

    /// <summary>(table, latest version, active files, rows or null when unknown, refused feature or null).</summary>
    public static TheoryData<string, long, int, long?, string?> Tables => new()
    {
        { "simple_table", 4, 5, 3, null },
        { "simple_table_with_checkpoint", 10, 11, 11, null },
        { "checkpoints", 12, 12, 12, null },
        { "checkpoint_with_partitions", 2, 2, null, null },
        { "with_checkpoint_no_last_checkpoint", 3, 1, 5, null },
        { "latest_not_checkpointed", 3, 1, 5, null },
        { "table_failed_last_checkpoint_update", 3, 4, 20, null },
        { "delta-0.8.0", 1, 2, 4, null },
        { "delta-0.8.0-partitioned", 0, 6, 7, null },
        { "delta-0.8.0-null-partition", 0, 2, 2, null },
        { "delta-0.8.0-special-partition", 0, 2, 2, null },
        { "delta-2.2.0-partitioned-types", 0, 3, 3, null },
        { "delta-stats-optional", 2, 2, 2, null },
        { "delta-checkpoint-stats-optional", 2, 2, 2, null },
        { "table_with_edge_timestamps", 0, 2, 2, null },
        { "partition-type-primitives", 0, 16, 16, null },
        { "python-0.25.5-checkpoint", 1, 2, 6, null },
        { "concurrent_workers", 0, 0, 0, null },
        { "table-without-dv-small", 0, 1, 10, null },
        { "simple_table_features", 4, 5, null, "blahabl" },
        { "table-with-dv-small", 1, 1, null, "deletionVectors" },
        { "table_with_column_mapping", 0, 2, null, "columnMapping" },
        { "checkpoint-v2-table", 9, 8, null, "v2Checkpoint" },
    };

    [Theory]
    [MemberData(nameof(Tables))]
    public async Task Golden_table_yields_its_manifest_facts_or_a_clear_refusal(string name, long version, int files, long? rows, string? refusedFeature)
    {
        var before = Inventory(name);
        var table = new DeltaTable(new LocalObjectStore(GoldenRoot), name);
        if (refusedFeature is not null)
        {
            var e = await Assert.ThrowsAsync<DeltaUnsupportedFeatureException>(() => table.LoadSnapshotAsync());
            Assert.Contains(refusedFeature, e.Message);
            Assert.Contains(refusedFeature, e.Features);
            Assert.Contains(name, e.Message);
        }
        else
        {
            var snapshot = (await table.LoadSnapshotAsync())!;
            Assert.Equal(version, snapshot.Version);
            Assert.Equal(files, snapshot.Files.Count);
            Assert.Equal(rows, CountRows(snapshot));

            // Every other route (JSON only where all commits exist) gives the same state.
            if (File.Exists(Path.Combine(GoldenRoot, name, "_delta_log", "00000000000000000000.json")))
            {
                var jsonOnly = (await table.LoadSnapshotWithoutCheckpointsAsync())!;
                Assert.Equal(snapshot.Files.Select(f => f.Path).Order(), jsonOnly.Files.Select(f => f.Path).Order());
            }
            // Time travel to every version the log can still reconstruct from JSON commits.
            for (var v = 0L; v < version && File.Exists(Path.Combine(GoldenRoot, name, "_delta_log", $"{v:D20}.json")); v++)
                Assert.Equal(v, (await table.LoadSnapshotAsync(v))!.Version);
        }
        Assert.Equal(before, Inventory(name));
    }

    /// <summary>Rows from the data files where they exist (DuckDB), else from stats; null when neither knows.</summary>
    private static long? CountRows(DeltaSnapshot snapshot)
    {
        var paths = snapshot.Files.Select(f => Path.Combine(GoldenRoot, snapshot.ObjectPath(f))).ToList();
        if (paths.Count == 0) return 0;
        if (!paths.All(File.Exists)) return snapshot.TryCountRecords();
        using var db = new DuckDBConnection("DataSource=:memory:");
        db.Open();
        long total = 0;
        foreach (var p in paths)
        {
            using var cmd = db.CreateCommand();
            cmd.CommandText = $"SELECT count(*) FROM read_parquet({SqlNames.Literal(p)})";
            total += Convert.ToInt64(cmd.ExecuteScalar());
        }
        if (snapshot.TryCountRecords() is { } fromStats) Assert.Equal(fromStats, total);
        return total;
    }

    private static string Inventory(string name) => string.Join("\n",
        Directory.EnumerateFileSystemEntries(Path.Combine(GoldenRoot, name), "*", SearchOption.AllDirectories)
            .Order(StringComparer.Ordinal)
            .Select(p => File.Exists(p) ? $"{p} {new FileInfo(p).Length} {File.GetLastWriteTimeUtc(p).Ticks}" : p + "/"));

    private static Task<DeltaSnapshot> LoadAsync(string name) =>
        new DeltaTable(new LocalObjectStore(GoldenRoot), name).LoadSnapshotAsync()!;

    [Fact]
    public async Task Special_character_partition_paths_are_decoded_exactly_once()
    {
        var s = await LoadAsync("delta-0.8.0-special-partition");
        var byValue = s.Files.ToDictionary(f => (string)f.ParsedPartitionValues!["x"]!);
        Assert.Equal(["A/A", "B B"], byValue.Keys.Order());
        Assert.StartsWith("x=A%252FA/", byValue["A/A"].Path);
        Assert.StartsWith("x=A%2FA/", byValue["A/A"].DataPath);
        Assert.StartsWith("x=B%20B/", byValue["B B"].DataPath);
        Assert.All(s.Files, f => Assert.True(File.Exists(Path.Combine(GoldenRoot, s.ObjectPath(f))), f.DataPath));
    }

    [Fact]
    public async Task Null_partition_values_come_from_the_log_not_the_folder_name()
    {
        var s = await LoadAsync("delta-0.8.0-null-partition");
        var nullFile = Assert.Single(s.Files, f => f.ParsedPartitionValues!["k"] is null);
        Assert.Contains("__HIVE_DEFAULT_PARTITION__", nullFile.DataPath);
        Assert.True(nullFile.PartitionValues.ContainsKey("k"));
        Assert.Null(nullFile.PartitionValues["k"]);

        var withCheckpoint = await LoadAsync("checkpoint_with_partitions");
        Assert.Equal(2, withCheckpoint.CheckpointVersion);
        Assert.Single(withCheckpoint.Files, f => f.ParsedPartitionValues!["color"] is null);
    }

    [Fact]
    public async Task Partition_values_are_parsed_by_the_column_type()
    {
        var typed = await LoadAsync("delta-2.2.0-partitioned-types");
        Assert.All(typed.Files, f => Assert.IsType<int>(f.ParsedPartitionValues!["c1"]));
        Assert.All(typed.Files, f => Assert.IsType<string>(f.ParsedPartitionValues!["c2"]));
        Assert.Contains(typed.Files, f => (int)f.ParsedPartitionValues!["c1"]! == 4 && (string)f.ParsedPartitionValues["c2"]! == "c");

        // Declared string: values that look like numbers, booleans and dates stay strings.
        var strings = await LoadAsync("partition-type-primitives");
        Assert.All(strings.Files, f => Assert.All(f.ParsedPartitionValues!.Values, v => Assert.IsType<string>(v)));
        Assert.Contains(strings.Files, f => (string)f.ParsedPartitionValues!["year"]! == "2021.0");
    }

    [Fact]
    public async Task Edge_timestamps_in_stats_parse_and_prune_without_overflow()
    {
        var s = await LoadAsync("table_with_edge_timestamps");
        var max = s.Files.Select(f => f.GetStats()!.TryGetMaxTimestampMicros("BIG_DATE", out var m) ? m : throw new Xunit.Sdk.XunitException("no stats")).Max();
        Assert.Equal(DeltaTimestamps.ToMicros(new DateTimeOffset(9999, 12, 31, 0, 0, 0, TimeSpan.Zero)), max);
        var newest = DeltaFilePruning.NewestFirst(s.Files, "BIG_DATE");
        Assert.True(newest[0].GetStats()!.TryGetMaxTimestampMicros("BIG_DATE", out var first) && first == max);
        Assert.Empty(DeltaFilePruning.ByTimestampRange(s.Files, DeltaTestData.Micros(2022, 1, 1), DeltaTestData.Micros(2023, 1, 1), "BIG_DATE"));
        Assert.Single(DeltaFilePruning.ByTimestampRange(s.Files, DeltaTestData.Micros(2022, 1, 15), DeltaTestData.Micros(2022, 2, 15), "NORMAL_DATE"));
    }

    [Fact]
    public async Task Missing_stats_mean_unknown_not_zero()
    {
        foreach (var name in new[] { "delta-stats-optional", "delta-checkpoint-stats-optional" })
        {
            var s = await LoadAsync(name);
            var unknown = Assert.Single(s.Files, f => f.GetStats() is null);
            Assert.Null(s.TryCountRecords());
            Assert.Equal(1, s.Files.Single(f => f.GetStats() is not null).GetStats()!.NumRecords);
            // Pruning keeps the file it knows nothing about, whatever the range.
            Assert.Contains(unknown, DeltaFilePruning.ByTimestampRange(s.Files, 0, 1, "timestamp"));
            Assert.Same(unknown, DeltaFilePruning.NewestFirst(s.Files, "timestamp")[0]);
        }
        // The checkpoint kept stats only as stats_parsed (writeStatsAsJson=false): they are read back.
        var parsed = (await LoadAsync("delta-checkpoint-stats-optional")).Files.Single(f => f.GetStats() is not null).GetStats()!;
        Assert.True(parsed.MinValues["integer"].TryGetInt64(out var minInt));
        Assert.Equal(0, parsed.NullCount["integer"].TryGetInt64(out var nulls) ? nulls : -1);
        var json = (await LoadAsync("delta-stats-optional")).Files.Single(f => f.GetStats() is not null).GetStats()!;
        Assert.True(json.MinValues["integer"].TryGetInt64(out var jsonMinInt));
        Assert.Equal(jsonMinInt, minInt);
    }

    [Fact]
    public async Task Last_checkpoint_is_a_hint_and_the_newest_checkpoint_wins()
    {
        var failed = await LoadAsync("table_failed_last_checkpoint_update");
        Assert.Equal(3, failed.CheckpointVersion);
        var pointer = LastCheckpoint.TryParse(File.ReadAllBytes(Path.Combine(GoldenRoot, "table_failed_last_checkpoint_update", "_delta_log", "_last_checkpoint")));
        Assert.Equal(1, pointer!.Version);
        Assert.Equal(23521, pointer.SizeInBytes);

        var noPointer = await LoadAsync("with_checkpoint_no_last_checkpoint");
        Assert.Equal(2, noPointer.CheckpointVersion);
        Assert.Equal(3, noPointer.Version);
        var notCheckpointed = await LoadAsync("latest_not_checkpointed");
        Assert.Equal(2, notCheckpointed.CheckpointVersion);
        Assert.Equal(3, notCheckpointed.Version);

        var partitions = LastCheckpoint.TryParse(File.ReadAllBytes(Path.Combine(GoldenRoot, "checkpoint_with_partitions", "_delta_log", "_last_checkpoint")));
        Assert.Equal(2, partitions!.Version);
        Assert.Null(partitions.Parts);
    }

    [Fact]
    public async Task Refusals_name_every_unsupported_feature()
    {
        var features = await Assert.ThrowsAsync<DeltaUnsupportedFeatureException>(() => LoadAsync("simple_table_features"));
        Assert.Equal("blahabl", features.Features[0]);
        Assert.Contains("reader version 5", features.Message);
        foreach (var f in new[] { "columnMapping", "deletionVectors", "timestampNtz", "v2Checkpoint" }) Assert.Contains(f, features.Message);

        var mapping = await Assert.ThrowsAsync<DeltaUnsupportedFeatureException>(() => LoadAsync("table_with_column_mapping"));
        Assert.Contains("'name'", mapping.Message);
    }
}

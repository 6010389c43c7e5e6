using TimeFusion.Delta;
using TimeFusion.Delta.Actions;

namespace TimeFusion.Tests.Delta;

public sealed class DeltaFilePruningTests
{
    private static AddFile Parsed(AddFile f) =>
        f with { ParsedPartitionValues = new Dictionary<string, object?> { ["date"] = DeltaPartitionValues.Parse(f.PartitionValues["date"], "date", "date") } };

    [Fact]
    public void Prunes_by_date_partition_and_timestamp_stats_keeping_unknowns()
    {
        var jan1 = Parsed(DeltaTestData.Add(DeltaTestData.Micros(2024, 1, 1, 1), DeltaTestData.Micros(2024, 1, 1, 2), 1, "a.parquet"));
        var jan2 = Parsed(DeltaTestData.Add(DeltaTestData.Micros(2024, 1, 2, 1), DeltaTestData.Micros(2024, 1, 2, 9), 1, "b.parquet"));
        var jan3NoStats = Parsed(DeltaTestData.Add(DeltaTestData.Micros(2024, 1, 3, 1), DeltaTestData.Micros(2024, 1, 3, 2), 1, "c.parquet") with { Stats = null });
        var nullDate = jan1 with { Path = "date=__HIVE_DEFAULT_PARTITION__/d.parquet", ParsedPartitionValues = new Dictionary<string, object?> { ["date"] = null } };
        var noDate = jan1 with { Path = "e.parquet", ParsedPartitionValues = new Dictionary<string, object?>() };
        AddFile[] files = [jan1, jan2, jan3NoStats, nullDate, noDate];

        Assert.Equal(["b.parquet", "c.parquet", "e.parquet"],
            DeltaFilePruning.ByDateRange(files, new DateOnly(2024, 1, 2), null).Select(f => Path.GetFileName(f.Path)));
        Assert.Equal(files, DeltaFilePruning.ByDateRange(files, null, null));

        // [Jan 2 05:00, Jan 2 06:00]: jan2 overlaps, jan3 has no stats, jan1 ended before.
        var window = DeltaFilePruning.ByTimestampRange(files, DeltaTestData.Micros(2024, 1, 2, 5), DeltaTestData.Micros(2024, 1, 2, 6)).ToList();
        Assert.Equal(["b.parquet", "c.parquet"], window.Select(f => Path.GetFileName(f.Path)));
        // Bounds are inclusive, and a millisecond-truncated max still matches the following 999 µs.
        Assert.Contains(jan1, DeltaFilePruning.ByTimestampRange(files, DeltaTestData.Micros(2024, 1, 1, 2) + 999, null));
        Assert.DoesNotContain(jan1, DeltaFilePruning.ByTimestampRange(files, DeltaTestData.Micros(2024, 1, 1, 2) + 1000, null));
        Assert.Contains(jan2, DeltaFilePruning.ByTimestampRange(files, null, DeltaTestData.Micros(2024, 1, 2, 1)));
        Assert.DoesNotContain(jan2, DeltaFilePruning.ByTimestampRange(files, null, DeltaTestData.Micros(2024, 1, 2, 1) - 1));

        var newest = DeltaFilePruning.NewestFirst([jan1, jan2, jan3NoStats]);
        Assert.Equal(["c.parquet", "b.parquet", "a.parquet"], newest.Select(f => Path.GetFileName(f.Path)));
    }
}

using System.Text;
using TimeFusion.Delta;
using TimeFusion.Delta.Actions;
using TimeFusion.Tables;

namespace TimeFusion.Tests.Delta;

/// <summary>Builders and comparisons shared by the Delta tests.</summary>
internal static class DeltaTestData
{
    public static readonly TableSchema Schema = TableSchema.Create("events", [
        new ColumnDefinition("message", ColumnType.Utf8),
        new ColumnDefinition("value", ColumnType.Float64),
    ]);

    /// <summary>An add action for a (fictional) data file in the date partition of <paramref name="minMicros"/>.</summary>
    public static AddFile Add(long minMicros, long maxMicros, long rows, string? name = null)
    {
        var date = DateOnly.FromDateTime(DeltaTimestamps.ToDateTime(minMicros));
        var path = name is null ? DeltaLogPaths.NewDataFilePath(date) : $"date={DeltaPartitionValues.FormatDate(date)}/{name}";
        var stats = new DeltaFileStats
        {
            NumRecords = rows,
            MinValues = new Dictionary<string, DeltaStatValue>
            {
                ["timestamp"] = DeltaStatValue.FromTimestampMicros(minMicros),
                ["message"] = DeltaStatValue.FromString("a"),
                ["value"] = DeltaStatValue.FromDouble(-1.5),
            },
            MaxValues = new Dictionary<string, DeltaStatValue>
            {
                ["timestamp"] = DeltaStatValue.FromTimestampMicros(maxMicros),
                ["message"] = DeltaStatValue.FromString("zz"),
                ["value"] = DeltaStatValue.FromDouble(2.25),
            },
            NullCount = new Dictionary<string, DeltaStatValue>
            {
                ["timestamp"] = DeltaStatValue.FromInt64(0),
                ["message"] = DeltaStatValue.FromInt64(1),
                ["value"] = DeltaStatValue.FromInt64(0),
            },
        };
        return AddFile.Create(path, new Dictionary<string, string?> { ["date"] = DeltaPartitionValues.FormatDate(date) },
            size: 1000 + rows, modificationTimeMillis: 1_700_000_000_000, stats);
    }

    public static long Micros(int year, int month, int day, int hour = 0) =>
        DeltaTimestamps.ToMicros(new DateTimeOffset(year, month, day, hour, 0, 0, TimeSpan.Zero));

    /// <summary>A canonical text of everything a snapshot holds, for equality checks between load routes.</summary>
    public static string Fingerprint(DeltaSnapshot s)
    {
        var sb = new StringBuilder();
        sb.AppendLine($"version {s.Version}");
        sb.AppendLine(DeltaJson.Serialize(s.Protocol));
        sb.AppendLine(DeltaJson.Serialize(s.Metadata));
        foreach (var line in s.Files.Select(DeltaJson.Serialize).Order(StringComparer.Ordinal)) sb.AppendLine(line);
        foreach (var line in s.Tombstones.Select(DeltaJson.Serialize).Order(StringComparer.Ordinal)) sb.AppendLine(line);
        foreach (var line in s.Transactions.Values.Select(DeltaJson.Serialize).Order(StringComparer.Ordinal)) sb.AppendLine(line);
        return sb.ToString();
    }
}

/// <summary>A clock the test moves by hand.</summary>
internal sealed class ManualClock(DateTimeOffset start) : TimeProvider
{
    public DateTimeOffset Now { get; set; } = start;

    public override DateTimeOffset GetUtcNow() => Now;
}

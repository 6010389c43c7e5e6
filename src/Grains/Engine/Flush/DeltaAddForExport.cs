using System.Globalization;
using TimeFusion.Buffer;
using TimeFusion.Delta;
using TimeFusion.Delta.Actions;
using TimeFusion.Tables;

namespace TimeFusion.Flush;

/// <summary>Turns a Parquet file exported from the buffer into the Delta <c>add</c> action that publishes it.</summary>
internal static class DeltaAddForExport
{
    public static AddFile Create(ExportedFile file, TableSchema schema, DateTimeOffset now)
    {
        var min = new Dictionary<string, DeltaStatValue>(StringComparer.Ordinal);
        var max = new Dictionary<string, DeltaStatValue>(StringComparer.Ordinal);
        var nulls = new Dictionary<string, DeltaStatValue>(StringComparer.Ordinal);
        foreach (var (name, stats) in file.Stats)
        {
            var column = schema.Find(name);
            if (column is null || name == TableSchema.DateColumn) continue; // partition values live in the path
            if (stats.NullCount is { } n) nulls[name] = DeltaStatValue.FromInt64(n);
            // Delta keeps min/max for primitive columns only; list columns carry a null count alone.
            if (column.Type is ColumnType.Utf8List or ColumnType.Binary) continue;
            if (ToStat(stats.Min) is { } lo) min[name] = lo;
            if (ToStat(stats.Max) is { } hi) max[name] = hi;
        }
        var deltaStats = new DeltaFileStats
        {
            NumRecords = file.Rows,
            TightBounds = true,
            MinValues = min,
            MaxValues = max,
            NullCount = nulls,
        };
        var partition = new Dictionary<string, string?>
        {
            [TableSchema.DateColumn] = file.Date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
        };
        return AddFile.Create(file.RelativePath, partition, file.Bytes, now.ToUnixTimeMilliseconds(), deltaStats);
    }

    private static DeltaStatValue? ToStat(object? value) => value switch
    {
        null => null,
        long l => DeltaStatValue.FromInt64(l),
        int i => DeltaStatValue.FromInt64(i),
        double d => double.IsFinite(d) ? DeltaStatValue.FromDouble(d) : null,
        bool b => DeltaStatValue.FromBoolean(b),
        string s => DeltaStatValue.FromString(s),
        _ => null,
    };
}

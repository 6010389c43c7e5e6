using TimeFusion.Delta.Actions;
using TimeFusion.Tables;

namespace TimeFusion.Delta;

/// <summary>
/// File selection for the read path: prune active files by their date partition and by timestamp min/max
/// statistics, and order them newest first. A file whose partition value or statistics are unknown is always kept
/// (pruning may only drop files that certainly hold no qualifying row).
/// </summary>
public static class DeltaFilePruning
{
    /// <summary>
    /// Writers such as Spark truncate timestamp statistics to milliseconds, so a recorded maximum can be up to
    /// 999 µs below the true one; bounds checks widen the maximum by this much.
    /// </summary>
    public const long MaxTimestampTruncationMicros = 999;

    /// <summary>
    /// Keeps files whose date partition lies within [<paramref name="from"/>, <paramref name="to"/>] (inclusive; a
    /// null bound is open). Files without a recorded value for the column are kept; files whose value is null are
    /// dropped when any bound is given (a null date satisfies no range).
    /// </summary>
    public static IEnumerable<AddFile> ByDateRange(IEnumerable<AddFile> files, DateOnly? from, DateOnly? to,
        string dateColumn = TableSchema.DateColumn)
    {
        if (from is null && to is null) return files;
        return files.Where(f =>
        {
            if (f.ParsedPartitionValues is null || !f.ParsedPartitionValues.TryGetValue(dateColumn, out var value)) return true;
            if (value is not DateOnly date) return false;
            return (from is null || date >= from) && (to is null || date <= to);
        });
    }

    /// <summary>
    /// Keeps files that may hold a <paramref name="column"/> value within [<paramref name="minMicros"/>,
    /// <paramref name="maxMicros"/>] (inclusive microseconds since the epoch; a null bound is open). Files without
    /// min/max statistics for the column are kept.
    /// </summary>
    public static IEnumerable<AddFile> ByTimestampRange(IEnumerable<AddFile> files, long? minMicros, long? maxMicros,
        string column = TableSchema.TimestampColumn)
    {
        if (minMicros is null && maxMicros is null) return files;
        return files.Where(f =>
        {
            if (!TryGetTimestampBounds(f, column, out var lo, out var hi)) return true;
            return (minMicros is null || hi >= minMicros) && (maxMicros is null || lo <= maxMicros);
        });
    }

    /// <summary>Both filters: the date partition range, then the timestamp statistics range.</summary>
    public static IReadOnlyList<AddFile> Select(DeltaSnapshot snapshot, DateOnly? fromDate, DateOnly? toDate, long? minMicros, long? maxMicros) =>
        ByTimestampRange(ByDateRange(snapshot.Files, fromDate, toDate), minMicros, maxMicros).ToList();

    /// <summary>
    /// Orders files newest first by their maximum <paramref name="column"/> value (ties by path). Files without
    /// statistics come first: they might hold the newest rows, so a "latest N rows" scan must read them.
    /// </summary>
    public static IReadOnlyList<AddFile> NewestFirst(IEnumerable<AddFile> files, string column = TableSchema.TimestampColumn) =>
        files.Select(f => (File: f, Max: TryGetTimestampBounds(f, column, out _, out var hi) ? hi : long.MaxValue))
            .OrderByDescending(x => x.Max)
            .ThenBy(x => x.File.Path, StringComparer.Ordinal)
            .Select(x => x.File)
            .ToList();

    /// <summary>
    /// The [min, max] microsecond bounds of a timestamp column in a file's statistics (max widened by
    /// <see cref="MaxTimestampTruncationMicros"/>); false when unknown.
    /// </summary>
    public static bool TryGetTimestampBounds(AddFile file, string column, out long minMicros, out long maxMicros)
    {
        minMicros = maxMicros = 0;
        var stats = file.GetStats();
        if (stats is null || !stats.TryGetMinTimestampMicros(column, out minMicros) || !stats.TryGetMaxTimestampMicros(column, out var max))
            return false;
        maxMicros = max > long.MaxValue - MaxTimestampTruncationMicros ? long.MaxValue : max + MaxTimestampTruncationMicros;
        return true;
    }
}

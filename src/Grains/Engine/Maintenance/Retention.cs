using TimeFusion.Delta;
using TimeFusion.Delta.Actions;

namespace TimeFusion.Maintenance;

/// <summary>
/// Retention (TTL): rows whose <c>timestamp</c> is older than <c>now − retention</c> leave the table. Queries stop
/// seeing them at once (the snapshot carries the cut-off), flushes do not write them, and whole date partitions
/// entirely before the cut-off are removed from Delta (<c>remove</c> actions with <c>dataChange: true</c>); their files
/// go with the next VACUUM. A partition straddling the cut-off stays until it is wholly past it.
/// </summary>
public static class Retention
{
    /// <summary>The cut-off instant in microseconds since the epoch for <paramref name="retention"/> (null = keep everything).</summary>
    public static long? CutoffMicros(TimeSpan? retention, DateTimeOffset now)
    {
        if (retention is not { } r) return null;
        var cutoff = now - r;
        return (cutoff - DateTimeOffset.UnixEpoch).Ticks / 10;
    }

    /// <summary>The active files of <paramref name="snapshot"/> whose date partition lies wholly before <paramref name="cutoffMicros"/>.</summary>
    public static List<AddFile> ExpiredFiles(DeltaSnapshot snapshot, long cutoffMicros)
    {
        var cutoff = DateTimeOffset.UnixEpoch.AddTicks(cutoffMicros * 10);
        var expired = new List<AddFile>();
        foreach (var f in snapshot.Files)
        {
            if (DeltaOptimizer.PartitionDate(f) is not { } day) continue;
            var end = new DateTimeOffset(day.AddDays(1).ToDateTime(TimeOnly.MinValue), TimeSpan.Zero);
            if (end <= cutoff) expired.Add(f);
        }
        return expired;
    }

    /// <summary>The SQL filter keeping rows inside the retention (for the flush's export), or null to keep all.</summary>
    public static string? KeepFilterSql(long? cutoffMicros) => cutoffMicros is { } c
        ? $"epoch_us(\"timestamp\") >= {c}"
        : null;
}

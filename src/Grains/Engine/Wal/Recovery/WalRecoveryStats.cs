namespace TimeFusion.Wal;

/// <summary>What opening a log found: entries, the LSN range, a cut torn tail, skipped damage.</summary>
public sealed class WalRecoveryStats
{
    /// <summary>Segments scanned.</summary>
    public int Segments { get; init; }

    /// <summary>Good entries found.</summary>
    public long Entries { get; init; }

    /// <summary>The LSN of the first good entry found, 0 when none.</summary>
    public long FirstLsn { get; init; }

    /// <summary>The highest LSN ever assigned by this log (0 when none); the next append gets <c>LastLsn + 1</c>.</summary>
    public long LastLsn { get; init; }

    /// <summary>Bytes of segments scanned.</summary>
    public long BytesScanned { get; init; }

    /// <summary>The incomplete last write cut off the end of the log, or null when the log ended cleanly.</summary>
    public WalDamage? TornTail { get; init; }

    /// <summary>Damaged regions skipped and quarantined (see <see cref="WalOptions.CorruptionPolicy"/>), in log order.</summary>
    public IReadOnlyList<WalDamage> CorruptEntries { get; init; } = [];

    /// <summary>The files in the log's folder holding copies of <see cref="CorruptEntries"/>, in the same order.</summary>
    public IReadOnlyList<string> QuarantineFiles { get; init; } = [];

    /// <summary>Bytes of <see cref="CorruptEntries"/>.</summary>
    public long CorruptBytes => CorruptEntries.Sum(d => d.Length);

    /// <summary>How long the scan took.</summary>
    public TimeSpan Elapsed { get; init; }
}

/// <summary>A damaged region of a segment.</summary>
/// <param name="Segment">Segment name, relative to the WAL folder.</param>
/// <param name="Position">Byte offset where the damage starts.</param>
/// <param name="Length">Bytes skipped (up to the next good entry or the end of the segment).</param>
/// <param name="Reason">What was wrong with the frame at <paramref name="Position"/>.</param>
public sealed record WalDamage(string Segment, long Position, long Length, string Reason);

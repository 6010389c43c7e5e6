namespace TimeFusion.Wal;

/// <summary>What opening a log does with damage in the middle of it (a torn tail is always cut, never damage).</summary>
public enum WalCorruptionPolicy
{
    /// <summary>
    /// Damaged regions are copied aside into quarantine files in the log's folder (for inspection), counted and reported
    /// once; the table serves its good entries and keeps accepting writes. Default.
    /// </summary>
    Quarantine = 0,

    /// <summary>
    /// More than <see cref="WalOptions.MaxCorruptEntries"/> damaged regions fail the open with
    /// <see cref="WalCorruptException"/>: the table stays offline until an operator looks.
    /// </summary>
    Strict = 1,
}

using TimeFusion.Wal;

namespace TimeFusion.Recovery;

/// <summary>What a table's recovery found and did.</summary>
/// <param name="DeltaVersion">The Delta version loaded.</param>
/// <param name="FlushedThroughLsn">The <c>txn</c> version of that snapshot: WAL entries up to it were already in Delta.</param>
/// <param name="ReplayedEntries">WAL entries above it applied to the buffer.</param>
/// <param name="ReplayedRows">Rows those entries inserted.</param>
/// <param name="ReplayedBytes">WAL payload bytes replayed.</param>
/// <param name="FlushesDuringReplay">Flushes run during replay to stay within the memory budget.</param>
/// <param name="Wal">The WAL's own recovery statistics (torn tails cut, corrupt entries skipped).</param>
/// <param name="Elapsed">Wall time of the recovery.</param>
public sealed record RecoveryReport(
    long DeltaVersion,
    long FlushedThroughLsn,
    long ReplayedEntries,
    long ReplayedRows,
    long ReplayedBytes,
    int FlushesDuringReplay,
    WalRecoveryStats Wal,
    TimeSpan Elapsed)
{
    /// <summary>Intact WAL entries whose content could not be applied, set aside (see <see cref="WalCorruptionPolicy.Quarantine"/>).</summary>
    public long QuarantinedEntries { get; init; }

    /// <summary>Damaged regions plus entries quarantined when the table opened.</summary>
    public long QuarantinedRegions => Wal.CorruptEntries.Count + QuarantinedEntries;
}

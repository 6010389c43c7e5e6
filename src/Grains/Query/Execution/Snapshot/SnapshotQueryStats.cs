namespace TimeFusion.Query.Execution;

/// <summary>What one <see cref="SnapshotQueryExecutor"/> run read.</summary>
/// <param name="SnapshotFiles">Active Delta files in the snapshot.</param>
/// <param name="CandidateFiles">Files left after date-partition and timestamp-statistics pruning.</param>
/// <param name="FilesRead">Files the answering run read (for newest-first reads, the last attempt's).</param>
/// <param name="Attempts">Statement runs: 1, or more for newest-first reads whose first subsets fell short.</param>
/// <param name="CutoffMicros">The answering run's newest-first cutoff, or null when it read every candidate file.</param>
/// <param name="Elapsed">Wall time, including waiting for the snapshot's connection and fetching file paths.</param>
public sealed record SnapshotQueryStats(int SnapshotFiles, int CandidateFiles, int FilesRead, int Attempts, long? CutoffMicros, TimeSpan Elapsed);

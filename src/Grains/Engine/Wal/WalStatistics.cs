namespace TimeFusion.Wal;

/// <summary>Counters of one open log since it was opened.</summary>
/// <param name="Appends">Entries written.</param>
/// <param name="Batches">Group commits (writes of one or more entries).</param>
/// <param name="Fsyncs">Flushes to stable storage.</param>
/// <param name="BytesWritten">Frame bytes written.</param>
/// <param name="SegmentsCreated">Segments started (including the first one of a new log).</param>
public sealed record WalStatistics(long Appends, long Batches, long Fsyncs, long BytesWritten, long SegmentsCreated);

namespace TimeFusion.Flush;

/// <summary>What one flush did.</summary>
/// <param name="FlushedThroughLsn">Every WAL entry up to this LSN is now in Delta (the table's <c>txn</c> version).</param>
/// <param name="DeltaVersion">The Delta version committed, or null when there was nothing to flush.</param>
/// <param name="Files">Data files added.</param>
/// <param name="Rows">Rows persisted.</param>
/// <param name="Bytes">Parquet bytes written.</param>
public sealed record FlushResult(long FlushedThroughLsn, long? DeltaVersion, int Files, long Rows, long Bytes);

namespace TimeFusion.Ingest;

/// <summary>Limits applied to every incoming batch before anything is logged.</summary>
public sealed class IngestOptions
{
    /// <summary>The earliest accepted <c>timestamp</c>. Default 1970-01-01 UTC.</summary>
    public DateTimeOffset MinTimestamp { get; set; } = DateTimeOffset.UnixEpoch;

    /// <summary>
    /// The latest accepted <c>timestamp</c>. Default 2262-04-11 UTC: the end of the nanosecond int64 range,
    /// so every engine that reads our Parquet files (some in nanoseconds) can represent every row.
    /// </summary>
    public DateTimeOffset MaxTimestamp { get; set; } = new(2262, 4, 11, 0, 0, 0, TimeSpan.Zero);

    /// <summary>The most rows one batch may hold. Default 1,048,576.</summary>
    public int MaxRowsPerBatch { get; set; } = 1 << 20;

    /// <summary>
    /// The most bytes (Arrow buffers) one batch may hold, as sent and as the table holds it (with <c>project_id</c> and
    /// <c>date</c> filled in); over it: 54000 naming this setting. A COPY is one batch. At most 7/8 of
    /// <c>TimeFusion:Wal:MaxEntryBytes</c>, so the WAL never refuses a batch this accepted. Default 192 MiB.
    /// </summary>
    public long MaxBatchBytes { get; set; } = 192L << 20;

    /// <summary>
    /// Whether null flattened attribute columns (<c>attributes___*</c>, <c>resource___*</c>) are filled from the row's JSON
    /// <c>attributes</c> / <c>resource</c> on ingest (every path; a supplied value wins). Default true.
    /// </summary>
    public bool FlattenAttributes { get; set; } = true;

    /// <summary>
    /// An insert taking at least this long from entering the table's engine to being durable and visible is logged
    /// (warning, one line) with where the time went: validation, memory reservation, the pinned copy, the WAL (encode,
    /// queue before the group commit, write, fsync), the wait for earlier LSNs to be applied, the apply, and the GC
    /// pauses and gen2 collections meanwhile. Zero (default) logs nothing and times nothing.
    /// </summary>
    public TimeSpan SlowInsertLogThreshold { get; set; } = TimeSpan.Zero;
}

namespace TimeFusion.Wal;

/// <summary>Settings of one write-ahead log. Plain defaults; call <see cref="Validate"/> before use.</summary>
public sealed class WalOptions
{
    /// <summary>1 MiB.</summary>
    private const int MiB = 1024 * 1024;

    /// <summary>When writes are fsynced. Default <see cref="WalSyncMode.PerCommit"/> (every acknowledged append is durable).</summary>
    public WalSyncMode SyncMode { get; set; } = WalSyncMode.PerCommit;

    /// <summary>
    /// With <see cref="WalSyncMode.Interval"/>: the longest time between a write and its fsync, which is also the
    /// window of acknowledged entries a power failure can lose. Default 10 ms. Ignored with <see cref="WalSyncMode.PerCommit"/>.
    /// </summary>
    public TimeSpan SyncInterval { get; set; } = TimeSpan.FromMilliseconds(10);

    /// <summary>
    /// How local segments are written: <see cref="WalWriteMode.Direct"/> (default: preallocated, <c>O_DIRECT</c>,
    /// <c>fdatasync</c>) or <see cref="WalWriteMode.Append"/> (appends through the page cache, fsync). Azure ignores it.
    /// </summary>
    public WalWriteMode WriteMode { get; set; } = WalWriteMode.Direct;

    /// <summary>Test seam: behave as if the file system refused <c>O_DIRECT</c> (the buffered fallback of <see cref="WalWriteMode.Direct"/>).</summary>
    internal bool RefuseDirectIo { get; set; }

    /// <summary>
    /// Test seam: awaited by every background preparation of <see cref="WalWriteMode.Direct"/> (zero-filling ahead, the
    /// spare segment) before it starts, with the token that stops it; lets a test hold, release or fail preparations.
    /// </summary>
    internal Func<CancellationToken, ValueTask>? PrepareHook { get; set; }

    /// <summary>
    /// Bench seam: prepare as session 15 did — on the writer loop, which waits for each zero-fill (started when fewer
    /// than two groups fit, four groups from the first group on) — to compare with the background preparation.
    /// </summary>
    internal bool PrepareInline { get; set; }

    /// <summary>
    /// A segment is closed and a new one started when the next write would make it larger than this.
    /// An entry larger than this gets a segment of its own. Default 64 MiB.
    /// </summary>
    public long SegmentSizeBytes { get; set; } = 64L * MiB;

    /// <summary>
    /// The largest envelope (one entry: header fields plus payload) the log writes or reads; a frame claiming more
    /// is damage and is never allocated. Default 256 MiB.
    /// </summary>
    public int MaxEntryBytes { get; set; } = 256 * MiB;

    /// <summary>
    /// What opening a log does with damaged regions (CRC mismatches or impossible frames with good entries after them,
    /// a segment cut short before the next one): <see cref="WalCorruptionPolicy.Quarantine"/> (default) copies them
    /// aside, reports them and serves the rest; <see cref="WalCorruptionPolicy.Strict"/> refuses to open past
    /// <see cref="MaxCorruptEntries"/>. A torn tail (an incomplete last write) is not damage: it is cut off.
    /// </summary>
    public WalCorruptionPolicy CorruptionPolicy { get; set; } = WalCorruptionPolicy.Quarantine;

    /// <summary>
    /// With <see cref="WalCorruptionPolicy.Strict"/>: how many damaged regions recovery may skip (each quarantined)
    /// before the open fails with <see cref="WalCorruptException"/>. Default 0: any damage fails the open.
    /// </summary>
    public int MaxCorruptEntries { get; set; }

    /// <summary>The most bytes of entries one group commit writes at once (a single larger entry is written alone). Default 16 MiB.</summary>
    public int MaxGroupCommitBytes { get; set; } = 16 * MiB;

    /// <summary>The most entries one group commit writes at once. Default 4096.</summary>
    public int MaxGroupCommitEntries { get; set; } = 4096;

    /// <summary>How many appends may wait for the writer before callers wait (asynchronously) for room. Default 8192.</summary>
    public int QueueCapacity { get; set; } = 8192;

    /// <summary>The size of the reads used to scan segments during recovery and replay. Default 1 MiB.</summary>
    public int ReadChunkBytes { get; set; } = MiB;

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> for a setting outside its range.</summary>
    public WalOptions Validate()
    {
        if (!Enum.IsDefined(WriteMode)) throw new ArgumentOutOfRangeException(nameof(WriteMode), WriteMode, "must be Append or Direct");
        if (!Enum.IsDefined(SyncMode)) throw new ArgumentOutOfRangeException(nameof(SyncMode), SyncMode, "unknown sync mode");
        if (SyncMode == WalSyncMode.Interval && (SyncInterval <= TimeSpan.Zero || SyncInterval > TimeSpan.FromMinutes(1)))
            throw new ArgumentOutOfRangeException(nameof(SyncInterval), SyncInterval, "must be in (0, 1 min]");
        if (SegmentSizeBytes < 4096) throw new ArgumentOutOfRangeException(nameof(SegmentSizeBytes), SegmentSizeBytes, "must be at least 4096");
        if (MaxEntryBytes < 1024) throw new ArgumentOutOfRangeException(nameof(MaxEntryBytes), MaxEntryBytes, "must be at least 1024");
        if (MaxEntryBytes > int.MaxValue - 64) throw new ArgumentOutOfRangeException(nameof(MaxEntryBytes), MaxEntryBytes, "too large");
        if (!Enum.IsDefined(CorruptionPolicy)) throw new ArgumentOutOfRangeException(nameof(CorruptionPolicy), CorruptionPolicy, "must be Quarantine or Strict");
        if (MaxCorruptEntries < 0) throw new ArgumentOutOfRangeException(nameof(MaxCorruptEntries), MaxCorruptEntries, "must be >= 0");
        if (MaxGroupCommitBytes < 1) throw new ArgumentOutOfRangeException(nameof(MaxGroupCommitBytes), MaxGroupCommitBytes, "must be >= 1");
        if (MaxGroupCommitEntries < 1) throw new ArgumentOutOfRangeException(nameof(MaxGroupCommitEntries), MaxGroupCommitEntries, "must be >= 1");
        if (QueueCapacity < 1) throw new ArgumentOutOfRangeException(nameof(QueueCapacity), QueueCapacity, "must be >= 1");
        if (ReadChunkBytes < 4096) throw new ArgumentOutOfRangeException(nameof(ReadChunkBytes), ReadChunkBytes, "must be at least 4096");
        return this;
    }
}

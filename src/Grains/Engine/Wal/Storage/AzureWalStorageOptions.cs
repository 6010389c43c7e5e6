namespace TimeFusion.Wal;

/// <summary>Limits of WAL segments stored as Azure append blobs.</summary>
public sealed class AzureWalStorageOptions
{
    /// <summary>
    /// Bytes per AppendBlock call; larger group commits are split into several blocks (frames may span blocks).
    /// Default 4 MiB, the limit every service version and Azurite accept.
    /// </summary>
    public int MaxAppendBlockBytes { get; set; } = 4 * 1024 * 1024;

    /// <summary>An append blob holds at most 50,000 blocks; a segment is rolled before a write would pass this. Default 50,000.</summary>
    public int MaxBlocksPerSegment { get; set; } = 50_000;

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> for a setting outside its range.</summary>
    public AzureWalStorageOptions Validate()
    {
        if (MaxAppendBlockBytes is < 1024 or > 100 * 1024 * 1024)
            throw new ArgumentOutOfRangeException(nameof(MaxAppendBlockBytes), MaxAppendBlockBytes, "must be in [1 KiB, 100 MiB]");
        if (MaxBlocksPerSegment is < 2 or > 50_000)
            throw new ArgumentOutOfRangeException(nameof(MaxBlocksPerSegment), MaxBlocksPerSegment, "must be in [2, 50000]");
        return this;
    }
}

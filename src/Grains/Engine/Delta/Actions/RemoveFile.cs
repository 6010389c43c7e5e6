namespace TimeFusion.Delta.Actions;

/// <summary>
/// The <c>remove</c> action: a logical file leaves the table. In a snapshot it remains as a tombstone (for VACUUM)
/// until it expires.
/// </summary>
public sealed record RemoveFile : DeltaAction
{
    /// <summary>The path as written in the log (URI-encoded, relative to the table root).</summary>
    public required string Path { get; init; }

    /// <summary>When the removal happened, milliseconds since the Unix epoch, if recorded.</summary>
    public long? DeletionTimestamp { get; init; }

    /// <summary>False when the removed rows are re-added in the same commit (compaction).</summary>
    public bool DataChange { get; init; } = true;

    /// <summary>When true, <see cref="PartitionValues"/>, <see cref="Size"/> and <see cref="Tags"/> are present.</summary>
    public bool? ExtendedFileMetadata { get; init; }

    /// <summary>Partition values of the removed file, if recorded.</summary>
    public IReadOnlyDictionary<string, string?>? PartitionValues { get; init; }

    /// <summary>Size of the removed file in bytes, if recorded.</summary>
    public long? Size { get; init; }

    /// <summary>Statistics of the removed file, if recorded (JSON commits only; checkpoints drop them).</summary>
    public string? Stats { get; init; }

    /// <summary>Tags, if recorded (JSON commits only).</summary>
    public IReadOnlyDictionary<string, string?>? Tags { get; init; }

    /// <summary>The deletion vector of the removed logical file, if any.</summary>
    public DeletionVectorDescriptor? DeletionVector { get; init; }

    /// <summary>The removed data file's path relative to the table root: <see cref="Path"/> URI-decoded once.</summary>
    public string DataPath => DeltaLogPaths.DecodePath(Path);

    internal string Key => DeltaLogPaths.FileKey(DataPath, DeletionVector?.UniqueId);

    /// <summary>The tombstone that removes <paramref name="file"/> at <paramref name="deletionTimestamp"/> (with its partition values and size).</summary>
    public static RemoveFile For(AddFile file, long deletionTimestamp, bool dataChange = true) => new()
    {
        Path = file.Path,
        DeletionTimestamp = deletionTimestamp,
        DataChange = dataChange,
        ExtendedFileMetadata = true,
        PartitionValues = file.PartitionValues,
        Size = file.Size,
        DeletionVector = file.DeletionVector,
    };
}

namespace TimeFusion.Delta.Actions;

/// <summary>
/// The <c>add</c> action: a logical data file of the table. <see cref="Path"/> is the URI-encoded path as written
/// in the log; <see cref="DataPath"/> is that path decoded exactly once, relative to the table root.
/// </summary>
public sealed record AddFile : DeltaAction
{
    private readonly string? _statsJson;
    // Parsed stats, cached: one reference (a box, so that "no stats" is cached too), published with Volatile.
    private ParsedStats? _parsed;

    /// <summary>The path as written in the log: a URI-encoded path relative to the table root (or an absolute URI).</summary>
    public required string Path { get; init; }

    /// <summary>Partition values as written in the log (strings; null or empty means a null value).</summary>
    public IReadOnlyDictionary<string, string?> PartitionValues { get; init; } = EmptyPartitionValues;

    /// <summary>Size of the data file in bytes.</summary>
    public long Size { get; init; }

    /// <summary>Creation time of the file, milliseconds since the Unix epoch.</summary>
    public long ModificationTime { get; init; }

    /// <summary>False when the file only rearranges data already in the table (compaction).</summary>
    public bool DataChange { get; init; } = true;

    /// <summary>The statistics JSON string (<see cref="DeltaFileStats"/>), or null when unknown.</summary>
    public string? Stats
    {
        get => _statsJson;
        init
        {
            _statsJson = value;
            _parsed = null; // a `with { Stats = … }` copy must not keep the old parse
        }
    }

    /// <summary>Free-form tags, if any.</summary>
    public IReadOnlyDictionary<string, string?>? Tags { get; init; }

    /// <summary>The deletion vector of this logical file, if any (tables using them are refused).</summary>
    public DeletionVectorDescriptor? DeletionVector { get; init; }

    /// <summary>Row tracking: the base row id, if recorded.</summary>
    public long? BaseRowId { get; init; }

    /// <summary>Row tracking: the first commit version that added this path, if recorded.</summary>
    public long? DefaultRowCommitVersion { get; init; }

    /// <summary>
    /// Partition values parsed by each partition column's type (string, int, long, bool, double, decimal,
    /// <see cref="DateOnly"/>, <see cref="DateTimeOffset"/>, …; null for a null value). Set on the files of a
    /// <see cref="DeltaSnapshot"/>; null on a freshly parsed or constructed action.
    /// </summary>
    public IReadOnlyDictionary<string, object?>? ParsedPartitionValues { get; init; }

    /// <summary>The data file's path relative to the table root: <see cref="Path"/> URI-decoded once.</summary>
    public string DataPath => DeltaLogPaths.DecodePath(Path);

    /// <summary>The primary key of the logical file: decoded path plus deletion-vector id.</summary>
    internal string Key => DeltaLogPaths.FileKey(DataPath, DeletionVector?.UniqueId);

    /// <summary>The parsed statistics, or null when the log has none (unknown, never "zero rows").</summary>
    /// <exception cref="DeltaLogCorruptException">The stats string is not valid stats JSON.</exception>
    public DeltaFileStats? GetStats()
    {
        var parsed = Volatile.Read(ref _parsed);
        if (parsed is null)
        {
            parsed = new ParsedStats(_statsJson is null ? null : DeltaFileStats.Parse(_statsJson));
            Volatile.Write(ref _parsed, parsed);
        }
        return parsed.Value;
    }

    private sealed record ParsedStats(DeltaFileStats? Value);

    /// <summary>
    /// A new <c>add</c> action for a data file we wrote: <paramref name="relativePath"/> (relative to the table root,
    /// not encoded — e.g. from <see cref="DeltaLogPaths.NewDataFilePath"/>) is URI-encoded for the log.
    /// </summary>
    public static AddFile Create(string relativePath, IReadOnlyDictionary<string, string?> partitionValues, long size,
        long modificationTimeMillis, DeltaFileStats? stats, bool dataChange = true) => new()
    {
        Path = DeltaLogPaths.EncodePath(relativePath),
        PartitionValues = partitionValues,
        Size = size,
        ModificationTime = modificationTimeMillis,
        DataChange = dataChange,
        Stats = stats?.ToJson(),
    };

    internal static readonly IReadOnlyDictionary<string, string?> EmptyPartitionValues = new Dictionary<string, string?>();
}

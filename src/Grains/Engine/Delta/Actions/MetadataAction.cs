namespace TimeFusion.Delta.Actions;

/// <summary>The <c>format</c> of a <c>metaData</c> action: the file encoding of the table's data files.</summary>
/// <param name="Provider">Name of the encoding, <c>parquet</c> for every table this engine reads or writes.</param>
/// <param name="Options">Format options (empty for Parquet).</param>
public sealed record DeltaFormat(string Provider, IReadOnlyDictionary<string, string> Options)
{
    /// <summary>Parquet with no options.</summary>
    public static DeltaFormat Parquet { get; } = new("parquet", new Dictionary<string, string>());
}

/// <summary>The <c>metaData</c> action: the table's id, schema, partition columns and configuration.</summary>
public sealed record MetadataAction : DeltaAction
{
    /// <summary>Unique identifier of the table (a GUID string).</summary>
    public required string Id { get; init; }

    /// <summary>User-provided name, if any.</summary>
    public string? Name { get; init; }

    /// <summary>User-provided description, if any.</summary>
    public string? Description { get; init; }

    /// <summary>Encoding of the data files.</summary>
    public DeltaFormat Format { get; init; } = DeltaFormat.Parquet;

    /// <summary>The schema as a JSON struct type (Delta schema serialization format).</summary>
    public required string SchemaString { get; init; }

    /// <summary>Names of the partition columns, in order.</summary>
    public IReadOnlyList<string> PartitionColumns { get; init; } = [];

    /// <summary>Table properties (<c>delta.*</c> and our <c>timefusion.*</c> keys).</summary>
    public IReadOnlyDictionary<string, string> Configuration { get; init; } = new Dictionary<string, string>();

    /// <summary>Creation time of this metadata, milliseconds since the Unix epoch, if recorded.</summary>
    public long? CreatedTime { get; init; }
}

namespace TimeFusion.Delta.Actions;

/// <summary>
/// The <c>commitInfo</c> action: provenance of a commit. It takes no part in log replay; we write one as the
/// first line of every commit and read back only the fields below.
/// </summary>
public sealed record CommitInfoAction : DeltaAction
{
    /// <summary>Commit time, milliseconds since the Unix epoch.</summary>
    public long? Timestamp { get; init; }

    /// <summary>The operation, e.g. <c>WRITE</c>, <c>DELETE</c>, <c>CREATE TABLE</c>.</summary>
    public string? Operation { get; init; }

    /// <summary>Operation parameters (string values, as Spark writes them).</summary>
    public IReadOnlyDictionary<string, string>? OperationParameters { get; init; }

    /// <summary>The table version the writer read before committing.</summary>
    public long? ReadVersion { get; init; }

    /// <summary>Whether the commit only adds data without reading the table.</summary>
    public bool? IsBlindAppend { get; init; }

    /// <summary>The engine that wrote the commit.</summary>
    public string? EngineInfo { get; init; }
}

namespace TimeFusion.Client.Cli;

/// <summary>The file formats <c>gen</c> writes and <c>ingest</c> reads, told apart by extension.</summary>
public enum FileFormat
{
    /// <summary>CSV with a header line (<c>.csv</c>).</summary>
    Csv,
    /// <summary>Parquet (<c>.parquet</c>).</summary>
    Parquet,
    /// <summary>JSON lines: one object per line (<c>.jsonl</c>, <c>.ndjson</c>, <c>.json</c>).</summary>
    JsonLines,
}

/// <summary>Reads a <see cref="FileFormat"/> off a file name.</summary>
public static class FileFormats
{
    /// <summary>The format of <paramref name="path"/>; a usage error for other extensions.</summary>
    public static FileFormat Of(string path) => Path.GetExtension(path).ToLowerInvariant() switch
    {
        ".csv" => FileFormat.Csv,
        ".parquet" => FileFormat.Parquet,
        ".jsonl" or ".ndjson" or ".json" => FileFormat.JsonLines,
        var other => throw new CliException($"{path}: unknown file type '{other}' (use .csv, .parquet or .jsonl)", ExitCodes.Usage),
    };
}

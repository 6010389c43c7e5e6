namespace TimeFusion.Buffer;

/// <summary>
/// One Parquet file written by <see cref="BufferTable.ExportParquetAsync"/>: the rows of one date partition
/// up to an LSN, sorted by timestamp, zstd-compressed, without the <c>date</c> partition column (its value is
/// <see cref="Date"/>, the Delta partition value). The facts a Delta <c>add</c> action needs.
/// </summary>
/// <param name="Date">The date partition.</param>
/// <param name="LocalPath">Absolute path of the file.</param>
/// <param name="RelativePath">Path relative to the export directory, <c>date=YYYY-MM-DD/part-….parquet</c> (forward slashes): the Delta <c>add.path</c>.</param>
/// <param name="Rows">Rows in the file.</param>
/// <param name="Bytes">File size.</param>
/// <param name="Stats">Per-column statistics, keyed by column name (see <see cref="ColumnStats"/>).</param>
public sealed record ExportedFile(
    DateOnly Date,
    string LocalPath,
    string RelativePath,
    long Rows,
    long Bytes,
    IReadOnlyDictionary<string, ColumnStats> Stats);

/// <summary>
/// Statistics of one column of an exported file, as Delta <c>add.stats</c> wants them. Min and max are
/// JSON-ready: <see cref="long"/> for integers, <see cref="double"/> for floats, <see cref="bool"/>, and
/// <see cref="string"/> for text (at most <see cref="BufferOptions.MaxStatsStringLength"/> characters; a
/// truncated max gets U+10FFFF appended so it stays an upper bound), dates (<c>yyyy-MM-dd</c>) and
/// timestamps (ISO-8601 UTC with microseconds, <c>2024-01-02T03:04:05.123456Z</c>). Null when unknown.
/// </summary>
/// <param name="NullCount">Rows where the column is null; null when unknown (list columns: Parquet counts empty lists too).</param>
/// <param name="Min">Smallest value, or null.</param>
/// <param name="Max">Largest value, or null.</param>
public sealed record ColumnStats(long? NullCount, object? Min, object? Max);

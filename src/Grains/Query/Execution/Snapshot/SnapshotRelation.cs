using System.Globalization;
using System.Text;
using TimeFusion.Delta;
using TimeFusion.Delta.Actions;
using TimeFusion.Tables;

namespace TimeFusion.Query.Execution;

/// <summary>
/// The SQL of a table's rows in one snapshot: the buffer rows (<see cref="Buffer.BufferSnapshot.Relation"/>)
/// <c>UNION ALL BY NAME</c> a <c>read_parquet</c> over the chosen Delta files, with the columns of the table schema in
/// schema order. The <c>date</c> partition column comes from each file's partition value in the Delta log (the
/// authority on it; data files omit it, and a cached remote file's path does not carry it), so files are grouped by
/// date, one <c>read_parquet</c> per date. An optional cutoff keeps only rows with <c>timestamp ≥ cutoff</c> on every
/// side (newest-first reads, see <see cref="NewestFirstPlan"/>).
/// </summary>
internal static class SnapshotRelation
{
    /// <param name="schema">The table schema.</param>
    /// <param name="bufferRelation">The buffer snapshot's relation (a parenthesized subquery).</param>
    /// <param name="files">The Delta files to read with their local paths, newest first preferred (DuckDB reads them in this order).</param>
    /// <param name="cutoffMicros">Keep only rows at or after this instant (µs since the epoch); null for all rows.</param>
    /// <param name="addedColumns">Columns added after the table was created (<see cref="Delta.DeltaSchemaEvolution.AddedColumns"/>): older files lack them.</param>
    public static string Build(TableSchema schema, string bufferRelation, IReadOnlyList<(AddFile File, string LocalPath)> files, long? cutoffMicros,
        IReadOnlySet<string>? addedColumns)
    {
        var added = addedColumns ?? NoColumns;
        var where = cutoffMicros is { } c ? $" WHERE {SqlNames.Quote(TableSchema.TimestampColumn)} >= {TimestampLiteral(c)}" : "";
        var columns = string.Join(", ", schema.Columns.Select(col => SqlNames.Quote(col.Name)));
        var sql = new StringBuilder();
        sql.Append("SELECT ").Append(columns).Append(" FROM ").Append(bufferRelation).Append(" AS \"__buffer\"").Append(where);
        // Group by date partition value, keeping the given order of first appearance (newest dates first).
        var groups = new List<(string DateExpression, List<AddFile> Files, List<string> Paths)>();
        var byDate = new Dictionary<string, (List<AddFile> Files, List<string> Paths)>(StringComparer.Ordinal);
        foreach (var (file, path) in files)
        {
            // read_parquet expands glob patterns in each entry: a path that looks like one could read other files.
            if (path.AsSpan().IndexOfAny("*?[") >= 0)
                throw new QueryExecutionException(Wire.SqlState.FeatureNotSupported,
                    $"the local path of a data file contains a glob character ('*', '?' or '['), which DuckDB would expand: {path}");
            var date = DateExpression(file);
            if (!byDate.TryGetValue(date, out var group))
            {
                group = ([], []);
                byDate.Add(date, group);
                groups.Add((date, group.Files, group.Paths));
            }
            group.Files.Add(file);
            group.Paths.Add(path);
        }
        // Files may lack columns null in all their rows, or added by ALTER TABLE. The files of a date are read in groups
        // lacking the same columns (a few at most): a column null in all of a group's files is a typed NULL, not read;
        // past a few groups, one read by name (union_by_name reads every footer when binding), a missing column as NULL.
        foreach (var (date, dateFiles, datePaths) in groups)
        foreach (var (fileColumns, indexes) in DataFileColumns.Split(schema, dateFiles, added))
        {
            var paths = indexes.Select(i => datePaths[i]);
            sql.Append("\nUNION ALL BY NAME\nSELECT ");
            var firstColumn = true;
            foreach (var col in schema.Columns)
            {
                if (!firstColumn) sql.Append(", ");
                firstColumn = false;
                if (col.Name == TableSchema.DateColumn && date.Length > 0)
                    sql.Append(date).Append(" AS ").Append(SqlNames.Quote(col.Name));
                else
                    sql.Append(fileColumns.Select(col));
            }
            // Hive partitioning off: the date comes from the log, and a path that happens to look partitioned adds nothing.
            sql.Append(" FROM ").Append(fileColumns.Read(schema, paths)).Append(where);
        }
        return sql.ToString();
    }

    private static readonly IReadOnlySet<string> NoColumns = new HashSet<string>();

    /// <summary>The relation of an empty table of the schema (for a scan that reaches no grain).</summary>
    public static string Empty(TableSchema schema) =>
        "SELECT " + string.Join(", ", schema.Columns.Select(c => $"CAST(NULL AS {ColumnTypeMapping.ToDuckDb(c.Type)}) AS {SqlNames.Quote(c.Name)}")) + " WHERE false";

    /// <summary>The SQL expression of a file's date: a literal from its partition value, or "" to read the file's own column.</summary>
    private static string DateExpression(AddFile file)
    {
        if (file.ParsedPartitionValues is null || !file.ParsedPartitionValues.TryGetValue(TableSchema.DateColumn, out var value))
            return "";
        return value switch
        {
            null => "CAST(NULL AS DATE)",
            DateOnly d => "DATE '" + d.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture) + "'",
            _ => throw new QueryExecutionException(Wire.SqlState.InternalError,
                $"data file '{file.Path}' has a '{TableSchema.DateColumn}' partition value that is not a date"),
        };
    }

    /// <summary>A TIMESTAMPTZ literal for microseconds since the epoch.</summary>
    public static string TimestampLiteral(long micros)
    {
        var t = DateTime.UnixEpoch.AddTicks(checked(micros * 10));
        return "TIMESTAMPTZ '" + t.ToString("yyyy-MM-dd HH:mm:ss.ffffff", CultureInfo.InvariantCulture) + "+00'";
    }

    /// <summary>Whether <see cref="TimestampLiteral"/> can express the instant.</summary>
    public static bool CanExpress(long micros) =>
        micros >= (DateTime.MinValue - DateTime.UnixEpoch).Ticks / 10 + 1 && micros <= (DateTime.MaxValue - DateTime.UnixEpoch).Ticks / 10 - 1;
}

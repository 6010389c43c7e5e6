namespace TimeFusion.Tables;

/// <summary>
/// Reading a table's Parquet files after <c>ALTER TABLE … ADD COLUMN</c>: files written before a column was added do
/// not hold it, and DuckDB's <c>read_parquet</c> fails on a column none of its files has. The wrapped source unions
/// the files by name with an empty relation of the added columns, so a file without one reads it as NULL.
/// </summary>
public static class ParquetColumns
{
    /// <summary>
    /// <paramref name="readParquet"/> (a <c>read_parquet(…)</c> call, with <c>union_by_name = true</c> when it reads
    /// several files) as it is when <paramref name="added"/> is empty, else wrapped so that every column of
    /// <paramref name="schema"/> in <paramref name="added"/> can be selected from it.
    /// </summary>
    public static string Source(string readParquet, TableSchema schema, IReadOnlySet<string> added)
    {
        ArgumentNullException.ThrowIfNull(schema);
        ArgumentNullException.ThrowIfNull(added);
        if (added.Count == 0) return readParquet;
        var nulls = string.Join(", ", schema.Columns.Where(c => added.Contains(c.Name))
            .Select(c => $"CAST(NULL AS {ColumnTypeMapping.ToDuckDb(c.Type)}) AS {SqlNames.Quote(c.Name)}"));
        return $"(SELECT {nulls} WHERE false UNION ALL BY NAME SELECT * FROM {readParquet})";
    }
}

using DuckDB.NET.Data;

namespace TimeFusion.DuckDb;

/// <summary>
/// The columns an <see cref="ArrowScanSource"/> declares to DuckDB: names and DuckDB types, taken from a table the rows
/// also fit (so that the scan and the table union without casts, JSON columns included).
/// </summary>
public sealed class ArrowScanColumns : IDisposable
{
    private ArrowScanColumns(IReadOnlyList<string> names, IReadOnlyList<LogicalTypeHandle> types)
    {
        Names = names;
        Types = types;
    }

    /// <summary>The column names, in order.</summary>
    public IReadOnlyList<string> Names { get; }

    internal IReadOnlyList<LogicalTypeHandle> Types { get; }

    /// <summary>The result columns of <paramref name="sql"/> (bound, not run), e.g. <c>SELECT * EXCLUDE (_lsn) FROM t</c>.</summary>
    /// <exception cref="DuckDbSqlException">DuckDB's parser or binder error.</exception>
    public static ArrowScanColumns Of(DuckDBConnection connection, string sql)
    {
        ArgumentException.ThrowIfNullOrEmpty(sql);
        using var lease = ConnectionLease.Acquire(connection);
        using var prepared = DuckDbStatementRunner.Prepare(lease.Handle, sql);
        var count = checked((int)DuckDbApi.duckdb_prepared_statement_column_count(prepared));
        var names = new string[count];
        var types = new LogicalTypeHandle[count];
        try
        {
            for (var i = 0; i < count; i++)
            {
                names[i] = DuckDbApi.TakeText(DuckDbApi.duckdb_prepared_statement_column_name(prepared, (ulong)i)) ?? "";
                types[i] = DuckDbApi.duckdb_prepared_statement_column_logical_type(prepared, (ulong)i);
                if (types[i].IsInvalid)
                    throw new InvalidOperationException($"DuckDB gave no type for column {i} of the scan");
            }
        }
        catch
        {
            foreach (var t in types)
                t?.Dispose();
            throw;
        }
        return new ArrowScanColumns(names, types);
    }

    /// <summary>Frees the types (sources registered with them must be gone).</summary>
    public void Dispose()
    {
        foreach (var t in Types)
            t.Dispose();
    }
}

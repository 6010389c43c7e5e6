using DuckDB.NET.Data;

namespace TimeFusion.DuckDb;

/// <summary>
/// What the planner asks DuckDB without running anything: whether text parses (statement extraction, which does not
/// bind) and which columns a statement would return (prepare, which binds).
/// </summary>
public static class DuckDbStatements
{
    /// <summary>DuckDB's syntax error for <paramref name="sql"/> (any statement kind, as DuckDB words it), or null when it parses.</summary>
    /// <exception cref="ObjectDisposedException">The connection is closed.</exception>
    public static string? SyntaxError(DuckDBConnection connection, string sql)
    {
        ArgumentNullException.ThrowIfNull(sql);
        using var lease = ConnectionLease.Acquire(connection);
        var count = DuckDbApi.duckdb_extract_statements(lease.Handle, sql, out var extracted);
        using (extracted)
        {
            if (count > 0)
                return null;
            return extracted.IsInvalid ? "syntax error" : DuckDbApi.Text(DuckDbApi.duckdb_extract_statements_error(extracted), "syntax error");
        }
    }

    /// <summary>Binds <paramref name="sql"/> (one statement) and returns its result column names. Nothing runs.</summary>
    /// <exception cref="DuckDbSqlException">DuckDB's parser or binder error.</exception>
    /// <exception cref="ObjectDisposedException">The connection is closed.</exception>
    public static IReadOnlyList<string> ColumnNames(DuckDBConnection connection, string sql)
    {
        ArgumentException.ThrowIfNullOrEmpty(sql);
        using var lease = ConnectionLease.Acquire(connection);
        using var prepared = DuckDbStatementRunner.Prepare(lease.Handle, sql);
        var count = checked((int)DuckDbApi.duckdb_prepared_statement_column_count(prepared));
        var names = new string[count];
        for (var i = 0; i < count; i++)
            names[i] = DuckDbApi.TakeText(DuckDbApi.duckdb_prepared_statement_column_name(prepared, (ulong)i)) ?? "";
        return names;
    }

    /// <summary>
    /// The result columns of <paramref name="sql"/> as <see cref="ColumnNames"/>, each with whether DuckDB types it
    /// <c>JSON</c> (its JSON logical type: a JSON column, <c>-&gt;</c>, <c>::JSON</c>). Nothing runs.
    /// </summary>
    /// <exception cref="DuckDbSqlException">DuckDB's parser or binder error.</exception>
    /// <exception cref="ObjectDisposedException">The connection is closed.</exception>
    public static IReadOnlyList<(string Name, bool IsJson)> Columns(DuckDBConnection connection, string sql)
    {
        ArgumentException.ThrowIfNullOrEmpty(sql);
        using var lease = ConnectionLease.Acquire(connection);
        using var prepared = DuckDbStatementRunner.Prepare(lease.Handle, sql);
        var count = checked((int)DuckDbApi.duckdb_prepared_statement_column_count(prepared));
        var columns = new (string, bool)[count];
        for (var i = 0; i < count; i++)
        {
            var name = DuckDbApi.TakeText(DuckDbApi.duckdb_prepared_statement_column_name(prepared, (ulong)i)) ?? "";
            using var type = DuckDbApi.duckdb_prepared_statement_column_logical_type(prepared, (ulong)i);
            var alias = type.IsInvalid ? null : DuckDbApi.TakeText(DuckDbApi.duckdb_logical_type_get_alias(type));
            columns[i] = (name, string.Equals(alias, "JSON", StringComparison.OrdinalIgnoreCase));
        }
        return columns;
    }

    /// <summary>
    /// Whether <paramref name="sql"/> is exactly one statement that DuckDB binds as a query (SELECT, VALUES, a CTE
    /// over them): nothing that could change the database (DDL, ATTACH, SET, PRAGMA, DML, CALL). Nothing runs.
    /// </summary>
    /// <exception cref="DuckDbSqlException">DuckDB's parser or binder error.</exception>
    /// <exception cref="ObjectDisposedException">The connection is closed.</exception>
    public static bool IsSingleQuery(DuckDBConnection connection, string sql)
    {
        ArgumentException.ThrowIfNullOrEmpty(sql);
        using var lease = ConnectionLease.Acquire(connection);
        var count = DuckDbApi.duckdb_extract_statements(lease.Handle, sql, out var extracted);
        extracted.Dispose();
        if (count != 1) return false;
        using var prepared = DuckDbStatementRunner.Prepare(lease.Handle, sql);
        return DuckDbApi.duckdb_prepared_statement_type(prepared) == DuckDbApi.StatementTypeSelect;
    }
}

using DuckDB.NET.Data;

namespace TimeFusion.DuckDb;

/// <summary>
/// A statement with one VARCHAR parameter and one result value, prepared once through the C API and run many times
/// (a DuckDB.NET command costs ~0.3–1 ms per call, the native round trip 0.05–0.35 ms). Not thread-safe; it keeps
/// its connection's native handle alive until disposed.
/// </summary>
public sealed class DuckDbScalarStatement : IDisposable
{
    private readonly ConnectionLease _connection;
    private readonly PreparedStatementHandle _prepared;

    /// <summary>Prepares <paramref name="sql"/> on <paramref name="connection"/>.</summary>
    /// <exception cref="DuckDbSqlException">DuckDB cannot prepare it.</exception>
    /// <exception cref="ObjectDisposedException">The connection is closed.</exception>
    public DuckDbScalarStatement(DuckDBConnection connection, string sql)
    {
        ArgumentException.ThrowIfNullOrEmpty(sql);
        _connection = ConnectionLease.Acquire(connection);
        try
        {
            _prepared = DuckDbStatementRunner.Prepare(_connection.Handle, sql);
        }
        catch
        {
            _connection.Dispose();
            throw;
        }
    }

    /// <summary>Runs with <paramref name="argument"/> bound to the parameter; the first value (null for NULL or no row).</summary>
    /// <exception cref="DuckDbSqlException">Binding or running failed.</exception>
    public string? Execute(string argument)
    {
        ArgumentNullException.ThrowIfNull(argument);
        ObjectDisposedException.ThrowIf(_prepared.IsClosed, this);
        if (DuckDbApi.duckdb_bind_varchar(_prepared, 1, argument) != DuckDbApi.Success)
            throw new DuckDbSqlException(DuckDbErrorTranslation.InternalError, "cannot bind a parser argument");
        using var result = new DuckDbResultHandle();
        if (DuckDbApi.duckdb_execute_prepared(_prepared, result) != DuckDbApi.Success)
            throw DuckDbErrorTranslation.ToException(DuckDbApi.Text(DuckDbApi.duckdb_result_error(result), "execution failed"));
        if (DuckDbApi.duckdb_column_count(result) < 1 || DuckDbApi.duckdb_row_count(result) < 1 || DuckDbApi.duckdb_value_is_null(result, 0, 0))
            return null;
        return DuckDbApi.TakeText(DuckDbApi.duckdb_value_varchar(result, 0, 0));
    }

    /// <summary>Frees the statement and releases the connection.</summary>
    public void Dispose()
    {
        _prepared.Dispose();
        _connection.Dispose();
    }
}

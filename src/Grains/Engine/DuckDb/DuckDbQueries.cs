using DuckDB.NET.Data;

namespace TimeFusion.DuckDb;

/// <summary>
/// Runs one statement on a DuckDB connection with cancellation that reaches the engine: cancelling the token calls
/// <c>duckdb_interrupt</c> on the connection, so a runaway statement stops within moments rather than running on
/// after its caller gave up. For callers above the engine (the PostgreSQL catalog database).
/// </summary>
public static class DuckDbQueries
{
    /// <summary>
    /// Runs <paramref name="sql"/> (one statement) on <paramref name="connection"/> and returns its whole result.
    /// Blocking; call it off the caller's thread. The connection must not be used by anything else meanwhile.
    /// </summary>
    /// <exception cref="DuckDbSqlException">DuckDB refused or aborted the statement (out of memory: 53200).</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public static ArrowBatches Run(DuckDBConnection connection, string sql, CancellationToken cancellationToken) =>
        DuckDbStatementRunner.Run(connection, sql, targetBatchRows: 0, cancellationToken);

    /// <summary>The first row's value of <paramref name="column"/> in a result of BIGINT counts (0 when the result is empty or null).</summary>
    public static long Int64At(ArrowBatches result, int column)
    {
        ArgumentNullException.ThrowIfNull(result);
        var batch = result.Batches.FirstOrDefault(b => b.Length > 0);
        return batch?.Column(column) is Apache.Arrow.Int64Array counts ? counts.GetValue(0) ?? 0 : 0;
    }

    /// <summary>A new connection to the same database as <paramref name="connection"/> (for a pool).</summary>
    public static DuckDBConnection Duplicate(DuckDBConnection connection)
    {
        ArgumentNullException.ThrowIfNull(connection);
        var copy = connection.Duplicate();
        if (copy.State != System.Data.ConnectionState.Open) copy.Open();
        return copy;
    }
}

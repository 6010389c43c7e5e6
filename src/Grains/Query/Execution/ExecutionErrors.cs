using TimeFusion.DuckDb;

namespace TimeFusion.Query.Execution;

/// <summary>
/// Turns DuckDB errors into <see cref="QueryExecutionException"/>s: the SQLSTATE comes from the DuckDB layer's one
/// mapping (<see cref="DuckDbErrorTranslation"/>).
/// </summary>
internal static class ExecutionErrors
{
    /// <summary>The exception for a DuckDB message.</summary>
    public static QueryExecutionException FromDuckDb(string? duckDbMessage, string? context = null) =>
        From(DuckDbErrorTranslation.ToException(duckDbMessage, context));

    /// <summary>The query layer's exception for the DuckDB layer's.</summary>
    public static QueryExecutionException From(DuckDbSqlException e) => new(e.SqlState, e.Message, e);

    /// <summary>
    /// Runs a statement through the DuckDB layer and wraps its result (or its error) for the query layer; a result over
    /// <paramref name="maxResultBytes"/> fails with 53200 naming <paramref name="limitSetting"/> (MaxResultBytes when null).
    /// </summary>
    public static QueryBatches Run(DuckDB.NET.Data.DuckDBConnection connection, string sql, int targetBatchRows, CancellationToken cancellationToken,
        long maxResultBytes = 0, string? limitSetting = null)
    {
        try
        {
            var result = limitSetting is null
                ? DuckDbStatementRunner.Run(connection, sql, targetBatchRows, cancellationToken, maxResultBytes)
                : DuckDbStatementRunner.Run(connection, sql, targetBatchRows, cancellationToken, maxResultBytes, limitSetting);
            return new QueryBatches(result.Schema, result.Batches);
        }
        catch (DuckDbSqlException e)
        {
            throw From(e);
        }
    }
}

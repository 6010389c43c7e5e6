using TimeFusion.Query.Planning;

namespace TimeFusion.Query.Execution;

/// <summary>Maps DuckDB error messages (<c>"Binder Error: …"</c>) to <see cref="QueryExecutionException"/>s with SQLSTATEs.</summary>
internal static class ExecutionErrors
{
    /// <summary>query_canceled: DuckDB reported an interrupt the caller did not ask for.</summary>
    public const string QueryCanceled = "57014";

    /// <summary>in_failed_sql_transaction: the snapshot's transaction was aborted by an earlier statement.</summary>
    public const string InFailedTransaction = "25P02";

    /// <summary>The exception for a DuckDB message.</summary>
    public static QueryExecutionException FromDuckDb(string? duckDbMessage, string? context = null)
    {
        var (kind, text) = DuckDbErrors.Split(duckDbMessage ?? "unknown DuckDB error");
        var state = kind switch
        {
            "Parser" or "Syntax" => SqlStates.SyntaxError,
            "Binder" or "Catalog" => DuckDbErrors.ToPlanningException(duckDbMessage ?? "").SqlState,
            "Conversion" => SqlStates.InvalidTextRepresentation,
            "Out of Range" => SqlStates.NumericValueOutOfRange,
            "Divide by Zero" => "22012",
            "Invalid Input" => "22023",
            "Mismatch Type" => "42804",
            "Not implemented" => SqlStates.FeatureNotSupported,
            "Interrupt" => QueryCanceled,
            "Out of Memory" => "53200",
            "IO" => "58030",
            _ => SqlStates.InternalError,
        };
        return new QueryExecutionException(state, context is null ? text : $"{context}: {text}");
    }
}

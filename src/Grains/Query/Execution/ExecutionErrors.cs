using TimeFusion.Query.Planning;
using TimeFusion.Wire;

namespace TimeFusion.Query.Execution;

/// <summary>Maps DuckDB error messages (<c>"Binder Error: …"</c>) to <see cref="QueryExecutionException"/>s with SQLSTATEs.</summary>
internal static class ExecutionErrors
{
    /// <summary>The exception for a DuckDB message.</summary>
    public static QueryExecutionException FromDuckDb(string? duckDbMessage, string? context = null)
    {
        var (kind, text) = DuckDbErrors.Split(duckDbMessage ?? "unknown DuckDB error");
        var state = kind switch
        {
            "Parser" or "Syntax" => SqlState.SyntaxError,
            "Binder" or "Catalog" => DuckDbErrors.ToPlanningException(duckDbMessage ?? "").SqlState,
            "Conversion" => SqlState.InvalidTextRepresentation,
            "Out of Range" => SqlState.NumericValueOutOfRange,
            "Divide by Zero" => SqlState.DivisionByZero,
            "Invalid Input" => SqlState.InvalidParameterValue,
            "Mismatch Type" => SqlState.DatatypeMismatch,
            "Not implemented" => SqlState.FeatureNotSupported,
            "Interrupt" => SqlState.QueryCanceled, // DuckDB reported an interrupt the caller did not ask for
            "Out of Memory" => SqlState.OutOfMemory,
            "IO" => SqlState.IoError,
            _ => SqlState.InternalError,
        };
        return new QueryExecutionException(state, context is null ? text : $"{context}: {text}");
    }
}

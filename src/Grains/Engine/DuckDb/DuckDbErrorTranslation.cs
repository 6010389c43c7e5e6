using TimeFusion.Wire;

namespace TimeFusion.DuckDb;

/// <summary>
/// DuckDB error text (<c>"Binder Error: …"</c>) to a PostgreSQL SQLSTATE: the one mapping planning and execution
/// share. The codes are spelled out here because this layer sits below the query layer's constants.
/// </summary>
public static class DuckDbErrorTranslation
{
    /// <summary>XX000 internal_error: anything without a better code.</summary>
    public const string InternalError = "XX000";

    /// <summary>The exception for a DuckDB message; <paramref name="context"/> prefixes its text.</summary>
    public static DuckDbSqlException ToException(string? duckDbMessage, string? context = null)
    {
        var message = duckDbMessage ?? "unknown DuckDB error";
        var (kind, text) = Split(message);
        // DuckDB's out-of-memory text carries tuning advice meant for its own users (SET memory_limit, threads): the
        // client gets what happened and which setting bounds it.
        if (kind == "Out of Memory" || message.Contains("bad allocation", StringComparison.Ordinal))
            return new DuckDbSqlException(SqlState.OutOfMemory, OutOfMemoryText, message);
        return new DuckDbSqlException(SqlStateOf(message), context is null ? text : $"{context}: {text}", message);
    }

    /// <summary>What a client reads when a statement needed more memory than the server allows.</summary>
    public const string OutOfMemoryText =
        "out of memory: the statement needed more memory than the server allows (TimeFusion:Execution:ProcessMemoryLimitBytes, TimeFusion:Buffer:MemoryLimitBytes)";

    /// <summary>The SQLSTATE of a DuckDB message.</summary>
    public static string SqlStateOf(string duckDbMessage)
    {
        var (kind, text) = Split(duckDbMessage);
        return kind switch
        {
            "Parser" or "Syntax" => SqlState.SyntaxError,
            "Catalog" when text.StartsWith("Table with name", StringComparison.Ordinal) => SqlState.UndefinedTable,
            "Catalog" when text.Contains("Function with name", StringComparison.Ordinal) => SqlState.UndefinedFunction,
            "Catalog" => SqlState.UndefinedObject,
            "Binder" when text.StartsWith("Referenced column", StringComparison.Ordinal)
                || text.Contains("not found in FROM clause", StringComparison.Ordinal)
                || text.Contains("does not have a column named", StringComparison.Ordinal) => SqlState.UndefinedColumn,
            "Binder" when text.StartsWith("Referenced table", StringComparison.Ordinal) => SqlState.UndefinedTable,
            "Binder" when text.StartsWith("Ambiguous reference", StringComparison.Ordinal) => SqlState.AmbiguousColumn,
            "Binder" when text.Contains("must appear in the GROUP BY", StringComparison.Ordinal) => SqlState.GroupingError,
            "Binder" when text.StartsWith("No function matches", StringComparison.Ordinal) => SqlState.UndefinedFunction,
            "Binder" => SqlState.SyntaxErrorOrAccessRuleViolation,
            "Conversion" => SqlState.InvalidTextRepresentation,
            "Out of Range" => SqlState.NumericValueOutOfRange,
            "Divide by Zero" => SqlState.DivisionByZero,
            "Invalid Input" => SqlState.InvalidParameterValue,
            "Mismatch Type" => SqlState.DatatypeMismatch,
            "Not implemented" => SqlState.FeatureNotSupported,
            "Interrupt" => SqlState.QueryCanceled,
            "Out of Memory" => SqlState.OutOfMemory,
            "IO" => SqlState.IoError,
            _ => InternalError,
        };
    }

    /// <summary>
    /// Splits <c>"Binder Error: text\n\nLINE 1: …"</c> into ("Binder", "text"). The LINE/caret block is dropped:
    /// positions refer to SQL text we generated, not to what the caller wrote.
    /// </summary>
    public static (string Kind, string Text) Split(string message)
    {
        ArgumentNullException.ThrowIfNull(message);
        var text = message.Trim();
        var line = text.IndexOf("\n\nLINE ", StringComparison.Ordinal);
        if (line >= 0) text = text[..line].TrimEnd();
        var colon = text.IndexOf(" Error: ", StringComparison.Ordinal);
        if (colon > 0 && colon < 40 && !text[..colon].Contains('\n'))
            return (text[..colon], text[(colon + " Error: ".Length)..].Trim());
        return ("", text);
    }
}

using TimeFusion.Wire;
namespace TimeFusion.Query.Planning;

/// <summary>Turns DuckDB error messages into <see cref="SqlPlanningException"/>s with PostgreSQL SQLSTATEs.</summary>
internal static class DuckDbErrors
{
    /// <summary>Maps a DuckDB message (<c>"Binder Error: …"</c>) to an exception; <paramref name="context"/> prefixes it.</summary>
    public static SqlPlanningException ToPlanningException(string duckDbMessage, string? context = null)
    {
        var (kind, text) = Split(duckDbMessage);
        var state = kind switch
        {
            "Parser" => SqlState.SyntaxError,
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
            "Not implemented" => SqlState.FeatureNotSupported,
            _ => SqlState.InternalError,
        };
        return new SqlPlanningException(state, context is null ? text : $"{context}: {text}");
    }

    /// <summary>
    /// Splits <c>"Binder Error: text\n\nLINE 1: …"</c> into ("Binder", "text"). The LINE/caret block is dropped:
    /// positions refer to SQL text we generated, not to what the caller wrote.
    /// </summary>
    public static (string Kind, string Text) Split(string message)
    {
        var text = message.Trim();
        var line = text.IndexOf("\n\nLINE ", StringComparison.Ordinal);
        if (line >= 0) text = text[..line].TrimEnd();
        var colon = text.IndexOf(" Error: ", StringComparison.Ordinal);
        if (colon > 0 && colon < 40 && !text[..colon].Contains('\n'))
            return (text[..colon], text[(colon + " Error: ".Length)..].Trim());
        return ("", text);
    }
}

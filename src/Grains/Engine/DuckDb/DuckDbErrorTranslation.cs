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
        var state = SqlStateOf(message);
        if (state == SqlState.UndefinedFunction) text = UndefinedFunctionText(text);
        return new DuckDbSqlException(state, context is null ? text : $"{context}: {text}", message);
    }

    /// <summary>
    /// DuckDB's "Scalar Function with name f does not exist! Did you mean …" and "No function matches … 'f(A, B)' …"
    /// in PostgreSQL's words: <c>function f(a, b) does not exist</c>, or <c>operator does not exist: A op B</c>.
    /// </summary>
    public static string UndefinedFunctionText(string text)
    {
        var named = System.Text.RegularExpressions.Regex.Match(text, @"Function with name (\S+?) does not exist");
        if (named.Success)
        {
            var name = named.Groups[1].Value;
            return IsOperatorName(name) ? $"operator does not exist: {name}" : $"function {name} does not exist";
        }
        var typed = System.Text.RegularExpressions.Regex.Match(text, @"No function matches the given name and argument types '(.+?)\((.*?)\)'");
        if (typed.Success)
        {
            var name = typed.Groups[1].Value;
            var args = typed.Groups[2].Value.Split(", ", StringSplitOptions.RemoveEmptyEntries).Select(a => a.Replace("STRING_LITERAL", "unknown").ToLowerInvariant()).ToList();
            return IsOperatorName(name)
                ? $"operator does not exist: {string.Join($" {name} ", args)}"
                : $"function {name}({string.Join(", ", args)}) does not exist";
        }
        return text;
    }

    private static bool IsOperatorName(string name) => name.Length > 0 && !name.Any(char.IsLetterOrDigit);

    /// <summary>The message of PostgreSQL's 22012, raised by SQL that divides by zero.</summary>
    public const string DivisionByZeroText = "division by zero";

    /// <summary>What a client reads when a statement needed more memory than the server allows.</summary>
    public const string OutOfMemoryText =
        "out of memory: the statement needed more memory than the server allows (TimeFusion:Execution:ProcessMemoryLimitBytes, TimeFusion:Buffer:MemoryLimitBytes)";

    /// <summary>The SQLSTATE of a DuckDB message.</summary>
    public static string SqlStateOf(string duckDbMessage)
    {
        var (kind, text) = Split(duckDbMessage);
        if (IsTooComplex(text)) return SqlState.StatementTooComplex;
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
            // Raised by the planner's PostgreSQL division (PostgresCompatibilityFunctions: __pg_div, __pg_mod).
            "Invalid Input" when text == DivisionByZeroText => SqlState.DivisionByZero,
            "Invalid Input" => SqlState.InvalidParameterValue,
            "Mismatch Type" => SqlState.DatatypeMismatch,
            "Not implemented" => SqlState.FeatureNotSupported,
            "Interrupt" => SqlState.QueryCanceled,
            "Out of Memory" => SqlState.OutOfMemory,
            "IO" => SqlState.IoError,
            _ => InternalError,
        };
    }

    /// <summary>The client's message for a statement nesting deeper than DuckDB's expression depth limit (54001).</summary>
    public const string TooComplexMessage = "statement is too complex: expressions or subqueries nest too deeply";

    /// <summary>Whether a DuckDB message is about the expression depth limit.</summary>
    public static bool IsTooComplex(string text) =>
        text.Contains("expression depth", StringComparison.OrdinalIgnoreCase) || text.Contains("max_expression_depth", StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// Splits <c>"Binder Error: text\n\nLINE 1: …"</c> into ("Binder", "text"). Everything after the first blank line is
    /// dropped: the LINE/caret block (positions refer to SQL text we generated, not to what the caller wrote) and DuckDB's
    /// advice (<c>Possible solutions: … SET memory_limit …</c>, tuning guides), which names settings clients cannot change.
    /// </summary>
    public static (string Kind, string Text) Split(string message)
    {
        ArgumentNullException.ThrowIfNull(message);
        var text = message.Trim();
        var blank = text.IndexOf("\n\n", StringComparison.Ordinal);
        if (blank >= 0) text = text[..blank].TrimEnd();
        // "Did you mean …?" names DuckDB's functions and types, not PostgreSQL's.
        var guess = text.IndexOf("\nDid you mean", StringComparison.Ordinal);
        if (guess > 0) text = text[..guess].TrimEnd();
        var advice = text.IndexOf("Possible solutions", StringComparison.Ordinal);
        if (advice > 0) text = text[..advice].TrimEnd();
        // "Max expression depth limit of 1000 exceeded. Use "SET max_expression_depth TO x" …": a setting clients
        // cannot change; said in PostgreSQL's words instead.
        if (IsTooComplex(text)) text = TooComplexMessage;
        var colon = text.IndexOf(" Error: ", StringComparison.Ordinal);
        if (colon > 0 && colon < 40 && !text[..colon].Contains('\n'))
            return (text[..colon], text[(colon + " Error: ".Length)..].Trim());
        return ("", text);
    }
}

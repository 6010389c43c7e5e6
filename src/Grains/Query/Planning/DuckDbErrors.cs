using TimeFusion.DuckDb;

namespace TimeFusion.Query.Planning;

/// <summary>
/// Turns DuckDB errors into <see cref="SqlPlanningException"/>s; the SQLSTATE comes from the DuckDB layer's one
/// mapping (<see cref="DuckDbErrorTranslation"/>).
/// </summary>
internal static class DuckDbErrors
{
    /// <summary>Maps a DuckDB message (<c>"Binder Error: …"</c>) to an exception; <paramref name="context"/> prefixes it.</summary>
    public static SqlPlanningException ToPlanningException(string duckDbMessage, string? context = null) =>
        ToPlanningException(DuckDbErrorTranslation.ToException(duckDbMessage, context));

    /// <summary>The planning exception for the DuckDB layer's.</summary>
    public static SqlPlanningException ToPlanningException(DuckDbSqlException e, string? context = null)
    {
        // A marker operator (PostgresOperators) is named as the client wrote it.
        var message = e.Message.Contains("&&", StringComparison.Ordinal)
            ? System.Text.RegularExpressions.Regex.Replace(e.Message, @"&&[~!*^>]+", m => PostgresOperators.PostgresName(m.Value))
            : e.Message;
        return new(e.SqlState, context is null ? message : $"{context}: {message}");
    }

    /// <summary>Splits <c>"Binder Error: text\n\nLINE 1: …"</c> into ("Binder", "text").</summary>
    public static (string Kind, string Text) Split(string message) => DuckDbErrorTranslation.Split(message);
}

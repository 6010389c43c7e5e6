using DuckDB.NET.Data;
using TimeFusion.Buffer;
using TimeFusion.Tables;

namespace TimeFusion.Query.Execution;

/// <summary>
/// Puts a DuckDB connection in the time zone a statement runs in (the PostgreSQL session's <c>TimeZone</c>), as
/// PostgreSQL runs every statement in it: timestamptz text (casts, concatenation) is shown in it and text without an
/// offset is read in it. Every statement sets it, so that no zone left on a pooled connection leaks into the next one.
/// </summary>
internal static class SessionTimeZone
{
    /// <summary>
    /// Sets <paramref name="zone"/> (null: UTC) on <paramref name="connection"/>. A zone DuckDB's ICU does not know
    /// (the session accepted it from the OS's zone database) falls back to UTC, as the planner's bounds did.
    /// </summary>
    /// <exception cref="DuckDBException">Setting UTC failed (e.g. the connection's transaction is aborted).</exception>
    public static void Set(DuckDBConnection connection, string? zone)
    {
        if (zone is not null)
        {
            try
            {
                DuckDbCommands.Execute(connection, "SET TimeZone = " + SqlNames.Literal(zone));
                return;
            }
            catch (DuckDBException e) when (!e.Message.Contains("transaction is aborted", StringComparison.OrdinalIgnoreCase))
            {
                // An unknown zone: UTC below.
            }
        }
        DuckDbCommands.Execute(connection, "SET TimeZone = 'UTC'");
    }
}

namespace TimeFusion.DuckDb;

/// <summary>
/// DuckDB refused or aborted a statement, or a call into the C API failed. <see cref="SqlState"/> is the PostgreSQL
/// SQLSTATE the error maps to (<see cref="DuckDbErrorTranslation"/>); the message is DuckDB's text without its
/// position block (which points into SQL we generated), prefixed by what we were doing where that helps.
/// </summary>
public sealed class DuckDbSqlException : Exception
{
    /// <summary>Creates the exception.</summary>
    public DuckDbSqlException(string sqlState, string message, string? duckDbMessage = null, Exception? inner = null) : base(message, inner)
    {
        ArgumentException.ThrowIfNullOrEmpty(sqlState);
        SqlState = sqlState;
        DuckDbMessage = duckDbMessage ?? message;
    }

    /// <summary>The five-character SQLSTATE code.</summary>
    public string SqlState { get; }

    /// <summary>DuckDB's message as it came (with its error kind and position block).</summary>
    public string DuckDbMessage { get; }
}

namespace TimeFusion.Query.Execution;

/// <summary>
/// A statement failed while it ran: DuckDB refused or aborted it. <see cref="SqlState"/> is the PostgreSQL SQLSTATE
/// the wire protocol reports (e.g. <c>42703</c> unknown column, <c>22xxx</c> bad data, <c>XX000</c> otherwise);
/// the message is DuckDB's, without the position block that points into SQL text we generated.
/// </summary>
public sealed class QueryExecutionException : Exception
{
    /// <summary>Creates the exception.</summary>
    public QueryExecutionException(string sqlState, string message, Exception? inner = null) : base(message, inner)
    {
        ArgumentException.ThrowIfNullOrEmpty(sqlState);
        SqlState = sqlState;
    }

    /// <summary>The five-character SQLSTATE code.</summary>
    public string SqlState { get; }
}

namespace TimeFusion.Query.Planning;

/// <summary>
/// A SQL statement cannot be planned: bad syntax, an unknown table or column, a project the caller may not
/// touch, or a construct we do not support. <see cref="SqlState"/> is the PostgreSQL SQLSTATE the wire
/// protocol reports (see <see cref="Wire.SqlState"/>).
/// </summary>
public sealed class SqlPlanningException : Exception
{
    /// <summary>Creates the exception with a SQLSTATE code and a message for the client.</summary>
    public SqlPlanningException(string sqlState, string message) : base(message)
    {
        ArgumentException.ThrowIfNullOrEmpty(sqlState);
        SqlState = sqlState;
    }

    /// <summary>The five-character SQLSTATE code, e.g. <c>42601</c>.</summary>
    public string SqlState { get; }
}

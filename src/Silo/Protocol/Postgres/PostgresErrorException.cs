namespace TimeFusion.Silo.Protocol.Postgres;

/// <summary>
/// An error for the client, with its SQLSTATE (see <see cref="SqlState"/>). The protocol layer turns it
/// into an ErrorResponse; the connection stays usable.
/// </summary>
public class PostgresErrorException : Exception
{
    /// <summary>Creates an error with a SQLSTATE and a message.</summary>
    public PostgresErrorException(string sqlState, string message, Exception? innerException = null)
        : base(message, innerException)
    {
        if (sqlState is null || sqlState.Length != 5)
        {
            throw new ArgumentException("a SQLSTATE is five characters", nameof(sqlState));
        }
        SqlState = sqlState;
    }

    /// <summary>The five-character SQLSTATE code.</summary>
    public string SqlState { get; }

    /// <summary>Optional secondary message (ErrorResponse field D).</summary>
    public string? Detail { get; init; }

    /// <summary>Optional suggestion (ErrorResponse field H).</summary>
    public string? Hint { get; init; }

    /// <summary>Optional 1-based character position in the statement (ErrorResponse field P).</summary>
    public int? Position { get; init; }

    /// <summary>Optional context, e.g. the COPY line a bad value came from (ErrorResponse field W).</summary>
    public string? Where { get; init; }
}

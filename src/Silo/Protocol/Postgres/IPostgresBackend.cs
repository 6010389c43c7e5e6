namespace TimeFusion.Silo.Protocol.Postgres;

/// <summary>
/// What the PostgreSQL wire protocol layer needs from the query engine behind it: users and sessions.
/// The protocol layer owns framing, authentication, formats, COPY parsing, cancellation and timeouts;
/// the backend owns SQL. Errors the client should see carry a SQLSTATE: throw <see cref="PostgresErrorException"/>.
/// </summary>
public interface IPostgresBackend
{
    /// <summary>
    /// Looks up a user by the name the client sent. Returns null for an unknown user (the client then
    /// gets the same answer as for a wrong password, so user names cannot be probed).
    /// </summary>
    ValueTask<PostgresUser?> FindUserAsync(string userName, CancellationToken cancellationToken);

    /// <summary>
    /// How an unknown user name is asked for its password: the method most users have, so the method code a client
    /// receives does not tell known names from unknown ones. Default SCRAM-SHA-256.
    /// </summary>
    PostgresAuthMethod UnknownUserAuthMethod => PostgresAuthMethod.ScramSha256;

    /// <summary>Opens a session for an authenticated user. Disposed when the connection ends.</summary>
    ValueTask<IPostgresSession> OpenSessionAsync(PostgresUser user, PostgresSessionInfo info, CancellationToken cancellationToken);
}

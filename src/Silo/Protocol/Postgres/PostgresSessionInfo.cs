using System.Net;

namespace TimeFusion.Silo.Protocol.Postgres;

/// <summary>What the protocol layer knows about a connection when it opens a session.</summary>
/// <param name="Database">The database name from the startup packet (defaults to the user name, as in PostgreSQL).</param>
/// <param name="StartupParameters">Every startup parameter the client sent (user, database, application_name, options, …).</param>
/// <param name="RemoteEndPoint">The client's address, when known.</param>
/// <param name="ProcessId">The process id reported to the client in BackendKeyData (unique per live connection).</param>
public sealed record PostgresSessionInfo(
    string Database,
    IReadOnlyDictionary<string, string> StartupParameters,
    EndPoint? RemoteEndPoint,
    int ProcessId)
{
    /// <summary>
    /// The current value of a setting the protocol layer holds (<c>application_name</c>, <c>TimeZone</c>, … as SHOW
    /// reports it), or null for one it does not: SET of these never reaches the backend, which reads them here.
    /// </summary>
    public Func<string, string?> Setting { get; init; } = _ => null;
}

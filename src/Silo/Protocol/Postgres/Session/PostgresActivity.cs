using System.Net;

namespace TimeFusion.Silo.Protocol.Postgres.Session;

/// <summary>One connection of this silo as <c>pg_stat_activity</c> shows it, at the moment it was read.</summary>
/// <param name="ProcessId">The process id of BackendKeyData (pg_stat_activity.pid).</param>
/// <param name="UserName">The authenticated user.</param>
/// <param name="Database">The database named at start-up.</param>
/// <param name="ApplicationName">The connection's current application_name.</param>
/// <param name="Client">The client's address and port, when known.</param>
/// <param name="BackendStart">When the connection was accepted.</param>
/// <param name="State"><c>active</c>, <c>idle</c>, <c>idle in transaction</c> or <c>idle in transaction (aborted)</c>.</param>
/// <param name="Query">The statement running now, or the last one (empty before the first).</param>
/// <param name="QueryStart">When <paramref name="Query"/> started.</param>
/// <param name="StateChange">When <paramref name="State"/> last changed.</param>
public sealed record PostgresActivity(
    int ProcessId,
    string UserName,
    string Database,
    string ApplicationName,
    IPEndPoint? Client,
    DateTimeOffset BackendStart,
    string State,
    string Query,
    DateTimeOffset? QueryStart,
    DateTimeOffset StateChange);

using System.Collections.Concurrent;
using TimeFusion.Silo.Protocol.Postgres.Connection;

namespace TimeFusion.Silo.Protocol.Postgres.Session;

/// <summary>
/// This silo's authenticated PostgreSQL connections (one registry per listener): what <c>pg_stat_activity</c> shows and
/// what <c>pg_cancel_backend</c> reaches. Connections of other silos are not here: each silo answers for its own.
/// </summary>
public sealed class PostgresSessions
{
    private readonly ConcurrentDictionary<int, PostgresConnection> _connections = new();

    internal void Add(PostgresConnection connection) => _connections[connection.ProcessId] = connection;

    internal void Remove(PostgresConnection connection) => _connections.TryRemove(new KeyValuePair<int, PostgresConnection>(connection.ProcessId, connection));

    /// <summary>Every connection now, ordered by process id.</summary>
    public IReadOnlyList<PostgresActivity> Snapshot() =>
        _connections.Values.Select(c => c.Activity()).OfType<PostgresActivity>().OrderBy(a => a.ProcessId).ToList();

    /// <summary>The connection with that process id now, or null.</summary>
    public PostgresActivity? Find(int processId) => _connections.TryGetValue(processId, out var c) ? c.Activity() : null;

    /// <summary>
    /// Cancels the statement running on <paramref name="processId"/> through the same path as a CancelRequest (57014
    /// for that statement; nothing happens to an idle connection). Returns whether the connection exists.
    /// </summary>
    public bool Cancel(int processId)
    {
        if (!_connections.TryGetValue(processId, out var connection)) return false;
        connection.CancelCurrentStatement();
        return true;
    }
}

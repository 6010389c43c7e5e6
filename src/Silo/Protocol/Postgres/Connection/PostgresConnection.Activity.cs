using System.Net;
using TimeFusion.Silo.Protocol.Postgres.Session;

namespace TimeFusion.Silo.Protocol.Postgres.Connection;

/// <summary>What this connection is doing, for <c>pg_stat_activity</c> (<see cref="PostgresSessions"/>).</summary>
internal sealed partial class PostgresConnection
{
    private readonly Lock _activityLock = new();
    private readonly DateTimeOffset _backendStart = DateTimeOffset.UtcNow;
    private string _activityDatabase = "";
    private string _applicationName = "";
    private string _query = "";
    private DateTimeOffset? _queryStart;
    private DateTimeOffset _stateChange = DateTimeOffset.UtcNow;
    private bool _running;

    /// <summary>After start-up: the connection shows in pg_stat_activity from now on.</summary>
    private void StartActivity(string database)
    {
        lock (_activityLock)
        {
            _activityDatabase = database;
            _applicationName = CurrentSetting("application_name") ?? "";
        }
        _sessions?.Add(this);
    }

    /// <summary>A statement (or a simple query's statements) starts: state active.</summary>
    private void BeginActivity(string sql)
    {
        // Read here, on the connection's own task: the settings are not safe to read from another thread.
        var applicationName = CurrentSetting("application_name") ?? "";
        lock (_activityLock)
        {
            _applicationName = applicationName;
            _query = sql;
            _queryStart = DateTimeOffset.UtcNow;
            _stateChange = _queryStart.Value;
            _running = true;
        }
    }

    /// <summary>ReadyForQuery: the connection waits for the client again (idle, or idle in a transaction).</summary>
    private void EndActivity()
    {
        var applicationName = _user is null ? "" : CurrentSetting("application_name") ?? "";
        lock (_activityLock)
        {
            _applicationName = applicationName;
            if (!_running) return;
            _running = false;
            _stateChange = DateTimeOffset.UtcNow;
        }
    }

    /// <summary>This connection as pg_stat_activity shows it now; null before authentication.</summary>
    internal PostgresActivity? Activity()
    {
        if (_user is not { } user) return null;
        lock (_activityLock)
        {
            var state = _running ? "active" : _txStatus switch
            {
                TxInBlock => "idle in transaction",
                TxFailed => "idle in transaction (aborted)",
                _ => "idle",
            };
            return new PostgresActivity(ProcessId, user.Name, _activityDatabase, _applicationName, RemoteEndPoint as IPEndPoint,
                _backendStart, state, _query, _queryStart, _stateChange);
        }
    }
}

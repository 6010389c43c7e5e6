using System.Collections.Concurrent;
using System.Text.RegularExpressions;
using DuckDB.NET.Data;
using TimeFusion.Silo.Protocol.Postgres;
using TimeFusion.Wire;

namespace TimeFusion.Tests.Protocol.Postgres;

/// <summary>
/// A test backend: plain in-memory DuckDB that runs the SQL it is given and returns DuckDB's own Arrow
/// results (lossless mode, so JSON and UUID columns carry their Arrow extension names). Records every
/// statement, can make statements wait for a signal, and refuses any statement naming <c>forbidden</c> (42501).
/// </summary>
public sealed class DuckDbTestBackend : IPostgresBackend, IAsyncDisposable
{
    private readonly DuckDBConnection _root;

    public DuckDbTestBackend()
    {
        _root = new DuckDBConnection("Data Source=:memory:");
        _root.Open();
    }

    public ConcurrentDictionary<string, PostgresUser> Users { get; } = new(StringComparer.Ordinal);

    /// <summary>Every statement executed or described, in order.</summary>
    public ConcurrentQueue<string> Statements { get; } = new();

    /// <summary>Sessions currently open.</summary>
    public int OpenSessions => _openSessions;

    internal int _openSessions;

    /// <summary>Signalled with the SQL text whenever a statement starts executing.</summary>
    public event Action<string>? StatementStarted;

    internal void OnStarted(string sql) => StatementStarted?.Invoke(sql);

    public void AddUser(string name, string password, PostgresAuthMethod method = PostgresAuthMethod.ScramSha256) =>
        Users[name] = new PostgresUser { Name = name, PasswordOrScramSecret = password, AuthMethod = method, Projects = ["p1"] };

    /// <summary>Runs SQL directly (test setup).</summary>
    public void Exec(string sql)
    {
        using var cmd = _root.CreateCommand();
        cmd.CommandText = sql;
        cmd.ExecuteNonQuery();
    }

    /// <summary>Runs a scalar query directly (test checks).</summary>
    public object? Scalar(string sql)
    {
        using var cmd = _root.CreateCommand();
        cmd.CommandText = sql;
        return cmd.ExecuteScalar();
    }

    public ValueTask<PostgresUser?> FindUserAsync(string userName, CancellationToken cancellationToken) =>
        ValueTask.FromResult(Users.TryGetValue(userName, out var user) ? user : null);

    public ValueTask<IPostgresSession> OpenSessionAsync(PostgresUser user, PostgresSessionInfo info, CancellationToken cancellationToken)
    {
        if (info.Database == "nodb")
        {
            throw new PostgresErrorException(SqlState.InvalidCatalogName, "database \"nodb\" does not exist");
        }
        var connection = _root.Duplicate();
        connection.Open();
        using (var cmd = connection.CreateCommand())
        {
            cmd.CommandText = "SET arrow_lossless_conversion = true; SET TimeZone = 'UTC'";
            cmd.ExecuteNonQuery();
        }
        Interlocked.Increment(ref _openSessions);
        return ValueTask.FromResult<IPostgresSession>(new DuckDbTestSession(this, connection));
    }

    public ValueTask DisposeAsync()
    {
        _root.Dispose();
        return ValueTask.CompletedTask;
    }

    internal static Exception MapError(Exception e)
    {
        if (e is PostgresErrorException or OperationCanceledException)
        {
            return e;
        }
        var message = e.Message.Split('\n')[0];
        var state = message switch
        {
            _ when message.StartsWith("Parser Error", StringComparison.Ordinal) => SqlState.SyntaxError,
            _ when message.StartsWith("Catalog Error: Table", StringComparison.Ordinal) && message.Contains("does not exist") => SqlState.UndefinedTable,
            _ when message.StartsWith("Binder Error: Referenced column", StringComparison.Ordinal) => SqlState.UndefinedColumn,
            _ when message.StartsWith("Conversion Error", StringComparison.Ordinal) => SqlState.InvalidTextRepresentation,
            _ when message.StartsWith("INTERRUPT", StringComparison.OrdinalIgnoreCase) || message.Contains("Interrupted") => SqlState.QueryCanceled,
            _ when message.StartsWith("Constraint Error", StringComparison.Ordinal) => "23000",
            _ when message.StartsWith("Out of Memory", StringComparison.OrdinalIgnoreCase) => SqlState.OutOfMemory,
            _ => SqlState.InternalError,
        };
        return new PostgresErrorException(state, message, e);
    }

    internal static bool IsForbidden(string sql) => Regex.IsMatch(sql, @"\bforbidden\b", RegexOptions.IgnoreCase);
}

using DuckDB.NET.Data;
using TimeFusion.DuckDb;

namespace TimeFusion.Query.Planning;

/// <summary>
/// DuckDB's own SQL parser and binder, on a private in-memory database that never holds data: parse trees
/// (<c>json_serialize_sql</c> / <c>json_deserialize_sql</c>), syntax checks of any statement, binding against
/// empty tables of catalog schemas, and evaluation of constant expressions. Thread-safe: each caller rents a
/// connection of its own from a small pool.
/// </summary>
public sealed class SqlParser : IDisposable
{
    private readonly DuckDBConnection _root;
    private readonly DuckDbSessionPool<ParserSession> _sessions;
    private readonly FunctionCatalog _functions;
    private int _disposed;

    /// <summary>Opens the parser database.</summary>
    public SqlParser(SqlParserOptions? options = null)
    {
        options ??= new SqlParserOptions();
        if (options.MaxIdleSessions < 0) throw new ArgumentOutOfRangeException(nameof(options), "MaxIdleSessions must be >= 0");
        _root = new DuckDBConnection("DataSource=:memory:");
        _root.Open();
        try
        {
            using (var cmd = _root.CreateCommand())
            {
                // Planning never reads files; a query that tries is refused before it gets here, and this is the backstop.
                cmd.CommandText = $"SET threads = 1; SET memory_limit = '{options.MemoryLimit.Replace("'", "''")}'; "
                    + "SET temp_directory = ''; SET enable_external_access = false; SET TimeZone = 'UTC'";
                cmd.ExecuteNonQuery();
            }
            // The PostgreSQL spellings the executor defines, so that statements using them bind here too.
            TimeFusion.DuckDb.DuckDbMacros.Install(_root, Execution.PostgresCompatibilityFunctions.CreateMacrosSql
                + Execution.PostgresCompatibilityFunctions.CreateTypesSql);
            _functions = LoadFunctions(_root);
            _sessions = new DuckDbSessionPool<ParserSession>(_root, options.MaxIdleSessions, c => new ParserSession(c, _functions), s => s.IsReusable);
        }
        catch
        {
            _root.Dispose();
            throw;
        }
    }

    /// <summary>Rents a session; give it back with <see cref="Return"/>.</summary>
    internal ParserSession Rent()
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        return _sessions.Rent();
    }

    /// <summary>Returns a rented session (closed instead when the pool is full or the session is unusable).</summary>
    internal void Return(ParserSession session) => _sessions.Return(session, reusable: true);

    /// <summary>Runs <paramref name="work"/> with a rented session.</summary>
    internal T Use<T>(Func<ParserSession, T> work)
    {
        var session = Rent();
        try
        {
            return work(session);
        }
        finally
        {
            Return(session);
        }
    }

    /// <summary>
    /// DuckDB's syntax error for one statement of any kind, or null when it parses. Does not bind: unknown tables
    /// and columns are not errors here.
    /// </summary>
    public string? SyntaxError(string statement) => Use(s => s.SyntaxError(statement));

    /// <summary>Closes every connection.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        _sessions.Dispose();
        _root.Dispose();
    }

    private static FunctionCatalog LoadFunctions(DuckDBConnection connection)
    {
        var rows = new List<(string, string, string?)>();
        using var cmd = connection.CreateCommand();
        cmd.CommandText = "SELECT DISTINCT function_name, function_type, macro_definition FROM duckdb_functions()";
        using var reader = cmd.ExecuteReader();
        while (reader.Read())
        {
            rows.Add((reader.GetString(0), reader.GetString(1), reader.IsDBNull(2) ? null : reader.GetString(2)));
        }
        return new FunctionCatalog(rows);
    }
}

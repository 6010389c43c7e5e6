using System.Collections.Frozen;
using Apache.Arrow;
using DuckDB.NET.Data;
using TimeFusion.DuckDb;
using System.Text.Json.Nodes;
using TimeFusion.Buffer;
using TimeFusion.Query.Planning;
using TimeFusion.Grains;
using TimeFusion.Query.Execution;
using TimeFusion.Silo.Protocol.Postgres;
using TimeFusion.Tables;
using TimeFusion.Wire;

namespace TimeFusion.Silo.Backend.Catalog;

/// <summary>
/// The silo's answer to PostgreSQL catalog queries: a private in-memory DuckDB database holding
/// <c>pg_catalog</c> and <c>information_schema</c> relations that describe TimeFusion's tables (from the catalog
/// grain), the configured users and the PostgreSQL types the endpoint speaks. Statements are translated by
/// <see cref="PgCatalogRewriter"/> and run here; the silo's buffer database (whose own catalog shows internal
/// buffer tables) is never consulted. Thread-safe: statements run on a small pool of connections, each bounded by its
/// session's timeout, cancel request and disconnect (the token interrupts DuckDB), so one runaway catalog query holds
/// one connection for at most its statement timeout and never the others; refreshing the described tables and users
/// is serialized on its own connection.
/// </summary>
public sealed class PgCatalogDatabase : IDisposable
{
    private static readonly (string Name, string Setting, string Category)[] ServerSettings =
    [
        ("server_version", "15.0", "Preset Options"),
        ("server_version_num", "150000", "Preset Options"),
        ("server_encoding", "UTF8", "Preset Options"),
        ("client_encoding", "UTF8", "Client Connection Defaults"),
        ("DateStyle", "ISO, MDY", "Client Connection Defaults"),
        ("IntervalStyle", "postgres", "Client Connection Defaults"),
        ("TimeZone", "UTC", "Client Connection Defaults"),
        ("integer_datetimes", "on", "Preset Options"),
        ("standard_conforming_strings", "on", "Version and Platform Compatibility"),
        ("search_path", "\"$user\", public", "Client Connection Defaults"),
        ("max_identifier_length", "63", "Preset Options"),
        ("default_transaction_isolation", "read committed", "Client Connection Defaults"),
        ("transaction_isolation", "read committed", "Client Connection Defaults"),
        ("default_transaction_read_only", "off", "Client Connection Defaults"),
        ("is_superuser", "off", "Preset Options"),
        ("lc_collate", "C.UTF-8", "Preset Options"),
        ("lc_ctype", "C.UTF-8", "Preset Options"),
        ("block_size", "8192", "Preset Options"),
        ("max_index_keys", "32", "Preset Options"), // pgjdbc getImportedKeys/getExportedKeys read it
    ];

    private readonly DuckDBConnection _connection;
    private readonly SemaphoreSlim _refresh = new(1, 1);
    private readonly SemaphoreSlim _slots;
    private readonly System.Collections.Concurrent.ConcurrentBag<DuckDBConnection> _idle = [];
    private readonly List<DuckDBConnection> _all = [];
    private string? _fingerprint;

    /// <summary>How many catalog statements run at once by default: one runaway statement must leave others a connection.</summary>
    public static int DefaultConnections => Math.Max(4, Environment.ProcessorCount);

    /// <summary>Creates the catalog relations, types and functions, and <paramref name="connections"/> connections to query them.</summary>
    public PgCatalogDatabase(int connections = 0)
    {
        _slots = new SemaphoreSlim(connections > 0 ? connections : DefaultConnections);
        _connection = new DuckDBConnection("DataSource=:memory:");
        _connection.Open();
        try
        {
            Execute("SET threads = 1; SET enable_external_access = false; SET TimeZone = 'UTC'");
            Execute(PgCatalogSchema.CreateSql);
            Execute(PgStatActivity.CreateSql);
            // A plain CASE rather than a lookup: table functions (generate_series) refuse subqueries in their arguments.
            var settings = string.Concat(ServerSettings.Select(x => $" WHEN {SqlNames.Literal(x.Name.ToLowerInvariant())} THEN {SqlNames.Literal(x.Setting)}"));
            DuckDbMacros.Install(_connection, string.Join(";\n",
                PgCatalogSchema.MacrosSql.TrimEnd().TrimEnd(';'),
                $"CREATE MACRO tfpg.version() AS '{PostgresCompatibilityFunctions.Version}'",
                $"CREATE MACRO tfpg.current_setting(n) AS CASE lower(n){settings} END, (n, missing_ok) AS CASE lower(n){settings} END",
                // The session puts its connection's process id in place of pg_backend_pid() (PgStatActivity.Attach).
                $"CREATE MACRO tfpg.pg_backend_pid() AS {Environment.ProcessId}",
                // No advisory locks are ever held here; Npgsql's pooled-connection reset calls this.
                "CREATE MACRO tfpg.pg_advisory_unlock_all() AS CAST(NULL AS VARCHAR)",
                "CREATE MACRO tfpg.pg_client_encoding() AS 'UTF8'",
                CancelBackendCalls.CreateSql));
            Execute(PgCatalogSchema.ViewsSql);
            Execute(PgCatalogRows.StaticTypesSql());
            Execute(string.Concat(ServerSettings.Select(x => PgCatalogRows.SettingSql(x.Name, x.Setting, x.Category))));
            Execute($"SET search_path = '{PgCatalogSchema.CatalogSchema}'");
            Names = LoadNames();
        }
        catch
        {
            _connection.Dispose();
            throw;
        }
    }

    /// <summary>Names of the relations and functions defined here (lower case), for routing statements.</summary>
    public FrozenSet<string> Names { get; }

    /// <summary>
    /// Runs a catalog statement (already in PostgreSQL form; it is translated here) after bringing the described
    /// tables and users up to date. Returns the rows, materialized.
    /// </summary>
    /// <exception cref="PostgresErrorException">The statement uses something the catalog does not have.</exception>
    public async Task<(Schema Schema, List<RecordBatch> Batches)> QueryAsync(string sql, string userName,
        IReadOnlyList<TableDefinition> tables, IReadOnlyList<PostgresUser> users, CancellationToken cancellationToken)
    {
        var translated = PgCatalogRewriter.Rewrite(sql, userName);
        await _refresh.WaitAsync(cancellationToken);
        try
        {
            Refresh(tables, users);
        }
        catch (BufferException e)
        {
            throw Translate(e.Message);
        }
        finally
        {
            _refresh.Release();
        }
        await _slots.WaitAsync(cancellationToken);
        var connection = Lease();
        try
        {
            // Off the caller's thread: the statement blocks until DuckDB answers or the token interrupts it.
            return await Task.Run(() =>
            {
                var statement = WithPostgresColumnNames(connection, translated);
                // The catalog is shared by every session of the silo: only a query may reach it, never DDL, ATTACH or SET.
                if (!IsQuery(connection, statement))
                    throw new PostgresErrorException(SqlState.InsufficientPrivilege, "permission denied: the PostgreSQL catalog is read-only (only SELECT may read it)");
                var result = DuckDbQueries.Run(connection, statement, cancellationToken);
                return (result.Schema, result.Batches.ToList());
            }, cancellationToken);
        }
        catch (DuckDbSqlException e) when (e.SqlState is SqlState.QueryCanceled or SqlState.OutOfMemory)
        {
            throw new PostgresErrorException(e.SqlState, e.Message);
        }
        catch (DuckDbSqlException e)
        {
            throw Translate(e.DuckDbMessage);
        }
        finally
        {
            _idle.Add(connection);
            _slots.Release();
        }
    }

    /// <summary>An idle connection, or a new one to the catalog database (at most as many as there are slots).</summary>
    private DuckDBConnection Lease()
    {
        if (_idle.TryTake(out var idle)) return idle;
        lock (_all)
        {
            var connection = DuckDbQueries.Duplicate(_connection);
            using (var cmd = connection.CreateCommand())
            {
                cmd.CommandText = $"SET TimeZone = 'UTC'; SET search_path = '{PgCatalogSchema.CatalogSchema}'";
                cmd.ExecuteNonQuery();
            }
            _all.Add(connection);
            return connection;
        }
    }

    private static bool IsQuery(DuckDBConnection connection, string sql)
    {
        try
        {
            return DuckDbStatements.IsSingleQuery(connection, sql);
        }
        catch (DuckDbSqlException e)
        {
            throw Translate(e.DuckDbMessage);
        }
    }

    private void Refresh(IReadOnlyList<TableDefinition> tables, IReadOnlyList<PostgresUser> users)
    {
        var fingerprint = string.Join("|", tables.Select(t => t.Name + ":" + string.Join(",", t.Columns.Select(c => c.Name + " " + c.Type + (c.Nullable ? "" : "!")))))
            + "#" + string.Join(",", users.Select(u => u.Name + (u.IsAdmin ? "*" : "")));
        if (fingerprint == _fingerprint) return;
        Execute("BEGIN TRANSACTION");
        try
        {
            Execute(PgCatalogRows.DynamicSql(tables, users));
            Execute("COMMIT");
        }
        catch
        {
            Execute("ROLLBACK");
            throw;
        }
        _fingerprint = fingerprint;
    }

    /// <summary>The statement with PostgreSQL's names for unaliased result columns (<c>current_setting</c>, <c>?column?</c>).</summary>
    private static string WithPostgresColumnNames(DuckDBConnection connection, string sql)
    {
        using var serialize = connection.CreateCommand();
        serialize.CommandText = "SELECT json_serialize_sql(?::VARCHAR)";
        serialize.Parameters.Add(new DuckDBParameter(sql));
        JsonObject? root;
        try
        {
            // A statement nesting deeper than this is left as it is (DuckDB then words any problem with it).
            root = serialize.ExecuteScalar() is string json ? JsonNode.Parse(json, documentOptions: new System.Text.Json.JsonDocumentOptions { MaxDepth = 2000 }) as JsonObject : null;
        }
        catch (System.Text.Json.JsonException)
        {
            return sql;
        }
        if (root is null || !PostgresColumnNames.ApplyToParseTree(root))
            return sql;
        using var deserialize = connection.CreateCommand();
        deserialize.CommandText = "SELECT json_deserialize_sql(?::JSON)";
        deserialize.Parameters.Add(new DuckDBParameter(root.ToJsonString(new System.Text.Json.JsonSerializerOptions { MaxDepth = 2000 })));
        return deserialize.ExecuteScalar() as string ?? sql;
    }

    private static PostgresErrorException Translate(string message)
    {
        var text = message.StartsWith("query failed: ", StringComparison.Ordinal) ? message["query failed: ".Length..] : message;
        var state = text switch
        {
            _ when text.Contains("Parser Error", StringComparison.Ordinal) => SqlState.SyntaxError,
            _ when text.Contains("Table with name", StringComparison.Ordinal) => SqlState.UndefinedTable,
            _ when text.Contains("Referenced column", StringComparison.Ordinal) => SqlState.UndefinedColumn,
            _ when text.Contains("Function with name", StringComparison.Ordinal) => SqlState.UndefinedFunction,
            _ => SqlState.FeatureNotSupported,
        };
        return new PostgresErrorException(state, "catalog query: " + text.Replace("tfpg.", "pg_catalog.", StringComparison.Ordinal)
            .Replace("tfinfo.", "information_schema.", StringComparison.Ordinal));
    }

    private FrozenSet<string> LoadNames()
    {
        var names = new HashSet<string>(StringComparer.Ordinal) { "pg_catalog", "information_schema", "current_user", "session_user", "current_setting" };
        using var cmd = _connection.CreateCommand();
        cmd.CommandText = """
            SELECT table_name FROM duckdb_tables() WHERE schema_name = 'tfpg'
            UNION SELECT view_name FROM duckdb_views() WHERE schema_name = 'tfpg'
            UNION SELECT function_name FROM duckdb_functions() WHERE schema_name = 'tfpg' AND function_name NOT LIKE 'tf\_%' ESCAPE '\'
            """;
        using var reader = cmd.ExecuteReader();
        while (reader.Read()) names.Add(reader.GetString(0).ToLowerInvariant());
        // Functions every engine answers alike stay with the gateway, so that queries mixing them with tables work.
        names.ExceptWith(["version", "current_database", "current_schema"]);
        return names.ToFrozenSet(StringComparer.Ordinal);
    }

    private void Execute(string sql)
    {
        using var cmd = _connection.CreateCommand();
        cmd.CommandText = sql;
        cmd.ExecuteNonQuery();
    }

    /// <inheritdoc />
    public void Dispose()
    {
        lock (_all)
        {
            foreach (var c in _all) c.Dispose();
            _all.Clear();
        }
        _connection.Dispose();
        _refresh.Dispose();
        _slots.Dispose();
    }
}

using System.Runtime.InteropServices;
using System.Text.Json.Nodes;
using DuckDB.NET.Data;
using TimeFusion.Tables;

namespace TimeFusion.Query.Planning;

/// <summary>
/// One connection of the <see cref="SqlParser"/>'s database, used by one planner at a time. Besides parsing it
/// holds connection-local (TEMP) empty tables with the schemas of catalog tables ("stubs") so that queries can be
/// bound — validated and described — without data.
/// </summary>
internal sealed class ParserSession : IDisposable
{
    private readonly DuckDBConnection _connection;
    private readonly Dictionary<string, string> _stubs = new(StringComparer.OrdinalIgnoreCase);

    public ParserSession(DuckDBConnection connection, FunctionCatalog functions)
    {
        _connection = connection;
        Functions = functions;
        Execute("SET TimeZone = 'UTC'");
    }

    /// <summary>Function kinds of this DuckDB build.</summary>
    public FunctionCatalog Functions { get; }

    /// <summary>
    /// DuckDB's parse tree of one SELECT statement (the whole <c>json_serialize_sql</c> answer).
    /// </summary>
    /// <exception cref="SqlPlanningException">42601 for syntax errors; 0A000 when the statement is not a SELECT.</exception>
    public JsonObject Serialize(string sql)
    {
        var json = Scalar("SELECT json_serialize_sql(?::VARCHAR)", sql)
            ?? throw new SqlPlanningException(SqlStates.InternalError, "json_serialize_sql returned NULL");
        var root = JsonNode.Parse(json)?.AsObject()
            ?? throw new SqlPlanningException(SqlStates.InternalError, "json_serialize_sql returned no object");
        if (root["error"]?.GetValue<bool>() == true)
        {
            var type = root["error_type"]?.GetValue<string>();
            var message = root["error_message"]?.GetValue<string>() ?? "cannot parse the statement";
            throw type == "parser"
                ? new SqlPlanningException(SqlStates.SyntaxError, message)
                : new SqlPlanningException(SqlStates.FeatureNotSupported, message);
        }
        return root;
    }

    /// <summary>SQL text of a (possibly rewritten) parse tree, via <c>json_deserialize_sql</c>.</summary>
    public string Deserialize(JsonObject root)
    {
        try
        {
            return Scalar("SELECT json_deserialize_sql(?::JSON)", root.ToJsonString())
                ?? throw new SqlPlanningException(SqlStates.InternalError, "json_deserialize_sql returned NULL");
        }
        catch (DuckDBException e)
        {
            throw new SqlPlanningException(SqlStates.InternalError, "cannot turn a rewritten parse tree back into SQL: " + DuckDbErrors.Split(e.Message).Text);
        }
    }

    /// <summary>DuckDB's syntax error for <paramref name="sql"/> (any statement kind), or null when it parses.</summary>
    public string? SyntaxError(string sql)
    {
        var extracted = IntPtr.Zero;
        try
        {
            var count = ParserNative.duckdb_extract_statements(Handle, sql, out extracted);
            if (count > 0) return null;
            var error = ParserNative.duckdb_extract_statements_error(extracted);
            var message = error == IntPtr.Zero ? "syntax error" : Marshal.PtrToStringUTF8(error) ?? "syntax error";
            return DuckDbErrors.Split(message).Text;
        }
        finally
        {
            if (extracted != IntPtr.Zero) ParserNative.duckdb_destroy_extracted(ref extracted);
        }
    }

    /// <summary>
    /// Binds <paramref name="sql"/> (a single statement) against this session's stubs and returns its result column
    /// names. Nothing runs.
    /// </summary>
    /// <exception cref="SqlPlanningException">The DuckDB binder's error, mapped to a SQLSTATE.</exception>
    public IReadOnlyList<string> Prepare(string sql, string? context = null)
    {
        var prepared = IntPtr.Zero;
        try
        {
            if (ParserNative.duckdb_prepare(Handle, sql, out prepared) != 0)
            {
                var error = prepared == IntPtr.Zero ? IntPtr.Zero : ParserNative.duckdb_prepare_error(prepared);
                var message = error == IntPtr.Zero ? "cannot prepare the statement" : Marshal.PtrToStringUTF8(error) ?? "cannot prepare the statement";
                throw DuckDbErrors.ToPlanningException(message, context);
            }
            var count = (int)ParserNative.duckdb_prepared_statement_column_count(prepared);
            var names = new string[count];
            for (var i = 0; i < count; i++)
            {
                var p = ParserNative.duckdb_prepared_statement_column_name(prepared, (ulong)i);
                try
                {
                    names[i] = p == IntPtr.Zero ? "" : Marshal.PtrToStringUTF8(p) ?? "";
                }
                finally
                {
                    if (p != IntPtr.Zero) ParserNative.duckdb_free(p);
                }
            }
            return names;
        }
        finally
        {
            if (prepared != IntPtr.Zero) ParserNative.duckdb_destroy_prepare(ref prepared);
        }
    }

    /// <summary>Makes sure an empty TEMP table with <paramref name="schema"/>'s name and columns exists on this connection.</summary>
    public void EnsureStub(TableSchema schema)
    {
        var columns = schema.ToDuckDbColumns();
        if (_stubs.TryGetValue(schema.Name, out var existing) && existing == columns) return;
        Execute($"CREATE OR REPLACE TEMP TABLE {SqlNames.Quote(schema.Name)} ({columns})");
        _stubs[schema.Name] = columns;
    }

    /// <summary>Creates (or replaces) an empty TEMP table shaped like the result of <paramref name="selectSql"/>.</summary>
    public void CreateShapeTable(string name, string selectSql)
    {
        _stubs.Remove(name);
        Execute($"CREATE OR REPLACE TEMP TABLE {SqlNames.Quote(name)} AS SELECT * FROM ({selectSql}) AS __shape LIMIT 0");
    }

    /// <summary>Drops a TEMP table made by <see cref="CreateShapeTable"/>.</summary>
    public void DropShapeTable(string name) => Execute($"DROP TABLE IF EXISTS temp.main.{SqlNames.Quote(name)}");

    /// <summary>
    /// Evaluates constant SQL expressions that yield epoch microseconds (or NULL). All in one query when possible;
    /// when that fails, one by one, and an expression that fails yields null.
    /// </summary>
    public long?[] EvaluateInt64(IReadOnlyList<string> expressions)
    {
        var result = new long?[expressions.Count];
        if (expressions.Count == 0) return result;
        try
        {
            using var cmd = _connection.CreateCommand();
            cmd.CommandText = "SELECT " + string.Join(", ", expressions.Select(e => $"CAST(({e}) AS BIGINT)"));
            using var reader = cmd.ExecuteReader();
            if (reader.Read())
            {
                for (var i = 0; i < expressions.Count; i++)
                    result[i] = reader.IsDBNull(i) ? null : reader.GetInt64(i);
            }
            return result;
        }
        catch (DuckDBException)
        {
            // One bad expression spoils the batch: evaluate each alone.
        }
        for (var i = 0; i < expressions.Count; i++)
        {
            try
            {
                var text = Scalar($"SELECT CAST(CAST(({expressions[i]}) AS BIGINT) AS VARCHAR)", null);
                result[i] = text is null ? null : long.Parse(text, System.Globalization.CultureInfo.InvariantCulture);
            }
            catch (DuckDBException)
            {
                result[i] = null;
            }
        }
        return result;
    }

    /// <summary>Runs a statement whose text we generated.</summary>
    public void Execute(string sql)
    {
        using var cmd = _connection.CreateCommand();
        cmd.CommandText = sql;
        cmd.ExecuteNonQuery();
    }

    /// <summary>Whether the connection is still usable for the pool (no open transaction left behind).</summary>
    public bool IsReusable => _connection.State == System.Data.ConnectionState.Open;

    public void Dispose() => _connection.Dispose();

    private IntPtr Handle => _connection.NativeConnection.DangerousGetHandle();

    private string? Scalar(string sql, string? parameter)
    {
        using var cmd = _connection.CreateCommand();
        cmd.CommandText = sql;
        if (parameter is not null) cmd.Parameters.Add(new DuckDBParameter(parameter));
        var value = cmd.ExecuteScalar();
        return value is null or DBNull ? null : (string)value;
    }
}

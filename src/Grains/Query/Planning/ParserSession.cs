using System.Runtime.InteropServices;
using System.Text.Json.Nodes;
using DuckDB.NET.Data;
using TimeFusion.Tables;
using TimeFusion.Wire;

namespace TimeFusion.Query.Planning;

/// <summary>
/// One connection of the <see cref="SqlParser"/>'s database, used by one planner at a time. Besides parsing it
/// holds connection-local (TEMP) empty tables with the schemas of catalog tables ("stubs") so that queries can be
/// bound — validated and described — without data.
/// </summary>
internal sealed class ParserSession : IDisposable
{
    private readonly DuckDBConnection _connection;
    private readonly Dictionary<string, (TableSchema Schema, string Columns)> _stubs = new(StringComparer.OrdinalIgnoreCase);
    private readonly ScalarStatement _serialize;
    private readonly ScalarStatement _deserialize;
    private readonly JsonObject _selectTemplate;

    public ParserSession(DuckDBConnection connection, FunctionCatalog functions)
    {
        _connection = connection;
        Functions = functions;
        Execute("SET TimeZone = 'UTC'");
        // Prepared once per session through the C API: a DuckDB.NET command costs ~0.3–1 ms per call here, the
        // native round trip 0.05–0.35 ms, and planning makes several per statement.
        _serialize = new ScalarStatement(Handle, "SELECT json_serialize_sql(?::VARCHAR)");
        try
        {
            _deserialize = new ScalarStatement(Handle, "SELECT json_deserialize_sql(?::JSON)");
        }
        catch
        {
            _serialize.Dispose();
            throw;
        }
        _selectTemplate = SqlAst.StatementNode(Serialize("SELECT 1"));
    }

    /// <summary>A fresh <c>SELECT 1</c> query node to build statements from.</summary>
    public JsonObject NewSelect() => (JsonObject)_selectTemplate.DeepClone();

    /// <summary>Function kinds of this DuckDB build.</summary>
    public FunctionCatalog Functions { get; }

    /// <summary>
    /// DuckDB's parse tree of one SELECT statement (the whole <c>json_serialize_sql</c> answer).
    /// </summary>
    /// <exception cref="SqlPlanningException">42601 for syntax errors; 0A000 when the statement is not a SELECT.</exception>
    public JsonObject Serialize(string sql)
    {
        var json = _serialize.Execute(sql)
            ?? throw new SqlPlanningException(SqlState.InternalError, "json_serialize_sql returned NULL");
        var root = JsonNode.Parse(json)?.AsObject()
            ?? throw new SqlPlanningException(SqlState.InternalError, "json_serialize_sql returned no object");
        if (root["error"]?.GetValue<bool>() == true)
        {
            var type = root["error_type"]?.GetValue<string>();
            var message = root["error_message"]?.GetValue<string>() ?? "cannot parse the statement";
            throw type == "parser"
                ? new SqlPlanningException(SqlState.SyntaxError, message)
                : new SqlPlanningException(SqlState.FeatureNotSupported, message);
        }
        return root;
    }

    /// <summary>SQL text of a (possibly rewritten) parse tree, via <c>json_deserialize_sql</c>.</summary>
    public string Deserialize(JsonObject root)
    {
        try
        {
            return _deserialize.Execute(root.ToJsonString())
                ?? throw new SqlPlanningException(SqlState.InternalError, "json_deserialize_sql returned NULL");
        }
        catch (SqlPlanningException e) when (e.SqlState != SqlState.InternalError)
        {
            throw new SqlPlanningException(SqlState.InternalError, "cannot turn a rewritten parse tree back into SQL: " + e.Message);
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
        if (_stubs.TryGetValue(schema.Name, out var existing) && ReferenceEquals(existing.Schema, schema)) return;
        var columns = schema.ToDuckDbColumns();
        if (existing.Columns != columns)
            Execute($"CREATE OR REPLACE TEMP TABLE {SqlNames.Quote(schema.Name)} ({columns})");
        _stubs[schema.Name] = (schema, columns);
    }

    /// <summary>Runs a one-row query of BIGINT (or NULL) columns; null when it fails.</summary>
    public long?[]? EvaluateRow(string sql, int columns)
    {
        try
        {
            using var cmd = _connection.CreateCommand();
            cmd.CommandText = sql;
            using var reader = cmd.ExecuteReader();
            if (!reader.Read() || reader.FieldCount != columns) return null;
            var result = new long?[columns];
            for (var i = 0; i < columns; i++) result[i] = reader.IsDBNull(i) ? null : Convert.ToInt64(reader.GetValue(i), System.Globalization.CultureInfo.InvariantCulture);
            return result;
        }
        catch (DuckDBException)
        {
            return null;
        }
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

    public void Dispose()
    {
        _serialize.Dispose();
        _deserialize.Dispose();
        _connection.Dispose();
    }

    private IntPtr Handle => _connection.NativeConnection.DangerousGetHandle();

    /// <summary>A one-parameter, one-value statement prepared through the C API.</summary>
    private sealed class ScalarStatement : IDisposable
    {
        private IntPtr _prepared;

        public ScalarStatement(IntPtr connection, string sql)
        {
            if (ParserNative.duckdb_prepare(connection, sql, out _prepared) != 0)
            {
                var error = _prepared == IntPtr.Zero ? IntPtr.Zero : ParserNative.duckdb_prepare_error(_prepared);
                var message = error == IntPtr.Zero ? "cannot prepare " + sql : Marshal.PtrToStringUTF8(error) ?? sql;
                Dispose();
                throw new SqlPlanningException(SqlState.InternalError, message);
            }
        }

        /// <summary>Runs with <paramref name="argument"/> bound; the first value (null for NULL).</summary>
        public string? Execute(string argument)
        {
            if (ParserNative.duckdb_bind_varchar(_prepared, 1, argument) != 0)
                throw new SqlPlanningException(SqlState.InternalError, "cannot bind a parser argument");
            var state = ParserNative.duckdb_execute_prepared(_prepared, out var result);
            try
            {
                if (state != 0)
                {
                    var error = ParserNative.duckdb_result_error(ref result);
                    throw DuckDbErrors.ToPlanningException(error == IntPtr.Zero ? "execution failed" : Marshal.PtrToStringUTF8(error) ?? "execution failed");
                }
                if (ParserNative.duckdb_row_count(ref result) < 1 || ParserNative.duckdb_value_is_null(ref result, 0, 0)) return null;
                var value = ParserNative.duckdb_value_varchar(ref result, 0, 0);
                try
                {
                    return value == IntPtr.Zero ? null : Marshal.PtrToStringUTF8(value);
                }
                finally
                {
                    if (value != IntPtr.Zero) ParserNative.duckdb_free(value);
                }
            }
            finally
            {
                ParserNative.duckdb_destroy_result(ref result);
            }
        }

        public void Dispose()
        {
            if (_prepared != IntPtr.Zero) ParserNative.duckdb_destroy_prepare(ref _prepared);
        }
    }
}

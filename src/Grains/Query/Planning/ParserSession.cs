using System.Text.Json.Nodes;
using DuckDB.NET.Data;
using TimeFusion.DuckDb;
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
    private readonly DuckDbScalarStatement _serialize;
    private readonly DuckDbScalarStatement _deserialize;
    private readonly JsonObject _selectTemplate;

    public ParserSession(DuckDBConnection connection, FunctionCatalog functions)
    {
        _connection = connection;
        Functions = functions;
        Execute("SET TimeZone = 'UTC'");
        // Prepared once per session through the C API: a DuckDB.NET command costs ~0.3–1 ms per call here, the
        // native round trip 0.05–0.35 ms, and planning makes several per statement.
        _serialize = Scalar(connection, "SELECT json_serialize_sql(?::VARCHAR)");
        try
        {
            _deserialize = Scalar(connection, "SELECT json_deserialize_sql(?::JSON)");
        }
        catch
        {
            _serialize.Dispose();
            throw;
        }
        _selectTemplate = SqlAst.StatementNode(Serialize("SELECT 1"));
    }

    /// <summary>
    /// How deep DuckDB's parse tree (as JSON) may nest: each expression or subquery level takes a few JSON levels, so
    /// this allows a few hundred nested terms or subqueries (DuckDB's own <c>max_expression_depth</c> is 1000).
    /// Deeper statements get 54001 statement_too_complex.
    /// </summary>
    public const int MaxAstDepth = 2000;

    private static readonly System.Text.Json.JsonDocumentOptions AstReadOptions = new() { MaxDepth = MaxAstDepth };
    private static readonly System.Text.Json.JsonSerializerOptions AstWriteOptions = new() { MaxDepth = MaxAstDepth };

    private static SqlPlanningException TooComplex() => new(SqlState.StatementTooComplex, TimeFusion.DuckDb.DuckDbErrorTranslation.TooComplexMessage);

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
        // PostgreSQL operators DuckDB's grammar lacks become markers that PostgresOperators.Apply translates.
        var json = Run(_serialize, PostgresOperators.RewriteText(sql))
            ?? throw new SqlPlanningException(SqlState.InternalError, "json_serialize_sql returned NULL");
        JsonObject root;
        try
        {
            root = JsonNode.Parse(json, documentOptions: AstReadOptions)?.AsObject()
                ?? throw new SqlPlanningException(SqlState.InternalError, "json_serialize_sql returned no object");
        }
        catch (System.Text.Json.JsonException e) when (e.Message.Contains("depth", StringComparison.OrdinalIgnoreCase))
        {
            throw TooComplex();
        }
        if (root["error"]?.GetValue<bool>() == true)
        {
            var type = root["error_type"]?.GetValue<string>();
            var message = root["error_message"]?.GetValue<string>() ?? "cannot parse the statement";
            if (TimeFusion.DuckDb.DuckDbErrorTranslation.IsTooComplex(message)) throw TooComplex();
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
            string json;
            try
            {
                json = root.ToJsonString(AstWriteOptions);
            }
            catch (System.Text.Json.JsonException)
            {
                throw TooComplex();
            }
            return Run(_deserialize, json)
                ?? throw new SqlPlanningException(SqlState.InternalError, "json_deserialize_sql returned NULL");
        }
        catch (SqlPlanningException e) when (e.SqlState != SqlState.InternalError)
        {
            throw new SqlPlanningException(SqlState.InternalError, "cannot turn a rewritten parse tree back into SQL: " + e.Message);
        }
    }

    /// <summary>DuckDB's syntax error for <paramref name="sql"/> (any statement kind), or null when it parses.</summary>
    /// <exception cref="SqlPlanningException">54001 when the statement nests deeper than DuckDB allows.</exception>
    public string? SyntaxError(string sql)
    {
        if (DuckDbStatements.SyntaxError(_connection, PostgresOperators.RewriteText(sql)) is not { } message) return null;
        var text = DuckDbErrors.Split(message).Text;
        if (text == TimeFusion.DuckDb.DuckDbErrorTranslation.TooComplexMessage) throw TooComplex();
        return text;
    }

    /// <summary>
    /// Binds <paramref name="sql"/> (a single statement) against this session's stubs and returns its result column
    /// names. Nothing runs.
    /// </summary>
    /// <exception cref="SqlPlanningException">The DuckDB binder's error, mapped to a SQLSTATE.</exception>
    public IReadOnlyList<string> Prepare(string sql, string? context = null)
    {
        try
        {
            return DuckDbStatements.ColumnNames(_connection, sql);
        }
        catch (DuckDbSqlException e)
        {
            throw DuckDbErrors.ToPlanningException(e, context);
        }
    }

    /// <summary>
    /// As <see cref="Prepare"/>, with the positions of the columns DuckDB types JSON (the stubs' JSON columns are JSON,
    /// as PostgreSQL's are jsonb).
    /// </summary>
    /// <exception cref="SqlPlanningException">The DuckDB binder's error, mapped to a SQLSTATE.</exception>
    public (IReadOnlyList<string> Names, IReadOnlyList<int> JsonColumns) PrepareColumns(string sql)
    {
        try
        {
            var columns = DuckDbStatements.Columns(_connection, sql);
            return (columns.Select(c => c.Name).ToList(), Enumerable.Range(0, columns.Count).Where(i => columns[i].IsJson).ToList());
        }
        catch (DuckDbSqlException e)
        {
            throw DuckDbErrors.ToPlanningException(e, null);
        }
    }

    /// <summary>Makes sure an empty TEMP table with <paramref name="schema"/>'s name and columns exists on this connection.</summary>
    public void EnsureStub(TableSchema schema)
    {
        if (_stubs.TryGetValue(schema.Name, out var existing) && ReferenceEquals(existing.Schema, schema)) return;
        // JSON columns are JSON here (VARCHAR in the buffer): the binder then types JSON results for the protocol.
        var columns = string.Join(", ", schema.Columns.Select(c =>
            $"{SqlNames.Quote(c.Name)} {(c.Type == ColumnType.Json ? "JSON" : ColumnTypeMapping.ToDuckDb(c.Type))}{(c.Nullable ? "" : " NOT NULL")}"));
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
    /// <summary>
    /// Runs <paramref name="work"/> with the connection in the time zone <paramref name="zone"/>, then back in UTC. A
    /// zone DuckDB does not know leaves it in UTC, as the executors do (TimeZoneSettings).
    /// </summary>
    public T InTimeZone<T>(string zone, Func<T> work)
    {
        try
        {
            Execute("SET TimeZone = " + SqlNames.Literal(zone));
        }
        catch (DuckDBException)
        {
            return work();
        }
        try
        {
            return work();
        }
        finally
        {
            Execute("SET TimeZone = 'UTC'");
        }
    }

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

    private static DuckDbScalarStatement Scalar(DuckDBConnection connection, string sql)
    {
        try
        {
            return new DuckDbScalarStatement(connection, sql);
        }
        catch (DuckDbSqlException e)
        {
            throw new SqlPlanningException(SqlState.InternalError, e.DuckDbMessage);
        }
    }

    private static string? Run(DuckDbScalarStatement statement, string argument)
    {
        try
        {
            return statement.Execute(argument);
        }
        catch (DuckDbSqlException e)
        {
            throw DuckDbErrors.ToPlanningException(e);
        }
    }
}

using Apache.Arrow;
using TimeFusion.Grains;
using TimeFusion.Query.Statements;
using TimeFusion.Sql;
using System.Text.Json.Nodes;
using TimeFusion.Tables;
using TimeFusion.Wire;

namespace TimeFusion.Query.Planning;

/// <summary>
/// Plans UPDATE, DELETE and INSERT … VALUES. DuckDB checks the statement's syntax; the text is cut into parts
/// (<see cref="DmlTextSplitter"/>), and the WHERE and SET expressions are parsed and bound by DuckDB inside
/// <c>SELECT &lt;expressions&gt; FROM t WHERE &lt;predicate&gt;</c> (unknown columns → 42703). The project scope comes
/// from the predicate as for SELECT, checked against the projects the caller may write.
/// </summary>
public sealed class DmlAnalyzer
{
    private static readonly HashSet<string> ProtectedColumns = new(StringComparer.OrdinalIgnoreCase)
    {
        TableSchema.ProjectColumn, TableSchema.DateColumn, TableSchema.TimestampColumn,
    };

    private readonly SqlParser _parser;
    private readonly TimeProvider _time;

    /// <summary>Creates an analyzer over <paramref name="parser"/>; <paramref name="time"/> supplies <c>now()</c>.</summary>
    public DmlAnalyzer(SqlParser parser, TimeProvider? time = null)
    {
        _parser = parser ?? throw new ArgumentNullException(nameof(parser));
        _time = time ?? TimeProvider.System;
    }

    /// <summary>Plans one UPDATE or DELETE statement.</summary>
    /// <exception cref="SqlPlanningException">42601 syntax, 42P01 unknown table, 42703 unknown column, 42501 a project the
    /// caller may not write (or none), 0A000 unsupported forms (RETURNING, USING, UPDATE … FROM, subqueries, volatile
    /// functions, assignments to project_id/date/timestamp).</exception>
    public DmlPlan AnalyzeUpdateOrDelete(string sql, ICatalogView catalog, CallerScope caller)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        ArgumentNullException.ThrowIfNull(caller);
        var statement = SingleStatement(sql);
        var first = PlanningTokens.FirstToken(statement);
        var kind = first.IsKeyword(statement, "UPDATE") ? DmlKind.Update
            : first.IsKeyword(statement, "DELETE") ? DmlKind.Delete
            : throw new SqlPlanningException(SqlState.FeatureNotSupported, "expected an UPDATE or DELETE statement");
        return _parser.Use(session => PlanUpdateOrDelete(session, kind, statement, catalog, caller));
    }

    /// <summary>
    /// Plans one UPDATE or DELETE already split off and classified (by <see cref="SqlStatementClassifier"/> or a front
    /// end): it is not split or classified again. Errors as for the text overload.
    /// </summary>
    public DmlPlan AnalyzeUpdateOrDelete(ClassifiedStatement statement, ICatalogView catalog, CallerScope caller)
    {
        ArgumentNullException.ThrowIfNull(statement);
        ArgumentNullException.ThrowIfNull(catalog);
        ArgumentNullException.ThrowIfNull(caller);
        // WITH … UPDATE/DELETE is classified as that DML but refused here, as the text overload does.
        var kind = (statement.Kind, statement.Keyword) switch
        {
            (StatementKind.Update, "UPDATE") => DmlKind.Update,
            (StatementKind.Delete, "DELETE") => DmlKind.Delete,
            _ => throw new SqlPlanningException(SqlState.FeatureNotSupported, "expected an UPDATE or DELETE statement"),
        };
        return _parser.Use(session => PlanUpdateOrDelete(session, kind, statement.Sql, catalog, caller));
    }

    /// <summary>
    /// Plans one INSERT … VALUES already split off and classified (by <see cref="SqlStatementClassifier"/> or a front
    /// end): it is not split or classified again. Errors as for the text overload.
    /// </summary>
    public InsertPlan AnalyzeInsert(ClassifiedStatement statement, ICatalogView catalog, CallerScope caller)
    {
        ArgumentNullException.ThrowIfNull(statement);
        ArgumentNullException.ThrowIfNull(catalog);
        ArgumentNullException.ThrowIfNull(caller);
        if (statement.Kind != StatementKind.Insert)
            throw new SqlPlanningException(SqlState.FeatureNotSupported, "expected an INSERT statement");
        return _parser.Use(session => PlanInsert(session, statement.Sql, catalog, caller));
    }

    /// <summary>Plans one INSERT … VALUES statement.</summary>
    /// <exception cref="SqlPlanningException">42601 syntax or a row of the wrong length, 42P01, 42703, 42701 a column
    /// listed twice, 42501 a project the caller may not write, 0A000 other INSERT forms.</exception>
    public InsertPlan AnalyzeInsert(string sql, ICatalogView catalog, CallerScope caller)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        ArgumentNullException.ThrowIfNull(caller);
        var statement = SingleStatement(sql);
        return _parser.Use(session => PlanInsert(session, statement, catalog, caller));
    }

    private static string SingleStatement(string sql)
    {
        ArgumentNullException.ThrowIfNull(sql);
        var statements = PlanningTokens.SplitStatements(sql);
        return statements.Count switch
        {
            1 => statements[0],
            0 => throw new SqlPlanningException(SqlState.SyntaxError, "empty statement"),
            _ => throw new SqlPlanningException(SqlState.SyntaxError, "expected one statement, found " + statements.Count),
        };
    }

    private static TableSchema ResolveTable(DmlParts parts, ICatalogView catalog)
    {
        var name = parts.TableName;
        if (name.Count > 2 || (name.Count == 2 && name[0].ToLowerInvariant() is not ("public" or "main")))
            throw new SqlPlanningException(SqlState.UndefinedTable, $"relation \"{parts.Written}\" does not exist");
        return catalog.Find(name[^1]) ?? throw new SqlPlanningException(SqlState.UndefinedTable, $"relation \"{parts.Written}\" does not exist");
    }

    private DmlPlan PlanUpdateOrDelete(ParserSession session, DmlKind kind, string sql, ICatalogView catalog, CallerScope caller)
    {
        if (session.SyntaxError(sql) is { } error) throw new SqlPlanningException(SqlState.SyntaxError, error);
        if (PlanningTokens.FirstToken(sql).IsKeyword(sql, "WITH"))
            throw new SqlPlanningException(SqlState.FeatureNotSupported, "WITH on UPDATE/DELETE is not supported");
        var parts = kind == DmlKind.Update ? DmlTextSplitter.SplitUpdate(sql) : DmlTextSplitter.SplitDelete(sql);
        var schema = ResolveTable(parts, catalog);
        var qualifier = parts.Alias ?? parts.TableName[^1];

        // Targets: real, distinct, and not the columns that place a row (project, partition, sort key).
        var targets = new List<string>();
        foreach (var (column, _) in parts.Assignments)
        {
            var def = schema.Columns.FirstOrDefault(c => string.Equals(c.Name, column, StringComparison.OrdinalIgnoreCase))
                ?? throw new SqlPlanningException(SqlState.UndefinedColumn, $"column \"{column}\" of relation \"{schema.Name}\" does not exist");
            if (targets.Contains(def.Name)) throw new SqlPlanningException(SqlState.DuplicateColumn, $"multiple assignments to same column \"{def.Name}\"");
            if (ProtectedColumns.Contains(def.Name))
                throw new SqlPlanningException(SqlState.FeatureNotSupported, $"updating column \"{def.Name}\" is not supported (it places the row)");
            targets.Add(def.Name);
        }

        // Parse every expression inside one SELECT over the table, so DuckDB parses and binds them in its context.
        var selectItems = parts.Assignments.Count > 0 ? string.Join(", ", parts.Assignments.Select(a => "(" + a.Expression + ")")) : "1";
        var from = SqlNames.Quote(schema.Name) + (parts.Alias is not null ? " AS " + SqlNames.Quote(parts.Alias) : "");
        var probe = $"SELECT {selectItems} FROM {from}" + (parts.Predicate is not null ? $" WHERE ({parts.Predicate})" : "");
        var root = session.Serialize(probe);
        var select = SqlAst.StatementNode(root);
        var items = SqlAst.Array(select, "select_list");
        if (SqlAst.Type(select) != "SELECT_NODE" || SqlAst.Type(select["from_table"]) != "BASE_TABLE"
            || items.Count != Math.Max(1, parts.Assignments.Count) || SqlAst.Array(select, "modifiers").Count > 0
            || SqlAst.Array(select, "group_expressions").Count > 0 || select["having"] is JsonObject
            || (parts.Predicate is null) != (select["where_clause"] is null))
            throw new SqlPlanningException(SqlState.SyntaxError, $"cannot parse the {kind.ToString().ToUpperInvariant()} statement's expressions");
        foreach (var e in items.Append(select["where_clause"]))
            RefuseInDml(e, session.Functions);
        SqlFunctions.RefuseDenied(select);
        // Literals meeting a timestamptz become instants read in the session's TimeZone: the grains evaluate the
        // predicate (and replay it from the WAL) in UTC, and the time bounds below agree with them.
        bool IsTimestamp(JsonNode n) => SqlAst.IsColumnRef(n) && SqlAst.ColumnNames(n) is { Length: > 0 } names
            && schema.Columns.Any(c => c.Type == ColumnType.TimestampUs && string.Equals(c.Name, names[^1], StringComparison.OrdinalIgnoreCase));
        TimestampLiterals.Rewrite(select["where_clause"], IsTimestamp, session, caller.TimeZone,
            targets.Select((t, i) => schema.Find(t)?.Type == ColumnType.TimestampUs ? items[i] : null));

        session.EnsureStub(schema);
        session.Prepare(session.Deserialize(root));

        var now = TruncateToMicroseconds(_time.GetUtcNow());
        var columns = new HashSet<string>(schema.Columns.Select(c => c.Name), StringComparer.OrdinalIgnoreCase);
        ClockRewriter.Rewrite(select, now, columns.Contains);

        var reference = new TableReference
        {
            Index = 0,
            Node = (JsonObject)select["from_table"]!,
            SelectNode = select,
            Schema = schema,
            Qualifier = qualifier,
            SoleFromItem = true,
            FilterConjuncts = SqlAst.Conjuncts(select["where_clause"]),
            ConstraintOnlyConjuncts = [],
        };
        var (projects, source) = ResolveWritableProjects(reference, catalog, caller);
        var time = QueryAnalyzer.EvaluateTimeBounds(session, [reference], session.Functions)[0];

        string? predicate = null;
        if (select["where_clause"] is JsonNode where)
            predicate = ExpressionSql(session, ConjunctAnalysis.Unqualified(where, reference));
        var assignments = new List<DmlAssignment>();
        for (var i = 0; i < parts.Assignments.Count; i++)
            assignments.Add(new DmlAssignment(targets[i], ExpressionSql(session, ConjunctAnalysis.Unqualified(items[i]!, reference))));
        return new DmlPlan(kind, schema, predicate, assignments, projects, source, time, now);
    }

    /// <summary>Subqueries would read other grains; volatile calls would change other rows on WAL replay.</summary>
    private static void RefuseInDml(JsonNode? expression, FunctionCatalog functions)
    {
        foreach (var o in SqlAst.Objects(expression))
        {
            switch (SqlAst.Class(o))
            {
                case "SUBQUERY":
                    throw new SqlPlanningException(SqlState.FeatureNotSupported, "subqueries in UPDATE/DELETE are not supported");
                case "PARAMETER":
                    throw new SqlPlanningException(SqlState.FeatureNotSupported, "parameters in UPDATE/DELETE are not supported: supply literal values");
                case "WINDOW":
                    throw new SqlPlanningException(SqlState.FeatureNotSupported, "window functions are not allowed in UPDATE/DELETE");
                case "STAR":
                    throw new SqlPlanningException(SqlState.SyntaxError, "* is not allowed here");
                case "FUNCTION" when !SqlAst.Bool(o, "is_operator"):
                    var name = SqlAst.Str(o, "function_name");
                    if (functions.IsAggregate(name))
                        throw new SqlPlanningException(SqlState.GroupingError, $"aggregate functions are not allowed in UPDATE/DELETE ({name})");
                    if (SqlFunctions.Volatile.Contains(name))
                        throw new SqlPlanningException(SqlState.FeatureNotSupported, $"volatile function {name}() is not allowed in UPDATE/DELETE: its value would differ when the statement is replayed");
                    break;
            }
        }
    }

    private static (IReadOnlyList<string>, ProjectSource) ResolveWritableProjects(TableReference r, ICatalogView catalog, CallerScope caller)
    {
        HashSet<string>? constraint = null;
        foreach (var c in r.FilterConjuncts)
        {
            if (ConjunctAnalysis.ProjectConstraint(c, r) is not { } set) continue;
            if (constraint is null) constraint = set;
            else constraint.IntersectWith(set);
        }
        IReadOnlyList<string> projects;
        ProjectSource source;
        if (constraint is not null)
        {
            projects = constraint.Order(StringComparer.Ordinal).ToList();
            source = ProjectSource.Predicate;
        }
        else
        {
            // Row-level security: no project predicate reaches every project the caller may write that has the table.
            projects = QueryAnalyzer.CallerProjects(catalog.ProjectsOf(r.Schema.Name), caller.IsAdmin ? null : caller.WritableProjects);
            source = ProjectSource.AllProjects;
        }
        foreach (var p in projects)
        {
            if (!caller.CanWrite(p)) throw new SqlPlanningException(SqlState.InsufficientPrivilege, $"permission denied for project \"{p}\"");
        }
        return (projects, source);
    }

    private InsertPlan PlanInsert(ParserSession session, string sql, ICatalogView catalog, CallerScope caller)
    {
        if (TryPlanLiteralInsert(sql, catalog, caller) is { } literal) return literal;
        if (session.SyntaxError(sql) is { } error) throw new SqlPlanningException(SqlState.SyntaxError, error);
        if (PlanningTokens.FirstToken(sql).IsKeyword(sql, "WITH"))
            throw new SqlPlanningException(SqlState.FeatureNotSupported, "WITH on INSERT is not supported");
        var parts = DmlTextSplitter.SplitInsert(sql);
        var schema = ResolveTable(parts, catalog);

        List<string> columns;
        if (parts.InsertColumns is { } listed)
        {
            columns = [];
            foreach (var name in listed)
            {
                var def = schema.Columns.FirstOrDefault(c => string.Equals(c.Name, name, StringComparison.OrdinalIgnoreCase))
                    ?? throw new SqlPlanningException(SqlState.UndefinedColumn, $"column \"{name}\" of relation \"{schema.Name}\" does not exist");
                if (columns.Contains(def.Name)) throw new SqlPlanningException(SqlState.DuplicateColumn, $"column \"{def.Name}\" specified more than once");
                columns.Add(def.Name);
            }
        }
        else
        {
            // Positional rows fill the declared columns in order; the partition column is derived, never positional.
            columns = schema.Columns.Where(c => c.Name != TableSchema.DateColumn).Select(c => c.Name).ToList();
        }

        var root = session.Serialize("VALUES " + parts.ValuesText);
        var node = SqlAst.StatementNode(root);
        var from = node["from_table"];
        if (SqlAst.Type(node) != "SELECT_NODE" || SqlAst.Type(from) != "EXPRESSION_LIST" || SqlAst.Array(node, "modifiers").Count > 0
            || node["where_clause"] is not null)
            throw new SqlPlanningException(SqlState.SyntaxError, "cannot parse the VALUES rows");
        var rows = SqlAst.Array(from, "values").Select(r => (JsonArray)r!).ToList();
        var width = rows.Count > 0 ? rows[0].Count : 0;
        if (width > columns.Count) throw new SqlPlanningException(SqlState.SyntaxError, "INSERT has more expressions than target columns");
        if (parts.InsertColumns is not null && width < columns.Count) throw new SqlPlanningException(SqlState.SyntaxError, "INSERT has more target columns than expressions");
        foreach (var o in SqlAst.Objects(from))
        {
            switch (SqlAst.Class(o))
            {
                case "COLUMN_REF":
                    throw new SqlPlanningException(SqlState.UndefinedColumn, $"column \"{string.Join('.', SqlAst.ColumnNames(o))}\" does not exist");
                case "SUBQUERY":
                    throw new SqlPlanningException(SqlState.FeatureNotSupported, "subqueries in VALUES are not supported");
                case "PARAMETER":
                    throw new SqlPlanningException(SqlState.FeatureNotSupported, "parameters in VALUES are not supported: supply literal values");
                case "WINDOW" or "STAR":
                    throw new SqlPlanningException(SqlState.SyntaxError, "VALUES holds only value expressions");
                case "FUNCTION" when !SqlAst.Bool(o, "is_operator") && session.Functions.IsAggregate(SqlAst.Str(o, "function_name")):
                    throw new SqlPlanningException(SqlState.GroupingError, "aggregate functions are not allowed in VALUES");
            }
        }
        SqlFunctions.RefuseDenied(from);
        columns = columns.Take(width).ToList();

        IReadOnlyList<string>? projects;
        string? defaultProject = null;
        var projectIndex = columns.FindIndex(c => c == TableSchema.ProjectColumn);
        if (projectIndex < 0)
        {
            defaultProject = caller.DefaultProject
                ?? throw new SqlPlanningException(SqlState.InsufficientPrivilege, "INSERT without project_id needs a default project");
            projects = [defaultProject];
        }
        else
        {
            var values = rows.Select(r => SqlAst.StringConstant(r[projectIndex])).ToList();
            projects = values.Any(v => v is null) ? null : values.OfType<string>().Distinct().Order(StringComparer.Ordinal).ToList();
        }
        foreach (var p in projects ?? [])
        {
            if (!caller.CanWrite(p)) throw new SqlPlanningException(SqlState.InsufficientPrivilege, $"permission denied for project \"{p}\"");
        }

        // Each value is cast to its column's type, as PostgreSQL's INSERT does (and so that rows of text and
        // typed values combine: VALUES alone would refuse VARCHAR next to TIMESTAMPTZ in one column).
        var types = columns.Select(c => ColumnTypeMapping.ToDuckDb(schema.Find(c)!.Type)).ToList();
        var casts = QueryAnalyzer.ParseExpressions(session, types.Select(t => $"CAST(NULL AS {t})").ToList());
        foreach (var row in rows)
        {
            for (var i = 0; i < row.Count; i++)
            {
                var value = row[i]!;
                row[i] = null;
                row[i] = new JsonObject
                {
                    ["class"] = "CAST",
                    ["type"] = "OPERATOR_CAST",
                    ["alias"] = "",
                    ["query_location"] = ulong.MaxValue,
                    ["child"] = value,
                    ["cast_type"] = casts[i]["cast_type"]!.DeepClone(),
                    ["try_cast"] = false,
                };
            }
        }

        var now = TruncateToMicroseconds(_time.GetUtcNow());
        ClockRewriter.Rewrite(node, now, _ => false);
        // Each value is CAST to its column's type above: text cast to timestamptz is read as PostgreSQL reads it.
        TimestampLiterals.Rewrite(node, _ => false, session, caller.TimeZone);

        var valuesSql = $"SELECT * FROM ({session.Deserialize(root)}) AS __values({string.Join(", ", columns.Select(SqlNames.Quote))})";
        session.Prepare(valuesSql, "VALUES");
        return new InsertPlan(schema, columns, valuesSql, rows.Count, projects, defaultProject);
    }

    /// <summary>
    /// The fast path for rows of plain literals (<see cref="LiteralValuesReader"/>); null sends the statement down the
    /// general path, which also words every error (so this one only ever succeeds or refuses a project).
    /// </summary>
    private static InsertPlan? TryPlanLiteralInsert(string sql, ICatalogView catalog, CallerScope caller)
    {
        List<ColumnDefinition> columns;
        TableSchema schema;
        RecordBatch? literals;
        int width;
        try
        {
            var parts = DmlTextSplitter.SplitInsert(sql);
            schema = ResolveTable(parts, catalog);
            if (parts.InsertColumns is { } listed)
            {
                columns = [];
                foreach (var name in listed)
                {
                    var def = schema.Columns.FirstOrDefault(c => string.Equals(c.Name, name, StringComparison.OrdinalIgnoreCase));
                    if (def is null || columns.Contains(def)) return null;
                    columns.Add(def);
                }
            }
            else
            {
                columns = [.. schema.Columns.Where(c => c.Name != TableSchema.DateColumn)];
            }
            if (parts.ValuesText is not { } valuesText) return null;
            literals = LiteralValuesReader.TryRead(valuesText, columns, out width);
            if (literals is null || (parts.InsertColumns is not null && width != columns.Count)) return null;
        }
        catch (Exception e) when (e is SqlPlanningException or SqlSyntaxException)
        {
            return null;
        }
        columns = columns.Take(width).ToList();
        var names = columns.Select(c => c.Name).ToList();
        IReadOnlyList<string> projects;
        string? defaultProject = null;
        var projectIndex = names.IndexOf(TableSchema.ProjectColumn);
        if (projectIndex < 0)
        {
            defaultProject = caller.DefaultProject
                ?? throw new SqlPlanningException(SqlState.InsufficientPrivilege, "INSERT without project_id needs a default project");
            projects = [defaultProject];
        }
        else
        {
            var values = (StringArray)literals.Column(projectIndex);
            var distinct = new SortedSet<string>(StringComparer.Ordinal);
            for (var i = 0; i < values.Length; i++)
            {
                if (values.IsNull(i)) return null; // the general path says which row
                var bytes = values.GetBytes(i);
                if (i > 0 && bytes.SequenceEqual(values.GetBytes(i - 1))) continue; // one string per run of equal projects
                distinct.Add(values.GetString(i));
            }
            projects = [.. distinct];
        }
        foreach (var p in projects)
        {
            if (!caller.CanWrite(p)) throw new SqlPlanningException(SqlState.InsufficientPrivilege, $"permission denied for project \"{p}\"");
        }
        return new InsertPlan(schema, names, LiteralValuesReader.CastSql(columns, width), literals.Length, projects, defaultProject, literals);
    }

    private static string ExpressionSql(ParserSession session, JsonNode expression)
    {
        var select = SqlAst.StatementNode(session.Serialize("SELECT 1"));
        var e = expression.DeepClone();
        e["alias"] = "";
        select["select_list"] = new JsonArray(e);
        var text = session.Deserialize(SqlAst.Root(select));
        return text.StartsWith("SELECT ", StringComparison.Ordinal) ? text["SELECT ".Length..] : text;
    }

    private static DateTimeOffset TruncateToMicroseconds(DateTimeOffset t) => new(t.UtcTicks - t.UtcTicks % 10, TimeSpan.Zero);
}

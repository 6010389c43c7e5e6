using System.Text.Json.Nodes;
using TimeFusion.Tables;

namespace TimeFusion.Query.Planning;

/// <summary>
/// Plans SELECT statements for the query gateway: resolves every table reference against the catalog, confines
/// each to projects the caller may read, derives time bounds, and decides how the statement runs across grains
/// (<see cref="PlanKind"/>). Pure: nothing is executed against data.
/// </summary>
public sealed class QueryAnalyzer
{
    private readonly SqlParser _parser;
    private readonly TimeProvider _time;

    /// <summary>Creates an analyzer over <paramref name="parser"/>; <paramref name="time"/> supplies <c>now()</c>.</summary>
    public QueryAnalyzer(SqlParser parser, TimeProvider? time = null)
    {
        _parser = parser ?? throw new ArgumentNullException(nameof(parser));
        _time = time ?? TimeProvider.System;
    }

    /// <summary>
    /// Plans one SELECT statement (also <c>WITH … SELECT</c>, set operations, <c>VALUES</c>, <c>FROM t</c>).
    /// <paramref name="parameterLiterals"/> are SQL literals for <c>$1</c>, <c>$2</c>, … (e.g. <c>'abc'</c>,
    /// <c>42</c>, <c>TIMESTAMPTZ '2024-01-01 00:00:00+00'</c>); a statement with parameters and no values is refused.
    /// </summary>
    /// <exception cref="SqlPlanningException">42601 syntax, 42P01 unknown table, 42703 unknown column (and other binder
    /// errors), 42501 a project the caller may not read or no project at all, 0A000 unsupported constructs.</exception>
    public QueryPlan Analyze(string sql, ICatalogView catalog, CallerScope caller, IReadOnlyList<string>? parameterLiterals = null)
    {
        ArgumentNullException.ThrowIfNull(sql);
        ArgumentNullException.ThrowIfNull(catalog);
        ArgumentNullException.ThrowIfNull(caller);
        return _parser.Use(session => Plan(session, sql, catalog, caller, parameterLiterals));
    }

    private QueryPlan Plan(ParserSession session, string sql, ICatalogView catalog, CallerScope caller, IReadOnlyList<string>? parameterLiterals)
    {
        var root = session.Serialize(sql);
        var node = SqlAst.StatementNode(root);
        SubstituteParameters(session, node, parameterLiterals);

        var refs = ReferenceCollector.Collect(node, catalog).Tables;
        SqlFunctions.RefuseDenied(node);
        foreach (var r in refs)
        {
            // Canonical, unqualified names: the executor binds exactly these to each grain's snapshot.
            r.Node["table_name"] = r.Schema.Name;
            r.Node["schema_name"] = "";
            r.Node["catalog_name"] = "";
            session.EnsureStub(r.Schema);
        }

        // Bind as written (with canonical names): validates columns, functions, types; names the result columns.
        var outputNames = session.Prepare(session.Deserialize(root));

        var now = TruncateToMicroseconds(_time.GetUtcNow());
        var columns = new HashSet<string>(refs.SelectMany(r => r.Schema.Columns.Select(c => c.Name)), StringComparer.OrdinalIgnoreCase);
        KeepClockColumnNames(node, outputNames, columns.Contains);
        ClockRewriter.Rewrite(node, now, columns.Contains);
        var plannedSql = session.Deserialize(root);

        if (refs.Count == 0)
            return new QueryPlan(PlanKind.GatewayOnly, plannedSql, [], null, plannedSql, outputNames, now, null, null);

        var functions = session.Functions;
        var projects = refs.Select(r => ResolveProjects(r, catalog, caller, functions)).ToList();
        var times = EvaluateTimeBounds(session, refs, functions);
        var limitPush = LimitPushdown(node, refs, functions);

        var scans = new List<TableScan>();
        foreach (var r in refs)
        {
            var pushed = refs.Count == 1 && limitPush is not null ? limitPush : null;
            var (pushedPredicate, scanSql) = BuildScan(session, r, functions, AllColumnsNeeded(node, r) ? null : NeededColumns(node, r), pushed);
            scans.Add(new TableScan(r.Index, r.Schema, r.Qualifier, projects[r.Index].Projects, projects[r.Index].Source,
                times[r.Index], pushedPredicate, ScanColumns(node, r), scanSql, pushed?.NewestFirst == true ? pushed.Rows : null));
        }

        var single = scans.All(s => s.Projects.Count == 1 && s.Projects[0] == scans[0].Projects[0]
            && string.Equals(s.Table.Name, scans[0].Table.Name, StringComparison.Ordinal));
        if (single)
        {
            var newestFirst = limitPush is { NewestFirst: true } ? limitPush.Rows : (long?)null;
            return new QueryPlan(PlanKind.SingleGrain, plannedSql, scans, plannedSql, null, outputNames, now, newestFirst, null);
        }

        string? fallback = null;
        if (refs.Count == 1 && refs[0].SoleFromItem && ReferenceEquals(refs[0].SelectNode, node))
        {
            var split = AggregateSplitter.TrySplit(node, refs[0], functions, outputNames, texts => ParseExpressions(session, texts), out fallback);
            if (split is not null)
            {
                var grainSql = session.Deserialize(SqlAst.Root(split.GrainNode));
                var mergeSql = session.Deserialize(SqlAst.Root(split.MergeNode));
                try
                {
                    session.CreateShapeTable(QueryPlan.PartialsRelation, grainSql);
                    session.Prepare(mergeSql, "merge of partial aggregates");
                    return new QueryPlan(PlanKind.PartialAggregate, plannedSql, scans, grainSql, mergeSql, outputNames, now, null, null);
                }
                catch (SqlPlanningException e)
                {
                    fallback = "partial aggregation did not bind: " + e.Message;
                }
                finally
                {
                    session.DropShapeTable(QueryPlan.PartialsRelation);
                }
            }
        }
        else if (refs.Count > 1)
        {
            fallback = "several table references";
        }
        else
        {
            fallback = "the table is not the statement's only FROM item";
        }

        var shippingMerge = RowShippingMerge(session, root, refs);
        try
        {
            foreach (var scan in scans) session.CreateShapeTable(scan.RelationName, scan.ScanSql);
            session.Prepare(shippingMerge, "merge of shipped rows");
        }
        catch (SqlPlanningException e)
        {
            throw new SqlPlanningException(SqlStates.InternalError, "cannot distribute the statement: " + e.Message);
        }
        finally
        {
            foreach (var scan in scans) session.DropShapeTable(scan.RelationName);
        }
        var newest = scans.Count == 1 ? scans[0].NewestFirstLimit : null;
        return new QueryPlan(PlanKind.RowShipping, plannedSql, scans, null, shippingMerge, outputNames, now, newest, fallback);
    }

    private static DateTimeOffset TruncateToMicroseconds(DateTimeOffset t) => new(t.UtcTicks - t.UtcTicks % 10, TimeSpan.Zero);

    /// <summary>
    /// Result columns whose expression reads the clock would be renamed by the rewrite (<c>now()</c> becomes a cast);
    /// they get their original name as an explicit alias.
    /// </summary>
    private static void KeepClockColumnNames(JsonObject node, IReadOnlyList<string> outputNames, Func<string, bool> isColumn)
    {
        var items = QueryShape.TopSelectList(node);
        if (items is null || items.Count != outputNames.Count || items.Any(i => SqlAst.Class(i) == "STAR")) return;
        for (var i = 0; i < items.Count; i++)
        {
            if (SqlAst.Str(items[i], "alias").Length == 0 && ClockRewriter.ReadsClock(items[i], isColumn))
                items[i]!["alias"] = outputNames[i];
        }
    }

    private static void SubstituteParameters(ParserSession session, JsonObject node, IReadOnlyList<string>? literals)
    {
        var parameters = SqlAst.Objects(node).Where(o => SqlAst.Class(o) == "PARAMETER").ToList();
        if (parameters.Count == 0) return;
        if (literals is null || literals.Count == 0)
            throw new SqlPlanningException(SqlStates.FeatureNotSupported, "the statement has parameters: supply their values to plan it");
        var values = ParseExpressions(session, literals);
        foreach (var v in values)
        {
            if (SqlAst.Objects(v).Any(o => SqlAst.Class(o) is "COLUMN_REF" or "SUBQUERY" or "PARAMETER" or "STAR" or "WINDOW"))
                throw new SqlPlanningException(SqlStates.SyntaxError, "a parameter value must be a literal");
        }
        foreach (var p in parameters)
        {
            var id = SqlAst.Str(p, "identifier");
            if (!int.TryParse(id, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var position)
                || position < 1 || position > values.Count)
                throw new SqlPlanningException(SqlStates.SyntaxError, $"there is no value for parameter ${id}");
            var value = values[position - 1].DeepClone();
            value["alias"] = SqlAst.Str(p, "alias");
            SqlAst.Replace(p, value);
        }
    }

    /// <summary>Parses SQL expressions (text we built or literals) into parse-tree nodes, in one round trip.</summary>
    internal static List<JsonNode> ParseExpressions(ParserSession session, IReadOnlyList<string> expressions)
    {
        if (expressions.Count == 0) return [];
        var root = session.Serialize("SELECT " + string.Join(", ", expressions.Select(e => "(" + e + ")")));
        var items = SqlAst.Array(SqlAst.StatementNode(root), "select_list");
        if (items.Count != expressions.Count)
            throw new SqlPlanningException(SqlStates.SyntaxError, "an expression list did not parse as expected");
        return items.Select(i => i!).ToList();
    }

    private static (IReadOnlyList<string> Projects, ProjectSource Source) ResolveProjects(TableReference r, ICatalogView catalog,
        CallerScope caller, FunctionCatalog functions)
    {
        HashSet<string>? constraint = null;
        foreach (var c in r.FilterConjuncts.Concat(r.ConstraintOnlyConjuncts))
        {
            if (ConjunctAnalysis.ProjectConstraint(c, r) is not { } set) continue;
            if (constraint is null) constraint = set;
            else constraint.IntersectWith(set);
        }
        if (constraint is not null)
        {
            var list = constraint.Order(StringComparer.Ordinal).ToList();
            foreach (var p in list)
            {
                if (!caller.CanRead(p))
                    throw new SqlPlanningException(SqlStates.InsufficientPrivilege, $"permission denied for project \"{p}\"");
            }
            return (list, ProjectSource.Predicate);
        }
        if (caller.DefaultProject is { } d)
        {
            if (!caller.CanRead(d)) throw new SqlPlanningException(SqlStates.InsufficientPrivilege, $"permission denied for project \"{d}\"");
            return ([d], ProjectSource.Default);
        }
        if (caller.IsAdmin)
            return (catalog.ProjectsOf(r.Schema.Name).Distinct().Order(StringComparer.Ordinal).ToList(), ProjectSource.AllProjects);
        throw new SqlPlanningException(SqlStates.InsufficientPrivilege,
            $"the statement reaches no project for table \"{r.Schema.Name}\": add project_id = '…' to its WHERE clause, or connect with a default project");
    }

    internal static TimeRange[] EvaluateTimeBounds(ParserSession session, IReadOnlyList<TableReference> refs, FunctionCatalog functions)
    {
        var ranges = new TimeRange[refs.Count];
        var requests = refs.SelectMany(r => r.FilterConjuncts.Concat(r.ConstraintOnlyConjuncts)
            .SelectMany(c => ConjunctAnalysis.TimeBounds(c, r, functions))).ToList();
        if (requests.Count == 0) return ranges;

        // Each constant as SELECT <e> AS __e (deserialized from the tree), then cast to TIMESTAMPTZ and to DATE.
        var casts = new List<string>();
        foreach (var request in requests)
        {
            var e = request.Expression.DeepClone();
            e["alias"] = "__e";
            var inner = session.Deserialize(SqlAst.Root(ConstantSelect(session, new JsonArray(e))));
            casts.Add($"(SELECT epoch_us(TRY_CAST(__e AS TIMESTAMPTZ)) FROM ({inner}) AS __c)");
            casts.Add($"(SELECT epoch_us(CAST(TRY_CAST(__e AS DATE) AS TIMESTAMPTZ)) FROM ({inner}) AS __c)");
        }
        var results = session.EvaluateInt64(casts);
        for (var i = 0; i < requests.Count; i++)
        {
            var range = ConjunctAnalysis.RangeOf(requests[i], results[2 * i], results[2 * i + 1]);
            ranges[requests[i].Reference] = ranges[requests[i].Reference].Intersect(range);
        }
        return ranges;
    }

    private static JsonObject ConstantSelect(ParserSession session, JsonArray selectList)
    {
        var template = SqlAst.StatementNode(session.Serialize("SELECT 1"));
        template["select_list"] = selectList;
        return template;
    }

    /// <summary>ORDER BY … LIMIT that the grains of the only table reference may apply too.</summary>
    private sealed record PushedLimit(List<JsonObject> Orders, long Rows, bool NewestFirst);

    private static PushedLimit? LimitPushdown(JsonObject node, IReadOnlyList<TableReference> refs, FunctionCatalog functions)
    {
        if (refs.Count != 1 || SqlAst.Type(node) != "SELECT_NODE") return null;
        var r = refs[0];
        if (!ReferenceEquals(r.SelectNode, node) || !r.SoleFromItem) return null;
        var selectList = node["select_list"] as JsonArray ?? [];
        if (SqlAst.Array(node, "group_expressions").Count > 0 || SqlAst.Str(node, "aggregate_handling") != "STANDARD_HANDLING"
            || node["having"] is JsonObject || node["qualify"] is JsonObject || node["sample"] is JsonObject || r.Node["sample"] is JsonObject
            || QueryShape.Modifier(node, "DISTINCT_MODIFIER") is not null
            || selectList.Any(i => QueryShape.HasAggregate(i, functions) || QueryShape.HasWindow(i)))
            return null;
        // Every WHERE conjunct must run on the grains, or a grain's first N rows may not be the statement's.
        var where = SqlAst.Conjuncts(node["where_clause"]);
        if (where.Any(c => !ConjunctAnalysis.IsAttributable(c, r, functions))) return null;
        if (QueryShape.LimitPlusOffset(node) is not { } rows) return null;
        var orders = new List<JsonObject>();
        foreach (var order in QueryShape.Orders(node))
        {
            if (order["expression"] is not { } e) return null;
            var resolved = QueryShape.ResolveSelectReference(e, selectList, t => r.ColumnOf(t) is not null, aliasFirst: true);
            if (resolved is null || !ConjunctAnalysis.IsAttributable(resolved, r, functions)) return null;
            var o = (JsonObject)order.DeepClone();
            var expression = ConjunctAnalysis.Unqualified(resolved, r);
            expression["alias"] = "";
            o["expression"] = expression;
            orders.Add(o);
        }
        var newestFirst = orders.Count > 0 && SqlAst.Str(orders[0], "type") == "DESCENDING"
            && SqlAst.IsColumnRef(orders[0]["expression"])
            && r.ColumnOf(orders[0]["expression"]!) == TableSchema.TimestampColumn;
        return new PushedLimit(orders, rows, newestFirst);
    }

    private static bool AllColumnsNeeded(JsonObject node, TableReference r)
    {
        if (r.HasColumnAliases) return true;
        foreach (var o in SqlAst.Objects(node))
        {
            switch (SqlAst.Class(o) ?? SqlAst.Type(o))
            {
                case "STAR":
                case "PIVOT":
                    return true;
                case "COLUMN_REF" when SqlAst.ColumnNames(o) is [var n] && string.Equals(n, r.Qualifier, StringComparison.OrdinalIgnoreCase):
                    return true;
                case "JOIN" when SqlAst.Str(o, "ref_type") == "NATURAL":
                    return true;
            }
        }
        return false;
    }

    /// <summary>Table columns whose name appears anywhere a column can be named (over-inclusion only costs bandwidth).</summary>
    private static HashSet<string> NeededColumns(JsonObject node, TableReference r)
    {
        var names = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var o in SqlAst.Objects(node))
        {
            if (SqlAst.IsColumnRef(o)) names.UnionWith(SqlAst.ColumnNames(o));
            foreach (var u in SqlAst.Array(o, "using_columns")) names.Add(u?.GetValue<string>() ?? "");
        }
        return names;
    }

    private static IReadOnlyList<string> ScanColumns(JsonObject node, TableReference r)
    {
        if (AllColumnsNeeded(node, r)) return r.Schema.Columns.Select(c => c.Name).ToList();
        var needed = NeededColumns(node, r);
        return r.Schema.Columns.Where(c => needed.Contains(c.Name)).Select(c => c.Name).ToList();
    }

    private static (string? Predicate, string ScanSql) BuildScan(ParserSession session, TableReference r, FunctionCatalog functions,
        HashSet<string>? neededColumns, PushedLimit? limit)
    {
        var columns = neededColumns is null
            ? r.Schema.Columns.Select(c => c.Name).ToList()
            : r.Schema.Columns.Where(c => neededColumns.Contains(c.Name)).Select(c => c.Name).ToList();
        var pushed = r.FilterConjuncts.Where(c => ConjunctAnalysis.IsAttributable(c, r, functions))
            .Select(c => ConjunctAnalysis.Unqualified(c, r)).ToList();
        var select = SqlAst.StatementNode(session.Serialize("SELECT 1 AS __row FROM __t"));
        if (columns.Count > 0)
            select["select_list"] = new JsonArray(columns.Select(c => (JsonNode)SqlAst.ColumnRef(c)).ToArray());
        select["from_table"] = SqlAst.BaseTable(r.Schema.Name, "");
        select["where_clause"] = SqlAst.And(pushed);
        if (limit is not null)
        {
            var modifiers = new JsonArray();
            if (limit.Orders.Count > 0)
                modifiers.Add(new JsonObject { ["type"] = "ORDER_MODIFIER", ["orders"] = new JsonArray(limit.Orders.Select(o => (JsonNode)o.DeepClone()).ToArray()) });
            modifiers.Add(new JsonObject { ["type"] = "LIMIT_MODIFIER", ["limit"] = SqlAst.BigIntConstant(limit.Rows), ["offset"] = null });
            select["modifiers"] = modifiers;
        }
        string? predicateSql = null;
        if (pushed.Count > 0)
        {
            var p = SqlAst.StatementNode(session.Serialize("SELECT 1"));
            p["where_clause"] = SqlAst.And(pushed);
            var text = session.Deserialize(SqlAst.Root(p));
            predicateSql = text[text.IndexOf(" WHERE ", StringComparison.Ordinal)..][" WHERE ".Length..];
        }
        return (predicateSql, session.Deserialize(SqlAst.Root(select)));
    }

    /// <summary>The statement with every table reference replaced by its scan relation (keeping the name it is known by).</summary>
    private static string RowShippingMerge(ParserSession session, JsonObject root, IReadOnlyList<TableReference> refs)
    {
        foreach (var r in refs)
        {
            r.Node["table_name"] = "__scan_" + r.Index;
            r.Node["alias"] = r.Qualifier;
        }
        return session.Deserialize(root);
    }
}

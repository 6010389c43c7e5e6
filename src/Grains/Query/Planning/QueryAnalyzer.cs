using System.Text.Json.Nodes;
using TimeFusion.Tables;
using TimeFusion.Wire;

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
        var rewritten = SubstituteParameters(session, node, parameterLiterals);
        rewritten |= PostgresColumnNames.Apply(node);
        // After naming: PostgreSQL names `a ~ b` "?column?", not after the function it becomes.
        rewritten |= PostgresOperators.Apply(node);

        var refs = ReferenceCollector.Collect(node, catalog).Tables;
        SqlFunctions.RefuseDenied(node);
        foreach (var r in refs)
        {
            // Canonical, unqualified names: the executor binds exactly these to each grain's snapshot.
            if (SqlAst.Str(r.Node, "table_name") != r.Schema.Name || SqlAst.Str(r.Node, "schema_name").Length > 0 || SqlAst.Str(r.Node, "catalog_name").Length > 0)
            {
                r.Node["table_name"] = r.Schema.Name;
                r.Node["schema_name"] = "";
                r.Node["catalog_name"] = "";
                rewritten = true;
            }
            session.EnsureStub(r.Schema);
        }
        // Literals meeting a timestamptz column (by its name in a table read) or cast to timestamptz are read as
        // PostgreSQL reads them, in the session's TimeZone, and written back as instants (the grains and the bounds agree).
        var timestampColumns = new HashSet<string>(refs.SelectMany(r => r.Schema.Columns).Where(c => c.Type == ColumnType.TimestampUs).Select(c => c.Name),
            StringComparer.OrdinalIgnoreCase);
        rewritten |= TimestampLiterals.Rewrite(node, n => SqlAst.IsColumnRef(n) && SqlAst.ColumnNames(n) is { Length: > 0 } names && timestampColumns.Contains(names[^1]),
            session, caller.TimeZone) > 0;

        // Bind as written (with canonical names): validates columns, functions, types; names the result columns.
        // A statement that needed no rewriting is kept as the caller wrote it (same parse tree, no round trip).
        var canonicalSql = rewritten ? session.Deserialize(root) : sql;
        var (outputNames, jsonColumns) = session.PrepareColumns(canonicalSql);

        var now = TruncateToMicroseconds(_time.GetUtcNow());
        var columns = new HashSet<string>(refs.SelectMany(r => r.Schema.Columns.Select(c => c.Name)), StringComparer.OrdinalIgnoreCase);
        KeepClockColumnNames(node, outputNames, columns.Contains);
        var plannedSql = ClockRewriter.Rewrite(node, now, columns.Contains) > 0 ? session.Deserialize(root) : canonicalSql;

        if (refs.Count == 0)
            return new QueryPlan(PlanKind.GatewayOnly, plannedSql, [], null, plannedSql, outputNames, now, null, null) { TimeZone = caller.TimeZone, JsonColumns = jsonColumns };

        var functions = session.Functions;
        var projects = refs.Select(r => ResolveProjects(r, catalog, caller)).ToList();
        var times = EvaluateTimeBounds(session, refs, functions, caller.TimeZone);
        var limitPush = LimitPushdown(node, refs, functions);
        TableScan Scan(TableReference r, string? predicate, string? scanSql) => new(r.Index, r.Schema, r.Qualifier,
            projects[r.Index].Projects, projects[r.Index].Source, times[r.Index], predicate, ScanColumns(node, r), scanSql,
            limitPush is { NewestFirst: true } ? limitPush.Rows : null);

        var single = refs.All(r => projects[r.Index].Projects.Count == 1 && projects[r.Index].Projects[0] == projects[0].Projects[0]
            && string.Equals(r.Schema.Name, refs[0].Schema.Name, StringComparison.Ordinal));
        if (single)
        {
            var newestFirst = limitPush is { NewestFirst: true } ? limitPush.Rows : (long?)null;
            return new QueryPlan(PlanKind.SingleGrain, plannedSql, refs.Select(r => Scan(r, null, null)).ToList(),
                plannedSql, null, outputNames, now, newestFirst, null) { TimeZone = caller.TimeZone, JsonColumns = jsonColumns };
        }

        // Before the row-shipping rewrite below changes the tree.
        // Newest-first plans get a streamed form too: the gateway streams them when their LIMIT is too large to gather.
        var stream = refs.Count == 1 && projects[0].Projects.Count > 1
            ? StreamSplitter.TrySplit(session, root, refs[0], functions)
            : null;

        string? fallback;
        if (refs.Count == 1 && refs[0].SoleFromItem && ReferenceEquals(refs[0].SelectNode, node))
        {
            var split = AggregateSplitter.TrySplit(node, refs[0], functions, outputNames, texts => ParseExpressions(session, texts), out fallback);
            if (split is not null)
            {
                var grainSql = session.Deserialize(SqlAst.Root(split.GrainNode));
                var mergeSql = session.Deserialize(SqlAst.Root(split.MergeNode));
                try
                {
                    // The merge has no WITH clause of its own (the split refuses one), so this binds it over the partials' shape.
                    session.Prepare($"WITH {QueryPlan.PartialsRelation} AS ({grainSql}) {mergeSql}", "merge of partial aggregates");
                    return new QueryPlan(PlanKind.PartialAggregate, plannedSql, [Scan(refs[0], null, null)], grainSql, mergeSql,
                        outputNames, now, null, null) { TimeZone = caller.TimeZone, JsonColumns = jsonColumns };
                }
                catch (SqlPlanningException e)
                {
                    fallback = "partial aggregation did not bind: " + e.Message;
                }
            }
        }
        else
        {
            fallback = refs.Count > 1 ? "several table references" : "the table is not the statement's only FROM item";
        }

        // Row shipping: each reference's grains send filtered, projected rows; the statement runs over them.
        var scanNodes = refs.Select(r => ScanNode(session, node, r, functions, refs.Count == 1 ? limitPush : null)).ToList();
        var scans = refs.Select(r => Scan(r, PushedPredicateSql(session, r, functions), session.Deserialize(SqlAst.Root(scanNodes[r.Index])))).ToList();
        foreach (var r in refs)
        {
            r.Node["table_name"] = "__scan_" + r.Index;
            r.Node["alias"] = r.Qualifier;
        }
        var shippingMerge = session.Deserialize(root);
        try
        {
            // Bind the merge over the scans' shapes: the scans become the first CTEs of the statement.
            var map = node["cte_map"]!["map"] as JsonArray ?? throw new SqlPlanningException(SqlState.InternalError, "query node without a CTE map");
            for (var i = scanNodes.Count - 1; i >= 0; i--)
            {
                map.Insert(0, new JsonObject
                {
                    ["key"] = "__scan_" + i,
                    ["value"] = new JsonObject
                    {
                        ["aliases"] = new JsonArray(),
                        ["query"] = new JsonObject { ["node"] = scanNodes[i].DeepClone(), ["named_param_map"] = new JsonArray() },
                        ["materialized"] = "CTE_MATERIALIZE_DEFAULT",
                        ["key_targets"] = new JsonArray(),
                    },
                });
            }
            session.Prepare(session.Deserialize(root), "merge of shipped rows");
        }
        catch (SqlPlanningException e)
        {
            throw new SqlPlanningException(SqlState.InternalError, "cannot distribute the statement: " + e.Message);
        }
        var newest = scans.Count == 1 ? scans[0].NewestFirstLimit : null;
        return new QueryPlan(PlanKind.RowShipping, plannedSql, scans, null, shippingMerge, outputNames, now, newest, fallback, stream) { TimeZone = caller.TimeZone, JsonColumns = jsonColumns };
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

    /// <summary>Replaces parameters by the given literals; returns whether there were any.</summary>
    private static bool SubstituteParameters(ParserSession session, JsonObject node, IReadOnlyList<string>? literals)
    {
        var parameters = SqlAst.Objects(node).Where(o => SqlAst.Class(o) == "PARAMETER").ToList();
        if (parameters.Count == 0) return false;
        if (literals is null || literals.Count == 0)
            throw new SqlPlanningException(SqlState.FeatureNotSupported, "the statement has parameters: supply their values to plan it");
        var values = ParseExpressions(session, literals);
        foreach (var v in values)
        {
            if (SqlAst.Objects(v).Any(o => SqlAst.Class(o) is "COLUMN_REF" or "SUBQUERY" or "PARAMETER" or "STAR" or "WINDOW"))
                throw new SqlPlanningException(SqlState.SyntaxError, "a parameter value must be a literal");
        }
        foreach (var p in parameters)
        {
            var id = SqlAst.Str(p, "identifier");
            if (!int.TryParse(id, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var position)
                || position < 1 || position > values.Count)
                throw new SqlPlanningException(SqlState.SyntaxError, $"there is no value for parameter ${id}");
            var value = values[position - 1].DeepClone();
            value["alias"] = SqlAst.Str(p, "alias");
            SqlAst.Replace(p, value);
        }
        return true;
    }

    /// <summary>Parses SQL expressions (text we built or literals) into parse-tree nodes, in one round trip.</summary>
    internal static List<JsonNode> ParseExpressions(ParserSession session, IReadOnlyList<string> expressions)
    {
        if (expressions.Count == 0) return [];
        var root = session.Serialize("SELECT " + string.Join(", ", expressions.Select(e => "(" + e + ")")));
        var items = SqlAst.Array(SqlAst.StatementNode(root), "select_list");
        if (items.Count != expressions.Count)
            throw new SqlPlanningException(SqlState.SyntaxError, "an expression list did not parse as expected");
        return items.Select(i => i!).ToList();
    }

    private static (IReadOnlyList<string> Projects, ProjectSource Source) ResolveProjects(TableReference r, ICatalogView catalog,
        CallerScope caller)
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
                    throw new SqlPlanningException(SqlState.InsufficientPrivilege, $"permission denied for project \"{p}\"");
            }
            return (list, ProjectSource.Predicate);
        }
        // Row-level security: no project predicate reaches every project the caller may read that has the table.
        return (CallerProjects(catalog.ProjectsOf(r.Schema.Name), caller.IsAdmin ? null : caller.ReadableProjects), ProjectSource.AllProjects);
    }

    /// <summary>The table's projects the caller may reach (<paramref name="allowed"/> null: all of them), in order.</summary>
    internal static IReadOnlyList<string> CallerProjects(IReadOnlyList<string> tableProjects, IReadOnlySet<string>? allowed) =>
        tableProjects.Where(p => allowed is null || allowed.Contains(p)).Distinct().Order(StringComparer.Ordinal).ToList();

    /// <summary>
    /// The time range each reference's conjuncts allow, their constants evaluated in <paramref name="timeZone"/> (null:
    /// UTC), the zone the statement runs in, so a literal without an offset bounds what the grains will compare.
    /// </summary>
    internal static TimeRange[] EvaluateTimeBounds(ParserSession session, IReadOnlyList<TableReference> refs, FunctionCatalog functions, string? timeZone = null)
    {
        var ranges = new TimeRange[refs.Count];
        var requests = refs.SelectMany(r => r.FilterConjuncts.Concat(r.ConstraintOnlyConjuncts)
            .SelectMany(c => ConjunctAnalysis.TimeBounds(c, r, functions))).ToList();
        if (requests.Count == 0) return ranges;

        if (timeZone is not null) return session.InTimeZone(timeZone, () => Ranges(session, requests, ranges));
        return Ranges(session, requests, ranges);
    }

    private static TimeRange[] Ranges(ParserSession session, List<BoundRequest> requests, TimeRange[] ranges)
    {
        // All constants in one SELECT (e0 AS __e0, …), each cast to TIMESTAMPTZ and to DATE, as epoch microseconds.
        var values = EvaluateBounds(session, requests, Enumerable.Range(0, requests.Count).ToList());
        if (values is null)
        {
            // One constant failed (e.g. a malformed literal): evaluate each alone; a failing one bounds nothing.
            values = new long?[requests.Count * 2];
            for (var i = 0; i < requests.Count; i++)
            {
                if (EvaluateBounds(session, requests, [i]) is { } one)
                {
                    values[2 * i] = one[0];
                    values[2 * i + 1] = one[1];
                }
            }
        }
        for (var i = 0; i < requests.Count; i++)
        {
            var range = ConjunctAnalysis.RangeOf(requests[i], values[2 * i], values[2 * i + 1]);
            ranges[requests[i].Reference] = ranges[requests[i].Reference].Intersect(range);
        }
        return ranges;
    }

    private static long?[]? EvaluateBounds(ParserSession session, List<BoundRequest> requests, List<int> which)
    {
        var select = session.NewSelect();
        var list = new JsonArray();
        foreach (var i in which)
        {
            var e = requests[i].Expression.DeepClone();
            e["alias"] = "__e" + i;
            list.Add(e);
        }
        select["select_list"] = list;
        var inner = session.Deserialize(SqlAst.Root(select));
        var casts = which.SelectMany(i => new[]
        {
            $"epoch_us(TRY_CAST(__e{i} AS TIMESTAMPTZ))",
            $"epoch_us(CAST(TRY_CAST(__e{i} AS DATE) AS TIMESTAMP))",
        });
        return session.EvaluateRow($"SELECT {string.Join(", ", casts)} FROM ({inner}) AS __c", which.Count * 2);
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
                case "POSITIONAL_REFERENCE":
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

    private static List<JsonNode> PushedConjuncts(TableReference r, FunctionCatalog functions) =>
        r.FilterConjuncts.Where(c => ConjunctAnalysis.IsAttributable(c, r, functions)).Select(c => ConjunctAnalysis.Unqualified(c, r)).ToList();

    /// <summary><c>SELECT &lt;needed columns&gt; FROM "table" WHERE &lt;pushed conjuncts&gt; [ORDER BY … LIMIT n]</c> as a query node.</summary>
    private static JsonObject ScanNode(ParserSession session, JsonObject statement, TableReference r, FunctionCatalog functions, PushedLimit? limit)
    {
        var columns = ScanColumns(statement, r);
        var select = session.NewSelect();
        select["select_list"] = columns.Count > 0
            ? new JsonArray(columns.Select(c => (JsonNode)SqlAst.ColumnRef(c)).ToArray())
            : new JsonArray(SqlAst.BigIntConstant(1)); // no column is used (e.g. count(*) of a join): ship row count only
        select["from_table"] = SqlAst.BaseTable(r.Schema.Name, "");
        select["where_clause"] = SqlAst.And(PushedConjuncts(r, functions));
        if (limit is not null)
        {
            var modifiers = new JsonArray();
            if (limit.Orders.Count > 0)
                modifiers.Add(new JsonObject { ["type"] = "ORDER_MODIFIER", ["orders"] = new JsonArray(limit.Orders.Select(o => (JsonNode)o.DeepClone()).ToArray()) });
            modifiers.Add(new JsonObject { ["type"] = "LIMIT_MODIFIER", ["limit"] = SqlAst.BigIntConstant(limit.Rows), ["offset"] = null });
            select["modifiers"] = modifiers;
        }
        return select;
    }

    private static string? PushedPredicateSql(ParserSession session, TableReference r, FunctionCatalog functions)
    {
        var pushed = PushedConjuncts(r, functions);
        if (pushed.Count == 0) return null;
        var select = session.NewSelect();
        select["where_clause"] = SqlAst.And(pushed);
        var text = session.Deserialize(SqlAst.Root(select));
        const string marker = " WHERE ";
        return text[(text.IndexOf(marker, StringComparison.Ordinal) + marker.Length)..];
    }
}

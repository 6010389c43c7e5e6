using System.Text.Json.Nodes;

namespace TimeFusion.Query.Planning;

/// <summary>
/// Decides whether a statement over one table's several grains can stream: when every result row comes from one
/// table row (no aggregate, window, DISTINCT, GROUP BY, HAVING, QUALIFY, sample; the table joined only by inner or
/// cross joins to things that read no table), the statement over the union of the grains is the concatenation of
/// the statement run on each grain. Each grain then runs the statement whole; with ORDER BY it also returns a sort
/// key (<c>create_sort_key</c>: a BIGINT, or a BLOB compared bytewise) and is ordered by it, so that the door merges the grains' sorted
/// streams; LIMIT n OFFSET m becomes LIMIT n + m on the grains and is applied again at the door.
/// </summary>
internal static class StreamSplitter
{
    /// <summary>The name of the sort key column a grain appends (dropped at the door).</summary>
    public const string SortKeyColumn = "__tf_sort_key";

    /// <summary>
    /// Stands for the cutoff sort key in <see cref="StreamedPlan.CutoffSqlTemplate"/> (a string constant no statement
    /// holds: the planner puts it there, <see cref="StreamedPlan.WithCutoff"/> replaces it with the key's literal).
    /// </summary>
    internal const string CutoffMarker = "__tf_cutoff_9f4c1e7a2b6d4f0e8a3c5b1d7e9f2a4c";

    /// <summary>
    /// The streamed form of the statement whose planned tree is <paramref name="root"/> (not modified), or null when it
    /// does not stream. <paramref name="r"/> is the statement's only table reference.
    /// </summary>
    public static StreamedPlan? TrySplit(ParserSession session, JsonObject root, TableReference r, FunctionCatalog functions)
    {
        var original = SqlAst.StatementNode(root);
        if (SqlAst.Type(original) != "SELECT_NODE" || !ReferenceEquals(r.SelectNode, original)) return null;
        var clone = (JsonObject)root.DeepClone();
        var node = SqlAst.StatementNode(clone);
        var selectList = node["select_list"] as JsonArray ?? [];
        if (SqlAst.Array(node, "group_expressions").Count > 0 || SqlAst.Str(node, "aggregate_handling") != "STANDARD_HANDLING"
            || node["having"] is JsonObject || node["qualify"] is JsonObject || node["sample"] is JsonObject || r.Node["sample"] is JsonObject
            || selectList.Any(i => QueryShape.HasAggregate(i, functions) || QueryShape.HasWindow(i))
            || QueryShape.OrderExpressions(node).Any(e => QueryShape.HasAggregate(e, functions) || QueryShape.HasWindow(e))
            || !Distributes(node["from_table"]))
            return null;
        // Only ORDER BY and a constant LIMIT/OFFSET (no DISTINCT, LIMIT PERCENT, …).
        if (SqlAst.Array(node, "modifiers").Any(m => SqlAst.Type(m) is not ("ORDER_MODIFIER" or "LIMIT_MODIFIER"))) return null;

        long? limit = null;
        long offset = 0;
        if (QueryShape.Modifier(node, "LIMIT_MODIFIER") is { } limitModifier)
        {
            if (limitModifier["limit"] is JsonObject l)
            {
                if (SqlAst.IntegerConstant(l) is not { } n || n < 0) return null;
                limit = n;
            }
            if (limitModifier["offset"] is JsonObject o)
            {
                if (SqlAst.IntegerConstant(o) is not { } m || m < 0) return null;
                offset = m;
            }
            if (limit is { } n2 && n2 > long.MaxValue - offset) return null;
        }

        var modifiers = new JsonArray();
        JsonNode? keyExpression = null;
        var orders = QueryShape.Orders(node);
        if (orders.Count > 0)
        {
            // create_sort_key(e1, 'ASC NULLS LAST', e2, …): its bytes compare as DuckDB orders the terms.
            var specs = new List<string>();
            var expressions = new List<JsonNode>();
            foreach (var order in orders)
            {
                if (order["expression"] is not { } e) return null;
                var resolved = QueryShape.ResolveSelectReference(e, selectList, t => r.ColumnOf(t) is not null, aliasFirst: true);
                if (resolved is null || SqlAst.Class(resolved) is "STAR" or "CONSTANT") return null;
                var expression = resolved.DeepClone();
                expression["alias"] = "";
                expressions.Add(expression);
                specs.Add((SqlAst.Str(order, "type") == "DESCENDING" ? "DESC" : "ASC")
                    // DuckDB's default is NULLS LAST in both directions (default_null_order is not changed here).
                    + (SqlAst.Str(order, "null_order").Replace('_', ' ') == "NULLS FIRST" ? " NULLS FIRST" : " NULLS LAST"));
            }
            var key = QueryAnalyzer.ParseExpressions(session,
                ["create_sort_key(" + string.Join(", ", specs.Select(s => $"NULL, '{s}'")) + ")"])[0].DeepClone();
            var children = SqlAst.Array(key, "children");
            if (children.Count != 2 * expressions.Count) return null;
            for (var i = 0; i < expressions.Count; i++) children[2 * i] = expressions[i];
            keyExpression = key.DeepClone();
            key["alias"] = SortKeyColumn;
            selectList.Add(key);
            var byKey = new JsonObject
            {
                ["type"] = "ASCENDING",
                ["null_order"] = "NULLS_LAST",
                ["expression"] = SqlAst.ColumnRef(SortKeyColumn),
            };
            modifiers.Add(new JsonObject { ["type"] = "ORDER_MODIFIER", ["orders"] = new JsonArray(byKey) });
        }
        if (limit is { } rows)
            modifiers.Add(new JsonObject { ["type"] = "LIMIT_MODIFIER", ["limit"] = SqlAst.BigIntConstant(rows + offset), ["offset"] = null });
        node["modifiers"] = modifiers;
        string grainSql;
        try
        {
            grainSql = session.Deserialize(clone);
            session.Prepare(grainSql, "streamed part");
        }
        catch (SqlPlanningException)
        {
            return null; // the gateway gathers it as before
        }
        var (topKeysSql, cutoffSql) = keyExpression is not null && limit is not null ? CutoffForms(session, clone, keyExpression) : (null, null);
        return new StreamedPlan(grainSql, orders.Count > 0, limit, offset) { TopKeysSql = topKeysSql, CutoffSqlTemplate = cutoffSql };
    }

    /// <summary>
    /// The two forms of a sorted, limited part that let its grains sort about LIMIT rows together instead of LIMIT rows
    /// each: its top sort keys alone (narrow), and the part restricted to rows whose key is at most a cutoff
    /// (<see cref="CutoffMarker"/>); (null, null) when either does not plan.
    /// </summary>
    private static (string?, string?) CutoffForms(ParserSession session, JsonObject streamed, JsonNode keyExpression)
    {
        try
        {
            var keys = (JsonObject)streamed.DeepClone();
            var keysNode = SqlAst.StatementNode(keys);
            var key = keyExpression.DeepClone();
            key["alias"] = SortKeyColumn;
            keysNode["select_list"] = new JsonArray(key);
            var topKeysSql = session.Deserialize(keys);
            session.Prepare(topKeysSql, "top sort keys");

            var cut = (JsonObject)streamed.DeepClone();
            var cutNode = SqlAst.StatementNode(cut);
            var comparison = QueryAnalyzer.ParseExpressions(session, [$"NULL <= '{CutoffMarker}'"])[0].DeepClone();
            comparison["left"] = keyExpression.DeepClone();
            var terms = SqlAst.Conjuncts(cutNode["where_clause"]).Select(t => t.DeepClone()).Append(comparison).ToList();
            cutNode["where_clause"] = SqlAst.And(terms);
            var cutoffSql = session.Deserialize(cut);
            return cutoffSql.Contains($"'{CutoffMarker}'", StringComparison.Ordinal) ? (topKeysSql, cutoffSql) : (null, null);
        }
        catch (SqlPlanningException)
        {
            return (null, null);
        }
    }

    /// <summary>Whether a FROM clause holding the table once distributes over the union of its grains (inner/cross joins only).</summary>
    private static bool Distributes(JsonNode? from)
    {
        switch (SqlAst.Type(from))
        {
            case "BASE_TABLE":
            case "TABLE_FUNCTION":
            case "EXPRESSION_LIST":
            case "SUBQUERY":
                return true;
            case "JOIN":
                return SqlAst.Str(from, "ref_type") is "REGULAR" or "CROSS" or "NATURAL" && SqlAst.Str(from, "join_type") == "INNER"
                    && Distributes(from!["left"]) && Distributes(from["right"]);
            default:
                return false;
        }
    }
}

/// <summary>
/// How a statement over several grains streams: each grain runs <see cref="GrainSql"/>; the door concatenates their
/// results, or merges them by their last column (a sort key, then dropped) when <see cref="Sorted"/>; it skips
/// <see cref="Offset"/> rows and stops after <see cref="Limit"/>.
/// </summary>
/// <param name="GrainSql">What each grain runs (over its snapshot, the table by its canonical name).</param>
/// <param name="Sorted">Whether the last column is a sort key (BIGINT or BLOB) each grain's rows are ordered by.</param>
/// <param name="Limit">The statement's LIMIT, or null.</param>
/// <param name="Offset">The statement's OFFSET (0 when none).</param>
public sealed record StreamedPlan(string GrainSql, bool Sorted, long? Limit, long Offset)
{
    /// <summary>
    /// Sorted with a LIMIT: what each grain runs to return only its top LIMIT + OFFSET sort keys (one column,
    /// <see cref="StreamSplitter.SortKeyColumn"/>, ordered); null otherwise.
    /// </summary>
    public string? TopKeysSql { get; init; }

    /// <summary>
    /// Sorted with a LIMIT: <see cref="GrainSql"/> restricted to rows whose sort key is at most a cutoff; fill it in with
    /// <see cref="WithCutoff"/>. Null otherwise.
    /// </summary>
    public string? CutoffSqlTemplate { get; init; }

    /// <summary>
    /// <see cref="GrainSql"/> restricted to rows whose sort key is at most <paramref name="cutoffLiteral"/> (a DuckDB
    /// literal of the key's type).
    /// </summary>
    public string WithCutoff(string cutoffLiteral)
    {
        ArgumentException.ThrowIfNullOrEmpty(cutoffLiteral);
        var template = CutoffSqlTemplate ?? throw new InvalidOperationException("this part has no cutoff form");
        return template.Replace($"'{StreamSplitter.CutoffMarker}'", cutoffLiteral, StringComparison.Ordinal);
    }
}

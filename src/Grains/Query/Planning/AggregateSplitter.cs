using System.Text.Json.Nodes;

namespace TimeFusion.Query.Planning;

/// <summary>The two halves of an aggregation split across grains.</summary>
/// <param name="GrainNode">What each grain runs: group keys <c>__g0…</c> and partial aggregates <c>__a0…</c>.</param>
/// <param name="MergeNode">What the gateway runs over <see cref="QueryPlan.PartialsRelation"/>.</param>
internal sealed record AggregateSplit(JsonObject GrainNode, JsonObject MergeNode);

/// <summary>
/// Splits a one-table aggregation into per-grain partial aggregates and a gateway merge: <c>count</c> →
/// <c>sum</c> of counts, <c>sum</c>/<c>min</c>/<c>max</c>/<c>bool_and</c>/<c>bool_or</c> → themselves,
/// <c>avg</c> → sum of sums over sum of counts; FILTER clauses stay with the partials. GROUP BY keys (also by
/// alias, position or ALL) travel as columns; HAVING, ORDER BY, LIMIT/OFFSET, DISTINCT and the final projections
/// run only in the merge. Anything else is refused with a reason (the caller then ships rows).
/// </summary>
internal sealed class AggregateSplitter
{
    private readonly FunctionCatalog _functions;
    private readonly TableReference _table;
    private readonly Dictionary<string, int> _keys = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _aggregates = new(StringComparer.Ordinal);
    private readonly List<JsonNode> _partials = [];
    private readonly List<string> _mergeTexts = [];

    private AggregateSplitter(FunctionCatalog functions, TableReference table)
    {
        _functions = functions;
        _table = table;
    }

    /// <summary>
    /// Splits <paramref name="select"/> (the whole statement; its FROM is exactly <paramref name="table"/>).
    /// Returns null with <paramref name="reason"/> null when the statement does not aggregate, or null with a reason
    /// when it aggregates in a way that cannot be split. <paramref name="parseExpressions"/> parses merge
    /// expressions (SQL text) into nodes; <paramref name="outputNames"/> are the statement's result column names.
    /// </summary>
    public static AggregateSplit? TrySplit(JsonObject select, TableReference table, FunctionCatalog functions,
        IReadOnlyList<string> outputNames, Func<IReadOnlyList<string>, List<JsonNode>> parseExpressions, out string? reason)
    {
        var splitter = new AggregateSplitter(functions, table);
        return splitter.Split(select, outputNames, parseExpressions, out reason);
    }

    private string Canonical(JsonNode? n) => SqlAst.Canonical(n, names =>
        names.Length == 2 && string.Equals(names[0], _table.Qualifier, StringComparison.OrdinalIgnoreCase) ? [names[1]] : names);

    private AggregateSplit? Split(JsonObject select, IReadOnlyList<string> outputNames,
        Func<IReadOnlyList<string>, List<JsonNode>> parseExpressions, out string? reason)
    {
        reason = null;
        var selectList = select["select_list"] as JsonArray ?? [];
        var groupExpressions = SqlAst.Array(select, "group_expressions");
        var handling = SqlAst.Str(select, "aggregate_handling");
        var having = select["having"];
        var orderExpressions = QueryShape.OrderExpressions(select).ToList();

        var aggregates = handling == "FORCE_AGGREGATES" || groupExpressions.Count > 0 || having is JsonObject
            || selectList.Any(i => QueryShape.HasAggregate(i, _functions))
            || orderExpressions.Any(e => QueryShape.HasAggregate(e, _functions));
        if (!aggregates) return null;

        if (SqlAst.Array(select["cte_map"], "map").Count > 0) return Fail(out reason, "the statement has a WITH clause");
        if (select["qualify"] is JsonObject) return Fail(out reason, "QUALIFY");
        if (select["sample"] is JsonObject || _table.Node["sample"] is JsonObject) return Fail(out reason, "TABLESAMPLE");
        if (handling is not ("STANDARD_HANDLING" or "FORCE_AGGREGATES")) return Fail(out reason, $"aggregate handling {handling}");
        if (SqlAst.Objects(select).Any(o => SqlAst.Class(o) is "WINDOW")) return Fail(out reason, "window functions");
        if (SqlAst.Objects(select).Any(o => SqlAst.Class(o) is "SUBQUERY")) return Fail(out reason, "a subquery");
        if (selectList.Any(i => SqlAst.Class(i) == "STAR")) return Fail(out reason, "* in an aggregation");
        if (QueryShape.Modifier(select, "DISTINCT_MODIFIER") is { } distinct && SqlAst.Array(distinct, "distinct_on_targets").Count > 0)
            return Fail(out reason, "DISTINCT ON");
        if (QueryShape.Modifier(select, "LIMIT_PERCENT_MODIFIER") is not null) return Fail(out reason, "LIMIT … PERCENT");
        var groupSets = SqlAst.Array(select, "group_sets");
        if (groupSets.Count > 1) return Fail(out reason, "GROUPING SETS / ROLLUP / CUBE");
        if (groupSets.Count == 1 && (groupSets[0] as JsonArray)?.Count != groupExpressions.Count)
            return Fail(out reason, "GROUPING SETS");
        if (selectList.Count != outputNames.Count) return Fail(out reason, "the select list does not match the result columns");

        // Group keys, with aliases, positions and GROUP BY ALL resolved to expressions.
        var keys = new List<JsonNode>();
        if (handling == "FORCE_AGGREGATES")
        {
            keys.AddRange(selectList.Where(i => !QueryShape.HasAggregate(i, _functions))!);
        }
        else
        {
            foreach (var g in groupExpressions)
            {
                var resolved = QueryShape.ResolveSelectReference(g!, selectList, t => _table.ColumnOf(t) is not null, aliasFirst: false);
                if (resolved is null) return Fail(out reason, "GROUP BY position out of range");
                if (QueryShape.HasAggregate(resolved, _functions)) return Fail(out reason, "an aggregate in GROUP BY");
                keys.Add(resolved);
            }
        }
        foreach (var key in keys) _keys.TryAdd(Canonical(key), _keys.Count);
        // Duplicate keys collapse; rebuild the list in index order.
        var uniqueKeys = new JsonNode[_keys.Count];
        foreach (var key in keys) uniqueKeys[_keys[Canonical(key)]] ??= key;

        // The merge: group keys become __g columns, aggregates their merge expressions (placeholders for now).
        var merge = (JsonObject)select.DeepClone();
        var mergeSelect = (JsonArray)merge["select_list"]!;
        for (var i = 0; i < mergeSelect.Count; i++)
        {
            var transformed = Transform(mergeSelect[i]!, out var failure);
            if (failure is not null) return Fail(out reason, failure);
            transformed["alias"] = outputNames[i];
            if (!ReferenceEquals(transformed, mergeSelect[i])) mergeSelect[i] = transformed;
        }
        if (merge["having"] is JsonObject mergeHaving)
        {
            var transformed = Transform(mergeHaving, out var failure);
            if (failure is not null) return Fail(out reason, failure);
            if (!ReferenceEquals(transformed, mergeHaving)) merge["having"] = transformed;
        }
        foreach (var order in QueryShape.Orders(merge))
        {
            if (order["expression"] is not JsonObject e) continue;
            var transformed = Transform(e, out var failure);
            if (failure is not null) return Fail(out reason, failure);
            if (!ReferenceEquals(transformed, e)) order["expression"] = transformed;
        }
        var parsed = parseExpressions(_mergeTexts);
        foreach (var placeholder in SqlAst.Objects(merge).Where(IsPlaceholder).ToList())
        {
            var index = int.Parse(SqlAst.ColumnNames(placeholder)[0].AsSpan("__merge_".Length), provider: System.Globalization.CultureInfo.InvariantCulture);
            var replacement = parsed[index].DeepClone();
            replacement["alias"] = SqlAst.Str(placeholder, "alias");
            SqlAst.Replace(placeholder, replacement);
        }
        merge["from_table"] = SqlAst.BaseTable(QueryPlan.PartialsRelation, "");
        merge["where_clause"] = null;
        merge["group_expressions"] = new JsonArray(Enumerable.Range(0, uniqueKeys.Length).Select(i => (JsonNode)SqlAst.ColumnRef("__g" + i)).ToArray());
        merge["group_sets"] = GroupSets(uniqueKeys.Length);
        merge["aggregate_handling"] = "STANDARD_HANDLING";

        // The grain side: keys and partials, filtered by the statement's WHERE.
        var grain = (JsonObject)select.DeepClone();
        var grainSelect = new JsonArray();
        for (var i = 0; i < uniqueKeys.Length; i++)
        {
            var k = uniqueKeys[i].DeepClone();
            k["alias"] = "__g" + i;
            grainSelect.Add(k);
        }
        for (var i = 0; i < _partials.Count; i++)
        {
            var p = _partials[i].DeepClone();
            p["alias"] = "__a" + i;
            grainSelect.Add(p);
        }
        grain["select_list"] = grainSelect;
        grain["group_expressions"] = new JsonArray(uniqueKeys.Select(k => { var c = k.DeepClone(); c["alias"] = ""; return c; }).ToArray());
        grain["group_sets"] = GroupSets(uniqueKeys.Length);
        grain["aggregate_handling"] = "STANDARD_HANDLING";
        grain["having"] = null;
        grain["qualify"] = null;
        grain["modifiers"] = TopGroupsModifiers(select, selectList, uniqueKeys);
        return new AggregateSplit(grain, merge);
    }

    /// <summary>
    /// ORDER BY + LIMIT for the grains when the statement keeps the first N groups in a total order of its group keys
    /// (no HAVING, no DISTINCT): a group among the first N overall is among the first N of every grain that has it,
    /// so each grain may stop there and every kept group's partials stay complete.
    /// </summary>
    private JsonArray TopGroupsModifiers(JsonObject select, JsonArray selectList, JsonNode[] keys)
    {
        var none = new JsonArray();
        if (keys.Length == 0 || select["having"] is JsonObject || QueryShape.Modifier(select, "DISTINCT_MODIFIER") is not null) return none;
        if (QueryShape.LimitPlusOffset(select) is not { } n) return none;
        var orders = QueryShape.Orders(select);
        if (orders.Count == 0) return none;
        var covered = new HashSet<int>();
        var grainOrders = new JsonArray();
        foreach (var order in orders)
        {
            if (order["expression"] is not { } e) return none;
            var resolved = QueryShape.ResolveSelectReference(e, selectList, t => _table.ColumnOf(t) is not null, aliasFirst: true);
            if (resolved is null || !_keys.TryGetValue(Canonical(resolved), out var keyIndex)) return none;
            covered.Add(keyIndex);
            var o = (JsonObject)order.DeepClone();
            var expression = keys[keyIndex].DeepClone();
            expression["alias"] = "";
            o["expression"] = expression;
            grainOrders.Add(o);
        }
        if (covered.Count != keys.Length) return none;
        return new JsonArray(
            new JsonObject { ["type"] = "ORDER_MODIFIER", ["orders"] = grainOrders },
            new JsonObject { ["type"] = "LIMIT_MODIFIER", ["limit"] = SqlAst.BigIntConstant(n), ["offset"] = null });
    }

    private static JsonArray GroupSets(int keyCount) =>
        keyCount == 0 ? [] : new JsonArray(new JsonArray(Enumerable.Range(0, keyCount).Select(i => (JsonNode)JsonValue.Create(i)).ToArray()));

    private static bool IsPlaceholder(JsonObject o) =>
        SqlAst.IsColumnRef(o) && SqlAst.ColumnNames(o) is [var n] && n.StartsWith("__merge_", StringComparison.Ordinal);

    /// <summary>Rewrites an expression for the merge; <paramref name="failure"/> says why it cannot be.</summary>
    private JsonObject Transform(JsonNode node, out string? failure)
    {
        failure = null;
        if (_keys.TryGetValue(Canonical(node), out var key))
        {
            var r = SqlAst.ColumnRef("__g" + key);
            r["alias"] = SqlAst.Str(node, "alias");
            return r;
        }
        var obj = (JsonObject)node;
        if (SqlAst.Class(obj) == "FUNCTION" && !SqlAst.Bool(obj, "is_operator") && _functions.IsAggregate(SqlAst.Str(obj, "function_name")))
        {
            var placeholder = Aggregate(obj, out failure);
            return placeholder ?? obj;
        }
        foreach (var (name, child) in obj.ToList())
        {
            if (child is JsonObject c)
            {
                var t = Transform(c, out failure);
                if (failure is not null) return obj;
                if (!ReferenceEquals(t, c)) obj[name] = t;
            }
            else if (child is JsonArray a)
            {
                for (var i = 0; i < a.Count; i++)
                {
                    if (a[i] is not JsonObject item) continue;
                    var t = Transform(item, out failure);
                    if (failure is not null) return obj;
                    if (!ReferenceEquals(t, item)) a[i] = t;
                }
            }
        }
        return obj;
    }

    /// <summary>Registers the partials of one aggregate call and returns the placeholder of its merge expression.</summary>
    private JsonObject? Aggregate(JsonObject call, out string? failure)
    {
        failure = null;
        var name = SqlAst.Str(call, "function_name").ToLowerInvariant();
        var children = SqlAst.Array(call, "children");
        var distinct = SqlAst.Bool(call, "distinct");
        var ordered = SqlAst.Array(call["order_bys"], "orders").Count > 0;
        if (ordered)
        {
            failure = $"{name}(… ORDER BY …)";
            return null;
        }
        if (distinct && name is not ("min" or "max"))
        {
            failure = $"{name}(DISTINCT …)";
            return null;
        }
        foreach (var o in SqlAst.Objects(call))
        {
            if (!ReferenceEquals(o, call) && SqlAst.Class(o) == "FUNCTION" && !SqlAst.Bool(o, "is_operator") && _functions.IsAggregate(SqlAst.Str(o, "function_name")))
            {
                failure = "nested aggregates";
                return null;
            }
        }
        var canonical = Canonical(call);
        if (_aggregates.TryGetValue(canonical, out var existing)) return Placeholder(existing, call);

        string merge;
        switch (name)
        {
            case "count_star" when children.Count == 0:
            case "count" when children.Count <= 1:
                merge = $"CAST(coalesce(sum({Partial(call, null)}), 0) AS BIGINT)";
                break;
            case "sum" or "min" or "max" or "bool_and" or "bool_or" when children.Count == 1:
                merge = $"{name}({Partial(call, null)})";
                break;
            case "avg" or "mean" when children.Count == 1:
                var s = Partial(call, "sum");
                var c = Partial(call, "count");
                merge = $"(sum({s}) / NULLIF(sum({c}), 0))";
                break;
            default:
                failure = $"aggregate {name}() cannot be computed from partial results";
                return null;
        }
        _mergeTexts.Add(merge);
        _aggregates[canonical] = _mergeTexts.Count - 1;
        return Placeholder(_mergeTexts.Count - 1, call);
    }

    private static JsonObject Placeholder(int index, JsonObject call)
    {
        var p = SqlAst.ColumnRef("__merge_" + index);
        p["alias"] = SqlAst.Str(call, "alias");
        return p;
    }

    /// <summary>Adds a partial column computing <paramref name="call"/> (renamed to <paramref name="rename"/>); returns its quoted name.</summary>
    private string Partial(JsonObject call, string? rename)
    {
        var partial = (JsonObject)call.DeepClone();
        partial["alias"] = "";
        if (rename is not null) partial["function_name"] = rename;
        var key = SqlAst.Canonical(partial);
        var index = _partials.FindIndex(p => SqlAst.Canonical(p) == key);
        if (index < 0)
        {
            _partials.Add(partial);
            index = _partials.Count - 1;
        }
        return "\"__a" + index + "\"";
    }

    private static AggregateSplit? Fail(out string? reason, string why)
    {
        reason = why;
        return null;
    }
}

using System.Text.Json.Nodes;

namespace TimeFusion.Query.Planning;

/// <summary>Facts about a SELECT_NODE used to decide how it can be split.</summary>
internal static class QueryShape
{
    /// <summary>The top-level select list whose items name the result columns (the leftmost SELECT of set operations).</summary>
    public static JsonArray? TopSelectList(JsonNode node)
    {
        while (SqlAst.Type(node) == "SET_OPERATION_NODE")
        {
            var left = node["left"] ?? SqlAst.Array(node, "children").FirstOrDefault();
            if (left is null) return null;
            node = left;
        }
        return SqlAst.Type(node) == "SELECT_NODE" ? node["select_list"] as JsonArray : null;
    }

    /// <summary>Whether an expression contains an aggregate call outside subqueries (window aggregates do not count).</summary>
    public static bool HasAggregate(JsonNode? expression, FunctionCatalog functions) =>
        SqlAst.ExpressionObjects(expression).Any(o => SqlAst.Class(o) == "FUNCTION" && !SqlAst.Bool(o, "is_operator")
            && functions.IsAggregate(SqlAst.Str(o, "function_name")));

    /// <summary>Whether an expression contains a window function outside subqueries.</summary>
    public static bool HasWindow(JsonNode? expression) =>
        SqlAst.ExpressionObjects(expression).Any(o => SqlAst.Class(o) == "WINDOW");

    /// <summary>Whether an expression contains a subquery.</summary>
    public static bool HasSubquery(JsonNode? expression) =>
        SqlAst.ExpressionObjects(expression).Any(o => SqlAst.Class(o) == "SUBQUERY");

    /// <summary>The modifiers of a query node with the given type.</summary>
    public static JsonObject? Modifier(JsonNode node, string type) =>
        SqlAst.Array(node, "modifiers").OfType<JsonObject>().FirstOrDefault(m => SqlAst.Type(m) == type);

    /// <summary>The ORDER BY terms of a query node (empty when none).</summary>
    public static List<JsonObject> Orders(JsonNode node) =>
        Modifier(node, "ORDER_MODIFIER") is { } m ? SqlAst.Array(m, "orders").OfType<JsonObject>().ToList() : [];

    /// <summary>Every expression of the ORDER BY terms.</summary>
    public static IEnumerable<JsonNode?> OrderExpressions(JsonNode node) => Orders(node).Select(o => o["expression"]);

    /// <summary>
    /// LIMIT + OFFSET as one row count when both are integer constants (OFFSET may be absent); null when the node has
    /// no LIMIT or either is not a constant.
    /// </summary>
    public static long? LimitPlusOffset(JsonNode node)
    {
        if (Modifier(node, "LIMIT_MODIFIER") is not { } m) return null;
        if (SqlAst.IntegerConstant(m["limit"]) is not { } limit || limit < 0) return null;
        long offset = 0;
        if (m["offset"] is JsonObject offsetNode)
        {
            if (SqlAst.IntegerConstant(offsetNode) is not { } o || o < 0) return null;
            offset = o;
        }
        return limit > long.MaxValue - offset ? null : limit + offset;
    }

    /// <summary>
    /// Resolves an ORDER BY or GROUP BY term that names a select-list item — by position (<c>1</c>) or, when it is
    /// not a table column, by alias — to that item's expression. Returns the term itself otherwise; null when it
    /// points at a <c>*</c> or out of range.
    /// </summary>
    public static JsonNode? ResolveSelectReference(JsonNode term, JsonArray selectList, Func<JsonNode, bool> isTableColumn, bool aliasFirst)
    {
        if (SqlAst.IntegerConstant(term) is { } position)
        {
            if (position < 1 || position > selectList.Count) return null;
            var item = selectList[(int)position - 1];
            return SqlAst.Class(item) == "STAR" ? null : item;
        }
        if (SqlAst.IsColumnRef(term) && SqlAst.ColumnNames(term) is [var name] && (aliasFirst || !isTableColumn(term)))
        {
            var match = selectList.FirstOrDefault(i => string.Equals(SqlAst.Str(i, "alias"), name, StringComparison.OrdinalIgnoreCase));
            if (match is not null) return match;
        }
        return term;
    }
}

using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using TimeFusion.Wire;

namespace TimeFusion.Query.Planning;

/// <summary>
/// Helpers over DuckDB's JSON parse trees (<c>json_serialize_sql</c>): node kinds, traversal, construction of the
/// few node shapes we synthesize, and structural comparison of expressions.
/// </summary>
internal static class SqlAst
{
    // Leaves only (values), but written with the parse tree's depth allowance for safety.
    private static readonly System.Text.Json.JsonSerializerOptions DeepWrite = new() { MaxDepth = ParserSession.MaxAstDepth };

    /// <summary>The <c>query_location</c> DuckDB uses for "no location".</summary>
    private const ulong NoLocation = ulong.MaxValue;

    public static string? Type(JsonNode? node) => node is JsonObject o && o["type"] is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;

    public static string? Class(JsonNode? node) => node is JsonObject o && o["class"] is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;

    public static string Str(JsonNode? node, string property) =>
        node is JsonObject o && o[property] is JsonValue v && v.TryGetValue<string>(out var s) ? s : "";

    public static bool Bool(JsonNode? node, string property) =>
        node is JsonObject o && o[property] is JsonValue v && v.TryGetValue<bool>(out var b) && b;

    public static JsonArray Array(JsonNode? node, string property) =>
        node is JsonObject o && o[property] is JsonArray a ? a : [];

    /// <summary>The first statement's query node of a <c>json_serialize_sql</c> answer.</summary>
    public static JsonObject StatementNode(JsonObject root)
    {
        var statements = root["statements"] as JsonArray;
        if (statements is null || statements.Count != 1 || statements[0]?["node"] is not JsonObject node)
            throw new SqlPlanningException(SqlState.SyntaxError, "expected exactly one statement");
        return node;
    }

    /// <summary>A <c>json_deserialize_sql</c> input holding one statement with <paramref name="node"/> (copied when it has a parent).</summary>
    public static JsonObject Root(JsonObject node) => new()
    {
        ["error"] = false,
        ["statements"] = new JsonArray(new JsonObject
        {
            ["node"] = node.Parent is null ? node : node.DeepClone(),
            ["named_param_map"] = new JsonArray(),
        }),
    };

    public static bool IsColumnRef(JsonNode? node) => Class(node) == "COLUMN_REF";

    public static string[] ColumnNames(JsonNode? node) =>
        Array(node, "column_names").Select(n => n?.GetValue<string>() ?? "").ToArray();

    /// <summary>A COLUMN_REF expression.</summary>
    public static JsonObject ColumnRef(params string[] names) => new()
    {
        ["class"] = "COLUMN_REF",
        ["type"] = "COLUMN_REF",
        ["alias"] = "",
        ["query_location"] = NoLocation,
        ["column_names"] = new JsonArray(names.Select(n => (JsonNode)JsonValue.Create(n)).ToArray()),
    };

    /// <summary>A BIGINT constant.</summary>
    public static JsonObject BigIntConstant(long value) => new()
    {
        ["class"] = "CONSTANT",
        ["type"] = "VALUE_CONSTANT",
        ["alias"] = "",
        ["query_location"] = NoLocation,
        ["value"] = new JsonObject
        {
            ["type"] = new JsonObject { ["id"] = "BIGINT", ["type_info"] = null },
            ["is_null"] = false,
            ["value"] = value,
        },
    };

    /// <summary>A plain BASE_TABLE reference.</summary>
    public static JsonObject BaseTable(string name, string alias) => new()
    {
        ["type"] = "BASE_TABLE",
        ["alias"] = alias,
        ["sample"] = null,
        ["query_location"] = NoLocation,
        ["schema_name"] = "",
        ["table_name"] = name,
        ["column_name_alias"] = new JsonArray(),
        ["catalog_name"] = "",
        ["at_clause"] = null,
    };

    /// <summary>AND of <paramref name="terms"/> (cloned); the single term itself when there is one; null for none.</summary>
    public static JsonNode? And(IReadOnlyList<JsonNode> terms)
    {
        if (terms.Count == 0) return null;
        if (terms.Count == 1) return terms[0].DeepClone();
        return new JsonObject
        {
            ["class"] = "CONJUNCTION",
            ["type"] = "CONJUNCTION_AND",
            ["alias"] = "",
            ["query_location"] = NoLocation,
            ["children"] = new JsonArray(terms.Select(t => t.DeepClone()).ToArray()),
        };
    }

    /// <summary>The conjuncts of a predicate: nested ANDs flattened; null gives none.</summary>
    public static List<JsonNode> Conjuncts(JsonNode? predicate)
    {
        var result = new List<JsonNode>();
        Flatten(predicate, result);
        return result;

        static void Flatten(JsonNode? n, List<JsonNode> into)
        {
            if (n is null) return;
            if (Type(n) == "CONJUNCTION_AND")
            {
                foreach (var child in Array(n, "children")) Flatten(child, into);
                return;
            }
            into.Add(n);
        }
    }

    /// <summary>Every JSON object under <paramref name="node"/> (itself included), depth first.</summary>
    public static IEnumerable<JsonObject> Objects(JsonNode? node)
    {
        var stack = new Stack<JsonNode>();
        if (node is not null) stack.Push(node);
        while (stack.Count > 0)
        {
            var n = stack.Pop();
            if (n is JsonObject o)
            {
                yield return o;
                foreach (var (_, child) in o)
                    if (child is JsonObject or JsonArray) stack.Push(child);
            }
            else if (n is JsonArray a)
            {
                for (var i = a.Count - 1; i >= 0; i--)
                    if (a[i] is JsonObject or JsonArray) stack.Push(a[i]!);
            }
        }
    }

    /// <summary>
    /// Every expression object under <paramref name="expression"/> that is not inside a subquery (the SUBQUERY
    /// node itself is included, its body is not).
    /// </summary>
    public static IEnumerable<JsonObject> ExpressionObjects(JsonNode? expression)
    {
        var stack = new Stack<JsonNode>();
        if (expression is not null) stack.Push(expression);
        while (stack.Count > 0)
        {
            var n = stack.Pop();
            if (n is JsonObject o)
            {
                yield return o;
                var isSubquery = Class(o) == "SUBQUERY";
                foreach (var (key, child) in o)
                {
                    if (isSubquery && key == "subquery") continue;
                    if (child is JsonObject or JsonArray) stack.Push(child);
                }
            }
            else if (n is JsonArray a)
            {
                for (var i = a.Count - 1; i >= 0; i--)
                    if (a[i] is JsonObject or JsonArray) stack.Push(a[i]!);
            }
        }
    }

    /// <summary>
    /// A canonical text of an expression for structural comparison: locations and aliases ignored, identifiers
    /// case-folded, and column references passed through <paramref name="normalizeColumn"/> (e.g. to drop a
    /// qualifier that names the only table).
    /// </summary>
    public static string Canonical(JsonNode? node, Func<string[], string[]>? normalizeColumn = null)
    {
        var sb = new StringBuilder();
        Write(node, sb, normalizeColumn);
        return sb.ToString();
    }

    private static void Write(JsonNode? node, StringBuilder sb, Func<string[], string[]>? normalizeColumn)
    {
        switch (node)
        {
            case null:
                sb.Append("null");
                return;
            case JsonObject o when IsColumnRef(o):
                var names = ColumnNames(o);
                if (normalizeColumn is not null) names = normalizeColumn(names);
                sb.Append("col(");
                sb.AppendJoin('.', names.Select(n => n.ToLowerInvariant()));
                sb.Append(')');
                return;
            case JsonObject o:
                sb.Append('{');
                foreach (var (key, child) in o)
                {
                    if (key is "query_location" or "alias") continue;
                    sb.Append(key).Append(':');
                    Write(child, sb, normalizeColumn);
                    sb.Append(',');
                }
                sb.Append('}');
                return;
            case JsonArray a:
                sb.Append('[');
                foreach (var child in a)
                {
                    Write(child, sb, normalizeColumn);
                    sb.Append(',');
                }
                sb.Append(']');
                return;
            default:
                sb.Append(node.ToJsonString(DeepWrite));
                return;
        }
    }

    /// <summary>Replaces <paramref name="oldNode"/> (a child of some object or array) by <paramref name="newNode"/>.</summary>
    public static void Replace(JsonNode oldNode, JsonNode newNode)
    {
        var parent = oldNode.Parent ?? throw new InvalidOperationException("cannot replace the root node");
        if (parent is JsonObject o)
        {
            var key = o.First(p => ReferenceEquals(p.Value, oldNode)).Key;
            o[key] = newNode;
        }
        else if (parent is JsonArray a)
        {
            var index = a.IndexOf(oldNode);
            a[index] = newNode;
        }
    }

    /// <summary>The integer value of a CONSTANT node, or null when it is not an integer constant.</summary>
    public static long? IntegerConstant(JsonNode? node)
    {
        if (Class(node) != "CONSTANT") return null;
        var value = node!["value"];
        if (value is null || Bool(value, "is_null")) return null;
        var id = Str(value["type"], "id");
        if (id is not ("INTEGER" or "BIGINT" or "SMALLINT" or "TINYINT" or "UINTEGER" or "UBIGINT" or "HUGEINT")) return null;
        if (value["value"] is not JsonValue v) return null;
        if (v.TryGetValue<long>(out var l)) return l;
        return v.TryGetValue<string>(out var s) && long.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out l) ? l : null;
    }

    /// <summary>The string value of a non-null VARCHAR CONSTANT node, or null.</summary>
    public static string? StringConstant(JsonNode? node)
    {
        if (Class(node) != "CONSTANT") return null;
        var value = node!["value"];
        if (value is null || Bool(value, "is_null") || Str(value["type"], "id") != "VARCHAR") return null;
        return value["value"] is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;
    }
}

using System.Text.Json.Nodes;

namespace TimeFusion.Query.Planning;

/// <summary>
/// Names result columns as PostgreSQL does when the statement gives no alias (its <c>FigureColname</c> rules), so that
/// PostgreSQL clients and dashboards see <c>count</c>, <c>sum</c>, <c>date_trunc</c> rather than DuckDB's
/// <c>count_star()</c> or <c>sum(duration)</c>: a function call takes the function's name, a cast the name of what it
/// casts (else the type's), <c>CASE</c> is <c>case</c>, anything else unnamed is <c>?column?</c>. Column references keep
/// their names. Where PostgreSQL would repeat a name within one result, later columns keep DuckDB's (distinct) name,
/// because merged fan-out results address columns by name.
/// </summary>
public static class PostgresColumnNames
{
    /// <summary>
    /// Applies the naming to a <c>json_serialize_sql</c> tree of one SELECT statement (as used by other DuckDB databases
    /// answering PostgreSQL clients); returns whether any name changed.
    /// </summary>
    public static bool ApplyToParseTree(JsonObject root)
    {
        if (root["error"] is JsonValue error && error.TryGetValue<bool>(out var failed) && failed) return false;
        return root["statements"] is JsonArray { Count: 1 } statements && statements[0]?["node"] is JsonObject node && Apply(node);
    }

    /// <summary>Sets PostgreSQL names as aliases on the unaliased top-level select items; returns whether any changed.</summary>
    internal static bool Apply(JsonObject node)
    {
        var items = QueryShape.TopSelectList(node);
        if (items is null || items.Any(i => SqlAst.Class(i) is "STAR" or "COLUMNS")) return false;
        var taken = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var item in items)
        {
            var alias = SqlAst.Str(item, "alias");
            if (alias.Length > 0) taken.Add(alias);
            else if (SqlAst.IsColumnRef(item) && SqlAst.ColumnNames(item) is { Length: > 0 } names) taken.Add(names[^1]);
        }
        var changed = false;
        foreach (var item in items)
        {
            if (item is not JsonObject expression || SqlAst.Str(expression, "alias").Length > 0 || SqlAst.IsColumnRef(expression)) continue;
            var name = NameOf(expression) ?? "?column?";
            if (!taken.Add(name)) continue;
            expression["alias"] = name;
            changed = true;
        }
        return changed;
    }

    private static string? NameOf(JsonNode? expression) => SqlAst.Class(expression) switch
    {
        "COLUMN_REF" => SqlAst.ColumnNames(expression) is { Length: > 0 } names ? names[^1] : null,
        "FUNCTION" when !SqlAst.Bool(expression, "is_operator") => FunctionName(SqlAst.Str(expression, "function_name")),
        "WINDOW" => FunctionName(SqlAst.Str(expression, "function_name")),
        // PostgreSQL's FigureColname: a cast's name is weak, so the name of what it casts wins unless that is a cast (or
        // CASE) itself: `x::text` is x, `timestamptz '…'::text` is text.
        "CAST" => SqlAst.Class(expression?["child"]) is not ("CAST" or "CASE") && NameOf(expression?["child"]) is { } named
            ? named
            : TypeName(expression?["cast_type"]) ?? NameOf(expression?["child"]),
        "CASE" => "case",
        "OPERATOR" when SqlAst.Type(expression) == "ARRAY_CONSTRUCTOR" => "array",
        "OPERATOR" when SqlAst.Type(expression) == "OPERATOR_COALESCE" => "coalesce",
        // A subscript is named after what it subscripts (tags[1] is "tags").
        "OPERATOR" when SqlAst.Type(expression) == "ARRAY_EXTRACT" => NameOf(SqlAst.Array(expression, "children").FirstOrDefault()),
        _ => null,
    };

    private static string? FunctionName(string name) => name switch
    {
        "" => null,
        "count_star" => "count",
        "trim" => "btrim", // PostgreSQL parses trim(x) as btrim(x)
        "quantile_cont" => "percentile_cont",
        "quantile_disc" => "percentile_disc",
        "list_value" or "array_value" => "array",
        _ when name.StartsWith("__", StringComparison.Ordinal) || !char.IsLetter(name[0]) => null,
        _ => name.ToLowerInvariant(),
    };

    private static string? TypeName(JsonNode? type)
    {
        var id = SqlAst.Str(type, "id");
        if (id == "USER") return SqlAst.Str(type?["type_info"], "user_type_name") is { Length: > 0 } user ? user.ToLowerInvariant() : null;
        return id switch
        {
            "BOOLEAN" => "bool",
            "SMALLINT" => "int2",
            "INTEGER" => "int4",
            "BIGINT" => "int8",
            "FLOAT" => "float4",
            "DOUBLE" => "float8",
            "VARCHAR" => "text",
            "DATE" => "date",
            "TIMESTAMP" => "timestamp",
            "TIMESTAMP WITH TIME ZONE" or "TIMESTAMP_TZ" => "timestamptz",
            "INTERVAL" => "interval",
            "DECIMAL" => "numeric",
            "UUID" => "uuid",
            "BLOB" => "bytea",
            _ => null,
        };
    }
}

using System.Text;
using System.Text.Json.Nodes;
using TimeFusion.Sql;
using TimeFusion.Wire;

namespace TimeFusion.Query.Planning;

/// <summary>
/// PostgreSQL operators and variadic functions DuckDB spells differently, translated in two steps around DuckDB's
/// parser. <see cref="RewriteText"/> (before parsing) renames the binary operators DuckDB's grammar rejects or reads
/// otherwise (<c>#&gt;</c>, <c>#&gt;&gt;</c>, <c>?</c>; <c>~</c>, which DuckDB takes as a full match) to marker operators
/// it parses as plain operator calls; <see cref="Apply"/> (on the parse tree) turns each marker, <c>~*</c>, <c>!~</c>,
/// <c>!~*</c>, <c>@&gt;</c> on JSON, <c>/</c>, <c>%</c> and <c>mod</c> (22012 on a zero divisor), <c>substring(s from 'regex')</c> and <c>jsonb_extract_path[_text]</c> into DuckDB functions with PostgreSQL's meaning.
/// Functions with a fixed shape (<c>jsonb_typeof</c>, <c>date_bin</c>, …) are macros instead
/// (<see cref="Execution.PostgresCompatibilityFunctions"/>).
/// </summary>
public static class PostgresOperators
{
    // Marker operators: DuckDB's lexer reads each as one operator and no DuckDB function has these names.
    private const string Match = "&&~", MatchInsensitive = "&&~*", NotMatch = "&&!~", NotMatchInsensitive = "&&!~*";
    private const string PathJson = "&&^>", PathText = "&&^>>", HasKey = "&&^^";

    private static readonly Dictionary<string, string> Markers = new(StringComparer.Ordinal)
    {
        ["~"] = Match, ["~*"] = MatchInsensitive, ["!~"] = NotMatch, ["!~*"] = NotMatchInsensitive,
        ["#>"] = PathJson, ["#>>"] = PathText, ["?"] = HasKey,
    };

    /// <summary>What each marker (and DuckDB's own name for an operator) is called in PostgreSQL, for error messages.</summary>
    public static string PostgresName(string duckDbOperator) =>
        Markers.FirstOrDefault(m => m.Value == duckDbOperator).Key ?? duckDbOperator;

    // Keywords after which an operator character is a prefix operator (~5) rather than a binary one.
    private static readonly HashSet<string> KeywordsBeforeOperand = new(StringComparer.OrdinalIgnoreCase)
    {
        "SELECT", "WHERE", "AND", "OR", "NOT", "ON", "WHEN", "THEN", "ELSE", "BY", "AS", "HAVING", "IN", "IS", "LIKE",
        "RETURNING", "SET", "VALUES", "DISTINCT", "ALL", "ANY", "SOME", "CASE", "BETWEEN", "LIMIT", "OFFSET", "FROM",
    };

    /// <summary>Renames PostgreSQL-only binary operators to marker operators DuckDB parses; other text is unchanged.</summary>
    public static string RewriteText(string sql)
    {
        ArgumentNullException.ThrowIfNull(sql);
        if (sql.AsSpan().IndexOfAny("~#?") < 0) return sql;
        List<SqlToken> tokens;
        try
        {
            tokens = SqlTokenizer.Tokenize(sql, SqlTokenizerMode.Lenient);
        }
        catch (SqlSyntaxException)
        {
            return sql;
        }
        StringBuilder? result = null;
        var copied = 0;
        for (var i = 0; i < tokens.Count; i++)
        {
            var t = tokens[i];
            var isQuestion = t.Kind == SqlTokenKind.Parameter && t.Length == 1 && sql[t.Start] == '?';
            if (t.Kind != SqlTokenKind.Operator && !isQuestion) continue;
            // The whole operator: adjacent operator characters.
            var end = i;
            while (end + 1 < tokens.Count && tokens[end + 1].Kind == SqlTokenKind.Operator && tokens[end + 1].Start == tokens[end].Start + tokens[end].Length)
                end++;
            var op = sql[t.Start..(tokens[end].Start + tokens[end].Length)];
            var binary = i > 0 && EndsOperand(sql, tokens[i - 1]);
            // A lone ? is an operator only between an operand and a string (a key); elsewhere it is a parameter.
            if (Markers.TryGetValue(op, out var marker) && binary && (!isQuestion || (end + 1 < tokens.Count && tokens[end + 1].Kind == SqlTokenKind.String)))
            {
                result ??= new StringBuilder(sql.Length + 16);
                result.Append(sql, copied, t.Start - copied).Append(' ').Append(marker).Append(' ');
                copied = tokens[end].Start + tokens[end].Length;
            }
            i = end;
        }
        return result is null ? sql : result.Append(sql, copied, sql.Length - copied).ToString();
    }

    private static bool EndsOperand(string sql, SqlToken t) => t.Kind switch
    {
        SqlTokenKind.Word => !KeywordsBeforeOperand.Contains(t.Text(sql)),
        SqlTokenKind.QuotedIdentifier or SqlTokenKind.String or SqlTokenKind.Number or SqlTokenKind.Close or SqlTokenKind.Parameter => true,
        _ => false,
    };

    /// <summary>Rewrites the markers and PostgreSQL-only calls in a parse tree; returns whether anything changed.</summary>
    /// <exception cref="SqlPlanningException">0A000 for a form that cannot be translated (a <c>#&gt;</c> path that is not a constant).</exception>
    public static bool Apply(JsonNode? tree)
    {
        var changed = false;
        // Innermost first: a replacement copies its arguments, so an outer call rewritten first would carry away the
        // inner ones unrewritten ((a / b) / c).
        foreach (var o in SqlAst.Objects(tree).Where(o => SqlAst.Class(o) == "FUNCTION").Reverse().ToList())
        {
            var name = SqlAst.Str(o, "function_name");
            var args = SqlAst.Array(o, "children").Select(c => c!.DeepClone()).ToList();
            var location = o["query_location"]?.DeepClone();
            JsonObject? replacement = name switch
            {
                Match => Function("regexp_matches", location, args),
                MatchInsensitive or "~*" => Function("regexp_matches", location, [.. args, Text("i")]),
                NotMatch or "!~" => Not(Function("regexp_matches", location, args)),
                NotMatchInsensitive or "!~*" => Not(Function("regexp_matches", location, [.. args, Text("i")])),
                PathJson => Function("json_extract", location, [args[0], Pointer(args[1], "#>")]),
                PathText => Function("json_extract_string", location, [args[0], Pointer(args[1], "#>>")]),
                HasKey => Function("json_exists", location, [args[0], KeyPointer(args[1])]),
                "@>" when IsJson(args[0]) || IsJson(args[1]) => Function("json_contains", location, args),
                "substring" when args.Count == 2 && SqlAst.StringConstant(args[1]) is { } pattern =>
                    Function("__pg_substring_regex", location, [args[0], args[1], new JsonObject
                    {
                        ["class"] = "CONSTANT", ["type"] = "VALUE_CONSTANT", ["alias"] = "", ["query_location"] = JsonValue.Create(ulong.MaxValue),
                        ["value"] = new JsonObject { ["type"] = new JsonObject { ["id"] = "INTEGER", ["type_info"] = null }, ["is_null"] = false, ["value"] = HasGroup(pattern) ? 1 : 0 },
                    }]),
                // PostgreSQL raises 22012 where DuckDB answers NULL or Infinity (integer, numeric and float8 alike).
                "/" when args.Count == 2 => Function("__pg_div", location, args),
                "%" or "mod" when args.Count == 2 => Function("__pg_mod", location, args),
                "jsonb_extract_path" or "json_extract_path" when args.Count >= 2 => ExtractPath(location, args, "json_extract"),
                "jsonb_extract_path_text" or "json_extract_path_text" when args.Count >= 2 => ExtractPath(location, args, "json_extract_string"),
                _ => null,
            };
            if (replacement is null) continue;
            if (SqlAst.Str(o, "alias") is { Length: > 0 } alias) replacement["alias"] = alias;
            SqlAst.Replace(o, replacement);
            changed = true;
        }
        return changed;
    }

    /// <summary>jsonb_extract_path(j, a, b) = j -> a -> b: one json_extract per key, the last one of <paramref name="last"/>.</summary>
    private static JsonObject ExtractPath(JsonNode? location, List<JsonNode> args, string last)
    {
        var current = args[0];
        for (var i = 1; i < args.Count; i++)
            current = Function(i == args.Count - 1 ? last : "json_extract", location, [current, KeyPointer(args[i])]);
        return (JsonObject)current;
    }

    /// <summary>A JSON pointer for one key (escaped as RFC 6901 asks), as a constant when the key is one.</summary>
    private static JsonNode KeyPointer(JsonNode key) => SqlAst.StringConstant(key) is { } k
        ? Text("/" + Escape(k))
        : Function("concat", null, [Text("/"), Function("replace", null, [Function("replace", null, [key, Text("~"), Text("~0")]), Text("/"), Text("~1")])]);

    /// <summary>PostgreSQL's text-array path (<c>'{a,b,1}'</c>) as a JSON pointer (<c>/a/b/1</c>).</summary>
    private static JsonNode Pointer(JsonNode path, string op)
    {
        var text = SqlAst.StringConstant(path) ?? (SqlAst.Class(path) == "CAST" ? SqlAst.StringConstant(path["child"]) : null)
            ?? throw new SqlPlanningException(SqlState.FeatureNotSupported, $"operator {op} is supported with a constant path only (e.g. '{{a,b}}')");
        var body = text.Trim();
        if (body.Length < 2 || body[0] != '{' || body[^1] != '}')
            throw new SqlPlanningException(SqlState.InvalidTextRepresentation, $"malformed array literal: \"{text}\"");
        var elements = body[1..^1].Length == 0 ? [] : body[1..^1].Split(',').Select(e => e.Trim().Trim('"'));
        return Text(string.Concat(elements.Select(e => "/" + Escape(e))));
    }

    /// <summary>Whether a regular expression has a capturing group: substring(s from p) then returns the first group.</summary>
    private static bool HasGroup(string pattern)
    {
        for (var i = 0; i < pattern.Length; i++)
        {
            if (pattern[i] == '\\') i++;
            else if (pattern[i] == '(' && (i + 1 >= pattern.Length || pattern[i + 1] != '?')) return true;
        }
        return false;
    }

    private static string Escape(string key) => key.Replace("~", "~0", StringComparison.Ordinal).Replace("/", "~1", StringComparison.Ordinal);

    /// <summary>A cast to json/jsonb, or a string constant that looks like a JSON object or array.</summary>
    private static bool IsJson(JsonNode? node)
    {
        if (SqlAst.Class(node) == "CAST")
        {
            var type = node!["cast_type"];
            return SqlAst.Str(type, "id") == "USER" && SqlAst.Str(type?["type_info"], "user_type_name").ToLowerInvariant() is "json" or "jsonb"
                || SqlAst.Str(type?["type_info"], "alias").ToLowerInvariant() is "json" or "jsonb";
        }
        return SqlAst.StringConstant(node)?.TrimStart() is { Length: > 0 } s && s[0] is '{' or '[';
    }

    private static JsonObject Function(string name, JsonNode? location, IEnumerable<JsonNode> args) => new()
    {
        ["class"] = "FUNCTION", ["type"] = "FUNCTION", ["alias"] = "", ["query_location"] = location?.DeepClone() ?? JsonValue.Create(ulong.MaxValue),
        ["function_name"] = name, ["schema"] = "", ["children"] = new JsonArray([.. args]), ["filter"] = null,
        ["order_bys"] = new JsonObject { ["type"] = "ORDER_MODIFIER", ["orders"] = new JsonArray() },
        ["distinct"] = false, ["is_operator"] = false, ["export_state"] = false, ["catalog"] = "",
    };

    private static JsonObject Not(JsonObject child) => new()
    {
        ["class"] = "OPERATOR", ["type"] = "OPERATOR_NOT", ["alias"] = "", ["query_location"] = JsonValue.Create(ulong.MaxValue),
        ["children"] = new JsonArray(child),
    };

    private static JsonObject Text(string value) => new()
    {
        ["class"] = "CONSTANT", ["type"] = "VALUE_CONSTANT", ["alias"] = "", ["query_location"] = JsonValue.Create(ulong.MaxValue),
        ["value"] = new JsonObject { ["type"] = new JsonObject { ["id"] = "VARCHAR", ["type_info"] = null }, ["is_null"] = false, ["value"] = value },
    };
}

using System.Globalization;
using System.Text.Json.Nodes;

namespace TimeFusion.Query.Planning;

/// <summary>
/// Replaces clock reads (<c>now()</c>, <c>current_timestamp</c>, <c>current_date</c>, <c>today()</c>, …) in a parse
/// tree by literals of one instant, so that every grain of a statement — and every replay of a DML statement from
/// the WAL — sees the same time, and so that time bounds computed at planning match what grains evaluate.
/// </summary>
internal static class ClockRewriter
{
    /// <summary>
    /// Rewrites in place. <paramref name="isColumn"/> tells whether a bare name (<c>current_timestamp</c> parses
    /// as a column reference) is a real column, which must be left alone. Returns how many reads were replaced.
    /// </summary>
    public static int Rewrite(JsonNode root, DateTimeOffset now, Func<string, bool> isColumn)
    {
        var utc = now.ToUniversalTime();
        var timestamp = utc.ToString("yyyy-MM-dd HH:mm:ss.ffffff", CultureInfo.InvariantCulture) + "+00";
        var date = utc.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
        var targets = new List<(JsonObject Node, bool IsDate)>();
        foreach (var o in SqlAst.Objects(root))
        {
            if (SqlAst.Class(o) == "FUNCTION" && !SqlAst.Bool(o, "is_operator") && SqlAst.Array(o, "children").Count == 0
                && SqlAst.Str(o, "schema").Length == 0)
            {
                var name = SqlAst.Str(o, "function_name");
                if (SqlFunctions.CurrentTimestamp.Contains(name)) targets.Add((o, false));
                else if (SqlFunctions.CurrentDate.Contains(name)) targets.Add((o, true));
            }
            else if (SqlAst.IsColumnRef(o))
            {
                var names = SqlAst.ColumnNames(o);
                if (names.Length != 1 || isColumn(names[0])) continue;
                if (names[0].Equals("current_timestamp", StringComparison.OrdinalIgnoreCase)) targets.Add((o, false));
                else if (names[0].Equals("current_date", StringComparison.OrdinalIgnoreCase)) targets.Add((o, true));
            }
        }
        foreach (var (node, isDate) in targets)
        {
            var literal = Cast(isDate ? date : timestamp, isDate ? "DATE" : "TIMESTAMP WITH TIME ZONE");
            var alias = SqlAst.Str(node, "alias");
            if (alias.Length > 0) literal["alias"] = alias;
            SqlAst.Replace(node, literal);
        }
        return targets.Count;
    }

    /// <summary>Whether <paramref name="expression"/> reads the clock (before rewriting).</summary>
    public static bool ReadsClock(JsonNode? expression, Func<string, bool> isColumn) =>
        SqlAst.Objects(expression).Any(o =>
            (SqlAst.Class(o) == "FUNCTION" && !SqlAst.Bool(o, "is_operator") && SqlAst.Array(o, "children").Count == 0
             && (SqlFunctions.CurrentTimestamp.Contains(SqlAst.Str(o, "function_name")) || SqlFunctions.CurrentDate.Contains(SqlAst.Str(o, "function_name"))))
            || (SqlAst.IsColumnRef(o) && SqlAst.ColumnNames(o) is [var n] && !isColumn(n)
                && (n.Equals("current_timestamp", StringComparison.OrdinalIgnoreCase) || n.Equals("current_date", StringComparison.OrdinalIgnoreCase))));

    private static JsonObject Cast(string text, string type) => new()
    {
        ["class"] = "CAST",
        ["type"] = "OPERATOR_CAST",
        ["alias"] = "",
        ["query_location"] = ulong.MaxValue,
        ["child"] = new JsonObject
        {
            ["class"] = "CONSTANT",
            ["type"] = "VALUE_CONSTANT",
            ["alias"] = "",
            ["query_location"] = ulong.MaxValue,
            ["value"] = new JsonObject
            {
                ["type"] = new JsonObject { ["id"] = "VARCHAR", ["type_info"] = null },
                ["is_null"] = false,
                ["value"] = text,
            },
        },
        ["cast_type"] = new JsonObject { ["id"] = type, ["type_info"] = null },
        ["try_cast"] = false,
    };
}

using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using TimeFusion.Tables;

namespace TimeFusion.Query.Planning;

/// <summary>
/// Reads the string literals of a statement that meet a timestamptz as PostgreSQL 15 does, and writes them back as the
/// instant they mean (<c>'2024-01-01 09:00:00.000000+00'</c>): the operands of a comparison (<c>=</c>, <c>&lt;</c>, …,
/// BETWEEN, IN) with a timestamptz column, and <c>CAST('…' AS timestamptz)</c> / <c>'…'::timestamptz</c>.
/// <list type="bullet">
/// <item>Text without an offset is read in the session's <c>TimeZone</c>. The rewritten literal carries its offset, so
/// what it means no longer depends on the zone of the DuckDB connection that evaluates it: a DML predicate runs on the
/// grains (and on WAL replay) in UTC, a query's on the grains in the session zone, and the time bounds that prune files
/// agree with both.</item>
/// <item>The ISO forms PostgreSQL accepts and DuckDB's cast does not are normalized first: minutes without seconds
/// before an offset (<c>10:00+00</c>, <c>10:00-08</c>, <c>10:00+05:30</c>), <c>Z</c>, a <c>T</c> separator.</item>
/// </list>
/// Text of any other shape (<c>'now'</c>, <c>'epoch'</c>, <c>'infinity'</c>, BC, zone names) is left for DuckDB to read.
/// </summary>
internal static partial class TimestampLiterals
{
    /// <summary>
    /// The ISO text in a form DuckDB's cast reads as PostgreSQL does, or null when <paramref name="text"/> is not one of
    /// the ISO shapes handled here. <paramref name="hasOffset"/> tells whether it names its offset.
    /// </summary>
    public static string? Normalize(string text, out bool hasOffset)
    {
        hasOffset = false;
        var m = Iso().Match(text);
        if (!m.Success) return null;
        var result = m.Groups["date"].Value;
        if (m.Groups["hm"].Success)
        {
            result += " " + m.Groups["hm"].Value + (m.Groups["sec"].Success ? m.Groups["sec"].Value : ":00") + m.Groups["frac"].Value;
        }
        if (m.Groups["zone"].Success)
        {
            hasOffset = true;
            var zone = m.Groups["zone"].Value;
            if (zone is "Z" or "z") zone = "+00";
            else if (m.Groups["ozm"].Success && !zone.Contains(':')) zone = zone[..3] + ":" + zone[3..]; // +0530 → +05:30
            // DuckDB wants the time before an offset; a date alone with an offset means its midnight.
            if (!m.Groups["hm"].Success) result += " 00:00:00";
            result += zone;
        }
        return result;
    }

    /// <summary>
    /// Rewrites, in place, the string literals under <paramref name="root"/> that meet a timestamptz (see the type) as
    /// instants read in <paramref name="timeZone"/> (null: UTC). <paramref name="isTimestampColumn"/> tells whether a
    /// column reference is a timestamptz column. Returns how many literals were rewritten.
    /// </summary>
    /// <param name="root">The statement or expression to rewrite.</param>
    /// <param name="isTimestampColumn">Whether a node is a reference to a timestamptz column.</param>
    /// <param name="session">The planner's DuckDB session, which reads the text.</param>
    /// <param name="timeZone">The session's TimeZone; null is UTC.</param>
    /// <param name="alsoTimestamps">Further expressions that are timestamptz values (an UPDATE's SET of a timestamptz column).</param>
    public static int Rewrite(JsonNode? root, Func<JsonNode, bool> isTimestampColumn, ParserSession session, string? timeZone,
        IEnumerable<JsonNode?>? alsoTimestamps = null)
    {
        var targets = new List<(JsonObject Constant, string Text)>();
        void Consider(JsonNode? node)
        {
            if (SqlAst.StringConstant(node) is { } text && Normalize(text, out _) is { } normalized && !targets.Any(t => ReferenceEquals(t.Constant, node)))
                targets.Add(((JsonObject)node!, normalized));
        }
        foreach (var e in alsoTimestamps ?? []) Consider(e);
        foreach (var o in SqlAst.Objects(root))
        {
            switch (SqlAst.Type(o))
            {
                case "OPERATOR_CAST" when SqlAst.Str(o["cast_type"], "id") == "TIMESTAMP WITH TIME ZONE":
                    Consider(o["child"]);
                    break;
                case "COMPARE_EQUAL" or "COMPARE_NOTEQUAL" or "COMPARE_LESSTHAN" or "COMPARE_LESSTHANOREQUALTO"
                    or "COMPARE_GREATERTHAN" or "COMPARE_GREATERTHANOREQUALTO" or "COMPARE_DISTINCT_FROM" or "COMPARE_NOT_DISTINCT_FROM":
                    if (o["left"] is { } l && isTimestampColumn(l)) Consider(o["right"]);
                    else if (o["right"] is { } r && isTimestampColumn(r)) Consider(o["left"]);
                    break;
                case "COMPARE_BETWEEN" when o["input"] is { } input && isTimestampColumn(input):
                    Consider(o["lower"]);
                    Consider(o["upper"]);
                    break;
                case "COMPARE_IN" or "COMPARE_NOT_IN":
                    var children = SqlAst.Array(o, "children");
                    if (children.Count > 1 && children[0] is { } first && isTimestampColumn(first))
                        for (var i = 1; i < children.Count; i++) Consider(children[i]);
                    break;
            }
        }
        if (targets.Count == 0) return 0;

        // One query reads them all, in the session's zone, as epoch microseconds.
        var sql = "SELECT " + string.Join(", ", targets.Select(t => $"epoch_us(CAST({SqlNames.Literal(t.Text)} AS TIMESTAMPTZ))"));
        var values = timeZone is null ? session.EvaluateRow(sql, targets.Count) : session.InTimeZone(timeZone, () => session.EvaluateRow(sql, targets.Count));
        if (values is null) return 0; // a value DuckDB cannot read: the statement's own evaluation words the error
        for (var i = 0; i < targets.Count; i++)
        {
            // Outside .NET's years 1-9999 (BC, far future): left as written.
            if (values[i] is not { } micros || micros < MinMicros || micros > MaxMicros) continue;
            var instant = DateTimeOffset.UnixEpoch.AddTicks(micros * 10);
            targets[i].Constant["value"]!["value"] = instant.ToString("yyyy-MM-dd HH:mm:ss.ffffff", CultureInfo.InvariantCulture) + "+00";
        }
        return targets.Count;
    }

    private static readonly long MinMicros = (DateTimeOffset.MinValue.AddDays(2) - DateTimeOffset.UnixEpoch).Ticks / 10;
    private static readonly long MaxMicros = (DateTimeOffset.MaxValue.AddDays(-2) - DateTimeOffset.UnixEpoch).Ticks / 10;

    // YYYY-MM-DD[( |T)HH:MM[:SS[.f]]][ ][Z|±HH[[:]MM]]
    [GeneratedRegex(@"^\s*(?<date>\d{4}-\d{2}-\d{2})(?:[ Tt](?<hm>\d{1,2}:\d{2})(?:(?<sec>:\d{2})(?<frac>\.\d+)?)?)?\s*(?<zone>[Zz]|[+-]\d{2}(?::?(?<ozm>\d{2}))?)?\s*$")]
    private static partial Regex Iso();
}

using System.Text.Json.Nodes;
using TimeFusion.Tables;

namespace TimeFusion.Query.Planning;

/// <summary>A comparison of a reference's <c>timestamp</c> or <c>date</c> column with a constant expression.</summary>
/// <param name="Reference">The table reference.</param>
/// <param name="IsDate">True for the <c>date</c> column, false for <c>timestamp</c>.</param>
/// <param name="Op">The comparison with the column on the left: <c>=</c>, <c>&lt;</c>, <c>&lt;=</c>, <c>&gt;</c>, <c>&gt;=</c>.</param>
/// <param name="Expression">The constant side.</param>
internal sealed record BoundRequest(int Reference, bool IsDate, string Op, JsonNode Expression);

/// <summary>What WHERE/ON conjuncts say about one table reference: its projects, its time bounds, what can be pushed down.</summary>
internal static class ConjunctAnalysis
{
    /// <summary>
    /// Whether <paramref name="conjunct"/> speaks of <paramref name="reference"/> alone and can be evaluated on its rows
    /// anywhere, any number of times: only its columns, no subquery, window, aggregate, parameter or volatile call.
    /// </summary>
    public static bool IsAttributable(JsonNode conjunct, TableReference reference, FunctionCatalog functions)
    {
        foreach (var o in SqlAst.Objects(conjunct))
        {
            switch (SqlAst.Class(o))
            {
                case "SUBQUERY" or "WINDOW" or "PARAMETER" or "STAR" or "LAMBDA" or "LAMBDA_REF" or "POSITIONAL_REFERENCE":
                    return false;
                case "COLUMN_REF" when reference.ColumnOf(o) is null:
                    return false;
                case "FUNCTION" when !SqlAst.Bool(o, "is_operator") && IsUnsafeFunction(SqlAst.Str(o, "function_name"), functions):
                    return false;
            }
        }
        return true;
    }

    /// <summary>Whether an expression is constant: no column, subquery, window, aggregate, parameter or volatile call.</summary>
    public static bool IsConstant(JsonNode expression, FunctionCatalog functions)
    {
        foreach (var o in SqlAst.Objects(expression))
        {
            switch (SqlAst.Class(o))
            {
                case "SUBQUERY" or "WINDOW" or "PARAMETER" or "STAR" or "COLUMN_REF" or "LAMBDA" or "LAMBDA_REF" or "POSITIONAL_REFERENCE":
                    return false;
                case "FUNCTION" when !SqlAst.Bool(o, "is_operator") && IsUnsafeFunction(SqlAst.Str(o, "function_name"), functions):
                    return false;
            }
        }
        return true;
    }

    private static bool IsUnsafeFunction(string name, FunctionCatalog functions) =>
        functions.IsAggregate(name) || SqlFunctions.Volatile.Contains(name);

    /// <summary>
    /// The projects a conjunct confines the reference to (<c>project_id = 'x'</c>, <c>'x' = t.project_id</c>,
    /// <c>project_id IN ('a', 'b')</c>), or null when it does not.
    /// </summary>
    public static HashSet<string>? ProjectConstraint(JsonNode conjunct, TableReference reference)
    {
        bool IsProjectColumn(JsonNode? n) => SqlAst.IsColumnRef(n) && reference.ColumnOf(n!) == TableSchema.ProjectColumn;
        switch (SqlAst.Type(conjunct))
        {
            case "COMPARE_EQUAL":
            {
                var left = conjunct["left"];
                var right = conjunct["right"];
                if (IsProjectColumn(left) && SqlAst.StringConstant(right) is { } a) return new HashSet<string>(StringComparer.Ordinal) { a };
                if (IsProjectColumn(right) && SqlAst.StringConstant(left) is { } b) return new HashSet<string>(StringComparer.Ordinal) { b };
                return null;
            }
            case "COMPARE_IN":
            {
                var children = SqlAst.Array(conjunct, "children");
                if (children.Count < 2 || !IsProjectColumn(children[0])) return null;
                var set = new HashSet<string>(StringComparer.Ordinal);
                for (var i = 1; i < children.Count; i++)
                {
                    if (SqlAst.StringConstant(children[i]) is not { } v) return null;
                    set.Add(v);
                }
                return set;
            }
            default:
                return null;
        }
    }

    /// <summary>The time-bound comparisons in a conjunct (<c>&lt;</c>, <c>&lt;=</c>, <c>&gt;</c>, <c>&gt;=</c>, <c>=</c>, BETWEEN).</summary>
    public static IEnumerable<BoundRequest> TimeBounds(JsonNode conjunct, TableReference reference, FunctionCatalog functions)
    {
        bool? ColumnKind(JsonNode? n)
        {
            if (!SqlAst.IsColumnRef(n)) return null;
            return reference.ColumnOf(n!) switch
            {
                TableSchema.TimestampColumn => false,
                TableSchema.DateColumn => true,
                _ => null,
            };
        }

        var type = SqlAst.Type(conjunct);
        if (type == "COMPARE_BETWEEN")
        {
            if (ColumnKind(conjunct["input"]) is { } isDate)
            {
                if (conjunct["lower"] is { } lower && IsConstant(lower, functions))
                    yield return new BoundRequest(reference.Index, isDate, ">=", lower);
                if (conjunct["upper"] is { } upper && IsConstant(upper, functions))
                    yield return new BoundRequest(reference.Index, isDate, "<=", upper);
            }
            yield break;
        }
        var op = type switch
        {
            "COMPARE_EQUAL" => "=",
            "COMPARE_LESSTHAN" => "<",
            "COMPARE_LESSTHANOREQUALTO" => "<=",
            "COMPARE_GREATERTHAN" => ">",
            "COMPARE_GREATERTHANOREQUALTO" => ">=",
            _ => null,
        };
        if (op is null) yield break;
        var l = conjunct["left"];
        var r = conjunct["right"];
        if (ColumnKind(l) is { } leftDate && r is not null && IsConstant(r, functions))
            yield return new BoundRequest(reference.Index, leftDate, op, r);
        else if (ColumnKind(r) is { } rightDate && l is not null && IsConstant(l, functions))
            yield return new BoundRequest(reference.Index, rightDate, Flip(op), l);
    }

    private static string Flip(string op) => op switch
    {
        "<" => ">",
        "<=" => ">=",
        ">" => "<",
        ">=" => "<=",
        _ => op,
    };

    /// <summary>
    /// The range one evaluated bound allows. <paramref name="timestampMicros"/> is the constant cast to TIMESTAMPTZ;
    /// <paramref name="dateMicros"/> the constant cast to DATE (then to TIMESTAMPTZ at midnight UTC).
    /// </summary>
    public static TimeRange RangeOf(BoundRequest request, long? timestampMicros, long? dateMicros)
    {
        const long day = 86_400_000_000L;
        if (!request.IsDate)
        {
            if (timestampMicros is not { } v) return TimeRange.All;
            return request.Op switch
            {
                "=" => new TimeRange(v, v),
                ">" => new TimeRange(Saturating(v, 1), null),
                ">=" => new TimeRange(v, null),
                "<" => new TimeRange(null, Saturating(v, -1)),
                "<=" => new TimeRange(null, v),
                _ => TimeRange.All,
            };
        }
        if (dateMicros is not { } d) return TimeRange.All;
        // DuckDB compares a DATE column with a TIMESTAMPTZ constant by casting the column (midnight) and with a
        // text constant by casting the text to DATE; the ranges below are right (or wider) for both.
        var endOfDay = Saturating(d, day - 1);
        return request.Op switch
        {
            "=" => new TimeRange(d, endOfDay),
            ">=" => new TimeRange(d, null),
            ">" => new TimeRange(Saturating(d, day), null),
            "<=" => new TimeRange(null, endOfDay),
            "<" => new TimeRange(null, timestampMicros == d ? Saturating(d, -1) : endOfDay),
            _ => TimeRange.All,
        };
    }

    private static long Saturating(long a, long b)
    {
        var r = a + b;
        if (((a ^ r) & (b ^ r)) < 0) return b > 0 ? long.MaxValue : long.MinValue;
        return r;
    }

    /// <summary>A copy of an expression with the reference's qualifier dropped from its column references.</summary>
    public static JsonNode Unqualified(JsonNode expression, TableReference reference)
    {
        var copy = expression.DeepClone();
        foreach (var o in SqlAst.Objects(copy).Where(SqlAst.IsColumnRef).ToList())
        {
            var names = SqlAst.ColumnNames(o);
            if (names.Length == 2 && string.Equals(names[0], reference.Qualifier, StringComparison.OrdinalIgnoreCase))
                o["column_names"] = new JsonArray(JsonValue.Create(names[1]));
        }
        return copy;
    }
}

using System.Globalization;
using System.Text;
using TimeFusion.Query.Planning;
using TimeFusion.Sql;
using TimeFusion.Tables;

namespace TimeFusion.Query.Statements;

/// <summary>
/// A system view <c>timefusion.&lt;name&gt;</c> served by the gateway: a statement naming it is rewritten so that each
/// reference becomes a subquery over the view's rows as typed literals; the result then plans as any statement that
/// reads no table (the gateway runs it with the usual checks), so WHERE, ORDER BY, aggregates and joins among
/// references all work. It cannot be mixed with TimeFusion tables in one statement.
/// </summary>
/// <param name="name">The view's name in schema <c>timefusion</c> (lower case).</param>
/// <param name="columns">The view's columns and their DuckDB types, in order.</param>
public sealed class SystemView(string name, IReadOnlyList<(string Name, string Type)> columns)
{
    private static readonly HashSet<string> FollowKeywords = new(StringComparer.OrdinalIgnoreCase)
    {
        "WHERE", "GROUP", "ORDER", "LIMIT", "OFFSET", "JOIN", "INNER", "LEFT", "RIGHT", "FULL", "CROSS", "NATURAL", "ON", "USING",
        "UNION", "EXCEPT", "INTERSECT", "HAVING", "WINDOW", "QUALIFY", "FETCH", "FOR", "POSITIONAL", "ASOF", "ANTI", "SEMI", "TABLESAMPLE",
    };

    /// <summary>The view's name in schema <c>timefusion</c>.</summary>
    public string Name { get; } = name;

    /// <summary>The view's columns and their DuckDB types, in order.</summary>
    public IReadOnlyList<(string Name, string Type)> Columns { get; } = columns;

    /// <summary>Whether <paramref name="sql"/> names this view.</summary>
    public bool References(string sql)
    {
        List<SqlToken> tokens;
        try
        {
            tokens = SqlTokenizer.Tokenize(sql, SqlTokenizerMode.Lenient);
        }
        catch (SqlSyntaxException)
        {
            return false;
        }
        return Find(sql, tokens).Count > 0;
    }

    /// <summary>Rewrites every reference to this view in <paramref name="sql"/> as a subquery over <paramref name="rows"/>
    /// (each row's values in <see cref="Columns"/> order: string, long, DateTimeOffset or null).</summary>
    public string Rewrite(string sql, IReadOnlyList<object?[]> rows)
    {
        var tokens = PlanningTokens.Tokenize(sql);
        var hits = Find(sql, tokens);
        if (hits.Count == 0) return sql;
        var relation = Relation(rows);
        var result = new StringBuilder(sql.Length + relation.Length * hits.Count);
        var position = 0;
        foreach (var i in hits)
        {
            result.Append(sql, position, tokens[i].Start - position).Append('(').Append(relation).Append(')');
            var next = i + 3 < tokens.Count ? tokens[i + 3] : (SqlToken?)null;
            var aliased = next is { } n && (n.Kind == SqlTokenKind.QuotedIdentifier
                || (n.Kind == SqlTokenKind.Word && !FollowKeywords.Contains(n.Text(sql))));
            if (!aliased) result.Append(" AS ").Append(SqlNames.Quote(Name));
            position = tokens[i + 2].End;
        }
        return result.Append(sql, position, sql.Length - position).ToString();
    }

    private List<int> Find(string sql, List<SqlToken> tokens)
    {
        var hits = new List<int>();
        for (var i = 0; i + 2 < tokens.Count; i++)
        {
            if (tokens[i].FoldedIdentifier(sql) == "timefusion" && tokens[i + 1].Kind == SqlTokenKind.Dot && tokens[i + 2].FoldedIdentifier(sql) == Name
                && (i == 0 || tokens[i - 1].Kind != SqlTokenKind.Dot))
                hits.Add(i);
        }
        return hits;
    }

    /// <summary>The rows as a SELECT of typed literals (an empty, typed relation when there are none).</summary>
    public string Relation(IReadOnlyList<object?[]> rows)
    {
        if (rows.Count == 0)
            return "SELECT " + string.Join(", ", Columns.Select(c => $"CAST(NULL AS {c.Type}) AS {SqlNames.Quote(c.Name)}")) + " WHERE false";
        var sql = new StringBuilder("SELECT * FROM (VALUES ");
        for (var r = 0; r < rows.Count; r++)
        {
            var values = rows[r];
            if (values.Length != Columns.Count) throw new ArgumentException($"a row of timefusion.{Name} has {values.Length} values, not {Columns.Count}");
            if (r > 0) sql.Append(", ");
            sql.Append('(');
            for (var c = 0; c < values.Length; c++)
            {
                if (c > 0) sql.Append(", ");
                sql.Append("CAST(").Append(Literal(values[c])).Append(" AS ").Append(Columns[c].Type).Append(')');
            }
            sql.Append(')');
        }
        return sql.Append(") AS v(").Append(string.Join(", ", Columns.Select(c => SqlNames.Quote(c.Name)))).Append(')').ToString();
    }

    private static string Literal(object? value) => value switch
    {
        null => "NULL",
        string s => SqlNames.Literal(s),
        long l => l.ToString(CultureInfo.InvariantCulture),
        int i => i.ToString(CultureInfo.InvariantCulture),
        DateTimeOffset d => SqlNames.Literal(d.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss.ffffff", CultureInfo.InvariantCulture) + "+00"),
        _ => throw new ArgumentException($"unexpected value type {value.GetType()}"),
    };
}

using System.Globalization;
using System.Text;
using TimeFusion.Grains;
using TimeFusion.Query.Planning;
using TimeFusion.Sql;
using TimeFusion.Tables;

namespace TimeFusion.Query.Statements;

/// <summary>
/// The system view <c>timefusion.tables</c>: one row per (project, table) the caller may read, from each table grain's
/// <see cref="TableGrainStatus"/>. A statement naming it is rewritten so that each reference becomes a subquery over
/// the rows as typed literals; the result then plans as any statement that reads no table (the gateway runs it with
/// the usual checks), so WHERE, ORDER BY, aggregates and joins among references all work. It cannot be mixed with
/// TimeFusion tables in one statement.
/// </summary>
public static class SystemTablesView
{
    /// <summary>The view's columns and their DuckDB types, in order.</summary>
    public static readonly IReadOnlyList<(string Name, string Type)> Columns =
    [
        ("project_id", "VARCHAR"), ("table_name", "VARCHAR"), ("delta_version", "BIGINT"), ("files", "BIGINT"), ("bytes", "BIGINT"),
        ("rows", "BIGINT"), ("small_files", "BIGINT"), ("buffered_rows", "BIGINT"), ("buffered_bytes", "BIGINT"), ("wal_bytes", "BIGINT"),
        ("last_flush", "TIMESTAMPTZ"), ("last_optimize", "TIMESTAMPTZ"), ("last_vacuum", "TIMESTAMPTZ"), ("retention", "VARCHAR"), ("silo", "VARCHAR"),
        ("quarantined_wal_regions", "BIGINT"), ("quarantined_wal_bytes", "BIGINT"), ("open_transactions", "BIGINT"), ("staged_bytes", "BIGINT"),
    ];

    private static readonly HashSet<string> FollowKeywords = new(StringComparer.OrdinalIgnoreCase)
    {
        "WHERE", "GROUP", "ORDER", "LIMIT", "OFFSET", "JOIN", "INNER", "LEFT", "RIGHT", "FULL", "CROSS", "NATURAL", "ON", "USING",
        "UNION", "EXCEPT", "INTERSECT", "HAVING", "WINDOW", "QUALIFY", "FETCH", "FOR", "POSITIONAL", "ASOF", "ANTI", "SEMI", "TABLESAMPLE", "USING",
    };

    /// <summary>Whether <paramref name="sql"/> names <c>timefusion.tables</c>.</summary>
    public static bool References(string sql)
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

    /// <summary>Rewrites every reference to <c>timefusion.tables</c> in <paramref name="sql"/> as a subquery over <paramref name="rows"/>.</summary>
    public static string Rewrite(string sql, IReadOnlyList<TableGrainStatus> rows)
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
            if (!aliased) result.Append(" AS \"tables\"");
            position = tokens[i + 2].End;
        }
        return result.Append(sql, position, sql.Length - position).ToString();
    }

    private static List<int> Find(string sql, List<SqlToken> tokens)
    {
        var hits = new List<int>();
        for (var i = 0; i + 2 < tokens.Count; i++)
        {
            if (tokens[i].FoldedIdentifier(sql) == "timefusion" && tokens[i + 1].Kind == SqlTokenKind.Dot && tokens[i + 2].FoldedIdentifier(sql) == "tables"
                && (i == 0 || tokens[i - 1].Kind != SqlTokenKind.Dot))
                hits.Add(i);
        }
        return hits;
    }

    /// <summary>The rows as a SELECT of typed literals (an empty, typed relation when there are none).</summary>
    public static string Relation(IReadOnlyList<TableGrainStatus> rows)
    {
        if (rows.Count == 0)
            return "SELECT " + string.Join(", ", Columns.Select(c => $"CAST(NULL AS {c.Type}) AS {SqlNames.Quote(c.Name)}")) + " WHERE false";
        var sql = new StringBuilder("SELECT * FROM (VALUES ");
        for (var r = 0; r < rows.Count; r++)
        {
            var s = rows[r];
            if (r > 0) sql.Append(", ");
            object?[] values =
            [
                s.Project, s.Table, s.DeltaVersion, s.Files, s.Bytes, s.Rows, s.SmallFiles, s.BufferedRows, s.BufferedBytes, s.WalBytes,
                s.LastFlush, s.LastOptimize, s.LastVacuum, s.Retention is { } t ? FormatRetention(t) : null, s.Silo,
                s.QuarantinedWalRegions, s.QuarantinedWalBytes, (long)s.OpenTransactions, s.StagedBytes,
            ];
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

    /// <summary>A retention as text: <c>30 days</c>, <c>12 hours</c>, <c>90 minutes</c>.</summary>
    public static string FormatRetention(TimeSpan t) =>
        t.Ticks % TimeSpan.TicksPerDay == 0 ? $"{t.Days} days"
        : t.Ticks % TimeSpan.TicksPerHour == 0 ? $"{(long)t.TotalHours} hours"
        : $"{(long)t.TotalMinutes} minutes";

    private static string Literal(object? value) => value switch
    {
        null => "NULL",
        string s => SqlNames.Literal(s),
        long l => l.ToString(CultureInfo.InvariantCulture),
        DateTimeOffset d => SqlNames.Literal(d.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss.ffffff", CultureInfo.InvariantCulture) + "+00"),
        _ => throw new ArgumentException($"unexpected value type {value.GetType()}"),
    };
}

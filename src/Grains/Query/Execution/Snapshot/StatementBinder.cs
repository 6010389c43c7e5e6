using TimeFusion.Sql;
using TimeFusion.Query.Planning;
using TimeFusion.Tables;
using TimeFusion.Wire;

namespace TimeFusion.Query.Execution;

/// <summary>
/// Binds the canonical table name a planned statement uses (e.g. <c>otel_logs_and_spans</c>) to a relation by
/// prefixing a CTE: <c>WITH "t" AS NOT MATERIALIZED (&lt;relation&gt;) &lt;statement&gt;</c>. A statement that has a
/// WITH clause of its own gets the binding as its first CTE (<c>WITH [RECURSIVE] "t" AS …, &lt;its CTEs&gt; …</c>).
/// When one of its CTEs already has the table's name (or its WITH clause does not read as expected), the statement is
/// wrapped instead: <c>WITH "t" AS (…) SELECT * FROM (&lt;statement&gt;)</c>, where its own CTE shadows the binding
/// inside it as SQL scoping says. NOT MATERIALIZED keeps DuckDB from materializing the relation when the statement
/// reads it more than once (a self-join): it is inlined, so projections and filters reach the scans.
/// No catalog object is created, so nothing can leak between queries on a pooled connection.
/// </summary>
internal static class StatementBinder
{
    /// <summary>The statement with <paramref name="tableName"/> bound to <paramref name="relationSql"/> (a query, unparenthesized).</summary>
    /// <exception cref="QueryExecutionException">The statement text does not tokenize (42601).</exception>
    public static string Bind(string sql, string tableName, string relationSql)
    {
        ArgumentException.ThrowIfNullOrEmpty(sql);
        ArgumentException.ThrowIfNullOrEmpty(tableName);
        List<SqlToken> tokens;
        try
        {
            tokens = SqlTokenizer.Tokenize(sql);
        }
        catch (SqlSyntaxException e)
        {
            throw new QueryExecutionException(e.SqlState, e.Message, e);
        }
        if (tokens.Count == 0)
            throw new QueryExecutionException(SqlState.SyntaxError, "the statement is empty");

        var binding = $"{SqlNames.Quote(tableName)} AS NOT MATERIALIZED ({relationSql})";
        if (!tokens[0].IsKeyword(sql, "WITH"))
            return $"WITH {binding}\n{sql}";

        var first = tokens.Count > 1 && tokens[1].IsKeyword(sql, "RECURSIVE") ? 2 : 1;
        var names = TopLevelCteNames(sql, tokens, first);
        if (names is not null && !names.Any(n => string.Equals(n, tableName, StringComparison.OrdinalIgnoreCase)) && first < tokens.Count)
        {
            var at = tokens[first].Start;
            return $"{sql[..at]}{binding},\n{sql[at..]}";
        }
        return $"WITH {binding}\nSELECT * FROM (\n{TrimTrailingSemicolons(sql, tokens)}\n) AS \"__bound\"";
    }

    /// <summary>
    /// The names of the CTEs of a leading WITH clause: <c>name [(columns)] AS [NOT] [MATERIALIZED] (query)</c>, comma
    /// separated, from token <paramref name="i"/>. Null when the clause does not have that shape.
    /// </summary>
    private static List<string>? TopLevelCteNames(string sql, List<SqlToken> tokens, int i)
    {
        var names = new List<string>();
        while (true)
        {
            if (i >= tokens.Count || tokens[i].Identifier(sql) is not { } name)
                return null;
            names.Add(name);
            i++;
            if (i < tokens.Count && tokens[i].Kind == SqlTokenKind.Open)
                i = SkipGroup(tokens, i);
            if (i >= tokens.Count || !tokens[i].IsKeyword(sql, "AS"))
                return null;
            i++;
            if (i < tokens.Count && tokens[i].IsKeyword(sql, "NOT"))
                i++;
            if (i < tokens.Count && tokens[i].IsKeyword(sql, "MATERIALIZED"))
                i++;
            if (i >= tokens.Count || tokens[i].Kind != SqlTokenKind.Open)
                return null;
            i = SkipGroup(tokens, i);
            if (i < tokens.Count && tokens[i].Kind == SqlTokenKind.Comma)
            {
                i++;
                continue;
            }
            return names;
        }
    }

    /// <summary>The index just past the bracket group opened at <paramref name="open"/> (the end when unbalanced).</summary>
    private static int SkipGroup(List<SqlToken> tokens, int open)
    {
        var depth = 0;
        for (var i = open; i < tokens.Count; i++)
        {
            if (tokens[i].Kind == SqlTokenKind.Open) depth++;
            else if (tokens[i].Kind == SqlTokenKind.Close && --depth == 0) return i + 1;
        }
        return tokens.Count;
    }

    private static string TrimTrailingSemicolons(string sql, List<SqlToken> tokens)
    {
        var last = tokens.Count - 1;
        while (last >= 0 && tokens[last].Kind == SqlTokenKind.Semicolon)
            last--;
        return last < 0 ? "" : sql[..tokens[last].End];
    }

    /// <summary>
    /// The row count of the statement's top-level <c>LIMIT n [OFFSET m]</c> (outside any bracket) when both are
    /// integer literals and add up to <paramref name="limitPlusOffset"/>; otherwise <paramref name="limitPlusOffset"/>.
    /// </summary>
    public static long TopLevelLimit(string sql, long limitPlusOffset)
    {
        List<SqlToken> tokens;
        try
        {
            tokens = SqlTokenizer.Tokenize(sql);
        }
        catch (SqlSyntaxException)
        {
            return limitPlusOffset;
        }
        long? limit = null, offset = null;
        var depth = 0;
        for (var i = 0; i < tokens.Count; i++)
        {
            var t = tokens[i];
            if (t.Kind == SqlTokenKind.Open) depth++;
            else if (t.Kind == SqlTokenKind.Close) depth--;
            else if (depth == 0 && i + 1 < tokens.Count && tokens[i + 1].Kind == SqlTokenKind.Number
                     && long.TryParse(tokens[i + 1].Text(sql), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var value))
            {
                if (t.IsKeyword(sql, "LIMIT")) limit = value;
                else if (t.IsKeyword(sql, "OFFSET")) offset = value;
            }
        }
        return limit is { } l && l <= limitPlusOffset && l + (offset ?? 0) == limitPlusOffset ? l : limitPlusOffset;
    }
}

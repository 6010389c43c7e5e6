using System.Text;
using System.Text.RegularExpressions;
using TimeFusion.Sql;
using TimeFusion.Tables;
using TimeFusion.Wire;

namespace TimeFusion.Silo.Backend.Catalog;

/// <summary>
/// Translates the PostgreSQL spellings catalog queries use into what the catalog database (DuckDB) runs, token by
/// token with the shared lexer (strings, quoted names and comments are never mistaken for code):
/// <c>pg_catalog.x</c> → <c>x</c> (found on the search path, schema <c>tfpg</c>); <c>information_schema.x</c> →
/// <c>tfinfo.x</c>; <c>OPERATOR(pg_catalog.~)</c> → <c>~</c>; <c>COLLATE name</c> dropped; casts to <c>regclass</c>,
/// <c>regtype</c>, <c>regnamespace</c>, <c>regproc</c> and <c>regrole</c> → lookups; regular-expression matches made
/// partial as in PostgreSQL (DuckDB's <c>~</c> matches whole strings); <c>'{1,2}'</c> array constants → lists;
/// <c>current_user</c>/<c>session_user</c> → the session's user.
/// </summary>
internal static class PgCatalogRewriter
{
    private static readonly Regex IntegerArrayConstant = new(@"^\{\s*-?\d*(\s*,\s*-?\d+)*\s*\}$", RegexOptions.CultureInvariant);

    private sealed record Piece(SqlTokenKind Kind, string Text, string Space);

    /// <summary>The statement in the catalog database's dialect.</summary>
    public static string Rewrite(string sql, string userName)
    {
        var tokens = SqlTokenizer.Tokenize(sql, SqlTokenizerMode.Lenient);
        var output = new List<Piece>(tokens.Count);
        var previousEnd = 0;
        var pendingSpace = "";
        var columnAliases = SetReturningAliases(sql, tokens);
        var scalarRelations = ScalarFunctionsInFrom(sql, tokens);
        for (var i = 0; i < tokens.Count; i++)
        {
            var t = tokens[i];
            var space = pendingSpace + sql[previousEnd..t.Start];
            pendingSpace = "";
            previousEnd = t.End;
            var word = t.Kind is SqlTokenKind.Word or SqlTokenKind.QuotedIdentifier ? t.FoldedIdentifier(sql) : null;

            if (word == "pg_catalog" && IsPunct(sql, tokens, i + 1, '.'))
            {
                // Dropped: the next name resolves through the search path. Its white space carries over.
                pendingSpace += space;
                i++;
                previousEnd = tokens[i].End;
                continue;
            }
            if (scalarRelations.TryGetValue(i, out var relation))
            {
                // PostgreSQL lets a scalar function stand in FROM as a one-row relation named by its alias.
                var call = sql[t.Start..tokens[relation.CallEnd].End];
                var alias = tokens[relation.Alias].Text(sql);
                output.Add(new Piece(SqlTokenKind.Word, $"(SELECT {Rewrite(call, userName)} AS {alias}) {alias}", space));
                i = relation.Alias;
                previousEnd = tokens[i].End;
                continue;
            }
            if (word == "information_schema" && IsPunct(sql, tokens, i + 1, '.'))
            {
                output.Add(new Piece(SqlTokenKind.Word, PgCatalogSchema.InformationSchema, space));
                continue; // the '.' follows as its own piece
            }
            if (t.Kind == SqlTokenKind.Word && word == "operator" && IsPunct(sql, tokens, i + 1, '('))
            {
                // OPERATOR(pg_catalog.~) → ~
                var j = i + 2;
                var op = new StringBuilder();
                while (j < tokens.Count && !IsPunct(sql, tokens, j, ')'))
                {
                    var inner = tokens[j].Text(sql);
                    if (tokens[j].Kind == SqlTokenKind.Word && inner.Equals("pg_catalog", StringComparison.OrdinalIgnoreCase) && IsPunct(sql, tokens, j + 1, '.'))
                    {
                        j += 2;
                        continue;
                    }
                    op.Append(inner);
                    j++;
                }
                output.Add(new Piece(SqlTokenKind.Operator, op.ToString(), space));
                i = j;
                previousEnd = j < tokens.Count ? tokens[j].End : sql.Length;
                continue;
            }
            if (t.Kind == SqlTokenKind.Word && word is "any" or "all" or "some" && IsPunct(sql, tokens, i + 1, '(') && !StartsQuery(sql, tokens, i + 2))
            {
                // x = ANY(array): DuckDB reads ANY over a list as an UNNEST it refuses in WHERE; over a subquery it works.
                var close = Close(sql, tokens, i + 1);
                if (close < tokens.Count)
                {
                    var inner = Rewrite(sql[tokens[i + 2].Start..tokens[close].Start], userName);
                    output.Add(new Piece(SqlTokenKind.Word, $"{word} (select unnest({inner}))", space));
                    i = close;
                    previousEnd = tokens[i].End;
                    continue;
                }
            }
            if (t.Kind == SqlTokenKind.Word && word == "collate")
            {
                // COLLATE [schema.]name: our comparisons are by code point, like PostgreSQL's "C" collation.
                var j = i + 1;
                while (j < tokens.Count && tokens[j].Kind is SqlTokenKind.Word or SqlTokenKind.QuotedIdentifier)
                {
                    j++;
                    if (IsPunct(sql, tokens, j, '.')) j++;
                    else break;
                }
                i = j - 1;
                previousEnd = tokens[i].End;
                continue;
            }
            if (IsPunct(sql, tokens, i, ':') && IsPunct(sql, tokens, i + 1, ':') && TryRegCast(sql, tokens, i + 2, out var regKind, out var typeEnd))
            {
                WrapOperand(output, regKind);
                i = typeEnd;
                previousEnd = tokens[i].End;
                continue;
            }
            if (t.Kind == SqlTokenKind.Word && (word is "current_user" or "session_user" || word == "user" && IsUserKeyword(output))
                && !IsPunct(sql, tokens, i + 1, '(') && !IsPunct(sql, tokens, i + 1, '.'))
            {
                output.Add(new Piece(SqlTokenKind.String, SqlNames.Literal(userName), space));
                continue;
            }
            if (t.Kind == SqlTokenKind.String && !t.IsEscapeString(sql))
            {
                var value = t.StringValue(sql)!;
                if (IsRegexOperand(output))
                {
                    var caseInsensitive = output[^1].Text == "*";
                    if (caseInsensitive) output.RemoveAt(output.Count - 1);
                    output.Add(new Piece(SqlTokenKind.String, SqlNames.Literal((caseInsensitive ? "(?is)" : "(?s)") + ".*(?:" + value + ").*"), space));
                    continue;
                }
                if (IntegerArrayConstant.IsMatch(value))
                {
                    output.Add(new Piece(SqlTokenKind.String, "[" + value.Trim()[1..^1] + "]", space));
                    continue;
                }
            }
            // Unquoted names fold to lower case, as in PostgreSQL: `AS TABLE_CAT` names the result column table_cat
            // (DuckDB would keep the case as written; it binds names case-insensitively either way).
            var text = t.Kind == SqlTokenKind.Word ? t.Text(sql).ToLowerInvariant() : t.Text(sql);
            output.Add(new Piece(t.Kind, columnAliases.Contains(i) ? $"{text}({text})" : text, space));
        }
        var rewritten = new StringBuilder(sql.Length + 32);
        foreach (var piece in output) rewritten.Append(piece.Space).Append(piece.Text);
        return rewritten.Append(sql, previousEnd, sql.Length - previousEnd).ToString();
    }

    /// <summary>
    /// <c>string_to_array(…) alias</c> used as a FROM item (after FROM or a comma): token index of the name →
    /// the index of the call's closing parenthesis and of the alias.
    /// </summary>
    private static Dictionary<int, (int CallEnd, int Alias)> ScalarFunctionsInFrom(string sql, List<SqlToken> tokens)
    {
        var result = new Dictionary<int, (int, int)>();
        for (var i = 1; i + 1 < tokens.Count; i++)
        {
            if (!IsCall(sql, tokens, i, "string_to_array", "regexp_split_to_array")) continue;
            var afterFrom = tokens[i - 1].Kind == SqlTokenKind.Word && tokens[i - 1].FoldedIdentifier(sql) == "from";
            if (!afterFrom && !(IsPunct(sql, tokens, i - 1, ',') && InFromList(sql, tokens, i))) continue;
            if (AliasAfterCall(sql, tokens, i) is { } call) result[i] = call;
        }
        return result;
    }

    /// <summary>Whether a subquery starts at token <paramref name="i"/> (SELECT, VALUES, WITH, or a parenthesis).</summary>
    private static bool StartsQuery(string sql, List<SqlToken> tokens, int i) =>
        i < tokens.Count && (IsPunct(sql, tokens, i, '(') || tokens[i].Kind == SqlTokenKind.Word && tokens[i].FoldedIdentifier(sql) is "select" or "values" or "with");

    /// <summary>Whether token <paramref name="i"/> is a call of one of <paramref name="names"/>.</summary>
    private static bool IsCall(string sql, List<SqlToken> tokens, int i, params string[] names) =>
        tokens[i].Kind == SqlTokenKind.Word && names.Contains(tokens[i].FoldedIdentifier(sql)) && IsPunct(sql, tokens, i + 1, '(');

    /// <summary>For a call at <paramref name="name"/>: its closing parenthesis and the alias after it (<c>[AS] alias</c>), or null.</summary>
    private static (int CallEnd, int Alias)? AliasAfterCall(string sql, List<SqlToken> tokens, int name)
    {
        var end = Close(sql, tokens, name + 1);
        var alias = end + 1;
        if (alias < tokens.Count && tokens[alias].Kind == SqlTokenKind.Word && tokens[alias].FoldedIdentifier(sql) == "as") alias++;
        return alias < tokens.Count && tokens[alias].Kind == SqlTokenKind.Word && !IsKeyword(tokens[alias].Text(sql))
            ? (end, alias)
            : null;
    }

    // A comma-separated item is a FROM item when the nearest FROM/SELECT/WHERE keyword before it at the same depth is FROM.
    private static bool InFromList(string sql, List<SqlToken> tokens, int i)
    {
        var depth = 0;
        for (var j = i - 1; j >= 0; j--)
        {
            if (IsPunct(sql, tokens, j, ')')) depth++;
            else if (IsPunct(sql, tokens, j, '(')) { if (depth-- == 0) return false; }
            else if (depth == 0 && tokens[j].Kind == SqlTokenKind.Word && tokens[j].FoldedIdentifier(sql) is "from" or "select" or "where")
                return tokens[j].FoldedIdentifier(sql) == "from";
        }
        return false;
    }

    private static int Close(string sql, List<SqlToken> tokens, int open)
    {
        var depth = 0;
        for (var j = open; j < tokens.Count; j++)
        {
            if (IsPunct(sql, tokens, j, '(')) depth++;
            else if (IsPunct(sql, tokens, j, ')') && --depth == 0) return j;
        }
        return tokens.Count;
    }

    /// <summary>
    /// Token indexes of aliases given to <c>generate_series(…)</c> without a column list: PostgreSQL lets the alias name
    /// the column too (<c>FROM generate_series(0, 3) s … arr[s]</c>), DuckDB names only the relation.
    /// </summary>
    private static HashSet<int> SetReturningAliases(string sql, List<SqlToken> tokens)
    {
        var result = new HashSet<int>();
        for (var i = 0; i + 1 < tokens.Count; i++)
        {
            if (IsCall(sql, tokens, i, "generate_series") && AliasAfterCall(sql, tokens, i) is { } call && !IsPunct(sql, tokens, call.Alias + 1, '('))
                result.Add(call.Alias);
        }
        return result;
    }

    private static bool IsPunct(string sql, List<SqlToken> tokens, int i, char c) =>
        i < tokens.Count && tokens[i].IsSymbolChar(sql, c);

    private static bool IsSymbol(SqlTokenKind kind) => kind is SqlTokenKind.Open or SqlTokenKind.Close or SqlTokenKind.Comma
        or SqlTokenKind.Semicolon or SqlTokenKind.Dot or SqlTokenKind.Operator;

    // After "~", "!~" or "~*" (the last two as separate pieces).
    private static bool IsRegexOperand(List<Piece> output)
    {
        if (output.Count == 0) return false;
        var last = output[^1].Text;
        if (last == "~") return true;
        return last == "*" && output.Count >= 2 && output[^2].Text == "~";
    }

    /// <summary>Whether tokens from <paramref name="start"/> name a reg* type (optionally pg_catalog-qualified).</summary>
    private static bool TryRegCast(string sql, List<SqlToken> tokens, int start, out string kind, out int last)
    {
        kind = "";
        last = start;
        var i = start;
        if (i < tokens.Count && tokens[i].Kind == SqlTokenKind.Word && tokens[i].FoldedIdentifier(sql) == "pg_catalog" && IsPunct(sql, tokens, i + 1, '.'))
            i += 2;
        if (i >= tokens.Count || tokens[i].Kind is not (SqlTokenKind.Word or SqlTokenKind.QuotedIdentifier)) return false;
        var name = tokens[i].FoldedIdentifier(sql);
        kind = name switch
        {
            "regclass" => "regclass",
            "regtype" => "regtype",
            "regnamespace" => "regnamespace",
            "regproc" or "regprocedure" => "regproc",
            "regrole" => "regrole",
            _ => "",
        };
        last = i;
        return kind.Length > 0;
    }

    /// <summary>Replaces the operand just emitted with <c>tfpg.tf_{kind}_in(…)</c> (a string constant) or <c>_out</c>.</summary>
    private static void WrapOperand(List<Piece> output, string kind)
    {
        var start = OperandStart(output);
        if (start < 0) throw new Protocol.Postgres.PostgresErrorException(SqlState.SyntaxError, $"cannot read the operand of ::{kind}");
        var isConstant = start == output.Count - 1 && output[start].Kind == SqlTokenKind.String;
        var inner = new StringBuilder();
        for (var k = start; k < output.Count; k++) inner.Append(k == start ? "" : output[k].Space).Append(output[k].Text);
        var space = output[start].Space;
        output.RemoveRange(start, output.Count - start);
        output.Add(new Piece(SqlTokenKind.Word, $"{PgCatalogSchema.CatalogSchema}.tf_{kind}_{(isConstant ? "in" : "out")}({inner})", space));
    }

    private static int OperandStart(List<Piece> output)
    {
        var i = output.Count - 1;
        while (i >= 0 && output[i].Text.Length == 0) i--;
        if (i < 0) return -1;
        var piece = output[i];
        if (piece.Kind is SqlTokenKind.String or SqlTokenKind.Number or SqlTokenKind.Parameter) return i;
        if (IsSymbol(piece.Kind) && piece.Text == ")")
        {
            var depth = 0;
            for (; i >= 0; i--)
            {
                if (!IsSymbol(output[i].Kind)) continue;
                if (output[i].Text == ")") depth++;
                else if (output[i].Text == "(" && --depth == 0) break;
            }
            if (i < 0) return -1;
            // A function call: include its (possibly qualified) name.
            if (i > 0 && output[i - 1].Kind is SqlTokenKind.Word or SqlTokenKind.QuotedIdentifier && !IsKeyword(output[i - 1].Text))
                i--;
            else
                return i;
        }
        else if (piece.Kind is not (SqlTokenKind.Word or SqlTokenKind.QuotedIdentifier))
        {
            return -1;
        }
        // name(.name)*
        while (i >= 2 && IsSymbol(output[i - 1].Kind) && output[i - 1].Text == "."
               && output[i - 2].Kind is SqlTokenKind.Word or SqlTokenKind.QuotedIdentifier)
            i -= 2;
        return i;
    }

    // "user" is PostgreSQL's current_user where an expression starts (Grafana: CASE … THEN user ELSE …); elsewhere a name.
    private static bool IsUserKeyword(List<Piece> output) =>
        output.Count > 0 && (output[^1].Text is "," or "(" or "=" || output[^1].Text.ToUpperInvariant() is "THEN" or "ELSE" or "SELECT" or "WHEN");

    private static bool IsKeyword(string word) => word.ToUpperInvariant() is "AND" or "OR" or "NOT" or "IN" or "WHERE" or "ON"
        or "SELECT" or "FROM" or "WHEN" or "THEN" or "ELSE" or "CASE" or "AS" or "IS" or "BY" or "EXISTS" or "ANY" or "ALL"
        or "JOIN" or "LEFT" or "RIGHT" or "INNER" or "CROSS" or "GROUP" or "ORDER" or "LIMIT" or "UNION" or "HAVING";
}

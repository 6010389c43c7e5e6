namespace TimeFusion.Sql;

/// <summary>
/// Splits SQL text into tokens, respecting string literals (standard, <c>E'…'</c> escapes, dollar quoting),
/// quoted identifiers and comments (<c>--</c> and nested <c>/* */</c>). Used to cut statements apart and to find
/// the parts of statements DuckDB will not serialize (DML, <c>FLUSH</c>); never to interpret expressions.
/// </summary>
public static class SqlTokenizer
{
    /// <summary>Tokenizes <paramref name="sql"/>.</summary>
    /// <exception cref="SqlSyntaxException">An unterminated string, identifier or comment (42601).</exception>
    public static List<SqlToken> Tokenize(string sql)
    {
        ArgumentNullException.ThrowIfNull(sql);
        var tokens = new List<SqlToken>();
        var i = 0;
        while (i < sql.Length)
        {
            var c = sql[i];
            if (char.IsWhiteSpace(c))
            {
                i++;
                continue;
            }
            if (c == '-' && Peek(sql, i + 1) == '-')
            {
                while (i < sql.Length && sql[i] != '\n') i++;
                continue;
            }
            if (c == '/' && Peek(sql, i + 1) == '*')
            {
                i = SkipBlockComment(sql, i);
                continue;
            }
            var start = i;
            if (c == '\'')
            {
                i = SkipQuoted(sql, i, '\'', backslashEscapes: false);
                tokens.Add(new SqlToken(SqlTokenKind.String, start, i - start));
            }
            else if (c == '"')
            {
                i = SkipQuoted(sql, i, '"', backslashEscapes: false);
                tokens.Add(new SqlToken(SqlTokenKind.QuotedIdentifier, start, i - start));
            }
            else if (c == '$')
            {
                i = ScanDollar(sql, i, tokens);
            }
            else if (c == '?')
            {
                i++;
                tokens.Add(new SqlToken(SqlTokenKind.Parameter, start, 1));
            }
            else if (char.IsDigit(c) || (c == '.' && char.IsDigit(Peek(sql, i + 1))))
            {
                i = ScanNumber(sql, i);
                tokens.Add(new SqlToken(SqlTokenKind.Number, start, i - start));
            }
            else if (IsIdentifierStart(c))
            {
                while (i < sql.Length && IsIdentifierPart(sql[i])) i++;
                // String prefixes: E'…' (backslash escapes), X'…', B'…', N'…'.
                if (i - start == 1 && Peek(sql, i) == '\'' && "eExXbBnN".Contains(c))
                {
                    i = SkipQuoted(sql, i, '\'', backslashEscapes: c is 'e' or 'E');
                    tokens.Add(new SqlToken(SqlTokenKind.String, start, i - start));
                }
                else
                {
                    tokens.Add(new SqlToken(SqlTokenKind.Word, start, i - start));
                }
            }
            else
            {
                i++;
                var kind = c switch
                {
                    '(' or '[' or '{' => SqlTokenKind.Open,
                    ')' or ']' or '}' => SqlTokenKind.Close,
                    ',' => SqlTokenKind.Comma,
                    ';' => SqlTokenKind.Semicolon,
                    '.' => SqlTokenKind.Dot,
                    _ => SqlTokenKind.Operator,
                };
                tokens.Add(new SqlToken(kind, start, 1));
            }
        }
        return tokens;
    }

    /// <summary>
    /// Splits a multi-statement string at semicolons outside literals and comments. Each piece runs from its
    /// first token to its last (comments around it dropped); empty pieces are skipped.
    /// </summary>
    public static List<string> SplitStatements(string sql)
    {
        var tokens = Tokenize(sql);
        var result = new List<string>();
        var first = -1;
        var last = -1;
        foreach (var t in tokens)
        {
            if (t.Kind == SqlTokenKind.Semicolon)
            {
                if (first >= 0) result.Add(sql[first..last]);
                first = last = -1;
                continue;
            }
            if (first < 0) first = t.Start;
            last = t.End;
        }
        if (first >= 0) result.Add(sql[first..last]);
        return result;
    }

    private static char Peek(string sql, int i) => i < sql.Length ? sql[i] : '\0';

    private static bool IsIdentifierStart(char c) => char.IsLetter(c) || c == '_' || c > 127;

    private static bool IsIdentifierPart(char c) => char.IsLetterOrDigit(c) || c == '_' || c == '$' || c > 127;

    private static int SkipBlockComment(string sql, int i)
    {
        var depth = 0;
        while (i < sql.Length)
        {
            if (sql[i] == '/' && Peek(sql, i + 1) == '*')
            {
                depth++;
                i += 2;
            }
            else if (sql[i] == '*' && Peek(sql, i + 1) == '/')
            {
                depth--;
                i += 2;
                if (depth == 0) return i;
            }
            else
            {
                i++;
            }
        }
        throw new SqlSyntaxException("unterminated /* comment");
    }

    private static int SkipQuoted(string sql, int i, char quote, bool backslashEscapes)
    {
        var open = i;
        i++;
        while (i < sql.Length)
        {
            var c = sql[i];
            if (backslashEscapes && c == '\\')
            {
                i += 2;
                continue;
            }
            if (c == quote)
            {
                if (Peek(sql, i + 1) == quote)
                {
                    i += 2;
                    continue;
                }
                return i + 1;
            }
            i++;
        }
        var what = quote == '"' ? "quoted identifier" : "quoted string";
        throw new SqlSyntaxException($"unterminated {what} at or near position {open}");
    }

    private static int ScanDollar(string sql, int i, List<SqlToken> tokens)
    {
        var start = i;
        var j = i + 1;
        if (char.IsDigit(Peek(sql, j)))
        {
            while (char.IsDigit(Peek(sql, j))) j++;
            tokens.Add(new SqlToken(SqlTokenKind.Parameter, start, j - start));
            return j;
        }
        // $tag$ … $tag$ (tag empty or an identifier).
        while (j < sql.Length && (char.IsLetterOrDigit(sql[j]) || sql[j] == '_')) j++;
        if (Peek(sql, j) != '$')
        {
            // $name is a named parameter; a lone '$' an operator character.
            if (j > i + 1)
            {
                tokens.Add(new SqlToken(SqlTokenKind.Parameter, start, j - start));
                return j;
            }
            tokens.Add(new SqlToken(SqlTokenKind.Operator, start, 1));
            return i + 1;
        }
        var tag = sql.Substring(start, j - start + 1);
        var close = sql.IndexOf(tag, j + 1, StringComparison.Ordinal);
        if (close < 0)
            throw new SqlSyntaxException($"unterminated dollar-quoted string at or near position {start}");
        var end = close + tag.Length;
        tokens.Add(new SqlToken(SqlTokenKind.String, start, end - start));
        return end;
    }

    private static int ScanNumber(string sql, int i)
    {
        while (i < sql.Length && (char.IsDigit(sql[i]) || sql[i] == '.' || sql[i] == '_')) i++;
        if (i < sql.Length && (sql[i] == 'e' || sql[i] == 'E'))
        {
            var j = i + 1;
            if (Peek(sql, j) is '+' or '-') j++;
            if (char.IsDigit(Peek(sql, j)))
            {
                i = j;
                while (i < sql.Length && char.IsDigit(sql[i])) i++;
            }
        }
        return i;
    }
}

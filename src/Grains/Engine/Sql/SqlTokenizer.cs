namespace TimeFusion.Sql;

/// <summary>
/// The one SQL lexer of every layer (planner, engine, PostgreSQL protocol). Splits SQL text into tokens, respecting
/// string literals (standard, <c>E'…'</c> escapes, <c>U&amp;'…'</c>, <c>X'…'</c>, dollar quoting), quoted identifiers
/// and comments (<c>--</c> and nested <c>/* */</c>). Used to cut statements apart, classify them and find the parts
/// DuckDB will not serialize (DML, <c>FLUSH</c>, parameters, catalog spellings); never to interpret expressions.
/// </summary>
public static class SqlTokenizer
{
    /// <summary>Tokenizes <paramref name="sql"/>.</summary>
    /// <exception cref="SqlSyntaxException">In <see cref="SqlTokenizerMode.Strict"/> mode: an unterminated string, identifier or comment (42601).</exception>
    public static List<SqlToken> Tokenize(string sql, SqlTokenizerMode mode = SqlTokenizerMode.Strict)
    {
        ArgumentNullException.ThrowIfNull(sql);
        var tokens = new List<SqlToken>();
        var position = 0;
        while (Next(sql, ref position, mode, out var token)) tokens.Add(token);
        return tokens;
    }

    /// <summary>
    /// Reads the token at or after <paramref name="position"/> (white space and comments skipped) and moves past it;
    /// false at the end of the text. Lets a caller look at the first tokens without tokenizing a whole statement.
    /// </summary>
    /// <exception cref="SqlSyntaxException">In <see cref="SqlTokenizerMode.Strict"/> mode: an unterminated string, identifier or comment (42601).</exception>
    public static bool Next(string sql, ref int position, SqlTokenizerMode mode, out SqlToken token)
    {
        ArgumentNullException.ThrowIfNull(sql);
        var lenient = mode == SqlTokenizerMode.Lenient;
        var i = SkipSpaceAndComments(sql, position, lenient);
        token = default;
        if (i >= sql.Length)
        {
            position = sql.Length;
            return false;
        }
        var start = i;
        var c = sql[i];
        SqlTokenKind kind;
        if (c == '\'')
        {
            i = SkipQuoted(sql, i, '\'', backslashEscapes: false, lenient);
            kind = SqlTokenKind.String;
        }
        else if (c == '"')
        {
            i = SkipQuoted(sql, i, '"', backslashEscapes: false, lenient);
            kind = SqlTokenKind.QuotedIdentifier;
        }
        else if (c == '$')
        {
            i = ScanDollar(sql, i, lenient, out kind);
        }
        else if (c == '?')
        {
            i++;
            kind = SqlTokenKind.Parameter;
        }
        else if (char.IsAsciiDigit(c) || (c == '.' && char.IsAsciiDigit(Peek(sql, i + 1))))
        {
            i = ScanNumber(sql, i);
            kind = SqlTokenKind.Number;
        }
        else if (c is 'u' or 'U' && Peek(sql, i + 1) == '&' && Peek(sql, i + 2) is '\'' or '"')
        {
            // U&'…' and U&"…": Unicode-escape forms; the escapes are not interpreted, only skipped over.
            var quote = sql[i + 2];
            i = SkipQuoted(sql, i + 2, quote, backslashEscapes: false, lenient);
            kind = quote == '"' ? SqlTokenKind.QuotedIdentifier : SqlTokenKind.String;
        }
        else if (IsIdentifierStart(c))
        {
            i++;
            // String prefixes: E'…' (backslash escapes), X'…', B'…', N'…'.
            if (Peek(sql, i) == '\'' && c is 'e' or 'E' or 'x' or 'X' or 'b' or 'B' or 'n' or 'N')
            {
                i = SkipQuoted(sql, i, '\'', backslashEscapes: c is 'e' or 'E', lenient);
                kind = SqlTokenKind.String;
            }
            else
            {
                while (i < sql.Length && IsIdentifierPart(sql[i])) i++;
                kind = SqlTokenKind.Word;
            }
        }
        else
        {
            i++;
            kind = c switch
            {
                '(' or '[' or '{' => SqlTokenKind.Open,
                ')' or ']' or '}' => SqlTokenKind.Close,
                ',' => SqlTokenKind.Comma,
                ';' => SqlTokenKind.Semicolon,
                '.' => SqlTokenKind.Dot,
                _ => SqlTokenKind.Operator,
            };
        }
        token = new SqlToken(kind, start, i - start);
        position = i;
        return true;
    }

    /// <summary>
    /// Splits a multi-statement string at semicolons outside literals and comments. Each piece runs from its
    /// first token to its last (comments around it dropped); empty pieces are skipped.
    /// </summary>
    /// <exception cref="SqlSyntaxException">In <see cref="SqlTokenizerMode.Strict"/> mode: an unterminated string, identifier or comment (42601).</exception>
    public static List<string> SplitStatements(string sql, SqlTokenizerMode mode = SqlTokenizerMode.Strict)
    {
        ArgumentNullException.ThrowIfNull(sql);
        var result = new List<string>();
        var first = -1;
        var last = -1;
        var position = 0;
        while (Next(sql, ref position, mode, out var t))
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

    private static bool IsIdentifierStart(char c) => char.IsAsciiLetter(c) || c == '_' || c > 127;

    private static bool IsIdentifierPart(char c) => char.IsAsciiLetterOrDigit(c) || c == '_' || c == '$' || c > 127;

    private static int SkipSpaceAndComments(string sql, int i, bool lenient)
    {
        while (i < sql.Length)
        {
            var c = sql[i];
            if (char.IsWhiteSpace(c))
                i++;
            else if (c == '-' && Peek(sql, i + 1) == '-')
                while (i < sql.Length && sql[i] != '\n') i++;
            else if (c == '/' && Peek(sql, i + 1) == '*')
                i = SkipBlockComment(sql, i, lenient);
            else
                break;
        }
        return i;
    }

    private static int SkipBlockComment(string sql, int i, bool lenient)
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
        return lenient ? sql.Length : throw new SqlSyntaxException("unterminated /* comment");
    }

    private static int SkipQuoted(string sql, int i, char quote, bool backslashEscapes, bool lenient)
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
        if (lenient) return sql.Length;
        var what = quote == '"' ? "quoted identifier" : "quoted string";
        throw new SqlSyntaxException($"unterminated {what} at or near position {open}");
    }

    /// <summary><c>$n</c> (positional parameter), <c>$tag$…$tag$</c> (string), <c>$name</c> (named parameter) or a lone <c>$</c>.</summary>
    private static int ScanDollar(string sql, int i, bool lenient, out SqlTokenKind kind)
    {
        var start = i;
        var j = i + 1;
        if (char.IsAsciiDigit(Peek(sql, j)))
        {
            while (char.IsAsciiDigit(Peek(sql, j))) j++;
            kind = SqlTokenKind.Parameter;
            return j;
        }
        // A tag is empty or an identifier without '$' (PostgreSQL's dolq_start / dolq_cont).
        if (j < sql.Length && IsIdentifierStart(sql[j]))
            while (j < sql.Length && sql[j] != '$' && IsIdentifierPart(sql[j])) j++;
        if (Peek(sql, j) != '$')
        {
            kind = j > i + 1 ? SqlTokenKind.Parameter : SqlTokenKind.Operator;
            return j > i + 1 ? j : i + 1;
        }
        var tag = sql.Substring(start, j - start + 1);
        var close = sql.IndexOf(tag, j + 1, StringComparison.Ordinal);
        kind = SqlTokenKind.String;
        if (close >= 0) return close + tag.Length;
        return lenient ? sql.Length : throw new SqlSyntaxException($"unterminated dollar-quoted string at or near position {start}");
    }

    /// <summary>
    /// Digits, dots, underscores and an exponent; identifier characters glued to a number stay in its token
    /// (PostgreSQL lexes <c>0x1F</c>, <c>1_000</c> and the "trailing junk" of <c>5s</c> as one lexeme).
    /// </summary>
    private static int ScanNumber(string sql, int i)
    {
        for (i++; i < sql.Length; i++)
        {
            var c = sql[i];
            if (char.IsAsciiLetterOrDigit(c) || c is '.' or '_') continue;
            if (c is '+' or '-' && sql[i - 1] is 'e' or 'E') continue;
            break;
        }
        return i;
    }
}

using System.Globalization;
using System.Text;

namespace TimeFusion.Silo.Protocol.Postgres.Sql;

/// <summary>
/// A small PostgreSQL lexer: enough to split a simple-query string into statements (respecting quotes,
/// E-strings, dollar quotes, quoted identifiers, line and nested block comments) and to read the few
/// statements the protocol layer handles itself (SET, SHOW, RESET, COPY, DISCARD, DEALLOCATE).
/// Unterminated quotes or comments run to the end of the text; the backend reports the syntax error.
/// </summary>
internal static class SqlScanner
{
    /// <summary>Splits <paramref name="sql"/> into statements (text without the terminating semicolon; empty ones dropped).</summary>
    public static List<string> SplitStatements(string sql)
    {
        var result = new List<string>();
        var pos = 0;
        var start = -1;
        var end = -1;
        while (Next(sql, ref pos, out var token))
        {
            if (token.Kind == SqlTokenKind.Semicolon)
            {
                if (start >= 0)
                {
                    result.Add(sql[start..end]);
                }
                start = -1;
                continue;
            }
            if (start < 0)
            {
                start = token.Start;
            }
            end = token.End;
        }
        if (start >= 0)
        {
            result.Add(sql[start..end]);
        }
        return result;
    }

    /// <summary>All tokens of one statement.</summary>
    public static List<SqlToken> Tokenize(string sql)
    {
        var tokens = new List<SqlToken>();
        var pos = 0;
        while (Next(sql, ref pos, out var token))
        {
            tokens.Add(token);
        }
        return tokens;
    }

    /// <summary>The next token after <paramref name="pos"/> (white space and comments skipped).</summary>
    public static bool Next(string s, ref int pos, out SqlToken token)
    {
        token = default;
        SkipSpaceAndComments(s, ref pos);
        if (pos >= s.Length)
        {
            return false;
        }
        var start = pos;
        var c = s[pos];
        if (c == ';')
        {
            pos++;
            token = new SqlToken(SqlTokenKind.Semicolon, start, pos);
            return true;
        }
        if (c == '\'')
        {
            ScanQuoted(s, ref pos, escapes: false);
            token = new SqlToken(SqlTokenKind.String, start, pos, false, start, pos - start);
            return true;
        }
        if ((c is 'e' or 'E') && pos + 1 < s.Length && s[pos + 1] == '\'')
        {
            pos++;
            ScanQuoted(s, ref pos, escapes: true);
            token = new SqlToken(SqlTokenKind.String, start, pos, true, start + 1, pos - start - 1);
            return true;
        }
        if ((c is 'b' or 'B' or 'x' or 'X' or 'n' or 'N') && pos + 1 < s.Length && s[pos + 1] == '\'')
        {
            pos++;
            ScanQuoted(s, ref pos, escapes: false);
            token = new SqlToken(SqlTokenKind.String, start, pos, false, start + 1, pos - start - 1);
            return true;
        }
        if ((c is 'u' or 'U') && pos + 2 < s.Length && s[pos + 1] == '&' && (s[pos + 2] == '\'' || s[pos + 2] == '"'))
        {
            pos += 2;
            if (s[pos] == '\'')
            {
                ScanQuoted(s, ref pos, escapes: false);
                token = new SqlToken(SqlTokenKind.String, start, pos, false, start + 2, pos - start - 2);
            }
            else
            {
                ScanQuotedIdentifier(s, ref pos);
                token = new SqlToken(SqlTokenKind.QuotedIdentifier, start, pos, false, start + 2, pos - start - 2);
            }
            return true;
        }
        if (c == '"')
        {
            ScanQuotedIdentifier(s, ref pos);
            token = new SqlToken(SqlTokenKind.QuotedIdentifier, start, pos, false, start, pos - start);
            return true;
        }
        if (c == '$')
        {
            if (pos + 1 < s.Length && char.IsAsciiDigit(s[pos + 1]))
            {
                pos++;
                while (pos < s.Length && char.IsAsciiDigit(s[pos]))
                {
                    pos++;
                }
                token = new SqlToken(SqlTokenKind.Parameter, start, pos);
                return true;
            }
            if (TryScanDollarQuote(s, ref pos, out var quoteStart, out var quoteLength))
            {
                token = new SqlToken(SqlTokenKind.String, start, pos, false, quoteStart, quoteLength);
                return true;
            }
            pos++;
            token = new SqlToken(SqlTokenKind.Punct, start, pos);
            return true;
        }
        if (IsIdentStart(c))
        {
            pos++;
            while (pos < s.Length && IsIdentPart(s[pos]))
            {
                pos++;
            }
            token = new SqlToken(SqlTokenKind.Word, start, pos);
            return true;
        }
        if (char.IsAsciiDigit(c) || (c == '.' && pos + 1 < s.Length && char.IsAsciiDigit(s[pos + 1])))
        {
            while (pos < s.Length && (char.IsAsciiLetterOrDigit(s[pos]) || s[pos] == '.' || s[pos] == '_'
                                      || ((s[pos] == '+' || s[pos] == '-') && (s[pos - 1] == 'e' || s[pos - 1] == 'E'))))
            {
                pos++;
            }
            token = new SqlToken(SqlTokenKind.Number, start, pos);
            return true;
        }
        pos++;
        token = new SqlToken(SqlTokenKind.Punct, start, pos);
        return true;
    }

    /// <summary>The text of a token as written.</summary>
    public static string Text(string s, SqlToken token) => s[token.Start..token.End];

    /// <summary>An identifier's name: unquoted folded to lower case, quoted taken literally.</summary>
    public static string Identifier(string s, SqlToken token) => token.Kind switch
    {
        SqlTokenKind.Word => s[token.Start..token.End].ToLowerInvariant(),
        SqlTokenKind.QuotedIdentifier => s.Substring(token.QuoteStart + 1, token.QuoteLength - 2).Replace("\"\"", "\""),
        _ => s[token.Start..token.End],
    };

    /// <summary>A string constant's value (quotes removed, escapes applied).</summary>
    public static string StringValue(string s, SqlToken token)
    {
        var raw = s.Substring(token.QuoteStart, token.QuoteLength);
        if (raw.StartsWith('$'))
        {
            var tagEnd = raw.IndexOf('$', 1);
            var tagLength = tagEnd + 1;
            return raw.Length >= 2 * tagLength ? raw[tagLength..^tagLength] : raw[tagLength..];
        }
        var body = raw.Length >= 2 && raw.EndsWith('\'') ? raw[1..^1] : raw[1..];
        if (!token.EscapeString)
        {
            return body.Replace("''", "'");
        }
        var sb = new StringBuilder(body.Length);
        for (var i = 0; i < body.Length; i++)
        {
            var c = body[i];
            if (c == '\'' && i + 1 < body.Length && body[i + 1] == '\'')
            {
                sb.Append('\'');
                i++;
                continue;
            }
            if (c != '\\' || i + 1 >= body.Length)
            {
                sb.Append(c);
                continue;
            }
            var n = body[++i];
            switch (n)
            {
                case 'b': sb.Append('\b'); break;
                case 'f': sb.Append('\f'); break;
                case 'n': sb.Append('\n'); break;
                case 'r': sb.Append('\r'); break;
                case 't': sb.Append('\t'); break;
                case >= '0' and <= '7':
                {
                    var value = 0;
                    var digits = 0;
                    while (digits < 3 && i < body.Length && body[i] is >= '0' and <= '7')
                    {
                        value = value * 8 + (body[i] - '0');
                        i++;
                        digits++;
                    }
                    i--;
                    sb.Append((char)value);
                    break;
                }
                case 'x':
                {
                    var value = 0;
                    var digits = 0;
                    while (digits < 2 && i + 1 < body.Length && char.IsAsciiHexDigit(body[i + 1]))
                    {
                        value = value * 16 + int.Parse(body.AsSpan(i + 1, 1), NumberStyles.HexNumber, CultureInfo.InvariantCulture);
                        i++;
                        digits++;
                    }
                    sb.Append((char)value);
                    break;
                }
                default:
                    sb.Append(n);
                    break;
            }
        }
        return sb.ToString();
    }

    private static void SkipSpaceAndComments(string s, ref int pos)
    {
        while (pos < s.Length)
        {
            var c = s[pos];
            if (char.IsWhiteSpace(c))
            {
                pos++;
            }
            else if (c == '-' && pos + 1 < s.Length && s[pos + 1] == '-')
            {
                while (pos < s.Length && s[pos] != '\n')
                {
                    pos++;
                }
            }
            else if (c == '/' && pos + 1 < s.Length && s[pos + 1] == '*')
            {
                var depth = 1;
                pos += 2;
                while (pos < s.Length && depth > 0)
                {
                    if (s[pos] == '/' && pos + 1 < s.Length && s[pos + 1] == '*')
                    {
                        depth++;
                        pos += 2;
                    }
                    else if (s[pos] == '*' && pos + 1 < s.Length && s[pos + 1] == '/')
                    {
                        depth--;
                        pos += 2;
                    }
                    else
                    {
                        pos++;
                    }
                }
            }
            else
            {
                return;
            }
        }
    }

    private static void ScanQuoted(string s, ref int pos, bool escapes)
    {
        pos++; // opening quote
        while (pos < s.Length)
        {
            var c = s[pos];
            if (escapes && c == '\\')
            {
                pos += 2;
                continue;
            }
            if (c == '\'')
            {
                if (pos + 1 < s.Length && s[pos + 1] == '\'')
                {
                    pos += 2;
                    continue;
                }
                pos++;
                return;
            }
            pos++;
        }
        pos = s.Length;
    }

    private static void ScanQuotedIdentifier(string s, ref int pos)
    {
        pos++;
        while (pos < s.Length)
        {
            if (s[pos] == '"')
            {
                if (pos + 1 < s.Length && s[pos + 1] == '"')
                {
                    pos += 2;
                    continue;
                }
                pos++;
                return;
            }
            pos++;
        }
    }

    private static bool TryScanDollarQuote(string s, ref int pos, out int quoteStart, out int quoteLength)
    {
        quoteStart = pos;
        quoteLength = 0;
        var tagEnd = pos + 1;
        while (tagEnd < s.Length && s[tagEnd] != '$')
        {
            if (!(tagEnd == pos + 1 ? IsIdentStart(s[tagEnd]) : IsIdentPart(s[tagEnd])) || s[tagEnd] == '$')
            {
                return false;
            }
            tagEnd++;
        }
        if (tagEnd >= s.Length)
        {
            return false;
        }
        var tag = s.Substring(pos, tagEnd - pos + 1);
        var close = s.IndexOf(tag, tagEnd + 1, StringComparison.Ordinal);
        var end = close < 0 ? s.Length : close + tag.Length;
        quoteLength = end - pos;
        pos = end;
        return true;
    }

    private static bool IsIdentStart(char c) => char.IsAsciiLetter(c) || c == '_' || c > 127;

    private static bool IsIdentPart(char c) => char.IsAsciiLetterOrDigit(c) || c == '_' || c == '$' || c > 127;
}

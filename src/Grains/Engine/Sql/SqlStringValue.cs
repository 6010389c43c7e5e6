using System.Globalization;
using System.Text;

namespace TimeFusion.Sql;

/// <summary>Reads the value of a string token: quotes and prefixes removed, <c>E'…'</c> backslash escapes applied.</summary>
internal static class SqlStringValue
{
    public static string Of(string sql, SqlToken token)
    {
        var c = sql[token.Start];
        var prefix = c is '\'' or '$' ? 0 : c is 'u' or 'U' ? 2 : 1;
        var raw = sql.Substring(token.Start + prefix, token.Length - prefix);
        if (raw.StartsWith('$'))
        {
            var tagLength = raw.IndexOf('$', 1) + 1;
            // An unterminated dollar quote (lenient mode) has no closing tag.
            return raw.Length >= 2 * tagLength ? raw[tagLength..^tagLength] : raw[tagLength..];
        }
        var body = raw.Length >= 2 && raw.EndsWith('\'') ? raw[1..^1] : raw[1..];
        return c is 'e' or 'E' ? Unescape(body) : body.Replace("''", "'");
    }

    private static string Unescape(string body)
    {
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
}

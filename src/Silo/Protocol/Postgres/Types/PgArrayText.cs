using TimeFusion.Wire;
namespace TimeFusion.Silo.Protocol.Postgres.Types;

/// <summary>
/// Parses one-dimensional PostgreSQL array text (<c>{a,"b c",NULL}</c>, optionally with a <c>[1:3]=</c>
/// bounds decoration) into element texts. Multi-dimensional arrays are refused.
/// </summary>
internal static class PgArrayText
{
    /// <summary>The elements of array text <paramref name="text"/> as strings (null for NULL).</summary>
    /// <exception cref="PostgresErrorException">22P02 malformed array literal or multi-dimensional array.</exception>
    public static List<string?> ParseStrings(string text)
    {
        var values = new List<string?>();
        Parse(System.Text.Encoding.UTF8.GetBytes(text), e => values.Add(e is null ? null : System.Text.Encoding.UTF8.GetString(e)));
        return values;
    }

    /// <summary>Calls <paramref name="onElement"/> with each element's unescaped UTF-8 text, or null for NULL.</summary>
    /// <exception cref="PostgresErrorException">22P02 malformed array literal, 0A000 multi-dimensional.</exception>
    public static void Parse(ReadOnlySpan<byte> text, Action<byte[]?> onElement)
    {
        var pos = 0;
        SkipSpaces(text, ref pos);
        if (pos < text.Length && text[pos] == '[')
        {
            var eq = text[pos..].IndexOf((byte)'=');
            if (eq < 0)
            {
                throw Malformed("missing \"=\" after array dimensions");
            }
            if (text.Slice(pos, eq).IndexOf("]["u8) >= 0)
            {
                throw MultiDimensional();
            }
            pos += eq + 1;
            SkipSpaces(text, ref pos);
        }
        if (pos >= text.Length || text[pos] != '{')
        {
            throw Malformed("array value must start with \"{\"");
        }
        pos++;
        SkipSpaces(text, ref pos);
        if (pos < text.Length && text[pos] == '}')
        {
            pos++;
            ExpectEnd(text, pos);
            return;
        }
        var element = new List<byte>();
        while (true)
        {
            SkipSpaces(text, ref pos);
            if (pos >= text.Length)
            {
                throw Malformed("unexpected end of input");
            }
            element.Clear();
            if (text[pos] == '{')
            {
                throw MultiDimensional();
            }
            if (text[pos] == '"')
            {
                pos++;
                while (true)
                {
                    if (pos >= text.Length)
                    {
                        throw Malformed("unterminated quoted element");
                    }
                    var b = text[pos++];
                    if (b == '"')
                    {
                        break;
                    }
                    if (b == '\\')
                    {
                        if (pos >= text.Length)
                        {
                            throw Malformed("unexpected end of input");
                        }
                        b = text[pos++];
                    }
                    element.Add(b);
                }
                onElement(element.ToArray());
                SkipSpaces(text, ref pos);
            }
            else
            {
                var quotedAny = false;
                while (pos < text.Length && text[pos] != ',' && text[pos] != '}')
                {
                    var b = text[pos++];
                    if (b == '\\')
                    {
                        if (pos >= text.Length)
                        {
                            throw Malformed("unexpected end of input");
                        }
                        b = text[pos++];
                        quotedAny = true;
                    }
                    else if (b == '"' || b == '{')
                    {
                        throw Malformed("unexpected character in unquoted element");
                    }
                    element.Add(b);
                }
                // Unquoted elements lose surrounding white space; an unquoted NULL is SQL NULL.
                var trimmed = TrimSpaces(element);
                if (trimmed.Length == 0)
                {
                    throw Malformed("empty unquoted element");
                }
                if (!quotedAny && trimmed.Length == 4 && System.Text.Ascii.EqualsIgnoreCase(trimmed, "NULL"u8))
                {
                    onElement(null);
                }
                else
                {
                    onElement(trimmed);
                }
            }
            if (pos >= text.Length)
            {
                throw Malformed("unexpected end of input");
            }
            if (text[pos] == ',')
            {
                pos++;
                continue;
            }
            if (text[pos] == '}')
            {
                pos++;
                ExpectEnd(text, pos);
                return;
            }
            throw Malformed("unexpected character after element");
        }
    }

    private static byte[] TrimSpaces(List<byte> bytes)
    {
        var start = 0;
        var end = bytes.Count;
        while (start < end && IsSpace(bytes[start]))
        {
            start++;
        }
        while (end > start && IsSpace(bytes[end - 1]))
        {
            end--;
        }
        return bytes.GetRange(start, end - start).ToArray();
    }

    private static void ExpectEnd(ReadOnlySpan<byte> text, int pos)
    {
        SkipSpaces(text, ref pos);
        if (pos != text.Length)
        {
            throw Malformed("junk after closing right brace");
        }
    }

    private static void SkipSpaces(ReadOnlySpan<byte> text, ref int pos)
    {
        while (pos < text.Length && IsSpace(text[pos]))
        {
            pos++;
        }
    }

    private static bool IsSpace(byte b) => b is (byte)' ' or (byte)'\t' or (byte)'\n' or (byte)'\r' or (byte)'\v' or (byte)'\f';

    private static PostgresErrorException Malformed(string detail) =>
        new(SqlState.InvalidTextRepresentation, "malformed array literal") { Detail = detail };

    // 22P02 as a malformed literal: a nested array can never fill a one-dimensional TimeFusion list.
    private static PostgresErrorException MultiDimensional() =>
        new(SqlState.InvalidTextRepresentation, "malformed array literal") { Detail = "multi-dimensional arrays are not supported" };
}

using System.Text;

namespace TimeFusion.Silo.Security;

/// <summary>
/// Client-supplied text (user names, application names, messages quoting them) made safe for a log line: control
/// characters are escaped (<c>\n</c>, <c>\r</c>, <c>\t</c>, <c>\u001b</c>…) so no client can forge a line, and the text is cut
/// to a bounded length so none can flood the log.
/// </summary>
public static class LogText
{
    /// <summary>The most characters of client text a log line carries.</summary>
    public const int MaxLength = 200;

    /// <summary>The escaped, bounded form of <paramref name="text"/> (null stays null).</summary>
    public static string? Escape(string? text)
    {
        if (text is null) return null;
        var cut = text.Length > MaxLength;
        var span = cut ? text.AsSpan(0, MaxLength) : text.AsSpan();
        if (!cut && !NeedsEscaping(span)) return text;
        var sb = new StringBuilder(span.Length + 16);
        foreach (var c in span)
        {
            switch (c)
            {
                case '\n': sb.Append("\\n"); break;
                case '\r': sb.Append("\\r"); break;
                case '\t': sb.Append("\\t"); break;
                case '\\': sb.Append("\\\\"); break;
                default:
                    if (char.IsControl(c) || c is '\u2028' or '\u2029' or '\u0085') sb.Append("\\u").Append(((int)c).ToString("x4"));
                    else sb.Append(c);
                    break;
            }
        }
        if (cut) sb.Append("…(").Append(text.Length).Append(" chars)");
        return sb.ToString();
    }

    private static bool NeedsEscaping(ReadOnlySpan<char> text)
    {
        foreach (var c in text)
            if (char.IsControl(c) || c is '\\' or '\u2028' or '\u2029' or '\u0085') return true;
        return false;
    }
}

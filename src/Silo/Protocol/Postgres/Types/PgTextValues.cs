using System.Buffers;
using System.Globalization;
using System.Text;

namespace TimeFusion.Silo.Protocol.Postgres.Types;

/// <summary>PostgreSQL text input forms of scalar types (UTF-8 bytes in, values out), shared by parameters and COPY.</summary>
internal static class PgTextValues
{
    public static bool TryParseBool(ReadOnlySpan<byte> text, out bool value)
    {
        text = text.Trim(" \t\r\n"u8);
        value = false;
        if (text.IsEmpty || text.Length > 5)
        {
            return false;
        }
        Span<byte> lower = stackalloc byte[text.Length];
        Ascii.ToLower(text, lower, out _);
        if (lower.SequenceEqual("t"u8) || lower.SequenceEqual("true"u8) || lower.SequenceEqual("y"u8) || lower.SequenceEqual("yes"u8)
            || lower.SequenceEqual("on"u8) || lower.SequenceEqual("1"u8))
        {
            value = true;
            return true;
        }
        return lower.SequenceEqual("f"u8) || lower.SequenceEqual("false"u8) || lower.SequenceEqual("n"u8) || lower.SequenceEqual("no"u8)
            || lower.SequenceEqual("off"u8) || lower.SequenceEqual("0"u8);
    }

    public static bool TryParseInt64(ReadOnlySpan<byte> text, out long value) =>
        long.TryParse(text, NumberStyles.AllowLeadingSign | NumberStyles.AllowLeadingWhite | NumberStyles.AllowTrailingWhite, CultureInfo.InvariantCulture, out value);

    public static bool TryParseDouble(ReadOnlySpan<byte> text, out double value)
    {
        if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out value))
        {
            return true;
        }
        var t = text.Trim(" "u8);
        if (Ascii.EqualsIgnoreCase(t, "inf"u8) || Ascii.EqualsIgnoreCase(t, "+inf"u8))
        {
            value = double.PositiveInfinity;
            return true;
        }
        if (Ascii.EqualsIgnoreCase(t, "-inf"u8))
        {
            value = double.NegativeInfinity;
            return true;
        }
        return false;
    }

    /// <summary>Parses <c>bytea</c> input: hex (<c>\x0a1b</c>) or the escape format (<c>\\</c>, <c>\nnn</c> octal).</summary>
    public static bool TryParseBytea(ReadOnlySpan<byte> text, IBufferWriter<byte> output)
    {
        if (text.Length >= 2 && text[0] == '\\' && (text[1] == 'x' || text[1] == 'X'))
        {
            var span = output.GetSpan(Math.Max(1, (text.Length - 2) / 2));
            var n = 0;
            for (var i = 2; i < text.Length;)
            {
                if (text[i] is (byte)' ' or (byte)'\t' or (byte)'\n' or (byte)'\r')
                {
                    i++;
                    continue;
                }
                if (i + 1 >= text.Length)
                {
                    return false;
                }
                var hi = HexValue(text[i]);
                var lo = HexValue(text[i + 1]);
                if (hi < 0 || lo < 0)
                {
                    return false;
                }
                span[n++] = (byte)(hi * 16 + lo);
                i += 2;
            }
            output.Advance(n);
            return true;
        }
        var dest = output.GetSpan(Math.Max(1, text.Length));
        var count = 0;
        for (var i = 0; i < text.Length;)
        {
            if (text[i] != '\\')
            {
                dest[count++] = text[i++];
                continue;
            }
            if (i + 1 < text.Length && text[i + 1] == '\\')
            {
                dest[count++] = (byte)'\\';
                i += 2;
                continue;
            }
            if (i + 3 < text.Length + 0 && IsOctal(text[i + 1]) && IsOctal(text[i + 2]) && IsOctal(text[i + 3]) && text[i + 1] <= '3')
            {
                dest[count++] = (byte)(((text[i + 1] - '0') << 6) | ((text[i + 2] - '0') << 3) | (text[i + 3] - '0'));
                i += 4;
                continue;
            }
            return false;
        }
        output.Advance(count);
        return true;
    }

    public static bool TryParseUuid(ReadOnlySpan<byte> text, Span<byte> rfcBytes)
    {
        Span<char> chars = stackalloc char[Math.Min(text.Length, 64)];
        if (text.Length > 64)
        {
            return false;
        }
        for (var i = 0; i < text.Length; i++)
        {
            chars[i] = (char)text[i];
        }
        if (!Guid.TryParse(chars.Trim(), out var guid))
        {
            return false;
        }
        return guid.TryWriteBytes(rfcBytes, bigEndian: true, out _);
    }

    /// <summary>
    /// Parses interval text into months, days and microseconds: <c>HH:MM:SS[.f]</c>, unit lists such as
    /// <c>1 day 2 hours</c> or <c>3 mons -4 days 05:00:00</c>, an optional <c>@</c> prefix and <c>ago</c> suffix.
    /// </summary>
    public static bool TryParseInterval(ReadOnlySpan<byte> text, out long months, out long days, out long micros)
    {
        months = 0;
        days = 0;
        micros = 0;
        if (text.Length > 256)
        {
            return false;
        }
        var s = Encoding.ASCII.GetString(text).Trim();
        if (s.StartsWith('@'))
        {
            s = s[1..].Trim();
        }
        var ago = false;
        if (s.EndsWith(" ago", StringComparison.OrdinalIgnoreCase))
        {
            ago = true;
            s = s[..^4].Trim();
        }
        if (s.Length == 0)
        {
            return false;
        }
        var tokens = s.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
        for (var i = 0; i < tokens.Length; i++)
        {
            var token = tokens[i];
            if (token.Contains(':'))
            {
                if (!TryParseClock(token, out var clock))
                {
                    return false;
                }
                micros += clock;
                continue;
            }
            // "<number> <unit>" or "<number><unit>" (e.g. 5s, 100ms).
            var split = 0;
            while (split < token.Length && (char.IsAsciiDigit(token[split]) || token[split] is '.' or '-' or '+'))
            {
                split++;
            }
            if (split == 0)
            {
                return false;
            }
            var numberText = token[..split];
            string unit;
            if (split < token.Length)
            {
                unit = token[split..];
            }
            else if (i + 1 < tokens.Length)
            {
                unit = tokens[++i];
            }
            else
            {
                unit = "second"; // PostgreSQL reads a bare number as seconds
            }
            if (!double.TryParse(numberText, NumberStyles.Float, CultureInfo.InvariantCulture, out var number))
            {
                return false;
            }
            switch (unit.ToLowerInvariant().TrimEnd(','))
            {
                case "us" or "usec" or "usecs" or "microsecond" or "microseconds":
                    micros += (long)Math.Round(number);
                    break;
                case "ms" or "msec" or "msecs" or "millisecond" or "milliseconds":
                    micros += (long)Math.Round(number * 1000);
                    break;
                case "s" or "sec" or "secs" or "second" or "seconds":
                    micros += (long)Math.Round(number * PgDateTime.MicrosPerSecond);
                    break;
                case "m" or "min" or "mins" or "minute" or "minutes":
                    micros += (long)Math.Round(number * PgDateTime.MicrosPerMinute);
                    break;
                case "h" or "hr" or "hrs" or "hour" or "hours":
                    micros += (long)Math.Round(number * PgDateTime.MicrosPerHour);
                    break;
                case "d" or "day" or "days":
                    days += (long)number;
                    micros += (long)Math.Round((number - Math.Truncate(number)) * PgDateTime.MicrosPerDay);
                    break;
                case "w" or "week" or "weeks":
                    days += (long)Math.Round(number * 7);
                    break;
                case "mon" or "mons" or "month" or "months":
                    months += (long)number;
                    break;
                case "y" or "year" or "years":
                    months += (long)Math.Round(number * 12);
                    break;
                default:
                    return false;
            }
        }
        if (ago)
        {
            months = -months;
            days = -days;
            micros = -micros;
        }
        return true;
    }

    private static bool TryParseClock(string token, out long micros)
    {
        micros = 0;
        var negative = token.StartsWith('-');
        if (negative || token.StartsWith('+'))
        {
            token = token[1..];
        }
        var parts = token.Split(':');
        if (parts.Length is < 2 or > 3)
        {
            return false;
        }
        if (!long.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var h)
            || !long.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var m))
        {
            return false;
        }
        double s = 0;
        if (parts.Length == 3 && !double.TryParse(parts[2], NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out s))
        {
            return false;
        }
        micros = h * PgDateTime.MicrosPerHour + m * PgDateTime.MicrosPerMinute + (long)Math.Round(s * PgDateTime.MicrosPerSecond);
        if (negative)
        {
            micros = -micros;
        }
        return true;
    }

    private static bool IsOctal(byte b) => b >= '0' && b <= '7';

    private static int HexValue(byte b) => b switch
    {
        >= (byte)'0' and <= (byte)'9' => b - '0',
        >= (byte)'a' and <= (byte)'f' => b - 'a' + 10,
        >= (byte)'A' and <= (byte)'F' => b - 'A' + 10,
        _ => -1,
    };
}

using System.Buffers.Text;

namespace TimeFusion.Silo.Protocol.Postgres.Types;

/// <summary>
/// PostgreSQL date/time text formats (ISO DateStyle) and epochs, on plain integers: microseconds and days
/// since the Unix epoch, proleptic Gregorian calendar, years before 1 shown as BC as PostgreSQL does.
/// Infinity is <see cref="long.MaxValue"/> / <see cref="long.MinValue"/> (and ±<see cref="int.MaxValue"/> for dates).
/// </summary>
internal static class PgDateTime
{
    public const long MicrosPerSecond = 1_000_000;
    public const long MicrosPerMinute = 60 * MicrosPerSecond;
    public const long MicrosPerHour = 60 * MicrosPerMinute;
    public const long MicrosPerDay = 24 * MicrosPerHour;

    /// <summary>Days from 1970-01-01 to 2000-01-01 (the PostgreSQL epoch).</summary>
    public const int PgEpochDays = 10957;

    /// <summary>Microseconds from 1970-01-01 to 2000-01-01.</summary>
    public const long PgEpochMicros = PgEpochDays * MicrosPerDay;

    // DuckDB writes ±infinity as ±long.MaxValue; PostgreSQL as long.MaxValue / long.MinValue.
    public static bool IsPositiveInfinity(long micros) => micros == long.MaxValue;

    public static bool IsNegativeInfinity(long micros) => micros == long.MinValue || micros == -long.MaxValue;

    public static bool IsPositiveInfinityDays(int days) => days == int.MaxValue;

    public static bool IsNegativeInfinityDays(int days) => days == int.MinValue || days == -int.MaxValue;

    /// <summary>Unix-epoch microseconds to PostgreSQL binary (microseconds since 2000), infinities preserved.</summary>
    public static long ToPgMicros(long unixMicros)
    {
        if (IsPositiveInfinity(unixMicros))
        {
            return long.MaxValue;
        }
        if (IsNegativeInfinity(unixMicros))
        {
            return long.MinValue;
        }
        return unixMicros - PgEpochMicros;
    }

    /// <summary>PostgreSQL binary timestamp to Unix-epoch microseconds (infinities as ±long.MaxValue/MinValue).</summary>
    public static long FromPgMicros(long pgMicros)
    {
        if (pgMicros == long.MaxValue || pgMicros == long.MinValue)
        {
            return pgMicros;
        }
        return checked(pgMicros + PgEpochMicros);
    }

    public static int ToPgDays(int unixDays)
    {
        if (IsPositiveInfinityDays(unixDays))
        {
            return int.MaxValue;
        }
        if (IsNegativeInfinityDays(unixDays))
        {
            return int.MinValue;
        }
        return unixDays - PgEpochDays;
    }

    public static int FromPgDays(int pgDays)
    {
        if (pgDays == int.MaxValue || pgDays == int.MinValue)
        {
            return pgDays;
        }
        return checked(pgDays + PgEpochDays);
    }

    /// <summary>Civil date from days since 1970-01-01 (H. Hinnant's algorithm; any range).</summary>
    public static (long Year, int Month, int Day) CivilFromDays(long days)
    {
        days += 719468;
        var era = (days >= 0 ? days : days - 146096) / 146097;
        var doe = days - era * 146097;
        var yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
        var y = yoe + era * 400;
        var doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        var mp = (5 * doy + 2) / 153;
        var d = (int)(doy - (153 * mp + 2) / 5 + 1);
        var m = (int)(mp < 10 ? mp + 3 : mp - 9);
        return (m <= 2 ? y + 1 : y, m, d);
    }

    /// <summary>Days since 1970-01-01 of a civil date (proleptic Gregorian, astronomical year numbering).</summary>
    public static long DaysFromCivil(long year, int month, int day)
    {
        year -= month <= 2 ? 1 : 0;
        var era = (year >= 0 ? year : year - 399) / 400;
        var yoe = year - era * 400;
        var doy = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1;
        var doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        return era * 146097 + doe - 719468;
    }

    public static bool IsValidDate(long year, int month, int day)
    {
        if (month < 1 || month > 12 || day < 1)
        {
            return false;
        }
        if (day <= 28)
        {
            return true;
        }
        if (month == 2)
        {
            var leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
            return day <= (leap ? 29 : 28);
        }
        // A static table, not an array literal: this runs for every timestamp COPY parses.
        return day <= DaysInMonth[month - 1];
    }

    private static ReadOnlySpan<byte> DaysInMonth => [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

    /// <summary>Writes <c>YYYY-MM-DD</c> (without the BC suffix; returns whether it is BC).</summary>
    private static bool WriteDatePart(Span<byte> dest, ref int pos, long days)
    {
        var (year, month, day) = CivilFromDays(days);
        var bc = year <= 0;
        var shown = bc ? 1 - year : year;
        WritePadded(dest, ref pos, shown, 4);
        dest[pos++] = (byte)'-';
        WritePadded(dest, ref pos, month, 2);
        dest[pos++] = (byte)'-';
        WritePadded(dest, ref pos, day, 2);
        return bc;
    }

    /// <summary>Writes <c>HH:MM:SS[.ffffff]</c> (trailing zeros of the fraction trimmed); hours may exceed 23.</summary>
    public static void WriteTimeOfDay(Span<byte> dest, ref int pos, long micros)
    {
        var hours = micros / MicrosPerHour;
        micros -= hours * MicrosPerHour;
        var minutes = micros / MicrosPerMinute;
        micros -= minutes * MicrosPerMinute;
        var seconds = micros / MicrosPerSecond;
        var fraction = micros - seconds * MicrosPerSecond;
        WritePadded(dest, ref pos, hours, 2);
        dest[pos++] = (byte)':';
        WritePadded(dest, ref pos, minutes, 2);
        dest[pos++] = (byte)':';
        WritePadded(dest, ref pos, seconds, 2);
        if (fraction != 0)
        {
            dest[pos++] = (byte)'.';
            var digits = 6;
            while (fraction % 10 == 0)
            {
                fraction /= 10;
                digits--;
            }
            WritePadded(dest, ref pos, fraction, digits);
        }
    }

    /// <summary>Max bytes a timestamp text needs.</summary>
    public const int MaxTimestampText = 48;

    /// <summary>Writes a timestamp (Unix micros) as PostgreSQL ISO text; <paramref name="offsetSeconds"/> null for timestamp without time zone.</summary>
    public static int FormatTimestamp(Span<byte> dest, long unixMicros, int? offsetSeconds)
    {
        if (IsPositiveInfinity(unixMicros))
        {
            return Ascii(dest, "infinity");
        }
        if (IsNegativeInfinity(unixMicros))
        {
            return Ascii(dest, "-infinity");
        }
        var local = unixMicros + (offsetSeconds ?? 0) * MicrosPerSecond;
        var days = FloorDiv(local, MicrosPerDay);
        var timeOfDay = local - days * MicrosPerDay;
        var pos = 0;
        var bc = WriteDatePart(dest, ref pos, days);
        dest[pos++] = (byte)' ';
        WriteTimeOfDay(dest, ref pos, timeOfDay);
        if (offsetSeconds is { } offset)
        {
            WriteOffset(dest, ref pos, offset);
        }
        if (bc)
        {
            pos += Ascii(dest[pos..], " BC");
        }
        return pos;
    }

    /// <summary>Writes a date (days since the Unix epoch) as ISO text.</summary>
    public static int FormatDate(Span<byte> dest, int unixDays)
    {
        if (IsPositiveInfinityDays(unixDays))
        {
            return Ascii(dest, "infinity");
        }
        if (IsNegativeInfinityDays(unixDays))
        {
            return Ascii(dest, "-infinity");
        }
        var pos = 0;
        if (WriteDatePart(dest, ref pos, unixDays))
        {
            pos += Ascii(dest[pos..], " BC");
        }
        return pos;
    }

    /// <summary>Writes a time of day (microseconds since midnight).</summary>
    public static int FormatTime(Span<byte> dest, long micros)
    {
        var pos = 0;
        WriteTimeOfDay(dest, ref pos, micros);
        return pos;
    }

    /// <summary>Writes an interval in the <c>postgres</c> IntervalStyle (e.g. <c>1 year 2 mons -3 days +04:05:06.5</c>).</summary>
    public static int FormatInterval(Span<byte> dest, long months, long days, long micros)
    {
        var pos = 0;
        var isBefore = false;
        var isZero = true;
        var years = months / 12;
        var mons = months % 12;
        AddPart(dest, ref pos, years, "year", ref isBefore, ref isZero);
        AddPart(dest, ref pos, mons, "mon", ref isBefore, ref isZero);
        AddPart(dest, ref pos, days, "day", ref isBefore, ref isZero);
        if (micros != 0 || isZero)
        {
            if (!isZero)
            {
                dest[pos++] = (byte)' ';
            }
            if (micros < 0)
            {
                dest[pos++] = (byte)'-';
            }
            else if (isBefore)
            {
                dest[pos++] = (byte)'+';
            }
            // |long.MinValue| does not fit; clamp (an interval that large is not meaningful).
            var magnitude = micros == long.MinValue ? long.MaxValue : Math.Abs(micros);
            WriteTimeOfDay(dest, ref pos, magnitude);
        }
        return pos;
    }

    private static void AddPart(Span<byte> dest, ref int pos, long value, string unit, ref bool isBefore, ref bool isZero)
    {
        if (value == 0)
        {
            return;
        }
        if (!isZero)
        {
            dest[pos++] = (byte)' ';
        }
        if (isBefore && value > 0)
        {
            dest[pos++] = (byte)'+';
        }
        Utf8Formatter.TryFormat(value, dest[pos..], out var n);
        pos += n;
        dest[pos++] = (byte)' ';
        pos += Ascii(dest[pos..], unit);
        if (value != 1)
        {
            dest[pos++] = (byte)'s';
        }
        isBefore = value < 0;
        isZero = false;
    }

    /// <summary>Writes a UTC offset as PostgreSQL does: <c>+HH</c>, <c>+HH:MM</c> or <c>+HH:MM:SS</c>.</summary>
    private static void WriteOffset(Span<byte> dest, ref int pos, int offsetSeconds)
    {
        dest[pos++] = offsetSeconds < 0 ? (byte)'-' : (byte)'+';
        var abs = Math.Abs(offsetSeconds);
        WritePadded(dest, ref pos, abs / 3600, 2);
        var minutes = abs / 60 % 60;
        var seconds = abs % 60;
        if (minutes != 0 || seconds != 0)
        {
            dest[pos++] = (byte)':';
            WritePadded(dest, ref pos, minutes, 2);
        }
        if (seconds != 0)
        {
            dest[pos++] = (byte)':';
            WritePadded(dest, ref pos, seconds, 2);
        }
    }

    public static long FloorDiv(long a, long b)
    {
        var q = a / b;
        if ((a % b != 0) && ((a < 0) != (b < 0)))
        {
            q--;
        }
        return q;
    }

    private static void WritePadded(Span<byte> dest, ref int pos, long value, int width)
    {
        Span<byte> tmp = stackalloc byte[20];
        Utf8Formatter.TryFormat(value, tmp, out var n);
        for (var i = n; i < width; i++)
        {
            dest[pos++] = (byte)'0';
        }
        tmp[..n].CopyTo(dest[pos..]);
        pos += n;
    }

    private static int Ascii(Span<byte> dest, string s)
    {
        for (var i = 0; i < s.Length; i++)
        {
            dest[i] = (byte)s[i];
        }
        return s.Length;
    }
}

using System.Globalization;

namespace TimeFusion.Delta;

/// <summary>Timestamp text forms of the Delta log (stats and partition values), converted without overflow.</summary>
public static class DeltaTimestamps
{
    private static readonly long MinMicros = (DateTime.MinValue.Ticks - DateTime.UnixEpoch.Ticks) / TimeSpan.TicksPerMicrosecond;
    private static readonly long MaxMicros = (DateTime.MaxValue.Ticks - DateTime.UnixEpoch.Ticks) / TimeSpan.TicksPerMicrosecond;

    /// <summary>Formats microseconds since the Unix epoch as <c>yyyy-MM-ddTHH:mm:ss.ffffffZ</c>.</summary>
    public static string FormatMicros(long micros) =>
        ToDateTime(micros).ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture);

    /// <summary>The UTC <see cref="DateTime"/> of microseconds since the Unix epoch.</summary>
    public static DateTime ToDateTime(long micros)
    {
        if (micros < MinMicros || micros > MaxMicros)
            throw new ArgumentOutOfRangeException(nameof(micros), micros, "timestamp outside years 0001–9999");
        return new DateTime(DateTime.UnixEpoch.Ticks + micros * TimeSpan.TicksPerMicrosecond, DateTimeKind.Utc);
    }

    /// <summary>Microseconds since the Unix epoch of a UTC instant (sub-microsecond ticks round down).</summary>
    public static long ToMicros(DateTimeOffset instant)
    {
        var (q, r) = Math.DivRem(instant.UtcTicks - DateTime.UnixEpoch.Ticks, TimeSpan.TicksPerMicrosecond);
        return r < 0 ? q - 1 : q;
    }

    /// <summary>
    /// Parses an ISO-8601 timestamp (<c>2024-01-02T03:04:05.123456Z</c>, an offset, or no zone meaning UTC; a space
    /// instead of 'T' is accepted) into microseconds since the Unix epoch. Years up to 9999 work without overflow.
    /// </summary>
    public static bool TryParseMicros(string text, out long micros)
    {
        micros = 0;
        if (string.IsNullOrEmpty(text)) return false;
        if (!DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AllowWhiteSpaces, out var dto))
            return false;
        micros = ToMicros(dto);
        return true;
    }
}

namespace TimeFusion.Tables;

/// <summary>
/// An inclusive range of <c>timestamp</c> values in microseconds since the Unix epoch (UTC) that a table
/// reference can reach; a null bound is open. Used to prune date partitions and files; it may be wider than the
/// query's real range, never narrower.
/// </summary>
/// <param name="MinMicros">Smallest reachable timestamp, or null.</param>
/// <param name="MaxMicros">Largest reachable timestamp, or null.</param>
public readonly record struct TimeRange(long? MinMicros, long? MaxMicros)
{
    private const long MicrosPerDay = 86_400_000_000L;

    /// <summary>The unbounded range.</summary>
    public static TimeRange All => default;

    /// <summary>Whether no timestamp can qualify (contradictory bounds).</summary>
    public bool IsEmpty => MinMicros is { } lo && MaxMicros is { } hi && lo > hi;

    /// <summary>Whether neither bound is set.</summary>
    public bool IsUnbounded => MinMicros is null && MaxMicros is null;

    /// <summary>The UTC date of <see cref="MinMicros"/> (the first date partition to read), or null.</summary>
    public DateOnly? FromDate => MinMicros is { } v ? DateOf(v) : null;

    /// <summary>The UTC date of <see cref="MaxMicros"/> (the last date partition to read), or null.</summary>
    public DateOnly? ToDate => MaxMicros is { } v ? DateOf(v) : null;

    /// <summary>The range both this and <paramref name="other"/> allow.</summary>
    public TimeRange Intersect(TimeRange other) => new(
        MinMicros is null ? other.MinMicros : other.MinMicros is null ? MinMicros : Math.Max(MinMicros.Value, other.MinMicros.Value),
        MaxMicros is null ? other.MaxMicros : other.MaxMicros is null ? MaxMicros : Math.Min(MaxMicros.Value, other.MaxMicros.Value));

    private static readonly int EpochDayNumber = DateOnly.FromDateTime(DateTime.UnixEpoch).DayNumber;

    private static DateOnly DateOf(long micros)
    {
        var days = micros / MicrosPerDay;
        if (micros % MicrosPerDay < 0) days--;
        var dayNumber = EpochDayNumber + days;
        if (dayNumber < DateOnly.MinValue.DayNumber) return DateOnly.MinValue;
        if (dayNumber > DateOnly.MaxValue.DayNumber) return DateOnly.MaxValue;
        return DateOnly.FromDayNumber((int)dayNumber);
    }
}

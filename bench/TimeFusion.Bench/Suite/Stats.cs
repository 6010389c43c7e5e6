namespace TimeFusion.Bench.Suite;

/// <summary>Median, min, max and percentiles of samples.</summary>
public static class Stats
{
    public static double Median(IReadOnlyList<double> samples) => Percentile(samples, 0.5);

    /// <summary>Nearest-rank percentile (q in 0..1) of unsorted samples; NaN when empty.</summary>
    public static double Percentile(IReadOnlyList<double> samples, double q)
    {
        if (samples.Count == 0) return double.NaN;
        var sorted = samples.ToArray();
        Array.Sort(sorted);
        if (q <= 0) return sorted[0];
        var rank = (int)Math.Ceiling(q * sorted.Length) - 1;
        return sorted[Math.Clamp(rank, 0, sorted.Length - 1)];
    }
}

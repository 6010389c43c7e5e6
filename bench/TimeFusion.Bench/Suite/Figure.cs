namespace TimeFusion.Bench.Suite;

/// <summary>
/// One measured figure: a metric of a subject in a section (e.g. "Ingest" / "TimeFusion SDK, 16 pairs" / "rows/s"),
/// every run's sample, and how it was measured. Reported as the median with min–max.
/// </summary>
public sealed record Figure(string Section, string Subject, string Metric, IReadOnlyList<double> Samples)
{
    /// <summary>Rows the figure was measured on (0 when not about rows).</summary>
    public long Rows { get; init; }

    /// <summary>The target for this figure, as text (e.g. "≥ 1 M rows/s"), or null.</summary>
    public string? Target { get; init; }

    /// <summary>True when the target was met, false when missed, null when no target or not judged.</summary>
    public bool? Met { get; init; }

    public double Median => Stats.Median(Samples);

    public double Min => Samples.Count == 0 ? double.NaN : Samples.Min();

    public double Max => Samples.Count == 0 ? double.NaN : Samples.Max();
}

using Apache.Arrow;
using TimeFusion.Tables;

namespace TimeFusion.Buffer;

/// <summary>
/// What a flush's export needs to know about a run of the tail's rows without reading them again: the range of their
/// timestamps, whether they are already in timestamp order, and their dates. Taken once per logged batch as it joins
/// the tail (one pass over two fixed-width columns), so that the export can skip DuckDB's <c>SELECT DISTINCT date</c>
/// pass and, for rows that arrived in order (most telemetry does), its full-width <c>ORDER BY timestamp</c> sort.
/// </summary>
/// <param name="MinTimestamp">Smallest timestamp (µs), <see cref="long.MaxValue"/> when there are no rows.</param>
/// <param name="MaxTimestamp">Largest timestamp (µs), <see cref="long.MinValue"/> when there are no rows.</param>
/// <param name="Ordered">Whether the rows are in non-decreasing timestamp order.</param>
/// <param name="Dates">The distinct dates (days since 1970-01-01), ascending; null when unknown.</param>
internal sealed record TailRowFacts(long MinTimestamp, long MaxTimestamp, bool Ordered, int[]? Dates)
{
    /// <summary>Facts of no rows.</summary>
    public static readonly TailRowFacts Empty = new(long.MaxValue, long.MinValue, true, []);

    /// <summary>Facts that promise nothing: the export sorts and looks the dates up.</summary>
    public static readonly TailRowFacts Unknown = new(long.MinValue, long.MaxValue, false, null);

    /// <summary>The facts of <paramref name="batch"/>, a batch in <paramref name="schema"/>'s shape (unknown if its columns are not).</summary>
    public static TailRowFacts Of(RecordBatch batch, TableSchema schema)
    {
        if (batch.Length == 0)
            return Empty;
        if (batch.Column(schema.IndexOf(TableSchema.TimestampColumn)) is not TimestampArray { NullCount: 0 } ts
            || batch.Column(schema.IndexOf(TableSchema.DateColumn)) is not Date32Array { NullCount: 0 } date)
            return Unknown;
        var values = ts.Values;
        long min = values[0], max = values[0];
        var ordered = true;
        for (var i = 1; i < values.Length; i++)
        {
            var v = values[i];
            if (v < max)
                ordered = false;
            else
                max = v;
            if (v < min)
                min = v;
        }
        // Dates: a batch nearly always holds one or two; remember the last one seen to skip the lookup.
        var days = date.Values;
        var found = new List<int>(2) { days[0] };
        var last = days[0];
        for (var i = 1; i < days.Length; i++)
        {
            var d = days[i];
            if (d == last)
                continue;
            last = d;
            if (!found.Contains(d))
                found.Add(d);
        }
        found.Sort();
        return new TailRowFacts(min, max, ordered, found.ToArray());
    }

    /// <summary>The facts of <paramref name="runs"/> read one after the other, in this order.</summary>
    public static TailRowFacts Combine(IEnumerable<TailRowFacts> runs)
    {
        long min = long.MaxValue, max = long.MinValue;
        var ordered = true;
        SortedSet<int>? dates = [];
        foreach (var run in runs)
        {
            if (run.MinTimestamp > run.MaxTimestamp)
                continue; // no rows
            ordered &= run.Ordered && run.MinTimestamp >= max;
            min = Math.Min(min, run.MinTimestamp);
            max = Math.Max(max, run.MaxTimestamp);
            if (run.Dates is null)
                dates = null;
            else
                dates?.UnionWith(run.Dates);
        }
        if (min > max)
            return Empty;
        return new TailRowFacts(min, max, ordered, dates?.ToArray());
    }

    /// <summary>
    /// An order in which to read runs (batches) so that all their rows come in timestamp order, when there is one: every
    /// run in order and, sorted by their smallest timestamps, each run starting at or after the previous one's end —
    /// batches from concurrent writers, each in order, arriving in any order. Otherwise the runs' own order. With it,
    /// the facts of the runs read in that order.
    /// </summary>
    public static (int[] Order, TailRowFacts Facts) Arrange(IReadOnlyList<TailRowFacts> runs)
    {
        var order = Enumerable.Range(0, runs.Count).ToArray();
        var facts = Combine(runs);
        if (facts.Ordered || runs.Any(r => !r.Ordered))
            return (order, facts);
        var sorted = order.OrderBy(i => runs[i].MinTimestamp).ThenBy(i => runs[i].MaxTimestamp).ToArray();
        var arranged = Combine(sorted.Select(i => runs[i]));
        return arranged.Ordered ? (sorted, arranged) : (order, facts);
    }

    /// <summary>The dates as <see cref="DateOnly"/>, ascending; null when unknown.</summary>
    public IReadOnlyList<DateOnly>? DateValues => Dates?.Select(d => DateOnly.FromDayNumber(Epoch + d)).ToList();

    private static readonly int Epoch = new DateOnly(1970, 1, 1).DayNumber;
}

using System.Buffers;
using Apache.Arrow;

namespace TimeFusion.Buffer;

/// <summary>
/// The order in which an export writes tail rows that did not arrive in timestamp order: per date (ascending), the
/// rows of that date by timestamp, ties in arrival order (batch, then row) — what DuckDB's
/// <c>WHERE date = … ORDER BY timestamp</c> gives, made deterministic. Each row is named by a long: its batch in the
/// high 32 bits, its row in the low 32. Rows are first bucketed by date (a stable counting pass: a flush holds one or
/// two dates), then each date's rows sorted by timestamp unless already in order; the sort is not stable, so runs of
/// equal timestamps get their rows sorted back into arrival order afterwards (rare, short). 16 bytes per row, pooled.
/// </summary>
internal sealed class TailSortOrder : IDisposable
{
    private long[]? _rows;
    private readonly List<(int Day, int Start, int Count)> _dates;

    private TailSortOrder(long[] rows, List<(int Day, int Start, int Count)> dates) => (_rows, _dates) = (rows, dates);

    /// <summary>The dates (days since 1970-01-01, ascending) and where their rows are in <see cref="Rows"/>.</summary>
    public IReadOnlyList<(int Day, int Start, int Count)> Dates => _dates;

    /// <summary>Rows <paramref name="start"/> … start+count-1 of the order.</summary>
    public ReadOnlySpan<long> Rows(int start, int count) => (_rows ?? throw new ObjectDisposedException(nameof(TailSortOrder))).AsSpan(start, count);

    /// <summary>
    /// The order of the rows of <paramref name="batches"/> (in arrival order), whose timestamp (µs) and date columns
    /// (at <paramref name="timestampIndex"/> and <paramref name="dateIndex"/>) hold no nulls.
    /// </summary>
    public static TailSortOrder Create(IReadOnlyList<RecordBatch> batches, int timestampIndex, int dateIndex)
    {
        var total = 0;
        foreach (var batch in batches)
            total = checked(total + batch.Length);
        // Rows per date.
        var counts = new Dictionary<int, int>();
        foreach (var batch in batches)
        {
            var days = ((Date32Array)batch.Column(dateIndex)).Values;
            var i = 0;
            while (i < days.Length)
            {
                var day = days[i];
                var j = i + 1;
                while (j < days.Length && days[j] == day)
                    j++;
                counts[day] = counts.GetValueOrDefault(day) + (j - i);
                i = j;
            }
        }
        var dates = new List<(int Day, int Start, int Count)>(counts.Count);
        var next = new Dictionary<int, int>(counts.Count);
        var start = 0;
        foreach (var (day, count) in counts.OrderBy(kv => kv.Key))
        {
            dates.Add((day, start, count));
            next[day] = start;
            start += count;
        }
        var rows = ArrayPool<long>.Shared.Rent(Math.Max(1, total));
        var keys = ArrayPool<long>.Shared.Rent(Math.Max(1, total));
        try
        {
            // Bucketed by date in arrival order.
            var lastDay = 0;
            var at = -1;
            for (var b = 0; b < batches.Count; b++)
            {
                var days = ((Date32Array)batches[b].Column(dateIndex)).Values;
                var times = ((TimestampArray)batches[b].Column(timestampIndex)).Values;
                for (var r = 0; r < days.Length; r++)
                {
                    if (at < 0 || days[r] != lastDay)
                    {
                        if (at >= 0)
                            next[lastDay] = at;
                        lastDay = days[r];
                        at = next[lastDay];
                    }
                    keys[at] = times[r];
                    rows[at++] = ((long)b << 32) | (uint)r;
                }
            }
            foreach (var (_, from, count) in dates)
                SortByTimestamp(keys.AsSpan(from, count), rows.AsSpan(from, count));
        }
        catch
        {
            ArrayPool<long>.Shared.Return(rows);
            throw;
        }
        finally
        {
            ArrayPool<long>.Shared.Return(keys);
        }
        return new TailSortOrder(rows, dates);
    }

    private static void SortByTimestamp(Span<long> keys, Span<long> rows)
    {
        var ordered = true;
        for (var i = 1; i < keys.Length && ordered; i++)
            ordered = keys[i] >= keys[i - 1];
        if (ordered)
            return;
        keys.Sort(rows);
        // Introsort is not stable: equal timestamps back into arrival order.
        var s = 0;
        while (s < keys.Length)
        {
            var e = s + 1;
            while (e < keys.Length && keys[e] == keys[s])
                e++;
            if (e - s > 1)
                rows[s..e].Sort();
            s = e;
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (_rows is { } rows)
            ArrayPool<long>.Shared.Return(rows);
        _rows = null;
    }
}

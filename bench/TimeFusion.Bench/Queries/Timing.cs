using System.Diagnostics;

namespace TimeFusion.Bench.Queries;

/// <summary>Times a query: the first run (cold) and then <c>runs</c> warm runs, keeping the row count.</summary>
public static class Timing
{
    public static async Task<(double Cold, List<double> Warm, long Rows)> MeasureAsync(int runs, Func<Task<long>> query, bool cold = true)
    {
        var sw = Stopwatch.StartNew();
        var rows = await query();
        var coldMs = sw.Elapsed.TotalMilliseconds;
        var warm = new List<double>();
        for (var i = 0; i < runs; i++)
        {
            sw.Restart();
            rows = await query();
            warm.Add(sw.Elapsed.TotalMilliseconds);
        }
        return (cold ? coldMs : double.NaN, warm, rows);
    }

    public static async Task<(double Ms, long Rows)> OnceAsync(Func<Task<long>> query)
    {
        var sw = Stopwatch.StartNew();
        var rows = await query();
        return (sw.Elapsed.TotalMilliseconds, rows);
    }
}

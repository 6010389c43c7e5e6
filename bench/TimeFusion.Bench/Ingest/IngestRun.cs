using System.Collections.Concurrent;
using System.Diagnostics;

namespace TimeFusion.Bench.Ingest;

/// <summary>One ingest run's outcome: throughput, acknowledgement latencies and peak memory.</summary>
public sealed record IngestRun(long Rows, long ArrowBytes, TimeSpan Elapsed, IReadOnlyList<double> LatenciesMs, long PeakMemoryBytes)
{
    public double RowsPerSecond => Rows / Elapsed.TotalSeconds;

    public double MegabytesPerSecond => ArrowBytes / 1e6 / Elapsed.TotalSeconds;

    public double P50Ms => Suite.Stats.Percentile(LatenciesMs, 0.50);

    public double P99Ms => Suite.Stats.Percentile(LatenciesMs, 0.99);
}

/// <summary>
/// Runs units of work on concurrent writers (each takes the next
/// unit), timing each unit's acknowledgement.
/// </summary>
public static class ConcurrentWriters
{
    public static async Task<(TimeSpan Elapsed, List<double> LatenciesMs)> RunAsync(int units, int writers, Func<int, Task> unit)
    {
        var latencies = new ConcurrentBag<double>();
        var next = -1;
        var clock = Stopwatch.StartNew();
        var tasks = Enumerable.Range(0, writers).Select(_ => Task.Run(async () =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < units)
            {
                var start = Stopwatch.GetTimestamp();
                await unit(i);
                latencies.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
            }
        })).ToArray();
        await Task.WhenAll(tasks);
        return (clock.Elapsed, latencies.ToList());
    }
}

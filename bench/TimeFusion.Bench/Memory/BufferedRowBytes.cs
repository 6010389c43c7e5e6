using System.Diagnostics;
using TimeFusion.Bench.Peers;
using TimeFusion.Bench.Suite;
using TimeFusion.Grains;
using TimeFusion.Tables;

namespace TimeFusion.Bench.Memory;

/// <summary>
/// Bytes the silo holds per buffered row (<see cref="TableGrainStatus.BufferedBytes"/>: the table's memory
/// reservation, reconciled with what DuckDB holds) against the Arrow size of the same rows: right after the last
/// acknowledgement, and once background compression has settled.
/// </summary>
public static class BufferedRowBytes
{
    public const string Section = "Memory";

    public static async Task MeasureAsync(SuiteResults results, SiloProcess silo, string project, double arrowBytesPerRow, long rows)
    {
        var grain = silo.Cluster.GetGrain<ITableGrain>(TableGrainKey.Format(project, OtelLogsAndSpans.TableName));
        var first = await grain.GetStatusAsync();
        var asAppended = (double)first.BufferedBytes / Math.Max(1, first.BufferedRows);
        // Compression runs in the background: wait until the figure stops moving (or 90 s).
        var clock = Stopwatch.StartNew();
        var last = first.BufferedBytes;
        var stableSince = clock.Elapsed;
        TableGrainStatus status = first;
        while (clock.Elapsed < TimeSpan.FromSeconds(90) && clock.Elapsed - stableSince < TimeSpan.FromSeconds(6))
        {
            await Task.Delay(500); // polling a background process with a deadline
            status = await grain.GetStatusAsync();
            if (Math.Abs(status.BufferedBytes - last) > last / 100)
            {
                last = status.BufferedBytes;
                stableSince = clock.Elapsed;
            }
        }
        var compacted = (double)status.BufferedBytes / Math.Max(1, status.BufferedRows);
        results.Note(Section, $"Bytes per buffered row: the table grain's BufferedBytes / BufferedRows with {first.BufferedRows:N0} rows buffered (the query data set's second half), " +
                              $"against {arrowBytesPerRow:N0} B/row of Arrow; 'compacted' after background compression settled ({clock.Elapsed.TotalSeconds:F0} s). One measurement.");
        results.Add(Section, "bytes per buffered row, right after the last ack", "B/row", [asAppended], rows);
        results.Add(Section, "bytes per buffered row, right after the last ack", "× Arrow size", [asAppended / arrowBytesPerRow], rows, "≤ 1.2×", asAppended / arrowBytesPerRow <= 1.2);
        results.Add(Section, "bytes per buffered row, compacted", "B/row", [compacted], rows);
        results.Add(Section, "bytes per buffered row, compacted", "× Arrow size", [compacted / arrowBytesPerRow], rows, "≤ 0.5×", compacted / arrowBytesPerRow <= 0.5);
        results.Add(Section, "silo resident memory with the query data set loaded", "MiB", [silo.RssBytes / 1048576.0], rows);
    }
}

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

    // baselineRss: the silo's resident bytes before anything was written; allProjects: every project holding
    // buffered rows (for the resident-memory estimate).
    public static async Task MeasureAsync(SuiteResults results, SiloProcess silo, string project, double arrowBytesPerRow, long rows, long baselineRss, IReadOnlyList<string> allProjects)
    {
        var grain = silo.Cluster.GetGrain<ITableGrain>(TableGrainKey.Format(project, OtelLogsAndSpans.TableName));
        var first = await grain.GetStatusAsync();
        var asAppended = (double)first.BufferedBytes / Math.Max(1, first.BufferedRows);
        // Compression runs in the background: wait until the figure stops moving (or 90 s).
        var clock = Stopwatch.StartNew();
        var last = first.BufferedBytes;
        var stableSince = clock.Elapsed;
        TableGrainStatus status = first;
        while (clock.Elapsed < TimeSpan.FromSeconds(90) && clock.Elapsed - stableSince < TimeSpan.FromSeconds(15))
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
                              $"against {arrowBytesPerRow:N0} B/row of Arrow; 'compacted' after background compression settled ({clock.Elapsed.TotalSeconds:F0} s). One measurement. " +
                              "BufferedBytes is the table's memory reservation (the estimate taken before each append, 1.25× the Arrow data); the silo-wide budget is reconciled with " +
                              "what DuckDB really holds, per-table reservations are not, so it does not fall after compression: the resident-growth figure below is the measured one.");
        results.Add(Section, "reserved bytes per buffered row, right after the last ack", "B/row", [asAppended], rows);
        results.Add(Section, "reserved bytes per buffered row, right after the last ack", "× Arrow size", [asAppended / arrowBytesPerRow], rows, "≤ 1.2×", asAppended / arrowBytesPerRow <= 1.2);
        results.Add(Section, "reserved bytes per buffered row, compacted", "B/row", [compacted], rows);
        results.Add(Section, "reserved bytes per buffered row, compacted", "× Arrow size", [compacted / arrowBytesPerRow], rows);
        results.Add(Section, "silo resident memory with the query data set loaded", "MiB", [silo.RssBytes / 1048576.0], rows);
        // BufferedBytes is the reservation; what the process really holds is bounded by its resident growth.
        var statuses = await Task.WhenAll(allProjects.Select(p => silo.Cluster.GetGrain<ITableGrain>(TableGrainKey.Format(p, OtelLogsAndSpans.TableName)).GetStatusAsync()));
        var buffered = statuses.Sum(s => s.BufferedRows);
        var residentPerRow = (double)(silo.RssBytes - baselineRss) / Math.Max(1, buffered);
        results.Note(Section, $"Resident growth per buffered row: (silo RSS now − RSS before loading) / {buffered:N0} rows buffered in all tables — an upper bound (it also holds the .NET heap, caches and the flushed half's metadata).");
        results.Add(Section, "resident growth per buffered row, compacted (upper bound)", "B/row", [residentPerRow], buffered);
        results.Add(Section, "resident growth per buffered row, compacted (upper bound)", "× Arrow size", [residentPerRow / arrowBytesPerRow], buffered, "≤ 0.5× once compacted", residentPerRow / arrowBytesPerRow <= 0.5);
    }
}

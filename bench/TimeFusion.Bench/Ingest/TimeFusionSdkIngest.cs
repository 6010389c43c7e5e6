using Apache.Arrow;
using TimeFusion.Bench.Peers;
using TimeFusion.Grains;
using TimeFusion.Tables;

namespace TimeFusion.Bench.Ingest;

/// <summary>
/// TimeFusion through the Orleans client SDK: a fresh silo, batches spread round-robin over <c>pairs</c>
/// (project, table) pairs by concurrent writers; acknowledged = fsynced to the pair's WAL and buffered.
/// </summary>
public static class TimeFusionSdkIngest
{
    public static int Writers(int pairs) => pairs == 1 ? 4 : Math.Min(pairs, 32);

    public static async Task<IngestRun> RunAsync(IReadOnlyList<RecordBatch> batches, long arrowBytes, int pairs, string root)
    {
        await using var silo = SiloProcess.Start(Path.Combine(root, $"silo-sdk-{pairs}-{Guid.NewGuid():N}"), SiloSettings.Burst());
        await silo.ConnectAsync(TimeSpan.FromSeconds(60));
        var client = await silo.ClientAsync(Caller.Admin());
        // Activate every pair's grain first (WAL, buffer table) with one row, flushed, so the run measures sustained ingest.
        await PairWarmup.RunAsync(client, pairs, batches[0]);
        var (elapsed, latencies) = await ConcurrentWriters.RunAsync(batches.Count, Writers(pairs),
            i => client.InsertAsync($"p{i % pairs}", OtelLogsAndSpans.TableName, batches[i]));
        var peak = silo.PeakRssBytes;
        await silo.StopAsync();
        return new IngestRun(batches.Sum(b => (long)b.Length), arrowBytes, elapsed, latencies, peak);
    }
}

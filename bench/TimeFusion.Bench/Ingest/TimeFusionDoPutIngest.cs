using System.Collections.Concurrent;
using System.Diagnostics;
using Apache.Arrow;
using TimeFusion.Bench.Peers;
using TimeFusion.Grains;
using TimeFusion.Tables;
using TimeFusion.Tests.Infrastructure;

namespace TimeFusion.Bench.Ingest;

/// <summary>
/// TimeFusion through Arrow Flight <c>DoPut</c>: the same fresh silo, pairs and writers as <see cref="TimeFusionSdkIngest"/>;
/// batch i goes to pair i mod pairs, sent by writer i mod writers over that writer's stream for the pair (so writers are
/// never waiting on each other's streams). Acknowledged = one <c>PutResult</c> per batch, sent once the batch is durable.
/// </summary>
public static class TimeFusionDoPutIngest
{
    // extra: silo settings on top of the ingest ones (keys under TimeFusion:), for A/B runs (doputab).
    public static async Task<IngestRun> RunAsync(IReadOnlyList<RecordBatch> batches, long arrowBytes, int pairs, string root,
        IReadOnlyDictionary<string, string>? extra = null)
    {
        var settings = SiloSettings.Ingest();
        foreach (var (k, v) in extra ?? new Dictionary<string, string>()) settings[k] = v;
        await using var silo = SiloProcess.Start(Path.Combine(root, $"silo-doput-{pairs}-{Guid.NewGuid():N}"), settings);
        await silo.ConnectAsync(TimeSpan.FromSeconds(60));
        await FreePorts.WaitUntilListeningAsync(silo.FlightPort, TimeSpan.FromSeconds(30), silo.LogTail);
        var client = await silo.ClientAsync(Caller.Admin());
        // Activate every pair's grain first (WAL, buffer table) with one row, so the run measures sustained ingest.
        await Task.WhenAll(Enumerable.Range(0, pairs).Select(p => client.InsertAsync($"p{p}", OtelLogsAndSpans.TableName, batches[0].Slice(0, 1))));
        var writers = TimeFusionSdkIngest.Writers(pairs);
        var streams = Enumerable.Range(0, writers).Select(_ => new FlightPutStreams(silo)).ToArray();
        var latencies = new ConcurrentBag<double>();
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, writers).Select(w => Task.Run(async () =>
        {
            for (var i = w; i < batches.Count; i += writers)
            {
                var start = Stopwatch.GetTimestamp();
                await streams[w].PutAsync($"p{i % pairs}", batches[i]);
                latencies.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
            }
        })));
        var elapsed = clock.Elapsed;
        foreach (var s in streams) await s.DisposeAsync();
        var peak = silo.PeakRssBytes;
        await silo.StopAsync();
        return new IngestRun(batches.Sum(b => (long)b.Length), arrowBytes, elapsed, latencies.ToList(), peak);
    }
}

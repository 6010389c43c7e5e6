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
/// A writer has one batch in flight, as the SDK's writers (write, wait for its ack, write the next); <c>depth</c> 2 or more
/// lets it write ahead as streaming Flight clients do (at 256 pairs that is also more batches in the engine at once than
/// the SDK's writers have, since a writer's batches go to different streams).
/// </summary>
public static class TimeFusionDoPutIngest
{
    /// <summary>A writer's batches written and not yet acknowledged, at most (the suite's setting: one, as the SDK's writers).</summary>
    public const int DefaultDepth = 1;

    // extra: silo settings on top of the ingest ones (keys under TimeFusion:), for A/B runs (doputab); cpu: told the
    // silo's and this process's CPU time over the burst; sends: told each batch's write time (flow control's share);
    // flushes: told the flushes the silo logged during the burst; flushWarmup: see PairWarmup; writer: whose DoPut writer.
    public static async Task<IngestRun> RunAsync(IReadOnlyList<RecordBatch> batches, long arrowBytes, int pairs, string root,
        IReadOnlyDictionary<string, string>? extra = null, Action<BurstCpu>? cpu = null, int depth = DefaultDepth,
        Action<IReadOnlyList<double>>? sends = null, Action<BurstFlushes>? flushes = null, bool flushWarmup = true,
        FlightPutWriter writer = FlightPutWriter.Library)
    {
        var settings = SiloSettings.Burst();
        foreach (var (k, v) in extra ?? new Dictionary<string, string>()) settings[k] = v;
        await using var silo = SiloProcess.Start(Path.Combine(root, $"silo-doput-{pairs}-{Guid.NewGuid():N}"), settings);
        await silo.ConnectAsync(TimeSpan.FromSeconds(60));
        await FreePorts.WaitUntilListeningAsync(silo.FlightPort, TimeSpan.FromSeconds(30), silo.LogTail);
        var client = await silo.ClientAsync(Caller.Admin());
        await PairWarmup.RunAsync(client, pairs, batches[0], flushWarmup);
        var writers = TimeFusionSdkIngest.Writers(pairs);
        var streams = Enumerable.Range(0, writers).Select(_ => new FlightPutStreams(silo, depth, writer)).ToArray();
        var flushed = new BurstFlushes(silo) { Counting = true };
        var cpuBefore = BurstCpu.Now(silo);
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, writers).Select(w => Task.Run(async () =>
        {
            for (var i = w; i < batches.Count; i += writers)
                await streams[w].WriteAsync($"p{i % pairs}", batches[i]);
            await streams[w].DrainAsync();
        })));
        var elapsed = clock.Elapsed;
        cpu?.Invoke(BurstCpu.Now(silo) - cpuBefore);
        flushed.Counting = false;
        flushes?.Invoke(flushed);
        sends?.Invoke(streams.SelectMany(s => s.SendMs).ToList());
        foreach (var s in streams) await s.DisposeAsync();
        var peak = silo.PeakRssBytes;
        await silo.StopAsync();
        return new IngestRun(batches.Sum(b => (long)b.Length), arrowBytes, elapsed, streams.SelectMany(s => s.AckMs).ToList(), peak);
    }
}

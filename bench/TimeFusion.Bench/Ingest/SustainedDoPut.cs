using System.Diagnostics;
using Apache.Arrow;
using TimeFusion.Bench.Peers;
using TimeFusion.Bench.Suite;
using TimeFusion.Grains;
using TimeFusion.Tables;
using TimeFusion.Tests.Infrastructure;

namespace TimeFusion.Bench.Ingest;

/// <summary>
/// The maximum sustained rate over Arrow Flight <c>DoPut</c>, as <see cref="AckLatencySuite"/> measures it for the SDK:
/// one silo with durable settings and flushes running (<see cref="SiloSettings.Ingest"/>), four tables, the same writer
/// count, each writer a closed loop over its own stream into one table for <c>--max-seconds</c> (default 60).
/// </summary>
public static class SustainedDoPut
{
    private const int Pairs = 4;

    public static async Task RunAsync(SuiteResults results, SuiteOptions options, IReadOnlyList<RecordBatch> batches, string root)
    {
        var seconds = TimeSpan.FromSeconds(options.MaxSeconds);
        await using var silo = SiloProcess.Start(Path.Combine(root, "silo-doput-sustained"), SiloSettings.Ingest());
        await silo.ConnectAsync(TimeSpan.FromSeconds(60));
        await FreePorts.WaitUntilListeningAsync(silo.FlightPort, TimeSpan.FromSeconds(30), silo.LogTail);
        var client = await silo.ClientAsync(Caller.Admin());
        await Task.WhenAll(Enumerable.Range(0, Pairs).Select(p => client.InsertAsync($"d{p}", OtelLogsAndSpans.TableName, batches[0].Slice(0, 1))));
        var writers = TimeFusionSdkIngest.Writers(Pairs);
        var streams = Enumerable.Range(0, writers).Select(_ => new FlightPutStreams(silo)).ToArray();
        long rows = 0;
        var next = -1;
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, writers).Select(w => Task.Run(async () =>
        {
            while (clock.Elapsed < seconds)
            {
                var batch = batches[(int)((uint)Interlocked.Increment(ref next) % batches.Count)];
                await streams[w].PutAsync($"d{w % Pairs}", batch);
                Interlocked.Add(ref rows, batch.Length);
            }
        })));
        var rate = rows / clock.Elapsed.TotalSeconds;
        foreach (var s in streams) await s.DisposeAsync();
        await silo.StopAsync();
        var rowsPerBatch = batches.Average(b => (double)b.Length);
        results.Add(AckLatencySuite.Section, $"Flight DoPut, {Pairs} tables, {rowsPerBatch:N0}-row otel batches, {writers} streams, flushes running",
            "max sustained rows/s", [rate], rows);
    }
}

using Apache.Arrow;
using TimeFusion.Bench.Ingest;
using TimeFusion.Bench.Peers;
using TimeFusion.Bench.Suite;
using TimeFusion.Grains;
using TimeFusion.Tables;
using TimeFusion.Wire;

namespace TimeFusion.Bench.Memory;

/// <summary>
/// A writer flood against a small hard limit: 16 writers on 4 tables for a while; the sum of the tables' buffered
/// bytes (sampled every 100 ms) must stay under the hard limit, writers past it get SQLSTATE 53200 (retryable), and
/// every acknowledged row, and nothing else, is there afterwards.
/// </summary>
public static class WriterFlood
{
    public const long HardLimit = 256L << 20;
    private const int Tables = 4;
    private const int Writers = 16;

    public static async Task RunAsync(SuiteResults results, SuiteOptions options, IReadOnlyList<RecordBatch> batches, string root)
    {
        var settings = new Dictionary<string, string>
        {
            ["Wal:SyncMode"] = "PerCommit",
            ["Buffer:MemoryLimitBytes"] = (1L << 30).ToString(),
            // Flushes start only at the soft limit, close to the hard one, so writers outrun them.
            ["Buffer:SoftLimitBytes"] = (192L << 20).ToString(),
            ["Buffer:HardLimitBytes"] = HardLimit.ToString(),
            ["Buffer:ReserveMaxWait"] = "00:00:01",
            ["Flush:MaxBufferedRows"] = "100000000",
            ["Flush:MaxBufferAge"] = "01:00:00",
            ["Flush:CheckInterval"] = "00:00:00.200",
        };
        var projects = Enumerable.Range(0, Tables).Select(i => $"m{i}").ToArray();
        await using var silo = SiloProcess.Start(Path.Combine(root, "silo-flood"), settings, projects);
        await silo.ConnectAsync(TimeSpan.FromSeconds(60));
        var admin = await silo.ClientAsync(Caller.Admin());
        var grains = projects.Select(p => silo.Cluster.GetGrain<ITableGrain>(TableGrainKey.Format(p, OtelLogsAndSpans.TableName))).ToArray();
        var acked = new long[Tables];
        long rejected = 0, failed = 0, calls = 0;
        string? firstOther = null;
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(options.FloodSeconds));
        long maxBuffered = 0, maxRss = 0;
        var sampler = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                var statuses = await Task.WhenAll(grains.Select(g => g.GetStatusAsync()));
                maxBuffered = Math.Max(maxBuffered, statuses.Sum(s => s.BufferedBytes));
                maxRss = Math.Max(maxRss, silo.RssBytes);
                await Task.Delay(100); // sampling period
            }
        });
        var next = -1;
        var writers = Enumerable.Range(0, Writers).Select(_ => Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                var i = Interlocked.Increment(ref next);
                var t = i % Tables;
                var batch = batches[i % batches.Count];
                Interlocked.Increment(ref calls);
                try
                {
                    await admin.InsertAsync(projects[t], OtelLogsAndSpans.TableName, batch);
                    Interlocked.Add(ref acked[t], batch.Length);
                }
                catch (TimeFusionException e) when (e.SqlState == "53200")
                {
                    Interlocked.Increment(ref rejected);
                }
                catch (Exception e)
                {
                    Interlocked.Increment(ref failed);
                    firstOther ??= $"{e.GetType().Name}: {e.Message.Split('\n')[0]}";
                }
            }
        })).ToArray();
        await Task.WhenAll(writers);
        await sampler;
        var seconds = options.FloodSeconds;
        var counted = new long[Tables];
        for (var t = 0; t < Tables; t++)
        {
            var result = await (await silo.ClientAsync(Caller.ForProject(projects[t]))).QueryAllAsync("SELECT count(*) FROM otel_logs_and_spans");
            counted[t] = ((Int64Array)result.Batches.First(b => b.Length > 0).Column(0)).GetValue(0) ?? 0;
        }
        var lost = acked.Sum() - counted.Sum();
        const string subject = "writer flood: 16 writers, 4 tables, hard limit 256 MiB";
        results.Note(BufferedRowBytes.Section, $"Writer flood: {Writers} writers on {Tables} tables for {seconds} s against HardLimitBytes = 256 MiB (flushes start at the 192 MiB soft limit only; " +
                                               $"writers wait up to 1 s for memory): {calls:N0} calls, {rejected:N0} refused with 53200, {failed:N0} other errors{(firstOther is null ? "" : $" (first: {firstOther})")}; " +
                                               $"buffered bytes = the sum of the tables' reservations, sampled every 100 ms; rows counted afterwards = {counted.Sum():N0} vs {acked.Sum():N0} acknowledged.");
        results.Add(BufferedRowBytes.Section, subject, "max buffered MiB", [maxBuffered / 1048576.0], acked.Sum(), "≤ hard limit (256 MiB)", maxBuffered <= HardLimit);
        results.Add(BufferedRowBytes.Section, subject, "max silo RSS MiB", [maxRss / 1048576.0], acked.Sum());
        results.Add(BufferedRowBytes.Section, subject, "acked rows/s", [acked.Sum() / (double)seconds], acked.Sum());
        results.Add(BufferedRowBytes.Section, subject, "refused (53200) % of calls", [100.0 * rejected / Math.Max(1, calls)], acked.Sum());
        results.Add(BufferedRowBytes.Section, subject, "rows lost or extra", [lost], acked.Sum(), "0", lost == 0 && failed == 0);
    }
}

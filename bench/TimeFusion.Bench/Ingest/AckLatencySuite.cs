using System.Collections.Concurrent;
using System.Diagnostics;
using Apache.Arrow;
using TimeFusion.Bench.Peers;
using TimeFusion.Bench.Suite;
using TimeFusion.Grains;
using TimeFusion.Tables;
using TimeFusion.Wire;

namespace TimeFusion.Bench.Ingest;

/// <summary>
/// Acknowledgement latency at half the maximum throughput (issue 11 target: p99 ≤ 50 ms). One silo with durable
/// settings and flushes running (<see cref="SiloSettings.Ingest"/>), SDK writers into four tables, 8 K-row otel batches:
/// first the maximum sustained rate (closed loop, the ingest part's writer count, <c>--ack-seconds</c>), then an open-loop
/// run at half that rate for as long, each batch sent on its schedule whether or not earlier ones were acknowledged;
/// latency = acknowledgement − scheduled send (so a stall counts for every batch it delays, not just the one it hit).
/// </summary>
public static class AckLatencySuite
{
    public const string Section = "Ack latency";
    private const int Pairs = 4;

    public static async Task RunAsync(SuiteResults results, SuiteOptions options, IReadOnlyList<RecordBatch> batches, string root)
    {
        var seconds = TimeSpan.FromSeconds(options.AckSeconds);
        await using var silo = SiloProcess.Start(Path.Combine(root, "silo-ack"), SiloSettings.Ingest());
        await silo.ConnectAsync(TimeSpan.FromSeconds(60));
        var client = await silo.ClientAsync(Caller.Admin());
        await Task.WhenAll(Enumerable.Range(0, Pairs).Select(p => client.InsertAsync($"a{p}", OtelLogsAndSpans.TableName, batches[0].Slice(0, 1))));
        Task<long> Insert(int i) => client.InsertAsync($"a{i % Pairs}", OtelLogsAndSpans.TableName, batches[i % batches.Count]);

        // 1. Maximum sustained rate: writers in a closed loop for the whole window (unless --ack-rate gives the rate).
        var writers = TimeFusionSdkIngest.Writers(Pairs);
        var clock = Stopwatch.StartNew();
        var next = -1;
        long maxRows = 0;
        var maxRate = options.AckRate * 2;
        // With a given rate the closed loop runs a third as long, as a warm-up only (JIT tiers, pools, first flushes).
        var closedLoop = options.AckRate <= 0 ? seconds : seconds / 3;
        {
            await Task.WhenAll(Enumerable.Range(0, writers).Select(_ => Task.Run(async () =>
            {
                while (clock.Elapsed < closedLoop)
                {
                    var i = Interlocked.Increment(ref next);
                    await Insert(i);
                    Interlocked.Add(ref maxRows, batches[i % batches.Count].Length);
                }
            })));
            if (options.AckRate <= 0) maxRate = maxRows / clock.Elapsed.TotalSeconds;
        }

        // 2. Open loop at half of it.
        var rowsPerBatch = batches.Average(b => (double)b.Length);
        var interval = TimeSpan.FromSeconds(rowsPerBatch / (maxRate / 2));
        var latencies = new ConcurrentBag<double>();
        // The timeline (ack-timeline.csv in the output folder): each batch's scheduled send and latency, and each flush's
        // end as the silo logs it, so that slow acknowledgements can be set against what the silo was doing.
        var timeline = new ConcurrentQueue<string>();
        silo.LineReceived += line =>
        {
            if (line.Contains(": flushed ", StringComparison.Ordinal))
                timeline.Enqueue(FormattableString.Invariant($"flush,{clock.Elapsed.TotalMilliseconds:F1},{line.Trim()}"));
            // TimeFusion:Ingest:SlowInsertLogThreshold (e.g. from the environment) says where a slow insert's time went.
            else if (line.Contains(": slow insert ", StringComparison.Ordinal))
                timeline.Enqueue(FormattableString.Invariant($"slow,{clock.Elapsed.TotalMilliseconds:F1},\"{line.Trim()}\""));
        };
        // Where each batch's time went on the client: when Orleans encoded it (TimeFusion.Wire's events), Stopwatch timestamps
        // on the one clock the silo's slow-insert lines use too (their "wire: read @…" and "applied @…").
        var encoded = new ConcurrentDictionary<RecordBatch, WireTrace.EncodedBatch>(ReferenceEqualityComparer.Instance);
        using var wireEvents = DiagnosticListener.AllListeners.Subscribe(new Observer<DiagnosticListener>(listener =>
        {
            if (listener.Name == WireTrace.Listener.Name)
                listener.Subscribe(new Observer<KeyValuePair<string, object?>>(e =>
                {
                    if (e.Value is WireTrace.EncodedBatch b) encoded[b.Batch] = b;
                }));
        }));
        var pending = new List<Task>();
        long sentRows = 0;
        clock.Restart();
        for (var k = 0; clock.Elapsed < seconds; k++)
        {
            var due = interval * k;
            var wait = due - clock.Elapsed;
            if (wait > TimeSpan.Zero) await Task.Delay(wait);
            var index = next + 1 + k;
            sentRows += batches[index % batches.Count].Length;
            pending.Add(Task.Run(async () =>
            {
                var paused = GC.GetTotalPauseDuration();
                var called = Stopwatch.GetTimestamp();
                var lsn = await Insert(index);
                var acked = Stopwatch.GetTimestamp();
                var latency = (clock.Elapsed - due).TotalMilliseconds;
                latencies.Add(latency);
                var enc = encoded.TryGetValue(batches[index % batches.Count], out var e) && e.Started >= called ? e : null;
                // Table and LSN: an ack matches the silo's slow-insert line of the same batch (a{table}/…: slow insert at LSN n).
                timeline.Enqueue(FormattableString.Invariant(
                    $"ack,{due.TotalMilliseconds:F1},{latency:F1},a{index % Pairs},{lsn},{called},{enc?.Started ?? 0},{enc?.Written ?? 0},{acked},{(GC.GetTotalPauseDuration() - paused).TotalMilliseconds:F1}"));
            }));
        }
        await Task.WhenAll(pending);
        var achieved = sentRows / clock.Elapsed.TotalSeconds;
        await silo.StopAsync();
        Directory.CreateDirectory(options.OutDirectory);
        await File.WriteAllLinesAsync(Path.Combine(options.OutDirectory, "ack-timeline.csv"), ["kind,ms,value,table,lsn,called,encode_started,encode_written,acked,client_gc_ms", .. timeline]);

        var samples = latencies.ToList();
        var subject = $"SDK, {Pairs} tables, {rowsPerBatch:N0}-row otel batches at half the max ({maxRate / 2:N0} of {maxRate:N0} rows/s), flushes running";
        results.Note(Section, $"Max sustained rate: {writers} writers in a closed loop for {seconds.TotalSeconds:N0} s ({maxRows:N0} rows). " +
                              $"Then {samples.Count:N0} batches sent open-loop every {interval.TotalMilliseconds:N1} ms for {seconds.TotalSeconds:N0} s " +
                              $"(achieved {achieved:N0} rows/s); latency = acknowledgement − scheduled send.");
        results.Add(Section, subject, "max sustained rows/s", [maxRate], maxRows);
        results.Add(Section, subject, "ack p50 ms", [Stats.Percentile(samples, 0.50)], (long)sentRows);
        results.Add(Section, subject, "ack p95 ms", [Stats.Percentile(samples, 0.95)], (long)sentRows);
        var p99 = Stats.Percentile(samples, 0.99);
        results.Add(Section, subject, "ack p99 ms", [p99], (long)sentRows, "≤ 50 ms", p99 <= 50);
        results.Add(Section, subject, "ack max ms", [samples.Max()], (long)sentRows);
    }

    private sealed class Observer<T>(Action<T> next) : IObserver<T>
    {
        public void OnNext(T value) => next(value);

        public void OnError(Exception error)
        {
        }

        public void OnCompleted()
        {
        }
    }
}

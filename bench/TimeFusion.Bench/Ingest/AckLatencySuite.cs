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
/// first the maximum sustained rate (closed loop, the ingest part's writer count, <c>--max-seconds</c>, default 60), then
/// an open loop at half that rate, each batch sent on its schedule whether or not earlier ones were acknowledged;
/// latency = acknowledgement − scheduled send (so a stall counts for every batch it delays, not just the one it hit).
/// The measured window (<c>--ack-seconds</c>) starts once the silo has flushed every row the closed loop wrote (the
/// open loop runs at half the rate meanwhile), so that it measures the steady state at half the rate, not the closed
/// loop's backlog; <c>--ack-settle off</c> measures from the open loop's start instead (the previous behaviour).
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

        // The timeline (ack-timeline.csv in the output folder): each batch's scheduled send and latency, and each flush's
        // end as the silo logs it, so that slow acknowledgements can be set against what the silo was doing. Its times are
        // ms since the open loop started (the closed loop's flushes are negative).
        var progress = new FlushProgress();
        var timeline = new ConcurrentQueue<string>();
        var siloLines = new ConcurrentQueue<(double AtMs, string Kind, string Text)>();
        silo.LineReceived += line =>
        {
            var at = progress.ElapsedMs;
            if (progress.Observe(line))
                siloLines.Enqueue((at, "flush", line.Trim()));
            // TimeFusion:Ingest:SlowInsertLogThreshold (e.g. from the environment) says where a slow insert's time went.
            else if (line.Contains(": slow insert ", StringComparison.Ordinal))
                siloLines.Enqueue((at, "slow", $"\"{line.Trim()}\""));
        };

        // 1. Maximum sustained rate: writers in a closed loop for the whole window (unless --ack-rate gives the rate).
        var writers = TimeFusionSdkIngest.Writers(Pairs);
        var next = -1;
        long maxRows = 0, firstHalfRows = 0;
        var maxRate = options.AckRate * 2;
        // With a given rate the closed loop runs a third of the measured window, as a warm-up only (JIT tiers, pools,
        // first flushes).
        var closedLoop = options.AckRate <= 0 ? TimeSpan.FromSeconds(options.MaxSeconds) : seconds / 3;
        // Each project's last acknowledged LSN of the closed loop: the backlog the silo must flush before the window.
        var lastLsn = new ConcurrentDictionary<string, long>(StringComparer.Ordinal);
        var closedStartMs = progress.ElapsedMs;
        var clock = Stopwatch.StartNew();
        {
            await Task.WhenAll(Enumerable.Range(0, writers).Select(_ => Task.Run(async () =>
            {
                while (clock.Elapsed < closedLoop)
                {
                    var i = Interlocked.Increment(ref next);
                    var lsn = await Insert(i);
                    lastLsn.AddOrUpdate($"a{i % Pairs}", lsn, (_, old) => Math.Max(old, lsn));
                    Interlocked.Add(ref maxRows, batches[i % batches.Count].Length);
                    if (clock.Elapsed < closedLoop / 2) Interlocked.Add(ref firstHalfRows, batches[i % batches.Count].Length);
                }
            })));
            if (options.AckRate <= 0) maxRate = maxRows / clock.Elapsed.TotalSeconds;
        }
        var closedElapsed = clock.Elapsed;
        var closedEndMs = progress.ElapsedMs;

        // 2. Open loop at half of it; the window starts once the closed loop's rows are all flushed (or right away).
        var rowsPerBatch = batches.Average(b => (double)b.Length);
        var interval = TimeSpan.FromSeconds(rowsPerBatch / (maxRate / 2));
        var latencies = new ConcurrentBag<double>();
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
        // Ticks of the open loop's clock at which the measured window starts (long.MaxValue: not yet).
        var windowStart = long.MaxValue;
        var caughtUp = true;
        clock.Restart();
        var openStartMs = progress.ElapsedMs;
        var settling = options.AckSettle
            ? Task.Run(async () =>
            {
                // Generous: a rate the silo cannot sustain shows here as a backlog that takes longer than the loop itself.
                caughtUp = await progress.WaitFlushedThroughAsync(lastLsn, closedLoop * 2 + TimeSpan.FromSeconds(30));
                Interlocked.Exchange(ref windowStart, clock.Elapsed.Ticks);
            })
            : Task.CompletedTask;
        if (!options.AckSettle) windowStart = 0;
        for (var k = 0; Interlocked.Read(ref windowStart) == long.MaxValue || clock.Elapsed < TimeSpan.FromTicks(Interlocked.Read(ref windowStart)) + seconds; k++)
        {
            var due = interval * k;
            var wait = due - clock.Elapsed;
            if (wait > TimeSpan.Zero) await Task.Delay(wait);
            var index = next + 1 + k;
            var measured = due.Ticks >= Interlocked.Read(ref windowStart);
            if (measured) sentRows += batches[index % batches.Count].Length;
            pending.Add(Task.Run(async () =>
            {
                var paused = GC.GetTotalPauseDuration();
                var called = Stopwatch.GetTimestamp();
                var lsn = await Insert(index);
                var acked = Stopwatch.GetTimestamp();
                var latency = (clock.Elapsed - due).TotalMilliseconds;
                if (measured) latencies.Add(latency);
                var enc = encoded.TryGetValue(batches[index % batches.Count], out var e) && e.Started >= called ? e : null;
                // Table and LSN: an ack matches the silo's slow-insert line of the same batch (a{table}/…: slow insert at LSN n).
                // Acks before the window are "settle" rows (ack_breakdown.py reads only "ack" rows).
                timeline.Enqueue(FormattableString.Invariant(
                    $"{(measured ? "ack" : "settle")},{due.TotalMilliseconds:F1},{latency:F1},a{index % Pairs},{lsn},{called},{enc?.Started ?? 0},{enc?.Written ?? 0},{acked},{(GC.GetTotalPauseDuration() - paused).TotalMilliseconds:F1}"));
            }));
        }
        await settling;
        var window = clock.Elapsed - TimeSpan.FromTicks(windowStart);
        await Task.WhenAll(pending);
        var achieved = sentRows / window.TotalSeconds;
        await silo.StopAsync();
        Directory.CreateDirectory(options.OutDirectory);
        await File.WriteAllLinesAsync(Path.Combine(options.OutDirectory, "ack-timeline.csv"), ["kind,ms,value,table,lsn,called,encode_started,encode_written,acked,client_gc_ms",
            .. siloLines.Select(l => FormattableString.Invariant($"{l.Kind},{l.AtMs - openStartMs:F1},{l.Text}")), .. timeline]);

        // Was the maximum sustained? The closed loop's two halves, its flushes' size and export time in each half, and how
        // long the silo took to flush its backlog afterwards.
        var halfMs = closedStartMs + closedLoop.TotalMilliseconds / 2;
        var flushes = progress.Flushes;
        var early = flushes.Where(f => f.AtMs >= closedStartMs && f.AtMs < halfMs).ToList();
        var late = flushes.Where(f => f.AtMs >= halfMs && f.AtMs < closedEndMs).ToList();
        string Describe(List<FlushProgress.Flush> fs) => fs.Count == 0
            ? "no flush"
            : FormattableString.Invariant($"{fs.Count} flushes, median {Stats.Median(fs.Select(f => (double)f.Rows).ToList()):N0} rows, export median {Stats.Median(fs.Select(f => (double)f.ExportMs).ToList()):N0} ms (max {fs.Max(f => f.ExportMs):N0})");
        var half = closedElapsed.TotalSeconds / 2;
        var settleSeconds = options.AckSettle ? TimeSpan.FromTicks(windowStart).TotalSeconds : 0;
        var samples = latencies.ToList();
        var subject = $"SDK, {Pairs} tables, {rowsPerBatch:N0}-row otel batches at half the max ({maxRate / 2:N0} of {maxRate:N0} rows/s), flushes running";
        results.Note(Section, $"Max sustained rate: {writers} writers in a closed loop for {closedElapsed.TotalSeconds:N0} s ({maxRows:N0} rows; " +
                              $"first half {firstHalfRows / half:N0} rows/s, second half {(maxRows - firstHalfRows) / half:N0} rows/s; " +
                              $"flushes in the first half: {Describe(early)}; in the second: {Describe(late)}). " +
                              (options.AckSettle
                                  ? caughtUp
                                      ? $"The closed loop's rows were all flushed {settleSeconds:N1} s into the open loop; the measured window started then. "
                                      : $"The closed loop's rows were NOT all flushed after {settleSeconds:N0} s (the maximum was not sustained); measured from then. "
                                  : "Measured from the open loop's start (--ack-settle off). ") +
                              $"{samples.Count:N0} batches sent open-loop every {interval.TotalMilliseconds:N1} ms for {window.TotalSeconds:N0} s " +
                              $"(achieved {achieved:N0} rows/s); latency = acknowledgement − scheduled send.");
        Console.WriteLine($"  [{Section}] {results.Notes[^1].Text}");
        results.Add(Section, subject, "max sustained rows/s", [maxRate], maxRows);
        results.Add(Section, subject, "backlog flushed after s", [settleSeconds], maxRows);
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

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
/// The measured window (<c>--ack-seconds</c>) starts once the silo is in its steady state at half the rate (the open
/// loop runs meanwhile): every row the closed loop wrote flushed, then every row the open loop had acknowledged by then
/// flushed too (the exports caught up with the open loop's own backlog), and no more batches scheduled but not yet
/// acknowledged than <see cref="SteadyInFlight"/> (the acks queued while the silo caught up are answered). Until
/// session 16 it started after the first condition alone, and the open loop's backlog was still there: p99 2,007 ms in
/// the window against 90 ms at the same rate after a short warm-up (docs/BENCHMARKS.md, session 15 merged).
/// <c>--ack-settle off</c> measures from the open loop's start instead.
/// </summary>
public static class AckLatencySuite
{
    public const string Section = "Ack latency";
    private const int Pairs = 4;

    /// <summary>
    /// Batches scheduled but not yet acknowledged that the steady state may have: one per table (at half the rate a
    /// batch is acknowledged well within the interval between two; a queue of them is a backlog still draining).
    /// </summary>
    private const int SteadyInFlight = Pairs;

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
        // The open loop's progress: batches scheduled (sent) and acknowledged, and each project's last acknowledged LSN.
        long sentBatches = 0, ackedBatches = 0;
        var openLsn = new ConcurrentDictionary<string, long>(StringComparer.Ordinal);
        // Open-loop ms at which the closed loop's rows were all flushed, then the open loop's own backlog, then its queue.
        double closedFlushedMs = double.NaN, openFlushedMs = double.NaN;
        // Ticks of the open loop's clock at which the measured window starts (long.MaxValue: not yet).
        var windowStart = long.MaxValue;
        var caughtUp = true;
        clock.Restart();
        var openStartMs = progress.ElapsedMs;
        var settling = options.AckSettle
            ? Task.Run(async () =>
            {
                // Generous: a rate the silo cannot sustain shows here as a backlog that takes longer than the loop itself.
                var limit = closedLoop * 2 + TimeSpan.FromSeconds(30);
                caughtUp = await progress.WaitFlushedThroughAsync(lastLsn, limit - clock.Elapsed);
                closedFlushedMs = clock.Elapsed.TotalMilliseconds;
                // The open loop's backlog: what it had acknowledged while the silo flushed the closed loop's rows.
                var acknowledged = openLsn.ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal);
                caughtUp = caughtUp && await progress.WaitFlushedThroughAsync(acknowledged, limit - clock.Elapsed);
                openFlushedMs = clock.Elapsed.TotalMilliseconds;
                // Its queue: acks waiting behind that backlog are answered (checked once per send interval).
                while (caughtUp && Interlocked.Read(ref sentBatches) - Interlocked.Read(ref ackedBatches) > SteadyInFlight)
                {
                    if (clock.Elapsed > limit)
                    {
                        caughtUp = false;
                        break;
                    }
                    await Task.Delay(interval);
                }
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
            Interlocked.Increment(ref sentBatches);
            pending.Add(Task.Run(async () =>
            {
                var paused = GC.GetTotalPauseDuration();
                var called = Stopwatch.GetTimestamp();
                var lsn = await Insert(index);
                var acked = Stopwatch.GetTimestamp();
                Interlocked.Increment(ref ackedBatches);
                openLsn.AddOrUpdate($"a{index % Pairs}", lsn, (_, old) => Math.Max(old, lsn));
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
                                      ? FormattableString.Invariant($"Steady state {settleSeconds:N1} s into the open loop (the closed loop's rows flushed at {closedFlushedMs / 1000:N1} s, the open loop's acknowledged rows by then at {openFlushedMs / 1000:N1} s, ≤ {SteadyInFlight} batches awaiting their ack); the measured window started then. ")
                                      : FormattableString.Invariant($"NOT steady after {settleSeconds:N0} s (closed loop's rows flushed at {closedFlushedMs / 1000:N1} s, open loop's at {openFlushedMs / 1000:N1} s: the maximum or half of it was not sustained); measured from then. ")
                                  : "Measured from the open loop's start (--ack-settle off). ") +
                              $"{samples.Count:N0} batches sent open-loop every {interval.TotalMilliseconds:N1} ms for {window.TotalSeconds:N0} s " +
                              $"(achieved {achieved:N0} rows/s); latency = acknowledgement − scheduled send.");
        Console.WriteLine($"  [{Section}] {results.Notes[^1].Text}");
        results.Add(Section, subject, "max sustained rows/s", [maxRate], maxRows);
        results.Add(Section, subject, "backlog flushed after s", [options.AckSettle ? closedFlushedMs / 1000 : 0], maxRows);
        results.Add(Section, subject, "steady state after s", [settleSeconds], maxRows);
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

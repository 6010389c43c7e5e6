using Apache.Arrow;
using TimeFusion.Client.Sdk;
using TimeFusion.Tables;

namespace TimeFusion.Bench.Ingest;

/// <summary>
/// Before a burst: every pair's grain activated (WAL, buffer table) with one row, then those rows flushed, so the burst
/// measures sustained ingest into tables with nothing buffered. Without the flush each warm-up row starts its table's
/// buffer-age clock (<c>Flush:MaxBufferAge</c>, 5 s in the ingest settings), and a burst lasting longer than that flushes
/// every pair in the middle of it: 256 flushes at 256 pairs, whatever rows the burst had brought them (doputab's flushes column).
/// </summary>
public static class PairWarmup
{
    /// <summary>
    /// Inserts <paramref name="sample"/>'s first row into each pair's <c>otel_logs_and_spans</c>, then flushes them
    /// (unless <paramref name="flush"/> is false: the warm-up before session 16, kept for A/B runs).
    /// </summary>
    public static async Task RunAsync(TimeFusionClient admin, int pairs, RecordBatch sample, bool flush = true)
    {
        await Task.WhenAll(Enumerable.Range(0, pairs).Select(p => admin.InsertAsync($"p{p}", OtelLogsAndSpans.TableName, sample.Slice(0, 1))));
        if (flush) await admin.FlushAsync(OtelLogsAndSpans.TableName);
    }
}

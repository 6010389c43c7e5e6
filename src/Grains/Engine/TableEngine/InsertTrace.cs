using System.Diagnostics;
using System.Globalization;
using TimeFusion.Wal;

namespace TimeFusion.Engine;

/// <summary>
/// Where one insert spent its time in the engine, for the slow-insert log (<see cref="Ingest.IngestOptions.SlowInsertLogThreshold"/>):
/// Stopwatch timestamps of each step, the WAL's own (<see cref="WalAppendTrace"/>), and the GC's pauses and collections
/// meanwhile. Made only when that log is on.
/// </summary>
internal sealed class InsertTrace
{
    private readonly TimeSpan _pausedAtStart = GC.GetTotalPauseDuration();
    private readonly int _gen0 = GC.CollectionCount(0), _gen1 = GC.CollectionCount(1), _gen2 = GC.CollectionCount(2);

    public long Started { get; } = Stopwatch.GetTimestamp();
    public long Validated { get; set; }
    public long Reserved { get; set; }
    public long Pinned { get; set; }
    public WalAppendTrace Wal { get; } = new();
    public long Logged { get; set; }
    public long Turn { get; set; }
    public long Applied { get; set; }

    /// <summary>How the batch came through Orleans (its hops' timestamps), when it was received into a pinned array of its own.</summary>
    public Wire.ReceivedBatch? Received { get; set; }

    /// <summary>Batches the apply group of this insert held (coalesced with later writers' batches); 0 when an earlier writer applied it.</summary>
    public int GroupBatches { get; set; } = 1;

    /// <summary>Milliseconds from start to the end of the apply.</summary>
    public double TotalMs => WalAppendTrace.Ms(Started, Applied);

    /// <summary>One line: each step's milliseconds, then the GC's pauses and collections during the insert.</summary>
    public string Describe(int rows)
    {
        var paused = GC.GetTotalPauseDuration() - _pausedAtStart;
        var w = Wal;
        return string.Create(CultureInfo.InvariantCulture,
            $"{rows} rows in {TotalMs:F1} ms: validate {WalAppendTrace.Ms(Started, Validated):F1}, reserve {WalAppendTrace.Ms(Validated, Reserved):F1}, " +
            $"pin {WalAppendTrace.Ms(Reserved, Pinned):F1}, wal encode {WalAppendTrace.Ms(Pinned, w.Enqueued):F1}, wal queue {WalAppendTrace.Ms(w.Enqueued, w.Claimed):F1}, " +
            $"wal write {WalAppendTrace.Ms(w.Claimed, w.Written):F1} ({w.GroupEntries} entries), fsync {WalAppendTrace.Ms(w.Written, w.Synced):F1}, " +
            $"resume {WalAppendTrace.Ms(w.Synced, Logged):F1}, apply wait {WalAppendTrace.Ms(Logged, Turn):F1}, apply {WalAppendTrace.Ms(Turn, Applied):F1} ({GroupBatches} batches); " +
            $"gc paused {paused.TotalMilliseconds:F1} ms, collections gen0 +{GC.CollectionCount(0) - _gen0} gen1 +{GC.CollectionCount(1) - _gen1} gen2 +{GC.CollectionCount(2) - _gen2}") + DescribeWire();
    }

    // Before the engine: the Orleans receive (copy out of its buffer, IPC decode), the hops to the gateway, the table grain and
    // the engine; with absolute Stopwatch timestamps (one clock for every process of a machine) so that a client can set its
    // own send and acknowledgement times against them.
    private string DescribeWire()
    {
        if (Received is not { } r) return "";
        return string.Create(CultureInfo.InvariantCulture,
            $"; wire: read @{r.ReadStarted}, copy {WalAppendTrace.Ms(r.ReadStarted, r.ReadEnded):F1}, decode {WalAppendTrace.Ms(r.ReadEnded, r.Decoded):F1}, " +
            $"to gateway {WalAppendTrace.Ms(r.Decoded, r.GatewayEntered):F1}, to grain {WalAppendTrace.Ms(r.GatewayEntered != 0 ? r.GatewayEntered : r.Decoded, r.GrainEntered):F1}, " +
            $"to engine {WalAppendTrace.Ms(r.GrainEntered, Started):F1}, gc paused since read {r.PausedSinceReceive.TotalMilliseconds:F1} ms, applied @{Applied}");
    }
}

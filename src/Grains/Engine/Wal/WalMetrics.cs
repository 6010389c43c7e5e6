using System.Diagnostics.Metrics;

namespace TimeFusion.Wal;

/// <summary>
/// The WAL's operator-visible instruments (meter <c>TimeFusion.Wal</c>; e.g. <c>dotnet-counters monitor -n TimeFusion.Silo
/// --counters TimeFusion.Wal</c>): how long each group commit's fsync took and how long appends queued before the writer
/// loop took them. An fsync slower than the disk's usual is the first suspect when acknowledgements slow down.
/// </summary>
internal static class WalMetrics
{
    private static readonly Meter Meter = new("TimeFusion.Wal");

    /// <summary>Each fsync of a log (group commit, segment roll, interval sync), in milliseconds.</summary>
    public static readonly Histogram<double> FsyncDuration = Meter.CreateHistogram<double>("timefusion.wal.fsync.duration", "ms",
        "time one fsync of a WAL segment took");

    /// <summary>Each append's wait from being queued to being taken into a group commit, in milliseconds.</summary>
    public static readonly Histogram<double> QueueWait = Meter.CreateHistogram<double>("timefusion.wal.queue.wait", "ms",
        "time an append waited for the writer loop before its group commit started");

    /// <summary>Each background zero-fill ahead of a Direct segment's entries (writes and fdatasync), in milliseconds.</summary>
    public static readonly Histogram<double> PrepareDuration = Meter.CreateHistogram<double>("timefusion.wal.prepare.duration", "ms",
        "time one background zero-fill of a WAL segment took");

    /// <summary>Each time a group did not fit the durable room while a zero-fill ran: how long stopping it took, in milliseconds.</summary>
    public static readonly Histogram<double> PrepareWait = Meter.CreateHistogram<double>("timefusion.wal.prepare.wait", "ms",
        "time a group commit waited to stop a running zero-fill of its segment");

    /// <summary>Entries per group commit.</summary>
    public static readonly Histogram<int> GroupEntries = Meter.CreateHistogram<int>("timefusion.wal.group.entries", "{entry}",
        "entries written by one group commit");
}

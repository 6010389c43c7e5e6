using System.Diagnostics;

namespace TimeFusion.Wal;

/// <summary>
/// Where one append spent its time in the log (Stopwatch timestamps; 0 = not reached): queued, taken by the writer
/// loop, written, fsynced. Passed to an append only when someone will look at it (the engine's slow-insert log):
/// an acknowledgement's latency is then split into the queue before the group commit, the write and the fsync.
/// </summary>
public sealed class WalAppendTrace
{
    /// <summary>When the append was queued.</summary>
    public long Enqueued { get; internal set; }

    /// <summary>When the writer loop took it into a group commit.</summary>
    public long Claimed { get; internal set; }

    /// <summary>When the group's frames were written (before the fsync).</summary>
    public long Written { get; internal set; }

    /// <summary>When the group's fsync returned (the entry is durable).</summary>
    public long Synced { get; internal set; }

    /// <summary>Entries in the group commit that carried this one.</summary>
    public int GroupEntries { get; internal set; }

    /// <summary>Milliseconds from <paramref name="from"/> to <paramref name="to"/> (0 when either was not reached).</summary>
    public static double Ms(long from, long to) => from == 0 || to == 0 ? 0 : Stopwatch.GetElapsedTime(from, to).TotalMilliseconds;
}

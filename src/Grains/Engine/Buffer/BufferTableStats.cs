namespace TimeFusion.Buffer;

/// <summary>Counters of a buffer table's append transactions and checkpoints (each one stalls the table's appends while it runs). Thread-safe.</summary>
public sealed class BufferTableStats
{
    private long _checkpoints;
    private long _deferred;
    private long _totalTicks;
    private long _maxTicks;
    private long _appendTransactions;
    private long _appendedBatches;

    /// <summary>Buffer transactions that appended rows (one per batch, or one per coalesced group of batches).</summary>
    public long AppendTransactions => Interlocked.Read(ref _appendTransactions);

    /// <summary>Batches appended by those transactions.</summary>
    public long AppendedBatches => Interlocked.Read(ref _appendedBatches);

    internal void RecordAppend(int batches)
    {
        Interlocked.Increment(ref _appendTransactions);
        Interlocked.Add(ref _appendedBatches, batches);
    }

    /// <summary>Checkpoints that ran.</summary>
    public long Checkpoints => Interlocked.Read(ref _checkpoints);

    /// <summary>Checkpoints DuckDB deferred (retried later).</summary>
    public long DeferredCheckpoints => Interlocked.Read(ref _deferred);

    /// <summary>Time spent in checkpoints.</summary>
    public TimeSpan CheckpointTime => TimeSpan.FromTicks(Interlocked.Read(ref _totalTicks));

    /// <summary>The longest checkpoint.</summary>
    public TimeSpan LongestCheckpoint => TimeSpan.FromTicks(Interlocked.Read(ref _maxTicks));

    internal void RecordCheckpoint(TimeSpan duration)
    {
        Interlocked.Increment(ref _checkpoints);
        Interlocked.Add(ref _totalTicks, duration.Ticks);
        long seen;
        while (duration.Ticks > (seen = Interlocked.Read(ref _maxTicks)) && Interlocked.CompareExchange(ref _maxTicks, duration.Ticks, seen) != seen)
        {
        }
    }

    internal void RecordDeferral() => Interlocked.Increment(ref _deferred);
}

using TimeFusion.Buffer;
using TimeFusion.Delta;

namespace TimeFusion.Engine;

/// <summary>
/// A consistent view of one table (DESIGN.md §4): a Delta version whose <c>txn</c> version is
/// <see cref="FlushedThroughLsn"/>, plus a pinned DuckDB transaction over the buffered rows above that LSN.
/// Every acknowledged row is in exactly one of the two, however flushes interleave. Dispose it to end the
/// buffer transaction.
/// </summary>
public sealed class TableSnapshot : IDisposable
{
    internal TableSnapshot(DeltaSnapshot delta, BufferSnapshot buffer, long flushedThroughLsn)
    {
        Delta = delta;
        Buffer = buffer;
        FlushedThroughLsn = flushedThroughLsn;
    }

    /// <summary>The Delta side: the files to read.</summary>
    public DeltaSnapshot Delta { get; }

    /// <summary>The buffer side: rows with LSN above <see cref="FlushedThroughLsn"/>.</summary>
    public BufferSnapshot Buffer { get; }

    /// <summary>The LSN that divides the two sides.</summary>
    public long FlushedThroughLsn { get; }

    /// <inheritdoc />
    public void Dispose() => Buffer.Dispose();
}

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
    private readonly IDisposable? _pin;

    internal TableSnapshot(DeltaSnapshot delta, BufferSnapshot buffer, long flushedThroughLsn, IDisposable? pin = null, long? retentionCutoffMicros = null)
    {
        Delta = delta;
        Buffer = buffer;
        FlushedThroughLsn = flushedThroughLsn;
        _pin = pin;
        RetentionCutoffMicros = retentionCutoffMicros;
    }

    /// <summary>
    /// The table's retention cut-off when the snapshot was taken (µs since the epoch): rows older than this are past
    /// the table's TTL and must not be returned. Null when the table keeps everything.
    /// </summary>
    public long? RetentionCutoffMicros { get; }

    /// <summary>The Delta side: the files to read.</summary>
    public DeltaSnapshot Delta { get; }

    /// <summary>The buffer side: rows with LSN above <see cref="FlushedThroughLsn"/>.</summary>
    public BufferSnapshot Buffer { get; }

    /// <summary>The LSN that divides the two sides.</summary>
    public long FlushedThroughLsn { get; }

    /// <inheritdoc />
    /// <remarks>Also releases the snapshot's pin: VACUUM may delete its files once no reader holds them.</remarks>
    public void Dispose()
    {
        try
        {
            Buffer.Dispose();
        }
        finally
        {
            _pin?.Dispose();
        }
    }
}

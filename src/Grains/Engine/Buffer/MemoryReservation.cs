namespace TimeFusion.Buffer;

/// <summary>
/// Bytes reserved from a <see cref="MemoryBudget"/> for rows on their way into (or held in) the buffer.
/// Taken before the append; marked <see cref="MarkHeld">held</see> once the rows are in DuckDB; given back
/// with <see cref="Release"/> (nothing was kept: a failed append) or <see cref="ReleaseAfterReclaim"/>
/// (the rows were deleted, but DuckDB keeps their memory until the next CHECKPOINT, after which the budget
/// is reconciled). Releasing twice is a no-op. Thread-safe.
/// </summary>
public sealed class MemoryReservation : IDisposable
{
    private readonly MemoryBudget? _budget;
    private int _state; // 0 pending, 1 held, 2 released

    internal MemoryReservation(MemoryBudget? budget, long bytes)
    {
        _budget = budget;
        Bytes = bytes;
        if (budget is null)
            _state = 2;
    }

    /// <summary>A reservation of zero bytes that belongs to no budget.</summary>
    public static MemoryReservation Empty { get; } = new(null, 0);

    /// <summary>The reserved bytes.</summary>
    public long Bytes { get; }

    /// <summary>Whether the reservation has been released.</summary>
    public bool IsReleased => Volatile.Read(ref _state) == 2;

    /// <summary>The rows are now in DuckDB; their memory is measured by reconciliation from here on.</summary>
    public void MarkHeld()
    {
        if (Interlocked.CompareExchange(ref _state, 1, 0) == 0)
            _budget!.OnHeld(Bytes);
    }

    /// <summary>Returns the bytes at once (the rows never reached DuckDB or their memory is known to be free).</summary>
    public void Release()
    {
        var previous = Interlocked.Exchange(ref _state, 2);
        if (previous != 2)
            _budget!.OnRelease(Bytes, wasHeld: previous == 1, reclaimed: true);
    }

    /// <summary>
    /// The rows were deleted from DuckDB, which frees their memory only at the next CHECKPOINT: the bytes stay
    /// counted as unreclaimed until the budget is next reconciled. Same as <see cref="Release"/> when not held.
    /// </summary>
    public void ReleaseAfterReclaim()
    {
        var previous = Interlocked.Exchange(ref _state, 2);
        if (previous != 2)
            _budget!.OnRelease(Bytes, wasHeld: previous == 1, reclaimed: previous != 1);
    }

    /// <summary>Same as <see cref="Release"/>.</summary>
    public void Dispose() => Release();
}

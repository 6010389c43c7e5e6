namespace TimeFusion.Engine;

/// <summary>
/// Lets concurrent writers apply their WAL entries to the buffer strictly in LSN order.
/// The WAL assigns LSNs without gaps, in file order, but appends complete concurrently; applying in order means
/// "every entry up to <see cref="AppliedThrough"/> is in the buffer" is a single number, which is what a flush
/// (export rows up to an LSN, then truncate the WAL up to it) needs to lose nothing.
/// <para>
/// Writers waiting with a payload (<see cref="WaitTurnAsync(long, object)"/>) may be applied by the writer whose turn
/// it is, together with its own entry (<see cref="TakeSuccessors"/>, then <see cref="CompleteGroup"/>): concurrent
/// small inserts into one table then share one buffer transaction instead of paying a DuckDB commit each.
/// </para>
/// </summary>
public sealed class LsnSequencer
{
    private readonly object _gate = new();
    private readonly Dictionary<long, Waiter> _waiting = new();
    private long _appliedThrough;

    private sealed class Waiter(object? payload)
    {
        // Completed inline for a writer whose rows another applied (its continuation only returns to its caller), on a
        // pool thread for a writer whose turn came (it applies: CompleteGroup's caller must not wait for that).
        public readonly TaskCompletionSource<bool> Turn = new();
        public readonly object? Payload = payload;
    }

    /// <summary>Starts after <paramref name="appliedThrough"/> (the last LSN already in the buffer after recovery).</summary>
    public LsnSequencer(long appliedThrough) => _appliedThrough = appliedThrough;

    /// <summary>The highest LSN such that it and every LSN before it have been applied.</summary>
    public long AppliedThrough
    {
        get { lock (_gate) return _appliedThrough; }
    }

    /// <summary>Writers waiting for their turn (tests poll it).</summary>
    internal int WaitingCount
    {
        get { lock (_gate) return _waiting.Count; }
    }

    /// <summary>Completes when it is <paramref name="lsn"/>'s turn: every earlier LSN has been <see cref="Complete"/>d.</summary>
    public Task WaitTurnAsync(long lsn) => Register(lsn, null);

    /// <summary>
    /// Completes with true when it is <paramref name="lsn"/>'s turn, or with false when the writer whose turn came
    /// earlier took <paramref name="payload"/> (<see cref="TakeSuccessors"/>) and applied it; faults with that writer's
    /// error if applying the group failed. On true the caller must <see cref="Complete"/> (or <see cref="CompleteGroup"/>).
    /// </summary>
    public Task<bool> WaitTurnAsync(long lsn, object payload)
    {
        ArgumentNullException.ThrowIfNull(payload);
        return Register(lsn, payload);
    }

    private Task<bool> Register(long lsn, object? payload)
    {
        lock (_gate)
        {
            if (lsn <= _appliedThrough)
                throw new InvalidOperationException($"LSN {lsn} was already applied (applied through {_appliedThrough})");
            if (lsn == _appliedThrough + 1) return Task.FromResult(true);
            var waiter = new Waiter(payload);
            if (!_waiting.TryAdd(lsn, waiter))
                throw new InvalidOperationException($"LSN {lsn} is already waiting for its turn");
            return waiter.Turn.Task;
        }
    }

    /// <summary>
    /// Called by the writer whose turn it is (<paramref name="lsn"/>): takes the consecutive waiters after it that
    /// registered a payload, in LSN order, for as long as <paramref name="take"/> accepts the next payload. The taken
    /// LSNs are the caller's to apply; it must then call <see cref="CompleteGroup"/> with the last one.
    /// </summary>
    public IReadOnlyList<(long Lsn, object Payload)> TakeSuccessors(long lsn, Func<object, bool> take)
    {
        List<(long, object)>? taken = null;
        lock (_gate)
        {
            if (lsn != _appliedThrough + 1)
                throw new InvalidOperationException($"LSN {lsn} is not the next to apply (applied through {_appliedThrough})");
            for (var next = lsn + 1; _waiting.TryGetValue(next, out var waiter) && waiter.Payload is { } payload && take(payload); next++)
                (taken ??= []).Add((next, payload));
        }
        return (IReadOnlyList<(long, object)>?)taken ?? [];
    }

    /// <summary>
    /// Marks <paramref name="lsn"/> applied (or abandoned: the caller failed after logging it) and lets the next
    /// LSN proceed. Must be called exactly once for every LSN whose turn came.
    /// </summary>
    public void Complete(long lsn) => CompleteGroup(lsn, lsn, null);

    /// <summary>
    /// Marks <paramref name="first"/> (the caller's turn) through <paramref name="last"/> (its taken successors) done:
    /// the successors' waits complete with false, or fault with <paramref name="error"/> when the group failed (the
    /// LSNs count as applied either way, like an abandoned <see cref="Complete"/>); then <paramref name="last"/> + 1 may proceed.
    /// The next writer's turn starts on a pool thread; the successors' continuations then run on the calling thread
    /// before this returns (no thread hop per coalesced writer).
    /// </summary>
    public void CompleteGroup(long first, long last, Exception? error)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(last, first);
        List<Waiter>? taken = null;
        Waiter? next;
        lock (_gate)
        {
            if (first != _appliedThrough + 1)
                throw new InvalidOperationException($"LSN {first} completed out of turn (applied through {_appliedThrough})");
            for (var lsn = first + 1; lsn <= last; lsn++)
            {
                if (!_waiting.Remove(lsn, out var waiter) || waiter.Payload is null)
                    throw new InvalidOperationException($"LSN {lsn} was not taken by LSN {first}'s group");
                (taken ??= []).Add(waiter);
            }
            _appliedThrough = last;
            _waiting.Remove(last + 1, out next);
        }
        if (next is not null)
            ThreadPool.UnsafeQueueUserWorkItem(static waiter => waiter.Turn.SetResult(true), next, preferLocal: false);
        if (taken is not null)
        {
            foreach (var waiter in taken)
            {
                if (error is null) waiter.Turn.SetResult(false);
                else waiter.Turn.SetException(error);
            }
        }
    }
}

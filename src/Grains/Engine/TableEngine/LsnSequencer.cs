namespace TimeFusion.Engine;

/// <summary>
/// Lets concurrent writers apply their WAL entries to the buffer strictly in LSN order.
/// The WAL assigns LSNs without gaps, in file order, but appends complete concurrently; applying in order means
/// "every entry up to <see cref="AppliedThrough"/> is in the buffer" is a single number, which is what a flush
/// (export rows up to an LSN, then truncate the WAL up to it) needs to lose nothing.
/// </summary>
public sealed class LsnSequencer
{
    private readonly object _gate = new();
    private readonly Dictionary<long, TaskCompletionSource> _waiting = new();
    private long _appliedThrough;

    /// <summary>Starts after <paramref name="appliedThrough"/> (the last LSN already in the buffer after recovery).</summary>
    public LsnSequencer(long appliedThrough) => _appliedThrough = appliedThrough;

    /// <summary>The highest LSN such that it and every LSN before it have been applied.</summary>
    public long AppliedThrough
    {
        get { lock (_gate) return _appliedThrough; }
    }

    /// <summary>Completes when it is <paramref name="lsn"/>'s turn: every earlier LSN has been <see cref="Complete"/>d.</summary>
    public Task WaitTurnAsync(long lsn)
    {
        lock (_gate)
        {
            if (lsn <= _appliedThrough)
                throw new InvalidOperationException($"LSN {lsn} was already applied (applied through {_appliedThrough})");
            if (lsn == _appliedThrough + 1) return Task.CompletedTask;
            var tcs = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            if (!_waiting.TryAdd(lsn, tcs))
                throw new InvalidOperationException($"LSN {lsn} is already waiting for its turn");
            return tcs.Task;
        }
    }

    /// <summary>
    /// Marks <paramref name="lsn"/> applied (or abandoned: the caller failed after logging it) and lets the next
    /// LSN proceed. Must be called exactly once for every LSN whose turn came.
    /// </summary>
    public void Complete(long lsn)
    {
        TaskCompletionSource? next;
        lock (_gate)
        {
            if (lsn != _appliedThrough + 1)
                throw new InvalidOperationException($"LSN {lsn} completed out of turn (applied through {_appliedThrough})");
            _appliedThrough = lsn;
            if (_waiting.Remove(lsn + 1, out next)) { }
        }
        next?.SetResult();
    }
}

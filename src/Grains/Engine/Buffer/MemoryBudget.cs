using System.Diagnostics.CodeAnalysis;

namespace TimeFusion.Buffer;

/// <summary>
/// The silo-wide byte budget of all buffer tables (DESIGN.md §2 step 2).
/// <para>
/// <b>Reserving.</b> A writer reserves an estimate of what its batch will occupy before appending. A
/// reservation is granted atomically only if <see cref="UsedBytes"/> plus the request stays within
/// <see cref="HardLimitBytes"/>; otherwise the writer waits (asynchronously, in FIFO order, woken by
/// releases and reconciliations — no polling) up to its <c>maxWait</c>, then gets a retryable
/// <see cref="MemoryPressureException"/>. Past <see cref="SoftLimitBytes"/> the budget signals that tables
/// should flush early (<see cref="IsOverSoftLimit"/>, <see cref="SoftLimitExceeded"/>).
/// </para>
/// <para>
/// <b>Tracking reality.</b> <c>UsedBytes = Pending + max(0, Held + Unreclaimed + Drift)</c>, where Pending
/// is reserved for appends in flight, Held is the estimate of rows now in DuckDB, Unreclaimed is the
/// estimate of rows deleted but not yet given back by a CHECKPOINT, and Drift is the correction measured at
/// the last reconciliation. Reconciling (after a CHECKPOINT) captures Held₀ and Unreclaimed₀, measures what
/// DuckDB holds (<see cref="BufferDatabase.TableMemoryBytes"/>), sets <c>Drift = Measured − Held₀</c> and
/// drops Unreclaimed₀ (that memory is inside Measured, or was given back). Right after a reconciliation,
/// therefore, <c>UsedBytes = Pending + Measured</c>; between reconciliations it moves by the estimates of
/// what was appended since, and releases of rows still in DuckDB do not lower it. Drift is negative after a
/// CHECKPOINT compressed the rows (more room) and positive when estimates fell short. Anything that happens
/// while measuring is counted twice rather than missed, so the figure errs high, never low.
/// </para>
/// </summary>
public sealed class MemoryBudget
{
    private readonly object _gate = new();
    private readonly LinkedList<Waiter> _waiters = new();
    private long _pending;
    private long _held;
    private long _unreclaimed;
    private long _drift;
    private long _peakUsed;
    private bool _overSoft;

    /// <summary>Creates a budget.</summary>
    public MemoryBudget(long softLimitBytes, long hardLimitBytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(hardLimitBytes);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(softLimitBytes);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(softLimitBytes, hardLimitBytes);
        SoftLimitBytes = softLimitBytes;
        HardLimitBytes = hardLimitBytes;
    }

    /// <summary>Raised (on the thread whose reservation or reconciliation crossed it) when usage rises past the soft limit. Handlers must be quick.</summary>
    public event EventHandler? SoftLimitExceeded;

    /// <summary>The level past which tables should flush early.</summary>
    public long SoftLimitBytes { get; }

    /// <summary>The level no reservation may pass.</summary>
    public long HardLimitBytes { get; }

    /// <summary>Bytes in use by the budget's account (see the class remarks).</summary>
    public long UsedBytes
    {
        get
        {
            lock (_gate)
                return UsedLocked();
        }
    }

    /// <summary>Highest <see cref="UsedBytes"/> reached right after granting a reservation.</summary>
    public long PeakUsedBytes
    {
        get
        {
            lock (_gate)
                return _peakUsed;
        }
    }

    /// <summary>Bytes of live reservations (pending and held).</summary>
    public long ReservedBytes
    {
        get
        {
            lock (_gate)
                return _pending + _held;
        }
    }

    /// <summary>Bytes of released reservations whose memory DuckDB has not yet given back.</summary>
    public long UnreclaimedBytes
    {
        get
        {
            lock (_gate)
                return _unreclaimed;
        }
    }

    /// <summary>The correction from the last reconciliation (measured minus estimated).</summary>
    public long DriftBytes
    {
        get
        {
            lock (_gate)
                return _drift;
        }
    }

    /// <summary>Whether usage is at or past the soft limit: tables should flush early.</summary>
    public bool IsOverSoftLimit => UsedBytes >= SoftLimitBytes;

    /// <summary>Writers currently waiting for memory.</summary>
    public int WaitingCount
    {
        get
        {
            lock (_gate)
                return _waiters.Count;
        }
    }

    /// <summary>Reserves <paramref name="bytes"/> at once if they fit (and nobody is queued before), without waiting.</summary>
    public bool TryReserve(long bytes, [NotNullWhen(true)] out MemoryReservation? reservation)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(bytes);
        bool crossed;
        lock (_gate)
        {
            if (_waiters.Count > 0 || !FitsLocked(bytes))
            {
                reservation = null;
                return false;
            }
            reservation = GrantLocked(bytes, out crossed);
        }
        if (crossed)
            RaiseSoftLimit();
        return true;
    }

    /// <summary>
    /// Reserves <paramref name="bytes"/>, waiting up to <paramref name="maxWait"/> (or <see cref="Timeout.InfiniteTimeSpan"/>)
    /// for releases to make room. Requests are served in arrival order.
    /// </summary>
    /// <exception cref="MemoryPressureException">No room within <paramref name="maxWait"/> (retryable), or the request exceeds the hard limit (not retryable).</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled while waiting.</exception>
    public ValueTask<MemoryReservation> ReserveAsync(long bytes, TimeSpan maxWait, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(bytes);
        if (maxWait < TimeSpan.Zero && maxWait != Timeout.InfiniteTimeSpan)
            throw new ArgumentOutOfRangeException(nameof(maxWait), maxWait, "must not be negative");
        if (bytes > HardLimitBytes)
        {
            return ValueTask.FromException<MemoryReservation>(new MemoryPressureException(
                $"a write needing {bytes:N0} bytes can never fit a buffer memory budget of {HardLimitBytes:N0} bytes; split it", isRetryable: false));
        }
        if (cancellationToken.IsCancellationRequested)
            return ValueTask.FromCanceled<MemoryReservation>(cancellationToken);

        Waiter waiter;
        MemoryReservation granted;
        bool crossed;
        lock (_gate)
        {
            if (_waiters.Count == 0 && FitsLocked(bytes))
            {
                granted = GrantLocked(bytes, out crossed);
                goto Granted;
            }
            if (maxWait == TimeSpan.Zero)
                return ValueTask.FromException<MemoryReservation>(TimeoutException(bytes, maxWait));
            waiter = new Waiter(this, bytes, maxWait);
            waiter.Node = _waiters.AddLast(waiter);
        }
        waiter.Arm(cancellationToken);
        return new ValueTask<MemoryReservation>(waiter.Task);

    Granted:
        if (crossed)
            RaiseSoftLimit();
        return ValueTask.FromResult(granted);
    }

    /// <summary>What the budget holds just before DuckDB is measured; pass it to <see cref="CompleteReconcile"/>.</summary>
    public readonly record struct ReconcileToken(long Held, long Unreclaimed);

    /// <summary>Captures the estimates to compare with a measurement about to be taken (after any CHECKPOINT).</summary>
    public ReconcileToken BeginReconcile()
    {
        lock (_gate)
            return new ReconcileToken(_held, _unreclaimed);
    }

    /// <summary>Replaces the estimates captured in <paramref name="token"/> by <paramref name="measuredBytes"/> (see the class remarks).</summary>
    public void CompleteReconcile(ReconcileToken token, long measuredBytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(measuredBytes);
        bool crossed;
        lock (_gate)
        {
            _drift = measuredBytes - token.Held;
            _unreclaimed = Math.Max(0, _unreclaimed - token.Unreclaimed);
            GrantWaitersLocked();
            crossed = CheckSoftLocked();
        }
        if (crossed)
            RaiseSoftLimit();
    }

    internal void OnHeld(long bytes)
    {
        lock (_gate)
        {
            _pending -= bytes;
            _held += bytes;
        }
    }

    internal void OnRelease(long bytes, bool wasHeld, bool reclaimed)
    {
        lock (_gate)
        {
            if (wasHeld)
                _held -= bytes;
            else
                _pending -= bytes;
            if (wasHeld && !reclaimed)
                _unreclaimed += bytes;
            GrantWaitersLocked();
            CheckSoftLocked();
        }
    }

    private long UsedLocked() => _pending + Math.Max(0, _held + _unreclaimed + _drift);

    private bool FitsLocked(long bytes) => UsedLocked() + bytes <= HardLimitBytes;

    private MemoryReservation GrantLocked(long bytes, out bool crossedSoft)
    {
        _pending += bytes;
        var used = UsedLocked();
        if (used > _peakUsed)
            _peakUsed = used;
        crossedSoft = CheckSoftLocked();
        return new MemoryReservation(this, bytes);
    }

    /// <summary>Serves queued writers in order while the head fits; returns nothing — completions run asynchronously.</summary>
    private void GrantWaitersLocked()
    {
        while (_waiters.First is { } node && FitsLocked(node.Value.Bytes))
        {
            _waiters.RemoveFirst();
            var waiter = node.Value;
            waiter.Node = null;
            var reservation = GrantLocked(waiter.Bytes, out var crossed);
            waiter.Disarm();
            if (!waiter.TrySetResult(reservation))
                reservation.Release();
            if (crossed)
                ThreadPool.QueueUserWorkItem(static b => b.RaiseSoftLimit(), this, preferLocal: false);
        }
    }

    /// <summary>Updates the soft-limit flag; true when usage just crossed it upwards.</summary>
    private bool CheckSoftLocked()
    {
        var over = UsedLocked() >= SoftLimitBytes;
        var crossed = over && !_overSoft;
        _overSoft = over;
        return crossed;
    }

    private void RaiseSoftLimit() => SoftLimitExceeded?.Invoke(this, EventArgs.Empty);

    private MemoryPressureException TimeoutException(long bytes, TimeSpan waited) =>
        new($"buffer memory is at its limit: {bytes:N0} bytes requested, {UsedBytesUnlocked():N0} of {HardLimitBytes:N0} in use; "
            + $"no room within {waited.TotalMilliseconds:N0} ms. Retry later.");

    private long UsedBytesUnlocked() => Volatile.Read(ref _pending) + Math.Max(0, Volatile.Read(ref _held) + Volatile.Read(ref _unreclaimed) + Volatile.Read(ref _drift));

    private void Expire(Waiter waiter, bool cancelled, CancellationToken token)
    {
        lock (_gate)
        {
            if (waiter.Node is null)
                return; // already granted
            _waiters.Remove(waiter.Node);
            waiter.Node = null;
            // A queue head that timed out may have been blocking smaller requests behind it.
            GrantWaitersLocked();
        }
        waiter.Disarm();
        if (cancelled)
            waiter.TrySetCanceled(token);
        else
            waiter.TrySetException(TimeoutException(waiter.Bytes, waiter.MaxWait));
    }

    private sealed class Waiter(MemoryBudget budget, long bytes, TimeSpan maxWait)
        : TaskCompletionSource<MemoryReservation>(TaskCreationOptions.RunContinuationsAsynchronously)
    {
        private Timer? _timer;
        private CancellationTokenRegistration _registration;

        public long Bytes { get; } = bytes;

        public TimeSpan MaxWait { get; } = maxWait;

        public LinkedListNode<Waiter>? Node { get; set; }

        public void Arm(CancellationToken token)
        {
            if (token.CanBeCanceled)
                _registration = token.UnsafeRegister(static (s, t) => ((Waiter)s!).Expire(cancelled: true, t), this);
            if (MaxWait != Timeout.InfiniteTimeSpan)
                _timer = new Timer(static s => ((Waiter)s!).Expire(cancelled: false, default), this, MaxWait, Timeout.InfiniteTimeSpan);
        }

        private void Expire(bool cancelled, CancellationToken token) => budget.Expire(this, cancelled, token);

        /// <summary>Stops the timer and the cancellation callback without waiting for them (they may be blocked on the budget's lock).</summary>
        public void Disarm()
        {
            _timer?.Dispose();
            _registration.Unregister();
        }
    }
}

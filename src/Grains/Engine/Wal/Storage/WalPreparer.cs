namespace TimeFusion.Wal;

/// <summary>
/// Runs the <see cref="WalWriteMode.Direct"/> WAL's preparation — zero-filling the room ahead of a segment's entries
/// (<see cref="DirectSegmentWriter"/>) and the next segment's spare (<see cref="LocalWalDirectory"/>) — off the writer
/// loops, for every log of the process. The work is blocking <c>pwrite</c>s and an <c>fdatasync</c> on a pool thread;
/// at most <see cref="Slots"/> run at once, so 256 logs preparing together hold two pool threads, not 256, and the
/// others wait for a slot without a thread.
/// </summary>
internal static class WalPreparer
{
    /// <summary>Preparations running at once in the process: the device is the limit, not the threads.</summary>
    public const int Slots = 2;

    private static readonly SemaphoreSlim Gate = new(Slots, Slots);
    private static int _running;
    private static int _peak;

    /// <summary>The most preparations that ran at once since the process started (tests: never more than <see cref="Slots"/>).</summary>
    internal static int Peak => Volatile.Read(ref _peak);

    /// <summary>
    /// Runs <paramref name="work"/> on the pool once a slot is free; <paramref name="hook"/> (tests) is awaited first,
    /// outside the slot. Cancelled before it starts, the task is cancelled; <paramref name="work"/> checks the token between
    /// its writes and throws <see cref="OperationCanceledException"/>.
    /// </summary>
    public static Task RunAsync(Action<CancellationToken> work, Func<CancellationToken, ValueTask>? hook, CancellationToken cancellationToken) =>
        Task.Run(async () =>
        {
            if (hook is not null) await hook(cancellationToken);
            await Gate.WaitAsync(cancellationToken);
            try
            {
                var running = Interlocked.Increment(ref _running);
                for (var peak = Volatile.Read(ref _peak); running > peak; peak = Volatile.Read(ref _peak))
                    if (Interlocked.CompareExchange(ref _peak, running, peak) == peak) break;
                work(cancellationToken);
            }
            finally
            {
                Interlocked.Decrement(ref _running);
                Gate.Release();
            }
        }, CancellationToken.None);

    /// <summary>Waits for <paramref name="task"/>; a cancellation is not an error, a failure is rethrown.</summary>
    public static async ValueTask JoinAsync(Task task)
    {
        await task.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        if (task.IsFaulted) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(task.Exception!.InnerException!);
    }
}

using System.Collections.Concurrent;

namespace TimeFusion.Wal;

/// <summary>
/// Runs the <see cref="WalWriteMode.Direct"/> WAL's preparation — zero-filling the room ahead of a segment's entries
/// (<see cref="DirectSegmentWriter"/>) and the next segment's spare (<see cref="LocalWalDirectory"/>) — off the writer
/// loops, for every log of the process, on <see cref="Slots"/> dedicated threads taking the work in order. The work
/// is blocking <c>pwrite</c>s and an <c>fdatasync</c> lasting up to seconds on a busy disk: on the thread pool (two
/// threads on two cores) it would hold the threads Orleans, the grains and every writer loop run on; 256 logs
/// preparing together queue here without a thread each.
/// </summary>
internal static class WalPreparer
{
    /// <summary>Preparations running at once in the process (its threads): the device is the limit, not the threads.</summary>
    public const int Slots = 2;

    private sealed class Work(Action<CancellationToken> run, CancellationToken token)
    {
        private const int Queued = 0, Running = 1, Dropped = 2;
        private int _state;

        public Action<CancellationToken> Run => run;

        public CancellationToken Token => token;

        public TaskCompletionSource Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        /// <summary>Cancelled while still queued: done at once (the writer loop waiting to stop it must not wait for its turn).</summary>
        public void Drop()
        {
            if (Interlocked.CompareExchange(ref _state, Dropped, Queued) == Queued) Done.TrySetCanceled(token);
        }

        /// <summary>Taken by a preparer thread; false when it was dropped.</summary>
        public bool Start() => Interlocked.CompareExchange(ref _state, Running, Queued) == Queued;
    }

    private static readonly BlockingCollection<Work> Queue = Start();
    private static int _running;
    private static int _peak;

    /// <summary>The most preparations that ran at once since the process started (tests: never more than <see cref="Slots"/>).</summary>
    internal static int Peak => Volatile.Read(ref _peak);

    /// <summary>
    /// Runs <paramref name="work"/> on a preparer thread when its turn comes; <paramref name="hook"/> (tests) is awaited
    /// first. Cancelled before it starts, the task is cancelled; <paramref name="work"/> checks the token between its
    /// writes and throws <see cref="OperationCanceledException"/>.
    /// </summary>
    public static async Task RunAsync(Action<CancellationToken> work, Func<CancellationToken, ValueTask>? hook, CancellationToken cancellationToken)
    {
        if (hook is not null) await hook(cancellationToken);
        var item = new Work(work, cancellationToken);
        await using (cancellationToken.UnsafeRegister(static state => ((Work)state!).Drop(), item))
        {
            Queue.Add(item, CancellationToken.None);
            await item.Done.Task;
        }
    }

    /// <summary>Waits for <paramref name="task"/>; a cancellation is not an error, a failure is rethrown.</summary>
    public static async ValueTask JoinAsync(Task task)
    {
        await task.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        ThrowIfFaulted(task);
    }

    /// <summary>Rethrows a finished preparation's failure as it was thrown (a cancelled one is not a failure).</summary>
    public static void ThrowIfFaulted(Task task)
    {
        if (task.IsFaulted) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(task.Exception!.InnerException!);
    }

    private static BlockingCollection<Work> Start()
    {
        var queue = new BlockingCollection<Work>(new ConcurrentQueue<Work>());
        for (var i = 0; i < Slots; i++)
            new Thread(() => Serve(queue)) { IsBackground = true, Name = $"WAL preparer {i + 1}" }.Start();
        return queue;
    }

    private static void Serve(BlockingCollection<Work> queue)
    {
        foreach (var item in queue.GetConsumingEnumerable())
        {
            if (!item.Start()) continue;
            if (item.Token.IsCancellationRequested)
            {
                item.Done.TrySetCanceled(item.Token);
                continue;
            }
            var running = Interlocked.Increment(ref _running);
            for (var peak = Volatile.Read(ref _peak); running > peak; peak = Volatile.Read(ref _peak))
                if (Interlocked.CompareExchange(ref _peak, running, peak) == peak) break;
            try
            {
                item.Run(item.Token);
                item.Done.TrySetResult();
            }
            catch (OperationCanceledException) when (item.Token.IsCancellationRequested)
            {
                item.Done.TrySetCanceled(item.Token);
            }
            catch (Exception e)
            {
                item.Done.TrySetException(e);
            }
            finally
            {
                Interlocked.Decrement(ref _running);
            }
        }
    }
}

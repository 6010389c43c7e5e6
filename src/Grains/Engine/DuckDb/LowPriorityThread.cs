using System.Runtime.InteropServices;

namespace TimeFusion.DuckDb;

/// <summary>
/// Runs long background work (OPTIMIZE's DuckDB rewrite) on a thread of its own whose OS scheduling priority is lowered
/// (Linux <c>nice</c>), so that on a busy machine the cores go to ingest and queries first and the background work takes
/// what is left. .NET's <see cref="Thread.Priority"/> does nothing on Linux, hence <c>setpriority(2)</c> on the thread id
/// (on Linux it applies to that one thread). A fresh thread is used because an unprivileged process cannot raise a
/// lowered priority again: a pool thread must never be lowered.
/// </summary>
internal static partial class LowPriorityThread
{
    /// <summary>Runs <paramref name="work"/> on a new background thread at niceness <paramref name="nice"/> (0 = unchanged, up to 19).</summary>
    public static Task<T> RunAsync<T>(string name, int nice, Func<T> work)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(nice);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(nice, 19);
        var done = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        var thread = new Thread(() =>
        {
            if (nice > 0) TryLower(nice);
            try
            {
                done.SetResult(work());
            }
            catch (OperationCanceledException e)
            {
                done.SetCanceled(e.CancellationToken);
            }
            catch (Exception e)
            {
                done.SetException(e);
            }
        })
        {
            IsBackground = true,
            Name = name,
        };
        thread.Start();
        return done.Task;
    }

    private static void TryLower(int nice)
    {
        if (!OperatingSystem.IsLinux()) return;
        try
        {
            _ = setpriority(PrioProcess, gettid(), nice); // best effort: at worst the work runs at normal priority
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
        }
    }

    private const int PrioProcess = 0;

    [LibraryImport("libc")]
    private static partial int setpriority(int which, int who, int prio);

    [LibraryImport("libc")]
    private static partial int gettid();
}

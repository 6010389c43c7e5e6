using System.Runtime.InteropServices;

namespace TimeFusion.DuckDb;

/// <summary>
/// Runs long background work (OPTIMIZE's DuckDB rewrite) on a thread of its own whose OS priority is lowered, so that on
/// a busy machine the cores and the disk go to ingest and queries first and the background work takes what is left.
/// Two levers, both on the thread id (on Linux they apply to that one thread): the idle scheduling class
/// (<c>SCHED_IDLE</c>: runs only when a core would otherwise idle) with the idle I/O class (<c>ioprio_set</c>,
/// <c>IOPRIO_CLASS_IDLE</c>), and the niceness (<c>setpriority</c>; a nice-19 thread still gets a share of a busy core,
/// a SCHED_IDLE one almost none). .NET's <see cref="Thread.Priority"/> does nothing on Linux. A fresh thread is used
/// because an unprivileged process cannot raise a lowered priority again: a pool thread must never be lowered.
/// </summary>
internal static partial class LowPriorityThread
{
    /// <summary>
    /// Runs <paramref name="work"/> on a new background thread at niceness <paramref name="nice"/> (0 = unchanged, up to
    /// 19) and, when <paramref name="idle"/>, in the idle CPU and I/O classes.
    /// </summary>
    public static Task<T> RunAsync<T>(string name, int nice, bool idle, Func<T> work)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(nice);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(nice, 19);
        var done = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        var thread = new Thread(() =>
        {
            Lower(nice, idle);
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

    /// <summary>What the calling thread got (for tests): its scheduling policy and I/O priority, or null off Linux.</summary>
    public static (int Policy, int IoPriority)? CurrentThreadPriority()
    {
        if (!OperatingSystem.IsLinux()) return null;
        var tid = gettid();
        return (sched_getscheduler(tid), IoPrioritySyscall is { } call ? (int)syscall(call.Get, IoprioWhoProcess, tid) : -1);
    }

    /// <summary>The calling thread's niceness (for tests), or null off Linux.</summary>
    public static int? CurrentThreadNice() => OperatingSystem.IsLinux() ? getpriority(PrioProcess, gettid()) : null;

    /// <summary>The calling thread's kernel id, or null off Linux.</summary>
    public static int? CurrentThreadId() => OperatingSystem.IsLinux() ? gettid() : null;

    /// <summary>Sets thread <paramref name="tid"/> of this process to niceness <paramref name="nice"/>; false when refused or off Linux.</summary>
    public static bool SetNice(int tid, int nice)
    {
        if (!OperatingSystem.IsLinux()) return false;
        try
        {
            return setpriority(PrioProcess, tid, nice) == 0;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return false;
        }
    }

    // Best effort throughout: at worst the work runs at normal priority.
    private static void Lower(int nice, bool idle)
    {
        if (!OperatingSystem.IsLinux()) return;
        try
        {
            var tid = gettid();
            if (nice > 0) _ = setpriority(PrioProcess, tid, nice);
            if (!idle) return;
            var param = new SchedParam();
            _ = sched_setscheduler(tid, SchedIdle, ref param);
            if (IoPrioritySyscall is { } call) _ = syscall(call.Set, IoprioWhoProcess, tid, IoprioClassIdle << IoprioClassShift);
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
        }
    }

    /// <summary>The policy number of <c>SCHED_IDLE</c>.</summary>
    public const int SchedIdle = 5;

    /// <summary>The I/O priority value of the idle class (<c>IOPRIO_PRIO_VALUE(IOPRIO_CLASS_IDLE, 0)</c>).</summary>
    public const int IdleIoPriority = IoprioClassIdle << IoprioClassShift;

    private const int PrioProcess = 0;
    private const int IoprioWhoProcess = 1;
    private const int IoprioClassIdle = 3;
    private const int IoprioClassShift = 13;

    // ioprio_set/ioprio_get have no glibc wrapper: syscall numbers per architecture.
    private static (long Set, long Get)? IoPrioritySyscall => RuntimeInformation.ProcessArchitecture switch
    {
        Architecture.X64 => (251, 252),
        Architecture.Arm64 => (30, 31),
        _ => null,
    };

    [StructLayout(LayoutKind.Sequential)]
    private struct SchedParam
    {
        public int Priority;
    }

    [LibraryImport("libc")]
    private static partial int setpriority(int which, int who, int prio);

    [LibraryImport("libc")]
    private static partial int getpriority(int which, int who);

    [LibraryImport("libc")]
    private static partial int gettid();

    [LibraryImport("libc")]
    private static partial int sched_setscheduler(int pid, int policy, ref SchedParam param);

    [LibraryImport("libc")]
    private static partial int sched_getscheduler(int pid);

    [LibraryImport("libc")]
    private static partial long syscall(long number, int which, int who, int ioprio);

    [LibraryImport("libc", EntryPoint = "syscall")]
    private static partial long syscall(long number, int which, int who);
}

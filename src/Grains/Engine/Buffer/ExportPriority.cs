using TimeFusion.DuckDb;

namespace TimeFusion.Buffer;

/// <summary>
/// The OS priority of one running export: started at its niceness (<see cref="BufferOptions.ExportNice"/> for a flush
/// keeping up) and raised to normal, once, when its table falls behind while it runs (<see cref="Raise"/>, called where
/// rows are appended). Lowered exports that stayed lowered to their end lost a third of the closed loop's maximum: a
/// flush fell behind and stayed behind (docs/BENCHMARKS.md, session 13). Raising means <c>setpriority</c> on the
/// export's own thread and on Arrow's pool workers (<see cref="ArrowCpuPool"/>), which the exports share: the workers
/// run at the lowest niceness any running export asks for.
/// <para>
/// An unprivileged process may lower a thread's priority but not raise it above what <c>RLIMIT_NICE</c> allows (0 by
/// default: not at all). Where the OS refuses (<see cref="CanRaise"/>), a lowered export stays lowered to its end, as
/// before, and the next flush starts at normal priority when its table is behind (<see cref="RaiseRefused"/> says so).
/// </para>
/// </summary>
internal sealed class ExportPriority : IDisposable
{
    private static readonly Lock PoolGate = new();
    private static readonly List<ExportPriority> Running = [];
    private static readonly Lazy<bool> CanRaiseProbe = new(ProbeRaise);

    private readonly int? _tid;
    private readonly bool _setsPool;
    private int _nice;
    private int _raised;

    private ExportPriority(int? tid, int nice, bool setsPool)
    {
        _tid = tid;
        _nice = nice;
        _setsPool = setsPool;
    }

    /// <summary>
    /// Whether this process may raise a lowered thread back to normal priority (root, <c>CAP_SYS_NICE</c> or an
    /// <c>RLIMIT_NICE</c> that allows it): probed once on a thread of its own, lowered to 1 and set back to 0.
    /// </summary>
    public static bool CanRaise => CanRaiseProbe.Value;

    /// <summary>
    /// Takes the calling thread, already at niceness <paramref name="nice"/>, as an export's. With
    /// <paramref name="setsPool"/> (lowered exports configured), Arrow's pool workers are set to the lowest niceness of
    /// the exports running now, this one included, until it is disposed.
    /// </summary>
    public static ExportPriority Enter(int nice, bool setsPool)
    {
        var priority = new ExportPriority(LowPriorityThread.CurrentThreadId(), nice, setsPool);
        if (setsPool)
        {
            lock (PoolGate)
            {
                Running.Add(priority);
                UpdatePool();
            }
        }
        return priority;
    }

    /// <summary>The niceness the export runs at now.</summary>
    public int Nice => Volatile.Read(ref _nice);

    /// <summary>Whether the export was asked to run at normal priority after it started (its table fell behind).</summary>
    public bool Raised => Volatile.Read(ref _raised) != 0;

    /// <summary>Whether the export was asked to rise but the OS refused (it stays at its niceness).</summary>
    public bool RaiseRefused { get; private set; }

    /// <summary>
    /// Raises a lowered export to normal priority (once; any thread): its own thread at once — one system call — and
    /// Arrow's pool workers on a thread-pool thread (they are found by listing the process's threads, not work for an
    /// appender holding the table's append lock).
    /// </summary>
    public void Raise()
    {
        if (Volatile.Read(ref _nice) == 0 || Interlocked.Exchange(ref _raised, 1) != 0) return;
        if (!CanRaise || _tid is not { } tid || !LowPriorityThread.SetNice(tid, 0))
        {
            RaiseRefused = true;
            return;
        }
        Volatile.Write(ref _nice, 0);
        if (_setsPool)
            PoolUpdated = Task.Run(static () =>
            {
                lock (PoolGate) UpdatePool();
            });
    }

    /// <summary>The pool workers' update after the last <see cref="Raise"/> (tests wait for it).</summary>
    internal static Task PoolUpdated { get; private set; } = Task.CompletedTask;

    /// <summary>Ends the export: the pool workers follow the exports still running (none: they stay as they are).</summary>
    public void Dispose()
    {
        if (!_setsPool) return;
        lock (PoolGate)
        {
            if (Running.Remove(this))
                UpdatePool();
        }
    }

    // Under PoolGate. Workers are created at the niceness of the export thread that first needs them; the list of
    // threads is read each time rather than trusting what was set last.
    private static void UpdatePool()
    {
        if (Running.Count == 0) return;
        ArrowCpuPool.SetWorkers(Running.Min(e => e.Nice));
    }

    private static bool ProbeRaise()
    {
        if (!OperatingSystem.IsLinux()) return false;
        var raised = false;
        var probe = new Thread(() =>
        {
            if (LowPriorityThread.CurrentThreadId() is { } tid && LowPriorityThread.SetNice(tid, 1))
                raised = LowPriorityThread.SetNice(tid, 0);
        })
        {
            IsBackground = true,
            Name = "TimeFusion nice probe",
        };
        probe.Start();
        probe.Join();
        return raised;
    }
}

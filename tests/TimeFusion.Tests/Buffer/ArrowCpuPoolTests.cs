using TimeFusion.Buffer;
using TimeFusion.DuckDb;
using TimeFusion.Tables;
using TimeFusion.Tests.Infrastructure;

namespace TimeFusion.Tests.Buffer;

/// <summary>
/// Arrow's pool workers (threads named as the exports' that are not an export's own) are set to the exports'
/// niceness, and back where the OS allows; an export's own thread is not taken for a worker. A plain thread named "TimeFusion export" stands in for a
/// native worker (the kernel sees them alike).
/// Alone: every flush (lowered by default) sets the pool's workers, which would change the stand-in's niceness meanwhile.
/// </summary>
[Collection(ExportPriorityPoolTests.Name)]
public class ArrowCpuPoolTests
{
    private static readonly TableId Id = new("p1", "small");
    private static readonly DateTimeOffset Start = new(2024, 3, 5, 22, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task A_thread_named_as_exports_but_not_one_is_lowered_and_raised_and_an_export_thread_is_not()
    {
        if (!OperatingSystem.IsLinux()) return;
        using var release = new ManualResetEventSlim();
        var worker = StartThread(register: false, release);
        var export = StartThread(register: true, release);
        var (workerTid, exportTid) = (await worker.Tid, await export.Tid);
        try
        {
            Assert.Contains(ArrowCpuPool.Workers(), w => w.Tid == workerTid);
            Assert.DoesNotContain(ArrowCpuPool.Workers(), w => w.Tid == exportTid);

            Assert.True(ArrowCpuPool.SetWorkers(11) >= 1);

            Assert.Contains((workerTid, 11), ArrowCpuPool.Workers());
            Assert.Equal(0, NiceOf(exportTid));
            // Back to normal where this process may raise a thread's priority (root here); otherwise it stays lowered.
            ArrowCpuPool.SetWorkers(0);
            Assert.Contains(NiceOf(workerTid), CanRaise() ? [0] : new[] { 11 });
        }
        finally
        {
            release.Set();
        }
    }

    [Fact]
    public async Task A_flush_at_a_niceness_still_encodes_on_the_pool()
    {
        using var dir = new TempDirectory();
        await using var db = BufferTestDatabase.Open(o => o.ExportNice = 13);
        await using var table = await BufferTable.CreateAsync(db, Id, BufferTestDatabase.SmallSchema, default);
        await table.AppendAsync(BufferTestDatabase.SmallBatch(1_000, "r", first: 0, start: Start), 1, default);

        await table.ExportParquetAsync(1, dir.Path, default);

        Assert.True(table.LastExportUsedArrowWriter);
        Assert.True(table.LastExportUsedPool);
        Assert.Equal(ExportPriority.CanRaise ? 13 : 0, table.LastExportNice);
    }

    internal static (Task<int> Tid, Thread Thread) StartThread(bool register, ManualResetEventSlim release)
    {
        var tid = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        var thread = new Thread(() =>
        {
            using var registration = register ? ArrowCpuPool.RegisterExportThread() : null;
            tid.SetResult(LowPriorityThread.CurrentThreadId()!.Value);
            release.Wait();
        }) { IsBackground = true, Name = "TimeFusion export" };
        thread.Start();
        return (tid.Task, thread);
    }

    // Whether this process may lower a niceness (root or CAP_SYS_NICE; RLIMIT_NICE ignored here).
    private static bool CanRaise() => Environment.UserName == "root"
        || File.ReadAllLines("/proc/self/status").Any(l => l.StartsWith("CapEff:", StringComparison.Ordinal)
                                                            && (Convert.ToUInt64(l[7..].Trim(), 16) & (1UL << 23)) != 0);

    internal static int NiceOf(int tid)
    {
        var stat = File.ReadAllText($"/proc/self/task/{tid}/stat");
        return int.Parse(stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[16], System.Globalization.CultureInfo.InvariantCulture);
    }
}

using TimeFusion.DuckDb;

namespace TimeFusion.Tests.Maintenance;

public sealed class LowPriorityThreadTests
{
    [Fact]
    public async Task Idle_work_runs_in_the_idle_cpu_and_io_classes_and_the_callers_thread_keeps_its_own()
    {
        Assert.True(OperatingSystem.IsLinux(), "the server's target is Linux");
        var idle = await LowPriorityThread.RunAsync("test idle", 10, idle: true, LowPriorityThread.CurrentThreadPriority);
        Assert.Equal((LowPriorityThread.SchedIdle, LowPriorityThread.IdleIoPriority), idle);

        var niceOnly = await LowPriorityThread.RunAsync("test nice", 10, idle: false, LowPriorityThread.CurrentThreadPriority);
        Assert.NotEqual(LowPriorityThread.SchedIdle, niceOnly!.Value.Policy);
        Assert.NotEqual(LowPriorityThread.SchedIdle, LowPriorityThread.CurrentThreadPriority()!.Value.Policy);
    }
}

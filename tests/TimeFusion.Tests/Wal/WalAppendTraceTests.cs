using TimeFusion.Ingest;
using TimeFusion.Tables;
using TimeFusion.Tests.Engine;
using TimeFusion.Tests.Infrastructure;
using TimeFusion.Wal;

namespace TimeFusion.Tests.Wal;

/// <summary>An append's trace (<see cref="WalAppendTrace"/>) marks queued, taken, written and fsynced in that order, and only once each happened.</summary>
public sealed class WalAppendTraceTests : IDisposable
{
    private readonly TempDirectory _dir = new();
    private static readonly TableId Id = new("proj-trace", "events");

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task A_trace_marks_the_write_before_the_fsync_and_the_fsync_only_once_it_returned()
    {
        var storage = new FaultInjectingWalStorage(new LocalWalStorage(_dir.Path));
        await using var log = await WriteAheadLog.OpenAsync(Id, storage);
        using var gate = new SemaphoreSlim(0);
        storage.FlushGate = gate;
        var rows = BatchValidator.Validate(EngineTestKit.Rows("a", 100), EngineTestKit.Schema, Id.Project, new IngestOptions());
        var trace = new WalAppendTrace();

        var append = log.AppendInsertAsync(rows, CancellationToken.None, trace).AsTask();
        await Condition.WaitUntilAsync(() => trace.Written != 0, "the group written, its fsync waiting at the gate");

        Assert.False(append.IsCompleted, "acknowledged before its fsync");
        Assert.Equal(0, trace.Synced);
        Assert.NotEqual(0, trace.Enqueued);
        Assert.True(trace.Enqueued <= trace.Claimed && trace.Claimed <= trace.Written, $"{trace.Enqueued} ≤ {trace.Claimed} ≤ {trace.Written}");
        Assert.Equal(1, trace.GroupEntries);

        gate.Release();
        Assert.Equal(1, await append);
        Assert.True(trace.Synced >= trace.Written, $"synced {trace.Synced} before written {trace.Written}");
        Assert.Equal(1, storage.Flushes);
    }

    [Fact]
    public async Task An_append_without_a_trace_is_acknowledged_as_before()
    {
        await using var log = await WriteAheadLog.OpenAsync(Id, new LocalWalStorage(_dir.Path));
        var rows = BatchValidator.Validate(EngineTestKit.Rows("a", 10), EngineTestKit.Schema, Id.Project, new IngestOptions());
        Assert.Equal(1, await log.AppendInsertAsync(rows));
        Assert.Equal(2, await log.AppendInsertAsync(rows, CancellationToken.None, new WalAppendTrace()));
        var replayed = new List<long>();
        await foreach (var e in log.ReadAsync(0)) replayed.Add(e.Lsn);
        Assert.Equal([1L, 2L], replayed);
    }
}

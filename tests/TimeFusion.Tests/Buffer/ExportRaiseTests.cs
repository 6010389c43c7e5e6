using DuckDB.NET.Data;
using TimeFusion.Buffer;
using TimeFusion.DuckDb;
using TimeFusion.Tables;
using TimeFusion.Tests.Infrastructure;

namespace TimeFusion.Tests.Buffer;

/// <summary>
/// A lowered flush export (<see cref="BufferOptions.ExportNice"/>) is raised to normal priority as soon as its table's
/// tail crosses the falling-behind mark while it runs (rows appended meanwhile), and stays lowered while the table keeps
/// up; either way it writes exactly the rows it took, and the rows appended meanwhile stay buffered.
/// </summary>
public class ExportRaiseTests
{
    private static readonly TableId Id = new("p1", "small");
    private static readonly DateTimeOffset Start = new(2024, 3, 5, 22, 0, 0, TimeSpan.Zero);

    [Theory]
    // 100 rows exported, the mark at 500 (TailRows 1,000 × 0.5): the tail holds 100 + the rows appended meanwhile.
    [InlineData(399, true, false)]
    [InlineData(400, true, true)]
    [InlineData(850, true, true)]
    [InlineData(399, false, false)]
    [InlineData(400, false, true)]
    public async Task A_lowered_export_is_raised_once_its_table_falls_behind_while_it_runs(int appendedDuring, bool arrowWriter, bool raised)
    {
        // Exports are lowered only where this process may raise them again (root here, and in CI).
        Assert.True(ExportPriority.CanRaise || !OperatingSystem.IsLinux() || Environment.UserName != "root");
        var lowers = OperatingSystem.IsLinux() && ExportPriority.CanRaise;
        raised &= lowers;
        using var dir = new TempDirectory();
        await using var db = BufferTestDatabase.Open(o => (o.ExportNice, o.TailRows, o.FallingBehindFraction) = (7, 1_000, 0.5));
        await using var table = await BufferTable.CreateAsync(db, Id, BufferTestDatabase.SmallSchema, default);
        table.UseArrowWriter = arrowWriter;
        await table.AppendAsync(BufferTestDatabase.SmallBatch(100, "a", first: 0, start: Start), 1, default);

        // The export holds on its thread (lowered, its rows taken) until the rows below were appended.
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var go = new ManualResetEventSlim();
        table.OnExportThread = () =>
        {
            started.SetResult();
            Assert.True(go.Wait(TimeSpan.FromMinutes(1)));
        };
        var export = table.ExportParquetAsync(1, dir.Path, default);
        await started.Task;
        Assert.Equal(lowers, table.ExportRunningLowered);

        // Two appends: the first stays below the mark whatever the total, the second may cross it.
        var first = Math.Min(appendedDuring, 399) / 2;
        await table.AppendAsync(BufferTestDatabase.SmallBatch(first, "b", first: 1_000, start: Start.AddMinutes(1)), 2, default);
        Assert.Equal(lowers, table.ExportRunningLowered);
        await table.AppendAsync(BufferTestDatabase.SmallBatch(appendedDuring - first, "c", first: 2_000, start: Start.AddMinutes(2)), 3, default);
        Assert.Equal(lowers && !raised, table.ExportRunningLowered);
        go.Set();
        var files = await export;

        Assert.Equal(arrowWriter, table.LastExportUsedArrowWriter);
        Assert.Equal(lowers ? 7 : 0, table.LastExportNice);
        Assert.Equal(raised, table.LastExportRaised);
        Assert.Equal(lowers && !raised ? 7 : 0, table.LastExportNiceAtEnd);
        Assert.False(table.ExportRunningLowered);
        Assert.Equal(raised ? "nice 7 → 0" : lowers ? "nice 7" : "nice 0", table.LastExportPriority);

        // The files hold the 100 rows the export took, nothing appended meanwhile; those stay buffered.
        Assert.Equal(100, files.Sum(f => f.Rows));
        using var duck = new DuckDBConnection("DataSource=:memory:");
        duck.Open();
        using (var cmd = duck.CreateCommand())
        {
            cmd.CommandText = $"SELECT count(*), count(DISTINCT id), min(id), max(n) FROM read_parquet([{string.Join(", ", files.Select(f => SqlNames.Literal(f.LocalPath)))}])";
            using var reader = cmd.ExecuteReader();
            Assert.True(reader.Read());
            Assert.Equal(100L, reader.GetInt64(0));
            Assert.Equal(100L, reader.GetInt64(1));
            Assert.StartsWith("a-", reader.GetString(2));
            Assert.True(reader.GetInt64(3) < 1_000);
        }
        Assert.Equal(100, await table.DeleteUpToAsync(1, default));
        Assert.Equal(appendedDuring, table.TailRows);
    }

    [Fact]
    public async Task An_export_that_starts_behind_is_not_lowered_and_has_nothing_to_raise()
    {
        using var dir = new TempDirectory();
        await using var db = BufferTestDatabase.Open(o => (o.ExportNice, o.TailRows, o.FallingBehindFraction) = (7, 1_000, 0.5));
        await using var table = await BufferTable.CreateAsync(db, Id, BufferTestDatabase.SmallSchema, default);
        await table.AppendAsync(BufferTestDatabase.SmallBatch(600, "a", first: 0, start: Start), 1, default);
        var lowered = true;
        table.OnExportThread = () => lowered = table.ExportRunningLowered;

        var files = await table.ExportParquetAsync(1, dir.Path, default);

        Assert.False(lowered);
        Assert.Equal(600, files.Sum(f => f.Rows));
        Assert.Equal(0, table.LastExportNice);
        Assert.False(table.LastExportRaised);
    }
}

/// <summary>
/// Arrow's pool workers, which the exports share, run at the lowest niceness of the exports running: a raised export
/// brings them to normal, and once it ends they go back to the niceness of the lowered exports still running. Alone
/// (no other test's export may set the workers meanwhile); a plain thread named as exports' stands in for a native worker.
/// </summary>
[Collection(Name)]
public class ExportPriorityPoolTests
{
    public const string Name = "Arrow pool niceness";

    [Fact]
    public async Task The_pool_workers_follow_the_lowest_niceness_of_the_running_exports()
    {
        if (!OperatingSystem.IsLinux()) return;
        using var release = new ManualResetEventSlim();
        var (worker, _) = ArrowCpuPoolTests.StartThread(register: false, release);
        var workerTid = await worker;
        var nine = await ExportOn(9);
        var eleven = await ExportOn(11);
        try
        {
            Assert.Equal(9, ArrowCpuPoolTests.NiceOf(workerTid));

            nine.Priority.Raise();
            await ExportPriority.PoolUpdated;

            Assert.True(nine.Priority.Raised);
            Assert.Equal(ExportPriority.CanRaise, !nine.Priority.RaiseRefused);
            var normal = ExportPriority.CanRaise ? 0 : 9;
            Assert.Equal(normal, ArrowCpuPoolTests.NiceOf(nine.Tid));
            Assert.Equal(normal, ArrowCpuPoolTests.NiceOf(workerTid));
            Assert.Equal(11, ArrowCpuPoolTests.NiceOf(eleven.Tid));

            // The raised export ends: the workers go back to the one still running, lowered (lowering always works).
            nine.Done.Set();
            await nine.Ended;
            Assert.Equal(11, ArrowCpuPoolTests.NiceOf(workerTid));
        }
        finally
        {
            nine.Done.Set();
            eleven.Done.Set();
            release.Set();
            await Task.WhenAll(nine.Ended, eleven.Ended);
        }
    }

    private sealed record Export(int Tid, ExportPriority Priority, ManualResetEventSlim Done, Task Ended);

    // An export's thread at niceness nice, entered until Done is set.
    private static async Task<Export> ExportOn(int nice)
    {
        var entered = new TaskCompletionSource<(int, ExportPriority)>(TaskCreationOptions.RunContinuationsAsynchronously);
        var ended = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var done = new ManualResetEventSlim();
        var thread = new Thread(() =>
        {
            var tid = LowPriorityThread.CurrentThreadId()!.Value;
            Assert.True(LowPriorityThread.SetNice(tid, nice));
            using (ArrowCpuPool.RegisterExportThread())
            using (var priority = ExportPriority.Enter(nice, setsPool: true))
            {
                entered.SetResult((tid, priority));
                done.Wait();
            }
            ended.SetResult();
        }) { IsBackground = true, Name = "TimeFusion export" };
        thread.Start();
        var (id, p) = await entered.Task;
        return new Export(id, p, done, ended.Task);
    }
}

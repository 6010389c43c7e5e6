using TimeFusion.Tests.Infrastructure;
using TimeFusion.Buffer;
using TimeFusion.Engine;
using TimeFusion.Tables;

namespace TimeFusion.Tests.Engine;

/// <summary>
/// Concurrent inserts into one table share a buffer transaction: the writer whose turn it is appends the batches of
/// the writers queued behind it (<see cref="BufferOptions.MaxCoalescedRows"/>). Every row lands once, acknowledged
/// means visible, and a failed group faults the table without losing anything that is in the WAL.
/// </summary>
public sealed class CoalescedApplyTests : EngineTestBase
{
    // DuckDB transactions are counted as batches reach DuckDB: without the tail, which would hold these small batches back.
    protected override BufferOptions? KitBuffer => new() { TailRows = 0, MemoryLimitBytes = 1L << 30, SoftLimitBytes = 256L << 20, HardLimitBytes = 512L << 20, Threads = 2 };

    private static readonly TableId Id = new("p", "events");

    /// <summary>Holds the first buffer append until the test releases it; <paramref name="then"/> runs before every append.</summary>
    private static async Task<(TaskCompletionSource Entered, TaskCompletionSource Release)> HoldFirstAppend(TableEngine engine, Func<long, long, Task>? then = null)
    {
        var entered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var first = 0;
        engine.BeforeBufferAppend = async (from, to) =>
        {
            if (Interlocked.Exchange(ref first, 1) == 0)
            {
                entered.SetResult();
                await release.Task;
            }
            if (then is not null) await then(from, to);
        };
        await Task.CompletedTask;
        return (entered, release);
    }


    [Fact]
    public async Task Writers_queued_behind_an_append_are_applied_in_one_transaction_and_every_row_lands_once()
    {
        await using var engine = await Kit.OpenAsync(Id);
        var (entered, release) = await HoldFirstAppend(engine);
        var first = engine.InsertAsync(EngineTestKit.Rows("a", 100));
        await entered.Task;
        // Four more writers log their batches and queue for their turn behind the held append.
        var queued = Enumerable.Range(0, 4).Select(i => engine.InsertAsync(EngineTestKit.Rows($"q{i}-", 50 + i))).ToList();
        await Condition.WaitUntilAsync(() => engine.WaitingToApply == 4, "four writers waiting to apply");
        Assert.Equal(0, Stats(engine).AppendTransactions);
        release.SetResult();
        var lsns = new List<long> { await first };
        foreach (var q in queued) lsns.Add(await q);

        Assert.Equal(Enumerable.Range(1, 5).Select(i => (long)i), lsns.Order());
        // The held writer's own batch went alone; the four queued ones then went together in one transaction.
        Assert.Equal(2, Stats(engine).AppendTransactions);
        Assert.Equal(5, Stats(engine).AppendedBatches);
        Assert.Equal(5, engine.AppliedThroughLsn);
        using (var s = engine.OpenSnapshot())
            Assert.Equal((100L + 50 + 51 + 52 + 53, 100L + 50 + 51 + 52 + 53), Trim(await Kit.CountAsync(s)));

        // Flushed and reopened, every row is there exactly once.
        await engine.FlushAsync();
        using (var s = engine.OpenSnapshot())
            Assert.Equal((306L, 306L), Trim(await Kit.CountAsync(s)));
    }

    [Fact]
    public async Task A_group_never_takes_more_rows_than_the_limit()
    {
        await using var kit = new EngineTestKit(Root + "/limit", new BufferOptions { TailRows = 0, MaxCoalescedRows = 120, Threads = 2, MemoryLimitBytes = 512L << 20, SoftLimitBytes = 256L << 20, HardLimitBytes = 384L << 20 });
        await using var engine = await kit.OpenAsync(Id);
        var groups = new List<(long From, long To)>();
        var (entered, release) = await HoldFirstAppend(engine, (from, to) =>
        {
            lock (groups) groups.Add((from, to));
            return Task.CompletedTask;
        });
        var first = engine.InsertAsync(EngineTestKit.Rows("a", 10));
        await entered.Task;
        // 50-row batches: at most two fit one 120-row group (the leader's own batch counts).
        var queued = Enumerable.Range(0, 5).Select(i => engine.InsertAsync(EngineTestKit.Rows($"q{i}-", 50))).ToList();
        await Condition.WaitUntilAsync(() => engine.WaitingToApply == 5, "five writers waiting to apply");
        release.SetResult();
        await first;
        await Task.WhenAll(queued);

        Assert.Equal(6, engine.AppliedThroughLsn);
        Assert.All(groups, g => Assert.True(g.To - g.From + 1 <= 2, $"group {g.From}–{g.To} is larger than 120 rows"));
        Assert.Equal(Enumerable.Range(1, 6).Select(i => (long)i), groups.SelectMany(g => Enumerable.Range((int)g.From, (int)(g.To - g.From + 1)).Select(i => (long)i)).Order());
        using var s = engine.OpenSnapshot();
        Assert.Equal((260L, 260L), Trim(await kit.CountAsync(s)));
    }

    [Fact]
    public async Task A_failed_group_faults_the_table_every_writer_of_it_gets_the_error_and_reopening_restores_every_logged_row()
    {
        await using (var engine = await Kit.OpenAsync(Id))
        {
            await engine.InsertAsync(EngineTestKit.Rows("acked", 40));
            var (entered, release) = await HoldFirstAppend(engine, (from, to) =>
                to > from ? throw new InvalidOperationException("injected: the buffer append failed") : Task.CompletedTask);
            var first = engine.InsertAsync(EngineTestKit.Rows("a", 10));
            await entered.Task;
            var queued = Enumerable.Range(0, 3).Select(i => engine.InsertAsync(EngineTestKit.Rows($"q{i}-", 20))).ToList();
            await Condition.WaitUntilAsync(() => engine.WaitingToApply == 3, "three writers waiting to apply");
            release.SetResult();
            Assert.Equal(2, await first); // went alone, before the failing group
            foreach (var q in queued)
                await Assert.ThrowsAsync<TableFaultedException>(() => q);
            Assert.True(engine.IsFaulted);
            await Assert.ThrowsAsync<TableFaultedException>(() => engine.InsertAsync(EngineTestKit.Rows("late", 5)));
        }
        // The group's batches are in the WAL: reopening replays them, and everything acknowledged is there once.
        await using var reopened = await Kit.OpenAsync(Id);
        Assert.False(reopened.IsFaulted);
        Assert.Equal(5, reopened.AppliedThroughLsn);
        using var s = reopened.OpenSnapshot();
        Assert.Equal((40L + 10 + 60, 110L), Trim(await Kit.CountAsync(s)));
    }

    [Fact]
    public async Task With_coalescing_off_each_batch_is_its_own_transaction()
    {
        await using var kit = new EngineTestKit(Root + "/off", new BufferOptions { TailRows = 0, MaxCoalescedRows = 0, Threads = 2, MemoryLimitBytes = 512L << 20, SoftLimitBytes = 256L << 20, HardLimitBytes = 384L << 20 });
        await using var engine = await kit.OpenAsync(Id);
        var (entered, release) = await HoldFirstAppend(engine);
        var first = engine.InsertAsync(EngineTestKit.Rows("a", 10));
        await entered.Task;
        var queued = Enumerable.Range(0, 3).Select(i => engine.InsertAsync(EngineTestKit.Rows($"q{i}-", 20))).ToList();
        await Condition.WaitUntilAsync(() => engine.WaitingToApply == 3, "three writers waiting to apply");
        release.SetResult();
        await first;
        await Task.WhenAll(queued);
        Assert.Equal(4, Stats(engine).AppendTransactions);
        using var s = engine.OpenSnapshot();
        Assert.Equal((70L, 70L), Trim(await kit.CountAsync(s)));
    }

    private static BufferTableStats Stats(TableEngine engine) => engine.BufferStats;

    private static (long, long) Trim((long Rows, long DistinctIds, long DurationSum) c) => (c.Rows, c.DistinctIds);
}

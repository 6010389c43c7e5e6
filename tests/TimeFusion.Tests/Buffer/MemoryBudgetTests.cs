using System.Diagnostics;
using TimeFusion.Buffer;

namespace TimeFusion.Tests.Buffer;

public class MemoryBudgetTests
{
    [Fact]
    public async Task Grants_within_the_hard_limit_and_counts_usage()
    {
        var budget = new MemoryBudget(softLimitBytes: 60, hardLimitBytes: 100);
        var a = await budget.ReserveAsync(40, TimeSpan.Zero);
        var b = await budget.ReserveAsync(60, TimeSpan.Zero);
        Assert.Equal(100, budget.UsedBytes);
        Assert.True(budget.IsOverSoftLimit);
        Assert.False(budget.TryReserve(1, out _));
        a.Release();
        a.Release(); // idempotent
        Assert.Equal(60, budget.UsedBytes);
        b.Dispose();
        Assert.Equal(0, budget.UsedBytes);
        Assert.False(budget.IsOverSoftLimit);
    }

    [Fact]
    public async Task A_waiter_is_woken_by_a_release()
    {
        var budget = new MemoryBudget(50, 100);
        var held = await budget.ReserveAsync(80, TimeSpan.Zero);
        var waiting = budget.ReserveAsync(50, TimeSpan.FromSeconds(30)).AsTask();
        Assert.False(waiting.IsCompleted);
        Assert.Equal(1, budget.WaitingCount);
        held.Release();
        var granted = await waiting.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(50, granted.Bytes);
        Assert.Equal(50, budget.UsedBytes);
        Assert.Equal(0, budget.WaitingCount);
    }

    [Fact]
    public async Task A_waiter_gets_a_retryable_error_after_max_wait()
    {
        var budget = new MemoryBudget(50, 100);
        using var held = await budget.ReserveAsync(90, TimeSpan.Zero);
        var clock = Stopwatch.StartNew();
        var e = await Assert.ThrowsAsync<MemoryPressureException>(() => budget.ReserveAsync(20, TimeSpan.FromMilliseconds(150)).AsTask());
        Assert.True(clock.Elapsed >= TimeSpan.FromMilliseconds(140), $"failed after {clock.Elapsed}");
        Assert.True(e.IsRetryable);
        Assert.Equal(90, budget.UsedBytes);
        Assert.Equal(0, budget.WaitingCount);
    }

    [Fact]
    public async Task Zero_wait_fails_at_once_and_oversized_requests_are_not_retryable()
    {
        var budget = new MemoryBudget(50, 100);
        using var held = await budget.ReserveAsync(90, TimeSpan.Zero);
        await Assert.ThrowsAsync<MemoryPressureException>(() => budget.ReserveAsync(20, TimeSpan.Zero).AsTask());
        var e = await Assert.ThrowsAsync<MemoryPressureException>(() => budget.ReserveAsync(101, TimeSpan.FromSeconds(10)).AsTask());
        Assert.False(e.IsRetryable);
    }

    [Fact]
    public async Task Cancelling_a_waiter_leaves_no_reservation_behind()
    {
        var budget = new MemoryBudget(50, 100);
        var held = await budget.ReserveAsync(90, TimeSpan.Zero);
        using var cts = new CancellationTokenSource();
        var waiting = budget.ReserveAsync(20, Timeout.InfiniteTimeSpan, cts.Token).AsTask();
        cts.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting);
        held.Release();
        Assert.Equal(0, budget.UsedBytes);
        Assert.Equal(0, budget.WaitingCount);
    }

    [Fact]
    public async Task Waiters_are_served_in_arrival_order()
    {
        var budget = new MemoryBudget(50, 100);
        var held = await budget.ReserveAsync(100, TimeSpan.Zero);
        var big = budget.ReserveAsync(80, TimeSpan.FromSeconds(30)).AsTask();
        var small = budget.ReserveAsync(10, TimeSpan.FromSeconds(30)).AsTask();
        // A small request must not overtake the queued big one, even if it would fit now.
        Assert.False(budget.TryReserve(1, out _));
        held.Release();
        var bigReservation = await big.WaitAsync(TimeSpan.FromSeconds(10));
        var smallReservation = await small.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(90, budget.UsedBytes);
        bigReservation.Release();
        smallReservation.Release();
    }

    [Fact]
    public async Task Hard_limit_is_never_exceeded_under_concurrent_writers()
    {
        const long hard = 10_000;
        var budget = new MemoryBudget(5_000, hard);
        long outstanding = 0, maxOutstanding = 0, granted = 0, timedOut = 0;
        var writers = Enumerable.Range(0, 16).Select(w => Task.Run(async () =>
        {
            var random = new Random(w);
            for (var i = 0; i < 300; i++)
            {
                var bytes = random.Next(1, 3_000);
                MemoryReservation r;
                try
                {
                    r = await budget.ReserveAsync(bytes, TimeSpan.FromSeconds(5));
                }
                catch (MemoryPressureException)
                {
                    Interlocked.Increment(ref timedOut);
                    continue;
                }
                var now = Interlocked.Add(ref outstanding, bytes);
                long seen;
                while (now > (seen = Interlocked.Read(ref maxOutstanding)) && Interlocked.CompareExchange(ref maxOutstanding, now, seen) != seen)
                {
                }
                Interlocked.Increment(ref granted);
                if (i % 3 == 0)
                    await Task.Yield();
                Interlocked.Add(ref outstanding, -bytes);
                r.Release();
            }
        })).ToArray();
        await Task.WhenAll(writers).WaitAsync(TimeSpan.FromSeconds(60));
        Assert.True(maxOutstanding <= hard, $"outstanding reached {maxOutstanding}");
        Assert.True(budget.PeakUsedBytes <= hard, $"peak {budget.PeakUsedBytes}");
        Assert.True(maxOutstanding > hard / 2, $"the test never got close to the limit ({maxOutstanding})");
        Assert.Equal(16 * 300, granted + timedOut);
        Assert.Equal(0, timedOut);
        Assert.Equal(0, budget.UsedBytes);
    }

    [Fact]
    public async Task Released_but_unreclaimed_memory_counts_until_reconciled()
    {
        var budget = new MemoryBudget(500, 1_000);
        var r = await budget.ReserveAsync(800, TimeSpan.Zero);
        r.MarkHeld();
        r.ReleaseAfterReclaim();
        // DuckDB has not given the memory back yet: still used.
        Assert.Equal(800, budget.UsedBytes);
        var waiting = budget.ReserveAsync(500, TimeSpan.FromSeconds(30)).AsTask();
        Assert.False(waiting.IsCompleted);
        // A CHECKPOINT ran; DuckDB now reports 100 bytes of table memory.
        var token = budget.BeginReconcile();
        budget.CompleteReconcile(token, 100);
        var granted = await waiting.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(600, budget.UsedBytes);
        Assert.Equal(0, budget.UnreclaimedBytes);
        granted.Release();
    }

    [Fact]
    public async Task Reconciliation_follows_measured_memory_both_ways()
    {
        var budget = new MemoryBudget(500, 1_000);
        var a = await budget.ReserveAsync(300, TimeSpan.Zero);
        a.MarkHeld();
        // Estimates fell short: DuckDB holds 700 for what we thought was 300.
        budget.CompleteReconcile(budget.BeginReconcile(), 700);
        Assert.Equal(700, budget.UsedBytes);
        Assert.False(budget.TryReserve(301, out _));
        Assert.True(budget.TryReserve(300, out var b));
        b!.Release();
        // After compression DuckDB holds only 100: room for more.
        budget.CompleteReconcile(budget.BeginReconcile(), 100);
        Assert.Equal(100, budget.UsedBytes);
        // Releasing the held 300 (whose real footprint is 100) while unreclaimed must not drive usage below reality.
        a.ReleaseAfterReclaim();
        Assert.Equal(100, budget.UsedBytes);
        budget.CompleteReconcile(budget.BeginReconcile(), 0);
        Assert.Equal(0, budget.UsedBytes);
    }

    [Fact]
    public async Task Crossing_the_soft_limit_raises_the_event_once()
    {
        var budget = new MemoryBudget(50, 100);
        var raised = 0;
        budget.SoftLimitExceeded += (_, _) => Interlocked.Increment(ref raised);
        var a = await budget.ReserveAsync(40, TimeSpan.Zero);
        Assert.Equal(0, raised);
        var b = await budget.ReserveAsync(20, TimeSpan.Zero);
        Assert.Equal(1, raised);
        var c = await budget.ReserveAsync(20, TimeSpan.Zero);
        Assert.Equal(1, raised);
        b.Release();
        c.Release();
        var d = await budget.ReserveAsync(30, TimeSpan.Zero);
        Assert.Equal(2, raised);
        a.Release();
        d.Release();
    }
}

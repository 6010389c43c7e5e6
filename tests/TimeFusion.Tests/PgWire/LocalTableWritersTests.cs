using TimeFusion.Tests.Infrastructure;
using Microsoft.Extensions.Logging.Abstractions;
using TimeFusion.Grains;
using TimeFusion.Tables;
using TimeFusion.Tests.Engine;

namespace TimeFusion.Tests.PgWire;

/// <summary>
/// The gate of direct inserts (<see cref="LocalTableWriters"/>) over a real engine: a closed writer takes nothing more
/// and its close waits for the inserts in flight (the grain disposes the engine only after that); a faulted or unknown
/// table is left to the grain call; once a second a statement goes through the grain (which keeps it active).
/// </summary>
public sealed class LocalTableWritersTests : EngineTestBase
{
    private static readonly TableId Id = new("p", "events");
    private const string Key = "p/events";


    [Fact]
    public async Task Close_waits_for_inserts_in_flight_and_then_takes_nothing_more()
    {
        await using var engine = await Kit.OpenAsync(Id);
        var writers = new LocalTableWriters();
        Assert.Null(writers.TryInsert(Key, EngineTestKit.Rows("none", 3))); // no grain offered it yet
        var writer = writers.Open(Key, engine, NullLogger.Instance);
        writer.GrainCalled();
        var entered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        engine.BeforeBufferAppend = async (_, _) =>
        {
            entered.TrySetResult();
            await release.Task;
        };
        var held = writers.TryInsert(Key, EngineTestKit.Rows("held", 10));
        Assert.NotNull(held);
        await entered.Task;

        var close = writer.CloseAsync();
        Assert.Equal(0, writers.Count);
        Assert.Null(writers.TryInsert(Key, EngineTestKit.Rows("late", 3)));
        Assert.Null(writer.TryInsert(EngineTestKit.Rows("late", 3)));
        await Task.Delay(50);
        Assert.False(close.IsCompleted, "the close must wait for the insert in flight");
        release.SetResult();
        Assert.Equal(1, await held);
        await close.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(1, engine.AppliedThroughLsn);
    }

    [Fact]
    public async Task A_statement_a_second_goes_through_the_grain()
    {
        await using var engine = await Kit.OpenAsync(Id);
        var writers = new LocalTableWriters();
        var writer = writers.Open(Key, engine, NullLogger.Instance);
        writer.GrainCalled();
        var called = System.Diagnostics.Stopwatch.GetTimestamp();
        var first = writer.TryInsert(EngineTestKit.Rows("a", 2));
        Assert.NotNull(first);
        await first;
        // Once the interval passed without a grain call, the next statement is sent to the grain, the following ones not.
        await Condition.WaitUntilAsync(() => System.Diagnostics.Stopwatch.GetElapsedTime(called) > LocalTableWriters.GrainCallInterval, "the interval");
        Assert.Null(writer.TryInsert(EngineTestKit.Rows("to-grain", 2)));
        var next = writer.TryInsert(EngineTestKit.Rows("b", 2));
        Assert.NotNull(next);
        await next;
        await writer.CloseAsync();
    }
}

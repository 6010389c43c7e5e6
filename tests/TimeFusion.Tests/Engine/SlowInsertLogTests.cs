using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using TimeFusion.Engine;
using TimeFusion.Tables;

namespace TimeFusion.Tests.Engine;

/// <summary>
/// <c>TimeFusion:Ingest:SlowInsertLogThreshold</c>: an insert slower than it is logged with where its time went, and
/// the tracing changes nothing of what is acknowledged (every acknowledged row durable and visible exactly once, with
/// flushes running).
/// </summary>
public sealed class SlowInsertLogTests : EngineTestBase
{
    private readonly Lines _log = new();

    private EngineServices Services(TimeSpan threshold)
    {
        Kit.Options.Ingest.SlowInsertLogThreshold = threshold;
        return new EngineServices(Kit.Buffer, Kit.Objects, Kit.Wal, Kit.Options, _log);
    }

    [Fact]
    public async Task An_insert_past_the_threshold_is_logged_with_each_step()
    {
        await using var engine = await TableEngine.OpenAsync(new TableId("p", "events"), EngineTestKit.Schema, Services(TimeSpan.FromTicks(1)));
        await engine.InsertAsync(EngineTestKit.Rows("a", 200));
        await engine.InsertAsync(EngineTestKit.Rows("b", 100));

        var slow = _log.Warnings.Where(l => l.Contains(": slow insert at LSN ", StringComparison.Ordinal)).ToList();
        Assert.Equal(2, slow.Count);
        Assert.Contains(slow, l => l.Contains("slow insert at LSN 1: 200 rows in ", StringComparison.Ordinal));
        Assert.Contains(slow, l => l.Contains("slow insert at LSN 2: 100 rows in ", StringComparison.Ordinal));
        foreach (var step in new[] { "validate ", "reserve ", "pin ", "wal encode ", "wal queue ", "wal write ", "(1 entries)", "fsync ", "resume ", "apply wait ", "apply ", "gc paused ", "gen2 +" })
            Assert.All(slow, l => Assert.Contains(step, l, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Inserts_under_the_threshold_and_with_it_off_are_not_logged()
    {
        await using (var engine = await TableEngine.OpenAsync(new TableId("p", "hour"), EngineTestKit.Schema, Services(TimeSpan.FromHours(1))))
            await engine.InsertAsync(EngineTestKit.Rows("a", 50));
        await using (var engine = await TableEngine.OpenAsync(new TableId("p", "off"), EngineTestKit.Schema, Services(TimeSpan.Zero)))
            await engine.InsertAsync(EngineTestKit.Rows("b", 50));
        Assert.DoesNotContain(_log.Warnings, l => l.Contains("slow insert", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Traced_concurrent_inserts_with_flushes_running_keep_every_acknowledged_row_exactly_once()
    {
        var id = new TableId("p", "busy");
        const int writers = 6, perWriter = 15, rows = 40;
        var acked = new ConcurrentBag<long>();
        await using (var engine = await TableEngine.OpenAsync(id, EngineTestKit.Schema, Services(TimeSpan.FromTicks(1))))
        {
            using var stop = new CancellationTokenSource();
            var flushes = 0;
            var flusher = Task.Run(async () =>
            {
                while (!stop.IsCancellationRequested)
                {
                    await engine.FlushAsync();
                    flushes++;
                }
            });
            await Task.WhenAll(Enumerable.Range(0, writers).Select(w => Task.Run(async () =>
            {
                for (var i = 0; i < perWriter; i++)
                    acked.Add(await engine.InsertAsync(EngineTestKit.Rows($"w{w}-{i}", rows)));
            })));
            await stop.CancelAsync();
            await flusher;
            await engine.FlushAsync();
            Assert.True(flushes > 0);
            using var snapshot = engine.OpenSnapshot();
            Assert.Equal((writers * perWriter * rows, (long)writers * perWriter * rows), Counts(await Kit.CountAsync(snapshot)));
        }
        Assert.Equal(writers * perWriter, acked.Distinct().Count());
        // Each acknowledged insert logged once, by its LSN (writers whose batch an earlier writer applied included).
        var logged = _log.Warnings.Where(l => l.Contains("busy: slow insert at LSN ", StringComparison.Ordinal)).ToList();
        Assert.Equal(acked.Order(), logged.Select(l => long.Parse(System.Text.RegularExpressions.Regex.Match(l, "slow insert at LSN ([0-9]+):").Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture)).Order());
        // The flushes say how long each phase took.
        Assert.Contains(_log.Informations, l => l.Contains("busy: flushed ", StringComparison.Ordinal) && l.Contains("(export ", StringComparison.Ordinal)
                                                && l.Contains("buffer delete ", StringComparison.Ordinal));

        // Durable: a reopened engine holds each acknowledged row once.
        await using var reopened = await TableEngine.OpenAsync(id, EngineTestKit.Schema, Services(TimeSpan.Zero));
        using var after = reopened.OpenSnapshot();
        Assert.Equal((writers * perWriter * rows, (long)writers * perWriter * rows), Counts(await Kit.CountAsync(after)));
    }

    private static (long Rows, long Distinct) Counts((long Rows, long DistinctIds, long DurationSum) c) => (c.Rows, c.DistinctIds);

    /// <summary>Every line logged, by level.</summary>
    private sealed class Lines : ILoggerFactory, ILogger
    {
        public ConcurrentQueue<string> Warnings { get; } = new();
        public ConcurrentQueue<string> Informations { get; } = new();

        public ILogger CreateLogger(string categoryName) => this;
        public void AddProvider(ILoggerProvider provider) { }
        public void Dispose() { }
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (logLevel == LogLevel.Warning) Warnings.Enqueue(formatter(state, exception));
            else if (logLevel == LogLevel.Information) Informations.Enqueue(formatter(state, exception));
        }
    }
}

using TimeFusion.Buffer;

namespace TimeFusion.Tests.Buffer;

/// <summary>What the tail knows of a batch's rows as it arrives: timestamp range, order, dates (the export relies on it to skip work).</summary>
public class TailRowFactsTests
{
    private static readonly DateTimeOffset Day = new(2024, 3, 5, 23, 59, 0, TimeSpan.Zero);

    [Fact]
    public void An_ordered_batch_over_midnight_is_ordered_with_both_dates()
    {
        using var batch = BufferTestDatabase.SmallBatch(100, start: Day); // 60 rows on day 1, 40 on day 2
        var facts = TailRowFacts.Of(batch, BufferTestDatabase.SmallSchema);
        Assert.True(facts.Ordered);
        Assert.Equal(Micros(Day), facts.MinTimestamp);
        Assert.Equal(Micros(Day.AddSeconds(99)), facts.MaxTimestamp);
        Assert.Equal([new DateOnly(2024, 3, 5), new DateOnly(2024, 3, 6)], facts.DateValues!);
    }

    [Fact]
    public void One_row_out_of_order_makes_the_batch_unordered_with_its_true_range()
    {
        using var batch = ArrowTestData.Build(BufferTestDatabase.SmallSchema, 50, (c, i) => Small(c.Name, i == 30 ? Day.AddSeconds(-5) : Day.AddSeconds(i), i));
        var facts = TailRowFacts.Of(batch, BufferTestDatabase.SmallSchema);
        Assert.False(facts.Ordered);
        Assert.Equal(Micros(Day.AddSeconds(-5)), facts.MinTimestamp);
        Assert.Equal(Micros(Day.AddSeconds(49)), facts.MaxTimestamp);
        Assert.Equal([new DateOnly(2024, 3, 5)], facts.DateValues!);
    }

    [Fact]
    public void Ordered_batches_are_ordered_together_only_when_they_do_not_overlap()
    {
        var first = Facts(Day, 10);
        var next = Facts(Day.AddSeconds(9), 10); // starts at the first's last timestamp: still non-decreasing
        var overlapping = Facts(Day.AddSeconds(5), 10);
        Assert.True(TailRowFacts.Combine([first, next]).Ordered);
        Assert.False(TailRowFacts.Combine([first, overlapping]).Ordered);
        Assert.False(TailRowFacts.Combine([next, first]).Ordered);
        // No rows in between change nothing; unknown facts promise nothing.
        Assert.True(TailRowFacts.Combine([first, TailRowFacts.Empty, next]).Ordered);
        var unknown = TailRowFacts.Combine([first, TailRowFacts.Unknown]);
        Assert.False(unknown.Ordered);
        Assert.Null(unknown.Dates);
        Assert.Same(TailRowFacts.Empty, TailRowFacts.Combine([]));
    }

    [Fact]
    public void Ordered_runs_arriving_out_of_order_are_arranged_by_time_only_when_they_do_not_overlap()
    {
        TailRowFacts[] runs = [Facts(Day.AddSeconds(20), 10), Facts(Day, 10), Facts(Day.AddSeconds(10), 10)];
        var (order, facts) = TailRowFacts.Arrange(runs);
        Assert.Equal([1, 2, 0], order);
        Assert.True(facts.Ordered);
        Assert.Equal(Micros(Day), facts.MinTimestamp);

        // Overlapping runs, or one run out of order itself, keep their order and need a sort.
        (order, facts) = TailRowFacts.Arrange([Facts(Day.AddSeconds(5), 10), Facts(Day, 10)]);
        Assert.Equal([0, 1], order);
        Assert.False(facts.Ordered);
        (order, facts) = TailRowFacts.Arrange([Facts(Day.AddSeconds(20), 10), Facts(Day, 10) with { Ordered = false }]);
        Assert.Equal([0, 1], order);
        Assert.False(facts.Ordered);
    }

    [Fact]
    public void Combined_dates_are_the_union_in_order()
    {
        var facts = TailRowFacts.Combine([Facts(Day.AddDays(2), 3), Facts(Day, 120), Facts(Day.AddDays(2), 3)]);
        Assert.Equal([new DateOnly(2024, 3, 5), new DateOnly(2024, 3, 6), new DateOnly(2024, 3, 7)], facts.DateValues!);
        Assert.False(facts.Ordered);
    }

    private static TailRowFacts Facts(DateTimeOffset start, int rows)
    {
        using var batch = BufferTestDatabase.SmallBatch(rows, start: start);
        return TailRowFacts.Of(batch, BufferTestDatabase.SmallSchema);
    }

    private static object? Small(string column, DateTimeOffset ts, int i) => column switch
    {
        "timestamp" => ts,
        "date" => DateOnly.FromDateTime(ts.UtcDateTime),
        "id" => $"r-{i}",
        "project_id" => "p1",
        _ => null,
    };

    private static long Micros(DateTimeOffset t) => (t.UtcTicks - DateTime.UnixEpoch.Ticks) / 10;
}

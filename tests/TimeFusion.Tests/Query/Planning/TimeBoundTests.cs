using TimeFusion.Tables;
using TimeFusion.Query.Planning;

namespace TimeFusion.Tests.Query.Planning;

[Collection(PlanningCollection.Name)]
public sealed class TimeBoundTests(PlanningFixture f)
{
    private const long Day = 86_400_000_000L;
    private static readonly long Jan1 = new DateTimeOffset(2024, 1, 1, 0, 0, 0, TimeSpan.Zero).ToUnixTimeMilliseconds() * 1000;
    private static readonly long Jan2 = Jan1 + Day;
    private static readonly long NowMicros = PlanningFixture.Now.ToUnixTimeMilliseconds() * 1000;

    private TimeRange Range(string where, int scan = 0) =>
        f.Analyzer.Analyze("SELECT * FROM events e WHERE " + where, TestCatalog.Standard(), CallerScope.Admin("p1")).Scans[scan].Time;

    public static TheoryData<string, long?, long?> Forms => new()
    {
        { "timestamp > '2024-01-01'", Jan1 + 1, null },
        { "timestamp >= '2024-01-01 00:00:00'", Jan1, null },
        { "timestamp < TIMESTAMP '2024-01-02'", null, Jan2 - 1 },
        { "timestamp <= TIMESTAMPTZ '2024-01-02 00:00:00+00'", null, Jan2 },
        { "timestamp = '2024-01-01'::timestamptz", Jan1, Jan1 },
        { "'2024-01-01'::TIMESTAMPTZ < e.timestamp", Jan1 + 1, null },
        { "timestamp BETWEEN '2024-01-01' AND '2024-01-02'", Jan1, Jan2 },
        { "timestamp >= '2024-01-01 05:00:00+05'", Jan1, null },
        { "timestamp > now() - INTERVAL '1 hour'", NowMicros - 3_600_000_000L + 1, null },
        { "timestamp >= current_timestamp - INTERVAL '1 day' AND timestamp < now()", NowMicros - Day, NowMicros - 1 },
        { "timestamp >= DATE '2024-01-01' AND timestamp < DATE '2024-01-01' + INTERVAL '1 day'", Jan1, Jan2 - 1 },
        { "timestamp > '2024-01-01' AND timestamp > '2023-01-01' AND timestamp < '2024-06-01' AND timestamp < '2024-01-02'", Jan1 + 1, Jan2 - 1 },
        { "date = '2024-01-01'", Jan1, Jan2 - 1 },
        { "date >= DATE '2024-01-01' AND date < '2024-01-02'", Jan1, Jan2 - 1 },
        { "date > '2024-01-01'", Jan2, null },
        { "date <= '2024-01-01'", null, Jan2 - 1 },
        { "date < TIMESTAMPTZ '2024-01-02 12:00:00+00'", null, Jan2 + Day - 1 },
        { "date BETWEEN '2024-01-01' AND '2024-01-01' AND timestamp >= '2024-01-01 12:00:00'", Jan1 + Day / 2, Jan2 - 1 },
    };

    [Theory]
    [MemberData(nameof(Forms))]
    public void BoundsFromEachForm(string where, long? min, long? max)
    {
        var range = Range(where);
        Assert.Equal(min, range.MinMicros);
        Assert.Equal(max, range.MaxMicros);
    }

    [Theory]
    [InlineData("timestamp > '2024-01-01' OR level = 'x'")]
    [InlineData("timestamp + INTERVAL '1 hour' > '2024-01-01'")]
    [InlineData("timestamp > (SELECT max(timestamp) FROM events)")]
    [InlineData("timestamp > observed_timestamp")]
    [InlineData("timestamp > 'not a time'")]
    [InlineData("timestamp <> '2024-01-01'")]
    [InlineData("coalesce(timestamp, observed_timestamp) > '2024-01-01'")]
    [InlineData("timestamp::date = '2024-01-01'")]
    public void ConditionsThatDoNotBoundLeaveTheRangeOpen(string where)
    {
        var sql = where.Contains("observed_timestamp")
            ? "SELECT * FROM otel_logs_and_spans e WHERE " + where
            : "SELECT * FROM events e WHERE " + where;
        if (where.Contains("not a time"))
        {
            // DuckDB only notices the bad literal when it runs; planning must not invent a bound from it.
            Assert.True(f.Analyzer.Analyze(sql, TestCatalog.Standard(), CallerScope.Admin("p1")).Scans[0].Time.IsUnbounded);
            return;
        }
        var plan = f.Analyzer.Analyze(sql, TestCatalog.Standard(), CallerScope.Admin("p1"));
        Assert.True(plan.Scans[0].Time.IsUnbounded, $"{where}: {plan.Scans[0].Time}");
    }

    [Fact]
    public void ContradictoryBoundsGiveAnEmptyRange()
    {
        var range = Range("timestamp > '2024-01-02' AND timestamp < '2024-01-01'");
        Assert.True(range.IsEmpty);
    }

    [Fact]
    public void BoundsArePerTableReferenceAndFollowJoins()
    {
        var plan = f.Analyzer.Analyze("""
            SELECT * FROM events a JOIN events b ON a.trace_id = b.trace_id AND b.timestamp >= '2024-01-02'
            WHERE a.timestamp < '2024-01-02' AND a.project_id = 'p2'
            """, TestCatalog.Standard(), CallerScope.Admin("p1"));
        Assert.Equal(new TimeRange(null, Jan2 - 1), plan.Scans[0].Time);
        Assert.Equal(new TimeRange(Jan2, null), plan.Scans[1].Time);
    }

    [Fact]
    public void DatesOfTheRangeAreUtcDates()
    {
        var range = new TimeRange(Jan1 - 1, Jan2);
        Assert.Equal(new DateOnly(2023, 12, 31), range.FromDate);
        Assert.Equal(new DateOnly(2024, 1, 2), range.ToDate);
        Assert.Null(TimeRange.All.FromDate);
        Assert.Equal(DateOnly.MaxValue, new TimeRange(null, long.MaxValue).ToDate);
        Assert.Equal(DateOnly.MinValue, new TimeRange(long.MinValue, null).FromDate);
    }

    [Theory]
    [InlineData("SELECT * FROM events ORDER BY timestamp DESC LIMIT 10", 10L)]
    [InlineData("SELECT * FROM events e WHERE level = 'error' ORDER BY e.timestamp DESC, service LIMIT 10 OFFSET 20", 30L)]
    [InlineData("SELECT timestamp AS t, service FROM events ORDER BY t DESC LIMIT 5", 5L)]
    [InlineData("SELECT timestamp, service FROM events ORDER BY 1 DESC LIMIT 5", 5L)]
    [InlineData("SELECT * FROM events ORDER BY timestamp LIMIT 10", null)]
    [InlineData("SELECT * FROM events ORDER BY service DESC, timestamp DESC LIMIT 10", null)]
    [InlineData("SELECT * FROM events ORDER BY timestamp DESC", null)]
    [InlineData("SELECT service, max(timestamp) AS t FROM events GROUP BY service ORDER BY t DESC LIMIT 3", null)]
    [InlineData("SELECT DISTINCT service, timestamp FROM events ORDER BY timestamp DESC LIMIT 3", null)]
    [InlineData("SELECT * FROM (SELECT * FROM events ORDER BY timestamp DESC LIMIT 3) s", null)]
    [InlineData("SELECT * FROM events WHERE trace_id IN (SELECT trace_id FROM events) ORDER BY timestamp DESC LIMIT 3", null)]
    public void DetectsNewestFirstLimit(string sql, long? expected)
    {
        // One grain (the default project) and three (admin over all projects) detect it alike.
        var single = f.Analyzer.Analyze(sql, TestCatalog.Standard(), CallerScope.User("p1", ["p1"]));
        Assert.Equal(expected, single.NewestFirstLimit);
        var fanned = f.Analyzer.Analyze(sql, TestCatalog.Standard(), CallerScope.Admin());
        Assert.Equal(expected, fanned.NewestFirstLimit);
        if (expected is not null)
        {
            Assert.Equal(PlanKind.RowShipping, fanned.Kind);
            Assert.Equal(expected, fanned.Scans[0].NewestFirstLimit);
            Assert.Contains($"LIMIT {expected}", fanned.Scans[0].ScanSql);
            Assert.DoesNotContain("OFFSET", fanned.Scans[0].ScanSql);
        }
    }
}

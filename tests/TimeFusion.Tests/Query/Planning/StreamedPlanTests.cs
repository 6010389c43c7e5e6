using TimeFusion.Query.Planning;

namespace TimeFusion.Tests.Query.Planning;

/// <summary>
/// Row-wise statements over several grains stream (<see cref="QueryPlan.Stream"/>): each grain runs the statement whole
/// (sorted by a <c>create_sort_key</c> column when it orders), the door concatenates or merges by that key and applies
/// OFFSET/LIMIT. Checked here by running each grain's SQL on its project's rows, merging by the key in DuckDB, and
/// comparing with the statement over the union; and which shapes must not stream.
/// </summary>
[Collection(PlanningCollection.Name)]
public sealed class StreamedPlanTests(PlanningFixture f, FanOutDatabase db) : IClassFixture<FanOutDatabase>
{
    /// <summary>Statement, number of leading output columns that are its ORDER BY terms (0: unordered), LIMIT.</summary>
    public static TheoryData<string, int> Streamed => new()
    {
        { "SELECT * FROM events WHERE status = 503", 0 },
        { "SELECT service, duration FROM events WHERE duration > 4000", 0 },
        { "SELECT level, duration, trace_id FROM events ORDER BY level DESC, duration", 2 },
        { "SELECT level, duration, service FROM events ORDER BY level NULLS FIRST, duration DESC NULLS LAST", 2 },
        { "SELECT level, latency FROM events ORDER BY 1 DESC NULLS FIRST, 2", 2 },
        { "SELECT upper(service) AS s, status FROM events ORDER BY s, status DESC LIMIT 40 OFFSET 25", 2 },
        { "SELECT duration, service FROM events WHERE ok ORDER BY duration LIMIT 10", 1 },
        { "SELECT ok, timestamp, trace_id FROM events ORDER BY ok, timestamp", 2 },
        { "SELECT e.latency, r.range AS n FROM events e, range(3) r WHERE e.status = 500 ORDER BY e.latency DESC, n", 2 },
        { "SELECT e.service, r.range FROM events e JOIN range(2) r ON r.range < 1 WHERE e.status = 404", 0 },
        { "SELECT status, trace_id FROM events LIMIT 50", 0 },
        { "SELECT timestamp::date FROM events ORDER BY timestamp LIMIT 3", 1 },
        { "SELECT timestamp, service FROM events ORDER BY timestamp DESC LIMIT 5 OFFSET 2", 1 }, // newest-first
    };

    [Fact]
    public void A_newest_first_statement_keeps_its_gathered_form_and_gets_a_streamed_one()
    {
        // The gateway gathers small LIMITs (each grain reads its newest files first) and streams large ones.
        var plan = f.Analyzer.Analyze("SELECT service FROM events ORDER BY timestamp DESC LIMIT 5 OFFSET 2", TestCatalog.Standard(), CallerScope.Admin());
        Assert.Equal(7, plan.NewestFirstLimit);
        Assert.Equal(PlanKind.RowShipping, plan.Kind);
        Assert.NotNull(plan.Stream);
        Assert.True(plan.Stream!.Sorted);
        Assert.Equal((5L, 2L), (plan.Stream.Limit!.Value, plan.Stream.Offset));
    }

    [Theory]
    [MemberData(nameof(Streamed))]
    public void Streamed_statements_merged_by_their_sort_key_equal_the_statement_over_the_union(string sql, int sortColumns)
    {
        var plan = f.Analyzer.Analyze(sql, TestCatalog.Standard(), CallerScope.Admin());
        Assert.True(plan.Stream is not null, $"{sql}: planned {plan.Kind} without a stream ({plan.FallbackReason})");
        var stream = plan.Stream!;
        Assert.True(sortColumns > 0 == stream.Sorted, stream.GrainSql);
        db.Execute("DROP TABLE IF EXISTS gw.main.__streamed");
        try
        {
            db.Execute("USE g_p1");
            db.Execute($"CREATE TABLE gw.main.__streamed AS SELECT * FROM ({stream.GrainSql}) AS q LIMIT 0");
            foreach (var p in FanOutDatabase.Projects)
            {
                db.Execute("USE g_" + p);
                db.Execute($"INSERT INTO gw.main.__streamed {stream.GrainSql}");
            }
        }
        finally
        {
            db.Execute("USE gw");
        }
        var order = stream.Sorted ? $"EXCLUDE ({StreamSplitter.SortKeyColumn}) FROM __streamed ORDER BY {StreamSplitter.SortKeyColumn}" : "FROM __streamed";
        var limit = stream.Limit is { } l ? $" LIMIT {l} OFFSET {stream.Offset}" : "";
        var actual = db.Query($"SELECT * {order}{limit}");
        db.Execute("USE g_all");
        List<object?[]> expected;
        try
        {
            expected = db.Query(sql);
        }
        finally
        {
            db.Execute("USE gw");
        }
        if (stream.Limit is null)
            FanOutEquivalenceTests.AssertSameRows(expected, actual, ordered: false, sql);
        else
            Assert.Equal(expected.Count, actual.Count);
        // The ORDER BY terms in order (ties may come in either order, so only those columns are compared in order).
        if (sortColumns > 0)
            FanOutEquivalenceTests.AssertSameRows(expected.Select(r => r[..sortColumns]).ToList(), actual.Select(r => r[..sortColumns]).ToList(), ordered: true, sql);
    }

    [Theory]
    [InlineData("SELECT count(*) FROM events")]
    [InlineData("SELECT DISTINCT service FROM events")]
    [InlineData("SELECT service, row_number() OVER () FROM events")]
    [InlineData("SELECT r.range, e.service FROM range(3) r LEFT JOIN events e ON e.status = r.range")]
    [InlineData("SELECT service FROM events USING SAMPLE 10 ROWS")]
    [InlineData("SELECT a.service FROM events a JOIN events b USING (trace_id)")]
    [InlineData("WITH x AS (SELECT service FROM events) SELECT * FROM x ORDER BY service")]
    [InlineData("SELECT service FROM events WHERE project_id = 'p1'")] // one grain streams on its own
    public void Statements_that_are_not_row_wise_over_several_grains_do_not_stream(string sql)
    {
        var plan = f.Analyzer.Analyze(sql, TestCatalog.Standard(), CallerScope.Admin());
        Assert.Null(plan.Stream);
    }
}

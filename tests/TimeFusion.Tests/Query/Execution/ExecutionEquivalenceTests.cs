using TimeFusion.Query.Planning;

namespace TimeFusion.Tests.Query.Execution;

/// <summary>
/// Plans realistic statements, runs them through the executors exactly as the gateway and the grains will (over
/// engines whose rows are part Delta, part buffer), and compares with the same statement run by DuckDB over one
/// table holding every row.
/// </summary>
public sealed class ExecutionEquivalenceTests(ExecutionFixture f) : IClassFixture<ExecutionFixture>
{
    public static TheoryData<string, string, bool> Queries => new()
    {
        { "count in a window", "SELECT count(*) AS n FROM events WHERE timestamp > now() - INTERVAL '1 hour'", false },
        { "per-minute by service", "SELECT time_bucket(INTERVAL '1 minute', timestamp) AS minute, service, count(*) AS n FROM events WHERE timestamp >= now() - INTERVAL '2 hours' GROUP BY minute, service ORDER BY minute, service", true },
        { "avg/min/max/sum", "SELECT service, avg(latency) AS a, min(duration) AS lo, max(duration) AS hi, sum(duration) AS s, min(timestamp) AS first, max(level) AS l FROM events GROUP BY service", false },
        { "latest errors", "SELECT timestamp, service, status, project_id FROM events WHERE level = 'error' ORDER BY timestamp DESC LIMIT 10", true },
        { "latest with offset", "SELECT timestamp, trace_id FROM events ORDER BY timestamp DESC LIMIT 7 OFFSET 5", true },
        { "count distinct", "SELECT service, count(DISTINCT trace_id) AS traces FROM events GROUP BY service", false },
        { "percentile_cont", "SELECT service, percentile_cont(0.95) WITHIN GROUP (ORDER BY duration) AS p95 FROM events GROUP BY service", false },
        { "JSON ->>", "SELECT attributes->>'http.method' AS method, count(*) AS n, avg(duration) FILTER (WHERE ok) AS d FROM events GROUP BY 1", false },
        { "JSON -> and cast", "SELECT CAST(attributes->'n' AS INTEGER) AS n, count(*) AS c FROM events WHERE attributes->>'user' = 'u3' GROUP BY 1", false },
        { "window function", "SELECT service, timestamp, row_number() OVER (PARTITION BY service ORDER BY timestamp DESC) AS rn FROM events QUALIFY rn <= 3", false },
        { "IN subquery", "SELECT count(*) AS n FROM events WHERE trace_id IN (SELECT trace_id FROM events WHERE level = 'error' AND status = 503)", false },
        { "derived table", "SELECT count(*) AS n FROM (SELECT service, level, count(*) AS c FROM events GROUP BY ALL) s WHERE c > 10", false },
        { "CTE", "WITH recent AS (SELECT * FROM events WHERE timestamp > now() - INTERVAL '3 hours') SELECT service, count(*) AS n FROM recent GROUP BY service", false },
        { "date partition", "SELECT date, count(*) AS n, sum(status) AS s FROM events GROUP BY date", false },
        { "unnest tags", "SELECT t.tag, count(*) AS n FROM events e, unnest(e.tags) AS t(tag) WHERE e.ok GROUP BY 1", false },
        { "star, old rows", "SELECT * FROM events WHERE timestamp < now() - INTERVAL '30 hours' AND status = 503 AND duration < 300", false },
    };

    [Theory]
    [MemberData(nameof(Queries))]
    public async Task Admin_over_three_projects_equals_the_statement_over_all_rows(string name, string sql, bool ordered)
    {
        var (plan, actual, result) = await f.RunAsync(sql, CallerScope.Admin());
        using var _ = result;
        Assert.NotEqual(PlanKind.SingleGrain, plan.Kind);
        var (expected, reference) = f.Expected(sql);
        using var __ = reference;
        ArrowRows.AssertSameRows(expected, actual, ordered, $"{name} ({plan.Kind})");
        Assert.Equal(reference.Schema.FieldsList.Select(x => x.Name), result.Schema.FieldsList.Select(x => x.Name));
    }

    [Theory]
    [MemberData(nameof(Queries))]
    public async Task One_project_runs_whole_on_its_grain_and_equals_that_projects_rows(string name, string sql, bool ordered)
    {
        var (plan, actual, result) = await f.RunAsync(sql, CallerScope.User("p2", ["p2"]));
        using var _ = result;
        Assert.Equal(PlanKind.SingleGrain, plan.Kind);
        var (expected, reference) = f.Expected(sql, "only_p2");
        using var __ = reference;
        ArrowRows.AssertSameRows(expected, actual, ordered, name);
        // The grain runs the statement itself: the result has exactly the reference's Arrow types.
        Assert.Equal(reference.Schema.FieldsList.Select(x => $"{x.Name}:{x.DataType}"), result.Schema.FieldsList.Select(x => $"{x.Name}:{x.DataType}"));
    }

    [Fact]
    public async Task A_statement_without_tables_runs_at_the_gateway()
    {
        var (plan, actual, result) = await f.RunAsync("SELECT 1 + 1 AS two, now() AS t, 'x' || 'y' AS s", CallerScope.Admin());
        using var _ = result;
        Assert.Equal(PlanKind.GatewayOnly, plan.Kind);
        Assert.Equal(["2|ts:" + PlanningTicks + "|xy"], actual.Select(r => string.Join("|", r.Select(ArrowRows.Show))));
    }

    private static readonly string PlanningTicks = Planning.PlanningFixture.Now.UtcTicks.ToString(System.Globalization.CultureInfo.InvariantCulture);
}

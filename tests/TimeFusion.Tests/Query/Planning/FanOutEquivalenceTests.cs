using System.Globalization;
using System.Numerics;
using TimeFusion.Query.Planning;

namespace TimeFusion.Tests.Query.Planning;

/// <summary>
/// Runs plans the way the gateway will — each grain's SQL against that project's rows, the results unioned into
/// <c>__partials</c> / <c>__scan_i</c>, then the merge — and checks the answer equals the statement run over the
/// union of all projects' rows.
/// </summary>
[Collection(PlanningCollection.Name)]
public sealed class FanOutEquivalenceTests(PlanningFixture f, FanOutDatabase db) : IClassFixture<FanOutDatabase>
{
    private const string NowLiteral = "TIMESTAMPTZ '2024-05-17 12:30:45.123+00'";

    public static TheoryData<string, string, bool, PlanKind> Queries => new()
    {
        { "count in a window", "SELECT count(*) FROM events WHERE timestamp > now() - INTERVAL '1 hour'", false, PlanKind.PartialAggregate },
        { "per-minute by service (time_bucket)", "SELECT time_bucket(INTERVAL '1 minute', timestamp) AS minute, service, count(*) AS n FROM events WHERE timestamp >= now() - INTERVAL '2 hours' GROUP BY minute, service ORDER BY minute, service", true, PlanKind.PartialAggregate },
        { "integer bucketing, top groups", "SELECT epoch_us(timestamp) // 60000000 AS bucket, count(*) AS n, avg(duration) AS avg_d FROM events GROUP BY 1 ORDER BY 1 DESC LIMIT 30", true, PlanKind.PartialAggregate },
        { "avg/min/max/sum", "SELECT service, avg(latency), min(duration), max(duration), sum(duration), sum(latency), min(timestamp), max(level) FROM events GROUP BY service", false, PlanKind.PartialAggregate },
        { "HAVING and ORDER BY aggregate", "SELECT service, level, count(*) AS c FROM events GROUP BY ALL HAVING count(*) > 100 ORDER BY c DESC, service, level NULLS FIRST", true, PlanKind.PartialAggregate },
        { "latest errors", "SELECT timestamp, service, status FROM events WHERE level = 'error' ORDER BY timestamp DESC LIMIT 20", true, PlanKind.RowShipping },
        { "count distinct", "SELECT service, count(DISTINCT trace_id) AS traces FROM events GROUP BY service", false, PlanKind.RowShipping },
        { "percentile_cont", "SELECT service, percentile_cont(0.95) WITHIN GROUP (ORDER BY duration) AS p95 FROM events GROUP BY service", false, PlanKind.RowShipping },
        { "JSON ->> group by", "SELECT attributes->>'http.method' AS method, count(*), avg(duration) FILTER (WHERE ok) FROM events GROUP BY 1", false, PlanKind.PartialAggregate },
        { "window function", "SELECT service, timestamp, row_number() OVER (PARTITION BY service ORDER BY timestamp DESC) AS rn FROM events QUALIFY rn <= 3", false, PlanKind.RowShipping },
        { "derived table", "SELECT count(*) FROM (SELECT service, count(*) AS c FROM events GROUP BY service) s WHERE c > 10", false, PlanKind.RowShipping },
        { "IN subquery", "SELECT count(*) FROM events WHERE trace_id IN (SELECT trace_id FROM events WHERE level = 'error' AND status = 503)", false, PlanKind.RowShipping },
        { "self join", "SELECT a.service, count(*) AS pairs FROM events a JOIN events b ON a.trace_id = b.trace_id AND a.project_id = b.project_id WHERE a.level = 'error' AND b.level = 'info' GROUP BY 1", false, PlanKind.RowShipping },
        { "bool_and/or, FILTER", "SELECT service, bool_and(ok), bool_or(ok), count(*) FILTER (WHERE status >= 500) AS errors, count(latency) FILTER (WHERE level = 'warn') AS warn_latencies FROM events GROUP BY service", false, PlanKind.PartialAggregate },
        { "global aggregates", "SELECT count(*), count(level), sum(duration), avg(latency), min(timestamp), max(timestamp) FROM events WHERE status = 500", false, PlanKind.PartialAggregate },
        { "DISTINCT", "SELECT DISTINCT service, level FROM events", false, PlanKind.RowShipping },
        { "ORDER BY + LIMIT + OFFSET", "SELECT trace_id, duration FROM events WHERE duration > 4000 ORDER BY duration DESC, timestamp LIMIT 7 OFFSET 3", true, PlanKind.RowShipping },
        { "expressions over aggregates", "SELECT level, round(sum(duration) / count(*), 2) AS mean, max(duration) - min(duration) AS spread, count(*) * 2 AS twice FROM events GROUP BY level ORDER BY level NULLS FIRST", true, PlanKind.PartialAggregate },
        { "median", "SELECT median(duration), quantile_disc(latency, 0.5) FROM events", false, PlanKind.RowShipping },
        { "string_agg", "SELECT service, string_agg(DISTINCT level, ',' ORDER BY level) FROM events GROUP BY service", false, PlanKind.RowShipping },
        { "CTE", "WITH recent AS (SELECT * FROM events WHERE timestamp > now() - INTERVAL '30 minutes') SELECT service, count(*) FROM recent GROUP BY service", false, PlanKind.RowShipping },
        { "AT TIME ZONE", "SELECT date_trunc('hour', timestamp AT TIME ZONE 'America/New_York') AS h, count(*) FROM events GROUP BY 1", false, PlanKind.PartialAggregate },
        { "date partition", "SELECT count(*), sum(status) FROM events WHERE date = DATE '2024-05-16'", false, PlanKind.PartialAggregate },
        { "otel errors per service", "SELECT resource___service___name AS service, count(*) FILTER (WHERE status_code = 'ERROR') AS errors, count(*) AS total, max(duration) AS slowest FROM otel_logs_and_spans WHERE timestamp BETWEEN now() - INTERVAL '6 hours' AND now() GROUP BY 1 ORDER BY errors DESC, service", true, PlanKind.PartialAggregate },
        { "otel latest", "SELECT id, name, timestamp FROM otel_logs_and_spans WHERE level = 'error' ORDER BY timestamp DESC LIMIT 5", true, PlanKind.RowShipping },
        { "union of tables", "SELECT service AS s FROM events WHERE status = 404 UNION SELECT resource___service___name FROM otel_logs_and_spans WHERE attributes___http___response___status_code = 404", false, PlanKind.RowShipping },
        { "star", "SELECT * FROM events WHERE status = 503 AND duration < 100", false, PlanKind.RowShipping },
        { "unnest", "SELECT t.tag, count(*) AS n FROM events e, unnest(e.tags) AS t(tag) WHERE e.ok GROUP BY 1", false, PlanKind.RowShipping },
        { "no column of the table", "SELECT count(*) FROM events, (VALUES (1), (2)) v(x) WHERE v.x > 0", false, PlanKind.RowShipping },
        { "LIMIT without ORDER BY", "SELECT count(*) FROM (SELECT service FROM events WHERE status = 404 LIMIT 25) s", false, PlanKind.RowShipping },
        { "scalar subquery", "SELECT service, count(*) FILTER (WHERE duration > (SELECT 4000)) FROM events GROUP BY service", false, PlanKind.RowShipping },
        { "positional references", "SELECT #3 AS s, count(*) FROM events GROUP BY 1", false, PlanKind.PartialAggregate },
        { "positional references, rows", "SELECT #3, #2 FROM events WHERE status = 503 ORDER BY #2 DESC LIMIT 4", true, PlanKind.RowShipping },
        { "avg of integer, sum of double", "SELECT status, avg(status), sum(latency) / count(latency) AS ratio FROM events GROUP BY status", false, PlanKind.PartialAggregate },
    };

    [Theory]
    [MemberData(nameof(Queries))]
    public void AdminOverAllProjects_EqualsTheStatementOverTheUnion(string name, string sql, bool ordered, PlanKind kind)
    {
        var plan = f.Analyzer.Analyze(sql, TestCatalog.Standard(), CallerScope.Admin());
        Assert.True(plan.Kind == kind, $"{name}: planned {plan.Kind} ({plan.FallbackReason}), expected {kind}");
        Assert.All(plan.Scans, s => Assert.Equal(FanOutDatabase.Projects, s.Projects));
        var actual = Run(db, plan);
        var expected = Reference(db, sql);
        AssertSameRows(expected, actual, ordered, name);
    }

    [Theory]
    [InlineData("SELECT service, count(*), avg(latency) FROM events WHERE project_id IN ('p1', 'p3') GROUP BY service", false)]
    [InlineData("SELECT timestamp, project_id FROM events WHERE project_id IN ('p3', 'p1') ORDER BY timestamp DESC LIMIT 10", true)]
    [InlineData("SELECT e.level, count(*) FROM events e WHERE e.project_id IN ('p1', 'p3') AND e.timestamp < now() - INTERVAL '12 hours' GROUP BY e.level", false)]
    public void UserOverTwoProjects_EqualsTheStatementOverTheUnion(string sql, bool ordered)
    {
        var plan = f.Analyzer.Analyze(sql, TestCatalog.Standard(), CallerScope.User("p2", ["p1", "p2", "p3"]));
        Assert.All(plan.Scans, s => Assert.Equal(["p1", "p3"], s.Projects));
        AssertSameRows(Reference(db, sql), Run(db, plan), ordered, sql);
    }

    [Theory]
    [InlineData("SELECT service, count(*), avg(latency) FROM events GROUP BY service", false)]
    [InlineData("SELECT a.trace_id, count(*) FROM events a JOIN events b USING (trace_id) WHERE a.status = 500 GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 5", true)]
    public void SingleGrain_RunsWholeOnTheDefaultProject(string sql, bool ordered)
    {
        var plan = f.Analyzer.Analyze(sql, TestCatalog.Standard(), CallerScope.User("p2", ["p2"]));
        Assert.Equal(PlanKind.SingleGrain, plan.Kind);
        var reference = Reference(db, $"SELECT * FROM ({sql.Replace("FROM events a JOIN events b", "FROM (SELECT * FROM events WHERE project_id = 'p2') a JOIN (SELECT * FROM events WHERE project_id = 'p2') b").Replace("FROM events GROUP", "FROM events WHERE project_id = 'p2' GROUP")})");
        AssertSameRows(reference, Run(db, plan), ordered, sql);
    }

    private static List<object?[]> Reference(FanOutDatabase db, string sql)
    {
        db.Execute("USE g_all");
        try
        {
            return db.Query(sql.Replace("now()", NowLiteral));
        }
        finally
        {
            db.Execute("USE gw");
        }
    }

    /// <summary>Executes a plan: grains' SQL on their project's database, unions into the gateway, then the merge.</summary>
    internal static List<object?[]> Run(FanOutDatabase db, QueryPlan plan)
    {
        switch (plan.Kind)
        {
            case PlanKind.GatewayOnly:
                return db.Query(plan.MergeSql!);
            case PlanKind.SingleGrain:
                db.Execute("USE g_" + plan.Scans[0].Projects[0]);
                try
                {
                    return db.Query(plan.GrainSql!);
                }
                finally
                {
                    db.Execute("USE gw");
                }
            case PlanKind.PartialAggregate:
                Collect(db, QueryPlan.PartialsRelation, plan.GrainSql!, plan.Scans[0].Projects);
                return db.Query(plan.MergeSql!);
            case PlanKind.RowShipping:
                foreach (var scan in plan.Scans) Collect(db, scan.RelationName, scan.ScanSql!, scan.Projects);
                return db.Query(plan.MergeSql!);
            default:
                throw new InvalidOperationException(plan.Kind.ToString());
        }
    }

    private static void Collect(FanOutDatabase db, string relation, string grainSql, IReadOnlyList<string> projects)
    {
        db.Execute($"DROP TABLE IF EXISTS gw.main.{relation}");
        try
        {
            // The relation's shape first (also right when no grain is reached), then each grain's rows.
            db.Execute("USE g_p1");
            db.Execute($"CREATE TABLE gw.main.{relation} AS SELECT * FROM ({grainSql}) AS q LIMIT 0");
            foreach (var p in projects)
            {
                db.Execute("USE g_" + p);
                db.Execute($"INSERT INTO gw.main.{relation} {grainSql}");
            }
        }
        finally
        {
            db.Execute("USE gw");
        }
    }

    internal static void AssertSameRows(List<object?[]> expected, List<object?[]> actual, bool ordered, string what)
    {
        Assert.True(expected.Count == actual.Count, $"{what}: expected {expected.Count} rows, got {actual.Count}");
        Assert.True(expected.Count > 0, $"{what}: the reference answer is empty, so the test proves nothing");
        var e = ordered ? expected : expected.OrderBy(SortKey, StringComparer.Ordinal).ToList();
        var a = ordered ? actual : actual.OrderBy(SortKey, StringComparer.Ordinal).ToList();
        for (var i = 0; i < e.Count; i++)
        {
            Assert.True(e[i].Length == a[i].Length, $"{what}: row {i} has {a[i].Length} columns, expected {e[i].Length}");
            for (var c = 0; c < e[i].Length; c++)
                Assert.True(ValuesEqual(e[i][c], a[i][c]), $"{what}: row {i} column {c}: expected {Show(e[i][c])}, got {Show(a[i][c])}");
        }
    }

    private static string SortKey(object?[] row) => string.Join("|", row.Select(v => v switch
    {
        double d => d.ToString("G6", CultureInfo.InvariantCulture),
        float x => x.ToString("G6", CultureInfo.InvariantCulture),
        _ => Show(v),
    }));

    private static string Show(object? v) => v switch
    {
        null => "NULL",
        DateTime t => t.ToString("O", CultureInfo.InvariantCulture),
        DateTimeOffset t => t.ToString("O", CultureInfo.InvariantCulture),
        IFormattable x => x.ToString(null, CultureInfo.InvariantCulture),
        System.Collections.IEnumerable list and not string => "[" + string.Join(",", list.Cast<object?>().Select(Show)) + "]",
        _ => v.ToString() ?? "",
    };

    private static bool ValuesEqual(object? x, object? y)
    {
        if (x is null || y is null) return x is null && y is null;
        if (x is double or float || y is double or float)
        {
            var a = Convert.ToDouble(x, CultureInfo.InvariantCulture);
            var b = Convert.ToDouble(y, CultureInfo.InvariantCulture);
            return Math.Abs(a - b) <= 1e-9 * Math.Max(1, Math.Max(Math.Abs(a), Math.Abs(b)));
        }
        if (IsInteger(x) && IsInteger(y)) return ToBig(x) == ToBig(y);
        return Show(x) == Show(y);
    }

    private static bool IsInteger(object v) => v is sbyte or byte or short or ushort or int or uint or long or ulong or BigInteger;

    private static BigInteger ToBig(object v) => v is BigInteger b ? b : new BigInteger(Convert.ToDecimal(v, CultureInfo.InvariantCulture));
}

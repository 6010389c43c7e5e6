using TimeFusion.Query.Planning;

namespace TimeFusion.Tests.Query.Planning;

[Collection(PlanningCollection.Name)]
public sealed class ConcurrencyTests(PlanningFixture f)
{
    [Fact]
    public void PlansFromManyThreadsEqualPlansFromOne()
    {
        string[] statements =
        [
            "SELECT service, count(*) FROM events GROUP BY service",
            "SELECT * FROM events WHERE level = 'error' ORDER BY timestamp DESC LIMIT 10",
            "SELECT count(DISTINCT trace_id) FROM otel_logs_and_spans o JOIN events e ON o.id = e.trace_id",
            "SELECT now(), 1",
        ];
        var catalog = TestCatalog.Standard();
        var expected = statements.Select(s => Describe(f.Analyzer.Analyze(s, catalog, CallerScope.Admin()))).ToList();
        var failures = new System.Collections.Concurrent.ConcurrentBag<string>();
        Parallel.For(0, 160, new ParallelOptions { MaxDegreeOfParallelism = 8 }, i =>
        {
            var actual = Describe(f.Analyzer.Analyze(statements[i % statements.Length], catalog, CallerScope.Admin()));
            if (actual != expected[i % statements.Length]) failures.Add(actual);
        });
        Assert.Empty(failures);
    }

    [Fact]
    public void ADisposedParserRefusesWork()
    {
        var parser = new SqlParser();
        var analyzer = new QueryAnalyzer(parser);
        Assert.Equal(PlanKind.GatewayOnly, analyzer.Analyze("SELECT 1", TestCatalog.Standard(), CallerScope.Admin()).Kind);
        parser.Dispose();
        parser.Dispose();
        Assert.Throws<ObjectDisposedException>(() => analyzer.Analyze("SELECT 1", TestCatalog.Standard(), CallerScope.Admin()));
    }

    private static string Describe(QueryPlan p) =>
        $"{p.Kind}|{p.GrainSql}|{p.MergeSql}|{string.Join(",", p.OutputColumns)}|" + string.Join(";", p.Scans.Select(s => $"{s.ScanSql}:{string.Join(",", s.Projects)}"));
}

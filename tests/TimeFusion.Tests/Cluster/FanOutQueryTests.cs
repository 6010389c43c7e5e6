using Apache.Arrow;
using Microsoft.Extensions.DependencyInjection;
using TimeFusion.Grains;
using TimeFusion.Tables;
using TimeFusion.Tests.Engine;
using TimeFusion.Wire;

namespace TimeFusion.Tests.Cluster;

public sealed class FanOutQueryTests(ThreeSiloCluster fixture) : IClassFixture<ThreeSiloCluster>
{
    private IQueryGatewayGrain Gateway => fixture.Client.GetGrain<IQueryGatewayGrain>(0);

    [Fact]
    public async Task A_query_over_several_projects_merges_the_grains_parts_into_the_answer_over_all_rows()
    {
        var sizes = new Dictionary<string, int> { ["fa"] = 400, ["fb"] = 250, ["fc"] = 90 };
        foreach (var (project, rows) in sizes)
        {
            await Gateway.InsertAsync(project, OtelLogsAndSpans.TableName, EngineTestKit.OtelRows(rows, project), Caller.ForProject(project));
            if (project != "fc") await Gateway.ExecuteAsync("FLUSH otel_logs_and_spans", Caller.ForProject(project)); // some in Delta
            await Gateway.InsertAsync(project, OtelLogsAndSpans.TableName, EngineTestKit.OtelRows(rows, project + "2"), Caller.ForProject(project)); // some buffered
        }

        var result = await Gateway.QueryAsync(
            "SELECT resource___service___name AS service, count(*) AS n, max(duration) AS longest, avg(duration) AS mean " +
            "FROM otel_logs_and_spans WHERE project_id IN ('fa', 'fb', 'fc') GROUP BY 1 ORDER BY 1", Caller.Admin());

        // Expected, computed from what was written: each project wrote its row count twice; row i has service i % 4
        // and duration 1000 + i.
        var all = sizes.SelectMany(kv => Enumerable.Range(0, kv.Value).Concat(Enumerable.Range(0, kv.Value))).ToList();
        var expected = all.GroupBy(i => $"svc-{i % 4}").OrderBy(g => g.Key, StringComparer.Ordinal)
            .Select(g => (g.Key, (long)g.Count(), 1000L + g.Max(), 1000.0 + g.Average())).ToList();
        var actual = Rows(result).ToList();
        Assert.Equal(expected.Count, actual.Count);
        for (var i = 0; i < expected.Count; i++)
        {
            Assert.Equal(expected[i].Key, actual[i].Service);
            Assert.Equal(expected[i].Item2, actual[i].N);
            Assert.Equal(expected[i].Item3, actual[i].Longest);
            Assert.Equal(expected[i].Item4, actual[i].Mean, 6);
        }

        // A user may fan out over their own projects only.
        var user = new Caller("fa", ["fa", "fb"], false);
        var count = await Gateway.QueryAsync("SELECT count(*) FROM otel_logs_and_spans WHERE project_id IN ('fa', 'fb')", user);
        Assert.Equal(2L * (400 + 250), ((Int64Array)count.Batches.Single(b => b.Length > 0).Column(0)).GetValue(0));
        var denied = await Assert.ThrowsAsync<TimeFusionException>(() =>
            Gateway.QueryAsync("SELECT count(*) FROM otel_logs_and_spans WHERE project_id IN ('fa', 'fc')", user));
        Assert.Equal("42501", denied.SqlState);
    }

    [Fact]
    public async Task A_statement_without_a_project_predicate_reaches_every_project_the_caller_may_read_and_no_other()
    {
        var sizes = new Dictionary<string, int> { ["ta"] = 30, ["tb"] = 20, ["tc"] = 10 };
        foreach (var (project, rows) in sizes)
            await Gateway.InsertAsync(project, OtelLogsAndSpans.TableName, EngineTestKit.OtelRows(rows, project), Caller.ForProject(project));

        async Task<long> Count(string where, Caller caller)
        {
            var r = await Gateway.QueryAsync("SELECT count(*) FROM otel_logs_and_spans " + where, caller);
            return ((Int64Array)r.Batches.Single(b => b.Length > 0).Column(0)).GetValue(0)!.Value;
        }

        // A user without a default project, granted ta and tb: every route that names no single project sees
        // exactly ta's and tb's rows (row-level security), never tc's.
        var user = new Caller(null, ["ta", "tb"], false);
        Assert.Equal(50, await Count("", user));
        Assert.Equal(50, await Count("WHERE project_id = 'tc' OR true", user));
        Assert.Equal(20, await Count("WHERE NOT project_id = 'ta'", user));
        Assert.Equal(50, await Count("WHERE project_id LIKE 't%'", user));
        Assert.Equal(50, await Count("WHERE id IN (SELECT id FROM otel_logs_and_spans)", user));
        // A user with a default project reads its other grants too; a user granted nothing with rows reads nothing.
        Assert.Equal(50, await Count("", new Caller("ta", ["tb"], false)));
        Assert.Equal(0, await Count("", new Caller(null, ["nobody-here"], false)));
        // An admin with a default project reads every project (the default is for writes that name none).
        var perProject = await Gateway.QueryAsync(
            "SELECT project_id, count(*) FROM otel_logs_and_spans WHERE project_id LIKE 't_' GROUP BY 1 ORDER BY 1", Caller.Admin("ta"));
        var counts = perProject.Batches.Where(b => b.Length > 0).SelectMany(b => Enumerable.Range(0, b.Length)
            .Select(i => (((StringArray)b.Column(0)).GetString(i), ((Int64Array)b.Column(1)).GetValue(i)!.Value))).ToList();
        Assert.Equal([("ta", 30L), ("tb", 20L), ("tc", 10L)], counts);
    }

    [Fact]
    public async Task The_grains_of_another_silo_get_their_parts_in_one_call_there_and_the_answer_stays_the_same()
    {
        // 12 table grains placed at random over 3 silos: several share a silo other than the gateway's.
        var projects = Enumerable.Range(0, 12).Select(i => $"sg{i:D2}").ToList();
        foreach (var (project, i) in projects.Select((p, i) => (p, i)))
            await Gateway.InsertAsync(project, OtelLogsAndSpans.TableName, EngineTestKit.OtelRows(10 + i, project), Caller.ForProject(project));
        var sql = "SELECT project_id, count(*) AS n, max(duration) AS longest FROM otel_logs_and_spans WHERE project_id IN ("
                  + string.Join(", ", projects.Select(p => $"'{p}'")) + ") GROUP BY 1 ORDER BY 1";
        var expected = projects.Select((p, i) => (p, 10L + i, 1000L + 9 + i)).ToList();

        // The first run calls each grain and learns where it lives.
        Assert.Equal(expected, PerProject(await Gateway.QueryAsync(sql, Caller.Admin())));
        var gatewaySilo = fixture.Cluster.Silos[0];
        var locations = gatewaySilo.ServiceProvider.GetRequiredService<TableGrainLocations>();
        var elsewhere = projects.Select(p => locations.SiloOf(TableGrainKey.Format(p, OtelLogsAndSpans.TableName)))
            .Where(s => s is not null && s != gatewaySilo.SiloAddress.ToString()).GroupBy(s => s).Max(g => g.Count());
        Assert.True(elsewhere >= 2, "no two of 12 table grains share another silo");

        // The next runs send those grains' parts to their silo's SiloQueryGrain, in one call each: the same answer.
        Assert.Equal(expected, PerProject(await Gateway.QueryAsync(sql, Caller.Admin())));
        Assert.True(await SiloQueryActivationsAsync() > 0, "no SiloQueryGrain ran the parts");
        Assert.Equal(expected, PerProject(await Gateway.QueryAsync(sql, Caller.Admin())));
    }

    private async Task<int> SiloQueryActivationsAsync() =>
        (await fixture.Client.GetGrain<IManagementGrain>(0).GetSimpleGrainStatistics())
        .Where(s => s.GrainType.Contains(nameof(SiloQueryGrain), StringComparison.Ordinal)).Sum(s => s.ActivationCount);

    private static List<(string Project, long N, long Longest)> PerProject(ArrowBatches result) =>
        result.Batches.SelectMany(b => Enumerable.Range(0, b.Length).Select(i => (((StringArray)b.Column(0)).GetString(i),
            ((Int64Array)b.Column(1)).GetValue(i)!.Value, ((Int64Array)b.Column(2)).GetValue(i)!.Value))).ToList();

    private static IEnumerable<(string Service, long N, long Longest, double Mean)> Rows(ArrowBatches result)
    {
        foreach (var b in result.Batches)
        {
            for (var i = 0; i < b.Length; i++)
            {
                yield return (((StringArray)b.Column(0)).GetString(i), ((Int64Array)b.Column(1)).GetValue(i)!.Value,
                    ((Int64Array)b.Column(2)).GetValue(i)!.Value, ((DoubleArray)b.Column(3)).GetValue(i)!.Value);
            }
        }
    }
}

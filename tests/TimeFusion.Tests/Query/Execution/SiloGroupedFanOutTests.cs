using System.Collections.Concurrent;
using TimeFusion.Query.Execution;
using TimeFusion.Query.Planning;
using TimeFusion.Tables;

namespace TimeFusion.Tests.Query.Execution;

/// <summary>
/// <see cref="PlanRunner"/> with a <see cref="GrainCallRouting"/>: the grains placed on the same other silo get their
/// parts in one call there, the rest one call each, and the answer is the one the per-grain fan-out gives.
/// </summary>
public sealed class SiloGroupedFanOutTests(ExecutionFixture f) : IClassFixture<ExecutionFixture>
{
    /// <summary>p2 and p3 live on "silo-b", p1 here (or not located yet).</summary>
    private sealed class TwoSilos(ExecutionFixture f)
    {
        public readonly ConcurrentBag<string> Single = [];
        public readonly ConcurrentBag<(string Silo, string[] Grains)> Grouped = [];

        public GrainCallRouting Routing => new(g => g.Project == "p1" ? null : "silo-b", async (silo, parts, c) =>
        {
            Grouped.Add((silo, parts.Select(p => p.Grain.Project).Order().ToArray()));
            var answers = new List<QueryBatches>();
            foreach (var p in parts) answers.Add(await f.Kit.RunOnGrain(p.Grain, p.Sql, p.Time, p.NewestFirstLimit, c));
            return answers;
        });

        public Task<QueryBatches> RunOnGrain(TableId g, string sql, TimeRange t, long? l, CancellationToken c)
        {
            Single.Add(g.Project);
            return f.Kit.RunOnGrain(g, sql, t, l, c);
        }
    }

    [Theory]
    [InlineData("SELECT count(*) AS n FROM events")] // partial aggregates
    [InlineData("SELECT service, level, count(*) AS n, quantile_cont(duration, 0.95) AS p95 FROM events GROUP BY 1, 2 ORDER BY 1, 2")]
    [InlineData("SELECT timestamp, trace_id, project_id FROM events WHERE level = 'error' ORDER BY timestamp DESC LIMIT 100")] // newest-first tops
    [InlineData("WITH x AS (SELECT service, duration FROM events) SELECT service, sum(duration) AS s FROM x GROUP BY 1 ORDER BY 1")] // shipped rows
    public async Task The_grains_of_one_other_silo_answer_in_one_call_and_the_result_is_the_per_grain_fan_outs(string sql)
    {
        var plan = f.Planning.Analyzer.Analyze(sql, f.Catalog, CallerScope.Admin());
        Assert.NotEqual(PlanKind.SingleGrain, plan.Kind);
        using var perGrain = await f.Kit.Runner.RunAsync(plan, f.Kit.RunOnGrain, CancellationToken.None);

        var silos = new TwoSilos(f);
        using var grouped = await f.Kit.Runner.RunAsync(plan, silos.RunOnGrain, silos.Routing, CancellationToken.None);

        ArrowRows.AssertSameRows(ArrowRows.ToRows(perGrain), ArrowRows.ToRows(grouped), sql.Contains("ORDER BY"), sql);
        Assert.Equal(["p1"], silos.Single.Distinct());
        var call = Assert.Single(silos.Grouped);
        Assert.Equal("silo-b", call.Silo);
        Assert.Equal(["p2", "p3"], call.Grains);
    }

    [Fact]
    public async Task A_grain_alone_on_its_silo_is_called_by_itself()
    {
        var plan = f.Planning.Analyzer.Analyze("SELECT count(*) AS n FROM events", f.Catalog, CallerScope.Admin());
        var grouped = new ConcurrentBag<string>();
        var routing = new GrainCallRouting(g => "silo-" + g.Project, (silo, parts, c) =>
        {
            grouped.Add(silo);
            throw new InvalidOperationException("a single grain is not sent through its silo");
        });
        using var result = await f.Kit.Runner.RunAsync(plan, f.Kit.RunOnGrain, routing, CancellationToken.None);
        Assert.Empty(grouped);
        Assert.Equal((3L * ExecutionFixture.RowsPerProject).ToString(), ArrowRows.ToRows(result).Single()[0]?.ToString());
    }

    [Fact]
    public async Task A_silos_parts_over_the_statement_memory_fail_with_53200_and_are_freed()
    {
        var options = new ExecutionOptions { StatementMemoryBytes = 64 << 10 };
        var runner = new PlanRunner(new MergeExecutor(f.Kit.Buffer, options), options);
        var plan = f.Planning.Analyzer.Analyze("WITH x AS (SELECT service, attributes FROM events) SELECT * FROM x", f.Catalog, CallerScope.Admin());
        var silos = new TwoSilos(f);
        var e = await Assert.ThrowsAsync<QueryExecutionException>(() => runner.RunAsync(plan, silos.RunOnGrain, silos.Routing, CancellationToken.None));
        Assert.Equal("53200", e.SqlState);
        Assert.Contains(ExecutionOptions.StatementMemorySetting, e.Message);
    }

    [Fact]
    public async Task A_failing_silo_call_fails_the_statement_with_its_own_error()
    {
        var plan = f.Planning.Analyzer.Analyze("SELECT count(*) AS n FROM events", f.Catalog, CallerScope.Admin());
        var routing = new GrainCallRouting(g => g.Project == "p1" ? null : "silo-b",
            (_, _, _) => throw new QueryExecutionException("57P01", "the silo went away"));
        var e = await Assert.ThrowsAsync<QueryExecutionException>(() => f.Kit.Runner.RunAsync(plan, f.Kit.RunOnGrain, routing, CancellationToken.None));
        Assert.Equal("57P01", e.SqlState);
    }
}

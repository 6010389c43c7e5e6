using TimeFusion.Query.Execution;
using TimeFusion.Query.Planning;

namespace TimeFusion.Tests.Query.Execution;

/// <summary>
/// <see cref="StatementMemory"/> and the gateway's accounting in <see cref="PlanRunner"/>: what the grains return is
/// counted as it arrives and a statement over <see cref="ExecutionOptions.StatementMemoryBytes"/> fails with 53200
/// naming the setting; the merge's result gets what is left.
/// </summary>
public sealed class StatementMemoryAccountingTests(ExecutionFixture f) : IClassFixture<ExecutionFixture>
{
    private (PlanRunner Runner, MergeExecutor Merge) RunnerWith(long statementMemoryBytes)
    {
        var options = new ExecutionOptions { StatementMemoryBytes = statementMemoryBytes };
        var merge = new MergeExecutor(f.Kit.Buffer, options);
        return (new PlanRunner(merge, options), merge);
    }

    private async Task<QueryBatches> RunAsync(PlanRunner runner, string sql)
    {
        var plan = f.Planning.Analyzer.Analyze(sql, f.Catalog, CallerScope.Admin());
        return await runner.RunAsync(plan, f.Kit.RunOnGrain, CancellationToken.None);
    }

    [Fact]
    public void A_charge_over_the_limit_fails_with_53200_and_is_not_kept()
    {
        var memory = new StatementMemory(1000);
        memory.Charge(600, "a");
        var e = Assert.Throws<QueryExecutionException>(() => memory.Charge(500, "the second part"));
        Assert.Equal("53200", e.SqlState);
        Assert.Contains(ExecutionOptions.StatementMemorySetting, e.Message);
        Assert.Contains("the second part", e.Message);
        Assert.Equal(600, memory.Held);
        memory.Release(600);
        memory.Charge(1000, "all of it");
        Assert.Equal(0, memory.Remaining);
        Assert.Equal(long.MaxValue, new StatementMemory(0).Remaining);
    }

    [Fact]
    public void A_result_is_capped_by_the_smaller_of_MaxResultBytes_and_what_is_left()
    {
        var memory = new StatementMemory(1000);
        Assert.Equal((500L, "TimeFusion:Execution:MaxResultBytes"), memory.ResultCap(500));
        Assert.Equal((1000L, ExecutionOptions.StatementMemorySetting), memory.ResultCap(5000));
        Assert.Equal((1000L, ExecutionOptions.StatementMemorySetting), memory.ResultCap(0));
        memory.Charge(1000, "x");
        Assert.Equal((1L, ExecutionOptions.StatementMemorySetting), memory.ResultCap(5000));
        Assert.Equal((0L, "TimeFusion:Execution:MaxResultBytes"), new StatementMemory(0).ResultCap(0));
    }

    [Theory]
    [InlineData("SELECT trace_id, max(attributes) AS a FROM events GROUP BY trace_id")] // partial aggregates
    [InlineData("WITH x AS (SELECT service, attributes FROM events) SELECT * FROM x")] // shipped rows
    [InlineData("SELECT timestamp, attributes FROM events ORDER BY timestamp DESC LIMIT 3000")] // each grain's newest rows
    public async Task Partials_gathered_over_the_limit_fail_with_53200_and_fit_under_it(string sql)
    {
        var (tight, _) = RunnerWith(64 << 10);
        var e = await Assert.ThrowsAsync<QueryExecutionException>(() => RunAsync(tight, sql));
        Assert.Equal("53200", e.SqlState);
        Assert.Contains(ExecutionOptions.StatementMemorySetting, e.Message);
        Assert.Contains("gathered at the gateway", e.Message);

        var (roomy, _) = RunnerWith(256L << 20);
        using var result = await RunAsync(roomy, sql);
        Assert.True(result.RowCount > 0);
    }

    [Fact]
    public async Task The_merges_result_gets_what_the_partials_left()
    {
        // Small partials (a count per project) and a large merged result (each count joined with 200,000 rows).
        const string sql = "WITH c AS (SELECT project_id, count(*) AS n FROM events GROUP BY project_id) SELECT c.project_id, r.range FROM c, range(200000) r";
        var (tight, _) = RunnerWith(1 << 20);
        var e = await Assert.ThrowsAsync<QueryExecutionException>(() => RunAsync(tight, sql));
        Assert.Equal("53200", e.SqlState);
        Assert.Contains(ExecutionOptions.StatementMemorySetting, e.Message);
    }
}

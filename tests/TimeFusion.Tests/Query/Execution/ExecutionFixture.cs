using TimeFusion.Query.Execution;
using TimeFusion.Query.Planning;
using TimeFusion.Tables;
using TimeFusion.Tests.Infrastructure;
using TimeFusion.Tests.Query.Planning;

namespace TimeFusion.Tests.Query.Execution;

/// <summary>
/// Three projects' engines of <c>events</c> (rows flushed to Delta in several time-sliced files and buffered), the
/// reference database holding every row, and a planner whose now() is <see cref="PlanningFixture.Now"/>. Built once
/// for the equivalence tests; read-only afterwards.
/// </summary>
public sealed class ExecutionFixture : IAsyncLifetime
{
    public static readonly string[] Projects = ["p1", "p2", "p3"];
    public const int RowsPerProject = 4000;

    private readonly TempDirectory _dir = new();

    public ExecutionTestKit Kit { get; private set; } = null!;
    public ReferenceDatabase Reference { get; } = new();
    public PlanningFixture Planning { get; } = new();
    public TestCatalog Catalog { get; } = new TestCatalog().Add(ExecutionTestKit.Schema, Projects);

    public async Task InitializeAsync()
    {
        Kit = new ExecutionTestKit(_dir.Path);
        for (var s = 1; s <= Projects.Length; s++)
        {
            var id = new TableId(Projects[s - 1], ExecutionTestKit.Schema.Name);
            var engine = await Kit.OpenAsync(id);
            var rows = ExecutionTestKit.Rows(s, RowsPerProject);
            await ExecutionTestKit.LoadAsync(engine, rows);
            Reference.Add(ExecutionTestKit.Batch(rows, id.Project));
        }
        foreach (var p in Projects) Reference.AddProjectDatabase(p);
    }

    /// <summary>Plans <paramref name="sql"/> for <paramref name="caller"/> and runs it through the executors.</summary>
    public async Task<(QueryPlan Plan, List<object?[]> Rows, QueryBatches Result)> RunAsync(string sql, CallerScope caller)
    {
        var plan = Planning.Analyzer.Analyze(sql, Catalog, caller);
        var result = await Kit.Runner.RunAsync(plan, Kit.RunOnGrain, CancellationToken.None);
        return (plan, ArrowRows.ToRows(result), result);
    }

    /// <summary>The statement over all rows (or one project's), with now() fixed, through the same Arrow conversion.</summary>
    public (List<object?[]> Rows, QueryBatches Result) Expected(string sql, string database = "memory")
    {
        var fixedSql = sql.Replace("now()", "TIMESTAMPTZ '2024-05-17 12:30:45.123+00'");
        Reference.Execute("USE " + database);
        try
        {
            var result = ExecutionErrors.Run(Reference.Connection, fixedSql, 65_536, CancellationToken.None);
            return (ArrowRows.ToRows(result), result);
        }
        finally
        {
            Reference.Execute("USE memory");
        }
    }

    public async Task DisposeAsync()
    {
        await Kit.DisposeAsync();
        Reference.Dispose();
        Planning.Dispose();
        _dir.Dispose();
    }
}

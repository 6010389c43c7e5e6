using TimeFusion.Query.Execution;
using TimeFusion.Query.Planning;
using TimeFusion.Tables;
using TimeFusion.Wire;

namespace TimeFusion.Query.Statements;

/// <summary>
/// Evaluates <c>INSERT … VALUES</c> with DuckDB (literals and expressions cast to the column types by the planner)
/// (or casts the text columns of rows of plain literals, <see cref="InsertPlan.Literals"/>) into Arrow batches, one per target project, checking that the caller may write each project.
/// </summary>
public static class InsertValuesSplitter
{
    /// <summary>The rows per project.</summary>
    public static async Task<IReadOnlyList<(string Project, QueryBatches Rows)>> SplitAsync(
        InsertPlan plan, MergeExecutor duckdb, CallerScope caller, CancellationToken cancellationToken)
    {
        // Run in the session's TimeZone, as PostgreSQL evaluates VALUES: text without an offset cast to timestamptz is
        // read in it ('2024-01-01 10:00:00' in Europe/Paris is 09:00Z), and now()::text or ::date follow it too.
        // Rows of plain literals arrive as text columns that ValuesSql casts (one vectorized query, not a tree per row).
        var empty = new Dictionary<string, QueryBatches>();
        if (plan.Literals is { } literals)
            empty[LiteralValuesReader.RelationName] = new QueryBatches(literals.Schema, [literals]);
        if (plan.DefaultProject is { } project)
            return [(project, await duckdb.ExecuteAsync(plan.ValuesSql, empty, cancellationToken, caller.TimeZone))];
        if (plan.Literals is not null && plan.Projects is [var only])
            return [(only, await duckdb.ExecuteAsync(plan.ValuesSql, empty, cancellationToken, caller.TimeZone))];

        var projectColumn = SqlNames.Quote(TableSchema.ProjectColumn);
        using var distinct = await duckdb.ExecuteAsync($"SELECT DISTINCT {projectColumn} FROM ({plan.ValuesSql})", empty, cancellationToken, caller.TimeZone);
        var projects = new List<string>();
        foreach (var batch in distinct.Batches)
        {
            var values = (Apache.Arrow.StringArray)batch.Column(0);
            for (var i = 0; i < values.Length; i++)
            {
                var p = values.GetString(i) ?? throw new SqlPlanningException(SqlState.NotNullViolation, "project_id may not be null");
                if (!caller.CanWrite(p)) throw new SqlPlanningException(SqlState.InsufficientPrivilege, $"permission denied for project '{p}'");
                projects.Add(p);
            }
        }
        var result = new List<(string, QueryBatches)>(projects.Count);
        foreach (var p in projects)
            result.Add((p, await duckdb.ExecuteAsync($"SELECT * FROM ({plan.ValuesSql}) WHERE {projectColumn} = {SqlNames.Literal(p)}", empty, cancellationToken, caller.TimeZone)));
        return result;
    }
}

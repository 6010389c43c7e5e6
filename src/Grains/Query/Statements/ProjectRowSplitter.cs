using Apache.Arrow;
using TimeFusion.Query.Execution;
using TimeFusion.Query.Planning;
using TimeFusion.Tables;
using TimeFusion.Wire;

namespace TimeFusion.Query.Statements;

/// <summary>
/// Routes the rows of a batch that carries a <c>project_id</c> column (a COPY or bulk load of several tenants' rows)
/// to their projects: every project is checked writable before anything is written, then the rows are cut into one
/// batch per project (with DuckDB when there are several; the batch itself, untouched, when there is one).
/// </summary>
public static class ProjectRowSplitter
{
    /// <summary>The distinct projects of <paramref name="batch"/>'s <c>project_id</c> column, in first-seen order.</summary>
    /// <exception cref="SqlPlanningException">A null project (23502), a project the caller may not write (42501), or a
    /// <c>project_id</c> column that is not text (42804).</exception>
    public static IReadOnlyList<string> ProjectsOf(RecordBatch batch, int projectColumn, CallerScope caller)
    {
        if (batch.Column(projectColumn) is not StringArray values)
            throw new SqlPlanningException(SqlState.DatatypeMismatch, $"column \"{TableSchema.ProjectColumn}\" must be text");
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var projects = new List<string>();
        var previous = ReadOnlySpan<byte>.Empty;
        var any = false;
        for (var i = 0; i < values.Length; i++)
        {
            if (values.IsNull(i))
                throw new SqlPlanningException(SqlState.NotNullViolation, $"row {i + 1}: null value in column \"{TableSchema.ProjectColumn}\"");
            // Rows of one project usually come together: compare bytes, and make a string only when the project changes.
            var bytes = values.GetBytes(i);
            if (any && bytes.SequenceEqual(previous)) continue;
            previous = bytes;
            any = true;
            var p = values.GetString(i)!;
            if (!seen.Add(p)) continue;
            if (!caller.CanWrite(p))
                throw new SqlPlanningException(SqlState.InsufficientPrivilege, $"row {i + 1}: permission denied for project '{p}'");
            projects.Add(p);
        }
        return projects;
    }

    /// <summary>The rows of each of <paramref name="projects"/> (as <see cref="ProjectsOf"/> found them), one result per project.</summary>
    public static async Task<IReadOnlyList<(string Project, QueryBatches Rows)>> SplitAsync(RecordBatch batch, IReadOnlyList<string> projects,
        MergeExecutor duckdb, CancellationToken cancellationToken)
    {
        const string relation = "__rows";
        // Not disposed here: the batch stays the caller's.
        var relations = new Dictionary<string, QueryBatches> { [relation] = new(batch.Schema, [batch]) };
        var column = SqlNames.Quote(TableSchema.ProjectColumn);
        var result = new List<(string, QueryBatches)>(projects.Count);
        try
        {
            foreach (var p in projects)
                result.Add((p, await duckdb.ExecuteAsync($"SELECT * FROM {relation} WHERE {column} = {SqlNames.Literal(p)}", relations, cancellationToken)));
        }
        catch
        {
            foreach (var (_, rows) in result) rows.Dispose();
            throw;
        }
        return result;
    }
}

using TimeFusion.Query.Planning;

namespace TimeFusion.Query.Execution;

/// <summary>
/// EXPLAIN of INSERT, UPDATE and DELETE, in PostgreSQL's shape (<c>Insert on t</c> over what feeds it): which table
/// grains (table × project) the write would reach and what each is asked to do. Nothing is written: an INSERT's VALUES
/// are evaluated (to route its rows by project) and an UPDATE/DELETE is only analyzed.
/// </summary>
public static class WritePlanExplainer
{
    /// <summary>The plan of an INSERT whose rows, evaluated, go to <paramref name="rowsPerProject"/>.</summary>
    public static IReadOnlyList<string> Insert(string table, IReadOnlyList<(string Project, long Rows)> rowsPerProject)
    {
        var total = rowsPerProject.Sum(p => p.Rows);
        var lines = new List<string>
        {
            $"Insert on {table}  (rows={total}, grains={rowsPerProject.Count})",
            $"  ->  Values  (rows={total}; routed by project_id, else to the caller's default project)",
        };
        foreach (var (project, rows) in rowsPerProject)
            lines.Add($"        Grain: {table} of project {project}  (rows={rows}; one batch, one WAL entry)");
        return lines;
    }

    /// <summary>The plan of an UPDATE or DELETE.</summary>
    public static IReadOnlyList<string> UpdateOrDelete(DmlPlan plan)
    {
        var verb = plan.Kind == DmlKind.Update ? "Update" : "Delete";
        var lines = new List<string>
        {
            $"{verb} on {plan.Table.Name}  (grains={plan.Projects.Count})",
            $"  ->  Table Grains  (projects: {string.Join(", ", plan.Projects)}; {ProjectsNote(plan.ProjectSource)})",
        };
        if (plan.Assignments.Count > 0)
            lines.Add($"        Set: {string.Join(", ", plan.Assignments.Select(a => $"{a.Column} = {PlanExplainer.OneLine(a.Sql)}"))}");
        lines.Add($"        Filter: {(plan.Predicate is { } p ? PlanExplainer.OneLine(p) : "none (every row)")}");
        lines.Add($"        Time: {PlanExplainer.Describe(plan.Time)}");
        lines.Add("        Each grain rewrites its buffer rows and the Delta files holding matching rows");
        return lines;
    }

    private static string ProjectsNote(ProjectSource source) => source switch
    {
        ProjectSource.Predicate => "named by the statement's project_id predicate",
        _ => "every project the caller may write",
    };
}

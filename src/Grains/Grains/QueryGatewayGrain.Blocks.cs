using Microsoft.Extensions.Logging;
using TimeFusion.Query.Planning;
using TimeFusion.Tables;
using TimeFusion.Wire;

namespace TimeFusion.Grains;

/// <summary>
/// COMMIT of a PostgreSQL transaction block: the block's held writes grouped per (project, table) grain in block order,
/// each grain's part committed as one WAL transaction (all or nothing, also across a crash), grains one after another in
/// the order the block first wrote them. Atomicity across grains would need two-phase commit, which TimeFusion does not
/// do: a failure at a later grain leaves the earlier ones committed and is reported as 40003 naming them.
/// </summary>
public sealed partial class QueryGatewayGrain
{
    /// <inheritdoc />
    public async Task<long> CommitBlockAsync(IReadOnlyList<BlockStatement> statements, Caller caller, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(statements);
        ArgumentNullException.ThrowIfNull(caller);
        var parts = new List<((string Project, string Table) Grain, List<BlockWrite> Writes)>();
        List<BlockWrite> PartOf(string project, string table)
        {
            foreach (var part in parts)
            {
                if (part.Grain == (project, table)) return part.Writes;
            }
            var writes = new List<BlockWrite>();
            parts.Add(((project, table), writes));
            return writes;
        }

        GatewayCatalogView? catalog = null;
        foreach (var statement in statements)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (statement.Rows is { } rows)
            {
                var table = (statement.Table ?? throw new ArgumentException("a block's rows name their table", nameof(statements))).ToLowerInvariant();
                foreach (var (project, projectRows) in await RouteAsync(table, statement.Project, rows, caller, cancellationToken))
                    PartOf(project, table).Add(new BlockWrite(projectRows, null));
            }
            else if (statement.Statement is { } dml)
            {
                // The caller is the commit's own (checked by the front door), in the TimeZone of the statement's moment.
                var at = caller with { TimeZone = statement.TimeZone };
                catalog ??= await GatewayCatalogView.LoadAsync(GrainFactory.GetGrain<ICatalogGrain>(0), withProjects: true);
                var plan = _dml.AnalyzeUpdateOrDelete(dml, catalog, ScopeOf(at));
                var request = new DmlRequest(plan.Kind == DmlKind.Update, plan.Predicate,
                    plan.Assignments.Select(a => new KeyValuePair<string, string>(a.Column, a.Sql)).ToList(), plan.Time.MinMicros, plan.Time.MaxMicros);
                // The projects the block itself wrote rows to (checked writable then) may not have any stored row yet, so the
                // catalog does not list them: the statement goes there too (its predicate is confined to each grain's project,
                // so a project it does not name matches nothing).
                var projects = plan.Projects.Concat(parts.Where(p => p.Grain.Table == plan.Table.Name).Select(p => p.Grain.Project)).Distinct();
                foreach (var project in projects)
                    PartOf(project, plan.Table.Name).Add(new BlockWrite(null, request));
            }
        }

        long affected = 0;
        var done = new List<string>();
        foreach (var ((project, table), writes) in parts)
        {
            try
            {
                affected += await GrainFactory.GetGrain<ITableGrain>(TableGrainKey.Format(project, table)).CommitBlockAsync(writes, CancellationToken.None);
            }
            catch (Exception e) when (done.Count > 0)
            {
                var message = e is TimeFusionException t ? t.Message : "the table could not be reached";
                logger.LogWarning(e, "COMMIT of a transaction block failed at {Project}/{Table} after committing {Done}", project, table, string.Join(", ", done));
                throw new SqlPlanningException(SqlState.StatementCompletionUnknown,
                    $"COMMIT applied the transaction block to {string.Join(", ", done)} but not to table \"{table}\" (project '{project}') or the tables after it: {message}");
            }
            done.Add($"table \"{table}\" (project '{project}')");
        }
        return affected;
    }

    /// <summary>
    /// Rows for one project, or routed by their <c>project_id</c> (without one, to the caller's default project): every
    /// project checked writable before anything is written (42501), rows of several projects split into managed copies.
    /// Used by a COPY's staged chunks and a transaction block's inserts.
    /// </summary>
    private async Task<IReadOnlyList<(string Project, Apache.Arrow.RecordBatch Rows)>> RouteAsync(string table, string? project, Apache.Arrow.RecordBatch rows,
        Caller caller, CancellationToken cancellationToken)
    {
        var column = rows.Schema.GetFieldIndex(TableSchema.ProjectColumn);
        if (project is null && column < 0)
        {
            project = caller.DefaultProject
                ?? throw new SqlPlanningException(SqlState.InsufficientPrivilege, "the rows carry no project_id and the user has no default project");
        }
        if (project is not null)
        {
            if (!caller.IsAdmin && !caller.Projects.Contains(project))
                throw new SqlPlanningException(SqlState.InsufficientPrivilege, $"permission denied for project '{project}'");
            return [(project, rows)];
        }
        var projects = Query.Statements.ProjectRowSplitter.ProjectsOf(rows, column, ScopeOf(caller));
        if (projects.Count <= 1) return projects.Count == 0 ? [] : [(projects[0], rows)];
        var split = await Query.Statements.ProjectRowSplitter.SplitAsync(rows, projects, duckdb, cancellationToken);
        try
        {
            // Managed copies: the grain calls outlive the native results.
            return split.SelectMany(s => s.Rows.Batches.Where(b => b.Length > 0)
                .Select(b => (s.Project, ArrowBatches.FromIpc(ArrowIpc.Write(b.Schema, [b])).Batches[0]))).ToList();
        }
        finally
        {
            foreach (var (_, batches) in split) batches.Dispose();
        }
    }
}

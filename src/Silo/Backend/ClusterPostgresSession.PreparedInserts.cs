using Apache.Arrow;
using TimeFusion.Grains;
using TimeFusion.Silo.Protocol.Postgres;
using TimeFusion.Wire;

namespace TimeFusion.Silo.Backend;

/// <summary>
/// Parameterized INSERTs outside a transaction block run from a per-statement plan (<see cref="PreparedInsertPlan"/>):
/// made at the statement's first execution (one catalog call), then each execution builds its Arrow batch from the
/// bound values and hands it to the table grain — the shape of production ingest (30-row prepared INSERTs) no longer
/// pays a parse, a catalog call and a DuckDB cast per execution.
/// </summary>
internal sealed partial class ClusterPostgresSession
{
    /// <summary>Statement texts whose plans a session keeps (a client preparing more starts the cache over).</summary>
    private const int MaxInsertPlans = 64;

    /// <summary>Whether parameterized INSERTs run from plans (<c>TimeFusion:Postgres:InsertPlans</c>).</summary>
    public bool InsertPlans { get; init; } = true;

    /// <summary>
    /// The table grains active on this silo that take a planned INSERT without an Orleans call
    /// (<c>TimeFusion:Postgres:LocalInserts</c>); null sends every INSERT through the grain.
    /// </summary>
    public LocalTableWriters? LocalWriters { get; init; }

    // Null values remember "takes the general path", so a statement is looked at once. Calls never overlap in a session.
    private readonly Dictionary<string, PreparedInsertPlan?> _insertPlans = new(StringComparer.Ordinal);

    /// <summary>
    /// The result of running <paramref name="sql"/> from its plan, or null when the general path must run it (no plan
    /// for this shape, a value the plan does not convert, rows of several projects, a project the caller may not write,
    /// or a table whose definition changed since the plan was made — nothing was stored then).
    /// </summary>
    private async ValueTask<StatementResult?> TryPlannedInsertAsync(string sql, IReadOnlyList<object?> parameters, CancellationToken cancellationToken)
    {
        if (!_insertPlans.TryGetValue(sql, out var plan))
        {
            IReadOnlyList<TableDefinition> tables;
            // Best effort: a catalog unreachable for a moment leaves the statement to the general path, which says why.
            try { tables = await grains.GetGrain<ICatalogGrain>(0).ListTablesAsync(); }
            catch (Exception e) when (e is not OperationCanceledException) { return null; }
            plan = PreparedInsertPlan.TryCreate(sql, name => tables.FirstOrDefault(t => string.Equals(t.Name, name, StringComparison.OrdinalIgnoreCase)));
            if (_insertPlans.Count >= MaxInsertPlans) _insertPlans.Clear();
            _insertPlans[sql] = plan;
        }
        if (plan is null) return null;
        using var batch = plan.TryBuild(parameters);
        if (batch is null || ProjectOf(plan, batch) is not { } project) return null;
        try
        {
            var key = GrainKeyOf(plan, project);
            // The table's grain active on this silo takes the batch straight into its engine; else the grain call.
            // No statement slot (StatementAdmission), as for a Flight DoPut batch: the slots keep one user's runaway
            // statements from taking the cores, and a planned INSERT is bounded work (one Bind message's rows, no
            // DuckDB) that spends most of its time waiting for the WAL's fsync. Holding a slot over that wait capped a
            // user's INSERTs in flight at the slot count (2 on a 2-core silo) — fewer rows per group commit, more
            // fsyncs and CPU per row. Buffer limits still push back on ingest; the statement stays cancellable.
            await Call(() => LocalWriters?.TryInsert(key, batch) ?? grains.GetGrain<ITableGrain>(key).InsertAsync(batch), cancellationToken, takeSlot: false);
        }
        catch (PostgresErrorException e) when (e.SqlState is SqlState.UndefinedTable or SqlState.UndefinedColumn or SqlState.DatatypeMismatch
                                                  or SqlState.InvalidParameterValue or SqlState.InvalidTableDefinition)
        {
            // The table grain refused the batch before storing anything (42P16: a grain of a dropped table refuses to
            // activate): the table may have been dropped or re-created with other columns since the plan was made. The plan is dropped and the general path runs the statement
            // (with the catalog as it is now), which also words a genuine error as it always has.
            _insertPlans.Remove(sql);
            return null;
        }
        return StatementResult.Affected("INSERT", batch.Length);
    }

    // The last statement's table grain key: a session's statements go to one table and project, and the key is formatted once.
    private (PreparedInsertPlan Plan, string Project, string Key)? _lastGrainKey;

    private string GrainKeyOf(PreparedInsertPlan plan, string project)
    {
        if (_lastGrainKey is { } last && ReferenceEquals(last.Plan, plan) && string.Equals(last.Project, project, StringComparison.Ordinal))
            return last.Key;
        var key = TableGrainKey.Format(project, plan.Table.ToLowerInvariant());
        _lastGrainKey = (plan, project, key);
        return key;
    }

    /// <summary>
    /// The one project every row goes to when the caller may write it; null leaves the statement to the general path
    /// (rows of several projects, a NULL project, a project the caller may not write: it words those errors).
    /// </summary>
    private string? ProjectOf(PreparedInsertPlan plan, RecordBatch batch)
    {
        string? project;
        if (plan.ProjectColumn < 0)
        {
            project = SessionCaller.DefaultProject;
        }
        else
        {
            // Compared as UTF-8 bytes: one string for the statement, not one per row.
            var values = (StringArray)batch.Column(plan.ProjectColumn);
            if (values.IsNull(0)) return null;
            var first = values.GetBytes(0);
            for (var i = 1; i < values.Length; i++)
            {
                if (values.IsNull(i) || !values.GetBytes(i).SequenceEqual(first)) return null;
            }
            project = values.GetString(0);
        }
        return project is { Length: > 0 } && (SessionCaller.IsAdmin || SessionCaller.Projects.Contains(project)) ? project : null;
    }
}

using TimeFusion.Query.Planning;
using TimeFusion.Tables;
using TimeFusion.Wire;

namespace TimeFusion.Query.Execution;

/// <summary>
/// Runs a <see cref="QueryPlan"/> the way the query gateway does: <see cref="PlanKind.SingleGrain"/> sends the statement
/// to its one grain; <see cref="PlanKind.PartialAggregate"/> sends the partial aggregation to every grain of the scan
/// and merges their union as <see cref="QueryPlan.PartialsRelation"/>; <see cref="PlanKind.RowShipping"/> sends each
/// scan's SQL to its grains and merges over <see cref="TableScan.RelationName"/>; <see cref="PlanKind.GatewayOnly"/>
/// merges over nothing. Grain calls go out concurrently (at most <see cref="ExecutionOptions.MaxConcurrentGrainCalls"/>);
/// the first failure cancels the rest. A scan that reaches no grain gets the shape of its grain SQL over an empty table.
/// What the grains return is gathered here, so each part is counted against the statement's
/// <see cref="ExecutionOptions.StatementMemoryBytes"/> as it arrives (with the merge's result after it): past the limit the
/// statement fails with 53200, the other grains' calls are cancelled and every part is freed.
/// </summary>
public sealed class PlanRunner
{
    private readonly MergeExecutor _merge;
    private readonly ExecutionOptions _options;

    /// <summary>Creates a runner that merges with <paramref name="merge"/>.</summary>
    public PlanRunner(MergeExecutor merge, ExecutionOptions? options = null)
    {
        _merge = merge ?? throw new ArgumentNullException(nameof(merge));
        _options = options ?? new ExecutionOptions();
        _options.Validate();
    }

    /// <summary>Runs <paramref name="plan"/>, calling grains through <paramref name="runOnGrain"/>. The caller owns the result.</summary>
    /// <exception cref="QueryExecutionException">A grain or the merge failed.</exception>
    public Task<QueryBatches> RunAsync(QueryPlan plan, GrainQueryRunner runOnGrain, CancellationToken cancellationToken) =>
        RunAsync(plan, runOnGrain, null, cancellationToken);

    /// <summary>
    /// Runs <paramref name="plan"/>, calling grains through <paramref name="runOnGrain"/>, or — a fan-out's grains that
    /// <paramref name="routing"/> places together on another silo — a call per silo. The caller owns the result.
    /// </summary>
    /// <exception cref="QueryExecutionException">A grain or the merge failed.</exception>
    public async Task<QueryBatches> RunAsync(QueryPlan plan, GrainQueryRunner runOnGrain, GrainCallRouting? routing, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(runOnGrain);
        switch (plan.Kind)
        {
            case PlanKind.GatewayOnly:
                return await _merge.ExecuteAsync(plan.MergeSql!, new Dictionary<string, QueryBatches>(), cancellationToken, plan.TimeZone).ConfigureAwait(false);
            case PlanKind.SingleGrain:
            {
                var scan = plan.Scans[0];
                var grain = new TableId(scan.Projects[0], scan.Table.Name);
                return await runOnGrain(grain, plan.GrainSql!, Hull(plan.Scans), plan.NewestFirstLimit, cancellationToken).ConfigureAwait(false);
            }
            case PlanKind.PartialAggregate:
            {
                var scan = plan.Scans[0];
                var calls = scan.Grains.Select(g => new Call(QueryPlan.PartialsRelation, new GrainPart(g, plan.GrainSql!, scan.Time, null))).ToList();
                return await FanOutAndMergeAsync(plan.MergeSql!, calls, [(QueryPlan.PartialsRelation, scan.Table, plan.GrainSql!)], runOnGrain, routing, plan.TimeZone,
                    "partial aggregates", cancellationToken).ConfigureAwait(false);
            }
            case PlanKind.RowShipping:
            {
                var calls = plan.Scans.SelectMany(s => s.Grains.Select(g => new Call(s.RelationName, new GrainPart(g, s.ScanSql!, s.Time, s.NewestFirstLimit)))).ToList();
                var relations = plan.Scans.Select(s => (s.RelationName, s.Table, s.ScanSql!)).ToList();
                var what = plan.NewestFirstLimit is { } n ? $"the newest {n} rows of each grain" : "rows shipped by the grains";
                return await FanOutAndMergeAsync(plan.MergeSql!, calls, relations, runOnGrain, routing, plan.TimeZone, what, cancellationToken).ConfigureAwait(false);
            }
            default:
                throw new QueryExecutionException(SqlState.FeatureNotSupported, $"plan kind {plan.Kind} cannot run");
        }
    }

    private readonly record struct Call(string Relation, GrainPart Part);

    private async Task<QueryBatches> FanOutAndMergeAsync(string mergeSql, List<Call> calls,
        List<(string Relation, TableSchema Table, string GrainSql)> relations, GrainQueryRunner runOnGrain, GrainCallRouting? routing, string? timeZone,
        string what, CancellationToken cancellationToken)
    {
        var memory = new StatementMemory(_options.StatementMemoryBytes);
        var held = $"{what} gathered at the gateway from {calls.Count} grains";
        var results = new QueryBatches?[calls.Count];
        var shapes = new List<QueryBatches>();
        try
        {
            // Counts a part against the statement's memory and keeps it; a part over the limit is freed at once.
            void Keep(int call, QueryBatches part)
            {
                try
                {
                    memory.Charge(BytesOf(part), held);
                }
                catch
                {
                    part.Dispose();
                    throw;
                }
                results[call] = part;
            }

            // Each group is one call in flight: a grain's part, or the parts of the grains of one other silo.
            var groups = Group(calls, routing);
            await FailFastCalls.RunAsync(groups.Count, _options.MaxConcurrentGrainCalls, async (g, token) =>
            {
                var (silo, members) = groups[g];
                if (silo is null)
                {
                    var part = calls[members[0]].Part;
                    Keep(members[0], await runOnGrain(part.Grain, part.Sql, part.Time, part.NewestFirstLimit, token).ConfigureAwait(false));
                    return;
                }
                var answers = await routing!.RunOnSilo(silo, members.Select(i => calls[i].Part).ToList(), token).ConfigureAwait(false);
                var kept = 0;
                try
                {
                    if (answers.Count != members.Count)
                        throw new QueryExecutionException(SqlState.InternalError, $"a silo answered {answers.Count} of {members.Count} grains' parts");
                    while (kept < answers.Count)
                    {
                        var k = kept++;
                        Keep(members[k], answers[k]);
                    }
                }
                finally
                {
                    // What was not kept (over the memory limit, or a short answer) is freed here.
                    for (var k = kept; k < answers.Count; k++) answers[k].Dispose();
                }
            }, cancellationToken).ConfigureAwait(false);

            var merged = new Dictionary<string, QueryBatches>(StringComparer.Ordinal);
            foreach (var (relation, table, grainSql) in relations)
            {
                var parts = calls.Select((c, i) => (c, i)).Where(x => x.c.Relation == relation).Select(x => results[x.i]!).ToList();
                QueryBatches schemaSource;
                if (parts.Count > 0)
                {
                    schemaSource = parts[0];
                }
                else
                {
                    // No grain: the relation still needs the grain SQL's shape.
                    schemaSource = await _merge.ExecuteAsync(StatementBinder.Bind(grainSql, table.Name, SnapshotRelation.Empty(table)),
                        new Dictionary<string, QueryBatches>(), cancellationToken, timeZone).ConfigureAwait(false);
                    shapes.Add(schemaSource);
                }
                merged[relation] = new QueryBatches(schemaSource.Schema, parts.SelectMany(p => p.Batches).ToList());
            }
            return await _merge.ExecuteAsync(mergeSql, merged, cancellationToken, timeZone, memory).ConfigureAwait(false);
        }
        finally
        {
            foreach (var r in results) r?.Dispose();
            foreach (var s in shapes) s.Dispose();
        }
    }

    /// <summary>
    /// The calls grouped for sending: calls to grains that <paramref name="routing"/> places on the same other silo go
    /// together when there are two or more; every other call alone (silo null).
    /// </summary>
    private static List<(string? Silo, List<int> Members)> Group(List<Call> calls, GrainCallRouting? routing)
    {
        var groups = new List<(string? Silo, List<int> Members)>();
        var bySilo = new Dictionary<string, List<int>>(StringComparer.Ordinal);
        for (var i = 0; i < calls.Count; i++)
        {
            if (routing?.RemoteSiloOf(calls[i].Part.Grain) is { } silo)
            {
                if (!bySilo.TryGetValue(silo, out var members)) bySilo[silo] = members = [];
                members.Add(i);
            }
            else
            {
                groups.Add((null, [i]));
            }
        }
        foreach (var (silo, members) in bySilo)
        {
            if (members.Count > 1) groups.Add((silo, members));
            else groups.Add((null, members));
        }
        return groups;
    }

    private static long BytesOf(QueryBatches result)
    {
        long bytes = 0;
        foreach (var b in result.Batches) bytes += Ingest.ArrowSize.Of(b);
        return bytes;
    }

    /// <summary>The smallest range covering every scan's range (scans that can read nothing add nothing).</summary>
    internal static TimeRange Hull(IReadOnlyList<TableScan> scans)
    {
        var live = scans.Where(s => !s.Time.IsEmpty).Select(s => s.Time).ToList();
        if (live.Count == 0) return scans.Count > 0 ? scans[0].Time : TimeRange.All;
        long? min = live.Any(t => t.MinMicros is null) ? null : live.Min(t => t.MinMicros!.Value);
        long? max = live.Any(t => t.MaxMicros is null) ? null : live.Max(t => t.MaxMicros!.Value);
        return new TimeRange(min, max);
    }
}

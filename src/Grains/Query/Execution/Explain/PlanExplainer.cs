using System.Globalization;
using TimeFusion.Grains;
using TimeFusion.Query.Planning;
using TimeFusion.Tables;

namespace TimeFusion.Query.Execution;

/// <summary>Asks one table grain for its part of an EXPLAIN.</summary>
public delegate Task<GrainExplain> GrainExplainRunner(TableId grain, string sql, TimeRange time, long? newestFirstLimit, bool analyze, CancellationToken cancellationToken);

/// <summary>
/// EXPLAIN [ANALYZE] of a planned SELECT, as the lines of PostgreSQL's one-column "QUERY PLAN" result: how the
/// statement splits (one grain, partial aggregates merged at the gateway, or rows shipped to the gateway), each
/// (project, table) grain reached with its Delta files kept and pruned and its buffered rows, the statement each
/// grain runs, and DuckDB's physical plan for the first grain. ANALYZE runs every grain's part and reports its rows
/// and time, and the whole statement's.
/// </summary>
// No ConfigureAwait(false): the delegates call grains, which needs the calling activation's context.
public static class PlanExplainer
{
    /// <summary>The name of the result's one column, as PostgreSQL names it.</summary>
    public const string ColumnName = "QUERY PLAN";

    /// <summary>Builds the plan's lines; <paramref name="runWhole"/> runs the statement for ANALYZE and returns its rows.</summary>
    public static async Task<IReadOnlyList<string>> ExplainAsync(QueryPlan plan, bool analyze, GrainExplainRunner explainGrain,
        Func<CancellationToken, Task<long>> runWhole, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(explainGrain);
        ArgumentNullException.ThrowIfNull(runWhole);
        var lines = new List<string>();
        var calls = new List<(TableId Grain, string Sql, TimeRange Time, long? Limit)>();
        switch (plan.Kind)
        {
            case PlanKind.GatewayOnly:
                lines.Add("Result  (gateway only: no table is read)");
                break;
            case PlanKind.SingleGrain:
                lines.Add("Table Grain  (the whole statement runs on one table grain)");
                calls.Add((new TableId(plan.Scans[0].Projects[0], plan.Scans[0].Table.Name), plan.GrainSql!, Hull(plan.Scans), plan.NewestFirstLimit));
                break;
            case PlanKind.PartialAggregate:
                lines.Add("Merge Partial Aggregates  (at the gateway, over every grain's partial aggregates)");
                lines.Add("  Merge: " + OneLine(plan.MergeSql!));
                calls.AddRange(plan.Scans[0].Grains.Select(g => (g, plan.GrainSql!, plan.Scans[0].Time, (long?)null)));
                break;
            case PlanKind.RowShipping:
                lines.Add("Merge Shipped Rows  (at the gateway, over the rows each grain filters and projects)");
                if (plan.FallbackReason is { } reason) lines.Add("  Reason: " + reason);
                lines.Add("  Merge: " + OneLine(plan.MergeSql!));
                calls.AddRange(plan.Scans.SelectMany(s => s.Grains.Select(g => (g, s.ScanSql!, s.Time, s.NewestFirstLimit))));
                break;
        }
        foreach (var scan in plan.Scans)
        {
            lines.Add($"  ->  Scan {scan.Table.Name} AS {scan.Qualifier}  (projects: {string.Join(", ", scan.Projects)}; {(scan.ProjectSource == ProjectSource.Predicate ? "named by the statement" : "every project the caller may read")})");
            lines.Add($"        Time: {Describe(scan.Time)}");
            if (scan.PushedPredicate is { } predicate) lines.Add("        Pushed Filter: " + OneLine(predicate));
        }
        var first = true;
        foreach (var call in calls)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var e = await explainGrain(call.Grain, call.Sql, call.Time, call.Limit, analyze, cancellationToken);
            lines.Add($"  ->  Table Grain {call.Grain.Project}/{call.Grain.Table}"
                + (analyze && e.ActualRows is { } rows ? $"  (actual rows={rows} time={Ms(e.ActualMilliseconds ?? 0)} ms)" : ""));
            lines.Add($"        Delta Files: {e.FilesKept} kept, {e.DeltaFiles - e.FilesKept} pruned");
            lines.Add($"        Buffer Rows Scanned: {e.BufferRows}");
            lines.Add("        Statement: " + OneLine(call.Sql));
            if (first)
            {
                lines.Add("        DuckDB Plan:");
                lines.AddRange(e.Plan.Select(l => "          " + l));
                first = false;
            }
        }
        if (analyze)
        {
            var clock = System.Diagnostics.Stopwatch.StartNew();
            var total = await runWhole(cancellationToken);
            lines.Add($"Actual Rows: {total}");
            lines.Add($"Execution Time: {Ms(clock.Elapsed.TotalMilliseconds)} ms");
        }
        return lines;
    }

    private static TimeRange Hull(IReadOnlyList<TableScan> scans) => scans.Count == 1 ? scans[0].Time
        : new TimeRange(scans.Any(s => s.Time.MinMicros is null) ? null : scans.Min(s => s.Time.MinMicros),
            scans.Any(s => s.Time.MaxMicros is null) ? null : scans.Max(s => s.Time.MaxMicros));

    internal static string Describe(TimeRange time) => time.IsEmpty ? "empty (no file is read)"
        : time.IsUnbounded ? "unbounded (every file is read)"
        : $"{Timestamp(time.MinMicros)} .. {Timestamp(time.MaxMicros)}";

    private static string Timestamp(long? micros) => micros is { } m && SnapshotRelation.CanExpress(m)
        ? DateTime.UnixEpoch.AddTicks(m * 10).ToString("yyyy-MM-dd HH:mm:ss.ffffff", CultureInfo.InvariantCulture) + "+00"
        : "unbounded";

    private static string Ms(double ms) => ms.ToString("0.000", CultureInfo.InvariantCulture);

    internal static string OneLine(string sql) => string.Join(' ', sql.Split((char[])['\n', '\r', '\t'], StringSplitOptions.RemoveEmptyEntries).Select(s => s.Trim()));
}

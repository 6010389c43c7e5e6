using TimeFusion.Query.Execution;
using TimeFusion.Query.Planning;

namespace TimeFusion.Grains;

public sealed partial class QueryGatewayGrain
{
    /// <summary>
    /// Phase one of a streamed newest-first statement over several grains (<see cref="SortKeyCutoff"/>): every grain
    /// returns its top LIMIT + OFFSET sort keys only (read newest files first), the gateway finds the cutoff, and the
    /// grains' part becomes the rows up to it. Without it each grain's top-n sort held n wide rows at once — 16 grains,
    /// 16 n rows — and a large n ran out of DuckDB's memory. The keys count against StatementMemoryBytes and are freed
    /// here. The part as it was when there is no cutoff form or fewer rows than the LIMIT.
    /// </summary>
    private async Task<string> NewestFirstCutoffSqlAsync(QueryPlan plan, StreamedPlan stream, TableScan scan, CancellationToken cancellationToken)
    {
        if (stream is not { TopKeysSql: { } topKeysSql, CutoffSqlTemplate: not null, Limit: { } limit } || limit + stream.Offset == 0)
            return stream.GrainSql;
        var memory = new StatementMemory(_execution.StatementMemoryBytes);
        var calls = scan.Grains.Select(g => RunOnGrainAsync(g, topKeysSql, scan.Time, plan.NewestFirstLimit, plan.TimeZone, cancellationToken)).ToList();
        try
        {
            await Task.WhenAll(calls);
            foreach (var call in calls)
                memory.Charge(SortKeyCutoff.BytesOf(call.Result.Batches), "newest-first sort keys of every grain");
            var cutoff = SortKeyCutoff.Find(calls.SelectMany(c => c.Result.Batches), limit + stream.Offset);
            return cutoff is null ? stream.GrainSql : stream.WithCutoff(cutoff);
        }
        finally
        {
            foreach (var call in calls)
                if (call.IsCompletedSuccessfully) call.Result.Dispose();
        }
    }
}

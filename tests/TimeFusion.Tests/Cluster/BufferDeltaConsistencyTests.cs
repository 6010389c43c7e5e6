using Apache.Arrow;
using TimeFusion.Grains;
using TimeFusion.Tables;
using TimeFusion.Tests.Engine;
using TimeFusion.Wire;

namespace TimeFusion.Tests.Cluster;

/// <summary>The same answers whether rows sit in the buffer, in Delta, or split between them.</summary>
public sealed class BufferDeltaConsistencyTests(OneSiloCluster fixture) : IClassFixture<OneSiloCluster>
{
    private IQueryGatewayGrain Gateway => fixture.Client.GetGrain<IQueryGatewayGrain>(0);

    [Theory]
    [InlineData("buffered")]
    [InlineData("flush-after-every-write")]
    [InlineData("split")]
    public async Task Aggregates_and_point_lookups_agree_with_what_was_written(string mode)
    {
        var project = "cons-" + mode;
        var caller = Caller.ForProject(project);
        var durations = new List<long>();
        var ids = new List<string>();
        for (var i = 0; i < 6; i++)
        {
            var batch = EngineTestKit.OtelRows(150 + i * 10, $"{mode}-{i}", EngineTestKit.T0 + i * 3_600_000_000L);
            await Gateway.InsertAsync(project, OtelLogsAndSpans.TableName, batch, caller);
            durations.AddRange(Enumerable.Range(0, batch.Length).Select(r => ((Int64Array)batch.Column(3)).GetValue(r)!.Value));
            ids.AddRange(Enumerable.Range(0, batch.Length).Select(r => ((StringArray)batch.Column(0)).GetString(r)));
            if (mode == "flush-after-every-write" || (mode == "split" && i % 2 == 0))
                await Gateway.ExecuteAsync("FLUSH otel_logs_and_spans", caller);
        }

        var r = await Gateway.QueryAsync(
            "SELECT count(*), sum(duration), avg(duration), min(duration), max(duration), count(DISTINCT id) FROM otel_logs_and_spans", caller);
        var row = r.Batches.Single(b => b.Length > 0);
        Assert.Equal(durations.Count, ((Int64Array)row.Column(0)).GetValue(0));
        Assert.Equal(durations.Sum(), Convert.ToInt64(ScalarOf(row.Column(1))));
        Assert.Equal(durations.Average(), ((DoubleArray)row.Column(2)).GetValue(0)!.Value, 6);
        Assert.Equal(durations.Min(), ((Int64Array)row.Column(3)).GetValue(0));
        Assert.Equal(durations.Max(), ((Int64Array)row.Column(4)).GetValue(0));
        Assert.Equal(ids.Count, ((Int64Array)row.Column(5)).GetValue(0));

        foreach (var id in new[] { ids[0], ids[^1], ids[ids.Count / 2] })
        {
            var hit = await Gateway.QueryAsync($"SELECT id FROM otel_logs_and_spans WHERE id = '{id}'", caller);
            Assert.Equal(1, hit.RowCount);
        }
        // A time window prunes Delta files and buffer rows alike.
        var window = await Gateway.QueryAsync(
            "SELECT count(*) FROM otel_logs_and_spans WHERE timestamp >= TIMESTAMPTZ '2026-11-25 00:00:00+00' AND timestamp < TIMESTAMPTZ '2026-11-25 01:00:00+00'", caller);
        Assert.Equal(170, ((Int64Array)window.Batches.Single(b => b.Length > 0).Column(0)).GetValue(0)); // batch i = 2
    }

    private static object ScalarOf(IArrowArray a) => a switch
    {
        Int64Array x => x.GetValue(0)!.Value,
        Decimal128Array d => d.GetValue(0)!.Value,
        DoubleArray d => d.GetValue(0)!.Value,
        _ => throw new InvalidOperationException(a.Data.DataType.Name),
    };
}

using Apache.Arrow;
using TimeFusion.Grains;
using TimeFusion.Query.Planning;
using TimeFusion.Tables;
using TimeFusion.Tests.Engine;
using TimeFusion.Wire;

namespace TimeFusion.Tests.Cluster;

public sealed class SingleProjectQueryTests(OneSiloCluster fixture) : IClassFixture<OneSiloCluster>
{
    private IQueryGatewayGrain Gateway => fixture.Client.GetGrain<IQueryGatewayGrain>(0);

    private static long Scalar(Wire.ArrowBatches result) => result.Batches.Sum(b => b.Length) == 1
        ? Convert.ToInt64(((IArrowArray)result.Batches.Single(b => b.Length > 0).Column(0)) switch
        {
            Int64Array a => a.GetValue(0),
            Int32Array a => a.GetValue(0),
            _ => throw new InvalidOperationException("not an integer"),
        })
        : throw new InvalidOperationException($"expected one row, got {result.RowCount}");

    [Fact]
    public async Task Rows_written_through_a_table_grain_are_queryable_before_and_after_flush()
    {
        var caller = Caller.ForProject("p1");
        var batch = EngineTestKit.OtelRows(500);
        await Gateway.InsertAsync("p1", OtelLogsAndSpans.TableName, batch, caller);
        Assert.Equal(500, Scalar(await Gateway.QueryAsync("SELECT count(*) FROM otel_logs_and_spans", caller)));

        await Gateway.ExecuteAsync("FLUSH otel_logs_and_spans", caller);
        var status = await fixture.Client.GetGrain<ITableGrain>(TableGrainKey.Format("p1", OtelLogsAndSpans.TableName)).GetStatusAsync();
        Assert.Equal(0, status.BufferedRows);
        Assert.True(status.DeltaVersion >= 1);

        await Gateway.InsertAsync("p1", OtelLogsAndSpans.TableName, EngineTestKit.OtelRows(100), caller);
        Assert.Equal(600, Scalar(await Gateway.QueryAsync("SELECT count(*) FROM otel_logs_and_spans WHERE project_id = 'p1'", caller)));
    }

    [Fact]
    public async Task A_project_the_caller_may_not_read_is_refused()
    {
        var e = await Assert.ThrowsAsync<Wire.TimeFusionException>(() =>
            Gateway.QueryAsync("SELECT count(*) FROM otel_logs_and_spans WHERE project_id = 'other'", Caller.ForProject("p1")));
        Assert.Equal(SqlState.InsufficientPrivilege, e.SqlState);
        await Assert.ThrowsAsync<Wire.TimeFusionException>(() =>
            Gateway.InsertAsync("other", OtelLogsAndSpans.TableName, EngineTestKit.OtelRows(1), Caller.ForProject("p1")));
    }

    [Fact]
    public async Task Unknown_tables_and_syntax_errors_get_their_sqlstate()
    {
        var caller = Caller.ForProject("p1");
        Assert.Equal(SqlState.UndefinedTable, (await Assert.ThrowsAsync<Wire.TimeFusionException>(() => Gateway.QueryAsync("SELECT * FROM nope", caller))).SqlState);
        Assert.Equal(SqlState.SyntaxError, (await Assert.ThrowsAsync<Wire.TimeFusionException>(() => Gateway.QueryAsync("SELEC 1", caller))).SqlState);
    }
}

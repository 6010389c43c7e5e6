using Apache.Arrow;
using Microsoft.Extensions.DependencyInjection;
using TimeFusion.Buffer;
using TimeFusion.Grains;
using TimeFusion.Tables;
using TimeFusion.Tests.Engine;
using TimeFusion.Wire;

namespace TimeFusion.Tests.Cluster;

public sealed class BackpressureTests(TinyBudgetCluster fixture) : IClassFixture<TinyBudgetCluster>
{
    [Fact]
    public async Task Writers_faster_than_flush_wait_or_get_a_retryable_error_and_every_acknowledged_row_stays()
    {
        var gateway = fixture.Client.GetGrain<IQueryGatewayGrain>(0);
        var acked = 0L;
        var refused = 0;
        await Task.WhenAll(Enumerable.Range(0, 12).Select(w => Task.Run(async () =>
        {
            var project = $"bp{w % 3}";
            for (var i = 0; i < 15; i++)
            {
                try
                {
                    await gateway.InsertAsync(project, OtelLogsAndSpans.TableName, EngineTestKit.OtelRows(2000, $"w{w}-{i}"), Caller.ForProject(project));
                    Interlocked.Add(ref acked, 2000);
                }
                catch (TimeFusionException e) when (e.SqlState == "53200")
                {
                    Assert.True(e.IsRetryable);
                    Interlocked.Increment(ref refused);
                }
            }
        })));

        var budget = fixture.Cluster.GetSiloServiceProvider(fixture.Cluster.Silos[0].SiloAddress).GetRequiredService<BufferDatabase>().Budget;
        Assert.True(budget.PeakUsedBytes <= TinyBudgetCluster.HardLimit, $"peak {budget.PeakUsedBytes} over the hard limit");
        Assert.True(budget.PeakUsedBytes > TinyBudgetCluster.HardLimit / 2, "the writers never came near the limit: the test did not apply pressure");

        long stored = 0;
        for (var p = 0; p < 3; p++)
        {
            var r = await gateway.QueryAsync("SELECT count(*) FROM otel_logs_and_spans", Caller.ForProject($"bp{p}"));
            stored += ((Int64Array)r.Batches.Single(b => b.Length > 0).Column(0)).GetValue(0)!.Value;
        }
        Assert.Equal(acked, stored); // nothing acknowledged lost, nothing refused stored
        Assert.True(acked > 0);
    }
}

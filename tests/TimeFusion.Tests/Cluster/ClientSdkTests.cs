using Apache.Arrow;
using TimeFusion.Client.Sdk;
using TimeFusion.Grains;
using TimeFusion.Tables;
using TimeFusion.Tests.Engine;

namespace TimeFusion.Tests.Cluster;

public sealed class ClientSdkTests(OneSiloCluster fixture) : IClassFixture<OneSiloCluster>
{
    [Fact]
    public async Task The_sdk_inserts_arrow_and_streams_query_results_back_as_arrow()
    {
        var client = new TimeFusionClient(fixture.Client, Caller.ForProject("sdk"));
        await client.InsertAsync("sdk", OtelLogsAndSpans.TableName, EngineTestKit.OtelRows(300, "s"));
        await client.FlushAsync(OtelLogsAndSpans.TableName);
        await client.InsertAsync("sdk", OtelLogsAndSpans.TableName, EngineTestKit.OtelRows(200, "t"));

        var rows = new List<(string Service, long Count)>();
        await foreach (var batch in client.QueryAsync(
            "SELECT resource___service___name AS service, count(*) AS n FROM otel_logs_and_spans GROUP BY 1 ORDER BY 1"))
        {
            var services = (StringArray)batch.Column(0);
            var counts = (Int64Array)batch.Column(1);
            for (var i = 0; i < batch.Length; i++) rows.Add((services.GetString(i), counts.GetValue(i)!.Value));
        }
        // OtelRows spreads rows over 4 services round-robin: 300 → 75 each, 200 → 50 each.
        Assert.Equal([("svc-0", 125L), ("svc-1", 125L), ("svc-2", 125L), ("svc-3", 125L)], rows);
    }

    [Fact]
    public async Task The_sdk_streams_a_result_a_batch_at_a_time_and_stopping_early_ends_it()
    {
        var client = new TimeFusionClient(fixture.Client, Caller.ForProject("sdk-stream"));
        await client.InsertAsync("sdk-stream", OtelLogsAndSpans.TableName, EngineTestKit.OtelRows(1, "s"));

        // A result that never ends: only a stream can hand out its first batch; leaving the loop ends the query.
        await foreach (var batch in client.QueryAsync("SELECT r.range AS n FROM otel_logs_and_spans, range(1000000000000) r"))
        {
            Assert.True(batch.Length > 0);
            Assert.Equal(0L, ((Int64Array)batch.Column(0)).GetValue(0));
            break;
        }

        long rows = 0, sum = 0;
        var batches = 0;
        await foreach (var batch in client.QueryAsync("SELECT r.range AS n FROM otel_logs_and_spans, range(300000) r"))
        {
            var n = (Int64Array)batch.Column(0);
            for (var i = 0; i < n.Length; i++) sum += n.GetValue(i)!.Value;
            rows += batch.Length;
            batches++;
        }
        Assert.Equal(300_000L, rows);
        Assert.Equal(300_000L * 299_999 / 2, sum);
        Assert.True(batches > 1, "the result came as one batch");
    }
}

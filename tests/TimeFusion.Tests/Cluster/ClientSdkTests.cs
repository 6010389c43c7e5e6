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
}

using System.Text;
using Apache.Arrow;
using Apache.Arrow.Flight;
using Apache.Arrow.Flight.Client;
using Apache.Arrow.Types;
using Grpc.Core;
using Npgsql;
using TimeFusion.Tests.Abuse;
using static TimeFusion.Tests.Abuse.AbuseSiloFixture;

namespace TimeFusion.Tests.Ingest;

/// <summary>
/// On a real silo, rows written with OTel-shaped JSON <c>attributes</c> / <c>resource</c> through INSERT, COPY and
/// Arrow Flight DoPut (the SDK's door) get their flattened columns filled; a value the writer supplies wins.
/// </summary>
[Collection(AbuseSiloCollection.Name)]
public sealed class FlattenedAttributeDoorsTests(AbuseSiloFixture f)
{
    private async Task<List<string>> FlattenedAsync(string idPrefix)
    {
        await using var alice = await f.OpenAsync(Alice, AlicePassword);
        await using var read = new NpgsqlCommand($"""
            SELECT id, attributes___http___response___status_code, attributes___url___path, resource___service___name
            FROM otel_logs_and_spans WHERE id LIKE '{idPrefix}%' ORDER BY id
            """, alice);
        await using var reader = await read.ExecuteReaderAsync();
        var rows = new List<string>();
        while (await reader.ReadAsync())
            rows.Add(string.Join("|", Enumerable.Range(0, 4).Select(i => reader.IsDBNull(i) ? "NULL" : Convert.ToString(reader.GetValue(i), System.Globalization.CultureInfo.InvariantCulture))));
        return rows;
    }

    [Fact]
    public async Task Insert_fills_flattened_columns_from_the_json_and_keeps_supplied_ones()
    {
        await using var alice = await f.OpenAsync(Alice, AlicePassword);
        await using var insert = new NpgsqlCommand("""
            INSERT INTO otel_logs_and_spans (timestamp, id, attributes, resource, attributes___url___path) VALUES
              ('2026-12-01 10:00:00+00', 'flat-ins-0', '{"http.response.status_code": 200, "url.path": "/json"}', '{"service.name": "shop"}', NULL),
              ('2026-12-01 10:00:01+00', 'flat-ins-1', '{"http.response.status_code": 500, "url.path": "/json"}', NULL, '/given')
            """, alice);
        Assert.Equal(2, await insert.ExecuteNonQueryAsync());
        Assert.Equal(["flat-ins-0|200|/json|shop", "flat-ins-1|500|/given|NULL"], await FlattenedAsync("flat-ins-"));
        await using var filter = new NpgsqlCommand("SELECT count(*) FROM otel_logs_and_spans WHERE attributes___http___response___status_code >= 500 AND id LIKE 'flat-ins-%'", alice);
        Assert.Equal(1L, Convert.ToInt64(await filter.ExecuteScalarAsync()));
    }

    [Fact]
    public async Task Copy_fills_flattened_columns_from_the_json()
    {
        await using var alice = await f.OpenAsync(Alice, AlicePassword);
        await using (var writer = await alice.BeginTextImportAsync("COPY otel_logs_and_spans (timestamp, id, attributes, resource) FROM STDIN"))
        {
            await writer.WriteAsync("2026-12-01 10:00:00+00\tflat-copy-0\t{\"http.response.status_code\": 404, \"url.path\": \"/c\"}\t{\"service.name\": \"cart\"}\n");
            await writer.WriteAsync("2026-12-01 10:00:01+00\tflat-copy-1\t\\N\t\\N\n");
        }
        Assert.Equal(["flat-copy-0|404|/c|cart", "flat-copy-1|NULL|NULL|NULL"], await FlattenedAsync("flat-copy-"));
    }

    [Fact]
    public async Task Flight_put_fills_flattened_columns_from_the_json()
    {
        using var channel = f.FlightChannel();
        var client = new FlightClient(channel);
        var headers = new Metadata { { "authorization", "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes($"{Alice}:{AlicePassword}")) } };
        var micros = new TimestampType(TimeUnit.Microsecond, "UTC");
        var schema = new Schema.Builder()
            .Field(b => b.Name("timestamp").DataType(micros).Nullable(false))
            .Field(b => b.Name("id").DataType(StringType.Default).Nullable(false))
            .Field(b => b.Name("attributes").DataType(StringType.Default).Nullable(true))
            .Field(b => b.Name("resource").DataType(StringType.Default).Nullable(true))
            .Build();
        var ts = new TimestampArray.Builder(micros).Append(new DateTimeOffset(2026, 12, 1, 10, 0, 0, TimeSpan.Zero)).Build();
        var ids = new StringArray.Builder().Append("flat-put-0").Build();
        var attributes = new StringArray.Builder().Append("{\"http.response.status_code\": \"302\", \"url.path\": \"/f\"}").Build();
        var resource = new StringArray.Builder().Append("{\"service.name\": \"api\"}").Build();
        using var batch = new RecordBatch(schema, [ts, ids, attributes, resource], 1);
        using (var call = await client.StartPut(FlightDescriptor.CreatePathDescriptor("alice", "otel_logs_and_spans"), schema, headers))
        {
            await call.RequestStream.WriteAsync(batch);
            await call.RequestStream.CompleteAsync();
            while (await call.ResponseStream.MoveNext(CancellationToken.None)) { }
        }
        Assert.Equal(["flat-put-0|302|/f|api"], await FlattenedAsync("flat-put-"));
    }
}

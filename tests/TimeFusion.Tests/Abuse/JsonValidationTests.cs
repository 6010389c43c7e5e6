using Apache.Arrow;
using Apache.Arrow.Flight;
using Apache.Arrow.Flight.Client;
using Apache.Arrow.Types;
using Grpc.Core;
using System.Text;
using Npgsql;
using TimeFusion.Wire;
using static TimeFusion.Tests.Abuse.AbuseSiloFixture;

namespace TimeFusion.Tests.Abuse;

/// <summary>
/// Finding 9 on a real silo: a JSON column refuses text that is not JSON on every ingest path (INSERT, COPY, Flight
/// DoPut) with 22P02 naming the row and column, and nothing of the statement lands.
/// </summary>
[Collection(AbuseSiloCollection.Name)]
public sealed class JsonValidationTests(AbuseSiloFixture f)
{
    [Fact]
    public async Task Insert_refuses_invalid_json_naming_row_and_column()
    {
        await using var alice = await f.OpenAsync(Alice, AlicePassword);
        await using var insert = new NpgsqlCommand($"""
            INSERT INTO {AbuseSiloFixture.Table} (timestamp, id, attributes) VALUES
              ('2026-12-01 10:00:00+00', 'json-ins-0', '{"{"}"a": 1{"}"}'),
              ('2026-12-01 10:00:01+00', 'json-ins-1', '{"{"}not json')
            """, alice);
        var e = await Assert.ThrowsAsync<PostgresException>(() => insert.ExecuteNonQueryAsync());
        Assert.Equal(SqlState.InvalidTextRepresentation, e.SqlState);
        Assert.Contains("row 1", e.MessageText);
        Assert.Contains("'attributes'", e.MessageText);
        Assert.Equal(0, await f.CountAsync("json-ins-"));
        // Valid JSON of every shape still goes in, and ->> works over the project afterwards.
        await using var ok = new NpgsqlCommand($"""
            INSERT INTO {AbuseSiloFixture.Table} (timestamp, id, attributes) VALUES
              ('2026-12-01 10:00:00+00', 'json-ins-ok-0', '{"{"}"a": "x"{"}"}'), ('2026-12-01 10:00:00+00', 'json-ins-ok-1', '[1, 2.5e3, null, true]'),
              ('2026-12-01 10:00:00+00', 'json-ins-ok-2', '"text"'), ('2026-12-01 10:00:00+00', 'json-ins-ok-3', NULL)
            """, alice);
        Assert.Equal(4, await ok.ExecuteNonQueryAsync());
        await using var read = new NpgsqlCommand($"SELECT attributes->>'a' FROM {AbuseSiloFixture.Table} WHERE id = 'json-ins-ok-0'", alice);
        Assert.Equal("x", await read.ExecuteScalarAsync());
    }

    [Fact]
    public async Task Copy_refuses_invalid_json_and_writes_nothing()
    {
        await using var alice = await f.OpenAsync(Alice, AlicePassword);
        var e = await Assert.ThrowsAsync<PostgresException>(async () =>
        {
            await using var writer = await alice.BeginTextImportAsync($"COPY {AbuseSiloFixture.Table} (timestamp, id, attributes) FROM STDIN");
            await writer.WriteAsync("2026-12-01 10:00:00+00\tjson-copy-0\t{\"a\": 1}\n");
            await writer.WriteAsync("2026-12-01 10:00:01+00\tjson-copy-1\t{\"b\": [1, 2]}\n");
            await writer.WriteAsync("2026-12-01 10:00:02+00\tjson-copy-2\t{\"unterminated\": \n");
        });
        Assert.Equal(SqlState.InvalidTextRepresentation, e.SqlState);
        Assert.Contains("row 2", e.MessageText);
        Assert.Contains("'attributes'", e.MessageText);
        Assert.Equal(0, await f.CountAsync("json-copy-"));
    }

    [Fact]
    public async Task Flight_put_refuses_invalid_json_and_writes_nothing()
    {
        using var channel = f.FlightChannel();
        var client = new FlightClient(channel);
        var headers = new Metadata { { "authorization", "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes($"{Alice}:{AlicePassword}")) } };
        var micros = new TimestampType(TimeUnit.Microsecond, "UTC");
        var schema = new Schema.Builder()
            .Field(b => b.Name("timestamp").DataType(micros).Nullable(false))
            .Field(b => b.Name("id").DataType(StringType.Default).Nullable(false))
            .Field(b => b.Name("attributes").DataType(StringType.Default).Nullable(true))
            .Build();
        var ts = new TimestampArray.Builder(micros);
        var ids = new StringArray.Builder();
        var json = new StringArray.Builder();
        string?[] values = ["{\"ok\": true}", null, "{'single': 'quotes'}"];
        for (var i = 0; i < values.Length; i++)
        {
            ts.Append(new DateTimeOffset(2026, 12, 1, 10, 0, i, TimeSpan.Zero));
            ids.Append($"json-put-{i}");
            if (values[i] is { } v) json.Append(v); else json.AppendNull();
        }
        using var batch = new RecordBatch(schema, [ts.Build(), ids.Build(), json.Build()], values.Length);
        var e = await Assert.ThrowsAsync<RpcException>(async () =>
        {
            using var call = await client.StartPut(FlightDescriptor.CreatePathDescriptor("alice", AbuseSiloFixture.Table), schema, headers);
            try
            {
                await call.RequestStream.WriteAsync(batch);
                await call.RequestStream.CompleteAsync();
            }
            catch (Exception x) when (x is RpcException or InvalidOperationException)
            {
                // The server may end the call before reading on; its status comes from the response stream.
            }
            while (await call.ResponseStream.MoveNext(CancellationToken.None)) { }
        });
        Assert.Contains("[22P02]", e.Status.Detail);
        Assert.Contains("row 2", e.Status.Detail);
        Assert.Contains("'attributes'", e.Status.Detail);
        Assert.Equal(0, await f.CountAsync("json-put-"));
    }
}

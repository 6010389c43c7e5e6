using System.Text;
using System.Text.Json;
using Apache.Arrow;
using Apache.Arrow.Flight;
using Apache.Arrow.Flight.Client;
using Apache.Arrow.Types;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.Extensions.Options;
using TimeFusion.Silo.Protocol.Flight;
using TimeFusion.Silo.Security;
using TimeFusion.Silo.Protocol.Postgres;
using TimeFusion.Silo.Protocol.Postgres.Auth;
using TimeFusion.Tests.Cluster;

namespace TimeFusion.Tests.Protocol.Flight;

/// <summary>A real Flight client (gRPC over loopback) against the Flight endpoint backed by a real silo.</summary>
public sealed class FlightEndToEndTests(OneSiloCluster fixture) : IClassFixture<OneSiloCluster>, IAsyncLifetime
{
    private const string Table = "otel_logs_and_spans";
    private FlightEndpointHost _endpoint = null!;
    private GrpcChannel _channel = null!;
    private FlightClient _client = null!;
    private UserDirectory _users = null!;

    public async Task InitializeAsync()
    {
        var users = new UserDirectory(Options.Create(new TimeFusionUsersOptions
        {
            Users =
            [
                new TimeFusionUser { Name = "fl-alice", PasswordOrScramSecret = "s3cret", Projects = ["flight-alice"] },
                new TimeFusionUser { Name = "fl-scram", PasswordOrScramSecret = ScramSecret.Create("scram-pw", 1024).ToString(), Projects = ["flight-scram"] },
                new TimeFusionUser { Name = "fl-put", PasswordOrScramSecret = "putpw", Projects = ["flight-put"] },
                new TimeFusionUser { Name = "fl-big", PasswordOrScramSecret = "bigpw", Projects = ["flight-big"] },
                new TimeFusionUser { Name = "fl-exec", PasswordOrScramSecret = "execpw", Projects = ["flight-exec"] },
                new TimeFusionUser { Name = "fl-inplace", PasswordOrScramSecret = "inplacepw", Projects = ["flight-inplace", "flight-library"] },
                new TimeFusionUser { Name = "fl-ahead", PasswordOrScramSecret = "aheadpw", Projects = ["flight-ahead", "flight-ahead-lib", "flight-ahead-bad"] },
            ],
        }));
        _users = users;
        _endpoint = new FlightEndpointHost(fixture.Client, users, Options.Create(new FlightEndpointOptions { Port = 0 }));
        await _endpoint.StartAsync(CancellationToken.None);
        _channel = GrpcChannel.ForAddress($"http://127.0.0.1:{_endpoint.LocalEndPoint!.Port}");
        _client = new FlightClient(_channel);
    }

    public async Task DisposeAsync()
    {
        _channel.Dispose();
        await _endpoint.DisposeAsync();
    }

    private static Metadata Basic(string user, string password) =>
        new() { { "authorization", "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{password}")) } };

    private async Task<List<RecordBatch>> GetAsync(string sql, Metadata headers)
    {
        var call = _client.GetStream(new FlightTicket(sql), headers);
        var batches = new List<RecordBatch>();
        await foreach (var b in call.ResponseStream) batches.Add(b);
        return batches;
    }

    private static List<string> Strings(IEnumerable<RecordBatch> batches, int column) =>
        batches.SelectMany(b => Enumerable.Range(0, b.Length).Select(i => ((StringArray)b.Column(column)).GetString(i))).ToList();

    private async Task<long> CountAsync(Metadata headers)
    {
        var batches = await GetAsync($"SELECT count(*) AS n FROM {Table}", headers);
        return ((Int64Array)batches.Single(b => b.Length > 0).Column(0)).GetValue(0)!.Value;
    }

    /// <summary>Puts the batches in one DoPut, reading each acknowledgement right after its batch.</summary>
    private async Task<List<JsonElement>> PutAsync(FlightDescriptor descriptor, Schema schema, Metadata headers, params RecordBatch[] batches)
    {
        using var call = await _client.StartPut(descriptor, schema, headers);
        var acks = new List<JsonElement>();
        foreach (var b in batches)
        {
            await WriteAsync(call, b);
            Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None));
            acks.Add(JsonDocument.Parse(call.ResponseStream.Current.ApplicationMetadata.ToStringUtf8()).RootElement.Clone());
        }
        await call.RequestStream.CompleteAsync();
        Assert.False(await call.ResponseStream.MoveNext(CancellationToken.None));
        return acks;
    }

    /// <summary>
    /// Writes one batch. When the server has already ended the call (it may refuse before reading data), the write
    /// fails with a transport status; the call's real status is then read from the response stream, as gRPC advises.
    /// </summary>
    private static async Task WriteAsync(FlightRecordBatchDuplexStreamingCall call, RecordBatch batch)
    {
        try
        {
            await call.RequestStream.WriteAsync(batch);
        }
        catch (Exception e) when (e is RpcException or InvalidOperationException)
        {
            while (await call.ResponseStream.MoveNext(CancellationToken.None))
            {
            }
            throw;
        }
    }

    [Fact]
    public async Task DoPut_acknowledges_each_batch_and_DoGet_returns_the_rows()
    {
        var alice = Basic("fl-alice", "s3cret");
        var acks = await PutAsync(FlightDescriptor.CreatePathDescriptor("flight-alice", Table), FlightTestBatches.Schema, alice,
            FlightTestBatches.Rows(["a1", "a2", "a3"]), FlightTestBatches.Rows(["b1", "b2"], level: "ERROR"));

        Assert.Equal([3L, 2L], acks.Select(a => a.GetProperty("rows").GetInt64()));
        Assert.True(acks[1].GetProperty("lsn").GetInt64() > acks[0].GetProperty("lsn").GetInt64());

        var rows = await GetAsync($"SELECT id, level FROM {Table} ORDER BY id", alice);
        Assert.Equal(["a1", "a2", "a3", "b1", "b2"], Strings(rows, 0));
        Assert.Equal(["INFO", "INFO", "INFO", "ERROR", "ERROR"], Strings(rows, 1));
    }

    [Fact]
    public async Task ListFlights_lists_the_tables_with_schemas_and_tickets_that_DoGet_accepts()
    {
        var alice = Basic("fl-alice", "s3cret");
        var infos = new List<FlightInfo>();
        var call = _client.ListFlights(new FlightCriteria(), alice);
        while (await call.ResponseStream.MoveNext(CancellationToken.None)) infos.Add(call.ResponseStream.Current);

        var otel = Assert.Single(infos, i => i.Descriptor.Paths.SequenceEqual([Table]));
        Assert.Equal(FlightDescriptorType.Path, otel.Descriptor.Type);
        Assert.IsType<TimestampType>(otel.Schema.GetFieldByName("timestamp").DataType);
        Assert.IsType<StringType>(otel.Schema.GetFieldByName("id").DataType);

        var info = await _client.GetInfo(FlightDescriptor.CreatePathDescriptor(Table), alice);
        Assert.Equal(otel.Schema.FieldsList.Select(f => f.Name), info.Schema.FieldsList.Select(f => f.Name));
        var batches = await GetAsync(Assert.Single(info.Endpoints).Ticket.Ticket.ToStringUtf8(), alice);
        Assert.All(batches, b => Assert.Equal(otel.Schema.FieldsList.Count, b.ColumnCount));

        var missing = await Assert.ThrowsAsync<RpcException>(() => _client.GetInfo(FlightDescriptor.CreatePathDescriptor("no_such_table"), alice).ResponseAsync);
        Assert.Equal(StatusCode.NotFound, missing.StatusCode);
    }

    [Fact]
    public async Task Wrong_password_unknown_user_and_no_credentials_are_Unauthenticated()
    {
        foreach (var headers in new[] { Basic("fl-alice", "wrong"), Basic("nobody", "s3cret"), new Metadata(), new Metadata { { "authorization", "Basic %%%" } } })
        {
            var get = await Assert.ThrowsAsync<RpcException>(() => GetAsync($"SELECT count(*) FROM {Table}", headers));
            Assert.Equal(StatusCode.Unauthenticated, get.StatusCode);
            var list = await Assert.ThrowsAsync<RpcException>(async () =>
                await _client.ListFlights(new FlightCriteria(), headers).ResponseStream.MoveNext(CancellationToken.None));
            Assert.Equal(StatusCode.Unauthenticated, list.StatusCode);
        }
    }

    [Fact]
    public async Task A_user_with_a_scram_secret_authenticates_with_its_password_and_puts_to_its_default_project()
    {
        var acks = await PutAsync(FlightDescriptor.CreatePathDescriptor(Table), FlightTestBatches.Schema, Basic("fl-scram", "scram-pw"),
            FlightTestBatches.Rows(["s1", "s2"]));
        Assert.Equal(2, acks.Single().GetProperty("rows").GetInt64());
        Assert.Equal(2, await CountAsync(Basic("fl-scram", "scram-pw")));

        var wrong = await Assert.ThrowsAsync<RpcException>(() => CountAsync(Basic("fl-scram", "scram-pw!")));
        Assert.Equal(StatusCode.Unauthenticated, wrong.StatusCode);
    }

    [Fact]
    public async Task Another_project_is_PermissionDenied_for_put_and_query()
    {
        var alice = Basic("fl-alice", "s3cret");
        var put = await Assert.ThrowsAsync<RpcException>(() =>
            PutAsync(FlightDescriptor.CreatePathDescriptor("flight-bob", Table), FlightTestBatches.Schema, alice, FlightTestBatches.Rows(["x"])));
        Assert.Equal(StatusCode.PermissionDenied, put.StatusCode);
        Assert.Contains("42501", put.Status.Detail);

        var get = await Assert.ThrowsAsync<RpcException>(() => GetAsync($"SELECT count(*) FROM {Table} WHERE project_id = 'flight-bob'", alice));
        Assert.Equal(StatusCode.PermissionDenied, get.StatusCode);
        Assert.Equal("42501", get.Trailers.GetValue(FlightErrors.SqlStateTrailer));
    }

    [Fact]
    public async Task Bad_sql_is_InvalidArgument_naming_42601()
    {
        var e = await Assert.ThrowsAsync<RpcException>(() => GetAsync("SELEC id FRM otel_logs_and_spans", Basic("fl-alice", "s3cret")));
        Assert.Equal(StatusCode.InvalidArgument, e.StatusCode);
        Assert.Contains("42601", e.Status.Detail);
        Assert.Equal("42601", e.Trailers.GetValue(FlightErrors.SqlStateTrailer));

        var unknown = await Assert.ThrowsAsync<RpcException>(() => GetAsync("SELECT * FROM no_such_table", Basic("fl-alice", "s3cret")));
        Assert.Equal(StatusCode.NotFound, unknown.StatusCode);
    }

    [Fact]
    public async Task A_hostile_schema_is_refused_before_the_Flight_reader_parses_it()
    {
        // A list nested 200 deep: Apache.Arrow's reader would recurse over it; the preflight refuses it first.
        var user = Basic("fl-put", "putpw");
        var descriptor = FlightDescriptor.CreatePathDescriptor("flight-put", Table);
        IArrowType type = Int32Type.Default;
        var data = new ArrayData(type, 0, 0, 0, [ArrowBuffer.Empty, ArrowBuffer.Empty]);
        for (var i = 0; i < 200; i++)
        {
            type = new ListType(type);
            data = new ArrayData(type, 0, 0, 0, [ArrowBuffer.Empty, new ArrowBuffer(new byte[4])], [data]);
        }
        var schema = new Schema.Builder().Field(new Field("deep", type, true)).Build();
        var deep = new RecordBatch(schema, [ArrowArrayFactory.BuildArray(data)], 0);
        var e = await Assert.ThrowsAsync<RpcException>(() => PutAsync(descriptor, schema, user, deep));
        Assert.Equal(StatusCode.InvalidArgument, e.StatusCode);
        Assert.Contains("22023", e.Status.Detail);
        Assert.Contains("nests deeper", e.Status.Detail);
    }

    [Fact]
    public async Task A_batch_of_the_wrong_schema_fails_and_stores_nothing_while_earlier_batches_stay()
    {
        var user = Basic("fl-put", "putpw");
        var descriptor = FlightDescriptor.CreatePathDescriptor("flight-put", Table);

        // A column of the wrong type: rejected, nothing stored.
        var wrongSchema = new Schema.Builder()
            .Field(f => f.Name("id").DataType(Int32Type.Default).Nullable(false))
            .Field(f => f.Name("timestamp").DataType(new TimestampType(TimeUnit.Microsecond, "UTC")).Nullable(false))
            .Build();
        var wrong = new RecordBatch(wrongSchema, [
            new Int32Array.Builder().Append(1).Build(),
            new TimestampArray.Builder(new TimestampType(TimeUnit.Microsecond, "UTC")).Append(DateTimeOffset.UtcNow).Build()], 1);
        var e = await Assert.ThrowsAsync<RpcException>(() => PutAsync(descriptor, wrongSchema, user, wrong));
        Assert.Equal(StatusCode.InvalidArgument, e.StatusCode);
        Assert.Contains("22023", e.Status.Detail);
        Assert.Equal(0, await CountAsync(user));

        // A good batch, then one breaking NOT NULL: the first is acknowledged and stays, the second is not stored.
        using var call = await _client.StartPut(descriptor, FlightTestBatches.Schema, user);
        await WriteAsync(call, FlightTestBatches.Rows(["ok1", "ok2", "ok3"]));
        Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None));
        await WriteAsync(call, FlightTestBatches.Rows(["bad1", null, "bad3"]));
        var bad = await Assert.ThrowsAsync<RpcException>(() => call.ResponseStream.MoveNext(CancellationToken.None));
        Assert.Equal(StatusCode.InvalidArgument, bad.StatusCode);
        Assert.Equal(["ok1", "ok2", "ok3"], Strings(await GetAsync($"SELECT id FROM {Table} ORDER BY id", user), 0));
    }

    [Fact]
    public async Task A_result_larger_than_the_clients_default_message_limit_streams_back_in_slices()
    {
        // ~20k rows × 300 B ≈ 6 MiB in one stored batch; Grpc.Net.Client refuses messages over 4 MiB by default.
        var user = Basic("fl-big", "bigpw");
        var ids = FlightTestBatches.Ids("big", 20_000);
        await PutAsync(FlightDescriptor.CreatePathDescriptor("flight-big", Table), FlightTestBatches.Schema, user,
            FlightTestBatches.Rows(ids, nameLength: 300));

        var batches = await GetAsync($"SELECT id, name FROM {Table} ORDER BY id", user);
        Assert.True(batches.Count > 1);
        Assert.Equal(ids, Strings(batches, 0));
        Assert.All(Strings(batches, 1), n => Assert.Equal(300, n.Length));
    }

    [Fact]
    public async Task Handshake_gives_a_bearer_token_that_authenticates_later_calls()
    {
        var handshake = _client.Handshake(Basic("fl-alice", "s3cret"));
        await handshake.RequestStream.WriteAsync(new FlightHandshakeRequest(Google.Protobuf.ByteString.Empty, 0));
        await handshake.RequestStream.CompleteAsync();
        var header = (await handshake.ResponseHeadersAsync).GetValue("authorization");
        Assert.NotNull(header);
        Assert.StartsWith("Bearer ", header);
        Assert.True(await handshake.ResponseStream.MoveNext(CancellationToken.None));
        Assert.Equal(header["Bearer ".Length..], handshake.ResponseStream.Current.Payload.ToStringUtf8());

        Assert.True(await CountAsync(new Metadata { { "authorization", header } }) >= 0);
        var forged = await Assert.ThrowsAsync<RpcException>(() => CountAsync(new Metadata { { "authorization", header + "x" } }));
        Assert.Equal(StatusCode.Unauthenticated, forged.StatusCode);

        var refused = await Assert.ThrowsAsync<RpcException>(async () =>
        {
            var bad = _client.Handshake(Basic("fl-alice", "nope"));
            await bad.RequestStream.CompleteAsync();
            await bad.ResponseStream.MoveNext(CancellationToken.None);
        });
        Assert.Equal(StatusCode.Unauthenticated, refused.StatusCode);
    }

    [Fact]
    public async Task The_execute_action_runs_data_changing_statements()
    {
        var user = Basic("fl-exec", "execpw");
        var action = _client.DoAction(new FlightAction(TimeFusionFlightServer.ExecuteAction,
            $"INSERT INTO {Table} (id, timestamp, level) VALUES ('e1', TIMESTAMPTZ '2026-11-24 10:00:00+00', 'INFO'), ('e2', TIMESTAMPTZ '2026-11-24 10:00:01+00', 'WARN')"), user);
        Assert.True(await action.ResponseStream.MoveNext(CancellationToken.None));
        Assert.Equal("2", action.ResponseStream.Current.Body.ToStringUtf8());
        Assert.Equal(2, await CountAsync(user));

        var unknown = await Assert.ThrowsAsync<RpcException>(async () =>
            await _client.DoAction(new FlightAction("nope"), user).ResponseStream.MoveNext(CancellationToken.None));
        Assert.Equal(StatusCode.Unimplemented, unknown.StatusCode);
    }

    [Fact]
    public async Task A_batch_above_the_pinned_threshold_is_stored_whole_through_the_in_place_reader()
    {
        var user = Basic("fl-inplace", "inplacepw");
        var batch = FlightTestBatches.Rows(FlightTestBatches.Ids("big", 4000), nameLength: 100); // ~0.5 MB of body
        var acks = await PutAsync(FlightDescriptor.CreatePathDescriptor("flight-inplace", Table), FlightTestBatches.Schema, user, batch, batch);
        Assert.Equal([4000L, 4000L], acks.Select(a => a.GetProperty("rows").GetInt64()));
        var rows = await GetAsync($"SELECT id, count(*) AS n, min(length(name)) AS l FROM {Table} GROUP BY id ORDER BY id", user);
        Assert.Equal(FlightTestBatches.Ids("big", 4000), Strings(rows, 0));
        Assert.All(rows.Where(b => b.Length > 0), b => Assert.All(((Int64Array)b.Column(1)).Values.ToArray(), n => Assert.Equal(2, n)));
    }

    [Fact]
    public async Task Malformed_FlightData_ends_DoPut_with_InvalidArgument_from_the_in_place_reader()
    {
        // A descriptor field whose length runs past the message: only DoPut's own marshaller reads FlightData this way.
        var bytes = Marshallers.Create<byte[]>(b => b, b => b);
        var method = new Method<byte[], byte[]>(MethodType.DuplexStreaming, "arrow.flight.protocol.FlightService", "DoPut", bytes, bytes);
        using var call = _channel.CreateCallInvoker().AsyncDuplexStreamingCall(method, null, new CallOptions(Basic("fl-inplace", "inplacepw")));
        await call.RequestStream.WriteAsync([0x0A, 0x7F, 0x08]);
        await call.RequestStream.CompleteAsync();
        var e = await Assert.ThrowsAsync<RpcException>(() => call.ResponseStream.MoveNext(CancellationToken.None));
        Assert.Equal(StatusCode.InvalidArgument, e.StatusCode);
        Assert.Contains("malformed FlightData", e.Status.Detail);
    }

    [Fact]
    public async Task With_the_in_place_reader_off_the_library_reader_serves_DoPut()
    {
        await using var library = new FlightEndpointHost(fixture.Client, _users, Options.Create(new FlightEndpointOptions { Port = 0, ReceivePutInPlace = false }));
        await library.StartAsync(CancellationToken.None);
        using var channel = GrpcChannel.ForAddress($"http://127.0.0.1:{library.LocalEndPoint!.Port}");
        var client = new FlightClient(channel);
        var user = Basic("fl-inplace", "inplacepw");
        using var call = await client.StartPut(FlightDescriptor.CreatePathDescriptor("flight-library", Table), FlightTestBatches.Schema, user);
        await call.RequestStream.WriteAsync(FlightTestBatches.Rows(FlightTestBatches.Ids("lib", 3000), nameLength: 100));
        Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None));
        Assert.Equal(3000, JsonDocument.Parse(call.ResponseStream.Current.ApplicationMetadata.ToStringUtf8()).RootElement.GetProperty("rows").GetInt64());
        await call.RequestStream.CompleteAsync();
        Assert.False(await call.ResponseStream.MoveNext(CancellationToken.None));
        // The library's reader fails garbage in its own protobuf parser, not with the in-place reader's message.
        var bytes = Marshallers.Create<byte[]>(b => b, b => b);
        var method = new Method<byte[], byte[]>(MethodType.DuplexStreaming, "arrow.flight.protocol.FlightService", "DoPut", bytes, bytes);
        using var raw = channel.CreateCallInvoker().AsyncDuplexStreamingCall(method, null, new CallOptions(user));
        await raw.RequestStream.WriteAsync([0x0A, 0x7F, 0x08]);
        await raw.RequestStream.CompleteAsync();
        var e = await Assert.ThrowsAnyAsync<RpcException>(() => raw.ResponseStream.MoveNext(CancellationToken.None));
        Assert.DoesNotContain("malformed FlightData", e.Status.Detail);
    }

    [Fact]
    public async Task A_client_writing_ahead_of_its_acks_gets_every_batch_stored_and_acknowledged_in_order_by_either_reader()
    {
        await using var library = new FlightEndpointHost(fixture.Client, _users, Options.Create(new FlightEndpointOptions { Port = 0, ReceivePutInPlace = false }));
        await library.StartAsync(CancellationToken.None);
        using var channel = GrpcChannel.ForAddress($"http://127.0.0.1:{library.LocalEndPoint!.Port}");
        var user = Basic("fl-ahead", "aheadpw");
        foreach (var (client, project) in new[] { (_client, "flight-ahead"), (new FlightClient(channel), "flight-ahead-lib") })
        {
            // Every batch written before any ack is read (as pyarrow's writer does); the large ones go through the pinned path.
            var batches = Enumerable.Range(0, 5)
                .Select(i => FlightTestBatches.Rows(FlightTestBatches.Ids($"w{i}-", i % 2 == 0 ? 3000 : 7), nameLength: i % 2 == 0 ? 100 : 0))
                .ToList();
            using var call = await client.StartPut(FlightDescriptor.CreatePathDescriptor(project, Table), FlightTestBatches.Schema, user);
            foreach (var b in batches) await call.RequestStream.WriteAsync(b);
            await call.RequestStream.CompleteAsync();
            var acks = new List<JsonElement>();
            while (await call.ResponseStream.MoveNext(CancellationToken.None))
                acks.Add(JsonDocument.Parse(call.ResponseStream.Current.ApplicationMetadata.ToStringUtf8()).RootElement.Clone());

            Assert.Equal(batches.Select(b => (long)b.Length), acks.Select(a => a.GetProperty("rows").GetInt64()));
            var lsns = acks.Select(a => a.GetProperty("lsn").GetInt64()).ToList();
            Assert.Equal(lsns.Order(), lsns);
            Assert.Equal(lsns.Count, lsns.Distinct().Count());
            var rows = await GetAsync($"SELECT id FROM {Table} WHERE project_id = '{project}' ORDER BY id", user);
            Assert.Equal(batches.SelectMany(b => Strings([b], 0)).Order(StringComparer.Ordinal), Strings(rows, 0));
        }
    }

    [Fact]
    public async Task A_failed_batch_among_batches_written_ahead_ends_the_call_and_no_later_batch_is_stored()
    {
        var user = Basic("fl-ahead", "aheadpw");
        using var call = await _client.StartPut(FlightDescriptor.CreatePathDescriptor("flight-ahead-bad", Table), FlightTestBatches.Schema, user);
        // Written back to back without reading an ack: the server has the third batch read ahead when the second fails.
        foreach (var b in new[] { FlightTestBatches.Rows(["g1", "g2"]), FlightTestBatches.Rows(["bad1", null]), FlightTestBatches.Rows(["late1", "late2"]) })
        {
            try
            {
                await call.RequestStream.WriteAsync(b);
            }
            catch (Exception e) when (e is RpcException or InvalidOperationException)
            {
                break; // the server ended the call first; its status is read below
            }
        }
        Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None));
        Assert.Equal(2, JsonDocument.Parse(call.ResponseStream.Current.ApplicationMetadata.ToStringUtf8()).RootElement.GetProperty("rows").GetInt64());
        var bad = await Assert.ThrowsAsync<RpcException>(() => call.ResponseStream.MoveNext(CancellationToken.None));
        Assert.Equal(StatusCode.InvalidArgument, bad.StatusCode);
        Assert.Equal(["g1", "g2"], Strings(await GetAsync($"SELECT id FROM {Table} WHERE project_id = 'flight-ahead-bad' ORDER BY id", user), 0));
    }

    [Fact]
    public async Task A_disabled_endpoint_does_not_listen()
    {
        await using var disabled = new FlightEndpointHost(fixture.Client, new UserDirectory(Options.Create(new TimeFusionUsersOptions())),
            Options.Create(new FlightEndpointOptions { Enabled = false, Port = 0 }));
        await disabled.StartAsync(CancellationToken.None);
        Assert.Null(disabled.LocalEndPoint);
    }
}

using Apache.Arrow;
using TimeFusion.Client.Cli;
using TimeFusion.Client.Cli.Flight;
using TimeFusion.Tests.Protocol.Flight;

namespace TimeFusion.Tests.Cli;

/// <summary>
/// The command line's DoPut (<see cref="PutStream"/> over <see cref="FlightPutCall"/>, in process) against the test
/// server's Flight endpoint: rows land and each acknowledgement carries its batch's rows; a batch the server refuses in
/// the middle of a stream, or a stream it refuses before reading any batch, reports the server's SQLSTATE; a batch the
/// client cannot encode is the client's error.
/// </summary>
[Collection(CliCollection.Name)]
public sealed class PutStreamTests(CliServer server)
{
    private const string Table = "otel_logs_and_spans";

    private FlightConnection Connect(string user = "timefusion", string password = CliServer.AdminPassword) =>
        new(new ConnectionSettings(ServerAddress.Parse(server.Address), user, password));

    [Fact]
    public async Task Batches_land_and_each_acknowledgement_carries_its_rows()
    {
        using var connection = Connect();
        // Small batches, and one whose body is several MB (many HTTP/2 frames, above the server's pinned threshold).
        RecordBatch[] batches =
        [
            FlightTestBatches.Rows(FlightTestBatches.Ids("a", 3)),
            FlightTestBatches.Rows(FlightTestBatches.Ids("b", 20_000), nameLength: 200),
            FlightTestBatches.Rows(FlightTestBatches.Ids("c", 1)),
            FlightTestBatches.Rows(FlightTestBatches.Ids("d", 600)).Slice(100, 250),
        ];
        await using (var put = await connection.StartPutAsync("cli-put-rows", Table, FlightTestBatches.Schema, CancellationToken.None))
        {
            foreach (var batch in batches) Assert.Equal(batch.Length, await put.PutAsync(batch, CancellationToken.None));
            await put.CompleteAsync(CancellationToken.None);
        }
        Assert.Equal(batches.Sum(b => (long)b.Length), (await server.CountsAsync("cli-put-rows"))["cli-put-rows"]);
        var ids = await server.RunAsync("query", $"SELECT min(id), max(id) FROM {Table} WHERE project_id = 'cli-put-rows' AND id LIKE 'd%'", "--format", "csv");
        Assert.Equal(["d000100", "d000349"], CliServer.CsvLines(ids.StdOut)[1]); // the slice's rows, not the array's first
    }

    [Fact]
    public async Task A_batch_refused_mid_stream_reports_its_SQLSTATE_and_the_acknowledged_rows_stay()
    {
        using var connection = Connect();
        await using var put = await connection.StartPutAsync("cli-put-bad", Table, FlightTestBatches.Schema, CancellationToken.None);
        Assert.Equal(2, await put.PutAsync(FlightTestBatches.Rows(["ok1", "ok2"]), CancellationToken.None));
        var e = await Assert.ThrowsAsync<CliException>(() => put.PutAsync(FlightTestBatches.Rows(["bad1", null, "bad3"]), CancellationToken.None));
        Assert.StartsWith("ERROR: ", e.Message);
        Assert.Contains("[23502]", e.Message); // a null in the NOT NULL id
        Assert.Equal(2, (await server.CountsAsync("cli-put-bad"))["cli-put-bad"]);
    }

    [Fact]
    public async Task A_stream_refused_before_its_first_batch_reports_the_servers_SQLSTATE()
    {
        using var connection = Connect("cli-bob", "bobpw");
        var e = await Assert.ThrowsAsync<CliException>(async () =>
        {
            await using var put = await connection.StartPutAsync("cli-not-bobs-either", Table, FlightTestBatches.Schema, CancellationToken.None);
            // Large enough that the write is still under way when the server ends the call.
            await put.PutAsync(FlightTestBatches.Rows(FlightTestBatches.Ids("x", 20_000), nameLength: 200), CancellationToken.None);
        });
        Assert.Contains("[42501]", e.Message);
        Assert.Contains("cli-not-bobs-either", e.Message);
    }

    [Fact]
    public async Task A_batch_the_writer_cannot_encode_is_reported_as_the_clients_and_nothing_of_it_lands()
    {
        using var connection = Connect();
        var good = FlightTestBatches.Rows(["e1"]);
        var bad = new RecordBatch(FlightTestBatches.Schema, [new UnknownArray(good.Column(0)), good.Column(1), good.Column(2), good.Column(3)], 1);
        await using var put = await connection.StartPutAsync("cli-put-encode", Table, FlightTestBatches.Schema, CancellationToken.None);
        var e = await Assert.ThrowsAsync<CliException>(() => put.PutAsync(bad, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(60)));
        Assert.Contains("could not be encoded", e.Message);
        Assert.Empty(await server.CountsAsync("cli-put-encode"));
    }
}

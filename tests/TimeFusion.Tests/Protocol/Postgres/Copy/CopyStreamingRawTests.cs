using System.Text;
using static TimeFusion.Tests.Protocol.Postgres.RawPgClient;

namespace TimeFusion.Tests.Protocol.Postgres.Copy;

/// <summary>
/// CopyData bodies are parsed straight from the socket's buffers, a large one over many reads: a bad row early in a
/// CopyData message much larger than one read fails the COPY, the rest of that message is dropped without being taken
/// for messages, and the connection answers the next statement; a large valid message lands whole.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class CopyStreamingRawTests(PostgresServerFixture fixture)
{
    private const int Rows = 20_000;

    private static byte[] CopyBody(int badLine)
    {
        var sb = new StringBuilder();
        for (var i = 1; i <= Rows; i++)
        {
            sb.Append(i == badLine ? "not a number" : i.ToString(System.Globalization.CultureInfo.InvariantCulture))
                .Append("\tvalue é ").Append(i).Append('\n');
        }
        return Encoding.UTF8.GetBytes(sb.ToString());
    }

    private async Task<RawPgClient> LoginAsync()
    {
        var client = await ConnectAsync(fixture.Port);
        var messages = await client.LoginCleartextAsync(PostgresServerFixture.CleartextUser, PostgresServerFixture.CleartextPassword);
        Assert.Equal('Z', messages[^1].Type);
        return client;
    }

    [Fact]
    public async Task A_bad_row_early_in_a_large_copydata_fails_the_copy_and_the_rest_of_the_message_is_skipped()
    {
        await using var client = await LoginAsync();
        await client.SendRawAsync(RawPgClient.Query("CREATE OR REPLACE TABLE copy_stream_raw (id INTEGER, s VARCHAR)"));
        Assert.DoesNotContain(await client.ReadUntilReadyAsync(), m => m.Type == 'E');

        await client.SendRawAsync(RawPgClient.Query("COPY copy_stream_raw FROM STDIN"));
        Assert.Equal('G', (await client.ReadAsync())!.Value.Type);
        var body = CopyBody(badLine: 10);
        Assert.True(body.Length > 256 * 1024);
        await client.SendRawAsync(Concat(Frame('d', body), Frame('c', [])));
        var failed = await client.ReadUntilReadyAsync(TimeSpan.FromSeconds(60));
        var error = Assert.Single(failed, m => m.Type == 'E').Fields();
        Assert.Equal("22P02", error['C']);
        Assert.Contains("line 10", error['W']);

        // Had the dropped rest of the body been read as messages, this would see garbage or a protocol error.
        await client.SendRawAsync(RawPgClient.Query("SELECT count(*) FROM copy_stream_raw"));
        var counted = await client.ReadUntilReadyAsync(TimeSpan.FromSeconds(30));
        Assert.DoesNotContain(counted, m => m.Type == 'E');
        Assert.Contains(counted, m => m.Type == 'D' && m.Body.AsSpan(6).SequenceEqual("0"u8));

        await client.SendRawAsync(RawPgClient.Query("COPY copy_stream_raw FROM STDIN"));
        Assert.Equal('G', (await client.ReadAsync())!.Value.Type);
        await client.SendRawAsync(Concat(Frame('d', CopyBody(badLine: -1)), Frame('c', [])));
        var done = await client.ReadUntilReadyAsync(TimeSpan.FromSeconds(60));
        Assert.DoesNotContain(done, m => m.Type == 'E');
        Assert.Contains(done, m => m.Type == 'C' && m.Text.TrimEnd('\0') == $"COPY {Rows}");
        Assert.Equal((long)Rows, fixture.Backend.Scalar("SELECT count(*) FROM copy_stream_raw"));
        Assert.Equal("value é 20000", fixture.Backend.Scalar("SELECT s FROM copy_stream_raw WHERE id = 20000"));
    }
}

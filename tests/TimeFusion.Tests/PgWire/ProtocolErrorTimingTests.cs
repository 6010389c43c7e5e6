using TimeFusion.Tests.Protocol.Postgres;

namespace TimeFusion.Tests.PgWire;

/// <summary>
/// Errors reach the client as soon as the server knows them: after Parse + Describe + Flush (postgres.js waits for the
/// answer before it sends Sync), and a statement that cannot parse fails at Parse, not at Execute.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class ProtocolErrorTimingTests(PostgresServerFixture fixture)
{
    private async Task<RawPgClient> LoginAsync()
    {
        var client = await RawPgClient.ConnectAsync(fixture.Port);
        await client.LoginCleartextAsync(PostgresServerFixture.CleartextUser, PostgresServerFixture.CleartextPassword);
        return client;
    }

    [Fact]
    public async Task A_describe_error_is_sent_at_flush_without_waiting_for_sync()
    {
        await using var client = await LoginAsync();
        await client.SendRawAsync(RawPgClient.Concat(
            RawPgClient.Parse("", "SELECT * FROM missing_relation WHERE x = $1"),
            RawPgClient.Describe('S', ""),
            RawPgClient.Flush()));
        // No Sync sent: the ParseComplete (or the error itself) and the error must arrive now.
        var messages = new List<RawPgClient.Message>();
        while (messages.All(m => m.Type != 'E'))
        {
            var next = await client.ReadAsync(TimeSpan.FromSeconds(10)) ?? throw new IOException("closed");
            messages.Add(next);
        }
        Assert.Equal("42P01", messages.Single(m => m.Type == 'E').Fields()['C']);
        await client.SendRawAsync(RawPgClient.Sync());
        Assert.Equal("I", (await client.ReadUntilReadyAsync())[^1].Text);
    }

    [Fact]
    public async Task A_statement_that_cannot_parse_fails_at_parse_with_42601()
    {
        await using var client = await LoginAsync();
        await client.SendRawAsync(RawPgClient.Concat(RawPgClient.Parse("", "SELEC $1"), RawPgClient.Flush()));
        var first = await client.ReadAsync(TimeSpan.FromSeconds(10)) ?? throw new IOException("closed");
        Assert.Equal('E', first.Type);
        Assert.Equal("42601", first.Fields()['C']);
        Assert.Contains("SELEC", first.Fields()['M']);
        await client.SendRawAsync(RawPgClient.Sync());
        Assert.Equal("I", (await client.ReadUntilReadyAsync())[^1].Text);
    }

    [Fact]
    public async Task Show_transaction_isolation_level_answers_read_committed()
    {
        await using var client = await LoginAsync();
        await client.SendRawAsync(RawPgClient.Query("SHOW TRANSACTION ISOLATION LEVEL"));
        var reply = await client.ReadUntilReadyAsync();
        Assert.Contains(reply, m => m.Type == 'T' && m.Text.Contains("transaction_isolation"));
        Assert.Contains(reply, m => m.Type == 'D' && m.Text.Contains("read committed"));
    }
}

using Npgsql;

namespace TimeFusion.Tests.Protocol.Postgres;

[Collection(PostgresCollection.Name)]
public sealed class NpgsqlBasicTests(PostgresServerFixture fixture)
{
    [Fact]
    public async Task Connects_with_scram_and_runs_a_query()
    {
        await using var connection = await fixture.OpenAsync();
        await using var cmd = new NpgsqlCommand("SELECT 40 + 2 AS answer, 'hi' AS greeting", connection);
        await using var reader = await cmd.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync());
        Assert.Equal(42, reader.GetInt32(0));
        Assert.Equal("hi", reader.GetString(1));
        Assert.Equal("answer", reader.GetName(0));
        Assert.False(await reader.ReadAsync());
    }
}

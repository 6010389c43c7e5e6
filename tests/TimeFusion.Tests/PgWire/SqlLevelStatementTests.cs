using Npgsql;
using TimeFusion.Tests.Protocol.Postgres;

namespace TimeFusion.Tests.PgWire;

/// <summary>
/// SQL-level PREPARE / EXECUTE / DEALLOCATE and cursors (DECLARE / FETCH / CLOSE, with and without HOLD), over the simple
/// protocol (psycopg2, psql) and the extended one (Npgsql).
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class SqlLevelStatementTests(PostgresServerFixture fixture)
{
    private async Task<RawPgClient> LoginAsync()
    {
        var client = await RawPgClient.ConnectAsync(fixture.Port);
        await client.LoginCleartextAsync(PostgresServerFixture.CleartextUser, PostgresServerFixture.CleartextPassword);
        return client;
    }

    private static async Task<List<RawPgClient.Message>> QueryAsync(RawPgClient client, string sql)
    {
        await client.SendRawAsync(RawPgClient.Query(sql));
        return await client.ReadUntilReadyAsync();
    }

    private static string Tag(List<RawPgClient.Message> reply) => reply.Last(m => m.Type == 'C').Text.TrimEnd('\0');

    private static string Error(List<RawPgClient.Message> reply) => reply.Single(m => m.Type == 'E').Fields()['C'];

    [Fact]
    public async Task Prepare_execute_and_deallocate_over_the_simple_protocol()
    {
        await using var client = await LoginAsync();
        Assert.Equal("PREPARE", Tag(await QueryAsync(client, "PREPARE q(int, text) AS SELECT $1 + 1 AS n, $2 || '!' AS s")));
        var reply = await QueryAsync(client, "EXECUTE q(41, 'it''s')");
        Assert.Equal("SELECT 1", Tag(reply));
        var row = reply.Single(m => m.Type == 'D').Text;
        Assert.Contains("42", row);
        Assert.Contains("it's!", row);
        Assert.Equal("42601", Error(await QueryAsync(client, "EXECUTE q(1)")));
        Assert.Equal("42P05", Error(await QueryAsync(client, "PREPARE q AS SELECT 1")));
        Assert.Equal("DEALLOCATE", Tag(await QueryAsync(client, "DEALLOCATE q")));
        Assert.Equal("26000", Error(await QueryAsync(client, "EXECUTE q(1, 'x')")));
        await QueryAsync(client, "PREPARE r AS SELECT 7");
        Assert.Equal("DEALLOCATE ALL", Tag(await QueryAsync(client, "DEALLOCATE ALL")));
        Assert.Equal("26000", Error(await QueryAsync(client, "EXECUTE r")));
    }

    [Fact]
    public async Task Execute_of_a_prepared_statement_works_through_npgsql()
    {
        await using var connection = await fixture.OpenAsync();
        await using (var prepare = new NpgsqlCommand("PREPARE twice(bigint) AS SELECT $1 * 2 AS v", connection))
            await prepare.ExecuteNonQueryAsync();
        await using var execute = new NpgsqlCommand("EXECUTE twice(21)", connection);
        Assert.Equal(42L, Convert.ToInt64(await execute.ExecuteScalarAsync()));
    }

    [Fact]
    public async Task A_cursor_is_fetched_forward_in_steps_and_closed()
    {
        await using var client = await LoginAsync();
        Assert.Equal("25P01", Error(await QueryAsync(client, "DECLARE c CURSOR FOR SELECT 1")));
        await QueryAsync(client, "BEGIN");
        Assert.Equal("DECLARE CURSOR", Tag(await QueryAsync(client, "DECLARE c CURSOR FOR SELECT i FROM range(10) t(i) ORDER BY i")));
        var first = await QueryAsync(client, "FETCH 3 FROM c");
        Assert.Equal("FETCH 3", Tag(first));
        Assert.Equal(3, first.Count(m => m.Type == 'D'));
        Assert.Contains(first, m => m.Type == 'T');
        var next = await QueryAsync(client, "FETCH NEXT FROM c");
        Assert.Equal("FETCH 1", Tag(next));
        Assert.Contains("3", next.Single(m => m.Type == 'D').Text);
        Assert.Equal("FETCH 6", Tag(await QueryAsync(client, "FETCH ALL IN c")));
        Assert.Equal("FETCH 0", Tag(await QueryAsync(client, "FETCH c")));
        Assert.Equal("0A000", Error(await QueryAsync(client, "FETCH PRIOR FROM c")));
        await QueryAsync(client, "ROLLBACK");
        await QueryAsync(client, "BEGIN");
        await QueryAsync(client, "DECLARE d CURSOR FOR SELECT 1");
        Assert.Equal("CLOSE CURSOR", Tag(await QueryAsync(client, "CLOSE d")));
        Assert.Equal("34000", Error(await QueryAsync(client, "FETCH d")));
        await QueryAsync(client, "ROLLBACK");
        // A cursor without HOLD ends with its block.
        await QueryAsync(client, "BEGIN");
        await QueryAsync(client, "DECLARE e CURSOR FOR SELECT 1");
        await QueryAsync(client, "COMMIT");
        Assert.Equal("34000", Error(await QueryAsync(client, "FETCH e")));
    }

    [Fact]
    public async Task A_cursor_with_hold_outlives_its_block_and_npgsql_fetches_it_in_binary()
    {
        await using var connection = await fixture.OpenAsync();
        await using (var declare = new NpgsqlCommand("DECLARE held CURSOR WITH HOLD FOR SELECT i::INTEGER AS i FROM range(5) t(i) ORDER BY i", connection))
            await declare.ExecuteNonQueryAsync();
        var seen = new List<int>();
        for (var round = 0; round < 3; round++)
        {
            await using var fetch = new NpgsqlCommand("FETCH 2 FROM held", connection);
            await using var reader = await fetch.ExecuteReaderAsync();
            while (await reader.ReadAsync()) seen.Add(reader.GetInt32(0));
        }
        Assert.Equal([0, 1, 2, 3, 4], seen);
        await using var close = new NpgsqlCommand("CLOSE held", connection);
        await close.ExecuteNonQueryAsync();
    }
}

using System.Data;
using Npgsql;
using NpgsqlTypes;
using TimeFusion.Silo.Protocol.Postgres;
using TimeFusion.Wire;

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
        Assert.StartsWith("15.0", connection.ServerVersion);
        Assert.Equal("UTC", connection.Timezone);
    }

    [Fact]
    public async Task Wrong_password_and_unknown_user_get_28P01()
    {
        await using (var ds = fixture.CreateDataSource(password: "wrong"))
        {
            var e = await Assert.ThrowsAsync<PostgresException>(async () => await ds.OpenConnectionAsync());
            Assert.Equal(SqlState.InvalidPassword, e.SqlState);
        }
        await using (var ds = fixture.CreateDataSource(user: "nobody", password: "whatever"))
        {
            var e = await Assert.ThrowsAsync<PostgresException>(async () => await ds.OpenConnectionAsync());
            Assert.Equal(SqlState.InvalidPassword, e.SqlState);
            Assert.Contains("nobody", e.MessageText);
        }
        await using (var ds = fixture.CreateDataSource(user: PostgresServerFixture.CleartextUser, password: "wrong"))
        {
            var e = await Assert.ThrowsAsync<PostgresException>(async () => await ds.OpenConnectionAsync());
            Assert.Equal(SqlState.InvalidPassword, e.SqlState);
        }
    }

    [Fact]
    public async Task Cleartext_user_connects()
    {
        await using var ds = fixture.CreateDataSource(PostgresServerFixture.CleartextUser, PostgresServerFixture.CleartextPassword);
        await using var connection = await ds.OpenConnectionAsync();
        await using var cmd = new NpgsqlCommand("SELECT 1", connection);
        Assert.Equal(1, await cmd.ExecuteScalarAsync());
    }

    [Fact]
    public async Task Backend_session_errors_at_startup_are_reported()
    {
        await using var ds = fixture.CreateDataSource(configure: b => b.Database = "nodb");
        var e = await Assert.ThrowsAsync<PostgresException>(async () => await ds.OpenConnectionAsync());
        Assert.Equal(SqlState.InvalidCatalogName, e.SqlState);
    }

    [Fact]
    public async Task Dml_reports_row_counts_in_command_tags()
    {
        await using var connection = await fixture.OpenAsync();
        Assert.Equal(-1, await Exec(connection, "CREATE OR REPLACE TABLE dml (id INTEGER, name VARCHAR)"));
        Assert.Equal(3, await Exec(connection, "INSERT INTO dml VALUES (1, 'a'), (2, 'b'), (3, 'c')"));
        Assert.Equal(2, await Exec(connection, "UPDATE dml SET name = 'x' WHERE id >= 2"));
        Assert.Equal(1, await Exec(connection, "DELETE FROM dml WHERE id = 1"));
        await using var cmd = new NpgsqlCommand("SELECT count(*) FROM dml WHERE name = 'x'", connection);
        Assert.Equal(2L, await cmd.ExecuteScalarAsync());
    }

    [Fact]
    public async Task Prepared_statements_run_many_times_with_parameters()
    {
        await using var connection = await fixture.OpenAsync();
        await Exec(connection, "CREATE OR REPLACE TABLE prep (id BIGINT, label VARCHAR)");
        await using (var insert = new NpgsqlCommand("INSERT INTO prep VALUES ($1, $2)", connection))
        {
            insert.Parameters.Add(new NpgsqlParameter<long> { NpgsqlDbType = NpgsqlDbType.Bigint });
            insert.Parameters.Add(new NpgsqlParameter<string> { NpgsqlDbType = NpgsqlDbType.Text });
            await insert.PrepareAsync();
            Assert.True(insert.IsPrepared);
            for (var i = 0; i < 20; i++)
            {
                ((NpgsqlParameter<long>)insert.Parameters[0]).TypedValue = i;
                ((NpgsqlParameter<string>)insert.Parameters[1]).TypedValue = "n" + i;
                Assert.Equal(1, await insert.ExecuteNonQueryAsync());
            }
        }
        await using (var select = new NpgsqlCommand("SELECT label FROM prep WHERE id = $1", connection))
        {
            select.Parameters.Add(new NpgsqlParameter<long> { NpgsqlDbType = NpgsqlDbType.Bigint });
            await select.PrepareAsync();
            for (var i = 0; i < 20; i += 7)
            {
                ((NpgsqlParameter<long>)select.Parameters[0]).TypedValue = i;
                Assert.Equal("n" + i, await select.ExecuteScalarAsync());
            }
        }
        // Named parameters (rewritten by Npgsql to $n) and untyped ones work too.
        await using (var named = new NpgsqlCommand("SELECT count(*) FROM prep WHERE id < @max AND label LIKE @pattern", connection))
        {
            named.Parameters.AddWithValue("max", 10L);
            named.Parameters.AddWithValue("pattern", "n%");
            Assert.Equal(10L, await named.ExecuteScalarAsync());
        }
    }

    [Fact]
    public async Task Several_statements_in_one_command_return_several_results()
    {
        await using var connection = await fixture.OpenAsync();
        await using var cmd = new NpgsqlCommand("SELECT 1 AS a; SELECT 'two' AS b; SELECT 3 AS c", connection);
        await using var reader = await cmd.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync());
        Assert.Equal(1, reader.GetInt32(0));
        Assert.True(await reader.NextResultAsync());
        Assert.True(await reader.ReadAsync());
        Assert.Equal("two", reader.GetString(0));
        Assert.True(await reader.NextResultAsync());
        Assert.True(await reader.ReadAsync());
        Assert.Equal(3, reader.GetInt32(0));
        Assert.False(await reader.NextResultAsync());
    }

    [Theory]
    [InlineData("SELEC 1", SqlState.SyntaxError)]
    [InlineData("SELECT * FROM no_such_table", SqlState.UndefinedTable)]
    [InlineData("SELECT no_such_column FROM (SELECT 1 AS a)", SqlState.UndefinedColumn)]
    [InlineData("SELECT * FROM forbidden", SqlState.InsufficientPrivilege)]
    public async Task Errors_carry_sqlstate_and_leave_the_connection_usable(string sql, string sqlState)
    {
        await using var connection = await fixture.OpenAsync();
        await using (var cmd = new NpgsqlCommand(sql, connection))
        {
            var e = await Assert.ThrowsAsync<PostgresException>(() => cmd.ExecuteNonQueryAsync());
            Assert.Equal(sqlState, e.SqlState);
            Assert.Equal("ERROR", e.Severity);
        }
        Assert.Equal(ConnectionState.Open, connection.State);
        await using (var cmd = new NpgsqlCommand("SELECT 5", connection))
        {
            Assert.Equal(5, await cmd.ExecuteScalarAsync());
        }
        // Also after an error in a prepared statement.
        await using (var cmd = new NpgsqlCommand(sql, connection))
        {
            await Assert.ThrowsAsync<PostgresException>(() => cmd.PrepareAsync());
        }
        await using (var cmd = new NpgsqlCommand("SELECT 6", connection))
        {
            Assert.Equal(6, await cmd.ExecuteScalarAsync());
        }
    }

    /// <summary>
    /// Npgsql treats 53xxx and XX000 as critical and drops its own connection; the SQLSTATE still arrives
    /// (the raw protocol test checks the server keeps the connection).
    /// </summary>
    [Theory]
    [InlineData("SELECT 'backpressure_please'", SqlState.OutOfMemory)]
    [InlineData("SELECT 'internal_bug_please'", SqlState.InternalError)]
    public async Task Critical_errors_reach_npgsql_with_their_sqlstate(string sql, string sqlState)
    {
        await using var connection = await fixture.OpenAsync();
        await using var cmd = new NpgsqlCommand(sql, connection);
        var e = await Assert.ThrowsAsync<PostgresException>(() => cmd.ExecuteNonQueryAsync());
        Assert.Equal(sqlState, e.SqlState);
    }

    [Fact]
    public async Task Transactions_commit_and_roll_back()
    {
        await using var connection = await fixture.OpenAsync();
        await Exec(connection, "CREATE OR REPLACE TABLE tx (v INTEGER)");
        await using (var tx = await connection.BeginTransactionAsync())
        {
            await Exec(connection, "INSERT INTO tx VALUES (1)");
            await tx.RollbackAsync();
        }
        await using (var tx = await connection.BeginTransactionAsync())
        {
            await Exec(connection, "INSERT INTO tx VALUES (2)");
            await tx.CommitAsync();
        }
        await using var cmd = new NpgsqlCommand("SELECT sum(v) FROM tx", connection);
        Assert.Equal(2m, Convert.ToDecimal(await cmd.ExecuteScalarAsync()));
    }

    [Fact]
    public async Task Session_settings_are_handled_by_the_protocol_layer()
    {
        await using var connection = await fixture.OpenAsync();
        await using (var cmd = new NpgsqlCommand("SHOW statement_timeout", connection))
        {
            Assert.Equal("1min", await cmd.ExecuteScalarAsync());
        }
        await Exec(connection, "SET statement_timeout = '1500ms'");
        await Exec(connection, "SET application_name TO 'wire-test'");
        await using (var cmd = new NpgsqlCommand("SHOW statement_timeout; SHOW application_name; SHOW server_version", connection))
        {
            await using var reader = await cmd.ExecuteReaderAsync();
            Assert.True(await reader.ReadAsync());
            Assert.Equal("1500ms", reader.GetString(0));
            await reader.NextResultAsync();
            Assert.True(await reader.ReadAsync());
            Assert.Equal("wire-test", reader.GetString(0));
            await reader.NextResultAsync();
            Assert.True(await reader.ReadAsync());
            Assert.Equal("15.0 (TimeFusion)", reader.GetString(0));
        }
        await Exec(connection, "RESET statement_timeout");
        await using (var cmd = new NpgsqlCommand("SHOW statement_timeout", connection))
        {
            Assert.Equal("1min", await cmd.ExecuteScalarAsync());
        }
        await using (var cmd = new NpgsqlCommand("SET statement_timeout = 'soon'", connection))
        {
            var e = await Assert.ThrowsAsync<PostgresException>(() => cmd.ExecuteNonQueryAsync());
            Assert.Equal(SqlState.InvalidParameterValue, e.SqlState);
        }
        // DISCARD ALL (what pooled drivers send on reset) works.
        await Exec(connection, "DISCARD ALL");
    }

    [Fact]
    public async Task Pooled_connections_are_reset_and_reused()
    {
        await using var ds = fixture.CreateDataSource(configure: b => { b.Pooling = true; b.MaxPoolSize = 2; });
        for (var i = 0; i < 10; i++)
        {
            await using var connection = await ds.OpenConnectionAsync();
            await using var cmd = new NpgsqlCommand("SELECT $1::INTEGER * 2", connection);
            cmd.Parameters.AddWithValue(i);
            Assert.Equal(i * 2, await cmd.ExecuteScalarAsync());
        }
    }

    [Fact]
    public async Task Large_results_stream_through()
    {
        await using var connection = await fixture.OpenAsync();
        await using var cmd = new NpgsqlCommand("SELECT range AS i, 'row ' || range AS s FROM range(200000)", connection);
        await using var reader = await cmd.ExecuteReaderAsync();
        long count = 0;
        long sum = 0;
        while (await reader.ReadAsync())
        {
            sum += reader.GetInt64(0);
            count++;
        }
        Assert.Equal(200000, count);
        Assert.Equal(199999L * 200000 / 2, sum);
    }

    private static async Task<int> Exec(NpgsqlConnection connection, string sql)
    {
        await using var cmd = new NpgsqlCommand(sql, connection);
        return await cmd.ExecuteNonQueryAsync();
    }
}

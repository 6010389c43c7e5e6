using TimeFusion.Tests.Infrastructure;
using System.Buffers.Binary;
using System.Text;
using TimeFusion.Silo.Protocol.Postgres;
using static TimeFusion.Tests.Protocol.Postgres.RawPgClient;
using TimeFusion.Wire;

namespace TimeFusion.Tests.Protocol.Postgres;

/// <summary>Protocol details driven byte by byte: negotiation, extended-query flow, malformed input.</summary>
[Collection(PostgresCollection.Name)]
public sealed class RawProtocolTests(PostgresServerFixture fixture)
{
    private async Task<RawPgClient> LoginAsync()
    {
        var client = await ConnectAsync(fixture.Port);
        var messages = await client.LoginCleartextAsync(PostgresServerFixture.CleartextUser, PostgresServerFixture.CleartextPassword);
        Assert.Equal('R', messages[0].Type); // AuthenticationOk
        Assert.Contains(messages, m => m.Type == 'K');
        var parameters = messages.Where(m => m.Type == 'S').Select(m => m.Text.Split('\0')).ToDictionary(p => p[0], p => p[1]);
        Assert.Equal("UTF8", parameters["server_encoding"]);
        Assert.Equal("UTF8", parameters["client_encoding"]);
        Assert.Equal("ISO, MDY", parameters["DateStyle"]);
        Assert.Equal("on", parameters["integer_datetimes"]);
        Assert.Equal("on", parameters["standard_conforming_strings"]);
        Assert.Equal("UTC", parameters["TimeZone"]);
        Assert.StartsWith("15.", parameters["server_version"]);
        Assert.Equal("I", messages[^1].Text);
        return client;
    }

    [Fact]
    public async Task Ssl_and_gss_encryption_requests_are_declined_and_startup_continues()
    {
        await using var client = await ConnectAsync(fixture.Port);
        await client.SendRawAsync(Concat(BigEndian(8), BigEndian(80877104)));
        Assert.Equal('N', await client.ReadByteAsync(TimeSpan.FromSeconds(10)));
        await client.SendRawAsync(Concat(BigEndian(8), BigEndian(80877103)));
        Assert.Equal('N', await client.ReadByteAsync(TimeSpan.FromSeconds(10)));
        var messages = await client.LoginCleartextAsync(PostgresServerFixture.CleartextUser, PostgresServerFixture.CleartextPassword);
        Assert.Equal('Z', messages[^1].Type);
    }

    [Fact]
    public async Task Protocol_3_2_is_answered_with_NegotiateProtocolVersion()
    {
        await using var client = await ConnectAsync(fixture.Port);
        await client.SendRawAsync(StartupPacket([new("user", PostgresServerFixture.CleartextUser), new("_pq_.some_option", "x")], version: (3 << 16) | 2));
        var negotiate = await client.ReadAsync();
        Assert.Equal('v', negotiate!.Value.Type);
        Assert.Equal(3 << 16, BinaryPrimitives.ReadInt32BigEndian(negotiate.Value.Body));
        Assert.Equal(1, BinaryPrimitives.ReadInt32BigEndian(negotiate.Value.Body.AsSpan(4)));
        Assert.Equal("_pq_.some_option\0", Encoding.UTF8.GetString(negotiate.Value.Body, 8, negotiate.Value.Body.Length - 8));
        var auth = await client.ReadAsync();
        Assert.Equal('R', auth!.Value.Type);
        await client.SendAsync('p', CString(PostgresServerFixture.CleartextPassword));
        Assert.Equal('Z', (await client.ReadUntilReadyAsync())[^1].Type);
    }

    [Theory]
    [InlineData(4 << 16)]
    [InlineData(2 << 16)]
    public async Task Unsupported_protocol_versions_are_refused(int version)
    {
        await using var client = await ConnectAsync(fixture.Port);
        await client.SendRawAsync(StartupPacket([new("user", "x")], version));
        var error = await client.ReadAsync();
        Assert.Equal('E', error!.Value.Type);
        Assert.Equal("FATAL", error.Value.Fields()['S']);
        Assert.Equal(SqlState.FeatureNotSupported, error.Value.Fields()['C']);
        Assert.True(await client.DrainAsync(TimeSpan.FromSeconds(10)));
    }

    [Theory]
    [InlineData(int.MaxValue)]
    [InlineData(10 * 1024 + 1)]
    [InlineData(7)]
    [InlineData(-5)]
    public async Task Bad_startup_lengths_close_the_connection(int length)
    {
        await using var client = await ConnectAsync(fixture.Port);
        await client.SendRawAsync(Concat(BigEndian(length), BigEndian(196608)));
        var error = await client.ReadAsync();
        Assert.Equal('E', error!.Value.Type);
        Assert.Equal(SqlState.ProtocolViolation, error.Value.Fields()['C']);
        Assert.True(await client.DrainAsync(TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public async Task Huge_message_length_closes_only_that_connection()
    {
        await using var healthy = await LoginAsync();
        await using var client = await LoginAsync();
        await client.SendRawAsync(Concat([(byte)'Q'], BigEndian(int.MaxValue)));
        var error = await client.ReadAsync();
        Assert.Equal('E', error!.Value.Type);
        Assert.Equal("FATAL", error.Value.Fields()['S']);
        Assert.Equal(SqlState.ProgramLimitExceeded, error.Value.Fields()['C']);
        Assert.True(await client.DrainAsync(TimeSpan.FromSeconds(10)));
        await healthy.SendRawAsync(RawPgClient.Query("SELECT 'fine' AS s"));
        var reply = await healthy.ReadUntilReadyAsync();
        Assert.Contains(reply, m => m.Type == 'D' && m.Text.Contains("fine"));
    }

    [Fact]
    public async Task Invalid_message_type_and_bad_length_are_fatal()
    {
        await using (var client = await LoginAsync())
        {
            await client.SendAsync('!', [1, 2, 3]);
            var error = await client.ReadAsync();
            Assert.Equal(SqlState.ProtocolViolation, error!.Value.Fields()['C']);
            Assert.True(await client.DrainAsync(TimeSpan.FromSeconds(10)));
        }
        await using (var client = await LoginAsync())
        {
            await client.SendRawAsync(Concat([(byte)'Q'], BigEndian(3)));
            var error = await client.ReadAsync();
            Assert.Equal(SqlState.ProtocolViolation, error!.Value.Fields()['C']);
            Assert.True(await client.DrainAsync(TimeSpan.FromSeconds(10)));
        }
    }

    [Fact]
    public async Task Malformed_message_bodies_are_errors_and_the_session_recovers_at_sync()
    {
        await using var client = await LoginAsync();
        // A Bind whose parameter length runs past the end of the message.
        await client.SendRawAsync(Concat(
            Parse("", "SELECT $1::INTEGER AS v"),
            Frame('B', Concat(CString(""), CString(""), BigEndian16(0), BigEndian16(1), BigEndian(1000), [1, 2])),
            Execute("", 0),
            Sync()));
        var reply = await client.ReadUntilReadyAsync();
        Assert.Equal(['1', 'E', 'Z'], reply.Select(m => m.Type));
        Assert.Equal(SqlState.ProtocolViolation, reply[1].Fields()['C']);
        // A Query without its terminator.
        await client.SendAsync('Q', Encoding.UTF8.GetBytes("SELECT 1"));
        reply = await client.ReadUntilReadyAsync();
        Assert.Equal(['E', 'Z'], reply.Select(m => m.Type));
        // Still fine.
        await client.SendRawAsync(Concat(Parse("", "SELECT $1::INTEGER + 1 AS v"), Bind("", "", ["41"]), Execute("", 0), Sync()));
        reply = await client.ReadUntilReadyAsync();
        Assert.Equal(['1', '2', 'D', 'C', 'Z'], reply.Select(m => m.Type));
        Assert.EndsWith("42", Encoding.UTF8.GetString(reply[2].Body));
    }

    [Fact]
    public async Task Extended_query_with_row_limits_suspends_and_resumes_named_portals()
    {
        await using var client = await LoginAsync();
        await client.SendRawAsync(Concat(
            Parse("s1", "SELECT range AS i FROM range(5)"),
            Describe('S', "s1"),
            Bind("p1", "s1", []),
            Describe('P', "p1"),
            Execute("p1", 2),
            Execute("p1", 2),
            Execute("p1", 2),
            Execute("p1", 2),
            Close('P', "p1"),
            Close('S', "s1"),
            Sync()));
        var reply = await client.ReadUntilReadyAsync();
        Assert.Equal("1tT2TDDsDDsDC" + "C" + "33Z", new string(reply.Select(m => m.Type).ToArray()));
        Assert.Equal("SELECT 1\0", reply[^5].Text);
        Assert.Equal("SELECT 0\0", reply[^4].Text);
        // The named statement is gone after Close.
        await client.SendRawAsync(Concat(Bind("", "s1", []), Sync()));
        reply = await client.ReadUntilReadyAsync();
        Assert.Equal(SqlState.InvalidSqlStatementName, reply[0].Fields()['C']);
    }

    [Fact]
    public async Task Errors_in_extended_query_skip_to_sync()
    {
        await using var client = await LoginAsync();
        await client.SendRawAsync(Concat(
            Parse("", "SELECT * FROM missing_table"),
            Bind("", "", []),
            Describe('P', ""),
            Execute("", 0),
            Parse("", "SELECT 1"),
            Bind("", "", []),
            Execute("", 0),
            Sync(),
            Parse("", "SELECT 2 AS two"),
            Bind("", "", []),
            Execute("", 0),
            Sync()));
        var first = await client.ReadUntilReadyAsync();
        Assert.Equal("12EZ", new string(first.Select(m => m.Type).ToArray()));
        Assert.Equal(SqlState.UndefinedTable, first[2].Fields()['C']);
        var second = await client.ReadUntilReadyAsync();
        Assert.Equal("12DCZ", new string(second.Select(m => m.Type).ToArray()));
    }

    [Fact]
    public async Task Empty_queries_get_EmptyQueryResponse()
    {
        await using var client = await LoginAsync();
        await client.SendRawAsync(RawPgClient.Query(""));
        Assert.Equal("IZ", new string((await client.ReadUntilReadyAsync()).Select(m => m.Type).ToArray()));
        await client.SendRawAsync(RawPgClient.Query("  ; -- nothing\n ; /* still nothing */"));
        Assert.Equal("IZ", new string((await client.ReadUntilReadyAsync()).Select(m => m.Type).ToArray()));
        await client.SendRawAsync(Concat(Parse("", ""), Bind("", "", []), Describe('P', ""), Execute("", 0), Sync()));
        Assert.Equal("12nIZ", new string((await client.ReadUntilReadyAsync()).Select(m => m.Type).ToArray()));
    }

    [Fact]
    public async Task Simple_query_with_several_statements_stops_at_the_first_error()
    {
        await using var client = await LoginAsync();
        await client.SendRawAsync(RawPgClient.Query("SELECT 'a;b' AS x; SELECT $$;$$ AS y; SELECT * FROM nope; SELECT 3"));
        var reply = await client.ReadUntilReadyAsync();
        Assert.Equal("TDCTDCEZ", new string(reply.Select(m => m.Type).ToArray()));
        Assert.EndsWith("a;b", Encoding.UTF8.GetString(reply[1].Body));
    }

    [Fact]
    public async Task Time_zone_setting_changes_timestamptz_text_and_is_reported()
    {
        await using var client = await LoginAsync();
        await client.SendRawAsync(RawPgClient.Query("SET TimeZone = 'America/New_York'"));
        var reply = await client.ReadUntilReadyAsync();
        Assert.Contains(reply, m => m.Type == 'S' && m.Text == "TimeZone\0America/New_York\0");
        await client.SendRawAsync(RawPgClient.Query("SELECT TIMESTAMPTZ '2024-01-15 12:00:00+00' AS winter, TIMESTAMPTZ '2024-07-15 12:00:00+00' AS summer"));
        reply = await client.ReadUntilReadyAsync();
        var row = reply.Single(m => m.Type == 'D').Body;
        var text = Encoding.UTF8.GetString(row);
        Assert.Contains("2024-01-15 07:00:00-05", text);
        Assert.Contains("2024-07-15 08:00:00-04", text);
        await client.SendRawAsync(RawPgClient.Query("SET TimeZone = 'Not/AZone'"));
        reply = await client.ReadUntilReadyAsync();
        Assert.Equal(SqlState.InvalidParameterValue, reply[0].Fields()['C']);
    }

    [Fact]
    public async Task Settings_the_protocol_layer_does_not_own_go_to_the_backend_in_both_protocols()
    {
        fixture.Backend.Exec("CREATE OR REPLACE TABLE show_me (x INTEGER)");
        await using var client = await LoginAsync();
        // DuckDB answers SHOW TABLES; the protocol layer has no setting of that name.
        await client.SendRawAsync(Concat(Parse("", "SHOW TABLES"), Bind("", "", []), Describe('P', ""), Execute("", 0), Sync()));
        var reply = await client.ReadUntilReadyAsync();
        Assert.Matches("^12TD+CZ$", new string(reply.Select(m => m.Type).ToArray()));
        await client.SendRawAsync(RawPgClient.Query("SHOW statement_timeout"));
        reply = await client.ReadUntilReadyAsync();
        Assert.Equal("TDCZ", new string(reply.Select(m => m.Type).ToArray()));
    }

    [Theory]
    // The exception's own text ("something the backend did not expect") stays in the server log.
    [InlineData("SELECT 'internal_bug_please'", SqlState.InternalError, "internal error; the server log has the details")]
    [InlineData("SELECT 'backpressure_please'", SqlState.OutOfMemory, "memory budget exhausted, retry later")]
    public async Task Unexpected_backend_exceptions_are_XX000_and_the_connection_survives(string sql, string sqlState, string message)
    {
        await using var client = await LoginAsync();
        await client.SendRawAsync(RawPgClient.Query(sql));
        var reply = await client.ReadUntilReadyAsync();
        Assert.Equal("EZ", new string(reply.Select(m => m.Type).ToArray()));
        Assert.Equal(sqlState, reply[0].Fields()['C']);
        Assert.StartsWith(message, reply[0].Fields()['M']);
        Assert.DoesNotContain("did not expect", reply[0].Fields()['M']);
        await client.SendRawAsync(RawPgClient.Query("SELECT 'after' AS a"));
        Assert.Contains(await client.ReadUntilReadyAsync(), m => m.Type == 'D' && m.Text.Contains("after"));
    }

    [Fact]
    public async Task Transaction_status_is_reported_in_ReadyForQuery()
    {
        await using var client = await LoginAsync();
        await client.SendRawAsync(RawPgClient.Query("BEGIN"));
        Assert.Equal("T", (await client.ReadUntilReadyAsync())[^1].Text);
        await client.SendRawAsync(RawPgClient.Query("SELECT * FROM nope"));
        Assert.Equal("E", (await client.ReadUntilReadyAsync())[^1].Text);
        await client.SendRawAsync(RawPgClient.Query("ROLLBACK"));
        Assert.Equal("I", (await client.ReadUntilReadyAsync())[^1].Text);
    }

    [Fact]
    public async Task Terminate_and_truncated_messages_end_the_connection_cleanly()
    {
        var before = fixture.Backend.OpenSessions;
        await using (var client = await LoginAsync())
        {
            await client.SendRawAsync(Terminate());
            Assert.True(await client.DrainAsync(TimeSpan.FromSeconds(10)));
        }
        await using (var client = await LoginAsync())
        {
            // Half a message, then the client goes away.
            await client.SendRawAsync(Concat([(byte)'Q'], BigEndian(100), Encoding.UTF8.GetBytes("SELECT")));
            Assert.True(await client.ShutdownAndDrainAsync(TimeSpan.FromSeconds(10)));
        }
        await Condition.WaitUntilAsync(() => fixture.Backend.OpenSessions <= before, "sessions closed");
    }

    [Fact]
    public async Task Cancel_request_with_a_wrong_key_does_nothing()
    {
        await using var client = await ConnectAsync(fixture.Port);
        var messages = await client.LoginCleartextAsync(PostgresServerFixture.CleartextUser, PostgresServerFixture.CleartextPassword);
        var key = messages.First(m => m.Type == 'K').Body;
        var pid = BinaryPrimitives.ReadInt32BigEndian(key);
        var secret = BinaryPrimitives.ReadInt32BigEndian(key.AsSpan(4));
        await using (var cancel = await ConnectAsync(fixture.Port))
        {
            await cancel.SendRawAsync(Concat(BigEndian(16), BigEndian(80877102), BigEndian(pid), BigEndian(secret ^ 1)));
            Assert.True(await cancel.DrainAsync(TimeSpan.FromSeconds(10)));
        }
        await client.SendRawAsync(RawPgClient.Query("SELECT 1"));
        Assert.Contains(await client.ReadUntilReadyAsync(), m => m.Type == 'D');
    }

}

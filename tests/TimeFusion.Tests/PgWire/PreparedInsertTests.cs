using Npgsql;
using NpgsqlTypes;
using TimeFusion.Silo.Protocol.Postgres;
using TimeFusion.Silo.Security;
using TimeFusion.Tests.Cluster;

namespace TimeFusion.Tests.PgWire;

/// <summary>
/// Prepared INSERTs run from their per-statement plan (<c>TimeFusion:Postgres:InsertPlans</c>), driven with Npgsql against
/// the cluster backend side by side with an endpoint that has plans off (the general path): the same statements store
/// the same rows and fail with the same SQLSTATEs, leaving nothing behind.
/// </summary>
public sealed class PreparedInsertTests(OneSiloCluster fixture) : IClassFixture<OneSiloCluster>, IAsyncLifetime
{
    private const string Table = "prep_kinds";
    private const string Columns = "timestamp, id, n, i, d, b, j, tags, raw";
    private ClusterPostgresEndpoint _planned = null!;
    private ClusterPostgresEndpoint _general = null!;

    private static readonly TimeFusionUser[] Users =
    [
        new() { Name = "prepadmin", PasswordOrScramSecret = "pw", IsAdmin = true, Projects = ["pg-prep"] },
        new() { Name = "prepuser", PasswordOrScramSecret = "pw", Projects = ["pg-prep-a"] },
    ];

    public async Task InitializeAsync()
    {
        _planned = await ClusterPostgresEndpoint.StartAsync(fixture.Client, Users);
        _general = await ClusterPostgresEndpoint.StartAsync(fixture.Client, new PostgresServerOptions { Port = 0, InsertPlans = false }, Users);
        await using var connection = await OpenAsync(_planned);
        await ExecAsync(connection, $"CREATE TABLE {Table} (timestamp TIMESTAMPTZ NOT NULL, id TEXT NOT NULL, n BIGINT, i INTEGER, d DOUBLE PRECISION, " +
                                    "b BOOLEAN, j JSON, tags TEXT[], raw BYTEA)");
    }

    public async Task DisposeAsync()
    {
        await _planned.DisposeAsync();
        await _general.DisposeAsync();
    }

    private static async Task<NpgsqlConnection> OpenAsync(ClusterPostgresEndpoint endpoint, string user = "prepadmin")
    {
        var connection = new NpgsqlConnection($"Host=127.0.0.1;Port={endpoint.Port};Username={user};Password=pw;Database=timefusion;Pooling=false;Server Compatibility Mode=NoTypeLoading");
        await connection.OpenAsync();
        return connection;
    }

    private static async Task ExecAsync(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    private static async Task<long> CountAsync(NpgsqlConnection connection, string where)
    {
        await using var command = new NpgsqlCommand($"SELECT count(*) FROM {Table} WHERE {where}", connection);
        return Convert.ToInt64(await command.ExecuteScalarAsync());
    }

    /// <summary>A prepared INSERT of <paramref name="rows"/> rows of every column kind.</summary>
    private static async Task<NpgsqlCommand> PrepareAsync(NpgsqlConnection connection, int rows, NpgsqlDbType jsonType = NpgsqlDbType.Text)
    {
        var values = string.Join(", ", Enumerable.Range(0, rows).Select(r => "(" + string.Join(", ", Enumerable.Range(1, 9).Select(c => "$" + (r * 9 + c))) + ")"));
        var command = new NpgsqlCommand($"INSERT INTO {Table} ({Columns}) VALUES {values}", connection);
        NpgsqlDbType[] types = [NpgsqlDbType.TimestampTz, NpgsqlDbType.Text, NpgsqlDbType.Bigint, NpgsqlDbType.Integer, NpgsqlDbType.Double,
            NpgsqlDbType.Boolean, jsonType, NpgsqlDbType.Array | NpgsqlDbType.Text, NpgsqlDbType.Bytea];
        for (var r = 0; r < rows; r++)
            foreach (var type in types) command.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = type });
        await command.PrepareAsync();
        return command;
    }

    /// <summary>Row <paramref name="k"/> of a run: every kind, with NULLs in a different column of each row.</summary>
    private static object?[] Row(string prefix, int k)
    {
        object?[] row =
        [
            new DateTime(2026, 12, 6, 10, 0, 0, DateTimeKind.Utc).AddTicks(k * 10_000_017L), $"{prefix}-{k:D4}", k * 1_000_000_007L - 5_000_000_000L,
            k % 2 == 0 ? -k : int.MaxValue - k, k / 7.0, k % 3 == 0, $"{{\"k\": {k}, \"s\": \"v{k}\", \"a\": [1, 2.5, null]}}",
            new[] { $"t{k}", k % 4 == 0 ? null : "x y", "" }, new byte[] { (byte)k, 0, 255 },
        ];
        if (k % 9 >= 2) row[k % 9] = null; // id and timestamp are NOT NULL
        return row;
    }

    private static async Task<List<object?[]>> ReadBackAsync(NpgsqlConnection connection, string prefix)
    {
        await using var select = new NpgsqlCommand($"SELECT {Columns} FROM {Table} WHERE id LIKE '{prefix}-%' ORDER BY id", connection);
        await using var reader = await select.ExecuteReaderAsync();
        var rows = new List<object?[]>();
        while (await reader.ReadAsync())
        {
            var row = new object?[9];
            for (var c = 0; c < 9; c++) row[c] = reader.IsDBNull(c) ? null : reader.GetValue(c);
            if (row[0] is DateTime t) row[0] = DateTime.SpecifyKind(t, DateTimeKind.Utc);
            rows.Add(row);
        }
        return rows;
    }

    private static async Task InsertRunAsync(ClusterPostgresEndpoint endpoint, string prefix, int statements, int rowsPerStatement, NpgsqlDbType jsonType)
    {
        await using var connection = await OpenAsync(endpoint);
        await using var command = await PrepareAsync(connection, rowsPerStatement, jsonType);
        for (var s = 0; s < statements; s++)
        {
            var p = 0;
            for (var r = 0; r < rowsPerStatement; r++)
                foreach (var value in Row(prefix, s * rowsPerStatement + r)) command.Parameters[p++].Value = value ?? DBNull.Value;
            Assert.Equal(rowsPerStatement, await command.ExecuteNonQueryAsync());
        }
    }

    [Theory]
    [InlineData(NpgsqlDbType.Text)]
    [InlineData(NpgsqlDbType.Jsonb)]
    public async Task A_prepared_insert_executed_many_times_reads_back_exactly_what_was_sent_and_what_the_general_path_stores(NpgsqlDbType jsonType)
    {
        const int statements = 24, perStatement = 3;
        var tag = jsonType == NpgsqlDbType.Text ? "t" : "b";
        await InsertRunAsync(_planned, $"plan{tag}", statements, perStatement, jsonType);
        await InsertRunAsync(_general, $"gen{tag}", statements, perStatement, jsonType);

        await using var connection = await OpenAsync(_planned);
        var planned = await ReadBackAsync(connection, $"plan{tag}");
        var general = await ReadBackAsync(connection, $"gen{tag}");
        Assert.Equal(statements * perStatement, planned.Count);
        Assert.Equal(planned.Count, general.Count);
        for (var k = 0; k < planned.Count; k++)
        {
            var sent = Row($"plan{tag}", k);
            for (var c = 0; c < 9; c++)
            {
                if (c == 1)
                {
                    Assert.Equal(sent[1], planned[k][1]);
                    Assert.Equal(Row($"gen{tag}", k)[1], general[k][1]);
                    continue;
                }
                // What was sent (JSON compared as the general path stores it) and what the general path stored.
                if (c == 0) Assert.Equal(new DateTime(((DateTime)sent[0]!).Ticks / 10 * 10, DateTimeKind.Utc), planned[k][0]); // microseconds
                else if (c != 6) Assert.Equal(sent[c], planned[k][c]);
                else Assert.Equal(sent[c] is null, planned[k][c] is null);
                Assert.Equal(general[k][c], planned[k][c]);
            }
        }
    }

    public static TheoryData<string, int, object?> Refused => new()
    {
        { "invalid json", 6, "{\"k\": " },
        { "null id", 1, null },
        { "null timestamp", 0, null },
        { "nul character", 1, "a\0b" },
        { "timestamp out of range", 0, new DateTime(1, 1, 1, 0, 0, 0, DateTimeKind.Utc) },
    };

    [Theory]
    [MemberData(nameof(Refused))]
    public async Task A_refused_value_fails_with_the_general_paths_sqlstate_and_stores_nothing(string name, int column, object? value)
    {
        var states = new List<string>();
        foreach (var (endpoint, prefix) in new[] { (_planned, "bad-plan"), (_general, "bad-gen") })
        {
            await using var connection = await OpenAsync(endpoint);
            await using var command = await PrepareAsync(connection, 2);
            var row0 = Row(prefix + name.Replace(' ', '_'), 1);
            var row1 = Row(prefix + name.Replace(' ', '_'), 2);
            row1[column] = value;
            var p = 0;
            foreach (var v in row0.Concat(row1)) command.Parameters[p++].Value = v ?? DBNull.Value;
            var e = await Assert.ThrowsAsync<PostgresException>(() => command.ExecuteNonQueryAsync());
            states.Add(e.SqlState);
            // The connection is still usable and nothing of the statement landed.
            Assert.Equal(0, await CountAsync(connection, $"id LIKE '{prefix}{name.Replace(' ', '_')}-%'"));
        }
        Assert.Equal(states[1], states[0]);
        Assert.StartsWith(name == "nul character" ? "22021" : name.StartsWith("null") ? "2" : "22", states[0]);
    }

    /// <summary>
    /// A pooled connection that holds prepared statements is reset by Npgsql with <c>SET SESSION AUTHORIZATION DEFAULT;
    /// RESET ALL; CLOSE ALL; UNLISTEN *; SELECT pg_advisory_unlock_all(); DISCARD SEQUENCES; DISCARD TEMP</c> (sent ahead
    /// of its next command), not DISCARD ALL: every part must succeed, and the statement prepared before is used again.
    /// </summary>
    [Fact]
    public async Task A_pooled_connection_with_prepared_statements_is_reset_and_reused()
    {
        var builder = new NpgsqlDataSourceBuilder($"Host=127.0.0.1;Port={_planned.Port};Username=prepadmin;Password=pw;Database=timefusion;Maximum Pool Size=1;Server Compatibility Mode=NoTypeLoading");
        await using var source = builder.Build();
        for (var round = 0; round < 3; round++)
        {
            // Each round takes the one pooled connection again: from the second on, Npgsql resets it first.
            await using var connection = await source.OpenConnectionAsync();
            await using var insert = new NpgsqlCommand($"INSERT INTO {Table} (timestamp, id, n) VALUES ($1, $2, $3)", connection);
            insert.Parameters.Add(new NpgsqlParameter<DateTime> { TypedValue = new DateTime(2024, 3, 1, 0, 0, round, DateTimeKind.Utc) });
            insert.Parameters.Add(new NpgsqlParameter<string> { TypedValue = "pooled-reset" });
            insert.Parameters.Add(new NpgsqlParameter<long> { TypedValue = round });
            await insert.PrepareAsync();
            Assert.Equal(1, await insert.ExecuteNonQueryAsync());
        }
        await using var check = await OpenAsync(_planned);
        Assert.Equal(3L, await CountAsync(check, "id = 'pooled-reset'"));
        // Becoming another user stays refused, as for any non-superuser in PostgreSQL.
        var refused = await Assert.ThrowsAsync<PostgresException>(() => ExecAsync(check, "SET SESSION AUTHORIZATION prepuser"));
        Assert.Equal("42501", refused.SqlState);
    }

    [Fact]
    public async Task A_value_of_another_type_than_its_column_gets_the_general_paths_answer()
    {
        // Text into bigint / integer columns and an out-of-range integer: converted or refused as the general path does.
        var results = new List<string>();
        foreach (var endpoint in new[] { _planned, _general })
        {
            await using var connection = await OpenAsync(endpoint);
            var prefix = endpoint == _planned ? "conv-plan" : "conv-gen";
            foreach (var (text, type) in new[] { ("12", NpgsqlDbType.Text), ("x1", NpgsqlDbType.Text), ("3000000000", NpgsqlDbType.Bigint) })
            {
                await using var command = new NpgsqlCommand($"INSERT INTO {Table} (timestamp, id, i) VALUES ($1, $2, $3)", connection);
                command.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.TimestampTz, Value = new DateTime(2026, 12, 6, 11, 0, 0, DateTimeKind.Utc) });
                command.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Text, Value = $"{prefix}-{text}" });
                command.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = type, Value = type == NpgsqlDbType.Bigint ? long.Parse(text) : text });
                await command.PrepareAsync();
                try
                {
                    await command.ExecuteNonQueryAsync();
                    results.Add($"{text}: ok {await CountAsync(connection, $"id = '{prefix}-{text}' AND i = 12")}");
                }
                catch (PostgresException e)
                {
                    results.Add($"{text}: {e.SqlState} {await CountAsync(connection, $"id = '{prefix}-{text}'")}");
                }
            }
        }
        Assert.Equal(results.Take(3), results.Skip(3));
        Assert.Equal("12: ok 1", results[0]);
        Assert.Equal("x1: 22P02 0", results[1]);
        Assert.Matches("^3000000000: 22(P02|003) 0$", results[2]); // out of range for integer: refused, nothing stored
    }

    [Fact]
    public async Task A_table_re_created_with_other_column_types_takes_the_new_definition()
    {
        await using var connection = await OpenAsync(_planned);
        await ExecAsync(connection, "CREATE TABLE prep_recreated (timestamp TIMESTAMPTZ NOT NULL, id TEXT NOT NULL, n BIGINT)");
        await using var command = new NpgsqlCommand("INSERT INTO prep_recreated (timestamp, id, n) VALUES ($1, $2, $3)", connection);
        command.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.TimestampTz, Value = new DateTime(2026, 12, 6, 12, 0, 0, DateTimeKind.Utc) });
        command.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Text, Value = "before" });
        command.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Bigint, Value = 42L });
        await command.PrepareAsync();
        Assert.Equal(1, await command.ExecuteNonQueryAsync());

        await ExecAsync(connection, "DROP TABLE prep_recreated");
        command.Parameters[1].Value = "dropped";
        Assert.Equal("42P01", (await Assert.ThrowsAsync<PostgresException>(() => command.ExecuteNonQueryAsync())).SqlState);
        await ExecAsync(connection, "CREATE TABLE prep_recreated (timestamp TIMESTAMPTZ NOT NULL, id TEXT NOT NULL, n TEXT)");
        command.Parameters[1].Value = "after";
        command.Parameters[2].Value = 43L;
        Assert.Equal(1, await command.ExecuteNonQueryAsync());
        await using var select = new NpgsqlCommand("SELECT id, n FROM prep_recreated", connection);
        await using var reader = await select.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync());
        Assert.Equal(("after", "43"), (reader.GetString(0), reader.GetString(1)));
        Assert.False(await reader.ReadAsync());
    }

    [Fact]
    public async Task Inside_a_transaction_block_the_rows_are_held_until_commit()
    {
        await using var connection = await OpenAsync(_planned);
        await using var command = await PrepareAsync(connection, 1);
        async Task InsertAsync(int k)
        {
            var p = 0;
            foreach (var v in Row("txn", k)) command.Parameters[p++].Value = v ?? DBNull.Value;
            await command.ExecuteNonQueryAsync();
        }
        await ExecAsync(connection, "BEGIN");
        await InsertAsync(1);
        await ExecAsync(connection, "ROLLBACK");
        Assert.Equal(0, await CountAsync(connection, "id LIKE 'txn-%'"));
        await ExecAsync(connection, "BEGIN");
        await InsertAsync(2);
        await InsertAsync(3);
        Assert.Equal(0, await CountAsync(connection, "id LIKE 'txn-%'"));
        await ExecAsync(connection, "COMMIT");
        Assert.Equal(2, await CountAsync(connection, "id LIKE 'txn-%'"));
    }

    [Fact]
    public async Task Rows_go_to_their_project_and_a_project_the_user_may_not_write_is_42501_with_nothing_stored()
    {
        foreach (var endpoint in new[] { _planned, _general })
        {
            var prefix = endpoint == _planned ? "ten-plan" : "ten-gen";
            await using var connection = await OpenAsync(endpoint, "prepuser");
            await using var command = new NpgsqlCommand($"INSERT INTO {Table} (project_id, timestamp, id) VALUES ($1, $2, $3), ($4, $5, $6)", connection);
            foreach (var type in new[] { NpgsqlDbType.Text, NpgsqlDbType.TimestampTz, NpgsqlDbType.Text, NpgsqlDbType.Text, NpgsqlDbType.TimestampTz, NpgsqlDbType.Text })
                command.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = type });
            await command.PrepareAsync();
            void Set(string p0, string p1, string id)
            {
                object[] values = [p0, new DateTime(2026, 12, 6, 13, 0, 0, DateTimeKind.Utc), id + "-1", p1, new DateTime(2026, 12, 6, 13, 0, 1, DateTimeKind.Utc), id + "-2"];
                for (var i = 0; i < values.Length; i++) command.Parameters[i].Value = values[i];
            }
            Set("pg-prep-a", "pg-prep-a", prefix + "-own");
            Assert.Equal(2, await command.ExecuteNonQueryAsync());
            Set("pg-prep-a", "pg-prep-other", prefix + "-mixed");
            Assert.Equal("42501", (await Assert.ThrowsAsync<PostgresException>(() => command.ExecuteNonQueryAsync())).SqlState);
            Set("pg-prep-other", "pg-prep-other", prefix + "-other");
            Assert.Equal("42501", (await Assert.ThrowsAsync<PostgresException>(() => command.ExecuteNonQueryAsync())).SqlState);
            await using var admin = await OpenAsync(endpoint);
            Assert.Equal(2, await CountAsync(admin, $"id LIKE '{prefix}-%' AND project_id = 'pg-prep-a'"));
            Assert.Equal(2, await CountAsync(admin, $"id LIKE '{prefix}-%'"));
        }
    }

    [Fact]
    public async Task A_planned_insert_takes_no_statement_slot_while_a_query_of_the_same_user_waits_for_one()
    {
        // One slot per user, given up on quickly: a cursor holds it, so the user's next query fails with 53400.
        await using var endpoint = await ClusterPostgresEndpoint.StartAsync(fixture.Client, new PostgresServerOptions { Port = 0 },
            new TimeFusion.Query.Execution.ExecutionOptions { MaxConcurrentStatementsPerUser = 1, StatementQueueTimeout = TimeSpan.FromMilliseconds(300) }, Users);
        await InsertRunAsync(endpoint, "slot-seed", statements: 2, rowsPerStatement: 3, NpgsqlDbType.Text);
        await using var holder = await OpenAsync(endpoint);
        await ExecAsync(holder, $"DECLARE held CURSOR WITH HOLD FOR SELECT id FROM {Table} WHERE id LIKE 'slot-seed-%'");
        await ExecAsync(holder, "FETCH 1 FROM held");
        await using (var other = await OpenAsync(endpoint))
            Assert.Equal("53400", (await Assert.ThrowsAsync<PostgresException>(() => CountAsync(other, "id LIKE 'slot-seed-%'"))).SqlState);

        // The planned INSERT of the same user meanwhile is acknowledged (durable) without a slot.
        await using var writer = await OpenAsync(endpoint);
        await using var command = await PrepareAsync(writer, 3);
        var p = 0;
        for (var r = 0; r < 3; r++)
            foreach (var value in Row("slot-plan", r)) command.Parameters[p++].Value = value ?? DBNull.Value;
        Assert.Equal(3, await command.ExecuteNonQueryAsync());

        await ExecAsync(holder, "CLOSE held");
        Assert.Equal(3, await CountAsync(writer, "id LIKE 'slot-plan-%'"));
    }
}

using Npgsql;
using TimeFusion.Silo.Security;
using TimeFusion.Tests.Cluster;

namespace TimeFusion.Tests.PgWire;

/// <summary>
/// Transaction blocks over the cluster backend with Npgsql: a block's INSERTs (and COPY) land at COMMIT, all of them,
/// and its UPDATEs and DELETEs apply at COMMIT in statement order among them;
/// ROLLBACK, an error (25P02 until ROLLBACK, COMMIT then rolls back), a dropped connection leave nothing; READ ONLY
/// refuses writes (25006); several statements in one simple query are one implicit transaction. Also (sharing the
/// silo) Describe's parameter types: a parameter the statement casts takes the cast's type; and untyped (OID 0) parameters
/// in arithmetic take the other operand's type.
/// </summary>
public sealed class TransactionBlockTests(OneSiloCluster fixture) : IClassFixture<OneSiloCluster>, IAsyncLifetime
{
    private const string Table = "otel_logs_and_spans";
    private ClusterPostgresEndpoint _endpoint = null!;

    public async Task InitializeAsync() =>
        _endpoint = await ClusterPostgresEndpoint.StartAsync(fixture.Client,
            new TimeFusionUser { Name = "txuser", PasswordOrScramSecret = "txpw", Projects = ["pg-tx"] });

    public async Task DisposeAsync() => await _endpoint.DisposeAsync();

    private string ConnectionString(bool pooling = false) =>
        $"Host=127.0.0.1;Port={_endpoint.Port};Username=txuser;Password=txpw;Database=timefusion;Pooling={pooling};Server Compatibility Mode=NoTypeLoading";

    private async Task<NpgsqlConnection> OpenAsync()
    {
        var connection = new NpgsqlConnection(ConnectionString());
        await connection.OpenAsync();
        return connection;
    }

    private static async Task<int> ExecAsync(NpgsqlConnection connection, string sql)
    {
        await using var cmd = new NpgsqlCommand(sql, connection);
        return await cmd.ExecuteNonQueryAsync();
    }

    private async Task<long> CountAsync(string idPrefix)
    {
        await using var connection = await OpenAsync();
        await using var cmd = new NpgsqlCommand($"SELECT count(*) FROM {Table} WHERE id LIKE '{idPrefix}%'", connection);
        return Convert.ToInt64(await cmd.ExecuteScalarAsync());
    }

    private static string Insert(string id, int second = 0) =>
        $"INSERT INTO {Table} (id, timestamp, level) VALUES ('{id}', TIMESTAMPTZ '2026-12-06 10:00:{second:00}+00', 'INFO')";

    [Fact]
    public async Task Commit_makes_every_insert_and_copy_of_the_block_visible_at_once()
    {
        await using var connection = await OpenAsync();
        await using (var tx = await connection.BeginTransactionAsync())
        {
            Assert.Equal(1, await ExecAsync(connection, Insert("commit-a")));
            // A different column list for the same table: the held rows are widened into one batch at COMMIT.
            Assert.Equal(2, await ExecAsync(connection,
                $"INSERT INTO {Table} (id, timestamp, level, duration) VALUES ('commit-b', TIMESTAMPTZ '2026-12-06 10:00:01+00', 'WARN', 5), ('commit-c', TIMESTAMPTZ '2026-12-06 10:00:02+00', 'WARN', 6)"));
            await using (var copy = await connection.BeginTextImportAsync($"COPY {Table} (id, timestamp, level) FROM STDIN"))
            {
                for (var i = 0; i < 10; i++) await copy.WriteLineAsync($"commit-copy-{i}\t2026-12-06 11:00:{i:00}+00\tDEBUG");
            }
            // Nothing is visible before COMMIT, to this session (documented) or to another.
            await using (var inside = new NpgsqlCommand($"SELECT count(*) FROM {Table} WHERE id LIKE 'commit-%'", connection))
                Assert.Equal(0L, Convert.ToInt64(await inside.ExecuteScalarAsync()));
            Assert.Equal(0L, await CountAsync("commit-"));
            await tx.CommitAsync();
        }
        Assert.Equal(13L, await CountAsync("commit-"));
        await using var durations = new NpgsqlCommand($"SELECT sum(duration) FROM {Table} WHERE id LIKE 'commit-%'", connection);
        Assert.Equal(11L, Convert.ToInt64(await durations.ExecuteScalarAsync()));
    }

    [Fact]
    public async Task Rollback_and_a_dropped_connection_leave_nothing()
    {
        await using (var connection = await OpenAsync())
        {
            await using var tx = await connection.BeginTransactionAsync();
            await ExecAsync(connection, Insert("rollback-1"));
            await tx.RollbackAsync();
            // The connection goes on outside a block: a write now lands at once.
            await ExecAsync(connection, Insert("rollback-after"));
        }
        Assert.Equal(0L, await CountAsync("rollback-1"));
        Assert.Equal(1L, await CountAsync("rollback-after"));

        var dropped = await OpenAsync();
        await ExecAsync(dropped, "BEGIN");
        await ExecAsync(dropped, Insert("dropped-1"));
        await dropped.DisposeAsync(); // no pooling: the socket closes inside the block
        Assert.Equal(0L, await CountAsync("dropped-"));
    }

    [Fact]
    public async Task An_error_aborts_the_block_until_rollback_and_commit_then_rolls_back()
    {
        await using var connection = await OpenAsync();
        await ExecAsync(connection, "BEGIN");
        await ExecAsync(connection, Insert("aborted-1"));
        Assert.Equal("42P01", (await Assert.ThrowsAsync<PostgresException>(() => ExecAsync(connection, "SELECT * FROM no_such_relation"))).SqlState);
        Assert.Equal("25P02", (await Assert.ThrowsAsync<PostgresException>(() => ExecAsync(connection, Insert("aborted-2")))).SqlState);
        Assert.Equal("25P02", (await Assert.ThrowsAsync<PostgresException>(() => ExecAsync(connection, "SELECT 1"))).SqlState);
        await using (var commit = new NpgsqlCommand("COMMIT", connection))
        {
            await commit.ExecuteNonQueryAsync();
        }
        Assert.Equal(0L, await CountAsync("aborted-"));
        // Idle again: statements run.
        await using var after = new NpgsqlCommand("SELECT 1", connection);
        Assert.Equal(1, Convert.ToInt32(await after.ExecuteScalarAsync()));
    }

    [Fact]
    public async Task A_read_only_block_refuses_writes_with_25006_and_reads()
    {
        await using var connection = await OpenAsync();
        await ExecAsync(connection, "BEGIN READ ONLY");
        await using (var read = new NpgsqlCommand("SELECT 1", connection))
            Assert.Equal(1, Convert.ToInt32(await read.ExecuteScalarAsync()));
        Assert.Equal("25006", (await Assert.ThrowsAsync<PostgresException>(() => ExecAsync(connection, Insert("readonly-1")))).SqlState);
        await ExecAsync(connection, "ROLLBACK");
        await ExecAsync(connection, "START TRANSACTION");
        await ExecAsync(connection, "SET TRANSACTION READ ONLY");
        Assert.Equal("25006", (await Assert.ThrowsAsync<PostgresException>(() => ExecAsync(connection, Insert("readonly-2")))).SqlState);
        await ExecAsync(connection, "ROLLBACK");
        Assert.Equal(0L, await CountAsync("readonly-"));
    }

    [Fact]
    public async Task Savepoint_and_ddl_inside_a_block_are_refused_clearly()
    {
        await using var connection = await OpenAsync();
        await ExecAsync(connection, "BEGIN");
        Assert.Equal("0A000", (await Assert.ThrowsAsync<PostgresException>(() => ExecAsync(connection, "SAVEPOINT s1"))).SqlState);
        await ExecAsync(connection, "ROLLBACK");
        await ExecAsync(connection, "BEGIN");
        Assert.Equal("25001", (await Assert.ThrowsAsync<PostgresException>(() => ExecAsync(connection, "FLUSH"))).SqlState);
        await ExecAsync(connection, "ROLLBACK");
    }

    private async Task<List<string>> RowsAsync(string idPrefix)
    {
        await using var connection = await OpenAsync();
        await using var cmd = new NpgsqlCommand($"SELECT id, level FROM {Table} WHERE id LIKE '{idPrefix}%' ORDER BY id", connection);
        var rows = new List<string>();
        await using var reader = await cmd.ExecuteReaderAsync();
        while (await reader.ReadAsync()) rows.Add($"{reader.GetString(0)}={reader.GetString(1)}");
        return rows;
    }

    [Fact]
    public async Task Update_and_delete_in_a_block_apply_at_commit_in_statement_order_with_its_inserts()
    {
        await using var connection = await OpenAsync();
        await ExecAsync(connection, Insert("dmlc-old-1"));
        await ExecAsync(connection, Insert("dmlc-old-2", 1));
        await using (var tx = await connection.BeginTransactionAsync())
        {
            await ExecAsync(connection, Insert("dmlc-a", 2));
            // The count is the committed rows the statement matches now (the block's own INSERTs are held, not counted).
            Assert.Equal(2, await ExecAsync(connection, $"UPDATE {Table} SET level = 'WARN' WHERE id LIKE 'dmlc-%'"));
            await ExecAsync(connection, Insert("dmlc-b", 3));
            Assert.Equal(1, await ExecAsync(connection, $"DELETE FROM {Table} WHERE id = 'dmlc-old-2'"));
            // Nothing of the block shows before COMMIT, to another session.
            Assert.Equal(["dmlc-old-1=INFO", "dmlc-old-2=INFO"], await RowsAsync("dmlc-"));
            await tx.CommitAsync();
        }
        // The UPDATE changed the rows written before it (committed and the block's dmlc-a), not dmlc-b inserted after it.
        Assert.Equal(["dmlc-a=WARN", "dmlc-b=INFO", "dmlc-old-1=WARN"], await RowsAsync("dmlc-"));
    }

    [Fact]
    public async Task Update_and_delete_in_a_rolled_back_or_dropped_block_leave_nothing()
    {
        await using (var connection = await OpenAsync())
        {
            await ExecAsync(connection, Insert("dmlr-1"));
            await using var tx = await connection.BeginTransactionAsync();
            await ExecAsync(connection, $"UPDATE {Table} SET level = 'ERROR' WHERE id = 'dmlr-1'");
            await ExecAsync(connection, Insert("dmlr-2", 1));
            await ExecAsync(connection, $"DELETE FROM {Table} WHERE id LIKE 'dmlr-%'");
            await tx.RollbackAsync();
        }
        Assert.Equal(["dmlr-1=INFO"], await RowsAsync("dmlr-"));

        var dropped = await OpenAsync();
        await ExecAsync(dropped, "BEGIN");
        await ExecAsync(dropped, $"DELETE FROM {Table} WHERE id = 'dmlr-1'");
        await dropped.DisposeAsync(); // no pooling: the socket closes inside the block
        Assert.Equal(["dmlr-1=INFO"], await RowsAsync("dmlr-"));
    }

    [Fact]
    public async Task A_bad_update_in_a_block_fails_it_at_once_and_a_read_only_block_refuses_dml()
    {
        await using var connection = await OpenAsync();
        await ExecAsync(connection, "BEGIN");
        await ExecAsync(connection, Insert("dmle-1"));
        Assert.Equal("42703", (await Assert.ThrowsAsync<PostgresException>(() => ExecAsync(connection, $"UPDATE {Table} SET no_such_column = 1"))).SqlState);
        Assert.Equal("25P02", (await Assert.ThrowsAsync<PostgresException>(() => ExecAsync(connection, $"DELETE FROM {Table} WHERE id = 'x'"))).SqlState);
        await ExecAsync(connection, "COMMIT");
        Assert.Equal(0L, await CountAsync("dmle-"));
        await ExecAsync(connection, "BEGIN READ ONLY");
        Assert.Equal("25006", (await Assert.ThrowsAsync<PostgresException>(() => ExecAsync(connection, $"DELETE FROM {Table} WHERE id = 'x'"))).SqlState);
        await ExecAsync(connection, "ROLLBACK");
    }

    [Fact]
    public async Task Several_statements_in_one_simple_query_are_one_implicit_transaction()
    {
        // Npgsql sends a command without parameters that holds several statements as one simple Query.
        await using var connection = await OpenAsync();
        var e = await Assert.ThrowsAsync<PostgresException>(() => ExecAsync(connection, $"{Insert("implicit-1")}; INSERT INTO no_such_relation VALUES (1)"));
        Assert.Equal("42P01", e.SqlState);
        Assert.Equal(0L, await CountAsync("implicit-"));
        Assert.Equal(2, await ExecAsync(connection, $"{Insert("implicit-2")}; {Insert("implicit-3", 1)}"));
        Assert.Equal(2L, await CountAsync("implicit-"));
    }

    [Fact]
    public async Task Describe_gives_a_cast_parameter_its_type_and_others_text()
    {
        await using var connection = await OpenAsync();
        await using var cmd = new NpgsqlCommand("SELECT @a::int + 1 AS a, CAST(@b AS text[]) AS b, @c AS c, @d::double precision AS d", connection);
        // Npgsql rewrites the named parameters to $1 … $4 and derives their types from ParameterDescription.
        NpgsqlCommandBuilder.DeriveParameters(cmd);
        Assert.Equal(
            [NpgsqlTypes.NpgsqlDbType.Integer, NpgsqlTypes.NpgsqlDbType.Array | NpgsqlTypes.NpgsqlDbType.Text, NpgsqlTypes.NpgsqlDbType.Text, NpgsqlTypes.NpgsqlDbType.Double],
            cmd.Parameters.Select(p => p.NpgsqlDbType).ToArray());
    }

    [Fact]
    public async Task Untyped_parameters_in_arithmetic_take_the_type_of_the_other_operand()
    {
        await using var connection = await OpenAsync();
        await ExecAsync(connection, $"INSERT INTO {Table} (id, timestamp, level, duration) VALUES ('untyped-1', TIMESTAMPTZ '2026-12-06 10:00:00+00', 'INFO', 40)");
        // NpgsqlDbType.Unknown: sent as text with OID 0, as node-postgres sends every parameter.
        static NpgsqlParameter Untyped(string text) => new() { Value = text, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Unknown };
        await using (var tx = await connection.BeginTransactionAsync())
        {
            await using var update = new NpgsqlCommand($"UPDATE {Table} SET duration = duration + $1 WHERE id = $2", connection) { Parameters = { Untyped("2"), Untyped("untyped-1") } };
            Assert.Equal(1, await update.ExecuteNonQueryAsync());
            await tx.CommitAsync();
        }
        await using var select = new NpgsqlCommand($"SELECT duration * $1, duration - $2, $3 % duration FROM {Table} WHERE id = $4", connection)
        {
            Parameters = { Untyped("3"), Untyped(" -0.5 "), Untyped("100"), Untyped("untyped-1") },
        };
        await using var reader = await select.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync());
        Assert.Equal(126m, Convert.ToDecimal(reader.GetValue(0)));
        Assert.Equal(42.5m, Convert.ToDecimal(reader.GetValue(1)));
        Assert.Equal(16m, Convert.ToDecimal(reader.GetValue(2)));
    }
}

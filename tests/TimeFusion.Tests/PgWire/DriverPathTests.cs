using Npgsql;
using NpgsqlTypes;
using TimeFusion.Silo.Security;
using TimeFusion.Tests.Cluster;

namespace TimeFusion.Tests.PgWire;

/// <summary>
/// What drivers other than Npgsql's defaults rely on, driven with Npgsql against the cluster backend: text[] sent as
/// PostgreSQL array text in a text parameter (node-postgres, postgres.js), jsonb described as jsonb, session settings
/// read by <c>current_setting</c>.
/// </summary>
public sealed class DriverPathTests(OneSiloCluster fixture) : IClassFixture<OneSiloCluster>, IAsyncLifetime
{
    private const string Table = "otel_logs_and_spans";
    private ClusterPostgresEndpoint _endpoint = null!;

    public async Task InitializeAsync() =>
        _endpoint = await ClusterPostgresEndpoint.StartAsync(fixture.Client,
            new TimeFusionUser { Name = "drvuser", PasswordOrScramSecret = "drvpw", Projects = ["pg-drv"] });

    public async Task DisposeAsync() => await _endpoint.DisposeAsync();

    private async Task<NpgsqlConnection> OpenAsync(string? applicationName = null)
    {
        var connection = new NpgsqlConnection(
            $"Host=127.0.0.1;Port={_endpoint.Port};Username=drvuser;Password=drvpw;Database=timefusion;Pooling=false;Server Compatibility Mode=NoTypeLoading"
            + (applicationName is null ? "" : $";Application Name={applicationName}"));
        await connection.OpenAsync();
        return connection;
    }

    [Fact]
    public async Task A_text_array_sent_as_text_lands_in_an_array_column_and_reads_back()
    {
        await using var connection = await OpenAsync();
        await using (var insert = new NpgsqlCommand($"INSERT INTO {Table} (id, timestamp, level, hashes) VALUES ($1, $2, 'INFO', $3)", connection))
        {
            insert.Parameters.Add(new NpgsqlParameter { Value = "drv-array-1", NpgsqlDbType = NpgsqlDbType.Text });
            insert.Parameters.Add(new NpgsqlParameter { Value = new DateTime(2026, 12, 6, 10, 0, 0, DateTimeKind.Utc), NpgsqlDbType = NpgsqlDbType.TimestampTz });
            insert.Parameters.Add(new NpgsqlParameter { Value = "{\"x\",\"y z\",NULL,\"NULL\",\"q\\\"uote\"}", NpgsqlDbType = NpgsqlDbType.Text });
            Assert.Equal(1, await insert.ExecuteNonQueryAsync());
        }
        await using (var empty = new NpgsqlCommand($"INSERT INTO {Table} (id, timestamp, level, hashes) VALUES ('drv-array-2', TIMESTAMPTZ '2026-12-06 10:00:01+00', 'INFO', $1)", connection))
        {
            empty.Parameters.Add(new NpgsqlParameter { Value = "{}", NpgsqlDbType = NpgsqlDbType.Text });
            Assert.Equal(1, await empty.ExecuteNonQueryAsync());
        }
        await using var select = new NpgsqlCommand($"SELECT id, hashes FROM {Table} WHERE id LIKE 'drv-array-%' ORDER BY id", connection);
        await using var reader = await select.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync());
        Assert.Equal(["x", "y z", "<null>", "NULL", "q\"uote"], reader.GetFieldValue<string?[]>(1).Select(v => v ?? "<null>"));
        Assert.True(await reader.ReadAsync());
        Assert.Empty(reader.GetFieldValue<string?[]>(1));
    }

    [Fact]
    public async Task A_text_parameter_cast_to_an_array_is_parsed_as_array_text_and_malformed_text_is_22P02()
    {
        await using var connection = await OpenAsync();
        await using (var cmd = new NpgsqlCommand("SELECT $1::text[] AS a", connection))
        {
            cmd.Parameters.Add(new NpgsqlParameter { Value = "{a,\"b,c\"}", NpgsqlDbType = NpgsqlDbType.Text });
            Assert.Equal(["a", "b,c"], ((string?[])(await cmd.ExecuteScalarAsync())!).Select(v => v ?? "<null>"));
        }
        await using (var bad = new NpgsqlCommand("SELECT $1::text[] AS a", connection))
        {
            bad.Parameters.Add(new NpgsqlParameter { Value = "{{a},{b}}", NpgsqlDbType = NpgsqlDbType.Text });
            var e = await Assert.ThrowsAsync<PostgresException>(() => bad.ExecuteScalarAsync());
            Assert.Equal("22P02", e.SqlState);
        }
    }

    [Fact]
    public async Task Json_columns_and_jsonb_casts_are_described_as_jsonb()
    {
        await using var connection = await OpenAsync();
        await using (var insert = new NpgsqlCommand($"INSERT INTO {Table} (id, timestamp, level, attributes) VALUES ('drv-json-1', TIMESTAMPTZ '2026-12-06 10:00:00+00', 'INFO', '{{\"k\":1}}')", connection))
            await insert.ExecuteNonQueryAsync();
        await using var select = new NpgsqlCommand($"SELECT id, attributes, '{{}}'::jsonb AS empty_doc, '{{}}'::jsonb FROM {Table} WHERE id = 'drv-json-1'", connection);
        await using var reader = await select.ExecuteReaderAsync();
        Assert.Equal("text", reader.GetDataTypeName(0));
        Assert.Equal("jsonb", reader.GetDataTypeName(1));
        Assert.Equal("jsonb", reader.GetDataTypeName(2));
        Assert.Equal("jsonb", reader.GetDataTypeName(3) + (reader.GetDataTypeName(3) == "jsonb" ? "" : " named " + reader.GetName(3)));
        Assert.True(await reader.ReadAsync());
        Assert.Contains("\"k\"", reader.GetString(1));
        Assert.Equal("{}", reader.GetString(2));
    }

    [Fact]
    public async Task Json_results_are_typed_by_the_statement_not_by_their_names()
    {
        await using var connection = await OpenAsync();
        await using (var insert = new NpgsqlCommand($"INSERT INTO {Table} (id, timestamp, level, attributes) VALUES ('drv-json-2', TIMESTAMPTZ '2026-12-06 11:00:00+00', 'INFO', '{{\"k\":{{\"n\":2}}}}')", connection))
            await insert.ExecuteNonQueryAsync();
        // As PostgreSQL types them: an alias of a jsonb column and -> are jsonb; ->> is text; a text column aliased to a
        // JSON column's name stays text; a subquery carries the type through.
        const string sql = $"SELECT attributes AS a, attributes->'k' AS y, attributes->>'k' AS t, id AS attributes, s.j FROM {Table}, "
            + "(SELECT '[1]'::jsonb AS j) s WHERE id = 'drv-json-2'";
        string[] expected = ["jsonb", "jsonb", "text", "text", "jsonb"];
        // Described before execution (Parse/Describe), and as executed.
        await using (var prepared = new NpgsqlCommand(sql, connection))
        {
            await prepared.PrepareAsync();
            await using var described = await prepared.ExecuteReaderAsync(System.Data.CommandBehavior.SchemaOnly);
            Assert.Equal(expected, Enumerable.Range(0, described.FieldCount).Select(described.GetDataTypeName));
        }
        await using var select = new NpgsqlCommand(sql, connection);
        await using var reader = await select.ExecuteReaderAsync();
        Assert.Equal(expected, Enumerable.Range(0, reader.FieldCount).Select(reader.GetDataTypeName));
        Assert.True(await reader.ReadAsync());
        Assert.Equal("{\"n\":2}", reader.GetString(1));
        Assert.Equal("drv-json-2", reader.GetString(3));
    }

    [Fact]
    public async Task Current_setting_reads_the_connections_application_name_and_time_zone()
    {
        await using var connection = await OpenAsync("drv-app");
        await using (var cmd = new NpgsqlCommand("SELECT current_setting('application_name')", connection))
            Assert.Equal("drv-app", await cmd.ExecuteScalarAsync());
        await using (var set = new NpgsqlCommand("SET application_name = 'renamed'; SET TimeZone = 'Europe/Berlin'", connection))
            await set.ExecuteNonQueryAsync();
        await using (var cmd = new NpgsqlCommand("SELECT pg_catalog.current_setting('application_name') || '/' || current_setting('TimeZone')", connection))
            Assert.Equal("renamed/Europe/Berlin", await cmd.ExecuteScalarAsync());
    }

    [Fact]
    public async Task Pg_settings_has_max_index_keys_which_pgjdbc_reads_for_imported_keys()
    {
        await using var connection = await OpenAsync();
        await using var cmd = new NpgsqlCommand("SELECT setting FROM pg_catalog.pg_settings WHERE name='max_index_keys'", connection);
        Assert.Equal("32", await cmd.ExecuteScalarAsync());
    }
}

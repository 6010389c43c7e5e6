using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Npgsql;
using TimeFusion.Silo.Backend;
using TimeFusion.Silo.Backend.Catalog;
using TimeFusion.Silo.Protocol.Postgres;
using TimeFusion.Silo.Security;

namespace TimeFusion.Tests.Cluster;

/// <summary>Npgsql against the PostgreSQL endpoint backed by a real silo: SQL reaches the grains and comes back.</summary>
public sealed class PostgresEndToEndTests(OneSiloCluster fixture) : IClassFixture<OneSiloCluster>, IAsyncLifetime
{
    private readonly PgCatalogDatabase _catalog = new();
    private PostgresServer _server = null!;

    public async Task InitializeAsync()
    {
        var users = new UserDirectory(Options.Create(new TimeFusionUsersOptions
        {
            Users =
            [
                new TimeFusionUser { Name = "alice", PasswordOrScramSecret = "s3cret", Projects = ["pg-alice"] },
                new TimeFusionUser { Name = "root", PasswordOrScramSecret = "rootpw", IsAdmin = true, Projects = ["pg-alice"] },
                new TimeFusionUser { Name = "bob", PasswordOrScramSecret = "b0b", Projects = ["pg-bob"] },
            ],
        }));
        _server = new PostgresServer(new ClusterPostgresBackend(fixture.Client, users, _catalog, new TimeFusion.Grains.StatementCancellations(),
            new TimeFusion.Grains.StatementAdmission(Microsoft.Extensions.Options.Options.Create(new TimeFusion.Query.Execution.ExecutionOptions()))),
            Options.Create(new PostgresServerOptions { Port = 0 }), NullLogger<PostgresServer>.Instance);
        await _server.StartAsync(CancellationToken.None);
    }

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        _catalog.Dispose();
    }

    private NpgsqlDataSource Connect(string user, string password)
    {
        var builder = new NpgsqlDataSourceBuilder($"Host=127.0.0.1;Port={_server.LocalEndPoint!.Port};Username={user};Password={password};Database=timefusion");
        builder.ConfigureTypeLoading(t => t.EnableTypeLoading(false));
        return builder.Build();
    }

    [Theory]
    [InlineData("ATTACH ':memory:' AS pg_class")]
    [InlineData("DROP VIEW pg_tables")]
    [InlineData("ALTER TABLE pg_class RENAME TO pg_gone")]
    [InlineData("SELECT 1 FROM pg_class; DROP VIEW pg_tables")]
    public async Task The_catalog_is_read_only_to_users(string statement)
    {
        await using var ds = Connect("alice", "s3cret");
        await using var conn = await ds.OpenConnectionAsync();
        await using (var cmd = new NpgsqlCommand(statement, conn))
            Assert.Equal("42501", (await Assert.ThrowsAsync<PostgresException>(() => cmd.ExecuteNonQueryAsync())).SqlState);
        // Every catalog relation is still there for everyone.
        await using var other = await Connect("bob", "b0b").OpenConnectionAsync();
        await using var check = new NpgsqlCommand("SELECT count(*) FROM pg_catalog.pg_class c JOIN pg_catalog.pg_tables t ON t.tablename = c.relname WHERE c.relname = 'otel_logs_and_spans'", other);
        Assert.Equal(1L, Convert.ToInt64(await check.ExecuteScalarAsync()));
    }

    [Fact]
    public async Task Text_with_a_nul_character_is_refused_as_postgresql_refuses_it()
    {
        await using var ds = Connect("alice", "s3cret");
        await using var conn = await ds.OpenConnectionAsync();
        await using var insert = new NpgsqlCommand("INSERT INTO otel_logs_and_spans (id, timestamp, level) VALUES ($1, TIMESTAMPTZ '2026-11-24 10:00:00+00', 'INFO')", conn)
        {
            Parameters = { new() { Value = "nul\0inside" } },
        };
        var e = await Assert.ThrowsAsync<PostgresException>(() => insert.ExecuteNonQueryAsync());
        Assert.Equal("22021", e.SqlState);
        await using var count = new NpgsqlCommand("SELECT count(*) FROM otel_logs_and_spans WHERE id LIKE 'nul%'", conn);
        Assert.Equal(0L, Convert.ToInt64(await count.ExecuteScalarAsync()));
    }

    [Fact]
    public async Task A_negative_parameter_after_a_minus_cannot_comment_out_the_rest_of_the_statement()
    {
        // The CVE-2024-1597 class: pasting -5 after "1-" would make "1--5", a comment swallowing the second column.
        await using var ds = Connect("alice", "s3cret");
        await using var conn = await ds.OpenConnectionAsync();
        await using var cmd = new NpgsqlCommand("SELECT 1-$1 AS v, 'visible' AS w", conn) { Parameters = { new() { Value = -5L } } };
        await using var reader = await cmd.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync());
        Assert.Equal(2, reader.FieldCount);
        Assert.Equal(6L, Convert.ToInt64(reader.GetValue(0)));
        Assert.Equal("visible", reader.GetString(1));
    }

    [Fact]
    public async Task Npgsql_writes_with_insert_and_copy_and_reads_with_select_through_the_cluster()
    {
        await using var ds = Connect("alice", "s3cret");
        await using var conn = await ds.OpenConnectionAsync();
        await using (var insert = new NpgsqlCommand(
            "INSERT INTO otel_logs_and_spans (id, timestamp, level) VALUES ('a', TIMESTAMPTZ '2026-11-24 10:00:00+00', 'INFO'), ('b', TIMESTAMPTZ '2026-11-24 10:00:01+00', 'ERROR')", conn))
            Assert.Equal(2, await insert.ExecuteNonQueryAsync());

        await using (var copy = await conn.BeginTextImportAsync("COPY otel_logs_and_spans (id, timestamp, level) FROM STDIN"))
        {
            for (var i = 0; i < 100; i++) await copy.WriteLineAsync($"c{i}\t2026-11-24 11:00:{i % 60:00}+00\tWARN");
        }

        await using (var count = new NpgsqlCommand("SELECT level, count(*) AS n FROM otel_logs_and_spans GROUP BY level ORDER BY level", conn))
        await using (var reader = await count.ExecuteReaderAsync())
        {
            var rows = new List<(string, long)>();
            while (await reader.ReadAsync()) rows.Add((reader.GetString(0), reader.GetInt64(1)));
            Assert.Equal([("ERROR", 1L), ("INFO", 1L), ("WARN", 100L)], rows);
        }

        var e = await Assert.ThrowsAsync<PostgresException>(async () =>
        {
            await using var bad = new NpgsqlCommand("SELECT * FROM no_such_table", conn);
            await bad.ExecuteScalarAsync();
        });
        Assert.Equal("42P01", e.SqlState);
        var denied = await Assert.ThrowsAsync<PostgresException>(async () =>
        {
            await using var other = new NpgsqlCommand("SELECT count(*) FROM otel_logs_and_spans WHERE project_id = 'someone-else'", conn);
            await other.ExecuteScalarAsync();
        });
        Assert.Equal("42501", denied.SqlState);
        // The connection is still usable after errors.
        await using var again = new NpgsqlCommand("SELECT count(*) FROM otel_logs_and_spans", conn);
        Assert.Equal(102L, await again.ExecuteScalarAsync());
    }

    [Fact]
    public async Task Bound_parameters_of_several_types_reach_the_cluster_as_literals()
    {
        await using var ds = Connect("alice", "s3cret");
        await using var conn = await ds.OpenConnectionAsync();
        await using (var insert = new NpgsqlCommand(
            "INSERT INTO otel_logs_and_spans (id, timestamp, level, duration, hashes) VALUES ($1, $2, $3, $4, $5)", conn))
        {
            insert.Parameters.AddWithValue("it's $1 -- not a param");
            insert.Parameters.AddWithValue(new DateTime(2026, 11, 24, 12, 0, 0, DateTimeKind.Utc));
            insert.Parameters.AddWithValue("DEBUG");
            insert.Parameters.AddWithValue(42L);
            insert.Parameters.AddWithValue(new[] { "h1", "h'2" });
            Assert.Equal(1, await insert.ExecuteNonQueryAsync());
        }
        await using var query = new NpgsqlCommand("SELECT id, duration, hashes FROM otel_logs_and_spans WHERE level = $1 AND duration > $2", conn);
        query.Parameters.AddWithValue("DEBUG");
        query.Parameters.AddWithValue(41);
        await using var reader = await query.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync());
        Assert.Equal("it's $1 -- not a param", reader.GetString(0));
        Assert.Equal(42L, reader.GetInt64(1));
        Assert.Equal(["h1", "h'2"], reader.GetFieldValue<string[]>(2));
        Assert.False(await reader.ReadAsync());
    }

    [Fact]
    public async Task Version_and_current_database_answer_like_postgresql_naming_timefusion()
    {
        await using var ds = Connect("alice", "s3cret");
        await using var conn = await ds.OpenConnectionAsync();
        await using var cmd = new NpgsqlCommand("SELECT version(), current_database()", conn);
        await using var reader = await cmd.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync());
        Assert.StartsWith("PostgreSQL 15", reader.GetString(0));
        Assert.Contains("TimeFusion", reader.GetString(0));
        Assert.Equal("timefusion", reader.GetString(1));
    }

    [Fact]
    public async Task Npgsql_with_type_loading_browses_the_catalog_and_reads_postgresql_names_and_types()
    {
        // Type loading on (Npgsql's default): its pg_type query is answered by the catalog database.
        await using var ds = NpgsqlDataSource.Create($"Host=127.0.0.1;Port={_server.LocalEndPoint!.Port};Username=bob;Password=b0b;Database=timefusion");
        await using var conn = await ds.OpenConnectionAsync();
        await using (var insert = new NpgsqlCommand(
            "INSERT INTO otel_logs_and_spans (id, timestamp, level, duration) VALUES ('typed-1', TIMESTAMPTZ '2026-11-24 09:00:00+00', 'INFO', 10), ('typed-2', TIMESTAMPTZ '2026-11-24 09:00:01+00', 'INFO', 30)", conn))
            Assert.Equal(2, await insert.ExecuteNonQueryAsync());
        // Reads inside the block see the committed rows above.
        await using var tx = await conn.BeginTransactionAsync(); // BEGIN TRANSACTION ISOLATION LEVEL READ COMMITTED

        var tables = new List<string>();
        await using (var cmd = new NpgsqlCommand("SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1", conn))
        await using (var reader = await cmd.ExecuteReaderAsync())
            while (await reader.ReadAsync()) tables.Add(reader.GetString(0));
        Assert.Contains("otel_logs_and_spans", tables);

        // What Grafana asks to offer time columns.
        var timeColumns = new List<(string, string)>();
        await using (var cmd = new NpgsqlCommand(
            "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = $1 AND data_type LIKE 'timestamp%' ORDER BY ordinal_position", conn))
        {
            cmd.Parameters.AddWithValue("otel_logs_and_spans");
            await using var reader = await cmd.ExecuteReaderAsync();
            while (await reader.ReadAsync()) timeColumns.Add((reader.GetString(0), reader.GetString(1)));
        }
        Assert.Equal(("timestamp", "timestamp with time zone"), timeColumns[0]);
        Assert.Contains(("end_time", "timestamp with time zone"), timeColumns);

        await using (var cmd = new NpgsqlCommand(
            "SELECT count(*), max(duration), percentile_cont(0.5) WITHIN GROUP (ORDER BY duration), '{\"a\":1}'::jsonb ->> 'a', ARRAY['x', 'y'] FROM otel_logs_and_spans WHERE id LIKE 'typed-%'", conn))
        await using (var reader = await cmd.ExecuteReaderAsync())
        {
            Assert.Equal(["count", "max", "percentile_cont", "?column?", "array"], Enumerable.Range(0, reader.FieldCount).Select(reader.GetName));
            Assert.True(await reader.ReadAsync());
            Assert.Equal(2L, reader.GetInt64(0));
            Assert.Equal(30L, reader.GetInt64(1));
            Assert.Equal(20.0, reader.GetDouble(2));
            Assert.Equal("1", reader.GetString(3));
            Assert.Equal(["x", "y"], reader.GetFieldValue<string[]>(4));
        }
        await tx.CommitAsync();
    }

    [Fact]
    public async Task An_admin_reads_every_project_and_a_user_only_its_own_as_with_row_level_security()
    {
        await using var root = Connect("root", "rootpw");
        await using (var cmd = root.CreateCommand(
            "CREATE TABLE rls_metrics (project_id TEXT NOT NULL, timestamp TIMESTAMPTZ NOT NULL, name TEXT, value DOUBLE PRECISION)"))
            await cmd.ExecuteNonQueryAsync();
        // Three rows into the admin's default project (no project_id), one into pg-bob's: the admin sees all four.
        await using (var cmd = root.CreateCommand("INSERT INTO rls_metrics (timestamp, name, value) VALUES (now(), 'a', 1), (now(), 'b', 2), (now(), 'c', 3)"))
            Assert.Equal(3, await cmd.ExecuteNonQueryAsync());
        await using (var cmd = root.CreateCommand("INSERT INTO rls_metrics (project_id, timestamp, name, value) VALUES ('pg-bob', now(), 'd', 4)"))
            Assert.Equal(1, await cmd.ExecuteNonQueryAsync());
        await using (var cmd = root.CreateCommand("SELECT count(*) FROM rls_metrics"))
            Assert.Equal(4L, await cmd.ExecuteScalarAsync());
        var perProject = new List<(string, long)>();
        await using (var cmd = root.CreateCommand("SELECT project_id, count(*) FROM rls_metrics GROUP BY project_id ORDER BY project_id"))
        await using (var reader = await cmd.ExecuteReaderAsync())
            while (await reader.ReadAsync()) perProject.Add((reader.GetString(0), reader.GetInt64(1)));
        Assert.Equal([("pg-alice", 3L), ("pg-bob", 1L)], perProject);
        // bob sees his one row, by any route; alice her three.
        await using var bob = Connect("bob", "b0b");
        foreach (var sql in new[] { "SELECT count(*) FROM rls_metrics", "SELECT count(*) FROM rls_metrics WHERE project_id = 'pg-alice' OR value > 0",
                     "SELECT count(*) FROM (SELECT * FROM rls_metrics UNION ALL SELECT * FROM rls_metrics WHERE NOT project_id = 'pg-bob') u" })
        {
            await using var cmd = bob.CreateCommand(sql);
            Assert.Equal(1L, await cmd.ExecuteScalarAsync());
        }
        await using var alice = Connect("alice", "s3cret");
        await using (var cmd = alice.CreateCommand("SELECT sum(value) FROM rls_metrics"))
            Assert.Equal(6.0, await cmd.ExecuteScalarAsync());
        // DELETE without a project predicate is every row the caller may write, and no other.
        await using (var cmd = bob.CreateCommand("DELETE FROM rls_metrics"))
            Assert.Equal(1, await cmd.ExecuteNonQueryAsync());
        await using (var cmd = root.CreateCommand("SELECT count(*) FROM rls_metrics"))
            Assert.Equal(3L, await cmd.ExecuteScalarAsync());
    }

    [Fact]
    public async Task A_wrong_password_is_refused_with_28P01()
    {
        await using var ds = Connect("alice", "wrong");
        var e = await Assert.ThrowsAsync<PostgresException>(async () => await ds.OpenConnectionAsync());
        Assert.Equal("28P01", e.SqlState);
    }
}

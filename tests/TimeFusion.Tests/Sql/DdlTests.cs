using Npgsql;

namespace TimeFusion.Tests.Sql;

/// <summary>DROP TABLE, TRUNCATE, CREATE TABLE (IF NOT EXISTS, declared column order) and the refused ALTERs, over Npgsql.</summary>
[Collection(SqlSurfaceCollection.Name)]
public sealed class DdlTests(SqlSurfaceFixture fixture)
{
    private async Task<long> CountAsync(string table, string user = SqlSurfaceFixture.Admin, string password = SqlSurfaceFixture.AdminPassword) =>
        Convert.ToInt64(await fixture.ScalarAsync($"SELECT count(*) FROM {table}", user, password));

    [Fact]
    public async Task Drop_then_recreate_with_the_same_name_reads_none_of_the_old_rows()
    {
        await fixture.ExecuteAsync("CREATE TABLE ddl_drop (project_id text, timestamp timestamptz, msg text)");
        await fixture.ExecuteAsync("INSERT INTO ddl_drop VALUES ('alice', '2024-01-01 10:00:00+00', 'flushed'), ('bob', '2024-01-02 10:00:00+00', 'flushed')");
        await fixture.ExecuteAsync("FLUSH ddl_drop");
        await fixture.ExecuteAsync("INSERT INTO ddl_drop VALUES ('alice', '2024-01-03 10:00:00+00', 'buffered')");
        Assert.Equal(3, await CountAsync("ddl_drop"));

        Assert.Equal("42501", await fixture.SqlStateOfAsync("DROP TABLE ddl_drop", SqlSurfaceFixture.Alice, SqlSurfaceFixture.AlicePassword));
        Assert.Equal(3, await CountAsync("ddl_drop"));

        await fixture.ExecuteAsync("DROP TABLE ddl_drop");
        Assert.Equal("42P01", await fixture.SqlStateOfAsync("SELECT count(*) FROM ddl_drop"));
        Assert.Equal("42P01", await fixture.SqlStateOfAsync("DROP TABLE ddl_drop"));
        await fixture.ExecuteAsync("DROP TABLE IF EXISTS ddl_drop");

        // Same name, other columns: nothing of the old table's WAL, buffer or Delta files is read.
        await fixture.ExecuteAsync("CREATE TABLE ddl_drop (project_id text, timestamp timestamptz, n bigint)");
        Assert.Equal(0, await CountAsync("ddl_drop"));
        await fixture.ExecuteAsync("INSERT INTO ddl_drop VALUES ('alice', '2024-01-01 11:00:00+00', 7)");
        Assert.Equal(1, await CountAsync("ddl_drop"));
        Assert.Equal(7L, Convert.ToInt64(await fixture.ScalarAsync("SELECT sum(n) FROM ddl_drop")));
        await fixture.ExecuteAsync("FLUSH ddl_drop");
        Assert.Equal(1, await CountAsync("ddl_drop"));
    }

    [Fact]
    public async Task Built_in_tables_cannot_be_dropped()
    {
        Assert.Equal("42501", await fixture.SqlStateOfAsync("DROP TABLE otel_logs_and_spans"));
        Assert.Equal("0A000", await fixture.SqlStateOfAsync("DROP VIEW v"));
    }

    [Fact]
    public async Task Truncate_empties_only_the_callers_projects()
    {
        await fixture.ExecuteAsync("CREATE TABLE ddl_trunc (project_id text, timestamp timestamptz, msg text)");
        await fixture.ExecuteAsync("INSERT INTO ddl_trunc VALUES ('alice', '2024-01-01 10:00:00+00', 'a1'), ('bob', '2024-01-01 10:00:00+00', 'b1')");
        await fixture.ExecuteAsync("FLUSH ddl_trunc");
        await fixture.ExecuteAsync("INSERT INTO ddl_trunc VALUES ('alice', '2024-01-02 10:00:00+00', 'a2'), ('bob', '2024-01-02 10:00:00+00', 'b2')");

        await fixture.ExecuteAsync("TRUNCATE ddl_trunc", SqlSurfaceFixture.Alice, SqlSurfaceFixture.AlicePassword);
        Assert.Equal(0, await CountAsync("ddl_trunc", SqlSurfaceFixture.Alice, SqlSurfaceFixture.AlicePassword));
        Assert.Equal(2, await CountAsync("ddl_trunc", SqlSurfaceFixture.Bob, SqlSurfaceFixture.BobPassword));
        Assert.Equal(2, await CountAsync("ddl_trunc"));

        // Still empty after a flush: the Delta files were removed, not only hidden in the buffer.
        await fixture.ExecuteAsync("FLUSH ddl_trunc");
        Assert.Equal(0, Convert.ToInt64(await fixture.ScalarAsync("SELECT count(*) FROM ddl_trunc WHERE project_id = 'alice'")));

        await fixture.ExecuteAsync("TRUNCATE TABLE ddl_trunc");
        Assert.Equal(0, await CountAsync("ddl_trunc"));
        Assert.Equal("42P01", await fixture.SqlStateOfAsync("TRUNCATE no_such_table"));
    }

    [Fact]
    public async Task Create_table_keeps_the_declared_column_order_and_positional_inserts_skip_the_date_column()
    {
        await fixture.ExecuteAsync("CREATE TABLE ddl_metrics (project_id text, timestamp timestamptz, name text, value float8)");
        Assert.Equal(1, await fixture.ExecuteAsync("INSERT INTO ddl_metrics VALUES ('default', now(), 'x', 1)"));
        Assert.Equal(1.0, await fixture.ScalarAsync("SELECT value FROM ddl_metrics WHERE name = 'x'"));

        await using var connection = await fixture.OpenAsync();
        await using var columns = new NpgsqlCommand(
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'ddl_metrics' ORDER BY ordinal_position", connection);
        var names = new List<string>();
        await using (var reader = await columns.ExecuteReaderAsync())
            while (await reader.ReadAsync()) names.Add(reader.GetString(0));
        // The declared columns in order (numbered as PostgreSQL numbers them), then the documented system column date
        // (the partition, derived from timestamp), as SELECT * shows them.
        Assert.Equal(["project_id", "timestamp", "name", "value", "date"], names);
    }

    [Fact]
    public async Task Create_table_if_not_exists_and_duplicates()
    {
        await fixture.ExecuteAsync("CREATE TABLE ddl_dup (project_id text, timestamp timestamptz, a text)");
        await fixture.ExecuteAsync("CREATE TABLE IF NOT EXISTS ddl_dup (b bigint)");
        Assert.Equal("42P07", await fixture.SqlStateOfAsync("CREATE TABLE ddl_dup (b bigint)"));
        Assert.Equal("42501", await fixture.SqlStateOfAsync("CREATE TABLE ddl_dup2 (b bigint)", SqlSurfaceFixture.Alice, SqlSurfaceFixture.AlicePassword));
        Assert.Equal("42704", await fixture.SqlStateOfAsync("CREATE TABLE ddl_bad (b no_such_type)"));
        await fixture.ExecuteAsync("CREATE TABLE ddl_json (project_id text, timestamp timestamptz, attributes jsonb)");
    }

    [Theory]
    [InlineData("ALTER TABLE ddl_alter RENAME TO ddl_other", "RENAME")]
    [InlineData("ALTER TABLE ddl_alter RENAME COLUMN a TO b", "RENAME")]
    [InlineData("ALTER TABLE ddl_alter DROP COLUMN a", "DROP COLUMN")]
    [InlineData("ALTER TABLE ddl_alter ALTER COLUMN a TYPE bigint", "ALTER COLUMN")]
    [InlineData("ALTER TABLE ddl_alter ADD COLUMN c text NOT NULL", "NOT NULL")]
    [InlineData("ALTER TABLE ddl_alter ADD COLUMN c text DEFAULT 'x'", "DEFAULT")]
    public async Task Unsupported_alters_are_refused_naming_the_construct(string sql, string construct)
    {
        await fixture.ExecuteAsync("CREATE TABLE IF NOT EXISTS ddl_alter (project_id text, timestamp timestamptz, a text)");
        var e = await Assert.ThrowsAsync<PostgresException>(() => fixture.ExecuteAsync(sql));
        Assert.Equal("0A000", e.SqlState);
        Assert.Contains(construct, e.MessageText);
    }
}

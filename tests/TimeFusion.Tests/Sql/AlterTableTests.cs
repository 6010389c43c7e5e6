using Npgsql;
using TimeFusion.Tests.Protocol.Postgres;

namespace TimeFusion.Tests.Sql;

/// <summary>
/// ALTER TABLE … ADD COLUMN over Npgsql and psql against a real silo: rows in Delta files, in the buffer and only in
/// the WAL all read the new column as NULL, through a silo kill and restart and a flush; and its errors.
/// </summary>
[Collection(SqlSurfaceCollection.Name)]
public sealed class AlterTableTests(SqlSurfaceFixture fixture)
{
    private async Task<List<string>> RowsAsync(string sql)
    {
        await using var connection = await fixture.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new List<string>();
        while (await reader.ReadAsync())
            rows.Add(string.Join("|", Enumerable.Range(0, reader.FieldCount).Select(i => reader.IsDBNull(i) ? "NULL" : Convert.ToString(reader.GetValue(i), System.Globalization.CultureInfo.InvariantCulture))));
        return rows;
    }

    [Fact]
    public async Task Add_column_keeps_flushed_buffered_and_logged_rows_which_read_it_as_null_through_a_restart_and_a_flush()
    {
        await fixture.ExecuteAsync("CREATE TABLE alt_add (project_id text, timestamp timestamptz, msg text)");
        await fixture.ExecuteAsync("INSERT INTO alt_add VALUES ('alice', '2024-01-01 10:00:00+00', 'flushed-a'), ('default', '2024-01-01 11:00:00+00', 'flushed-d')");
        await fixture.ExecuteAsync("FLUSH alt_add");
        // Buffered, and in the WAL only (never flushed): the kill below leaves them to WAL replay.
        await fixture.ExecuteAsync("INSERT INTO alt_add VALUES ('alice', '2024-01-02 10:00:00+00', 'buffered-a'), ('default', '2024-01-02 11:00:00+00', 'buffered-d')");

        await fixture.ExecuteAsync("ALTER TABLE alt_add ADD COLUMN n bigint");
        await fixture.ExecuteAsync("ALTER TABLE alt_add ADD COLUMN IF NOT EXISTS n bigint");
        await fixture.ExecuteAsync("ALTER TABLE alt_add ADD label text NULL");
        await fixture.ExecuteAsync("INSERT INTO alt_add (project_id, timestamp, msg, n, label) VALUES ('alice', '2024-01-03 10:00:00+00', 'new-a', 5, 'x'), ('default', '2024-01-03 11:00:00+00', 'new-d', 7, NULL)");
        await fixture.ExecuteAsync("INSERT INTO alt_add VALUES ('alice', '2024-01-03 12:00:00+00', 'positional', 9, 'y')");

        string[] expected =
        [
            "flushed-a|NULL|NULL", "flushed-d|NULL|NULL", "buffered-a|NULL|NULL", "buffered-d|NULL|NULL",
            "new-a|5|x", "new-d|7|NULL", "positional|9|y",
        ];
        const string all = "SELECT msg, n, label FROM alt_add ORDER BY timestamp";
        Assert.Equal(expected, await RowsAsync(all));
        Assert.Equal(["new-a|5", "positional|9"], await RowsAsync("SELECT msg, n FROM alt_add WHERE project_id = 'alice' AND n IS NOT NULL ORDER BY timestamp"));
        Assert.Equal(21L, Convert.ToInt64(await fixture.ScalarAsync("SELECT sum(n) FROM alt_add")));

        // Killed: nothing was flushed since the first FLUSH, so every later row comes back from the WAL, under the new schema.
        await fixture.Silo.KillAsync();
        await fixture.Silo.StartAsync();
        Assert.Equal(expected, await RowsAsync(all));

        // Flushed: files written before and after the column are read together (old ones read it as NULL).
        await fixture.ExecuteAsync("FLUSH alt_add");
        Assert.Equal(expected, await RowsAsync(all));
        Assert.Equal(["new-d|7"], await RowsAsync("SELECT msg, n FROM alt_add WHERE n = 7"));

        // DML rewrites an old file (without the column) and a new one.
        Assert.Equal(2, await fixture.ExecuteAsync("UPDATE alt_add SET n = 1 WHERE msg IN ('flushed-a', 'new-a')"));
        Assert.Equal(["flushed-a|1", "new-a|1"], await RowsAsync("SELECT msg, n FROM alt_add WHERE n = 1 ORDER BY timestamp"));

        // psql's \d shows the added columns, last.
        var d = await PsqlRunner.RunAsync(fixture.Silo.PostgresPort, "timefusion", SqlSurfaceFixture.Admin, SqlSurfaceFixture.AdminPassword, "-c", @"\d alt_add");
        Assert.True(d.ExitCode == 0, d.Stderr);
        var lines = d.Stdout.Split('\n').Select(l => l.Trim()).ToList();
        var msg = lines.FindIndex(l => l.StartsWith("msg ", StringComparison.Ordinal));
        var n = lines.FindIndex(l => l.StartsWith("n ", StringComparison.Ordinal));
        var label = lines.FindIndex(l => l.StartsWith("label ", StringComparison.Ordinal));
        Assert.True(msg >= 0 && n > msg && label > n, d.Stdout);
        Assert.Contains("bigint", lines[n]);
    }

    [Fact]
    public async Task Add_column_errors_are_postgresql_ones()
    {
        await fixture.ExecuteAsync("CREATE TABLE IF NOT EXISTS alt_err (project_id text, timestamp timestamptz, a text)");
        Assert.Equal("42701", await fixture.SqlStateOfAsync("ALTER TABLE alt_err ADD COLUMN a bigint"));
        Assert.Equal("42701", await fixture.SqlStateOfAsync("ALTER TABLE alt_err ADD COLUMN timestamp text"));
        Assert.Equal("42P01", await fixture.SqlStateOfAsync("ALTER TABLE alt_missing ADD COLUMN c text"));
        await fixture.ExecuteAsync("ALTER TABLE IF EXISTS alt_missing ADD COLUMN c text");
        Assert.Equal("42501", await fixture.SqlStateOfAsync("ALTER TABLE alt_err ADD COLUMN c text", SqlSurfaceFixture.Alice, SqlSurfaceFixture.AlicePassword));
        Assert.Equal("42501", await fixture.SqlStateOfAsync("ALTER TABLE otel_logs_and_spans ADD COLUMN c text"));
        Assert.Equal("42704", await fixture.SqlStateOfAsync("ALTER TABLE alt_err ADD COLUMN c no_such_type"));
        var e = await Assert.ThrowsAsync<PostgresException>(() => fixture.ExecuteAsync("ALTER TABLE alt_err ADD COLUMN c text NOT NULL"));
        Assert.Equal("0A000", e.SqlState);
        Assert.Contains("c NOT NULL", e.MessageText);
        // Nothing was half-applied by the refusals.
        Assert.Equal("42703", await fixture.SqlStateOfAsync("SELECT c FROM alt_err"));
    }
}

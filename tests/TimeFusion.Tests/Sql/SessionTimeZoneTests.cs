using Npgsql;

namespace TimeFusion.Tests.Sql;

/// <summary>
/// Statements run in the session <c>TimeZone</c> as in PostgreSQL 15, on the grains and in the gateway's merge alike:
/// timestamptz text (casts, concatenation) in PostgreSQL's format and the session's offset, set by the startup
/// parameter or by SET; literals without an offset read in the zone, with the planner's file pruning agreeing.
/// </summary>
[Collection(SqlSurfaceCollection.Name)]
public sealed class SessionTimeZoneTests(SqlSurfaceFixture fixture)
{
    private static async Task<List<string>> RowsAsync(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new List<string>();
        while (await reader.ReadAsync())
            rows.Add(string.Join("|", Enumerable.Range(0, reader.FieldCount).Select(i => reader.IsDBNull(i) ? "NULL" : reader.GetValue(i).ToString())));
        return rows;
    }

    private async Task CreateAsync(string table)
    {
        await fixture.ExecuteAsync($"CREATE TABLE {table} (project_id text NOT NULL, timestamp timestamptz NOT NULL, msg text)");
        // Two projects (the admin's statements fan out and merge) and two days: the first day is flushed to its own file.
        await fixture.ExecuteAsync($"INSERT INTO {table} VALUES ('default', '2024-01-01 23:30:00+00', 'late'), ('alice', '2024-01-01 12:00:00+00', 'noon')");
        await fixture.ExecuteAsync($"FLUSH {table}");
        await fixture.ExecuteAsync($"INSERT INTO {table} VALUES ('default', '2024-01-02 03:04:05.123456+00', 'winter'), ('alice', '2024-07-01 00:00:00.5+00', 'summer')");
    }

    [Fact]
    public async Task Timestamptz_text_follows_the_startup_time_zone_on_one_grain_and_across_grains()
    {
        await CreateAsync("tz_text");
        await using var connection = await fixture.Silo.OpenAsync(SqlSurfaceFixture.Admin, SqlSurfaceFixture.AdminPassword, b => b.Timezone = "Europe/Paris");
        Assert.Equal(["Europe/Paris"], await RowsAsync(connection, "SHOW TimeZone"));
        // One grain, its rows streamed from it.
        Assert.Equal(["2024-01-02 00:30:00+01|late at 2024-01-02 00:30:00+01", "2024-01-02 04:04:05.123456+01|winter at 2024-01-02 04:04:05.123456+01"],
            await RowsAsync(connection, "SELECT timestamp::text, msg || ' at ' || timestamp FROM tz_text WHERE project_id = 'default' ORDER BY timestamp"));
        // Every project: rows shipped to the gateway, cast there; and partial aggregates merged there.
        Assert.Equal(["2024-01-01 13:00:00+01", "2024-01-02 00:30:00+01", "2024-01-02 04:04:05.123456+01", "2024-07-01 02:00:00.5+02"],
            await RowsAsync(connection, "SELECT CAST(timestamp AS varchar) FROM tz_text ORDER BY timestamp"));
        Assert.Equal(["2024-01-01 13:00:00+01|2024-07-01 02:00:00.5+02"], await RowsAsync(connection, "SELECT min(timestamp)::text, max(timestamp)::text FROM tz_text"));
    }

    [Fact]
    public async Task Set_time_zone_changes_the_text_and_how_literals_without_an_offset_are_read_and_pruned()
    {
        await CreateAsync("tz_bounds");
        await using var connection = await fixture.OpenAsync();
        // In UTC, 00:15 on 2 January excludes the flushed file of 1 January.
        Assert.Equal(["winter", "summer"], await RowsAsync(connection, "SELECT msg FROM tz_bounds WHERE timestamp >= '2024-01-02 00:15' ORDER BY timestamp"));
        await using (var set = new NpgsqlCommand("SET TIME ZONE 'Europe/Paris'", connection)) await set.ExecuteNonQueryAsync();
        // In Paris it is 23:15 UTC on 1 January: the flushed file's 23:30 row is read, not pruned.
        Assert.Equal(["late|2024-01-02 00:30:00+01", "winter|2024-01-02 04:04:05.123456+01", "summer|2024-07-01 02:00:00.5+02"],
            await RowsAsync(connection, "SELECT msg, timestamp::text FROM tz_bounds WHERE timestamp >= '2024-01-02 00:15' ORDER BY timestamp"));
        Assert.Equal(["1"], await RowsAsync(connection, "SELECT count(*) FROM tz_bounds WHERE project_id = 'default' AND timestamp < '2024-01-02 01:00'"));
        await using (var set = new NpgsqlCommand("SET TimeZone = 'America/New_York'", connection)) await set.ExecuteNonQueryAsync();
        Assert.Equal(["2024-01-01 18:30:00-05"], await RowsAsync(connection, "SELECT timestamp::text FROM tz_bounds WHERE msg = 'late'"));
        await using (var reset = new NpgsqlCommand("RESET TimeZone", connection)) await reset.ExecuteNonQueryAsync();
        Assert.Equal(["2024-01-01 23:30:00+00"], await RowsAsync(connection, "SELECT timestamp::text FROM tz_bounds WHERE msg = 'late'"));
    }
}

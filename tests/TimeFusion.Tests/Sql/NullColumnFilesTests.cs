using Npgsql;

namespace TimeFusion.Tests.Sql;

/// <summary>
/// Files without the columns null in all their rows (<c>Buffer:OmitNullColumns</c>, on by default) over the
/// PostgreSQL protocol against a real silo: files of one date holding a column or lacking it, then an
/// <c>ALTER TABLE … ADD COLUMN</c>, an UPDATE and a DELETE rewriting such files, OPTIMIZE merging them, and a kill and
/// restart — every read the same rows, with NULL where a file lacks a column.
/// </summary>
[Collection(SqlSurfaceCollection.Name)]
public sealed class NullColumnFilesTests(SqlSurfaceFixture fixture)
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
    public async Task Files_of_a_date_with_and_without_a_column_read_alike_through_alter_dml_optimize_and_a_restart()
    {
        await fixture.ExecuteAsync("CREATE TABLE nullcols (project_id text, timestamp timestamptz, msg text, a text, b bigint)");
        // Three files of one date: without a and b, with a only, with both.
        await fixture.ExecuteAsync("INSERT INTO nullcols (project_id, timestamp, msg) VALUES ('default', '2024-02-01 10:00:00+00', 'one'), ('default', '2024-02-01 10:01:00+00', 'two')");
        await fixture.ExecuteAsync("FLUSH nullcols");
        await fixture.ExecuteAsync("INSERT INTO nullcols (project_id, timestamp, msg, a) VALUES ('default', '2024-02-01 11:00:00+00', 'three', 'x'), ('default', '2024-02-01 11:01:00+00', 'four', NULL)");
        await fixture.ExecuteAsync("FLUSH nullcols");
        await fixture.ExecuteAsync("INSERT INTO nullcols VALUES ('default', '2024-02-01 12:00:00+00', 'five', 'y', 5)");
        await fixture.ExecuteAsync("FLUSH nullcols");

        const string all = "SELECT msg, a, b FROM nullcols ORDER BY timestamp";
        Assert.Equal(["one|NULL|NULL", "two|NULL|NULL", "three|x|NULL", "four|NULL|NULL", "five|y|5"], await RowsAsync(all));
        Assert.Equal(["one", "two", "four"], await RowsAsync("SELECT msg FROM nullcols WHERE a IS NULL ORDER BY timestamp"));
        Assert.Equal(["three"], await RowsAsync("SELECT msg FROM nullcols WHERE a = 'x'"));
        Assert.Equal(["five|5"], await RowsAsync("SELECT msg, b FROM nullcols WHERE b IS NOT NULL"));
        Assert.Equal(["5|2|1|5"], await RowsAsync("SELECT count(*), count(a), count(b), sum(b) FROM nullcols"));

        // A column added afterwards: no file before holds it; the next flush's file lacks a and b.
        await fixture.ExecuteAsync("ALTER TABLE nullcols ADD COLUMN c double precision");
        await fixture.ExecuteAsync("INSERT INTO nullcols (project_id, timestamp, msg, c) VALUES ('default', '2024-02-01 13:00:00+00', 'six', 1.5)");
        await fixture.ExecuteAsync("FLUSH nullcols");
        const string withC = "SELECT msg, a, b, c FROM nullcols ORDER BY timestamp";
        string[] expected = ["one|NULL|NULL|NULL", "two|NULL|NULL|NULL", "three|x|NULL|NULL", "four|NULL|NULL|NULL", "five|y|5|NULL", "six|NULL|NULL|1.5"];
        Assert.Equal(expected, await RowsAsync(withC));
        Assert.Equal(["six|1.5"], await RowsAsync("SELECT msg, c FROM nullcols WHERE c IS NOT NULL"));

        // UPDATE sets a column the rewritten file lacked; DELETE rewrites another.
        Assert.Equal(1, await fixture.ExecuteAsync("UPDATE nullcols SET b = 7 WHERE msg = 'one'"));
        Assert.Equal(1, await fixture.ExecuteAsync("DELETE FROM nullcols WHERE msg = 'four'"));
        expected = ["one|NULL|7|NULL", "two|NULL|NULL|NULL", "three|x|NULL|NULL", "five|y|5|NULL", "six|NULL|NULL|1.5"];
        Assert.Equal(expected, await RowsAsync(withC));

        // OPTIMIZE merges files with different columns; a kill and restart reads the merged file.
        await fixture.ExecuteAsync("OPTIMIZE nullcols");
        Assert.Equal(expected, await RowsAsync(withC));
        await fixture.Silo.KillAsync();
        await fixture.Silo.StartAsync();
        Assert.Equal(expected, await RowsAsync(withC));
        Assert.Equal(["5|2|2|1|12"], await RowsAsync("SELECT count(*), count(a), count(b), count(c), sum(b) FROM nullcols"));
        Assert.Equal(["two"], await RowsAsync("SELECT msg FROM nullcols WHERE a IS NULL AND b IS NULL AND c IS NULL"));
    }
}

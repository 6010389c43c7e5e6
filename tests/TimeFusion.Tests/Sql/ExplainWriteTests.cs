using Npgsql;

namespace TimeFusion.Tests.Sql;

/// <summary>EXPLAIN of INSERT, UPDATE and DELETE: the grains a write would reach, and nothing written; EXPLAIN ANALYZE of a write refused.</summary>
[Collection(SqlSurfaceCollection.Name)]
public sealed class ExplainWriteTests(SqlSurfaceFixture fixture)
{
    private async Task<List<string>> PlanAsync(string sql)
    {
        await using var connection = await fixture.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await using var reader = await command.ExecuteReaderAsync();
        Assert.Equal("QUERY PLAN", reader.GetName(0));
        var lines = new List<string>();
        while (await reader.ReadAsync()) lines.Add(reader.GetString(0));
        return lines;
    }

    [Fact]
    public async Task Explain_of_a_write_names_the_grains_it_would_reach_and_writes_nothing()
    {
        await fixture.ExecuteAsync("DROP TABLE IF EXISTS explain_w");
        await fixture.ExecuteAsync("CREATE TABLE explain_w (project_id text, timestamp timestamptz, a text)");
        await fixture.ExecuteAsync("INSERT INTO explain_w VALUES ('default', '2024-01-01 00:00:00+00', 'x'), ('other', '2024-01-01 00:00:00+00', 'x')");

        var insert = await PlanAsync("EXPLAIN INSERT INTO explain_w VALUES ('default', now(), 'n1'), ('other', now(), 'n2'), ('other', now(), 'n3')");
        Assert.Equal("Insert on explain_w  (rows=3, grains=2)", insert[0]);
        Assert.StartsWith("  ->  Values  (rows=3", insert[1]);
        Assert.Contains("        Grain: explain_w of project default  (rows=1; one batch, one WAL entry)", insert);
        Assert.Contains("        Grain: explain_w of project other  (rows=2; one batch, one WAL entry)", insert);

        var delete = await PlanAsync("EXPLAIN DELETE FROM explain_w WHERE a = 'x'");
        Assert.Equal("Delete on explain_w  (grains=2)", delete[0]);
        Assert.Contains(delete, l => l.StartsWith("  ->  Table Grains  (projects: ", StringComparison.Ordinal) && l.Contains("default") && l.Contains("other"));
        Assert.Contains(delete, l => l.StartsWith("        Filter: ", StringComparison.Ordinal) && l.Contains("a = 'x'"));

        var update = await PlanAsync("EXPLAIN UPDATE explain_w SET a = 'y' WHERE project_id = 'other'");
        Assert.Equal("Update on explain_w  (grains=1)", update[0]);
        Assert.Contains(update, l => l.Contains("projects: other;") && l.Contains("project_id predicate"));
        Assert.Contains(update, l => l.StartsWith("        Set: a = ", StringComparison.Ordinal) && l.Contains("'y'"));

        // EXPLAIN ANALYZE would execute the write: refused, naming it.
        var e = await Assert.ThrowsAsync<PostgresException>(() => PlanAsync("EXPLAIN ANALYZE DELETE FROM explain_w"));
        Assert.Equal("0A000", e.SqlState);
        Assert.Contains("EXPLAIN ANALYZE of DELETE", e.MessageText);

        // Nothing was written or deleted by any of them.
        Assert.Equal(2L, await fixture.ScalarAsync("SELECT count(*) FROM explain_w WHERE a = 'x'"));
        Assert.Equal(2L, await fixture.ScalarAsync("SELECT count(*) FROM explain_w"));
    }
}

using Npgsql;

namespace TimeFusion.Tests.Sql;

/// <summary>EXPLAIN [ANALYZE] over Npgsql: one text column "QUERY PLAN" naming grains, Delta pruning, buffer rows, the merge.</summary>
[Collection(SqlSurfaceCollection.Name)]
public sealed class ExplainTests(SqlSurfaceFixture fixture)
{
    private async Task<(string Column, List<string> Lines)> ExplainAsync(string sql, string user = SqlSurfaceFixture.Admin, string password = SqlSurfaceFixture.AdminPassword)
    {
        await using var connection = await fixture.OpenAsync(user, password);
        await using var command = new NpgsqlCommand(sql, connection);
        await using var reader = await command.ExecuteReaderAsync();
        var lines = new List<string>();
        while (await reader.ReadAsync()) lines.Add(reader.GetString(0));
        return (reader.GetName(0), lines);
    }

    private async Task SetUpAsync()
    {
        await fixture.ExecuteAsync("CREATE TABLE IF NOT EXISTS explain_t (project_id text, timestamp timestamptz, n bigint)");
        if (Convert.ToInt64(await fixture.ScalarAsync("SELECT count(*) FROM explain_t")) > 0) return;
        // Two dates flushed (two Delta files for alice), then one buffered row each for alice and bob.
        await fixture.ExecuteAsync("INSERT INTO explain_t VALUES ('alice', '2024-01-01 10:00:00+00', 1)");
        await fixture.ExecuteAsync("FLUSH explain_t");
        await fixture.ExecuteAsync("INSERT INTO explain_t VALUES ('alice', '2024-01-05 10:00:00+00', 2)");
        await fixture.ExecuteAsync("FLUSH explain_t");
        await fixture.ExecuteAsync("INSERT INTO explain_t VALUES ('alice', '2024-01-06 10:00:00+00', 3), ('bob', '2024-01-06 10:00:00+00', 4)");
    }

    [Fact]
    public async Task Explain_names_the_grain_the_pruned_files_and_the_buffered_rows()
    {
        await SetUpAsync();
        var (column, lines) = await ExplainAsync("EXPLAIN SELECT n FROM explain_t WHERE project_id = 'alice' AND timestamp >= '2024-01-04'");
        Assert.Equal("QUERY PLAN", column);
        var text = string.Join('\n', lines);
        Assert.Contains("Table Grain alice/explain_t", text);
        Assert.Contains("Delta Files: 1 kept, 1 pruned", text);
        Assert.Contains("Buffer Rows Scanned: 1", text);
        Assert.Contains("DuckDB Plan:", text);
        Assert.DoesNotContain("Actual Rows", text);
    }

    [Fact]
    public async Task Explain_of_an_aggregate_over_projects_shows_the_gateway_merge()
    {
        await SetUpAsync();
        var (_, lines) = await ExplainAsync("EXPLAIN SELECT count(*) FROM explain_t");
        var text = string.Join('\n', lines);
        Assert.Contains("Merge Partial Aggregates", text);
        Assert.Contains("Table Grain alice/explain_t", text);
        Assert.Contains("Table Grain bob/explain_t", text);
    }

    [Fact]
    public async Task Explain_analyze_reports_actual_rows_and_time()
    {
        await SetUpAsync();
        var (_, lines) = await ExplainAsync("EXPLAIN ANALYZE SELECT n FROM explain_t WHERE project_id = 'alice'");
        Assert.Contains("Actual Rows: 3", lines);
        Assert.Contains(lines, l => l.StartsWith("Execution Time: ", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains("(actual rows=3 ", StringComparison.Ordinal));
        // A one-project user's EXPLAIN reaches only that project.
        var (_, own) = await ExplainAsync("EXPLAIN SELECT count(*) FROM explain_t", SqlSurfaceFixture.Bob, SqlSurfaceFixture.BobPassword);
        Assert.DoesNotContain(own, l => l.Contains("alice", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Explain_of_a_write_to_a_missing_table_fails_as_the_write_would()
    {
        // EXPLAIN of writes is planned (ExplainWriteTests); a missing table fails as in PostgreSQL.
        var e = await Assert.ThrowsAsync<PostgresException>(() => fixture.ExecuteAsync("EXPLAIN DELETE FROM explain_no_such_table"));
        Assert.Equal("42P01", e.SqlState);
    }
}

using Npgsql;

namespace TimeFusion.Tests.Sql;

/// <summary>
/// jsonb result columns are described from the statement's types (DuckDB's binder, carried on the plan and marked
/// <c>arrow.json</c> on the result), whichever way the statement runs: streamed from one grain, rows shipped from
/// several projects and merged, partial aggregates merged, or no table at all.
/// </summary>
[Collection(SqlSurfaceCollection.Name)]
public sealed class JsonResultTypeTests(SqlSurfaceFixture fixture)
{
    private async Task<(string[] Types, List<string> Rows)> RunAsync(string sql)
    {
        await using var connection = await fixture.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await using var reader = await command.ExecuteReaderAsync();
        var types = Enumerable.Range(0, reader.FieldCount).Select(reader.GetDataTypeName).ToArray();
        var rows = new List<string>();
        while (await reader.ReadAsync())
            rows.Add(string.Join("|", Enumerable.Range(0, reader.FieldCount).Select(i => reader.IsDBNull(i) ? "NULL" : reader.GetValue(i).ToString())));
        return (types, rows);
    }

    [Fact]
    public async Task Json_columns_are_jsonb_on_every_plan_kind_and_text_stays_text()
    {
        await fixture.ExecuteAsync("CREATE TABLE json_kinds (project_id text NOT NULL, timestamp timestamptz NOT NULL, doc jsonb, note text)");
        await fixture.ExecuteAsync("""INSERT INTO json_kinds VALUES ('default', '2024-01-01 10:00:00+00', '{"a":{"b":1}}', 'x'), ('alice', '2024-01-01 11:00:00+00', '{"a":{"b":2}}', 'y')""");

        // One grain, streamed.
        var one = await RunAsync("SELECT doc AS d, doc->'a' AS a, doc->>'a' AS t, note AS doc FROM json_kinds WHERE project_id = 'default'");
        Assert.Equal(["jsonb", "jsonb", "text", "text"], one.Types);
        Assert.Equal(["""{"a":{"b":1}}|{"b":1}|{"b":1}|x"""], one.Rows);
        // Both projects: rows shipped and merged at the gateway.
        var shipped = await RunAsync("SELECT doc->'a' AS a, note FROM json_kinds ORDER BY timestamp");
        Assert.Equal(["jsonb", "text"], shipped.Types);
        Assert.Equal(["""{"b":1}|x""", """{"b":2}|y"""], shipped.Rows);
        // Partial aggregates merged: a JSON group key stays jsonb.
        var grouped = await RunAsync("SELECT doc->'a' AS a, count(*) FROM json_kinds GROUP BY 1 ORDER BY 2, 1::text");
        Assert.Equal(["jsonb", "bigint"], grouped.Types);
        Assert.Equal(2, grouped.Rows.Count);
        // No table.
        Assert.Equal(["jsonb", "text"], (await RunAsync("""SELECT '{"x":1}'::jsonb AS j, '{"x":1}'::jsonb->>'x' AS v""")).Types);
    }
}

using System.Diagnostics;
using System.Text;
using Npgsql;
using TimeFusion.Wire;
using Xunit.Abstractions;
using static TimeFusion.Tests.Abuse.AbuseSiloFixture;

namespace TimeFusion.Tests.Abuse;

/// <summary>
/// Findings 10 and 13 on a real silo: a 100 k-row INSERT … VALUES goes in; a COPY over the batch limit streams in whole (the
/// limit bounds each chunk); deeply nested expressions work or get 54001; nothing internal reaches the client.
/// </summary>
[Collection(AbuseSiloCollection.Name)]
public sealed class LimitsTests(AbuseSiloFixture f, ITestOutputHelper output)
{
    private static readonly string[] Internal = ["memory_limit", "Possible solutions", "tuning", "configured depth", "querygateway", "GrainId", "   at ", "max_expression_depth", "SET "];

    private static void NothingInternal(PostgresException e)
    {
        foreach (var word in Internal) Assert.DoesNotContain(word, e.MessageText + e.Detail + e.Hint, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task A_hundred_thousand_row_insert_values_goes_in()
    {
        const int n = 100_000;
        var sql = new StringBuilder($"INSERT INTO {Table} (timestamp, id, attributes, n) VALUES ");
        for (var i = 0; i < n; i++)
            sql.Append(i == 0 ? "" : ",").Append($"('2026-12-02 10:{i / 60 % 60:00}:{i % 60:00}+00', 'limits-{i:D6}', '{{\"i\": {i}}}', {i})");
        await using var alice = await f.OpenAsync(Alice, AlicePassword);
        await using var insert = new NpgsqlCommand(sql.ToString(), alice) { CommandTimeout = 120 };
        var clock = Stopwatch.StartNew();
        Assert.Equal(n, await insert.ExecuteNonQueryAsync());
        output.WriteLine($"{n} rows, {sql.Length / 1e6:F1} MB of INSERT … VALUES in {clock.ElapsedMilliseconds} ms");
        var landed = await f.CountAsync("limits-");
        output.WriteLine($"{landed} rows counted");
        Assert.Equal(n, landed);
        await using var sum = new NpgsqlCommand($"SELECT sum(n), max(attributes->>'i') FROM {Table} WHERE id LIKE 'limits-%'", alice);
        await using var reader = await sum.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync());
        Assert.Equal((long)n * (n - 1) / 2, Convert.ToInt64(reader.GetValue(0)));
        Assert.Equal("99999", reader.GetString(1)); // text max of the JSON values
    }

    [Fact]
    public async Task A_copy_larger_than_the_batch_limit_streams_in_whole()
    {
        // TimeFusion:Ingest:MaxBatchBytes bounds each chunk, not the COPY: ~14 MB of text against an 8 MiB limit lands whole.
        const int n = 60_000;
        await using var alice = await f.OpenAsync(Alice, AlicePassword);
        await using (var writer = await alice.BeginTextImportAsync($"COPY {Table} (timestamp, id, attributes) FROM STDIN"))
        {
            var filler = new string('x', 200);
            for (var i = 0; i < n; i++)
                await writer.WriteAsync($"2026-12-03 10:00:00+00\tbig-copy-{i}\t{{\"f\": \"{filler}\"}}\n");
        }
        Assert.Equal(n, await f.CountAsync("big-copy-"));
    }

    [Fact]
    public async Task Nested_expressions_and_subqueries_are_answered_or_refused_as_too_complex()
    {
        await using var alice = await f.OpenAsync(Alice, AlicePassword);
        var concat = "SELECT " + string.Join(" || ", Enumerable.Repeat("'a'", 40)) + " AS s";
        await using (var c = new NpgsqlCommand(concat, alice)) Assert.Equal(new string('a', 40), await c.ExecuteScalarAsync());
        var plus = "SELECT " + string.Join(" + ", Enumerable.Range(1, 40)) + " AS s";
        await using (var c = new NpgsqlCommand(plus, alice)) Assert.Equal(820L, Convert.ToInt64(await c.ExecuteScalarAsync()));
        var nested = "SELECT x FROM (" + string.Concat(Enumerable.Repeat("SELECT x FROM (", 24)) + "SELECT 7 AS x" + new string(')', 24) + ")";
        await using (var c = new NpgsqlCommand(nested, alice)) Assert.Equal(7, Convert.ToInt32(await c.ExecuteScalarAsync()));
        var table = $"SELECT count(*) FROM (" + string.Concat(Enumerable.Repeat("SELECT * FROM (", 20)) + $"SELECT * FROM {Table}" + new string(')', 20) + ")";
        await using (var c = new NpgsqlCommand(table, alice)) Assert.True(Convert.ToInt64(await c.ExecuteScalarAsync()) >= 0);

        // Far beyond any real query: a clear refusal, not an internal error.
        var deep = "SELECT " + string.Concat(Enumerable.Repeat("abs(", 3000)) + "1" + new string(')', 3000) + " AS s";
        await using var d = new NpgsqlCommand(deep, alice);
        var e = await Assert.ThrowsAsync<PostgresException>(() => d.ExecuteScalarAsync());
        output.WriteLine($"{e.SqlState}: {e.MessageText}");
        Assert.Equal(SqlState.StatementTooComplex, e.SqlState);
        NothingInternal(e);
    }
}

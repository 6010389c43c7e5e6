using Apache.Arrow;
using DuckDB.NET.Data;
using TimeFusion.Buffer;
using TimeFusion.Query.Execution;

namespace TimeFusion.Tests.Query.Execution;

/// <summary><see cref="MergeExecutor"/>: relations as temporary tables, types, isolation; and the IPC round trip.</summary>
public sealed class MergeExecutorTests : IDisposable
{
    private readonly BufferDatabase _db = BufferDatabase.Open(new BufferOptions { MemoryLimitBytes = 512L << 20, SoftLimitBytes = 64L << 20, HardLimitBytes = 128L << 20, Threads = 2 });
    private readonly DuckDBConnection _source = new("DataSource=:memory:");

    public MergeExecutorTests()
    {
        _source.Open();
        using var cmd = _source.CreateCommand();
        cmd.CommandText = "SET TimeZone = 'UTC'";
        cmd.ExecuteNonQuery();
    }

    public void Dispose()
    {
        _source.Dispose();
        _db.Dispose();
    }

    /// <summary>A relation as a grain would return it: DuckDB's own Arrow result of <paramref name="sql"/>.</summary>
    private QueryBatches Relation(string sql, int targetRows = 65_536) =>
        ExecutionErrors.Run(_source, sql, targetRows, CancellationToken.None);

    private const string ManyTypes = """
        SELECT i, (i % 100)::TINYINT AS t8, i::UBIGINT AS u64, i::HUGEINT * 100000000000000000000 AS huge, (i / 7)::DECIMAL(12, 3) AS dec,
          i / 3.0 AS dbl, i % 2 = 0 AS b, 'row ' || i AS s, ('{"k":' || i || '}')::JSON AS j, uuid() IS NOT NULL AS has_uuid,
          TIMESTAMPTZ '2024-05-17 12:00:00+00' + to_microseconds(i) AS ts, TIMESTAMP '2024-05-17 12:00:00' + to_seconds(i) AS ts_naive,
          DATE '2024-01-01' + i::INTEGER AS d, TIME '10:00:00' AS tm, INTERVAL (i) MINUTE AS iv,
          ['a', NULL, 'c' || i] AS list, {'x': i, 'y': 's' || i} AS st, MAP {'k': i} AS m, [i, i + 1]::BIGINT[2] AS arr,
          CASE WHEN i % 5 = 0 THEN NULL ELSE i END AS maybe, 'x'::ENUM('x', 'y') AS en
        FROM range(5000) r(i)
        """;

    [Fact]
    public async Task Every_result_type_DuckDB_produces_survives_a_merge()
    {
        var merge = new MergeExecutor(_db);
        using var relation = Relation(ManyTypes);
        using (var withoutEnum = Relation(ManyTypes.Replace(", 'x'::ENUM('x', 'y') AS en", "")))
            Assert.True(withoutEnum.Batches.Count == 1, $"{withoutEnum.Batches.Count} batches: DuckDB's chunks should be joined");
        using var merged = await merge.ExecuteAsync("SELECT * FROM __scan_0 ORDER BY i", new Dictionary<string, QueryBatches> { ["__scan_0"] = relation }, CancellationToken.None);
        Assert.Equal(5000, merged.RowCount);
        Assert.Equal(relation.Schema.FieldsList.Select(f => f.Name), merged.Schema.FieldsList.Select(f => f.Name));
        ArrowRows.AssertSameRows(ArrowRows.ToRows(relation), ArrowRows.ToRows(merged), ordered: true, "round trip");
    }

    [Fact]
    public async Task An_empty_relation_keeps_its_schema()
    {
        var merge = new MergeExecutor(_db);
        using var empty = Relation("SELECT 'a' AS __g0, 1::BIGINT AS __a0, 2.5 AS __a1 WHERE false");
        Assert.Equal(0, empty.RowCount);
        using var merged = await merge.ExecuteAsync("SELECT __g0, sum(__a0) AS s, count(*) AS n FROM __partials GROUP BY __g0",
            new Dictionary<string, QueryBatches> { ["__partials"] = empty }, CancellationToken.None);
        Assert.Equal(0, merged.RowCount);
        Assert.Equal(["__g0", "s", "n"], merged.Schema.FieldsList.Select(f => f.Name));
        using var total = await merge.ExecuteAsync("SELECT count(*) AS n, max(__a1) AS m FROM __partials",
            new Dictionary<string, QueryBatches> { ["__partials"] = empty }, CancellationToken.None);
        Assert.Equal(["0|NULL"], ArrowRows.ToRows(total).Select(r => string.Join("|", r.Select(ArrowRows.Show))));
    }

    [Fact]
    public async Task Concurrent_merges_never_see_each_others_tables_and_leave_none_behind()
    {
        var merge = new MergeExecutor(_db);
        var tasks = Enumerable.Range(1, 12).Select(async k =>
        {
            using var rel = Relation($"SELECT range AS v FROM range({k * 1000})", targetRows: 4096);
            using var result = await merge.ExecuteAsync("SELECT count(*) AS n, sum(v) AS s FROM __partials",
                new Dictionary<string, QueryBatches> { ["__partials"] = rel }, CancellationToken.None);
            var row = ArrowRows.ToRows(result)[0];
            return (k, row[0], row[1]);
        }).ToList();
        foreach (var (k, n, s) in await Task.WhenAll(tasks))
        {
            long count = k * 1000;
            Assert.Equal(count.ToString(), ArrowRows.Show(n));
            Assert.Equal((count * (count - 1) / 2).ToString(), ArrowRows.Show(s));
        }
        // The pooled connections hold no temporary table now.
        var e = await Assert.ThrowsAsync<QueryExecutionException>(() => merge.ExecuteAsync("SELECT count(*) FROM __partials",
            new Dictionary<string, QueryBatches>(), CancellationToken.None));
        Assert.Equal("42P01", e.SqlState);
    }

    [Fact]
    public async Task A_failing_merge_reports_DuckDBs_error_and_the_next_merge_works()
    {
        var merge = new MergeExecutor(_db);
        using var rel = Relation("SELECT 1 AS a");
        var e = await Assert.ThrowsAsync<QueryExecutionException>(() => merge.ExecuteAsync("SELECT b FROM __scan_0",
            new Dictionary<string, QueryBatches> { ["__scan_0"] = rel }, CancellationToken.None));
        Assert.Equal("42703", e.SqlState);
        using var ok = await merge.ExecuteAsync("SELECT a FROM __scan_0", new Dictionary<string, QueryBatches> { ["__scan_0"] = rel }, CancellationToken.None);
        Assert.Equal(1, ok.RowCount);
    }

    [Fact]
    public async Task Results_cross_silos_as_Arrow_IPC_unchanged()
    {
        using var relation = Relation(ManyTypes.Replace(", 'x'::ENUM('x', 'y') AS en", ""));
        var bytes = await QueryBatchesIpc.ToBytesAsync(relation);
        using var back = await QueryBatchesIpc.FromBytesAsync(bytes);
        Assert.Equal(relation.RowCount, back.RowCount);
        Assert.Equal(relation.Schema.FieldsList.Select(f => f.Name + ":" + f.DataType), back.Schema.FieldsList.Select(f => f.Name + ":" + f.DataType));
        ArrowRows.AssertSameRows(ArrowRows.ToRows(relation), ArrowRows.ToRows(back), ordered: true, "IPC");

        using var empty = Relation("SELECT 1 AS a, 'x' AS b WHERE false");
        using var emptyBack = await QueryBatchesIpc.FromBytesAsync(await QueryBatchesIpc.ToBytesAsync(empty));
        Assert.Equal(0, emptyBack.RowCount);
        Assert.Equal(["a", "b"], emptyBack.Schema.FieldsList.Select(f => f.Name));
        await Assert.ThrowsAsync<InvalidDataException>(() => QueryBatchesIpc.FromBytesAsync(new byte[] { 1, 2, 3, 4, 5, 6, 7, 8, 9 }));
    }
}

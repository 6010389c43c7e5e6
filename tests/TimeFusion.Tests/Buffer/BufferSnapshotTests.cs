using TimeFusion.Buffer;
using TimeFusion.Tables;

namespace TimeFusion.Tests.Buffer;

public class BufferSnapshotTests
{
    private static readonly TableId Id = new("p1", "small");

    private static List<object?[]> ReadAll(BufferSnapshot snapshot)
    {
        using var result = snapshot.QueryArrow($"SELECT * FROM {snapshot.Relation} ORDER BY n");
        return ArrowTestData.Rows(result.ReadAll());
    }

    [Fact]
    public async Task A_snapshot_stays_unchanged_while_rows_arrive_are_deleted_and_updated()
    {
        await using var db = BufferTestDatabase.Open();
        await using var table = await BufferTable.CreateAsync(db, Id, BufferTestDatabase.SmallSchema, default);
        await table.AppendAsync(BufferTestDatabase.SmallBatch(1000, "a", first: 0), 1, default);
        await table.AppendAsync(BufferTestDatabase.SmallBatch(1000, "b", first: 1000), 2, default);
        await table.AppendAsync(BufferTestDatabase.SmallBatch(1000, "c", first: 2000), 3, default);

        using var snapshot = table.OpenSnapshot(aboveLsn: 1);
        var before = ReadAll(snapshot);
        Assert.Equal(2000, before.Count);

        await table.AppendAsync(BufferTestDatabase.SmallBatch(500, "d", first: 3000), 4, default);
        Assert.Equal(1000, await table.DeleteUpToAsync(1, default));
        Assert.Equal(1000, await table.DeleteUpToAsync(2, default));
        Assert.Equal(1500, await table.ApplyUpdateAsync("n >= 2000", [new("level", "'CHANGED'")], default));
        Assert.Equal(100, await table.ApplyDeleteAsync("n % 15 = 0", default));
        // (DuckDB may defer the compression while an UPDATE's old versions are visible to the open snapshot.)
        await db.CheckpointAsync();

        var after = ReadAll(snapshot);
        ArrowTestData.AssertRowsEqual(before, after, BufferTestDatabase.SmallSchema.Columns.Select(c => c.Name).ToList());

        using var fresh = table.OpenSnapshot(aboveLsn: 1);
        Assert.Equal(1400, fresh.CountRows());
        Assert.Equal(1400L, fresh.QueryScalar($"SELECT count(*) FROM {fresh.Relation} WHERE level = 'CHANGED'"));
        Assert.Equal(1400, table.RowCount);
    }

    [Fact]
    public async Task A_snapshot_is_pinned_when_opened_not_at_its_first_query()
    {
        await using var db = BufferTestDatabase.Open();
        await using var table = await BufferTable.CreateAsync(db, Id, BufferTestDatabase.SmallSchema, default);
        await table.AppendAsync(BufferTestDatabase.SmallBatch(10, "a"), 1, default);
        using var snapshot = table.OpenSnapshot(aboveLsn: -1);
        await table.AppendAsync(BufferTestDatabase.SmallBatch(10, "b", first: 10), 2, default);
        await table.DeleteUpToAsync(1, default);
        Assert.Equal(10, snapshot.CountRows());
        Assert.Equal(0L, snapshot.QueryScalar($"SELECT count(*) FROM {snapshot.Relation} WHERE id LIKE 'b-%'"));
    }

    [Fact]
    public async Task Snapshots_filter_by_lsn_and_run_arbitrary_sql()
    {
        await using var db = BufferTestDatabase.Open();
        await using var table = await BufferTable.CreateAsync(db, Id, BufferTestDatabase.SmallSchema, default);
        for (var lsn = 1; lsn <= 5; lsn++)
            await table.AppendAsync(BufferTestDatabase.SmallBatch(100, $"l{lsn}", first: lsn * 100), lsn, default);
        using var snapshot = table.OpenSnapshot(aboveLsn: 3);
        using var result = snapshot.QueryArrow(
            $"WITH buf AS {snapshot.Relation} SELECT level, count(*) AS c, min(n) AS lo, max(n) AS hi FROM buf GROUP BY level ORDER BY level");
        var rows = ArrowTestData.Rows(result.ReadAll());
        Assert.Equal(2, rows.Count);
        Assert.Equal(new object?[] { "ERROR", 20L, 400L, 590L }, rows[0]);
        Assert.Equal(new object?[] { "INFO", 180L, 401L, 599L }, rows[1]);
        // A result with no rows still has its schema.
        using var empty = snapshot.QueryArrow($"SELECT id, n FROM {snapshot.Relation} WHERE false");
        Assert.Equal(["id", "n"], empty.Schema.FieldsList.Select(f => f.Name));
        Assert.Null(empty.ReadNext());
        Assert.Throws<BufferException>(() => snapshot.QueryArrow("SELECT * FROM no_such_table"));
        // The snapshot still works after a failed statement.
        Assert.Equal(200, snapshot.CountRows());
    }
}

using TimeFusion.Buffer;
using TimeFusion.Tables;

namespace TimeFusion.Tests.Buffer;

public class BufferDmlTests
{
    private static readonly TableId Id = new("p1", "small");

    [Fact]
    public async Task Update_and_delete_apply_and_return_rows_affected()
    {
        await using var db = BufferTestDatabase.Open();
        await using var table = await BufferTable.CreateAsync(db, Id, BufferTestDatabase.SmallSchema, default);
        await table.AppendAsync(BufferTestDatabase.SmallBatch(100), 1, default);

        Assert.Equal(50, await table.ApplyUpdateAsync("n % 2 = 0", [new("level", "'WARN'"), new("n", "n * 10")], default));
        // A list column: append to the list of one row, replace it in another.
        Assert.Equal(1, await table.ApplyUpdateAsync("id = 'r-1'", [new("tags", "list_append(tags, 'added')")], default));
        Assert.Equal(1, await table.ApplyUpdateAsync("id = 'r-3'", [new("tags", "['a', NULL, 'c']")], default));
        // n is now odd originals 1..99 and even originals times ten (0, 20, …, 980).
        Assert.Equal(3, await table.ApplyDeleteAsync("n IN (5, 7, 20)", default));
        Assert.Equal(97, table.RowCount);

        using var snapshot = table.OpenSnapshot(0);
        Assert.Equal(49L, snapshot.QueryScalar($"SELECT count(*) FROM {snapshot.Relation} WHERE level = 'WARN'"));
        Assert.Equal(980L, snapshot.QueryScalar($"SELECT max(n) FROM {snapshot.Relation} WHERE level = 'WARN'"));
        Assert.Equal(0L, snapshot.QueryScalar($"SELECT count(*) FROM {snapshot.Relation} WHERE level = 'WARN' AND n % 20 <> 0"));
        using var result = snapshot.QueryArrow($"SELECT id, tags FROM {snapshot.Relation} WHERE id IN ('r-1', 'r-3') ORDER BY id");
        var rows = ArrowTestData.Rows(result.ReadAll());
        Assert.Equal(new string?[] { "t1", "added" }, (string?[])rows[0][1]!);
        Assert.Equal(new string?[] { "a", null, "c" }, (string?[])rows[1][1]!);
        Assert.Equal(97, snapshot.CountRows());
    }

    [Fact]
    public async Task Bad_dml_changes_nothing()
    {
        await using var db = BufferTestDatabase.Open();
        await using var table = await BufferTable.CreateAsync(db, Id, BufferTestDatabase.SmallSchema, default);
        await table.AppendAsync(BufferTestDatabase.SmallBatch(100), 1, default);

        // A second statement cannot be smuggled in through a fragment.
        await Assert.ThrowsAsync<ArgumentException>(() => table.ApplyDeleteAsync("true); DROP TABLE x; SELECT (1", default));
        await Assert.ThrowsAsync<ArgumentException>(() => table.ApplyDeleteAsync("n = 1; DELETE FROM t", default));
        await Assert.ThrowsAsync<ArgumentException>(() => table.ApplyUpdateAsync("true", [new("level", "'x'); DROP TABLE y; SELECT ('")], default));
        await Assert.ThrowsAsync<ArgumentException>(() => table.ApplyUpdateAsync("true", [new("no_such_column", "1")], default));
        await Assert.ThrowsAsync<ArgumentException>(() => table.ApplyUpdateAsync("true", [new("_lsn", "0")], default));
        await Assert.ThrowsAsync<ArgumentException>(() => table.ApplyUpdateAsync("true", [], default));
        // Fails inside DuckDB half way through the rows: a cast error on some rows only; nothing is changed.
        await Assert.ThrowsAsync<BufferException>(() => table.ApplyUpdateAsync("true", [new("n", "CASE WHEN n > 50 THEN 'nope'::BIGINT ELSE n + 1 END")], default));
        // A NOT NULL violation.
        await Assert.ThrowsAsync<BufferException>(() => table.ApplyUpdateAsync("n > 10", [new("id", "NULL")], default));

        using var snapshot = table.OpenSnapshot(0);
        Assert.Equal(100, snapshot.CountRows());
        Assert.Equal(4950L, Convert.ToInt64(snapshot.QueryScalar($"SELECT sum(n)::BIGINT FROM {snapshot.Relation}")));
        Assert.Equal(100L, snapshot.QueryScalar($"SELECT count(*) FROM {snapshot.Relation} WHERE id IS NOT NULL"));
    }

    [Fact]
    public async Task Dml_and_flush_deletes_are_serialized_without_conflicts()
    {
        await using var db = BufferTestDatabase.Open();
        await using var table = await BufferTable.CreateAsync(db, Id, BufferTestDatabase.SmallSchema, default);
        for (var lsn = 1; lsn <= 20; lsn++)
            await table.AppendAsync(BufferTestDatabase.SmallBatch(500, $"l{lsn}", first: lsn * 1000), lsn, default);
        // Overlapping deletes of the same rows would conflict in DuckDB if they ran concurrently.
        var work = new List<Task<long>>();
        for (var lsn = 1; lsn <= 20; lsn++)
        {
            work.Add(table.DeleteUpToAsync(lsn, default));
            work.Add(table.ApplyDeleteAsync("n % 7 = 0", default));
            work.Add(table.ApplyUpdateAsync("n % 5 = 0", [new("level", "'U'")], default));
        }
        await Task.WhenAll(work);
        Assert.Equal(0, table.RowCount);
        Assert.Equal(0, await BufferTestDatabase.CountAsync(table));
        Assert.Equal(20 * 500, work.Where((_, i) => i % 3 != 2).Sum(t => t.Result));
    }
}

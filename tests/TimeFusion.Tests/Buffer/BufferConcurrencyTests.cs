using TimeFusion.Buffer;
using TimeFusion.Tables;

namespace TimeFusion.Tests.Buffer;

public class BufferConcurrencyTests
{
    [Fact]
    public async Task More_than_100_tables_append_concurrently_with_exact_counts()
    {
        await using var db = BufferTestDatabase.Open();
        const int tableCount = 120, writers = 6, batchesPerTable = 8;
        var tables = await Task.WhenAll(Enumerable.Range(0, tableCount).Select(i =>
            BufferTable.CreateAsync(db, new TableId($"project-{i % 7}", $"t{i}"), BufferTestDatabase.SmallSchema, default)));
        var expected = new long[tableCount];
        // Each writer owns every writers-th table; all writers run at once, batches of varied sizes.
        await Task.WhenAll(Enumerable.Range(0, writers).Select(w => Task.Run(async () =>
        {
            var random = new Random(w);
            for (var b = 0; b < batchesPerTable; b++)
            {
                for (var t = w; t < tableCount; t += writers)
                {
                    var rows = random.Next(1, 400);
                    using var batch = BufferTestDatabase.SmallBatch(rows, $"w{w}b{b}");
                    await tables[t].AppendAsync(batch, b + 1, default);
                    expected[t] += rows;
                }
            }
        })));
        for (var t = 0; t < tableCount; t++)
        {
            Assert.Equal(expected[t], tables[t].RowCount);
            Assert.Equal(expected[t], await BufferTestDatabase.CountAsync(tables[t]));
            Assert.Equal(batchesPerTable, tables[t].MaxLsn);
        }
        // Every table's rows are visible from any connection: count them all in one statement.
        using (var snapshot = tables[0].OpenSnapshot(-1))
        {
            // Each relation is readable while its snapshot is open (the tail's scan is registered for that long).
            var snapshots = tables.Select(t => t.OpenSnapshot(-1)).ToList();
            var relations = snapshots.Select(s => $"SELECT count(*) AS c FROM {s.Relation}").ToList();
            Assert.Equal(expected.Sum(), Convert.ToInt64(snapshot.QueryScalar($"SELECT sum(c)::BIGINT FROM ({string.Join(" UNION ALL ", relations)})")));
            snapshots.ForEach(s => s.Dispose());
        }
        foreach (var t in tables)
            await t.DisposeAsync();
        Assert.Equal(0, db.Budget.ReservedBytes);
    }

    [Fact]
    public async Task Writers_wait_for_memory_then_proceed_when_a_flush_releases_it()
    {
        // Batches large enough that DuckDB's 256 KiB block granularity does not dominate what it reports.
        const int rows = 20_000;
        using var batch = BufferTestDatabase.SmallBatch(rows);
        var estimate = (long)Math.Ceiling((ArrowSizeEstimator.DataBytes(batch) + 8 * rows) * new BufferOptions().EstimateFactor);
        // A hard limit that holds three and a half batches.
        await using var db = BufferTestDatabase.Open(o =>
        {
            o.HardLimitBytes = estimate * 7 / 2;
            o.SoftLimitBytes = estimate * 2;
            o.ReserveMaxWait = TimeSpan.FromSeconds(30);
        });
        await using var table = await BufferTable.CreateAsync(db, new TableId("p", "t"), BufferTestDatabase.SmallSchema, default);
        Assert.Equal(estimate, table.EstimateBytes(batch));
        await table.AppendAsync(batch, 1, default);
        await table.AppendAsync(batch, 2, default);
        await table.AppendAsync(batch, 3, default);
        Assert.True(db.Budget.IsOverSoftLimit);
        var blocked = table.AppendAsync(batch, 4, default);
        Assert.False(blocked.IsCompleted);
        Assert.Equal(1, db.Budget.WaitingCount);
        // Flush: delete what is durable; the CHECKPOINT that follows gives the memory back and wakes the writer.
        Assert.Equal(2 * rows, await table.DeleteUpToAsync(2, default));
        await blocked.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(2 * rows, table.RowCount);
        Assert.True(db.Budget.PeakUsedBytes <= estimate * 7 / 2);

        // With nothing to release, a writer gets the retryable error after its wait.
        await table.AppendAsync(batch, 5, default);
        await using var db2 = BufferTestDatabase.Open(o =>
        {
            o.HardLimitBytes = 2 * estimate;
            o.SoftLimitBytes = estimate;
            o.ReserveMaxWait = TimeSpan.FromMilliseconds(200);
        });
        await using var table2 = await BufferTable.CreateAsync(db2, new TableId("p", "t"), BufferTestDatabase.SmallSchema, default);
        await table2.AppendAsync(batch, 1, default);
        await table2.AppendAsync(batch, 2, default);
        var e = await Assert.ThrowsAsync<MemoryPressureException>(() => table2.AppendAsync(batch, 3, default));
        Assert.True(e.IsRetryable);
        Assert.Equal(2 * rows, table2.RowCount);
        Assert.Equal(2, table2.MaxLsn);
    }
}
